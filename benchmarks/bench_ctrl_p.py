"""How long the app's GUI thread stalls during Ctrl+P (pre-label this frame).

Opens each drive given (default: the shared real SUSTech sequence and KITTI object frames, when
present) in the main window on a throw-away project, starts a 10 ms timer and presses Ctrl+P a few
times, undoing each run. Prints, in milliseconds: when the key returned, when the boxes were stored,
and the longest gap between two timer ticks from the key press until shortly after the boxes were
stored (what the annotator sees as a frozen window). Run offscreen or under xvfb-run.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

if not os.environ.get("DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"


def measure(drive: Path, runs: int) -> None:
    from PyQt6.QtCore import Qt, QTimer
    from PyQt6.QtTest import QTest
    from PyQt6.QtWidgets import QApplication

    from fusionlabel.app import testing
    from fusionlabel.app.main_window import MainWindow
    from fusionlabel.app.session import Session
    from fusionlabel.store.project import Project

    app = QApplication.instance() or QApplication([])

    def spin(seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)

    with tempfile.TemporaryDirectory() as tmp, Project.create(Path(tmp) / "project", drive) as project:
        session = Session(project)
        window = MainWindow(session, use_gl=False)
        testing.show_window(window)
        testing.wait_for_frame(window)
        for run in range(runs):
            ticks: list[float] = []
            timer = QTimer()
            timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
            timer.start(10)
            spin(0.3)
            t0 = time.perf_counter()
            QTest.keyClick(window.bev, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
            returned = time.perf_counter()
            while window.prelabel_runner.busy:
                app.processEvents()
                time.sleep(0.001)
            stored = time.perf_counter()
            spin(0.3)
            timer.stop()
            gaps = np.diff([t for t in ticks if t > t0 - 0.02])
            print(f"{drive.name} run {run}: key returned {1000 * (returned - t0):.0f} ms, stored after "
                  f"{1000 * (stored - t0):.0f} ms, longest stall {1000 * gaps.max():.0f} ms "
                  f"({session.messages[-1].text})")
            session.undo()
        window.close()


def main() -> None:
    root = Path(os.environ.get("FUSIONLABEL_REALDATA", Path(__file__).resolve().parents[2] / "shared" / "realdata"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("drives", nargs="*", type=Path,
                        default=[root / "sustech_sequence", root / "kitti_object" / "training"])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    drives = [d for d in args.drives if d.is_dir()]
    if not drives:   # `./run.sh bench` goes on with the other benchmarks
        print(f"bench_ctrl_p: skipped, no drive found among {', '.join(map(str, args.drives))} "
              "(set FUSIONLABEL_REALDATA)")
        return
    for drive in drives:
        measure(drive, args.runs)


if __name__ == "__main__":
    main()
