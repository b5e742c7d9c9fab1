"""Classification of a fitted cluster by size, shape and point statistics, with a confidence.

Each class prior (:class:`fusionlabel.assist.config.ClassPrior`) says how big an object of that
class is. A vehicle may be partly seen, so its measured length and width only need to stay below
the maximum, and the hidden sides are completed to the mean; a pedestrian or cyclist is small
enough to be seen whole, so its footprint must lie within the range. The score multiplies a
size-fit term, the evidence (how much of the expected footprint was actually seen), a point-count
term and a term that the object stands on the ground; point statistics (see the constants and
:class:`ClusterShape`) turn down the clutter that has the right size: bushes and tree crowns,
walls, sign plates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .boxfit import Rect, complete_rect
from .config import ClassPrior

SIZE_TOLERANCE = 0.15      # metres of softness at the edges of a prior range
THIN = 0.45                # a footprint thinner than this shows one face only
LOW_HEIGHT = 1.0           # vehicles and people put many points below this; tree crowns do not
LOW_FRACTION = 0.3         # share expected of tall objects
TALL = 2.0                 # metres
POINTS_SCALE = 20.0        # the point-count term is 1 - exp(-n / POINTS_SCALE)
SIDE_ONLY = 0.5            # a vehicle shown by one face longer than its width: maybe a wall
PLATE = 0.15               # metres: people and bicycles are thicker than this seen from any side
PLATE_PENALTY = 0.3        # score factor for such a plate
BLOB_EDGE_DIST = 0.25      # metres: vehicles' points lie closer than this to their box sides
UPPER_SPAN = 0.6           # above this, the top of a long thin cluster spans its length (vehicle)


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


@dataclass(frozen=True)
class Classified:
    label: str
    score: float
    rect: Rect          # completed; first side = length (heading)
    height: float


def _outside(value: float, lo: float, hi: float) -> float:
    """How far outside [lo, hi] a value is, in units of SIZE_TOLERANCE."""
    return max(0.0, lo - value, value - hi) / SIZE_TOLERANCE


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
    rect = shape.tight if shape.tight is not None else shape.rect
    rect = rect if rect.size[0] >= rect.size[1] else rect.swapped()
    ol, ow = rect.size
    miss = [_outside(ol, prior.min[0] - 0.1, prior.max[0]), _outside(ow, 0.0, prior.max[1]),
            _outside(h, h_lo, prior.max[2])]
    evidence = 1.0
    if ow < PLATE and ol > 2 * PLATE:
        evidence *= PLATE_PENALTY       # a flat plate (sign, fence panel, wall end), not a body
    if prior.max[0] > 1.5 and shape.upper_span > UPPER_SPAN:
        # long and thin but as wide at the top as below: the back of a car, not a rider
        evidence *= float(np.exp(-0.5 * ((shape.upper_span - UPPER_SPAN) / 0.15) ** 2))
    # small objects are seen nearly whole, but labelled boxes hold the full body: at least the mean
    target = (max(ol, prior.mean[0]), max(ow, prior.mean[1]))
    completed = complete_rect(rect, target, sensor_xy) if (ol < target[0] or ow < target[1]) else rect
    return _finish(shape, prior, miss, evidence, completed, h)


def _score_vehicle(shape: ClusterShape, prior: ClassPrior, rect: Rect, h: float, h_lo: float, sensor_xy):
    """Vehicle score with the length along ``rect``'s first side."""
    ol, ow = rect.size
    miss = [max(0.0, ol - prior.max[0]) / SIZE_TOLERANCE, max(0.0, ow - prior.max[1]) / SIZE_TOLERANCE,
            _outside(h, h_lo, prior.max[2])]
    evidence = min(1.0, max(ol / prior.mean[0], ow / prior.mean[1], 0.0)) ** 2
    if min(ol, ow) < THIN:
        if max(ol, ow) < prior.min[1]:
            evidence *= 0.5          # one short face: weak evidence of a vehicle
        # a single face: a vehicle's back is as wide at the top as below, a cyclist is not
        evidence *= min(1.0, shape.upper_span / UPPER_SPAN)
        if max(ol, ow) > prior.max[1] + SIZE_TOLERANCE:
            evidence *= SIDE_ONLY     # one long straight face and nothing else: as likely a wall or fence
    if shape.edge_dist > BLOB_EDGE_DIST:
        # points filling the footprint rather than lining its sides: a bush or a tree crown
        evidence *= float(np.exp(-0.5 * ((shape.edge_dist - BLOB_EDGE_DIST) / 0.08) ** 2))
    completed = complete_rect(rect, (prior.mean[0], prior.mean[1]), sensor_xy)
    return _finish(shape, prior, miss, evidence, completed, h)


def _finish(shape: ClusterShape, prior: ClassPrior, miss, evidence: float, completed: Rect, h: float):
    fit = float(np.exp(-0.5 * float(np.sum(np.square(miss)))))
    # mild pull toward the typical height: separates pedestrians from cars of the same footprint
    spread = max((prior.max[2] - prior.min[2]) / 2.0, 0.1)
    fit *= float(np.exp(-0.5 * ((h - prior.mean[2]) / (2.0 * spread)) ** 2))
    points = 1.0 - float(np.exp(-shape.n_points / POINTS_SCALE))
    grounded = float(np.exp(-0.5 * (max(0.0, shape.bottom - 0.5) / 0.4) ** 2))
    if shape.top > TALL:
        # tall clusters with few low points are tree crowns over a trunk, not trucks or people
        grounded *= min(1.0, shape.low_fraction / LOW_FRACTION)
    return prior.weight * fit * evidence * points * grounded, completed, h


def classify(shape: ClusterShape, priors: dict[str, ClassPrior], sensor_xy=(0.0, 0.0)) -> Classified | None:
    """The best-scoring class for a cluster (None when no class scores above zero)."""
    best = None
    for label, prior in priors.items():
        score, rect, height = score_class(shape, prior, sensor_xy)
        if score > 0.0 and (best is None or score > best.score):
            best = Classified(label, score, rect, max(height, 0.3))
    return best
