"""Ctrl+K in the app: the label checks of `fusionlabel check` run on the open project in the
background, their findings are listed in a dock, and choosing one goes to its frame and selects the
cuboid of its track there (pytest-qt, offscreen)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import Qt  # noqa: E402

from fusionlabel.app.session import Session  # noqa: E402
from fusionlabel.model.commands import DeleteCuboids, SetBox  # noqa: E402
from fusionlabel.qa.label_check import check_labels  # noqa: E402
from fusionlabel.qa.project_labels import read_project  # noqa: E402

pytestmark = pytest.mark.gui


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
    assert s.messages[-1].text.startswith(f"label check: {len(want)} findings; ")
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
