"""KITTI object layout: calibration, labels and the ``velodyne/ image_2/ calib/ label_2/`` drive.

KITTI labels live in the rectified camera-0 frame (x right, y down, z forward) with the box
location at the bottom centre and ``rotation_y`` about the camera's y axis. They are converted to
cuboids in the Velodyne (LiDAR) frame here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import CalibrationError, DriveError, ImageError, LabelError
from ..geometry.cameras import camera_from_params
from ..geometry.cuboid import Cuboid
from ..geometry.transforms import inverse_3x3, normalize_angle, rotation_error
from ..model.annotation import CuboidLabel
from ..model.drive import Drive, Frame
from ..model.rig import CameraSensor, LidarSensor, Rig
from .images import image_size
from .kitti_truncation import FRACTION, TRUNCATION_SCALE

LIDAR = "velodyne"
# Calibration keys, with the aliases used by the raw KITTI tracking files.
KEY_ALIASES = {"R0_rect": ("R0_rect", "R_rect"), "Tr_velo_to_cam": ("Tr_velo_to_cam", "Tr_velo_cam"),
               "Tr_imu_to_velo": ("Tr_imu_to_velo", "Tr_imu_velo")}
# The raw tracking files write these keys without a colon ("R_rect 0.9999 ...").
RAW_TRACKING_KEYS = {alias for aliases in KEY_ALIASES.values() for alias in aliases[1:]}
KEY_SHAPES = {"P0": (3, 4), "P1": (3, 4), "P2": (3, 4), "P3": (3, 4), "R0_rect": (3, 3),
              "Tr_velo_to_cam": (3, 4), "Tr_imu_to_velo": (3, 4)}
REQUIRED_KEYS = ("P2", "R0_rect", "Tr_velo_to_cam")
EXTRINSIC_TOLERANCE = 1e-3


@dataclass(frozen=True)
class KittiCalib:
    """The matrices of one KITTI ``calib/*.txt`` file (P0-P3 optional except P2)."""

    path: Path
    P: dict[int, np.ndarray]           # camera index -> (3, 4) projection in the rectified frame
    R0_rect: np.ndarray                # (3, 3)
    Tr_velo_to_cam: np.ndarray         # (3, 4)
    Tr_imu_to_velo: np.ndarray | None  # (3, 4)

    @property
    def T_rect_velo(self) -> np.ndarray:
        """(4, 4) Velodyne -> rectified camera-0 frame (the frame KITTI labels are in)."""
        R0 = np.eye(4)
        R0[:3, :3] = self.R0_rect
        Tr = np.eye(4)
        Tr[:3, :] = self.Tr_velo_to_cam
        return R0 @ Tr

    @property
    def T_velo_rect(self) -> np.ndarray:
        return np.linalg.inv(self.T_rect_velo)

    def T_cam_rect(self, cam: int) -> np.ndarray:
        """(4, 4) rectified camera-0 frame -> camera ``cam`` frame: P = K [I | t]  =>  t = K⁻¹ P[:, 3]."""
        P = self.P[cam]
        T = np.eye(4)
        T[:3, 3] = np.linalg.solve(P[:, :3], P[:, 3])
        return T

    def T_cam_velo(self, cam: int) -> np.ndarray:
        """(4, 4) Velodyne -> camera ``cam`` (its projection is exactly P_cam · R0_rect · Tr_velo_to_cam)."""
        return self.T_cam_rect(cam) @ self.T_rect_velo


def _parse_calib_lines(path: Path) -> dict[str, tuple[int, list[str]]]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise CalibrationError(path, "calibration file not found") from None
    except OSError as e:
        raise CalibrationError(path, f"cannot read calibration file: {e.strerror}") from None
    entries = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if ":" not in line:
            key, *values = line.split()
            if key not in RAW_TRACKING_KEYS:
                raise CalibrationError(path, f"expected 'KEY: v1 v2 ...', got {line.strip()[:60]!r}", where=f"line {n}")
            entries[key] = (n, values)
            continue
        key, values = line.split(":", 1)
        entries[key.strip()] = (n, values.split())
    return entries


def read_kitti_calib(path: str | Path) -> KittiCalib:
    """Parse and validate a KITTI calibration file; errors name the file and the key."""
    path = Path(path)
    entries = _parse_calib_lines(path)
    mats: dict[str, np.ndarray] = {}
    for key, shape in KEY_SHAPES.items():
        found = next((a for a in KEY_ALIASES.get(key, (key,)) if a in entries), None)
        if found is None:
            continue
        n, values = entries[found]
        size = shape[0] * shape[1]
        if key == "R0_rect" and len(values) == 12:  # some tools write R0_rect as 3x4
            values = [v for i, v in enumerate(values) if i % 4 != 3]
        if len(values) != size:
            raise CalibrationError(path, f"expected {size} numbers ({shape[0]}x{shape[1]}), got {len(values)}",
                                   where=f"{found} (line {n})")
        try:
            m = np.array([float(v) for v in values]).reshape(shape)
        except ValueError:
            raise CalibrationError(path, f"non-numeric value in {values}", where=f"{found} (line {n})") from None
        if not np.all(np.isfinite(m)):
            raise CalibrationError(path, "contains NaN or inf", where=found)
        mats[key] = m
    missing = [k for k in REQUIRED_KEYS if k not in mats]
    if missing:
        raise CalibrationError(path, f"missing key(s) {', '.join(missing)} (a KITTI calib needs "
                                     f"{', '.join(REQUIRED_KEYS)}; found {', '.join(entries) or 'none'})")
    for key in ("R0_rect", "Tr_velo_to_cam"):
        R = mats[key][:3, :3]
        if abs(np.linalg.det(R)) < 1e-6:
            raise CalibrationError(path, f"rotation part is not invertible (det = {np.linalg.det(R):.3g})", where=key)
        if rotation_error(R) > EXTRINSIC_TOLERANCE:
            raise CalibrationError(path, f"rotation part is not a rotation (orthonormal, det +1): error "
                                         f"{rotation_error(R):.2e}, det {np.linalg.det(R):.6f}", where=key)
    P = {}
    for i in range(4):
        if f"P{i}" in mats:
            Pi = mats[f"P{i}"]
            if not (Pi[0, 0] > 0 and Pi[1, 1] > 0) or abs(Pi[2, 2] - 1.0) > 1e-9:
                raise CalibrationError(path, "expected K [I | t] with positive focal lengths and P[2,2] = 1, "
                                             f"got fx={Pi[0, 0]}, fy={Pi[1, 1]}, P[2,2]={Pi[2, 2]}", where=f"P{i}")
            P[i] = Pi
    return KittiCalib(path, P, mats["R0_rect"], mats["Tr_velo_to_cam"], mats.get("Tr_imu_to_velo"))


def rig_from_kitti_calib(calib: KittiCalib, image_sizes: dict[int, tuple[int, int]], name: str = "kitti") -> Rig:
    """A rig with the Velodyne as vehicle frame and one pinhole camera ``image_N`` per given size.

    ``vehicle_frame`` stays True: KITTI's labels are upright in its calibration's frames, and its
    Velodyne is mounted level against the vehicle (``Tr_imu_to_velo`` turns by under 1 degree).
    Each camera is rectified (``CameraSensor.T_rect_cam``: the translation from it to the rectified
    camera-0 frame the labels are in), so a native copy still writes it as KITTI's own on export.

    ``image_sizes`` maps the camera index (2 = left colour) to (width, height).
    """
    sensors: dict = {LIDAR: LidarSensor(LIDAR, np.eye(4))}
    for cam, (w, h) in sorted(image_sizes.items()):
        if cam not in calib.P:
            raise CalibrationError(calib.path, f"image_{cam} exists but P{cam} is missing", where=f"P{cam}")
        K = calib.P[cam][:, :3]
        camera = camera_from_params("pinhole", w, h, K[0, 0], K[1, 1], K[0, 2], K[1, 2])
        T_rect_cam = np.eye(4)
        T_rect_cam[:3, 3] = -calib.T_cam_rect(cam)[:3, 3]
        sensors[f"image_{cam}"] = CameraSensor(f"image_{cam}", camera, np.linalg.inv(calib.T_cam_velo(cam)),
                                               T_rect_cam=T_rect_cam)
    return Rig(name, sensors, LIDAR)


# --- labels --------------------------------------------------------------------------------------

def cuboid_from_kitti(h: float, w: float, l: float, x: float, y: float, z: float, ry: float,
                      T_velo_rect: np.ndarray) -> Cuboid:
    """A KITTI box (rectified camera frame, bottom-centre location) as a yaw-only cuboid in the
    Velodyne frame. The heading (camera-frame direction (cos ry, 0, -sin ry)) is carried through the
    actual calibration rather than assuming ``yaw = -ry - pi/2``."""
    center_rect = np.array([x, y - h / 2.0, z, 1.0])
    center = (T_velo_rect @ center_rect)[:3]
    heading_rect = np.array([np.cos(ry), 0.0, -np.sin(ry)])
    heading = T_velo_rect[:3, :3] @ heading_rect
    return Cuboid(center, (l, w, h), float(np.arctan2(heading[1], heading[0])))


def kitti_from_cuboid(box: Cuboid, T_rect_velo: np.ndarray) -> tuple[float, float, float, float, float, float, float]:
    """Exact inverse of :func:`cuboid_from_kitti`: returns (h, w, l, x, y, z, ry), ry in (-pi, pi].

    ``ry`` is the camera-frame heading (cos ry, 0, -sin ry) whose Velodyne-frame azimuth equals the
    box's yaw: it lies in the camera's x-z plane and in the vertical Velodyne plane of azimuth yaw.
    """
    center_rect = (T_rect_velo @ np.array([*box.center, 1.0]))[:3]
    R_velo_rect = inverse_3x3(T_rect_velo[:3, :3])
    azimuth = np.array([np.cos(box.yaw), np.sin(box.yaw), 0.0])
    normal = np.array([-np.sin(box.yaw), np.cos(box.yaw), 0.0])   # normal of that vertical plane
    m = R_velo_rect.T @ normal                                       # the plane's condition in rect coordinates
    d = np.array([m[2], 0.0, -m[0]])                                 # (cos ry, 0, -sin ry) up to scale
    if (R_velo_rect @ d) @ azimuth < 0:
        d = -d
    ry = normalize_angle(float(np.arctan2(-d[2], d[0])))
    x, y, z = center_rect
    return box.height, box.width, box.length, float(x), float(y + box.height / 2.0), float(z), ry


@dataclass(frozen=True)
class KittiLabelLine:
    """One parsed line of a KITTI label file (object, tracking or prediction flavour)."""

    type: str
    truncated: float
    occluded: int
    alpha: float
    bbox: tuple[float, float, float, float]
    dimensions_hwl: tuple[float, float, float]
    location: tuple[float, float, float]
    rotation_y: float
    score: float | None = None
    frame: int | None = None      # KITTI tracking only
    track_id: int | None = None   # KITTI tracking only


# the fields of a KITTI label line after its type, as the errors name them
LINE_FIELDS = ("truncated", "occluded", "alpha", "bbox left", "bbox top", "bbox right", "bbox bottom", "height",
               "width", "length", "x", "y", "z", "rotation_y", "score")


def _non_numeric(fields: list[str], lead: int, path: Path, lineno: int) -> LabelError:
    """The error naming the first field of a label line (``lead`` integer fields, the type, numbers)
    that is not the number it must be."""
    names = (*("frame", "track_id")[:lead], "type", *LINE_FIELDS)
    for k, value in enumerate(fields):
        try:
            int(value) if k < lead else float(value) if k > lead else None
        except ValueError:
            return LabelError(path, f"non-numeric field {k + 1} ({names[k]}): {value!r}, expected "
                                    f"{'an integer' if k < lead else 'a number'}", where=f"line {lineno}")
    return LabelError(path, "non-numeric field", where=f"line {lineno}")


def parse_kitti_label_line(line: str, path: Path, lineno: int, tracking: bool = False) -> KittiLabelLine:
    """Parse one label line (15 fields, 16 with a score; tracking lines start with frame and track id)."""
    fields = line.split()
    lead = 2 if tracking else 0
    if len(fields) not in (lead + 15, lead + 16):
        want = f"{lead + 15} or {lead + 16}"
        raise LabelError(path, f"expected {want} fields ({'frame track_id ' if tracking else ''}type trunc occ "
                               f"alpha x1 y1 x2 y2 h w l x y z ry [score]), got {len(fields)}", where=f"line {lineno}")
    try:
        nums = [float(v) for v in fields[lead + 1:]]
        head = [int(v) for v in fields[:lead]]
    except ValueError:
        raise _non_numeric(fields, lead, path, lineno) from None
    if not all(np.isfinite(nums)):
        names = ("trunc", "occ", "alpha", "x1", "y1", "x2", "y2", "h", "w", "l", "x", "y", "z", "ry", "score")
        bad = next(k for k, v in enumerate(nums) if not np.isfinite(v))
        raise LabelError(path, f"{names[bad]} (field {lead + bad + 2}) is {fields[lead + 1 + bad]}; expected a finite "
                               "number", where=f"line {lineno}")
    occ = nums[1]
    if occ != int(occ):
        raise LabelError(path, f"occlusion must be an integer, got {occ}", where=f"line {lineno}")
    if len(nums) == 15 and not 0.0 <= nums[14] <= 1.0:
        # A 16th field is a detector's score; outside [0, 1] it is most likely a malformed line (a
        # stray extra field shifts every column) that would otherwise become a model pre-label.
        layout = ("frame track_id " if tracking else "") + "type trunc occ alpha x1 y1 x2 y2 h w l x y z ry [score]"
        raise LabelError(path, f"score (field {lead + 16}) must lie in [0, 1], got {fields[-1]} (a stray extra "
                               f"field shifts the columns: expected {layout})", where=f"line {lineno}")
    return KittiLabelLine(
        type=fields[lead], truncated=nums[0], occluded=int(occ), alpha=nums[2], bbox=tuple(nums[3:7]),
        dimensions_hwl=tuple(nums[7:10]), location=tuple(nums[10:13]), rotation_y=nums[13],
        score=nums[14] if len(nums) == 15 else None,
        frame=head[0] if tracking else None, track_id=head[1] if tracking else None)


def read_kitti_label_file(path: str | Path, tracking: bool = False) -> list[KittiLabelLine]:
    """All lines of a KITTI label file (DontCare included), validated; errors name file and line."""
    path = Path(path)
    return [parse_kitti_label_line(line, path, n, tracking)
            for n, line in enumerate(label_file_text(path).splitlines(), 1) if line.strip()]


def label_file_text(path: Path) -> str:
    """The text of label file ``path``; LabelError naming it when it is missing or unreadable."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise LabelError(path, "label file not found") from None
    except OSError as e:
        raise LabelError(path, f"cannot read label file: {e.strerror}") from None


def label_from_kitti(line: KittiLabelLine, T_velo_rect: np.ndarray, path: Path, lineno: int | None = None,
                     camera: str = "image_2", source: str = "import", truncation: str = FRACTION) -> CuboidLabel:
    """Convert a non-DontCare KITTI line into a :class:`CuboidLabel` in the Velodyne frame;
    ``truncation`` is the scale of the line's ``truncated`` (:mod:`.kitti_truncation`): a KITTI
    object file's fraction, a KITTI tracking file's level."""
    h, w, l = line.dimensions_hwl
    if min(h, w, l) <= 0:
        raise LabelError(path, f"{line.type}: dimensions h, w, l must be positive, got {h} {w} {l}",
                         where=f"line {lineno}" if lineno else None)
    box = cuboid_from_kitti(h, w, l, *line.location, line.rotation_y, T_velo_rect)
    # kitti_geometry keeps the line's own h w l x y z ry so an exporter can tell an untouched box.
    attributes = {"truncated": line.truncated, "occluded": line.occluded, "alpha": line.alpha,
                  "bbox_2d": list(line.bbox), "kitti_camera": camera,
                  "kitti_geometry": [h, w, l, *line.location, line.rotation_y], TRUNCATION_SCALE: truncation}
    track = None if line.track_id is None else str(line.track_id)
    return CuboidLabel(box, line.type, track, line.score, "model" if line.score is not None else source, attributes)


def read_kitti_labels(path: str | Path, calib: KittiCalib) -> list[CuboidLabel]:
    """Labels of one KITTI object frame as cuboids in the Velodyne frame (DontCare regions skipped;
    :func:`read_kitti_label_file` returns them)."""
    path = Path(path)
    T_velo_rect = calib.T_velo_rect
    lines = read_kitti_label_file(path)
    return [label_from_kitti(line, T_velo_rect, path, n + 1) for n, line in enumerate(lines) if line.type != "DontCare"]


# --- the drive -----------------------------------------------------------------------------------

def find_kitti_root(path: str | Path) -> Path | None:
    """The folder holding ``velodyne/`` and ``calib/`` (``path`` itself or its ``training/``), else None."""
    path = Path(path)
    for cand in (path, path / "training"):
        if (cand / "velodyne").is_dir() and (cand / "calib").is_dir():
            return cand
    return None


def open_kitti_object(path: str | Path) -> Drive:
    """Open a KITTI object folder (``velodyne/ image_N/ calib/ [label_2/]``) as a drive.

    Every frame keeps its own calibration (KITTI object frames come from different days). Nothing
    but the file listing is read here: calibration, images and labels load on first use.
    """
    root = find_kitti_root(path)
    if root is None:
        raise DriveError(path, "not a KITTI object folder: expected velodyne/ and calib/ (or training/velodyne/)")
    sweeps = sorted(root.glob("velodyne/*.bin"))
    if not sweeps:
        raise DriveError(root / "velodyne", "no .bin sweeps found")
    cams = sorted(int(p.name.split("_")[1]) for p in root.glob("image_[0-3]") if p.is_dir())
    sizes = _ImageSizes(root, [s.stem for s in sweeps])
    frames = []
    for sweep in sweeps:
        fid = sweep.stem
        images = {f"image_{c}": root / f"image_{c}" / f"{fid}.png" for c in cams}
        calib_path = root / "calib" / f"{fid}.txt"
        label_path = root / "label_2" / f"{fid}.txt"
        frames.append(Frame(
            frame_id=fid, lidar_path=sweep, image_paths=images,
            labels_source=_labels_loader(label_path, calib_path),
            rig_source=_rig_loader(calib_path, images, f"kitti-{fid}", sizes)))
    name = f"{root.parent.name}/{root.name}" if root.parent.name else root.name  # "kitti/training"; "k1" at /
    drive = Drive(name, root, None, frames)
    drive.left_out = unswept_labels(root, {s.stem for s in sweeps})
    return drive


def unswept_labels(root: Path, swept: set[str]) -> list[str]:
    """A line for the ``label_2/`` files of a KITTI object folder whose frame has no sweep in
    ``velodyne/`` (``swept``: the frame IDs that have one): such a frame cannot be part of the
    drive, and its labels would be lost without a word."""
    lost = sorted(p.stem for p in root.glob("label_2/*.txt") if p.stem not in swept)
    if not lost:
        return []
    shown = ", ".join(lost[:5]) + (", ..." if len(lost) > 5 else "")
    return [f"{root / 'label_2'}: {len(lost)} label file{'s' if len(lost) > 1 else ''} without a sweep in "
            f"velodyne/ ({shown}): {'those frames are' if len(lost) > 1 else 'that frame is'} left out, "
            f"with {'their' if len(lost) > 1 else 'its'} labels"]


def _rig_loader(calib_path: Path, images: dict[str, Path], name: str, sizes: _ImageSizes):
    cams = {int(cam.split("_")[1]): p for cam, p in images.items()}

    def load() -> Rig:
        calib = read_kitti_calib(calib_path)
        return rig_from_kitti_calib(calib, {c: sizes.of(c, p, calib) for c, p in cams.items()}, name)
    load.camera_names = [f"image_{c}" for c in sorted(cams)]   # the rig's cameras, known without reading it
    return load


class _ImageSizes:
    """Camera image sizes of a KITTI object folder.

    A frame whose ``image_N`` file is missing takes the size of the nearest frame that has one and
    the same ``PN`` matrix: KITTI's image size varies with the recording day (1224-1242 px wide),
    and so does the camera matrix, so an identical matrix means an identical camera.
    """

    def __init__(self, root: Path, frame_ids: list[str]):
        self.root = root
        self.frame_ids = frame_ids
        self._borrowed: dict[tuple[int, bytes], tuple[int, int] | None] = {}   # (cam, P bytes) -> size

    def of(self, cam: int, image: Path, calib: KittiCalib) -> tuple[int, int]:
        """(width, height) of ``image``, or of a twin frame's image when it is missing."""
        if image.exists() or cam not in calib.P:
            return image_size(image)
        key = (cam, calib.P[cam].tobytes())
        if key not in self._borrowed:   # searched once per camera matrix, found or not: a miss is not rescanned per frame
            self._borrowed[key] = self._twin_size(cam, image, calib)
        size = self._borrowed[key]
        if size is None:
            raise ImageError(image, f"image file not found, and no other frame with the same P{cam} in "
                                    f"{calib.path.name} has an image to take the camera's size from")
        return size

    def _twin_size(self, cam: int, image: Path, calib: KittiCalib) -> tuple[int, int] | None:
        """The size of the nearest other frame's ``image_{cam}`` with the same ``P{cam}``; None if none."""
        fid = image.stem
        here = self.frame_ids.index(fid) if fid in self.frame_ids else 0
        nearest_first = sorted(range(len(self.frame_ids)), key=lambda i: abs(i - here))
        for other in (self.frame_ids[i] for i in nearest_first):
            twin = self.root / f"image_{cam}" / f"{other}.png"
            calib_path = self.root / "calib" / f"{other}.txt"
            if other == fid or not twin.exists() or not calib_path.exists():
                continue
            try:
                twin_P = read_kitti_calib(calib_path).P.get(cam)
            except CalibrationError:
                continue
            if twin_P is not None and np.array_equal(twin_P, calib.P[cam]):
                return image_size(twin)
        return None


def _labels_loader(label_path: Path, calib_path: Path):
    def load() -> list[CuboidLabel]:
        if not label_path.exists():
            return []
        return read_kitti_labels(label_path, read_kitti_calib(calib_path))
    return load
