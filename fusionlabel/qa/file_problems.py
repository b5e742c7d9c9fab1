"""A drive's files that cannot be used (``sweep-file``, ``image-file``, ``rig-file`` findings):
gathered per subject and check over the frames, in drive order, as one error finding each; and the
source files its reader left out for want of a sweep (``Drive.left_out``).

:func:`missing_files` only looks the files up (missing, or empty): cheap enough for every frame of
a long drive, so that `check` finds a missing sweep in a frame it does not read.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from ..errors import InputError
from ..model.drive import Drive
from ..wording import counted
from .findings import ERROR, Finding

REMEDY = {"sweep": "fix or replace the sweep file; render, import and export refuse the frame",
          "image": "give the camera a readable image of its rig resolution at the path the drive names "
                   "(a native drive: drive.yaml, frames[].cameras), or the rig the images' size",
          "rig": "fix the frame's calibration file"}


KINDS_SHOWN = 3     # a finding whose files fail in more ways quotes this many, and counts the rest


class FileProblems:
    """Unreadable files and wrong image sizes, gathered per (subject, check) over the frames."""

    def __init__(self):
        self.problems: dict[tuple[str, str], list[tuple[int, str, str, str]]] = defaultdict(list)

    def add(self, subject: str, check: str, index: int, frame_id: str, error: Exception | str,
            path: str | Path | None = None) -> None:
        """Record ``error`` for file kind ``check`` (``sweep``, ``image``, ``rig``) of ``subject``
        in the frame at drive index ``index``; ``path``: the file, when ``error`` is a message naming
        it (an :class:`~fusionlabel.errors.InputError` names its own)."""
        self.problems[(subject, check)].append((index, frame_id, str(error), error_kind(error, path)))

    def has(self, subject: str, check: str, index: int) -> bool:
        """Whether file kind ``check`` of ``subject`` in the frame at ``index`` is recorded already."""
        return any(i == index for i, *_ in self.problems.get((subject, check), ()))

    def findings(self, n_frames: int) -> list[Finding]:
        """One error finding per subject and check, naming its frames in drive order, out of the
        ``n_frames`` frames whose files were looked at; it quotes the first file's error, or when
        the files fail in different ways, the first of each way with how many files fail so
        (``errors``)."""
        out = []
        for (subject, check), problems in self.problems.items():
            problems = sorted(problems)
            frames = tuple(fid for _, fid, *_ in problems)
            errors = _by_kind(problems)
            shown = ", ".join(frames[:5]) + (", ..." if len(frames) > 5 else "")
            out.append(Finding(ERROR, subject, f"{check}-file",
                               f"in {len(frames)} of {n_frames} checked frames ({shown}): {_quoted(errors)}",
                               REMEDY[check], frame=frames[0], frames=frames,
                               errors=errors if len(errors) > 1 else ()))
        return out


def error_kind(error: Exception | str, path: str | Path | None = None) -> str:
    """What is wrong in ``error``, without the file it names and with its numbers left out: the
    same for two files that fail the same way (``cannot decode JPEG data (# bytes; …)``)."""
    text = str(error)
    if isinstance(error, InputError):
        text = error.problem if error.where is None else f"{error.where}: {error.problem}"
    elif path is not None and text.startswith(f"{path}: "):
        text = text[len(f"{path}: "):]
    return re.sub(r"\d+", "#", text)


def _by_kind(problems: list[tuple[int, str, str, str]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``problems`` (in drive order) by error kind: the first error of each kind with the frames
    of that kind, the most frequent kind first (ties in drive order)."""
    kinds: dict[str, tuple[str, list[str]]] = {}
    for _, fid, error, kind in problems:
        kinds.setdefault(kind, (error, []))[1].append(fid)
    ranked = sorted(kinds.values(), key=lambda kind: -len(kind[1]))
    return tuple((error, tuple(fids)) for error, fids in ranked)


def _quoted(errors: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    """The error to quote: the only kind's first, else ``N different errors:`` and the first of each
    (:data:`KINDS_SHOWN` at most) with its count of files (``2 files as PATH: cannot decode …``)."""
    if len(errors) == 1:
        return errors[0][0]
    parts = [f"{counted(len(fids), 'file')} as {error}" for error, fids in errors[:KINDS_SHOWN]]
    rest = errors[KINDS_SHOWN:]
    if rest:
        parts.append(f"{len(rest)} other errors in {counted(sum(len(fids) for _, fids in rest), 'file')}")
    return f"{len(errors)} different errors: " + "; ".join(parts)


def absent_file(path: Path) -> str | None:
    """Why ``path`` cannot be a sweep or an image without reading it (missing, not a file, empty),
    or None when it may be one."""
    try:
        if not path.is_file():
            return f"{path}: file not found" if not path.exists() else f"{path}: not a file"
        if path.stat().st_size == 0:
            return f"{path}: empty file (0 bytes)"
    except OSError as e:
        return f"{path}: cannot be looked up ({e.strerror or e})"
    return None


def missing_files(drive: Drive, indices, problems: FileProblems) -> None:
    """Add to ``problems`` the sweeps and images of ``drive``'s frames at ``indices`` that are
    missing or empty (looked up, not read)."""
    for i in indices:
        frame = drive.frames[i]
        if (why := absent_file(Path(frame.lidar_path))) is not None:
            problems.add(f"frame {frame.frame_id}", "sweep", i, frame.frame_id, why, frame.lidar_path)
        for cam, path in frame.image_paths.items():
            if (why := absent_file(Path(path))) is not None:
                problems.add(cam, "image", i, frame.frame_id, why, path)


def new_file_findings(findings: list[Finding], before: list[Finding]) -> list[Finding]:
    """``findings`` without the file findings ``before`` already has for the same subject (the label
    checks' unreadable sweeps that the drive checks reported too), in order."""
    seen = {(f.subject, f.check) for f in before if f.check.endswith("-file")}
    return [f for f in findings if not (f.check.endswith("-file") and (f.subject, f.check) in seen)]


def left_out_findings(drive: Drive) -> list[Finding]:
    """An error per line of ``drive.left_out``: label files the reader found but could not make a
    frame of (a KITTI object frame without its sweep), whose labels no command would see."""
    remedy = ("put the frame's sweep back, or move its label file away if the frame was dropped on purpose; "
              "render, export and the app do not see the frame")
    return [Finding(ERROR, "drive", "sweep-file", line, remedy) for line in getattr(drive, "left_out", [])]
