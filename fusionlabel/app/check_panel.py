"""The "Check labels" list: the label checks of `fusionlabel check` run on the open project in
the background, their findings listed in a dock; choosing one goes to its frame and selects the
cuboid of its track there (:mod:`.label_findings`), or, where the track has none (a gap, or the
frame beyond a track's end), remembers the track as H does, so that H marks it absent there. While the dock is open, the list
follows the edits (:mod:`.check_runner`): a finding fixed leaves it, a new one joins it. A finding
looked at and found fine is waived (`W`, :mod:`.check_waive`): it leaves the list, counted under it.
A label waiver whose finding the check no longer finds is stale: counted in a grey line, listed
greyed with the waived findings, where `W` takes it back. A read-only app changes no waiver."""

from __future__ import annotations

from PyQt6.QtCore import QEvent, Qt
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import QDockWidget, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from ..errors import FusionLabelError
from ..qa.effort import utc_text
from ..qa.findings import ERROR
from ..qa.waivers import apply_waivers, finding_id, is_label_finding, stale_reason
from ..store.db import StoreClosedError
from ..wording import counted, read_only_problem, taken_back_note, waived_note, waivers_read_only
from .check_header import CheckHeader, title_text
from .check_runner import CheckRunner
from .check_waive import WAIVE_KEY, WaiveBar, WaiveDialog
from .label_findings import (finding_ghost, finding_key, finding_target, finding_text, ghost_text, project_waivers,
                             unwaive_in_project,
                             waive_in_project)

ERROR_COLOR, WARNING_COLOR, WAIVED_COLOR = QColor(176, 32, 32), QColor(150, 100, 0), QColor(140, 140, 140)
SHOWN_ROWS = 6      # findings the dock shows without scrolling when it opens
TITLE_HEIGHT = 24   # the dock's title bar, about


class CheckPanel(QDockWidget):
    """A dock listing the findings of the last label check (hidden until one runs)."""

    def __init__(self, session, parent: QWidget):
        super().__init__(title_text(None, False), parent)
        self.setObjectName("label_checks")   # named, so that saveState/restoreState find it
        self.session = session
        self.findings: list = []      # every finding of the last check, waived ones too
        self.waivers: list = []       # the project's waivers
        self.rows: list = []          # (finding or None for a stale waiver, its waiver or None) of each row
        self.report = None
        self.dialog: WaiveDialog | None = None
        self.header = CheckHeader()   # what was checked, the notes
        self.bar = WaiveBar()         # Waive…, the waived findings counted (and shown greyed)
        self.bar.waive.clicked.connect(self.waive_chosen)
        self.bar.shown.toggled.connect(lambda _: self._refill())
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.itemActivated.connect(self._go)
        self.list.itemClicked.connect(self._go)
        self.list.currentRowChanged.connect(lambda _: self._show_bar())
        self.list.installEventFilter(self)
        # a line at least, not Qt's 70 px: with the dock open, a window of six cameras stays within
        # a 1280x720 screen (drag the dock's edge for more)
        self.list.setMinimumHeight(self.list.fontMetrics().lineSpacing() + 2 * self.list.frameWidth() + 4)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.bar)
        layout.addWidget(self.list)
        self.setWidget(body)
        self.runner = CheckRunner(session, lambda: not self.isHidden(), self)
        self.runner.checked.connect(self._show)
        self.runner.failed.connect(self._failed)
        self.runner.changed.connect(self._show_title)
        self.hide()

    @property
    def running(self) -> bool:
        return self.runner.running

    @property
    def refreshing(self) -> bool:
        """Whether the list may be out of date: the labels changed since it was checked."""
        return self.runner.refreshing

    def start(self) -> bool:
        """Check the project's labels as they are now, in the background; False while a check runs."""
        if not self.runner.start():
            return False
        self.session.notify("checking the labels…")
        return True

    @property
    def open_findings(self) -> list:
        """The findings of the last check not waived."""
        return [f for f, w in self._split() if w is None]

    def _split(self) -> list:
        split = apply_waivers(self.findings, self.waivers)
        waiver_of = {finding_id(f): w for f, w in split.waived}
        return [(f, waiver_of.get(finding_id(f))) for f in self.findings]

    @property
    def stale(self) -> list:
        """The label waivers whose finding the last check did not report (the dock checks the labels
        only: the waivers of the drive checks are not judged here)."""
        if self.report is None:
            return []
        return [w for w in apply_waivers(self.findings, self.waivers).stale if is_label_finding(w.check)]

    def _show_title(self) -> None:
        self.setWindowTitle(title_text(None if self.report is None else len(self.open_findings), self.refreshing,
                                       self.runner.outdated))

    def _failed(self, text: str, announce: bool) -> None:
        self.header.show_failure(text)
        self._show_title()
        if announce:
            self.session.notify(text, "error")

    def _show(self, report, seconds: float, announce: bool) -> None:
        findings = list(report.findings)
        try:
            waivers = project_waivers(self.session)    # the CLI may have waived some meanwhile
        except StoreClosedError:
            return     # the project was closed while the check ran (the window closing): nothing to show
        first, self.report = self.report is None, report
        if first or findings != self.findings or waivers != self.waivers:
            self.waivers = waivers
            self._fill(findings)
        self.header.show_report(report)
        self._show_title()
        if self.isHidden():   # as tall as a few findings: the views keep their room
            self.show()
            rows = min(max(len(self.rows), 1), SHOWN_ROWS)
            height = self.list.sizeHintForRow(0) * rows + 2 * self.list.frameWidth() + self.list.spacing() * rows
            height += TITLE_HEIGHT + self.header.sizeHint().height() + self.bar.sizeHint().height()
            self.parent().resizeDocks([self], [height], Qt.Orientation.Vertical)
        if announce:   # one short line: what was checked and the notes are in the dock
            notes = f"; {counted(len(report.notes), 'note')} in the dock" if report.notes else ""
            n_waived = len(self.findings) - len(self.open_findings)
            waived = f"; {n_waived} waived" if n_waived else ""
            self.session.notify(f"label check: {counted(len(self.open_findings), 'finding')} in {seconds:.2f} s"
                                f"{waived}{notes}")

    def _fill(self, findings: list) -> None:
        """List ``findings`` (the waived ones greyed, or left out unless the tick box shows them),
        the one chosen before still chosen if it is among them, the list scrolled where it was."""
        row = self.list.currentRow()
        chosen = self._row_key(*self.rows[row]) if 0 <= row < len(self.rows) else None
        scrolled = self.list.verticalScrollBar().value()
        self.findings = findings
        self.list.clear()
        split = self._split()
        self.rows = [(f, w) for f, w in split if w is None or self.bar.shown.isChecked()]
        for f, w in self.rows:
            item = QListWidgetItem(finding_text(f) if w is None else f"waived  {finding_text(f)}")
            if w is None:
                item.setForeground(ERROR_COLOR if f.severity == ERROR else WARNING_COLOR)
                item.setToolTip(f"{f.check}: {f.remedy}")
            else:
                item.setForeground(WAIVED_COLOR)
                item.setToolTip(f"waived by {w.user}, {utc_text(w.at_us)}: {w.reason}")
            self.list.addItem(item)
        if self.bar.shown.isChecked():
            for w in self.stale:
                self.rows.append((None, w))
                item = QListWidgetItem(f"stale   [{w.id}] {w.subject} ({w.check}): {w.reason}")
                item.setForeground(WAIVED_COLOR)
                font = item.font()
                font.setItalic(True)
                item.setFont(font)
                item.setToolTip(f"stale waiver by {w.user}, {utc_text(w.at_us)}: {stale_reason(w)}; it said: "
                                f"{w.message}. W takes it back")
                self.list.addItem(item)
        if not self.rows:
            waived = len(split) - len(self.open_findings)
            self.list.addItem(QListWidgetItem("no findings" if not waived else "no findings but the waived ones"))
        self.list.verticalScrollBar().setValue(scrolled)
        keys = [self._row_key(f, w) for f, w in self.rows]
        if chosen in keys:
            self.list.setCurrentRow(keys.index(chosen))
        self._show_bar()

    @staticmethod
    def _row_key(finding, waiver) -> tuple:
        return ("stale", waiver.id) if finding is None else finding_key(finding)

    def _refill(self, row: int | None = None) -> None:
        """List the findings again (waivers changed, or the tick box); ``row``: the row to choose then."""
        self._fill(self.findings)
        if row is not None and self.rows:
            self.list.setCurrentRow(min(row, len(self.rows) - 1))
        self._show_title()

    def _show_bar(self) -> None:
        row = self.list.currentRow()
        chosen = self.rows[row][1] is not None if 0 <= row < len(self.rows) else None
        self.bar.show_state(len(self.findings) - len(self.open_findings), chosen, len(self.stale))

    def eventFilter(self, watched, event) -> bool:
        if (watched is self.list and event.type() == QEvent.Type.KeyPress and event.text().upper() == WAIVE_KEY
                and not event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier):
            self.waive_chosen()
            return True
        return super().eventFilter(watched, event)

    def waive_chosen(self) -> None:
        """The chosen finding: ask why it is fine and waive it (:class:`.check_waive.WaiveDialog`);
        a waived one (shown greyed): take its waiver back."""
        row = self.list.currentRow()
        if not 0 <= row < len(self.rows):
            return
        finding, waiver = self.rows[row]
        if self.session.read_only:      # say so before asking for a reason that cannot be kept
            self.session.notify(waivers_read_only(read_only_problem(self.session.read_only_reason),
                                                  self.session.held_here), "error")
            return
        if waiver is not None:
            again = "stale, gone" if finding is None else "the finding is listed again"
            self._write(lambda: unwaive_in_project(self.session, waiver), row,
                        f"{taken_back_note([waiver.id])} ({waiver.subject}, {waiver.check}): {again}")
            return
        self.dialog = WaiveDialog(finding_text(finding), self)
        self.dialog.accepted.connect(lambda: self._waive(finding, self.dialog.reason.text(), row))
        self.dialog.open()

    def _waive(self, finding, reason: str, row: int) -> None:
        self._write(lambda: waive_in_project(self.session, finding, reason), row,
                    lambda w: waived_note(w.id, w.subject, w.check, w.reason))

    def _write(self, change, row: int, said) -> None:
        """Run ``change`` (a waiver written or taken back), list again and say ``said`` (text, or a
        function of what ``change`` returned)."""
        try:
            done = change()
        except FusionLabelError as e:      # read-only project, disk full: said, nothing changed
            self.session.notify(waivers_read_only(str(e)), "error")
            return
        self.waivers = project_waivers(self.session)
        self._refill(row)
        self.session.notify(said(done) if callable(said) else said)

    def _go(self, item: QListWidgetItem) -> None:
        row = self.list.row(item)
        if not 0 <= row < len(self.rows):
            return
        finding = self.rows[row][0]
        if finding is None:     # a stale waiver: its finding is gone, nowhere to go
            return
        frame, uid = finding_target(finding, self.session)
        if frame is not None:
            self.session.set_frame(frame)
        self.session.select((uid,) if uid is not None else ())
        if uid is None and frame is not None and finding.track_id is not None:   # gap, track-end: H marks it absent here
            self.session.set_marked_tracks((finding.track_id,), finding_frame=frame)
            ghost = finding_ghost(finding, self.session, frame)
            if ghost is not None:    # where the box would be, until the user acts or moves on
                self.session.show_ghost(ghost)
                self.session.notify(ghost_text(ghost, self.session.drive.frames[frame].frame_id))
