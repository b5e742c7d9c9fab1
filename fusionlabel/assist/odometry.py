"""Ego poses from the LiDAR sweeps alone, for drives recorded without them.

Planar scan matching (x, y, yaw; z, roll and pitch stay 0) of the static structure of the sweeps:

* **Structure** of a sweep (:func:`structure`): ground removed (the built-in detector's ground grid),
  points between ``low`` and ``high`` above it and farther than ``near`` from the sensor, points of
  movable objects (the built-in detector's vehicle and person detections, slightly enlarged) left
  out, thinned on a BEV grid.
* **Global guess** (:func:`correlative_match`): both frames rasterised on an occupancy grid; the
  reference frame's grid turned into a likelihood field; every yaw in a range around the guess is
  scored against every translation within ``search`` metres at once by FFT cross-correlation, coarse
  first, then on a finer grid around the best coarse peak. This does not need a good start, so frames
  0.5-1.5 s apart (several metres of motion) and street corridors (where ICP from identity slides
  along the street) are handled.
* **Refinement** (:func:`refine`): point-to-line ICP with a shrinking gate, damped so a direction
  the structure does not constrain (a long straight wall) stays where the global search put it.
* **Sequence** (:func:`estimate_poses`): each frame is matched to the latest *keyframe*, starting
  from a constant-velocity guess; a new keyframe is taken once the ego moved ``keyframe_distance``
  metres or turned, so at 10 Hz small errors are not summed over every frame.

Every pair reports its inlier share (share of the frame's structure points within ``inlier_dist``
of the reference's structure after matching) and whether it is trusted: a pair whose match is
ambiguous (a second, distant correlation peak nearly as good), whose inlier share is low or whose
ICP did not settle is flagged, and its motion is replaced by the constant-velocity guess.

Poses are ``T_world_lidar`` with the first frame's LiDAR frame as the world.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

import numpy as np
from scipy import fft as sfft
from scipy import ndimage
from scipy.spatial import cKDTree

from .builtin import GeometricDetector, ground_of, object_points
from .config import BuiltinConfig

MOVABLE = ("Car", "Van", "Truck", "Bus", "Cyclist", "Pedestrian", "Motorcycle", "Rider")


@dataclass(frozen=True)
class OdometryConfig:
    """Parameters of :func:`estimate_poses` (metres, seconds, radians)."""

    near: float = 3.0                 # structure: points closer to the sensor are the ego and its riders
    low: float = 0.3                  # ... and between these heights above the ground
    high: float = 8.0
    voxel: float = 0.15               # BEV thinning grid
    remove_movable: bool = True       # leave out the built-in detector's vehicles and people
    movable_margin: float = 0.4
    coarse_cell: float = 0.4          # correlative search grids
    fine_cell: float = 0.1
    coarse_yaw_step: float = np.radians(0.5)
    fine_yaw_step: float = np.radians(0.1)
    max_speed: float = 20.0           # m/s: translation search without a velocity guess
    max_accel: float = 4.0            # m/s^2: translation search around a constant-velocity guess
    max_yaw_rate: float = np.radians(30.0)      # rad/s: yaw search without a velocity guess
    max_yaw_accel: float = np.radians(30.0)     # rad/s^2: yaw search around the guess
    min_search: float = 3.0           # metres, radians below: the smallest search windows (at least
                                      # 1.5 ambiguity_radius, so a flat ridge shows)
    min_yaw_search: float = np.radians(3.0)
    inlier_dist: float = 0.3
    min_inliers: float = 0.35         # a pair below this share is not trusted
    ambiguity: float = 0.9            # second peak (farther than ambiguity_radius) / best above this: ambiguous
    min_constraint: float = 0.1       # see refine(): below this a direction is not held (a corridor of walls)
    ambiguity_radius: float = 2.0
    keyframe_distance: float = 4.0
    keyframe_yaw: float = np.radians(10.0)


@dataclass(frozen=True)
class PairMatch:
    """The motion of ``frame`` relative to ``reference`` (frame indices), ``T_reference_frame``
    (4, 4) in LiDAR frames; ``inliers`` its inlier share; ``ok`` False when it was not trusted,
    ``reason`` then says why."""

    frame: int
    reference: int
    T_reference_frame: np.ndarray
    inliers: float
    ok: bool
    reason: str = ""
    ambiguity: float = 0.0
    constraint: float = 1.0

    def text(self) -> str:
        x, y, yaw = planar(self.T_reference_frame)
        s = (f"{self.reference}->{self.frame}: dx {x:+.2f} m dy {y:+.2f} m yaw {np.degrees(yaw):+.2f} deg, "
             f"inliers {self.inliers:.0%}")
        return s if self.ok else f"{s}, not trusted: {self.reason}"


@dataclass
class Odometry:
    """Result of :func:`estimate_poses`: ``T_world_lidar`` per frame (first frame = world) and the
    pair matches that produced them."""

    T_world_lidar: list[np.ndarray]
    pairs: list[PairMatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.pairs)

    @property
    def failed(self) -> list[PairMatch]:
        return [p for p in self.pairs if not p.ok]


# ---------------------------------------------------------------------------------------- small helpers
def pose2d(x: float, y: float, yaw: float) -> np.ndarray:
    T = np.eye(4)
    c, s = np.cos(yaw), np.sin(yaw)
    T[:2, :2] = [[c, -s], [s, c]]
    T[:2, 3] = x, y
    return T


def planar(T: np.ndarray) -> tuple[float, float, float]:
    """(x, y, yaw) of a (4, 4) transform."""
    return float(T[0, 3]), float(T[1, 3]), float(np.arctan2(T[1, 0], T[0, 0]))


def _apply(xy: np.ndarray, x: float, y: float, yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.c_[c * xy[:, 0] - s * xy[:, 1] + x, s * xy[:, 0] + c * xy[:, 1] + y]


def _thin(xy: np.ndarray, cell: float) -> np.ndarray:
    if len(xy) == 0:
        return xy
    _, keep = np.unique(np.floor(xy / cell).astype(np.int64), axis=0, return_index=True)
    return xy[np.sort(keep)]


# ---------------------------------------------------------------------------------------- structure
def movable_boxes(points: np.ndarray, detector: GeometricDetector | None = None) -> list:
    """Cuboids of the built-in detector's vehicles and people in a sweep (LiDAR frame)."""
    detector = detector or GeometricDetector()
    return [d.box for d in detector.detect(points) if d.label in MOVABLE]


def structure(points: np.ndarray, cfg: OdometryConfig = OdometryConfig(), boxes: Sequence = (),
              builtin: BuiltinConfig | None = None) -> np.ndarray:
    """(M, 2) float64 BEV points of a sweep's structure (see module docstring); ``boxes``: cuboids
    whose points (enlarged by ``cfg.movable_margin``) are left out."""
    points = np.asarray(points)
    if points.ndim != 2 or points.shape[1] < 3 or len(points) == 0:
        return np.zeros((0, 2))
    bcfg = replace(builtin or BuiltinConfig(), ground_height=cfg.low, max_height=cfg.high)
    ground = ground_of(points, bcfg)
    idx, _ = object_points(points, ground, bcfg)
    xy = points[idx, :2].astype(np.float64)
    keep = np.einsum("ij,ij->i", xy, xy) > cfg.near ** 2
    for box in boxes:
        c, s = np.cos(box.yaw), np.sin(box.yaw)
        d = xy - np.asarray(box.center[:2], np.float64)
        u, v = c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1]
        m = cfg.movable_margin
        keep &= ~((np.abs(u) <= box.size[0] / 2 + m) & (np.abs(v) <= box.size[1] / 2 + m))
    return _thin(xy[keep], cfg.voxel)


# ---------------------------------------------------------------------------------------- correlative search
def _likelihood(xy: np.ndarray, origin: np.ndarray, cell: float, shape: tuple[int, int], sigma: float) -> np.ndarray:
    occ = np.zeros(shape, bool)
    ij = np.floor((xy - origin) / cell).astype(np.int64)
    ok = (ij >= 0).all(1) & (ij[:, 0] < shape[0]) & (ij[:, 1] < shape[1])
    occ[ij[ok, 0], ij[ok, 1]] = True
    d = ndimage.distance_transform_edt(~occ) * cell
    return np.exp(-0.5 * (d / sigma) ** 2)


def _occupancy(xy: np.ndarray, origin: np.ndarray, cell: float, shape: tuple[int, int]) -> np.ndarray:
    occ = np.zeros(shape, np.float64)
    ij = np.floor((xy - origin) / cell).astype(np.int64)
    ok = (ij >= 0).all(1) & (ij[:, 0] < shape[0]) & (ij[:, 1] < shape[1])
    occ[ij[ok, 0], ij[ok, 1]] = 1.0
    return occ


@dataclass(frozen=True)
class _Peak:
    x: float
    y: float
    yaw: float
    score: float        # share of the source cells' likelihood mass
    ambiguity: float    # best score farther than the ambiguity radius / score


def _search(src: np.ndarray, dst: np.ndarray, guess: tuple[float, float, float], search: float,
            yaws: np.ndarray, cell: float, radius: float) -> _Peak:
    """Best (x, y, yaw) placing ``src`` on ``dst``: every yaw in ``guess[2] + yaws``, every shift
    within ``search`` of the guess, by FFT cross-correlation of src's occupancy with dst's
    likelihood field on a grid of ``cell`` metres."""
    gx, gy, gyaw = guess
    lo = np.minimum(src.min(0) - search, dst.min(0)) - 2 * cell
    hi = np.maximum(src.max(0) + search, dst.max(0)) + 2 * cell
    # The source is placed at the guess, so the grid must hold it moved by the guess as well.
    moved = _apply(src, gx, gy, gyaw)
    lo = np.minimum(lo, moved.min(0) - search - 2 * cell)
    hi = np.maximum(hi, moved.max(0) + search + 2 * cell)
    n = int(np.ceil(search / cell))
    pad = n + 2
    shape = tuple(sfft.next_fast_len(int(v), real=True) for v in np.ceil((hi - lo) / cell) + 2 * pad)
    origin = lo - pad * cell
    like = _likelihood(dst, origin, cell, shape, sigma=cell)
    F_like = sfft.rfft2(like)
    best_scores = []
    best = None
    offs = np.arange(-n, n + 1)
    for dyaw in yaws:
        yaw = gyaw + dyaw
        occ = _occupancy(_apply(src, gx, gy, yaw), origin, cell, shape)
        mass = occ.sum()
        if mass == 0:
            continue
        corr = sfft.irfft2(F_like * np.conj(sfft.rfft2(occ)), s=shape)
        # corr[a, b] = sum_x occ(x) like(x + (a, b)); negative shifts wrap around.
        win = corr[np.ix_(offs % shape[0], offs % shape[1])] / mass
        best_scores.append((yaw, win))
        k = int(np.argmax(win))
        if best is None or win.flat[k] > best[0]:
            best = (float(win.flat[k]), yaw, *np.unravel_index(k, win.shape))
    if best is None:
        return _Peak(gx, gy, gyaw, 0.0, 1.0)
    score, yaw, a, b = best
    dx, dy = offs[a] * cell, offs[b] * cell
    # Ambiguity: the best score of any yaw at a shift farther than ``radius`` from the winner.
    far = np.hypot(offs[:, None] * cell - dx, offs[None, :] * cell - dy) > radius
    second = max((float(w[far].max()) for _, w in best_scores if far.any()), default=0.0)
    return _Peak(gx + dx, gy + dy, yaw, score, second / score if score > 0 else 1.0)


def correlative_match(src: np.ndarray, dst: np.ndarray, guess: tuple[float, float, float] = (0.0, 0.0, 0.0),
                      search: float = 10.0, yaw_search: float = np.radians(10.0),
                      cfg: OdometryConfig = OdometryConfig()) -> _Peak:
    """Global match of structure ``src`` onto ``dst`` ((n, 2) each): coarse FFT search over
    ``guess`` ± ``search`` metres and ± ``yaw_search``, then a fine search around the coarse peak.
    Returns the peak (x, y, yaw of T_dst_src, score, ambiguity)."""
    yaws = np.arange(-yaw_search, yaw_search + 1e-9, cfg.coarse_yaw_step)
    coarse = _search(src, dst, guess, search, yaws, cfg.coarse_cell, cfg.ambiguity_radius)
    fine_yaws = np.arange(-cfg.coarse_yaw_step, cfg.coarse_yaw_step + 1e-9, cfg.fine_yaw_step)
    fine = _search(src, dst, (coarse.x, coarse.y, coarse.yaw), 2 * cfg.coarse_cell, fine_yaws, cfg.fine_cell,
                   np.inf)
    return replace(fine, ambiguity=coarse.ambiguity)


# ---------------------------------------------------------------------------------------- ICP refinement
def _normals(xy: np.ndarray, tree: cKDTree, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Unit normals (n, 2) of the local lines through each point, and how line-like (0..1)."""
    k = min(k, len(xy))
    _, j = tree.query(xy, k=k)
    nb = xy[j] - xy[j].mean(1, keepdims=True)
    cov = np.einsum("nki,nkj->nij", nb, nb)
    w, v = np.linalg.eigh(cov)
    normal = v[:, :, 0]
    lin = 1.0 - w[:, 0] / np.maximum(w[:, 1], 1e-12)
    return normal, lin


def refine(src: np.ndarray, dst: np.ndarray, start: tuple[float, float, float], gate: float = 1.0,
           min_gate: float = 0.3, iterations: int = 40, damping: float = 1e-3
           ) -> tuple[tuple[float, float, float], bool, float]:
    """Point-to-line ICP of ``src`` onto ``dst`` from ``start`` (x, y, yaw). Returns the refined
    pose, whether it settled (last step below 1 mm and 0.01 degree) and how well the structure
    constrains translation in its weakest direction (square root of the smallest over the largest
    eigenvalue of the translation block of the normal equations: 0 for a straight corridor of walls,
    1 when every direction is held alike). Levenberg damping keeps directions no line constrains
    where they started."""
    tree = cKDTree(dst)
    normal, lin = _normals(dst, tree)
    x, y, yaw = start
    settled = False
    constraint = 0.0
    for it in range(iterations):
        g = max(min_gate, gate * 0.8 ** it)
        cur = _apply(src, x, y, yaw)
        d, j = tree.query(cur, distance_upper_bound=g)
        ok = np.isfinite(d)
        if ok.sum() < 10:
            break
        p, q, n = cur[ok], dst[j[ok]], normal[j[ok]]
        # a point on a line: point-to-line; on a blob (a pole): point-to-point (both axes)
        wline = lin[j[ok]] > 0.7
        rows, res = [], []
        c = np.array([x, y])
        arm = p - c
        dp = np.c_[-arm[:, 1], arm[:, 0]]          # d(point)/d(yaw)
        e = p - q
        L, P = wline, ~wline
        rows.append(np.c_[n[L], (n[L] * dp[L]).sum(1)])
        res.append(-(n[L] * e[L]).sum(1))
        for axis in (0, 1):
            rows.append(np.c_[np.eye(2)[axis][None].repeat(P.sum(), 0), dp[P, axis]])
            res.append(-e[P, axis])
        A, b = np.vstack(rows), np.concatenate(res)
        # Huber weights on the residuals at the current pose
        r = np.abs(b)
        w = np.where(r < 0.1, 1.0, 0.1 / np.maximum(r, 1e-9))
        H = (A * w[:, None]).T @ A
        ev = np.linalg.eigvalsh(H[:2, :2])
        constraint = float(np.sqrt(max(ev[0], 0.0) / max(ev[1], 1e-12)))
        H += damping * len(b) * np.eye(3)
        step = np.linalg.solve(H, (A * w[:, None]).T @ b)
        # The step is about the current centre c: new = R(dyaw)(p - c) + c + t
        dyaw = step[2]
        cs, sn = np.cos(dyaw), np.sin(dyaw)
        Rd = np.array([[cs, -sn], [sn, cs]])
        t_new = Rd @ (np.array([x, y]) - c) + c + step[:2]
        x, y, yaw = float(t_new[0]), float(t_new[1]), float(yaw + dyaw)
        if g == min_gate and np.hypot(*step[:2]) < 1e-3 and abs(dyaw) < np.radians(0.01):
            settled = True
            break
    return (x, y, yaw), settled, constraint


def inlier_share(src: np.ndarray, dst: np.ndarray, pose: tuple[float, float, float], dist: float) -> float:
    if len(src) == 0 or len(dst) == 0:
        return 0.0
    d, _ = cKDTree(dst).query(_apply(src, *pose), distance_upper_bound=dist)
    return float(np.isfinite(d).mean())


@dataclass(frozen=True)
class Match:
    """One pair matched by :func:`match_pair`: ``pose`` (x, y, yaw of T_dst_src), inlier share,
    trusted or not and why, correlation ambiguity and translation constraint (see :func:`refine`)."""

    pose: tuple[float, float, float]
    inliers: float
    ok: bool
    reason: str
    ambiguity: float
    constraint: float


def match_pair(src: np.ndarray, dst: np.ndarray, guess: tuple[float, float, float], search: float,
               yaw_search: float, cfg: OdometryConfig = OdometryConfig()) -> Match:
    """Structure ``src`` onto structure ``dst``: global correlative search around ``guess``, ICP
    refinement, and the checks that decide whether the result is trusted."""
    if len(src) < 20 or len(dst) < 20:
        return Match(guess, 0.0, False, "too little structure", 1.0, 0.0)
    peak = correlative_match(src, dst, guess, search, yaw_search, cfg)
    pose, settled, constraint = refine(src, dst, (peak.x, peak.y, peak.yaw))
    if np.hypot(pose[0] - peak.x, pose[1] - peak.y) > 4 * cfg.coarse_cell:
        pose, settled = (peak.x, peak.y, peak.yaw), False
    share = inlier_share(src, dst, pose, cfg.inlier_dist)
    reasons = []
    if peak.ambiguity > cfg.ambiguity:
        reasons.append(f"ambiguous match (a distant second peak scores {peak.ambiguity:.0%} of the best)")
    if constraint < cfg.min_constraint:
        reasons.append(f"structure hardly constrains one direction ({constraint:.2f} < {cfg.min_constraint:.2f})")
    if share < cfg.min_inliers:
        reasons.append(f"inlier share {share:.0%} < {cfg.min_inliers:.0%}")
    if not settled:
        reasons.append("ICP did not settle")
    return Match(pose, share, not reasons, "; ".join(reasons), peak.ambiguity, constraint)


# ---------------------------------------------------------------------------------------- sequences
def sweep_structure(points: np.ndarray, cfg: OdometryConfig = OdometryConfig(),
                    detector: GeometricDetector | None = None) -> np.ndarray:
    """:func:`structure` of a sweep without the built-in ``detector``'s vehicles and people (none
    are left out without a detector)."""
    points = np.asarray(points)
    return structure(points, cfg, movable_boxes(points, detector) if detector else ())


def search_window(dt: float, cfg: OdometryConfig = OdometryConfig()) -> tuple[float, float]:
    """Translation (m) and yaw (rad) to search for a pair of sweeps ``dt`` seconds apart without a
    velocity guess: what the ego can move at ``cfg.max_speed`` and ``cfg.max_yaw_rate``."""
    return (float(np.clip(cfg.max_speed * dt, cfg.min_search, 30.0)),
            float(np.clip(cfg.max_yaw_rate * dt, cfg.min_yaw_search, np.radians(45))))


def estimate_poses(sweeps: Sequence[np.ndarray] | Callable[[int], np.ndarray], times_s: Sequence[float],
                   cfg: OdometryConfig = OdometryConfig(), progress: Callable[[int], None] | None = None
                   ) -> Odometry:
    """Poses of a sequence of sweeps (LiDAR frame each) taken at ``times_s`` (seconds, increasing):
    ``T_world_lidar`` per frame with the first frame as the world (see module docstring).
    ``sweeps`` may be a list or a function of the frame index (so a long drive is not held in
    memory); ``progress`` is called with each frame index done."""
    n = len(times_s)
    times = np.asarray(times_s, np.float64)
    if n and np.any(np.diff(times) <= 0):
        raise ValueError("frame times must increase")
    get = sweeps if callable(sweeps) else (lambda i: sweeps[i])
    detector = GeometricDetector() if cfg.remove_movable else None

    def cloud(i: int) -> np.ndarray:
        return sweep_structure(get(i), cfg, detector)

    poses = [np.eye(4)]
    pairs: list[PairMatch] = []
    if n == 0:
        return Odometry([], [])
    key, key_cloud = 0, cloud(0)
    if progress:
        progress(0)
    velocity = None          # (vx, vy, yaw rate) in the previous frame's LiDAR frame
    for k in range(1, n):
        cur = cloud(k)
        dt = times[k] - times[k - 1]
        if velocity is None:
            step = np.eye(4)
            search, yaw_search = search_window(dt, cfg)
        else:
            step = pose2d(velocity[0] * dt, velocity[1] * dt, velocity[2] * dt)
            dt_key = times[k] - times[key]
            search = float(np.clip(cfg.max_accel * dt * dt_key + 0.5, cfg.min_search, 30.0))
            yaw_search = float(np.clip(cfg.max_yaw_accel * dt * dt_key, cfg.min_yaw_search, np.radians(45)))
        T_w_guess = poses[k - 1] @ step
        guess = planar(np.linalg.inv(poses[key]) @ T_w_guess)
        m = match_pair(cur, key_cloud, guess, search, yaw_search, cfg)
        ok = m.ok
        # an untrusted match falls back on the constant-velocity guess, when there is one
        T_key_k = pose2d(*(m.pose if ok or velocity is None else guess))
        pairs.append(PairMatch(k, key, T_key_k, m.inliers, ok, m.reason, m.ambiguity, m.constraint))
        poses.append(poses[key] @ T_key_k)
        rel = np.linalg.inv(poses[k - 1]) @ poses[k]
        rx, ry, ryaw = planar(rel)
        if ok or velocity is None:
            velocity = (rx / dt, ry / dt, ryaw / dt)
        kx, ky, kyaw = planar(T_key_k)
        if not ok or np.hypot(kx, ky) >= cfg.keyframe_distance or abs(kyaw) >= cfg.keyframe_yaw:
            key, key_cloud = k, cur
        if progress:
            progress(k)
    return Odometry(poses, pairs)


# ---------------------------------------------------------------------------------------- checking
def static_tracks(centres: dict[str, np.ndarray], tolerance: float = 0.3) -> list[str]:
    """Tracks that keep their distances to each other: ``centres`` maps a track ID to its (F, 2)
    BEV centres in F frames (each in its own LiDAR frame). Independent of ego poses, since the
    distance between two objects that do not move is the same in every frame. Returns the largest
    group (greedy, by how many others a track agrees with) whose pairwise distances vary by at most
    ``tolerance`` metres; empty when fewer than three tracks agree."""
    ids = sorted(centres)
    if len(ids) < 3:
        return []
    C = np.stack([np.asarray(centres[t], np.float64)[:, :2] for t in ids])
    dist = np.linalg.norm(C[:, None] - C[None], axis=-1)
    agree = (dist.max(-1) - dist.min(-1)) <= tolerance
    group: list[int] = []
    for i in np.argsort(-agree.sum(1), kind="stable"):
        if all(agree[i, j] for j in group):
            group.append(int(i))
    return sorted(ids[i] for i in group) if len(group) >= 3 else []
