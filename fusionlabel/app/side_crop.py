"""What each side view shows of a box's crop, in drawing order. Qt-free, so that the loader thread
prepares it with the frame (:meth:`.frame_data.FrameData.side_points`) instead of each view sorting
the crop on the GUI thread (tens of milliseconds a view for a box of a 3M-point sweep)."""

from __future__ import annotations

import numpy as np

# kind -> (horizontal axis, vertical axis, viewing axis) of the box frame (0 x fwd, 1 y left, 2 z up)
VIEW_AXES = {"top": (0, 1, 2), "side": (0, 2, 1), "front": (1, 2, 0)}
# where each view looks from along its viewing axis: above (+z), the right (-y), the front (+x)
VIEWER_SIDE = {"top": 1.0, "side": -1.0, "front": 1.0}
DEPTH_MARGIN = 0.3  # metres of points shown beyond the box along the viewing axis


def side_rows(local: np.ndarray, size, kind: str) -> np.ndarray:
    """Rows (M,) of a box's crop (its points in the box frame, (N, 3)) that the side view ``kind``
    shows: those within DEPTH_MARGIN of the box of ``size`` along the viewing axis, farthest from the
    viewer first, so that a nearer point is drawn over one behind it (from above, the roof over
    the ground seen under the body)."""
    depth = VIEW_AXES[kind][2]
    shown = np.flatnonzero(np.abs(local[:, depth]) <= size[depth] / 2.0 + DEPTH_MARGIN)
    toward_viewer = VIEWER_SIDE[kind] * local[shown, depth]
    return shown[np.argsort(toward_viewer, kind="stable")]
