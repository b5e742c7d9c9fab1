"""The vehicle's forward in the reference LiDAR's frame (what the bird's-eye view draws up) and the
ego outline, for LiDARs mounted every way: checked against points placed ahead of the vehicle."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fusionlabel.geometry.cameras import camera_from_params
from fusionlabel.geometry.transforms import T_from_Rt, invert_T, rotation_from_euler, rotation_z
from fusionlabel.model.rig import CameraSensor, LidarSensor, Rig, ego_outline_in_lidar, forward_in_lidar, front_camera
from fusionlabel.sim.rig import camera_mount, default_rig

CAM = camera_from_params("pinhole", 640, 480, 500.0, 500.0, 319.5, 239.5, ())


def lidar_rig(T_vehicle_lidar, cameras=(), vehicle_frame=True) -> Rig:
    sensors = {"lidar": LidarSensor("lidar", np.asarray(T_vehicle_lidar, float))}
    sensors.update({name: CameraSensor(name, CAM, T) for name, T in cameras})
    return Rig("test", sensors, "lidar", vehicle_frame)


def ahead_in_lidar(rig: Rig, metres: float = 10.0) -> np.ndarray:
    """Unit LiDAR xy direction from the LiDAR to a vehicle point ``metres`` ahead of it."""
    T_lidar_vehicle = invert_T(rig.T_vehicle_lidar)
    lidar_in_vehicle = rig.T_vehicle_lidar[:3, 3]
    p = T_lidar_vehicle @ np.append(lidar_in_vehicle + (metres, 0.0, 0.0), 1.0)
    return p[:2] / np.linalg.norm(p[:2])


def nuscenes_like() -> Rig:
    """LiDAR turned 90 degrees: its +y is the vehicle's forward (as nuScenes' LIDAR_TOP)."""
    return lidar_rig(T_from_Rt(rotation_z(-math.pi / 2), (0.94, 0.0, 1.84)))


def test_forward_of_a_lidar_turned_90_degrees_is_its_plus_y():
    rig = nuscenes_like()
    assert np.allclose(forward_in_lidar(rig), (0.0, 1.0), atol=1e-12)
    assert np.allclose(forward_in_lidar(rig), ahead_in_lidar(rig), atol=1e-12)


@pytest.mark.parametrize("yaw_deg, pitch_deg", [(0.0, 0.0), (37.0, 0.0), (-120.0, 3.0), (180.0, -2.0)])
def test_forward_follows_any_mount_yaw_and_ignores_a_tilt(yaw_deg, pitch_deg):
    R = rotation_z(math.radians(yaw_deg)) @ rotation_from_euler(0.0, math.radians(pitch_deg), 0.0)
    rig = lidar_rig(T_from_Rt(R, (1.0, 0.2, 1.9)))
    f = forward_in_lidar(rig)
    assert np.isclose(np.linalg.norm(f), 1.0)
    assert np.allclose(f, ahead_in_lidar(rig), atol=1e-9)
    # the LiDAR turned left by yaw sees the vehicle's forward turned right by it
    assert np.allclose(f, (math.cos(math.radians(-yaw_deg)), math.sin(math.radians(-yaw_deg))), atol=0.003)


def test_without_a_vehicle_frame_the_front_camera_gives_forward():
    """SUSTech-style: extrinsics LiDAR -> camera only; the camera called front looks along LiDAR -y
    (tilted down a little), the others sideways."""
    look = {"left": 0.0, "front": -math.pi / 2, "right": math.pi}  # LiDAR yaw each camera looks along
    cams = [(n, camera_mount(0.0, 0.0, 0.0, yaw, math.radians(6.0))) for n, yaw in look.items()]
    rig = lidar_rig(np.eye(4), cams, vehicle_frame=False)
    assert front_camera(rig).name == "front"
    assert np.allclose(forward_in_lidar(rig), (0.0, -1.0), atol=1e-12)
    # The front camera's own projection agrees: a LiDAR point far along forward images at the centre column.
    p = np.append(20.0 * forward_in_lidar(rig), -1.5)
    q = rig.T_cam_lidar("front") @ np.append(p, 1.0)
    assert q[2] > 0 and abs(q[0] / q[2]) < 1e-9


@pytest.mark.parametrize("names, chosen", [
    (["CAM_FRONT_LEFT", "CAM_FRONT", "CAM_BACK"], "CAM_FRONT"),
    (["cam_front_left", "cam_front", "cam_front_right"], "cam_front"),
    (["left", "camera-front"], "camera-front"),
    (["cam_front_left", "rear"], "cam_front_left"),  # no camera is just "front": the first one
])
def test_front_camera_by_name(names, chosen):
    rig = lidar_rig(np.eye(4), [(n, camera_mount(0, 0, 0, 0.0)) for n in names], vehicle_frame=False)
    assert front_camera(rig).name == chosen


def test_forward_falls_back_to_lidar_x():
    assert np.allclose(forward_in_lidar(lidar_rig(np.eye(4), vehicle_frame=False)), (1.0, 0.0))
    down = T_from_Rt(np.diag([1.0, -1.0, -1.0]), (0, 0, 0))  # camera z = LiDAR -z: looks straight down
    assert np.allclose(forward_in_lidar(lidar_rig(np.eye(4), [("front", down)], vehicle_frame=False)), (1.0, 0.0))


def test_a_vehicle_frame_wins_over_the_cameras():
    rig = lidar_rig(T_from_Rt(rotation_z(math.pi / 2), (0, 0, 0)), [("front", camera_mount(0, 0, 0, 0.0))])
    assert np.allclose(forward_in_lidar(rig), (0.0, -1.0), atol=1e-12)


def test_ego_outline_points_forward_from_the_rear_axle():
    rig = nuscenes_like()
    ego = ego_outline_in_lidar(rig)  # front left, front right, rear right, rear left
    T_vehicle_lidar = rig.T_vehicle_lidar
    vehicle = (np.column_stack([ego, np.zeros(4), np.ones(4)]) @ T_vehicle_lidar.T)[:, :2]
    # In the vehicle frame: x from 1.0 m behind the rear axle to 3.8 m ahead of it, y +-0.95 m.
    assert np.allclose(vehicle, [[3.8, 0.95], [3.8, -0.95], [-1.0, -0.95], [-1.0, 0.95]], atol=0.01)


def test_ego_outline_around_the_lidar_without_an_offset_vehicle_origin():
    ego = ego_outline_in_lidar(default_rig())  # the simulator: LiDAR 1.3 m ahead of the rear axle
    assert np.allclose(ego[:, 0], [2.5, 2.5, -2.3, -2.3]) and np.allclose(ego[:, 1], [0.95, -0.95, -0.95, 0.95])
    look = camera_mount(0, 0, 0, -math.pi / 2)
    ego = ego_outline_in_lidar(lidar_rig(np.eye(4), [("front", look)], vehicle_frame=False))
    assert np.allclose(ego, [[0.95, -2.5], [-0.95, -2.5], [-0.95, 2.0], [0.95, 2.0]])
    assert np.allclose(ego_outline_in_lidar(None), [[2.5, 0.95], [2.5, -0.95], [-2.0, -0.95], [-2.0, 0.95]])


def test_the_rendered_bev_is_drawn_with_the_front_camera_forward():
    """`fusionlabel render` draws its bird's-eye view in the vehicle frame; a rig without one is
    turned so that what the front camera sees ahead is +x (drawn forward), not the LiDAR's +x."""
    from fusionlabel.render.frame_image import bev_frame

    look = {"left": 0.0, "front": -math.pi / 2, "right": math.pi}
    rig = lidar_rig(np.eye(4), [(n, camera_mount(0.0, 0.0, 0.0, yaw, 0.1)) for n, yaw in look.items()],
                    vehicle_frame=False)
    T = bev_frame(rig)
    np.testing.assert_allclose(T @ [0.0, -10.0, 0.5, 1.0], [10.0, 0.0, 0.5, 1.0], atol=1e-12)   # ahead
    np.testing.assert_allclose(T @ [10.0, 0.0, 0.0, 1.0], [0.0, 10.0, 0.0, 1.0], atol=1e-12)    # left camera: left
    assert np.array_equal(bev_frame(nuscenes_like()), nuscenes_like().T_vehicle_lidar)
