"""Label checks that read the sweeps to tell whether a track's object is there where the track has no
box: a gap longer than ``track-gap``'s own limit, and the frame just beyond either end of the track.

* In a longer gap the box is interpolated into each missing frame (in the world frame with ego poses,
  as the app's ``I`` does: :func:`~fusionlabel.assist.interpolate.interpolate_track`); such a frame
  joins the track's ``track-gap`` finding when that box holds the object's returns.
* ``track-end``: the track's first (last) box carried one checked frame before (after) it, at most
  ``GAP_MAX_S`` away (moving on as between its two boxes nearest the end, in the world frame; without
  ego poses, or for a track of one box, unmoved) holds the object's returns: the object is still
  there but the track stops.

A box "holds the object's returns" when at least :func:`present_threshold` returns lie in it (above
its bottom clearance, outside every labelled box of the frame): :data:`PRESENT_SHARE` of the median
the track's own labelled boxes hold, and never fewer than :data:`PRESENT_MIN`. A frame where the
track is marked absent, where another ID holds the object (a ``track-fragment``), where another
label of any class overlaps the box (BEV IoU over :data:`OVERLAP_IOU`: likely the object under
another ID) or, for labels that cover one camera's view only (KITTI's), outside that view, is not
judged. Without sweeps nothing here is judged. Thresholds and the data they were set on are in
docs/label_checks.md.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..assist.interpolate import interpolate_track
from ..geometry.cuboid import Cuboid, points_in_box, points_in_cuboid
from ..geometry.iou import bev_iou, iou_matrix
from ..geometry.transforms import invert_T
from ..model.annotation import CuboidLabel
from .box_checks import OBJECT_MARGIN, cleared
from .findings import WARNING, Finding
from .sweep_index import SweepByX
from .track_checks import RIGID, TrackBox, TrackFrame, track_boxes
from .track_continuity import GAP_MAX_FRAMES, GAP_MAX_S, close_in_time, covered_frames

PRESENT_MIN = 20          # returns a box needs at least to hold an object ...
PRESENT_SHARE = 0.3       # ... and this share of the median of the track's labelled boxes
OVERLAP_IOU = 0.1         # BEV IoU with another label of the frame: that label may be the object


@dataclass(frozen=True)
class Probe:
    """Where track ``track_id``'s object would be in checked frame ``frame``, where the track has no
    box: ``box`` in that frame's LiDAR frame; ``kind`` ``gap`` or ``end``; ``label`` the track's
    box it was made from."""

    frame: int
    track_id: str
    box: Cuboid
    kind: str
    label: CuboidLabel


def present_threshold(labelled: list[int]) -> float:
    """Returns a box needs to hold the object of a track whose labelled boxes hold ``labelled``."""
    return max(PRESENT_MIN, PRESENT_SHARE * float(np.median(labelled)))


def object_returns(points: np.ndarray | SweepByX, box: Cuboid, others: list[Cuboid],
                   extents: list[float] | None = None) -> int:
    """Returns of ``points`` (N, 3+, LiDAR frame; or the sweep as :class:`SweepByX`) in ``box``
    above its bottom clearance (ground) and outside each of ``others`` grown by the object margin
    (the returns of other labelled objects). ``extents``: :func:`grown_extent` of each of
    ``others``, when the caller has them."""
    centres, sizes, R = cleared([box])
    return _object_returns(points, centres[0], sizes[0], R[0], others, extents)


def _object_returns(points: np.ndarray | SweepByX, centre: np.ndarray, size: np.ndarray, R: np.ndarray,
                    others: list[Cuboid], extents: list[float] | None = None) -> int:
    """:func:`object_returns` of the box already :func:`~.box_checks.cleared` (its arrays)."""
    reach = float(np.linalg.norm(size)) / 2.0
    sweep = points if isinstance(points, SweepByX) else SweepByX(points)
    near = sweep.near(centre.tolist(), reach)
    inside = near[points_in_box(near, centre, size, R)]
    if not len(inside) or not others:
        return len(inside)
    # only a box whose grown bounding sphere reaches ``box``'s can hold returns inside it: the
    # frame's other dozens of labels are passed over without a test of the points
    extents = np.array([grown_extent(o) for o in others] if extents is None else extents)
    apart = np.abs(np.array([o.center[:2] for o in others]) - centre[:2]).max(axis=1)
    for k in np.flatnonzero(apart <= reach + extents):
        if not len(inside):
            break
        inside = inside[~points_in_cuboid(inside, others[k], margin=OBJECT_MARGIN)]
    return len(inside)


def grown_extent(box: Cuboid) -> float:
    """Half the diagonal of ``box`` grown by the object margin each way."""
    return float(np.linalg.norm(np.asarray(box.size) / 2.0 + OBJECT_MARGIN))


def _lidar_box(frame: TrackFrame, world: Cuboid) -> Cuboid:
    return world if frame.T_world_lidar is None else world.transformed(invert_T(frame.T_world_lidar))


def carried_box(frames: list[TrackFrame], boxes: list[TrackBox], end: int, step: int) -> Cuboid:
    """Box ``boxes[end]`` carried to checked frame ``boxes[end].frame + step`` in that frame's LiDAR
    frame, moving on as from its box in the nearest other frame of the track (with ego poses);
    unmoved otherwise."""
    here, target = boxes[end], frames[boxes[end].frame + step]
    k = end - step       # the track's box in the frame before (a copy in the same frame tells no motion)
    while 0 <= k < len(boxes) and boxes[k].frame == here.frame:
        k -= step
    if target.T_world_lidar is None or not 0 <= k < len(boxes):
        return here.label.box
    other = boxes[k]
    t0, t1, t2 = (frames[i].time_us for i in (other.frame, here.frame, here.frame + step))
    if None in (t0, t1, t2):
        t0, t1, t2 = other.frame, here.frame, here.frame + step
    centre = np.asarray(here.world.center, dtype=float)
    moved = centre + (centre - np.asarray(other.world.center)) * ((t2 - t1) / (t1 - t0))
    return _lidar_box(target, here.world.with_(center=tuple(moved)))


def interpolated_boxes(frames: list[TrackFrame], boxes: list[TrackBox], missing: list[int]) -> dict[int, Cuboid]:
    """The track's boxes interpolated into checked frames ``missing``, each in its LiDAR frame."""
    span = range(boxes[0].frame, boxes[-1].frame + 1)
    poses = {i: np.eye(4) if frames[i].T_world_lidar is None else frames[i].T_world_lidar for i in span}
    times = [frames[i].time_us for i in span]
    clock = None if None in times else {i: frames[i].time_us / 1e6 for i in span}
    keys = {b.frame: b.label for b in boxes}
    filled = interpolate_track(keys, poses, missing, rigid=boxes[0].cls in RIGID, times=clock)
    return {i: lab.box for i, lab in filled.items()}


class TrackPresence:
    """The probes of ``frames`` (checked frames in drive order) and the returns counted in them.

    ``in_region(frame, label, box)``: whether ``box`` (LiDAR frame of checked frame ``frame``) lies
    where labels like ``label`` are drawn (default: everywhere). Feed each frame's sweep to
    :meth:`count`, then ask :meth:`gap_frames` and :meth:`end_findings`."""

    def __init__(self, frames: list[TrackFrame],
                 in_region: Callable[[int, CuboidLabel, Cuboid], bool] | None = None):
        self.frames = frames
        self.tracks = track_boxes(frames)
        covered = covered_frames(frames, self.tracks)
        probes: list[Probe] = []
        for tid, boxes in self.tracks.items():
            probes += self._gap_probes(tid, boxes) + self._end_probes(tid, boxes)
        self.probes = [p for p in probes if p.frame not in covered[p.track_id] and self._open(p)
                       and (in_region is None or in_region(p.frame, p.label, p.box))]
        self.returns: dict[tuple[str, int], int] = {}
        self._judgement: dict[str, list[tuple[Probe, int, float]]] | None = None   # by kind, see _judged
        self._gaps: dict[str, list[tuple[int, int, float]]] | None = None          # by track, see gap_frames
        self._wanted: dict[int, list[tuple[str, Cuboid]]] = defaultdict(list)
        for tid in {p.track_id for p in self.probes}:
            for b in self.tracks[tid]:
                self._wanted[b.frame].append((tid, b.label.box))
        for p in self.probes:
            self._wanted[p.frame].append((p.track_id, p.box))

    def _open(self, p: Probe) -> bool:
        """Whether the track is not marked absent in the probe's frame and no label there overlaps it."""
        frame = self.frames[p.frame]
        return p.track_id not in frame.absent and not any(bev_iou(p.box, lab.box) > OVERLAP_IOU for lab in frame.labels)

    def _gap_probes(self, tid: str, boxes: list[TrackBox]) -> list[Probe]:
        frames, missing = self.frames, []
        for a, b in zip(boxes, boxes[1:]):
            if b.frame - a.frame > 1 and not close_in_time(frames, a.frame, b.frame, GAP_MAX_S, GAP_MAX_FRAMES):
                missing += range(a.frame + 1, b.frame)
        if not missing:
            return []
        return [Probe(i, tid, box, "gap", boxes[0].label) for i, box in interpolated_boxes(frames, boxes, missing).items()]

    def _end_probes(self, tid: str, boxes: list[TrackBox]) -> list[Probe]:
        out = []
        for end, step in ((0, -1), (len(boxes) - 1, 1)):
            i, j = boxes[end].frame, boxes[end].frame + step
            if 0 <= j < len(self.frames) and close_in_time(self.frames, min(i, j), max(i, j), GAP_MAX_S,
                                                           GAP_MAX_FRAMES):
                out.append(Probe(j, tid, carried_box(self.frames, boxes, end, step), "end", boxes[end].label))
        return out

    def needs(self, frame: int) -> bool:
        """Whether :meth:`count` needs checked frame ``frame``'s sweep."""
        return frame in self._wanted

    def count(self, frame: int, points: np.ndarray) -> None:
        """Count the returns of ``points`` (the sweep of checked frame ``frame``, LiDAR frame) in the
        probes there and in the labelled boxes of their tracks."""
        labelled = [lab.box for lab in self.frames[frame].labels]
        wanted = self._wanted.get(frame, [])
        itself = (np.array([id(b) for b in labelled], np.int64)[:, None]      # the very same box object
                  == np.array([id(box) for _, box in wanted], np.int64)[None, :])
        # far pairs skipped at once (IoU 0), and a labelled box with itself (left out below)
        iou = iou_matrix(labelled, [box for _, box in wanted], pairs=~itself)
        sweep = SweepByX(points)
        extents = [grown_extent(b) for b in labelled]
        apart = ~itself & (iou <= OVERLAP_IOU)
        centres, sizes, R = cleared([box for _, box in wanted])
        for k, (tid, _) in enumerate(wanted):
            others = np.flatnonzero(apart[:, k])
            self.returns[(tid, frame)] = _object_returns(sweep, centres[k], sizes[k], R[k],
                                                         [labelled[n] for n in others], [extents[n] for n in others])
        self._judgement = self._gaps = None

    def _judged(self, kind: str) -> list[tuple[Probe, int, float]]:
        """The probes of ``kind`` whose box holds the object: (probe, returns, threshold). Judged
        once for every probe (each track's threshold once), again only after :meth:`count`."""
        if self._judgement is None:
            need: dict[str, float | None] = {}
            for tid in {p.track_id for p in self.probes}:
                labelled = [n for b in self.tracks[tid] if (n := self.returns.get((tid, b.frame))) is not None]
                need[tid] = present_threshold(labelled) if labelled else None
            self._judgement = defaultdict(list)
            for p in self.probes:
                n, t = self.returns.get((p.track_id, p.frame)), need[p.track_id]
                if n is not None and t is not None and n >= t:
                    self._judgement[p.kind].append((p, n, t))
        return self._judgement.get(kind, [])

    def gap_frames(self, tid: str) -> list[tuple[int, int, float]]:
        """Frames of track ``tid``'s longer gaps where its interpolated box holds the object:
        (checked frame, returns, threshold)."""
        if self._gaps is None:
            self._gaps = defaultdict(list)
            for p, n, need in self._judged("gap"):
                self._gaps[p.track_id].append((p.frame, n, need))
        return list(self._gaps.get(tid, ()))

    def end_findings(self) -> list[Finding]:
        """``track-end``: one finding per end of a track whose carried box holds the object."""
        out = []
        for p, n, need in self._judged("end"):
            boxes = self.tracks[p.track_id]
            label, fid = boxes[0].label.label, self.frames[p.frame].frame_id
            side = "starts" if p.frame < boxes[0].frame else "stops"
            since = self.frames[boxes[0].frame if side == "starts" else boxes[-1].frame].frame_id
            out.append(Finding(
                WARNING, f"track {p.track_id} ({label})", "track-end",
                f"the track {side} at frame {since}, but its box carried to frame {fid} holds {n} LiDAR returns "
                f"(at least {need:.0f} show the object there) and no other label is there: left out?",
                f"draw the object's box in frame {fid} (and {'before' if side == 'starts' else 'after'} it while "
                "the object is there), or mark it absent there (H) if those returns are something else", frame=fid, frames=(fid,), track_id=p.track_id, cls=label,
                value=n, threshold=round(need, 1), unit="returns"))
        return out
