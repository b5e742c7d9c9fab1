"""Carry a box to the next frame by registering the object's points (2D ICP on x, y, yaw).

The object's points in frame a (inside the box, above the local ground) are moved into frame b
through the world frame (a static object lands on itself), optionally shifted by a velocity
guess, and aligned to the above-ground points of frame b near the predicted box with
point-to-point ICP (nearest neighbours by KD-tree, rigid fit in closed form, shrinking
correspondence distance). The box follows the same rigid motion; its height is re-snapped to the
ground of frame b, unless that ground lies further off the box's bottom than a street's slope
allows (the object's lower body taken for ground: the bottom is kept). A small box (a pedestrian) keeps its heading: ICP fits its translation only,
then the box slides until its points' mean sits where it did in frame a. With too few points in
either frame, or when ICP would move a small box implausibly far from the prediction (onto
another object), the prediction is returned as is; :meth:`Propagation.problem` says why a result
needs checking. :func:`pinning` measures how firmly the registered points hold the box in each
horizontal direction (a car seen from one side only can slide along it); it is reported, not
warned about (see docs/prelabel.md: on held-out drives it did not single out bad results).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from ..geometry.cuboid import Cuboid, points_in_cuboid
from ..geometry.transforms import invert_T
from .cluster_snap import snap_to_cluster
from .config import BuiltinConfig
from .fit import _crop, _local_ground


MIN_POINTS = 5           # object points needed in each frame to register
GROW = 0.3               # m added to each box dimension when taking the object's points (0.15 m a side)
SMALL_OBJECT = 1.2       # m: a box whose longer footprint side is shorter keeps its heading
SMALL_SPEED = 3.0        # m/s a small object (a person) may move beyond the prediction: further is a jump
KEPT_SHARE = 0.5         # fewer object points in frame b than this share of frame a's: warn
MIN_INLIERS = 0.8        # a smaller share of object points with a partner in frame b: warn
SETTLED_STEP = 0.005     # m and rad: ICP still moving more than this at its last iteration has
SETTLED_TURN = 0.002     # not settled (warn)
LOOSE = 0.02             # pinning (see pinning()) under which the points hardly hold a direction (measured only)
# The ground under the box in frame b may differ from its bottom in frame a (carried by the motion)
# by this much plus GROUND_SLOPE times how far the registration moved it; a larger jump is the
# ground estimate taking the object's own lower body for ground where the road around it is hidden
# (a bus beside the ego): the bottom carried from frame a is kept. Not warned of: on the simulated
# drives, from the true box, it keeps the right height (bottom more than 0.3 m off: 56 -> 4 of 951).
GROUND_JUMP = 0.3        # m
GROUND_SLOPE = 0.15      # a steep street's grade


@dataclass(frozen=True)
class Propagation:
    """Result: ``box`` in frame b's LiDAR frame, ``inliers`` share of object points that found a
    partner within ``max_dist`` at the end, ``iterations`` run, ``registered`` False when ICP
    could not run (box = prediction), ``points_a`` / ``points_b`` the object points (above the
    ground, in the box grown by 0.15 m a side) in frame a and in the result box in frame b,
    ``converged`` whether ICP settled before its iteration limit, ``rotated`` whether the heading
    came from ICP (False: kept, for small boxes), ``jump`` how far (m) ICP moved the box from the
    prediction: for a small box, with poses or a velocity guess (measured in the LiDAR frame
    without poses, it holds the ego's motion too), further than its own diagonal plus
    :data:`SMALL_SPEED` × dt is taken for a jump onto another object, and the prediction is
    returned (not registered); with neither, ``unchecked`` says the jump could not be judged. ``pinning`` says how firmly the object's points hold the
    registration in their loosest horizontal direction ``loose_axis`` (unit xy in frame b; see
    :func:`pinning`: about 1 across a wall of points, about 0 along it: a car seen from one side
    only), ``slide`` how far (m) ICP moved the box along that direction from the prediction; 1
    and 0 for a small box (not measured)."""

    box: Cuboid
    inliers: float
    iterations: int
    registered: bool
    points_a: int = 0
    points_b: int = 0
    converged: bool = False
    rotated: bool = False
    jump: float = 0.0
    pinning: float = 1.0
    loose_axis: tuple[float, float] = (1.0, 0.0)
    slide: float = 0.0
    ground_kept: float = 0.0   # m the ground found under it in frame b lay off its bottom, when kept from frame a (0: not)
    unchecked: bool = False    # a small box registered without poses (given or estimated): a jump could not be checked

    def problem(self, here: str = "in frame a", there: str = "in frame b") -> str | None:
        """Why the result needs checking, in words ("holds 2 points in frame b against 120 in
        frame a ..."), or None when the registration looks sound; ``here`` and ``there`` name the
        frames."""
        if self.points_a < MIN_POINTS:
            return (f"holds {self.points_a} LiDAR point{'s' if self.points_a != 1 else ''} {here} "
                    f"(registering needs {MIN_POINTS})")
        if not self.registered and self.jump:
            return (f"the registration moved it {self.jump:.1f} m from where its motion puts it {there} "
                    "(onto another object?): not registered, placed by the ego motion and the track's speed alone")
        if not self.registered:
            return (f"has {self.points_b} point{'s' if self.points_b != 1 else ''} near it {there}: "
                    "not registered, placed by the ego motion and the track's speed alone")
        notes = []
        if self.points_b < max(MIN_POINTS, KEPT_SHARE * self.points_a):
            notes.append(f"holds {self.points_b} point{'s' if self.points_b != 1 else ''} {there} "
                         f"against {self.points_a} {here} (partly hidden, or it slid off the object)")
        if not self.converged:
            notes.append("the registration did not settle")
        if self.inliers < MIN_INLIERS:
            notes.append(f"only {self.inliers:.0%} of its points fit {there}")
        if self.unchecked and not notes:
            notes.append(f"its points moved it {self.jump:.1f} m, and with no ego poses, no ego motion estimated from "
                         "the sweeps and no box of its track in the frame before, a jump onto another object cannot "
                         "be told from real motion: check it")
        return "; ".join(notes) or None


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
    return _icp(src, dst, iterations, max_dist, min_dist)[:4]


def _icp(src: np.ndarray, dst: np.ndarray, iterations: int = 30, max_dist: float = 1.0, min_dist: float = 0.25,
         rotate: bool = True) -> tuple[np.ndarray, np.ndarray, float, int, bool]:
    """:func:`icp_2d`, plus whether it settled: it stops early when a step at the smallest
    distance moves < 0.1 mm and 1e-5 rad, and counts as settled at the iteration limit when the
    last step moved less than :data:`SETTLED_STEP` and :data:`SETTLED_TURN`. ``rotate=False``
    fits a translation only."""
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
            return R, t, inl, it, False
        if rotate:
            dR, dt = _rigid_2d(cur[ok], dst[j[ok]])
        else:
            dR, dt = np.eye(2), (dst[j[ok]] - cur[ok]).mean(0)
        R, t = dR @ R, dR @ t + dt
        step, turn = np.linalg.norm(dt), abs(np.arctan2(dR[1, 0], dR[0, 0]))
        if step < 1e-4 and turn < 1e-5 and gate == min_dist:
            return R, t, inl, it, True
    return R, t, inl, iterations, bool(step < SETTLED_STEP and turn < SETTLED_TURN)


MAX_ICP_POINTS = 2000  # larger objects (a bus close by: 13k returns) are thinned evenly before ICP


def _thin(points: np.ndarray, limit: int = MAX_ICP_POINTS) -> np.ndarray:
    """At most ``limit`` rows, evenly spread over the array (deterministic)."""
    if len(points) <= limit:
        return points
    return points[np.linspace(0, len(points) - 1, limit).astype(np.int64)]


def propagate_box(points_a: np.ndarray, box_a: Cuboid, points_b: np.ndarray,
                  T_world_lidar_a: np.ndarray | None = None, T_world_lidar_b: np.ndarray | None = None,
                  velocity_xy=(0.0, 0.0), dt: float = 0.1, search: float = 2.5,
                  config: BuiltinConfig | None = None, cluster_check: bool = False) -> Propagation:
    """Box of the same object in frame b (see module docstring).

    Args:
        points_a, points_b: sweeps (N, 3+) in their own LiDAR frames.
        box_a: the box in frame a's LiDAR frame.
        T_world_lidar_a, T_world_lidar_b: poses (4, 4); identity when unknown.
        velocity_xy: world-frame velocity guess (m/s) applied over ``dt`` seconds.
        search: metres around the prediction searched in frame b.
        cluster_check: pull a box (not a small one) back onto its object's cluster in frame b
            (:func:`~.cluster_snap.snap_to_cluster`). Tried, not shipped: ``V`` leaves it off
            (docs/prelabel.md, "Propagation (ICP)"); the chained benchmark measures it.
    """
    cfg = config or BuiltinConfig()
    Ta = np.eye(4) if T_world_lidar_a is None else np.asarray(T_world_lidar_a, dtype=np.float64)
    Tb = np.eye(4) if T_world_lidar_b is None else np.asarray(T_world_lidar_b, dtype=np.float64)
    shift = np.eye(4)
    shift[:2, 3] = np.asarray(velocity_xy, dtype=np.float64) * dt
    T_pred = invert_T(Tb) @ shift @ Ta
    predicted = box_a.transformed(T_pred)
    reach = 0.5 * float(np.hypot(box_a.length, box_a.width)) + 1.0
    src = _object_points(np.asarray(points_a), box_a, reach, cfg)
    if len(src) < MIN_POINTS:
        return Propagation(predicted, 0.0, 0, False, len(src))
    offset = _local_mean(src, box_a)
    src = (src[:, :3].astype(np.float64) @ T_pred[:3, :3].T + T_pred[:3, 3])[:, :2]
    crop_b = _crop(np.asarray(points_b), predicted.center[:2], reach + search + 2.0)
    if len(crop_b) < 3:
        return Propagation(predicted, 0.0, 0, False, len(src))
    ground_b = _local_ground(crop_b, cfg)
    hb = ground_b.height_above(crop_b)
    lifted = hb > cfg.ground_height
    near = np.abs(crop_b[:, :2] - np.asarray(predicted.center[:2])).max(1) <= reach + search
    dst = crop_b[near & lifted & (hb < cfg.max_height), :2].astype(np.float64)
    if len(dst) < MIN_POINTS:
        return Propagation(predicted, 0.0, 0, False, len(src), _count(crop_b, lifted, predicted))
    # ICP about the box centre keeps the rotation well conditioned. A small box (a pedestrian, a
    # cone) is a blob of points whose rotation ICP cannot tell: it keeps its heading.
    rotate = max(box_a.length, box_a.width) >= SMALL_OBJECT
    n_src = len(src)
    src, dst = _thin(src), _thin(dst)
    c0 = np.asarray(predicted.center[:2])
    shift0 = coarse_shift(src, dst, search)
    R, t, inl, its, settled = _icp(src - c0 + shift0, dst - c0, max_dist=1.0, rotate=rotate)
    t = t + R @ shift0
    pin, axis = pinning(src @ R.T + (c0 + t - R @ c0), dst) if rotate else (1.0, np.array([1.0, 0.0]))
    M = np.eye(4)
    M[:2, :2] = R
    M[:2, 3] = c0 + t - R @ c0
    moved = predicted.transformed(M)
    slide = float(np.subtract(moved.center[:2], c0) @ axis)
    gz = float(ground_b.ground_z(np.asarray(moved.center[:2])[None])[0])
    bottom = float(predicted.center[2] - predicted.height / 2.0)     # frame a's bottom, carried by the motion
    moved_by = float(np.hypot(*np.subtract(moved.center[:2], predicted.center[:2])))
    ground_kept = gz - bottom if abs(gz - bottom) > GROUND_JUMP + GROUND_SLOPE * moved_by else 0.0
    if ground_kept:
        gz = bottom
    moved = moved.with_(center=(moved.center[0], moved.center[1], gz + moved.height / 2.0))
    if not rotate:
        moved = _centre(moved, crop_b[lifted], offset)
    elif cluster_check:
        moved = snap_to_cluster(moved, crop_b[lifted & (hb < cfg.max_height)]) or moved
    jump = float(np.hypot(*np.subtract(moved.center[:2], predicted.center[:2])))
    # Without poses (the same pose in both frames) the prediction misses the ego's own motion.
    posed = T_world_lidar_a is not None and T_world_lidar_b is not None and not np.allclose(Ta, Tb)
    # A track's speed from its boxes before stands in for them: measured in the LiDAR frame, it holds
    # the ego's motion too (steady over a frame or two).
    posed = posed or bool(np.any(np.asarray(velocity_xy, dtype=np.float64) != 0.0))
    if not rotate and posed and jump > np.hypot(box_a.length, box_a.width) + SMALL_SPEED * abs(dt):
        return Propagation(predicted, inl, its, False, n_src, _count(crop_b, lifted, predicted), jump=jump)
    return Propagation(moved, inl, its, True, n_src, _count(crop_b, lifted, moved), settled, rotate, jump,
                       pin, (float(axis[0]), float(axis[1])), slide, ground_kept, unchecked=not rotate and not posed)


def _local_mean(points: np.ndarray, box: Cuboid) -> np.ndarray:
    """Mean (2,) of ``points`` in the box's own frame (x along its heading), xy."""
    return ((points[:, :3].astype(np.float64) - np.asarray(box.center)) @ box.rotation())[:, :2].mean(0)


def _centre(box: Cuboid, points: np.ndarray, offset: np.ndarray, steps: int = 10) -> Cuboid:
    """Slide ``box`` (heading kept) until the ``points`` it holds (grown by :data:`GROW`) have
    their mean at ``offset`` in its frame, as the object's points had in frame a. ICP on a
    small, changing blob (a walking pedestrian) stops short of the motion by a few cm each frame;
    matching the means does not."""
    for _ in range(steps):
        inside = points[points_in_cuboid(points, box.with_(size=np.asarray(box.size) + GROW))]
        if len(inside) < MIN_POINTS:
            break
        step = box.rotation()[:2, :2] @ (_local_mean(inside, box) - offset)
        box = box.with_(center=(box.center[0] + step[0], box.center[1] + step[1], box.center[2]))
        if np.hypot(*step) < 1e-3:
            break
    return box


def _count(crop: np.ndarray, above: np.ndarray, box: Cuboid) -> int:
    """Points of ``crop`` marked ``above`` the ground inside ``box`` grown by :data:`GROW`."""
    return int((points_in_cuboid(crop, box.with_(size=np.asarray(box.size) + GROW)) & above).sum())


def _object_points(points: np.ndarray, box: Cuboid, reach: float, cfg: BuiltinConfig) -> np.ndarray:
    """The points of ``box`` (grown by :data:`GROW`) above the local ground."""
    crop = _crop(points, box.center[:2], reach + 2.0)
    if len(crop) < 3:
        return crop[:0]
    return crop[points_in_cuboid(crop, box.with_(size=np.asarray(box.size) + GROW))
                & (_local_ground(crop, cfg).height_above(crop) > cfg.ground_height)]


def pinning(src: np.ndarray, dst: np.ndarray, gate: float = 0.25, step: float = 0.1,
            max_src: int = 400) -> tuple[float, np.ndarray]:
    """How firmly aligned (n, 2) ``src`` points are held on (m, 2) ``dst`` against a horizontal
    shift, and the direction (unit (2,)) in which they are held least.

    The mean squared distance of ``src`` to its nearest ``dst`` point (capped at ``gate``) is
    taken for shifts of ±``step`` along 4 directions; its curvature over the shift (2 × 2, from
    the second differences) is 1 for a shift straight across a densely sampled line or surface
    (the distance grows as the shift) and near 0 along it. The smaller eigenvalue and its
    eigenvector are returned: a car seen from one side only (its points on one line) gives
    about 0 along its side, an L-shaped corner more than 0.1 every way."""
    if len(src) > max_src:
        src = src[np.linspace(0, len(src) - 1, max_src).astype(np.int64)]
    r = np.sqrt(0.5)
    dirs = np.array([[1.0, 0.0], [0.0, 1.0], [r, r], [r, -r]])
    shifts = np.r_[np.zeros((1, 2)), step * dirs, -step * dirs]
    d, _ = cKDTree(dst).query((src[None] + shifts[:, None]).reshape(-1, 2), distance_upper_bound=gate)
    cost = (np.minimum(d, gate) ** 2).reshape(len(shifts), -1).mean(1)
    c = (cost[1:5] + cost[5:9] - 2.0 * cost[0]) / (2.0 * step ** 2)
    cross = (c[2] - c[3]) / 2.0
    w, v = np.linalg.eigh(np.array([[c[0], cross], [cross, c[1]]]))
    return float(w[0]), v[:, 0]
