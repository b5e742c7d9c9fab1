"""Progress of the command-line tools on stderr: a live tqdm bar on a terminal; in a log file or
pipe, plain lines instead (no carriage returns): one at every 10 % of the frames, one at least every
:data:`LINE_EVERY_S` seconds of a slow run, and one when it is done."""

from __future__ import annotations

import sys
import time
from typing import Iterable, TextIO

LINE_EVERY_S = 30.0     # a plain line at least this often while the run goes on


def is_terminal(stream: TextIO | None) -> bool:
    """``stream`` is an interactive terminal (a closed or replaced stream is not)."""
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def progress(iterable: Iterable | None = None, *, total: int | None = None, desc: str, unit: str = "frame",
             enabled: bool = True, stream: TextIO | None = None):
    """A progress reporter for ``iterable`` (or ``total`` steps counted with ``update``) on
    ``stream`` (default stderr): tqdm on a terminal, :class:`LineProgress` otherwise, silent when
    not ``enabled``. Either is iterated, updated, closed, or used in a ``with`` block alike."""
    stream = sys.stderr if stream is None else stream
    if enabled and is_terminal(stream):
        from tqdm import tqdm

        return tqdm(iterable, total=total, desc=desc, unit=unit, file=stream, dynamic_ncols=True)
    return LineProgress(iterable, total=total, desc=desc, unit=unit, stream=stream if enabled else None)


class LineProgress:
    """Progress as whole lines, e.g. ``export kitti: 40/100 frames (40%)`` and at the end
    ``export kitti: 100/100 frames (100%) in 12.3 s``; writes nothing when ``stream`` is None."""

    def __init__(self, iterable: Iterable | None = None, *, total: int | None = None, desc: str = "",
                 unit: str = "frame", stream: TextIO | None = None):
        self.iterable, self.desc, self.unit, self.stream = iterable, desc, unit, stream
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.total, self.n = total, 0
        self._start = self._last_time = time.monotonic()
        self._last_step, self._last_n = 0, 0

    def __iter__(self):
        for item in self.iterable:
            yield item
            self.update(1)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        self.n += n
        if self.stream is None or self.n == self._last_n:
            return
        now = time.monotonic()
        step = int(10 * self.n / self.total) if self.total else 0
        if self.total and self.n >= self.total:
            self._line(now, done=True)
        elif step > self._last_step or now - self._last_time >= LINE_EVERY_S:
            self._line(now)
        self._last_step = max(self._last_step, step)

    def close(self) -> None:
        """A last line when the run stopped short of a line for where it is (not after the final one)."""
        if self.stream is not None and self.n and self.n != self._last_n:
            self._line(time.monotonic())

    def _line(self, now: float, done: bool = False) -> None:
        count = f"{self.n}/{self.total}" if self.total else str(self.n)
        share = f" ({100 * self.n // self.total}%)" if self.total else ""
        took = f" in {now - self._start:.1f} s" if done else ""
        print(f"{self.desc}: {count} {self.unit}{'' if self.n == 1 and not self.total else 's'}{share}{took}",
              file=self.stream, flush=True)
        self._last_time, self._last_n = now, self.n
