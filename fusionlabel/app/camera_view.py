"""Camera panel: every camera of the rig with the LiDAR points (coloured by depth, toggled with P)
and every cuboid projected through the lens model; the selection is highlighted.

The image with points is composed by the loader thread. Here the image is resized once per frame
and widget size (OpenCV, cached); wireframes of all boxes are projected in one batch when the
annotations change and drawn with OpenCV at display resolution, so a repaint is a few
milliseconds. Pre-labels (source ``model``) are drawn dashed with their score, pre-labels the
annotator edited but has not accepted dash-dotted with "edited" after it, each on a thin solid dark
line so the gaps read over points of the same colour; selected, they keep their
pattern inside the highlight (a white halo with a dark rim, :data:`~.styles.SELECTED_HALO_PX`, outside the box
only: :mod:`.camera_halo`). Clicking a projected
cuboid selects it; double-clicking a camera enlarges it. A cuboid of a locked class has a small
padlock in the middle of its projection. Box labels left out for want of room are counted in a chip
at a corner of the image (:mod:`.left_out_note`).

The wheel or a touchpad pinch zooms about the cursor and a drag pans (:mod:`.camera_zoom`); each camera keeps its
zoom when the frame changes. Zoomed in, only the visible part of the image is rendered, and the
points and wireframes go through the same image -> widget transform as the image.
"""

from __future__ import annotations

import cv2
import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFontMetricsF, QImage, QPainter
from PyQt6.QtWidgets import QGridLayout, QWidget

from .camera_halo import draw_selected
from .camera_zoom import (POINT_PX, WHEEL_STEP, CameraZoom, ViewTransform, device_rect, fit_rect, render_zoomed,
                          screen_zoom)
from .frame_data import CameraFrame, FrameData
from ..render.label_layout import LABEL_NUDGES, NUDGED_LABELS_MAX, LabelRequest, place_view_labels
from .label_findings import ghost_label
from .left_out_note import chip_size, corner_spots, free_corner, left_out_text
from .projected_boxes import DASHED, DOTTED, PATTERNS, Wireframe, pattern_segments
from .qt_util import (FOCUS_BACKGROUND, LABEL_BACKDROP, LABEL_PAD, NOTE_TEXT, box_label, lock_mark_size, note_rect,
                      paint_label_chip, paint_leader_lines, paint_note, paint_padlock)
from .session import Session
from .styles import (FAINT_OPACITY, FOCUS_CAPTION, GHOST_PX, GHOST_RGB, OUTLINE_OF_STATE, PRELABEL_UNDERLAY_RGB,
                     SELECTED_HALO_PX, SELECTED_HALO_RGB, SELECTED_OUTLINE_PX, SELECTED_RIM_PX, SELECTED_RIM_RGB,
                     SELECTED_WIDE_INSIDE_PX, underlay_px)
from .touchpad import pinch_factor, sideways_pixels, wheel_steps

CLICK_PX = 4
SHIFT = 4  # sub-pixel bits for cv2 drawing
PAN_BUTTONS = (Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton, Qt.MouseButton.RightButton)


def dash_pixels(wire: Wireframe, affine, size: tuple[int, int], pattern=DASHED) -> np.ndarray:
    """The marks (M, 2, 2) of a line pattern along a wireframe on a canvas of ``size`` (``affine`` =
    (scale, offset) from image to canvas, :meth:`ViewTransform.canvas_affine`), cv2 fixed-point int32."""
    scale, offset = affine
    seg = pattern_segments(wire.lines * scale + offset, (-2.0, -2.0), (size[0] + 2.0, size[1] + 2.0), pattern)
    return np.round(seg * (1 << SHIFT)).astype(np.int32)


def blend_faint(canvas: np.ndarray, drawn: np.ndarray) -> None:
    """Blend ``drawn`` (a copy of ``canvas`` with the faint cuboids drawn on it) into ``canvas`` in
    place, at :data:`~.styles.FAINT_OPACITY`."""
    cv2.addWeighted(drawn, FAINT_OPACITY, canvas, 1.0 - FAINT_OPACITY, 0.0, dst=canvas)


def wire_pixels(wire: Wireframe, affine) -> list[np.ndarray]:
    """Polylines of a wireframe on a canvas (``affine`` as in :func:`dash_pixels`), as cv2
    fixed-point int32 arrays."""
    scale, offset = affine
    lines = (wire.lines * scale + offset) * (1 << SHIFT)
    if np.isfinite(lines).all():
        return list(np.clip(np.round(lines), -(1 << 28), 1 << 28).astype(np.int32))
    return [np.clip(np.round(q[np.isfinite(q).all(axis=1)]), -(1 << 28), 1 << 28).astype(np.int32) for q in lines]


class CameraView(QWidget):
    """One camera image, aspect-fitted, with wireframes drawn on top."""

    enlarge_requested = pyqtSignal(str)
    display_size_changed = pyqtSignal(str, int, int)

    def __init__(self, session: Session, name: str, parent=None):
        super().__init__(parent)
        self.session = session
        self.name = name
        self.cam: CameraFrame | None = None
        self.frame: int | None = None
        self._wire_key = None
        self._wires: list[tuple[str, Wireframe]] = []  # (uid, wireframe) for _wire_key's boxes
        self._canvas = None  # (array, QImage) kept alive while drawn
        self._press = None
        self._pan_from = None  # widget position of the last pan step while dragging
        self.view_zoom = CameraZoom()
        self.painted_frame: int | None = None
        self.label_rects: dict[str, tuple] = {}  # uid -> (x, y, w, h) of each label the last paint drew
        self.leader_lines: dict = {}  # uid (None: a ghost's) -> (box end, label end) of each leader line it drew
        self.selection_note: str | None = None  # "7 selected, 3 labelled" when selected labels were left out
        self.left_out_note: str | None = None   # "3 labels left out" when labels found no free place ...
        self.left_out_rect: tuple | None = None  # ... and where it is drawn (x, y, w, h)
        self.caption_rect: tuple | None = None  # (x, y, w, h) of the camera's caption the last paint drew
        self.caption_text = ""                  # ... and its text
        self.focus_rect: tuple | None = None    # (x, y, w, h) of the focus mark beside it (Shift+B), if drawn
        self.setMinimumSize(160, 90)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)

    def set_camera_frame(self, frame: int, cam: CameraFrame | None) -> None:
        if cam is not None and (self.cam is None or self.image_size() != (cam.camera.width, cam.camera.height)):
            self.view_zoom.reset()  # another camera model (another drive): start at fit
        self.frame, self.cam = frame, cam
        self._wire_key = None
        self.update()

    def image_size(self) -> tuple[int, int]:
        return (self.cam.camera.width, self.cam.camera.height) if self.cam is not None else (1, 1)

    def view_size(self) -> tuple[int, int]:
        return (max(self.width(), 1), max(self.height(), 1))

    def image_rect(self) -> QRectF:
        """Where the whole image is drawn when fitted (aspect-fitted, centred)."""
        if self.cam is None:
            return QRectF(self.rect())
        return QRectF(*fit_rect(self.image_size(), self.view_size()))

    def transform(self) -> ViewTransform:
        """Image -> widget coordinates at the current zoom and pan."""
        return self.view_zoom.transform(self.image_size(), self.view_size())

    def visible_rect(self) -> QRectF:
        """The part of the widget the image covers now (the fitted rectangle at fit)."""
        if self.cam is None:
            return QRectF(self.rect())
        return QRectF(*self.transform().visible_rect(self.image_size(), self.view_size()))

    def image_to_screen(self, uv) -> QPointF:
        """Widget position of an image point (pixel centres at integers)."""
        x, y = self.transform().to_screen(uv)
        return QPointF(float(x), float(y))

    def screen_to_image(self, pos: QPointF) -> tuple[float, float]:
        u, v = self.transform().to_image((pos.x(), pos.y()))
        return float(u), float(v)

    def wireframes(self) -> list[tuple[object, Wireframe]]:
        """(annotation, wireframe) of the cuboids this camera sees, recomputed when they change."""
        if self.cam is None or self.frame is None:
            return []
        anns = self.session.shown_annotations(self.frame)   # none of a hidden class, none while B is off
        boxes = [self.session.display_box(a) for a in anns]
        key = (id(self.cam), tuple((a.uid, b) for a, b in zip(anns, boxes)))
        if key != self._wire_key:  # the projection is cached by box; class, source and score are read fresh
            self._wires = [(a.uid, w) for a, w in zip(anns, self.cam.wireframes(boxes)) if w is not None]
            self._wire_key = key
        current = {a.uid: a for a in anns}
        return [(current[uid], w) for uid, w in self._wires]

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(8, 8, 8))
        if self.cam is None:
            p.setPen(QColor(200, 200, 200))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, f"{self.name}: loading…")
            p.end()
            return
        tf = self.transform()
        rect = tf.visible_rect(self.image_size(), self.view_size())
        target = QRectF(*rect)
        # The image and the wireframes are drawn in device pixels (sharp on a 200 % screen), the
        # text over them in widget pixels.
        ratio = self.devicePixelRatioF()
        canvas_rect = device_rect(rect, ratio)
        size = canvas_rect[2:]
        show_points = self.session.layers.get("camera_points", True)
        if not self.view_zoom.zoomed:  # fitted: the image the loader scaled ahead
            canvas = self.cam.scaled_image(size, show_points).copy()
            iw, ih = self.image_size()
            canvas_tf = ViewTransform(size[0] / iw, size[1] / ih, float(canvas_rect[0]), float(canvas_rect[1]))
        else:
            canvas_tf = ViewTransform(tf.sx * ratio, tf.sy * ratio, tf.ox * ratio, tf.oy * ratio)
            canvas = render_zoomed(self.cam, canvas_tf, canvas_rect, show_points, round(POINT_PX * ratio))
        affine = canvas_tf.canvas_affine(canvas_rect[:2])
        # selected: dark rim, white halo, colour; others
        widths = [max(1, round(w * ratio)) for w in (SELECTED_RIM_PX, SELECTED_HALO_PX, SELECTED_OUTLINE_PX, 1)]
        seen_lo, seen_hi = tf.to_image(rect[:2]), tf.to_image((rect[0] + rect[2], rect[1] + rect[3]))
        labels = []
        selected = set(self.session.selection)
        faint_layer = None   # focus (Shift+B): the other cuboids, drawn here, then blended in faint
        for ann, wire in sorted(self.wireframes(), key=lambda aw: aw[0].uid in selected):
            hull = wire.hull_points()
            if self.view_zoom.zoomed and (len(hull) == 0 or (hull.max(axis=0) < seen_lo).any()
                                          or (hull.min(axis=0) > seen_hi).any()):
                continue  # zoomed in elsewhere
            faint = self.session.is_faint(ann)
            if faint and faint_layer is None:
                faint_layer = canvas.copy()
            elif not faint and faint_layer is not None:   # the faint ones all come first
                blend_faint(canvas, faint_layer)
                faint_layer = None
            drawn_on = faint_layer if faint else canvas
            color = self.session.ontology.color(ann.cls)
            rgb = tuple(int(c) for c in color)
            state = self.session.prelabel_state(ann)
            # A pre-label is dashed (dash-dotted once edited), selected or not; selected, every
            # mark is wider and has a white halo with a dark rim outside the box, so the selection
            # stands out from its neighbours and a selected pre-label never looks like human work.
            outline = OUTLINE_OF_STATE[state]
            pattern = PATTERNS.get(outline)
            pts = wire_pixels(wire, affine) if pattern is None else list(dash_pixels(wire, affine, size, pattern))
            if ann.uid in selected and pts:   # rim and halo outside the box: the object stays seen
                draw_selected(canvas, pts, hull * affine[0] + affine[1], rgb, SELECTED_RIM_RGB, SELECTED_HALO_RGB,
                              tuple(widths[:4]), SHIFT, SELECTED_WIDE_INSIDE_PX * ratio)
            elif pts:
                under = underlay_px(outline, 1.0)   # the dashes' gaps dark, not the points behind them
                if under is not None:
                    cv2.polylines(drawn_on, wire_pixels(wire, affine), False, PRELABEL_UNDERLAY_RGB,
                                  max(1, round(under * ratio)), cv2.LINE_8, SHIFT)   # (not smoothed: cheaper)
                cv2.polylines(drawn_on, pts, False, rgb, widths[3], cv2.LINE_AA, SHIFT)
            if self.session.layers.get("box_labels", True) and not faint:
                top = tf.to_screen(hull[np.argmin(hull[:, 1])])
                lo, hi = tf.to_screen(hull.min(axis=0)), tf.to_screen(hull.max(axis=0))
                extent = (float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1]))
                labels.append((ann.uid in selected, wire.depth, ann.uid, QColor(*color), top,
                               box_label(ann, state), extent))
        if faint_layer is not None:
            blend_faint(canvas, faint_layer)
        labels += self._draw_ghost(canvas, affine, size, tf, ratio)
        image = QImage(canvas.data, size[0], size[1], 3 * size[0], QImage.Format.Format_RGB888)
        image.setDevicePixelRatio(ratio)
        self._canvas = (canvas, image)
        p.drawImage(QPointF(canvas_rect[0] / ratio, canvas_rect[1] / ratio), image)
        self._paint_locks(p, tf, target)
        fm = QFontMetricsF(p.font())
        p.setPen(QColor(255, 255, 255))
        info = f"{self.name}  {self.cam.n_points:,} pts" if show_points else self.name
        if self.view_zoom.zoomed:
            info += f"  {screen_zoom(tf, ratio):.2g}×"
        self.caption_text = info
        caption = QRectF(target.x(), target.y(), fm.horizontalAdvance(info) + 12, 18.0)
        p.fillRect(caption, LABEL_BACKDROP)      # readable over a bright sky or a white wall
        self.caption_rect = (caption.x(), caption.y(), caption.width(), caption.height())
        p.drawText(QPointF(target.x() + 6, target.y() + 14), info)
        obstacles = [self.caption_rect]
        self.focus_rect = None
        if self.session.focus:   # so that nobody forgets the other cuboids are faint
            chip = QRectF(caption.right() + 4, caption.y(), fm.horizontalAdvance(FOCUS_CAPTION) + 12, 18.0)
            p.fillRect(chip, FOCUS_BACKGROUND)
            p.setPen(QColor(0, 0, 0))
            p.drawText(chip, Qt.AlignmentFlag.AlignCenter, FOCUS_CAPTION)
            self.focus_rect = (chip.x(), chip.y(), chip.width(), chip.height())
            obstacles.append(self.focus_rect)
        said = self.cam.error or self.cam.note   # a note (no images in this drive) is not an error
        if said:
            p.setPen(QColor(255, 110, 90) if self.cam.error else QColor(200, 200, 200))
            flags = Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap
            area = target.adjusted(6, 20, -6, -6)
            p.drawText(area, flags, said)
            r = fm.boundingRect(area, flags, said)
            obstacles.append((r.x(), r.y(), r.width(), r.height()))
        self._paint_labels(p, labels, target, obstacles)
        p.end()
        self.painted_frame = self.frame

    def _draw_ghost(self, canvas: np.ndarray, affine, size: tuple[int, int], tf: ViewTransform,
                    ratio: float) -> list[tuple]:
        """Draw where a track's missing box would be (:attr:`Session.ghost`, in this frame) on the
        canvas, dotted over a dark edge; returns its label for :meth:`_paint_labels` ([] unseen)."""
        ghost = self.session.ghost
        if ghost is None or ghost.frame != self.frame or self.cam is None:
            return []
        wire = self.cam.wireframes([ghost.box])[0]
        if wire is None:
            return []
        marks = list(dash_pixels(wire, affine, size, DOTTED))
        if marks:
            cv2.polylines(canvas, marks, False, (0, 0, 0), max(1, round((GHOST_PX + 2) * ratio)), cv2.LINE_AA, SHIFT)
            cv2.polylines(canvas, marks, False, GHOST_RGB, max(1, round(GHOST_PX * ratio)), cv2.LINE_AA, SHIFT)
        hull = wire.hull_points()
        if not self.session.layers.get("box_labels", True) or len(hull) == 0:
            return []
        top = tf.to_screen(hull[np.argmin(hull[:, 1])])
        lo, hi = tf.to_screen(hull.min(axis=0)), tf.to_screen(hull.max(axis=0))
        extent = (float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1]))
        return [(False, -1.0, None, QColor(*GHOST_RGB), top, ghost_label(ghost), extent)]

    def _paint_locks(self, p: QPainter, tf: ViewTransform, target: QRectF) -> None:
        """A padlock in the middle of each projected cuboid of a locked class that is in view."""
        if not self.session.class_view.locked:
            return
        for ann, wire in self.wireframes():
            hull = wire.hull_points()
            if not self.session.is_locked(ann) or len(hull) == 0:
                continue
            lo, hi = tf.to_screen(hull.min(axis=0)), tf.to_screen(hull.max(axis=0))
            middle, size = QPointF(*((lo + hi) / 2.0)), lock_mark_size(float(min(hi - lo)))
            if size is not None and target.contains(middle):
                paint_padlock(p, middle, size)

    def _paint_labels(self, p: QPainter, labels: list[tuple], target: QRectF, obstacles: list[tuple]) -> None:
        """Box labels decluttered (:func:`~fusionlabel.render.label_layout.place_view_labels`) inside the image, as
        the bird's-eye view and ``fusionlabel render``'s camera tiles place theirs: the first
        selected cuboid's always, then the other selected ones', then the rest, nearest first, each
        where it overlaps no label drawn before it and none of ``obstacles`` (the caption, a note);
        beside its own cuboid, off the other cuboids when there is room, else up to
        :data:`~fusionlabel.render.label_layout.LABEL_NUDGES` lines further away with a thin leader
        line in the box's colour (not with more than :data:`~fusionlabel.render.label_layout.NUDGED_LABELS_MAX`
        labels in view). When selected labels are left out (a crowd selected with Ctrl+A), a line at
        the image's bottom left says how many are labelled; when any label is left out, a chip at a
        corner of the image no label covers (the bottom right, else the top right, else the bottom
        right kept clear of labels) says how many (:mod:`.left_out_note`)."""
        fm = QFontMetricsF(p.font())
        labels.sort(key=lambda item: item[1])
        boxes = [extent for *_, extent in labels]
        requests = [LabelRequest((float(top[0]), float(top[1])), (fm.horizontalAdvance(text) + 2 * LABEL_PAD, fm.height()),
                                 avoid=extent) for _, _, _, _, top, text, extent in labels]
        nudges = LABEL_NUDGES if len(requests) <= NUDGED_LABELS_MAX else 0
        selected = [item[0] for item in labels]
        first = self.session.selection[0] if self.session.selection else None
        primary = next((i for i, item in enumerate(labels) if item[2] == first), None)
        bounds = (target.x(), target.y(), target.width(), target.height())
        n = sum(selected)
        note = note_rect(fm, n, target.x(), target.bottom()) if n > 1 else None   # drawn if labels are left out
        keep = obstacles + ([note] if note else [])

        def place(keep: list[tuple]) -> tuple[list, int]:
            return place_view_labels(requests, selected, primary, bounds, keep, nudges=nudges,
                                     boxes=boxes if nudges else (), leaders=bool(nudges))

        rects, hidden = place(keep)
        chip = None   # where the count of labels left out goes: a free corner, else the bottom right kept clear
        if None in rects:
            size = chip_size(fm, len(requests))
            chip = free_corner(size, bounds, keep + [r for r in rects if r is not None])
            if chip is None:
                chip = corner_spots(size, bounds)[0]
                rects, hidden = place(keep + [chip])
        left_out = sum(1 for r in rects if r is None)
        self.left_out_note = left_out_text(left_out) if left_out else None
        self.left_out_rect = chip if left_out else None
        self.selection_note = NOTE_TEXT.format(n, n - hidden) if note and hidden else None
        keep_clear = obstacles + ([note] if self.selection_note is not None else []) + ([chip] if left_out else [])
        self.leader_lines = paint_leader_lines(
            p, [(uid, color, req.anchor, rect) for (_, _, uid, color, *_), req, rect in zip(labels, requests, rects)],
            target, keep_clear)
        self.label_rects = {}
        for (_, _, uid, color, _, text, _), rect in zip(labels, rects):
            if rect is None:
                continue
            paint_label_chip(p, QRectF(*rect), color, text)
            self.label_rects[uid] = rect
        if self.selection_note is not None:
            paint_note(p, note, self.selection_note)
        if self.left_out_note is not None:
            paint_note(p, chip, self.left_out_note)

    # ------------------------------------------------------------------ picking
    def pick(self, pos: QPointF) -> str | None:
        """uid of the nearest projected cuboid whose outline contains the pixel, or None (always
        while the cuboids are hidden, and none of a hidden class)."""
        if self.cam is None or not self.visible_rect().contains(pos):
            return None
        uv = self.screen_to_image(pos)
        hits = []
        for ann, wire in self.wireframes():
            hull = cv2.convexHull(np.clip(wire.hull_points(), -1e6, 1e6))
            if cv2.pointPolygonTest(hull, uv, False) >= 0:
                hits.append((wire.depth, ann.uid))
        return min(hits)[1] if hits else None

    def mousePressEvent(self, ev) -> None:  # noqa: N802
        if ev.button() == Qt.MouseButton.LeftButton:
            self._press = ev.position()
        if ev.button() in PAN_BUTTONS:
            self._pan_from = ev.position()

    def mouseMoveEvent(self, ev) -> None:  # noqa: N802
        """Any drag pans a zoomed image (a left drag never selected anything)."""
        if self._pan_from is None or self.cam is None:
            return
        pos = ev.position()
        if self._press is not None and self._pan_from == self._press:
            delta = pos - self._press
            if abs(delta.x()) + abs(delta.y()) <= CLICK_PX:
                return  # still a click
        d, self._pan_from = pos - self._pan_from, pos
        if self.view_zoom.zoomed:
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            self.view_zoom.pan(d.x(), d.y(), self.image_size(), self.view_size())
            self.update()

    def wheelEvent(self, ev) -> None:  # noqa: N802
        """Zoom about the cursor: the image point under it stays put; a sideways scroll pans a
        zoomed image as a drag does."""
        steps = wheel_steps(ev)
        if self.cam is not None and steps:
            self._zoom_at(WHEEL_STEP ** steps, ev)
        pan = sideways_pixels(ev)
        if self.cam is not None and pan and self.view_zoom.zoomed:
            self.view_zoom.pan(pan, 0.0, self.image_size(), self.view_size())
            self.update()
            ev.accept()

    def event(self, ev) -> bool:
        factor = pinch_factor(ev)   # a touchpad pinch zooms about the fingers as the wheel does
        if factor is None:
            return super().event(ev)
        if self.cam is not None:
            self._zoom_at(factor, ev)
        return True

    def _zoom_at(self, factor: float, ev) -> None:
        pos = ev.position()
        self.view_zoom.zoom_at(factor, (pos.x(), pos.y()), self.image_size(), self.view_size())
        self.update()
        ev.accept()

    def reset_zoom(self) -> None:
        """Back to the whole image."""
        self.view_zoom.reset()
        self.update()

    def zoom_to_selection(self) -> bool:
        """Zoom onto the selected cuboids' projection with a margin; False when this camera does
        not see them (its zoom is then unchanged)."""
        selected = set(self.session.selection)
        hulls = [w.hull_points() for a, w in self.wireframes() if a.uid in selected]
        hulls = [h for h in hulls if len(h)]
        if self.cam is None or not hulls:
            return False
        pts = np.concatenate(hulls)
        lo = np.maximum(pts.min(axis=0), -0.5)
        hi = np.minimum(pts.max(axis=0), np.asarray(self.image_size()) - 0.5)
        if (hi < lo).any():
            return False
        self.view_zoom.show_region(lo, hi, self.image_size(), self.view_size())
        self.update()
        return True

    def mouseReleaseEvent(self, ev) -> None:  # noqa: N802
        if ev.button() in PAN_BUTTONS:
            self._pan_from = None
            self.unsetCursor()
        start, self._press = self._press, None
        if start is None or ev.button() != Qt.MouseButton.LeftButton:
            return
        delta = ev.position() - start
        if abs(delta.x()) + abs(delta.y()) > CLICK_PX:
            return
        uid = self.pick(ev.position())
        self.session.click_select(uid, toggle=bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier))

    def mouseDoubleClickEvent(self, ev) -> None:  # noqa: N802
        self.enlarge_requested.emit(self.name)

    def resizeEvent(self, ev) -> None:  # noqa: N802
        super().resizeEvent(ev)
        r = self.image_rect()
        _, _, width, height = device_rect((r.x(), r.y(), r.width(), r.height()), self.devicePixelRatioF())
        self.display_size_changed.emit(self.name, width, height)  # what paintEvent asks the image for


class CameraPanel(QWidget):
    """All cameras of the rig in a grid (up to 3 per row); one can be enlarged."""

    enlarged_changed = pyqtSignal(object)  # the enlarged camera's name, or None

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.views: dict[str, CameraView] = {}
        self.enlarged: str | None = None
        self.loader = None  # a FrameLoader, when the panel should feed it display sizes
        self._layout = QGridLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        session.subscribe(self._on_session)

    def _ensure_views(self, names: list[str]) -> None:
        if list(self.views) == names:
            return
        for view in self.views.values():
            view.setParent(None)
            view.deleteLater()
        self.views = {}
        for i, name in enumerate(names):
            view = CameraView(self.session, name)
            view.enlarge_requested.connect(self.toggle_enlarged)
            view.display_size_changed.connect(self._size_changed)
            self.views[name] = view
            self._layout.addWidget(view, i // 3, i % 3)
        self.enlarged = None

    def set_frame_data(self, data: FrameData) -> None:
        self._ensure_views(list(data.cameras))
        for name, view in self.views.items():
            view.set_camera_frame(data.index, data.cameras.get(name))

    def _size_changed(self, name: str, width: int, height: int) -> None:
        """Tell the loader the on-screen size, so it scales the next frames' images itself."""
        if self.loader is not None and width > 0 and height > 0:
            self.loader.display_sizes[name] = (width, height)

    def toggle_enlarged(self, name: str) -> None:
        self.enlarged = None if self.enlarged == name else name
        for n, view in self.views.items():
            view.setVisible(self.enlarged is None or n == self.enlarged)
        self.enlarged_changed.emit(self.enlarged)

    def reset_zoom(self) -> None:
        """Every camera back to the whole image."""
        for view in self.views.values():
            view.reset_zoom()

    def zoom_to_selection(self) -> int:
        """Zoom every camera that sees the selection onto it; returns how many do."""
        return sum(view.zoom_to_selection() for view in self.views.values() if view.isVisible())

    def _on_session(self, kind, payload) -> None:
        if kind in ("document", "selection", "preview", "layers", "ghost"):
            for view in self.views.values():
                view.update()
