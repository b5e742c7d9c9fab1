"""Locked classes beyond the edit keys: undo and redo are refused like edits, locked cuboids are
marked in every drawing view, the model keys say when locked cuboids are why nothing changed,
and Tab on a focused choice or tick box selects no other cuboid."""

from __future__ import annotations

import os
import sqlite3

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import Qt  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

from fusionlabel.app import testing  # noqa: E402

pytestmark = pytest.mark.gui
NO, CTRL, SHIFT = Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


def key(qtbot, window, k, modifier=NO):
    qtbot.keyClick(QApplication.focusWidget() or window.bev, k, modifier)


def saved(project) -> tuple:
    """(every cuboid row, history rows) as the database holds them (another connection)."""
    con = sqlite3.connect(project.folder / "project.sqlite")
    try:
        return (con.execute("SELECT * FROM annotations ORDER BY uid").fetchall(),
                con.execute("SELECT * FROM history").fetchall())
    finally:
        con.close()


def lock(window, cls: str, on: bool = True) -> None:
    action = window.class_flag_actions[("locked", cls)]
    if action.isChecked() != on:
        action.trigger()


# ------------------------------------------------------------------ undo and redo
def test_undo_and_redo_of_a_locked_cuboid_are_refused_like_edits(qtbot, window, project):
    s = window.session
    car = next(a for a in s.annotations() if a.cls == "car")
    other = next(a for a in s.annotations() if a.cls != "car")
    s.select((car.uid,))
    key(qtbot, window, Qt.Key.Key_Up)
    moved = s.document.get(car.uid).box
    assert moved != car.box and s.document.undo_text().startswith("Nudge")
    s.select((other.uid,))
    key(qtbot, window, Qt.Key.Key_Up)                                # a step of another class on top
    lock(window, "car")
    key(qtbot, window, Qt.Key.Key_Z, CTRL)                           # undoes the other one: allowed
    assert s.document.get(other.uid).box == other.box and s.messages[-1].level == "info"
    before, undo_text = saved(project), s.document.undo_text()
    n = len(s.messages)
    key(qtbot, window, Qt.Key.Key_Z, CTRL)                           # would move the locked car back
    assert s.document.get(car.uid).box == moved
    assert s.document.undo_text() == undo_text and s.document.redo_text().startswith("Nudge")
    assert saved(project) == before
    refusal = s.messages[n:]
    assert [m.level for m in refusal] == ["warning"]
    assert refusal[0].text.startswith(f"Undo {undo_text} refused: it would change 1 locked car cuboid")
    assert window.undo_action.text() == f"Undo {undo_text}"
    lock(window, "car", False)
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert s.document.get(car.uid).box == car.box
    lock(window, "car")
    before = saved(project)
    key(qtbot, window, Qt.Key.Key_Z, CTRL | SHIFT)                   # redo would move it again
    assert s.document.get(car.uid).box == car.box and saved(project) == before
    assert s.messages[-1].text.startswith(f"Redo {undo_text} refused: it would change 1 locked car cuboid")
    assert s.document.redo_text() == undo_text


def test_undoing_a_delete_brings_a_locked_cuboid_back(qtbot, window):
    """A cuboid an undo brings back is a new cuboid, which a lock allows, like a new one."""
    s = window.session
    car = next(a for a in s.annotations() if a.cls == "car")
    s.select((car.uid,))
    key(qtbot, window, Qt.Key.Key_Delete)
    assert car.uid not in s.document
    lock(window, "car")
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert s.document.get(car.uid) == car
    key(qtbot, window, Qt.Key.Key_Z, CTRL | SHIFT)                   # the delete again: refused
    assert s.document.get(car.uid) == car and "Redo Delete" in s.messages[-1].text


# ------------------------------------------------------------------ the session's helpers
def test_session_setting_reads_saved_settings_and_falls_back(project):
    from fusionlabel.app.session import Session

    s = Session(project)
    assert s.setting("no such setting", 7) == 7 and s.setting("no such setting") is None
    s.save_setting("prelabel_min_score", 0.3)
    assert s.setting("prelabel_min_score", 0.5) == 0.3
    project.close()                                              # an unreadable store: the default, no error
    assert s.setting("prelabel_min_score", 0.5) == 0.5


def test_refuse_drag_says_it_once_per_drag(project):
    from fusionlabel.app.session import Session

    s = Session(project)
    car = next(a for a in s.annotations() if a.cls == "car")
    other = next(a for a in s.annotations() if a.cls != "car")
    s.set_class_locked("car", True)
    n = len(s.messages)
    drag = {"kind": "rotate", "uid": car.uid}
    assert s.refuse_drag(drag) and s.refuse_drag(drag) and drag["refused"] is True
    assert [m.text.split(":")[0] for m in s.messages[n:]] == ["Rotate refused"]
    assert not s.refuse_drag({"kind": "move", "uid": other.uid}) and len(s.messages) == n + 1
    assert not s.refuse_drag({"kind": "create"})                 # a new cuboid: never refused


# ------------------------------------------------------------------ model keys that keep locked cuboids
class TruthDetector:
    """Detections = the drive's labels moved by ``dx`` metres, scored 0.9."""

    name = "truth"

    def __init__(self, dx: float = 0.1):
        self.dx = dx

    def detect_frame(self, drive, index):
        from fusionlabel.model.annotation import CuboidLabel

        return [CuboidLabel(g.box.with_(center=np.add(g.box.center, [self.dx, 0.0, 0.0])), g.label, None, 0.9,
                            "model") for g in drive.labels(index)]


@pytest.fixture
def prelabelled(qtbot, tmp_path, monkeypatch):
    """A window on a project holding only tracked pre-labels on every frame (Ctrl+Shift+P's
    result), whose detector is :class:`TruthDetector` (``w.detector_dx`` sets its offset)."""
    from conftest import app_window
    from fusionlabel.store.project import Project

    p = Project.create(tmp_path / "project", testing.small_drive(), import_labels=False)
    gen = app_window(qtbot, p)
    w = next(gen)
    w.detector_dx = 0.1
    monkeypatch.setattr(w.actions_, "detector", lambda: TruthDetector(w.detector_dx))
    s = w.session
    w.actions_.store_prelabels({f: TruthDetector().detect_frame(s.drive, f) for f in range(s.n_frames)})
    yield w
    next(gen, None)
    p.close()


def test_ctrl_p_says_when_locked_pre_labels_are_why_nothing_changed(qtbot, prelabelled):
    w = prelabelled
    s = w.session
    cars = [a for a in s.annotations() if a.cls == "car" and a.source == "model"]
    assert len(cars) >= 2
    lock(w, "car")
    key(qtbot, w, Qt.Key.Key_P, CTRL)                                # the same boxes again: nothing, not for the lock
    testing.wait_for_prelabels(w)
    assert "nothing to change" in s.messages[-1].text and "locked" not in s.messages[-1].text
    w.detector_dx = 0.3                                              # new car boxes would replace the locked ones
    others = {a.uid for a in s.annotations() if a.cls != "car"}
    key(qtbot, w, Qt.Key.Key_P, CTRL)
    testing.wait_for_prelabels(w)
    text = s.messages[-1].text
    if others:                                                       # the other classes' pre-labels were replaced
        assert "Pre-label" in text and f"keeping {len(cars)} locked" in text
        key(qtbot, w, Qt.Key.Key_P, CTRL)                            # now only the locked cars differ
        testing.wait_for_prelabels(w)
        text = s.messages[-1].text
    assert "nothing to change" in text and text.endswith(f"({len(cars)} boxes of locked classes kept)")
    assert all(s.document.get(a.uid) == a for a in cars)
    lock(w, "car", False)
    key(qtbot, w, Qt.Key.Key_P, CTRL)                                # unlocked, the same key replaces them
    testing.wait_for_prelabels(w)
    assert not any(a.uid in s.document for a in cars)


def test_v_says_when_a_locked_pre_label_is_why_nothing_changed(qtbot, prelabelled):
    w = prelabelled
    s = w.session
    from fusionlabel.assist.edit_assist import propagate

    car = next(a for a in s.annotations() if a.cls == "car" and a.track_id is not None   # one V would move
               and s.document.find_track(a.track_id, 1) is not None and propagate(s.document, s.drive, 0, (a.uid,)))
    there = s.document.find_track(car.track_id, 1)
    assert there.source == "model"
    s.select((car.uid,))
    lock(w, "car")
    key(qtbot, w, Qt.Key.Key_V)
    assert s.document.get(there.uid) == there
    assert s.messages[-1].text.endswith("(1 box of locked classes kept)"), s.messages[-1].text
    lock(w, "car", False)
    key(qtbot, w, Qt.Key.Key_V)                                      # unlocked, V moves it onto its points
    assert s.document.get(there.uid).box != there.box


# ------------------------------------------------------------------ Tab on the attribute panel
def test_tab_on_a_focused_choice_or_tick_box_selects_no_other_cuboid(qtbot, window):
    """Like in a text field: Tab and Shift+Tab do nothing there (no next cuboid, the focus and the
    value stay); a click back in the bird's-eye view makes Tab walk the cuboids again."""
    from PyQt6.QtWidgets import QCheckBox, QComboBox

    s = window.session
    ann = next(a for a in s.annotations()
               if any(x.kind == "bool" for x in s.ontology.classes[a.cls].attributes.values()))
    s.select((ann.uid,))
    panel = window.attributes
    ticks = [e for e in panel._editors.values() if isinstance(e, QCheckBox)]
    choices = [e for e in panel._editors.values() if isinstance(e, QComboBox)]
    assert ticks
    history = list(s.document.history())
    for widget in [panel.cls, *choices, *ticks]:
        widget.setFocus()                                        # as a click into it does
        qtbot.waitUntil(lambda w=widget: QApplication.focusWidget() is w)
        value = widget.currentText() if isinstance(widget, QComboBox) else widget.checkState()
        for k, mod in ((Qt.Key.Key_Tab, NO), (Qt.Key.Key_Backtab, SHIFT)):
            qtbot.keyClick(widget, k, mod)
            assert s.selection == (ann.uid,) and QApplication.focusWidget() is widget, (widget, k)
        assert value == (widget.currentText() if isinstance(widget, QComboBox) else widget.checkState())
    assert s.document.history() == history
    qtbot.mouseClick(window.bev, Qt.MouseButton.LeftButton, NO, window.bev.rect().topLeft())
    assert QApplication.focusWidget() is window.bev
    s.select((ann.uid,))
    key(qtbot, window, Qt.Key.Key_Tab)
    assert s.selection and s.selection != (ann.uid,)


# ------------------------------------------------------------------ the locked mark
def pixels(widget) -> np.ndarray:
    """What a widget shows, (H, W, 3) int."""
    return testing.widget_pixels(widget).astype(int)


def marked(widget, window, cls: str = "car") -> np.ndarray:
    """(N, 2) x, y of the pixels of ``widget`` that change when ``cls`` is locked, and which of them
    are light. The lock is set on the session's class view alone, so that the object list (which
    widens for ", locked") leaves the layout as it was."""
    before = pixels(widget)
    window.session.class_view.locked.add(cls)
    after = pixels(widget)
    window.session.class_view.locked.discard(cls)
    assert (pixels(widget) == before).all()
    changed = np.abs(after - before).max(axis=2) > 40
    ys, xs = np.nonzero(changed)
    light = (after[ys, xs] >= 180).all(axis=1)
    return np.column_stack([xs, ys]), light


def test_locked_cuboids_carry_a_small_padlock_in_the_birds_eye_view(window):
    from PyQt6.QtCore import QEvent, QPointF
    from PyQt6.QtGui import QMouseEvent

    from fusionlabel.app.styles import LOCK_MARK_PX

    s, bev = window.session, window.bev
    s.select(())
    bev.scale = 14.0                                     # a car ~1.8 m wide is ~25 px: marked
    bev.update()
    xy, light = marked(bev, window)
    cars = [a for a in s.annotations() if a.cls == "car"]
    centres = bev.to_screen(np.array([a.box.center[:2] for a in cars]))
    inside = (centres[:, 0] > 10) & (centres[:, 0] < bev.width() - 10) & (centres[:, 1] > 40) & (centres[:, 1] < bev.height() - 10)
    assert inside.sum() >= 2
    near = np.linalg.norm(xy[:, None, :] - centres[None], axis=2)     # (changed pixels, cars)
    assert (near.min(axis=1) <= LOCK_MARK_PX).all()                   # only around car centres: nothing else moved
    for i in np.flatnonzero(inside):
        mine = near[:, i] <= LOCK_MARK_PX
        assert 15 <= mine.sum() <= LOCK_MARK_PX ** 2 and light[mine].sum() >= 8, i   # a small light glyph
        assert np.ptp(xy[mine, 0]) <= LOCK_MARK_PX + 3 and np.ptp(xy[mine, 1]) <= LOCK_MARK_PX + 3
    i = int(np.flatnonzero(inside)[0])                   # the pointer over a locked car says no
    s.class_view.locked.add("car")
    bev.mouseMoveEvent(QMouseEvent(QEvent.Type.MouseMove, QPointF(*centres[i]), QPointF(*centres[i]),
                                   Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, NO))
    assert bev.cursor().shape() == Qt.CursorShape.ForbiddenCursor
    s.class_view.locked.discard("car")
    bev.mouseMoveEvent(QMouseEvent(QEvent.Type.MouseMove, QPointF(*centres[i]), QPointF(*centres[i]),
                                   Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, NO))
    assert bev.cursor().shape() == Qt.CursorShape.SizeAllCursor
    bev.scale = 3.0                                      # zoomed out: ~5 px cars get no mark to hide them
    bev.update()
    xy, _ = marked(bev, window)
    assert len(xy) == 0


def test_locked_cuboids_are_marked_in_the_cameras_and_side_views(window):
    from fusionlabel.geometry.transforms import transform_points

    s = window.session
    s.select(())
    total = 0
    for view in window.cameras.views.values():
        xy, light = marked(view, window)
        if not len(xy):
            continue
        # every change lies on a car as the lens model projects it (its corners' box, widget pixels)
        cam, tf = view.cam, view.transform()
        boxes = []
        for a in s.annotations():
            if a.cls != "car":
                continue
            uv = cam.camera.project(transform_points(cam.T_cam_lidar, a.box.corners())).uv
            if np.isfinite(uv).all():
                lo, hi = tf.to_screen(uv.min(axis=0)), tf.to_screen(uv.max(axis=0))
                boxes.append((lo - 3, hi + 3))
        on_a_car = np.zeros(len(xy), bool)
        for lo, hi in boxes:
            on_a_car |= ((xy >= lo) & (xy <= hi)).all(axis=1)
        assert on_a_car.all(), view.name
        total += int(light.sum())
    assert total >= 8                                    # a camera that sees a near car shows its mark
    car = next(a for a in s.annotations() if a.cls == "car")
    s.select((car.uid,))
    QApplication.processEvents()
    for view in window.side.views.values():
        xy, light = marked(view, window)
        assert len(xy) and light.any(), view.kind
        assert (xy[:, 1] <= 24).all() and (xy[:, 0] >= view.width() / 2).all()   # top right, by the title's line


def test_undoing_a_step_that_made_locked_boxes_says_it_would_remove_them(window):
    """The undo of a create takes the cuboid away: refused under a lock, and the message says
    remove (not change) and how to go on."""
    from fusionlabel.geometry.cuboid import Cuboid
    from fusionlabel.model.annotation import CuboidLabel
    from fusionlabel.model.commands import CreateCuboid

    s = window.session
    before = len(s.annotations())
    s.apply(CreateCuboid(s.frame, CuboidLabel(Cuboid((30.0, -20.0, 0.8), (4.5, 1.9, 1.6), 0.3), "car")))
    assert len(s.annotations()) == before + 1
    s.set_class_locked("car", True)
    s.undo()
    text = s.messages[-1].text
    assert "refused: it would remove 1 locked car cuboid" in text and "untick car in Classes > Lock class" in text
    assert len(s.annotations()) == before + 1


def test_a_class_key_refused_by_a_lock_keeps_the_class_of_new_cuboids(window, qtbot):
    s = window.session
    car = next(a for a in s.annotations() if a.cls == "car")
    s.select((car.uid,))
    window.actions_.set_class("car")
    s.set_class_locked("car", True)
    window.actions_.set_class("van")
    assert s.document.get(car.uid).cls == "car"
    assert s.current_class == "car"
    assert "refused" in s.messages[-1].text


def test_a_selected_locked_cuboid_offers_no_rotate_knob_or_handles(window):
    """The knob and handles say 'drag me'; on a locked cuboid the drag is refused, so they are not
    drawn (the padlock says why). Unlocked, the same cuboid has them."""
    from fusionlabel.app.box_edit import bev_handle_points

    s, bev = window.session, window.bev
    car = max((a for a in s.annotations() if a.cls == "car"),
              key=lambda a: -np.hypot(*a.box.center[:2]))            # the nearest car: on screen
    s.select((car.uid,))
    bev.scale = 14.0
    bev.update()
    knob = np.round(bev.to_screen(bev_handle_points(car.box)["rotate"][None])[0]).astype(int)
    assert 0 <= knob[0] < bev.width() and 0 <= knob[1] < bev.height()
    xy, _ = marked(bev, window)
    near_knob = np.linalg.norm(xy - knob, axis=1) <= 4
    assert near_knob.sum() >= 10             # the knob's pixels change when the class is locked

