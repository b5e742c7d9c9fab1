"""Host-side voxelisation of a sweep into pillars/voxels, as exported pillar and voxel models take them.

The semantics are those of the common implementations (mmcv's hard voxelisation, spconv's point-to-voxel,
which OpenPCDet and mmdet3d use): a point's cell is ``floor((p - range_min) / voxel_size)`` per axis, the
grid has ``round((range_max - range_min) / voxel_size)`` cells per axis, and a point whose cell falls
outside the grid is dropped. Voxels are numbered in the order their first point appears in the sweep;
each keeps its first ``max_points_per_voxel`` points in sweep order, the rest of its rows zero. When a
sweep fills more than ``max_voxels`` voxels, ``keep="first"`` keeps the first ``max_voxels`` to appear
(what those implementations do), ``keep="nearest"`` the ones whose centres lie nearest the sensor in
x, y (kept voxels stay in order of appearance). Arithmetic is in float32, as theirs is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KEEP_RULES = ("first", "nearest")


@dataclass(frozen=True)
class VoxelGrid:
    """A voxel grid: ``voxel_size`` (3,) in m, ``point_cloud_range`` (6,) = x, y, z min then max, and
    the limits ``max_points_per_voxel`` and ``max_voxels``; ``keep`` says which voxels stay beyond
    ``max_voxels`` ("first" or "nearest")."""

    voxel_size: tuple[float, float, float]
    point_cloud_range: tuple[float, float, float, float, float, float]
    max_points_per_voxel: int
    max_voxels: int
    keep: str = "first"

    @property
    def shape_xyz(self) -> np.ndarray:
        """Cells along x, y, z, shape (3,) int64."""
        low, high = self._bounds()
        return np.round((high - low) / np.asarray(self.voxel_size, np.float32)).astype(np.int64)

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        r = np.asarray(self.point_cloud_range, np.float32)
        return r[:3], r[3:]


@dataclass
class Voxels:
    """A voxelised sweep: ``features`` (P, M, C) float32, ``num_points`` (P,) int64 (1..M),
    ``cells_xyz`` (P, 3) int64 cell indices x, y, z; ``dropped_voxels`` and ``dropped_points``: the
    voxels beyond ``max_voxels`` that were left out and the in-range points they held."""

    features: np.ndarray
    num_points: np.ndarray
    cells_xyz: np.ndarray
    dropped_voxels: int = 0
    dropped_points: int = 0


def voxelize(points_xyz: np.ndarray, features: np.ndarray, grid: VoxelGrid) -> Voxels:
    """The voxels of a sweep: ``points_xyz`` (N, 3) place the points, ``features`` (N, C) are what each
    voxel row holds (semantics in the module docstring)."""
    xyz = np.asarray(points_xyz, np.float32)
    features = np.asarray(features, np.float32)
    low, _ = grid._bounds()
    shape = grid.shape_xyz
    cells_float = np.floor((xyz - low) / np.asarray(grid.voxel_size, np.float32))
    fits = (cells_float >= 0) & (cells_float < shape.astype(np.float32))    # NaN fits nowhere
    inside = np.flatnonzero(fits[:, 0] & fits[:, 1] & fits[:, 2])
    cells = cells_float[inside].astype(np.int64)
    linear = (cells[:, 2] * shape[1] + cells[:, 1]) * shape[0] + cells[:, 0]
    order = np.argsort(linear, kind="stable")           # points grouped by cell, sweep order within a cell
    sorted_linear = linear[order]
    opens = np.ones(len(order), bool)
    opens[1:] = sorted_linear[1:] != sorted_linear[:-1]
    starts = np.flatnonzero(opens)
    group = np.cumsum(opens) - 1                        # the cell (in sorted order) of each sorted point
    rank = np.arange(len(order)) - starts[group]        # place of a point within its cell, in sweep order
    first_point = order[starts]                         # each cell's first point, an index into ``inside``
    counts = np.diff(np.r_[starts, len(order)])
    kept = _kept_cells(first_point, cells[first_point], grid)
    by_appearance = kept[np.argsort(first_point[kept], kind="stable")]
    voxel_of_cell = np.full(len(starts), -1, np.int64)
    voxel_of_cell[by_appearance] = np.arange(len(by_appearance))
    m = grid.max_points_per_voxel
    take = (rank < m) & (voxel_of_cell[group] >= 0)
    out = np.zeros((len(by_appearance), m, features.shape[1]), np.float32)
    out.reshape(-1, features.shape[1])[voxel_of_cell[group[take]] * m + rank[take]] = features[inside[order[take]]]
    dropped = len(starts) - len(by_appearance)
    return Voxels(out, np.minimum(counts[by_appearance], m), cells[first_point[by_appearance]], dropped,
                  int(counts.sum() - counts[by_appearance].sum()))


def _kept_cells(first_point: np.ndarray, cells_xyz: np.ndarray, grid: VoxelGrid) -> np.ndarray:
    """Indices of the occupied cells that stay (all when they are at most ``max_voxels``)."""
    if len(first_point) <= grid.max_voxels:
        return np.arange(len(first_point))
    if grid.keep == "first":
        return np.argsort(first_point, kind="stable")[:grid.max_voxels]
    low, _ = grid._bounds()
    size = np.asarray(grid.voxel_size, np.float32)
    centres = low[:2] + (cells_xyz[:, :2] + 0.5) * size[:2]
    distance = np.einsum("ij,ij->i", centres, centres)
    ties_by_appearance = np.argsort(first_point, kind="stable")
    return ties_by_appearance[np.argsort(distance[ties_by_appearance], kind="stable")[:grid.max_voxels]]
