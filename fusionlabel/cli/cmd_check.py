"""`fusionlabel check DRIVE_OR_PROJECT [--frames SPEC] [--json]`: calibration and pose mistakes
that load fine but put points in the wrong place (fusionlabel.qa.drive_check), and the mistakes a
reviewer looks for in the labelled cuboids (fusionlabel.qa.label_check)."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from ..model.frame_spec import FRAMES_SYNTAX
from .options import SKIPPED_FRAMES_EXIT, add_drive_or_project

# README "Exit codes": 3 is "done, with problems to report" (for check: findings; for export and
# prelabel: frames skipped); 0 is nothing wrong, 2 bad input.
FINDINGS_EXIT = SKIPPED_FRAMES_EXIT


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="check a drive's calibration, ego poses, capture times and labels",
                       description="Read a few frames of a drive and report calibration and pose mistakes that "
                                   "load fine and only show as misplaced or missing points: per camera, the share "
                                   "of the LiDAR points in front of it that land in its image, where its image's "
                                   "down points, intrinsics that fit another image size, lens models that fold "
                                   "back inside the image; ego poses against the sweeps' own motion; camera "
                                   "capture times against their sweep; and its labels (a project's cuboids, else the drive's own): "
                                   "empty, floating or sunk boxes, sizes outside the class's, duplicates, tracks that "
                                   "change class or size, jump or flip their heading, skip frames (not marked absent) or carry on "
                                   "under another ID. Exit code 0: nothing found; 3: "
                                   "findings (listed); 2: bad input.")
    add_drive_or_project(p, "its drive and its cuboids")
    p.add_argument("--frames", help=f"frames to read: {FRAMES_SYNTAX} (default: 5 spread over the drive; "
                                    "capture times and labels are checked on every frame unless --frames is given)")
    p.add_argument("--no-poses", action="store_true",
                   help="skip comparing the ego poses with the sweeps (about a second per checked frame)")
    labels = p.add_mutually_exclusive_group()
    labels.add_argument("--no-labels", action="store_true", help="skip the label checks")
    labels.add_argument("--labels-only", action="store_true",
                        help="only the label checks (no calibration, pose or capture-time check)")
    p.add_argument("--json", action="store_true", help="print the report as JSON (the same content)")
    p.set_defaults(func=run)


def open_checked(path: Path, scene: str | None):
    """The drive of a drive folder or of a project folder (read without the project's lock), its
    labels by frame index, where they come from (``project`` or ``drive``) and the tracks marked
    absent by frame index (a project's; none for a drive)."""
    from ..io.drives import open_drive
    from ..store.project import is_project

    if path.is_dir() and is_project(path):
        from ..qa.project_labels import read_project

        project = read_project(path, scene)
        return project.drive, {i: v for i, v in enumerate(project.labels) if v}, "project", project.absent
    drive = open_drive(path, scene=scene)
    return drive, None, "drive", {}


def run(args: argparse.Namespace) -> int:
    from ..model.frame_spec import parse_frames
    from ..qa.drive_check import check_drive
    from ..qa.findings import counts
    from ..qa.label_check import check_labels, drive_labels

    drive, labels, source, absent = open_checked(args.drive, args.scene)
    frames = parse_frames(args.frames, drive) if args.frames else None
    report = None if args.labels_only else check_drive(drive, frames, poses=not args.no_poses)
    label_report = None
    if not args.no_labels:
        label_report = check_labels(drive, drive_labels(drive) if labels is None else labels, source, frames,
                                    absent=absent)
    findings = (report.findings if report else []) + (label_report.findings if label_report else [])
    if args.json:
        out = report.as_dict() if report else {"drive": drive.name, "root": str(drive.root), "frames": len(drive)}
        if label_report is not None:
            out["labels"] = label_report.as_dict()
        out["findings"] = [f.as_dict() for f in findings]
        out["counts"] = counts(findings)
        print(json.dumps(out, indent=2))
    else:
        print("\n".join(report_lines(report, label_report, drive)))
    return FINDINGS_EXIT if findings else 0


def _degrees(value: float) -> str:
    return f"{round(value) or 0:+d} deg"     # no "-0 deg"


def _camera_line(cam) -> str:
    c, o = cam.coverage, cam.orientation
    share = "no sweep read" if c.frames == 0 else (
        "no point in front" if c.share is None else f"{c.share:4.0%} of {c.in_front:,} points in its image")
    down = "" if o.down_off_deg is None else f", image down {_degrees(o.down_off_deg)} off"
    return (f"  {cam.name:<16} {cam.model:<8} {cam.size[0]}x{cam.size[1]:<6} {share}; "
            f"axis {_degrees(o.pitch_up_deg)} above the horizon{down}, {o.distance_m:.2f} m from the LiDAR")


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _sweep_note_lines(notes: dict[str, list[str]], n_checked: int) -> list[str]:
    """What the sweep reader repaired or left out, each distinct note once (the first frame's
    wording) with the number of checked frames that had it."""
    if not notes:
        return []
    first: dict[str, tuple[str, int]] = {}
    for fid, frame_notes in notes.items():
        for note in frame_notes:
            kind = re.sub(r"\d+", "N", note)      # the same note with other counts
            seen = first.get(kind)
            first[kind] = (seen[0], seen[1] + 1) if seen else (f"{note} (frame {fid})", 1)
    lines = [f"sweep reader notes ({len(notes)} of {n_checked} checked frames; repaired on reading, not findings):"]
    lines += [f"  {text}" + (f"; the same in {n} frames" if n > 1 else "") for text, n in first.values()]
    return lines


def report_lines(report, label_report=None, drive=None) -> list[str]:
    """The readable report: what was checked, then the findings (or that there are none);
    ``report`` None: the label checks only (of ``drive``)."""
    lines: list[str] = []
    findings = []
    if report is not None:
        ids = [report.frame_ids[i] for i in report.checked]
        shown = ", ".join(ids[:8]) + (", ..." if len(ids) > 8 else "")
        lines += [f"drive {report.name}: {_count(len(report.frame_ids), 'frame')}, checked {len(ids)} ({shown})",
                  "cameras (LiDAR points 2-60 m in front of each; where it looks, in the vehicle frame):"]
        lines += [_camera_line(cam) for cam in report.cameras.values()] or ["  (no cameras)"]
        lines.append(f"poses: {report.poses.status}")
        for p in report.poses.pairs:
            if not p.trusted:
                lines.append(f"  {report.frame_ids[p.a]}->{report.frame_ids[p.b]} not compared: {p.reason}")
        lines.append(f"capture times: {report.times.status()}")
        lines += _sweep_note_lines(report.sweep_notes, len(ids))
        findings += report.findings
    else:
        lines.append(f"drive {drive.name}: {_count(len(drive), 'frame')}")
    if label_report is not None:
        lines.append(f"labels: {label_report.status()}")
        lines += [f"  {note}" for note in label_report.notes]
        findings += label_report.findings
    if not findings:
        lines.append("no problems found")
        return lines
    lines.append(f"{_count(len(findings), 'finding')}:")
    for f in findings:
        lines.append(f"  {f.severity:<7} {f.subject}: {f.message}")
        lines.append(f"          fix: {f.remedy}")
    return lines
