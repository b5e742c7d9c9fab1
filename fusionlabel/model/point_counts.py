"""Point counts in a cuboid's attributes: they count one frame's points, so a box carried to
another frame (copied, propagated, interpolated) counts again there or carries none."""

from __future__ import annotations

import numpy as np

from ..geometry.cuboid import Cuboid, count_points_in_cuboids

# attributes counting a box's LiDAR points: native and nuScenes labels', and the detectors' and
# one-click boxes' (``num_points``: the returns they were found on)
LIDAR_COUNTS = ("num_lidar_points", "num_lidar_pts", "num_points")
RADAR_COUNTS = ("num_radar_points", "num_radar_pts")   # ... and its radar points (no radar here)


def uncounted(attributes: dict) -> dict:
    """``attributes`` without the LiDAR and radar point counts."""
    return {k: v for k, v in attributes.items() if k not in LIDAR_COUNTS + RADAR_COUNTS}


def has_lidar_count(attributes: dict) -> bool:
    return any(k in attributes for k in LIDAR_COUNTS)


def with_lidar_count(attributes: dict, count: int | None) -> dict:
    """``attributes`` of a box carried to another frame: each LiDAR count it has set to ``count``
    (the points of that frame in the box), or dropped when ``count`` is None (no sweep to count
    in); radar counts dropped (there is no radar to count again)."""
    out = uncounted(attributes)
    if count is not None:
        out.update(dict.fromkeys((k for k in LIDAR_COUNTS if k in attributes), int(count)))
    return out


def with_counted_lidar(attributes: dict, count: int | None) -> dict:
    """``attributes`` of a box edited in its own frame: each LiDAR count it has set to ``count``
    (its points now), or dropped when ``count`` is None (no sweep to count in); radar counts kept
    (there is no radar to count again: the export says so)."""
    if count is None:
        return {k: v for k, v in attributes.items() if k not in LIDAR_COUNTS}
    return {k: int(count) if k in LIDAR_COUNTS else v for k, v in attributes.items()}


def counted(attributes: dict, points: np.ndarray, box: Cuboid) -> dict:
    """:func:`with_lidar_count` with the count of ``points`` (N, 3+: that frame's sweep) in ``box``."""
    if not has_lidar_count(attributes):
        return uncounted(attributes)
    return with_lidar_count(attributes, int(count_points_in_cuboids(points, [box])[0]))
