"""LiDAR sweep files <-> ``(N, C)`` float32 arrays with columns x, y, z, intensity[, ring, time].

Formats (chosen by file extension, see :func:`register_reader` to add more):

* ``.bin``      KITTI: float32 records (x, y, z, intensity), 16 bytes per point.
* ``.pcd.bin``  nuScenes: float32 records (x, y, z, intensity, ring), 20 bytes per point.
* ``.pcd``      PCL point-cloud data, ``DATA ascii | binary | binary_compressed`` (LZF).
* ``.ply``      ``ascii``, ``binary_little_endian`` and ``binary_big_endian``; the ``vertex``
  element must hold x, y, z and may hold intensity/reflectance, ring and time.
* ``.npy``      a numeric ``(N, >=3)`` array (columns as above) or a structured array with named
  fields; loaded with ``allow_pickle=False``.

Column rules (the ``Arrays`` contract of DESIGN.md):

* Field names are matched case-insensitively: x, y, z; intensity | reflectance | i (also
  scalar_intensity, CloudCompare's name); ring; time | timestamp | t.
* intensity is 0 when the file has none. A ring column is present when the file has ring *or* time;
  when it has time but no ring, ring is filled with -1 so that time always sits in column 5.
* time is kept as stored when it is a 32-bit (or smaller) field, e.g. a Velodyne per-point offset.
  When the file stores it in 8 bytes (f8/u8/i8, usually an absolute stamp that float32 would round
  to coarse steps), the sweep's smallest value is subtracted and reported as ``time_origin``
  by :func:`read_points_info`; the column then holds offsets in the file's unit (e.g. 0..0.1 s).

Inconsistent binary PCD headers (chosen behaviour). Some writers (e.g. SUSTechPOINTS' exporter)
declare padding fields ``_`` that do not match the records actually written; one of them even has
COUNT 0, and the declared offsets put an f8 field at a non-8-aligned offset. The reader
trusts the header when it is self-consistent. When it is not (a COUNT 0 field, a misaligned field
in a header that declares padding, or a data length other than POINTS x record size), it decodes
a sample of points with each candidate layout and keeps the most plausible one:

* strides: the declared record size if the data holds that many bytes (extra bytes at the end are
  then trailing padding and are ignored), and ``data_length / POINTS`` when that divides exactly;
* offsets within a record: as declared; C-struct (PCL) alignment of the named fields (x, y, z in a
  16-byte block, every other field aligned to its own size); and the named fields packed;
* plausibility: finite, non-denormal values of sane magnitude per field, ring in [0, 4096), fields
  that are not constant, and x, y, z that move little from one point to the next (scan order).

Ties keep the declared layout. The choice and the ignored bytes are reported in
``info["notes"]``. For the SUSTech sweeps this yields stride 48 with x, y, z at 0/4/8,
intensity at 16, timestamp (f8) at 24 and ring (u2) at 32, ignoring 3,848 trailing bytes; x, y, z
agree with Open3D's reader. Every failure raises :class:`~fusionlabel.errors.PointCloudError`
naming the file and what was expected.
"""

from __future__ import annotations

import logging
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Union

import numpy as np

from ..errors import FusionLabelError, PointCloudError

log = logging.getLogger(__name__)

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

ReaderResult = Union[np.ndarray, tuple[np.ndarray, dict]]
Reader = Callable[[Path], ReaderResult]
_READERS: dict[str, Reader] = {}


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------

def register_reader(ext: str, fn: Reader) -> None:
    """Register ``fn(path) -> points | (points, info)`` for files ending in ``ext`` (e.g. ``".las"``).

    ``points`` must be a numeric ``(N, C>=3)`` array with columns in :data:`COLUMNS` order; it is
    converted to float32 and gets a zero intensity column when C == 3. The longest matching
    extension wins (``.pcd.bin`` before ``.bin``); registering an existing extension replaces it.
    """
    ext = ext.lower()
    if not ext.startswith("."):
        ext = "." + ext
    _READERS[ext] = fn


def registered_extensions() -> list[str]:
    """Extensions with a reader, longest first (the order in which they are matched)."""
    return sorted(_READERS, key=lambda e: (-len(e), e))


def read_points(path: str | os.PathLike, *, drop_nonfinite: bool = False) -> np.ndarray:
    """Read a LiDAR sweep as an ``(N, C)`` float32 array, columns x, y, z, intensity[, ring, time].

    Points whose x, y or z is NaN/inf raise :class:`PointCloudError` unless ``drop_nonfinite``
    is true, which removes them. Every failure raises :class:`PointCloudError` naming the file.
    """
    return read_points_info(path, drop_nonfinite=drop_nonfinite)[0]


def read_points_info(path: str | os.PathLike, *, drop_nonfinite: bool = False) -> tuple[np.ndarray, dict]:
    """Like :func:`read_points`, and also return what was read.

    Returns ``(points, info)``; ``info`` has ``format`` (e.g. ``"pcd/binary"``), ``columns`` (names
    of the C columns), ``source_fields`` (field names in the file), ``time_origin`` (value
    subtracted from time, or None), ``n_dropped`` (non-finite points removed) and ``notes`` (list
    of str: repaired layouts, ignored trailing bytes).
    """
    path = Path(path)
    reader = _reader_for(path)
    if not path.exists():
        raise PointCloudError(path, "file not found")
    if path.is_dir():
        raise PointCloudError(path, "is a directory, expected a point-cloud file")
    try:
        result = reader(path)
    except FusionLabelError:
        raise
    except OSError as e:
        raise PointCloudError(path, f"cannot read file ({e.strerror or e})") from e
    except Exception as e:  # numpy/struct/decoder errors must not escape unexplained
        raise PointCloudError(path, f"unreadable content ({type(e).__name__}: {_one_line(e)})") from e
    if isinstance(result, tuple):
        points, info = result
    else:
        points, info = result, {}
    points = _normalise(path, points)
    info = {"format": info.get("format", path.suffix.lower().lstrip(".")),
            "columns": COLUMNS[:points.shape[1]],
            "source_fields": info.get("source_fields", []),
            "time_origin": info.get("time_origin"),
            "n_dropped": 0,
            "notes": list(info.get("notes", []))}
    finite = np.isfinite(points[:, :3]).all(axis=1)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        if not drop_nonfinite:
            raise PointCloudError(
                path, f"{bad.size} of {len(points)} points have non-finite x/y/z (first at index "
                      f"{bad[0]}); expected finite coordinates (drop_nonfinite=True drops them)")
        points = points[finite]
        info["n_dropped"] = int(bad.size)
    for note in info["notes"]:
        log.info("%s: %s", path, note)
    return points, info


def write_points_bin(path: str | os.PathLike, points: np.ndarray) -> None:
    """Write KITTI float32 records: ``(N, >=3)`` -> x, y, z, intensity (0 if absent).

    A name ending in ``.pcd.bin`` writes nuScenes records x, y, z, intensity, ring instead
    (``points`` then needs >= 5 columns). Extra columns are not written.
    """
    path = Path(path)
    pts = _check_points_arg(path, points)
    ncol = 5 if path.name.lower().endswith(".pcd.bin") else 4
    if ncol == 5 and pts.shape[1] < 5:
        raise PointCloudError(path, f"nuScenes .pcd.bin needs 5 columns (x, y, z, intensity, ring), "
                                    f"got {pts.shape[1]}")
    out = np.zeros((len(pts), ncol), dtype="<f4")
    k = min(ncol, pts.shape[1])
    out[:, :k] = pts[:, :k]
    _write_bytes(path, out.tobytes())


def write_points_pcd(path: str | os.PathLike, points: np.ndarray, binary: bool = True) -> None:
    """Write a PCD v0.7 file (``DATA binary`` or ``ascii``) from ``(N, C)`` points, 3 <= C <= 6.

    Fields are the first C names of :data:`COLUMNS`, all stored as float32 (``TYPE F``,
    ``SIZE 4``), so reading the file back returns the same values.
    """
    path = Path(path)
    pts = _check_points_arg(path, points)
    if pts.shape[1] > len(COLUMNS):
        raise PointCloudError(path, f"expected at most {len(COLUMNS)} columns {COLUMNS}, got {pts.shape[1]}")
    n, c = pts.shape
    header = ("# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\n"
              f"FIELDS {' '.join(COLUMNS[:c])}\nSIZE {' '.join(['4'] * c)}\n"
              f"TYPE {' '.join(['F'] * c)}\nCOUNT {' '.join(['1'] * c)}\n"
              f"WIDTH {n}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {n}\n"
              f"DATA {'binary' if binary else 'ascii'}\n").encode("ascii")
    if binary:
        body = np.ascontiguousarray(pts, dtype="<f4").tobytes()
    else:
        # %.9g round-trips every float32 exactly.
        rows = pts.astype(np.float64)
        body = ("\n".join(" ".join(f"{v:.9g}" for v in row) for row in rows) + ("\n" if n else "")).encode("ascii")
    _write_bytes(path, header + body)


def lzf_decompress(data: bytes, out_size: int, path: str | os.PathLike | None = None) -> bytes:
    """Decompress an LZF (liblzf) block that expands to exactly ``out_size`` bytes.

    Uses a numba-compiled loop when numba is installed, a pure-Python loop otherwise.
    Raises :class:`PointCloudError` (naming ``path``) on corrupt input.
    """
    dst = np.empty(out_size, dtype=np.uint8)
    impl = _lzf_impl()
    if impl is _lzf_decode:
        n = _lzf_decode(bytes(data), memoryview(dst), True)
    else:
        n = impl(np.frombuffer(data, dtype=np.uint8), dst, False)
    if n < 0:
        raise PointCloudError(path, f"corrupt LZF data in binary_compressed block ({_LZF_ERRORS[n]})")
    if n != out_size:
        raise PointCloudError(path, f"binary_compressed block expands to {n} bytes, header says {out_size}")
    return dst.tobytes()


# --------------------------------------------------------------------------------------------
# Common helpers
# --------------------------------------------------------------------------------------------

def _reader_for(path: Path) -> Reader:
    name = path.name.lower()
    for ext in registered_extensions():
        if name.endswith(ext):
            return _READERS[ext]
    raise PointCloudError(path, f"unsupported point-cloud extension '{path.suffix}'; expected one of "
                                f"{', '.join(sorted(_READERS))}")


def _normalise(path: Path, points) -> np.ndarray:
    """Validate a reader's output and return it as (N, C>=4) float32."""
    if not isinstance(points, np.ndarray) or points.ndim != 2 or points.shape[1] < 3:
        shape = getattr(points, "shape", type(points).__name__)
        raise PointCloudError(path, f"reader returned {shape}, expected an (N, >=3) array")
    if points.dtype.kind not in "fiu":
        raise PointCloudError(path, f"reader returned dtype {points.dtype}, expected numbers")
    points = points.astype(np.float32, copy=False)
    if points.shape[1] == 3:
        points = np.hstack([points, np.zeros((len(points), 1), np.float32)])
    return np.ascontiguousarray(points)


def _assemble(path: Path, cols: dict[str, np.ndarray], info: dict) -> tuple[np.ndarray, dict]:
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


def _match_fields(names: list[str]) -> dict[str, int]:
    """Map canonical column -> index into ``names`` (first alias in priority order wins)."""
    lower = [n.lower() for n in names]
    found = {}
    for col, aliases in _ALIASES.items():
        for alias in aliases:
            if alias in lower:
                found[col] = lower.index(alias)
                break
    return found


def _one_line(e: Exception) -> str:
    return " ".join(str(e).split())[:300]


def _check_points_arg(path: Path, points) -> np.ndarray:
    pts = np.asarray(points)
    if pts.ndim != 2 or pts.shape[1] < 3 or pts.dtype.kind not in "fiu":
        raise PointCloudError(path, f"points to write have shape {pts.shape} dtype {pts.dtype}, "
                                    "expected a numeric (N, >=3) array")
    return pts


def _write_bytes(path: Path, data: bytes) -> None:
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as e:
        raise PointCloudError(path, f"cannot write file ({e.strerror or e})") from e


# --------------------------------------------------------------------------------------------
# KITTI / nuScenes .bin
# --------------------------------------------------------------------------------------------

def _read_float_records(path: Path, ncol: int, what: str) -> tuple[np.ndarray, dict]:
    size = path.stat().st_size
    rec = 4 * ncol
    if size % rec:
        raise PointCloudError(path, f"size {size} bytes is not a multiple of {rec} ({ncol} float32 {what} per point)")
    pts = np.fromfile(path, dtype="<f4").reshape(-1, ncol)
    return pts, {"format": "kitti-bin" if ncol == 4 else "nuscenes-bin", "source_fields": what.split(", ")}


def _read_kitti_bin(path: Path):
    return _read_float_records(path, 4, "x, y, z, intensity")


def _read_nuscenes_bin(path: Path):
    return _read_float_records(path, 5, "x, y, z, intensity, ring")


# --------------------------------------------------------------------------------------------
# NumPy .npy
# --------------------------------------------------------------------------------------------

def _read_npy(path: Path):
    try:
        arr = np.load(path, allow_pickle=False)
    except OSError:
        raise
    except Exception as e:  # ValueError, EOFError, tokenize errors from a damaged header
        if "pickle" in str(e).lower():
            raise PointCloudError(path, "holds Python objects (pickled); expected a numeric (N, >=3) array") from e
        raise PointCloudError(path, f"not a valid .npy file ({_one_line(e)})") from e
    if not isinstance(arr, np.ndarray):
        raise PointCloudError(path, f"holds {type(arr).__name__}, expected a single (N, >=3) array (.npy, not .npz)")
    if arr.dtype.names:
        if arr.ndim != 1:
            raise PointCloudError(path, f"structured array has shape {arr.shape}, expected (N,)")
        names = list(arr.dtype.names)
        idx = _match_fields(names)
        cols = {}
        for col, i in idx.items():
            v = arr[names[i]]
            if v.dtype.kind not in "fiu" or v.ndim != 1:
                raise PointCloudError(path, f"field '{names[i]}' has dtype {v.dtype}, expected a numeric scalar",
                                      where=names[i])
            cols[col] = v
        return _assemble(path, cols, {"format": "npy", "source_fields": names})
    if arr.dtype.kind not in "fiu":
        raise PointCloudError(path, f"dtype {arr.dtype} is not numeric; expected a float or integer (N, >=3) array")
    if arr.ndim != 2 or arr.shape[1] < 3:
        raise PointCloudError(path, f"shape {arr.shape}, expected (N, >=3) with columns x, y, z[, intensity, ring, time]")
    notes = []
    if arr.shape[1] > len(COLUMNS):
        notes.append(f"columns beyond the first {len(COLUMNS)} ({arr.shape[1]} in file) were dropped")
        arr = arr[:, :len(COLUMNS)]
    return arr, {"format": "npy", "source_fields": list(COLUMNS[:arr.shape[1]]), "notes": notes}


# --------------------------------------------------------------------------------------------
# PCD
# --------------------------------------------------------------------------------------------

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
    idx = _match_fields([f.name for f in usable])
    return {col: usable[i] for col, i in idx.items()}


def _read_pcd(path: Path):
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
    return _assemble(path, cols, info)


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
        bad = next(i for i, t in enumerate(tokens) if not _is_number(t))
        raise PointCloudError(path, f"value '{tokens[bad]}' is not a number",
                              where=f"line {hdr.n_lines + bad // per_point + 1}") from None
    starts = np.cumsum([0] + [f.count for f in hdr.fields])
    col_of = {id(f): int(s) for f, s in zip(hdr.fields, starts)}
    return {c: values[:, col_of[id(f)]] for c, f in wanted.items()}


def _is_number(tok: str) -> bool:
    try:
        float(tok)
        return True
    except ValueError:
        return False


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


# --------------------------------------------------------------------------------------------
# LZF decompression (liblzf format, as used by PCL's binary_compressed)
# --------------------------------------------------------------------------------------------

_LZF_ERRORS = {-1: "input ends inside a run", -2: "output larger than declared",
               -3: "back-reference before the start of the output"}


def _lzf_decode(src, dst, slices: bool = True) -> int:
    """Decode ``src`` into ``dst`` (indexable bytes); return bytes written or a negative error code.

    Control byte c < 32: literal run of c + 1 bytes. Otherwise a back-reference: length
    (c >> 5) + 2 (7 means "add the next byte"), distance ((c & 31) << 8 | next byte) + 1.
    ``slices`` copies runs with slice assignment (fast in CPython); compiled code passes False
    because element loops are ~3x faster than slicing there.
    """
    n_in = len(src)
    n_out = len(dst)
    ip = 0
    op = 0
    while ip < n_in:
        ctrl = int(src[ip])
        ip += 1
        if ctrl < 32:
            run = ctrl + 1
            if ip + run > n_in:
                return -1
            if op + run > n_out:
                return -2
            if slices:
                dst[op:op + run] = src[ip:ip + run]
            else:
                for k in range(run):
                    dst[op + k] = src[ip + k]
            ip += run
            op += run
        else:
            run = ctrl >> 5
            if run == 7:
                if ip >= n_in:
                    return -1
                run += int(src[ip])
                ip += 1
            if ip >= n_in:
                return -1
            ref = op - ((ctrl & 31) << 8) - int(src[ip]) - 1
            ip += 1
            run += 2
            if ref < 0:
                return -3
            if op + run > n_out:
                return -2
            if slices and op - ref >= run:
                dst[op:op + run] = dst[ref:ref + run]
            else:  # overlapping copy repeats the last (op - ref) bytes
                for k in range(run):
                    dst[op + k] = dst[ref + k]
            op += run
    return op


_LZF_JIT = None


def _lzf_impl():
    """The numba-compiled decoder (compiled on first use), or the pure-Python one."""
    global _LZF_JIT
    if _LZF_JIT is None:
        try:
            if os.environ.get("FUSIONLABEL_NO_NUMBA"):
                raise ImportError
            import numba
            _LZF_JIT = numba.njit(cache=True, nogil=True)(_lzf_decode)
        except ImportError:
            _LZF_JIT = _lzf_decode
    return _LZF_JIT


# --------------------------------------------------------------------------------------------
# PLY
# --------------------------------------------------------------------------------------------

_PLY_TYPES = {"char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1", "short": "i2", "int16": "i2",
              "ushort": "u2", "uint16": "u2", "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
              "float": "f4", "float32": "f4", "double": "f8", "float64": "f8"}


def _read_ply(path: Path):
    buf = path.read_bytes()
    if not buf.startswith(b"ply"):
        raise PointCloudError(path, "does not start with 'ply' (not a PLY file)")
    end = buf.find(b"end_header")
    if end < 0:
        raise PointCloudError(path, "no 'end_header' line (truncated or not a PLY file)")
    nl = buf.find(b"\n", end)
    if nl < 0:
        raise PointCloudError(path, "header ends without a newline after 'end_header'")
    body = memoryview(buf)[nl + 1:]
    try:
        lines = buf[:end].decode("ascii").splitlines()
    except UnicodeDecodeError:
        raise PointCloudError(path, "header is not ASCII text") from None

    fmt = None
    elements: list[list] = []   # [name, count, [(prop name, dtype or None for list, list types)]]
    for i, line in enumerate(lines, start=1):
        tok = line.split()
        if not tok or tok[0] in ("ply", "comment", "obj_info"):
            continue
        where = f"line {i}"
        if tok[0] == "format":
            if len(tok) < 2 or tok[1] not in ("ascii", "binary_little_endian", "binary_big_endian"):
                raise PointCloudError(path, f"unknown format '{' '.join(tok[1:])}', expected ascii, "
                                            "binary_little_endian or binary_big_endian", where=where)
            fmt = tok[1]
        elif tok[0] == "element":
            if len(tok) != 3 or not tok[2].isdigit():
                raise PointCloudError(path, f"expected 'element <name> <count>', found '{line.strip()}'", where=where)
            elements.append([tok[1], int(tok[2]), []])
        elif tok[0] == "property":
            if not elements:
                raise PointCloudError(path, "property before any element", where=where)
            if len(tok) == 5 and tok[1] == "list":
                elements[-1][2].append((tok[4], None))
            elif len(tok) == 3 and tok[1] in _PLY_TYPES:
                elements[-1][2].append((tok[2], _PLY_TYPES[tok[1]]))
            else:
                raise PointCloudError(path, f"expected 'property <type> <name>' with type one of "
                                            f"{', '.join(_PLY_TYPES)}, found '{line.strip()}'", where=where)
        else:
            raise PointCloudError(path, f"unknown header line '{line.strip()}'", where=where)
    if fmt is None:
        raise PointCloudError(path, "header has no 'format' line")
    vi = next((k for k, e in enumerate(elements) if e[0] == "vertex"), None)
    if vi is None:
        raise PointCloudError(path, f"no 'vertex' element (found: {', '.join(e[0] for e in elements) or 'none'})")
    _, n, props = elements[vi]
    names = [p[0] for p in props]
    idx = _match_fields(names)
    missing = [c for c in ("x", "y", "z") if c not in idx]
    if missing:
        raise PointCloudError(path, f"has no {'/'.join(missing)} property "
                                    f"(found: {', '.join(names) or 'none'})", where="element vertex")
    if any(p[1] is None for p in props):
        bad = next(p[0] for p in props if p[1] is None)
        raise PointCloudError(path, f"property '{bad}' is a list; only scalar vertex properties are supported",
                              where="element vertex")
    info = {"format": f"ply/{fmt}", "source_fields": names}

    if fmt == "ascii":
        skip = sum(e[1] for e in elements[:vi])
        text_lines = bytes(body).decode("ascii", errors="replace").splitlines()
        rows = text_lines[skip:skip + n]
        if len(rows) < n:
            raise PointCloudError(path, f"element vertex declares {n} vertices but the data holds {len(rows)} lines "
                                        "(truncated file?)")
        tokens = " ".join(rows).split()
        if len(tokens) != n * len(props):
            for j, r in enumerate(rows):
                if len(r.split()) != len(props):
                    raise PointCloudError(path, f"expected {len(props)} values per vertex, found {len(r.split())}",
                                          where=f"line {len(lines) + 1 + skip + j + 1}")
        try:
            values = np.array(tokens, dtype=np.float64).reshape(n, len(props))
        except ValueError:
            bad = next(t for t in tokens if not _is_number(t))
            raise PointCloudError(path, f"vertex value '{bad}' is not a number") from None
        cols = {c: values[:, i] for c, i in idx.items()}
        return _assemble(path, cols, info)

    order = "<" if fmt == "binary_little_endian" else ">"
    offset = 0
    for name, count, eprops in elements[:vi]:
        if any(p[1] is None for p in eprops):
            raise PointCloudError(path, f"element '{name}' with list properties comes before 'vertex'; "
                                        "not supported in binary PLY")
        offset += count * sum(np.dtype(p[1]).itemsize for p in eprops)
    dt = np.dtype([(p[0], order + p[1]) for p in props])
    if offset + n * dt.itemsize > len(body):
        raise PointCloudError(path, f"data holds {len(body)} bytes but {n} vertices of {dt.itemsize} bytes need "
                              f"{offset + n * dt.itemsize} (truncated file?)")
    rec = np.frombuffer(body, dtype=dt, count=n, offset=offset)
    cols = {c: rec[names[i]].astype(rec[names[i]].dtype.newbyteorder("=")) for c, i in idx.items()}
    return _assemble(path, cols, info)


register_reader(".bin", _read_kitti_bin)
register_reader(".pcd.bin", _read_nuscenes_bin)
register_reader(".pcd", _read_pcd)
register_reader(".ply", _read_ply)
register_reader(".npy", _read_npy)


def _read_range_image(path: Path):
    # The native drive format's compressed range images; imported lazily (io.native is larger).
    from .native import read_range_image_points

    return read_range_image_points(path)


register_reader(".fri", _read_range_image)
