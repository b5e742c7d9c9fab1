"""Built-in detector: ground on slopes and curbs, clustering, L-shape fitting, classification,
on synthetic sweeps with exact truth, on real KITTI, and the detector factory."""

from pathlib import Path

import numpy as np
import pytest

from fusionlabel.assist.boxfit import (Rect, centre_extent, complete_extent, complete_rect, lshape_angle, min_area_angle,
                                       rect_at_angle, small_object_angle)
from fusionlabel.assist.builtin import GeometricDetector, ground_of
from fusionlabel.assist.cluster import cluster_bev, split_by_label
from fusionlabel.assist.config import BuiltinConfig, config_from_dict, load_config
from fusionlabel.assist.detector import make_detector
from fusionlabel.assist.ground import estimate_ground
from fusionlabel.errors import InputError
from fusionlabel.geometry.iou import bev_iou, iou_matrix
from fusionlabel.geometry.transforms import angle_difference
from fusionlabel.qa.synthetic import box_on_ground, person_parts, synthetic_sweep

SLOPE, CURB_Y = 0.08, 6.0
REPO_DOCS = Path(__file__).resolve().parents[1] / "docs"


def scene(slope=SLOPE, curb_y=CURB_Y):
    # cars seen from behind and one side (a car turned so that only its back shows is, to geometry
    # alone, as thin as a cyclist seen from the side: see docs/prelabel.md)
    boxes = [box_on_ground(12, 2.5, (4.4, 1.8, 1.5), -0.15, slope, curb_y),
             box_on_ground(22, -4, (4.2, 1.75, 1.45), 0.1, slope, curb_y),
             box_on_ground(-15, -3, (4.6, 1.85, 1.6), 3.0, slope, curb_y),
             box_on_ground(9, 8, (0.6, 0.6, 1.75), 0.0, slope, curb_y),
             box_on_ground(15, 9, (1.8, 0.6, 1.7), 1.2, slope, curb_y)]
    labels = ["Car", "Car", "Car", "Pedestrian", "Cyclist"]
    # the pedestrian is two legs, a torso and a head (a solid 0.6 m block shows twice a person's
    # surface); the cyclist is a bicycle (long, low, thin) with a rider on top; each labelled as one box
    ped, bike = boxes[3], boxes[4]
    pb = ped.center[2] - ped.height / 2
    body = [ped.with_(size=(0.15, 0.15, 0.9), center=(ped.center[0], ped.center[1] + dy, pb + 0.45))
            for dy in (-0.15, 0.15)]
    body += [ped.with_(size=(0.25, 0.45, 0.6), center=(*ped.center[:2], pb + 1.2)),
             ped.with_(size=(0.2, 0.2, 0.25), center=(*ped.center[:2], pb + 1.62))]
    bottom = bike.center[2] - bike.height / 2
    bike_parts = [bike.with_(size=(1.8, 0.15, 1.0), center=(*bike.center[:2], bottom + 0.5)),
                  bike.with_(size=(0.5, 0.45, 0.8), center=(*bike.center[:2], bottom + 1.3))]
    points, hit = synthetic_sweep(boxes[:3] + body + bike_parts, slope, curb_y, fov_deg=(-24.8, 8.0))
    hit = np.where(hit >= 3 + len(body), 4, np.where(hit >= 3, 3, hit))
    return boxes, labels, points, hit


def test_ground_follows_slope_and_curb():
    boxes, _, points, hit = scene()
    ground = estimate_ground(points)
    h = ground.height_above(points)
    on_ground = hit == -1
    near = np.hypot(points[:, 0], points[:, 1]) < 40
    # ground returns (road at 8 % and the 15 cm curb) sit on the estimate ...
    assert np.percentile(np.abs(h[on_ground & near]), 99) < 0.2
    # ... and every object return above the bumper line is well above it
    assert np.all(h[(hit >= 0) & (h > -10)] > -0.2)
    assert np.median(h[hit == 0]) > 0.5
    # the surface under the first car (not visible) is interpolated from around it
    b = boxes[0]
    true_bottom = b.center[2] - b.height / 2
    assert abs(ground.ground_z(np.array([b.center[:2]]))[0] - true_bottom) < 0.15


def test_ground_flat_plane_reproduces_height_without_bias():
    points, hit = synthetic_sweep([], 0.0, np.inf, sensor_h=1.73)
    g = estimate_ground(points)
    xy = np.array([[5.0, 0.0], [20.0, 10.0], [-30.0, -5.0]])
    np.testing.assert_allclose(g.ground_z(xy), -1.73, atol=0.05)


def test_cluster_separates_objects_and_merges_gaps():
    rng = np.random.default_rng(1)
    a = rng.uniform([0, 0], [2, 1], (200, 2))
    b = rng.uniform([5, 0], [6, 1], (100, 2))
    gap = np.r_[rng.uniform([10, 0], [10.5, 1], (50, 2)), rng.uniform([10.8, 0], [11.5, 1], (50, 2))]
    xy = np.r_[a, b, gap, [[30.0, 30.0]]]
    labels = cluster_bev(xy, cell=0.2, gap=1, min_points=2)
    assert len(set(labels[:200])) == 1 and len(set(labels[200:300])) == 1
    assert labels[0] != labels[200]
    assert len(set(labels[300:400])) == 1          # 0.3 m gap bridged by one cell of dilation
    assert labels[-1] == -1                         # a lone point is below min_points
    parts = split_by_label(labels)
    assert sorted(len(p) for p in parts) == [100, 100, 200]


@pytest.mark.parametrize("angle_deg", [0.0, 17.0, 45.0, 71.0])
def test_lshape_recovers_orientation_of_two_visible_sides(angle_deg):
    rng = np.random.default_rng(0)
    # an L of a 4.5 x 1.8 rectangle: the two sides facing the sensor
    side = np.c_[rng.uniform(0, 4.5, 150), np.zeros(150)]
    front = np.c_[np.zeros(60), rng.uniform(0, 1.8, 60)]
    pts = np.r_[side, front] + rng.normal(0, 0.02, (210, 2))
    a = np.radians(angle_deg)
    R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    pts = pts @ R.T + [10, 5]
    theta = lshape_angle(pts)
    err = np.degrees(np.abs(angle_difference(4 * theta, 4 * a))) / 4   # modulo 90°
    assert err < 2.0
    rect = rect_at_angle(pts, theta)
    assert sorted(rect.size) == pytest.approx([1.8, 4.5], abs=0.15)


@pytest.mark.parametrize("angle_deg", [0.0, 30.0, 80.0])
def test_min_area_rectangle_of_a_whole_outline(angle_deg):
    rng = np.random.default_rng(2)
    u = rng.uniform(-1, 1, 400)
    side = rng.choice([-1.0, 1.0], 400)
    outline = np.r_[np.c_[u * 0.9, side * 0.3], np.c_[side * 0.9, u * 0.3]]
    a = np.radians(angle_deg)
    R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    theta = min_area_angle(outline @ R.T)
    assert np.degrees(abs(angle_difference(4 * theta, 4 * a))) / 4 < 1.0


@pytest.mark.parametrize("angle_deg", [10.0, 45.0, 75.0])
def test_a_cyclists_heading_follows_its_bulk_not_a_stray_handlebar(angle_deg):
    """A 1.7 x 0.3 m strip of returns with a handlebar end and a foot sticking out 0.3 m: the
    smallest rectangle tilts to catch them, the principal axis does not."""
    rng = np.random.default_rng(5)
    bulk = np.c_[rng.uniform(-0.85, 0.85, 300), rng.normal(0.0, 0.06, 300)]
    strays = np.r_[np.c_[rng.uniform(0.45, 0.55, 8), rng.uniform(0.25, 0.33, 8)],      # handlebar end
                   np.c_[rng.uniform(-0.15, -0.05, 8), rng.uniform(-0.33, -0.25, 8)]]  # a foot on the other side
    a = np.radians(angle_deg)
    R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    pts = np.r_[bulk, strays] @ R.T + [12.0, -4.0]
    err = lambda theta: np.degrees(abs(angle_difference(4 * theta, 4 * a))) / 4   # noqa: E731  (modulo 90°)
    assert err(small_object_angle(pts)) < 2.0
    assert err(min_area_angle(pts)) > 5.0          # what the smallest rectangle does with it


def test_a_round_footprint_keeps_the_smallest_rectangle():
    rng = np.random.default_rng(6)
    a = rng.uniform(0, 2 * np.pi, 200)
    pts = np.c_[0.3 * np.cos(a), 0.25 * np.sin(a)] + [5.0, 5.0]
    assert small_object_angle(pts) == pytest.approx(min_area_angle(pts))


def test_rect_swapped_is_the_same_rectangle():
    r = rect_at_angle(np.array([[0, 0], [4, 0], [4, 2], [0, 2.0]]) + [3, 1], 0.3)
    s = r.swapped()
    np.testing.assert_allclose(r.center, s.center, atol=1e-12)
    np.testing.assert_allclose(sorted(r.size), sorted(s.size), atol=1e-12)
    assert angle_difference(s.angle, r.angle) == pytest.approx(np.pi / 2)


def test_completion_grows_away_from_the_sensor():
    assert complete_extent(10.0, 11.0, 4.0, sensor=0.0) == (10.0, 14.0)
    assert complete_extent(-11.0, -10.0, 4.0, sensor=0.0) == (-14.0, -10.0)
    assert complete_extent(-0.5, 0.5, 2.0, sensor=0.0) == (-1.0, 1.0)
    assert complete_extent(0.0, 5.0, 4.0) == (0.0, 5.0)
    r = Rect(np.array([1.0, 0.0]), np.array([10.0, -1.0]), np.array([11.0, 1.0]))
    c = complete_rect(r, (4.0, 1.8))
    np.testing.assert_allclose(c.lo, [10.0, -1.0])
    np.testing.assert_allclose(c.hi, [14.0, 1.0])


def test_detector_finds_synthetic_objects_with_classes():
    boxes, labels, points, _ = scene()
    dets = GeometricDetector().detect(points)
    assert all(d.source == "model" and 0 < d.score <= 1 for d in dets)
    ious = iou_matrix(boxes, [d.box for d in dets])
    for k, (box, label) in enumerate(zip(boxes, labels)):
        j = int(np.argmax(ious[k]))
        need = 0.5 if label == "Car" else 0.25
        assert ious[k, j] >= need, (label, ious[k])
        assert dets[j].label == label
    # the parked car seen from behind and the side is completed to a full car (hidden sides)
    j = int(np.argmax(ious[2]))
    assert dets[j].box.length > 4.0
    # boxes stand on the sloped ground
    for k in range(3):
        j = int(np.argmax(ious[k]))
        assert dets[j].box.center[2] - dets[j].box.height / 2 == pytest.approx(
            boxes[k].center[2] - boxes[k].height / 2, abs=0.2)
    # nothing found where there is nothing: at most one spurious box
    assert len(dets) <= len(boxes) + 1


def test_detector_handles_empty_and_degenerate_input():
    det = GeometricDetector()
    assert det.detect(np.zeros((0, 4), np.float32)) == []
    assert det.detect(np.zeros((5, 2), np.float32)) == []
    flat, _ = synthetic_sweep([], 0.0)
    assert det.detect(flat) == []


def test_config_from_yaml_and_errors(tmp_path):
    p = tmp_path / "rig.yaml"
    p.write_text("max_range: 50\nground_windows: [3, 7]\npriors:\n  Car: {mean: [4, 1.8, 1.5], min: [3, 1.4, 1.2], "
                 "max: [5.5, 2.2, 2.0], vehicle: true}\n")
    cfg = load_config(p)
    assert cfg.max_range == 50 and cfg.ground_windows == (3, 7) and cfg.priors["Car"].mean == (4.0, 1.8, 1.5)
    assert "Pedestrian" in cfg.priors
    with pytest.raises(InputError, match="unknown setting"):
        config_from_dict({"max_rnage": 3}, p)
    with pytest.raises(InputError, match="max_range"):
        config_from_dict({"max_range": -1}, p)
    with pytest.raises(InputError, match=r"priors\.Car\.mean"):
        config_from_dict({"priors": {"Car": {"mean": [1, 2], "min": [1, 1, 1], "max": [2, 2, 2]}}}, p)
    assert isinstance(make_detector("builtin", p), GeometricDetector)
    assert make_detector("builtin", p).config.max_range == 50


def test_traffic_side_setting(tmp_path):
    p = tmp_path / "rig.yaml"
    p.write_text("traffic_side: left\n")
    assert load_config(p).traffic_side == "left"
    assert config_from_dict({}).traffic_side == "none"
    with pytest.raises(InputError, match="traffic_side") as err:
        config_from_dict({"traffic_side": "middle"}, p)
    assert "right, left, none" in str(err.value) and str(p) in str(err.value)


def test_make_detector_rejects_bad_specs(tmp_path):
    for spec in ("yolo", "onnx:", "predictions"):
        with pytest.raises(InputError, match="--detector"):
            make_detector(spec)
    with pytest.raises(InputError, match="not found"):
        make_detector(f"onnx:{tmp_path / 'missing.onnx'}")
    with pytest.raises(InputError, match="not found"):
        make_detector(f"predictions:{tmp_path / 'none'}")


@pytest.mark.realdata
def test_real_kitti_car_and_pedestrians_found(kitti_object):
    from fusionlabel.io.kitti import open_kitti_object

    drive = open_kitti_object(kitti_object)
    i = drive.index_of("000134")
    gt = drive.labels(i)
    dets = GeometricDetector().detect(drive.points(i))
    car = next(g for g in gt if g.label == "Car" and np.hypot(*g.box.center[:2]) < 20)
    best = max(dets, key=lambda d: bev_iou(d.box, car.box))
    assert bev_iou(best.box, car.box) > 0.6 and best.label == "Car"
    peds = [g for g in gt if g.label == "Pedestrian"]
    found = sum(any(bev_iou(d.box, g.box) >= 0.25 and d.label == "Pedestrian" for d in dets) for g in peds)
    assert found >= len(peds) // 2


@pytest.mark.realdata
def test_real_ground_is_below_every_labelled_box(kitti_object):
    from fusionlabel.io.kitti import open_kitti_object

    drive = open_kitti_object(kitti_object)
    for i in range(len(drive)):
        ground = ground_of(drive.points(i), BuiltinConfig())
        for g in drive.labels(i):
            if np.hypot(*g.box.center[:2]) > 40:
                continue
            bottom = g.box.center[2] - g.box.height / 2
            assert abs(ground.ground_z(np.array([g.box.center[:2]]))[0] - bottom) < 0.35, g.label


def test_settings_example_in_the_docs_loads():
    import re

    import yaml

    doc = REPO_DOCS / "prelabel.md"
    if not doc.is_file():
        pytest.skip("docs/prelabel.md not found")
    block = re.search(r"```yaml\n(.*?)```", doc.read_text(), re.S).group(1)
    cfg = config_from_dict(yaml.safe_load(block))
    assert cfg.priors["Van"].vehicle and cfg.priors["Van"].weight == 0.8
    assert cfg.priors["Pedestrian"].mean == (0.63, 0.44, 1.75)


# ----------------------------------------------------------------------------------- issue 5 follow-up
def near_car_sweep():
    """A 40-beam LiDAR looking no lower than -16° (its lowest beam meets the road 6.3 m away) and a
    car right beside the ego, inside that blind circle: the LiDAR sees its flank and hood, no road."""
    car = box_on_ground(3.6, -2.2, (4.6, 1.9, 1.5), -1.54)
    points, hit = synthetic_sweep([car], beams=40, fov_deg=(-16.0, 7.0))
    return car, points, hit


def test_ground_under_a_car_beside_the_ego_is_the_road_not_its_hood(monkeypatch):
    import fusionlabel.assist.ground as G

    car, points, _ = near_car_sweep()
    true_bottom = car.center[2] - car.height / 2
    under = np.array([car.center[:2]])
    assert abs(estimate_ground(points).ground_z(under)[0] - true_bottom) < 0.2
    # without the blind-circle rule the car's own low returns pass for ground (the test can fail)
    monkeypatch.setattr(G, "BLIND_SHARE", 0.0)
    monkeypatch.setattr(G, "SPREAD_WINDOW", 0.0)
    assert estimate_ground(points).ground_z(under)[0] - true_bottom > 0.3


def test_detector_finds_the_car_beside_the_ego():
    car, points, _ = near_car_sweep()
    dets = GeometricDetector().detect(points)
    best = max(dets, key=lambda d: bev_iou(d.box, car))
    assert best.label == "Car" and bev_iou(best.box, car) > 0.6 and best.score >= 0.5


def test_sensor_steps_are_recovered_from_the_sweep():
    from fusionlabel.assist.features import azimuth_step, elevation_steps

    points, _ = synthetic_sweep([], beams=40, columns=1800, fov_deg=(-16.0, 7.0))
    assert np.degrees(azimuth_step(points)) == pytest.approx(0.2, rel=0.02)
    _, steps = elevation_steps(points)
    np.testing.assert_allclose(np.degrees(steps), 23.0 / 39, rtol=0.05)


@pytest.mark.realdata
def test_sensor_steps_of_real_lidars(realdata):
    """Published beam layouts: HDL-64E 1/3° (upper block) and 1/2° (lower block), HDL-32E 1.33°,
    Pandar40 0.33° around the horizon and 1° at the edges; azimuth 0.17-0.35° per step."""
    from fusionlabel.assist.features import azimuth_step, elevation_steps
    from fusionlabel.io.pointcloud import read_points

    cases = {"kitti_object/training/velodyne/000001.bin": (0.17, [(-1.0, 1 / 3), (-15.0, 0.5)]),
             "sustech_sequence/lidar/000965.pcd": (0.2, [(-1.0, 0.33), (-12.0, 1.0)])}
    lidar = sorted((realdata / "nuscenes_mini" / "samples" / "LIDAR_TOP").glob("*.pcd.bin"))
    if lidar:
        cases[str(lidar[0].relative_to(realdata))] = (0.33, [(-20.0, 1.33), (0.0, 1.33)])
    for rel, (az, layout) in cases.items():
        path = realdata / rel
        if not path.is_file():
            continue
        points = read_points(path)
        assert np.degrees(azimuth_step(points)) == pytest.approx(az, rel=0.1), rel
        el, steps = elevation_steps(points)
        for at, step in layout:
            assert np.degrees(np.interp(np.radians(at), el, steps)) == pytest.approx(step, rel=0.15), (rel, at)


def _facing_sweep(boxes):
    points, hit = synthetic_sweep(boxes, beams=64, columns=1800, fov_deg=(-24.8, 2.0))
    return points, hit


def test_seen_area_of_a_wall_is_its_area_at_any_range():
    from fusionlabel.assist.features import azimuth_step, elevation_steps, seen_area

    for x in (12.0, 25.0):
        wall = box_on_ground(x, 0.0, (0.05, 2.0, 1.4), 0.0)
        points, hit = _facing_sweep([wall])
        steps = (azimuth_step(points), elevation_steps(points))
        # the face towards the sensor is 2.0 m x 1.4 m
        assert seen_area(points[hit == 0, :3], *steps) == pytest.approx(2.8, rel=0.15), x


def test_hole_share_tells_a_railing_from_a_solid_body():
    from fusionlabel.assist.features import azimuth_step, hole_share

    solid = box_on_ground(10.0, 0.0, (0.3, 3.0, 1.1), 0.0)
    posts = [box_on_ground(10.0, y, (0.1, 0.1, 1.1), 0.0) for y in np.arange(-1.5, 1.6, 0.5)]
    for boxes, lo, hi in (([solid], 0.0, 0.05), (posts, 0.5, 1.0)):
        points, hit = _facing_sweep(boxes)
        obj = hit >= 0
        h = points[obj, 2] + 1.8
        share = hole_share(points[obj, :3], h, azimuth_step(points))
        assert lo <= share <= hi, (len(boxes), share)


def test_hidden_parts_of_a_car_seen_from_ahead_are_joined_but_not_a_person_in_front():
    from fusionlabel.assist.cluster import merge_hidden_parts

    rng = np.random.default_rng(3)
    # a car 30 m ahead: its bumper (0.3-0.8 m), then 1.2 m further its windscreen (1.0-1.4 m)
    bumper = np.c_[np.full(60, 30.0), rng.uniform(-0.8, 0.8, 60)]
    screen = np.c_[np.full(40, 31.2), rng.uniform(-0.7, 0.7, 40)]
    # a person standing on the road 1 m in front of another car's bumper, 10 m to the left
    person = np.c_[rng.uniform(19.0, 19.3, 30), rng.uniform(9.8, 10.1, 30)]
    other = np.c_[np.full(60, 20.3), rng.uniform(9.0, 11.0, 60)]
    xy = np.r_[bumper, screen, person, other]
    h = np.r_[rng.uniform(0.3, 0.8, 60), rng.uniform(1.0, 1.4, 40), rng.uniform(0.3, 1.7, 30),
              rng.uniform(0.3, 0.8, 60)]
    labels = cluster_bev(xy, 0.2, 1, 5)
    assert len(set(labels[:60]) | set(labels[60:100])) == 2          # apart in BEV
    merged = merge_hidden_parts(xy, h, labels)
    assert len(set(merged[:100])) == 1                                # the windscreen floats: joined
    assert merged[100] != merged[130] and len(set(merged[100:130])) == 1


def _shape(rect_size, top, area, n=100, tight=None, **kw):
    from fusionlabel.assist.classify import ClusterShape

    rect = Rect(np.array([1.0, 0.0]), np.array([20.0, -rect_size[1] / 2]),
                np.array([20.0 + rect_size[0], rect_size[1] / 2]))
    t = rect if tight is None else Rect(rect.axis, rect.lo, rect.lo + np.asarray(tight))
    return ClusterShape(rect, 0.3, top, 0.0, n, t, kw.pop("low", 0.6), kw.pop("up", 0.5), False,
                        kw.pop("edge", 0.1), kw.pop("holes", 0.0), area, crown_span=kw.pop("crown", float("nan")))


def test_classes_by_shape_and_seen_area():
    from fusionlabel.assist.classify import classify

    priors = BuiltinConfig().priors
    # a car's back alone (1.8 m wide, 0.6 m deep, 2 m² of solid surface) is a car ...
    assert classify(_shape((0.6, 1.8), 1.5, 2.0, up=0.8), priors).label == "Car"
    # ... a cyclist seen from the side, as long as a car is wide, shows half that surface
    assert classify(_shape((1.7, 0.6), 1.6, 1.0, up=0.3), priors).label == "Cyclist"
    # a pole is thinner than any person
    pole = classify(_shape((0.15, 0.15), 1.9, 0.4, n=300), priors)
    assert pole is None or pole.label != "Pedestrian" or pole.score < 0.5
    person = classify(_shape((0.5, 0.4), 1.75, 0.5, n=80), priors)
    assert person.label == "Pedestrian" and person.score >= 0.5
    # a flat 1.5 m panel (sign board, hoarding) is not a car's back
    panel = classify(_shape((0.08, 1.5), 1.6, 2.0, up=0.9), priors)
    assert panel is None or panel.label != "Car" or panel.score < 0.5
    # two people side by side show more surface than one person can
    pair = classify(_shape((0.9, 0.5), 1.75, 1.3, n=160), priors)
    assert pair is None or pair.label != "Pedestrian" or pair.score < person.score / 2


def test_crown_tells_a_cars_back_from_a_scooter_rider():
    """The highest points of a car's back span it (roof line); a rider on a scooter, whose upper
    third spans its length (handlebar column in front, rider behind), shows only a head up there."""
    from fusionlabel.assist.builtin import describe_cluster, ground_of
    from fusionlabel.assist.classify import classify

    priors = BuiltinConfig().priors
    back = box_on_ground(15.0, 0.0, (0.5, 1.7, 1.45), 0.0)
    scooter = box_on_ground(15.0, 0.0, (1.6, 0.5, 1.65), np.pi / 2)       # seen from the side
    bottom = scooter.center[2] - scooter.height / 2
    x0, y0 = scooter.center[:2]
    parts = [scooter.with_(size=(1.6, 0.5, 0.45), center=(x0, y0, bottom + 0.45)),           # body
             scooter.with_(size=(0.15, 0.5, 1.0), center=(x0, y0 + 0.7, bottom + 0.75)),       # shield
             scooter.with_(size=(0.3, 0.7, 0.15), center=(x0, y0 + 0.3, bottom + 1.2)),        # arms
             scooter.with_(size=(0.4, 0.45, 0.6), center=(x0, y0 - 0.15, bottom + 1.1)),       # torso
             scooter.with_(size=(0.22, 0.22, 0.25), center=(x0, y0 - 0.15, bottom + 1.52))]    # head
    got = {}
    for name, boxes in (("back", [back]), ("rider", parts)):
        points, hit = _facing_sweep(boxes)
        obj = points[hit >= 0, :3]
        ground = ground_of(points, BuiltinConfig())
        h = ground.height_above(obj)
        keep = h > 0.2
        shape = describe_cluster(obj[keep, :2], h[keep], ground)
        got[name] = (shape, classify(shape, priors))
    back_shape, back_class = got["back"]
    rider_shape, rider_class = got["rider"]
    assert back_shape.crown_span >= 0.6 and rider_shape.crown_span <= 0.3
    assert rider_shape.upper_span > 0.6          # the old "as wide at the top" test alone says car
    assert back_class.label == "Car"
    assert rider_class.label == "Cyclist"
    # without the crown (unknown) the same shape falls back to the old rule: not a confident cyclist
    unknown = classify(_shape((1.6, 0.6), 1.6, 1.0, up=0.9), priors)
    assert unknown is None or unknown.label != "Cyclist" or unknown.score < 0.5
    narrow = classify(_shape((1.6, 0.6), 1.6, 1.0, up=0.9, crown=0.15), priors)
    assert narrow.label == "Cyclist" and narrow.score >= 0.5


@pytest.mark.realdata
def test_real_scooter_riders_seen_from_the_side_are_cyclists(realdata):
    """SUSTech's riders 5 and 50 at 29-33 m (000970, 000975): their upper third spans their length
    like a car's back, their crown does not."""
    from fusionlabel.io.pointcloud import read_points
    from fusionlabel.qa.datasets import read_sustech_labels

    root = realdata / "sustech_sequence"
    if not (root / "lidar" / "000975.pcd").is_file():
        pytest.skip("SUSTech sample not found")
    for frame in ("000970", "000975"):
        dets = GeometricDetector().detect(read_points(root / "lidar" / f"{frame}.pcd"))
        dets = [d for d in dets if d.score >= 0.5]
        for rider in (lab for lab in read_sustech_labels(root / "label" / f"{frame}.json") if lab.track_id in ("5", "50")):
            best = max(dets, key=lambda d: bev_iou(d.box, rider.box))
            assert best.label == "Cyclist" and bev_iou(best.box, rider.box) >= 0.25, (frame, rider.track_id)


def _kitti_134(kitti_object, kind: str):
    """KITTI 000134's sweep and its labels of one type (``"Cyclist"``, ``"Pedestrian"``) in the LiDAR frame."""
    from fusionlabel.io.kitti import label_from_kitti, read_kitti_calib, read_kitti_label_file
    from fusionlabel.io.pointcloud import read_points

    calib = read_kitti_calib(kitti_object / "calib" / "000134.txt")
    path = kitti_object / "label_2" / "000134.txt"
    labels = [label_from_kitti(line, calib.T_velo_rect, path, k + 1)
              for k, line in enumerate(read_kitti_label_file(path)) if line.type == kind]
    return read_points(kitti_object / "velodyne" / "000134.bin"), labels


@pytest.mark.realdata
def test_real_cyclists_are_boxed_along_their_heading(realdata, kitti_object):
    """Every cyclist box on a labelled cyclist (KITTI 000134, SUSTech 000965-000975) points the
    way the label does: median error <= 4 degrees (the smallest rectangle: 8), over 12 only for the
    KITTI cyclist that the peel takes from the bollards (a partial box)."""
    from fusionlabel.io.pointcloud import read_points
    from fusionlabel.qa.datasets import read_sustech_labels

    frames = [_kitti_134(kitti_object, "Cyclist")]
    sus = realdata / "sustech_sequence"
    if not (sus / "lidar" / "000975.pcd").is_file():
        pytest.skip("SUSTech sample not found")
    for frame in ("000965", "000970", "000975"):
        frames.append((read_points(sus / "lidar" / f"{frame}.pcd"),
                       [lab for lab in read_sustech_labels(sus / "label" / f"{frame}.json") if lab.label == "Rider"]))
    errors = []
    for points, riders in frames:
        dets = [d for d in GeometricDetector().detect(points) if d.score >= 0.5 and d.label == "Cyclist"]
        for rider in riders:
            on = [d for d in dets if bev_iou(d.box, rider.box) >= 0.25]
            errors += [np.degrees(abs(angle_difference(2 * d.box.yaw, 2 * rider.box.yaw))) / 2 for d in on]
    assert len(errors) >= 8
    assert np.median(errors) <= 4.0 and np.sum(np.array(errors) > 12.0) <= 1, np.round(errors, 1)


def test_a_persons_box_is_centred_on_the_body_not_grown_from_its_seen_face():
    assert centre_extent(10.0, 10.1, 0.8, sensor=0.0, depth=0.3) == pytest.approx((9.75, 10.55))
    assert centre_extent(-10.1, -10.0, 0.8, sensor=0.0, depth=0.3) == pytest.approx((-10.55, -9.75))
    assert centre_extent(-0.2, 0.2, 0.8, sensor=0.0, depth=0.3) == pytest.approx((-0.4, 0.4))
    assert centre_extent(10.0, 11.0, 0.8, sensor=0.0, depth=0.3) == (10.0, 11.0)
    # a synthetic person (legs, torso, head) 10-15 m away in several directions: the box's middle
    # lies on the body's, within 8 cm along the line of sight (grown from the seen face: 0.13 m and more)
    for x, y in ((10.0, 2.0), (6.0, -9.0), (-14.0, 4.0), (13.0, -3.0)):
        points, _ = _facing_sweep(person_parts(x, y))
        people = [d for d in GeometricDetector().detect(points) if d.label == "Pedestrian" and d.score >= 0.5]
        assert len(people) == 1, (x, y)
        ray = np.array([x, y]) / np.hypot(x, y)
        assert abs((np.asarray(people[0].box.center[:2]) - [x, y]) @ ray) < 0.08, (x, y)


def test_a_persons_box_faces_across_the_shoulder_line():
    """The synthetic person's shoulders (torso 0.45 m) and legs lie along y: it faces along x. The
    long side of its returns is the shoulder line, so its box (0.8 x 0.6 m prior) faces across it:
    heading along x (front or back, a single frame cannot tell), its 0.6 m side along the stride."""
    for x, y in ((10.0, 2.0), (13.0, -3.0), (-14.0, 4.0), (8.0, 6.0)):
        points, _ = _facing_sweep(person_parts(x, y))
        people = [d for d in GeometricDetector().detect(points) if d.label == "Pedestrian" and d.score >= 0.5]
        assert len(people) == 1, (x, y)
        box = people[0].box
        off = abs((box.yaw + np.pi / 2) % np.pi - np.pi / 2)      # heading's angle to the x axis, mod 180°
        assert np.degrees(off) < 20.0, (x, y, np.degrees(box.yaw))
        assert box.size[0] < box.size[1], (x, y, box.size)


def test_two_people_side_by_side_are_two_pedestrians():
    """0.6 m apart, shoulder to shoulder, they are one cluster; two heads make them two people."""
    points, hit = _facing_sweep(person_parts(10.0, 4.7) + person_parts(10.0, 5.3))
    dets = [d for d in GeometricDetector().detect(points) if d.score >= 0.5]
    people = [d for d in dets if d.label == "Pedestrian"]
    assert len(people) == 2 and len(dets) == 2
    ys = sorted(d.box.center[1] for d in people)
    assert ys[0] == pytest.approx(4.7, abs=0.2) and ys[1] == pytest.approx(5.3, abs=0.2)


@pytest.mark.realdata
def test_real_people_walking_side_by_side_are_both_found(kitti_object):
    """KITTI 000134: two people 0.6 m apart, 22 m away, one cluster; both are found."""
    points, people = _kitti_134(kitti_object, "Pedestrian")
    pair = [p for p in people if abs(p.box.center[1] - 11.9) < 0.3]
    assert len(pair) == 2
    dets = [d for d in GeometricDetector().detect(points) if d.score >= 0.5 and d.label == "Pedestrian"]
    iou = iou_matrix([p.box for p in pair], [d.box for d in dets])
    best = iou.argmax(axis=1)
    assert best[0] != best[1] and iou[0, best[0]] >= 0.25 and iou[1, best[1]] >= 0.25


@pytest.mark.realdata
def test_real_cyclist_beside_bollards_is_peeled_from_them(kitti_object):
    """KITTI 000134: the cyclist 19 m away rides past a row of bollards that gap bridging joins to
    him; no class explains the joined cluster, its largest piece on a fine grid is the cyclist."""
    points, cyclists = _kitti_134(kitti_object, "Cyclist")
    target = min(cyclists, key=lambda c: abs(float(np.hypot(*c.box.center[:2])) - 19.3))
    dets = [d for d in GeometricDetector().detect(points) if d.score >= 0.5]
    best = max(dets, key=lambda d: bev_iou(d.box, target.box))
    assert best.label == "Cyclist" and bev_iou(best.box, target.box) >= 0.5


@pytest.mark.realdata
def test_real_car_beside_the_ego_is_found(realdata):
    from fusionlabel.io.pointcloud import read_points
    from fusionlabel.qa.datasets import read_sustech_labels

    root = realdata / "sustech_sequence"
    if not (root / "lidar" / "000970.pcd").is_file():
        pytest.skip("SUSTech sample not found")
    car = next(lab for lab in read_sustech_labels(root / "label" / "000970.json") if lab.track_id == "2")
    dets = GeometricDetector().detect(read_points(root / "lidar" / "000970.pcd"))
    best = max(dets, key=lambda d: bev_iou(d.box, car.box))
    assert best.label == "Car" and bev_iou(best.box, car.box) >= 0.5


@pytest.mark.realdata
def test_real_data_quality_does_not_regress(realdata):
    """Floors well under the figures in docs/prelabel.md (all real frames together)."""
    from fusionlabel.qa import datasets as D
    from fusionlabel.qa.detection import EvalSettings, evaluate

    loaders = [(realdata / "kitti_object" / "training", D.kitti_object_frames),
               (realdata / "sustech_sequence", D.sustech_frames)]
    det, frames = GeometricDetector(), []
    for root, load in loaders:
        if root.is_dir():
            for points, f in load(root):
                f.pred = det.detect(points)
                frames.append(f)
    if not frames:
        pytest.skip("no real frames")
    r = evaluate(frames, EvalSettings(score_threshold=0.5))
    car = r["classes"]["car"]
    assert car["recall"] >= 0.75 and car["precision"] >= 0.62
    assert r["classes"]["pedestrian"]["recall"] >= 0.5
    assert r["classes"]["cyclist"]["recall"] >= 0.5
    assert r["edit_cost"]["weighted_ratio"] <= 0.65


def test_person_behind_a_parked_car_is_found_with_its_legs_hidden():
    from fusionlabel.assist.features import hidden_below

    car = box_on_ground(10.0, 0.0, (4.3, 1.8, 1.45), np.pi / 2)      # broadside, across the line of sight
    person = box_on_ground(12.0, 0.2, (0.5, 0.6, 1.8), np.pi / 4)    # turned: two sides seen, like a body
    points, hit = synthetic_sweep([car, person])
    body = points[hit == 1, :3].astype(np.float64)
    assert body[:, 2].min() > -1.8 + 0.6                               # only the upper body is seen
    others = points[hit >= 0, :3].astype(np.float64)
    order = np.argsort(np.arctan2(others[:, 1], others[:, 0]))
    others = others[order]
    az = np.arctan2(others[:, 1], others[:, 0])
    assert hidden_below(body, -1.8, others, az)
    # the same floating points with nothing in front of them (a sign, a canopy) are not hidden
    alone = body[:, :3]
    assert not hidden_below(alone, -1.8, alone[np.argsort(np.arctan2(alone[:, 1], alone[:, 0]))],
                            np.sort(np.arctan2(alone[:, 1], alone[:, 0])))
    dets = GeometricDetector().detect(points)
    assert dets, "nothing detected"
    best = max(dets, key=lambda d: bev_iou(d.box, person))
    assert best.label == "Pedestrian" and best.score >= 0.5 and bev_iou(best.box, person) > 0.25
    assert best.box.center[2] - best.box.height / 2 == pytest.approx(-1.8, abs=0.15)   # stands on the road


def _box_truck(x, y, yaw, length=7.5):
    """A box truck as separate parts (cab, cargo box on a chassis, wheels) and its labelled box."""
    whole = box_on_ground(x, y, (length, 2.45, 3.4), yaw)
    c, s = np.cos(yaw), np.sin(yaw)
    ground = whole.center[2] - whole.height / 2

    def part(along, size, bottom):
        return whole.with_(center=(x + along * c, y + along * s, ground + bottom + size[2] / 2), size=size)

    cab, cargo = 2.2, length - 2.4
    parts = [part(length / 2 - cab / 2, (cab, 2.35, 2.0), 0.6),
             part(-length / 2 + cargo / 2, (cargo, 2.45, 2.6), 0.8),
             part(0.0, (length - 0.6, 0.3, 0.25), 0.6)]
    parts += [part(a, (1.0, 2.1, 1.0), 0.0) for a in (length / 2 - 1.2, -length / 2 + 1.5, -length / 2 + 2.6)]
    return whole, parts


def test_a_box_truck_is_found_though_its_body_stands_high():
    """A truck's cargo box starts 0.8 m up: few of its returns lie below 1 m, fewer than a car's,
    yet it stands on its wheels (a tree crown on its trunk, with fewer still, is not a truck)."""
    from fusionlabel.assist.classify import classify

    truck, parts = _box_truck(16.0, -5.0, 0.25)
    points, _ = synthetic_sweep(parts, fov_deg=(-24.8, 8.0))
    dets = GeometricDetector().detect(points)
    best = max(dets, key=lambda d: bev_iou(d.box, truck))
    assert best.label == "Truck" and best.score >= 0.5 and bev_iou(best.box, truck) >= 0.6
    # the same footprint and height: 20 % of the points below 1 m is a truck, 4 % a crown on a trunk
    priors = BuiltinConfig().priors
    side = dict(rect_size=(7.5, 2.4), top=3.1, area=12.0, n=1500, up=0.95, edge=0.03)
    assert classify(_shape(**side, low=0.2), priors).score >= 0.5
    crown = classify(_shape(**side, low=0.04), priors)
    assert crown is None or crown.score < 0.1


def _van(x, y, yaw, size=(5.2, 2.0, 2.3)):
    """A box van as parts (body from 0.4 m up, bonnet, two axles of wheels) and its labelled box."""
    length, width, height = size
    whole = box_on_ground(x, y, size, yaw)
    c, s = np.cos(yaw), np.sin(yaw)
    ground = whole.center[2] - height / 2

    def part(along, sz, bottom):
        return whole.with_(center=(x + along * c, y + along * s, ground + bottom + sz[2] / 2), size=sz)

    nose = 0.8
    parts = [part(-nose / 2, (length - nose, width, height - 0.4), 0.4),
             part(length / 2 - nose / 2, (nose, width, 0.7), 0.4)]
    return whole, parts + [part(a, (0.7, width - 0.1, 0.45), 0.0) for a in (length / 2 - 0.9, -length / 2 + 0.9)]


def _hedge(x, y, yaw, length=5.5, depth=0.9):
    """A hedge of a van's size, 2.0-2.35 m high, with a bush rising to 2.7 m over 1 m of it: its
    top is not one level roof line."""
    whole = box_on_ground(x, y, (length, depth, 2.7), yaw)
    c, s = np.cos(yaw), np.sin(yaw)
    ground = whole.center[2] - 1.35
    heights = [2.1, 2.3, 2.0, 2.7, 2.7, 2.25, 2.05, 2.35, 2.15, 2.3, 2.2]
    return whole, [whole.with_(center=(x + a * c, y + a * s, ground + h / 2), size=(0.5, depth, h))
                   for a, h in zip(-length / 2 + 0.25 + 0.5 * np.arange(len(heights)), heights)]


def test_a_van_is_found_as_a_van_and_a_hedge_of_its_height_is_not():
    """A van's body is taller than any car (the car prior stops at 2.1 m) and shorter than a truck;
    its roof is level. A hedge or wall of that height whose top is not one level line (a bush, a
    post or a sign rising above part of it) is no van."""
    for x, y, yaw in ((14.0, -4.0, 0.35), (20.0, 5.0, -0.2), (9.0, 6.0, np.pi / 2)):
        van, parts = _van(x, y, yaw)
        points, _ = synthetic_sweep(parts, fov_deg=(-24.8, 8.0))
        dets = GeometricDetector().detect(points)
        best = max(dets, key=lambda d: bev_iou(d.box, van))
        assert best.label == "Van" and best.score >= 0.5 and bev_iou(best.box, van) >= 0.8, (x, y, best)
    for x, y, yaw in ((12.0, -5.0, 0.1), (10.0, -4.5, 0.0)):
        hedge, parts = _hedge(x, y, yaw)
        points, _ = synthetic_sweep(parts, fov_deg=(-24.8, 8.0))
        found = [d for d in GeometricDetector().detect(points) if bev_iou(d.box, hedge) > 0 and d.score >= 0.5]
        assert not [d for d in found if d.label in ("Van", "Car", "Truck")], found


def test_a_car_seen_close_with_its_top_cut_is_not_a_van():
    """Beside the ego a car's roof is above the highest beam: a cut top says the object may be
    taller than seen, but a van only once the seen height is more than a car's."""
    from dataclasses import replace

    from fusionlabel.assist.classify import classify

    priors = BuiltinConfig().priors
    car = replace(_shape((4.5, 1.9), 1.48, 4.4, n=4000, low=0.67, up=0.5, edge=0.07, crown=0.45), top_cut=True)
    assert classify(car, priors).label == "Car"
    tall = replace(car, top=2.3)          # seen taller than any car, top still cut: a van
    assert classify(tall, priors).label == "Van"


def test_a_truck_whose_highest_returns_cover_part_of_it_stays_a_truck():
    """The level-roof test is a van's: a truck's cab is lower than its cargo box, and at a distance
    its highest returns cover only part of that box. Such a truck keeps its truck reading."""
    from fusionlabel.assist.classify import classify

    priors = BuiltinConfig().priors
    side = dict(rect_size=(7.5, 2.4), top=3.1, area=12.0, n=1500, up=0.95, edge=0.03, low=0.2)
    for crown in (0.2, 0.3, 0.8):
        found = classify(_shape(**side, crown=crown), priors)
        assert found.label == "Truck" and found.score >= 0.5, (crown, found)
    # a van-sized cluster with the same broken top line is no van
    van = dict(rect_size=(5.2, 2.0), top=2.3, area=9.0, n=800, up=0.9, edge=0.05, low=0.35)
    assert classify(_shape(**van, crown=0.8), priors).label == "Van"
    broken = classify(_shape(**van, crown=0.2), priors)
    assert broken is None or broken.label != "Van" or broken.score < 0.5, broken


def _facade_corner(seen, gap=1.5, face_y=-16.0):
    """Two buildings 8 m high along a street, their fronts ``face_y`` to the side, 1.5 m apart: the
    first one's corner (its front and, through the gap, its end wall) is in view over ``seen`` m, a
    pole nearer to the street hiding the rest of its front. Returns the parts and the box a vehicle
    standing there would have."""
    first = box_on_ground(-22.5, face_y - 7.0, (15.0, 14.0, 8.0), 0.0)       # its end wall at x = -15
    second = box_on_ground(-15.0 + gap + 6.75, face_y - 7.0, (13.5, 14.0, 8.0), 0.0)
    hidden_from = -15.0 - seen
    pole = box_on_ground(hidden_from * 10.0 / -face_y - 0.25, -10.0, (0.5, 0.5, 5.0), 0.0)
    return [first, second, pole], box_on_ground(-15.0 - seen / 2, face_y - 1.0, (seen, 2.0, 2.5), 0.0)


@pytest.mark.parametrize("seen", [4.5, 5.5, 6.5, 8.0, 10.0])
def test_a_stretch_of_facade_cut_off_by_the_top_beam_and_nearer_things_is_no_vehicle(seen):
    """A building's corner seen between a pole and the next building, 20 m away: the highest beam
    cuts its top at 2.5-2.7 m (a cut top is level: the roof test passes it) and something nearer
    hides both of its ends. It is as long and as deep as a van or a truck seen from the side, but it
    shows no end of its own: no vehicle box on it."""
    parts, stretch = _facade_corner(seen)
    points, _ = synthetic_sweep(parts)
    found = [d for d in GeometricDetector().detect(points) if bev_iou(d.box, stretch) > 0 and d.score >= 0.5]
    assert not found, found


def _object_points(parts, points, ids, k):
    """A part's returns (n, 3) and every return off the ground (M, 3) sorted by azimuth, with their azimuths."""
    others = points[ids >= 0, :3].astype(np.float64)
    others = others[np.argsort(np.arctan2(others[:, 1], others[:, 0]))]
    return points[np.isin(ids, k), :3].astype(np.float64), others, np.arctan2(others[:, 1], others[:, 0])


def test_a_van_whose_top_is_cut_is_still_a_van_with_one_end_in_view():
    """A van 2.5-2.7 m high parked 9-11 m from the sensor, in front of the same buildings: the highest
    beam cuts its top above a car's height (2.2 m), yet past its ends the view goes on to the
    buildings behind it. With a car ahead of it hiding one end it is still a van."""
    from fusionlabel.assist.features import hidden_ends

    buildings = _facade_corner(5.5)[0][:2]
    ahead = box_on_ground(3.0, -6.8, (4.3, 1.8, 1.5), 0.0)
    for x, y, height, extra, hidden in ((8.0, -9.0, 2.6, [], 0), (-9.0, -9.5, 2.5, [], 0),
                                        (6.0, -11.0, 2.7, [], 0), (8.0, -9.0, 2.6, [ahead], 1)):
        van, parts = _van(x, y, 0.0, size=(5.2, 2.0, height))
        scene = buildings + extra + parts
        points, ids = synthetic_sweep(scene)
        body, others, az = _object_points(scene, points, ids, np.arange(len(scene) - len(parts), len(scene)))
        assert 2.1 < body[:, 2].max() + 1.8 < height - 0.2      # its top is cut above a car's height
        assert hidden_ends(body, others, az) == hidden, (x, y, extra)
        best = max(GeometricDetector().detect(points), key=lambda d: bev_iou(d.box, van))
        assert best.label == "Van" and best.score >= 0.5 and bev_iou(best.box, van) >= 0.8, (x, y, best)


def test_hidden_ends_counts_the_ends_something_nearer_hides():
    """The corner of a building seen between a pole and the next building has both ends hidden; past
    the pole in front of it the view goes on to the buildings (none hidden)."""
    from fusionlabel.assist.features import hidden_ends

    parts, stretch = _facade_corner(5.5)
    points, ids = synthetic_sweep(parts)
    first, others, az = _object_points(parts, points, ids, 0)
    seen = first[first[:, 0] > -15.0 - 5.5]          # the rest of its front is out of sight or a cluster of its own
    assert np.ptp(seen[:, 0]) > 4.0 and hidden_ends(seen, others, az) == 2
    assert hidden_ends(_object_points(parts, points, ids, 2)[0], others, az) == 0


def _cab_and_body_truck(x, y, yaw, gap=0.3, sensor_h=1.95):
    """A box truck 8 m long as its cab (2.2 m long, 2.35 wide, 0.6-2.6 m up) and its cargo box
    (2.45 wide, 0.8-3.4 m up) ``gap`` m behind it, and its labelled box."""
    whole = box_on_ground(x, y, (8.0, 2.45, 3.4), yaw, sensor_h=sensor_h)
    c, s = np.cos(yaw), np.sin(yaw)
    ground = whole.center[2] - whole.height / 2

    def part(along, size, bottom):
        return whole.with_(center=(x + along * c, y + along * s, ground + bottom + size[2] / 2), size=size)

    cargo = 8.0 - 2.2 - gap
    return whole, [part(4.0 - 1.1, (2.2, 2.35, 2.0), 0.6), part(-4.0 + cargo / 2, (cargo, 2.45, 2.6), 0.8)]


@pytest.mark.parametrize("x, y, yaw", [(-2.0, 3.5, np.pi), (2.0, -3.5, 0.0), (-2.0, -3.5, np.pi)])
def test_a_truck_beside_the_ego_is_not_cut_into_a_van_across_it(x, y, yaw):
    """Right beside the ego only a truck's side is seen, its top cut at 2.3 m by the highest beam,
    and the finer grid breaks that side at the gap between cab and cargo box. The cab's side, 2.2 m
    long and taller than a car, looks like a van's back; but the face goes on in line past it for
    more than a van's length: it is one truck's side, and the truck is read whole."""
    truck, parts = _cab_and_body_truck(x, y, yaw)
    points, ids = synthetic_sweep(parts, fov_deg=(-24.8, 3.0), columns=700, sensor_h=1.95)
    detector = GeometricDetector(BuiltinConfig().with_(min_score=0.0))
    labels = detector.prepare(points, ground_of(points, detector.config), top_beam=np.inf, scan_lines=False)
    cab = (points[ids == 0, :2].mean(0) - detector.object_xy) ** 2
    (found,) = detector.explain(np.flatnonzero(labels == labels[np.argmin(cab.sum(1))]))
    assert found.label == "Truck" and bev_iou(found.box, truck) >= 0.8, (found.label, found.box)



def test_two_vans_nose_to_tail_beside_the_ego_are_still_two_vans():
    """The side of two vans parked 0.3 m apart beside the ego is as long and straight as a truck's,
    but each van is boxed along it: pieces of a long face read along it are kept."""
    from fusionlabel.assist.fit import one_click_box

    vans = [_van(x, 3.3, 0.0, size=(5.2, 2.0, 2.6)) for x in (-4.0, 1.5)]
    points, _ = synthetic_sweep([p for _, parts in vans for p in parts], fov_deg=(-24.8, 3.0), columns=700)
    for van, _ in vans:
        found = one_click_box(points, van.center[:2])
        assert found.label == "Van" and bev_iou(found.box, van) >= 0.9, (found.label, found.box)
