"""The math libraries' thread pools on one thread, unless the user set them: for the children
(:func:`.process.child_env`) and for commands whose work is many small arrays (``fusionlabel
check``), where a pool per core only spins for work. No numpy import here: the pools are sized
when numpy loads, so this runs before."""

from __future__ import annotations

import os
import sys

# Math-library thread pools a child runs with unless the user set them: one thread each. A
# background child works on one core and leaves the other to the window; with a pool per core its
# threads spin for work (the label check of the sample drive: 2.7 s of CPU instead of 1.5, the same wall time).
ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def one_thread_env(environ) -> dict[str, str]:
    """``environ`` (a mapping) with each :data:`ONE_THREAD` variable it does not set at ``"1"``."""
    return {**{name: "1" for name in ONE_THREAD}, **environ}


def one_thread_here() -> bool:
    """Put this process's math libraries on one thread (the :data:`ONE_THREAD` variables the user
    has not set, set to 1) if numpy is not imported yet; whether that was in time."""
    if "numpy" in sys.modules:
        return False
    for name in ONE_THREAD:
        os.environ.setdefault(name, "1")
    return True
