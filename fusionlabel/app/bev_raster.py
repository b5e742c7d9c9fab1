"""The bird's-eye view's point raster, Qt-free, so that the loader thread can draw it ahead.

:class:`BevGeometry` is everything the raster depends on (size, pan, zoom, which way is up,
colour mode, height filter, stacked sweeps); :func:`rasterise` draws a frame's points for it,
highest on top: the other sweeps first, dimmed, then the frame's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BACKGROUND = 16  # grey level where there is no point
DOTS_FROM_SCALE = 12.0  # widget pixels per metre from which each point is a 2x2 dot (zoomed in)


@dataclass(frozen=True)
class BevGeometry:
    """The BEV's raster geometry: size in pixels, LiDAR xy at the centre, pixels per metre, the
    LiDAR xy direction drawn up, the colour mode, the height filter's cut (metres above the
    ground, :mod:`.bev_filter`; None: off), how many sweeps each side are stacked
    (:mod:`.sweep_stack`) and the screen's device pixels per widget pixel (2 at 200 %
    scaling: size and scale are then in device pixels, and a point is a dot that many pixels wide)."""

    width: int
    height: int
    center: tuple[float, float]
    scale: float
    forward: tuple[float, float]
    color_mode: str
    height_cut: float | None = None
    sweeps: int = 0
    pixel_ratio: float = 1.0


def rasterise(data, view: BevGeometry, stacked=None) -> np.ndarray:
    """(H, W, 3) uint8: the points of ``data`` (a FrameData) seen from above, lowest first so the
    highest point of each pixel is the one shown; with a height cut, only the points up to it;
    with ``stacked`` sweeps (a :class:`.sweep_stack.StackedSweeps`, ``data.stacked(view.sweeps)``),
    theirs first (dimmed) and the frame's own over them."""
    w, h = view.width, view.height
    image = np.full((h, w, 3), BACKGROUND, np.uint8)
    if data is None:
        return image
    top = None if view.height_cut is None else data.ground_z() + view.height_cut
    if stacked is not None and len(stacked.points):
        n = len(stacked.points) if top is None else int(np.searchsorted(stacked.points[:, 2], top, "right"))
        x, y = stacked.xy()
        _draw(image, x[:n], y[:n], stacked.colors(view.color_mode)[:n], view)
    if len(data.points) == 0:
        return image
    x, y = data.xy_by_height()
    colors = data.colors_by_height(view.color_mode)  # lowest first, like x, y
    if top is not None:  # the points are lowest first: the ones drawn are a prefix
        n = int(np.searchsorted(data.z_by_height(), top, "right"))
        x, y, colors = x[:n], y[:n], colors[:n]
    _draw(image, x, y, colors, view)
    return image


def _draw(image: np.ndarray, x: np.ndarray, y: np.ndarray, colors: np.ndarray, view: BevGeometry) -> None:
    """Write the points (x, y LiDAR metres, lowest first) with their colours into ``image``."""
    h, w = image.shape[:2]
    forward = np.asarray(view.forward, float)
    left = np.array([-forward[1], forward[0]])
    center = np.asarray(view.center, float)
    # to_screen as u = u0 + x du_x + y du_y (v alike), float32, on the points lowest first
    du, dv = -view.scale * left, -view.scale * forward
    u0, v0 = w / 2.0 - float(center @ du), h / 2.0 - float(center @ dv)
    # A point is a dot as wide as a widget pixel (two when zoomed in, so that dots stay visible).
    side = max(1, round(view.pixel_ratio)) * (2 if view.scale / view.pixel_ratio >= DOTS_FROM_SCALE else 1)
    f32 = np.float32
    with np.errstate(invalid="ignore", over="ignore"):    # a stray point beyond int32 falls outside
        u = (x * f32(du[0]) + (y * f32(du[1]) + f32(u0))).astype(np.int32, copy=False)
        v = (x * f32(dv[0]) + (y * f32(dv[1]) + f32(v0))).astype(np.int32, copy=False)
    edge = max(side, 2) - 1   # the last column and row stay empty, and a dot never wraps round
    ok = (u >= 0) & (u < w - edge) & (v >= 0) & (v < h - edge)
    at = v[ok] * w + u[ok]  # flat pixel index, whole pixels (3 bytes) written at once: much faster
    c = np.ascontiguousarray(colors[ok]).reshape(-1).view("V3")
    put_dots(image, at, c, side)


def put_dots(image: np.ndarray, at: np.ndarray, pixels: np.ndarray, side: int) -> None:
    """Write ``side`` x ``side`` dots into ``image`` (H, W, 3) uint8 going right and down from the
    flat pixel indexes ``at`` (K,), in ``pixels`` (K,) of dtype V3 (whole RGB pixels); later dots
    win within each of the side² passes. The caller keeps every dot inside the image."""
    w = image.shape[1]
    flat = image.reshape(-1).view("V3")
    for dx in range(side):
        for dy in range(side):
            flat[at + dy * w + dx] = pixels
