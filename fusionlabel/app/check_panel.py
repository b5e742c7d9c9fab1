"""The "Check labels" list: the label checks of `fusionlabel check` run on the open project in
the background, their findings listed in a dock; choosing one goes to its frame and selects the
cuboid of its track there (:mod:`.label_findings`), or, where the track has none (a gap, or the
frame beyond a track's end), remembers the track as H does, so that H marks it absent there."""

from __future__ import annotations

import threading

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import QDockWidget, QListWidget, QListWidgetItem, QWidget

from ..qa.findings import ERROR
from ..wording import counted
from .label_findings import finding_target, finding_text, labels_to_check, run_checks

ERROR_COLOR, WARNING_COLOR = QColor(176, 32, 32), QColor(150, 100, 0)
SHOWN_ROWS = 6      # findings the dock shows without scrolling when it opens
TITLE_HEIGHT = 24   # the dock's title bar, about


class CheckPanel(QDockWidget):
    """A dock listing the findings of the last label check (hidden until one runs)."""

    checked = pyqtSignal(object)   # the LabelCheck, from the worker thread to the GUI thread
    failed = pyqtSignal(str)

    def __init__(self, session, parent: QWidget):
        super().__init__("Label checks", parent)
        self.setObjectName("label_checks")   # named, so that saveState/restoreState find it
        self.session = session
        self.findings: list = []
        self.report = None
        self._thread: threading.Thread | None = None
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.itemActivated.connect(self._go)
        self.list.itemClicked.connect(self._go)
        self.setWidget(self.list)
        self.checked.connect(self._show)
        self.failed.connect(lambda text: self.session.notify(text, "error"))
        self.hide()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> bool:
        """Check the project's labels as they are now, in the background; False while a check runs."""
        if self.running:
            return False
        labels, absent = labels_to_check(self.session)
        drive = self.session.drive
        self._thread = threading.Thread(target=self._run, args=(drive, labels, absent), daemon=True,
                                        name="fusionlabel-label-check")
        self._thread.start()
        self.session.notify("checking the labels…")
        return True

    def _run(self, drive, labels, absent) -> None:
        try:
            report = run_checks(drive, labels, absent)
        except Exception as e:  # noqa: BLE001 - any failure becomes a message
            self._emit("failed", f"label check failed: {type(e).__name__}: {e}")
            return
        self._emit("checked", report)

    def _emit(self, signal: str, *args) -> None:
        try:
            getattr(self, signal).emit(*args)
        except RuntimeError:  # the window is gone
            pass

    def _show(self, report) -> None:
        self.report, self.findings = report, list(report.findings)
        self.list.clear()
        for f in self.findings:
            item = QListWidgetItem(finding_text(f))
            item.setForeground(ERROR_COLOR if f.severity == ERROR else WARNING_COLOR)
            item.setToolTip(f"{f.check}: {f.remedy}")
            self.list.addItem(item)
        if not self.findings:
            self.list.addItem(QListWidgetItem("no findings"))
        if not self.isVisible():   # as tall as a few findings: the views keep their room
            self.show()
            rows = min(max(len(self.findings), 1), SHOWN_ROWS)
            height = self.list.sizeHintForRow(0) * rows + 2 * self.list.frameWidth() + self.list.spacing() * rows
            self.parent().resizeDocks([self], [height + TITLE_HEIGHT], Qt.Orientation.Vertical)
        self.session.notify(f"label check: {counted(len(self.findings), 'finding')}; {report.status()}"
                            + "".join(f"; {note}" for note in report.notes))

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
