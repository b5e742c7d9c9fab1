"""One-click boxes and auto-fit: the two interactive helpers of the annotation tools.

:func:`one_click_box` grows the object under a seed point (local ground removed, BEV connected
component containing the seed), fits an L-shape box, completes hidden sides from the class prior
and picks the class. :func:`auto_fit` tightens a rough box to the points inside it (plus a margin),
keeping its yaw or re-estimating it, and snaps its bottom to the local ground. Both look at the
points within a few metres only, so they run in milliseconds on a full sweep.
"""

from __future__ import annotations

import numpy as np

from ..geometry.cuboid import Cuboid
from ..geometry.transforms import angle_difference
from ..model.annotation import CuboidLabel
from .boxfit import complete_extent, lshape_angle
from .builtin import box_from_cluster
from .cluster import cluster_bev
from .config import BuiltinConfig
from .ground import estimate_ground

PARTIAL = 0.6      # auto-fit: a side whose points span less than this share of the box is partly seen
SEED_REACH = 1.0   # metres: the seed must lie this close (xy) to an object point
UNSURE_SCORE = 0.3   # one-click: a class scoring under this is a guess ...
GROWTH_LIMIT = 2.0   # ... and may not grow the box past this many times the seen area


def _crop(points: np.ndarray, center_xy, half: float) -> np.ndarray:
    """Points (M, C) whose xy lies in the square of half-side ``half`` around ``center_xy``."""
    d = np.abs(points[:, :2] - np.asarray(center_xy, dtype=points.dtype))
    return points[(d[:, 0] <= half) & (d[:, 1] <= half)]


def _local_ground(crop: np.ndarray, cfg: BuiltinConfig):
    return estimate_ground(crop, cfg.ground_cell, tuple(w for w in cfg.ground_windows if w <= 9),
                           cfg.ground_slope, cfg.ground_step, np.inf)


def one_click_box(points: np.ndarray, seed, config: BuiltinConfig | None = None, radius: float = 7.0
                  ) -> CuboidLabel | None:
    """Box of the object under ``seed`` (x, y[, z]) in a (N, 3+) sweep, or None on bare ground.

    The returned label has the best class by size priors (``"Object"`` when none fits) and its
    score; the box stands on the local ground.
    """
    cfg = config or BuiltinConfig()
    seed = np.asarray(seed, dtype=np.float64).reshape(-1)
    crop = _crop(np.asarray(points), seed[:2], radius)
    if len(crop) < 3:
        return None
    ground = _local_ground(crop, cfg)
    h = ground.height_above(crop)
    obj = (h > cfg.ground_height) & (h < cfg.max_height)
    xy = crop[obj, :2].astype(np.float64)
    if len(xy) < 3:
        return None
    d2 = ((xy - seed[:2]) ** 2).sum(1)
    nearest = int(np.argmin(d2))
    if d2[nearest] > SEED_REACH ** 2:
        return None
    labels = cluster_bev(xy, cfg.cluster_cell, cfg.cluster_gap)
    members = labels == labels[nearest]
    from .boxfit import rect_at_angle

    pts, hh = xy[members], h[obj][members]
    rect = rect_at_angle(pts, lshape_angle(pts))
    found = box_from_cluster(pts, hh, ground, cfg.with_(min_score=0.0))
    if found is not None and not _unexplained_growth(found, rect):
        return found
    c = rect.center
    gz = float(ground.ground_z(c[None])[0])
    top = float(max(hh.max(), 0.3))
    box = Cuboid((c[0], c[1], gz + top / 2.0), (*np.maximum(rect.size, 0.1), top), rect.angle)
    return CuboidLabel(box, "Object", None, 0.0, "model", {"num_points": int(members.sum())})


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
