"""The main window's layout: the default fills the screen's available area with the cameras sized
for the rig, the layout is remembered between sessions (in the tests' own settings folder, never
the user's), View > Reset window layout goes back, --screenshot keeps its fixed size, and a rig without
cameras shows no empty cameras' pane."""

from __future__ import annotations

import os
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtGui import QGuiApplication, QImage  # noqa: E402

from conftest import run_on_display  # noqa: E402
from fusionlabel.app import testing  # noqa: E402
from fusionlabel.app.main import run_app  # noqa: E402
from fusionlabel.app.main_window import MainWindow  # noqa: E402
from fusionlabel.app.session import Session  # noqa: E402
from fusionlabel.app.window_layout import CAMERA_SHARE, SETTINGS_DIR_ENV, layout_settings  # noqa: E402
from fusionlabel.io.drives import open_drive  # noqa: E402
from fusionlabel.io.native import NativeDriveWriter  # noqa: E402
from fusionlabel.store.project import Project  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def own_settings(tmp_path, monkeypatch):
    """Each test starts with no saved layout, in a folder of its own."""
    monkeypatch.setenv(SETTINGS_DIR_ENV, str(tmp_path / "settings"))
    return tmp_path / "settings"


def open_window(qtbot, project, remember=True) -> MainWindow:
    w = MainWindow(Session(project), use_gl=False, remember_layout=remember)
    qtbot.addWidget(w)
    return testing.show_window(w)


def assert_fills_screen(window) -> None:
    """The window is as high as the screen's available area, and as wide unless its panes need
    more (the offscreen test screen is 800 × 800)."""
    area = QGuiApplication.primaryScreen().availableGeometry()
    assert window.height() == area.height() and window.width() >= area.width()
    assert window.width() == area.width() or window.width() <= window.minimumSizeHint().width()


def test_settings_live_in_the_folder_the_tests_give(own_settings):
    assert Path(layout_settings().fileName()).parent == own_settings
    assert Path(os.environ[SETTINGS_DIR_ENV]).is_relative_to(Path(os.environ.get("TMPDIR", "/tmp")))


def test_without_a_saved_layout_the_window_fills_the_screen_s_available_area(qtbot, project):
    w = open_window(qtbot, project)
    assert_fills_screen(w)
    # The cameras get what their images need to fill the panel's width, within the bounds.
    share = w.camera_dock.height() / w.camera_host.height()
    assert CAMERA_SHARE[0] - 0.02 <= share <= CAMERA_SHARE[1] + 0.02
    w.close()


# On a real display (the offscreen test screen, 800 × 800, is smaller than the window may be, so
# restoring a geometry there shrinks it to the screen). Prints JSON.
SCRIPT_HEAD = textwrap.dedent(r"""
    import json, tempfile
    from pathlib import Path
    from PyQt6.QtCore import QPoint, Qt
    from PyQt6.QtGui import QGuiApplication
    from PyQt6.QtTest import QTest
    from PyQt6.QtWidgets import QApplication
    app = QApplication([])
    from fusionlabel.app import testing
    from fusionlabel.app.main_window import MainWindow
    from fusionlabel.app.session import Session
    from fusionlabel.app.window_layout import layout_settings
    from fusionlabel.store.project import Project
    out = {}

    def window(project):
        w = MainWindow(Session(project), use_gl=False, remember_layout=True)
        testing.show_window(w)
        QTest.qWait(50)
        return w

    def panes(w):
        out = {name: s.sizes() for name, s in w.window_layout.splitters.items()}
        out["main"] = [w.camera_host.height() - w.camera_dock.height(), w.camera_dock.height()]
        return out
""")
REMEMBER_SCRIPT = SCRIPT_HEAD + textwrap.dedent(r"""
    area = QGuiApplication.primaryScreen().availableGeometry()
    out["area"] = [area.width(), area.height()]
    if area.width() < 1400 or area.height() < 950:
        print(json.dumps({"skip": f"the display is {area.width()} x {area.height()}, too small"}))
        raise SystemExit
    with tempfile.TemporaryDirectory() as tmp:
        project = Project.create(Path(tmp) / "project", testing.small_drive(), import_labels=True)
        w = window(project)
        out["default"] = [w.width(), w.height()]
        default_panes = panes(w)
        w.resize(1300, 900)
        QTest.qWait(50)
        w.camera_host.resizeDocks([w.camera_dock], [300], Qt.Orientation.Vertical)
        w.window_layout.splitters["top"].setSizes([700, 300])
        QTest.qWait(50)
        out["set"] = panes(w)
        w.close()
        out["saved"] = Path(layout_settings().fileName()).is_file()

        w = window(project)
        out["restored_size"] = [w.width(), w.height()]
        out["restored"] = panes(w)
        w.cameras.toggle_enlarged(next(iter(w.cameras.views)))   # enlarged when it closes
        QTest.qWait(50)
        out["enlarged_main"] = panes(w)["main"]
        w.close()

        w = window(project)
        out["after_enlarged_main"] = panes(w)["main"]
        w.reset_layout_action.trigger()
        QTest.qWait(50)
        out["reset_size"] = [w.width(), w.height()]
        out["reset"] = panes(w)
        out["default_panes"] = default_panes
        out["forgotten"] = layout_settings().value("window/geometry") is None
        w.close()
        w = window(project)
        out["after_reset_size"] = [w.width(), w.height()]
        w.close()
        project.close()
    print(json.dumps(out))
""")


def test_geometry_and_pane_sizes_are_remembered_and_reset_goes_back(own_settings):
    out = run_on_display(REMEMBER_SCRIPT)
    assert out["default"] == out["area"]           # no saved layout: the screen's available area
    assert out["saved"]
    assert out["restored_size"] == [1300, 900]
    assert out["restored"]["main"] == out["set"]["main"] and out["restored"]["top"] == out["set"]["top"]
    # a camera enlarged by a double-click is not the layout kept
    assert out["enlarged_main"] != out["set"]["main"] and out["after_enlarged_main"] == out["set"]["main"]
    # View > Reset window layout: the default again, and the saved layout forgotten
    assert out["reset_size"] == out["area"] and out["forgotten"]
    assert out["reset"]["main"] == out["default_panes"]["main"]
    assert out["reset"]["top"] == out["default_panes"]["top"]
    assert out["after_reset_size"] != [1300, 900]   # the next session does not bring the old one back


# On a real display: where a floating window is put is the window system's business offscreen.
REMEMBER_FLOATING = SCRIPT_HEAD + textwrap.dedent(r"""
    def cameras(w, step=None):
        if step is not None:
            step()
            QTest.qWait(100)
        d = w.camera_dock
        return {"floating": d.isFloating(), "visible": d.isVisible(), "window": d.isWindow(),
                "geometry": [d.x(), d.y(), d.width(), d.height()], "checked": w.float_cameras_action.isChecked()}

    with tempfile.TemporaryDirectory() as tmp:
        project = Project.create(Path(tmp) / "project", testing.small_drive(), import_labels=True)
        w = window(project)
        out["default"] = cameras(w, lambda: w.resize(1200, 800))
        w.float_cameras_action.trigger()
        out["set"] = cameras(w, lambda: w.camera_dock.setGeometry(900, 150, 800, 420))
        for name in ("restored", "after_reset"):   # the next session; the one after a reset
            w.close()
            w = window(project)
            out[name] = cameras(w)
            if name == "restored":
                out["reset"] = cameras(w, w.reset_layout_action.trigger)
        w.float_cameras_action.trigger()
        QTest.qWait(100)
        d = w.camera_dock   # floating, its title bar (drawn by Qt on X11) is on top
        QTest.mouseDClick(d, Qt.MouseButton.LeftButton, pos=QPoint(d.width() // 2, 5))
        QTest.qWait(100)
        out["title double-clicked"] = cameras(w)
        w.close()
        project.close()
    print(json.dumps(out))
""")


def test_the_cameras_floating_keep_their_place_and_reset_docks_them(own_settings):
    out = run_on_display(REMEMBER_FLOATING)
    assert not out["default"]["floating"]
    assert out["set"]["floating"] and out["set"]["geometry"] == [900, 150, 800, 420]
    restored = out["restored"]
    assert restored["floating"] and restored["visible"] and restored["window"] and restored["checked"]
    assert restored["geometry"] == out["set"]["geometry"]
    for state in (out["reset"], out["after_reset"]):
        assert not state["floating"] and state["visible"] and not state["checked"]
    assert not out["title double-clicked"]["floating"]


PLACE_FLOATING = SCRIPT_HEAD + textwrap.dedent(r"""
    from PyQt6.QtCore import QRect

    def rect(r):
        return [r.x(), r.y(), r.width(), r.height()]

    def floated(w, how="menu"):
        d = w.camera_dock
        if how == "menu":
            w.float_cameras_action.trigger()
        else:   # a double-click on its title bar, on its left while docked
            QTest.mouseDClick(d, Qt.MouseButton.LeftButton, pos=QPoint(4, d.height() // 2))
        QTest.qWait(300)
        return {"floating": d.isFloating(), "cameras": rect(d.frameGeometry()), "main": rect(w.frameGeometry()),
                "views": rect(QRect(w.camera_host.centralWidget().mapToGlobal(QPoint(0, 0)),
                                    w.camera_host.centralWidget().size())),
                "timeline": rect(QRect(w.timeline.mapToGlobal(QPoint(0, 0)), w.timeline.size())),
                "objects": rect(QRect(w.objects_dock.mapToGlobal(QPoint(0, 0)), w.objects_dock.size()))}

    area = QGuiApplication.primaryScreen().availableGeometry()
    out["screen"] = rect(area)
    with tempfile.TemporaryDirectory() as tmp:
        project = Project.create(Path(tmp) / "project", testing.small_drive(), import_labels=True)
        w = window(project)
        w.resize(1000, 700); w.move(area.topLeft()); QTest.qWait(100)
        out["roomy"] = floated(w)                               # room on the right of the window
        w.camera_dock.setGeometry(1100, 500, 700, 380); QTest.qWait(200)   # the annotator puts it there
        w.float_cameras_action.trigger(); QTest.qWait(100)      # docked again ...
        out["again"] = floated(w, "double-click")               # ... and out again: where it was put
        w.float_cameras_action.trigger(); QTest.qWait(100)
        w.close()
        w = window(project)                                     # the next session, docked
        out["next_session"] = floated(w)
        w.float_cameras_action.trigger(); QTest.qWait(100)
        w.close()
        st = layout_settings()                                  # that place was on a screen now gone
        st.setValue("window/cameras_floating", [area.width() + 300, 200, 700, 380]); st.sync()
        w = window(project)
        w.resize(1000, 700); w.move(area.topLeft()); QTest.qWait(100)
        out["screen_gone"] = floated(w)
        w.float_cameras_action.trigger(); QTest.qWait(100)
        w.reset_layout_action.trigger(); QTest.qWait(200)      # the window over the whole screen
        out["full"] = floated(w)
        w.float_cameras_action.trigger(); QTest.qWait(100)      # a place given, not chosen, is not kept:
        w.showNormal(); w.resize(1000, 700); w.move(area.topLeft()); QTest.qWait(100)
        out["smaller"] = floated(w)                             # beside the smaller window now
        w.close()
        project.close()
    print(json.dumps(out))
""")


def overlap(a, b) -> int:
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(w, 0) * max(h, 0)


def on_screen(rect, screen) -> bool:
    return (screen[0] <= rect[0] and rect[0] + rect[2] <= screen[0] + screen[2]
            and screen[1] <= rect[1] and rect[1] + rect[3] <= screen[1] + screen[3])


def test_the_cameras_float_beside_the_main_window_not_over_its_views(own_settings):
    """Floated, the cameras' window goes beside the main window when the screen has room; where the
    annotator then puts it is where it comes back (the same session or the next); a place on a
    screen no longer there is not used; with no room, it keeps to the screen's edge (and that place,
    not the annotator's choice, is not kept once the main window leaves room). With no room beside
    the main window, it covers neither the timeline nor the object list: it goes over the views."""
    out = run_on_display(PLACE_FLOATING)
    screen = out["screen"]
    for name in ("roomy", "screen_gone", "smaller"):
        state = out[name]
        assert state["floating"] and on_screen(state["cameras"], screen), (name, state, screen)
        assert overlap(state["cameras"], state["main"]) == 0, (name, state)
    for name in ("again", "next_session"):
        assert out[name]["floating"] and out[name]["cameras"][:2] == [1100, 500], (name, out[name])
    full = out["full"]
    assert full["floating"] and on_screen(full["cameras"], screen)
    assert overlap(full["cameras"], full["timeline"]) == 0 and overlap(full["cameras"], full["objects"]) == 0, full
    assert overlap(full["cameras"], full["views"]) > 0          # over the views, above the timeline


def test_a_window_that_does_not_remember_leaves_the_settings_alone(qtbot, project, own_settings):
    w = open_window(qtbot, project, remember=False)
    w.resize(1100, 850)
    w.close()
    assert layout_settings().value("window/geometry") is None


def test_a_screenshot_keeps_its_size_whatever_layout_is_saved(qtbot, project, tmp_path):
    w = open_window(qtbot, project)
    w.resize(1100, 850)
    qtbot.wait(50)
    w.close()
    saved = layout_settings().value("window/geometry")
    project.close()
    out = tmp_path / "shot.png"
    assert run_app(tmp_path / "project", screenshot=out) == 0
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1600, 1000)
    assert layout_settings().value("window/geometry") == saved


def test_a_screenshot_shows_the_object_list_whole(qtbot, project, tmp_path, monkeypatch):
    """The object list keeps room for its widest entries from the start; the screenshot's fixed
    layout is made once the frame is shown, so the dock is as wide as the list and no column is
    cut off at the window's edge."""
    from fusionlabel.app import main as app_main
    from fusionlabel.app.object_list import ObjectList

    seen = {}
    real = app_main.save_screenshot

    def measured(window, out, **kw):
        real(window, out, **kw)
        table = window.findChild(ObjectList)
        seen["right"] = table.mapTo(window, table.rect().topRight()).x()
        seen["width"] = window.width()
        seen["columns"] = table.horizontalHeader().length()
        seen["viewport"] = table.viewport().width()

    monkeypatch.setattr(app_main, "save_screenshot", measured)
    project.close()
    assert run_app(tmp_path / "project", screenshot=tmp_path / "shot.png") == 0
    assert seen["right"] < seen["width"]
    assert seen["columns"] <= seen["viewport"]


def drive_without_cameras(root):
    """The app tests' small drive with its LiDAR only: a rig of no camera, no images."""
    src = open_drive(testing.small_drive())
    rig = src.rig(0)
    lidar_only = replace(rig, sensors={n: s for n, s in rig.sensors.items() if n not in rig.camera_names})
    with NativeDriveWriter(root, lidar_only, "nocam") as writer:
        for i, f in enumerate(src.frames):
            writer.add_frame(f.frame_id, f.timestamp_us, f.T_world_vehicle, src.points(i), {}, src.labels(i))
    return root


def test_a_rig_without_cameras_gives_the_views_the_cameras_height(qtbot, tmp_path):
    """A drive whose rig has no camera (a KITTI tracking folder without image_02/) shows no empty
    cameras' pane, and the layout it leaves does not hide the next drive's cameras."""
    root = drive_without_cameras(tmp_path / "drive")
    assert open_drive(root).rig(0).camera_names == []
    with_cameras = Project.create(tmp_path / "p1", testing.small_drive())
    w = open_window(qtbot, with_cameras)
    camera_height = w.camera_dock.height()
    assert w.camera_dock.isVisible() and camera_height > 0.25 * w.camera_host.height()
    w.close()
    with_cameras.close()

    project = Project.create(tmp_path / "p2", root)
    w = open_window(qtbot, project)
    assert not w.camera_dock.isVisible()
    assert w.bev.height() > 0.95 * w.camera_host.height()        # the views take the whole height
    assert not w.float_cameras_action.isEnabled()
    w.close()
    project.close()

    # The next drive with cameras shows them as the layout saved before.
    again = Project.open(tmp_path / "p1")
    w = open_window(qtbot, again)
    assert w.camera_dock.isVisible() and abs(w.camera_dock.height() - camera_height) <= 2
    w.close()
    again.close()

    # View > Reset window layout keeps them hidden; the next drive still shows its cameras.
    project = Project.open(tmp_path / "p2")
    w = open_window(qtbot, project)
    w.reset_layout()
    qtbot.waitUntil(lambda: w.bev.height() > 0.95 * w.camera_host.height(), timeout=2000)
    assert not w.camera_dock.isVisible()
    w.close()
    project.close()
    again = Project.open(tmp_path / "p1")
    w = open_window(qtbot, again)
    assert w.camera_dock.isVisible() and w.camera_dock.height() > 0.25 * w.camera_host.height()
    assert w.float_cameras_action.isEnabled()
    w.close()
    again.close()
