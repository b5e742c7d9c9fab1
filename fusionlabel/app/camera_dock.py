"""The camera panel in a dock of its own, under the views: its float button, a double-click on its
title or View > Cameras in their own window take it out into a window of its own (for a second
monitor), and back. Floated that way, the window goes where the annotator last put it when that is
still on a screen, else beside the main window, or where it covers least of the timeline and the
object list, then of the views (:mod:`.float_place`); dragged out by its title, it stays where it is dropped.

The dock lives in a small main window of its own (:class:`CameraHost`), nested where the views
are, so docked it sits between the views and the timeline as the cameras always have, and the
object list and the label checks keep their places. Docked, its title bar is on its left, where the
camera images leave room: they keep the height they had in a plain pane.
"""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QPoint, QRect, Qt
from PyQt6.QtGui import QGuiApplication
from PyQt6.QtWidgets import QDockWidget, QMainWindow, QWidget

from .float_place import Rect, beside_main, on_a_screen

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
        # Where the annotator last put the floating window (x, y, w, h; the window layout keeps it
        # between sessions), not where it was placed for them; and whether the float under way is
        # a double-click on the title.
        self.float_geometry: Rect | None = None
        self._not_theirs: set = set()   # the places Qt and place_floating gave the window since it floated
        self._double_clicked = False
        self._pressed = False   # the mouse held on the dock's title (a drag floats it too)
        self._restoring = False   # floated by restore_state: its place is the one saved
        self.dock.topLevelChanged.connect(self._floated)
        self.dock.installEventFilter(self)

    def _title_on_the_side(self, floating: bool) -> None:
        """Docked, the title bar is on the left (the images keep their height); floating, on top, as
        a window's."""
        features = QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        if not floating:
            features |= QDockWidget.DockWidgetFeature.DockWidgetVerticalTitleBar
        self.dock.setFeatures(features)

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802 - Qt API
        """Notes the mouse held on the dock's title (a drag), a double-click there (it floats the
        dock with the button held) and where the floating window is moved or resized to."""
        if obj is self.dock:
            kind = ev.type()
            if kind == QEvent.Type.MouseButtonDblClick:
                self._double_clicked = True
            elif kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease):
                self._pressed = kind == QEvent.Type.MouseButtonPress   # on the title: a drag may start
            elif kind in (QEvent.Type.Move, QEvent.Type.Resize) and self.dock.isFloating() and self.dock.isVisible():
                at = _rect(self.dock.geometry())
                if at not in self._not_theirs:   # moved or resized by the annotator
                    self.float_geometry = at
        return super().eventFilter(obj, ev)

    def _floated(self, floating: bool) -> None:
        """Out in a window of its own by the menu, the float button or a double-click: placed
        (:meth:`place_floating`) once Qt has floated it. Dragged out by the title (the button
        still held, no double-click), it follows the mouse and stays where it is dropped."""
        double, self._double_clicked = self._double_clicked, False
        self._not_theirs = {_rect(self.dock.geometry())} if floating else set()
        dragged = self._pressed and not double
        if floating and not dragged and not self._restoring:
            self.place_floating()

    def views_rect(self) -> Rect:
        """The views (bird's-eye, 3D and side views) on the screen, (x, y, w, h), as they are with the
        cameras floating: this host's area (just floated, they may not have taken it yet)."""
        at = self.mapToGlobal(QPoint(0, 0))
        return (at.x(), at.y(), self.width(), self.height())

    def kept_in_sight(self) -> list[Rect]:
        """On the screen, what the main window shows besides the views and the cameras, which a
        floating window placed for the annotator should not cover: the widgets beside this host
        (the timeline), and the main window's menu and status bars and its docks (the object list,
        the label checks), floating ones too."""
        kept, inner, outer = [], self, self.parentWidget()
        while outer is not None:
            for w in outer.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly):
                if w is not inner and w.isVisible() and w.width() > 0 and w.height() > 0:
                    kept.append(_rect(w.frameGeometry()) if w.isWindow()
                                else _rect(QRect(w.mapToGlobal(QPoint(0, 0)), w.size())))
            inner, outer = outer, outer.parentWidget()
        return kept

    def place_floating(self) -> None:
        """Put the floating cameras' window where the annotator last had it when that is still on
        a screen, else beside the main window on its screen, or where it covers least of the
        timeline, the object list and the bars (:meth:`kept_in_sight`), then of the views
        (:func:`.float_place.beside_main`)."""
        if not self.dock.isFloating():
            return
        screens = [_rect(s.availableGeometry()) for s in QGuiApplication.screens()]
        if self.float_geometry is not None and on_a_screen(self.float_geometry, screens):
            self.dock.setGeometry(QRect(*self.float_geometry))
            return
        main = self.window()
        screen = (main.screen() or QGuiApplication.primaryScreen()).availableGeometry()
        frame = self.dock.frameGeometry()
        extra_w = frame.width() - self.dock.width()    # the window system's frame, where it draws one
        extra_h = frame.height() - self.dock.height()
        x, y, w, h = beside_main(_rect(main.frameGeometry()), (frame.width(), frame.height()), _rect(screen),
                                 self.views_rect(), self.kept_in_sight())
        placed = QRect(x + self.dock.x() - frame.x(), y + self.dock.y() - frame.y(), w - extra_w, h - extra_h)
        self._not_theirs.add(_rect(placed))
        self.dock.setGeometry(placed)

    def restore_state(self, state, float_geometry: Rect | None) -> bool:
        """:meth:`restoreState` with where the floating window was last (``float_geometry``; None:
        not known, the place ``state`` gives is kept); a floating window no longer on a screen is
        placed again. False when ``state`` is not a state of this host."""
        self.float_geometry = float_geometry
        self._restoring = True
        try:
            restored = self.restoreState(state)
        finally:
            self._restoring = False
        if restored and self.floating:
            if self.float_geometry is None:
                self.float_geometry = _rect(self.dock.geometry())
            self.place_floating()
        return restored

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


def _rect(r: QRect) -> Rect:
    return (r.x(), r.y(), r.width(), r.height())
