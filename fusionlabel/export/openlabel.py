"""ASAM OpenLABEL 1.0 export: one JSON file (``openlabel.json``) with objects, frames, cuboids,
coordinate systems and camera streams; see :mod:`fusionlabel.io.openlabel` for the layout.

OpenLABEL holds every class name and attribute, so nothing is skipped for the format's sake; the
sensor data stays where it is (streams name the files).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import ImageError, LabelError, PointCloudError
from ..io.openlabel import (CUBOID_NAME, ODOM, SCHEMA_VERSION, UNTRACKED, VEHICLE, VEHICLE_FRAME_KEY, cuboid_val,
                            encode_attributes, matrix16)
from ..model.annotation import CuboidLabel
from ..model.rig import CameraSensor, Rig
from ..progress import progress
from .base import Exporter, ExportError

FILE_NAME = "openlabel.json"


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


def openlabel_document(drive, labels_for: Callable[[int], list[CuboidLabel]], frames: list[int],
                       rotation: str = "quaternion", on_frame: Callable[[int], None] | None = None,
                       class_of: Callable[[CuboidLabel], str] | None = None,
                       folder: Path | None = None) -> tuple[dict, list[str]]:
    """Build the OpenLABEL document of ``drive`` for ``frames``; returns (document, limitations).

    ``class_of`` gives the class written for a label (default: ``label.label``); ``on_frame`` is
    called after each frame (progress). Stream ``uri``s are relative to ``folder``, the folder the
    document is written to (absolute without it): :func:`stream_uri`.
    """
    class_of = class_of or (lambda lab: lab.label)
    notes: list[str] = []
    rig = drive.rig(frames[0] if frames else 0)
    lidar = rig.reference_lidar
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
    objects: dict[str, dict] = {}
    object_frames: dict[str, list[int]] = {}
    object_classes: dict[str, dict[str, int]] = {}
    track_uid: dict[str, str] = {}
    frame_docs: dict[str, dict] = {}
    rig_changes = 0
    for i in frames:
        f = drive.frames[i]
        frig = drive.rig(i)
        if frig is not rig and not _same_rig(frig, rig):
            rig_changes += 1
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
        fobjs: dict[str, dict] = {}
        for lab in labels_for(i):
            cls = class_of(lab)
            if lab.track_id is not None and lab.track_id in track_uid:
                uid = track_uid[lab.track_id]
            else:
                uid = str(len(objects))
                objects[uid] = {"name": lab.track_id if lab.track_id is not None else f"object-{uid}", "type": cls}
                if lab.track_id is None:
                    objects[uid]["object_data"] = {"boolean": [{"name": UNTRACKED, "val": True}]}
                else:
                    track_uid[lab.track_id] = uid
                object_frames[uid], object_classes[uid] = [], {}
            if uid in fobjs:
                raise LabelError(None, f"track '{lab.track_id}' has two boxes in frame {f.frame_id}",
                                 where=f"frame {i}")
            object_frames[uid].append(i)
            object_classes[uid][cls] = object_classes[uid].get(cls, 0) + 1
            cuboid = {"name": CUBOID_NAME, "val": cuboid_val(lab.box, rotation), "coordinate_system": lidar}
            if lab.attributes:
                cuboid["attributes"] = encode_attributes(lab.attributes)
            data: dict[str, Any] = {"cuboid": [cuboid]}
            extra: dict[str, list] = {}
            if lab.score is not None:
                extra.setdefault("num", []).append({"name": "score", "val": lab.score})
            extra.setdefault("text", []).append({"name": "source", "val": lab.source})
            extra["text"].append({"name": "class", "val": cls})
            data.update(extra)
            fobjs[uid] = {"object_data": data}
        frame_docs[str(i)] = {"frame_properties": props, "objects": fobjs}
        if on_frame:
            on_frame(i)
    for uid, obj in objects.items():
        classes = object_classes[uid]
        obj["type"] = max(classes, key=classes.get)
        obj["frame_intervals"] = _intervals(object_frames[uid])
        for fnum in object_frames[uid]:   # drop the per-frame class where it equals the type
            texts = frame_docs[str(fnum)]["objects"][uid]["object_data"]["text"]
            if any(t["name"] == "class" and t["val"] == obj["type"] for t in texts):
                texts[:] = [t for t in texts if t["name"] != "class"]
    if rig_changes:
        notes.append(f"{rig_changes} frame(s) have their own calibration; coordinate_systems and streams hold "
                     "the first frame's (OpenLABEL keeps static poses per coordinate system)")
    doc = {"openlabel": {
        "metadata": {"schema_version": SCHEMA_VERSION, "name": drive.name,
                     "annotator": "fusionlabel", "comment": f"exported from {drive.root}"},
        "coordinate_systems": cs, "streams": streams, "objects": objects, "frames": frame_docs,
        "frame_intervals": _intervals(frames)}}
    return doc, notes


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


def write_openlabel(path: str | Path, document: dict) -> Path:
    """Write a document as JSON (``allow_nan=False``: NaN is not valid JSON)."""
    from ..files import write_file

    path = Path(path)
    write_file(path, json.dumps(document, indent=1, allow_nan=False) + "\n")
    return path


class OpenLabelExporter(Exporter):
    """OpenLABEL format; see the module docstring."""

    name = "openlabel"
    reads_sweeps = False     # streams name the source files: no sweep or image is read or written

    def order(self, frames: list[int]) -> list[int]:
        return sorted(frames)

    def begin(self) -> None:
        if self.options.rotation not in ("quaternion", "euler"):
            raise ExportError(None, f"expected 'quaternion' or 'euler', got {self.options.rotation!r}",
                              where="--rotation")

    def add_frame(self, index: int) -> None:
        """Unused: :meth:`run` builds the whole document in one pass."""

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
        """One pass builds the document; the progress bar advances per frame inside it."""
        frames = self.frames_to_export()
        self.frames = frames
        self._start_manifest()
        self.begin()
        if self.options.skip_bad_frames:   # no sweep or image is read, but a frame's rig may need one
            frames = [i for i in frames if self._rig_builds(i)]
            self.check_some_exported(frames)
        selected: dict[int, list] = {}

        def labels_for(i: int):
            selected[i] = [lab for lab, _ in self.labels(i)]
            return selected[i]

        bar = progress(total=len(frames), desc=f"export {self.name}", enabled=self.options.progress)
        doc, notes = openlabel_document(self.drive, labels_for, frames, self.options.rotation,
                                        on_frame=lambda i: bar.update(1), class_of=self.export_class,
                                        folder=self.shown_out)
        bar.close()
        self.note_unmatched_classes()
        for lab_list in selected.values():
            for lab in lab_list:
                self.summary.objects[self.export_class(lab)] += 1
        self.summary.frames = len(frames)
        write_openlabel(self.path(FILE_NAME), doc)
        self.summary.files += 1
        for n in notes:
            self.summary.note(n)
        self.summary.note("sweeps and images are not copied (streams name the source files)")
        return self._write_manifest(frames)
