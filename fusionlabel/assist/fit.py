"""One-click boxes and auto-fit: the two interactive helpers of the annotation tools.

:func:`one_click_box` runs the built-in detector's clustering, splitting and classification
(:class:`fusionlabel.assist.builtin.GeometricDetector`) on the points around a click and returns
the detection under it (a tight box when no class fits). :func:`auto_fit` tightens a rough box
to the points inside it (plus a margin), keeping its yaw or re-estimating it, and snaps its bottom
to the local ground. Both look at the points within a few metres only, so they run in
milliseconds on a full sweep.
"""

from __future__ import annotations

import numpy as np

from ..geometry.cuboid import Cuboid, in_footprint
from ..geometry.transforms import angle_difference, arctan2
from ..model.annotation import CuboidLabel
from .boxfit import complete_extent, lshape_angle, rect_at_angle
from .builtin import GeometricDetector
from .config import BuiltinConfig
from .ground import estimate_ground

PARTIAL = 0.6      # auto-fit: a side whose points span less than this share of the box is partly seen
SEED_REACH = 1.0   # metres: a click this close (xy) to object points picks their cluster ...
SHADOW_REACH = 7.0   # ... else the one in front of it on its line of sight, at most this far ...
SHADOW_WIDTH = 0.5   # ... and this far to the side (the click is on its hidden part) ...
HIDDEN_REACH = 2.5   # ... else the nearest one this close (a car seen by one corner far away)
PART_MARGIN = 0.3    # metres around a detection's footprint that still hold its points
UNSURE_SCORE = 0.3   # one-click: a class scoring under this is a guess ...
GROWTH_LIMIT = 2.0   # ... and may not grow the box past this many times the seen area


def _crop(points: np.ndarray, center_xy, half: float) -> np.ndarray:
    """Points (M, C) whose xy lies in the square of half-side ``half`` around ``center_xy``."""
    d = np.abs(points[:, :2] - np.asarray(center_xy, dtype=points.dtype))
    return points[(d[:, 0] <= half) & (d[:, 1] <= half)]


def _local_ground(crop: np.ndarray, cfg: BuiltinConfig):
    return estimate_ground(crop, cfg.ground_cell, tuple(w for w in cfg.ground_windows if w <= 9),
                           cfg.ground_slope, cfg.ground_step, np.inf)


def one_click_box(points: np.ndarray, seed, config: BuiltinConfig | None = None, radius: float = 7.0,
                  forward=None) -> CuboidLabel | None:
    """Box of the object under ``seed`` (x, y[, z]; only x, y are used) in a (N, 3+) sweep, or None
    on bare ground.

    The object points within ``radius`` are clustered and explained as the built-in detector does
    (hidden parts joined, a cluster of several objects split); the click picks the cluster with
    most points within SEED_REACH of it, or, with none there, the one whose hidden far side it
    falls on (the middle of a vehicle seen end-on), and then the detection under it. A vehicle
    class the points are too small and too low for is not used (a van is not completed to a
    truck). The returned label has the class and its score, ``"Object"`` (a tight box) when no
    class fits; the box stands on the local ground. ``forward``: the ego's forward as an xy
    direction (default LiDAR +x), for the box's front where nothing else tells it.
    """
    cfg = (config or BuiltinConfig()).with_(min_score=0.0)
    points = np.asarray(points)
    seed = np.asarray(seed, dtype=np.float64).reshape(-1)[:2]
    crop = _crop(points, seed, radius)
    if len(crop) < 3:
        return None
    detector = GeometricDetector(cfg, forward)
    # no top-of-view test (a crop does not show the LiDAR's highest beam) and no scan-line
    # statistics: on the simulated and real sets of docs/prelabel.md they did not help one-click
    labels = detector.prepare(crop, _local_ground(crop, cfg), np.inf, min_points=1, scan_lines=False)
    members, behind = _seed_cluster(detector.object_xy, labels, seed)
    if members is None:
        return None
    members, found = _explained_under(detector, members, seed, behind)
    if found is not None:
        found = _smallest_supported_vehicle(detector, members, found, seed, cfg)
    pts, hh = detector.object_xy[members], detector.object_height[members]
    rect = rect_at_angle(pts, lshape_angle(pts))
    if found is not None and not _unexplained_growth(found, rect):
        if behind and _distance(found.box, seed) > 0.0:
            return None             # a click on the ground behind an object, not on its hidden part
        return found
    if behind:
        return None
    c = rect.center
    gz = float(detector.ground.ground_z(c[None])[0])
    top = float(max(hh.max(), 0.3))
    box = Cuboid((c[0], c[1], gz + top / 2.0), (*np.maximum(rect.size, 0.1), top), rect.angle)
    return CuboidLabel(box, "Object", None, 0.0, "model", {"num_points": int(len(pts))})


def _explained_under(detector: GeometricDetector, members: np.ndarray, seed: np.ndarray, behind: bool):
    """The detection under the click among the explanations of the cluster ``members`` (indices of
    the detector's object points), and the members it came from. When the cluster's
    well-explained parts all lie elsewhere and the click is on points (not behind them), what is
    left of the cluster is the object clicked."""
    explained = detector.explain(members)
    found = _under(explained, seed)
    if behind or (found is not None and _distance(found.box, seed) <= PART_MARGIN):
        return members, found
    xy = detector.object_xy[members]
    taken = np.zeros(len(members), bool)
    for d in explained:
        taken |= in_footprint(xy, d.box, PART_MARGIN)
    rest = members[~taken]
    if len(rest) and (((detector.object_xy[rest] - seed) ** 2).sum(1) <= SEED_REACH ** 2).any():
        return rest, _under(detector.explain(rest), seed)
    return members, found


def _smallest_supported_vehicle(detector: GeometricDetector, members: np.ndarray, found: CuboidLabel,
                                seed: np.ndarray, cfg: BuiltinConfig) -> CuboidLabel | None:
    """``found``, unless it is a vehicle class its points give no sign of (then the cluster read
    without that class), or a bigger vehicle whose cluster's parts show a smaller one under the
    click (two cars nose to tail, a car with a post attached, read as a truck)."""
    part = members[in_footprint(detector.object_xy[members], found.box, PART_MARGIN)]
    if not len(part):
        return found
    unsupported = _unsupported_vehicles(detector, part, cfg)
    if found.label in unsupported:
        priors = {k: v for k, v in cfg.priors.items() if k not in unsupported}
        return _under(detector.with_config(cfg.with_(priors=priors)).explain(part), seed)
    prior = cfg.priors.get(found.label)
    if prior is None or not prior.vehicle:
        return found
    smaller = tuple(k for k, p in cfg.priors.items() if p.vehicle and p.mean[0] < prior.mean[0])
    inner = _under(detector.parts(part, smaller), seed) if smaller else None
    return inner if inner is not None and _distance(inner.box, seed) == 0.0 else found


def _seed_cluster(xy: np.ndarray, labels: np.ndarray, seed: np.ndarray) -> tuple[np.ndarray | None, bool]:
    """Indices of the object points of the cluster the click picks, and whether it was picked with
    no points near the click: the cluster with most points within SEED_REACH of the click (a lone
    roof return nearest to it must not decide); else the one whose points lie in front of the click
    on its line of sight (at most SHADOW_REACH ahead, SHADOW_WIDTH aside), else the one nearest to
    it within HIDDEN_REACH — the click may be on the object's hidden part, and the caller checks that
    the box holds it. (None, False) when there is none."""
    if len(xy) == 0:
        return None, False
    near = ((xy - seed) ** 2).sum(1) <= SEED_REACH ** 2
    if near.any():
        return np.flatnonzero(labels == int(np.argmax(np.bincount(labels[near])))), False
    rng = np.hypot(xy[:, 0], xy[:, 1])
    click_rng = float(np.hypot(*seed))
    rel = np.angle(np.exp(1j * (arctan2(xy[:, 1], xy[:, 0]) - np.arctan2(seed[1], seed[0]))))
    front = (np.abs(rel) * click_rng <= SHADOW_WIDTH) & (rng < click_rng) & (rng >= click_rng - SHADOW_REACH)
    if front.any():
        face = np.flatnonzero(front)[np.argmax(rng[front])]
    else:
        d2 = ((xy - seed) ** 2).sum(1)
        face = int(np.argmin(d2))
        if d2[face] > HIDDEN_REACH ** 2:
            return None, False
    return np.flatnonzero(labels == labels[face]), True


def _distance(box: Cuboid, xy: np.ndarray) -> float:
    """BEV distance (m) from ``xy`` to the footprint of ``box`` (0 inside)."""
    c, s = np.cos(box.yaw), np.sin(box.yaw)
    r = np.asarray(xy, dtype=np.float64) - np.asarray(box.center[:2])
    u, v = abs(r @ [c, s]) - box.length / 2.0, abs(r @ [-s, c]) - box.width / 2.0
    return float(np.hypot(max(u, 0.0), max(v, 0.0)))


def _under(found: list[CuboidLabel], seed: np.ndarray) -> CuboidLabel | None:
    """The detection whose footprint holds the click, else the one nearest to it."""
    return min(found, key=lambda d: _distance(d.box, seed)) if found else None


def _unsupported_vehicles(detector: GeometricDetector, part: np.ndarray, cfg: BuiltinConfig) -> set[str]:
    """Vehicle classes the points ``part`` (indices of the detector's object points) give no sign
    of: shorter than the class's least length, lower than its least height, and no wider than a
    shorter vehicle class may be. Completing hidden sides to such a class's size would invent the
    object (a van as a 9 m truck). A top cut off by the field of view is no sign of height."""
    if len(part) < 2:
        return set()
    xy = detector.object_xy[part]
    short, long = sorted(float(v) for v in rect_at_angle(xy, lshape_angle(xy)).size)
    top = float(detector.object_height[part].max())
    vehicles = [p for p in cfg.priors.values() if p.vehicle]
    out = set()
    for k, p in cfg.priors.items():
        narrower = [q.max[1] for q in vehicles if q.mean[0] < p.mean[0]]
        if p.vehicle and long < p.min[0] and top < p.min[2] and narrower and short <= max(narrower):
            out.add(k)
    return out


def _unexplained_growth(found: CuboidLabel, seen) -> bool:
    """A class barely fits (score under UNSURE_SCORE) yet its size prior grows the box to more than
    GROWTH_LIMIT times the area of the seen points' rectangle: a rider or a person read as a car or
    a truck. Completing a vehicle seen from one side (the seen side spans most of its length) or
    from behind (a thin face as wide as the vehicle) is not such growth. One-click then gives the
    tight box of what it saw rather than an invented one."""
    long_side, short_side = float(max(seen.size)), float(min(seen.size))
    area = max(long_side, 0.1) * max(short_side, 0.1)
    box = found.box
    side_seen = long_side >= 0.6 * box.length
    back_seen = short_side < 0.5 and abs(long_side - box.width) < 0.25 * box.width
    return (found.score < UNSURE_SCORE and box.length * box.width > GROWTH_LIMIT * area
            and not side_seen and not back_seen)


def auto_fit(points: np.ndarray, box: Cuboid, keep_yaw: bool = True, margin: float = 0.3,
             config: BuiltinConfig | None = None) -> Cuboid:
    """Tighten ``box`` to the object points within it (grown by ``margin`` in xy).

    ``keep_yaw``: keep the heading, else re-estimate it by L-shape fitting and keep the
    candidate (mod 90°) closest to the old heading, so the box does not spin. The bottom snaps to
    the local ground and the top to the highest point. Returns ``box`` unchanged when fewer than
    3 object points are found.
    """
    cfg = config or BuiltinConfig()
    reach = 0.5 * float(np.hypot(box.length, box.width)) + margin + 3.0
    crop = _crop(np.asarray(points), box.center[:2], reach)
    if len(crop) < 3:
        return box
    ground = _local_ground(crop, cfg)
    h = ground.height_above(crop)
    c, s = np.cos(box.yaw), np.sin(box.yaw)
    rel = crop[:, :2].astype(np.float64) - np.asarray(box.center[:2])
    local = np.c_[rel @ [c, s], rel @ [-s, c]]
    bottom, top = box.center[2] - box.height / 2.0, box.center[2] + box.height / 2.0
    inside = ((np.abs(local[:, 0]) <= box.length / 2.0 + margin) & (np.abs(local[:, 1]) <= box.width / 2.0 + margin)
              & (crop[:, 2] >= bottom - margin) & (crop[:, 2] <= top + margin) & (h > cfg.ground_height))
    if inside.sum() < 3:
        return box
    xy = crop[inside, :2].astype(np.float64)
    yaw = box.yaw
    if not keep_yaw:
        theta = lshape_angle(xy)
        cands = theta + np.arange(-4, 5) * (np.pi / 2.0)
        yaw = float(cands[np.argmin(np.abs(angle_difference(cands, box.yaw)))])
    c, s = np.cos(yaw), np.sin(yaw)
    u, v = xy @ [c, s], xy @ [-s, c]
    lo, hi = np.array([u.min(), v.min()]), np.array([u.max(), v.max()])
    # A side with points over less than PARTIAL of the box is partly seen: keep the box's size
    # there and move only the face the sensor sees onto the points.
    rough = (box.length, box.width)
    sensor = (0.0, 0.0)
    for k in range(2):
        if hi[k] - lo[k] < PARTIAL * rough[k]:
            lo[k], hi[k] = complete_extent(lo[k], hi[k], rough[k], sensor[k])
    mid = (lo + hi) / 2.0
    center_xy = mid[0] * np.array([c, s]) + mid[1] * np.array([-s, c])
    gz = float(ground.ground_z(center_xy[None])[0])
    top_z = float(crop[inside, 2].max())
    height = max(top_z - gz, 0.1)
    size = np.maximum(hi - lo, 0.05)
    return Cuboid((center_xy[0], center_xy[1], gz + height / 2.0), (size[0], size[1], height), yaw)
