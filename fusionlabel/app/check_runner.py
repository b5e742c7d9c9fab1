"""When the label checks run for the label-check dock: on Ctrl+K, and, while the dock is open,
again once the edits pause (:data:`REFRESH_MS` after the last one; undo and redo are edits too).
The labels are checked in a child process (:mod:`fusionlabel.qa.check_process`: on a thread the
checks would hold the interpreter lock the painting needs, and editing would stutter), one check at
a time; a worker thread starts it and relays its report. The child reads the labels from the
project's database, where every edit is committed before it is shown; only a project open
read-only (another process may be editing it) has them copied on the GUI thread and sent: on a
long drive that copy stalled the key press and left the app larger after the check. Checks that
cannot run in a child (a drive not opened from a path, a frozen executable, a check replaced in
code, as tests do) run on that worker thread. A check that an edit made stale is dropped and followed by a check of the labels as they are. A drive
whose check takes longer than :data:`AUTO_MAX_S` (thousands of frames) is not checked again after
every edit: its list is shown as it was, marked out of date (:attr:`CheckRunner.outdated`), until
the next Ctrl+K."""

from __future__ import annotations

import threading
import time
from typing import Callable

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from ..childproc.process import ChildStartError
from ..qa.check_process import CheckProcess
from ..qa.project_labels import stored_labels
from . import label_findings
from .label_findings import labels_to_check, run_checks

REFRESH_MS = 700    # an open list is checked again this long after the last edit
AUTO_MAX_S = 5.0    # a check that took longer is not repeated by edits (its thread slows editing)


class CheckRunner(QObject):
    """Runs the label checks of ``session`` in the background. ``is_open()`` says whether the
    dock shows their findings (only then do edits start checks)."""

    checked = pyqtSignal(object, float, bool)   # the LabelCheck, seconds it took, Ctrl+K asked for it
    failed = pyqtSignal(str, bool)              # the error, Ctrl+K asked for it
    changed = pyqtSignal()                      # :attr:`refreshing` may have changed
    _finished = pyqtSignal(object, int, float)  # worker -> GUI thread: report, edit count, seconds
    _error = pyqtSignal(str, int)

    def __init__(self, session, is_open: Callable[[], bool], parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.is_open = is_open
        self.edits = 0          # document changes so far: a check started before the last one is stale
        self._announce = False  # Ctrl+K asked: the next result is for the status bar too
        self.last_seconds = 0.0  # how long the last check took
        self.outdated = False   # the labels changed since the list shown, and only Ctrl+K checks them again
        self._thread: threading.Thread | None = None   # the running check's, until its result is taken
        self._sent = False      # the worker has queued its result for the GUI thread
        self._process: CheckProcess | None = None   # the child of the running check, if in one
        self._closed = False
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self._refresh)
        self._finished.connect(self._done)
        self._error.connect(self._failed)
        session.subscribe(self._on_session)

    @property
    def running(self) -> bool:
        """Whether a check runs or its result is on its way to the GUI thread (the worker may have
        ended before its result is taken there)."""
        return self._thread is not None and (self._thread.is_alive() or self._sent)

    @property
    def refreshing(self) -> bool:
        """Whether the labels changed since the findings shown: a check of them due or running."""
        return self.timer.isActive() or self.running

    def start(self) -> bool:
        """Check the labels as they are now, for Ctrl+K; False while a check Ctrl+K asked for runs.
        A check started by edits that is running already serves (or is followed by a fresh one)."""
        if self.running and self._announce:
            return False
        self._announce = True
        if not self.running:
            self.timer.stop()
            self._launch()
        return True

    def _launch(self) -> None:
        if self._closed:
            return
        folder = self._stored_folder()
        labels = absent = None
        if folder is None:
            labels, absent = labels_to_check(self.session)   # copied here, on the GUI thread
        self._sent = False
        self._thread = threading.Thread(target=self._run, args=(self.session.drive, labels, absent, folder, self.edits),
                                        daemon=True, name="fusionlabel-label-check")
        self._thread.start()
        self.changed.emit()

    def _stored_folder(self):
        """The project's folder when the check's child can read the labels from its database: they
        are all committed there (not open read-only) and the check runs in a child; else None."""
        store = getattr(self.session.project, "store", None)
        if (store is None or store.read_only or getattr(self.session.drive, "opened_as", None) is None
                or run_checks is not label_findings.run_checks):
            return None
        return self.session.project.folder

    def _run(self, drive, labels, absent, folder, edits: int) -> None:
        started = time.perf_counter()
        try:
            answer = self._in_child(drive, labels, absent, folder)
            if answer is None:
                if labels is None:   # no child after all: read them here, off the GUI thread
                    labels, absent = stored_labels(folder, len(drive), stored_ids=True)
                report = run_checks(drive, labels, absent)
            elif answer[0] == "done":
                report = answer[1]
            else:
                self._emit(self._error, f"label check failed: {answer[1]}", edits)
                return
        except _Closed:
            return
        except Exception as e:  # noqa: BLE001 - any failure becomes a message
            self._emit(self._error, f"label check failed: {type(e).__name__}: {e}", edits)
            return
        self._emit(self._finished, report, edits, time.perf_counter() - started)

    def _in_child(self, drive, labels, absent, folder) -> tuple | None:
        """Worker thread: the child process's answer, or None when the check cannot run in one
        (then it runs here). _Closed when :meth:`shutdown` ended it."""
        recipe = getattr(drive, "opened_as", None)
        if recipe is None or run_checks is not label_findings.run_checks:
            return None
        try:
            process = CheckProcess(recipe, len(drive), labels, absent, project=folder if labels is None else None)
        except ChildStartError:
            return None
        self._process = process
        if self._closed:
            process.kill()
        answer = process.result()
        self._process = None
        if answer is None or self._closed:
            raise _Closed
        return answer

    @property
    def pid(self) -> int | None:
        """The process id of the running check's child (None: none runs, or it runs here)."""
        process = self._process
        return None if process is None else process.pid

    def shutdown(self) -> None:
        """The window is closing: end the running check's child now and drop its result."""
        self._closed = True
        self.timer.stop()
        process = self._process
        if process is not None:
            process.kill()

    def _emit(self, signal, *args) -> None:
        self._sent = True
        try:
            signal.emit(*args)
        except RuntimeError:  # the window is gone
            pass

    def _on_session(self, kind, payload) -> None:
        if kind != "document":
            return
        self.edits += 1
        if self.running or self.is_open():
            if self.last_seconds > AUTO_MAX_S:
                self.outdated = True     # checking after every edit would take as long each time
            else:
                self.timer.start()       # restarted by every edit: one check after the last
            self.changed.emit()

    def _refresh(self) -> None:
        if self.running:
            return   # stale: when it ends, a check of the labels as they are follows
        if self.is_open() or self._announce:
            self._launch()

    def _stale(self, edits: int) -> bool:
        """After a check ends: whether an edit came since it started; then another check follows
        (a long one is shown all the same, marked out of date)."""
        self._thread, self._sent = None, False   # its result is taken: the next check may start
        self.outdated = edits != self.edits and self.last_seconds > AUTO_MAX_S
        if self.outdated:
            self.timer.stop()    # edits during it asked for a check that would take as long again
        if edits == self.edits or self.outdated:
            return False
        if not self.timer.isActive():
            self.timer.start()
        return True

    def _done(self, report, edits: int, seconds: float) -> None:
        self.last_seconds = seconds
        if self._stale(edits) and self.is_open():   # a newer check replaces it
            self.changed.emit()
            return
        announce, self._announce = self._announce, False
        self.checked.emit(report, seconds, announce)

    def _failed(self, text: str, edits: int) -> None:
        if self._stale(edits) and self.is_open():
            self.changed.emit()
            return
        announce, self._announce = self._announce, False
        self.failed.emit(text, announce)


class _Closed(Exception):
    """The check's child was ended by :meth:`CheckRunner.shutdown`."""
