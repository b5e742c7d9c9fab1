import numpy as np
import pytest

from fusionlabel.geometry import transforms as tf


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def random_rotation(rng):
    q = rng.normal(size=4)
    return tf.rotation_from_quaternion(q)


def test_quaternion_round_trip_and_sign(rng):
    for _ in range(200):
        q = rng.normal(size=4)
        q /= np.linalg.norm(q)
        R = tf.rotation_from_quaternion(q)
        q2 = tf.quaternion_from_rotation(R)
        # q and -q are the same rotation
        assert min(np.abs(q - q2).max(), np.abs(q + q2).max()) < 1e-12
        assert q2[0] >= 0
        assert tf.rotation_error(R) < 1e-12


def test_quaternion_matches_axis_angle_closed_form():
    # 90 degrees about z maps x to y.
    R = tf.rotation_from_quaternion([np.cos(np.pi / 4), 0, 0, np.sin(np.pi / 4)])
    np.testing.assert_allclose(R @ [1, 0, 0], [0, 1, 0], atol=1e-15)
    np.testing.assert_allclose(tf.rotation_from_quaternion(tf.quaternion_from_yaw(0.3)), tf.rotation_z(0.3), atol=1e-15)


def test_invert_and_compose(rng):
    R = random_rotation(rng)
    T_a_b = tf.T_from_Rt(R, rng.normal(size=3))
    T_b_a = tf.invert_T(T_a_b)
    np.testing.assert_allclose(T_a_b @ T_b_a, np.eye(4), atol=1e-12)
    p_b = rng.normal(size=(10, 3))
    p_a = tf.transform_points(T_a_b, p_b)
    np.testing.assert_allclose(tf.transform_points(T_b_a, p_a), p_b, atol=1e-12)
    # p_a = T_a_b p_b against the homogeneous product
    np.testing.assert_allclose(p_a, (T_a_b @ np.c_[p_b, np.ones(10)].T).T[:, :3], atol=1e-12)


def test_transform_points_keeps_float32():
    pts = np.ones((5, 4), np.float32)
    out = tf.transform_points(np.eye(4), pts)
    assert out.dtype == np.float32 and out.shape == (5, 3)


def test_euler_round_trip(rng):
    for _ in range(100):
        roll, pitch, yaw = rng.uniform(-1.5, 1.5, 3)
        R = tf.rotation_from_euler(roll, pitch, yaw)
        np.testing.assert_allclose(tf.euler_from_rotation(R), (roll, pitch, yaw), atol=1e-10)
        assert tf.yaw_from_rotation(R) == pytest.approx(yaw)


def test_euler_at_gimbal_lock_rebuilds_the_rotation(rng):
    """Pitch +-90 degrees (a box heading along a levelled camera's optical axis): only yaw -+ roll is
    defined, and rounding noise must not pick angles that rebuild another rotation."""
    for _ in range(200):
        roll, yaw = rng.uniform(-np.pi, np.pi, 2)
        pitch = rng.choice([-np.pi / 2, np.pi / 2]) + rng.choice([0.0, 1e-12, -1e-12, 1e-9])
        R = tf.rotation_from_euler(roll, pitch, yaw) + rng.normal(scale=1e-16, size=(3, 3))
        back = tf.rotation_from_euler(*tf.euler_from_rotation(R))
        np.testing.assert_allclose(back, R, atol=1e-8)
    # the case the KITTI exporter met: a LiDAR box heading along +y, seen by a camera looking along +y
    R_cam_lidar = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]]) @ tf.rotation_z(-np.pi / 2)
    R = R_cam_lidar @ tf.rotation_z(np.pi / 2)
    np.testing.assert_allclose(tf.rotation_from_euler(*tf.euler_from_rotation(R)), R, atol=1e-12)


@pytest.mark.parametrize("a, expected", [(0.0, 0.0), (np.pi, np.pi), (-np.pi, np.pi), (3 * np.pi, np.pi),
                                         (-7.9, -7.9 + 2 * np.pi), (4.0, 4.0 - 2 * np.pi)])
def test_normalize_angle_range(a, expected):
    assert tf.normalize_angle(a) == pytest.approx(expected, abs=1e-12)
    assert -np.pi < tf.normalize_angle(a) <= np.pi


def test_angle_difference_shortest_arc():
    assert tf.angle_difference(np.pi - 0.1, -np.pi + 0.1) == pytest.approx(-0.2)
    np.testing.assert_allclose(tf.angle_difference([0.1, 3.0], [-0.1, -3.0]), [0.2, 6.0 - 2 * np.pi])


def test_nearest_rotation_fixes_small_errors(rng):
    R = random_rotation(rng) + rng.normal(scale=1e-4, size=(3, 3))
    assert tf.rotation_error(R) > 1e-6
    assert tf.rotation_error(tf.nearest_rotation(R)) < 1e-12


def test_check_T_names_shape():
    with pytest.raises(ValueError, match=r"\(4, 4\).*\(3, 4\)"):
        tf.check_T(np.zeros((3, 4)))


def test_inverse_3x3_matches_lapack_and_keeps_kitti_rotations_exact(rng):
    """The adjugate inverse agrees with numpy's LAPACK inverse on general and on slightly
    non-orthonormal matrices (KITTI prints rotations to ~1e-7), so invert_T still round-trips."""
    for _ in range(200):
        M = rng.normal(size=(3, 3))
        assert np.allclose(tf.inverse_3x3(M), np.linalg.inv(M), rtol=1e-9, atol=1e-9)
        R = np.round(random_rotation(rng), 7)              # orthonormal to ~1e-7 only
        T = tf.T_from_Rt(R, rng.normal(size=3) * 50)
        assert np.abs(tf.invert_T(T) @ T - np.eye(4)).max() < 1e-12
        assert np.abs(tf.invert_T(T)[:3, :3] - R.T).max() > 1e-9   # not a transpose
    with pytest.raises(ValueError, match="singular"):
        tf.inverse_3x3(np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"\(3, 3\)"):
        tf.inverse_3x3(np.eye(4))


def test_per_box_and_per_frame_inversions_make_no_lapack_call(monkeypatch, rng):
    """Interpolating a long track (one pose inversion a frame), writing KITTI boxes (one rotation
    inversion a box) and tracking (one Kalman update a match) call no LAPACK inverse: OpenBLAS runs
    each on its thread pool, which spins for up to milliseconds a call on a busy machine (I on a
    1,800-frame gap stalled the app 8.7 s)."""
    from fusionlabel.assist.interpolate import interpolate_track
    from fusionlabel.assist.tracker import Tracker
    from fusionlabel.geometry.cuboid import Cuboid
    from fusionlabel.io.kitti import kitti_from_cuboid
    from fusionlabel.model.annotation import CuboidLabel

    calls = []
    real = np.linalg.inv
    monkeypatch.setattr(np.linalg, "inv", lambda a: calls.append(1) or real(a))
    poses = {f: tf.T_from_Rt(tf.rotation_from_euler(0.0, 0.0, 0.01 * f), (f, 0.0, 0.0)) for f in range(200)}
    keys = {0: CuboidLabel(Cuboid((10.0, 0.0, 0.0), (4.5, 1.9, 1.6), 0.0), "car", "1", None, "human"),
            199: CuboidLabel(Cuboid((12.0, 1.0, 0.0), (4.5, 1.9, 1.6), 0.2), "car", "1", None, "human")}
    assert len(interpolate_track(keys, poses, list(range(1, 199)))) == 198
    T_rect_velo = tf.T_from_Rt(np.round(random_rotation(rng), 7), (0.1, -0.2, 0.3))
    for k in range(50):
        kitti_from_cuboid(Cuboid((5.0 + k, 1.0, 0.0), (4.5, 1.9, 1.6), 0.1 * k), T_rect_velo)
    tracker = Tracker()
    for f in range(20):
        tracker.step(f, 0.1 * f, [CuboidLabel(Cuboid((f * 1.0, 0.0, 0.0), (4.5, 1.9, 1.6), 0.0), "car", None, 0.9,
                                              "model")])
    assert calls == []
