"""Ctrl+K in the app: the label checks of `fusionlabel check` run on the open project in the
background, their findings are listed in a dock, and choosing one goes to its frame and selects the
cuboid of its track there (pytest-qt, offscreen)."""

from __future__ import annotations

import os
import re
import threading

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import Qt  # noqa: E402

from fusionlabel.app import check_panel, check_runner, testing  # noqa: E402
from fusionlabel.app.session import Session  # noqa: E402
from fusionlabel.model.commands import DeleteCuboids, SetBox  # noqa: E402
from fusionlabel.store.project import Project  # noqa: E402
from fusionlabel.qa.label_check import check_labels  # noqa: E402
from fusionlabel.qa.project_labels import read_project  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("checks_count_as_short")]


def test_ctrl_k_lists_the_label_findings_and_a_click_goes_to_one(qtbot, window):
    """An oversized car and a pedestrian's missing box: Ctrl+K lists what `fusionlabel check` finds
    in the project on disk; a click on the car's finding goes to its frame and selects it, Enter on
    the gap goes to the frame without the box, selects nothing and remembers the track, so that H
    marks it absent there."""
    w, s = window, window.session
    car = next(a for a in s.document.annotations(1) if a.cls == "car" and a.track_id is not None)
    s.apply(SetBox(car.uid, car.box.with_(size=(25.0, 6.0, 1.5))))          # no car is that big
    walker = next(a for a in s.document.annotations(1) if a.cls == "pedestrian" and a.track_id is not None
                  and s.document.find_track(a.track_id, 0) and s.document.find_track(a.track_id, 2))
    s.apply(DeleteCuboids((walker.uid,)))                                  # a gap in its track
    assert not w.check_panel.isVisible()
    qtbot.keyClick(w.bev, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.check_panel.report is not None, timeout=30_000)
    # The same findings as `fusionlabel check` gives for the project on disk, in its order.
    project = read_project(s.project.folder)
    want = check_labels(project.drive, {i: v for i, v in enumerate(project.labels) if v}, "project",
                        absent=project.absent).findings
    listed = w.check_panel.findings
    assert listed == want and len(want) >= 2
    assert w.check_panel.isVisible() and w.check_panel.list.count() == len(want)
    assert re.fullmatch(rf"label check: {len(want)} findings in \d+\.\d\d s", s.messages[-1].text)
    # A click on the oversized car's finding: its frame, that cuboid selected.
    s.set_frame(0)
    row = next(i for i, f in enumerate(listed) if f.check == "label-size" and f.track_id == car.track_id)
    list_widget = w.check_panel.list
    rect = list_widget.visualItemRect(list_widget.item(row))
    qtbot.mouseClick(list_widget.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert s.frame == 1 and s.selection == (car.uid,)
    # The pedestrian's gap: the frame without its box, nothing selected there.
    row = next(i for i, f in enumerate(listed) if f.check == "track-gap" and f.track_id == walker.track_id)
    s.set_frame(2)
    list_widget.setCurrentRow(row)
    qtbot.keyClick(list_widget, Qt.Key.Key_Return)
    assert s.frame == 1 and s.selection == () and s.marked_tracks == (walker.track_id,)
    assert s.document.absent_frames(walker.track_id) == []
    qtbot.keyClick(w.bev, Qt.Key.Key_H)                 # the finding's remedy in one key: absent here
    assert s.document.absent_frames(walker.track_id) == [1]


def test_without_a_window_ctrl_k_counts_the_findings_in_its_message(project):
    from fusionlabel.app.actions import Actions

    s = Session(project)
    car = next(a for a in s.document.annotations(0) if a.cls == "car")
    s.apply(SetBox(car.uid, car.box.with_(size=(25.0, 6.0, 1.5))))
    Actions(s).check_labels()
    labels = {i: [a.label for a in s.document.annotations(i)] for i in range(s.n_frames)}
    found = check_labels(s.drive, labels, "project").findings
    assert found and s.messages[-1].text.startswith(f"label check: {len(found)} finding")


def test_the_findings_list_stays_hidden_when_a_layout_saved_with_it_comes_back(qtbot, project, tmp_path,
                                                                                monkeypatch):
    """A window closed with the list shown saves it in its layout; the next one starts without it
    (it would be empty until Ctrl+K)."""
    from fusionlabel.app import testing
    from fusionlabel.app.main_window import MainWindow
    from fusionlabel.app.window_layout import SETTINGS_DIR_ENV

    monkeypatch.setenv(SETTINGS_DIR_ENV, str(tmp_path / "settings"))
    shown = []
    for _ in range(2):
        w = MainWindow(Session(project), use_gl=False, remember_layout=True)
        qtbot.addWidget(w)
        testing.show_window(w)
        shown.append(w.check_panel.isVisible())
        w.check_panel.show()
        w.close()
    assert shown == [False, False]


def oversize(s, car) -> None:
    s.apply(SetBox(car.uid, car.box.with_(size=(25.0, 6.0, 1.5))))          # no car is that big


def listed(panel, check: str, track: str) -> bool:
    return any(f.check == check and f.track_id == track for f in panel.findings)


def open_checks(qtbot, w) -> None:
    qtbot.keyClick(w.bev, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.check_panel.report is not None and not w.check_panel.refreshing, timeout=30_000)


def test_the_open_list_follows_the_edits_undo_and_redo(qtbot, window):
    """With the list open, a finding fixed (a gap marked absent with H, an oversized car undone)
    leaves it and a new one (the car oversized again by redo) joins it, each after the edits pause,
    with the dock's title saying so meanwhile; the finding chosen in the list stays chosen."""
    w, s = window, window.session
    panel = w.check_panel
    cars = [a for a in s.document.annotations(1) if a.cls == "car" and a.track_id is not None]
    oversize(s, cars[0])
    walker = next(a for a in s.document.annotations(1) if a.cls == "pedestrian" and a.track_id is not None
                  and s.document.find_track(a.track_id, 0) and s.document.find_track(a.track_id, 2))
    s.apply(DeleteCuboids((walker.uid,)))
    open_checks(qtbot, w)
    assert listed(panel, "track-gap", walker.track_id) and listed(panel, "label-size", cars[0].track_id)
    count = len(panel.findings)
    assert panel.windowTitle() == f"Label checks: {count} findings"
    # Go to the gap (Enter), mark it absent (H): the gap leaves the list.
    row = next(i for i, f in enumerate(panel.findings) if f.check == "track-gap")
    panel.list.setCurrentRow(row)
    qtbot.keyClick(panel.list, Qt.Key.Key_Return)
    qtbot.keyClick(w.bev, Qt.Key.Key_H)
    assert panel.refreshing and panel.windowTitle() == f"Label checks: {count} findings, refreshing…"
    qtbot.waitUntil(lambda: not listed(panel, "track-gap", walker.track_id), timeout=30_000)
    qtbot.waitUntil(lambda: not panel.refreshing)
    assert panel.windowTitle() == f"Label checks: {count - 1} findings" and len(panel.findings) == count - 1
    assert panel.list.count() == count - 1
    # The car's finding chosen; a second car oversized: a new finding, the first still chosen.
    chosen = next(i for i, f in enumerate(panel.findings) if f.check == "label-size")
    panel.list.setCurrentRow(chosen)
    oversize(s, cars[1])
    qtbot.waitUntil(lambda: listed(panel, "label-size", cars[1].track_id), timeout=30_000)
    current = panel.findings[panel.list.currentRow()]
    assert (current.check, current.track_id) == ("label-size", cars[0].track_id)
    # Undo and redo are edits too.
    s.undo()
    qtbot.waitUntil(lambda: not listed(panel, "label-size", cars[1].track_id), timeout=30_000)
    s.redo()
    qtbot.waitUntil(lambda: listed(panel, "label-size", cars[1].track_id), timeout=30_000)


def test_a_burst_of_edits_is_checked_once_and_a_newer_edit_supersedes_a_running_check(qtbot, window,
                                                                                      monkeypatch):
    """Edits in a burst start one check after the last of them; an edit made while a check runs
    makes its result stale: it is never shown, the labels are checked again, and never two checks
    run at once."""
    w, s = window, window.session
    panel = w.check_panel
    open_checks(qtbot, w)
    real, gates = check_runner.run_checks, (threading.Event(), threading.Event())
    runs, running, most = [], [0], [0]

    def gated(drive, labels, absent):   # the real checks, each held until the test lets it go
        running[0] += 1
        most[0] = max(most[0], running[0])
        runs.append(next(lab.box.size[0] for lab in labels[0] if lab.track_id == cars[0].track_id))
        gates[len(runs) - 1].wait(30)
        try:
            return real(drive, labels, absent)
        finally:
            running[0] -= 1

    monkeypatch.setattr(check_runner, "run_checks", gated)
    cars = [a for a in s.document.annotations(0) if a.cls == "car" and a.track_id is not None]
    for size in (8.0, 12.0, 25.0):   # a burst: one check, of the last size
        s.apply(SetBox(cars[0].uid, cars[0].box.with_(size=(size, 2.0, 1.5))), merge="Resize")
    qtbot.waitUntil(lambda: len(runs) == 1, timeout=5_000)
    assert runs == [25.0]
    before = list(panel.findings)
    oversize(s, cars[1])                       # while that check runs
    qtbot.wait(2 * check_runner.REFRESH_MS)     # the next check waits for the running one
    assert len(runs) == 1 and panel.findings == before and panel.refreshing
    gates[0].set()
    qtbot.waitUntil(lambda: len(runs) == 2, timeout=30_000)
    assert panel.findings == before            # the stale result was dropped
    gates[1].set()
    qtbot.waitUntil(lambda: not panel.refreshing, timeout=30_000)
    assert listed(panel, "label-size", cars[0].track_id) and listed(panel, "label-size", cars[1].track_id)
    assert most[0] == 1


def test_a_check_counts_as_running_until_its_result_is_shown(qtbot, window, monkeypatch):
    """The worker thread ends before the GUI thread takes its result: until then the list is still
    being refreshed (a wait for "not refreshing" would otherwise see the old findings)."""
    w, s = window, window.session
    panel = w.check_panel
    open_checks(qtbot, w)
    before = list(panel.findings)
    car = next(a for a in s.document.annotations(0) if a.cls == "car" and a.track_id is not None)
    oversize(s, car)
    panel.runner.timer.stop()
    panel.runner._launch()               # the refresh the timer would have started
    panel.runner._thread.join(30)        # the worker is done; its result not yet taken
    assert panel.running and panel.refreshing and panel.findings == before
    qtbot.waitUntil(lambda: not panel.refreshing, timeout=30_000)
    assert listed(panel, "label-size", car.track_id)


def test_a_closed_list_is_not_checked_again(qtbot, window, monkeypatch):
    w, s = window, window.session
    open_checks(qtbot, w)
    w.check_panel.close()
    started = []
    real = check_runner.run_checks
    monkeypatch.setattr(check_runner, "run_checks", lambda *args: started.append(1) or real(*args))
    oversize(s, next(a for a in s.document.annotations(0) if a.cls == "car"))
    qtbot.wait(2 * check_runner.REFRESH_MS)
    assert started == [] and not w.check_panel.refreshing


def test_a_long_check_is_not_repeated_after_every_edit(qtbot, window, monkeypatch):
    """On a drive whose check takes longer than AUTO_MAX_S (thousands of frames: tens of seconds
    on a thread that slows editing), an edit does not start another one: the list stays, its title
    says the labels changed since and that Ctrl+K checks them again; Ctrl+K does, and a short
    check is again repeated by edits."""
    w, s = window, window.session
    panel = w.check_panel
    monkeypatch.setattr(check_runner, "AUTO_MAX_S", -1.0)      # every check counts as long
    open_checks(qtbot, w)
    before = list(panel.findings)
    started = []
    real = check_runner.run_checks
    monkeypatch.setattr(check_runner, "run_checks", lambda *args: started.append(1) or real(*args))
    cars = [a for a in s.document.annotations(0) if a.cls == "car" and a.track_id is not None]
    oversize(s, cars[0])
    qtbot.wait(2 * check_runner.REFRESH_MS)
    assert started == [] and not panel.refreshing and panel.findings == before
    assert panel.windowTitle() == f"Label checks: {len(before)} findings, labels changed since: Ctrl+K checks again"
    open_checks(qtbot, w)
    assert started == [1] and listed(panel, "label-size", cars[0].track_id)
    assert panel.windowTitle() == f"Label checks: {len(panel.findings)} findings"
    monkeypatch.setattr(check_runner, "AUTO_MAX_S", 1e9)       # a short check: edits repeat it
    oversize(s, cars[1])
    qtbot.waitUntil(lambda: listed(panel, "label-size", cars[1].track_id), timeout=30_000)


def test_a_check_that_ends_after_the_project_closed_shows_nothing(qtbot, window, monkeypatch):
    """Closing the app while a check runs (the open list re-checks after every edit): its result
    arrives once the project is closed and is dropped, not an error in the event loop."""
    w, s = window, window.session
    open_checks(qtbot, w)
    real, gate, done = check_runner.run_checks, threading.Event(), threading.Event()

    def gated(*args):
        gate.wait(30)
        try:
            return real(*args)
        finally:
            done.set()

    monkeypatch.setattr(check_runner, "run_checks", gated)
    oversize(s, next(a for a in s.document.annotations(0) if a.cls == "car"))
    qtbot.waitUntil(lambda: w.check_panel.running, timeout=5_000)
    shown = w.check_panel.report
    s.project.close()
    gate.set()
    assert done.wait(30)
    qtbot.waitUntil(lambda: not w.check_panel.running, timeout=5_000)
    qtbot.wait(50)                       # the result's signal is delivered on the GUI thread
    assert w.check_panel.report is shown


def test_the_notes_go_in_the_dock_and_the_status_bar_line_stays_short(qtbot, tmp_path):
    """A sweep that cannot be read leaves a note: the status bar counts it in a short line, the
    dock shows it under the title and its tooltip gives it in full."""
    from conftest import open_app_window

    drive = testing.copy_drive(testing.small_drive(), tmp_path / "drive")
    project = Project.create(tmp_path / "project", drive, import_labels=True)
    (drive / "lidar" / "000002.fri").write_bytes(b"not a sweep")
    w = open_app_window(qtbot, project)
    try:
        for car in [a for a in w.session.document.annotations(0) if a.cls == "car"][:2]:
            oversize(w.session, car)
        open_checks(qtbot, w)
        notes = w.check_panel.report.notes
        assert any("000002" in note for note in notes)
        n = len(w.check_panel.findings)
        said = w.session.messages[-1].text
        assert re.fullmatch(rf"label check: {n} findings? in \d+\.\d\d s; {len(notes)} notes? in the dock", said)
        assert len(said) < 60 and "000002" not in said
        header = w.check_panel.header
        assert header.notes_label.isVisible() and "000002" in header.notes_label.text()
        assert header.notes_label.toolTip() == "\n".join(notes)
        assert header.checked_label.text() == f"checked {w.check_panel.report.status()}"
        rows = w.check_panel.list
        assert 0 < n <= check_panel.SHOWN_ROWS   # the dock opens as tall as its findings and the lines above them
        qtbot.waitUntil(lambda: all(rows.viewport().rect().contains(rows.visualItemRect(rows.item(i)))
                                    for i in range(n)), timeout=10_000)   # once the dock has taken its height
    finally:
        w.close()
        project.close()



SMALL_SCREEN_SCRIPT = r"""
import json, os, sys, tempfile, time
from pathlib import Path
from PyQt6.QtCore import QCoreApplication, Qt
from PyQt6.QtWidgets import QApplication
QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
app = QApplication([])
from PyQt6.QtTest import QTest
from fusionlabel.app import testing
from fusionlabel.app.main_window import MainWindow
from fusionlabel.app.qt_util import opengl_available
from fusionlabel.app.session import Session
from fusionlabel.store.project import Project
if not opengl_available():
    print(json.dumps({"skip": "no OpenGL on this display"}))
    sys.exit(0)
with tempfile.TemporaryDirectory() as tmp:
    project = Project.create(Path(tmp) / "project", Path(os.environ["NUSC_ROOT"]), import_labels=True)
    w = MainWindow(Session(project), use_gl=True, remember_layout=False)
    w.window_layout.apply_default((1280, 720))
    w.resize(1280, 720)
    testing.show_window(w)
    before = [w.width(), w.height()]
    QTest.keyClick(w.bev, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    deadline = time.time() + 60
    while time.time() < deadline and not (w.check_panel.report is not None and w.check_panel.isVisible()):
        QTest.qWait(20)
    QTest.qWait(200)
    out = {"cameras": len(w.cameras.views), "before": before, "after": [w.width(), w.height()],
           "min": w.minimumSizeHint().height(), "list": w.check_panel.list.height(),
           "line": w.check_panel.list.fontMetrics().lineSpacing()}
    w.close(); w.session.close(); project.close()
print(json.dumps(out))
"""


def test_the_check_dock_keeps_a_1280x720_window_on_the_screen(nusc_root):
    """Six cameras (nuScenes) at 1280x720, the 3D view on: Ctrl+K opens the dock under the views
    without making the window taller than the screen (it grew to 734 px, the status bar off it)."""
    from conftest import run_on_display

    out = run_on_display(SMALL_SCREEN_SCRIPT, env={"NUSC_ROOT": str(nusc_root)})
    assert out["cameras"] == 6 and out["before"] == [1280, 720], out
    assert out["after"][1] <= 720 and out["min"] <= 720, out
    assert out["list"] >= out["line"], out                     # a finding's line shows
