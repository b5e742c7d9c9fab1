"""ASAM OpenLABEL 1.0 JSON: reading labelled cuboids, coordinate systems, streams and poses, and the
value encodings shared with the writer (:mod:`fusionlabel.export.openlabel`).

Layout written by ``fusionlabel.export.openlabel.write_openlabel``; :func:`read_openlabel` reads
it back (and files of other tools: cuboids in any declared coordinate system)::

    openlabel.metadata            schema_version "1.0.0", name
    openlabel.coordinate_systems  "odom" (scene) > "vehicle-iso8855" (ego) > LiDAR and cameras; a
                                  child's ``pose_wrt_parent.matrix4x4`` is T_parent_child, row-major;
                                  "vehicle-iso8855" has ``"vehicle_frame": false`` (custom) when the
                                  rig has no vehicle frame and the LiDAR's stands in (Rig.vehicle_frame)
    openlabel.streams             LiDAR, and cameras with intrinsics_pinhole (OpenCV k1 k2 p1 p2 k3 …)
                                  or intrinsics_fisheye (OpenCV fisheye k1..k4, model "opencv_fisheye")
    openlabel.objects[uid]        one object per track: name = track ID, type = class
    openlabel.frames[n]           n = drive frame index; frame_properties: timestamp (s), frame_id,
                                  timestamp_us, transforms {"vehicle-iso8855_to_odom": T_world_vehicle},
                                  streams {stream: uri, sync timestamp}, T_world_vehicle_at_camera (custom);
                                  a uri is the file's path relative to the OpenLABEL file's folder
        .objects[uid].object_data cuboid "box3d" in the LiDAR coordinate system, val =
                                  (x, y, z, qx, qy, qz, qw, sx, sy, sz) or, with Euler angles,
                                  (x, y, z, roll, pitch, yaw, sx, sy, sz) with R = Rz(yaw) Ry(pitch) Rx(roll);
                                  the label's attributes ride in the cuboid's ``attributes``; score (num),
                                  source (text) and a per-frame class differing from the object type
                                  (text "class") in the object_data

Attributes map to boolean / num / text / vec entries; values of any other JSON type are written as
text with ``"encoding": "json"``, so import restores them exactly.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import LabelError
from ..geometry.cameras import camera_from_params
from ..geometry.cuboid import Cuboid
from ..geometry.transforms import (T_from_Rt, euler_from_rotation, invert_T, quaternion_from_rotation,
                                   rotation_from_euler, rotation_from_quaternion)
from ..model.annotation import SOURCES, CuboidLabel
from ..model.rig import CameraSensor, LidarSensor, Rig
from .jsonfile import read_json

SCHEMA_VERSION = "1.0.0"
ODOM = "odom"
VEHICLE = "vehicle-iso8855"
VEHICLE_FRAME_KEY = "vehicle_frame"     # custom key of VEHICLE's coordinate system: false = no real vehicle frame
CUBOID_NAME = "box3d"
UNTRACKED = "fusionlabel_untracked"


# ------------------------------------------------------------------------------------ values
def matrix16(T: np.ndarray) -> list[float]:
    """Row-major 16 numbers of a (4, 4) transform."""
    return [float(v) for v in np.asarray(T, dtype=np.float64).ravel()]


def cuboid_val(box: Cuboid, rotation: str = "quaternion") -> list[float]:
    """OpenLABEL cuboid ``val``: 10 numbers (quaternion x, y, z, w) or 9 (roll, pitch, yaw)."""
    c, s = list(box.center), list(box.size)
    if rotation == "euler":
        return [*c, box.roll, box.pitch, box.yaw, *s]
    if rotation != "quaternion":
        raise ValueError(f"rotation must be 'quaternion' or 'euler', got {rotation!r}")
    w, x, y, z = quaternion_from_rotation(box.rotation())
    return [*c, float(x), float(y), float(z), float(w), *s]


def cuboid_from_val(val: Any, path: Path, where: str) -> Cuboid:
    """Inverse of :func:`cuboid_val`; LabelError names the key on bad input."""
    if not isinstance(val, list) or len(val) not in (9, 10) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in val):
        raise LabelError(path, f"expected 9 or 10 finite numbers, got {str(val)[:80]}", where=where)
    if len(val) == 9:
        roll, pitch, yaw = val[3:6]
    else:
        qx, qy, qz, qw = val[3:7]
        if qx * qx + qy * qy + qz * qz + qw * qw <= 0.0:
            raise LabelError(path, "quaternion (qx, qy, qz, qw) is zero", where=where)
        roll, pitch, yaw = euler_from_rotation(rotation_from_quaternion([qw, qx, qy, qz]))
    size = val[-3:]
    if min(size) <= 0:
        raise LabelError(path, f"cuboid size (sx, sy, sz) must be positive, got {size}", where=where)
    return Cuboid(val[:3], size, yaw, pitch, roll)


def transform_data(data: Any, path: Path, where: str) -> np.ndarray:
    """(4, 4) from OpenLABEL transform data: matrix4x4, quaternion + translation, or Euler + translation."""
    if not isinstance(data, dict):
        raise LabelError(path, f"expected a transform object, got {type(data).__name__}", where=where)
    try:
        if "matrix4x4" in data:
            m = np.asarray(data["matrix4x4"], dtype=np.float64)
            if m.shape != (16,):
                raise ValueError(f"matrix4x4 needs 16 numbers, got {m.size}")
            T = m.reshape(4, 4)
        elif "quaternion" in data:
            qx, qy, qz, qw = (float(v) for v in data["quaternion"])
            T = T_from_Rt(rotation_from_quaternion([qw, qx, qy, qz]), data["translation"])
        elif "euler_angles" in data:
            seq = data.get("sequence", "ZYX")
            if seq != "ZYX":
                raise ValueError(f"only Euler sequence ZYX is supported, got {seq!r}")
            rz, ry, rx = (float(v) for v in data["euler_angles"])
            T = T_from_Rt(rotation_from_euler(rx, ry, rz), data["translation"])
        else:
            raise ValueError("expected matrix4x4, quaternion + translation or euler_angles + translation")
    except (TypeError, ValueError, KeyError) as e:
        raise LabelError(path, f"bad transform: {e}", where=where) from None
    if not np.all(np.isfinite(T)):
        raise LabelError(path, "transform has NaN or inf", where=where)
    return T


def encode_attributes(attributes: dict[str, Any]) -> dict[str, list]:
    """Label attributes as OpenLABEL element data (boolean / num / text / vec lists)."""
    out: dict[str, list] = {}
    for name, value in attributes.items():
        if isinstance(value, bool):
            out.setdefault("boolean", []).append({"name": name, "val": value})
        elif isinstance(value, (int, float)) and math.isfinite(value):
            out.setdefault("num", []).append({"name": name, "val": value})
        elif isinstance(value, str):
            out.setdefault("text", []).append({"name": name, "val": value})
        elif isinstance(value, list) and value and (
                all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
                or all(isinstance(v, str) for v in value)):
            out.setdefault("vec", []).append({"name": name, "val": list(value)})
        else:
            out.setdefault("text", []).append({"name": name, "val": json.dumps(value), "encoding": "json"})
    return out


def decode_attributes(data: Any, path: Path, where: str) -> dict[str, Any]:
    """Inverse of :func:`encode_attributes` (order: boolean, num, text, vec)."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LabelError(path, f"expected an object, got {type(data).__name__}", where=where)
    out: dict[str, Any] = {}
    for kind in ("boolean", "num", "text", "vec"):
        for k, item in enumerate(data.get(kind, []) or []):
            w = f"{where}.{kind}[{k}]"
            if not isinstance(item, dict) or "val" not in item or not isinstance(item.get("name"), str):
                raise LabelError(path, "expected an object with 'name' and 'val'", where=w)
            val = item["val"]
            if kind == "text" and item.get("encoding") == "json":
                try:
                    val = json.loads(val)
                except (TypeError, json.JSONDecodeError) as e:
                    raise LabelError(path, f"text with encoding json does not parse: {e}", where=w) from None
            out[item["name"]] = val
    return out


# ------------------------------------------------------------------------------------ reading
@dataclass
class OpenLabelFrame:
    """One frame of an OpenLABEL file: its number, our frame id (when written by us) and poses."""

    number: int
    frame_id: str | None = None
    timestamp_us: int | None = None
    T_world_vehicle: np.ndarray | None = None
    T_world_vehicle_at_camera: dict[str, np.ndarray] = field(default_factory=dict)
    camera_timestamps_us: dict[str, int] = field(default_factory=dict)
    stream_files: dict[str, Path] = field(default_factory=dict)   # stream -> its file (resolve_uri)


def resolve_uri(uri: str, path: Path) -> Path:
    """The file a stream ``uri`` of the OpenLABEL file ``path`` names: an absolute path as it is, a
    relative one from the file's own folder (as fusionlabel writes it). Files written before that
    named paths relative to the working directory of the export: such a path is taken as it is
    when it exists and the one from the file's folder does not."""
    p = Path(uri)
    if p.is_absolute():
        return p
    beside = Path(path).parent / p
    return p if not beside.exists() and p.exists() else beside


@dataclass
class OpenLabelScene:
    """What :func:`read_openlabel` returns: labels per frame number (in the file's LiDAR coordinate
    system, ``lidar``), frame information and the rig rebuilt from coordinate systems and streams.
    ``notes`` collects what :meth:`labels_for` left out or assumed (the import command prints them)."""

    path: Path
    name: str
    frames: dict[int, OpenLabelFrame]
    labels: dict[int, list[CuboidLabel]]
    rig: Rig | None
    lidar: str | None = None
    notes: list[str] = field(default_factory=list)

    def frame_indices(self, drive) -> tuple[dict[int, int], list[str]]:
        """({file frame number: drive index}, notes) for ``drive``.

        A file whose frames carry frame IDs is matched by ID only: LabelError when none of its IDs is
        in the drive (a file of another drive), or when two frames share an ID; frames whose ID is
        not in the drive (or that have none) are left out and named in the notes. A file without
        any frame ID is matched by frame number (LabelError for a number outside the drive).
        """
        def listed(ids: list, k: int = 3) -> str:
            shown = ", ".join(repr(x) for x in ids[:k])
            return f"{shown}, … ({len(ids)} in all)" if len(ids) > k else shown

        with_ids = {n: fr.frame_id for n, fr in self.frames.items() if fr.frame_id is not None}
        out: dict[int, int] = {}
        notes: list[str] = []
        if not with_ids:
            for n, fr in self.frames.items():
                if not 0 <= n < len(drive):
                    raise LabelError(self.path, f"frame {n} is not in drive {drive.name} ({len(drive)} frames; the "
                                                "file has no frame IDs, so frames are matched by number)",
                                     where=f"openlabel.frames.{n}")
                out[n] = n
            return out, notes
        index = {f.frame_id: i for i, f in enumerate(drive.frames)}
        matched = {n: index[fid] for n, fid in with_ids.items() if fid in index}
        if not matched:
            raise LabelError(self.path, f"none of the file's frame IDs is in drive {drive.name}: the file has "
                                        f"{listed(sorted(set(with_ids.values()), key=str))}; the drive has "
                                        f"{listed([f.frame_id for f in drive.frames])}",
                             where="openlabel.frames.*.frame_properties.frame_id")
        seen: dict[int, int] = {}
        for n, i in sorted(matched.items()):
            if i in seen:
                raise LabelError(self.path, f"frames {seen[i]} and {n} both have frame ID {with_ids[n]!r}",
                                 where=f"openlabel.frames.{n}.frame_properties.frame_id")
            seen[i] = n
        missing = sorted(n for n in self.frames if n not in matched)
        if missing:
            unknown = [with_ids[n] for n in missing if n in with_ids]
            no_id = [n for n in missing if n not in with_ids]
            parts = []
            if unknown:
                parts.append(f"frame IDs not in drive {drive.name}: {listed(unknown)}")
            if no_id:
                parts.append(f"frames without a frame ID: {listed(no_id)}")
            dropped = sum(len(self.labels.get(n, [])) for n in missing)
            notes.append(f"{self.path.name}: labels of {len(missing)} of {len(self.frames)} frames not imported "
                         f"({dropped} boxes); {'; '.join(parts)}")
        return matched, notes

    def labels_for(self, drive=None) -> Callable[[int], list[CuboidLabel]]:
        """A ``labels_for(frame_index)`` for ``drive``, frames matched as :meth:`frame_indices` says
        (its notes are added to ``self.notes``); without a drive, by frame number."""
        if drive is None:
            return lambda i: list(self.labels.get(i, []))
        index, notes = self.frame_indices(drive)
        try:
            ref = drive.rig(0).reference_lidar
        except (ValueError, KeyError, IndexError):   # a drive without a rig or frames
            ref = None
        if self.lidar is not None and ref is not None and self.lidar != ref:
            notes.append(f"{self.path.name}: boxes are in the file's LiDAR coordinate system {self.lidar!r}, taken as "
                         f"the drive's reference LiDAR {ref!r}")
        self.notes.extend(x for x in notes if x not in self.notes)
        by_index = {i: self.labels.get(n, []) for n, i in index.items()}
        return lambda i: list(by_index.get(i, []))


def _get(d: dict, key: str, path: Path, where: str, kind=dict):
    if not isinstance(d, dict) or key not in d:
        raise LabelError(path, "missing required key", where=f"{where}.{key}" if where else key)
    v = d[key]
    if kind is not None and not isinstance(v, kind):
        raise LabelError(path, f"expected {kind.__name__}, got {type(v).__name__}", where=f"{where}.{key}")
    return v


def _camera_from_stream(name: str, props: dict, path: Path, where: str):
    try:
        if "intrinsics_pinhole" in props:
            p = props["intrinsics_pinhole"]
            K = np.asarray(p.get("camera_matrix", p.get("camera_matrix_3x4")), dtype=np.float64).reshape(3, 4)
            dist = [float(v) for v in p.get("distortion_coeffs", p.get("distortion_coeffs_1xN", []))]
            model = "radtan" if any(dist) else "pinhole"
            if model == "radtan" and len(dist) not in (4, 5, 8):
                if len(dist) > 8 and not any(dist[8:]):
                    dist = dist[:8]
                else:
                    raise ValueError(f"{len(dist)} distortion coefficients (supported: 4, 5 or 8)")
            return camera_from_params(model, p["width_px"], p["height_px"], K[0, 0], K[1, 1], K[0, 2], K[1, 2],
                                      dist if model == "radtan" else ())
        if "intrinsics_fisheye" in props:
            p = props["intrinsics_fisheye"]
            coeffs = p.get("lens_coeffs", p.get("lens_coeffs_1xN"))
            return camera_from_params("fisheye", p["width_px"], p["height_px"], p["focal_length_x"],
                                      p.get("focal_length_y", p["focal_length_x"]), p["center_x_px"],
                                      p["center_y_px"], coeffs)
    except (KeyError, TypeError, ValueError) as e:
        raise LabelError(path, f"camera {name}: cannot build intrinsics ({e})", where=where) from None
    return None


def _rig_from_document(root: dict, path: Path, lidar_cs: str | None) -> Rig | None:
    cs = root.get("coordinate_systems") or {}
    streams = root.get("streams") or {}
    sensors: dict = {}
    for name, c in cs.items():
        if not isinstance(c, dict) or c.get("parent") != VEHICLE:
            continue
        T = transform_data(c["pose_wrt_parent"], path, f"openlabel.coordinate_systems.{name}.pose_wrt_parent") \
            if "pose_wrt_parent" in c else np.eye(4)
        stream = streams.get(name, {}) if isinstance(streams, dict) else {}
        if stream.get("type") == "camera":
            camera = _camera_from_stream(name, stream.get("stream_properties") or {}, path,
                                         f"openlabel.streams.{name}.stream_properties")
            if camera is not None:
                sensors[name] = CameraSensor(name, camera, T)
        elif stream.get("type") == "lidar" or name == lidar_cs:
            sensors[name] = LidarSensor(name, T)
    if lidar_cs not in sensors:
        return None
    vehicle = cs.get(VEHICLE)
    vehicle_frame = vehicle.get(VEHICLE_FRAME_KEY, True) if isinstance(vehicle, dict) else True
    if not isinstance(vehicle_frame, bool):
        raise LabelError(path, f"expected true or false, got {vehicle_frame!r}",
                         where=f"openlabel.coordinate_systems.{VEHICLE}.{VEHICLE_FRAME_KEY}")
    return Rig(root.get("metadata", {}).get("name", path.stem), sensors, lidar_cs, vehicle_frame)


def _lidar_coordinate_system(root: dict, lidar: str | None) -> tuple[str | None, str]:
    """(the file's LiDAR coordinate system, or None and why not).

    It is ``lidar`` (the drive's reference LiDAR name) when the file declares a coordinate system of
    that name, otherwise the single declared coordinate system whose stream has type ``lidar``.
    """
    cs = root.get("coordinate_systems") or {}
    if lidar is not None and lidar in cs:
        return lidar, ""
    streams = root.get("streams") or {}
    lidars = [n for n, st in (streams.items() if isinstance(streams, dict) else ())
              if isinstance(st, dict) and st.get("type") == "lidar" and n in cs]
    if len(lidars) == 1:
        return lidars[0], ""
    named = f" and none is named {lidar!r} (the drive's reference LiDAR)" if lidar else ""
    if lidars:
        return None, f"streams {', '.join(lidars)} are all of type 'lidar'{named}"
    return None, f"no coordinate system has a stream of type 'lidar'{named}"


class _CoordinateSystems:
    """The file's coordinate-system tree: transforms between any two systems of one tree, per frame."""

    def __init__(self, cs: dict, path: Path):
        self.cs, self.path = cs, path

    def chain(self, name: str) -> list[str]:
        """``name``, its parent, …, up to the root; LabelError on an undeclared parent or a cycle."""
        out = [name]
        while True:
            c = self.cs[out[-1]]
            parent = c.get("parent", "") if isinstance(c, dict) else ""
            if not parent:
                return out
            if not isinstance(parent, str) or parent not in self.cs:
                raise LabelError(self.path, f"parent {parent!r} is not a declared coordinate system",
                                 where=f"openlabel.coordinate_systems.{out[-1]}.parent")
            if parent in out:
                raise LabelError(self.path, f"coordinate systems form a cycle: {' > '.join([*out, parent])}",
                                 where=f"openlabel.coordinate_systems.{out[-1]}.parent")
            out.append(parent)

    def T_parent_child(self, child: str, parent: str, transforms: dict, where: str) -> np.ndarray:
        """This frame's transform child -> parent: a frame transform (either direction) if the frame
        has one, else the child's ``pose_wrt_parent``, else the identity."""
        for key, t in (transforms.items() if isinstance(transforms, dict) else ()):
            if not isinstance(t, dict):
                continue
            src, dst = t.get("src"), t.get("dst")
            if src is None and dst is None:
                src, _, dst = key.partition("_to_")
            tw = f"{where}.frame_properties.transforms.{key}.transform_src_to_dst"
            if (src, dst) == (child, parent):
                return transform_data(t.get("transform_src_to_dst"), self.path, tw)
            if (src, dst) == (parent, child):
                return invert_T(transform_data(t.get("transform_src_to_dst"), self.path, tw))
        c = self.cs[child]
        if "pose_wrt_parent" in c:
            return transform_data(c["pose_wrt_parent"], self.path,
                                  f"openlabel.coordinate_systems.{child}.pose_wrt_parent")
        return np.eye(4)

    def T_a_b(self, a: str, b: str, transforms: dict, where: str) -> np.ndarray:
        """T_a_b in one frame, through the lowest common ancestor of a and b."""
        chain_a, chain_b = self.chain(a), self.chain(b)
        common = next((n for n in chain_a if n in chain_b), None)
        if common is None:
            raise LabelError(self.path, f"coordinate systems {a!r} and {b!r} are in separate trees (roots "
                                        f"{chain_a[-1]!r} and {chain_b[-1]!r}): no transform between them",
                             where="openlabel.coordinate_systems")

        def T_common(chain: list[str]) -> np.ndarray:
            T = np.eye(4)
            for child, parent in zip(chain, chain[1:]):
                if child == common:
                    break
                T = self.T_parent_child(child, parent, transforms, where) @ T
            return T

        return invert_T(T_common(chain_a)) @ T_common(chain_b)


def read_openlabel(path: str | Path, lidar: str | None = None) -> OpenLabelScene:
    """Read an OpenLABEL 1.0 file into labels per frame (cuboids in the file's LiDAR frame).

    The LiDAR coordinate system is ``lidar`` (give the drive's reference LiDAR name) when the file
    declares it, otherwise the one coordinate system whose stream has type ``lidar``; see
    :func:`_lidar_coordinate_system`. Cuboids given in any other declared coordinate system (the
    vehicle, the scene, a camera) are converted to it through the coordinate-system tree: each
    frame's ``transforms`` where given, the systems' ``pose_wrt_parent`` otherwise. A cuboid
    without ``coordinate_system`` is taken as given in the LiDAR frame. Errors name the file and the
    JSON key; an undeclared coordinate system on any cuboid is an error.
    """
    path = Path(path)
    doc = read_json(path, "OpenLABEL file")
    root = _get(doc, "openlabel", path, "")
    version = _get(root, "metadata", path, "openlabel").get("schema_version")
    if version != SCHEMA_VERSION:
        raise LabelError(path, f"expected schema_version '{SCHEMA_VERSION}', got {version!r}",
                         where="openlabel.metadata.schema_version")
    cs = root.get("coordinate_systems") or {}
    objects = root.get("objects") or {}
    frames = root.get("frames") or {}
    if not isinstance(objects, dict) or not isinstance(frames, dict):
        raise LabelError(path, "objects and frames must be JSON objects", where="openlabel")

    if not isinstance(cs, dict):
        raise LabelError(path, "coordinate_systems must be a JSON object", where="openlabel.coordinate_systems")
    lidar_cs, no_lidar = _lidar_coordinate_system(root, lidar)
    rig = _rig_from_document(root, path, lidar_cs) if lidar_cs else None
    tree = _CoordinateSystems(cs, path)

    out_frames: dict[int, OpenLabelFrame] = {}
    labels: dict[int, list[CuboidLabel]] = {}
    for fk, fr in frames.items():
        where = f"openlabel.frames.{fk}"
        try:
            n = int(fk)
        except ValueError:
            raise LabelError(path, f"frame keys must be integers, got {fk!r}", where=where) from None
        if not isinstance(fr, dict):
            raise LabelError(path, f"expected an object, got {type(fr).__name__}", where=where)
        props = fr.get("frame_properties") or {}
        transforms = props.get("transforms") or {}
        info = OpenLabelFrame(n, props.get("frame_id"))
        if isinstance(props.get("timestamp_us"), int):
            info.timestamp_us = props["timestamp_us"]
        elif isinstance(props.get("timestamp"), (int, float)):
            info.timestamp_us = int(round(props["timestamp"] * 1e6))
        key = f"{VEHICLE}_to_{ODOM}"
        if key in transforms:
            info.T_world_vehicle = transform_data(transforms[key].get("transform_src_to_dst"), path,
                                                  f"{where}.frame_properties.transforms.{key}")
        for cam, m in (props.get("T_world_vehicle_at_camera") or {}).items():
            info.T_world_vehicle_at_camera[cam] = transform_data(
                {"matrix4x4": m}, path, f"{where}.frame_properties.T_world_vehicle_at_camera.{cam}")
        info.camera_timestamps_us = {c: int(t) for c, t in (props.get("camera_timestamps_us") or {}).items()}
        for stream, st in (props.get("streams") or {}).items():
            if isinstance(st, dict) and isinstance(st.get("uri"), str) and st["uri"]:
                info.stream_files[stream] = resolve_uri(st["uri"], path)
        out_frames[n] = info
        T_lidar_cs: dict[str, np.ndarray] = {}   # per frame: cuboid coordinate system -> LiDAR
        frame_labels = []
        for uid, ob in (fr.get("objects") or {}).items():
            ow = f"{where}.objects.{uid}"
            if uid not in objects:
                raise LabelError(path, f"object {uid} is not declared in openlabel.objects", where=ow)
            obj = objects[uid]
            data = (ob or {}).get("object_data") or {}
            for k, c in enumerate(data.get("cuboid", []) or []):
                cw = f"{ow}.object_data.cuboid[{k}]"
                box = cuboid_from_val(c.get("val") if isinstance(c, dict) else None, path, f"{cw}.val")
                csys = c.get("coordinate_system") if isinstance(c, dict) else None
                if csys is not None and csys != lidar_cs:
                    if not isinstance(csys, str) or csys not in cs:
                        declared = ", ".join(map(str, cs)) or "none"
                        raise LabelError(path, f"object {obj.get('name', uid)!r}: coordinate system {csys!r} is not "
                                               f"declared in openlabel.coordinate_systems (declared: {declared})",
                                         where=f"{cw}.coordinate_system")
                    if lidar_cs is None:
                        raise LabelError(path, f"object {obj.get('name', uid)!r}: cuboid in coordinate system "
                                               f"{csys!r}, but the file's LiDAR coordinate system is unknown "
                                               f"({no_lidar})", where=f"{cw}.coordinate_system")
                    if csys not in T_lidar_cs:
                        T_lidar_cs[csys] = tree.T_a_b(lidar_cs, csys, transforms, where)
                    box = box.transformed(T_lidar_cs[csys])
                extra = decode_attributes({k2: v for k2, v in data.items() if k2 in ("boolean", "num", "text", "vec")},
                                          path, f"{ow}.object_data")
                attributes = decode_attributes(c.get("attributes"), path, f"{cw}.attributes")
                static = decode_attributes(obj.get("object_data"), path, f"openlabel.objects.{uid}.object_data")
                track = None if static.get(UNTRACKED) else str(obj.get("name", uid))
                source = extra.get("source", "import")
                if source not in SOURCES:
                    raise LabelError(path, f"expected one of {', '.join(SOURCES)}, got {source!r}",
                                     where=f"{ow}.object_data.text(source)")
                score = extra.get("score")
                if score is not None and not isinstance(score, (int, float)):
                    raise LabelError(path, f"expected a number, got {score!r}", where=f"{ow}.object_data.num(score)")
                cls = extra.get("class", obj.get("type"))
                if not isinstance(cls, str) or not cls:
                    raise LabelError(path, "object type must be a non-empty string",
                                     where=f"openlabel.objects.{uid}.type")
                frame_labels.append(CuboidLabel(box, cls, track, score, source, attributes))
        labels[n] = frame_labels
    return OpenLabelScene(path, str(root["metadata"].get("name", path.stem)), out_frames, labels, rig,
                          lidar_cs)
