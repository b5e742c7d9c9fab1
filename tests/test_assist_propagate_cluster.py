"""The cluster check of propagation (tried, not shipped: ``V`` leaves it off; the chained benchmark
measures it) puts a box that was off its object back onto the object's own cluster of points, and
leaves the registration's result alone when the cluster is not clearly that object."""

import numpy as np

from fusionlabel.assist.cluster_snap import snap_to_cluster
from fusionlabel.assist.propagate import propagate_box
from fusionlabel.geometry.cuboid import Cuboid

LENGTH, WIDTH = 4.2, 1.8


def _car(rng, x0=0.0, n_side=1000, n_front=300):
    """Wall points (x, y, z) of a car centred at (x0, 0) heading +x: its left side and its front."""
    side = np.c_[rng.uniform(x0 - LENGTH / 2, x0 + LENGTH / 2, n_side), np.full(n_side, -WIDTH / 2)]
    front = np.c_[np.full(n_front, x0 + LENGTH / 2), rng.uniform(-WIDTH / 2, WIDTH / 2, n_front)]
    walls = np.r_[side, front]
    return np.c_[walls, rng.uniform(0.4, 1.5, len(walls))]


def _ground(rng):
    return np.c_[rng.uniform(-12, 12, (6000, 2)), np.zeros(6000)]


def _frames(rng, bodies, move=(0.6, 0.0)):
    """Frame a (ground and ``bodies``) and frame b (the bodies moved by ``move``), no poses."""
    body = np.concatenate(bodies)
    return np.r_[_ground(rng), body], np.r_[_ground(rng), body + [move[0], move[1], 0.0]]


def test_a_box_half_a_metre_ahead_of_its_car_is_pulled_back_onto_it():
    """The box starts 0.5 m ahead of the car along its heading; the car drives 0.6 m on. ICP
    carries the car's motion (the front corner holds it), so on its own the box stays 0.5 m ahead;
    the car's side sticks out of the box's rear by that much and the box is pulled back to where
    the car is (the truth by construction: x 0.6)."""
    rng = np.random.default_rng(11)
    a, b = _frames(rng, [_car(rng)])
    off = Cuboid((0.5, 0.0, 0.8), (LENGTH, WIDTH, 1.6), 0.0)
    res = propagate_box(a, off, b, cluster_check=True)
    assert res.registered
    np.testing.assert_allclose(res.box.center[:2], (0.6, 0.0), atol=0.04)
    assert res.box.size == off.size and abs(res.box.yaw - off.yaw) < 1e-3
    shipped = propagate_box(a, off, b)               # what V does: the offset is carried
    np.testing.assert_allclose(shipped.box.center[:2], (1.1, 0.0), atol=0.04)


def test_a_car_merged_with_the_one_behind_it_keeps_the_registration_result():
    """The same car with a second one parked 0.3 m behind it (one cluster of points): the cluster
    is not that car alone, so the box is where ICP carries it, still 0.5 m ahead (x 1.1)."""
    rng = np.random.default_rng(12)
    behind = _car(rng, x0=-LENGTH - 0.3)
    a, b = _frames(rng, [_car(rng), behind])
    off = Cuboid((0.5, 0.0, 0.8), (LENGTH, WIDTH, 1.6), 0.0)
    res = propagate_box(a, off, b, cluster_check=True)
    assert res.registered
    np.testing.assert_allclose(res.box.center[:2], (1.1, 0.0), atol=0.04)


def test_snap_keeps_a_box_holding_its_points_and_ignores_unclear_clusters():
    """Points inside the box: no move. Points sticking 0.4 m out of one side (across the heading,
    a box turned 30°): the box moves 0.4 m that way. A wall running through the box (a cluster far
    longer than the box) and a box half on two clusters: no answer."""
    rng = np.random.default_rng(13)
    box = Cuboid((5.0, 2.0, 0.8), (LENGTH, WIDTH, 1.6), np.radians(30))
    c, s = np.cos(box.yaw), np.sin(box.yaw)
    along, across = np.array([c, s]), np.array([-s, c])

    def world(u, v):
        return np.asarray(box.center[:2]) + np.outer(u, along) + np.outer(v, across)

    u = np.r_[rng.uniform(-LENGTH / 2, LENGTH / 2, 400), np.full(150, LENGTH / 2)]   # a side and the front
    v = np.r_[np.full(400, -WIDTH / 2), rng.uniform(-WIDTH / 2, WIDTH / 2, 150)]
    held = snap_to_cluster(box, world(u, v))
    np.testing.assert_allclose(held.center, box.center, atol=0.02)
    moved = snap_to_cluster(box, world(u, v + 0.4))
    np.testing.assert_allclose(moved.center[:2], np.asarray(box.center[:2]) + 0.4 * across, atol=0.02)
    assert moved.size == box.size and moved.yaw == box.yaw
    wall = world(rng.uniform(-8, 8, 800), np.full(800, -WIDTH / 2 - 0.05))
    assert snap_to_cluster(box, wall) is None
    two = np.r_[world(rng.uniform(-2.6, -0.6, 200), np.full(200, 0.0)),
                world(rng.uniform(0.6, 2.6, 200), np.full(200, 0.0))]
    assert snap_to_cluster(box, two) is None
