"""`fusionlabel prelabel DRIVE_OR_PROJECT [--detector ...] [--track] [--out DIR --format native|kitti]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InputError


def _frames(spec: str | None, n: int, drive_path: Path) -> list[int] | None:
    if spec is None:
        return None
    try:
        a, _, b = spec.partition(":")
        start = int(a) if a else 0
        stop = int(b) if b else n
    except ValueError:
        raise InputError(drive_path, f"expected START:STOP frame indices, got {spec!r}", where="--frames") from None
    frames = list(range(n))[start:stop]
    if not frames:
        raise InputError(drive_path, f"no frames in {spec!r} (the drive has {n})", where="--frames")
    return frames


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
    p.add_argument("--config", type=Path, help="YAML settings of the builtin or ONNX detector (e.g. per rig)")
    p.add_argument("--track", action="store_true", help="link detections into tracks (world frame)")
    p.add_argument("--out", type=Path, help="output folder, one label file per frame (required for a drive; for a "
                                            "project, writes its drive's pre-labels there and leaves the project as it is)")
    p.add_argument("--format", choices=("native", "kitti"), default="native",
                   help="native JSON (fusionlabel-labels/1) or KITTI txt with a score column")
    p.add_argument("--min-score", type=float, default=0.5, help="drop detections scoring below this (default 0.5)")
    p.add_argument("--frames", help="START:STOP frame indices (default all)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _is_project(path: Path) -> bool:
    try:
        from ..store.project import is_project
    except ImportError:
        return False
    return is_project(path)


def run(args: argparse.Namespace) -> int:
    from ..assist.detector import make_detector
    from ..assist.prelabel import prelabel, prelabel_project
    from ..io.drives import open_drive

    detector = make_detector(args.detector, args.config)
    if _is_project(args.drive) and args.out is None:
        from ..store.project import Project

        with Project.open(args.drive, scene=args.scene) as project:
            if project.read_only:
                raise InputError(args.drive, project.read_only_reason or "project is read-only")
            frames = _frames(args.frames, len(project.drive), args.drive)
            report = prelabel_project(project, detector, args.track, args.min_score, frames,
                                      progress=not args.quiet)
        where, how = f"project {args.drive}", " (one undoable edit)"
    else:
        if args.out is None:
            raise InputError(args.drive, "give --out DIR for pre-labels of a drive", where="--out")
        if _is_project(args.drive):
            # a project with --out: its drive (and scene) pre-labelled into the folder; the project is not changed
            from ..store.project import Project

            with Project.open(args.drive, read_only=True, scene=args.scene) as project:
                drive = project.drive
        else:
            drive = open_drive(args.drive, args.scene)
        frames = _frames(args.frames, len(drive), args.drive)
        report = prelabel(drive, detector, args.out, args.format, args.track, args.min_score, frames,
                          progress=not args.quiet)
        where, how = f"{args.out} [{args.format}]", ""
    classes = ", ".join(f"{k} {v}" for k, v in sorted(report.by_class.items())) or "none"
    if report.unchanged and not report.prelabels:
        print(f"no change in {where}: the detector found the same {report.unchanged} pre-labels as the last run, "
              f"{1000 * report.seconds_per_frame:.0f} ms/frame")
    else:
        print(f"wrote {report.prelabels} pre-labels ({classes}) for {report.frames} frames to {where}{how}, "
              f"{1000 * report.seconds_per_frame:.0f} ms/frame")
    if report.replaced or (report.unchanged and report.prelabels):
        print(f"replaced {report.replaced} untouched pre-labels of an earlier run; {report.unchanged} found again "
              "as they were stay")
    if report.kept or report.kept_edited:
        print(f"kept {report.kept} human or imported labels and {report.kept_edited} edited pre-labels")
    if report.dropped_overlap:
        print(f"skipped {report.dropped_overlap} new pre-labels overlapping a kept label or another new one")
    if report.missing_predictions:
        print(f"note: {report.missing_predictions} frames had no prediction file")
    return 0
