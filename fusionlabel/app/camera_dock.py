"""The camera panel in a dock of its own, under the views: its float button, a double-click on its
title or View > Cameras in their own window take it out into a window of its own (for a second
monitor), and back.

The dock lives in a small main window of its own (:class:`CameraHost`), nested where the views
are, so docked it sits between the views and the timeline as the cameras always have, and the
object list and the label checks keep their places. Docked, its title bar is on its left, where the
camera images leave room: they keep the height they had in a plain pane.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDockWidget, QMainWindow, QWidget

BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea
VERTICAL = Qt.Orientation.Vertical
ENLARGED_SHARE = 0.7   # of the views' height, for a camera enlarged by a double-click while docked


class CameraHost(QMainWindow):
    """The views (``views``, its central widget) with the camera panel (``cameras``) docked under
    them in :attr:`dock`, which may float in a window of its own."""

    def __init__(self, views: QWidget, cameras: QWidget, parent=None):
        super().__init__(parent)
        self.setWindowFlags(Qt.WindowType.Widget)   # a pane of the main window, not a window
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks)
        self.setCentralWidget(views)
        self.dock = QDockWidget("Cameras", self)
        self.dock.setObjectName("cameras")   # named, so that saveState/restoreState find it
        self.dock.setWidget(cameras)
        self._title_on_the_side(False)
        self.dock.topLevelChanged.connect(self._title_on_the_side)
        self.dock.setAllowedAreas(Qt.DockWidgetArea.BottomDockWidgetArea | Qt.DockWidgetArea.TopDockWidgetArea)
        self.addDockWidget(BOTTOM, self.dock)
        self._height_before: int | None = None   # the docked height before a camera was enlarged
        self._share: float | None = None   # a share of the height to give the cameras once shown

    def _title_on_the_side(self, floating: bool) -> None:
        """Docked, the title bar is on the left (the images keep their height); floating, on top, as
        a window's."""
        features = QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        if not floating:
            features |= QDockWidget.DockWidgetFeature.DockWidgetVerticalTitleBar
        self.dock.setFeatures(features)

    @property
    def floating(self) -> bool:
        return self.dock.isFloating()

    def set_floating(self, on: bool) -> None:
        """Cameras in a window of their own (``on``) or back under the views."""
        if on != self.dock.isFloating():
            self.dock.setFloating(on)
            if on:
                self.dock.show()
                self.dock.raise_()
                self.dock.activateWindow()

    def dock_back(self) -> None:
        """Back under the views, in the bottom area, whatever the annotator did with it."""
        if self.dock.isFloating() or self.dockWidgetArea(self.dock) != BOTTOM:
            self.dock.setFloating(False)
            self.addDockWidget(BOTTOM, self.dock)
        self.dock.show()

    def set_share(self, share: float) -> None:
        """Give the docked cameras ``share`` of the height the views and the cameras have together
        (again at the height the host has once shown, if it is hidden now)."""
        self._share = None if self.isVisible() else share
        self.resizeDocks([self.dock], [max(1, round(share * self.height()))], VERTICAL)

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt API
        """The docked cameras keep their share of the height when the window is resized, as the
        pane they were in did."""
        super().resizeEvent(ev)
        new, old = ev.size().height(), ev.oldSize().height()
        if self.floating or new <= 0:
            return
        if self._share is not None:
            self.resizeDocks([self.dock], [max(1, round(self._share * new))], VERTICAL)
        elif 0 < old != new:
            self.resizeDocks([self.dock], [max(1, round(self.dock.height() * new / old))], VERTICAL)
            if self._height_before is not None:
                self._height_before = max(1, round(self._height_before * new / old))

    def showEvent(self, ev) -> None:  # noqa: N802 - Qt API
        super().showEvent(ev)
        self._share = None   # given at the height shown: from now on, the cameras keep theirs

    def docked_height(self) -> int:
        """The cameras' docked height, as it was before a camera was enlarged."""
        return self._height_before if self._height_before is not None else self.dock.height()

    def enlarge(self, on: bool) -> None:
        """A camera enlarged by a double-click takes most of the height while docked (floating, it
        has its window to itself already); the height before comes back after."""
        if on and not self.floating:
            self._height_before = self._height_before or self.dock.height()
            self.set_share(ENLARGED_SHARE)
        elif not on and self._height_before is not None:
            if not self.floating:
                self.resizeDocks([self.dock], [self._height_before], VERTICAL)
            self._height_before = None
