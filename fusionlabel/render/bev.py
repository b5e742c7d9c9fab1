"""Bird's-eye-view raster of a sweep with cuboid footprints, rendered with NumPy and OpenCV."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..model.annotation import CuboidLabel
from ..wording import track_text
from .camera_overlay import draw_label
from .colors import class_color, colormap


@dataclass(frozen=True)
class BevGrid:
    """Maps vehicle-frame xy to pixels: x forward points up (``forward="up"``) or right
    (``forward="right"``, y left then points up)."""

    x_range: tuple[float, float] = (-40.0, 80.0)
    y_range: tuple[float, float] = (-40.0, 40.0)
    resolution: float = 0.1  # metres per pixel
    forward: str = "up"

    @classmethod
    def panel(cls, width_px: int, x_range=(-20.0, 70.0), aspect: float = 0.5) -> "BevGrid":
        """A forward-up grid (as the app's bird's-eye view) ``width_px`` wide and ``aspect`` × as
        tall (at least 400 px), covering ``x_range`` from bottom to top."""
        height = max(400, int(round(aspect * width_px)))
        res = (x_range[1] - x_range[0]) / height
        half_y = 0.5 * width_px * res
        return cls(x_range, (-half_y, half_y), res, "up")

    @property
    def shape(self) -> tuple[int, int]:
        along = int(round((self.x_range[1] - self.x_range[0]) / self.resolution))
        across = int(round((self.y_range[1] - self.y_range[0]) / self.resolution))
        return (along, across) if self.forward == "up" else (across, along)

    def to_pixels(self, xy: np.ndarray) -> np.ndarray:
        """(N, 2) metres -> (N, 2) float pixel (col, row)."""
        left = (self.y_range[1] - xy[:, 1]) / self.resolution
        if self.forward == "up":
            return np.column_stack([left, (self.x_range[1] - xy[:, 0]) / self.resolution])
        return np.column_stack([(xy[:, 0] - self.x_range[0]) / self.resolution, left])


def render_bev(points: np.ndarray, labels: list[CuboidLabel], grid: BevGrid = BevGrid(),
               ring_step: float = 10.0) -> np.ndarray:
    """(H, W, 3) uint8 RGB: points coloured by height, range rings, ego marker, labelled footprints.

    ``points`` (N, 3+) and the labels' boxes must be in the vehicle frame (x forward, y left).
    """
    h, w = grid.shape
    image = np.full((h, w, 3), 18, dtype=np.uint8)
    center = grid.to_pixels(np.zeros((1, 2)))[0]
    for r in np.arange(ring_step, 200.0, ring_step):
        cv2.circle(image, tuple(int(v) for v in center), int(r / grid.resolution), (55, 55, 55), 1, cv2.LINE_AA)
        draw_label(image, f"{int(r)} m", (int(center[0] + 3), int(center[1] - r / grid.resolution - 3)),
                   (120, 120, 120), 0.4)
    if len(points):
        with np.errstate(invalid="ignore", over="ignore"):   # a stray point beyond int32 falls outside
            px = grid.to_pixels(points[:, :2]).astype(np.int32)
        inside = (px[:, 0] >= 0) & (px[:, 0] < w) & (px[:, 1] >= 0) & (px[:, 1] < h)
        z = points[inside, 2]
        order = np.argsort(z)  # highest drawn last
        colors = colormap(z[order], -2.5, 2.0)
        image[px[inside][order, 1], px[inside][order, 0]] = colors
    # Ego vehicle footprint (about 4.5 x 1.9 m) at the LiDAR origin.
    ego = np.array([[2.5, 0.95], [2.5, -0.95], [-2.0, -0.95], [-2.0, 0.95]])
    cv2.polylines(image, [grid.to_pixels(ego).astype(np.int32).reshape(-1, 1, 2)], True, (255, 255, 255), 1)
    for lab in labels:
        draw_footprint(image, lab, grid)
    return image


def short_name(label: str) -> str:
    """Last part of a dotted class name ("vehicle.car" -> "car") for crowded views."""
    return label.rsplit(".", 1)[-1]


def draw_footprint(image: np.ndarray, lab: CuboidLabel, grid: BevGrid, thickness: int = 2) -> None:
    """Footprint polygon, a heading line from the centre to the front, and the class/track text."""
    color = class_color(lab.label)
    poly = grid.to_pixels(lab.box.bev_polygon())
    cv2.polylines(image, [np.round(poly).astype(np.int32).reshape(-1, 1, 2)], True, color, thickness, cv2.LINE_AA)
    c = np.asarray(lab.box.center[:2])
    front = c + 0.5 * lab.box.length * np.array([np.cos(lab.box.yaw), np.sin(lab.box.yaw)])
    a, b = grid.to_pixels(np.array([c, front])).astype(np.int32)
    cv2.line(image, tuple(int(v) for v in a), tuple(int(v) for v in b), color, thickness, cv2.LINE_AA)
    # the track as the app shows it (the whole id up to 8 characters); "..." as Hershey fonts have no "…"
    text = f"{short_name(lab.label)} {track_text(lab.track_id, '...')}".rstrip()
    draw_label(image, text, (int(poly[:, 0].min()), int(poly[:, 1].min()) - 4), color, 0.45)
