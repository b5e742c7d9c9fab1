"""The 3D perspective view (pyqtgraph.opengl): orbit / pan / zoom (the vertical scroll or a touchpad pinch), points coloured by height,
intensity or distance, cuboids with a heading marker, click to select.

It is a native QOpenGLWindow inside a container widget rather than a QOpenGLWidget: with a
QOpenGLWidget, Qt composes the whole main window through OpenGL on every repaint, which under
software rendering (Xvfb, VMs) made every BEV drag and frame change tens of milliseconds slower.
The window never takes keyboard focus, so the main window's shortcuts keep working. Pre-labels
(source ``model``) are drawn with dashed edges, pre-labels the annotator edited but has not
accepted with dash-dotted ones; selected cuboids are white, a pre-label still dashed. Where a track's
missing box would be (:attr:`Session.ghost`, a ``track-gap`` or ``track-end`` finding chosen in the
label checks) is a dotted magenta wireframe with its "missing?" label, as in the 2D views. It starts behind the vehicle looking forward
(:func:`~fusionlabel.model.rig.forward_in_lidar`), whichever way the LiDAR is turned about its z axis;
on a frame labelled only ahead (KITTI object), looking down on the labels from behind, as close as
keeps them all on screen (:meth:`View3D.start_on`). Alt+click, or a click with the one-click tool
armed (G), picks the LiDAR point under the mouse and asks for a one-click box there. Selected
cuboids are labelled like in the 2D views ("12 car 0.87"), centred on their top face just above the
box's outline and kept inside the view: a QPainter draws them over the GL scene at the end of paintGL.
The first selected cuboid's label is always drawn, the others' nearest to the eye first where they
cover no label already drawn; when some are left out (a crowd selected with Ctrl+A), a line at
the top left says how many are selected and labelled. A cuboid of a locked class carries the
padlock of the other views in its middle (:mod:`.styles`).
After an undo or redo it moves onto the cuboids the step touched when they are off screen, like the
bird's-eye view (the session's ``reveal`` event), and onto a new selection none of whose centres it
shows (:meth:`View3D.follow`, called by the window).

Needs an OpenGL context: :func:`fusionlabel.app.qt_util.opengl_available` decides whether the main
window creates it or shows a placeholder.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyqtgraph.opengl as gl
from PyQt6.QtCore import QPoint, QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFontMetricsF, QGuiApplication, QImage, QPainter, QPen
from PyQt6.QtOpenGL import QOpenGLWindow
from PyQt6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget
from pyqtgraph import Vector
from pyqtgraph.opengl.GLViewWidget import GLViewMixin

from ..geometry.cuboid import EDGES, FRONT_FACE
from ..model.edit_actions import selected_in_frame
from ..model.rig import forward_in_lidar
from .frame_data import FrameData
from ..render.label_layout import LabelRequest, place_labels
from .point_lod import point_budget, thinned_caption
from .qt_util import (LABEL_BACKDROP, LABEL_PAD, annotation_color, box_label, lock_mark_size, paint_label_chip,
                      paint_padlock)
from .session import Session
from .start_fit import StartFit
from .label_findings import ghost_label
from .styles import GHOST_PX, GHOST_RGB, OUTLINE_OF_STATE
from .sweep_stack import NOT_STACKED
from .touchpad import NOTCH_ANGLE, pinch_factor, sideways_pixels, wheel_steps

CLICK_PX = 4
POINT_PICK_PX = 6  # a one-click seed is the nearest-to-the-eye LiDAR point this close to the click
DASHES = 6  # dashes per edge of a pre-label
# The marks drawn in each of an edge's DASHES slots, as (start, end) fractions of the slot
DASH = ((0.0, 0.5),)                        # an untouched pre-label: dashed
DASH_DOT = ((0.0, 0.45), (0.62, 0.74))      # a pre-label the annotator edited: dash-dotted
PATTERNS = {"dashed": DASH, "dash-dot": DASH_DOT}   # by outline (styles.OUTLINE_OF_STATE); solid: none
DOTS = ((0.0, 0.2), (0.5, 0.7))             # a track's missing box (styles.GHOST_MARK): dotted
HEADING_EDGES = np.array([[FRONT_FACE[0], FRONT_FACE[2]], [FRONT_FACE[1], FRONT_FACE[3]]])
ALL_EDGES = np.concatenate([EDGES, HEADING_EDGES])
NOTE_COLOR = QColor(220, 220, 220)   # the "30 selected, 9 labelled" line
CAPTION_STYLE = "background: rgb(14, 14, 18); color: rgb(220, 220, 220); padding: 1px 4px;"
POINT_PX = 2.0   # a LiDAR point's size, in the view's (logical) pixels
# The cuboid outlines' widths in logical pixels: human, untouched pre-label, edited pre-label
# (a bit heavier: your work), selected. OpenGL takes both in device pixels: times the pixel ratio.
LINE_PX = {"lines": 1.5, "prelabel_lines": 1.5, "edited_lines": 2.2, "selected_lines": 3.0}
GRID_PX = 1.0   # the ground grid's line width, in logical pixels (times the pixel ratio too)
ELEVATION = 35.0   # degrees above the ground the usual view looks down from
# The start on a frame labelled only ahead (KITTI object): steeper, as close as keeps every label
# this far in from the edges, never nearer than this (a lone pedestrian keeps its surroundings).
START_ELEVATION = 55.0
START_MARGIN_PX = 24.0
START_MIN_DISTANCE = 15.0
MAX_DISTANCE = 1000.0


def box_segments(boxes, colors, pattern=None) -> tuple[np.ndarray, np.ndarray]:
    """Line-segment vertices (2 * 14 * B, 3) and RGBA colours for B cuboids (edges + front cross).
    ``pattern`` (:data:`DASH`, :data:`DASH_DOT`) cuts every edge into
    :data:`DASHES` slots holding those marks (2 * 14 * DASHES * len(pattern) * B vertices)."""
    if not boxes:
        return np.zeros((0, 3)), np.zeros((0, 4))
    corners = np.stack([b.corners() for b in boxes])  # (B, 8, 3)
    seg = corners[:, ALL_EDGES.reshape(-1)]  # (B, 28, 3)
    if pattern:
        a, b = seg[:, 0::2], seg[:, 1::2]  # (B, 14, 3) edge ends
        slots = np.arange(DASHES)[:, None, None] + np.asarray(pattern, float)[None]  # (DASHES, marks, 2)
        t = slots.reshape(-1, 2) / DASHES
        t0, t1 = t[None, None, :, 0, None], t[None, None, :, 1, None]
        starts = a[:, :, None] + t0 * (b - a)[:, :, None]
        ends = a[:, :, None] + t1 * (b - a)[:, :, None]  # (B, 14, DASHES * marks, 3)
        seg = np.stack([starts, ends], axis=3).reshape(len(boxes), -1, 3)
    rgba = np.repeat(np.asarray(colors, np.float32), seg.shape[1], axis=0)
    return seg.reshape(-1, 3), rgba


@lru_cache(maxsize=16)
def padlock_image(size: float, pixel_ratio: float = 1.0) -> QImage:
    """The padlock of :func:`.qt_util.paint_padlock` drawn into a transparent image (the OpenGL
    paint engine draws its strokes and alpha badly under software rendering; an image it draws
    as it is), in device pixels for a screen of ``pixel_ratio`` (its logical size is the same)."""
    side = int(np.ceil(size)) + 6
    image = QImage(round(side * pixel_ratio), round(side * pixel_ratio), QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(pixel_ratio)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    paint_padlock(p, QPointF(side / 2, side / 2), size)
    p.end()
    return image


class View3D(GLViewMixin, QOpenGLWindow):
    """Perspective view of the displayed frame (a QWindow; see :class:`View3DPanel`).

    ``one_click_requested(x, y, z)``: the user asked for a one-click box at this LiDAR point."""

    one_click_requested = pyqtSignal(float, float, float)
    points_caption_changed = pyqtSignal(str)  # "" when every point is drawn
    point_budget_changed = pyqtSignal(int)  # the loader thins the next frames for this budget

    def __init__(self, session: Session):
        super().__init__()
        self.setFlag(Qt.WindowType.WindowDoesNotAcceptFocus)
        self.session = session
        self.data: FrameData | None = None
        self.setBackgroundColor((14, 14, 18))
        # Start behind the vehicle (a little to its right), looking at a point 12 m ahead of it.
        rig = session.rig()
        forward = np.array([1.0, 0.0]) if rig is None else forward_in_lidar(rig)
        heading = float(np.degrees(np.arctan2(forward[1], forward[0])))
        self.setCameraPosition(distance=45.0, elevation=ELEVATION, azimuth=heading - 160.0)
        self.opts["center"] = Vector(12.0 * forward[0], 12.0 * forward[1], 0.0)
        self._forward = forward
        self._start = StartFit()  # the first frame's boxes, fitted until the view is first moved
        self.grid = gl.GLGridItem()
        self.grid.setSize(120, 120)
        self.grid.setSpacing(10, 10)
        self.grid.rotate(heading, 0, 0, 1)
        self.grid.translate(20.0 * forward[0], 20.0 * forward[1], -1.8)
        self.grid.lineplot.setData(width=GRID_PX)   # the grid's lines: one GLLinePlotItem
        self.addItem(self.grid)
        # The other sweeps stacked onto the frame (O), dimmer, under the frame's own points.
        self.stacked_scatter = gl.GLScatterPlotItem(pos=np.zeros((1, 3)), size=POINT_PX, pxMode=True,
                                                    color=np.zeros((1, 4), np.float32), glOptions="opaque")
        self.stacked_scatter.setVisible(False)
        self.addItem(self.stacked_scatter)
        self._stacked_key = None
        self.stacked_shown = 0  # how many stacked points the view draws
        self.scatter = gl.GLScatterPlotItem(pos=np.zeros((1, 3)), size=POINT_PX, pxMode=True,
                                            color=np.zeros((1, 4), np.float32), glOptions="opaque")
        self.addItem(self.scatter)
        for name, width in LINE_PX.items():
            item = gl.GLLinePlotItem(pos=np.zeros((2, 3)), mode="lines", width=width, antialias=True,
                                     color=np.zeros((2, 4), np.float32))
            setattr(self, name, item)
            self.addItem(item)
        # Where a track's missing box would be (Session.ghost): dotted magenta, as in the 2D views.
        self.ghost_lines = gl.GLLinePlotItem(pos=np.zeros((2, 3)), mode="lines", width=GHOST_PX, antialias=True,
                                             color=np.zeros((2, 4), np.float32))
        self.ghost_lines.setVisible(False)
        self.addItem(self.ghost_lines)
        self._pixel_ratio = 1.0  # the device pixel ratio the point sizes and line widths are set for
        self._press = None
        self._colors_key = None
        self._budget_said: int | None = None  # the point budget last given to point_budget_changed
        self.points_caption: str | None = None  # "1.2M of 3.0M pts shown" while the sweep is thinned
        self.shown_rows: np.ndarray | None = None  # the rows drawn while thinned (None: every point)
        self.painted_frame: int | None = None
        self.painted_size: tuple[int, int] | None = None  # (width, height) of the last paint
        self._labels: list[tuple] = []  # (uid, corners (8, 3), QColor, text) of the selected cuboids
        self._locked: list[tuple] = []  # (uid, corners (8, 3)) of the cuboids of a locked class
        self._ghost_label: list[tuple] = []  # (None, corners, QColor, text) of the ghost shown, if labelled
        self.label_rects: dict[str, tuple] = {}  # uid -> (x, y, w, h) of each label the last paint drew
        self.lock_marks: dict[str, tuple] = {}  # uid -> (x, y, size) of each padlock the last paint drew
        self.ghost_label_rect: tuple | None = None  # (x, y, w, h) of the "missing?" label the last paint drew
        self.selection_note: str | None = None  # "30 selected, 9 labelled" when labels were left out
        session.subscribe(self._on_session)

    def set_frame_data(self, data: FrameData) -> None:
        self.data = data
        self._update_points()
        self.update_stacked()
        self._update_boxes()

    def _on_session(self, kind, payload) -> None:
        if kind == "layers":
            if payload == "color_mode":
                self._update_points()
            if payload in ("color_mode", "sweeps"):
                self.update_stacked()
            self._update_boxes()
        elif kind == "ghost":
            if payload is not None:   # a missing box chosen in the checks: show it
                self.reveal_boxes([payload.box])
            self._update_boxes()
        elif kind in ("document", "selection", "preview"):
            if kind != "preview" and self.shown_rows is not None:
                self._update_points()  # the selected cuboids' points are never thinned away
            self._update_boxes()
        elif kind == "reveal":
            self.reveal(payload)
        elif kind == "tool":
            self.setCursor(Qt.CursorShape.PointingHandCursor if payload else Qt.CursorShape.ArrowCursor)

    def point_budget(self) -> int:
        """How many points this view draws before thinning (:func:`.point_lod.point_budget`), by
        its size in widget pixels: its points are as big on a high-DPI screen (:data:`POINT_PX`)."""
        return point_budget(self.width(), self.height())

    def selected_boxes(self) -> tuple:
        """The selected cuboids in the displayed frame, whose points are never thinned away (right
        after a frame change, before the selection has followed its tracks, their cuboids here)."""
        doc, boxes = self.session.document, []
        for uid in self.session.selection:
            ann = selected_in_frame(doc, uid, self.data.index)
            if ann is not None:
                boxes.append(ann.box)
        return tuple(boxes)

    def _update_points(self) -> None:
        """Upload the frame's points; with more points than the view has pixels, an even sample of
        that many plus every point near the selected cuboids (:mod:`.point_lod`), which the loader
        prepares with the frame for this budget (:meth:`.frame_data.FrameData.gl_sample`)."""
        if self.data is None:
            return
        n, budget = len(self.data.points), self.point_budget()
        if budget != self._budget_said:   # the loader thins the next frames for it
            self._budget_said = budget
            self.point_budget_changed.emit(budget)
        thin = n > budget
        key = (id(self.data), self.session.color_mode, budget if thin else None,
               self.selected_boxes() if thin else None)
        if key == self._colors_key:
            return
        if n == 0:
            self.scatter.setData(pos=np.zeros((1, 3)), color=np.zeros((1, 4), np.float32))
            self.shown_rows = None
        elif not thin:
            xyz, rgba = self.data.gl_points(self.session.color_mode)
            self.scatter.setData(pos=xyz, color=rgba)
            self.shown_rows = None
        else:
            rows, xyz, rgba = self.data.gl_sample(self.session.color_mode, budget, key[3])
            self.scatter.setData(pos=xyz, color=rgba)
            self.shown_rows = rows  # rows of data.points
        caption = None if self.shown_rows is None else thinned_caption(len(self.shown_rows), n)
        if caption != self.points_caption:
            self.points_caption = caption
            self.points_caption_changed.emit(caption or "")
        self._colors_key = key
        self.update()

    def update_stacked(self) -> None:
        """Upload the sweeps stacked onto the frame (:mod:`.sweep_stack`), an even sample of at
        most half the view's point budget (a software renderer's time grows with the points), or
        hide them while the loader stacks them (the window calls this again when they are ready)."""
        if self.data is None:
            return
        k, budget = self.session.sweeps, self.point_budget() // 2
        stacked = self.data.stacked(k, wait=False) if k else None   # the loader stacks them
        key = (id(self.data), self.session.color_mode, k, budget, stacked is NOT_STACKED)
        if key == self._stacked_key:
            return
        self._stacked_key = key
        if stacked is None or stacked is NOT_STACKED or len(stacked.points) == 0:
            self.stacked_scatter.setVisible(False)
            self.stacked_shown = 0
        else:
            step = -(-len(stacked.points) // budget)   # every step-th point: at most the budget
            rgba = np.ones((len(stacked.points[::step]), 4), np.float32)
            rgba[:, :3] = stacked.colors(self.session.color_mode)[::step] * np.float32(1.0 / 255.0)
            self.stacked_scatter.setData(pos=np.ascontiguousarray(stacked.points[::step, :3]), color=rgba)
            self.stacked_scatter.setVisible(True)
            self.stacked_shown = len(rgba)
        self.update()

    def start_on(self, boxes) -> None:
        """Open the view on ``boxes`` (the first frame's cuboids): when they are all ahead of the
        ego (a drive labelled only ahead, KITTI object), look down on them from behind, as close
        as keeps every one on screen; otherwise the usual view. Done at the first paint and after
        each resize until the view is first orbited or zoomed (:class:`.start_fit.StartFit`)."""
        self._start.start(boxes)

    def _place_start(self) -> None:
        boxes = self._start.take()
        if not boxes or self.width() <= 0 or self.height() <= 0:
            return
        forward = self._forward
        self.opts["center"], self.opts["distance"] = Vector(12.0 * forward[0], 12.0 * forward[1], 0.0), 45.0
        self.opts["elevation"] = ELEVATION
        if min(float(np.asarray(b.center)[:2] @ forward) for b in boxes) <= 0.0:
            return   # labelled behind the ego too (all around): the usual view
        corners = np.vstack([b.corners() for b in boxes])
        self.opts["elevation"] = START_ELEVATION
        self.opts["center"] = Vector(*((corners.min(axis=0) + corners.max(axis=0)) / 2.0))
        for _ in range(3):   # nearer labels look bigger: centre their picture, then fit it again
            self._fit_distance(corners)
            self._centre_on(corners)
        self._fit_distance(corners)

    def _fit_distance(self, xyz: np.ndarray) -> None:
        """Back the eye off (or bring it in, not nearer than START_MIN_DISTANCE) until the points
        ``xyz`` (N, 3) are all on screen, START_MARGIN_PX in from the edges."""
        w, h = self.width(), self.height()
        margin = min(START_MARGIN_PX, w / 4.0, h / 4.0)

        def inside(distance: float) -> bool:
            self.opts["distance"] = distance
            uv, front = self.screen_points(xyz)
            return bool(front.all() and (uv >= margin).all() and (uv[:, 0] <= w - margin).all()
                        and (uv[:, 1] <= h - margin).all())

        near = far = START_MIN_DISTANCE
        if inside(near):
            return
        while far < MAX_DISTANCE and not inside(far):
            near, far = far, far * 2.0
        for _ in range(16):   # to a few centimetres
            mid = (near + far) / 2.0
            near, far = (near, mid) if inside(mid) else (mid, far)
        self.opts["distance"] = far

    def _centre_on(self, xyz: np.ndarray) -> None:
        """Orbit the point, level with the one the view orbits now, that is drawn in the middle of
        the points ``xyz`` (N, 3) on screen: they are then centred on screen."""
        uv, _ = self.screen_points(xyz)
        u, v = (uv.min(axis=0) + uv.max(axis=0)) / 2.0
        ndc_x, ndc_y = 2.0 * u / self.width() - 1.0, 1.0 - 2.0 * v / self.height()
        ray = np.array([[ndc_x, ndc_y, -1.0, 1.0], [ndc_x, ndc_y, 1.0, 1.0]]) @ np.linalg.inv(self._clip_matrix()).T
        near, far = ray[0, :3] / ray[0, 3], ray[1, :3] / ray[1, 3]
        z = self.opts["center"].z()
        if abs(far[2] - near[2]) < 1e-9:
            return
        point = near + (z - near[2]) / (far[2] - near[2]) * (far - near)
        self.opts["center"] = Vector(float(point[0]), float(point[1]), z)

    def resizeGL(self, w: int, h: int) -> None:  # noqa: N802
        super().resizeGL(w, h)
        self._start.resized()   # the start fit, for the new size
        self._fit_pixel_ratio()
        self._update_points()  # the budget follows the view's size
        self.update_stacked()
        self.update()   # drawn again at the new size: shrinking a window sends X no expose event

    def _update_boxes(self) -> None:
        if self.data is None:
            return
        anns = self.session.shown_annotations(self.data.index)
        selected = set(self.session.selection)
        onto = self.session.ontology
        outlines = {a.uid: OUTLINE_OF_STATE[self.session.prelabel_state(a)] for a in anns}
        chosen = [a for a in anns if a.uid in selected]

        def color(a):
            spec = onto.classes.get(a.cls)
            c = spec.color if spec is not None else (200, 200, 200)
            return (c[0] / 255, c[1] / 255, c[2] / 255, 1.0)

        def segments(group, override, pattern):
            return box_segments([self.session.display_box(a) for a in group],
                                [override or color(a) for a in group], pattern=pattern)

        items = {"solid": self.lines, "dashed": self.prelabel_lines, "dash-dot": self.edited_lines}
        drawn = [(item, segments([a for a in anns if a.uid not in selected and outlines[a.uid] == name], None,
                                 PATTERNS.get(name))) for name, item in items.items()]
        # The selection in white, each cuboid with its own outline: a selected pre-label stays dashed.
        marks = [segments([a for a in chosen if outlines[a.uid] == name], (1, 1, 1, 1), PATTERNS.get(name))
                 for name in items]
        drawn.append((self.selected_lines, tuple(np.concatenate(parts) for parts in zip(*marks))))
        for item, (pos, rgba) in drawn:
            if len(pos):
                item.setData(pos=pos, color=rgba)
            else:
                item.setData(pos=np.zeros((2, 3)), color=np.zeros((2, 4), np.float32))  # nothing to draw
        labelled = chosen if self.session.layers.get("box_labels", True) else []
        primary = self.session.selection[0] if self.session.selection else None
        labelled.sort(key=lambda a: a.uid != primary)   # the first selected first: always labelled
        self._labels = [(a.uid, self.session.display_box(a).corners(), annotation_color(onto, a.cls),
                         box_label(a, self.session.prelabel_state(a))) for a in labelled]
        self._locked = [(a.uid, self.session.display_box(a).corners()) for a in anns if self.session.is_locked(a)]
        self._update_ghost()
        self.update()

    def _update_ghost(self) -> None:
        """The outline of :attr:`Session.ghost` when it is in the frame shown, dotted magenta (its
        label with the selected cuboids' ones, after them); hidden otherwise."""
        ghost = self.session.ghost
        shown = ghost is not None and ghost.frame == self.data.index
        self.ghost_lines.setVisible(shown)
        self._ghost_label = []
        if not shown:
            return
        rgba = tuple(c / 255 for c in GHOST_RGB) + (1.0,)
        pos, colors = box_segments([ghost.box], [rgba], pattern=DOTS)
        self.ghost_lines.setData(pos=pos, color=colors)
        if self.session.layers.get("box_labels", True):
            self._ghost_label = [(None, ghost.box.corners(), QColor(*GHOST_RGB), ghost_label(ghost))]

    def devicePixelRatioF(self) -> float:  # noqa: N802 - what GLViewMixin expects of a widget
        return float(self.devicePixelRatio())

    def _fit_pixel_ratio(self) -> None:
        """Point sizes and line widths (outlines, ground grid) for the screen's device pixel ratio: GL draws them in device
        pixels, so on a 200 % screen they would be half as big as the rest of the window."""
        ratio = self.devicePixelRatioF()
        if ratio == self._pixel_ratio:
            return
        self._pixel_ratio = ratio
        for item in (self.scatter, self.stacked_scatter):
            item.setData(size=POINT_PX * ratio)
        for name, width in LINE_PX.items():
            getattr(self, name).setData(width=width * ratio)
        self.ghost_lines.setData(width=GHOST_PX * ratio)
        self.grid.lineplot.setData(width=GRID_PX * ratio)

    def paintGL(self) -> None:  # noqa: N802
        self._fit_pixel_ratio()   # the window may have moved to a screen of another scale
        self._place_start()
        super().paintGL()
        self._paint_overlay()
        self.painted_frame = None if self.data is None else self.data.index
        self.painted_size = (self.width(), self.height())

    def _paint_overlay(self) -> None:
        """Padlocks on the cuboids of locked classes and labels on the selected ones, over the GL
        content (no QPainter at all when there is neither)."""
        self.label_rects, self.lock_marks, self.ghost_label_rect = {}, {}, None
        font = QGuiApplication.font()
        fm = QFontMetricsF(font)
        locks = self._place_locks()
        note = self._selection_note(fm)
        labels = self._place_labels(fm, [] if note is None else [note[1]])
        n_labelled = sum(uid is not None for uid, *_ in labels)
        self.selection_note = None if note is None or n_labelled == len(self._labels) else \
            note[0].format(n_labelled)
        if not labels and not locks:
            return
        p = QPainter(self)
        p.setFont(font)
        for uid, (x, y, size) in locks.items():
            image = padlock_image(size, self.devicePixelRatioF())
            half = image.deviceIndependentSize() / 2
            p.drawImage(QPointF(x - half.width(), y - half.height()), image)
        self.lock_marks = locks
        for uid, color, text, rect in labels:
            paint_label_chip(p, QRectF(*rect), color, text)
            if uid is not None:
                self.label_rects[uid] = rect
            else:
                self.ghost_label_rect = rect
        if self.selection_note is not None:
            r = QRectF(*note[1])
            p.fillRect(r, LABEL_BACKDROP)
            p.setPen(QPen(NOTE_COLOR))
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, self.selection_note)
        p.end()

    def _selection_note(self, fm: QFontMetricsF) -> tuple[str, tuple] | None:
        """The "N selected" line at the top left and its rectangle, kept free for it while several
        cuboids are labelled (it is drawn only when some of their labels are left out)."""
        if len(self._labels) < 2:
            return None
        text = f"{len(self._labels)} selected, {{}} labelled"
        width = fm.horizontalAdvance(text.format(len(self._labels))) + 2 * LABEL_PAD
        return text, (4.0, 4.0, width, fm.height())

    def _place_locks(self) -> dict[str, tuple]:
        """uid -> (x, y, size) of the padlock in the middle of each cuboid of a locked class seen
        whole in front of the eye, centre on screen, big enough to hold it (:func:`.lock_mark_size`)."""
        if not self._locked:
            return {}
        w, h = self.width(), self.height()
        corners = np.stack([c for _, c in self._locked])  # (K, 8, 3)
        n = len(corners)
        uv, front = self.screen_points(np.concatenate([corners.reshape(-1, 3), corners.mean(axis=1)]))
        mids, front_mid = uv[8 * n:], front[8 * n:]
        uv, front = uv[: 8 * n].reshape(n, 8, 2), front[: 8 * n].reshape(n, 8)
        out = {}
        for i, (uid, _) in enumerate(self._locked):
            x, y = mids[i]
            if not (front[i].all() and front_mid[i] and 0 <= x < w and 0 <= y < h):
                continue
            size = lock_mark_size(float(min(uv[i].max(axis=0) - uv[i].min(axis=0))))
            if size is not None:
                out[uid] = (float(x), float(y), size)
        return out

    def _place_labels(self, fm: QFontMetricsF, obstacles: list[tuple] = ()) -> list[tuple]:
        """Where the selected cuboids' labels go: [(uid, colour, text, rect)] (none without a
        selection), and the ghost's (uid None). The first selected cuboid's label and the ghost's
        are always drawn; the others', nearest to the eye first, only where they overlap no label
        placed before them and no obstacle."""
        entries = self._labels + self._ghost_label
        if not entries:
            return []
        w, h = self.width(), self.height()
        corners = np.stack([c for _, c, _, _ in entries])  # (L, 8, 3)
        n = len(corners)
        uv, front = self.screen_points(np.concatenate([corners.reshape(-1, 3), corners[:, 4:].mean(axis=1)]))
        mids = uv[8 * n:]  # the middles of the top faces
        uv, front = uv[: 8 * n].reshape(n, 8, 2), front[: 8 * n].reshape(n, 8)
        on_screen = front & (uv[..., 0] >= 0) & (uv[..., 0] < w) & (uv[..., 1] >= 0) & (uv[..., 1] < h)
        eye = np.asarray(self.cameraPosition(), float)
        distance = np.linalg.norm(corners.mean(axis=1) - eye, axis=1)
        forced = [i == 0 or entries[i][0] is None for i in range(n)]   # entries[0]: the first selected
        shown = sorted((i for i in range(n) if front[i].all() and on_screen[i].any()),
                       key=lambda i: (not forced[i], distance[i]))
        # Anchor: above the top-face middle, level with the highest corner on screen.
        requests = [LabelRequest((float(mids[i, 0]), float(uv[i, :, 1].min())),
                                 (fm.horizontalAdvance(entries[i][3]) + 2 * LABEL_PAD, fm.height()),
                                 forced=forced[i], centred=True) for i in shown]
        rects = place_labels(requests, (0.0, 0.0, float(w), float(h)), list(obstacles)) if shown else []
        return [(entries[i][0], entries[i][2], entries[i][3], rect)
                for i, rect in zip(shown, rects) if rect is not None]

    # ------------------------------------------------------------------ picking
    def _clip_matrix(self) -> np.ndarray:
        """(4, 4) LiDAR point (homogeneous) -> clip coordinates, as the view draws now."""
        w, h = self.width(), self.height()
        m = self.projectionMatrix((0, 0, w, h), (0, 0, w, h)) * self.viewMatrix()
        return np.array(m.data(), float).reshape(4, 4).T  # QMatrix4x4.data() is column-major

    def screen_points(self, xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 3) LiDAR points -> (N, 2) widget pixels and (N,) bool "in front of the camera"."""
        w, h = self.width(), self.height()
        hom = np.column_stack([xyz, np.ones(len(xyz))]) @ self._clip_matrix().T
        front = hom[:, 3] > 1e-6
        ndc = hom[:, :3] / np.where(front, hom[:, 3], 1.0)[:, None]
        u = (ndc[:, 0] + 1.0) / 2.0 * w
        v = (1.0 - ndc[:, 1]) / 2.0 * h
        return np.column_stack([u, v]), front

    def pick(self, x: float, y: float) -> str | None:
        """uid of the nearest cuboid whose screen outline contains the pixel (None while the
        cuboids are hidden, and none of a hidden class)."""
        import cv2

        if self.data is None:
            return None
        cam = np.asarray(self.cameraPosition())
        hits = []
        for ann in self.session.shown_annotations(self.data.index):
            box = self.session.display_box(ann)
            uv, front = self.screen_points(box.corners())
            if not front.all():
                continue
            hull = cv2.convexHull(uv.astype(np.float32))
            if cv2.pointPolygonTest(hull, (float(x), float(y)), False) >= 0:
                hits.append((float(np.linalg.norm(np.asarray(box.center) - cam)), ann.uid))
        return min(hits)[1] if hits else None

    def pick_point(self, x: float, y: float) -> np.ndarray | None:
        """The LiDAR point (3,) nearest the eye among those drawn within POINT_PICK_PX of the pixel."""
        if self.data is None or len(self.data.points) == 0:
            return None
        xyz = self.data.points[:, :3] if self.shown_rows is None else self.data.points[self.shown_rows, :3]
        uv, front = self.screen_points(xyz)
        near = front & (np.abs(uv[:, 0] - x) <= POINT_PICK_PX) & (np.abs(uv[:, 1] - y) <= POINT_PICK_PX)
        near &= np.hypot(uv[:, 0] - x, uv[:, 1] - y) <= POINT_PICK_PX
        if not near.any():
            return None
        idx = np.flatnonzero(near)
        eye = np.asarray(self.cameraPosition(), float)
        return np.asarray(xyz[idx[np.argmin(np.linalg.norm(xyz[idx] - eye, axis=1))]], float)

    def mousePressEvent(self, ev) -> None:  # noqa: N802
        self._press = ev.position()
        self._start.moved()
        super().mousePressEvent(ev)

    def mouseReleaseEvent(self, ev) -> None:  # noqa: N802
        start, self._press = self._press, None
        super().mouseReleaseEvent(ev)
        if start is None or ev.button() != Qt.MouseButton.LeftButton:
            return
        d = ev.position() - start
        if abs(d.x()) + abs(d.y()) > CLICK_PX:
            return  # it was an orbit
        if ev.modifiers() & Qt.KeyboardModifier.AltModifier or self.session.tool == "one_click":
            seed = self.pick_point(ev.position().x(), ev.position().y())
            if seed is None:
                self.session.notify("one-click: no LiDAR point under the mouse")
            else:
                self.one_click_requested.emit(*(float(v) for v in seed))
            return
        uid = self.pick(ev.position().x(), ev.position().y())
        self.session.click_select(uid, toggle=bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier))

    def wheelEvent(self, ev) -> None:  # noqa: N802
        """Zoom (Ctrl: field of view) by the vertical scroll, as pyqtgraph per angle unit; a
        sideways scroll pans as a middle drag does, the scene following the fingers. (pyqtgraph's
        own handler takes a sideways scroll first, so a touchpad's sideways drift zoomed instead.)"""
        self._start.moved()
        factor = 0.999 ** -(wheel_steps(ev) * NOTCH_ANGLE)
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.opts["fov"] /= factor
            self.update()
        else:
            self._zoom(factor)
        pan = sideways_pixels(ev)
        if pan:
            self.pan(pan, 0, 0, relative="view-upright")
            self.update()
        ev.accept()

    def event(self, ev) -> bool:
        factor = pinch_factor(ev)   # a touchpad pinch zooms towards the centre of the view
        if factor is None:
            return super().event(ev)
        self._zoom(factor)
        ev.accept()
        return True

    def _zoom(self, factor: float) -> None:
        self.opts["distance"] /= factor
        self._start.moved()
        self.update()

    def focus_on(self, xyz) -> None:
        self.opts["center"] = Vector(float(xyz[0]), float(xyz[1]), float(xyz[2]))
        self._start.moved()
        self.update()

    def shows(self, xyz) -> np.ndarray:
        """(N,) whether each LiDAR point (N, 3) is in front of the eye and inside the view."""
        uv, front = self.screen_points(np.asarray(xyz, float).reshape(-1, 3))
        return front & (uv[:, 0] >= 0) & (uv[:, 0] <= self.width()) & (uv[:, 1] >= 0) & (uv[:, 1] <= self.height())

    def follow(self, centers) -> None:
        """Keep a new selection in sight, like the bird's-eye view: when none of the selected
        cuboids' ``centers`` (N, 3) is on screen, move the point the view orbits (and the eye with
        it) to their middle, without turning or zooming."""
        xyz = np.asarray(centers, float).reshape(-1, 3)
        if len(xyz) and not self.shows(xyz).any():
            self.focus_on((xyz.min(axis=0) + xyz.max(axis=0)) / 2.0)

    def reveal(self, uids) -> None:
        """Follow an undo or redo like the bird's-eye view: when any corner of the cuboids ``uids``
        is off screen or behind the eye, move the point the view orbits (and the eye with it) to
        their middle, without turning or zooming; otherwise leave the view as it is."""
        self.reveal_boxes([self.session.document.get(u).box for u in uids if u in self.session.document])

    def reveal_boxes(self, boxes) -> None:
        """:meth:`reveal` for cuboids that are not in the document (a missing box's outline)."""
        if not boxes:
            return
        corners = np.vstack([b.corners() for b in boxes])
        if not self.shows(corners).all():
            self.focus_on((corners.min(axis=0) + corners.max(axis=0)) / 2.0)


class View3DPanel(QWidget):
    """The container widget that holds a :class:`View3D` window in the layout."""

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.view = View3D(session)
        self.container = QWidget.createWindowContainer(self.view, self)
        self.container.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.container.setMinimumSize(200, 150)
        self.container.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        # Above the view (a QPainter caption inside the GL window costs a software renderer tens of
        # milliseconds a frame): how many points are drawn, shown only while the sweep is thinned.
        self.caption = QLabel()
        self.caption.setStyleSheet(CAPTION_STYLE)
        self.caption.hide()
        self.view.points_caption_changed.connect(self._set_caption)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.caption)
        layout.addWidget(self.container)

    def _set_caption(self, text: str) -> None:
        self.caption.setText(f"3D  {text}")
        self.caption.setVisible(bool(text))

    def grab_image(self) -> QImage:
        """What the 3D view shows, as an image. Rendered afresh into the back buffer and read
        before any swap (QOpenGLWindow.grabFramebuffer alone reads whatever the buffer holds)."""
        view = self.view
        view.makeCurrent()
        view.paintGL()
        image = view.grabFramebuffer()
        view.doneCurrent()
        return image

    def offset_in(self, widget: QWidget) -> QPoint:
        return self.container.mapTo(widget, QPoint(0, 0))
