"""Hold SIGINT and SIGTERM (and SIGHUP) back for the few steps that must not be cut in two.

A signal that arrives meanwhile stays pending and is delivered (its handler runs, e.g. the CLI's
"terminated") as soon as the block ends. SIGKILL cannot be held: what is done inside must still
leave consistent data at every single step.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

HELD = tuple(s for s in (getattr(signal, n, None) for n in ("SIGINT", "SIGTERM", "SIGHUP")) if s is not None)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Run the block with :data:`HELD` signals blocked (main thread on POSIX; elsewhere as is)."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
