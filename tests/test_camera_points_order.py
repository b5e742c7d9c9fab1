"""The camera overlay's point order (by colour level, a counting sort) draws exactly the picture of
the points sorted far first and painted one by one, nearer on top: checked pixel for pixel on
random clouds around a distorted camera, a wide fisheye (points behind its image plane) and a
pinhole, with points on the image edges, behind the camera, past the colour range and at equal
depths, for the baked overlay and for the zoomed view's squares."""

from __future__ import annotations

import numpy as np
import pytest

from fusionlabel.app.camera_zoom import POINT_PX, ViewTransform, draw_points_over
from fusionlabel.geometry.cameras import camera_from_params
from fusionlabel.geometry.transforms import T_from_Rt, invert_T, rotation_from_euler, transform_points
from fusionlabel.render.camera_overlay import depth_sorted_points, draw_points, seen_points
from fusionlabel.render.colors import depth_colors, depth_levels
from fusionlabel.render.splat import splat_size, splat_squares

CAMERAS = {
    # strong barrel distortion: a finite valid radius, the border bent inwards
    "radtan": ("radtan", 160, 120, 90.0, 92.0, 79.5, 61.0, (-0.32, 0.11, 0.001, -0.002, -0.015)),
    # about 115 degrees off the axis at the edges: sees behind its image plane
    "wide fisheye": ("fisheye", 200, 180, 50.0, 50.0, 99.5, 89.5, (0.02, -0.005, 0.0, 0.0)),
    "pinhole": ("pinhole", 150, 100, 120.0, 120.0, 74.5, 49.5, ()),
}
T_CAM_LIDAR = invert_T(T_from_Rt(rotation_from_euler(-np.pi / 2, 0.0, np.pi / 2 + 0.3), (0.4, -0.2, 1.1)))


def cloud(camera, n: int, seed: int) -> np.ndarray:
    """(N, 4) float32 LiDAR points: all around the camera (behind it too), a dense patch in view,
    points on the image edges and corners, many at exactly equal depths, some past 60 m."""
    rng = np.random.default_rng(seed)
    around = rng.normal(0.0, 12.0, (n, 3))
    # Rays through pixels (some just inside, some just outside the edges) at random depths.
    u = np.concatenate([rng.uniform(-1.0, camera.width, n // 2), rng.choice([-0.5, 0.0, camera.width - 0.51,
                                                                             camera.width - 0.5], n // 4)])
    v = np.concatenate([rng.uniform(-1.0, camera.height, n // 2), rng.uniform(-1.0, camera.height, n // 4)])
    rays = camera.unproject(np.column_stack([u, v]))
    rays = rays[np.isfinite(rays).all(axis=1)]
    dist = rng.choice([rng.uniform(0.3, 80.0), 7.25, 12.5, 33.0], len(rays))
    dist = np.where(rng.random(len(rays)) < 0.5, rng.uniform(0.3, 80.0, len(rays)), dist)
    on_rays = rays * dist[:, None]
    p_cam = np.concatenate([transform_points(T_CAM_LIDAR, around), on_rays])
    lidar = transform_points(invert_T(T_CAM_LIDAR), p_cam)
    return np.column_stack([lidar, rng.random(len(lidar))]).astype(np.float32)


def reference_picture(points, camera, splat: int) -> np.ndarray:
    """The points sorted far first (stable) and painted one by one, each over the earlier ones."""
    uv, depth = seen_points(points, T_CAM_LIDAR, camera)
    order = np.argsort(-np.asarray(depth, np.float64), kind="stable")
    uv, colors = uv[order], depth_colors(depth[order])
    image = np.zeros((camera.height, camera.width, 3), np.uint8)
    u = np.clip(np.round(uv[:, 0].astype(np.float64)).astype(int), 0, camera.width - 1)
    v = np.clip(np.round(uv[:, 1].astype(np.float64)).astype(int), 0, camera.height - 1)
    for i in range(len(uv)):
        image[v[i]:v[i] + splat, u[i]:u[i] + splat] = colors[i]
    return image


@pytest.mark.parametrize("name", list(CAMERAS))
def test_overlay_in_level_order_is_the_far_first_picture(name):
    camera = camera_from_params(*CAMERAS[name])
    for seed, splat in ((0, splat_size(camera.width)), (1, 3), (2, 1)):
        points = cloud(camera, 6000, seed)
        uv, colors = depth_sorted_points(points, T_CAM_LIDAR, camera)
        expected = reference_picture(points, camera, splat)
        got = np.zeros_like(expected)
        assert splat_squares(got, uv, colors, splat) == len(uv) > 2000
        assert np.array_equal(got, expected), (name, seed, splat)
        # overlapping squares of different colours, so the order was put to the test
        assert len(np.unique(colors, axis=0)) > 50
    if name == "wide fisheye":  # points behind the image plane are drawn
        p_cam = transform_points(T_CAM_LIDAR, points)
        assert len(uv) > len(seen_points(points[p_cam[:, 2] > 0.1], T_CAM_LIDAR, camera)[0]) + 100


@pytest.mark.parametrize("name", list(CAMERAS))
def test_zoomed_squares_in_level_order_are_the_far_first_picture(name):
    camera = camera_from_params(*CAMERAS[name])
    points = cloud(camera, 6000, 7)
    uv, colors = depth_sorted_points(points, T_CAM_LIDAR, camera)
    seen_uv, depth = seen_points(points, T_CAM_LIDAR, camera)
    far_first = np.argsort(-np.asarray(depth, np.float64), kind="stable")
    w, h = camera.width, camera.height
    # around the image centre, and over the right edge
    for tf in (ViewTransform(4.0, 4.0, 130.0 - 2.0 * w, 100.0 - 2.0 * h), ViewTransform(9.0, 9.0, 200.0 - 9.0 * w, 100.0 - 4.5 * h)):
        got, expected = np.zeros((200, 260, 3), np.uint8), np.zeros((200, 260, 3), np.uint8)
        drawn = draw_points_over(got, uv, colors, tf, (3, 2), POINT_PX)
        assert draw_points_over(expected, seen_uv[far_first], depth_colors(depth[far_first]), tf, (3, 2),
                                POINT_PX) == drawn > 100
        assert np.array_equal(got, expected)


def test_the_same_points_come_back_only_reordered():
    camera = camera_from_params(*CAMERAS["radtan"])
    points = cloud(camera, 4000, 3)
    uv, colors = depth_sorted_points(points, T_CAM_LIDAR, camera)
    seen_uv, depth = seen_points(points, T_CAM_LIDAR, camera)
    key = np.lexsort(np.column_stack([uv, colors]).T)
    ref = np.column_stack([seen_uv, depth_colors(depth)])
    assert np.array_equal(np.column_stack([uv, colors])[key], ref[np.lexsort(ref.T)])


def test_colour_levels_never_rise_with_depth():
    """What makes the level order exact: a nearer point's level is never below a farther one's,
    for float32 and float64 depths, across every level boundary and past both ends of the range."""
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        depth = np.sort(np.concatenate([rng.uniform(-5.0, 70.0, 200_000),
                                        60.0 * (1.0 - np.arange(256) / 255.0)])).astype(dtype)
        depth = np.concatenate([depth, np.nextafter(depth, np.inf)])
        depth.sort()
        levels = depth_levels(depth).astype(int)
        assert (np.diff(levels) <= 0).all()
        assert levels[0] == 255 and levels[-1] == 0


def test_draw_points_gives_the_reference_picture():
    """``fusionlabel render`` draws with the same order."""
    camera = camera_from_params(*CAMERAS["wide fisheye"])
    points = cloud(camera, 5000, 5)
    image = np.zeros((camera.height, camera.width, 3), np.uint8)
    draw_points(image, points, T_CAM_LIDAR, camera)
    assert np.array_equal(image, reference_picture(points, camera, splat_size(camera.width)))
