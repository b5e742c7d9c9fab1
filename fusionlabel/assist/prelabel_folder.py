"""Pre-labels in an output folder: one label file per frame (native JSON or KITTI text with a score
column), re-runs by the rule of :mod:`.prelabel`, and the record of what each run wrote
(``<out>/.fusionlabel-prelabel/<frame id>.json``) that tells untouched pre-labels from edited ones.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..errors import InputError
from ..model.annotation import CuboidLabel
from ..model.commands import label_to_dict
from ..model.drive import Drive
from .detector import Detector
from .foreign_output import foreign_output, refusal
from ..deferred_signals import signals_deferred
from ..export.run_files import LOCK_NAME
from ..export.staging import check_out_path, output_lock
from .prelabel import (TRACK_PREFIX, Merge, PrelabelReport, _tally, detect_batches, keep_scored, inherited_tracks,
                       merge_prelabels, prediction_notes, track_drive)
from .prelabel_manifest import DETECTIONS_DIR, RECORD_DIR, FolderManifest, created_before, read_manifest
from .prelabel_resume import (Resumption, below_before, below_counts, load_detections, plan_resumption, run_identity,
                              save_detections)
from .tracker import TrackerConfig

FORMATS = ("native", "kitti")         # label files, one per frame
RESULTS_FORMAT = "nuscenes-results"    # one nuScenes detection-results file (.prelabel_results)
RESULTS_FILE = "nuscenes_results.json"
# RECORD_DIR (from .prelabel_manifest): what the last run wrote, per frame, and the manifest
RECORD_FORMAT = "fusionlabel-prelabel-record/1"


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


def _staged_text(path: Path, text: str) -> Path | None:
    """``text`` (bytes as read by :func:`_read_text`) written to ``path``'s temporary file
    (``NAME.tmp``), for :func:`_move_in`; None when ``path`` already holds exactly it. An error (a
    full disk) is one line naming ``path``, and no temporary file is left."""
    data = text.encode("utf-8", "surrogateescape")
    try:
        if path.read_bytes() == data:
            return None
    except OSError:
        pass
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
    except OSError as e:
        _remove_staged([tmp])
        raise InputError(path, f"cannot write: {e.strerror or e}") from None
    return tmp


def _move_in(staged: list[tuple[Path | None, Path]]) -> None:
    """Rename each staged temporary file (:func:`_staged_text`; None: unchanged) onto its path. A
    frame's label file and its record are staged both before either is moved in, so that a full
    disk (which fails a write, not a rename) never leaves a label file without its record."""
    for n, (tmp, path) in enumerate(staged):
        if tmp is None:
            continue
        try:
            os.replace(tmp, path)
        except OSError as e:
            _remove_staged([t for t, _ in staged[n:]])
            raise InputError(path, f"cannot write: {e.strerror or e}") from None


def _remove_staged(tmps: list[Path | None]) -> None:
    for tmp in tmps:
        if tmp is not None:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass


def _read_text(path: Path) -> str:
    """A file's text with its bytes as they are (no newline translation; bytes that are not UTF-8
    survive the round trip through :func:`_staged_text`)."""
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

        return read_labels(path, unwrapped_yaw=True)
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
    """``out`` as a folder ``prelabel`` may write ``fmt`` to: a folder (or nothing yet) without
    another tool's output (an export, a drive, a project: :func:`~.foreign_output.foreign_output`)
    and without label files of another format (or, for label files, a nuScenes results file), so
    that no folder ends up with a stale set beside a fresh one (``fusionlabel eval`` refuses a
    folder holding both)."""
    if fmt not in FORMATS + (RESULTS_FORMAT,):
        raise InputError(None, f"expected one of {', '.join(FORMATS + (RESULTS_FORMAT,))}, got {fmt!r}",
                         where="--format")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(out, "output exists and is not a folder", where="--out")
    _check_writable(out)
    check_out_path(out, drive.root)     # never into the source drive, as export and import
    other = foreign_output(out)
    if other is not None:
        raise InputError(out, refusal(other), where="--out")
    if out.is_dir():
        ids = {f.frame_id for f in drive.frames}
        for other in [f for f in FORMATS if f != fmt]:
            ext = ".txt" if other == "kitti" else ".json"
            theirs = sorted(p.name for p in out.iterdir() if p.suffix == ext and p.stem in ids and p.is_file())
            if theirs:
                n = len(theirs)
                name = "KITTI" if other == "kitti" else "native"
                raise InputError(out, f"holds {n} {name} label file{'s' if n != 1 else ''} ({theirs[0]}"
                                      f"{', ...' if n > 1 else ''}), not {fmt}: give --format {other} to pre-label "
                                      "it again, or another --out folder", where="--out")
        if fmt != RESULTS_FORMAT and (out / RESULTS_FILE).is_file():
            raise InputError(out, f"holds a nuScenes results file ({RESULTS_FILE}), not {fmt} label files: give "
                                  f"--format {RESULTS_FORMAT} to pre-label it again, or another --out folder",
                             where="--out")
    return out


def _check_writable(out: Path) -> None:
    """Refuse, before the detector runs, an ``out`` that cannot be made: below a file. A folder
    that cannot be written (read-only file system, no permission) is refused when its lock is
    taken (:func:`out_locked`), also before the detector runs, with the system's own reason."""
    top = next(p for p in (out, *out.absolute().parents) if p.exists() or p == p.parent)
    if top != out and not top.is_dir():
        raise InputError(out, f"cannot create the output folder: {top} is a file, not a folder", where="--out")


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(folder, f"cannot create the folder: {e.strerror or e}", where="--out") from None


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


def folder_track_ids(out: Path, drive: Drive, fmt: str, frames) -> set[str]:
    """The track ids in ``out``'s label files of ``frames``: ids a run over other frames must not
    give a new track (KITTI files hold no track ids). A damaged file raises its LabelError,
    naming it."""
    if fmt != "native" or not out.is_dir():
        return set()
    from ..io.native import read_labels

    paths = [out / f"{drive.frames[i].frame_id}.json" for i in frames]
    return {lab.track_id for p in paths if p.is_file() for lab in read_labels(p, unwrapped_yaw=True) if lab.track_id is not None}


def _other_frames(drive: Drive, frames) -> list[int]:
    skip = set(frames)
    return [i for i in range(len(drive)) if i not in skip]


def _in_camera_view(labels: list[CuboidLabel], drive: Drive, index: int, report: PrelabelReport
                    ) -> list[CuboidLabel]:
    """The pre-labels a KITTI label file can hold: those seen by image_2 (KITTI labels cover that
    camera's view). The others are counted in ``report.outside_view``. All, when the frame has no
    KITTI calibration and image to tell."""
    from .predictions import _bbox_2d, _kitti_P2

    proj = _kitti_P2(drive, index)
    if proj is None:
        return labels
    seen = [lab for lab in labels if (lambda r: r[2] > r[0] and r[3] > r[1])(_bbox_2d(lab.box, proj))]
    report.outside_view += len(labels) - len(seen)
    return seen


def write_prelabels(out: str | Path, drive: Drive, frames: list[int], prelabels: list[list[CuboidLabel]],
                    fmt: str = "native", report: PrelabelReport | None = None,
                    elsewhere: set[str] | None = None, on_disk: list[int] | None = None) -> PrelabelReport:
    """Write pre-labels per frame into ``out`` by :func:`merge_prelabels` (see the module
    docstring), and record what was written; returns the tally. New tracks continue the kept
    tracks they overlap (:func:`inherited_tracks`); other new tracks take ids used nowhere in
    ``out``: not in these frames, nor in the label files of the others (``elsewhere``, read from
    the folder by :func:`folder_track_ids` when not given). In KITTI files only the lines of
    recorded, untouched pre-labels are ever removed, every other line stays byte for byte. A file
    whose content would not change is not rewritten. Each frame whose file and record are written
    is appended to ``on_disk`` as it is done, so that a caller stopped part-way (a full disk) knows
    what is on disk."""
    out = check_out_folder(out, drive, fmt)
    _make_folder(out / RECORD_DIR)
    report = report or PrelabelReport()
    ext = ".json" if fmt == "native" else ".txt"
    found = []
    for i in frames:
        fid = drive.frames[i].frame_id
        existing = _existing(out / f"{fid}{ext}", fmt, drive, i)
        recorded = _read_record(_record_path(out, fid)) if existing else set()
        found.append((existing, [lab.source == "model" and label_digest(lab) in recorded for lab in existing]))
    # new track ids apart from every id of the frames (kept or replaced) and of the folder's other
    # frames: a new track takes an old id only by continuing its track (inherited_tracks)
    used = {lab.track_id for existing, _ in found for lab in existing if lab.track_id is not None}
    if any(lab.track_id is not None for f in prelabels for lab in f):
        used |= folder_track_ids(out, drive, fmt, _other_frames(drive, frames)) if elsewhere is None else elsewhere
    prelabels = _avoid_tracks(list(prelabels), used)
    if fmt == "kitti":
        prelabels = [_in_camera_view(labels, drive, i, report) for i, labels in zip(frames, prelabels)]
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
        report.files_created += not path.exists()
        label_tmp = _staged_text(path, _frame_text(path, fmt, existing, merge, new, lines, drive, i))
        try:
            written = _existing(label_tmp or path, fmt, drive, i)
            ours = [pos for pos, k in enumerate(merge.keep) if k in merge.again] + \
                list(range(len(kept), len(kept) + len(merge.add)))        # found again + new, as read back
            ours = ours if len(written) == len(kept) + len(merge.add) else []
            record = {"format": RECORD_FORMAT, "frame": fid,
                      "prelabels": [label_digest(written[pos]) for pos in ours if written[pos].source == "model"]}
            record_tmp = _staged_text(_record_path(out, fid), json.dumps(record) + "\n")
        except BaseException:
            _remove_staged([label_tmp])
            raise
        with signals_deferred():     # Ctrl+C between the two renames would part them too
            _move_in([(label_tmp, path), (record_tmp, _record_path(out, fid))])
        if on_disk is not None:
            on_disk.append(i)
        _tally(report, existing, merge)
        for lab in merge.add:
            report.prelabels += 1
            report.count(lab.label)
    return report


def _set_aside(out: Path, drive: Drive, frames: list[int], fmt: str, files: dict[Path, Path | None]) -> None:
    """Keep the label files and records of ``frames`` as they are (hard links, so putting them back
    restores the very files, their times too; copies where links cannot be made) in ``files``:
    path -> kept copy, None when there was no file."""
    aside = out / RECORD_DIR / ".before"
    _make_folder(aside)
    ext = ".json" if fmt == "native" else ".txt"
    for i in frames:
        fid = drive.frames[i].frame_id
        for path in (out / f"{fid}{ext}", _record_path(out, fid)):
            if path in files:
                continue
            if not path.is_file():
                files[path] = None
                continue
            kept = aside / f"{path.parent.name}-{path.name}"
            kept.unlink(missing_ok=True)
            try:
                os.link(path, kept)
            except OSError:
                shutil.copy2(path, kept)
            files[path] = kept


def _put_back(files: dict[Path, Path | None]) -> None:
    """Put back the files of :func:`_set_aside`."""
    for path, kept in files.items():
        if kept is None:
            path.unlink(missing_ok=True)
        else:
            os.replace(kept, path)


def prelabel(drive: Drive, detector: Detector, out: str | Path, fmt: str = "native", track: bool = False,
             min_score: float = 0.0, frames: list[int] | None = None, tracker: TrackerConfig | None = None,
             progress: bool = True, skipped: list | None = None, report: PrelabelReport | None = None,
             note: Callable[[str], None] | None = None, resume: bool = True) -> PrelabelReport:
    """Detect (and track) over ``drive`` and write the pre-labels to ``out``. With a ``skipped``
    list, frames whose calibration, sweep or image cannot be read are left alone and listed there
    (:func:`~.prelabel.detect_batches`).

    Label files are written while the detector runs, every few seconds (:data:`~.prelabel.BATCH_SECONDS`),
    and the folder's manifest (:mod:`.prelabel_manifest`) lists the frames written so far with
    ``"complete": false`` until the run ends: an interrupted or killed run keeps its finished
    frames, and says so. With ``track``, the batches are untracked; at the end the files are put
    back as they were before the run, the untracked pre-labels of resumed frames removed, and the
    tracked pre-labels written (signals held back in between), so that a resumed run's files are
    byte for byte an uninterrupted run's. ``report`` (``frames_stored``, filled as the run goes)
    tells a caller what an interrupted run kept.

    The run holds ``out``'s lock, the one ``export`` and ``import`` take (:func:`out_locked`): a
    second run into the same folder is refused. A run that fails or is stopped before it stored a
    frame removes the folders it made (``out`` and its record folder).

    When the last run into ``out`` did not finish and had the same identity (detector, settings,
    files, drive: :func:`~.prelabel_resume.run_identity`), the frames it finished are not detected
    again (unless ``resume`` is False); a tracked run takes their raw detections from
    :data:`~.prelabel_manifest.DETECTIONS_DIR`. ``note`` is told, once the lock is held, what was
    resumed, or why nothing was (:func:`~.prelabel_resume.plan_resumption`)."""
    out = check_out_folder(out, drive, fmt)
    report = report if report is not None else PrelabelReport()
    fresh = not (out / RECORD_DIR).exists()
    selected = list(range(len(drive))) if frames is None else list(frames)
    identity = run_identity(drive, detector, fmt, track, min_score)
    ext = ".json" if fmt == "native" else ".txt"
    with out_locked(out):
        def finished(i: int) -> bool:
            fid = drive.frames[i].frame_id
            return (out / f"{fid}{ext}").is_file() and _record_path(out, fid).is_file()

        kept, last = out / DETECTIONS_DIR, read_manifest(out)
        taken = plan_resumption(last, identity, drive, selected, str(out), finished,
                                (lambda i: load_detections(kept, drive.frames[i].frame_id)) if track else None, resume)
        if taken.note and note is not None:
            note(taken.note)
        try:
            return _prelabel(drive, detector, out, fmt, track, min_score, selected, tracker, progress, skipped, report,
                             identity, taken, created_before(last, drive, taken.frames),
                             below_before(last, drive, taken.frames))
        except BaseException:
            if fresh and not report.frames_stored:
                _remove_records(out)
            raise


@contextmanager
def out_locked(out: Path) -> Iterator[list[Path]]:
    """Hold the lock of output folder ``out`` for the block, the lock ``export`` and ``import``
    take (:func:`~fusionlabel.export.staging.output_lock`: created with its missing parents, which
    are removed again if they stay empty); OutputError, one line, when another run holds it, and
    InputError naming ``out`` when the folder or its lock cannot be made."""
    lock = output_lock(Path(os.path.realpath(out)), out)
    try:
        made = lock.__enter__()
    except OSError as e:
        raise InputError(out, _cannot_use(e), where="--out") from None
    with ExitStack() as held:   # the body's own errors pass through unchanged
        held.push(lock)
        yield made


def _cannot_use(e: OSError) -> str:
    """What an ``OSError`` taking an output folder's lock means: a folder (``--out`` or a parent of
    it) that could not be created, or a lock file that could not be written in ``--out``; with the
    system's reason as it is (``Read-only file system``, ``Permission denied``)."""
    why = e.strerror or str(e)
    failed = Path(e.filename) if e.filename else None
    if failed is not None and failed.name != LOCK_NAME:
        return f"cannot create the output folder in {failed.parent}: {why}"
    return f"cannot write into the output folder: {why}"


def _remove_records(out: Path) -> None:
    """Remove the record folder of a run that failed before it stored a frame, when it holds
    nothing but that run's manifest."""
    from .prelabel_manifest import MANIFEST

    folder = out / RECORD_DIR
    try:
        if [p.name for p in folder.iterdir()] == [Path(MANIFEST).name]:
            (out / MANIFEST).unlink()
        folder.rmdir()
    except OSError:
        pass


def _note_kept(manifest: FolderManifest, frames: list[int], report: PrelabelReport) -> None:
    """After a run stopped while writing: ``frames`` are what it keeps (``report.frames_stored``,
    which the error line tells) and what the incomplete manifest lists, if it can still be written
    (on a full disk it may not)."""
    report.frames_stored = len(frames)
    try:
        manifest.save(frames)
    except InputError:
        pass


def _prelabel(drive: Drive, detector: Detector, out: Path, fmt: str, track: bool, min_score: float,
              selected: list[int], tracker: TrackerConfig | None, progress: bool, skipped: list | None,
              report: PrelabelReport, identity: dict, taken: Resumption, created: list[int],
              below_taken: dict[int, int]) -> PrelabelReport:
    """The run of :func:`prelabel`; ``created``: the frames ``taken`` over whose label file the
    interrupted run created; ``below_taken``: {frame taken over: detections it left out for scoring
    below ``min_score``}. ``report.files_created`` counts the label files of the frames the
    report counts (``frames``) that did not exist before the run, and ``report.below_min_score``
    the detections of those frames left out, an interrupted run it resumes included: a tracked run
    writes every frame again, so its resumption counts those too."""
    check = None
    if fmt == "kitti":   # KITTI boxes need a camera frame: find out before the detector runs over the drive
        from .predictions import T_rect_lidar

        def check(i):
            return T_rect_lidar(drive, i)
    manifest = FolderManifest(out, drive, identity, selected, skipped)
    manifest.created = list(created)
    manifest.below = dict(below_taken)
    ext = ".json" if fmt == "native" else ".txt"
    invalid_before = getattr(detector, "invalid_boxes", 0)
    t0 = time.perf_counter()
    batches = PrelabelReport() if track else report     # a tracked run reports its final write
    before: dict[Path, Path | None] = {}
    shutil.rmtree(out / RECORD_DIR / ".before", ignore_errors=True)    # left by a killed tracked run
    if not taken.frames:        # raw detections of another run, or of none
        shutil.rmtree(out / DETECTIONS_DIR, ignore_errors=True)
    done, found, below = list(taken.frames), list(taken.detections), 0
    resumed = set(taken.frames)
    report.resumed = report.frames_stored = len(resumed)    # kept, even if this run stops at once
    begun = False
    stored: list[int] = []      # the frames of the batch being written whose files are on disk
    new: list[int] = []         # the frames of that batch without a label file before it
    # the ids of the frames this run leaves alone, read before the detector runs (a damaged file
    # stops the run now, not after it)
    elsewhere = folder_track_ids(out, drive, fmt, _other_frames(drive, selected)) if track else set()
    try:
        for batch_frames, dets in detect_batches(drive, detector, [i for i in selected if i not in resumed],
                                                 progress, skipped, check):
            raw, (dets, n) = dets, keep_scored(dets, min_score)
            if not begun:
                _make_folder(out / RECORD_DIR)
                manifest.save(done)
                begun = True
            if track:
                save_detections(out / DETECTIONS_DIR, drive, batch_frames, dets)
                _set_aside(out, drive, batch_frames, fmt, before)
            new = [i for i in batch_frames if not (out / f"{drive.frames[i].frame_id}{ext}").exists()]
            manifest.below.update(below_counts(batch_frames, raw, dets))
            write_prelabels(out, drive, batch_frames, dets, fmt, batches, on_disk=stored)
            manifest.created += new
            done, found, below = done + batch_frames, found + dets, below + n
            stored.clear()
            report.frames_stored = len(done)
            manifest.save(done)
    except BaseException:
        shutil.rmtree(out / RECORD_DIR / ".before", ignore_errors=True)   # a stopped run keeps its untracked frames
        if stored:      # stopped inside a batch (a full disk): its frames written so far are kept too
            manifest.created += [i for i in new if i in stored]
            _note_kept(manifest, done + stored, report)
        raise
    if track and done:
        done, found = map(list, zip(*sorted(zip(done, found), key=lambda pair: pair[0])))   # time order
        tracked = track_drive(drive, done, found, tracker)
        finished = set(done)        # selected frames skipped by the run keep their files, and ids
        elsewhere |= folder_track_ids(out, drive, fmt, [i for i in selected if i not in finished])
        with signals_deferred():
            _put_back(before)
            try:
                if resumed:     # the interrupted run's untracked pre-labels go too, as _put_back takes this run's
                    write_prelabels(out, drive, sorted(resumed), [[] for _ in resumed], fmt, PrelabelReport(),
                                    elsewhere)
                write_prelabels(out, drive, done, tracked, fmt, report, elsewhere, on_disk=stored)
                report.files_created += len(created)     # the interrupted run's, rewritten now
                below += sum(below_taken.values())       # and the detections it left out
            except BaseException:   # the frames not rewritten yet are as they were before the run
                _note_kept(manifest, stored, report)
                raise
        shutil.rmtree(out / RECORD_DIR / ".before", ignore_errors=True)
    elif not done:
        write_prelabels(out, drive, [], [], fmt, report)
    report.seconds_per_frame = (time.perf_counter() - t0) / max(len(selected) - len(resumed), 1)
    report.min_score, report.below_min_score = min_score, below
    prediction_notes(report, drive, detector, invalid_before)
    manifest.save(done, report)
    shutil.rmtree(out / DETECTIONS_DIR, ignore_errors=True)     # a finished run is not resumed
    return report
