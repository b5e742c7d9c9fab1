"""The ``voxelize`` block of the ONNX detector settings: the model takes pillars/voxels made on the host.

:func:`check_voxelize` checks the block; ``fail(problem, sub)`` makes the one-line error naming the
settings file and the key ``voxelize.<sub>``. Keys (docs/prelabel.md, "Pillar and voxel inputs"):
``voxel_size``, ``point_cloud_range``, ``max_points_per_voxel``, ``max_voxels`` (all four needed),
``keep``, ``coords``, ``inputs``.
"""

from __future__ import annotations

import math

from .voxelize import KEEP_RULES, VoxelGrid

INPUT_ROLES = ("voxels", "num_points", "coords")
DEFAULT_INPUTS = {"voxels": "voxels", "num_points": "num_points", "coords": "coors"}   # mmdeploy's names
DEFAULT_COORDS = ("batch", "z", "y", "x")           # mmdet3d's and OpenPCDet's order
NEEDED = ("voxel_size", "point_cloud_range", "max_points_per_voxel", "max_voxels")
KNOWN = NEEDED + ("keep", "coords", "inputs")
POINT_INPUT_KEYS = ("input", "max_points")          # settings of the point input, which a voxel model has not


def check_voxelize(value, fail) -> dict:
    """The checked block, every key given (sizes as tuples of float, ``coords`` a tuple of axis
    names, ``inputs`` {role: name}); a checked block passes again unchanged."""
    if not isinstance(value, dict):
        raise fail(f"expected a mapping with {', '.join(NEEDED)} (and optionally keep, coords, inputs), got {value!r}")
    for key in value:
        if key not in KNOWN:
            raise fail(f"unknown setting (known: {', '.join(KNOWN)})", key)
    missing = [key for key in NEEDED if key not in value]
    if missing:
        raise fail(f"missing {', '.join(missing)}: nothing is guessed: take them from the config the model was "
                   "trained with", missing[0])
    size = _numbers(value["voxel_size"], 3, "voxel_size", fail, "[0.16, 0.16, 4]")
    if min(size) <= 0:
        raise fail(f"expected three sizes above 0 (x, y, z in m), got {value['voxel_size']!r}", "voxel_size")
    span = _numbers(value["point_cloud_range"], 6, "point_cloud_range", fail, "[0, -39.68, -3, 69.12, 39.68, 1]")
    for axis, low, high, step in zip("xyz", span[:3], span[3:], size):
        if not high - low >= step:
            raise fail(f"{axis} runs from {low:g} to {high:g}: expected x, y, z minimum then maximum, the maximum "
                       f"at least one voxel ({step:g} m) above the minimum", "point_cloud_range")
    limits = {key: _count(value[key], key, fail) for key in ("max_points_per_voxel", "max_voxels")}
    keep = value.get("keep", "first")
    if keep not in KEEP_RULES:
        raise fail(f"expected 'first' (the voxels whose first point comes first in the sweep) or 'nearest' (the "
                   f"voxels nearest the sensor) to say which stay beyond max_voxels, got {keep!r}", "keep")
    return {"voxel_size": size, "point_cloud_range": span, **limits, "keep": keep,
            "coords": _coords(value.get("coords", DEFAULT_COORDS), fail),
            "inputs": _inputs(value.get("inputs", {}), fail)}


def voxel_grid(block: dict) -> VoxelGrid:
    """The grid of a checked ``voxelize`` block."""
    return VoxelGrid(block["voxel_size"], block["point_cloud_range"], block["max_points_per_voxel"],
                     block["max_voxels"], block["keep"])


def _numbers(value, count: int, key: str, fail, example: str) -> tuple:
    ok = isinstance(value, (list, tuple)) and len(value) == count and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
    if not ok:
        raise fail(f"expected a list of {count} numbers, e.g. {example}, got {value!r}", key)
    return tuple(float(v) for v in value)


def _count(value, key: str, fail) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise fail(f"expected a positive whole number, got {value!r}", key)
    return value


def _coords(value, fail) -> tuple[str, ...]:
    axes = ("batch", "x", "y", "z")
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value) or \
            sorted(set(value)) != sorted(value) or not {"x", "y", "z"} <= set(value) <= set(axes):
        raise fail(f"expected the order of the coordinate columns: x, y, z and optionally batch, each once, e.g. "
                   f"[batch, z, y, x], got {value!r}", "coords")
    return tuple(value)


def _inputs(value, fail) -> dict[str, str]:
    if not isinstance(value, dict):
        raise fail(f"expected a mapping {{voxels: NAME, num_points: NAME, coords: NAME}}, got {value!r}", "inputs")
    for role, name in value.items():
        if role not in INPUT_ROLES:
            raise fail(f"unknown input {role!r} (known: {', '.join(INPUT_ROLES)})", "inputs")
        if not isinstance(name, str) or not name:
            raise fail(f"{role}: expected the name of a model input, got {name!r}", "inputs")
    names = {**DEFAULT_INPUTS, **value}
    if len(set(names.values())) < len(names):
        raise fail(f"two roles name the same input ({', '.join(f'{r}: {n}' for r, n in names.items())})", "inputs")
    return names
