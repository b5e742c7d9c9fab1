"""The bird's-eye view's height filter: a top cut above the ground under the ego. Qt-free.

The cut is in metres above the ground under the vehicle, so the same setting means the same on a
car-roof LiDAR at 1.7 m and on a mast at 2.5 m: with the cut at 2 m the view shows the points up
to 2 m above the road, and a car under a tree or a bridge is no longer hidden by the canopy or the
deck. The ground height comes from the sweep itself (:func:`ground_z`), so it needs no vehicle
frame in the rig. The filter changes only what the view draws: counts, fits and picks use every
point.
"""

from __future__ import annotations

import numpy as np

CUT_STEP = 0.5     # metres one key press moves the cut
FIRST_CUT = 3.0    # where the first U puts the cut (above a car, below most canopies and decks)
LOWEST_CUT = 0.5   # the cut goes no lower (the ground and kerbs stay visible)
HIGHEST_CUT = 6.0  # one step above this turns the filter off
GROUND_RING = (3.0, 20.0)  # metres from the LiDAR (xy) where the ground is looked for
GROUND_BAND = 0.3  # metres above the lowest points that still count as ground
GROUND_SAMPLE = 200_000  # a larger sweep's ground is found in every k-th point (about this many)


def step_cut(cut: float | None, steps: int) -> float | None:
    """The cut after ``steps`` key presses (negative: lower): from off the first lowering press
    gives FIRST_CUT; it stays within LOWEST_CUT .. HIGHEST_CUT, and raising it past HIGHEST_CUT
    turns the filter off (None)."""
    if cut is None:
        return FIRST_CUT if steps < 0 else None
    cut = round(cut + steps * CUT_STEP, 3)
    if cut > HIGHEST_CUT:
        return None
    return max(cut, LOWEST_CUT)


def ground_z(points: np.ndarray) -> float:
    """The ground's height (LiDAR z, metres) under the vehicle: the median z of the points within
    GROUND_BAND of the lowest ones (their 2nd percentile, so that a few returns below the road do
    not count) in a ring GROUND_RING around the LiDAR (in about GROUND_SAMPLE of the points); the
    whole sweep when the ring is empty, and 0.0 for an empty sweep."""
    if len(points) == 0:
        return 0.0
    points = points[::max(1, len(points) // GROUND_SAMPLE)]   # an even sample: as good, much faster
    r2 = points[:, 0] ** 2 + points[:, 1] ** 2
    z = points[:, 2][(r2 >= GROUND_RING[0] ** 2) & (r2 <= GROUND_RING[1] ** 2)]
    z = z[np.isfinite(z)]
    if len(z) == 0:
        z = points[:, 2][np.isfinite(points[:, 2])]
        if len(z) == 0:
            return 0.0
    low = float(np.percentile(z, 2.0))
    return float(np.median(z[z <= low + GROUND_BAND]))


def cut_caption(cut: float | None, ground: float) -> str | None:
    """The caption line for a cut, or None when the filter is off."""
    if cut is None:
        return None
    return f"height filter: points up to {cut:.1f} m above the ground (z ≤ {ground + cut:+.2f} m)   U / Shift+U, Ctrl+U off"
