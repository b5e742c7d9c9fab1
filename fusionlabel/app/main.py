"""Start the desktop app on a drive or a project folder."""

from __future__ import annotations

import os
import signal
import sys
import traceback
from pathlib import Path

from ..deferred_signals import HELD, stop_text
from ..errors import FusionLabelError, InputError
from ..io.kitti_tracking_labels import labels_only_error


def sample_data_path() -> Path:
    """The repository's simulated sample drive (opened when no path is given)."""
    import fusionlabel

    return Path(fusionlabel.__file__).resolve().parents[1] / "sample_data"


def check_display() -> None:
    """Fail with a clear message, instead of a Qt abort, when there is nothing to draw on."""
    if sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM") \
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        raise FusionLabelError("fusionlabel open: no display (DISPLAY is not set); run it on a desktop, or on a "
                               "virtual screen with the full view: xvfb-run -a fusionlabel open ... or ./run.sh app "
                               "open ... (QT_QPA_PLATFORM=offscreen also starts, but leaves the 3D view blank)")


# Qt messages that say nothing to a user: the offscreen platform warns on every window that it
# ignores size hints.
IGNORED_QT_MESSAGES = ("does not support propagateSizeHints",)


def quiet_qt_messages() -> None:
    """Let Qt's own warnings through as before (to the handler installed before, else stderr),
    except :data:`IGNORED_QT_MESSAGES`."""
    from PyQt6.QtCore import qInstallMessageHandler

    previous = None

    def handler(mode, context, message: str) -> None:
        if any(text in message for text in IGNORED_QT_MESSAGES):
            return
        if previous is not None:
            previous(mode, context, message)
        else:
            sys.stderr.write(message + "\n")

    previous = qInstallMessageHandler(handler)


def is_drive_folder(path: Path) -> bool:
    from ..io.drives import drive_layout

    return drive_layout(path) is not None


def open_project(path: str | Path, project_folder: str | Path | None = None, scene: str | None = None):
    """A Project for ``path``: a drive (its project is opened or created) or a project folder.

    ``scene`` picks the scene of a nuScenes dataroot or the sequence of a KITTI tracking folder;
    each scene has its own project, and a project opens on the scene it was made for (``scene``,
    if given, must be that one)."""
    from ..store.project import Project, is_project

    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file or folder (expected a drive or a fusionlabel project)")
    if is_project(path):
        return Project.open(path, scene=scene)
    if not is_drive_folder(path):
        from ..io.drives import LAYOUTS

        if (labels_only := labels_only_error(path)) is not None:
            raise labels_only

        raise InputError(path, f"neither a drive nor a fusionlabel project (project.sqlite): expected {LAYOUTS}")
    return Project.open_or_create_for_drive(path, project_folder, scene=scene)


def launch(path: str | Path | None = None, frame: str | None = None, project_folder: str | Path | None = None,
           scene: str | None = None, settings: dict | None = None, remember_layout: bool = True):
    """Create the QApplication (if needed), open the project and show the main window.

    Returns (app, window); :func:`run_app` then runs the event loop. ``path`` None = sample_data/;
    ``scene`` as in :func:`open_project`. ``settings`` are saved in the project once ``frame`` is
    checked. ``remember_layout``: the window opens as the user left it last (else at the default
    layout) and keeps its layout for the next time (:mod:`.window_layout`). A run that fails here leaves no project behind that it created (:meth:`Project.discard`).
    """
    if path is None:
        path = sample_data_path()
        if not path.exists():
            raise InputError(path, "the sample drive is missing; create it with "
                                   "`fusionlabel simulate --out sample_data` or pass a drive: fusionlabel open PATH")
    elif (labels_only := labels_only_error(path)) is not None:
        raise labels_only      # before asking for a display: the folder cannot be opened anywhere
    check_display()
    try:
        from PyQt6.QtCore import QCoreApplication, Qt
        from PyQt6.QtWidgets import QApplication
    except ImportError as e:
        raise FusionLabelError(f"the app needs PyQt6 and pyqtgraph: pip install 'fusionlabel[app]' ({e})") from None
    from .main_window import MainWindow
    from .session import Session

    app = QApplication.instance()
    quiet_qt_messages()
    if app is None:
        # One GL context family for every 3D view (pyqtgraph caches its shader programs).
        QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
        app = QApplication([sys.argv[0] if sys.argv else "fusionlabel"])
    app.setApplicationName("fusionlabel")
    project = open_project(path, project_folder, scene)
    try:
        index = None
        if frame is not None:
            try:
                index = project.drive.index_of(frame)
            except KeyError as e:
                raise InputError(path, str(e.args[0]), where="--frame") from None
        if settings:
            if project.read_only:
                raise InputError(project.folder, f"cannot save the detector settings: {project.read_only_reason}")
            for key, value in settings.items():
                project.set_setting(key, value)
        session = Session(project)
        if index is not None:
            session.set_frame(index)
        window = MainWindow(session, remember_layout=remember_layout)
    except BaseException:
        project.discard()
        raise
    window.show()
    return app, window


SCREENSHOT_SIZE = (1600, 1000)   # --screenshot's window, whatever the screen and the saved layout


def save_screenshot(window, out: str | Path, timeout: float = 60.0) -> None:
    """Wait until the window shows its frame, then save the whole window (3D view included)."""
    from .testing import wait_for_frame

    wait_for_frame(window, timeout=timeout)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not window.screenshot().save(str(out)):
        raise InputError(out, "cannot write the screenshot (expected a .png or .jpg path in a writable folder)")


def run_app(path: str | Path | None = None, frame: str | None = None,
            project_folder: str | Path | None = None, screenshot: str | Path | None = None,
            scene: str | None = None, settings: dict | None = None) -> int:
    """Open the main window on ``path`` (default: sample_data/) and run the event loop.

    With ``screenshot``, save the window once the frame is shown and close instead of running (a
    project the run created is removed again when that fails). ``settings`` as in :func:`launch`.
    """
    # A screenshot is taken at its own fixed size, whatever layout the user keeps.
    app, window = launch(path, frame, project_folder, scene, settings, remember_layout=screenshot is None)
    session = window.session
    if screenshot is not None:
        failed = True
        try:
            window.window_layout.apply_default(SCREENSHOT_SIZE)
            from .testing import wait_for_frame

            # once the frame is shown the object list knows the width its columns need: lay the
            # panes out again around it, or the dock keeps the width it had before and clips them
            wait_for_frame(window, timeout=60.0)
            window.window_layout.apply_default(SCREENSHOT_SIZE)
            save_screenshot(window, screenshot)
            print(f"wrote {screenshot}: the app on {session.drive.name}, frame {window.displayed.frame_id}")
            failed = False
            return 0
        finally:
            window.close()
            session.close()
            if failed:
                session.project.discard()
            else:
                session.project.close()
    previous_hook = sys.excepthook

    def report(exc_type, exc, tb):  # a bug in a view must not take the app (or any edit) down
        traceback.print_exception(exc_type, exc, tb)
        session.notify(f"internal error ({exc_type.__name__}: {exc}); the last edit is saved", "error")

    sys.excepthook = report
    # Ctrl+C in the terminal, SIGTERM and SIGHUP close the window as its close button does (view
    # settings saved, every edit saved already), then the app exits as a process the signal ended
    # would: 130, 143, 129. The timer lets Python run its signal handler while Qt's loop has control.
    from PyQt6.QtCore import QTimer

    stopped: list[int] = []

    def stop(signum, frame) -> None:
        if not stopped:
            stopped.append(signum)
        if window.isVisible():              # a second Ctrl+C while it closes changes nothing
            window.close_unattended()

    previous = {signum: signal.signal(signum, stop) for signum in HELD
                if signal.getsignal(signum) not in (None, signal.SIG_IGN)}   # nohup's SIGHUP stays ignored
    tick = QTimer()
    tick.timeout.connect(lambda: None)
    tick.start(250)
    try:
        code = int(app.exec())
    finally:
        tick.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sys.excepthook = previous_hook
        session.close()
        session.project.close()
    if not stopped:
        return code
    dropped = "; the pre-label run still going was discarded" if window.prelabel_discarded else ""
    print(f"fusionlabel: {stop_text(stopped[0])}: the window closed, every edit is saved{dropped}", file=sys.stderr)
    return 128 + stopped[0]
