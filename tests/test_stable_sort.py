"""The app's fast stable argsort against NumPy's stable merge sort, with ties, signed zeros, NaN
of either sign, infinities, and integer keys of narrow and wide ranges."""

from __future__ import annotations

import numpy as np
import pytest

from fusionlabel.app.stable_sort import stable_argsort


def float_cases(rng):
    few = rng.choice(np.array([-2.5, -0.0, 0.0, 1.25, np.inf, -np.inf], np.float32), 5000)
    heights = rng.normal(0.0, 1.5, 200_000).astype(np.float32)
    heights[rng.integers(0, len(heights), 3000)] = np.float32(0.5)  # many ties
    nan = rng.normal(0.0, 1e30, 4000).astype(np.float32)
    nan[::7] = np.nan
    nan[3::11] = -np.float32(np.nan)  # a NaN with its sign bit set
    tiny = np.array([1e-45, -1e-45, 0.0, -0.0, 1e-38, -1e-38] * 50, np.float32)  # subnormals
    return [few, heights, nan, tiny, np.zeros(0, np.float32), np.array([3.0], np.float32)]


def int_cases(rng):
    return [rng.integers(0, 3000, 300_000), rng.integers(-5, 40_000, 10_000).astype(np.int32),
            rng.integers(0, 4_000_000, 300_000), rng.integers(-(1 << 40), 1 << 40, 5000),
            rng.integers(0, 2, 1000).astype(np.uint8), np.full(100, 7, np.int64)]


@pytest.mark.parametrize("kind", ["float32", "int"])
def test_same_order_as_numpy_stable_sort(kind):
    rng = np.random.default_rng(1)
    for values in (float_cases if kind == "float32" else int_cases)(rng):
        got = stable_argsort(values)
        assert np.array_equal(got, np.argsort(values, kind="stable")), (values.dtype, len(values))
        assert got.dtype == np.int64 or len(values) == 0


def test_other_types_fall_back_to_numpy():
    values = np.random.default_rng(2).normal(size=1000)  # float64
    assert np.array_equal(stable_argsort(values), np.argsort(values, kind="stable"))
