"""How long the GUI thread stalls on the first steps after selecting a cuboid whose neighbouring
frames were prefetched already.

For each drive given (default: the repository's sample drive and the shared real SUSTech
sequence, when present) it opens the main window on a throw-away project, and for each of a few
tracks: goes to a frame of the track, waits until the frames around it are prefetched, selects
the track's cuboid there, and steps to the next frame twice (the selection follows the track).
Those two frames were loaded before the cuboid was selected, so the side views' crop of its
points there (and what the 3D view keeps of them) is not made with the frame. Prints, in
milliseconds, the longest gap between the ticks of a 10 ms timer on the GUI thread from each step
until a quarter second after every view painted it (what an annotator feels), and the step itself.
Run offscreen (default without a display) or under Xvfb for the 3D view.

``--points 1000000`` adds a simulated LiDAR-only drive of 12 frames of that many points a sweep
(where a crop costs tens of milliseconds). The GUI thread's processor time for each step is printed
too (other processes on the cores change it less than the stalls).

Usage: python benchmarks/bench_select_steps.py [--drive PATH ...] [--points N ...] [--tracks 6] [--pause 0.3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
if not os.environ.get("DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"

from PyQt6.QtWidgets import QApplication  # noqa: E402

from bench_app import Stalls, change_frame  # noqa: E402
from fusionlabel.app import testing  # noqa: E402
from fusionlabel.app.main_window import MainWindow  # noqa: E402
from fusionlabel.app.session import Session  # noqa: E402
from fusionlabel.store.project import Project  # noqa: E402


def spin(app, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)


def starts(doc, n_frames: int, tracks: int) -> list[tuple[int, str]]:
    """(frame, cuboid uid) to select for up to ``tracks`` tracks: a frame of the track whose next two
    frames hold the track too, a frame of its own for each."""
    found = []
    for track in sorted(doc.track_ids(), key=lambda t: -len(doc.track_frames(t))):
        held = set(doc.track_frames(track))
        frame = next((f for f in sorted(held) if f + 1 in held and f + 2 in held and f + 2 < n_frames
                      and all(f != g for g, _ in found)), None)
        if frame is not None:
            found.append((frame, doc.find_track(track, frame).uid))
        if len(found) == tracks:
            break
    return found


class CropClock:
    """Processor time the GUI thread spends cropping points around boxes (the crop, its side-view
    colours, each side view's rows, the thinned 3D view's sample keeping them): what the loader
    should have done ahead of the step."""

    def __init__(self):
        from fusionlabel.app import frame_data
        from fusionlabel.app.point_index import PointGrid

        self.seconds = 0.0
        self._patched = [(frame_data, "side_rows"), (frame_data, "crop_colors"), (frame_data, "drawn_rows"),
                         (PointGrid, "near_box")]
        self._saved = [getattr(owner, name) for owner, name in self._patched]
        for (owner, name), real in zip(self._patched, self._saved):
            setattr(owner, name, self._timed(real))

    def _timed(self, real):
        def timed(*args, **kwargs):
            if threading.current_thread() is not threading.main_thread():
                return real(*args, **kwargs)
            started = time.thread_time()
            try:
                return real(*args, **kwargs)
            finally:
                self.seconds += time.thread_time() - started
        return timed

    def close(self) -> None:
        for (owner, name), real in zip(self._patched, self._saved):
            setattr(owner, name, real)


def bench_drive(app, drive: Path, tracks: int, pause: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = Project.create(Path(tmp) / "project", drive, import_labels=True, progress=False)
        session = Session(project)
        window = MainWindow(session)
        window.resize(1600, 1000)
        window.show()
        testing.wait_for_frame(window)
        stalls, first, second, steps, cpu, cropping = Stalls(), [], [], [], [], []
        clock = CropClock()
        chosen = starts(session.document, session.n_frames, tracks)
        if not chosen:
            print(f"{drive}: no track holds three frames in a row")
            return
        for frame, uid in chosen:
            session.select(())
            change_frame(app, window, frame)
            window_frames = [frame + d for d in window.loader.prefetch if 0 <= frame + d < session.n_frames]
            testing.wait_until_cached(window, [frame, *window_frames])
            spin(app, 0.3)
            session.select((uid,))
            spin(app, pause)      # the annotator looks at the cuboid before stepping on
            for into in (first, second):
                took, clock.seconds = [], 0.0
                into.append(stalls.during(app, lambda: took.append(change_frame(app, window, session.frame + 1))))
                steps.append(took[0])
                cpu.append(stalls.cpu)
                cropping.append(clock.seconds)
        clock.close()
        n = len(window.session.drive)
        print(f"{drive} ({n} frames, {len(session.drive.points(0))} points in frame 0), {len(chosen)} tracks, "
              f"{pause:.2f} s between selecting and stepping:")
        for name, values in (("first step", first), ("second step", second)):
            ms = [v * 1e3 for v in values]
            print(f"  longest GUI-thread stall on the {name}: max {max(ms):6.1f} ms, median {statistics.median(ms):6.1f} ms")
        print(f"  steps (key to every view painted): median {statistics.median(steps) * 1e3:.1f} ms, "
              f"max {max(steps) * 1e3:.1f} ms; the GUI thread's processor time from each step until a "
              f"quarter second after it: median {statistics.median(cpu) * 1e3:.1f} ms, max {max(cpu) * 1e3:.1f} ms, "
              f"of which cropping around the selected cuboid {statistics.median(cropping) * 1e3:.1f} ms, "
              f"max {max(cropping) * 1e3:.1f} ms")
        window.close()
        session.close()
        project.close()


def main() -> int:
    realdata = Path(os.environ.get("FUSIONLABEL_REALDATA", REPO.parent / "shared" / "realdata"))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--drive", type=Path, nargs="*", default=[REPO / "sample_data", realdata / "sustech_sequence"])
    ap.add_argument("--tracks", type=int, default=6, help="tracks to select, one after the other")
    ap.add_argument("--points", type=int, nargs="*", default=[], metavar="N",
                    help="also simulated LiDAR-only drives of 12 frames of N points a sweep")
    ap.add_argument("--pause", type=float, default=0.3, help="seconds between selecting and the first step")
    args = ap.parse_args()
    app = QApplication.instance() or QApplication(sys.argv)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
          f"{'offscreen, no 3D view' if os.environ.get('QT_QPA_PLATFORM') == 'offscreen' else 'with the 3D view'}")
    for drive in args.drive:
        if not drive.exists():
            print(f"{drive}: not there, skipped")
            continue
        bench_drive(app, drive, args.tracks, args.pause)
    for points in args.points:
        from fusionlabel.sim.writer import simulate_drive

        with tempfile.TemporaryDirectory() as tmp:
            simulate_drive(Path(tmp) / "drive", frames=12, seed=0, points=points, cameras=False, progress=False,
                           workers=min(2, os.cpu_count() or 1))
            bench_drive(app, Path(tmp) / "drive", args.tracks, args.pause)
    return 0


if __name__ == "__main__":
    sys.exit(main())
