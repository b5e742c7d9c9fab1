"""Pre-label a drive: run a detector on every frame, optionally track, and store the boxes beside
(never over) human work — in an output folder, in a project, or (through
:mod:`fusionlabel.assist.edit_assist`) from the app.

**Re-running on a frame that already has labels** follows one rule everywhere,
:func:`merge_prelabels`:

- human and imported labels are never touched;
- a model pre-label the annotator touched (moved, resized, rotated, retyped, given attributes or
  another track; accepted ones are human anyway) is kept like human work;
- the untouched model pre-labels of the frame are replaced by the new run (one that the run finds
  again exactly, with the same track id for a tracked one, simply stays);
- a new pre-label overlapping a kept label (:func:`overlaps`), or an earlier new one, is dropped;
- a new track overlapping a kept label of a track continues that track (:func:`inherited_tracks`),
  so editing one box of a track does not split it.

How "untouched" is known: in a project (:func:`untouched_prelabels`) a pre-label is untouched when
it is exactly as the pre-label command that created it stored it (found in the command log); in an
output folder, when it is exactly one of the pre-labels the last run recorded for that frame in
``<out>/.fusionlabel-prelabel/<id>.json``. Anything else (no record, a damaged record, model boxes
made by interpolation, propagation or copying) counts as touched and is kept: the safe side. In a
KITTI file every line but those of untouched pre-labels stays byte for byte (DontCare lines, human
2D boxes and alpha included); a file whose content would not change is not rewritten.

Output folder layout: one file per frame named after the frame ID, ``<id>.json`` in the native
``fusionlabel-labels/1`` format (docs/native_format.md; pre-labels carry ``"source": "model"``,
their ``score`` and, with tracking, a ``track_id`` starting with ``p``) or ``<id>.txt`` in KITTI
format with a 16th score column, plus the hidden record folder above. A folder holds one format:
:func:`check_out_folder` refuses to write one beside label files of the other.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import InputError
from ..geometry.cuboid import Cuboid, points_in_cuboid
from ..geometry.iou import iou_matrix
from ..model.annotation import CuboidLabel
from ..model.commands import Batch, Command, CreateCuboid, DeleteCuboids, label_to_dict
from ..model.drive import Drive
from .detector import Detector
from .tracker import TrackerConfig, track_sequence

FORMATS = ("native", "kitti")
OVERLAP_IOU = 0.1          # a pre-label overlapping a kept label this much (BEV IoU) is dropped
TRACK_PREFIX = "p"
LINK_IOU = 0.3             # a detection belongs to the track whose box of that frame it overlaps this much
SPARSE_FRAMES = 0.3        # seconds between frames above which tracking is said to be unreliable
PRELABEL_DESCRIPTION = "Pre-label"      # every pre-label command's description starts with this
RECORD_DIR = ".fusionlabel-prelabel"    # in an output folder: what the last run wrote, per frame
RECORD_FORMAT = "fusionlabel-prelabel-record/1"


@dataclass
class PrelabelReport:
    frames: int = 0
    prelabels: int = 0
    kept: int = 0                 # human / imported labels found and kept
    kept_edited: int = 0          # pre-labels the annotator touched, kept like human work
    dropped_overlap: int = 0      # new pre-labels not stored because they overlap kept labels
    replaced: int = 0             # untouched pre-labels of an earlier run replaced
    unchanged: int = 0            # untouched pre-labels the run found again exactly: left as they are
    by_class: dict = field(default_factory=dict)
    seconds_per_frame: float = 0.0
    missing_predictions: int = 0

    def count(self, cls: str) -> None:
        self.by_class[cls] = self.by_class.get(cls, 0) + 1


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
    """Link detections over consecutive ``frames`` into tracks (world frame, the drive's poses and
    timestamps): the pre-labels of a tracked run, the same for the CLI, projects and the app.

    Every detection is kept with its own box, and gets the id of the track it belongs to
    (``p1``, ``p2``, ...) and the class that track voted for (:func:`~.tracker.track_sequence`);
    a detection whose class the track overrules (a cyclist seen from ahead, called a pedestrian in
    that frame) takes the track's box of that frame. A detection the tracker left out (a track seen
    too few times) stays, without a track id. Boxes the tracker filled into a track's gaps
    (attribute ``interpolated``) are added."""
    poses = [drive.T_world_lidar(i) for i in frames]
    ts = [drive.frames[i].timestamp_us for i in frames]
    times = [t * 1e-6 for t in ts] if all(b > a for a, b in zip(ts, ts[1:])) and len(set(ts)) == len(ts) else None
    return link_to_tracks(detections, track_sequence(detections, poses, times, config))


def link_to_tracks(detections: list[list[CuboidLabel]], tracked: list[list[CuboidLabel]]
                   ) -> list[list[CuboidLabel]]:
    """The detections of each frame with the track ids and classes of :func:`track_sequence`'s
    output for the same frames (see :func:`track_drive`)."""
    from scipy.optimize import linear_sum_assignment

    out = []
    for raw, trk in zip(detections, tracked):
        labels = [d.with_(track_id=None) for d in raw]
        seen = [t for t in trk if not t.attributes.get("interpolated")]
        if labels and seen:
            iou = iou_matrix([t.box for t in seen], [d.box for d in labels], "bev")
            for r, c in zip(*linear_sum_assignment(-iou)):
                if iou[r, c] >= LINK_IOU:
                    t = seen[r]
                    same = t.label == labels[c].label
                    labels[c] = labels[c].with_(track_id=TRACK_PREFIX + t.track_id, label=t.label,
                                                box=labels[c].box if same else t.box)
        filled = [t.with_(track_id=TRACK_PREFIX + t.track_id) for t in trk if t.attributes.get("interpolated")]
        out.append(labels + filled)
    return out


def tracking_caveat(drive: Drive, frames: list[int]) -> str | None:
    """Why tracking may break on these frames, or None: the drive has no ego poses (every pose the
    same: tracks are kept in the moving LiDAR frame), or its frames are far apart in time."""
    if len(frames) < 2:
        return None
    notes = []
    poses = [drive.T_world_lidar(i) for i in frames]
    if all(np.allclose(T, poses[0]) for T in poses[1:]):
        notes.append("the drive has no ego poses, so objects are tracked in the moving LiDAR frame")
    ts = np.array([drive.frames[i].timestamp_us for i in frames], dtype=np.float64) * 1e-6
    gaps = np.diff(ts)
    if len(gaps) and np.all(gaps > 0) and float(np.max(gaps)) > SPARSE_FRAMES:
        notes.append(f"frames are up to {float(np.max(gaps)):.1f} s apart")
    if not notes:
        return None
    return "tracking may break: " + "; ".join(notes)


def frames_text(drive: Drive, frames: Sequence[int]) -> str:
    """``frame 000004`` for one frame, ``20 frames`` for several (command descriptions)."""
    return f"frame {drive.frames[frames[0]].frame_id}" if len(frames) == 1 else f"{len(frames)} frames"


# ---------------------------------------------------------------------------------------- the rule
def overlaps(boxes: list[Cuboid], existing: list[Cuboid], min_iou: float = OVERLAP_IOU) -> np.ndarray:
    """(len(boxes),) bool: a box overlaps an existing one (BEV IoU > ``min_iou``) or its centre
    lies inside one, or the other way round (a small box swallowed by a big one)."""
    out = np.zeros(len(boxes), bool)
    if not boxes or not existing:
        return out
    out |= (iou_matrix(boxes, existing, "bev") > min_iou).any(axis=1)
    centres = np.array([b.center for b in boxes])
    for e in existing:
        out |= points_in_cuboid(centres, e)
    other = np.array([e.center for e in existing])
    for k, b in enumerate(boxes):
        out[k] |= bool(points_in_cuboid(other, b).any())
    return out


@dataclass
class Merge:
    """What a pre-label run does to one frame (:func:`merge_prelabels`)."""

    keep: list[int]            # indexes of the existing labels that stay, in order
    replace: list[int]         # indexes of the existing untouched pre-labels the run removes
    add: list[CuboidLabel]     # the new pre-labels to store, in order
    dropped: int               # new pre-labels not stored (overlapping a kept label or an earlier new one)
    again: list[int] = field(default_factory=list)   # untouched pre-labels found again as they are: kept


def _same(a: CuboidLabel, b: CuboidLabel) -> bool:
    score = (lambda lab: 1.0 if lab.score is None else float(lab.score))
    return a.box == b.box and a.label == b.label and score(a) == score(b)


def merge_prelabels(existing: Sequence[CuboidLabel], untouched: Sequence[bool],
                    prelabels: Sequence[CuboidLabel]) -> Merge:
    """The rule for (re-)running pre-labelling on a frame, shared by output folders, projects and
    the app. ``untouched[k]`` says whether ``existing[k]``, if it is a model pre-label, is still as
    an earlier run made it. Human and imported labels and touched pre-labels are kept; untouched
    pre-labels are replaced; a new pre-label that overlaps a kept label or an earlier new one
    (:func:`overlaps`) is dropped. An untouched pre-label that a new one repeats exactly (box,
    class, score, and the track id when the new one has one) simply stays (``again``), with its
    track."""
    if len(untouched) != len(existing):
        raise ValueError(f"{len(existing)} existing labels but {len(untouched)} untouched flags")
    replace = [k for k, (lab, u) in enumerate(zip(existing, untouched)) if u and lab.source == "model"]
    gone = set(replace)
    keep = [k for k in range(len(existing)) if k not in gone]
    clash = overlaps([p.box for p in prelabels], [existing[k].box for k in keep])
    add: list[CuboidLabel] = []
    again: list[int] = []
    placed: list[Cuboid] = []
    for p, bad in zip(prelabels, clash):
        if bad or overlaps([p.box], placed)[0]:
            continue
        placed.append(p.box)
        twin = next((k for k in replace if k not in again and _same(existing[k], p)
                     and p.track_id in (None, existing[k].track_id)), None)
        if twin is None:
            add.append(p)
        else:
            again.append(twin)
    if again:
        keep = sorted(keep + again)
        replace = [k for k in replace if k not in again]
    return Merge(keep, replace, add, len(prelabels) - len(add) - len(again), again)


def _tally(report: PrelabelReport, existing: Sequence[CuboidLabel], merge: Merge) -> None:
    report.frames += 1
    report.replaced += len(merge.replace)
    report.unchanged += len(merge.again)
    report.dropped_overlap += merge.dropped
    for k in merge.keep:
        if k in merge.again:
            continue
        if existing[k].source == "model":
            report.kept_edited += 1
        else:
            report.kept += 1


def inherited_tracks(existing: Sequence[Sequence[CuboidLabel]], merges: Sequence[Merge],
                     prelabels: Sequence[Sequence[CuboidLabel]]) -> dict[str, str]:
    """{new track id: kept track id}, over the frames of one run (``existing[f]``, its
    ``merges[f]`` and the new ``prelabels[f]``): a new track that overlaps (:func:`overlaps`) a
    kept label of a track — a pre-label the annotator touched, or human work — continues that
    track, so editing one box of a track does not split it on the next run. A new track joins the
    kept track it overlaps in the most frames, and only when that gives no frame two boxes of one
    track (the kept track's labels and the new tracks already joined to it)."""
    votes: Counter = Counter()
    occupied: dict[str, set[int]] = {}
    added: dict[str, set[int]] = {}
    for f, (labels, merge, new) in enumerate(zip(existing, merges, prelabels)):
        for lab in [labels[k] for k in merge.keep] + list(merge.add):
            if lab.track_id is not None:
                occupied.setdefault(lab.track_id, set()).add(f)
        for lab in merge.add:
            if lab.track_id is not None:
                added.setdefault(lab.track_id, set()).add(f)
        donors = [labels[k] for k in merge.keep if labels[k].track_id is not None and k not in merge.again]
        pairs = set()
        for p in new:
            if p.track_id is not None and donors:
                hit = overlaps([d.box for d in donors], [p.box])
                pairs |= {(p.track_id, d.track_id) for d, h in zip(donors, hit) if h and d.track_id != p.track_id}
        votes.update(pairs)
    mapping: dict[str, str] = {}
    for (new_id, kept_id), _ in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0])):
        frames = added.get(new_id, set())
        if new_id in mapping or frames & occupied.get(kept_id, set()):
            continue
        mapping[new_id] = kept_id
        occupied.setdefault(kept_id, set()).update(frames)
    return mapping


# ---------------------------------------------------------------------------------------- output folders
def label_digest(label: CuboidLabel) -> str:
    """A fingerprint of everything a label file says about one label."""
    text = json.dumps(label_to_dict(label), sort_keys=True, default=repr)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _record_path(out: Path, frame_id: str) -> Path:
    return out / RECORD_DIR / f"{frame_id}.json"


def _read_record(path: Path) -> set[str]:
    """Digests of the pre-labels the last run wrote for a frame; empty when there is no usable
    record (then every label of that frame counts as touched and is kept)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    if not isinstance(doc, dict) or doc.get("format") != RECORD_FORMAT or not isinstance(doc.get("prelabels"), list):
        return set()
    return {d for d in doc["prelabels"] if isinstance(d, str)}


def _replace_text(path: Path, text: str) -> None:
    """Write ``text`` (bytes as read by :func:`_read_text`) atomically; a file that already holds
    exactly it is left alone."""
    data = text.encode("utf-8", "surrogateescape")
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _read_text(path: Path) -> str:
    """A file's text with its bytes as they are (no newline translation; bytes that are not UTF-8
    survive the round trip through :func:`_replace_text`)."""
    return path.read_bytes().decode("utf-8", "surrogateescape")


@dataclass
class _KittiText:
    """A KITTI label file as lines: ``labels[k]`` is read from ``lines[at[k]]``; the other lines
    (DontCare, blank) only ever pass through."""

    lines: list[str]
    labels: list[CuboidLabel]
    at: list[int]


def _kitti_text(text: str, path: Path, T_rect: np.ndarray) -> _KittiText:
    from ..geometry.transforms import invert_T
    from ..io.kitti import label_from_kitti, parse_kitti_label_line

    T_lidar_rect = invert_T(T_rect)
    lines = text.splitlines(keepends=True)
    labels, at = [], []
    for n, line in enumerate(lines):
        if not line.strip():
            continue
        parsed = parse_kitti_label_line(line, path, n + 1)
        if parsed.type != "DontCare":
            labels.append(label_from_kitti(parsed, T_lidar_rect, path, n + 1))
            at.append(n)
    return _KittiText(lines, labels, at)


def _existing(path: Path, fmt: str, drive: Drive, index: int) -> list[CuboidLabel]:
    if not path.exists():
        return []
    if fmt == "native":
        from ..io.native import read_labels

        return read_labels(path)
    from .predictions import T_rect_lidar

    return _kitti_text(_read_text(path), path, T_rect_lidar(drive, index)).labels


def _as_written(path: Path, fmt: str, labels: list[CuboidLabel], drive: Drive, index: int
                ) -> tuple[list[CuboidLabel], list[str]]:
    """New pre-labels as the file will hold them, and their KITTI lines. A KITTI line rounds the
    box and has no track id; comparing what it reads back as lets a run recognise its own earlier
    lines. Native files hold labels exactly. A KITTI pre-label without a score gets 1.0 (as in a
    project): a line without one would read back as human work."""
    if fmt == "native":
        return list(labels), []
    from .predictions import T_rect_lidar, _kitti_P2, kitti_lines

    T, P = T_rect_lidar(drive, index), _kitti_P2(drive, index)
    texts = [kitti_lines([lab if lab.score is not None else lab.with_(score=1.0)], T, P) for lab in labels]
    return _kitti_text("".join(texts), path, T).labels, texts


def _frame_text(path: Path, fmt: str, existing: list[CuboidLabel], merge: Merge, new: list[CuboidLabel],
                new_lines: list[str], drive: Drive, index: int) -> str:
    """The file of one frame after ``merge``: native, the kept labels then the new ones; KITTI, the
    file's own lines as they are (human, DontCare and kept lines byte for byte) less the removed
    pre-labels, then the lines of the added labels (``new_lines[k]`` is the line of ``new[k]``)."""
    if fmt == "native":
        from ..io.native import labels_to_json

        return labels_to_json(drive.frames[index].frame_id, [existing[k] for k in merge.keep] + list(merge.add))
    from .predictions import T_rect_lidar

    old = _kitti_text(_read_text(path), path, T_rect_lidar(drive, index)) if path.exists() else _KittiText([], [], [])
    gone = {old.at[k] for k in merge.replace}
    text = "".join(line for n, line in enumerate(old.lines) if n not in gone)
    if text and not text.endswith(("\n", "\r")):
        text += "\n"
    return text + "".join(next(t for lab, t in zip(new, new_lines) if lab is added) for added in merge.add)


def check_out_folder(out: str | Path, drive: Drive, fmt: str) -> Path:
    """``out`` as a folder ``prelabel`` may write ``fmt`` label files to: a folder (or nothing yet)
    without label files of the other format, so that no folder ends up with a stale set beside a
    fresh one (``fusionlabel eval`` refuses a folder holding both)."""
    if fmt not in FORMATS:
        raise InputError(None, f"expected one of {', '.join(FORMATS)}, got {fmt!r}", where="--format")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(out, "output exists and is not a folder", where="--out")
    if out.is_dir():
        ids = {f.frame_id for f in drive.frames}
        other = "kitti" if fmt == "native" else "native"
        ext = ".txt" if other == "kitti" else ".json"
        theirs = sorted(p.name for p in out.iterdir() if p.suffix == ext and p.stem in ids and p.is_file())
        if theirs:
            n = len(theirs)
            name = "KITTI" if other == "kitti" else "native"
            raise InputError(out, f"holds {n} {name} label file{'s' if n != 1 else ''} ({theirs[0]}"
                                  f"{', ...' if n > 1 else ''}), not {fmt}: give --format {other} to pre-label "
                                  "it again, or another --out folder", where="--out")
    return out


def _avoid_tracks(prelabels: list[list[CuboidLabel]], used: set[str]) -> list[list[CuboidLabel]]:
    """Rename the new track ids that a kept label already uses (next free ``pN``)."""
    clash = sorted({lab.track_id for f in prelabels for lab in f if lab.track_id in used})
    if not clash:
        return prelabels
    taken = used | {lab.track_id for f in prelabels for lab in f if lab.track_id is not None}
    numbers = [int(t[len(TRACK_PREFIX):]) for t in taken
               if t.startswith(TRACK_PREFIX) and t[len(TRACK_PREFIX):].isdigit()]
    n = max(numbers, default=0)
    mapping = {}
    for t in clash:
        n += 1
        mapping[t] = f"{TRACK_PREFIX}{n}"
    return [[lab.with_(track_id=mapping.get(lab.track_id, lab.track_id)) for lab in f] for f in prelabels]


def write_prelabels(out: str | Path, drive: Drive, frames: list[int], prelabels: list[list[CuboidLabel]],
                    fmt: str = "native", report: PrelabelReport | None = None) -> PrelabelReport:
    """Write pre-labels per frame into ``out`` by :func:`merge_prelabels` (see the module
    docstring), and record what was written; returns the tally. New tracks continue the kept
    tracks they overlap (:func:`inherited_tracks`); in KITTI files only the lines of recorded,
    untouched pre-labels are ever removed, every other line stays byte for byte. A file whose
    content would not change is not rewritten."""
    out = check_out_folder(out, drive, fmt)
    (out / RECORD_DIR).mkdir(parents=True, exist_ok=True)
    report = report or PrelabelReport()
    ext = ".json" if fmt == "native" else ".txt"
    found = []
    for i in frames:
        fid = drive.frames[i].frame_id
        existing = _existing(out / f"{fid}{ext}", fmt, drive, i)
        recorded = _read_record(_record_path(out, fid)) if existing else set()
        found.append((existing, [lab.source == "model" and label_digest(lab) in recorded for lab in existing]))
    used = {lab.track_id for existing, untouched in found for lab, u in zip(existing, untouched)
            if lab.track_id is not None and not (u and lab.source == "model")}
    prelabels = _avoid_tracks(list(prelabels), used)
    stored, new_lines = [], []
    for i, labels in zip(frames, prelabels):
        as_written, texts = _as_written(out / f"{drive.frames[i].frame_id}{ext}", fmt, labels, drive, i)
        stored.append(as_written)
        new_lines.append(texts)
    merges = [merge_prelabels(existing, untouched, labels) for labels, (existing, untouched) in zip(stored, found)]
    inherit = inherited_tracks([existing for existing, _ in found], merges, stored)
    if inherit:
        stored = [[lab.with_(track_id=inherit.get(lab.track_id, lab.track_id)) for lab in f] for f in stored]
        merges = [merge_prelabels(existing, untouched, labels)
                  for labels, (existing, untouched) in zip(stored, found)]
    for i, merge, (existing, _), new, lines in zip(frames, merges, found, stored, new_lines):
        fid = drive.frames[i].frame_id
        path = out / f"{fid}{ext}"
        kept = [existing[k] for k in merge.keep]
        _replace_text(path, _frame_text(path, fmt, existing, merge, new, lines, drive, i))
        written = _existing(path, fmt, drive, i)
        ours = [pos for pos, k in enumerate(merge.keep) if k in merge.again] + \
            list(range(len(kept), len(kept) + len(merge.add)))        # found again + new, as read back
        ours = ours if len(written) == len(kept) + len(merge.add) else []
        record = {"format": RECORD_FORMAT, "frame": fid,
                  "prelabels": [label_digest(written[pos]) for pos in ours if written[pos].source == "model"]}
        _replace_text(_record_path(out, fid), json.dumps(record) + "\n")
        _tally(report, existing, merge)
        for lab in merge.add:
            report.prelabels += 1
            report.count(lab.label)
    return report


def prelabel(drive: Drive, detector: Detector, out: str | Path, fmt: str = "native", track: bool = False,
             min_score: float = 0.0, frames: list[int] | None = None, tracker: TrackerConfig | None = None,
             progress: bool = True) -> PrelabelReport:
    """Detect (and track) over ``drive`` and write the pre-labels to ``out``."""
    check_out_folder(out, drive, fmt)
    frames, dets, spf = detect_drive(drive, detector, frames, progress)
    dets = [[d for d in f if (d.score if d.score is not None else 1.0) >= min_score] for f in dets]
    if track:
        dets = track_drive(drive, frames, dets, tracker)
    report = write_prelabels(out, drive, frames, dets, fmt)
    report.seconds_per_frame = spf
    report.missing_predictions = int(getattr(detector, "missing", 0))
    return report


# ---------------------------------------------------------------------------------------- documents
def _leaves(cmd: Command):
    if isinstance(cmd, Batch):
        for c in cmd.commands:
            yield from _leaves(c)
    else:
        yield cmd


def untouched_prelabels(doc, frames) -> set[str]:
    """The uids of the pre-labels in ``frames`` that nobody touched since a pre-label command
    created them: source ``model`` and the label (box, class, track, score, attributes) exactly as
    that command's CreateCuboid stored it. An edit that was undone leaves it untouched. Model
    cuboids made by any other command (interpolation, propagation, copies, imports) are not in
    the answer, so a pre-label run keeps them."""
    want = {a.uid: a.label for f in frames for a in doc.annotations(f) if a.source == "model"}
    if not want:
        return set()
    created: dict[str, CuboidLabel] = {}
    for cmd in doc.done_commands(PRELABEL_DESCRIPTION):
        for c in _leaves(cmd):
            if isinstance(c, CreateCuboid) and c.uid in want:
                created[c.uid] = c.label
    return {uid for uid, label in want.items() if created.get(uid) == label}


def _tracks(items) -> Counter:
    """(track key, frame, label) items as a multiset of tracks, each a set of (frame, box, class,
    score): two runs compare equal when they found the same boxes linked the same way."""
    groups: dict[object, list] = {}
    for key, f, lab in items:
        score = 1.0 if lab.score is None else float(lab.score)
        groups.setdefault(key, []).append((f, lab.box, lab.label, score))
    return Counter(frozenset(Counter(g).items()) for g in groups.values())


def prelabel_command(doc, prelabels: dict[int, list[CuboidLabel]], what: str,
                     report: PrelabelReport | None = None) -> tuple[Command | None, PrelabelReport]:
    """The command that stores ``prelabels`` ({frame: labels}) in a document by
    :func:`merge_prelabels`: ONE Batch that deletes the frames' untouched pre-labels
    (:func:`untouched_prelabels`) and creates the new ones, so one undo restores the frames.

    New boxes get source ``model`` and their score (1.0 when they have none); classes go through
    the document's ontology (unknown ones are skipped and counted in
    ``report.by_class["<skipped: NAME>"]``); boxes sharing a ``track_id`` share one document
    track id: that of the kept track they continue (:func:`inherited_tracks`), else a fresh one;
    the others get a fresh one each. The description is ``Pre-label {what}: N boxes``.
    None when nothing would change: nothing to add or replace, or the new boxes are exactly the
    untouched pre-labels already there (same boxes, classes, scores and, for a tracked run,
    linking into tracks; ``report.unchanged`` counts them), so running twice with the same
    detector records nothing."""
    report = report or PrelabelReport()
    frames = sorted(prelabels)
    untouched = untouched_prelabels(doc, frames)
    next_track = doc.state.next_track
    track_ids: dict[object, str] = {}
    deletes: list[str] = []
    creates: list[CreateCuboid] = []
    by_class: dict[str, int] = {}
    old_items, new_items = [], []
    runs = []
    for f in frames:
        resolved = []
        for lab in prelabels[f]:
            cls = doc.ontology.resolve(lab.label)
            if cls is None:
                report.count(f"<skipped: {lab.label}>")
            else:
                resolved.append(lab.with_(label=cls))
        existing = doc.annotations(f)
        labels = [a.label for a in existing]
        runs.append((f, existing, labels, resolved,
                     merge_prelabels(labels, [a.uid in untouched for a in existing], resolved)))
    track_ids.update(inherited_tracks([r[2] for r in runs], [r[4] for r in runs], [r[3] for r in runs]))
    for f, existing, labels, _, merge in runs:
        _tally(report, labels, merge)
        old = [existing[k] for k in merge.replace]
        deletes += [a.uid for a in old]
        old_items += [(a.track_id, f, a.label) for a in old]
        for lab in merge.add:
            # A kept track continued, else fresh ids from the document's counter (one per
            # tracker track), never one in use.
            key = lab.track_id if lab.track_id is not None else object()
            if key not in track_ids:
                track_ids[key] = str(next_track)
                next_track += 1
            new_items.append((track_ids[key], f, lab))
            score = 1.0 if lab.score is None else float(lab.score)
            creates.append(CreateCuboid(f, CuboidLabel(lab.box, lab.label, track_ids[key], score, "model",
                                                       dict(lab.attributes))))
            by_class[lab.label] = by_class.get(lab.label, 0) + 1
    if _tracks(old_items) == _tracks(new_items):     # nothing to do, or a tracked run found it all again
        report.unchanged += len(creates)
        report.replaced -= len(deletes)
        return None, report
    report.prelabels += len(creates)
    for cls, n in by_class.items():
        report.by_class[cls] = report.by_class.get(cls, 0) + n
    replacing = f", replacing {len(deletes)}" if deletes else ""
    commands = ([DeleteCuboids(tuple(deletes))] if deletes else []) + creates
    return Batch(tuple(commands), f"{PRELABEL_DESCRIPTION} {what}: {len(creates)} boxes{replacing}"), report


def write_to_project(project, frames: list[int], prelabels: list[list[CuboidLabel]], what: str | None = None,
                     report: PrelabelReport | None = None) -> PrelabelReport:
    """Store pre-labels in an open project (``fusionlabel.store.project.Project``) as ONE undoable
    command (:func:`prelabel_command`)."""
    cmd, report = prelabel_command(project.document, dict(zip(frames, prelabels)),
                                   what or frames_text(project.drive, frames), report)
    if cmd is not None:
        project.document.apply(cmd)
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
    report = write_to_project(project, frames, dets, f"{frames_text(drive, frames)} ({detector.name})")
    report.seconds_per_frame = spf
    report.missing_predictions = int(getattr(detector, "missing", 0))
    return report
