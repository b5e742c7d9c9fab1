"""nuScenes export loaded back by nuscenes-devkit: the real keyframe round trip (boxes, num_lidar_pts,
projections), simulated drives (boxes on the rendered objects, devkit renderings), class mapping."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("nuscenes")
from nuscenes.nuscenes import NuScenes  # noqa: E402
from nuscenes.utils.geometry_utils import view_points  # noqa: E402

from conftest import export_to_temp, native_copy, quiet  # noqa: E402
from fusionlabel.export import export_drive  # noqa: E402
from fusionlabel.io.kitti import open_kitti_object  # noqa: E402
from fusionlabel.io.nuscenes import open_nuscenes  # noqa: E402
from fusionlabel.model.annotation import CuboidLabel  # noqa: E402


def load(root: Path, version: str = "v1.0-mini") -> NuScenes:
    return NuScenes(version=version, dataroot=str(root), verbose=False)


@pytest.fixture(scope="module")
def real_export(nusc_root, tmp_path_factory):
    return export_to_temp(open_nuscenes(nusc_root), "nuscenes", tmp_path_factory)


def test_real_round_trip_boxes_and_points(nusc_root, real_export):
    _, out, summary = real_export
    a, b = load(nusc_root), load(out)
    assert len(b.sample_annotation) == len(a.sample_annotation) == summary.total_objects == 69
    for ann in a.sample_annotation:
        box_a, box_b = a.get_box(ann["token"]), b.get_box(ann["token"])
        assert np.abs(box_a.center - box_b.center).max() <= 1e-3
        assert abs((box_a.orientation.inverse * box_b.orientation).radians) <= 1e-4
        np.testing.assert_allclose(box_a.wlh, box_b.wlh, atol=1e-9)
        rec = b.get("sample_annotation", ann["token"])
        assert rec["num_lidar_pts"] == ann["num_lidar_pts"]
        assert rec["num_radar_pts"] == ann["num_radar_pts"] and rec["visibility_token"] == ann["visibility_token"]
        assert rec["category_name"] == ann["category_name"] and rec["instance_token"] == ann["instance_token"]


def test_real_round_trip_projection_and_reimport(nusc_root, real_export):
    drive, out, _ = real_export
    a, b = load(nusc_root), load(out)
    sample = a.sample[0]
    assert b.sample[0]["token"] == sample["token"] and set(b.sample[0]["data"]) == set(sample["data"])
    for ch, cam_token in sample["data"].items():
        if ch == "LIDAR_TOP":
            continue
        pa, _, _ = a.explorer.map_pointcloud_to_image(sample["data"]["LIDAR_TOP"], cam_token)
        pb, _, _ = b.explorer.map_pointcloud_to_image(b.sample[0]["data"]["LIDAR_TOP"], b.sample[0]["data"][ch])
        assert pa.shape == pb.shape and np.abs(pa - pb).max() < 0.05
    again = open_nuscenes(out)
    for x, y in zip(drive.labels(0), again.labels(0)):
        assert (x.label, x.track_id, x.attributes) == (y.label, y.track_id, y.attributes)
        assert np.abs(np.subtract(x.box.center, y.box.center)).max() < 1e-9
    assert again.frames[0].camera_timestamps_us == drive.frames[0].camera_timestamps_us


@pytest.fixture(scope="module")
def sim_export(export_masked_sim):
    return export_masked_sim("nuscenes")


def test_sim_export_loads_with_boxes_where_drawn(sim_export):
    drive, out, summary = sim_export
    nusc = load(out)
    assert len(nusc.sample) == len(drive) and nusc.scene[0]["nbr_samples"] == len(drive)
    assert set(nusc.sample[0]["data"]) == {"LIDAR_TOP", "CAM_FRONT", "CAM_FRONT_LEFT", "CAM_FRONT_RIGHT"}
    classes = {"car": "vehicle.car", "van": "vehicle.car", "truck": "vehicle.truck",
               "pedestrian": "human.pedestrian.adult", "bus": "vehicle.bus.rigid", "cyclist": "vehicle.bicycle"}
    for i, sample in enumerate(nusc.sample):
        labels = drive.labels(i)
        _, boxes, _ = nusc.get_sample_data(sample["data"]["LIDAR_TOP"])  # in the LiDAR frame
        assert len(boxes) == len(labels)
        by_track = {nusc.get("sample_annotation", b.token)["instance_token"]: b for b in boxes}
        instance_of = {inst["token"]: inst for inst in nusc.instance}
        for lab in labels:
            match = [b for b in boxes if np.abs(b.center - lab.box.center).max() < 1e-6]
            assert len(match) == 1
            b = match[0]
            np.testing.assert_allclose(b.rotation_matrix, lab.box.rotation(), atol=1e-9)
            assert b.name == classes[lab.label]
        assert len(by_track) == len(labels) and set(by_track) <= set(instance_of)
    # instances link the same object across frames
    multi = [inst for inst in nusc.instance if inst["nbr_annotations"] == len(drive)]
    assert multi, "tracked objects should span both frames"
    first = nusc.get("sample_annotation", multi[0]["first_annotation_token"])
    assert nusc.get("sample_annotation", first["next"])["prev"] == first["token"]
    assert summary.total_skipped == 0


def _devkit_rects(nusc: NuScenes, cam_token: str) -> dict[str, tuple[float, float, float, float]]:
    """2D extents of the devkit's boxes in a camera (only boxes fully in front of it)."""
    _, boxes, K = nusc.get_sample_data(cam_token)
    out = {}
    for b in boxes:
        corners = b.corners()
        if corners[2].min() <= 0.5:
            continue
        uv = view_points(corners, K, normalize=True)[:2]
        track = nusc.get("sample_annotation", b.token)["instance_token"]
        out[track] = (uv[0].min(), uv[1].min(), uv[0].max(), uv[1].max())
    return out


@pytest.mark.parametrize("camera", ["cam_front", "cam_front_right", "cam_front_left"])
def test_sim_devkit_boxes_sit_on_rendered_objects(sim_export, camera):
    """Independent check: the simulator's per-pixel object masks, undistorted with OpenCV, fall
    inside the boxes the devkit projects from the exported tables."""
    drive, out, _ = sim_export
    nusc = load(out)
    ch = "CAM_" + camera[4:].upper()
    cam = drive.rig(0).camera(camera).camera
    checked = 0
    for i, sample in enumerate(nusc.sample):
        mask = cv2.imread(str(drive.root / "debug" / "masks" / camera / f"{drive.frames[i].frame_id}.png"),
                          cv2.IMREAD_UNCHANGED)
        if cam.model == "radtan":
            m1, m2 = cv2.initUndistortRectifyMap(cam.K, np.array(cam.distortion), None, cam.K,
                                                 (cam.width, cam.height), cv2.CV_32FC1)
        elif cam.model == "fisheye":
            m1, m2 = cv2.fisheye.initUndistortRectifyMap(cam.K, np.array(cam.distortion), np.eye(3), cam.K,
                                                         (cam.width, cam.height), cv2.CV_32FC1)
        else:
            m1 = m2 = None
        if m1 is not None:
            mask = cv2.remap(mask, m1, m2, cv2.INTER_NEAREST)
        rects = _devkit_rects(nusc, sample["data"][ch])
        T = drive.T_world_lidar(i)
        for ann in (a for a in nusc.sample_annotation if a["sample_token"] == sample["token"]):
            centre = nusc.get_box(ann["token"]).center
            lab = next(lab for lab in drive.labels(i)
                       if np.abs(T[:3, :3] @ lab.box.center + T[:3, 3] - centre).max() < 1e-6)
            ys, xs = np.nonzero(mask == int(lab.track_id))
            if len(xs) < 80 or ann["instance_token"] not in rects:
                continue
            x1, y1, x2, y2 = rects[ann["instance_token"]]
            inside = (xs >= x1 - 2) & (xs <= x2 + 2) & (ys >= y1 - 2) & (ys <= y2 + 2)
            assert inside.mean() >= 0.97, (camera, lab.label, lab.track_id, inside.mean())
            checked += 1
    assert checked >= 3


def test_sim_devkit_renders(sim_export, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    _, out, _ = sim_export
    nusc = load(out)
    sample = nusc.sample[-1]
    for ch, token in sample["data"].items():
        path = tmp_path / f"{ch}.png"
        nusc.render_sample_data(token, out_path=str(path), verbose=False)
        image = cv2.imread(str(path))
        assert image is not None and image.shape[0] > 500 and image.std() > 10
    nusc.render_pointcloud_in_image(sample["token"], camera_channel="CAM_FRONT",
                                    out_path=str(tmp_path / "pc.png"), verbose=False)
    assert (tmp_path / "pc.png").stat().st_size > 50_000


def test_class_mapping_and_skips(small_sim_drive, tmp_path):
    drive = small_sim_drive

    def labels_for(i):
        labels = drive.labels(i)
        return [*labels, labels[0].with_(label="shopping_trolley", track_id="x1"),
                labels[0].with_(label="tank", track_id="x2")]

    s = export_drive(drive, "nuscenes", tmp_path / "out", labels_for,
                     quiet(frames=[0], class_map={"tank": "vehicle.tank"}, sensor_data=False))
    assert s.skipped[("no nuScenes category for it (use --class-map)", "shopping_trolley")] == 1
    assert s.skipped[("'vehicle.tank' is not a nuScenes category", "tank")] == 1
    nusc = load(tmp_path / "out")
    assert len(nusc.sample_annotation) == len(drive.labels(0))
    assert any("--labels-only" in t for t in s.cannot_hold)


def test_kitti_drive_without_timestamps(kitti_object, tmp_path):
    drive = open_kitti_object(kitti_object)
    s = export_drive(drive, "nuscenes", tmp_path / "out", options=quiet())
    nusc = load(tmp_path / "out")
    times = [smp["timestamp"] for smp in nusc.sample]
    assert all(b - a == 500_000 for a, b in zip(times, times[1:]))
    assert any("timestamps do not increase" in t for t in s.cannot_hold)
    assert set(nusc.sample[0]["data"]) == {"LIDAR_TOP", "CAM_IMAGE_2"}
    # frames keep their own calibration: one calibrated_sensor per distinct calibration file
    distinct = len({p.read_text() for p in (kitti_object / "calib").glob("*.txt")})
    assert len({sd["calibrated_sensor_token"] for sd in nusc.sample_data if sd["fileformat"] == "jpg"}) == distinct
    for i, sample in enumerate(nusc.sample):
        _, boxes, _ = nusc.get_sample_data(sample["data"]["LIDAR_TOP"])
        ours = [lab for lab in drive.labels(i) if lab.label in ("Car", "Pedestrian", "Truck", "Cyclist")]
        assert len(boxes) == len(ours)
        for b, lab in zip(sorted(boxes, key=lambda b: tuple(b.center)),
                          sorted(ours, key=lambda lab: tuple(lab.box.center))):
            np.testing.assert_allclose(b.center, lab.box.center, atol=1e-9)


def test_labels_are_read_through_labels_for(small_sim_drive, tmp_path):
    """The exporter takes labels from the callable, not from the drive (project store hook)."""
    drive = small_sim_drive
    from fusionlabel.geometry.cuboid import Cuboid

    only = CuboidLabel(Cuboid((10.0, 2.0, 0.0), (4.0, 2.0, 1.5), 0.3), "car", "77", None, "human", {})
    export_drive(drive, "nuscenes", tmp_path / "out", lambda i: [only] if i == 1 else [],
                 quiet(sensor_data=False))
    nusc = load(tmp_path / "out")
    assert len(nusc.sample_annotation) == 1
    _, boxes, _ = nusc.get_sample_data(nusc.sample[1]["data"]["LIDAR_TOP"])
    np.testing.assert_allclose(boxes[0].center, only.box.center, atol=1e-9)


def test_a_sweep_without_points_is_an_empty_file_the_devkit_loads(small_sim_drive, tmp_path):
    """Every sample keeps its LIDAR_TOP sample_data, and the file it names exists: an empty sweep is
    written as a 0-byte .pcd.bin, which the devkit reads as 0 points; its boxes stay, with 0 points."""
    from nuscenes.utils.data_classes import LidarPointCloud

    drive = native_copy(small_sim_drive, tmp_path / "d", empty_sweep=1)
    s = export_drive(drive, "nuscenes", tmp_path / "out", options=quiet())
    assert s.frames == 3 and not s.skipped_frames and not s.not_written
    assert any("frame(s) 000001" in t and "empty .pcd.bin" in t for t in s.cannot_hold)
    nusc = load(tmp_path / "out")
    assert len(nusc.sample) == 3
    for k, sample in enumerate(nusc.sample):
        path, boxes, _ = nusc.get_sample_data(sample["data"]["LIDAR_TOP"])
        cloud = LidarPointCloud.from_file(path)
        assert len(boxes) == len(drive.labels(k)) > 0
        if k == 1:
            assert Path(path).stat().st_size == 0 and cloud.points.shape == (4, 0)
            assert all(nusc.get("sample_annotation", t)["num_lidar_pts"] == 0 for t in sample["anns"])
        else:
            assert cloud.nbr_points() == len(drive.points(k)) > 0
        for ch, token in sample["data"].items():
            assert Path(nusc.get_sample_data_path(token)).is_file(), ch


def test_detection_eval_loader_accepts_export(nusc_root, real_export):
    """nuScenes' detection evaluation reads the exported ground truth like the original."""
    from nuscenes.eval.common.loaders import load_gt
    from nuscenes.eval.detection.data_classes import DetectionBox

    _, out, _ = real_export
    a = load_gt(load(nusc_root), "mini_train", DetectionBox, verbose=False)
    b = load_gt(load(out), "mini_train", DetectionBox, verbose=False)
    assert len(b.all) == len(a.all) == 68
    key = lambda box: (box.detection_name, tuple(np.round(box.translation, 6)))  # noqa: E731
    for x, y in zip(sorted(a.all, key=key), sorted(b.all, key=key)):
        assert key(x) == key(y) and x.num_pts == y.num_pts


def test_cli_nuscenes_export(nusc_root, tmp_path):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "fusionlabel.cli.main", "export", str(nusc_root), "--scene",
                          "scene-0061", "--format", "nuscenes", "--nuscenes-version", "v1.0-trainval", "--out",
                          str(tmp_path / "o"), "--classes", "vehicle.car,vehicle.truck", "--quiet"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "vehicle.car: 8" in out.stdout and "59 object(s)" in out.stdout
    nusc = load(tmp_path / "o", "v1.0-trainval")
    assert len(nusc.sample_annotation) == 10
    bad = subprocess.run([sys.executable, "-m", "fusionlabel.cli.main", "export", str(nusc_root), "--scene",
                          "scene-7", "--format", "nuscenes", "--out", str(tmp_path / "p")],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "scene-7" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_class_map_drop_is_counted(small_sim_drive, tmp_path):
    drive = small_sim_drive
    n_ped = sum(lab.label == "pedestrian" for lab in drive.labels(0))
    s = export_drive(drive, "nuscenes", tmp_path / "out",
                     options=quiet(frames=[0], class_map={"pedestrian": None}, sensor_data=False))
    assert s.skipped[("dropped by --class-map", "pedestrian")] == n_ped > 0
    assert s.total_objects + s.total_skipped == len(drive.labels(0))


def test_counts_of_a_track_with_two_classes_are_those_written(small_sim_drive, tmp_path):
    """A car track retyped to truck in one frame is written as one car instance (an instance has
    one category): the summary and the manifest count what the devkit reads, car for every box."""
    import json
    from collections import Counter

    drive = small_sim_drive
    track = next(lab.track_id for lab in drive.labels(0) if lab.label == "car"
                 and all(any(m.track_id == lab.track_id for m in drive.labels(i)) for i in range(len(drive))))

    def labels_for(i):
        return [lab.with_(label="truck") if lab.track_id == track and i == 1 else lab for lab in drive.labels(i)]

    s = export_drive(drive, "nuscenes", tmp_path / "out", labels_for, quiet(sensor_data=False))
    nusc = load(tmp_path / "out")
    read = Counter(ann["category_name"] for ann in nusc.sample_annotation)
    assert read["vehicle.car"] > 0 and dict(s.objects) == dict(read)
    manifest = json.loads((tmp_path / "out" / "fusionlabel_export.json").read_text())
    assert manifest["summary"]["objects"] == dict(sorted(read.items()))
    assert any("1 annotation(s) whose class differs" in t for t in s.cannot_hold)


def test_attributes_of_a_track_with_two_classes_fit_its_category(small_sim_drive, tmp_path):
    """A car track drawn as a pedestrian in one frame is one car instance: that frame's box gets a
    vehicle attribute (from the track's speed), never a pedestrian one the devkit would pair with a car."""
    drive = small_sim_drive
    track = next(lab.track_id for lab in drive.labels(0) if lab.label == "car"
                 and all(any(m.track_id == lab.track_id for m in drive.labels(i)) for i in range(len(drive))))

    def labels_for(i):
        return [lab.with_(label="pedestrian") if lab.track_id == track and i == 1 else lab
                for lab in drive.labels(i)]

    export_drive(drive, "nuscenes", tmp_path / "out", labels_for, quiet(sensor_data=False))
    nusc = load(tmp_path / "out")
    named = 0
    for ann in nusc.sample_annotation:
        group = {"vehicle.bicycle": "cycle", "vehicle.motorcycle": "cycle"}.get(
            ann["category_name"], ann["category_name"].split(".")[0].replace("human", "pedestrian"))
        for token in ann["attribute_tokens"]:
            assert nusc.get("attribute", token)["name"].split(".")[0] == group, ann["category_name"]
            named += 1
    assert named > 0
