"""Copies of a project's database, so that a damaged one (a disk fault, a file cut short by a full
copy or a sync tool) costs at most the work since the last copy, not the project.

When a project opens for writing and its newest copy is older than :data:`EVERY_S`, the database
is checked (SQLite's ``quick_check``) and, if sound, copied with SQLite's online backup into
``PROJECT/backups/project-<UTC time>.sqlite`` (written under another name and renamed, so a copy
is whole or absent); the newest :data:`KEEP` are kept. A database that fails the check is never
copied over the good copies. A copy that cannot be made (a full disk, a read-only folder) leaves
the project as it is: opening never fails for it.

:func:`restore_newest` puts the newest sound copy back (``fusionlabel project restore``), keeping
the damaged database beside it.
"""

from __future__ import annotations

import calendar
import os
import shutil
import sqlite3
import time
from pathlib import Path

BACKUP_DIR = "backups"
PREFIX, SUFFIX = "project-", ".sqlite"
KEEP = 3                    # copies kept
EVERY_S = 12 * 3600.0       # a new copy when the newest is older than this


def backups(folder: str | Path) -> list[Path]:
    """The project's copies, newest first (their names hold their UTC time)."""
    where = Path(folder) / BACKUP_DIR
    try:
        found = [p for p in where.iterdir() if p.name.startswith(PREFIX) and p.name.endswith(SUFFIX)]
    except OSError:
        return []
    return sorted(found, key=lambda p: p.name, reverse=True)


def _stamp(now: float) -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))


def _age_s(path: Path, now: float) -> float:
    try:
        made = calendar.timegm(time.strptime(path.name[len(PREFIX):-len(SUFFIX)], "%Y%m%d-%H%M%S"))
    except ValueError:
        return float("inf")
    return now - made


def sound(con: sqlite3.Connection) -> bool:
    """Whether SQLite finds the open database ``con`` whole (``PRAGMA quick_check``)."""
    try:
        return [row[0] for row in con.execute("PRAGMA quick_check")] == ["ok"]
    except sqlite3.DatabaseError:
        return False


def back_up(con: sqlite3.Connection, folder: str | Path, now: float | None = None,
            every_s: float = EVERY_S, keep: int = KEEP) -> Path | None:
    """Copy the project database open as ``con`` into ``folder``'s backups when the newest copy is
    older than ``every_s`` seconds and the database is sound; keep the newest ``keep``. Returns
    the new copy, or None when none was made (recent enough, unsound, or not writable)."""
    now = time.time() if now is None else now
    existing = backups(folder)
    if existing and _age_s(existing[0], now) < every_s:
        return None
    if not sound(con):
        return None
    where = Path(folder) / BACKUP_DIR
    path = where / f"{PREFIX}{_stamp(now)}{SUFFIX}"
    partial = path.with_name(path.name + ".part")
    try:
        where.mkdir(exist_ok=True)
        partial.unlink(missing_ok=True)
        dest = sqlite3.connect(partial)
        try:
            con.backup(dest)
        finally:
            dest.close()
        os.replace(partial, path)
    except (OSError, sqlite3.Error):
        try:
            partial.unlink(missing_ok=True)
        except OSError:
            pass
        return None
    for old in backups(folder)[keep:]:
        try:
            old.unlink()
        except OSError:
            pass
    return path


def newest_sound(folder: str | Path) -> Path | None:
    """The newest copy SQLite finds whole, or None."""
    for path in backups(folder):
        try:
            con = sqlite3.connect(path.absolute().as_uri() + "?mode=ro", uri=True)
        except sqlite3.Error:
            continue
        try:
            if sound(con):
                return path
        finally:
            con.close()
    return None


def restore_newest(folder: str | Path, db_name: str, now: float | None = None) -> tuple[Path, Path | None]:
    """Put the newest sound copy back as ``folder/db_name``. The database there (and its ``-wal``
    and ``-shm`` files) is kept as ``<db_name>.broken-<UTC time>``. Returns (the copy restored,
    where the old database went, or None when there was none). Raises FileNotFoundError when no
    sound copy exists. The caller holds the project's lock."""
    folder = Path(folder)
    source = newest_sound(folder)
    if source is None:
        raise FileNotFoundError(folder / BACKUP_DIR)
    db = folder / db_name
    kept = None
    if db.exists():
        kept = db.with_name(f"{db_name}.broken-{_stamp(time.time() if now is None else now)}")
        os.replace(db, kept)
        for extra in ("-wal", "-shm"):
            side = db.with_name(db_name + extra)
            if side.exists():
                os.replace(side, kept.with_name(kept.name + extra))
    partial = db.with_name(db_name + ".restoring")
    shutil.copyfile(source, partial)
    os.replace(partial, db)
    return source, kept
