"""Bird's-eye-view raster of a sweep with cuboid footprints, rendered with NumPy and OpenCV.

Box labels are placed as the app places them (:mod:`.label_layout`): nearest box first, beside
its footprint, else a few lines further away with a thin leader line to the box, never over
another label; a label with no free place near its box is left out and counted. The range
rings' distances come after, where they hide no label."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..model.annotation import CuboidLabel
from .box_labels import LabelText, draw_box_labels, draw_text_in, text_size
from .colors import class_color, colormap
from .label_layout import GAP, Rect, overlaps, place_ring_captions

RING_SCALE = 0.4      # the rings' distances


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


@dataclass
class BevText(LabelText):
    """What :func:`draw_bev` wrote, in the image's pixels: the box labels whose footprint is in
    the picture and their leader lines (:class:`~.box_labels.LabelText`), and the rings'
    distances by radius (m)."""

    rings: dict[float, Rect] = field(default_factory=dict)


def render_bev(points: np.ndarray, labels: list[CuboidLabel], grid: BevGrid = BevGrid(),
               ring_step: float = 10.0, keep_clear: list[Rect] = ()) -> np.ndarray:
    """(H, W, 3) uint8 RGB: points coloured by height, range rings, ego marker, labelled
    footprints (:func:`draw_bev` without saying where its words went)."""
    return draw_bev(points, labels, grid, ring_step, keep_clear)[0]


def draw_bev(points: np.ndarray, labels: list[CuboidLabel], grid: BevGrid = BevGrid(),
             ring_step: float = 10.0, keep_clear: list[Rect] = ()) -> tuple[np.ndarray, BevText]:
    """(H, W, 3) uint8 RGB: points coloured by height, range rings, ego marker, labelled
    footprints; and where the labels and the rings' distances went (:class:`BevText`). Labels and
    distances keep off ``keep_clear`` (the caption the caller writes over the picture).

    ``points`` (N, 3+) and the labels' boxes must be in the vehicle frame (x forward, y left).
    """
    h, w = grid.shape
    image = np.full((h, w, 3), 18, dtype=np.uint8)
    center = grid.to_pixels(np.zeros((1, 2)))[0]
    radii = np.arange(ring_step, 200.0, ring_step)
    for r in radii:
        cv2.circle(image, tuple(int(v) for v in center), int(r / grid.resolution), (55, 55, 55), 1, cv2.LINE_AA)
    if len(points):
        with np.errstate(invalid="ignore", over="ignore"):   # a stray point beyond int32 falls outside
            px = grid.to_pixels(points[:, :2]).astype(np.int32)
        inside = (px[:, 0] >= 0) & (px[:, 0] < w) & (px[:, 1] >= 0) & (px[:, 1] < h)
        z = points[inside, 2]
        order = np.argsort(z)  # highest drawn last
        colors = colormap(z[order], -2.5, 2.0)
        image[px[inside][order, 1], px[inside][order, 0]] = colors
    # Ego vehicle footprint (about 4.5 x 1.9 m) at the LiDAR origin.
    ego = grid.to_pixels(np.array([[2.5, 0.95], [2.5, -0.95], [-2.0, -0.95], [-2.0, 0.95]]))
    cv2.polylines(image, [ego.astype(np.int32).reshape(-1, 1, 2)], True, (255, 255, 255), 1)
    polys = [draw_footprint(image, lab, grid) for lab in labels]
    text = BevText()
    bounds = (0.0, 0.0, float(w), float(h))
    taken = [*keep_clear, *place_box_labels(image, labels, polys, bounds, keep_clear, text)]
    taken += [(float(p[:, 0].min()), float(p[:, 1].min()), float(np.ptp(p[:, 0])), float(np.ptp(p[:, 1])))
              for p in polys]   # the distances cover no box either
    lo, hi = ego.min(axis=0) - GAP, ego.max(axis=0) + GAP
    taken.append((float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1])))
    words = [f"{int(r)} m" for r in radii]
    rings = place_ring_captions((float(center[0]), float(center[1])), [float(r / grid.resolution) for r in radii],
                                [text_size(t, RING_SCALE)[:2] for t in words], bounds, taken)
    for r, word, rect in zip(radii, words, rings):
        if rect is not None:
            draw_text_in(image, word, rect, (120, 120, 120), RING_SCALE)
            text.rings[float(r)] = rect
    return image, text


def place_box_labels(image: np.ndarray, labels: list[CuboidLabel], polys: list[np.ndarray], bounds: Rect,
                     keep_clear: list[Rect], text: BevText) -> list[Rect]:
    """Draw the labels of the footprints ``polys`` (pixels) in the picture, nearest to the ego
    first (:func:`~.box_labels.draw_box_labels`: beside the footprint's top corner, else moved
    away with a leader line); fills ``text`` and returns the rectangles drawn."""
    anchors: dict[int, tuple[float, float]] = {}
    extents: dict[int, Rect] = {}
    for i, poly in enumerate(polys):
        lo, hi = poly.min(axis=0), poly.max(axis=0)
        box = (float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1]))
        if not overlaps(box, bounds):
            continue
        top = poly[np.argmin(poly[:, 1])]
        anchors[i], extents[i] = (float(round(top[0])), float(round(top[1]))), box
    order = sorted(anchors, key=lambda i: float(np.hypot(*labels[i].box.center[:2])))
    said = draw_box_labels(image, labels, anchors, extents, order, bounds, keep_clear, list(extents.values()))
    text.labels.update(said.labels)
    text.leaders.extend(said.leaders)
    return [rect for _, rect in text.labels.values() if rect is not None]


def draw_footprint(image: np.ndarray, lab: CuboidLabel, grid: BevGrid, thickness: int = 2) -> np.ndarray:
    """Footprint polygon and a heading line from the centre to the front; returns the footprint's
    corners in pixels, (4, 2) (its label is placed with the others': :func:`draw_bev`)."""
    color = class_color(lab.label)
    poly = grid.to_pixels(lab.box.bev_polygon())
    cv2.polylines(image, [np.round(poly).astype(np.int32).reshape(-1, 1, 2)], True, color, thickness, cv2.LINE_AA)
    c = np.asarray(lab.box.center[:2])
    front = c + 0.5 * lab.box.length * np.array([np.cos(lab.box.yaw), np.sin(lab.box.yaw)])
    a, b = grid.to_pixels(np.array([c, front])).astype(np.int32)
    cv2.line(image, tuple(int(v) for v in a), tuple(int(v) for v in b), color, thickness, cv2.LINE_AA)
    return poly
