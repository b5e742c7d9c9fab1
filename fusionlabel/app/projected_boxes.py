"""Cuboid wireframes in a camera image for many boxes at once. Qt-free.

Same geometry as :func:`fusionlabel.geometry.cuboid_projection.cuboid_wireframe_pixels` (edges
clipped at the near plane, then sampled so that the lens bends them), batched over every box of a
frame: one clip and one lens projection per camera instead of one per box.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..geometry.cameras import CameraModel, PinholeCamera
from ..geometry.cuboid import EDGES, FRONT_FACE, Cuboid
from ..geometry.cuboid_projection import DEFAULT_SAMPLES, clip_segments_near, project_with_lens

NEAR = 0.1
# The 12 edges, then the two diagonals crossing the front face (heading marker).
WIRE_EDGES = np.concatenate([EDGES, [[FRONT_FACE[0], FRONT_FACE[2]], [FRONT_FACE[1], FRONT_FACE[3]]]])


@dataclass(frozen=True)
class Wireframe:
    """One box seen by a camera: polylines (K, S, 2) in image pixels and the centre depth (m)."""

    lines: np.ndarray
    depth: float

    def hull_points(self) -> np.ndarray:
        """All finite sample points (M, 2) float32."""
        pts = self.lines.reshape(-1, 2)
        return pts[np.isfinite(pts).all(axis=1)].astype(np.float32)


def wireframes(boxes: list[Cuboid], T_cam_lidar: np.ndarray, camera: CameraModel, near: float = NEAR,
               margin: float = 0.0) -> list[Wireframe | None]:
    """Wireframe of each box (None when it is behind the camera or entirely outside the image,
    grown by ``margin`` pixels). Straight edges for a pinhole camera, sampled ones otherwise."""
    if not boxes:
        return []
    R, t = T_cam_lidar[:3, :3], T_cam_lidar[:3, 3]
    corners = np.stack([b.corners() for b in boxes]) @ R.T + t  # (B, 8, 3) camera frame
    centres = np.array([b.center for b in boxes]) @ R.T + t
    starts = corners[:, WIRE_EDGES[:, 0]].reshape(-1, 3)
    ends = corners[:, WIRE_EDGES[:, 1]].reshape(-1, 3)
    owner = np.repeat(np.arange(len(boxes)), len(WIRE_EDGES))
    keep = (starts[:, 2] >= near) | (ends[:, 2] >= near)
    out: list[Wireframe | None] = [None] * len(boxes)
    if not keep.any():
        return out
    s, e = clip_segments_near(starts[keep], ends[keep], near)
    owner = owner[keep]
    samples = 2 if isinstance(camera, PinholeCamera) else DEFAULT_SAMPLES
    f = np.linspace(0.0, 1.0, samples)[None, :, None]
    pts = s[:, None, :] + f * (e - s)[:, None, :]
    uv = project_with_lens(pts.reshape(-1, 3), camera).reshape(len(s), samples, 2)
    lo, hi = -margin, np.array([camera.width, camera.height]) + margin
    bounds = np.split(np.arange(len(owner)), np.flatnonzero(np.diff(owner)) + 1)
    for idx in bounds:
        b = owner[idx[0]]
        lines = uv[idx]
        flat = lines.reshape(-1, 2)
        flat = flat[np.isfinite(flat).all(axis=1)]
        if len(flat) == 0 or (flat.max(axis=0) < lo).any() or (flat.min(axis=0) >= hi).any():
            continue
        out[b] = Wireframe(lines, float(centres[b, 2]))
    return out
