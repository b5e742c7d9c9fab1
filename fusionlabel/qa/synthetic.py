"""Synthetic LiDAR sweeps with exact ground truth, for checking the detector and the fitting tools.

:func:`synthetic_sweep` casts the rays of a spinning LiDAR (``beams`` x ``columns``) at a
ground made of a sloped road and a raised sidewalk (a curb), and at upright boxes standing on it.
Each ray returns its nearest hit, so objects are seen only from the sensor's side, as in real data.
"""

from __future__ import annotations

import numpy as np

from ..geometry.cuboid import Cuboid


def _ground_z(x, y, slope, curb_y, curb_h, sensor_h):
    return -sensor_h + slope * x + np.where(y > curb_y, curb_h, 0.0)


def box_on_ground(x: float, y: float, size, yaw: float, slope: float = 0.0, curb_y: float = np.inf,
                  curb_h: float = 0.15, sensor_h: float = 1.8) -> Cuboid:
    """An upright box of ``size`` (l, w, h) standing on the synthetic ground at (x, y)."""
    gz = float(_ground_z(np.float64(x), np.float64(y), slope, curb_y, curb_h, sensor_h))
    return Cuboid((x, y, gz + size[2] / 2.0), size, yaw)


def person_parts(x: float, y: float, slope: float = 0.0) -> list[Cuboid]:
    """A person standing at (x, y) as boxes a sweep can see: two legs, a torso and a head (a solid
    0.6 m block would show twice a person's surface)."""
    ped = box_on_ground(x, y, (0.6, 0.6, 1.75), 0.0, slope)
    pb = ped.center[2] - ped.height / 2
    return [ped.with_(size=(0.15, 0.15, 0.9), center=(x, y + dy, pb + 0.45)) for dy in (-0.15, 0.15)] + \
        [ped.with_(size=(0.25, 0.45, 0.6), center=(x, y, pb + 1.2)),
         ped.with_(size=(0.2, 0.2, 0.25), center=(x, y, pb + 1.62))]


def synthetic_sweep(boxes: list[Cuboid], slope: float = 0.0, curb_y: float = np.inf, curb_h: float = 0.15,
                    sensor_h: float = 1.8, beams: int = 64, columns: int = 1800, fov_deg=(-24.8, 2.0),
                    max_range: float = 100.0, noise: float = 0.01, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points (N, 4) float32 x, y, z, intensity in the LiDAR frame and hit ids (N,) int (-1 ground,
    k = boxes[k]). The LiDAR sits ``sensor_h`` above the road at x = 0."""
    rng = np.random.default_rng(seed)
    el = np.radians(np.linspace(fov_deg[0], fov_deg[1], beams))
    az = np.linspace(-np.pi, np.pi, columns, endpoint=False)
    E, A = np.meshgrid(el, az, indexing="ij")
    d = np.stack([np.cos(E) * np.cos(A), np.cos(E) * np.sin(A), np.sin(E)], -1).reshape(-1, 3)
    t_best = np.full(len(d), np.inf)
    hit = np.full(len(d), -2, np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        for raise_h, side in ((0.0, False), (curb_h, True)):
            c = -sensor_h + raise_h
            t = c / (d[:, 2] - slope * d[:, 0])
            y = t * d[:, 1]
            ok = (t > 0) & ((y > curb_y) if side else (y <= curb_y)) & (t < t_best)
            t_best[ok], hit[ok] = t[ok], -1
        for k, b in enumerate(boxes):
            R = b.rotation()
            o = -np.asarray(b.center) @ R             # ray origin in the box frame
            dl = d @ R
            half = np.asarray(b.size) / 2.0
            t1 = (-half - o) / dl
            t2 = (half - o) / dl
            tn = np.nanmax(np.minimum(t1, t2), axis=1)
            tf = np.nanmin(np.maximum(t1, t2), axis=1)
            ok = (tn <= tf) & (tn > 0) & (tn < t_best)
            t_best[ok], hit[ok] = tn[ok], k
    keep = np.isfinite(t_best) & (t_best < max_range) & (hit > -2)
    r = t_best[keep] + rng.normal(0.0, noise, int(keep.sum()))
    pts = d[keep] * r[:, None]
    out = np.empty((len(pts), 4), np.float32)
    out[:, :3] = pts
    out[:, 3] = np.where(hit[keep] >= 0, 0.6, 0.2)
    return out, hit[keep]
