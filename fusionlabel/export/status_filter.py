"""``export --status``: export only the frames of a project whose status is one of those given
(``--status reviewed``, ``--status done,reviewed``), within the ``--frames`` selection when there is one.

The statuses are the project's frame statuses (``new``, ``in_progress``, ``done``, ``reviewed``;
docs/app.md): an edit sends a done or reviewed frame back to in progress, so a frame exported with
``--status reviewed`` holds what was reviewed. A drive has no statuses, so ``--status`` needs a project.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from ..model.status_option import counts_text, parse_statuses as parse_option, status_words
from .base import ExportError, ExportOptions

__all__ = ["counts_text", "parse_statuses", "select_by_status", "status_words"]


def parse_statuses(spec: str) -> set[str]:
    """``"done,reviewed"`` -> {"done", "reviewed"} (:func:`fusionlabel.model.status_option.parse_statuses`);
    an unknown or empty name is an ExportError at ``--status``."""
    return parse_option(spec, ExportError)


def select_by_status(options: ExportOptions, n_frames: int) -> tuple[ExportOptions, Counter]:
    """``options`` with ``frames`` narrowed to those (of ``options.frames``, default all, in that
    order) whose status (``options.frame_statuses``) is in ``options.status``, and the count of the
    frames left out by status. Unchanged options without ``status``. ExportError at ``--status``
    for a source without statuses (a drive) and when no frame is left."""
    if not options.status:
        return options, Counter()
    statuses = options.frame_statuses
    if statuses is None:
        raise ExportError(None, "a drive's frames have no status; --status needs a project (fusionlabel project "
                                "create, or the app, whose frame statuses it reads)", where="--status")
    frames = list(range(n_frames)) if options.frames is None else list(options.frames)
    kept = [i for i in frames if statuses[i] in options.status]
    left_out = Counter(statuses[i] for i in frames if statuses[i] not in options.status)
    if not kept:
        scope = "of the project" if options.frames is None else f"of the {len(frames)} given by --frames"
        raise ExportError(None, f"no frame {scope} is {status_words(options.status)} "
                                f"({counts_text(left_out)}); nothing was exported", where="--status")
    return replace(options, frames=kept), left_out
