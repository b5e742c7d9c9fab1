"""LiDAR sweep files <-> ``(N, C)`` float32 arrays with columns x, y, z, intensity[, ring, time].

Formats (chosen by file extension, see :func:`register_reader` to add more):

* ``.bin``      KITTI: float32 records (x, y, z, intensity), 16 bytes per point.
* ``.pcd.bin``  nuScenes: float32 records (x, y, z, intensity, ring), 20 bytes per point.
  A 0-byte ``.bin``/``.pcd.bin`` is a sweep without points (nuScenes' own tools write and read
  one so); a size that is not a whole number of records is refused, naming the file, and so is a
  file whose records are plainly the other width (:func:`scan_jumps`: a nuScenes sweep named
  ``.bin``, which a multiple-of-4 point count would otherwise let through as garbage points), and
  so is one written as float64 (NumPy's default dtype; :func:`_check_not_float64`).
* ``.pcd``      PCL point-cloud data, ``DATA ascii | binary | binary_compressed`` (LZF).
* ``.ply``      ``ascii``, ``binary_little_endian`` and ``binary_big_endian``; the ``vertex``
  element must hold x, y, z and may hold intensity/reflectance, ring and time.
* ``.npy``      a numeric ``(N, >=3)`` array (columns as above) or a structured array with named
  fields; loaded with ``allow_pickle=False``. More than 16 columns is refused (a ``(4, N)`` array
  is said to look transposed); columns beyond the six above are dropped with a note.

Every sweep is in metres: one whose points lie a median of more than 1 km from the sensor is
refused as millimetres (as the rig refuses millimetre translations).

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
from pathlib import Path
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Callable, Union

import numpy as np

from ..errors import FusionLabelError, PointCloudError
from .lzf import lzf_decompress  # noqa: F401  (public re-export)
from .pcd import read_pcd, write_points_pcd  # noqa: F401  (write_points_pcd: public re-export)
from .ply import read_ply
from .point_records import (
    COLUMNS,
    assemble_columns,
    check_points_array,
    match_fields,
    one_line,
    write_file_bytes,
)

log = logging.getLogger(__name__)
_NOTE_LISTS: list[list[tuple[Path, str]]] = []   # the lists of the open `collected_notes` blocks

ReaderResult = Union[np.ndarray, tuple[np.ndarray, dict]]
Reader = Callable[[Path], ReaderResult]
_READERS: dict[str, Reader] = {}


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

    Points whose x, y or z is NaN/inf raise :class:`PointCloudError` (naming the file and how many
    points) unless ``drop_nonfinite`` is true, which removes them; the drives and every command read
    sweeps without it, so such a sweep is refused everywhere alike (``import --drop-nonfinite``
    writes a native copy without those points). A 0-byte file is an error (an interrupted copy?),
    except a ``.bin``/``.pcd.bin``, whose float records make it a sweep of 0 points (nuscenes-devkit
    and KITTI loaders read it so). Every failure raises :class:`PointCloudError` naming the file.
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
        empty = path.stat().st_size == 0
    except OSError as e:
        raise PointCloudError(path, f"cannot read file ({e.strerror or e})") from e
    if empty and reader not in _EMPTY_FILE_READERS:  # no header: never a real sweep (an interrupted copy?)
        raise PointCloudError(path, "empty file (0 bytes), expected a point cloud")
    try:
        result = reader(path)
    except FusionLabelError:
        raise
    except OSError as e:
        raise PointCloudError(path, f"cannot read file ({e.strerror or e})") from e
    except Exception as e:  # numpy/struct/decoder errors must not escape unexplained
        raise PointCloudError(path, f"unreadable content ({type(e).__name__}: {one_line(e)})") from e
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
                path, f"{bad.size} of {len(points)} points have non-finite x/y/z (NaN or inf, first at index "
                      f"{bad[0]}); expected finite coordinates: remove or repair those points in the file, or "
                      "make a native copy without them (fusionlabel import --drop-nonfinite)")
        points = points[finite]
        info["n_dropped"] = int(bad.size)
    _check_metres(path, points)
    for note in info["notes"]:
        log.info("%s: %s", path, note)
        for notes in _NOTE_LISTS:
            notes.append((path, note))
    return points, info


@contextmanager
def collected_notes() -> Iterator[list[tuple[Path, str]]]:
    """A block within which every note a sweep read makes (a repaired layout, ignored trailing
    bytes, dropped columns) is also appended, as ``(path, note)``, to the list it yields; the notes
    are otherwise only logged. A sweep served from a drive's cache is not read, so makes none."""
    notes: list[tuple[Path, str]] = []
    _NOTE_LISTS.append(notes)
    try:
        yield notes
    finally:
        _NOTE_LISTS[:] = [n for n in _NOTE_LISTS if n is not notes]


MAX_MEDIAN_RANGE_M = 1000.0   # a vehicle LiDAR's points lie tens of metres away; a median beyond is not metres


def _check_metres(path: Path, points: np.ndarray, sample: int = 20000) -> None:
    """Refuse a sweep whose points lie a median of more than :data:`MAX_MEDIAN_RANGE_M` from the
    sensor: its coordinates are millimetres (or another unit), as the rig refuses millimetre
    translations."""
    if not len(points):
        return
    xyz = points[::max(1, len(points) // sample), :3].astype(np.float64)
    median = float(np.median(np.sqrt(np.einsum("ij,ij->i", xyz, xyz))))
    if median > MAX_MEDIAN_RANGE_M:
        raise PointCloudError(path, f"its points lie a median {median:,.0f} m from the sensor (more than "
                                    f"{MAX_MEDIAN_RANGE_M:,.0f} m); coordinates are metres, were millimetres "
                                    "written (divide by 1000)?")


def write_points_bin(path: str | os.PathLike, points: np.ndarray) -> None:
    """Write KITTI float32 records: ``(N, >=3)`` -> x, y, z, intensity (0 if absent).

    A name ending in ``.pcd.bin`` writes nuScenes records x, y, z, intensity, ring instead
    (``points`` then needs >= 5 columns). Extra columns are not written. No points make a 0-byte
    file, which :func:`read_points` reads back as 0 points.
    """
    path = Path(path)
    pts = check_points_array(path, points)
    ncol = 5 if path.name.lower().endswith(".pcd.bin") else 4
    if ncol == 5 and pts.shape[1] < 5:
        raise PointCloudError(path, f"nuScenes .pcd.bin needs 5 columns (x, y, z, intensity, ring), "
                                    f"got {pts.shape[1]}")
    out = np.zeros((len(pts), ncol), dtype="<f4")
    k = min(ncol, pts.shape[1])
    out[:, :k] = pts[:, :k]
    write_file_bytes(path, out.tobytes())


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


# --------------------------------------------------------------------------------------------
# KITTI / nuScenes .bin
# --------------------------------------------------------------------------------------------

_RECORD_LAYOUTS = {4: ("KITTI's", ".bin"), 5: ("nuScenes'", ".pcd.bin")}


def scan_jumps(values: np.ndarray, ncol: int, sample: int = 20000) -> float:
    """How far x, y, z jump from one record to the next when ``values`` (flat float32) are read as
    ``ncol`` floats per point: the median step over the interquartile spread, median over x, y, z.

    A scanning LiDAR writes its points in firing order, so neighbouring records lie close: about
    0.003-0.04 for real KITTI and nuScenes sweeps read with their own record width, 0.6-4 read with
    the other one, where every "x" column cycles through all the fields. Points in no particular
    order give about 1 either way."""
    rec = values[:(min(len(values) // ncol, sample)) * ncol].reshape(-1, ncol)[:, :3].astype(np.float64)
    rec = rec[np.isfinite(rec).all(axis=1)]
    if len(rec) < 64:
        return float("nan")
    spread = np.subtract(*np.percentile(rec, [75, 25], axis=0))
    step = np.median(np.abs(np.diff(rec, axis=0)), axis=0)
    return float(np.median(step / np.maximum(spread, 1e-9)))


def _check_record_width(path: Path, values: np.ndarray, ncol: int) -> None:
    """Refuse a headerless sweep whose records are plainly another width than its name says (a
    nuScenes 5-float file named ``.bin`` whose point count is a multiple of 4 reads as garbage)."""
    for other, (maker, suffix) in _RECORD_LAYOUTS.items():
        if other == ncol or len(values) % other:
            continue
        if scan_jumps(values, other) < 0.1 and scan_jumps(values, ncol) > 0.3:
            raise PointCloudError(path, f"its records look like {other} float32 per point ({maker} "
                                        f"layout, point after point in scan order), not the {ncol} that the "
                                        f"name says: name it NAME{suffix}, or write PCD, which describes its columns")


FAR_M = 10_000.0   # no LiDAR returns from farther: coordinates beyond are not metres in its frame


def _check_not_float64(path: Path, values: np.ndarray, ncol: int, what: str, sample: int = 20000) -> None:
    """Refuse float records that were written as float64 (NumPy's default dtype): read as float32
    their coordinates reach absurd values (the low halves of the doubles are random bits), while
    read as float64 they lie within a LiDAR's range."""
    if len(values) % (2 * ncol):
        return                                  # not a whole number of float64 records
    head = values[:min(len(values), 2 * ncol * sample)]
    doubles = head.view("<f8").reshape(-1, ncol)[:, :3]
    with np.errstate(all="ignore"):
        if not len(doubles) or not np.isfinite(doubles).all() or not 0 < np.abs(doubles).max() <= FAR_M:
            return
        singles = head.reshape(-1, ncol)[:, :3]
        finite = np.abs(singles[np.isfinite(singles)])
        far = float(finite.max()) if finite.size else 0.0
    if far > FAR_M:
        maker, suffix = _RECORD_LAYOUTS[ncol]
        raise PointCloudError(path, f"read as float32, coordinates reach {far:.2g} m: the file looks like float64 "
                                    f"({maker} {suffix} is float32 {what} per point; write points.astype(np.float32))")


def _read_float_records(path: Path, ncol: int, what: str) -> tuple[np.ndarray, dict]:
    size = path.stat().st_size
    rec = 4 * ncol
    if size % rec:
        hint = [f"{k} float32 ({maker}, NAME{suffix})" for k, (maker, suffix) in _RECORD_LAYOUTS.items()
                if k != ncol and size % (4 * k) == 0]
        raise PointCloudError(path, f"size {size} bytes is not a multiple of {rec} ({ncol} float32 {what} per point)"
                                    + (f"; it is a whole number of {hint[0]} records" if hint else ""))
    values = np.fromfile(path, dtype="<f4")
    _check_not_float64(path, values, ncol, what)
    _check_record_width(path, values, ncol)
    pts = values.reshape(-1, ncol)
    return pts, {"format": "kitti-bin" if ncol == 4 else "nuscenes-bin", "source_fields": what.split(", ")}


def _read_kitti_bin(path: Path):
    return _read_float_records(path, 4, "x, y, z, intensity")


def _read_nuscenes_bin(path: Path):
    return _read_float_records(path, 5, "x, y, z, intensity, ring")


# --------------------------------------------------------------------------------------------
# NumPy .npy
# --------------------------------------------------------------------------------------------

MAX_COLUMNS = 16   # more columns than any sweep format has: an array saved the wrong way round


def _read_npy(path: Path):
    try:
        arr = np.load(path, allow_pickle=False)
    except OSError:
        raise
    except Exception as e:  # ValueError, EOFError, tokenize errors from a damaged header
        if "pickle" in str(e).lower():
            raise PointCloudError(path, "holds Python objects (pickled); expected a numeric (N, >=3) array") from e
        raise PointCloudError(path, f"not a valid .npy file ({one_line(e)})") from e
    if not isinstance(arr, np.ndarray):
        raise PointCloudError(path, f"holds {type(arr).__name__}, expected a single (N, >=3) array (.npy, not .npz)")
    if arr.dtype.names:
        if arr.ndim != 1:
            raise PointCloudError(path, f"structured array has shape {arr.shape}, expected (N,)")
        names = list(arr.dtype.names)
        idx = match_fields(names)
        cols = {}
        for col, i in idx.items():
            v = arr[names[i]]
            if v.dtype.kind not in "fiu" or v.ndim != 1:
                raise PointCloudError(path, f"field '{names[i]}' has dtype {v.dtype}, expected a numeric scalar",
                                      where=names[i])
            cols[col] = v
        return assemble_columns(path, cols, {"format": "npy", "source_fields": names})
    if arr.dtype.kind not in "fiu":
        raise PointCloudError(path, f"dtype {arr.dtype} is not numeric; expected a float or integer (N, >=3) array")
    if arr.ndim != 2 or arr.shape[1] < 3:
        raise PointCloudError(path, f"shape {arr.shape}, expected (N, >=3) with columns x, y, z[, intensity, ring, time]")
    if arr.shape[1] > MAX_COLUMNS:
        if arr.shape[0] <= MAX_COLUMNS:
            raise PointCloudError(path, f"shape {arr.shape}: expected (N, >=3) points as rows; {arr.shape[1]} "
                                        "columns looks transposed (save points.T)")
        raise PointCloudError(path, f"shape {arr.shape}: {arr.shape[1]} columns, more than any sweep has (at most "
                                    f"{MAX_COLUMNS}); expected (N, >=3) points as rows with columns x, y, z"
                                    "[, intensity, ring, time]")
    notes = []
    if arr.shape[1] > len(COLUMNS):
        notes.append(f"columns beyond the first {len(COLUMNS)} ({arr.shape[1]} in file) were dropped")
        arr = arr[:, :len(COLUMNS)]
    return arr, {"format": "npy", "source_fields": list(COLUMNS[:arr.shape[1]]), "notes": notes}


# Readers of headerless float records: a 0-byte file holds 0 records, a sweep without points.
_EMPTY_FILE_READERS = (_read_kitti_bin, _read_nuscenes_bin)

register_reader(".bin", _read_kitti_bin)
register_reader(".pcd.bin", _read_nuscenes_bin)
register_reader(".pcd", read_pcd)
register_reader(".ply", read_ply)
register_reader(".npy", _read_npy)


def _read_range_image(path: Path):
    # The native drive format's compressed range images; imported lazily (io.native is larger).
    from .native import read_range_image_points

    return read_range_image_points(path)


register_reader(".fri", _read_range_image)

