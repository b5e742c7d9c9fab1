"""Paths and speed profiles: where an agent is at time t.

A :class:`Path` is a polyline through waypoints whose corners are rounded (quadratic Bezier
fillets), resampled every ``step`` metres so that position and heading interpolate smoothly.
A :class:`Motion` moves along a path at constant speed, optionally waiting at one arc length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class Path:
    """Planar path (x, y) with arc length ``s`` (M,) and heading ``yaw`` (M,) at each sample."""

    def __init__(self, waypoints, fillet: float = 6.0, step: float = 0.1):
        w = np.asarray(waypoints, dtype=np.float64).reshape(-1, 2)
        pts = [w[0]]
        for i in range(1, len(w) - 1):
            d_in, d_out = w[i] - w[i - 1], w[i + 1] - w[i]
            r = min(fillet, 0.45 * np.linalg.norm(d_in), 0.45 * np.linalg.norm(d_out))
            a = w[i] - d_in / np.linalg.norm(d_in) * r
            b = w[i] + d_out / np.linalg.norm(d_out) * r
            u = np.linspace(0.0, 1.0, 24)[:, None]
            pts.extend((1 - u) ** 2 * a + 2 * (1 - u) * u * w[i] + u ** 2 * b)
        pts.append(w[-1])
        pts = np.asarray(pts)
        seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
        keep = np.concatenate([[True], seg > 1e-9])
        pts = pts[keep]
        s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))])
        self.length = float(s[-1])
        self.s = np.arange(0.0, self.length + step, step)
        self.s[-1] = min(self.s[-1], self.length)
        self.x = np.interp(self.s, s, pts[:, 0])
        self.y = np.interp(self.s, s, pts[:, 1])
        yaw = np.arctan2(np.gradient(self.y), np.gradient(self.x))
        self.yaw = np.unwrap(yaw)

    def at(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, y, yaw) arrays at arc lengths ``s`` (clamped to the path)."""
        s = np.clip(s, 0.0, self.length)
        return np.interp(s, self.s, self.x), np.interp(s, self.s, self.y), np.interp(s, self.s, self.yaw)


@dataclass
class Motion:
    """Constant ``speed`` along ``path`` from arc length ``s0`` at t = 0; waits ``wait`` seconds on
    reaching ``s_stop``; exists only while ``t >= t_appear`` and the arc length is on the path."""

    path: Path
    speed: float
    s0: float = 0.0
    s_stop: float = np.inf
    wait: float = 0.0
    t_appear: float = -np.inf

    def arc_length(self, t: np.ndarray) -> np.ndarray:
        free = self.s0 + self.speed * np.asarray(t, dtype=np.float64)
        if self.wait > 0.0 and np.isfinite(self.s_stop) and self.s0 <= self.s_stop:
            free = np.where(free > self.s_stop, np.maximum(self.s_stop, free - self.speed * self.wait), free)
        return free

    def state(self, t: np.ndarray):
        """(x, y, yaw, active) arrays for times ``t`` (seconds, (T,))."""
        t = np.asarray(t, dtype=np.float64)
        s = self.arc_length(t)
        active = (t >= self.t_appear) & (s >= 0.0) & (s <= self.path.length)
        x, y, yaw = self.path.at(s)
        return x, y, yaw, active


@dataclass
class Parked:
    """A motionless pose; exists at all times."""

    x: float
    y: float
    yaw: float

    def state(self, t: np.ndarray):
        t = np.asarray(t, dtype=np.float64)
        n = t.shape
        return np.full(n, self.x), np.full(n, self.y), np.full(n, self.yaw), np.ones(n, bool)


@dataclass
class EgoMotion:
    """The ego vehicle: along y = ``lane_y`` towards +x at ``v0 + dv * sin(2 pi t / period + phase)``."""

    lane_y: float
    v0: float = 9.5
    dv: float = 1.5
    period: float = 40.0
    phase: float = 0.0
    x0: float = 0.0

    def x(self, t):
        t = np.asarray(t, dtype=np.float64)
        w = 2.0 * np.pi / self.period
        return self.x0 + self.v0 * t - self.dv / w * (np.cos(w * t + self.phase) - np.cos(self.phase))

    def speed(self, t):
        return self.v0 + self.dv * np.sin(2.0 * np.pi / self.period * np.asarray(t, dtype=np.float64) + self.phase)

    def state(self, t):
        t = np.asarray(t, dtype=np.float64)
        return self.x(t), np.full(t.shape, self.lane_y), np.zeros(t.shape), np.ones(t.shape, bool)
