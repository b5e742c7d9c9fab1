"""Stepping between unrelated frames (a KITTI object folder: scenes without capture times).

On a recording the bird's-eye and 3D views stay where they were when you step frames: the same
place around the ego. Unrelated frames share no place, so a view left on one frame's objects may
show none of the next one's (KITTI frame 000000's pedestrian at 8 m, then 000001's truck at 70 m).
There, when a frame opens with none of its labels in the bird's-eye view, both views start on
them as on a project's first opening (:mod:`.bev_start`).
"""

from __future__ import annotations

import numpy as np

from ..assist.edit_assist import is_sequence

IN_VIEW_MARGIN_PX = 24.0   # a label centre closer than this to the view's edge is not in view


def restart_views(bev, view3d, drive, boxes) -> bool:
    """Start ``bev`` and ``view3d`` (None without a 3D view) on ``boxes`` (the frame's cuboids)
    when ``drive``'s frames are unrelated and the bird's-eye view shows none of them; returns
    whether it did."""
    if not boxes or is_sequence(drive):
        return False
    centers = np.array([np.asarray(b.center, float)[:2] for b in boxes])
    if bev.shows(centers, IN_VIEW_MARGIN_PX).any():
        return False
    bev.start_on(boxes)
    bev.update()
    if view3d is not None:
        view3d.start_on(boxes)
        view3d.update()
    return True
