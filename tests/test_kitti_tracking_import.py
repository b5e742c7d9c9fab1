"""KITTI tracking sequences as drives: a simulated drive exported to KITTI tracking (plus an oxts
file written here by the inverse Mercator projection) reads back with the same points, labels,
track IDs, relative poses and projections; real tracking labels read as the benchmark reads them;
the CLI finds the layout, renders a sequence and answers bad input with one line and exit 2."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import levelled_R0, quiet, simulated_drive
from scipy.spatial.transform import Rotation
from test_cli_render import assert_clean_error, make_kitti, run_cli

from fusionlabel.errors import DriveError, InputError
from fusionlabel.export import export_drive
from fusionlabel.export.classes import kitti_type
from fusionlabel.geometry.transforms import (
    angle_difference,
    invert_T,
    rotation_error,
    transform_points,
)
from fusionlabel.io.drives import drive_layout, open_drive
from fusionlabel.io.kitti import read_kitti_calib
from fusionlabel.io.kitti_tracking import open_kitti_tracking, read_tracking_labels

SEQ = "0003"
CAMERA = "cam_front_right"       # the simulator's pinhole camera: KITTI's image_02 shows it levelled (pitch 3°)


def velo_turn(src) -> np.ndarray:
    """T_velo_lidar of the export: the LiDAR frame turned about z so that +x points where CAMERA
    (55 degrees right of the simulator's +x) looks, as KITTI's tools expect."""
    forward = src.rig(0).T_cam_lidar(CAMERA)[2, :3]
    a = math.atan2(forward[1], forward[0])
    T = np.eye(4)
    T[:2, :2] = [[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]]
    return T
EARTH = 6378137.0
LAT0, LON0, ALT0 = 49.011212804408, 8.4228850417969, 112.83492279053   # near Karlsruhe
# A tilted world (roll 2°, pitch -3°, heading 40°) so that the oxts records carry roll and pitch.
W = np.eye(4)
W[:3, :3] = Rotation.from_euler("ZYX", [40.0, -3.0, 2.0], degrees=True).as_matrix()


def write_oxts(path: Path, T_world_imu: list[np.ndarray]) -> None:
    """OXTS records whose poses are ``W @ T_world_imu``: positions by the inverse Mercator projection
    with the first record's scale (the first record sits at LAT0, LON0), angles by SciPy."""
    scale = math.cos(math.radians(LAT0))
    mx0 = scale * EARTH * math.radians(LON0)
    my0 = scale * EARTH * math.log(math.tan(math.pi * (90.0 + LAT0) / 360.0))
    poses = [W @ T for T in T_world_imu]
    lines = []
    for T in poses:
        dx, dy, dz = T[:3, 3] - poses[0][:3, 3]
        lon = math.degrees((mx0 + dx) / (scale * EARTH))
        lat = math.degrees(2.0 * math.atan(math.exp((my0 + dy) / (scale * EARTH)))) - 90.0
        yaw, pitch, roll = Rotation.from_matrix(T[:3, :3]).as_euler("ZYX")
        rest = ["0"] * 24
        lines.append(" ".join([f"{v:.17g}" for v in (lat, lon, ALT0 + dz, roll, pitch, yaw)] + rest))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


RAW_KEYS = (("R0_rect", "R_rect"), ("Tr_velo_to_cam", "Tr_velo_cam"), ("Tr_imu_to_velo", "Tr_imu_velo"))


def raw_tracking_calib(text: str) -> str:
    """An object-style calib rewritten as KITTI's tracking release writes it (no colon after these keys)."""
    for key, raw in RAW_KEYS:
        assert f"{key}:" in text
        text = text.replace(f"{key}:", raw)
    return text


def object_style_calib(text: str) -> str:
    """A calib in the tracking release's layout rewritten with KITTI object's key names."""
    lines = text.splitlines(keepends=True)
    for key, raw in RAW_KEYS:
        hits = [k for k, line in enumerate(lines) if line.startswith(raw + " ")]
        assert len(hits) == 1, raw
        lines[hits[0]] = key + ":" + lines[hits[0]][len(raw):]
    return "".join(lines)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(source drive, KITTI tracking folder with oxts, the same folder without oxts)."""
    src = simulated_drive(tmp_path_factory)
    base = tmp_path_factory.mktemp("kitti_tracking")
    bare = base / "bare" / "training"
    export_drive(src, "kitti-tracking", bare, options=quiet(camera=CAMERA, sequence=SEQ))
    full = base / "full" / "training"
    shutil.copytree(bare, full)
    # The exported calib's Tr_imu_to_velo is the simulator's vehicle frame: its pose is the IMU's.
    # This test's own oxts writer replaces the exporter's (tests/test_kitti_tracking_oxts.py checks that).
    write_oxts(full / "oxts" / f"{SEQ}.txt", [src.frames[i].T_world_vehicle for i in range(len(src))])
    shutil.rmtree(bare / "oxts")
    return src, full, bare


def test_round_trip_points_labels_poses_projection(exported):
    src, root, _ = exported
    assert drive_layout(root) == "kitti_tracking" and drive_layout(root.parent) == "kitti_tracking"
    drive = open_drive(root.parent)
    assert drive.sequence == SEQ and drive.has_poses and drive.notes == []
    assert len(drive) == len(src) == 3
    assert [f.frame_id for f in drive.frames] == ["000000", "000001", "000002"]
    assert [f.timestamp_us for f in drive.frames] == [0, 100_000, 200_000]
    moved = 0.0
    T = velo_turn(src)
    turn = math.atan2(T[1, 0], T[0, 0])
    for i in range(len(src)):
        # Points: the sweep as written, float32 x y z intensity, in the turned (x-forward) frame.
        np.testing.assert_allclose(drive.points(i)[:, :3], src.points(i)[:, :3] @ T[:3, :3].T, atol=1e-4)
        np.testing.assert_array_equal(drive.points(i)[:, 3], src.points(i)[:, 3])
        # Labels: same track IDs, classes, centres, sizes and headings (turned with the frame).
        mine = {lab.track_id: lab for lab in drive.labels(i)}
        theirs = {lab.track_id: lab for lab in src.labels(i)}
        assert set(mine) == set(theirs) and len(mine) == len(drive.labels(i)) > 10
        for tid, lab in mine.items():
            ref = theirs[tid]
            assert lab.label == kitti_type(ref)
            assert np.abs(lab.box.center - T[:3, :3] @ np.asarray(ref.box.center)).max() <= 1e-5, tid
            assert np.abs(np.subtract(lab.box.size, ref.box.size)).max() <= 1e-5, tid
            assert abs(angle_difference(lab.box.yaw, ref.box.yaw + turn)) <= 1e-5, tid
        # Poses relative to the first frame (of the turned LiDAR frame).
        rel_mine = invert_T(drive.T_world_lidar(0)) @ drive.T_world_lidar(i)
        rel_src = T @ invert_T(src.T_world_lidar(0)) @ src.T_world_lidar(i) @ invert_T(T)
        assert np.abs(rel_mine[:3, 3] - rel_src[:3, 3]).max() <= 1e-6
        assert rotation_error(rel_mine[:3, :3] @ rel_src[:3, :3].T) <= 1e-6
        moved = max(moved, float(np.linalg.norm(rel_src[:3, 3])))
        # Absolute poses: the world is the oxts (east, north, up) frame with its origin at the first
        # IMU (= vehicle) position, so the tilt of W and the LiDAR's lever arm on the vehicle come back.
        expected = W @ src.T_world_lidar(i) @ invert_T(T)
        expected[:3, 3] -= (W @ src.frames[0].T_world_vehicle)[:3, 3]
        assert np.abs(drive.T_world_lidar(i) - expected).max() <= 1e-6
        # Projection into image_02 equals the source camera's, turned level (same K).
        pts = src.points(i)[:, :3].astype(np.float64)
        a = drive.rig(i).camera("image_2").camera.project(transform_points(drive.T_cam_lidar(i, "image_2"),
                                                                           pts @ T[:3, :3].T))
        R0 = levelled_R0(src.rig(i).camera(CAMERA).T_vehicle_sensor)
        b = src.rig(i).camera(CAMERA).camera.project(transform_points(src.T_cam_lidar(i, CAMERA), pts) @ R0.T)
        np.testing.assert_array_equal(a.in_image, b.in_image)
        assert a.in_image.sum() > 1000
        assert np.abs(a.uv[a.in_image] - b.uv[b.in_image]).max() <= 1e-3
        K = src.rig(i).camera(CAMERA).camera.K
        size = drive.image(i, "image_2").shape[1::-1]
        m1, m2 = cv2.initUndistortRectifyMap(K, np.zeros(5), R0, K, size, cv2.CV_32FC1)
        warped = cv2.remap(src.image(i, CAMERA), m1, m2, cv2.INTER_LINEAR)
        diff = np.abs(drive.image(i, "image_2").astype(int) - warped.astype(int))[20:-20, 20:-20]
        assert diff.mean() < 0.5 and np.percentile(diff, 99) <= 8
    assert moved > 1.0   # the ego really drives, so the poses are tested


def test_without_oxts_identity_poses_and_a_note(exported):
    _, _, bare = exported
    drive = open_kitti_tracking(bare, "3")
    assert not drive.has_poses and "oxts" in drive.notes[0]
    for i in range(len(drive)):
        np.testing.assert_array_equal(drive.T_world_lidar(i), np.eye(4))


def test_raw_and_object_calib_keys_read_alike(exported, tmp_path):
    """R_rect / Tr_velo_cam / Tr_imu_velo, written without a colon as in KITTI's tracking release
    (what the export writes), and KITTI object's R0_rect: / Tr_velo_to_cam: / Tr_imu_to_velo: give
    the same drive."""
    _, root, _ = exported
    copy = tmp_path / "object_keys"
    shutil.copytree(root, copy)
    calib = copy / "calib" / f"{SEQ}.txt"
    calib.write_text(object_style_calib(calib.read_text()))
    assert raw_tracking_calib(calib.read_text()) == (root / "calib" / f"{SEQ}.txt").read_text()
    a, b = open_kitti_tracking(root), open_kitti_tracking(copy)
    np.testing.assert_array_equal(a.rig(0).camera("image_2").T_vehicle_sensor, b.rig(0).camera("image_2").T_vehicle_sensor)
    for i in range(len(a)):
        np.testing.assert_array_equal(a.T_world_lidar(i), b.T_world_lidar(i))
        assert [lab.box.center for lab in a.labels(i)] == [lab.box.center for lab in b.labels(i)]


# ------------------------------------------------------------------------------ real labels
@pytest.mark.parametrize("seq", ["0001", "0006", "0013"])
def test_real_labels_equal_benchmark_reader(realdata, tmp_path, seq):
    """Boxes of real sequences, through the reader and through a tracking folder built around the
    real label and calib files (linked, not copied; empty sweeps stand in for the missing LiDAR),
    equal ``qa.datasets.kitti_tracking_sequence``; the calib rewritten with the raw tracking keys
    gives the same boxes."""
    from fusionlabel.qa.datasets import kitti_tracking_sequence

    real_tracking = realdata / "kitti_tracking"
    if not (real_tracking / "label_02" / f"{seq}.txt").is_file():
        pytest.skip(f"KITTI tracking sequence {seq} not found under {real_tracking}")
    reference = kitti_tracking_sequence(real_tracking, seq)
    label_path, calib_path = real_tracking / "label_02" / f"{seq}.txt", real_tracking / "calib" / f"{seq}.txt"
    by_frame = read_tracking_labels(label_path, read_kitti_calib(calib_path))

    root = tmp_path / "training"
    (root / "velodyne" / seq).mkdir(parents=True)
    (root / "label_02").mkdir()
    (root / "calib").mkdir()
    (root / "label_02" / f"{seq}.txt").symlink_to(label_path)
    (root / "calib" / f"{seq}.txt").write_text(raw_tracking_calib(calib_path.read_text()))
    for n in range(len(reference)):
        (root / "velodyne" / seq / f"{n:06d}.bin").write_bytes(b"")
    drive = open_drive(tmp_path)
    assert len(drive) == len(reference) > 100

    n_boxes = 0
    for n, ref in enumerate(reference):
        for labels in (by_frame.get(n, []), drive.labels(n)):
            assert [(lab.label, lab.track_id) for lab in labels] == [(r.label, r.track_id) for r in ref]
            for lab, r in zip(labels, ref):
                assert np.abs(np.subtract(lab.box.center, r.box.center)).max() <= 1e-9
                assert np.abs(np.subtract(lab.box.size, r.box.size)).max() == 0
                assert abs(angle_difference(lab.box.yaw, r.box.yaw)) <= 1e-9
        n_boxes += len(ref)
    assert n_boxes > 300
    assert all(lab.track_id is not None for labels in by_frame.values() for lab in labels)


# ------------------------------------------------------------------------------ CLI and bad input
def two_sequences(exported, tmp_path) -> Path:
    """The exported sequence 0003 plus a copy named 0007, with oxts."""
    _, root, _ = exported
    out = tmp_path / "tracking" / "training"
    shutil.copytree(root, out)
    for sub, suffix in (("velodyne", ""), ("image_02", ""), ("label_02", ".txt"), ("calib", ".txt"),
                        ("oxts", ".txt")):
        src = out / sub / f"{SEQ}{suffix}"
        (shutil.copytree if src.is_dir() else shutil.copyfile)(src, out / sub / f"0007{suffix}")
    return out.parent


def test_cli_render_scene(exported, tmp_path):
    drive = two_sequences(exported, tmp_path)
    png = tmp_path / "r.png"
    out = run_cli("render", str(drive), "--scene", "0007", "--frame", "1", "--out", str(png))
    assert out.returncode == 0, out.stderr    # the folder's two sequences need --scene to open at all
    img = cv2.imread(str(png))
    assert img is not None and img.shape[1] >= 960
    # The camera panel (below the 40-px title) holds depth-coloured point splats.
    cam = img[40:640, :960].astype(int)
    assert ((cam.max(axis=2) - cam.min(axis=2)) > 100).sum() > 1000
    # Without --scene: one line listing both sequences.
    assert_clean_error(run_cli("render", str(drive), "--out", str(png)), "2 sequences", "0003, 0007", "--scene")
    assert_clean_error(run_cli("render", str(drive), "--scene", "0042", "--out", str(png)), "0042", "0003, 0007")


def test_cli_prelabel_and_eval_of_one_sequence(exported, tmp_path):
    drive = two_sequences(exported, tmp_path)
    pred = tmp_path / "pred"
    out = run_cli("prelabel", str(drive), "--scene", "0007", "--out", str(pred), "--quiet")
    assert out.returncode == 0, out.stderr
    out = run_cli("eval", "--pred", str(pred), "--gt", str(drive), "--scene", "0007", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["classes"]["car"]["gt"] > 0 and report["classes"]["car"]["recall"] > 0.5
    # without --scene the folder is not one drive: one line naming the option
    assert_clean_error(run_cli("eval", "--pred", str(pred), "--gt", str(drive)), "2 sequences", "--scene")


def test_cli_import_scene_keeps_poses(exported, tmp_path):
    from fusionlabel.io.native import open_native_drive

    src, _, _ = exported
    drive = two_sequences(exported, tmp_path)
    out = run_cli("import", str(drive), "--scene", "3", "--out", str(tmp_path / "native"), "--quiet")
    assert out.returncode == 0, out.stderr
    native = open_native_drive(tmp_path / "native")
    assert [f.timestamp_us for f in native.frames] == [0, 100_000, 200_000]
    rel = invert_T(native.T_world_lidar(0)) @ native.T_world_lidar(2)
    T = velo_turn(src)
    rel_src = T @ invert_T(src.T_world_lidar(0)) @ src.T_world_lidar(2) @ invert_T(T)
    assert np.abs(rel[:3, 3] - rel_src[:3, 3]).max() <= 1e-6


def _break_oxts(root: Path):
    path = root / "training" / "oxts" / f"{SEQ}.txt"
    lines = path.read_text().splitlines()
    lines[1] = " ".join(lines[1].split()[:7])
    path.write_text("\n".join(lines) + "\n")


def _label_past_last_sweep(root: Path):
    path = root / "training" / "label_02" / f"{SEQ}.txt"
    first = path.read_text().splitlines()[0].split()
    path.write_text(path.read_text() + " ".join(["5"] + first[1:]) + "\n")


@pytest.mark.parametrize("breakage, fragments", [
    (lambda r: (r / "training" / "calib" / f"{SEQ}.txt").unlink(), [f"calib/{SEQ}.txt", "not found"]),
    (lambda r: (r / "training" / "calib" / f"{SEQ}.txt").write_text("P2: 1 0 0 0 0 1 0 0 0 0 1 0\n"),
     [f"calib/{SEQ}.txt", "R0_rect"]),
    (_break_oxts, [f"oxts/{SEQ}.txt", "line 2", "expected 30 numbers"]),
    (lambda r: (r / "training" / "oxts" / f"{SEQ}.txt").write_text("49.0 8.4 nan" + " 0" * 27 + "\n"),
     [f"oxts/{SEQ}.txt", "line 1, alt"]),
    (lambda r: (r / "training" / "oxts" / f"{SEQ}.txt").write_text("49.0 8.4" + " 0" * 28 + "\n"),
     [f"oxts/{SEQ}.txt", "1 records", "frame 2"]),
    (_label_past_last_sweep, [f"label_02/{SEQ}.txt", "frame 5", f"velodyne/{SEQ}/000005.bin"]),
    (lambda r: (r / "training" / "velodyne" / SEQ / "000001.bin").rename(r / "training" / "velodyne" / SEQ / "x.bin"),
     ["x.bin", "frame number"]),
])
def test_cli_bad_input_names_the_file(exported, tmp_path, breakage, fragments):
    _, root, _ = exported
    drive = tmp_path / "kt"
    shutil.copytree(root, drive / "training")
    breakage(drive)
    assert_clean_error(run_cli("render", str(drive), "--out", str(tmp_path / "r.png")), *fragments)


def test_layouts_and_scene_elsewhere(exported, tmp_path):
    kitti = make_kitti(tmp_path / "object")
    assert drive_layout(kitti) == "kitti"           # velodyne/*.bin: still a KITTI object folder
    with pytest.raises(DriveError, match="--scene only applies to nuScenes and KITTI tracking"):
        open_drive(kitti, scene="0003")
    empty = tmp_path / "empty" / "velodyne" / SEQ
    empty.mkdir(parents=True)
    assert drive_layout(empty.parents[1]) == "kitti_tracking"
    with pytest.raises(InputError, match="no .bin sweeps"):
        open_drive(empty.parents[1])


def test_first_frame_without_image(exported, tmp_path):
    """A sequence whose first frame has no image reads: that frame has none, the others keep
    theirs, and the camera's size comes from the first frame that has one; import works too."""
    _, _, bare = exported
    root = Path(shutil.copytree(bare, tmp_path / "seq" / "training"))
    (root / "image_02" / SEQ / "000000.png").unlink()
    drive = open_kitti_tracking(root)
    assert drive.frames[0].image_paths == {}
    assert set(drive.frames[1].image_paths) == {"image_2"} and set(drive.frames[2].image_paths) == {"image_2"}
    h, w = cv2.imread(str(root / "image_02" / SEQ / "000001.png")).shape[:2]
    cam = drive.rig(0).camera("image_2").camera
    assert (cam.width, cam.height) == (w, h)
    out = run_cli("import", str(root), "--out", str(tmp_path / "native"), "--quiet")
    assert out.returncode == 0, out.stderr
    from fusionlabel.io.native import open_native_drive

    native = open_native_drive(tmp_path / "native")
    assert "image_2" not in native.frames[0].image_paths and "image_2" in native.frames[1].image_paths


def test_real_sustech_tracking_export_reads_back(realdata, tmp_path):
    """The reviewer's case: SUSTech's first frame has no front image."""
    src = realdata / "sustech_sequence"
    if not src.is_dir():
        pytest.skip(f"SUSTech sample not found at {src}")
    out = run_cli("export", str(src), "--format", "kitti-tracking", "--out", str(tmp_path / "t"), "--quiet")
    assert out.returncode == 0, out.stderr
    out = run_cli("import", str(tmp_path / "t"), "--out", str(tmp_path / "t2"), "--quiet")
    assert out.returncode == 0, out.stderr
    drive = open_drive(tmp_path / "t")
    with_image = [bool(f.image_paths) for f in drive.frames]
    assert any(with_image) and with_image == [(tmp_path / "t" / "image_02" / "0000" / f"{f.frame_id}.png").is_file()
                                              for f in drive.frames]


def test_tracking_person_is_read_as_sitting(tmp_path):
    """KITTI tracking writes KITTI object's Person_sitting as "Person": its reader says pose: sitting,
    so a project and its exports keep it a sitting person (a "Person" from other sources is not)."""
    from fusionlabel.io.kitti import read_kitti_calib
    from fusionlabel.io.kitti_tracking import read_tracking_labels
    from test_kitti import CALIB_TEXT

    (tmp_path / "calib.txt").write_text(CALIB_TEXT)
    (tmp_path / "0000.txt").write_text(
        "0 1 Person 0 0 -1.10 760 170 790 220 1.20 0.60 0.70 4.00 1.70 12.00 -0.78\n"
        "0 2 Pedestrian 0 0 0.20 700 140 730 240 1.75 0.60 0.80 2.00 1.70 8.00 0.44\n")
    labels = read_tracking_labels(tmp_path / "0000.txt", read_kitti_calib(tmp_path / "calib.txt"))[0]
    assert [(lab.label, lab.attributes.get("pose")) for lab in labels] == [("Person", "sitting"), ("Pedestrian", None)]


def test_labels_only_sequence_exports_with_image_size(exported, tmp_path):
    """A sequence without image_02/ has no camera: export says --image-size is needed, takes the size
    from it (never guessing), refuses a malformed value, and then writes every label line as the
    export with images did; a size that contradicts the images is refused."""
    src, _, bare = exported
    root = Path(shutil.copytree(bare, tmp_path / "seq" / "training"))
    shutil.rmtree(root / "image_02")
    assert open_kitti_tracking(root).rig(0).camera_names == []
    w, h = (lambda c: (c.width, c.height))(open_kitti_tracking(bare).rig(0).camera("image_2").camera)
    base = ["export", str(root), "--format", "kitti-tracking", "--labels-only", "--sequence", SEQ, "--quiet"]
    assert_clean_error(run_cli(*base, "--out", str(tmp_path / "a")), "no camera", "--image-size WxH")
    for bad in ("1242", "1242x", "x375", "0x375", "12.5x8", "-3x4"):
        assert_clean_error(run_cli(*base, "--out", str(tmp_path / "b"), f"--image-size={bad}"), "--image-size", bad)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    out = run_cli(*base, "--out", str(tmp_path / "c"), "--image-size", f"{w}x{h}")
    assert out.returncode == 0, out.stderr
    assert f"camera image_2 is {w}x{h} px as --image-size says" in out.stdout
    written = (tmp_path / "c" / "label_02" / f"{SEQ}.txt").read_text()
    assert written == (bare / "label_02" / f"{SEQ}.txt").read_text() and written.count("\n") > 10
    assert open_kitti_tracking(root, image_size=(w, h)).rig(0).camera("image_2").camera.width == w
    with pytest.raises(DriveError, match=f"camera image_2.s image is {w}x{h} px but --image-size says {w + 1}x{h}"):
        open_kitti_tracking(bare, image_size=(w + 1, h))
    assert open_kitti_tracking(bare, image_size=(w, h)).rig(0).camera("image_2").camera.height == h
    assert_clean_error(run_cli("export", str(src.root), "--format", "kitti", "--out", str(tmp_path / "d"),
                               "--image-size", f"{w}x{h}"), "only applies to KITTI tracking folders")


def test_tracking_folder_without_sweeps_says_what_is_missing(exported, tmp_path):
    """Labels and calibration but no velodyne/: the error names the missing sweeps, with or without
    --scene or --image-size (they used to say the option does not apply to KITTI tracking folders),
    and says that `check` can check the labels; without label files either, it says what is there."""
    _, root, _ = exported
    labels_only = tmp_path / "kt"
    for name in ("label_02", "calib"):
        shutil.copytree(root / name, labels_only / name)
    for scene, size in ((None, None), ("3", None), (None, (1242, 375)), ("3", (1242, 375))):
        with pytest.raises(DriveError, match=r"kt/velodyne: no sweeps; .* holds labels only \(label_02/, calib/\): "
                                             r"`fusionlabel check` can check them") as e:
            open_drive(labels_only, scene=scene, image_size=size)
        assert "--scene" not in str(e.value) and "only applies" not in str(e.value)
    for label_file in (labels_only / "label_02").iterdir():
        label_file.unlink()
    with pytest.raises(DriveError, match=r"needs its sweeps in velodyne/<seq>/.*has label_02/, calib/"):
        open_drive(labels_only, scene="3")


def test_import_estimate_poses_drops_the_identity_pose_note(exported, tmp_path, capsys):
    """Without oxts the reader notes identity poses; once --estimate-poses wrote poses, that note is
    wrong and is not printed (plain import still prints it)."""
    from fusionlabel.cli.main import main

    _, _, bare = exported
    assert main(["import", str(bare), "--out", str(tmp_path / "plain"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert f"note: no oxts/{SEQ}.txt" in captured.err and "note:" not in captured.out   # notes go to stderr
    assert main(["import", str(bare), "--out", str(tmp_path / "ep"), "--estimate-poses", "--quiet"]) == 0
    out = "".join(capsys.readouterr())
    assert "estimated ego poses" in out and "oxts" not in out and "identity" not in out


def test_prelabel_kitti_without_images_names_the_missing_camera_before_detecting(exported, tmp_path, capsys,
                                                                                 monkeypatch):
    """No image_02/: --format kitti has no camera frame. The error says so and points to
    --image-size (calib/<seq>.txt is there), before the detector runs; with --image-size it works."""
    from fusionlabel.assist import prelabel as prelabel_module
    from fusionlabel.cli.main import main

    _, _, bare = exported
    noimg = tmp_path / "noimg"
    for name in ("velodyne", "calib", "label_02"):
        shutil.copytree(bare / name, noimg / name)
    detected = []
    real = prelabel_module.detect_frames
    monkeypatch.setattr(prelabel_module, "detect_frames", lambda *a, **k: detected.append(1) or real(*a, **k))
    out = tmp_path / "pl"
    args = ["prelabel", str(noimg), "--format", "kitti", "--out", str(out), "--quiet"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "drive has no camera" in err and "--image-size" in err and "calib/" not in err
    assert not detected and not out.exists()
    h, w = cv2.imread(str(next((bare / "image_02" / SEQ).iterdir()))).shape[:2]
    assert main(args + ["--image-size", f"{w}x{h}"]) == 0
    assert len(list(out.glob("*.txt"))) == len(list((noimg / "velodyne" / SEQ).iterdir()))


def test_image_size_for_a_project(exported, tmp_path, capsys):
    """--image-size with a project: a project of a sequence without images takes it (export and
    prelabel --format kitti then have their camera); a project whose drive knows image_2's size
    accepts the same size and refuses another in one line naming the camera; a project without an
    image_2 camera names the cameras it has."""
    from fusionlabel.cli.main import main
    from conftest import native_copy

    src, _, bare = exported
    w, h = (lambda c: (c.width, c.height))(open_kitti_tracking(bare).rig(0).camera("image_2").camera)
    noimg = tmp_path / "noimg" / "training"
    for name in ("velodyne", "calib", "label_02"):
        shutil.copytree(bare / name, noimg / name)
    for drive, proj in ((noimg, tmp_path / "p_noimg"), (bare, tmp_path / "p_bare")):
        assert main(["project", "create", str(drive), "--out", str(proj), "--import-labels", "--quiet"]) == 0
    capsys.readouterr()
    base = ["export", "--format", "kitti-tracking", "--labels-only", "--sequence", SEQ, "--quiet"]

    # the project of a sequence without images: --image-size gives the camera; without it KITTI has none
    assert main([*base, str(tmp_path / "p_noimg"), "--out", str(tmp_path / "a")]) == 2
    assert "no camera" in capsys.readouterr().err
    assert main([*base, str(tmp_path / "p_noimg"), "--out", str(tmp_path / "b"), "--image-size", f"{w}x{h}"]) == 0
    assert f"camera image_2 is {w}x{h} px as --image-size says" in capsys.readouterr().out
    assert (tmp_path / "b" / "label_02" / f"{SEQ}.txt").read_text() == (bare / "label_02" / f"{SEQ}.txt").read_text()
    prelabel = ["prelabel", str(tmp_path / "p_noimg"), "--format", "kitti", "--out", str(tmp_path / "pl"), "--quiet"]
    assert main(prelabel) == 2
    assert main(prelabel + ["--image-size", f"{w}x{h}"]) == 0
    capsys.readouterr()

    # a project whose drive has images: the same size is accepted, another is refused naming the camera
    assert main([*base, str(tmp_path / "p_bare"), "--out", str(tmp_path / "c"), "--image-size", f"{w}x{h}"]) == 0
    capsys.readouterr()
    assert main([*base, str(tmp_path / "p_bare"), "--out", str(tmp_path / "d"), "--image-size", f"{w + 1}x{h}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--image-size" in err and f"camera image_2's image is {w}x{h} px" in err
    assert not (tmp_path / "d").exists()
    assert main(["prelabel", str(tmp_path / "p_bare"), "--image-size", f"{w}x{h + 1}", "--quiet"]) == 2
    assert "camera image_2" in capsys.readouterr().err

    # a project of another drive: checked against its image_2, or named cameras when it has none
    native = native_copy(src, tmp_path / "native")
    assert main(["project", "create", str(native.root), "--out", str(tmp_path / "p_native"), "--quiet"]) == 0
    capsys.readouterr()
    args = [*base, str(tmp_path / "p_native"), "--out", str(tmp_path / "e"), "--image-size", f"{w}x{h}"]
    cameras = native.rig(0).camera_names
    if "image_2" in cameras:
        cam = native.rig(0).camera("image_2").camera
        assert main(args[:-1] + [f"{cam.width}x{cam.height}"]) == 0
        capsys.readouterr()
        args[-1] = f"{cam.width + 2}x{cam.height}"
        assert main(args) == 2
        err = capsys.readouterr().err
        assert f"camera image_2 is {cam.width}x{cam.height} px, not {cam.width + 2}x{cam.height}" in err
    else:
        assert main(args) == 2
        err = capsys.readouterr().err
        assert "has no image_2 (its cameras: " + ", ".join(cameras) in err
    assert err.count("\n") == 1 and str(tmp_path / "p_native") in err and not (tmp_path / "e").exists()


def test_export_keeps_the_source_sequence_name(exported, tmp_path):
    """A KITTI tracking sequence exported to KITTI tracking, from the folder or a project on it, keeps
    its name (0003 stays 0003; it used to become 0000); --sequence renames it, and a drive of another
    layout gets 0000."""
    src, root, _ = exported
    project = tmp_path / "project"
    assert run_cli("project", "create", str(root), "--out", str(project), "--import-labels").returncode == 0
    for n, (source, extra, name) in enumerate(((root, [], SEQ), (project, [], SEQ),
                                               (root, ["--sequence", "0042"], "0042"), (src.root, [], "0000"))):
        out_dir = tmp_path / f"out_{n}"
        out = run_cli("export", str(source), "--format", "kitti-tracking", "--labels-only", "--quiet", *extra,
                      "--out", str(out_dir), *(["--camera", CAMERA] if source == src.root else []))
        assert out.returncode == 0, out.stderr
        assert sorted(p.name for p in (out_dir / "label_02").iterdir()) == [f"{name}.txt"]
        assert (out_dir / "calib" / f"{name}.txt").is_file() and (out_dir / f"frames_{name}.txt").is_file()
    assert ((tmp_path / "out_0" / "label_02" / f"{SEQ}.txt").read_text()
            == (root / "label_02" / f"{SEQ}.txt").read_text())


def test_check_frames_0_shows_the_camera_or_says_why_there_is_none(exported, tmp_path, capsys):
    """`check --frames 0` on a KITTI tracking folder of two sequences (no --scene: each is checked)
    reports camera image_2, of the images' size, from frame 0's sweep in each. A sequence without
    images has no camera (its size is never guessed): the camera section says so instead of a bare
    '(no cameras)', and --json gives the reason as ``cameras_not_checked``."""
    from fusionlabel.cli.main import main

    drive = two_sequences(exported, tmp_path)
    h, w = cv2.imread(str(next((drive / "training" / "image_02" / SEQ).iterdir()))).shape[:2]
    assert main(["check", str(drive), "--frames", "0", "--no-poses", "--no-labels", "--quiet", "--json"]) == 0
    reports = json.loads(capsys.readouterr().out)
    assert [r["sequence"] for r in reports] == [SEQ, "0007"]
    for r in reports:
        assert r["checked_frames"] == ["000000"] and "cameras_not_checked" not in r
        assert [(c["name"], c["size"], c["frames"]) for c in r["cameras"]] == [("image_2", [w, h], 1)]
        assert r["cameras"][0]["points_in_image"] > 0

    shutil.rmtree(drive / "training" / "image_02" / "0007")
    assert main(["check", str(drive), "--scene", "0007", "--frames", "0", "--no-poses", "--no-labels"]) == 0
    text = capsys.readouterr().out
    cameras = text.split("cameras (", 1)[1].split("\nposes:", 1)[0].splitlines()[1:]
    assert cameras == ["  (no cameras: image_02/0007/ holds no images to give calib/0007.txt's camera image_2 its "
                       "size, which is never guessed, so the points cannot be projected into it)"]
    assert main(["check", str(drive), "--scene", "0007", "--frames", "0", "--no-poses", "--no-labels", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cameras"] == [] and cameras[0].startswith(f"  (no cameras: {out['cameras_not_checked']}")
