"""Object shapes for the simulated street: vehicles, cyclists, pedestrians, trees, poles.

Every agent builder returns a :class:`~fusionlabel.sim.mesh.Mesh` in the object's own frame
(x forward, y left, z up) recentred so that its tight axis-aligned box is centred at the origin;
the ground-truth cuboid size is then simply the extent of that box (:func:`tight_size`).
"""

from __future__ import annotations

import numpy as np

from . import materials as mat
from .materials import Material
from .mesh import Mesh, box, cylinder, hull, merge, sphere


def rod(p0, p1, thickness: float, material: Material, colour=None) -> Mesh:
    """Square-section bar from ``p0`` to ``p1`` (3,) of the given thickness."""
    p0, p1 = np.asarray(p0, dtype=np.float64), np.asarray(p1, dtype=np.float64)
    axis = p1 - p0
    axis /= np.linalg.norm(axis)
    helper = np.array([0.0, 0.0, 1.0]) if abs(axis[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    a = np.cross(axis, helper)
    a /= np.linalg.norm(a)
    b = np.cross(axis, a)
    h = thickness / 2.0
    offs = [a * h + b * h, a * h - b * h, -a * h + b * h, -a * h - b * h]
    return hull([p + o for p in (p0, p1) for o in offs], material, colour)


def recentre(mesh: Mesh) -> Mesh:
    """Shift the mesh so that its axis-aligned bounding box is centred at the origin."""
    lo, hi = mesh.bounds()
    return mesh.translated(-(lo + hi) / 2.0)


def tight_size(mesh: Mesh) -> tuple[float, float, float]:
    """(length, width, height) of the mesh's axis-aligned bounding box."""
    lo, hi = mesh.bounds()
    return tuple(float(v) for v in hi - lo)


def _paint(rng: np.random.Generator) -> Material:
    colour = mat.PAINT_COLOURS[int(rng.integers(len(mat.PAINT_COLOURS)))]
    return Material("paint", colour, mat.paint_reflectivity(colour))


def _wheels(xs, half_track: float, radius: float, width: float) -> list[Mesh]:
    return [cylinder(radius, width, (x, s * half_track, radius), mat.RUBBER, axis="y", resolution=14)
            for x in xs for s in (-1.0, 1.0)]


def _lamps(length: float, width: float, z: float) -> list[Mesh]:
    parts = []
    for s in (-1.0, 1.0):
        y = s * (width / 2.0 - 0.3)
        parts.append(box((0.04, 0.28, 0.12), (length / 2.0 - 0.02, y, z), mat.LIGHT))
        parts.append(box((0.04, 0.25, 0.12), (-length / 2.0 + 0.02, y, z), mat.TAIL))
    return parts


def car(rng: np.random.Generator) -> Mesh:
    """Passenger car: body, glass cabin with roof, four wheels, lamps; ~4.5 x 1.8 x 1.5 m."""
    L, W, H = rng.uniform(4.1, 4.9), rng.uniform(1.75, 1.9), rng.uniform(1.42, 1.55)
    paint = _paint(rng)
    z0, z1 = 0.28, 0.92
    parts = [box((L, W, z1 - z0), (0.0, 0.0, (z0 + z1) / 2.0), paint)]
    xr, xf = -L / 2 + 0.3, L / 2 - 1.2                      # cabin base, rear and front
    xr2, xf2 = -L / 2 + 0.75, L / 2 - 2.0                   # cabin top
    wb, wt = W / 2 - 0.05, W / 2 - 0.22
    parts.append(hull([[xr, -wb, z1], [xr, wb, z1], [xf, -wb, z1], [xf, wb, z1],
                       [xr2, -wt, H - 0.05], [xr2, wt, H - 0.05], [xf2, -wt, H - 0.05], [xf2, wt, H - 0.05]],
                      mat.GLASS))
    parts.append(box((xf2 - xr2 - 0.1, 2 * wt - 0.06, 0.05), ((xr2 + xf2) / 2, 0.0, H - 0.025), paint))
    parts += _wheels([L / 2 - 0.85, -L / 2 + 0.85], W / 2 - 0.12, 0.32, 0.22)
    parts += _lamps(L, W, 0.75)
    return recentre(merge(parts))


def van(rng: np.random.Generator) -> Mesh:
    """Delivery van: tall box body, short bonnet, windscreen, four wheels; ~5.3 x 2.0 x 2.2 m."""
    L, W, H = rng.uniform(4.9, 5.6), rng.uniform(1.95, 2.05), rng.uniform(2.0, 2.4)
    paint = _paint(rng)
    nose = 0.8
    parts = [box((L - nose, W, H - 0.3), (-nose / 2, 0.0, 0.3 + (H - 0.3) / 2), paint),
             box((nose, W, 0.75), (L / 2 - nose / 2, 0.0, 0.3 + 0.375), paint)]
    xs = L / 2 - nose
    parts.append(hull([[xs, -W / 2 + 0.05, 1.05], [xs, W / 2 - 0.05, 1.05], [xs + 0.55, -W / 2 + 0.05, 1.05],
                       [xs + 0.55, W / 2 - 0.05, 1.05], [xs, -W / 2 + 0.1, H - 0.15],
                       [xs, W / 2 - 0.1, H - 0.15], [xs - 0.01, 0.0, H - 0.15]], mat.GLASS))
    for s in (-1.0, 1.0):  # side windows of the cab
        parts.append(box((0.7, 0.02, 0.5), (xs - 0.45, s * (W / 2 + 0.005), H - 0.55), mat.GLASS))
    parts += _wheels([L / 2 - 0.9, -L / 2 + 0.9], W / 2 - 0.13, 0.34, 0.24)
    parts += _lamps(L, W, 0.8)
    return recentre(merge(parts))


def truck(rng: np.random.Generator) -> Mesh:
    """Box truck: cab with windscreen, cargo box, six wheels; ~8 x 2.45 x 3.4 m."""
    L, W, H = rng.uniform(7.0, 9.0), 2.45, rng.uniform(3.2, 3.6)
    cab_colour = _paint(rng)
    cargo = Material("cargo", (0.70, 0.70, 0.68), 0.5)
    cab = 2.2
    parts = [box((cab, W - 0.1, 2.0), (L / 2 - cab / 2, 0.0, 0.6 + 1.0), cab_colour),
             box((L - cab - 0.2, W, H - 0.8), (-L / 2 + (L - cab - 0.2) / 2, 0.0, 0.8 + (H - 0.8) / 2), cargo),
             box((0.02, W - 0.3, 0.8), (L / 2 + 0.0, 0.0, 2.05), mat.GLASS),
             box((L - 0.6, 0.3, 0.25), (0.0, 0.0, 0.75), mat.METAL)]
    for s in (-1.0, 1.0):
        parts.append(box((0.9, 0.02, 0.6), (L / 2 - 0.7, s * (W / 2 - 0.04), 2.05), mat.GLASS))
    parts += _wheels([L / 2 - 1.2, -L / 2 + 1.5, -L / 2 + 2.6], W / 2 - 0.18, 0.5, 0.34)
    parts += _lamps(L, W - 0.1, 0.9)
    return recentre(merge(parts))


def bus(rng: np.random.Generator) -> Mesh:
    """City bus: long body with a window band, windscreen, four wheels; ~12 x 2.55 x 3.1 m."""
    L, W, H = rng.uniform(11.0, 12.5), 2.55, rng.uniform(3.0, 3.25)
    body = Material("bus", (0.75, 0.55, 0.05) if rng.random() < 0.5 else (0.70, 0.72, 0.74), 0.5)
    parts = [box((L, W, H - 0.35), (0.0, 0.0, 0.35 + (H - 0.35) / 2), body)]
    for s in (-1.0, 1.0):
        parts.append(box((L - 1.2, 0.02, 1.0), (-0.2, s * (W / 2 + 0.005), 1.95), mat.GLASS))
    parts.append(box((0.02, W - 0.2, 1.3), (L / 2 + 0.005, 0.0, 1.9), mat.GLASS))
    parts += _wheels([L / 2 - 2.5, -L / 2 + 3.0], W / 2 - 0.18, 0.5, 0.3)
    parts += _lamps(L + 0.02, W, 0.7)
    return recentre(merge(parts))


def _person(height: float, shirt: Material, trousers: Material, stride: float) -> list[Mesh]:
    """A standing/walking person on z = 0 facing +x (legs split by ``stride`` metres)."""
    s = height / 1.75
    leg_h, torso_h = 0.86 * s, 0.58 * s
    parts = []
    for side, dx in ((1.0, stride / 2), (-1.0, -stride / 2)):
        parts.append(rod((dx, side * 0.1, 0.0), (0.0, side * 0.1, leg_h), 0.14, trousers))
    parts.append(box((0.24, 0.40, torso_h), (0.0, 0.0, leg_h + torso_h / 2), shirt))
    for side in (1.0, -1.0):
        parts.append(rod((0.0, side * 0.25, leg_h + torso_h - 0.04), (side * 0.06, side * 0.27, leg_h + 0.05),
                         0.09, shirt))
    head_r = 0.11 * s
    parts.append(sphere(head_r, (0.0, 0.0, leg_h + torso_h + 0.03 + head_r), mat.SKIN, resolution=5,
                        scale=(1.0, 0.9, 1.15)))
    return parts


def pedestrian(rng: np.random.Generator) -> Mesh:
    """Walking pedestrian: legs, torso, arms, head; ~0.5 x 0.6 x 1.75 m."""
    height = rng.uniform(1.55, 1.92)
    shirt = Material("cloth", mat.CLOTH_COLOURS[int(rng.integers(len(mat.CLOTH_COLOURS)))], 0.3)
    trousers = Material("cloth", mat.CLOTH_COLOURS[int(rng.integers(len(mat.CLOTH_COLOURS)))], 0.25)
    return recentre(merge(_person(height, shirt, trousers, rng.uniform(0.2, 0.45))))


def cyclist(rng: np.random.Generator) -> Mesh:
    """Bicycle (wheels, frame, bars) with a rider leaning forward; ~1.8 x 0.6 x 1.75 m."""
    frame = Material("frame", mat.PAINT_COLOURS[int(rng.integers(len(mat.PAINT_COLOURS)))], 0.4)
    shirt = Material("cloth", mat.CLOTH_COLOURS[int(rng.integers(len(mat.CLOTH_COLOURS)))], 0.3)
    trousers = Material("cloth", mat.CLOTH_COLOURS[int(rng.integers(len(mat.CLOTH_COLOURS)))], 0.25)
    r = 0.34
    rear, front = (-0.53, 0.0, r), (0.53, 0.0, r)
    seat, crank = (-0.2, 0.0, 0.95), (0.0, 0.0, 0.3)
    parts = [cylinder(r, 0.05, rear, mat.RUBBER, axis="y", resolution=16),
             cylinder(r, 0.05, front, mat.RUBBER, axis="y", resolution=16),
             rod(rear, crank, 0.04, frame), rod(crank, seat, 0.04, frame), rod(seat, rear, 0.03, frame),
             rod(seat, (0.35, 0.0, 0.9), 0.04, frame), rod(crank, (0.35, 0.0, 0.9), 0.04, frame),
             rod((0.35, 0.0, 0.9), front, 0.04, frame), rod((0.40, -0.28, 1.05), (0.40, 0.28, 1.05), 0.03, mat.METAL)]
    hip, shoulder = (-0.22, 0.0, 1.02), (0.12, 0.0, 1.48)
    for side in (1.0, -1.0):
        knee = (0.08 if side > 0 else -0.05, side * 0.12, 0.7 if side > 0 else 0.62)
        parts.append(rod((hip[0], side * 0.1, hip[2]), knee, 0.13, trousers))
        parts.append(rod(knee, (0.05 * side, side * 0.12, 0.22 if side > 0 else 0.38), 0.11, trousers))
        parts.append(rod((shoulder[0], side * 0.2, shoulder[2] - 0.03), (0.40, side * 0.25, 1.07), 0.08, shirt))
    parts.append(rod(hip, shoulder, 0.34, shirt))
    parts.append(sphere(0.11, (0.22, 0.0, 1.63), mat.SKIN, resolution=5, scale=(1.0, 0.9, 1.1)))
    return recentre(merge(parts))


AGENT_BUILDERS = {"car": car, "van": van, "truck": truck, "bus": bus, "cyclist": cyclist,
                  "pedestrian": pedestrian}


# ------------------------------------------------------------------------------- street furniture
def tree(rng: np.random.Generator, x: float, y: float, z: float) -> Mesh:
    """Tree standing at (x, y, z): trunk and a crown of two overlapping ellipsoids."""
    h = rng.uniform(3.0, 4.0)
    crown = rng.uniform(1.4, 2.0)
    leaves = Material("leaves", (0.06 + 0.05 * rng.random(), 0.20 + 0.1 * rng.random(), 0.04), 0.35)
    return merge([
        cylinder(0.14, h + 0.5, (x, y, z + (h + 0.5) / 2), mat.BARK, resolution=8),
        sphere(crown, (x, y, z + h + crown * 0.7), leaves, resolution=5, scale=(1.0, 1.0, 0.85)),
        sphere(crown * 0.7, (x + 0.5 * crown, y + 0.3, z + h + crown * 1.1), leaves, resolution=4),
    ])


def bush(rng: np.random.Generator, x: float, y: float, z: float) -> Mesh:
    """Low bush: a few merged ellipsoids around (x, y, z)."""
    leaves = Material("leaves", (0.05, 0.18 + 0.1 * rng.random(), 0.05), 0.35)
    return merge([sphere(rng.uniform(0.35, 0.55), (x + dx, y + dy, z + 0.35), leaves, resolution=4,
                         scale=(1.0, 1.0, 0.8))
                  for dx, dy in ((0.0, 0.0), (0.6, 0.0), (-0.5, 0.0))])


def street_light(x: float, y: float, z: float, toward_y: float) -> Mesh:
    """Lamp post at (x, y, z) with its arm reaching over the road in direction ``toward_y`` (+-1)."""
    h = 7.0
    return merge([cylinder(0.09, h, (x, y, z + h / 2), mat.METAL, resolution=8),
                  rod((x, y, z + h - 0.2), (x, y + toward_y * 1.6, z + h + 0.2), 0.07, mat.METAL),
                  box((0.5, 0.25, 0.12), (x, y + toward_y * 1.7, z + h + 0.15), mat.LIGHT)])


def sign_post(x: float, y: float, z: float) -> Mesh:
    """Traffic sign: thin post and a retro-reflective plate facing the road."""
    return merge([cylinder(0.04, 2.6, (x, y, z + 1.3), mat.METAL, resolution=6),
                  box((0.02, 0.6, 0.6), (x, y, z + 2.4), mat.SIGN, yaw=0.0)])


def traffic_light(x: float, y: float, z: float, facing: float) -> Mesh:
    """Traffic light pole with a housing turned to ``facing`` (yaw, rad)."""
    return merge([cylinder(0.08, 3.2, (x, y, z + 1.6), mat.METAL, resolution=8),
                  box((0.3, 0.35, 0.95), (x, y, z + 3.6), Material("housing", (0.03, 0.03, 0.03), 0.1), yaw=facing)])
