"""Host-side voxelisation against spconv's point-to-voxel (expected values below) and a plain loop."""

import math

import numpy as np
import pytest

from fusionlabel.assist.voxelize import VoxelGrid, voxelize

# A fixed cloud of 30 points on a 0.25 m lattice (exact in float32): some on the range's lower edges
# (in), some on its upper edges or beyond (out).
CLOUD = np.array([
    [1.0, 0.25, -0.5], [0.25, 0.75, -1.0], [0.0, 0.5, -1.25], [0.75, -0.75, -1.0], [-1.25, -0.5, 0.0],
    [-0.75, 0.75, -1.0], [1.0, -1.25, -0.5], [-0.25, 0.75, -1.25], [-1.0, 0.5, 0.75], [-1.0, -0.25, -1.0],
    [0.75, -0.5, -0.5], [-0.5, -0.75, 0.75], [0.5, -0.75, 0.0], [1.0, -0.25, 0.75], [-0.25, 0.0, 0.0],
    [0.0, 0.0, 0.0], [0.0, 1.0, -1.25], [0.75, 0.5, 0.0], [0.5, 0.25, 0.0], [-0.5, 1.0, 0.75],
    [-0.25, -0.75, -0.5], [0.75, -1.0, 0.0], [0.75, 0.25, -1.25], [-1.0, -1.25, -0.5], [-0.25, -1.25, -0.5],
    [-1.0, 0.0, -1.0], [1.0, -0.25, 0.75], [0.75, 1.0, -0.5], [0.75, 0.25, 1.0], [-0.25, 0.0, 0.0]], np.float32)
GRID = dict(voxel_size=(0.5, 0.5, 2.0), point_cloud_range=(-1, -1, -1, 1, 1, 1), max_points_per_voxel=2)

# What spconv 2.3.8's Point2VoxelCPU3d gives for CLOUD and GRID (max_voxels 100, then 4): the cell
# of each voxel as it states them (z, y, x) and the indices of the points in each voxel's rows.
SPCONV_CELLS_ZYX = [[0, 3, 2], [0, 0, 3], [0, 3, 0], [0, 1, 0], [0, 1, 3], [0, 0, 1], [0, 2, 1], [0, 2, 2],
                    [0, 3, 3], [0, 2, 3], [0, 2, 0]]
SPCONV_MEMBERS = [[1], [3, 12], [5, 8], [9], [10], [11, 20], [14, 29], [15], [17], [18], [25]]


def rows_as_members(vox, cloud):
    """The index in ``cloud`` of each voxel's rows (rows hold x, y, z, index)."""
    return [[int(r[3]) for r in vox.features[k, :n]] for k, n in enumerate(vox.num_points)]


@pytest.mark.parametrize("max_voxels", [100, 4])
def test_voxels_match_spconv_on_a_fixed_cloud(max_voxels):
    cloud = np.c_[CLOUD, np.arange(len(CLOUD))].astype(np.float32)
    vox = voxelize(cloud[:, :3], cloud, VoxelGrid(**GRID, max_voxels=max_voxels))
    count = min(max_voxels, len(SPCONV_MEMBERS))
    assert vox.cells_xyz[:, ::-1].tolist() == SPCONV_CELLS_ZYX[:count]
    assert rows_as_members(vox, cloud) == SPCONV_MEMBERS[:count]
    assert vox.features.shape == (count, 2, 4)
    for k, n in enumerate(vox.num_points):
        assert not vox.features[k, n:].any()               # zero padding after each voxel's points
    assert vox.dropped_voxels == len(SPCONV_MEMBERS) - count
    # a voxel left out holds its in-range points: all of them, also those beyond max_points_per_voxel
    assert vox.dropped_points == (0 if max_voxels == 100 else 9)


def loop_voxelize(points, voxel_size, point_cloud_range, max_points_per_voxel, max_voxels, keep="first"):
    """Voxels written from the definition, point by point: {cell (x, y, z): [point indices]} in order
    of appearance, the first ``max_points_per_voxel`` of each, ``max_voxels`` cells kept by ``keep``."""
    f32 = np.float32
    shape = [round(float((f32(point_cloud_range[a + 3]) - f32(point_cloud_range[a])) / f32(voxel_size[a])))
             for a in range(3)]
    cells = {}
    for i, p in enumerate(points):
        cell = tuple(math.floor((f32(p[a]) - f32(point_cloud_range[a])) / f32(voxel_size[a])) for a in range(3))
        if all(0 <= c < n for c, n in zip(cell, shape)):
            cells.setdefault(cell, []).append(i)
    order = list(cells)
    if keep == "nearest":
        def distance(cell):
            centre = [float(f32(point_cloud_range[a])) + (cell[a] + 0.5) * float(f32(voxel_size[a])) for a in (0, 1)]
            return centre[0] ** 2 + centre[1] ** 2
        nearest = sorted(order, key=lambda c: (distance(c), order.index(c)))[:max_voxels]
        order = [c for c in order if c in nearest]
    return {c: cells[c][:max_points_per_voxel] for c in order[:max_voxels]}


@pytest.mark.parametrize("keep, max_voxels", [("first", 10_000), ("first", 40), ("nearest", 40)])
def test_voxels_match_a_plain_loop_on_a_random_cloud(keep, max_voxels):
    rng = np.random.default_rng(5)
    cloud = rng.normal([0, 0, 0], [6, 6, 1.5], (3000, 3)).astype(np.float32)
    cloud = np.r_[cloud, cloud[:200] + 0.01]                   # crowded cells: more points than fit
    spec = dict(voxel_size=(0.8, 0.6, 1.0), point_cloud_range=(-8, -6.5, -2, 8.8, 7, 2), max_points_per_voxel=5,
                max_voxels=max_voxels)
    want = loop_voxelize(cloud, **spec, keep=keep)
    features = np.c_[cloud, np.arange(len(cloud))].astype(np.float32)
    vox = voxelize(cloud, features, VoxelGrid(**spec, keep=keep))
    assert [tuple(c) for c in vox.cells_xyz.tolist()] == list(want)
    assert [[int(r[3]) for r in vox.features[k, :n]] for k, n in enumerate(vox.num_points)] == list(want.values())
    assert (vox.num_points == [len(m) for m in want.values()]).all()
    all_cells = loop_voxelize(cloud, **{**spec, "max_voxels": 10 ** 9, "max_points_per_voxel": 10 ** 9})
    assert vox.dropped_voxels == len(all_cells) - len(want)
    assert vox.dropped_points == sum(len(m) for c, m in all_cells.items() if c not in want)
    if max_voxels < len(all_cells):
        assert vox.dropped_voxels > 0


def test_an_empty_or_out_of_range_sweep_has_no_voxels():
    grid = VoxelGrid(**GRID, max_voxels=10)
    vox = voxelize(np.zeros((0, 3), np.float32), np.zeros((0, 4), np.float32), grid)
    assert vox.features.shape == (0, 2, 4) and vox.num_points.shape == (0,) and vox.cells_xyz.shape == (0, 3)
    far = np.full((5, 3), 50.0, np.float32)
    assert len(voxelize(far, far, grid).num_points) == 0


def test_points_with_nan_or_inf_fall_in_no_voxel():
    grid = VoxelGrid(**GRID, max_voxels=10)
    bad = np.array([[np.nan, 0, 0], [0, np.inf, 0], [-np.inf, 0, 0], [0.1, 0.1, 0.1]], np.float32)
    with np.errstate(all="raise"):
        vox = voxelize(bad, bad, grid)
    assert vox.num_points.tolist() == [1] and vox.cells_xyz.tolist() == [[2, 2, 0]]
