"""The static street: road with lanes and curbs, sidewalks, buildings, trees, poles, signs.

World frame: x along the main street (the ego drives towards +x), y left, z up, road surface at
z = 0. Cross streets run along y at the intersections ``x = Layout.intersections[k]``.
Lateral layout of the main street (|y| in metres)::

    0 .. 3.5 .. 7     two travel lanes per direction (eastbound at y < 0, westbound at y > 0)
    7 .. 9.5          parking lane
    9.5 .. 14         sidewalk (kerb 0.15 m high), street furniture near the kerb
    14 ..             building facades
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import materials as mat
from .materials import Material
from .mesh import Mesh, box, ground_rect, merge
from .shapes import bush, sign_post, street_light, traffic_light, tree

LANE_WIDTH = 3.5
ROAD_HALF = 9.5           # kerb line of the main street
SIDEWALK_OUT = 14.0       # facade line of the main street
KERB = 0.15
CROSS_HALF = 5.0          # half-width of a cross street's carriageway
CROSS_SIDEWALK = 4.5
CROSS_LENGTH = 130.0      # cross streets reach |y| = CROSS_LENGTH
CROSSWALK_OFFSET = 7.0    # crosswalks on the main street at x = X_k +- this
LANES_EAST = (-1.75, -5.25)
LANES_WEST = (1.75, 5.25)
PARKING_Y = 8.25


@dataclass
class Layout:
    """Where the main street starts and ends and where it is crossed. Lengths in metres."""

    x_min: float
    x_max: float
    intersections: list[float] = field(default_factory=list)

    def near_intersection(self, x: np.ndarray, margin: float) -> np.ndarray:
        """(N,) bool: x within ``CROSS_HALF + CROSS_SIDEWALK + margin`` of an intersection centre."""
        x = np.asarray(x, dtype=np.float64)
        if not self.intersections:
            return np.zeros(x.shape, bool)
        d = np.abs(x[..., None] - np.asarray(self.intersections)).min(axis=-1)
        return d < CROSS_HALF + CROSS_SIDEWALK + margin


def make_layout(rng: np.random.Generator, x_min: float, x_max: float, first: float = 32.0) -> Layout:
    """Main street from ``x_min`` to ``x_max`` with intersections every 110-150 m from ``first``."""
    xs, x = [], first
    while x < x_max - 40.0:
        xs.append(float(x))
        x += float(rng.uniform(110.0, 150.0))
    return Layout(x_min, x_max, xs)


def _segments(lo: float, hi: float, holes: list[float], half_hole: float) -> list[tuple[float, float]]:
    """[lo, hi] minus the intervals [h - half_hole, h + half_hole]."""
    out, start = [], lo
    for h in sorted(holes):
        if h - half_hole > start:
            out.append((start, min(hi, h - half_hole)))
        start = max(start, h + half_hole)
    if start < hi:
        out.append((start, hi))
    return out


def _markings(layout: Layout) -> list[Mesh]:
    """Lane lines (dashed), centre line, edge lines, crosswalk stripes and stop lines."""
    z = 0.004
    parts: list[Mesh] = []
    for x0, x1 in _segments(layout.x_min, layout.x_max, layout.intersections, CROSS_HALF + CROSS_SIDEWALK):
        for y in (-0.1, 0.1):                                   # double centre line
            parts.append(ground_rect(x0, x1, y - 0.06, y + 0.06, z, mat.MARKING))
        for y in (-7.0, 7.0):                                   # edge of the travel lanes
            parts.append(ground_rect(x0, x1, y - 0.07, y + 0.07, z, mat.MARKING))
        starts = np.arange(x0, x1 - 3.0, 9.0)                   # dashes 3 m long every 9 m
        for y in (-3.5, 3.5):
            parts += [ground_rect(s, s + 3.0, y - 0.07, y + 0.07, z, mat.MARKING) for s in starts]
    for xc in layout.intersections:
        for side in (-1.0, 1.0):
            xw = xc + side * CROSSWALK_OFFSET
            for y in np.arange(-ROAD_HALF + 0.6, ROAD_HALF - 0.4, 1.0):   # zebra stripes
                parts.append(ground_rect(xw - 1.5, xw + 1.5, y, y + 0.5, z, mat.MARKING))
            # stop line for the lanes approaching the intersection from this side
            ys = (-7.0, -0.2) if side < 0 else (0.2, 7.0)
            parts.append(ground_rect(xw - side * 2.2 - 0.25, xw - side * 2.2 + 0.25, ys[0], ys[1], z, mat.MARKING))
        for y0, y1 in ((ROAD_HALF + CROSS_SIDEWALK, CROSS_LENGTH), (-CROSS_LENGTH, -ROAD_HALF - CROSS_SIDEWALK)):
            parts.append(ground_rect(xc - 0.08, xc + 0.08, y0, y1, z, mat.MARKING))
    return parts


def _windows(x0: float, x1: float, face_y: float, sign: float, height: float, rng) -> list[Mesh]:
    """Window grid (and a door) on a facade at y = face_y facing direction ``sign`` (+-1 in y)."""
    parts = []
    width = x1 - x0
    n = max(1, int(width / 3.2))
    xs = x0 + (np.arange(n) + 0.5) * width / n
    y = face_y + sign * 0.03
    shop = rng.random() < 0.5
    if shop:  # big shop windows on the ground floor
        parts += [box((width / n - 0.8, 0.06, 2.0), (x, y, 1.5), mat.GLASS) for x in xs]
    else:
        parts.append(box((1.4, 0.06, 2.3), (xs[len(xs) // 2], y, 1.15), Material("door", (0.12, 0.07, 0.04), 0.2)))
    for z in np.arange(4.3, height - 1.5, 3.2):
        parts += [box((1.3, 0.06, 1.6), (x, y, z), mat.GLASS) for x in xs]
    return parts


def _building_row(rng, x0: float, x1: float, face_y: float, sign: float) -> list[Mesh]:
    """Buildings along a main-street block between x0 and x1; facades at y = face_y, street at -sign."""
    parts, x = [], x0
    while x1 - x > 6.0:
        w = min(float(rng.uniform(9.0, 24.0)), x1 - x)
        if x1 - (x + w) < 6.0:
            w = x1 - x
        h = float(rng.uniform(7.0, 22.0))
        depth = float(rng.uniform(12.0, 20.0))
        colour = mat.FACADE_COLOURS[int(rng.integers(len(mat.FACADE_COLOURS)))]
        facade = Material("facade", colour, 0.25 + 0.3 * sum(colour) / 3.0)
        gap = 0.0 if rng.random() < 0.7 else float(rng.uniform(1.0, 3.0))
        bw = w - gap
        parts.append(box((bw, depth, h), (x + bw / 2, face_y + sign * depth / 2, h / 2), facade))
        parts += _windows(x + 0.3, x + bw - 0.3, face_y, -sign, h, rng)
        x += w
    return parts


def _cross_buildings(rng, xc: float) -> list[Mesh]:
    """Buildings lining a cross street beyond the main street's blocks (plain walls facing it)."""
    parts = []
    for sy in (-1.0, 1.0):
        for sx in (-1.0, 1.0):
            y = 36.0
            while y < CROSS_LENGTH - 15.0:
                d = float(rng.uniform(12.0, 22.0))
                h = float(rng.uniform(6.0, 18.0))
                colour = mat.FACADE_COLOURS[int(rng.integers(len(mat.FACADE_COLOURS)))]
                xf = xc + sx * (CROSS_HALF + CROSS_SIDEWALK)
                parts.append(box((14.0, d - 1.0, h), (xf + sx * 7.0, sy * (y + d / 2), h / 2),
                                 Material("facade", colour, 0.4)))
                y += d
    return parts


def build_static_world(layout: Layout, rng: np.random.Generator) -> Mesh:
    """Every static surface except parked vehicles, merged into one mesh."""
    x0, x1 = layout.x_min, layout.x_max
    parts: list[Mesh] = [
        ground_rect(x0 - 200.0, x1 + 200.0, -250.0, 250.0, -0.03, mat.GRASS),
        ground_rect(x0, x1, -ROAD_HALF, ROAD_HALF, 0.0, mat.ASPHALT),
    ]
    hole = CROSS_HALF + CROSS_SIDEWALK
    for xc in layout.intersections:
        for sy in (-1.0, 1.0):
            ys = sorted((sy * ROAD_HALF, sy * CROSS_LENGTH))
            parts.append(ground_rect(xc - CROSS_HALF, xc + CROSS_HALF, ys[0], ys[1], 0.0, mat.ASPHALT))
            for sx in (-1.0, 1.0):  # cross-street sidewalks
                xm = xc + sx * (CROSS_HALF + CROSS_SIDEWALK / 2)
                ym = sy * (SIDEWALK_OUT + CROSS_LENGTH) / 2
                parts.append(box((CROSS_SIDEWALK, CROSS_LENGTH - SIDEWALK_OUT, KERB), (xm, ym, KERB / 2), mat.CURB))
    parts += _markings(layout)
    for sa, sb in _segments(x0, x1, layout.intersections, CROSS_HALF):
        for sy in (-1.0, 1.0):  # main sidewalks (their road-facing sides are the kerbs)
            parts.append(box((sb - sa, SIDEWALK_OUT - ROAD_HALF, KERB),
                             ((sa + sb) / 2, sy * (ROAD_HALF + SIDEWALK_OUT) / 2, KERB / 2), mat.CURB))
    for sa, sb in _segments(x0, x1, layout.intersections, hole + 0.5):
        for sy in (-1.0, 1.0):
            parts += _building_row(rng, sa, sb, sy * SIDEWALK_OUT, sy)
            parts += _furniture(rng, sa, sb, sy)
    for xc in layout.intersections:
        parts += _cross_buildings(rng, xc)
        for sx in (-1.0, 1.0):
            for sy in (-1.0, 1.0):
                facing = 0.0 if sx < 0 else np.pi
                parts.append(traffic_light(xc + sx * (hole - 0.8), sy * (ROAD_HALF + 0.5), KERB, facing))
    return merge(parts)


def _furniture(rng, x0: float, x1: float, sy: float) -> list[Mesh]:
    """Trees, street lights, signs and bushes along one sidewalk block (side ``sy``)."""
    parts = []
    x = x0 + float(rng.uniform(3.0, 8.0))
    while x < x1 - 3.0:
        r = rng.random()
        if r < 0.5:
            parts.append(tree(rng, x, sy * 10.6, KERB))
        elif r < 0.75:
            parts.append(street_light(x, sy * 10.0, KERB, -sy))
        elif r < 0.85:
            parts.append(sign_post(x, sy * 10.0, KERB))
        else:
            parts.append(bush(rng, x, sy * 13.5, KERB))
        x += float(rng.uniform(7.0, 15.0))
    return parts
