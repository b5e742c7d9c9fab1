"""A 3D multi-object tracker in the world frame: constant-velocity Kalman filter per track and
Hungarian assignment on BEV IoU and centre distance.

Per frame: every track predicts its box; detections are assigned to tracks by minimum cost
``(1 - BEV IoU) + distance / gate``, plus ``class_change`` when the detection's class differs from
the track's and the two classes may be confused (``CONFUSABLE``: a detector calls a cyclist seen
from behind or ahead a pedestrian, a far van as high as the tallest cars a car); other class pairs
and pairs with no overlap farther than the gate are not allowed. Matched tracks update, unmatched detections start tentative tracks
(births), tracks unseen for more than ``max_age`` frames end (deaths) and shorter gaps
(occlusions) coast on the motion model. Run offline over a sequence (:func:`track_sequence`),
tracks seen fewer than ``min_hits`` times are dropped as clutter, every kept track takes the class
with the highest summed detection score (one object, one class) and the size measured by its
detections of that class, and the frames it missed inside a gap are filled by interpolation.

Which side of a rectangle a detector calls the length does not matter to the tracker: it follows
every box with its longer side first (:func:`long_side_first`), so a person's box that faces across
its shoulder line (shorter than wide) and a rider's read along the bicycle update one track alike.
The boxes it outputs face as most of the track's detections of its class did.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..geometry.cuboid import Cuboid
from ..geometry.iou import iou_matrix
from ..geometry.transforms import angle_difference, invert_T, inverse_3x3
from ..model.annotation import CuboidLabel
from ..qa.classes import canonical


@dataclass(frozen=True)
class TrackerConfig:
    """``gate``: metres a pedestrian-sized object may be from its prediction (grown with box size);
    ``max_age``: frames a track survives unseen; ``min_hits``: detections a track needs to be kept;
    ``accel``: process noise (m/s²); ``meas_sigma``: detection centre noise (m);
    ``fill_gaps``: interpolate the frames a kept track missed."""

    gate: float = 1.5
    max_age: int = 3
    min_hits: int = 3
    accel: float = 4.0
    meas_sigma: float = 0.25
    fill_gaps: bool = True
    class_change: float = 0.5


# class pairs a detector mixes up on the same object; a track may take detections of either
CONFUSABLE = {frozenset(("pedestrian", "cyclist")), frozenset(("car", "van"))}


@dataclass
class _Track:
    tid: int
    label: str
    x: np.ndarray            # (6,) x, y, z, vx, vy, vz
    P: np.ndarray            # (6, 6)
    yaw: float
    size: np.ndarray         # (3,)
    score: float
    hits: int = 1
    size_n: int = 1          # detections averaged into ``size`` (those of the track's class)
    misses: int = 0
    history: dict = field(default_factory=dict)    # frame index -> (Cuboid world, score)
    votes: dict = field(default_factory=dict)      # label -> summed detection score
    sizes: dict = field(default_factory=dict)      # label -> list of (size (3,), score)

    across: dict = field(default_factory=dict)     # label -> detections given shorter than wide

    def vote(self, d: CuboidLabel, score: float) -> None:
        self.votes[d.label] = self.votes.get(d.label, 0.0) + score
        self.sizes.setdefault(d.label, []).append((np.asarray(d.box.size, dtype=np.float64), score))
        if d.attributes.get(_ACROSS):
            self.across[d.label] = self.across.get(d.label, 0) + 1

    def faces_across(self) -> bool:
        """Whether most detections of the winning class came shorter than wide (see the module docstring)."""
        label = self.best_label()
        return 2 * self.across.get(label, 0) > len(self.sizes.get(label, ()))

    def best_label(self) -> str:
        return max(self.votes, key=lambda k: self.votes[k]) if self.votes else self.label

    def best_size(self) -> np.ndarray:
        """Score-weighted mean size of the detections of the winning class."""
        got = self.sizes.get(self.best_label())
        if not got:
            return self.size
        w = np.array([max(s, 1e-3) for _, s in got])
        return (np.array([z for z, _ in got]) * w[:, None]).sum(0) / w.sum()

    def box(self) -> Cuboid:
        return Cuboid(self.x[:3], self.size, self.yaw)


def _F(dt: float) -> np.ndarray:
    F = np.eye(6)
    F[0, 3] = F[1, 4] = F[2, 5] = dt
    return F


def _Q(dt: float, accel: float) -> np.ndarray:
    q = accel ** 2
    Q = np.zeros((6, 6))
    for a in range(3):
        Q[a, a] = q * dt ** 4 / 4.0
        Q[a, a + 3] = Q[a + 3, a] = q * dt ** 3 / 2.0
        Q[a + 3, a + 3] = q * dt ** 2
    return Q


_H = np.hstack([np.eye(3), np.zeros((3, 3))])
_ACROSS = "_given_across"     # marks, inside the tracker only, a detection given shorter than wide


def long_side_first(box: Cuboid) -> Cuboid:
    """The same box with its longer horizontal side as its length (turned by 90° if it was shorter
    than wide): one rectangle, whichever side the detector called the length. The inverse of
    :func:`_across`, which turns the axis by +90° as the detector does."""
    length, width, height = box.size
    if length >= width:
        return box
    return box.with_(size=(width, length, height), yaw=box.yaw - np.pi / 2)


def _across(box: Cuboid) -> Cuboid:
    """``box`` facing across its longer side (the inverse of :func:`long_side_first`)."""
    length, width, height = box.size
    return box.with_(size=(width, length, height), yaw=box.yaw + np.pi / 2) if length > width else box


def _long_side_first_label(d: CuboidLabel) -> CuboidLabel:
    if d.box.size[0] >= d.box.size[1]:
        return d
    return d.with_(box=long_side_first(d.box), attributes={**d.attributes, _ACROSS: True})


class Tracker:
    """Online tracker; feed :meth:`step` the detections of each frame in the world frame."""

    def __init__(self, config: TrackerConfig | None = None):
        self.config = config or TrackerConfig()
        self.tracks: list[_Track] = []
        self.finished: list[_Track] = []
        self._next = 1
        self._t = None

    def _gate(self, size) -> float:
        return self.config.gate + 0.25 * float(np.hypot(size[0], size[1]))

    def step(self, frame: int, t: float, detections: list[CuboidLabel]) -> None:
        """Advance to time ``t`` (s) and assign ``detections`` (boxes in the world frame)."""
        cfg = self.config
        dt = 0.1 if self._t is None else max(t - self._t, 1e-3)
        self._t = t
        F, Q = _F(dt), _Q(dt, cfg.accel)
        for tr in self.tracks:
            tr.x = F @ tr.x
            tr.P = F @ tr.P @ F.T + Q
        matched_t, matched_d = set(), set()
        if self.tracks and detections:
            det_cls = [canonical(d.label) for d in detections]
            trk_cls = [canonical(tr.label) for tr in self.tracks]
            dboxes = [d.box for d in detections]
            tboxes = [tr.box() for tr in self.tracks]
            iou = iou_matrix(tboxes, dboxes, "bev")
            tc = np.array([b.center[:2] for b in tboxes])
            dc = np.array([b.center[:2] for b in dboxes])
            dist = np.linalg.norm(tc[:, None] - dc[None], axis=2)
            gates = np.array([self._gate(b.size) for b in tboxes])[:, None]
            cost = (1.0 - iou) + dist / gates
            same = np.array([[a == b for b in det_cls] for a in trk_cls])
            near = np.array([[frozenset((a, b)) in CONFUSABLE for b in det_cls] for a in trk_cls])
            cost = cost + np.where(same, 0.0, cfg.class_change)
            cost[((iou <= 0.0) & (dist > gates)) | ~(same | near)] = 1e6
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows, cols):
                if cost[r, c] < 1e6:
                    tr = self.tracks[r]
                    self._update(tr, detections[c])
                    tr.history[frame] = (tr.box(), tr.score)
                    matched_t.add(r)
                    matched_d.add(c)
        for k, tr in enumerate(self.tracks):
            if k not in matched_t:
                tr.misses += 1
        alive = []
        for tr in self.tracks:
            (alive if tr.misses <= cfg.max_age else self.finished).append(tr)
        self.tracks = alive
        for k, d in enumerate(detections):
            if k not in matched_d:
                self._birth(frame, d)

    def _birth(self, frame: int, d: CuboidLabel) -> None:
        P = np.diag([self.config.meas_sigma ** 2] * 3 + [25.0, 25.0, 1.0])
        x = np.r_[np.asarray(d.box.center), np.zeros(3)]
        tr = _Track(self._next, d.label, x, P, d.box.yaw, np.asarray(d.box.size, dtype=np.float64),
                    float(d.score if d.score is not None else 1.0))
        tr.history[frame] = (tr.box(), tr.score)
        tr.vote(d, tr.score)
        self._next += 1
        self.tracks.append(tr)

    def _update(self, tr: _Track, d: CuboidLabel) -> None:
        R = np.eye(3) * self.config.meas_sigma ** 2
        z = np.asarray(d.box.center)
        S = _H @ tr.P @ _H.T + R
        K = tr.P @ _H.T @ inverse_3x3(S)
        tr.x = tr.x + K @ (z - _H @ tr.x)
        tr.P = (np.eye(6) - K @ _H) @ tr.P
        score = float(d.score if d.score is not None else 1.0)
        tr.vote(d, score)
        if canonical(d.label) != canonical(tr.label):
            # the track follows the class its detections vote for; its running size restarts
            best = tr.best_label()
            if best != tr.label:
                tr.label, tr.size, tr.size_n = best, np.asarray(d.box.size, dtype=np.float64), 0
        dyaw = angle_difference(d.box.yaw, tr.yaw)
        if abs(dyaw) > np.pi / 2:                     # a detector's heading may flip by 180°
            dyaw = angle_difference(d.box.yaw + np.pi, tr.yaw)
        tr.yaw = float(tr.yaw + 0.5 * dyaw)
        if d.label == tr.label:
            n = tr.size_n
            tr.size = (tr.size * n + np.asarray(d.box.size)) / (n + 1)
            tr.size_n += 1
        tr.score = max(tr.score, score)
        tr.hits += 1
        tr.misses = 0

    def all_tracks(self) -> list[_Track]:
        return self.finished + self.tracks


def track_sequence(detections: list[list[CuboidLabel]], poses: list[np.ndarray] | None = None,
                   times: list[float] | None = None, config: TrackerConfig | None = None
                   ) -> list[list[CuboidLabel]]:
    """Track per-frame detections (LiDAR frame of each frame) over a sequence.

    Args:
        detections: one list of labels per frame.
        poses: T_world_lidar (4, 4) per frame (default identity: track in the LiDAR frame).
        times: seconds per frame (default 0.1 s apart).
        config: tracker settings.
    Returns:
        labels per frame in each frame's LiDAR frame, with ``track_id`` set; boxes filled into
        gaps carry the attribute ``interpolated``.
    """
    from .interpolate import interpolate_boxes

    cfg = config or TrackerConfig()
    n = len(detections)
    poses = poses if poses is not None else [np.eye(4)] * n
    times = times if times is not None else [0.1 * i for i in range(n)]
    if any(b <= a for a, b in zip(times, times[1:])):   # no usable clock: fill gaps by frame index
        fill_times = [float(i) for i in range(n)]
    else:
        fill_times = [float(t) for t in times]
    tracker = Tracker(cfg)
    for i in range(n):
        world = [_long_side_first_label(d.with_(box=d.box.transformed(poses[i]))) for d in detections[i]]
        tracker.step(i, float(times[i]), world)
    out: list[list[CuboidLabel]] = [[] for _ in range(n)]
    T_lidar_world = [invert_T(T) for T in poses]
    kept = [tr for tr in tracker.all_tracks() if tr.hits >= cfg.min_hits]
    for new_id, tr in enumerate(sorted(kept, key=lambda tr: min(tr.history)), 1):
        frames = sorted(tr.history)
        size = tuple(float(v) for v in tr.best_size())
        label = tr.best_label()
        boxes = {f: tr.history[f][0].with_(size=size) for f in frames}
        if tr.faces_across():
            boxes = {f: _across(b) for f, b in boxes.items()}
        filled = {}
        if cfg.fill_gaps:
            missing = {fill_times[f]: f for f in range(frames[0], frames[-1] + 1) if f not in tr.history}
            filled = {missing[t]: b for t, b in           # in time: frames may be unevenly spaced
                      interpolate_boxes({fill_times[f]: b for f, b in boxes.items()}, list(missing)).items()}
        for f, b in {**boxes, **filled}.items():
            score = tr.history[f][1] if f in tr.history else tr.score
            attrs = {"interpolated": True} if f in filled else {}
            out[f].append(CuboidLabel(b.transformed(T_lidar_world[f]), label, str(new_id), score, "model", attrs))
    return out
