"""Drive folders holding several scenes (a KITTI tracking folder with two sequences built here from
two simulated drives, the real nuScenes keyframe): `open --scene` and `prelabel --scene` pick one,
each scene gets its own project, which records its scene and reopens on it, and a project asked for
another scene refuses and names its own. Unknown scenes and --scene where it does not apply stop
with one line and exit code 2."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from conftest import quiet, simulated_drive

from fusionlabel.app.main import open_project
from fusionlabel.cli.main import main
from fusionlabel.errors import DriveError
from fusionlabel.export import export_drive
from fusionlabel.geometry.iou import bev_iou
from fusionlabel.io.native import open_native_drive, read_labels
from fusionlabel.store import Project, ProjectError
from fusionlabel.store import project as project_module
from fusionlabel.store.project import DB_NAME, is_project

CAMERA = "cam_front_right"     # the simulator's pinhole camera becomes image_02


def exported_box(source, box):
    """A source box in the exported sequence's Velodyne frame: KITTI export turns the LiDAR frame
    about z so that +x points where CAMERA (55 degrees right of the simulator's +x) looks."""
    from fusionlabel.export.kitti import velodyne_turn

    T = velodyne_turn(source.rig(0).T_cam_lidar(CAMERA))
    if T is None:
        return box
    return box.with_(center=T[:3, :3] @ np.asarray(box.center), yaw=float(box.yaw + np.arctan2(T[1, 0], T[0, 0])))


def build_two_sequences(tmp_path_factory) -> tuple[Path, dict]:
    """A KITTI tracking folder (``training/``) with sequence 0000 (3 simulated frames, seed 1) and
    0001 (2 frames of another street, seed 2): (folder, {sequence: source drive})."""
    from fusionlabel.sim.writer import simulate_drive

    base = tmp_path_factory.getbasetemp()
    folder = base / "two_sequences"
    sources = {"0000": simulated_drive(tmp_path_factory)}
    other = base / "sim2_seed2"
    if not (other / "drive.yaml").exists():
        simulate_drive(other, frames=2, seed=2, points=20000, progress=False)
    sources["0001"] = open_native_drive(other)
    if not (folder / "training" / "label_02" / "0001.txt").exists():
        for seq, src in sources.items():
            part = base / f"two_sequences_part{seq}"
            if not part.exists():
                export_drive(src, "kitti-tracking", part, options=quiet(camera=CAMERA, sequence=seq))
            shutil.copytree(part, folder / "training", dirs_exist_ok=True)
    return folder, sources


@pytest.fixture(scope="module")
def two_sequences(tmp_path_factory):
    return build_two_sequences(tmp_path_factory)


@pytest.fixture
def drive(two_sequences, tmp_path):
    """A fresh copy of the two-sequence folder (projects are made inside it)."""
    return Path(shutil.copytree(two_sequences[0], tmp_path / "tracking"))


def assert_holds_labels_of(project: Project, source) -> None:
    """The project's annotations are the imported labels of ``source`` (same tracks and centres)."""
    assert len(project.drive) == len(source)
    total = 0
    for i in range(len(source)):
        truth = {lab.track_id: lab for lab in source.labels(i)}
        anns = project.document.annotations(i)
        assert len(anns) >= 0.9 * len(truth) > 5
        for ann in anns:
            ref = truth[ann.label.track_id]
            assert np.abs(np.subtract(ann.label.box.center, exported_box(source, ref.box).center)).max() <= 1e-4
        total += len(anns)
    assert total == len(project.document)


def recorded_scene(folder: Path) -> str | None:
    con = sqlite3.connect(folder / DB_NAME)
    try:
        return con.execute("SELECT scene FROM drive").fetchone()[0]
    finally:
        con.close()


# ------------------------------------------------------------------------------ projects per scene
def test_open_scene_creates_reopens_and_keeps_scenes_apart(drive, two_sequences):
    _, sources = two_sequences
    with open_project(drive, scene="0001") as p:
        assert p.folder == drive / ".fusionlabel-project-0001"
        assert p.drive.sequence == "0001" and recorded_scene(p.folder) == "0001"
        assert_holds_labels_of(p, sources["0001"])
        p.set_setting("frame", 1)
        n = len(p.document)
    # Reopened as a project folder (no --scene), by the sequence number, or by name: the same project.
    for path, scene in ((drive / ".fusionlabel-project-0001", None), (drive, "1"), (drive, "0001"),
                        (drive / ".fusionlabel-project-0001", "0001")):
        with open_project(path, scene=scene) as p:
            assert p.folder == drive / ".fusionlabel-project-0001" and p.drive.sequence == "0001"
            assert len(p.document) == n and p.get_setting("frame") == 1 and not p.read_only
    # The other sequence gets its own project with its own labels.
    with open_project(drive, scene="0000") as p:
        assert p.folder == drive / ".fusionlabel-project-0000" and recorded_scene(p.folder) == "0000"
        assert_holds_labels_of(p, sources["0000"])
    assert not (drive / ".fusionlabel-project").exists()


def test_a_project_refuses_another_scene_and_names_its_own(drive):
    with open_project(drive, scene="0001") as p:
        folder = p.folder
    with pytest.raises(ProjectError, match=r"fusionlabel-project-0001: this project is for scene 0001 .* not scene "
                                           r"0000; each scene has its own project"):
        open_project(folder, scene="0000")
    with pytest.raises(ProjectError, match="this project is for scene 0001"):     # an explicit --project too
        open_project(drive, project_folder=folder, scene="0")
    with pytest.raises(DriveError, match="2 sequences: choose one"):             # a drive needs its scene
        open_project(drive)
    assert not (drive / ".fusionlabel-project-0000").exists()


def test_project_made_before_scenes_were_recorded(two_sequences, tmp_path):
    """A schema-1 project in the scene-less default folder of a one-sequence folder: opened with
    --scene after a second sequence arrived, it is found (fingerprint), migrated and learns its scene."""
    folder, sources = two_sequences
    one = tmp_path / "tracking"
    shutil.copytree(folder, one)
    for sub in ("velodyne", "image_02"):
        shutil.rmtree(one / "training" / sub / "0000")
    with Project.open_or_create_for_drive(one) as p:            # one sequence: no --scene needed
        assert p.folder == one / ".fusionlabel-project-0001" and p.drive.sequence == "0001"
        n = len(p.document)
    older = one / ".fusionlabel-project"
    shutil.move(one / ".fusionlabel-project-0001", older)
    con = sqlite3.connect(older / DB_NAME)                       # back to the schema-1 layout
    con.execute("ALTER TABLE drive DROP COLUMN scene")
    con.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    con.commit()
    con.close()
    shutil.copytree(folder / "training" / "velodyne" / "0000", one / "training" / "velodyne" / "0000")
    with Project.open_or_create_for_drive(one, scene="0001") as p:
        assert p.folder == older and len(p.document) == n and p.drive.sequence == "0001"
    assert recorded_scene(older) == "0001"
    with Project.open_or_create_for_drive(one, scene="0000") as p:   # not the other sequence's
        assert p.folder == one / ".fusionlabel-project-0000"


# ------------------------------------------------------------------------------ errors
def one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_unknown_scene_and_scene_where_none_applies(drive, two_sequences, tmp_path, capsys):
    line = one_line_error(capsys, ["prelabel", str(drive), "--scene", "0007", "--out", str(tmp_path / "o")])
    assert "no sequence '0007'; sequences: 0000, 0001" in line
    native = two_sequences[1]["0000"].root
    line = one_line_error(capsys, ["prelabel", str(native), "--scene", "0001", "--out", str(tmp_path / "o")])
    assert "--scene only applies to nuScenes and KITTI tracking folders" in line and str(native) in line
    with pytest.raises(DriveError, match="no sequence 'x'; sequences: 0000, 0001"):
        open_project(drive, scene="x")
    assert not any(drive.glob(".fusionlabel-project*"))


# ------------------------------------------------------------------------------ prelabel --scene
def hit_rate(pre: list[list], source) -> float:
    """Share of the source's well-seen nearby cars that a pre-label covers (BEV IoU >= 0.5)."""
    cars = [(i, g) for i in range(min(len(pre), len(source))) for g in source.labels(i)
            if g.label == "car" and g.attributes["num_lidar_points"] >= 100 and np.hypot(*g.box.center[:2]) < 40]
    assert cars
    return sum(any(bev_iou(p.box, exported_box(source, g.box)) >= 0.5 for p in pre[i]) for i, g in cars) / len(cars)


def test_prelabel_scene_into_a_folder_and_into_the_project(drive, two_sequences, tmp_path, capsys):
    _, sources = two_sequences
    out = tmp_path / "pre"
    assert main(["prelabel", str(drive), "--scene", "1", "--out", str(out), "--quiet"]) == 0
    files = sorted(out.glob("*.json"))
    assert [f.stem for f in files] == ["000000", "000001"]            # sequence 0001 has two frames
    pre = [read_labels(f) for f in files]
    assert hit_rate(pre, sources["0001"]) >= 0.7 and hit_rate(pre, sources["0000"]) <= 0.2
    # Into the sequence's project (started empty: pre-labels never cover imported labels).
    with Project.open_or_create_for_drive(drive, scene="0001", import_labels=False) as p:
        folder = p.folder
    assert main(["prelabel", str(folder), "--scene", "0001", "--quiet"]) == 0
    with Project.open(folder) as p:
        assert p.drive.sequence == "0001"
        model = [[a.label for a in p.document.annotations(i)] for i in range(2)]
        assert all(lab.source == "model" for frame in model for lab in frame)
    assert hit_rate(model, sources["0001"]) >= 0.7 and hit_rate(model, sources["0000"]) <= 0.2
    line = one_line_error(capsys, ["prelabel", str(folder), "--scene", "0000", "--quiet"])
    assert "this project is for scene 0001" in line and str(folder) in line


# ------------------------------------------------------------------------------ nuScenes
def test_nuscenes_scene_project(nusc_root, tmp_path, monkeypatch):
    """The real keyframe opened with --scene scene-0061: its project records the scene; the
    read-only dataroot's projects go to the user folder, one per scene."""
    monkeypatch.setattr(project_module, "_folder_writable", lambda folder: False)
    monkeypatch.setenv("FUSIONLABEL_PROJECTS_DIR", str(tmp_path / "user"))
    with open_project(nusc_root, scene="scene-0061") as p:
        folder = p.folder
        assert folder.parent == tmp_path / "user" and folder.name.endswith("-scene-0061")
        assert p.drive.name == "nuscenes/scene-0061" and recorded_scene(folder) == "scene-0061"
        truth = [lab for lab in p.drive.labels(0) if p.ontology.resolve(lab.label) is not None]
        assert len(p.document.annotations(0)) == len(truth) > 10
        token = p.drive.scene["token"]
    for path, scene in ((nusc_root, "0"), (nusc_root, token), (folder, None), (folder, "scene-0061")):
        with open_project(path, scene=scene) as p:
            assert p.folder == folder and p.drive.name == "nuscenes/scene-0061"
    with pytest.raises(DriveError, match="no scene 'scene-9999'; scenes: scene-0061"):
        open_project(nusc_root, scene="scene-9999")
    assert [f.name for f in (tmp_path / "user").iterdir()] == [folder.name] and is_project(folder)


def test_check_without_scene_checks_each_sequence_of_a_folder_with_sweeps(two_sequences, capsys):
    """`check` on the two-sequence folder (sweeps and images) without --scene runs the drive and
    label checks of each sequence: a JSON entry per sequence, each the report of its own frames."""
    folder, sources = two_sequences
    code = main(["check", str(folder), "--no-poses", "--json", "--quiet"])
    listed = json.loads(capsys.readouterr().out)
    assert [(e["sequence"], e["frames"]) for e in listed] == [(seq, len(src)) for seq, src in sources.items()]
    assert all("cameras" in e and "labels" in e for e in listed)
    assert code == max((e["exit"] for e in listed), key=[0, 3, 2].index)
