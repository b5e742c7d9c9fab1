"""Box fitting on a cluster's footprint: L-shape orientation search and prior-based completion.

A LiDAR sees at most two sides of a vehicle. The orientation whose rectangle puts the most points
close to one of its edges explains such an "L" best (a closeness score, searched over 0-90°); the
rectangle is then the tight extent along those axes. When the object is only partly seen,
:func:`complete_extent` grows the hidden sides (those facing away from the sensor) to the size a
class prior expects, keeping the visible faces where they were measured.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_FIT_POINTS = 400
ELONGATED = 2.0   # spread ratio (std along / across) above which a footprint has a principal axis
_ANGLES = {}


def _unit_axes(step_deg: float) -> tuple[np.ndarray, np.ndarray]:
    key = float(step_deg)
    if key not in _ANGLES:
        theta = np.radians(np.arange(0.0, 90.0, step_deg))
        _ANGLES[key] = (theta, np.stack([np.cos(theta), np.sin(theta)]))
    return _ANGLES[key]


def lshape_angle(xy: np.ndarray, step_deg: float = 1.0, d0: float = 0.05) -> float:
    """Orientation in [0, pi/2) of the rectangle that best explains (N, 2) footprint points.

    Score per angle: sum over points of 1 / max(d, d0), d = distance to the nearest rectangle edge.
    Uses at most MAX_FIT_POINTS points (an even subsample).
    """
    xy = np.asarray(xy, dtype=np.float64)[:, :2]
    if len(xy) < 3:
        return 0.0
    if len(xy) > MAX_FIT_POINTS:
        xy = xy[np.linspace(0, len(xy) - 1, MAX_FIT_POINTS).astype(np.int64)]
    theta, e1 = _unit_axes(step_deg)
    e2 = np.stack([-e1[1], e1[0]])
    c1 = xy @ e1                          # (n, K)
    c2 = xy @ e2
    d1 = np.minimum(c1.max(0) - c1, c1 - c1.min(0))
    d2 = np.minimum(c2.max(0) - c2, c2 - c2.min(0))
    d = np.maximum(np.minimum(d1, d2), d0)
    return float(theta[int(np.argmax((1.0 / d).sum(0)))])


def min_area_angle(xy: np.ndarray) -> float:
    """Orientation in [0, pi/2) of the smallest-area rectangle around (N, 2) points."""
    import cv2

    xy = np.asarray(xy, dtype=np.float32)[:, :2]
    if len(xy) < 3:
        return 0.0
    (_, _), (_, _), angle = cv2.minAreaRect(xy)
    return float(np.mod(np.radians(angle), np.pi / 2))


def small_object_angle(xy: np.ndarray, elongation: float = ELONGATED) -> float:
    """Orientation in [0, pi/2) of a small object's footprint (N, 2): its principal axis when the
    points are at least ``elongation`` times longer than wide (spread ratio), else the
    smallest-area rectangle's.

    A cyclist's outline is thin and ragged (wheels, legs, handlebars): the smallest rectangle tilts
    to catch a stray handlebar or foot, while the principal axis follows the bulk of the points.
    Round footprints (a person) have no principal axis to speak of.
    """
    xy = np.asarray(xy, dtype=np.float64)[:, :2]
    if len(xy) >= 5:
        d = xy - xy.mean(0)
        sxx, syy, sxy = float(d[:, 0] @ d[:, 0]), float(d[:, 1] @ d[:, 1]), float(d[:, 0] @ d[:, 1])
        half_gap = np.hypot((sxx - syy) / 2.0, sxy)          # eigenvalues of the 2x2 scatter: mean ± this
        major, minor = (sxx + syy) / 2.0 + half_gap, (sxx + syy) / 2.0 - half_gap
        if major > elongation ** 2 * max(minor, 1e-12):
            return float(np.mod(0.5 * np.arctan2(2.0 * sxy, sxx - syy), np.pi / 2))
    return min_area_angle(xy)


@dataclass(frozen=True)
class Rect:
    """An oriented rectangle: ``axis`` unit (2,) of its first side, extents ``lo``/``hi`` (2,)
    along (axis, its left normal)."""

    axis: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    @property
    def normal(self) -> np.ndarray:
        return np.array([-self.axis[1], self.axis[0]])

    @property
    def size(self) -> np.ndarray:
        return self.hi - self.lo

    @property
    def center(self) -> np.ndarray:
        mid = (self.lo + self.hi) / 2.0
        return mid[0] * self.axis + mid[1] * self.normal

    @property
    def angle(self) -> float:
        return float(np.arctan2(self.axis[1], self.axis[0]))

    def swapped(self) -> "Rect":
        """The same rectangle described from its second side (axis rotated by +90°)."""
        n = self.normal
        # coordinates along the new normal (-old axis) are the negated old ones
        return Rect(n, np.array([self.lo[1], -self.hi[0]]), np.array([self.hi[1], -self.lo[0]]))


def rect_at_angle(xy: np.ndarray, angle: float, trim: float = 0.0) -> Rect:
    """Rectangle around (N, 2) points with its first side along ``angle``: tight, or leaving out
    the ``trim`` share of points at each end of each side (stray returns)."""
    axis = np.array([np.cos(angle), np.sin(angle)])
    normal = np.array([-axis[1], axis[0]])
    c = np.stack([xy[:, :2] @ axis, xy[:, :2] @ normal], axis=1)
    if trim > 0.0:
        c = np.sort(c, axis=0)
        k = int(trim * (len(c) - 1))      # nearest rank
        return Rect(axis, c[k].copy(), c[len(c) - 1 - k].copy())
    return Rect(axis, c.min(0), c.max(0))


def complete_extent(lo: float, hi: float, target: float, sensor: float = 0.0) -> tuple[float, float]:
    """Grow [lo, hi] to length ``target`` away from the sensor coordinate; unchanged if long enough.

    The face nearer the sensor was seen; the far one may be hidden. With the sensor between the
    faces (a side seen face-on), the interval grows equally on both ends.
    """
    if hi - lo >= target:
        return lo, hi
    if sensor <= lo:
        return lo, lo + target
    if sensor >= hi:
        return hi - target, hi
    mid = (lo + hi) / 2.0
    return mid - target / 2.0, mid + target / 2.0


def centre_extent(lo: float, hi: float, target: float, sensor: float, depth: float) -> tuple[float, float]:
    """Grow [lo, hi] to length ``target`` around the middle of a body ``depth`` deep whose face
    nearer the sensor coordinate was seen; unchanged if long enough.

    A person's box is drawn bigger than the body (arms, stride) but around it, and the returns
    come from the near half of the body only: growing from the seen face would put the box's
    middle a stride behind the person.
    """
    if hi - lo >= target:
        return lo, hi
    mid = (lo + hi) / 2.0
    if sensor <= lo:
        mid = max(mid, lo + depth / 2.0)
    elif sensor >= hi:
        mid = min(mid, hi - depth / 2.0)
    return mid - target / 2.0, mid + target / 2.0


def complete_rect(rect: Rect, target: tuple[float, float], sensor_xy=(0.0, 0.0), depth: float | None = None) -> Rect:
    """Grow both sides of ``rect`` to at least ``target`` (along axis, along normal): away from the
    sensor (:func:`complete_extent`), or with ``depth`` around a body that deep (:func:`centre_extent`)."""
    s = np.asarray(sensor_xy, dtype=np.float64)
    s_coords = (float(s @ rect.axis), float(s @ rect.normal))
    lo, hi = rect.lo.copy(), rect.hi.copy()
    for k in range(2):
        if depth is None:
            lo[k], hi[k] = complete_extent(lo[k], hi[k], target[k], s_coords[k])
        else:
            lo[k], hi[k] = centre_extent(lo[k], hi[k], target[k], s_coords[k], depth)
    return Rect(rect.axis, lo, hi)
