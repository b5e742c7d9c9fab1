"""Surface materials: linear RGB albedo for the cameras and reflectivity for the LiDAR."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Material:
    """``colour`` linear RGB albedo in [0, 1]; ``reflectivity`` LiDAR reflectivity in [0, 1]."""

    name: str
    colour: tuple[float, float, float]
    reflectivity: float


ASPHALT = Material("asphalt", (0.10, 0.10, 0.105), 0.12)
MARKING = Material("marking", (0.80, 0.80, 0.78), 0.85)
CONCRETE = Material("concrete", (0.42, 0.40, 0.37), 0.35)
CURB = Material("curb", (0.55, 0.54, 0.52), 0.40)
GRASS = Material("grass", (0.10, 0.22, 0.06), 0.30)
BRICK = Material("brick", (0.45, 0.18, 0.12), 0.30)
PLASTER = Material("plaster", (0.65, 0.58, 0.45), 0.45)
GLASS = Material("glass", (0.03, 0.04, 0.06), 0.04)
METAL = Material("metal", (0.30, 0.31, 0.33), 0.25)
BARK = Material("bark", (0.16, 0.10, 0.06), 0.25)
LEAVES = Material("leaves", (0.08, 0.25, 0.05), 0.35)
RUBBER = Material("rubber", (0.02, 0.02, 0.02), 0.05)
PAINT = Material("paint", (0.5, 0.5, 0.5), 0.30)
LIGHT = Material("light", (0.95, 0.92, 0.80), 0.80)
TAIL = Material("taillight", (0.60, 0.03, 0.02), 0.70)
SKIN = Material("skin", (0.60, 0.40, 0.30), 0.35)
CLOTH = Material("cloth", (0.2, 0.2, 0.3), 0.30)
SIGN = Material("sign", (0.05, 0.20, 0.60), 0.90)

# Car paint colours (linear RGB): white, silver, black, red, blue, grey, dark green, yellow.
PAINT_COLOURS = [
    (0.80, 0.80, 0.80), (0.45, 0.46, 0.48), (0.03, 0.03, 0.03), (0.55, 0.04, 0.03),
    (0.05, 0.12, 0.45), (0.18, 0.18, 0.19), (0.04, 0.18, 0.08), (0.75, 0.55, 0.05),
]
# Clothing colours.
CLOTH_COLOURS = [
    (0.05, 0.05, 0.08), (0.08, 0.10, 0.30), (0.45, 0.05, 0.05), (0.50, 0.45, 0.35),
    (0.10, 0.30, 0.12), (0.60, 0.60, 0.62), (0.55, 0.30, 0.05),
]
FACADE_COLOURS = [
    (0.45, 0.18, 0.12), (0.65, 0.58, 0.45), (0.55, 0.55, 0.52), (0.35, 0.30, 0.28),
    (0.70, 0.65, 0.55), (0.40, 0.42, 0.45), (0.60, 0.40, 0.25),
]


def paint_reflectivity(colour) -> float:
    """LiDAR reflectivity of car paint: darker paint returns less (0.05 .. 0.5)."""
    return 0.05 + 0.55 * float(sum(colour)) / 3.0
