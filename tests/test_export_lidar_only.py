"""Exports of a drive without camera images (LiDAR only, its rig still naming cameras): nuScenes
writes every sample with LIDAR_TOP only and says so once, estimates no visibility for images that do
not exist (``""``, unknown); KITTI's notes speak of no image it did not write; COCO, which holds
2D boxes on images, refuses it. And nuScenes' official splits are read without importing the devkit."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import lidar_only_drive, quiet
from fusionlabel.cli.main import main
from fusionlabel.export import export_drive

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def lidar_only(tmp_path_factory):
    from fusionlabel.io.native import open_native_drive

    drive = open_native_drive(lidar_only_drive(tmp_path_factory, frames=3, seed=2, points=8000))
    assert drive.rig(0).camera_names and not any(f.image_paths for f in drive.frames)
    return drive


def test_nuscenes_writes_every_sample_and_says_lidar_only_once(lidar_only, tmp_path):
    out = tmp_path / "n"
    summary = export_drive(lidar_only, "nuscenes", out, options=quiet())
    assert summary.frames == 3 and summary.not_written == []
    assert any(n.startswith("no exported frame has a camera image: every sample holds LIDAR_TOP only")
               for n in summary.cannot_hold)
    assert not any("undistorted" in n or "estimated from LiDAR" in n for n in summary.cannot_hold)
    anns = json.loads((out / "v1.0-mini" / "sample_annotation.json").read_text())
    assert len(anns) == summary.total_objects > 0 and {a["visibility_token"] for a in anns} == {""}
    assert f"visibility of {len(anns)} object(s) in samples without a camera image is \"\"" in \
        " ".join(summary.cannot_hold)
    data = json.loads((out / "v1.0-mini" / "sample_data.json").read_text())
    assert len(data) == 3 and {d["fileformat"] for d in data} == {"pcd"}


def test_the_devkit_loads_it(lidar_only, tmp_path):
    nuscenes = pytest.importorskip("nuscenes.nuscenes")
    out = tmp_path / "n"
    export_drive(lidar_only, "nuscenes", out, options=quiet())
    nusc = nuscenes.NuScenes(version="v1.0-mini", dataroot=str(out), verbose=False)
    assert len(nusc.sample) == 3 and all(a["visibility_token"] == "" for a in nusc.sample_annotation)


def test_kitti_notes_speak_of_the_camera_not_of_images(lidar_only, small_sim_drive, tmp_path):
    notes = " ".join(export_drive(lidar_only, "kitti", tmp_path / "k", options=quiet()).cannot_hold)
    assert "no exported frame has a cam_front image, so no image file was written" in notes
    assert "2D boxes refer to that undistorted camera (no image was written)" in notes
    assert "3D and 2D boxes refer to that levelled camera (no image was written)" in notes
    assert "images are" not in notes and not (tmp_path / "k" / "image_2").exists()
    with_images = " ".join(export_drive(small_sim_drive, "kitti", tmp_path / "i", options=quiet()).cannot_hold)
    assert "images are undistorted to it" in with_images and "images are rotated by" in with_images
    assert "no image was written" not in with_images and "no image file" not in with_images


def test_coco_refuses_a_drive_without_images(lidar_only, tmp_path, capsys):
    out = tmp_path / "c"
    assert main(["export", str(lidar_only.root), "--format", "coco", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no exported frame has an image of camera cam_front" in err[0]
    assert "COCO holds 2D boxes on images" in err[0] and not out.exists()


def test_official_splits_are_the_devkits_without_importing_it():
    pytest.importorskip("nuscenes")
    code = ("import sys, json; from fusionlabel.export.nuscenes import official_split_of; "
            "print(json.dumps([official_split_of(n) for n in ('scene-0061', 'scene-0103', 'sim-seed3')] "
            "+ ['nuscenes' in sys.modules]))")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    from fusionlabel.export.nuscenes_splits import official_splits
    from nuscenes.utils.splits import create_splits_scenes

    devkit = create_splits_scenes()
    first = [next(s for s, names in devkit.items() if n in names) for n in ("scene-0061", "scene-0103")]
    assert json.loads(run.stdout) == [*first, None, False], run.stderr
    assert official_splits() == devkit


def test_splits_that_are_no_literals_are_read_through_the_devkit(tmp_path):
    from fusionlabel.export.nuscenes_splits import splits_from_source

    (tmp_path / "splits.py").write_text("train_detect = ['a']\ntrain_track = make()\n")
    assert splits_from_source(tmp_path / "splits.py") is None
    assert splits_from_source(tmp_path / "missing.py") is None
