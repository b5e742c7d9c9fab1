"""Camera images by ray casting through the lens model (so images match ``camera.project``).

Each pixel's ray comes from ``camera.unproject`` of the pixel centre; pixels without a valid ray
(outside a fisheye's image circle) are black. Shading: Lambert sun with cast shadows, hemispheric
ambient, distance haze, sky gradient; linear colours are gamma-encoded to sRGB-like uint8.
"""

from __future__ import annotations

import numpy as np

from ..model.rig import CameraSensor
from .raycast import SceneCaster

SUN = np.array([-0.35, -0.55, 0.76])
SUN = SUN / np.linalg.norm(SUN)
SUN_COLOUR = np.array([1.05, 1.0, 0.92], np.float32)
SKY_HORIZON = np.array([0.72, 0.80, 0.90], np.float32)
SKY_ZENITH = np.array([0.22, 0.40, 0.78], np.float32)
AMBIENT_TINT = np.array([0.85, 0.92, 1.05], np.float32)
HAZE_DISTANCE = 450.0
# Linear [0, 1] (4096 steps) -> gamma-2.2 encoded uint8.
GAMMA_LUT = np.round(255.0 * np.linspace(0.0, 1.0, 4096) ** (1.0 / 2.2)).astype(np.uint8)


class CameraRenderer:
    """Renders one camera of the rig; pixel rays are computed once at construction."""

    def __init__(self, sensor: CameraSensor, shadows: bool = True):
        cam = sensor.camera
        self.sensor, self.shadows = sensor, shadows
        self.height, self.width = cam.height, cam.width
        v, u = np.mgrid[0:cam.height, 0:cam.width]
        rays = cam.unproject(np.stack([u.ravel(), v.ravel()], axis=1).astype(np.float64))
        self.valid = np.isfinite(rays).all(axis=1)
        self.rays_cam = rays[self.valid].astype(np.float32)

    def render(self, caster: SceneCaster, T_world_cam: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Returns rgb (H, W, 3) uint8, object-ID mask (H, W) int32 (0 = none) and depth along the
        ray (H, W) float32 (inf = sky or no ray)."""
        dirs = self.rays_cam @ T_world_cam[:3, :3].T.astype(np.float32)
        origin = T_world_cam[:3, 3]
        hits = caster.cast(origin, dirs)
        h = np.flatnonzero(hits.hit)
        sky = np.flatnonzero(~hits.hit)
        colour = np.empty((dirs.shape[0], 3), np.float32)
        up = np.clip(dirs[sky, 2], 0.0, 1.0)[:, None]
        w = (1.0 - up) ** 2
        colour[sky] = SKY_HORIZON * w + SKY_ZENITH * (1.0 - w)
        n = hits.normal[h]
        t = hits.t[h]
        ndl = np.clip(n @ SUN.astype(np.float32), 0.0, None)
        if self.shadows:
            facing = np.flatnonzero(ndl > 0.0)
            hf = h[facing]
            p = dirs[hf] * hits.t[hf, None] + (origin.astype(np.float32) + n[facing] * 0.02)
            ndl[facing[caster.occluded(p, np.broadcast_to(SUN.astype(np.float32), p.shape))]] = 0.0
        light = (0.28 + 0.14 * n[:, 2:3]) * AMBIENT_TINT + (0.95 * ndl)[:, None] * SUN_COLOUR
        haze = (1.0 - np.exp(-t / HAZE_DISTANCE))[:, None]
        colour[h] = hits.colour[h] * light * (1.0 - haze) + SKY_HORIZON * haze
        code = (np.clip(colour, 0.0, 1.0) * (GAMMA_LUT.size - 1) + 0.5).astype(np.int32)
        rgb = np.zeros((self.height * self.width, 3), np.uint8)
        rgb[self.valid] = GAMMA_LUT[code]
        mask = np.zeros(self.height * self.width, np.int32)
        mask[self.valid] = np.maximum(hits.object_id, 0)
        depth = np.full(self.height * self.width, np.inf, np.float32)
        depth[self.valid] = hits.t
        shape = (self.height, self.width)
        return rgb.reshape(shape + (3,)), mask.reshape(shape), depth.reshape(shape)

    def coverage(self, caster: SceneCaster, T_world_cam: np.ndarray) -> np.ndarray:
        """(H, W) bool: pixels whose ray hits anything in ``caster`` (no shading)."""
        dirs = self.rays_cam @ T_world_cam[:3, :3].T.astype(np.float32)
        out = np.zeros(self.height * self.width, bool)
        out[self.valid] = caster.cast(T_world_cam[:3, 3], dirs).hit
        return out.reshape(self.height, self.width)
