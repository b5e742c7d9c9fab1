"""``eval`` and ``render`` on a project folder and ``eval --pred`` on a KITTI export, each checked
against the same command on the equivalent plain input (the drive, a prelabel output folder)."""

import json

import numpy as np
import pytest

from fusionlabel.cli.main import main
from fusionlabel.store.project import Project


def run_json(capsys, *args) -> dict:
    assert main(["eval", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def same_report(a: dict, b: dict) -> None:
    assert a["classes"] == b["classes"] and a["edit_cost"] == b["edit_cost"] and a["frames"] == b["frames"]


@pytest.fixture
def sim(small_sim_drive):
    return small_sim_drive.root


def make_project(tmp_path, drive, capsys, *extra) -> str:
    folder = tmp_path / "proj"
    assert main(["project", "create", str(drive), "--out", str(folder), "--quiet", *extra]) == 0
    capsys.readouterr()
    return str(folder)


def test_eval_pred_project_scores_its_prelabels_as_the_prelabel_folder_does(tmp_path, sim, capsys):
    project = make_project(tmp_path, sim, capsys)
    assert main(["prelabel", project, "--quiet"]) == 0
    assert main(["prelabel", str(sim), "--out", str(tmp_path / "pre"), "--quiet"]) == 0
    capsys.readouterr()
    from_project = run_json(capsys, "--pred", project, "--gt", str(sim))
    from_folder = run_json(capsys, "--pred", str(tmp_path / "pre"), "--gt", str(sim))
    same_report(from_project, from_folder)
    assert sum(m["predictions"] for m in from_project["classes"].values()) > 0


def test_eval_gt_project_uses_its_human_cuboids_as_the_drive_labels(tmp_path, sim, capsys):
    project = make_project(tmp_path, sim, capsys, "--import-labels")
    assert main(["prelabel", str(sim), "--out", str(tmp_path / "pre"), "--quiet"]) == 0
    capsys.readouterr()
    with_project = run_json(capsys, "--pred", str(tmp_path / "pre"), "--gt", project)
    with_drive = run_json(capsys, "--pred", str(tmp_path / "pre"), "--gt", str(sim))
    same_report(with_project, with_drive)
    # a pre-label in the ground-truth project is not ground truth: left out and counted
    from fusionlabel.geometry.cuboid import Cuboid
    from fusionlabel.model.annotation import CuboidLabel
    from fusionlabel.model.commands import CreateCuboid

    with Project.open(project) as p:
        p.document.apply(CreateCuboid(0, CuboidLabel(Cuboid((15, -6, 0), (4, 2, 1.5)), "car", score=0.9,
                                                     source="model")))
    again = run_json(capsys, "--pred", str(tmp_path / "pre"), "--gt", project)
    same_report(again, with_drive)
    assert again["model_labels_left_out_of_gt"] == 1
    assert main(["eval", "--pred", project, "--gt", project]) == 2
    assert "scored against themselves" in capsys.readouterr().err


def test_project_inputs_are_read_while_an_editor_holds_the_project(tmp_path, sim, capsys):
    """eval and render take no write lock: an open app keeps its project writable."""
    project = make_project(tmp_path, sim, capsys, "--import-labels")
    with Project.open(project) as editor:
        assert not editor.read_only
        assert main(["eval", "--pred", project, "--gt", str(sim)]) == 0
        assert main(["render", project, "--out", str(tmp_path / "r.png")]) == 0
        assert not editor.read_only
    capsys.readouterr()


def test_render_project_draws_the_project_cuboids(tmp_path, sim, capsys):
    from fusionlabel.geometry.cuboid import Cuboid
    from fusionlabel.io.images import read_image
    from fusionlabel.model.annotation import CuboidLabel
    from fusionlabel.model.commands import CreateCuboid

    project = make_project(tmp_path, sim, capsys, "--import-labels")
    assert main(["render", str(sim), "--frame", "1", "--out", str(tmp_path / "drive.png")]) == 0
    assert main(["render", project, "--frame", "1", "--out", str(tmp_path / "project.png")]) == 0
    assert np.array_equal(read_image(tmp_path / "drive.png"), read_image(tmp_path / "project.png"))
    with Project.open(project) as p:
        p.document.apply(CreateCuboid(1, CuboidLabel(Cuboid((12, 3, 0), (4, 2, 1.5)), "car")))
    assert main(["render", project, "--frame", "1", "--out", str(tmp_path / "edited.png")]) == 0
    assert "000001" in capsys.readouterr().out
    assert not np.array_equal(read_image(tmp_path / "drive.png"), read_image(tmp_path / "edited.png"))


def test_eval_pred_kitti_export_reads_its_label_2(tmp_path, sim, capsys):
    """A KITTI export of the drive's own labels scores perfectly against them (its frames.txt and
    manifest are not label files); another format's export is one line saying what eval reads."""
    assert main(["export", str(sim), "--format", "kitti", "--out", str(tmp_path / "k"), "--labels-only",
                 "--quiet"]) == 0
    assert main(["export", str(sim), "--format", "openlabel", "--out", str(tmp_path / "ol"), "--quiet"]) == 0
    capsys.readouterr()
    report = run_json(capsys, "--pred", str(tmp_path / "k"), "--gt", str(sim))
    gt = sum(m["gt"] for m in report["classes"].values())
    assert gt > 0 and all(m["tp"] == m["gt"] == m["predictions"] for m in report["classes"].values())
    assert all(m["mean_bev_iou"] > 0.97 for m in report["classes"].values() if m["gt"])
    assert main(["eval", "--pred", str(tmp_path / "ol"), "--gt", str(sim)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a fusionlabel openlabel export" in err and "label_2/" in err


def test_eval_pred_kitti_export_of_a_rig_without_vehicle_frame(realdata, tmp_path, capsys):
    """SUSTech-style: the export turns the Velodyne frame and levels the camera; read back, the
    boxes still meet the drive's own."""
    src = realdata / "sustech_sequence"
    if not src.is_dir():
        pytest.skip("no SUSTech sequence in the real data")
    assert main(["export", str(src), "--format", "kitti", "--out", str(tmp_path / "k"), "--labels-only",
                 "--quiet"]) == 0
    capsys.readouterr()
    report = run_json(capsys, "--pred", str(tmp_path / "k"), "--gt", str(src))
    assert all(m["tp"] == m["gt"] for m in report["classes"].values())
    assert all(m["mean_bev_iou"] > 0.95 for m in report["classes"].values() if m["gt"])


def test_eval_pred_project_says_its_imported_labels_are_the_drive_own(tmp_path, sim, capsys):
    """A --pred project made with --import-labels holds the drive's labels as score-1 predictions:
    eval scores them as found and says so in a note (and ``imported_predictions`` in --json)."""
    from fusionlabel.io.drives import open_drive

    drive = open_drive(sim)
    n_labels = sum(lab.label != "DontCare" for i in range(len(drive)) for lab in drive.labels(i))
    assert n_labels > 0
    project = make_project(tmp_path, sim, capsys, "--import-labels")
    assert main(["prelabel", project, "--quiet"]) == 0
    capsys.readouterr()
    assert main(["eval", "--pred", project, "--gt", str(sim), "--json"]) == 0
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert report["imported_predictions"] == n_labels
    assert f"note: {n_labels} of the " in out.err and "imported from its drive" in out.err
    assert main(["prelabel", str(sim), "--out", str(tmp_path / "pre"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["eval", "--pred", str(tmp_path / "pre"), "--gt", str(sim), "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["imported_predictions"] == 0 and "imported from its drive" not in out.err


def test_eval_table_says_what_its_columns_count(tmp_path, sim, capsys):
    """The text report names the IoU the last column is (BEV), the score the pred, tp, prec and rec
    columns are taken at (--score-threshold), and what AP and the IoU columns are."""
    assert main(["prelabel", str(sim), "--out", str(tmp_path / "pre"), "--min-score", "0", "--quiet"]) == 0
    for extra, shown in (([], "0"), (["--score-threshold", "0.3"], "0.3")):
        capsys.readouterr()
        assert main(["eval", "--pred", str(tmp_path / "pre"), "--gt", str(sim), *extra]) == 0
        text = capsys.readouterr().out
        assert "tp: the same class at BEV IoU >= the last column" in text
        assert f"pred, tp, prec and rec at score >= {shown};" in text and "KITTI's 40 recall points" in text
