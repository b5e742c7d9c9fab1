"""The "Check labels" list: the label checks of `fusionlabel check` run on the open project in
the background, their findings listed in a dock; choosing one goes to its frame and selects the
cuboid of its track there (:mod:`.label_findings`), or, where the track has none (a gap, or the
frame beyond a track's end), remembers the track as H does, so that H marks it absent there. While the dock is open, the list
follows the edits (:mod:`.check_runner`): a finding fixed leaves it, a new one joins it."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import QDockWidget, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from ..qa.findings import ERROR
from ..wording import counted
from .check_header import CheckHeader, title_text
from .check_runner import CheckRunner
from .label_findings import finding_key, finding_target, finding_text

ERROR_COLOR, WARNING_COLOR = QColor(176, 32, 32), QColor(150, 100, 0)
SHOWN_ROWS = 6      # findings the dock shows without scrolling when it opens
TITLE_HEIGHT = 24   # the dock's title bar, about


class CheckPanel(QDockWidget):
    """A dock listing the findings of the last label check (hidden until one runs)."""

    def __init__(self, session, parent: QWidget):
        super().__init__(title_text(None, False), parent)
        self.setObjectName("label_checks")   # named, so that saveState/restoreState find it
        self.session = session
        self.findings: list = []
        self.report = None
        self.header = CheckHeader()   # what was checked, the notes
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.itemActivated.connect(self._go)
        self.list.itemClicked.connect(self._go)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
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

    def _show_title(self) -> None:
        self.setWindowTitle(title_text(None if self.report is None else len(self.findings), self.refreshing,
                                       self.runner.outdated))

    def _failed(self, text: str, announce: bool) -> None:
        self.header.show_failure(text)
        self._show_title()
        if announce:
            self.session.notify(text, "error")

    def _show(self, report, seconds: float, announce: bool) -> None:
        findings = list(report.findings)
        if self.report is None or findings != self.findings:
            self._fill(findings)
        self.report = report
        self.header.show_report(report)
        self._show_title()
        if self.isHidden():   # as tall as a few findings: the views keep their room
            self.show()
            rows = min(max(len(self.findings), 1), SHOWN_ROWS)
            height = self.list.sizeHintForRow(0) * rows + 2 * self.list.frameWidth() + self.list.spacing() * rows
            height += TITLE_HEIGHT + self.header.sizeHint().height()
            self.parent().resizeDocks([self], [height], Qt.Orientation.Vertical)
        if announce:   # one short line: what was checked and the notes are in the dock
            notes = f"; {counted(len(report.notes), 'note')} in the dock" if report.notes else ""
            self.session.notify(f"label check: {counted(len(self.findings), 'finding')} in {seconds:.2f} s{notes}")

    def _fill(self, findings: list) -> None:
        """List ``findings``, the one chosen before still chosen if it is among them, the list
        scrolled where it was."""
        row = self.list.currentRow()
        chosen = finding_key(self.findings[row]) if 0 <= row < len(self.findings) else None
        scrolled = self.list.verticalScrollBar().value()
        self.findings = findings
        self.list.clear()
        for f in self.findings:
            item = QListWidgetItem(finding_text(f))
            item.setForeground(ERROR_COLOR if f.severity == ERROR else WARNING_COLOR)
            item.setToolTip(f"{f.check}: {f.remedy}")
            self.list.addItem(item)
        if not self.findings:
            self.list.addItem(QListWidgetItem("no findings"))
        self.list.verticalScrollBar().setValue(scrolled)
        keys = [finding_key(f) for f in self.findings]
        if chosen in keys:
            self.list.setCurrentRow(keys.index(chosen))

    def _go(self, item: QListWidgetItem) -> None:
        row = self.list.row(item)
        if not 0 <= row < len(self.findings):
            return
        finding = self.findings[row]
        frame, uid = finding_target(finding, self.session)
        if frame is not None:
            self.session.set_frame(frame)
        self.session.select((uid,) if uid is not None else ())
        if uid is None and frame is not None and finding.track_id is not None:   # gap, track-end: H marks it absent here
            self.session.set_marked_tracks((finding.track_id,))
