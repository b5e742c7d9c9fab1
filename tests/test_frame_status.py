"""An edit of a done or reviewed frame sends it back to in progress, in the same undo step, whatever
made the edit (model/frame_status.py); undo brings both the edit and the status back."""

from __future__ import annotations

import pytest

from fusionlabel.assist import prelabel_project as prelabel_project_module
from fusionlabel.assist.detector import Detector, detection
from fusionlabel.assist.prelabel_project import prelabel_project, write_to_project
from fusionlabel.cli.main import main
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.model import edit_actions as ea
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model.commands import (AcceptPrelabel, Batch, CopyToFrame, CreateCuboid, DeleteCuboids,
                                        DeleteTrackFrom, SetAbsent, SetAttributes, SetBox, SetClass,
                                        SetFrameStatus, SetTrack)
from fusionlabel.model.document import Document
from fusionlabel.model.frame_status import reopened_text
from fusionlabel.model.ontology import Ontology
from fusionlabel.store import Project
from fusionlabel.store.fake_drive import make_fake_drive


def car(x=0.0, track=None, source="human", score=None):
    return CuboidLabel(Cuboid((x, 0.0, -1.0), (4.0, 2.0, 1.5)), "car", track, score, source)


def snapshot(doc) -> dict:
    return {a.uid: (a.frame, a.label) for a in doc.all_annotations()}


@pytest.fixture
def doc():
    """Frames 0 and 1 each hold car 7 and a pre-label; frame 0 is reviewed, frame 1 done."""
    d = Document(5, Ontology.default())
    for f in (0, 1):
        d.apply(CreateCuboid(f, car(5.0, track="7")))
        d.apply(CreateCuboid(f, car(20.0, source="model", score=0.6)))
    d.apply(SetFrameStatus(0, "reviewed"))
    d.apply(SetFrameStatus(1, "done"))
    return d


def tracked(doc, frame=0):
    return doc.find_track("7", frame)


def prelabel(doc, frame=0):
    return next(a for a in doc.annotations(frame) if a.source == "model")


EDITS = {   # every kind of command that changes what a frame holds, made in frame 0
    "create": lambda d: CreateCuboid(0, car(-10.0)),
    "move": lambda d: SetBox(tracked(d).uid, tracked(d).box.with_(center=(6.0, 0.0, -1.0)), "Move"),
    "delete": lambda d: DeleteCuboids((tracked(d).uid,)),
    "retype": lambda d: SetClass(tracked(d).uid, "van"),
    "attribute": lambda d: SetAttributes(tracked(d).uid, {"occlusion": "mostly"}),
    "track": lambda d: SetTrack(tracked(d).uid, "99"),
    "accept pre-label": lambda d: AcceptPrelabel((prelabel(d).uid,)),
    "absent mark": lambda d: SetAbsent("9", 0),
    "copy into it": lambda d: CopyToFrame((prelabel(d, 2).uid,), 0) if d.annotations(2) else None,
    "delete track from here": lambda d: DeleteTrackFrom("7", 0),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edit_of_a_reviewed_frame_reopens_it_in_the_same_undo_step(doc, edit):
    if edit == "copy into it":
        doc.apply(CreateCuboid(2, car(30.0, source="model", score=0.5)))
    seen = []
    doc.subscribe(seen.append)
    before, history = snapshot(doc), doc.history()
    cmd = EDITS[edit](doc)
    doc.apply(cmd)
    assert doc.frame_status(0) == "in_progress" and len(doc.history()) == len(history) + 1
    also = {1: "done"} if edit == "delete track from here" else {}      # track 7 goes from frame 1 too
    assert seen[-1].reopened == {0: "reviewed", **also} and 0 in seen[-1].status_frames
    doc.undo()      # one step takes back the edit and the status
    assert snapshot(doc) == before and doc.frame_status(0) == "reviewed" and doc.history() == history
    doc.redo()
    assert doc.frame_status(0) == "in_progress"


def test_only_the_frames_edited_are_reopened_and_a_status_set_by_the_command_stands(doc):
    doc.apply(CopyToFrame((tracked(doc, 1).uid,), 3))       # frame 1 is only read
    assert doc.frame_status(1) == "done" and doc.frame_status(3) == "new"   # a new frame: the app starts it
    doc.apply(SetFrameStatus(1, "reviewed"))                # a status change edits nothing
    assert doc.frame_status(1) == "reviewed"
    uid = tracked(doc, 1).uid
    doc.apply(Batch((SetBox(uid, tracked(doc, 1).box.with_(yaw=0.3), "Move"), SetFrameStatus(1, "done")), "Fix"))
    assert doc.frame_status(1) == "done"


def test_a_track_wide_edit_reopens_every_frame_it_changes(doc):
    seen = []
    doc.subscribe(seen.append)
    doc.apply(Batch(tuple(SetClass(tracked(doc, f).uid, "van") for f in (0, 1)), "Retype track 7"))
    assert doc.frame_statuses()[:2] == ["in_progress", "in_progress"]
    assert seen[-1].reopened == {0: "reviewed", 1: "done"}
    doc.undo()
    assert doc.frame_statuses()[:2] == ["reviewed", "done"]


def test_a_key_run_folded_back_to_where_it_started_gives_the_status_back(doc):
    """The app's merge of key nudges: the follow-up that puts the frame's status back wins."""
    uid, box = tracked(doc).uid, tracked(doc).box
    first = doc.apply(SetBox(uid, box.with_(center=(5.5, 0.0, -1.0)), "Nudge"))
    assert first is not None and doc.frame_status(0) == "in_progress"
    from fusionlabel.model.commands import merged

    doc.apply(SetBox(uid, box, "Nudge"), merge=lambda last, step: merged(last, step, "Nudge ×2"),
              follow_up=lambda frames: ea.set_frame_status(doc, 0, "reviewed"))
    assert doc.frame_status(0) == "reviewed" and doc.history()[-1] == "Mark frame 1 done"   # no step left


def test_reopened_text():
    assert reopened_text({3: "reviewed"}, lambda i: f"{i:06d}") == "frame 000003 was reviewed; back to in progress"
    assert reopened_text({4: "done", 3: "reviewed", 9: "done"}, lambda i: f"{i:06d}") == (
        "3 frames were done or reviewed (000003, 000004, 000009); back to in progress")


def test_the_reopened_status_is_saved_and_so_is_its_undo(tmp_path):
    drive = make_fake_drive(tmp_path / "drive", 3)
    with Project.create(tmp_path / "proj", drive) as p:
        uid = p.document.apply(CreateCuboid(0, car())).uid
        p.document.apply(SetFrameStatus(0, "reviewed"))
        p.document.apply(DeleteCuboids((uid,)))
    with Project.open(tmp_path / "proj") as p:
        assert p.document.frame_status(0) == "in_progress" and len(p.document) == 0
        p.document.undo()
    with Project.open(tmp_path / "proj") as p:
        assert p.document.frame_status(0) == "reviewed" and len(p.document) == 1


# ------------------------------------------------------------------ headless runs
def test_pre_labels_and_imported_labels_reopen_the_frames_they_land_in(tmp_path):
    drive = make_fake_drive(tmp_path / "drive", 4, labels=True)
    with Project.create(tmp_path / "proj", drive) as p:
        doc = p.document
        for f, status in ((0, "reviewed"), (1, "done"), (2, "done")):
            doc.apply(SetFrameStatus(f, status))
        write_to_project(p, [0], [[car(-15.0, source="model", score=0.8)]])
        assert doc.frame_statuses() == ["in_progress", "done", "done", "new"]
        p.import_drive_labels(frames=[1, 3], progress=False)
        assert doc.frame_statuses() == ["in_progress", "in_progress", "done", "new"]   # frame 3 stays new
        doc.undo()
        assert doc.frame_status(1) == "done"


class _OneCarEachFrame(Detector):
    name = "one-car"

    def detect_frame(self, drive, index):
        return [detection(Cuboid((-15.0, 3.0, -1.0), (4.0, 2.0, 1.5)), "car", 0.9)]


def test_a_run_stored_batch_by_batch_over_finished_frames_is_one_undo_step(tmp_path, monkeypatch):
    monkeypatch.setattr(prelabel_project_module, "BATCH_SECONDS", 0.0)     # a batch per frame
    drive = make_fake_drive(tmp_path / "drive", 3)
    with Project.create(tmp_path / "proj", drive) as p:
        doc = p.document
        doc.apply(SetFrameStatus(0, "done"))
        doc.apply(SetFrameStatus(1, "reviewed"))
        history = doc.history()
        prelabel_project(p, _OneCarEachFrame(), progress=False)
        assert len(doc.history()) == len(history) + 1 and len(doc) == 3
        assert doc.frame_statuses() == ["in_progress", "in_progress", "new"]
        doc.undo()
        assert doc.frame_statuses() == ["done", "reviewed", "new"] and len(doc) == 0


def test_the_cli_says_which_frames_a_run_reopened(tmp_path, capsys):
    drive = make_fake_drive(tmp_path / "drive", 3, labels=True)
    preds = tmp_path / "preds"
    preds.mkdir()
    (preds / "000001.txt").write_text("Car 0 0 0 0 0 10 10 1.5 1.8 4.2 -8.0 1.7 20.0 0.1 0.9\n")
    assert main(["project", "create", str(drive), "--out", str(tmp_path / "proj"), "--quiet"]) == 0
    with Project.open(tmp_path / "proj") as p:
        p.document.apply(SetFrameStatus(0, "done"))
        p.document.apply(SetFrameStatus(1, "reviewed"))
    capsys.readouterr()
    assert main(["prelabel", str(tmp_path / "proj"), "--detector", f"predictions:{preds}", "--quiet"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "frame 000001 was reviewed; back to in progress"
    assert main(["project", "import-labels", str(tmp_path / "proj"), "--quiet"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "frame 000000 was done; back to in progress"
    with Project.open(tmp_path / "proj", read_only=True) as p:
        assert p.document.frame_statuses() == ["in_progress", "in_progress", "new"]
