"""Read and write rigs in the fusionlabel YAML format (documented in calib/README.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..errors import CalibrationError
from ..geometry.cameras import MODEL_ALIASES, calibrated_image_size, camera_from_params
from ..geometry.transforms import (
    T_from_Rt,
    rotation_from_euler,
    rotation_from_quaternion,
    rotation_problem,
    snap_rotation,
)
from ..model.rig import CameraSensor, LidarSensor, Rig
from ..files import parse_yaml, read_text, unknown_key, yaml_key_text

FORMAT = "fusionlabel-rig/1"
VEHICLE = "vehicle"
MODELS = {"pinhole": 0, "radtan": (4, 5, 8), "fisheye": (4,)}
DISTORTION_ORDER = {"radtan": "[k1, k2, p1, p2], [k1, k2, p1, p2, k3] or [k1, k2, p1, p2, k3, k4, k5, k6]",
                    "fisheye": "[k1, k2, k3, k4]"}
MAX_TRANSLATION_M = 100.0   # a sensor farther than this from its parent is a unit mistake (mm for m)
# The keys each level may hold; anything else (a typo such as ``distorsion``) is refused.
TOP_KEYS = ("format", "name", "reference_lidar", "vehicle_frame", "sensors")
LIDAR_KEYS = ("type", "extrinsic")
CAMERA_KEYS = ("type", "extrinsic", "model", "resolution", "intrinsics", "distortion", "rectified")
RECTIFIED_KEYS = ("translation",)
EXTRINSIC_KEYS = ("parent", "translation", "rotation")
ROTATION_KEYS = ("quaternion", "matrix", "rpy_deg")
INTRINSIC_KEYS = ("fx", "fy", "cx", "cy")


class _Reader:
    """Validating accessors that name the file and the key path of every problem."""

    def __init__(self, path: Path | None):
        self.path = path

    def fail(self, key: str, problem: str):
        raise CalibrationError(self.path, problem, where=key)

    def mapping(self, value: Any, key: str, allowed: tuple[str, ...] | None = None) -> dict:
        if not isinstance(value, dict):
            keys = f" with keys {', '.join(allowed)}" if allowed else ""
            self.fail(key, f"expected a mapping{keys}, got {type(value).__name__}")
        unknown = unknown_key(value, allowed) if allowed is not None else None
        if unknown:
            self.fail(f"{key}.{unknown[0]}" if key else unknown[0], unknown[1])
        return value

    def get(self, d: dict, name: str, key: str):
        if name not in d:
            self.fail(f"{key}.{name}" if key else name, "missing required key")
        return d[name]

    def number(self, value: Any, key: str, positive: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
            self.fail(key, f"expected a finite number, got {value!r}")
        if positive and value <= 0:
            self.fail(key, f"must be positive, got {value!r}")
        return float(value)

    def vector(self, value: Any, key: str, length: int | tuple[int, ...]) -> np.ndarray:
        lengths = (length,) if isinstance(length, int) else length
        if not isinstance(value, (list, tuple)) or len(value) not in lengths:
            want = " or ".join(str(n) for n in lengths)
            self.fail(key, f"expected a list of {want} numbers, got {value!r}")
        return np.array([self.number(v, f"{key}[{i}]") for i, v in enumerate(value)])

    def matrix(self, value: Any, key: str, rows: int, cols: int) -> np.ndarray:
        if not isinstance(value, (list, tuple)) or len(value) != rows:
            self.fail(key, f"expected {rows} rows of {cols} numbers, got {value!r}")
        return np.stack([self.vector(r, f"{key}[{i}]", cols) for i, r in enumerate(value)])


def _rotation(r: _Reader, spec: Any, key: str, as_written: bool = False) -> np.ndarray:
    """The rotation of an extrinsic; a matrix is made exact (:func:`snap_rotation`) unless
    ``as_written`` (a rectified camera's: its dataset's printed calibration, used as it is)."""
    spec = r.mapping(spec, key, ROTATION_KEYS)
    kinds = [k for k in ROTATION_KEYS if k in spec]
    if len(kinds) != 1:
        r.fail(key, f"give exactly one of quaternion [w, x, y, z], matrix (3x3) or rpy_deg [roll, pitch, yaw]; got {sorted(spec)}")
    kind = kinds[0]
    if kind == "quaternion":
        q = r.vector(spec[kind], f"{key}.quaternion", 4)
        if abs(np.linalg.norm(q) - 1.0) > 1e-4:
            r.fail(f"{key}.quaternion", f"must have unit norm, got norm {np.linalg.norm(q):.6f}")
        return rotation_from_quaternion(q)
    if kind == "rpy_deg":
        roll, pitch, yaw = np.radians(r.vector(spec[kind], f"{key}.rpy_deg", 3))
        return rotation_from_euler(roll, pitch, yaw)
    _refuse_transform(r, spec[kind], f"{key}.matrix")
    R = r.matrix(spec[kind], f"{key}.matrix", 3, 3)
    problem = rotation_problem(R, "write at least 6 significant digits, or give a quaternion")
    if problem:
        r.fail(f"{key}.matrix", problem)
    return R if as_written else snap_rotation(R)


def _refuse_transform(r: _Reader, value: Any, key: str) -> None:
    """Refuse a 3x4 or 4x4 transform written as the rotation matrix, saying where its parts go."""
    rows = value if isinstance(value, (list, tuple)) else []
    if len(rows) in (12, 16) and all(isinstance(v, (int, float)) for v in rows):   # flat, row by row
        rows = [list(rows[i:i + 4]) for i in range(0, len(rows), 4)]
    if len(rows) not in (3, 4) or not all(isinstance(row, (list, tuple)) and len(row) == 4 for row in rows):
        return
    t = [row[3] for row in rows[:3]]
    r.fail(key, f"expected 3 rows of 3 numbers, got a {len(rows)}x4 transform: write T_parent_sensor (a "
                f"LiDAR->camera calibration inverted first, calib/README.md) as two keys, its upper-left 3x3 as "
                f"rotation: {{matrix: ...}} and its last column {t} as translation")


def _translation(r: _Reader, spec: dict, key: str, origin: str) -> np.ndarray:
    """``spec``'s required ``translation`` [x, y, z] in metres, at most :data:`MAX_TRANSLATION_M` long."""
    t = r.vector(r.get(spec, "translation", key), f"{key}.translation", 3)
    if np.linalg.norm(t) > MAX_TRANSLATION_M:
        r.fail(f"{key}.translation", f"the sensor would be {np.linalg.norm(t):g} m from {origin} "
                                     f"(more than {MAX_TRANSLATION_M:g} m); translations are metres, "
                                     f"were millimetres or centimetres written?")
    return t


def _extrinsic(r: _Reader, spec: Any, key: str, as_written: bool = False) -> tuple[str, np.ndarray]:
    spec = r.mapping(spec, key, EXTRINSIC_KEYS)
    parent = spec.get("parent", VEHICLE)
    if not isinstance(parent, str):
        r.fail(f"{key}.parent", f"expected a sensor name or '{VEHICLE}', got {parent!r}")
    t = _translation(r, spec, key, "its parent")
    R = _rotation(r, r.get(spec, "rotation", key), f"{key}.rotation", as_written)
    return parent, T_from_Rt(R, t)


def _rectified(r: _Reader, spec: Any, key: str) -> np.ndarray:
    """``T_rect_cam`` of a rectified camera from its ``rectified`` mapping: a pure translation, the
    camera's position in the rectified frame its labels are written in."""
    if not isinstance(spec, dict):
        r.fail(key, "expected a mapping {translation: [x, y, z]} (the camera's position in the rectified frame "
                    f"its labels are in; [0, 0, 0] for labels in its own frame), got {spec!r}")
    spec = r.mapping(spec, key, RECTIFIED_KEYS)
    return T_from_Rt(np.eye(3), _translation(r, spec, key, "the rectified frame's origin"))


def rig_from_dict(data: Any, path: Path | None = None) -> Rig:
    """Validate a parsed rig document and build the :class:`Rig`; errors name ``path`` and the key."""
    r = _Reader(path)
    if data is None:
        r.fail("(document)", "the file is empty; expected a rig with format, sensors (see calib/README.md)")
    data = r.mapping(data, "(document)")
    unknown = unknown_key(data, TOP_KEYS)
    if unknown:
        r.fail(*unknown)
    fmt = data.get("format")
    if fmt != FORMAT:
        r.fail("format", f"expected '{FORMAT}', got {fmt!r}")
    name = str(data.get("name", path.stem if path else "rig"))
    sensors_spec = r.mapping(r.get(data, "sensors", ""), "sensors")
    if not sensors_spec:
        r.fail("sensors", "the rig defines no sensors")

    parsed: dict[str, dict] = {}
    for sname, spec in sensors_spec.items():
        key = f"sensors.{yaml_key_text(sname)}"
        if not isinstance(sname, str):
            r.fail(key, f"sensor names are strings; quote it: \"{yaml_key_text(sname)}\"")
        if sname == VEHICLE:
            r.fail(key, f"'{VEHICLE}' is reserved for the vehicle frame")
        spec = r.mapping(spec, key)
        kind = r.get(spec, "type", key)
        if kind not in ("lidar", "camera"):
            r.fail(f"{key}.type", f"expected 'lidar' or 'camera', got {kind!r}")
        r.mapping(spec, key, CAMERA_KEYS if kind == "camera" else LIDAR_KEYS)
        rectified = kind == "camera" and "rectified" in spec
        parent, T_parent_sensor = _extrinsic(r, r.get(spec, "extrinsic", key), f"{key}.extrinsic", rectified)
        entry = {"type": kind, "parent": parent, "T_parent_sensor": T_parent_sensor}
        if kind == "camera":
            entry["camera"] = _camera(r, spec, key)
        if rectified:
            entry["T_rect_cam"] = _rectified(r, spec["rectified"], f"{key}.rectified")
        parsed[sname] = entry

    # Resolve extrinsic chains to the vehicle frame; every parent must be defined, no cycles.
    resolved: dict[str, np.ndarray] = {}

    def resolve(sname: str, chain: tuple[str, ...]) -> np.ndarray:
        if sname in resolved:
            return resolved[sname]
        entry = parsed[sname]
        parent = entry["parent"]
        if parent == VEHICLE:
            T = entry["T_parent_sensor"]
        elif parent not in parsed:
            r.fail(f"sensors.{sname}.extrinsic.parent", f"refers to undefined sensor '{parent}' "
                                                        f"(defined: {', '.join(parsed)}, or '{VEHICLE}')")
        elif parent in chain:
            r.fail(f"sensors.{sname}.extrinsic.parent", f"extrinsic chain loops: {' -> '.join(chain + (parent,))}")
        else:
            T = resolve(parent, chain + (parent,)) @ entry["T_parent_sensor"]
        resolved[sname] = T
        return T

    sensors = {}
    for sname, entry in parsed.items():
        T = resolve(sname, (sname,))
        if entry["type"] == "camera":
            sensors[sname] = CameraSensor(sname, entry["camera"], T, T_rect_cam=entry.get("T_rect_cam"),
                                          source=None if path is None else (Path(path), f"sensors.{sname}."))
        else:
            sensors[sname] = LidarSensor(sname, T)

    lidars = [s for s, e in parsed.items() if e["type"] == "lidar"]
    ref = data.get("reference_lidar", lidars[0] if len(lidars) == 1 else None)
    if ref is None:
        r.fail("reference_lidar", f"required when the rig has {len(lidars)} LiDARs (defined: {', '.join(lidars) or 'none'})")
    if ref not in lidars:
        r.fail("reference_lidar", f"refers to '{ref}', which is not a LiDAR of this rig (LiDARs: {', '.join(lidars) or 'none'})")
    vehicle_frame = data.get("vehicle_frame", True)
    if not isinstance(vehicle_frame, bool):
        r.fail("vehicle_frame", f"expected true or false, got {vehicle_frame!r}")
    return Rig(name, sensors, ref, vehicle_frame)


def _camera(r: _Reader, spec: dict, key: str):
    model = r.get(spec, "model", key)
    model = MODEL_ALIASES.get(model, model) if isinstance(model, str) else model   # ROS / Kalibr names
    if not isinstance(model, str) or model not in MODELS:
        aliases = ", ".join(f"{a} ({m})" for a, m in MODEL_ALIASES.items())
        r.fail(f"{key}.model", f"unknown camera model {model!r}; expected one of {', '.join(MODELS)} (also read: "
               f"{aliases}); a Kannala-Brandt lens (k1..k4) is fisheye")
    w, h = r.vector(r.get(spec, "resolution", key), f"{key}.resolution", 2)
    if w <= 0 or h <= 0 or w != int(w) or h != int(h):
        r.fail(f"{key}.resolution", f"expected positive integers [width, height], got {[w, h]}")
    intr = r.get(spec, "intrinsics", key)
    if isinstance(intr, list) and len(intr) == 4:       # Kalibr's [fu, fv, pu, pv]
        r.fail(f"{key}.intrinsics", f"expected a mapping {{fx, fy, cx, cy}}, got the list {intr}; written as "
               f"Kalibr's [fu, fv, pu, pv] it is {{fx: {intr[0]}, fy: {intr[1]}, cx: {intr[2]}, cy: {intr[3]}}}")
    K = _as_K(intr)
    if K is not None:                                    # OpenCV's / SUSTech's 3x3 camera matrix
        r.fail(f"{key}.intrinsics", f"expected a mapping {{fx, fy, cx, cy}}, got the camera matrix K {intr}; "
               f"written as a mapping it is {{fx: {K[0][0]}, fy: {K[1][1]}, cx: {K[0][2]}, cy: {K[1][2]}}}")
    intr = r.mapping(intr, f"{key}.intrinsics", INTRINSIC_KEYS)
    fx = r.number(r.get(intr, "fx", f"{key}.intrinsics"), f"{key}.intrinsics.fx", positive=True)
    fy = r.number(r.get(intr, "fy", f"{key}.intrinsics"), f"{key}.intrinsics.fy", positive=True)
    cx = r.number(r.get(intr, "cx", f"{key}.intrinsics"), f"{key}.intrinsics.cx")
    cy = r.number(r.get(intr, "cy", f"{key}.intrinsics"), f"{key}.intrinsics.cy")
    for name, c, size in (("cx", cx, w), ("cy", cy, h)):
        if not 0.0 <= c <= size:
            fit = calibrated_image_size(cx, cy, int(w), int(h))
            hint = "" if fit is None else (
                f": the intrinsics look like those of a {fit[0]}x{fit[1]} image (its centre is (cx, cy)); "
                f"resolution is [width, height] of the images they were calibrated on")
            r.fail(f"{key}.intrinsics.{name}", f"principal point must lie inside the image [0, {int(size)}], "
                                               f"got {c}{hint}")
    counts = MODELS[model]
    if counts == 0:
        given = spec.get("distortion")
        if given not in (None, [], ()) and (not isinstance(given, (list, tuple)) or any(
                r.number(v, f"{key}.distortion[{i}]") != 0.0 for i, v in enumerate(given))):
            r.fail(f"{key}.distortion", "a pinhole camera takes no distortion coefficients (all zeros or none); "
                                        "use model radtan or fisheye")
        dist = ()
    else:
        if "distortion" not in spec:
            r.fail(f"{key}.distortion", f"missing required key: a {model} camera needs its coefficients, "
                   f"{DISTORTION_ORDER[model]}; a camera without lens distortion is model: pinhole")
        dist = tuple(r.vector(spec["distortion"], f"{key}.distortion", counts))
    return camera_from_params(model, int(w), int(h), fx, fy, cx, cy, dist)


def _as_K(value: Any) -> list | None:
    """``value`` as the rows of a 3x3 camera matrix K (given as 3 rows or 9 numbers), else None."""
    if not isinstance(value, (list, tuple)):
        return None
    if len(value) == 9 and all(isinstance(v, (int, float)) for v in value):
        value = [list(value[0:3]), list(value[3:6]), list(value[6:9])]
    if len(value) != 3 or not all(isinstance(row, (list, tuple)) and len(row) == 3 for row in value):
        return None
    return [list(row) for row in value]


def load_rig(path: str | Path) -> Rig:
    """Read and validate a rig YAML file; raises CalibrationError naming the file and key."""
    path = Path(path)
    text = read_text(path, CalibrationError, "rig file")
    return rig_from_dict(parse_yaml(text, path, CalibrationError), path)


def _pose_dict(T: np.ndarray) -> dict:
    return {
        "parent": VEHICLE,
        "translation": [float(v) for v in T[:3, 3]],
        "rotation": {"matrix": [[float(v) for v in row] for row in T[:3, :3]]},
    }


def rig_to_dict(rig: Rig) -> dict:
    """The YAML-ready document for a rig (extrinsics written as exact matrices to the vehicle)."""
    sensors = {}
    for s in rig.sensors.values():
        pose = _pose_dict(s.T_vehicle_sensor)
        if isinstance(s, CameraSensor):
            c = s.camera
            sensors[s.name] = {
                "type": "camera", "model": c.model, "resolution": [int(c.width), int(c.height)],
                "intrinsics": {"fx": float(c.fx), "fy": float(c.fy), "cx": float(c.cx), "cy": float(c.cy)},
                "distortion": [float(v) for v in c.distortion],
                "extrinsic": pose,
            }
            if s.T_rect_cam is not None:
                sensors[s.name]["rectified"] = {"translation": [float(v) for v in s.T_rect_cam[:3, 3]]}
        else:
            sensors[s.name] = {"type": "lidar", "extrinsic": pose}
    doc = {"format": FORMAT, "name": rig.name, "reference_lidar": rig.reference_lidar}
    if not rig.vehicle_frame:
        doc["vehicle_frame"] = False
    return {**doc, "sensors": sensors}


def save_rig(rig: Rig, path: str | Path) -> None:
    """Write a rig as YAML (round-trips exactly through :func:`load_rig`)."""
    header = "# fusionlabel sensor rig; format described in calib/README.md\n"
    Path(path).write_text(header + yaml.safe_dump(rig_to_dict(rig), sort_keys=False, width=120), encoding="utf-8")
