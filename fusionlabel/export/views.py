"""How labelled cuboids look from a camera: 2D box, truncation, occlusion; pinhole re-projection.

Occlusion is estimated from the LiDAR returns that project into an object's 2D box: a return is
*on* the object when it lies inside the cuboid (within ``margin``) and *in front* of it when the
camera ray to it enters the cuboid behind it; ``occluded = in_front / (in_front + on)``. Rays that
miss the cuboid, or end behind it, belong to the background and do not count.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..geometry.cameras import CameraModel, PinholeCamera, camera_from_params
from ..geometry.cuboid import Cuboid
from ..geometry.cuboid_projection import cuboid_image_extents, image_rect_of
from ..geometry.projection import project_points
from ..geometry.transforms import transform_points

OCCLUSION_MARGIN = 0.25   # metres of slack around a cuboid when deciding "on the object"
MIN_RETURNS = 3           # fewer returns than this in the 2D box: occlusion unknown


@dataclass(frozen=True)
class ObjectView:
    """One cuboid seen by one camera.

    rect: (x1, y1, x2, y2) clipped to the image (pixel centres, KITTI convention) or None if unseen;
    full_rect: the unclipped extent of the projection in front of the camera, or None;
    truncation: fraction of ``full_rect``'s area outside the image, in [0, 1];
    occluded: estimated occluded fraction in [0, 1], or None when too few LiDAR returns;
    returns_on / returns_front: the counts behind that estimate.
    """

    rect: tuple[float, float, float, float] | None
    full_rect: tuple[float, float, float, float] | None
    truncation: float
    occluded: float | None
    returns_on: int
    returns_front: int


def pinhole_of(camera: CameraModel) -> PinholeCamera:
    """The distortion-free camera with the same size and intrinsics."""
    if isinstance(camera, PinholeCamera):
        return camera
    return camera_from_params("pinhole", camera.width, camera.height, camera.fx, camera.fy, camera.cx, camera.cy)


def undistort_maps(camera: CameraModel, target: PinholeCamera,
                   R_target_cam: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``cv2.remap`` maps (H, W) float32 that resample an image of ``camera`` into ``target``.

    ``R_target_cam`` (3, 3): rotation from the camera's frame to the target's, for a target camera
    at the same place looking another way (KITTI's ``R0_rect``); None: the same orientation.
    Pixels whose ray the source lens does not image get coordinates -1 (black after remap).
    """
    u, v = np.meshgrid(np.arange(target.width, dtype=np.float64), np.arange(target.height, dtype=np.float64))
    rays = np.stack([(u - target.cx) / target.fx, (v - target.cy) / target.fy, np.ones_like(u)], axis=-1)
    rays = rays.reshape(-1, 3)
    if R_target_cam is not None:
        rays = rays @ np.asarray(R_target_cam, dtype=np.float64)     # row-wise R_cam_target @ ray
    proj = camera.project(rays, near=0.0)
    uv = np.where(proj.in_image[:, None], proj.uv, -1.0).reshape(target.height, target.width, 2)
    return uv[..., 0].astype(np.float32), uv[..., 1].astype(np.float32)


def seen_region(maps: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The part of a resampled image that the source camera saw, as a polygon (K, 2) of pixel
    centres (x, y): the outline of the largest region whose pixels :func:`undistort_maps` maps into
    the source image. The rest (corners and bands a levelled or undistorted image gains) is black."""
    seen = (maps[0] >= 0).astype(np.uint8)
    contours, _ = cv2.findContours(seen, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return np.empty((0, 2))
    return max(contours, key=cv2.contourArea).reshape(-1, 2).astype(np.float64)


def clip_polygon_to_rect(polygon: np.ndarray, rect) -> np.ndarray:
    """The part (K, 2) of a polygon (N, 2) inside the rectangle (x1, y1, x2, y2), by clipping
    against its four sides in turn (Sutherland-Hodgman; the polygon need not be convex). Points on a
    side get that side's coordinate exactly, so a rectangle lying inside the polygon comes back with
    exactly its own bounds."""
    pts = np.asarray(polygon, dtype=np.float64)
    for axis, bound, keep_above in ((0, rect[0], True), (0, rect[2], False), (1, rect[1], True), (1, rect[3], False)):
        if len(pts) == 0:
            break
        nxt = np.roll(pts, -1, axis=0)
        inside = pts[:, axis] >= bound if keep_above else pts[:, axis] <= bound
        inside_next = np.roll(inside, -1)
        with np.errstate(divide="ignore", invalid="ignore"):   # edges along the side: not used
            t = (bound - pts[:, axis]) / (nxt[:, axis] - pts[:, axis])
            crossing = pts + t[:, None] * (nxt - pts)
        crossing[:, axis] = bound
        # per edge p -> next: the crossing when it changes side, then next when next is inside
        candidates = np.stack([crossing, nxt], axis=1)
        use = np.stack([inside != inside_next, inside_next], axis=1)
        pts = candidates[use]
    return pts


def clip_rect_to_region(rect, region: np.ndarray | None):
    """Bounding box (x1, y1, x2, y2) of the part of ``rect`` inside the polygon ``region``, or None
    when nothing of it is; ``rect`` itself when ``region`` is None (the whole image was seen)."""
    if rect is None or region is None:
        return rect
    part = clip_polygon_to_rect(region, rect)
    if len(part) == 0:
        return None
    (x1, y1), (x2, y2) = part.min(axis=0), part.max(axis=0)
    return (float(x1), float(y1), float(x2), float(y2)) if x1 < x2 and y1 < y2 else None


def undistort_image(image: np.ndarray, maps: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Resample an (H, W, 3) image with maps from :func:`undistort_maps`."""
    return cv2.remap(image, maps[0], maps[1], interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def _area(r) -> float:
    return max(0.0, r[2] - r[0]) * max(0.0, r[3] - r[1])


def truncation_of(rect, full_rect) -> float:
    """Fraction of the unclipped box area cut off by the image border."""
    if rect is None or full_rect is None:
        return 1.0
    full = _area(full_rect)
    return float(np.clip(1.0 - _area(rect) / full, 0.0, 1.0)) if full > 0 else 1.0


def _ray_box_counts(points_cam: np.ndarray, box_cam: Cuboid, margin: float) -> tuple[int, int]:
    """(returns on the cuboid, returns in front of it) among camera-frame points (M, 3)."""
    R = box_cam.rotation()
    c = -np.asarray(box_cam.center) @ R          # camera centre in box coordinates, (3,)
    p = (points_cam - np.asarray(box_cam.center)) @ R
    d = p - c                                     # ray from the camera to each point, t in [0, 1]
    half = np.asarray(box_cam.size) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (-half - c) / d
        t2 = (half - c) / d
    t_near = np.nanmax(np.minimum(t1, t2), axis=1)
    t_far = np.nanmin(np.maximum(t1, t2), axis=1)
    hits = t_far >= np.maximum(t_near, 0.0)
    slack = margin / np.maximum(np.linalg.norm(d, axis=1), 1e-9)
    inside = np.all(np.abs(p) <= half + margin, axis=1)
    front = hits & ~inside & (1.0 < t_near - slack)
    return int(inside.sum()), int(front.sum())


class SortedRows:
    """Rows of an (N, 2) array sorted by the first column, for fast axis-aligned range queries."""

    def __init__(self, xy: np.ndarray):
        self.xy = np.asarray(xy)
        self.order = np.argsort(self.xy[:, 0], kind="stable")
        self.first = self.xy[self.order, 0]

    def in_box(self, x1: float, y1: float, x2: float, y2: float) -> np.ndarray:
        """Indices (into the original rows) with x1 <= x <= x2 and y1 <= y <= y2, increasing."""
        lo = np.searchsorted(self.first, x1, side="left")
        hi = np.searchsorted(self.first, x2, side="right")
        idx = self.order[lo:hi]
        y = self.xy[idx, 1]
        return np.sort(idx[(y >= y1) & (y <= y2)])



def object_views(points_lidar: np.ndarray, boxes_lidar: list[Cuboid], T_cam_lidar: np.ndarray,
                 camera: CameraModel, margin: float = OCCLUSION_MARGIN,
                 min_returns: int = MIN_RETURNS, seen: np.ndarray | None = None) -> list[ObjectView]:
    """2D box, truncation and occlusion of each cuboid (LiDAR frame) in one camera.

    ``points_lidar`` (N, C>=3) is the sweep used for the occlusion estimate (may be empty).
    ``seen`` (K, 2): for an image resampled from another camera (:func:`seen_region`), the polygon
    the real camera saw; each 2D box is clipped to it as to the image border (the part of the box
    inside it, bounded), and truncation counts what it cuts off. None: the whole image was seen.
    """
    proj = project_points(points_lidar, T_cam_lidar, camera) if len(points_lidar) else None
    if proj is not None and len(proj.index):
        pts_cam = transform_points(T_cam_lidar, np.asarray(points_lidar, dtype=np.float64)[proj.index])
        uv = proj.uv.astype(np.float64)
    else:
        pts_cam, uv = np.empty((0, 3)), np.empty((0, 2))
    rows = SortedRows(uv) if len(uv) else None
    out = []
    corners = (np.stack([b.corners() for b in boxes_lidar]) if boxes_lidar else np.empty((0, 8, 3)))
    corners_cam = transform_points(T_cam_lidar, corners.reshape(-1, 3)).reshape(-1, 8, 3)
    extents = cuboid_image_extents(corners_cam, camera)      # all the boxes' wireframes in one pass
    for box, extent in zip(boxes_lidar, extents):
        full = None if np.isnan(extent[0]) else tuple(float(v) for v in extent)
        rect = clip_rect_to_region(image_rect_of(full, camera), seen)
        full = full if rect is not None else None
        occluded, n_on, n_front = None, 0, 0
        if rect is not None and rows is not None:
            sel = rows.in_box(*rect)
            if len(sel):
                n_on, n_front = _ray_box_counts(pts_cam[sel], box.transformed(T_cam_lidar), margin)
            if n_on + n_front >= min_returns:
                occluded = n_front / (n_on + n_front)
        out.append(ObjectView(rect, full, truncation_of(rect, full), occluded, n_on, n_front))
    return out


def kitti_occlusion_level(occluded: float | None) -> int:
    """KITTI's occlusion state from an occluded fraction: 0 fully visible (< 0.2), 1 partly
    (< 0.6), 2 largely occluded, 3 unknown."""
    if occluded is None:
        return 3
    return 0 if occluded < 0.2 else (1 if occluded < 0.6 else 2)


def nuscenes_visibility_token(visible: float | None) -> str:
    """nuScenes visibility token from a visible fraction: "1" 0-40 %, "2" 40-60 %, "3" 60-80 %,
    "4" 80-100 %; unknown counts as "1"."""
    if visible is None:
        return "1"
    return "1" if visible < 0.4 else ("2" if visible < 0.6 else ("3" if visible < 0.8 else "4"))
