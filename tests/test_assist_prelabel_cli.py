"""`fusionlabel prelabel`: runs on KITTI folders and native drives, marks model output, keeps human work."""

import json

import numpy as np
import pytest

from fusionlabel.assist.prelabel import merge_with_existing
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
    stale = CuboidLabel(Cuboid((90.0, 90.0, 0.0), (4, 2, 1.5)), "Car", None, 0.5, "model")
    (out / "000000.json").write_text(labels_to_json("000000", [human, stale]))
    assert main(["prelabel", str(sim_drive), "--out", str(out), "--frames", "0:2", "--quiet"]) == 0
    labels = read_labels(out / "000000.json")
    assert labels[0] == human                                   # unchanged, first
    assert all(lb.source == "model" for lb in labels[1:])
    assert not any(np.allclose(lb.box.center, stale.box.center) for lb in labels)     # old model output replaced
    from fusionlabel.geometry.iou import bev_iou

    assert all(bev_iou(lb.box, human.box) <= 0.1 for lb in labels[1:])              # no duplicate over human work
    assert not (out / "000002.json").exists()


def test_merge_with_existing_rules():
    human = CuboidLabel(Cuboid((10, 0, 0), (4, 2, 1.5)), "Car", "1", None, "human")
    imported = CuboidLabel(Cuboid((20, 0, 0), (4, 2, 1.5)), "Car", "2", None, "import")
    old = CuboidLabel(Cuboid((30, 0, 0), (4, 2, 1.5)), "Car", None, 0.4, "model")
    new = [CuboidLabel(Cuboid((10.3, 0.1, 0), (4, 2, 1.5)), "Car", None, 0.9, "model"),
           CuboidLabel(Cuboid((30.2, 0, 0), (4, 2, 1.5)), "Car", None, 0.8, "model"),
           CuboidLabel(Cuboid((20, 0, 0), (0.5, 0.5, 1.5)), "Pedestrian", None, 0.8, "model")]
    merged, kept, dropped, replaced = merge_with_existing([human, imported, old], new)
    assert merged == [human, imported, new[1]] and (kept, dropped, replaced) == (2, 2, 1)


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
    for _ in range(2):       # a second run replaces the first run's pre-labels
        assert main(["prelabel", str(folder), "--track", "--frames", "0:3", "--quiet"]) == 0
        assert "one undoable edit" in capsys.readouterr().out
    with store.Project.open(folder) as project:
        doc = project.document
        anns = [a for i in range(3) for a in doc.annotations(i)]
        model = [a for a in anns if a.source == "model"]
        assert model and all(a.score >= 0.5 and a.track_id for a in model)
        assert doc.get(human.uid).label == human.label                      # the human box is untouched
        from fusionlabel.geometry.iou import bev_iou

        assert all(bev_iou(a.box, human.box) <= 0.1 for a in model if a.frame == 1)
        n_model = len(model)
        history = doc.history()
        assert sum("Pre-label" in h for h in history) == 2
        assert doc.can_undo
        doc.undo()                                                          # back to the first run's boxes
        assert len([a for i in range(3) for a in doc.annotations(i) if a.source == "model"]) == n_model
        doc.undo()                                                          # no pre-labels at all
        assert [a.uid for i in range(3) for a in doc.annotations(i)] == [human.uid]
