"""The `?` overlay: every shortcut and mouse gesture, and what the cuboid outlines mean (with a
sample of each line), drawn over the main window."""

from __future__ import annotations

from PyQt6.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PyQt6.QtWidgets import QWidget

from .qt_util import PEN_STYLES, paint_padlock
from .shortcuts import MOUSE, OUTLINES, OUTLINES_GROUP, SHORTCUTS, class_shortcuts
from .styles import LOCK_MARK

FONT_SIZES = (9, 8, 7, 6)  # points tried in turn until every row fits the window
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

    def layout(self, width: int, height: int) -> tuple[int, list[tuple]]:
        """Where each row goes in a ``width`` x ``height`` overlay: (font point size, [(group,
        keys, description, x, y, keys width, column width, header above)]). Each column is as wide
        as its own text; the font is the largest of :data:`FONT_SIZES` with which every row fits,
        else the smallest."""
        rows = self.lines()
        for pt in FONT_SIZES:
            fm = QFontMetrics(QFont(self.font().family(), pt))
            line_h = fm.height() + 1
            top, bottom = 20 + 2 * line_h, height - 6
            columns, y, group = [[]], top, None
            for g, keys, desc in rows:
                header = g != group
                if y + line_h * (2 if header else 1) > bottom and columns[-1]:  # next column
                    columns.append([])
                    y = top
                if header:
                    y += line_h
                    group = g
                columns[-1].append((g, keys, desc, y, header))
                y += line_h
            x, placed = 20, []
            for column in columns:
                keys_w = max(fm.horizontalAdvance(k) + (SAMPLE_PX + 10 if g == OUTLINES_GROUP else 0)
                             for g, k, *_ in column) + 16
                col_w = keys_w + max(max(fm.horizontalAdvance(d) for _, _, d, *_ in column),
                                     max(fm.horizontalAdvance(g) for g, *_ in column) - keys_w) + 24
                placed += [(g, k, d, x, y, keys_w, col_w, header) for g, k, d, y, header in column]
                x += col_w
            if x - 24 <= width - 10:
                break
        return pt, placed

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(0, 0, 0, 225))
        pt, placed = self.layout(self.width(), self.height())
        p.setFont(QFont(p.font().family(), pt))
        line_h = QFontMetrics(p.font()).height() + 1
        p.setPen(QColor(255, 255, 255))
        p.drawText(20, 10 + line_h, "Keyboard shortcuts and mouse (any key or click closes this)")
        for g, keys, desc, x, y, keys_w, col_w, header in placed:
            if header:
                p.setPen(QColor(255, 200, 80))
                p.drawText(x, y - line_h, g)
            keys_x = x
            if g == OUTLINES_GROUP:  # a sample of the line before its name
                self._paint_sample(p, keys, QPointF(x + 2, y - line_h / 3))
                keys_x = x + SAMPLE_PX + 10
            p.setPen(QColor(140, 210, 255))
            p.drawText(QRectF(keys_x, y - line_h + 3, keys_w - 8 - (keys_x - x), line_h), Qt.AlignmentFlag.AlignLeft,
                       keys)
            p.setPen(QColor(235, 235, 235))
            p.drawText(QRectF(x + keys_w, y - line_h + 3, col_w - keys_w - 16, line_h), Qt.AlignmentFlag.AlignLeft, desc)
        p.end()

    @staticmethod
    def _paint_sample(p: QPainter, outline: str, start: QPointF) -> None:
        if outline == LOCK_MARK:
            paint_padlock(p, start + QPointF(SAMPLE_PX / 2, 0))
            return
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
