"""The native drive folder: round trip and validation errors that name the file and the key."""

from __future__ import annotations

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
                                   is_native_drive, open_native_drive, read_labels)
from fusionlabel.io.pointcloud import read_points
from fusionlabel.model.annotation import CuboidLabel
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
    with pytest.raises(DriveError, match=r"drive\.yaml: line \d+: invalid YAML"):
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
