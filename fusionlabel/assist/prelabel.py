"""Pre-label a drive: run a detector on every frame, optionally track, and write the boxes beside
(never over) human work.

Output folder layout: one file per frame named after the frame ID, ``<id>.json`` in the native
``fusionlabel-labels/1`` format (docs/native_format.md; pre-labels carry ``"source": "model"``,
their ``score`` and, with tracking, a ``track_id`` starting with ``p``) or ``<id>.txt`` in KITTI
format with a 16th score column. When a file already exists, its human (and imported) labels are
kept unchanged, its old model labels are replaced, and new pre-labels that overlap a kept label
are dropped.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..geometry.cuboid import points_in_cuboid
from ..geometry.iou import iou_matrix
from ..model.annotation import CuboidLabel
from ..model.drive import Drive
from .detector import Detector
from .tracker import TrackerConfig, track_sequence

FORMATS = ("native", "kitti")
OVERLAP_IOU = 0.1          # a pre-label overlapping a kept label this much (BEV IoU) is dropped
TRACK_PREFIX = "p"


@dataclass
class PrelabelReport:
    frames: int = 0
    prelabels: int = 0
    kept: int = 0                 # human / imported labels found in the output and kept
    dropped_overlap: int = 0      # pre-labels not written because they overlap kept labels
    replaced: int = 0             # old model labels replaced
    by_class: dict = field(default_factory=dict)
    seconds_per_frame: float = 0.0
    missing_predictions: int = 0


def detect_drive(drive: Drive, detector: Detector, frames: list[int] | None = None, progress: bool = True
                 ) -> tuple[list[int], list[list[CuboidLabel]], float]:
    """Detections for ``frames`` (default all); returns (frames, detections per frame, s/frame)."""
    from tqdm import tqdm

    frames = list(range(len(drive))) if frames is None else frames
    out = []
    t0 = time.perf_counter()
    for i in tqdm(frames, desc="prelabel", unit="frame", file=sys.stderr, disable=not progress):
        out.append(detector.detect_frame(drive, i))
    return frames, out, (time.perf_counter() - t0) / max(len(frames), 1)


def track_drive(drive: Drive, frames: list[int], detections: list[list[CuboidLabel]],
                config: TrackerConfig | None = None) -> list[list[CuboidLabel]]:
    """Track detections over consecutive ``frames`` in the drive's world frame."""
    poses = [drive.T_world_lidar(i) for i in frames]
    ts = [drive.frames[i].timestamp_us for i in frames]
    times = [t * 1e-6 for t in ts] if all(b > a for a, b in zip(ts, ts[1:])) and len(set(ts)) == len(ts) else None
    tracked = track_sequence(detections, poses, times, config)
    return [[lab.with_(track_id=TRACK_PREFIX + lab.track_id) for lab in f] for f in tracked]


def merge_with_existing(existing: list[CuboidLabel], prelabels: list[CuboidLabel], points: np.ndarray | None = None
                        ) -> tuple[list[CuboidLabel], int, int, int]:
    """Kept labels followed by the pre-labels that do not overlap them.

    Returns (labels, kept, dropped, replaced). A pre-label is dropped when its BEV IoU with a kept
    label exceeds OVERLAP_IOU or its centre lies inside a kept box.
    """
    kept = [lab for lab in existing if lab.source != "model"]
    replaced = len(existing) - len(kept)
    if not kept or not prelabels:
        return kept + list(prelabels), len(kept), 0, replaced
    ious = iou_matrix([p.box for p in prelabels], [k.box for k in kept], "bev")
    centres = np.array([p.box.center for p in prelabels])
    inside = np.zeros(len(prelabels), bool)
    for k in kept:
        inside |= points_in_cuboid(centres, k.box)
    clash = (ious > OVERLAP_IOU).any(axis=1) | inside
    return kept + [p for p, c in zip(prelabels, clash) if not c], len(kept), int(clash.sum()), replaced


def _existing(path: Path, fmt: str, drive: Drive, index: int) -> list[CuboidLabel]:
    if not path.exists():
        return []
    if fmt == "native":
        from ..io.native import read_labels

        return read_labels(path)
    from .predictions import T_rect_lidar, read_kitti_predictions

    return read_kitti_predictions(path, T_rect_lidar(drive, index))


def _write(path: Path, fmt: str, labels: list[CuboidLabel], drive: Drive, index: int) -> None:
    if fmt == "native":
        from ..io.native import labels_to_json

        text = labels_to_json(drive.frames[index].frame_id, labels)
    else:
        from .predictions import T_rect_lidar, _kitti_P2, kitti_lines

        text = kitti_lines(labels, T_rect_lidar(drive, index), _kitti_P2(drive, index))
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_prelabels(out: str | Path, drive: Drive, frames: list[int], prelabels: list[list[CuboidLabel]],
                    fmt: str = "native", report: PrelabelReport | None = None) -> PrelabelReport:
    """Write pre-labels per frame into ``out`` (see module docstring); returns the tally."""
    if fmt not in FORMATS:
        raise InputError(None, f"expected one of {', '.join(FORMATS)}, got {fmt!r}", where="--format")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(out, "output exists and is not a folder", where="--out")
    out.mkdir(parents=True, exist_ok=True)
    report = report or PrelabelReport()
    ext = ".json" if fmt == "native" else ".txt"
    for i, labels in zip(frames, prelabels):
        path = out / f"{drive.frames[i].frame_id}{ext}"
        merged, kept, dropped, replaced = merge_with_existing(_existing(path, fmt, drive, i), labels)
        _write(path, fmt, merged, drive, i)
        report.frames += 1
        report.kept += kept
        report.dropped_overlap += dropped
        report.replaced += replaced
        for lab in merged[kept:]:
            report.prelabels += 1
            report.by_class[lab.label] = report.by_class.get(lab.label, 0) + 1
    return report


def prelabel(drive: Drive, detector: Detector, out: str | Path, fmt: str = "native", track: bool = False,
             min_score: float = 0.0, frames: list[int] | None = None, tracker: TrackerConfig | None = None,
             progress: bool = True) -> PrelabelReport:
    """Detect (and track) over ``drive`` and write the pre-labels to ``out``."""
    frames, dets, spf = detect_drive(drive, detector, frames, progress)
    dets = [[d for d in f if (d.score if d.score is not None else 1.0) >= min_score] for f in dets]
    if track:
        dets = track_drive(drive, frames, dets, tracker)
    report = write_prelabels(out, drive, frames, dets, fmt)
    report.seconds_per_frame = spf
    report.missing_predictions = int(getattr(detector, "missing", 0))
    return report


# ---------------------------------------------------------------------------------------- project store
def write_to_project(project, frames: list[int], prelabels: list[list[CuboidLabel]],
                     description: str = "Pre-label", report: PrelabelReport | None = None) -> PrelabelReport:
    """Store pre-labels in an open project (``fusionlabel.store.project.Project``) as ONE undoable
    command: the frames' old model labels are deleted, human labels are kept, and new pre-labels
    that overlap a kept label are not created. Classes go through the project's ontology (unknown
    classes are skipped and counted in ``report.by_class["<skipped: NAME>"]``); each tracker track
    gets a fresh project track id."""
    from ..model.commands import Batch, CreateCuboid, DeleteCuboids

    report = report or PrelabelReport()
    doc = project.document
    track_map: dict[str, str] = {}
    deletes: list[str] = []
    creates: list = []
    for i, labels in zip(frames, prelabels):
        existing = doc.annotations(i)
        old_model = [a.uid for a in existing if a.source == "model"]
        merged, kept, dropped, replaced = merge_with_existing([a.label for a in existing], labels)
        deletes += old_model
        report.frames += 1
        report.kept += kept
        report.dropped_overlap += dropped
        report.replaced += replaced
        for lab in merged[kept:]:
            cls = project.ontology.resolve(lab.label)
            if cls is None:
                key = f"<skipped: {lab.label}>"
                report.by_class[key] = report.by_class.get(key, 0) + 1
                continue
            track = None
            if lab.track_id is not None:
                if lab.track_id not in track_map:
                    track_map[lab.track_id] = doc.new_track_id()
                track = track_map[lab.track_id]
            creates.append(CreateCuboid(i, lab.with_(label=cls, track_id=track, source="model")))
            report.prelabels += 1
            report.by_class[cls] = report.by_class.get(cls, 0) + 1
    commands = ([DeleteCuboids(tuple(deletes))] if deletes else []) + creates
    if commands:
        doc.apply(Batch(tuple(commands), f"{description}: {len(creates)} boxes in {len(frames)} frames"))
    return report


def prelabel_project(project, detector: Detector, track: bool = False, min_score: float = 0.0,
                     frames: list[int] | None = None, tracker: TrackerConfig | None = None,
                     progress: bool = True) -> PrelabelReport:
    """Detect (and track) over a project's drive and store the pre-labels in the project."""
    drive = project.drive
    frames, dets, spf = detect_drive(drive, detector, frames, progress)
    dets = [[d for d in f if (d.score if d.score is not None else 1.0) >= min_score] for f in dets]
    if track:
        dets = track_drive(drive, frames, dets, tracker)
    report = write_to_project(project, frames, dets, f"Pre-label ({detector.name})")
    report.seconds_per_frame = spf
    report.missing_predictions = int(getattr(detector, "missing", 0))
    return report
