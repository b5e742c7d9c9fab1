"""The built-in geometric detector: no weights, only geometry and class size priors.

Pipeline for one sweep: ground estimation (:mod:`.ground`) -> points between ``ground_height`` and
``max_height`` above ground -> BEV connected components, parts hidden behind each other along the
line of sight joined (:mod:`.cluster`), a poorly explained cluster split once more on a finer grid
or peeled of small debris (a cyclist touching a bollard), two people side by side cut apart ->
L-shape and minimum-area rectangles (:mod:`.boxfit`) and point statistics measured against the
sensor's own angular steps (:mod:`.features`) -> class, completed footprint and score
(:mod:`.classify`) -> upright cuboid standing on the ground.
"""

from __future__ import annotations

import copy

import numpy as np

from ..geometry.cuboid import Cuboid
from ..geometry.transforms import arctan2
from ..model.annotation import CuboidLabel
from ..model.drive import Drive
from ..model.rig import forward_in_lidar
from .boxfit import Rect, lshape_angle, rect_at_angle, small_object_angle
from .classify import LOW_HEIGHT, SIZE_TOLERANCE, THIN, VAN_LENGTH, ClusterShape, classify
from .cluster import cluster_bev, merge_hidden_parts, split_by_label
from .config import BuiltinConfig
from .detector import PointDetector, detection
from .features import (azimuth_step, crown_span, edge_distance, elevation_steps, hidden_below, hidden_ends, hole_share,
                       seen_area, upper_span)
from .front import NO_RIG_FORWARD, facing_front
from .ground import GroundGrid, estimate_ground

MAX_CLUSTER_EXTENT = 16.0    # metres; bigger components are buildings, hedges, walls
TOP_BEAM_MARGIN = np.radians(1.0)
GOOD_SCORE = 0.5             # a cluster scoring below this is tried split in parts
MAX_SPLIT_DEPTH = 1
SPLIT_CELL = 0.75            # finer grid for splitting, as a share of cluster_cell
TRIM, TRIM_MIN_POINTS = 0.02, 40
HIDDEN_BOTTOM = 0.5          # metres: a cluster starting higher may have its lower part hidden
PEEL_CELL, PEEL_SHARE = 0.1, 0.85     # metres, share of the points (see GeometricDetector._peel)
PEEL_CLASSES = ("Pedestrian", "Cyclist")
HEAD_HEIGHT, HEAD_DIP = 1.45, 0.1     # metres: a person's head, and how far it stands above a neighbour's shoulder
GROUP_SEPARATION = 0.4                # metres between the centres of two people walking side by side
STRAY_GAP = 0.3              # metres the outermost 2 % of points must add to count as strays


def highest_beam(points: np.ndarray) -> float:
    """Elevation angle (rad) of the LiDAR's highest beam, estimated from the sweep."""
    r = np.hypot(points[:, 0], points[:, 1])
    near = r > 1.0
    if not near.any():
        return np.pi / 2
    return float(np.percentile(np.arctan2(points[near, 2], r[near]), 99.9))


def ground_of(points: np.ndarray, cfg: BuiltinConfig) -> GroundGrid:
    return estimate_ground(points, cfg.ground_cell, cfg.ground_windows, cfg.ground_slope, cfg.ground_step,
                           cfg.max_range)


def object_points(points: np.ndarray, ground: GroundGrid, cfg: BuiltinConfig) -> tuple[np.ndarray, np.ndarray]:
    """Indices (K,) of the points that may belong to objects, and their heights (K,) above ground."""
    xy = points[:, :2]
    near = np.flatnonzero(np.einsum("ij,ij->i", xy, xy) <= cfg.max_range ** 2)
    h = ground.height_above(points[near])
    keep = (h > cfg.ground_height) & (h < cfg.max_height)
    return near[keep], h[keep]


def describe_cluster(xy: np.ndarray, heights: np.ndarray, ground: GroundGrid, top_cut: bool = False,
                     z: np.ndarray | None = None, steps: tuple | None = None, hidden: bool = False,
                     ends_hidden: int = 0) -> ClusterShape:
    """Shape and point statistics of one cluster: (n, 2) positions, (n,) heights above ground,
    optionally (n,) z in the LiDAR frame (sensor at the origin) and the sensor's (azimuth,
    elevation) steps (see :mod:`.features`) for the scan-line statistics and the seen area;
    ``ends_hidden``: how many of its ends something nearer hides (:func:`.features.hidden_ends`)."""
    rect = rect_at_angle(xy, lshape_angle(xy))
    center = rect.center
    gz = float(ground.ground_z(center[None, :])[0])
    tight_angle = small_object_angle(xy)
    tight = rect_at_angle(xy, tight_angle)
    if len(xy) >= TRIM_MIN_POINTS:
        # small objects: a few stray returns (a mirror, a bag, a neighbour's edge) must not widen the box
        trimmed = rect_at_angle(xy, tight_angle, TRIM)
        strays = (tight.size - trimmed.size) > STRAY_GAP
        tight = Rect(tight.axis, np.where(strays, trimmed.lo, tight.lo), np.where(strays, trimmed.hi, tight.hi))
    long_axis = rect.axis if rect.size[0] >= rect.size[1] else rect.normal
    holes, area = 0.0, float("nan")
    if z is not None and steps is not None:
        holes = hole_share(np.c_[xy, z], heights, steps[0])
        area = seen_area(np.c_[xy, z], *steps)
    return ClusterShape(rect, float(heights.min()), float(heights.max()), gz, len(xy), tight,
                        float(np.mean(heights < LOW_HEIGHT)), upper_span(xy, heights, long_axis), top_cut,
                        edge_distance(xy, rect), holes, area, hidden, crown_span(xy, heights, long_axis), ends_hidden)


def box_from_cluster(xy: np.ndarray, heights: np.ndarray, ground: GroundGrid, cfg: BuiltinConfig,
                     sensor_xy=(0.0, 0.0), top_cut: bool = False, z: np.ndarray | None = None,
                     steps: tuple | None = None, hidden: bool = False, ends_hidden: int = 0) -> CuboidLabel | None:
    """Fit, classify and score one cluster: (n, 2) positions and (n,) heights above ground;
    ``top_cut`` when its highest points touch the top of the LiDAR's field of view; ``z`` (n,)
    LiDAR-frame heights and the sensor's angular ``steps`` enable the scan-line statistics;
    ``hidden``: something nearer hides its lower part; ``ends_hidden``: how many of its ends."""
    shape = describe_cluster(xy, heights, ground, top_cut, z, steps, hidden, ends_hidden)
    found = classify(shape, cfg.priors, sensor_xy)
    if found is None or found.score < cfg.min_score:
        return None
    r = found.rect
    c = r.center
    length, width = (float(v) for v in r.size)
    box = Cuboid((c[0], c[1], shape.ground_z + found.height / 2.0), (max(length, 0.1), max(width, 0.1), found.height),
                 r.angle)
    return detection(box, found.label, found.score, num_points=int(len(xy)))


def side_pieces_read_as_ends(found: list[CuboidLabel], xy: np.ndarray, priors: dict) -> list[bool]:
    """Which of ``found`` (detections among the parts of one cluster, (n, 2) positions ``xy``) read
    a piece of a long vehicle's side as another vehicle's end: the cluster is a single straight face
    (thinner than ``THIN``) longer than any car or van can be, and the detection is a vehicle boxed
    across that face. A vehicle's end turns into its sides at both corners; a face that goes on in
    line past it for more than a van's length is the side of something longer (a truck's, broken at
    the gap between cab and cargo box, its cab's side as wide as a van's back)."""
    rect = rect_at_angle(xy, lshape_angle(xy))
    longest = max((p.max[0] for p in priors.values() if p.vehicle and p.mean[0] < VAN_LENGTH), default=np.inf)
    if min(rect.size) >= THIN or max(rect.size) <= longest + SIZE_TOLERANCE:
        return [False] * len(found)
    axis = rect.axis if rect.size[0] >= rect.size[1] else rect.normal
    out = []
    for d in found:
        prior = priors.get(d.label)
        along = abs(np.cos(d.box.yaw) * axis[0] + np.sin(d.box.yaw) * axis[1])
        out.append(bool(prior is not None and prior.vehicle and along < np.sqrt(0.5)))
    return out


class GeometricDetector(PointDetector):
    """Detect cars, trucks, cyclists and pedestrians from geometry alone (see module docstring)."""

    name = "builtin"

    def __init__(self, config: BuiltinConfig | None = None, forward=None):
        self.config = config or BuiltinConfig()
        # the ego's forward as an xy direction in the LiDAR frame (default LiDAR +x), for the front
        # of a box without a cue to it (assist.front), where a call gives none of its own
        self.forward = _xy(forward)

    def detect_frame(self, drive: Drive, index: int) -> list[CuboidLabel]:
        """Detections for frame ``index``, the front of a box without a cue to it along the ego's
        forward from the drive's rig (:func:`rig_forward`)."""
        return self.detect(drive.points(index), rig_forward(drive, index))

    def detect(self, points: np.ndarray, forward=None) -> list[CuboidLabel]:
        """Detections in a sweep of (N, 3+) points; ``forward``: the ego's forward as an xy
        direction in its LiDAR frame (default the one given to the constructor)."""
        points = np.asarray(points)
        if points.ndim != 2 or points.shape[1] < 3 or len(points) == 0:
            return []
        labels = self.prepare(points, ground_of(points, self.config))
        out = [d for members in split_by_label(labels) for d in self.explain(members, forward)]
        out.sort(key=lambda d: -d.score)
        return out

    def prepare(self, points: np.ndarray, ground: GroundGrid, top_beam: float | None = None,
                min_points: int | None = None, scan_lines: bool = True) -> np.ndarray:
        """Take the object points of a sweep (N, 3+), or of a crop of one, over ``ground``: cluster
        them (clusters under ``min_points``, default the config's, get -1) with their hidden parts
        joined, and keep them for :meth:`explain`. ``top_beam``: elevation (rad) of the LiDAR's
        highest beam, measured on ``points`` when not given (give it for a crop). ``scan_lines``:
        measure the sensor's steps on ``points`` for the scan-line statistics (holes, seen area;
        see :mod:`.features`), else classify without them. Returns the
        cluster labels (K,) of the object points, whose positions are :attr:`object_xy` (K, 2) and
        heights above ground :attr:`object_height` (K,); :attr:`ground` keeps ``ground``."""
        cfg = self.config
        idx, h = object_points(points, ground, cfg)
        xy = points[idx, :2].astype(np.float64)
        z = points[idx, 2].astype(np.float64)
        self.ground, self.object_xy, self.object_height, self._z = ground, xy, h, z
        self._elevation = arctan2(z, np.hypot(xy[:, 0], xy[:, 1]))
        self._top_beam = highest_beam(points) if top_beam is None else top_beam
        self._steps = (azimuth_step(points), elevation_steps(points)) if scan_lines else None
        if idx.size == 0:
            return np.zeros(0, np.int64)
        smallest = cfg.min_points if min_points is None else min_points
        labels = cluster_bev(xy, cfg.cluster_cell, cfg.cluster_gap, smallest)
        labels = merge_hidden_parts(xy, h, labels)
        order = np.argsort(arctan2(xy[:, 1], xy[:, 0]))
        self._others = np.c_[xy, z][order]
        self._others_az = arctan2(self._others[:, 1], self._others[:, 0])
        return labels

    def explain(self, members: np.ndarray, forward=None) -> list[CuboidLabel]:
        """Detections for one cluster of the last :meth:`prepare`: ``members`` indexes its object
        points. A cluster holding several objects gives one detection for each it comes apart in.
        ``forward``: the ego's forward (xy, LiDAR frame; default the constructor's)."""
        xy, h = self.object_xy[members], self.object_height[members]
        found = self._explain(xy, h, self.ground, self.top_cut(members), self._z[members])
        return [d.with_(box=self._facing(d, xy, h, forward)) for d in found]

    def top_cut(self, members: np.ndarray) -> bool:
        """Whether these object points of the last :meth:`prepare` reach the top of the LiDAR's
        field of view (the object may be taller than it looks)."""
        return bool(self._elevation[members].max() >= self._top_beam - TOP_BEAM_MARGIN)

    def _facing(self, d: CuboidLabel, xy: np.ndarray, h: np.ndarray, forward) -> Cuboid:
        ahead = self.forward if forward is None else _xy(forward)
        return facing_front(d.box, d.label, xy, h, ahead, self.config.traffic_side)

    def with_config(self, config: BuiltinConfig) -> "GeometricDetector":
        """A detector with other settings that shares this one's last :meth:`prepare`."""
        other = copy.copy(self)
        other.config = config
        return other

    def _explain(self, xy: np.ndarray, h: np.ndarray, ground: GroundGrid, top_cut: bool, z: np.ndarray,
                 depth: int = 0) -> list[CuboidLabel]:
        """Detections for one cluster. A cluster no class explains well (several objects side by
        side, or an object touching a wall or bush) is split once more on a finer grid without gap
        bridging, and the parts are kept when they explain it better."""
        cfg = self.config
        ext = xy.max(0) - xy.min(0)
        if len(xy) < cfg.min_points or ext.max() > MAX_CLUSTER_EXTENT:
            # a wall, hedge or fence: splitting it gives more wall-sized clutter than objects
            return []
        if h.max() < min(p.min[2] for p in cfg.priors.values()) - 2 * SIZE_TOLERANCE:
            return []      # lower than any class can be (curbs, low walls, bonnets of cut-off cars)
        hidden = False
        if h.min() > HIDDEN_BOTTOM:
            gz = float(ground.ground_z(xy.mean(0)[None])[0])
            hidden = hidden_below(np.c_[xy, z], gz, self._others, self._others_az)
        # only a cut top makes hidden ends a sign of a wall (see classify)
        ends = hidden_ends(np.c_[xy, z], self._others, self._others_az) if top_cut else 0
        whole = box_from_cluster(xy, h, ground, cfg, top_cut=top_cut, z=z, steps=self._steps, hidden=hidden,
                                 ends_hidden=ends)
        if depth == 0 and (whole is None or whole.label in PEEL_CLASSES or whole.score < GOOD_SCORE):
            people = self._two_people(xy, h, ground, top_cut, z, whole)
            if people:
                return people
        if whole is not None and whole.score >= GOOD_SCORE:
            return [whole]
        if depth >= MAX_SPLIT_DEPTH:
            return [] if whole is None else [whole]
        found = self._split(xy, h, ground, top_cut, z, depth)
        if found and (whole is None or max(d.score for d in found) > whole.score):
            return found
        core = self._peel(xy, h, ground, top_cut, z)
        if core is not None and (whole is None or core.score > whole.score):
            return [core]
        return [] if whole is None else [whole]

    def _two_people(self, xy, h, ground, top_cut, z, whole: CuboidLabel | None) -> list[CuboidLabel] | None:
        """Two people walking side by side, seen as one cluster (one box, often a "cyclist"): the
        cluster cut in two by 2-means in BEV, started from its two farthest-apart high points. Kept
        when the halves' centres are at least ``GROUP_SEPARATION`` apart, each half has a head — its
        highest point above ``HEAD_HEIGHT`` and at least ``HEAD_DIP`` above the highest point
        between the two (a rider's back and handlebars make no such dip) — and each half is a
        well-explained pedestrian (better than the whole, when the whole is not a person or a
        cyclist)."""
        cfg = self.config
        if not (0.8 <= float(np.hypot(*np.ptp(xy, axis=0))) <= 2.6) or len(xy) < 2 * cfg.min_points:
            return None
        high = xy[h >= HEAD_HEIGHT - 0.1]
        if len(high) < 2:
            return None
        along = (high - high.mean(0)) @ np.linalg.svd(high - high.mean(0), full_matrices=False)[2][0]
        centres = np.array([high[np.argmin(along)], high[np.argmax(along)]])
        for _ in range(10):
            part = np.argmin(((xy[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
            if np.bincount(part, minlength=2).min() < cfg.min_points:
                return None
            centres = np.array([xy[part == k].mean(0) for k in (0, 1)])
        if np.linalg.norm(centres[0] - centres[1]) < GROUP_SEPARATION:
            return None
        heads = [np.flatnonzero(part == k)[np.argmax(h[part == k])] for k in (0, 1)]
        a, b = xy[heads[0]], xy[heads[1]]
        gap = max(float(np.linalg.norm(b - a)), 1e-6)
        between = np.abs((xy - a) @ ((b - a) / gap) - gap / 2) < 0.1
        saddle = float(h[between].max()) if between.any() else 0.0
        if min(h[heads[0]], h[heads[1]]) < HEAD_HEIGHT or min(h[heads[0]], h[heads[1]]) - saddle < HEAD_DIP:
            return None
        out = []
        for k in (0, 1):
            m = part == k
            d = box_from_cluster(xy[m], h[m], ground, cfg, top_cut=top_cut, z=z[m], steps=self._steps)
            if d is None or d.label != "Pedestrian" or d.score < GOOD_SCORE:
                return None
            out.append(d)
        if whole is not None and whole.label not in PEEL_CLASSES and min(d.score for d in out) <= whole.score:
            return None
        return out

    def _peel(self, xy, h, ground, top_cut, z, classes=PEEL_CLASSES, cell=PEEL_CELL) -> CuboidLabel | None:
        """A person or cyclist inside a poorly explained cluster with a little debris attached (a
        bollard, a post, a bush's edge): the cluster re-clustered on a fine grid without gap
        bridging; its largest piece, when it holds at least ``PEEL_SHARE`` of the points and is
        well explained as one of ``classes`` (by default a small class), is the object."""
        labels = cluster_bev(xy, cell, 0, 1)
        counts = np.bincount(labels)
        big = int(np.argmax(counts))
        if counts[big] < PEEL_SHARE * len(xy) or counts[big] == len(xy):
            return None
        m = labels == big
        d = box_from_cluster(xy[m], h[m], ground, self.config, top_cut=top_cut, z=z[m], steps=self._steps)
        if d is None or d.score < GOOD_SCORE or d.label not in classes:
            return None
        return d

    def parts(self, members: np.ndarray, classes: tuple[str, ...], forward=None) -> list[CuboidLabel]:
        """Well-explained detections of ``classes`` inside one cluster of the last :meth:`prepare`
        (``members`` indexes its object points) that a whole-cluster reading hides: its parts on a
        finer grid (two cars nose to tail read as one truck) and its core peeled of debris (a car
        with a post or a bush's edge attached). ``forward`` as in :meth:`explain`."""
        xy, h, z = self.object_xy[members], self.object_height[members], self._z[members]
        cut = self.top_cut(members)
        found = self._split(xy, h, self.ground, cut, z, MAX_SPLIT_DEPTH)
        core = self._peel(xy, h, self.ground, cut, z, classes, self.config.cluster_cell * SPLIT_CELL)
        return [d.with_(box=self._facing(d, xy, h, forward)) for d in found + ([core] if core else [])
                if d.label in classes]

    def _split(self, xy, h, ground, top_cut, z, depth) -> list[CuboidLabel]:
        """Well-explained detections among the parts of a cluster re-clustered on a finer grid
        without gap bridging (none when it does not come apart), but no piece of a long vehicle's
        side read as another vehicle's end (:func:`side_pieces_read_as_ends`)."""
        cfg = self.config
        parts = split_by_label(cluster_bev(xy, cfg.cluster_cell * SPLIT_CELL, 0, cfg.min_points))
        if len(parts) < 2:
            return []
        found = [d for p in parts for d in self._explain(xy[p], h[p], ground, top_cut, z[p], depth + 1)
                 if d.score >= GOOD_SCORE]
        return [d for d, end in zip(found, side_pieces_read_as_ends(found, xy, cfg.priors)) if not end]


def _xy(forward) -> tuple[float, float]:
    return NO_RIG_FORWARD if forward is None else tuple(float(v) for v in forward[:2])


def rig_forward(drive: Drive, index: int) -> tuple[float, float]:
    """The ego's forward in frame ``index``'s LiDAR frame from the drive's rig (LiDAR +x without one)."""
    try:
        rig = drive.rig(index)
    except ValueError:
        return NO_RIG_FORWARD
    return tuple(float(v) for v in forward_in_lidar(rig))
