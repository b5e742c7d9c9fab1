"""A project lock that dies with its process: ``fcntl.flock`` on ``project.lock``.

The kernel drops a flock when its file descriptor closes, which includes the process being
killed, so a crash never leaves a stale lock. The lock file holds the holder's pid, host and
start time so that a second instance can say who has the project open.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from pathlib import Path


class ProjectLock:
    """Exclusive, non-blocking advisory lock on one file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        """Take the lock; False (and nothing held) when another open file description holds it.

        Raises OSError when the lock file cannot be created (e.g. a read-only folder)."""
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        info = f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n"
        os.ftruncate(fd, 0)
        os.pwrite(fd, info.encode(), 0)
        return True

    def holder(self) -> str:
        """Who holds the lock, as written by the holder ("" if unknown)."""
        try:
            return self.path.read_text(errors="replace").strip()
        except OSError:
            return ""

    def release(self) -> None:
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None

    def __del__(self):
        try:
            self.release()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass
