"""A levelled virtual camera for KITTI's ``R0_rect``.

KITTI boxes turn about the rectified camera's y axis only, so that axis must be the vertical. A
camera pitched or rolled against the vehicle is replaced by a virtual camera at the same place whose
y axis is the vehicle's down (−z, or the ground's where the rig has no vehicle frame) and whose z
axis is the real viewing direction made horizontal.
``R0_rect`` is the rotation from the real camera frame to that virtual one; images are warped into
it (see :func:`fusionlabel.export.views.undistort_maps`). A rectified camera (KITTI's own,
``CameraSensor.T_rect_cam``) is level by definition and never levelled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..geometry.transforms import T_from_Rt

LEVEL_TOLERANCE = np.radians(0.1)   # a camera tilted less than this is written as it is (R0_rect = I)
MIN_HORIZONTAL = np.sin(np.radians(5.0))   # a camera looking more steeply up or down cannot be levelled


@dataclass(frozen=True)
class Levelling:
    """How one camera is levelled.

    R_rect_cam: (3, 3) rotation camera frame -> levelled frame (KITTI's ``R0_rect``), identity when
    the camera is level within :data:`LEVEL_TOLERANCE` or cannot be levelled;
    angle, pitch, roll: the camera's tilt in radians (rotation angle of the levelling; pitch > 0: it
    looks down; roll > 0: its right side (+x) is lower);
    possible: False when the camera looks (almost) straight up or down.
    """

    R_rect_cam: np.ndarray
    angle: float
    pitch: float
    roll: float
    possible: bool = True

    @property
    def T_rect_cam(self) -> np.ndarray:
        """(4, 4) camera -> levelled (rectified) frame: ``R_rect_cam`` as a transform."""
        return T_from_Rt(self.R_rect_cam, np.zeros(3))

    @property
    def rotates(self) -> bool:
        """Whether ``R_rect_cam`` is not the identity (images must be warped)."""
        return self.possible and self.angle >= LEVEL_TOLERANCE


def rotation_angle(R: np.ndarray) -> float:
    """Angle in radians of a (3, 3) rotation about its axis."""
    return float(np.arccos(np.clip((np.trace(R) - 1.0) / 2.0, -1.0, 1.0)))


def level_camera(R_vehicle_cam: np.ndarray, up=(0.0, 0.0, 1.0)) -> Levelling:
    """The levelling of a camera with orientation ``R_vehicle_cam`` (3, 3) in the vehicle frame.

    The levelled frame has y = −``up`` (a unit vector in the vehicle frame: its +z, or the
    ground's normal where the rig has no vehicle frame), z = the camera's +z with its vertical part
    removed (the closest horizontal viewing direction), x = y × z.
    """
    R = np.asarray(R_vehicle_cam, dtype=np.float64)[:3, :3]
    up = np.asarray(up, dtype=np.float64)
    down = R.T @ -(up / np.linalg.norm(up))          # down in camera coordinates
    forward = np.array([0.0, 0.0, 1.0]) - down[2] * down
    norm = float(np.linalg.norm(forward))
    pitch = float(np.arcsin(np.clip(down[2], -1.0, 1.0)))
    roll = float(np.arctan2(down[0], down[1]))
    if norm < MIN_HORIZONTAL:
        return Levelling(np.eye(3), 0.0, pitch, roll, possible=False)
    z = forward / norm
    R_rect_cam = np.stack([np.cross(down, z), down, z])
    angle = rotation_angle(R_rect_cam)
    if angle < LEVEL_TOLERANCE:
        return Levelling(np.eye(3), angle, pitch, roll)
    return Levelling(R_rect_cam, angle, pitch, roll)
