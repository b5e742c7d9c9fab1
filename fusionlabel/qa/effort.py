"""The annotators' effort in a project, read from its command log and history (``project status``).

A *step* is one row of the command log: one undo step, what one key press, drag or menu action
did (the app folds a quick run of the same key nudge into one step). An *action* is one row of the
history: every apply, undo and redo with its time (each nudge folded into a step is one more
apply). Steps of label imports and pre-label runs are machine work: counted apart, never as edits
or time, and so are their undos and redos (a tracked run undoes its own batches). Interpolation
and propagation (``I``, ``V``) are the annotator's actions and count as such, under their own names.

Everything the annotator did counts as effort, including steps undone since (their undos and
redos are counted too, and ``steps_undone`` says how many steps are not in effect now).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ..model.commands import (AcceptPrelabel, CopyToFrame, CreateCuboid, DeleteCuboids, DeleteTrackFrom, SetAbsent,
                              SetAttributes, SetBox, SetClass, SetFrameStatus, SetTrack, leaves)
from ..model.document import FINISHED_STATUSES, FRAME_STATUSES

IDLE_CAP_SECONDS = 120.0   # a gap between two actions longer than this counts as this much work

# the kinds of cuboid edits, in the order they are listed
EDIT_KINDS = ("created", "copied", "deleted", "box_edits", "class_changes", "attribute_changes", "track_changes",
              "prelabels_accepted", "absent_marks", "interpolated", "propagated")
MACHINE_KINDS = ("label_imports", "prelabel_runs")

_FIELD_KINDS = ((SetBox, "box_edits"), (SetClass, "class_changes"), (SetAttributes, "attribute_changes"),
                (SetTrack, "track_changes"))


@dataclass
class Effort:
    """What the annotators did: ``edits`` (cuboids changed, by kind of :data:`EDIT_KINDS`),
    ``frame_edits`` (frame index -> cuboid edits there), ``status_marks`` (frames marked, by
    status, with a step of its own), ``reopened_by_edits`` (done or reviewed frames an edit sent
    back to in progress), ``machine_steps`` (of :data:`MACHINE_KINDS`), ``steps``,
    ``steps_undone``, ``actions``, ``undos``, ``redos``, ``active_seconds`` (the gaps between
    consecutive actions, each at most ``idle_cap_seconds``), ``first_us`` / ``last_us`` (times of
    the first and last action, None without one)."""

    idle_cap_seconds: float = IDLE_CAP_SECONDS
    edits: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EDIT_KINDS, 0))
    frame_edits: Counter = field(default_factory=Counter)
    status_marks: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FRAME_STATUSES, 0))
    reopened_by_edits: int = 0
    machine_steps: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MACHINE_KINDS, 0))
    steps: int = 0
    steps_undone: int = 0
    actions: int = 0
    undos: int = 0
    redos: int = 0
    active_seconds: float = 0.0
    first_us: int | None = None
    last_us: int | None = None

    def add(self, other: "Effort") -> None:
        """Add ``other``'s figures (another project's) to these; frame edits are per project and
        are not added."""
        for mine, theirs in ((self.edits, other.edits), (self.status_marks, other.status_marks),
                             (self.machine_steps, other.machine_steps)):
            for k, v in theirs.items():
                mine[k] += v
        for name in ("reopened_by_edits", "steps", "steps_undone", "actions", "undos", "redos", "active_seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        times = [t for t in (self.first_us, other.first_us) if t is not None]
        self.first_us = min(times) if times else None
        times = [t for t in (self.last_us, other.last_us) if t is not None]
        self.last_us = max(times) if times else None


def machine_kind(description: str) -> str | None:
    """``label_imports`` or ``prelabel_runs`` for a step the machine made, None for the annotator's."""
    from ..assist.prelabel_project import PRELABEL_DESCRIPTION
    from ..store.label_import import is_import_description

    if is_import_description(description):
        return "label_imports"
    if description.startswith(PRELABEL_DESCRIPTION):
        return "prelabel_runs"
    return None


def effort_from_log(commands, events, idle_cap_seconds: float = IDLE_CAP_SECONDS, frame_of=None) -> Effort:
    """The effort in a command log: ``commands`` are (log id, state, command) of every step, by id
    (:meth:`~fusionlabel.store.db.ProjectStore.command_log`), ``events`` (log id, action, time in
    µs) of every apply, undo and redo, oldest first (:meth:`~fusionlabel.store.db.ProjectStore.history_events`).
    A machine step (:func:`machine_kind`) may be given as its description alone (a str: nothing
    else of it is read) when ``frame_of`` (uid -> frame of the cuboids the annotator's steps
    change, anything with ``get``: :class:`CuboidFrames`) is given; without it the frames come
    from the cuboids the commands made."""
    if idle_cap_seconds <= 0:
        raise ValueError(f"the idle cap must be positive, got {idle_cap_seconds}")
    effort = Effort(idle_cap_seconds=float(idle_cap_seconds))
    if frame_of is None:
        frame_of = cuboid_frames(cmd for _, _, cmd in commands)
    annotator = set()
    for log_id, state, cmd in commands:
        machine = machine_kind(cmd if isinstance(cmd, str) else cmd.description)
        if isinstance(cmd, str) and machine is None:
            raise ValueError(f"step {log_id} ({cmd!r}) is the annotator's: its command is needed, not its description")
        if machine is not None:
            # in effect only: a tracked run's per-frame stage, undone by the run itself, is not a run
            effort.machine_steps[machine] += state == "done"
            continue
        annotator.add(log_id)
        effort.steps += 1
        effort.steps_undone += state != "done"
        _count_step(effort, cmd, frame_of)
    times = [at for log_id, action, at in events if log_id in annotator]
    for log_id, action, _ in events:
        if log_id in annotator:
            effort.undos += action == "undo"
            effort.redos += action == "redo"
    effort.actions = len(times)
    cap_us = idle_cap_seconds * 1e6
    effort.active_seconds = sum(min(b - a, cap_us) for a, b in zip(times, times[1:]) if b > a) / 1e6
    if times:
        effort.first_us, effort.last_us = min(times), max(times)
    return effort


class CuboidFrames:
    """uid -> frame (:meth:`get`) from ``sources``, callables giving such dicts, each called only
    when the ones before it do not know a uid asked for (a cuboid never changes frame, so any
    source that knows it is right): the cheap ones first, the costly ones seldom or never."""

    def __init__(self, *sources):
        self._sources = list(sources)
        self._known: dict[str, int] = {}

    def get(self, uid: str, default=None):
        while uid not in self._known and self._sources:
            for k, frame in self._sources.pop(0)().items():
                self._known.setdefault(k, frame)
        return self._known.get(uid, default)


def cuboid_frames(commands) -> dict[str, int]:
    """uid -> frame of every cuboid ``commands`` made or removed (a cuboid never changes frame)."""
    frame_of: dict[str, int] = {}
    for cmd in commands:
        for c in leaves(cmd):
            if isinstance(c, CreateCuboid) and c.uid is not None:
                frame_of[c.uid] = c.frame
            elif isinstance(c, (CopyToFrame, DeleteCuboids, DeleteTrackFrom)):
                for ann, _ in (c.created if isinstance(c, CopyToFrame) else c.before) or ():
                    frame_of[ann.uid] = ann.frame
    return frame_of


def _count_step(effort: Effort, step, frame_of: dict[str, int]) -> None:
    """Add one annotator step's cuboid edits and status marks to ``effort``. Frame statuses set
    in the same step as an edit are the automatic ones (the frame's first edit starting it, an
    edit sending a finished frame back to in progress), not marks."""
    from ..assist.prelabel_project import INTERPOLATE_DESCRIPTION, PROPAGATE_DESCRIPTION

    parts = list(leaves(step))
    marks_only = all(isinstance(c, SetFrameStatus) for c in parts)
    assisted = next((kind for prefix, kind in ((INTERPOLATE_DESCRIPTION, "interpolated"),
                                               (PROPAGATE_DESCRIPTION, "propagated"))
                     if step.description.startswith(prefix)), None)

    def edit(kind: str, frames) -> None:
        for f in frames:
            if f is not None:
                effort.edits[assisted or kind] += 1
                effort.frame_edits[f] += 1

    for c in parts:
        if isinstance(c, SetFrameStatus):
            if marks_only:
                effort.status_marks[c.status] += 1
            elif c.before in FINISHED_STATUSES:
                effort.reopened_by_edits += 1
        elif isinstance(c, CreateCuboid):
            edit("created", [c.frame])
        elif isinstance(c, CopyToFrame):
            edit("copied", [ann.frame for ann, _ in c.created or ()])
        elif isinstance(c, (DeleteCuboids, DeleteTrackFrom)):
            edit("deleted", [ann.frame for ann, _ in c.before or ()])
        elif isinstance(c, AcceptPrelabel):
            edit("prelabels_accepted", [ann.frame for ann in c.before or ()])
        elif isinstance(c, SetAbsent):
            edit("absent_marks", [c.frame])
        else:
            kind = next((k for t, k in _FIELD_KINDS if isinstance(c, t)), None)
            if kind is not None:
                edit(kind, [frame_of.get(c.uid)])


def utc_text(time_us: int | None) -> str | None:
    """A log time (µs since the epoch) as ISO 8601 UTC to the second, e.g. ``2026-11-24T11:53:16Z``."""
    if time_us is None:
        return None
    return datetime.fromtimestamp(time_us / 1e6, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
