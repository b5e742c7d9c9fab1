"""The annotations of one drive, changed only through commands, with undo/redo and change events.

:class:`DocState` is the plain in-memory state that commands act on (see commands.py);
:class:`Document` owns it, runs commands, keeps the undo/redo stacks, persists every command in
one transaction through an optional store (fusionlabel.store) and tells subscribers what changed.
No Qt here: the app subscribes to :class:`Change` events and redraws.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol

from ..errors import FusionLabelError
from ..geometry.cuboid import Cuboid
from .annotation import CuboidLabel
from .ontology import Ontology

if TYPE_CHECKING:
    from .commands import Command

log = logging.getLogger(__name__)

FRAME_STATUSES = ("new", "in_progress", "done", "reviewed")
FINISHED_STATUSES = ("done", "reviewed")    # an edit takes these back (model/frame_status.py)


class ReadOnlyError(FusionLabelError):
    """An edit was attempted on a document opened read-only (another process holds the project)."""


@dataclass(frozen=True)
class Annotation:
    """One labelled cuboid in one frame. ``uid`` is a uuid4 hex string, ``frame`` a frame index."""

    uid: str
    frame: int
    label: CuboidLabel

    @property
    def box(self) -> Cuboid:
        return self.label.box

    @property
    def cls(self) -> str:
        return self.label.label

    @property
    def track_id(self) -> str | None:
        return self.label.track_id

    @property
    def source(self) -> str:
        return self.label.source

    @property
    def score(self) -> float | None:
        return self.label.score

    @property
    def attributes(self) -> dict[str, Any]:
        return self.label.attributes

    def with_label(self, label: CuboidLabel) -> "Annotation":
        return Annotation(self.uid, self.frame, label)


@dataclass(frozen=True)
class Change:
    """What a command (or its undo/redo) touched. ``reason``: apply, undo, redo or reload."""

    frames: set[int]
    uids: set[str]
    reason: str
    description: str = ""
    status_frames: set[int] = field(default_factory=set)
    reopened: dict[int, str] = field(default_factory=dict)   # frame -> done/reviewed, which the edit took back


@dataclass
class Delta:
    """Everything one do/undo changed, for the store: current value of each touched item."""

    annotations: dict[str, tuple[Annotation, int] | None]   # uid -> (annotation, seq) or None if removed
    statuses: dict[int, str]
    next_track: int
    next_seq: int
    absent: dict[tuple[str, int], bool] = field(default_factory=dict)   # (track, frame) -> marked absent now


class DocState:
    """Annotations by uid with per-frame and per-track indexes, frame statuses, the frames where a
    track's object is marked absent, and id counters.

    Commands change it only through :meth:`insert`, :meth:`remove`, :meth:`replace`,
    :meth:`set_status` and :meth:`set_absent`, which record what was touched so that the document
    can persist and announce exactly that.
    """

    def __init__(self, n_frames: int, ontology: Ontology | None = None):
        self.n_frames = int(n_frames)
        self.ontology = ontology
        self.anns: dict[str, Annotation] = {}
        self.seq: dict[str, int] = {}
        self.by_frame: dict[int, set[str]] = {}
        self.by_track: dict[str, dict[int, str]] = {}   # track -> frame -> uid
        self.status: dict[int, str] = {}
        self.absent: dict[str, set[int]] = {}   # track -> frames where its object is marked absent
        self.next_seq = 0
        self.next_track = 1
        self.uid_factory: Callable[[], str] = lambda: uuid.uuid4().hex
        self._frame_cache: dict[int, list[Annotation]] = {}
        self._touched: dict[str, None] = {}
        self._before: dict[str, Annotation | None] = {}   # touched uid -> its annotation at begin()
        self._touched_frames: set[int] = set()
        self._touched_status: set[int] = set()
        self._touched_absent: set[tuple[str, int]] = set()
        self._touched_ann_frames: set[int] = set()

    # ------------------------------------------------------------------ primitives
    def insert(self, ann: Annotation, seq: int) -> None:
        if ann.uid in self.anns:
            raise ValueError(f"annotation {ann.uid} already exists")
        track = ann.track_id
        if track is not None and ann.frame in self.by_track.get(track, {}):
            raise ValueError(f"track {track} already has a cuboid in frame {ann.frame}")
        self.anns[ann.uid] = ann
        self.seq[ann.uid] = seq
        self._before.setdefault(ann.uid, None)
        self.by_frame.setdefault(ann.frame, set()).add(ann.uid)
        if track is not None:
            self.by_track.setdefault(track, {})[ann.frame] = ann.uid
            self.note_track(track)
        self.next_seq = max(self.next_seq, seq + 1)
        self._touch(ann.uid, ann.frame)

    def remove(self, uid: str) -> tuple[Annotation, int]:
        ann = self.anns.pop(uid)
        seq = self.seq.pop(uid)
        self._before.setdefault(uid, ann)
        self.by_frame[ann.frame].discard(uid)
        if ann.track_id is not None:
            frames = self.by_track[ann.track_id]
            del frames[ann.frame]
            if not frames:
                del self.by_track[ann.track_id]
        self._touch(uid, ann.frame)
        return ann, seq

    def replace(self, ann: Annotation) -> Annotation:
        """Swap in a new version of an existing annotation (same uid and frame); returns the old one."""
        old = self.anns[ann.uid]
        if old.frame != ann.frame:
            raise ValueError("replace keeps the frame of an annotation")
        if old.track_id != ann.track_id:
            seq = self.seq[ann.uid]
            self.remove(ann.uid)
            try:
                self.insert(ann, seq)
            except ValueError:
                self.insert(old, seq)
                raise
        else:
            self._before.setdefault(ann.uid, old)
            self.anns[ann.uid] = ann
            self._touch(ann.uid, ann.frame)
        return old

    def set_status(self, frame: int, status: str) -> str:
        old = self.status.get(frame, "new")
        if status == "new":
            self.status.pop(frame, None)
        else:
            self.status[frame] = status
        self._touched_status.add(frame)
        self._touched_frames.add(frame)
        return old

    def set_absent(self, track_id: str, frame: int, absent: bool) -> bool:
        """Mark (or unmark) track ``track_id``'s object absent in ``frame``: hidden or out of view,
        so no cuboid of it belongs there. Returns whether it was marked before."""
        frames = self.absent.get(track_id, set())
        was = frame in frames
        if absent:
            self.absent.setdefault(track_id, set()).add(frame)
        elif was:
            frames.discard(frame)
            if not frames:
                del self.absent[track_id]
        self._touched_absent.add((track_id, frame))
        self._touched_frames.add(frame)
        self.note_track(track_id)     # a track known only by its marks keeps its id too
        return was

    def is_absent(self, track_id: str | None, frame: int) -> bool:
        """Whether track ``track_id``'s object is marked absent in ``frame``."""
        return track_id is not None and frame in self.absent.get(track_id, ())

    def note_track(self, track_id: str) -> None:
        """Keep :attr:`next_track` above every numeric track id in use, so ids are never reused."""
        if track_id.isdigit():
            self.next_track = max(self.next_track, int(track_id) + 1)

    def _touch(self, uid: str, frame: int) -> None:
        self._touched[uid] = None
        self._touched_frames.add(frame)
        self._touched_ann_frames.add(frame)
        self._frame_cache.pop(frame, None)

    # ------------------------------------------------------------------ journal
    def begin(self) -> None:
        self._touched.clear()
        self._before.clear()
        self._touched_frames.clear()
        self._touched_status.clear()
        self._touched_absent.clear()
        self._touched_ann_frames.clear()

    def annotation_frames(self) -> set[int]:
        """The frames whose cuboids changed since :meth:`begin` (status changes not counted)."""
        return set(self._touched_ann_frames)

    def edited_frames(self) -> set[int]:
        """The frames whose cuboids or absent marks changed since :meth:`begin`: the frames edited."""
        return self._touched_ann_frames | {f for _, f in self._touched_absent}

    def status_frames(self) -> set[int]:
        """The frames whose status was set since :meth:`begin`."""
        return set(self._touched_status)

    def frame_status(self, frame: int) -> str:
        """One of ``new``, ``in_progress``, ``done``, ``reviewed``."""
        return self.status.get(frame, "new")

    def changed(self) -> dict[str, tuple[Annotation | None, Annotation | None]]:
        """uid -> (annotation at :meth:`begin`, annotation now) of every cuboid touched since;
        None for one that did not exist then / does not exist now."""
        return {uid: (self._before.get(uid), self.anns.get(uid)) for uid in self._touched}

    def delta(self) -> Delta:
        anns = {uid: ((self.anns[uid], self.seq[uid]) if uid in self.anns else None) for uid in self._touched}
        statuses = {f: self.status.get(f, "new") for f in self._touched_status}
        absent = {(t, f): self.is_absent(t, f) for t, f in self._touched_absent}
        return Delta(anns, statuses, self.next_track, self.next_seq, absent)

    def change(self, reason: str, description: str) -> Change:
        return Change(set(self._touched_frames), set(self._touched), reason, description, set(self._touched_status))

    # ------------------------------------------------------------------ queries
    def frame_annotations(self, frame: int) -> list[Annotation]:
        cached = self._frame_cache.get(frame)
        if cached is None:
            uids = sorted(self.by_frame.get(frame, ()), key=self.seq.__getitem__)
            cached = self._frame_cache[frame] = [self.anns[u] for u in uids]
        return list(cached)

    def check_frame(self, frame: int) -> int:
        if isinstance(frame, bool) or not isinstance(frame, int) or not 0 <= frame < self.n_frames:
            raise CommandError(f"frame {frame!r} is out of range: the drive has {self.n_frames} frames")
        return frame

    def annotation(self, uid: str) -> Annotation:
        try:
            return self.anns[uid]
        except KeyError:
            raise CommandError(f"no annotation with uid {uid}") from None


class CommandError(FusionLabelError):
    """A command does not fit the document (unknown uid, frame out of range, unknown class ...)."""


class Store(Protocol):
    """What a Document needs from persistence (implemented by fusionlabel.store.ProjectStore)."""

    read_only: bool

    def load_state(self) -> Any: ...
    def load_command(self, log_id: int) -> "Command": ...
    def commit_apply(self, cmd: "Command", delta: Delta) -> int: ...
    def commit_merge(self, log_id: int, cmd: "Command | None", delta: Delta) -> None: ...
    def commit_starting_point(self, log_id: int) -> None: ...
    def commit_undo(self, log_id: int, delta: Delta) -> None: ...
    def commit_redo(self, log_id: int, delta: Delta) -> None: ...


class _Probe(Exception):
    """Raised by :meth:`Document.step_changes`'s guard to take the step back."""


@dataclass
class _Entry:
    """One step of history: its command-log id (None without a store), description, command."""

    log_id: int | None
    description: str
    command: "Command | None"


class Document:
    """The annotations of one drive. Change them only with :meth:`apply`, :meth:`undo`, :meth:`redo`.

    The oldest commands may be the document's *starting point* (:meth:`make_starting_point`: the
    labels a project was made with): they stay in effect and in :meth:`history`, but undo stops
    above them.

    Args:
        n_frames: number of frames of the drive (frame indexes are 0 .. n_frames-1).
        ontology: the project's classes; commands check class names against it.
        store: optional persistence; when given, the state and the undo/redo history are loaded
            from it and every command is written in one transaction before it is announced.
    """

    def __init__(self, n_frames: int, ontology: Ontology, store: Store | None = None):
        self.ontology = ontology
        self._store = store
        self._state = DocState(n_frames, ontology)
        self._undo: list[_Entry] = []
        self._redo: list[_Entry] = []
        self._start = 0  # how many of the oldest undo entries are the starting point (never undone)
        self._last_applied: _Entry | None = None  # the top undo entry while only applies came after it
        self._subscribers: list[Callable[[Change], None]] = []
        if store is not None:
            self._load()

    # ------------------------------------------------------------------ loading
    def _load(self) -> None:
        stored = self._store.load_state()
        state = DocState(self._state.n_frames, self.ontology)
        for ann, seq in stored.annotations:
            state.insert(ann, seq)
        for frame, status in stored.statuses.items():
            state.status[frame] = status
        for track_id, frame in stored.absent:
            state.absent.setdefault(track_id, set()).add(frame)
        state.next_track = max(state.next_track, stored.next_track)
        state.next_seq = max(state.next_seq, stored.next_seq)
        state.begin()
        self._state = state
        self._undo = [_Entry(i, d, None) for i, d in stored.undo]
        self._redo = [_Entry(i, d, None) for i, d in stored.redo]
        start = stored.starting_point
        self._start = 0 if start is None else sum(1 for e in self._undo if e.log_id <= start)
        self._last_applied = None

    def reload(self) -> None:
        """Re-read state and history from the store (a read-only view picking up the writer's edits)."""
        if self._store is None:
            return
        before = set(self._state.anns)
        self._load()
        self._notify(Change(set(range(self.n_frames)), before | set(self._state.anns), "reload", "Reload",
                            set(range(self.n_frames))))

    # ------------------------------------------------------------------ queries
    @property
    def n_frames(self) -> int:
        return self._state.n_frames

    @property
    def read_only(self) -> bool:
        return bool(self._store is not None and self._store.read_only)

    @property
    def state(self) -> DocState:
        """The live state (read it, never change it directly)."""
        return self._state

    def annotations(self, frame: int) -> list[Annotation]:
        """The cuboids of a frame in creation order."""
        return self._state.frame_annotations(frame)

    def all_annotations(self) -> list[Annotation]:
        """Every cuboid of the drive, by frame then creation order."""
        return [a for f in sorted(self._state.by_frame) for a in self._state.frame_annotations(f)]

    def __len__(self) -> int:
        return len(self._state.anns)

    def __contains__(self, uid: object) -> bool:
        return uid in self._state.anns

    def get(self, uid: str) -> Annotation:
        """The annotation with this uid; KeyError if there is none."""
        try:
            return self._state.anns[uid]
        except KeyError:
            raise KeyError(f"no annotation with uid {uid}") from None

    def find_track(self, track_id: str, frame: int) -> Annotation | None:
        """The cuboid of a track in a frame, or None."""
        uid = self._state.by_track.get(track_id, {}).get(frame)
        return None if uid is None else self._state.anns[uid]

    def track_frames(self, track_id: str) -> list[int]:
        """Frames in which a track has a cuboid, ascending."""
        return sorted(self._state.by_track.get(track_id, {}))

    def absent_frames(self, track_id: str) -> list[int]:
        """Frames in which a track's object is marked absent (hidden or out of view), ascending."""
        return sorted(self._state.absent.get(track_id, ()))

    def is_absent(self, track_id: str | None, frame: int) -> bool:
        """Whether a track's object is marked absent in ``frame``."""
        return self._state.is_absent(track_id, frame)

    def tracks_absent_in(self, frame: int) -> list[str]:
        """The tracks whose object is marked absent in ``frame`` (numeric ids in numeric order first)."""
        return sorted((t for t, frames in self._state.absent.items() if frame in frames), key=_track_order)

    def track_ids(self) -> list[str]:
        """Every track id in use (numeric ids in numeric order first)."""
        return sorted(self._state.by_track, key=_track_order)

    def annotated_frames(self) -> list[int]:
        """Frames with at least one cuboid, ascending (the timeline's keyframe marks)."""
        return sorted(f for f, uids in self._state.by_frame.items() if uids)

    def new_track_id(self) -> str:
        """A fresh track id ("1", "2", ...), never handed out before in this project."""
        tid = str(self._state.next_track)
        self._state.next_track += 1
        return tid

    def frame_status(self, frame: int) -> str:
        """One of ``new``, ``in_progress``, ``done``, ``reviewed``."""
        return self._state.frame_status(frame)

    def frame_statuses(self) -> list[str]:
        """Status of every frame, by index."""
        return [self._state.status.get(f, "new") for f in range(self.n_frames)]

    # ------------------------------------------------------------------ history
    @property
    def can_undo(self) -> bool:
        """Whether there is a step to undo above the starting point."""
        return len(self._undo) > self._start

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo_text(self) -> str:
        """Description of the command :meth:`undo` would revert ("" if none)."""
        return self._undo[-1].description if self.can_undo else ""

    def redo_text(self) -> str:
        return self._redo[-1].description if self._redo else ""

    def step_command(self, kind: str) -> "Command | None":
        """The command :meth:`undo` (``kind`` "undo") or :meth:`redo` ("redo") would revert or do
        again; None when there is no such step."""
        if kind == "undo":
            return self._command(self._undo[-1]) if self.can_undo else None
        return self._command(self._redo[-1]) if self._redo else None

    def history(self) -> list[str]:
        """Descriptions of the commands in effect (the starting point's too), oldest first."""
        return [e.description for e in self._undo]

    def starting_point(self) -> list[str]:
        """Descriptions of the commands that are the document's starting point, oldest first
        (empty when it has none): undo stops above them."""
        return [e.description for e in self._undo[:self._start]]

    def make_starting_point(self) -> None:
        """Make every command in effect the document's starting point (saved in the store): the
        labels a project is made with are where it starts, not an edit, so undo stops above them.
        Nothing changes when there is no command; the redo stack is kept."""
        self._check_writable()
        if not self._undo:
            return
        if self._store is not None:
            self._store.commit_starting_point(self._undo[-1].log_id)
        self._start = len(self._undo)
        self._last_applied = None   # a later edit is never folded into the starting point

    def last_step(self) -> "Command | None":
        """The command on top of the undo stack as recorded: the applied command with what
        :meth:`apply` did with it in the same step (frames it reopened, a follow-up)."""
        return self._command(self._undo[-1]) if self._undo else None

    def done_commands(self, description_prefix: str | tuple[str, ...] = "",
                      unless: Callable[[str], bool] | None = None) -> list["Command"]:
        """The bound commands in effect (the undo stack), oldest first, whose description starts
        with ``description_prefix`` (or one of a tuple of them) and is not one ``unless`` accepts;
        only those are read from the store's command log."""
        return [self._command(e) for e in self._undo if e.description.startswith(description_prefix)
                and not (unless and unless(e.description))]

    # ------------------------------------------------------------------ editing
    def apply(self, cmd: "Command", merge: "Callable[[Command, Command], Command | None] | None" = None,
              follow_up: "Callable[[set[int]], Command | None] | None" = None,
              guard: "Callable[[dict], None] | None" = None) -> "Command | None":
        """Run a command: do it, persist it in one transaction, push it on the undo stack, clear
        the redo stack and notify subscribers. Returns the bound command (uids, track ids and
        previous values filled in), or None when it would change nothing (then nothing is recorded).

        Every frame the command edits (its cuboids or absent marks) that is ``done`` or
        ``reviewed`` goes back to ``in_progress`` in the same step, unless the command sets that
        frame's status itself (:mod:`~.frame_status`); the Change sent says which (``reopened``).
        ``follow_up(frames)``, given the frames the command edited, may then return a command done
        right after it in the same step (one transaction, one undo entry; e.g. marking those frames
        in progress, or a frame's status back to what it was before a run of merged key edits).
        ``merge(last, step)`` may fold the step into the last one on the undo stack, when nothing
        but applies came after that one (no undo, redo or reload): it returns one command doing
        both (:func:`~.commands.merged`) or None to record the step on its own. The folded command replaces the last one in memory and in the log, in one
        transaction; a fold that changes nothing at all removes that undo entry.

        ``guard(changed)``, given :meth:`DocState.changed` (uid -> (before, after)) once the step is
        done, may refuse it by raising: the step is then undone and nothing is saved or recorded.
        """
        self._check_writable()
        state = self._state
        bound = cmd.bind(state)
        if bound.is_noop:
            return None
        state.begin()
        bound.do(state)
        done = [bound]
        try:
            edited = state.edited_frames()
            reopened = {f: state.frame_status(f) for f in edited - state.status_frames()
                        if state.frame_status(f) in FINISHED_STATUSES}
            for extra in (reopen_frames(state, reopened), follow_up(edited) if follow_up is not None else None):
                if extra is not None:
                    extra = extra.bind(state)
                    if not extra.is_noop:
                        extra.do(state)
                        done.append(extra)
            reopened = {f: was for f, was in reopened.items() if was != state.frame_status(f)}
            if guard is not None:
                guard(state.changed())
            step = bound if len(done) == 1 else _batch(done, bound.description)
            top = self._last_applied if merge is not None else None
            folded = merge(self._command(top), step) if top is not None else None
            log_id = None
            if self._store is not None:
                if folded is None:
                    log_id = self._store.commit_apply(step, state.delta())
                else:
                    self._store.commit_merge(top.log_id, None if folded.is_noop else folded, state.delta())
        except BaseException:
            state.begin()
            for c in reversed(done):
                c.undo(state)
            raise
        if folded is None:
            self._last_applied = _Entry(log_id, step.description, step)
            self._undo.append(self._last_applied)
            self._redo.clear()
        elif folded.is_noop:
            self._undo.pop()
            self._last_applied = None
        else:
            top.command, top.description = folded, folded.description
        change = state.change("apply", step.description if folded is None else folded.description)
        self._notify(replace(change, reopened=reopened))
        return bound

    def undo(self, guard: "Callable[[dict], None] | None" = None,
             next_track: int | None = None) -> "Command | None":
        """Revert the last command (persisted in one transaction); returns it, or None if none.
        ``guard`` as in :meth:`apply`: raising refuses the undo (nothing changes, the command
        stays on the undo stack). ``next_track``: the track-id counter goes back to it (never below
        an id in use), for a caller that undoes its own command to store another in its place
        with the same fresh ids (a tracked pre-label run replacing its untracked batches)."""
        self._check_writable()
        if not self.can_undo:
            return None
        entry = self._undo[-1]
        cmd = self._command(entry)
        state = self._state
        counter = state.next_track
        state.begin()
        cmd.undo(state)
        if next_track is not None:
            in_use = (*state.by_track, *state.absent)
            state.next_track = max([next_track] + [int(t) + 1 for t in in_use if t.isdigit()])
        try:
            if guard is not None:
                guard(state.changed())
            if self._store is not None:
                self._store.commit_undo(entry.log_id, state.delta())
        except BaseException:
            state.begin()
            cmd.do(state)
            state.next_track = counter
            raise
        self._redo.append(self._undo.pop())
        self._last_applied = None
        self._notify(state.change("undo", entry.description))
        return cmd

    def redo(self, guard: "Callable[[dict], None] | None" = None) -> "Command | None":
        """Do again the last undone command; returns it, or None if there is none. ``guard`` as
        in :meth:`undo`."""
        self._check_writable()
        if not self._redo:
            return None
        entry = self._redo[-1]
        cmd = self._command(entry)
        state = self._state
        state.begin()
        cmd.do(state)
        try:
            if guard is not None:
                guard(state.changed())
            if self._store is not None:
                self._store.commit_redo(entry.log_id, state.delta())
        except BaseException:
            state.begin()
            cmd.undo(state)
            raise
        self._undo.append(self._redo.pop())
        self._last_applied = None
        self._notify(state.change("redo", entry.description))
        return cmd

    def step_changes(self, kind: str) -> dict[str, tuple[Annotation | None, Annotation | None]]:
        """What :meth:`undo` (``kind`` "undo") or :meth:`redo` ("redo") would change, as
        :meth:`DocState.changed` gives it (uid -> (before, after); empty when there is no such
        step). Found by doing the step in memory and taking it back at once: nothing is saved,
        recorded or announced."""
        found: dict = {}

        def probe(changed: dict) -> None:
            found.update(changed)
            raise _Probe

        try:
            self.undo(guard=probe) if kind == "undo" else self.redo(guard=probe)
        except _Probe:
            pass
        return found

    def _command(self, entry: _Entry) -> "Command":
        if entry.command is None:
            entry.command = self._store.load_command(entry.log_id)
        return entry.command

    def _check_writable(self) -> None:
        if self.read_only:
            reason = getattr(self._store, "read_only_reason", None) or "the project is open read-only"
            raise ReadOnlyError(f"cannot edit: {reason}")

    # ------------------------------------------------------------------ events
    def subscribe(self, fn: Callable[[Change], None]) -> Callable[[], None]:
        """Call ``fn(change)`` after every apply/undo/redo/reload; returns a function that unsubscribes."""
        self._subscribers.append(fn)

        def unsubscribe() -> None:
            if fn in self._subscribers:
                self._subscribers.remove(fn)
        return unsubscribe

    def _notify(self, change: Change) -> None:
        """Tell every subscriber; an exception in one does not stop the others and is re-raised
        afterwards (the edit itself is already done and saved)."""
        error = None
        for fn in list(self._subscribers):
            try:
                fn(change)
            except Exception as e:  # noqa: BLE001 - reported after every subscriber ran
                log.exception("document subscriber %r failed", fn)
                error = error or e
        if error is not None:
            raise error


def _track_order(track_id: str) -> tuple:
    """Sort key of track ids: numeric ids in numeric order, then the others as text."""
    return (not track_id.isdigit(), int(track_id) if track_id.isdigit() else 0, track_id)


def _batch(commands: list["Command"], description: str) -> "Command":
    from .commands import Batch   # commands.py imports this module

    return Batch(tuple(commands), description)


def reopen_frames(state: DocState, frames) -> "Command | None":
    from .frame_status import reopen_frames as reopen   # it imports commands.py, which imports this module

    return reopen(state, frames)


def annotations_equal(a: Iterable[Annotation], b: Iterable[Annotation]) -> bool:
    """True when two collections hold the same annotations (uid, frame and label), in any order."""
    return {x.uid: x for x in a} == {x.uid: x for x in b}
