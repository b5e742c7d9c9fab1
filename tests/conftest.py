"""Shared fixtures: where the real data lives (skip cleanly when it is absent) and small simulated
drives for the exporter and importer tests.

``simulated_drive`` and ``quiet`` are plain helpers for modules that build their own module-scoped
fixtures (``from conftest import quiet``)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# The app keeps its window layout in the user's settings: the tests (and the processes they start)
# keep theirs in a folder of their own, and never read or change the user's.
# The folder goes when the test run ends (the processes the tests start have ended by then).
_SETTINGS_DIR = tempfile.mkdtemp(prefix="fusionlabel-settings-")
os.environ["FUSIONLABEL_SETTINGS_DIR"] = _SETTINGS_DIR
atexit.register(shutil.rmtree, _SETTINGS_DIR, ignore_errors=True)
# The label check keeps each sweep's ground in the user's cache folder: the tests keep it in theirs.
_CACHE_DIR = tempfile.mkdtemp(prefix="fusionlabel-cache-")
os.environ["FUSIONLABEL_CACHE_DIR"] = _CACHE_DIR
atexit.register(shutil.rmtree, _CACHE_DIR, ignore_errors=True)


def realdata_root() -> Path:
    return Path(os.environ.get("FUSIONLABEL_REALDATA", REPO.parent / "shared" / "realdata"))


@pytest.fixture(scope="session")
def realdata() -> Path:
    root = realdata_root()
    if not root.is_dir():
        pytest.skip(f"real data not found at {root} (set FUSIONLABEL_REALDATA)")
    return root


@pytest.fixture(scope="session")
def kitti_object(realdata) -> Path:
    path = realdata / "kitti_object" / "training"
    if not (path / "velodyne").is_dir():
        pytest.skip(f"KITTI object sample not found at {path}")
    return path


@pytest.fixture(scope="session")
def nusc_root(realdata) -> Path:
    """The nuScenes v1.0-mini sample (one keyframe of scene-0061)."""
    root = realdata / "nuscenes_mini"
    if not (root / "v1.0-mini" / "scene.json").is_file():
        pytest.skip(f"nuScenes sample not found at {root}")
    return root


# ------------------------------------------------------------------------------ simulated drives
def simulated_drive(tmp_path_factory, name: str = "sim3", frames: int = 3, masks: bool = False, seed: int = 1):
    """A small simulated native drive, generated once per test session and opened afresh per call."""
    from fusionlabel.io.native import open_native_drive
    from fusionlabel.sim.writer import simulate_drive

    # Not ``name`` itself: tmp_path_factory.mktemp("sim") numbers its folders sim0, sim1, ..., which a
    # name like "sim5" would meet (a folder another test made, and simulate refuses to write there).
    root = tmp_path_factory.getbasetemp() / f"simulated-{name}"
    if not (root / "drive.yaml").exists():
        simulate_drive(root, frames=frames, seed=seed, points=20000, masks=masks, progress=False)
    return open_native_drive(root)


def lidar_only_drive(tmp_path_factory, frames: int, seed: int, points: int):
    """The folder of a new simulated drive without camera images (its rig still names the
    simulator's cameras), for a module's own fixture."""
    from fusionlabel.sim.writer import simulate_drive

    root = tmp_path_factory.mktemp("lidar") / "drive"
    simulate_drive(root, frames=frames, seed=seed, points=points, cameras=False, progress=False)
    return root


@pytest.fixture
def small_sim_drive(tmp_path_factory):
    """Three simulated frames (20k points, the simulator's cameras)."""
    return simulated_drive(tmp_path_factory)


def native_copy(src, root, rig=None, empty_sweep: int | None = None):
    """A native copy of drive ``src`` in ``root``, opened: with ``rig`` in place of its own when
    given, and frame ``empty_sweep``'s sweep without points (labels and images kept)."""
    import numpy as np

    from fusionlabel.io.native import NativeDriveWriter, open_native_drive

    with NativeDriveWriter(root, rig or src.rig(0), "copy") as writer:
        for i, f in enumerate(src.frames):
            sweep = np.zeros((0, 4), np.float32) if i == empty_sweep else src.points(i)
            writer.add_frame(f.frame_id, f.timestamp_us, f.T_world_vehicle, sweep,
                             {c: src.image(i, c) for c in f.image_paths}, src.labels(i))
    return open_native_drive(root)


def levelled_R0(T_vehicle_cam):
    """Reference ``R0_rect`` for a KITTI export, built without the exporter's code: the rotation
    from a camera to a camera at the same place mounted level (x right, y down = the vehicle's −z)
    and looking along the azimuth of the real camera's viewing direction, (3, 3)."""
    import numpy as np

    R_vehicle_cam = np.asarray(T_vehicle_cam, dtype=float)[:3, :3]
    azimuth = np.arctan2(R_vehicle_cam[1, 2], R_vehicle_cam[0, 2])
    c, s = np.cos(azimuth), np.sin(azimuth)
    level_forward = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])   # camera axes, azimuth 0
    R_vehicle_rect = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]) @ level_forward
    return R_vehicle_rect.T @ R_vehicle_cam


def quiet(**options):
    """ExportOptions without the progress bar."""
    from fusionlabel.export import ExportOptions

    return ExportOptions(progress=False, **options)


def export_to_temp(drive, fmt: str, tmp_path_factory, **options):
    """Export ``drive`` as ``fmt`` into a fresh temporary folder: (drive, out folder, summary)."""
    from fusionlabel.export import export_drive

    out = tmp_path_factory.mktemp(fmt) / "out"
    return drive, out, export_drive(drive, fmt, out, options=quiet(**options))


@pytest.fixture(scope="session")
def export_masked_sim(tmp_path_factory):
    """``export_masked_sim(fmt, **options)`` exports two simulated frames with per-object masks
    rendered in every camera: (drive, out folder, summary)."""
    def export(fmt: str, **options):
        drive = simulated_drive(tmp_path_factory, name="sim2m", frames=2, masks=True)
        return export_to_temp(drive, fmt, tmp_path_factory, **options)
    return export


# ------------------------------------------------------------------------------ the app
def app_project(tmp_path, import_labels: bool = False, frames: int = 3):
    """Generator for a ``project`` fixture: a project on the app tests' small simulated drive
    (``frames`` long), closed afterwards (unless the test closed it)."""
    from fusionlabel.app import testing
    from fusionlabel.store.project import Project

    p = Project.create(tmp_path / "project", testing.small_drive(frames=frames), import_labels=import_labels)
    yield p
    if not p.store.closed:
        p.close()


APP_TEST_SIZE = (1600, 1000)   # the main window's size in the app tests


def open_app_window(qtbot, project):
    """A main window on ``project`` (2D views only) for a pytest-qt test: shown, active, its frame
    displayed and the bird's-eye view focused."""
    from fusionlabel.app import testing
    from fusionlabel.app.main_window import MainWindow
    from fusionlabel.app.session import Session

    w = MainWindow(Session(project), use_gl=False)
    w.window_layout.apply_default(APP_TEST_SIZE)   # not the test screen's size (offscreen: 800 × 800)
    qtbot.addWidget(w)
    return testing.show_window(w)


def nearest_seen_box(cam, annotations):
    """(annotation, centre pixel) of the nearest cuboid whose centre a camera frame sees, from the
    lens model (not the wireframe code); fails the test when there is none."""
    import numpy as np

    from fusionlabel.geometry.transforms import transform_points

    best = None
    for ann in annotations:
        c = transform_points(cam.T_cam_lidar, np.asarray(ann.box.center)[None])
        proj = cam.camera.project(c)
        if proj.in_image[0] and (best is None or c[0, 2] < best[0]):
            best = (c[0, 2], ann, proj.uv[0])
    assert best is not None, f"no labelled cuboid in front of {cam.name}"
    return best[1], best[2]


def press_key(qtbot, window, key, modifier=None) -> None:
    """A key press where the keyboard focus is (the bird's-eye view when no widget has it)."""
    from PyQt6.QtCore import Qt
    from PyQt6.QtWidgets import QApplication

    qtbot.keyClick(QApplication.focusWidget() or window.bev, key, modifier or Qt.KeyboardModifier.NoModifier)


def native_key(widget, text: str, keycode: int, modifiers=None, native_modifiers: int = 0, key=None) -> None:
    """A key press in ``widget`` (given the focus) as X11 / Wayland deliver it: to the native window
    it is in (the main window's, or a floating dock's), with the character typed and the key's XKB
    keycode; ``key`` when the text does not say it (Esc)."""
    from PyQt6.QtCore import QEvent, Qt
    from PyQt6.QtGui import QKeyEvent
    from PyQt6.QtWidgets import QApplication

    widget.setFocus()
    key = key or (Qt.Key(ord(text.upper())) if text else Qt.Key.Key_unknown)
    modifiers = modifiers or Qt.KeyboardModifier.NoModifier
    for kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        QApplication.sendEvent(widget.window().windowHandle(),
                               QKeyEvent(kind, key, modifiers, keycode, ord(text) if text else 0,
                                         native_modifiers, text))


def lidar_xy(session, uid):
    """The LiDAR xy (2,) of cuboid ``uid``'s centre."""
    import numpy as np

    return np.asarray(session.document.get(uid).box.center[:2], float)


def bev_shows(bev, xy) -> bool:
    """Whether the bird's-eye view shows LiDAR point ``xy``, from the view's centre, scale,
    orientation and size (not from its own drawing code)."""
    import numpy as np

    d = np.asarray(xy, float) - bev.center
    return bool(abs(d @ bev.left) * bev.scale <= bev.width() / 2 and abs(d @ bev.forward) * bev.scale <= bev.height() / 2)


def expected_tab_order(session, bev, uids=None) -> list[str]:
    """The order Tab walks ``uids`` (default: the frame's cuboids) in a list in the frame's own
    order: those the bird's-eye view shows, nearest the LiDAR origin first, then the others."""
    import numpy as np

    uids = [a.uid for a in session.annotations()] if uids is None else list(uids)
    return sorted(uids, key=lambda u: (not bev_shows(bev, lidar_xy(session, u)),
                                       float(np.linalg.norm(lidar_xy(session, u)))))


def app_window(qtbot, project):
    """Generator for a ``window`` fixture: :func:`open_app_window`, closed afterwards."""
    w = open_app_window(qtbot, project)
    yield w
    w.close()


@pytest.fixture
def labelless_window(qtbot, tmp_path):
    """A main window on the app tests' small drive's project with none of its labels (a test adds
    the boxes it needs)."""
    for project in app_project(tmp_path, import_labels=False):
        yield from app_window(qtbot, project)


@pytest.fixture
def project(tmp_path):
    """The app tests' project: the small simulated drive with its labels imported (a module that
    needs another project defines its own ``project``, which ``window`` then opens)."""
    yield from app_project(tmp_path, import_labels=True)


@pytest.fixture
def window(qtbot, project):
    """A main window (2D views) on ``project``: :func:`app_window`."""
    yield from app_window(qtbot, project)


@pytest.fixture
def checks_count_as_short(monkeypatch):
    """Edits re-check the app's open label-check list however long a check takes: on a loaded
    machine the child process's check can pass ``check_runner.AUTO_MAX_S``, after which edits only
    mark the list out of date (the tests of that set AUTO_MAX_S themselves)."""
    from fusionlabel.app import check_runner
    monkeypatch.setattr(check_runner, "AUTO_MAX_S", 1e9)


def run_on_display(script: str, env: dict | None = None) -> dict:
    """Run a Python ``script`` (the app on a real X display, OpenGL) in a subprocess and return the
    JSON it prints last; skips the test without a display or when the script reports ``skip``.
    ``env``: more environment variables for it (``QT_SCALE_FACTOR`` for a high-DPI screen)."""
    import json
    import subprocess
    import sys

    if not os.environ.get("DISPLAY"):
        pytest.skip("no X display (DISPLAY unset): the OpenGL view needs Xvfb or a desktop")
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", **(env or {}))
    # the windows the script leaves are deleted before PyQt's clean-up at exit, which crashed
    # 1 run in 20-30 of the 3D view's scripts after they had passed (testing.delete_windows)
    script = "from fusionlabel.app import testing\ntesting.delete_windows_at_exit()\n" + script
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if "skip" in out:
        pytest.skip(out["skip"])
    return out


HOLD_LOCK = """
import sys, time
from fusionlabel.export.staging import OutputLock
from fusionlabel.store.lock import ProjectLock
lock = (OutputLock if sys.argv[3] == "export" else ProjectLock)(sys.argv[1])
print(lock.acquire(), flush=True)
time.sleep(float(sys.argv[2]))
"""


class held_by_another_process:  # noqa: N801 - used as a context manager
    """``with held_by_another_process(folder):`` the project in ``folder`` is held by a child
    process (its lock taken, as another app would) for the block, or ``seconds`` when given (the
    child then lets it go by itself). A project opened twice in one process says so instead.
    ``name``: another lock file in ``folder`` (an output folder's, ``export.run_files.LOCK_NAME``);
    ``export_env``: the child takes it as an export does, in this environment (``os.environ``'s
    with ``PYTHONPATH`` otherwise)."""

    def __init__(self, folder, seconds: float = 600.0, name: str | None = None, export_env: dict | None = None):
        import subprocess
        import sys

        from fusionlabel.store.project import LOCK_NAME

        lock = Path(folder) / (name or LOCK_NAME)
        kind = "project" if export_env is None else "export"
        self.child = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock), str(seconds), kind],
                                      stdout=subprocess.PIPE, text=True, cwd=REPO,
                                      env=dict(export_env or os.environ, PYTHONPATH=str(REPO)))
        assert self.child.stdout.readline().strip() == "True", "the child could not take the lock"

    def __enter__(self):
        return self.child

    def __exit__(self, *exc) -> None:
        self.child.kill()
        self.child.wait(timeout=30)
        self.child.stdout.close()
