"""Project store: reopen with history, the database itself, locking, moved/changed drives, kill -9."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from fusionlabel.errors import DriveError
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.io.drives import open_drive
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model.commands import CreateCuboid, SetBox, SetFrameStatus, merged
from fusionlabel.model.document import DocState, Document, ReadOnlyError
from fusionlabel.model.ontology import Ontology, OntologyError
from fusionlabel.store import (Project, ProjectError, StoreClosedError, StoreError, default_project_folder,
                               is_project)
from fusionlabel.store import project as project_module
from fusionlabel.store.crash_writer import run_edits, state_digest
from fusionlabel.store.db import _annotation_from_row
from fusionlabel.store.fake_drive import make_fake_drive

REPO = Path(__file__).resolve().parents[1]
N_FRAMES = 6


@pytest.fixture
def drive(tmp_path):
    return make_fake_drive(tmp_path / "drive", N_FRAMES, labels=True)


@pytest.fixture
def project(tmp_path, drive):
    p = Project.create(tmp_path / "proj", drive)
    yield p
    p.close()


def table_annotations(db: Path) -> dict:
    """Annotations read straight from the SQLite file, by uid (independent of ProjectStore)."""
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT uid, frame, seq, track_id, class, source, score, cx, cy, cz, length, width, height, "
                           "yaw, pitch, roll, attributes FROM annotations").fetchall()
    finally:
        con.close()
    return {r[0]: (_annotation_from_row(r), r[2]) for r in rows}


def replayed(store, n_frames) -> dict:
    """Replay the 'done' commands of the log, in order, on an empty state."""
    state = DocState(n_frames, None)
    for _, _, cmd in store.command_log(("done",)):
        cmd.do(state)
    return {u: (a, state.seq[u]) for u, a in state.anns.items()}


def memory(doc: Document) -> dict:
    return {u: (a, doc.state.seq[u]) for u, a in doc.state.anns.items()}


def test_reopen_gives_the_same_state_and_undo_still_works(project, tmp_path):
    doc = project.document
    run_edits(doc, seed=5, steps=200)
    digest, history, redo = state_digest(doc), doc.history(), doc.redo_text()
    assert len(history) > 50
    doc.undo()
    after_undo = state_digest(doc)
    doc.redo()
    project.close()

    with Project.open(tmp_path / "proj") as again:
        d = again.document
        assert state_digest(d) == digest
        assert d.history() == history and d.redo_text() == redo
        assert d.undo().description == history[-1]            # Ctrl+Z works after reopening
        assert state_digest(d) == after_undo
    with Project.open(tmp_path / "proj") as third:              # ... and the undo itself was saved
        assert state_digest(third.document) == after_undo
        assert third.document.redo_text() == history[-1]
        third.document.redo()
        assert state_digest(third.document) == digest
        while third.document.can_undo:
            third.document.undo()
        assert len(third.document) == 0


def test_database_tables_hold_exactly_the_document(project):
    doc = project.document
    run_edits(doc, seed=9, steps=150)
    db = project.folder / "project.sqlite"
    assert table_annotations(db) == memory(doc)
    assert replayed(project.store, doc.n_frames) == memory(doc)     # the log replays to the table
    con = sqlite3.connect(db)
    statuses = dict(con.execute("SELECT frame, status FROM frame_status").fetchall())
    done = con.execute("SELECT count(*) FROM commands WHERE state='done'").fetchone()[0]
    actions = con.execute("SELECT action, count(*) FROM history GROUP BY action").fetchall()
    con.close()
    assert statuses == {f: s for f, s in enumerate(doc.frame_statuses()) if s != "new"}
    assert done == len(doc.history())
    assert {a for a, _ in actions} <= {"apply", "undo", "redo"} and sum(n for _, n in actions) >= 150 * 0.5


def test_wal_and_synchronous_full(project):
    con = project.store._con
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA synchronous").fetchone()[0] == 2          # FULL
    header = (project.folder / "project.sqlite").read_bytes()[:20]
    assert header[:16] == b"SQLite format 3\x00" and header[18] == header[19] == 2   # WAL file format


def test_one_edit_is_one_transaction(project):
    statements = []
    project.store._con.set_trace_callback(statements.append)
    doc = project.document
    bound = doc.apply(CreateCuboid(0, CuboidLabel(Cuboid((1, 2, 0), (4, 2, 1.5)), "car")))
    doc.apply(SetBox(bound.uid, bound.label.box.with_(yaw=1.0), "Rotate"))
    doc.undo()
    doc.redo()
    project.store._con.set_trace_callback(None)
    begins = [s for s in statements if s.startswith("BEGIN")]
    commits = [s for s in statements if s == "COMMIT"]
    assert begins == ["BEGIN IMMEDIATE"] * 4 and len(commits) == 4
    # every write happened between a BEGIN and its COMMIT
    depth = 0
    for s in statements:
        depth += s.startswith("BEGIN") - (s == "COMMIT")
        if s.split()[0] in ("INSERT", "UPDATE", "DELETE"):
            assert depth == 1, s


def test_folded_nudges_are_one_logged_step_saved_at_every_press(project, tmp_path):
    """Folding a nudge into the last step (Document.apply's merge) is one transaction per press:
    the log row is rewritten, the table holds the box shown, the history gets one more apply; a
    fold back to the start discards the row. Reopened, the step undoes in one go."""
    doc = project.document
    made = doc.apply(CreateCuboid(0, CuboidLabel(Cuboid((1, 2, 0), (4, 2, 1.5)), "car")))
    start = doc.get(made.uid).box

    def nudge(dx):
        box = doc.get(made.uid).box
        doc.apply(SetBox(made.uid, box.with_(center=(box.center[0] + dx, *box.center[1:])), "Nudge"),
                  merge=lambda last, step: merged(last, step, "Nudge") if last.description == "Nudge" else None)

    statements = []
    project.store._con.set_trace_callback(statements.append)
    for k in range(5):
        nudge(0.05)
        assert table_annotations(project.folder / "project.sqlite")[made.uid][0] == doc.get(made.uid)
    project.store._con.set_trace_callback(None)
    assert [s for s in statements if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE"] * 5
    assert replayed(project.store, N_FRAMES) == memory(doc)
    log = project.store.command_log()
    assert [(state, cmd.description) for _, state, cmd in log] == [("done", "Create car"), ("done", "Nudge")]
    con = sqlite3.connect(project.folder / "project.sqlite")
    applies = con.execute("SELECT count(*) FROM history WHERE action='apply' AND command_id=?",
                          (log[1][0],)).fetchone()[0]
    con.close()
    assert applies == 5                                  # the audit trail keeps every press
    moved = doc.get(made.uid).box
    project.close()
    with Project.open(tmp_path / "proj") as again:
        d = again.document
        assert d.get(made.uid).box == moved and d.history() == ["Create car", "Nudge"]
        d.undo()
        assert d.get(made.uid).box == start
    with Project.open(tmp_path / "proj") as third:
        doc = third.document
        doc.redo()
        nudge(0.05)                                      # a redone step takes no more folds
        assert doc.history() == ["Create car", "Nudge", "Nudge"]
        nudge(-0.05)                                     # folded back to nothing: the row is discarded
        assert doc.history() == ["Create car", "Nudge"]
        assert [s for _, s, _ in third.store.command_log()] == ["done", "done", "discarded"]
        assert replayed(third.store, N_FRAMES) == memory(doc)


def test_second_instance_is_read_only_and_says_so(project, tmp_path):
    doc = project.document
    bound = doc.apply(CreateCuboid(0, CuboidLabel(Cuboid((1, 2, 0), (4, 2, 1.5)), "car")))
    second = Project.open(tmp_path / "proj")
    try:
        assert second.read_only and not project.read_only
        # this same process holds the lock: said so, not "another fusionlabel process"
        assert second.read_only_reason == (f"project {project.folder} is already open in this process (another "
                                           "window, or an open not closed yet); opened read-only")
        assert second.held_here and not second.held_elsewhere
        assert second.read_only_reason in second.warnings
        assert state_digest(second.document) == state_digest(doc)
        for edit in (lambda: second.document.apply(SetFrameStatus(0, "done")), second.document.undo):
            with pytest.raises(ReadOnlyError, match="already open in this process"):
                edit()
        second.set_setting("current_frame", 3)                     # kept in memory, not written
        assert second.get_setting("current_frame") == 3 and project.get_setting("current_frame") is None
        assert second.refresh() is False                           # nothing new yet
        changes = []
        second.document.subscribe(changes.append)
        doc.apply(SetBox(bound.uid, bound.label.box.with_(yaw=2.0)))
        assert second.refresh() is True                            # picks up the writer's edits
        assert state_digest(second.document) == state_digest(doc)
        assert changes[-1].reason == "reload" and bound.uid in changes[-1].uids
        assert second.refresh() is False and project.refresh() is False   # own commits are not news
    finally:
        second.close()
    project.close()
    with Project.open(tmp_path / "proj") as third:                 # lock released: writable again
        assert not third.read_only and third.warnings == []


def _run(code: str, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True,
                          timeout=120, cwd=REPO)


OPEN_AND_REPORT = """
import json, sys
from fusionlabel.store import Project
p = Project.open(sys.argv[1])
print(json.dumps({"read_only": p.read_only, "reason": p.read_only_reason}))
"""


def test_other_process_opens_read_only(project):
    out = _run(OPEN_AND_REPORT, project.folder)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["read_only"] is True and f"pid {os.getpid()}" in info["reason"]
    assert info["reason"].startswith(f"another fusionlabel process has project {project.folder} open (pid ")


def test_lock_dies_with_a_killed_process(tmp_path, drive):
    Project.create(tmp_path / "proj", drive).close()
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom fusionlabel.store import Project\n"
                               "p = Project.open(sys.argv[1]); print(p.read_only, flush=True); time.sleep(600)",
                               str(tmp_path / "proj")], stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert holder.stdout.readline().strip() == "False"
        with Project.open(tmp_path / "proj") as p:
            assert p.read_only and f"pid {holder.pid}" in p.read_only_reason
            assert p.held_elsewhere and not p.held_here
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    with Project.open(tmp_path / "proj") as p:
        assert not p.read_only


def test_settings_persist(project, tmp_path):
    project.set_setting("current_frame", 4)
    project.set_setting("view", {"color_by": "intensity", "point_size": 2.5, "layers": ["points", "boxes"]})
    project.close()
    with Project.open(tmp_path / "proj") as p:
        assert p.get_setting("current_frame") == 4 and p.get_setting("missing", "x") == "x"
        assert p.settings == {"current_frame": 4, "view": {"color_by": "intensity", "point_size": 2.5,
                                                           "layers": ["points", "boxes"]}}
        with pytest.raises(TypeError):
            p.set_setting("bad", object())


def test_drive_moved_gives_a_clear_error_and_can_be_relinked(project, tmp_path, drive):
    project.document.apply(CreateCuboid(1, CuboidLabel(Cuboid((1, 2, 0), (4, 2, 1.5)), "car")))
    project.close()
    moved = tmp_path / "elsewhere" / "drive"
    moved.parent.mkdir()
    drive.rename(moved)
    with pytest.raises(DriveError) as info:
        Project.open(tmp_path / "proj")
    message = str(info.value)
    assert str(drive) in message and "not there" in message
    assert f"fusionlabel project relink {tmp_path / 'proj'} NEW_DRIVE" in message
    with Project.open_or_create_for_drive(moved, tmp_path / "proj") as p:   # what `fusionlabel open` does
        assert len(p.document) == 1 and p.drive.root == moved
    with Project.open(tmp_path / "proj") as p:                     # the new place was remembered
        assert p.drive.root == moved


def test_a_new_project_starts_with_the_drive_labels_and_undo_stops_above_them(tmp_path, drive):
    """The labels a project is made with are its starting point, not an edit: undo stops above
    them, also after reopening; the edits made since undo and redo as before."""
    expected = sum(len(open_drive(drive).labels(i)) for i in range(N_FRAMES))
    assert expected > 0
    start = [f"Import {expected} labels from the drive"]
    with Project.open_or_create_for_drive(drive, tmp_path / "proj") as p:
        doc = p.document
        assert len(doc) == expected and doc.history() == start == doc.starting_point()
        assert not doc.can_undo and doc.undo_text() == "" and doc.undo() is None and len(doc) == expected
        mine = doc.apply(CreateCuboid(1, CuboidLabel(Cuboid((40, 2, 0), (4, 2, 1.5)), "car")))
        assert doc.undo_text() == "Create car" and doc.undo() is not None and mine.uid not in doc
        assert doc.undo() is None and len(doc) == expected and doc.redo_text() == "Create car"
        doc.redo()
    with Project.open(tmp_path / "proj") as p:
        doc = p.document
        assert len(doc) == expected + 1 and doc.starting_point() == start
        assert doc.undo() is not None and doc.undo() is None
        assert len(doc) == expected and not doc.can_undo and doc.can_redo


def test_the_import_that_finishes_an_interrupted_creation_is_the_starting_point(tmp_path, drive):
    """A creation cut short after importing some frames, finished by importing every frame: both
    imports are the starting point. A later import (Ctrl+I) stays one undo step."""
    folder = tmp_path / "proj"
    with Project.create(folder, drive) as p:
        first = p.import_drive_labels(frames=[0, 1], progress=False).created
    con = sqlite3.connect(folder / "project.sqlite")
    con.execute("INSERT INTO meta VALUES ('creating', 'true')")    # as a killed creation leaves it
    con.commit()
    con.close()
    with Project.open(folder, unfinished_ok=True) as p:
        rest = p.import_drive_labels(progress=False).created
        assert first > 0 and rest > 0 and not p.store.incomplete()
    with Project.open(folder) as p:
        doc = p.document
        assert doc.starting_point() == [f"Import {first} labels from the drive", f"Import {rest} labels from the drive"]
        assert doc.undo() is None and len(doc) == first + rest
    with Project.create(tmp_path / "later", drive) as p:          # made empty, labels imported later
        p.import_drive_labels(progress=False)
        assert p.document.starting_point() == [] and p.document.undo() is not None and len(p.document) == 0


def test_project_inside_the_drive_moves_with_it(tmp_path, drive):
    with Project.open_or_create_for_drive(drive, import_labels=False) as p:
        assert p.folder == drive / ".fusionlabel-project"
        p.document.apply(CreateCuboid(2, CuboidLabel(Cuboid((1, 2, 0), (4, 2, 1.5)), "van")))
    moved = tmp_path / "renamed"
    drive.rename(moved)
    with Project.open(moved / ".fusionlabel-project") as p:         # found through the relative path
        assert p.drive.root == moved and [a.cls for a in p.document.annotations(2)] == ["van"]
    with Project.open_or_create_for_drive(moved) as p:             # the drive path finds its project
        assert len(p.document) == 1
    with Project.open_or_create_for_drive(moved / ".fusionlabel-project") as p:   # a project path too
        assert len(p.document) == 1


def test_changed_drive_is_refused(project, tmp_path, drive):
    project.close()
    sweep = drive / "velodyne" / "000002.bin"
    np.zeros((10, 4), np.float32).tofile(sweep)
    with pytest.raises(ProjectError, match=r"frame '000002': sweep had \d+ bytes, now 160 bytes"):
        Project.open(tmp_path / "proj")
    sweep.unlink()
    (drive / "calib" / "000002.txt").unlink()
    with pytest.raises(ProjectError, match="it had 6 frames, now 5"):
        Project.open(tmp_path / "proj")
    other = make_fake_drive(tmp_path / "other", N_FRAMES, seed=3)
    with pytest.raises(ProjectError, match="not the drive the project was made for"):
        Project.open(tmp_path / "proj", drive_path=other)


def test_broken_project_ontology_falls_back_and_says_so(project, tmp_path):
    project.close()
    (tmp_path / "proj" / "ontology.yaml").write_text("classes:\n  car: {color: [1, 2], default_size: [1, 1, 1]}\n")
    with Project.open(tmp_path / "proj") as p:
        assert len(p.warnings) == 1
        assert "ontology.yaml: classes.car.color" in p.warnings[0] and "built-in ontology" in p.warnings[0]
        assert p.ontology == Ontology.default()
        p.document.apply(CreateCuboid(0, CuboidLabel(Cuboid((1, 2, 0), (4, 2, 1.5)), "car")))   # still works


def test_custom_ontology(tmp_path, drive):
    path = tmp_path / "mine.yaml"
    path.write_text("classes:\n  sign: {key: s, color: '#00ff00', default_size: [0.1, 0.8, 0.8]}\n")
    with Project.create(tmp_path / "proj", drive, ontology_path=path) as p:
        assert p.ontology.names == ["sign"] and p.ontology_path.read_text() == path.read_text()
        with pytest.raises(Exception, match="unknown class 'car'"):
            p.document.apply(CreateCuboid(0, CuboidLabel(Cuboid((1, 2, 0), (4, 2, 1.5)), "car")))
    path.write_text("classes: [sign]\n")
    with pytest.raises(OntologyError, match="mine.yaml: classes"):
        Project.create(tmp_path / "proj2", drive, ontology_path=path)
    assert not (tmp_path / "proj2").exists()


def test_read_only_drive_gets_a_user_folder(tmp_path, drive, monkeypatch):
    monkeypatch.setattr(project_module, "_folder_writable", lambda folder: False)
    monkeypatch.setenv("FUSIONLABEL_PROJECTS_DIR", str(tmp_path / "user"))
    folder = default_project_folder(drive)
    assert folder.parent == tmp_path / "user" and folder.name.startswith("drive-")
    with Project.open_or_create_for_drive(drive, import_labels=False) as p:
        assert p.folder == folder
        p.document.apply(CreateCuboid(0, CuboidLabel(Cuboid((1, 2, 0), (4, 2, 1.5)), "car")))
    with Project.open_or_create_for_drive(drive) as p:
        assert len(p.document) == 1
    assert not (drive / ".fusionlabel-project").exists()
    monkeypatch.delenv("FUSIONLABEL_PROJECTS_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_project_folder(drive).parent == tmp_path / "xdg" / "fusionlabel" / "projects"


def test_bad_project_folders(tmp_path, drive, project):
    with pytest.raises(ProjectError, match="not a fusionlabel project: no project.sqlite"):
        Project.open(tmp_path)
    with pytest.raises(ProjectError, match="already holds a project"):
        Project.create(tmp_path / "proj", drive)
    with pytest.raises(DriveError, match="no such file or folder"):
        Project.create(tmp_path / "p2", tmp_path / "nothing")
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "project.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a fusionlabel project database"):
        Project.open(garbage)
    project.close()
    con = sqlite3.connect(tmp_path / "proj" / "project.sqlite")
    con.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="schema version 99 is not supported"):
        Project.open(tmp_path / "proj")


def test_closed_project_refuses_edits(project):
    project.close()
    with pytest.raises(StoreClosedError, match="is closed"):
        project.document.apply(CreateCuboid(0, CuboidLabel(Cuboid((1, 2, 0), (4, 2, 1.5)), "car")))
    assert len(project.document) == 0


def test_import_drive_labels(tmp_path, drive):
    with Project.create(tmp_path / "proj", drive, import_labels=True) as p:
        doc = p.document
        assert doc.history() == ["Import 12 labels from the drive"]
        assert [a.cls for a in doc.annotations(0)] == ["car", "pedestrian"]          # DontCare skipped
        assert all(a.source == "import" for a in doc.all_annotations())
        assert len(set(doc.track_ids())) == 12
        assert doc.annotations(3)[0].box == open_drive(drive).labels(3)[0].box
        assert doc.undo() is None and len(doc) == 12                       # the project's starting point


def test_import_real_kitti_labels(kitti_object, tmp_path):
    drive = open_drive(kitti_object)
    with Project.create(tmp_path / "proj", kitti_object) as p:
        report = p.import_drive_labels()
        expected = [(i, lab) for i in range(len(drive)) for lab in drive.labels(i)]
        assert report.created == len(expected) == len(p.document) and not report.errors
        for i in range(len(drive)):
            got = p.document.annotations(i)
            want = drive.labels(i)
            assert [a.box for a in got] == [lab.box for lab in want]
            assert [a.cls for a in got] == [p.ontology.resolve(lab.label) for lab in want]
        digest = state_digest(p.document)
    with Project.open(tmp_path / "proj") as p:
        assert state_digest(p.document) == digest and p.drive.root == kitti_object


@pytest.mark.parametrize("seed, with_digest", [(101, True), (202, False), (303, False), (404, False)])
def test_kill_9_mid_stream_loses_nothing_committed(tmp_path, seed, with_digest):
    """A child applies edits and prints after each commit; we SIGKILL it at a random moment.
    Every reported step must be in the database, at most one unreported step beyond it, and
    the file must pass integrity_check. Without digests the child spends most of its time
    committing, so the kill usually lands inside a transaction."""
    drive = make_fake_drive(tmp_path / "drive", N_FRAMES)
    Project.create(tmp_path / "proj", drive).close()
    stderr = (tmp_path / "stderr.txt").open("w")
    child = subprocess.Popen([sys.executable, "-m", "fusionlabel.store.crash_writer", str(tmp_path / "proj"),
                              "--seed", str(seed), "--steps", "1000000"] + ["--digest"] * with_digest,
                             stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=REPO)
    try:
        ready = child.stdout.readline()
        assert ready.startswith("READY"), (tmp_path / "stderr.txt").read_text()
        time.sleep(random.Random(seed).uniform(0.3, 1.5))
    finally:
        child.send_signal(signal.SIGKILL)
        rest = child.stdout.read()
        child.wait(timeout=30)
        stderr.close()
    assert child.returncode == -signal.SIGKILL
    lines = rest.split("\n")[:-1]                       # a torn last line (no newline) is not a report
    reports = [json.loads(line) for line in lines]
    assert len(reports) >= 5, "the child was killed before it got going"
    k = reports[-1]["step"]
    assert [r["step"] for r in reports] == list(range(k + 1))

    expected = run_edits(Document(N_FRAMES, Ontology.default()), seed, k + 2)
    if with_digest:
        assert [r["digest"] for r in reports] == expected[:k + 1]
    with Project.open(tmp_path / "proj") as p:
        assert not p.read_only                          # the child's lock died with it
        assert p.integrity_check() == "ok"
        digest = state_digest(p.document)
        assert digest in (expected[k], expected[k + 1]), f"state after step {k} not found"
        assert replayed(p.store, N_FRAMES) == memory(p.document)
        assert table_annotations(p.folder / "project.sqlite") == memory(p.document)
        if p.document.can_undo:                         # and it keeps working
            p.document.undo()
            p.document.redo()
            assert state_digest(p.document) == digest


def test_open_project_or_drive(tmp_path, drive):
    with project_module.open_project_or_drive(drive) as p:
        folder = p.folder
    with project_module.open_project_or_drive(folder) as p:
        assert p.folder == folder
    with pytest.raises(ProjectError, match="no such file or folder"):
        project_module.open_project_or_drive(tmp_path / "missing")


def test_copy_of_project_and_drive_elsewhere(tmp_path, drive):
    """Copying a drive with its embedded project (e.g. to another disk) keeps everything."""
    with Project.open_or_create_for_drive(drive) as p:
        run_edits(p.document, seed=1, steps=60)
        digest = state_digest(p.document)
    copy = tmp_path / "copy"
    shutil.copytree(drive, copy)
    with Project.open_or_create_for_drive(copy) as p:
        assert state_digest(p.document) == digest and p.drive.root == copy
    with Project.open(copy / ".fusionlabel-project") as p:     # the copy's own drive, not the original
        assert p.drive.root == copy


def test_open_read_only_on_request_leaves_the_project_free(project, tmp_path):
    project.document.apply(SetFrameStatus(1, "done"))
    project.close()
    with Project.open(tmp_path / "proj", read_only=True) as reader:
        assert reader.read_only and reader.read_only_reason == "opened read-only on request"
        assert reader.warnings == [] and reader.document.frame_status(1) == "done"
        with pytest.raises(ReadOnlyError, match="opened read-only on request"):
            reader.document.apply(SetFrameStatus(2, "done"))
        with Project.open(tmp_path / "proj") as writer:          # an editor can still open it for writing
            assert not writer.read_only
            writer.document.apply(SetFrameStatus(2, "done"))
        reader.document.reload()
        assert reader.document.frame_statuses()[:3] == ["new", "done", "done"]


def test_schema_1_project_is_migrated_when_opened_for_writing(tmp_path):
    """The frozen schema-1 database: read-only it is read as it is (no scene, no absent marks);
    opened for writing it gains drive.scene (version 2), the absent-mark table (version 3) and the
    waivers table (version 4) in one transaction, with every row kept."""
    from fusionlabel.model.ontology import DEFAULT_PATH

    drive = make_fake_drive(tmp_path / "drive", n_frames=4, labels=True)
    folder = tmp_path / "project"
    folder.mkdir()
    db = folder / "project.sqlite"
    con = sqlite3.connect(db)
    con.executescript((Path(__file__).parent / "data" / "project_log_v1.sql").read_text(encoding="utf-8"))
    con.close()
    shutil.copyfile(DEFAULT_PATH, folder / "ontology.yaml")

    def schema() -> tuple[str, list[str], int]:
        con = sqlite3.connect(db)
        try:
            version = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
            columns = [r[1] for r in con.execute("PRAGMA table_info(drive)")]
            return version, columns, con.execute("SELECT count(*) FROM commands").fetchone()[0]
        finally:
            con.close()

    with Project.open(folder, drive_path=drive, read_only=True) as p:
        assert p.store.schema_version == 1 and p.store.drive_record().scene is None
        state = memory(p.document)
    assert schema() == ("1", ["id", "path", "relpath", "name", "n_frames", "frame_ids", "lidar_sizes", "samples"], 14)
    with Project.open(folder, drive_path=drive) as p:
        assert p.store.schema_version == 4 and memory(p.document) == state
        assert p.store.drive_record().scene is None and p.integrity_check() == "ok"
        assert p.store.drive_record().path == str(drive)          # relinked on the way
    version, columns, n_commands = schema()
    assert version == "4" and columns[-1] == "scene" and n_commands == 14
    con = sqlite3.connect(db)
    try:
        assert [r[1] for r in con.execute("PRAGMA table_info(track_absent)")] == ["track_id", "frame", "changed_us"]
        assert con.execute("SELECT count(*) FROM waivers").fetchone() == (0,)
    finally:
        con.close()


# ---------------------------------------------------------------- label import: aliases and skipped classes
def _add_label_lines(drive: Path, frames, line: str) -> None:
    for i in frames:
        path = drive / "label_2" / f"{i:06d}.txt"
        path.write_text(path.read_text() + line)


def test_import_names_the_skipped_classes_with_counts(tmp_path, drive):
    """Unknown classes are skipped, but never silently: one warning names each with its count."""
    hover = "Hoverboard 0.00 0 0.10 700.0 140.0 730.0 240.0 1.20 0.50 0.90 3.00 1.70 9.00 0.10\n"
    _add_label_lines(drive, range(3), hover)
    _add_label_lines(drive, [4], hover.replace("Hoverboard", "Segway"))
    _add_label_lines(drive, [1, 2], hover.replace("Hoverboard", "Scooter").replace(" 3.00 ", " -4.00 "))
    with Project.create(tmp_path / "proj", drive, import_labels=True) as p:
        assert len(p.warnings) == 1, p.warnings
        text = p.warnings[0]
        assert "Hoverboard (3)" in text and "Segway (1)" in text and "skipped 4 drive labels" in text
        assert text.index("Hoverboard") < text.index("Segway")                       # most first
        assert f"imported {2 * N_FRAMES + 2} labels" in text and len(p.document) == 2 * N_FRAMES + 2
        scooters = [a for a in p.document.all_annotations() if a.cls == "motorcycle"]
        assert len(scooters) == 2 and all(a.attributes["with_rider"] is False for a in scooters)
        report = p.import_drive_labels()        # Ctrl+I again: nothing new, the same skipped classes
        assert report.skipped_classes == {"Hoverboard": 3, "Segway": 1}
        assert report.problems() == [report.summary()] and report.created == 0
        assert report.summary() == (f"imported 0 new labels from the drive; {2 * N_FRAMES + 2} already in the "
                                    "project; " + text.split("; ", 1)[1])
    with Project.open(tmp_path / "proj") as p:
        assert p.warnings == []                                 # said once, when the import happened


def test_import_report_leaves_dontcare_regions_out_of_the_warning():
    report = project_module.ImportReport(None, created=5, skipped_classes=Counter(DontCare=4, Tram2=1))
    assert report.problems() == ["imported 5 labels from the drive; skipped 1 drive label of classes the "
                                 "ontology does not know: Tram2 (1); to keep them, add these names as aliases "
                                 "in the project's ontology.yaml"]
    assert project_module.ImportReport(None, 5, Counter(DontCare=4)).problems() == []


def test_import_without_unknown_classes_warns_nothing(tmp_path, drive):
    with Project.create(tmp_path / "proj", drive, import_labels=True) as p:
        assert p.warnings == [] and len(p.document) == 2 * N_FRAMES     # only DontCare was skipped


def test_import_reports_unreadable_label_files(tmp_path, drive):
    (drive / "label_2" / "000003.txt").write_text("Car 0 0 nonsense\n")
    with Project.create(tmp_path / "proj", drive, import_labels=True) as p:
        assert len(p.warnings) == 1 and p.warnings[0].startswith("1 label file not read: ")
        assert "000003.txt" in p.warnings[0]
        assert len(p.document) == 2 * (N_FRAMES - 1)


def test_import_real_sustech_labels_keeps_riders_and_motors(realdata, tmp_path):
    """SUSTech's Rider and Motor labels (18 of the 87 boxes) map to cyclist and riderless motorcycle."""
    from fusionlabel.qa.datasets import read_sustech_labels

    root = realdata / "sustech_sequence"
    if not (root / "label").is_dir():
        pytest.skip(f"SUSTech sample not found at {root}")
    raw = [lab for f in sorted((root / "label").glob("*.json")) for lab in read_sustech_labels(f)]
    kinds = {lab.label for lab in raw}
    assert {"Rider", "Motor"} <= kinds
    with Project.create(tmp_path / "proj", root, import_labels=True) as p:
        assert p.warnings == [] and len(p.document) == len(raw)
        anns = list(p.document.all_annotations())
        counts = {c: sum(a.cls == c for a in anns) for c in ("cyclist", "motorcycle")}
        assert counts == {"cyclist": sum(lab.label == "Rider" for lab in raw),
                          "motorcycle": sum(lab.label == "Motor" for lab in raw)}
        assert all(a.attributes["with_rider"] is (a.cls == "cyclist") for a in anns if "with_rider" in a.attributes)
        # a project made with the old ontology (no SUSTech aliases) says what it skipped
        import yaml

        old = yaml.safe_load(Ontology.default().to_yaml())
        for cls in ("cyclist", "motorcycle"):
            old["classes"][cls]["aliases"] = old["classes"][cls]["aliases"][:2]
        (tmp_path / "old.yaml").write_text(yaml.safe_dump(old))
    with Project.create(tmp_path / "proj_old", root, ontology_path=tmp_path / "old.yaml", import_labels=True) as p:
        n_rider = sum(lab.label == "Rider" for lab in raw)
        n_motor = sum(lab.label == "Motor" for lab in raw)
        assert len(p.warnings) == 1 and f"Rider ({n_rider}), Motor ({n_motor})" in p.warnings[0]
        assert len(p.document) == len(raw) - n_rider - n_motor


def test_drive_folder_without_write_bits_is_read_only_even_for_root(tmp_path, drive, monkeypatch):
    """``chmod a-w`` on the drive folder: its project goes to the user folder, also when running as
    root (who could write there anyway); the drive folder gets nothing."""
    monkeypatch.setenv("FUSIONLABEL_PROJECTS_DIR", str(tmp_path / "user"))
    mode = drive.stat().st_mode
    drive.chmod(mode & ~0o222)
    try:
        folder = default_project_folder(drive)
        assert folder.parent == tmp_path / "user"
        with Project.open_or_create_for_drive(drive, import_labels=False) as p:
            assert p.folder == folder
        assert not (drive / ".fusionlabel-project").exists()
    finally:
        drive.chmod(mode)
    assert default_project_folder(drive) == drive.absolute() / ".fusionlabel-project"


def test_database_is_written_aside_and_renamed_into_place(tmp_path, drive):
    """The database appears under its name only once its schema is committed: a leftover of a
    creation killed earlier (``project.sqlite.creating``) is no project, and is replaced."""
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "project.sqlite.creating").write_bytes(b"half a database" * 50)
    (folder / "project.sqlite.creating-journal").write_bytes(b"x")
    assert not is_project(folder)
    with Project.create(folder, drive, import_labels=True) as p:
        assert len(p.document) > 0 and not p.store.incomplete()
    assert sorted(f.name for f in folder.iterdir() if "creating" in f.name) == []
    with Project.open(folder) as p:
        assert p.integrity_check() == "ok" and p.store.incomplete() is False


def test_unfinished_project_that_was_edited_counts_as_in_use(tmp_path, drive):
    """A project still marked unfinished but edited since (by a fusionlabel that knows no such
    mark) opens as usual and is never replaced by a new creation."""
    from fusionlabel.store.db import ProjectStore
    from fusionlabel.store.project import interrupted_creation

    folder = tmp_path / "proj"
    with Project.create(folder, drive) as p:
        p.document.apply(CreateCuboid(1, CuboidLabel(Cuboid((1, 2, 0), (4, 2, 1.5)), "car")))
    con = sqlite3.connect(folder / "project.sqlite")
    con.execute("INSERT INTO meta VALUES ('creating', 'true')")
    con.commit()
    con.close()
    store = ProjectStore(folder / "project.sqlite", read_only=True)
    assert not store.incomplete()
    store.close()
    assert not interrupted_creation(folder)
    with pytest.raises(ProjectError, match="already holds a project"):
        Project.create(folder, drive, import_labels=True)
    with Project.open(folder) as p:
        assert len(p.document) == 1


def test_unfinished_project_finished_meanwhile_is_left_alone(tmp_path, drive, monkeypatch):
    """A creation that found an unfinished project but, once it holds the lock, finds it finished
    (by the process that held it) refuses and removes nothing."""
    folder = tmp_path / "proj"
    with Project.create(folder, drive, import_labels=True) as p:
        n = len(p.document)
    answers = iter([True, False])     # unfinished when first looked at, finished under the lock
    monkeypatch.setattr(project_module, "interrupted_creation", lambda f: next(answers))
    with pytest.raises(ProjectError, match="already holds a project"):
        Project.create(folder, drive, import_labels=True)
    with Project.open(folder) as p:
        assert len(p.document) == n
