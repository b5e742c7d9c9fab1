"""The sweep indexes of the label checks give what a test of every return gives: the returns near a
box's centre exactly, every return in a box's cone from the sensor (and some beside it), and so the
same counts of returns in and through boxes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fusionlabel.geometry.cuboid import Cuboid, points_in_cuboid
from fusionlabel.qa.box_checks import OBJECT_MARGIN, see_through
from fusionlabel.qa.sweep_index import SweepByX, SweepRays
from fusionlabel.qa.track_presence import object_returns
from test_label_check_arrays import clear_of_ground


def sweep(n: int = 20_000, seed: int = 0) -> np.ndarray:
    """Returns all round the sensor (float32, x y z intensity), some straight above and below it."""
    rng = np.random.default_rng(seed)
    azimuth = rng.uniform(-math.pi, math.pi, n)
    azimuth[:50] = math.pi                  # on the seam of the azimuths
    elevation = rng.uniform(-0.4, 0.25, n)
    elevation[50:60] = rng.choice([-math.pi / 2, math.pi / 2], 10)
    r = rng.uniform(1.0, 60.0, n)
    xyz = np.c_[r * np.cos(elevation) * np.cos(azimuth), r * np.cos(elevation) * np.sin(azimuth), r * np.sin(elevation)]
    return np.c_[xyz, rng.uniform(0, 1, n)].astype(np.float32)


def boxes(seed: int = 1) -> list[Cuboid]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(300):
        d, az, z = rng.uniform(0.5, 40.0), rng.uniform(-math.pi, math.pi), rng.uniform(-2.0, 3.0)
        out.append(Cuboid((d * math.cos(az), d * math.sin(az), z), tuple(rng.uniform(0.3, 6.0, 3)), rng.uniform(-3, 3)))
    out += [Cuboid((-10.0, 0.01, 0.0), (4.0, 2.0, 1.5), 0.0), Cuboid((-10.0, -0.01, 0.0), (4.0, 2.0, 1.5), 0.0),
            Cuboid((0.5, 0.3, 8.0), (2.0, 2.0, 2.0), 0.0), Cuboid((0.2, 0.0, -6.0), (1.0, 1.0, 1.0), 0.0)]
    return out


def test_near_is_exactly_the_returns_around_a_centre():
    points = sweep()
    index = SweepByX(points)
    p = points[:, :3]
    for box in boxes():
        for reach in (0.5, 3.0, 10.0):
            want = p[(np.abs(p[:, 0] - box.center[0]) <= reach) & (np.abs(p[:, 1] - box.center[1]) <= reach)]
            got = index.near(box.center, reach)
            assert sorted(map(tuple, got)) == sorted(map(tuple, want))


def test_cone_holds_every_return_whose_ray_is_within_it():
    points = sweep()
    index = SweepRays(points)
    p = points[:, :3].astype(np.float64)
    unit = p / np.linalg.norm(p, axis=1)[:, None]
    smaller = 0
    for box in boxes():
        centre = np.asarray(box.center)
        dist = float(np.linalg.norm(centre))
        radius = float(np.linalg.norm(box.size)) / 2.0
        if dist <= radius:
            continue
        angle = np.arccos(np.clip(unit @ (centre / dist), -1.0, 1.0))
        within = {tuple(v) for v in p[angle <= math.asin(radius / dist) + 1e-7]}
        got, ranges = index.in_cone(box.center, radius)
        assert within <= {tuple(v) for v in got}
        np.testing.assert_allclose(ranges, np.linalg.norm(got, axis=1), rtol=1e-12)   # each row its range
        smaller += len(got) < len(p) / 2
    assert smaller > 200           # and most cones are a small part of the sweep


def brute_force_returns(points: np.ndarray, box: Cuboid, others: list[Cuboid]) -> int:
    """object_returns' definition, point by point over the whole sweep."""
    box = clear_of_ground(box)
    keep = points_in_cuboid(points, box)
    for other in others:
        keep &= ~points_in_cuboid(points, other, margin=OBJECT_MARGIN)
    return int(keep.sum())


def test_returns_in_a_box_are_counted_as_over_the_whole_sweep():
    rng = np.random.default_rng(3)
    points = sweep(seed=4)
    # returns in and around a few boxes, so that the counts are not all 0
    targets = [Cuboid((8.0, 3.0, -0.5), (4.5, 1.9, 1.6), 0.3), Cuboid((9.0, 4.5, -0.6), (0.8, 0.7, 1.8), 0.0),
               Cuboid((-15.0, -2.0, -0.4), (10.0, 2.5, 3.0), 2.0)]
    clouds = [t.center + rng.uniform(-0.6, 0.6, (400, 3)) * t.size for t in targets]
    points = np.r_[points, np.c_[np.concatenate(clouds), np.zeros(1200)].astype(np.float32)]
    index = SweepByX(points)
    counted = []
    for box in targets + boxes()[:60]:
        others = [t for t in targets if t is not box]
        n = object_returns(index, box, others)
        assert n == object_returns(points, box, others) == brute_force_returns(points, box, others)
        counted.append(n)
    assert max(counted) > 100


@pytest.mark.parametrize("seed", [0, 1])
def test_see_through_counts_the_rays_of_the_whole_sweep(seed):
    """The returns inside each box, counted from the cone's slice, against every return."""
    points = sweep(seed=seed)
    for box in boxes(seed + 5)[:80]:
        seen = see_through(points, box)
        cut = clear_of_ground(box)
        if np.linalg.norm(cut.center) <= np.linalg.norm(cut.size) / 2.0:
            assert (seen.inside, seen.through) == (0, 0)
        else:
            assert seen.inside == int(points_in_cuboid(points, cut).sum())
