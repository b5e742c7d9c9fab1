"""A class key on cuboids of several tracks retypes them in every frame: the first press says how far
that reaches and waits, the same key again within :data:`CONFIRM_S` seconds does it, Esc cancels.
A retype that stays in the frame shown, or covers one track (the documented whole-track retype),
needs no second press. The attribute panel's class box asks the same question in a message box
(:func:`plan_retype` says when, for both). Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import edit_actions
from ..wording import counted
from .track_actions import retype_command

CONFIRM_S = 4.0  # the second press of the same class key must come within this many seconds


@dataclass(frozen=True)
class Reach:
    """What retyping a selection to ``cls`` changes: the tracks it covers, the boxes whose class
    changes (uids), the frames they are in, and the attributes the retype drops from them (those
    ``cls`` does not have, :func:`~fusionlabel.model.edit_actions.retyped`)."""

    cls: str
    tracks: tuple[str, ...]
    boxes: frozenset[str]
    frames: frozenset[int]
    dropped: tuple[str, ...] = ()

    def text(self) -> str:
        """``36 tracks, 412 boxes in 154 frames``."""
        return (f"{counted(len(self.tracks), 'track')}, {counted(len(self.boxes), 'box')} in "
                f"{counted(len(self.frames), 'frame')}")

    def drops(self) -> str:
        """``; drops: parked, emergency`` when the retype drops attributes, else empty."""
        return f"; drops: {', '.join(self.dropped)}" if self.dropped else ""


def retype_reach(doc, selection, cls: str) -> Reach:
    """The :class:`Reach` of giving the selected cuboids' whole tracks class ``cls``
    (:func:`~fusionlabel.model.edit_actions.set_class`): a cuboid without a track is its own."""
    picked = edit_actions.selected(doc, selection)
    tracks = tuple(dict.fromkeys(a.track_id if a.track_id is not None else a.uid for a in picked))
    changed = [a for a in edit_actions.whole_tracks(doc, picked) if a.cls != cls]
    dropped = dict.fromkeys(name for a in changed for name in edit_actions.retyped(doc, a, cls)[1])
    return Reach(cls, tracks, frozenset(a.uid for a in changed), frozenset(a.frame for a in changed),
                 tuple(dropped))


def needs_confirming(reach: Reach, frame: int) -> bool:
    """Whether the retype asks for a second press: it covers several tracks and changes a box in a
    frame other than ``frame`` (the one shown)."""
    return len(reach.tracks) > 1 and bool(reach.frames - {frame})


@dataclass(frozen=True)
class PlannedRetype:
    """A retype of the selection to one class, before it is done: its command (None: nothing to
    change), the locked cuboids it would change (refused when any), its :class:`Reach`, and
    whether it asks first (:func:`needs_confirming`, on an edit that would go ahead)."""

    cmd: object
    locked: object
    reach: Reach
    asks: bool


def plan_retype(session, cls: str) -> PlannedRetype:
    """The :class:`PlannedRetype` of giving the selected cuboids' whole tracks class ``cls`` in
    ``session`` (a class key or the attribute panel's class box)."""
    cmd = retype_command(session, cls)     # built once: checked against the locks, then applied
    locked = session.locked_changes_of(cmd)
    reach = retype_reach(session.document, session.selection, cls)
    asks = cmd is not None and not locked and not session.read_only and needs_confirming(reach, session.frame)
    return PlannedRetype(cmd, locked, reach, asks)


def cancelled_text(reach: Reach) -> str:
    """What the status bar says when a retype that asked is not done."""
    return f"retype to {reach.cls} cancelled ({reach.text()} stay as they were)"


def say_done(reach: Reach):
    """How :func:`~.track_actions.retype` words the step: None (its description) for one track,
    else :func:`done_text` with ``reach``."""
    return None if len(reach.tracks) < 2 else lambda description: done_text(description, reach)


def done_text(description: str, reach: Reach) -> str:
    """The status bar's line after a retype of several tracks: the step's description (which
    counts every box of the tracks), then how many of those changed class (the others had it
    already), in how many frames, and that Ctrl+Z undoes it."""
    return (f"{description}; {len(reach.boxes)} of them changed class, in {counted(len(reach.frames), 'frame')} "
            f"(Ctrl+Z undoes it)")


class RetypeConfirm:
    """The class key press waiting for its second press. ``clock`` gives seconds."""

    def __init__(self, clock):
        self.clock = clock
        self.waiting: tuple[Reach, tuple[str, ...], int, float] | None = None

    def confirmed(self, reach: Reach, selection, frame: int) -> bool:
        """True when this press repeats the waiting one (same class, selection, frame and reach)
        soon enough; the waiting press is then used up. Otherwise this press waits."""
        waiting, now = self.waiting, self.clock()
        self.waiting = None
        if waiting is not None and waiting[:3] == (reach, tuple(selection), frame) and now - waiting[3] <= CONFIRM_S:
            return True
        self.waiting = (reach, tuple(selection), frame, now)
        return False

    def ask_text(self, reach: Reach, key: str | None) -> str:
        """What the first press says: ``retype 36 tracks, 412 boxes in 154 frames to van (not only
        this frame): press 2 again within 4 s to do it, Esc cancels`` (``(not only this frame;
        drops: parked)`` when it drops attributes, :meth:`Reach.drops`)."""
        press = f"press {key} again" if key else "press the same class key again"
        return (f"retype {reach.text()} to {reach.cls} (not only this frame{reach.drops()}): {press} within "
                f"{CONFIRM_S:g} s "
                f"to do it, Esc cancels")

    def cancel(self) -> Reach | None:
        """Forget the waiting press; returns its reach (None when no press was waiting, or its time
        is up)."""
        waiting, self.waiting = self.waiting, None
        return None if waiting is None or self.clock() - waiting[3] > CONFIRM_S else waiting[0]
