"""The nuScenes records a drive came from, as a native drive keeps them (drive.yaml key ``nuscenes``).

A drive imported from nuScenes keeps its scene (token, name, description), its log (token,
logfile, vehicle, location, date_captured), its map record (token, category, filename), the
instance token of each short track id (``instances``), its sensor, calibrated_sensor, category
and attribute records (``tables``) and, per frame, the tokens of its sample, its LIDAR_TOP
sample_data and each camera's sample_data and the quaternion and token of each of their ego poses
(``ego_rotations``, ``ego_poses``), so that a nuScenes export of the native
copy (or of a project on it) writes the same tokens and scene name as an export straight from the
dataroot. Drives without them (older imports, other sources) load as before; see
docs/native_format.md.
"""

from __future__ import annotations

from typing import Callable

from ..files import unknown_key, yaml_key_text
from .finite_numbers import numbers_problem

SCENE_FIELDS = ("token", "name", "description")
LOG_FIELDS = ("token", "logfile", "vehicle", "location", "date_captured")
MAP_FIELDS = ("token", "category", "filename")
TOKEN_FIELDS = {"token"}     # must be non-empty; the other fields may be empty strings
TOP_KEYS = ("scene", "log", "map", "instances", "tables")
FRAME_KEYS = ("sample", "lidar", "cameras", "ego_rotations", "ego_poses")
TABLE_KEYS = ("sensors", "calibrated_sensors", "categories", "attributes")
CALIBRATION_FIELDS = ("token", "channel", "translation", "rotation", "camera_intrinsic")


def _known_keys(value: dict, allowed: tuple[str, ...], where: str, fail: Callable[[str, str], None]) -> None:
    unknown = unknown_key(value, allowed)
    if unknown:
        fail(f"{where}.{unknown[0]}", unknown[1])


def index_records(drive) -> tuple[dict | None, list[dict | None]]:
    """(drive.yaml's top-level ``nuscenes`` mapping, each frame's ``nuscenes`` entry) for a drive
    that carries nuScenes records (``scene``, ``log``, ``tokens``, optionally ``nuscenes_map`` and
    ``instance_tokens``: a :class:`~fusionlabel.io.nuscenes.NuScenesDrive` or a native drive read
    with them);
    (None, [None, ...]) for any other drive."""
    scene, log, tokens = getattr(drive, "scene", None), getattr(drive, "log", None), getattr(drive, "tokens", None)
    if not (isinstance(scene, dict) and isinstance(log, dict) and tokens):
        return None, [None] * len(drive.frames)
    top: dict = {"scene": {k: scene[k] for k in SCENE_FIELDS if k in scene},
                 "log": {k: log[k] for k in LOG_FIELDS if k in log}}
    found = getattr(drive, "nuscenes_map", None)
    if isinstance(found, dict):
        top["map"] = {k: found[k] for k in MAP_FIELDS if k in found}
    instances = getattr(drive, "instance_tokens", None)
    if instances:
        top["instances"] = dict(instances)
    tables = getattr(drive, "nuscenes_tables", None)
    if tables:
        top["tables"] = tables
    frames = []
    for t in tokens:
        if t is None:
            frames.append(None)
            continue
        entry = {"sample": t.sample} if t.sample else {}
        entry["lidar"] = t.lidar
        if t.cameras:
            entry["cameras"] = dict(t.cameras)
        if t.ego_rotations:
            entry["ego_rotations"] = {ch: [float(v) for v in q] for ch, q in t.ego_rotations.items()}
        if t.ego_poses:
            entry["ego_poses"] = dict(t.ego_poses)
        frames.append(entry)
    return top, frames


def _record(value, fields: tuple[str, ...], where: str, fail: Callable[[str, str], None]) -> dict:
    if not isinstance(value, dict):
        fail(where, f"expected a mapping with keys {', '.join(fields)}, got {type(value).__name__}")
    _known_keys(value, fields, where, fail)
    out = {}
    for key in fields:
        if key not in value:
            if key in TOKEN_FIELDS:
                fail(f"{where}.{key}", "missing required key")
            continue
        v = value[key]
        if not isinstance(v, str) or (key in TOKEN_FIELDS and not v):
            fail(f"{where}.{key}", f"expected a {'non-empty ' if key in TOKEN_FIELDS else ''}string, got {v!r}")
        out[key] = v
    return out


def _token(value, where: str, fail: Callable[[str, str], None]) -> str:
    if not isinstance(value, str) or not value:
        fail(where, f"expected a nuScenes token (a non-empty string), got {value!r}")
    return value


def _instances(value, fail: Callable[[str, str], None]) -> dict[str, str]:
    """``nuscenes.instances`` (track id -> instance token), checked: string keys, distinct tokens."""
    where = "nuscenes.instances"
    if not isinstance(value, dict):
        fail(where, f"expected a mapping track id -> instance token, got {type(value).__name__}")
    owner: dict[str, str] = {}
    for track, token in value.items():
        if not isinstance(track, str):
            fail(f"{where}.{yaml_key_text(track)}", f"track ids are strings; quote it: \"{yaml_key_text(track)}\"")
        _token(token, f"{where}.{track}", fail)
        if token in owner:
            fail(f"{where}.{track}", f"instance token {token} is also track {owner[token]}'s; a track is one instance")
        owner[token] = track
    return dict(value)


def source_tables(nusc, calibrations: set[str]) -> dict:
    """The records of a loaded nuScenes version a re-export writes again, as drive.yaml's
    ``nuscenes.tables`` keeps them: ``sensors`` (channel -> token), ``calibrated_sensors`` (token,
    channel, translation, rotation, camera_intrinsic) of the tokens in ``calibrations`` (the
    scene's: a full version has thousands), ``categories`` and ``attributes`` (name -> token,
    description)."""
    channel_of = {r["token"]: r["channel"] for r in nusc.sensor}
    return {"sensors": {r["channel"]: r["token"] for r in nusc.sensor},
            "calibrated_sensors": [{"token": r["token"], "channel": channel_of.get(r["sensor_token"], ""),
                                    "translation": list(r["translation"]), "rotation": list(r["rotation"]),
                                    "camera_intrinsic": list(r["camera_intrinsic"])}
                                   for r in nusc.calibrated_sensor if r["token"] in calibrations],
            "categories": {r["name"]: {"token": r["token"], "description": r.get("description", "")}
                           for r in nusc.category},
            "attributes": {r["name"]: {"token": r["token"], "description": r.get("description", "")}
                           for r in nusc.attribute}}


def _numbers(value, n: int, where: str, fail: Callable[[str, str], None]) -> list[float]:
    if (problem := numbers_problem(value, n)) is not None:
        fail(where, problem)
    return [float(v) for v in value]


def _named(value, where: str, fail: Callable[[str, str], None]) -> dict[str, dict]:
    """``categories`` / ``attributes``: name -> {token, description}."""
    if not isinstance(value, dict):
        fail(where, f"expected a mapping name -> {{token, description}}, got {type(value).__name__}")
    return {name: _record(rec, ("token", "description"), f"{where}.{name}", fail) for name, rec in value.items()}


def _tables(value, fail: Callable[[str, str], None]) -> dict:
    """``nuscenes.tables`` (see :func:`source_tables`), checked."""
    where = "nuscenes.tables"
    if not isinstance(value, dict):
        fail(where, f"expected a mapping with keys {', '.join(TABLE_KEYS)}, got {type(value).__name__}")
    _known_keys(value, TABLE_KEYS, where, fail)
    sensors = value.get("sensors", {})
    if not isinstance(sensors, dict):
        fail(f"{where}.sensors", f"expected a mapping channel -> sensor token, got {type(sensors).__name__}")
    out: dict = {"sensors": {ch: _token(t, f"{where}.sensors.{ch}", fail) for ch, t in sensors.items()}}
    calibrations = value.get("calibrated_sensors", [])
    if not isinstance(calibrations, list):
        fail(f"{where}.calibrated_sensors", f"expected a list of records, got {type(calibrations).__name__}")
    out["calibrated_sensors"] = []
    for k, rec in enumerate(calibrations):
        at = f"{where}.calibrated_sensors[{k}]"
        if not isinstance(rec, dict):
            fail(at, f"expected a mapping with keys {', '.join(CALIBRATION_FIELDS)}, got {type(rec).__name__}")
        _known_keys(rec, CALIBRATION_FIELDS, at, fail)
        K = rec.get("camera_intrinsic", [])
        if not (isinstance(K, list) and len(K) in (0, 3)):
            fail(f"{at}.camera_intrinsic", f"expected [] or a 3x3 matrix, got {K!r}")
        out["calibrated_sensors"].append({
            "token": _token(rec.get("token"), f"{at}.token", fail),
            "channel": _token(rec.get("channel"), f"{at}.channel", fail),
            "translation": _numbers(rec.get("translation"), 3, f"{at}.translation", fail),
            "rotation": _numbers(rec.get("rotation"), 4, f"{at}.rotation", fail),
            "camera_intrinsic": [_numbers(row, 3, f"{at}.camera_intrinsic", fail) for row in K]})
    for key in ("categories", "attributes"):
        out[key] = _named(value.get(key, {}), f"{where}.{key}", fail)
    return out


def _ego_poses(value, where: str, cameras: list[str], fail: Callable[[str, str], None]) -> dict[str, str]:
    """A frame's ``ego_poses`` (LIDAR_TOP or a rig camera -> the source's ego_pose token), checked."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        fail(where, f"expected a mapping channel -> ego_pose token, got {type(value).__name__}")
    for channel, token in value.items():
        if channel != "LIDAR_TOP" and channel not in cameras:
            fail(f"{where}.{yaml_key_text(channel)}", f"expected LIDAR_TOP or a camera of the rig "
                 f"({', '.join(cameras)}), got {channel!r}")
        _token(token, f"{where}.{channel}", fail)
    return dict(value)


def attach_records(drive, top, frame_entries: list, cameras: list[str], fail: Callable[[str, str], None]) -> None:
    """Check drive.yaml's ``nuscenes`` mapping (``top``) and the frames' entries and set
    ``drive.scene``, ``drive.log``, ``drive.nuscenes_map``, ``drive.instance_tokens`` (track id ->
    instance token; empty for drives imported before it was kept), ``drive.nuscenes_tables`` (see
    :func:`source_tables`; empty when not kept) and ``drive.tokens`` (one
    :class:`~fusionlabel.io.nuscenes.FrameTokens` or None per frame) from them; nothing when
    ``top`` is None. ``fail(where, problem)`` raises the error naming drive.yaml and the key."""
    from .nuscenes import FrameTokens

    if top is None:
        return
    if not isinstance(top, dict):
        fail("nuscenes", f"expected a mapping with keys scene, log (and map, instances), got {type(top).__name__}")
    _known_keys(top, TOP_KEYS, "nuscenes", fail)
    for key in ("scene", "log"):
        if key not in top:
            fail(f"nuscenes.{key}", "missing required key")
    drive.scene = _record(top["scene"], SCENE_FIELDS, "nuscenes.scene", fail)
    drive.log = _record(top["log"], LOG_FIELDS, "nuscenes.log", fail)
    drive.nuscenes_map = _record(top["map"], MAP_FIELDS, "nuscenes.map", fail) if "map" in top else None
    drive.instance_tokens = _instances(top["instances"], fail) if "instances" in top else {}
    drive.nuscenes_tables = _tables(top["tables"], fail) if "tables" in top else {}
    tokens: list = []
    for i, entry in enumerate(frame_entries):
        where = f"frames[{i}].nuscenes"
        if entry is None:
            tokens.append(None)
            continue
        if not isinstance(entry, dict):
            fail(where, f"expected a mapping with keys sample, lidar, cameras, got {type(entry).__name__}")
        _known_keys(entry, FRAME_KEYS, where, fail)
        if "lidar" not in entry:
            fail(f"{where}.lidar", "missing required key")
        sample = _token(entry["sample"], f"{where}.sample", fail) if entry.get("sample") is not None else None
        cams = entry.get("cameras") or {}
        if not isinstance(cams, dict):
            fail(f"{where}.cameras", f"expected a mapping camera -> sample_data token, got {type(cams).__name__}")
        for cam, token in cams.items():
            if cam not in cameras:
                fail(f"{where}.cameras.{cam}", f"camera '{cam}' is not in the rig (cameras: {', '.join(cameras)})")
            _token(token, f"{where}.cameras.{cam}", fail)
        rotations = entry.get("ego_rotations") or {}
        if not isinstance(rotations, dict):
            fail(f"{where}.ego_rotations", f"expected a mapping channel -> quaternion, got {type(rotations).__name__}")
        rotations = {ch: _numbers(q, 4, f"{where}.ego_rotations.{ch}", fail) for ch, q in rotations.items()}
        tokens.append(FrameTokens(sample, _token(entry["lidar"], f"{where}.lidar", fail), dict(cams), rotations,
                                  _ego_poses(entry.get("ego_poses"), f"{where}.ego_poses", cameras, fail)))
    drive.tokens = tokens
