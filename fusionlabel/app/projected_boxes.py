"""Cuboid wireframes in a camera image for many boxes at once. Qt-free.

Same geometry as :func:`fusionlabel.geometry.cuboid_projection.cuboid_wireframe_pixels` (edges
clipped to what the camera sees: the near plane, or a wide fisheye's view cone; then sampled so
that the lens bends them), batched over every box of a frame: one clip and one lens projection per
camera instead of one per box.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..geometry.cameras import CameraModel, PinholeCamera
from ..geometry.cuboid import EDGES, FRONT_FACE, Cuboid
from ..geometry.cuboid_projection import (
    DEFAULT_SAMPLES,
    clip_segments_in_view,
    project_with_lens,
    wide_view_theta,
)

NEAR = 0.1
# The 12 edges, then the two diagonals crossing the front face (heading marker).
WIRE_EDGES = np.concatenate([EDGES, [[FRONT_FACE[0], FRONT_FACE[2]], [FRONT_FACE[1], FRONT_FACE[3]]]])


@dataclass(frozen=True)
class Wireframe:
    """One box seen by a camera: polylines (K, S, 2) in image pixels and the centre depth (m): its
    camera z, or for a fisheye seeing beyond 90 degrees off its axis its distance from the camera."""

    lines: np.ndarray
    depth: float

    def hull_points(self) -> np.ndarray:
        """All finite sample points (M, 2) float32."""
        pts = self.lines.reshape(-1, 2)
        return pts[np.isfinite(pts).all(axis=1)].astype(np.float32)


def wireframes(boxes: list[Cuboid], T_cam_lidar: np.ndarray, camera: CameraModel, near: float = NEAR,
               margin: float = 0.0) -> list[Wireframe | None]:
    """Wireframe of each box (None when the camera cannot see it or it is entirely outside the image,
    grown by ``margin`` pixels). Straight edges for a pinhole camera, sampled ones otherwise; a
    fisheye seeing beyond 90 degrees off its axis shows edges behind its image plane too."""
    if not boxes:
        return []
    R, t = T_cam_lidar[:3, :3], T_cam_lidar[:3, 3]
    corners = np.stack([b.corners() for b in boxes]) @ R.T + t  # (B, 8, 3) camera frame
    centres = np.array([b.center for b in boxes]) @ R.T + t
    depths = np.linalg.norm(centres, axis=1) if wide_view_theta(camera) is not None else centres[:, 2]
    starts = corners[:, WIRE_EDGES[:, 0]].reshape(-1, 3)
    ends = corners[:, WIRE_EDGES[:, 1]].reshape(-1, 3)
    s, e, part_of = clip_segments_in_view(starts, ends, camera, near)
    out: list[Wireframe | None] = [None] * len(boxes)
    if not len(s):
        return out
    owner = part_of // len(WIRE_EDGES)
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
        out[b] = Wireframe(lines, float(depths[b]))
    return out


def clip_segments(a: np.ndarray, b: np.ndarray, lo, hi) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clip 2D segments a->b, (N, 2) each, to the rectangle [lo, hi] (Liang-Barsky, vectorised).
    Returns the clipped ends (N, 2), (N, 2) and (N,) bool "something is left"."""
    d = b - a
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    p = np.concatenate([-d, d], axis=1)  # (N, 4): x-min, y-min, x-max, y-max walls
    q = np.concatenate([a - lo, hi - a], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = q / p
    t0 = np.max(np.where(p < 0, r, 0.0), axis=1)
    t1 = np.min(np.where(p > 0, r, 1.0), axis=1)
    ok = (t0 <= t1) & ~((p == 0) & (q < 0)).any(axis=1) & np.isfinite(d).all(axis=1)
    return a + t0[:, None] * d, a + t1[:, None] * d, ok


def dashed_segments(lines: np.ndarray, lo, hi, dash: float = 7.0, gap: float = 5.0,
                    offset: float = 0.0) -> np.ndarray:
    """The dashes of polylines (K, S, 2) inside the rectangle [lo, hi], as segments (M, 2, 2).

    Dash k covers arc lengths [k (dash + gap) + offset, k (dash + gap) + offset + dash] along
    each polyline (a lens-bent edge is dashed evenly); non-finite samples break a polyline.
    Everything in pixels."""
    lines = np.asarray(lines, float)
    a, b = lines[:, :-1].reshape(-1, 2), lines[:, 1:].reshape(-1, 2)
    finite = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
    length = np.where(finite, np.linalg.norm(np.where(finite[:, None], b - a, 0.0), axis=1), 0.0)
    K, S1 = lines.shape[0], lines.shape[1] - 1
    start = (np.cumsum(length.reshape(K, S1), axis=1) - length.reshape(K, S1)).reshape(-1)  # arc length at a
    ca, cb, ok = clip_segments(np.where(finite[:, None], a, 0.0), np.where(finite[:, None], b, 0.0), lo, hi)
    ok &= finite & (length > 0)
    if not ok.any():
        return np.zeros((0, 2, 2))
    a, b, length, start, ca, cb = a[ok], b[ok], length[ok], start[ok], ca[ok], cb[ok]
    u = b - a
    s0 = start + np.einsum("ij,ij->i", ca - a, u) / length  # arc length of the clipped ends
    s1 = start + np.einsum("ij,ij->i", cb - a, u) / length
    period = dash + gap
    n = int(np.ceil(np.max(s1 - s0) / period)) + 1
    k = np.floor((s0 - offset) / period)[:, None] + np.arange(n)[None, :]  # (N, n) dash indices
    d0 = np.maximum(k * period + offset, s0[:, None])
    d1 = np.minimum(k * period + offset + dash, s1[:, None])
    keep = d1 > d0
    rows = np.nonzero(keep)[0]
    f0 = ((d0[keep] - start[rows]) / length[rows])[:, None]
    f1 = ((d1[keep] - start[rows]) / length[rows])[:, None]
    return np.stack([a[rows] + f0 * u[rows], a[rows] + f1 * u[rows]], axis=1)


# Line patterns of the camera views, as dashed_segments arguments (dash, gap, offset) in pixels, one
# tuple per kind of mark: an untouched pre-label dashed, an edited one dash-dotted.
DASHED = ((7.0, 5.0, 0.0),)
DASH_DOT = ((10.0, 8.0, 0.0), (2.5, 15.5, 13.0))
DOTTED = ((2.5, 4.5, 0.0),)    # a track's missing box (styles.GHOST_MARK)
PATTERNS = {"dashed": DASHED, "dash-dot": DASH_DOT}   # by outline (styles.OUTLINE_OF_STATE); solid: none


def pattern_segments(lines: np.ndarray, lo, hi, pattern) -> np.ndarray:
    """The marks (M, 2, 2) of a line ``pattern`` (:data:`DASHED`, :data:`DASH_DOT`) along
    polylines (K, S, 2), inside the rectangle [lo, hi]."""
    return np.concatenate([dashed_segments(lines, lo, hi, *mark) for mark in pattern])
