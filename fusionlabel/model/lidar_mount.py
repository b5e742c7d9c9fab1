"""How a rig's reference LiDAR is mounted against "up": the one test behind ``check``'s ``lidar-up``
finding, ``import --upright`` and the KITTI export's turned Velodyne frame.

"Up" is the vehicle frame's +z where the rig has one. Where it has none (SUSTech-style folders: the
reference LiDAR's frame stands in for the vehicle), the rig holds no other vertical, so the
LiDAR's z is up by definition: the mount is upright and nothing is turned. Cameras are never asked:
a camera may be rolled, look down or face backwards, so its axes say nothing reliable about up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .rig import Rig

# The reference LiDAR's z may be this far (deg) from up. The bird's-eye and 3D views, new boxes,
# one-click boxes, auto-fit, the label ground checks and KITTI's tools take the LiDAR's z as up; a
# LiDAR pitched down a few degrees (a forward-looking mount) is fine, one on its side is not.
MAX_LIDAR_TILT_DEG = 30.0
# A tilt above this is "upside down": half a turn about the LiDAR's x brings its z within
# MAX_LIDAR_TILT_DEG of up, exactly (y and z negated).
UPSIDE_DOWN_DEG = 180.0 - MAX_LIDAR_TILT_DEG

# Half a turn about x: a LiDAR hanging upside down written with its z up (y and z negated, exactly).
HALF_TURN_X = np.diag([1.0, -1.0, -1.0, 1.0])
HALF_TURN_X.flags.writeable = False


@dataclass(frozen=True)
class LidarMount:
    """The reference LiDAR's z against up.

    tilt_deg: angle (deg) between the LiDAR's +z and up, None when the rig has no vehicle frame
    (up is the LiDAR's z by definition); up_lidar: (3,) unit up in the LiDAR frame ((0, 0, 1) when
    unknown).
    """

    tilt_deg: float | None
    up_lidar: np.ndarray

    @property
    def known(self) -> bool:
        """Whether the rig says where up is (it has a vehicle frame)."""
        return self.tilt_deg is not None

    @property
    def off(self) -> bool:
        """Whether the LiDAR's z is more than :data:`MAX_LIDAR_TILT_DEG` from up."""
        return self.tilt_deg is not None and self.tilt_deg > MAX_LIDAR_TILT_DEG

    @property
    def how(self) -> str:
        """"upright", "tilted", "on its side" or "upside down"."""
        tilt = self.tilt_deg
        if tilt is None or tilt <= MAX_LIDAR_TILT_DEG:
            return "upright"
        return "upside down" if tilt > UPSIDE_DOWN_DEG else "on its side" if 60 < tilt < 120 else "tilted"

    def T_up_lidar(self) -> np.ndarray | None:
        """(4, 4) rotation from the LiDAR frame to one whose z is up, None when the mount is not
        :attr:`off`. Upside down: half a turn about x (:data:`HALF_TURN_X`, exact; its z is then
        within :data:`MAX_LIDAR_TILT_DEG` of up). Tilted or on its side: the smallest rotation
        taking ``up_lidar`` to +z."""
        if not self.off:
            return None
        if self.how == "upside down":
            return HALF_TURN_X.copy()
        up = self.up_lidar / np.linalg.norm(self.up_lidar)
        axis = np.cross(up, [0.0, 0.0, 1.0])
        s, c = float(np.linalg.norm(axis)), float(up[2])
        k = axis / s
        K = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
        T = np.eye(4)
        T[:3, :3] = np.eye(3) + s * K + (1.0 - c) * (K @ K)     # Rodrigues: angle acos(c) about k
        return T


def lidar_mount(rig: Rig) -> LidarMount:
    """How ``rig``'s reference LiDAR's z differs from the vehicle's up (see the module's note on
    rigs without a vehicle frame)."""
    if not rig.vehicle_frame:
        return LidarMount(None, np.array([0.0, 0.0, 1.0]))
    up_lidar = np.asarray(rig.T_vehicle_lidar, np.float64)[2, :3]   # R_lidar_vehicle @ e_z
    up_lidar = up_lidar / np.linalg.norm(up_lidar)
    tilt = math.degrees(math.acos(float(np.clip(up_lidar[2], -1.0, 1.0))))
    return LidarMount(tilt, up_lidar)
