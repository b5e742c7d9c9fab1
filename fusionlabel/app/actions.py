"""Keyboard actions: each key becomes one call into :mod:`fusionlabel.model.edit_actions` (one
command, applied through the session) or a session change. Qt-free; the shortcut table in
:mod:`fusionlabel.app.shortcuts` names these methods.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ..model import edit_actions
from ..model.drive import has_ego_poses
from ..model.frame_status import finished_frames, reopened_note
from .bev_filter import LOWEST_CUT, step_cut
from .assist_actions import AssistActions
from .delete_actions import delete_selection, delete_tracks_from_here
from .key_edit_text import flip_text, move_text, size_text, turn_text
from .retype_confirm import RetypeConfirm, cancelled_text, plan_retype, say_done
from .session import COLOR_MODES, Session
from .sweep_stack import MAX_SWEEPS
from .tab_order import TabCycle, spatial_order
from .track_actions import TrackActions, frame_namer, retype, track_neighbour
from .unrelated_frames import copy_note

GROUND_RADII = (3.0, 8.0, 20.0)  # metres searched, in turn, for the ground under a new cuboid
DEFAULT_GROUND_Z = -1.7  # LiDAR-frame ground height when there are no points at all
# Said after a drag changed a pre-label: it is kept as edited, but I goes through accepted boxes only.
DRAGGED_PRELABEL = ": still a pre-label (I and Ctrl+P keep it as you left it; Y makes it a keyframe for I)"


class ViewHooks(Protocol):
    """What the actions need from the window (every hook optional)."""

    def create_position(self) -> tuple[float, float] | None: ...
    def focus_selection(self) -> None: ...
    def fit_cameras(self) -> None: ...
    def zoom_cameras_to_selection(self) -> int: ...
    def toggle_help(self) -> None: ...
    def frame_points(self) -> np.ndarray | None: ...
    def cancel_drag(self) -> bool: ...
    def start_prelabel(self, detector, frames: list[int], done, min_score: float | None = None,
                       quick: bool = False) -> None: ...
    def start_label_check(self) -> None: ...
    def show_unread_labels(self, frames: list[tuple[str, str]]) -> None: ...
    def start_ego_motion(self, pairs: list[tuple[int, int]], done) -> bool: ...
    def list_order(self) -> list[str]: ...
    def list_sort(self) -> tuple[str, bool] | None: ...
    def list_filter(self) -> str: ...
    def in_view(self, centers_xy: np.ndarray) -> np.ndarray: ...
    def focus_filter(self) -> None: ...


def ground_below(points: np.ndarray | None, xy) -> float:
    """Ground height under ``xy`` from the sweep (N, 3+), searching wider until points are found."""
    if points is not None and len(points):
        for r in GROUND_RADII:
            z = edit_actions.estimate_ground_z(points, xy, radius=r)
            if z is not None:
                return z
    return DEFAULT_GROUND_Z


def create_command(session: Session, xy, yaw: float, points: np.ndarray | None):
    """The CreateCuboid for a new cuboid of the current class centred at ``xy`` with ``yaw``,
    standing on the ground found in ``points`` (its box is also the drag preview)."""
    return edit_actions.create_at(session.document, session.frame, (float(xy[0]), float(xy[1])),
                                  session.current_class, yaw, ground_below(points, xy))


class Actions(AssistActions, TrackActions):
    def __init__(self, session: Session, hooks: ViewHooks | None = None):
        self.s = session
        self.hooks = hooks
        self.tab_cycle = TabCycle()  # the order Tab walks, kept while the frame's cuboids stay
        self.retype_confirm = RetypeConfirm(lambda: session.clock())  # a class key on several tracks, asking again
        self._key_run: tuple = (None, 0)  # the last edit key and its presses in a row (what the status bar says)

    def _hook(self, name, *args, default=None):
        fn = getattr(self.hooks, name, None) if self.hooks is not None else None
        return fn(*args) if fn is not None else default

    def _selection(self) -> tuple[str, ...] | None:
        if not self.s.selection:
            self.s.notify("select a cuboid first (click it, or Tab)")
            return None
        return self.s.selection

    def _edit(self, make, merge: str | None = None, say=None, key=None) -> None:
        """Apply the command built by ``make(doc, selection)`` for a non-empty selection; ``merge``
        joins a run of the same key edit into one undo step (:meth:`Session.apply`); ``say(presses,
        boxes)`` gives what the status bar then says of the presses of the same ``key`` in a row
        within that step (:meth:`Session.say_key_edit`)."""
        sel = self._selection()
        if sel:
            bound = self.s.apply(make(self.s.document, sel), merge=merge)
            if bound is None or say is None:
                return
            repeat = key is not None and self.s.run_steps > 1 and key == self._key_run[0]
            self._key_run = (key, self._key_run[1] + 1 if repeat else 1)
            self.s.say_key_edit(say(self._key_run[1], len(sel)), repeat)

    # ------------------------------------------------------------ frames
    def next_frame(self):
        self.step_frames(1)

    def previous_frame(self):
        self.step_frames(-1)

    def step_frames(self, n: int):
        """``n`` frames on (back when negative), stopping at the ends; at an end it says so."""
        if not 0 <= self.s.frame + (1 if n > 0 else -1) < self.s.n_frames:
            self.s.notify("this is the last frame" if n > 0 else "this is the first frame")
        self.s.set_frame(self.s.frame + n)

    def first_frame(self):
        self.s.set_frame(0)

    def last_frame(self):
        self.s.set_frame(self.s.n_frames - 1)

    def jump_track(self, direction: int):
        """] / [: the selected cuboid's track in its next / previous frame; with nothing selected,
        the track H just marked absent (:attr:`Session.marked_tracks`), from the frame shown."""
        marked = [] if self.s.selection else self.s.followed_tracks()
        sel = () if marked else self._selection()
        if not (sel or marked):
            return
        doc = self.s.document
        if marked:
            track = marked[0]
            ann = track_neighbour(doc, track, self.s.frame, direction)
        else:
            track = doc.get(sel[0]).track_id
            ann = edit_actions.jump_to_track(doc, sel[0], direction)
        if ann is None:
            self.s.notify(f"track {track} has no {'later' if direction > 0 else 'earlier'} frame")
            return
        self.s.set_frame(ann.frame)
        self.s.select((ann.uid,))

    def set_frame_status(self, status: str):
        """Ctrl+Return / Ctrl+Shift+Return: this frame is done / reviewed (said in the status bar)."""
        s = self.s
        bound = s.apply(edit_actions.set_frame_status(s.document, s.frame, status, frame_namer(s)))
        waiting = edit_actions.unaccepted_note(s.document, s.frame) if status in ("done", "reviewed") else ""
        if bound is not None:
            s.notify(bound.description + waiting)
        elif s.document.frame_status(s.frame) == status:
            s.notify(f"frame {s.drive.frames[s.frame].frame_id} is {status.replace('_', ' ')} already{waiting}")

    # ------------------------------------------------------------ selection
    def listed(self) -> list[str]:
        """The cuboids of the frame in the object list's order (sorted, filtered; none of a hidden
        class); without a list, the frame's cuboids in creation order."""
        order = self._hook("list_order")
        if order is None:
            order = [a.uid for a in self.s.annotations() if not self.s.is_hidden(a)]
        return order

    def cycle_selection(self, step: int):
        """Tab / Shift+Tab: the next / previous cuboid of the object list (filtered, no hidden
        class). While the list shows the frame's own order, nearest first: those whose centre the
        bird's-eye view shows, then the others (:func:`.tab_order.spatial_order`); in a list the
        annotator sorted, the list's order. The order is the one of the frame's first Tab, kept
        while the annotator edits (:class:`.tab_order.TabCycle`)."""
        listed = self.listed()
        if not listed:
            hidden = self.s.class_view.summary()
            self.s.notify("no cuboid in the object list" + self._filter_note() + (f" ({hidden})" if hidden else ""))
            return
        sort = self._hook("list_sort")
        order = self.tab_cycle.order((self.s.frame, sort), listed, self.s.selection,
                                     self._nearest_first if sort is None else list)
        self.s.select(edit_actions.cycle_uids(order, self.s.selection, step))

    def _nearest_first(self, uids: list[str]) -> list[str]:
        """``uids`` in the spatial Tab order, the view as the window shows it now (without a
        window, every cuboid counts as in view)."""
        doc = self.s.document
        centers = np.array([doc.get(u).box.center[:2] for u in uids], float).reshape(-1, 2)
        in_view = self._hook("in_view", centers, default=None)
        return spatial_order(uids, centers, np.ones(len(uids), bool) if in_view is None else in_view)

    def select_all(self):
        """Ctrl+A: every cuboid the object list shows (so with a filter, the ones it matches)."""
        order = self.listed()
        self.s.select(order)
        note = self._filter_note()
        if note:
            self.s.notify(f"selected {len(order)} cuboids{note}")

    def _filter_note(self) -> str:
        text = self._hook("list_filter", default="")
        return f" (the list's filter {text!r}: Esc in the filter clears it)" if text else ""

    def focus_filter(self):
        self._hook("focus_filter")

    def clear_selection(self):
        if self._hook("cancel_drag", default=False):
            return
        if self.s.tool is not None:
            self.s.set_tool(None)
            self.s.notify("cancelled")
            return
        if self.cancel_join() or self.cancel_retype():
            return
        self.s.select(())
        self.s.set_marked_tracks(())

    # ------------------------------------------------------------ edits
    def create(self, xy=None):
        """A cuboid of the current class at ``xy`` (default: the mouse in the BEV), on the ground,
        heading along the vehicle's forward (up in the bird's-eye view)."""
        xy = xy if xy is not None else self._hook("create_position")
        if xy is None:
            self.s.notify("point at the bird's-eye view to place the new cuboid")
            return
        self.apply_create(create_command(self.s, xy, self.s.forward_yaw(), self._hook("frame_points")))

    def apply_create(self, cmd):
        """Create the cuboid (N, or a drag in the bird's-eye view), select it and say what it is:
        "Create car: track 12, 4.50 × 1.90 × 1.60 m"."""
        bound = self.s.apply(cmd)
        if bound is not None:
            self.s.select((bound.uid,))
            b = bound.label.box
            self.s.notify(f"{bound.description}: track {bound.label.track_id}, "
                          f"{b.length:.2f} × {b.width:.2f} × {b.height:.2f} m")
        return bound

    def apply_drag(self, cmd):
        """The end of a mouse drag that moved, resized or turned a cuboid: apply ``cmd`` and say
        what changed ("Move track 12"); on a pre-label, that it stays one, kept by I and Ctrl+P
        but no keyframe for I until accepted."""
        bound = self.s.apply(cmd)
        ann = self.s.document.get(bound.uid) if bound is not None and bound.uid in self.s.document else None
        if ann is not None:
            text = bound.description if ann.track_id is None else f"{bound.description} track {ann.track_id}"
            self.s.notify(text + (DRAGGED_PRELABEL if ann.source == "model" else ""))
        return bound

    def delete(self):
        if self._selection():
            delete_selection(self.s)

    def delete_track_from_here(self):
        if self._selection():
            delete_tracks_from_here(self.s)

    def set_class(self, cls: str):
        """Retype the selected cuboids' whole tracks (:func:`.track_actions.retype`) and make ``cls``
        the class of new cuboids; a retype refused by a lock changes neither. A retype of several
        tracks that reaches other frames than the one shown waits for the same key again
        (:mod:`.retype_confirm`), and then says how many boxes in how many frames changed."""
        if self.s.selection:
            plan = plan_retype(self.s, cls)
            reach = plan.reach
            if plan.asks and not self.retype_confirm.confirmed(reach, self.s.selection, self.s.frame):
                self.s.notify(self.retype_confirm.ask_text(reach, self.s.ontology.classes[cls].key))
                return
            self.retype_confirm.cancel()
            before = self.s.current_class
            if not plan.locked:
                self.s.set_current_class(cls)
            bound = retype(self.s, cls, plan.cmd, say_done(reach))
            if bound is not None and self.s.current_class == cls:
                self.s.tie_class_to_last_step(before, cls)   # Ctrl+Z gives the class for new cuboids back
        else:
            self.s.set_current_class(cls)
            self.s.notify(f"new cuboids will be {cls}")

    def cancel_retype(self) -> bool:
        """Esc after a class key that waits for its second press: nothing is retyped; True when
        one was waiting."""
        reach = self.retype_confirm.cancel()
        if reach is None:
            return False
        self.s.notify(cancelled_text(reach))
        return True

    def rotate(self, degrees: float):
        self._edit(lambda doc, sel: edit_actions.rotate(doc, sel, degrees), merge="Rotate",
                   say=lambda n, boxes: turn_text(n * degrees, boxes), key=("rotate", degrees))

    def flip(self):
        self._edit(edit_actions.flip_heading, say=lambda n, boxes: flip_text(boxes))

    def nudge(self, axis: int, step: float):
        d = [0.0, 0.0, 0.0]
        d[axis] = step
        self._edit(lambda doc, sel: edit_actions.nudge(doc, sel, *d), merge="Nudge",
                   say=lambda n, boxes: move_text(axis, n * step, boxes), key=("nudge", axis, step))

    def grow(self, axis: int, step: float):
        d = [0.0, 0.0, 0.0]
        d[axis] = step
        self._edit(lambda doc, sel: edit_actions.resize(doc, sel, *d), merge="Resize",
                   say=lambda n, boxes: size_text(axis, self._first_size(axis), n * step, boxes), key=("grow", axis, step))

    def _first_size(self, axis: int) -> float:
        """The first selected cuboid's length, width or height (``axis`` 0, 1, 2), in metres."""
        return float(self.s.document.get(self.s.selection[0]).box.size[axis])

    def copy_to_next_frame(self):
        sel = self._selection()
        if sel:
            self._copy(edit_actions.copy_to_next_frame(self.s.document, sel, self.s.frame, self.s.drive,
                                                       frame_namer(self.s)))

    def copy_all_to_next_frame(self):
        self._copy(edit_actions.copy_all_to_next_frame(self.s.document, self.s.frame, self.s.drive,
                                                       frame_namer(self.s)))

    def _copy(self, cmd):
        if self.s.frame + 1 >= self.s.n_frames:
            self.s.notify("this is the last frame")
        elif cmd is None:
            self.s.notify("nothing to copy: no cuboids, or their tracks are already in the next frame (or marked "
                          "absent there: H)")
        else:
            bound = self.s.apply(cmd)
            if bound is not None:
                self.s.notify(bound.description + copy_note(self.s.drive, self.s.frame + 1))

    def accept_prelabel(self):
        sel = self._selection()
        if not sel:
            return
        cmd = edit_actions.accept_prelabels(self.s.document, sel)
        if cmd is None:
            imported = any(a.source == "import" for a in self.s.selected_annotations())
            self.s.notify("imported cuboids are ground truth already (keyframes for I): nothing to accept"
                          if imported else "the selection holds no pre-labels")
            return
        bound = self.s.apply(cmd)
        if bound is not None:
            self.s.notify(bound.description)

    def accept_track_prelabels(self):
        """Ctrl+Shift+Y: the selected tracks' pre-labels in every frame become human work."""
        sel = self._selection()
        if not sel:
            return
        cmd = edit_actions.accept_track_prelabels(self.s.document, sel, frame_namer(self.s))
        if cmd is None:
            self.s.notify("the selected tracks hold no pre-labels in any frame: nothing to accept")
            return
        bound = self.s.apply(cmd)
        if bound is not None:
            self.s.notify(bound.description)

    def save(self):
        """Ctrl+S: there is nothing to save, since every edit is written to the project when it is
        made; the message says so, where, and what the last edit was, so the habit is answered."""
        s = self.s
        if s.read_only:
            why = s.read_only_reason or "another process has the project"
            other = "window" if s.held_here else "process"
            s.notify(f"nothing to save: this window is read-only ({why}), so it makes no edits; the project "
                     f"on disk is as the other {other} saved it", "warning")
            return
        doc = s.document
        last = f" (the last: {doc.undo_text()})" if doc.can_undo else ""
        s.notify(f"nothing to save: every edit is saved in {s.project.folder} as you make it{last}")

    def export(self):
        """File > Export: the window asks how and exports the project in the background
        (:mod:`.export_action`); without one, the message says the command that does it."""
        start = getattr(self.hooks, "start_export", None) if self.hooks is not None else None
        if start is not None:
            start()
            return
        self.s.notify("export with: fusionlabel export PROJECT --format kitti --out FOLDER")

    def check_labels(self):
        """Run the label checks of `fusionlabel check` on the project's labels; the window runs them
        in the background and lists the findings (choosing one goes to it); without one, the
        message counts them."""
        start = getattr(self.hooks, "start_label_check", None) if self.hooks is not None else None
        if start is not None:
            start()
            return
        from ..wording import counted
        from .label_findings import labels_to_check, run_checks

        report = run_checks(self.s.drive, *labels_to_check(self.s))
        self.s.notify(f"label check: {counted(len(report.findings), 'finding')}; {report.status()}")

    def import_drive_labels(self):
        """Add the labels that came with the drive (ground truth, imports) that the project does
        not have yet, as one undoable command; says what it did in one message (new, already
        there, deleted, overlapping a box, unknown classes), then the unreadable files if any, and
        the window lists their frames in a message box that stays until closed."""
        if self.s.read_only:
            self.s.notify("read-only project: cannot import", "warning")
            return
        finished = finished_frames(self.s.document)
        report = self.s.project.import_drive_labels(progress=False)
        note = reopened_note(self.s.document, finished, frame_namer(self.s))   # labels in done or reviewed frames
        said = report.summary() + (f"; {note}" if note else "")
        self.s.notify(said, "warning" if report.unknown_classes else "info")
        errors = report.errors_text()
        if errors:
            self.s.notify(errors, "warning")
            self._hook("show_unread_labels", report.unread_frames(self.s.drive))

    def undo(self):
        self.s.undo()

    def redo(self):
        self.s.redo()

    # ------------------------------------------------------------ view
    def toggle_layer(self, name: str):
        self.s.toggle_layer(name)

    def toggle_focus(self):
        self.s.toggle_focus()

    def cycle_color_mode(self):
        mode = COLOR_MODES[(COLOR_MODES.index(self.s.color_mode) + 1) % len(COLOR_MODES)]
        self.s.set_color_mode(mode)
        self.s.notify(f"points coloured by {mode}")

    def step_height_cut(self, steps: int):
        """U / Shift+U: lower / raise the bird's-eye view's height filter (:mod:`.bev_filter`)."""
        before = self.s.height_cut
        cut = step_cut(before, steps)
        self.s.set_height_cut(cut)
        if cut is None:
            self.s.notify("height filter off: the bird's-eye view draws every point")
        elif cut == before:
            self.s.notify(f"the height filter is at its lowest, {LOWEST_CUT:.1f} m above the ground")
        else:
            self.s.notify(f"bird's-eye view: points up to {cut:.1f} m above the ground (Ctrl+U: all of them)")

    def reset_height_cut(self):
        """Ctrl+U: the height filter off."""
        self.s.set_height_cut(None)
        self.s.notify("height filter off: the bird's-eye view draws every point")

    def step_sweeps(self, delta: int):
        """O / Shift+O: stack one more / one fewer sweep each side of the frame (0 .. MAX_SWEEPS,
        wrapping around), on drives with ego poses."""
        if not has_ego_poses(self.s.drive):
            self.s.set_sweeps(0)
            self.s.notify("this drive has no ego poses: its sweeps cannot be stacked", "warning")
            return
        k = (self.s.sweeps + delta) % (MAX_SWEEPS + 1)
        self.s.set_sweeps(k)
        self.s.notify(f"sweeps: {k} before and {k} after this frame drawn dimmer (moving objects leave trails)"
                      if k else "sweeps: this frame's only")

    def focus_selection(self):
        self._hook("focus_selection")

    def fit_cameras(self):
        self._hook("fit_cameras")

    def zoom_cameras_to_selection(self):
        """Zoom every camera that sees the selected cuboids onto them (far objects)."""
        if self._selection() is not None and not self._hook("zoom_cameras_to_selection", default=0):
            self.s.notify("no camera sees the selection")

    def reload(self):
        """Re-read annotations and history from the database (what another process saved)."""
        self.s.document.reload()
        self.s.notify("reloaded the project from disk")

    def help(self):
        self._hook("toggle_help")
