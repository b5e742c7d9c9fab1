"""Which end of a car's box is its front (assist.front): the bonnet is longer than the boot."""

import numpy as np
import pytest

from fusionlabel.assist.builtin import GeometricDetector
from fusionlabel.assist.front import crown_gaps, facing_front, half_plane_forward
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.geometry.iou import iou_matrix
from fusionlabel.qa.detection import heading_difference
from fusionlabel.qa.synthetic import box_on_ground, synthetic_sweep

LENGTH, WIDTH = 4.5, 1.8


def sedan(x: float, y: float, yaw: float) -> list[Cuboid]:
    """A car as a sweep sees it: a body up to the bonnet's height and, set back from the front, a
    cabin (bonnet 1.3 m, cabin 2.3 m, boot 0.9 m)."""
    body = box_on_ground(x, y, (LENGTH, WIDTH, 0.95), yaw)
    back = -0.35                                    # cabin centre behind the body's, along the heading
    cx, cy = x + back * np.cos(yaw), y + back * np.sin(yaw)
    bottom = body.center[2] + body.height / 2
    return [body, Cuboid((cx, cy, bottom + 0.25), (2.3, 1.6, 0.5), yaw)]


def crown_points(yaw: float, cabin_back: float, rng, seen_length: float = LENGTH):
    """Returns of a car of heading ``yaw`` at the origin (x, y and height above ground): body sides
    up to 0.95 m, cabin 2.3 m long from 1.0 to 1.45 m, its middle ``cabin_back`` behind the body's;
    only the part within ``seen_length`` of the back is seen."""
    u = rng.uniform(-LENGTH / 2, -LENGTH / 2 + seen_length, 400)
    h = rng.uniform(0.3, 0.95, 400)
    on_cabin = np.abs(u + cabin_back) < 1.15
    h[on_cabin] = rng.uniform(1.0, 1.45, on_cabin.sum())
    v = np.full(400, WIDTH / 2)
    c, s = np.cos(yaw), np.sin(yaw)
    return np.c_[u * c - v * s, u * s + v * c], h


@pytest.mark.parametrize("yaw", np.radians([0.0, 40.0, 90.0, 135.0, 180.0, -100.0, -30.0]))
@pytest.mark.parametrize("given_turned", [False, True])
def test_a_cars_box_faces_the_end_away_from_its_roof(yaw, given_turned):
    xy, h = crown_points(yaw, 0.35, np.random.default_rng(1))
    box = Cuboid((0.0, 0.0, 0.7), (LENGTH, WIDTH, 1.45), yaw + (np.pi if given_turned else 0.0))
    out = facing_front(box, "Car", xy, h)
    assert heading_difference(out.yaw, yaw) < 1e-6


def test_no_cue_keeps_the_half_plane():
    rng = np.random.default_rng(2)
    yaw = np.radians(170.0)
    box = Cuboid((0.0, 0.0, 0.7), (LENGTH, WIDTH, 1.45), yaw)
    expected = half_plane_forward(box).yaw
    assert abs(expected) <= np.pi / 2
    # a cabin in the middle: the ends cannot be told apart
    assert facing_front(box, "Car", *crown_points(yaw, 0.0, rng)).yaw == pytest.approx(expected)
    # a car seen only at its back (the roof's rear edge): too little crown to judge
    assert facing_front(box, "Car", *crown_points(yaw, 0.35, rng, seen_length=1.4)).yaw == pytest.approx(expected)
    # no returns in the box
    assert facing_front(box, "Car", np.zeros((0, 2)), np.zeros(0)).yaw == pytest.approx(expected)
    # the cue is a car's: other classes keep the half-plane
    assert facing_front(box, "Pedestrian", *crown_points(yaw, 0.35, rng)).yaw == pytest.approx(expected)


def test_crown_gaps_measure_bonnet_and_boot():
    xy, h = crown_points(0.0, 0.35, np.random.default_rng(3))
    ahead, behind, span = crown_gaps(Cuboid((0.0, 0.0, 0.7), (LENGTH, WIDTH, 1.45), 0.0), xy, h)
    assert ahead == pytest.approx(1.1 + 0.35, abs=0.1) and behind == pytest.approx(1.1 - 0.35, abs=0.1)
    assert span == pytest.approx(2.3, abs=0.1)


@pytest.mark.parametrize("yaw", [0.0, 0.0, np.pi, np.pi, 0.4, np.pi + 0.4, -np.pi / 2, np.pi / 2])
def test_half_plane_is_minus_half_pi_open_to_half_pi_closed(yaw):
    out = half_plane_forward(Cuboid((0.0, 0.0, 0.0), (1.0, 1.0, 1.0), yaw)).yaw
    out = float(np.arctan2(np.sin(out), np.cos(out)))
    assert -np.pi / 2 < out <= np.pi / 2 + 1e-9
    assert heading_difference(out, yaw) in (pytest.approx(0.0, abs=1e-9), pytest.approx(np.pi, abs=1e-9))


@pytest.mark.parametrize("x, y, yaw", [(12.0, 6.0, np.pi), (14.0, -6.0, 0.0), (9.0, -9.0, np.radians(120.0)),
                                       (-11.0, 7.0, np.radians(-75.0))])
def test_the_detector_reports_a_cars_heading_front_first(x, y, yaw):
    parts = sedan(x, y, yaw)
    points, _ = synthetic_sweep(parts)
    dets = [d for d in GeometricDetector().detect(points) if d.label == "Car"]
    truth = Cuboid((x, y, parts[0].center[2]), (LENGTH, WIDTH, 1.45), yaw)
    iou = iou_matrix([truth], [d.box for d in dets], "bev")[0] if dets else np.zeros(0)
    assert len(iou) and iou.max() >= 0.5
    assert np.degrees(heading_difference(dets[int(np.argmax(iou))].box.yaw, yaw)) < 20.0


@pytest.mark.realdata
def test_real_cars_face_their_front_more_often_than_the_half_plane(realdata):
    """On every real set, the detector's car boxes matched to a label (BEV IoU >= 0.5, within 40 m)
    face within 90° of it more often than boxes in the +x half-plane would (0.73 against 0.62 when
    written, 26 boxes)."""
    from fusionlabel.qa import datasets as D
    from fusionlabel.qa.classes import eval_class

    loaders = [(realdata / "kitti_object" / "training", D.kitti_object_frames),
               (realdata / "nuscenes_mini", D.nuscenes_frames),
               (realdata / "sustech_sequence", D.sustech_frames)]
    det, cue, blind = GeometricDetector(), [], []
    for root, load in loaders:
        if not root.is_dir():
            continue
        for points, f in load(root):
            cars = [d for d in det.detect(points) if d.label == "Car" and d.score >= 0.5]
            gts = [g for g in f.gt if eval_class(g) == "car" and np.hypot(*g.box.center[:2]) <= 40.0]
            if not cars or not gts:
                continue
            iou = iou_matrix([d.box for d in cars], [g.box for g in gts], "bev")
            for i, d in enumerate(cars):
                j = int(np.argmax(iou[i]))
                if iou[i, j] >= 0.5:
                    cue.append(heading_difference(d.box.yaw, gts[j].box.yaw) < np.pi / 2)
                    blind.append(heading_difference(half_plane_forward(d.box).yaw, gts[j].box.yaw) < np.pi / 2)
    if len(cue) < 10:
        pytest.skip("too few real cars")
    assert np.mean(cue) >= 0.65 and np.mean(cue) > np.mean(blind)
