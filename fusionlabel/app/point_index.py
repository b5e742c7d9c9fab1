"""A grid index over a sweep's xy plane for fast "which points are in or near this box" queries.

Qt-free. Built once per frame (in the loader thread); a query touches only the points in the
cells under the box's axis-aligned footprint instead of the whole sweep.
"""

from __future__ import annotations

import numpy as np

from ..geometry.cuboid import Cuboid
from ..render.colors import colormap
from .stable_sort import stable_argsort

MAX_CELLS = 4_000_000
OUTSIDE_GREY = 110  # a side view's points outside the box


def crop_margin(box: Cuboid) -> float:
    """Metres around a box whose points the side views show."""
    return max(0.6, 0.35 * max(box.size))


def crop_colors(local: np.ndarray, size) -> np.ndarray:
    """(M, 3) uint8 side-view colours of points given in a box's frame (M, 3): inside the box of
    ``size`` (boundary included) by their height in it, the rest grey."""
    half = np.asarray(size, float) / 2.0
    inside = np.all(np.abs(local) <= half, axis=1)
    colors = np.full((len(local), 3), OUTSIDE_GREY, np.uint8)
    if inside.any():
        colors[inside] = colormap(local[inside, 2], -half[2], half[2])
    return colors


class PointGrid:
    """Points (N, C) binned into square xy cells of ``cell`` metres (non-finite points skipped)."""

    def __init__(self, points: np.ndarray, cell: float = 2.0):
        self.points = points
        n = len(points)
        # Column by column: a large sweep's build time is mostly element-wise passes over it.
        ok = np.isfinite(points[:, 0]) & np.isfinite(points[:, 1]) & np.isfinite(points[:, 2]) if n else None
        finite = None if n and ok.all() else np.flatnonzero(ok) if n else np.empty(0, np.int64)
        x, y = (points[:, 0], points[:, 1]) if finite is None else (points[finite, 0], points[finite, 1])
        if not (points.dtype == np.float32 and np.frexp(cell)[0] == 0.5):
            x, y = x.astype(np.float64), y.astype(np.float64)  # float32 / a power of two is exact
        if len(x):
            span = np.array([np.ptp(x), np.ptp(y)], np.float64) + cell
            while (span[0] / cell + 1) * (span[1] / cell + 1) > MAX_CELLS:  # far outliers: coarser cells
                cell *= 2.0
        self.cell = cell
        ix = np.floor(x / x.dtype.type(cell)).astype(np.int64)
        iy = np.floor(y / y.dtype.type(cell)).astype(np.int64)
        self.origin = np.array([ix.min(), iy.min()]) if len(ix) else np.zeros(2, np.int64)
        ix -= self.origin[0]
        iy -= self.origin[1]
        self.nx, self.ny = (int(ix.max()) + 1, int(iy.max()) + 1) if len(ix) else (0, 0)
        key = ix * self.ny + iy
        order = stable_argsort(key)
        self.sorted_index = order if finite is None else finite[order]
        counts = np.bincount(key, minlength=int(self.nx * self.ny)) if len(key) else np.zeros(0, np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def candidates(self, x_min: float, x_max: float, y_min: float, y_max: float) -> np.ndarray:
        """Row indices (M,) of points in the cells overlapping the xy rectangle (a superset)."""
        if self.nx == 0:
            return np.empty(0, np.int64)
        lo = np.floor(np.array([x_min, y_min]) / self.cell).astype(np.int64) - self.origin
        hi = np.floor(np.array([x_max, y_max]) / self.cell).astype(np.int64) - self.origin
        ix0, iy0 = max(int(lo[0]), 0), max(int(lo[1]), 0)
        ix1, iy1 = min(int(hi[0]), self.nx - 1), min(int(hi[1]), self.ny - 1)
        if ix0 > ix1 or iy0 > iy1:
            return np.empty(0, np.int64)
        rows = np.arange(ix0, ix1 + 1) * self.ny
        starts, stops = self.offsets[rows + iy0], self.offsets[rows + iy1 + 1]
        return np.concatenate([self.sorted_index[a:b] for a, b in zip(starts, stops)])

    def near_box(self, box: Cuboid, margin: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Points within ``margin`` metres of the box (each axis): row indices (M,) and their
        coordinates in the box frame (M, 3), x along the heading, y left, z up."""
        corners = box.corners()[:, :2]
        lo, hi = corners.min(axis=0) - margin, corners.max(axis=0) + margin
        idx = self.candidates(lo[0], hi[0], lo[1], hi[1])
        local = (self.points[idx, :3].astype(np.float64) - np.asarray(box.center)) @ box.rotation()
        half = np.asarray(box.size) / 2.0 + margin
        keep = np.all(np.abs(local) <= half, axis=1)
        return idx[keep], local[keep]

    def count_in_box(self, box: Cuboid) -> int:
        """Number of points inside the box (boundary included)."""
        return int(len(self.near_box(box)[0]))
