"""One-click box from a seed point and auto-fit of a rough box."""

import numpy as np
import pytest

from fusionlabel.assist.fit import auto_fit, one_click_box
from fusionlabel.geometry.cuboid import points_in_cuboid
from fusionlabel.geometry.iou import bev_iou
from fusionlabel.geometry.transforms import angle_difference
from fusionlabel.qa.synthetic import box_on_ground, person_parts, synthetic_sweep

SLOPE = 0.06


@pytest.fixture(scope="module")
def sweep():
    boxes = [box_on_ground(14, 3.0, (4.5, 1.8, 1.5), 0.05, SLOPE),
             box_on_ground(11, -5, (0.7, 0.6, 1.75), 0.0, SLOPE),
             box_on_ground(-12, 4, (4.3, 1.8, 1.55), 0.4, SLOPE)]
    points, hit = synthetic_sweep(boxes, SLOPE, fov_deg=(-24.8, 8.0))
    return boxes, points, hit


def test_one_click_on_a_car_gives_a_full_car(sweep):
    boxes, points, hit = sweep
    seed = points[hit == 0][0, :3]          # any return of the car
    lab = one_click_box(points, seed)
    assert lab is not None and lab.label == "Car" and lab.source == "model"
    assert bev_iou(lab.box, boxes[0]) > 0.75
    assert abs(angle_difference(2 * lab.box.yaw, 2 * boxes[0].yaw)) / 2 < np.radians(4)
    bottom = lab.box.center[2] - lab.box.height / 2
    assert bottom == pytest.approx(boxes[0].center[2] - boxes[0].height / 2, abs=0.15)


def test_one_click_on_a_pedestrian_and_on_bare_ground(sweep):
    boxes, points, hit = sweep
    lab = one_click_box(points, points[hit == 1][0, :3])
    assert lab.label == "Pedestrian" and bev_iou(lab.box, boxes[1]) > 0.3
    ground_point = points[(hit == -1) & (np.hypot(points[:, 0] - 5, points[:, 1] + 10) < 1.0)][0]
    assert one_click_box(points, ground_point[:3]) is None
    assert one_click_box(points, (500.0, 500.0)) is None


def test_auto_fit_tightens_and_snaps_keeping_yaw(sweep):
    boxes, points, _ = sweep
    truth = boxes[0]
    rough = truth.with_(center=np.add(truth.center, [0.35, -0.25, 0.4]), size=np.multiply(truth.size, 1.2))
    fit = auto_fit(points, rough)
    assert fit.yaw == rough.yaw
    assert bev_iou(fit, truth) > bev_iou(rough, truth) + 0.1
    assert bev_iou(fit, truth) > 0.8
    assert fit.center[2] - fit.height / 2 == pytest.approx(truth.center[2] - truth.height / 2, abs=0.12)
    assert fit.height == pytest.approx(truth.height, abs=0.15)


def test_auto_fit_reestimates_yaw_near_the_old_heading(sweep):
    boxes, points, _ = sweep
    truth = boxes[2]
    rough = truth.with_(yaw=truth.yaw + 0.25, size=np.multiply(truth.size, 1.3))
    fit = auto_fit(points, rough, keep_yaw=False)
    assert abs(angle_difference(fit.yaw, truth.yaw)) < np.radians(3)     # not flipped by 90° or 180°
    assert bev_iou(fit, truth) > bev_iou(rough, truth)
    far = truth.with_(center=(300.0, 0.0, 0.0))
    assert auto_fit(points, far) == far                                    # nothing there: unchanged


@pytest.mark.realdata
def test_one_click_on_real_kitti_car(kitti_object):
    from fusionlabel.io.kitti import open_kitti_object

    drive = open_kitti_object(kitti_object)
    i = drive.index_of("000134")
    points = drive.points(i)
    car = next(g for g in drive.labels(i) if g.label == "Car" and np.hypot(*g.box.center[:2]) < 20)
    lab = one_click_box(points, car.box.center)
    assert lab.label == "Car" and bev_iou(lab.box, car.box) > 0.6
    rough = car.box.with_(center=np.add(car.box.center, [0.4, 0.3, 0.3]), size=np.multiply(car.box.size, 1.25))
    assert bev_iou(auto_fit(points, rough), car.box) > bev_iou(rough, car.box)


def test_one_click_on_real_riders_and_people_never_invents_a_vehicle(kitti_object):
    """KITTI 000134: riders and people joined to street furniture barely fit any class. Where a
    car or truck prior would have to grow the box far past the points seen, one-click gives the
    tight box of those points instead (before: 4.3 x 1.8 m cars on three riders, a 9 m truck on a
    pedestrian)."""
    from fusionlabel.geometry.cuboid import points_in_cuboid
    from fusionlabel.io.kitti import open_kitti_object

    drive = open_kitti_object(kitti_object)
    i = drive.index_of("000134")
    pts = drive.points(i)
    checked = 0
    for g in drive.labels(i):
        inside = pts[points_in_cuboid(pts, g.box)]
        if g.label not in ("Cyclist", "Pedestrian") or len(inside) < 30:
            continue
        seed = inside[np.argmin(np.hypot(inside[:, 0], inside[:, 1]))][:2]
        found = one_click_box(pts, seed)
        assert found is not None
        assert found.box.length * found.box.width < 4.0, (g.label, found.label, found.box.size)
        assert bev_iou(found.box, g.box) > 0.15, (g.label, found.label, found.box.size)
        checked += 1
    assert checked >= 10


# ------------------------------------------------------------------------------ one-click robustness
@pytest.fixture(scope="module")
def sim7_frame():
    """Frame 0 of simulated drive 7 (not a tuning or held-out drive of the detector): two parked
    cars 1.2 m nose to tail with a cyclist beside them, and a car whose middle only a few roof
    returns reach."""
    from fusionlabel.sim.scenario import build_scenario
    from fusionlabel.sim.simulator import Simulator

    frame = Simulator(build_scenario(7, 8), points=120_000, cameras=False).frame(0)
    return frame.points, {lab.track_id: lab for lab in frame.labels}


def test_one_click_on_the_middle_of_a_car_is_the_car_not_a_roof_return(sim7_frame):
    """Before: the nearest point above ground to the click was a lone roof return, grown into a
    0.1 x 0.1 m box. The click now picks the cluster of most points around it."""
    points, truth = sim7_frame
    car = truth["7"]
    found = one_click_box(points, car.box.center[:2])
    assert found.label == "Car" and bev_iou(found.box, car.box) > 0.8


def test_one_click_splits_cars_nose_to_tail_and_a_cyclist_beside_them(sim7_frame):
    """Before: cars 5 and 6 (1.2 m apart) and the cyclist beside them were one 9 x 3 m truck."""
    points, truth = sim7_frame
    for track, cls in (("5", "Car"), ("6", "Car"), ("32", "Cyclist")):
        g = truth[track]
        for seed in (g.box.center[:2], points[points_in_cuboid(points, g.box)][0, :2]):
            found = one_click_box(points, seed)
            assert found.label == cls and bev_iou(found.box, g.box) > 0.7, (track, found.label, found.box.size)


def test_one_click_splits_two_synthetic_cars_touching_nose_to_tail():
    boxes = [box_on_ground(-4.5, -6.3, (4.5, 1.8, 1.5), 0.0), box_on_ground(0.5, -6.4, (4.6, 1.8, 1.5), 0.0)]
    points, _ = synthetic_sweep(boxes, fov_deg=(-24.8, 8.0))          # 0.45 m apart
    for box in boxes:
        found = one_click_box(points, box.center[:2])
        assert found.label == "Car" and bev_iou(found.box, box) > 0.8, (found.label, found.box.size)


def test_one_click_on_each_of_two_people_side_by_side_boxes_that_person():
    """Before: one box between the two, whichever was clicked."""
    for gap in (0.6, 0.8):
        people = [(10.0, 4.7), (10.0, 4.7 + gap)]
        points, _ = synthetic_sweep(person_parts(*people[0]) + person_parts(*people[1]), beams=64, columns=1800,
                                    fov_deg=(-24.8, 2.0))
        for xy in people:
            found = one_click_box(points, xy)
            assert found.label == "Pedestrian", (gap, xy, found.label)
            assert np.hypot(*(np.asarray(found.box.center[:2]) - xy)) < 0.2, (gap, xy, found.box.center)
            assert found.box.length * found.box.width < 0.6


def test_one_click_on_bare_ground_behind_an_object_gives_nothing():
    points, _ = synthetic_sweep(person_parts(10.0, 3.0), beams=64, columns=1800, fov_deg=(-24.8, 2.0))
    assert one_click_box(points, (10.0, 3.0)).label == "Pedestrian"
    assert one_click_box(points, (13.0, 3.9)) is None          # 3 m behind the person, in its shadow
    assert one_click_box(points, (10.0, 4.5)) is None          # 1.5 m beside it


def test_one_click_quality_on_held_out_simulated_drives():
    """Every car, van, truck, pedestrian and cyclist within 30 m with 20 returns or more in frames 0
    and 20 of the held-out simulated drives 1-5 (131 objects), clicked at its box centre, at its
    nearest return and at a random point of its footprint: the box must overlap the labelled one by
    BEV IoU 0.5 with the right class. Measured: 0.87 / 0.87 / 0.85 (before: 0.73 / 0.83 / 0.73);
    cars and vans 0.97 / 0.97 / 0.93 (before 0.74 / 0.91 / 0.71). Pedestrians stay at 0.73: the
    detector's 0.8 x 0.6 m person box against the simulator's smaller ones."""
    from fusionlabel.qa import datasets as D
    from fusionlabel.qa.oneclick import CLICKS, evaluate_clicks, share_right

    frames = [(p, f.gt) for seed in range(1, 6) for p, f in D.simulated_frames(seed, 30, every=20)]
    clicks = evaluate_clicks(frames)
    for kind in CLICKS:
        share, n = share_right(clicks, kind)
        assert n >= 120 and share >= 0.80, (kind, share, n)
        vehicles = [c.right for c in clicks if c.kind == kind and c.truth in ("car", "van")]
        assert np.mean(vehicles) >= 0.88, (kind, np.mean(vehicles))


@pytest.mark.realdata
def test_one_click_on_the_centre_of_real_labelled_objects(realdata):
    """SUSTech (4 frames) and KITTI (4 frames): every labelled object within 30 m with 20 returns
    or more, clicked at its box centre. Measured: SUSTech 21 of 38 right, KITTI 7 of 13 (before: 21
    and 3); no person or rider gets a truck (before: two people standing close were a 9 x 4.7 m
    truck)."""
    from fusionlabel.qa import datasets as D
    from fusionlabel.qa.oneclick import evaluate_clicks, share_right

    sets = {}
    kitti = realdata / "kitti_object" / "training"
    if (kitti / "velodyne").is_dir():
        sets["KITTI"] = [(p, f.gt) for p, f in D.kitti_object_frames(kitti)]
    if (realdata / "sustech_sequence" / "lidar").is_dir():
        sets["SUSTech"] = [(p, f.gt) for p, f in D.sustech_frames(realdata / "sustech_sequence")]
    if not sets:
        pytest.skip("neither KITTI object nor the SUSTech sequence is in the real data")
    for name, frames in sets.items():
        clicks = [c for c in evaluate_clicks(frames) if c.kind == "centre"]
        share, n = share_right(clicks, "centre")
        assert n >= 10 and share >= 0.5, (name, share, n)
        assert not [c for c in clicks if c.truth in ("pedestrian", "cyclist") and c.found == "Truck"], name


def test_one_click_on_the_truck_beside_the_ego_is_one_truck():
    """Frame 0 of the app's small simulated drive (seed 3, 20,000 returns): a box truck 2.3 m
    beside the ego, its top cut at 2.2 m by the highest beam. Its side breaks at the gap between
    cab and cargo box, and the cab's side alone looks like a van's back; a click on the truck gave
    a van across it (BEV IoU 0.20). It is one truck."""
    from fusionlabel.sim.scenario import build_scenario
    from fusionlabel.sim.simulator import Simulator

    frame = Simulator(build_scenario(3, 3), points=20_000, cameras=False).frame(0)
    (truck,) = [g for g in frame.labels if g.label == "truck" and np.hypot(*g.box.center[:2]) < 5.0]
    returns = frame.points[points_in_cuboid(frame.points, truck.box)]
    for seed in (returns[0, :2], returns[np.argmin(returns[:, 0]), :2], truck.box.center[:2]):
        found = one_click_box(frame.points, seed)
        assert found.label == "Truck" and bev_iou(found.box, truck.box) >= 0.5, (seed, found.label, found.box)


def test_one_click_faces_the_forward_it_is_given():
    """A rider seen from the side on a LiDAR whose forward is -x: its box faces the -x half-plane
    (the forward half-plane; LiDAR +x when no forward is given)."""
    centre = np.array([-12.0, 4.0])
    parts = [box_on_ground(*centre, (1.7, 0.12, 0.9), 0.0)] + person_parts(*centre)
    points, _ = synthetic_sweep(parts)
    turned = one_click_box(points, centre, forward=(-1.0, 0.0))
    plain = one_click_box(points, centre)
    assert turned is not None and plain is not None
    assert np.cos(turned.box.yaw) < 0.0 < np.cos(plain.box.yaw)
