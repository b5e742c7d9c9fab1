"""Square point splats drawn in one pass over the image, whatever the number of points.

Each point covers the ``splat`` x ``splat`` pixels from its own pixel down and right (or centred on
it); where squares
overlap, the point given later (the nearer one, for points in depth order) is on top. The points
are written once into an image of their order numbers, and a grey-scale dilation spreads each
number over its square keeping the highest, so the cost grows with the points plus the pixels,
not with the points times the square's area.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np


_SCRATCH = threading.local()  # per thread: image-sized buffers reused from frame to frame


def _scratch(name: str, shape: tuple[int, int], dtype) -> np.ndarray:
    """A reusable buffer of this thread (fresh image-sized memory costs more to touch than to fill)."""
    key = (name, shape, np.dtype(dtype))
    buffers = _SCRATCH.__dict__.setdefault("buffers", {})
    if key not in buffers:
        if len(buffers) > 8:
            buffers.clear()
        buffers[key] = np.empty(shape, dtype)
    return buffers[key]


def splat_size(image_width: int) -> int:
    """The splat side for an image: 2 px per 1000 px of width, at least 2 (as the renderer's)."""
    return max(2, round(2 * image_width / 1000))


def splat_squares(image: np.ndarray, uv: np.ndarray, colors: np.ndarray, splat: int, centred: bool = False,
                  clamp: bool = True) -> int:
    """Draw points (N, 2) pixel positions in ``colors`` (N, 3) as squares of ``splat`` pixels onto
    ``image`` (H, W, 3), later points on top.

    By default a square starts at the point's rounded pixel (pixel centres at integers) and goes
    down and right; ``centred``: it is centred on the point instead (pixel k covers [k, k + 1)).
    ``clamp``: a point off the image is moved to its edge; else its square is cut by the edges and
    one wholly off is left out. Returns how many points were drawn."""
    if len(uv) == 0:
        return 0
    h, w = image.shape[:2]
    uv = np.asarray(uv, np.float64)
    corner = np.floor(uv - splat / 2.0 + 0.5) if centred else np.round(uv)  # first covered pixel
    corner = corner.astype(np.int64)
    if clamp:
        pad = 0
        u, v = np.clip(corner[:, 0], 0, w - 1), np.clip(corner[:, 1], 0, h - 1)
    else:  # a square may start up to splat - 1 pixels before the image: a margin holds its start
        pad = splat - 1
        ok = (corner[:, 0] > -splat) & (corner[:, 0] < w) & (corner[:, 1] > -splat) & (corner[:, 1] < h)
        keep = np.flatnonzero(ok)
        u, v, colors = corner[keep, 0] + pad, corner[keep, 1] + pad, np.asarray(colors)[keep]
    n = len(u)
    if n == 0:
        return 0
    hp, wp = h + pad, w + pad
    dtype = np.float32 if n < (1 << 24) else np.float64  # order numbers stay exact
    order = _scratch("order", (hp, wp), dtype)
    order.fill(-1.0)
    order.reshape(-1)[v * wp + u] = np.arange(n, dtype=dtype)  # the last point on a pixel wins
    if splat > 1:
        order = cv2.dilate(order, np.ones((splat, splat), np.uint8), dst=_scratch("spread", (hp, wp), dtype),
                           anchor=(splat - 1, splat - 1), borderType=cv2.BORDER_CONSTANT, borderValue=-1.0)
    order = order[pad:, pad:].reshape(-1)  # the image's part (a copy when there is a margin)
    covered = np.flatnonzero(order >= 0)
    # whole pixels (3 bytes) at a time: much faster than indexing the channels
    pixels = np.ascontiguousarray(colors, np.uint8).reshape(-1).view("V3")
    image.reshape(-1).view("V3")[covered] = pixels[order[covered].astype(np.int64)]
    return n
