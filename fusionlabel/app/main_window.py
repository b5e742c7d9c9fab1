"""The main window: lays out the views, routes frames from the loader to them, maps keys to
actions, and shows messages. It holds no annotation state of its own.

Layout (like the professional tools): bird's-eye view (main drawing surface) on the left; 3D view
above the three side views on the right; the cameras below, in a dock that can float in a window of
its own (a second monitor: camera_dock); the timeline at the bottom; the object list and the
attribute editor in a dock.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
from PyQt6.QtCore import QEvent, QPoint, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QAction, QGuiApplication, QKeySequence
from PyQt6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ..model.edit_actions import selected_in_frame
from .actions import Actions
from .bev_view import BevView
from .camera_dock import CameraHost
from .camera_view import CameraPanel, CameraView
from .check_panel import CheckPanel
from .drive_gone import drive_gone_text, gone_files
from .export_action import WindowExport
from .frame_data import FrameData
from .help_overlay import HelpOverlay
from .input_widgets import holds_focus, is_text_input, owns_key
from .loader import FrameLoader
from .motion_runner import MotionRunner
from .number_row import NumberRowKeys
from .object_list import ObjectList, ObjectsHeader
from .panels import AttributePanel, Timeline
from .prelabel_runner import PrelabelRunner
from .prelabel_status import PrelabelStatus
from .qt_util import take_activation_back
from .session import MESSAGES_KEPT, Message, Session
from .shortcuts import SHORTCUTS, class_shortcuts
from .side_views import SideView, SideViews
from .unread_labels import show_unread_labels
from .unrelated_frames import restart_views, saved_view_applies
from .view_focus import ViewFocus
from .window_layout import WindowLayout

log = logging.getLogger(__name__)

TOAST_MS = 8000
SETTINGS_DELAY_MS = 400  # the current frame is saved once stepping pauses
# Answers to "pre-labelling is running: close anyway?"
WAIT, DISCARD, CANCEL = "wait", "discard", "cancel"
UNATTENDED_PLATFORMS = ("offscreen", "minimal")  # nobody can see or answer a question there


def away_text(away: int, selected: int) -> str:
    """The status bar's line on selected cuboids outside the bird's-eye view."""
    return (f"{away} of the {selected} selected cuboids are outside the bird's-eye view "
            f"(Z centres the view on the first)")


def ask_close_while_prelabelling(parent: QWidget, done: int, total: int) -> str:
    """Ask (a modal message box) what to do with a running pre-label run when the window closes:
    :data:`WAIT` (store it when it ends, then close), :data:`DISCARD` (drop it and close now) or
    :data:`CANCEL` (do not close; also Esc and the title bar's close button)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Pre-labelling is running")
    box.setText("Pre-labelling this frame is still running." if total == 1 else
                f"Pre-labelling every frame is still running ({done} of {total} frames done).")
    box.setInformativeText("Your own edits are all saved. Wait for the pre-labels, store them and then "
                           "close, or close now without this run's pre-labels?")
    wait = box.addButton("Wait, then close", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Discard run and close", QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(wait)
    box.setEscapeButton(cancel)
    box.exec()
    take_activation_back(parent)   # the window stays open on two answers: its keys must work then
    return {id(wait): WAIT, id(discard): DISCARD}.get(id(box.clickedButton()), CANCEL)


def ask_step_removal(parent: QWidget, kind: str, description: str, removes: str) -> bool:
    """Ask (a modal message box) whether to undo or redo (``kind``) step ``description``, which
    removes ``removes`` (:meth:`~fusionlabel.model.removal.Removal.text`). True to go ahead;
    Cancel, the default, and Esc keep the step where it is."""
    other = "Redo (Ctrl+Shift+Z)" if kind == "undo" else "Undo (Ctrl+Z)"
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(f"{kind.capitalize()} removes cuboids in several frames")
    box.setText(f"{kind.capitalize()} “{description}”?")
    box.setInformativeText(f"It removes {removes}. {other} brings them back, but only until your next edit.")
    go = box.addButton(kind.capitalize(), QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.exec()
    take_activation_back(parent)
    return box.clickedButton() is go


class MainWindow(QMainWindow):
    """Shows one :class:`Session`. ``frame_shown(index)`` fires once every view has the frame."""

    frame_shown = pyqtSignal(int)

    def __init__(self, session: Session, use_gl: bool | None = None, loader: FrameLoader | None = None,
                 remember_layout: bool = False):
        super().__init__()
        # Whether the window's size and pane sizes are restored from, and saved to, the user's
        # settings (window_layout); off for tests, benchmarks and screenshots, which use the default.
        self.remember_layout = remember_layout
        self.session = session
        self.loader = loader or FrameLoader(session.drive, parent=self)
        self.loader.color_mode = session.color_mode
        self.loader.boxes_for = lambda i: [a.box for a in session.document.annotations(i)]
        self.loader.selected_for = lambda i: [a.box for a in (selected_in_frame(session.document, u, i)
                                                              for u in session.selection) if a is not None]
        self.loader.loaded.connect(self._on_loaded)
        self.loader.stacked.connect(self._on_stacked)
        self.actions_ = Actions(session, hooks=self)
        self.prelabel_runner = PrelabelRunner(session.drive, self)
        self.prelabel_runner.on_error = self._prelabel_failed
        self.prelabel_runner.on_warning = lambda text: self.session.notify(text, "warning")
        # A run that ends during a drag is stored once the drag has ended (and been applied).
        self.prelabel_runner.hold_while = self.dragging
        self.motion_runner = MotionRunner(session.drive, self)   # V's ego motion on a drive without poses
        self.motion_runner.on_error = lambda text: self.session.notify(text, "error")
        # What to do with a running pre-label run when the window closes (WAIT, DISCARD or CANCEL);
        # tests replace it, so no real modal dialog is needed to test closing.
        self.close_question = self._ask_close_while_prelabelling
        # Whether an undo or redo that removes many cuboids across frames goes ahead (kind,
        # description, what it removes -> bool); tests replace it like close_question.
        self.removal_question = self._ask_step_removal
        session.confirm_removal = lambda *step: self.removal_question(*step)
        self.close_after_prelabel = False  # the annotator chose WAIT: close once the run is stored
        self.unattended_close = False      # closing for a signal (Ctrl+C in the terminal): nobody to ask
        self.prelabel_discarded = False    # closing dropped a pre-label run that was still going
        self.displayed: FrameData | None = None
        self.frame_requested_at = time.perf_counter()
        self._said_at = 0.0   # when the status bar last got a message (perf_counter seconds)
        self.last_latency: float | None = None
        self._reported_errors: dict[tuple[int, str], None] = {}   # frame notes said, oldest first
        self._said_drive_gone = False   # the drive's files went away while open: said once (drive_gone)
        self._noted_away: frozenset | None = None  # the selected tracks last said to be out of view
        self._away_said: str | None = None  # that line in the status bar, while it may still be up
        self.unread_labels: QMessageBox | None = None   # the frames whose drive labels were not imported
        self._build(use_gl)
        self.cameras.loader = self.loader
        self._install_shortcuts()
        self._restore_view()
        session.subscribe(self._on_session)
        if not (remember_layout and self.window_layout.restore()):
            self.window_layout.apply_default()
        self.check_panel.hide()   # a saved layout may show it, empty until Ctrl+K fills it
        self._update_title()
        self._update_undo_actions()
        self.show_frame(session.frame)
        QTimer.singleShot(0, self._startup_messages)
        self._settings_timer.start()  # a frame chosen before the window existed (--frame)

    # ------------------------------------------------------------------ layout
    def _build(self, use_gl: bool | None) -> None:
        s = self.session
        self.bev = BevView(s)
        self.bev.raster_geometry_changed.connect(self.loader.set_bev_geometry)  # drawn ahead by the loader
        self.bev.raster_geometry_changed.connect(self._recount_away)  # zoomed, panned or resized
        self.side = SideViews(s)
        self.cameras = CameraPanel(s)
        self.timeline = Timeline(s)
        self.objects = ObjectList(s)
        self.objects_header = ObjectsHeader(s, self.objects)   # filter, count, hidden/locked classes
        self.attributes = AttributePanel(s)
        # Enter in the track field or the filter, and Esc in any field, give the keys back to the
        # view last worked in (the bird's-eye view first)
        self.view_focus = ViewFocus(self.bev, lambda w: isinstance(w, (BevView, SideView, CameraView)), self)
        self.attributes.track.returnPressed.connect(self.view_focus.give_back)
        self.objects_header.filter.returnPressed.connect(self.view_focus.give_back)
        if use_gl is None:
            from .qt_util import opengl_available

            use_gl = opengl_available()
        if use_gl:
            from .view3d import View3DPanel

            self.view3d_panel = View3DPanel(s)
            self.view3d = self.view3d_panel.view
        else:
            self.view3d_panel = None
            self.view3d = None
            placeholder = QLabel("3D view needs OpenGL, which this display does not provide")
            placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
            placeholder.setWordWrap(True)    # not as wide as its sentence: a narrow window fits
            placeholder.setStyleSheet("color: #aaa; background: #0e0e12")
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.view3d_panel if self.view3d_panel is not None else placeholder)
        right.addWidget(self.side)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.bev)
        top.addWidget(right)
        # The cameras in a dock under the views, which may float in a window of their own.
        self.camera_host = CameraHost(top, self.cameras)
        self.camera_dock = self.camera_host.dock
        self.cameras.enlarged_changed.connect(self._camera_enlarged)
        self.bev.one_click_requested.connect(self._one_click)
        if self.view3d is not None:
            self.view3d.one_click_requested.connect(self._one_click)
            self.view3d.point_budget_changed.connect(self.loader.set_gl_budget)  # thinned ahead by the loader
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.camera_host, 1)
        layout.addWidget(self.timeline)
        self.setCentralWidget(central)
        dock_body = QSplitter(Qt.Orientation.Vertical)
        dock_body.addWidget(self.objects)
        dock_body.addWidget(self.attributes)
        dock = self.objects_dock = QDockWidget("Objects", self)
        dock.setObjectName("objects")   # named, so that saveState/restoreState find it
        dock.setWidget(dock_body)
        dock.setTitleBarWidget(self.objects_header)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.check_panel = CheckPanel(s, self)   # hidden until Ctrl+K checks the labels
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.check_panel)
        rig = s.rig()
        self.window_layout = WindowLayout(self, {"top": top, "right": right, "dock": dock_body},
                                          [] if rig is None else [(c.camera.width, c.camera.height)
                                                                  for c in rig.cameras], dock, self.camera_host)
        for d in (dock, self.check_panel, self.camera_dock):   # their keys work while they float too
            d.installEventFilter(self)
        self.toast = QLabel(self)
        self.toast.setWordWrap(True)
        self.toast.hide()
        self._toast_timer = QTimer(self)
        self._toast_timer.setSingleShot(True)
        self._toast_timer.timeout.connect(self._hide_toast)
        self._toast_message: Message | None = None  # what the toast shows
        self.bev.installEventFilter(self)   # resized or moved (splitter, docks): the banner follows
        self._commands_run = 0     # key and menu commands run so far (_run_shortcut)
        self._toast_command = 0    # the one running, or run last, when the toast's message came
        self._settings_timer = QTimer(self)
        self._settings_timer.setSingleShot(True)
        self._settings_timer.setInterval(SETTINGS_DELAY_MS)
        self._settings_timer.timeout.connect(s.flush_settings)
        self.read_only_label = QLabel("READ-ONLY")
        self.read_only_label.setToolTip(s.read_only_reason or "another process has this project open")
        self.read_only_label.setStyleSheet("color: white; background: #b02020; padding: 1px 6px")
        self.statusBar().addPermanentWidget(self.read_only_label)
        self.read_only_label.setVisible(s.read_only)
        self.class_view_label = QLabel()   # hidden and locked classes, while there are any
        self.class_view_label.setStyleSheet("color: black; background: #f0b040; padding: 1px 6px")
        self.class_view_label.setToolTip("Classes menu, or right-click the object list, to show or unlock them")
        self.statusBar().addPermanentWidget(self.class_view_label)
        self._show_class_view()
        self.prelabel_status = PrelabelStatus(self.prelabel_runner)   # while Ctrl+Shift+P runs
        self.statusBar().addPermanentWidget(self.prelabel_status)
        self.prelabel_status.refresh()
        self.export = WindowExport(self)   # File > Export (Ctrl+E): its note while one runs
        self.statusBar().addPermanentWidget(self.export.note)
        self.export.note.refresh()
        self.help_overlay = HelpOverlay(s.ontology, self)
        self.help_overlay.closed.connect(self._sync_native_views)

    def _install_shortcuts(self) -> None:
        self.shortcut_actions: dict[str, QAction] = {}
        groups = ("File", "Frames", "Selection", "Edit", "Assist", "Classes", "View")
        menus = {name: self.menuBar().addMenu(name) for name in groups}
        for sc in list(SHORTCUTS) + class_shortcuts(self.session.ontology):
            action = QAction(sc.description, self)
            action.setShortcuts([QKeySequence(k) for k in sc.keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.setAutoRepeat(True)
            method = getattr(self.actions_, sc.action)
            action.triggered.connect(lambda _=False, m=method, a=sc.args: self._run_shortcut(m, a))
            menus[sc.group].addAction(action)
            self.shortcut_actions[f"{sc.action}{sc.args}"] = action
        self._class_menus(menus["Classes"])
        # Not in the key table (nothing to do): a habit answered, in the File menu with its usual key.
        self.save_action = QAction("Save (every edit is saved as you make it)", self)
        self.save_action.setShortcut(QKeySequence.StandardKey.Save)
        self.save_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.save_action.triggered.connect(lambda _=False: self._run_shortcut(self.actions_.save, ()))
        menus["File"].addAction(self.save_action)
        self.number_row = NumberRowKeys(self, self.shortcut_actions.values())   # AZERTY's & é " …: 1 2 3 …
        menus["View"].addSeparator()
        self.float_cameras_action = menus["View"].addAction("Cameras in their own window")
        self.float_cameras_action.setCheckable(True)
        self.float_cameras_action.toggled.connect(self.camera_host.set_floating)
        self.camera_dock.topLevelChanged.connect(self.float_cameras_action.setChecked)
        if not self.window_layout.has_cameras:
            self.float_cameras_action.setEnabled(False)
            self.float_cameras_action.setToolTip("the drive's rig has no cameras")
        self.reset_layout_action = menus["View"].addAction("Reset window layout", self.reset_layout)
        self.undo_action = self.shortcut_actions["undo()"]
        self.redo_action = self.shortcut_actions["redo()"]

    def _class_menus(self, menu) -> None:
        """Classes > Hide class / Lock class: one tick per class, and one entry to undo them all."""
        menu.addSeparator()
        self.class_flag_actions: dict[tuple[str, str], QAction] = {}
        s = self.session
        for kind, title, setter in (("hidden", "Hide class", s.set_class_hidden),
                                    ("locked", "Lock class", s.set_class_locked)):
            sub = menu.addMenu(title)
            for cls in s.ontology.classes:
                action = sub.addAction(cls)
                action.setCheckable(True)
                action.toggled.connect(lambda on, c=cls, f=setter: f(c, on))
                self.class_flag_actions[(kind, cls)] = action
        menu.addAction("Show and unlock every class", s.show_all_classes)
        self._sync_class_menus()

    def _sync_class_menus(self) -> None:
        view = self.session.class_view
        for (kind, cls), action in self.class_flag_actions.items():
            action.blockSignals(True)
            action.setChecked(cls in getattr(view, kind))
            action.blockSignals(False)

    def _show_class_view(self) -> None:
        text = self.session.class_view.summary()
        self.class_view_label.setText(text)
        self.class_view_label.setVisible(bool(text))

    def event(self, ev) -> bool:
        if ev.type() in (QEvent.Type.Show, QEvent.Type.WinIdChange) and hasattr(self, "number_row"):
            self.number_row.watch()   # on the native window, once there is one
        if ev.type() == QEvent.Type.ShortcutOverride and self._claim_key(ev, self):
            return True
        return super().event(ev)

    def eventFilter(self, dock, ev) -> bool:  # noqa: N802 - Qt API
        """A dock floating in a window of its own (the cameras, the object list, the label checks)
        is a native window of its own: its keys are read as the main window's are. The bird's-eye
        view resized or moved (the splitter dragged, a dock widened) places the banner again."""
        if dock is self.bev:
            if ev.type() in (QEvent.Type.Resize, QEvent.Type.Move):
                self._place_toast()
            return False
        if ev.type() in (QEvent.Type.Show, QEvent.Type.WinIdChange) and hasattr(self, "number_row"):
            if dock.isFloating():
                self.number_row.watch(dock)
        elif ev.type() == QEvent.Type.ShortcutOverride and dock.isFloating():
            return self._claim_key(ev, dock)
        return False

    def _claim_key(self, ev, window: QWidget) -> bool:
        """A key press goes first to the focused widget as a ShortcutOverride, and on up to its
        window (this one, or a dock floating) when the widget does not claim it. In a text field the
        keys one types or edits with stay in the field (input_widgets.owns_key), Tab too (ignored:
        focusNextPrevChild); Esc leaves the field for the view last worked in (:mod:`.view_focus`). A focused combo box keeps
        the keys that change its value. True when the focused widget keeps the key."""
        focus = QApplication.focusWidget()
        if focus is None or not window.isAncestorOf(focus):
            return False
        if ev.key() == Qt.Key.Key_Escape and is_text_input(focus):
            if hasattr(focus, "escape"):   # the object list's filter: Esc clears it
                focus.escape()
            self.view_focus.give_back()   # the view last worked in, raising its window from a floating dock
            ev.accept()
            return True
        if owns_key(focus, ev.key(), ev.modifiers()):
            ev.accept()
            return True
        return False

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: N802 - Qt API
        # Tab in a text field, a choice box or a tick box (claimed there by owns_key, so it selects
        # no cuboid) is ignored: the widget keeps the focus, as they take the focus by a click
        # only (input_widgets.holds_focus).
        if holds_focus(QApplication.focusWidget()):
            return True
        return super().focusNextPrevChild(next)

    def _run_shortcut(self, method, args) -> None:
        """Run a shortcut's action; while the help overlay is up, a key only closes it (as it says)."""
        self._commands_run += 1   # what it says replaces a warning an earlier command left (_show_message)
        if self.help_overlay.isVisible() and method != self.actions_.help:
            self.help_overlay.hide()
            self._sync_native_views()
            return
        method(*args)

    def _camera_enlarged(self, name) -> None:
        """An enlarged camera takes most of the window's height (docked); back to the layout after."""
        self.camera_host.enlarge(name is not None)

    # ------------------------------------------------------------------ frames
    def show_frame(self, index: int) -> None:
        """Ask for a frame; views switch to it when its data is ready (at once when prefetched)."""
        self.frame_requested_at = time.perf_counter()
        data = self.loader.request(index)
        if data is not None:
            self._display(data)
        else:
            self.statusBar().showMessage(f"loading frame {self.session.drive.frames[index].frame_id}…")

    def _on_loaded(self, index: int) -> None:
        if index == self.session.frame and (self.displayed is None or self.displayed.index != index):
            data = self.loader.get(index)
            if data is not None:
                self._display(data)

    def _display(self, data: FrameData) -> None:
        self.displayed = data
        if self._said_at < self.frame_requested_at:   # a message given while the frame loaded stays
            self.statusBar().clearMessage()
        self.bev.set_frame_data(data)
        self._place_toast()   # under the caption the frame gives the bird's-eye view
        self.side.set_frame_data(data)
        self.cameras.set_frame_data(data)
        self.objects.set_frame_data(data)
        if self.view3d is not None:
            self.view3d.set_frame_data(data)
        self._update_title()
        gone = gone_files(data.missing_files)   # the drive moved away: said once, not at every frame
        if gone and not self._said_drive_gone:
            self._said_drive_gone = True
            self.session.notify(drive_gone_text(next(iter(gone.values())), len(gone) - 1, self.session.drive.root,
                                                self.session.project.folder), "warning")
        summary = data.error_summary(gone)  # every other problem of the frame in one message, once per frame
        if summary is not None and (data.index, summary) not in self._reported_errors:
            self._reported_errors[(data.index, summary)] = None
            if len(self._reported_errors) > MESSAGES_KEPT:   # bounded like the session's messages
                del self._reported_errors[next(iter(self._reported_errors))]
            self.session.notify(summary, "warning", frame=data.index)
        self.last_latency = time.perf_counter() - self.frame_requested_at
        self._stack_shown_frame()
        self.frame_shown.emit(data.index)

    def _stack_shown_frame(self) -> None:
        """Have the loader stack the sweeps O asks for onto the frame shown, unless they are (the
        views draw them once :meth:`_on_stacked` says they are ready; until then, the frame alone)."""
        data, k = self.displayed, self.session.sweeps
        if data is not None and k and not data.has_stacked(k):
            self.loader.request_stack(data, k)

    def _on_stacked(self, index: int, k: int) -> None:
        """The loader stacked ``k`` sweeps onto frame ``index``: the views draw them, if that is
        still the frame shown with that many sweeps (else the ones asked for now are stacked)."""
        data = self.displayed
        if data is None or data.index != index:
            return
        if not data.has_stacked(self.session.sweeps):
            self._stack_shown_frame()
            return
        self.bev.update()
        if self.view3d is not None:
            self.view3d.update_stacked()
        self._place_toast()   # the caption's sweeps line changed

    def screenshot(self):
        """The whole window as a QPixmap, the native 3D view included (QWidget.grab misses it)."""
        from PyQt6.QtGui import QPainter

        pixmap = self.grab()
        if self.view3d_panel is not None and self.view3d.isVisible():
            p = QPainter(pixmap)
            p.drawImage(self.view3d_panel.offset_in(self), self.view3d_panel.grab_image())
            p.end()
        return pixmap

    def frame_views(self) -> list[QWidget]:
        """Every widget that draws the displayed frame; each records the frame it last painted in
        ``painted_frame`` (benchmarks wait for all of them)."""
        views = [self.bev, *self.side.views.values(), *self.cameras.views.values(), self.objects, self.timeline.strip]
        return views + ([self.view3d] if self.view3d is not None else [])

    # ------------------------------------------------------------------ session events
    def _on_session(self, kind, payload) -> None:
        if kind == "frame":
            if self._toast_message is not None and self._toast_message.frame not in (None, payload):
                self._hide_toast()  # a note about another frame
            restart_views(self.bev, self.view3d, self.session.drive, [a.box for a in self.session.annotations(payload)])
            self.show_frame(payload)
            self._update_title()
            self._settings_timer.start()
        elif kind == "document":
            self._update_undo_actions()
        elif kind == "selection":
            self._follow_selection(payload)
            self.loader.reselect(self.session.frame)   # the crops around it in the frames prefetched
        elif kind == "message":
            self._show_message(payload)
        elif kind == "layers" and payload == "color_mode":
            self.loader.color_mode = self.session.color_mode
        elif kind == "layers" and payload == "sweeps":
            self._stack_shown_frame()
        if kind in ("layers", "tool"):   # the bird's-eye caption may have grown or shrunk
            self._place_toast()
        if kind == "layers" and payload == "classes":
            self._sync_class_menus()
            self._show_class_view()

    def _follow_selection(self, uids) -> None:
        """Keep a new selection in sight however it was made (Tab, the object list, a camera or
        the 3D view, ] or [, an undo, a frame step the selection followed): the bird's-eye view pans to it
        when it shows none of its centres (not for a click in the view itself, which may be starting
        a drag), the 3D view too. Selected cuboids still out of the bird's-eye view are counted in
        the status bar, once for the tracks selected (not again at every frame they follow into)."""
        doc = self.session.document
        anns = [doc.get(u) for u in uids if u in doc]
        if not anns:
            self._noted_away = None
            return
        centers = np.array([a.box.center for a in anns], float)
        if self.view3d is not None:
            self.view3d.follow(centers)
        if self.bev.picking:
            return
        away = self.bev.follow(centers[:, :2])
        tracks = frozenset(a.track_id or a.uid for a in anns)
        if away and tracks != self._noted_away:
            self.session.notify(away_text(away, len(anns)))
            self._away_said = away_text(away, len(anns))
        self._noted_away = tracks if away else None

    def _recount_away(self, _geometry=None) -> None:
        """The bird's-eye view moved (zoom, pan, resize): the status bar's count of selected cuboids
        outside it is updated while it is up, and goes once they are all in view."""
        said = self._away_said
        if said is None or self.statusBar().currentMessage() != said:
            self._away_said = None
            return
        doc = self.session.document
        centers = np.array([doc.get(u).box.center[:2] for u in self.session.selection if u in doc], float)
        away = int((~self.bev.shows(centers.reshape(-1, 2))).sum())
        text = away_text(away, len(centers)) if away else None
        if text == said:
            return
        if text is None:
            self.statusBar().clearMessage()
        else:
            left_ms = TOAST_MS - int(1000 * (time.perf_counter() - self._said_at))
            self.statusBar().showMessage(text, max(left_ms, 1))
        self._away_said = text

    def _update_title(self) -> None:
        s = self.session
        frame = s.drive.frames[s.frame]
        ro = "  [READ-ONLY]" if s.read_only else ""
        self.setWindowTitle(f"fusionlabel — {s.drive.name} — frame {frame.frame_id} ({s.frame + 1}/{s.n_frames}){ro}")

    def _update_undo_actions(self) -> None:
        doc = self.session.document
        self.undo_action.setText(f"Undo {doc.undo_text()}" if doc.can_undo else "Undo")
        self.redo_action.setText(f"Redo {doc.redo_text()}" if doc.can_redo else "Redo")

    def _show_message(self, msg: Message) -> None:
        """Info in the status bar; warnings and errors also in a toast above the views. A note about
        a frame (its sweep or images did not load) goes to the toast only and leaves with its frame.
        Info said once a later key or menu command has run takes down the toast of an earlier one's
        warning (what it warned of is no longer the news); a warning and info of the same command
        both stay, the warning in the toast."""
        if msg.frame is None:
            self.statusBar().showMessage(msg.text.replace("\n", "; "), TOAST_MS)
            self._said_at = time.perf_counter()
        if msg.level == "info":
            shown = self._toast_message
            if msg.frame is None and shown is not None and shown.frame is None \
                    and self._toast_command < self._commands_run:
                self._hide_toast()
            return
        self._toast_message = msg
        self._toast_command = self._commands_run
        color = "#b02020" if msg.level == "error" else "#a06010"
        self.toast.setStyleSheet(f"color: white; background: {color}; padding: 6px; border-radius: 4px")
        self.toast.setText(msg.text)
        self.toast.show()
        self.toast.raise_()
        self._place_toast()
        self._toast_timer.start(TOAST_MS)

    def _place_toast(self) -> None:
        """Put the banner where it goes now (the views' sizes and the bird's-eye caption change)."""
        if self.toast.isHidden():
            self._show_toast_cover()
            return
        # Over the bird's-eye view, under its caption (READ-ONLY ...): the 3D view is a native
        # window that would hide it.
        origin = self.bev.mapTo(self, QPoint(0, 0))
        if self.bev.isVisible():   # a narrow one too (a small window): wrapped, not under the 3D view
            width = min(900, self.bev.width() - (40 if self.bev.width() >= 360 else 16))
            x = origin.x() + (self.bev.width() - width) // 2
            y = origin.y() + max(24, math.ceil(self.bev.caption_height()) + 4)
        else:
            width = min(900, self.width() - 40)
            x, y = (self.width() - width) // 2, 40
        self.toast.setFixedWidth(width)
        self.toast.adjustSize()
        self.toast.move(x, y)
        self._show_toast_cover()

    def _show_toast_cover(self) -> None:
        """Tell the bird's-eye view which part of it the banner hides (its labels move clear)."""
        if self.toast.isHidden():
            self.bev.set_covered(None)
            return
        top_left = self.bev.mapFrom(self, self.toast.pos())
        self.bev.set_covered((top_left.x(), top_left.y(), self.toast.width(), self.toast.height()))

    def _hide_toast(self) -> None:
        self._toast_timer.stop()
        self.toast.hide()
        self._toast_message = None
        self.bev.set_covered(None)

    def _startup_messages(self) -> None:
        msgs = list(self.session.startup_messages)
        if msgs:  # one toast for them all (the read-only reason, a broken ontology, skipped labels …)
            if self._toast_message is not None and self.toast.isVisible():
                msgs.append(self._toast_message)  # a note about the first frame, shown before
            level = "error" if any(m.level == "error" for m in msgs) else "warning"
            self._show_message(Message("\n".join(m.text for m in msgs), level))
        report = getattr(self.session.project, "import_report", None)   # this first open imported labels
        if report is not None and report.bad_frames:
            self.show_unread_labels(report.unread_frames(self.session.drive))
        doc, drive = self.session.document, self.session.drive
        if len(doc) == 0 and not doc.can_undo and any(f.labels_source is not None for f in drive.frames):
            self.statusBar().showMessage("this drive comes with labels: Ctrl+I imports them", 15000)

    # ------------------------------------------------------------------ hooks for Actions
    def create_position(self):
        return self.bev.create_position()

    def frame_points(self) -> np.ndarray | None:
        return None if self.displayed is None else self.displayed.points

    def focus_selection(self) -> None:
        anns = self.session.selected_annotations()
        if not anns:
            self.session.notify("nothing selected")
            return
        box = anns[0].box
        self.bev.focus_on(box.center, max(box.length, box.width, 4.0))
        if self.view3d is not None:
            self.view3d.focus_on(box.center)

    def list_order(self) -> list[str] | None:
        """The object list's rows as shown, or None while it still shows another frame."""
        data = self.objects.data
        return self.objects.shown_uids if data is not None and data.index == self.session.frame else None

    def list_sort(self) -> tuple[str, bool] | None:
        """The object list's sort (column, descending), or None for the frame's own order."""
        lst = self.objects
        return None if lst.sort_column is None else (lst.sort_column, lst.sort_descending)

    def in_view(self, centers_xy: np.ndarray) -> np.ndarray:
        """(N,) whether the bird's-eye view shows each LiDAR xy (N, 2)."""
        return self.bev.shows(centers_xy)

    def list_filter(self) -> str:
        return self.objects.filter_text

    def focus_filter(self) -> None:
        self.objects_header.filter.setFocus()
        self.objects_header.filter.selectAll()

    def fit_cameras(self) -> None:
        self.cameras.reset_zoom()

    def zoom_cameras_to_selection(self) -> int:
        return self.cameras.zoom_to_selection()

    def start_prelabel(self, detector, frames, done, min_score=None, quick=False) -> None:
        """Pre-label ``frames`` in the background (progress dialog; ``quick``: one frame, said in the
        status bar only); ``done`` stores the result (:meth:`PrelabelRunner.start`)."""
        def store(*result) -> None:
            done(*result)
            if self.close_after_prelabel:  # the annotator asked to close once this run was stored
                QTimer.singleShot(0, self.close)

        if not self.prelabel_runner.start(detector, frames, store, min_score, quick=quick):
            self.session.notify("pre-labelling is already running")

    def start_ego_motion(self, pairs, done) -> bool:
        """Estimate the ego's motion of the frame pairs on a worker thread, then ``done()`` here
        (:class:`MotionRunner`); False while one runs."""
        return self.motion_runner.start(pairs, done)

    def start_export(self) -> None:
        self.export.open_dialog()

    def show_unread_labels(self, frames: list[tuple[str, str]]) -> None:
        """Name the frames (ID, error) whose drive label file an import could not read, in a box
        that stays until closed and leaves the keys to the window (:mod:`.unread_labels`)."""
        if self.unread_labels is not None:
            self.unread_labels.close()
        self.unread_labels = show_unread_labels(self, frames)

    def start_label_check(self) -> None:
        """Check the labels in the background; the findings fill the label-check list."""
        if not self.check_panel.start():
            self.session.notify("the labels are being checked already")

    def _prelabel_failed(self, text: str) -> None:
        if self.close_after_prelabel:  # nothing will be stored: stay open and say so
            self.close_after_prelabel = False
            text += "; the window stays open"
        self.session.notify(text, "error")

    def _ask_close_while_prelabelling(self) -> str:
        if QGuiApplication.platformName() in UNATTENDED_PLATFORMS:
            log.warning("closing while pre-labelling: nobody to ask on the %s platform, so the run is "
                        "discarded (edits are all saved)", QGuiApplication.platformName())
            return DISCARD
        return ask_close_while_prelabelling(self, *self.prelabel_runner.progress())

    def _ask_step_removal(self, kind: str, description: str, removes: str) -> bool:
        if QGuiApplication.platformName() in UNATTENDED_PLATFORMS:
            log.warning("%s %s removes %s: nobody to ask on the %s platform, so it goes ahead",
                        kind, description, removes, QGuiApplication.platformName())
            return True
        return ask_step_removal(self, kind, description, removes)

    def _one_click(self, x: float, y: float, z: float) -> None:
        seed = (x, y) if math.isnan(z) else (x, y, z)  # NaN z: a bird's-eye click
        self.actions_.one_click(seed)

    def toggle_help(self) -> None:
        self.help_overlay.toggle()
        self._sync_native_views()

    def _sync_native_views(self) -> None:
        """The 3D view is a native window, always above other widgets: hide it under the overlay."""
        if self.view3d is not None:
            self.view3d.setVisible(not self.help_overlay.isVisible())

    def dragging(self) -> bool:
        """A cuboid is being drawn or dragged with the mouse (bird's-eye or side views)."""
        return self.bev.dragging() or self.side.dragging()

    def cancel_drag(self) -> bool:
        if self.help_overlay.isVisible():
            self.help_overlay.hide()
            self._sync_native_views()
            return True
        return self.bev.cancel_drag() or self.side.cancel_drag()

    # ------------------------------------------------------------------ settings and closing
    def _restore_view(self) -> None:
        """The bird's-eye view where it was when the project was last closed; the first time, on
        the labels of the frame it opens on when they are all ahead (:mod:`.bev_start`), and so
        when it opens on another frame than it was closed on and the frames are unrelated scenes
        (:func:`.unrelated_frames.saved_view_applies`)."""
        view = self.session.setting("view", {})
        view = view if isinstance(view, dict) else {}
        if not view or not saved_view_applies(self.session.drive, view.get("frame"), self.session.frame):
            view = {}
            self.bev.start_on([a.box for a in self.session.annotations()])
            if self.view3d is not None:
                self.view3d.start_on([a.box for a in self.session.annotations()])
        if view:
            c, sc = view.get("bev_center"), view.get("bev_scale")
            if isinstance(c, list) and len(c) == 2 and all(isinstance(v, (int, float)) for v in c):
                self.bev.center = np.array(c, float)
            if isinstance(sc, (int, float)) and 0.5 <= sc <= 400:
                self.bev.scale = float(sc)

    def resizeEvent(self, ev) -> None:  # noqa: N802
        super().resizeEvent(ev)
        self._place_toast()
        if self.help_overlay.isVisible():
            self.help_overlay.setGeometry(self.rect())

    def reset_layout(self) -> None:
        """View > Reset window layout: the default size and pane sizes (a camera enlarged by a
        double-click goes back first); the saved layout is forgotten."""
        if self.cameras.enlarged is not None:
            self.cameras.toggle_enlarged(self.cameras.enlarged)
        if self.remember_layout:
            self.window_layout.reset()
        else:
            self.window_layout.apply_default()
        self.session.notify("window layout reset to the default")

    def closeEvent(self, ev) -> None:  # noqa: N802
        if not self._may_close():
            ev.ignore()
            return
        if self.remember_layout:
            if self.cameras.enlarged is not None:   # kept as before a camera was enlarged by a double-click
                self.cameras.toggle_enlarged(self.cameras.enlarged)
            self.window_layout.save()
        self.session.save_setting("view", {"bev_center": [float(v) for v in self.bev.center],
                                           "bev_scale": float(self.bev.scale), "frame": self.session.frame})
        self.session.flush_settings()
        self.prelabel_runner.shutdown()
        self.motion_runner.shutdown()
        self.check_panel.runner.shutdown()
        self.export.shutdown()
        self.loader.close()
        super().closeEvent(ev)

    def close_unattended(self) -> None:
        """Close as the close button does, but without asking anything: the app was stopped from
        outside (Ctrl+C in its terminal, SIGTERM, SIGHUP) and nobody may be there to answer. A
        pre-label run still going is discarded (:attr:`prelabel_discarded`); every edit is saved
        already. A modal question on screen is dismissed first (as Esc would) and the window closes
        once its event loop has returned."""
        self.unattended_close = True
        modal = QApplication.activeModalWidget()
        if modal is not None and modal is not self:
            modal.close()
            QTimer.singleShot(0, self.close)
            return
        self.close()

    def _may_close(self) -> bool:
        """While Ctrl+Shift+P runs, ask (:attr:`close_question`): wait for it, store it and close
        then (False now); discard it and close (True); or stay open (False). Every edit is saved
        already, whatever the answer; a result that arrives during the question waits for it."""
        runner = self.prelabel_runner
        if not runner.busy:
            return True
        with runner.holding():
            answer = DISCARD if self.unattended_close else self.close_question()
            if answer == DISCARD:
                runner.shutdown()
                self.close_after_prelabel = False
                self.prelabel_discarded = True
                self.session.notify("closing: this pre-label run was discarded (your edits are saved)")
                return True
        # Leaving holding() stored a result that came in meanwhile: then WAIT closes now.
        if answer == WAIT and not runner.busy:
            return True
        self.close_after_prelabel = answer == WAIT
        if answer == WAIT:
            runner.set_note(" — the window closes when it is done")
            self.session.notify("the window closes once the pre-labels are stored" + (
                "" if runner.quick else " (Cancel in the progress dialog stops after the current frame and "
                                        "keeps the frames done)"))
        else:
            runner.set_note("")
        return False
