"""A project's current cuboids as its command log tells them: what every reader that judges or
writes them out (export, ``eval``, ``check``, ``render``) sees, so that an old project's labels read
the same as a fresh one's made by the same edits.

The log tells two things the stored values cannot: which imported cuboid's occlusion an annotator
set (:mod:`~fusionlabel.store.occlusion_history`), and which cuboids C, V or I carried from
another frame (:mod:`.carried_boxes`), which hold no detection score today and, in projects edited
before, the stale score of the box they came from.
"""

from __future__ import annotations

from typing import Callable

from ..model.annotation import CuboidLabel
from .carried_boxes import as_carried, carried_uids


def logged_labels(doc) -> Callable[[int], list[CuboidLabel]]:
    """``labels_for(frame)``: the current cuboids of frame ``frame`` of the document ``doc``, in
    its order, as its command log tells them (the log is read once, here): an imported label's
    occlusion as its source gives it unless a command set it
    (:func:`~fusionlabel.store.occlusion_history.occlusion_as_logged`), and a box C, V or I made
    as :func:`~.carried_boxes.as_carried` gives it (no detection score, nothing a nuScenes import
    said of its source frame)."""
    from ..store.occlusion_history import occlusion_as_logged, occlusion_set_uids

    chosen, carried = occlusion_set_uids(doc), carried_uids(doc)

    def labels_for(i: int) -> list[CuboidLabel]:
        labels = [(a.uid, occlusion_as_logged(a.label, a.uid in chosen)) for a in doc.annotations(i)]
        return [as_carried(lab) if uid in carried else lab for uid, lab in labels]
    return labels_for
