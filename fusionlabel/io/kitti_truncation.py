"""Which scale an imported label's KITTI ``truncated`` is on.

KITTI object label files hold ``truncated`` as the fraction of the object's projection outside the
image, in [0, 1]; KITTI tracking label files hold an integer level (0: under 5 %, 1: under 50 %,
2: more). The KITTI readers mark each label with the scale of the ``truncated`` they keep, in the
attribute :data:`TRUNCATION_SCALE`, which travels with the other kept fields into a native drive
and a project. The KITTI exporters convert a kept truncation whose scale is not their format's.
A label without the mark (imported before it existed) is written as it always was.
"""

from __future__ import annotations

from typing import Any

TRUNCATION_SCALE = "kitti_truncation"   # attribute key
FRACTION = "fraction"                   # KITTI object: the clipped-off fraction in [0, 1]
LEVEL = "level"                         # KITTI tracking: 0, 1 or 2
SCALES = (FRACTION, LEVEL)


def truncation_scale_problem(value: Any) -> str | None:
    """Why ``value`` is not a truncation scale; None when it is one."""
    if isinstance(value, str) and value in SCALES:
        return None
    return f"expected '{FRACTION}' (KITTI object) or '{LEVEL}' (KITTI tracking), got {value!r}"
