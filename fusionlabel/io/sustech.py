"""Generic folder import for SUSTechPOINTS-style rigs (per-camera 4x4 extrinsic, JSON labels).

Layout (``aux_camera/`` and ``lidar_pose/`` optional)::

    SCENE/
      lidar/<frame>.pcd                      sweeps in the LiDAR frame (any readable point format)
      camera/<camera>/<frame>.jpg            images (a frame may lack them)
      calib/camera/<camera>.json             {"extrinsic": 16 numbers, LiDAR -> camera, row-major,
                                              "intrinsic": 9 numbers (3x3) [, "distortion": k1 k2 p1 p2 [k3 …]]}
      label/<frame>.json                     [{"psr": {"position", "scale", "rotation"}, "obj_type", "obj_id"}, …]
                                             (or {"objs": [...]})
      lidar_pose/<frame>.json                {"lidarPose": 16 numbers, LiDAR -> world} (gives T_world_lidar)

The LiDAR stands in for the vehicle frame (``Rig.vehicle_frame`` is False: the folder does not
say how the LiDAR is mounted). ``psr.position`` is the box centre, ``scale`` = (length, width,
height) and ``rotation`` = (x, y, z) Euler angles composed as R = Rx(x) Ry(y) Rz(z) (three.js
order "XYZ"), converted here to the cuboid's yaw, pitch, roll. Label keys other than psr, obj_type
and obj_id are kept in ``CuboidLabel.attributes``. Frames are 10 Hz by default: the timestamp is
the numeric frame name times 100 ms when the folder gives no times.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CalibrationError, DriveError, FusionLabelError, LabelError
from ..geometry.cameras import camera_from_params
from ..geometry.cuboid import Cuboid
from ..geometry.transforms import euler_from_rotation, invert_T, rotation_error
from ..model.annotation import CuboidLabel
from ..model.drive import Drive, Frame
from ..model.rig import CameraSensor, LidarSensor, Rig
from .jsonfile import read_json

LIDAR = "lidar"
CAMERA_DIRS = ("camera", "aux_camera")
IMAGE_EXTS = (".jpg", ".jpeg", ".png")
FRAME_PERIOD_US = 100_000
ROTATION_TOLERANCE = 1e-5


def is_sustech_folder(path: str | Path) -> bool:
    """True for a folder with ``lidar/`` and ``calib/camera/`` or ``label/``."""
    path = Path(path)
    return (path / "lidar").is_dir() and ((path / "calib" / "camera").is_dir() or (path / "label").is_dir())


def _rotation_xyz(rx: float, ry: float, rz: float) -> np.ndarray:
    """R = Rx(rx) @ Ry(ry) @ Rz(rz), shape (3, 3)."""
    cx, sx, cy, sy, cz, sz = math.cos(rx), math.sin(rx), math.cos(ry), math.sin(ry), math.cos(rz), math.sin(rz)
    Rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    Ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    Rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return Rx @ Ry @ Rz


def cuboid_from_psr(psr: Any, path: Path, where: str) -> Cuboid:
    """A SUSTech ``psr`` object as a :class:`Cuboid`; LabelError names the key on bad input."""
    def vec(key: str) -> list[float]:
        v = psr.get(key) if isinstance(psr, dict) else None
        if not isinstance(v, dict) or not all(k in v for k in "xyz"):
            raise LabelError(path, f"expected {{x, y, z}}, got {str(v)[:60]}", where=f"{where}.{key}")
        out = []
        for k in "xyz":
            val = v[k]
            if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val):
                raise LabelError(path, f"expected a finite number, got {val!r}", where=f"{where}.{key}.{k}")
            out.append(float(val))
        return out

    position, scale, rotation = vec("position"), vec("scale"), vec("rotation")
    if min(scale) <= 0:
        raise LabelError(path, f"scale must be positive, got {scale}", where=f"{where}.scale")
    roll, pitch, yaw = euler_from_rotation(_rotation_xyz(*rotation))
    return Cuboid(position, scale, yaw, pitch, roll)


def read_sustech_labels(path: str | Path) -> list[CuboidLabel]:
    """Labels of one frame; errors name the file and the JSON key (``[3].psr.scale``)."""
    path = Path(path)
    doc = read_json(path, "label file")
    prefix = ""
    if isinstance(doc, dict) and isinstance(doc.get("objs"), list):
        doc, prefix = doc["objs"], "objs"
    if not isinstance(doc, list):
        raise LabelError(path, f"expected a list of objects (or {{\"objs\": [...]}}), got {type(doc).__name__}",
                         where="(document)")
    out = []
    for i, obj in enumerate(doc):
        where = f"{prefix}[{i}]"
        if not isinstance(obj, dict):
            raise LabelError(path, f"expected an object, got {type(obj).__name__}", where=where)
        if "psr" not in obj:
            raise LabelError(path, "missing required key", where=f"{where}.psr")
        kind = obj.get("obj_type")
        if not isinstance(kind, str) or not kind:
            raise LabelError(path, f"expected a non-empty string, got {kind!r}", where=f"{where}.obj_type")
        box = cuboid_from_psr(obj["psr"], path, f"{where}.psr")
        track = obj.get("obj_id")
        if track is not None and (isinstance(track, bool) or not isinstance(track, (str, int, float))):
            raise LabelError(path, f"expected a track id (a string or a number), got {track!r}", where=f"{where}.obj_id")
        track = None if track in (None, "") else str(track)
        attributes = {k: v for k, v in obj.items() if k not in ("psr", "obj_type", "obj_id")}
        out.append(CuboidLabel(box, kind, track, None, "import", attributes))
    return out


def _matrix(path: Path, data: dict, key: str, n: int) -> np.ndarray:
    v = data.get(key)
    try:
        m = np.asarray(v, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        m = np.empty(0)
    if m.size != n * n:
        raise CalibrationError(path, f"expected {n * n} numbers ({n}x{n}, row-major), got {str(v)[:60]}", where=key)
    if not np.all(np.isfinite(m)):
        raise CalibrationError(path, "contains NaN or inf", where=key)
    return m.reshape(n, n)


def _read_json(path: Path, error=CalibrationError) -> dict:
    data = read_json(path, "file", error)
    if not isinstance(data, dict):
        raise error(path, f"expected a JSON object, got {type(data).__name__}", where="(document)")
    return data


def read_camera_calib(path: Path, name: str, image_size: tuple[int, int]) -> CameraSensor:
    """One ``calib/camera/<name>.json`` as a camera whose frame is the LiDAR (= vehicle) frame's child."""
    data = _read_json(path)
    T_cam_lidar = _matrix(path, data, "extrinsic", 4)
    K = _matrix(path, data, "intrinsic", 3)
    if not np.allclose(T_cam_lidar[3], [0, 0, 0, 1]):
        raise CalibrationError(path, f"last row must be 0 0 0 1, got {T_cam_lidar[3].tolist()}", where="extrinsic")
    err = rotation_error(T_cam_lidar[:3, :3])
    if err > ROTATION_TOLERANCE:
        raise CalibrationError(path, f"rotation part is not a rotation (error {err:.2e} > {ROTATION_TOLERANCE:g})",
                               where="extrinsic")
    dist = data.get("distortion") or []
    model = "radtan" if any(dist) else "pinhole"
    try:
        camera = camera_from_params(model, image_size[0], image_size[1], K[0, 0], K[1, 1], K[0, 2], K[1, 2],
                                    dist if model == "radtan" else ())
    except ValueError as e:
        raise CalibrationError(path, str(e), where="intrinsic") from None
    return CameraSensor(name, camera, invert_T(T_cam_lidar), source=(path, ""))


def _camera_size(images) -> tuple[int, int]:
    """(width, height) of a camera from its first image whose header reads (SUSTech calibrations do
    not hold the size), so that one broken image is that frame's problem, not the drive's; the
    first image's error when none reads."""
    from .images import image_size

    first = None
    for path in images:
        try:
            return image_size(path)
        except FusionLabelError as e:
            first = first or e
    raise first


def open_sustech(path: str | Path, name: str | None = None) -> Drive:
    """Open a SUSTech-style folder as a drive (see the module docstring for the layout)."""

    root = Path(path)
    if not is_sustech_folder(root):
        raise DriveError(root, "not a SUSTech-style folder: expected lidar/ and calib/camera/ or label/")
    sweeps = sorted(p for p in (root / "lidar").iterdir() if p.is_file() and not p.name.startswith("."))
    if not sweeps:
        raise DriveError(root / "lidar", "no sweeps found")
    frame_ids = [p.name.split(".")[0] for p in sweeps]
    if len(set(frame_ids)) != len(frame_ids):
        raise DriveError(root / "lidar", "two sweeps share a frame name (file name before the first '.')")
    sensors: dict = {LIDAR: LidarSensor(LIDAR, np.eye(4))}
    images_of: dict[str, dict[str, Path]] = {}
    for cam_dir in CAMERA_DIRS:
        calib_dir = root / "calib" / cam_dir
        if not calib_dir.is_dir():
            continue
        for calib in sorted(calib_dir.glob("*.json")):
            cam = calib.stem if cam_dir == "camera" else f"aux_{calib.stem}"
            folder = root / cam_dir / calib.stem
            files = {p.stem: p for p in sorted(folder.glob("*")) if p.suffix.lower() in IMAGE_EXTS} \
                if folder.is_dir() else {}
            if not files:
                continue  # a calibrated camera without images adds nothing to look at
            sensors[cam] = read_camera_calib(calib, cam, _camera_size(files.values()))
            images_of[cam] = files
    numeric = all(f.isdigit() for f in frame_ids)
    frames = []
    for k, (fid, sweep) in enumerate(zip(frame_ids, sweeps)):
        label = root / "label" / f"{fid}.json"
        pose_file = root / "lidar_pose" / f"{fid}.json"
        T_world_lidar = np.eye(4)
        if pose_file.is_file():
            T_world_lidar = _matrix(pose_file, _read_json(pose_file, DriveError), "lidarPose", 4)
        frames.append(Frame(
            frame_id=fid, lidar_path=sweep,
            image_paths={cam: files[fid] for cam, files in images_of.items() if fid in files},
            timestamp_us=(int(fid) if numeric else k) * FRAME_PERIOD_US,
            T_world_vehicle=T_world_lidar,
            labels_source=(lambda p=label: read_sustech_labels(p)) if label.is_file() else None))
    rig = Rig(name or root.name, sensors, LIDAR, vehicle_frame=False)
    return Drive(name or root.name, root, rig, frames)
