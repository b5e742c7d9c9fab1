"""The native fusionlabel drive folder (``fusionlabel-drive/1``); layout in docs/native_format.md.

::

    DRIVE/
      drive.yaml                       index: format, name, rig file, one entry per frame
      rig.yaml                         sensor rig (fusionlabel-rig/1, see io/rig_yaml.py)
      lidar/<id>.fri                   sweep as a compressed range image (or .pcd / .bin / any readable sweep)
      cameras/<camera>/<id>.jpg        images, one folder per camera of the rig
      labels/<id>.json                 cuboids in the frame's LiDAR frame (fusionlabel-labels/1)
      debug/masks/<camera>/<id>.png    optional 16-bit per-pixel object (track) IDs

:func:`open_native_drive` reads only drive.yaml and the rig; sweeps, images and labels load on
first use, and a missing or malformed one is reported then, naming its file and key. A frame entry
may carry each camera's own ego pose and capture time (``T_world_vehicle_at_camera``,
``camera_timestamps_us``, as on :class:`~fusionlabel.model.drive.Frame`), so that
``Drive.T_cam_lidar`` compensates the ego motion between the LiDAR and the camera captures.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Iterable

import numpy as np
import yaml

from ..errors import DriveError, LabelError, PointCloudError
from ..files import parse_yaml, unknown_key, write_atomic, write_file, yaml_key_text
from ..geometry.cuboid import Cuboid
from ..geometry.transforms import rotation_problem, snap_rotation
from ..model.annotation import SOURCES, CuboidLabel, score_problem
from ..model.drive import Drive, Frame
from ..model.rig import Rig
from .jsonfile import read_json
from .kitti_truncation import TRUNCATION_SCALE, truncation_scale_problem
from .nuscenes_boxes import SOURCE_BOX, source_box_problem
from .nuscenes_records import attach_records

FORMAT = "fusionlabel-drive/1"
LABELS_FORMAT = "fusionlabel-labels/1"
INDEX = "drive.yaml"
RIG_FILE = "rig.yaml"
# The keys drive.yaml and each of its frames may hold; anything else (a typo) is refused.
TOP_KEYS = ("format", "name", "rig", "meta", "frames", "nuscenes")
FRAME_KEYS = ("id", "timestamp_us", "T_world_vehicle", "lidar", "cameras", "labels", "masks",
              "camera_timestamps_us", "T_world_vehicle_at_camera", "nuscenes")
# 2200-01-01 in microseconds since 1970: a later "timestamp_us" was written in nanoseconds.
LATEST_TIMESTAMP_US = 7_258_118_400_000_000
# 2000-01-01 in microseconds since 1970. Frames dated earlier may count from any origin (imports
# without times number them from 0), but frames that are also less than FASTEST_FRAME_STEP_US
# apart (more than 100 sweeps a second) were written in seconds or milliseconds.
EARLIEST_TIMESTAMP_US = 946_684_800_000_000
FASTEST_FRAME_STEP_US = 10_000

# ---------------------------------------------------------------------------------- range images
FRI_MAGIC = b"FLRI"
FRI_VERSION = 1


@dataclass
class RangeImage:
    """A spinning-LiDAR sweep as a grid of ``C`` azimuth columns x ``R`` beams.

    ``elevation`` (R,) and ``azimuth`` (C,) float64 radians; ``range`` (C, R) uint16 in units of
    ``range_step`` metres, 0 = no return; ``intensity`` (C, R) uint8 (0..255).
    """

    elevation: np.ndarray
    azimuth: np.ndarray
    range: np.ndarray
    intensity: np.ndarray
    range_step: float

    def points(self) -> np.ndarray:
        """Returns as (N, 5) float32 x, y, z, intensity, ring in firing order (column by column):
        x = r cos(elevation) cos(azimuth), y = r cos(elevation) sin(azimuth), z = r sin(elevation)
        in float64. The sines and cosines are taken once per beam and column, and the whole grid
        is computed before the returns are picked from it (faster than gathering per point)."""
        hit = self.range != 0
        r = self.range.astype(np.float64)
        r *= self.range_step
        cos_el, sin_el = np.cos(self.elevation), np.sin(self.elevation)
        cos_az, sin_az = np.cos(self.azimuth)[:, None], np.sin(self.azimuth)[:, None]
        out = np.empty((int(np.count_nonzero(hit)), 5), np.float32)
        with np.errstate(over="ignore"):   # beyond float32 becomes inf, which read_points refuses
            r_cos_el = r * cos_el
            out[:, 0] = (r_cos_el * cos_az)[hit]
            out[:, 1] = (r_cos_el * sin_az)[hit]
            out[:, 2] = (r * sin_el)[hit]
        out[:, 3] = self.intensity[hit]
        out[:, 4] = np.broadcast_to(np.arange(self.range.shape[1], dtype=np.float32), self.range.shape)[hit]
        return out


def encode_range_image(image: RangeImage) -> bytes:
    """Serialise to the ``.fri`` byte layout (see docs/native_format.md); deterministic."""
    cols, rows = image.range.shape
    header = json.dumps({"rows": rows, "cols": cols, "range_step": float(image.range_step),
                         "order": "column-major", "fields": ["range", "intensity"]}, sort_keys=True).encode()
    rng = np.ascontiguousarray(image.range, dtype="<u2")
    # Deltas along each beam compress better; byte planes keep the low and high bytes apart.
    delta = np.diff(rng.astype(np.int32), axis=0, prepend=0).astype("<u2")
    planes = delta.view(np.uint8).reshape(cols, rows, 2)
    payload = b"".join([
        np.asarray(image.elevation, "<f8").tobytes(), np.asarray(image.azimuth, "<f8").tobytes(),
        np.ascontiguousarray(planes[..., 0]).tobytes(), np.ascontiguousarray(planes[..., 1]).tobytes(),
        np.ascontiguousarray(image.intensity, dtype=np.uint8).tobytes(),
    ])
    return FRI_MAGIC + struct.pack("<II", FRI_VERSION, len(header)) + header + zlib.compress(payload, 6)


def decode_range_image(data: bytes, path: str | os.PathLike | None = None) -> RangeImage:
    """Parse ``.fri`` bytes; raises PointCloudError naming ``path`` on any inconsistency."""
    def fail(problem, where=None):
        raise PointCloudError(path, problem, where=where)

    if len(data) < 12 or data[:4] != FRI_MAGIC:
        fail(f"not a fusionlabel range image: expected magic {FRI_MAGIC!r}, got {bytes(data[:4])!r}")
    version, hlen = struct.unpack("<II", data[4:12])
    if version != FRI_VERSION:
        fail(f"unsupported range-image version {version}, expected {FRI_VERSION}", "version")
    try:
        header = json.loads(data[12:12 + hlen].decode())
        rows, cols, step = int(header["rows"]), int(header["cols"]), float(header["range_step"])
    except (ValueError, KeyError, TypeError) as e:
        fail(f"bad header ({type(e).__name__}: {e}); expected JSON with rows, cols, range_step", "header")
    if rows <= 0 or cols <= 0:
        fail(f"rows and cols must be positive, got {rows}, {cols}", "header")
    if not 0 < step < np.inf:
        fail(f"range_step must be positive and finite, got {step}", "header")
    try:
        payload = zlib.decompress(data[12 + hlen:])
    except zlib.error as e:
        fail(f"corrupt compressed data ({e})", "payload")
    n = rows * cols
    expected = 8 * (rows + cols) + 3 * n
    if len(payload) != expected:
        fail(f"payload has {len(payload)} bytes, expected {expected} for {cols} x {rows} cells", "payload")
    o = 0
    elevation = np.frombuffer(payload, "<f8", rows, o).astype(np.float64)
    o += 8 * rows
    azimuth = np.frombuffer(payload, "<f8", cols, o).astype(np.float64)
    o += 8 * cols
    for name, angles, what in (("elevation", elevation, "beam elevations"), ("azimuth", azimuth, "column azimuths")):
        bad = np.flatnonzero(~np.isfinite(angles))
        if bad.size:
            fail(f"{bad.size} of {angles.size} {what} are non-finite (NaN or inf, first at index {bad[0]}); "
                 f"expected finite radians", name)
    lo = np.frombuffer(payload, np.uint8, n, o)
    hi = np.frombuffer(payload, np.uint8, n, o + n)
    delta = (lo.astype(np.uint16) | (hi.astype(np.uint16) << 8)).reshape(cols, rows)
    rng = np.cumsum(delta, axis=0, dtype=np.uint16)
    intensity = np.frombuffer(payload, np.uint8, n, o + 2 * n).reshape(cols, rows).copy()
    return RangeImage(elevation, azimuth, rng, intensity, step)


def write_range_image(path: str | os.PathLike, image: RangeImage) -> None:
    write_file(path, encode_range_image(image))   # a full disk names the file


def read_range_image(path: str | os.PathLike) -> RangeImage:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PointCloudError(path, "file not found") from None
    except OSError as e:
        raise PointCloudError(path, f"cannot read file ({e.strerror or e})") from None
    return decode_range_image(data, path)


def read_range_image_points(path: str | os.PathLike) -> np.ndarray:
    """A ``.fri`` sweep as (N, 5) float32 x, y, z, intensity, ring."""
    return read_range_image(path).points()


# ---------------------------------------------------------------------------------- labels
def labels_to_json(frame_id: str, labels: Iterable[CuboidLabel]) -> str:
    """Serialise labels (boxes in the frame's LiDAR frame) as a ``fusionlabel-labels/1`` document."""
    objects = []
    for lab in labels:
        b = lab.box
        obj: dict[str, Any] = {"track_id": lab.track_id, "label": lab.label, "center": list(b.center),
                               "size": list(b.size), "yaw": b.yaw, "pitch": b.pitch, "roll": b.roll}
        if lab.score is not None:
            obj["score"] = lab.score
        if lab.source != "import":
            obj["source"] = lab.source
        obj["attributes"] = lab.attributes
        objects.append(obj)
    # One object per line: readable and diff-friendly.
    head = json.dumps({"format": LABELS_FORMAT, "frame": frame_id})[:-1]
    if not objects:
        return head + ', "objects": []}\n'
    body = ",\n".join(" " + json.dumps(o, allow_nan=False) for o in objects)
    return head + ', "objects": [\n' + body + "\n]}\n"


def _label_fail(path, where, problem):
    raise LabelError(path, problem, where=where)


def _vec(path, value, where, n, positive=False):
    if not isinstance(value, list) or len(value) != n or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in value):
        _label_fail(path, where, f"expected a list of {n} finite numbers, got {value!r}")
    if positive and min(value) <= 0:
        _label_fail(path, where, f"expected positive values, got {value!r}")
    return [float(v) for v in value]


def _num(path, value, where):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        _label_fail(path, where, f"expected a finite number, got {value!r}")
    return float(value)


def read_labels(path: str | os.PathLike, unwrapped_yaw: bool = False) -> list[CuboidLabel]:
    """Read a labels file; LabelError names the file and the key (e.g. ``objects[3].size``).

    A yaw beyond ±2π is refused as degrees written for radians, unless ``unwrapped_yaw`` (model
    predictions, whose angles may run past one turn, as KITTI's −7.9: the box is the same)."""
    path = Path(path)
    doc = read_json(path, "labels file")
    if isinstance(doc, list):
        objects, base = doc, ""
    elif isinstance(doc, dict):
        if doc.get("format", LABELS_FORMAT) != LABELS_FORMAT:
            _label_fail(path, "format", f"expected '{LABELS_FORMAT}', got {doc.get('format')!r}")
        if "objects" not in doc:
            _label_fail(path, "objects", "missing required key")
        objects, base = doc["objects"], "objects"
        if not isinstance(objects, list):
            _label_fail(path, "objects", f"expected a list, got {type(objects).__name__}")
    else:
        _label_fail(path, "(document)", f"expected an object or a list, got {type(doc).__name__}")
    out = []
    for i, obj in enumerate(objects):
        key = f"{base}[{i}]"
        if not isinstance(obj, dict):
            _label_fail(path, key, f"expected an object, got {type(obj).__name__}")
        for required in ("label", "center", "size", "yaw"):
            if required not in obj:
                _label_fail(path, f"{key}.{required}", "missing required key")
        if not isinstance(obj["label"], str) or not obj["label"]:
            _label_fail(path, f"{key}.label", f"expected a non-empty string, got {obj['label']!r}")
        center = _vec(path, obj["center"], f"{key}.center", 3)
        size = _vec(path, obj["size"], f"{key}.size", 3, positive=True)
        yaw = _num(path, obj["yaw"], f"{key}.yaw")
        if abs(yaw) > 2 * np.pi and not unwrapped_yaw:
            _label_fail(path, f"{key}.yaw", f"{yaw:g} is beyond ±2π; yaw is in radians (were degrees written?)")
        pitch = _num(path, obj.get("pitch", 0.0), f"{key}.pitch")
        roll = _num(path, obj.get("roll", 0.0), f"{key}.roll")
        track = obj.get("track_id")
        if track is not None and not isinstance(track, (str, int)) or isinstance(track, bool):
            _label_fail(path, f"{key}.track_id", f"expected a string, got {track!r}")
        score = obj.get("score")
        if score is not None:
            if (problem := score_problem(score)) is not None:
                _label_fail(path, f"{key}.score", problem)
            score = float(score)
        source = obj.get("source", "import")
        if source not in SOURCES:
            _label_fail(path, f"{key}.source", f"expected one of {', '.join(SOURCES)}, got {source!r}")
        attributes = obj.get("attributes", {})
        if not isinstance(attributes, dict):
            _label_fail(path, f"{key}.attributes", f"expected an object, got {type(attributes).__name__}")
        if TRUNCATION_SCALE in attributes and (problem := truncation_scale_problem(attributes[TRUNCATION_SCALE])):
            _label_fail(path, f"{key}.attributes.{TRUNCATION_SCALE}", problem)
        if SOURCE_BOX in attributes and (fault := source_box_problem(attributes[SOURCE_BOX])):
            field, problem = fault
            _label_fail(path, f"{key}.attributes.{SOURCE_BOX}" + (f".{field}" if field else ""), problem)
        out.append(CuboidLabel(Cuboid(center, size, yaw, pitch, roll), obj["label"],
                               None if track is None else str(track), score, source, attributes))
    return out


# ---------------------------------------------------------------------------------- masks
def write_mask(path: str | os.PathLike, mask: np.ndarray) -> None:
    """Write an (H, W) object-ID mask as a 16-bit PNG (0 = no labelled object)."""
    import cv2

    if not cv2.imwrite(str(path), np.ascontiguousarray(mask, dtype=np.uint16)):
        raise DriveError(path, "cannot write mask PNG")


def read_mask(path: str | os.PathLike) -> np.ndarray:
    """Read a 16-bit object-ID mask PNG as (H, W) uint16."""
    import cv2

    mask = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if mask is None or mask.ndim != 2:
        raise DriveError(path, "expected a single-channel 16-bit PNG object-ID mask")
    return mask.astype(np.uint16)


# ---------------------------------------------------------------------------------- writing
def _T_rows(T: np.ndarray) -> list[list[float]]:
    return [[float(v) + 0.0 for v in row] for row in np.asarray(T, dtype=np.float64)[:3]]  # + 0.0: no "-0.0"


def write_frame_files(root: str | os.PathLike, cameras: list[str], frame_id: str, timestamp_us: int,
                      T_world_vehicle: np.ndarray, sweep: RangeImage | Path | np.ndarray, images: dict[str, np.ndarray],
                      labels: list[CuboidLabel] | None = None, masks: dict[str, np.ndarray] | None = None,
                      jpeg_quality: int = 85, sweep_format: str = "pcd", image_format: str = "jpg", *,
                      T_world_vehicle_at_camera: dict[str, np.ndarray] | None = None,
                      camera_timestamps_us: dict[str, int] | None = None) -> dict:
    """Write the files of one frame under ``root`` and return its drive.yaml entry.

    ``sweep`` is a range image (written as ``.fri``), the path of a ``.fri`` file (copied as it
    is), or ``(N, C)`` points: ``sweep_format`` ``pcd`` writes them as PCD ``binary_compressed``
    (LZF), ``bin`` as float32 records.

    ``T_world_vehicle_at_camera`` and ``camera_timestamps_us`` (as in :class:`Frame`) are the ego pose
    and the time of each camera's own capture; they are stored in the entry when given.
    Frames are independent, so several processes may write different frames of one drive.
    """
    from .images import write_image
    from .pointcloud import write_points_bin, write_points_pcd

    root = Path(root)

    def target(rel: str) -> Path:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    if isinstance(sweep, RangeImage):
        lidar = f"lidar/{frame_id}.fri"
        write_range_image(target(lidar), sweep)
    elif isinstance(sweep, Path):        # a .fri range image kept as it is
        lidar = f"lidar/{frame_id}.fri"
        write_file(target(lidar), sweep.read_bytes())
    elif sweep_format == "pcd":
        lidar = f"lidar/{frame_id}.pcd"
        write_points_pcd(target(lidar), sweep, compressed=True)
    else:
        lidar = f"lidar/{frame_id}.{sweep_format}"
        write_points_bin(target(lidar), sweep)
    entry: dict[str, Any] = {"id": frame_id, "timestamp_us": int(timestamp_us),
                             "T_world_vehicle": _T_rows(T_world_vehicle), "lidar": lidar, "cameras": {}}
    for cam in cameras:
        if cam in images:
            rel = f"cameras/{cam}/{frame_id}.{image_format}"
            write_image(target(rel), images[cam], quality=jpeg_quality)
            entry["cameras"][cam] = rel
    entry.update(camera_pose_entries(cameras, T_world_vehicle_at_camera, camera_timestamps_us))
    if labels is not None:
        entry["labels"] = f"labels/{frame_id}.json"
        write_file(target(entry["labels"]), labels_to_json(frame_id, labels))
    if masks:
        entry["masks"] = {}
        for cam, mask in masks.items():
            rel = f"debug/masks/{cam}/{frame_id}.png"
            write_mask(target(rel), mask)
            entry["masks"][cam] = rel
    return entry


def camera_pose_entries(cameras: list[str], T_world_vehicle_at_camera: dict[str, np.ndarray] | None,
                        camera_timestamps_us: dict[str, int] | None) -> dict:
    """The optional per-camera keys of a drive.yaml frame entry (empty when there is nothing to store).

    Raises ValueError for a camera that is not in ``cameras`` (the rig's): the reader would refuse it.
    """
    out: dict[str, Any] = {}
    for key, values in (("camera_timestamps_us", camera_timestamps_us),
                        ("T_world_vehicle_at_camera", T_world_vehicle_at_camera)):
        if not values:
            continue
        unknown = [c for c in values if c not in cameras]      # in the caller's order: names may mix types
        if unknown:
            raise ValueError(f"{key}: camera(s) {', '.join(map(str, unknown))} not in the rig "
                             f"(cameras: {', '.join(map(str, cameras))})")
        ordered = [c for c in cameras if c in values]  # rig order: stable, diff-friendly files
        if key == "camera_timestamps_us":
            out[key] = {c: int(values[c]) for c in ordered}
        else:
            out[key] = {c: _T_rows(values[c]) for c in ordered}
    return out


class NativeDriveWriter:
    """Write a native drive frame by frame; ``close()`` (or leaving a ``with`` block) writes the index.

    Args:
        root: drive folder (created if needed).
        rig: the sensor rig, saved as rig.yaml.
        name: drive name stored in the index.
        meta: optional free-form mapping stored under ``meta`` (e.g. the generator's settings).
        jpeg_quality: quality of the camera JPEGs.
        sweep_format: extension for sweeps given as point arrays: "pcd" or "bin".
        image_format: "jpg" (default) or "png" (lossless).
        nuscenes: optional ``nuscenes`` mapping of the index: the scene, log and map records of a
            drive imported from nuScenes (:func:`~fusionlabel.io.nuscenes_records.index_records`);
            each frame's tokens go in its entry's ``nuscenes`` key.
    """

    def __init__(self, root: str | os.PathLike, rig: Rig, name: str, meta: dict | None = None,
                 jpeg_quality: int = 85, sweep_format: str = "pcd", image_format: str = "jpg",
                 nuscenes: dict | None = None):
        if sweep_format not in ("pcd", "bin"):
            raise ValueError(f"sweep_format must be 'pcd' or 'bin', got {sweep_format!r}")
        if image_format not in ("jpg", "png"):
            raise ValueError(f"image_format must be 'jpg' or 'png', got {image_format!r}")
        self.image_format = image_format
        from .rig_yaml import save_rig

        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.rig, self.name, self.meta, self.nuscenes = rig, name, meta or {}, nuscenes
        self.jpeg_quality, self.sweep_format = jpeg_quality, sweep_format
        self.entries: list[dict] = []
        save_rig(rig, self.root / RIG_FILE)

    def add_frame(self, frame_id: str, timestamp_us: int, T_world_vehicle: np.ndarray,
                  sweep: RangeImage | Path | np.ndarray, images: dict[str, np.ndarray],
                  labels: list[CuboidLabel] | None = None, masks: dict[str, np.ndarray] | None = None, *,
                  T_world_vehicle_at_camera: dict[str, np.ndarray] | None = None,
                  camera_timestamps_us: dict[str, int] | None = None) -> dict:
        """Write one frame's files and remember its index entry (returned). The per-camera ego poses
        and capture times (``Frame.T_world_vehicle_at_camera``, ``Frame.camera_timestamps_us``) are
        stored when given, so that the drive read back projects with the same motion compensation."""
        entry = write_frame_files(self.root, self.rig.camera_names, frame_id, timestamp_us, T_world_vehicle,
                                  sweep, images, labels, masks, jpeg_quality=self.jpeg_quality,
                                  sweep_format=self.sweep_format, image_format=self.image_format,
                                  T_world_vehicle_at_camera=T_world_vehicle_at_camera,
                                  camera_timestamps_us=camera_timestamps_us)
        self.entries.append(entry)
        return entry

    def add_entry(self, entry: dict) -> None:
        """Append the index entry of a frame whose files :func:`write_frame_files` already wrote."""
        self.entries.append(entry)

    def close(self) -> Path:
        """Write drive.yaml (through a temporary file, so a half-written drive has no index)."""
        doc = {"format": FORMAT, "name": self.name, "rig": RIG_FILE}
        if self.meta:
            doc["meta"] = self.meta
        if self.nuscenes:
            doc["nuscenes"] = self.nuscenes
        doc["frames"] = self.entries
        text = "# fusionlabel native drive; layout in docs/native_format.md\n" + yaml.safe_dump(
            doc, sort_keys=False, default_flow_style=None, width=200)
        write_atomic(self.root / INDEX, text.encode("utf-8"))
        return self.root / INDEX

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()


def write_native_drive(root: str | os.PathLike, rig: Rig, name: str, frames: Iterable[dict], **kwargs) -> Path:
    """Write a whole drive; each item of ``frames`` holds the keyword arguments of
    :meth:`NativeDriveWriter.add_frame`. Returns the path of drive.yaml."""
    writer = NativeDriveWriter(root, rig, name, **kwargs)
    for f in frames:
        writer.add_frame(**f)
    return writer.close()


# ---------------------------------------------------------------------------------- reading
def is_native_drive(path: str | os.PathLike) -> bool:
    """True when ``path`` is a folder holding drive.yaml (or is such a drive.yaml)."""
    path = Path(path)
    if path.is_file():
        return path.name == INDEX
    return (path / INDEX).is_file()


class _Index:
    """Validating accessors for drive.yaml; every error names the file and the key."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, where: str, problem: str):
        raise DriveError(self.path, problem, where=where)

    def get(self, d: dict, key: str, where: str):
        if key not in d:
            self.fail(f"{where}.{key}" if where else key, "missing required key")
        return d[key]

    def relpath(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value:
            self.fail(where, f"expected a relative file path, got {value!r}")
        p = PurePosixPath(value)
        if p.is_absolute() or ".." in p.parts or "\\" in value:
            self.fail(where, f"expected a path inside the drive folder (relative, no '..'), got {value!r}")
        return value

    def pose(self, value: Any, where: str) -> np.ndarray:
        rows = value if isinstance(value, list) else None
        if rows is not None and len(rows) == 4:
            rows = rows[:3] if rows[3] == [0, 0, 0, 1] else None
        if rows is None or len(rows) != 3 or not all(isinstance(r, list) and len(r) == 4 for r in rows) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for r in rows for v in r):
            self.fail(where, f"expected 3 rows of 4 finite numbers [R | t] (4th row 0 0 0 1 optional), got {value!r}")
        T = np.eye(4)
        T[:3] = np.asarray(rows, dtype=np.float64)
        problem = rotation_problem(T[:3, :3], "write at least 6 significant digits")
        if problem:
            self.fail(where, f"rotation part {problem}")
        T[:3, :3] = snap_rotation(T[:3, :3])
        return T

    def per_camera(self, spec: dict, key: str, where: str, cameras: list[str], parse) -> dict:
        """Optional mapping ``camera -> value`` of a frame entry; every camera must be in the rig."""
        value = spec.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(f"{where}.{key}", f"expected a mapping camera -> value, got {type(value).__name__}")
        out = {}
        for cam, item in value.items():
            self.camera(cam, f"{where}.{key}.{cam}", cameras)
            out[cam] = parse(item, f"{where}.{key}.{cam}")
        return out

    def camera(self, name: Any, where: str, cameras: list[str]) -> str:
        """``name``, a camera of the rig: a string (``1:`` unquoted is the number 1) in ``cameras``."""
        if not isinstance(name, str):
            self.fail(where, f"camera names are strings; quote it: \"{yaml_key_text(name)}\"")
        if name not in cameras:
            self.fail(where, f"camera '{name}' is not in the rig (cameras: {', '.join(map(str, cameras))})")
        return name

    def timestamp(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail(where, f"expected a non-negative integer (microseconds), got {value!r}")
        if value > LATEST_TIMESTAMP_US:
            self.fail(where, f"{value} microseconds is after the year 2200; timestamps are microseconds "
                             f"since 1970, were nanoseconds written (divide by 1000)?")
        return value

    def seconds_or_milliseconds(self, frames: list[Frame]) -> None:
        """Refuse frame times that are dated before 2000 and less than :data:`FASTEST_FRAME_STEP_US`
        apart (median): no LiDAR sweeps that fast, so seconds or milliseconds were written."""
        times = np.array([f.timestamp_us for f in frames], dtype=np.int64)
        if len(times) < 2 or times[-1] >= EARLIEST_TIMESTAMP_US:
            return
        step = float(np.median(np.diff(times)))
        if step < FASTEST_FRAME_STEP_US:
            seconds = EARLIEST_TIMESTAMP_US // 1_000_000      # 2000-01-01 in seconds since 1970
            unit, factor = (("milliseconds", "1000") if times[0] >= 1000 * seconds else
                            ("seconds", "1,000,000") if times[0] >= seconds else
                            ("seconds or milliseconds", "1,000,000 or 1000"))
            self.fail("frames[0].timestamp_us", f"frames are {step:g} microsecond{'' if step == 1 else 's'} apart (median) and dated before "
                                                f"the year 2000; timestamps are microseconds since 1970, were {unit} "
                                                f"written (multiply by {factor})?")

    def known_keys(self, value: dict, allowed: tuple[str, ...], where: str) -> None:
        unknown = unknown_key(value, allowed)
        if unknown:
            self.fail(f"{where}.{unknown[0]}" if where else unknown[0], unknown[1])

    def frame_id(self, spec: dict, index: int, text: str) -> str:
        """``frames[index].id``, which must be a non-empty string (``000010`` unquoted is octal 8)."""
        where = f"frames[{index}]"
        fid = self.get(spec, "id", where)
        if isinstance(fid, str) and fid:
            return fid
        if isinstance(fid, (int, float)) and not isinstance(fid, bool):
            raw = _raw_frame_id(text, index)
            written = f"{raw} (YAML reads it as the number {fid!r})" if raw and raw != str(fid) else f"the number {fid!r}"
            self.fail(f"{where}.id", f"expected a string, got {written}; quote it: id: \"{raw or fid}\"")
        self.fail(f"{where}.id", f"expected a non-empty string, got {fid!r}")


def _raw_frame_id(text: str, index: int) -> str | None:
    """The text of ``frames[index].id`` exactly as written in drive.yaml (``000010`` where YAML
    reads the octal number 8), or None when it cannot be found."""
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        frames = next(v for k, v in root.value if k.value == "frames")
        return next(v.value for k, v in frames.value[index].value if k.value == "id")
    except (yaml.YAMLError, StopIteration, AttributeError, IndexError, TypeError):
        return None


def _load_index(path: Path) -> tuple[dict, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DriveError(path.parent, f"not a native drive: {INDEX} not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise DriveError(path, f"cannot read file ({e})") from None
    doc = parse_yaml(text, path, DriveError, getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(doc, dict):
        raise DriveError(path, f"expected a mapping with keys format, rig, frames; got {type(doc).__name__}",
                         where="(document)")
    return doc, text


def _labels_loader(path: Path):
    return lambda: read_labels(path)


def _meta(meta: Any, ix: _Index) -> dict:
    """drive.yaml's free-form ``meta`` (empty when absent or not a mapping), its KITTI layout
    entries checked (:mod:`.kitti_layout`: the KITTI tracking export names files after the sequence)."""
    from .kitti_layout import meta_problem

    if not isinstance(meta, dict):
        return {}
    problem = meta_problem(meta)
    if problem is not None:
        ix.fail(f"meta.{problem[0]}", problem[1])
    return dict(meta)


def open_native_drive(path: str | os.PathLike) -> Drive:
    """Open a native drive folder (or its drive.yaml). Reads the index and the rig only."""
    from .rig_yaml import load_rig

    path = Path(path)
    root = path.parent if path.is_file() else path
    index_path = root / INDEX
    doc, text = _load_index(index_path)
    ix = _Index(index_path)
    ix.known_keys(doc, TOP_KEYS, "")
    fmt = ix.get(doc, "format", "")
    if fmt != FORMAT:
        ix.fail("format", f"expected '{FORMAT}', got {fmt!r}")
    name = doc.get("name", root.name)
    if not isinstance(name, str):
        ix.fail("name", f"expected a string, got {name!r}")
    rig = load_rig(root / ix.relpath(ix.get(doc, "rig", ""), "rig"))
    frames_spec = ix.get(doc, "frames", "")
    if not isinstance(frames_spec, list) or not frames_spec:
        ix.fail("frames", f"expected a non-empty list of frames, got {frames_spec!r}"[:200])
    cameras = list(rig.camera_names)
    frames, seen, last_t = [], set(), None
    for i, spec in enumerate(frames_spec):
        where = f"frames[{i}]"
        if not isinstance(spec, dict):
            ix.fail(where, f"expected a mapping, got {type(spec).__name__}")
        ix.known_keys(spec, FRAME_KEYS, where)
        fid = ix.frame_id(spec, i, text)
        if fid in seen:
            ix.fail(f"{where}.id", f"duplicate frame id '{fid}'")
        seen.add(fid)
        ts = ix.timestamp(ix.get(spec, "timestamp_us", where), f"{where}.timestamp_us")
        if last_t is not None and ts <= last_t:
            ix.fail(f"{where}.timestamp_us", f"timestamps must increase: {ts} follows {last_t}")
        last_t = ts
        T = ix.pose(ix.get(spec, "T_world_vehicle", where), f"{where}.T_world_vehicle")
        lidar = root / ix.relpath(ix.get(spec, "lidar", where), f"{where}.lidar")
        cams = spec.get("cameras", {}) or {}
        if not isinstance(cams, dict):
            ix.fail(f"{where}.cameras", f"expected a mapping camera -> image file, got {type(cams).__name__}")
        images = {}
        for cam, rel in cams.items():
            ix.camera(cam, f"{where}.cameras.{cam}", cameras)
            images[cam] = root / ix.relpath(rel, f"{where}.cameras.{cam}")
        labels = spec.get("labels")
        source = None
        if labels is not None:
            source = _labels_loader(root / ix.relpath(labels, f"{where}.labels"))
        cam_poses = ix.per_camera(spec, "T_world_vehicle_at_camera", where, cameras, ix.pose)
        cam_times = ix.per_camera(spec, "camera_timestamps_us", where, cameras, ix.timestamp)
        frames.append(Frame(fid, lidar, images, ts, T, T_world_vehicle_at_camera=cam_poses,
                            camera_timestamps_us=cam_times, labels_source=source))
    ix.seconds_or_milliseconds(frames)
    # Sweeps (.fri included) load through io.pointcloud.read_points and so get the checks every
    # sweep reader shares: a 0-byte file and non-finite x/y/z are refused there.
    drive = Drive(name, root, rig, frames)
    drive.meta = _meta(doc.get("meta"), ix)
    attach_records(drive, doc.get("nuscenes"), [spec.get("nuscenes") for spec in frames_spec], cameras, ix.fail)
    return drive

