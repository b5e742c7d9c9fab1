"""Replacing a project (``project create --force``) without losing anyone's work.

The old project's own files (database, its WAL, ontology) are moved into a folder beside it,
``<PROJECT>.replaced-<UTC time>``, before the new project is made; other files in the project
folder stay where they are. When the new project is made, a replaced project that held no work
(nothing in its log but imports of the drive's labels, which the drive gives again) is removed;
one holding work (edits, pre-label runs, frame statuses) is kept there, and the command says
where. When the new project cannot be made, the old one is put back as it was.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from ..wording import counted
from .backup import BACKUP_DIR
from .project import DB_NAME, ProjectError, is_project, project_file_names, take_lock

REPLACED_INFIX = ".replaced-"


@dataclass
class SetAside:
    """A project moved out of ``folder`` into ``backup``; ``work``: the commands in its log that are
    not imports of the drive's labels (-1 when its log could not be read: kept, as work)."""

    folder: Path
    backup: Path
    work: int

    def put_back(self) -> None:
        """Move the old project back (the new one could not be made)."""
        for name in os.listdir(self.backup):
            os.replace(self.backup / name, self.folder / name)
        self.backup.rmdir()

    def finish(self) -> str:
        """The new project is made: remove the old one when it held no work; what to say."""
        if self.work == 0:
            shutil.rmtree(self.backup, ignore_errors=True)
            return f"replaced the project that was in {self.folder} (it held no edits: only imports of the drive's labels)"
        held = "a log that could not be read" if self.work < 0 else counted(self.work, "edit")
        return (f"replaced the project that was in {self.folder}; it held {held} and is kept in {self.backup} "
                f"(fusionlabel open {self.backup} opens it)")


def set_aside(folder: str | Path) -> SetAside | None:
    """Move the project in ``folder`` aside (module docstring); None when ``folder`` holds none.
    ProjectError (one line, nothing changed) when another process has it open or the folder beside
    it cannot be made."""
    folder = Path(folder).absolute()
    if not is_project(folder):
        return None
    lock = take_lock(folder, "replace")
    try:
        work = _work(folder / DB_NAME)
        backup = folder.parent / f"{folder.name}{REPLACED_INFIX}{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
        n = 1
        while backup.exists():
            n += 1
            backup = backup.with_name(f"{backup.name.split('~')[0]}~{n}")
        try:
            backup.mkdir()
        except OSError as e:
            raise ProjectError(folder, f"cannot keep the replaced project beside it in {folder.parent}: "
                                       f"{e.strerror or e}; nothing was changed") from None
        for name in [*project_file_names(), BACKUP_DIR]:   # its database copies go with it
            if (folder / name).exists():
                os.replace(folder / name, backup / name)
        return SetAside(folder, backup, work)
    finally:
        lock.release()


def _work(db: Path) -> int:
    """How many commands of the project's log are not imports of the drive's labels; -1 when the
    database cannot be read."""
    from .label_import import is_import_description

    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            rows = con.execute("SELECT description FROM commands").fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return -1
    return sum(not is_import_description(d) for d, in rows)
