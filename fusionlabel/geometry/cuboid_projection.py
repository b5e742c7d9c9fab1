"""Cuboids seen through a camera: wireframes bent by the lens and the clipped image rectangle.

Edges are clipped at the near plane before projecting, so boxes that pass beside or behind the
camera still give the right outline, and each edge is sampled so that lens distortion bends it.
"""

from __future__ import annotations

import numpy as np

from .cameras import CameraModel
from .cuboid import EDGES

DEFAULT_SAMPLES = 16


def clip_segments_near(starts: np.ndarray, ends: np.ndarray, near: float) -> tuple[np.ndarray, np.ndarray]:
    """Keep the parts of 3D segments (K, 3) -> (K, 3) with z >= near; fully hidden ones are dropped."""
    zs, ze = starts[:, 2], ends[:, 2]
    keep = (zs >= near) | (ze >= near)
    starts, ends, zs, ze = starts[keep], ends[keep], zs[keep], ze[keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(zs != ze, (near - zs) / (ze - zs), 0.0)[:, None]
    crossing = starts + t * (ends - starts)
    starts = np.where((zs < near)[:, None], crossing, starts)
    ends = np.where((ze < near)[:, None], crossing, ends)
    return starts, ends


def project_with_lens(points_cam: np.ndarray, camera: CameraModel) -> np.ndarray:
    """Pixels (K, 2) of points in front of the camera (z > 0), including those outside the image.

    Directions beyond the lens's valid radius (where radial-tangential distortion folds back) are
    pulled onto that radius, so they land outside the field of view instead of inside the image.
    """
    xy = points_cam[:, :2] / points_cam[:, 2:3]
    r_valid = getattr(camera, "valid_radius", np.inf)
    if np.isfinite(r_valid):
        r = np.linalg.norm(xy, axis=1)
        scale = np.where(r > r_valid, r_valid * (1.0 - 1e-9) / np.maximum(r, 1e-300), 1.0)
        xy = xy * scale[:, None]
    d = camera.distort(xy)
    return np.column_stack([camera.fx * d[:, 0] + camera.cx, camera.fy * d[:, 1] + camera.cy])


def cuboid_wireframe_pixels(corners_cam: np.ndarray, camera: CameraModel, near: float = 0.1,
                            samples: int = DEFAULT_SAMPLES, edges: np.ndarray = EDGES) -> list[np.ndarray]:
    """Projected edges of a cuboid: one (samples, 2) polyline per edge part in front of the camera.

    ``corners_cam`` (8, 3) are the cuboid corners in the camera frame; ``edges`` (E, 2) corner pairs.
    Polylines may extend beyond the image; drawing code clips them.
    """
    starts, ends = clip_segments_near(corners_cam[edges[:, 0]], corners_cam[edges[:, 1]], near)
    if len(starts) == 0:
        return []
    t = np.linspace(0.0, 1.0, samples)[None, :, None]
    pts = starts[:, None, :] + t * (ends - starts)[:, None, :]
    uv = project_with_lens(pts.reshape(-1, 3), camera).reshape(len(starts), samples, 2)
    return list(uv)


def cuboid_image_extent(corners_cam: np.ndarray, camera: CameraModel, near: float = 0.1,
                        samples: int = DEFAULT_SAMPLES) -> tuple[float, float, float, float] | None:
    """Unclipped (x1, y1, x2, y2) of a cuboid's wireframe in front of the camera, or None.

    May extend beyond the image; :func:`cuboid_image_rect` clips it.
    """
    lines = cuboid_wireframe_pixels(corners_cam, camera, near, samples)
    if not lines:
        return None
    uv = np.concatenate(lines)
    uv = uv[np.all(np.isfinite(uv), axis=1)]
    if len(uv) == 0:
        return None
    (x1, y1), (x2, y2) = uv.min(axis=0), uv.max(axis=0)
    return float(x1), float(y1), float(x2), float(y2)


def cuboid_image_rect(corners_cam: np.ndarray, camera: CameraModel, near: float = 0.1,
                      samples: int = DEFAULT_SAMPLES) -> tuple[float, float, float, float] | None:
    """2D box (x1, y1, x2, y2) of a projected cuboid clipped to the image, or None when unseen.

    Coordinates are pixel centres, clipped to [0, width-1] × [0, height-1] (KITTI's convention).
    """
    extent = cuboid_image_extent(corners_cam, camera, near, samples)
    if extent is None:
        return None
    x1, y1 = max(extent[0], 0.0), max(extent[1], 0.0)
    x2, y2 = min(extent[2], camera.width - 1.0), min(extent[3], camera.height - 1.0)
    if x1 >= x2 or y1 >= y2:
        return None
    return x1, y1, x2, y2


def rect_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """IoU of two axis-aligned rectangles (x1, y1, x2, y2)."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
