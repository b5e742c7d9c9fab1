"""Which scale an imported label's KITTI ``truncated`` is on.

KITTI object label files hold ``truncated`` as the fraction of the object's projection outside the
image, in [0, 1]; KITTI tracking label files hold an integer level, the state of KITTI's raw
tracklets (0 in the image, 1 truncated, 2 out of the image). Measured on KITTI's own tracking labels
(docs/import_export.md), level 0 is a box with under half of its projection outside the image and
level 1 one with half or more (:func:`truncation_level`); level 2 follows from no fraction: KITTI
gives it to boxes leaving the image and to far, hidden ones at a track's start.

The KITTI readers mark each label with the scale of the ``truncated`` they keep, in the
attribute :data:`TRUNCATION_SCALE`, which travels with the other kept fields into a native drive
and a project. Whatever writes KITTI lines (the KITTI exporters, prediction files) converts a kept
truncation whose scale is not its format's with :func:`truncation_written`. A label without the
mark (imported before it existed) is written as it always was.
"""

from __future__ import annotations

from typing import Any

TRUNCATION_SCALE = "kitti_truncation"   # attribute key
FRACTION = "fraction"                   # KITTI object: the clipped-off fraction in [0, 1]
LEVEL = "level"                         # KITTI tracking: 0, 1 or 2
SCALES = (FRACTION, LEVEL)

LEVEL_1_FROM = 0.5      # the clipped-off fraction from which KITTI tracking's level is 1
# the fractions, as KITTI object writes them (2 decimals), that read back as each level
LEVEL_FRACTIONS = {0: (0.0, 0.49), 1: (0.5, 0.99), 2: (1.0, 1.0)}


def truncation_scale_problem(value: Any) -> str | None:
    """Why ``value`` is not a truncation scale; None when it is one."""
    if isinstance(value, str) and value in SCALES:
        return None
    return f"expected '{FRACTION}' (KITTI object) or '{LEVEL}' (KITTI tracking), got {value!r}"


def truncation_level(fraction: float) -> int:
    """KITTI tracking's truncation level of a clipped-off fraction: 0 below 50 %, 1 from 50 % while
    part of the projection is in the image, 2 when none is (fraction 1)."""
    return 0 if fraction < LEVEL_1_FROM else (1 if fraction < 1.0 else 2)


def fraction_in_level(fraction: float, level: float) -> float:
    """``fraction`` clamped into the range of KITTI tracking ``level`` (:data:`LEVEL_FRACTIONS`), so
    a kept level written to KITTI object reads back as itself; unchanged for a value not 0, 1 or 2."""
    low, high = LEVEL_FRACTIONS.get(level, (fraction, fraction))
    return min(max(fraction, low), high)


def truncation_written(value: float, scale: str | None, written: str, projected: float | None = None) -> float:
    """A kept ``truncated`` ``value`` on ``scale`` (None: unknown) as a file on scale ``written``
    holds it: a fraction becomes its level (:func:`truncation_level`); a level becomes ``projected``,
    the fraction the box now projects off the image (1 when none of it is in the image), moved into
    the level's range (:func:`fraction_in_level`), or without a projection the level's smallest
    fraction; unchanged when the scales agree or ``scale`` is unknown."""
    if scale == FRACTION and written == LEVEL:
        return float(truncation_level(value))
    if scale == LEVEL and written == FRACTION:
        low = LEVEL_FRACTIONS.get(value, (value, value))[0]
        return fraction_in_level(low if projected is None else projected, value)
    return value
