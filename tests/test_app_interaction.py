"""What a person's keys, wheel and clicks do around the views, and what they see:

- a text field keeps the keys one types and edits with (no cuboid moves while typing a note), Esc
  leaves it; a combo box or spin box takes the wheel only when it has the focus;
- with the cuboids hidden (B) no view can hit one: a drag in the bird's-eye view where a hidden
  cuboid is works as on empty ground, a click in a camera selects nothing (the 3D view's picking
  is checked under a display in test_app_view3d);
- the ? help fits a 1280x720 window, a long frame id is elided in the timeline (whole in its
  tooltip), D and A at the ends of the drive say so, the selected cuboid in the bird's-eye view has
  a white halo.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PyQt6.QtGui import QWheelEvent  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

from conftest import open_app_window  # noqa: E402
from fusionlabel.app import testing  # noqa: E402
from fusionlabel.store.project import Project  # noqa: E402

pytestmark = pytest.mark.gui


def select_first(qtbot, window):
    qtbot.keyClick(window.bev, Qt.Key.Key_Tab)
    assert window.session.selection
    return window.session.selection[0]


def editor_of_kind(window, kind):
    spec = window.session.ontology.classes[window.session.document.get(window.session.selection[0]).cls]
    name = next((n for n, a in spec.attributes.items() if a.kind == kind), None)
    if name is None:
        pytest.skip(f"the test ontology has no {kind} attribute")
    return name, window.attributes._editors[name]


def test_keys_typed_in_a_text_field_stay_there(qtbot, window):
    s = window.session
    uid = select_first(qtbot, window)
    name, field = editor_of_kind(window, "text")
    before = s.document.get(uid).box
    field.setFocus()                                   # as a click into it does
    qtbot.waitUntil(lambda: QApplication.focusWidget() is field)
    qtbot.keyClicks(field, "abc")
    history = list(s.document.history())
    for k, mod in [(Qt.Key.Key_Up, 0), (Qt.Key.Key_Down, 0), (Qt.Key.Key_PageUp, 0), (Qt.Key.Key_PageDown, 0),
                   (Qt.Key.Key_Left, 0), (Qt.Key.Key_Home, 0), (Qt.Key.Key_End, 0),
                   (Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier),
                   (Qt.Key.Key_PageUp, Qt.KeyboardModifier.ControlModifier),
                   (Qt.Key.Key_Q, 0), (Qt.Key.Key_D, 0)]:
        qtbot.keyClick(field, k, Qt.KeyboardModifier(mod))
    ann = s.document.get(uid)
    assert ann.box == before and s.frame == 0          # no nudge, resize or turn; no frame change
    assert field.text() == "abcqd" and ann.label.attributes[name] == "abcqd"
    assert all(h.startswith(f"Set {name}") for h in s.document.history()[len(history) - 1:])
    qtbot.keyClick(field, Qt.Key.Key_Escape)           # Esc leaves the field, the selection stays
    assert QApplication.focusWidget() is not field and s.selection == (uid,)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Up)   # now the keys edit the cuboid again
    assert s.document.get(uid).box != before


def test_tab_in_a_text_field_is_ignored(qtbot, window):
    s = window.session
    uid = select_first(qtbot, window)
    name, field = editor_of_kind(window, "text")
    field.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is field)
    qtbot.keyClicks(field, "ok")
    qtbot.keyClick(field, Qt.Key.Key_Tab)              # no next cuboid; the field keeps the focus and the text
    qtbot.keyClick(field, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert s.selection == (uid,) and QApplication.focusWidget() is field
    qtbot.keyClicks(field, "!")
    assert field.text() == "ok!" and s.document.get(uid).label.attributes[name] == "ok!"
    qtbot.keyClick(field, Qt.Key.Key_Escape)           # Esc leaves it; then Tab walks the cuboids again
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert s.selection and s.selection != (uid,)


def test_a_focused_combo_box_takes_up_and_down(qtbot, window):
    s = window.session
    uid = select_first(qtbot, window)
    before = s.document.get(uid)
    combo = window.attributes.cls
    combo.setFocus()                                   # as a click into it does
    qtbot.waitUntil(lambda: QApplication.focusWidget() is combo)
    step = Qt.Key.Key_Down if combo.currentIndex() + 1 < combo.count() else Qt.Key.Key_Up
    qtbot.keyClick(combo, step)
    after = s.document.get(uid)
    assert after.box == before.box                     # no nudge
    assert after.cls == combo.currentText() != before.cls
    assert s.document.history()[-1].startswith("Set class")
    qtbot.keyClick(combo, Qt.Key.Key_Escape)           # Esc is still the window's: the combo keeps its value
    assert s.document.get(uid).box == before.box


def wheel(widget, dy=-120):
    pos = QPointF(widget.rect().center())
    ev = QWheelEvent(pos, QPointF(widget.mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, dy),
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, ev)
    QApplication.processEvents()


def test_the_wheel_over_an_unfocused_combo_box_changes_nothing(qtbot, window):
    s = window.session
    uid = select_first(qtbot, window)
    before = s.document.get(uid).label
    history = list(s.document.history())
    for widget in (lambda: window.attributes.cls, lambda: editor_of_kind(window, "enum")[1],
                   lambda: window.timeline.status):
        wheel(widget())
        wheel(widget(), 120)
    assert s.document.get(uid).label == before and s.document.history() == history
    assert s.document.frame_status(0) == "new"
    window.attributes.cls.setFocus()                   # focused (clicked into): the wheel chooses
    qtbot.waitUntil(lambda: window.attributes.cls.hasFocus())
    wheel(window.attributes.cls)
    assert s.document.get(uid).cls != before.label


def px(view, xy) -> QPoint:
    u, v = view.to_screen(np.asarray(xy, float)[None])[0]
    return QPoint(int(round(u)), int(round(v)))


def drag(qtbot, widget, a: QPoint, b: QPoint, steps: int = 6):
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    for t in np.linspace(0, 1, steps + 1)[1:]:
        qtbot.mouseMove(widget, QPoint(int(a.x() + t * (b.x() - a.x())), int(a.y() + t * (b.y() - a.y()))))
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)


def test_a_drag_on_a_hidden_cuboid_does_not_move_it(qtbot, window):
    s, bev = window.session, window.bev
    target = min(s.annotations(), key=lambda a: np.hypot(*a.box.center[:2]))
    bev.center, bev.scale = np.asarray(target.box.center[:2], float), 20.0
    bev.update()
    p = px(bev, target.box.center[:2])
    assert bev.hit(QPointF(p)) is not None            # shown: the drag would move it
    qtbot.keyClick(bev, Qt.Key.Key_B)
    assert not s.layers["boxes"] and bev.hit(QPointF(p)) is None
    n = len(s.annotations())
    drag(qtbot, bev, p, p + QPoint(0, -40))
    assert s.document.get(target.uid).box == target.box
    assert len(s.annotations()) == n + 1               # a new cuboid, as a drag on empty ground makes
    assert s.document.history()[-1].startswith("Create")


def test_a_click_in_a_camera_selects_no_hidden_cuboid(qtbot, window):
    s = window.session
    hits = []
    for view in window.cameras.views.values():
        for x in range(2, view.width(), 6):
            for y in range(2, view.height(), 6):
                uid = view.pick(QPointF(x, y))
                if uid is not None:
                    hits.append((view, QPointF(x, y), uid))
    if not hits:
        pytest.skip("no cuboid projects into a camera of the test drive")
    view, pos, uid = hits[len(hits) // 2]
    s.set_layer("boxes", False)
    assert all(v.pick(p) is None for v, p, _ in hits)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos.toPoint())
    assert s.selection == ()
    s.set_layer("boxes", True)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos.toPoint())
    assert s.selection == (uid,)


def test_a_long_frame_id_is_elided_in_the_timeline(qtbot, tmp_path, nusc_root):
    project = Project.create(tmp_path / "project", nusc_root)
    try:
        w = open_app_window(qtbot, project)
        label = w.timeline.label
        frame_id = str(project.drive.frames[0].frame_id)
        assert len(frame_id) > 20
        assert frame_id not in label.text() and "…" in label.text() and label.text().endswith("(1/1)")
        assert label.fontMetrics().horizontalAdvance(label.text()) <= label.minimumWidth()
        assert label.toolTip() == f"frame {frame_id}"
        w.close()
    finally:
        project.close()


def test_d_and_a_at_the_ends_of_the_drive_say_so(qtbot, window):
    s = window.session
    qtbot.keyClick(window.bev, Qt.Key.Key_A)
    assert s.frame == 0 and s.messages[-1].text == "this is the first frame"
    qtbot.keyClick(window.bev, Qt.Key.Key_End)
    last = s.frame
    qtbot.keyClick(window.bev, Qt.Key.Key_D)
    assert s.frame == last == s.n_frames - 1 and s.messages[-1].text == "this is the last frame"
    n = len(s.messages)
    qtbot.keyClick(window.bev, Qt.Key.Key_A)            # not at an end: nothing to say
    assert s.frame == last - 1 and len(s.messages) == n


def test_the_selected_cuboid_has_a_white_halo_in_the_bev(window):
    s, bev = window.session, window.bev
    near = [a for a in s.annotations() if np.hypot(*a.box.center[:2]) < 30]
    a = max(near, key=lambda a: a.box.length * a.box.width)
    bev.center, bev.scale = np.asarray(a.box.center[:2], float), 15.0

    def white_pixels() -> int:
        bev.repaint()
        arr = testing.widget_pixels(bev)
        poly = bev.to_screen(a.box.bev_polygon())
        lo, hi = np.floor(poly.min(axis=0)).astype(int) - 6, np.ceil(poly.max(axis=0)).astype(int) + 6
        return int((arr[lo[1]:hi[1], lo[0]:hi[0]].min(axis=2) >= 235).sum())

    perimeter = 2 * (a.box.length + a.box.width) * bev.scale
    s.select(())
    assert white_pixels() < 0.1 * perimeter
    s.select((a.uid,))
    assert white_pixels() >= 0.6 * perimeter             # white all around, not just a thicker line


def test_undo_on_another_frame_pans_the_birds_eye_view_to_the_box_only_when_off_screen(qtbot, window):
    s, bev = window.session, window.bev
    bev.setFocus()
    qtbot.keyClick(bev, Qt.Key.Key_D)                  # frame 1: delete a cuboid there
    assert s.frame == 1
    target = min(s.annotations(), key=lambda a: np.hypot(*a.box.center[:2]))
    s.select((target.uid,))
    qtbot.keyClick(bev, Qt.Key.Key_Delete)
    assert target.uid not in s.document
    qtbot.keyClick(bev, Qt.Key.Key_A)
    assert s.frame == 0

    def on_screen(uid):
        uv = bev.to_screen(s.document.get(uid).box.corners()[:, :2])
        return bool(((uv >= 0) & (uv <= [bev.width(), bev.height()])).all())

    bev.center, bev.scale = np.asarray(target.box.center[:2], float) + [300.0, 0.0], 6.0
    qtbot.keyClick(bev, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert s.frame == 1 and s.selection == (target.uid,) and "on frame" in s.messages[-1].text
    assert on_screen(target.uid) and bev.scale == 6.0              # panned, not zoomed
    # on screen already: redo and undo leave the view where it is
    qtbot.keyClick(bev, Qt.Key.Key_A)
    bev.center = np.asarray(target.box.center[:2], float) + [5.0, 3.0]
    where = bev.center.copy()
    assert on_screen(target.uid)
    qtbot.keyClick(bev, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(bev, Qt.Key.Key_A)
    qtbot.keyClick(bev, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert s.frame == 1 and s.selection == (target.uid,)
    assert np.array_equal(bev.center, where) and bev.scale == 6.0
