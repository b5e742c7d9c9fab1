"""`fusionlabel prelabel`: runs on KITTI folders and native drives, marks model output, keeps human work.

Running it again on the same output folder or project follows the rule of the app's Ctrl+P
(fusionlabel.assist.prelabel.merge_prelabels): human and imported labels and pre-labels the
annotator touched stay, untouched pre-labels of the earlier run are replaced."""

import json

import numpy as np
import pytest

from fusionlabel.assist.prelabel import RECORD_DIR, merge_prelabels
from fusionlabel.cli.main import main
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.io.native import labels_to_json, read_labels
from fusionlabel.model.annotation import CuboidLabel


@pytest.fixture(scope="module")
def sim_drive(tmp_path_factory):
    from fusionlabel.sim.writer import simulate_drive

    out = tmp_path_factory.mktemp("sim") / "drive"
    simulate_drive(out, frames=5, seed=2, points=40_000, cameras=False, progress=False)
    return out


def test_prelabel_native_drive_with_tracking(sim_drive, tmp_path, capsys):
    out = tmp_path / "pre"
    assert main(["prelabel", str(sim_drive), "--track", "--out", str(out), "--quiet"]) == 0
    msg = capsys.readouterr().out
    assert "pre-labels" in msg and "5 frames" in msg
    files = sorted(out.glob("*.json"))
    assert [f.stem for f in files] == [f"{i:06d}" for i in range(5)]
    labels = [read_labels(f) for f in files]
    assert sum(map(len, labels)) > 0
    for frame in labels:
        for lb in frame:
            assert lb.source == "model" and 0.3 <= lb.score <= 1 and lb.track_id.startswith("p")
    # the same object keeps its id: some track ids appear in several frames
    ids = [lb.track_id for frame in labels for lb in frame]
    assert max(ids.count(i) for i in set(ids)) >= 3
    # ground truth of the simulated drive: most cars are pre-labelled
    from fusionlabel.geometry.iou import bev_iou
    from fusionlabel.io.drives import open_drive

    drive = open_drive(sim_drive)
    cars = [(i, g) for i in range(5) for g in drive.labels(i)
            if g.label == "car" and g.attributes["num_lidar_points"] >= 100 and np.hypot(*g.box.center[:2]) < 40]
    hit = sum(any(bev_iou(p.box, g.box) >= 0.5 for p in labels[i]) for i, g in cars)
    assert cars and hit / len(cars) >= 0.7


def test_prelabel_never_overwrites_human_labels(sim_drive, tmp_path):
    from fusionlabel.io.drives import open_drive

    drive = open_drive(sim_drive)
    out = tmp_path / "pre"
    out.mkdir()
    gt = [g for g in drive.labels(0) if g.attributes["num_lidar_points"] >= 200]
    human = CuboidLabel(gt[0].box, "Car", "h1", None, "human", {"note": "checked"})
    # A model label that no run of ours recorded (written by hand or by another tool): it may be
    # someone's work, so it is kept like human work.
    foreign = CuboidLabel(Cuboid((90.0, 90.0, 0.0), (4, 2, 1.5)), "Car", None, 0.5, "model")
    (out / "000000.json").write_text(labels_to_json("000000", [human, foreign]))
    assert main(["prelabel", str(sim_drive), "--out", str(out), "--frames", "0:2", "--quiet"]) == 0
    labels = read_labels(out / "000000.json")
    assert labels[:2] == [human, foreign]                       # unchanged, first
    assert len(labels) > 2 and all(lb.source == "model" for lb in labels[2:])
    from fusionlabel.geometry.iou import bev_iou

    assert all(bev_iou(lb.box, human.box) <= 0.1 for lb in labels[2:])              # no duplicate over human work
    assert not (out / "000002.json").exists()
    assert sorted(p.name for p in (out / RECORD_DIR).iterdir()) == ["000000.json", "000001.json"]


def test_merge_prelabels_rule():
    human = CuboidLabel(Cuboid((10, 0, 0), (4, 2, 1.5)), "Car", "1", None, "human")
    imported = CuboidLabel(Cuboid((20, 0, 0), (4, 2, 1.5)), "Car", "2", None, "import")
    old = CuboidLabel(Cuboid((30, 0, 0), (4, 2, 1.5)), "Car", None, 0.4, "model")
    edited = CuboidLabel(Cuboid((40, 0, 0), (4, 2, 1.5)), "Car", None, 0.4, "model")
    new = [CuboidLabel(Cuboid((10.3, 0.1, 0), (4, 2, 1.5)), "Car", None, 0.9, "model"),      # on the human box
           CuboidLabel(Cuboid((30.2, 0, 0), (4, 2, 1.5)), "Car", None, 0.8, "model"),        # replaces old
           CuboidLabel(Cuboid((30.4, 0, 0), (4, 2, 1.5)), "Car", None, 0.7, "model"),        # on the one before
           CuboidLabel(Cuboid((20, 0, 0), (0.5, 0.5, 1.5)), "Pedestrian", None, 0.8, "model"),  # inside imported
           CuboidLabel(Cuboid((40.5, 0, 0), (4, 2, 1.5)), "Car", None, 0.8, "model"),        # on the edited one
           CuboidLabel(Cuboid((50, 0, 0), (4, 2, 1.5)), "Car", None, 0.6, "model")]
    # "untouched" only ever releases model labels: a human label flagged untouched stays
    merge = merge_prelabels([human, imported, old, edited], [True, False, True, False], new)
    assert merge.keep == [0, 1, 3] and merge.replace == [2]
    assert merge.add == [new[1], new[5]] and merge.dropped == 4 and merge.again == []
    # An untouched pre-label found again exactly stays (with its track); a tracked repeat replaces it.
    same = old.with_(track_id="7")
    merge = merge_prelabels([human, same], [False, True], [old.with_(track_id=None), new[5]])
    assert merge.keep == [0, 1] and merge.replace == [] and merge.again == [1] and merge.add == [new[5]]
    merge = merge_prelabels([human, same], [False, True], [old.with_(track_id="p1")])
    assert merge.keep == [0] and merge.replace == [1] and merge.again == [] and len(merge.add) == 1
    with pytest.raises(ValueError):
        merge_prelabels([human], [], new)


@pytest.mark.realdata
def test_prelabel_kitti_folder_in_kitti_format(kitti_object, tmp_path, capsys):
    out = tmp_path / "k"
    assert main(["prelabel", str(kitti_object.parent), "--out", str(out), "--format", "kitti", "--quiet"]) == 0
    files = sorted(out.glob("*.txt"))
    assert [f.stem for f in files] == ["000000", "000001", "000002", "000134"]
    lines = (out / "000134.txt").read_text().splitlines()
    assert lines and all(len(line.split()) == 16 and 0.3 <= float(line.split()[15]) <= 1 for line in lines)
    # the written file reads back through the predictions detector and scores against GT
    assert main(["eval", "--pred", str(out), "--gt", str(kitti_object), "--json"]) == 0
    printed = capsys.readouterr().out
    report = json.loads(printed[printed.index("{"):])      # after prelabel's summary line
    assert report["classes"]["pedestrian"]["tp"] >= 3


def test_prelabel_errors_are_one_line(tmp_path, capsys):
    assert main(["prelabel", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err
    (tmp_path / "d").mkdir()
    assert main(["prelabel", str(tmp_path / "d"), "--out", str(tmp_path / "o")]) == 2
    assert "unrecognised drive layout" in capsys.readouterr().err
    assert main(["prelabel", str(tmp_path / "d")]) == 2
    assert "--out" in capsys.readouterr().err


def test_prelabel_bad_detector_spec(sim_drive, tmp_path, capsys):
    assert main(["prelabel", str(sim_drive), "--out", str(tmp_path / "o"), "--detector", "magic"]) == 2
    assert "--detector" in capsys.readouterr().err
    assert main(["prelabel", str(sim_drive), "--out", str(tmp_path / "o"), "--frames", "9:12"]) == 2
    assert "--frames" in capsys.readouterr().err


def test_prelabel_into_a_project_is_one_undoable_edit_that_spares_human_labels(sim_drive, tmp_path, capsys):
    store = pytest.importorskip("fusionlabel.store.project")
    folder = tmp_path / "proj"
    with store.Project.create(folder, sim_drive) as project:
        gt = [g for g in project.drive.labels(1) if g.attributes["num_lidar_points"] >= 200]
        from fusionlabel.model.commands import CreateCuboid

        project.document.apply(CreateCuboid(1, CuboidLabel(gt[0].box, "car", None, None, "human")))
        human = project.document.annotations(1)[0]
    assert main(["prelabel", str(folder), "--track", "--frames", "0:3", "--quiet"]) == 0
    assert "one undoable edit" in capsys.readouterr().out
    # The same detector again finds the same boxes: nothing to change, nothing recorded.
    assert main(["prelabel", str(folder), "--track", "--frames", "0:3", "--quiet"]) == 0
    assert "no change" in capsys.readouterr().out
    with store.Project.open(folder) as project:
        doc = project.document
        anns = [a for i in range(3) for a in doc.annotations(i)]
        model = [a for a in anns if a.source == "model"]
        assert model and all(a.score >= 0.5 and a.track_id for a in model)
        assert doc.get(human.uid).label == human.label                      # the human box is untouched
        from fusionlabel.geometry.iou import bev_iou

        assert all(bev_iou(a.box, human.box) <= 0.1 for a in model if a.frame == 1)
        history = doc.history()
        assert sum("Pre-label" in h for h in history) == 1 and history[-1].startswith("Pre-label 3 frames (builtin)")
        doc.undo()                                                          # no pre-labels at all
        assert [a.uid for i in range(3) for a in doc.annotations(i)] == [human.uid]


# ------------------------------------------------------------------ re-running on earlier pre-labels
@pytest.fixture(scope="module")
def cam_drive():
    """A small simulated drive with cameras (KITTI-format predictions need a camera frame)."""
    from fusionlabel.app import testing
    from fusionlabel.io.drives import open_drive

    return open_drive(testing.small_drive())


def separated(drive, frame: int, n: int) -> list[CuboidLabel]:
    """``n`` ground-truth objects of a frame, each more than 4 m from every other object."""
    labels = drive.labels(frame)
    out = [g for g in labels if np.hypot(*g.box.center[:2]) < 40
           and min(np.hypot(*np.subtract(g.box.center[:2], o.box.center[:2])) for o in labels if o is not g) > 4]
    assert len(out) >= n
    return out[:n]


def predictions(folder, drive, labels, score: float, shift: float = 0.0):
    """A folder of KITTI prediction files for frame 0: ``labels`` moved ``shift`` m along x."""
    from fusionlabel.assist.predictions import write_kitti_predictions

    folder.mkdir()
    boxes = [g.with_(box=g.box.with_(center=np.add(g.box.center, [shift, 0, 0])), score=score, source="model",
                     track_id=None, attributes={}) for g in labels]
    write_kitti_predictions(folder / f"{drive.frames[0].frame_id}.txt", boxes, drive, 0)
    return f"predictions:{folder}"


def nearest(labels, target) -> int:
    return int(np.argmin([np.hypot(*np.subtract(lb.box.center[:2], target.box.center[:2])) for lb in labels]))


def moved(label, dx: float = 0.4):
    return label.with_(box=label.box.with_(center=np.add(label.box.center, [dx, 0, 0])))


def test_rerun_into_an_output_folder_replaces_only_untouched_prelabels(cam_drive, tmp_path, capsys):
    drive, objs = cam_drive, separated(cam_drive, 0, 8)
    out = tmp_path / "out"

    def run(detector):
        assert main(["prelabel", str(drive.root), "--detector", detector, "--out", str(out), "--frames", "0:1",
                     "--quiet"]) == 0
        return capsys.readouterr().out

    run(predictions(tmp_path / "p1", drive, objs[:7], 0.8))
    file = out / "000000.json"
    first = read_labels(file)
    assert len(first) == 7 and all(lb.source == "model" and lb.score == 0.8 for lb in first)
    first = [first[nearest(first, g)] for g in objs[:7]]
    # The annotator works on the file: moves a pre-label, gives one an attribute, accepts one
    # (source human), draws a box of their own.
    edited = [moved(first[0]), first[1].with_(attributes={"occluded": 1}), first[2].with_(source="human", score=None)]
    human = CuboidLabel(objs[7].box, "car", None, None, "human")
    file.write_text(labels_to_json("000000", [*edited, *first[3:], human]))
    # A better detector: every object, 0.2 m further, score 0.9.
    msg = run(predictions(tmp_path / "p2", drive, objs, 0.9, shift=0.2))
    after = read_labels(file)
    assert after[:4] == [*edited, human]                        # kept unchanged, in their order
    new = after[4:]
    assert len(new) == 4 and all(lb.source == "model" and lb.score == 0.9 for lb in new)
    assert sorted(nearest(objs, lb) for lb in new) == [3, 4, 5, 6]     # the untouched ones, replaced
    for lb in new:
        assert abs(lb.box.center[0] - objs[nearest(objs, lb)].box.center[0] - 0.2) < 1e-3
    assert "replaced 4 untouched pre-labels" in msg
    assert "kept 2 human or imported labels and 2 edited pre-labels\nskipped 4 new pre-labels" in msg
    # Once more with the same detector: the file does not change.
    text = file.read_text()
    assert "no change" in run(predictions(tmp_path / "p3", drive, objs, 0.9, shift=0.2))
    assert file.read_text() == text
    # And they are still known as untouched: the next detector replaces them.
    run(predictions(tmp_path / "p4", drive, objs, 0.7))
    after = read_labels(file)
    assert after[:4] == [*edited, human] and [lb.score for lb in after[4:]] == [0.7] * 4


def test_rerun_into_a_kitti_output_folder_keeps_a_moved_prelabel(cam_drive, tmp_path):
    from fusionlabel.assist.predictions import T_rect_lidar, read_kitti_predictions, write_kitti_predictions

    drive, objs = cam_drive, separated(cam_drive, 0, 4)
    out = tmp_path / "out"

    def run(detector):
        assert main(["prelabel", str(drive.root), "--detector", detector, "--out", str(out), "--frames", "0:1",
                     "--format", "kitti", "--quiet"]) == 0
        return read_kitti_predictions(out / "000000.txt", T_rect_lidar(drive, 0))

    first = run(predictions(tmp_path / "p1", drive, objs, 0.8))
    assert len(first) == 4
    touched = first[nearest(first, objs[0])]
    write_kitti_predictions(out / "000000.txt", [moved(touched, 0.5), *(lb for lb in first if lb is not touched)],
                            drive, 0)
    after = run(predictions(tmp_path / "p2", drive, objs, 0.6))
    assert len(after) == 4 and after[0].score == 0.8            # the moved one, kept first
    assert abs(after[0].box.center[0] - touched.box.center[0] - 0.5) < 1e-3
    assert [lb.score for lb in after[1:]] == [0.6] * 3 and sorted(nearest(objs, lb) for lb in after[1:]) == [1, 2, 3]


def test_rerun_into_a_project_replaces_only_untouched_prelabels(cam_drive, tmp_path, capsys):
    store = pytest.importorskip("fusionlabel.store.project")
    from fusionlabel.model.commands import AcceptPrelabel, CreateCuboid, SetAttributes, SetBox, SetClass
    from fusionlabel.model.document import annotations_equal

    drive, objs = cam_drive, separated(cam_drive, 0, 8)
    folder = tmp_path / "proj"
    store.Project.create(folder, drive.root).close()

    def run(detector):
        assert main(["prelabel", str(folder), "--detector", detector, "--frames", "0:1", "--quiet"]) == 0
        return capsys.readouterr().out

    run(predictions(tmp_path / "p1", drive, objs[:7], 0.8))
    with store.Project.open(folder) as project:
        doc = project.document
        pre = doc.annotations(0)
        assert len(pre) == 7 and all(a.source == "model" for a in pre)
        a, b, c, d, e, f, g = (pre[nearest([p.label for p in pre], o)] for o in objs[:7])
        doc.apply(SetBox(a.uid, moved(a.label).box))                   # moved
        doc.apply(SetAttributes(b.uid, {"note": "checked"}))            # given an attribute
        doc.apply(AcceptPrelabel((c.uid,)))                             # accepted: human now
        doc.apply(SetClass(d.uid, "misc"))                              # retyped
        doc.apply(SetBox(e.uid, moved(e.label).box))                    # moved, then the move undone:
        doc.undo()                                                      # untouched again
        human = doc.apply(CreateCuboid(0, CuboidLabel(objs[7].box, "car")))
        before = doc.all_annotations()
    msg = run(predictions(tmp_path / "p2", drive, objs, 0.9, shift=0.2))
    assert "replaced 3 untouched pre-labels" in msg
    with store.Project.open(folder) as project:                        # reopened: state and log from disk
        doc = project.document
        now = {x.uid: x for x in doc.annotations(0)}
        for x in (a, b, c, d, human):
            assert now[x.uid] == next(y for y in before if y.uid == x.uid)     # kept exactly
        assert not {e.uid, f.uid, g.uid} & set(now)                     # replaced
        new = [x for x in now.values() if x.uid not in {y.uid for y in before}]
        assert sorted(nearest(objs, x.label) for x in new) == [4, 5, 6]
        assert all(x.source == "model" and x.score == 0.9 for x in new)
        assert doc.history()[-1] == "Pre-label frame 000000 (predictions): 3 boxes, replacing 3"
        doc.undo()                                                       # one step back to before
        assert annotations_equal(doc.all_annotations(), before)


def test_prelabel_a_project_into_a_folder_leaves_the_project_alone(sim_drive, tmp_path, capsys):
    store = pytest.importorskip("fusionlabel.store.project")
    folder = tmp_path / "proj"
    with store.Project.create(folder, sim_drive) as project:
        before = project.document.history()
    out = tmp_path / "pre"
    assert main(["prelabel", str(folder), "--out", str(out), "--frames", "0:2", "--quiet"]) == 0
    assert f"to {out} [native]" in capsys.readouterr().out
    labels = read_labels(out / "000000.json")
    assert labels and all(lab.source == "model" and lab.score >= 0.5 for lab in labels)
    with store.Project.open(folder) as project:
        assert project.document.history() == before
