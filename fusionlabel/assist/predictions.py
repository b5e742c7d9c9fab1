"""Detector output files: KITTI label files with a score column, and nuScenes detection results.

KITTI: one ``<frame_id>.txt`` per frame, lines ``type trunc occ alpha x1 y1 x2 y2 h w l x y z ry
score`` in the rectified camera frame (bottom-centre location). Angles may be unwrapped (e.g. -7.9):
boxes are built from cos/sin of ``ry``, so any multiple of 2π gives the same cuboid. The camera
frame of a KITTI drive comes from its ``calib/<frame_id>.txt``; any other drive uses its first
camera's frame (R0_rect = identity).

nuScenes: one JSON file ``{"meta": {...}, "results": {sample_token: [box, ...]}}`` with boxes in
the global frame: ``translation`` (centre), ``size`` (w, l, h), ``rotation`` (w, x, y, z),
``detection_name``, ``detection_score``, ``velocity`` (vx, vy), ``attribute_name``. A frame's
sample token comes from the nuScenes importer (``drive.tokens[i].sample``), else
``Frame.sample_token``, else the frame ID; its world frame must be nuScenes' global frame.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..errors import InputError, LabelError
from ..geometry.cuboid import Cuboid
from ..geometry.transforms import (euler_from_rotation, invert_T, quaternion_from_rotation,
                                   rotation_from_quaternion)
from ..io.jsonfile import read_json
from ..model.annotation import CuboidLabel, score_problem
from ..model.drive import Drive
from ..qa.classes import NUSCENES_DETECTION, nuscenes_detection_name
from .detector import Detector

NUSCENES_NAMES = tuple(NUSCENES_DETECTION)
TO_NUSCENES = {"car": "car", "van": "car", "truck": "truck", "bus": "bus", "tram": "bus", "trailer": "trailer",
               "pedestrian": "pedestrian", "person_sitting": "pedestrian", "person": "pedestrian",
               "cyclist": "bicycle", "bicycle": "bicycle", "motorcycle": "motorcycle", "misc": None}
# a detection class's pre-label class: its evaluation class (qa.classes), capitalised as KITTI writes types
FROM_NUSCENES = {name: cls.capitalize() for name, cls in NUSCENES_DETECTION.items()}


# ---------------------------------------------------------------------------------------- frames
def T_rect_lidar(drive: Drive, index: int) -> np.ndarray:
    """(4, 4) LiDAR -> the camera frame KITTI-format boxes of this frame are written in."""
    from ..io.kitti import read_kitti_calib

    from ..io.kitti_tracking_labels import KittiTrackingLabels

    frame = drive.frames[index]
    calib = drive.root / "calib" / f"{frame.frame_id}.txt"
    if calib.is_file():
        return read_kitti_calib(calib).T_rect_velo
    if isinstance(drive, KittiTrackingLabels):    # no camera without images: its labels' own frame
        return drive.T_rect_velo
    rig = drive.rig(index)
    if not rig.cameras:
        from ..io.kitti_tracking import KittiTrackingDrive

        why = ("no image_02/ images give camera image_2 its size: give it with --image-size WxH"
               if isinstance(drive, KittiTrackingDrive) else f"and no calib/{frame.frame_id}.txt")
        raise InputError(drive.root, f"KITTI-format boxes are written in a camera's frame, but the drive has no "
                                     f"camera ({why})")
    return rig.T_cam_lidar(rig.cameras[0].name)


def _kitti_P2(drive: Drive, index: int) -> tuple[np.ndarray, tuple[int, int]] | None:
    from ..io.images import image_size
    from ..io.kitti import read_kitti_calib

    frame = drive.frames[index]
    calib = drive.root / "calib" / f"{frame.frame_id}.txt"
    image = frame.image_paths.get("image_2")
    if not calib.is_file() or image is None or not Path(image).is_file():
        return None
    c = read_kitti_calib(calib)
    return c.P[2] @ c.T_rect_velo, image_size(image)


def _bbox_2d(box: Cuboid, proj) -> tuple[float, float, float, float]:
    return _view_2d(box, proj)[0]


def _view_2d(box: Cuboid, proj) -> tuple[tuple[float, float, float, float], float | None]:
    """The 2D box of ``box``'s corners in front of the camera, clipped to the image, and the
    fraction of it the image cuts off (1 when none of it is in front; None without ``proj``)."""
    from ..export.views import truncation_of

    if proj is None:
        return (0.0, 0.0, 0.0, 0.0), None
    P, (w, h) = proj
    c = np.c_[box.corners(), np.ones(8)] @ P.T
    front = c[:, 2] > 0.1
    if not front.any():
        return (0.0, 0.0, 0.0, 0.0), 1.0
    uv = c[front, :2] / c[front, 2:3]
    full = (*(float(v) for v in uv.min(0)), *(float(v) for v in uv.max(0)))
    x1, y1 = np.clip(uv.min(0), 0, [w - 1, h - 1])
    x2, y2 = np.clip(uv.max(0), 0, [w - 1, h - 1])
    rect = float(x1), float(y1), float(x2), float(y2)
    return rect, truncation_of(rect, full)


# ---------------------------------------------------------------------------------------- file names
def frames_of_files(drive: Drive, stems: list[str]) -> dict[str, int | None]:
    """The frame index each per-frame file stem names, None for a stem that names no frame.

    A stem is a frame ID. A number with other zero padding (``134`` for frame ``000134``) names the
    one frame whose ID is that number, when exactly one frame's is and no other file has that
    frame's exact ID; a file name is never read as a frame index."""
    by_number: dict[int, list[int]] = {}
    for i, f in enumerate(drive.frames):
        if f.frame_id.isdigit():
            by_number.setdefault(int(f.frame_id), []).append(i)
    exact = {stem: drive.index_of_id(stem) for stem in stems}
    taken = {i for i in exact.values() if i is not None}
    out: dict[str, int | None] = {}
    for stem in stems:
        i = exact[stem]
        if i is None and stem.isdigit():
            same = by_number.get(int(stem), [])
            i = same[0] if len(same) == 1 and same[0] not in taken else None
            if i is not None:
                taken.add(i)
        out[stem] = i
    return out


# ---------------------------------------------------------------------------------------- KITTI
def kitti_lines(labels: list[CuboidLabel], T_rect: np.ndarray, proj=None, with_score: bool = True) -> str:
    """KITTI (object) label text for ``labels`` (LiDAR frame); a 16th column holds the score when
    asked. A kept ``truncated`` marked as a KITTI tracking level is written as a fraction, as the
    KITTI exporter writes it (:func:`~fusionlabel.io.kitti_truncation.truncation_written`); the
    occlusion level as :func:`_occlusion_written` says."""
    from ..io.kitti import kitti_from_cuboid
    from ..io.kitti_truncation import FRACTION, TRUNCATION_SCALE, truncation_written

    rows = []
    for lab in labels:
        h, w, l, x, y, z, ry = kitti_from_cuboid(lab.box.upright(), T_rect)
        alpha = float(np.arctan2(np.sin(ry - np.arctan2(x, z)), np.cos(ry - np.arctan2(x, z))))
        (x1, y1, x2, y2), projected = _view_2d(lab.box, proj)
        trunc = 0.0
        if lab.source != "model":
            trunc = truncation_written(float(lab.attributes.get("truncated", 0.0)),
                                       lab.attributes.get(TRUNCATION_SCALE), FRACTION, projected)
        occ = _occlusion_written(lab, (h, w, l, x, y, z, ry), alpha)
        name = lab.label.replace(" ", "_")
        row = (f"{name} {trunc:.2f} {occ:d} {alpha:.4f} {x1:.2f} {y1:.2f} {x2:.2f} {y2:.2f} "
               f"{h:.4f} {w:.4f} {l:.4f} {x:.4f} {y:.4f} {z:.4f} {ry:.4f}")
        if with_score and lab.score is not None:
            row += f" {lab.score:.4f}"
        rows.append(row)
    return "".join(r + "\n" for r in rows)


def _occlusion_written(lab: CuboidLabel, hwl_xyz_ry, alpha: float) -> int:
    """The occlusion level of ``lab``'s line, by the KITTI exporter's rule with no LiDAR sweep to
    estimate from (:mod:`~fusionlabel.io.kitti_occlusion`): a model's 0; the annotator's choice; the
    stored ``occluded`` while the box is as imported (or nothing tells); 3, unknown, once it was
    edited; 0 for a label that stores none."""
    from ..io.kitti_occlusion import UNKNOWN_LEVEL, box_as_imported, chosen_occlusion_level

    if lab.source == "model":
        return 0
    chosen = chosen_occlusion_level(lab)
    if chosen is not None:
        return chosen
    if "occluded" not in lab.attributes:
        return 0
    if lab.source == "import" and box_as_imported(lab.attributes, hwl_xyz_ry, alpha) is False:
        return UNKNOWN_LEVEL
    return int(lab.attributes["occluded"])


def write_kitti_predictions(path: str | os.PathLike, labels: list[CuboidLabel], drive: Drive, index: int) -> None:
    """Write one frame's boxes as a KITTI label file (with scores where the labels have them)."""
    Path(path).write_text(kitti_lines(labels, T_rect_lidar(drive, index), _kitti_P2(drive, index)), encoding="utf-8")


def read_kitti_predictions(path: str | os.PathLike, T_rect: np.ndarray) -> list[CuboidLabel]:
    """A KITTI label/prediction file as labels in the LiDAR frame (DontCare skipped).

    Lines with a score become ``source="model"`` labels; lines without one keep ``"import"``.
    """
    from ..io.kitti import label_from_kitti, read_kitti_label_file

    path = Path(path)
    T_lidar_rect = invert_T(T_rect)
    return [label_from_kitti(line, T_lidar_rect, path, n + 1)
            for n, line in enumerate(read_kitti_label_file(path)) if line.type != "DontCare"]


# ---------------------------------------------------------------------------------------- nuScenes
def sample_token(drive: Drive, index: int) -> str:
    """The nuScenes sample token of a frame: from the nuScenes importer's ``drive.tokens[i].sample``,
    else ``Frame.sample_token``, else the frame ID."""
    tokens = getattr(drive, "tokens", None)
    if tokens is not None and index < len(tokens) and getattr(tokens[index], "sample", None):
        return str(tokens[index].sample)
    frame = drive.frames[index]
    return str(getattr(frame, "sample_token", None) or frame.frame_id)


def nuscenes_detection_class(lab: CuboidLabel) -> str | None:
    """The nuScenes detection class of a label, or None: the ``nuscenes_name`` it was read with
    (a results file's bus stays bus) while its class still agrees with it, else its class when that
    is one or a nuScenes category that has one (``Bus``, ``vehicle.bus.rigid``), else by the class
    table (``Van`` -> car, ``Cyclist`` -> bicycle)."""
    from ..qa.classes import canonical

    cls = canonical(lab.label)
    read = lab.attributes.get("nuscenes_name")
    if read in NUSCENES_NAMES and NUSCENES_DETECTION[read] == cls:
        return read
    raw = lab.label.strip().lower()
    name = nuscenes_detection_name(raw) or TO_NUSCENES.get(raw, TO_NUSCENES.get(cls, cls))
    return name if name in NUSCENES_NAMES else None


def nuscenes_box(lab: CuboidLabel, T_world_lidar: np.ndarray, token: str) -> dict | None:
    """One nuScenes result box (global frame) or None when the class has no nuScenes name."""
    name = nuscenes_detection_class(lab)
    if name is None:
        return None
    b = lab.box.transformed(T_world_lidar)
    q = quaternion_from_rotation(b.rotation())
    return {"sample_token": token, "translation": [float(v) for v in b.center],
            "size": [b.width, b.length, b.height], "rotation": [float(v) for v in q],
            "velocity": known_velocity(lab.attributes.get("velocity")), "detection_name": name,
            "detection_score": float(lab.score if lab.score is not None else 1.0), "attribute_name": ""}


def known_velocity(value) -> list[float]:
    """A label's ``velocity`` attribute as a results box's [vx, vy] (m/s, global frame): NaN, NaN
    where it is unknown (no attribute, or not two finite numbers), as the devkit's
    ``box_velocity`` says so; its evaluation leaves NaN velocities out of the velocity error. A
    [0, 0] would claim the object stands still."""
    try:
        vx, vy = (float(v) for v in value) if isinstance(value, (list, tuple)) else ()
    except (TypeError, ValueError):
        return [float("nan"), float("nan")]
    return [vx, vy] if np.isfinite(vx) and np.isfinite(vy) else [float("nan"), float("nan")]


NUSCENES_META = {"use_camera": False, "use_lidar": True, "use_radar": False, "use_map": False, "use_external": False}


def nuscenes_results(per_frame: dict[int, list[CuboidLabel]], drive: Drive) -> dict[str, list[dict]]:
    """{sample token: result boxes} of detections of several frames (classes without a nuScenes
    detection name left out)."""
    results: dict[str, list] = {}
    for i, labels in per_frame.items():
        token = sample_token(drive, i)
        T = drive.T_world_lidar(i)
        results[token] = [b for b in (nuscenes_box(lab, T, token) for lab in labels) if b is not None]
    return results


def nuscenes_results_text(results: dict[str, list[dict]], meta: dict | None = None) -> str:
    """A nuScenes detection-results document: an unknown velocity is NaN (:func:`known_velocity`),
    which Python's ``json`` and the devkit's ``load_prediction`` read, strict JSON parsers not."""
    return json.dumps({"meta": meta or NUSCENES_META, "results": results})


def write_nuscenes_results(path: str | os.PathLike, per_frame: dict[int, list[CuboidLabel]], drive: Drive,
                           meta: dict | None = None) -> None:
    """Write detections of several frames as one nuScenes detection-results JSON file
    (:func:`nuscenes_results`, :func:`nuscenes_results_text`)."""
    Path(path).write_text(nuscenes_results_text(nuscenes_results(per_frame, drive), meta), encoding="utf-8")


def _num_list(path, where, value, n):
    if not isinstance(value, list) or len(value) != n or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in value):
        raise LabelError(path, f"expected a list of {n} finite numbers, got {value!r}"[:200], where=where)
    return [float(v) for v in value]


def _detection_name(path, where, name) -> str:
    """A nuScenes detection class; a category name that has one is read as it (``vehicle.car``
    -> ``car``, the devkit's own table); any other name is refused."""
    found = nuscenes_detection_name(name) if isinstance(name, str) else None
    if found is None:
        raise LabelError(path, f"{name!r} is not a nuScenes detection class ({', '.join(NUSCENES_NAMES)}) "
                               "or a category that has one"[:300], where=where)
    return found


def _velocity(path, where, value) -> list[float] | None:
    """(vx, vy) in m/s, or None when absent or unknown: NaN (or null) in either component, as the
    devkit writes a velocity it cannot compute. Anything but two numbers is refused."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2 or not all(
            v is None or isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise LabelError(path, f"expected [vx, vy] in m/s (NaN for unknown), got {value!r}"[:200], where=where)
    if any(v is None or np.isnan(v) for v in value):
        return None
    if not all(np.isfinite(v) for v in value):
        raise LabelError(path, f"expected finite speeds (NaN for unknown), got {value!r}", where=where)
    return [float(v) for v in value]


def read_nuscenes_results(path: str | os.PathLike) -> dict[str, list[dict]]:
    """Validated boxes by sample token: dicts with center, size (l, w, h), rotation (3, 3), name, score."""
    path = Path(path)
    doc = read_json(path, "results file")
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), dict):
        raise LabelError(path, "expected an object with 'results': {sample_token: [boxes]}", where="results")
    out: dict[str, list[dict]] = {}
    for token, boxes in doc["results"].items():
        if not isinstance(boxes, list):
            raise LabelError(path, f"expected a list of boxes, got {type(boxes).__name__}", where=f"results.{token}")
        parsed = []
        for k, box in enumerate(boxes):
            where = f"results.{token}[{k}]"
            if not isinstance(box, dict):
                raise LabelError(path, "expected an object", where=where)
            for key in ("translation", "size", "rotation", "detection_name", "detection_score"):
                if key not in box:
                    raise LabelError(path, "missing required key", where=f"{where}.{key}")
            t = _num_list(path, f"{where}.translation", box["translation"], 3)
            w, l, h = _num_list(path, f"{where}.size", box["size"], 3)
            if min(w, l, h) <= 0:
                raise LabelError(path, f"sizes must be positive, got {box['size']}", where=f"{where}.size")
            q = _num_list(path, f"{where}.rotation", box["rotation"], 4)
            if not np.linalg.norm(q) > 0:
                raise LabelError(path, "quaternion has zero norm", where=f"{where}.rotation")
            score = box["detection_score"]
            if (problem := score_problem(score)) is not None:
                raise LabelError(path, problem, where=f"{where}.detection_score")
            parsed.append({"center": t, "size": (l, w, h), "rotation": rotation_from_quaternion(q),
                           "name": _detection_name(path, f"{where}.detection_name", box["detection_name"]),
                           "score": float(score), "velocity": _velocity(path, f"{where}.velocity", box.get("velocity"))})
        out[str(token)] = parsed
    return out


def labels_from_nuscenes(boxes: list[dict], T_world_lidar: np.ndarray) -> list[CuboidLabel]:
    """Global-frame result boxes as model labels in a frame's LiDAR frame."""
    T_lidar_world = invert_T(T_world_lidar)
    out = []
    for b in boxes:
        roll, pitch, yaw = euler_from_rotation(b["rotation"])
        box = Cuboid(b["center"], b["size"], yaw, pitch, roll).transformed(T_lidar_world)
        label = FROM_NUSCENES.get(b["name"], b["name"])
        attrs = {"nuscenes_name": b["name"]}
        if b.get("velocity") is not None:
            attrs["velocity"] = b["velocity"]
        out.append(CuboidLabel(box, label, None, b["score"], "model", attrs))
    return out


# ---------------------------------------------------------------------------------------- detector
def _is_nuscenes_results(path: Path) -> bool:
    """A JSON file holding a nuScenes results document (a ``results`` mapping), not native labels."""
    doc = read_json(path, "predictions file")
    return isinstance(doc, dict) and "results" in doc


class PredictionsDetector(Detector):
    """Serves detections from files: a folder of KITTI ``<frame_id>.txt`` or of native
    ``<frame_id>.json`` label files, or a nuScenes results JSON (or a folder holding just that).
    Frames without a file get no detections; ``missing_frames`` holds their indices."""

    name = "predictions"

    def __init__(self, path: str | os.PathLike):
        path = Path(path)
        if not path.exists():
            raise InputError(path, "predictions not found (expected a folder of KITTI .txt files or a nuScenes "
                                   "results .json)", where="--detector")
        self.path = path
        self.missing_frames: set[int] = set()     # frame indices that had no prediction file / entry
        self._nuscenes = None
        self._suffix = ".txt"                     # per-frame files: KITTI .txt, or native .json
        self._by_frame: tuple = (None, {})        # (drive, {frame index: file}) of the last drive asked
        json_file = path if path.is_file() else None
        if path.is_dir() and not any(path.glob("*.txt")):
            jsons = sorted(path.glob("*.json"))
            if not jsons:
                raise InputError(path, "expected KITTI <frame_id>.txt files, native <frame_id>.json label files or "
                                       "a nuScenes results .json; found none", where="--detector")
            if len(jsons) == 1 and _is_nuscenes_results(jsons[0]):
                json_file = jsons[0]
            else:
                self._suffix = ".json"
        if json_file is not None:
            if json_file.suffix.lower() != ".json":
                raise InputError(json_file, "expected a nuScenes results .json or a folder of KITTI .txt files",
                                 where="--detector")
            self._nuscenes = read_nuscenes_results(json_file)

    def detect_frame(self, drive: Drive, index: int) -> list[CuboidLabel]:
        if self._nuscenes is not None:
            boxes = self._nuscenes.get(sample_token(drive, index))
            if boxes is None:
                self.missing_frames.add(index)
                return []
            labels = labels_from_nuscenes(boxes, drive.T_world_lidar(index))
        else:
            file = self._files(drive).get(index)
            if file is None:
                self.missing_frames.add(index)
                return []
            if self._suffix == ".json":
                from ..io.native import read_labels

                labels = [lab.with_(source="model") for lab in read_labels(file, unwrapped_yaw=True) if lab.label != "DontCare"]
            else:
                labels = read_kitti_predictions(file, T_rect_lidar(drive, index))
            labels = [lab if lab.score is not None else lab.with_(score=1.0, source="model") for lab in labels]
        return sorted(labels, key=lambda d: -d.score)

    def _files(self, drive: Drive) -> dict[int, Path]:
        """This folder's per-frame files by the frame index they name (:func:`frames_of_files`)."""
        if self._by_frame[0] is not drive:
            files = {p.stem: p for p in self.path.glob(f"*{self._suffix}")}
            named = frames_of_files(drive, sorted(files))
            self._by_frame = (drive, {i: files[stem] for stem, i in named.items() if i is not None})
        return self._by_frame[1]

    @property
    def missing(self) -> int:
        """How many frames asked for had no prediction file (or results entry)."""
        return len(self.missing_frames)

    def unmatched(self, drive: Drive) -> list[str]:
        """Prediction files (KITTI) or sample tokens (nuScenes) that belong to no frame of ``drive``."""
        if self._nuscenes is not None:
            known = {sample_token(drive, i) for i in range(len(drive))}
            return sorted(t for t in self._nuscenes if t not in known)
        used = set(self._files(drive).values())
        return sorted(p.name for p in self.path.glob(f"*{self._suffix}") if p not in used)

    def check_matches(self, drive: Drive, frames: list[int]) -> None:
        """An :class:`InputError` when none of ``frames`` got a prediction (the files belong to
        another drive, or are named differently)."""
        if frames and self.missing_frames >= set(frames):
            extra = self.unmatched(drive)
            what = f"sample tokens such as {extra[0]}" if self._nuscenes is not None and extra else \
                f"files such as {extra[0]}" if extra else "no prediction for any frame"
            if self._nuscenes is not None:
                copy = _nuscenes_copy_note(drive)
                expected = "sample tokens of this drive" + ("" if copy else f", e.g. {sample_token(drive, frames[0])}")
            else:
                expected = f"<frame_id>{self._suffix} files of this drive, e.g. {drive.frames[frames[0]].frame_id}"
                copy = ""
            raise InputError(self.path, f"none of the {len(frames)} frames has a prediction ({what}; expected "
                                        f"{expected}){copy}", where="--detector")


def _nuscenes_copy_note(drive: Drive) -> str:
    """For a native copy of a nuScenes scene made before the importer kept the source's tokens
    (its name ``nuscenes/<scene>`` kept, no ``nuscenes`` records): why its frames cannot match a
    results file, and what to use instead; "" otherwise."""
    if getattr(drive, "tokens", None) is not None or not drive.name.startswith("nuscenes/"):
        return ""
    scene = drive.name.split("/", 1)[1]
    return (f"; this is a native copy of nuScenes {scene}: it keeps the LiDAR sample_data tokens as frame IDs, "
            f"not the sample tokens a results file is keyed by, so give the nuScenes dataroot instead "
            f"(--scene {scene}) or import the scene again")
