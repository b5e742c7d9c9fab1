"""Draw projected LiDAR points and cuboid wireframes onto a camera image."""

from __future__ import annotations

import cv2
import numpy as np

from ..geometry.cameras import CameraModel
from ..geometry.cuboid import FRONT_FACE, Cuboid
from ..geometry.cuboid_projection import cuboid_wireframe_pixels, view_near, wide_view_theta
from ..geometry.projection import project_points
from ..geometry.transforms import transform_points
from .colors import LABEL_CHIP_RGBA, colormap_lut, depth_levels
from .splat import splat_size, splat_squares

SHIFT = 4  # sub-pixel bits for cv2 drawing
FRONT_CROSS = np.array([[FRONT_FACE[0], FRONT_FACE[2]], [FRONT_FACE[1], FRONT_FACE[3]]])


def seen_points(points_lidar: np.ndarray, T_cam_lidar: np.ndarray, camera: CameraModel) -> tuple[np.ndarray, np.ndarray]:
    """The points seen by a camera, in input order: pixel positions (N, 2) float32 (pixel centres
    at integers) and depths (N,).

    Depth is the camera z; for a fisheye that sees beyond 90 degrees off its axis, where z turns
    negative, it is the distance from the camera, and the model's valid angle decides visibility."""
    proj = project_points(points_lidar, T_cam_lidar, camera, near=view_near(camera))
    depth = proj.depth
    if wide_view_theta(camera) is not None:
        depth = np.linalg.norm(transform_points(T_cam_lidar, np.asarray(points_lidar)[proj.index]), axis=1)
    return proj.uv, depth


def depth_sorted_points(points_lidar: np.ndarray, T_cam_lidar: np.ndarray, camera: CameraModel,
                        max_depth: float = 60.0) -> tuple[np.ndarray, np.ndarray]:
    """The :func:`seen_points` of a camera, nearer colours last: pixel positions (N, 2) float32
    and depth colours (N, 3) uint8 (near red, far blue).

    Drawn in this order, later on top, every pixel gets the colour of the nearest point drawn on
    it, exactly as with the points sorted far first: the colour level never increases with depth,
    so the nearest point's level is the highest. Ordering by the 256 levels is a counting sort
    (linear time), not a sort of the depths."""
    uv, depth = seen_points(points_lidar, T_cam_lidar, camera)
    levels = depth_levels(depth, max_depth)
    order = np.argsort(levels, kind="stable")  # NumPy radix-sorts 8-bit keys
    return uv[order], colormap_lut()[levels[order]]


def splat_points(image: np.ndarray, uv: np.ndarray, colors: np.ndarray, splat: int | None = None) -> int:
    """Draw points (in the order given, later on top) as square splats of ``splat`` pixels
    (default: :func:`~fusionlabel.render.splat.splat_size` of the image width). Returns how many
    were drawn."""
    return splat_squares(image, uv, colors, splat or splat_size(image.shape[1]))


def draw_points(image: np.ndarray, points_lidar: np.ndarray, T_cam_lidar: np.ndarray, camera: CameraModel,
                splat: int | None = None, max_depth: float = 60.0) -> int:
    """Draw points as square splats coloured by depth (near red, far blue), nearer on top.

    ``splat`` is the side in pixels (default: 2 px per 1000 px of image width, at least 2).
    Returns how many points were drawn.
    """
    uv, colors = depth_sorted_points(points_lidar, T_cam_lidar, camera, max_depth)
    return splat_points(image, uv, colors, splat)


def _polyline(image: np.ndarray, uv: np.ndarray, color, thickness: int) -> None:
    pts = np.round(uv * (1 << SHIFT)).astype(np.int64)
    lim = 1 << 28  # keep far-away samples inside cv2's integer range; cv2 clips the rest
    pts = np.clip(pts, -lim, lim).astype(np.int32)
    cv2.polylines(image, [pts.reshape(-1, 1, 2)], False, color, thickness, cv2.LINE_AA, SHIFT)


def draw_cuboid(image: np.ndarray, box_lidar: Cuboid, T_cam_lidar: np.ndarray, camera: CameraModel,
                color: tuple[int, int, int], thickness: int = 2,
                near: float = 0.1) -> tuple[float, float, float, float] | None:
    """Draw a cuboid's wireframe with the front face crossed; returns the bounding box (x, y, w, h)
    of the outline's part inside the image (where its label goes), or None when it is not in view
    (behind the camera, or entirely outside the image)."""
    corners_cam = transform_points(T_cam_lidar, box_lidar.corners())
    lines = cuboid_wireframe_pixels(corners_cam, camera, near)
    if not lines:
        return None
    h, w = image.shape[:2]
    allpts = np.concatenate(lines)
    allpts = allpts[np.isfinite(allpts).all(axis=1)]
    if len(allpts) == 0:
        return None
    lo, hi = allpts.min(axis=0), allpts.max(axis=0)
    if hi[0] < 0 or hi[1] < 0 or lo[0] >= w or lo[1] >= h:
        return None
    color = tuple(int(c) for c in color)
    for uv in lines:
        _polyline(image, uv, color, thickness)
    for uv in cuboid_wireframe_pixels(corners_cam, camera, near, edges=FRONT_CROSS):
        _polyline(image, uv, color, max(1, thickness - 1))
    x0, y0 = max(float(lo[0]), 0.0), max(float(lo[1]), 0.0)
    return x0, y0, min(float(hi[0]), w - 1.0) - x0, min(float(hi[1]), h - 1.0) - y0


def draw_label(image: np.ndarray, text: str, org: tuple[int, int], color=(255, 255, 255), scale: float = 0.5,
               thickness: int = 1) -> None:
    """Text of stroke ``thickness`` with a dark outline so it reads on any background."""
    cv2.putText(image, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
    cv2.putText(image, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, color, thickness, cv2.LINE_AA)


# black at this opacity behind captions: the app's label chips' (LABEL_CHIP_RGBA), so white text
# reads at ~17:1 even over a white wall
CAPTION_BACKDROP_ALPHA = LABEL_CHIP_RGBA[3] / 255


def draw_caption(image: np.ndarray, text: str, org: tuple[int, int], color=(255, 255, 255),
                 scale: float = 0.5, pad: int = 4) -> tuple[int, int, int, int]:
    """Text (baseline at ``org``) on a dark translucent box, readable over a bright sky or a white
    wall; returns the box (x, y, w, h), :func:`caption_rect`."""
    x0, y0, w, h = caption_rect(image.shape, text, org, scale, pad)
    box = image[y0:y0 + h, x0:x0 + w]
    box[:] = (box * (1.0 - CAPTION_BACKDROP_ALPHA)).astype(image.dtype)
    cv2.putText(image, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, color, caption_thickness(scale), cv2.LINE_AA)
    return x0, y0, w, h


def caption_thickness(scale: float) -> int:
    """The stroke of :func:`draw_caption`'s text at ``scale``."""
    return max(1, round(scale * 2))


def caption_rect(shape: tuple[int, ...], text: str, org: tuple[int, int], scale: float = 0.5,
                 pad: int = 4) -> tuple[int, int, int, int]:
    """The box (x, y, w, h) :func:`draw_caption` darkens behind ``text`` in an image of ``shape``:
    what to keep other words off before it is drawn."""
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, caption_thickness(scale))
    x0, y0 = max(0, org[0] - pad), max(0, org[1] - h - pad)
    x1, y1 = min(shape[1], org[0] + w + pad), min(shape[0], org[1] + base + pad)
    return x0, y0, x1 - x0, y1 - y0
