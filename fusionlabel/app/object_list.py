"""The object list: the frame's cuboids (track, class, points inside, status), sorted by a click
on a column header, filtered by what is typed above it, with the count shown and the hidden and
locked classes named. Tab walks its cuboids (:meth:`Actions.cycle_selection`): in its order once sorted by
a column, nearest first in the frame's own order. Under the cuboids, greyed, one entry for each track
marked absent in the frame ("track 7 — absent here (H)"): choosing one makes it the track the app
remembers, for Shift+H (and H, ] and [).
"""

from __future__ import annotations

import math

from PyQt6.QtCore import QSize, Qt, QTimer
from PyQt6.QtGui import QColor, QFontMetricsF, QPalette
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..wording import counted, track_text
from .frame_data import FrameData
from .list_order import ABSENT_STATUS, COLUMNS, Row, absent_rows, ordered_rows
from .qt_util import EDITED_MARK, SOURCE_TEXT_COLORS, annotation_color, source_text
from .session import Session
from .styles import list_text_rgb

LIST_MAX_WIDTH = 420  # pixels the object list widens its dock to, at most, to show its columns in full ...
LIST_MIN_WIDTH = 200  # ... and may be squeezed to (its columns then scroll sideways): a small screen
SORT_SETTING = "object_list_sort"
LOCKED_MARK = "locked"
NOTE_STYLE = "color: #f0b040"
# what the track and points columns are at least as wide as: a common entry of each (the class
# and status columns keep room for their widest entry: :meth:`ObjectList.column_samples`)
COLUMN_SAMPLES = ("0000", "pedestrian", "00000", "imported")
WIDEST_STATUS = f"pre-label 0.00 {EDITED_MARK}, {LOCKED_MARK}"   # an edited pre-label of a locked class
ABSENT_ENTRY_COLOR = QColor(154, 154, 160)   # an absent entry's text: greyed, it has no box


class ObjectList(QTableWidget):
    """The cuboids of the displayed frame but those of hidden classes: track, class, points inside,
    status. Pre-labels are in italics with their score in the status column, in light blue, or
    amber with "edited" when the annotator changed them without accepting them yet; cuboids of a
    locked class say "locked". :attr:`shown_uids` are the uids of the rows as shown. Below them,
    greyed and across the whole row, the tracks marked absent in the frame (:attr:`absent_tracks`)."""

    COLUMNS = COLUMNS

    def __init__(self, session: Session, parent=None):
        super().__init__(0, len(self.COLUMNS), parent)
        self.session = session
        self.data: FrameData | None = None
        self._uids: list[str] = []
        self._absent: list[str] = []   # the tracks of the absent entries, under the cuboids' rows
        self._widest: dict[int, int] = {}   # column -> the widest it has been (it never gets narrower)
        self._wanted = 0      # the width showing every column in full (never narrower again)
        self.setMinimumWidth(LIST_MIN_WIDTH)
        self.filter_text = ""
        self.total = 0        # cuboids of the frame
        self.n_hidden = 0     # of them, of a hidden class
        self.on_refresh = None  # called after each refresh (the panel's count)
        self.painted_frame: int | None = None
        sort = session.setting(SORT_SETTING, None)
        ok = isinstance(sort, dict) and sort.get("column") in COLUMNS
        self.sort_column: str | None = sort["column"] if ok else None
        self.sort_descending = bool(sort.get("descending")) if ok else False
        self.setHorizontalHeaderLabels(self.COLUMNS)
        self.verticalHeader().setVisible(False)
        # Every column as wide as its longest entry ("pedestrian", "pre-label 0.87"); the list
        # widens to show them all (see _fit_width).
        header = self.horizontalHeader()
        # sized once per refresh (resizeColumnsToContents): ResizeToContents would measure every
        # column again at each of the frame's ~200 setItem calls (tens of ms per frame change)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setSectionsClickable(True)
        # the sort is shown as an arrow in the sorted column's title: Qt's own indicator widens
        # every column (and so the dock) for an arrow only one of them shows
        header.sectionClicked.connect(self._header_clicked)
        self._show_sort_indicator()
        # (the sizes are final only after the signal: look once the event loop is back)
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self._fit_width)
        header.sectionResized.connect(lambda *_: self._fit_timer.start())
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self.itemSelectionChanged.connect(self._rows_chosen)
        self.itemDoubleClicked.connect(self._row_activated)
        session.subscribe(self._on_session)

    @property
    def shown_uids(self) -> list[str]:
        """The uids of the rows as shown (filtered and sorted), top to bottom."""
        return list(self._uids)

    @property
    def absent_tracks(self) -> list[str]:
        """The tracks of the absent entries as shown (filtered), top to bottom, under the cuboids."""
        return list(self._absent)

    def set_frame_data(self, data: FrameData) -> None:
        self.data = data
        self.refresh()

    def paintEvent(self, ev) -> None:  # noqa: N802
        super().paintEvent(ev)
        self.painted_frame = None if self.data is None else self.data.index

    def count(self, box) -> int | None:
        return None if self.data is None else self.data.count_in_box(box)

    # ------------------------------------------------------------------ sorting and filtering
    def sort_by(self, column: str | None, descending: bool = False) -> None:
        """Sort by a column (None: the frame's order); kept when stepping frames and saved."""
        self.sort_column, self.sort_descending = column, bool(descending) and column is not None
        self.session.save_setting(SORT_SETTING, {"column": column, "descending": self.sort_descending})
        self._show_sort_indicator()
        self.refresh()

    def _header_clicked(self, section: int) -> None:
        """A click on a header sorts up, a second one down, a third goes back to the frame's order."""
        column = self.COLUMNS[section]
        if column != self.sort_column:
            self.sort_by(column)
        elif not self.sort_descending:
            self.sort_by(column, True)
        else:
            self.sort_by(None)

    def _show_sort_indicator(self) -> None:
        """The sorted column's title gets ▲ (ascending) or ▼ (descending)."""
        arrow = "▼" if self.sort_descending else "▲"
        self.setHorizontalHeaderLabels([f"{c} {arrow}" if c == self.sort_column else c for c in self.COLUMNS])

    def set_filter(self, text: str) -> None:
        if text != self.filter_text:
            self.filter_text = text
            self.refresh()

    def rows(self) -> list[tuple[Row, object, str | None]]:
        """(row, annotation, pre-label state) of every cuboid of the frame not of a hidden class."""
        out = []
        for ann in self.session.annotations(self.data.index):
            if self.session.is_hidden(ann):
                continue
            n = self.count(ann.box)
            state = self.session.prelabel_state(ann)
            status = source_text(ann, state) + (f", {LOCKED_MARK}" if self.session.is_locked(ann) else "")
            values = (track_text(ann.track_id), ann.cls, "" if n is None else str(n), status)
            out.append((Row(ann.uid, values, ann.track_id, n), ann, state))
        return out

    def refresh(self) -> None:
        if self.data is None:
            return
        all_anns = self.session.annotations(self.data.index)
        rows = self.rows()
        self.total, self.n_hidden = len(all_anns), len(all_anns) - len(rows)
        found = {r.uid: (r, ann, state) for r, ann, state in rows}
        shown = ordered_rows([r for r, _, _ in rows], self.filter_text, self.sort_column, self.sort_descending)
        absent = absent_rows(self.session.document, self.data.index, self.filter_text, self.session.class_view.hidden)
        self.blockSignals(True)
        self.setUpdatesEnabled(False)
        self.clearSpans()
        self.setRowCount(len(shown) + len(absent))
        self._uids = [r.uid for r in shown]
        self._absent = [r.track_id for r in absent]
        for i, row in enumerate(shown):
            _, ann, state = found[row.uid]
            for col, value in enumerate(row.values):
                item = QTableWidgetItem(value)
                if col == 0 and ann.track_id is not None and value != ann.track_id:
                    item.setToolTip(f"track {ann.track_id}")
                if state is not None:
                    font = item.font()
                    font.setItalic(True)
                    item.setFont(font)
                    if col != 1:
                        item.setForeground(self._readable(SOURCE_TEXT_COLORS[state]))
                if col == 1:
                    item.setForeground(self._readable(annotation_color(self.session.ontology, ann.cls)))
                if col == 2:
                    item.setData(Qt.ItemDataRole.DisplayRole, row.points if row.points is not None else "")
                self.setItem(i, col, item)
        for i, row in enumerate(absent, start=len(shown)):
            self._set_absent_entry(i, row)
        self.resizeColumnsToContents()
        self._room_for_marks()
        self._keep_usable_widths()
        self.setUpdatesEnabled(True)
        self._show_selection()
        self.blockSignals(False)
        if self.on_refresh is not None:
            self.on_refresh()

    def _readable(self, color: QColor) -> QColor:
        """``color`` as text on the list's background: darkened just enough to read there
        (:func:`~.styles.list_text_rgb`)."""
        base = self.palette().color(QPalette.ColorRole.Base)
        return QColor(*list_text_rgb((color.red(), color.green(), color.blue()),
                                     (base.red(), base.green(), base.blue())))

    def _set_absent_entry(self, i: int, row: Row) -> None:
        """Row ``i``: track ``row.track_id`` is marked absent in the frame, in grey italics across
        the whole row (no box: nothing in it to edit or count)."""
        track, cls = row.track_id, row.values[1]
        item = QTableWidgetItem(f"track {track_text(track)} — {ABSENT_STATUS}")
        font = item.font()
        font.setItalic(True)
        item.setFont(font)
        item.setForeground(ABSENT_ENTRY_COLOR)
        item.setToolTip(f"track {track}{f' ({cls})' if cls else ''} is marked absent in this frame (H): it has no "
                        "cuboid here. Choose this entry and press Shift+H to take back its marks")
        self.setItem(i, 0, item)
        for col in range(1, len(self.COLUMNS)):
            self.takeItem(i, col)
        self.setSpan(i, 0, 1, len(self.COLUMNS))

    def column_samples(self) -> list[list[str]]:
        """For each column, the entries it keeps room for from the start: a common track and point
        count (:data:`COLUMN_SAMPLES`), every class name of the ontology (a retype to the longest,
        ``traffic_cone``, does not widen the list) and the widest status (:data:`WIDEST_STATUS`:
        the first Ctrl+P, an edit of a pre-label or a lock do not either)."""
        samples = [[sample] for sample in COLUMN_SAMPLES]
        samples[self.COLUMNS.index("class")] += list(self.session.ontology.classes)
        samples[self.COLUMNS.index("status")].append(WIDEST_STATUS)
        return samples

    def _keep_usable_widths(self) -> None:
        """No column narrower than the widest it has been, nor than its :meth:`column_samples`
        (in plain and italic type: pre-labels are listed in italics), so that the list and the
        views beside it keep their widths whatever the frame lists: no cuboid, only absent
        entries (spanning the row, so measured in no column), or the first pre-labels."""
        italic = self.font()
        italic.setItalic(True)
        metrics = (QFontMetricsF(self.font()), QFontMetricsF(italic))
        # as the delegate pads text, and the table adds the grid line (sizeHintForColumn)
        margin = 2 * (self.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1) + int(self.showGrid())
        for col, samples in enumerate(self.column_samples()):
            widest = max(math.ceil(fm.horizontalAdvance(sample)) for sample in samples for fm in metrics)
            floor = max(self._widest.get(col, 0), widest + margin)
            width = max(self.columnWidth(col), floor)
            self._widest[col] = width
            if width != self.columnWidth(col):
                self.setColumnWidth(col, width)

    def _room_for_marks(self) -> None:
        """Make the status column as wide as if every row said ", locked" and every pre-label
        "edited", so that locking or unlocking a class, or editing a pre-label, never changes its
        width (nor the list's, nor the views beside it)."""
        col = self.COLUMNS.index("status")
        texts = [(self.item(i, col), self.item(i, col).text(), uid) for i, uid in enumerate(self._uids)]
        if not texts:
            return
        def advance(item, text):   # as the item's delegate measures it: whole pixels, rounded up
            return math.ceil(QFontMetricsF(item.font()).horizontalAdvance(text))
        suffix = f", {LOCKED_MARK}"

        def widest(text: str, uid: str) -> str:
            base = text.removesuffix(suffix)
            ann = self.session.document.get(uid)
            if ann.source == "model" and not base.endswith(f" {EDITED_MARK}"):
                base += f" {EDITED_MARK}"
            return base + suffix
        margin = self.sizeHintForColumn(col) - max(advance(item, text) for item, text, _ in texts)
        room = max(advance(item, widest(text, uid)) for item, text, uid in texts)
        self.setColumnWidth(col, max(self.columnWidth(col), room + margin))

    def _fit_width(self) -> None:
        """Widen the list's wanted width (its size hint) until every column shows in full, and its
        dock with it at once; never narrower again (no jumping from frame to frame), and never
        wider than LIST_MAX_WIDTH. The list itself may be squeezed to LIST_MIN_WIDTH (a small
        screen): its columns then scroll sideways."""
        scroll = max(self.verticalScrollBar().sizeHint().width(), self.style().pixelMetric(
            QStyle.PixelMetric.PM_ScrollBarExtent))
        needed = min(self.horizontalHeader().length() + scroll + 2 * self.frameWidth() + 2, LIST_MAX_WIDTH)
        if needed > self._wanted:
            self._wanted = needed
            widget = self.parentWidget()   # the dock's layout asks again
            while widget is not None and not widget.isWindow():
                widget.updateGeometry()
                widget = widget.parentWidget()
            if needed > self.width():
                self._widen_dock(needed - self.width())

    def _widen_dock(self, pixels: int) -> None:
        """Widen the dock the list is in by ``pixels``, docked or floating."""
        dock = self.parentWidget()
        while dock is not None and not isinstance(dock, QDockWidget):
            dock = dock.parentWidget()
        if dock is None:
            return
        if dock.isFloating():
            dock.resize(dock.width() + pixels, dock.height())
        elif isinstance(dock.parentWidget(), QMainWindow):
            dock.parentWidget().resizeDocks([dock], [dock.width() + pixels], Qt.Orientation.Horizontal)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        """As wide as shows every column in full (:meth:`_fit_width`)."""
        return QSize(max(self._wanted, LIST_MIN_WIDTH), super().sizeHint().height())

    def _show_selection(self) -> None:
        self.blockSignals(True)
        self.clearSelection()
        mode = self.selectionMode()
        self.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for uid in self.session.selection:
            if uid in self._uids:
                self.selectRow(self._uids.index(uid))
        # no cuboid selected: the entries of the tracks the session remembers (H, or chosen here)
        remembered = [] if self.session.selection else [
            len(self._uids) + self._absent.index(t) for t in self.session.marked_tracks if t in self._absent]
        for row in remembered:
            self.selectRow(row)
        self.setSelectionMode(mode)
        if self.session.selection and self.session.selection[0] in self._uids:
            self.scrollToItem(self.item(self._uids.index(self.session.selection[0]), 0))
        elif remembered:
            self.scrollToItem(self.item(remembered[0], 0))
        self.blockSignals(False)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        """A list made shorter (the label checks' dock opening under it, a smaller window) keeps
        the selected cuboid's row in view when it was in view before."""
        super().resizeEvent(event)
        sel = self.session.selection
        if not sel or sel[0] not in self._uids or event.oldSize().height() < 0:
            return
        row = self._uids.index(sel[0])
        y, h, view = self.rowViewportPosition(row), self.rowHeight(row), self.viewport().height()
        was_in_view = y >= 0 and y + h <= view - event.size().height() + event.oldSize().height()
        if was_in_view and y + h > view:
            self.scrollToItem(self.item(row, 0))

    def _rows_chosen(self) -> None:
        """Select the chosen cuboids; with only absent entries chosen, select nothing and remember
        their tracks (:meth:`Session.set_marked_tracks`), saying what Shift+H does then."""
        rows = sorted({i.row() for i in self.selectedIndexes()})
        n = len(self._uids)
        uids = tuple(self._uids[r] for r in rows if r < n)
        tracks = [self._absent[r - n] for r in rows if 0 <= r - n < len(self._absent)]
        if uids or not tracks:
            self.session.select(uids)
            self._show_selection()      # an absent entry chosen with cuboids is not highlighted
            return
        self.session.select(())
        self.session.set_marked_tracks(tracks)
        self.session.notify(f"track {', '.join(tracks)}: absent here (H); Shift+H takes back "
                            f"{'its' if len(tracks) == 1 else 'their'} marks, Esc forgets "
                            f"{'it' if len(tracks) == 1 else 'them'}")

    def _row_activated(self, item) -> None:
        win = self.window()
        if self.session.selection and hasattr(win, "focus_selection"):
            win.focus_selection()

    def _context_menu(self, pos) -> None:
        """Right click: hide or lock the class of the row under the mouse, or show everything."""
        menu = QMenu(self)
        row = self.rowAt(pos.y())
        if 0 <= row < len(self._uids) and self._uids[row] in self.session.document:
            ann = self.session.document.get(self._uids[row])
            s, cls = self.session, ann.cls
            menu.addAction(f"Hide class {cls}", lambda: s.set_class_hidden(cls, True))
            locked = s.is_locked(ann)
            menu.addAction(f"{'Unlock' if locked else 'Lock'} class {cls}",
                           lambda: s.set_class_locked(cls, not locked))
        menu.addAction("Show and unlock every class", self.session.show_all_classes)
        menu.popup(self.viewport().mapToGlobal(pos))
        self._menu = menu  # (tests look at it)

    def _on_session(self, kind, payload) -> None:
        if kind == "document":
            if self.data is not None and (self.data.index in payload.frames or not payload.frames):
                self.refresh()
        elif kind in ("selection", "marked_tracks"):
            self._show_selection()
        elif kind == "layers" and payload == "classes":
            self.refresh()


class FilterField(QLineEdit):
    """The object list's filter: Esc clears it (the window then gives the keys back to the views),
    Enter keeps it and gives the keys back; Tab walks the filtered list (the window's Tab)."""

    tab_walks_list = True   # input_widgets.owns_key leaves Tab to the window

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setPlaceholderText("filter (Ctrl+F)")
        self.setToolTip("show only cuboids whose class, track or status contains this text; Esc clears it")
        self.setClearButtonEnabled(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.returnPressed.connect(self.clearFocus)

    def escape(self) -> None:
        self.clear()


class ObjectsHeader(QWidget):
    """What goes above the list (the title bar of its dock): the title, the filter field and the
    count ("12 of 41"), and a line naming the hidden and locked classes whenever there are any.
    (Not a wrapper around the list: the list sits directly in the dock's splitter, so the dock's
    size hint follows the list's growing wanted width.)"""

    def __init__(self, session: Session, object_list: ObjectList, parent=None):
        super().__init__(parent)
        self.session = session
        self.list = object_list
        self.filter = FilterField()
        self.filter.textChanged.connect(self.list.set_filter)
        self.count = QLabel()
        self.note = QLabel()
        self.note.setStyleSheet(NOTE_STYLE)
        self.note.setWordWrap(True)
        self._count_width = self.count.fontMetrics().horizontalAdvance("999 cuboids") + 4
        self.count.setMinimumWidth(self._count_width)
        self.count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.filter.setMinimumWidth(120)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 4, 0)
        top.addWidget(QLabel("Objects"))
        top.addWidget(self.filter, 1)
        top.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 0, 2)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.note)
        self.list.on_refresh = self.update_count
        self.update_count()

    def update_count(self) -> None:
        """"41 cuboids", "12 of 41" while filtered or with hidden classes; with absent entries listed
        under them, "41 + 2 absent", "0 of 41 + 2 absent" (with "absent" typed); the hidden and
        locked classes in amber under it. The count is never cut: the filter field gives way."""
        lst = self.list
        shown, absent = len(lst.shown_uids), len(lst.absent_tracks)
        if not absent:
            text = f"{shown} of {lst.total}" if shown != lst.total else counted(lst.total, "cuboid")
        else:
            text = f"{shown} of {lst.total} + {absent} absent" if shown != lst.total else f"{lst.total} + {absent} absent"
        self.count.setText(text)
        self.count.setMinimumWidth(max(self._count_width, self.count.fontMetrics().horizontalAdvance(text) + 4))
        self.count.setToolTip(f"{shown} of the frame's {counted(lst.total, 'cuboid')} listed"
                              + (f", and {counted(absent, 'track')} marked absent here (H), greyed under them"
                                 if absent else ""))
        note = self.session.class_view.summary()
        if lst.n_hidden:
            note = note.replace("hidden:", f"hidden ({lst.n_hidden} here):", 1)
        self.note.setText(note)
        self.note.setToolTip("Classes menu, or right-click a row, to show or unlock them")
        self.note.setVisible(bool(note))
