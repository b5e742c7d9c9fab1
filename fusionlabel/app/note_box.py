"""A message box that neither blocks nor takes the keyboard: the annotator reads it beside the
window, keeps working there, and closes it when done reading (the end of an export, drive labels
that could not be imported)."""

from __future__ import annotations

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtWidgets import QApplication, QMessageBox, QWidget

from .qt_util import REACTIVATE_MS


def _give_keys_back(box: QMessageBox, working: QWidget | None, parent: QWidget) -> None:
    """Activate the window the annotator worked in, or ``parent``'s when none was active as the box
    showed (a dialog just closed, on a loaded machine) and the box took the activation itself."""
    try:
        window = working if working is not None else parent.window() if QApplication.activeWindow() is box else None
        if window is not None and window.isVisible():
            window.activateWindow()
    except RuntimeError:  # the window is gone
        pass


def show_note_box(parent: QWidget, icon: QMessageBox.Icon, title: str, text: str, lines: list[str],
                  details: str | None = None) -> QMessageBox:
    """Show ``text`` with ``lines`` under it (and ``details`` behind *Show Details…*) over
    ``parent``, without taking the keyboard from the window the annotator works in; the box is
    returned (it stays open until closed)."""
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setInformativeText("\n".join(lines))
    if details:
        box.setDetailedText(details)
    box.setModal(False)
    box.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
    box.setWindowFlag(Qt.WindowType.WindowDoesNotAcceptFocus)
    working = QApplication.activeWindow()
    box.show()
    # a platform that activates it anyway: the keys go back at once, and again once the box's own
    # activation has come through (it can come after the first look when no window was active)
    for delay in (0, REACTIVATE_MS):
        QTimer.singleShot(delay, lambda: _give_keys_back(box, working, parent))
    return box
