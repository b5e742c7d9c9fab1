"""The keyboard focus handed back to the view the annotator was working in.

A panel field (the attribute panel's track field, the object list's filter) takes the focus by a
click; Enter there, or Esc, gives it back to the view that last had it (the bird's-eye view, a
side view or a camera view; the bird's-eye view when none had it yet or that view is hidden), so
arrows and letters go on nudging and selecting where the annotator left off.
"""

from __future__ import annotations

from collections.abc import Callable

from PyQt6 import sip
from PyQt6.QtCore import QObject
from PyQt6.QtWidgets import QApplication, QWidget


class ViewFocus(QObject):
    """Remembers the last of the views (``is_view(widget)`` True) that had the keyboard focus;
    :meth:`give_back` focuses it again, else ``default``."""

    def __init__(self, default: QWidget, is_view: Callable[[QWidget], bool], parent: QObject | None = None):
        super().__init__(parent)
        self.default = default
        self.is_view = is_view
        self.last: QWidget | None = None
        QApplication.instance().focusChanged.connect(self._focus_changed)

    def _focus_changed(self, _old, new) -> None:
        if new is not None and self.is_view(new):
            self.last = new

    def view(self) -> QWidget:
        """The view that gets the focus back: the last one that had it while it is still shown."""
        last = self.last
        if last is not None and not sip.isdeleted(last) and last.isVisible() and last.isEnabled():
            return last
        return self.default

    def give_back(self) -> None:
        """Focus :meth:`view`, raising its window (the main window, or the cameras floating in
        their own) when the field was in another one (a floating dock)."""
        view = self.view()
        if not view.window().isActiveWindow():
            view.window().activateWindow()
        view.setFocus()
