"""Propagation's height: the box stands on the ground found under it in frame b, unless that ground
lies off its bottom in frame a by more than a street's slope allows: then the ground estimate took
the object's own lower body for ground (the road around a bus hidden) and the height is kept."""

import numpy as np

from fusionlabel.assist.propagate import GROUND_JUMP, propagate_box
from fusionlabel.geometry.cuboid import Cuboid

LENGTH, WIDTH, HEIGHT = 10.0, 2.5, 3.2
GROUND_Z = -1.7


def _bus(rng, x0: float, lowest: float, n: int = 3000) -> np.ndarray:
    """Points of a bus's left side and rear, centred at (x0, 8) heading +x, from ``lowest`` m above
    the ground up to its roof."""
    side = np.c_[rng.uniform(x0 - LENGTH / 2, x0 + LENGTH / 2, n), np.full(n, 8.0 - WIDTH / 2)]
    rear = np.c_[np.full(n // 4, x0 - LENGTH / 2), rng.uniform(8.0 - WIDTH / 2, 8.0 + WIDTH / 2, n // 4)]
    walls = np.r_[side, rear]
    return np.c_[walls, GROUND_Z + rng.uniform(lowest, HEIGHT, len(walls))]


def _ground(rng, z_of=lambda xy: np.full(len(xy), GROUND_Z), keep=lambda xy: np.ones(len(xy), bool)):
    xy = rng.uniform(-25, 25, (40000, 2))
    xy = xy[keep(xy)]
    return np.c_[xy, z_of(xy)]


def test_a_bus_whose_road_is_hidden_in_frame_b_keeps_its_height():
    """Frame a: the bus on open road. Frame b: it moved 1 m on, no road within 16 m of it seen
    and its lower 0.9 m too (cars in front): the lowest returns there are its own body."""
    rng = np.random.default_rng(3)
    box_a = Cuboid((0.0, 8.0, GROUND_Z + HEIGHT / 2), (LENGTH, WIDTH, HEIGHT), 0.0)
    a = np.r_[_ground(rng), _bus(rng, 0.0, 0.1)]
    far = lambda xy: np.abs(xy - [1.0, 8.0]).max(axis=1) > 16.0      # noqa: E731
    b = np.r_[_ground(rng, keep=far), _bus(rng, 1.0, 0.9)]
    res = propagate_box(a, box_a, b)
    assert res.registered
    np.testing.assert_allclose(res.box.center[:2], (1.0, 8.0), atol=0.1)
    assert abs(res.box.center[2] - box_a.center[2]) < 0.05            # on the road, not 0.9 m up
    assert res.ground_kept > GROUND_JUMP


def test_a_car_driving_up_a_ramp_still_stands_on_the_ground_of_frame_b():
    """A 10 % ramp: the ground under the car rises 0.2 m over the 2 m it moves; that is a street's
    slope, and the box follows the ground of frame b."""
    rng = np.random.default_rng(4)
    ramp = lambda xy: GROUND_Z + 0.1 * np.clip(xy[:, 0], 0.0, None)      # noqa: E731
    box_a = Cuboid((0.0, 8.0, GROUND_Z + HEIGHT / 2), (LENGTH, WIDTH, HEIGHT), 0.0)
    bus_a = _bus(rng, 0.0, 0.1)
    bus_b = _bus(rng, 2.0, 0.1)
    bus_b[:, 2] += 0.2
    a = np.r_[_ground(rng, z_of=ramp), bus_a]
    b = np.r_[_ground(rng, z_of=ramp), bus_b]
    res = propagate_box(a, box_a, b)
    assert res.registered and res.ground_kept == 0.0
    assert 0.1 < res.box.center[2] - box_a.center[2] < 0.3
