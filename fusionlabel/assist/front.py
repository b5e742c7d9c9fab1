"""Which end of a car's box is its front, from one sweep.

A geometric fit knows a box's axis, not its front. A car's roof is not in the middle of its body: the
bonnet and windscreen in front are longer than the boot or tailgate behind, so the car's highest
returns (its *crown*, the roof and the top of its windows) end further from the front of the box
than from its back. When the crown is seen along enough of the car's length, the box faces the end
with the larger gap; otherwise (a car seen from straight behind or ahead, a roof too sparse to
measure) it keeps the reading in the +x half-plane the detector has always reported.
"""

from __future__ import annotations

import numpy as np

from ..geometry.cuboid import Cuboid, in_footprint

CROWN_BAND = 0.3      # metres below the highest return that still count as the crown
MIN_CROWN_SPAN = 1.0  # metres of crown along the length needed to judge (a roof seen from its side)
MIN_GAP_DIFF = 0.2    # metres by which the front gap must exceed the back gap
MARGIN = 0.2          # metres around the box within which returns count as the car's
FRONT_CLASSES = ("Car",)


def half_plane_forward(box: Cuboid) -> Cuboid:
    """The box's heading in (-π/2, π/2]: pointing away from -x (no cue to its front)."""
    yaw = float(np.arctan2(np.sin(box.yaw), np.cos(box.yaw)))
    if yaw > np.pi / 2 + 1e-9 or yaw <= -np.pi / 2 + 1e-9:
        return box.with_(yaw=box.yaw + np.pi)
    return box


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


def facing_front(box: Cuboid, label: str, xy: np.ndarray, heights: np.ndarray) -> Cuboid:
    """``box`` (class ``label``) turned to face its front as its crown tells (module docstring);
    any other class, or a car whose crown cannot tell, as :func:`half_plane_forward`."""
    box = half_plane_forward(box)
    if label not in FRONT_CLASSES:
        return box
    gaps = crown_gaps(box, xy, heights)
    if gaps is None:
        return box
    ahead, behind, span = gaps
    if span >= MIN_CROWN_SPAN and behind - ahead > MIN_GAP_DIFF:
        return box.with_(yaw=box.yaw + np.pi)
    return box
