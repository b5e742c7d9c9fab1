"""ASAM OpenLABEL 1.0 export: one JSON file (``openlabel.json``) with objects, frames, cuboids,
coordinate systems and camera streams; see :mod:`fusionlabel.io.openlabel` for the layout.

OpenLABEL holds every class name and attribute, so nothing is skipped for the format's sake; the
sensor data stays where it is (streams name the files). A box's LiDAR point count is counted again
in its frame's sweep when the box was moved, turned or resized since the import
(:mod:`.point_recount`); only those frames' sweeps are read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import ImageError, LabelError, PointCloudError
from ..io.openlabel import (CUBOID_NAME, ODOM, SCHEMA_VERSION, UNTRACKED, VEHICLE, VEHICLE_FRAME_KEY, cuboid_val,
                            encode_attributes, matrix16)
from ..io.kitti_truncation import TRUNCATION_SCALE
from ..io.nuscenes_boxes import SOURCE_BOX
from ..model.annotation import CuboidLabel
from ..model.rig import CameraSensor, Rig
from ..progress import progress
from .as_imported import ImportedBoxes
from .base import Exporter
from .option_checks import ROTATION_CHOICES, check_choice
from .point_recount import PointRecount

FILE_NAME = "openlabel.json"

# Attributes that only steer one format's own exporter, left out of OpenLABEL: the KITTI readers'
# truncation scale, and a nuScenes box's source numbers (stale once the box is edited)
FORMAT_BOOKKEEPING = (TRUNCATION_SCALE, SOURCE_BOX)


def _intervals(frames: list[int]) -> list[dict]:
    out: list[dict] = []
    for f in sorted(set(frames)):
        if out and out[-1]["frame_end"] == f - 1:
            out[-1]["frame_end"] = f
        else:
            out.append({"frame_start": f, "frame_end": f})
    return out


def stream_properties(camera) -> tuple[dict, str | None]:
    """(stream_properties, limitation or None) of a camera model."""
    K34 = np.zeros((3, 4))
    K34[:, :3] = camera.K
    if camera.model == "fisheye":
        return {"intrinsics_fisheye": {
            "width_px": camera.width, "height_px": camera.height, "center_x_px": camera.cx,
            "center_y_px": camera.cy, "focal_length_x": camera.fx, "focal_length_y": camera.fy,
            "lens_coeffs": list(camera.distortion), "model": "opencv_fisheye"}}, (
            "fisheye lenses are written with OpenCV's equidistant coefficients (model opencv_fisheye); "
            "OpenLABEL does not fix the meaning of fisheye lens_coeffs")
    dist = list(camera.distortion) or [0.0] * 5
    return {"intrinsics_pinhole": {"width_px": camera.width, "height_px": camera.height,
                                   "camera_matrix": [float(v) for v in K34.ravel()],
                                   "distortion_coeffs": dist}}, None


def stream_uri(path: Path, folder: Path | None) -> str:
    """A stream's ``uri``: the file's path relative to ``folder`` (where openlabel.json is), with
    ``/`` separators, so the file and the data can move together; absolute when there is no
    ``folder`` or no relative path (another Windows drive)."""
    target = os.path.abspath(path)
    if folder is not None:
        try:
            return Path(os.path.relpath(target, os.path.abspath(folder))).as_posix()
        except ValueError:
            pass
    return Path(target).as_posix()


class _Objects:
    """The document's objects, gathered in a first pass over the labels: a uid per track (and per
    untracked box), in the order they first appear; each object's frames and classes."""

    def __init__(self):
        self.records: dict[str, dict] = {}
        self.track_uid: dict[str, str] = {}
        self.untracked: list[str] = []          # uids of untracked boxes, in order
        self.frames: dict[str, list[int]] = {}
        self.classes: dict[str, dict[str, int]] = {}

    def add(self, lab: CuboidLabel, cls: str, i: int) -> str:
        """The uid of label ``lab`` (class ``cls``) of frame index ``i``, a new object if need be."""
        if lab.track_id is not None and lab.track_id in self.track_uid:
            uid = self.track_uid[lab.track_id]
        else:
            uid = str(len(self.records))
            self.records[uid] = {"name": lab.track_id if lab.track_id is not None else f"object-{uid}", "type": cls}
            if lab.track_id is None:
                self.records[uid]["object_data"] = {"boolean": [{"name": UNTRACKED, "val": True}]}
                self.untracked.append(uid)
            else:
                self.track_uid[lab.track_id] = uid
            self.frames[uid], self.classes[uid] = [], {}
        self.frames[uid].append(i)
        self.classes[uid][cls] = self.classes[uid].get(cls, 0) + 1
        return uid

    def finish(self) -> None:
        """Each object's type (its most frequent class) and frame intervals."""
        for uid, obj in self.records.items():
            classes = self.classes[uid]
            obj["type"] = max(classes, key=classes.get)
            obj["frame_intervals"] = _intervals(self.frames[uid])
        self.frames.clear()
        self.classes.clear()


def _sensor_parts(rig: Rig) -> tuple[dict, dict, list[str]]:
    """(coordinate_systems, streams, limitations) of the rig."""
    notes: list[str] = []
    cs = {ODOM: {"type": "scene_cs", "parent": "", "children": [VEHICLE]},
          VEHICLE: {"type": "local_cs", "parent": ODOM, "children": list(rig.sensors)}}
    if not rig.vehicle_frame:   # the LiDAR's frame stands in for the vehicle's (custom key, see io.openlabel)
        cs[VEHICLE][VEHICLE_FRAME_KEY] = False
    streams = {}
    for name, sensor in rig.sensors.items():
        cs[name] = {"type": "sensor_cs", "parent": VEHICLE, "children": [],
                    "pose_wrt_parent": {"matrix4x4": matrix16(sensor.T_vehicle_sensor)}}
        if isinstance(sensor, CameraSensor):
            props, note = stream_properties(sensor.camera)
            streams[name] = {"type": "camera", "stream_properties": props, "description": f"camera {name}"}
            if note and note not in notes:
                notes.append(note)
        else:
            streams[name] = {"type": "lidar", "description": f"LiDAR {name}"}
    return cs, streams, notes


def _frame_properties(f, lidar: str, folder: Path | None) -> dict[str, Any]:
    props: dict[str, Any] = {
        "timestamp": f.timestamp_us / 1e6, "timestamp_us": int(f.timestamp_us), "frame_id": f.frame_id,
        "transforms": {f"{VEHICLE}_to_{ODOM}": {
            "src": VEHICLE, "dst": ODOM, "transform_src_to_dst": {"matrix4x4": matrix16(f.T_world_vehicle)}}},
        "streams": {lidar: {"uri": stream_uri(f.lidar_path, folder),
                            "stream_properties": {"sync": {"timestamp": f.timestamp_us / 1e6}}}}}
    for cam, p in f.image_paths.items():
        t = f.camera_timestamps_us.get(cam, f.timestamp_us)
        props["streams"][cam] = {"uri": stream_uri(p, folder), "stream_properties": {"sync": {"timestamp": t / 1e6}}}
    if f.T_world_vehicle_at_camera:
        props["T_world_vehicle_at_camera"] = {c: matrix16(T) for c, T in f.T_world_vehicle_at_camera.items()}
    if f.camera_timestamps_us:
        props["camera_timestamps_us"] = {c: int(t) for c, t in f.camera_timestamps_us.items()}
    return props


def _object_data(lab: CuboidLabel, cls: str, obj_type: str, lidar: str, rotation: str) -> dict[str, Any]:
    cuboid = {"name": CUBOID_NAME, "val": cuboid_val(lab.box, rotation), "coordinate_system": lidar}
    attributes = {k: v for k, v in lab.attributes.items() if k not in FORMAT_BOOKKEEPING}
    if attributes:
        cuboid["attributes"] = encode_attributes(attributes)
    data: dict[str, Any] = {"cuboid": [cuboid]}
    if lab.score is not None:
        data["num"] = [{"name": "score", "val": lab.score}]
    data["text"] = [{"name": "source", "val": lab.source}]
    if cls != obj_type:      # the per-frame class, where it differs from the object's type
        data["text"].append({"name": "class", "val": cls})
    return data


def write_openlabel(path: str | Path, drive, labels_for: Callable[[int], list[CuboidLabel]], frames: list[int],
                    rotation: str = "quaternion", on_frame: Callable[[int], None] | None = None,
                    class_of: Callable[[CuboidLabel], str] | None = None,
                    folder: Path | None = None) -> list[str]:
    """Write the OpenLABEL document of ``drive`` for ``frames`` to ``path``; returns the limitations.

    Two passes, so that memory does not grow with the drive: the first reads the labels for the
    objects (a track's type is its most frequent class), the second writes the frames one by one
    (:mod:`~fusionlabel.io.json_stream`). ``labels_for`` is called twice per frame and must give the
    same labels both times. ``class_of`` gives the class written for a label (default:
    ``label.label``); ``on_frame`` is called after each frame is written (progress). Stream
    ``uri``s are relative to ``folder``, the folder the document is written to (absolute without
    it): :func:`stream_uri`.
    """
    from ..io.json_stream import Streamed, write_json

    class_of = class_of or (lambda lab: lab.label)
    rig = drive.rig(frames[0] if frames else 0)
    lidar = rig.reference_lidar
    cs, streams, notes = _sensor_parts(rig)
    objects = _Objects()
    rig_changes = 0
    for i in frames:
        frig = drive.rig(i)
        if frig is not rig and not _same_rig(frig, rig):
            rig_changes += 1
        seen: set[str] = set()
        for lab in labels_for(i):
            uid = objects.add(lab, class_of(lab), i)
            if uid in seen:
                raise LabelError(None, f"track '{lab.track_id}' has two boxes in frame {drive.frames[i].frame_id}",
                                 where=f"frame {i}")
            seen.add(uid)
    objects.finish()
    if rig_changes:
        notes.append(f"{rig_changes} frame(s) have their own calibration; coordinate_systems and streams hold "
                     "the first frame's (OpenLABEL keeps static poses per coordinate system)")

    def frame_entries():
        untracked = iter(objects.untracked)
        for i in frames:
            fobjs: dict[str, dict] = {}
            for lab in labels_for(i):
                uid = objects.track_uid[lab.track_id] if lab.track_id is not None else next(untracked)
                cls = class_of(lab)
                fobjs[uid] = {"object_data": _object_data(lab, cls, objects.records[uid]["type"], lidar, rotation)}
            yield str(i), {"frame_properties": _frame_properties(drive.frames[i], lidar, folder), "objects": fobjs}
            if on_frame:
                on_frame(i)

    body = {"metadata": {"schema_version": SCHEMA_VERSION, "name": drive.name,
                         "annotator": "fusionlabel", "comment": f"exported from {drive.root}"},
            "coordinate_systems": cs, "streams": streams, "objects": objects.records,
            "frames": Streamed(frame_entries()), "frame_intervals": _intervals(frames)}
    write_json(path, Streamed([("openlabel", Streamed(body.items()))]))
    return notes


def _same_rig(a: Rig, b: Rig) -> bool:
    if list(a.sensors) != list(b.sensors):
        return False
    for name, s in a.sensors.items():
        t = b.sensors[name]
        if not np.array_equal(s.T_vehicle_sensor, t.T_vehicle_sensor):
            return False
        if isinstance(s, CameraSensor) and s.camera != t.camera:
            return False
    return True


class OpenLabelExporter(Exporter):
    """OpenLABEL format; see the module docstring."""

    name = "openlabel"
    reads_sweeps = False     # streams name the source files: no image is read, a sweep only to count edited boxes

    def order(self, frames: list[int]) -> list[int]:
        return sorted(frames)

    def begin(self) -> None:
        check_choice(self.options.rotation, ROTATION_CHOICES, "--rotation")

    def add_frame(self, index: int) -> None:
        """Unused: :meth:`run` writes the document (:func:`write_openlabel`)."""

    def _rig_builds(self, index: int) -> bool:
        """Whether frame ``index``'s rig can be built (a KITTI frame takes a camera's size from its
        image); if not, the frame is listed as skipped."""
        try:
            self.drive.rig(index)
        except (PointCloudError, ImageError) as e:
            self.summary.skip_frame(self.drive.frames[index].frame_id, e)
            return False
        return True

    def run(self):
        """:func:`write_openlabel` writes the document; the progress bar advances per frame written."""
        frames = self.frames_to_export()
        self.frames = frames
        self._start_manifest()
        self.begin()
        if self.options.skip_bad_frames:   # no sweep or image is read, but a frame's rig may need one
            frames = [i for i in frames if self._rig_builds(i)]
            self.check_some_exported(frames)
        counted: set[int] = set()
        imported, recount = ImportedBoxes(self.drive, self.labels_for), PointRecount(self.drive)

        def labels_for(i: int):     # called twice per frame: the objects are counted the first time,
            pairs = self.labels(i, record=i not in counted)     # the points in edited boxes the second
            labels = [lab for lab, _ in pairs]
            if i not in counted:
                counted.add(i)
                self.summary.objects.update(cls for _, cls in pairs)
                return labels
            return recount.labels(i, labels, imported)

        bar = progress(total=len(frames), desc=f"export {self.name}", enabled=self.options.progress)
        notes = write_openlabel(self.path(FILE_NAME), self.drive, labels_for, frames, self.options.rotation,
                                on_frame=lambda i: bar.update(1), class_of=self.export_class, folder=self.shown_out)
        bar.close()
        self.note_unmatched_classes()
        self.summary.frames = len(frames)
        self.summary.files += 1
        for n in notes + recount.notes():
            self.summary.note(n)
        self.summary.note("sweeps and images are not copied (streams name the source files)")
        return self._write_manifest(frames)
