"""``eval --frames`` and ``eval --status``: which of the frames with ground truth are scored.

``--frames`` takes the syntax of every command's ``--frames`` (:mod:`fusionlabel.model.frame_spec`),
on the ground truth's drive. ``--status`` keeps the frames whose status (as ``project status``
reads it) is one of those given in every project among ``--gt`` and ``--pred``; a frame a
``--pred`` project lacks has no status there. The frames left are scored exactly as a drive or
project holding only them would be.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..errors import InputError
from ..model.document import FRAME_STATUSES
from ..model.drive import Drive
from ..model.frame_spec import parse_frames
from ..model.status_option import counts_text, status_words
from ..wording import counted, listing


@dataclass(frozen=True)
class FrameFilter:
    """``frames``: a ``--frames`` spec; ``statuses``: the ``--status`` names (parsed); None: no filter."""

    frames: str | None = None
    statuses: frozenset[str] | None = None

    def __bool__(self) -> bool:
        return self.frames is not None or self.statuses is not None


def select_frames(frames: list[int], drive: Drive, flt: FrameFilter,
                  sides: dict[str, dict[int, str]]) -> tuple[list[int], dict]:
    """``frames`` (indices of ``drive`` with ground truth, in order) narrowed by ``flt``, and the
    filters as the report records them (``filters`` in ``eval --json``). ``sides``: by option
    (``--gt``, ``--pred``) the statuses of that project's frames by index of ``drive``.

    InputError naming the option and its value for a frame the drive lacks (``--frames``),
    ``--status`` without a project, and a selection that leaves no frame with ground truth."""
    record: dict = {"frames": flt.frames, "status": None, "frames_with_ground_truth": len(frames)}
    kept = list(frames)
    if flt.frames is not None:
        chosen = parse_frames(flt.frames, drive)
        labelled, wanted = set(frames), set(chosen)
        kept = [i for i in frames if i in wanted]
        record["frames_selected"] = len(chosen)
        record["selected_without_ground_truth"] = [drive.frames[i].frame_id for i in sorted(chosen)
                                                   if i not in labelled]
        if not kept:
            raise InputError(None, f"{flt.frames!r} selects {counted(len(chosen), 'frame')}, none with ground truth "
                                   f"({listing(record['selected_without_ground_truth'])}); the frames with ground "
                                   f"truth are {listing([drive.frames[i].frame_id for i in frames])}",
                             where="--frames")
    if flt.statuses is not None:
        if not sides:
            raise InputError(None, f"{status_words(flt.statuses)} is a project's frame status; neither --gt nor "
                                   "--pred is a project (fusionlabel project create makes one)", where="--status")
        left_out = {side: Counter(by_index.get(i, "absent") for i in kept
                                  if by_index.get(i) not in flt.statuses) for side, by_index in sides.items()}
        within = kept
        kept = [i for i in kept if all(by_index.get(i) in flt.statuses for by_index in sides.values())]
        record["status"] = [s for s in FRAME_STATUSES if s in flt.statuses]
        record["status_of"] = list(sides)
        record["left_out_by_status"] = {side: dict(c) for side, c in left_out.items()}
        if not kept:
            scope = "with ground truth" if flt.frames is None else "with ground truth that --frames selects"
            found = "; ".join(f"in {side}: {_counts(c)}" for side, c in left_out.items() if c)
            raise InputError(None, f"no frame {scope} ({len(within)}) is {status_words(flt.statuses)} in "
                                   f"{' and '.join(sides)} ({found}); nothing to score", where="--status")
    record["frames_scored"] = len(kept)
    return kept, record


def _counts(c: Counter) -> str:
    text = counts_text(c)
    if c["absent"]:
        text += f"{', ' if text else ''}{c['absent']} not in the project"
    return text


def filter_line(record: dict) -> str:
    """The report's line on the filters: ``scored only --frames 0-9 and --status done (of --gt):
    4 of 12 frames with ground truth``."""
    parts = []
    if record.get("frames") is not None:
        parts.append(f"--frames {record['frames']}")
    if record.get("status"):
        parts.append(f"--status {','.join(record['status'])} (of {' and '.join(record['status_of'])})")
    return (f"scored only {' and '.join(parts)}: {record['frames_scored']} of "
            f"{counted(record['frames_with_ground_truth'], 'frame')} with ground truth")
