"""Colour maps and class colours (RGB uint8)."""

from __future__ import annotations

import functools

import cv2
import numpy as np

# Stable, distinguishable colours for common classes; others hash into PALETTE (no grey: points are grey).
CLASS_COLORS = {
    "car": (255, 158, 0), "van": (255, 200, 40), "truck": (255, 99, 71), "bus": (255, 61, 99),
    "pedestrian": (0, 200, 255), "person_sitting": (0, 160, 255), "cyclist": (220, 20, 220),
    "bicycle": (220, 20, 220), "motorcycle": (200, 60, 255), "tram": (180, 120, 60), "misc": (0, 255, 180),
    "barrier": (0, 190, 190), "traffic_cone": (140, 220, 60),
}
PALETTE = [(255, 158, 0), (0, 200, 255), (220, 20, 220), (80, 220, 100), (255, 99, 71),
           (120, 120, 255), (255, 220, 0), (0, 160, 160), (200, 120, 80), (255, 120, 190)]
# The chip under box labels and captions, in the app and in `fusionlabel render`'s picture: black,
# nearly opaque, so points and a bright image hardly show through it. Over white, the worst case, it
# is a dark grey (30, 30, 30) on which every class colour, lifted to read on black, keeps at least
# 5.5:1 contrast (the app's styles.LABEL_CHIP_MIN_CONTRAST is 4.5) and white text ~17:1.
LABEL_CHIP_RGBA = (0, 0, 0, 225)


def class_color(label: str) -> tuple[int, int, int]:
    """RGB colour for a class name (case-insensitive; unknown names get a stable palette colour)."""
    key = label.lower()
    if key in CLASS_COLORS:
        return CLASS_COLORS[key]
    return PALETTE[sum(key.encode()) % len(PALETTE)]


@functools.lru_cache(maxsize=8)
def colormap_lut(cmap: int = cv2.COLORMAP_TURBO) -> np.ndarray:
    """The 256 RGB colours (256, 3) uint8 of an OpenCV colour map (read-only)."""
    lut = np.ascontiguousarray(cv2.applyColorMap(np.arange(256, dtype=np.uint8)[:, None], cmap)[:, 0, ::-1])
    lut.flags.writeable = False
    return lut


def colormap_levels(values: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    """The colour-map level (N,) uint8 of each value: 0 at ``vmin`` and below, 255 at ``vmax``.
    Never decreasing in the value (every step of it rounds monotonically)."""
    scaled = np.clip((np.asarray(values, dtype=np.float32) - vmin) / max(vmax - vmin, 1e-6), 0.0, 1.0)
    return (scaled * 255).astype(np.uint8)


def colormap(values: np.ndarray, vmin: float, vmax: float, cmap: int = cv2.COLORMAP_TURBO) -> np.ndarray:
    """Map values (N,) to RGB colours (N, 3) uint8 with an OpenCV colour map."""
    return colormap_lut(cmap)[colormap_levels(values, vmin, vmax)]


def depth_levels(depth: np.ndarray, max_depth: float = 60.0) -> np.ndarray:
    """The :func:`depth_colors` level (N,) uint8 of each depth: never increasing with depth, so
    a nearer point's level is at least a farther one's; the colour is ``colormap_lut()[level]``."""
    return colormap_levels(max_depth - np.asarray(depth), 0.0, max_depth)


def depth_colors(depth: np.ndarray, max_depth: float = 60.0) -> np.ndarray:
    """Near = red, far = blue (turbo reversed), (N, 3) uint8."""
    return colormap_lut()[depth_levels(depth, max_depth)]
