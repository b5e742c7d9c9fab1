"""The one check, and the one wording, of "a list of n finite numbers" for the nuScenes numbers a
drive keeps (drive.yaml's ``nuscenes`` records, a label's ``nuscenes_box``)."""

from __future__ import annotations

import math


def finite_numbers(value, n: int) -> list[float] | None:
    """``value`` as ``n`` floats when it is a list of ``n`` finite numbers (booleans are not
    numbers here), else None."""
    if not (isinstance(value, list) and len(value) == n and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)):
        return None
    return [float(v) for v in value]


def numbers_problem(value, n: int) -> str | None:
    """What is wrong with ``value`` as a list of ``n`` finite numbers, or None when nothing is; the
    caller's error names the file and the field."""
    if finite_numbers(value, n) is not None:
        return None
    return f"expected a list of {n} finite numbers, got {value!r}"
