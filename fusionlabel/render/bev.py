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
from ..wording import track_text
from .camera_overlay import draw_label
from .colors import class_color, colormap
from .label_layout import GAP, LabelRequest, Rect, leader_line, overlaps, place_labels, place_ring_captions

LABEL_SCALE = 0.45    # the box labels' text
RING_SCALE = 0.4      # the rings' distances
LABEL_NUDGES = 4      # lines further up, down or left a label may go when the spots beside its box are taken
FONT = cv2.FONT_HERSHEY_SIMPLEX


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
class BevText:
    """What :func:`draw_bev` wrote, in the image's pixels, rectangles (x, y, w, h): for each label
    whose footprint is in the picture (by its index in the labels given) its text and rectangle
    (None: left out, no free place near its box), the leader lines drawn to labels moved away from
    their box, the rings' distances by radius (m)."""

    labels: dict[int, tuple[str, Rect | None]] = field(default_factory=dict)
    leaders: list[tuple[tuple[float, float], tuple[float, float]]] = field(default_factory=list)
    rings: dict[float, Rect] = field(default_factory=dict)

    @property
    def left_out(self) -> int:
        """How many labels found no place."""
        return sum(1 for _, rect in self.labels.values() if rect is None)


def text_size(text: str, scale: float) -> tuple[int, int, int]:
    """(width, height, baseline) in pixels of :func:`~.camera_overlay.draw_label`'s ``text``,
    its dark outline included: the text's top-left corner is ``height - baseline`` above the
    baseline."""
    (w, h), base = cv2.getTextSize(text, FONT, scale, 1)
    return w + 2, h + base + 2, base + 1


def draw_text_in(image: np.ndarray, text: str, rect: Rect, color, scale: float) -> None:
    """``text`` (sized by :func:`text_size`) drawn in ``rect``."""
    _, h, base = text_size(text, scale)
    draw_label(image, text, (int(rect[0]) + 1, int(rect[1]) + h - base), color, scale)


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
    first, where :func:`~.label_layout.place_labels` puts them, with a leader line to each moved
    away from its box; fills ``text`` and returns the rectangles drawn."""
    requests: dict[int, LabelRequest] = {}
    words: dict[int, str] = {}
    for i, (lab, poly) in enumerate(zip(labels, polys)):
        lo, hi = poly.min(axis=0), poly.max(axis=0)
        box = (float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1]))
        if not overlaps(box, bounds):
            continue
        top = poly[np.argmin(poly[:, 1])]
        # the track as the app shows it (the whole id up to 8 characters); "..." as Hershey fonts have no "…"
        words[i] = f"{short_name(lab.label)} {track_text(lab.track_id, '...')}".rstrip()
        requests[i] = LabelRequest((float(round(top[0])), float(round(top[1]))), text_size(words[i], LABEL_SCALE)[:2],
                                   avoid=box)
    order = sorted(requests, key=lambda i: float(np.hypot(*labels[i].box.center[:2])))
    boxes = [req.avoid for req in requests.values()]
    placed = place_labels([requests[i] for i in order], bounds, keep_clear, LABEL_NUDGES, boxes, leaders=True)
    for i, rect in sorted(zip(order, placed), key=lambda item: item[0]):
        text.labels[i] = (words[i], rect)
        if rect is None:
            continue
        color = class_color(labels[i].label)
        line = leader_line(requests[i].anchor, rect)
        if line is not None:
            (x0, y0), (x1, y1) = line
            cv2.line(image, (int(x0), int(y0)), (int(x1), int(y1)), color, 1, cv2.LINE_AA)
            text.leaders.append(line)
        draw_text_in(image, words[i], rect, color, LABEL_SCALE)
    return [rect for _, rect in text.labels.values() if rect is not None]


def short_name(label: str) -> str:
    """Last part of a dotted class name ("vehicle.car" -> "car") for crowded views."""
    return label.rsplit(".", 1)[-1]


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
