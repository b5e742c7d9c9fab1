"""Classification of a fitted cluster by size, shape and point statistics, with a confidence.

Each class prior (:class:`fusionlabel.assist.config.ClassPrior`) says how big an object of that
class is. A vehicle may be partly seen, so its measured length and width only need to stay below
the maximum, and the hidden sides are completed to the mean; a pedestrian or cyclist is small
enough to be seen whole, so its footprint must lie within the range. The score multiplies a
size-fit term, the evidence (how much of the expected footprint was actually seen), a point-count
term and a term that the object stands on the ground; point statistics (see the constants and
:class:`ClusterShape`) turn down the clutter that has the right size: bushes and tree crowns,
walls and fences, sign plates and poles.

Which side of a vehicle is its length: both readings of the fitted rectangle are scored. A side
read as the width must look like a width (near the prior's mean, not just under its maximum), so a
2.2 m fragment of a car's flank is not taken for the whole of its back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .boxfit import Rect, complete_rect
from .config import ClassPrior

SIZE_TOLERANCE = 0.15      # metres of softness at the edges of a prior range
THIN = 0.45                # a footprint thinner than this shows one face only
LOW_HEIGHT = 1.0           # vehicles and people put many points below this; tree crowns do not
LOW_FRACTION = 0.3         # share expected of an object TALL high; a taller one's share is lower in proportion
TALL = 2.0                 # metres
POINTS_SCALE = 20.0        # the point-count term is 1 - exp(-n / POINTS_SCALE)
EVIDENCE_POWER = 1.5       # evidence = (share of the expected length or width seen) ** this
SIDE_ONLY = 0.5            # a vehicle shown by one face longer than its width: maybe a wall
FLAT = 0.2                 # metres: a vehicle's face seen by a LiDAR is deeper than this (bumpers, curves)
FLAT_PENALTY = 0.3         # score factor for a vehicle that is a flat plate (wall, fence, hoarding)
VAN_LENGTH = 6.0           # metres: a vehicle class taller than TALL but shorter than this is a van (a truck's is longer)
WINDOW_PENALTY = 0.3       # score factor for a tall vehicle whose top and both ends are hidden (a stretch of wall)
BIG_FACE = 1.3             # a large vehicle shown by no face longer than this x its width: a wall segment
BIG_FACE_PENALTY = 0.7
PLATE = 0.15               # metres: people and bicycles are thicker than this seen from any side
PLATE_PENALTY = 0.3        # score factor for such a plate
PERSON_WIDTH = 0.3         # metres: a person is wider than this from any side; poles and posts are not
PERSON_DEPTH = 0.3         # metres: chest to back; a person's box is centred on the body, not on its seen face
SHOULDER_SPAN = 0.7        # metres: a person's returns across the shoulders, arms included, span no more
RIDER_LENGTH = 1.5         # metres: a prior that allows longer objects is a rider on a vehicle, not a person
BLOB_EDGE_DIST = 0.25      # metres: vehicles' points lie closer than this to their box sides
UPPER_SPAN = 0.6           # above this, the top of a long thin cluster spans its length (vehicle)
CROWN = 0.45               # a car's roof line spans more of its back than this; a rider's head less
HOLES = 0.25               # share of the low scan lines in holes that a solid vehicle body stays under
SOLID = 0.8                # share of a vehicle's face that returns light (glass does not)
END_DEPTH = 0.9            # metres: a vehicle seen from behind or ahead only is shallower than this
OPEN = 0.4                 # share of a person's or cyclist's bounding silhouette that returns light
AREA_SOFT = 0.2            # relative softness of the seen-area bounds
# The product of the terms is raised to this power so that 0.5 (the pre-label threshold) falls where
# precision and recall trade off on the tuning data (simulated drives and the KITTI frames); see
# docs/prelabel.md. It does not change the ranking (AP).
SCORE_POWER = 1.6


@dataclass(frozen=True)
class ClusterShape:
    """What a cluster looks like: ``rect`` from the L-shape fit (vehicles), ``tight`` the
    minimum-area rectangle (small objects seen whole), ``bottom``/``top`` heights above ground
    (m), ``ground_z`` under its centre, its number of points, and the point statistics below."""

    rect: Rect
    bottom: float
    top: float
    ground_z: float
    n_points: int
    tight: Rect | None = None
    low_fraction: float = 1.0      # share of points below LOW_HEIGHT above ground
    upper_span: float = 1.0        # extent of the upper third of the points along the long side / whole extent
    top_cut: bool = False          # the highest points reach the top of the LiDAR's field of view
    edge_dist: float = 0.0         # median distance of the points to the nearest side of ``rect`` (m)
    holes: float = 0.0             # share of the low scan lines in holes (features.hole_share)
    area: float = float("nan")     # surface the returns stand for, m² (features.seen_area); nan: unknown
    hidden_below: bool = False     # something nearer blocks the view of its lower part (features.hidden_below)
    crown_span: float = float("nan")   # extent of the highest points along the long side / whole (features.crown_span)
    hidden_ends: int = 0           # how many of its two ends something nearer hides (features.hidden_ends)


@dataclass(frozen=True)
class Classified:
    label: str
    score: float
    rect: Rect          # completed; first side = length (heading)
    height: float


def _outside(value: float, lo: float, hi: float) -> float:
    """How far outside [lo, hi] a value is, in units of SIZE_TOLERANCE."""
    return max(0.0, lo - value, value - hi) / SIZE_TOLERANCE


def _bell(excess: float, sigma: float) -> float:
    """exp(-excess² / 2σ²) for a positive excess, 1 otherwise."""
    return float(np.exp(-0.5 * (excess / sigma) ** 2)) if excess > 0.0 else 1.0


def score_class(shape: ClusterShape, prior: ClassPrior, sensor_xy=(0.0, 0.0)) -> tuple[float, Rect, float]:
    """Score in [0, 1] that ``shape`` is an object of ``prior``'s class, the completed rectangle and
    the box height."""
    sensor_xy = np.asarray(sensor_xy, dtype=np.float64)
    h = shape.top
    # close to the sensor the top of a tall object is above the highest beam: height is a lower bound
    h_lo = min(prior.min[2], h) if shape.top_cut else prior.min[2]
    if shape.top_cut:
        h = max(h, prior.mean[2])
    if prior.vehicle:
        # either side may be the length: keep the reading the prior explains better
        return max((_score_vehicle(shape, prior, r, h, h_lo, sensor_xy) for r in (shape.rect, shape.rect.swapped())),
                   key=lambda t: t[0])
    return _score_small(shape, prior, h, h_lo, sensor_xy)


def _score_small(shape: ClusterShape, prior: ClassPrior, h: float, h_lo: float, sensor_xy):
    """Score of an object small enough to be seen whole (pedestrian, cyclist)."""
    rider = prior.max[0] > RIDER_LENGTH
    rect = shape.tight if shape.tight is not None else shape.rect
    rect = rect if rect.size[0] >= rect.size[1] else rect.swapped()
    ol, ow = rect.size
    miss = [_outside(ol, prior.min[0] - 0.1, prior.max[0]), _outside(ow, 0.0, prior.max[1]),
            _outside(h, h_lo, prior.max[2])]
    evidence = 1.0
    if ow < PLATE and ol > 2 * PLATE:
        evidence *= PLATE_PENALTY       # a flat plate (sign, fence panel, wall end), not a body
    # a pole, post or trunk: thinner than a person from every side
    evidence *= _bell(PERSON_WIDTH - ol, 0.06)
    if np.isfinite(shape.area):
        # more surface than the whole silhouette of one such object shows: a car, a group, a hedge
        most = prior.max[0] * prior.max[2] * OPEN
        evidence *= _bell(shape.area - most, AREA_SOFT * most)
    if rider and shape.upper_span > UPPER_SPAN and not shape.crown_span < CROWN:
        # long and thin but as wide at the top as below: the back of a car, not a rider
        evidence *= _bell(shape.upper_span - UPPER_SPAN, 0.15)
    # small objects are seen nearly whole, but labelled boxes hold the full body: at least the mean
    # (a person's around the body, a rider's away from the sensor: the bicycle's far side is hidden)
    target = (max(ol, prior.mean[0]), max(ow, prior.mean[1]))
    depth = None if rider else PERSON_DEPTH
    completed = complete_rect(rect, target, sensor_xy, depth) if (ol < target[0] or ow < target[1]) else rect
    if not rider and ol <= SHOULDER_SPAN:
        # seen whole, a person is widest across the shoulders and faces across that line; a longer
        # footprint is a stride or a bicycle (a rider read as a person), along the way it faces
        completed = completed.swapped()
    return _finish(shape, prior, miss, evidence, completed, h)


def _score_vehicle(shape: ClusterShape, prior: ClassPrior, rect: Rect, h: float, h_lo: float, sensor_xy):
    """Vehicle score with the length along ``rect``'s first side."""
    ol, ow = rect.size
    miss = [max(0.0, ol - prior.max[0]) / SIZE_TOLERANCE, max(0.0, ow - prior.max[1]) / SIZE_TOLERANCE,
            _outside(h, h_lo, prior.max[2])]
    seen = min(1.0, max(ol / prior.mean[0], ow / prior.mean[1], 0.0))
    evidence = seen ** EVIDENCE_POWER
    # a side read as the width and longer than the mean must still look like one
    evidence *= _bell(ow - prior.mean[1], (prior.max[1] - prior.mean[1]) / 2.0)
    thin, long = min(ol, ow), max(ol, ow)
    if thin < THIN:
        if long < prior.min[1]:
            evidence *= 0.5          # one short face: weak evidence of a vehicle
        if thin < FLAT and long > 1.0:
            evidence *= FLAT_PENALTY  # a flat plate: a wall, a fence or a hoarding, not a car's curved body
        # a single face: a vehicle's back is as wide at the top as below, a cyclist is not
        evidence *= min(1.0, shape.upper_span / UPPER_SPAN)
        if long > prior.max[1] + SIZE_TOLERANCE:
            evidence *= SIDE_ONLY     # one long straight face and nothing else: as likely a wall or fence
    end_only = long < prior.min[0] and thin < END_DEPTH and np.isfinite(shape.area)
    if end_only:
        # only the back or front in view: it shows at least the vehicle's width by its height of
        # solid surface; a cyclist seen from the side, as long as a car is wide, about half that
        least = prior.min[1] * prior.min[2] * SOLID
        evidence *= _bell(least - shape.area, AREA_SOFT * least / 2.0)
    if end_only or (_van_like(prior) and np.isfinite(shape.crown_span)):
        # its roof line spans that back: a single high point over a low base is a rider's head. A
        # van's roof is flat and level from any side: the top of a hedge, a tree row or a wall with
        # things standing on it is not. Not asked of a truck: its cab is lower than its cargo box,
        # and far off its highest returns cover only part of that box
        evidence *= _bell(CROWN - shape.crown_span, 0.1)
    if prior.mean[2] > TALL and shape.top_cut and shape.hidden_ends == 2:
        # a van or truck cut off on three sides, its top by the highest beam and both ends by
        # something nearer, shows no edge of its own: a window onto something bigger, such as a stretch
        # of wall or facade seen between a tree and a building corner (its cut top is level, so the
        # roof test passes it). A vehicle's top may be cut, but one of its ends is mostly in view
        evidence *= WINDOW_PENALTY
    if prior.mean[0] > 6.0 and long < BIG_FACE * prior.mean[1]:
        evidence *= BIG_FACE_PENALTY  # a truck's back alone looks like any wall segment of its size
    if shape.edge_dist > BLOB_EDGE_DIST:
        # points filling the footprint rather than lining its sides: a bush or a tree crown
        evidence *= _bell(shape.edge_dist - BLOB_EDGE_DIST, 0.08)
    # a vehicle body is solid: scan lines across its doors or bumpers have no holes (fences, hedges do)
    evidence *= _bell(shape.holes - HOLES, 0.1)
    completed = complete_rect(rect, (prior.mean[0], prior.mean[1]), sensor_xy)
    return _finish(shape, prior, miss, evidence, completed, h)


def _finish(shape: ClusterShape, prior: ClassPrior, miss, evidence: float, completed: Rect, h: float):
    fit = float(np.exp(-0.5 * float(np.sum(np.square(miss)))))
    # mild pull toward the typical height: separates pedestrians from cars of the same footprint
    spread = max((prior.max[2] - prior.min[2]) / 2.0, 0.1)
    fit *= float(np.exp(-0.5 * ((h - prior.mean[2]) / (2.0 * spread)) ** 2))
    points = 1.0 - float(np.exp(-shape.n_points / POINTS_SCALE))
    # a person's legs behind a parked car or a hedge (a vehicle's hidden parts are joined instead:
    # cluster.merge_hidden_parts; floating vehicle-sized clutter is mostly sign boards and canopies)
    bottom = 0.0 if shape.hidden_below and not prior.vehicle else shape.bottom
    grounded = float(np.exp(-0.5 * (max(0.0, bottom - 0.5) / 0.4) ** 2))
    if shape.top > TALL:
        # tall clusters with few low points are tree crowns over a trunk, not trucks or people; a
        # solid body's share below LOW_HEIGHT falls as its seen height grows (a 3 m truck side has
        # two thirds of a 2 m van's), so the share expected scales with 1 / height
        grounded *= min(1.0, shape.low_fraction * shape.top / (LOW_FRACTION * TALL))
    return (prior.weight * fit * evidence * points * grounded) ** SCORE_POWER, completed, h


def _van_like(prior: ClassPrior) -> bool:
    """A vehicle class taller than a car and shorter than a truck (the van prior)."""
    return prior.vehicle and prior.mean[2] > TALL and prior.mean[0] < VAN_LENGTH


def classify(shape: ClusterShape, priors: dict[str, ClassPrior], sensor_xy=(0.0, 0.0)) -> Classified | None:
    """The best-scoring class for a cluster (None when no class scores above zero)."""
    best = None
    # close by, a car's top is above the highest beam too: a cut top is a sign of a van only once
    # the seen height exceeds the lowest vehicle class's tallest (trucks are scored as before)
    lowest_top = min((p.max[2] for p in priors.values() if p.vehicle), default=np.inf)
    for label, prior in priors.items():
        seen = shape
        if shape.top_cut and _van_like(prior) and prior.mean[2] > lowest_top and shape.top <= lowest_top:
            seen = replace(shape, top_cut=False)
        score, rect, height = score_class(seen, prior, sensor_xy)
        if score > 0.0 and (best is None or score > best.score):
            best = Classified(label, score, rect, max(height, 0.3))
    return best
