"""Label checks of where tracks break off: an object left out of some frames, or one object under two
track IDs.

* ``track-gap``: a track with boxes before and after some checked frames and none in them, where its
  object is not marked absent (hidden or out of view, ``H`` in the app), when the boxes either side
  are at most :data:`GAP_MAX_S` apart (:data:`GAP_MAX_FRAMES` frames without capture times): an
  object that stays that short a time out of the labels is one the annotator skipped. Longer gaps
  may be an object that left the sensors' view and came back: their frames count only where the
  sweeps show the object (:mod:`.track_presence`, which also finds ``track-end``).
* ``track-fragment``: a track whose boxes stop where a track of the same class starts within
  :data:`FRAGMENT_MAX_S` (:data:`FRAGMENT_MAX_FRAMES` frames without capture times), its first box
  within :data:`FRAGMENT_DISTANCE` of where the first track's object would be by then (moving on as
  between its last two boxes, in the world frame with ego poses): one object under two IDs. The same
  when the first ID takes the object back. A first box that overlaps another box of its class, or
  lies within that distance of one, is not taken for the object (that one has it; two boxes on one
  object are a ``label-duplicate``). The frames one such track covers in the other's gap are not also
  a ``track-gap``.

Frames are the checked frames (labelled frames, or those ``--frames`` picks); a frame with no box at
all is not among them. Thresholds and the data they were set on are in docs/label_checks.md.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..geometry.iou import bev_intersection
from ..wording import listing
from .findings import WARNING, Finding
from .track_checks import TrackFrame, TrackBox, track_boxes

if TYPE_CHECKING:
    from .track_presence import TrackPresence

GAP_MAX_S = 1.0              # s between the boxes either side of a gap
GAP_MAX_FRAMES = 10          # ... frames apart, without capture times (1 s at 10 Hz)
FRAGMENT_MAX_S = 0.5         # s from one track's last box to the other's first
FRAGMENT_MAX_FRAMES = 5      # ... frames apart, without capture times
FRAGMENT_DISTANCE = 1.0      # m from where the first track's object would be


@dataclass(frozen=True)
class Handover:
    """Track ``ended`` stops at box ``last`` and track ``started`` (re)starts at box ``first``,
    ``distance`` metres from where ``ended``'s object would be."""

    ended: str
    started: str
    last: TrackBox
    first: TrackBox
    distance: float


def close_in_time(frames: list[TrackFrame], a: int, b: int, max_s: float, max_frames: int) -> bool:
    """Frames ``a`` < ``b`` at most ``max_s`` apart (``max_frames`` apart when either has no time)."""
    ta, tb = frames[a].time_us, frames[b].time_us
    if ta is None or tb is None:
        return b - a <= max_frames
    return 0 < tb - ta <= max_s * 1e6


def _predicted(frames: list[TrackFrame], boxes: list[TrackBox], k: int, frame: int) -> np.ndarray:
    """Where box ``k``'s object would be (x, y) in ``frame``, moving on as from the box before it
    (when that is in the frame just before, and both have capture times); else where it is."""
    here = np.asarray(boxes[k].center[:2], dtype=float)
    if k == 0 or boxes[k - 1].frame != boxes[k].frame - 1:
        return here
    t0, t1, t2 = (frames[i].time_us for i in (boxes[k - 1].frame, boxes[k].frame, frame))
    if None in (t0, t1, t2) or t1 <= t0:
        return here
    velocity = (here - np.asarray(boxes[k - 1].center[:2])) / (t1 - t0)
    return here + velocity * (t2 - t1)


def handovers(frames: list[TrackFrame], tracks: dict[str, list[TrackBox]]) -> list[Handover]:
    """Every place where one track stops and another of the same class (re)starts close in time and
    where the first one's object would be (see the module docstring)."""
    ends, starts = [], []
    by_frame: dict[int, list[tuple[str, TrackBox]]] = defaultdict(list)
    for tid, boxes in tracks.items():
        for box in boxes:
            by_frame[box.frame].append((tid, box))

    def crowded(tid: str, box: TrackBox) -> bool:
        return any(t != tid and b.cls == box.cls and
                   (np.hypot(*np.subtract(b.center[:2], box.center[:2])) <= FRAGMENT_DISTANCE
                    or bev_intersection(b.world, box.world) > 0.0) for t, b in by_frame[box.frame])

    for tid, boxes in tracks.items():
        for k, box in enumerate(boxes):
            if k + 1 == len(boxes) or boxes[k + 1].frame != box.frame + 1:
                ends.append((tid, k))
            if k == 0 or boxes[k - 1].frame != box.frame - 1:
                starts.append((tid, k))
    out = []
    for tid, k in ends:
        boxes, last = tracks[tid], tracks[tid][k]
        resumes = boxes[k + 1].frame if k + 1 < len(boxes) else len(frames)
        for other, j in starts:
            first, before = tracks[other][j], tracks[other][j - 1].frame if j else -1
            if (other == tid or first.cls != last.cls or not last.frame < first.frame <= resumes - 1
                    or before >= last.frame
                    or not close_in_time(frames, last.frame, first.frame, FRAGMENT_MAX_S, FRAGMENT_MAX_FRAMES)):
                continue
            distance = float(np.hypot(*(np.asarray(first.center[:2]) -
                                        _predicted(frames, boxes, k, first.frame))))
            if distance <= FRAGMENT_DISTANCE and not crowded(other, first):
                out.append(Handover(tid, other, last, first, distance))
    return out


def fragment_findings(frames: list[TrackFrame], found: list[Handover]) -> list[Finding]:
    """``track-fragment``: one finding per pair of tracks with handovers, named after the track
    that stopped first."""
    pairs: dict[frozenset, list[Handover]] = defaultdict(list)
    for h in sorted(found, key=lambda h: h.last.frame):
        pairs[frozenset((h.ended, h.started))].append(h)
    out = []
    for members in pairs.values():
        h0 = members[0]
        name = lambda tid: f"track {tid} ({h0.last.label.label})"   # noqa: E731
        steps = [f"{name(h.ended)} stops at frame {frames[h.last.frame].frame_id} and {name(h.started)} "
                 f"{'starts' if h.started == h0.started else 'takes it back'} at {frames[h.first.frame].frame_id}, "
                 f"{h.distance:.2f} m from where the object would be" for h in members]
        fids = tuple(frames[i].frame_id for h in members for i in (h.last.frame, h.first.frame))
        out.append(Finding(WARNING, name(h0.ended), "track-fragment", "; ".join(steps) + ": one object under two IDs?",
                           f"give the boxes of track {h0.started} track {h0.ended}'s ID (merge the tracks)",
                           frame=fids[0], frames=fids, track_id=h0.ended, cls=h0.last.label.label,
                           value=max(h.distance for h in members), threshold=FRAGMENT_DISTANCE, unit="m"))
    return out


def gap_finding(frames: list[TrackFrame], tid: str, boxes: list[TrackBox], covered: set[int],
                seen: list[tuple[int, int, float]] = ()) -> Finding | None:
    """``track-gap``: the checked frames between two boxes of the track, close in time, where it has
    no box and is not marked absent; frames in ``covered`` (another ID held the object) left out.
    ``seen``: frames of longer gaps where the sweeps show the object, (frame, returns, threshold)."""
    missing = []
    for a, b in zip(boxes, boxes[1:]):
        if b.frame - a.frame > 1 and close_in_time(frames, a.frame, b.frame, GAP_MAX_S, GAP_MAX_FRAMES):
            missing += [i for i in range(a.frame + 1, b.frame) if tid not in frames[i].absent and i not in covered]
    if not missing and not seen:
        return None
    parts = []
    if missing:
        ids = [frames[i].frame_id for i in missing]
        parts.append(f"no box in {_frames(ids)} between boxes of the track at most {GAP_MAX_S:g} s apart, and not "
                     "marked absent there")
    if seen:
        ids = [frames[i].frame_id for i, _, _ in seen]
        held = sorted(n for _, n, _ in seen)
        returns = f"{held[0]}" if len(held) == 1 else f"{held[0]}-{held[-1]}"
        parts.append(f"no box in {_frames(ids)} of a gap longer than {GAP_MAX_S:g} s, where the box interpolated "
                     f"there holds {returns} LiDAR returns (at least {max(t for _, _, t in seen):.0f} show the object)")
    fids = tuple(frames[i].frame_id for i in sorted(missing + [i for i, _, _ in seen]))
    label = boxes[0].label.label
    return Finding(WARNING, f"track {tid} ({label})", "track-gap", "; ".join(parts) + ": left out?",
                   "draw the object's box in those frames (interpolate), or mark it absent there (H) if it "
                   "cannot be seen", frame=fids[0], frames=fids, track_id=tid, cls=label, value=len(fids),
                   unit="frames")


def _frames(ids: list[str]) -> str:
    return f"{len(ids)} frame{'s' if len(ids) > 1 else ''} ({listing(ids, 6)})"


def covered_frames(frames: list[TrackFrame], tracks: dict[str, list[TrackBox]],
                   found: list[Handover] | None = None) -> dict[str, set[int]]:
    """By track, the checked frames another track holds its object in (its handovers, ``found`` or
    those of ``tracks``)."""
    covered: dict[str, set[int]] = defaultdict(set)
    for h in handovers(frames, tracks) if found is None else found:
        covered[h.ended] |= {b.frame for b in tracks[h.started]}
        covered[h.started] |= {b.frame for b in tracks[h.ended]}
    return covered


def continuity_findings(frames: list[TrackFrame], presence: TrackPresence | None = None) -> list[Finding]:
    """The ``track-fragment`` and ``track-gap`` findings of the tracks of ``frames`` (in drive order);
    with ``presence`` (the sweeps counted), also the longer gaps where the object is seen, and the
    ``track-end`` findings."""
    tracks = track_boxes(frames) if presence is None else presence.tracks     # presence has them, of ``frames``
    found = handovers(frames, tracks)
    covered = covered_frames(frames, tracks, found)
    out = fragment_findings(frames, found)
    for tid, boxes in tracks.items():
        seen = presence.gap_frames(tid) if presence is not None else []
        if (f := gap_finding(frames, tid, boxes, covered[tid], seen)) is not None:
            out.append(f)
    return out + (presence.end_findings() if presence is not None else [])
