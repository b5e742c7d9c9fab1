"""COCO export: per camera, ``annotations/<camera>.json`` with 2D boxes of the projected cuboids, and
``images/<camera>/<frame>.<ext>`` (the images as recorded, lens distortion included: boxes are
projected through the real lens model).

COCO boxes are ``[x, y, width, height]`` in continuous pixel coordinates (the image spans
``[0, W] x [0, H]``; pixel centres are at ``+0.5``), clipped to the image, corners rounded to
1/1000 px; ``area`` is w·h of the written box, the area of the ``segmentation`` rectangle written
with it. Each annotation also carries ``track_id``, ``truncation`` and ``occlusion``: the occluded
fraction estimated from the LiDAR returns (null if unknown), or, where an annotator chose the
object's occlusion in the attribute panel (:func:`~fusionlabel.model.occlusion_choice.chosen_occlusion`),
the middle of the choice's band (:data:`OCCLUDED_OF_CHOICE`).
Categories are the exported class names, numbered from 1 in sorted order, identical in every file.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..io.json_stream import Streamed
from ..model.occlusion_choice import chosen_occlusion
from .base import Exporter, ExportError
from .views import object_views

COORD_DECIMALS = 3   # pixel coordinates written to 1/1000 px, well below any labelling accuracy
# the attribute panel's occlusion -> the occluded fraction written: the middle of its band, the bands
# of nuScenes' visibility (none 0-20 % occluded, partial 20-40 %, mostly 40-60 %, full 60-100 %)
OCCLUDED_OF_CHOICE = {"none": 0.1, "partial": 0.3, "mostly": 0.5, "full": 0.8}


def occlusion_written(label, estimated: float | None) -> float | None:
    """The ``occlusion`` of ``label``'s annotation: its annotator's choice (:data:`OCCLUDED_OF_CHOICE`),
    else the ``estimated`` occluded fraction (None: unknown), to 4 decimals."""
    chosen = chosen_occlusion(label)
    if chosen is not None:
        return OCCLUDED_OF_CHOICE[chosen]
    return None if estimated is None else round(estimated, 4)


def coco_box(full_rect, width: int, height: int) -> list[float] | None:
    """COCO ``[x, y, w, h]`` from an unclipped pixel-centre extent (x1, y1, x2, y2), or None."""
    if full_rect is None:
        return None
    x1, y1 = max(full_rect[0] + 0.5, 0.0), max(full_rect[1] + 0.5, 0.0)
    x2, y2 = min(full_rect[2] + 0.5, float(width)), min(full_rect[3] + 0.5, float(height))
    if x2 <= x1 or y2 <= y1:
        return None
    return [x1, y1, x2 - x1, y2 - y1]


def written_box(box: list[float]) -> tuple[list[float], float, list[float]]:
    """(bbox, area, segmentation rectangle) as written for a :func:`coco_box`: the corners rounded
    to :data:`COORD_DECIMALS`, the bbox spanning exactly those corners, and ``area`` = w·h of that
    bbox (the rectangle's own area, as pycocotools and COCO's evaluation read it)."""
    x1, y1, x2, y2 = (round(c, COORD_DECIMALS) for c in (box[0], box[1], box[0] + box[2], box[1] + box[3]))
    w, h = round(x2 - x1, COORD_DECIMALS), round(y2 - y1, COORD_DECIMALS)
    return [x1, y1, w, h], round(w * h, 2 * COORD_DECIMALS), [x1, y1, x2, y1, x2, y2, x1, y2]


class CocoExporter(Exporter):
    """COCO format; see the module docstring."""

    name = "coco"

    def begin(self) -> None:
        rig = self.drive.rig(self.frames[0] if self.frames else 0)
        cams = rig.camera_names
        if not cams:
            raise ExportError(self.drive.root, "the drive's rig has no camera; COCO needs images", where="rig")
        if self.options.camera:
            if self.options.camera not in cams:
                raise ExportError(None, f"camera '{self.options.camera}' is not in the rig (cameras: "
                                        f"{', '.join(cams)})", where="--camera")
            cams = [self.options.camera]
        if not any(c in self.drive.frames[i].image_paths for i in self.frames for c in cams):
            raise ExportError(self.drive.root, f"no exported frame has an image of camera {', '.join(cams)}; COCO "
                                               "holds 2D boxes on images, so nothing was exported (kitti, nuscenes "
                                               "or openlabel export the 3D labels)")
        self.cameras = cams
        self.images: dict[str, list] = defaultdict(list)
        self.annotations: dict[str, list] = defaultdict(list)
        self.unseen = 0

    def frame_cameras(self, index: int) -> list[str]:
        return [c for c in self.cameras if c in self.drive.frames[index].image_paths]

    def add_frame(self, i: int) -> None:
        drive, f = self.drive, self.drive.frames[i]
        labels = self.labels(i)
        rig = drive.rig(i)
        points = drive.points(i) if labels else np.empty((0, 3), np.float32)
        seen = np.zeros(len(labels), bool)
        for cam in self.cameras:
            if cam not in f.image_paths:
                continue
            model = rig.camera(cam).camera
            src = f.image_paths[cam]
            rel = f"images/{cam}/{f.frame_id}{src.suffix.lower()}"
            if self.options.sensor_data:
                self.copy_file(src, rel)
            image_id = len(self.images[cam]) + 1
            self.images[cam].append({"id": image_id, "file_name": rel, "width": model.width, "height": model.height,
                                     "frame_id": f.frame_id, "frame_index": i,
                                     "timestamp_us": int(f.camera_timestamps_us.get(cam, f.timestamp_us))})
            if not labels:
                continue
            views = object_views(points, [lab.box for lab, _ in labels], drive.T_cam_lidar(i, cam), model)
            for k, ((lab, cls), v) in enumerate(zip(labels, views)):
                box = coco_box(v.full_rect, model.width, model.height) if v.rect is not None else None
                if box is None:
                    continue
                seen[k] = True
                bbox, area, rectangle = written_box(box)
                self.annotations[cam].append({
                    "id": len(self.annotations[cam]) + 1, "image_id": image_id, "category": cls,
                    "bbox": bbox, "area": area, "iscrowd": 0, "segmentation": [rectangle],
                    "track_id": lab.track_id, "truncation": round(v.truncation, 4),
                    "occlusion": occlusion_written(lab, v.occluded)})
        for k, (lab, cls) in enumerate(labels):
            if seen[k]:
                self.summary.objects[cls] += 1
            else:
                self.summary.skip("not in any exported camera's image", lab.label)

    def finish(self) -> None:
        names = sorted({a["category"] for anns in self.annotations.values() for a in anns})
        ids = {n: k + 1 for k, n in enumerate(names)}
        categories = [{"id": ids[n], "name": n, "supercategory": n.split(".")[0]} for n in names]

        def with_ids(anns: list[dict]):
            for a in anns:
                a = dict(a)
                a["category_id"] = ids[a.pop("category")]
                yield a

        for cam in self.cameras:    # written as produced: the text of a long drive is never held whole
            doc = {"info": {"description": f"{self.drive.name} camera {cam}, exported by fusionlabel",
                            "version": "1.0"},
                   "licenses": [], "images": Streamed(iter(self.images[cam]), array=True),
                   "annotations": Streamed(with_ids(self.annotations[cam]), array=True), "categories": categories}
            self.write_json(f"annotations/{cam}.json", Streamed(doc.items()))
        self.summary.note("3D geometry (COCO holds 2D boxes: the projected cuboids' extents); rectangles are "
                          "written as the segmentation polygons")
        if not self.options.sensor_data:
            self.summary.note(f"images were not copied ({self.options.labels_only_words}): file_name points into images/")
