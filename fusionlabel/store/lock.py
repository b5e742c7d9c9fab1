"""A project lock that dies with its process: ``fcntl.flock`` on ``project.lock``.

The kernel drops a flock when its file descriptor closes, which includes the process being
killed, so a crash never leaves a stale lock. The lock file holds the holder's pid, host and
start time so that a second instance can say who has the project open. A flock taken through
another file description refuses this same process too, so the locks this process holds are
remembered (:attr:`ProjectLock.held_here`): a second open here is told apart from another process.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from pathlib import Path

# The lock files this process holds: resolved path -> (pid, descriptor) of each ProjectLock holding
# it (a forked child inherits the table, not the meaning; more than one holder is a lock taken on
# a file since replaced at that path, :class:`~fusionlabel.export.staging.OutputLock`)
_HELD: dict[str, set[tuple[int, int]]] = {}


class ProjectLock:
    """Exclusive, non-blocking advisory lock on one file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    @property
    def held_here(self) -> bool:
        """Whether this process holds the lock through another ProjectLock (the project is
        already open in this process: another window, an earlier open not closed)."""
        return not self.held and any(pid == os.getpid() for pid, _ in _HELD.get(self._key(), ()))

    def taken_by(self, what: str) -> str:
        """Why :meth:`acquire` was refused, for a message about ``what`` ("project /p"): opened in
        this process already, or by another process (who, as the holder wrote it)."""
        if self.held_here:
            return f"{what} is already open in this process (another window, or an open not closed yet)"
        holder = self.holder()
        return f"another fusionlabel process has {what} open{' (' + holder + ')' if holder else ''}"

    def _key(self) -> str:
        return os.path.realpath(self.path)

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
        _HELD.setdefault(self._key(), set()).add((os.getpid(), fd))
        os.ftruncate(fd, 0)
        os.pwrite(fd, (self.record() + "\n").encode(), 0)
        return True

    def record(self) -> str:
        """The line the holder writes into the lock file: who holds it (pid, host, since when)."""
        return f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}"

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
                holders = _HELD.get(self._key(), set())
                holders.discard((os.getpid(), self._fd))     # before the descriptor's number is free again
                if not holders:
                    _HELD.pop(self._key(), None)
                os.close(self._fd)
                self._fd = None

    def __del__(self):
        try:
            self.release()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass
