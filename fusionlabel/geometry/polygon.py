"""Convex polygons in the plane: area and intersection (Sutherland-Hodgman clipping)."""

from __future__ import annotations

import numpy as np


def polygon_area(poly: np.ndarray) -> float:
    """Unsigned area of a simple polygon given as (K, 2) vertices (shoelace formula)."""
    if len(poly) < 3:
        return 0.0
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _ccw(poly) -> list[tuple[float, float]]:
    """Vertices as (x, y) floats, counter-clockwise."""
    pts = [(x, y) for x, y in np.asarray(poly, dtype=np.float64).tolist()]
    signed = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1]))
    return pts if signed >= 0 else pts[::-1]


def _clip(out: list[tuple[float, float]], clip: list[tuple[float, float]]) -> list[tuple[float, float]]:
    # Plain floats: for the 4-8 vertices of footprints this is several times faster than arrays.
    n = len(clip)
    for i in range(n):
        if not out:
            break
        (ax, ay), (bx, by) = clip[i], clip[(i + 1) % n]
        ex, ey = bx - ax, by - ay
        # Signed distance-like value: >= 0 means inside (left of the edge, counter-clockwise).
        side = [ex * (y - ay) - ey * (x - ax) for x, y in out]
        m = len(out)
        pts = []
        for k in range(m):
            sp, sq = side[k], side[(k + 1) % m]
            px, py = out[k]
            if sp >= 0:
                pts.append((px, py))
            if (sp >= 0) != (sq >= 0):
                qx, qy = out[(k + 1) % m]
                t = sp / (sp - sq)
                pts.append((px + t * (qx - px), py + t * (qy - py)))
        out = pts
    return out


def clip_convex(subject: np.ndarray, clip: np.ndarray) -> np.ndarray:
    """Intersection of two convex polygons (K, 2) and (M, 2); returns (L, 2), L may be 0."""
    return np.array(_clip(_ccw(subject), _ccw(clip)), dtype=np.float64).reshape(-1, 2)


def convex_intersection_area(a: np.ndarray, b: np.ndarray) -> float:
    """Area of the intersection of two convex polygons."""
    pts = _clip(_ccw(a), _ccw(b))
    if len(pts) < 3:
        return 0.0
    return 0.5 * abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1])))
