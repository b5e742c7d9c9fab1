"""Point statistics of a cluster that tell objects from clutter of the same size.

All functions take one cluster's points in the LiDAR frame (sensor at the origin) and their
heights above the ground, and return plain floats:

- :func:`hole_share`: how much of the scan lines crossing the cluster's lower part falls in holes.
  A car's bumper, doors or a wall are solid (about 0); the rims and frame of a bicycle, or the
  legs of people walking together, leave holes between them (0.3 and more).
- :func:`upper_span`: extent of the top third along the long side over the whole extent (a car's
  back is as wide at the top as below, a rider is not).
- :func:`crown_span`: extent of the highest points (within a band under the top) along the long
  side over the whole extent: a car's roof line spans its back, a rider's head does not.
- :func:`edge_distance`: median distance of the points to the nearest side of the fitted
  rectangle (surfaces seen from outside: small; bushes and tree crowns: large).
- :func:`hidden_below`: whether something nearer hides a cluster's lower part (a person's legs
  behind a parked car), so that a cluster starting high above the ground may still stand on it.
- :func:`hidden_ends`: how many of its two ends something nearer hides (a stretch of wall seen
  between a tree and a building corner: both; a vehicle: mostly none).
"""

from __future__ import annotations

import numpy as np

from ..geometry.transforms import arctan2

ROW_GAP = np.radians(0.15)     # elevation gap (rad) between two scan lines of a spinning LiDAR
HOLE_STEPS = 2.5               # an azimuth gap wider than this many sensor steps is a hole
LOW_BAND = (0.4, 1.0)          # metres above ground: bumpers and doors (above a car's wheel gap), legs


def azimuth_step(points: np.ndarray) -> float:
    """The LiDAR's azimuth step (rad) between neighbouring returns of one beam, from a sweep
    (N, 3+): the median azimuth gap among returns 5-30 m away at the most common elevation."""
    p = np.asarray(points)
    rng = np.hypot(p[:, 0], p[:, 1])
    mid = (rng > 5.0) & (rng < 30.0)
    if mid.sum() < 100:
        return np.radians(0.2)
    el = np.arctan2(p[mid, 2], rng[mid])
    line = np.abs(el - np.median(el)) < np.radians(0.05)
    az = np.sort(np.arctan2(p[mid, 1][line], p[mid, 0][line]))
    gaps = np.diff(az)
    gaps = gaps[gaps > 1e-5]
    return float(np.median(gaps)) if gaps.size >= 20 else np.radians(0.2)


def hole_share(xyz: np.ndarray, heights: np.ndarray, az_step: float, band=LOW_BAND) -> float:
    """Share (0..1) of the azimuth span of the cluster's low scan lines (median height within
    ``band``) that lies in holes wider than ``HOLE_STEPS`` sensor steps (``az_step``, rad; see
    :func:`azimuth_step`); 0 when too few points cross the band. Scan lines are found by splitting
    the points' elevation angles at gaps above ``ROW_GAP`` (lines that merge only hide holes, never
    make them). Whole lines are used: near the sensor one line climbs a car's flank, and cutting it
    to the band would leave false holes."""
    p = np.asarray(xyz, dtype=np.float64)
    heights = np.asarray(heights, dtype=np.float64)
    if len(p) < 6:
        return 0.0
    rng = np.hypot(p[:, 0], p[:, 1])
    el = arctan2(p[:, 2], rng)
    az = arctan2(p[:, 1], p[:, 0])
    az = np.angle(np.exp(1j * (az - az[0])))          # unwrap around the cluster
    order = np.argsort(el, kind="stable")
    row = np.empty(len(el), np.int64)
    row[order] = np.concatenate([[0], np.cumsum(np.diff(el[order]) > ROW_GAP)])
    n_rows = int(row.max()) + 1
    mean_h = np.bincount(row, heights, n_rows) / np.maximum(np.bincount(row, minlength=n_rows), 1)
    low = (mean_h >= band[0]) & (mean_h <= band[1])
    keep = low[row]
    if keep.sum() < 6:
        return 0.0
    row, az = row[keep], az[keep]
    o = np.lexsort((az, row))
    same = row[o][1:] == row[o][:-1]
    gaps = np.diff(az[o])[same]
    total = float(gaps.sum())
    if gaps.size < 4 or total <= 0.0:
        return 0.0
    return float(np.clip(np.maximum(gaps - HOLE_STEPS * az_step, 0.0).sum() / total, 0.0, 1.0))


def upper_span(xy: np.ndarray, heights: np.ndarray, axis: np.ndarray) -> float:
    """Extent of the points in the top third of the cluster along ``axis`` (unit (2,), its long
    side) over the whole extent: 1 for a car's back or side, about 0.3 for a rider over a bicycle."""
    u = xy @ axis
    full = float(u.max() - u.min())
    hmin, hmax = float(heights.min()), float(heights.max())
    top = heights >= hmin + (hmax - hmin) * 2.0 / 3.0
    if full < 1e-6 or top.sum() < 2:
        return 1.0
    ut = np.sort(u[top])
    k = int(0.02 * (len(ut) - 1))        # nearest-rank 2nd and 98th percentiles (strays excluded)
    return float((ut[len(ut) - 1 - k] - ut[k]) / full)


def crown_span(xy: np.ndarray, heights: np.ndarray, axis: np.ndarray, band: float = 0.15,
               min_points: int = 3) -> float:
    """Extent of the points within ``band`` metres of the highest one along ``axis`` (unit (2,),
    the long side) over the whole extent: about 0.6-0.9 for a car's back (its roof line), 0.1-0.3
    for a rider (the head over a bicycle or scooter). NaN when fewer than ``min_points`` are that
    high (no decision)."""
    u = np.asarray(xy, dtype=np.float64) @ axis
    full = float(u.max() - u.min())
    top = np.asarray(heights) >= float(np.max(heights)) - band
    if full < 1e-6 or top.sum() < min_points:
        return float("nan")
    return float((u[top].max() - u[top].min()) / full)


def edge_distance(xy: np.ndarray, rect) -> float:
    """Median distance (m) of (n, 2) points to the nearest side of ``rect`` (a boxfit.Rect)."""
    u = np.stack([xy @ rect.axis, xy @ rect.normal], axis=1)
    d = np.minimum(u - rect.lo, rect.hi - u).min(axis=1)
    return float(np.median(np.maximum(d, 0.0)))


def elevation_steps(points: np.ndarray, bin_deg: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The LiDAR's elevation step (rad) between neighbouring scan lines as a function of elevation,
    from a sweep (N, 3+): ``(elevations (K,), steps (K,))`` for :func:`numpy.interp`. Returns 3-60 m
    away that share an azimuth bin one azimuth step wide are sorted by elevation; each gap counts at
    its mid elevation, and each ``bin_deg`` bin takes the median (beam layouts are often denser near
    the horizon than at the edges of the field of view)."""
    p = np.asarray(points)
    rng = np.hypot(p[:, 0], p[:, 1])
    keep = (rng > 3.0) & (rng < 60.0)
    default = (np.zeros(1), np.full(1, np.radians(0.4)))
    if keep.sum() < 100:
        return default
    az = np.arctan2(p[keep, 1], p[keep, 0])
    el = np.arctan2(p[keep, 2], rng[keep])
    b = np.floor((az + np.pi) / azimuth_step(points)).astype(np.int64)
    sample = b % 7 == 0                                  # every 7th bin is plenty
    b, el = b[sample], el[sample]
    o = np.lexsort((el, b))
    same = b[o][1:] == b[o][:-1]
    lo = el[o][:-1][same]
    gaps = np.diff(el[o])[same]
    ok = gaps > np.radians(0.05)
    gaps, mid = gaps[ok], (lo + gaps / 2.0)[ok]
    if gaps.size < 20:
        return default
    width = np.radians(bin_deg)
    k = np.floor(mid / width).astype(np.int64)
    order = np.argsort(k, kind="stable")
    k, gaps = k[order], gaps[order]
    starts = np.flatnonzero(np.r_[True, np.diff(k) > 0])
    counts = np.diff(np.r_[starts, len(k)])
    steps = np.array([np.median(gaps[s0:s0 + c]) for s0, c in zip(starts, counts)])
    centres = (k[starts] + 0.5) * width
    good = counts >= 5
    if not good.any():
        return default
    return centres[good], steps[good]


def seen_area(xyz: np.ndarray, az_step: float, el_steps: tuple[np.ndarray, np.ndarray]) -> float:
    """Area (m²) of surface that a cluster's (n, 3) returns stand for: each return covers one
    azimuth step by one elevation step at its range (``az_step`` rad, ``el_steps`` from
    :func:`elevation_steps`). A car's back shows about 1.5-2.5 m², its side 3-6 m², a cyclist about
    1 m², a pedestrian about 0.5 m², whatever the sensor and the range."""
    p = np.asarray(xyz, dtype=np.float64)
    r2 = p[:, 0] ** 2 + p[:, 1] ** 2
    el = arctan2(p[:, 2], np.sqrt(r2))
    return float(np.sum(r2 * np.interp(el, *el_steps)) * az_step)


def hidden_below(xyz: np.ndarray, ground_z: float, others: np.ndarray, others_az_sorted: np.ndarray,
                 min_hits: int = 3, margin: float = 0.5) -> bool:
    """Whether the lower part of a cluster (n, 3) is hidden: at least ``min_hits`` returns of
    ``others`` (M, 3), sorted by azimuth (``others_az_sorted`` (M,) their azimuths), lie within the
    cluster's azimuth span, ``margin`` m or more nearer than it, between the elevation of the ground
    under the cluster (``ground_z``, LiDAR frame) and the cluster's lowest return. Sensor at the
    origin."""
    p = np.asarray(xyz, dtype=np.float64)
    rng = np.hypot(p[:, 0], p[:, 1])
    az = arctan2(p[:, 1], p[:, 0])
    mid = float(np.arctan2(np.sin(az).mean(), np.cos(az).mean()))
    rel = np.angle(np.exp(1j * (az - mid)))
    lo, hi = mid + rel.min(), mid + rel.max()
    if hi - lo > np.pi / 2:
        return False
    spans = [(lo, hi)]
    if lo < -np.pi:
        spans = [(lo + 2 * np.pi, np.pi), (-np.pi, hi)]
    elif hi > np.pi:
        spans = [(lo, np.pi), (-np.pi, hi - 2 * np.pi)]
    near = float(rng.min())
    foot = np.arctan2(ground_z, near)
    low = float(np.min(arctan2(p[:, 2], rng)))
    hits = 0
    for a, b in spans:
        i, j = np.searchsorted(others_az_sorted, [a, b])
        q = others[i:j]
        if len(q) == 0:
            continue
        r = np.hypot(q[:, 0], q[:, 1])
        el = arctan2(q[:, 2], r)
        hits += int(np.count_nonzero((r < near - margin) & (el > foot) & (el < low)))
    return hits >= min_hits


def _in_azimuth(others: np.ndarray, others_az_sorted: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """The rows of ``others`` whose azimuth (sorted, in [-pi, pi]) lies in [lo, hi], across the wrap."""
    spans = [(lo, hi)]
    if lo < -np.pi:
        spans = [(lo + 2 * np.pi, np.pi), (-np.pi, hi)]
    elif hi > np.pi:
        spans = [(lo, np.pi), (-np.pi, hi - 2 * np.pi)]
    parts = [others[slice(*np.searchsorted(others_az_sorted, [a, b]))] for a, b in spans]
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def hidden_ends(xyz: np.ndarray, others: np.ndarray, others_az_sorted: np.ndarray, window: float = np.radians(1.5),
                min_hits: int = 3, margin: float = 0.5) -> int:
    """How many of a cluster's two ends (its azimuth extremes; (n, 3) points, sensor at the origin)
    are hidden: just beyond the end (``window`` rad), within the cluster's elevation span, at least
    ``min_hits`` returns of ``others`` (M, 3; sorted by azimuth, ``others_az_sorted`` (M,)) lie
    ``margin`` m or more nearer than the cluster's end, and more of them than lie that much farther.
    Past a seen end of an object the view goes on to what stands behind it; past a hidden one the
    object may go on too (a wall seen between a tree and a building corner)."""
    p = np.asarray(xyz, dtype=np.float64)
    rng = np.hypot(p[:, 0], p[:, 1])
    az = arctan2(p[:, 1], p[:, 0])
    el = arctan2(p[:, 2], rng)
    mid = float(np.arctan2(np.sin(az).mean(), np.cos(az).mean()))
    rel = np.angle(np.exp(1j * (az - mid)))
    hidden = 0
    for end in (rel.min(), rel.max()):
        at = np.abs(rel - end) <= np.radians(0.3)
        r_end = float(np.median(rng[at]))
        a, b = (mid + end - window, mid + end) if end == rel.min() else (mid + end, mid + end + window)
        q = _in_azimuth(others, others_az_sorted, a, b)
        if len(q) == 0:
            continue
        qr = np.hypot(q[:, 0], q[:, 1])
        qel = arctan2(q[:, 2], qr)
        band = (qel >= el.min()) & (qel <= el.max())
        near = int(np.count_nonzero(band & (qr < r_end - margin)))
        far = int(np.count_nonzero(band & (qr > r_end + margin)))
        hidden += int(near >= min_hits and near > far)
    return hidden
