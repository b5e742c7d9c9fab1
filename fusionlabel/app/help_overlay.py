"""The `?` overlay: every shortcut and mouse gesture, drawn over the main window."""

from __future__ import annotations

from PyQt6.QtCore import QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QPainter
from PyQt6.QtWidgets import QWidget

from .shortcuts import MOUSE, SHORTCUTS, class_shortcuts

KEYS_WIDTH = 200  # pixels for the keys column
COLUMN_WIDTH = 640  # keys + description


class HelpOverlay(QWidget):
    """A translucent panel listing the shortcut table; any key or click closes it."""

    closed = pyqtSignal()

    def __init__(self, ontology, parent: QWidget):
        super().__init__(parent)
        self.ontology = ontology
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.hide()

    def lines(self) -> list[tuple[str, str, str]]:
        """(group, keys, description) rows in display order."""
        rows = []
        merged: dict[tuple[str, str], list[str]] = {}
        for s in list(SHORTCUTS) + class_shortcuts(self.ontology):
            merged.setdefault((s.group, s.description), []).extend(s.keys)
        for (group, desc), keys in merged.items():
            rows.append((group, " / ".join(keys), desc))
        rows += [(f"Mouse: {where}", mouse, does) for where, mouse, does in MOUSE]
        return rows

    def toggle(self) -> None:
        if self.isVisible():
            self.hide()
        else:
            self.setGeometry(self.parentWidget().rect())
            self.show()
            self.raise_()
            self.setFocus()

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(0, 0, 0, 225))
        p.setFont(QFont(p.font().family(), 9))
        line_h, top, bottom = 15, 44, self.height() - 8
        x, y = 20, top
        p.setPen(QColor(255, 255, 255))
        p.drawText(20, 24, "Keyboard shortcuts and mouse (any key or click closes this)")
        group = None
        for g, keys, desc in self.lines():
            needed = line_h * (2 if g != group else 1)
            if y + needed > bottom:  # next column
                x, y = x + COLUMN_WIDTH, top
            if g != group:
                p.setPen(QColor(255, 200, 80))
                p.drawText(x, y, g)
                y += line_h
                group = g
            p.setPen(QColor(140, 210, 255))
            p.drawText(QRectF(x, y - 12, KEYS_WIDTH - 8, line_h), Qt.AlignmentFlag.AlignLeft, keys)
            p.setPen(QColor(235, 235, 235))
            p.drawText(QRectF(x + KEYS_WIDTH, y - 12, COLUMN_WIDTH - KEYS_WIDTH - 16, line_h),
                       Qt.AlignmentFlag.AlignLeft, desc)
            y += line_h
        p.end()

    def keyPressEvent(self, ev) -> None:  # noqa: N802
        self.hide()
        self.closed.emit()

    def mousePressEvent(self, ev) -> None:  # noqa: N802
        self.hide()
        self.closed.emit()
