"""nuScenes import: one scene as a :class:`~fusionlabel.model.drive.Drive`, read through nuscenes-devkit.

The drive has one frame per LIDAR_TOP keyframe (``sweeps=True`` adds the non-keyframe sweeps
between them), all six cameras and, per frame, the ego pose at the LiDAR time plus the ego pose at
each camera's own capture time (``Frame.T_world_vehicle_at_camera``), so that
``drive.T_cam_lidar(frame, camera)`` is exactly the devkit's chain LiDAR -> ego@t_lidar -> global
-> ego@t_cam -> camera. Annotations (global frame, centre + ``wlh`` + quaternion) become cuboids in
the frame's LiDAR frame; their nuScenes fields are kept in ``CuboidLabel.attributes``.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DriveError
from ..geometry.cameras import camera_from_params
from ..geometry.cuboid import Cuboid
from ..geometry.transforms import T_from_Rt, euler_from_rotation, invert_T, rotation_from_quaternion
from ..model.annotation import CuboidLabel
from ..model.drive import Drive, Frame
from ..model.rig import CameraSensor, LidarSensor, Rig

LIDAR_CHANNEL = "LIDAR_TOP"
TABLES = ("category", "attribute", "visibility", "instance", "sensor", "calibrated_sensor", "ego_pose", "log",
          "scene", "sample", "sample_data", "sample_annotation", "map")


@dataclass
class FrameTokens:
    """nuScenes tokens behind one drive frame (``sample`` is None for a non-keyframe sweep)."""

    sample: str | None
    lidar: str
    cameras: dict[str, str] = field(default_factory=dict)


class NuScenesDrive(Drive):
    """A drive read from a nuScenes scene; ``tokens[i]`` names the records behind frame ``i``,
    ``scene`` and ``log`` are the table records and ``nusc`` is the loaded devkit instance."""

    dataroot: Path
    version: str
    scene: dict
    log: dict
    tokens: list[FrameTokens]
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
    quiet = io.StringIO()
    try:
        with contextlib.redirect_stdout(quiet):
            return NuScenes(version=version, dataroot=str(dataroot), verbose=False)
    except (AssertionError, KeyError, ValueError, TypeError, OSError) as e:
        raise DriveError(dataroot / version, f"nuscenes-devkit cannot load this version folder: "
                         f"{type(e).__name__}: {e}") from None


def _pick_scene(nusc, dataroot: Path, version: str, scene: str | int | None) -> dict:
    scenes = nusc.scene
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


def _camera_channels(nusc, sample: dict) -> list[str]:
    return [ch for ch, tok in sample["data"].items()
            if nusc.get("sample_data", tok)["sensor_modality"] == "camera"]


def _nearest_camera_data(nusc, first_token: str, t_end: int) -> list[dict]:
    """The camera's sample_data chain (keyframes and sweeps) from ``first_token`` up to ``t_end`` + 0.1 s."""
    out, token = [], first_token
    while token:
        rec = nusc.get("sample_data", token)
        out.append(rec)
        if rec["timestamp"] > t_end + 100_000:
            break
        token = rec["next"]
    return out


def _rig_from_records(nusc, lidar_sd: dict, camera_sds: dict[str, dict], dataroot: Path, name: str) -> Rig:
    from .images import image_size

    sensors: dict = {}
    cs = nusc.get("calibrated_sensor", lidar_sd["calibrated_sensor_token"])
    sensors[LIDAR_CHANNEL] = LidarSensor(LIDAR_CHANNEL, pose_matrix(cs))
    for ch, sd in camera_sds.items():
        cs = nusc.get("calibrated_sensor", sd["calibrated_sensor_token"])
        K = np.asarray(cs["camera_intrinsic"], dtype=np.float64)
        if K.shape != (3, 3):
            raise DriveError(dataroot, f"camera_intrinsic of {ch} must be 3x3, got shape {K.shape}",
                             where=f"calibrated_sensor {cs['token']}")
        w, h = int(sd.get("width") or 0), int(sd.get("height") or 0)
        if w <= 0 or h <= 0:
            w, h = image_size(dataroot / sd["filename"])
        camera = camera_from_params("pinhole", w, h, K[0, 0], K[1, 1], K[0, 2], K[1, 2])
        sensors[ch] = CameraSensor(ch, camera, pose_matrix(cs))
    return Rig(name, sensors, LIDAR_CHANNEL)


def _labels_loader(nusc, sample_token: str, T_world_lidar: np.ndarray):
    def load() -> list[CuboidLabel]:
        T_lidar_world = invert_T(T_world_lidar)
        out = []
        for ann_token in nusc.get("sample", sample_token)["anns"]:
            ann = nusc.get("sample_annotation", ann_token)
            box = cuboid_from_nuscenes(ann).transformed(T_lidar_world)
            attributes = {
                "nuscenes_token": ann["token"],
                "nuscenes_attributes": [nusc.get("attribute", a)["name"] for a in ann["attribute_tokens"]],
                "visibility": ann["visibility_token"],
                "num_lidar_pts": int(ann["num_lidar_pts"]),
                "num_radar_pts": int(ann["num_radar_pts"]),
            }
            out.append(CuboidLabel(box, ann["category_name"], ann["instance_token"], None, "import", attributes))
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
    scene_rec = _pick_scene(nusc, dataroot, version, scene)
    samples = []
    token = scene_rec["first_sample_token"]
    while token:
        samples.append(nusc.get("sample", token))
        token = samples[-1]["next"]
    if not samples or LIDAR_CHANNEL not in samples[0]["data"]:
        raise DriveError(dataroot / version, f"scene {scene_rec['name']} has no {LIDAR_CHANNEL} keyframes",
                         where="sample_data")
    channels = _camera_channels(nusc, samples[0])

    # LiDAR sample_data of every frame, in time order.
    lidar_sds = [nusc.get("sample_data", s["data"][LIDAR_CHANNEL]) for s in samples]
    if sweeps:
        chain, token = [], lidar_sds[0]["token"]
        last = lidar_sds[-1]["token"]
        while token:
            rec = nusc.get("sample_data", token)
            chain.append(rec)
            if token == last:
                break
            token = rec["next"]
        lidar_sds = chain
    sample_of = {s["data"][LIDAR_CHANNEL]: s for s in samples}
    t_end = lidar_sds[-1]["timestamp"]
    camera_chains = {ch: _nearest_camera_data(nusc, samples[0]["data"][ch], t_end) for ch in channels} if sweeps else {}

    name = f"nuscenes/{scene_rec['name']}"
    frames, tokens, rig_keys, rigs = [], [], [], {}
    for lidar_sd in lidar_sds:
        sample = sample_of.get(lidar_sd["token"]) if lidar_sd["is_key_frame"] else None
        if sample is not None:
            cams = {ch: nusc.get("sample_data", sample["data"][ch]) for ch in channels if ch in sample["data"]}
        else:
            cams = {ch: min(chain, key=lambda r: abs(r["timestamp"] - lidar_sd["timestamp"]))
                    for ch, chain in camera_chains.items()}
        key = (lidar_sd["calibrated_sensor_token"],) + tuple(cams[ch]["calibrated_sensor_token"] for ch in cams)
        if key not in rigs:
            rigs[key] = _rig_from_records(nusc, lidar_sd, cams, dataroot, name)
        rig_keys.append(key)
        T_world_vehicle = pose_matrix(nusc.get("ego_pose", lidar_sd["ego_pose_token"]))
        T_world_lidar = T_world_vehicle @ rigs[key].T_vehicle_lidar
        frames.append(Frame(
            frame_id=lidar_sd["token"], lidar_path=dataroot / lidar_sd["filename"],
            image_paths={ch: dataroot / sd["filename"] for ch, sd in cams.items()},
            timestamp_us=int(lidar_sd["timestamp"]), T_world_vehicle=T_world_vehicle,
            T_world_vehicle_at_camera={ch: pose_matrix(nusc.get("ego_pose", sd["ego_pose_token"]))
                                       for ch, sd in cams.items()},
            camera_timestamps_us={ch: int(sd["timestamp"]) for ch, sd in cams.items()},
            labels_source=_labels_loader(nusc, sample["token"], T_world_lidar) if sample else None))
        tokens.append(FrameTokens(sample["token"] if sample else None, lidar_sd["token"],
                                  {ch: sd["token"] for ch, sd in cams.items()}))
    if len(rigs) > 1:  # calibration changes within the scene: every frame carries its own rig
        for f, key in zip(frames, rig_keys):
            f.rig_source = rigs[key]
    drive = NuScenesDrive(name, dataroot, next(iter(rigs.values())), frames)
    drive.dataroot, drive.version, drive.scene, drive.tokens = dataroot, version, scene_rec, tokens
    drive.log = nusc.get("log", scene_rec["log_token"])
    drive.nusc = nusc
    return drive
