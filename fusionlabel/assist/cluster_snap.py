"""Check a propagated box against its object's own cluster of points, and pull it back onto it.

ICP carries the object's motion from frame to frame, not the box's offset on the object: a box
once off stays off. :func:`snap_to_cluster` clusters the above-ground points around the box in
the new frame on a bird's-eye grid (:func:`~.cluster.cluster_bev`) and takes the cluster holding
most of the box's points. When that cluster is clearly the object (it holds nearly all the box's
points, and is no longer or wider than the box by more than :data:`SPAN_TOLERANCE`: not merged
with a neighbour or a wall), the box keeps its size and heading and, along its heading and
across it separately, is pulled just far enough that the cluster's points no longer stick out
of it (centred on them if they stick out of both faces). A box that holds its object's points
is not moved: points sticking out by less than :data:`OUT` are taken for noise, and a face with
empty space in front of it says nothing (the object's end there may be hidden). A pull of more
than :data:`MAX_SHIFT` is not made (the cluster is then taken for something else).

Tried, not shipped: :func:`~.propagate.propagate_box` runs it only with ``cluster_check=True``,
which ``V`` does not pass; ``benchmarks/bench_assist.py --only chained --cluster-check`` measures
it. On held-out simulated drives it cut the chained centre error (median and 95th percentile)
but the median of single steps from the true box rose by 0.3 mm; figures and the rule it was
held to in docs/prelabel.md, "Propagation (ICP)".
"""

from __future__ import annotations

import numpy as np

from ..geometry.cuboid import Cuboid
from .cluster import cluster_bev

WINDOW = 1.5          # m around the box's footprint whose points are clustered
CELL = 0.2            # m: grid cell of the clustering (points about two cells apart join)
GROW = 0.15           # m added to each side of the box when taking its points
HELD_SHARE = 0.8      # the cluster holds at least this share of the box's points
SPAN_TOLERANCE = 0.6  # m: a cluster longer or wider than the box by more is not the object alone
OUT = 0.1             # m: points sticking out of a face by more than this move the box
MAX_SHIFT = 1.0       # m: larger pulls are not made
MIN_POINTS = 10       # points of the box's own the check needs


def snap_to_cluster(box: Cuboid, points: np.ndarray) -> Cuboid | None:
    """``box`` moved (size, heading and height kept) so that its object's cluster among
    ``points`` (N, 2+; the above-ground points around it in the same frame, xy used) does not
    stick out of it, or None when that cluster is not clearly the object or the pull would be
    implausible (see the module docstring). A box that already holds its cluster comes back
    unchanged."""
    c, s = np.cos(box.yaw), np.sin(box.yaw)
    axes = np.array([[c, s], [-s, c]])               # rows: along the heading, across it
    half = np.array([box.length, box.width]) / 2.0
    centre = np.asarray(box.center[:2], dtype=np.float64)
    local = (np.asarray(points)[:, :2].astype(np.float64) - centre) @ axes.T
    local = local[np.all(np.abs(local) <= half + WINDOW, axis=1)]
    inside = np.all(np.abs(local) <= half + GROW, axis=1)
    if inside.sum() < MIN_POINTS:
        return None
    labels = cluster_bev(local, CELL, gap=1)
    own = int(np.argmax(np.bincount(labels[inside])))
    if (labels[inside] == own).mean() < HELD_SHARE:
        return None
    members = local[labels == own]
    lo, hi = members.min(0), members.max(0)
    if np.any(hi - lo > 2.0 * half + SPAN_TOLERANCE):
        return None
    shift = np.zeros(2)
    for k in range(2):
        out_lo, out_hi = -half[k] - lo[k], hi[k] - half[k]     # how far points stick out of each face
        if out_lo > 0 and out_hi > 0:
            shift[k] = (lo[k] + hi[k]) / 2.0
        elif max(out_lo, out_hi) > OUT:
            shift[k] = max(out_hi, 0.0) - max(out_lo, 0.0)
    if np.hypot(*shift) > MAX_SHIFT:
        return None
    xy = centre + shift @ axes
    return box.with_(center=(xy[0], xy[1], box.center[2]))
