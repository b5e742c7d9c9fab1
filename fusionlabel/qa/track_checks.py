"""Label checks along tracks: a track's boxes, frame after frame, should be one rigid object that
moves as such objects can.

* ``track-class``: a track whose class changes;
* ``track-size``: a rigid object (:data:`RIGID`) whose size changes between two of its boxes by more
  than :data:`SIZE_TOLERANCE` (metres or share, whichever is larger);
* ``track-jump``: a box that moves faster than its class can (:data:`MAX_SPEED`) between two
  consecutive boxes of its track, in the world frame (ego poses). Without ego poses the boxes are
  compared in the LiDAR frame, which moves with the ego: the ego's own speed and turn
  (:data:`EGO_MAX_SPEED`, :data:`EGO_MAX_YAW_RATE` times the distance) are allowed on top;
* ``track-yaw-flip``: a heading that turns by :data:`FLIP_ANGLE` or more within :data:`FLIP_GAP_S`,
  or, for a vehicle, further than it can turn on the way its box travelled (:data:`TURN_RADIUS`,
  boxes at most :data:`TURN_GAP_S` apart): the box drawn facing backwards. A step that is a
  ``track-jump`` (another object's box, e.g. an ID switch) is not taken for a flip as well; steps no
  rule can judge (a pedestrian's boxes 0.5 s apart) are counted in a note.

Tracks are the labels' track IDs; boxes without one are not tracked. Thresholds and the data they
were set on are in docs/label_checks.md.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..geometry.cuboid import Cuboid, centres_and_yaws
from ..model.annotation import CuboidLabel
from .box_checks import size_class
from .findings import ERROR, WARNING, Finding

RIGID = ("car", "van", "truck", "bus", "tram", "motorcycle", "cyclist")
SIZE_TOLERANCE = (0.3, 0.1)      # metres, share of the larger size: a dimension may change by the larger
# m/s in the world frame, by class of the default ontology; other classes get DEFAULT_MAX_SPEED
MAX_SPEED = {"pedestrian": 12.0, "cyclist": 40.0, "tram": 35.0, "barrier": 1.0, "traffic_cone": 1.0}
DEFAULT_MAX_SPEED = 70.0
POSITION_NOISE = 0.5             # m: a box's placement error, allowed on top of the speed
EGO_MAX_SPEED = 45.0             # m/s: the ego's own speed, allowed without ego poses
EGO_MAX_YAW_RATE = 0.7           # rad/s: the ego's turn, times the distance, allowed without ego poses
FLIP_ANGLE = np.radians(150.0)
FLIP_GAP_S = 0.35                # s: headings further apart in time may really have turned
# m: the tightest turn of a vehicle's centre; a heading turns at most (distance travelled / radius)
TURN_RADIUS = {"car": 4.0, "van": 4.5, "truck": 6.0, "bus": 7.0, "tram": 10.0}
TURN_SLACK = np.radians(30.0)    # heading error of two boxes, allowed on top of the turn
TURN_GAP_S = 5.0                 # s: longer gaps may hide a turn in three moves
HEADED = ("car", "van", "truck", "bus", "tram", "motorcycle", "cyclist", "pedestrian")


@dataclass(frozen=True)
class TrackFrame:
    """One frame's labels for the track checks: ``time_us`` its capture time (None: unknown),
    ``T_world_lidar`` its pose (None: no ego poses, boxes stay in the LiDAR frame), ``absent`` the
    tracks accounted for in it without a checked box: their object marked absent (hidden or out of
    view: a project's ``H`` marks), or held by a pre-label not yet accepted (``I``, ``V``)."""

    frame_id: str
    time_us: int | None
    T_world_lidar: np.ndarray | None
    labels: list[CuboidLabel]
    absent: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TrackBox:
    """One box of a track: ``frame`` its index in the checked frames, ``cls`` its class in the
    default ontology, ``center`` and ``yaw`` its centre and heading in the world frame (the LiDAR
    frame without ego poses, ``T_world_lidar`` None); :attr:`world` is the whole cuboid there."""

    frame: int
    label: CuboidLabel
    cls: str
    center: tuple[float, float, float]
    yaw: float
    T_world_lidar: np.ndarray | None = field(default=None, compare=False, repr=False)

    @cached_property
    def world(self) -> Cuboid:
        """The box in the world frame, built when asked (a track's ends, a handover's neighbours)."""
        return self.label.box if self.T_world_lidar is None else self.label.box.transformed(self.T_world_lidar)


def track_boxes(frames: list[TrackFrame]) -> dict[str, list[TrackBox]]:
    """Each track's boxes in ``frames`` (in order), in the world frame when the frames have poses
    (each frame's boxes moved there at once: :func:`~fusionlabel.geometry.cuboid.centres_and_yaws`)."""
    out: dict[str, list[TrackBox]] = defaultdict(list)
    for i, f in enumerate(frames):
        tracked = [lab for lab in f.labels if lab.track_id is not None]
        if not tracked:
            continue
        if f.T_world_lidar is None:
            places = [(lab.box.center, lab.box.yaw) for lab in tracked]
        else:
            centres, yaws = centres_and_yaws([lab.box for lab in tracked], f.T_world_lidar)
            places = zip(map(tuple, centres.tolist()), yaws.tolist())
        for lab, (center, yaw) in zip(tracked, places):
            out[lab.track_id].append(TrackBox(i, lab, size_class(lab.label) or lab.label, center, yaw,
                                              f.T_world_lidar))
    return out


def _subject(tid: str, boxes: list[TrackBox]) -> str:
    return f"track {tid} ({boxes[0].label.label})"


def _between(frames: list[TrackFrame], a: TrackBox, b: TrackBox) -> str:
    return f"frames {frames[a.frame].frame_id} -> {frames[b.frame].frame_id}"


def about_step(frames: list[TrackFrame], tid: str, boxes: list[TrackBox], a: TrackBox, b: TrackBox,
               steps: list[tuple[TrackBox, TrackBox]] = ()) -> dict:
    """The structured fields of a finding about track ``tid``'s step from box ``a`` to box ``b``
    (the one its message names), out of ``steps`` (every step it found; default that one)."""
    found = sorted({i for step in (steps or [(a, b)]) for i in (step[0].frame, step[1].frame)})
    return dict(frame=frames[a.frame].frame_id, frames=tuple(frames[i].frame_id for i in found),
                track_id=tid, cls=boxes[0].label.label)


def class_finding(frames: list[TrackFrame], tid: str, boxes: list[TrackBox]) -> Finding | None:
    """``track-class``: the track's boxes have more than one class."""
    changes = [(a, b) for a, b in zip(boxes, boxes[1:]) if a.cls != b.cls]
    if not changes:
        return None
    a, b = changes[0]
    more = f" ({len(changes)} changes)" if len(changes) > 1 else ""
    return Finding(WARNING, _subject(tid, boxes), "track-class",
                   f"class changes from {a.label.label} to {b.label.label} between {_between(frames, a, b)}{more}",
                   "give every box of the track the same class, or split the track where the object changes",
                   **about_step(frames, tid, boxes, a, b, changes))


def size_finding(frames: list[TrackFrame], tid: str, boxes: list[TrackBox]) -> Finding | None:
    """``track-size``: a rigid object's size changes between consecutive boxes beyond :data:`SIZE_TOLERANCE`."""
    if boxes[0].cls not in RIGID:
        return None
    worst, steps = None, []
    for a, b in zip(boxes, boxes[1:]):
        sa, sb = np.asarray(a.label.box.size), np.asarray(b.label.box.size)
        tolerance = np.maximum(SIZE_TOLERANCE[0], SIZE_TOLERANCE[1] * np.maximum(sa, sb))
        excess = np.abs(sa - sb) - tolerance
        if excess.max() > 0.0:
            steps.append((a, b))
            if worst is None or excess.max() > worst[0]:
                k = int(np.argmax(excess))
                worst = (excess.max(), a, b, abs(sa[k] - sb[k]), tolerance[k])
    if worst is None:
        return None
    _, a, b, change, tolerance = worst
    more = f" ({len(steps)} changes)" if len(steps) > 1 else ""
    fmt = lambda s: " x ".join(f"{v:.2f}" for v in s)   # noqa: E731
    return Finding(WARNING, _subject(tid, boxes), "track-size",
                   f"size {fmt(a.label.box.size)} m becomes {fmt(b.label.box.size)} m between {_between(frames, a, b)}{more}; "
                   f"a {a.cls} keeps its size (tolerance {SIZE_TOLERANCE[0]} m or {SIZE_TOLERANCE[1]:.0%})",
                   "give the track's boxes one size (the size of its best-seen box)",
                   **about_step(frames, tid, boxes, a, b, steps), value=change, threshold=tolerance, unit="m")


def _moved(a: TrackBox, b: TrackBox) -> float:
    return float(np.hypot(*np.subtract(b.center[:2], a.center[:2])))


def _jumps(frames: list[TrackFrame], boxes: list[TrackBox]) -> list[tuple[TrackBox, TrackBox, float, float, float]]:
    """Consecutive boxes further apart than their class can move: (a, b, moved, dt, limit) each."""
    out = []
    for a, b in zip(boxes, boxes[1:]):
        ta, tb = frames[a.frame].time_us, frames[b.frame].time_us
        if ta is None or tb is None or tb <= ta:
            continue
        dt = (tb - ta) / 1e6
        moved = _moved(a, b)
        limit = MAX_SPEED.get(a.cls, DEFAULT_MAX_SPEED) * dt + POSITION_NOISE
        if frames[a.frame].T_world_lidar is None:
            limit += (EGO_MAX_SPEED + EGO_MAX_YAW_RATE * float(np.hypot(*a.center[:2]))) * dt
        if moved > limit:
            out.append((a, b, moved, dt, limit))
    return out


def jump_finding(frames: list[TrackFrame], tid: str, boxes: list[TrackBox]) -> Finding | None:
    """``track-jump``: consecutive boxes of the track further apart than their class can move in the
    time between their frames (see the module docstring)."""
    jumps = _jumps(frames, boxes)
    if not jumps:
        return None
    a, b, moved, dt, limit = max(jumps, key=lambda j: j[2] / j[4])
    more = f" ({len(jumps)} jumps)" if len(jumps) > 1 else ""
    frame = "world" if frames[a.frame].T_world_lidar is not None else "LiDAR (no ego poses)"
    return Finding(ERROR, _subject(tid, boxes), "track-jump",
                   f"moves {moved:.1f} m in {dt:.2f} s ({moved / dt:.0f} m/s in the {frame} frame) between "
                   f"{_between(frames, a, b)}, more than the {limit:.1f} m a {a.cls} can{more}",
                   "move the box back onto its object, or give it the track ID of the object it is on",
                   **about_step(frames, tid, boxes, a, b, [j[:2] for j in jumps]), value=moved, threshold=limit,
                   unit="m")


def _heading_turn(a: TrackBox, b: TrackBox) -> float:
    return abs((b.yaw - a.yaw + np.pi) % (2.0 * np.pi) - np.pi)


def _flip_step(frames: list[TrackFrame], a: TrackBox, b: TrackBox) -> bool | None:
    """Whether the heading turns further between boxes ``a`` and ``b`` than the object can have
    turned; None when no rule can tell (boxes too far apart in time for the class)."""
    turn = _heading_turn(a, b)
    ta, tb = frames[a.frame].time_us, frames[b.frame].time_us
    if ta is None or tb is None:
        return turn >= FLIP_ANGLE if b.frame - a.frame == 1 else None
    if 0 < tb - ta <= FLIP_GAP_S * 1e6:
        return turn >= FLIP_ANGLE
    radius = TURN_RADIUS.get(a.cls)
    if radius is None or not 0 < tb - ta <= TURN_GAP_S * 1e6:
        return None
    allowed = _moved(a, b) / radius + TURN_SLACK
    if frames[a.frame].T_world_lidar is None:     # boxes in the LiDAR frame turn with the ego too
        allowed += EGO_MAX_YAW_RATE * (tb - ta) / 1e6
    if allowed >= FLIP_ANGLE:
        return None
    return turn > allowed


def yaw_flip_finding(frames: list[TrackFrame], tid: str, boxes: list[TrackBox],
                     unjudged: list[int] | None = None) -> Finding | None:
    """``track-yaw-flip``: the heading turns by :data:`FLIP_ANGLE` or more between consecutive boxes
    that cannot have turned so far (see the module docstring; objects with a front only,
    :data:`HEADED`). Steps that jump are left to ``track-jump``; ``unjudged`` gets the number of
    steps no rule could judge added to its first element."""
    if boxes[0].cls not in HEADED:
        return None
    jumps = {(a.frame, b.frame) for a, b, *_ in _jumps(frames, boxes)}
    flips, n_unjudged = [], 0
    for a, b in zip(boxes, boxes[1:]):
        if (a.frame, b.frame) in jumps:
            continue
        flipped = _flip_step(frames, a, b)
        n_unjudged += flipped is None
        if flipped:
            flips.append((a, b))
    if unjudged is not None:
        unjudged[0] += n_unjudged
    if not flips:
        return None
    a, b = flips[0]
    more = f" ({len(flips)} flips)" if len(flips) > 1 else ""
    return Finding(WARNING, _subject(tid, boxes), "track-yaw-flip",
                   f"heading turns {np.degrees(_heading_turn(a, b)):.0f} deg between "
                   f"{_between(frames, a, b)}{more}: drawn facing backwards in one of them?",
                   "turn the box that faces the wrong way by 180 deg",
                   **about_step(frames, tid, boxes, a, b, flips), value=np.degrees(_heading_turn(a, b)),
                   unit="deg")


def track_findings(frames: list[TrackFrame], notes: list[str] | None = None,
                   tracks: dict[str, list[TrackBox]] | None = None) -> list[Finding]:
    """Every track check on the tracks of ``frames`` (in drive order), track by track; ``notes``
    gets a line for the heading steps that could not be checked. ``tracks``: :func:`track_boxes` of
    ``frames``, when the caller has them."""
    out, unjudged = [], [0]
    for tid, boxes in (track_boxes(frames) if tracks is None else tracks).items():
        for check in (class_finding, size_finding, jump_finding):
            if (f := check(frames, tid, boxes)) is not None:
                out.append(f)
        if (f := yaw_flip_finding(frames, tid, boxes, unjudged)) is not None:
            out.append(f)
    if unjudged[0] and notes is not None:
        notes.append(f"heading flips not checked on {unjudged[0]} track step{'s' if unjudged[0] != 1 else ''}: "
                     f"boxes more than {FLIP_GAP_S:g} s apart, or without capture times (a vehicle's are "
                     f"judged by how far it travelled, up to {TURN_GAP_S:g} s apart, less without ego poses)")
    return out
