"""Square point splats drawn in one pass over the image, whatever the number of points.

Each point covers the ``splat`` x ``splat`` pixels from its own pixel down and right; where squares
overlap, the point given later (the nearer one, for points sorted far first) is on top. The points
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


def splat_squares(image: np.ndarray, uv: np.ndarray, colors: np.ndarray, splat: int) -> int:
    """Draw points (N, 2) pixel positions (rounded; clamped to the image) in ``colors`` (N, 3) as
    squares of ``splat`` pixels onto ``image`` (H, W, 3), later points on top. Returns N."""
    n = len(uv)
    if n == 0:
        return 0
    h, w = image.shape[:2]
    uv = np.round(uv).astype(np.int64)
    u = np.clip(uv[:, 0], 0, w - 1)
    v = np.clip(uv[:, 1], 0, h - 1)
    dtype = np.float32 if n < (1 << 24) else np.float64  # order numbers stay exact
    order = _scratch("order", (h, w), dtype)
    order.fill(-1.0)
    order.reshape(-1)[v * w + u] = np.arange(n, dtype=dtype)  # the last point on a pixel wins
    if splat > 1:
        order = cv2.dilate(order, np.ones((splat, splat), np.uint8), dst=_scratch("spread", (h, w), dtype),
                           anchor=(splat - 1, splat - 1), borderType=cv2.BORDER_CONSTANT, borderValue=-1.0)
    covered = np.flatnonzero(order.reshape(-1) >= 0)
    # whole pixels (3 bytes) at a time: much faster than indexing the channels
    pixels = np.ascontiguousarray(colors, np.uint8).reshape(-1).view("V3")
    image.reshape(-1).view("V3")[covered] = pixels[order.reshape(-1)[covered].astype(np.int64)]
    return n
