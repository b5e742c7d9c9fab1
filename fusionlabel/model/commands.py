"""Every edit of a document is one of these commands (frozen dataclasses).

A command is built with what the user asked for (``SetBox(uid, box)``). :meth:`Command.bind`
returns a copy with everything needed to undo it filled in from the current state (the previous
box, the generated uid and track id, the removed cuboids ...). A bound command's :meth:`do` and
:meth:`undo` are pure functions of its fields and the :class:`~.document.DocState`, so the command
log replays exactly and undo works after reopening a project. :meth:`to_dict` /
:func:`command_from_dict` serialise bound and unbound commands losslessly to JSON-ready dicts.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar

import numpy as np

from ..geometry.cuboid import Cuboid
from .annotation import SOURCES, CuboidLabel
from .document import FRAME_STATUSES, Annotation, CommandError, DocState
from .detection_score import PRELABEL_SCORE, without_score
from .point_counts import with_lidar_count


def new_uid(state: DocState) -> str:
    """A fresh annotation uid from the state's factory (uuid4 hex unless a test seeds it)."""
    return state.uid_factory()


# ---------------------------------------------------------------------------------- base
@dataclass(frozen=True)
class Command:
    """Base of all commands. Subclasses set ``kind`` and implement bind/do/undo."""

    kind: ClassVar[str] = ""
    _codecs: ClassVar[dict[str, str]] = {}
    # fields added after the log format was fixed: left out of to_dict while None, so the commands
    # of older logs serialise back to the very bytes stored
    _later_fields: ClassVar[tuple[str, ...]] = ()

    @property
    def description(self) -> str:  # overridden by a field in SetBox and Batch
        return self.kind

    @property
    def is_bound(self) -> bool:
        return True

    @property
    def is_noop(self) -> bool:
        """True for a bound command that would change nothing (the document then records nothing)."""
        return False

    @property
    def merge_key(self) -> tuple | None:
        """What this command sets, for :func:`merged`: commands with the same key set the same
        whole value (so a later one's ``before`` can be the earlier one's); None when it cannot be
        merged."""
        return None

    def bind(self, state: DocState) -> "Command":
        raise NotImplementedError

    def do(self, state: DocState) -> None:
        raise NotImplementedError

    def undo(self, state: DocState) -> None:
        raise NotImplementedError

    def _require_bound(self) -> None:
        if not self.is_bound:
            raise CommandError(f"{self.kind}: bind the command to a state before do/undo")

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"type": self.kind}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.name in self._later_fields:
                continue
            out[f.name] = _encode(self._codecs.get(f.name, "plain"), value)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))


COMMANDS: dict[str, type[Command]] = {}


def _register(cls):
    COMMANDS[cls.kind] = cls
    return cls


def command_from_dict(data: dict) -> Command:
    """Inverse of :meth:`Command.to_dict`; CommandError on an unknown or malformed command."""
    try:
        cls = COMMANDS[data["type"]]
    except (KeyError, TypeError):
        raise CommandError(f"unknown command {data.get('type') if isinstance(data, dict) else data!r}; "
                           f"expected one of {', '.join(COMMANDS)}") from None
    kwargs = {}
    try:
        for f in fields(cls):
            if f.name in data:
                kwargs[f.name] = _decode(cls._codecs.get(f.name, "plain"), data[f.name])
        return cls(**kwargs)
    except (KeyError, TypeError, ValueError) as e:
        raise CommandError(f"malformed {cls.kind} command: {type(e).__name__}: {e}") from None


def command_from_json(text: str) -> Command:
    return command_from_dict(json.loads(text))


# ---------------------------------------------------------------------------------- helpers
def json_normal(value: Any) -> Any:
    """``value`` as it will come back from JSON (tuples -> lists, numpy scalars -> Python)."""
    return json.loads(json.dumps(value, default=json_default))


def json_default(o):
    """``json.dumps``'s fallback: NumPy scalars and arrays as plain numbers and lists."""
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"attribute value {o!r} of type {type(o).__name__} cannot be stored")


def _check_class(state: DocState, cls: str) -> None:
    if not isinstance(cls, str) or not cls:
        raise CommandError(f"class must be a non-empty name, got {cls!r}")
    if state.ontology is not None and cls not in state.ontology:
        raise CommandError(f"unknown class '{cls}' (ontology classes: {', '.join(state.ontology.names)})")


def _check_track_free(state: DocState, track_id: str, frame: int, uid: str | None = None) -> None:
    other = state.by_track.get(track_id, {}).get(frame)
    if other is not None and other != uid:
        raise CommandError(f"track {track_id} already has a cuboid in frame {frame} ({other})")


def _normal_label(label: CuboidLabel, state: DocState) -> CuboidLabel:
    """Validated label in canonical form: string track id, JSON-normal attributes, source known."""
    if not isinstance(label, CuboidLabel):
        raise CommandError(f"expected a CuboidLabel, got {type(label).__name__}")
    if not isinstance(label.box, Cuboid):
        raise CommandError(f"expected a Cuboid box, got {type(label.box).__name__}")
    _check_class(state, label.label)
    if label.source not in SOURCES:
        raise CommandError(f"source must be one of {', '.join(SOURCES)}, got {label.source!r}")
    score = label.score
    if score is not None:
        score = float(score)
        if not math.isfinite(score):
            raise CommandError(f"score must be finite, got {score}")
    track = label.track_id
    if track is not None:
        track = str(track)
        if not track:
            raise CommandError("track id must not be empty")
    attributes = json_normal(dict(label.attributes))
    if label.track_id == track and label.score == score and label.attributes == attributes \
            and type(label.score) is type(score):
        return label
    return replace(label, track_id=track, score=score, attributes=attributes)


def _with_defaults(label: CuboidLabel, state: DocState) -> CuboidLabel:
    """Add the class's default attribute values that the label does not set."""
    if state.ontology is None or label.label not in state.ontology:
        return label
    defaults = state.ontology.get(label.label).default_attributes()
    missing = {k: v for k, v in defaults.items() if k not in label.attributes}
    if not missing:
        return label
    return replace(label, attributes={**label.attributes, **json_normal(missing)})


def _uids(uids) -> tuple[str, ...]:
    if isinstance(uids, str):
        return (uids,)
    return tuple(uids)


def _insert_all(state: DocState, placed) -> None:
    """Insert (annotation, creation-order seq) pairs, in the given order."""
    for ann, seq in placed:
        state.insert(ann, seq)


def _remove_all(state: DocState, placed) -> None:
    """Remove the annotations of (annotation, seq) pairs, in the given order."""
    for ann, _ in placed:
        state.remove(ann.uid)


# ---------------------------------------------------------------------------------- commands
@_register
@dataclass(frozen=True)
class CreateCuboid(Command):
    """Add a cuboid to a frame. Bind fills ``uid`` (uuid4 hex), a new track id when the label has
    none, the class's default attributes, and ``seq`` (its place in creation order)."""

    kind: ClassVar[str] = "create"
    _codecs: ClassVar[dict[str, str]] = {"label": "label"}
    frame: int
    label: CuboidLabel
    uid: str | None = None
    seq: int | None = None

    @property
    def description(self) -> str:
        return f"Create {self.label.label}"

    @property
    def is_bound(self) -> bool:
        return self.uid is not None and self.seq is not None and self.label.track_id is not None

    def bind(self, state: DocState) -> "CreateCuboid":
        frame = state.check_frame(self.frame)
        label = _with_defaults(_normal_label(self.label, state), state)
        uid = self.uid or new_uid(state)
        if uid in state.anns:
            raise CommandError(f"an annotation with uid {uid} already exists")
        if label.track_id is None:
            label = replace(label, track_id=str(state.next_track))
            state.next_track += 1
        _check_track_free(state, label.track_id, frame)
        seq = self.seq if self.seq is not None else state.next_seq
        return CreateCuboid(frame, label, uid, seq)

    def do(self, state: DocState) -> None:
        self._require_bound()
        state.insert(Annotation(self.uid, self.frame, self.label), self.seq)

    def undo(self, state: DocState) -> None:
        state.remove(self.uid)


@_register
@dataclass(frozen=True)
class DeleteCuboids(Command):
    """Remove cuboids; bound with the removed annotations and their places in creation order."""

    kind: ClassVar[str] = "delete"
    _codecs: ClassVar[dict[str, str]] = {"uids": "strs", "before": "placed"}
    uids: tuple[str, ...]
    before: tuple[tuple[Annotation, int], ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "uids", _uids(self.uids))

    @property
    def description(self) -> str:
        return "Delete cuboid" if len(self.uids) == 1 else f"Delete {len(self.uids)} cuboids"

    @property
    def is_bound(self) -> bool:
        return len(self.before) == len(self.uids)

    @property
    def is_noop(self) -> bool:
        return not self.uids

    def bind(self, state: DocState) -> "DeleteCuboids":
        uids = tuple(dict.fromkeys(self.uids))
        before = tuple((state.annotation(u), state.seq[u]) for u in uids)
        return DeleteCuboids(uids, before)

    def do(self, state: DocState) -> None:
        self._require_bound()
        for uid in self.uids:
            state.remove(uid)

    def undo(self, state: DocState) -> None:
        _insert_all(state, self.before)


# ------------------------------------------------------------------------ single-value commands
@dataclass(frozen=True)
class SetValue(Command):
    """Base of the commands that set one value and keep the value they replace in ``before``.

    A subclass declares its fields, the last one ``before: ... = None``, names the field holding
    the new value in ``value_field``, and says how to validate (:meth:`_validated`) and where the
    value lives (:meth:`_current`, :meth:`_put`). Bound means ``before`` is known; a no-op sets
    the value it already has.
    """

    value_field: ClassVar[str] = ""

    @property
    def value(self) -> Any:
        """The value this command sets."""
        return getattr(self, self.value_field)

    @property
    def is_bound(self) -> bool:
        return self.before is not None

    @property
    def is_noop(self) -> bool:
        return self.value == self.before

    def bind(self, state: DocState) -> "SetValue":
        cmd = self._validated(state)
        return replace(cmd, before=cmd._current(state))

    def do(self, state: DocState) -> None:
        self._require_bound()
        self._put(state, self.value)

    def undo(self, state: DocState) -> None:
        self._put(state, self.before)

    def _validated(self, state: DocState) -> "SetValue":
        """This command, or a normalised copy; CommandError when it does not fit ``state``."""
        return self

    def _current(self, state: DocState) -> Any:
        raise NotImplementedError

    def _put(self, state: DocState, value: Any) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class SetLabelField(SetValue):
    """A :class:`SetValue` on one field (``label_field``) of the label of cuboid ``self.uid``."""

    label_field: ClassVar[str] = ""

    @property
    def merge_key(self) -> tuple | None:
        return (self.kind, self.uid)

    def _current(self, state: DocState) -> Any:
        return getattr(state.annotation(self.uid).label, self.label_field)

    def _put(self, state: DocState, value: Any) -> None:
        ann = state.anns[self.uid]
        state.replace(ann.with_label(replace(ann.label, **{self.label_field: value})))


@_register
@dataclass(frozen=True)
class SetBox(SetLabelField):
    """Give a cuboid a new box (one mouse drag or one key press = one SetBox)."""

    kind: ClassVar[str] = "set_box"
    _codecs: ClassVar[dict[str, str]] = {"box": "cuboid", "before": "cuboid?"}
    value_field = label_field = "box"
    uid: str
    box: Cuboid
    description: str = "Move"
    before: Cuboid | None = None

    def _validated(self, state: DocState) -> "SetBox":
        if not isinstance(self.box, Cuboid):
            raise CommandError(f"expected a Cuboid, got {type(self.box).__name__}")
        return self


@_register
@dataclass(frozen=True)
class SetClass(SetLabelField):
    """Retype a cuboid (box and attributes unchanged)."""

    kind: ClassVar[str] = "set_class"
    value_field, label_field = "cls", "label"
    uid: str
    cls: str
    before: str | None = None

    @property
    def description(self) -> str:
        return f"Set class {self.cls}"

    def _validated(self, state: DocState) -> "SetClass":
        _check_class(state, self.cls)
        return self


@_register
@dataclass(frozen=True)
class SetAttributes(SetLabelField):
    """Merge ``attributes`` into a cuboid's attributes; a value of None removes that key.

    Attributes the ontology declares for the cuboid's class are validated (kind, choices)."""

    kind: ClassVar[str] = "set_attributes"
    value_field = label_field = "attributes"
    uid: str
    attributes: dict[str, Any]
    before: dict[str, Any] | None = None

    @property
    def description(self) -> str:
        keys = list(self.attributes)
        if len(keys) == 1:
            return f"Set {keys[0]}"
        return "Set attributes"

    @property
    def is_noop(self) -> bool:
        return self.before is not None and self._merged(self.before) == self.before

    @property
    def merge_key(self) -> tuple:
        # do() merges into the attributes of the moment, so only commands setting the same names
        # fold: the later one then sets every value the earlier one did (typing in a text attribute)
        return (self.kind, self.uid, tuple(sorted(self.attributes)))

    def _merged(self, current: dict) -> dict:
        out = dict(current)
        for k, v in self.attributes.items():
            if v is None:
                out.pop(k, None)
            else:
                out[k] = v
        return out

    def _validated(self, state: DocState) -> "SetAttributes":
        ann = state.annotation(self.uid)
        if not isinstance(self.attributes, dict) or not all(isinstance(k, str) for k in self.attributes):
            raise CommandError(f"attributes must be a mapping of names to values, got {self.attributes!r}")
        values = json_normal(self.attributes)
        specs = state.ontology.get(ann.cls).attributes if state.ontology and ann.cls in state.ontology else {}
        for k, v in values.items():
            if v is not None and k in specs:
                try:
                    values[k] = specs[k].validate(v)
                except ValueError as e:
                    raise CommandError(f"{ann.cls}: {e}") from None
        return replace(self, attributes=values)

    def _current(self, state: DocState) -> dict:
        return dict(super()._current(state))

    def do(self, state: DocState) -> None:
        self._require_bound()
        self._put(state, self._merged(state.anns[self.uid].attributes))

    def undo(self, state: DocState) -> None:
        self._put(state, dict(self.before))


@_register
@dataclass(frozen=True)
class SetTrack(SetLabelField):
    """Move a cuboid to another track (e.g. to join two track pieces); a track has one cuboid per frame.

    ``before`` is "" when the cuboid had no track."""

    kind: ClassVar[str] = "set_track"
    value_field = label_field = "track_id"
    uid: str
    track_id: str
    before: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "track_id", str(self.track_id))

    @property
    def description(self) -> str:
        return f"Set track {self.track_id}"

    def _validated(self, state: DocState) -> "SetTrack":
        ann = state.annotation(self.uid)
        if not self.track_id:
            raise CommandError("track id must not be empty")
        _check_track_free(state, self.track_id, ann.frame, self.uid)
        return self

    def _current(self, state: DocState) -> str:
        track = super()._current(state)
        return track if track is not None else ""

    def _put(self, state: DocState, value: str) -> None:
        super()._put(state, value or None)

    def do(self, state: DocState) -> None:
        super().do(state)
        state.note_track(self.track_id)


@_register
@dataclass(frozen=True)
class SetAbsent(SetValue):
    """Mark (``absent=True``) or unmark track ``track_id``'s object as absent in ``frame``: hidden
    behind something or out of view, so no cuboid of it belongs there and interpolation and
    propagation leave the frame empty. A cuboid of the track in that frame is not touched (the
    edit actions delete it in the same step)."""

    kind: ClassVar[str] = "set_absent"
    value_field = "absent"
    track_id: str
    frame: int
    absent: bool = True
    before: bool | None = None

    def __post_init__(self):
        object.__setattr__(self, "track_id", str(self.track_id))

    @property
    def description(self) -> str:
        return f"{'Mark' if self.absent else 'Unmark'} track {self.track_id} absent in frame {self.frame}"

    @property
    def merge_key(self) -> tuple:
        return (self.kind, self.track_id, self.frame)

    def _validated(self, state: DocState) -> "SetAbsent":
        state.check_frame(self.frame)
        if not self.track_id:
            raise CommandError("track id must not be empty")
        if not isinstance(self.absent, bool):
            raise CommandError(f"absent must be true or false, got {self.absent!r}")
        return self

    def _current(self, state: DocState) -> bool:
        return state.is_absent(self.track_id, self.frame)

    def _put(self, state: DocState, value: bool) -> None:
        state.set_absent(self.track_id, self.frame, value)


# ------------------------------------------------------------------------ recording commands
@dataclass(frozen=True)
class RecordingCommand(Command):
    """Base of the commands whose bind records the annotations they change in ``record_field``
    (a tuple, None until bound); a bound command that recorded nothing is a no-op."""

    record_field: ClassVar[str] = "before"

    @property
    def is_bound(self) -> bool:
        return getattr(self, self.record_field) is not None

    @property
    def is_noop(self) -> bool:
        return self.is_bound and not getattr(self, self.record_field)


@_register
@dataclass(frozen=True)
class CopyToFrame(RecordingCommand):
    """Copy cuboids to another frame with the same track ids; tracks already there are skipped.

    ``T_target_source`` (16 floats, row-major 4x4) optionally maps boxes from the source frame's
    LiDAR frame to the target's (ego-motion compensation; see edit_actions.copy_to_next_frame).
    Point counts count one frame's points: ``lidar_counts`` (source uid -> LiDAR points in its
    copy's box in the target sweep) gives the copies' LiDAR counts; a copy without one drops them,
    and radar counts are always dropped (:func:`~.point_counts.with_lidar_count`). A copy carries
    no detection score (:mod:`.detection_score`). ``target_name`` names the target frame in the
    description (the drive's frame ID)."""

    kind: ClassVar[str] = "copy_to_frame"
    _codecs: ClassVar[dict[str, str]] = {"uids": "strs", "created": "placed", "T_target_source": "floats?"}
    _later_fields: ClassVar[tuple[str, ...]] = ("lidar_counts", "target_name")
    record_field = "created"
    uids: tuple[str, ...]
    target_frame: int
    T_target_source: tuple[float, ...] | None = None
    lidar_counts: dict[str, int] | None = None
    target_name: str | None = None
    created: tuple[tuple[Annotation, int], ...] | None = None

    def __post_init__(self):
        object.__setattr__(self, "uids", _uids(self.uids))
        if self.T_target_source is not None:
            T = np.asarray(self.T_target_source, dtype=np.float64).reshape(-1)
            if T.size != 16 or not np.all(np.isfinite(T)):
                raise ValueError(f"T_target_source must be 16 finite numbers (4x4), got {T.size} values")
            object.__setattr__(self, "T_target_source", tuple(float(v) for v in T))
        if self.lidar_counts is not None:
            object.__setattr__(self, "lidar_counts", {str(k): int(v) for k, v in self.lidar_counts.items()})

    @property
    def description(self) -> str:
        n = len(self.created) if self.created is not None else len(self.uids)
        where = self.target_name if self.target_name is not None else self.target_frame
        return f"Copy {n} cuboid{'s' if n != 1 else ''} to frame {where}"

    def bind(self, state: DocState) -> "CopyToFrame":
        target = state.check_frame(self.target_frame)
        T = None if self.T_target_source is None else np.asarray(self.T_target_source).reshape(4, 4)
        created = []
        taken: set[str] = set()
        for uid in dict.fromkeys(self.uids):
            src = state.annotation(uid)
            if src.frame == target:
                continue
            track = src.track_id
            if track is None or track in taken or target in state.by_track.get(track, {}):
                continue
            box = src.box if T is None else src.box.transformed(T)
            attributes = without_score(with_lidar_count(src.attributes, (self.lidar_counts or {}).get(uid)))
            label = replace(src.label, box=box, score=None, attributes=attributes)
            created.append((Annotation(new_uid(state), target, label), state.next_seq))
            state.next_seq += 1
            taken.add(track)
        return replace(self, created=tuple(created))

    def do(self, state: DocState) -> None:
        self._require_bound()
        _insert_all(state, self.created)

    def undo(self, state: DocState) -> None:
        _remove_all(state, reversed(self.created))


@_register
@dataclass(frozen=True)
class DeleteTrackFrom(RecordingCommand):
    """Remove a track's cuboids in ``frame`` and every later frame."""

    kind: ClassVar[str] = "delete_track_from"
    _codecs: ClassVar[dict[str, str]] = {"before": "placed"}
    track_id: str
    frame: int
    before: tuple[tuple[Annotation, int], ...] | None = None

    def __post_init__(self):
        object.__setattr__(self, "track_id", str(self.track_id))

    @property
    def description(self) -> str:
        return f"Delete track {self.track_id} from frame {self.frame}"

    def bind(self, state: DocState) -> "DeleteTrackFrom":
        state.check_frame(self.frame)
        frames = state.by_track.get(self.track_id, {})
        uids = [frames[f] for f in sorted(frames) if f >= self.frame]
        return replace(self, before=tuple((state.anns[u], state.seq[u]) for u in uids))

    def do(self, state: DocState) -> None:
        self._require_bound()
        _remove_all(state, self.before)

    def undo(self, state: DocState) -> None:
        _insert_all(state, self.before)


@_register
@dataclass(frozen=True)
class AcceptPrelabel(RecordingCommand):
    """Turn model pre-labels into human labels; the model's score moves to attributes["prelabel_score"]."""

    kind: ClassVar[str] = "accept_prelabel"
    _codecs: ClassVar[dict[str, str]] = {"uids": "strs", "before": "anns"}
    uids: tuple[str, ...]
    before: tuple[Annotation, ...] | None = None

    def __post_init__(self):
        object.__setattr__(self, "uids", _uids(self.uids))

    @property
    def description(self) -> str:
        n = len(self.before) if self.before is not None else len(self.uids)
        return "Accept pre-label" if n == 1 else f"Accept {n} pre-labels"

    def bind(self, state: DocState) -> "AcceptPrelabel":
        anns = [state.annotation(u) for u in dict.fromkeys(self.uids)]
        return replace(self, before=tuple(a for a in anns if a.source == "model"))

    @staticmethod
    def accepted(label: CuboidLabel) -> CuboidLabel:
        attributes = dict(label.attributes)
        if label.score is not None:
            attributes[PRELABEL_SCORE] = label.score
        return replace(label, source="human", score=None, attributes=attributes)

    def do(self, state: DocState) -> None:
        self._require_bound()
        for ann in self.before:
            state.replace(ann.with_label(self.accepted(ann.label)))

    def undo(self, state: DocState) -> None:
        for ann in self.before:
            state.replace(ann)


@_register
@dataclass(frozen=True)
class SetFrameStatus(SetValue):
    """Mark a frame new, in_progress, done or reviewed."""

    kind: ClassVar[str] = "set_frame_status"
    value_field = "status"
    frame: int
    status: str
    before: str | None = None

    @property
    def description(self) -> str:
        return f"Mark frame {self.frame} {self.status.replace('_', ' ')}"

    @property
    def merge_key(self) -> tuple:
        return (self.kind, self.frame)

    def _validated(self, state: DocState) -> "SetFrameStatus":
        state.check_frame(self.frame)
        if self.status not in FRAME_STATUSES:
            raise CommandError(f"frame status must be one of {', '.join(FRAME_STATUSES)}, got {self.status!r}")
        return self

    def _current(self, state: DocState) -> str:
        return state.status.get(self.frame, "new")

    def _put(self, state: DocState, value: str) -> None:
        state.set_status(self.frame, value)


@_register
@dataclass(frozen=True)
class Batch(Command):
    """Several commands done and undone as one step (one undo entry, one transaction)."""

    kind: ClassVar[str] = "batch"
    _codecs: ClassVar[dict[str, str]] = {"commands": "commands"}
    commands: tuple[Command, ...]
    description: str = "Edit"

    def __post_init__(self):
        object.__setattr__(self, "commands", tuple(self.commands))

    @property
    def is_bound(self) -> bool:
        return all(c.is_bound for c in self.commands)

    @property
    def is_noop(self) -> bool:
        return all(c.is_noop for c in self.commands)

    def bind(self, state: DocState) -> "Batch":
        """Bind each command on the state left by the previous ones, then restore the state.
        Commands that each set the box, class or attributes of a cuboid of their own cannot see
        each other, so they are bound on the state as it is (a whole long track's attribute:
        nothing done and taken back per cuboid)."""
        if _apart(self.commands):
            bound = (cmd.bind(state) for cmd in self.commands)
            return replace(self, commands=tuple(b for b in bound if not b.is_noop))
        done: list[Command] = []
        try:
            for cmd in self.commands:
                bound = cmd.bind(state)
                if bound.is_noop:
                    continue
                bound.do(state)
                done.append(bound)
        finally:
            for cmd in reversed(done):
                cmd.undo(state)
        return replace(self, commands=tuple(done))

    def do(self, state: DocState) -> None:
        self._require_bound()
        for cmd in self.commands:
            cmd.do(state)

    def undo(self, state: DocState) -> None:
        for cmd in reversed(self.commands):
            cmd.undo(state)


def _apart(commands) -> bool:
    """Whether ``commands`` only set a box, class or attributes (each looking at its own cuboid and
    the ontology alone when bound), each on another cuboid."""
    uids = {c.uid for c in commands if type(c) in (SetBox, SetClass, SetAttributes)}
    return len(uids) == len(commands)


def keeps_every_cuboid(cmd: Command) -> bool:
    """Whether doing and undoing ``cmd`` leave every cuboid there (it only sets values: boxes,
    classes, attributes, tracks, absent marks, frame statuses), so no removal needs counting."""
    return all(isinstance(c, SetValue) for c in leaves(cmd))


def leaves(cmd: Command):
    """The commands of ``cmd`` that are not Batches, in the order they are done."""
    if isinstance(cmd, Batch):
        for c in cmd.commands:
            yield from leaves(c)
    else:
        yield cmd


def merged(earlier: Command, later: Command, description: str) -> Batch | None:
    """One bound command doing what bound ``earlier`` and then bound ``later`` did, or None when
    they cannot be one: every command in both (Batches are looked into) must set a whole value
    (:attr:`Command.merge_key`: SetBox, SetClass, SetTrack, SetFrameStatus, SetAttributes of the
    same names). Each value then goes straight from what it was before ``earlier`` to what it is
    after ``later``; values back where they started are left out, so the result is a no-op when
    everything is. Folding consecutive key nudges, or the keystrokes typed into a text attribute,
    into one undo step is built on this."""
    steps: dict[tuple, Command] = {}
    for cmd in (*leaves(earlier), *leaves(later)):
        key = cmd.merge_key
        if key is None or not cmd.is_bound:
            return None
        first = steps.get(key)
        steps[key] = cmd if first is None else replace(cmd, before=first.before)
    return Batch(tuple(c for c in steps.values() if not c.is_noop), description)


# ---------------------------------------------------------------------------------- codecs
def cuboid_to_dict(box: Cuboid) -> dict:
    return {"center": list(box.center), "size": list(box.size), "yaw": box.yaw, "pitch": box.pitch, "roll": box.roll}




def cuboid_from_dict(d: dict) -> Cuboid:
    """Rebuild a stored cuboid exactly (a stored yaw in (-pi, pi] is kept bit for bit)."""
    return Cuboid(d["center"], d["size"], float(d.get("yaw", 0.0)), float(d.get("pitch", 0.0)),
                  float(d.get("roll", 0.0)))


def label_to_dict(label: CuboidLabel) -> dict:
    return {"box": cuboid_to_dict(label.box), "label": label.label, "track_id": label.track_id,
            "score": label.score, "source": label.source, "attributes": label.attributes}


def label_from_dict(d: dict) -> CuboidLabel:
    return CuboidLabel(cuboid_from_dict(d["box"]), d["label"], d.get("track_id"), d.get("score"),
                       d.get("source", "human"), dict(d.get("attributes") or {}))


def annotation_to_dict(ann: Annotation) -> dict:
    return {"uid": ann.uid, "frame": ann.frame, "label": label_to_dict(ann.label)}


def annotation_from_dict(d: dict) -> Annotation:
    return Annotation(d["uid"], int(d["frame"]), label_from_dict(d["label"]))


def _encode(codec: str, v):
    if v is None:
        return None
    if codec == "label":
        return label_to_dict(v)
    if codec in ("cuboid", "cuboid?"):
        return cuboid_to_dict(v)
    if codec == "placed":
        return [{**annotation_to_dict(a), "seq": s} for a, s in v]
    if codec == "anns":
        return [annotation_to_dict(a) for a in v]
    if codec == "commands":
        return [c.to_dict() for c in v]
    if codec in ("strs", "floats?"):
        return list(v)
    return v


def _decode(codec: str, v):
    if v is None:
        return None
    if codec == "label":
        return label_from_dict(v)
    if codec in ("cuboid", "cuboid?"):
        return cuboid_from_dict(v)
    if codec == "placed":
        return tuple((annotation_from_dict(d), int(d["seq"])) for d in v)
    if codec == "anns":
        return tuple(annotation_from_dict(d) for d in v)
    if codec == "commands":
        return tuple(command_from_dict(d) for d in v)
    if codec == "strs":
        return tuple(str(x) for x in v)
    if codec == "floats?":
        return tuple(float(x) for x in v)
    return v


__all__ = ["Command", "SetValue", "SetLabelField", "RecordingCommand", "CreateCuboid", "DeleteCuboids", "SetBox", "SetClass", "SetAttributes", "SetTrack",
           "CopyToFrame", "DeleteTrackFrom", "AcceptPrelabel", "SetFrameStatus", "Batch", "COMMANDS",
           "leaves", "merged", "command_from_dict", "command_from_json", "CommandError", "json_normal"]
