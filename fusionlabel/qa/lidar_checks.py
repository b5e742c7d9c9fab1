"""Calibration check of the reference LiDAR: a mount the annotation tools cannot take (upside down,
on its side, steeply tilted), although projections into the cameras stay right."""

from __future__ import annotations

import math

import numpy as np

from ..model.rig import Rig
from .findings import ERROR, Finding

# The reference LiDAR's z may be this far (deg) from the vehicle's up. The bird's-eye and 3D views,
# new boxes, one-click boxes, auto-fit and the label ground checks take the LiDAR's z as up; a
# LiDAR pitched down a few degrees (a forward-looking mount) is fine, one on its side is not.
MAX_LIDAR_TILT_DEG = 30.0


def lidar_tilt_deg(rig: Rig) -> float | None:
    """Angle (deg) between the reference LiDAR's +z and the vehicle's up; None for a rig without a
    vehicle frame (its LiDAR's z is "up" by definition)."""
    if not rig.vehicle_frame:
        return None
    z_in_vehicle = np.asarray(rig.T_vehicle_lidar, np.float64)[:3, 2]
    return math.degrees(math.acos(float(np.clip(z_in_vehicle[2], -1.0, 1.0))))


def lidar_up_finding(rig: Rig) -> Finding | None:
    """An error when the reference LiDAR's z is more than :data:`MAX_LIDAR_TILT_DEG` from the
    vehicle's up (mounted upside down or on its side), else None."""
    tilt = lidar_tilt_deg(rig)
    if tilt is None or tilt <= MAX_LIDAR_TILT_DEG:
        return None
    how = "upside down" if tilt > 150 else "on its side" if 60 < tilt < 120 else "tilted"
    name = rig.reference_lidar
    return Finding(ERROR, name, "lidar-up",
                   f"its z axis is {tilt:.0f} deg from the vehicle's up (mounted {how}, rig key "
                   f"sensors.{name}.extrinsic.rotation): camera projections and exports are right, but the "
                   "bird's-eye and 3D views, new and one-click boxes, auto-fit and the label ground checks take "
                   "the LiDAR's z as up (an upside-down sweep shows mirrored, boxes float)",
                   "make an upright copy to label: fusionlabel import DRIVE --out COPY --upright (sweeps and labels "
                   "turned into the vehicle's axes; calib/README.md, \"A LiDAR mounted upside down\")",
                   value=tilt, threshold=MAX_LIDAR_TILT_DEG, unit="deg")
