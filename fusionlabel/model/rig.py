"""A sensor rig: LiDARs and cameras with their extrinsics to the vehicle frame."""

from __future__ import annotations

from dataclasses import dataclass, field

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
    """A camera: its lens model and ``T_vehicle_sensor`` (camera frame x right, y down, z forward)."""

    name: str
    camera: CameraModel
    T_vehicle_sensor: np.ndarray = field(default_factory=lambda: np.eye(4))
    kind: str = "camera"


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
