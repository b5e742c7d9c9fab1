"""Stepping between unrelated frames (a KITTI object folder: scenes without capture times), and
copying cuboids into them.

On a recording the bird's-eye and 3D views stay where they were when you step frames: the same
place around the ego. Unrelated frames share no place, so a view left on one frame's objects may
show none of the next one's (KITTI frame 000000's pedestrian at 8 m, then 000001's truck at 70 m).
There, a view that shows none of the labels of the frame opened starts on them as on a project's
first opening (:mod:`.bev_start`; the bird's-eye and the 3D view each on its own), and so does a
project opened on another frame than it was closed on (``open --frame``): the view it saved shows
another scene.

C and Shift+C still copy there (a drive without capture times may be a sequence all the same), but
their message says that the next frame is another scene (:func:`copy_note`).
"""

from __future__ import annotations

import numpy as np

from ..assist.edit_assist import is_sequence

IN_VIEW_MARGIN_PX = 24.0   # a label centre closer than this to the view's edge is not in view


def restart_views(bev, view3d, drive, boxes) -> int:
    """Start ``bev`` and ``view3d`` (None without a 3D view) on ``boxes`` (the frame's cuboids)
    when ``drive``'s frames are unrelated, each view that shows none of them; returns how many
    views it started."""
    if not boxes or is_sequence(drive):
        return 0
    centers = np.array([np.asarray(b.center, float) for b in boxes])
    started = 0
    if not bev.shows(centers[:, :2], IN_VIEW_MARGIN_PX).any():
        bev.start_on(boxes)
        bev.update()
        started += 1
    if view3d is not None and not view3d.shows(centers).any():
        view3d.start_on(boxes)
        view3d.update()
        started += 1
    return started


def saved_view_applies(drive, saved_frame, frame: int) -> bool:
    """Whether a view saved on frame index ``saved_frame`` (None: not recorded) still fits when the
    project opens on ``frame``: not when ``drive``'s frames are unrelated and those differ (opened
    with ``--frame`` on another scene), where the view starts on the frame's labels instead."""
    return not isinstance(saved_frame, int) or saved_frame == frame or is_sequence(drive)


def copy_note(drive, target: int) -> str:
    """What the message of a copy into frame index ``target`` adds when ``drive``'s frames are
    unrelated ("; frame 000001 is another scene …"), else ""."""
    if is_sequence(drive):
        return ""
    return f"; frame {drive.frames[target].frame_id} is another scene (not a sequence): check the copies"
