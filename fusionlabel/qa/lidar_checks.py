"""Calibration check of the reference LiDAR: a mount the annotation tools cannot take (upside down,
on its side, steeply tilted), although projections into the cameras stay right."""

from __future__ import annotations

from ..model.lidar_mount import MAX_LIDAR_TILT_DEG, lidar_mount
from ..model.rig import Rig
from .findings import ERROR, Finding


def lidar_up_finding(rig: Rig) -> Finding | None:
    """An error when the reference LiDAR's z is more than :data:`MAX_LIDAR_TILT_DEG` from the
    vehicle's up (mounted upside down, on its side or tilted: :func:`~fusionlabel.model.lidar_mount.lidar_mount`,
    which a KITTI export's Velodyne turn follows too), else None."""
    mount = lidar_mount(rig)
    if not mount.off:
        return None
    tilt, how = mount.tilt_deg, mount.how
    name = rig.reference_lidar
    return Finding(ERROR, name, "lidar-up",
                   f"its z axis is {tilt:.0f} deg from the vehicle's up (mounted {how}, rig key "
                   f"sensors.{name}.extrinsic.rotation): camera projections and exports are right, but the "
                   "bird's-eye and 3D views, new and one-click boxes, auto-fit and the label ground checks take "
                   "the LiDAR's z as up (an upside-down sweep shows mirrored, boxes float)",
                   "make an upright copy to label: fusionlabel import DRIVE --out COPY --upright (sweeps and labels "
                   "turned into the vehicle's axes; calib/README.md, \"A LiDAR mounted upside down\")",
                   value=tilt, threshold=MAX_LIDAR_TILT_DEG, unit="deg")
