"""Hold SIGINT and SIGTERM (and SIGHUP) back for the few steps that must not be cut in two.

A signal that arrives meanwhile is only recorded; when the block ends the handlers that were in
place are put back and given it (its handler runs, e.g. the CLI's "terminated", or the default
action ends the process). Blocking the signal with ``pthread_sigmask`` would not do: it holds it
back from the calling thread only, and the kernel then hands it to any other thread of the process
(NumPy's, OpenCV's, a progress thread), after which Python runs the handler in the main thread all
the same. So for the block the handlers themselves are swapped for one that records. SIGKILL
cannot be held: what is done inside must still leave consistent data at every single step.
"""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager
from typing import Iterator

HELD = tuple(s for s in (getattr(signal, n, None) for n in ("SIGINT", "SIGTERM", "SIGHUP")) if s is not None)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Run the block with :data:`HELD` signals recorded instead of handled, then hand each one
    that came to the handler that was in place (in the main thread; elsewhere the block runs as
    is, since only the main thread can change handlers). A signal that was ignored stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    came: list[int] = []

    def record(signum, frame):
        if signum not in came:
            came.append(signum)

    previous = {}
    for signum in HELD:
        handler = signal.getsignal(signum)
        if handler is None or handler == signal.SIG_IGN:    # set outside Python, or ignored: left as is
            continue
        previous[signum] = signal.signal(signum, record)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in came:
            _deliver(signum, previous[signum])


def stop_text(signum: int) -> str:
    """How a command stopped by ``signum`` says so: interrupted (Ctrl+C), terminated (SIGTERM),
    stopped by SIGHUP."""
    if signum == signal.SIGINT:
        return "interrupted"
    return "terminated" if signum == signal.SIGTERM else f"stopped by {signal.Signals(signum).name}"


def _deliver(signum: int, handler) -> None:
    """Give ``signum`` to ``handler`` as the system would have: call it, or for the default action
    raise the signal again (which ends the process, or for SIGINT raises KeyboardInterrupt)."""
    if callable(handler):
        handler(signum, sys._getframe(1))
    else:
        signal.raise_signal(signum)
