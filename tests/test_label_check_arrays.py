"""The label checks' per-box loops work on arrays of a frame's box centres, sizes and rotations
(:func:`fusionlabel.qa.box_checks.cleared`, and the tracks' world centres and headings:
:func:`fusionlabel.geometry.cuboid.centres_and_yaws`) instead of building a Cuboid per box and
check: what they give is what the per-Cuboid definitions kept here as the reference give, on every
box of a simulated drive."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fusionlabel.geometry.cuboid import Cuboid, centres_and_yaws, points_in_cuboid
from fusionlabel.io.native import open_native_drive
from fusionlabel.qa.box_checks import CLEARANCE, CORE, OBJECT_MARGIN, Seen, _see_through, cleared, see_through
from fusionlabel.qa.label_check import checked_track_frames, drive_labels
from fusionlabel.qa.track_checks import track_boxes
from fusionlabel.qa.sweep_index import SweepByX, SweepRays
from fusionlabel.qa.track_presence import _object_returns, object_returns

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


def clear_of_ground(box: Cuboid) -> Cuboid:
    """The reference: ``box`` without its bottom CLEARANCE (at most a third of its height), a Cuboid."""
    cut = min(CLEARANCE, box.height / 3.0)
    up = box.rotation()[:, 2] * (cut / 2.0)
    return box.with_(center=tuple(np.asarray(box.center) + up), size=(box.length, box.width, box.height - cut))


def reference_see_through(points: np.ndarray, box: Cuboid) -> Seen:
    """The reference: returns inside the cleared box, and returns behind it whose ray from the
    origin crosses its core, each test on Cuboids over the whole sweep."""
    box = clear_of_ground(box)
    p = np.asarray(points)[:, :3].astype(np.float64)
    centre = np.asarray(box.center)
    if np.linalg.norm(centre) <= np.linalg.norm(box.size) / 2.0:
        return Seen(0, 0)
    inside = points_in_cuboid(p, box)
    core = box.with_(size=tuple(CORE * v for v in box.size))
    R, half = core.rotation(), np.asarray(core.size) / 2.0
    origin = R.T @ -centre
    d = (p[~inside] - centre) @ R - origin
    with np.errstate(divide="ignore", invalid="ignore"):
        t1, t2 = (-half - origin) / d, (half - origin) / d
    lo = np.where(np.isnan(t1), -np.inf, np.minimum(t1, t2)).max(axis=1)
    hi = np.where(np.isnan(t2), np.inf, np.maximum(t1, t2)).min(axis=1)
    return Seen(int(inside.sum()), int(((lo <= hi) & (hi < 1.0) & (lo > 0.0)).sum()))


def reference_returns(points: np.ndarray, box: Cuboid, others: list[Cuboid]) -> int:
    """The reference of object_returns: point by point over the whole sweep, on Cuboids."""
    keep = points_in_cuboid(points, clear_of_ground(box))
    for other in others:
        keep &= ~points_in_cuboid(points, other, margin=OBJECT_MARGIN)
    return int(keep.sum())


@pytest.fixture(scope="module")
def sample():
    drive = open_native_drive(SAMPLE)
    return drive, drive_labels(drive)


def test_cleared_boxes_are_the_reference_cuboids(sample):
    drive, labels = sample
    boxes = [lab.box for frame in labels.values() for lab in frame]
    boxes += [Cuboid((3.0, -2.0, 0.5), (1.0, 0.6, 0.45), 0.4, pitch=0.2, roll=-0.1)]   # low and tilted
    centres, sizes, R = cleared(boxes)
    for k, box in enumerate(boxes):
        ref = clear_of_ground(box)
        assert centres[k].tolist() == list(ref.center) and sizes[k].tolist() == list(ref.size)
        assert np.array_equal(R[k], ref.rotation())


def test_every_box_of_a_simulated_drive_sees_what_the_reference_sees(sample):
    drive, labels = sample
    seen_any = 0
    for i in list(labels)[::5]:
        points = drive.points(i)
        rays = SweepRays(points)
        boxes = [lab.box for lab in labels[i]]
        centres, sizes, R = cleared(boxes)
        for k, box in enumerate(boxes):
            ref = reference_see_through(points, box)
            assert _see_through(rays, centres[k], sizes[k], R[k]) == ref == see_through(points, box)
            seen_any += ref.inside > 0 and ref.through > 0
    assert seen_any > 20


def test_every_box_of_a_simulated_drive_holds_the_reference_returns(sample):
    drive, labels = sample
    counted = []
    for i in list(labels)[2::5]:
        points = drive.points(i)
        sweep = SweepByX(points)
        boxes = [lab.box for lab in labels[i]]
        centres, sizes, R = cleared(boxes)
        for k, box in enumerate(boxes):
            others = boxes[:k] + boxes[k + 1:]
            n = _object_returns(sweep, centres[k], sizes[k], R[k], others)
            assert n == object_returns(points, box, others) == reference_returns(points, box, others)
            counted.append(n)
    assert max(counted) > 100


def test_track_boxes_in_the_world_are_the_reference_cuboids(sample):
    drive, labels = sample
    frames = checked_track_frames(drive, labels, [], {})
    assert frames[0].T_world_lidar is not None and not np.allclose(frames[5].T_world_lidar, np.eye(4))
    n = 0
    for boxes in track_boxes(frames).values():
        for b in boxes:
            ref = b.label.box.transformed(frames[b.frame].T_world_lidar)     # the reference, a Cuboid
            np.testing.assert_allclose(b.center, ref.center, rtol=0, atol=1e-9)
            assert abs(b.yaw - ref.yaw) < 1e-12 and b.world == ref
            n += 1
    assert n == sum(len(v) for v in labels.values())


@pytest.mark.parametrize("pitch", [0.0, 0.3, np.pi / 2])        # upright, tilted, at the gimbal lock
def test_centres_and_yaws_of_tilted_boxes_and_poses(pitch):
    rng = np.random.default_rng(4)
    boxes = [Cuboid(rng.uniform(-30, 30, 3), rng.uniform(0.5, 5, 3), rng.uniform(-np.pi, np.pi), pitch, 0.1 * k)
             for k in range(8)]
    T = Cuboid((5.0, -3.0, 1.0), (1, 1, 1), 2.9, 0.05, -0.02).T_frame_box()
    centres, yaws = centres_and_yaws(boxes, T)
    for k, box in enumerate(boxes):
        ref = box.transformed(T)
        np.testing.assert_allclose(centres[k], ref.center, rtol=0, atol=1e-9)
        assert abs((yaws[k] - ref.yaw + np.pi) % (2 * np.pi) - np.pi) < 1e-9
