"""The app's state outside the document: current frame, selection, layer switches, messages.

Qt-free (napari-style): views subscribe to the session and to the document and redraw; they
never hold the truth. Every edit goes through :meth:`Session.apply` as one command.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass
from typing import Any, Callable

from ..assist.prelabel_project import edited_prelabels
from ..errors import FusionLabelError
from ..geometry.cuboid import Cuboid
from ..model import edit_actions
from ..model.commands import keeps_every_cuboid, merged
from ..model.drive import cameras_without_images
from ..model.frame_status import reopened_text, start_frames, status_steps_text
from ..model.removal import removal
from ..model.rig import forward_in_lidar
from ..qa.lidar_checks import lidar_up_finding
from ..store.label_import import starting_point_text
from .class_view import SETTING as CLASS_VIEW_SETTING
from .class_view import ClassView, LockedEdit, locked_changes, refusal_text

log = logging.getLogger(__name__)

COLOR_MODES = ("height", "intensity", "distance")
LAYERS = ("camera_points", "boxes", "box_labels")
MERGE_PAUSE_S = 1.0  # key edits further apart than this are separate undo steps
MESSAGES_KEPT = 500  # Session.messages keeps the last this many (a long session cannot grow it)


class _Probed(Exception):
    """Takes back a step :meth:`Session.locked_changes_of` only tried."""


def cameras_without_images_text(names: list[str]) -> str | None:
    """The one note for the cameras a drive has no image of (None when there are none)."""
    if not names:
        return None
    if len(names) == 1:
        return f"camera {names[0]} has no images in this drive: its panel shows the points on a blank canvas"
    return f"cameras {', '.join(names)} have no images in this drive: their panels show the points on a blank canvas"


def lidar_mount_text(drive) -> str | None:
    """The note for a drive whose reference LiDAR is mounted upside down or on its side (the views
    and new boxes take its z as up), None otherwise or when the rig does not load."""
    try:
        found = lidar_up_finding(drive.rig(0)) if drive.frames else None
    except Exception:  # noqa: BLE001 - a broken rig is reported where it is used
        return None
    if found is None:
        return None
    return (f"LiDAR {found.subject} is mounted {found.value:.0f} deg from upright: the bird's-eye and 3D views, "
            "new boxes and auto-fit take its z as up, so they show this drive mirrored or tilted; "
            f"label an upright copy: fusionlabel import {drive.root} --out COPY --upright")


def names_frame(text: str, frame_id: str) -> bool:
    """Whether a command's description names frame ``frame_id`` after its word "frame" or "frames"
    ("Copy 1 cuboid to frame 000965", "… in frames 000009, 000010")."""
    found = re.search(r"\bframes?\b", text)
    return found is not None and re.search(rf"(?<!\w){re.escape(frame_id)}(?!\w)", text[found.end():]) is not None


@dataclass(frozen=True)
class Message:
    """A user-facing note: level is "info", "warning" or "error"; ``frame`` is the frame index a
    note is about (the window drops it when another frame is shown), None for the others."""

    text: str
    level: str = "info"
    frame: int | None = None


class Session:
    """One open project as the app sees it.

    Events sent to subscribers (``fn(kind, payload)``): ``"frame"`` (new index), ``"selection"``
    (tuple of uids), ``"layers"`` (a layer name, ``"color_mode"``, ``"classes"`` for hidden and
    locked classes, ``"focus"``, ``"height_cut"`` or ``"sweeps"``), ``"class"`` (current class), ``"preview"`` ({uid: Cuboid}),
    ``"marked_tracks"`` (the tracks H just marked absent, :attr:`marked_tracks`), ``"ghost"``
    (:attr:`ghost` shown or dropped),
    ``"document"`` (the document's Change), ``"message"`` (:class:`Message`), ``"tool"`` (the armed
    click tool, e.g. ``"one_click"``, or None), ``"reveal"`` (uids an undo or redo touched in the
    frame it went to: the bird's-eye and 3D views pan to them when they are off screen).

    ``clock`` (seconds, default ``time.monotonic``) times the pause that ends a run of merged key
    edits (:meth:`apply`); tests pass a fake one.

    ``confirm_removal(kind, description, removes)``, when set (the window sets it), is asked before
    an undo or redo step that removes many cuboids across frames
    (:attr:`~fusionlabel.model.removal.Removal.is_large`): ``kind`` "undo" or "redo", the step's
    description and what it removes (:meth:`~fusionlabel.model.removal.Removal.text`); False
    keeps the step where it is.
    """

    def __init__(self, project, clock: Callable[[], float] | None = None):
        self.project = project
        self.drive = project.drive
        self.document = project.document
        self.ontology = project.ontology
        self.read_only = bool(project.read_only)
        self.read_only_reason = getattr(project, "read_only_reason", None) if self.read_only else None
        # read-only because this process has the project open already (another window of it)
        self.held_here = self.read_only and bool(getattr(project, "held_here", False))
        self.frame = 0
        self.selection: tuple[str, ...] = ()
        # The tracks H last marked absent (their cuboids went with it): the timeline, ] / [ and the
        # next H follow them while nothing is selected; selecting anything or Esc forgets them.
        self.marked_tracks: tuple[str, ...] = ()
        # The frame a label check's finding (a gap, a track-end) remembered them for: H marks them
        # there only, never deleting a box of theirs in a frame the finding did not point at.
        self.marked_for: int | None = None
        # Where a track's missing box would be (label_findings.Ghost), shown after a track-gap or
        # track-end finding led here; any move or edit (frame, selection, H's track, the labels) drops it.
        self.ghost = None
        self._class_keys: dict[tuple[int, str], tuple[str, str]] = {}   # class keys' undo steps
        self.layers = {name: True for name in LAYERS}
        self.focus = False   # Shift+B: only the selection drawn in full and labelled (not saved)
        self.color_mode = "height"
        self.height_cut: float | None = None  # the BEV's height filter, metres above the ground (not saved)
        self.sweeps = 0  # sweeps stacked each side of the frame in the BEV and 3D view (not saved)
        self.current_class = self.ontology.default_class
        self.class_view = ClassView()  # hidden and locked classes
        self.preview: dict[str, Cuboid] = {}
        self.tool: str | None = None  # a click tool armed by a key (the next click uses it)
        self.messages: list[Message] = []   # the last MESSAGES_KEPT said (:meth:`notify`), oldest first
        self.clock = clock or time.monotonic
        self.confirm_removal: Callable[[str, str, str], bool] | None = None
        self._run: tuple | None = None  # (kind, selection, frame) of the key edits being merged
        self._run_at = 0.0  # when the last of them was applied (clock seconds)
        self._run_steps = 0  # how many key presses the undo step holds
        self._run_message: Message | None = None  # what the run said last (:meth:`say_key_edit`)
        self._last_change = None  # the document's last Change (undo and redo show it)
        self._run_start: tuple = ({}, None)  # (labels of the selection, frame status) before the run
        self._status_note: str | None = None  # frames the last edit took back from done or reviewed
        self._applying = False
        self._applying_description = ""
        self._edited: dict[int, set[str]] = {}  # frame -> its edited pre-labels (cache)
        self._pending_settings: dict[str, Any] = {}
        self._subscribers: list[Callable[[str, Any], None]] = []
        self._unsubscribe_doc = self.document.subscribe(self._on_document)
        self._restore_settings()
        # Problems that did not stop the opening (broken ontology, read-only ...), shown by the window.
        self.startup_messages = [Message(w, "warning") for w in getattr(project, "warnings", [])]
        imageless = cameras_without_images_text(cameras_without_images(self.drive))
        if imageless:   # said once for the drive, not at every frame (the panels carry a caption)
            self.startup_messages.append(Message(imageless, "warning"))
            log.warning(imageless)
        if (mount := lidar_mount_text(self.drive)) is not None:
            self.startup_messages.append(Message(mount, "warning"))
            log.warning(mount)

    # ------------------------------------------------------------------ events
    def subscribe(self, fn: Callable[[str, Any], None]) -> Callable[[], None]:
        self._subscribers.append(fn)
        return lambda: self._subscribers.remove(fn) if fn in self._subscribers else None

    def _emit(self, kind: str, payload: Any = None) -> None:
        for fn in list(self._subscribers):
            try:
                fn(kind, payload)
            except Exception:  # a broken view must not break the others
                log.exception("view failed on %s event", kind)

    def notify(self, text: str, level: str = "info", frame: int | None = None) -> None:
        """Say ``text`` in the status bar (warnings and errors also in a toast; ``frame``: a note
        about that frame only). A note an edit just gave about its frames' status (:meth:`apply`)
        is said again at the end of the next message, so the edit's own message keeps it."""
        note, self._status_note = self._status_note, None
        if note and frame is None and note not in text:
            text = f"{text}; {note}"
        msg = Message(text, level, frame)
        self.messages.append(msg)
        if len(self.messages) > MESSAGES_KEPT:
            del self.messages[:-MESSAGES_KEPT]
        (log.warning if level != "info" else log.info)(text)
        self._emit("message", msg)

    @property
    def run_steps(self) -> int:
        """How many key presses the last key edit's undo step holds (1 after a fresh edit)."""
        return self._run_steps

    def say_key_edit(self, text: str, repeat: bool) -> None:
        """Say what a key edit did (:mod:`.key_edit_text`) like :meth:`notify`, but once per run of
        the same key: a ``repeat`` (a held key repeating) replaces the message its first press
        gave, in :attr:`messages` and in the status bar, and is not logged again."""
        last = self.messages[-1] if self.messages else None
        if repeat and last is not None and last is self._run_message:
            self._run_message = self.messages[-1] = Message(text)
            self._emit("message", self._run_message)
            return
        self.notify(text)
        self._run_message = self.messages[-1]

    def close(self) -> None:
        self.flush_settings()
        self._unsubscribe_doc()
        self._subscribers.clear()

    # ------------------------------------------------------------------ settings
    def setting(self, key: str, default=None):
        """A project setting saved with :meth:`save_setting` (or by ``fusionlabel open``), or
        ``default`` when it is not set or cannot be read (settings are a convenience: a broken one
        never stops the app)."""
        try:
            return self.project.get_setting(key, default)
        except Exception:  # noqa: BLE001 - settings are a convenience
            return default

    def save_setting(self, key: str, value, defer: bool = False) -> None:
        """Persist a view setting; ``defer`` keeps it until :meth:`flush_settings` (the window
        flushes shortly after frame changes stop: a database commit costs milliseconds)."""
        if self.read_only:
            return
        self._pending_settings[key] = value
        if not defer:
            self.flush_settings()

    def flush_settings(self) -> None:
        pending, self._pending_settings = self._pending_settings, {}
        for key, value in pending.items():
            try:
                self.project.set_setting(key, value)
            except Exception as e:  # noqa: BLE001 - settings are a convenience
                log.warning("cannot save setting %s: %s", key, e)

    def _restore_settings(self) -> None:
        n = len(self.drive)
        frame = self.setting("frame", 0)
        self.frame = min(max(int(frame), 0), n - 1) if isinstance(frame, int) else 0
        mode = self.setting("color_mode", "height")
        self.color_mode = mode if mode in COLOR_MODES else "height"
        layers = self.setting("layers", {})
        if isinstance(layers, dict):
            self.layers.update({k: bool(v) for k, v in layers.items() if k in self.layers})
        cls = self.setting("current_class", self.current_class)
        if cls in self.ontology.classes:
            self.current_class = cls
        self.class_view = ClassView.from_setting(self.setting(CLASS_VIEW_SETTING, None), self.ontology.classes)

    # ------------------------------------------------------------------ state changes
    @property
    def n_frames(self) -> int:
        return len(self.drive)

    def rig(self, frame: int | None = None):
        """The rig of a frame (default: the current one), or None when the drive cannot give one."""
        try:
            return self.drive.rig(self.frame if frame is None else frame)
        except Exception as e:  # noqa: BLE001 - the views then fall back to LiDAR +x forward
            log.debug("no rig for frame %s: %s", frame, e)
            return None

    def forward_yaw(self, frame: int | None = None) -> float:
        """The yaw in the LiDAR frame of the vehicle's forward (the bird's-eye view's up): the
        heading of a cuboid made with N. 0 (LiDAR +x) when the drive gives no rig."""
        rig = self.rig(frame)
        fx, fy = (1.0, 0.0) if rig is None else forward_in_lidar(rig)
        return math.atan2(fy, fx)

    def annotations(self, frame: int | None = None):
        return self.document.annotations(self.frame if frame is None else frame)

    def shown_annotations(self, frame: int | None = None):
        """The cuboids the views draw and let you pick: none while the box layer is off (B), and
        none of a hidden class."""
        if not self.layers.get("boxes", True):
            return []
        hidden = self.class_view.hidden
        anns = self.annotations(frame)
        return [a for a in anns if a.cls not in hidden] if hidden else anns

    def is_hidden(self, ann) -> bool:
        return ann.cls in self.class_view.hidden

    def is_locked(self, ann) -> bool:
        return ann.cls in self.class_view.locked

    def refuse_drag(self, drag: dict) -> bool:
        """Whether a view's mouse drag of a cuboid must drag nothing because the cuboid is of a
        locked class. ``drag`` holds the cuboid's ``uid`` and the ``kind`` of drag ("move",
        "resize", "rotate"; one without a uid, like a new cuboid's, is never refused). The first
        call of a drag decides, gives the warning the key edits give, and keeps the answer in
        ``drag["refused"]``, so a drag is refused once and quietly after."""
        if "uid" not in drag:
            return False
        if drag.get("refused") is None:
            uid = drag["uid"]
            ann = self.document.get(uid) if self._exists(uid) else None
            drag["refused"] = ann is not None and self.is_locked(ann)
            if drag["refused"]:
                self.notify(refusal_text(drag["kind"].capitalize(), [ann]), "warning")
        return drag["refused"]

    def set_class_hidden(self, cls: str, hidden: bool) -> None:
        """Hide a class in every view (its selected cuboids are deselected) or show it again."""
        self._set_class_flag(self.class_view.hidden, cls, hidden, "hidden", "shown")
        if hidden:
            self.select(self.selection)

    def set_class_locked(self, cls: str, locked: bool) -> None:
        """Lock a class (its cuboids cannot be moved, resized, turned, retyped or deleted) or unlock it."""
        self._set_class_flag(self.class_view.locked, cls, locked, "locked", "unlocked")

    def show_all_classes(self) -> None:
        """Show and unlock every class."""
        if self.class_view.hidden or self.class_view.locked:
            self.class_view.hidden.clear()
            self.class_view.locked.clear()
            self._class_view_changed("every class shown and unlocked")

    def _set_class_flag(self, flags: set, cls: str, on: bool, yes: str, no: str) -> None:
        if (cls in flags) == bool(on):
            return
        (flags.add if on else flags.discard)(cls)
        self._class_view_changed(f"class {cls}: {yes if on else no}")

    def _class_view_changed(self, text: str) -> None:
        self.save_setting(CLASS_VIEW_SETTING, self.class_view.to_setting())
        self._emit("layers", "classes")
        self.notify(text)

    def set_frame(self, index: int) -> None:
        """Go to a frame; the selection follows its tracks into the new frame."""
        index = min(max(int(index), 0), self.n_frames - 1)
        if index == self.frame:
            return
        previous = self.selection
        self.drop_ghost()
        self.frame = index
        self.preview = {}
        self._run = None
        self._status_note = None
        self._emit("frame", index)
        found = [edit_actions.track_in_frame(self.document, u, index) for u in previous]
        self.select(tuple(a.uid for a in found if a is not None))
        self.save_setting("frame", index, defer=True)

    def _exists(self, uid: str) -> bool:
        return uid in self.document

    def _selectable(self, uid: str) -> bool:
        return self._exists(uid) and not self.is_hidden(self.document.get(uid))

    def select(self, uids) -> None:
        """Select these cuboids (those of hidden classes are left out); selecting any forgets the
        tracks H marked (:attr:`marked_tracks`)."""
        uids = tuple(dict.fromkeys(u for u in uids if self._selectable(u)))
        if uids:
            self.drop_ghost()
            self.set_marked_tracks(())
        if uids != self.selection:
            self.selection = uids
            self._run = None
            self._emit("selection", uids)

    def click_select(self, uid: str | None, toggle: bool = False) -> None:
        """What a click on a cuboid (or on nothing, ``uid`` None) does in any view: select it alone,
        or with ``toggle`` (Shift) add it to / remove it from the selection."""
        if not toggle:
            self.select(() if uid is None else (uid,))
        elif uid is not None:
            sel = self.selection
            self.select(tuple(u for u in sel if u != uid) if uid in sel else sel + (uid,))

    def set_marked_tracks(self, tracks, finding_frame: int | None = None) -> None:
        """Remember the tracks H just marked absent (``()`` forgets them); ``finding_frame``: a
        label check's finding remembered them for that frame (:attr:`marked_for`)."""
        tracks = tuple(dict.fromkeys(str(t) for t in tracks))
        finding_frame = finding_frame if tracks else None
        if (tracks, finding_frame) != (self.marked_tracks, self.marked_for):
            self.drop_ghost()
            self.marked_tracks, self.marked_for = tracks, finding_frame
            self._emit("marked_tracks", tracks)

    def show_ghost(self, ghost) -> None:
        """Show where a track's missing box would be in the frame shown (:attr:`ghost`)."""
        self.ghost = ghost
        self._emit("ghost", ghost)

    def drop_ghost(self) -> None:
        """Stop showing :attr:`ghost` (the user moved on or acted)."""
        if self.ghost is not None:
            self.ghost = None
            self._emit("ghost", None)

    def followed_tracks(self) -> list[str]:
        """The tracks the timeline shows and ] / [ jump along: the selected cuboids' tracks, else
        the tracks H marked (:attr:`marked_tracks`) while they still have a cuboid or a mark."""
        if self.selection:
            return list(dict.fromkeys(a.track_id for a in self.selected_annotations() if a.track_id is not None))
        doc = self.document
        return [t for t in self.marked_tracks if doc.track_frames(t) or doc.absent_frames(t)]

    def selected_annotations(self):
        return [self.document.get(u) for u in self.selection if self._exists(u)]

    def set_layer(self, name: str, on: bool) -> None:
        self.layers[name] = bool(on)
        self.save_setting("layers", dict(self.layers))
        self._emit("layers", name)

    def toggle_layer(self, name: str) -> None:
        self.set_layer(name, not self.layers[name])
        self.notify(f"{name.replace('_', ' ')}: {'on' if self.layers[name] else 'off'}")

    def toggle_focus(self) -> None:
        """Focus on the selection (Shift+B) on or off: the other cuboids are drawn faint and unlabelled."""
        self.focus = not self.focus
        self._emit("layers", "focus")
        self.notify("focus on the selection: other cuboids faint, unlabelled (Shift+B ends it)" if self.focus
                    else "focus off: every cuboid drawn and labelled")

    def is_faint(self, ann) -> bool:
        """Whether a cuboid is drawn faint and unlabelled: focus is on and it is not selected."""
        return self.focus and ann.uid not in self.selection

    def set_color_mode(self, mode: str) -> None:
        if mode not in COLOR_MODES:
            raise ValueError(f"colour mode must be one of {COLOR_MODES}, got {mode!r}")
        self.color_mode = mode
        self.save_setting("color_mode", mode)
        self._emit("layers", "color_mode")

    def set_height_cut(self, cut: float | None) -> None:
        """The bird's-eye view shows points up to ``cut`` metres above the ground (None: all)."""
        self.height_cut = None if cut is None else float(cut)
        self._emit("layers", "height_cut")

    def set_sweeps(self, k: int) -> None:
        """Stack ``k`` sweeps before and after the frame onto it in the BEV and 3D view (0: none)."""
        self.sweeps = int(k)
        self._emit("layers", "sweeps")

    def set_current_class(self, cls: str) -> None:
        self.current_class = cls
        self.save_setting("current_class", cls)
        self._emit("class", cls)

    def set_tool(self, tool: str | None) -> None:
        """Arm (or with None disarm) a click tool; views change their cursor and route the next click."""
        if tool != self.tool:
            self.tool = tool
            self._emit("tool", tool)

    def set_preview(self, uid: str, box: Cuboid | None) -> None:
        """Show a box being dragged in every view before it becomes a command."""
        if box is None:
            if self.preview.pop(uid, None) is None:
                return
        else:
            self.preview[uid] = box
        self._emit("preview", dict(self.preview))

    def display_box(self, ann) -> Cuboid:
        return self.preview.get(ann.uid, ann.box)

    def prelabel_state(self, ann) -> str | None:
        """None for a cuboid that is no pre-label (source other than ``model``); ``"edited"`` for a
        pre-label the annotator changed and has not accepted, whether a pre-label run, I or V made
        it, by the rule that Ctrl+P, Shift+X, I and V keep such boxes by
        (:func:`~fusionlabel.assist.prelabel_project.edited_prelabels`); else ``"untouched"``.
        Every view draws the three by this one answer."""
        if ann.source != "model":
            return None
        return "edited" if ann.uid in self.edited_prelabels(ann.frame) else "untouched"

    def edited_prelabels(self, frame: int) -> set[str]:
        """The uids of the pre-labels of ``frame`` the annotator edited but has not accepted
        (computed once until the frame's cuboids change)."""
        found = self._edited.get(frame)
        if found is None:
            found = self._edited[frame] = edited_prelabels(self.document, [frame])
        return found

    # ------------------------------------------------------------------ edits
    def apply(self, cmd, merge: str | None = None, work: bool = True):
        """Apply one command; returns the bound command (uids filled in) or None when there was
        nothing to do. A read-only project or a failing command becomes a message.

        Every frame the command edits that is ``done`` or ``reviewed`` goes back to ``in_progress``
        in the same undo step, whatever the command (the document does it:
        :mod:`~fusionlabel.model.frame_status`), and the status bar says so ("frame 000003 was
        reviewed; back to in progress", kept at the end of the message the action gives next).

        ``work``: the command is the annotator's own edit, so when it edits the frame on screen
        and that frame is ``new``, the frame becomes ``in_progress`` in the same undo step (frames
        changed from here, like a copy to the next frame, stay ``new`` until they are edited on
        screen). False for model runs that only add pre-labels: pre-labelling, interpolation,
        propagation.

        ``merge`` names a kind of key edit (``"Nudge"``, ``"Rotate"``, ``"Resize"``): like typing in
        a text editor, it joins the undo step of the edit before when that was the same kind on the
        same selection in the same frame, less than :data:`MERGE_PAUSE_S` ago, with nothing else
        applied, undone or selected since. The joined step is saved at once, like any edit."""
        if cmd is None:
            return None
        if self.read_only:
            self.notify(f"read-only: edit not saved ({self.read_only_reason or 'another process has the project'})",
                        "warning")
            return None
        now = self.clock()
        self._status_note = None
        run = (merge, self.selection, self.frame) if merge else None
        continuing = run is not None and run == self._run and now - self._run_at <= MERGE_PAUSE_S
        joined = []
        shown = self.frame
        if run is not None and not continuing:   # what the run may come back to
            self._run_start = (self._selected_labels(), self.document.frame_status(shown))

        def join(last, step):
            if not continuing:
                return None
            one = merged(last, step, f"{merge} ×{self._run_steps + 1}")
            if one is not None:
                joined.append(one)
            return one

        def follow_up(frames):
            labels, status = self._run_start if continuing else (None, None)
            if labels is not None and self._selected_labels() == labels:
                # the run is back where it started: so is the frame it marked in progress, and
                # the merged step is then a no-op that leaves no undo entry
                return edit_actions.set_frame_status(self.document, shown, status)
            return start_frames(self.document, frames & {shown})
        self._applying = True
        self._applying_description = cmd.description
        try:
            bound = self.document.apply(cmd, merge=join if run else None, follow_up=follow_up if work else None,
                                        guard=self._guard_locked if self.class_view.locked else None)
        except LockedEdit as e:
            self._run = None
            self.notify(str(e), "warning")
            return None
        except (FusionLabelError, KeyError, ValueError) as e:
            self._run = None
            self.notify(f"{cmd.description} failed: {e}", "error")
            return None
        finally:
            self._applying = False
        if bound is not None:
            folded_away = bool(joined) and joined[0].is_noop   # back where the run started: no step left
            self._run = None if run is None or folded_away else run
            self._run_steps = self._run_steps + 1 if joined else 1
            self._run_at = now
            reopened = self._last_change.reopened if self._last_change is not None else {}
            if reopened:
                self.notify(reopened_text(reopened, lambda i: self.drive.frames[i].frame_id))
                self._status_note = self.messages[-1].text
        return bound

    def locked_changes_of(self, cmd) -> list:
        """The cuboids of locked classes that ``cmd`` would move, resize, turn, retype or delete
        (as they are now). Found by doing it in memory and taking it back at once through the
        document's guard: nothing is saved, recorded or sent."""
        found: list = []

        def probe(changed: dict) -> None:
            found.extend(locked_changes(changed, self.class_view.locked))
            raise _Probed

        if cmd is not None and self.class_view.locked:
            try:
                self.document.apply(cmd, guard=probe)
            except _Probed:
                pass
        return found

    def _guard_locked(self, changed: dict) -> None:
        refused = locked_changes(changed, self.class_view.locked)
        if refused:
            removed = sum(1 for before, after in changed.values() if after is None and before in refused)
            raise LockedEdit(refusal_text(self._applying_description, refused, removed))

    def _selected_labels(self) -> dict:
        return {u: self.document.get(u).label for u in self.selection if self._exists(u)}

    def undo(self) -> None:
        """Revert the last undo step and show what it changed (:meth:`_show_change`); a step that
        would change cuboids of a locked class is refused like an edit: nothing changes, the step
        stays where it was and the message names the class. A step that removes many cuboids
        across frames is done only once :attr:`confirm_removal` agrees. Undo stops at the
        project's starting point (the labels it was made with), and says so."""
        self._step("undo")

    def redo(self) -> None:
        """Do the last undone step again, guarded by the locked classes and confirmed like :meth:`undo`."""
        self._step("redo")

    def _step(self, kind: str) -> None:
        doc = self.document
        if self.read_only:
            self.notify(f"project is read-only: nothing to {kind}", "warning")
            return
        if kind == "undo" and not doc.can_undo and doc.starting_point():
            self.notify(f"nothing more to undo: {starting_point_text(doc.starting_point())}")
            return
        text = doc.undo_text() if kind == "undo" else doc.redo_text()
        self._run = None
        self._status_note = None
        self._last_change = None
        self._applying_description = f"{kind.capitalize()} {text}"
        if not self._removal_confirmed(kind, text):
            return
        guard = self._guard_locked if self.class_view.locked else None
        statuses = doc.frame_statuses()
        try:
            cmd = doc.undo(guard=guard) if kind == "undo" else doc.redo(guard=guard)
        except LockedEdit as e:
            self.notify(str(e), "warning")
            return
        except FusionLabelError as e:
            self.notify(f"{kind} failed: {e}", "error")
            return
        done = {"undo": "undid", "redo": "redid"}[kind]
        if cmd:
            self._class_key_stepped(kind, text)
        if not cmd:
            self.notify(f"nothing to {kind}")
            return
        message = f"{done} {text}{self._show_change(text)}"
        stepped = status_steps_text(statuses, doc.frame_statuses(), lambda i: str(self.drive.frames[i].frame_id))
        self.notify(f"{message}; {stepped}" if stepped else message)

    def _removal_confirmed(self, kind: str, text: str) -> bool:
        """Whether undo or redo (``kind``) of step ``text`` may go ahead: yes unless it is large
        (:attr:`~fusionlabel.model.removal.Removal.is_large`) and :attr:`confirm_removal` says no,
        which the status bar then says. A step the locked classes refuse is not asked about."""
        if self.confirm_removal is None:
            return True
        try:
            step = self.document.step_command(kind)
            if step is not None and keeps_every_cuboid(step):
                return True                  # only values change: no need to try the step first
            changed = self.document.step_changes(kind)
        except FusionLabelError:
            return True                      # the step itself says what went wrong
        if self.class_view.locked and locked_changes(changed, self.class_view.locked):
            return True
        gone = removal(changed)
        if not gone.is_large:
            return True
        removes = gone.text(lambda i: str(self.drive.frames[i].frame_id))
        if self.confirm_removal(kind, text, removes):
            return True
        self.notify(f"did not {kind} {text}: it would remove {removes}")
        return False

    def tie_class_to_last_step(self, before: str, after: str) -> None:
        """The last undo step was a class key that also changed the class of new cuboids from
        ``before`` to ``after``: undoing that step gives ``before`` back, redoing it ``after``."""
        doc = self.document
        if doc.can_undo and before != after:
            self._class_keys[(len(doc.history()), doc.undo_text())] = (before, after)

    def _class_key_stepped(self, kind: str, text: str) -> None:
        """After an undo or redo of step ``text``: when it was a class key's
        (:meth:`tie_class_to_last_step`) and the class of new cuboids is still the one the step
        left, it follows the step."""
        depth = len(self.document.history()) + (1 if kind == "undo" else 0)
        tied = self._class_keys.get((depth, text))
        if tied is not None:
            was, now = tied if kind == "undo" else tied[::-1]
            if self.current_class == now and was in self.ontology.classes:
                self.set_current_class(was)

    def _show_change(self, text: str = "") -> str:
        """After an undo or redo: go to the frame it changed (the one shown when it is among them,
        else the nearest) and select the cuboids it touched there that exist now. Returns what to add
        to the message: the frame, when the view went there and the step's description ``text``
        does not name it already."""
        change = self._last_change
        if change is None:
            return ""
        frames = change.frames | change.status_frames
        target = self.frame if not frames or self.frame in frames else min(frames, key=lambda f: (abs(f - self.frame), f))
        moved = target != self.frame
        self.set_frame(target)
        touched = [a.uid for a in self.annotations() if a.uid in change.uids]
        if touched:
            self.select(touched)
            self._emit("reveal", tuple(touched))
        frame_id = str(self.drive.frames[target].frame_id)
        return f" on frame {frame_id}" if moved and not names_frame(text, frame_id) else ""

    def _on_document(self, change) -> None:
        self._last_change = change
        self.drop_ghost()
        if not self._applying:
            self._run = None  # an edit made elsewhere (an import, a reload) ends a run of key edits
        if change.reason == "reload":
            self._edited.clear()
        for f in change.frames:
            self._edited.pop(f, None)
        gone = [u for u in self.selection if not self._selectable(u)]   # deleted, or retyped to a hidden class
        self._emit("document", change)
        if gone:
            self.select(u for u in self.selection if u not in gone)
