"""Three orthographic views of the selected cuboid (top, side, front) for centimetre fitting.

Each view looks along one axis of the box frame and shows only the points near the box
(inside its extent along the viewing axis, plus a small margin), the nearest to the viewer drawn last
(seen from above, a roof hides the ground under it). Dragging an edge moves that face
(the opposite face stays put), dragging a corner moves two faces, dragging inside moves the box in
the view's plane; each drag previews through the session and ends in one SetBox command. The
wheel or a touchpad pinch zooms about the box's centre (the three views together stay fitted otherwise). A
pre-label's outline is dashed (dash-dotted once the annotator edited it), and the caption says so;
a cuboid of a locked class says "locked" with a padlock at the top right (its drags are refused).
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QColor, QFontMetricsF, QPainter, QPen, QPolygonF
from PyQt6.QtWidgets import QHBoxLayout, QWidget

from ..geometry.cuboid import Cuboid
from ..model import edit_actions
from ..wording import track_text
from .actions import Actions
from .bev_raster import put_dots
from .box_edit import moved_local, with_edges
from .frame_data import FrameData
from .point_index import crop_colors, crop_margin
from .qt_util import SOURCE_TEXT_COLORS, RgbCanvas, annotation_color, outline_style, paint_padlock, source_text
from .session import Session
from .side_crop import VIEW_AXES
from .styles import LOCK_MARK_PX
from .touchpad import pinch_factor, wheel_steps

TITLES = {"top": "top", "side": "side (from the right)", "front": "front"}
AXIS_NAMES = "lwh"
PICK_PX = 7
MIN_WIDTH_PX = 110   # a side view's narrowest (three of them beside the bird's-eye view fit 1024 px)
DRAG_PX = 3
WHEEL_STEP = 1.25  # zoom factor of one wheel notch
ZOOM_RANGE = (0.5, 8.0)  # wheel zoom relative to the fitted box
BACKGROUND_RGB = (12, 12, 16)
BACKGROUND = QColor(*BACKGROUND_RGB)
LOCKED_TEXT = "locked"
LOCKED_TEXT_COLOR = QColor(200, 200, 200)


class SideView(QWidget):
    """One orthographic view of the primary selected cuboid."""

    def __init__(self, session: Session, kind: str, parent=None):
        super().__init__(parent)
        if kind not in VIEW_AXES:
            raise ValueError(f"side view kind must be one of {tuple(VIEW_AXES)}, got {kind!r}")
        self.session = session
        self.kind = kind
        self.h_axis, self.v_axis, self.depth_axis = VIEW_AXES[kind]
        self.data: FrameData | None = None
        self.scale = 40.0  # pixels per metre
        self.zoom = 1.0  # the wheel's zoom on top of the fit (1: the box fitted with its margin)
        self._zoom_uid: str | None = None  # the box that zoom is for
        self._ref: Cuboid | None = None  # box whose frame the view is drawn in
        self._ref_uid: str | None = None
        self._drag: dict | None = None
        self._points_key = None
        self._local = np.zeros((0, 3))
        self._shown = np.zeros(0, np.int64)  # rows of the frame's crop this view shows
        self._colors: np.ndarray | None = None
        self.painted_frame: int | None = None
        self.caption: list[str] = []  # the lines of the caption at the bottom the last paint drew
        self.setMinimumSize(MIN_WIDTH_PX, 140)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        session.subscribe(self._on_session)

    # ------------------------------------------------------------------ model -> view
    def set_frame_data(self, data: FrameData) -> None:
        self.data = data
        self._drag = None
        self._points_key = None
        self._refit()
        self.update()

    def _on_session(self, kind, payload) -> None:
        if kind in ("document", "selection", "frame"):
            self._refit()
        if kind in ("document", "selection", "preview", "frame", "layers"):
            self.update()

    def annotation(self):
        """The primary selected annotation if it is in the displayed frame."""
        if self.data is None or not self.session.selection:
            return None
        try:
            ann = self.session.document.get(self.session.selection[0])
        except KeyError:
            return None
        return ann if ann.frame == self.data.index else None

    def _reference(self, ann) -> Cuboid:
        """The box frame the view uses: frozen during a drag, else the current box."""
        if self._drag is not None:
            return self._drag["base"]
        if ann.uid != self._ref_uid or self._ref != ann.box:
            self._refit(ann)
        return self._ref

    def _refit(self, ann=None) -> None:
        """Follow the selected box; keep the zoom while it still fits (so repeated edits do not
        jump), refit when another box is selected or this one outgrew the view."""
        ann = ann or self.annotation()
        if ann is None or self._drag is not None:
            return
        box = ann.box
        w, h = max(self.width(), 1), max(self.height(), 1)
        margin = 2 * self._margin(box)
        if ann.uid != self._zoom_uid:  # another box: back to the fit
            self.zoom, self._zoom_uid = 1.0, ann.uid
        fit = 0.9 * min(w / (box.size[self.h_axis] + margin), h / (box.size[self.v_axis] + margin)) * self.zoom
        if ann.uid != self._ref_uid or not 0.5 * fit <= self.scale <= 1.25 * fit:
            self.scale = fit
        self._ref, self._ref_uid = box, ann.uid

    def resizeEvent(self, ev) -> None:  # noqa: N802
        self._ref_uid = None
        self._refit()
        super().resizeEvent(ev)

    @staticmethod
    def _margin(box: Cuboid) -> float:
        return crop_margin(box)

    def _points_local(self, ref: Cuboid) -> np.ndarray:
        """Box-frame coordinates (M, 3) of the points this view shows, farthest from the viewer
        first (:func:`.side_crop.side_rows`): the frame's cached result, which the loader prepares
        for the selected cuboid along with the frame."""
        key = (id(self.data), ref)
        if key != self._points_key:
            self._shown, self._local, self._colors = self.data.side_points(ref, self.kind)
            self._points_key = key
        return self._local

    def _ref_colors(self, ref: Cuboid) -> np.ndarray:
        """The colours (M, 3) of :meth:`_points_local`'s points for ``ref`` itself (no drag)."""
        self._points_local(ref)
        return self._colors

    # ------------------------------------------------------------------ coordinates
    def to_screen(self, local: np.ndarray) -> np.ndarray:
        """(N, 3) box-frame coordinates -> (N, 2) widget pixels."""
        local = np.atleast_2d(local)
        u = self.width() / 2.0 + local[:, self.h_axis] * self.scale
        v = self.height() / 2.0 - local[:, self.v_axis] * self.scale
        return np.column_stack([u, v])

    def to_local_hv(self, pos: QPointF) -> tuple[float, float]:
        return ((pos.x() - self.width() / 2.0) / self.scale, -(pos.y() - self.height() / 2.0) / self.scale)

    def _rect(self, ref: Cuboid, box: Cuboid) -> tuple[float, float, float, float]:
        """(u0, v0, u1, v1) screen rectangle of ``box`` drawn in ``ref``'s frame."""
        local = (box.corners() - np.asarray(ref.center)) @ ref.rotation()
        uv = self.to_screen(local)
        return uv[:, 0].min(), uv[:, 1].min(), uv[:, 0].max(), uv[:, 1].max()

    # ------------------------------------------------------------------ painting
    def _title(self, p: QPainter) -> str:
        """The view's name, elided to its width (a narrow view on a small screen)."""
        return QFontMetricsF(p.font()).elidedText(TITLES[self.kind], Qt.TextElideMode.ElideRight, self.width() - 12)

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        ann = self.annotation()
        if ann is None:
            p.fillRect(self.rect(), BACKGROUND)
            p.setPen(QPen(QColor(200, 200, 200)))
            p.drawText(6, 14, self._title(p))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "select a cuboid")
            p.end()
            self.painted_frame = None if self.data is None else self.data.index
            return
        ref = self._reference(ann)
        box = self.session.display_box(ann)
        if self._drag is not None and "box" in self._drag:
            box = self._drag["box"]
        p.drawImage(0, 0, self._points_image(ref, box).image)
        p.setPen(QPen(QColor(200, 200, 200)))
        p.drawText(6, 14, self._title(p))
        color = annotation_color(self.session.ontology, ann.cls)
        state = self.session.prelabel_state(ann)
        u0, v0, u1, v1 = self._rect(ref, box)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        outline = QPen(color, 1.5)
        outline.setStyle(outline_style(state))
        p.setPen(outline)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(QRectF(u0, v0, u1 - u0, v1 - v0))
        active = self._drag.get("edges") if self._drag else None
        if active:
            p.setPen(QPen(QColor(255, 255, 255), 3))
            for axis, sign in active:
                if axis == self.h_axis:
                    u = u1 if sign > 0 else u0
                    p.drawLine(QPointF(u, v0), QPointF(u, v1))
                else:
                    v = v0 if sign > 0 else v1
                    p.drawLine(QPointF(u0, v), QPointF(u1, v))
        if self.h_axis == 0:  # heading marker on the front face
            p.setPen(QPen(color, 1.5))
            p.setBrush(color)
            mid = (v0 + v1) / 2.0
            p.drawPolygon(QPolygonF([QPointF(u1, mid - 6), QPointF(u1 + 9, mid), QPointF(u1, mid + 6)]))
        p.setPen(QPen(QColor(230, 230, 230)))
        dims = (f"{AXIS_NAMES[self.h_axis]} {box.size[self.h_axis]:.2f}  "
                f"{AXIS_NAMES[self.v_axis]} {box.size[self.v_axis]:.2f} m")
        fm = QFontMetricsF(p.font())
        self.caption = caption_lines(f"{track_text(ann.track_id)} {ann.cls}", dims, fm, self.width() - 12)
        for i, line in enumerate(reversed(self.caption)):
            p.drawText(QPointF(6, self.height() - 6 - i * fm.lineSpacing()), line)
        if state is not None:  # under the title: "pre-label 0.87" / "pre-label 0.87 edited"
            p.setPen(QPen(SOURCE_TEXT_COLORS[state]))
            p.drawText(6, 29, source_text(ann, state))
        if self.session.is_locked(ann):  # top right: why a drag does nothing here
            fm = QFontMetricsF(p.font())
            x = self.width() - 6 - fm.horizontalAdvance(LOCKED_TEXT)
            p.setPen(QPen(LOCKED_TEXT_COLOR))
            p.drawText(QPointF(x, 14), LOCKED_TEXT)
            paint_padlock(p, QPointF(x - 3 - LOCK_MARK_PX / 2, 14 - fm.ascent() / 2))
        p.end()
        self.painted_frame = self.data.index

    def _points_image(self, ref: Cuboid, box: Cuboid) -> RgbCanvas:
        """Background with the points near the box: inside ``box`` by height, the rest grey; each a
        dot two widget pixels wide, drawn in device pixels (sharp on a high-DPI screen)."""
        ratio = self.devicePixelRatioF()
        w, h = max(round(self.width() * ratio), 1), max(round(self.height() * ratio), 1)
        canvas = RgbCanvas(w, h, 0)
        canvas.image.setDevicePixelRatio(ratio)
        canvas.array[:] = BACKGROUND_RGB
        local = self._points_local(ref)
        if len(local) == 0:
            return canvas
        side, scale = 2 * max(1, round(ratio)), self.scale * ratio
        u = (w / 2.0 + local[:, self.h_axis] * scale).astype(np.int32)  # to_screen, two columns only
        v = (h / 2.0 - local[:, self.v_axis] * scale).astype(np.int32)
        ok = (u >= 0) & (u <= w - side) & (v >= 0) & (v <= h - side)
        at = v[ok] * w + u[ok]
        if box == ref:  # ``local`` is in the frame of ``box``: the frame's colours, made once
            colors = self._ref_colors(ref)[ok]
        else:  # a drag has moved the box off ``ref``
            pts = local[ok]
            colors = crop_colors((pts @ ref.rotation().T + np.asarray(ref.center) - np.asarray(box.center))
                                 @ box.rotation(), box.size)
        put_dots(canvas.array, at, colors.reshape(-1).view("V3"), side)  # whole pixels
        return canvas

    # ------------------------------------------------------------------ mouse
    def edges_at(self, pos: QPointF, ref: Cuboid, box: Cuboid) -> list[tuple[int, int]]:
        """Box faces (axis, sign) whose edge is under the pixel (two at a corner)."""
        u0, v0, u1, v1 = self._rect(ref, box)
        x, y = pos.x(), pos.y()
        within_u = u0 - PICK_PX <= x <= u1 + PICK_PX
        within_v = v0 - PICK_PX <= y <= v1 + PICK_PX
        edges = []
        if within_v and abs(x - u0) <= PICK_PX:
            edges.append((self.h_axis, -1))
        elif within_v and abs(x - u1) <= PICK_PX:
            edges.append((self.h_axis, +1))
        if within_u and abs(y - v0) <= PICK_PX:
            edges.append((self.v_axis, +1))
        elif within_u and abs(y - v1) <= PICK_PX:
            edges.append((self.v_axis, -1))
        return edges

    def mousePressEvent(self, ev) -> None:  # noqa: N802
        ann = self.annotation()
        if ann is None or ev.button() != Qt.MouseButton.LeftButton or self.data.index != self.session.frame:
            return
        ref = self._reference(ann)
        pos = ev.position()
        edges = self.edges_at(pos, ref, ann.box)
        u0, v0, u1, v1 = self._rect(ref, ann.box)
        if edges:
            self._drag = {"kind": "resize", "edges": edges, "uid": ann.uid, "base": ann.box, "start": pos}
        elif u0 <= pos.x() <= u1 and v0 <= pos.y() <= v1:
            self._drag = {"kind": "move", "uid": ann.uid, "base": ann.box, "start": pos}
        self.update()

    def mouseMoveEvent(self, ev) -> None:  # noqa: N802
        pos = ev.position()
        d = self._drag
        ann = self.annotation()
        if d is None:
            if ann is not None:
                edges = self.edges_at(pos, self._reference(ann), ann.box)
                horiz = any(a == self.h_axis for a, _ in edges)
                vert = any(a == self.v_axis for a, _ in edges)
                shape = (Qt.CursorShape.SizeFDiagCursor if horiz and vert else Qt.CursorShape.SizeHorCursor if horiz
                         else Qt.CursorShape.SizeVerCursor if vert else Qt.CursorShape.ArrowCursor)
                self.setCursor(shape)
            return
        delta = pos - d["start"]
        if abs(delta.x()) + abs(delta.y()) < DRAG_PX and "box" not in d:
            return
        if self.session.refuse_drag(d):   # a locked cuboid: said once, nothing dragged
            return
        base = d["base"]
        h, v = self.to_local_hv(pos)
        if d["kind"] == "resize":
            coords = {self.h_axis: h, self.v_axis: v}
            box = with_edges(base, {axis: (sign, coords[axis]) for axis, sign in d["edges"]})
        else:
            shift = np.zeros(3)
            shift[self.h_axis] = delta.x() / self.scale
            shift[self.v_axis] = -delta.y() / self.scale
            box = moved_local(base, shift)
        d["box"] = box
        self.session.set_preview(d["uid"], box)
        self.update()

    def mouseReleaseEvent(self, ev) -> None:  # noqa: N802
        d, self._drag = self._drag, None
        if d is None:
            return
        self.session.set_preview(d["uid"], None)
        box = d.get("box")
        if box is not None and box != d["base"]:
            Actions(self.session).apply_drag(edit_actions.set_box(self.session.document, d["uid"], box,
                                                                  "Resize" if d["kind"] == "resize" else "Move"))
        self.update()

    def wheelEvent(self, ev) -> None:  # noqa: N802
        """Zoom about the box's centre (not during a drag)."""
        steps = wheel_steps(ev)
        if steps:
            self._zoom_by(WHEEL_STEP ** steps, ev)

    def event(self, ev) -> bool:
        factor = pinch_factor(ev)   # a touchpad pinch zooms as the wheel does
        if factor is None:
            return super().event(ev)
        self._zoom_by(factor, ev)
        return True

    def _zoom_by(self, factor: float, ev) -> None:
        if self._drag is not None or self.annotation() is None:
            return
        zoom = min(max(self.zoom * factor, ZOOM_RANGE[0]), ZOOM_RANGE[1])
        self.scale *= zoom / self.zoom
        self.zoom = zoom
        self.update()
        ev.accept()

    def cancel_drag(self) -> bool:
        d, self._drag = self._drag, None
        if d is not None:
            self.session.set_preview(d["uid"], None)
            self.update()
        return d is not None and "box" in d


def caption_lines(name: str, dims: str, fm: QFontMetricsF, width: float) -> list[str]:
    """The caption of a side view in ``width`` pixels: ``name`` and ``dims`` on one line when they
    fit, else the name (elided) on a line above the dimensions, which are never cut (a narrow view
    on a laptop screen still shows the sizes one fits to)."""
    line = f"{name}   {dims}"
    if fm.horizontalAdvance(line) <= width:
        return [line]
    return [fm.elidedText(name, Qt.TextElideMode.ElideRight, width), dims]


class SideViews(QWidget):
    """The three side views in a row."""

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.views = {kind: SideView(session, kind) for kind in VIEW_AXES}
        for view in self.views.values():
            layout.addWidget(view)

    def set_frame_data(self, data: FrameData) -> None:
        for view in self.views.values():
            view.set_frame_data(data)

    def cancel_drag(self) -> bool:
        return any([v.cancel_drag() for v in self.views.values()])

    def dragging(self) -> bool:
        """A cuboid is being dragged in one of the views."""
        return any(v._drag is not None for v in self.views.values())
