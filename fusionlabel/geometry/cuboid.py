"""Cuboids: value type, corners, points-inside test.

A cuboid is given in some frame (usually the LiDAR frame of its frame) by its geometric centre,
its size ``(length, width, height)`` along its own x (heading), y and z axes, and its orientation
``R = Rz(yaw) @ Ry(pitch) @ Rx(roll)``; pitch and roll default to zero.

Corner order (box frame, x forward, y left, z up), bottom face then top face::

        7 -------- 4          front face = 0, 1, 5, 4  (x = +length/2)
       /|         /|          0 = front-left-bottom   4 = front-left-top
      6 -------- 5 .          1 = front-right-bottom  5 = front-right-top
      | |        | |          2 = rear-right-bottom   6 = rear-right-top
      . 3 -------- 0          3 = rear-left-bottom    7 = rear-left-top
      |/         |/
      2 -------- 1
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from .transforms import T_from_Rt, normalize_angle, rotation_from_euler

# Unit-box corner signs in the order documented above.
CORNER_SIGNS = np.array([
    [+1, +1, -1], [+1, -1, -1], [-1, -1, -1], [-1, +1, -1],
    [+1, +1, +1], [+1, -1, +1], [-1, -1, +1], [-1, +1, +1],
], dtype=np.float64) * 0.5

# The 12 edges as corner-index pairs: bottom ring, top ring, verticals.
EDGES = np.array([
    [0, 1], [1, 2], [2, 3], [3, 0],
    [4, 5], [5, 6], [6, 7], [7, 4],
    [0, 4], [1, 5], [2, 6], [3, 7],
])
FRONT_FACE = np.array([0, 1, 5, 4])


def _flat3(v, name: str):
    if isinstance(v, np.ndarray):
        v = v.reshape(-1)
    if len(v) != 3:
        raise ValueError(f"cuboid {name} must have 3 values, got {len(v)}")
    return v


def _wrap(a: float) -> float:
    """Angle in (-pi, pi] (scalar fast path of transforms.normalize_angle)."""
    if -math.pi < a <= math.pi:
        return a
    return normalize_angle(a)


@dataclass(frozen=True)
class Cuboid:
    """An oriented 3D box. ``center`` (3,), ``size`` (3,) = (length, width, height), angles in rad."""

    center: tuple[float, float, float]
    size: tuple[float, float, float]
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    _cache: dict = field(default_factory=dict, compare=False, repr=False, hash=False)

    def __post_init__(self):
        # Pure-Python checks: cuboids are built by the thousand when a project reopens.
        center = tuple(float(v) for v in _flat3(self.center, "centre"))
        size = tuple(float(v) for v in _flat3(self.size, "size"))
        if not all(math.isfinite(v) for v in center + size):
            raise ValueError(f"cuboid centre and size must be finite, got {center}, {size}")
        if min(size) <= 0.0:
            raise ValueError(f"cuboid size must be positive, got {size}")
        object.__setattr__(self, "center", center)
        object.__setattr__(self, "size", size)
        object.__setattr__(self, "yaw", _wrap(float(self.yaw)))
        object.__setattr__(self, "pitch", float(self.pitch))
        object.__setattr__(self, "roll", float(self.roll))

    @property
    def length(self) -> float:
        return self.size[0]

    @property
    def width(self) -> float:
        return self.size[1]

    @property
    def height(self) -> float:
        return self.size[2]

    @property
    def is_upright(self) -> bool:
        return self.pitch == 0.0 and self.roll == 0.0

    def rotation(self) -> np.ndarray:
        """Orientation matrix (3, 3): box frame -> cuboid's frame."""
        if "R" not in self._cache:
            self._cache["R"] = rotation_from_euler(self.roll, self.pitch, self.yaw)
        return self._cache["R"]

    def T_frame_box(self) -> np.ndarray:
        """(4, 4) transform from the box frame (origin at the centre) to the cuboid's frame."""
        return T_from_Rt(self.rotation(), self.center)

    def corners(self) -> np.ndarray:
        """The 8 corners, shape (8, 3), in the order of :data:`CORNER_SIGNS`."""
        local = CORNER_SIGNS * np.asarray(self.size)
        return local @ self.rotation().T + np.asarray(self.center)

    def bottom_center(self) -> np.ndarray:
        """Centre of the bottom face, shape (3,)."""
        return np.asarray(self.center) - self.rotation()[:, 2] * (self.height / 2.0)

    def heading(self) -> np.ndarray:
        """Unit vector of the box's +x axis, shape (3,)."""
        return self.rotation()[:, 0].copy()

    def bev_polygon(self) -> np.ndarray:
        """Footprint on the xy plane (yaw only), shape (4, 2), counter-clockwise."""
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        hl, hw = self.length / 2.0, self.width / 2.0
        local = np.array([[hl, hw], [-hl, hw], [-hl, -hw], [hl, -hw]])
        R2 = np.array([[c, -s], [s, c]])
        return local @ R2.T + np.asarray(self.center[:2])

    def transformed(self, T_b_a: np.ndarray) -> "Cuboid":
        """This cuboid (given in frame a) expressed in frame b."""
        from .transforms import euler_from_rotation

        T_b_a = np.asarray(T_b_a, dtype=np.float64)
        R = T_b_a[:3, :3] @ self.rotation()
        center = T_b_a[:3, :3] @ np.asarray(self.center) + T_b_a[:3, 3]
        roll, pitch, yaw = euler_from_rotation(R)
        if self.is_upright and abs(roll) < 1e-9 and abs(pitch) < 1e-9:
            roll = pitch = 0.0
        return Cuboid(center, self.size, yaw, pitch, roll)

    def turned(self, delta: float) -> "Cuboid":
        """The box turned by ``delta`` rad about its own up axis (counter-clockwise seen from above).
        An upright box just changes yaw; a tilted one keeps its tilt against the ground it stands
        on, where adding ``delta`` to yaw would turn it about the frame's z and tilt it further (a
        nuScenes box, upright in the world, carries the tilt of the LiDAR that sees it)."""
        if self.is_upright:
            return self.with_(yaw=self.yaw + delta)
        from .transforms import euler_from_rotation, rotation_z

        roll, pitch, yaw = euler_from_rotation(self.rotation() @ rotation_z(delta))
        return self.with_(yaw=yaw, pitch=pitch, roll=roll)

    def upright(self) -> "Cuboid":
        """The same box with pitch and roll dropped."""
        return replace(self, pitch=0.0, roll=0.0, _cache={})

    def with_(self, **changes) -> "Cuboid":
        """A copy with some fields changed (center, size, yaw, pitch, roll); its rotation is kept
        when no angle changes (the per-box checks move and shrink boxes by the thousand)."""
        turned = "yaw" in changes or "pitch" in changes or "roll" in changes
        return replace(self, _cache={} if turned or "R" not in self._cache else {"R": self._cache["R"]}, **changes)

    def volume(self) -> float:
        return self.length * self.width * self.height


def centres_and_yaws(cuboids: list[Cuboid], T_b_a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The centres (n, 3) and yaws (n,) of ``cuboids`` (given in frame a) expressed in frame b, as
    :meth:`Cuboid.transformed` gives them, for a frame's boxes at once (no Cuboid built; equal to
    its values up to rounding in the last bits)."""
    from .transforms import GIMBAL_LOCK, arctan2, normalize_angle

    T_b_a = np.asarray(T_b_a, dtype=np.float64)
    n = len(cuboids)
    centres = np.array([c.center for c in cuboids], np.float64).reshape(n, 3) @ T_b_a[:3, :3].T + T_b_a[:3, 3]
    R = T_b_a[:3, :3] @ np.array([c.rotation() for c in cuboids], np.float64).reshape(n, 3, 3)
    locked = np.hypot(R[:, 0, 0], R[:, 1, 0]) < GIMBAL_LOCK      # pitch +-90 deg: yaw carries the turn
    yaws = np.where(locked, arctan2(-R[:, 0, 1], R[:, 1, 1]), arctan2(R[:, 1, 0], R[:, 0, 0]))
    return centres, np.asarray(normalize_angle(yaws), np.float64).reshape(n)


def in_footprint(xy: np.ndarray, box: Cuboid, margin: float = 0.0) -> np.ndarray:
    """Mask (n,) of the positions (n, 2) inside the footprint of ``box`` grown by ``margin``."""
    c, s = np.cos(box.yaw), np.sin(box.yaw)
    r = xy - np.asarray(box.center[:2])
    return (np.abs(r @ [c, s]) <= box.length / 2.0 + margin) & (np.abs(r @ [-s, c]) <= box.width / 2.0 + margin)


def points_in_cuboid(points: np.ndarray, cuboid: Cuboid, margin: float = 0.0) -> np.ndarray:
    """Boolean mask (N,) of points (N, 3+) inside ``cuboid`` (boundary included), grown by ``margin``."""
    return points_in_box(points, np.asarray(cuboid.center), np.asarray(cuboid.size), cuboid.rotation(), margin)


def points_in_box(points: np.ndarray, center: np.ndarray, size: np.ndarray, R: np.ndarray,
                  margin: float = 0.0) -> np.ndarray:
    """:func:`points_in_cuboid` of the box given as arrays: ``center`` (3,), ``size`` (3,) and its
    rotation ``R`` (3, 3), box frame -> the points' frame (no Cuboid built in a per-box loop)."""
    points = np.asarray(points)
    local = (points[:, :3].astype(np.float64) - center) @ R
    return np.all(np.abs(local) <= size / 2.0 + margin, axis=1)


def points_in_cuboids_matrix(points: np.ndarray, cuboids: list[Cuboid], margin: float = 0.0) -> np.ndarray:
    """(N, len(cuboids)) bool: point i inside cuboid j (boundary included), grown by ``margin``;
    :func:`points_in_cuboid`'s rule for every pair at once (for a few dozen points, such as box
    centres, rather than a sweep)."""
    points = np.asarray(points)
    if len(points) == 0 or not cuboids:
        return np.zeros((len(points), len(cuboids)), bool)
    centers = np.array([c.center for c in cuboids], np.float64)                     # (M, 3)
    rotations = np.stack([c.rotation() for c in cuboids])                             # (M, 3, 3)
    half = np.array([c.size for c in cuboids], np.float64) / 2.0 + margin             # (M, 3)
    offsets = points[None, :, :3].astype(np.float64) - centers[:, None, :]           # (M, N, 3)
    local = np.matmul(offsets, rotations)                                             # (M, N, 3)
    return np.all(np.abs(local) <= half[:, None, :], axis=2).T


def count_points_in_cuboids(points: np.ndarray, cuboids: list[Cuboid], margin: float = 0.0) -> np.ndarray:
    """Number of points (N, 3+) inside each cuboid, grown by ``margin``: (len(cuboids),) int64.

    Same rule as :func:`points_in_cuboid`, but each cuboid first skips the points outside the
    square around its centre that holds its (grown) half-diagonal, so a sweep of 100k points with
    dozens of boxes costs about one pass over x and y per box instead of one full test per box.
    """
    points = np.asarray(points)
    out = np.zeros(len(cuboids), np.int64)
    if len(points) == 0:
        return out
    x, y = np.ascontiguousarray(points[:, 0]), np.ascontiguousarray(points[:, 1])
    for k, c in enumerate(cuboids):
        cx, cy = c.center[0], c.center[1]
        # half-diagonal bounds every inside point's distance from the centre; the slack covers
        # float32 rounding of the coordinates (a generous prefilter costs nothing in exactness)
        reach = 0.5 * math.sqrt(sum((s + 2.0 * margin) ** 2 for s in c.size))
        reach += 1e-3 * (1.0 + max(abs(cx), abs(cy)))
        near = np.flatnonzero((np.abs(x - cx) <= reach) & (np.abs(y - cy) <= reach))
        if len(near):
            out[k] = int(points_in_cuboid(points[near], c, margin).sum())
    return out
