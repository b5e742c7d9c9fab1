"""PCD (PCL point-cloud data) files: ``DATA ascii | binary | binary_compressed``.

Inconsistent binary headers are repaired as described in :mod:`fusionlabel.io.pointcloud`.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import PointCloudError
from .lzf import lzf_compress, lzf_decompress
from .point_records import (
    COLUMNS,
    assemble_columns,
    check_points_array,
    is_number,
    match_fields,
    write_file_bytes,
)

_PCD_TYPES = {("F", 4): "f4", ("F", 8): "f8", ("F", 2): "f2",
              ("U", 1): "u1", ("U", 2): "u2", ("U", 4): "u4", ("U", 8): "u8",
              ("I", 1): "i1", ("I", 2): "i2", ("I", 4): "i4", ("I", 8): "i8"}
_PCD_KEYS = ("VERSION", "FIELDS", "SIZE", "TYPE", "COUNT", "WIDTH", "HEIGHT", "VIEWPOINT", "POINTS", "DATA")
_PCD_REQUIRED = ("FIELDS", "SIZE", "TYPE", "WIDTH", "HEIGHT", "POINTS", "DATA")
_PCD_MAX_HEADER = 1 << 16


@dataclass(frozen=True)
class _Field:
    name: str
    dtype: np.dtype   # little-endian scalar type
    count: int

    @property
    def size(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.dtype.itemsize * self.count

    @property
    def padding(self) -> bool:
        return self.name == "_"


@dataclass
class _PcdHeader:
    fields: list[_Field]
    points: int
    data: str
    data_offset: int      # byte offset of the data section in the file
    n_lines: int          # header lines (for ascii line numbers)


def _pcd_ints(path: Path, key: str, values: list[str], n: int | None = None) -> list[int]:
    if n is not None and len(values) != n:
        raise PointCloudError(path, f"has {len(values)} values but FIELDS lists {n} fields", where=key)
    try:
        out = [int(v) for v in values]
    except ValueError:
        raise PointCloudError(path, f"expected integers, found '{' '.join(values)}'", where=key) from None
    if any(v < 0 for v in out):
        raise PointCloudError(path, f"expected non-negative integers, found '{' '.join(values)}'", where=key)
    return out


def _parse_pcd_header(path: Path, buf: bytes) -> _PcdHeader:
    entries: dict[str, list[str]] = {}
    pos = 0
    line_no = 0
    while True:
        end = buf.find(b"\n", pos)
        if end < 0 or end > _PCD_MAX_HEADER:
            raise PointCloudError(path, "no DATA line in the header (not a PCD file, or truncated header)")
        raw = buf[pos:end]
        pos = end + 1
        line_no += 1
        try:
            line = raw.decode("ascii").strip()
        except UnicodeDecodeError:
            raise PointCloudError(path, "header is not ASCII text (not a PCD file?)", where=f"line {line_no}") from None
        if not line or line.startswith("#"):
            continue
        key, *values = line.split()
        key = key.upper()
        if key not in _PCD_KEYS:
            raise PointCloudError(path, f"unknown header key '{key}', expected one of {' '.join(_PCD_KEYS)}",
                                  where=f"line {line_no}")
        entries[key] = values
        if key == "DATA":
            break
    missing = [k for k in _PCD_REQUIRED if k not in entries]
    if missing:
        raise PointCloudError(path, f"header lacks {', '.join(missing)}; a PCD header needs "
                                    f"{', '.join(_PCD_REQUIRED)}")
    names = entries["FIELDS"]
    if not names:
        raise PointCloudError(path, "lists no fields", where="FIELDS")
    nf = len(names)
    sizes = _pcd_ints(path, "SIZE", entries["SIZE"], nf)
    types = entries["TYPE"]
    if len(types) != nf:
        raise PointCloudError(path, f"has {len(types)} values but FIELDS lists {nf} fields", where="TYPE")
    counts = _pcd_ints(path, "COUNT", entries["COUNT"], nf) if "COUNT" in entries else [1] * nf
    width, = _pcd_ints(path, "WIDTH", entries["WIDTH"][:1] if entries["WIDTH"] else ["?"])
    height, = _pcd_ints(path, "HEIGHT", entries["HEIGHT"][:1] if entries["HEIGHT"] else ["?"])
    points, = _pcd_ints(path, "POINTS", entries["POINTS"][:1] if entries["POINTS"] else ["?"])
    if width * height != points:
        raise PointCloudError(path, f"POINTS {points} does not match WIDTH x HEIGHT = {width} x {height} = {width * height}",
                              where="POINTS")
    data = (entries["DATA"] or ["?"])[0].lower()
    if data not in ("ascii", "binary", "binary_compressed"):
        raise PointCloudError(path, f"unknown DATA type '{data}', expected ascii, binary or binary_compressed", where="DATA")
    fields = []
    for name, size, typ, count in zip(names, sizes, types, counts):
        code = _PCD_TYPES.get((typ.upper(), size))
        if code is None:
            raise PointCloudError(path, f"field '{name}' has TYPE {typ} with SIZE {size}; expected F 4/8 or "
                                        "U/I 1/2/4/8", where="TYPE")
        fields.append(_Field(name, np.dtype("<" + code), count))
    for f in fields:
        if f.name.lower() in ("x", "y", "z") and f.count != 1:
            raise PointCloudError(path, f"field '{f.name}' has COUNT {f.count}, expected 1", where="COUNT")
    return _PcdHeader(fields, points, data, pos, line_no)


def _pcd_columns(fields: list[_Field]) -> dict[str, _Field]:
    """Canonical column -> field (padding fields and COUNT 0 fields never match)."""
    usable = [f for f in fields if not f.padding and f.count > 0]
    idx = match_fields([f.name for f in usable])
    return {col: usable[i] for col, i in idx.items()}


def read_pcd(path: Path):
    buf = path.read_bytes()
    hdr = _parse_pcd_header(path, buf)
    data = memoryview(buf)[hdr.data_offset:]
    info = {"format": f"pcd/{hdr.data}", "source_fields": [f.name for f in hdr.fields], "notes": []}
    wanted = _pcd_columns(hdr.fields)
    if not all(c in wanted for c in ("x", "y", "z")):
        missing = [c for c in ("x", "y", "z") if c not in wanted]
        raise PointCloudError(path, f"no field {'/'.join(missing)} (FIELDS: {' '.join(f.name for f in hdr.fields)})",
                              where="FIELDS")
    if hdr.data == "ascii":
        cols = _pcd_ascii(path, hdr, bytes(data), wanted)
    elif hdr.data == "binary":
        cols = _pcd_binary(path, hdr, data, wanted, info)
    else:
        cols = _pcd_compressed(path, hdr, data, wanted, info)
    return assemble_columns(path, cols, info)


def _pcd_ascii(path: Path, hdr: _PcdHeader, data: bytes, wanted: dict[str, _Field]) -> dict[str, np.ndarray]:
    n = hdr.points
    per_point = sum(f.count for f in hdr.fields)
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as e:
        raise PointCloudError(path, f"ASCII data holds a non-ASCII byte at offset {hdr.data_offset + e.start}") from None
    tokens = text.split()
    if len(tokens) != n * per_point:
        lines = [ln for ln in text.splitlines()]
        rows = 0
        for i, ln in enumerate(lines):
            k = len(ln.split())
            if k == 0:
                continue
            if k != per_point:
                raise PointCloudError(path, f"expected {per_point} values per point (sum of COUNT), found {k}",
                                      where=f"line {hdr.n_lines + i + 1}")
            rows += 1
        raise PointCloudError(path, f"POINTS says {n} points but the data holds {rows} lines"
                                    + (" (truncated file?)" if rows < n else ""))
    try:
        values = np.array(tokens, dtype=np.float64).reshape(n, per_point)
    except ValueError:
        bad = next(i for i, t in enumerate(tokens) if not is_number(t))
        raise PointCloudError(path, f"value '{tokens[bad]}' is not a number",
                              where=f"line {hdr.n_lines + bad // per_point + 1}") from None
    starts = np.cumsum([0] + [f.count for f in hdr.fields])
    col_of = {id(f): int(s) for f, s in zip(hdr.fields, starts)}
    return {c: values[:, col_of[id(f)]] for c, f in wanted.items()}


def _round_up(v: int, a: int) -> int:
    return -(-v // a) * a if a > 1 else v


def _declared_offsets(fields: list[_Field]) -> dict[str, int]:
    off, out = 0, {}
    for f in fields:
        if not f.padding and f.name not in out:
            out[f.name] = off
        off += f.nbytes
    return out


def _aligned_offsets(fields: list[_Field]) -> dict[str, int]:
    """C-struct layout as PCL point types have it: x/y/z (and normal_x/y/z) in 16-byte blocks."""
    named = [f for f in fields if not f.padding and f.count > 0]
    off, out, i = 0, {}, 0
    while i < len(named):
        trio = [f.name.lower() for f in named[i:i + 3]]
        if trio in (["x", "y", "z"], ["normal_x", "normal_y", "normal_z"]) and \
                all(f.dtype == np.dtype("<f4") and f.count == 1 for f in named[i:i + 3]):
            off = _round_up(off, 16)
            for k in range(3):
                out.setdefault(named[i + k].name, off + 4 * k)
            off += 16
            i += 3
            continue
        f = named[i]
        off = _round_up(off, f.size)
        out.setdefault(f.name, off)
        off += f.nbytes
        i += 1
    return out


def _packed_offsets(fields: list[_Field]) -> dict[str, int]:
    off, out = 0, {}
    for f in fields:
        if not f.padding and f.count > 0:
            out.setdefault(f.name, off)
            off += f.nbytes
    return out


def _decode_records(data, n: int, stride: int, offsets: dict[str, int], wanted: dict[str, _Field],
                    rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Read the wanted fields from ``n`` records of ``stride`` bytes (optionally only ``rows``)."""
    dt = np.dtype({"names": [c for c in wanted], "formats": [f.dtype for f in wanted.values()],
                   "offsets": [offsets[f.name] for f in wanted.values()], "itemsize": stride})
    rec = np.frombuffer(data, dtype=dt, count=n)
    if rows is not None:
        rec = rec[rows]
    return {c: np.array(rec[c]) for c in wanted}


_BOUNDS = {"x": 1e6, "y": 1e6, "z": 1e6, "intensity": 1e7, "ring": 4096.0, "time": 1e20}


def _plausibility(cols: dict[str, np.ndarray]) -> float:
    """Score in [0, 1]: how much decoded sample columns look like real LiDAR fields."""
    terms = []
    for name, v in cols.items():
        a = v.astype(np.float64)
        bound = _BOUNDS.get(name, 1e12)
        if name == "ring":
            ok = (a >= 0) & (a < bound)
        elif v.dtype.kind == "f":
            mag = np.abs(a)
            ok = np.isnan(a) | (mag == 0) | ((mag > 1e-30) & (mag < bound))
        else:
            ok = np.ones(len(a), bool)
        frac = float(ok.mean()) if len(a) else 1.0
        if name not in ("x", "y", "z") and len(a) >= 16 and np.all(a == a[0]):
            frac *= 0.5
        terms.append(frac)
    xyz = np.stack([cols["x"], cols["y"], cols["z"]], axis=1).astype(np.float64)
    xyz = xyz[np.isfinite(xyz).all(axis=1)]
    if len(xyz) >= 16:
        step = np.median(np.linalg.norm(np.diff(xyz, axis=0), axis=1))
        reach = np.median(np.linalg.norm(xyz, axis=1))
        terms.append(1.0 if step <= 0.5 * max(reach, 1e-9) else 0.0)
    return float(np.mean(terms))


def _pcd_binary(path: Path, hdr: _PcdHeader, data, wanted: dict[str, _Field], info: dict) -> dict[str, np.ndarray]:
    n = hdr.points
    size = len(data)
    declared = sum(f.nbytes for f in hdr.fields)
    decl_off = _declared_offsets(hdr.fields)
    need = n * declared

    reasons = []
    zero = [f.name for f in hdr.fields if f.count == 0]
    if zero:
        reasons.append(f"field '{zero[0]}' has COUNT 0")
    if any(f.padding for f in hdr.fields):
        mis = [f for f in hdr.fields if not f.padding and f.count and decl_off[f.name] % f.size]
        if mis:
            reasons.append(f"{mis[0].dtype.str[1:]} field '{mis[0].name}' at unaligned offset {decl_off[mis[0].name]}")
    strides = []
    if size >= need:
        strides.append(declared)
    if n and size % n == 0 and size // n != declared:
        strides.append(size // n)
        reasons.append(f"data holds {size} bytes = {size // n} per point, header declares {declared}")

    if n == 0 or (not reasons and size >= need):
        layout = (declared, decl_off, "declared")
    else:
        cands = []
        for stride in strides:
            for label, offs in (("declared", decl_off), ("C-aligned", _aligned_offsets(hdr.fields)),
                                ("packed", _packed_offsets(hdr.fields))):
                if all(offs[f.name] + f.size <= stride for f in wanted.values()):
                    if not any(c[0] == stride and c[1] == offs for c in cands):
                        cands.append((stride, offs, label))
        if not cands:
            raise PointCloudError(path, f"data holds {size} bytes but POINTS {n} x record size {declared} "
                                        f"needs {need} (truncated file?)")
        # Sample: one block in scan order (for the continuity test) plus points spread over the sweep.
        rows = np.unique(np.concatenate([np.arange(min(n, 2048)), np.linspace(0, n - 1, min(n, 2048)).astype(np.int64)]))
        scores = [_plausibility(_decode_records(data, n, s, o, wanted, rows)) for s, o, _ in cands]
        best = int(np.argmax(scores))  # first maximum: declared layout wins ties
        if size < need and scores[best] < 0.75:
            raise PointCloudError(path, f"data holds {size} bytes but POINTS {n} x record size {declared} "
                                        f"needs {need} (truncated file?)")
        layout = cands[best]
        if layout[2] != "declared" or layout[0] != declared:
            desc = " ".join(f"{f.name}@{layout[1][f.name]}" for f in wanted.values())
            info["notes"].append(f"inconsistent header ({'; '.join(reasons)}): decoded records with the "
                                 f"{layout[2]} layout, stride {layout[0]}: {desc}")
    stride, offsets, _ = layout
    if size > n * stride:
        info["notes"].append(f"{size - n * stride} trailing bytes after the {n} points ignored")
    return _decode_records(data, n, stride, offsets, wanted)


def _pcd_compressed(path: Path, hdr: _PcdHeader, data, wanted: dict[str, _Field], info: dict) -> dict[str, np.ndarray]:
    n = hdr.points
    if len(data) < 8:
        raise PointCloudError(path, f"binary_compressed data holds {len(data)} bytes, expected at least 8 "
                                    "(compressed and uncompressed sizes)")
    comp, raw = struct.unpack("<II", data[:8])
    if 8 + comp > len(data):
        raise PointCloudError(path, f"compressed block of {comp} bytes declared but only {len(data) - 8} follow "
                                    "(truncated file?)")
    declared = sum(f.nbytes for f in hdr.fields)
    if raw != n * declared:
        raise PointCloudError(path, f"uncompressed size {raw} does not match POINTS {n} x record size {declared} "
                                    f"= {n * declared}")
    if len(data) > 8 + comp:
        info["notes"].append(f"{len(data) - 8 - comp} trailing bytes after the compressed block ignored")
    out = lzf_decompress(bytes(data[8:8 + comp]), raw, path) if raw else b""
    # Field-major layout: all values of field 0, then all of field 1, ...
    cols, off = {}, 0
    starts = {}
    for f in hdr.fields:
        starts.setdefault(f.name, off)
        off += n * f.nbytes
    for c, f in wanted.items():
        block = np.frombuffer(out, dtype=f.dtype, count=n * f.count, offset=starts[f.name])
        cols[c] = block.reshape(n, f.count)[:, 0].copy()
    return cols


def write_points_pcd(path: str | os.PathLike, points: np.ndarray, binary: bool = True,
                     compressed: bool = False) -> None:
    """Write a PCD v0.7 file (``DATA binary``, ``binary_compressed`` with ``compressed``, or
    ``ascii``) from ``(N, C)`` points, 3 <= C <= 6.

    Fields are the first C names of :data:`COLUMNS`, all stored as float32 (``TYPE F``,
    ``SIZE 4``), so reading the file back returns the same values. ``binary_compressed`` is PCL's:
    the compressed and uncompressed sizes (uint32 each), then the columns one after the other
    (all x, then all y, ...) compressed with LZF (:func:`~.lzf.lzf_compress`), as PCL, Open3D and
    :func:`read_pcd` read it.
    """
    path = Path(path)
    pts = check_points_array(path, points)
    if pts.shape[1] > len(COLUMNS):
        raise PointCloudError(path, f"expected at most {len(COLUMNS)} columns {COLUMNS}, got {pts.shape[1]}")
    n, c = pts.shape
    header = ("# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\n"
              f"FIELDS {' '.join(COLUMNS[:c])}\nSIZE {' '.join(['4'] * c)}\n"
              f"TYPE {' '.join(['F'] * c)}\nCOUNT {' '.join(['1'] * c)}\n"
              f"WIDTH {n}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {n}\n"
              f"DATA {'ascii' if not binary else 'binary_compressed' if compressed else 'binary'}\n").encode("ascii")
    if binary and compressed:
        columns = np.ascontiguousarray(pts.T, dtype="<f4").tobytes()
        packed = lzf_compress(columns)
        body = struct.pack("<II", len(packed), len(columns)) + packed
    elif binary:
        body = np.ascontiguousarray(pts, dtype="<f4").tobytes()
    else:
        # %.9g round-trips every float32 exactly.
        rows = pts.astype(np.float64)
        body = ("\n".join(" ".join(f"{v:.9g}" for v in row) for row in rows) + ("\n" if n else "")).encode("ascii")
    write_file_bytes(path, header + body)
