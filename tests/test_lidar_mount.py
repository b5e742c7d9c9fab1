"""One test for "the LiDAR is not upright": check's lidar-up finding, import --upright and the KITTI
export's turned Velodyne frame all follow fusionlabel.model.lidar_mount (the vehicle's up), also on
rigs whose export camera is rolled, looks straight down or faces backwards."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from conftest import quiet
from fusionlabel.export import export_drive
from fusionlabel.io.kitti import read_kitti_calib
from fusionlabel.model.drive import Drive
from fusionlabel.model.lidar_mount import MAX_LIDAR_TILT_DEG, lidar_mount
from fusionlabel.qa.drive_check import check_drive

CAMERA = "cam_front"


def _rot(seq: str, degrees) -> np.ndarray:
    return Rotation.from_euler(seq, degrees, degrees=True).as_matrix()


# Camera mounts in the vehicle frame (columns: the camera's x right, y down, z forward).
LEVEL_FRONT = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
STRAIGHT_DOWN = np.array([[0.0, -1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])   # y backwards, z down
REAR_ROLLED = _rot("z", 180.0) @ LEVEL_FRONT @ _rot("z", 180.0)   # looks backwards, image upside down

# (LiDAR rotation in the vehicle frame, export camera's rotation): the camera-axis test of old
# (T_cam_lidar[1, 2] > 0 in the levelled camera) and the vehicle's up disagree on each of these.
RIGS = {
    "hanging LiDAR, camera looking straight down": (_rot("x", 180.0), STRAIGHT_DOWN),
    "upright LiDAR pitched 20 deg, camera looking straight down": (_rot("y", -20.0), STRAIGHT_DOWN),
    "LiDAR on its side (70 deg)": (_rot("x", 70.0), LEVEL_FRONT),
    "LiDAR tilted 110 deg": (_rot("y", 110.0), LEVEL_FRONT),
    "hanging LiDAR turned 90, rear camera rolled": (_rot("zx", [90.0, 180.0]), REAR_ROLLED),
    "upright LiDAR, rear camera rolled": (np.eye(3), REAR_ROLLED),
}


def remounted(sim, R_vehicle_lidar: np.ndarray, R_vehicle_cam: np.ndarray) -> Drive:
    """``sim`` with its reference LiDAR and its export camera mounted anew (same places)."""
    rig = sim.rig(0)
    lidar, cam = rig.sensors[rig.reference_lidar], rig.camera(CAMERA)
    T_lidar = np.array(lidar.T_vehicle_sensor, float)
    T_lidar[:3, :3] = R_vehicle_lidar
    T_cam = np.array(cam.T_vehicle_sensor, float)
    T_cam[:3, :3] = R_vehicle_cam
    sensors = dict(rig.sensors, **{lidar.name: replace(lidar, T_vehicle_sensor=T_lidar),
                                   CAMERA: replace(cam, T_vehicle_sensor=T_cam)})
    return Drive(sim.name, sim.root, replace(rig, sensors=sensors), sim.frames)


@pytest.mark.parametrize("name", list(RIGS))
def test_kitti_export_turns_the_lidar_exactly_when_check_says_lidar_up(small_sim_drive, tmp_path, name):
    R_lidar, R_cam = RIGS[name]
    drive = remounted(small_sim_drive, R_lidar, R_cam)
    tilt = np.degrees(np.arccos(np.clip(R_lidar[2, 2], -1.0, 1.0)))       # LiDAR z against the vehicle's z
    flagged = "lidar-up" in {f.check for f in check_drive(drive, frames=[0], poses=False).findings}
    assert flagged == (tilt > MAX_LIDAR_TILT_DEG)
    summary = export_drive(drive, "kitti", tmp_path / "out", options=quiet(camera=CAMERA, frames=[0],
                                                                           sensor_data=False))
    turned = any("LiDAR is mounted" in t for t in summary.cannot_hold)
    assert turned == flagged, summary.cannot_hold
    calib = read_kitti_calib(tmp_path / "out" / "calib" / "000000.txt")
    T_velo_vehicle = np.eye(4)
    T_velo_vehicle[:3] = calib.Tr_imu_to_velo
    up_in_velo = T_velo_vehicle[:3, :3] @ [0.0, 0.0, 1.0]          # the vehicle's up in the written frame
    assert np.degrees(np.arccos(np.clip(up_in_velo[2], -1.0, 1.0))) <= MAX_LIDAR_TILT_DEG + 1e-6
    if not flagged:
        assert up_in_velo[2] == pytest.approx(R_lidar[2, 2], abs=1e-9)     # z kept (only turned about z)


def test_lidar_mount_without_vehicle_frame_takes_the_lidar_z_as_up(small_sim_drive):
    rig = remounted(small_sim_drive, _rot("x", 180.0), STRAIGHT_DOWN).rig(0)
    assert lidar_mount(rig).how == "upside down"
    mount = lidar_mount(replace(rig, vehicle_frame=False))
    assert (mount.known, mount.off, mount.how, mount.T_up_lidar()) == (False, False, "upright", None)


@pytest.mark.parametrize("seq, degrees", [("x", 70.0), ("y", -110.0), ("xy", [40.0, 50.0]), ("x", 179.0)])
def test_turn_to_up_brings_the_vehicle_up_onto_z(seq, degrees):
    from fusionlabel.model.rig import LidarSensor, Rig

    T = np.eye(4)
    T[:3, :3] = _rot(seq, degrees)
    mount = lidar_mount(Rig("r", {"top": LidarSensor("top", T)}, "top"))
    up = mount.T_up_lidar()[:3, :3] @ mount.up_lidar
    assert np.degrees(np.arccos(np.clip(up[2], -1.0, 1.0))) <= MAX_LIDAR_TILT_DEG
    if mount.how != "upside down":
        np.testing.assert_allclose(up, [0.0, 0.0, 1.0], atol=1e-12)
