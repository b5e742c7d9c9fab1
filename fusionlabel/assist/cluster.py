"""Clustering of above-ground points: connected components of a bird's-eye occupancy grid.

Points are binned into ``cell`` x ``cell`` columns; occupied columns that touch (8-connected),
or that are at most ``gap`` empty cells apart, form one object. Cost is linear in the number of
points plus the grid size, so a 120k-point sweep clusters in a few milliseconds.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

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
