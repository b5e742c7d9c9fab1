"""Helpers for the app's tests, benchmarks and screenshots: a small simulated drive, a window
on a throw-away project, waiting for a frame. Qt is imported lazily."""

from __future__ import annotations

import atexit
import shutil
import tempfile
import time
from pathlib import Path

_CACHE: dict[tuple, Path] = {}


def small_drive(frames: int = 3, seed: int = 3, points: int = 20_000, camera_scale: float = 0.4) -> Path:
    """A simulated native drive in a temporary folder (made once per process, removed at exit)."""
    key = (frames, seed, points, camera_scale)
    if key not in _CACHE:
        from ..sim.writer import simulate_drive

        root = Path(tempfile.mkdtemp(prefix="fusionlabel-app-drive-"))
        atexit.register(shutil.rmtree, root, True)
        simulate_drive(root / "drive", frames=frames, seed=seed, points=points, camera_scale=camera_scale,
                       progress=False)
        _CACHE[key] = root / "drive"
    return _CACHE[key]


def copy_drive(src: Path, dst: Path) -> Path:
    """A private copy of a drive (to corrupt it) without any project folder inside."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".fusionlabel-project"))
    return dst


def wait_for_frame(window, index: int | None = None, timeout: float = 30.0) -> None:
    """Process events until the window displays ``index`` (default: the session's frame)."""
    from PyQt6.QtWidgets import QApplication

    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        want = window.session.frame if index is None else index
        if window.displayed is not None and window.displayed.index == want:
            QApplication.processEvents()
            return
        QApplication.processEvents()
        time.sleep(0.002)
    raise TimeoutError(f"frame {index} was not displayed within {timeout} s")


def wait_for_stack(window, timeout: float = 30.0) -> None:
    """Process events until the frame shown has the sweeps O stacks (the loader stacks them) and
    the window has had them drawn."""
    from PyQt6.QtWidgets import QApplication

    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        data = window.displayed
        if data is not None and data.has_stacked(window.session.sweeps):
            for _ in range(3):     # the loader's signal (sent right after), then the repaints it asks for
                time.sleep(0.01)
                QApplication.processEvents()
            return
        QApplication.processEvents()
        time.sleep(0.002)
    raise TimeoutError(f"the sweeps were not stacked within {timeout} s")


def wait_until_cached(window, indexes, timeout: float = 30.0) -> None:
    """Process events until the loader holds every frame in ``indexes`` (prefetch finished)."""
    from PyQt6.QtWidgets import QApplication

    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if all(window.loader.get(i) is not None for i in indexes):
            return
        QApplication.processEvents()
        time.sleep(0.002)
    raise TimeoutError(f"frames {list(indexes)} were not prefetched within {timeout} s")


def show_window(window, timeout_ms: int = 30_000):
    """Show a main window for a test: exposed, active (window shortcuts need an active window),
    its frame displayed (and drawn in the 3D view, when it has one) and the bird's-eye view
    focused. Returns the window. The timeouts are generous: a loaded machine takes seconds."""
    from PyQt6.QtTest import QTest

    window.show()
    if not QTest.qWaitForWindowExposed(window, timeout_ms):
        raise TimeoutError("the window was not exposed")
    activate(window, timeout_ms / 1000.0)
    wait_for_frame(window, timeout=timeout_ms / 1000.0)
    if getattr(window, "view3d", None) is not None:
        wait_for_3d_paint(window, timeout_ms / 1000.0)
    window.bev.setFocus()
    return window


def activate(window, timeout: float = 30.0) -> None:
    """Make ``window`` the active window and wait until it is (window shortcuts need it). The
    request is made again every half second: without a window manager, one made before the X
    server has mapped the window is dropped, and the window would never become active."""
    from PyQt6.QtWidgets import QApplication

    deadline = time.perf_counter() + timeout
    asked = 0.0
    while not window.isActiveWindow():
        now = time.perf_counter()
        if now > deadline:
            raise TimeoutError(f"the window did not become active within {timeout} s "
                               "(window shortcuts would not work)")
        if now - asked > 0.5:
            window.activateWindow()
            asked = now
        QApplication.processEvents()
        time.sleep(0.005)
    QApplication.processEvents()


SETTLE_S = 0.25   # seconds the 3D view must stay drawn at its size before a test reads it


def wait_for_3d_paint(window, timeout: float = 30.0) -> None:
    """Process events until the 3D view has drawn the frame displayed at the size it has now
    (its start view is placed at that paint, so screen positions read before it are stale)."""
    from PyQt6.QtWidgets import QApplication

    view = window.view3d
    deadline = time.perf_counter() + timeout
    held_since = None
    while time.perf_counter() < deadline:
        shown = window.displayed
        drawn = (view.isExposed() and shown is not None and view.painted_frame == shown.index
                 and view.painted_size == (view.width(), view.height()))
        # settled: drawn, and still so a moment later (a dock that widens once its list is filled
        # resizes the view after its first paint)
        held_since = (held_since or time.perf_counter()) if drawn else None
        if held_since is not None and time.perf_counter() - held_since >= SETTLE_S:
            return
        QApplication.processEvents()
        time.sleep(0.005)
    raise TimeoutError(f"the 3D view did not draw the frame within {timeout} s")


def answer_question(button: str | None, seen: list) -> None:
    """Answer the next modal message box once it is up (call before the code that shows it):
    click the button with text ``button``, or press Esc when it is None. Appends the box's
    (text, informative text) to ``seen``."""
    from PyQt6.QtCore import Qt, QTimer
    from PyQt6.QtTest import QTest
    from PyQt6.QtWidgets import QApplication

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if box is None:
            QTimer.singleShot(10, answer)
            return
        seen.append((box.text(), box.informativeText()))
        if button is None:
            QTest.keyClick(box, Qt.Key.Key_Escape)
        else:
            next(b for b in box.buttons() if b.text() == button).click()
    QTimer.singleShot(0, answer)


def gl_window(folder: str | Path, import_labels: bool = False, size: tuple[int, int] = (1400, 900),
              drive: Path | None = None):
    """For tests on a real display: a project in ``folder`` on ``drive`` (:func:`small_drive`) and a main
    window with the OpenGL 3D view, shown, active and drawn. Needs a QApplication. Returns
    (project, window), or None when the display has no OpenGL."""
    from ..store.project import Project
    from .main_window import MainWindow
    from .qt_util import opengl_available
    from .session import Session

    if not opengl_available():
        return None
    project = Project.create(Path(folder) / "project", drive or small_drive(), import_labels=import_labels)
    window = MainWindow(Session(project), use_gl=True)
    window.resize(*size)
    show_window(window)
    return project, window


def gl_window_or_skip(folder: str | Path, **options):
    """:func:`gl_window` for a test script run on a display (``conftest.run_on_display``): without
    OpenGL it prints the ``skip`` line that makes the test skip, and exits."""
    opened = gl_window(folder, **options)
    if opened is None:
        import json
        import sys

        print(json.dumps({"skip": "no OpenGL on this display"}))
        sys.exit(0)
    return opened


def delete_windows_at_exit() -> None:
    """Have the windows a script leaves open deleted when the interpreter exits, before PyQt's own
    clean-up (:func:`delete_windows`). ``conftest.run_on_display`` does this for every script."""
    import PyQt6.QtWidgets  # noqa: F401 - PyQt registers its clean-up on import; atexit runs ours first

    atexit.register(delete_windows)


def delete_windows() -> None:
    """Delete every window still open (the main window with its 3D view, a dialog left up).
    Left to PyQt at exit, a window is deleted while PyQt walks its table of Python wrappers, and
    Python run from that deletion (a slot, an event handler) that wraps another object can move
    the table under the walk: the interpreter crashes at exit (-11) after a script that passed."""
    from PyQt6 import sip
    from PyQt6.QtCore import QCoreApplication, QEvent
    from PyQt6.QtWidgets import QApplication

    if QApplication.instance() is None:
        return
    roots = [w for w in QApplication.topLevelWidgets() if w.parent() is None]   # dialogs and docks go with theirs
    for window in roots:
        if not sip.isdeleted(window):
            sip.delete(window)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)


def widget_pixels(widget):
    """What ``widget`` shows now, as an (H, W, 3) uint8 RGB array (a copy)."""
    return image_pixels(widget.grab().toImage())


def image_pixels(image):
    """A QImage as an (H, W, 3) uint8 RGB array (a copy), e.g. the 3D view's
    ``View3DPanel.grab_image()``, which a widget grab misses."""
    import numpy as np
    from PyQt6.QtGui import QImage

    image = image.convertToFormat(QImage.Format.Format_RGB888)
    raw = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), np.uint8)
    return raw.reshape(image.height(), image.bytesPerLine())[:, :3 * image.width()].reshape(
        image.height(), image.width(), 3).copy()


def wait_for_prelabels(window, timeout: float = 60.0) -> None:
    """Process events until the window's pre-label run (Ctrl+P, Ctrl+Shift+P) is stored or dropped."""
    from PyQt6.QtWidgets import QApplication

    end = time.monotonic() + timeout
    while window.prelabel_runner.busy:
        if time.monotonic() > end:
            raise TimeoutError(f"the pre-label run did not end within {timeout} s")
        QApplication.processEvents()
        time.sleep(0.002)
    QApplication.processEvents()
