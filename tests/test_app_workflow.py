"""The annotator's loop through real mouse and key events on the app's views (pytest-qt, offscreen):
create a cuboid by dragging in the BEV, resize it in a side view, rotate it with keys, change its
class, copy it to the next frame, undo and redo each step, reopen the project and find the same
state in the database."""

from __future__ import annotations

import itertools
import math
import os
import sqlite3

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import QPoint, Qt  # noqa: E402

from conftest import app_project, open_app_window  # noqa: E402
from fusionlabel.app import testing  # noqa: E402
from fusionlabel.app.box_edit import bev_handle_points  # noqa: E402
from fusionlabel.store.project import Project  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture
def project(tmp_path):
    yield from app_project(tmp_path)


def px(view, xy) -> QPoint:
    u, v = view.to_screen(np.asarray(xy, float)[None])[0]
    return QPoint(int(round(u)), int(round(v)))


def drag(qtbot, widget, a: QPoint, b: QPoint, steps: int = 5, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, modifier, a)
    for t in np.linspace(0, 1, steps + 1)[1:]:
        qtbot.mouseMove(widget, QPoint(int(a.x() + t * (b.x() - a.x())), int(a.y() + t * (b.y() - a.y()))))
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, modifier, b)


def key(qtbot, window, k, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(window.bev, k, modifier)


def only(window):
    anns = window.session.annotations()
    assert len(anns) == 1, anns
    return anns[0]


def create_by_drag(qtbot, window, centre=(12.0, 3.0), heading_deg=30.0):
    bev = window.bev
    bev.center, bev.scale = np.array([12.0, 0.0]), 20.0
    h = math.radians(heading_deg)
    end = (centre[0] + 3.0 * math.cos(h), centre[1] + 3.0 * math.sin(h))
    drag(qtbot, bev, px(bev, centre), px(bev, end))
    return only(window)


def test_create_by_dragging_in_bev(qtbot, window):
    s = window.session
    ann = create_by_drag(qtbot, window)
    spec = s.ontology.get(s.current_class)
    box = ann.box
    assert ann.cls == s.current_class and ann.source == "human" and ann.track_id
    assert np.allclose(box.size, spec.default_size)
    # Centre where the press was, heading along the drag (to pixel precision: 1 px = 5 cm here).
    assert np.allclose(box.center[:2], (12.0, 3.0), atol=0.06)
    assert abs(math.degrees(box.yaw) - 30.0) < 1.5
    # The box stands on the ground found under it: its bottom is within 30 cm of the lowest
    # points near it.
    pts = window.displayed.points
    near = pts[np.hypot(pts[:, 0] - 12.0, pts[:, 1] - 3.0) < 3.0]
    assert abs(box.bottom_center()[2] - np.percentile(near[:, 2], 5)) < 0.3
    # One drag = one command, selected afterwards.
    assert s.document.history() == [f"Create {ann.cls}"]
    assert s.selection == (ann.uid,)
    # A click on empty ground only clears the selection.
    qtbot.mouseClick(window.bev, Qt.MouseButton.LeftButton, pos=px(window.bev, (25.0, -8.0)))
    assert s.selection == () and len(s.annotations()) == 1


def test_move_resize_rotate_in_bev(qtbot, window):
    s, bev = window.session, window.bev
    ann = create_by_drag(qtbot, window, heading_deg=0.0)
    before = ann.box
    # Move: drag from inside by 1 m along -y (to the right on screen).
    drag(qtbot, bev, px(bev, (12.0, 3.0)), px(bev, (12.0, 2.0)))
    moved = only(window).box
    assert np.allclose(np.subtract(moved.center, before.center), (0.0, -1.0, 0.0), atol=0.06)
    assert moved.size == before.size and moved.yaw == before.yaw
    # Resize: drag the front handle 1 m forward; the back face stays put.
    front = bev_handle_points(moved)["front"]
    drag(qtbot, bev, px(bev, front), px(bev, front + (1.0, 0.0)))
    resized = only(window).box
    assert abs(resized.length - (moved.length + 1.0)) < 0.06
    back = lambda b: np.asarray(b.center) - b.heading() * b.length / 2  # noqa: E731
    assert np.allclose(back(resized), back(moved), atol=1e-6)
    assert resized.width == moved.width
    # Rotate: drag the knob a quarter turn counter-clockwise about the centre.
    knob = bev_handle_points(resized)["rotate"]
    c = np.asarray(resized.center[:2])
    r = np.linalg.norm(knob - c)
    drag(qtbot, bev, px(bev, knob), px(bev, c + (0.0, r)), steps=12)
    rotated = only(window).box
    assert abs(math.degrees(rotated.yaw) - 90.0) < 2.0
    assert np.allclose(rotated.center, resized.center)
    assert [h.split()[0] for h in s.document.history()] == ["Create", "Move", "Resize", "Rotate"]


def test_side_view_edge_drag_resizes(qtbot, window):
    s = window.session
    ann = create_by_drag(qtbot, window, heading_deg=0.0)
    top = window.side.views["top"]
    qtbot.wait(10)
    box = ann.box
    # The front face (+x, on the right of the top view) is dragged 25 px to the right.
    corners = top.to_screen(np.array([[box.length / 2, 0.0, 0.0]]))[0]
    a = QPoint(int(round(corners[0])), int(round(corners[1])))
    b = a + QPoint(25, 0)
    drag(qtbot, top, a, b)
    new = only(window).box
    assert abs(new.length - (box.length + 25 / top.scale)) < 1.5 / top.scale
    back = lambda bx: np.asarray(bx.center) - bx.heading() * bx.length / 2  # noqa: E731
    assert np.allclose(back(new), back(box), atol=1e-6)
    assert new.width == box.width and new.height == box.height
    # The side view's top edge moves the roof; the bottom stays on the ground.
    side = window.side.views["side"]
    qtbot.wait(10)
    roof = side.to_screen(np.array([[0.0, 0.0, new.height / 2]]))[0]
    a = QPoint(int(round(roof[0])), int(round(roof[1])))
    drag(qtbot, side, a, a - QPoint(0, 20))
    taller = only(window).box
    assert abs(taller.height - (new.height + 20 / side.scale)) < 1.5 / side.scale
    assert abs(taller.bottom_center()[2] - new.bottom_center()[2]) < 1e-6
    assert s.document.history()[-2:] == ["Resize", "Resize"]


def test_keys_rotate_retype_copy_then_undo_redo_everything(qtbot, window, project):
    s, doc = window.session, window.session.document
    s.clock = itertools.count(0.0, 5.0).__next__  # key presses 5 s apart: each is its own undo step
    ann = create_by_drag(qtbot, window, heading_deg=0.0)
    states = [only(window).label]

    def step(k, modifier=Qt.KeyboardModifier.NoModifier):
        key(qtbot, window, k, modifier)
        states.append(doc.get(ann.uid).label)

    step(Qt.Key.Key_Q)  # +1°
    assert math.isclose(math.degrees(states[-1].box.yaw), 1.0, abs_tol=1e-9)
    step(Qt.Key.Key_E, Qt.KeyboardModifier.ShiftModifier)  # -15°
    assert math.isclose(math.degrees(states[-1].box.yaw), -14.0, abs_tol=1e-9)
    step(Qt.Key.Key_F)  # flip
    assert math.isclose(math.degrees(states[-1].box.yaw), 166.0, abs_tol=1e-9)
    step(Qt.Key.Key_Up)  # nudge 5 cm along the heading
    assert np.allclose(np.subtract(states[-1].box.center, states[-2].box.center),
                       0.05 * states[-2].box.heading())
    step(Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)  # length +5 cm
    assert math.isclose(states[-1].box.length, states[-2].box.length + 0.05)
    truck_key = s.ontology.get("truck").key
    step(getattr(Qt.Key, f"Key_{truck_key}"))  # retype with one key
    assert states[-1].label == "truck"
    n_cmds = len(doc.history())
    key(qtbot, window, Qt.Key.Key_C)  # copy to the next frame
    assert len(doc.history()) == n_cmds + 1
    copy = doc.find_track(ann.track_id, 1)
    assert copy is not None and copy.cls == "truck" and copy.uid != ann.uid
    # Moving on keeps the selection on the track.
    key(qtbot, window, Qt.Key.Key_D)
    testing.wait_for_frame(window, 1)
    assert s.frame == 1 and s.selection == (copy.uid,)
    key(qtbot, window, Qt.Key.Key_A)
    testing.wait_for_frame(window, 0)
    assert s.selection == (ann.uid,)
    # Undo everything, one step at a time, checking every intermediate state.
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert doc.find_track(ann.track_id, 1) is None
    for expected in reversed(states[:-1]):
        key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert doc.get(ann.uid).label == expected
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert ann.uid not in doc and not doc.can_undo
    # ... and redo it all.
    redo = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    key(qtbot, window, Qt.Key.Key_Z, redo)
    assert doc.get(ann.uid).label == states[0]
    for expected in states[1:]:
        key(qtbot, window, Qt.Key.Key_Z, redo)
        assert doc.get(ann.uid).label == expected
    key(qtbot, window, Qt.Key.Key_Z, redo)
    assert doc.find_track(ann.track_id, 1) is not None and not doc.can_redo
    assert window.undo_action.text().startswith("Undo Copy")


def test_reopened_project_holds_the_same_state(qtbot, tmp_path):
    folder = tmp_path / "project"
    project = Project.create(folder, testing.small_drive())
    w = open_app_window(qtbot, project)
    ann = create_by_drag(qtbot, w, heading_deg=20.0)
    key(qtbot, w, Qt.Key.Key_Q)
    key(qtbot, w, Qt.Key.Key_5)  # pedestrian in the default ontology
    key(qtbot, w, Qt.Key.Key_C)
    key(qtbot, w, Qt.Key.Key_D)
    testing.wait_for_frame(w, 1)
    key(qtbot, w, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # frame 1 done
    doc = w.session.document
    expected = {a.uid: a for f in range(doc.n_frames) for a in doc.annotations(f)}
    history = doc.history()
    w.close()
    project.close()

    # The database itself, read with plain sqlite3.
    con = sqlite3.connect(folder / "project.sqlite")
    rows = con.execute("SELECT uid, frame, class, track_id, cx, cy, length, yaw FROM annotations").fetchall()
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    assert {r[0] for r in rows} == set(expected)
    for uid, frame, cls, track, cx, cy, length, yaw in rows:
        a = expected[uid]
        assert (frame, cls, track) == (a.frame, a.cls, a.track_id)
        assert np.allclose((cx, cy, length, yaw), (a.box.center[0], a.box.center[1], a.box.length, a.box.yaw))

    # Reopened: same cuboids, same frame, same history, and undo still works.
    again = Project.open(folder)
    try:
        w2 = open_app_window(qtbot, again)
        d2 = w2.session.document
        assert {a.uid: a for f in range(d2.n_frames) for a in d2.annotations(f)} == expected
        assert d2.history() == history and d2.frame_status(1) == "done"
        assert w2.session.frame == 1
        key(qtbot, w2, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert d2.frame_status(1) == "new"
        key(qtbot, w2, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert d2.find_track(ann.track_id, 1) is None
        w2.close()
    finally:
        again.close()


def test_an_unknown_state_shows_half_checked_and_a_click_sets_it(qtbot, window):
    """A state the import could not tell (with_rider null: a nuScenes bicycle without attributes)
    is neither ticked nor unticked in the attribute panel; one click says there is a rider."""
    from PyQt6.QtWidgets import QCheckBox, QComboBox

    from fusionlabel.geometry.cuboid import Cuboid
    from fusionlabel.model.annotation import CuboidLabel
    from fusionlabel.model.commands import CreateCuboid

    s = window.session
    bike = CuboidLabel(Cuboid((8.0, 2.0, -1.0), (1.8, 0.7, 1.7), 0.0), "cyclist", attributes={"with_rider": None})
    walker = CuboidLabel(Cuboid((9.0, -2.0, -1.0), (0.8, 0.7, 1.75), 0.0), "pedestrian", attributes={"pose": None})
    s.apply(CreateCuboid(s.frame, bike))
    uid = next(a.uid for a in s.annotations() if a.cls == "cyclist")
    s.select((uid,))
    box = window.attributes._editors["with_rider"]
    assert isinstance(box, QCheckBox) and box.checkState() == Qt.CheckState.PartiallyChecked
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))   # on the tick box
    assert s.document.get(uid).attributes["with_rider"] is True
    assert box.checkState() == Qt.CheckState.Checked and not box.isTristate()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))   # on the tick box
    assert s.document.get(uid).attributes["with_rider"] is False
    s.apply(CreateCuboid(s.frame, walker))
    s.select((next(a.uid for a in s.annotations() if a.cls == "pedestrian" and a.attributes.get("pose") is None),))
    pose = window.attributes._editors["pose"]
    assert isinstance(pose, QComboBox) and pose.currentIndex() == -1 and pose.currentText() == ""


class Clock:
    """The session's clock, moved by the test."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def saved_box(project, uid):
    con = sqlite3.connect(project.folder / "project.sqlite")
    try:
        return con.execute("SELECT cx, cy, cz, length, width, height, yaw FROM annotations WHERE uid=?",
                           (uid,)).fetchone()
    finally:
        con.close()


def test_a_run_of_nudge_keys_is_one_undo_step(qtbot, window, project):
    """30 presses of Up are one undo step (saved at every press); a pause, another key edit, a
    new selection or another command starts a new step."""
    s, doc = window.session, window.session.document
    clock = s.clock = Clock()
    ann = create_by_drag(qtbot, window, heading_deg=0.0)
    start = doc.get(ann.uid).box
    steps = len(doc.history())
    for k in range(30):
        key(qtbot, window, Qt.Key.Key_Up)
        clock.now += 0.1                                       # key auto-repeat: 10 presses a second
        b = doc.get(ann.uid).box
        if k % 10 == 0:                                        # every press is in the database at once
            assert np.allclose(saved_box(project, ann.uid), (*b.center, *b.size, b.yaw))
    assert len(doc.history()) == steps + 1 and doc.undo_text() == "Nudge ×30"
    assert window.undo_action.text() == "Undo Nudge ×30"
    assert np.allclose(np.subtract(doc.get(ann.uid).box.center, start.center), [1.5, 0, 0])
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)    # one Ctrl+Z takes it all back
    assert doc.get(ann.uid).box == start and np.allclose(saved_box(project, ann.uid)[:3], start.center)
    assert s.messages[-1].text == "undid Nudge ×30"
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    # After a redo a new step starts; Left and PgUp are nudges too; Q turns: a new step; after a
    # pause of over a second, a new step.
    key(qtbot, window, Qt.Key.Key_Left)
    key(qtbot, window, Qt.Key.Key_PageUp)
    assert doc.history()[-2:] == ["Nudge ×30", "Nudge ×2"]
    key(qtbot, window, Qt.Key.Key_Q)
    key(qtbot, window, Qt.Key.Key_Q)
    assert doc.history()[-2:] == ["Nudge ×2", "Rotate ×2"]
    key(qtbot, window, Qt.Key.Key_E)                           # back by one: the same run
    assert doc.history()[-2:] == ["Nudge ×2", "Rotate ×3"]
    clock.now += 1.5
    key(qtbot, window, Qt.Key.Key_E)
    key(qtbot, window, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    key(qtbot, window, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert doc.history()[-3:] == ["Rotate ×3", "Rotate -1°", "Resize ×2"]
    key(qtbot, window, Qt.Key.Key_Escape)                      # selection changes end a run
    key(qtbot, window, Qt.Key.Key_Tab)
    key(qtbot, window, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert doc.history()[-2:] == ["Resize ×2", "Resize"]
    n = len(doc.history())
    project.close()
    with Project.open(project.folder) as again:                # the joined steps are what was saved
        assert len(again.document.history()) == n and again.document.history()[-3] == "Rotate -1°"


def test_the_first_edit_of_a_frame_marks_it_in_progress(qtbot, window):
    s, doc, timeline = window.session, window.session.document, window.timeline
    assert timeline.status.currentData() == "new"
    assert [timeline.status.itemText(i) for i in range(timeline.status.count())][:2] == ["new", "in progress"]
    ann = create_by_drag(qtbot, window)
    assert doc.frame_status(0) == "in_progress" and timeline.status.currentData() == "in_progress"
    assert doc.history() == [f"Create {ann.cls}"]              # in the same undo step as the edit
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert doc.frame_status(0) == "new" and timeline.status.currentData() == "new"
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert timeline.status.currentData() == "in_progress"
    s.select((ann.uid,))
    key(qtbot, window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)       # done ...
    assert timeline.status.currentData() == "done"
    key(qtbot, window, Qt.Key.Key_Q)                           # ... is in progress again once edited
    assert doc.frame_status(0) == "in_progress" and timeline.status.currentData() == "in_progress"
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)             # undo: done again
    assert doc.frame_status(0) == "done" and timeline.status.currentData() == "done"
    key(qtbot, window, Qt.Key.Key_C)                           # a copy into frame 1 does not start it
    key(qtbot, window, Qt.Key.Key_D)
    testing.wait_for_frame(window, 1)
    assert timeline.status.currentData() == "new" and len(doc.annotations(1)) == 1
    key(qtbot, window, Qt.Key.Key_5)                           # retyping it here does
    assert timeline.status.currentData() == "in_progress"


def test_a_typed_note_is_saved_as_typed_even_without_enter(qtbot, window, project):
    """Typing in a text attribute saves each change at once (one undo step for a burst of typing),
    so a click that selects another cuboid, a frame change or closing the window loses nothing."""
    from fusionlabel.geometry.cuboid import Cuboid
    from fusionlabel.model.annotation import CuboidLabel
    from fusionlabel.model.commands import CreateCuboid

    s = window.session
    s.clock = Clock()
    for x in (8.0, 14.0):
        s.apply(CreateCuboid(s.frame, CuboidLabel(Cuboid((x, 2.0, -1.0), (4.5, 1.9, 1.6), 0.0), "car")))
    first, second = (a.uid for a in sorted(s.annotations(), key=lambda a: a.box.center[0]))
    s.select((first,))
    note = window.attributes._editors["note"]
    note.setFocus()
    qtbot.keyClicks(note, "dent left door")
    assert s.document.get(first).attributes["note"] == "dent left door"
    assert s.document.undo_text() == "Set note ×14"
    s.select((second,))                                   # no Enter, no focus change
    assert s.document.get(first).attributes["note"] == "dent left door"
    assert note.text() == ""
    s.select((first,))
    assert note.text() == "dent left door"
    qtbot.keyClicks(note, "!")                            # the cursor stays where the annotator types
    assert note.text() == "dent left door!" and s.document.get(first).attributes["note"] == "dent left door!"
    s.undo()                                              # "!" came after another selection: its own step
    assert s.document.get(first).attributes["note"] == "dent left door"
    s.undo()                                              # the whole burst of typing is one step
    assert s.document.get(first).attributes.get("note", "") == ""
    s.redo()
    s.redo()
    window.close()
    again = Project.open(project.folder)
    try:
        assert again.document.get(first).attributes["note"] == "dent left door!"
    finally:
        again.close()


def test_a_long_track_id_is_shown_short_and_whole_on_hover(qtbot, window):
    """nuScenes instance tokens (32 hex digits) as track IDs: the views and the object list show
    their first characters, the tooltips the whole ID; the app's own short IDs are shown as they are."""
    from fusionlabel.app.qt_util import box_label
    from fusionlabel.geometry.cuboid import Cuboid
    from fusionlabel.model.annotation import CuboidLabel
    from fusionlabel.model.commands import CreateCuboid

    s = window.session
    token = "6eebf7129b7d5bcf9bb5ace5310a78ef"
    s.apply(CreateCuboid(s.frame, CuboidLabel(Cuboid((8.0, 2.0, -1.0), (2.5, 0.5, 1.0), 0.0), "barrier", token)))
    s.apply(CreateCuboid(s.frame, CuboidLabel(Cuboid((14.0, 2.0, -1.0), (4.5, 1.9, 1.6), 0.0), "car", "12")))
    long_one = next(a for a in s.annotations() if a.track_id == token)
    short_one = next(a for a in s.annotations() if a.track_id == "12")
    assert box_label(long_one) == "6eebf7… barrier" and box_label(short_one) == "12 car"
    window.objects.refresh()
    rows = {window.objects.item(r, 1).text(): window.objects.item(r, 0) for r in range(window.objects.rowCount())}
    assert rows["barrier"].text() == "6eebf7…" and rows["barrier"].toolTip() == f"track {token}"
    assert rows["car"].text() == "12" and rows["car"].toolTip() == ""
    assert window.objects.columnWidth(0) < window.objects.columnWidth(1) * 2   # the column stays narrow
    s.select((long_one.uid,))
    assert window.attributes.title.text().startswith("track 6eebf7…   2.50 × 0.50 × 1.00 m")
    assert window.attributes.title.toolTip() == f"track {token}"
