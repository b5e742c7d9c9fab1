"""Small Qt helpers shared by the views: NumPy images to QImage, colours, GL availability."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt, QTimer
from PyQt6.QtGui import QColor, QImage, QPainter, QPen, QRegion

from ..render.colors import LABEL_CHIP_RGBA, class_color
from ..render.label_layout import leader_line
from ..wording import track_text
from .styles import (FOCUS_RGB, LOCK_EDGE_RGBA, LOCK_MARK_MIN_PX, LOCK_MARK_PX, LOCK_MARK_RGBA,
                     OUTLINE_OF_STATE, PRELABEL_UNDERLAY_RGB, label_text_rgb, underlay_px)


def qimage_from_rgb(rgb: np.ndarray) -> QImage:
    """An owning QImage copy of an (H, W, 3) uint8 RGB array."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class RgbCanvas:
    """An (H, W, 3) uint8 buffer and a QImage viewing the same memory (no copy per frame)."""

    def __init__(self, width: int, height: int, fill: int = 0, array: np.ndarray | None = None):
        self.array = np.full((max(height, 1), max(width, 1), 3), fill, np.uint8) if array is None else array
        h, w = self.array.shape[:2]
        self.image = QImage(self.array.data, w, h, 3 * w, QImage.Format.Format_RGB888)

    @classmethod
    def wrap(cls, array: np.ndarray) -> "RgbCanvas":
        """A canvas over an existing C-contiguous (H, W, 3) uint8 array (not copied)."""
        return cls(array.shape[1], array.shape[0], array=np.ascontiguousarray(array, np.uint8))


def qcolor(rgb, alpha: int = 255) -> QColor:
    return QColor(int(rgb[0]), int(rgb[1]), int(rgb[2]), alpha)


def annotation_color(ontology, cls: str) -> QColor:
    """The ontology colour of a class (the render palette for classes it does not know)."""
    spec = ontology.classes.get(cls) if ontology is not None else None
    return qcolor(spec.color if spec is not None else class_color(cls))


LABEL_PAD = 2.0  # pixels of backdrop left and right of a box label's text
LABEL_BACKDROP = QColor(*LABEL_CHIP_RGBA)  # behind box labels, so they read on bright images too
FOCUS_BACKGROUND = QColor(*FOCUS_RGB)  # the views' "focus on the selection" mark (Shift+B)


def paint_label_chip(p: QPainter, rect: QRectF, color: QColor, text: str) -> None:
    """A box label: ``text`` centred on a dark, nearly opaque chip filling ``rect``, in class colour
    ``color`` lifted until it reads on the chip (:func:`~.styles.label_text_rgb`)."""
    p.fillRect(rect, LABEL_BACKDROP)
    p.setPen(QPen(QColor(*label_text_rgb((color.red(), color.green(), color.blue())))))
    p.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)


def paint_leader_lines(p: QPainter, labels, view: QRectF, keep_clear: list[tuple] = ()) -> dict:
    """A thin line in its box's colour from each box to its label placed away from it
    (:func:`~fusionlabel.render.label_layout.leader_line`), for ``labels`` (key, colour, anchor,
    label rectangle or None); drawn under the labels (paint them after), inside ``view`` and not over
    ``keep_clear`` (a caption), none for a box whose anchor is out of ``view`` (its label waits at
    the edge, as without lines). Returns key -> (anchor, label end) of each line drawn."""
    clip = QRegion(view.toAlignedRect())
    for r in keep_clear:
        clip = clip.subtracted(QRegion(QRectF(*r).toAlignedRect()))
    drawn = {}
    p.save()
    p.setClipRegion(clip)
    for key, color, anchor, rect in labels:
        line = None if rect is None else leader_line(anchor, rect)
        if line is None or not view.contains(QPointF(*line[0])):
            continue
        p.setPen(QPen(color, 1.0))
        p.drawLine(QPointF(*line[0]), QPointF(*line[1]))
        drawn[key] = line
    p.restore()
    return drawn


NOTE_TEXT = "{} selected, {} labelled"   # said when a crowded selection's labels are left out


def note_rect(fm, selected: int, x: float, bottom: float) -> tuple[float, float, float, float]:
    """The room (x, y, w, h) kept at the bottom left of a 2D view for the line saying how many of
    its ``selected`` cuboids are labelled (wide enough for all of them), its bottom at ``bottom``."""
    width = fm.horizontalAdvance(NOTE_TEXT.format(selected, selected)) + 2 * LABEL_PAD
    return (x, bottom - fm.height(), width, fm.height())


def paint_note(p: QPainter, rect: tuple, text: str) -> None:
    """That line: light grey on the labels' dark chip."""
    p.fillRect(QRectF(*rect), LABEL_BACKDROP)
    p.setPen(QPen(QColor(220, 220, 220)))
    p.drawText(QRectF(*rect), Qt.AlignmentFlag.AlignCenter, text)


# The pen of each outline (styles.OUTLINE_OF_STATE) in the bird's-eye and side views and the ?
# legend: human and imported cuboids solid, untouched pre-labels dashed, pre-labels the annotator
# edited but has not accepted dash-dotted.
PEN_STYLES = {"solid": Qt.PenStyle.SolidLine, "dashed": Qt.PenStyle.DashLine, "dash-dot": Qt.PenStyle.DashDotLine}


def outline_style(state: str | None) -> Qt.PenStyle:
    """The pen style of a cuboid by its Session.prelabel_state."""
    return PEN_STYLES[OUTLINE_OF_STATE[state]]


def outline_pens(color: QColor, width: float, outline: str, selected: bool = False) -> list[QPen]:
    """The pens a cuboid's ``outline`` (styles.OUTLINE_OF_STATE's names) ``width`` pixels wide is
    drawn with, in order: a patterned one (a pre-label's) first as a solid dark line a little wider
    (:func:`~.styles.underlay_px`, none when ``selected``: its halo shows in the gaps), then in
    ``color`` with its pattern; so its gaps read over points of its own colour, as in the cameras."""
    pen = QPen(color, float(width))
    pen.setStyle(PEN_STYLES[outline])
    under = underlay_px(outline, width, selected)
    return [pen] if under is None else [QPen(QColor(*PRELABEL_UNDERLAY_RGB), float(under)), pen]


def lock_mark_size(extent_px: float) -> float | None:
    """The padlock's height for a cuboid ``extent_px`` pixels across on screen (its smaller side):
    half of it, up to :data:`~.styles.LOCK_MARK_PX`; None (no mark) on a cuboid too small to hold
    one of :data:`~.styles.LOCK_MARK_MIN_PX`, which the mark would hide (zoom in to see it)."""
    half = 0.5 * float(extent_px)
    return None if half < LOCK_MARK_MIN_PX else min(half, float(LOCK_MARK_PX))


def paint_padlock(p: QPainter, center: QPointF, size: float = LOCK_MARK_PX) -> None:
    """A small padlock ``size`` pixels high centred on ``center``: the mark of a cuboid of a
    locked class (:mod:`.styles`). Leaves the painter's pen and brush as they were."""
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    x, y, s = center.x(), center.y(), float(size)
    body = QRectF(x - 0.42 * s, y - 0.05 * s, 0.84 * s, 0.55 * s)
    shackle = QRectF(x - 0.27 * s, y - 0.5 * s, 0.54 * s, 0.8 * s)
    light, edge = QColor(*LOCK_MARK_RGBA), QColor(*LOCK_EDGE_RGBA)
    width = max(1.2, s / 7.0)
    for color, w in ((edge, width + 2.0), (light, width)):   # the shackle: a dark rim, then light
        p.setPen(QPen(color, w))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawArc(shackle, 0, 180 * 16)
        p.drawLine(QPointF(shackle.left(), shackle.center().y()), QPointF(shackle.left(), body.top()))
        p.drawLine(QPointF(shackle.right(), shackle.center().y()), QPointF(shackle.right(), body.top()))
    p.setPen(QPen(edge, 1.0))
    p.setBrush(light)
    p.drawRoundedRect(body, 1.0, 1.0)
    p.restore()


EDITED_MARK = "edited"  # after the score of an edited pre-label, in labels and the object list
# Text colours of a pre-label's status (object list, side views): untouched, and edited not accepted
SOURCE_TEXT_COLORS = {"untouched": QColor(150, 190, 230), "edited": QColor(240, 185, 90)}


def box_label(ann, state: str | None = None) -> str:
    """"track class", plus the score of a pre-label ("12 car 0.87") and, for a pre-label the
    annotator edited (``state`` "edited", from Session.prelabel_state), "edited"."""
    text = f"{track_text(ann.track_id)} {ann.cls}".lstrip()
    if ann.source == "model" and ann.score is not None:
        text += f" {ann.score:.2f}"
    if state == "edited":
        text += f" {EDITED_MARK}"
    return text


def source_text(ann, state: str | None = None) -> str:
    """Where a cuboid stands: "human", "imported", "pre-label 0.87", "pre-label 0.87 edited"."""
    if ann.source == "model":
        text = "pre-label" + (f" {ann.score:.2f}" if ann.score is not None else "")
        return text + (f" {EDITED_MARK}" if state == "edited" else "")
    return {"import": "imported"}.get(ann.source, ann.source)


REACTIVATE_MS = 100  # how long after a dialog closes the window takes activation back
REACTIVATE_TRIES = 4   # requests at most, 0.1, 0.2, 0.4 and 0.8 s apart, while no window is active


def take_activation_back(window) -> None:
    """Make ``window`` active again shortly after a dialog of it closed, unless another window is
    active by then. Without a window manager (Xvfb) closing a dialog can leave no window active a
    moment later, and the window's shortcuts then do nothing until it is clicked."""
    from PyQt6.QtWidgets import QApplication

    def back(tries: int) -> None:
        try:
            if window.isVisible() and QApplication.activeWindow() is None:
                window.activateWindow()
                if tries > 1:   # a loaded X server can drop the request: look again, later each time
                    QTimer.singleShot(REACTIVATE_MS * 2 ** (REACTIVATE_TRIES - tries + 1), lambda: back(tries - 1))
        except RuntimeError:  # the window is gone
            pass

    QTimer.singleShot(REACTIVATE_MS, lambda: back(REACTIVATE_TRIES))


def opengl_available() -> bool:
    """True when an OpenGL context can be created on this display (not on 'offscreen')."""
    from PyQt6.QtGui import QGuiApplication, QOffscreenSurface, QOpenGLContext

    app = QGuiApplication.instance()
    if app is None or app.platformName() in ("offscreen", "minimal", "vnc"):
        return False
    ctx = QOpenGLContext()
    if not ctx.create():
        return False
    surface = QOffscreenSurface()
    surface.create()
    ok = surface.isValid() and ctx.makeCurrent(surface)
    if ok:
        ctx.doneCurrent()
    return bool(ok)
