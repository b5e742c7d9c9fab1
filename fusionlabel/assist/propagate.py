"""Carry a box to the next frame by registering the object's points (2D ICP on x, y, yaw).

The object's points in frame a (inside the box, above the local ground) are moved into frame b
through the world frame (a static object lands on itself), optionally shifted by a velocity
guess, and aligned to the above-ground points of frame b near the predicted box with
point-to-point ICP (nearest neighbours by KD-tree, rigid fit in closed form, shrinking
correspondence distance). The box follows the same rigid motion; its height is re-snapped to the
ground of frame b. With too few points the prediction is returned as is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from ..geometry.cuboid import Cuboid, points_in_cuboid
from ..geometry.transforms import invert_T
from .config import BuiltinConfig
from .fit import _crop, _local_ground


@dataclass(frozen=True)
class Propagation:
    """Result: ``box`` in frame b's LiDAR frame, ``inliers`` share of object points that found a
    partner within ``max_dist`` at the end, ``iterations`` run, ``registered`` False when ICP
    could not run (box = prediction)."""

    box: Cuboid
    inliers: float
    iterations: int
    registered: bool


def _rigid_2d(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares rotation (2, 2) and translation (2,) taking src (n, 2) onto dst (n, 2)."""
    ms, md = src.mean(0), dst.mean(0)
    H = (src - ms).T @ (dst - md)
    U, _, Vt = np.linalg.svd(H)
    R = Vt.T @ U.T
    if np.linalg.det(R) < 0:
        Vt[1] *= -1
        R = Vt.T @ U.T
    return R, md - R @ ms


def coarse_shift(src: np.ndarray, dst: np.ndarray, search: float, step: float = 0.25,
                 tolerance: float = 0.3, max_src: int = 150) -> np.ndarray:
    """Translation (2,) within ±``search`` (grid of ``step``) that gives the most ``src`` points a
    ``dst`` neighbour within ``tolerance``; ties go to the smallest shift."""
    if len(src) > max_src:
        src = src[np.linspace(0, len(src) - 1, max_src).astype(np.int64)]
    g = np.arange(-search, search + 1e-9, step)
    shifts = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    shifts = shifts[np.argsort(np.einsum("ij,ij->i", shifts, shifts), kind="stable")]
    tree = cKDTree(dst)
    moved = (src[None, :, :] + shifts[:, None, :]).reshape(-1, 2)
    d, _ = tree.query(moved, distance_upper_bound=tolerance)
    hits = np.isfinite(d).reshape(len(shifts), len(src)).sum(1)
    return shifts[int(np.argmax(hits))]


def icp_2d(src: np.ndarray, dst: np.ndarray, iterations: int = 30, max_dist: float = 1.0,
           min_dist: float = 0.25) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Align (n, 2) ``src`` to (m, 2) ``dst``. Returns rotation (2, 2), translation (2,), the final
    inlier share and the iterations used. The correspondence distance shrinks from ``max_dist`` to
    ``min_dist``."""
    tree = cKDTree(dst)
    R, t = np.eye(2), np.zeros(2)
    inl = 0.0
    for it in range(1, iterations + 1):
        gate = max(min_dist, max_dist * (0.85 ** (it - 1)))
        cur = src @ R.T + t
        d, j = tree.query(cur, distance_upper_bound=gate)
        ok = np.isfinite(d)
        inl = float(ok.mean())
        if ok.sum() < 3:
            break
        dR, dt = _rigid_2d(cur[ok], dst[j[ok]])
        R, t = dR @ R, dR @ t + dt
        if np.linalg.norm(dt) < 1e-4 and abs(np.arctan2(dR[1, 0], dR[0, 0])) < 1e-5 and gate == min_dist:
            break
    return R, t, inl, it


MAX_ICP_POINTS = 2000  # larger objects (a bus close by: 13k returns) are thinned evenly before ICP


def _thin(points: np.ndarray, limit: int = MAX_ICP_POINTS) -> np.ndarray:
    """At most ``limit`` rows, evenly spread over the array (deterministic)."""
    if len(points) <= limit:
        return points
    return points[np.linspace(0, len(points) - 1, limit).astype(np.int64)]


def propagate_box(points_a: np.ndarray, box_a: Cuboid, points_b: np.ndarray,
                  T_world_lidar_a: np.ndarray | None = None, T_world_lidar_b: np.ndarray | None = None,
                  velocity_xy=(0.0, 0.0), dt: float = 0.1, search: float = 2.5,
                  config: BuiltinConfig | None = None) -> Propagation:
    """Box of the same object in frame b (see module docstring).

    Args:
        points_a, points_b: sweeps (N, 3+) in their own LiDAR frames.
        box_a: the box in frame a's LiDAR frame.
        T_world_lidar_a, T_world_lidar_b: poses (4, 4); identity when unknown.
        velocity_xy: world-frame velocity guess (m/s) applied over ``dt`` seconds.
        search: metres around the prediction searched in frame b.
    """
    cfg = config or BuiltinConfig()
    Ta = np.eye(4) if T_world_lidar_a is None else np.asarray(T_world_lidar_a, dtype=np.float64)
    Tb = np.eye(4) if T_world_lidar_b is None else np.asarray(T_world_lidar_b, dtype=np.float64)
    shift = np.eye(4)
    shift[:2, 3] = np.asarray(velocity_xy, dtype=np.float64) * dt
    T_pred = invert_T(Tb) @ shift @ Ta
    predicted = box_a.transformed(T_pred)
    reach = 0.5 * float(np.hypot(box_a.length, box_a.width)) + 1.0
    crop_a = _crop(np.asarray(points_a), box_a.center[:2], reach + 2.0)
    if len(crop_a) < 3:
        return Propagation(predicted, 0.0, 0, False)
    ha = _local_ground(crop_a, cfg).height_above(crop_a)
    grown = box_a.with_(size=np.asarray(box_a.size) + [0.3, 0.3, 0.3])
    obj = points_in_cuboid(crop_a, grown) & (ha > cfg.ground_height)
    if obj.sum() < 5:
        return Propagation(predicted, 0.0, 0, False)
    src = (crop_a[obj, :3].astype(np.float64) @ T_pred[:3, :3].T + T_pred[:3, 3])[:, :2]
    crop_b = _crop(np.asarray(points_b), predicted.center[:2], reach + search + 2.0)
    if len(crop_b) < 3:
        return Propagation(predicted, 0.0, 0, False)
    ground_b = _local_ground(crop_b, cfg)
    hb = ground_b.height_above(crop_b)
    near = np.abs(crop_b[:, :2] - np.asarray(predicted.center[:2])).max(1) <= reach + search
    dst = crop_b[near & (hb > cfg.ground_height) & (hb < cfg.max_height), :2].astype(np.float64)
    if len(dst) < 5:
        return Propagation(predicted, 0.0, 0, False)
    # ICP about the box centre keeps the rotation well conditioned.
    src, dst = _thin(src), _thin(dst)
    c0 = np.asarray(predicted.center[:2])
    shift0 = coarse_shift(src, dst, search)
    R, t, inl, its = icp_2d(src - c0 + shift0, dst - c0, max_dist=1.0)
    t = t + R @ shift0
    M = np.eye(4)
    M[:2, :2] = R
    M[:2, 3] = c0 + t - R @ c0
    moved = predicted.transformed(M)
    gz = float(ground_b.ground_z(np.asarray(moved.center[:2])[None])[0])
    moved = moved.with_(center=(moved.center[0], moved.center[1], gz + moved.height / 2.0))
    return Propagation(moved, inl, its, True)
