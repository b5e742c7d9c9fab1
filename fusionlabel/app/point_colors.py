"""Point colours for the BEV and 3D views by height, intensity or distance. Qt-free."""

from __future__ import annotations

import numpy as np

from ..render.colors import colormap

HEIGHT_RANGE = (-2.5, 1.5)  # metres in the LiDAR frame (ground is about -1.7 .. -2 m)
DISTANCE_MAX = 60.0


def point_colors(points: np.ndarray, mode: str) -> np.ndarray:
    """(N, 3) uint8 RGB for (N, C) points: "height" (z), "intensity" (column 3, scaled to its 99th
    percentile) or "distance" (xy range)."""
    if len(points) == 0:
        return np.zeros((0, 3), np.uint8)
    if mode == "height":
        return colormap(points[:, 2], *HEIGHT_RANGE)
    if mode == "intensity":
        if points.shape[1] < 4:
            return np.full((len(points), 3), 200, np.uint8)
        i = points[:, 3]
        finite = i[np.isfinite(i)]
        top = float(np.percentile(finite, 99)) if len(finite) else 1.0
        return colormap(i, 0.0, top if top > 0 else 1.0)
    if mode == "distance":
        return colormap(np.hypot(points[:, 0], points[:, 1]), 0.0, DISTANCE_MAX)
    raise ValueError(f"unknown colour mode {mode!r}")
