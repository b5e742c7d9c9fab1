"""The cameras in a dock: docked under the views by default, as the camera pane always was; floated
into a window of their own (for a second monitor) and back; every kind of key works while the
focus is in a floating window (the cameras, the object list); a camera enlarged, zoomed or clicked
there works as docked; a layout saved before they were a dock gives them their default height
(pytest-qt; the floating window's place remembered: test_app_window_layout)."""

from __future__ import annotations

import os
import sys

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import QPoint, Qt  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

from conftest import native_key, nearest_seen_box  # noqa: E402
from fusionlabel.app.window_layout import CAMERA_SHARE, SETTINGS_DIR_ENV  # noqa: E402

pytestmark = pytest.mark.gui
CTRL = Qt.KeyboardModifier.ControlModifier
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland keycodes")
GAP = 8   # px between panes: a splitter handle or a dock separator


def geometry(widget, window):
    p = widget.mapTo(window, QPoint(0, 0))
    return p.x(), p.y(), widget.width(), widget.height()


def float_out(qtbot, dock) -> None:
    """Float ``dock`` in a window of its own, shown and active (the annotator works in it)."""
    dock.setFloating(True)
    dock.show()
    dock.activateWindow()
    qtbot.waitUntil(lambda: dock.isVisible() and dock.windowHandle() is not None)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dock)


def test_by_default_the_cameras_are_docked_under_the_views_as_the_pane_was(window):
    w = window
    cams = geometry(w.cameras, w)
    views = geometry(w.camera_host.centralWidget(), w)
    timeline = geometry(w.timeline, w)
    assert not w.camera_dock.isFloating() and not w.float_cameras_action.isChecked()
    # under the views, over the timeline, as wide as the views (but a slim title bar on the left)
    assert 0 <= cams[1] - (views[1] + views[3]) <= GAP
    assert 0 <= timeline[1] - (cams[1] + cams[3]) <= GAP
    assert cams[0] + cams[2] == views[0] + views[2] and 0 <= cams[0] - views[0] <= 24
    # not under the object list, which keeps the whole height on the right
    assert geometry(w.objects, w)[0] > cams[0] + cams[2]
    share = cams[3] / (cams[3] + views[3])
    assert CAMERA_SHARE[0] - 0.03 <= share <= CAMERA_SHARE[1] + 0.03


def test_the_cameras_float_into_a_window_of_their_own_and_dock_back(qtbot, window):
    w, dock = window, window.camera_dock
    views_before = w.camera_host.centralWidget().height()
    w.float_cameras_action.trigger()       # View > Cameras in their own window
    qtbot.waitUntil(lambda: dock.isFloating() and dock.isVisible())
    assert dock.isWindow() and dock.windowHandle() is not w.windowHandle()
    assert w.cameras.window() is dock and w.cameras.isVisible()
    qtbot.waitUntil(lambda: w.camera_host.centralWidget().height() > views_before)   # the views take the room
    w.float_cameras_action.trigger()       # and back
    assert not dock.isFloating() and w.cameras.window() is w
    assert w.camera_host.dockWidgetArea(dock) == Qt.DockWidgetArea.BottomDockWidgetArea
    # a double-click on its title (on its left, docked) floats it too, and the menu entry follows
    qtbot.waitUntil(lambda: w.cameras.x() > 0)   # the title bar is back on the left
    qtbot.mouseDClick(dock, Qt.MouseButton.LeftButton, pos=QPoint(4, dock.height() // 2))
    qtbot.waitUntil(lambda: dock.isFloating())
    assert w.float_cameras_action.isChecked()
    dock.setFloating(False)                # as its float button or a double-click on its title
    assert not w.float_cameras_action.isChecked()


@linux_only
def test_keys_work_with_the_focus_in_the_floating_cameras(qtbot, window):
    w, s = window, window.session
    float_out(qtbot, w.camera_dock)
    view = w.cameras.views["cam_front"]
    frame = s.frame
    native_key(view, "d", 40)              # D: a window shortcut (QAction) of the main window
    assert s.frame == frame + 1
    native_key(view, "a", 38)
    assert s.frame == frame
    ann, _ = nearest_seen_box(view.cam, s.annotations())
    s.select((ann.uid,))
    native_key(view, "é", 11)              # AZERTY's 2 key: the class key read by the key's place
    assert s.document.get(ann.uid).label.label == s.ontology.class_for_key("2")
    native_key(view, "z", 52, CTRL)        # Ctrl+Z
    assert s.document.get(ann.uid).label.label == ann.label.label


@linux_only
def test_keys_work_with_the_focus_in_a_floating_object_list(qtbot, window):
    w, s = window, window.session
    float_out(qtbot, w.objects_dock)
    ann = s.annotations()[0]
    s.select((ann.uid,))
    native_key(w.objects, "é", 11)
    assert s.document.get(ann.uid).label.label == s.ontology.class_for_key("2")
    field = w.objects_header.filter
    field.setFocus()
    native_key(field, "é", 11)             # typed in the filter, not a class key
    assert field.text() == "é" and s.document.get(ann.uid).label.label == s.ontology.class_for_key("2")
    native_key(field, "\x1b", 9, key=Qt.Key.Key_Escape)   # Esc clears the filter and gives the keys back to the views
    assert field.text() == ""
    qtbot.waitUntil(lambda: QApplication.focusWidget() is w.bev)


def test_a_camera_enlarges_zooms_and_picks_in_the_floating_window(qtbot, window):
    w, s = window, window.session
    float_out(qtbot, w.camera_dock)
    w.camera_dock.resize(1200, 500)
    views_height = w.camera_host.centralWidget().height()
    view = w.cameras.views["cam_front"]
    qtbot.mouseDClick(view, Qt.MouseButton.LeftButton, pos=QPoint(view.width() // 2, view.height() // 2))
    assert w.cameras.enlarged == "cam_front"
    assert [v.isVisible() for v in w.cameras.views.values()] == [n == "cam_front" for n in w.cameras.views]
    assert w.camera_host.centralWidget().height() == views_height   # the views keep their room
    ann, uv = nearest_seen_box(view.cam, s.annotations())
    view.view_zoom.zoom_at(2.0, tuple(uv), view.image_size(), view.view_size())
    assert view.view_zoom.zoomed
    s.select(())
    at = view.image_to_screen(uv)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(int(at.x()), int(at.y())))
    assert s.selection == (ann.uid,)
    shot = w.screenshot()                  # the main window, the cameras in their own
    assert (shot.width(), shot.height()) == (w.width(), w.height()) and not w.camera_dock.grab().isNull()
    qtbot.mouseDClick(view, Qt.MouseButton.LeftButton, pos=QPoint(view.width() // 2, view.height() // 2))
    assert w.cameras.enlarged is None and all(v.isVisible() for v in w.cameras.views.values())


def test_a_layout_saved_before_the_cameras_were_a_dock_gives_them_their_default_height(qtbot, project,
                                                                                        tmp_path, monkeypatch):
    from fusionlabel.app import testing
    from fusionlabel.app.main_window import MainWindow
    from fusionlabel.app.session import Session
    from fusionlabel.app.window_layout import layout_settings

    monkeypatch.setenv(SETTINGS_DIR_ENV, str(tmp_path / "settings"))
    w = MainWindow(Session(project), use_gl=False, remember_layout=True)
    qtbot.addWidget(w)
    testing.show_window(w)
    w.close()
    st = layout_settings()
    st.remove("window/cameras")           # as an older version saved it: geometry, state, splitters
    st.sync()
    w = MainWindow(Session(project), use_gl=False, remember_layout=True)
    qtbot.addWidget(w)
    testing.show_window(w)
    cams, views = w.cameras.height(), w.camera_host.centralWidget().height()
    assert not w.camera_dock.isFloating()
    assert CAMERA_SHARE[0] - 0.03 <= cams / (cams + views) <= CAMERA_SHARE[1] + 0.03
    w.close()


def test_the_docked_cameras_keep_their_share_when_the_window_is_resized(qtbot, window):
    w = window

    def share():
        return w.camera_dock.height() / w.camera_host.height()

    before = share()
    for size in ((1200, 700), (1600, 1000), (1000, 900)):
        w.resize(*size)
        qtbot.waitUntil(lambda: w.camera_host.height() > 0 and abs(share() - before) < 0.02)
