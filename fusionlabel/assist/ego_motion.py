"""The ego's motion between two sweeps of a drive recorded without poses, for propagation (``V``).

A drive without ego poses (:func:`~fusionlabel.model.drive.has_ego_poses` is False: SUSTech, many
in-house drives) gives every frame the same pose, so carrying a box to the next frame would start
from its place in the LiDAR frame, and anything moving relative to the ego, parked cars included
while the ego drives, starts metres off. :func:`motion_between` matches the static structure of
the two sweeps with the odometry of ``import --estimate-poses`` (:func:`.odometry.match_pair`:
correlative search over what the ego can move in the time between them, then ICP) and returns
``T_a_b``, frame b's LiDAR frame in frame a's, with whether the match is trusted.

A match costs 1.5-3.5 s (two SUSTech sweeps 0.5-1.5 s apart), so results are cached per drive and
frame pair (:func:`cached_motion` says whether one is at hand, so the app runs the estimate on a
worker thread only when needed), and so are the last sweeps' structures (``V``, ``D``, ``V`` reuses
the frame it arrived in).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from ..model.drive import has_ego_poses
from .builtin import GeometricDetector
from .odometry import OdometryConfig, match_pair, planar, pose2d, search_window, sweep_structure

STRUCTURES_KEPT = 4      # sweeps' structures kept per drive (the frames around the one on screen)


@dataclass(frozen=True)
class EgoMotion:
    """``T_a_b`` (4, 4): frame b's LiDAR frame in frame a's, estimated from the sweeps; ``ok`` False
    when the match was not trusted (``reason`` says why: then the motion is not used)."""

    frame_a: int
    frame_b: int
    T_a_b: np.ndarray
    ok: bool
    inliers: float
    reason: str = ""

    def text(self) -> str:
        """The motion in words: "2.77 m, turning 0.6°"."""
        x, y, yaw = planar(self.T_a_b)
        return f"{np.hypot(x, y):.2f} m, turning {abs(np.degrees(yaw)):.1f}°"


class _DriveCache:
    def __init__(self):
        self.posed: bool | None = None
        self.motions: dict[tuple[int, int], EgoMotion] = {}
        self.structures: OrderedDict[int, np.ndarray] = OrderedDict()


_caches: "weakref.WeakKeyDictionary[object, _DriveCache]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _cache(drive) -> _DriveCache:
    with _lock:
        cache = _caches.get(drive)
        if cache is None:
            cache = _caches[drive] = _DriveCache()
        return cache


def has_poses(drive) -> bool:
    """:func:`~fusionlabel.model.drive.has_ego_poses` of ``drive``, worked out once (it compares
    every frame's pose on a drive without them)."""
    cache = _cache(drive)
    if cache.posed is None:
        cache.posed = has_ego_poses(drive)
    return cache.posed


def cached_motion(drive, a: int, b: int) -> EgoMotion | None:
    """The motion from frame ``a`` to ``b`` if it was estimated already (either way round), else None."""
    cache = _cache(drive)
    with _lock:
        if (a, b) in cache.motions:
            return cache.motions[(a, b)]
        back = cache.motions.get((b, a))
    if back is None:
        return None
    return EgoMotion(a, b, np.linalg.inv(back.T_a_b), back.ok, back.inliers, back.reason)


def _structure(drive, frame: int, cfg: OdometryConfig) -> np.ndarray:
    cache = _cache(drive)
    with _lock:
        if frame in cache.structures:
            cache.structures.move_to_end(frame)
            return cache.structures[frame]
    found = sweep_structure(drive.points(frame), cfg, GeometricDetector() if cfg.remove_movable else None)
    with _lock:
        cache.structures[frame] = found
        while len(cache.structures) > STRUCTURES_KEPT:
            cache.structures.popitem(last=False)
    return found


def motion_between(drive, a: int, b: int, cfg: OdometryConfig = OdometryConfig()) -> EgoMotion:
    """The ego's motion from frame ``a`` to frame ``b`` of ``drive`` (cached; see module docstring),
    matched over what the ego can move in the time between their captures
    (:func:`.odometry.search_window`; 0.1 s a frame without usable timestamps)."""
    found = cached_motion(drive, a, b)
    if found is not None:
        return found
    dt = abs(drive.frames[b].timestamp_us - drive.frames[a].timestamp_us) * 1e-6 or 0.1 * abs(b - a)
    search, yaw_search = search_window(dt, cfg)
    m = match_pair(_structure(drive, b, cfg), _structure(drive, a, cfg), (0.0, 0.0, 0.0), search, yaw_search, cfg)
    motion = EgoMotion(a, b, pose2d(*m.pose), m.ok, m.inliers, m.reason)
    cache = _cache(drive)
    with _lock:
        cache.motions[(a, b)] = motion
    return motion
