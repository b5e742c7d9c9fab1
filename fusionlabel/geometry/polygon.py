"""Convex polygons in the plane: area and intersection (Sutherland-Hodgman clipping)."""

from __future__ import annotations

import numpy as np


def polygon_area(poly: np.ndarray) -> float:
    """Unsigned area of a simple polygon given as (K, 2) vertices (shoelace formula)."""
    if len(poly) < 3:
        return 0.0
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _ccw(poly: np.ndarray) -> np.ndarray:
    x, y = poly[:, 0], poly[:, 1]
    signed = np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))
    return poly if signed >= 0 else poly[::-1]


def clip_convex(subject: np.ndarray, clip: np.ndarray) -> np.ndarray:
    """Intersection of two convex polygons (K, 2) and (M, 2); returns (L, 2), L may be 0."""
    subject = _ccw(np.asarray(subject, dtype=np.float64))
    clip = _ccw(np.asarray(clip, dtype=np.float64))
    out = subject
    for i in range(len(clip)):
        if len(out) == 0:
            break
        a, b = clip[i], clip[(i + 1) % len(clip)]
        edge = b - a
        # Signed distance-like value: >= 0 means inside (left of the edge, counter-clockwise).
        side = edge[0] * (out[:, 1] - a[1]) - edge[1] * (out[:, 0] - a[0])
        nxt = np.roll(out, -1, axis=0)
        side_nxt = np.roll(side, -1)
        pts = []
        for p, q, sp, sq in zip(out, nxt, side, side_nxt):
            if sp >= 0:
                pts.append(p)
            if (sp >= 0) != (sq >= 0):
                t = sp / (sp - sq)
                pts.append(p + t * (q - p))
        out = np.array(pts) if pts else np.zeros((0, 2))
    return out


def convex_intersection_area(a: np.ndarray, b: np.ndarray) -> float:
    """Area of the intersection of two convex polygons."""
    return polygon_area(clip_convex(a, b))
