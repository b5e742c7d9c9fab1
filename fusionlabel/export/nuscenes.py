"""nuScenes export: the 13 JSON tables ``nuscenes.NuScenes`` loads, plus ``samples/`` and ``maps/``.

One drive becomes one scene; every exported frame is a keyframe (sample) with a LIDAR_TOP
sample_data and one sample_data per camera, each with its own ego pose (the per-camera pose when
the drive has one). Boxes are written in the global frame (centre, ``wlh``, rotation quaternion),
so ``NuScenes.get_box`` returns them where they were drawn; a box upright in the LiDAR frame
(drawn, one-click, detected) is levelled there, as nuScenes' own boxes are (:func:`levelled_in_world`);
``num_lidar_pts`` is counted from the sweep, except that a box as imported from nuScenes keeps its
source's (:mod:`.as_imported`; ``num_radar_pts`` is always the source's: there is no radar to count
again, and a box without one is written 0, the summary saying why: :mod:`.radar_counts`).
``visibility_token`` is the annotator's occlusion when one was chosen in the attribute panel
(:func:`chosen_visibility`), else a box as imported keeps its source's, else it is estimated from
the LiDAR returns in the camera images. Tokens of a drive imported from nuScenes are reused
(with its sensor, calibrated_sensor, category and attribute records and its ego poses' tokens and
quaternions);
others are derived deterministically.
A track's instance token is its id when that is 32 hex digits (tracks of projects made before
nuScenes track ids were short), else the source's instance token of that track id
(``drive.instance_tokens``) when one of the track's boxes was read from the source, else derived.

Cameras are named ``CAM_<NAME>`` (names already starting with ``CAM_`` are kept). nuScenes cameras
are pinhole: images of distorted cameras are undistorted to the same intrinsics.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
from collections import Counter, defaultdict

import numpy as np

from ..geometry.cuboid import Cuboid, count_points_in_cuboids
from ..geometry.transforms import invert_T, quaternion_from_rotation, rotation_from_quaternion
from ..model.annotation import CuboidLabel
from ..io.json_stream import Streamed
from ..io.nuscenes_boxes import SOURCE_BOX, unchanged_source_box
from ..model.occlusion_choice import chosen_occlusion
from .as_imported import ImportedBoxes
from .base import Exporter, frame_ranges
from .nuscenes_splits import official_splits
from .option_checks import check_nuscenes_version, check_scene_name
from .point_recount import stale_radar_note
from .radar_counts import MissingRadarCounts
from .classes import (MOVING_SPEED, NUSCENES_ATTRIBUTES, NUSCENES_CATEGORIES, attribute_group,
                      nuscenes_attributes_by_speed, nuscenes_category)
from .views import (nuscenes_visibility_token, object_views, pinhole_of, undistort_image,
                    undistort_maps)

LIDAR = "LIDAR_TOP"
KEYFRAME_STEP_US = 500_000          # 2 Hz, used when the drive has no increasing timestamps
SYNTHETIC_START_US = 1_500_000_000_000_000
VISIBILITY_TOKENS = ("1", "2", "3", "4")
KEPT_AS_IMPORTED = ("num_lidar_pts", "visibility", "num_radar_pts")   # a box as imported keeps these
# the attribute panel's occlusion -> the visibility token of the share visible: 80-100 %, 60-80 %, 40-60 %, 0-40 %
VISIBILITY_OF_CHOICE = {"none": "4", "partial": "3", "mostly": "2", "full": "1"}
VISIBILITY = tuple((str(k), f"v{lo}-{hi}", f"visibility of whole object is between {lo} and {hi}%")   # nuScenes' own rows
                   for k, (lo, hi) in enumerate(((0, 40), (40, 60), (60, 80), (80, 100)), start=1))
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
SAME_ROTATION = 1e-9                # a source quaternion is written again when its matrix is within this
CUSTOM_SPLIT = "fusionlabel"        # the devkit's custom split (splits.json) of a scene in no official split


def official_split_of(scene_name: str) -> str | None:
    """The first official nuScenes split (nuscenes-devkit's ``create_splits_scenes``, read by
    :mod:`.nuscenes_splits`) that holds ``scene_name``, else None. Without the devkit, names like
    ``scene-0061`` count as official."""
    splits = official_splits()
    if splits is None:
        return "(unknown)" if re.fullmatch(r"scene-[0-9]{4}", scene_name) else None
    return next((split for split, names in splits.items() if scene_name in names), None)


def make_token(*parts) -> str:
    """A deterministic 32-hex-digit token from its parts."""
    return hashlib.md5("|".join(str(p) for p in parts).encode()).hexdigest()


def channel_name(camera: str) -> str:
    """nuScenes channel of a rig camera: upper case, ``CAM_`` prefixed unless present
    (``cam_front`` -> ``CAM_FRONT``, ``image_2`` -> ``CAM_IMAGE_2``)."""
    name = re.sub(r"[^0-9A-Za-z]+", "_", camera).upper()
    return name if name.startswith("CAM_") else "CAM_" + name


def _same_rotation(q, R: np.ndarray) -> bool:
    return q is not None and bool(np.allclose(rotation_from_quaternion(q), R, rtol=0.0, atol=SAME_ROTATION))


def _pose_record(token: str, T: np.ndarray, timestamp: int | None = None, source_q=None) -> dict:
    """An ego_pose / calibrated_sensor record of ``T``; its quaternion is the source's ``source_q``
    (with the source's sign and digits) when that is the same rotation."""
    rec = {"token": token}
    if timestamp is not None:
        rec["timestamp"] = int(timestamp)
    q = source_q if _same_rotation(source_q, T[:3, :3]) else quaternion_from_rotation(T[:3, :3])
    rec["rotation"] = [float(v) for v in q]
    rec["translation"] = [float(v) for v in T[:3, 3]]
    return rec


def levelled_in_world(box: Cuboid, T_world_lidar: np.ndarray) -> Cuboid:
    """``box`` (LiDAR frame) in the world frame; a box upright in the LiDAR frame (pitch = roll =
    0: drawn, one-click or detected) keeps its centre and world heading and drops the tilt the
    LiDAR's mounting gives it there, a tilted (imported) box keeps its rotation."""
    world = box.transformed(T_world_lidar)
    return world.upright() if box.is_upright else world


def chosen_visibility(label: CuboidLabel) -> str | None:
    """The visibility token of the occlusion an annotator set on ``label`` (:data:`VISIBILITY_OF_CHOICE`),
    None when it has none of its own (:func:`~fusionlabel.model.occlusion_choice.chosen_occlusion`)."""
    chosen = chosen_occlusion(label)
    return None if chosen is None else VISIBILITY_OF_CHOICE[chosen]


def _kept_count(label: CuboidLabel, untouched: bool) -> int | None:
    """The source's ``num_lidar_pts`` of a box as imported, else None (it is counted)."""
    n = label.attributes.get("num_lidar_pts")
    return n if untouched and isinstance(n, int) and not isinstance(n, bool) and n >= 0 else None


class NuScenesExporter(Exporter):
    """nuScenes format; see the module docstring."""

    name = "nuscenes"
    one_class_per_track = True

    def format_class(self, label: CuboidLabel) -> tuple[str | None, str]:
        return nuscenes_category(label), "no nuScenes category for it (use --class-map)"

    def classify(self, label: CuboidLabel) -> tuple[str | None, str]:
        """As :meth:`Exporter.classify`; a ``--class-map`` name that is no nuScenes category is refused."""
        cls, reason = super().classify(label)
        if cls is not None and cls not in NUSCENES_CATEGORIES:
            return None, f"'{cls}' is not a nuScenes category"
        return cls, reason

    def order(self, frames: list[int]) -> list[int]:
        return sorted(frames)

    # ------------------------------------------------------------------ set-up
    def begin(self) -> None:
        self.version = check_nuscenes_version(self.options.version)
        self.tables: dict[str, list] = {t: [] for t in (
            "category", "attribute", "visibility", "instance", "sensor", "calibrated_sensor", "ego_pose", "log",
            "scene", "sample", "sample_data", "sample_annotation", "map")}
        src = self.drive
        # A nuScenes drive, or a native drive imported from one, keeps its records (io/nuscenes_records.py).
        self.source_tokens = getattr(src, "tokens", None)
        self.source_instances: dict[str, str] = getattr(src, "instance_tokens", None) or {}
        self.sourced_tracks: set[str] = set()    # tracks with a box read from the nuScenes source
        scene = getattr(src, "scene", None) or {}
        log = getattr(src, "log", None) or {}
        self.source_map = getattr(src, "nuscenes_map", None) or {}
        base = re.sub(r"[^0-9A-Za-z_-]+", "-", src.name).strip("-") or "drive"
        self.scene_name = check_scene_name(self.options.scene_name or scene.get("name") or base)
        self.scene_token = scene.get("token") or make_token("scene", src.name)
        self.scene_description = scene.get("description", f"exported by fusionlabel from {src.name}")
        self.log_token = log.get("token") or make_token("log", src.name)
        self.logfile = log.get("logfile") or base
        self.log_vehicle = log.get("vehicle") or "fusionlabel"
        self.log_location = log.get("location") or "unknown"
        self.log_date = log.get("date_captured")
        times = [src.frames[i].timestamp_us for i in self.frames]
        self.synthetic_time = any(b <= a for a, b in zip(times, times[1:])) or (times and times[0] <= 0)
        # No ego poses (SUSTech-style folders, KITTI tracking without oxts: every frame's pose is the
        # identity): the boxes' motion is relative to the moving ego, so it says nothing about whether
        # they move. An ego that stands still with real poses (not the identity) still tells it.
        self.no_poses = len(self.frames) > 1 and all(
            np.allclose(np.asarray(src.frames[i].T_world_vehicle, dtype=np.float64), np.eye(4)) for i in self.frames)
        self.sensor_tokens: dict[str, str] = {}
        self.calib_tokens: dict[tuple, str] = {}
        self.prev_sd: dict[str, dict] = {}
        self.prev_sample: dict | None = None
        self.instance_anns: dict[tuple, list[dict]] = defaultdict(list)   # ("track", id) / ("box", token)
        self.ann_labels: dict[str, CuboidLabel] = {}   # annotation token -> label
        self.sample_times: dict[str, int] = {}
        self.instance_classes: dict[tuple, Counter] = defaultdict(Counter)
        self.ann_tokens: set[str] = set()
        self.sd_tokens: set[str] = set()
        self.ego_tokens: set[str] = set()
        # A nuScenes source's sensor, calibrated_sensor, category and attribute records (io/nuscenes_records.py)
        self.source_records: dict = getattr(src, "nuscenes_tables", None) or {}
        self.categories = self._named_records("categories", NUSCENES_CATEGORIES, "category")
        self.attributes = self._named_records("attributes", NUSCENES_ATTRIBUTES, "attribute")
        self.category_tokens = {name: rec["token"] for name, rec in self.categories.items()}
        self.attribute_tokens = {name: rec["token"] for name, rec in self.attributes.items()}
        self._maps: dict = {}
        self.estimated_visibility = 0
        self.unknown_visibility = 0     # boxes of samples without a camera image: visibility ""
        self.lidar_only: list[int] = []  # frames whose sample has no camera image (LIDAR_TOP only)
        self.camera_records = False     # some sample has a camera sample_data
        self.no_radar = MissingRadarCounts(self.source_records.get("sensors") or {})   # boxes written 0
        self.stale_radar = 0            # boxes edited since the import that keep its num_radar_pts
        self.imported = ImportedBoxes(self.drive, self.labels_for)
        self.frame_no = 0

    # ------------------------------------------------------------------ records
    def _named_records(self, key: str, names: tuple[str, ...], table: str) -> dict[str, dict]:
        """name -> category / attribute record: the source's (token and description) for its names,
        then new ones for the names it lacks."""
        source = self.source_records.get(key) or {}
        out = {name: {"token": rec["token"], "name": name, "description": rec.get("description", "")}
               for name, rec in source.items()}
        for name in names:
            out.setdefault(name, {"token": make_token(table, name), "name": name,
                                  "description": f"nuScenes {table} {name}"})
        return out

    def _source_calibration(self, channel: str, T_vehicle_sensor: np.ndarray, K: np.ndarray | None) -> dict | None:
        """The source's calibrated_sensor record of this channel with this pose and intrinsics, else None."""
        for rec in self.source_records.get("calibrated_sensors") or []:
            if rec["channel"] != channel or not _same_rotation(rec["rotation"], T_vehicle_sensor[:3, :3]):
                continue
            same_K = (K is None and not rec["camera_intrinsic"]) or (
                K is not None and len(rec["camera_intrinsic"]) == 3
                and np.allclose(rec["camera_intrinsic"], K, rtol=1e-12, atol=1e-9))
            if same_K and np.allclose(rec["translation"], T_vehicle_sensor[:3, 3], rtol=0.0, atol=1e-9):
                return rec
        return None

    def _sensor(self, channel: str, modality: str) -> str:
        if channel not in self.sensor_tokens:
            token = (self.source_records.get("sensors") or {}).get(channel) or make_token("sensor", channel)
            self.sensor_tokens[channel] = token
            self.tables["sensor"].append({"token": token, "channel": channel, "modality": modality})
        return self.sensor_tokens[channel]

    def _calibrated(self, channel: str, modality: str, T_vehicle_sensor: np.ndarray, K: np.ndarray | None) -> str:
        sensor = self._sensor(channel, modality)
        key = (channel, tuple(np.round(T_vehicle_sensor, 12).ravel()), None if K is None else tuple(K.ravel()))
        if key not in self.calib_tokens:
            source = self._source_calibration(channel, T_vehicle_sensor, K)
            taken = source is not None and source["token"] in self.calib_tokens.values()
            token = source["token"] if source is not None and not taken else make_token("calibrated_sensor", *key)
            rec = _pose_record(token, T_vehicle_sensor, source_q=source and source["rotation"])
            rec["sensor_token"] = sensor
            rec["camera_intrinsic"] = ([[float(v) for v in row] for row in source["camera_intrinsic"]] if source
                                       else [] if K is None else [[float(v) for v in row] for row in K])
            self.calib_tokens[key] = token
            self.tables["calibrated_sensor"].append(rec)
        return self.calib_tokens[key]

    def _ego_token(self, source: str | None, sd_token: str) -> str:
        """The ego_pose token of sample_data ``sd_token``: the source's, unless absent or already
        written (a sweep sharing its nearest image), else derived."""
        token = source if source and source not in self.ego_tokens else make_token("ego_pose", sd_token)
        self.ego_tokens.add(token)
        return token

    def _sample_data(self, token: str, sample: str, channel: str, ego_token: str, calib: str, ts: int,
                     fileformat: str, filename: str, width: int, height: int) -> dict:
        rec = {"token": token, "sample_token": sample, "ego_pose_token": ego_token, "calibrated_sensor_token": calib,
               "timestamp": int(ts), "fileformat": fileformat, "is_key_frame": True, "height": int(height),
               "width": int(width), "filename": filename, "prev": "", "next": ""}
        prev = self.prev_sd.get(channel)
        if prev is not None:
            prev["next"], rec["prev"] = token, prev["token"]
        self.prev_sd[channel] = rec
        self.tables["sample_data"].append(rec)
        return rec

    # ------------------------------------------------------------------ files
    def frame_cameras(self, index: int) -> list[str]:
        return [c for c in self.drive.rig(index).camera_names if c in self.drive.frames[index].image_paths]

    def _write_sweep(self, i: int, rel: str) -> None:
        """Write frame i's LIDAR_TOP file. A sweep without points is written as an empty file (no
        records): every sample has a LIDAR_TOP sample_data naming it, and nuscenes-devkit's
        ``LidarPointCloud.from_file`` reads it as 0 points."""
        f = self.drive.frames[i]
        pts = self.sweep_to_write(i)
        if not len(pts):
            self.write_bytes(rel, b"")
            return
        if f.lidar_path.name.endswith(".pcd.bin"):
            self.copy_file(f.lidar_path, rel)
            return
        out = np.zeros((len(pts), 5), dtype="<f4")
        k = min(pts.shape[1], 5)
        out[:, :k] = pts[:, :k]
        self.write_bytes(rel, out.tobytes())

    def _write_image(self, i: int, camera: str, rel: str) -> None:
        f = self.drive.frames[i]
        model = self.drive.rig(i).camera(camera).camera
        src = f.image_paths[camera]
        if model.distortion == () and src.suffix.lower() in (".jpg", ".jpeg"):
            self.copy_file(src, rel)
            return
        from ..io.images import write_image

        image = self.drive.image(i, camera)
        if model.distortion != ():
            if model not in self._maps:
                self._maps[model] = undistort_maps(model, pinhole_of(model))
            image = undistort_image(image, self._maps[model])
        write_image(self.path(rel), image, quality=95)
        self.summary.files += 1

    # ------------------------------------------------------------------ frames
    def _timestamps(self, i: int) -> tuple[int, dict[str, int]]:
        f = self.drive.frames[i]
        t = SYNTHETIC_START_US + self.frame_no * KEYFRAME_STEP_US if self.synthetic_time else f.timestamp_us
        cams = {c: t + (f.camera_timestamps_us.get(c, f.timestamp_us) - f.timestamp_us) for c in f.image_paths}
        return int(t), cams

    def _visibility(self, i: int, labels: list[tuple[CuboidLabel, str]], points: np.ndarray) -> list[str]:
        """nuScenes' visibility (the share of each box visible in the sample's camera images) estimated
        from the LiDAR returns in the images of frame ``i``; ``""`` (nuscenes-devkit's unknown level)
        for every box of a frame without a camera image: its sample has no image to see them in."""
        rig = self.drive.rig(i)
        cams = [c for c in rig.camera_names if c in self.drive.frames[i].image_paths]
        if not cams:
            return [""] * len(labels)
        on = np.zeros(len(labels))
        front = np.zeros(len(labels))
        boxes = [lab.box for lab, _ in labels]
        for cam in cams:
            for k, v in enumerate(object_views(points, boxes, self.drive.T_cam_lidar(i, cam), rig.camera(cam).camera)):
                on[k] += v.returns_on
                front[k] += v.returns_front
        total = on + front
        return [nuscenes_visibility_token(on[k] / total[k] if total[k] >= 3 else None) for k in range(len(labels))]

    def add_frame(self, i: int) -> None:
        drive, f, rig = self.drive, self.drive.frames[i], self.drive.rig(i)
        src = self.source_tokens[i] if self.source_tokens else None
        sample_token = src.sample if src and src.sample else make_token("sample", drive.name, f.frame_id)
        t, cam_times = self._timestamps(i)
        sample = {"token": sample_token, "timestamp": t, "prev": "", "next": "", "scene_token": self.scene_token}
        if self.prev_sample is not None:
            self.prev_sample["next"], sample["prev"] = sample_token, self.prev_sample["token"]
        self.prev_sample = sample
        self.tables["sample"].append(sample)
        self.sample_times[sample_token] = t

        # LiDAR keyframe
        sd_token = src.lidar if src else make_token("sample_data", drive.name, f.frame_id, LIDAR)
        ego = self._ego_token(src.ego_poses.get(LIDAR) if src else None, sd_token)
        rotations = src.ego_rotations if src else {}
        self.tables["ego_pose"].append(_pose_record(ego, f.T_world_vehicle, t, rotations.get(LIDAR)))
        calib = self._calibrated(LIDAR, "lidar", rig.T_vehicle_lidar, None)
        rel = f"samples/{LIDAR}/{self.logfile}__{LIDAR}__{t}.pcd.bin"
        self._sample_data(sd_token, sample_token, LIDAR, ego, calib, t, "pcd", rel, 0, 0)
        if self.options.sensor_data:
            self._write_sweep(i, rel)

        # cameras
        for cam in rig.camera_names:
            if cam not in f.image_paths:
                continue
            ch = channel_name(cam)
            model = rig.camera(cam).camera
            sd = src.cameras.get(cam) if src else None
            source_ego = src.ego_poses.get(cam) if src and sd else None
            if sd is None or sd in self.sd_tokens:   # a sweep may share its nearest image with another frame
                sd, source_ego = make_token("sample_data", drive.name, f.frame_id, ch), None
            self.sd_tokens.add(sd)
            ego = self._ego_token(source_ego, sd)
            T_world_vehicle_cam = f.T_world_vehicle_at_camera.get(cam, f.T_world_vehicle)
            self.tables["ego_pose"].append(_pose_record(ego, T_world_vehicle_cam, cam_times[cam], rotations.get(cam)))
            calib = self._calibrated(ch, "camera", rig.camera(cam).T_vehicle_sensor, pinhole_of(model).K)
            rel = f"samples/{ch}/{self.logfile}__{ch}__{cam_times[cam]}.jpg"
            self._sample_data(sd, sample_token, ch, ego, calib, cam_times[cam], "jpg", rel, model.width, model.height)
            if self.options.sensor_data:
                self._write_image(i, cam, rel)
        if any(c in f.image_paths for c in rig.camera_names):
            self.camera_records = True
        else:
            self.lidar_only.append(i)

        # annotations
        labels = self.labels(i)
        if labels:
            points = drive.points(i)
            T_world_lidar = drive.T_world_lidar(i)
            written = [levelled_in_world(lab.box, T_world_lidar) for lab, _ in labels]
            sources = [unchanged_source_box(lab.box, lab.attributes.get(SOURCE_BOX), T_world_lidar)
                       for lab, _ in labels]
            untouched = self.imported.untouched(i, [lab for lab, _ in labels], KEPT_AS_IMPORTED)
            # an untouched import keeps its source's count and visibility; the others' are counted, estimated
            kept = [_kept_count(lab, untouched[k]) for k, (lab, _) in enumerate(labels)]
            T_lidar_world = invert_T(T_world_lidar)   # points are counted in the boxes as written
            todo = [k for k in range(len(labels)) if kept[k] is None]
            counts = dict(zip(todo, count_points_in_cuboids(points, [written[k].transformed(T_lidar_world)
                                                                     for k in todo])))
            given = [chosen_visibility(lab) or (lab.attributes.get("visibility") if untouched[k] else None)
                     for k, (lab, _) in enumerate(labels)]
            visibility = None
            if not all(v in VISIBILITY_TOKENS for v in given):
                visibility = self._visibility(i, labels, points)
            for k, (lab, cls) in enumerate(labels):
                estimated = given[k] not in VISIBILITY_TOKENS
                self.stale_radar += not untouched[k] and isinstance(lab.attributes.get("num_radar_pts"), int)
                self._annotation(sample_token, lab, cls, int(counts[k] if kept[k] is None else kept[k]), written[k],
                                 visibility[k] if estimated else given[k], sources[k], estimated)
        self.frame_no += 1

    def _annotation(self, sample_token: str, lab: CuboidLabel, cls: str, num_lidar_pts: int,
                    box: Cuboid, visibility: str, source: dict | None = None, estimated: bool = False) -> None:
        """One sample_annotation of ``lab``, whose box in the global frame is ``box``; an unchanged
        imported box writes its source's numbers ``source`` (:mod:`~fusionlabel.io.nuscenes_boxes`);
        ``estimated``: ``visibility`` was estimated from the LiDAR returns."""
        token = lab.attributes.get("nuscenes_token")
        if not (isinstance(token, str) and _HEX32.match(token)) or token in self.ann_tokens:
            token = make_token("sample_annotation", sample_token, lab.track_id, len(self.ann_tokens))
        self.ann_tokens.add(token)
        if visibility == "":
            self.unknown_visibility += 1
        elif estimated:
            self.estimated_visibility += 1
        instance = ("box", token) if lab.track_id is None else ("track", lab.track_id)   # token set in finish()
        if lab.track_id is not None and isinstance(lab.attributes.get("nuscenes_token"), str):
            self.sourced_tracks.add(lab.track_id)
        radar = self.no_radar.count(lab)
        rec = {"token": token, "sample_token": sample_token, "instance_token": "",
               "visibility_token": visibility,
               "attribute_tokens": [],          # set in finish(), when the track's speed is known
               "translation": [float(v) for v in box.center],
               "size": [box.width, box.length, box.height],
               "rotation": [float(v) for v in quaternion_from_rotation(box.rotation())],
               "prev": "", "next": "",
               "num_lidar_pts": num_lidar_pts,
               "num_radar_pts": int(radar)}
        if source is not None:
            rec.update({key: [float(v) for v in source[key]] for key in ("translation", "size", "rotation")})
        self.instance_anns[instance].append(rec)
        self.ann_labels[token] = lab
        self.instance_classes[instance][cls] += 1
        self.tables["sample_annotation"].append(rec)

    # ------------------------------------------------------------------ tables
    def speed(self, anns: list[dict], k: int) -> float | None:
        """Ground-plane speed (m/s) of annotation ``anns[k]`` of an instance, as nuscenes-devkit's
        ``box_velocity`` computes it: from the annotations before and after it (or itself), None
        for a lone annotation, neighbours more than 1.5 s apart (3 s across both), timestamps
        that were made up, or a drive without ego poses (neither gives a speed)."""
        if self.synthetic_time or self.no_poses or len(anns) < 2:
            return None
        first, last = anns[max(k - 1, 0)], anns[min(k + 1, len(anns) - 1)]
        dt = (self.sample_times[last["sample_token"]] - self.sample_times[first["sample_token"]]) / 1e6
        if not 0 < dt <= (3.0 if 0 < k < len(anns) - 1 else 1.5):
            return None
        return float(np.hypot(*np.subtract(last["translation"][:2], first["translation"][:2]))) / dt

    def instance_tokens(self) -> dict[tuple, str]:
        """The instance token of each exported instance (see the module docstring). A 32-hex track id
        claims its token first; a source token already claimed, or a track none of whose boxes came
        from the source (drawn in a project on the drive), gets a derived token."""
        out: dict[tuple, str] = {key: key[1] for key in self.instance_anns
                                 if key[0] == "track" and _HEX32.match(key[1])}
        taken = set(out.values())
        for (kind, name) in self.instance_anns:
            if (kind, name) in out:
                continue
            token = self.source_instances.get(name) if kind == "track" and name in self.sourced_tracks else None
            if token is None or token in taken:
                token = make_token("instance", self.drive.name, name)
            out[(kind, name)] = token
            taken.add(token)
        return out

    def finish(self) -> None:
        T = self.tables
        changed = derived = unknown = source_none = 0
        tokens = self.instance_tokens()
        for key, anns in self.instance_anns.items():
            inst = tokens[key]
            for a, b in zip(anns, anns[1:]):
                a["next"], b["prev"] = b["token"], a["token"]
            for rec in anns:
                rec["instance_token"] = inst
            classes = self.instance_classes[key]
            cls = classes.most_common(1)[0][0]
            changed += sum(n for c, n in classes.items() if c != cls)
            self.summary.objects[cls] += len(anns)   # counted as written: the instance's category
            for k, rec in enumerate(anns):   # attributes of the instance's category, as written
                lab = self.ann_labels[rec["token"]]
                names, from_speed = nuscenes_attributes_by_speed(lab, cls, self.speed(anns, k))
                if from_speed:
                    derived += 1
                elif not names and attribute_group(cls):
                    if lab.attributes.get("nuscenes_attributes") == []:   # a nuScenes source listed none
                        source_none += 1
                    else:
                        unknown += 1
                rec["attribute_tokens"] = [self.attribute_tokens[a] for a in names]
            T["instance"].append({"token": inst, "category_token": self.category_tokens[cls],
                                  "nbr_annotations": len(anns), "first_annotation_token": anns[0]["token"],
                                  "last_annotation_token": anns[-1]["token"]})
        samples = T["sample"]
        first_t = samples[0]["timestamp"] if samples else 0
        date = self.log_date or "1970-01-01"
        if first_t > 0 and not self.log_date:
            date = _dt.datetime.fromtimestamp(first_t / 1e6, _dt.timezone.utc).date().isoformat()
        T["scene"].append({"token": self.scene_token, "log_token": self.log_token, "nbr_samples": len(samples),
                           "first_sample_token": samples[0]["token"] if samples else "",
                           "last_sample_token": samples[-1]["token"] if samples else "",
                           "name": self.scene_name, "description": self.scene_description})
        T["log"].append({"token": self.log_token, "logfile": self.logfile, "vehicle": self.log_vehicle,
                         "date_captured": date, "location": self.log_location})
        map_token = self.source_map.get("token") or make_token("map", self.log_token)
        map_file = self.source_map.get("filename", "")
        if not re.fullmatch(r"maps/[0-9A-Za-z._-]+\.png", map_file):
            map_file = f"maps/{map_token}.png"
        T["map"].append({"token": map_token, "log_tokens": [self.log_token],
                         "category": self.source_map.get("category") or "semantic_prior", "filename": map_file})
        self._write_map(map_file)
        T["category"] = list(self.categories.values())
        T["attribute"] = list(self.attributes.values())
        T["visibility"] = [{"token": t, "level": lvl, "description": d} for t, lvl, d in VISIBILITY]
        for name, rows in T.items():
            self.write_json(f"{self.version}/{name}.json", Streamed(iter(rows), array=True))
        self._custom_split()
        self._notes(changed, derived, unknown, source_none)

    def _custom_split(self) -> None:
        """A scene name in no official nuScenes split gets the custom split ``fusionlabel`` in
        ``<version>/splits.json`` (nuscenes-devkit 1.2 reads custom splits from there), and a note
        saying how to evaluate it: the devkit's ``load_gt(nusc, 'mini_train')`` and the other
        official splits select scenes by name and would find none of its boxes."""
        official = official_split_of(self.scene_name)
        if official is not None:
            return
        self.write_text(f"{self.version}/splits.json", json.dumps({CUSTOM_SPLIT: [self.scene_name]}, indent=1) + "\n")
        self.summary.note(
            f"scene '{self.scene_name}' is in no official nuScenes split, so nuscenes-devkit's load_gt(nusc, "
            f"'mini_train') and the other official splits find none of its boxes; {self.version}/splits.json names "
            f"it in the custom split '{CUSTOM_SPLIT}': evaluate with DetectionEval(nusc, config, results, "
            f"eval_set='{CUSTOM_SPLIT}', ...) or load_gt_of_sample_tokens(nusc, "
            f"get_samples_of_custom_split('{CUSTOM_SPLIT}', nusc), DetectionBox) (--scene-name renames the scene)")

    def _note_lidar_only(self) -> None:
        """Say which samples hold LIDAR_TOP only (their frames have no camera image): every one, or
        the frames, in ranges."""
        if not self.lidar_only or not self.drive.rig(self.lidar_only[0]).camera_names:
            return
        if len(self.lidar_only) == self.summary.frames:
            self.summary.note("no exported frame has a camera image: every sample holds LIDAR_TOP only (no camera "
                              "sample_data, calibrated_sensor or image)")
            return
        name = lambda i: self.drive.frames[i].frame_id   # noqa: E731
        self.summary.note(f"{len(self.lidar_only)} of {self.summary.frames} samples hold LIDAR_TOP only, their frames "
                          f"having no camera image: {frame_ranges(sorted(self.lidar_only), name)}")

    def _write_map(self, rel: str) -> None:
        import cv2

        self.write_bytes(rel, cv2.imencode(".png", np.zeros((16, 16), np.uint8))[1].tobytes())   # imwrite fails silently

    def _notes(self, changed: int, derived: int, unknown: int, source_none: int = 0) -> None:
        s = self.summary
        if derived:
            s.note(f"the attribute of {derived} object(s) was derived from its track's speed (moving above "
                   f"{MOVING_SPEED} m/s): their labels do not say")
        if source_none:
            s.note(f"{source_none} vehicle(s), two-wheeler(s) or pedestrian(s) are written without an attribute, as "
                   "in the source: its nuScenes annotations carry none (empty attribute_tokens), and no track's "
                   "speed gives one")
        if unknown:
            s.note(f"{unknown} vehicle(s), two-wheeler(s) or pedestrian(s) have no attribute: neither the "
                   "label nor a track's speed tells")
        # Without ego poses no track gives a speed; say so when some track was long enough to have one.
        if self.no_poses and not self.synthetic_time and any(len(a) > 1 for a in self.instance_anns.values()):
            s.note("attributes were not derived from the tracks' speed: the drive has no ego poses (every "
                   "frame at the same pose), so a box's motion is the ego's too (fusionlabel import "
                   "--estimate-poses writes a copy with poses estimated from the sweeps)")
        if self.synthetic_time:
            s.note(f"the drive's timestamps do not increase: keyframes were given timestamps "
                   f"{KEYFRAME_STEP_US // 1000} ms apart")
        self._note_lidar_only()
        rig = self.drive.rig(self.frames[0] if self.frames else 0)
        distorted = [c.name for c in rig.cameras if c.camera.distortion != ()]
        if distorted and self.camera_records:
            s.note(f"lens distortion of {', '.join(distorted)}: nuScenes cameras are pinhole, so their images were "
                   "undistorted to the same intrinsics")
        if changed:
            s.note(f"{changed} annotation(s) whose class differs from the rest of their track: a nuScenes instance "
                   "has one category (the track's most frequent class was used)")
        if self.stale_radar:
            s.note(stale_radar_note(self.stale_radar, "num_radar_pts"))
        if self.estimated_visibility:
            s.note(f"visibility of {self.estimated_visibility} object(s) was estimated from LiDAR returns")
        if self.unknown_visibility:
            s.note(f"visibility of {self.unknown_visibility} object(s) in samples without a camera image is \"\" "
                   "(unknown, as nuscenes-devkit's scripts read it): there is no image to see them in")
        for note in self.no_radar.notes():
            s.note(note)
        self.note_empty_sweeps(".pcd.bin")
        if not self.options.sensor_data:
            s.note(f"sensor files (samples/) were not written ({self.options.labels_only_words}): the tables name files "
                   "that are absent")
        s.note("non-keyframe sweeps, label scores and sources, and attributes other than nuScenes' own")
