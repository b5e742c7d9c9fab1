"""The simulated sensor rig: one roof LiDAR and three cameras (radtan, fisheye, pinhole).

Vehicle frame: origin on the ground below the rear axle, x forward, y left, z up.
"""

from __future__ import annotations

import numpy as np

from ..geometry.cameras import camera_from_params
from ..geometry.transforms import T_from_Rt, rotation_from_euler, rotation_z
from ..model.rig import CameraSensor, LidarSensor, Rig

LIDAR = "lidar_top"
# Camera frame axes (x right, y down, z forward) expressed in a forward-looking vehicle frame.
R_VEHICLE_CAM_FORWARD = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
# Ego body footprint in the vehicle frame: centre x and (length, width, height).
EGO_CENTER_X = 1.4
EGO_SIZE = (4.8, 1.95, 1.6)


def camera_mount(x: float, y: float, z: float, yaw: float, pitch: float = 0.0) -> np.ndarray:
    """(4, 4) T_vehicle_cam for a camera at (x, y, z) looking along ``yaw`` (left +), tilted down by ``pitch``."""
    R = rotation_z(yaw) @ rotation_from_euler(0.0, pitch, 0.0) @ R_VEHICLE_CAM_FORWARD
    return T_from_Rt(R, (x, y, z))


def default_rig(scale: float = 1.0) -> Rig:
    """The simulator's rig. ``scale`` multiplies every camera's resolution and focal lengths."""
    def cam(model, w, h, f, dist):
        w, h = int(round(w * scale)), int(round(h * scale))
        return camera_from_params(model, w, h, f * scale, f * scale, (w - 1) / 2.0, (h - 1) / 2.0, dist)

    front = cam("radtan", 1280, 720, 1000.0, (-0.30, 0.09, 0.0008, -0.0006, -0.012))
    left = cam("fisheye", 1024, 768, 340.0, (0.03, -0.006, 0.001, -0.0002))
    right = cam("pinhole", 960, 600, 640.0, ())
    sensors = {
        LIDAR: LidarSensor(LIDAR, T_from_Rt(np.eye(3), (1.3, 0.0, 1.95))),
        "cam_front": CameraSensor("cam_front", front, camera_mount(1.9, 0.0, 1.55, 0.0, np.radians(2.0))),
        "cam_front_left": CameraSensor("cam_front_left", left, camera_mount(1.7, 0.45, 1.5, np.radians(60.0),
                                                                            np.radians(8.0))),
        "cam_front_right": CameraSensor("cam_front_right", right, camera_mount(1.7, -0.45, 1.5, np.radians(-55.0),
                                                                               np.radians(3.0))),
    }
    return Rig("fusionlabel-sim", sensors, LIDAR)
