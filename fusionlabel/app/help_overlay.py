"""The `?` overlay: every shortcut and mouse gesture, and what the cuboid outlines mean (with a
sample of each line), drawn over the main window."""

from __future__ import annotations

from PyQt6.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QPainter, QPen
from PyQt6.QtWidgets import QWidget

from .qt_util import PEN_STYLES
from .shortcuts import MOUSE, OUTLINES, OUTLINES_GROUP, SHORTCUTS, class_shortcuts

KEYS_WIDTH = 200  # pixels for the keys column
COLUMN_WIDTH = 640  # keys + description
SAMPLE_PX = 44  # length of the line drawn before each outline's name


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
        rows += [(OUTLINES_GROUP, outline, means) for outline, means in OUTLINES]
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
            keys_x = x
            if g == OUTLINES_GROUP:  # a sample of the line before its name
                self._paint_sample(p, keys, QPointF(x + 2, y - 4))
                keys_x = x + SAMPLE_PX + 10
            p.setPen(QColor(140, 210, 255))
            p.drawText(QRectF(keys_x, y - 12, KEYS_WIDTH - 8 - (keys_x - x), line_h), Qt.AlignmentFlag.AlignLeft, keys)
            p.setPen(QColor(235, 235, 235))
            p.drawText(QRectF(x + KEYS_WIDTH, y - 12, COLUMN_WIDTH - KEYS_WIDTH - 16, line_h),
                       Qt.AlignmentFlag.AlignLeft, desc)
            y += line_h
        p.end()

    @staticmethod
    def _paint_sample(p: QPainter, outline: str, start: QPointF) -> None:
        end = start + QPointF(SAMPLE_PX, 0)
        color = QColor(90, 200, 120)
        if outline == "white halo":
            p.setPen(QPen(QColor(255, 255, 255), 4))
            p.drawLine(start, end)
        pen = QPen(color, 1.6)
        pen.setStyle(PEN_STYLES.get(outline, PEN_STYLES["solid"]))
        p.setPen(pen)
        p.drawLine(start, end)

    def keyPressEvent(self, ev) -> None:  # noqa: N802
        self.hide()
        self.closed.emit()

    def mousePressEvent(self, ev) -> None:  # noqa: N802
        self.hide()
        self.closed.emit()
