"""A fisheye that sees more than 90 degrees off its optical axis shows points and box edges behind
its image plane: checked against an equidistant projection written here (atan2 on the angle off
the axis, the OpenCV fisheye polynomial), for render, the app's batched wireframes and both
projection backends. Pinhole cameras keep their near plane."""

from __future__ import annotations

import numpy as np
import pytest

from fusionlabel.app.projected_boxes import WIRE_EDGES, wireframes
from fusionlabel.geometry.cameras import camera_from_params
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.geometry.cuboid_projection import cuboid_wireframe_pixels, view_near
from fusionlabel.geometry.projection import project_points
from fusionlabel.geometry.transforms import T_from_Rt, invert_T, rotation_from_euler, transform_points
from fusionlabel.render.camera_overlay import depth_sorted_points, draw_cuboid, draw_points, seen_points

K = (0.02, -0.005, 0.0, 0.0)
W = H = 1200
F = 300.0
C = (W - 1) / 2.0


def wide_fisheye():
    # 600 px from the centre to an edge at 300 px/rad: about 115 degrees off the axis at the edges.
    return camera_from_params("fisheye", W, H, F, F, C, C, K)


def reference_pixels(p_cam: np.ndarray) -> np.ndarray:
    """Equidistant fisheye projection of camera-frame points (N, 3), by the angle off the axis."""
    x, y, z = p_cam.T
    rho = np.hypot(x, y)
    theta = np.arctan2(rho, z)
    t2 = theta ** 2
    theta_d = theta * (1 + K[0] * t2 + K[1] * t2 ** 2 + K[2] * t2 ** 3 + K[3] * t2 ** 4)
    return np.column_stack([F * theta_d * x / rho + C, F * theta_d * y / rho + C])


def angle_off_axis(p_cam: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan2(np.hypot(p_cam[:, 0], p_cam[:, 1]), p_cam[:, 2]))


T_CAM_LIDAR = invert_T(T_from_Rt(rotation_from_euler(-np.pi / 2, 0.0, np.pi / 2 + 0.2), (0.3, 0.9, 0.4)))


def side_points(n=400, seed=3) -> tuple[np.ndarray, np.ndarray]:
    """Points 95-100 degrees off the axis at 2-30 m (LiDAR frame, camera frame)."""
    rng = np.random.default_rng(seed)
    theta = np.radians(rng.uniform(95, 100, n))
    phi = rng.uniform(-np.pi, np.pi, n)
    r = rng.uniform(2, 30, n)
    p_cam = np.column_stack([r * np.sin(theta) * np.cos(phi), r * np.sin(theta) * np.sin(phi), r * np.cos(theta)])
    return transform_points(invert_T(T_CAM_LIDAR), p_cam), p_cam


@pytest.mark.parametrize("backend", ["numpy", "auto"])
def test_points_95_to_100_degrees_off_axis_project_where_the_reference_puts_them(backend):
    cam = wide_fisheye()
    lidar, p_cam = side_points()
    expected = reference_pixels(p_cam)
    assert (expected >= 0).all() and (expected < W - 0.5).all()      # all of them inside the image
    proj = project_points(lidar, T_CAM_LIDAR, cam, near=view_near(cam), backend=backend)
    assert len(proj.index) == len(lidar)
    np.testing.assert_allclose(proj.uv, expected[proj.index], atol=2e-3)   # float32 pixels


def test_render_and_app_draw_every_point_behind_the_image_plane():
    cam = wide_fisheye()
    lidar, p_cam = side_points()
    uv, depth = seen_points(lidar, T_CAM_LIDAR, cam)              # every point, coloured by distance
    np.testing.assert_allclose(uv, reference_pixels(p_cam), atol=2e-3)
    np.testing.assert_allclose(depth, np.linalg.norm(p_cam, axis=1), rtol=1e-5)
    uv, colors = depth_sorted_points(lidar, T_CAM_LIDAR, cam)     # the same, nearer colours last
    assert len(uv) == len(lidar) and len(np.unique(colors, axis=0)) > 5
    image = np.zeros((H, W, 3), np.uint8)
    assert draw_points(image, lidar, T_CAM_LIDAR, cam) == len(lidar)


def test_points_past_the_lens_valid_angle_or_behind_a_pinhole_are_not_drawn():
    cam = wide_fisheye()
    back = np.array([[0.1, 0.2, -10.0], [3.0, 0.0, -3.0]])      # 179 and 135 degrees: outside the image
    lidar = transform_points(invert_T(T_CAM_LIDAR), back)
    assert len(depth_sorted_points(lidar, T_CAM_LIDAR, cam)[0]) == 0
    pinhole = camera_from_params("pinhole", W, H, F, F, C, C, ())
    lidar, _ = side_points(50)
    assert len(depth_sorted_points(lidar, T_CAM_LIDAR, pinhole)[0]) == 0


def box_beside_camera() -> Cuboid:
    """A car-sized box 4 m to the camera's side, straddling the image plane z = 0, plus a part
    reaching far behind the camera (past what the image can see)."""
    return Cuboid(center=(4.0, 0.5, 0.0), size=(2.0, 1.6, 6.0), yaw=0.0)


def test_box_edges_crossing_the_image_plane_follow_the_reference_projection():
    cam = wide_fisheye()
    box = box_beside_camera()                                     # defined directly in the camera frame
    corners = box.corners()
    assert corners[:, 2].min() < 0 < corners[:, 2].max()
    assert angle_off_axis(corners).max() < np.degrees(cam.view_theta)   # the whole box is in view
    lines = cuboid_wireframe_pixels(corners, cam, edges=WIRE_EDGES)
    assert len(lines) == len(WIRE_EDGES)                          # nothing cut at z = 0
    f = np.linspace(0, 1, lines[0].shape[0])[:, None]
    for (a, b), line in zip(WIRE_EDGES, lines):
        np.testing.assert_allclose(line, reference_pixels(corners[a] + f * (corners[b] - corners[a])), atol=1e-6)
    # The app's batched wireframes are the same polylines.
    (wire,) = wireframes([box], np.eye(4), cam)
    np.testing.assert_allclose(wire.lines, np.stack(lines), atol=1e-9)
    assert wire.depth == pytest.approx(np.linalg.norm(box.center))
    image = np.zeros((H, W, 3), np.uint8)
    assert draw_cuboid(image, box, np.eye(4), cam, (255, 0, 0))
    assert (image[..., 0] > 0).sum() > 500


def test_an_edge_leaving_the_view_is_clipped_where_it_reaches_the_widest_image_angle():
    cam = wide_fisheye()
    limit = np.degrees(cam.view_theta)
    # One long edge from 60 degrees off the axis to almost straight behind the camera.
    box = Cuboid(center=(2.0, 0.0, -2.0), size=(0.1, 0.1, 16.0), yaw=0.0)
    corners = box.corners()
    angles = angle_off_axis(corners)
    assert angles.min() < 20 and angles.max() > limit
    lines = cuboid_wireframe_pixels(corners, cam)
    from fusionlabel.geometry.cuboid import EDGES
    cut = 0
    for (a, b) in EDGES:
        pa, pb = corners[a], corners[b]
        if angle_off_axis(pa[None])[0] > limit:
            pa, pb = pb, pa
        if angle_off_axis(pa[None])[0] <= limit < angle_off_axis(pb[None])[0]:
            # Independent crossing: bisection on the angle along the edge.
            lo, hi = 0.0, 1.0
            for _ in range(80):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if angle_off_axis((pa + mid * (pb - pa))[None])[0] <= limit else (lo, mid)
            start, end = reference_pixels(np.stack([pa, pa + lo * (pb - pa)]))
            assert any(np.allclose(line[[0, -1]], [start, end], atol=1e-5) or
                       np.allclose(line[[-1, 0]], [start, end], atol=1e-5) for line in lines)
            cut += 1
    assert cut == 4                                             # the four long edges
    (wire,) = wireframes([box], np.eye(4), cam)
    assert wire.lines.shape[0] == len(WIRE_EDGES) - 4          # the back face, past the view, is gone


def test_pinhole_still_clips_box_edges_at_the_near_plane():
    pinhole = camera_from_params("pinhole", W, H, F, F, C, C, ())
    box = Cuboid(center=(0.0, 0.0, 1.0), size=(1.0, 1.0, 4.0), yaw=0.0)
    lines = cuboid_wireframe_pixels(box.corners(), pinhole, near=0.1)
    ends = np.concatenate([line[[0, -1]] for line in lines])
    # Edge ends are either corners in front (z = 3) or the near-plane crossings (z = 0.1): u = F x / z + C.
    allowed = {round(F * s / z + C, 6) for s in (-0.5, 0.5) for z in (3.0, 0.1)}
    assert {round(u, 6) for u in ends[:, 0]} <= allowed
    (wire,) = wireframes([box], np.eye(4), pinhole)
    assert wire.depth == 1.0


@pytest.mark.parametrize("wide", [False, True])
def test_extents_of_many_boxes_in_one_pass_equal_each_box_alone(wide):
    """cuboid_image_extents (one pass, used by the exports' 2D boxes) gives each box the extent of
    its own wireframe polylines: boxes ahead, beside, straddling and behind the camera, for a
    pinhole and for a fisheye seeing beyond 90 degrees (edges split by the view cone)."""
    from fusionlabel.geometry.cuboid_projection import cuboid_image_extents

    camera = wide_fisheye() if wide else camera_from_params("pinhole", 800, 600, 500.0, 500.0, 399.5, 299.5)
    rng = np.random.default_rng(5)
    boxes = [Cuboid((rng.uniform(-15, 15), rng.uniform(-3, 3), rng.uniform(-12, 25)),
                    tuple(rng.uniform(0.5, 5, 3)), rng.uniform(-np.pi, np.pi)) for _ in range(200)]
    boxes.append(Cuboid((0.0, 0.0, -30.0), (2.0, 2.0, 2.0), 0.0))          # far behind: unseen by both
    corners = np.stack([b.corners() for b in boxes])
    got = cuboid_image_extents(corners, camera)
    unseen = 0
    for row, c in zip(got, corners):
        lines = cuboid_wireframe_pixels(c, camera)
        uv = np.concatenate(lines) if lines else np.empty((0, 2))
        uv = uv[np.all(np.isfinite(uv), axis=1)]
        if len(uv) == 0:
            assert np.isnan(row).all()
            unseen += 1
        else:
            np.testing.assert_array_equal(row, [*uv.min(axis=0), *uv.max(axis=0)])
    assert 0 < unseen < len(boxes) // 2
    assert cuboid_image_extents(np.empty((0, 8, 3)), camera).shape == (0, 4)
