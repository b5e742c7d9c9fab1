"""Cuboid labels ("car 7") in a rendered picture, placed by :mod:`.label_layout` and drawn with
OpenCV: the one routine the bird's-eye panel and the camera tiles of ``fusionlabel render`` share.

Labels go in priority order (nearest box first) beside their anchor, else a few lines further
away (:data:`LABEL_NUDGES`) with a thin leader line in the box's colour, never over another label
nor over what the caller keeps clear; a label with no free place is left out and counted."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..model.annotation import CuboidLabel
from ..wording import track_text
from .camera_overlay import draw_label
from .colors import class_color
from .label_layout import LABEL_NUDGES, LabelRequest, Rect, leader_line, place_labels

LABEL_SCALE = 0.45    # the box labels' text
FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass
class LabelText:
    """Where box labels went, in the image's pixels, rectangles (x, y, w, h): for each label in
    the picture (by its index in the labels given) its text and rectangle (None: left out, no free
    place near its box), and the leader lines drawn to labels moved away from their box."""

    labels: dict[int, tuple[str, Rect | None]] = field(default_factory=dict)
    leaders: list[tuple[tuple[float, float], tuple[float, float]]] = field(default_factory=list)

    @property
    def left_out(self) -> int:
        """How many labels found no place."""
        return sum(1 for _, rect in self.labels.values() if rect is None)


def short_name(label: str) -> str:
    """Last part of a dotted class name ("vehicle.car" -> "car") for crowded views."""
    return label.rsplit(".", 1)[-1]


def label_text(lab: CuboidLabel) -> str:
    """A box's label: its short class name and its track as the app shows it (the whole id up to 8
    characters; "..." as Hershey fonts have no "…")."""
    return f"{short_name(lab.label)} {track_text(lab.track_id, '...')}".rstrip()


def text_size(text: str, scale: float, thickness: int = 1) -> tuple[int, int, int]:
    """(width, height, baseline) in pixels of :func:`~.camera_overlay.draw_label`'s ``text``,
    its dark outline included: the text's top-left corner is ``height - baseline`` above the
    baseline."""
    (w, h), base = cv2.getTextSize(text, FONT, scale, thickness)
    pad = thickness + 1
    return w + pad, h + base + pad, base + pad // 2


def draw_text_in(image: np.ndarray, text: str, rect: Rect, color, scale: float, thickness: int = 1) -> None:
    """``text`` (sized by :func:`text_size`) drawn in ``rect``."""
    _, h, base = text_size(text, scale, thickness)
    draw_label(image, text, (int(rect[0]) + (thickness + 1) // 2, int(rect[1]) + h - base), color, scale, thickness)


def draw_box_labels(image: np.ndarray, labels: list[CuboidLabel], anchors: dict[int, tuple[float, float]],
                    extents: dict[int, Rect], order: list[int], bounds: Rect, keep_clear: list[Rect] = (),
                    boxes: list[Rect] = (), scale: float = LABEL_SCALE, thickness: int = 1) -> LabelText:
    """Draw the :func:`label_text` of ``labels[i]`` for each ``i`` of ``order`` (highest priority
    first) near ``anchors[i]`` (the top of its box, pixels), off its box's ``extents[i]`` where
    there is room, inside ``bounds``, where :func:`~.label_layout.place_labels` puts them (off
    ``keep_clear``; spots over one of ``boxes`` after the others), with a leader line to each moved
    away from its box; returns what was written where."""
    words = {i: label_text(labels[i]) for i in order}
    requests = [LabelRequest(anchors[i], text_size(words[i], scale, thickness)[:2], avoid=extents[i]) for i in order]
    placed = place_labels(requests, bounds, keep_clear, LABEL_NUDGES, boxes, leaders=True)
    text = LabelText()
    for (i, req), rect in sorted(zip(zip(order, requests), placed), key=lambda item: item[0][0]):
        text.labels[i] = (words[i], rect)
        if rect is None:
            continue
        color = class_color(labels[i].label)
        line = leader_line(req.anchor, rect)
        if line is not None:
            (x0, y0), (x1, y1) = line
            cv2.line(image, (int(x0), int(y0)), (int(x1), int(y1)), color, thickness, cv2.LINE_AA)
            text.leaders.append(line)
        draw_text_in(image, words[i], rect, color, scale, thickness)
    return text
