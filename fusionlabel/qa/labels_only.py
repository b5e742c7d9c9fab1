"""The label check of a labels-only KITTI tracking sequence (:mod:`fusionlabel.io.kitti_tracking_labels`):
what it cannot check without sweeps or images, said once, and the label lines it could not read, as
``label-file`` errors naming the file and the line.
"""

from __future__ import annotations

import re

from ..errors import LabelError
from ..wording import listing
from .findings import ERROR, Finding
from .label_check import LabelCheck

LINE_REMEDY = ("fix the line (frame track_id type truncated occluded alpha x1 y1 x2 y2 h w l x y z rotation_y); "
               "until then its box is left out of every check")


def skipped_note(drive) -> str:
    """The one line naming the checks left out for want of ``drive``'s sweeps and images."""
    seq = drive.sequence
    return (f"not checked, no sweeps or images (velodyne/{seq}/, image_02/{seq}/): the drive checks (cameras and "
            "ego poses against the sweeps, capture times, sweep and image files), boxes the LiDAR sees through "
            "(label-empty), floating or sunk (label-ground), and tracks that end, or pause over 1 s, while their "
            "object is still in the sweeps (track-end, track-gap)")


def unread_line_findings(errors: list[LabelError], root) -> list[Finding]:
    """One error finding per file and way of failing: the lines of ``errors`` (each naming its file
    and ``line N``, in line order) that fail alike (the same problem but for its numbers), the first
    one quoted; subjects are the files relative to ``root``."""
    groups: dict[tuple, list[LabelError]] = {}
    for e in errors:
        groups.setdefault((e.path, re.sub(r"-?\d+(\.\d+)?", "#", e.problem)), []).append(e)
    out = []
    for (path, _), same in groups.items():
        name = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        lines = [e.where for e in same]
        first = same[0]
        message = first.problem if len(same) == 1 else (
            f"{len(same)} lines fail alike ({listing(lines, 6)}); {first.where}: {first.problem}")
        out.append(Finding(ERROR, f"{name} {first.where}" if len(same) == 1 else name, "label-file", message,
                           LINE_REMEDY))
    return out


def add_labels_only_parts(report: LabelCheck, drive) -> None:
    """Add to ``report`` (the label check of ``drive``, a labels-only sequence) the note on what was
    not checked, first, and the ``label-file`` findings of its unread lines (whichever frames were
    checked: a line that cannot be read has no frame to trust)."""
    report.notes.insert(0, skipped_note(drive))
    report.findings[:0] = unread_line_findings(drive.unread_lines, drive.root)
