"""Cuboids seen through a camera: wireframes bent by the lens and the clipped image rectangle.

Edges are clipped to what the camera can see before projecting (the near plane; for a fisheye
that sees more than 90 degrees off its axis, the cone of its widest image angle), so boxes that
pass beside or behind the camera still give the right outline, and each edge is sampled so that
lens distortion bends it.
"""

from __future__ import annotations

import numpy as np

import math

from .cameras import CameraModel, FisheyeCamera
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


def wide_view_theta(camera: CameraModel) -> float | None:
    """The widest angle off the optical axis (rad) that ``camera``'s image sees when it is beyond
    90 degrees (a fisheye looking behind its image plane), else None: a near plane then suffices."""
    if isinstance(camera, FisheyeCamera) and camera.view_theta > 0.5 * math.pi:
        return camera.view_theta
    return None


def view_near(camera: CameraModel, near: float = 0.1) -> float:
    """The near plane for projecting points into ``camera``: ``near``, or -inf for a camera seeing
    beyond 90 degrees off its axis, whose model's own validity (angle within its valid theta) and
    the image bounds alone decide what it sees."""
    return -math.inf if wide_view_theta(camera) is not None else near


def clip_segments_cone(starts: np.ndarray, ends: np.ndarray, theta: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The parts of 3D segments (K, 3) -> (K, 3) within ``theta`` (rad, < pi) of the +z axis.

    Returns starts, ends and the index of the input segment of each part; beyond 90 degrees the
    region is not convex, so one segment may give two parts. Each boundary is solved exactly:
    ``z(t)^2 = cos(theta)^2 |p(t)|^2`` is a quadratic in the segment parameter ``t``.
    """
    c = math.cos(theta)
    d = ends - starts
    zs, dz = starts[:, 2], d[:, 2]
    A = dz * dz - c * c * np.einsum("ij,ij->i", d, d)
    B = 2.0 * (zs * dz - c * c * np.einsum("ij,ij->i", starts, d))
    C = zs * zs - c * c * np.einsum("ij,ij->i", starts, starts)
    with np.errstate(all="ignore"):
        q = -0.5 * (B + np.copysign(np.sqrt(np.maximum(B * B - 4.0 * A * C, 0.0)), B))
        roots = np.stack([q / A, C / q], axis=1)    # the numerically stable pair
    roots = np.clip(np.nan_to_num(roots, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
    t = np.sort(np.column_stack([np.zeros(len(starts)), roots, np.ones(len(starts))]), axis=1)  # (K, 4)
    mid = 0.5 * (t[:, :-1] + t[:, 1:])                                                          # (K, 3)
    p = starts[:, None, :] + mid[..., None] * d[:, None, :]
    inside = (p[..., 2] >= c * np.linalg.norm(p, axis=2)) & (t[:, 1:] > t[:, :-1])
    # Runs of inside intervals, as (first, last + 1) breakpoint columns, by pattern of the 3 intervals.
    code = inside[:, 0] * 4 + inside[:, 1] * 2 + inside[:, 2]
    runs = {7: [(0, 3)], 6: [(0, 2)], 4: [(0, 1)], 3: [(1, 3)], 2: [(1, 2)], 1: [(2, 3)], 5: [(0, 1), (2, 3)]}
    parts_s, parts_e, index = [], [], []
    for pattern, spans in runs.items():
        rows = np.flatnonzero(code == pattern)
        for a, b in spans:
            parts_s.append(starts[rows] + t[rows, a, None] * d[rows])
            parts_e.append(starts[rows] + t[rows, b, None] * d[rows])
            index.append(rows)
    index = np.concatenate(index)
    order = np.argsort(index, kind="stable")
    return np.concatenate(parts_s)[order], np.concatenate(parts_e)[order], index[order]


def clip_segments_in_view(starts: np.ndarray, ends: np.ndarray, camera: CameraModel,
                          near: float = 0.1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The parts of 3D camera-frame segments (K, 3) -> (K, 3) that ``camera`` can see, and the index
    of the input segment of each part: clipped at the plane z = ``near``, or for a camera seeing
    beyond 90 degrees off its axis (:func:`wide_view_theta`) to the cone of that angle."""
    theta = wide_view_theta(camera)
    if theta is not None:
        return clip_segments_cone(starts, ends, theta)
    index = np.flatnonzero((starts[:, 2] >= near) | (ends[:, 2] >= near))
    s, e = clip_segments_near(starts[index], ends[index], near)
    return s, e, index


def project_with_lens(points_cam: np.ndarray, camera: CameraModel) -> np.ndarray:
    """Pixels (K, 2) of points the camera can see (z > 0, or for a fisheye any direction up to its
    valid angle), including those outside the image.

    Directions beyond the lens's valid radius (where radial-tangential distortion folds back) are
    pulled onto that radius, so they land outside the field of view instead of inside the image.
    """
    if isinstance(camera, FisheyeCamera):     # by the angle off the axis: exact behind the image plane too
        return camera.project(points_cam, near=-math.inf).uv
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
    """Projected edges of a cuboid: one (samples, 2) polyline per edge part the camera can see
    (:func:`clip_segments_in_view`).

    ``corners_cam`` (8, 3) are the cuboid corners in the camera frame; ``edges`` (E, 2) corner pairs.
    Polylines may extend beyond the image; drawing code clips them.
    """
    starts, ends, _ = clip_segments_in_view(corners_cam[edges[:, 0]], corners_cam[edges[:, 1]], camera, near)
    if len(starts) == 0:
        return []
    t = np.linspace(0.0, 1.0, samples)[None, :, None]
    pts = starts[:, None, :] + t * (ends - starts)[:, None, :]
    uv = project_with_lens(pts.reshape(-1, 3), camera).reshape(len(starts), samples, 2)
    return list(uv)


def cuboid_image_extents(corners_cam: np.ndarray, camera: CameraModel, near: float = 0.1,
                         samples: int = DEFAULT_SAMPLES) -> np.ndarray:
    """Unclipped extents (B, 4) of many cuboids' wireframes at once, rows (x1, y1, x2, y2); a
    row of NaN for a cuboid the camera does not see. ``corners_cam`` (B, 8, 3) in the camera
    frame. The same numbers as :func:`cuboid_image_extent` on each cuboid, in one pass."""
    corners_cam = np.asarray(corners_cam, dtype=np.float64).reshape(-1, 8, 3)
    out = np.full((len(corners_cam), 4), np.nan)
    if len(corners_cam) == 0:
        return out
    starts = corners_cam[:, EDGES[:, 0]].reshape(-1, 3)
    ends = corners_cam[:, EDGES[:, 1]].reshape(-1, 3)
    s, e, index = clip_segments_in_view(starts, ends, camera, near)
    if len(s) == 0:
        return out
    t = np.linspace(0.0, 1.0, samples)[None, :, None]
    uv = project_with_lens((s[:, None, :] + t * (e - s)[:, None, :]).reshape(-1, 3), camera)
    uv = uv.reshape(len(s), samples, 2)
    finite = np.all(np.isfinite(uv), axis=2, keepdims=True)
    low = np.where(finite, uv, np.inf).min(axis=1)        # (parts, 2)
    high = np.where(finite, uv, -np.inf).max(axis=1)
    box = index // len(EDGES)
    lo = np.full((len(corners_cam), 2), np.inf)
    hi = np.full((len(corners_cam), 2), -np.inf)
    np.minimum.at(lo, box, low)
    np.maximum.at(hi, box, high)
    seen = np.isfinite(lo).all(axis=1)
    out[seen] = np.column_stack([lo[seen], hi[seen]])
    return out


def cuboid_image_extent(corners_cam: np.ndarray, camera: CameraModel, near: float = 0.1,
                        samples: int = DEFAULT_SAMPLES) -> tuple[float, float, float, float] | None:
    """Unclipped (x1, y1, x2, y2) of a cuboid's wireframe in front of the camera, or None.

    May extend beyond the image; :func:`cuboid_image_rect` clips it.
    """
    row = cuboid_image_extents(np.asarray(corners_cam)[None], camera, near, samples)[0]
    return None if np.isnan(row[0]) else tuple(float(v) for v in row)


def image_rect_of(extent: tuple[float, float, float, float] | None,
                  camera: CameraModel) -> tuple[float, float, float, float] | None:
    """An unclipped extent clipped to the image, or None when nothing of it is inside.

    Coordinates are pixel centres, clipped to [0, width-1] × [0, height-1] (KITTI's convention).
    """
    if extent is None:
        return None
    x1, y1 = max(extent[0], 0.0), max(extent[1], 0.0)
    x2, y2 = min(extent[2], camera.width - 1.0), min(extent[3], camera.height - 1.0)
    if x1 >= x2 or y1 >= y2:
        return None
    return x1, y1, x2, y2


def cuboid_image_rect(corners_cam: np.ndarray, camera: CameraModel, near: float = 0.1,
                      samples: int = DEFAULT_SAMPLES) -> tuple[float, float, float, float] | None:
    """2D box (x1, y1, x2, y2) of a projected cuboid clipped to the image, or None when unseen
    (:func:`image_rect_of` of :func:`cuboid_image_extent`)."""
    return image_rect_of(cuboid_image_extent(corners_cam, camera, near, samples), camera)


def rect_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """IoU of two axis-aligned rectangles (x1, y1, x2, y2)."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
