"""The app's label checks run in a child process (fusionlabel.qa.check_process), not on a thread
of the app that would hold its interpreter lock; closing the window ends that child at once."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import Qt  # noqa: E402

from fusionlabel.app import check_runner  # noqa: E402
from fusionlabel.childproc.messages import Message, WireError  # noqa: E402
from fusionlabel.model.commands import SetBox  # noqa: E402
from fusionlabel.qa.check_process import CheckProcess, put_report, reply, take_report  # noqa: E402
from fusionlabel.qa.label_check import check_labels  # noqa: E402
from fusionlabel.qa.project_labels import read_project, stored_labels  # noqa: E402

pytestmark = pytest.mark.gui


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (no longer listed, or only a zombie left to reap)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
def test_ctrl_k_checks_in_a_child_process_and_closing_the_window_ends_it(qtbot, window):
    w = window
    runner = w.check_panel.runner
    qtbot.keyClick(w.bev, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: runner.pid is not None, timeout=10_000)
    pid = runner.pid
    assert pid != os.getpid() and "fusionlabel.qa.check_process" in command_line(pid)
    qtbot.waitUntil(lambda: w.check_panel.report is not None and not w.check_panel.refreshing, timeout=60_000)
    assert gone(pid) and runner.pid is None
    # The child's report is the one `fusionlabel check` makes of the project on disk.
    on_disk = read_project(w.session.project.folder)
    want = check_labels(on_disk.drive, {i: v for i, v in enumerate(on_disk.labels) if v}, "project",
                        absent=on_disk.absent)
    assert w.check_panel.findings == want.findings and w.check_panel.report.status() == want.status()
    # Closing the window while a check runs ends its child now: one that would never end by itself
    # (stopped) is gone too.
    qtbot.keyClick(w.bev, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: runner.pid is not None, timeout=10_000)
    pid = runner.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        w.close()
        started = time.monotonic()
        while not gone(pid) and time.monotonic() - started < 5:
            time.sleep(0.02)
        assert gone(pid)
        qtbot.waitUntil(lambda: not runner.running, timeout=5_000)
    finally:
        if not gone(pid):
            os.kill(pid, signal.SIGKILL)


def test_the_report_survives_the_trip_and_a_bad_one_is_named(project):
    drive = project.drive
    on_disk = read_project(project.folder)
    labels = {i: list(v) for i, v in enumerate(on_disk.labels) if v}
    labels[0][0] = labels[0][0].with_(box=labels[0][0].box.with_(size=(25.0, 6.0, 1.5)))
    report = check_labels(drive, labels, "project")
    assert report.findings and take_report(put_report(report)) == report
    body = put_report(report)
    body["findings"][0]["value"] = "big"
    with pytest.raises(WireError, match="value and threshold must be numbers"):
        reply(Message("done", body, []))
    # A drive that is gone: the child answers with the error naming it, not a traceback.
    answer = CheckProcess((str(project.folder / "nowhere"), None, None), len(drive), labels, {}).result()
    assert answer[0] == "failed" and "nowhere" in answer[1]


def test_ctrl_k_copies_no_labels_in_the_app_its_child_reads_the_edits_from_the_project(qtbot, window, monkeypatch):
    # Copying a long drive's labels on the GUI thread stalled the key press and left the app
    # ~50-100 MB larger after the check: the child reads them from the project's database.
    w, copied = window, []
    real = check_runner.labels_to_check
    monkeypatch.setattr(check_runner, "labels_to_check", lambda *a: copied.append(1) or real(*a))
    s = w.session
    car = next(a for a in s.document.annotations(s.frame) if a.cls == "car" and a.track_id is not None)
    s.apply(SetBox(car.uid, car.box.with_(size=(25.0, 6.0, 1.5))))    # no car is that big: a finding
    qtbot.keyClick(w.bev, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.check_panel.report is not None and not w.check_panel.refreshing, timeout=60_000)
    assert copied == []
    assert any(f.check == "label-size" and f.track_id == car.track_id for f in w.check_panel.findings)
    on_disk = read_project(s.project.folder, stored_ids=True)
    want = check_labels(on_disk.drive, {i: v for i, v in enumerate(on_disk.labels) if v}, "project",
                        absent=on_disk.absent)
    assert w.check_panel.findings == want.findings


def test_the_labels_stored_are_those_the_app_would_copy(project):
    from fusionlabel.app.session import Session
    from fusionlabel.app.label_findings import labels_to_check

    session = Session(project)
    car = next(a for i in range(session.n_frames) for a in session.document.annotations(i) if a.cls == "car")
    session.apply(SetBox(car.uid, car.box.with_(size=(25.0, 6.0, 1.5))))
    assert stored_labels(project.folder, session.n_frames, stored_ids=True) == labels_to_check(session)


def test_a_project_open_read_only_has_its_labels_sent_as_the_window_shows_them(qtbot, project, monkeypatch):
    # Another process may be editing it: the window's labels, not the database's, are checked.
    from conftest import open_app_window

    from fusionlabel.store.project import Project

    folder = project.folder
    project.close()
    copied = []
    real = check_runner.labels_to_check
    monkeypatch.setattr(check_runner, "labels_to_check", lambda *a: copied.append(1) or real(*a))
    with Project.open(folder, read_only=True) as read_only:
        w = open_app_window(qtbot, read_only)
        qtbot.keyClick(w.bev, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: w.check_panel.report is not None and not w.check_panel.refreshing, timeout=60_000)
        assert copied == [1]
        labels, absent = real(w.session)
        assert w.check_panel.findings == check_labels(read_only.drive, labels, "project", absent=absent).findings
        w.close()
