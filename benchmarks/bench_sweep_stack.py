"""The first O on a frame (stack one sweep each side, :mod:`fusionlabel.app.sweep_stack`): how long
the GUI thread is busy, and how long until the bird's-eye view shows the stack.

On a simulated drive with ``--points`` points per sweep (default 300,000), for several frames in
turn (each one's first O, its neighbours' sweeps read already, as after stepping there), it prints
in milliseconds:

  * key:    the O key's action and the bird's-eye view's repaint right after it (GUI thread);
  * stall:  the longest single turn of the event loop (GUI thread), the key's included, until the
            views have drawn the stack (0.3 s after the caption counts its sweeps);
  * shown:  from the key until the bird's-eye caption counts the stacked sweeps (wall time).

Usage: python benchmarks/bench_sweep_stack.py [--points 300000] [--frames 6]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
if not os.environ.get("DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"

from PyQt6.QtWidgets import QApplication  # noqa: E402

from fusionlabel.app import testing  # noqa: E402
from fusionlabel.app.main_window import MainWindow  # noqa: E402
from fusionlabel.app.session import Session  # noqa: E402
from fusionlabel.store.project import Project  # noqa: E402


def stack_shown(window) -> bool:
    return any("other sweeps" in line for line in window.bev._hud_lines())


def first_o(app, window, timeout: float = 30.0, after: float = 0.3) -> tuple[float, float, float]:
    """(key, longest event-loop turn, until shown) in seconds for one O on the frame shown; the
    turns are watched until ``after`` seconds past the caption counting the sweeps (the views
    drawing them)."""
    t0 = time.perf_counter()
    window.actions_.step_sweeps(1)
    window.bev.repaint()
    key = time.perf_counter() - t0
    stall, shown = key, None
    while shown is None or time.perf_counter() - t0 < shown + after:
        t = time.perf_counter()
        app.processEvents()
        stall = max(stall, time.perf_counter() - t)
        if shown is None and stack_shown(window):
            shown = time.perf_counter() - t0
        if t - t0 > timeout:
            raise TimeoutError("the stacked sweeps were never shown")
        time.sleep(0.0005)
    return key, stall, shown


def fmt(values: list[float]) -> str:
    ms = [v * 1e3 for v in values]
    return f"median {statistics.median(ms):7.1f} ms  (min {min(ms):6.1f}, max {max(ms):6.1f}, n={len(ms)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--points", type=int, default=300_000, help="points per simulated sweep")
    ap.add_argument("--frames", type=int, default=6, help="frames of the simulated drive")
    args = ap.parse_args()
    app = QApplication.instance() or QApplication([])
    drive = testing.small_drive(frames=args.frames, points=args.points)
    with tempfile.TemporaryDirectory() as tmp:
        project = Project.create(Path(tmp) / "project", drive)
        session = Session(project)
        window = MainWindow(session)
        window.resize(1600, 1000)
        window.show()
        testing.wait_for_frame(window)
        print(f"{args.points:,} points per sweep, {args.frames} frames; 3D view "
              f"{'with' if window.view3d is not None else 'WITHOUT'} OpenGL; platform {app.platformName()}")
        keys, stalls, shown = [], [], []
        for frame in range(1, args.frames - 1):
            session.set_sweeps(0)
            window.bev.repaint()                      # the loader draws without stacks again ...
            window.loader.invalidate()                # ... and no frame holds one from before
            session.set_frame(frame)
            testing.wait_for_frame(window, frame)
            for j in (frame - 1, frame + 1):          # the neighbours' sweeps read, as after stepping
                window.loader.stack._sweep(j)
                window.loader.stack._pose(j)
            time.sleep(0.5)                           # prefetching done: the worker is idle
            app.processEvents()
            k, s, w = first_o(app, window)
            keys.append(k)
            stalls.append(s)
            shown.append(w)
        print(f"  key (GUI thread)            {fmt(keys)}")
        print(f"  longest stall (GUI thread)  {fmt(stalls)}")
        print(f"  until shown (wall)          {fmt(shown)}")
        window.close()
        session.close()
        project.close()


if __name__ == "__main__":
    main()
