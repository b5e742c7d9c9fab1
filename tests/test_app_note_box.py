"""A note box (the end of an export, labels not imported) gives the keyboard back to the window the
annotator works in, also when it shows while no window is active, as a moment after a dialog
closed on a loaded machine: before, the box kept the activation and the window's keys did nothing."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtWidgets import QApplication, QMainWindow, QMessageBox, QWidget  # noqa: E402

from fusionlabel.app.note_box import show_note_box  # noqa: E402

pytestmark = pytest.mark.gui


def shown_active(qtbot, widget: QWidget) -> QWidget:
    qtbot.addWidget(widget)
    widget.show()
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow, timeout=5000)
    return widget


def test_a_note_box_shown_while_no_window_is_active_gives_the_keys_to_its_window(qtbot):
    window = shown_active(qtbot, QMainWindow())
    dialog = shown_active(qtbot, QWidget())      # a dialog the annotator had open
    dialog.close()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is None, timeout=5000)
    box = show_note_box(window, QMessageBox.Icon.Information, "Export done", "3 frames written", [])
    qtbot.addWidget(box)
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    assert box.isVisible()


def test_a_note_box_leaves_the_keys_with_the_window_worked_in(qtbot):
    window = shown_active(qtbot, QMainWindow())
    other = shown_active(qtbot, QWidget())       # e.g. a floating dock the annotator works in
    box = show_note_box(window, QMessageBox.Icon.Information, "Export done", "3 frames written", [])
    qtbot.addWidget(box)
    qtbot.waitUntil(other.isActiveWindow, timeout=5000)
    qtbot.wait(50)
    assert other.isActiveWindow() and box.isVisible()
