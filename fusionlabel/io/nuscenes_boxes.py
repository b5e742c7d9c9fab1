"""A nuScenes annotation's own box numbers, kept on the label imported from it (attribute
``nuscenes_box``: ``translation``, ``rotation`` (w, x, y, z) and ``size`` (w, l, h) as the source
wrote them), so that a nuScenes export writes an unchanged box digit for digit as the source has it
instead of its round trip through the LiDAR frame (about 1e-14 off, and -0.0 written as 1e-18).
"""

from __future__ import annotations

import numpy as np

from ..geometry.cuboid import Cuboid
from ..geometry.transforms import invert_T
from .finite_numbers import numbers_problem

SOURCE_BOX = "nuscenes_box"
SAME_BOX = 1e-9         # metres (centre, size) and rotation-matrix entries: an unchanged box
LENGTHS = {"translation": 3, "rotation": 4, "size": 3}


def source_box(record: dict) -> dict:
    """The ``nuscenes_box`` attribute of a sample_annotation record."""
    return {key: list(record[key]) for key in LENGTHS}


def source_box_problem(value) -> tuple[str, str] | None:
    """What is wrong with a ``nuscenes_box`` attribute value as (the key at fault, "" for the value
    itself; the problem), or None when it is well formed."""
    if not isinstance(value, dict) or set(value) != set(LENGTHS):
        return "", f"expected an object with keys {', '.join(LENGTHS)}, got {value!r}"
    for key, n in LENGTHS.items():
        if (problem := numbers_problem(value[key], n)) is not None:
            return key, problem
    if not any(value["rotation"]):
        return "rotation", "a quaternion cannot be all zero"
    if not all(x > 0 for x in value["size"]):
        return "size", f"expected three positive numbers w, l, h, got {value['size']!r}"
    return None


def unchanged_source_box(box: Cuboid, value, T_world_lidar: np.ndarray) -> dict | None:
    """``value`` (a ``nuscenes_box`` attribute) when ``box`` (LiDAR frame of a frame at
    ``T_world_lidar``, shape (4, 4)) is, within :data:`SAME_BOX`, the box an import makes of it
    there; None for a moved, turned or resized box, a changed pose, or no (or a malformed) value."""
    from .nuscenes import cuboid_from_nuscenes

    if source_box_problem(value) is not None:
        return None
    made = cuboid_from_nuscenes(value).transformed(invert_T(T_world_lidar))
    same = (np.allclose(made.center, box.center, rtol=0.0, atol=SAME_BOX)
            and np.allclose(made.size, box.size, rtol=0.0, atol=SAME_BOX)
            and np.allclose(made.rotation(), box.rotation(), rtol=0.0, atol=SAME_BOX))
    return value if same else None
