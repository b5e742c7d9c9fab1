"""Overlap of cuboids: exact bird's-eye-view IoU of rotated boxes and 3D IoU.

BEV overlap uses the yaw-only footprints (pitch and roll ignored); 3D IoU multiplies the BEV
intersection area by the overlap of the z extents, which is exact for upright boxes.
"""

from __future__ import annotations

import numpy as np

from .cuboid import Cuboid
from .polygon import convex_intersection_area


def _radius_xy(box: Cuboid) -> float:
    return 0.5 * float(np.hypot(box.length, box.width))


def _may_overlap(a: Cuboid, b: Cuboid) -> bool:
    dx = a.center[0] - b.center[0]
    dy = a.center[1] - b.center[1]
    return dx * dx + dy * dy <= (_radius_xy(a) + _radius_xy(b)) ** 2


def bev_intersection(a: Cuboid, b: Cuboid) -> float:
    """Area (m²) of the intersection of the two footprints."""
    if not _may_overlap(a, b):
        return 0.0
    return convex_intersection_area(a.bev_polygon(), b.bev_polygon())


def bev_iou(a: Cuboid, b: Cuboid) -> float:
    """Intersection over union of the two footprints, in [0, 1]."""
    inter = bev_intersection(a, b)
    if inter <= 0.0:
        return 0.0
    union = a.length * a.width + b.length * b.width - inter
    return float(min(1.0, inter / union))


def _z_overlap(a: Cuboid, b: Cuboid) -> float:
    lo = max(a.center[2] - a.height / 2.0, b.center[2] - b.height / 2.0)
    hi = min(a.center[2] + a.height / 2.0, b.center[2] + b.height / 2.0)
    return max(0.0, hi - lo)


def iou_3d(a: Cuboid, b: Cuboid) -> float:
    """Volume intersection over union: BEV intersection × z overlap, in [0, 1]."""
    dz = _z_overlap(a, b)
    if dz <= 0.0:
        return 0.0
    inter = bev_intersection(a, b) * dz
    if inter <= 0.0:
        return 0.0
    return float(min(1.0, inter / (a.volume() + b.volume() - inter)))


def iou_matrix(boxes_a: list[Cuboid], boxes_b: list[Cuboid], kind: str = "bev",
               pairs: np.ndarray | None = None) -> np.ndarray:
    """Pairwise IoU, shape (len(a), len(b)); ``kind`` is "bev" or "3d". Far pairs are skipped cheaply;
    so are the pairs that ``pairs`` (a bool array of that shape, when given) leaves False (0 there)."""
    fn = {"bev": bev_iou, "3d": iou_3d}[kind]
    out = np.zeros((len(boxes_a), len(boxes_b)))
    if not boxes_a or not boxes_b:
        return out
    ca = np.array([b.center[:2] for b in boxes_a])
    cb = np.array([b.center[:2] for b in boxes_b])
    ra = np.array([_radius_xy(b) for b in boxes_a])
    rb = np.array([_radius_xy(b) for b in boxes_b])
    d2 = ((ca[:, None, :] - cb[None, :, :]) ** 2).sum(-1)
    close = d2 <= (ra[:, None] + rb[None, :]) ** 2
    if pairs is not None:
        close &= pairs
    for i, j in zip(*np.nonzero(close)):
        out[i, j] = fn(boxes_a[i], boxes_b[j])
    return out
