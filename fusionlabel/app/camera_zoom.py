"""Zoom and pan of one camera view, and the part of the image it shows. Qt-free.

Image coordinates follow the lens models: pixel ``i`` has its centre at ``u = i`` and covers
``[i - 0.5, i + 0.5)``. Widget coordinates follow Qt: widget pixel ``k`` covers ``[k, k + 1)``.
:class:`ViewTransform` maps one to the other; the image, the LiDAR points and the cuboid
wireframes are all drawn through the same transform, so they stay together at every zoom.

The zoomed image is rendered for the visible part of the widget only: an affine warp of the full
image (or, below native resolution, of a cached image halved a few times), so a repaint costs
the widget's pixels, not the image's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..render.splat import splat_size, splat_squares

MAX_PIXEL_SCALE = 16.0  # widget pixels per image pixel at the closest zoom
WHEEL_STEP = 1.25  # zoom factor of one wheel notch
NEAREST_FROM = 3.0  # from this many widget pixels per image pixel, show the pixels as squares
POINT_PX = 4  # largest side of a LiDAR point drawn over a zoomed image (widget pixels)
ZOOM_MARGIN = 0.35  # "zoom to the selection" leaves this fraction of the box size around it
MIN_ZOOM_REGION = 24.0  # ... and shows at least this many image pixels across
EDGE_EPS = 1e-6  # widget pixels: an edge closer than this to a whole pixel is on it


def device_rect(rect: tuple[int, int, int, int], ratio: float) -> tuple[int, int, int, int]:
    """(x, y, w, h) whole device pixels covering the widget rectangle ``rect`` on a screen of
    ``ratio`` device pixels per widget pixel (2 at 200 % scaling)."""
    x0, y0 = round(rect[0] * ratio), round(rect[1] * ratio)
    return x0, y0, round((rect[0] + rect[2]) * ratio) - x0, round((rect[1] + rect[3]) * ratio) - y0


def screen_zoom(tf: "ViewTransform", ratio: float) -> float:
    """The zoom an annotator reads: screen (device) pixels per image pixel, so 1 is each image
    pixel on one pixel of the screen, at any scaling (``ratio`` device pixels per widget pixel)."""
    return min(tf.sx, tf.sy) * ratio


def fit_rect(image_size: tuple[int, int], view_size: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the whole image aspect-fitted and centred in the widget, whole pixels."""
    (iw, ih), (vw, vh) = image_size, view_size
    s = min(vw / iw, vh / ih)
    w, h = max(int(iw * s), 1), max(int(ih * s), 1)
    return (vw - w) // 2, (vh - h) // 2, w, h


@dataclass(frozen=True)
class ViewTransform:
    """Image -> widget: ``x = ox + (u + 0.5) * sx`` (``ox`` is where the image's left edge is)."""

    sx: float
    sy: float
    ox: float
    oy: float

    def to_screen(self, uv) -> np.ndarray:
        """(N, 2) image coordinates -> (N, 2) widget coordinates."""
        uv = np.asarray(uv, np.float64)
        return np.stack([self.ox + (uv[..., 0] + 0.5) * self.sx, self.oy + (uv[..., 1] + 0.5) * self.sy], axis=-1)

    def to_image(self, xy) -> np.ndarray:
        """(N, 2) widget coordinates -> (N, 2) image coordinates."""
        xy = np.asarray(xy, np.float64)
        return np.stack([(xy[..., 0] - self.ox) / self.sx - 0.5, (xy[..., 1] - self.oy) / self.sy - 0.5], axis=-1)

    def visible_rect(self, image_size: tuple[int, int], view_size: tuple[int, int]) -> tuple[int, int, int, int]:
        """(x, y, w, h) whole widget pixels the image covers (w or h 0 when none)."""
        # Edges within float error of a whole pixel are on it (209 / 720 * 720 is 209.00000000000003):
        # fitted, the image covers exactly its fitted rectangle, as the loader scales it for.
        x0, y0 = max(0, math.floor(self.ox + EDGE_EPS)), max(0, math.floor(self.oy + EDGE_EPS))
        x1 = min(view_size[0], math.ceil(self.ox + image_size[0] * self.sx - EDGE_EPS))
        y1 = min(view_size[1], math.ceil(self.oy + image_size[1] * self.sy - EDGE_EPS))
        return x0, y0, max(x1 - x0, 0), max(y1 - y0, 0)

    def canvas_affine(self, origin: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """(scale, offset), each (2,): image coordinates -> pixel-centre coordinates of a canvas whose
        top-left pixel is widget pixel ``origin`` (what cv2 draws with)."""
        scale = np.array([self.sx, self.sy])
        return scale, np.array([self.ox, self.oy]) + 0.5 * scale - 0.5 - np.asarray(origin, float)


class CameraZoom:
    """Zoom and pan of one camera view: ``zoom`` is relative to the fitted image (1 = fit) and
    ``center`` is the image point (edge coordinates, 0..width) at the widget's centre. Kept when
    the frame changes; :meth:`reset` goes back to fit."""

    def __init__(self):
        self.zoom = 1.0
        self.center: tuple[float, float] | None = None

    @property
    def zoomed(self) -> bool:
        return self.zoom > 1.0

    def reset(self) -> None:
        self.zoom, self.center = 1.0, None

    @staticmethod
    def fit_scale(image_size, view_size) -> float:
        return min(view_size[0] / image_size[0], view_size[1] / image_size[1])

    def max_zoom(self, image_size, view_size) -> float:
        return max(1.0, MAX_PIXEL_SCALE / self.fit_scale(image_size, view_size))

    def transform(self, image_size: tuple[int, int], view_size: tuple[int, int]) -> ViewTransform:
        """The image -> widget transform now (exactly the fitted rectangle at zoom 1). Pure: the
        stored ``center`` is clamped for the answer only."""
        if not self.zoomed:
            x, y, w, h = fit_rect(image_size, view_size)
            return ViewTransform(w / image_size[0], h / image_size[1], float(x), float(y))
        s = self.fit_scale(image_size, view_size) * self.zoom
        cx, cy = self.clamped(self.center, image_size, view_size, s)
        return ViewTransform(s, s, view_size[0] / 2.0 - cx * s, view_size[1] / 2.0 - cy * s)

    @staticmethod
    def clamped(center, image_size, view_size, s: float) -> tuple[float, float]:
        """``center`` (None: the image's middle) kept so that an image drawn at ``s`` widget
        pixels per image pixel fills the widget where it is larger, and is centred where not."""
        center = center or (image_size[0] / 2.0, image_size[1] / 2.0)
        out = []
        for c, n, v in zip(center, image_size, view_size):
            half = v / (2.0 * s)
            out.append(n / 2.0 if n * s <= v else min(max(c, half), n - half))
        return out[0], out[1]

    def zoom_at(self, factor: float, pos: tuple[float, float], image_size, view_size) -> None:
        """Zoom by ``factor`` keeping the image point under widget position ``pos`` in place."""
        tf = self.transform(image_size, view_size)
        ex, ey = (pos[0] - tf.ox) / tf.sx, (pos[1] - tf.oy) / tf.sy  # edge coordinates under the cursor
        self.zoom = min(max(self.zoom * factor, 1.0), self.max_zoom(image_size, view_size))
        if not self.zoomed:
            self.reset()
            return
        s = self.fit_scale(image_size, view_size) * self.zoom
        center = (ex - (pos[0] - view_size[0] / 2.0) / s, ey - (pos[1] - view_size[1] / 2.0) / s)
        self.center = self.clamped(center, image_size, view_size, s)

    def pan(self, dx: float, dy: float, image_size, view_size) -> None:
        """Move the image by (dx, dy) widget pixels (nothing to pan at fit)."""
        if not self.zoomed:
            return
        s = self.fit_scale(image_size, view_size) * self.zoom
        cx, cy = self.clamped(self.center, image_size, view_size, s)
        self.center = self.clamped((cx - dx / s, cy - dy / s), image_size, view_size, s)

    def show_region(self, lo, hi, image_size, view_size) -> None:
        """Zoom and pan so that the image rectangle ``lo``..``hi`` (image coordinates) fills the view
        with a margin (:data:`ZOOM_MARGIN`), within the zoom limits."""
        lo, hi = np.asarray(lo, float), np.asarray(hi, float)
        size = np.maximum((hi - lo) * (1.0 + 2.0 * ZOOM_MARGIN), MIN_ZOOM_REGION)
        s = min(view_size[0] / size[0], view_size[1] / size[1])
        self.zoom = min(max(s / self.fit_scale(image_size, view_size), 1.0), self.max_zoom(image_size, view_size))
        if not self.zoomed:
            self.reset()
            return
        mid = (lo + hi) / 2.0 + 0.5
        s = self.fit_scale(image_size, view_size) * self.zoom
        self.center = self.clamped((float(mid[0]), float(mid[1])), image_size, view_size, s)


def pyramid_level(cam, level: int, with_points: bool) -> np.ndarray:
    """The camera image (with the LiDAR points or without) halved ``level`` times (area average),
    cached on the camera frame."""
    if level == 0:
        return cam.image_with_points if with_points else cam.image
    key = (level, with_points)
    image = cam.pyramid.get(key)
    if image is None:
        src = pyramid_level(cam, level - 1, with_points)
        size = (max(src.shape[1] // 2, 1), max(src.shape[0] // 2, 1))
        image = cam.pyramid[key] = cv2.resize(src, size, interpolation=cv2.INTER_AREA)
    return image


def render_zoomed(cam, tf: ViewTransform, rect: tuple[int, int, int, int], show_points: bool,
                  point_px: int = POINT_PX) -> np.ndarray:
    """The widget rectangle ``rect`` (x, y, w, h) of a zoomed camera view, RGB uint8 (h, w, 3)
    (``tf`` and ``rect`` in device pixels on a high-DPI screen, ``point_px`` scaled alike).

    Up to native resolution the LiDAR points come splatted in the image (as at fit); beyond it the
    image is drawn without them and each visible point is drawn on top as a square centred on its
    exact position: as large as its splat at native resolution looks at this zoom, up to
    ``point_px``, so points neither jump in size past native nor grow over what they are on."""
    x0, y0, w, h = rect
    iw, ih = cam.camera.width, cam.camera.height
    s = min(tf.sx, tf.sy)
    baked = show_points and s <= 1.0
    level = 0 if s >= 1.0 else min(int(math.floor(math.log2(1.0 / s))), 8)
    src = pyramid_level(cam, level, baked)
    # Source pixel centre k -> edge coordinate (k + 0.5) * iw / lw -> widget ox + e * sx -> canvas pixel centre.
    ax, ay = iw / src.shape[1] * tf.sx, ih / src.shape[0] * tf.sy
    m = np.array([[ax, 0.0, tf.ox + 0.5 * ax - 0.5 - x0], [0.0, ay, tf.oy + 0.5 * ay - 0.5 - y0]])
    interp = cv2.INTER_NEAREST if s >= NEAREST_FROM else cv2.INTER_LINEAR
    canvas = cv2.warpAffine(src, m, (w, h), flags=interp, borderMode=cv2.BORDER_REPLICATE)
    if show_points and not baked and len(cam.points_uv):
        side = min(point_px, max(1, round(splat_size(iw) * s)))
        draw_points_over(canvas, cam.points_uv, cam.points_rgb, tf, (x0, y0), side)
    return canvas


def draw_points_over(canvas: np.ndarray, uv: np.ndarray, rgb: np.ndarray, tf: ViewTransform,
                     origin: tuple[int, int], side: int = POINT_PX) -> int:
    """Draw the points that fall on the canvas as squares of ``side`` widget pixels centred on
    their positions (later points on top); returns how many were drawn."""
    h, w = canvas.shape[:2]
    # Only the points near the canvas (a superset, in image coordinates, cheap) go on to the exact test.
    lo = tf.to_image((origin[0] - side - 1.0, origin[1] - side - 1.0))
    hi = tf.to_image((origin[0] + w + side + 1.0, origin[1] + h + side + 1.0))
    near = np.flatnonzero((uv[:, 0] >= lo[0]) & (uv[:, 0] <= hi[0]) & (uv[:, 1] >= lo[1]) & (uv[:, 1] <= hi[1]))
    uv, rgb = uv[near], rgb[near]
    xy = tf.to_screen(uv) - np.asarray(origin, float)
    return splat_squares(canvas, xy, rgb, side, centred=True, clamp=False)
