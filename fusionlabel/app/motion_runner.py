"""Estimate the ego's motion between sweeps on a worker thread, for ``V`` on a drive without poses.

Matching two sweeps (:func:`fusionlabel.assist.ego_motion.motion_between`) takes 1.5-3.5 s on two
SUSTech sweeps: on the GUI thread the window would freeze that long. The runner does it on a
daemon thread (the result lands in the per-drive cache), then calls back on the GUI thread, where
``V`` builds its command against the annotations as they are then. Requests queue up and run one
after the other on that thread; a pair estimated already (by an earlier request) costs nothing. A
result that comes after the window closed is dropped.
"""

from __future__ import annotations

import threading
import time
from collections import deque
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
        self._jobs: deque = deque()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.last_seconds = 0.0        # how long the last request took
        self.on_error: Callable[[str], None] | None = None
        self._finished.connect(self._done)
        self._error.connect(self._failed)

    @property
    def running(self) -> bool:
        with self._lock:
            return self._thread is not None

    def start(self, pairs: list[tuple[int, int]], done: Callable[[], None] | None = None) -> bool:
        """Estimate the motion of each (a, b) frame pair, then call ``done()`` on the GUI thread
        (after the requests before it; without ``done``, ahead of time: a failure is not said);
        False once the window closed."""
        if self._closed:
            return False
        with self._lock:
            self._jobs.append((list(pairs), done))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name="fusionlabel-ego-motion")
                self._thread.start()
        return True

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._jobs or self._closed:
                    self._thread = None
                    return
                pairs, done = self._jobs.popleft()
            started = time.perf_counter()
            try:
                for a, b in pairs:
                    motion_between(self.drive, a, b)
            except Exception as e:  # noqa: BLE001 - any failure becomes a message (an unreadable sweep ...)
                if done is not None:    # one asked for ahead of time is said when V asks for it
                    text = str(e) if isinstance(e, FusionLabelError) else f"{type(e).__name__}: {e}"
                    self._emit(self._error, f"propagate failed: {text}")
                continue
            self._emit(self._finished, done, time.perf_counter() - started)

    def _emit(self, signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:   # the window is gone
            pass

    def _done(self, done, seconds: float) -> None:
        self.last_seconds = seconds
        if not self._closed and done is not None:
            done()

    def _failed(self, text: str) -> None:
        if not self._closed and self.on_error is not None:
            self.on_error(text)

    def shutdown(self) -> None:
        """The window is closing: requests still to come are dropped."""
        self._closed = True
