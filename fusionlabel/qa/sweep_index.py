"""A sweep indexed once per frame for the label checks' per-box questions, so that each of a frame's
dozens of boxes looks at a slice of the returns instead of testing every one.

Each query returns a superset of the returns the caller's own test selects, which the caller then
applies to the slice unchanged: the findings are those of the test over the whole sweep.
"""

from __future__ import annotations

import math

import numpy as np


class SweepByX:
    """A sweep's points (N, 3+) sorted by x: the returns near a box's centre are a slice."""

    SLACK = 1e-3      # m: the slice is this much wider than the test, which rounds in float32

    def __init__(self, points: np.ndarray):
        p = np.asarray(points)[:, :3]
        self.points = p[np.argsort(p[:, 0])]      # any order of equal x: only counts are taken

    def near(self, center, reach: float) -> np.ndarray:
        """The points whose x and y are each within ``reach`` of ``center``'s, tested as
        ``abs(p - c) <= reach`` in the points' own dtype, as over the whole sweep."""
        x = self.points[:, 0]
        lo = np.searchsorted(x, center[0] - reach - self.SLACK, side="left")
        hi = np.searchsorted(x, center[0] + reach + self.SLACK, side="right")
        p = self.points[lo:hi]
        return p[(np.abs(p[:, 0] - center[0]) <= reach) & (np.abs(p[:, 1] - center[1]) <= reach)]


class SweepRays:
    """A sweep's returns (N, 3) as float64 with their ranges ``r`` (N,), sorted by azimuth: the
    returns within a cone from the sensor are one or two slices."""

    SLACK = 1e-3      # rad: the slice is this much wider than the cone

    def __init__(self, points: np.ndarray):
        p = np.asarray(points)[:, :3].astype(np.float64)
        azimuth = np.arctan2(p[:, 1], p[:, 0])
        order = np.argsort(azimuth)
        self.p, self.azimuth = p[order], azimuth[order]
        self.r = np.sqrt(np.einsum("ij,ij->i", self.p, self.p))

    def in_cone(self, centre, radius: float) -> tuple[np.ndarray, np.ndarray]:
        """(returns, ranges) of every return whose ray lies within the cone from the sensor that
        just holds the sphere of ``radius`` about ``centre`` (at least ``radius`` away), and some
        beside it. A cone about a direction at elevation ``e`` with half-angle ``a`` spans the
        azimuths within ``asin(sin a / cos e)`` of its axis's, unless it holds the vertical."""
        dist = math.sqrt(sum(float(v) * float(v) for v in centre))
        half = math.asin(min(1.0, radius / dist))
        elevation = math.asin(max(-1.0, min(1.0, float(centre[2]) / dist)))
        if abs(elevation) + half > math.pi / 2 - 0.01:
            return self.p, self.r
        width = math.asin(min(1.0, math.sin(half) / math.cos(elevation))) + self.SLACK
        axis = math.atan2(float(centre[1]), float(centre[0]))
        lo = int(np.searchsorted(self.azimuth, axis - width, side="left"))
        hi = int(np.searchsorted(self.azimuth, axis + width, side="right"))
        parts = [slice(lo, hi)]
        if axis - width < -math.pi:         # the window wraps around +-pi
            parts.append(slice(int(np.searchsorted(self.azimuth, axis - width + 2 * math.pi, side="left")), None))
        if axis + width > math.pi:
            parts.append(slice(0, int(np.searchsorted(self.azimuth, axis + width - 2 * math.pi, side="right"))))
        if len(parts) == 1:
            return self.p[parts[0]], self.r[parts[0]]
        return np.concatenate([self.p[s] for s in parts]), np.concatenate([self.r[s] for s in parts])
