"""`fusionlabel check`: every classic calibration and pose mistake, made on purpose in a copy of a
simulated drive, is flagged by the right check, and the correct drive and the real KITTI, nuScenes
and SUSTech samples give no finding.

The broken copies are made independently of the checks: rotations through SciPy, quaternions and
Euler angles written the way scipy and ROS give them, poses inverted or replaced by the LiDAR's
with NumPy; the fold radius of a k1-only lens is compared with its closed form."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from scipy.spatial.transform import Rotation

from conftest import simulated_drive
from fusionlabel.cli.main import main
from fusionlabel.io.native import NativeDriveWriter, open_native_drive
from fusionlabel.qa.camera_checks import Coverage
from fusionlabel.qa.drive_check import check_drive, spread_frames
from fusionlabel.qa.pose_checks import pairs_for

CAMERAS = ("cam_front", "cam_front_left", "cam_front_right")


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """The three-frame simulated drive (10 Hz, 20k points, three cameras, ego poses)."""
    return simulated_drive(tmp_path_factory)


@pytest.fixture(scope="module")
def sim_check(sim):
    return check_drive(sim)


def checks_of(report, subject: str | None = None) -> set[str]:
    return {f.check for f in report.findings if subject is None or f.subject == subject}


def broken_copy(src: Path, dst: Path, rig=None, drive=None, files=None):
    """A copy of drive folder ``src`` in ``dst`` with ``rig(dict)``, ``drive(dict)`` and
    ``files(folder)`` applied, opened."""
    shutil.copytree(src, dst)
    for name, edit in (("rig.yaml", rig), ("drive.yaml", drive)):
        if edit is not None:
            doc = yaml.safe_load((dst / name).read_text())
            edit(doc)
            (dst / name).write_text(yaml.safe_dump(doc, sort_keys=False))
    if files is not None:
        files(dst)
    return open_native_drive(dst)


def extrinsic(rig: dict, camera: str) -> tuple[np.ndarray, np.ndarray]:
    e = rig["sensors"][camera]["extrinsic"]
    assert e["parent"] == "vehicle" and "matrix" in e["rotation"]
    return np.array(e["rotation"]["matrix"], float), np.array(e["translation"], float)


def set_extrinsic(rig: dict, camera: str, rotation: dict, translation) -> None:
    rig["sensors"][camera]["extrinsic"].update(rotation=rotation, translation=[float(v) for v in translation])


# ------------------------------------------------------------------------------------------ correct drives
def test_correct_drive_has_no_findings(sim_check):
    assert sim_check.findings == [], [f.message for f in sim_check.findings]
    assert set(sim_check.cameras) == set(CAMERAS)
    for cam in sim_check.cameras.values():
        assert cam.coverage.frames == 3 and cam.coverage.share > 0.2
        assert abs(cam.orientation.down_off_deg) < 1 and cam.orientation.distance_m < 2
    pairs = sim_check.poses.pairs
    assert [(p.a, p.b) for p in pairs] == [(0, 1), (1, 2)]
    assert all(p.trusted and p.agrees for p in pairs), sim_check.poses.status


def test_coverage_counts_agree_with_opencv(sim):
    """The pinhole camera's coverage counts against cv2.projectPoints: points 2-60 m from the
    camera, in front of it, landing inside the image."""
    rig = sim.rig(0)
    cam = rig.camera("cam_front_right").camera
    points = sim.points(0)
    T = sim.T_cam_lidar(0, "cam_front_right")
    cov = Coverage()
    cov.add(points, T, cam)
    xyz = points[:, :3].astype(np.float64) @ T[:3, :3].T + T[:3, 3]
    dist = np.linalg.norm(xyz, axis=1)
    ahead = (xyz[:, 2] > 0.1) & (dist >= 2) & (dist <= 60)
    uv, _ = cv2.projectPoints(xyz[ahead], np.zeros(3), np.zeros(3), cam.K, np.zeros(5))
    uv = uv.reshape(-1, 2)
    inside = (uv[:, 0] >= -0.5) & (uv[:, 0] < cam.width - 0.5) & (uv[:, 1] >= -0.5) & (uv[:, 1] < cam.height - 0.5)
    assert cov.in_image == int(inside.sum()) > 1000
    assert cov.in_front == int(((xyz[:, 2] > 0) & (dist >= 2) & (dist <= 60)).sum())


def test_frame_selection():
    assert spread_frames(1) == [0] and spread_frames(3) == [0, 1, 2]
    assert spread_frames(20) == [0, 5, 10, 14, 19]
    assert pairs_for([0, 5, 19], 20) == [(0, 1), (5, 6), (18, 19)]
    assert pairs_for([0], 1) == []


# ------------------------------------------------------------------------------------------ extrinsics
@pytest.mark.parametrize("camera", CAMERAS)
def test_inverted_extrinsic_is_flagged(sim, tmp_path, camera):
    """T_vehicle_cam written inverted (a LiDAR->camera calibration not inverted): the image's down
    no longer points down."""
    def invert(rig):
        R, t = extrinsic(rig, camera)
        set_extrinsic(rig, camera, {"matrix": R.T.tolist()}, -R.T @ t)
    report = check_drive(broken_copy(sim.root, tmp_path / "d", rig=invert), poses=False)
    assert "image-down" in checks_of(report, camera), [f.message for f in report.findings]
    assert {f.subject for f in report.findings} == {camera}


def test_quaternion_in_xyzw_order_is_flagged(sim, tmp_path):
    """Quaternions written as scipy and ROS give them (x, y, z, w): every camera whose rotation that
    changes by more than 20 degrees is flagged; written w, x, y, z nothing is."""
    def quaternions(order):
        def edit(rig):
            for cam in CAMERAS:
                R, t = extrinsic(rig, cam)
                x, y, z, w = Rotation.from_matrix(R).as_quat()
                set_extrinsic(rig, cam, {"quaternion": [float(v) for v in ((x, y, z, w) if order == "xyzw"
                                                                           else (w, x, y, z))]}, t)
        return edit
    right = check_drive(broken_copy(sim.root, tmp_path / "wxyz", rig=quaternions("wxyz")), poses=False)
    assert right.findings == []
    wrong = check_drive(broken_copy(sim.root, tmp_path / "xyzw", rig=quaternions("xyzw")), poses=False)
    rig = yaml.safe_load((sim.root / "rig.yaml").read_text())
    changed = []
    for cam in CAMERAS:
        R, _ = extrinsic(rig, cam)
        x, y, z, w = Rotation.from_matrix(R).as_quat()
        angle = np.degrees((Rotation.from_quat([y, z, w, x]) * Rotation.from_matrix(R).inv()).magnitude())
        if angle > 20:
            changed.append(cam)
            assert checks_of(wrong, cam) & {"image-down", "coverage"}, (cam, [f.message for f in wrong.findings])
    assert changed, "the xyzw order should change at least one of the simulator's cameras a lot"


def test_rpy_written_in_radians_is_flagged(sim, tmp_path):
    """rpy_deg holding radians: the camera ends up looking at the sky (and sees no point); the same
    angles in degrees are fine."""
    def rpy(unit):
        def edit(rig):
            R, t = extrinsic(rig, "cam_front")
            angles = Rotation.from_matrix(R).as_euler("xyz", degrees=(unit == "deg"))  # R = Rz Ry Rx
            set_extrinsic(rig, "cam_front", {"rpy_deg": [float(a) for a in angles]}, t)
        return edit
    assert check_drive(broken_copy(sim.root, tmp_path / "deg", rig=rpy("deg")), poses=False).findings == []
    report = check_drive(broken_copy(sim.root, tmp_path / "rad", rig=rpy("rad")), poses=False)
    assert checks_of(report, "cam_front") == {"image-down", "coverage"}
    assert report.cameras["cam_front"].coverage.in_image == 0


def test_translation_in_centimetres_is_flagged(sim, tmp_path):
    """The camera calibrated against the LiDAR (whose axes are the vehicle's), its offset written in
    centimetres: under the loader's 100 m limit."""
    def centimetres(rig):
        R, t = extrinsic(rig, "cam_front_right")
        t_lidar = np.array(rig["sensors"]["lidar_top"]["extrinsic"]["translation"], float)
        assert np.allclose(rig["sensors"]["lidar_top"]["extrinsic"]["rotation"]["matrix"], np.eye(3))
        set_extrinsic(rig, "cam_front_right", {"matrix": R.tolist()}, 100 * (t - t_lidar))
        rig["sensors"]["cam_front_right"]["extrinsic"]["parent"] = "lidar_top"
    report = check_drive(broken_copy(sim.root, tmp_path / "d", rig=centimetres), poses=False)
    assert "camera-distance" in checks_of(report, "cam_front_right")
    found = next(f for f in report.findings if f.check == "camera-distance")
    assert "centimetres" in found.message
    # for a program: the distance measured (independently: the translation's length) and the limit
    rig = yaml.safe_load((sim.root / "rig.yaml").read_text())
    t_lidar = np.array(rig["sensors"]["lidar_top"]["extrinsic"]["translation"], float)
    t = extrinsic(rig, "cam_front_right")[1]
    assert found.value == pytest.approx(100 * np.linalg.norm(t - t_lidar), rel=1e-6)
    assert (found.threshold, found.unit) == (20.0, "m")


# ------------------------------------------------------------------------------------------ intrinsics
def half_size_images(folder: Path) -> None:
    for path in (folder / "cameras" / "cam_front").glob("*.jpg"):
        image = cv2.imread(str(path))
        cv2.imwrite(str(path), cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2)))


def test_half_size_images_with_full_size_intrinsics(sim, tmp_path):
    """Images and resolution halved, K kept: the principal point sits at the image corner, and the
    check names the size K belongs to and the scale."""
    def half_resolution(rig):
        rig["sensors"]["cam_front"]["resolution"] = [640, 360]
    report = check_drive(broken_copy(sim.root, tmp_path / "d", rig=half_resolution, files=half_size_images),
                         poses=False)
    found = [f for f in report.findings if f.check == "principal-point"]
    assert [f.subject for f in found] == ["cam_front"] and found[0].severity == "error"
    assert "1280x720" in found[0].message and "by 0.5 " in found[0].remedy


def test_half_size_images_under_a_full_size_rig(sim, tmp_path):
    report = check_drive(broken_copy(sim.root, tmp_path / "d", files=half_size_images), poses=False)
    found = [f for f in report.findings if f.check == "image-file"]
    assert [f.subject for f in found] == ["cam_front"]
    assert "640x360" in found[0].message and "3 of 3" in found[0].message


def test_missing_image_names_its_frames_and_where_its_path_comes_from(sim, tmp_path):
    def remove(folder):
        for fid in ("000000", "000002"):
            (folder / "cameras" / "cam_front_left" / f"{fid}.jpg").unlink()
    report = check_drive(broken_copy(sim.root, tmp_path / "d", files=remove), poses=False)
    (found,) = [f for f in report.findings if f.check == "image-file"]
    assert found.subject == "cam_front_left" and found.frames == ("000000", "000002")
    assert "in 2 of 3 checked frames (000000, 000002): " in found.message
    assert "cam_front_left/000000.jpg: file not found" in found.message
    assert "drive.yaml, frames[].cameras" in found.remedy and "resolution" in found.remedy


@pytest.mark.parametrize("k1", [-0.9, -0.5])
def test_radtan_folding_inside_the_image_is_flagged(sim, tmp_path, k1):
    """k1 alone: r_d = r (1 + k1 r^2) stops growing at r = 1/sqrt(-3 k1), where r_d = 2 r / 3, so
    the fold lies fx * 2 / (3 sqrt(-3 k1)) px from the principal point."""
    def fold(rig):
        rig["sensors"]["cam_front"]["distortion"] = [k1, 0.0, 0.0, 0.0]
    report = check_drive(broken_copy(sim.root, tmp_path / "d", rig=fold), poses=False)
    fx = 1000.0
    expected = fx * 2 / (3 * math.sqrt(-3 * k1))
    corner = math.hypot(640, 360)
    found = [f for f in report.findings if f.check == "lens-fold"]
    if expected < corner:
        assert [f.subject for f in found] == ["cam_front"]
        assert f"folds back {expected:.0f} px" in found[0].message and f"corners {corner:.0f} px" in found[0].message
        assert found[0].severity == ("error" if expected < 360 else "warning")
    else:
        assert found == []


# ------------------------------------------------------------------------------------------ ego poses
def test_inverted_poses_are_flagged(sim, tmp_path):
    def invert(drive):
        for f in drive["frames"]:
            T = np.vstack([np.array(f["T_world_vehicle"], float), [0, 0, 0, 1]])
            f["T_world_vehicle"] = np.linalg.inv(T)[:3].tolist()
    report = check_drive(broken_copy(sim.root, tmp_path / "d", drive=invert))
    found = [f for f in report.findings if f.check == "poses"]
    assert len(found) == 1 and "T_vehicle_world was written" in found[0].message, report.poses.status
    assert all(p.diagnosis == "inverted" for p in report.poses.pairs)


def test_poses_of_a_camera_frame_are_flagged(sim, tmp_path):
    """T_world_cam (z forward) written for T_world_vehicle: the poses lift the vehicle by as much as
    it drives."""
    rig = yaml.safe_load((sim.root / "rig.yaml").read_text())
    R, t = extrinsic(rig, "cam_front")
    T_vehicle_cam = np.eye(4)
    T_vehicle_cam[:3, :3], T_vehicle_cam[:3, 3] = R, t

    def camera_poses(drive):
        for f in drive["frames"]:
            T = np.vstack([np.array(f["T_world_vehicle"], float), [0, 0, 0, 1]]) @ T_vehicle_cam
            f["T_world_vehicle"] = T[:3].tolist()
    report = check_drive(broken_copy(sim.root, tmp_path / "d", drive=camera_poses))
    found = [f for f in report.findings if f.check == "poses"]
    assert len(found) == 1 and " dz +" in found[0].message, report.poses.status
    assert [f.check for f in report.findings] == ["poses"]


def y_forward_copy(src, root: Path, poses: str = "vehicle", rig_yaw_deg: float = -90.0,
                   turn: str = "z", turn_deg: float = -90.0) -> Path:
    """``src`` rewritten with its LiDAR turned to look along its own +y (mounted rotated -90 deg
    about z, as nuScenes' LIDAR_TOP): sweeps in that frame, the rig saying the LiDAR yaw is
    ``rig_yaw_deg``, and as poses T_world_vehicle (``poses="vehicle"``) or T_world_lidar.
    ``turn``, ``turn_deg``: another mount (scipy Euler axes and angle), which the rig then gives."""
    from dataclasses import replace

    rig = src.rig(0)
    lidar = rig.sensors[rig.reference_lidar]
    R_turn = Rotation.from_euler(turn, turn_deg, degrees=True).as_matrix()    # LiDAR axes in the old LiDAR frame
    T_rig = np.array(lidar.T_vehicle_sensor, float)
    T_rig[:3, :3] = T_rig[:3, :3] @ (R_turn if turn != "z" else
                                     Rotation.from_euler("z", rig_yaw_deg, degrees=True).as_matrix())
    T_true = np.array(lidar.T_vehicle_sensor, float)
    T_true[:3, :3] = T_true[:3, :3] @ R_turn
    sensors = dict(rig.sensors, **{lidar.name: replace(lidar, T_vehicle_sensor=T_rig)})
    with NativeDriveWriter(root, replace(rig, sensors=sensors), "y-forward") as writer:
        for i, f in enumerate(src.frames):
            points = src.points(i).copy()
            points[:, :3] = points[:, :3] @ R_turn                            # p_new = R_turn^T p_old
            pose = f.T_world_vehicle if poses == "vehicle" else f.T_world_vehicle @ T_true
            writer.add_frame(f.frame_id, f.timestamp_us, pose, points, {c: src.image(i, c) for c in f.image_paths})
    return root


def test_y_forward_lidar_with_vehicle_poses_is_fine(sim, tmp_path):
    report = check_drive(open_native_drive(y_forward_copy(sim, tmp_path / "d")))
    assert report.findings == [], [f.message for f in report.findings]
    assert all(p.agrees for p in report.poses.pairs) and report.poses.pairs


def test_lidar_poses_written_as_vehicle_poses_are_flagged(sim, tmp_path):
    report = check_drive(open_native_drive(y_forward_copy(sim, tmp_path / "d", poses="lidar")))
    found = [f for f in report.findings if f.check == "poses"]
    assert len(found) == 1 and "T_world_lidar was written" in found[0].message, report.poses.status


def test_lidar_yaw_missing_from_the_rig_is_flagged(sim, tmp_path):
    """A y-forward LiDAR declared straight: the poses move it along its x, the sweeps along its y."""
    report = check_drive(open_native_drive(y_forward_copy(sim, tmp_path / "d", rig_yaw_deg=0.0)))
    found = [f for f in report.findings if f.check == "poses"]
    assert len(found) == 1 and "-90 deg off their direction" in found[0].message, report.poses.status


# ------------------------------------------------------------------------------------------ capture times
@pytest.mark.parametrize("turn, turn_deg, tilt", [("x", 180.0, 180.0), ("zx", (90.0, 180.0), 180.0),
                                                  ("y", 90.0, 90.0), ("y", 40.0, 40.0)])
def test_lidar_mounted_upside_down_or_on_its_side_is_flagged(sim, tmp_path, turn, turn_deg, tilt):
    """The rig gives the mount correctly, so the cameras see their points; the app's views and boxes
    would still take the LiDAR's z as up."""
    report = check_drive(open_native_drive(y_forward_copy(sim, tmp_path / "d", turn=turn, turn_deg=turn_deg)),
                         poses=False)
    assert [f.check for f in report.findings] == ["lidar-up"], [f.message for f in report.findings]
    (found,) = report.findings
    assert found.subject == "lidar_top" and found.value == pytest.approx(tilt, abs=1e-6)
    assert "sensors.lidar_top.extrinsic.rotation" in found.message and "calib/README.md" in found.remedy
    assert all(c.coverage.share > 0.2 for c in report.cameras.values())


def test_lidar_pitched_down_a_little_is_fine(sim, tmp_path):
    report = check_drive(open_native_drive(y_forward_copy(sim, tmp_path / "d", turn="y", turn_deg=10.0)),
                         poses=False)
    assert report.findings == [], [f.message for f in report.findings]


def test_images_shifted_by_a_frame_are_flagged(sim, tmp_path):
    def shift(drive):
        frames = drive["frames"]
        for k, f in enumerate(frames):
            t = frames[k + 1]["timestamp_us"] if k + 1 < len(frames) else f["timestamp_us"] + 100_000
            f["camera_timestamps_us"] = {cam: t for cam in f["cameras"]}
    report = check_drive(broken_copy(sim.root, tmp_path / "d", drive=shift), poses=False)
    found = [f for f in report.findings if f.check == "capture-time"]
    assert sorted(f.subject for f in found) == sorted(CAMERAS)
    assert all(f.severity == "error" and "2 of 3 frames" in f.message and "from frame 000001's" in f.message
               for f in found)


def test_capture_time_far_from_the_sweep_is_a_warning(sim, tmp_path):
    def late(drive):
        f = drive["frames"][0]
        f["camera_timestamps_us"] = {"cam_front": f["timestamp_us"] - 3_000_000,
                                     "cam_front_left": f["timestamp_us"] - 40_000}
    report = check_drive(broken_copy(sim.root, tmp_path / "d", drive=late), poses=False)
    assert [(f.subject, f.check, f.severity) for f in report.findings] == [("cam_front", "capture-time", "warning")]
    assert "-3.000 s" in report.findings[0].message
    f = report.findings[0]
    assert (f.frame, f.value, f.threshold, f.unit) == (sim.frames[0].frame_id, pytest.approx(3.0), 0.1, "s")


# ------------------------------------------------------------------------------------------ the commands
def test_cli_exit_codes_and_json(sim, tmp_path, capsys):
    assert main(["check", str(sim.root)]) == 0
    out = capsys.readouterr().out
    assert "no problems found" in out and "cam_front_left" in out
    def radians(rig):
        R, t = extrinsic(rig, "cam_front")
        set_extrinsic(rig, "cam_front", {"rpy_deg": [float(a) for a in Rotation.from_matrix(R).as_euler("xyz")]}, t)
    broken = broken_copy(sim.root, tmp_path / "d", rig=radians).root
    assert main(["check", str(broken), "--frames", "0-1", "--no-poses"]) == 3
    text = capsys.readouterr().out
    assert main(["check", str(broken), "--frames", "0-1", "--no-poses", "--json"]) == 3
    doc = json.loads(capsys.readouterr().out)
    assert doc["checked_frames"] == ["000000", "000001"]
    for f in doc["findings"]:
        assert f"{f['severity']:<7} [{f['id']}] {f['subject']}: {f['message']}" in text and f["remedy"] in text
    assert {f["check"] for f in doc["findings"]} == {"image-down", "coverage"}
    assert main(["check", str(broken), "--frames", "7"]) == 2
    assert "--frames" in capsys.readouterr().err
    assert main(["check", str(tmp_path / "nowhere")]) == 2


def test_render_notes_a_camera_no_point_reaches(sim, tmp_path, capsys):
    assert main(["render", str(sim.root), "--out", str(tmp_path / "ok.png")]) == 0
    assert "note:" not in capsys.readouterr().err
    def radians(rig):
        R, t = extrinsic(rig, "cam_front")
        set_extrinsic(rig, "cam_front", {"rpy_deg": [float(a) for a in Rotation.from_matrix(R).as_euler("xyz")]}, t)
    broken = broken_copy(sim.root, tmp_path / "d", rig=radians).root
    assert main(["render", str(broken), "--out", str(tmp_path / "bad.png")]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and notes[0].startswith("note: cam_front: no LiDAR point falls in this camera")
    assert f"fusionlabel check {broken}" in notes[0]


# ------------------------------------------------------------------------------------------ real data
def test_real_kitti_object_frames(kitti_object):
    from fusionlabel.io.drives import open_drive

    report = check_drive(open_drive(kitti_object))
    assert report.findings == [], [f.message for f in report.findings]
    assert len(report.checked) == 4 and report.cameras["image_2"].coverage.share > 0.2


def test_real_nuscenes_keyframe(nusc_root):
    from fusionlabel.io.drives import open_drive

    report = check_drive(open_drive(nusc_root))
    assert report.findings == [], [f.message for f in report.findings]
    assert len(report.cameras) == 6 and all(c.coverage.share > 0.2 for c in report.cameras.values())
    assert len(report.times.cameras) == 6 and abs(report.times.largest_offset_s) < 0.05


def test_real_sustech_sequence(realdata):
    from fusionlabel.io.drives import open_drive

    root = realdata / "sustech_sequence"
    if not (root / "lidar").is_dir():
        pytest.skip(f"SUSTech sample not found at {root}")
    report = check_drive(open_drive(root))
    assert report.findings == [], [f.message for f in report.findings]
    assert len(report.cameras) == 3 and all(c.coverage.share > 0.2 for c in report.cameras.values())
    assert len(report.sweep_notes) == 4                      # every sweep's PCD header is repaired
    assert all(any("stride 48" in n for n in notes) for notes in report.sweep_notes.values())


def test_unreadable_sweep_is_a_finding_and_the_rest_is_checked(sim, tmp_path):
    def cut(folder):
        path = folder / "lidar" / "000001.fri"
        path.write_bytes(path.read_bytes()[:100])
    report = check_drive(broken_copy(sim.root, tmp_path / "d", files=cut))
    found = [f for f in report.findings if f.check == "sweep-file"]
    assert [f.subject for f in found] == ["frame 000001"] and "000001.fri" in found[0].message
    assert {f.check for f in report.findings} == {"sweep-file"}
    assert all(c.coverage.frames == 2 for c in report.cameras.values())
    assert [p.trusted for p in report.poses.pairs] == [False, False]       # both pairs need frame 000001
    assert all("cannot be read" in p.reason for p in report.poses.pairs)


def test_check_reads_a_project_folder(sim, tmp_path, capsys):
    from fusionlabel.store.project import Project

    Project.create(tmp_path / "project", sim.root, progress=False).close()
    assert main(["check", str(tmp_path / "project"), "--no-poses", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["findings"] == [] and doc["root"] == str(sim.root) and doc["poses"]["status"] == "not checked"


def test_sweep_reader_notes_are_reported_not_found(sim, tmp_path, capsys):
    """A sweep the reader had to repair (here: bytes after the last point) reads right, so it is a
    note in the report, with the frame, and not a finding; a clean drive has no notes."""
    from fusionlabel.io.pcd import write_points_pcd
    from fusionlabel.io.pointcloud import read_points

    def trailing_bytes(folder):
        pcd = folder / "lidar" / "000001.pcd"
        write_points_pcd(pcd, read_points(folder / "lidar" / "000001.fri")[:, :4], binary=True)
        pcd.write_bytes(pcd.read_bytes() + b"\0" * 24)
        (folder / "lidar" / "000001.fri").unlink()

    def point_at_pcd(doc):
        doc["frames"][1]["lidar"] = "lidar/000001.pcd"

    broken = broken_copy(sim.root, tmp_path / "d", drive=point_at_pcd, files=trailing_bytes)
    report = check_drive(broken, poses=False)
    assert report.findings == [] and check_drive(sim, poses=False).sweep_notes == {}
    assert list(report.sweep_notes) == ["000001"]
    assert "24 trailing bytes" in report.sweep_notes["000001"][0]
    assert main(["check", str(broken.root), "--no-poses"]) == 0
    out = capsys.readouterr().out
    assert "sweep reader notes (1 of 3 checked frames" in out and "(frame 000001)" in out
    assert main(["check", str(broken.root), "--no-poses", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sweep_notes"] == report.sweep_notes


def test_camera_whose_size_changes_between_frames_says_so(kitti_object, capsys):
    """The real KITTI folder has two recording days, 1224x370 and 1242x375 images: the camera's
    line used to give only the first frame's size; it now counts the frames of each size (read
    here from the images themselves), as does --json."""
    from collections import Counter

    from fusionlabel.io.drives import open_drive

    truth = Counter()
    for png in sorted((kitti_object / "image_2").glob("*.png")):
        h, w = cv2.imread(str(png)).shape[:2]
        truth[(w, h)] += 1
    assert len(truth) == 2
    report = check_drive(open_drive(kitti_object), frames=list(range(4)), poses=False)
    assert dict(report.cameras["image_2"].sizes) == dict(truth)
    main(["check", str(kitti_object), "--no-poses"])
    text = capsys.readouterr().out
    assert "its size changes between frames (" in text
    assert all(f"{w}x{h} in {n} frame" in text for (w, h), n in truth.items())
    main(["check", str(kitti_object), "--no-poses", "--json"])
    (camera,) = json.loads(capsys.readouterr().out)["cameras"]
    assert camera["sizes"] == {f"{w}x{h}": n for (w, h), n in truth.items()}
