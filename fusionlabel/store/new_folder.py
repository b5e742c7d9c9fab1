"""Where a new project may go: an empty or new folder, or one holding a project (replaced only
with ``project create --force``), never a folder of someone else's files, which the project's files
would otherwise be mixed into (``project create --out``, ``open --project``)."""

from __future__ import annotations

from pathlib import Path

from .backup import BACKUP_DIR
from .project import LOCK_NAME, ProjectError, is_project, project_file_names

SHOWN = 10     # names listed in the message; the rest are counted
# what file managers leave in any folder they show: not someone's files, a project may go beside them
OS_CLUTTER = frozenset((".DS_Store", "Thumbs.db", "desktop.ini", ".directory"))


def foreign_names(folder: str | Path) -> list[str]:
    """The top-level names in ``folder`` that are not a project's own files (a creation stopped
    half-way can leave those) or a file manager's (:data:`OS_CLUTTER`), sorted; [] for a folder
    holding a project or for no folder."""
    folder = Path(folder)
    if not folder.is_dir() or is_project(folder):
        return []
    own = {*project_file_names(), LOCK_NAME, BACKUP_DIR, *OS_CLUTTER}
    return sorted(p.name for p in folder.iterdir() if p.name not in own)


def refuse_foreign_folder(folder: str | Path, where: str | None = None, forced: bool = False,
                          drive_path: str | Path | None = None) -> None:
    """ProjectError naming ``folder`` (at option ``where``) when it holds files but no project, or
    is the drive's own folder ``drive_path``; nothing in it is touched. ``forced``: the message
    says that ``--force`` replaces only a project."""
    if drive_path is not None and Path(folder).resolve() == Path(drive_path).resolve():
        raise ProjectError(folder, "is the drive's own folder; a project goes in a folder of its own (the default, "
                                   "without --out, is one inside the drive: .fusionlabel-project)", where=where)
    names = foreign_names(folder)
    if not names:
        return
    shown = ", ".join(names[:SHOWN]) + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")
    why = "--force replaces only a project, never other files" if forced else \
        "a project is made only in an empty or new folder, never beside other files"
    raise ProjectError(folder, f"holds {shown}, not a fusionlabel project; {why}: choose an empty or new folder "
                               "(or move them away)", where=where)
