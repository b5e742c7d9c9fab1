"""count_points_in_cuboids: the culled count equals the full points-inside test and Open3D's
oriented boxes, on real KITTI sweeps and on adversarial boxes (thin, far, tilted, grown)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fusionlabel.geometry.cuboid import CORNER_SIGNS, Cuboid, count_points_in_cuboids, points_in_cuboid
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.qa.datasets import count_points


def brute_force(points, boxes, margin=0.0) -> list[int]:
    return [int(points_in_cuboid(points, b, margin).sum()) for b in boxes]


def random_boxes(rng, n, spread=60.0, tilt=True):
    out = []
    for _ in range(n):
        out.append(Cuboid(rng.uniform(-spread, spread, 3) * (1, 1, 0.05), rng.uniform(0.3, 8.0, 3),
                          rng.uniform(-math.pi, math.pi), *(rng.uniform(-0.4, 0.4, 2) if tilt else (0.0, 0.0))))
    return out


def test_real_kitti_counts_equal_the_full_test(kitti_object):
    """Real sweeps with their labelled boxes and with random boxes all over them (points_in_cuboid
    itself is checked against Open3D in test_kitti.py)."""
    from fusionlabel.io.kitti import open_kitti_object

    drive = open_kitti_object(kitti_object)
    rng = np.random.default_rng(3)
    labelled = 0
    for i in range(len(drive)):
        points = drive.points(i)
        labels = [lab.box for lab in drive.labels(i)]
        boxes = labels + random_boxes(rng, 100, spread=30.0)
        counts = count_points_in_cuboids(points, boxes)
        assert counts.dtype == np.int64 and counts.tolist() == brute_force(points, boxes)
        labelled += int(counts[:len(labels)].sum())
    assert labelled > 1000   # the labelled boxes really hold points (README: every GT box has returns)


@pytest.mark.parametrize("margin", [0.0, 0.3])
def test_random_tilted_boxes_equal_full_test(margin):
    rng = np.random.default_rng(5)
    points = rng.uniform([-70, -70, -3, 0], [70, 70, 3, 1], (60_000, 4)).astype(np.float32)
    boxes = random_boxes(rng, 80)
    # put points right at every corner and face centre, where a too-tight cull would drop them
    extra = np.concatenate([np.concatenate([b.corners(), [b.center]]) for b in boxes])
    points = np.concatenate([points, np.c_[extra, np.zeros(len(extra))].astype(np.float32)])
    counts = count_points_in_cuboids(points, boxes, margin)
    assert counts.tolist() == brute_force(points, boxes, margin)
    assert (counts > 0).sum() >= 40


def test_thin_far_boxes_keep_boundary_points():
    """Flat boxes far from the origin, turned so that their footprint diagonal lies along x: their
    corners reach the edge of the cull window, and rounded to float32 they must still be counted
    exactly as the full test counts them (a window without slack misses some here)."""
    size = np.array([4.0, 1.8, 1e-4])
    yaw = -math.atan2(size[1], size[0])
    boxes = [Cuboid((150.0 + 0.37 * k, -120.0 + 0.11 * k, 1.0), size, yaw + math.pi * (k % 2)) for k in range(40)]
    for shrink in (0.0, 1e-7, 1e-6):
        corners = np.concatenate([(CORNER_SIGNS * size * (1 - shrink)) @ b.rotation().T + b.center for b in boxes])
        points = corners.astype(np.float32)
        assert count_points_in_cuboids(points, boxes).tolist() == brute_force(points, boxes)
    own = [int(points_in_cuboid(corners[8 * k:8 * k + 8], b).sum()) for k, b in enumerate(boxes)]
    assert own == [8] * len(boxes)   # float64 corners shrunk by 1e-6 are inside their own box
    assert count_points_in_cuboids(corners, boxes).tolist() == brute_force(corners, boxes)


def test_empty_inputs():
    box = Cuboid((0, 0, 0), (1, 1, 1))
    assert count_points_in_cuboids(np.zeros((0, 4), np.float32), [box]).tolist() == [0]
    assert count_points_in_cuboids(np.ones((5, 3)), []).shape == (0,)


def test_qa_and_export_counts_use_the_same_rule():
    rng = np.random.default_rng(9)
    points = rng.uniform([-30, -30, -2, 0], [30, 30, 2, 1], (20_000, 4)).astype(np.float32)
    boxes = random_boxes(rng, 25, spread=25.0, tilt=False)
    expected = brute_force(points, boxes)
    assert count_points(points, [CuboidLabel(b, "car") for b in boxes]).tolist() == expected
    assert count_points_in_cuboids(points, boxes).tolist() == expected
