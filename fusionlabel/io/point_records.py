"""Shared pieces of the point-cloud readers and writers: column names and aliases, assembling
canonical columns, argument checks, writing bytes. See :mod:`fusionlabel.io.pointcloud`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import PointCloudError

COLUMNS = ("x", "y", "z", "intensity", "ring", "time")
"""Column names of the point array, in order; an array has the first 4, 5 or 6 of them."""

_ALIASES = {
    "x": ("x",),
    "y": ("y",),
    "z": ("z",),
    "intensity": ("intensity", "reflectance", "i", "scalar_intensity"),
    "ring": ("ring",),
    "time": ("time", "timestamp", "t"),
}


def assemble_columns(path: Path, cols: dict[str, np.ndarray], info: dict) -> tuple[np.ndarray, dict]:
    """Stack canonical columns (1-D arrays, any numeric dtype) into (N, 4..6) float32."""
    for name in ("x", "y", "z"):
        if name not in cols:
            raise PointCloudError(path, f"no '{name}' field (found: {', '.join(info.get('source_fields', [])) or 'none'})")
    n = len(cols["x"])
    want = ["x", "y", "z", "intensity"]
    if "ring" in cols or "time" in cols:
        want.append("ring")
    if "time" in cols:
        want.append("time")
    out = np.zeros((n, len(want)), dtype=np.float32)
    for j, name in enumerate(want):
        v = cols.get(name)
        if v is None:
            if name == "ring":
                out[:, j] = -1.0
            continue
        if name == "time" and v.dtype.itemsize == 8 and n:
            v64 = v.astype(np.float64) if v.dtype.kind == "f" else v.astype(np.int64)
            origin = np.nanmin(v64) if v.dtype.kind == "f" else v64.min()
            if np.isfinite(origin):
                v = v64 - origin
                info["time_origin"] = origin.item()
        out[:, j] = v
    return out, info


def match_fields(names: list[str]) -> dict[str, int]:
    """Map canonical column -> index into ``names`` (first alias in priority order wins)."""
    lower = [n.lower() for n in names]
    found = {}
    for col, aliases in _ALIASES.items():
        for alias in aliases:
            if alias in lower:
                found[col] = lower.index(alias)
                break
    return found


def one_line(e: Exception) -> str:
    return " ".join(str(e).split())[:300]


def check_points_array(path: Path, points) -> np.ndarray:
    pts = np.asarray(points)
    if pts.ndim != 2 or pts.shape[1] < 3 or pts.dtype.kind not in "fiu":
        raise PointCloudError(path, f"points to write have shape {pts.shape} dtype {pts.dtype}, "
                                    "expected a numeric (N, >=3) array")
    return pts


def write_file_bytes(path: Path, data: bytes) -> None:
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as e:
        raise PointCloudError(path, f"cannot write file ({e.strerror or e})") from e


def is_number(tok: str) -> bool:
    try:
        float(tok)
        return True
    except ValueError:
        return False
