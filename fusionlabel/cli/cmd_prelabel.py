"""`fusionlabel prelabel DRIVE_OR_PROJECT [--detector ...] [--track] [--out DIR --format native|kitti|nuscenes-results]`."""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from ..errors import FusionLabelError, InputError
from ..model.frame_spec import FRAMES_HELP
from ..wording import counted as _n, listing as _listing
from .options import SKIP_BAD_FRAMES_EXITS, SKIPPED_FRAMES_EXIT, add_detector_config, image_size_option
from .run_json import prelabel_document, print_json, text_stream



def _frames(spec: str | None, drive) -> list[int] | None:
    """The frame indices of ``--frames`` (:mod:`fusionlabel.model.frame_spec`, as every command
    reads it), in time order for the tracker; None = all."""
    from ..model.frame_spec import parse_frames

    return None if spec is None else sorted(parse_frames(spec, drive))


def _min_score(value: float) -> float:
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise InputError(None, f"expected a score from 0 to 1, got {value:g}", where="--min-score")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prelabel", help="pre-label a drive with a detector (and tracker)",
                       description="Run a detector over every frame of a drive and write the boxes as "
                                   "model pre-labels with their scores. Run again on the same output, it "
                                   "keeps human and imported labels and the pre-labels you edited, replaces "
                                   "the untouched pre-labels of the earlier run, and writes no pre-label "
                                   "over a kept one (the same rule as Ctrl+P in the app).")
    p.add_argument("drive", type=Path, help="drive folder (native, KITTI object or tracking, nuScenes, SUSTech-style), "
                                            "or a project folder (pre-labels are stored in the project as one "
                                            "undoable edit)")
    p.add_argument("--scene", default=None,
                   help="nuScenes dataroot: scene name, token or index; KITTI tracking folder: sequence (0003 or 3). "
                        "A project uses the scene it was made for (--scene, if given, must name it)")
    p.add_argument("--detector", default="builtin",
                   help="builtin | onnx:MODEL.onnx | predictions:DIR_OR_JSON (default builtin)")
    add_detector_config(p, "YAML settings of the builtin or ONNX detector (e.g. per rig)")
    p.add_argument("--track", action="store_true", help="link detections into tracks (world frame)")
    p.add_argument("--out", type=Path, help="output folder, one label file per frame (required for a drive; for a "
                                            "project, writes its drive's pre-labels there and leaves the project as it is)")
    p.add_argument("--format", choices=("native", "kitti", "nuscenes-results"), default=None,
                   help="with --out: native JSON (fusionlabel-labels/1) or KITTI txt with a score column, one file "
                        "per frame (default native), or one nuScenes detection-results JSON of a nuScenes drive's "
                        "keyframes (nuscenes_results.json)")
    p.add_argument("--min-score", type=float, default=0.5,
                   help="drop detections scoring below this, 0 to 1 (default 0.5)")
    p.add_argument("--frames", help=FRAMES_HELP)
    p.add_argument("--skip-bad-frames", action="store_true",
                   help="a frame whose sweep or image cannot be read is skipped (not written) and the run goes on; "
                        + SKIP_BAD_FRAMES_EXITS)
    p.add_argument("--image-size", metavar="WxH",
                   help="KITTI tracking folder (or a project of one) without image_02/ images: the size of camera "
                        "image_2 in pixels (e.g. 1242x375), which --format kitti needs for its camera; as export "
                        "--image-size")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="a project another process has open: wait up to this long for it to be closed "
                        "(default 0: stop at once, exit 2)")
    p.add_argument("--json", action="store_true",
                   help="print what the run did as one JSON document on stdout (the keys of docs/prelabel.md, "
                        "'Machine-readable summary'); the readable summary then goes to stderr")
    p.add_argument("--no-resume", dest="resume", action="store_false",
                   help="detect every frame again after an interrupted run (by default a run with the same "
                        "detector, settings and drive skips the frames the interrupted one finished)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _is_project(path: Path) -> bool:
    try:
        from ..store.project import is_project
    except ImportError:
        return False
    return is_project(path)


def _open_for_writing(args, image_size):
    """The project of ``args.drive`` opened for writing, waiting up to ``--wait`` seconds while
    another process holds it; InputError (nothing done) when it stays held, or at once when its
    folder cannot be written (a read-only file system), which no waiting changes."""
    from ..store.project import Project

    deadline = time.monotonic() + max(args.wait, 0.0)
    while True:
        project = Project.open(args.drive, scene=args.scene, image_size=image_size)
        if not project.read_only:
            return project
        reason = (project.read_only_reason or "the project is read-only").removesuffix("; opened read-only")
        held = project.held_elsewhere or project.held_here   # closed there (or here), it can be stored
        project.close()
        if not held:
            raise InputError(args.drive, f"cannot store pre-labels: {reason}; nothing was done. Give --out DIR to "
                                         "write the pre-labels to a folder, or copy the project to a writable disk "
                                         "and pre-label the copy")
        if time.monotonic() >= deadline:
            waited = f" (waited {args.wait:g} s)" if args.wait > 0 else ""
            raise InputError(args.drive, f"cannot store pre-labels: {reason}{waited}; nothing was done. Close it "
                                         "there (or let that run finish) and run this again, give --wait SECONDS "
                                         "to wait for it, or --out DIR to write the pre-labels to a folder")
        time.sleep(min(1.0, max(deadline - time.monotonic(), 0.05)))


def run(args: argparse.Namespace) -> int:
    from ..assist.detector import make_detector
    from ..assist.prelabel import PrelabelReport
    from ..assist.prelabel_folder import RESULTS_FILE, RESULTS_FORMAT, prelabel
    from ..assist.prelabel_manifest import MANIFEST
    from ..assist.prelabel_project import prelabel_project
    from ..assist.prelabel_resume import run_identity
    from ..io.drives import open_drive
    from ..model.frame_status import finished_frames, reopened_note

    started = time.perf_counter()
    notes: list[str] = []

    def note(text: str | None) -> None:     # said on stderr, and kept for --json
        if text:
            notes.append(text.removeprefix("note: "))
            _note(text)

    _min_score(args.min_score)
    if not (math.isfinite(args.wait) and args.wait >= 0):
        raise InputError(None, f"expected a number of seconds, 0 or more, got {args.wait:g}", where="--wait")
    detector = make_detector(args.detector, args.detector_config)
    skipped: list | None = [] if args.skip_bad_frames else None
    image_size = image_size_option(args.image_size)
    report = PrelabelReport()
    reopened = None     # what a run into a project says of the done or reviewed frames it took back
    if _is_project(args.drive) and args.out is None:
        if args.format is not None:     # a project stores its pre-labels; only an --out folder has a format
            raise InputError(args.drive, f"--format {args.format} needs --out DIR: without it the pre-labels go "
                                         "into the project, which has no file format", where="--format")

        with _open_for_writing(args, image_size) as project:
            frames = _frames(args.frames, project.drive)
            note(_tracking_note(args.track, project.drive, frames))
            where, how = f"project {args.drive}", " (one undoable edit)"
            target = {"project": str(args.drive), "out": None, "format": None, "manifest": None}
            finished = finished_frames(project.document)
            with _kept_on_interrupt(report, where, "in the run's one undoable edit"):
                identity = run_identity(project.drive, detector, None, args.track, args.min_score)
                prelabel_project(project, detector, args.track, args.min_score, frames,
                                 progress=not args.quiet, skipped=skipped, report=report, identity=identity,
                                 resume=args.resume, note=note)
            drive = project.drive
            reopened = reopened_note(project.document, finished, lambda i: project.drive.frames[i].frame_id)
    else:
        args.format = args.format or "native"
        if args.out is None:
            if not Path(args.drive).exists():   # a mistyped project is no drive waiting for --out
                raise InputError(args.drive, "no such file or folder (expected a fusionlabel project, or a "
                                             "drive with --out DIR)")
            raise InputError(args.drive, "give --out DIR for pre-labels of a drive", where="--out")
        if _is_project(args.drive):
            # a project with --out: its drive (and scene) pre-labelled into the folder; the project is not changed
            from ..store.project import Project

            from ..export.staging import check_out_path

            check_out_path(Path(args.out), Path(args.drive), what="project")   # its database and files are not ours to write
            with Project.open(args.drive, read_only=True, scene=args.scene, image_size=image_size) as project:
                drive = project.drive
        else:
            drive = open_drive(args.drive, args.scene, image_size)
        frames = _frames(args.frames, drive)
        note(_tracking_note(args.track, drive, frames))
        target = {"project": None, "out": str(args.out), "format": args.format, "manifest": str(args.out / MANIFEST)}
        if args.format == RESULTS_FORMAT:
            from ..assist.prelabel_results import prelabel_results

            where, how = f"{args.out / RESULTS_FILE} [{args.format}]", ""
            target.update(out=str(args.out / RESULTS_FILE))
            with _kept_on_interrupt(report, str(args.out / RESULTS_FILE), "(their sample tokens)"):
                prelabel_results(drive, detector, args.out, args.track, args.min_score, frames,
                                 progress=not args.quiet, skipped=skipped, report=report, note=note,
                                 resume=args.resume)
        else:
            where, how = f"{args.out} [{args.format}]", ""
            with _kept_on_interrupt(report, str(args.out), f"({MANIFEST} says incomplete)"):
                prelabel(drive, detector, args.out, args.format, args.track, args.min_score, frames,
                         progress=not args.quiet, skipped=skipped, report=report, note=note, resume=args.resume)
    text = text_stream(args.json)
    for line in summary(report, where, how):
        note(line) if line.startswith("note: ") else print(line, file=text)
    if reopened:
        print(reopened, file=text)
    bad_frames = [(drive.frames[i].frame_id, str(e)) for i, e in skipped or []]
    if bad_frames:
        from ..export.base import skipped_frame_lines

        for line in skipped_frame_lines(bad_frames):
            print(line, file=text)
    code = SKIPPED_FRAMES_EXIT if bad_frames else 0
    if args.json:
        print_json(prelabel_document(report, source=args.drive, target=target, detector=args.detector,
                                     track=args.track, skipped_frames=bad_frames, reopened=reopened, notes=notes,
                                     seconds=time.perf_counter() - started, exit_code=code))
    return code


def _note(text: str | None) -> None:
    """A note goes to stderr (stdout holds what the run did), as ``eval``'s do."""
    if text:
        print(text, file=sys.stderr)


class _kept_on_interrupt:
    """Around a run: on Ctrl+C, SIGTERM or SIGHUP, say on stderr what the interrupted run kept (the
    frames it had stored, ``report.frames_stored``) before the CLI reports the interruption; a run
    stopped by an error (an unreadable frame, a full disk) says it in the error's one line."""

    def __init__(self, report, where: str, how: str):
        self.report, self.where, self.how = report, where, how

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb) -> None:
        if kind is not None and issubclass(kind, FusionLabelError) and self.report.frames_stored:
            error.args = (f"{error}; {self._kept_before_error(error)}",)
        if kind is None or not issubclass(kind, KeyboardInterrupt):
            return
        n = self.report.frames_stored
        if n:
            _note(f"kept the pre-labels of the {_n(n, 'frame')} finished before the interruption in {self.where} "
                  f"{self.how}; run the same command again for the rest (it resumes: the frames kept are not "
                  "detected again)")
        else:
            _note(f"no frame was finished before the interruption: {self.where} was not changed")

    def _kept_before_error(self, error) -> str:
        from ..errors import CalibrationError, ImageError, PointCloudError

        kept = f"kept the pre-labels of the {_n(self.report.frames_stored, 'frame')} finished before it in " \
               f"{self.where} {self.how}"
        if isinstance(error, (CalibrationError, ImageError, PointCloudError)):
            return f"{kept}; fix the file, or give --skip-bad-frames, and run the same command again to complete " \
                   "the work (it resumes: the frames kept are not detected again)"
        return f"{kept}; run the same command again once that is fixed to complete the work (it resumes)"


def _tracking_note(track: bool, drive, frames: list[int] | None) -> str | None:
    """With --track: the note to give when the drive has no ego poses or sparse frames (tracks may
    break), else None."""
    from ..assist.prelabel import tracking_caveat

    caveat = tracking_caveat(drive, list(range(len(drive))) if frames is None else frames) if track else None
    return f"note: {caveat}" if caveat else None


def summary(report, where: str, how: str = "") -> list[str]:
    """What a run did, in lines: a headline that says what changed (new pre-labels written,
    untouched ones of an earlier run removed, or no change), then what stayed and was skipped."""
    added, removed, again = report.prelabels, report.replaced, report.unchanged
    skipped = {k[len("<skipped: "):-1]: v for k, v in report.by_class.items() if k.startswith("<skipped: ")}
    classes = ", ".join(f"{k} {v}" for k, v in sorted(report.by_class.items()) if not k.startswith("<skipped: "))
    frames, speed = _n(report.frames, "frame"), f"{1000 * report.seconds_per_frame:.0f} ms/frame"
    wrote = f"wrote {_n(added, 'new pre-label')} ({classes})" if added else "wrote 0 new"
    if added or removed:
        if removed:
            head = f"removed {_n(removed, 'untouched pre-label')} of an earlier run and {wrote} for {frames} in"
        else:
            head = f"{wrote} for {frames} to"
        lines = [f"{head} {where}{how}, {speed}"]
        if again:
            lines.append(f"left {_n(again, 'pre-label')} the detector found again exactly as "
                         f"{'it was' if again == 1 else 'they were'}")
    elif again:
        same = _n(again, "pre-label")
        lines = [f"no change in {where}: the detector found the same {same} as the last run, {speed}"]
    elif report.files_created:
        lines = [f"wrote 0 pre-labels for {frames} to {where}{how}: {_n(report.files_created, 'empty label file')} "
                 f"(nothing detected to write), {speed}"]
    else:
        lines = [f"no change in {where}: no pre-labels to write for {frames}, {speed}"]
    if report.kept or report.kept_edited:
        lines.append(f"kept {_n(report.kept, 'human or imported label')} and "
                     f"{_n(report.kept_edited, 'edited pre-label')}")
    if report.dropped_overlap:
        lines.append(f"skipped {_n(report.dropped_overlap, 'new pre-label')} overlapping a kept label or another "
                     "new one")
    if report.absent:
        lines.append(f"skipped {_n(report.absent, 'new pre-label')} of tracks marked absent in their frames (H in "
                     "the app)")
    if skipped:
        lines.append(f"skipped {_n(sum(skipped.values()), 'detection')} of classes the project's ontology does not "
                     f"know: {', '.join(f'{k} {v}' for k, v in sorted(skipped.items()))}")
    if report.invalid_boxes:
        from ..assist.prelabel import invalid_boxes_text

        lines.append(invalid_boxes_text(report.invalid_boxes))
    lines += [f"note: {text}" for text in report.model_notes]
    if report.below_min_score:
        lines.append(f"{_n(report.below_min_score, 'box')} scored below --min-score {report.min_score:g} "
                     f"{'was' if report.below_min_score == 1 else 'were'} left out")
    if report.no_nuscenes_class:
        lines.append(f"not written: {_n(report.no_nuscenes_class, 'pre-label')} of classes nuScenes has no detection "
                     "class for")
    if report.outside_view:
        lines.append(f"not written: {_n(report.outside_view, 'pre-label')} outside image_2's view (KITTI label "
                     "files cover that camera's view)")
    if report.missing_predictions:
        m = report.missing_predictions
        lines.append(f"note: {_n(len(m), 'frame')} had no prediction file and {'was' if len(m) == 1 else 'were'} "
                     f"left as {'it was' if len(m) == 1 else 'they were'}: {_listing(m)}")
    if report.unmatched_predictions:
        u = report.unmatched_predictions
        what = _n(len(u), "prediction file") if u[0].endswith((".txt", ".json")) else _n(len(u), "results sample token")
        lines.append(f"note: {what} match{'es' if len(u) == 1 else ''} no frame of the drive (not used): {_listing(u)}")
    return lines
