"""Pure geometry behind mouse edits: what a drag does to a cuboid. Qt-free.

The views call these while a drag is in progress (to draw a preview) and once more on release,
where the result becomes exactly one command. Boxes are in the frame's LiDAR frame; "local"
coordinates are in the box frame (x along the heading, y left, z up, origin at the centre).
"""

from __future__ import annotations

import math

import numpy as np

from ..geometry.cuboid import Cuboid
from ..geometry.transforms import normalize_angle

MIN_SIZE = 0.05  # metres: an edge cannot be dragged closer than this to the opposite one
AXES = {"x": 0, "y": 1, "z": 2}


def moved(box: Cuboid, delta) -> Cuboid:
    """The box translated by ``delta`` (3,) metres in the LiDAR frame."""
    return box.with_(center=tuple(np.asarray(box.center) + np.asarray(delta, float)))


def moved_local(box: Cuboid, delta_local) -> Cuboid:
    """The box translated by ``delta_local`` (3,) metres given in its own frame."""
    return moved(box, box.rotation() @ np.asarray(delta_local, float))


def rotated_to(box: Cuboid, anchor_xy, point_xy, yaw0: float, snap: float | None = None) -> Cuboid:
    """The box turned about its centre by the angle swept from ``anchor_xy`` to ``point_xy``
    (both xy in the LiDAR frame) starting from yaw ``yaw0``; ``snap`` rounds the result (rad)."""
    c = np.asarray(box.center[:2])
    a0 = math.atan2(anchor_xy[1] - c[1], anchor_xy[0] - c[0])
    a1 = math.atan2(point_xy[1] - c[1], point_xy[0] - c[0])
    yaw = yaw0 + (a1 - a0)
    if snap:
        yaw = round(yaw / snap) * snap
    return box.with_(yaw=normalize_angle(yaw)) if box.is_upright else box.turned(yaw - box.yaw)


def to_local(box: Cuboid, point) -> np.ndarray:
    """A LiDAR-frame point (2,) or (3,) in the box frame (3,); a 2D point is taken at centre height."""
    p = np.asarray(point, float)
    if p.shape[0] == 2:
        p = np.array([p[0], p[1], box.center[2]])
    return box.rotation().T @ (p - np.asarray(box.center))


def with_edges(box: Cuboid, edges: dict[int, tuple[int, float]]) -> Cuboid:
    """Move faces of the box: ``edges[axis] = (sign, t)`` puts the face on the +/- side of local
    ``axis`` at local coordinate ``t`` while the opposite face stays put (never closer than
    :data:`MIN_SIZE`). Returns the new box; size and centre change, orientation does not."""
    half = np.asarray(box.size) / 2.0
    lo, hi = -half.copy(), half.copy()
    for axis, (sign, t) in edges.items():
        if sign > 0:
            hi[axis] = max(float(t), lo[axis] + MIN_SIZE)
        else:
            lo[axis] = min(float(t), hi[axis] - MIN_SIZE)
    shift = (lo + hi) / 2.0
    return Cuboid(np.asarray(box.center) + box.rotation() @ shift, hi - lo, box.yaw, box.pitch, box.roll)


# BEV handles of a box: name -> local (x, y) in units of half length / half width.
BEV_HANDLES = {
    "front": (1, 0), "back": (-1, 0), "left": (0, 1), "right": (0, -1),
    "front_left": (1, 1), "front_right": (1, -1), "back_left": (-1, 1), "back_right": (-1, -1),
}
ROTATE_HANDLE_OFFSET = 1.0  # metres beyond the front face
# The rotate knob's radius on screen (pixels): half the box's narrower side there, within these
# bounds, so a pedestrian's knob is no bigger than the pedestrian yet still easy to grab; a press
# up to KNOB_PICK_PX outside the drawn disc grabs it.
KNOB_MAX_PX = 6.0
KNOB_MIN_PX = 3.5
KNOB_PICK_PX = 2.0


def knob_radius_px(box: Cuboid, scale: float) -> float:
    """Radius (pixels) of the rotate knob of ``box`` drawn at ``scale`` pixels per metre: half its
    narrower side on screen, between :data:`KNOB_MIN_PX` and :data:`KNOB_MAX_PX`."""
    return float(np.clip(0.5 * min(box.length, box.width) * scale, KNOB_MIN_PX, KNOB_MAX_PX))


def bev_handle_points(box: Cuboid) -> dict[str, np.ndarray]:
    """LiDAR-frame xy (2,) of every resize handle and of the ``"rotate"`` knob in front of the box."""
    c, s = math.cos(box.yaw), math.sin(box.yaw)
    R2 = np.array([[c, -s], [s, c]])
    hl, hw = box.length / 2.0, box.width / 2.0
    out = {name: R2 @ np.array([ax * hl, ay * hw]) + np.asarray(box.center[:2])
           for name, (ax, ay) in BEV_HANDLES.items()}
    out["rotate"] = R2 @ np.array([hl + ROTATE_HANDLE_OFFSET, 0.0]) + np.asarray(box.center[:2])
    return out


def resized_bev(box: Cuboid, handle: str, point_xy) -> Cuboid:
    """The box with the face(s) of a BEV ``handle`` dragged to ``point_xy``; opposite faces fixed."""
    ax, ay = BEV_HANDLES[handle]
    local = to_local(box, point_xy)
    edges = {}
    if ax:
        edges[0] = (ax, local[0])
    if ay:
        edges[1] = (ay, local[1])
    return with_edges(box, edges)


def flipped(box: Cuboid) -> Cuboid:
    """The same box heading the other way."""
    return box.turned(math.pi)
