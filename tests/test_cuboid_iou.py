import numpy as np
import pytest

from fusionlabel.geometry.cuboid import Cuboid, points_in_cuboid
from fusionlabel.geometry.iou import bev_iou, iou_3d, iou_matrix
from fusionlabel.geometry.polygon import clip_convex, polygon_area


def test_corner_order_documented():
    c = Cuboid((0, 0, 0), (4, 2, 1), 0.0).corners()
    np.testing.assert_allclose(c[0], [2, 1, -0.5])    # front-left-bottom
    np.testing.assert_allclose(c[1], [2, -1, -0.5])   # front-right-bottom
    np.testing.assert_allclose(c[6], [-2, -1, 0.5])   # rear-right-top
    # yaw 90 degrees: the front points to +y
    c = Cuboid((0, 0, 0), (4, 2, 1), np.pi / 2).corners()
    assert c[:2, 1].mean() == pytest.approx(2.0)


def test_invalid_cuboid_rejected():
    with pytest.raises(ValueError):
        Cuboid((0, 0, 0), (0, 1, 1))
    with pytest.raises(ValueError):
        Cuboid((np.nan, 0, 0), (1, 1, 1))


def test_identical_and_disjoint():
    a = Cuboid((1, 2, 0.5), (4, 2, 1.5), 0.3)
    assert bev_iou(a, a) == pytest.approx(1.0)
    assert iou_3d(a, a) == pytest.approx(1.0)
    b = a.with_(center=(20, 2, 0.5))
    assert bev_iou(a, b) == 0.0 and iou_3d(a, b) == 0.0
    c = a.with_(center=(1, 2, 5.0))  # same footprint, above it
    assert bev_iou(a, c) == pytest.approx(1.0) and iou_3d(a, c) == 0.0


def test_unit_square_rotated_45_closed_form():
    a = Cuboid((0, 0, 0), (1, 1, 1), 0.0)
    b = Cuboid((0, 0, 0), (1, 1, 1), np.pi / 4)
    # The intersection is a regular octagon with area 2(sqrt2 - 1).
    inter = 2 * (np.sqrt(2) - 1)
    assert bev_iou(a, b) == pytest.approx(inter / (2 - inter), abs=1e-12)
    assert iou_3d(a, b) == pytest.approx(inter / (2 - inter), abs=1e-12)


def test_shifted_boxes_analytic():
    a = Cuboid((0, 0, 0), (4, 2, 2), 0.0)
    b = Cuboid((1, 0, 0.5), (4, 2, 2), 0.0)
    assert bev_iou(a, b) == pytest.approx(3 / 5)
    # 3D: overlap 3 x 2 x 1.5 = 9, union 16 + 16 - 9 = 23
    assert iou_3d(a, b) == pytest.approx(9 / 23)
    # yaw pi is the same footprint
    assert bev_iou(a, a.with_(yaw=np.pi)) == pytest.approx(1.0)


def test_iou_against_monte_carlo():
    rng = np.random.default_rng(3)
    for _ in range(20):
        a = Cuboid(rng.uniform(-1, 1, 3), rng.uniform(1, 4, 3), rng.uniform(-np.pi, np.pi))
        b = Cuboid(rng.uniform(-1, 1, 3), rng.uniform(1, 4, 3), rng.uniform(-np.pi, np.pi))
        pts = rng.uniform(-5, 5, (400_000, 3))
        ina, inb = points_in_cuboid(pts, a), points_in_cuboid(pts, b)
        mc = (ina & inb).sum() / max((ina | inb).sum(), 1)
        assert iou_3d(a, b) == pytest.approx(mc, abs=0.01)


def test_polygon_clip_and_area():
    sq = np.array([[0, 0], [2, 0], [2, 2], [0, 2]], float)
    assert polygon_area(sq) == 4
    assert polygon_area(clip_convex(sq, sq + 1)) == pytest.approx(1.0)
    assert len(clip_convex(sq, sq + 5)) == 0
    assert polygon_area(clip_convex(sq[::-1], sq + 1)) == pytest.approx(1.0)  # clockwise input


def test_points_in_cuboid_rotated_and_pitched():
    box = Cuboid((10, 5, 1), (4, 2, 1.5), np.pi / 6, pitch=0.2, roll=-0.1)
    local = np.array([[1.9, 0.9, 0.7], [2.1, 0, 0], [0, 1.01, 0], [0, 0, -0.76], [-1.9, -0.9, -0.7]])
    pts = local @ box.rotation().T + np.array(box.center)
    np.testing.assert_array_equal(points_in_cuboid(pts, box), [True, False, False, False, True])


def test_transformed_round_trip():
    from fusionlabel.geometry.transforms import T_from_Rt, invert_T, rotation_z

    T = T_from_Rt(rotation_z(0.7), [3, -2, 1])
    box = Cuboid((1, 2, 3), (4, 2, 1.5), 0.4)
    back = box.transformed(T).transformed(invert_T(T))
    np.testing.assert_allclose(back.corners(), box.corners(), atol=1e-12)
    assert box.transformed(T).yaw == pytest.approx(1.1)


def test_iou_matrix_matches_pairwise():
    rng = np.random.default_rng(5)
    A = [Cuboid(rng.uniform(-5, 5, 3), rng.uniform(1, 4, 3), rng.uniform(-3, 3)) for _ in range(6)]
    B = [Cuboid(rng.uniform(-5, 5, 3), rng.uniform(1, 4, 3), rng.uniform(-3, 3)) for _ in range(5)]
    M = iou_matrix(A, B)
    for i, a in enumerate(A):
        for j, b in enumerate(B):
            assert M[i, j] == pytest.approx(bev_iou(a, b))
    assert iou_matrix([], B).shape == (0, 5)


def _random_boxes(rng, n, spread=6.0):
    return [Cuboid(rng.uniform(-spread, spread, 3), rng.uniform(0.3, 5.0, 3), rng.uniform(-np.pi, np.pi),
                   pitch=rng.uniform(-0.1, 0.1), roll=rng.uniform(-0.1, 0.1)) for _ in range(n)]


def test_points_in_cuboids_matrix_is_points_in_cuboid_for_every_box():
    from fusionlabel.geometry.cuboid import points_in_cuboids_matrix

    rng = np.random.default_rng(7)
    boxes = _random_boxes(rng, 30)
    points = rng.uniform(-8, 8, (400, 3))
    for margin in (0.0, 0.3):
        got = points_in_cuboids_matrix(points, boxes, margin)
        want = np.stack([points_in_cuboid(points, b, margin) for b in boxes], axis=1)
        assert got.shape == (400, 30) and got.any()
        np.testing.assert_array_equal(got, want)
    assert points_in_cuboids_matrix(np.zeros((0, 3)), boxes).shape == (0, 30)


def test_iou_matrix_pairs_leaves_the_other_pairs_at_zero():
    rng = np.random.default_rng(3)
    a, b = _random_boxes(rng, 12), _random_boxes(rng, 9)
    full = iou_matrix(a, b)
    pairs = rng.random(full.shape) < 0.5
    np.testing.assert_array_equal(iou_matrix(a, b, pairs=pairs), np.where(pairs, full, 0.0))


def test_bev_iou_against_shapely_on_random_and_touching_boxes():
    """Footprint IoU against an independent polygon library: random rotated boxes near each other,
    a box inside another, boxes sharing an edge, identical boxes."""
    pytest.importorskip("shapely")
    from shapely.geometry import Polygon

    rng = np.random.default_rng(3)
    pairs = []
    for _ in range(400):
        a = Cuboid(tuple(rng.uniform(-2, 2, 3)), tuple(rng.uniform(0.3, 5, 3)), yaw=float(rng.uniform(-4, 4)))
        b = Cuboid(tuple(rng.uniform(-2, 2, 3)), tuple(rng.uniform(0.3, 5, 3)), yaw=float(rng.uniform(-4, 4)))
        pairs.append((a, b))
    big = Cuboid((0, 0, 0), (6, 4, 2), yaw=0.3)
    pairs += [(big, Cuboid((0.5, 0.2, 0), (1, 1, 1), yaw=1.0)), (big, big),
              (Cuboid((0, 0, 0), (2, 2, 1)), Cuboid((2, 0, 0), (2, 2, 1))),        # a shared edge
              (Cuboid((0, 0, 0), (2, 2, 1)), Cuboid((1, 1, 0), (2, 2, 1)))]        # a quarter each
    for a, b in pairs:
        pa, pb = Polygon(a.bev_polygon()), Polygon(b.bev_polygon())
        inter = pa.intersection(pb).area
        assert bev_iou(a, b) == pytest.approx(inter / (pa.area + pb.area - inter), abs=1e-9)


@pytest.mark.parametrize("changes", [dict(center=(0.0, 1.0, 2.0)), dict(size=(1.0, 1.0, 1.0)), dict(yaw=1.2),
                                     dict(pitch=0.1), dict(roll=-0.2), dict(yaw=0.3 + 2 * np.pi)])
def test_a_copy_has_the_rotation_of_its_own_angles(changes):
    """A moved or resized copy reuses the rotation already computed; a turned one gets its own."""
    box = Cuboid((5.0, -2.0, 0.5), (4.0, 2.0, 1.5), 0.3, 0.05, -0.02)
    box.rotation()
    copy = box.with_(**changes)
    fresh = Cuboid(copy.center, copy.size, copy.yaw, copy.pitch, copy.roll)
    assert np.array_equal(copy.rotation(), fresh.rotation())


def test_a_moved_or_resized_copy_reuses_the_rotation(monkeypatch):
    """The label checks move and shrink boxes by the thousand: the rotation is computed once a box."""
    import fusionlabel.geometry.cuboid as cuboid

    box = Cuboid((5.0, -2.0, 0.5), (4.0, 2.0, 1.5), 0.3)
    box.rotation()
    calls = []
    real = cuboid.rotation_from_euler
    monkeypatch.setattr(cuboid, "rotation_from_euler", lambda *a: calls.append(a) or real(*a))
    box.with_(center=(1.0, 1.0, 1.0)).with_(size=(1.0, 1.0, 1.0)).rotation()
    assert calls == []
    box.with_(yaw=1.0).rotation()
    assert len(calls) == 1
