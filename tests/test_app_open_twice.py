"""A project opened a second time in one process (a second window of it) is read-only and says
that this process has it open, not "another fusionlabel process"; what the app then suggests names
the other window, and a command that needs the lock says the same (pytest-qt)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import Qt  # noqa: E402

from conftest import open_app_window  # noqa: E402
from fusionlabel.store.project import Project, ProjectError, restore_from_backup  # noqa: E402
from fusionlabel.wording import waivers_read_only  # noqa: E402

pytestmark = pytest.mark.gui


def test_a_second_window_of_the_project_says_this_process_has_it(qtbot, project):
    second = Project.open(project.folder)
    try:
        w = open_app_window(qtbot, second)
        s = w.session
        assert s.read_only and s.held_here
        tip = w.read_only_label.toolTip()
        assert "already open in this process" in tip and "another fusionlabel process" not in tip
        qtbot.keyClick(w.bev, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
        said = s.messages[-1].text
        assert said.endswith("the project on disk is as the other window saved it") and "process has" not in said
        assert "close the other window of this project first" in waivers_read_only("x", s.held_here)
        w.close()
    finally:
        second.close()
    # a command that needs the lock while this process has the project open
    with pytest.raises(ProjectError, match="this project is already open in this process"):
        restore_from_backup(project.folder)
