"""A detector's score describes one detection in its own frame: a box carried to another frame
(copied with C, propagated with V, interpolated with I) carries none, neither as ``score`` nor as
the ``prelabel_score`` an accepted pre-label keeps (:class:`~.commands.AcceptPrelabel`)."""

from __future__ import annotations

from .annotation import CuboidLabel

PRELABEL_SCORE = "prelabel_score"   # the score of an accepted pre-label (AcceptPrelabel)


def without_score(attributes: dict) -> dict:
    """``attributes`` without the kept detection score (``prelabel_score``)."""
    return {k: v for k, v in attributes.items() if k != PRELABEL_SCORE}


def unscored(label: CuboidLabel) -> CuboidLabel:
    """``label`` without a detection score (``score``, ``prelabel_score``), as C, V and I make
    boxes; the very label when it has none."""
    if label.score is None and PRELABEL_SCORE not in label.attributes:
        return label
    return label.with_(score=None, attributes=without_score(label.attributes))
