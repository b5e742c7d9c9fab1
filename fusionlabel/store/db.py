"""The project database: SQLite in WAL mode with ``synchronous=FULL``, one transaction per command.

Tables (schema version 4):

- ``annotations``  current state, one row per cuboid (box columns in the frame's LiDAR frame);
- ``commands``     the command log: bound commands as JSON with state done / undone / discarded,
                   so the undo stack (done, by id) and redo stack (undone) survive a restart and
                   replaying the done commands in id order rebuilds ``annotations`` exactly (a
                   step that later edits were folded into is rewritten in place: commit_merge);
- ``history``      audit trail: every apply / undo / redo with its time;
- ``frame_status`` per-frame status other than ``new``;
- ``track_absent`` the frames where a track's object is marked absent (hidden, out of view: ``H``);
- ``settings``     JSON values (current frame, view settings);
- ``waivers``      label-check findings a QA lead waived: the finding's id and key, why, who, when
                   (:class:`~fusionlabel.model.waiver.Waiver`; not in the command log, no undo);
- ``meta``         schema version and id counters (and ``creating`` while a new project's drive
                   labels are being imported: :meth:`ProjectStore.create`; ``starting_point``, the
                   id of the last command of the project's starting point, which undo stops above:
                   :meth:`ProjectStore.commit_starting_point`); ``drive``: path, scene and fingerprint of the drive.

Schema versions: 1 had no ``drive.scene``; 2 added it (the nuScenes scene or KITTI tracking
sequence the project was made for); 3 added ``track_absent``; 4 added ``waivers``. An older database
opened for writing is migrated in place, in one transaction (:data:`MIGRATIONS`); opened read-only
it is read as it is (without a scene, absent marks or waivers). A fusionlabel that reads only older
versions refuses a newer database with "schema version 4 is not supported" (its data is untouched).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..errors import FusionLabelError, InputError
from ..model.commands import Command, command_from_json, cuboid_from_dict
from ..model.annotation import CuboidLabel
from ..model.document import Annotation, Delta
from ..model.waiver import Waiver

SCHEMA_VERSION = 4
# meta key present while a project is being made (its drive labels not all imported yet)
CREATING_KEY = "creating"
# meta key holding the id of the last command of the project's starting point (the labels it was made with)
STARTING_POINT_KEY = "starting_point"
# the database file is written under its name plus this and renamed when its schema is committed
CREATING_SUFFIX = ".creating"

TRACK_ABSENT_TABLE = ("CREATE TABLE IF NOT EXISTS track_absent (track_id TEXT NOT NULL, frame INTEGER NOT NULL, "
                      "changed_us INTEGER NOT NULL, PRIMARY KEY (track_id, frame))")
WAIVERS_TABLE = ("CREATE TABLE IF NOT EXISTS waivers (id TEXT PRIMARY KEY, check_name TEXT NOT NULL, "
                 "subject TEXT NOT NULL, frames TEXT NOT NULL, message TEXT NOT NULL, "
                 "reason TEXT NOT NULL CHECK (length(trim(reason)) > 0), waived_by TEXT NOT NULL, "
                 "at_us INTEGER NOT NULL)")

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE drive (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    path TEXT NOT NULL,            -- absolute path when the project was created / last relinked
    relpath TEXT,                  -- the same, relative to the project folder (survives moving both)
    name TEXT NOT NULL,
    n_frames INTEGER NOT NULL,
    frame_ids TEXT NOT NULL,       -- JSON list
    lidar_sizes TEXT NOT NULL,     -- JSON list of byte sizes, -1 = missing
    samples TEXT NOT NULL,         -- JSON {frame id: SHA-1 of the first 64 KiB of its sweep} for 3 frames
    scene TEXT                     -- nuScenes scene or KITTI tracking sequence name, NULL for other drives (v2)
);
CREATE TABLE annotations (
    uid TEXT PRIMARY KEY,
    frame INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    track_id TEXT,
    class TEXT NOT NULL,
    source TEXT NOT NULL,
    score REAL,
    cx REAL NOT NULL, cy REAL NOT NULL, cz REAL NOT NULL,
    length REAL NOT NULL, width REAL NOT NULL, height REAL NOT NULL,
    yaw REAL NOT NULL, pitch REAL NOT NULL, roll REAL NOT NULL,
    attributes TEXT NOT NULL
);
CREATE INDEX annotations_frame ON annotations (frame, seq);
CREATE INDEX annotations_track ON annotations (track_id, frame);
CREATE TABLE commands (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('done', 'undone', 'discarded')),
    created_us INTEGER NOT NULL,
    changed_us INTEGER NOT NULL
);
CREATE INDEX commands_state ON commands (state, id);
CREATE TABLE history (
    id INTEGER PRIMARY KEY,
    command_id INTEGER NOT NULL REFERENCES commands (id),
    action TEXT NOT NULL CHECK (action IN ('apply', 'undo', 'redo')),
    at_us INTEGER NOT NULL
);
CREATE TABLE frame_status (frame INTEGER PRIMARY KEY, status TEXT NOT NULL, changed_us INTEGER NOT NULL);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
SCHEMA += TRACK_ABSENT_TABLE + ";\n" + WAIVERS_TABLE + ";\n"


# version -> statements that bring a database of that version to the next one (run in one transaction)
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: ("ALTER TABLE drive ADD COLUMN scene TEXT",),
    2: (TRACK_ABSENT_TABLE,),
    3: (WAIVERS_TABLE,),
}


class StoreError(InputError):
    """The project database is missing, from a newer version, or inconsistent."""


class DamagedStoreError(StoreError):
    """SQLite cannot read the file as a fusionlabel project database (cut short, overwritten): the
    case a copy of the database (:mod:`.backup`) can repair."""


class StoreClosedError(FusionLabelError):
    """The project was closed; reopen it to edit."""


@dataclass
class StoredState:
    """What a Document loads: annotations with their creation order, statuses, counters, history."""

    annotations: list[tuple[Annotation, int]]
    statuses: dict[int, str]
    next_track: int
    next_seq: int
    undo: list[tuple[int, str]]      # (command id, description), oldest first
    redo: list[tuple[int, str]]      # top of the redo stack last
    absent: list[tuple[str, int]] = field(default_factory=list)   # (track, frame) marked absent
    starting_point: int | None = None  # id of the last command of the starting point, None without one


@dataclass
class DriveRecord:
    path: str
    relpath: str | None
    name: str
    frame_ids: list[str]
    lidar_sizes: list[int]
    samples: dict[str, str]
    scene: str | None = None       # the scene / sequence of a drive folder holding several


# SQLite's result codes for a disk that is full or failing (``sqlite3.Error.sqlite_errorname``)
_STORAGE_CODES = ("SQLITE_FULL", "SQLITE_IOERR", "SQLITE_CANTOPEN", "SQLITE_READONLY")


def storage_error(e: sqlite3.Error, path: Path) -> StoreError | None:
    """What to tell the user when SQLite could not read or write ``path`` because of the disk (full,
    failing, read-only), rather than because of the file's content; None for other errors. A full
    disk says so, with the system's 'No space left on device': SQLite reports it as
    'database or disk is full', or as a disk I/O error when the full disk hits its shared-memory or
    journal file."""
    name = getattr(e, "sqlite_errorname", "") or ""
    if not name.startswith(_STORAGE_CODES):
        return None
    if name.startswith("SQLITE_FULL") or _disk_full(path):
        return StoreError(path, "cannot write the project database: the disk is full (No space left on "
                                "device); free some space and run again (what was saved before is kept)")
    if name.startswith("SQLITE_READONLY"):
        return StoreError(path, f"cannot write the project database: it or its folder is read-only ({e})")
    return StoreError(path, f"cannot read or write the project database: {e} ({name}); check the disk")


def _disk_full(path: Path) -> bool:
    try:
        st = os.statvfs(path.parent)
    except (OSError, AttributeError):
        return False
    return st.f_bavail * st.f_frsize < 64 * 1024


def _now_us() -> int:
    return time.time_ns() // 1000


class ProjectStore:
    """Persistence for one project's Document (the Store protocol of fusionlabel.model.document).

    Args:
        path: the SQLite file.
        read_only: open with ``mode=ro``; every write raises and settings stay in memory.
        read_only_reason: said to the user when an edit is refused.
    """

    def __init__(self, path: str | Path, read_only: bool = False, read_only_reason: str | None = None):
        self.path = Path(path)
        self.read_only = read_only
        self.read_only_reason = read_only_reason
        if not self.path.is_file():
            raise StoreError(self.path, "project database not found")
        self._lock = threading.RLock()
        if read_only:
            self._con = sqlite3.connect(self.path.absolute().as_uri() + "?mode=ro", uri=True,
                                        isolation_level=None, check_same_thread=False)
        else:
            self._con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            self._configure()
            self._check_schema()
        except sqlite3.DatabaseError as e:
            self._con.close()
            raise (storage_error(e, self.path)
                   or DamagedStoreError(self.path, f"not a fusionlabel project database ({e})")) from None
        except BaseException:
            self._con.close()
            raise
        self._memory_settings: dict[str, Any] = {}

    def back_up(self, folder: str | Path) -> Path | None:
        """A copy of the database in ``folder``'s backups when one is due (:mod:`.backup`); the
        copy, or None."""
        from .backup import back_up

        if self.read_only:
            return None
        with self._lock:
            return back_up(self._con, folder)

    # ------------------------------------------------------------------ set-up
    @classmethod
    def create(cls, path: str | Path, drive: DriveRecord, incomplete: bool = False) -> "ProjectStore":
        """Create the database file with the schema and the drive reference (one transaction).

        It is written as ``<path>.creating`` and renamed to ``path`` once committed, so ``path``
        never holds a half-made database (a leftover ``.creating`` file of a killed run is replaced).
        ``incomplete`` marks the project as still being made (:data:`CREATING_KEY` in ``meta``)
        until :meth:`mark_complete`: a project whose creation was killed before that says so."""
        path = Path(path)
        if path.exists():
            raise StoreError(path, "a project database already exists here")
        partial = path.with_name(path.name + CREATING_SUFFIX)
        for leftover in (partial, partial.with_name(partial.name + "-journal")):
            leftover.unlink(missing_ok=True)
        con = sqlite3.connect(partial, isolation_level=None)
        try:
            con.execute("PRAGMA synchronous=FULL")     # rollback journal here; the first open switches to WAL
            con.execute("BEGIN IMMEDIATE")
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    con.execute(statement)
            con.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("schema_version", json.dumps(SCHEMA_VERSION)), ("next_track", "1"), ("next_seq", "0"),
                ("created_us", json.dumps(_now_us()))] + ([(CREATING_KEY, "true")] if incomplete else []))
            con.execute("INSERT INTO drive (id, path, relpath, name, n_frames, frame_ids, lidar_sizes, samples, scene) "
                        "VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)", (
                            drive.path, drive.relpath, drive.name, len(drive.frame_ids), json.dumps(drive.frame_ids),
                            json.dumps(drive.lidar_sizes), json.dumps(drive.samples), drive.scene))
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            con.close()
            partial.unlink(missing_ok=True)
            raise
        con.close()
        try:
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        _sync_folder(path.parent)
        return cls(path)

    def incomplete(self) -> bool:
        """True while the project is still being made (created with ``incomplete=True`` and not
        yet :meth:`mark_complete`-d): its drive labels are not all in. A project whose log holds
        any command but label imports is in use (edited by a fusionlabel that knows no such mark)
        and never counts as incomplete."""
        from .label_import import is_import_description

        with self._lock:
            con = self._db()
            if con.execute("SELECT value FROM meta WHERE key=?", (CREATING_KEY,)).fetchone() is None:
                return False
            descriptions = [r[0] for r in con.execute("SELECT DISTINCT description FROM commands")]
        return all(is_import_description(d) for d in descriptions)

    def mark_complete(self) -> None:
        """The project is made: drop the mark :meth:`create` set with ``incomplete=True``."""
        with self._transaction() as con:
            con.execute("DELETE FROM meta WHERE key=?", (CREATING_KEY,))

    def _configure(self) -> None:
        con = self._con
        con.execute("PRAGMA busy_timeout=10000")
        if not self.read_only:
            mode = con.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(self.path, f"cannot switch the database to WAL mode (got {mode})")
        con.execute("PRAGMA synchronous=FULL")
        con.execute("PRAGMA foreign_keys=ON")

    def _read_schema_version(self) -> int:
        try:
            row = self._con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.DatabaseError as e:
            raise DamagedStoreError(self.path, f"not a fusionlabel project database ({e})") from None
        if row is None:
            raise DamagedStoreError(self.path, "no schema version in table meta: not a fusionlabel project database")
        try:
            version = json.loads(row[0])
        except ValueError:
            version = row[0]
        if not isinstance(version, int) or not 1 <= version <= SCHEMA_VERSION:
            raise StoreError(self.path, f"schema version {version} is not supported (this fusionlabel reads "
                                        f"versions 1 to {SCHEMA_VERSION}; a newer fusionlabel made this project)",
                             where="meta.schema_version")
        return version

    def _check_schema(self) -> None:
        """Read the schema version; bring an older database up to date unless read-only."""
        self.schema_version = self._read_schema_version()
        if self.schema_version == SCHEMA_VERSION or self.read_only:
            return
        con = self._con
        con.execute("BEGIN IMMEDIATE")
        try:
            version = self._read_schema_version()      # another process may have migrated meanwhile
            while version < SCHEMA_VERSION:
                for statement in MIGRATIONS[version]:
                    con.execute(statement)
                version += 1
                con.execute("UPDATE meta SET value=? WHERE key='schema_version'", (json.dumps(version),))
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        self.schema_version = version

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    @property
    def closed(self) -> bool:
        return self._con is None

    def _db(self) -> sqlite3.Connection:
        if self._con is None:
            raise StoreClosedError(f"project database {self.path} is closed")
        return self._con

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; ROLLBACK on any error. Holds the store's thread lock."""
        with self._lock:
            con = self._db()
            if self.read_only:
                raise StoreError(self.path, f"read-only: {self.read_only_reason or 'opened read-only'}")
            try:
                con.execute("BEGIN IMMEDIATE")
                try:
                    yield con
                except BaseException:
                    if con.in_transaction:
                        con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
            except sqlite3.OperationalError as e:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                error = storage_error(e, self.path)
                if error is None:
                    raise
                raise error from None

    # ------------------------------------------------------------------ drive reference
    def drive_record(self) -> DriveRecord:
        scene = "scene" if self.schema_version >= 2 else "NULL"   # a version-1 database opened read-only
        with self._lock:
            row = self._db().execute(
                f"SELECT path, relpath, name, frame_ids, lidar_sizes, samples, {scene} FROM drive WHERE id=1").fetchone()
        if row is None:
            raise StoreError(self.path, "the project has no drive reference", where="table drive")
        return DriveRecord(row[0], row[1], row[2], json.loads(row[3]), json.loads(row[4]), json.loads(row[5]), row[6])

    def update_drive_reference(self, path: str, relpath: str | None, scene: str | None) -> None:
        """Remember where the drive is now (and its scene, for a project made before scenes were kept)."""
        with self._transaction() as con:
            con.execute("UPDATE drive SET path=?, relpath=?, scene=? WHERE id=1", (path, relpath, scene))

    # ------------------------------------------------------------------ Store protocol
    def load_state(self) -> StoredState:
        with self._lock:
            con = self._db()
            con.execute("BEGIN")   # one consistent snapshot even while a writer commits
            try:
                rows = con.execute(
                    "SELECT uid, frame, seq, track_id, class, source, score, cx, cy, cz, length, width, height, "
                    "yaw, pitch, roll, attributes FROM annotations ORDER BY seq").fetchall()
                statuses = dict(con.execute("SELECT frame, status FROM frame_status").fetchall())
                absent = (con.execute("SELECT track_id, frame FROM track_absent ORDER BY track_id, frame").fetchall()
                          if self.schema_version >= 3 else [])
                meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
                undo = con.execute("SELECT id, description FROM commands WHERE state='done' ORDER BY id").fetchall()
                redo = con.execute(
                    "SELECT id, description FROM commands WHERE state='undone' ORDER BY id DESC").fetchall()
            finally:
                con.execute("COMMIT")
        anns = [(_annotation_from_row(r), r[2]) for r in rows]
        start = meta.get(STARTING_POINT_KEY)
        return StoredState(anns, statuses, int(json.loads(meta.get("next_track", "1"))),
                           int(json.loads(meta.get("next_seq", "0"))), undo, redo, [tuple(r) for r in absent],
                           None if start is None else int(json.loads(start)))

    def load_command(self, log_id: int) -> Command:
        with self._lock:
            row = self._db().execute("SELECT payload FROM commands WHERE id=?", (log_id,)).fetchone()
        if row is None:
            raise StoreError(self.path, f"command {log_id} is missing from the log", where="table commands")
        return command_from_json(row[0])

    def commit_apply(self, cmd: Command, delta: Delta) -> int:
        now = _now_us()
        with self._transaction() as con:
            con.execute("UPDATE commands SET state='discarded', changed_us=? WHERE state='undone'", (now,))
            cur = con.execute(
                "INSERT INTO commands (kind, description, payload, state, created_us, changed_us) "
                "VALUES (?, ?, ?, 'done', ?, ?)", (cmd.kind, cmd.description, cmd.to_json(), now, now))
            log_id = cur.lastrowid
            con.execute("INSERT INTO history (command_id, action, at_us) VALUES (?, 'apply', ?)", (log_id, now))
            self._write_delta(con, delta, now)
        return log_id

    def commit_merge(self, log_id: int, cmd: Command | None, delta: Delta) -> None:
        """The last done command ``log_id`` becomes ``cmd`` (an edit folded into it, e.g. one more
        key nudge), or is discarded when ``cmd`` is None (the fold changed nothing); the history
        gets one more ``apply`` of it; one transaction, like any edit."""
        now = _now_us()
        with self._transaction() as con:
            if cmd is None:
                n = con.execute("UPDATE commands SET state='discarded', changed_us=? WHERE id=? AND state='done'",
                                (now, log_id)).rowcount
            else:
                n = con.execute("UPDATE commands SET kind=?, description=?, payload=?, changed_us=? "
                                "WHERE id=? AND state='done'",
                                (cmd.kind, cmd.description, cmd.to_json(), now, log_id)).rowcount
            if n != 1:
                raise StoreError(self.path, f"cannot merge into command {log_id}: it is not 'done' in the log "
                                            "(was the project changed by another process?)", where="table commands")
            con.execute("INSERT INTO history (command_id, action, at_us) VALUES (?, 'apply', ?)", (log_id, now))
            self._write_delta(con, delta, now)

    def commit_starting_point(self, log_id: int) -> None:
        """Command ``log_id`` and every done command before it become the project's starting point
        (:meth:`~fusionlabel.model.document.Document.make_starting_point`): undo stops above them."""
        with self._transaction() as con:
            con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (STARTING_POINT_KEY, json.dumps(log_id)))

    def commit_undo(self, log_id: int, delta: Delta) -> None:
        self._commit_move(log_id, delta, "undo", "done", "undone")

    def commit_redo(self, log_id: int, delta: Delta) -> None:
        self._commit_move(log_id, delta, "redo", "undone", "done")

    def _commit_move(self, log_id: int, delta: Delta, action: str, old: str, new: str) -> None:
        now = _now_us()
        with self._transaction() as con:
            n = con.execute("UPDATE commands SET state=?, changed_us=? WHERE id=? AND state=?",
                            (new, now, log_id, old)).rowcount
            if n != 1:
                raise StoreError(self.path, f"cannot {action} command {log_id}: it is not '{old}' in the log "
                                            "(was the project changed by another process?)", where="table commands")
            con.execute("INSERT INTO history (command_id, action, at_us) VALUES (?, ?, ?)", (log_id, action, now))
            self._write_delta(con, delta, now)

    @staticmethod
    def _write_delta(con: sqlite3.Connection, delta: Delta, now: int) -> None:
        gone = [(uid,) for uid, v in delta.annotations.items() if v is None]
        rows = [_annotation_row(ann, seq) for v in delta.annotations.values() if v is not None for ann, seq in (v,)]
        if gone:
            con.executemany("DELETE FROM annotations WHERE uid=?", gone)
        if rows:
            con.executemany("INSERT OR REPLACE INTO annotations VALUES "
                            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        for frame, status in delta.statuses.items():
            if status == "new":
                con.execute("DELETE FROM frame_status WHERE frame=?", (frame,))
            else:
                con.execute("INSERT OR REPLACE INTO frame_status VALUES (?, ?, ?)", (frame, status, now))
        for (track_id, frame), absent in delta.absent.items():
            if absent:
                con.execute("INSERT OR REPLACE INTO track_absent VALUES (?, ?, ?)", (track_id, frame, now))
            else:
                con.execute("DELETE FROM track_absent WHERE track_id=? AND frame=?", (track_id, frame))
        con.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [
            ("next_track", json.dumps(delta.next_track)), ("next_seq", json.dumps(delta.next_seq))])

    # ------------------------------------------------------------------ settings
    def get_setting(self, key: str, default: Any = None) -> Any:
        if key in self._memory_settings:
            return self._memory_settings[key]
        with self._lock:
            row = self._db().execute("SELECT value FROM settings WHERE key=?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set_setting(self, key: str, value: Any) -> None:
        """Persist a JSON-serialisable setting at once (kept in memory only when read-only)."""
        text = json.dumps(value)
        if self.read_only:
            self._memory_settings[key] = json.loads(text)
            return
        with self._transaction() as con:
            con.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, text))

    def settings(self) -> dict[str, Any]:
        with self._lock:
            rows = self._db().execute("SELECT key, value FROM settings").fetchall()
        out = {k: json.loads(v) for k, v in rows}
        out.update(self._memory_settings)
        return out

    def data_version(self) -> int:
        """Changes whenever another connection (another process) commits (PRAGMA data_version)."""
        with self._lock:
            return int(self._db().execute("PRAGMA data_version").fetchone()[0])

    # ------------------------------------------------------------------ waivers
    def waivers(self) -> list[Waiver]:
        """The waived findings, oldest first (none in a database older than version 4 opened read-only)."""
        if self.schema_version < 4:
            return []
        with self._lock:
            rows = self._db().execute("SELECT id, check_name, subject, frames, message, reason, waived_by, at_us "
                                      "FROM waivers ORDER BY at_us, id").fetchall()
        return [Waiver(r[0], r[1], r[2], tuple(json.loads(r[3])), r[4], r[5], r[6], r[7]) for r in rows]

    def put_waivers(self, waivers: list[Waiver]) -> None:
        """Record ``waivers`` (one transaction); a finding waived before gets the new reason."""
        with self._transaction() as con:
            con.executemany("INSERT OR REPLACE INTO waivers VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
                (w.id, w.check, w.subject, json.dumps(list(w.frames)), w.message, w.reason, w.user, w.at_us)
                for w in waivers])

    def remove_waivers(self, ids: list[str]) -> int:
        """Take back the waivers of the findings ``ids`` (one transaction); how many there were."""
        with self._transaction() as con:
            return sum(con.execute("DELETE FROM waivers WHERE id=?", (i,)).rowcount for i in ids)

    # ------------------------------------------------------------------ checks
    def integrity_check(self) -> str:
        """``PRAGMA integrity_check`` result ("ok" when the file is sound)."""
        with self._lock:
            rows = self._db().execute("PRAGMA integrity_check").fetchall()
        return "\n".join(r[0] for r in rows)

    def command_log(self, states: tuple[str, ...] = ("done", "undone", "discarded")) -> list[tuple[int, str, Command]]:
        """(id, state, command) for every logged command with one of ``states``, by id."""
        marks = ",".join("?" * len(states))
        with self._lock:
            rows = self._db().execute(f"SELECT id, state, payload FROM commands WHERE state IN ({marks}) "
                                      "ORDER BY id", states).fetchall()
        return [(i, s, command_from_json(p)) for i, s, p in rows]


    def command_descriptions(self) -> list[tuple[int, str, str]]:
        """(id, state, description) of every logged command, by id: the log without decoding a
        payload (a label import's holds every label of the drive)."""
        with self._lock:
            return [tuple(r) for r in self._db().execute("SELECT id, state, description FROM commands ORDER BY id")]

    def commands(self, ids) -> dict[int, Command]:
        """The logged commands with these ids, decoded: id -> command."""
        out: dict[int, Command] = {}
        ids = list(ids)
        for k in range(0, len(ids), 500):   # SQLite's limit on bound parameters
            chunk = ids[k:k + 500]
            with self._lock:
                rows = self._db().execute(f"SELECT id, payload FROM commands WHERE id IN ({','.join('?' * len(chunk))})",
                                          chunk).fetchall()
            out.update((i, command_from_json(p)) for i, p in rows)
        return out

    def annotation_frames(self) -> dict[str, int]:
        """uid -> frame of every cuboid there is now."""
        with self._lock:
            return dict(self._db().execute("SELECT uid, frame FROM annotations").fetchall())

    def annotation(self, uid: str) -> Annotation | None:
        """The cuboid with this uid as stored now, None when there is none."""
        with self._lock:
            row = self._db().execute(
                "SELECT uid, frame, seq, track_id, class, source, score, cx, cy, cz, length, width, height, "
                "yaw, pitch, roll, attributes FROM annotations WHERE uid=?", (uid,)).fetchone()
        return None if row is None else _annotation_from_row(row)

    def frame_statuses(self) -> dict[int, str]:
        """frame -> status of the frames that have one stored (the others are ``new``)."""
        with self._lock:
            return dict(self._db().execute("SELECT frame, status FROM frame_status").fetchall())

    def history_events(self) -> list[tuple[int, str, int]]:
        """(command id, action, time in µs) of every ``apply``, ``undo`` and ``redo``, oldest first
        (table ``history``: an edit folded into the step before adds one more ``apply`` of it)."""
        with self._lock:
            return [tuple(r) for r in self._db().execute("SELECT command_id, action, at_us FROM history ORDER BY id")]

def _sync_folder(folder: Path) -> None:
    """fsync a folder, so that a rename in it survives a power cut (where the OS allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _annotation_row(ann: Annotation, seq: int) -> tuple:
    b, lab = ann.label.box, ann.label
    return (ann.uid, ann.frame, seq, lab.track_id, lab.label, lab.source, lab.score, *b.center, *b.size,
            b.yaw, b.pitch, b.roll, json.dumps(lab.attributes))


def _annotation_from_row(r) -> Annotation:
    box = cuboid_from_dict({"center": r[7:10], "size": r[10:13], "yaw": r[13], "pitch": r[14], "roll": r[15]})
    return Annotation(r[0], r[1], CuboidLabel(box, r[4], r[3], r[6], r[5], json.loads(r[16])))
