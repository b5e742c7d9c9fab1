"""`fusionlabel project status`: progress, effort and pre-label outcomes, from projects edited
through the real document and store, checked against what each test did."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time

import pytest

from fusionlabel.assist.prelabel_project import prelabel_command
from fusionlabel.cli.main import main
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model.commands import (AcceptPrelabel, CopyToFrame, CreateCuboid, DeleteCuboids, SetBox, SetClass,
                                        SetFrameStatus, command_from_json)
from fusionlabel.model.frame_status import start_frames
from fusionlabel.qa.project_status import project_status
from fusionlabel.store import db as store_db
from fusionlabel.store.fake_drive import make_fake_drive
from fusionlabel.store.project import Project
from test_cli_json import documented_keys

T0_US = 1_800_000_000 * 10**6     # the clock of the scripted session (2027-01-15)
CAP = 120.0


def box(x: float, y: float = 10.0) -> Cuboid:
    return Cuboid((x, y, -1.0), (4.0, 1.8, 1.5), 0.3)


def prelabel(x: float, y: float = 10.0) -> CuboidLabel:
    return CuboidLabel(box(x, y), "car", None, 0.8, "model")


@pytest.fixture
def clock(monkeypatch):
    """Set the store's clock: ``clock(seconds)`` makes the next commits happen T0 + seconds."""
    now = [T0_US]
    monkeypatch.setattr(store_db, "_now_us", lambda: now[0])

    def set_to(seconds: float) -> None:
        now[0] = T0_US + int(seconds * 1e6)
    return set_to


@pytest.fixture
def drive(tmp_path):
    return make_fake_drive(tmp_path / "drive", n_frames=5, labels=True)


def scripted_session(folder, drive, clock) -> list[float]:
    """Create a project with the drive's labels, then edit it as an annotator would, at known
    times, around two pre-label runs; returns the times of the annotator's actions (applies,
    undos, redos) in seconds."""
    times = []
    clock(0)
    project = Project.create(folder, drive, import_labels=True, progress=False)
    doc = project.document
    imported = {f: [a.uid for a in doc.annotations(f)] for f in range(5)}

    def at(seconds, action):
        clock(seconds)
        out = action()
        times.append(seconds)
        return out

    c1 = at(100, lambda: doc.apply(CreateCuboid(0, CuboidLabel(box(-15.0), "car")),
                                   follow_up=lambda frames: start_frames(doc, frames))).uid   # frame 0 starts
    at(110, lambda: doc.apply(SetBox(c1, box(-16.0))))
    at(500, lambda: doc.apply(SetClass(c1, "van")))                 # after 390 s idle: counts as the cap
    at(505, lambda: doc.apply(DeleteCuboids((imported[1][0],))))
    at(508, doc.undo)
    at(510, doc.redo)
    at(512, doc.undo)                                               # the delete stays undone ...
    at(515, lambda: doc.apply(SetFrameStatus(0, "done")))          # ... and is discarded by this
    at(520, lambda: doc.apply(SetFrameStatus(1, "reviewed")))
    at(530, lambda: doc.apply(SetBox(imported[1][1], box(30.0, -5.0))))   # reopens frame 1
    at(540, lambda: doc.apply(SetFrameStatus(1, "reviewed")))
    clock(600)                                                      # machine: not the annotator's time
    doc.apply(prelabel_command(doc, {2: [prelabel(x) for x in (-10.0, -20.0, -30.0, 20.0, -40.0)],
                                     3: [prelabel(-10.0)]}, "frames 2-3")[0])
    p = [a.uid for a in doc.annotations(2) if a.source == "model"]
    assert len(p) == 5
    at(610, lambda: doc.apply(AcceptPrelabel((p[0],))))            # accepted untouched
    at(620, lambda: doc.apply(SetBox(p[1], box(-21.0))))
    at(625, lambda: doc.apply(AcceptPrelabel((p[1],))))            # accepted edited
    at(630, lambda: doc.apply(SetClass(p[2], "truck")))            # edited, not accepted
    at(640, lambda: doc.apply(DeleteCuboids((p[3],))))             # deleted; p[4] waits
    clock(700)                                                      # a second run replaces frame 3's
    doc.apply(prelabel_command(doc, {3: [prelabel(-12.0, 14.0)]}, "frame 3")[0])
    at(720, lambda: doc.apply(CopyToFrame((c1,), 4)))
    at(800, lambda: doc.apply(SetFrameStatus(2, "done")))
    project.close()
    return times


def capped_sum(times: list[float], cap: float) -> float:
    return sum(min(b - a, cap) for a, b in zip(times, times[1:]))


def test_counts_and_times_are_what_the_session_did(tmp_path, drive, clock):
    folder = tmp_path / "project"
    times = scripted_session(folder, drive, clock)
    doc = project_status(folder).to_dict()
    assert doc["frames"] == 5 and doc["frame_status"] == {"new": 2, "in_progress": 0, "done": 2, "reviewed": 1}
    assert doc["finished"] == 3
    e = doc["effort"]
    assert e["edits"] == {"created": 1, "copied": 1, "deleted": 2, "box_edits": 3, "class_changes": 2,
                          "attribute_changes": 0, "track_changes": 0, "prelabels_accepted": 2, "absent_marks": 0,
                          "interpolated": 0, "propagated": 0}
    # frame 0 starting with the first edit and frame 1 reopened by one are no marks of the annotator's
    assert e["status_marks"] == {"new": 0, "in_progress": 0, "done": 2, "reviewed": 2}
    assert e["reopened_by_edits"] == 1
    assert e["machine_steps"] == {"label_imports": 1, "prelabel_runs": 2}
    assert (e["steps"], e["steps_undone"], e["undos"], e["redos"]) == (15, 1, 2, 1)
    assert e["actions"] == len(times) == 18
    assert e["active_seconds"] == pytest.approx(capped_sum(times, CAP))
    assert e["active_seconds"] < times[-1] - times[0]                # the 390 s idle gap counts 120 s
    assert e["seconds_per_finished_frame"] == pytest.approx(capped_sum(times, CAP) / 3, abs=1e-3)
    assert e["first_action"] == "2027-01-15T08:01:40Z" and e["last_action"] == "2027-01-15T08:13:20Z"
    # frame 0: create, move, retype; frame 1: the undone delete and a move; frame 2: five pre-label edits
    assert doc["finished_frames"] == [{"frame": "000000", "status": "done", "edits": 3},
                                      {"frame": "000001", "status": "reviewed", "edits": 2},
                                      {"frame": "000002", "status": "done", "edits": 5}]
    assert e["edits_in_finished_frames"] == 10 and e["edits_per_finished_frame"] == pytest.approx(10 / 3, abs=1e-3)
    assert doc["prelabels"] == {"stored": 7, "accepted_untouched": 1, "accepted_edited": 1, "edited_not_accepted": 1,
                                "waiting": 2, "deleted": 1, "replaced_by_later_run": 1}


def test_a_shorter_idle_cap_cuts_every_longer_gap(tmp_path, drive, clock, capsys):
    folder = tmp_path / "project"
    times = scripted_session(folder, drive, clock)
    assert main(["project", "status", str(folder), "--idle-cap", "4", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["idle_cap_seconds"] == 4 and doc["projects"][0]["effort"]["idle_cap_seconds"] == 4
    assert doc["projects"][0]["effort"]["active_seconds"] == pytest.approx(capped_sum(times, 4.0))


def test_real_clock_time_lies_within_the_session(tmp_path, drive):
    """Without a set clock: the active time is at most the session's length, and gaps longer than
    the cap count as the cap."""
    folder = tmp_path / "project"
    with Project.create(folder, drive, progress=False) as project:
        doc = project.document
        start = time.time()
        uid = doc.apply(CreateCuboid(0, CuboidLabel(box(-15.0), "car"))).uid
        for x in (-16.0, -17.0):
            time.sleep(0.3)
            doc.apply(SetBox(uid, box(x)))
        length = time.time() - start
    active = project_status(folder).effort.active_seconds
    assert 0.6 <= active <= length
    assert project_status(folder, idle_cap_seconds=0.25).effort.active_seconds == pytest.approx(0.5)


def test_text_output_and_the_total_of_two_projects(tmp_path, drive, clock, capsys):
    one, two = tmp_path / "one", tmp_path / "two"
    times = scripted_session(one, drive, clock)
    shutil.copytree(one, two)
    assert main(["project", "status", str(one), str(two)]) == 0
    out = capsys.readouterr().out
    assert out.count(f"project {one} (drive ") == 1 and out.count(f"project {two} (drive ") == 1
    assert "frames: 2 new, 0 in progress, 2 done, 1 reviewed (3 of 5 finished)" in out
    assert "18 actions in 15 steps (1 undone; 2 undos, 1 redo)" in out and "idle gaps capped at 120 s" in out
    assert "1 created, 1 copied, 2 deleted, 3 box edits, 2 class changes, 2 pre-labels accepted" in out
    assert "status marks: 2 done, 2 reviewed; 1 finished frame sent back to in progress by edits" in out
    assert ("pre-labels: 7 stored: 1 accepted untouched, 1 accepted edited, 1 edited not accepted, 2 waiting, "
            "1 deleted, 1 replaced by later run") in out
    total = out[out.index("total of 10 frames"):]
    assert "frames: 4 new, 0 in progress, 4 done, 2 reviewed (6 of 10 finished)" in total
    assert "36 actions in 30 steps" in total and "pre-labels: 14 stored" in total
    assert main(["project", "status", str(one), str(two), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["total"]["effort"]["active_seconds"] == pytest.approx(2 * capped_sum(times, CAP))
    assert doc["total"]["effort"]["edits_per_finished_frame"] == pytest.approx(20 / 6, abs=1e-3)


def all_keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in all_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in all_keys(v)}
    return set()


def test_every_json_key_is_documented(tmp_path, drive, clock, capsys):
    folder = tmp_path / "project"
    scripted_session(folder, drive, clock)
    assert main(["project", "status", str(folder), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"command", "idle_cap_seconds", "projects", "total"} and doc["command"] == "project status"
    assert "finished_frames" not in doc["total"] and doc["total"]["project"] is None
    assert all_keys(doc) <= documented_keys("project_store.md", "### Project status as JSON")


def test_reads_without_the_lock_or_the_drive(tmp_path, drive, clock, capsys):
    folder = tmp_path / "project"
    scripted_session(folder, drive, clock)
    with Project.open(folder) as editor:                    # an annotator has it open
        assert not editor.read_only
        assert main(["project", "status", str(folder)]) == 0
        editor.document.apply(SetFrameStatus(3, "done"))    # and keeps editing
    assert "3 of 5 finished" in capsys.readouterr().out
    shutil.move(drive, tmp_path / "elsewhere")               # the drive is not needed
    assert main(["project", "status", str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["projects"][0]["finished"] == 4


def test_bad_folders_get_one_line_naming_them(tmp_path, drive, clock, capsys):
    good, newer, empty = tmp_path / "good", tmp_path / "newer", tmp_path / "empty"
    scripted_session(good, drive, clock)
    shutil.copytree(good, newer)
    empty.mkdir()
    con = sqlite3.connect(newer / "project.sqlite")
    con.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    con.commit()
    con.close()
    for folder, says in ((empty, "not a fusionlabel project"), (newer, "schema version 99 is not supported"),
                         (tmp_path / "missing", "not a fusionlabel project")):
        assert main(["project", "status", str(good), str(folder), "--json"]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
        assert str(folder) in captured.err and says in captured.err
    with pytest.raises(SystemExit) as stop:
        main(["project", "status", str(good), "--idle-cap", "0"])
    assert stop.value.code == 2 and "expected a number of seconds above 0" in capsys.readouterr().err


def test_a_version_1_project_is_read_as_it_is(tmp_path, capsys):
    """The logged commands of every kind of the first schema (tests/data/project_log_v1.sql):
    counted, and the database is not migrated."""
    from test_command_log_compat import DUMP

    folder = tmp_path / "old"
    folder.mkdir()
    con = sqlite3.connect(folder / "project.sqlite")
    con.executescript(DUMP.read_text(encoding="utf-8"))
    con.close()
    assert main(["project", "status", str(folder), "--json"]) == 0
    e = json.loads(capsys.readouterr().out)["projects"][0]["effort"]
    # 13 edits after the import; the last one (delete track-9 from frame 2: its copy in frame 3) undone
    assert (e["steps"], e["steps_undone"], e["machine_steps"]["label_imports"]) == (13, 1, 1)
    assert e["edits"] == {"created": 2, "copied": 1, "deleted": 2, "box_edits": 2, "class_changes": 2,
                          "attribute_changes": 1, "track_changes": 1, "prelabels_accepted": 1, "absent_marks": 0,
                          "interpolated": 0, "propagated": 0}
    assert e["status_marks"] == {"new": 0, "in_progress": 1, "done": 1, "reviewed": 0}
    con = sqlite3.connect(folder / "project.sqlite")
    assert con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "1"
    con.close()


def edited_prelabel_of_an_undone_run(folder, drive, clock) -> None:
    """A project where the annotator moved a pre-label, then took back the move and the run: the
    moved cuboid is gone, only the run's own (undone) command knows its frame."""
    clock(0)
    project = Project.create(folder, drive, import_labels=True, progress=False)
    doc = project.document
    clock(10)
    doc.apply(prelabel_command(doc, {1: [prelabel(-10.0), prelabel(-20.0)]}, "frame 1")[0])
    moved = next(a.uid for a in doc.annotations(1) if a.source == "model")
    clock(20)
    doc.apply(SetBox(moved, box(-11.0)))
    clock(30)
    doc.undo()
    clock(40)
    doc.undo()
    clock(50)
    doc.apply(SetClass(doc.annotations(2)[0].uid, "van"))
    project.close()


def test_status_reads_the_database_without_building_the_document(tmp_path, drive, clock, monkeypatch):
    """The figures are those of the whole document and the whole decoded log, read without the
    document (loading it fails here) and without decoding the label import (a long drive's holds
    every label): only the annotator's steps and the pre-label runs are decoded."""
    from fusionlabel.assist.prelabel_project import prelabel_outcomes
    from fusionlabel.qa.effort import effort_from_log
    from fusionlabel.store.project import StoredProject

    scripted_session(tmp_path / "scripted", drive, clock)
    edited_prelabel_of_an_undone_run(tmp_path / "undone", drive, clock)
    expected = {}
    for name in ("scripted", "undone"):
        with StoredProject(tmp_path / name) as project:
            doc, store = project.document, project.store
            expected[name] = (doc.frame_statuses(), effort_from_log(store.command_log(), store.history_events(), CAP),
                              prelabel_outcomes(doc))
    assert expected["undone"][1].frame_edits == {1: 1, 2: 1}     # the undone move counts in frame 1

    def no_document(self):
        raise AssertionError("the whole document was loaded")
    decoded = []

    def recording(payload):
        cmd = command_from_json(payload)
        decoded.append(cmd.description)
        return cmd
    monkeypatch.setattr(store_db.ProjectStore, "load_state", no_document)
    monkeypatch.setattr(store_db, "command_from_json", recording)
    for name, (statuses, effort, prelabels) in expected.items():
        decoded.clear()
        got = project_status(tmp_path / name, CAP)
        assert got.frame_status == {s: statuses.count(s) for s in ("new", "in_progress", "done", "reviewed")}
        assert got.effort == effort and got.prelabels == prelabels
        assert decoded and not any(d.startswith("Import") for d in decoded), decoded
