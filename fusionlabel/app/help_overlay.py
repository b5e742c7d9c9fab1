"""The `?` overlay: every shortcut and mouse gesture, the keys widgets read themselves, which keys
depend on the keyboard layout, and what the cuboid outlines mean (with a sample of each line), drawn
over the main window.

The text never goes below :data:`MIN_POINT_SIZE`: the rows flow down as many columns as the width
holds, long descriptions wrap, and what still does not fit goes on further pages (``PgDown``,
``Space``, ``→`` or the wheel turn them; any other key or a click closes the overlay)."""

from __future__ import annotations

from dataclasses import dataclass

from PyQt6.QtCore import QEvent, QPointF, QRect, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PyQt6.QtWidgets import QWidget

from .qt_util import PEN_STYLES, paint_padlock
from .shortcuts import (LAYOUT_NOTES, LAYOUTS_GROUP, LOCAL_KEYS, MOUSE, OUTLINES, OUTLINES_GROUP, SHORTCUTS,
                        class_shortcuts)
from .styles import GHOST_MARK, GHOST_PX, GHOST_RGB, LOCK_MARK, SELECTED_HALO_PX, SELECTED_OUTLINE_PX
from .touchpad import wheel_steps

FONT_SIZES = (11, 10, 9)  # points tried in turn until every row fits one page, else the last, paged
MIN_POINT_SIZE = FONT_SIZES[-1]
SAMPLE_PX = 44  # length of the line drawn before each outline's name
MARGIN = 20     # around the text, in pixels
GAP = 24        # between columns
COLUMN_CHARS = 68  # a column is at least this many average characters wide
KEYS_SHARE = 0.3   # the keys take at most this share of a column's width (longer ones wrap)
WRAP = int(Qt.TextFlag.TextWordWrap)
NEXT_KEYS = {Qt.Key.Key_PageDown, Qt.Key.Key_Space, Qt.Key.Key_Right, Qt.Key.Key_Down}
BACK_KEYS = {Qt.Key.Key_PageUp, Qt.Key.Key_Left, Qt.Key.Key_Up}


@dataclass(frozen=True)
class Placed:
    """One row of the overlay on its page: the keys at ``x``, the description at ``x + keys_w``
    (``desc_w`` wide), both from ``y`` down ``height`` pixels; ``header``: the group's name goes on
    the line above (the first row of a group, and the first of a column)."""

    group: str
    keys: str
    description: str
    x: int
    y: int
    keys_w: int
    desc_w: int
    height: int
    header: bool


class HelpOverlay(QWidget):
    """A translucent panel listing the shortcut table, paged when it does not fit; a paging key
    turns the page, any other key or a click closes it."""

    closed = pyqtSignal()

    def __init__(self, ontology, parent: QWidget):
        super().__init__(parent)
        self.ontology = ontology
        self.page = 0
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
        rows += [(where, key, does) for where, key, does in LOCAL_KEYS]
        rows += [(LAYOUTS_GROUP, keys, note) for keys, note in LAYOUT_NOTES]
        rows += [(OUTLINES_GROUP, outline, means) for outline, means in OUTLINES]
        return rows

    def toggle(self) -> None:
        if self.isVisible():
            self.hide()
        else:
            self.page = 0
            self.setGeometry(self.parentWidget().rect())
            self.show()
            self.raise_()
            self.setFocus()

    def layout(self, width: int, height: int) -> tuple[int, list[list[Placed]]]:
        """Where each row goes in a ``width`` x ``height`` overlay: (font point size, pages of
        :class:`Placed` rows). The font is the largest of :data:`FONT_SIZES` with which every row
        fits one page, else the smallest, on as many pages as it takes."""
        for pt in FONT_SIZES:
            pages = self._paginate(pt, width, height)
            if len(pages) == 1:
                break
        return pt, pages

    def _paginate(self, pt: int, width: int, height: int) -> list[list[Placed]]:
        fm = QFontMetrics(self._font(pt))
        line_h = fm.lineSpacing()
        top, bottom = MARGIN + 2 * line_h, height - MARGIN // 2
        inner = max(width - 2 * MARGIN, 1)
        columns = max(1, (inner + GAP) // (COLUMN_CHARS * fm.averageCharWidth() + GAP))
        col_w = (inner - (columns - 1) * GAP) // columns
        rows = self.lines()
        keys_w = min(max(self._keys_advance(fm, g, k) for g, k, _ in rows), int(col_w * KEYS_SHARE)) + 14
        desc_w = col_w - keys_w
        pages: list[list[Placed]] = [[]]
        column, y, group = 0, top, None
        for g, keys, desc in rows:
            key_text_w = keys_w - 8 - (SAMPLE_PX + 10 if g == OUTLINES_GROUP else 0)
            row_h = max(fm.boundingRect(QRect(0, 0, key_text_w, 10_000), WRAP, keys).height(),
                        fm.boundingRect(QRect(0, 0, desc_w - 8, 10_000), WRAP, desc).height())
            header = g != group or y == top
            if y + row_h + (line_h if header else 0) > bottom and y > top:  # next column, or page
                column, y, header = column + 1, top, True
                if column == columns:
                    pages.append([])
                    column = 0
            if header:
                y += line_h
            group = g
            pages[-1].append(Placed(g, keys, desc, MARGIN + column * (col_w + GAP), y, keys_w, desc_w, row_h, header))
            y += row_h + 2
        return pages

    def _font(self, pt: int) -> QFont:
        font = QFont(self.font())
        font.setPointSize(pt)
        return font

    @staticmethod
    def _keys_advance(fm: QFontMetrics, group: str, keys: str) -> int:
        return fm.horizontalAdvance(keys) + (SAMPLE_PX + 10 if group == OUTLINES_GROUP else 0)

    def page_count(self) -> int:
        return len(self.layout(self.width(), self.height())[1])

    def turn_page(self, step: int) -> None:
        """Show the next (``step`` 1) or previous (-1) page, if there is one."""
        self.page = min(max(self.page + step, 0), self.page_count() - 1)
        self.update()

    def title(self, page: int, pages: int) -> str:
        if pages == 1:
            return "Keyboard shortcuts and mouse (any key or click closes this)"
        return (f"Keyboard shortcuts and mouse, page {page + 1} of {pages}: PgDown, Space or → next page, "
                "PgUp or ← back; any other key or a click closes this")

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(0, 0, 0, 225))
        pt, pages = self.layout(self.width(), self.height())
        self.page = min(self.page, len(pages) - 1)
        p.setFont(self._font(pt))
        line_h = QFontMetrics(p.font()).lineSpacing()
        p.setPen(QColor(255, 255, 255))
        p.drawText(QRectF(MARGIN, MARGIN, self.width() - 2 * MARGIN, line_h), Qt.AlignmentFlag.AlignLeft,
                   self.title(self.page, len(pages)))
        for r in pages[self.page]:
            if r.header:
                p.setPen(QColor(255, 200, 80))
                p.drawText(QRectF(r.x, r.y - line_h, r.keys_w + r.desc_w, line_h), Qt.AlignmentFlag.AlignLeft,
                           r.group)
            keys_x = r.x
            if r.group == OUTLINES_GROUP:  # a sample of the line before its name
                self._paint_sample(p, r.keys, QPointF(r.x + 2, r.y + line_h / 2))
                keys_x = r.x + SAMPLE_PX + 10
            p.setPen(QColor(140, 210, 255))
            p.drawText(QRectF(keys_x, r.y, r.keys_w - 8 - (keys_x - r.x), r.height), WRAP, r.keys)
            p.setPen(QColor(235, 235, 235))
            p.drawText(QRectF(r.x + r.keys_w, r.y, r.desc_w - 8, r.height), WRAP, r.description)
        p.end()

    @staticmethod
    def _paint_sample(p: QPainter, outline: str, start: QPointF) -> None:
        if outline == LOCK_MARK:
            paint_padlock(p, start + QPointF(SAMPLE_PX / 2, 0))
            return
        end = start + QPointF(SAMPLE_PX, 0)
        color = QColor(90, 200, 120)
        if outline == GHOST_MARK:
            pen = QPen(QColor(*GHOST_RGB), GHOST_PX)
            pen.setStyle(Qt.PenStyle.DotLine)
            p.setPen(pen)
            p.drawLine(start, end)
            return
        if outline == "white halo":
            p.setPen(QPen(QColor(255, 255, 255), SELECTED_HALO_PX))
            p.drawLine(start, end)
        pen = QPen(color, SELECTED_OUTLINE_PX if outline == "white halo" else 1.6)
        pen.setStyle(PEN_STYLES.get(outline, PEN_STYLES["solid"]))
        p.setPen(pen)
        p.drawLine(start, end)

    def _paging_key(self, ev) -> int:
        """+1 / -1 for a key that turns the page (while there is more than one), else 0."""
        if ev.modifiers() & ~Qt.KeyboardModifier.KeypadModifier or self.page_count() < 2:
            return 0
        return 1 if ev.key() in NEXT_KEYS else -1 if ev.key() in BACK_KEYS else 0

    def event(self, ev) -> bool:
        # The paging keys are the window's shortcuts too (nudges): claim them while paged.
        if ev.type() == QEvent.Type.ShortcutOverride and self._paging_key(ev):
            ev.accept()
            return True
        return super().event(ev)

    def keyPressEvent(self, ev) -> None:  # noqa: N802
        step = self._paging_key(ev)
        if step:
            self.turn_page(step)
            return
        self.hide()
        self.closed.emit()

    def wheelEvent(self, ev) -> None:  # noqa: N802
        steps = wheel_steps(ev)
        if steps:
            self.turn_page(-1 if steps > 0 else 1)

    def mousePressEvent(self, ev) -> None:  # noqa: N802
        self.hide()
        self.closed.emit()
