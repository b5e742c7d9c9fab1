"""Spinning LiDAR by ray casting: HDL-64E-like beam layout, range noise, dropouts, intensity.

The sweep is instantaneous (no motion skew): every ray leaves the sensor origin at the frame's
timestamp. Rays form a grid of ``columns`` azimuths x 64 elevations; a ray returns when it hits a
surface within ``max_range`` and survives the dropout model, which loses weak echoes (dark
materials, grazing incidence, long range). Ranges get Gaussian noise and are quantised to
``range_step`` so that the compact range-image encoding of the native format is lossless.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..geometry.transforms import transform_points
from ..io.native import RangeImage
from .raycast import SceneCaster


def hdl64_elevations_deg() -> np.ndarray:
    """(64,) beam elevations in degrees, top to bottom: 32 beams +2 .. -8.33, 32 beams -8.83 .. -24.8."""
    return np.concatenate([np.linspace(2.0, -8.33, 32), np.linspace(-8.83, -24.8, 32)])


@dataclass(frozen=True)
class LidarSpec:
    """Beam pattern and sensor model. Angles in degrees, lengths in metres."""

    columns: int = 2100
    elevation_deg: tuple[float, ...] = tuple(hdl64_elevations_deg())
    min_range: float = 1.0
    max_range: float = 100.0
    range_noise: float = 0.012
    range_step: float = 0.002
    random_dropout: float = 0.005

    def azimuths(self) -> np.ndarray:
        """(columns,) azimuths in radians, clockwise from behind (like a spinning head)."""
        return np.pi - 2.0 * np.pi * (np.arange(self.columns) + 0.5) / self.columns

    def elevations(self) -> np.ndarray:
        return np.radians(np.asarray(self.elevation_deg, dtype=np.float64))

    def directions(self) -> np.ndarray:
        """Unit ray directions in the LiDAR frame, (columns, rows, 3) float64 (column-major order)."""
        az, el = self.azimuths()[:, None], self.elevations()[None, :]
        return np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el) + 0.0 * az], axis=-1)


def columns_for_points(points: int, return_fraction: float, rows: int = 64) -> int:
    """Azimuth resolution giving about ``points`` returns when ``return_fraction`` of rays return."""
    return max(16, int(round(points / (rows * max(return_fraction, 0.05)))))


def simulate_sweep(caster: SceneCaster, T_world_lidar: np.ndarray, spec: LidarSpec,
                   rng: np.random.Generator) -> tuple[RangeImage, np.ndarray]:
    """Cast one sweep. Returns the range image and per-cell object IDs (columns, rows) int32
    (-1 where there is no return, 0 for unlabelled world surfaces)."""
    dirs_l = spec.directions()
    shape = dirs_l.shape[:2]
    dirs_l = dirs_l.reshape(-1, 3)
    dirs_w = dirs_l @ T_world_lidar[:3, :3].T
    hits = caster.cast(np.broadcast_to(T_world_lidar[:3, 3], dirs_w.shape), dirs_w)
    n = dirs_w.shape[0]
    r_true = hits.t.astype(np.float64)
    cos_inc = np.abs((hits.normal * dirs_w).sum(axis=1)).astype(np.float64)
    refl = hits.reflectivity.astype(np.float64)
    # Echo strength: Lambertian reflectivity x cos(incidence), fading beyond 40 m.
    with np.errstate(invalid="ignore", over="ignore"):
        strength = refl * cos_inc * np.minimum(1.0, (40.0 / np.maximum(r_true, 1e-3)) ** 2)
    p_detect = np.clip((strength - 0.004) / 0.02, 0.0, 1.0) * (1.0 - spec.random_dropout)
    u = rng.random(n)
    noise = rng.normal(0.0, spec.range_noise, n)
    inten_noise = rng.normal(1.0, 0.05, n)
    ok = hits.hit & (r_true >= spec.min_range) & (r_true <= spec.max_range) & (u < p_detect)
    r = np.where(ok, r_true + noise, 0.0)
    q = np.round(r / spec.range_step)
    ok &= (q >= 1) & (q <= 65535)
    q = np.where(ok, q, 0).astype(np.uint16)
    intensity = np.clip(np.round(255.0 * refl * (0.25 + 0.75 * cos_inc) * inten_noise), 0, 255)
    intensity = np.where(ok, intensity, 0).astype(np.uint8)
    ids = np.where(ok, hits.object_id, -1).astype(np.int32)
    image = RangeImage(spec.elevations(), spec.azimuths(), q.reshape(shape), intensity.reshape(shape),
                       spec.range_step)
    return image, ids.reshape(shape)


def estimate_return_fraction(caster: SceneCaster, T_world_lidar: np.ndarray) -> float:
    """Fraction of rays that return within 100 m, from a coarse noise-free 64 x 360 sweep."""
    spec = LidarSpec(columns=360, random_dropout=0.0, range_noise=0.0)
    image, _ = simulate_sweep(caster, T_world_lidar, spec, np.random.default_rng(0))
    return float((image.range > 0).mean())


def world_points(image: RangeImage, T_world_lidar: np.ndarray) -> np.ndarray:
    """Returned points of a range image in the world frame, (N, 3) float64."""
    return transform_points(T_world_lidar, image.points()[:, :3].astype(np.float64))
