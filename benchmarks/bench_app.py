"""Frame-change latency of the annotation app: time from a frame change to every view updated.

For each drive (the repository's sample drive, and a real KITTI object frame when the shared real
data is present) it opens the main window on a throw-away project (never inside the drive) and
prints, in milliseconds:

  * loader:   decode + project one frame on the worker thread (sweep, every image, points splatted
              into every camera), i.e. what a cache miss costs before anything can be drawn;
  * step:     next frame when it was prefetched (the normal case when stepping with D), from the
              key action to every view updated and repainted (BEV, 3 side views, cameras, 3D view,
              object list, timeline);
  * cold:     a jump to a frame that is not cached (the loader has to decode it first);
  * stall:    for those steps and jumps, the longest the GUI thread froze (the longest gap between
              the ticks of a 10 ms timer, from the frame change to a quarter second after it was
              painted): what an annotator feels, where the figures above include waiting for the loader;
              and the GUI thread's processor time for a step (which other load hardly changes);
  * during background pre-labelling (first drive only): steps to the next frame at an annotator's
              pace (150 ms apart) while Ctrl+Shift+P detects every frame with the built-in
              detector, once with the detector in its child process (what the app does) and once
              on a thread of the app (as before), each run stored at its end;
  * end of a pre-label run (first drive only): the time the GUI thread spends when a Ctrl+Shift+P
              run over every frame ends (storing the detections as one command; tracking them
              too where that is not done in the background), on the drive's project with its
              labels imported and on a new project with no cuboids; ``--prelabel-only`` measures
              only this;
  * per view: the time to render each view once (QWidget.grab).

``--long 2000`` simulates a long LiDAR-only drive (that many frames of 20,000 points, 30-50 boxes a
frame, ~380 tracks; kept in the temporary folder and reused by later runs, see :func:`long_drive`), opens its project with the labels imported and times the track edits of a
long-drive user on the GUI thread: ``I`` over a gap of most of the drive in the longest track (its
boxes in between deleted first), a per-track attribute set on that whole track and its undo and redo;
then the label check (``Ctrl+K``'s work, off the GUI thread in the app) over every frame, twice:
first with an empty cache folder, then again, reading each sweep's ground from it (CPU seconds of
this process, and wall).

The 3D view is included when OpenGL is available (run under Xvfb or a desktop; otherwise the
offscreen platform is used and the 3D view is left out, which the output says).

``--points 300000 3000000`` benchmarks simulated drives with that many points per sweep instead
(``fusionlabel simulate``, 6 frames, written to a temporary folder first), the sizes of a 128-beam
sensor and of aggregated sweeps or a dense solid-state LiDAR; ``--prelabel`` adds the steps during
background pre-labelling for them too. ``--prelabel-only`` measures only the end of a pre-label run
on the GUI thread (sample drive). ``--height-cut M`` turns the bird's-eye view's height filter on
(M metres above the ground, as U does) and ``--sweeps K`` stacks K sweeps each side of the frame
(as O does) for every measurement.

Usage: python benchmarks/bench_app.py [--repeats 8] [--drive PATH] [--kitti PATH] [--prelabel-only]
       python benchmarks/bench_app.py --points 300000 3000000 [--prelabel] [--repeats 8]
       [--height-cut 2] [--sweeps 3]
       python benchmarks/bench_app.py --long 2000
"""

from __future__ import annotations

import argparse
import contextlib
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

from PyQt6.QtCore import QCoreApplication, Qt, QTimer  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

from fusionlabel.app import testing  # noqa: E402
from fusionlabel.app.main_window import MainWindow  # noqa: E402
from fusionlabel.app.session import Session  # noqa: E402
from fusionlabel.store.project import Project  # noqa: E402


def change_frame(app, window, target: int, timeout: float = 30.0) -> float:
    """Seconds from session.set_frame to every visible view having painted ``target``."""
    t0 = time.perf_counter()
    window.session.set_frame(target)
    views = [v for v in window.frame_views() if v.isVisible()]
    while not all(v.painted_frame == target for v in views):
        app.processEvents()
        if time.perf_counter() - t0 > timeout:
            stale = [type(v).__name__ for v in views if v.painted_frame != target]
            raise TimeoutError(f"views not updated to frame {target}: {stale}")
        time.sleep(0.0002)
    return time.perf_counter() - t0


class Stalls:
    """A 10 ms timer on the GUI thread: the longest gap between its ticks while something runs is
    the longest the interface froze (a frame change's drawing, or work it did not leave to the loader)."""

    def __init__(self, interval_ms: int = 10):
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.last = self.worst = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst, self.last = max(self.worst, now - self.last), now

    def during(self, app, fn, settle: float = 0.25) -> float:
        """Seconds of the longest stall from calling ``fn`` until ``settle`` seconds after it returns;
        ``cpu`` then holds the processor seconds the GUI thread spent meanwhile (which other
        processes on the cores hardly change)."""
        self.worst, self.last = 0.0, time.perf_counter()
        cpu = time.thread_time()
        self.timer.start()
        fn()
        end = time.perf_counter() + settle
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)
        self.timer.stop()
        self.cpu = time.thread_time() - cpu
        return self.worst


def fmt(values: list[float]) -> str:
    ms = [v * 1e3 for v in values]
    return f"median {statistics.median(ms):7.1f} ms  (min {min(ms):6.1f}, max {max(ms):6.1f}, n={len(ms)})"


def steps_during_prelabel(app, window, on_thread: bool, pace: float = 0.15) -> tuple[list[float], float]:
    """Step to the next frame (every visible view painted) while a pre-label run of every frame
    goes on; returns (step seconds, seconds the run took). The run is undone afterwards."""
    import copy

    session, runner = window.session, window.prelabel_runner
    detector = window.actions_.detector()
    if on_thread:  # without its recipe the runner keeps the detector on a thread of this process
        detector = copy.copy(detector)
        detector.recipe = None
    window.actions_.detector = lambda: detector
    try:
        t0 = time.perf_counter()
        window.actions_.prelabel_all()
        steps = []
        while runner.busy:
            steps.append(change_frame(app, window, (session.frame + 1) % len(session.drive)))
            end = time.perf_counter() + pace
            while time.perf_counter() < end:
                app.processEvents()
                time.sleep(0.002)
        took = time.perf_counter() - t0
    finally:
        del window.actions_.detector
    if session.document.undo_text().startswith("Pre-label"):
        session.undo()
    return steps, took


def prelabel_end_seconds(app, window, runs: int = 3) -> list[float]:
    """Seconds the GUI thread spends storing (and, where not done in the background, tracking) a
    Ctrl+Shift+P run of every frame when it ends, once per run; each run is undone afterwards."""
    actions, runner, session = window.actions_, window.prelabel_runner, window.session
    spent = []

    def timed(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return type(actions).store_prelabels(actions, *args, **kwargs)
        finally:
            spent.append(time.perf_counter() - t0)

    actions.store_prelabels = timed
    try:
        for _ in range(runs):
            actions.prelabel_all()
            while runner.busy:
                app.processEvents()
                time.sleep(0.005)
            if session.document.undo_text().startswith("Pre-label"):
                session.undo()
    finally:
        del actions.store_prelabels
    return spent


def bench_prelabel_end(app, drive: Path, repeats: int) -> None:
    """The end of a Ctrl+Shift+P run on the GUI thread, on a project with the drive's labels and on
    one without cuboids."""
    n = None
    for import_labels in (True, False):
        with tempfile.TemporaryDirectory() as tmp:
            project = Project.create(Path(tmp) / "project", drive, import_labels=import_labels)
            session = Session(project)
            window = MainWindow(session)
            window.show()
            testing.wait_for_frame(window)
            n = len(session.drive)
            cuboids = len(session.document)
            spent = prelabel_end_seconds(app, window, max(2, min(repeats, 3)))
            print(f"  end of a pre-label run of {n} frames on the GUI thread, project with {cuboids} cuboids: "
                  f"{fmt(spent)}")
            window.close()
            session.close()
            project.close()


def bench_drive(app, drive: Path, label: str, repeats: int, frames: list[int] | None = None,
                background: bool = False, height_cut: float | None = None, sweeps: int = 0) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = Project.create(Path(tmp) / "project", drive, import_labels=True)
        session = Session(project)
        session.set_height_cut(height_cut)
        session.set_sweeps(sweeps)
        window = MainWindow(session)
        window.resize(1600, 1000)
        window.show()
        testing.wait_for_frame(window)
        n = len(session.drive)
        frames = frames or list(range(n))
        # A selected cuboid (the one with the most points) so that the side views draw too; the
        # selection follows its track from frame to frame.
        anns = session.annotations()
        if anns:
            session.select((max(anns, key=lambda a: window.displayed.count_in_box(a.box)).uid,))
            window.loader.invalidate()  # every frame loaded from now on with the selection, as when stepping
        pts = len(window.displayed.points)
        cams = len(window.displayed.cameras)
        gl = "with" if window.view3d is not None else "WITHOUT (no OpenGL here)"
        print(f"\n{label}: {n} frames, {pts:,} points, {cams} cameras, {len(session.annotations())} cuboids "
              f"in frame 0; 3D view {gl}; platform {app.platformName()}")
        if height_cut is not None or sweeps:
            print(f"  height filter: {height_cut if height_cut is not None else 'off'}; sweeps stacked each side: {sweeps}")
        if window.view3d is not None and window.view3d.points_caption:
            print(f"  3D view thinned: {window.view3d.points_caption}")
        # Loader cost: decode + project on the worker thread.
        loads = []
        for i in frames[: max(repeats, 2)]:
            window.loader.request(i)
            testing.wait_until_cached(window, [i])
            loads.append(window.loader.get(i).load_seconds)
        print(f"  loader (worker thread)   {fmt(loads)}")
        # Stepping to a prefetched neighbour.
        window.show_frame(session.frame)
        steps, stalls, step_stalls, cold_stalls, step_cpu = [], Stalls(), [], [], []
        order = frames if len(frames) > 1 else frames * 2
        for k in range(repeats):
            cur = order[k % len(order)]
            nxt = order[(k + 1) % len(order)]
            if session.frame != cur:
                change_frame(app, window, cur)
            testing.wait_until_cached(window, [nxt])
            step_stalls.append(stalls.during(app, lambda: steps.append(change_frame(app, window, nxt))))
            step_cpu.append(stalls.cpu)
        print(f"  step, prefetched         {fmt(steps)}")
        # Cold: empty the cache, then jump.
        colds = []
        for k in range(min(repeats, len(frames))):
            target = frames[(k * 7 + 3) % len(frames)]
            if target == session.frame:
                target = frames[(frames.index(target) + 1) % len(frames)]
            if target == session.frame:
                break
            time.sleep(0.5)  # let prefetches finish so the worker is idle
            window.loader.invalidate()
            cold_stalls.append(stalls.during(app, lambda: colds.append(change_frame(app, window, target))))
        if colds:
            print(f"  jump, not cached (cold)  {fmt(colds)}")
        print(f"  longest GUI-thread stall (10 ms timer), step {fmt(step_stalls)}")
        print(f"  GUI-thread CPU time, step {fmt(step_cpu)}")
        if cold_stalls:
            print(f"  longest GUI-thread stall, jump (cold)  {fmt(cold_stalls)}")
        if background:
            for on_thread, how in ((False, "detector in a child process"), (True, "detector on a thread (before)")):
                steps, took = steps_during_prelabel(app, window, on_thread)
                print(f"  step during pre-labelling, {how}: {fmt(steps)}; run {took:.1f} s")
        # Per-view repaint cost.
        parts = []
        for view in window.frame_views():
            if not view.isVisible():
                continue
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                if hasattr(view, "grabFramebuffer"):  # the 3D view (a native OpenGL window)
                    window.view3d_panel.grab_image()
                else:
                    view.grab()  # renders the widget into a pixmap, synchronously
                times.append(time.perf_counter() - t0)
            name = type(view).__name__ + (f"[{view.name}]" if hasattr(view, "name") else
                                          f"[{view.kind}]" if hasattr(view, "kind") else "")
            parts.append(f"{name} {statistics.median(times) * 1e3:.1f}")
        print("  repaint per view (ms):   " + ", ".join(parts))
        window.close()
        session.close()
        project.close()


def bench_simulated(app, points: int, repeats: int, background: bool, frames: int = 6, **view) -> None:
    """Simulate a drive with about ``points`` points per sweep in a temporary folder and bench it."""
    from fusionlabel.sim.writer import simulate_drive

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        simulate_drive(Path(tmp) / "drive", frames=frames, seed=0, points=points, progress=False,
                       workers=min(2, os.cpu_count() or 1))
        print(f"\n(simulated {frames} frames of {points:,} points in {time.perf_counter() - t0:.0f} s)")
        bench_drive(app, Path(tmp) / "drive", f"simulated drive, {points:,} points per sweep", repeats,
                    background=background, **view)


def gui_seconds(app, fn) -> float:
    """Seconds from calling ``fn`` (a key's action) until the events it posted are processed."""
    t0 = time.perf_counter()
    fn()
    app.processEvents()
    return time.perf_counter() - t0


def _spin(stop) -> None:
    while not stop.is_set():
        pass


@contextlib.contextmanager
def set_env(name: str, value: str):
    """The environment variable ``name`` at ``value`` for the block, then as it was."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


@contextlib.contextmanager
def busy_cores():
    """Every core but one kept busy by a child process (as a background pre-label run does)."""
    import multiprocessing as mp

    stop = mp.Event()
    workers = [mp.Process(target=_spin, args=(stop,), daemon=True) for _ in range(max(1, (os.cpu_count() or 2) - 1))]
    for w in workers:
        w.start()
    time.sleep(0.5)
    try:
        yield
    finally:
        stop.set()
        for w in workers:
            w.join()


def long_drive(frames: int, simulate_drive) -> Path:
    """The simulated long drive of ``frames`` frames, kept in the temporary folder between runs under a
    name holding its parameters and a hash of the simulator's code (a changed simulator simulates
    anew; delete the folder to do so by hand)."""
    import hashlib

    code = hashlib.sha1(b"".join(p.read_bytes() for p in sorted((REPO / "fusionlabel" / "sim").glob("*.py"))))
    folder = Path(tempfile.gettempdir()) / f"fusionlabel-bench-long-{frames}f-seed3-20000p-{code.hexdigest()[:12]}"
    if (folder / "drive.yaml").is_file():       # the simulator moves a drive in only when complete
        print(f"\n(simulated drive of {frames} LiDAR-only frames reused from {folder})")
        return folder
    t0 = time.perf_counter()
    simulate_drive(folder, frames=frames, seed=3, points=20_000, cameras=False, progress=False,
                   workers=min(2, os.cpu_count() or 1))
    print(f"\n(simulated {frames} LiDAR-only frames in {time.perf_counter() - t0:.0f} s, kept in {folder})")
    return folder


def bench_long(app, frames: int) -> None:
    """Track edits and the label check on a long simulated LiDAR-only drive (see the docstring)."""
    from fusionlabel.model import edit_actions
    from fusionlabel.model.commands import DeleteCuboids
    from fusionlabel.app.label_findings import labels_to_check, run_checks
    from fusionlabel.sim.writer import simulate_drive

    drive = long_drive(frames, simulate_drive)
    with tempfile.TemporaryDirectory() as tmp:
        project = Project.create(Path(tmp) / "project", drive, import_labels=True)
        session = Session(project)
        window = MainWindow(session)
        window.resize(1600, 1000)
        window.show()
        testing.wait_for_frame(window)
        doc = session.document
        track = max(doc.track_ids(), key=lambda t: len(doc.track_frames(t)))
        held = doc.track_frames(track)
        print(f"long drive: {frames} frames, {len(doc)} cuboids, {len(doc.track_ids())} tracks; "
              f"longest track {track}: {len(held)} boxes in frames {held[0]}-{held[-1]}")
        first = doc.find_track(track, held[0])
        session.set_frame(held[0])
        testing.wait_for_frame(window)
        session.select((first.uid,))
        times = [gui_seconds(app, lambda: session.apply(edit_actions.set_attribute(doc, session.selection,
                                                                                  "emergency", True))),
                 gui_seconds(app, session.undo), gui_seconds(app, session.redo)]
        assert doc.get(first.uid).attributes.get("emergency") is True
        print(f"  per-track attribute on the whole track ({len(held)} boxes), its undo, its redo: "
              + ", ".join(f"{t * 1e3:.0f} ms" for t in times))
        middle = tuple(doc.find_track(track, f).uid for f in held[1:-1])
        deleted = gui_seconds(app, lambda: session.apply(DeleteCuboids(middle)))
        print(f"  deleting its {len(middle)} boxes between the ends (one command): {deleted * 1e3:.0f} ms")
        quiet = []
        for _ in range(2):           # the first also imports and builds what later ones reuse
            quiet.append(gui_seconds(app, window.actions_.interpolate_track))
            session.undo()
        with busy_cores():
            busy = gui_seconds(app, window.actions_.interpolate_track)
        assert len(doc.track_frames(track)) == held[-1] - held[0] + 1
        print(f"  I over a {held[-1] - held[0] - 1}-frame gap: {quiet[-1] * 1e3:.0f} ms on the GUI thread "
              f"(first time {quiet[0] * 1e3:.0f} ms); {busy * 1e3:.0f} ms with the other cores busy (as while "
              "Ctrl+Shift+P or Ctrl+K runs)")
        ctrl_k_in_app(app, window)
        labels, absent = labels_to_check(session)
        # the first check fills a cache folder of its own with each sweep's ground; the second reads it
        with tempfile.TemporaryDirectory() as cache, set_env("FUSIONLABEL_CACHE_DIR", cache):
            for name in ("first", "again"):
                wall, cpu = time.perf_counter(), time.process_time()
                report = run_checks(session.drive, labels, absent)
                print(f"  label check of every frame (Ctrl+K's work), {name}: {time.process_time() - cpu:.1f} s of CPU, "
                      f"{time.perf_counter() - wall:.1f} s, {len(report.findings)} findings")
        window.close()
        session.close()
        project.close()


def resident_mb() -> float:
    """This process's resident memory (VmRSS), MB; 0 where /proc is absent."""
    try:
        line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("VmRSS"))
    except (OSError, StopIteration):
        return 0.0
    return int(line.split()[1]) / 1024


def ctrl_k_in_app(app, window, settle: float = 2.0) -> None:
    """Ctrl+K in the app: how long its handler takes, the longest GUI-thread stall from the key to
    the findings shown (10 ms timer), and the app's resident memory before the key and once the
    findings are shown."""
    import gc

    def quiet() -> None:
        end = time.perf_counter() + settle
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.01)
        gc.collect()

    quiet()
    before, stalls, panel = resident_mb(), Stalls(), window.check_panel
    wall = stalls.last = time.perf_counter()
    stalls.worst = 0.0
    stalls.timer.start()
    window.actions_.check_labels()
    key = time.perf_counter() - wall
    while panel.report is None or panel.refreshing:
        app.processEvents()
        time.sleep(0.001)
    stalls.timer.stop()
    seconds = time.perf_counter() - wall
    quiet()
    after = resident_mb()
    print(f"  Ctrl+K in the app: the key's handler {key * 1e3:.0f} ms, findings after {seconds:.1f} s, longest "
          f"GUI-thread stall meanwhile {stalls.worst * 1e3:.0f} ms; resident memory {before:.0f} MB before, "
          f"{after:.0f} MB after (+{after - before:.0f})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=8)
    ap.add_argument("--drive", type=Path, default=REPO / "sample_data")
    realdata = Path(os.environ.get("FUSIONLABEL_REALDATA", REPO.parent / "shared" / "realdata"))
    ap.add_argument("--kitti", type=Path, default=realdata / "kitti_object" / "training")
    ap.add_argument("--prelabel-only", action="store_true",
                    help="measure only the end of a pre-label run on the GUI thread (sample drive)")
    ap.add_argument("--points", type=int, nargs="+", metavar="N",
                    help="benchmark simulated drives with about N points per sweep instead")
    ap.add_argument("--prelabel", action="store_true", help="with --points: also step during pre-labelling")
    ap.add_argument("--height-cut", type=float, metavar="M", help="bird's-eye view height filter at M m above the ground")
    ap.add_argument("--long", type=int, metavar="FRAMES", help="time track edits and the label check on a long drive")
    ap.add_argument("--sweeps", type=int, default=0, metavar="K", help="stack K sweeps each side of the frame")
    args = ap.parse_args()
    view = {"height_cut": args.height_cut, "sweeps": args.sweeps}
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)  # two windows, one after the other
    app = QApplication.instance() or QApplication([])
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores "
          "(other processes on these cores inflate the figures)")
    if args.long:
        bench_long(app, args.long)
        return 0
    if args.prelabel_only:
        print(f"\nsample drive ({args.drive}), platform {app.platformName()}")
        bench_prelabel_end(app, args.drive, args.repeats)
        return 0
    if args.points:
        for points in args.points:
            bench_simulated(app, points, args.repeats, args.prelabel, **view)
        print(f"\nload average after: {os.getloadavg()[0]:.2f}")
        return 0
    if args.drive.exists():
        bench_drive(app, args.drive, f"sample drive ({args.drive})", args.repeats, background=not args.sweeps
                    and args.height_cut is None, **view)
        bench_prelabel_end(app, args.drive, args.repeats)
    else:
        print(f"sample drive not found at {args.drive}: skipped")
    if (args.kitti / "velodyne").is_dir():
        bench_drive(app, args.kitti, f"KITTI object ({args.kitti}, frames 000001 <-> 000002)", args.repeats,
                    frames=[1, 2], **view)
    else:
        print(f"KITTI sample not found at {args.kitti}: skipped")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
