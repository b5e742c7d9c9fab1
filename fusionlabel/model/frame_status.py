"""How edits move a frame's status (``new``, ``in_progress``, ``done``, ``reviewed``).

One rule, in two parts, both done in the same undo step as the edit that causes them:

- an edit of a ``done`` or ``reviewed`` frame sends it back to ``in_progress``, whoever or whatever
  made the edit (the annotator, a pre-label run, an import): a finished frame is one nobody changed
  since it was marked so. :meth:`~fusionlabel.model.document.Document.apply` does this for every
  command (:func:`reopen_frames`);
- the annotator's first edit of a ``new`` frame marks it ``in_progress`` (:func:`start_frames`; the
  app asks for it for the frame on screen, model output starts no frame).

An edit is any change to a frame's cuboids or to its absent marks; a command that sets a frame's
status itself keeps the status it sets.
"""

from __future__ import annotations

from typing import Callable, Iterable

from .commands import Batch, Command, SetFrameStatus
from .document import FINISHED_STATUSES as FINISHED


def start_frames(doc, frames: Iterable[int]) -> Command | None:
    """Mark the ``frames`` that are still ``new`` in progress (frames in progress, done or reviewed
    keep their status here): what the app adds to an annotator's edit of those frames, in the same
    undo step (``Document.apply(cmd, follow_up=...)``). None when every frame has begun."""
    return _in_progress(doc, frames, ("new",), "Mark frames in progress")


def reopen_frames(state, frames: Iterable[int]) -> Command | None:
    """Send the ``frames`` (just edited) that are ``done`` or ``reviewed`` back to ``in_progress``;
    ``state`` answers ``frame_status(frame)`` (a Document or its DocState). None when none is."""
    return _in_progress(state, frames, FINISHED, "Mark frames in progress again")


def _in_progress(state, frames: Iterable[int], statuses: tuple[str, ...], description: str) -> Command | None:
    cmds = [SetFrameStatus(f, "in_progress") for f in sorted(set(frames)) if state.frame_status(f) in statuses]
    return Batch(tuple(cmds), description) if cmds else None


def reopened_text(reopened: dict[int, str], frame_name: Callable[[int], str] = str) -> str:
    """What an edit that reopened frames says (``reopened``: frame -> the status it had):
    ``frame 000003 was reviewed; back to in progress``, or for several
    ``3 frames were done or reviewed (000003, 000004, 000009); back to in progress``."""
    if len(reopened) == 1:
        (frame, status), = reopened.items()
        return f"frame {frame_name(frame)} was {status}; back to in progress"
    frames = sorted(reopened)
    statuses = " or ".join(s for s in FINISHED if s in reopened.values())
    names = ", ".join(frame_name(f) for f in frames[:5]) + (f" and {len(frames) - 5} more" if len(frames) > 5 else "")
    return f"{len(frames)} frames were {statuses} ({names}); back to in progress"


def finished_frames(doc) -> dict[int, str]:
    """frame -> status of every ``done`` or ``reviewed`` frame of ``doc`` now."""
    return {f: s for f, s in enumerate(doc.frame_statuses()) if s in FINISHED}


def reopened_note(doc, finished: dict[int, str], frame_name: Callable[[int], str] = str) -> str | None:
    """What a run of edits (a pre-label run, a label import) says about the frames of ``finished``
    (:func:`finished_frames` before it) that it took back (:func:`reopened_text`); None for none."""
    reopened = {f: s for f, s in finished.items() if doc.frame_status(f) not in FINISHED}
    return reopened_text(reopened, frame_name) if reopened else None


def status_steps_text(before: list[str], after: list[str], frame_name: Callable[[int], str] = str) -> str | None:
    """What an undo or redo did to frame statuses (``before`` and ``after``: every frame's status),
    e.g. ``frame 000003 is reviewed again`` or ``frames 000003, 000004 are in progress again``;
    only changes into or out of ``done`` and ``reviewed`` count (a frame's first edit starting it
    is not news); None when there is none. Names up to five frames."""
    changed = [f for f, (b, a) in enumerate(zip(before, after)) if b != a and (b in FINISHED or a in FINISHED)]
    if not changed:
        return None
    parts = []
    for status in sorted({after[f] for f in changed}):
        frames = [f for f in changed if after[f] == status]
        names = ", ".join(frame_name(f) for f in frames[:5]) + (f" and {len(frames) - 5} more" if len(frames) > 5 else "")
        plural = len(frames) > 1
        parts.append(f"frame{'s' if plural else ''} {names} {'are' if plural else 'is'} "
                     f"{status.replace('_', ' ')} again")
    return "; ".join(parts)
