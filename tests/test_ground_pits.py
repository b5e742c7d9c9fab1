"""The ground estimate raises a column more than a metre below the median of its 3 x 3 neighbours
(a multipath return) to that median, and takes that median only where it may be that high: the
same values as a median filter of the whole grid, on sloped ground, at the grid's edges and on a
pit exactly five of whose neighbours stand above it."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from fusionlabel.assist.ground import _lift_pits, estimate_ground


def _reference(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    med = ndimage.median_filter(values, size=3, mode="nearest")
    return np.where(known & (values < med - 1.0), med, values)


def _sloped_grid(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    H, W = 40, 30
    values = 5.0 + 0.15 * np.arange(H)[:, None] + 0.05 * np.arange(W)[None, :] + rng.normal(0, 0.02, (H, W))
    pits = rng.random((H, W)) < 0.08
    values[pits] -= rng.uniform(0.8, 1.6, pits.sum())
    for i, j in ((0, 0), (0, W - 1), (H - 1, 0), (H - 1, W - 1), (0, 12), (H - 1, 7), (20, 0)):
        values[i, j] -= 1.4                 # corners and edges: their neighbourhood repeats the edge
    values[10:13, 10:13] = 5.0              # a pit with exactly five of its nine cells 1.5 m above it
    values[10, 10:13] = values[11, 10] = 6.5
    values[11, 11] = 5.0
    values[11, 12] = 6.5
    values[25:28, 20:23] = 7.0              # and one exactly 1 m below its median: not raised
    values[26, 21] = 6.0
    return values, rng.random((H, W)) < 0.85


def test_pits_are_raised_as_a_median_filter_raises_them():
    for seed in range(20):
        values, known = _sloped_grid(seed)
        want = _reference(values, known)
        got = _lift_pits(values, known, 1.0)
        assert np.array_equal(got, want), seed
        assert (got != values).sum() >= 5            # the test holds pits that are raised
        assert got[26, 21] == 6.0 and (got[11, 11] == 6.5) == known[11, 11]


def test_a_grid_without_pits_is_unchanged():
    values, known = _sloped_grid(0)
    flat = values.copy()
    flat[:] = 5.0 + 0.15 * np.arange(values.shape[0])[:, None]
    assert np.array_equal(_lift_pits(flat, known, 1.0), flat)


def test_a_multipath_return_under_the_road_does_not_pull_the_ground_down():
    """End to end: a road climbing at 10 % with one return 3 m under it keeps its slope there."""
    rng = np.random.default_rng(1)
    xy = rng.uniform(-30.0, 30.0, (20_000, 2))
    z = -1.8 + 0.1 * xy[:, 0]
    points = np.c_[np.vstack([xy, [[12.3, -7.6]]]), np.r_[z, -1.8 + 0.1 * 12.3 - 3.0]]
    grid = estimate_ground(points)
    assert abs(grid.ground_z(np.array([[12.3, -7.6]]))[0] - (-1.8 + 1.23)) < 0.2
