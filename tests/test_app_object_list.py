"""The object list as an annotator uses it on a busy frame: sorting by a header click (kept when
stepping frames, followed by Tab), the filter field (Ctrl+F, the count, Esc clears it, keys stay in
it), and hiding or locking a class (hidden: drawn and picked nowhere, left out of the list, Tab and
Ctrl+A; locked: every edit path refused, the database untouched)."""

from __future__ import annotations

import os
import sqlite3

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

from conftest import app_window, expected_tab_order, open_app_window  # noqa: E402
from fusionlabel.app import testing  # noqa: E402
from fusionlabel.app.list_order import Row, ordered_rows  # noqa: E402
from fusionlabel.app.session import Session  # noqa: E402
from fusionlabel.model.annotation import CuboidLabel  # noqa: E402
from fusionlabel.store.project import Project  # noqa: E402

pytestmark = pytest.mark.gui
SHOTS = os.environ.get("FUSIONLABEL_SHOTS")   # a folder to save the list in, to look at it
NO, CTRL, SHIFT = Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


def column(window, col: int) -> list[str]:
    lst = window.objects
    return [lst.item(r, col).text() for r in range(lst.rowCount())]


def click_header(qtbot, window, name: str) -> None:
    header = window.objects.horizontalHeader()
    section = window.objects.COLUMNS.index(name)
    x = header.sectionViewportPosition(section) + header.sectionSize(section) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, NO, QPoint(x, header.height() // 2))


def key(qtbot, window, k, modifier=NO):
    qtbot.keyClick(QApplication.focusWidget() or window.bev, k, modifier)


def saved_rows(project) -> dict:
    """Every cuboid as the database holds it (another connection, so only what was committed)."""
    con = sqlite3.connect(project.folder / "project.sqlite")
    try:
        return {r[0]: r[1:] for r in con.execute("SELECT * FROM annotations ORDER BY uid")}
    finally:
        con.close()


def log_length(project) -> int:
    """Rows in the history table (every apply, undo and redo)."""
    con = sqlite3.connect(project.folder / "project.sqlite")
    try:
        return con.execute("SELECT COUNT(*) FROM history").fetchone()[0]
    finally:
        con.close()


# ------------------------------------------------------------------ sorting and Tab
def test_the_order_rules_without_qt():
    rows = [Row("a", ("10", "car", "5", "imported"), "10", 5), Row("b", ("9", "van", "", "human"), "9", None),
            Row("c", ("x1", "Bus", "40", "pre-label 0.80"), "x1", 40), Row("d", ("", "car", "7", "human"), None, 7)]
    uids = lambda rs: [r.uid for r in rs]  # noqa: E731
    assert uids(ordered_rows(rows, column="track")) == ["b", "a", "c", "d"]     # 9 before 10: numbers
    assert uids(ordered_rows(rows, column="points", descending=True)) == ["c", "d", "a", "b"]
    assert uids(ordered_rows(rows, column="class")) == ["c", "a", "d", "b"]      # any case; ties keep order
    assert uids(ordered_rows(rows, "PRE-")) == ["c"] and uids(ordered_rows(rows, "1")) == ["a", "c"]
    assert uids(ordered_rows(rows)) == ["a", "b", "c", "d"]


def test_header_clicks_sort_and_the_sort_stays_across_frames(qtbot, window, project):
    s = window.session
    created = [a.uid for a in s.annotations()]
    assert window.objects.shown_uids == created                         # the frame's order to begin with
    click_header(qtbot, window, "track")
    tracks = [int(t) for t in column(window, 0)]
    assert tracks == sorted(int(a.track_id) for a in s.annotations())   # numeric, not "10" < "5"
    click_header(qtbot, window, "track")
    assert [int(t) for t in column(window, 0)] == sorted(tracks, reverse=True)
    click_header(qtbot, window, "track")
    assert window.objects.shown_uids == created                         # a third click: back to the frame's order
    click_header(qtbot, window, "points")
    click_header(qtbot, window, "points")
    counts = [int(c) for c in column(window, 2)]
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]
    key(qtbot, window, Qt.Key.Key_D)
    testing.wait_for_frame(window, 1)
    qtbot.waitUntil(lambda: window.objects.data.index == 1)
    counts = [int(c) for c in column(window, 2)]
    assert counts == sorted(counts, reverse=True)                  # kept on the next frame
    assert window.objects.horizontalHeaderItem(2).text() == "points ▼"
    # saved: a new session on the project sorts the same way
    window.close()
    again = open_app_window(qtbot, project)
    assert (again.objects.sort_column, again.objects.sort_descending) == ("points", True)
    again.close()


def test_tab_walks_the_list_as_shown(qtbot, window):
    s = window.session
    click_header(qtbot, window, "points")
    shown = list(window.objects.shown_uids)
    assert shown != [a.uid for a in s.annotations()]               # the sort changed the order
    key(qtbot, window, Qt.Key.Key_Tab)
    assert s.selection == (shown[0],)
    key(qtbot, window, Qt.Key.Key_Tab)
    assert s.selection == (shown[1],)
    assert window.objects.selectedIndexes()[0].row() == 1           # the highlighted row
    key(qtbot, window, Qt.Key.Key_Backtab, SHIFT)
    key(qtbot, window, Qt.Key.Key_Backtab, SHIFT)
    assert s.selection == (shown[-1],)                             # wraps around


# ------------------------------------------------------------------ filter
def test_the_filter_field(qtbot, window):
    s, panel = window.session, window.objects_header
    total = len(s.annotations())
    assert panel.count.text() == f"{total} cuboids"
    key(qtbot, window, Qt.Key.Key_F, CTRL)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is panel.filter)
    boxes = {a.uid: a.box for a in s.annotations()}
    qtbot.keyClicks(panel.filter, "ped")
    peds = [a.uid for a in s.annotations() if a.cls == "pedestrian"]
    assert 0 < len(peds) < total
    assert window.objects.shown_uids == peds and set(column(window, 1)) == {"pedestrian"}
    assert panel.count.text() == f"{len(peds)} of {total}"
    # keys typed or edited with stay in the field: no frame step, no nudge, no delete
    for k in (Qt.Key.Key_D, Qt.Key.Key_Up, Qt.Key.Key_Left, Qt.Key.Key_Backspace, Qt.Key.Key_Q):
        qtbot.keyClick(panel.filter, k)
    assert panel.filter.text() == "peqd" and s.frame == 0          # (Left, then Backspace took a "d")
    assert {a.uid: a.box for a in s.annotations()} == boxes
    panel.filter.setText("pedestrian")
    key(qtbot, window, Qt.Key.Key_Tab)                             # Tab is the window's: the nearest pedestrian
    assert s.selection == (expected_tab_order(s, window.bev, peds)[0],)
    key(qtbot, window, Qt.Key.Key_Return)                          # Enter: the keys go back to the views
    assert panel.filter.text() == "pedestrian" and QApplication.focusWidget() is not panel.filter
    key(qtbot, window, Qt.Key.Key_A, CTRL)                         # Ctrl+A: what the list shows
    assert set(s.selection) == set(peds) and "filter" in s.messages[-1].text
    key(qtbot, window, Qt.Key.Key_F, CTRL)
    key(qtbot, window, Qt.Key.Key_Escape)                          # Esc clears it and leaves it
    assert panel.filter.text() == "" and QApplication.focusWidget() is not panel.filter
    assert panel.count.text() == f"{total} cuboids" and len(window.objects.shown_uids) == total
    panel.filter.setText("imported")                               # by status
    assert len(window.objects.shown_uids) == total
    track = s.annotations()[3].track_id
    panel.filter.setText(track)                                    # by track
    assert all(track in (s.document.get(u).track_id or "") for u in window.objects.shown_uids)
    assert s.annotations()[3].uid in window.objects.shown_uids


# ------------------------------------------------------------------ hidden classes
def test_a_hidden_class_is_drawn_picked_listed_and_selected_nowhere(qtbot, window, project):
    s, bev = window.session, window.bev
    peds = [a for a in s.annotations() if a.cls == "pedestrian"]
    s.select((peds[0].uid,))
    window.class_flag_actions[("hidden", "pedestrian")].trigger()  # Classes > Hide class > pedestrian
    assert s.class_view.hidden == {"pedestrian"} and s.selection == ()
    assert "pedestrian" not in column(window, 1)
    total = len(s.annotations())
    assert window.objects_header.count.text() == f"{total - len(peds)} of {total}"
    note = window.objects_header.note
    assert note.isVisibleTo(window) and "hidden" in note.text() and "pedestrian" in note.text()
    assert window.class_view_label.isVisibleTo(window) and "pedestrian" in window.class_view_label.text()
    # no view picks one
    for ped in peds:
        bev.center, bev.scale = np.asarray(ped.box.center[:2], float), 40.0
        hit = bev.hit(QPointF(*bev.to_screen(np.asarray(ped.box.center[:2])[None])[0]))
        assert hit is None or s.document.get(hit[1]).cls != "pedestrian"
    for view in window.cameras.views.values():
        assert all(a.cls != "pedestrian" for a, _ in view.wireframes())
    # Tab around the whole frame and Ctrl+A never reach one
    seen = set()
    for _ in range(total):
        key(qtbot, window, Qt.Key.Key_Tab)
        seen |= set(s.selection)
    key(qtbot, window, Qt.Key.Key_A, CTRL)
    seen |= set(s.selection)
    assert seen and not seen & {p.uid for p in peds}
    s.select([p.uid for p in peds])
    assert s.selection == ()
    # kept in the project
    assert Session(project).class_view.hidden == {"pedestrian"}
    window.class_flag_actions[("hidden", "pedestrian")].trigger()
    assert s.class_view.hidden == set() and "pedestrian" in column(window, 1)
    assert not window.objects_header.note.isVisibleTo(window)


# ------------------------------------------------------------------ locked classes
def test_every_edit_of_a_locked_cuboid_is_refused_and_nothing_is_saved(qtbot, window, project):
    s, bev = window.session, window.bev
    cars = [a for a in s.annotations() if a.cls == "car"]
    other = next(a for a in s.annotations() if a.cls != "car")
    window.class_flag_actions[("locked", "car")].trigger()
    assert s.class_view.locked == {"car"} and "locked" in window.class_view_label.text()
    car = max(cars, key=lambda a: window.objects.count(a.box))    # auto-fit has points to fit to
    before, log = saved_rows(project), log_length(project)
    s.select((car.uid,))
    keys = [(Qt.Key.Key_Up, NO), (Qt.Key.Key_PageUp, NO), (Qt.Key.Key_Q, NO), (Qt.Key.Key_E, SHIFT),
            (Qt.Key.Key_Up, CTRL), (Qt.Key.Key_Left, CTRL), (Qt.Key.Key_F, NO), (Qt.Key.Key_T, NO),
            (Qt.Key.Key_T, SHIFT), (Qt.Key.Key_2, NO), (Qt.Key.Key_Delete, NO), (Qt.Key.Key_Delete, SHIFT)]
    for k, mod in keys:
        n = len(s.messages)
        key(qtbot, window, k, mod)
        assert s.selection == (car.uid,), (k, mod)
        refusal = [m for m in s.messages[n:] if "locked car" in m.text]
        assert refusal and refusal[-1].level == "warning", (k, mod, [m.text for m in s.messages[n:]])
    window.attributes.cls.setCurrentText("van")                   # the attribute panel's class box
    assert "locked car" in s.messages[-1].text and window.attributes.cls.currentText() == "car"
    # a drag in the bird's-eye view
    bev.center, bev.scale = np.asarray(car.box.center[:2], float), 30.0
    bev.update()
    p = QPoint(*[int(round(v)) for v in bev.to_screen(np.asarray(car.box.center[:2])[None])[0]])
    n = len(s.messages)
    qtbot.mousePress(bev, Qt.MouseButton.LeftButton, NO, p)
    for t in range(1, 7):
        qtbot.mouseMove(bev, p + QPoint(0, -8 * t))
    assert s.preview == {}                                         # not even shown moving
    qtbot.mouseRelease(bev, Qt.MouseButton.LeftButton, NO, p + QPoint(0, -48))
    assert sum("Move refused" in m.text for m in s.messages[n:]) == 1
    # a drag in a side view
    top = window.side.views["top"]
    qtbot.wait(10)
    edge = top.to_screen(np.array([[car.box.length / 2, 0.0, 0.0]]))[0]
    a = QPoint(int(round(edge[0])), int(round(edge[1])))
    qtbot.mousePress(top, Qt.MouseButton.LeftButton, NO, a)
    for t in range(1, 6):
        qtbot.mouseMove(top, a + QPoint(5 * t, 0))
    qtbot.mouseRelease(top, Qt.MouseButton.LeftButton, NO, a + QPoint(25, 0))
    assert "Resize refused" in s.messages[-1].text
    # a delete of a mixed selection is refused whole
    s.select((other.uid, car.uid))
    key(qtbot, window, Qt.Key.Key_Delete)
    assert other.uid in s.document and car.uid in s.document
    assert saved_rows(project) == before and log_length(project) == log
    assert s.document.get(car.uid) == car
    # what a lock allows: selecting it, attributes, a new cuboid of another class; unlocking undoes the lock
    s.select((car.uid,))
    key(qtbot, window, Qt.Key.Key_Tab)
    assert s.selection and s.selection != (car.uid,)
    window.class_flag_actions[("locked", "car")].trigger()
    s.select((car.uid,))
    key(qtbot, window, Qt.Key.Key_Up)
    assert s.document.get(car.uid).box != car.box and saved_rows(project) != before


class TruthDetector:
    """Detections = the drive's labels moved by 10 cm, scored 0.9: several classes, known in advance."""

    name = "truth"

    def detect_frame(self, drive, index):
        return [CuboidLabel(g.box.with_(center=np.add(g.box.center, [0.1, 0.0, 0.0])), g.label, None, 0.9, "model")
                for g in drive.labels(index)]


def test_pre_label_runs_keep_locked_pre_labels_and_apply_the_rest(qtbot, tmp_path, monkeypatch):
    """Ctrl+P, Ctrl+Shift+P (its end: storing every frame's boxes) and Shift+X leave the cuboids
    of a locked class as they are, do the rest and say how many they kept; saved as one step."""
    p = Project.create(tmp_path / "project", testing.small_drive(), import_labels=False)
    w = next(app_window(qtbot, p))
    s = w.session
    monkeypatch.setattr(w.actions_, "detector", lambda: TruthDetector())
    key(qtbot, w, Qt.Key.Key_P, CTRL)
    testing.wait_for_prelabels(w)
    w.class_flag_actions[("locked", "car")].trigger()
    locked = {a.uid: a for a in s.annotations() if a.cls == "car"}
    others = {a.uid for a in s.annotations() if a.cls != "car"}
    assert locked and others
    s.project.set_setting("prelabel_min_score", 0.95)              # a run that deletes every pre-label
    log = log_length(p)
    key(qtbot, w, Qt.Key.Key_P, CTRL)
    testing.wait_for_prelabels(w)
    assert f": 0 boxes, replacing {len(others)}, keeping {len(locked)} locked;" in s.messages[-1].text
    assert {a.uid: a for a in s.annotations()} == locked and log_length(p) == log + 1
    s.project.set_setting("prelabel_min_score", 0.5)
    detections = {f: TruthDetector().detect_frame(s.drive, f) for f in range(s.n_frames)}
    w.actions_.store_prelabels(detections)                          # what Ctrl+Shift+P stores when it ends
    assert "Pre-label" in s.messages[-1].text and s.messages[-1].level != "warning"
    assert all(s.document.get(u) == a for u, a in locked.items())
    others = [a.uid for a in s.annotations() if a.cls != "car"]
    assert others and all(s.document.annotations(f) for f in range(1, s.n_frames))
    key(qtbot, w, Qt.Key.Key_X, SHIFT)                              # delete the frame's pre-labels
    assert s.messages[-1].text == f"Delete {len(others)} pre-labels, keeping {len(locked)} locked"
    assert {a.uid: a for a in s.annotations()} == locked
    assert {r for r in saved_rows(p)} >= set(locked)
    w.close()
    p.close()


# ------------------------------------------------------------------ absent entries
def test_absent_rows_without_qt():
    """The tracks marked absent in a frame, in track order, with the class of their nearest cuboid
    ("" when they have none left); a hidden class's track is left out; the filter finds them by
    track, class or "absent"."""
    from fusionlabel.geometry.cuboid import Cuboid
    from fusionlabel.model.commands import CreateCuboid, SetAbsent
    from fusionlabel.model.document import Document
    from fusionlabel.model.ontology import Ontology
    from fusionlabel.app.list_order import absent_rows

    doc = Document(6, Ontology.default())
    for frame, track, cls in ((0, "9", "car"), (5, "9", "van"), (1, "4", "pedestrian")):
        doc.apply(CreateCuboid(frame, CuboidLabel(Cuboid((frame, 0, 0), (4, 2, 1.5)), cls, track)))
    for track in ("9", "12", "4"):
        doc.apply(SetAbsent(track, 2))
    rows = absent_rows(doc, 2)
    assert [(r.uid, r.track_id, r.values[1], r.values[3]) for r in rows] == [
        ("", "4", "pedestrian", "absent here (H)"), ("", "9", "car", "absent here (H)"), ("", "12", "", "absent here (H)")]
    assert [r.values[1] for r in absent_rows(doc, 4) if r.track_id == "9"] == []   # not marked there
    doc.apply(SetAbsent("9", 4))
    assert [r.values[1] for r in absent_rows(doc, 4)] == ["van"]                  # frame 5 is nearer
    assert [r.track_id for r in absent_rows(doc, 2, hidden={"pedestrian"})] == ["9", "12"]
    assert [r.track_id for r in absent_rows(doc, 2, "ABSENT")] == ["4", "9", "12"]
    assert [r.track_id for r in absent_rows(doc, 2, "12")] == ["12"]
    assert [r.track_id for r in absent_rows(doc, 2, "car")] == ["9"]


def row_rect(window, row: int):
    lst = window.objects
    return lst.visualRect(lst.model().index(row, 0))


def test_a_track_marked_absent_is_listed_greyed_and_shift_h_takes_its_marks_back(qtbot, window, project):
    """H on a cuboid: the list shows its track under the cuboids as one greyed entry across the row,
    chosen, since the app remembers the track. Esc forgets it; a click on the entry remembers it
    again and selects no cuboid, so Del deletes nothing and Shift+H takes the marks back (one
    undo step; Ctrl+Z lists it again). The list scrolls to the remembered entry. Sorting keeps it under the cuboids; Tab and Ctrl+A pass it
    by; the filter finds it by "absent"."""
    s, lst = window.session, window.objects
    fid = s.drive.frames[0].frame_id
    ann = next(a for a in s.annotations() if a.track_id is not None)
    s.select((ann.uid,))
    key(qtbot, window, Qt.Key.Key_H)
    assert s.selection == () and s.marked_tracks == (ann.track_id,)
    n = len(lst.shown_uids)
    assert lst.rowCount() == n + 1 and lst.absent_tracks == [ann.track_id] and ann.uid not in lst.shown_uids
    entry = lst.item(n, 0)
    assert entry.text() == f"track {ann.track_id} — absent here (H)" and lst.columnSpan(n, 0) == len(lst.COLUMNS)
    assert entry.foreground().color().getRgb()[:3] == (154, 154, 160) and entry.font().italic()
    assert all(lst.item(n, c) is None for c in range(1, len(lst.COLUMNS)))    # no box: nothing to show
    assert {i.row() for i in lst.selectedIndexes()} == {n}                      # the remembered track
    assert window.objects_header.count.text() == f"{n} + 1 absent"
    key(qtbot, window, Qt.Key.Key_Escape)
    assert s.marked_tracks == () and lst.selectedIndexes() == []
    lst.scrollToTop()
    assert not lst.viewport().rect().contains(row_rect(window, n).center())    # a long list
    s.set_marked_tracks((ann.track_id,))                                        # as H does: scrolled to
    assert lst.viewport().rect().contains(row_rect(window, n).center())
    key(qtbot, window, Qt.Key.Key_Escape)
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=row_rect(window, n).center())
    assert s.selection == () and s.marked_tracks == (ann.track_id,)
    assert s.messages[-1].text == f"track {ann.track_id}: absent here (H); Shift+H takes back its marks, Esc forgets it"
    history = len(s.document.history())
    key(qtbot, window, Qt.Key.Key_Delete)
    assert s.messages[-1].text == "select a cuboid first (click it, or Tab)" and len(s.document.history()) == history
    qtbot.mouseDClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=row_rect(window, n).center())
    assert s.selection == () and s.marked_tracks == (ann.track_id,)
    key(qtbot, window, Qt.Key.Key_H, SHIFT)
    assert s.messages[-1].text == f"No longer absent: track {ann.track_id} in frame {fid}"
    assert lst.rowCount() == n and lst.absent_tracks == [] and len(s.document.history()) == history + 1
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert lst.absent_tracks == [ann.track_id] and s.document.find_track(ann.track_id, 0) is None
    click_header(qtbot, window, "points")
    click_header(qtbot, window, "points")                          # descending: the entry stays last
    assert lst.rowCount() == n + 1 and lst.item(n, 0).text() == f"track {ann.track_id} — absent here (H)"
    key(qtbot, window, Qt.Key.Key_Backtab, SHIFT)                  # Tab walks the cuboids only
    assert s.selection == (lst.shown_uids[-1],)
    key(qtbot, window, Qt.Key.Key_A, CTRL)
    assert set(s.selection) == set(lst.shown_uids) and len(s.selection) == n
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, CTRL, row_rect(window, n).center())
    assert len(s.selection) == n and s.marked_tracks == () and n not in {i.row() for i in lst.selectedIndexes()}
    window.objects_header.filter.setText("absent")
    assert lst.shown_uids == [] and lst.absent_tracks == [ann.track_id] and lst.rowCount() == 1


def test_the_count_says_how_many_absent_entries_are_listed(qtbot, window):
    """The count names the absent entries under the cuboids: "36 + 2 absent"; with "absent" typed
    in the filter, which lists only them, "0 of 36 + 2 absent" (not a bare "0 of 36"); never cut."""
    s, lst, count = window.session, window.objects, window.objects_header.count
    tracked = [a for a in s.annotations() if a.track_id is not None][:2]
    total = len(s.annotations())
    assert count.text() == f"{total} cuboids"
    s.select(tuple(a.uid for a in tracked))
    key(qtbot, window, Qt.Key.Key_H)
    assert len(lst.absent_tracks) == 2 and len(lst.shown_uids) == total - 2
    assert count.text() == f"{total - 2} + 2 absent"
    window.objects_header.filter.setText("absent")
    assert lst.shown_uids == [] and lst.rowCount() == 2
    assert count.text() == f"0 of {total - 2} + 2 absent"
    assert count.width() >= count.fontMetrics().horizontalAdvance(count.text())
    window.objects_header.filter.setText(tracked[0].cls)
    shown = len(lst.shown_uids)
    assert count.text() == f"{shown} of {total - 2}" + (f" + {len(lst.absent_tracks)} absent" if lst.absent_tracks else "")


def test_the_attribute_panel_says_what_a_chosen_absent_entry_is(qtbot, window):
    """An absent entry chosen in the list selects no cuboid; the attribute panel then names the
    track and its class, says it is marked absent in this frame and that Shift+H takes its marks
    back, instead of a blank "no selection". After Shift+H it says H marks the track here again;
    Esc forgets the track and the panel says "no selection"; a cuboid selected shows its own."""
    s, lst, panel = window.session, window.objects, window.attributes
    fid = s.drive.frames[0].frame_id
    ann = next(a for a in s.annotations() if a.track_id is not None)
    s.select((ann.uid,))
    key(qtbot, window, Qt.Key.Key_H)
    key(qtbot, window, Qt.Key.Key_Escape)
    assert panel.title.text() == "no selection" and panel.note.isHidden() and not panel.fields.isEnabled()
    assert panel.cls.currentText() == "", "no cuboid: the greyed class box shows no class"
    n = len(lst.shown_uids)
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=row_rect(window, n).center())
    assert s.selection == () and s.marked_tracks == (ann.track_id,)
    assert panel.title.text() == f"track {ann.track_id} ({ann.cls})" and panel.title.isEnabled()
    assert not panel.note.isHidden() and not panel.fields.isEnabled() and panel.cls.currentText() == ""
    lines = panel.note.text().splitlines()
    assert lines[0] == f"Marked absent in frame {fid} (H): no cuboid here, nothing to edit"
    assert lines[-1].startswith("Shift+H takes back its marks in every frame") and "Esc forgets it" in lines[-1]
    key(qtbot, window, Qt.Key.Key_H, SHIFT)
    assert s.marked_tracks == (ann.track_id,)
    assert panel.note.text().splitlines()[0] == f"H marks it absent in frame {fid} too"
    key(qtbot, window, Qt.Key.Key_Escape)
    assert panel.title.text() == "no selection" and panel.note.isHidden()
    other = lst.shown_uids[0]
    s.select((other,))
    assert panel.title.text().startswith(f"track {s.document.get(other).track_id}") and panel.note.isHidden()
    assert panel.fields.isEnabled() and panel.cls.currentText() == s.document.get(other).cls


def test_the_selected_row_stays_in_view_when_the_list_gets_shorter(qtbot, window):
    """The label checks' dock opening under the list (or a smaller window) shortens it: the
    selected cuboid's row, in view before, is scrolled back into view; a row the annotator had
    scrolled away from is left where it is."""
    s, lst = window.session, window.objects

    def in_view(row: int) -> bool:
        y = lst.rowViewportPosition(row)
        return y >= 0 and y + lst.rowHeight(row) <= lst.viewport().height()

    shown = [r for r in range(lst.rowCount()) if in_view(r)]
    assert len(shown) < lst.rowCount(), "the test needs a list longer than its view"
    row = shown[-1]                         # the lowest row in view: the first to go
    s.select([lst.shown_uids[row]])
    qtbot.waitUntil(lambda: lst.item(row, 0).isSelected())
    before = lst.viewport().height()
    window.resize(window.width(), window.height() - 200)
    qtbot.waitUntil(lambda: lst.viewport().height() < before)
    assert in_view(row), (lst.rowViewportPosition(row), lst.viewport().height())

    lst.scrollToTop()                       # scrolled away: a resize does not pull it back
    window.resize(window.width(), window.height() + 200)
    QApplication.processEvents()
    far = lst.rowCount() - 1
    s.select([lst.shown_uids[far]])
    lst.scrollToTop()
    assert not in_view(far)
    window.resize(window.width(), window.height() - 100)
    QApplication.processEvents()
    assert not in_view(far) and lst.verticalScrollBar().value() == 0


def test_class_and_pre_label_text_reads_on_the_list_s_background(window):
    """The class names (in their class colour) and pre-label states (light blue, amber) are
    darkened on the list's light background until they read (WCAG 4.5:1), keeping their hue: the
    van's yellow and the car's orange were about 1.5:1 and 2:1 on white."""
    from fusionlabel.app.qt_util import SOURCE_TEXT_COLORS
    from fusionlabel.app.styles import list_text_rgb
    from fusionlabel.model.ontology import Ontology

    def contrast(a, b) -> float:       # WCAG, written out here on its own
        def lum(rgb):
            lin = [(c / 255) / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb[:3]]
            return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
        hi, lo = sorted((lum(a), lum(b)), reverse=True)
        return (hi + 0.05) / (lo + 0.05)

    lst = window.objects
    base = lst.palette().color(lst.viewport().backgroundRole()).getRgb()[:3]
    assert sum(base) > 600, base                     # the light list this test is about
    classes = column(window, 1)
    assert classes
    for r, name in enumerate(classes):
        fg = lst.item(r, 1).foreground().color().getRgb()[:3]
        assert contrast(fg, base) >= 4.5, (name, fg, base)
        want = window.session.ontology.color(name)
        assert max(range(3), key=lambda i: fg[i]) == max(range(3), key=lambda i: want[i]), (name, fg, want)
    colors = [spec.color for spec in Ontology.default().classes.values()]
    colors += [c.getRgb()[:3] for c in SOURCE_TEXT_COLORS.values()]
    for rgb in colors:
        text = list_text_rgb(tuple(rgb), (255, 255, 255))
        assert contrast(text, (255, 255, 255)) >= 4.5, (rgb, text)
        assert max(range(3), key=lambda i: text[i]) == max(range(3), key=lambda i: rgb[i])
        if contrast(rgb, (255, 255, 255)) >= 4.5:
            assert tuple(text) == tuple(rgb)        # a colour that reads stays as it is
    assert list_text_rgb((150, 190, 230), (30, 30, 30)) == (150, 190, 230)   # a dark theme: as it was


def test_columns_keep_usable_widths_with_only_absent_entries_listed(qtbot, window):
    """With only absent entries listed (they span the row, so no column measures them), the
    columns keep the widths they had with cuboids listed, instead of shrinking to their titles."""
    s, lst = window.session, window.objects
    widths = [lst.columnWidth(c) for c in range(len(lst.COLUMNS))]
    s.select((next(a for a in s.annotations() if a.track_id is not None).uid,))
    key(qtbot, window, Qt.Key.Key_H)
    window.objects_header.filter.setText("absent")
    assert lst.shown_uids == [] and lst.rowCount() == 1
    QApplication.processEvents()
    if SHOTS:
        lst.grab().save(os.path.join(SHOTS, "list_only_absent.png"))
    now = [lst.columnWidth(c) for c in range(len(lst.COLUMNS))]
    assert all(n >= w for n, w in zip(now, widths)), (now, widths)
    fm = lst.fontMetrics()
    assert lst.columnWidth(1) > fm.horizontalAdvance("pedestrian") and lst.columnWidth(3) > fm.horizontalAdvance("imported")


def test_the_count_of_a_single_cuboid_is_singular(qtbot, window):
    """Deleting all but one cuboid of the frame leaves "1 cuboid", not "1 cuboids"."""
    s, count = window.session, window.objects_header.count
    keep, *others = s.annotations()
    s.select(tuple(a.uid for a in others))
    window.bev.setFocus()
    qtbot.keyClick(window.bev, Qt.Key.Key_Delete)
    assert [a.uid for a in s.annotations()] == [keep.uid]
    assert count.text() == "1 cuboid"
