"""Interpolation of a track between keyframes.

Position follows a cubic Hermite curve through the key centres with finite-difference tangents
(Catmull-Rom style, for uneven key spacing; three-point parabolas at the ends), so a turning object is followed smoothly and two keys
give a straight line. Yaw goes along the shortest arc between consecutive keys. Size is constant
for rigid objects (the median of the keys) and linear otherwise. Nothing is extrapolated.
"""

from __future__ import annotations

import numpy as np

from ..geometry.cuboid import Cuboid
from ..geometry.transforms import angle_difference, invert_T
from ..model.annotation import CuboidLabel


def _hermite(t_keys: np.ndarray, p_keys: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Cubic Hermite interpolation of (K, D) values at (T,) times within the key range."""
    K = len(t_keys)
    if K == 1:
        return np.repeat(p_keys, len(t), axis=0)
    dt = np.diff(t_keys)
    slopes = np.diff(p_keys, axis=0) / dt[:, None]
    m = np.empty_like(p_keys)
    m[0], m[-1] = slopes[0], slopes[-1]
    if K > 2:
        w0, w1 = dt[1:][:, None], dt[:-1][:, None]
        m[1:-1] = (w0 * slopes[:-1] + w1 * slopes[1:]) / (w0 + w1)
        # ends: derivative of the parabola through the first (last) three keys
        h0, h1 = dt[0], dt[1]
        m[0] = ((2 * h0 + h1) * slopes[0] - h0 * slopes[1]) / (h0 + h1)
        h0, h1 = dt[-1], dt[-2]
        m[-1] = ((2 * h0 + h1) * slopes[-1] - h0 * slopes[-2]) / (h0 + h1)
    seg = np.clip(np.searchsorted(t_keys, t, side="right") - 1, 0, K - 2)
    h = dt[seg][:, None]
    s = ((t - t_keys[seg]) / dt[seg])[:, None]
    h00, h10, h01, h11 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s, -2 * s**3 + 3 * s**2, s**3 - s**2
    return h00 * p_keys[seg] + h10 * h * m[seg] + h01 * p_keys[seg + 1] + h11 * h * m[seg + 1]


def unwrap_yaw(yaws) -> np.ndarray:
    """Consecutive yaws (K,) made continuous: each step is the shortest arc from the previous."""
    yaws = np.asarray(yaws, dtype=np.float64)
    if len(yaws) == 0:
        return yaws
    return np.concatenate([[yaws[0]], yaws[0] + np.cumsum(angle_difference(yaws[1:], yaws[:-1]))])


def interpolate_boxes(keys: dict[float, Cuboid], times, rigid: bool = True) -> dict[float, Cuboid]:
    """Boxes at ``times`` (within the key range) from keyframe boxes {time: Cuboid} in one frame."""
    if not keys:
        return {}
    t_keys = np.array(sorted(keys), dtype=np.float64)
    boxes = [keys[t] for t in sorted(keys)]
    t = np.array([x for x in times if t_keys[0] <= x <= t_keys[-1]], dtype=np.float64)
    if t.size == 0:
        return {}
    centres = _hermite(t_keys, np.array([b.center for b in boxes]), t)
    yaw_u = unwrap_yaw([b.yaw for b in boxes])
    pr = np.array([[b.pitch, b.roll] for b in boxes])
    sizes = np.array([b.size for b in boxes])
    yaw = np.interp(t, t_keys, yaw_u)
    pitch, roll = np.interp(t, t_keys, pr[:, 0]), np.interp(t, t_keys, pr[:, 1])
    if rigid:
        size = np.repeat(np.median(sizes, axis=0)[None], len(t), axis=0)
    else:
        size = np.stack([np.interp(t, t_keys, sizes[:, k]) for k in range(3)], axis=1)
    return {float(ti): Cuboid(centres[k], size[k], yaw[k], pitch[k], roll[k]) for k, ti in enumerate(t)}


def interpolate_track(keyframes: dict[int, CuboidLabel], poses: dict[int, np.ndarray], frames=None,
                      rigid: bool = True, times: dict[int, float] | None = None) -> dict[int, CuboidLabel]:
    """Fill the frames between keyframes of one track, working in the world frame.

    Args:
        keyframes: frame index -> label (box in that frame's LiDAR frame).
        poses: frame index -> T_world_lidar (4, 4) for every key and wanted frame.
        frames: frame indices wanted (default: every frame between the first and last key that is
            not a key).
        times: frame index -> seconds, for every key and wanted frame, strictly increasing with
            the index: the curve is then followed in time, so frames captured at uneven intervals
            get the position of their own moment. None: frames equally spaced (by index).
    Returns:
        frame index -> interpolated label in that frame's LiDAR frame (``source="model"``,
        attribute ``interpolated``, no score: it scored a keyframe's detection), keys excluded.
    """
    if not keyframes:
        return {}
    ks = sorted(keyframes)
    if frames is None:
        frames = [f for f in range(ks[0], ks[-1] + 1) if f not in keyframes]
    clock = (lambda f: float(f)) if times is None else (lambda f: float(times[f]))
    world = {clock(k): keyframes[k].box.transformed(poses[k]) for k in ks}
    wanted = {clock(f): f for f in frames if f not in keyframes}
    boxes = interpolate_boxes(world, list(wanted), rigid)
    ref = keyframes[ks[0]]
    out = {}
    for t, b in boxes.items():
        f = wanted[t]
        out[f] = CuboidLabel(b.transformed(invert_T(poses[f])), ref.label, ref.track_id, None, "model",
                             {"interpolated": True})
    return out
