"""Estimate the ego's motion between sweeps on a worker thread, for ``V`` on a drive without poses.

Matching two sweeps (:func:`fusionlabel.assist.ego_motion.motion_between`) takes 1.5-3.5 s on two
SUSTech sweeps: on the GUI thread the window would freeze that long. The runner does it on a
daemon thread (the result lands in the per-drive cache), then calls back on the GUI thread, where
``V`` builds its command against the annotations as they are then. One estimate at a time; a
result that comes after the window closed is dropped.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from PyQt6.QtCore import QObject, pyqtSignal

from ..assist.ego_motion import motion_between
from ..errors import FusionLabelError


class MotionRunner(QObject):
    """Runs :func:`motion_between` for frame pairs of ``drive`` in the background."""

    _finished = pyqtSignal(object, float)   # worker -> GUI thread: the callback, seconds it took
    _error = pyqtSignal(str)

    def __init__(self, drive, parent: QObject | None = None):
        super().__init__(parent)
        self.drive = drive
        self._thread: threading.Thread | None = None
        self._closed = False
        self.last_seconds = 0.0        # how long the last estimate took
        self.on_error: Callable[[str], None] | None = None
        self._finished.connect(self._done)
        self._error.connect(self._failed)

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, pairs: list[tuple[int, int]], done: Callable[[], None]) -> bool:
        """Estimate the motion of each (a, b) frame pair, then call ``done()`` on the GUI thread;
        False (nothing started) while an estimate runs."""
        if self.running or self._closed:
            return False
        self._thread = threading.Thread(target=self._run, args=(list(pairs), done), daemon=True,
                                        name="fusionlabel-ego-motion")
        self._thread.start()
        return True

    def _run(self, pairs, done) -> None:
        started = time.perf_counter()
        try:
            for a, b in pairs:
                motion_between(self.drive, a, b)
        except FusionLabelError as e:   # an unreadable sweep ...
            self._emit(self._error, f"propagate failed: {e}")
            return
        except Exception as e:  # noqa: BLE001 - any failure becomes a message
            self._emit(self._error, f"propagate failed: {type(e).__name__}: {e}")
            return
        self._emit(self._finished, done, time.perf_counter() - started)

    def _emit(self, signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:   # the window is gone
            pass

    def _done(self, done, seconds: float) -> None:
        self._thread = None
        self.last_seconds = seconds
        if not self._closed:
            done()

    def _failed(self, text: str) -> None:
        self._thread = None
        if not self._closed and self.on_error is not None:
            self.on_error(text)

    def shutdown(self) -> None:
        """The window is closing: a result still to come is dropped."""
        self._closed = True
