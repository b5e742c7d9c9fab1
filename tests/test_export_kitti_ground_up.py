"""KITTI export from a rig without a vehicle frame: "up" is the ground's normal, not the LiDAR's z.

References are written here with NumPy: planes with known normals, a simulated drive whose LiDAR is
mounted tilted by a known rotation (the truth is the simulator's vehicle z), the written box corners
taken back through the written calibration, and a plain least-squares fit of the lowest return per
grid cell for the real SUSTech sweeps. "LiDAR z" is the exporter with the ground estimate made
unreliable (the behaviour this replaced).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import quiet
from test_export_kitti_level import agreement, calib_matrices, corners_rect

from fusionlabel.assist import ground
from fusionlabel.assist.ground import ground_normal, ground_up
from fusionlabel.export import export_drive
from fusionlabel.geometry.transforms import invert_T, rotation_from_euler
from fusionlabel.io.kitti import read_kitti_calib, read_kitti_label_file
from fusionlabel.io.rig_yaml import rig_from_dict, rig_to_dict
from fusionlabel.model.drive import Drive, Frame
from fusionlabel.model.rig import LidarSensor, Rig

TILT = rotation_from_euler(np.radians(2.0), np.radians(-3.0), 0.0)   # the LiDAR's mount, 3.6 degrees


# ------------------------------------------------------------------------------ references
def tilted_scene(normal, n_ground=30000, seed=0) -> np.ndarray:
    """(N, 4) points: a plane through (0, 0, -1.8) with unit ``normal``, 3 mm noise, within 30 m,
    plus boxes standing on it (cars) and a 15 cm kerb band on one side, as a LiDAR would see them."""
    rng = np.random.default_rng(seed)
    normal = np.asarray(normal, float) / np.linalg.norm(normal)
    r, a = np.sqrt(rng.uniform(9.0, 900.0, n_ground)), rng.uniform(-np.pi, np.pi, n_ground)
    xy = np.c_[r * np.cos(a), r * np.sin(a)]
    z_of = lambda xy: -1.8 - (xy @ normal[:2]) / normal[2]                            # noqa: E731
    pts = [np.c_[xy, z_of(xy) + rng.normal(0.0, 0.003, n_ground)]]
    kerb = xy[xy[:, 1] > 6.0][:3000]
    pts.append(np.c_[kerb, z_of(kerb) + 0.15])
    for cx, cy in ((8.0, 3.0), (-12.0, -4.0), (15.0, -6.0)):
        b = rng.uniform([-2.2, -0.9, 0.3], [2.2, 0.9, 1.5], (1500, 3)) + [cx, cy, 0.0]
        b[:, 2] += z_of(b[:, :2])
        pts.append(b)
    p = np.vstack(pts)
    return np.c_[p, np.zeros(len(p))].astype(np.float32)


def angle_deg(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1.0, 1.0))))


def written_up(out, name: str) -> np.ndarray:
    """The vertical (3,) the export levelled against, in the drive's LiDAR frame: −(rectified y)
    taken back through R0_rect · Tr_velo_to_cam · Tr_imu_to_velo (vehicle = LiDAR for these rigs)."""
    calib = read_kitti_calib(out / "calib" / f"{name}.txt")
    _, R0, Tr = calib_matrices(calib)
    T_velo_lidar = np.vstack([calib.Tr_imu_to_velo, [0.0, 0.0, 0.0, 1.0]])
    R_rect_lidar = (R0 @ Tr @ T_velo_lidar)[:3, :3]
    return -R_rect_lidar.T @ np.array([0.0, 1.0, 0.0])


def tilted_lidar_drive(drive) -> tuple[Drive, np.ndarray]:
    """``drive`` (the simulator's, level ego on flat ground) as a rig without a vehicle frame whose
    LiDAR is mounted rotated by :data:`TILT`: sweeps, boxes, cameras and poses are expressed in the
    tilted LiDAR frame, which stands in for the vehicle. Returns (drive, true up in that frame)."""
    rig = drive.rig(0)
    T_tilt = np.eye(4)
    T_tilt[:3, :3] = TILT
    T_vehicle_new = rig.T_vehicle_lidar @ T_tilt          # the tilted LiDAR in the real vehicle frame
    T_new_vehicle = invert_T(T_vehicle_new)
    sensors = {rig.reference_lidar: LidarSensor(rig.reference_lidar, np.eye(4))}
    for cam in rig.cameras:
        sensors[cam.name] = replace(cam, T_vehicle_sensor=T_new_vehicle @ cam.T_vehicle_sensor)
    new_rig = Rig(rig.name + "-tilted", sensors, rig.reference_lidar, vehicle_frame=False)
    T_new_old = T_new_vehicle @ rig.T_vehicle_lidar
    frames = [Frame(f.frame_id, f.lidar_path, dict(f.image_paths), f.timestamp_us, f.T_world_vehicle @ T_vehicle_new,
                    {c: T @ T_vehicle_new for c, T in f.T_world_vehicle_at_camera.items()},
                    dict(f.camera_timestamps_us),
                    labels_source=lambda i=i: [replace(lab, box=lab.box.transformed(T_new_old))
                                               for lab in drive.labels(i)])
              for i, f in enumerate(drive.frames)]
    index = {f.lidar_path: i for i, f in enumerate(drive.frames)}

    def read_points(path):
        p = np.array(drive.points(index[path]), dtype=np.float64)
        p[:, :3] = p[:, :3] @ T_new_old[:3, :3].T + T_new_old[:3, 3]
        return p.astype(np.float32)

    truth = T_new_vehicle[:3, :3] @ np.array([0.0, 0.0, 1.0])
    return Drive(drive.name + "-tilted", drive.root, new_rig, frames, read_points=read_points), truth


def lidar_z_only(monkeypatch):
    """Make every ground estimate unreliable, so the export levels against the LiDAR's z."""
    monkeypatch.setattr(ground, "UP_MIN_POINTS", 10**9)


# ------------------------------------------------------------------------------ the estimate
def test_ground_normal_recovers_a_known_plane_despite_cars_and_a_kerb():
    for normal in ([0.0, 0.0, 1.0], [0.03, -0.05, 1.0], [-0.06, 0.02, 1.0]):
        got, n = ground_normal(tilted_scene(normal))
        assert n > 10000 and got[2] > 0
        assert angle_deg(got, normal) < 0.05, (normal, got)


def test_ground_up_takes_the_median_and_refuses_what_it_cannot_trust():
    normals = ([0.03, 0.05, 1.0], [0.035, 0.045, 1.0], [0.025, 0.05, 1.0])
    up = ground_up(tilted_scene(n, seed=k) for k, n in enumerate(normals))
    median = np.median([np.asarray(n) / np.linalg.norm(n) for n in normals], axis=0)
    assert up.reliable and up.reason == "" and len(up.counts) == 3
    assert angle_deg(up.up, median) < 0.05
    assert up.tilt == pytest.approx(np.radians(angle_deg(median, [0, 0, 1])), abs=np.radians(0.05))

    sparse = ground_up([tilted_scene(normals[0], n_ground=500)])
    assert not sparse.reliable and "ground points" in sparse.reason
    assert np.array_equal(sparse.up, [0.0, 0.0, 1.0])
    split = ground_up([tilted_scene([0.0, 0.0, 1.0]), tilted_scene([0.0, 0.06, 1.0], seed=1)])
    assert not split.reliable and "disagree" in split.reason
    steep = ground_up([tilted_scene([0.0, 0.16, 1.0])])
    assert not steep.reliable and "tilted" in steep.reason


def test_rig_yaml_keeps_vehicle_frame():
    rig = Rig("r", {"l": LidarSensor("l")}, "l", vehicle_frame=False)
    assert "vehicle_frame" not in rig_to_dict(replace(rig, vehicle_frame=True))   # files unchanged
    assert rig_from_dict(rig_to_dict(rig)).vehicle_frame is False
    with pytest.raises(Exception, match="vehicle_frame"):
        rig_from_dict({**rig_to_dict(rig), "vehicle_frame": "no"})


# ------------------------------------------------------------------------------ a tilted simulated LiDAR
def test_tilted_lidar_without_vehicle_frame_is_levelled_against_the_ground(small_sim_drive, tmp_path, monkeypatch):
    """The LiDAR is mounted 3.6 degrees off level and the rig has no vehicle frame. The written
    vertical is within 0.2 degrees of the truth (it was the LiDAR's z, 3.6 degrees off), and each
    box's bottom corners lie level in the true vehicle frame (to 2 cm over a car; > 10 cm before);
    KITTI tracking uses the same one "up" for its sequence."""
    drive, truth = tilted_lidar_drive(small_sim_drive)
    summary = export_drive(drive, "kitti", tmp_path / "ground", options=quiet(camera="cam_front", sensor_data=False))
    with monkeypatch.context() as m:
        lidar_z_only(m)
        old = export_drive(drive, "kitti", tmp_path / "lidarz", options=quiet(camera="cam_front", sensor_data=False))
    assert any("'up' is the normal of the ground" in t for t in summary.cannot_hold), summary.cannot_hold
    assert any("gave no reliable 'up'" in t for t in old.cannot_hold), old.cannot_hold
    names = [f"{i:06d}" for i in range(len(drive))]
    for name in names:
        assert angle_deg(written_up(tmp_path / "ground", name), truth) < 0.2
        assert angle_deg(written_up(tmp_path / "lidarz", name), truth) > 3.0

    T_vehicle_lidar = small_sim_drive.rig(0).T_vehicle_lidar @ np.vstack([np.c_[TILT, np.zeros(3)], [0, 0, 0, 1]])
    spread = {}
    for which in ("ground", "lidarz"):
        worst = 0.0
        for name in names:
            calib = read_kitti_calib(tmp_path / which / "calib" / f"{name}.txt")
            _, R0, Tr = calib_matrices(calib)
            T_velo_lidar = np.vstack([calib.Tr_imu_to_velo, [0.0, 0.0, 0.0, 1.0]])
            T_vehicle_rect = T_vehicle_lidar @ np.linalg.inv(R0 @ Tr @ T_velo_lidar)
            for line in read_kitti_label_file(tmp_path / which / "label_2" / f"{name}.txt"):
                bottom = corners_rect(*line.dimensions_hwl, *line.location, line.rotation_y)[:4]
                z = (T_vehicle_rect @ np.c_[bottom, np.ones(4)].T)[2]
                worst = max(worst, float(z.max() - z.min()))
        spread[which] = worst
    assert spread["ground"] < 0.02 and spread["lidarz"] > 0.10, spread
    new, before = agreement(tmp_path / "ground", names), agreement(tmp_path / "lidarz", names)
    assert len(new) == len(before) >= 10
    assert np.median([d for d, _ in new]) < np.median([d for d, _ in before])

    export_drive(drive, "kitti-tracking", tmp_path / "trk", options=quiet(camera="cam_front", sensor_data=False))
    assert angle_deg(written_up(tmp_path / "trk", "0000"), truth) < 0.2


def test_rigs_with_a_vehicle_frame_never_estimate_the_ground(small_sim_drive, tmp_path, monkeypatch):
    """The simulator's rig has a vehicle frame: no sweep is looked at for "up", and the output is
    what levelling against the vehicle's z gives."""
    def refuse(*_):
        raise AssertionError("ground estimated for a rig with a vehicle frame")
    monkeypatch.setattr("fusionlabel.export.kitti.ground_up", refuse)
    summary = export_drive(small_sim_drive, "kitti", tmp_path / "out", options=quiet(camera="cam_front",
                                                                                     sensor_data=False))
    assert not any("ground" in t for t in summary.cannot_hold)
    assert angle_deg(written_up(tmp_path / "out", "000000"),
                     invert_T(small_sim_drive.rig(0).T_vehicle_lidar)[:3, 2]) < 1e-9


# ------------------------------------------------------------------------------ real SUSTech
def reference_ground_normal(points) -> np.ndarray:
    """Plain least-squares plane z = a x + b y + c through the lowest return of each 1 m cell
    4-20 m from the sensor, refitted three times without cells more than 10 cm off the plane."""
    p = np.asarray(points, dtype=np.float64)[:, :3]
    r = np.hypot(p[:, 0], p[:, 1])
    p = p[(r > 4.0) & (r < 20.0)]
    cells = np.floor(p[:, :2]).astype(np.int64)
    order = np.lexsort((p[:, 2], cells[:, 1], cells[:, 0]))
    p, cells = p[order], cells[order]
    first = np.r_[True, (np.diff(cells, axis=0) != 0).any(axis=1)]
    low = p[first]
    keep = np.ones(len(low), bool)
    for _ in range(4):
        A = np.c_[low[keep, :2], np.ones(keep.sum())]
        (a, b, c), *_ = np.linalg.lstsq(A, low[keep, 2], rcond=None)
        keep = np.abs(low[:, 2] - (a * low[:, 0] + b * low[:, 1] + c)) < 0.10
    return np.array([-a, -b, 1.0]) / np.hypot(np.hypot(a, b), 1.0)


def test_real_sustech_levels_against_its_ground(realdata, tmp_path, monkeypatch):
    """SUSTech's LiDAR is ~3 degrees off level and about half its boxes carry that pitch and roll.
    The written vertical is within 1 degree of a plain fit to the lowest returns (3 degrees from the
    LiDAR's z), nearer the tilted boxes' median z axis than the LiDAR's z is, and the median
    disagreement between written 2D boxes and projected 3D boxes over all boxes is smaller than with
    levelling against the LiDAR's z."""
    from fusionlabel.io.drives import open_drive

    root = realdata / "sustech_sequence"
    if not root.is_dir():
        pytest.skip(f"SUSTech sample not found at {root}")
    drive = open_drive(root)
    assert drive.rig(0).vehicle_frame is False
    summary = export_drive(drive, "kitti", tmp_path / "ground", options=quiet(camera="front", sensor_data=False))
    with monkeypatch.context() as m:
        lidar_z_only(m)
        export_drive(drive, "kitti", tmp_path / "lidarz", options=quiet(camera="front", sensor_data=False))
    assert any("'up' is the normal of the ground" in t for t in summary.cannot_hold), summary.cannot_hold
    reference = np.median([reference_ground_normal(drive.points(i)) for i in range(len(drive))], axis=0)
    names = sorted(p.stem for p in (tmp_path / "ground" / "label_2").glob("*.txt"))
    up = written_up(tmp_path / "ground", names[0])
    assert 2.0 < angle_deg(up, [0, 0, 1]) < 4.5
    assert angle_deg(up, reference) < 1.0, (up, reference)     # the road is not a plane: fits differ by ~0.5
    boxes = np.median([lab.box.rotation()[:, 2] for i in range(len(drive)) for lab in drive.labels(i)
                       if not lab.box.is_upright and angle_deg(lab.box.rotation()[:, 2], [0, 0, 1]) > 1.0], axis=0)
    assert angle_deg(up, boxes) < 2.0 < angle_deg([0, 0, 1], boxes)   # nearer the annotators' tilted boxes
    new, old = agreement(tmp_path / "ground", names), agreement(tmp_path / "lidarz", names)
    assert len(new) == len(old) >= 20
    assert np.median([d for d, _ in new]) < np.median([d for d, _ in old]) - 0.3
