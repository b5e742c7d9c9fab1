"""nuScenes import: one scene as a :class:`~fusionlabel.model.drive.Drive`, read through nuscenes-devkit.

The drive has one frame per LIDAR_TOP keyframe (``sweeps=True`` adds the non-keyframe sweeps
between them), all six cameras and, per frame, the ego pose at the LiDAR time plus the ego pose at
each camera's own capture time (``Frame.T_world_vehicle_at_camera``), so that
``drive.T_cam_lidar(frame, camera)`` is exactly the devkit's chain LiDAR -> ego@t_lidar -> global
-> ego@t_cam -> camera. Annotations (global frame, centre + ``wlh`` + quaternion) become cuboids in
the frame's LiDAR frame; their nuScenes fields are kept in ``CuboidLabel.attributes`` (with the
source's own box numbers, :mod:`.nuscenes_boxes`).

Track ids are short: the scene's instances are numbered "1", "2", ... in order of their first
keyframe (instance token order within one keyframe), and ``drive.instance_tokens`` maps each
track id back to its 32-hex instance token, which a nuScenes export writes again.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CalibrationError, DriveError, InputError, LabelError
from ..geometry.cameras import camera_from_params
from ..geometry.cuboid import Cuboid
from ..geometry.transforms import T_from_Rt, euler_from_rotation, invert_T, rotation_from_quaternion
from ..model.annotation import CuboidLabel
from ..model.drive import Drive, Frame
from ..model.rig import CameraSensor, LidarSensor, Rig
from .finite_numbers import finite_numbers
from .nuscenes_boxes import SOURCE_BOX, source_box
from .nuscenes_records import source_tables

LIDAR_CHANNEL = "LIDAR_TOP"
TABLES = ("category", "attribute", "visibility", "instance", "sensor", "calibrated_sensor", "ego_pose", "log",
          "scene", "sample", "sample_data", "sample_annotation", "map")


@dataclass
class FrameTokens:
    """nuScenes tokens behind one drive frame (``sample`` is None for a non-keyframe sweep), the
    source's quaternion (w, x, y, z) of each channel's ego pose and each channel's ego_pose token,
    which an export writes again."""

    sample: str | None
    lidar: str
    cameras: dict[str, str] = field(default_factory=dict)
    ego_rotations: dict[str, list[float]] = field(default_factory=dict)
    ego_poses: dict[str, str] = field(default_factory=dict)


class NuScenesDrive(Drive):
    """A drive read from a nuScenes scene; ``tokens[i]`` names the records behind frame ``i``,
    ``instance_tokens`` maps each track id ("1", "2", ...) to its instance token, ``scene``, ``log``
    and ``nuscenes_map`` (the log's map) are the table records, ``nuscenes_tables`` the sensor,
    calibrated_sensor, category and attribute records
    (:func:`~fusionlabel.io.nuscenes_records.source_tables`) and ``nusc`` is the loaded devkit
    instance."""

    dataroot: Path
    version: str
    scene: dict
    log: dict
    nuscenes_map: dict | None
    tokens: list[FrameTokens]
    instance_tokens: dict[str, str]
    nuscenes_tables: dict
    nusc: object


# ------------------------------------------------------------------------------------ discovery
def nuscenes_versions(path: str | Path) -> list[str]:
    """Version folders (``v1.0-mini`` …) under a nuScenes dataroot that hold the scene table."""
    path = Path(path)
    if not path.is_dir():
        return []
    return sorted(p.name for p in path.iterdir() if p.is_dir() and (p / "scene.json").is_file()
                  and (p / "sample_data.json").is_file())


def _split_root(path: Path) -> tuple[Path, str | None]:
    """(dataroot, version) from a dataroot or a version folder inside it."""
    if (path / "scene.json").is_file() and (path / "sample_data.json").is_file():
        return path.parent, path.name
    return path, None


def is_nuscenes_root(path: str | Path) -> bool:
    """True for a nuScenes dataroot (holding ``v1.0-*/scene.json``) or one of its version folders."""
    root, version = _split_root(Path(path))
    return version is not None or bool(nuscenes_versions(root))


# ------------------------------------------------------------------------------------ records
def _shown(value) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_whole(v) -> bool:
    return _is_number(v) and v == int(v) and v >= 0


def _numbers(value, n: int) -> np.ndarray | None:
    """``value`` as a float64 array when it is a list of ``n`` finite numbers, else None."""
    numbers = finite_numbers(value, n)
    return None if numbers is None else np.asarray(numbers, dtype=np.float64)


def _is_quaternion(value) -> bool:
    q = _numbers(value, 4)
    return q is not None and bool(np.any(q))


def _is_box_size(value) -> bool:
    s = _numbers(value, 3)
    return s is not None and bool(np.all(s > 0))


def _is_intrinsic(value) -> bool:
    """``[]`` (not a camera) or K = [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] with fx, fy > 0."""
    if value == []:
        return True
    if not (isinstance(value, list) and len(value) == 3 and all(isinstance(r, list) for r in value)):
        return False
    K = _numbers([v for row in value for v in row], 9)
    if K is None:
        return False
    K = K.reshape(3, 3)
    return bool(K[0, 0] > 0 and K[1, 1] > 0 and abs(K[0, 1]) <= 1e-9 * K[0, 0] and K[1, 0] == 0
                and np.all(K[2] == (0, 0, 1)))


def _is_token(v) -> bool:
    return isinstance(v, str) and bool(v)


def _is_filename(v) -> bool:
    return _is_token(v) and not Path(v).is_absolute()


def _is_pixels(v) -> bool:
    return v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0)


TRANSLATION = (lambda v: _numbers(v, 3) is not None, "three finite numbers x, y, z in metres")
QUATERNION = (_is_quaternion, "a quaternion of four finite numbers w, x, y, z, not all zero")
COUNT = (lambda v: isinstance(v, int) and _is_whole(v), "a whole number >= 0")
INTRINSIC = "a 3x3 matrix [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] with fx, fy > 0"

# Every field this module reads, per table: (test, what it must hold). Fields the devkit adds while
# it loads (sample_data.channel/sensor_modality, sample.data/anns, sample_annotation.category_name)
# come from records it has already resolved and need no check; neither do tokens the devkit indexed.
FIELDS: dict[str, dict[str, tuple]] = {
    "scene": {"name": (_is_token, "a non-empty string"),
              "first_sample_token": (_is_token, "a sample token"),
              "log_token": (_is_token, "a log token"),
              "description": (lambda v: isinstance(v, str), "a string")},
    "sample": {"next": (lambda v: isinstance(v, str), "a sample token ('' after the last sample)")},
    "sample_data": {"timestamp": (_is_whole, "a whole number of microseconds >= 0"),
                    "filename": (_is_filename, "a file path relative to the dataroot (samples/...)"),
                    "is_key_frame": (lambda v: isinstance(v, bool), "true or false"),
                    "next": (lambda v: isinstance(v, str), "a sample_data token ('' at the end of the chain)"),
                    "ego_pose_token": (_is_token, "an ego_pose token"),
                    "calibrated_sensor_token": (_is_token, "a calibrated_sensor token"),
                    "width": (_is_pixels, "a whole number of pixels (0 or null when unknown)"),
                    "height": (_is_pixels, "a whole number of pixels (0 or null when unknown)")},
    "ego_pose": {"translation": TRANSLATION, "rotation": QUATERNION},
    "calibrated_sensor": {"translation": TRANSLATION, "rotation": QUATERNION,
                          "camera_intrinsic": (_is_intrinsic, f"[] (not a camera) or {INTRINSIC}")},
    "sample_annotation": {"translation": TRANSLATION, "rotation": QUATERNION,
                          "size": (_is_box_size, "three positive numbers w, l, h in metres"),
                          "instance_token": (_is_token, "an instance token"),
                          "attribute_tokens": (lambda v: isinstance(v, list) and all(map(_is_token, v)),
                                               "a list of attribute tokens"),
                          "visibility_token": (lambda v: isinstance(v, str), "a visibility token"),
                          "num_lidar_pts": COUNT, "num_radar_pts": COUNT},
    "attribute": {"name": (_is_token, "a non-empty string")},
    "log": {"logfile": (lambda v: isinstance(v, str), "a string (the log's name)"),
            "vehicle": (lambda v: isinstance(v, str), "a string (the car's name)"),
            "location": (lambda v: isinstance(v, str), "a string (the map location, e.g. singapore-onenorth)")},
}
OPTIONAL = {("sample_data", "width"), ("sample_data", "height")}
ERRORS: dict[str, type[InputError]] = {"calibrated_sensor": CalibrationError, "sample_annotation": LabelError,
                                       "attribute": LabelError}


class _Tables:
    """The one place this module reads table records: :meth:`get` and :meth:`follow` return a record
    after checking, once, every field of :data:`FIELDS` that the reader uses. A bad or missing value
    raises one error naming the table file, the record token and the field (``CalibrationError``
    for calibrated_sensor, ``LabelError`` for sample_annotation, ``DriveError`` otherwise)."""

    def __init__(self, nusc, folder: Path):
        self.nusc, self.folder = nusc, folder
        self._checked: set[tuple[str, str]] = set()

    def error(self, table: str, record: dict, field: str, problem: str) -> InputError:
        return ERRORS.get(table, DriveError)(self.folder / f"{table}.json", problem,
                                             where=f"record {record.get('token', '?')}: {field}")

    def get(self, table: str, token: str) -> dict:
        record = self.nusc.get(table, token)
        if (table, token) not in self._checked:
            for name, (test, expected) in FIELDS[table].items():
                if name not in record:
                    if (table, name) in OPTIONAL:
                        continue
                    raise self.error(table, record, name, f"missing; expected {expected}")
                if not test(record[name]):
                    raise self.error(table, record, name, f"must be {expected}, got {_shown(record[name])}")
            self._checked.add((table, token))
        return record

    def follow(self, table: str, record: dict, field: str, target: str, token: str | None = None) -> dict:
        """The ``target`` record that ``record[field]`` (or ``token``, one of a list there) names."""
        token = record[field] if token is None else token
        try:
            self.nusc.getind(target, token)
        except KeyError:
            raise self.error(table, record, field, f"no {target} record has token {token!r} "
                             f"(in {self.folder / (target + '.json')})") from None
        return self.get(target, token)


# ------------------------------------------------------------------------------------ helpers
def pose_matrix(record: dict) -> np.ndarray:
    """(4, 4) transform of an ego_pose / calibrated_sensor record (``rotation`` is w, x, y, z)."""
    return T_from_Rt(rotation_from_quaternion(record["rotation"]), record["translation"])


def cuboid_from_nuscenes(record: dict) -> Cuboid:
    """A sample_annotation's box (global frame) as a :class:`Cuboid` in the global frame.

    nuScenes ``size`` is (width, length, height) with the length along the box's x axis.
    """
    w, l, h = (float(v) for v in record["size"])
    roll, pitch, yaw = euler_from_rotation(rotation_from_quaternion(record["rotation"]))
    return Cuboid(record["translation"], (l, w, h), yaw, pitch, roll)


def _load_devkit(dataroot: Path, version: str):
    try:
        from nuscenes.nuscenes import NuScenes
    except ImportError:
        raise DriveError(dataroot, "reading nuScenes needs nuscenes-devkit "
                                   "(pip install 'fusionlabel[nuscenes]')") from None
    for table in TABLES:
        if not (dataroot / version / f"{table}.json").is_file():
            raise DriveError(dataroot / version / f"{table}.json", f"missing nuScenes table '{table}' "
                             f"(a nuScenes version folder needs {', '.join(TABLES)})")
    _check_map_and_log(dataroot / version)
    quiet = io.StringIO()
    try:
        with contextlib.redirect_stdout(quiet):
            return NuScenes(version=version, dataroot=str(dataroot), verbose=False)
    except json.JSONDecodeError:
        raise _json_error(dataroot / version) from None
    except Exception as e:  # noqa: BLE001 - any failure inside the devkit's loading becomes one line
        if isinstance(e, KeyError) and (named := _dangling_link(dataroot / version)) is not None:
            raise named from None
        hint = (f" (a record lacks the field {e}, or a token there names no record)"
                if isinstance(e, KeyError) else "")
        raise DriveError(dataroot / version, f"nuscenes-devkit cannot load this version folder: "
                         f"{type(e).__name__}: {e}{hint}") from None


def _read_table(folder: Path, table: str) -> list:
    """A table file as a list of records, or a one-line error naming the file."""
    path = folder / f"{table}.json"
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DriveError(path, f"not valid JSON ({e.msg}; line {e.lineno}, column {e.colno})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise DriveError(path, f"cannot read: {e}") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise DriveError(path, "expected a JSON list of records (objects)")
    return records


# The links the devkit follows while it loads (table, field, target table), in its order: a token
# naming no record stops it with a bare KeyError.
LOAD_LINKS = (("sample_annotation", "instance_token", "instance"), ("instance", "category_token", "category"),
              ("sample_annotation", "sample_token", "sample"), ("sample_data", "sample_token", "sample"),
              ("sample_data", "calibrated_sensor_token", "calibrated_sensor"),
              ("calibrated_sensor", "sensor_token", "sensor"))


def _dangling_link(folder: Path) -> InputError | None:
    """The error for the first record whose link in :data:`LOAD_LINKS` is missing or names no
    record (table file, record token and field), or None when every link holds."""
    tokens: dict[str, set] = {}
    for table, link, target in LOAD_LINKS:
        if target not in tokens:
            tokens[target] = {r.get("token") for r in _read_table(folder, target)}
        for record in _read_table(folder, table):
            token = record.get(link)
            if token not in tokens[target]:
                problem = (f"missing; expected a {target} token" if link not in record else
                           f"no {target} record has token {token!r} (in {folder / (target + '.json')})")
                return ERRORS.get(table, DriveError)(folder / f"{table}.json", problem,
                                                     where=f"record {record.get('token', '?')}: {link}")
    return None


def _json_error(folder: Path) -> DriveError:
    """The error for the first table that is not valid JSON (the devkit's own message names none)."""
    for table in TABLES:
        _read_table(folder, table)
    return DriveError(folder, "a table file is not valid JSON")


def _check_map_and_log(folder: Path) -> None:
    """Check the two small tables the devkit links while loading, with no checks of its own: every
    map record has ``token``, ``filename`` and ``log_tokens``, and every log is on a map."""
    maps, logs = _read_table(folder, "map"), _read_table(folder, "log")
    path = folder / "map.json"
    if not maps:
        raise DriveError(path, "no map records; nuscenes-devkit needs at least one (its file may be a "
                               "placeholder image)")
    map_fields = {"token": (_is_token, "a non-empty string"),
                  "filename": (_is_filename, "an image path relative to the dataroot (maps/...)"),
                  "log_tokens": (lambda v: isinstance(v, list) and all(map(_is_token, v)), "a list of log tokens")}
    for i, record in enumerate(maps):
        for name, (test, expected) in map_fields.items():
            if not test(record.get(name)):
                got = "missing" if name not in record else f"got {_shown(record[name])}"
                raise DriveError(path, f"must be {expected}; {got}",
                                 where=f"record {record.get('token') or f'#{i + 1}'}: {name}")
    on_a_map = {t for record in maps for t in record["log_tokens"]}
    for i, record in enumerate(logs):
        token = record.get("token")
        if not _is_token(token):
            raise DriveError(folder / "log.json", "must be a non-empty string", where=f"record #{i + 1}: token")
        if token not in on_a_map:
            raise DriveError(folder / "log.json", "no map record lists this log in its log_tokens "
                             f"(in {path})", where=f"record {token}")


def _pick_scene(tables: _Tables, dataroot: Path, version: str, scene: str | int | None) -> dict:
    scenes = [tables.get("scene", s["token"]) for s in tables.nusc.scene]
    if scene is None:
        if len(scenes) == 1:
            return scenes[0]
        names = ", ".join(s["name"] for s in scenes[:20]) + (" …" if len(scenes) > 20 else "")
        raise DriveError(dataroot / version, f"{len(scenes)} scenes: choose one by name, token or index "
                         f"(--scene); scenes: {names}", where="scene")
    if isinstance(scene, int) or (isinstance(scene, str) and scene.lstrip("-").isdigit()):
        i = int(scene)
        if -len(scenes) <= i < len(scenes):
            return scenes[i]
    for s in scenes:
        if scene in (s["name"], s["token"]):
            return s
    raise DriveError(dataroot / version, f"no scene {scene!r}; scenes: "
                     f"{', '.join(s['name'] for s in scenes[:20])}", where="scene")


def _camera_channels(tables: _Tables, sample: dict) -> list[str]:
    return [ch for ch, tok in sample["data"].items()
            if tables.get("sample_data", tok)["sensor_modality"] == "camera"]


def _nearest_camera_data(tables: _Tables, first_token: str, t_end: int) -> list[dict]:
    """The camera's sample_data chain (keyframes and sweeps) from ``first_token`` up to ``t_end`` + 0.1 s."""
    rec = tables.get("sample_data", first_token)
    out = [rec]
    while rec["next"] and rec["timestamp"] <= t_end + 100_000:
        rec = tables.follow("sample_data", rec, "next", "sample_data")
        out.append(rec)
    return out


def _rig_from_records(tables: _Tables, lidar_sd: dict, camera_sds: dict[str, dict], dataroot: Path,
                      name: str) -> Rig:
    from .images import image_size

    sensors: dict = {}
    cs = tables.follow("sample_data", lidar_sd, "calibrated_sensor_token", "calibrated_sensor")
    sensors[LIDAR_CHANNEL] = LidarSensor(LIDAR_CHANNEL, pose_matrix(cs))
    for ch, sd in camera_sds.items():
        cs = tables.follow("sample_data", sd, "calibrated_sensor_token", "calibrated_sensor")
        if cs["camera_intrinsic"] == []:
            raise tables.error("calibrated_sensor", cs, "camera_intrinsic",
                               f"{ch} is a camera: must be {INTRINSIC}, got []")
        K = np.asarray(cs["camera_intrinsic"], dtype=np.float64)
        w, h = int(sd.get("width") or 0), int(sd.get("height") or 0)
        if w <= 0 or h <= 0:
            w, h = image_size(dataroot / sd["filename"])
        camera = camera_from_params("pinhole", w, h, K[0, 0], K[1, 1], K[0, 2], K[1, 2])
        sensors[ch] = CameraSensor(ch, camera, pose_matrix(cs))
    return Rig(name, sensors, LIDAR_CHANNEL)


def track_ids_of_instances(tables: _Tables, samples: list[dict]) -> dict[str, str]:
    """Instance token -> short track id ("1", "2", ...) for every instance annotated in ``samples``
    (a scene's keyframes in time order), numbered by first keyframe, then by token."""
    first: dict[str, int] = {}
    for k, sample in enumerate(samples):
        for ann_token in sample["anns"]:
            # only this field, checked here: the other fields are checked when the frame's labels are read
            ann = tables.nusc.get("sample_annotation", ann_token)
            token = ann.get("instance_token")
            if not _is_token(token):
                raise tables.error("sample_annotation", ann, "instance_token",
                                   f"must be an instance token, got {_shown(token)}")
            first.setdefault(token, k)
    ordered = sorted(first, key=lambda token: (first[token], token))
    return {token: str(n) for n, token in enumerate(ordered, start=1)}


def _labels_loader(tables: _Tables, sample_token: str, T_world_lidar: np.ndarray, track_ids: dict[str, str]):
    def load() -> list[CuboidLabel]:
        T_lidar_world = invert_T(T_world_lidar)
        out = []
        for ann_token in tables.get("sample", sample_token)["anns"]:
            ann = tables.get("sample_annotation", ann_token)
            box = cuboid_from_nuscenes(ann).transformed(T_lidar_world)
            attributes = {
                "nuscenes_token": ann["token"],
                "nuscenes_attributes": [
                    tables.follow("sample_annotation", ann, "attribute_tokens", "attribute", a)["name"]
                    for a in ann["attribute_tokens"]],
                "visibility": ann["visibility_token"],
                "num_lidar_pts": int(ann["num_lidar_pts"]),
                "num_radar_pts": int(ann["num_radar_pts"]),
                SOURCE_BOX: source_box(ann),
            }
            out.append(CuboidLabel(box, ann["category_name"], track_ids[ann["instance_token"]], None, "import",
                                   attributes))
        return out
    return load


# ------------------------------------------------------------------------------------ opening
def open_nuscenes(path: str | Path, scene: str | int | None = None, version: str | None = None,
                  sweeps: bool = False) -> NuScenesDrive:
    """Open one nuScenes scene as a drive.

    Args:
        path: the dataroot (holding ``v1.0-*/``) or a version folder.
        scene: scene name (``scene-0061``), token or index; may be omitted when there is one scene.
        version: version folder name; may be omitted when the dataroot holds exactly one.
        sweeps: also include the LIDAR_TOP sweeps between keyframes (without labels); each camera
            then contributes its image closest in time.
    """
    dataroot, implied = _split_root(Path(path))
    if not dataroot.is_dir():
        raise DriveError(path, "no such folder")
    versions = nuscenes_versions(dataroot)
    version = version or implied
    if version is None:
        if len(versions) != 1:
            raise DriveError(dataroot, "expected one nuScenes version folder (v1.0-*/ with scene.json), found "
                             f"{', '.join(versions) or 'none'}; pass the version", where="version")
        version = versions[0]
    elif version not in versions:
        raise DriveError(dataroot / version, f"not a nuScenes version folder (found {', '.join(versions) or 'none'})")
    nusc = _load_devkit(dataroot, version)
    tables = _Tables(nusc, dataroot / version)
    scene_rec = _pick_scene(tables, dataroot, version, scene)
    samples = [tables.follow("scene", scene_rec, "first_sample_token", "sample")]
    while samples[-1]["next"]:
        samples.append(tables.follow("sample", samples[-1], "next", "sample"))
    if not samples or LIDAR_CHANNEL not in samples[0]["data"]:
        raise DriveError(dataroot / version, f"scene {scene_rec['name']} has no {LIDAR_CHANNEL} keyframes",
                         where="sample_data")
    channels = _camera_channels(tables, samples[0])
    track_ids = track_ids_of_instances(tables, samples)

    # LiDAR sample_data of every frame, in time order.
    lidar_sds = [tables.get("sample_data", s["data"][LIDAR_CHANNEL]) for s in samples]
    if sweeps:
        chain, last = [lidar_sds[0]], lidar_sds[-1]["token"]
        while chain[-1]["token"] != last and chain[-1]["next"]:
            chain.append(tables.follow("sample_data", chain[-1], "next", "sample_data"))
        lidar_sds = chain
    sample_of = {s["data"][LIDAR_CHANNEL]: s for s in samples}
    t_end = lidar_sds[-1]["timestamp"]
    camera_chains = ({ch: _nearest_camera_data(tables, samples[0]["data"][ch], t_end) for ch in channels}
                     if sweeps else {})

    name = f"nuscenes/{scene_rec['name']}"
    frames, tokens, rig_keys, rigs = [], [], [], {}
    for lidar_sd in lidar_sds:
        sample = sample_of.get(lidar_sd["token"]) if lidar_sd["is_key_frame"] else None
        if sample is not None:
            cams = {ch: tables.get("sample_data", sample["data"][ch]) for ch in channels if ch in sample["data"]}
        else:
            cams = {ch: min(chain, key=lambda r: abs(r["timestamp"] - lidar_sd["timestamp"]))
                    for ch, chain in camera_chains.items()}
        key = (lidar_sd["calibrated_sensor_token"],) + tuple(cams[ch]["calibrated_sensor_token"] for ch in cams)
        if key not in rigs:
            rigs[key] = _rig_from_records(tables, lidar_sd, cams, dataroot, name)
        rig_keys.append(key)
        channel_sds = [(LIDAR_CHANNEL, lidar_sd), *cams.items()]
        poses = {ch: tables.follow("sample_data", sd, "ego_pose_token", "ego_pose") for ch, sd in channel_sds}
        T_world_vehicle = pose_matrix(poses[LIDAR_CHANNEL])
        T_world_lidar = T_world_vehicle @ rigs[key].T_vehicle_lidar
        frames.append(Frame(
            frame_id=lidar_sd["token"], lidar_path=dataroot / lidar_sd["filename"],
            image_paths={ch: dataroot / sd["filename"] for ch, sd in cams.items()},
            timestamp_us=int(lidar_sd["timestamp"]), T_world_vehicle=T_world_vehicle,
            T_world_vehicle_at_camera={ch: pose_matrix(poses[ch]) for ch in cams},
            camera_timestamps_us={ch: int(sd["timestamp"]) for ch, sd in cams.items()},
            labels_source=_labels_loader(tables, sample["token"], T_world_lidar, track_ids) if sample else None))
        tokens.append(FrameTokens(sample["token"] if sample else None, lidar_sd["token"],
                                  {ch: sd["token"] for ch, sd in cams.items()},
                                  {ch: list(pose["rotation"]) for ch, pose in poses.items()},
                                  {ch: sd["ego_pose_token"] for ch, sd in channel_sds}))
    if len(rigs) > 1:  # calibration changes within the scene: every frame carries its own rig
        for f, key in zip(frames, rig_keys):
            f.rig_source = rigs[key]
    drive = NuScenesDrive(name, dataroot, next(iter(rigs.values())), frames)
    drive.dataroot, drive.version, drive.scene, drive.tokens = dataroot, version, scene_rec, tokens
    drive.instance_tokens = {track: token for token, track in track_ids.items()}
    drive.log = tables.follow("scene", scene_rec, "log_token", "log")
    drive.nuscenes_map = next((m for m in nusc.map if drive.log["token"] in m["log_tokens"]), None)
    drive.nuscenes_tables = source_tables(nusc, {token for key in rigs for token in key})
    drive.nusc = nusc
    return drive
