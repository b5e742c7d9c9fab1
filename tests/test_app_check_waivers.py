"""Waiving findings in the label-check dock (Ctrl+K): W on a chosen finding asks why it is fine
(Esc cancels), the waiver goes to the project and the finding leaves the list, counted under it;
the tick box shows it greyed, where W takes the waiver back; `fusionlabel check` agrees (pytest-qt)."""

from __future__ import annotations

import json
import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import Qt  # noqa: E402

from fusionlabel.cli.main import main  # noqa: E402
from fusionlabel.model.commands import SetBox  # noqa: E402
from fusionlabel.model.waiver import current_user  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("checks_count_as_short")]


def row_of(panel, check: str, track: str) -> int:
    return next(i for i, (f, _) in enumerate(panel.rows) if f.check == check and f.track_id == track)


def listed(panel, check: str, track: str) -> bool:
    return any(f.check == check and f.track_id == track for f, _ in panel.rows)


def checked_with_a_huge_car(qtbot, window):
    """(window, session, dock, the car) after a car of frame 1 is made 25 m long and Ctrl+K checked."""
    s, panel = window.session, window.check_panel
    car = next(a for a in s.document.annotations(1) if a.cls == "car" and a.track_id is not None)
    s.apply(SetBox(car.uid, car.box.with_(size=(25.0, 6.0, 1.5))))         # no car is that big
    qtbot.keyClick(window.bev, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: panel.report is not None and not panel.refreshing, timeout=30_000)
    return window, s, panel, car


def test_the_list_shows_each_finding_with_the_id_fusionlabel_check_prints(qtbot, window, capsys):
    w, s, panel, car = checked_with_a_huge_car(qtbot, window)
    assert main(["check", str(s.project.folder), "--labels-only", "--json"]) == 3
    by_id = {f["id"]: f for f in json.loads(capsys.readouterr().out)["findings"]}
    rows = [panel.list.item(i).text() for i in range(panel.list.count())]
    assert len(rows) == len(by_id)
    for fid, f in by_id.items():        # the id a QA lead gives to `check --waive`, in its row
        assert sum(f"{f['severity']}  [{fid}] {f['subject']}: " in row for row in rows) == 1, (fid, rows)


def test_w_waives_the_chosen_finding_with_a_reason_and_takes_it_back(qtbot, window, capsys):
    w, s, panel, car = checked_with_a_huge_car(qtbot, window)
    n = len(panel.findings)
    assert listed(panel, "label-size", car.track_id) and panel.bar.shown.text() == "no finding waived"
    s.set_frame(0)
    rect = panel.list.visualItemRect(panel.list.item(row_of(panel, "label-size", car.track_id)))
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())   # goes there, too
    assert s.frame == 1 and s.selection == (car.uid,) and panel.bar.waive.text() == "Waive… (W)"
    # W, then Esc: nothing waived
    qtbot.keyClick(panel.list, Qt.Key.Key_W)
    assert panel.dialog is not None and panel.dialog.isVisible()
    qtbot.keyClicks(panel.dialog.reason, "   ")
    qtbot.keyClick(panel.dialog.reason, Qt.Key.Key_Return)          # a blank reason waives nothing
    assert panel.dialog.isVisible()
    qtbot.keyClick(panel.dialog.reason, Qt.Key.Key_Escape)
    assert not panel.dialog.isVisible() and s.project.store.waivers() == []
    assert listed(panel, "label-size", car.track_id)
    # W, a reason, Enter: waived in the project, gone from the list, counted under the title
    qtbot.keyClick(panel.list, Qt.Key.Key_W)
    qtbot.keyClicks(panel.dialog.reason, "a real oversized vehicle")
    qtbot.keyClick(panel.dialog.reason, Qt.Key.Key_Return)
    (waiver,) = s.project.store.waivers()
    assert (waiver.check, waiver.subject, waiver.reason, waiver.user) == (
        "label-size", f"track {car.track_id}", "a real oversized vehicle", current_user())
    assert not listed(panel, "label-size", car.track_id) and len(panel.rows) == n - 1
    assert panel.windowTitle() == f"Label checks: {n - 1} finding{'s' if n - 1 != 1 else ''}"
    assert panel.bar.shown.text() == "1 finding waived: show them"
    assert s.messages[-1].text == f"waived [{waiver.id}] track {car.track_id} (label-size): a real oversized vehicle"
    # `fusionlabel check` reads the same waiver
    assert main(["check", str(s.project.folder), "--labels-only", "--json"]) in (0, 3)
    found = [f for f in json.loads(capsys.readouterr().out)["findings"] if f["waived"]]
    assert [(f["check"], f["track_id"], f["waiver"]["reason"]) for f in found] == [
        ("label-size", car.track_id, "a real oversized vehicle")]
    # resized a little: the list follows the edit, the finding stays waived
    s.apply(SetBox(car.uid, car.box.with_(size=(24.0, 6.0, 1.5))))
    qtbot.waitUntil(lambda: not panel.refreshing, timeout=30_000)
    assert not listed(panel, "label-size", car.track_id) and panel.bar.shown.text() == "1 finding waived: show them"
    # the tick box shows it greyed; W there takes the waiver back
    panel.bar.shown.setChecked(True)
    row = row_of(panel, "label-size", car.track_id)
    assert panel.list.item(row).text().startswith("waived  ") and len(panel.rows) == n
    assert panel.bar.shown.text() == "1 finding waived: shown greyed"
    assert "a real oversized vehicle" in panel.list.item(row).toolTip()
    panel.list.setCurrentRow(row)
    assert panel.bar.waive.text() == "Unwaive (W)"
    qtbot.keyClick(panel.list, Qt.Key.Key_W)
    assert s.project.store.waivers() == [] and not panel.list.item(row).text().startswith("waived")
    assert s.messages[-1].text.startswith(f"1 waiver taken back: {waiver.id} (track {car.track_id}, label-size)")
    assert panel.bar.shown.text() == "no finding waived" and panel.windowTitle() == f"Label checks: {n} findings"


def test_a_read_only_project_refuses_w_before_asking_for_a_reason(qtbot, project, tmp_path):
    """Another process has the project (here: opened read-only): W asks for no reason, leaves the
    finding listed and says why no waiver can be written, as `check --waive` does."""
    from conftest import open_app_window
    from fusionlabel.store.project import Project

    car = next(a for a in project.document.annotations(1) if a.cls == "car" and a.track_id is not None)
    project.document.apply(SetBox(car.uid, car.box.with_(size=(25.0, 6.0, 1.5))))
    with Project.open(project.folder, read_only=True) as other:
        w = open_app_window(qtbot, other)
        panel = w.check_panel
        qtbot.keyClick(w.bev, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: panel.report is not None, timeout=30_000)
        panel.list.setCurrentRow(row_of(panel, "label-size", car.track_id))
        qtbot.keyClick(panel.list, Qt.Key.Key_W)
        assert panel.dialog is None                     # no reason asked for: it could not be kept
        assert listed(panel, "label-size", car.track_id) and panel.bar.shown.text() == "no finding waived"
        message = w.session.messages[-1]
        assert message.level == "error" and message.text.startswith("waivers not changed: ") and "read-only" in message.text
        w.close()
    assert project.store.waivers() == []


def test_a_stale_waiver_is_counted_in_a_grey_line_and_w_takes_it_back(qtbot, window):
    """A waiver whose finding is fixed: the dock counts it under the bar, lists it greyed with the
    waived findings, and W on it takes it back."""
    w, s, panel, car = checked_with_a_huge_car(qtbot, window)
    panel.list.setCurrentRow(row_of(panel, "label-size", car.track_id))
    qtbot.keyClick(panel.list, Qt.Key.Key_W)
    qtbot.keyClicks(panel.dialog.reason, "a real oversized vehicle")
    qtbot.keyClick(panel.dialog.reason, Qt.Key.Key_Return)
    (waiver,) = s.project.store.waivers()
    assert panel.bar.stale.isHidden()
    s.apply(SetBox(car.uid, car.box))                   # fixed: the waiver's finding is gone
    qtbot.waitUntil(lambda: not panel.refreshing and not listed(panel, "label-size", car.track_id), timeout=30_000)
    qtbot.waitUntil(lambda: not panel.bar.stale.isHidden(), timeout=30_000)
    assert panel.bar.stale.text().startswith("1 stale waiver (their finding is no longer found)")
    assert panel.bar.shown.text() == "1 stale waiver: show them" and panel.bar.shown.isEnabled()
    panel.bar.shown.setChecked(True)
    row = len(panel.rows) - 1
    assert panel.rows[row] == (None, waiver)
    assert panel.list.item(row).text() == f"stale   [{waiver.id}] {waiver.subject} (label-size): a real oversized vehicle"
    panel.list.setCurrentRow(row)
    assert panel.bar.waive.text() == "Unwaive (W)"
    qtbot.keyClick(panel.list, Qt.Key.Key_W)
    assert s.project.store.waivers() == [] and panel.bar.stale.isHidden()
    assert s.messages[-1].text == f"1 waiver taken back: {waiver.id} ({waiver.subject}, label-size): stale, gone"
