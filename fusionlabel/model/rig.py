"""A sensor rig: LiDARs and cameras with their extrinsics to the vehicle frame."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..geometry.cameras import CameraModel
from ..geometry.transforms import invert_T


@dataclass(frozen=True)
class LidarSensor:
    """A LiDAR. ``T_vehicle_sensor`` (4, 4) takes LiDAR-frame points to the vehicle frame."""

    name: str
    T_vehicle_sensor: np.ndarray = field(default_factory=lambda: np.eye(4))
    kind: str = "lidar"


@dataclass(frozen=True)
class CameraSensor:
    """A camera: its lens model and ``T_vehicle_sensor`` (camera frame x right, y down, z forward).

    ``T_rect_cam``: for a rectified camera (KITTI's ``image_N``), the (4, 4) pure translation from
    this camera to the rectified frame its dataset's labels are written in, whose axes are the
    camera's (so its y axis is the labels' vertical and a KITTI export writes it without levelling);
    None for any other camera. Set by the reader, explicitly (rig YAML key ``rectified``).

    ``source``: where the reader found the camera's lens, for messages: (file, key prefix), e.g.
    (``rig.yaml``, ``sensors.cam_front.``) so that ``sensors.cam_front.distortion`` names its
    coefficients; None when unknown. Not part of the camera's identity (never compared).
    """

    name: str
    camera: CameraModel
    T_vehicle_sensor: np.ndarray = field(default_factory=lambda: np.eye(4))
    kind: str = "camera"
    T_rect_cam: np.ndarray | None = None
    source: tuple[Path, str] | None = field(default=None, compare=False, repr=False)


Sensor = LidarSensor | CameraSensor


@dataclass(frozen=True)
class Rig:
    """Sensors by name, in definition order, and the LiDAR whose frame annotations live in.

    ``vehicle_frame``: True when the extrinsics are given to a frame whose z is the vehicle's up (a
    real ego frame, or a dataset's declared vertical, as KITTI's Velodyne, in which its labels are
    upright); False when the source only gave sensor-to-sensor extrinsics and the reference LiDAR's
    frame stands in (SUSTech-style folders), so "up" is only as vertical as the LiDAR's mount. Set
    by the reader, explicitly: an identity ``T_vehicle_lidar`` cannot tell the two apart (KITTI).
    """

    name: str
    sensors: dict[str, Sensor]
    reference_lidar: str
    vehicle_frame: bool = True

    @property
    def cameras(self) -> list[CameraSensor]:
        return [s for s in self.sensors.values() if isinstance(s, CameraSensor)]

    @property
    def lidars(self) -> list[LidarSensor]:
        return [s for s in self.sensors.values() if isinstance(s, LidarSensor)]

    @property
    def camera_names(self) -> list[str]:
        return [c.name for c in self.cameras]

    def camera(self, name: str) -> CameraSensor:
        sensor = self.sensors.get(name)
        if not isinstance(sensor, CameraSensor):
            raise KeyError(f"rig '{self.name}' has no camera '{name}' (cameras: {', '.join(self.camera_names)})")
        return sensor

    @property
    def T_vehicle_lidar(self) -> np.ndarray:
        """Extrinsic of the reference LiDAR, (4, 4)."""
        return self.sensors[self.reference_lidar].T_vehicle_sensor

    def T_cam_lidar(self, camera: str, lidar: str | None = None) -> np.ndarray:
        """(4, 4) transform from a LiDAR's frame (default: the reference LiDAR) to a camera's frame."""
        T_vehicle_lidar = self.sensors[lidar or self.reference_lidar].T_vehicle_sensor
        return invert_T(self.camera(camera).T_vehicle_sensor) @ T_vehicle_lidar


# Ego footprint (m) drawn in a bird's-eye view: from the rear axle when the rig has a vehicle frame
# whose origin is away from the LiDAR (nuScenes, the simulator), else around the LiDAR.
EGO_REAR_AXLE_SPAN = (-1.0, 3.8)
EGO_LIDAR_SPAN = (-2.0, 2.5)
EGO_HALF_WIDTH = 0.95


def _horizontal(v: np.ndarray) -> np.ndarray | None:
    """The xy direction of a unit 3-vector as a unit (2,), or None when it is (nearly) vertical."""
    n = float(np.hypot(v[0], v[1]))
    return None if n < 1e-6 else np.array([v[0], v[1]]) / n


def front_camera(rig: Rig) -> CameraSensor | None:
    """The camera called front (``CAM_FRONT``, ``cam_front``, ``front``: the name's words other than
    cam/camera are just "front"), else the first camera, else None."""
    for cam in rig.cameras:
        words = [w for w in re.split(r"[^a-z0-9]+", cam.name.lower()) if w and w not in ("cam", "camera")]
        if words == ["front"]:
            return cam
    return rig.cameras[0] if rig.cameras else None


def forward_in_lidar(rig: Rig) -> np.ndarray:
    """The vehicle's forward as a unit xy direction (2,) in the reference LiDAR's frame.

    With a vehicle frame: the vehicle's +x seen from the LiDAR. Without one (SUSTech-style): the
    horizontal viewing direction of :func:`front_camera`. Else, or when that is vertical: LiDAR +x."""
    T_vehicle_lidar = np.asarray(rig.T_vehicle_lidar, float)
    if rig.vehicle_frame:
        direction = T_vehicle_lidar[0, :3]  # R_lidar_vehicle @ e_x = row 0 of R_vehicle_lidar
    else:
        cam = front_camera(rig)
        direction = None if cam is None else invert_T(T_vehicle_lidar)[:3, :3] @ np.asarray(cam.T_vehicle_sensor)[:3, 2]
    flat = None if direction is None else _horizontal(direction)
    return np.array([1.0, 0.0]) if flat is None else flat


def ego_outline_in_lidar(rig: Rig | None) -> np.ndarray:
    """The ego's footprint as a (4, 2) polygon in the reference LiDAR's xy (front left, front right,
    rear right, rear left), pointing along :func:`forward_in_lidar` (LiDAR +x for no rig). Its
    length runs from the rear axle when the vehicle frame's origin is away from the LiDAR, else
    around the LiDAR."""
    f = np.array([1.0, 0.0]) if rig is None else forward_in_lidar(rig)
    left = np.array([-f[1], f[0]])
    origin = np.zeros(2) if rig is None else invert_T(np.asarray(rig.T_vehicle_lidar, float))[:2, 3]
    if rig is not None and rig.vehicle_frame and np.hypot(*origin) > 0.05:  # origin: the vehicle's, in LiDAR xy
        rear, front, base = *EGO_REAR_AXLE_SPAN, origin
    else:
        rear, front, base = *EGO_LIDAR_SPAN, np.zeros(2)
    along = np.array([front, front, rear, rear])
    across = EGO_HALF_WIDTH * np.array([1.0, -1.0, -1.0, 1.0])
    return base + along[:, None] * f + across[:, None] * left
