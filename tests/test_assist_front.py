"""Which end of a car's box is its front (assist.front): the bonnet is longer than the boot."""

from pathlib import Path

import numpy as np
import pytest

from fusionlabel.assist.builtin import GeometricDetector
from fusionlabel.assist.front import crown_gaps, facing_front, half_plane_forward
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.geometry.iou import iou_matrix
from fusionlabel.qa.detection import heading_difference
from fusionlabel.qa.synthetic import box_on_ground, person_parts, synthetic_sweep

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


def matched_pairs(found, gts, min_iou: float):
    """(detection, label) pairs: each detection with the label it overlaps most, at BEV IoU >= ``min_iou``."""
    if not found or not gts:
        return []
    iou = iou_matrix([d.box for d in found], [g.box for g in gts], "bev")
    best = iou.argmax(axis=1)
    return [(d, gts[j]) for d, j, v in zip(found, best, iou.max(axis=1)) if v >= min_iou]


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
            for d, g in matched_pairs(cars, gts, 0.5):
                cue.append(heading_difference(d.box.yaw, g.box.yaw) < np.pi / 2)
                blind.append(heading_difference(half_plane_forward(d.box).yaw, g.box.yaw) < np.pi / 2)
    if len(cue) < 10:
        pytest.skip("too few real cars")
    assert np.mean(cue) >= 0.65 and np.mean(cue) > np.mean(blind)


# ---------------------------------------------------------------- the ego's forward and the side of the road
def _relative(yaw: float, forward) -> float:
    d = yaw - np.arctan2(forward[1], forward[0])
    return float(np.arctan2(np.sin(d), np.cos(d)))


@pytest.mark.parametrize("forward", [(0.0, 1.0), (0.0, -1.0), (-1.0, 0.0), (np.sqrt(0.5), np.sqrt(0.5))])
@pytest.mark.parametrize("yaw", np.radians([0.0, 80.0, 100.0, 180.0, -135.0]))
def test_the_half_plane_is_the_egos_forward_one(forward, yaw):
    out = half_plane_forward(Cuboid((0.0, 0.0, 0.0), (1.0, 1.0, 1.0), yaw), forward).yaw
    assert abs(_relative(out, forward)) <= np.pi / 2 + 1e-9
    assert heading_difference(out, yaw) in (pytest.approx(0.0, abs=1e-9), pytest.approx(np.pi, abs=1e-9))


RIDER = (1.75, 0.6, 1.7)


@pytest.mark.parametrize("forward", [(1.0, 0.0), (0.0, -1.0)])
@pytest.mark.parametrize("side, across_m, along_deg, backwards", [
    ("right", 6.0, 0.0, True),     # oncoming side, along the way: coming towards the ego
    ("right", 6.0, 20.0, True),
    ("right", -6.0, 0.0, False),   # the ego's own side
    ("right", 1.0, 0.0, False),    # ahead in the ego's way
    ("right", 6.0, 60.0, False),   # crossing: no cue
    ("left", -6.0, 0.0, True),     # left-hand traffic: the mirror image
    ("left", 6.0, 0.0, False),
    ("none", 6.0, 0.0, False),
])
def test_riders_beside_the_ego_face_as_traffic_goes(forward, side, across_m, along_deg, backwards):
    f = np.asarray(forward)
    left = np.array([-f[1], f[0]])
    centre = 15.0 * f + across_m * left
    ahead = np.arctan2(f[1], f[0])
    box = Cuboid((*centre, 0.0), RIDER, ahead + np.radians(along_deg) + np.pi)   # given facing backwards
    for label in ("Cyclist", "Pedestrian"):
        out = facing_front(box, label, np.zeros((0, 2)), np.zeros(0), forward, side)
        assert (abs(_relative(out.yaw, forward)) > np.pi / 2) == backwards, label
    # other classes keep the forward half-plane
    truck = facing_front(box, "Truck", np.zeros((0, 2)), np.zeros(0), forward, side)
    assert abs(_relative(truck.yaw, forward)) <= np.pi / 2 + 1e-9


@pytest.mark.parametrize("forward", [(0.0, 1.0), (-1.0, 0.0)])
def test_the_detector_reports_the_half_plane_of_the_forward_it_is_given(forward):
    """A rider seen from the side, on a LiDAR turned so that the ego's forward is ``forward``."""
    f = np.asarray(forward)
    centre = 12.0 * f + 4.0 * np.array([f[1], -f[0]])
    yaw = float(np.arctan2(f[1], f[0]))
    parts = [box_on_ground(*centre, (1.7, 0.12, 0.9), yaw)] + person_parts(*centre)
    points, _ = synthetic_sweep(parts)
    dets = [d for d in GeometricDetector(forward=forward).detect(points) if np.hypot(*(d.box.center[:2] - centre)) < 1.0]
    assert dets
    assert all(abs(_relative(d.box.yaw, forward)) <= np.pi / 2 + 1e-9 for d in dets)
    plain = [d for d in GeometricDetector().detect(points) if np.hypot(*(d.box.center[:2] - centre)) < 1.0]
    assert all(abs(_relative(d.box.yaw, (1.0, 0.0))) <= np.pi / 2 + 1e-9 for d in plain)


def _rider_across(forward) -> tuple[np.ndarray, np.ndarray]:
    """A sweep of a rider seen from the side, riding along ``forward``, and the rider's centre."""
    f = np.asarray(forward, float)
    centre = 12.0 * f + 4.0 * np.array([f[1], -f[0]])
    parts = [box_on_ground(*centre, (1.7, 0.12, 0.9), float(np.arctan2(f[1], f[0])))] + person_parts(*centre)
    return synthetic_sweep(parts)[0], centre


def test_detect_frame_leaves_no_forward_behind_for_later_sweeps():
    """A detector that ran ``detect_frame`` on a drive whose LiDAR looks backwards (the ego's
    forward is LiDAR -x) still gives ``detect(points)`` the constructor's forward (LiDAR +x)."""
    from fusionlabel.model.drive import Drive, Frame
    from fusionlabel.model.rig import LidarSensor, Rig

    backwards = np.diag([-1.0, -1.0, 1.0, 1.0])            # T_vehicle_lidar: LiDAR turned 180 deg
    rig = Rig("turned", {"lidar": LidarSensor("lidar", backwards)}, "lidar", True)
    points, centre = _rider_across((-1.0, 0.0))
    drive = Drive("turned", Path("turned"), rig, [Frame("000000", Path("000000.bin"))], read_points=lambda _: points)

    def near(dets):
        return [d for d in dets if np.hypot(*(d.box.center[:2] - centre)) < 1.0]

    det = GeometricDetector()
    turned = near(det.detect_frame(drive, 0))
    assert turned and all(abs(_relative(d.box.yaw, (-1.0, 0.0))) <= np.pi / 2 + 1e-9 for d in turned)
    after = near(det.detect(points))
    assert after and all(abs(_relative(d.box.yaw, (1.0, 0.0))) <= np.pi / 2 + 1e-9 for d in after)
    assert [d.box.yaw for d in after] == [d.box.yaw for d in near(GeometricDetector().detect(points))]
    # a forward given to the call holds for that call only
    assert [d.box.yaw for d in near(det.detect(points, (-1.0, 0.0)))] == [d.box.yaw for d in turned]
    assert [d.box.yaw for d in near(det.detect(points))] == [d.box.yaw for d in after]


@pytest.mark.realdata
def test_on_sustech_boxes_face_the_rigs_forward_half_plane(realdata):
    """SUSTech's LiDAR looks sideways (the front camera along its -y). Run as ``prelabel`` runs it
    (``detect_frame``: the rig's forward), the detector's boxes matched to a label (BEV IoU >= 0.25)
    face within 90° of it more often than in the LiDAR's +x half-plane (when written: 39 of 52
    boxes against 30)."""
    from fusionlabel.io.sustech import open_sustech
    from fusionlabel.qa import datasets as D

    root = realdata / "sustech_sequence"
    if not root.is_dir():
        pytest.skip("no SUSTech scene")
    drive = open_sustech(root)
    rig_way, lidar_x = [], []
    for points, f in D.sustech_frames(root):
        for found, out in ((GeometricDetector().detect_frame(drive, drive.index_of(f.frame_id)), rig_way),
                           (GeometricDetector().detect(points), lidar_x)):
            found = [d for d in found if d.score >= 0.5]
            gts = [g for g in f.gt if np.hypot(*g.box.center[:2]) <= 40.0]
            out += [heading_difference(d.box.yaw, g.box.yaw) < np.pi / 2 for d, g in matched_pairs(found, gts, 0.25)]
    assert len(rig_way) == len(lidar_x) >= 20
    assert np.mean(rig_way) >= 0.7 and np.mean(rig_way) > np.mean(lidar_x) + 0.1
