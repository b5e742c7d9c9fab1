"""A drive's reference LiDAR turned upright: its frame given the vehicle's axes (x forward, y left,
z up) at the same place, for a LiDAR mounted upside down or on its side (``import --upright``)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .annotation import CuboidLabel
from .lidar_mount import lidar_mount
from .rig import Rig


def upright_rig(rig: Rig) -> tuple[Rig, np.ndarray]:
    """``rig`` with its reference LiDAR's rotation dropped, and ``T_new_old`` (4, 4), the rotation
    taking points of the old LiDAR frame to the new one (``R_vehicle_lidar``). Cameras keep their
    place (their extrinsics are to the vehicle). ValueError for a rig without a vehicle frame,
    which has no axes to turn to (:func:`~fusionlabel.model.lidar_mount.lidar_mount` does not know its up)."""
    if not lidar_mount(rig).known:
        raise ValueError(f"rig '{rig.name}' has no vehicle frame (its LiDAR's frame stands in for it), so there "
                         "are no vehicle axes to turn the LiDAR to")
    lidar = rig.sensors[rig.reference_lidar]
    T_vehicle_old = np.asarray(lidar.T_vehicle_sensor, np.float64)
    T_new_old = np.eye(4)
    T_new_old[:3, :3] = T_vehicle_old[:3, :3]
    T_vehicle_new = np.eye(4)
    T_vehicle_new[:3, 3] = T_vehicle_old[:3, 3]
    sensors = dict(rig.sensors, **{lidar.name: replace(lidar, T_vehicle_sensor=T_vehicle_new)})
    return replace(rig, sensors=sensors), T_new_old


def upright_points(points: np.ndarray, T_new_old: np.ndarray) -> np.ndarray:
    """(N, C) sweep in the new LiDAR frame: x, y, z turned, other columns kept; float32."""
    out = np.array(points, dtype=np.float32)
    out[:, :3] = (np.asarray(points[:, :3], np.float64) @ T_new_old[:3, :3].T).astype(np.float32)
    return out


def upright_label(label: CuboidLabel, T_new_old: np.ndarray) -> CuboidLabel:
    """``label`` in the new LiDAR frame. A half turn about the box's own x (roll ±pi, what an
    upright box of an upside-down LiDAR becomes) leaves the box unchanged and is dropped."""
    box = label.box.transformed(T_new_old)
    if abs(box.roll) > np.pi / 2:
        box = box.with_(roll=float(box.roll - np.copysign(np.pi, box.roll)))
    if abs(box.roll) < 1e-9 and abs(box.pitch) < 1e-9:
        box = box.with_(roll=0.0, pitch=0.0)
    return label.with_(box=box)
