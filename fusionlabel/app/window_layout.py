"""The main window's size and the sizes of its panes (the cameras' dock too, docked or floating in a
window of its own, and where that window was last, for the next time it floats): a default fitted to the screen and the rig, remembered between sessions
(QSettings, per user, not per project), and a way back to the default.

``FUSIONLABEL_SETTINGS_DIR`` puts the settings file (``fusionlabel.ini``) in another folder: the
tests point it at a temporary one, so they never read or write the user's own layout.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from PyQt6.QtCore import QSettings, Qt
from PyQt6.QtGui import QGuiApplication

SETTINGS_DIR_ENV = "FUSIONLABEL_SETTINGS_DIR"
GROUP = "window"
# Default weights of the panes (a splitter shares its space in these proportions).
TOP_WEIGHTS = (53, 47)        # bird's-eye view | 3D and side views
RIGHT_WEIGHTS = (62, 38)      # 3D view over the side views
CAMERA_SHARE = (0.3, 0.5)     # the cameras' least and largest share of the views' height
CAMERAS_PER_ROW = 3           # as CameraPanel lays them out


def layout_settings() -> QSettings:
    """Where the layout is kept: ``$FUSIONLABEL_SETTINGS_DIR/fusionlabel.ini`` when that is set,
    else the user's settings of the fusionlabel application (``~/.config/fusionlabel`` on Linux)."""
    folder = os.environ.get(SETTINGS_DIR_ENV)
    if folder:
        return QSettings(str(Path(folder) / "fusionlabel.ini"), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "fusionlabel", "fusionlabel")


def camera_share(camera_sizes: list[tuple[int, int]], width: float, height: float) -> float:
    """The share of ``height`` the camera panel gets by default: what its images need to fill
    ``width`` (up to :data:`CAMERAS_PER_ROW` a row, at the first camera's aspect ratio), kept
    within :data:`CAMERA_SHARE`. ``camera_sizes``: (width, height) of each camera image."""
    lo, hi = CAMERA_SHARE
    if not camera_sizes or width <= 0 or height <= 0:
        return lo
    columns = min(len(camera_sizes), CAMERAS_PER_ROW)
    rows = math.ceil(len(camera_sizes) / CAMERAS_PER_ROW)
    image_w, image_h = camera_sizes[0]
    needed = rows * (width / columns) * image_h / max(image_w, 1)
    return min(hi, max(lo, needed / height))


class WindowLayout:
    """Applies, restores and saves the geometry of ``window`` and the sizes of its ``splitters``
    (name -> QSplitter). ``camera_sizes`` gives the rig's camera image sizes for the default."""

    def __init__(self, window, splitters: dict, camera_sizes: list[tuple[int, int]], dock=None,
                 cameras=None):
        self.window = window
        self.splitters = splitters
        self.camera_sizes = camera_sizes
        self.dock = dock   # the QDockWidget the "dock" splitter fills, put back on the right by default
        self.cameras = cameras   # the CameraHost: the views, the cameras docked under them or floating

    def apply_default(self, size: tuple[int, int] | None = None) -> None:
        """The window over the screen's available area (not full screen), or at ``size`` (width,
        height) where it is, and the panes at their default proportions for that size."""
        if size is None:
            screen = self.window.screen() or QGuiApplication.primaryScreen()
            area = screen.availableGeometry()
            width, height = area.width(), area.height()
            self.window.resize(width, height)
            self.window.move(area.topLeft())
        else:
            width, height = size
            self.window.resize(width, height)
        s = self.splitters
        s["top"].setSizes([100 * v for v in TOP_WEIGHTS])   # large, so no pane's minimum size skews them
        s["right"].setSizes([100 * v for v in RIGHT_WEIGHTS])
        s["dock"].setSizes([max(w.sizeHint().height(), 1) for w in map(s["dock"].widget, range(s["dock"].count()))])
        right_side = Qt.DockWidgetArea.RightDockWidgetArea
        if self.dock is not None:
            if self.dock.isFloating() or self.window.dockWidgetArea(self.dock) != right_side:
                self.dock.setFloating(False)
                self.window.addDockWidget(right_side, self.dock)
            self.window.resizeDocks([self.dock], [self.dock.sizeHint().width()], Qt.Orientation.Horizontal)
        if self.cameras is not None:
            self.cameras.dock_back()
            self._default_cameras(width, height)
            self._hide_cameras_without_rig_cameras()

    @property
    def has_cameras(self) -> bool:
        """The rig has cameras: without any (a KITTI tracking folder without ``image_02/``) the
        cameras' dock is hidden and the views take its height."""
        return bool(self.camera_sizes)

    def _hide_cameras_without_rig_cameras(self) -> None:
        if self.cameras is not None and not self.has_cameras:
            self.cameras.dock.setFloating(False)
            self.cameras.dock.hide()

    def _default_cameras(self, width: int, height: int) -> None:
        """The docked cameras' default height in a window of ``width`` × ``height``."""
        # The camera panel spans the window but the object list; the views, all but the menus,
        # the timeline and the status bar (about these shares of the window).
        share = camera_share(self.camera_sizes, 0.8 * width, 0.88 * height)
        _lay_out(self.window)   # the cameras' share is in pixels of the views' height at this size
        self.cameras.set_share(share)

    def restore(self) -> bool:
        """The geometry and pane sizes saved last; False (nothing changed) when none are saved."""
        st = layout_settings()
        st.beginGroup(GROUP)
        try:
            geometry = st.value("geometry")
            if geometry is None or not self.window.restoreGeometry(geometry):
                return False
            state = st.value("state")
            if state is not None:
                self.window.restoreState(state)
            cameras = st.value("cameras")   # docked (and how high) or floating (where)
            floating = _rect_value(st.value("cameras_floating"))   # where their window was last
            if self.cameras is not None and (cameras is None or not self.cameras.restore_state(cameras, floating)):
                self.cameras.float_geometry = floating
                self._default_cameras(self.window.width(), self.window.height())   # saved before they were a dock
            self._hide_cameras_without_rig_cameras()
            for name, splitter in self.splitters.items():
                sizes = _int_list(st.value(f"splitter/{name}"))
                if sizes is not None and len(sizes) == splitter.count() and sum(sizes) > 0:
                    splitter.setSizes(sizes)
            return True
        finally:
            st.endGroup()

    def save(self) -> None:
        """Keep the geometry and pane sizes for the next session (the cameras' too, docked or in a
        window of their own)."""
        st = layout_settings()
        st.beginGroup(GROUP)
        st.setValue("geometry", self.window.saveGeometry())
        st.setValue("state", self.window.saveState())
        if self.cameras is not None and self.has_cameras:   # a rig without cameras keeps the last one's
            st.setValue("cameras", self.cameras.saveState())
            if self.cameras.float_geometry is not None:
                st.setValue("cameras_floating", list(self.cameras.float_geometry))
        for name, splitter in self.splitters.items():
            st.setValue(f"splitter/{name}", [int(v) for v in splitter.sizes()])
        st.endGroup()
        st.sync()

    def reset(self) -> None:
        """Back to the default layout, and forget the saved one."""
        st = layout_settings()
        st.remove(GROUP)
        st.sync()
        if self.cameras is not None:
            self.cameras.float_geometry = None
        self.apply_default()


def _lay_out(widget) -> None:
    """Lay ``widget``'s children out at its size now (Qt does it once it shows, or later)."""
    for w in (widget, widget.centralWidget()):
        if w.layout() is not None:
            w.layout().invalidate()
            w.layout().activate()


def _rect_value(value) -> tuple[int, int, int, int] | None:
    """(x, y, w, h) from a settings value, None when it is not four numbers with a size."""
    items = _int_list(value)
    return tuple(items) if items is not None and len(items) == 4 and items[2] > 0 and items[3] > 0 else None


def _int_list(value) -> list[int] | None:
    """A list of ints from a settings value (an INI file gives strings, or one string for one value)."""
    if value is None:
        return None
    items = value if isinstance(value, (list, tuple)) else [value]
    try:
        return [int(v) for v in items]
    except (TypeError, ValueError):
        return None
