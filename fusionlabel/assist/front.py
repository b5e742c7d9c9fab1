"""Which end of a box is its front, from one sweep.

A geometric fit knows a box's axis, not its front. Without a cue a box faces the ego's forward
half-plane (the rig's forward, LiDAR +x without a rig). Two cues turn it:

- *A car's crown.* A car's roof is not in the middle of its body: the bonnet and windscreen in front
  are longer than the boot or tailgate behind, so the car's highest returns (its *crown*, the roof
  and the top of its windows) end further from the front of the box than from its back. When the
  crown is seen along enough of the car's length, the box faces the end with the larger gap.
- *The side of the road* (riders and pedestrians). One moving along the ego's way, beside it on the
  side of oncoming traffic, mostly comes towards the ego: in KITTI's tracking labels (right-hand
  traffic), 96% of such riders and 62% of such pedestrians face backwards, against 8% and 32% on the
  ego's own side. ``traffic_side`` (right, left, none) is the rig's; none keeps the half-plane.
"""

from __future__ import annotations

import numpy as np

from ..geometry.cuboid import Cuboid, in_footprint

CROWN_BAND = 0.3      # metres below the highest return that still count as the crown
MIN_CROWN_SPAN = 1.0  # metres of crown along the length needed to judge (a roof seen from its side)
MIN_GAP_DIFF = 0.2    # metres by which the front gap must exceed the back gap
MARGIN = 0.2          # metres around the box within which returns count as the car's
FRONT_CLASSES = ("Car",)
TRAFFIC_CLASSES = ("Cyclist", "Pedestrian")
ALONG_WAY = np.radians(30.0)   # a box's axis this close to the ego's forward runs along its way
BESIDE = 2.0                   # metres to the side of the ego at which the oncoming side begins
NO_RIG_FORWARD = (1.0, 0.0)


def _relative_yaw(box: Cuboid, forward) -> float:
    """The box's heading relative to the xy direction ``forward``, wrapped to (-π, π]."""
    d = box.yaw - float(np.arctan2(forward[1], forward[0]))
    return float(np.arctan2(np.sin(d), np.cos(d)))


def half_plane_forward(box: Cuboid, forward=NO_RIG_FORWARD) -> Cuboid:
    """The box's heading within 90° of ``forward`` (the ego's, as an xy direction; relative heading
    in (-π/2, π/2]): the reading without any cue to its front."""
    rel = _relative_yaw(box, forward)
    if rel > np.pi / 2 + 1e-9 or rel <= -np.pi / 2 + 1e-9:
        return box.with_(yaw=box.yaw + np.pi)
    return box


def facing_traffic(box: Cuboid, forward=NO_RIG_FORWARD, traffic_side: str = "none") -> Cuboid:
    """``box`` (already in the forward half-plane) turned to face backwards when it runs along the
    ego's way more than ``BESIDE`` to the side of oncoming traffic (module docstring)."""
    if traffic_side == "none" or abs(_relative_yaw(box, forward)) > ALONG_WAY:
        return box
    f = np.asarray(forward, dtype=np.float64) / float(np.hypot(*forward))
    leftward = float(np.dot(np.asarray(box.center[:2], dtype=np.float64), (-f[1], f[0])))
    oncoming = leftward > BESIDE if traffic_side == "right" else leftward < -BESIDE
    return box.with_(yaw=box.yaw + np.pi) if oncoming else box


def crown_gaps(box: Cuboid, xy: np.ndarray, heights: np.ndarray) -> tuple[float, float, float] | None:
    """(gap ahead, gap behind, crown span) in metres along the box's heading, for returns ``xy``
    (n, 2) with ``heights`` (n,) above ground: how far the crown stops short of the box's front and
    back ends, and how long it is. None when no return lies in the box."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    inside = in_footprint(xy, box, MARGIN)
    if not inside.any():
        return None
    h = np.asarray(heights)[inside]
    u = (xy[inside] - np.asarray(box.center[:2])) @ np.array([np.cos(box.yaw), np.sin(box.yaw)])
    top = u[h >= h.max() - CROWN_BAND]
    return box.size[0] / 2 - float(top.max()), float(top.min()) + box.size[0] / 2, float(top.max() - top.min())


def facing_front(box: Cuboid, label: str, xy: np.ndarray, heights: np.ndarray, forward=NO_RIG_FORWARD,
                 traffic_side: str = "none") -> Cuboid:
    """``box`` (class ``label``) turned to face its front as its crown or the side of the road tells
    (module docstring; ``forward``: the ego's forward as an xy direction); any other class, or a car
    whose crown cannot tell, as :func:`half_plane_forward`."""
    box = half_plane_forward(box, forward)
    if label in TRAFFIC_CLASSES:
        return facing_traffic(box, forward, traffic_side)
    if label not in FRONT_CLASSES:
        return box
    gaps = crown_gaps(box, xy, heights)
    if gaps is None:
        return box
    ahead, behind, span = gaps
    if span >= MIN_CROWN_SPAN and behind - ahead > MIN_GAP_DIFF:
        return box.with_(yaw=box.yaw + np.pi)
    return box
