"""Qt-free: when the drive's files were moved or deleted while the app is open. A frame whose
sweep or image is not there any more, in a folder that is gone too (the drive moved, renamed,
unmounted or deleted), gets one message for the whole session naming the file and how to relink
the project (``fusionlabel project relink``), instead of a "file not found" note at every frame.
A single file missing from a folder that is still there stays a note of its frame."""

from __future__ import annotations

import shlex
from pathlib import Path

from ..errors import InputError
from ..wording import counted


def missing_file(e: Exception) -> Path | None:
    """The file a load failed on because it is not there, else None (it is there but bad, or
    the error names no file)."""
    path = e.path if isinstance(e, InputError) else None
    return path if path is not None and not path.exists() else None


def gone_files(missing: dict[str, Path]) -> dict[str, Path]:
    """Of a frame's ``missing`` files (its error line -> the file), those whose folder is gone too."""
    return {line: path for line, path in missing.items() if not path.parent.exists()}


def drive_gone_text(path: Path, more: int, drive_root: Path, project_folder: Path) -> str:
    """The message for ``path`` not found (``more``: other files of the frame not found either)
    under a drive at ``drive_root``, of the project in ``project_folder``: what happened and how
    to point the project at the drive's new place."""
    others = f" (and {counted(more, 'more file')} of this frame)" if more else ""
    where = (f"the drive is no longer at {drive_root}" if not Path(drive_root).exists()
             else f"its folder {path.parent} is gone")
    return (f"{path} not found{others}: {where} (moved or deleted while the app was open). If the "
            f"drive moved: close the app, run fusionlabel project relink {shlex.quote(str(project_folder))} "
            f"NEW_DRIVE (see its --help) and open the project again; your labels are saved")
