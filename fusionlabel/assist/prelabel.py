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

Where the boxes go: output folders (:mod:`.prelabel_folder`), projects (:mod:`.prelabel_project`);
both use the rule and the tracking here. How "untouched" is known: in a project
(:func:`~.prelabel_project.untouched_prelabels`) a pre-label is untouched when
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
:func:`~.prelabel_folder.check_out_folder` refuses to write one beside label files of the other.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from ..errors import CalibrationError, FusionLabelError, ImageError, PointCloudError
from ..geometry.cuboid import Cuboid, points_in_cuboids_matrix
from ..geometry.iou import bev_intersection, iou_matrix
from ..model.annotation import CuboidLabel
from ..model.drive import Drive
from ..wording import counted
from .detector import Detector
from .heading import face_motion
from .tracker import TrackerConfig, track_sequence

OVERLAP_IOU = 0.1          # a pre-label overlapping a kept label this much (BEV IoU) is dropped
SAME_OBJECT_IOU = 0.5      # two new boxes of different classes are one object named twice only this close
TRACK_PREFIX = "p"
LINK_IOU = 0.3             # a detection belongs to the track whose box of that frame it overlaps this much
SPARSE_FRAMES = 0.3        # seconds between frames above which tracking is said to be unreliable
BATCH_SECONDS = 5.0        # a run stores the frames it finished at least this often (see detect_batches)
SCORE_DECIMALS = 6         # pre-label scores are rounded to this many decimals as the detector hands them out
SAME_TOLERANCE = 1e-6      # a re-run's box (m, rad) and score this close to an untouched pre-label: found again


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
    missing_predictions: list = field(default_factory=list)   # frame IDs without a prediction file: left alone
    unmatched_predictions: list = field(default_factory=list)  # prediction files of no frame of the drive
    outside_view: int = 0         # KITTI output: pre-labels outside image_2's view, not written
    invalid_boxes: int = 0        # model boxes dropped for non-finite values or sizes <= 0 (ONNX detector)
    files_created: int = 0        # output folder: label files that did not exist before the run
    min_score: float = 0.0        # the run's --min-score
    below_min_score: int = 0      # detections scoring below it, left out (any detector)
    frames_stored: int = 0        # frames stored so far: what an interrupted run keeps
    no_nuscenes_class: int = 0    # nuScenes results: boxes of classes with no detection name, left out
    absent: int = 0               # pre-labels of a kept track in a frame where it is marked absent: left out
    model_notes: list = field(default_factory=list)   # what the detector's input left out (ONNX voxels), in words
    resumed: int = 0              # frames an interrupted run had finished, taken over (not detected again)

    def count(self, cls: str) -> None:
        self.by_class[cls] = self.by_class.get(cls, 0) + 1


def keep_scored(dets: list[list[CuboidLabel]], min_score: float) -> tuple[list[list[CuboidLabel]], int]:
    """Per frame, the detections scoring at least ``min_score`` (no score counts as 1), and how
    many scored below it in all (the summary says so: nothing is left out silently)."""
    kept = [[d for d in f if (d.score if d.score is not None else 1.0) >= min_score] for f in dets]
    return kept, sum(len(f) for f in dets) - sum(len(f) for f in kept)


def detect_frames(drive: Drive, detector: Detector, frames: Iterable[int],
                  progress: Callable[[int, int], None] | None = None,
                  cancelled: Callable[[], bool] | None = None, bar: bool = False,
                  errors: list | None = None, skippable: tuple = (FusionLabelError,)
                  ) -> dict[int, list[CuboidLabel]]:
    """Run ``detector`` on ``frames``; returns {frame: detections}. ``progress(done, total)`` is
    called after each frame; when ``cancelled()`` turns True the frames done so far are returned.
    ``bar`` shows progress on stderr (:func:`fusionlabel.progress.progress`: a bar on a terminal,
    whole lines in a log). With an ``errors`` list, a frame that fails with one of the ``skippable``
    errors (bad input: an unreadable sweep ...) is skipped and ``(frame, message)`` is appended to
    it; without one the error is raised."""
    out: dict[int, list[CuboidLabel]] = {}
    for batch in detect_frame_batches(drive, detector, frames, progress, cancelled, bar, errors, skippable):
        out.update(batch)
    return out


def detect_frame_batches(drive: Drive, detector: Detector, frames: Iterable[int],
                         progress: Callable[[int, int], None] | None = None,
                         cancelled: Callable[[], bool] | None = None, bar: bool = False,
                         errors: list | None = None, skippable: tuple = (FusionLabelError,),
                         every: Callable[[], float] | None = None) -> Iterator[dict[int, list[CuboidLabel]]]:
    """:func:`detect_frames` handing out {frame: detections} in batches: one whenever ``every()``
    seconds passed since the last (None: one batch at the end), and the rest at the end.

    A run stopped while detecting — Ctrl+C or a stop signal (KeyboardInterrupt), or an error of
    fusionlabel (a bad frame without ``errors``) — first hands out the frames it finished since the
    last batch, so the caller stores them, and then raises; the progress shown ends at the frames
    finished."""
    from ..progress import progress as progress_bar

    frames = list(frames)
    out: dict[int, list[CuboidLabel]] = {}
    since = time.monotonic()
    shown = progress_bar(frames, desc="prelabel", enabled=bar)
    stop: BaseException | None = None
    try:
        for k, i in enumerate(frames):
            if cancelled is not None and cancelled():
                break
            try:
                out[i] = [rounded_score(d) for d in detector.detect_frame(drive, i)]
            except skippable as e:
                if errors is None:
                    raise
                errors.append((i, str(e)))
            shown.update(1)
            if progress is not None:
                progress(k + 1, len(frames))
            if every is not None and out and time.monotonic() - since >= every():
                yield out
                out, since = {}, time.monotonic()
    except (KeyboardInterrupt, FusionLabelError) as e:
        stop = e
    shown.close()       # a last progress line at the point reached (none when the final one was shown)
    if out:
        yield out
    if stop is not None:
        raise stop


def rounded_score(label: CuboidLabel) -> CuboidLabel:
    """``label`` with its score rounded to :data:`SCORE_DECIMALS` decimals (every pre-label run's
    detections pass here): digits below a millionth carry no information, and dropping them keeps
    the last-bit noise of floating-point arithmetic out of label files and projects."""
    if label.score is None:
        return label
    score = round(float(label.score), SCORE_DECIMALS)
    return label if score == label.score else label.with_(score=score)


def detect_drive(drive: Drive, detector: Detector, frames: list[int] | None = None, progress: bool = True,
                 skipped: list | None = None, check: Callable[[int], object] | None = None
                 ) -> tuple[list[int], list[list[CuboidLabel]], float]:
    """Detections for ``frames`` (default all); returns (frames, detections per frame, s/frame):
    every batch of :func:`detect_batches` at once."""
    t0 = time.perf_counter()
    done: list[int] = []
    dets: list[list[CuboidLabel]] = []
    for batch_frames, batch_dets in detect_batches(drive, detector, frames, progress, skipped, check):
        done += batch_frames
        dets += batch_dets
    n = len(drive) if frames is None else len(frames)
    return done, dets, (time.perf_counter() - t0) / max(n, 1)


def detect_batches(drive: Drive, detector: Detector, frames: list[int] | None = None, progress: bool = True,
                   skipped: list | None = None, check: Callable[[int], object] | None = None,
                   every: Callable[[], float] = lambda: BATCH_SECONDS
                   ) -> Iterator[tuple[list[int], list[list[CuboidLabel]]]]:
    """Detections for ``frames`` (default all), handed out in batches as they are found: (frames,
    detections per frame), a batch whenever ``every()`` seconds passed since the last one (the
    caller stores it, so an interrupted run keeps the frames done), and the rest at the end.

    Before the detector runs, each frame's calibration is read (``drive.rig``, then ``check(i)``
    when given, e.g. the KITTI camera frame of ``--format kitti``): a broken calibration file stops
    the run before anything is done. A frame whose calibration, sweep or image cannot be read
    raises its error (after a last batch of the frames finished before it), unless a ``skipped``
    list is given: then the frame is left out and ``(frame index, message)`` is appended to it, and
    the other frames go on (``--skip-bad-frames``); when every frame is skipped, InputError at
    ``--skip-bad-frames`` (one line, naming the first frame's file), and no batch was handed out.
    Other errors (a broken model) always stop the run. A frame without a prediction file
    (``predictions:`` detector) is in no batch: its earlier pre-labels stay as they are."""
    frames = list(range(len(drive))) if frames is None else list(frames)
    usable = []
    for i in frames:
        try:
            drive.rig(i)
            if check is not None:
                check(i)
        except CalibrationError as e:
            if skipped is None:
                raise
            skipped.append((i, str(e)))
            continue
        usable.append(i)
    found = detect_frame_batches(drive, detector, usable, bar=progress, errors=skipped,
                                 skippable=(PointCloudError, ImageError), every=every)
    done: list[int] = []
    for batch in found:
        no_file = getattr(detector, "missing_frames", set())
        batch = {i: d for i, d in batch.items() if i not in no_file}
        done += batch
        if batch:
            yield list(batch), list(batch.values())
    if frames and not done and skipped and len(skipped) >= len(frames):
        # every frame unreadable: an error, and nothing was handed out to write
        from ..errors import InputError
        from ..wording import every_frame_unreadable

        bad = [(drive.frames[i].frame_id, str(e)) for i, e in skipped]
        raise InputError(None, every_frame_unreadable(bad, "nothing was pre-labelled"), where="--skip-bad-frames")
    if hasattr(detector, "check_matches"):
        bad = {i for i, _ in skipped or ()}
        detector.check_matches(drive, [i for i in usable if i not in bad])


def invalid_boxes_text(count: int) -> str:
    """How a run says it dropped ``count`` invalid boxes of an ONNX model (the CLI's summary line
    and the app's Ctrl+P message share it)."""
    return f"dropped {counted(count, 'invalid box')} of the model (non-finite values or sizes not above 0)"


def prediction_notes(report: PrelabelReport, drive: Drive, detector: Detector, invalid_before: int = 0) -> None:
    """Fill ``report``'s frames without a prediction file and the files of no frame (prediction files),
    the invalid boxes the detector dropped since it counted ``invalid_before``, and the notes of what
    its input left out since they were last taken (``take_notes``: voxels beyond an ONNX model's
    ``max_voxels``)."""
    report.invalid_boxes = getattr(detector, "invalid_boxes", 0) - invalid_before
    if hasattr(detector, "take_notes"):
        report.model_notes = detector.take_notes()
    report.missing_predictions = sorted(drive.frames[i].frame_id for i in getattr(detector, "missing_frames", ()))
    if hasattr(detector, "unmatched"):
        report.unmatched_predictions = detector.unmatched(drive)


def track_drive(drive: Drive, frames: list[int], detections: list[list[CuboidLabel]],
                config: TrackerConfig | None = None) -> list[list[CuboidLabel]]:
    """Link detections over consecutive ``frames`` into tracks (world frame, the drive's poses and
    timestamps): the pre-labels of a tracked run, the same for the CLI, projects and the app.

    Every detection is kept with its own box, and gets the id of the track it belongs to
    (``p1``, ``p2``, ...) and the class that track voted for (:func:`~.tracker.track_sequence`);
    a detection whose class the track overrules (a cyclist seen from ahead, called a pedestrian in
    that frame) takes the track's box of that frame. A detection the tracker left out (a track seen
    too few times) stays, without a track id. Boxes the tracker filled into a track's gaps
    (attribute ``interpolated``) are added, and so is the track's box of a frame whose detection
    overlaps it too little to link (less than ``LINK_IOU``: a car boxed across itself, which the
    track's box turns only half way to), so a track has a box in every frame it spans. The boxes of a moving track face its direction of
    motion (:func:`~.heading.face_motion`)."""
    poses = [drive.T_world_lidar(i) for i in frames]
    ts = [drive.frames[i].timestamp_us for i in frames]
    times = [t * 1e-6 for t in ts] if all(b > a for a, b in zip(ts, ts[1:])) and len(set(ts)) == len(ts) else None
    return face_motion(link_to_tracks(detections, track_sequence(detections, poses, times, config)), poses, times)


def link_to_tracks(detections: list[list[CuboidLabel]], tracked: list[list[CuboidLabel]]
                   ) -> list[list[CuboidLabel]]:
    """The detections of each frame with the track ids and classes of :func:`track_sequence`'s
    output for the same frames (see :func:`track_drive`)."""
    from scipy.optimize import linear_sum_assignment

    found = Counter(t.track_id for trk in tracked for t in trk if not t.attributes.get("interpolated"))
    out = []
    for raw, trk in zip(detections, tracked):
        labels = [d.with_(track_id=None) for d in raw]
        seen = [t for t in trk if not t.attributes.get("interpolated")]
        unlinked = set(range(len(seen)))
        if labels and seen:
            iou = iou_matrix([t.box for t in seen], [d.box for d in labels], "bev")
            for r, c in zip(*linear_sum_assignment(-iou)):
                if iou[r, c] >= LINK_IOU:
                    t = seen[r]
                    same = t.label == labels[c].label
                    labels[c] = labels[c].with_(track_id=TRACK_PREFIX + t.track_id, label=t.label,
                                                box=labels[c].box if same else t.box)
                    unlinked.discard(r)
        # a frame the tracker saw the object in keeps the track's box even when the detection it
        # took there is boxed too differently to link (a car read across itself, its end face taken
        # for a side: the track's box turns only half way to it): no hole in the track
        filled = [t.with_(track_id=TRACK_PREFIX + t.track_id) for t in trk if t.attributes.get("interpolated")]
        filled += [seen[r].with_(track_id=TRACK_PREFIX + seen[r].track_id) for r in sorted(unlinked)]
        out.append(strongest_first(labels + filled, found))
    return out


def strongest_first(labels: list[CuboidLabel], found: Counter) -> list[CuboidLabel]:
    """One frame's tracked pre-labels in the order :func:`merge_prelabels` keeps them when two
    overlap (the later one is dropped): boxes of tracks first, the track with more detections
    (``found[track id]``) before one with fewer, whether its box here is a detection or a fill;
    detections the tracker left out (seen too few times to form a track) last. So a car's
    gap-fill wins over a false one-frame cyclist inside it, and a car seen in 30 frames over a
    4-frame track of its fragments."""
    def rank(lab: CuboidLabel):
        if lab.track_id is None:
            return (1, 0)
        return (0, -found[lab.track_id[len(TRACK_PREFIX):]])
    return sorted(labels, key=rank)


def tracking_caveat(drive: Drive, frames: list[int]) -> str | None:
    """Why tracking may break on these frames, or None: the drive has no ego poses (every pose the
    same: tracks are kept in the moving LiDAR frame), or its frames are far apart in time."""
    if len(frames) < 2:
        return None
    notes = []
    poses = [drive.T_world_lidar(i) for i in frames]
    if all(np.allclose(T, poses[0]) for T in poses[1:]):
        notes.append("the drive has no ego poses, so objects are tracked in the moving LiDAR frame "
                     "(fusionlabel import --estimate-poses writes a copy with poses estimated from the sweeps)")
    ts = np.array([drive.frames[i].timestamp_us for i in frames], dtype=np.float64) * 1e-6
    gaps = np.diff(ts)
    if np.all(gaps == 0):
        notes.append("its frames carry no capture times, so they may be separate snapshots rather than a "
                     "sequence (KITTI object frames are): detections of different frames may not form tracks")
    elif np.all(gaps > 0) and float(np.max(gaps)) > SPARSE_FRAMES:
        notes.append(f"frames are up to {float(np.max(gaps)):.1f} s apart")
    if not notes:
        return None
    return "tracking may break: " + "; ".join(notes)


def frames_text(drive: Drive, frames: Sequence[int]) -> str:
    """``frame 000004`` for one frame, ``20 frames`` for several (command descriptions)."""
    return f"frame {drive.frames[frames[0]].frame_id}" if len(frames) == 1 else f"{len(frames)} frames"


# ---------------------------------------------------------------------------------------- the rule
def overlap_matrix(boxes: list[Cuboid], existing: list[Cuboid], min_iou: float = OVERLAP_IOU,
                   centres_inside: bool = True) -> np.ndarray:
    """(len(boxes), len(existing)) bool: box i overlaps existing box j (BEV IoU > ``min_iou``) or,
    with ``centres_inside``, the centre of one lies inside the other (a small box swallowed by a
    big one). The IoU is computed only for the pairs the centres do not settle."""
    out = np.zeros((len(boxes), len(existing)), bool)
    if not boxes or not existing:
        return out
    if centres_inside:
        out |= points_in_cuboids_matrix(np.array([b.center for b in boxes]), existing)
        out |= points_in_cuboids_matrix(np.array([e.center for e in existing]), boxes).T
    out |= iou_matrix(boxes, existing, "bev", pairs=~out) > min_iou
    return out


def overlaps(boxes: list[Cuboid], existing: list[Cuboid], min_iou: float = OVERLAP_IOU,
             centres_inside: bool = True) -> np.ndarray:
    """(len(boxes),) bool: a box overlaps an existing one (:func:`overlap_matrix`)."""
    return overlap_matrix(boxes, existing, min_iou, centres_inside).any(axis=1)


@dataclass
class Merge:
    """What a pre-label run does to one frame (:func:`merge_prelabels`)."""

    keep: list[int]            # indexes of the existing labels that stay, in order
    replace: list[int]         # indexes of the existing untouched pre-labels the run removes
    add: list[CuboidLabel]     # the new pre-labels to store, in order
    dropped: int               # new pre-labels not stored (overlapping a kept label or an earlier new one)
    again: list[int] = field(default_factory=list)   # untouched pre-labels found again as they are: kept


def _same(a: CuboidLabel, b: CuboidLabel) -> bool:
    """Same class, and box and score equal to within :data:`SAME_TOLERANCE`: a re-run that finds
    a pre-label again up to floating-point noise leaves it as it is."""
    score = (lambda lab: 1.0 if lab.score is None else float(lab.score))
    return a.label == b.label and abs(score(a) - score(b)) <= SAME_TOLERANCE and same_box(a.box, b.box)


def same_box(a: Cuboid, b: Cuboid, tolerance: float = SAME_TOLERANCE) -> bool:
    """Whether two boxes agree to within ``tolerance`` in every value (metres, radians; yaw across
    the wrap at pi too)."""
    if a == b:
        return True
    values = zip(a.center + a.size + (a.pitch, a.roll), b.center + b.size + (b.pitch, b.roll))
    turn = (a.yaw - b.yaw + math.pi) % (2.0 * math.pi) - math.pi
    return abs(turn) <= tolerance and all(abs(u - v) <= tolerance for u, v in values)


def merge_prelabels(existing: Sequence[CuboidLabel], untouched: Sequence[bool],
                    prelabels: Sequence[CuboidLabel]) -> Merge:
    """The rule for (re-)running pre-labelling on a frame, shared by output folders, projects and
    the app. ``untouched[k]`` says whether ``existing[k]``, if it is a model pre-label, is still as
    an earlier run made it. Human and imported labels and touched pre-labels are kept; untouched
    pre-labels are replaced; a new pre-label that overlaps a kept label (:func:`overlaps`) or
    duplicates an earlier new one (:func:`first_of_duplicates`: the detector's own boxes are not
    thinned further, so a person beside a loosely boxed truck stays) is dropped. An untouched
    pre-label that a new one repeats exactly (box, class, score, and the track id when the new one
    has one) simply stays (``again``), with its track."""
    if len(untouched) != len(existing):
        raise ValueError(f"{len(existing)} existing labels but {len(untouched)} untouched flags")
    replace = [k for k, (lab, u) in enumerate(zip(existing, untouched)) if u and lab.source == "model"]
    gone = set(replace)
    keep = [k for k in range(len(existing)) if k not in gone]
    clash = overlaps([p.box for p in prelabels], [existing[k].box for k in keep])
    add: list[CuboidLabel] = []
    again: list[int] = []
    for p, placed in zip(prelabels, first_of_duplicates(prelabels, clash)):
        if not placed:
            continue
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


def _duplicate(a: CuboidLabel, b: CuboidLabel) -> bool:
    """Whether new pre-label ``b`` repeats the earlier ``a``: BEV IoU above ``OVERLAP_IOU`` for
    boxes of one class, and for a detection the tracker left out (no track id) overlapping a box of
    a track. Boxes of different classes are two objects (a person beside a parked bicycle) unless
    they nearly coincide (IoU above ``SAME_OBJECT_IOU``: a detector's per-class suppression can
    name one object twice) or, overlapping above ``OVERLAP_IOU``, the larger covers most of the
    smaller (a cyclist inside a car's box)."""
    inter = bev_intersection(a.box, b.box)
    if inter <= 0.0:
        return False
    area_a, area_b = a.box.length * a.box.width, b.box.length * b.box.width
    iou = inter / (area_a + area_b - inter)
    if a.label.lower() == b.label.lower() or (a.track_id is None) != (b.track_id is None):
        return iou > OVERLAP_IOU
    return iou > SAME_OBJECT_IOU or (iou > OVERLAP_IOU and inter > 0.5 * min(area_a, area_b))


def first_of_duplicates(prelabels: Sequence[CuboidLabel], blocked: Sequence[bool]) -> list[bool]:
    """Which of ``prelabels`` (in order, strongest first) are placed: not ``blocked`` and no
    duplicate (:func:`_duplicate`) of an earlier placed one. Placed boxes are looked up in a grid
    of cells as wide as the widest box, so a frame of thousands of boxes takes milliseconds, not
    seconds (each box is compared with the few placed boxes near it)."""
    if not len(prelabels):
        return []
    xy = np.array([p.box.center[:2] for p in prelabels], dtype=np.float64)
    reach = np.array([0.5 * np.hypot(p.box.length, p.box.width) for p in prelabels])
    cell = max(2.0 * float(reach.max()), 1e-3)
    keys = np.floor(xy / cell).astype(np.int64)
    grid: dict[tuple[int, int], list[int]] = {}
    placed = [False] * len(prelabels)
    for i, (p, bad) in enumerate(zip(prelabels, blocked)):
        if bad:
            continue
        cx, cy = keys[i]
        near = [j for dx in (-1, 0, 1) for dy in (-1, 0, 1) for j in grid.get((cx + dx, cy + dy), ())]
        if any(np.hypot(*(xy[i] - xy[j])) <= reach[i] + reach[j] and _duplicate(prelabels[j], p) for j in near):
            continue
        placed[i] = True
        grid.setdefault((int(cx), int(cy)), []).append(i)
    return placed


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
    """{new track id: old track id}, over the frames of one run (``existing[f]``, its
    ``merges[f]`` and the new ``prelabels[f]``): a new track that overlaps (:func:`overlaps`) a
    kept label of a track — a pre-label the annotator touched, or human work — continues that
    track, so editing one box of a track does not split it on the next run. A new track that
    continues no kept track but overlaps untouched pre-labels of a track the run replaces takes
    that track's id, so a re-run (another minimum score, another detector) keeps the ids of the
    objects it finds again. A new track joins the track whose boxes it repeats (:func:`_same`) in
    the most frames, then the one it overlaps in the most frames (ties by id), and only when that
    gives no frame two boxes of one track (the kept track's labels and the new tracks already
    joined to it): so a track found again exactly keeps its id even when another new track, a
    cyclist beside a truck, overlaps it in as many frames."""
    occupied: dict[str, set[int]] = {}
    added: dict[str, set[int]] = {}
    for f, (labels, merge) in enumerate(zip(existing, merges)):
        for lab in [labels[k] for k in merge.keep] + list(merge.add):
            if lab.track_id is not None:
                occupied.setdefault(lab.track_id, set()).add(f)
        for lab in merge.add:
            if lab.track_id is not None:
                added.setdefault(lab.track_id, set()).add(f)
    mapping: dict[str, str] = {}
    kept = [[labels[k] for k in merge.keep if k not in merge.again] for labels, merge in zip(existing, merges)]
    replaced = [[labels[k] for k in merge.replace] for labels, merge in zip(existing, merges)]
    for donors in (kept, replaced):
        votes, twins = _overlap_votes(donors, prelabels)
        for (new_id, old_id), _ in sorted(votes.items(), key=lambda kv: (-twins[kv[0]], -kv[1], kv[0])):
            frames = added.get(new_id, set())
            if new_id in mapping or frames & occupied.get(old_id, set()):
                continue
            mapping[new_id] = old_id
            occupied.setdefault(old_id, set()).update(frames)
    return mapping


def _overlap_votes(donors: Sequence[Sequence[CuboidLabel]], prelabels: Sequence[Sequence[CuboidLabel]]
                   ) -> tuple[Counter, Counter]:
    """{(new track id, donor track id): frames in which a box of the one overlaps a box of the
    other}, and {(new, donor): frames in which the two boxes are the same (:func:`_same`)}."""
    votes: Counter = Counter()
    twins: Counter = Counter()
    for old, new in zip(donors, prelabels):
        old = [d for d in old if d.track_id is not None]
        tracked = [p for p in new if p.track_id is not None]
        if not old or not tracked:
            continue
        hit = overlap_matrix([d.box for d in old], [p.box for p in tracked])
        pairs = [(p, d) for d, row in zip(old, hit) for p, h in zip(tracked, row) if h and d.track_id != p.track_id]
        votes.update({(p.track_id, d.track_id) for p, d in pairs})
        twins.update({(p.track_id, d.track_id) for p, d in pairs if _same(p, d)})
    return votes, twins
