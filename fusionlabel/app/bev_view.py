"""Bird's-eye view: the main drawing surface.

The sweep is rasterised with NumPy into an image the size of the widget (re-rasterised only when
the frame, the zoom/pan, the size or the colour mode changes); cuboids, handles and text are
painted on top with QPainter. Mouse: drag on empty ground creates a cuboid (press = centre, drag
direction = heading, size = the class default), drag inside moves, square handles resize, the
round knob rotates; right/middle drag or Ctrl+left drag pans (a touchpad has no middle button),
the wheel or a touchpad pinch zooms (:mod:`.touchpad`). A drag previews through the session
and ends in exactly one command. Alt+click, or a click with the one-click tool armed (G), asks for a
one-click box there (``one_click_requested``). Pre-labels (source ``model``) are drawn dashed and
unfilled, with their score; pre-labels the annotator edited but has not accepted dash-dotted with a
faint fill and "edited" after the score (:meth:`Session.prelabel_state`); unselected, either on a
thin dark line, as in the cameras (:func:`.qt_util.outline_pens`). A cuboid of a locked
class has a small padlock in its middle and the pointer over it is a "no" sign: a drag there is
refused (:meth:`Session.refuse_drag`).
"""

from __future__ import annotations

import math

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen, QPolygonF
from PyQt6.QtWidgets import QWidget

from ..geometry.cuboid import Cuboid
from ..model import edit_actions
from ..model.rig import ego_outline_in_lidar, forward_in_lidar
from .actions import Actions, create_command
from .bev_filter import cut_caption
from .bev_raster import BACKGROUND, BevGeometry, rasterise  # noqa: F401 - BACKGROUND: the view's empty ground
from .bev_start import AHEAD_M, SCALE_PX, start_view
from .box_edit import KNOB_PICK_PX, bev_handle_points, knob_radius_px, moved, resized_bev, rotated_to
from .frame_data import FrameData
from ..render.label_layout import (GAP, LABEL_NUDGES, NUDGED_LABELS_MAX, LabelRequest, place_ring_captions,
                                   place_view_labels, polygon_cover)
from .qt_util import (FOCUS_BACKGROUND, LABEL_BACKDROP, LABEL_PAD, NOTE_TEXT, RgbCanvas, annotation_color, box_label,
                      lock_mark_size, note_rect, outline_pens, paint_label_chip, paint_leader_lines, paint_note,
                      paint_padlock)
from .session import Session
from .start_fit import StartFit
from .sweep_stack import sweeps_caption
from .touchpad import pinch_factor, sideways_pixels, wheel_steps
from .label_findings import ghost_label
from .styles import (FAINT_OPACITY, FOCUS_CAPTION, GHOST_PX, GHOST_RGB, OUTLINE_OF_STATE, SELECTED_HALO_PX,
                     SELECTED_HALO_RGB, SELECTED_OUTLINE_PX)

HANDLE_PX = 5  # half size of a square handle
PICK_PX = 8  # how close (pixels) a click must be to a resize handle (the knob: box_edit.KNOB_PICK_PX)
DRAG_PX = 4  # a press that moves less than this is a click
RING_STEP = 10.0
HUD_LINE_PX = 15    # the caption's line spacing ...
HUD_ERROR_PX = 30   # ... and the room of each of the frame's errors under it
FOLLOW_MARGIN_PX = 16  # a selected centre closer than this to the view's edge counts as out of view
# The rings' distances: light grey (under the box labels in importance, which are in colour) on a
# chip dark enough to hide the dense points near the ego, a few pixels wider than the text.
RING_CAPTION = QColor(190, 190, 190)
RING_BACKDROP = QColor(0, 0, 0, 215)
RING_PAD = 3.0


SELECTED_HALO = QColor(*SELECTED_HALO_RGB)


class BevView(QWidget):
    """Top-down view of the displayed frame; the vehicle's forward (``forward``, a unit LiDAR xy
    direction from :func:`~fusionlabel.model.rig.forward_in_lidar`) points up, its left points left.
    ``center`` stays in LiDAR xy, so it is saved and restored whatever the rotation.

    ``one_click_requested(x, y, nan)``: the user asked for a one-click box at LiDAR (x, y)."""

    one_click_requested = pyqtSignal(float, float, float)
    raster_geometry_changed = pyqtSignal(object)  # BevGeometry (the loader draws the next frames for it)

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self._last_geometry: BevGeometry | None = None
        self.data: FrameData | None = None
        self.forward = np.array([1.0, 0.0])  # LiDAR xy direction drawn up
        self.left = np.array([0.0, 1.0])  # drawn to the left: forward turned 90 degrees counter-clockwise
        self.ego = ego_outline_in_lidar(None)  # (4, 2) LiDAR xy
        self._orient(session.rig())
        self.center = AHEAD_M * self.forward  # LiDAR xy at the widget centre
        self.scale = SCALE_PX  # pixels per metre
        self._start = StartFit()  # the first frame's boxes, fitted until the view is first moved
        self._raster_key = None
        self._canvas: RgbCanvas | None = None
        self._drag: dict | None = None
        self._new_box: Cuboid | None = None
        self._mouse = None  # last mouse position (QPointF)
        self.painted_frame: int | None = None  # the frame the last paint showed (benchmarks)
        self.ring_captions: dict[float, tuple] = {}  # ring radius (m) -> (x, y, w, h) of its drawn distance
        self.label_rects: dict[str, tuple] = {}  # uid -> (x, y, w, h) of each label the last paint drew
        self.knob_rects: list[tuple] = []  # (x, y, w, h) of each rotate knob the last paint drew
        self.box_rects: list[tuple] = []   # (x, y, w, h) around each cuboid's footprint the last paint drew
        self.leader_lines: dict = {}  # uid (None: a ghost's, a new box's) -> (box end, label end) of its leader line
        self.drawn_labels: list[tuple] = []      # every label it drew (a ghost's, a new box's too)
        self.selection_note: str | None = None  # "30 selected, 9 labelled" when selected labels were left out
        self.note_rect: tuple | None = None      # where that line is drawn
        self.covered: tuple | None = None  # (x, y, w, h) another widget hides (the message banner)
        self.hud_rect: tuple | None = None  # (x, y, w, h) of the caption lines the last paint drew
        self.picking = False  # a press in this view is selecting: the view does not follow it
        self.setMinimumSize(320, 240)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setCursor(Qt.CursorShape.CrossCursor)
        session.subscribe(self._on_session)

    # ------------------------------------------------------------------ model -> view
    @property
    def frame(self) -> int | None:
        return None if self.data is None else self.data.index

    def _orient(self, rig) -> None:
        """Turn the view so that the rig's forward is up (a rig of None: LiDAR +x)."""
        self.forward = np.array([1.0, 0.0]) if rig is None else forward_in_lidar(rig)
        self.left = np.array([-self.forward[1], self.forward[0]])
        self.ego = ego_outline_in_lidar(rig)

    def set_frame_data(self, data: FrameData) -> None:
        self.data = data
        if data.rig is not None:  # frames may have their own rig (KITTI object); keep the last good one
            self._orient(data.rig)
        self._raster_key = None
        self.cancel_drag()
        self.update()

    def _on_session(self, kind, payload) -> None:
        if kind == "layers" and payload == "color_mode":
            self._raster_key = None
        if kind == "tool":
            if self._mouse is not None:
                self._update_cursor(self._mouse)
            else:
                self.setCursor(Qt.CursorShape.PointingHandCursor if payload else Qt.CursorShape.CrossCursor)
        if kind == "reveal":
            self.reveal(payload)
        if kind == "ghost" and payload is not None:   # a missing box chosen in the checks: show it
            self.reveal_boxes([payload.box])
        if kind in ("document", "selection", "preview", "layers", "class", "tool", "ghost"):
            self.update()

    def set_covered(self, rect: tuple | None) -> None:
        """The part of the view (x, y, w, h) that a widget over it hides (the window's message
        banner), or None: box labels and ring captions are placed clear of it."""
        rect = None if rect is None else tuple(float(v) for v in rect)
        if rect != self.covered:
            self.covered = rect
            self.update()

    def annotations(self):
        """The cuboids drawn and picked (none of a hidden class, none while B hides them all)."""
        return [] if self.data is None else self.session.shown_annotations(self.data.index)

    # ------------------------------------------------------------------ coordinates
    def to_screen(self, xy: np.ndarray) -> np.ndarray:
        """(N, 2) LiDAR xy metres -> (N, 2) widget pixels (u right, v down): metres ahead of the
        centre (along ``forward``) go up, metres to its left go left."""
        d = np.atleast_2d(np.asarray(xy, float))[:, :2] - self.center
        u = self.width() / 2.0 - (d @ self.left) * self.scale
        v = self.height() / 2.0 - (d @ self.forward) * self.scale
        return np.column_stack([u, v])

    def to_world(self, pos: QPointF) -> np.ndarray:
        """Widget pixel -> LiDAR xy (2,); the inverse of :meth:`to_screen`."""
        ahead = -(pos.y() - self.height() / 2.0) / self.scale
        leftward = -(pos.x() - self.width() / 2.0) / self.scale
        return self.center + ahead * self.forward + leftward * self.left

    def zoom_at(self, pos: QPointF, factor: float) -> None:
        before = self.to_world(pos)
        self.scale = float(np.clip(self.scale * factor, 0.5, 400.0))
        self.center += before - self.to_world(pos)
        self._start.moved()
        self.update()

    def start_on(self, boxes) -> None:
        """Open the view on ``boxes`` (the first frame's cuboids) when they are all ahead of the ego
        and out of the usual view (:func:`.bev_start.start_view`); done at the first paint, when the
        view has its size, and again after each resize until the view is first zoomed or panned."""
        self._start.start(boxes)

    def _place_start(self) -> None:
        boxes = self._start.take()
        if boxes:
            self.center, self.scale = start_view(
                [b.center[:2] for b in boxes], np.vstack([b.corners()[:, :2] for b in boxes]), self.ego,
                self.forward, self.left, (self.width(), self.height()))

    def focus_on(self, xy, size: float | None = None) -> None:
        self.center = np.asarray(xy, float)[:2].copy()
        self._start.moved()
        if size:
            self.scale = float(np.clip(min(self.width(), self.height()) / (3.0 * size), 0.5, 400.0))
        self.update()

    def shows(self, xy, margin: float = 0.0) -> np.ndarray:
        """(N,) whether each LiDAR xy (N, 2) is drawn inside the view, ``margin`` pixels in from
        its edges."""
        uv = self.to_screen(xy)
        return ((uv[:, 0] >= margin) & (uv[:, 0] <= self.width() - margin)
                & (uv[:, 1] >= margin) & (uv[:, 1] <= self.height() - margin))

    def follow(self, centers_xy) -> int:
        """Keep a new selection in sight: when none of the selected cuboids' ``centers_xy`` (N, 2)
        is in view (:data:`FOLLOW_MARGIN_PX` in from the edges), pan (never zoom) to their middle.
        Returns how many of them are out of view after that."""
        xy = np.asarray(centers_xy, float).reshape(-1, 2)
        if len(xy) and not self.shows(xy, FOLLOW_MARGIN_PX).any():
            self.center = (xy.min(axis=0) + xy.max(axis=0)) / 2.0
            self._start.moved()
            self.update()
        return int((~self.shows(xy)).sum())

    def reveal(self, uids) -> None:
        """Pan (never zoom) so that the cuboids ``uids`` are in view (:meth:`reveal_boxes`)."""
        self.reveal_boxes([self.session.document.get(u).box for u in uids if u in self.session.document])

    def reveal_boxes(self, boxes) -> None:
        """Pan (never zoom) so that ``boxes`` are in view, centred on them, when any corner of
        their footprints is off screen; otherwise leave the view as it is."""
        if not boxes:
            return
        corners = np.vstack([b.corners()[:, :2] for b in boxes])
        if not self.shows(corners).all():
            self.center = (corners.min(axis=0) + corners.max(axis=0)) / 2.0
            self._start.moved()
            self.update()

    def create_position(self) -> tuple[float, float]:
        """Where the N key puts a new cuboid: the mouse if it is over the view, else the centre."""
        if self._mouse is not None and self.rect().contains(self._mouse.toPoint()):
            return tuple(self.to_world(self._mouse))
        return tuple(self.center)

    # ------------------------------------------------------------------ raster
    def raster_geometry(self) -> BevGeometry:
        """What the point raster depends on, as the view is now: in device pixels, so that the
        points are as sharp as the cuboids drawn over them on a high-DPI screen."""
        ratio = self.devicePixelRatioF()
        return BevGeometry(max(round(self.width() * ratio), 1), max(round(self.height() * ratio), 1),
                           tuple(float(c) for c in self.center), float(self.scale * ratio),
                           tuple(float(f) for f in self.forward), self.session.color_mode,
                           self.session.height_cut, self.session.sweeps, ratio)

    def raster(self) -> RgbCanvas:
        """The points drawn at the current zoom/pan, cached until any of those change (drawn by the
        loader thread when the view had this geometry when the frame was loaded)."""
        view = self.raster_geometry()
        # stacked sweeps are drawn once the loader has stacked them (never here: it takes 0.1 s or more)
        stacked = self.data is not None and self.data.has_stacked(view.sweeps)
        key = (id(self.data), view, stacked)
        if key == self._raster_key and self._canvas is not None:
            return self._canvas
        if view != self._last_geometry:
            self._last_geometry = view
            self.raster_geometry_changed.emit(view)
        image = rasterise(None, view) if self.data is None else self.data.bev_raster(view, wait=False)
        self._canvas, self._raster_key = RgbCanvas.wrap(image), key
        self._canvas.image.setDevicePixelRatio(view.pixel_ratio)
        return self._canvas

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._place_start()
        p = QPainter(self)
        p.drawImage(0, 0, self.raster().image)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        rings = self._paint_rings(p)
        self.knob_rects, self.box_rects = [], []   # filled as the cuboids are drawn
        labels: list[tuple] = []  # (priority, uid, footprint on screen, colour, text)
        anns = self.annotations()
        if anns:
            selected = set(self.session.selection)
            for ann in anns:
                if ann.uid not in selected:
                    labels += self._paint_box(p, ann, False)
            for ann in anns:
                if ann.uid in selected:
                    labels += self._paint_box(p, ann, True)
        labels += self._paint_ghost(p)
        if self._new_box is not None:
            color = annotation_color(self.session.ontology, self.session.current_class)
            poly = self._paint_cuboid(p, self._new_box, color, True, "dashed")
            if poly is not None:
                labels.append(((0, 0.0), None, poly, color, self.session.current_class))
        hud = self.hud_rect = self._paint_hud(p)
        covered = [hud] + ([self.covered] if self.covered is not None else [])
        self._paint_labels(p, labels, [*covered, *self.knob_rects])
        notes = [self.note_rect] if self.note_rect is not None else []
        self._paint_ring_captions(p, rings, [*covered, *self.knob_rects, *self.drawn_labels, *notes, *self.box_rects])
        p.end()
        self.painted_frame = self.frame

    def _paint_labels(self, p: QPainter, labels: list[tuple], obstacles: list[tuple]) -> None:
        """Draw the box labels decluttered (:func:`~fusionlabel.render.label_layout.place_view_labels`): the box being
        drawn's, else the first selected box's always, then the other selected ones', then the
        rest, each where it overlaps no label drawn before it and none of ``obstacles`` (the HUD,
        the message banner, the rotate knob) nor the first selected box's footprint as turned, with
        its handles (:func:`~fusionlabel.render.label_layout.polygon_cover`), all inside the view:
        beside its box, off the other boxes when there is room, else up to :data:`LABEL_NUDGES` lines further away with a thin leader line in the
        box's colour (as ``fusionlabel render`` does; not with more than :data:`NUDGED_LABELS_MAX`
        labels in view, zoomed far out, so that a paint stays cheap). When selected labels are left
        out (a crowd selected with Ctrl+A, zoomed out), a line at the bottom left says how many are labelled."""
        p.setFont(self.font())
        fm = QFontMetricsF(p.font())
        labels.sort(key=lambda item: item[0])
        extents = [(float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1]))
                   for lo, hi in ((poly.min(axis=0), poly.max(axis=0)) for _, _, poly, _, _ in labels)]
        selected = [prio[0] == 0 for prio, *_ in labels]
        first = self.session.selection[0] if self.session.selection else None
        primary = next((i for i, (prio, uid, *_) in enumerate(labels) if prio[0] == 0 and uid is None), None)
        if primary is None:
            primary = next((i for i, item in enumerate(labels) if item[1] == first and selected[i]), None)
        # the primary's footprint as turned, with room for its handles, is what the other labels keep
        # off: beside a box turned 45 degrees, not only outside its bounding rectangle
        cover = () if primary is None else polygon_cover(labels[primary][2], fm.height() / 2, HANDLE_PX + 1.0)
        requests = [LabelRequest(tuple(float(v) for v in poly[np.argmin(poly[:, 1])]),
                                 (fm.horizontalAdvance(text) + 2 * LABEL_PAD, fm.height()), avoid=box,
                                 footprint=cover if i == primary else ())
                    for i, ((_, _, poly, _, text), box) in enumerate(zip(labels, extents))]
        nudges = LABEL_NUDGES if len(requests) <= NUDGED_LABELS_MAX else 0
        boxes = [r for i, box in enumerate(extents) for r in (cover if i == primary else (box,))]
        n = sum(1 for (_, uid, *_), sel in zip(labels, selected) if sel and uid is not None)
        note = note_rect(fm, n, 4.0, self.height() - 4.0) if n > 1 else None   # drawn if labels are left out
        rects, hidden = place_view_labels(requests, selected, primary, (0.0, 0.0, float(self.width()), float(self.height())),
                                          obstacles + ([note] if note else []), nudges=nudges,
                                          boxes=boxes if nudges else (), leaders=bool(nudges))
        self.label_rects = {}
        self.drawn_labels = [rect for rect in rects if rect is not None]
        self.leader_lines = paint_leader_lines(
            p, [(uid, color, req.anchor, rect) for (_, uid, _, color, _), req, rect in zip(labels, requests, rects)],
            QRectF(self.rect()), obstacles)
        for (_, uid, _, color, text), rect in zip(labels, rects):
            if rect is None:
                continue
            paint_label_chip(p, QRectF(*rect), color, text)
            if uid is not None:
                self.label_rects[uid] = rect
        self.selection_note = NOTE_TEXT.format(n, n - hidden) if note and hidden else None
        self.note_rect = note if self.selection_note is not None else None
        if self.selection_note is not None:
            paint_note(p, note, self.selection_note)

    def _paint_rings(self, p: QPainter) -> list[float]:
        """The range rings around the ego and its outline; returns the rings' radii (m)."""
        o = self.to_screen(np.zeros((1, 2)))[0]
        p.setPen(QPen(QColor(60, 60, 60), 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        far = math.hypot(self.width(), self.height()) / self.scale + np.linalg.norm(self.center)
        step = RING_STEP if self.scale >= 2.0 else 5 * RING_STEP
        radii = np.arange(step, min(far, 300.0), step)
        for r in radii:
            p.drawEllipse(QPointF(*o), r * self.scale, r * self.scale)
        p.setPen(QPen(QColor(230, 230, 230), 1))
        p.drawPolygon(QPolygonF([QPointF(*q) for q in self.to_screen(self.ego)]))
        return [float(r) for r in radii]

    def ego_rect(self) -> tuple:
        """(x, y, w, h) on screen around the ego outline, a few pixels wide of it."""
        q = self.to_screen(self.ego)
        lo, hi = q.min(axis=0) - GAP, q.max(axis=0) + GAP
        return (float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1]))

    def _paint_ring_captions(self, p: QPainter, radii: list[float], taken: list[tuple]) -> None:
        """Each ring's distance next to where the ring crosses the vertical (else the horizontal)
        through the ego, inside the view, where it overlaps none of ``taken`` (box labels, the HUD,
        the knob, the cuboids' footprints) and not the ego outline (:func:`~fusionlabel.render.label_layout.place_ring_captions`); ``ring_captions`` keeps them."""
        o = self.to_screen(np.zeros((1, 2)))[0]
        fm = QFontMetricsF(p.font())
        p.setPen(QPen(RING_CAPTION))
        texts = [f"{int(r)} m" for r in radii]
        rects = place_ring_captions((float(o[0]), float(o[1])), [r * self.scale for r in radii],
                                    [(fm.horizontalAdvance(t) + 2 * RING_PAD, fm.height()) for t in texts],
                                    (0.0, 0.0, float(self.width()), float(self.height())), [*taken, self.ego_rect()])
        self.ring_captions = {}
        for r, text, rect in zip(radii, texts, rects):
            if rect is None:
                continue
            p.fillRect(QRectF(*rect), RING_BACKDROP)     # readable over dense points near the ego
            p.drawText(QRectF(*rect), Qt.AlignmentFlag.AlignCenter, text)
            self.ring_captions[r] = rect

    def _paint_ghost(self, p: QPainter) -> list[tuple]:
        """Where a track's missing box would be (:attr:`Session.ghost`, in this frame): its outline
        and heading line dotted, unfilled; returns its label, always placed, or [] out of view."""
        ghost = self.session.ghost
        if ghost is None or ghost.frame != self.frame:
            return []
        color = QColor(*GHOST_RGB)
        pen = QPen(color, float(GHOST_PX))
        pen.setStyle(Qt.PenStyle.DotLine)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        box = ghost.box
        poly = self.to_screen(box.bev_polygon())
        front = np.asarray(box.center[:2]) + 0.5 * box.length * np.array([math.cos(box.yaw), math.sin(box.yaw)])
        a, b = self.to_screen(np.array([box.center[:2], front]))
        p.drawPolygon(QPolygonF([QPointF(*q) for q in poly]))
        p.drawLine(QPointF(*a), QPointF(*b))
        lo, hi = poly.min(axis=0), poly.max(axis=0)
        if (hi < 0).any() or lo[0] > self.width() or lo[1] > self.height():
            return []
        self.box_rects.append((float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1])))
        return [((0, 0.0), None, poly, color, ghost_label(ghost))]

    def _paint_box(self, p: QPainter, ann, selected: bool) -> list[tuple]:
        """Draw one cuboid; returns its label to place, [(priority, uid, footprint, colour, text)], or []
        when labels are off or the box is out of view. Priority: the selected box, then boxes
        people made, imported or edited, then untouched pre-labels by score."""
        box = self.session.display_box(ann)
        color = annotation_color(self.session.ontology, ann.cls)
        state = self.session.prelabel_state(ann)
        locked = self.session.is_locked(ann)
        faint = self.session.is_faint(ann)
        p.setOpacity(FAINT_OPACITY if faint else 1.0)
        poly = self._paint_cuboid(p, box, color, selected, OUTLINE_OF_STATE[state], handles=not locked)
        p.setOpacity(1.0)
        size = lock_mark_size(min(box.length, box.width) * self.scale)
        if poly is not None and size is not None and locked:   # why a drag does nothing
            middle = self.to_screen(np.asarray(box.center[:2])[None])[0]
            paint_padlock(p, QPointF(*middle), size)
        if poly is None or faint or not self.session.layers.get("box_labels", True):
            return []
        if selected:
            prio = (0, 0.0)
        elif state == "untouched":
            prio = (2, -(ann.score if ann.score is not None else 0.0))
        else:
            prio = (1, 0.0)
        return [(prio, ann.uid, poly, color, box_label(ann, state))]

    def _paint_cuboid(self, p: QPainter, box: Cuboid, color: QColor, selected: bool,
                      outline: str = "solid", handles: bool = True) -> np.ndarray | None:
        """Draw a cuboid from above with an ``outline`` (styles.OUTLINE_OF_STATE: dashed and
        unfilled for an untouched pre-label, dash-dot with a faint fill for an edited one, either on
        a dark line unless ``selected``), and
        when it is ``selected`` its resize handles and rotate knob unless ``handles`` is False (a
        locked cuboid offers none); returns its footprint's corners on screen (4, 2) (its label goes
        at the top one), or None when it is out of view."""
        poly = self.to_screen(box.bev_polygon())
        c = np.asarray(box.center[:2])
        front = c + 0.5 * box.length * np.array([math.cos(box.yaw), math.sin(box.yaw)])
        a, b = self.to_screen(np.array([c, front]))
        if selected:  # a white halo, 2 px each side of the outline (as in the cameras and the 3D view)
            p.setPen(QPen(SELECTED_HALO, float(SELECTED_HALO_PX)))
            p.drawPolygon(QPolygonF([QPointF(*q) for q in poly]))
        width = float(SELECTED_OUTLINE_PX) if selected else 2.0 if outline == "dash-dot" else 1.6
        *under, pen = outline_pens(color, width, outline, selected)   # a pre-label's dashes on a dark line
        shape = QPolygonF([QPointF(*q) for q in poly])
        for dark in under:
            p.setPen(dark)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPolygon(shape)
            p.drawLine(QPointF(*a), QPointF(*b))
        p.setPen(pen)
        fill = QColor(color)
        alpha = {"dashed": (30, 0), "dash-dot": (45, 18)}.get(outline, (60, 25))
        fill.setAlpha(alpha[0] if selected else alpha[1])
        p.setBrush(QBrush(fill))
        p.drawPolygon(shape)
        p.drawLine(QPointF(*a), QPointF(*b))
        if selected and handles:
            points = {k: self.to_screen(v)[0] for k, v in self._active_handles(box).items()}
            p.setPen(QPen(QColor(255, 255, 255), 1))
            p.drawLine(QPointF(*b), QPointF(*points["rotate"]))
            p.setBrush(QBrush(color))
            for name, q in points.items():
                if name == "rotate":   # as large as a small box allows (hit() grabs it by the same size)
                    knob = knob_radius_px(box, self.scale)
                    p.drawEllipse(QPointF(*q), knob, knob)
                    r = knob + 1.0   # the knob and its pen
                    self.knob_rects.append((float(q[0]) - r, float(q[1]) - r, 2 * r, 2 * r))
                else:
                    p.drawRect(QRectF(q[0] - HANDLE_PX, q[1] - HANDLE_PX, 2 * HANDLE_PX, 2 * HANDLE_PX))
        lo, hi = poly.min(axis=0), poly.max(axis=0)
        if (hi < 0).any() or lo[0] > self.width() or lo[1] > self.height():
            return None
        self.box_rects.append((float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1])))
        return poly

    def _hud_lines(self) -> list[str]:
        """The caption's lines (the view's own, without the frame's errors); before the first
        frame is shown, the lines it will have then."""
        points = "…" if self.data is None else f"{len(self.data.points):,}"
        lines = [f"BEV  {points} points   colour: {self.session.color_mode}   new: {self.session.current_class}"]
        if self.session.read_only:
            lines.append("READ-ONLY")
        if self.session.focus:
            lines.append(FOCUS_CAPTION)
        if self.session.tool == "one_click":
            lines.append("ONE-CLICK: click an object (Esc cancels)")
        if self.data is not None and len(self.data.points) == 0:
            lines.append("no points in this frame")
        if self.data is not None:
            if self.session.height_cut is not None:
                lines.append(cut_caption(self.session.height_cut, self.data.ground_z()))
            if self.session.sweeps:
                lines.append(sweeps_caption(self.data, self.session.sweeps))
        return lines

    def caption_height(self) -> float:
        """How far down from the top the caption reaches (pixels), as :meth:`_paint_hud` draws it:
        the window's message banner goes below it."""
        errors = 0 if self.data is None else len(self.data.frame_errors()[:4])
        return HUD_LINE_PX * len(self._hud_lines()) + HUD_ERROR_PX * errors + 6.0

    def _paint_hud(self, p: QPainter) -> tuple[float, float, float, float]:
        """The caption lines at the top left; returns the rectangle they take (x, y, w, h)."""
        p.setPen(QPen(QColor(220, 220, 220)))
        p.setFont(QFont(p.font().family(), 9))
        if self.data is None:
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "loading…")
            return (0.0, 0.0, 0.0, 0.0)
        lines = self._hud_lines()
        fm = QFontMetricsF(p.font())
        y = 16
        for line in lines:   # HUD_LINE_PX apart, HUD_ERROR_PX for each error: see caption_height
            chip = QRectF(5, y - 12, fm.horizontalAdvance(line) + 6, 15)
            if line == FOCUS_CAPTION:   # marked, so that nobody forgets the other cuboids are faint
                p.fillRect(chip, FOCUS_BACKGROUND)
                p.setPen(QPen(QColor(0, 0, 0)))
                p.drawText(8, y, line)
                p.setPen(QPen(QColor(220, 220, 220)))
            else:   # on a dark chip: it reads over a bright cuboid under it too
                p.fillRect(chip, LABEL_BACKDROP)
                p.drawText(8, y, line)
            y += HUD_LINE_PX
        width = max(fm.horizontalAdvance(line) for line in lines) + 12
        errors = self.data.frame_errors()  # a camera's own problem shows in that camera
        if errors:
            p.setPen(QPen(QColor(255, 110, 90)))
            for err in errors[:4]:
                p.drawText(QRectF(8, y, self.width() - 16, 30),
                           Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap, err)
                y += HUD_ERROR_PX
            width = self.width()
        return (0.0, 0.0, float(width), float(y - 10))

    def _active_handles(self, box: Cuboid) -> dict[str, np.ndarray]:
        """Handles worth offering at this zoom: on a box smaller than a few handles on screen only
        the rotate knob (zoom in to resize), so that dragging it still moves it."""
        handles = bev_handle_points(box)
        if min(box.length, box.width) * self.scale < 6 * HANDLE_PX:
            return {"rotate": handles["rotate"]}
        return handles

    # ------------------------------------------------------------------ hit testing
    def hit(self, pos: QPointF):
        """What is under a pixel: ("rotate"|"handle", uid, name), ("box", uid) or None (always
        None while the cuboids are hidden with B: a drag there pans or creates as on empty ground)."""
        if not self.session.layers.get("boxes", True):
            return None
        anns = self.annotations()
        sel = self.session.selection
        q = np.array([pos.x(), pos.y()])
        if sel:
            for ann in anns:
                if ann.uid != sel[0]:
                    continue
                box = self.session.display_box(ann)
                for name, xy in self._active_handles(box).items():
                    reach = knob_radius_px(box, self.scale) + KNOB_PICK_PX if name == "rotate" else PICK_PX
                    if np.linalg.norm(self.to_screen(xy)[0] - q) <= reach:
                        return ("rotate", ann.uid, name) if name == "rotate" else ("handle", ann.uid, name)
        world = self.to_world(pos)
        inside = []
        for ann in anns:
            box = self.session.display_box(ann)
            d = world - np.asarray(box.center[:2])
            c, s = math.cos(box.yaw), math.sin(box.yaw)
            lx, ly = c * d[0] + s * d[1], -s * d[0] + c * d[1]
            if abs(lx) <= box.length / 2 and abs(ly) <= box.width / 2:
                inside.append((ann.uid not in sel, box.length * box.width, ann.uid))
        if inside:
            return ("box", min(inside)[2])
        return None

    # ------------------------------------------------------------------ mouse
    def mousePressEvent(self, ev) -> None:  # noqa: N802
        self.picking = True   # what a click here selects is under the mouse: no pan under a drag
        try:
            self._press(ev)
        finally:
            self.picking = False

    def _press(self, ev) -> None:
        pos = ev.position()
        self._mouse = pos
        if ev.button() in (Qt.MouseButton.RightButton, Qt.MouseButton.MiddleButton) or (
                ev.button() == Qt.MouseButton.LeftButton and ev.modifiers() & Qt.KeyboardModifier.ControlModifier):
            self._drag = {"kind": "pan", "start": pos, "center": self.center.copy()}
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if ev.button() != Qt.MouseButton.LeftButton or self.data is None:
            return
        if self.data.index != self.session.frame:  # the new frame is still loading
            return
        if ev.modifiers() & Qt.KeyboardModifier.AltModifier or self.session.tool == "one_click":
            x, y = self.to_world(pos)
            self.one_click_requested.emit(float(x), float(y), math.nan)
            return
        shift = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        hit = self.hit(pos)
        start = self.to_world(pos)
        if hit is None:
            self._drag = {"kind": "create", "start_px": pos, "start": start, "active": False}
            return
        uid = hit[1]
        base = self.session.document.get(uid).box
        if hit[0] == "rotate":
            self._drag = {"kind": "rotate", "uid": uid, "base": base, "start": start, "active": True}
        elif hit[0] == "handle":
            self._drag = {"kind": "resize", "uid": uid, "base": base, "handle": hit[2], "active": True}
        else:
            if shift:
                self.session.click_select(uid, toggle=True)
                return
            if uid not in self.session.selection:
                self.session.select((uid,))
            self._drag = {"kind": "move", "uid": uid, "base": base, "start": start, "start_px": pos,
                          "active": False}

    def mouseMoveEvent(self, ev) -> None:  # noqa: N802
        pos = ev.position()
        self._mouse = pos
        d = self._drag
        if d is None:
            self._update_cursor(pos)
            return
        if d["kind"] == "pan":
            delta = pos - d["start"]
            self.center = d["center"] + (delta.y() * self.forward + delta.x() * self.left) / self.scale
            self._start.moved()
            self.update()
            return
        if not d["active"]:
            moved_px = pos - d["start_px"]
            if abs(moved_px.x()) + abs(moved_px.y()) < DRAG_PX:
                return
            d["active"] = True
        if self.session.refuse_drag(d):   # a locked cuboid: said once, nothing dragged
            return
        world = self.to_world(pos)
        snap = math.radians(15.0) if ev.modifiers() & Qt.KeyboardModifier.ShiftModifier else None
        if d["kind"] == "create":
            delta = world - d["start"]
            yaw = math.atan2(delta[1], delta[0])
            d["command"] = create_command(self.session, d["start"], yaw, self._near(d["start"]))
            self._new_box = d["command"].label.box
            self.update()
            return
        base = d["base"]
        if d["kind"] == "move":
            box = moved(base, (*(world - d["start"]), 0.0))
        elif d["kind"] == "resize":
            box = resized_bev(base, d["handle"], world)
        else:
            box = rotated_to(base, d["start"], world, base.yaw, snap)
        d["box"] = box
        self.session.set_preview(d["uid"], box)

    def mouseReleaseEvent(self, ev) -> None:  # noqa: N802
        d, self._drag = self._drag, None
        self._update_cursor(ev.position())
        if d is None or d["kind"] == "pan":
            return
        if d["kind"] == "create":
            box, self._new_box = self._new_box, None
            if d["active"] and box is not None:
                Actions(self.session).apply_create(d["command"])
            elif not d["active"]:
                self.session.select(())
            self.update()
            return
        self.session.set_preview(d["uid"], None)
        box = d.get("box")
        if d["active"] and box is not None and box != d["base"]:
            description = {"move": "Move", "resize": "Resize", "rotate": "Rotate"}[d["kind"]]
            Actions(self.session).apply_drag(edit_actions.set_box(self.session.document, d["uid"], box, description))

    def dragging(self) -> bool:
        """A left-button drag (create, move, resize, rotate) is in progress; a pan is none."""
        return self._drag is not None and self._drag["kind"] != "pan"

    def cancel_drag(self) -> bool:
        """Drop a drag in progress (Esc); True when there was one."""
        d, self._drag = self._drag, None
        had = self._new_box is not None or (d is not None and d.get("active"))
        self._new_box = None
        if d is not None and "uid" in d:
            self.session.set_preview(d["uid"], None)
        self.update()
        return bool(had)

    def _near(self, xy) -> np.ndarray:
        """Points within 20 m of xy (for the ground height under a new cuboid)."""
        grid = self.data.grid
        return grid.points[grid.candidates(xy[0] - 20, xy[0] + 20, xy[1] - 20, xy[1] + 20)]

    def _update_cursor(self, pos: QPointF) -> None:
        if self.session.tool == "one_click":
            self.setCursor(Qt.CursorShape.PointingHandCursor)
            return
        hit = self.hit(pos) if self.data is not None else None
        shape = {None: Qt.CursorShape.CrossCursor, "box": Qt.CursorShape.SizeAllCursor,
                 "handle": Qt.CursorShape.SizeFDiagCursor, "rotate": Qt.CursorShape.PointingHandCursor}
        locked = hit is not None and self.session.is_locked(self.session.document.get(hit[1]))
        self.setCursor(Qt.CursorShape.ForbiddenCursor if locked else shape[hit[0] if hit else None])

    def wheelEvent(self, ev) -> None:  # noqa: N802
        """Up/down zooms about the cursor; sideways pans (the ground follows the fingers)."""
        steps = wheel_steps(ev)
        if steps:
            self.zoom_at(ev.position(), 1.2 ** steps)
        pan = sideways_pixels(ev)
        if pan:
            self.center = self.center + pan * self.left / self.scale
            self._start.moved()
            self.update()

    def event(self, ev) -> bool:
        factor = pinch_factor(ev)
        if factor is None:
            return super().event(ev)
        self.zoom_at(ev.position(), factor)
        ev.accept()
        return True

    def resizeEvent(self, ev) -> None:  # noqa: N802
        self._raster_key = None
        self._start.resized()   # the start fit, for the new size
        super().resizeEvent(ev)
