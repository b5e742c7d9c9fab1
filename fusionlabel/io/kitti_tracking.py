"""KITTI tracking layout: one sequence of a ``training/`` or ``testing/`` folder as a drive.

Layout (``image_0N/``, ``label_02/`` and ``oxts/`` optional)::

    ROOT/velodyne/<seq>/<frame>.bin      sweeps, float32 x y z reflectance, Velodyne frame
    ROOT/image_02/<seq>/<frame>.png      left colour camera (image_03: right colour, and so on)
    ROOT/calib/<seq>.txt                 P0-P3 and R0_rect / Tr_velo_to_cam / Tr_imu_to_velo, or the raw
                                         tracking keys R_rect / Tr_velo_cam / Tr_imu_velo
    ROOT/label_02/<seq>.txt              frame track_id type trunc occ alpha x1 y1 x2 y2 h w l x y z ry
    ROOT/oxts/<seq>.txt                  one OXTS record per frame: lat lon alt roll pitch yaw ... (30 values)

``ROOT`` is the folder given or its ``training/``. One sequence becomes one drive; the sequence is
chosen by name (``0003``, or its number ``3``) and may be left out when the folder holds one.

* **Rig.** One calibration per sequence, converted as for KITTI object folders
  (:func:`~fusionlabel.io.kitti.rig_from_kitti_calib`): the Velodyne is the vehicle frame and
  ``image_0N`` becomes the pinhole camera ``image_N``.
* **Labels** are read from the rectified camera-0 frame into the Velodyne frame with their track ID
  (a string). DontCare regions are skipped, as for KITTI object folders; other objects with track
  ID -1 are kept without a track ID.
* **Poses.** With an ``oxts/<seq>.txt`` file, each record's position is converted to Mercator
  coordinates with the scale of the *first* record (``cos(lat0)``, earth radius 6 378 137 m) and
  its orientation is ``Rz(yaw) Ry(pitch) Rx(roll)``, as KITTI's devkit does (``convertOxtsToPose``).
  That gives ``T_world_imu``; ``T_world_lidar = T_world_imu · Tr_imu_to_velo⁻¹``. The world frame
  is the Mercator frame (x east, y north, z up) moved to the first record's position; the devkit
  also rotates it into the first IMU frame, which changes no relative pose. Without an oxts file the
  poses are the identity and ``drive.notes`` says so.
* **Images.** A frame without an image in ``image_0N/<seq>/`` simply has none; the camera's size
  comes from its first frame that has one. A sequence without any ``image_02`` image (labels and
  sweeps only) has no camera unless ``image_size`` gives ``image_2``'s size; it is never guessed.
* **Timestamps.** The tracking release carries no times, so frame ``n`` is at ``n × 100 000`` µs
  (KITTI records at 10 Hz).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import CalibrationError, DriveError, LabelError
from ..geometry.transforms import invert_T, rotation_error, rotation_from_euler
from ..model.annotation import CuboidLabel
from ..model.drive import Drive, Frame
from .images import image_size as image_file_size
from .kitti import (
    EXTRINSIC_TOLERANCE,
    KittiCalib,
    KittiLabelLine,
    label_file_text,
    label_from_kitti,
    parse_kitti_label_line,
    read_kitti_calib,
    rig_from_kitti_calib,
)
from .kitti_truncation import LEVEL

FRAME_PERIOD_US = 100_000
SITTING_TYPE = "Person"   # a sitting person in KITTI tracking's label files (KITTI object: Person_sitting)
EARTH_RADIUS_M = 6_378_137.0
OXTS_FIELDS = ("lat", "lon", "alt", "roll", "pitch", "yaw", "vn", "ve", "vf", "vl", "vu", "ax", "ay", "az", "af",
               "al", "au", "wx", "wy", "wz", "wf", "wl", "wu", "pos_accuracy", "vel_accuracy", "navstat",
               "numsats", "posmode", "velmode", "orimode")


class KittiTrackingDrive(Drive):
    """A drive read from one KITTI tracking sequence.

    ``sequence`` is its name, ``sequences`` every sequence of the folder, ``has_poses`` whether the
    poses came from an oxts file and ``notes`` what the reader had to assume.
    """

    sequence: str
    sequences: list[str]
    has_poses: bool
    notes: list[str]


# ------------------------------------------------------------------------------------ discovery
def _is_tracking_velodyne(velodyne: Path) -> bool:
    """``velodyne/`` holds sequence folders and no sweeps of its own (those make a KITTI object folder)."""
    found = False
    try:
        with os.scandir(velodyne) as entries:
            for entry in entries:
                if entry.name.endswith(".bin") and entry.is_file():
                    return False
                found = found or entry.is_dir()
    except OSError:
        return False
    return found


def find_tracking_root(path: str | Path) -> Path | None:
    """The folder whose ``velodyne/`` holds sequence folders (``path`` itself or its ``training/``)."""
    path = Path(path)
    for cand in (path, path / "training"):
        if (cand / "velodyne").is_dir() and _is_tracking_velodyne(cand / "velodyne"):
            return cand
    return None


def tracking_sequences(root: str | Path) -> list[str]:
    """Names of the sequences under ``root/velodyne/``, sorted."""
    velodyne = Path(root) / "velodyne"
    return sorted(p.name for p in velodyne.iterdir() if p.is_dir()) if velodyne.is_dir() else []


def pick_sequence(root: Path, sequences: list[str], sequence: str | int | None) -> str:
    """The sequence of ``sequences`` that ``sequence`` names (``0003`` or 3; the only one when None);
    DriveError at ``scene`` listing the sequences otherwise."""
    listing = ", ".join(sequences[:30]) + (" …" if len(sequences) > 30 else "")
    if not sequences:
        raise DriveError(root / "velodyne", "no sequence folders: expected velodyne/<seq>/<frame>.bin")
    if sequence is None:
        if len(sequences) == 1:
            return sequences[0]
        raise DriveError(root, f"{len(sequences)} sequences: choose one (--scene); sequences: {listing}",
                         where="scene")
    name = str(sequence)
    if name in sequences:
        return name
    if name.isdigit():
        same = [s for s in sequences if s.isdigit() and int(s) == int(name)]
        if len(same) == 1:
            return same[0]
    raise DriveError(root, f"no sequence {name!r}; sequences: {listing}", where="scene")


# ------------------------------------------------------------------------------------ oxts -> poses
def read_oxts(path: str | Path) -> np.ndarray:
    """The records of an OXTS file, (n, 30) float64, one row per line (= per frame).

    Errors name the file, the line and the field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise DriveError(path, f"cannot read oxts file: {e.strerror}") from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    rows = np.empty((len(lines), len(OXTS_FIELDS)))
    for n, line in enumerate(lines, 1):
        fields = line.split()
        if len(fields) != len(OXTS_FIELDS):
            raise DriveError(path, f"expected {len(OXTS_FIELDS)} numbers ({' '.join(OXTS_FIELDS[:6])} … "
                                   f"{OXTS_FIELDS[-1]}), got {len(fields)}", where=f"line {n}")
        for k, value in enumerate(fields):
            try:
                rows[n - 1, k] = float(value)
            except ValueError:
                rows[n - 1, k] = np.nan
            if not np.isfinite(rows[n - 1, k]):
                raise DriveError(path, f"expected a finite number, got {value!r}", where=f"line {n}, {OXTS_FIELDS[k]}")
        if abs(rows[n - 1, 0]) >= 90.0:
            raise DriveError(path, f"latitude must lie in (-90, 90) degrees, got {rows[n - 1, 0]}",
                             where=f"line {n}, lat")
    return rows


def poses_from_oxts(oxts: np.ndarray) -> np.ndarray:
    """``T_world_imu`` (n, 4, 4) of OXTS records (n, ≥6: lat, lon [deg], alt [m], roll, pitch, yaw [rad]).

    Mercator projection with the first record's scale, as KITTI's devkit; the world origin is the
    first record's position (x east, y north, z up)."""
    oxts = np.asarray(oxts, dtype=np.float64)
    lat, lon, alt = oxts[:, 0], oxts[:, 1], oxts[:, 2]
    scale = np.cos(np.radians(lat[0]))
    t = np.stack([scale * EARTH_RADIUS_M * np.radians(lon),
                  scale * EARTH_RADIUS_M * np.log(np.tan(np.radians(90.0 + lat) / 2.0)),
                  alt], axis=1)
    T = np.tile(np.eye(4), (len(oxts), 1, 1))
    T[:, :3, 3] = t - t[:1]
    for k, (roll, pitch, yaw) in enumerate(oxts[:, 3:6]):
        T[k, :3, :3] = rotation_from_euler(roll, pitch, yaw)
    return T


OXTS_DEFAULT_ORIGIN = (0.0, 0.0, 0.0)   # lat, lon [deg], alt [m] of a written first record without a source's own
OXTS_DECIMALS = 12                      # lat, lon [deg] and roll, pitch, yaw [rad] as written (1e-12 deg: 0.1 um)


def oxts_from_poses(T_world_imu: np.ndarray, origin: tuple[float, float, float] = OXTS_DEFAULT_ORIGIN) -> np.ndarray:
    """OXTS records (n, 30) from which :func:`poses_from_oxts` gives back ``T_world_imu`` (n, 4, 4),
    its positions moved so that the first is the world origin (the reader puts it there).

    The first record is at ``origin`` (lat, lon, alt); the others are placed by inverting the
    reader's Mercator projection with the first record's scale. Orientation is written as roll,
    pitch, yaw (``R = Rz(yaw) Ry(pitch) Rx(roll)``). Fields the reader does not use (velocities,
    accelerations, angular rates, accuracies, GPS status and modes) are 0: not known.
    """
    from ..geometry.transforms import euler_from_rotation

    T = np.asarray(T_world_imu, dtype=np.float64)
    lat0 = round(float(origin[0]), OXTS_DECIMALS)          # the first latitude as written sets the scale
    k = np.cos(np.radians(lat0)) * EARTH_RADIUS_M
    d = T[:, :3, 3] - T[:1, :3, 3]
    x = k * np.radians(origin[1]) + d[:, 0]
    y = k * np.log(np.tan(np.radians(90.0 + lat0) / 2.0)) + d[:, 1]
    rows = np.zeros((len(T), len(OXTS_FIELDS)))
    rows[:, 0] = np.degrees(2.0 * np.arctan(np.exp(y / k))) - 90.0
    rows[:, 1] = np.degrees(x / k)
    rows[:, 2] = origin[2] + d[:, 2]
    rows[:, 3:6] = [euler_from_rotation(R) for R in T[:, :3, :3]]
    return rows


def oxts_text(rows: np.ndarray) -> str:
    """OXTS records as the text of an ``oxts/<seq>.txt`` file (one line per record)."""
    def fixed(v: float, decimals: int) -> str:
        return f"{round(float(v), decimals) + 0.0:.{decimals}f}"     # + 0.0: no "-0.000…"

    def line(r):
        return " ".join([*(fixed(v, OXTS_DECIMALS) for v in r[:2]), fixed(r[2], 9),
                         *(fixed(v, OXTS_DECIMALS) for v in r[3:6]), *(f"{v + 0.0:g}" for v in r[6:])])
    return "".join(line(r) + "\n" for r in rows)


def tracking_poses(root: Path, seq: str, calib: KittiCalib, last: int, framed_by: str,
                   notes: list[str]) -> np.ndarray:
    """``T_world_lidar`` (last + 1, 4, 4) of frames 0 to ``last`` of sequence ``seq``: from
    ``oxts/<seq>.txt`` when there is one (it must reach frame ``last``, which ``framed_by`` holds),
    else the identity, with a line in ``notes``."""
    oxts_path = root / "oxts" / f"{seq}.txt"
    if not oxts_path.is_file():
        notes.append(f"no oxts/{seq}.txt: ego poses are the identity (every frame at the world origin)")
        return np.tile(np.eye(4), (last + 1, 1, 1))
    oxts = read_oxts(oxts_path)
    if len(oxts) <= last:
        raise DriveError(oxts_path, f"{len(oxts)} records, but {framed_by} has frame {last}: expected one line per frame")
    if calib.Tr_imu_to_velo is None:
        raise CalibrationError(calib.path, "missing key (needed to place the Velodyne on the oxts poses)",
                               where="Tr_imu_to_velo")
    T_velo_imu = np.eye(4)
    T_velo_imu[:3, :] = calib.Tr_imu_to_velo
    if rotation_error(T_velo_imu[:3, :3]) > EXTRINSIC_TOLERANCE:
        raise CalibrationError(calib.path, "rotation part is not a rotation (orthonormal, det +1): error "
                                           f"{rotation_error(T_velo_imu[:3, :3]):.2e}", where="Tr_imu_to_velo")
    return poses_from_oxts(oxts) @ invert_T(T_velo_imu)


# ------------------------------------------------------------------------------------ labels
@dataclass(frozen=True)
class LabelEntry:
    """One line of a label file, parsed, with its line number in the file."""

    line: KittiLabelLine
    lineno: int


def label_entries(label_path: str | Path, problems: list[LabelError] | None = None) -> dict[int, list[LabelEntry]]:
    """The lines of a ``label_02/<seq>.txt`` file (DontCare included) grouped by frame number.

    A line that cannot be read raises LabelError naming the file and the line; with ``problems``
    it is left out and its error appended there instead (a file that cannot be read still raises)."""
    label_path = Path(label_path)
    by_frame: dict[int, list[LabelEntry]] = {}
    for n, text in enumerate(label_file_text(label_path).splitlines(), 1):
        if not text.strip():
            continue
        try:
            line = parse_kitti_label_line(text, label_path, n, tracking=True)
            if line.frame < 0:
                raise LabelError(label_path, f"frame number must be >= 0, got {line.frame}", where=f"line {n}")
        except LabelError as e:
            if problems is None:
                raise
            problems.append(e)
            continue
        by_frame.setdefault(line.frame, []).append(LabelEntry(line, n))
    return by_frame


def tracking_cuboids(entries: list[LabelEntry], T_velo_rect: np.ndarray, label_path: Path,
                     problems: list[LabelError] | None = None) -> list[CuboidLabel]:
    """The objects of label lines ``entries`` as cuboids in the Velodyne frame: DontCare skipped,
    ``Person`` marked sitting, track ID -1 as no track. A box that cannot be made (a size not above
    0) raises LabelError naming the line; with ``problems`` it is left out and its error kept there."""
    out = []
    for e in entries:
        if e.line.type == "DontCare":
            continue
        try:
            lab = label_from_kitti(e.line, T_velo_rect, label_path, e.lineno, truncation=LEVEL)
        except LabelError as err:
            if problems is None:
                raise
            problems.append(err)
            continue
        if e.line.type == SITTING_TYPE:   # KITTI tracking's name for KITTI object's Person_sitting
            lab = lab.with_(attributes={**lab.attributes, "pose": "sitting"})
        out.append(lab.with_(track_id=None) if e.line.track_id is not None and e.line.track_id < 0 else lab)
    return out


def read_tracking_labels(label_path: str | Path, calib: KittiCalib) -> dict[int, list[CuboidLabel]]:
    """Labels of a ``label_02/<seq>.txt`` file in the Velodyne frame, by frame number (frames without
    a line are absent); DontCare regions skipped, track IDs as strings."""
    label_path = Path(label_path)
    T = calib.T_velo_rect
    return {n: tracking_cuboids(entries, T, label_path) for n, entries in label_entries(label_path).items()}


# ------------------------------------------------------------------------------------ the drive
def open_kitti_tracking(path: str | Path, sequence: str | int | None = None,
                        image_size: tuple[int, int] | None = None) -> KittiTrackingDrive:
    """Open one sequence of a KITTI tracking folder as a drive (see the module docstring).

    ``image_size`` (width, height) is ``image_2``'s size when ``image_02/<seq>/`` holds no image;
    when it does, the images' size must equal it (DriveError otherwise).

    Calibration, the label file and the oxts file are read here, so a missing calibration, a label
    for a frame without a sweep or a malformed oxts line fail at once; sweeps, images and the
    conversion of labels to cuboids wait for first use.
    """
    root = find_tracking_root(path)
    if root is None:
        raise DriveError(path, "not a KITTI tracking folder: expected velodyne/<seq>/ (or training/velodyne/<seq>/)")
    sequences = tracking_sequences(root)
    seq = pick_sequence(root, sequences, sequence)

    numbered: dict[int, Path] = {}
    for sweep in (root / "velodyne" / seq).glob("*.bin"):
        if not sweep.stem.isdigit():
            raise DriveError(sweep, "expected a sweep named by its frame number, like 000000.bin")
        numbered[int(sweep.stem)] = sweep
    if not numbered:
        raise DriveError(root / "velodyne" / seq, "no .bin sweeps found")
    numbers = sorted(numbered)

    calib_path = root / "calib" / f"{seq}.txt"
    calib = read_kitti_calib(calib_path)
    # Images per camera and frame, where present (a frame may have none): the camera's size comes
    # from its first frame that has an image; a camera folder without any image is no camera.
    images: dict[int, dict[int, Path]] = {}
    for c in sorted(int(p.name[-2:]) for p in root.glob("image_0[0-3]") if (p / seq).is_dir()):
        found = {n: path for n in numbers
                 if (path := root / f"image_{c:02d}" / seq / f"{numbered[n].stem}.png").is_file()}
        if found:
            images[c] = found
    sizes = {c: image_file_size(found[min(found)]) for c, found in images.items()}
    notes = []
    if image_size is not None:
        if 2 in sizes and sizes[2] != image_size:
            raise DriveError(images[2][min(images[2])], f"camera image_2's image is {sizes[2][0]}x{sizes[2][1]} px but "
                                                        f"--image-size says {image_size[0]}x{image_size[1]}",
                             where="--image-size")
        if 2 not in sizes:
            sizes[2] = image_size
            notes.append(f"image_02/{seq}/ has no images: camera image_2 is {image_size[0]}x{image_size[1]} px "
                         "as --image-size says")
    rig = rig_from_kitti_calib(calib, sizes, f"kitti-tracking-{seq}")

    label_path = root / "label_02" / f"{seq}.txt"
    by_frame = label_entries(label_path) if label_path.is_file() else {}
    for n, entries in sorted(by_frame.items()):
        if n not in numbered:
            raise LabelError(label_path, f"frame {n} has no sweep velodyne/{seq}/{n:06d}.bin (the sequence has "
                                         f"{len(numbers)} sweeps, frames {numbers[0]}-{numbers[-1]})",
                             where=f"line {entries[0].lineno}")

    T_world_lidar = tracking_poses(root, seq, calib, numbers[-1], f"velodyne/{seq}/", notes)

    T_velo_rect = calib.T_velo_rect
    frames = []
    for n in numbers:
        fid = numbered[n].stem
        frames.append(Frame(
            frame_id=fid, lidar_path=numbered[n],
            image_paths={f"image_{c}": found[n] for c, found in images.items() if n in found},
            timestamp_us=n * FRAME_PERIOD_US, T_world_vehicle=T_world_lidar[n],
            labels_source=_labels_loader(by_frame.get(n, []), T_velo_rect, label_path)))
    drive = KittiTrackingDrive(tracking_drive_name(root, seq), root, rig, frames)
    drive.sequence, drive.sequences = seq, sequences
    drive.has_poses, drive.notes = (root / "oxts" / f"{seq}.txt").is_file(), notes
    return drive


def tracking_drive_name(root: Path, seq: str) -> str:
    """The name of sequence ``seq`` of the folder ``root``: ``<parent>/<root>/<seq>``."""
    here = root.resolve()
    return "/".join(part for part in (here.parent.name, here.name, seq) if part)   # no leading "/" at /


def no_camera_reason(drive, sweeps: bool = True) -> str | None:
    """Why the KITTI tracking sequence ``drive`` has no camera although ``calib/<seq>.txt`` gives
    image_2's projection: no image in ``image_02/<seq>/`` gives its size, which is never guessed
    (and, ``sweeps`` False, a labels-only folder: no sweep either). None for another drive or one
    with a camera."""
    if not isinstance(drive, KittiTrackingDrive):
        return None
    try:
        if drive.rig(0).camera_names:
            return None
    except (KeyError, ValueError, IndexError):    # a sequence of no frame
        pass
    seq = drive.sequence
    if not sweeps:
        return (f"labels and calibration only: no image in image_02/{seq}/ gives calib/{seq}.txt's camera image_2 "
                f"its size, which is never guessed, and no sweep in velodyne/{seq}/ could be projected into it; "
                f"calib/{seq}.txt only places the label boxes")
    return (f"image_02/{seq}/ holds no images to give calib/{seq}.txt's camera image_2 its size, which is never "
            "guessed, so the points cannot be projected into it")


def _labels_loader(entries: list[LabelEntry], T_velo_rect: np.ndarray, label_path: Path):
    return lambda: tracking_cuboids(entries, T_velo_rect, label_path)
