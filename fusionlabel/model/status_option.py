"""``--status``: frame statuses named on the command line (``export``, ``eval``), parsed and worded.

The statuses are a project's frame statuses (``new``, ``in_progress``, ``done``, ``reviewed``;
:data:`~fusionlabel.model.document.FRAME_STATUSES`), read as ``project status`` reads them
(``Document.frame_statuses``).
"""

from __future__ import annotations

from collections import Counter

from ..errors import InputError
from .document import FRAME_STATUSES


def parse_statuses(spec: str, error: type[InputError] = InputError) -> set[str]:
    """``"done,reviewed"`` -> {"done", "reviewed"}; ``in-progress`` and ``in progress`` name
    ``in_progress``. An unknown or empty name is an ``error`` at ``--status`` naming it and the value."""
    names = [n.strip().lower().replace("-", "_").replace(" ", "_") for n in spec.split(",")]
    bad = [n for n in names if n not in FRAME_STATUSES]
    if bad or not names:
        raise error(None, f"unknown frame status {bad[0]!r} in {spec!r}; expected one or more of "
                          f"{', '.join(FRAME_STATUSES)}, comma-separated", where="--status")
    return set(names)


def status_words(statuses) -> str:
    """``done or reviewed`` for a set of statuses, in the order of :data:`FRAME_STATUSES`."""
    return " or ".join(s.replace("_", " ") for s in FRAME_STATUSES if s in statuses)


def counts_text(counts: Counter) -> str:
    """``8 new, 4 in progress`` (statuses in their order)."""
    return ", ".join(f"{counts[s]} {s.replace('_', ' ')}" for s in FRAME_STATUSES if counts[s])
