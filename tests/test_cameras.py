"""Camera models and LiDAR->camera projection, cross-checked against OpenCV and KITTI's calib."""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

from fusionlabel.geometry import projection
from fusionlabel.geometry.cameras import (
    FisheyeCamera,
    PinholeCamera,
    Projection,
    RadTanCamera,
    camera_from_params,
)
from fusionlabel.geometry.projection import (
    ProjectedPoints,
    numba_available,
    project_points,
    project_points_numba,
    project_points_numpy,
)
from fusionlabel.geometry.transforms import T_from_Rt, rotation_from_euler, transform_points

RADTAN5 = (-0.3, 0.1, 1e-3, -5e-4, -0.02)
RADTAN8 = (2.2, 0.9, 1e-3, -5e-4, 0.02, 2.6, 1.7, 0.15)
FISHEYE4 = (0.05, -0.01, 0.003, -0.0005)

CAMERAS = {
    "pinhole": PinholeCamera(1600, 900, 1260.0, 1255.0, 812.3, 441.7),
    "radtan4": RadTanCamera(1600, 900, 1260.0, 1255.0, 812.3, 441.7, (-0.25, 0.07, 2e-4, 1e-3)),
    "radtan5": RadTanCamera(1600, 900, 1260.0, 1255.0, 812.3, 441.7, RADTAN5),
    "radtan8": RadTanCamera(1600, 900, 1260.0, 1255.0, 812.3, 441.7, RADTAN8),
    "fisheye": FisheyeCamera(1280, 960, 400.0, 401.5, 637.2, 482.9, FISHEYE4),
}
BACKENDS = ["numpy", "numba"]


def _backend(name: str):
    if name == "numba" and not numba_available():
        pytest.skip("numba is not installed; only the NumPy path can be tested")
    return {"numpy": project_points_numpy, "numba": project_points_numba}[name]


def _opencv_project(camera, points_cam, rvec=None, tvec=None) -> np.ndarray:
    """Reference pixels (N, 2) from OpenCV for points (N, 3), optionally with an extrinsic."""
    rvec = np.zeros(3) if rvec is None else rvec
    tvec = np.zeros(3) if tvec is None else tvec
    pts = np.ascontiguousarray(points_cam, dtype=np.float64).reshape(-1, 1, 3)
    if camera.model == "fisheye":
        uv, _ = cv2.fisheye.projectPoints(pts, np.array(rvec, dtype=np.float64).reshape(3, 1),
                                          np.array(tvec, dtype=np.float64).reshape(3, 1), camera.K,
                                          np.array(camera.distortion))
    else:
        uv, _ = cv2.projectPoints(pts, rvec, tvec, camera.K, np.array(camera.distortion, dtype=np.float64))
    return uv.reshape(-1, 2)


def _points_in_valid_fov(camera, n: int, rng, depth=(0.5, 80.0), fraction=0.95) -> np.ndarray:
    """(n, 3) camera-frame points in front of the camera, within ``fraction`` of the valid region
    and spread over (and somewhat beyond) the image."""
    if camera.model == "fisheye":
        theta = rng.uniform(0.0, min(fraction * camera.valid_theta, math.radians(85.0)), n)
        phi = rng.uniform(-np.pi, np.pi, n)
        d = np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], 1)
        return d * (rng.uniform(*depth, n) / d[:, 2])[:, None]
    half_w = 1.3 * max(camera.cx, camera.width - camera.cx) / camera.fx
    half_h = 1.3 * max(camera.cy, camera.height - camera.cy) / camera.fy
    xy = rng.uniform(-1.0, 1.0, (4 * n, 2)) * [half_w, half_h]
    xy = xy[np.hypot(xy[:, 0], xy[:, 1]) < fraction * camera.valid_radius][:n]
    assert xy.shape[0] == n
    z = rng.uniform(*depth, n)
    return np.column_stack([xy * z[:, None], z])


def _random_T(rng) -> np.ndarray:
    """A LiDAR->camera transform: camera looking along a random LiDAR heading, with a random offset."""
    R_cam_lidar = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])
    R = R_cam_lidar @ rotation_from_euler(*rng.uniform(-0.05, 0.05, 2), rng.uniform(-np.pi, np.pi))
    return T_from_Rt(R, rng.uniform(-1.5, 1.5, 3))


# ------------------------------------------------------------------------------- projection vs OpenCV
@pytest.mark.parametrize("name", list(CAMERAS))
def test_project_matches_opencv(name):
    camera = CAMERAS[name]
    points = _points_in_valid_fov(camera, 20_000, np.random.default_rng(1))
    proj = camera.project(points)
    assert isinstance(proj, Projection)
    assert proj.uv.shape == (len(points), 2) and proj.uv.dtype == np.float64
    assert proj.in_front.all()
    np.testing.assert_array_equal(proj.depth, points[:, 2])
    ref = _opencv_project(camera, points)
    assert np.abs(proj.uv - ref).max() < 1e-6
    # Enough of the sample lands in the image for the comparison to mean something.
    assert 0.2 < proj.in_image.mean() < 1.0 or camera.model == "fisheye"
    np.testing.assert_array_equal(proj.in_image, camera.in_bounds(ref))


@pytest.mark.parametrize("name", list(CAMERAS))
def test_distort_matches_opencv_with_identity_intrinsics(name):
    camera = CAMERAS[name]
    points = _points_in_valid_fov(camera, 2000, np.random.default_rng(2), depth=(1.0, 1.0))
    unit = dataclasses.replace(camera, fx=1.0, fy=1.0, cx=0.0, cy=0.0)
    np.testing.assert_allclose(camera.distort(points[:, :2]), _opencv_project(unit, points), rtol=0, atol=1e-12)


def test_fisheye_wide_angles_beyond_90_degrees():
    """theta = atan2(rho, z) keeps the fisheye model exact for rays behind the image plane."""
    camera = FisheyeCamera(1280, 960, 300.0, 300.0, 640.0, 480.0, (0.02, -0.004, 0.0005, -2e-5))
    assert camera.valid_theta > math.radians(100)
    assert camera.valid_radius == math.inf
    theta = np.radians(np.linspace(0.0, 100.0, 101))
    phi = np.radians(np.linspace(0.0, 700.0, 101))
    points = 7.0 * np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], 1)
    proj = camera.project(points, near=-100.0)
    k1, k2, k3, k4 = camera.distortion
    for (u, v), t, f in zip(proj.uv, theta, phi):
        t_d = t * (1 + k1 * t**2 + k2 * t**4 + k3 * t**6 + k4 * t**8)
        assert u == pytest.approx(camera.fx * t_d * math.cos(f) + camera.cx, abs=1e-9)
        assert v == pytest.approx(camera.fy * t_d * math.sin(f) + camera.cy, abs=1e-9)
    rays = camera.unproject(proj.uv)
    np.testing.assert_allclose(rays, points / 7.0, rtol=0, atol=1e-9)
    # The default near plane still culls everything at or behind z = 0.1.
    assert not camera.project(points[theta > math.radians(89.5)]).in_front.any()


def test_projection_through_extrinsic_matches_opencv_rvec_tvec():
    rng = np.random.default_rng(3)
    camera = CAMERAS["radtan5"]
    T_cam_lidar = _random_T(rng)
    points_lidar = rng.uniform(-40, 40, (50_000, 3))
    proj = camera.project(transform_points(T_cam_lidar, points_lidar))
    rvec, _ = cv2.Rodrigues(T_cam_lidar[:3, :3])
    ref = _opencv_project(camera, points_lidar, rvec.ravel(), T_cam_lidar[:3, 3])
    assert proj.in_image.sum() > 1000
    assert np.abs(proj.uv[proj.in_image] - ref[proj.in_image]).max() < 1e-6


# ------------------------------------------------------------------------------------- unprojection
@pytest.mark.parametrize("name", list(CAMERAS))
def test_unproject_inverts_project(name):
    camera = CAMERAS[name]
    points = _points_in_valid_fov(camera, 20_000, np.random.default_rng(4))
    rays = camera.unproject(camera.project(points).uv)
    assert rays.shape == points.shape and rays.dtype == np.float64
    np.testing.assert_allclose(np.linalg.norm(rays, axis=1), 1.0, rtol=0, atol=1e-14)
    directions = points / np.linalg.norm(points, axis=1, keepdims=True)
    assert np.abs(rays - directions).max() < 1e-9
    np.testing.assert_allclose(camera.unproject([[camera.cx, camera.cy]]), [[0.0, 0.0, 1.0]], atol=1e-15)


@pytest.mark.parametrize("name", ["radtan4", "radtan5", "radtan8"])
def test_undistort_matches_opencv_iterative(name):
    camera = CAMERAS[name]
    rng = np.random.default_rng(5)
    uv = rng.uniform([0, 0], [camera.width - 1, camera.height - 1], (3000, 2))
    xy_d = (uv - [camera.cx, camera.cy]) / [camera.fx, camera.fy]
    ours = camera.undistort(xy_d)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 500, 1e-15)
    ref = cv2.undistortPointsIter(uv.reshape(-1, 1, 2), camera.K, np.array(camera.distortion), None, None,
                                  criteria).reshape(-1, 2)
    assert np.isfinite(ours).all()
    assert np.abs(ours - ref).max() < 1e-6
    np.testing.assert_allclose(camera.distort(ours), xy_d, rtol=0, atol=1e-13)


def test_fisheye_undistort_matches_opencv():
    camera = CAMERAS["fisheye"]
    rng = np.random.default_rng(6)
    # Stay within ~80 degrees off axis, where cv2.fisheye's x/z formulation is well conditioned.
    uv = rng.uniform(-1.0, 1.0, (3000, 2)) * 380.0 + [camera.cx, camera.cy]
    xy_d = (uv - [camera.cx, camera.cy]) / [camera.fx, camera.fy]
    ours = camera.undistort(xy_d)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-15)
    ref = cv2.fisheye.undistortPoints(uv.reshape(-1, 1, 2), camera.K, np.array(camera.distortion),
                                      criteria=criteria).reshape(-1, 2)
    assert np.isfinite(ours).all()
    assert np.abs(ours - ref).max() < 1e-6 * (1.0 + np.abs(ref).max())
    np.testing.assert_allclose(camera.distort(ours), xy_d, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["radtan4", "radtan5", "radtan8"])
def test_radtan_jacobian_matches_finite_differences(name):
    camera = CAMERAS[name]
    xy = np.random.default_rng(10).uniform(-0.8, 0.8, (500, 2))
    analytic = np.stack(camera._jacobian(xy[:, 0], xy[:, 1]), axis=1).reshape(-1, 2, 2)
    h = 1e-6
    numeric = np.empty_like(analytic)
    for j, step in enumerate(([h, 0.0], [0.0, h])):
        numeric[:, :, j] = (camera.distort(xy + step) - camera.distort(xy - step)) / (2 * h)
    np.testing.assert_allclose(analytic, numeric, rtol=0, atol=1e-7)


def test_unproject_outside_valid_region_is_nan():
    camera = RadTanCamera(1600, 900, 400.0, 400.0, 800.0, 450.0, (-0.5, 0.0, 0.0, 0.0))
    r_d_max = camera.valid_radius * (1 - 0.5 * camera.valid_radius**2)  # peak of r (1 - 0.5 r^2)
    uv = np.array([[800.0 + 400.0 * 0.99 * r_d_max, 450.0], [800.0 + 400.0 * 1.01 * r_d_max, 450.0]])
    rays = camera.unproject(uv)
    assert np.isfinite(rays[0]).all() and np.isnan(rays[1]).all()


# ------------------------------------------------------------------------------------ validity region
def test_valid_radius_analytic_cases():
    assert CAMERAS["pinhole"].valid_radius == math.inf
    # r_d = r - 0.5 r^3 peaks where 1 - 1.5 r^2 = 0.
    strong = RadTanCamera(1600, 900, 1000.0, 1000.0, 800.0, 450.0, (-0.5, 0.0, 0.0, 0.0, 0.0))
    assert strong.valid_radius == pytest.approx(math.sqrt(2.0 / 3.0), rel=1e-12)
    # theta_d = theta - 0.2 theta^3 peaks where 1 - 0.6 theta^2 = 0.
    fish = FisheyeCamera(1000, 1000, 300.0, 300.0, 500.0, 500.0, (-0.2, 0.0, 0.0, 0.0))
    assert fish.valid_theta == pytest.approx(math.sqrt(1.0 / 0.6), rel=1e-12)
    assert fish.valid_radius == pytest.approx(math.tan(math.sqrt(1.0 / 0.6)), rel=1e-9)
    # Rational model with a pole in the denominator at r = 1: never valid past it.
    pole = RadTanCamera(1600, 900, 1000.0, 1000.0, 800.0, 450.0, (0, 0, 0, 0, 0, -1.0, 0, 0))
    assert pole.valid_radius <= 1.0
    # Zero distortion behaves like a pinhole.
    assert RadTanCamera(1600, 900, 1000.0, 1000.0, 800.0, 450.0, (0, 0, 0, 0)).valid_radius == math.inf


def test_radial_map_monotonic_up_to_valid_radius():
    # radtan4's r (1 - 0.25 r^2 + 0.07 r^4) never folds: valid up to the search limit.
    assert CAMERAS["radtan4"].valid_radius == 10.0
    camera = CAMERAS["radtan5"]
    R = camera.valid_radius
    assert 0.5 < R < 10.0
    k1, k2, _, _, k3 = (*camera.distortion, 0.0)[:5]

    def r_d(r):  # radial part of the OpenCV model, written out independently
        return r * (1 + k1 * r**2 + k2 * r**4 + k3 * r**6)

    r = np.linspace(0.0, R, 20_001)
    assert np.all(np.diff(r_d(r)) > 0)
    assert r_d(R * 1.01) < r_d(R)


@pytest.mark.parametrize("backend", BACKENDS)
def test_points_past_the_fold_are_rejected(backend):
    """A point far outside the FOV whose distorted pixel falls back inside the image."""
    camera = RadTanCamera(1600, 900, 1000.0, 1000.0, 800.0, 450.0, (-0.5, 0.0, 0.0, 0.0, 0.0))
    folded = np.array([[1.2 * 10.0, 0.1 * 10.0, 10.0]])  # r ~ 1.2 > valid radius 0.816
    inside = np.array([[0.3 * 10.0, 0.1 * 10.0, 10.0]])
    ref = _opencv_project(camera, folded)
    assert camera.in_bounds(ref).all(), "OpenCV places the folded point inside the image"
    proj = camera.project(np.vstack([folded, inside]))
    np.testing.assert_allclose(proj.uv[0], ref[0], atol=1e-6)
    assert proj.in_front.all()
    assert proj.in_image.tolist() == [False, True]
    out = _backend(backend)(np.vstack([folded, inside]).astype(np.float32), np.eye(4), camera)
    assert out.index.tolist() == [1]


# ------------------------------------------------------------------------------- near plane, bounds
def test_points_behind_or_at_near_plane_never_in_image():
    camera = CAMERAS["radtan5"]
    points = np.array([
        [0.0, 0.0, 0.1],      # exactly at near
        [0.0, 0.0, 0.0],      # on the camera plane
        [0.0, 0.0, -5.0],     # behind
        [1.0, 2.0, -0.0],
        [0.0, 0.0, np.nan],
        [np.nan, 0.0, 5.0],
        [np.inf, 0.0, 5.0],
        [0.0, 0.0, np.inf],
        [0.01, 0.0, 0.1000001],  # just in front of near, on the optical axis
    ])
    for camera in CAMERAS.values():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            proj = camera.project(points)
            rays = camera.unproject(np.array([[np.nan, 1.0], [1e30, -1e30]]))
        assert proj.in_front.tolist() == [False] * 4 + [False, True, True, True, True]
        assert proj.in_image.tolist() == [False] * 8 + [True]
        assert np.isnan(proj.uv[:5]).all()
        assert rays.shape == (2, 3)
        for backend in BACKENDS:
            if backend == "numba" and not numba_available():
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                out = project_points(points, np.eye(4), camera, backend=backend)
            assert out.index.tolist() == [8]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert camera.project(points, near=1.0).in_front.tolist() == [False] * 5 + [True, True, True, False]


@pytest.mark.parametrize("backend", [None, *BACKENDS])
def test_pixel_centre_bounds_convention(backend):
    camera = PinholeCamera(100, 50, 100.0, 100.0, 49.5, 24.5)
    # u = 100 x + 49.5, v = 100 y + 24.5: all values below are exact in binary floating point.
    points = np.array([
        [-0.5, 0.0, 1.0],    # u = -0.5        -> in
        [0.5, 0.0, 1.0],     # u = 99.5 = w-.5 -> out
        [0.4921875, 0.0, 1.0],  # u = 98.71875 -> in
        [-0.50390625, 0.0, 1.0],  # u = -0.890625 -> out
        [0.0, -0.25, 1.0],   # v = -0.5        -> in
        [0.0, 0.25, 1.0],    # v = 49.5 = h-.5 -> out
        [0.0, 0.2421875, 1.0],  # v = 48.71875 -> in
    ])
    expected = [True, False, True, False, True, False, True]
    if backend is None:
        proj = camera.project(points)
        assert proj.uv[0, 0] == -0.5 and proj.uv[1, 0] == 99.5 and proj.uv[5, 1] == 49.5
        assert proj.in_image.tolist() == expected
    else:
        out = _backend(backend)(points, np.eye(4), camera)
        assert out.index.tolist() == np.flatnonzero(expected).tolist()


# --------------------------------------------------------------------------------- fast projection
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", list(CAMERAS))
def test_project_points_matches_camera_project(backend, name):
    fn = _backend(backend)
    camera = CAMERAS[name]
    rng = np.random.default_rng(7)
    points = rng.uniform(-50, 50, (200_000, 4)).astype(np.float32)
    points[::97, :3] *= 0.01  # some points very close to the sensor
    T_cam_lidar = _random_T(rng)
    out = fn(points, T_cam_lidar, camera)
    assert isinstance(out, ProjectedPoints)
    assert out.index.dtype == np.int64 and out.uv.dtype == np.float32 and out.depth.dtype == np.float32
    assert out.uv.shape == (len(out.index), 2) and out.depth.shape == out.index.shape

    proj = camera.project(transform_points(T_cam_lidar, points.astype(np.float64)))
    expected = np.flatnonzero(proj.in_image)
    assert len(expected) > 2000
    np.testing.assert_array_equal(out.index, expected)
    assert np.abs(out.uv - proj.uv[expected]).max() < 1e-3
    np.testing.assert_allclose(out.depth, proj.depth[expected], rtol=1e-6)

    # Independent check of the whole chain (extrinsic + intrinsics + distortion) against OpenCV.
    rvec, _ = cv2.Rodrigues(T_cam_lidar[:3, :3])
    ref = _opencv_project(camera, points[out.index, :3].astype(np.float64), rvec.ravel(), T_cam_lidar[:3, 3])
    assert np.abs(out.uv - ref).max() < 1e-3


@pytest.mark.parametrize("backend", BACKENDS)
def test_project_points_exact_at_the_near_plane(backend):
    """float32 points within rounding error of z = near: the float64 rule decides, in both paths."""
    fn = _backend(backend)
    rng = np.random.default_rng(11)
    camera = CAMERAS["pinhole"]
    T_cam_lidar = _random_T(rng)
    T_cam_lidar[:3, 3] = [40.0, -30.0, 70.0]  # LiDAR-frame coordinates ~90 m: float32 error ~1e-5 m
    near = 0.5
    n = 100_000
    q = np.column_stack([rng.uniform(-0.3, 0.3, (n, 2)), near + rng.uniform(-2e-5, 2e-5, n)])
    points = ((q - T_cam_lidar[:3, 3]) @ T_cam_lidar[:3, :3]).astype(np.float32)  # camera -> LiDAR
    proj = camera.project(transform_points(T_cam_lidar, points.astype(np.float64)), near)
    expected = np.flatnonzero(proj.in_image)
    # Both sides of the near plane are represented, many within float32 rounding of it.
    z32 = points @ T_cam_lidar[2, :3].astype(np.float32) + np.float32(T_cam_lidar[2, 3])
    assert 1000 < len(expected) < n - 1000
    assert ((z32 <= near) & proj.in_image).sum() > 100
    out = fn(points, T_cam_lidar, camera, near)
    np.testing.assert_array_equal(out.index, expected)


@pytest.mark.parametrize("backend", BACKENDS)
def test_project_points_input_layouts(backend):
    fn = _backend(backend)
    camera = CAMERAS["radtan5"]
    rng = np.random.default_rng(8)
    points = rng.uniform(-30, 30, (50_000, 5))
    T_cam_lidar = _random_T(rng)
    base = fn(points, T_cam_lidar, camera)
    assert len(base.index) > 500
    variants = {
        "xyz only": np.ascontiguousarray(points[:, :3]),
        "float32": points.astype(np.float32),
        "fortran": np.asfortranarray(points),
        "int-free slice": points[:, :4],
    }
    for label, pts in variants.items():
        out = fn(pts, T_cam_lidar, camera)
        if pts.dtype == np.float64:
            np.testing.assert_array_equal(out.index, base.index, err_msg=label)
            np.testing.assert_array_equal(out.uv, base.uv, err_msg=label)
        else:
            assert abs(len(out.index) - len(base.index)) <= 2, label
    every_other = fn(points[::2], T_cam_lidar, camera)
    np.testing.assert_array_equal(every_other.index, base.index[base.index % 2 == 0] // 2)
    empty = fn(np.empty((0, 4), np.float32), T_cam_lidar, camera)
    assert empty.index.shape == (0,) and empty.uv.shape == (0, 2) and empty.depth.shape == (0,)
    nothing_visible = fn(points, T_from_Rt(np.eye(3), [0.0, 0.0, -1000.0]), camera)
    assert nothing_visible.index.shape == (0,)


def test_project_points_auto_backend_agrees():
    camera = CAMERAS["fisheye"]
    rng = np.random.default_rng(9)
    points = rng.uniform(-50, 50, (100_000, 4)).astype(np.float32)
    T_cam_lidar = _random_T(rng)
    auto = project_points(points, T_cam_lidar, camera)
    ref = project_points_numpy(points, T_cam_lidar, camera)
    np.testing.assert_array_equal(auto.index, ref.index)
    assert np.abs(auto.uv - ref.uv).max() < 1e-3


def test_numpy_fallback_when_numba_is_missing(monkeypatch):
    camera = CAMERAS["radtan5"]
    rng = np.random.default_rng(12)
    points = rng.uniform(-30, 30, (20_000, 4)).astype(np.float32)
    T_cam_lidar = _random_T(rng)
    expected = project_points_numpy(points, T_cam_lidar, camera)

    def no_numba(*args, **kwargs):
        raise ImportError("No module named 'numba'")

    monkeypatch.setattr(projection, "_kernel", None)
    monkeypatch.setattr(projection, "_numba_failed", False)
    monkeypatch.setattr(projection, "_build_kernel", no_numba)
    assert not numba_available()
    out = project_points(points, T_cam_lidar, camera)
    np.testing.assert_array_equal(out.index, expected.index)
    with pytest.raises(RuntimeError, match="numba is not available"):
        project_points(points, T_cam_lidar, camera, backend="numba")

    monkeypatch.setattr(projection, "_numba_failed", False)
    monkeypatch.setenv("FUSIONLABEL_DISABLE_NUMBA", "1")
    monkeypatch.setattr(projection, "_build_kernel", lambda: pytest.fail("numba must not be built"))
    assert not numba_available()


def test_importing_projection_does_not_import_numba():
    code = "import sys, fusionlabel.geometry.projection; print('numba' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.stdout.strip() == "False"


# -------------------------------------------------------------------------------------- real data
def _kitti_paths():
    root = Path(os.environ.get("FUSIONLABEL_REALDATA", "/work/shared/realdata")) / "kitti_object" / "training"
    velo, calib = root / "velodyne" / "000001.bin", root / "calib" / "000001.txt"
    if not (velo.is_file() and calib.is_file()):
        pytest.skip(f"KITTI sample not found under {root} (set FUSIONLABEL_REALDATA to the realdata folder)")
    return velo, calib, root / "image_2" / "000001.png"


def _read_kitti_calib(path: Path) -> dict[str, np.ndarray]:
    calib = {}
    for line in path.read_text().splitlines():
        if ":" in line:
            key, values = line.split(":", 1)
            calib[key.strip()] = np.array([float(v) for v in values.split()])
    return calib


@pytest.mark.realdata
@pytest.mark.parametrize("backend", BACKENDS)
def test_kitti_sweep_projection(backend):
    fn = _backend(backend)
    velo, calib_path, image_path = _kitti_paths()
    points = np.fromfile(velo, dtype=np.float32).reshape(-1, 4)
    calib = _read_kitti_calib(calib_path)
    P2 = calib["P2"].reshape(3, 4)
    R0 = np.eye(4)
    R0[:3, :3] = calib["R0_rect"].reshape(3, 3)
    Tr = np.vstack([calib["Tr_velo_to_cam"].reshape(3, 4), [0.0, 0.0, 0.0, 1.0]])
    image = cv2.imread(str(image_path))
    height, width = image.shape[:2] if image is not None else (375, 1242)

    K = P2[:, :3]
    assert K[0, 1] == 0.0 and K[1, 0] == 0.0
    camera = PinholeCamera(width, height, K[0, 0], K[1, 1], K[0, 2], K[1, 2])
    T_cam_velo = T_from_Rt(np.eye(3), np.linalg.solve(K, P2[:, 3])) @ R0 @ Tr

    # Direct KITTI projection: P2 @ R0_rect @ Tr_velo_to_cam on homogeneous points.
    hom = np.column_stack([points[:, :3].astype(np.float64), np.ones(len(points))])
    direct = hom @ (P2 @ R0 @ Tr).T
    proj = camera.project(transform_points(T_cam_velo, points.astype(np.float64)))
    front = proj.in_front
    np.testing.assert_allclose(proj.depth, direct[:, 2], rtol=0, atol=1e-9)
    assert np.abs(proj.uv[front] - direct[front, :2] / direct[front, 2:]).max() < 1e-6
    expected = np.flatnonzero(proj.in_image)
    assert 10_000 < len(expected) < len(points) // 2

    out = fn(points, T_cam_velo, camera)
    np.testing.assert_array_equal(out.index, expected)
    assert np.abs(out.uv - proj.uv[expected]).max() < 1e-3
    np.testing.assert_allclose(out.depth, proj.depth[expected], rtol=1e-6)


# ------------------------------------------------------------------------------- construction, errors
def test_camera_from_params_builds_each_model():
    cam = camera_from_params("radtan", 1600, 900, 1260, 1255, 800, 450, RADTAN5)
    assert isinstance(cam, RadTanCamera) and cam.model == "radtan" and cam.distortion == RADTAN5
    np.testing.assert_array_equal(cam.K, [[1260, 0, 800], [0, 1255, 450], [0, 0, 1]])
    assert cam.K.dtype == np.float64
    assert isinstance(camera_from_params("pinhole", 10, 10, 5, 5, 5, 5), PinholeCamera)
    assert isinstance(camera_from_params("FISHEYE", 10, 10, 5, 5, 5, 5, np.array(FISHEYE4)), FisheyeCamera)
    assert isinstance(camera_from_params("plumb_bob", 10, 10, 5, 5, 5, 5, RADTAN5), RadTanCamera)
    assert camera_from_params("radtan", 1600, 900, 1260, 1255, 800, 450, RADTAN5) == cam
    assert hash(camera_from_params("radtan", 1600, 900, 1260, 1255, 800, 450, RADTAN5)) == hash(cam)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cam.fx = 1.0


@pytest.mark.parametrize("args, match", [
    (("ocam_scaramuzza", 640, 480, 500, 500, 320, 240, ()), "unknown camera model"),
    (("pinhole", 640, 480, 500, 500, 320, 240, (0.1,)), "takes 0 distortion coefficients, got 1"),
    (("radtan", 640, 480, 500, 500, 320, 240, (0.1, 0.0, 0.0)), "takes 4 or 5 or 8"),
    (("radtan", 640, 480, 500, 500, 320, 240, (0.1,) * 6), "got 6"),
    (("radtan", 640, 480, 500, 500, 320, 240, ()), "got 0"),
    (("fisheye", 640, 480, 500, 500, 320, 240, (0.1,) * 5), "takes 4 distortion coefficients, got 5"),
    (("pinhole", 0, 480, 500, 500, 320, 240, ()), "width must be a positive integer"),
    (("pinhole", 640.5, 480, 500, 500, 320, 240, ()), "width must be a positive integer"),
    (("pinhole", 640, 480, 0.0, 500, 320, 240, ()), "focal lengths must be positive"),
    (("pinhole", 640, 480, 500, -500, 320, 240, ()), "focal lengths must be positive"),
    (("pinhole", 640, 480, 500, 500, float("nan"), 240, ()), "cx must be finite"),
    (("radtan", 640, 480, 500, 500, 320, 240, (0.1, np.inf, 0, 0)), "must be finite"),
])
def test_bad_params_raise_value_error(args, match):
    with pytest.raises(ValueError, match=match):
        camera_from_params(*args)


def test_bad_inputs_raise_value_error():
    camera = CAMERAS["radtan5"]
    with pytest.raises(ValueError, match="near"):
        camera.project(np.ones((3, 3)), near=-1.0)
    with pytest.raises(ValueError, match=r"shape \(N, 3\)"):
        camera.project(np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        camera.unproject(np.ones((3, 1)))
    for backend in ["numpy", "numba", "auto"]:
        if backend == "numba" and not numba_available():
            continue
        with pytest.raises(ValueError, match="points_lidar"):
            project_points(np.ones((3, 2), np.float32), np.eye(4), camera, backend=backend)
        with pytest.raises(ValueError, match="T_cam_lidar"):
            project_points(np.ones((3, 4), np.float32), np.eye(3), camera, backend=backend)
    with pytest.raises(ValueError, match="backend"):
        project_points(np.ones((3, 4), np.float32), np.eye(4), camera, backend="cuda")


def _kernel_interrupted_by(signal_exc):
    """A stand-in for the numba kernel that behaves as the real one does when a signal handler
    raises during the call: the interrupt comes out wrapped in a SystemError."""
    def kernel(*args):
        try:
            raise signal_exc
        except BaseException:
            raise SystemError("<numba kernel> returned a result with an exception set")
    return kernel


@pytest.mark.parametrize("make", ["keyboard", "terminated"])
def test_an_interrupt_inside_the_numba_kernel_is_not_a_numba_failure(make, monkeypatch, recwarn):
    """Ctrl+C or SIGTERM during the kernel reaches the caller (the CLI then stops as documented);
    the projection does not fall back to NumPy and warn as if numba had failed."""
    from fusionlabel.cli.main import Terminated

    exc = KeyboardInterrupt() if make == "keyboard" else Terminated()
    monkeypatch.setattr(projection, "_kernel", _kernel_interrupted_by(exc))
    cam = PinholeCamera(fx=500, fy=500, cx=320, cy=240, width=640, height=480)
    points = np.array([[0.0, 0.0, 5.0], [1.0, 0.5, 8.0]])
    with pytest.raises(KeyboardInterrupt) as caught:
        project_points(points, np.eye(4), cam)
    assert type(caught.value) is type(exc)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_a_real_numba_failure_still_falls_back_to_numpy(monkeypatch):
    """A SystemError with no interrupt behind it is a kernel failure: warn and give the NumPy result."""
    def broken(*args):
        raise SystemError("kernel broke")

    monkeypatch.setattr(projection, "_kernel", broken)
    monkeypatch.setattr(projection, "_numba_failed", False)
    cam = PinholeCamera(fx=500, fy=500, cx=320, cy=240, width=640, height=480)
    points = np.array([[0.0, 0.0, 5.0], [1.0, 0.5, 8.0], [0.0, 0.0, -3.0]])
    with pytest.warns(RuntimeWarning, match="kernel broke"):
        got = project_points(points, np.eye(4), cam)
    want = project_points_numpy(points, np.eye(4), cam)
    assert np.array_equal(got.index, want.index) and np.allclose(got.uv, want.uv)


def _points_around_the_view_edge(camera, rng, n: int = 40_000) -> np.ndarray:
    """Camera-frame points (N, 3) on rays through pixels just inside and just outside the image
    edges, at angles just past the widest the image sees (fisheye) or around the radius where the
    lens folds (radtan), behind the camera, and NaN."""
    w, h = camera.width, camera.height
    uv = np.column_stack([rng.uniform(-2.0, w + 1.0, n), rng.uniform(-2.0, h + 1.0, n)])
    off = rng.choice([-1e-3, 0.0, 1e-3, 0.5], n)  # just outside, on, just inside, inside
    side = rng.integers(0, 4, n)  # left, right, top, bottom edge
    uv[side == 0, 0] = -0.5 + off[side == 0]
    uv[side == 1, 0] = w - 0.5 - off[side == 1]
    uv[side == 2, 1] = -0.5 + off[side == 2]
    uv[side == 3, 1] = h - 0.5 - off[side == 3]
    rays = camera.unproject(uv)
    rays = rays[np.isfinite(rays).all(axis=1)]
    points = [rays * rng.uniform(0.5, 60.0, (len(rays), 1))]
    if isinstance(camera, FisheyeCamera):  # just past the widest angle, all around the axis
        theta = camera.view_theta + rng.uniform(-2.0, 2.0, n) * projection.CULL_MARGIN
        phi = rng.uniform(-np.pi, np.pi, n)
        points.append(np.column_stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)]))
    elif math.isfinite(camera.valid_radius):  # around the radius past which the lens folds
        r = camera.valid_radius * rng.uniform(0.97, 1.003, n)
        phi = rng.uniform(-np.pi, np.pi, n)
        points.append(np.column_stack([r * np.cos(phi), r * np.sin(phi), np.ones(n)]) * rng.uniform(1.0, 30.0, (n, 1)))
    points.append(rng.normal(0.0, 20.0, (n, 3)))  # everywhere, behind the camera too
    points = np.concatenate(points)
    points[::501] = np.nan
    return points


@pytest.mark.parametrize("name", ["fisheye_wide", "radtan_strong", "radtan8", "fisheye"])
def test_the_kernel_view_cull_drops_only_points_the_image_does_not_see(name, monkeypatch):
    """The numba kernel skips the lens model for points outside a conservative view cone (fisheye)
    or box (radtan), and the NumPy path culls alike: with and without the cull the result is the same
    to the bit, for points at the image edges and just past the widest angle."""
    if not numba_available():
        pytest.skip("numba is not installed")
    camera = {
        "fisheye_wide": FisheyeCamera(800, 600, 180.0, 180.0, 399.5, 299.5, (0.02, -0.004, 0.0005, -2e-5)),
        "radtan_strong": RadTanCamera(640, 480, 400.0, 410.0, 321.0, 238.0, (-0.35, 0.12, 0.001, -0.001, -0.02)),
    }.get(name) or CAMERAS[name]
    rng = np.random.default_rng(11)
    T_cam_lidar = _random_T(rng)
    points = transform_points(np.linalg.inv(T_cam_lidar), _points_around_the_view_edge(camera, rng))
    near = -math.inf if isinstance(camera, FisheyeCamera) and camera.view_theta > 0.5 * math.pi else 0.1
    assert projection._view_cull(camera)[4] == 1.0
    for dtype in (np.float32, np.float64):
        pts = points.astype(dtype)
        culled = project_points_numba(pts, T_cam_lidar, camera, near)
        with monkeypatch.context() as m:
            m.setattr(projection, "_view_cull", lambda camera: np.zeros(5))
            whole = project_points_numba(pts, T_cam_lidar, camera, near)
        assert len(whole.index) > 5000
        for a, b in zip(culled, whole):
            np.testing.assert_array_equal(a, b)
        culled = project_points_numpy(pts, T_cam_lidar, camera, near)  # the NumPy path's cull alike
        with monkeypatch.context() as m:
            m.setattr(projection, "_view_cull", lambda camera: np.zeros(5))
            m.setattr(projection, "_normalized_bbox", lambda camera: None)
            whole = project_points_numpy(pts, T_cam_lidar, camera, near)
        for a, b in zip(culled, whole):
            np.testing.assert_array_equal(a, b)
