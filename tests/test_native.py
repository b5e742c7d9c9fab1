"""The native drive folder: round trip and validation errors that name the file and the key."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from fusionlabel.errors import DriveError, LabelError, PointCloudError
from fusionlabel.geometry.cameras import camera_from_params
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.geometry.transforms import T_from_Rt, rotation_from_euler
from fusionlabel.io.drives import open_drive
from fusionlabel.io.native import (RangeImage, NativeDriveWriter, decode_range_image, encode_range_image,
                                   is_native_drive, open_native_drive, read_labels, write_range_image)
from fusionlabel.io.pointcloud import read_points
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model.drive import Drive, Frame
from fusionlabel.model.rig import CameraSensor, LidarSensor, Rig


def _rig() -> Rig:
    cam = camera_from_params("radtan", 64, 48, 50.0, 50.0, 31.5, 23.5, (-0.1, 0.01, 0.001, 0.0, 0.0))
    fish = camera_from_params("fisheye", 40, 40, 20.0, 20.0, 19.5, 19.5, (0.01, 0.0, 0.0, 0.0))
    return Rig("test", {
        "lidar": LidarSensor("lidar", T_from_Rt(np.eye(3), (1.0, 0.0, 1.8))),
        "front": CameraSensor("front", cam, T_from_Rt(rotation_from_euler(-np.pi / 2, 0.0, -np.pi / 2), (1.5, 0, 1.5))),
        "side": CameraSensor("side", fish, T_from_Rt(rotation_from_euler(-np.pi / 2, 0.0, 0.0), (1.0, 0.5, 1.5))),
    }, "lidar")


def _range_image(rng) -> RangeImage:
    cols, rows = 90, 8
    r = rng.integers(0, 60000, (cols, rows)).astype(np.uint16)
    r[rng.random((cols, rows)) < 0.2] = 0
    return RangeImage(np.radians(np.linspace(2, -24, rows)), np.linspace(np.pi, -np.pi, cols, endpoint=False),
                      r, rng.integers(0, 256, (cols, rows)).astype(np.uint8), 0.002)


def _labels(rng, n=3) -> list[CuboidLabel]:
    return [CuboidLabel(Cuboid(rng.normal(size=3) * 10, rng.uniform(0.5, 5, 3), rng.uniform(-3, 3),
                               0.0 if k else 0.05, 0.0), "car" if k else "pedestrian", str(k + 1),
                        None if k else 0.75, "import" if k else "model",
                        {"moving": bool(k % 2), "num_lidar_points": int(k * 7)}) for k in range(n)]


@pytest.fixture()
def drive_data(tmp_path):
    rng = np.random.default_rng(1)
    rig = _rig()
    frames = []
    for i in range(3):
        yaw = 0.1 * i
        frames.append(dict(
            frame_id=f"{i:06d}", timestamp_us=1_000_000 + 100_000 * i,
            T_world_vehicle=T_from_Rt(rotation_from_euler(0.01, -0.02, yaw), (i * 1.1, 0.3 * i, 0.01)),
            sweep=_range_image(rng) if i != 1 else rng.normal(size=(500, 5)).astype(np.float32),
            images={"front": rng.integers(0, 256, (48, 64, 3), dtype=np.uint8),
                    "side": rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)},
            labels=_labels(rng), masks={"front": rng.integers(0, 70, (48, 64)).astype(np.uint16)}))
    root = tmp_path / "drive"
    with NativeDriveWriter(root, rig, "unit", meta={"seed": 1}, image_format="png") as w:
        for f in frames:
            w.add_frame(**f)
    return root, rig, frames


def test_round_trip_gives_identical_points_images_labels_and_poses(drive_data):
    root, rig, frames = drive_data
    assert is_native_drive(root) and is_native_drive(root / "drive.yaml")
    drive = open_native_drive(root)
    assert len(drive) == 3 and drive.name == "unit"
    assert drive.rig().camera_names == rig.camera_names
    for i, f in enumerate(frames):
        expected = f["sweep"].points() if isinstance(f["sweep"], RangeImage) else f["sweep"]
        np.testing.assert_array_equal(drive.points(i), expected)
        for cam, img in f["images"].items():
            np.testing.assert_array_equal(drive.image(i, cam), img)
        assert drive.labels(i) == f["labels"]
        np.testing.assert_array_equal(drive.frames[i].T_world_vehicle, f["T_world_vehicle"])
        assert drive.frames[i].timestamp_us == f["timestamp_us"]
        assert drive.frames[i].frame_id == f["frame_id"]
    assert open_drive(root).frames[2].lidar_path == root / "lidar/000002.fri"


def test_jpeg_images_and_fri_through_read_points(tmp_path):
    rng = np.random.default_rng(2)
    img = np.zeros((48, 64, 3), np.uint8)
    img[10:30, 20:50] = (200, 40, 10)
    image = _range_image(rng)
    with NativeDriveWriter(tmp_path / "d", _rig(), "jpeg") as w:
        w.add_frame("a", 0, np.eye(4), image, {"front": img}, [])
    drive = open_native_drive(tmp_path / "d")
    assert np.abs(drive.image(0, "front").astype(int) - img).mean() < 3.0
    assert drive.labels(0) == []
    np.testing.assert_array_equal(read_points(tmp_path / "d/lidar/a.fri"), image.points())


def test_range_image_codec_is_exact_and_rejects_damage():
    image = _range_image(np.random.default_rng(3))
    data = encode_range_image(image)
    assert data == encode_range_image(image)
    back = decode_range_image(data)
    np.testing.assert_array_equal(back.range, image.range)
    np.testing.assert_array_equal(back.intensity, image.intensity)
    np.testing.assert_array_equal(back.points(), image.points())
    pts = image.points()
    r = np.linalg.norm(pts[:, :3].astype(np.float64), axis=1)
    np.testing.assert_allclose(r, image.range[image.range > 0] * 0.002, rtol=1e-6)
    with pytest.raises(PointCloudError, match="magic"):
        decode_range_image(b"NOPE" + data[4:], "x.fri")
    with pytest.raises(PointCloudError, match="x.fri"):
        decode_range_image(data[:-10], "x.fri")


def _edit_index(root: Path, edit) -> Path:
    path = root / "drive.yaml"
    doc = yaml.safe_load(path.read_text())
    edit(doc)
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize("edit, key", [
    (lambda d: d.pop("format"), "format"),
    (lambda d: d.update(format="fusionlabel-drive/9"), "format"),
    (lambda d: d.pop("frames"), "frames"),
    (lambda d: d.update(frames=[]), "frames"),
    (lambda d: d.pop("rig"), "rig"),
    (lambda d: d["frames"][1].pop("lidar"), "frames[1].lidar"),
    (lambda d: d["frames"][1].pop("T_world_vehicle"), "frames[1].T_world_vehicle"),
    (lambda d: d["frames"][2].update(T_world_vehicle=[[1, 0, 0, 0], [0, 2, 0, 0], [0, 0, 1, 0]]),
     "frames[2].T_world_vehicle"),
    (lambda d: d["frames"][0].update(T_world_vehicle=[[1, 0, 0], [0, 1, 0]]), "frames[0].T_world_vehicle"),
    (lambda d: d["frames"][2].update(timestamp_us=5), "frames[2].timestamp_us"),
    (lambda d: d["frames"][2].update(timestamp_us="soon"), "frames[2].timestamp_us"),
    (lambda d: d["frames"][1].update(id="000000"), "frames[1].id"),
    (lambda d: d["frames"][0]["cameras"].update(rear="cameras/rear/0.jpg"), "frames[0].cameras.rear"),
    (lambda d: d["frames"][0].update(lidar="/etc/passwd"), "frames[0].lidar"),
    (lambda d: d["frames"][0].update(labels="../outside.json"), "frames[0].labels"),
    (lambda d: d["frames"].__setitem__(1, "frame"), "frames[1]"),
])
def test_malformed_index_names_file_and_key(drive_data, edit, key):
    root, _, _ = drive_data
    path = _edit_index(root, edit)
    with pytest.raises(DriveError) as e:
        open_native_drive(root)
    assert e.value.path == path and e.value.where == key
    assert str(path) in str(e.value) and key in str(e.value)


def test_unparseable_or_missing_index(tmp_path, drive_data):
    root, _, _ = drive_data
    (root / "drive.yaml").write_text("format: fusionlabel-drive/1\nframes: [\n  - id: 1\n  bad")
    with pytest.raises(DriveError, match=r"drive\.yaml: line \d+, column \d+: invalid YAML"):
        open_native_drive(root)
    (root / "drive.yaml").write_text("- just\n- a list\n")
    with pytest.raises(DriveError, match="expected a mapping"):
        open_native_drive(root)
    with pytest.raises(DriveError, match="drive.yaml not found"):
        open_native_drive(tmp_path)
    assert not is_native_drive(tmp_path)


def test_missing_or_broken_frame_files_fail_when_used(drive_data):
    root, _, _ = drive_data
    (root / "lidar/000002.fri").unlink()
    (root / "labels/000001.json").write_text('{"format": "fusionlabel-labels/1", "objects": [{"label": "car", '
                                             '"center": [0, 0, 0], "size": [1, 0, 1], "yaw": 0}]}')
    (root / "labels/000000.json").unlink()
    drive = open_native_drive(root)                     # the index alone is fine
    with pytest.raises(PointCloudError, match="000002.fri"):
        drive.points(2)
    with pytest.raises(LabelError) as e:
        drive.labels(1)
    assert e.value.where == "objects[0].size" and "000001.json" in str(e.value)
    with pytest.raises(LabelError, match="000000.json.*not found"):
        drive.labels(0)


@pytest.mark.parametrize("text, key", [
    ('{"objects": [{"center": [0, 0, 0], "size": [1, 1, 1], "yaw": 0}]}', "objects[0].label"),
    ('{"objects": [{"label": "car", "center": [0, 0], "size": [1, 1, 1], "yaw": 0}]}', "objects[0].center"),
    ('{"objects": [{"label": "car", "center": [0, 0, 0], "size": [1, 1, 1], "yaw": "n"}]}', "objects[0].yaw"),
    ('{"format": "other", "objects": []}', "format"),
    ('{"frame": "0"}', "objects"),
    ('[{"label": "car", "center": [0, 0, 0], "size": [1, 1, 1], "yaw": 0, "source": "x"}]', "[0].source"),
    ('{"objects": [1, 2', "line 1"),
])
def test_malformed_labels_name_file_and_key(tmp_path, text, key):
    path = tmp_path / "l.json"
    path.write_text(text)
    with pytest.raises(LabelError) as e:
        read_labels(path)
    assert e.value.where == key and e.value.path == path


SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


@pytest.mark.skipif(not (SAMPLE / "drive.yaml").is_file(), reason="sample_data/ has not been generated")
def test_sample_data_opens_and_stays_small():
    drive = open_drive(SAMPLE)
    assert len(drive) == 20
    assert len(drive.rig().camera_names) == 3 and {c.camera.model for c in drive.rig().cameras} == {
        "radtan", "fisheye", "pinhole"}
    points = drive.points(0)
    assert points.shape[1] == 5 and 90_000 < len(points) < 150_000
    assert len(drive.labels(0)) > 10
    for cam in drive.rig().camera_names:
        img = drive.image(0, cam)
        assert img.shape == (drive.rig().camera(cam).camera.height, drive.rig().camera(cam).camera.width, 3)
    size = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    assert size <= 25e6


# ------------------------------------------------------------------------------ per-camera poses
def _moving_pose(t_s: float) -> np.ndarray:
    """Ego pose of a vehicle at 12 m/s on a gentle left curve, at time ``t_s`` seconds."""
    yaw = 0.3 * t_s
    return T_from_Rt(rotation_from_euler(0.002 * t_s, -0.001, yaw), (400.0 + 12.0 * t_s, -250.0 + 2.0 * t_s, 3.0))


def _source_with_camera_poses(tmp_path) -> tuple[Drive, list[np.ndarray]]:
    """An in-memory drive whose cameras fire 8-30 ms before the LiDAR, each with its own ego pose
    (frame 1 has none for ``side``: that camera projects with the static rig there), and its sweeps."""
    rng = np.random.default_rng(7)
    frames, sweeps = [], []
    t0 = 1_532_402_927_647_951
    for i in range(3):
        t_us = t0 + 500_000 * i
        delays = {"front": 8_123 + 1000 * i, "side": 29_877 - 500 * i}
        if i == 1:
            del delays["side"]
        frames.append(Frame(f"{i:06d}", tmp_path / f"src/{i}.bin", {}, t_us, _moving_pose((t_us - t0) * 1e-6),
                            T_world_vehicle_at_camera={c: _moving_pose((t_us - d - t0) * 1e-6)
                                                       for c, d in delays.items()},
                            camera_timestamps_us={c: t_us - d for c, d in delays.items()}))
        sweeps.append(rng.normal(size=(300, 5)).astype(np.float32))
    return Drive("moving", tmp_path / "src", _rig(), frames), sweeps


def _write_copy(source: Drive, sweeps: list[np.ndarray], root: Path) -> Path:
    with NativeDriveWriter(root, source.rig(), source.name) as w:
        for f, sweep in zip(source.frames, sweeps):
            w.add_frame(f.frame_id, f.timestamp_us, f.T_world_vehicle, sweep, {}, [],
                        T_world_vehicle_at_camera=f.T_world_vehicle_at_camera,
                        camera_timestamps_us=f.camera_timestamps_us)
    return root


def _assert_same_camera_geometry(copy: Drive, source: Drive):
    assert len(copy) == len(source)
    for i, f in enumerate(source.frames):
        g = copy.frames[i]
        assert g.camera_timestamps_us == f.camera_timestamps_us
        assert set(g.T_world_vehicle_at_camera) == set(f.T_world_vehicle_at_camera)
        for cam in source.rig().camera_names:
            np.testing.assert_allclose(copy.T_cam_lidar(i, cam), source.T_cam_lidar(i, cam), rtol=0, atol=1e-9)


def test_per_camera_poses_round_trip_so_projection_is_unchanged(tmp_path):
    source, sweeps = _source_with_camera_poses(tmp_path)
    # The cameras' ego motion matters (tens of centimetres): a copy without it would fail below.
    static = source.rig().T_cam_lidar("front")
    assert np.abs(source.T_cam_lidar(0, "front")[:3, 3] - static[:3, 3]).max() > 0.05
    root = _write_copy(source, sweeps, tmp_path / "native")
    doc = yaml.safe_load((root / "drive.yaml").read_text())
    assert set(doc["frames"][1]["T_world_vehicle_at_camera"]) == {"front"}
    copy = open_native_drive(root)
    _assert_same_camera_geometry(copy, source)
    for i in range(len(source)):                 # bit-exact, in fact: poses are stored as full matrices
        for cam, T in source.frames[i].T_world_vehicle_at_camera.items():
            np.testing.assert_array_equal(copy.frames[i].T_world_vehicle_at_camera[cam], T)
    np.testing.assert_array_equal(copy.T_cam_lidar(1, "side"), source.rig().T_cam_lidar("side"))

    # `fusionlabel import` of a native drive passes them on too (and no longer warns about a loss).
    from fusionlabel.cli.main import main

    assert main(["import", str(root), "--out", str(tmp_path / "again"), "--quiet"]) == 0
    _assert_same_camera_geometry(open_native_drive(tmp_path / "again"), source)


def test_drive_without_per_camera_poses_writes_and_reads_none(drive_data):
    """Old-format frames (no per-camera keys) load as before: the static rig projects."""
    root, rig, _ = drive_data
    doc = yaml.safe_load((root / "drive.yaml").read_text())
    assert not any({"T_world_vehicle_at_camera", "camera_timestamps_us"} & set(f) for f in doc["frames"])
    drive = open_native_drive(root)
    for i, f in enumerate(drive.frames):
        assert f.T_world_vehicle_at_camera == {} and f.camera_timestamps_us == {}
        for cam in rig.camera_names:
            np.testing.assert_array_equal(drive.T_cam_lidar(i, cam), drive.rig().T_cam_lidar(cam))


def test_writer_refuses_per_camera_pose_of_unknown_camera(tmp_path):
    with NativeDriveWriter(tmp_path / "d", _rig(), "bad") as w:
        with pytest.raises(ValueError, match="T_world_vehicle_at_camera: camera.*rear.*not in the rig"):
            w.add_frame("a", 0, np.eye(4), np.zeros((3, 5), np.float32), {},
                        T_world_vehicle_at_camera={"rear": np.eye(4)})
        w.add_frame("a", 0, np.eye(4), np.zeros((3, 5), np.float32), {})


_ROT_X = [[1, 0, 0, 0], [0, 0, -1, 0], [0, 1, 0, 0]]


@pytest.mark.parametrize("edit, key, expected", [
    (lambda f: f.update(T_world_vehicle_at_camera={"front": [[1, 0, 0], [0, 1, 0]]}),
     "frames[0].T_world_vehicle_at_camera.front", "3 rows of 4"),
    (lambda f: f.update(T_world_vehicle_at_camera={"front": _ROT_X + [[0, 0, 0, 2]]}),
     "frames[0].T_world_vehicle_at_camera.front", "3 rows of 4"),
    (lambda f: f.update(T_world_vehicle_at_camera={"side": [[1, 0, 0, 0], [0, 2, 0, 0], [0, 0, 1, 0]]}),
     "frames[0].T_world_vehicle_at_camera.side", "not a rotation"),
    (lambda f: f.update(T_world_vehicle_at_camera={"front": _ROT_X, "rear": _ROT_X}),
     "frames[0].T_world_vehicle_at_camera.rear", "camera 'rear' is not in the rig"),
    (lambda f: f.update(T_world_vehicle_at_camera=[_ROT_X]), "frames[0].T_world_vehicle_at_camera",
     "expected a mapping"),
    (lambda f: f.update(camera_timestamps_us={"front": -5}), "frames[0].camera_timestamps_us.front",
     "non-negative integer"),
    (lambda f: f.update(camera_timestamps_us={"side": 1.5}), "frames[0].camera_timestamps_us.side",
     "non-negative integer"),
    (lambda f: f.update(camera_timestamps_us={"CAM_BACK": 10}), "frames[0].camera_timestamps_us.CAM_BACK",
     "not in the rig"),
])
def test_malformed_per_camera_poses_name_file_and_key(drive_data, edit, key, expected):
    root, _, _ = drive_data
    path = _edit_index(root, lambda d: edit(d["frames"][0]))
    with pytest.raises(DriveError) as e:
        open_native_drive(root)
    assert e.value.path == path and e.value.where == key and expected in e.value.problem
    assert str(e.value).startswith(f"{path}: {key}: ")


def test_malformed_per_camera_pose_through_cli_is_one_line_and_exit_2(drive_data, tmp_path):
    import subprocess
    import sys

    root, _, _ = drive_data
    path = _edit_index(root, lambda d: d["frames"][2].update(
        T_world_vehicle_at_camera={"side": [[2, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]}))
    out = subprocess.run([sys.executable, "-m", "fusionlabel.cli.main", "import", str(root), "--out",
                          str(tmp_path / "out"), "--quiet"], capture_output=True, text=True, timeout=300,
                         check=False)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert str(path) in lines[0] and "frames[2].T_world_vehicle_at_camera.side" in lines[0]
    assert not (tmp_path / "out" / "drive.yaml").exists()


@pytest.mark.skipif(not (SAMPLE / "drive.yaml").is_file(), reason="sample_data/ has not been generated")
def test_sample_data_is_old_format_and_still_loads():
    """sample_data/ predates the per-camera keys: it opens, and projects with the static rig."""
    text = (SAMPLE / "drive.yaml").read_text()
    assert "T_world_vehicle_at_camera" not in text and "camera_timestamps_us" not in text
    drive = open_drive(SAMPLE)
    assert len(drive) == 20
    for i in (0, len(drive) - 1):
        assert drive.frames[i].T_world_vehicle_at_camera == {} and drive.frames[i].camera_timestamps_us == {}
        for cam in drive.rig().camera_names:
            np.testing.assert_array_equal(drive.T_cam_lidar(i, cam), drive.rig().T_cam_lidar(cam))


def test_index_yaml_syntax_error_names_line_and_column(drive_data):
    # the same one-line form as every other YAML file fusionlabel reads: FILE: line L, column C: invalid YAML: ...
    root, _, _ = drive_data
    index = root / "drive.yaml"
    index.write_text("format: fusionlabel-drive/1\nname: a: b\n")
    with pytest.raises(DriveError) as e:
        open_native_drive(root)
    assert str(e.value) == f"{index}: line 2, column 8: invalid YAML: mapping values are not allowed in this context"
    index.write_text("format: fusionlabel-drive/1\nname: \x07\n")
    with pytest.raises(DriveError) as e:
        open_native_drive(root)
    assert str(e.value).startswith(f"{index}: line 2, column 7: invalid YAML: ") and "#x0007" in str(e.value)


@pytest.mark.parametrize("damage", ["elevation", "azimuth", "range_step", "overflow"])
def test_fri_with_nonfinite_angles_or_ranges_is_refused(drive_data, damage):
    root, _, _ = drive_data
    image = _range_image(np.random.default_rng(5))
    if damage == "elevation":
        image.elevation[3] = np.nan
    elif damage == "azimuth":
        image.azimuth[[40, 41]] = (np.inf, -np.inf)
    elif damage == "range_step":
        image.range_step = np.inf
    else:           # finite in the file, but x/y/z beyond float32
        image.range_step = 1e300
    sweep = root / "lidar/000000.fri"
    write_range_image(sweep, image)
    drive = open_native_drive(root)
    for read in (drive.points, lambda _: read_points(sweep)):
        with pytest.raises(PointCloudError) as e:
            read(0)
        message = str(e.value)
        assert message.startswith(f"{sweep}: ") and "\n" not in message
    expected = {"elevation": "elevation: 1 of 8 beam elevations are non-finite (NaN or inf, first at index 3)",
                "azimuth": "azimuth: 2 of 90 column azimuths are non-finite (NaN or inf, first at index 40)",
                "range_step": "header: range_step must be positive and finite, got inf",
                "overflow": "points have non-finite x/y/z"}[damage]
    assert expected in message, message
    assert np.isfinite(drive.points(1)).all()     # the other frames still read


def test_zero_byte_fri_is_an_empty_file_in_a_drive_too(drive_data):
    root, _, _ = drive_data
    sweep = root / "lidar/000000.fri"
    sweep.write_bytes(b"")
    with pytest.raises(PointCloudError) as e:
        open_native_drive(root).points(0)
    assert str(e.value) == f"{sweep}: empty file (0 bytes), expected a point cloud"


def test_pose_printed_with_6_decimals_loads_as_an_exact_rotation(drive_data):
    from fusionlabel.geometry.transforms import rotation_error
    root, _, frames = drive_data
    exact = [f["T_world_vehicle"] for f in frames]
    _edit_index(root, lambda d: [f.update(T_world_vehicle=np.round(T[:3], 6).tolist())
                                 for f, T in zip(d["frames"], exact)])
    drive = open_native_drive(root)
    assert max(rotation_error(np.round(T[:3, :3], 6)) for T in exact) > 1e-6   # the old loader refused these
    for frame, T in zip(drive.frames, exact):
        assert rotation_error(frame.T_world_vehicle[:3, :3]) < 1e-12
        np.testing.assert_allclose(frame.T_world_vehicle, T, atol=2e-6)


def test_pose_rounded_too_coarsely_or_mirrored_is_refused(drive_data):
    root, _, frames = drive_data
    T = frames[1]["T_world_vehicle"]
    _edit_index(root, lambda d: d["frames"][1].update(T_world_vehicle=np.round(T[:3], 3).tolist()))
    with pytest.raises(DriveError, match=r"frames\[1\]\.T_world_vehicle: rotation part is not a rotation .* > 0\.0001; "
                                         r"write at least 6 significant digits"):
        open_native_drive(root)
    mirrored = np.diag([1.0, -1.0, 1.0, 1.0]) @ T
    _edit_index(root, lambda d: d["frames"][1].update(T_world_vehicle=mirrored[:3].tolist()))
    with pytest.raises(DriveError, match=r"frames\[1\]\.T_world_vehicle: rotation part is not a rotation: det = -1"):
        open_native_drive(root)


def test_unquoted_numeric_frame_id_is_refused_showing_what_was_written(drive_data):
    root, _, _ = drive_data
    path = root / "drive.yaml"
    text = path.read_text()
    assert "id: '000001'" in text
    path.write_text(text.replace("id: '000001'", "id: 000010"))    # YAML 1.1 reads octal: 8
    with pytest.raises(DriveError) as e:
        open_native_drive(root)
    assert str(e.value) == (f"{path}: frames[1].id: expected a string, got 000010 (YAML reads it as the number 8); "
                            f'quote it: id: "000010"')
    path.write_text(text.replace("id: '000001'", "id: 17"))
    with pytest.raises(DriveError, match=r'frames\[1\]\.id: expected a string, got the number 17; quote it: id: "17"'):
        open_native_drive(root)


@pytest.mark.parametrize("edit, key", [
    (lambda d: d.update(rigs="rig.yaml"), "rigs"),
    (lambda d: d["frames"][1].update(timestamp=5), "frames[1].timestamp"),
    (lambda d: d["frames"][2].update(T_world_vehicel=d["frames"][2]["T_world_vehicle"]), "frames[2].T_world_vehicel"),
    (lambda d: d["frames"][0].update(camera_timestamp_us={"front": 1}), "frames[0].camera_timestamp_us"),
])
def test_unknown_index_keys_are_refused_naming_the_key(drive_data, edit, key):
    root, _, _ = drive_data
    path = _edit_index(root, edit)
    with pytest.raises(DriveError) as e:
        open_native_drive(root)
    assert e.value.where == key
    assert str(e.value).startswith(f"{path}: {key}: unknown key (expected one of ")


@pytest.mark.parametrize("key", ["timestamp_us", "camera_timestamps_us"])
def test_timestamps_in_nanoseconds_are_refused(drive_data, key):
    root, _, _ = drive_data
    ns = 1_600_000_000_000_000_000
    if key == "timestamp_us":
        _edit_index(root, lambda d: [f.update(timestamp_us=ns + i) for i, f in enumerate(d["frames"])])
        where = "frames[0].timestamp_us"
    else:
        _edit_index(root, lambda d: d["frames"][0].update(camera_timestamps_us={"front": ns}))
        where = "frames[0].camera_timestamps_us.front"
    with pytest.raises(DriveError, match=rf"{re.escape(where)}: {ns} microseconds is after the year 2200.*nanoseconds"):
        open_native_drive(root)


def test_range_image_points_are_the_per_point_formula_to_the_bit():
    """Range-image points (computed on the whole grid, sines and cosines once per beam and column)
    against the formula point by point, in firing order: x, y, z to the bit, intensity and ring."""
    rng = np.random.default_rng(8)
    cols, rows = 2000, 32
    r = rng.integers(0, 65535, (cols, rows)).astype(np.uint16)
    r[rng.random((cols, rows)) < 0.3] = 0
    image = RangeImage(np.sort(rng.uniform(-0.5, 0.3, rows))[::-1], rng.uniform(-np.pi, np.pi, cols), r,
                       rng.integers(0, 256, (cols, rows)).astype(np.uint8), 0.004)
    col, row = np.nonzero(r)  # firing order: column by column, beams in order
    dist = r[col, row].astype(np.float64) * 0.004
    el, az = image.elevation[row], image.azimuth[col]
    expected = np.column_stack([dist * np.cos(el) * np.cos(az), dist * np.cos(el) * np.sin(az), dist * np.sin(el),
                                image.intensity[col, row], row]).astype(np.float32)
    assert np.array_equal(image.points(), expected)


@pytest.mark.parametrize("times, unit", [
    ([1_600_000_000, 1_600_000_001, 1_600_000_002], "seconds written \\(multiply by 1,000,000\\)"),
    ([1_600_000_000_000, 1_600_000_000_100, 1_600_000_000_200], "milliseconds written \\(multiply by 1000\\)"),
    ([0, 1, 2], "seconds or milliseconds written"),
])
def test_timestamps_in_seconds_or_milliseconds_are_refused(drive_data, times, unit):
    """Seconds or milliseconds read as microseconds put frames microseconds apart in 1970."""
    root, _, _ = drive_data
    path = _edit_index(root, lambda d: [f.update(timestamp_us=t) for t, f in zip(times, d["frames"])])
    step = times[1] - times[0]
    with pytest.raises(DriveError, match=rf"^{re.escape(str(path))}: frames\[0\]\.timestamp_us: frames are {step} "
                                         rf"microseconds? apart \(median\) and dated before the year 2000; .*{unit}"):
        open_native_drive(root)


@pytest.mark.parametrize("times", [[0, 100_000, 200_000], [1_600_000_000, 1_600_050_000, 1_600_100_000],
                                   [1_600_000_000_000, 1_600_000_500_000, 1_600_001_000_000]])
def test_early_timestamps_a_sweep_apart_are_kept(drive_data, times):
    """Times counted from 0 (imports without times) or from a sensor's own clock are microseconds
    when the frames are a plausible sweep period apart: nothing to refuse."""
    root, _, _ = drive_data
    _edit_index(root, lambda d: [f.update(timestamp_us=t) for t, f in zip(times, d["frames"])])
    assert [f.timestamp_us for f in open_native_drive(root).frames] == times


def test_camera_named_by_a_number_in_drive_yaml_is_refused_without_sorting_names(drive_data):
    """``1:`` in drive.yaml's cameras is the number 1; the message lists the rig's cameras in rig order."""
    root, _, _ = drive_data
    path = root / "drive.yaml"
    text = path.read_text()
    path.write_text(text.replace("cameras: {front:", "cameras: {1:", 1))
    with pytest.raises(DriveError) as e:
        open_native_drive(root)
    assert str(e.value) == f'{path}: frames[0].cameras.1: camera names are strings; quote it: "1"'
    path.write_text(text.replace("cameras: {front:", "cameras: {'1':", 1))
    with pytest.raises(DriveError) as e:
        open_native_drive(root)
    assert str(e.value) == f"{path}: frames[0].cameras.1: camera '1' is not in the rig (cameras: front, side)"


def test_duplicate_key_in_drive_yaml_is_refused(drive_data):
    """A frame with two ``lidar:`` lines used to show the second sweep without a word."""
    root, _, _ = drive_data
    path = root / "drive.yaml"
    lines = path.read_text().splitlines()
    first = next(n for n, line in enumerate(lines) if line.strip().startswith("lidar:"))
    lines.insert(first + 1, lines[first].replace("000000", "000001"))
    path.write_text("\n".join(lines) + "\n")
    column = len(lines[first]) - len(lines[first].lstrip()) + 1
    with pytest.raises(DriveError) as e:
        open_native_drive(root)
    assert str(e.value) == (f"{path}: line {first + 2}, column {column}: invalid YAML: key 'lidar' appears twice "
                            f"(first at line {first + 1}, column {column})")


def _write_labels(path: Path, yaw: float) -> Path:
    path.write_text('{"format": "fusionlabel-labels/1", "objects": [{"label": "car", "center": [5, 0, 0], '
                    f'"size": [4, 2, 1.5], "yaw": {yaw}}}]}}')
    return path


def test_label_yaw_in_degrees_is_refused_but_predictions_may_run_past_a_turn(tmp_path):
    path = _write_labels(tmp_path / "000000.json", 91.2)
    with pytest.raises(LabelError) as e:
        read_labels(path)
    assert str(e.value) == f"{path}: objects[0].yaw: 91.2 is beyond ±2π; yaw is in radians (were degrees written?)"
    for yaw in (6.28, -3.1416, 0.0):        # within one turn either way
        assert read_labels(_write_labels(path, yaw))[0].box.yaw == pytest.approx(np.arctan2(np.sin(yaw), np.cos(yaw)))
    unwrapped = read_labels(_write_labels(path, -7.9), unwrapped_yaw=True)[0].box    # as prediction readers ask
    assert unwrapped.yaw == pytest.approx(-7.9 + 2 * np.pi)
