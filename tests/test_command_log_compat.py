"""The command log keeps its JSON format: a project database written before the command classes
were refactored (tests/data/project_log_v1.sql) still opens, undoes and redoes to the states the old
code reached, and every logged command serialises back to the very bytes stored."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model.commands import (COMMANDS, AcceptPrelabel, Batch, CopyToFrame, CreateCuboid, DeleteCuboids,
                                        DeleteTrackFrom, SetAttributes, SetBox, SetClass, SetFrameStatus, SetTrack,
                                        command_from_json)
from fusionlabel.model.ontology import DEFAULT_PATH
from fusionlabel.store.crash_writer import state_digest
from fusionlabel.store.fake_drive import make_fake_drive
from fusionlabel.store.project import DB_NAME, ONTOLOGY_NAME, Project

DUMP = Path(__file__).parent / "data" / "project_log_v1.sql"

# state_digest values the code of bf39179 computed for this database
DIGEST_OPENED = "4249e425db830736cbcdb46f2e433f8f74ba188e"
DIGEST_ALL_UNDONE = "5318d14881283d374dc44ba6823107faca3cd765"
DIGEST_ALL_REDONE = "31a2a09ac3b2e9ff81ee86edd9f0459d2d13a7fa"
# command kinds added after that database was written (schema version 3: absent marks)
NEWER_KINDS = {"set_absent"}


@pytest.fixture
def old_project(tmp_path):
    drive = make_fake_drive(tmp_path / "drive", n_frames=4, labels=True)
    folder = tmp_path / "project"
    folder.mkdir()
    con = sqlite3.connect(folder / DB_NAME)
    con.executescript(DUMP.read_text(encoding="utf-8"))
    con.close()
    shutil.copyfile(DEFAULT_PATH, folder / ONTOLOGY_NAME)
    with Project.open(folder, drive_path=drive) as project:
        yield project


def stored_payloads(project: Project) -> list[tuple[int, str, str, str, str]]:
    return project.store._db().execute(
        "SELECT id, kind, description, payload, state FROM commands ORDER BY id").fetchall()


def test_old_database_opens_with_the_same_state_and_every_kind(old_project):
    doc = old_project.document
    assert state_digest(doc) == DIGEST_OPENED
    rows = stored_payloads(old_project)
    assert {kind for _, kind, _, _, _ in rows} == set(COMMANDS) - NEWER_KINDS
    assert doc.undo_text() == "Mark frame 2 done" and doc.redo_text() == "Delete track track-9 from frame 2"


def test_logged_commands_serialise_back_byte_identical(old_project):
    rows = stored_payloads(old_project)
    log = old_project.store.command_log()
    assert len(log) == len(rows) == 14
    for (log_id, kind, description, payload, state), (cid, cstate, cmd) in zip(rows, log):
        assert (cid, cstate, cmd.kind, cmd.description) == (log_id, state, kind, description)
        assert cmd.is_bound and not cmd.is_noop
        assert cmd.to_json() == payload, kind


def test_old_log_undoes_and_redoes_to_the_old_states(old_project):
    doc = old_project.document
    undone = 0
    while doc.can_undo:
        doc.undo()
        undone += 1
    assert undone == 13 and len(doc) == 0 and state_digest(doc) == DIGEST_ALL_UNDONE
    while doc.can_redo:
        doc.redo()
    assert state_digest(doc) == DIGEST_ALL_REDONE


BOX = Cuboid((5.0, 1.0, -0.5), (4.2, 1.8, 1.5), 0.3)
BOX_JSON = '{"center":[5.0,1.0,-0.5],"size":[4.2,1.8,1.5],"yaw":0.3,"pitch":0.0,"roll":0.0}'

# (command, its JSON as the code of bf39179 wrote it, is_bound, is_noop)
UNBOUND_AND_BOUND = [
    (CreateCuboid(0, CuboidLabel(BOX, "car")),
     '{"type":"create","frame":0,"label":{"box":' + BOX_JSON + ',"label":"car","track_id":null,"score":null,'
     '"source":"human","attributes":{}},"uid":null,"seq":null}', False, False),
    (DeleteCuboids("abc"), '{"type":"delete","uids":["abc"],"before":[]}', False, False),
    (DeleteCuboids(()), '{"type":"delete","uids":[],"before":[]}', True, True),
    (SetBox("u", BOX), '{"type":"set_box","uid":"u","box":' + BOX_JSON + ',"description":"Move","before":null}',
     False, False),
    (SetBox("u", BOX, "Rotate", BOX),
     '{"type":"set_box","uid":"u","box":' + BOX_JSON + ',"description":"Rotate","before":' + BOX_JSON + '}',
     True, True),
    (SetClass("u", "car"), '{"type":"set_class","uid":"u","cls":"car","before":null}', False, False),
    (SetClass("u", "car", "car"), '{"type":"set_class","uid":"u","cls":"car","before":"car"}', True, True),
    (SetClass("u", "van", "car"), '{"type":"set_class","uid":"u","cls":"van","before":"car"}', True, False),
    (SetAttributes("u", {"a": 1, "b": None}),
     '{"type":"set_attributes","uid":"u","attributes":{"a":1,"b":null},"before":null}', False, False),
    (SetAttributes("u", {"a": 1}, {"a": 1}),
     '{"type":"set_attributes","uid":"u","attributes":{"a":1},"before":{"a":1}}', True, True),
    (SetAttributes("u", {"a": None}, {}),
     '{"type":"set_attributes","uid":"u","attributes":{"a":null},"before":{}}', True, True),
    (SetAttributes("u", {"a": 2}, {"a": 1}),
     '{"type":"set_attributes","uid":"u","attributes":{"a":2},"before":{"a":1}}', True, False),
    (SetTrack("u", 5), '{"type":"set_track","uid":"u","track_id":"5","before":null}', False, False),
    (SetTrack("u", "5", ""), '{"type":"set_track","uid":"u","track_id":"5","before":""}', True, False),
    (SetTrack("u", "5", "5"), '{"type":"set_track","uid":"u","track_id":"5","before":"5"}', True, True),
    (CopyToFrame("u", 2),
     '{"type":"copy_to_frame","uids":["u"],"target_frame":2,"T_target_source":null,"created":null}', False, False),
    (CopyToFrame("u", 2, created=()),
     '{"type":"copy_to_frame","uids":["u"],"target_frame":2,"T_target_source":null,"created":[]}', True, True),
    (DeleteTrackFrom(3, 1), '{"type":"delete_track_from","track_id":"3","frame":1,"before":null}', False, False),
    (DeleteTrackFrom("3", 1, ()), '{"type":"delete_track_from","track_id":"3","frame":1,"before":[]}', True, True),
    (AcceptPrelabel(["a", "b"]), '{"type":"accept_prelabel","uids":["a","b"],"before":null}', False, False),
    (AcceptPrelabel(["a"], ()), '{"type":"accept_prelabel","uids":["a"],"before":[]}', True, True),
    (SetFrameStatus(1, "in_progress"),
     '{"type":"set_frame_status","frame":1,"status":"in_progress","before":null}', False, False),
    (SetFrameStatus(1, "done", "done"),
     '{"type":"set_frame_status","frame":1,"status":"done","before":"done"}', True, True),
    (SetFrameStatus(1, "done", "new"),
     '{"type":"set_frame_status","frame":1,"status":"done","before":"new"}', True, False),
    (Batch([SetClass("u", "van")], "X"),
     '{"type":"batch","commands":[{"type":"set_class","uid":"u","cls":"van","before":null}],"description":"X"}',
     False, False),
]


@pytest.mark.parametrize("cmd, text, bound, noop", UNBOUND_AND_BOUND, ids=lambda v: getattr(v, "kind", None))
def test_json_form_and_flags_unchanged(cmd, text, bound, noop):
    assert cmd.to_json() == text
    again = command_from_json(text)
    assert again == cmd and again.to_json() == text
    assert (cmd.is_bound, cmd.is_noop) == (bound, noop)


def test_old_database_is_migrated_and_takes_absent_marks(old_project, tmp_path):
    """Opened for writing, the old database gains the absent-mark table (schema version 3) in
    place (and the waivers table of version 4); a mark made then survives reopening, and undo takes it back."""
    from fusionlabel.model import edit_actions as ea
    from fusionlabel.store.db import SCHEMA_VERSION

    con = old_project.store._db()
    assert json_value(con, "schema_version") == SCHEMA_VERSION == 4
    doc = old_project.document
    ann = next(a for a in doc.all_annotations() if a.track_id is not None)
    doc.apply(ea.mark_absent(doc, [ann.uid]))
    assert doc.is_absent(ann.track_id, ann.frame) and ann.uid not in doc
    assert con.execute("SELECT track_id, frame FROM track_absent").fetchall() == [(ann.track_id, ann.frame)]
    old_project.close()
    with Project.open(old_project.folder, drive_path=tmp_path / "drive") as again:
        assert again.document.absent_frames(ann.track_id) == [ann.frame]
        again.document.undo()
        assert not again.document.is_absent(ann.track_id, ann.frame) and ann.uid in again.document


def test_old_database_is_migrated_and_takes_waivers(old_project, tmp_path):
    """The version-1 database, opened for writing, holds waivers that survive reopening."""
    from fusionlabel.model.waiver import Waiver

    waiver = Waiver("0123abcd", "track-end", "track 3", ("000002",), "returns beyond its end", "a parked trailer",
                    "qa", 1_700_000_000_000_000)
    assert old_project.store.waivers() == []
    old_project.store.put_waivers([waiver])
    old_project.close()
    with Project.open(old_project.folder, drive_path=tmp_path / "drive") as again:
        assert again.store.waivers() == [waiver]


def json_value(con, key: str):
    import json
    return json.loads(con.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()[0])
