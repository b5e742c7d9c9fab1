"""Clustering of above-ground points: connected components of a bird's-eye occupancy grid.

Points are binned into ``cell`` x ``cell`` columns; occupied columns that touch (8-connected),
or that are at most ``gap`` empty cells apart, form one object. Cost is linear in the number of
points plus the grid size, so a 120k-point sweep clusters in a few milliseconds.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..geometry.transforms import arctan2

_EIGHT = np.ones((3, 3), bool)


def cluster_bev(xy: np.ndarray, cell: float = 0.2, gap: int = 1, min_points: int = 1) -> np.ndarray:
    """Cluster (N, 2+) positions; returns labels (N,) int64, -1 for clusters under ``min_points``.

    Labels are 0..K-1 in order of first appearance of the component in the grid.
    """
    xy = np.asarray(xy)[:, :2]
    n = xy.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    lo = xy.min(axis=0)
    ij = ((xy - lo) / cell).astype(np.int64) + gap
    H, W = ij.max(axis=0) + 1 + gap
    occ = np.zeros((H, W), bool)
    occ[ij[:, 0], ij[:, 1]] = True
    grown = ndimage.binary_dilation(occ, structure=_EIGHT, iterations=gap) if gap > 0 else occ
    comp, ncomp = ndimage.label(grown, structure=_EIGHT)
    labels = comp[ij[:, 0], ij[:, 1]].astype(np.int64) - 1
    if min_points > 1 and ncomp:
        counts = np.bincount(labels, minlength=ncomp)
        small = counts < min_points
        if small.any():
            remap = np.full(ncomp, -1, np.int64)
            remap[~small] = np.arange(int((~small).sum()))
            labels = remap[labels]
    return labels


def split_by_label(labels: np.ndarray) -> list[np.ndarray]:
    """Indices of the members of each label 0..K-1 (label -1 skipped), each (n_k,) int64."""
    valid = np.flatnonzero(labels >= 0)
    if valid.size == 0:
        return []
    order = valid[np.argsort(labels[valid], kind="stable")]
    sorted_labels = labels[order]
    cuts = np.flatnonzero(np.diff(sorted_labels)) + 1
    return np.split(order, cuts)


def merge_hidden_parts(xy: np.ndarray, heights: np.ndarray, labels: np.ndarray, max_gap: float = 1.5,
                       floating: float = 0.6, overlap: float = 0.5) -> np.ndarray:
    """Join each *floating* cluster (no point lower than ``floating`` m above ground) to the cluster
    in front of it along the line of sight: a car seen from ahead or behind shows its bumper, then
    nothing where the bonnet is too flat to return, then its windscreen and roof, more than a BEV
    gap apart. Parts are joined when their azimuth intervals overlap by ``overlap`` of the narrower
    one and the floating part starts at most ``max_gap`` m behind the nearer one ends.

    ``xy`` (N, 2) with the sensor at the origin, ``heights`` (N,) above ground, ``labels`` (N,) from
    :func:`cluster_bev`; returns new labels (N,), clusters renumbered 0..K'-1 (-1 kept).
    """
    valid = labels >= 0
    if not valid.any():
        return labels
    k = int(labels.max()) + 1
    lab = labels[valid]
    p = np.asarray(xy, dtype=np.float64)[valid]
    h = np.asarray(heights)[valid]
    rng = np.hypot(p[:, 0], p[:, 1])
    az = arctan2(p[:, 1], p[:, 0])
    # azimuth of each cluster's mean direction, and its points' spread around it
    mean_az = np.arctan2(np.bincount(lab, np.sin(az), k), np.bincount(lab, np.cos(az), k))
    rel = np.angle(np.exp(1j * (az - mean_az[lab])))
    lo = np.full(k, np.inf)
    hi = np.full(k, -np.inf)
    np.minimum.at(lo, lab, rel)
    np.maximum.at(hi, lab, rel)
    near = np.full(k, np.inf)
    far = np.full(k, -np.inf)
    bottom = np.full(k, np.inf)
    np.minimum.at(near, lab, rng)
    np.maximum.at(far, lab, rng)
    np.minimum.at(bottom, lab, h)
    fl = np.flatnonzero(bottom > floating)
    if fl.size == 0:
        return labels
    # intervals of every cluster expressed around each floating cluster's direction: (F, K)
    shift = np.angle(np.exp(1j * (mean_az[None, :] - mean_az[fl, None])))
    a_lo, a_hi = shift + lo[None, :], shift + hi[None, :]
    common = np.minimum(a_hi, hi[fl, None]) - np.maximum(a_lo, lo[fl, None])
    narrow = np.minimum(hi[fl, None] - lo[fl, None], hi[None, :] - lo[None, :])
    gap = near[fl, None] - far[None, :]
    ok = (common >= overlap * np.maximum(narrow, 1e-4)) & (gap > -0.3) & (gap <= max_gap)
    ok[np.arange(fl.size), fl] = False
    parent = np.arange(k)
    for i, f in enumerate(fl):
        cand = np.flatnonzero(ok[i])
        if cand.size:
            parent[f] = cand[np.argmax(far[cand])]      # the nearest part in front of it
    for _ in range(k):                                   # resolve chains
        nxt = parent[parent]
        if np.array_equal(nxt, parent):
            break
        parent = nxt
    _, new = np.unique(parent, return_inverse=True)
    out = labels.copy()
    out[valid] = new[lab]
    return out
