"""Pre-labels as a nuScenes detection-results file: ``prelabel DRIVE --out DIR --format
nuscenes-results`` writes ``DIR/nuscenes_results.json`` (:data:`~.prelabel_folder.RESULTS_FILE`),
the format of the nuScenes detection task (:func:`~.predictions.nuscenes_results`): boxes in the
global frame by sample token, so it needs a nuScenes drive (its keyframes' sample tokens).

The file is detector output, no one's work: a run replaces the entries of its frames' sample
tokens and keeps the others (a ``--frames`` run adds to the file), rewriting the file whole
(temporary file and rename) as batches of frames finish, so an interrupted run keeps what it
finished. Since each rewrite holds every box so far, rewrites are paced (:class:`WritePacer`) to
take at most a tenth of the run: on a long run the file lags a few batches behind (about ten times
one rewrite's time), and an interrupted or failed run writes what it finished before it stops. With ``--track`` the boxes are the tracked run's (classes voted per track, gaps filled);
the format has no track ids.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Callable

from ..errors import InputError
from ..io.jsonfile import read_json
from ..model.annotation import CuboidLabel
from ..model.drive import Drive
from .detector import Detector
from .predictions import nuscenes_results, nuscenes_results_text
from .prelabel import PrelabelReport, detect_batches, keep_scored, prediction_notes, track_drive
from .prelabel_folder import RESULTS_FILE, RESULTS_FORMAT, _make_folder, check_out_folder, out_locked
from .prelabel_manifest import DETECTIONS_DIR, RECORD_DIR, FolderManifest, read_manifest, write_atomic
from .prelabel_resume import below_before, below_counts, load_detections, plan_resumption, run_identity, save_detections
from .tracker import TrackerConfig


def keyframe_tokens(drive: Drive, frames: list[int]) -> dict[int, str]:
    """{frame: nuScenes sample token} of ``frames``; InputError (one line) for a drive without
    sample tokens (not read from nuScenes) or a frame that is a sweep, not a keyframe."""
    tokens = getattr(drive, "tokens", None)
    if tokens is None:
        raise InputError(drive.root, "needs a nuScenes drive (a dataroot, or a project of one): the results file "
                                     "names each keyframe by its sample token, and this drive has none; give "
                                     "--format native or kitti", where=f"--format {RESULTS_FORMAT}")
    out = {}
    for i in frames:
        token = getattr(tokens[i], "sample", None)
        if not token:
            raise InputError(drive.root, f"frame {drive.frames[i].frame_id} is a sweep, not a nuScenes keyframe (no "
                                         "sample token); a results file holds keyframes only: give --frames with "
                                         "keyframes", where=f"--format {RESULTS_FORMAT}")
        out[i] = str(token)
    return out


class WritePacer:
    """When to rewrite a file that grows with the run: not before ``1/share - 1`` times the last
    rewrite's duration has passed since it ended, so rewriting takes at most ``share`` of the time
    (a file written every batch would cost time quadratic in the run's length)."""

    def __init__(self, share: float = 0.1, clock=time.perf_counter):
        self.share, self.clock = share, clock
        self.next_at = float("-inf")

    def due(self) -> bool:
        """Whether a rewrite is due now."""
        return self.clock() >= self.next_at

    def write(self, write) -> None:
        """Call ``write()`` and time it; the next rewrite is due after the wait that keeps the share."""
        start = self.clock()
        write()
        end = self.clock()
        self.next_at = end + (end - start) * (1.0 / self.share - 1.0)


def _earlier_results(path: Path) -> dict[str, list]:
    """The ``results`` of the file an earlier run wrote (empty when there is none); a file that is
    no results document is refused in one line."""
    if not path.is_file():
        return {}
    doc = read_json(path, "nuScenes results file")
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), dict):
        raise InputError(path, "is not a nuScenes results file ('results': {sample_token: [boxes]}); move it away "
                               "or choose another --out folder", where="results")
    return doc["results"]


def prelabel_results(drive: Drive, detector: Detector, out: str | Path, track: bool = False, min_score: float = 0.0,
                     frames: list[int] | None = None, tracker: TrackerConfig | None = None, progress: bool = True,
                     skipped: list | None = None, report: PrelabelReport | None = None,
                     note: Callable[[str], None] | None = None, resume: bool = True) -> PrelabelReport:
    """Detect (and track) over ``drive`` and write the boxes to ``out/nuscenes_results.json``
    (module docstring). The drive and the file already there are checked before the detector
    runs. ``report``: ``frames`` and ``prelabels`` (boxes written), ``by_class`` (detection
    names), ``no_nuscenes_class`` (boxes of classes with no detection name, left out) and
    ``frames_stored`` as the run goes. The folder's manifest (:mod:`.prelabel_manifest`) lists
    the frames in the file; a run with the same identity as an interrupted one resumes it, as
    :func:`~.prelabel_folder.prelabel` does (``resume``, ``note``)."""
    report = report if report is not None else PrelabelReport()
    out = check_out_folder(out, drive, RESULTS_FORMAT)
    selected = list(range(len(drive))) if frames is None else list(frames)
    tokens = keyframe_tokens(drive, selected)
    identity = run_identity(drive, detector, RESULTS_FORMAT, track, min_score)
    path = out / RESULTS_FILE
    with out_locked(out):
        earlier = _earlier_results(path)
        kept = out / DETECTIONS_DIR
        last = read_manifest(out)
        taken = plan_resumption(last, identity, drive, selected, str(out),
                                lambda i: tokens[i] in earlier,
                                (lambda i: load_detections(kept, drive.frames[i].frame_id)) if track else None, resume)
        if taken.note and note is not None:
            note(taken.note)
        if not taken.frames:
            shutil.rmtree(kept, ignore_errors=True)
        manifest = FolderManifest(out, drive, identity, selected, skipped)
        manifest.below = below_before(last, drive, taken.frames)
        below_taken = sum(manifest.below.values())
        invalid_before = getattr(detector, "invalid_boxes", 0)
        t0 = time.perf_counter()
        # untracked, the resumed frames' entries stay in the file as they are (``earlier``)
        done: list[int] = list(taken.frames) if track else []
        found: list[list[CuboidLabel]] = list(taken.detections) if track else []
        resumed = list(taken.frames)
        report.resumed = report.frames_stored = len(resumed)
        below, pacer = 0, WritePacer()

        def write(frames_done, labels, counts) -> None:
            _write(path, drive, frames_done, labels, earlier, counts)
            report.frames_stored = len(set(resumed) | set(frames_done))
            _make_folder(out / RECORD_DIR)
            manifest.save(sorted(set(resumed) | set(frames_done)))

        try:
            for batch_frames, dets in detect_batches(drive, detector, [i for i in selected if i not in set(resumed)],
                                                     progress, skipped):
                raw, (dets, n) = dets, keep_scored(dets, min_score)
                manifest.below.update(below_counts(batch_frames, raw, dets))
                done, found, below = done + batch_frames, found + dets, below + n
                if track:
                    save_detections(kept, drive, batch_frames, dets)
                if pacer.due():
                    pacer.write(lambda: write(done, found, PrelabelReport()))
        except BaseException:      # interrupted or failed: keep every finished frame, not only the last rewrite's
            if len(set(resumed) | set(done)) > report.frames_stored:
                write(done, found, PrelabelReport())
            raise
        if track and done:
            done, found = map(list, zip(*sorted(zip(done, found), key=lambda pair: pair[0])))   # time order
            found = track_drive(drive, done, found, tracker)
            below += below_taken       # a tracked run writes every frame again: the whole run's count
        write(done, found, report)
        report.seconds_per_frame = (time.perf_counter() - t0) / max(len(selected) - len(resumed), 1)
        report.min_score, report.below_min_score = min_score, below
        prediction_notes(report, drive, detector, invalid_before)
        manifest.save(sorted(set(resumed) | set(done)), report)
        shutil.rmtree(kept, ignore_errors=True)
    return report


def _write(path: Path, drive: Drive, frames: list[int], labels: list[list[CuboidLabel]], earlier: dict,
           report: PrelabelReport) -> None:
    """Write the results of ``frames`` with the ``earlier`` entries of other sample tokens, and
    count what was written in ``report``."""
    if not frames:
        return
    ours = nuscenes_results(dict(zip(frames, labels)), drive)
    write_atomic(path, nuscenes_results_text({**{t: b for t, b in earlier.items() if t not in ours}, **ours})
                 .encode("utf-8"))
    report.frames = len(frames)
    for boxes in ours.values():
        for b in boxes:
            report.count(b["detection_name"])
    report.prelabels = sum(map(len, ours.values()))
    report.no_nuscenes_class = sum(map(len, labels)) - report.prelabels
