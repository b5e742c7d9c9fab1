"""SUSTech-style folder import: the real example scene (boxes hold their points, Euler order checked
against SciPy, projection equal to the folder's own formula), synthetic variants and bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fusionlabel.errors import CalibrationError, DriveError, FusionLabelError, LabelError
from fusionlabel.geometry.cuboid import points_in_cuboid
from fusionlabel.geometry.projection import project_points
from fusionlabel.io.sustech import is_sustech_folder, open_sustech, read_sustech_labels


@pytest.fixture(scope="module")
def scene(realdata) -> Path:
    path = realdata / "sustech_sequence"
    if not (path / "lidar").is_dir():
        pytest.skip(f"SUSTech sample not found at {path}")
    return path


def test_real_scene_opens(scene):
    drive = open_sustech(scene)
    assert [f.frame_id for f in drive.frames] == ["000950", "000965", "000970", "000975"]
    assert drive.frames[0].image_paths == {}
    assert set(drive.frames[1].image_paths) == {"front", "left", "right"}
    assert all(drive.rig(0).camera(c).camera.size == (2048, 1536) for c in ("front", "left", "right"))
    assert [f.timestamp_us for f in drive.frames] == [95_000_000, 96_500_000, 97_000_000, 97_500_000]
    labels = [lab for i in range(len(drive)) for lab in drive.labels(i)]
    assert len(labels) == 87 and len({lab.track_id for lab in labels}) == 25
    assert sum(lab.label == "Car" for lab in labels) == 35
    assert is_sustech_folder(scene) and not is_sustech_folder(scene / "lidar")


def test_euler_order_matches_scipy(scene):
    scipy_rotation = pytest.importorskip("scipy.spatial.transform").Rotation
    path = scene / "label" / "000970.json"
    raw = json.loads(path.read_text())
    for obj, lab in zip(raw, read_sustech_labels(path)):
        r = obj["psr"]["rotation"]
        ref = scipy_rotation.from_euler("XYZ", [r["x"], r["y"], r["z"]]).as_matrix()  # intrinsic = Rx Ry Rz
        np.testing.assert_allclose(lab.box.rotation(), ref, atol=1e-12)
        np.testing.assert_allclose(lab.box.size, [obj["psr"]["scale"][k] for k in "xyz"])
        assert lab.track_id == obj["obj_id"] and lab.label == obj["obj_type"]


def test_boxes_are_centred_and_hold_points(scene):
    drive = open_sustech(scene)
    centred, bottom = 0, 0
    for i in range(len(drive)):
        pts = drive.points(i)
        for lab in drive.labels(i):
            n = int(points_in_cuboid(pts, lab.box).sum())
            assert n >= 5, (drive.frames[i].frame_id, lab.label, lab.track_id)
            centred += n
            lowered = lab.box.with_(center=np.subtract(lab.box.center, (0.0, 0.0, lab.box.height / 2)))
            bottom += int(points_in_cuboid(pts, lowered).sum())
    assert centred > 1.5 * bottom


@pytest.mark.parametrize("camera", ["front", "left", "right"])
def test_projection_equals_intrinsic_times_extrinsic(scene, camera):
    drive = open_sustech(scene)
    calib = json.loads((scene / "calib" / "camera" / f"{camera}.json").read_text())
    E = np.array(calib["extrinsic"], dtype=np.float64).reshape(4, 4)
    K = np.array(calib["intrinsic"], dtype=np.float64).reshape(3, 3)
    pts = drive.points(1)
    cam = drive.rig(1).camera(camera).camera
    got = project_points(pts, drive.T_cam_lidar(1, camera), cam)
    p = (E @ np.c_[pts[:, :3].astype(np.float64), np.ones(len(pts))].T)[:3]
    uvw = K @ p
    uv = (uvw[:2] / uvw[2]).T
    np.testing.assert_allclose(got.uv, uv[got.index], atol=2e-3)
    with np.errstate(invalid="ignore"):
        inside = (p[2] > 0.1) & (uv[:, 0] >= -0.5) & (uv[:, 0] < 2047.5) & (uv[:, 1] >= -0.5) & (uv[:, 1] < 1535.5)
    assert set(got.index) == set(np.flatnonzero(inside))


# ------------------------------------------------------------------------------ synthetic folders
def make_folder(root: Path, labels, calib=None, pose=None) -> Path:
    for sub in ("lidar", "label", "calib/camera", "camera/cam"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    pts = rng.uniform(-10, 10, (500, 4)).astype(np.float32)
    pts.tofile(root / "lidar" / "000003.bin")
    (root / "label" / "000003.json").write_text(json.dumps(labels))
    import cv2

    cv2.imwrite(str(root / "camera" / "cam" / "000003.png"), np.zeros((40, 60, 3), np.uint8))
    calib = calib or {"extrinsic": [0, -1, 0, 0, 0, 0, -1, 0, 1, 0, 0, 0, 0, 0, 0, 1],
                      "intrinsic": [50, 0, 30, 0, 50, 20, 0, 0, 1]}
    (root / "calib" / "camera" / "cam.json").write_text(json.dumps(calib))
    if pose is not None:
        (root / "lidar_pose").mkdir()
        (root / "lidar_pose" / "000003.json").write_text(json.dumps({"lidarPose": pose}))
    return root


OBJ = {"psr": {"position": {"x": 5, "y": 1, "z": 0}, "scale": {"x": 4, "y": 2, "z": 1.5},
               "rotation": {"x": 0, "y": 0, "z": 0.5}}, "obj_type": "Car", "obj_id": "7", "obj_attr": "parked"}


def test_objs_wrapper_pose_and_extra_keys(tmp_path):
    pose = np.eye(4)
    pose[:3, 3] = (10, 20, 1)
    root = make_folder(tmp_path / "s", {"objs": [OBJ, dict(OBJ, obj_id="")]}, pose=pose.ravel().tolist())
    drive = open_sustech(root)
    labels = drive.labels(0)
    assert labels[0].attributes == {"obj_attr": "parked"} and labels[0].track_id == "7"
    assert labels[1].track_id is None
    assert labels[0].box.yaw == pytest.approx(0.5)
    np.testing.assert_array_equal(drive.T_world_lidar(0), pose)
    assert drive.rig(0).camera("cam").camera.size == (60, 40)
    # LiDAR +x looks along the camera's +z with this extrinsic
    np.testing.assert_allclose(drive.T_cam_lidar(0, "cam")[:3, :3] @ [1, 0, 0], [0, 0, 1])


@pytest.mark.parametrize("labels, where", [
    ([{"psr": {"position": {"x": 1, "y": 2, "z": 3}, "rotation": {"x": 0, "y": 0, "z": 0}}, "obj_type": "Car"}],
     "[0].psr.scale"),
    ([dict(OBJ, obj_type="")], "[0].obj_type"),
    ([OBJ, dict(OBJ, psr=dict(OBJ["psr"], scale={"x": 1, "y": -2, "z": 1}))], "[1].psr.scale"),
    ([dict(OBJ, psr=dict(OBJ["psr"], position={"x": "a", "y": 0, "z": 0}))], "[0].psr.position.x"),
    ({"objects": []}, "(document)"),
    ([dict(OBJ, obj_id=[7])], "[0].obj_id"),
    ([OBJ, dict(OBJ, obj_id={"id": 7})], "[1].obj_id"),
])
def test_label_errors_name_the_key(tmp_path, labels, where):
    root = make_folder(tmp_path / "s", labels)
    with pytest.raises(LabelError) as e:
        open_sustech(root).labels(0)
    assert where in str(e.value) and "000003.json" in str(e.value)


@pytest.mark.parametrize("calib, where", [
    ({"extrinsic": [1, 0, 0], "intrinsic": [50, 0, 30, 0, 50, 20, 0, 0, 1]}, "extrinsic"),
    ({"extrinsic": [2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], "intrinsic": [50, 0, 30, 0, 50, 20, 0, 0, 1]},
     "extrinsic"),
    ({"extrinsic": [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], "intrinsic": [50, 0, 30]}, "intrinsic"),
    ({"extrinsic": [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], "intrinsic": [-5, 0, 30, 0, 50, 20, 0, 0, 1]},
     "intrinsic"),
])
def test_calibration_errors_name_the_key(tmp_path, calib, where):
    root = make_folder(tmp_path / "s", [OBJ], calib=calib)
    with pytest.raises(CalibrationError) as e:
        open_sustech(root)
    assert where in str(e.value) and "cam.json" in str(e.value)


def test_not_a_sustech_folder(tmp_path):
    with pytest.raises(DriveError, match="SUSTech"):
        open_sustech(tmp_path)


def test_cli_import_and_export(scene, tmp_path):
    """`fusionlabel import` to a native drive keeps points, images and labels; `export` reads the
    SUSTech folder directly."""
    from fusionlabel.io.native import open_native_drive

    out = subprocess.run([sys.executable, "-m", "fusionlabel.cli.main", "import", str(scene), "--out",
                          str(tmp_path / "native"), "--quiet"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    src, back = open_sustech(scene), open_native_drive(tmp_path / "native")
    for i in range(len(src)):
        assert back.labels(i) == src.labels(i)
        np.testing.assert_array_equal(back.points(i)[:, :4], src.points(i)[:, :4])
        for cam, p in src.frames[i].image_paths.items():
            assert back.frames[i].image_paths[cam].read_bytes() == p.read_bytes()
    exp = subprocess.run([sys.executable, "-m", "fusionlabel.cli.main", "export", str(scene), "--format", "kitti",
                          "--out", str(tmp_path / "k"), "--camera", "front", "--labels-only", "--quiet"],
                         capture_output=True, text=True, timeout=300)
    assert exp.returncode == 0, exp.stderr
    assert "Rider" in exp.stdout or "Cyclist" in exp.stdout
    assert sorted(p.name for p in (tmp_path / "k" / "label_2").iterdir()) == [f"{f}.txt" for f in
                                                                              ("000950", "000965", "000970", "000975")]
    shutil.rmtree(tmp_path / "native")


def test_a_broken_first_image_is_its_frames_problem_not_the_drives(tmp_path, capsys):
    """SUSTech calibrations hold no image size: it comes from the camera's first image that reads,
    so a corrupt first image leaves the drive readable and is reported for its frame only."""
    from fusionlabel.cli.main import main

    root = make_folder(tmp_path / "s", [OBJ])
    np.zeros(500 * 4, np.float32).reshape(-1, 4).tofile(root / "lidar" / "000002.bin")
    (root / "camera" / "cam" / "000002.jpg").write_bytes(b"\xff\xd8\xff" + bytes(100))   # sorts first
    drive = open_sustech(root)
    assert drive.rig(0).camera("cam").camera.size == (60, 40)
    assert main(["check", str(root), "--no-poses", "--json"]) == 3
    found = [f for f in json.loads(capsys.readouterr().out)["findings"] if f["check"] == "image-file"]
    assert [(f["subject"], f["frames"]) for f in found] == [("cam", ["000002"])]
    for path in (root / "camera" / "cam").iterdir():   # no image reads: the first one's error
        path.write_bytes(b"\xff\xd8\xff" + bytes(100))
    with pytest.raises(FusionLabelError, match="000002.jpg"):
        open_sustech(root)
