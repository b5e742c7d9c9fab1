"""KITTI object and tracking export: round trips on the real KITTI frames, recomputed 2D fields,
generic drives (undistorted images, calib), output-folder safety and the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import levelled_R0, quiet, simulated_drive
from fusionlabel.export import ExportError, export_drive
from fusionlabel.export.base import MANIFEST
from fusionlabel.errors import InputError
from fusionlabel.model.frame_spec import parse_frames
from fusionlabel.geometry.cuboid_projection import rect_iou
from fusionlabel.geometry.transforms import angle_difference, invert_T
from fusionlabel.io.kitti import cuboid_from_kitti, open_kitti_object, read_kitti_calib, read_kitti_label_file

FRAMES = ("000000", "000001", "000002", "000134")


# test_openlabel.py imports sim_drive from here; new tests take the small_sim_drive fixture
sim_drive = simulated_drive


# ------------------------------------------------------------------------------ real KITTI round trip
def test_kitti_round_trip_is_byte_identical(kitti_object, tmp_path):
    drive = open_kitti_object(kitti_object)
    summary = export_drive(drive, "kitti", tmp_path / "out", options=quiet())
    for fid in FRAMES:
        for sub in ("label_2", "calib"):
            original = (kitti_object / sub / f"{fid}.txt").read_bytes()
            assert (tmp_path / "out" / sub / f"{fid}.txt").read_bytes() == original, (sub, fid)
        assert (tmp_path / "out" / "velodyne" / f"{fid}.bin").read_bytes() == \
            (kitti_object / "velodyne" / f"{fid}.bin").read_bytes()
    n_lines = sum(len(read_kitti_label_file(kitti_object / "label_2" / f"{f}.txt")) for f in FRAMES)
    assert summary.total_objects == n_lines and summary.total_skipped == 0
    assert (tmp_path / "out" / MANIFEST).is_file()


def test_kitti_recomputed_fields_agree_with_originals(kitti_object, tmp_path):
    """Every field recomputed from the cuboid: geometry exact to KITTI's precision, alpha within
    rounding, 2D boxes with median IoU >= 0.93 against the labelled ones."""
    drive = open_kitti_object(kitti_object)
    export_drive(drive, "kitti", tmp_path / "out", options=quiet(keep_imported_2d=False))
    ious, occ_agree, n = [], 0, 0
    for fid in FRAMES:
        orig = [d for d in read_kitti_label_file(kitti_object / "label_2" / f"{fid}.txt") if d.type != "DontCare"]
        ours = [d for d in read_kitti_label_file(tmp_path / "out" / "label_2" / f"{fid}.txt") if d.type != "DontCare"]
        assert [d.type for d in ours] == [d.type for d in orig]
        for a, b in zip(orig, ours):
            np.testing.assert_allclose(b.dimensions_hwl, a.dimensions_hwl, atol=1e-9)
            np.testing.assert_allclose(b.location, a.location, atol=1e-9)
            assert b.rotation_y == pytest.approx(a.rotation_y, abs=1e-9)
            assert abs(angle_difference(b.alpha, a.alpha)) <= 0.021
            assert abs(b.truncated - a.truncated) <= 0.05
            ious.append(rect_iou(a.bbox, b.bbox))
            occ_agree += a.occluded == b.occluded
            n += 1
    assert np.median(ious) >= 0.93, sorted(ious)
    assert min(ious) > 0.45  # small pedestrians: the cuboid is wider than the person (README: 0.49)
    assert occ_agree / n >= 0.6, f"occlusion level agrees for {occ_agree}/{n}"


def test_edited_box_gets_fresh_2d_fields(kitti_object, tmp_path):
    drive = open_kitti_object(kitti_object)
    i = drive.index_of("000134")

    def labels_for(k):
        labels = drive.labels(k)
        if k != i:
            return labels
        moved = labels[0].with_(box=labels[0].box.with_(center=np.add(labels[0].box.center, (0.0, 1.5, 0.0))))
        return [moved, *labels[1:]]

    export_drive(drive, "kitti", tmp_path / "out", labels_for, quiet(frames=[i]))
    orig = read_kitti_label_file(kitti_object / "label_2" / "000134.txt")
    ours = read_kitti_label_file(tmp_path / "out" / "label_2" / "000134.txt")
    assert ours[0].bbox != orig[0].bbox and rect_iou(ours[0].bbox, orig[0].bbox) < 0.9
    assert ours[0].location[0] == pytest.approx(orig[0].location[0] - 1.5, abs=0.02)  # lidar +y = camera -x
    assert [d.bbox for d in ours[1:]] == [d.bbox for d in orig[1:]]


def test_small_edit_noticed_without_source_label_file(kitti_object, tmp_path):
    # A 5 cm nudge keeps alpha within tolerance; kitti_geometry still reveals the edit when the
    # exporter cannot re-read the drive's label file (a copy of the drive without label_2/).
    import shutil

    copy = tmp_path / "kitti"
    for d in ("velodyne", "image_2", "calib", "label_2"):
        shutil.copytree(kitti_object / d, copy / d)
    drive = open_kitti_object(copy)
    i = drive.index_of("000134")
    labels = list(drive.labels(i))
    shutil.rmtree(copy / "label_2")
    nudged = labels[0].with_(box=labels[0].box.with_(center=np.add(labels[0].box.center, (0.05, 0.0, 0.0))))

    export_drive(drive, "kitti", tmp_path / "out", lambda k: [nudged, *labels[1:]] if k == i else [],
                 quiet(frames=[i]))
    orig = read_kitti_label_file(kitti_object / "label_2" / "000134.txt")
    ours = read_kitti_label_file(tmp_path / "out" / "label_2" / "000134.txt")
    assert ours[0].bbox != orig[0].bbox            # recomputed from the moved box
    assert [d.bbox for d in ours[1:len(labels)]] == [d.bbox for d in orig[1:len(labels)]]  # untouched kept


def test_class_filter_and_dontcare(kitti_object, tmp_path):
    drive = open_kitti_object(kitti_object)
    summary = export_drive(drive, "kitti", tmp_path / "out", options=quiet(classes={"Pedestrian"}))
    lines = read_kitti_label_file(tmp_path / "out" / "label_2" / "000134.txt")
    assert {d.type for d in lines} == {"Pedestrian"} and len(lines) == 7
    assert summary.skipped[("class not selected (--classes)", "DontCare")] == 6
    assert summary.skipped[("class not selected (--classes)", "Cyclist")] == 6
    assert summary.objects == {"Pedestrian": 8}


def test_objects_outside_the_camera_keep_or_drop(kitti_object, tmp_path):
    drive = open_kitti_object(kitti_object)
    i = drive.index_of("000001")

    def labels_for(k):
        labels = drive.labels(k)
        behind = labels[1].with_(box=labels[1].box.with_(center=(-20.0, 0.0, -1.0)), source="human")
        return [*labels, behind]

    s = export_drive(drive, "kitti", tmp_path / "keep", labels_for, quiet(frames=[i]))
    last = read_kitti_label_file(tmp_path / "keep" / "label_2" / "000001.txt")[3]
    assert last.bbox == (-1.0, -1.0, -1.0, -1.0) and last.truncated == 1.0 and last.occluded == 3
    assert last.location[2] < 0  # behind the camera, still where it was drawn
    assert any("outside camera image_2" in t for t in s.cannot_hold)
    s = export_drive(drive, "kitti", tmp_path / "drop", labels_for, quiet(frames=[i], outside="drop"))
    assert len(read_kitti_label_file(tmp_path / "drop" / "label_2" / "000001.txt")) == 7
    assert s.skipped[("outside camera image_2 (--outside drop)", "Car")] == 1


# ------------------------------------------------------------------------------ generic drives
def test_generic_drive_round_trips_through_kitti_reader(small_sim_drive, tmp_path):
    drive = small_sim_drive
    summary = export_drive(drive, "kitti", tmp_path / "out", options=quiet(camera="cam_front"))
    back = open_kitti_object(tmp_path / "out")
    assert len(back) == len(drive)
    cam = drive.rig(0).camera("cam_front").camera
    for i in range(len(drive)):
        calib = read_kitti_calib(tmp_path / "out" / "calib" / f"{i:06d}.txt")
        np.testing.assert_allclose(calib.P[2][:, :3], cam.K, atol=1e-6)
        R0 = levelled_R0(drive.rig(i).camera("cam_front").T_vehicle_sensor)     # the camera is pitched 2 degrees
        np.testing.assert_allclose(calib.R0_rect, R0, atol=1e-9)
        np.testing.assert_allclose(calib.Tr_velo_to_cam, drive.T_cam_lidar(i, "cam_front")[:3], atol=1e-9)
        originals = drive.labels(i)
        ours = back.labels(i)
        assert [b.label for b in ours] == [{"car": "Car", "van": "Van", "truck": "Truck", "pedestrian":
                                            "Pedestrian"}.get(a.label, a.label) for a in originals]
        for a, b in zip(originals, ours):
            assert np.abs(np.subtract(a.box.center, b.box.center)).max() < 0.011
            assert abs(angle_difference(a.box.yaw, b.box.yaw)) < 0.006
        pts = np.fromfile(tmp_path / "out" / "velodyne" / f"{i:06d}.bin", dtype="<f4").reshape(-1, 4)
        np.testing.assert_array_equal(pts, drive.points(i)[:, :4])
    assert summary.objects["Car"] > 0 and any("lens distortion" in t for t in summary.cannot_hold)


def test_undistorted_image_matches_opencv(small_sim_drive, tmp_path):
    """The exported image_2 of a pitched radial-tangential camera equals OpenCV's undistortion and
    rectification of the original by the levelling rotation (same K)."""
    drive = small_sim_drive
    export_drive(drive, "kitti", tmp_path / "out", options=quiet(camera="cam_front", frames=[0]))
    sensor = drive.rig(0).camera("cam_front")
    cam = sensor.camera
    original = cv2.imread(str(drive.frames[0].image_paths["cam_front"]))
    m1, m2 = cv2.initUndistortRectifyMap(cam.K, np.array(cam.distortion), levelled_R0(sensor.T_vehicle_sensor),
                                         cam.K, (cam.width, cam.height), cv2.CV_32FC1)
    reference = cv2.remap(original, m1, m2, cv2.INTER_LINEAR)
    ours = cv2.imread(str(tmp_path / "out" / "image_2" / "000000.png"))
    assert ours.shape == reference.shape
    inner = (slice(40, -40), slice(40, -40))  # borders differ in how each fills unseen pixels
    diff = np.abs(ours[inner].astype(int) - reference[inner].astype(int))
    assert diff.mean() < 1.0 and np.percentile(diff, 99) <= 12


def test_fisheye_undistortion_matches_opencv(small_sim_drive):
    from fusionlabel.export.views import pinhole_of, undistort_image, undistort_maps

    drive = small_sim_drive
    cam = drive.rig(0).camera("cam_front_left").camera
    image = drive.image(0, "cam_front_left")
    ours = undistort_image(image, undistort_maps(cam, pinhole_of(cam)))
    m1, m2 = cv2.fisheye.initUndistortRectifyMap(cam.K, np.array(cam.distortion), np.eye(3), cam.K,
                                                 (cam.width, cam.height), cv2.CV_32FC1)
    reference = cv2.remap(image, m1, m2, cv2.INTER_LINEAR)
    inner = (slice(60, -60), slice(60, -60))
    diff = np.abs(ours[inner].astype(int) - reference[inner].astype(int))
    assert diff.mean() < 1.0


# ------------------------------------------------------------------------------ KITTI tracking
def _tracking_as_object_folder(realdata: Path, root: Path, seq: str, n_frames: int) -> dict[int, list]:
    """Write frames 0..n-1 of a KITTI tracking sequence as a KITTI object folder; return the
    original tracking lines per frame."""
    lines = read_kitti_label_file(realdata / "kitti_tracking" / "label_02" / f"{seq}.txt", tracking=True)
    raw = (realdata / "kitti_tracking" / "label_02" / f"{seq}.txt").read_text().splitlines()
    per_frame: dict[int, list] = {}
    for d, text in zip(lines, [r for r in raw if r.strip()]):
        if d.frame < n_frames:
            per_frame.setdefault(d.frame, []).append((d, text))
    for sub in ("velodyne", "image_2", "calib", "label_2"):
        (root / sub).mkdir(parents=True)
    rng = np.random.default_rng(0)
    image = np.zeros((375, 1242, 3), np.uint8)
    for f in range(n_frames):
        name = f"{f:06d}"
        rng.uniform(-20, 20, (200, 4)).astype(np.float32).tofile(root / "velodyne" / f"{name}.bin")
        cv2.imwrite(str(root / "image_2" / f"{name}.png"), image)
        (root / "calib" / f"{name}.txt").write_text((realdata / "kitti_tracking" / "calib" / f"{seq}.txt").read_text())
        (root / "label_2" / f"{name}.txt").write_text("".join(_object_line(t) + "\n" for _, t in per_frame.get(f, [])))
    return per_frame


# KITTI tracking's truncation levels (0: under half of the projection outside the image, 1: half or
# more, 2: none of it in the image) as KITTI object fractions inside each level's range; DontCare's -1 stays.
FRACTION_OF_LEVEL = {"0": "0.00", "1": "0.70", "2": "1.00"}


def _object_line(tracking_line: str) -> str:
    """A KITTI tracking label line as a KITTI object line: frame and track ID dropped, the
    truncation level written as a fraction of that level."""
    kind, level, *rest = tracking_line.split()[2:]
    return " ".join([kind, FRACTION_OF_LEVEL.get(level, level), *rest])


def test_kitti_tracking_round_trip(realdata, tmp_path):
    if not (realdata / "kitti_tracking" / "label_02" / "0001.txt").is_file():
        pytest.skip("KITTI tracking labels not found")
    per_frame = _tracking_as_object_folder(realdata, tmp_path / "src", "0001", 25)
    drive = open_kitti_object(tmp_path / "src")

    def labels_for(i):  # the object reader drops track IDs: put the original ones back
        tracks = [d.track_id for d, _ in per_frame.get(i, []) if d.type != "DontCare"]
        return [lab.with_(track_id=str(t)) for lab, t in zip(drive.labels(i), tracks)]

    summary = export_drive(drive, "kitti-tracking", tmp_path / "out", labels_for,
                           quiet(sequence="0001", sensor_data=False))
    out = (tmp_path / "out" / "label_02" / "0001.txt").read_text().splitlines()
    expected = [t for f in sorted(per_frame) for _, t in per_frame[f]]
    assert sorted(out) == sorted(expected)
    assert summary.total_objects == len(expected)
    assert_tracking_calib(tmp_path / "out" / "calib" / "0001.txt", realdata / "kitti_tracking" / "calib" / "0001.txt")


def assert_tracking_calib(path: Path, source: Path) -> None:
    """``path`` has the KITTI tracking release's layout and the matrices of ``source`` (any layout)."""
    from test_kitti_tracking_export import TRACKING_RELEASE_KEYS, release_calib

    assert [line.split()[0] for line in path.read_text().splitlines()] == list(TRACKING_RELEASE_KEYS)
    ours, theirs = release_calib(path), read_kitti_calib(source)
    for k in range(4):
        np.testing.assert_array_equal(ours[f"P{k}"], theirs.P[k])
    np.testing.assert_array_equal(ours["R_rect"], theirs.R0_rect)
    np.testing.assert_array_equal(ours["Tr_velo_cam"], theirs.Tr_velo_to_cam)
    np.testing.assert_array_equal(ours["Tr_imu_velo"], theirs.Tr_imu_to_velo)


def _tracking_folder(realdata: Path, root: Path, seq: str, n_frames: int, first: int = 0) -> list[str]:
    """Frames first..first+n-1 of a real KITTI tracking sequence as a tracking folder numbered from 0
    (its label and calib files, random sweeps, blank images); returns the label lines written."""
    raw = []
    for line in (realdata / "kitti_tracking" / "label_02" / f"{seq}.txt").read_text().splitlines():
        if line.strip() and first <= int(line.split()[0]) < first + n_frames:
            frame, rest = line.split(" ", 1)
            raw.append(f"{int(frame) - first} {rest}")
    for sub in (f"velodyne/{seq}", f"image_02/{seq}", "calib", "label_02"):
        (root / sub).mkdir(parents=True)
    rng = np.random.default_rng(0)
    image = np.zeros((375, 1242, 3), np.uint8)
    for f in range(n_frames):
        rng.uniform(-20, 20, (200, 4)).astype(np.float32).tofile(root / "velodyne" / seq / f"{f:06d}.bin")
        cv2.imwrite(str(root / "image_02" / seq / f"{f:06d}.png"), image)
    (root / "calib" / f"{seq}.txt").write_text((realdata / "kitti_tracking" / "calib" / f"{seq}.txt").read_text())
    (root / "label_02" / f"{seq}.txt").write_text("".join(line + "\n" for line in raw))
    return raw


def test_real_tracking_sequence_exports_with_its_dontcare_and_calib(realdata, tmp_path):
    """A KITTI tracking drive: kitti-tracking export gives back its label file line for line
    (DontCare regions included) and its calib; KITTI object export keeps each frame's DontCare."""
    from fusionlabel.io.kitti_tracking import open_kitti_tracking

    if not (realdata / "kitti_tracking" / "label_02" / "0001.txt").is_file():
        pytest.skip("KITTI tracking labels not found")
    raw = _tracking_folder(realdata, tmp_path / "src", "0001", 25)
    drive = open_kitti_tracking(tmp_path / "src")
    summary = export_drive(drive, "kitti-tracking", tmp_path / "trk", options=quiet(sequence="0001", sensor_data=False))
    out = (tmp_path / "trk" / "label_02" / "0001.txt").read_text().splitlines()
    assert sorted(out) == sorted(raw) and summary.objects["DontCare"] == sum(" DontCare " in r for r in raw) > 100
    assert_tracking_calib(tmp_path / "trk" / "calib" / "0001.txt", tmp_path / "src" / "calib" / "0001.txt")
    summary = export_drive(drive, "kitti", tmp_path / "obj", options=quiet(sensor_data=False))
    assert summary.objects["DontCare"] == sum(" DontCare " in r for r in raw)
    for f in (0, 7, 24):
        theirs = [d for d in read_kitti_label_file(tmp_path / "src" / "label_02" / "0001.txt", tracking=True)
                  if d.frame == f and d.type == "DontCare"]
        ours = [d for d in read_kitti_label_file(tmp_path / "obj" / "label_2" / f"{f:06d}.txt") if d.type == "DontCare"]
        assert [d.bbox for d in ours] == [d.bbox for d in theirs] and theirs
        assert (tmp_path / "obj" / "calib" / f"{f:06d}.txt").read_text() == \
            (tmp_path / "src" / "calib" / "0001.txt").read_text()


def test_real_tracking_levels_become_truncation_fractions_in_kitti_object(realdata, tmp_path):
    """KITTI tracking's truncation is a level (0, 1, 2), KITTI object's a fraction in [0, 1]: an
    untouched tracking label exported to KITTI object gets the fraction its box projects to."""
    from fusionlabel.io.kitti_tracking import open_kitti_tracking

    if not (realdata / "kitti_tracking" / "label_02" / "0001.txt").is_file():
        pytest.skip("KITTI tracking labels not found")
    raw = _tracking_folder(realdata, tmp_path / "src", "0001", 25)
    level = {}          # (frame, 2D box) -> the source's truncation level
    for d in read_kitti_label_file(tmp_path / "src" / "label_02" / "0001.txt", tracking=True):
        level[d.frame, tuple(f"{v:.2f}" for v in d.bbox)] = int(d.truncated)
    assert {2, 0} <= set(level.values()) and raw
    export_drive(open_kitti_tracking(tmp_path / "src"), "kitti", tmp_path / "obj", options=quiet(sensor_data=False))
    seen = {}
    for f in range(25):
        for d in read_kitti_label_file(tmp_path / "obj" / "label_2" / f"{f:06d}.txt"):
            if d.type == "DontCare":
                continue
            source = level[f, tuple(f"{v:.2f}" for v in d.bbox)]       # the 2D box is kept as it was
            seen.setdefault(source, []).append(d.truncated)
    assert sorted(seen) == [0, 1, 2] and all(0.0 <= t <= 1.0 for v in seen.values() for t in v), seen
    assert np.mean(seen[1]) > np.mean(seen[0]) + 0.3       # partly truncated ones are cut off more
    # each fraction reads back as its level: 0 under 0.50, 1 from 0.50 to 0.99, 2 at 1.00
    assert max(seen[0]) <= 0.49 and 0.5 <= min(seen[1]) <= max(seen[1]) <= 0.99 and set(seen[2]) == {1.0}


def test_tracking_drive_dontcare_and_raw_calib_keys(small_sim_drive, tmp_path):
    """A simulated drive written as a KITTI tracking sequence, with a DontCare region added to frame
    1 and (as the tracking export writes them) the raw tracking calib keys (R_rect, Tr_velo_cam,
    Tr_imu_velo): the KITTI object export writes the region into frame 1 only, and the calibration
    with KITTI object's key names."""
    from fusionlabel.io.kitti_tracking import open_kitti_tracking

    src = tmp_path / "src"
    export_drive(small_sim_drive, "kitti-tracking", src, options=quiet(camera="cam_front_right", sequence="0005"))
    region = "1 -1 DontCare -1 -1 -10.000000 100.000000 120.000000 180.000000 170.000000 -1000.000000 " \
             "-1000.000000 -1000.000000 -10.000000 -1.000000 -1.000000 -1.000000"
    with open(src / "label_02" / "0005.txt", "a") as f:
        f.write(region + "\n")
    calib = src / "calib" / "0005.txt"
    original = read_kitti_calib(calib)
    assert calib.read_text().splitlines()[4].startswith("R_rect ")
    drive = open_kitti_tracking(src)
    summary = export_drive(drive, "kitti", tmp_path / "obj", options=quiet(sensor_data=False))
    assert summary.objects["DontCare"] == 1
    dontcare = {f: [d for d in read_kitti_label_file(tmp_path / "obj" / "label_2" / f"{f:06d}.txt")
                    if d.type == "DontCare"] for f in range(3)}
    assert [len(v) for v in dontcare.values()] == [0, 1, 0]
    assert dontcare[1][0].bbox == (100.0, 120.0, 180.0, 170.0)
    written = tmp_path / "obj" / "calib" / "000001.txt"
    assert "R0_rect:" in written.read_text() and "R_rect" not in written.read_text().replace("R0_rect", "")
    ours = read_kitti_calib(written)
    for key in ("R0_rect", "Tr_velo_to_cam", "Tr_imu_to_velo"):
        np.testing.assert_array_equal(getattr(ours, key), getattr(original, key))
    assert sorted(ours.P) == sorted(original.P) and all(np.array_equal(ours.P[k], original.P[k]) for k in ours.P)
    # The tracking export keeps the region in its frame, and the sequence's calib file as it is.
    export_drive(drive, "kitti-tracking", tmp_path / "trk", options=quiet(sequence="0005", sensor_data=False))
    assert region in (tmp_path / "trk" / "label_02" / "0005.txt").read_text().splitlines()
    assert (tmp_path / "trk" / "calib" / "0005.txt").read_text() == calib.read_text()


def test_kitti_tracking_renumbers_string_track_ids(small_sim_drive, tmp_path):
    drive = small_sim_drive

    def labels_for(i):
        return [lab.with_(track_id=f"agent-{lab.track_id}") for lab in drive.labels(i)]

    export_drive(drive, "kitti-tracking", tmp_path / "out", labels_for, quiet(camera="cam_front_right",
                                                                               sensor_data=False))
    lines = read_kitti_label_file(tmp_path / "out" / "label_02" / "0000.txt", tracking=True)
    mapping = dict(line.split(" ", 1) for line in (tmp_path / "out" / "tracks_0000.txt").read_text().splitlines())
    calib = read_kitti_calib(tmp_path / "out" / "calib" / "0000.txt")
    by_frame = {i: {lab.track_id: lab for lab in labels_for(i)} for i in range(len(drive))}
    T_velo_lidar = T_velo_cam(calib) @ drive.rig(0).T_cam_lidar("cam_front_right")   # x-forward turn
    for d in lines:
        lab = by_frame[d.frame][mapping[str(d.track_id)]]
        box = cuboid_from_kitti(*d.dimensions_hwl, *d.location, d.rotation_y, calib.T_velo_rect)
        assert np.abs(box.center - T_velo_lidar[:3, :3] @ np.asarray(lab.box.center)).max() < 1e-5
    assert len(lines) == sum(len(v) for v in by_frame.values())


# ------------------------------------------------------------------------------ output folder, CLI
def test_output_folder_rules(kitti_object, tmp_path):
    drive = open_kitti_object(kitti_object)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("user file")
    with pytest.raises(ExportError, match="not empty"):
        export_drive(drive, "kitti", out, options=quiet())
    summary = export_drive(drive, "kitti", out, options=quiet(force=True))
    assert (out / "keep.txt").is_file()  # not ours: left in place
    assert summary.kept == ["keep.txt"] and "left in place, from before this export (1): keep.txt" in summary.text()
    (out / "label_2" / "999999.txt").write_text("stale")
    export_drive(drive, "kitti", out, options=quiet(force=True, frames=[0]))
    assert not (out / "label_2" / "999999.txt").exists()  # previous export replaced
    assert sorted(p.name for p in (out / "label_2").iterdir()) == ["000000.txt"]
    assert (out / "keep.txt").read_text() == "user file"  # still not ours, after a second --force


def test_force_keeps_files_put_beside_an_earlier_export(kitti_object, tmp_path):
    """A file the user puts next to an export after it ran is not the export's: the next --force
    replaces the export and leaves that file (and lists it as kept from then on)."""
    drive = open_kitti_object(kitti_object)
    out = tmp_path / "out"
    export_drive(drive, "kitti", out, options=quiet(frames=[0]))
    (out / "later.txt").write_text("added after the export")
    (out / "mine").mkdir()
    (out / "mine" / "a.txt").write_text("mine")
    summary = export_drive(drive, "kitti", out, options=quiet(force=True, frames=[1]))
    assert (out / "later.txt").read_text() == "added after the export"
    assert (out / "mine" / "a.txt").read_text() == "mine"
    assert summary.kept == ["later.txt", "mine"]
    assert sorted(p.name for p in (out / "label_2").iterdir()) == ["000001.txt"]   # the export itself replaced
    export_drive(drive, "openlabel", out, options=quiet(force=True))
    assert not (out / "label_2").exists() and (out / "later.txt").is_file() and (out / "mine" / "a.txt").is_file()


def test_force_never_writes_among_files_it_did_not_make(kitti_object, tmp_path):
    """A folder of someone else's KITTI data: --force would mix the export into it, so it is refused
    naming the folder, nothing of the user's is touched and nothing half-written is left."""
    drive = open_kitti_object(kitti_object)
    out = tmp_path / "theirs"
    (out / "label_2").mkdir(parents=True)
    (out / "label_2" / "007000.txt").write_text("their label")
    (out / "notes.md").write_text("their notes")
    with pytest.raises(ExportError, match=r"theirs/label_2: --out: was in the output folder before this export"):
        export_drive(drive, "kitti", out, options=quiet(force=True))
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == \
        ["label_2", "label_2/007000.txt", "notes.md"]
    with pytest.raises(ExportError, match="source drive"):
        export_drive(drive, "kitti", kitti_object, options=quiet(force=True))


def test_parse_frames(kitti_object):
    drive = open_kitti_object(kitti_object)
    assert parse_frames("0-2,000134,1", drive) == [0, 1, 2, 3]
    assert parse_frames("-1", drive) == [3]
    assert parse_frames("000000-000134", drive) == [0, 1, 2, 3]   # a range of frame IDs
    for bad in ("7", "3-1", "1:2"):      # A:B: a slice in prelabel once, a range in export: refused
        with pytest.raises(InputError, match="--frames"):
            parse_frames(bad, drive)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fusionlabel.cli.main", *args], capture_output=True, text=True,
                          timeout=300)


def test_cli_export_prints_summary_and_refuses_non_empty(kitti_object, tmp_path):
    out = run_cli("export", str(kitti_object), "--format", "kitti", "--out", str(tmp_path / "o"), "--quiet")
    assert out.returncode == 0, out.stderr
    assert "exported 4 frame(s) as kitti" in out.stdout and "Pedestrian: 8" in out.stdout
    again = run_cli("export", str(kitti_object), "--format", "kitti", "--out", str(tmp_path / "o"))
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1 and "--force" in again.stderr
    bad = run_cli("export", str(kitti_object), "--format", "kitti", "--out", str(tmp_path / "p"), "--frames", "x9")
    assert bad.returncode == 2 and "--frames" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_cli_shows_progress_bar(kitti_object, tmp_path):
    out = run_cli("export", str(kitti_object), "--format", "kitti", "--out", str(tmp_path / "o"), "--labels-only")
    assert out.returncode == 0 and "export kitti" in out.stderr and "4/4" in out.stderr
    assert not (tmp_path / "o" / "velodyne").exists()


def test_extrinsic_of_generic_calib_is_lidar_to_camera(small_sim_drive, tmp_path):
    """Tr_velo_to_cam maps LiDAR points to the camera, R0_rect levels it: points project (P2 · R0_rect ·
    Tr_velo_to_cam, as KITTI's tools do) where the rig's camera, turned level, sees them."""
    drive = small_sim_drive
    export_drive(drive, "kitti", tmp_path / "out", options=quiet(camera="cam_front_right", frames=[1]))
    calib = read_kitti_calib(tmp_path / "out" / "calib" / "000001.txt")
    pts = drive.points(1)[:, :3].astype(np.float64)
    velo = np.fromfile(tmp_path / "out" / "velodyne" / "000001.bin", dtype="<f4").reshape(-1, 4)[:, :3]
    sensor = drive.rig(1).camera("cam_front_right")
    ours = (calib.P[2] @ np.block([[calib.R0_rect, np.zeros((3, 1))], [np.zeros((1, 3)), 1.0]]) @ np.vstack([calib.Tr_velo_to_cam, [0, 0, 0, 1]]) @ np.c_[velo, np.ones(len(velo))].T).T
    ref = (levelled_R0(sensor.T_vehicle_sensor) @ (invert_T(sensor.T_vehicle_sensor) @ drive.rig(1).T_vehicle_lidar
                                                   @ np.c_[pts, np.ones(len(pts))].T)[:3]).T
    front = ref[:, 2] > 1
    assert front.sum() > 1000
    uv_ref = ref[front] @ sensor.camera.K.T
    np.testing.assert_allclose(ours[front, :2] / ours[front, 2:3], uv_ref[:, :2] / uv_ref[:, 2:3], atol=1e-3)


def test_project_export_uses_annotations_and_notices_edits(kitti_object, tmp_path):
    """Exporting a project: imported labels come back byte-identical; a box moved with a SetBox
    command gets a recomputed 2D box while the others keep theirs."""
    from fusionlabel.model.commands import SetBox
    from fusionlabel.store.project import Project

    project = Project.create(tmp_path / "proj", kitti_object, import_labels=True)
    try:
        ann = project.document.annotations(3)[0]
        moved = ann.box.with_(center=np.add(ann.box.center, (0.0, 1.0, 0.0)))
        project.document.apply(SetBox(ann.uid, moved))
    finally:
        project.close()
    out = run_cli("export", str(tmp_path / "proj"), "--format", "kitti", "--out", str(tmp_path / "o"),
                  "--labels-only", "--quiet")
    assert out.returncode == 0, out.stderr
    assert "source: project" in out.stdout
    for fid in FRAMES[:3]:
        assert (tmp_path / "o" / "label_2" / f"{fid}.txt").read_bytes() == \
            (kitti_object / "label_2" / f"{fid}.txt").read_bytes()
    orig = read_kitti_label_file(kitti_object / "label_2" / "000134.txt")
    ours = read_kitti_label_file(tmp_path / "o" / "label_2" / "000134.txt")
    assert ours[0].bbox != orig[0].bbox and ours[0].location[0] == pytest.approx(orig[0].location[0] - 1.0, abs=0.02)
    assert [(d.type, d.bbox, d.location) for d in ours[1:]] == [(d.type, d.bbox, d.location) for d in orig[1:]]


# ------------------------------------------------------------------------------ x-forward velodyne/
def camera_azimuth_deg(calib) -> float:
    """Azimuth of the camera's viewing direction (+z) in the Velodyne frame of a KITTI calib."""
    forward = calib.T_velo_rect[:3, :3] @ np.array([0.0, 0.0, 1.0])
    return float(np.degrees(np.arctan2(forward[1], forward[0])))


def T_velo_cam(calib) -> np.ndarray:
    """(4, 4) camera -> Velodyne of a KITTI calib: the inverse of ``Tr_velo_to_cam`` (before R0_rect)."""
    T = np.eye(4)
    T[:3] = calib.Tr_velo_to_cam
    return np.linalg.inv(T)


def pcdet_yaw(line) -> float:
    """The Velodyne yaw OpenPCDet and mmdet3d derive from a KITTI label (x-forward assumed)."""
    return -np.pi / 2 - line.rotation_y


def turned_drive(drive, root: Path, degrees: float, upside_down: bool = False):
    """``drive`` with its LiDAR frame turned by ``degrees`` about z (90: y-forward, as nuScenes'
    LIDAR_TOP), after half a turn about x with ``upside_down`` (a LiDAR hanging from its mount):
    sweeps, labels and the LiDAR's extrinsic change, cameras and the scene do not."""
    from dataclasses import replace

    from fusionlabel.model.drive import Drive, Frame
    from fusionlabel.model.rig import Rig

    a = np.radians(degrees)
    T_new_old = np.eye(4)
    T_new_old[:2, :2] = [[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]
    if float(degrees).is_integer() and degrees % 90 == 0:
        T_new_old = np.rint(T_new_old)
    if upside_down:
        T_new_old = T_new_old @ np.diag([1.0, -1.0, -1.0, 1.0])
    rig = drive.rig(0)
    lidar = rig.reference_lidar
    sensors = dict(rig.sensors)
    sensors[lidar] = replace(sensors[lidar], T_vehicle_sensor=rig.T_vehicle_lidar @ invert_T(T_new_old))
    new_rig = Rig(rig.name, sensors, lidar)
    root.mkdir(parents=True, exist_ok=True)
    frames = []
    for i, f in enumerate(drive.frames):
        pts = np.array(drive.points(i)[:, :4], dtype=np.float64)
        pts[:, :3] = pts[:, :3] @ T_new_old[:3, :3].T
        path = root / f"{f.frame_id}.bin"
        pts.astype("<f4").tofile(path)
        labels = [lab.with_(box=lab.box.with_(center=T_new_old[:3, :3] @ np.asarray(lab.box.center),
                                              yaw=float((-1 if upside_down else 1) * lab.box.yaw + a)))
                  for lab in drive.labels(i)]
        frames.append(Frame(f.frame_id, path, dict(f.image_paths), f.timestamp_us, f.T_world_vehicle,
                            labels_source=lambda labels=labels: labels))
    return Drive(drive.name + "-turned", root, new_rig, frames), T_new_old


def test_velodyne_turn_puts_the_camera_on_plus_x():
    from fusionlabel.export.kitti import velodyne_turn

    for azimuth in (0.0, 0.5, -0.9, 90.0, 90.21, -91.9, 180.0, 30.0, -55.0, 135.0):
        a = np.radians(azimuth)
        T_cam_lidar = np.eye(4)
        T_cam_lidar[2, :3] = [np.cos(a), np.sin(a), 0.0]       # only the camera's +z matters
        T = velodyne_turn(T_cam_lidar)
        if abs(azimuth) <= 1.0:
            assert T is None, azimuth                          # x-forward already: nothing changes
            continue
        forward = T[:3, :3] @ T_cam_lidar[2, :3]
        got = np.degrees(np.arctan2(forward[1], forward[0]))
        assert abs(got) <= 1.0 + 1e-9, (azimuth, got)
        if abs(azimuth - 90 * round(azimuth / 90)) <= 1.0:     # quarter turn: an exact axis permutation
            assert set(np.unique(T)) <= {-1.0, 0.0, 1.0}, T
        else:
            assert abs(got) < 1e-9, (azimuth, got)


@pytest.mark.parametrize("fmt, degrees, upside_down", [("kitti", 90.0, False), ("kitti-tracking", 90.0, False),
                                                       ("kitti", 0.0, True), ("kitti", 90.0, True),
                                                       ("kitti-tracking", -90.0, True)])
def test_y_forward_lidar_is_exported_x_forward(small_sim_drive, tmp_path, fmt, degrees, upside_down):
    """A drive whose LiDAR looks along +y (nuScenes' LIDAR_TOP) or hangs upside down exports as the
    x-forward, z-up drive it was made from: the same velodyne/ points (quarter and half turns are
    exact), the same label lines (camera frame), the camera looking along +x in the written calib,
    and boxes converted back with that calib equal to the source boxes turned; the yaw KITTI's tools
    derive agrees too."""
    sim = small_sim_drive
    drive, T_new_old = turned_drive(sim, tmp_path / "turned", degrees, upside_down)
    T_cam_lidar = drive.rig(0).T_cam_lidar("cam_front")
    forward = T_cam_lidar[2, :3]
    assert abs(np.degrees(np.arctan2(forward[1], forward[0])) - degrees) < 1.0    # the source's forward
    assert (T_cam_lidar[1, 2] > 0.9) == upside_down                                # its z points down
    opts = dict(camera="cam_front")
    s_turned = export_drive(drive, fmt, tmp_path / "a", options=quiet(**opts))
    export_drive(sim, fmt, tmp_path / "b", options=quiet(**opts))
    assert any("not x-forward" in t for t in s_turned.cannot_hold) == (degrees != 0)
    assert any("upside down" in t for t in s_turned.cannot_hold) == upside_down
    if fmt == "kitti":
        names = [f"{i:06d}" for i in range(len(sim))]
        velo = {n: f"velodyne/{n}.bin" for n in names}
        calibs = {n: f"calib/{n}.txt" for n in names}
        labels = {n: f"label_2/{n}.txt" for n in names}
    else:
        names = [f"{i:06d}" for i in range(len(sim))]
        velo = {n: f"velodyne/0000/{n}.bin" for n in names}
        calibs = {n: "calib/0000.txt" for n in names}
        labels = {n: "label_02/0000.txt" for n in names}
    for k, n in enumerate(names):
        a, b = tmp_path / "a", tmp_path / "b"
        assert (a / velo[n]).read_bytes() == (b / velo[n]).read_bytes(), n
        assert (a / labels[n]).read_text() == (b / labels[n]).read_text(), n
        calib = read_kitti_calib(a / calibs[n])
        assert abs(camera_azimuth_deg(calib)) < 1.0
        np.testing.assert_allclose(calib.T_rect_velo, read_kitti_calib(b / calibs[n]).T_rect_velo, atol=1e-9)
        lines = [d for d in read_kitti_label_file(a / labels[n], tracking=fmt != "kitti")
                 if fmt == "kitti" or d.frame == k]
        for lab, line in zip(sim.labels(k), lines):     # the x-forward source = the turned drive's boxes turned back
            box = cuboid_from_kitti(*line.dimensions_hwl, *line.location, line.rotation_y, calib.T_velo_rect)
            assert np.abs(np.subtract(box.center, lab.box.center)).max() < 0.011
            assert abs(angle_difference(box.yaw, lab.box.yaw)) < 0.006
            assert abs(angle_difference(pcdet_yaw(line), lab.box.yaw)) < np.radians(3.0)


def test_turned_export_of_an_oblique_camera(small_sim_drive, tmp_path):
    """A side camera (55 degrees off the LiDAR's +x) as image_2: the sweep is turned exactly onto it."""
    drive = small_sim_drive
    export_drive(drive, "kitti", tmp_path / "out", options=quiet(camera="cam_front_right", frames=[0]))
    calib = read_kitti_calib(tmp_path / "out" / "calib" / "000000.txt")
    assert abs(camera_azimuth_deg(calib)) < 1e-6
    velo = np.fromfile(tmp_path / "out" / "velodyne" / "000000.bin", dtype="<f4").reshape(-1, 4)
    T_velo_lidar = T_velo_cam(calib) @ drive.T_cam_lidar(0, "cam_front_right")
    np.testing.assert_allclose(velo[:, :3], drive.points(0)[:, :3] @ T_velo_lidar[:3, :3].T, atol=1e-4)
    np.testing.assert_allclose(velo[:, 3], drive.points(0)[:, 3])
    for lab, line in zip(drive.labels(0), read_kitti_label_file(tmp_path / "out" / "label_2" / "000000.txt")):
        box = cuboid_from_kitti(*line.dimensions_hwl, *line.location, line.rotation_y, calib.T_velo_rect)
        want = T_velo_lidar[:3, :3] @ np.asarray(lab.box.center)
        assert np.abs(box.center - want).max() < 0.011
        yaw_turn = np.arctan2(T_velo_lidar[1, 0], T_velo_lidar[0, 0])
        assert abs(angle_difference(box.yaw, lab.box.yaw + yaw_turn)) < 0.006


def test_real_nuscenes_exports_x_forward(nusc_root, tmp_path):
    from fusionlabel.io.nuscenes import open_nuscenes

    drive = open_nuscenes(nusc_root)
    cam = "CAM_FRONT"
    # every box, for the geometry: KITTI leaves out barriers, cones and the riderless bicycle unless mapped
    keep = {"movable_object.barrier": "Misc", "movable_object.trafficcone": "Misc",
            "movable_object.pushable_pullable": "Misc", "vehicle.bicycle": "Misc"}
    export_drive(drive, "kitti", tmp_path / "out", options=quiet(camera=cam, class_map=keep))
    calib = read_kitti_calib(tmp_path / "out" / "calib" / "000000.txt")
    assert abs(camera_azimuth_deg(calib)) < 1.0
    T_velo_lidar = T_velo_cam(calib) @ drive.T_cam_lidar(0, cam)
    np.testing.assert_allclose(T_velo_lidar, np.rint(T_velo_lidar), atol=1e-9)   # a quarter turn
    np.testing.assert_allclose(T_velo_lidar[:3, :3] @ [0.0, 1.0, 0.0], [1.0, 0.0, 0.0], atol=1e-9)  # y -> x
    velo = np.fromfile(tmp_path / "out" / "velodyne" / "000000.bin", dtype="<f4").reshape(-1, 4)
    src = drive.points(0)
    np.testing.assert_array_equal(velo[:, :3], (src[:, :3].astype(np.float64) @ T_velo_lidar[:3, :3].T).astype("<f4"))
    lines = read_kitti_label_file(tmp_path / "out" / "label_2" / "000000.txt")
    labels = drive.labels(0)
    assert len(lines) == len(labels) > 0
    pcdet_err = []
    for lab, line in zip(labels, lines):
        box = cuboid_from_kitti(*line.dimensions_hwl, *line.location, line.rotation_y, calib.T_velo_rect)
        want = T_velo_lidar[:3, :3] @ np.asarray(lab.box.center)
        # KITTI's location is the bottom centre below the box centre in the camera frame: pitch and
        # roll (dropped by KITTI) move the centre a little
        assert np.hypot(*(box.center - want)[:2]) < 0.05
        assert abs(angle_difference(box.yaw, lab.box.yaw - np.pi / 2)) < 0.02    # y -> x: a turn by -90 degrees
        pcdet_err.append(abs(angle_difference(pcdet_yaw(line), box.yaw)))
    assert np.median(pcdet_err) < np.radians(1.0) and max(pcdet_err) < np.radians(3.0), np.degrees(pcdet_err)


def test_real_sustech_tracking_exports_x_forward(realdata, tmp_path):
    from fusionlabel.io.drives import open_drive

    root = realdata / "sustech_sequence"
    if not root.is_dir():
        pytest.skip(f"SUSTech sample not found at {root}")
    drive = open_drive(root)
    export_drive(drive, "kitti-tracking", tmp_path / "out", options=quiet(sensor_data=False))
    calib = read_kitti_calib(tmp_path / "out" / "calib" / "0000.txt")
    assert abs(camera_azimuth_deg(calib)) < 1e-6        # the front camera is 1.9 degrees off -y: an exact turn
    lines = read_kitti_label_file(tmp_path / "out" / "label_02" / "0000.txt", tracking=True)
    assert lines
    T_velo_lidar = T_velo_cam(calib) @ drive.rig(0).T_cam_lidar("front")
    np.testing.assert_allclose(T_velo_lidar[2], [0.0, 0.0, 1.0, 0.0], atol=1e-9)       # a turn about z only
    np.testing.assert_allclose(T_velo_lidar[:3, 3], 0.0, atol=1e-9)
    for line in lines:
        box = cuboid_from_kitti(*line.dimensions_hwl, *line.location, line.rotation_y, calib.T_velo_rect)
        assert abs(angle_difference(pcdet_yaw(line), box.yaw)) < np.radians(4.0)


# ------------------------------------------------------------------------------ missing label files
def test_missing_label_file_is_reported(tmp_path):
    """A KITTI object frame without label_2/<frame>.txt is written with no objects, and the summary
    says so (it is not silently the same as a frame with no objects)."""
    import json

    from test_kitti import _two_frame_kitti

    src = _two_frame_kitti(tmp_path / "kitti", same_calib=True)
    (src / "label_2" / "000001.txt").unlink()
    drive = open_kitti_object(src)
    summary = export_drive(drive, "kitti", tmp_path / "out", options=quiet())
    assert summary.without_label_file == ["000001"]
    assert "frames without a label file (1, written with no objects): 000001" in summary.text()
    assert (tmp_path / "out" / "label_2" / "000001.txt").read_text() == ""
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert manifest["summary"]["frames_without_label_file"] == ["000001"]
    # kitti-tracking from the same folder says it too; a project's annotations are not the source's files
    assert export_drive(drive, "kitti-tracking", tmp_path / "t", options=quiet()).without_label_file == ["000001"]
    s = export_drive(drive, "kitti", tmp_path / "p", lambda i: drive.labels(i), options=quiet())
    assert s.without_label_file == [] and "without a label file" not in s.text()


# ------------------------------------------------------------------------------ angles at 6 decimals
def test_tracking_angles_stay_within_pi_as_written(small_sim_drive, tmp_path):
    from fusionlabel.export.kitti import format_kitti_line

    for a in (np.pi, np.pi - 1e-8, -np.pi + 1e-8, 3.1415925, -3.1415926):
        line = format_kitti_line("Car", 0, 0, a, (1, 2, 3, 4), (1.5, 1.6, 4.0), (1.0, 1.7, 20.0), a, tracking=True)
        fields = line.split()
        alpha, ry = float(fields[3]), float(fields[-1])
        assert abs(ry) <= np.pi and abs(alpha) <= np.pi, line
        assert abs(angle_difference(ry, a)) < 2e-6 and abs(angle_difference(alpha, a)) < 2e-6
    dontcare = format_kitti_line("DontCare", -1, -1, -10, (1, 2, 3, 4), (-1, -1, -1), (-1000, -1000, -1000), -10,
                                 tracking=True)
    assert dontcare.split()[3] == "-10.000000" and dontcare.split()[-1] == "-10.000000"
    assert format_kitti_line("Car", 0, 0, 0.5, (1, 2, 3, 4), (1, 1, 1), (0, 0, 9), 1.25, tracking=True).endswith(
        "0.500000 1.000000 2.000000 3.000000 4.000000 1.000000 1.000000 1.000000 0.000000 0.000000 9.000000 1.250000")
    # end to end: a box whose rotation_y is pi in the written sequence
    drive = small_sim_drive
    T_velo_rect = invert_T(drive.rig(0).T_cam_lidar("cam_front"))
    lab = drive.labels(0)[0]
    yaw = cuboid_from_kitti(1.5, 1.6, 4.0, 0.0, 1.7, 15.0, np.pi, T_velo_rect).yaw

    def labels_for(i):
        return [lab.with_(box=lab.box.with_(yaw=yaw))] if i == 0 else []

    export_drive(drive, "kitti-tracking", tmp_path / "out", labels_for,
                 quiet(camera="cam_front", frames=[0], sensor_data=False))
    (line,) = read_kitti_label_file(tmp_path / "out" / "label_02" / "0000.txt", tracking=True)
    assert abs(line.rotation_y) <= np.pi and abs(abs(line.rotation_y) - np.pi) < 2e-6


def test_tracking_folder_without_images_says_where_the_camera_comes_from(realdata, tmp_path):
    import shutil

    from fusionlabel.io.kitti_tracking import open_kitti_tracking

    if not (realdata / "kitti_tracking" / "label_02" / "0001.txt").is_file():
        pytest.skip("real KITTI tracking labels absent")
    raw = _tracking_folder(realdata, tmp_path / "trk", "0001", 2)
    shutil.rmtree(tmp_path / "trk" / "image_02")
    with pytest.raises(ExportError, match=r"rig has no camera \(a KITTI folder's camera comes with its image_2/ or "
                                          r"image_02/<sequence>/ images, which give its size; a tracking folder "
                                          r"without images needs export --image-size WxH\); KITTI needs one"):
        export_drive(open_kitti_tracking(tmp_path / "trk"), "kitti-tracking", tmp_path / "out",
                     options=quiet(sensor_data=False))
    # With the camera's size given, the real label lines come back as they were.
    export_drive(open_kitti_tracking(tmp_path / "trk", image_size=(1242, 375)), "kitti-tracking",
                 tmp_path / "out2", options=quiet(sensor_data=False))
    assert sorted((tmp_path / "out2" / "label_02" / "0001.txt").read_text().splitlines()) == sorted(raw)
    assert len(raw) > 10


def test_track_note_only_for_tracks_that_span_frames(kitti_object, small_sim_drive, tmp_path):
    """A KITTI object project gives every imported box a track of its own: KITTI loses no link
    between frames, and the summary no longer says it drops 21 objects' track IDs. A drive whose
    tracks span frames still hears how many objects they link."""
    from collections import defaultdict

    from fusionlabel.store.project import Project

    Project.create(tmp_path / "proj", kitti_object, import_labels=True).close()
    out = run_cli("export", str(tmp_path / "proj"), "--format", "kitti", "--out", str(tmp_path / "o"),
                  "--labels-only", "--quiet")
    assert out.returncode == 0, out.stderr
    assert "track IDs" not in out.stdout and "not representable in kitti" in out.stdout
    frames_of = defaultdict(set)
    for i in range(len(small_sim_drive)):
        for lab in small_sim_drive.labels(i):
            frames_of[lab.track_id].add(i)
    linked = sum(len(f) for t, f in frames_of.items() if t is not None and len(f) > 1)
    assert linked > 0
    summary = export_drive(small_sim_drive, "kitti", tmp_path / "s", options=quiet(sensor_data=False))
    assert f"track IDs linking {linked} object(s) across frames (use kitti-tracking or openlabel to keep them)" \
        in summary.cannot_hold
