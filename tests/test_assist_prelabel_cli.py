"""`fusionlabel prelabel`: runs on KITTI folders and native drives, marks model output, keeps human work.

Running it again on the same output folder or project follows the rule of the app's Ctrl+P
(fusionlabel.assist.prelabel.merge_prelabels): human and imported labels and pre-labels the
annotator touched stay, untouched pre-labels of the earlier run are replaced."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from fusionlabel.assist.prelabel import merge_prelabels
from fusionlabel.assist.prelabel_folder import RECORD_DIR
from fusionlabel.assist.prelabel_manifest import MANIFEST
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
    every = [lb for frame in labels for lb in frame]
    assert all(lb.source == "model" and 0.3 <= lb.score <= 1 for lb in every)
    # detections the tracker left out (seen too few times) stay, without a track id
    tracked = [lb for lb in every if lb.track_id is not None]
    assert all(lb.track_id.startswith("p") for lb in tracked) and len(tracked) >= 0.8 * len(every)
    # the same object keeps its id: some track ids appear in several frames
    ids = [lb.track_id for lb in tracked]
    assert max(ids.count(i) for i in set(ids)) >= 3
    # ground truth of the simulated drive: most cars are pre-labelled
    from fusionlabel.geometry.iou import bev_iou
    from fusionlabel.io.drives import open_drive

    drive = open_drive(sim_drive)
    cars = [(i, g) for i in range(5) for g in drive.labels(i)
            if g.label == "car" and g.attributes["num_lidar_points"] >= 100 and np.hypot(*g.box.center[:2]) < 40]
    hit = sum(any(bev_iou(p.box, g.box) >= 0.5 for p in labels[i]) for i, g in cars)
    assert cars and hit / len(cars) >= 0.7


def test_a_tracked_run_stops_before_detecting_on_a_damaged_label_file_of_another_frame(sim_drive, tmp_path, capsys):
    out = tmp_path / "pre"
    out.mkdir()
    (out / "000000.json").write_text('{"format": "fusionlabel-labels/1", "objects": [{"label": "Car"}]}')
    assert main(["prelabel", str(sim_drive), "--track", "--out", str(out), "--frames", "1-2", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "000000.json" in err and "objects[0]" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in out.iterdir()) == ["000000.json"]


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
    assert main(["prelabel", str(sim_drive), "--out", str(out), "--frames", "0-1", "--quiet"]) == 0
    labels = read_labels(out / "000000.json")
    assert labels[:2] == [human, foreign]                       # unchanged, first
    assert len(labels) > 2 and all(lb.source == "model" for lb in labels[2:])
    from fusionlabel.geometry.iou import bev_iou

    assert all(bev_iou(lb.box, human.box) <= 0.1 for lb in labels[2:])              # no duplicate over human work
    assert not (out / "000002.json").exists()
    assert sorted(p.name for p in (out / RECORD_DIR).iterdir()) == ["000000.json", "000001.json",
                                                                     "fusionlabel_prelabel.json"]   # + the manifest


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
    # An untouched pre-label found again exactly stays (with its track); a tracked repeat replaces
    # it unless it has the same track id (a folder's identical tracked re-run).
    same = old.with_(track_id="7")
    merge = merge_prelabels([human, same], [False, True], [old.with_(track_id=None), new[5]])
    assert merge.keep == [0, 1] and merge.replace == [] and merge.again == [1] and merge.add == [new[5]]
    merge = merge_prelabels([human, same], [False, True], [old.with_(track_id="p1")])
    assert merge.keep == [0] and merge.replace == [1] and merge.again == [] and len(merge.add) == 1
    merge = merge_prelabels([human, same], [False, True], [same])
    assert merge.keep == [0, 1] and merge.replace == [] and merge.again == [1] and merge.add == []
    with pytest.raises(ValueError):
        merge_prelabels([human], [], new)
    # A person beside a loosely boxed truck: both new, both stay (the detector's own boxes are only
    # thinned of duplicates); the same person beside a truck someone drew is not written over it.
    truck = CuboidLabel(Cuboid((60, 0, 0), (9, 2.5, 3.2)), "Truck", None, 0.9, "model")
    person = CuboidLabel(Cuboid((64, 1.0, 0), (0.6, 0.6, 1.7)), "Pedestrian", None, 0.6, "model")
    merge = merge_prelabels([], [], [truck, person])
    assert merge.add == [truck, person] and merge.dropped == 0
    merge = merge_prelabels([truck.with_(source="human", score=None)], [False], [person])
    assert merge.add == [] and merge.dropped == 1



def test_new_boxes_of_different_classes_are_two_objects_unless_nearly_one():
    """A person beside a parked bicycle (BEV IoU 0.12) is two pre-labels; the same overlap within
    one class is a duplicate; a detection the tracker left out yields to a track's box of another
    class it overlaps; two classes nearly on one footprint (a detector's per-class suppression) are
    one object."""
    from fusionlabel.geometry.iou import bev_iou

    bike = CuboidLabel(Cuboid((10, 0, -1), (1.8, 0.6, 1.1)), "Bicycle", None, 0.9, "model")
    person = CuboidLabel(Cuboid((10.65, 0.35, -0.8), (0.6, 0.6, 1.7)), "Pedestrian", None, 0.8, "model")
    assert 0.1 < bev_iou(bike.box, person.box) < 0.2
    assert merge_prelabels([], [], [bike, person]).add == [bike, person]
    assert merge_prelabels([], [], [bike, person.with_(label="Bicycle")]).add == [bike]
    tracked = bike.with_(track_id="p3")
    assert merge_prelabels([], [], [tracked, person]).add == [tracked]
    assert merge_prelabels([], [], [tracked, person.with_(track_id="p4")]).add == [tracked, person.with_(track_id="p4")]
    car = CuboidLabel(Cuboid((20, 0, -1), (4.2, 1.8, 1.5)), "Car", None, 0.9, "model")
    van = CuboidLabel(Cuboid((20.3, 0.1, -1), (4.6, 1.9, 1.9)), "Van", None, 0.7, "model")
    assert bev_iou(car.box, van.box) > 0.5
    merge = merge_prelabels([], [], [car, van])
    assert merge.add == [car] and merge.dropped == 1
    rider = CuboidLabel(Cuboid((20.5, 0.2, -1), (1.7, 0.6, 1.7)), "Cyclist", "p9", 0.6, "model")   # inside the car
    assert 0.1 < bev_iou(car.box, rider.box) < 0.5
    assert merge_prelabels([], [], [car.with_(track_id="p8"), rider]).add == [car.with_(track_id="p8")]


def test_thousands_of_new_boxes_keep_the_same_duplicates_as_box_by_box():
    """The grid lookup of placed boxes gives exactly what comparing each box with every placed one
    gives (a model without suppression can give thousands of boxes a frame)."""
    from fusionlabel.assist.prelabel import _duplicate, first_of_duplicates

    rng = np.random.default_rng(5)
    labs = [CuboidLabel(Cuboid((x, y, 0), (float(l), float(w), 1.5), yaw=float(a)),
                        ("Car", "Pedestrian", "Cyclist")[k % 3], None if k % 4 else f"p{k}", 0.5, "model")
            for k, (x, y, l, w, a) in enumerate(zip(rng.uniform(-30, 30, 1500), rng.uniform(-30, 30, 1500),
                                                     rng.uniform(0.4, 9, 1500), rng.uniform(0.4, 3, 1500),
                                                     rng.uniform(-4, 4, 1500)))]
    blocked = rng.random(1500) < 0.1
    placed: list[CuboidLabel] = []
    expected = []
    for lab, bad in zip(labs, blocked):
        ok = not bad and not any(_duplicate(p, lab) for p in placed)
        expected.append(ok)
        if ok:
            placed.append(lab)
    got = first_of_duplicates(labs, blocked)
    assert got == expected and 100 < sum(got) < 1400

@pytest.mark.realdata
def test_prelabel_kitti_folder_in_kitti_format(kitti_object, tmp_path, capsys):
    out = tmp_path / "k"
    assert main(["prelabel", str(kitti_object.parent), "--out", str(out), "--format", "kitti", "--quiet"]) == 0
    files = sorted(out.glob("*.txt"))
    assert [f.stem for f in files] == ["000000", "000001", "000002", "000134"]
    lines = (out / "000134.txt").read_text().splitlines()
    assert lines and all(len(line.split()) == 16 and 0.3 <= float(line.split()[15]) <= 1 for line in lines)
    # full sweeps (000000-000002): only boxes image_2 sees are written, each with a real 2D box
    assert "outside image_2's view" in capsys.readouterr().out
    for f in files:
        for line in f.read_text().splitlines():
            x1, y1, x2, y2 = map(float, line.split()[4:8])
            assert x2 > x1 and y2 > y1 and float(line.split()[13]) > 0      # in front of the camera
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
    assert main(["prelabel", str(sim_drive), "--out", str(tmp_path / "o"), "--frames", "9-11"]) == 2
    assert "--frames" in capsys.readouterr().err


def test_prelabel_into_a_project_is_one_undoable_edit_that_spares_human_labels(sim_drive, tmp_path, capsys):
    store = pytest.importorskip("fusionlabel.store.project")
    folder = tmp_path / "proj"
    with store.Project.create(folder, sim_drive) as project:
        gt = [g for g in project.drive.labels(1) if g.attributes["num_lidar_points"] >= 200]
        from fusionlabel.model.commands import CreateCuboid

        project.document.apply(CreateCuboid(1, CuboidLabel(gt[0].box, "car", None, None, "human")))
        human = project.document.annotations(1)[0]
    assert main(["prelabel", str(folder), "--track", "--frames", "0-2", "--quiet"]) == 0
    assert "one undoable edit" in capsys.readouterr().out
    # The same detector again finds the same boxes: nothing to change, nothing recorded.
    assert main(["prelabel", str(folder), "--track", "--frames", "0-2", "--quiet"]) == 0
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
        assert main(["prelabel", str(drive.root), "--detector", detector, "--out", str(out), "--frames", "0",
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
    assert msg.startswith("removed 4 untouched pre-labels of an earlier run and wrote 4 new pre-labels (")
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
        assert main(["prelabel", str(drive.root), "--detector", detector, "--out", str(out), "--frames", "0",
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
        assert main(["prelabel", str(folder), "--detector", detector, "--frames", "0", "--quiet"]) == 0
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
    assert msg.startswith("removed 3 untouched pre-labels of an earlier run and wrote 3 new pre-labels (")
    assert " for 1 frame in project " in msg and "(one undoable edit)" in msg
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
    assert main(["prelabel", str(folder), "--out", str(out), "--frames", "0-1", "--quiet"]) == 0
    assert f"to {out} [native]" in capsys.readouterr().out
    labels = read_labels(out / "000000.json")
    assert labels and all(lab.source == "model" and lab.score >= 0.5 for lab in labels)
    with store.Project.open(folder) as project:
        assert project.document.history() == before


# ------------------------------------------------------------------ human KITTI lines, summaries, tracks, formats
def kitti_human_lines(drive, labels) -> str:
    """Ground-truth-style KITTI lines (15 columns, two decimals, hand-made 2D boxes and alpha that
    differ from what the box projects to) plus two DontCare lines and a blank line."""
    from fusionlabel.assist.predictions import T_rect_lidar, kitti_lines

    rows = []
    for k, line in enumerate(kitti_lines(labels, T_rect_lidar(drive, 0), None, with_score=False).splitlines()):
        f = line.split()
        f[1:4] = ["0.43", "2", "-1.11"]                                   # truncated, occluded, alpha
        f[4:8] = [f"{100 + 50 * k:.2f}", "120.50", f"{140 + 50 * k:.2f}", "200.25"]
        rows.append(" ".join(f[:8] + [f"{float(v):.2f}" for v in f[8:]]))
    rows[1:1] = ["DontCare -1 -1 -10 623.97 162.02 652.39 174.14 -1 -1 -1 -1000 -1000 -1000 -10", ""]
    rows.append("DontCare -1 -1 -10 473.26 166.51 498.98 191.20 -1 -1 -1 -1000 -1000 -1000 -10")
    return "\n".join(rows) + "\n"


def test_rerun_into_a_kitti_folder_keeps_human_and_dontcare_lines_byte_for_byte(cam_drive, tmp_path, capsys):
    from fusionlabel.assist.predictions import T_rect_lidar, read_kitti_predictions

    drive, objs = cam_drive, separated(cam_drive, 0, 7)
    out = tmp_path / "out"
    out.mkdir()
    human = kitti_human_lines(drive, [g.with_(source="human", score=None) for g in objs[4:7]]).encode()
    (out / "000000.txt").write_bytes(human)

    def run(detector):
        assert main(["prelabel", str(drive.root), "--detector", detector, "--out", str(out), "--frames", "0",
                     "--format", "kitti", "--quiet"]) == 0
        return capsys.readouterr().out

    # a detector that also finds the human-labelled objects (those boxes are not written)
    msg = run(predictions(tmp_path / "p1", drive, objs, 0.8))
    data = (out / "000000.txt").read_bytes()
    assert data.startswith(human)                               # every human and DontCare byte, first
    new = read_kitti_predictions(out / "000000.txt", T_rect_lidar(drive, 0))[3:]
    assert len(new) == 4 and all(lb.score == 0.8 for lb in new) and len(data[len(human):].splitlines()) == 4
    assert "kept 3 human or imported labels" in msg
    # again with another detector: only the 4 pre-labels of the first run are rewritten
    run(predictions(tmp_path / "p2", drive, objs[:4], 0.6))
    data = (out / "000000.txt").read_bytes()
    assert data.startswith(human) and len(data[len(human):].splitlines()) == 4
    assert [lb.score for lb in read_kitti_predictions(out / "000000.txt", T_rect_lidar(drive, 0))[3:]] == [0.6] * 4
    # and once more with the same: nothing changes, the KITTI file's rounding notwithstanding
    assert "no change" in run(predictions(tmp_path / "p3", drive, objs[:4], 0.6))
    assert (out / "000000.txt").read_bytes() == data


@pytest.mark.realdata
def test_rerun_into_a_copy_of_kitti_ground_truth_keeps_it(kitti_object, tmp_path, capsys):
    out = tmp_path / "k"
    out.mkdir()
    gt = (kitti_object / "label_2" / "000134.txt").read_bytes()
    (out / "000134.txt").write_bytes(gt)
    for _ in range(2):
        assert main(["prelabel", str(kitti_object.parent), "--format", "kitti", "--out", str(out), "--frames", "3",
                     "--quiet"]) == 0
        data = (out / "000134.txt").read_bytes()
        assert data.startswith(gt) and b"DontCare" in data and b"562.59 158.20 594.85 225.88" in data
        assert all(len(line.split()) == 16 for line in data[len(gt):].decode().splitlines())
    heads = [line for line in capsys.readouterr().out.splitlines() if line.startswith(("wrote ", "no change"))]
    assert heads[0].startswith("wrote ") and heads[1].startswith("no change") and len(heads) == 2


def score_predictions(folder, drive, scored):
    """KITTI prediction files for frame 0 from (label, score) pairs."""
    from fusionlabel.assist.predictions import write_kitti_predictions

    folder.mkdir()
    write_kitti_predictions(folder / f"{drive.frames[0].frame_id}.txt",
                            [g.with_(score=s, source="model", track_id=None, attributes={}) for g, s in scored],
                            drive, 0)
    return f"predictions:{folder}"


def test_the_summary_says_what_changed(cam_drive, tmp_path, capsys):
    drive, objs = cam_drive, separated(cam_drive, 0, 7)
    out = tmp_path / "out"
    det = score_predictions(tmp_path / "p", drive, [(g, 0.8) for g in objs[:5]] + [(g, 0.55) for g in objs[5:]])
    classes = sorted({g.label for g in objs})

    def run(*extra):
        assert main(["prelabel", str(drive.root), "--detector", det, "--out", str(out), "--frames", "0",
                     "--quiet", *extra]) == 0
        return capsys.readouterr().out.splitlines()

    first = run()
    assert first[0].startswith(f"wrote 7 new pre-labels ({classes[0]} ") and " for 1 frame to " in first[0]
    assert len(first) == 1
    again = run()
    assert again[0].startswith(f"no change in {out} [native]: the detector found the same 7 pre-labels")
    assert len(again) == 1
    # a higher --min-score: 2 fewer objects, and the headline says so
    higher = run("--min-score", "0.6")
    assert higher[0].startswith(f"removed 2 untouched pre-labels of an earlier run and wrote 0 new for 1 frame in "
                                f"{out} [native]")
    assert higher[1] == "left 5 pre-labels the detector found again exactly as they were"
    assert "2 boxes scored below --min-score 0.6 were left out" in higher
    assert len(read_labels(out / "000000.json")) == 5
    lower = run("--min-score", "0.5")
    assert lower[0].startswith("wrote 2 new pre-labels (")
    assert lower[1] == "left 5 pre-labels the detector found again exactly as they were"
    # one object, moved: 1 removed, 1 new, plural-free
    det = score_predictions(tmp_path / "q", drive, [(moved(objs[0], 0.3), 0.9)])
    one = run()
    assert one[0].startswith("removed 7 untouched pre-labels of an earlier run and wrote 1 new pre-label (")
    det = score_predictions(tmp_path / "r", drive, [(moved(objs[0], 0.3), 0.9), (objs[1], 0.9)])
    two = run()
    assert two[0].startswith("wrote 1 new pre-label (")
    assert two[1] == "left 1 pre-label the detector found again exactly as it was"


def test_an_identical_tracked_rerun_into_a_folder_changes_nothing(sim_drive, tmp_path, capsys):
    out = tmp_path / "pre"
    args = ["prelabel", str(sim_drive), "--track", "--out", str(out), "--quiet"]
    assert main(args) == 0
    capsys.readouterr()
    before = {p.name: (p.stat().st_ino, p.read_bytes()) for p in sorted(out.glob("*.json"))}
    records = _record_inodes(out)
    assert main(args) == 0
    msg = capsys.readouterr().out.splitlines()
    assert msg[0].startswith(f"no change in {out} [native]") and len(msg) == 2
    assert msg[1].endswith("boxes scored below --min-score 0.5 were left out")
    assert {p.name: (p.stat().st_ino, p.read_bytes()) for p in sorted(out.glob("*.json"))} == before   # not rewritten
    assert _record_inodes(out) == records


def _record_inodes(out):
    """The inodes of a folder's per-frame records; the run's manifest beside them is rewritten by
    every run (its inode may or may not be reused, so it is left out)."""
    return {p.name: p.stat().st_ino for p in (out / RECORD_DIR).iterdir() if p.name != Path(MANIFEST).name}


def _long_track(labels_per_frame):
    ids = [lb.track_id for frame in labels_per_frame for lb in frame if lb.track_id is not None]
    best = max(set(ids), key=lambda t: (ids.count(t), t))
    assert ids.count(best) >= 3
    return best


def test_editing_one_box_of_a_track_in_a_folder_keeps_the_track_whole(sim_drive, tmp_path, capsys):
    out = tmp_path / "pre"
    args = ["prelabel", str(sim_drive), "--track", "--out", str(out), "--quiet"]
    assert main(args) == 0
    files = sorted(out.glob("*.json"))
    labels = [read_labels(f) for f in files]
    tid = _long_track(labels)
    frames = [k for k, frame in enumerate(labels) if any(lb.track_id == tid for lb in frame)]
    k = frames[len(frames) // 2]
    edited = [moved(lb) if lb.track_id == tid else lb for lb in labels[k]]
    files[k].write_text(labels_to_json(files[k].stem, edited))
    for extra in ([], ["--min-score", "0.3"]):          # the same detector, then one that finds more
        capsys.readouterr()
        assert main(args + extra) == 0
        after = [read_labels(f) for f in files]
        assert next(lb for lb in after[k] if lb.track_id == tid) == next(lb for lb in edited if lb.track_id == tid)
        for j in frames:                                  # the object keeps its id in every frame
            twin = next(lb for lb in labels[j] if lb.track_id == tid)
            near = [lb for lb in after[j] if np.hypot(*np.subtract(lb.box.center[:2], twin.box.center[:2])) < 1]
            assert [lb.track_id for lb in near] == [tid]
        if not extra:
            assert capsys.readouterr().out.startswith("no change")
            assert [read_labels(f) for j, f in enumerate(files) if j != k] == \
                [frame for j, frame in enumerate(labels) if j != k]


def test_editing_one_box_of_a_track_in_a_project_keeps_the_track_whole(sim_drive, tmp_path, capsys):
    store = pytest.importorskip("fusionlabel.store.project")
    from fusionlabel.model.commands import SetBox

    folder = tmp_path / "proj"
    store.Project.create(folder, sim_drive).close()
    assert main(["prelabel", str(folder), "--track", "--quiet"]) == 0
    with store.Project.open(folder) as project:
        doc = project.document
        anns = [doc.annotations(i) for i in range(5)]
        tid = _long_track([[a.label for a in frame] for frame in anns])
        frames = [k for k, frame in enumerate(anns) if any(a.track_id == tid for a in frame)]
        k = frames[len(frames) // 2]
        ann = next(a for a in anns[k] if a.track_id == tid)
        doc.apply(SetBox(ann.uid, moved(ann.label).box))
        objects = {j: next(a for a in anns[j] if a.track_id == tid).box for j in frames}
    capsys.readouterr()
    # a lower --min-score: the run records a change, and the object's new boxes join its track
    assert main(["prelabel", str(folder), "--track", "--min-score", "0.3", "--quiet"]) == 0
    assert "one undoable edit" in capsys.readouterr().out
    with store.Project.open(folder) as project:
        doc = project.document
        assert doc.history()[-1].startswith("Pre-label 5 frames (builtin)")
        for j in frames:
            near = [a for a in doc.annotations(j)
                    if np.hypot(*np.subtract(a.box.center[:2], objects[j].center[:2])) < 1]
            assert [a.track_id for a in near] == [tid]


def test_prelabel_inherits_the_track_of_a_kept_prelabel_in_a_document():
    """The rule itself (also the app's Ctrl+P): a new track overlapping a kept, touched pre-label of
    a track takes that track id; where the kept track already has a box, it takes no second one."""
    from fusionlabel.assist.prelabel_project import prelabel_command
    from fusionlabel.model.commands import CreateCuboid
    from fusionlabel.model.document import Document
    from fusionlabel.model.ontology import Ontology

    doc = Document(4, Ontology.default())
    car = lambda x, t=None: CuboidLabel(Cuboid((x, 0, 0), (4, 2, 1.5)), "car", t, 0.9, "model")   # noqa: E731
    # an edited pre-label of track 7 in frame 1 (not made by a pre-label command: touched)
    doc.apply(CreateCuboid(1, car(10.3, "7")))
    doc.apply(CreateCuboid(3, car(30.0, "7")))                  # track 7 also has a box in frame 3
    doc.apply(CreateCuboid(0, car(70.3, "8")))                  # track 8: frames 0 and 2
    doc.apply(CreateCuboid(2, car(90.0, "8")))
    new = {0: [car(9.0, "p1"), car(70.0, "p3")], 1: [car(10.0, "p1")],
           2: [car(11.0, "p1"), car(50.0, "p2"), car(80.0, "p3")], 3: [car(40.0, "p2")]}
    cmd, report = prelabel_command(doc, new, "4 frames")
    doc.apply(cmd)
    ids = {(a.frame, round(float(a.box.center[0]))): a.track_id for f in range(4) for a in doc.annotations(f)}
    assert ids[(0, 9)] == "7" and ids[(2, 11)] == "7" and ids[(1, 10)] == "7" and ids[(3, 30)] == "7"
    assert ids[(2, 50)] == ids[(3, 40)] not in ("7", "8")
    # p3 overlaps track 8 in frame 0 but would give it a second box in frame 2: a fresh id
    assert (0, 70) in ids and ids[(2, 80)] not in ("7", "8", ids[(2, 50)]) and ids[(2, 90)] == "8"
    assert len(doc.annotations(1)) == 1 and len(doc.annotations(0)) == 2 and report.dropped_overlap == 2


def test_prelabels_continuing_a_human_track_take_its_class():
    """The reviewer's case: the annotator accepted frame 0 of a car track and retyped it van; the
    detector still says car. Pre-labels continuing that track are van (a track is one object, one
    class); a new track nobody touched keeps the detector's class."""
    from fusionlabel.assist.prelabel_project import prelabel_command
    from fusionlabel.model.commands import CreateCuboid
    from fusionlabel.model.document import Document
    from fusionlabel.model.ontology import Ontology

    doc = Document(3, Ontology.default())
    box = lambda x: Cuboid((x, 0, 0), (4.8, 2, 1.9))                                  # noqa: E731
    doc.apply(CreateCuboid(0, CuboidLabel(box(10.0), "van", "5", None, "human")))
    new = {f: [CuboidLabel(box(10.0 + 0.4 * f), "car", "p1", 0.8, "model"),
               CuboidLabel(box(40.0), "car", "p2", 0.8, "model")] for f in range(3)}
    cmd, report = prelabel_command(doc, new, "3 frames")
    doc.apply(cmd)
    assert {f: doc.find_track("5", f).cls for f in range(3)} == {0: "van", 1: "van", 2: "van"}
    others = [a for f in range(3) for a in doc.annotations(f) if a.track_id != "5"]
    assert len(others) == 3 and {a.cls for a in others} == {"car"}
    assert report.by_class == {"van": 2, "car": 3}


def test_an_output_folder_holds_one_format(cam_drive, tmp_path, capsys):
    drive, objs = cam_drive, separated(cam_drive, 0, 3)
    det = predictions(tmp_path / "p", drive, objs, 0.8)
    out = tmp_path / "out"
    base = ["prelabel", str(drive.root), "--detector", det, "--out", str(out), "--frames", "0", "--quiet"]
    assert main(base + ["--format", "kitti"]) == 0
    capsys.readouterr()
    assert main(base) == 2                                   # native into a folder of KITTI pre-labels
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(out) in err and "KITTI" in err and "--format kitti" in err
    assert not list(out.glob("*.json"))
    other = tmp_path / "other"
    assert main(base[:5] + [str(other)] + base[6:]) == 0    # native elsewhere
    capsys.readouterr()
    assert main(base[:5] + [str(other)] + base[6:] + ["--format", "kitti"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(other) in err and "native" in err and not list(other.glob("*.txt"))


def test_min_score_and_frames_are_checked(sim_drive, tmp_path, capsys):
    out = tmp_path / "o"
    for bad in ("5", "-1", "nan"):
        assert main(["prelabel", str(sim_drive), "--out", str(out), "--min-score", bad, "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--min-score" in err and "from 0 to 1" in err
    assert not out.exists()
    assert main(["prelabel", str(sim_drive), "--out", str(out), "--frames", "2-99", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--frames" in err and "out of range" in err and not out.exists()
    assert main(["prelabel", str(sim_drive), "--out", str(out), "--frames", "2-4", "--quiet"]) == 0
    assert sorted(p.stem for p in out.glob("*.json")) == ["000002", "000003", "000004"]


def test_boxes_under_min_score_are_counted_for_a_folder_and_a_project(cam_drive, tmp_path, capsys):
    from fusionlabel.store.project import Project

    drive, objs = cam_drive, separated(cam_drive, 0, 4)
    det = score_predictions(tmp_path / "p", drive, [(objs[0], 0.9), (objs[1], 0.3), (objs[2], 0.2), (objs[3], 0.7)])
    assert main(["prelabel", str(drive.root), "--detector", det, "--out", str(tmp_path / "o"), "--frames", "0",
                 "--min-score", "0.75", "--quiet"]) == 0
    assert "3 boxes scored below --min-score 0.75 were left out" in capsys.readouterr().out.splitlines()
    folder = tmp_path / "proj"
    Project.create(folder, drive.root).close()
    assert main(["prelabel", str(folder), "--detector", det, "--frames", "0", "--quiet"]) == 0
    assert "2 boxes scored below --min-score 0.5 were left out" in capsys.readouterr().out.splitlines()
    assert main(["prelabel", str(folder), "--detector", det, "--frames", "0", "--min-score", "0.25",
                 "--quiet"]) == 0
    assert "1 box scored below --min-score 0.25 was left out" in capsys.readouterr().out.splitlines()
    assert main(["prelabel", str(folder), "--detector", det, "--frames", "0", "--min-score", "0",
                 "--quiet"]) == 0
    assert not any("--min-score" in line for line in capsys.readouterr().out.splitlines())


def test_real_pointpillars_predictions_say_how_many_boxes_were_under_min_score(kitti_object, tmp_path, capsys):
    preds = kitti_object.parent / "predictions" / "pointpillars"
    if not preds.is_dir():
        pytest.skip(f"PointPillars predictions not found at {preds}")
    scores = [float(line.split()[15]) for f in preds.glob("*.txt") for line in f.read_text().splitlines()
              if len(line.split()) == 16]
    low = sum(s < 0.5 for s in scores)
    assert main(["prelabel", str(kitti_object.parent), "--detector", f"predictions:{preds}",
                 "--out", str(tmp_path / "o"), "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert low and f"{low} boxes scored below --min-score 0.5 were left out" in lines, lines


def test_tracking_a_pose_less_drive_says_it_may_break(realdata, tmp_path, capsys):
    sus = realdata / "sustech_sequence"
    if not (sus / "lidar").is_dir():
        pytest.skip("SUSTech sample not found")
    assert main(["prelabel", str(sus), "--track", "--out", str(tmp_path / "o"), "--quiet"]) == 0
    out = capsys.readouterr().err      # notes go to stderr, as eval's do
    assert "note: tracking may break: the drive has no ego poses" in out
    # every detection is written, tracked or not (none dropped as a short track)
    labels = [lab for f in sorted((tmp_path / "o").glob("*.json")) for lab in read_labels(f)]
    assert len(labels) >= 60


def test_tracking_separate_snapshots_says_they_may_not_form_tracks(kitti_object, tmp_path, capsys):
    assert main(["prelabel", str(kitti_object), "--track", "--out", str(tmp_path / "o"), "--quiet"]) == 0
    out = capsys.readouterr().err
    assert "its frames carry no capture times" in out and "KITTI object frames" in out


def _break_sweeps(drive_root, tmp_path):
    """A copy of a drive with the sweep of frame 1 truncated and that of frame 3 a 0-byte file;
    returns (copy, truncated file, empty file)."""
    import shutil

    root = tmp_path / "broken"
    shutil.copytree(drive_root, root)
    sweeps = sorted((root / "lidar").iterdir())
    cut, empty = sweeps[1], sweeps[3]
    cut.write_bytes(cut.read_bytes()[:cut.stat().st_size // 3])
    empty.write_bytes(b"")
    return root, cut, empty


@pytest.mark.parametrize("fmt", ["native", "kitti"])
def test_skip_bad_frames_goes_on_and_lists_them(sim_drive, tmp_path, capsys, fmt):
    root, cut, empty = _break_sweeps(sim_drive, tmp_path)
    out = tmp_path / "out"
    base = ["prelabel", str(root), "--out", str(out), "--format", fmt, "--quiet"]
    # without the flag: the first bad frame stops the run, one line naming its file; the frame
    # finished before it is kept, and the line says so
    assert main(base) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(cut) in err and str(empty) not in err
    assert "kept the pre-labels of the 1 frame finished before it" in err
    ext = ".json" if fmt == "native" else ".txt"
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == [f"000000{ext}"]
    # with it: the other frames are written, the skipped ones listed (frame, file, why), exit 3
    assert main(base + ["--skip-bad-frames"]) == 3
    said = capsys.readouterr()
    lines = said.out.splitlines()
    assert sorted(p.stem for p in out.glob(f"*{ext}")) == ["000000", "000002", "000004"]
    # the frame the stopped run finished is not detected again
    assert "for 2 frames" in lines[0] and "resumed: 1 of 5 frames already pre-labelled" in said.err
    at = lines.index("skipped 2 frames that could not be read (--skip-bad-frames):")
    assert lines[at + 1].startswith("  frame 000001: ") and str(cut) in lines[at + 1]
    assert lines[at + 2] == f"  frame 000003: {empty}: empty file (0 bytes), expected a point cloud"
    assert len(lines) == at + 3
    # a run over good frames only exits 0 with the flag too
    assert main(base + ["--skip-bad-frames", "--frames", "4"]) == 0
    assert "skipped" not in capsys.readouterr().out


def test_skip_bad_frames_in_a_project(sim_drive, tmp_path, capsys):
    from fusionlabel.store.project import Project

    root, cut, empty = _break_sweeps(sim_drive, tmp_path)
    Project.create(tmp_path / "proj", root).close()
    assert main(["prelabel", str(tmp_path / "proj"), "--quiet"]) == 2
    assert str(cut) in capsys.readouterr().err
    assert main(["prelabel", str(tmp_path / "proj"), "--quiet", "--skip-bad-frames"]) == 3
    out = capsys.readouterr().out
    assert "frame 000001: " in out and str(empty) in out
    with Project.open(tmp_path / "proj", read_only=True) as project:
        done = {i for i in range(5) if project.document.annotations(i)}
        assert done == {0, 2, 4}        # every readable frame pre-labelled, the two broken ones not


def test_skip_bad_frames_with_every_frame_bad_writes_nothing(sim_drive, tmp_path, capsys):
    """Every selected frame unreadable: exit 2 with one line naming the first file, as export does,
    and nothing written: no output folder for a drive, no edit in a project (it was exit 3)."""
    from fusionlabel.store.project import Project

    root, cut, empty = _break_sweeps(sim_drive, tmp_path)
    out = tmp_path / "out"
    assert main(["prelabel", str(root), "--out", str(out), "--quiet", "--skip-bad-frames", "--frames", "1,3"]) == 2
    cap = capsys.readouterr()
    assert cap.err.count("\n") == 1 and not cap.out
    assert "--skip-bad-frames: every one of the 2 frames could not be read, nothing was pre-labelled" in cap.err
    assert f"(first: frame 000001: {cut}" in cap.err
    assert not out.exists()
    Project.create(tmp_path / "proj", root).close()
    assert main(["prelabel", str(tmp_path / "proj"), "--quiet", "--skip-bad-frames", "--frames", "1,3"]) == 2
    assert "every one of the 2 frames could not be read" in capsys.readouterr().err
    with Project.open(tmp_path / "proj", read_only=True) as project:
        assert not project.document.can_undo and not any(project.document.annotations(i) for i in range(5))


def test_frames_without_a_prediction_file_are_left_alone(cam_drive, tmp_path, capsys):
    """Predictions for frame 0 only: frames 1 and 2 get no file (an earlier run's pre-labels there
    stay); a file of no frame is named; predictions of another drive are refused in one line."""
    drive, objs = cam_drive, separated(cam_drive, 0, 3)
    det = score_predictions(tmp_path / "p", drive, [(g, 0.8) for g in objs])
    out = tmp_path / "out"
    assert main(["prelabel", str(drive.root), "--out", str(out), "--frames", "1", "--quiet"]) == 0   # builtin
    earlier = (out / "000001.json").read_text()
    capsys.readouterr()
    shutil.copy(tmp_path / "p" / "000000.txt", tmp_path / "p" / "999999.txt")
    assert main(["prelabel", str(drive.root), "--detector", det, "--out", str(out), "--frames", "0-2", "--quiet"]) == 0
    said = capsys.readouterr()
    lines, notes = said.out.splitlines(), said.err.splitlines()
    assert lines[0].startswith("wrote 3 new pre-labels") and " for 1 frame to " in lines[0]
    assert not [line for line in lines if line.startswith("note:")]
    lines = notes
    assert "note: 2 frames had no prediction file and were left as they were: 000001, 000002" in lines
    assert "note: 1 prediction file matches no frame of the drive (not used): 999999.txt" in lines
    assert (out / "000001.json").read_text() == earlier and not (out / "000002.json").exists()
    # a folder whose files belong to another drive
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(tmp_path / "p" / "000000.txt", other / "123456.txt")
    assert main(["prelabel", str(drive.root), "--detector", f"predictions:{other}", "--out", str(tmp_path / "o2"),
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "none of the" in err and "123456.txt" in err and "--detector" in err
    assert not (tmp_path / "o2").exists() or not any((tmp_path / "o2").iterdir())      # nothing written


def test_prediction_files_in_the_native_format(cam_drive, tmp_path, capsys):
    """A folder of native <frame_id>.json label files serves as predictions too (another run's output,
    a team's own exporter): boxes as stored, model source, score 1 where none is given."""
    from fusionlabel.io.native import labels_to_json

    drive, objs = cam_drive, separated(cam_drive, 0, 4)
    folder = tmp_path / "native_pred"
    folder.mkdir()
    given = [g.with_(score=0.9, track_id=None) for g in objs[:2]] + [g.with_(score=None, track_id=None)
                                                                     for g in objs[2:]]
    (folder / f"{drive.frames[0].frame_id}.json").write_text(labels_to_json(drive.frames[0].frame_id, given))
    (folder / "999999.json").write_text(labels_to_json("999999", given[:1]))
    out = tmp_path / "out"
    assert main(["prelabel", str(drive.root), "--detector", f"predictions:{folder}", "--out", str(out),
                 "--frames", "0-1", "--quiet"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert "note: 1 prediction file matches no frame of the drive (not used): 999999.json" in lines
    written = read_labels(out / f"{drive.frames[0].frame_id}.json")
    assert len(written) == 4 and all(lab.source == "model" for lab in written)
    assert sorted(lab.score for lab in written) == [0.9, 0.9, 1.0, 1.0]
    for g in given:
        assert min(np.hypot(*np.subtract(w.box.center[:2], g.box.center[:2])) for w in written) < 1e-6


def test_prelabels_leave_out_a_kept_track_where_it_is_marked_absent():
    """The annotator marked human track 5 absent in frame 2 (hidden there): the detector's track
    that continues it gives no box in frame 2 (counted), but frames 1 and 3; a new track is not
    affected."""
    from fusionlabel.assist.prelabel_project import prelabel_command
    from fusionlabel.model.commands import CreateCuboid, SetAbsent
    from fusionlabel.model.document import Document
    from fusionlabel.model.ontology import Ontology

    doc = Document(4, Ontology.default())
    box = lambda x: Cuboid((x, 0, 0), (4.5, 1.9, 1.6))                                  # noqa: E731
    doc.apply(CreateCuboid(0, CuboidLabel(box(10.0), "car", "5", None, "human")))
    doc.apply(SetAbsent("5", 2))
    new = {f: [CuboidLabel(box(10.0 + 0.3 * f), "car", "p1", 0.8, "model"),
               CuboidLabel(box(40.0), "car", "p2", 0.8, "model")] for f in range(4)}
    cmd, report = prelabel_command(doc, new, "4 frames")
    doc.apply(cmd)
    assert doc.track_frames("5") == [0, 1, 3] and report.absent == 1
    other = {a.track_id for f in range(4) for a in doc.annotations(f) if a.box.center[0] == 40.0}
    assert len(other) == 1 and doc.track_frames(other.pop()) == [0, 1, 2, 3]
