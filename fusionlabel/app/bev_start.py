"""Where the bird's-eye view starts on a drive opened for the first time (Qt-free).

The usual view is centred 12 m ahead of the ego at 8 pixels per metre (about ±40 m in a large
window), right for drives labelled all around (a 360° LiDAR's labels: nuScenes, SUSTech). A drive
labelled only ahead (KITTI object: what the front camera sees, up to ~70 m) would open on none
of its objects, so when every label of the first frame lies ahead of the ego and some fall
outside the usual view, the view takes in the labels and the ego instead: the ego kept on the
view's vertical middle line, zoomed out only as far as needed.
"""

from __future__ import annotations

import numpy as np

AHEAD_M = 12.0      # the usual view's centre, metres ahead of the ego
SCALE_PX = 8.0      # the usual view's pixels per metre
MARGIN_PX = 24.0    # room kept between the labels and the view's edges
MIN_SCALE = 0.5     # the bird's-eye view's own zoom limits
MAX_SCALE = 400.0


def start_view(centers_xy, corners_xy, ego_xy, forward, left, size_px: tuple[float, float]) -> tuple[np.ndarray, float]:
    """(centre in LiDAR xy, pixels per metre) of the first view. ``centers_xy`` (N, 2) and
    ``corners_xy`` (M, 2): the first frame's labels (box centres, footprint corners) in LiDAR xy;
    ``ego_xy`` (K, 2) the ego's outline; ``forward``/``left`` the unit LiDAR xy directions drawn up
    and left; ``size_px`` the view's (width, height). The usual view unless every label centre is
    ahead of the ego and some corner falls outside it (``MARGIN_PX`` in from the edges)."""
    forward, left = np.asarray(forward, float), np.asarray(left, float)
    usual = (AHEAD_M * forward, SCALE_PX)
    centers = np.asarray(centers_xy, float).reshape(-1, 2)
    corners = np.asarray(corners_xy, float).reshape(-1, 2)
    w, h = float(size_px[0]), float(size_px[1])
    if len(centers) == 0 or len(corners) == 0 or w <= 2 * MARGIN_PX or h <= 2 * MARGIN_PX:
        return usual
    if (centers @ forward).min() <= 0.0:
        return usual                     # labelled behind the ego too: a drive labelled all around
    half_w, half_h = (w / 2 - MARGIN_PX) / SCALE_PX, (h / 2 - MARGIN_PX) / SCALE_PX
    ahead, side = (corners - usual[0]) @ forward, corners @ left
    if np.abs(ahead).max() <= half_h and np.abs(side).max() <= half_w:
        return usual                     # already all in the usual view
    pts = np.vstack([corners, np.asarray(ego_xy, float).reshape(-1, 2), np.zeros((1, 2))])
    ahead, side = pts @ forward, pts @ left
    lo, hi = float(ahead.min()), float(ahead.max())
    scale = min(SCALE_PX, (h - 2 * MARGIN_PX) / max(hi - lo, 1e-6),
                (w - 2 * MARGIN_PX) / max(2 * float(np.abs(side).max()), 1e-6))
    return (lo + hi) / 2 * forward, float(np.clip(scale, MIN_SCALE, MAX_SCALE))
