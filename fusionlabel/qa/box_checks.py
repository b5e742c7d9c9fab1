"""Label checks of one frame: the mistakes a reviewer spots in a single sweep's cuboids.

* ``label-size``: a box outside its class's plausible size (:data:`SIZE_RANGES`);
* ``label-duplicate``: two boxes of one frame that overlap heavily (3D IoU >= :data:`DUPLICATE_IOU`),
  or two boxes of one class and the same size (:data:`COPY_SIZE`) each with its centre inside the
  other: one box drawn twice a little apart, which for a small object overlaps less than that;
* ``label-empty``: a box the LiDAR sees through: (almost) no return inside it, while rays pass
  through its middle to returns behind it (:func:`see_through`). A box hidden behind something
  (returns stop in front of it) or too far for any ray to cross it is not empty, only unseen;
* ``label-ground``: a box whose bottom floats above or sinks below the ground around it
  (:func:`~fusionlabel.assist.ground.estimate_ground`) by more than :data:`GROUND_TOLERANCE`;
  each sweep's ground returns can be kept for the next check (:mod:`.ground_cache`).

Boxes are in the frame's LiDAR frame, whose origin is where the rays start. Thresholds and the data
they were set on are in docs/label_checks.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..geometry.cuboid import Cuboid, points_in_cuboid
from ..geometry.iou import bev_intersection, iou_matrix
from ..model.annotation import CuboidLabel
from .findings import ERROR, WARNING, Finding
from .ground_cache import cached_mask
from .sweep_index import SweepRays

# Plausible (length, width, height) ranges in metres per class of the default ontology, wide
# enough for every box of KITTI tracking's 8,008 frames, the nuScenes keyframe and the SUSTech
# sequence (docs/label_checks.md); classes not listed (misc, barrier ...) are not size-checked.
SIZE_RANGES: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "car": ((2.0, 1.0, 1.0), (6.5, 2.6, 2.8)),
    "van": ((3.0, 1.4, 1.4), (7.5, 2.7, 3.6)),
    "truck": ((3.0, 1.6, 1.8), (20.0, 3.5, 4.8)),
    "bus": ((6.0, 2.2, 2.5), (20.0, 3.5, 4.8)),
    "tram": ((8.0, 2.0, 2.8), (60.0, 3.3, 4.5)),
    "pedestrian": ((0.15, 0.15, 0.9), (1.6, 1.3, 2.3)),
    "cyclist": ((0.8, 0.25, 0.9), (2.6, 1.5, 2.3)),
    "motorcycle": ((1.0, 0.3, 0.7), (3.2, 1.4, 2.3)),
    "traffic_cone": ((0.1, 0.1, 0.2), (1.2, 1.2, 1.5)),
}
DUPLICATE_IOU = 0.5        # 3D IoU of two boxes of one frame that makes them one object twice
COPY_SIZE = (0.05, 0.05)   # m, share of the larger: boxes whose dimensions all agree within the larger are one size
GROUND_TOLERANCE = 0.5     # m: bottom above or below the estimated ground
GROUND_RANGE = 40.0        # m: farther boxes are not ground-checked (few ground returns there)
GROUND_RING = 1.5          # m around a box's footprint where its ground is looked for
GROUND_BAND = 0.2          # m: returns this close to the estimated ground are ground
OBJECT_MARGIN = 0.2        # m: returns this close to a labelled box belong to its object
GROUND_POINTS = 10         # ground returns around a box needed to check it
CLEARANCE = 0.25           # m of the box's bottom left out of the empty check (ground returns)
CORE = 0.5                 # share of a box's size, each way, that an object fills for sure
EMPTY_RAYS = 8             # rays through a box's core that make it empty, when ...
EMPTY_SHARE = 0.1          # ... at most this share of the rays that reach it stop inside it


@dataclass(frozen=True)
class Seen:
    """What the LiDAR saw of one box: ``inside`` returns in it (above its bottom clearance) and
    ``through`` returns behind it whose ray crosses its core."""

    inside: int
    through: int


def cleared(boxes: list[Cuboid]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``boxes`` without their bottom :data:`CLEARANCE` (at most a third of the height), as arrays
    for the per-box loops: centres (n, 3), sizes (n, 3) and rotations (n, 3, 3), box frame -> LiDAR."""
    n = len(boxes)
    centres = np.array([b.center for b in boxes], np.float64).reshape(n, 3)
    sizes = np.array([b.size for b in boxes], np.float64).reshape(n, 3)
    R = np.array([b.rotation() for b in boxes], np.float64).reshape(n, 3, 3)
    cut = np.minimum(CLEARANCE, sizes[:, 2] / 3.0)
    sizes[:, 2] -= cut
    return centres + R[:, :, 2] * (cut / 2.0)[:, None], sizes, R


def see_through(points: np.ndarray, box: Cuboid) -> Seen:
    """Returns of ``points`` (N, 3+, in the LiDAR frame: rays start at the origin) inside ``box``
    (without its bottom :data:`CLEARANCE`) and behind it on a ray that crosses its core (:data:`CORE`
    of its size each way about its centre: a car's hood and the air above it, a pedestrian's space
    between the legs, lie outside it)."""
    centres, sizes, R = cleared([box])
    return _see_through(SweepRays(points), centres[0], sizes[0], R[0])


def _inside(p: np.ndarray, centre: np.ndarray, size: np.ndarray, R: np.ndarray) -> np.ndarray:
    return np.all(np.abs((p - centre) @ R) <= size / 2.0, axis=1)


def _crossing(p: np.ndarray, centre: np.ndarray, size: np.ndarray, R: np.ndarray) -> np.ndarray:
    """Mask of returns ``p`` (N, 3) whose ray from the origin enters and leaves the box of ``centre``,
    ``size`` and rotation ``R`` before it ends."""
    half = size / 2.0
    origin = R.T @ -centre        # sensor in box coordinates
    d = (p - centre) @ R - origin
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (-half - origin) / d
        t2 = (half - origin) / d
    lo = np.where(np.isnan(t1), -np.inf, np.minimum(t1, t2)).max(axis=1)
    hi = np.where(np.isnan(t2), np.inf, np.maximum(t1, t2)).min(axis=1)
    return (lo <= hi) & (hi < 1.0) & (lo > 0.0)


def _see_through(rays: SweepRays, centre: np.ndarray, size: np.ndarray, R: np.ndarray) -> Seen:
    """:func:`see_through` of a sweep's returns (the ones in the cone of the box's bounding sphere),
    the box already :func:`cleared`."""
    radius = float(np.linalg.norm(size)) / 2.0
    dist = float(np.linalg.norm(centre))
    if dist <= radius:                      # the sensor may be inside: rays do not start outside it
        return Seen(0, 0)
    p, r = rays.in_cone(centre, radius)
    # returns within the cone around the box's bounding sphere and not in front of it
    cos_cone = np.sqrt(max(0.0, 1.0 - (radius / dist) ** 2))
    far = np.flatnonzero(r >= dist - radius)
    q = p[far]
    q = q[q @ centre >= r[far] * (dist * cos_cone) - 1e-9]
    inside = _inside(q, centre, size, R)
    return Seen(int(inside.sum()), int(_crossing(q[~inside], centre, CORE * size, R).sum()))


@lru_cache(maxsize=1)
def _default_ontology():
    from ..model.ontology import Ontology

    return Ontology.default()


def size_class(label: str) -> str | None:
    """The default ontology's class of a label's class name (``Car``, ``vehicle.car`` -> ``car``);
    None for a name it does not know."""
    return _default_ontology().resolve(label)


def describe(label: CuboidLabel, k: int) -> str:
    """How a finding names a label: its track, else its place in the frame's list, and its class."""
    who = f"track {label.track_id}" if label.track_id is not None else f"box #{k + 1}"
    return f"{who} ({label.label})"


STORED_ID = "fusionlabel_stored_id"   # attribute a project's checked cuboid carries: its stored uid


def box_ref(label: CuboidLabel, k: int, exact: bool = False) -> str:
    """A name of ``label`` (``k``-th of its frame) that survives edits and reordering: its track
    (``track 7``), else its stored id (``box 3fa9…``, a project's cuboids carry it as
    :data:`STORED_ID`), else its place (``box #2``, a drive's own labels); ``exact`` adds the
    stored id (or place) to a track, to tell apart two boxes of one track in one frame."""
    uid = label.attributes.get(STORED_ID)
    own = f"box {uid}" if uid else f"box #{k + 1}"
    if label.track_id is None:
        return own
    return f"track {label.track_id} {own}" if exact else f"track {label.track_id}"


def about(frame_id: str, label: CuboidLabel, k: int) -> dict:
    """The structured fields of a finding about ``label``, ``k``-th box of frame ``frame_id`` (:class:`Finding`)."""
    return dict(frame=frame_id, frames=(frame_id,), track_id=label.track_id, cls=label.label,
                boxes=(box_ref(label, k),))


def _metres(v) -> str:
    return " x ".join(f"{x:.2f}" for x in v) + " m"


def size_findings(frame_id: str, labels: list[CuboidLabel]) -> list[Finding]:
    """``label-size`` findings: boxes outside :data:`SIZE_RANGES` of their class."""
    out = []
    for k, lab in enumerate(labels):
        cls = size_class(lab.label)
        if cls not in SIZE_RANGES:
            continue
        lo, hi = SIZE_RANGES[cls]
        size = lab.box.size
        if all(a <= v <= b for v, a, b in zip(size, lo, hi)):
            continue
        out.append(Finding(WARNING, f"frame {frame_id} {describe(lab, k)}", "label-size",
                           f"size {_metres(size)} (l x w x h) outside {cls}'s {_metres(lo)} to {_metres(hi)}",
                           "resize the box to the object, or give it the class it is", **about(frame_id, lab, k)))
    return out


def _same_sizes(labels: list[CuboidLabel]) -> np.ndarray:
    """(n, n) bool: boxes whose dimensions all agree within :data:`COPY_SIZE` of the larger."""
    sizes = np.array([lab.box.size for lab in labels], dtype=np.float64).reshape(-1, 3)
    larger = np.maximum(sizes[:, None], sizes[None])
    apart = np.abs(sizes[:, None] - sizes[None]) > np.maximum(COPY_SIZE[0], COPY_SIZE[1] * larger)
    return ~apart.any(axis=2)


def _centres_inside(a: CuboidLabel, b: CuboidLabel) -> bool:
    """Each box's centre lies inside the other."""
    def holds(box: Cuboid, point) -> bool:
        return bool(_inside(np.array([point]), np.asarray(box.center), np.asarray(box.size), box.rotation())[0])

    return holds(a.box, b.box.center) and holds(b.box, a.box.center)


def duplicate_findings(frame_id: str, labels: list[CuboidLabel]) -> list[Finding]:
    """``label-duplicate`` findings: pairs of boxes with 3D IoU >= :data:`DUPLICATE_IOU`, or of one
    class and size (:data:`COPY_SIZE`) with each one's centre inside the other."""
    boxes = [lab.box for lab in labels]
    pairs = np.triu(np.ones((len(boxes), len(boxes)), bool), 1)     # each pair once, no box with itself
    iou = iou_matrix(boxes, boxes, kind="3d", pairs=pairs)
    classes = np.array([size_class(lab.label) or lab.label for lab in labels], dtype=object)
    # a centre inside the other box lies within that box's half diagonal (the slack: rounding)
    centres = np.array([b.center for b in boxes], np.float64).reshape(-1, 3)
    reach = np.array([np.linalg.norm(b.size) / 2.0 + 1e-6 for b in boxes])
    close = np.linalg.norm(centres[:, None] - centres[None], axis=2) <= np.minimum(reach[:, None], reach[None])
    copies = (classes[:, None] == classes[None]) & _same_sizes(labels) & close
    out = []
    for a, b in zip(*np.nonzero(pairs & ((iou >= DUPLICATE_IOU) | copies))):
        other = describe(labels[b], b)
        if iou[a, b] >= DUPLICATE_IOU:
            what, value = dict(value=iou[a, b], threshold=DUPLICATE_IOU, unit="3D IoU"), f"with 3D IoU {iou[a, b]:.2f}"
        elif _centres_inside(labels[a], labels[b]):
            apart = float(np.linalg.norm(np.subtract(boxes[a].center, boxes[b].center)))
            what = dict(value=apart, unit="m")
            value = (f"at the same size, {apart:.2f} m apart with each centre inside the other "
                     f"(3D IoU {iou[a, b]:.2f})")
        else:
            continue
        out.append(Finding(ERROR, f"frame {frame_id} {describe(labels[a], a)}", "label-duplicate",
                           f"overlaps {other} {value}: one object labelled twice?",
                           "delete one of the two boxes (or separate them if they are two objects)",
                           **about(frame_id, labels[a], a) | dict(boxes=(box_ref(labels[a], a, exact=True),
                                                                          box_ref(labels[b], b, exact=True))),
                           **what))
    return out


def empty_findings(frame_id: str, labels: list[CuboidLabel], points: np.ndarray) -> list[Finding]:
    """``label-empty`` findings: boxes that :data:`EMPTY_RAYS` or more rays cross (through their
    core, :func:`see_through`) while at most :data:`EMPTY_SHARE` of the rays that reach them stop
    inside them."""
    out = []
    rays = SweepRays(points)
    centres, sizes, R = cleared([lab.box for lab in labels])
    for k, lab in enumerate(labels):
        seen = _see_through(rays, centres[k], sizes[k], R[k])
        if seen.through >= EMPTY_RAYS and seen.inside <= EMPTY_SHARE * (seen.inside + seen.through):
            inside = "no LiDAR return" if seen.inside == 0 else f"only {seen.inside} LiDAR returns"
            out.append(Finding(WARNING, f"frame {frame_id} {describe(lab, k)}", "label-empty",
                               f"{inside} inside, while {seen.through} rays pass through its middle to returns "
                               f"behind it ({np.linalg.norm(lab.box.center):.1f} m away): nothing there",
                               "move the box onto the object's points, or delete it", **about(frame_id, lab, k),
                               value=seen.through, threshold=EMPTY_RAYS, unit="rays through"))
    return out


def _stands_on_another(k: int, labels: list[CuboidLabel]) -> bool:
    """Box ``k`` stands over another labelled box's footprint with its bottom above that box's
    bottom (a worker on a truck's bed, a bicycle on a car's roof): its ground is that object."""
    box = labels[k].box
    bottom = box.center[2] - box.height / 2.0
    return any(j != k and bottom > other.box.center[2] - other.box.height / 2.0 + GROUND_TOLERANCE
               and bev_intersection(box, other.box) > 0.0 for j, other in enumerate(labels))


def _near_ground(p: np.ndarray) -> np.ndarray:
    """(N,) bool: which of the (N, 3) float64 points lie within :data:`GROUND_BAND` of the ground
    :func:`~fusionlabel.assist.ground.estimate_ground` finds under them."""
    from ..assist import ground

    return np.abs(p[:, 2] - ground.estimate_ground(p).ground_z(p)) < GROUND_BAND


def ground_offsets(labels: list[CuboidLabel], points: np.ndarray, cache: Path | None = None) -> list[float | None]:
    """Height (m) of each box's bottom above the ground seen around it: the median height of the
    returns within :data:`GROUND_RING` outside its footprint, outside every labelled box, that lie
    within :data:`GROUND_BAND` of the estimated ground (:func:`~fusionlabel.assist.ground.estimate_ground`). None for a box
    farther than :data:`GROUND_RANGE`, with fewer than :data:`GROUND_POINTS` such returns (its
    ground hidden or not seen) or standing on another labelled box. ``cache``: a folder where the
    sweep's ground returns are kept for the next check (:mod:`.ground_cache`); None: not kept."""
    out: list[float | None] = [None] * len(labels)
    near = [k for k, lab in enumerate(labels) if np.hypot(*lab.box.center[:2]) <= GROUND_RANGE]
    if not near:
        return out
    p = np.asarray(points)[:, :3].astype(np.float64)
    p = p[np.isfinite(p).all(axis=1)]
    ground = p[cached_mask(cache, points, ("box_checks.ground_offsets", GROUND_BAND), len(p), lambda: _near_ground(p))]
    ground = ground[np.argsort(ground[:, 0], kind="stable")]     # sorted by x: a box's neighbours are a slice
    centres = np.array([lab.box.center[:2] for lab in labels])
    radii = np.array([np.hypot(lab.box.length, lab.box.width) / 2.0 for lab in labels]) + OBJECT_MARGIN
    for k in near:
        box = labels[k].box
        if _stands_on_another(k, labels):
            continue
        half = np.array([box.length, box.width]) / 2.0
        reach = float(np.hypot(*half)) + GROUND_RING
        close = ground[np.searchsorted(ground[:, 0], box.center[0] - reach):
                       np.searchsorted(ground[:, 0], box.center[0] + reach, side="right")]
        close = close[np.abs(close[:, 1] - box.center[1]) <= reach]
        # returns on labelled objects are not ground, even where the estimate takes them for it
        # (a car's flank beside a cyclist where neither lets the LiDAR see the road)
        for j in np.flatnonzero(np.hypot(*(centres - box.center[:2]).T) <= reach + radii):
            close = close[~points_in_cuboid(close, labels[j].box, margin=OBJECT_MARGIN)]
        c, s = np.cos(box.yaw), np.sin(box.yaw)
        local = (close[:, :2] - box.center[:2]) @ np.array([[c, -s], [s, c]])
        outside = np.max(np.abs(local) - half, axis=1)      # metres outside the footprint
        ring = close[(outside > 0.0) & (outside <= GROUND_RING)]
        if len(ring) >= GROUND_POINTS:
            out[k] = float(box.bottom_center()[2] - np.median(ring[:, 2]))
    return out


def ground_findings(frame_id: str, labels: list[CuboidLabel], points: np.ndarray,
                    cache: Path | None = None) -> list[Finding]:
    """``label-ground`` findings: boxes whose bottom is more than :data:`GROUND_TOLERANCE` above
    or below the ground under them (``cache``: as for :func:`ground_offsets`)."""
    out = []
    for k, (lab, off) in enumerate(zip(labels, ground_offsets(labels, points, cache))):
        if off is None or abs(off) <= GROUND_TOLERANCE:
            continue
        where = "floats" if off > 0 else "sinks"
        out.append(Finding(WARNING, f"frame {frame_id} {describe(lab, k)}", "label-ground",
                           f"bottom {where} {abs(off):.2f} m {'above' if off > 0 else 'below'} the ground around it "
                           f"(tolerance {GROUND_TOLERANCE} m)",
                           "set the box's bottom on the ground (or its height to the object's)", **about(frame_id, lab, k),
                           value=off, threshold=GROUND_TOLERANCE, unit="m"))
    return out
