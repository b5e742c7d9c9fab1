"""`fusionlabel export PROJECT_OR_DRIVE --format F --out DIR`: labels to a training format."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..model.frame_spec import FRAMES_HELP
from .options import SKIP_BAD_FRAMES_EXITS, SKIPPED_FRAMES_EXIT, image_size_option
from .run_json import export_document, print_json, text_stream


def register(sub: argparse._SubParsersAction) -> None:
    from ..export import DESCRIPTIONS, FORMATS
    from ..export.option_checks import OUTSIDE_CHOICES, ROTATION_CHOICES

    p = sub.add_parser("export", help="export labels to KITTI, KITTI tracking, nuScenes, OpenLABEL or COCO",
                       description="Export a project's annotations (or a drive's own labels) to a training "
                                   "format, with a progress bar and a summary: frames, objects per class, "
                                   "objects skipped and why, and what the format cannot hold. "
                                   "Formats: " + ", ".join(f"{name} ({text})" for name, text in DESCRIPTIONS.items())
                                   + ".")
    p.add_argument("source", type=Path, metavar="PROJECT_OR_DRIVE",
                   help="project folder, or drive folder (native, KITTI, nuScenes, SUSTech-style)")
    p.add_argument("--format", required=True, choices=list(FORMATS), help="target format")
    p.add_argument("--out", required=True, type=Path, help="output folder (must be empty unless --force)")
    p.add_argument("--frames", help=FRAMES_HELP)
    p.add_argument("--status", help="a project's frames with this status only: new, in_progress, done or reviewed, "
                                    "or a comma-separated list (--status done,reviewed); within --frames when "
                                    "given. The summary counts the frames left out; none left is an error")
    p.add_argument("--classes", help="comma-separated classes to export (source or exported names; default all)")
    p.add_argument("--force", action="store_true", help="write into a non-empty folder (a previous export there "
                                                        "is replaced)")
    p.add_argument("--class-map", type=Path, help="YAML/JSON mapping source class -> exported class (null drops)")
    p.add_argument("--camera", help="KITTI: camera written as image_2 (default image_2 or the first camera); "
                                    "COCO: only this camera (default all)")
    p.add_argument("--labels-only", action="store_true", help="do not write sweeps and images")
    # the app's export: how its summary names --labels-only (the dialog's own words); not for users
    p.add_argument("--labels-only-words", default="--labels-only", help=argparse.SUPPRESS)
    p.add_argument("--outside", choices=OUTSIDE_CHOICES, default="keep",
                   help="KITTI: objects outside the camera view are kept with a -1 2D box (default) or dropped")
    p.add_argument("--recompute-2d", action="store_true",
                   help="KITTI: recompute 2D box, truncation, occlusion and alpha of untouched imported objects too")
    p.add_argument("--sequence", help="KITTI tracking: sequence name (default: the source's own when it is a "
                                      "KITTI tracking sequence, else 0000)")
    p.add_argument("--nuscenes-version", default="v1.0-mini", help="nuScenes: version folder name (default v1.0-mini)")
    p.add_argument("--scene-name", help="nuScenes: the scene's name (default: the source's nuScenes scene name, else "
                                        "the drive's name); a name in no official split gets the custom split "
                                        "'fusionlabel' in <version>/splits.json")
    p.add_argument("--rotation", choices=ROTATION_CHOICES, default="quaternion",
                   help="OpenLABEL: cuboid rotation as quaternion (10 values, default) or Euler angles (9 values)")
    p.add_argument("--scene", help="nuScenes source: scene name, token or index; KITTI tracking source: sequence")
    p.add_argument("--image-size", metavar="WxH",
                   help="KITTI tracking source (a folder, or a project of one) without image_02/ images: the size "
                        "of camera image_2 in pixels (KITTI's is usually 1242x375, but check your recording); never "
                        "guessed. A source that knows image_2's size must agree with it")
    p.add_argument("--skip-bad-frames", action="store_true",
                   help="a frame whose sweep (or, unless --labels-only, image) cannot be read is skipped and the "
                        "export goes on; " + SKIP_BAD_FRAMES_EXITS)
    p.add_argument("--include-prelabels", action="store_true",
                   help="also write pre-labels nobody accepted (source model, detector output); by default they "
                        "are left out and counted in the summary")
    p.add_argument("--json", action="store_true",
                   help="print the summary as one JSON document on stdout (the keys of docs/import_export.md, "
                        "'Machine-readable summary'); the readable summary then goes to stderr")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..export import ExportOptions, export_drive
    from ..export.base import load_class_map, parse_classes
    from ..model.frame_spec import parse_frames
    from ..export.source import open_source
    from ..export.status_filter import parse_statuses

    class_map = load_class_map(args.class_map) if args.class_map else None
    status = parse_statuses(args.status) if args.status is not None else None
    with open_source(args.source, args.scene, image_size_option(args.image_size)) as (drive, labels_for, what,
                                                                                       statuses):
        frames = parse_frames(args.frames, drive) if args.frames else None
        options = ExportOptions(frames=frames, classes=parse_classes(args.classes), force=args.force,
                                camera=args.camera, sensor_data=not args.labels_only, outside=args.outside,
                                keep_imported_2d=not args.recompute_2d, class_map=class_map,
                                sequence=args.sequence, version=args.nuscenes_version, scene_name=args.scene_name,
                                rotation=args.rotation,
                                progress=not args.quiet, skip_bad_frames=args.skip_bad_frames,
                                include_prelabels=args.include_prelabels, status=status, frame_statuses=statuses,
                                labels_only_words=args.labels_only_words)
        summary = export_drive(drive, args.format, args.out, labels_for, options)
    text = text_stream(args.json)
    print(f"source: {what}", file=text)
    notes = [note for note in getattr(drive, "notes", []) if "--image-size" in note]   # the size the user gave
    notes += getattr(drive, "left_out", [])   # labelled frames the reader could not read: not exported
    for note in notes:
        print(f"note: {note}", file=text)
    print(summary.text(), file=text)
    if summary.total_objects == 0:
        notes.append(empty_export_note(summary, args))
        print(f"note: {notes[-1]}", file=sys.stderr)
    code = SKIPPED_FRAMES_EXIT if summary.skipped_frames else 0
    if args.json:
        print_json(export_document(summary, what, args.source, notes, code))
    return code


def empty_export_note(summary, args: argparse.Namespace) -> str:
    """Why an export wrote no object, for a batch job that would otherwise ship an empty training set."""
    if summary.total_skipped:
        return f"no objects were written: all {summary.total_skipped} were skipped (see above)"
    hint = "" if args.include_prelabels else "; a project's unreviewed pre-labels are left out unless --include-prelabels"
    filtered = " with these --classes" if args.classes else ""
    return f"no objects were written: the source has no labels in the exported frames{filtered}{hint}"

