"""`fusionlabel check DRIVE_OR_PROJECT [--frames SPEC] [--json]`: calibration and pose mistakes
that load fine but put points in the wrong place (fusionlabel.qa.drive_check), and the mistakes a
reviewer looks for in the labelled cuboids (fusionlabel.qa.label_check); a project's waived
findings are counted, not listed (:mod:`.check_waivers`)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ..wording import taken_back_note, waived_note
from ..model.frame_spec import FRAMES_SYNTAX
from ..qa.waivers import finding_id
from . import check_waivers
from .options import SKIPPED_FRAMES_EXIT, add_drive_or_project, check_workers
from .run_json import print_json

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
                                   "under another ID. A KITTI tracking folder of labels and calibration only (no velodyne/) gets "
                                   "the label checks that need no sweep, its unreadable lines named by file and line. "
                                   "A KITTI tracking folder of several sequences is checked whole without --scene: "
                                   "one section per sequence (a list with --json), a progress bar over them, the "
                                   "exit code the worst of theirs. "
                                   "A project's findings a QA lead waived (--waive ID "
                                   "--reason TEXT) are counted, not listed. Exit code 0: nothing found (or all "
                                   "waived); 3: findings (listed); 2: bad input.")
    add_drive_or_project(p, "its drive and its cuboids")
    p.add_argument("--frames", help=f"frames to read: {FRAMES_SYNTAX} (default: 5 spread over the drive; "
                                    "capture times and labels are checked on every frame unless --frames is given)")
    p.add_argument("--decode-all", action="store_true",
                   help="decode every sweep and image of the drive (of the --frames given, if any), with a progress "
                        "bar, and name each file that is cut short or corrupt (default: the other frames' files "
                        "are looked up, not decoded)")
    p.add_argument("--workers", type=int, default=2,
                   help="processes decoding the files with --decode-all (default: 2)")
    p.add_argument("--quiet", action="store_true", help="no progress bar (--decode-all)")
    p.add_argument("--no-poses", action="store_true",
                   help="skip comparing the ego poses with the sweeps (about a second per checked frame)")
    labels = p.add_mutually_exclusive_group()
    labels.add_argument("--no-labels", action="store_true", help="skip the label checks")
    labels.add_argument("--labels-only", action="store_true",
                        help="only the label checks (no calibration, pose or capture-time check)")
    p.add_argument("--json", action="store_true", help="print the report as JSON (the same content, waived "
                                                        "findings included with their waiver)")
    check_waivers.add_options(p)
    p.set_defaults(func=run)


def open_checked(path: Path, scene: str | None):
    """The drive of a drive folder (one sequence of a labels-only KITTI tracking folder: a drive
    without sweeps, :mod:`fusionlabel.io.kitti_tracking_labels`) or of a project folder (read without the project's lock), its
    labels by frame index, where they come from (``project`` or ``drive``), the tracks marked
    absent by frame index and the waivers (a project's; none for a drive)."""
    from ..io.drives import open_drive
    from ..io.kitti_tracking_labels import labels_only_root, open_tracking_labels
    from ..store.project import is_project

    if path.is_dir() and labels_only_root(path) is not None:
        return open_tracking_labels(path, scene), None, "drive", {}, []
    if path.is_dir() and is_project(path):
        from ..qa.project_labels import read_project

        project = read_project(path, scene, stored_ids=True)
        return (project.drive, {i: v for i, v in enumerate(project.labels) if v}, "project", project.absent,
                project.waivers)
    drive = open_drive(path, scene=scene)
    return drive, None, "drive", {}, []


def run(args: argparse.Namespace) -> int:
    from ..store.project import is_project
    from .check_sequences import check_sequences, unchosen_sequences

    check_waivers.validate(args, args.drive.is_dir() and is_project(args.drive))
    if args.unwaive:
        taken = check_waivers.unwaive(args)
        if args.json:
            print_json({"unwaived": [check_waivers.waiver_json(w) for w in taken]})
        else:
            print(taken_back_note([w.id for w in taken]))
        return 0
    _validate_decode(args)
    sequences = unchosen_sequences(args.drive, args.scene)
    if sequences:
        return check_sequences(args, sequences, checked)
    code, out = checked(args, args.scene)
    if args.json:
        print_json(out)
    else:
        print(out)
    return code


def checked(args: argparse.Namespace, scene: str | None, show_progress: bool = True) -> tuple[int, dict | str]:
    """Run the checks ``args`` asks for on ``args.drive`` (its sequence ``scene``): the exit code and
    what to print, the JSON document with ``--json``, else the text. ``show_progress`` False keeps
    ``--decode-all``'s bar off (a caller showing its own)."""
    from ..model.frame_spec import parse_frames
    from ..qa.drive_check import check_drive
    from ..qa.file_problems import new_file_findings
    from ..qa.findings import counts
    from ..qa.label_check import check_labels, drive_labels
    from ..io.kitti_tracking import no_camera_reason
    from ..io.kitti_tracking_labels import KittiTrackingLabels
    from ..qa.waivers import apply_waivers
    from ..qa.labels_only import add_labels_only_parts

    drive, labels, source, absent, waivers = open_checked(args.drive, scene)
    sweepless = isinstance(drive, KittiTrackingLabels)
    if sweepless:
        refuse_sweep_options(args, drive.root)
    frames = parse_frames(args.frames, drive) if args.frames else None
    report = None if args.labels_only or sweepless else check_drive(
        drive, frames, poses=not args.no_poses, decode=args.decode_all, workers=args.workers,
        show_progress=show_progress and not args.quiet)
    label_report = None
    if not args.no_labels:
        label_report = check_labels(drive, drive_labels(drive) if labels is None else labels, source, frames,
                                    absent=absent, sweeps=not sweepless)
        if report is not None:   # a sweep both parts could not read is one finding
            label_report.findings = new_file_findings(label_report.findings, report.findings)
        if sweepless:
            add_labels_only_parts(label_report, drive)
    findings = (report.findings if report else []) + (label_report.findings if label_report else [])
    if args.waive:
        made = check_waivers.waive_findings(args, findings, frames is not None and len(set(frames)) < len(drive))
        return 0, ({"waived": [check_waivers.waiver_json(w) for w in made]} if args.json else
                   "\n".join(waived_note(w.id, w.subject, w.check, w.reason) for w in made))
    if args.waived:
        checked_ids = None if frames is None else {drive.frames[i].frame_id for i in frames}
        listed = check_waivers.listing(waivers, findings, label_report is not None, report is not None, checked_ids,
                                       args.json)
        return 0, {"waivers": listed} if args.json else "\n".join(listed)
    split = apply_waivers(findings, waivers)
    code = FINDINGS_EXIT if split.open else 0
    if args.json:
        out = report.as_dict() if report else {"drive": drive.name, "root": str(drive.root), "frames": len(drive)}
        if (report is not None or sweepless) and (why := no_camera_reason(drive, sweeps=not sweepless)):
            out["cameras_not_checked"] = why
        if label_report is not None:
            out["labels"] = label_report.as_dict()
        waiver_of = {finding_id(f): w for f, w in split.waived}
        out["findings"] = [_finding_json(f, waiver_of) for f in findings]
        out["counts"] = counts(split.open)
        out["waived"] = len(split.waived)
        return code, out
    return code, "\n".join(report_lines(report, label_report, drive, waived={finding_id(f) for f, _ in split.waived}))


def _validate_decode(args: argparse.Namespace) -> None:
    """InputError naming the option for ``--decode-all`` with ``--labels-only`` (which skips the
    drive's files) or a ``--workers`` below 1."""
    from ..errors import InputError

    if args.decode_all and args.labels_only:
        raise InputError(None, "decodes the drive's files, which --labels-only skips: give one or the other",
                         where="--decode-all")
    check_workers(args.workers)


def refuse_sweep_options(args: argparse.Namespace, root: Path) -> None:
    """InputError naming the option for ``--decode-all`` or ``--no-labels`` on the labels-only KITTI
    tracking folder ``root``: it has no sweep or image to decode, and only labels."""
    from ..errors import InputError

    if args.decode_all:
        raise InputError(root / "velodyne", "no sweeps or images to decode: this KITTI tracking folder holds "
                                                  "labels only", where="--decode-all")
    if args.no_labels:
        raise InputError(root, "this KITTI tracking folder holds labels only: its label checks are all "
                                     "`check` can run", where="--no-labels")


def _finding_json(finding, waiver_of: dict) -> dict:
    """A finding for ``--json``: its fields, its ``id``, and ``waived`` with the waiver's reason,
    user and time where it is waived."""
    from ..qa.effort import utc_text

    fid = finding_id(finding)
    out = finding.as_dict() | {"id": fid, "waived": fid in waiver_of}
    if (w := waiver_of.get(fid)) is not None:
        out["waiver"] = {"reason": w.reason, "user": w.user, "at": utc_text(w.at_us), "at_us": w.at_us}
    return out


def _degrees(value: float) -> str:
    return f"{round(value) or 0:+d} deg"     # no "-0 deg"


def _camera_line(cam) -> str:
    c, o = cam.coverage, cam.orientation
    share = "no sweep read" if c.frames == 0 else (
        "no point in front" if c.share is None else f"{c.share:4.0%} of {c.in_front:,} points in its image")
    down = "" if o.down_off_deg is None else f", image down {_degrees(o.down_off_deg)} off"
    line = (f"  {cam.name:<16} {cam.model:<8} {cam.size[0]}x{cam.size[1]:<6} {share}; "
            f"axis {_degrees(o.pitch_up_deg)} above the horizon{down}, {o.distance_m:.2f} m from the LiDAR")
    if o.inverse_unseen:
        against = " or ".join({"LiDAR": "the LiDAR"}.get(f, f"the {f} frame") for f in o.inverse_unseen)
        line += (f"\n  {'':<16} not seen by these checks: its extrinsic written inverted against {against} (it "
                 "looks along that frame's -y, a rotation close to its own inverse); `render` shows it as points "
                 "off near objects")
    if len(cam.sizes) > 1:
        sizes = ", ".join(f"{w}x{h} in {_count(n, 'frame')}" for (w, h), n in cam.sizes.items())
        line += f"\n  {'':<16} its size changes between frames ({sizes}); where it looks is the first frame's"
    return line


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


def _file_lines(report) -> list[str]:
    """The ``files:`` line (what was decoded, or what was only looked up and the option that decodes
    it) and, with ``--decode-all``, each unreadable file once with what is wrong."""
    from ..qa.file_decode import summary_line

    lines = [summary_line(report.decoded, report.looked_up, len(report.checked),
                          len(report.checked) < len(report.frame_ids))]
    if report.decoded is not None:
        lines += [f"  {error}" for _, error in report.decoded.unreadable]
    return lines


def report_lines(report, label_report=None, drive=None, waived: set[str] = frozenset()) -> list[str]:
    """The readable report: what was checked, then the findings (or that there are none), each with
    its id; ``report`` None: the label checks only (of ``drive``); ``waived``: the ids of the
    findings waived, counted in one line rather than listed."""
    from ..io.kitti_tracking import no_camera_reason
    from ..io.kitti_tracking_labels import KittiTrackingLabels
    from ..qa.waivers import finding_id

    lines: list[str] = []
    findings = []
    if report is not None:
        ids = [report.frame_ids[i] for i in report.checked]
        shown = ", ".join(ids[:8]) + (", ..." if len(ids) > 8 else "")
        lines += [f"drive {report.name}: {_count(len(report.frame_ids), 'frame')}, checked {len(ids)} ({shown})",
                  "cameras (LiDAR points 2-60 m in front of each; where it looks, in the vehicle frame):"]
        lines += [_camera_line(cam) for cam in report.cameras.values()]
        if report.without_images:
            lines.append(f"  not checked, no image in any frame of the drive: {', '.join(report.without_images)}")
        elif not report.cameras:
            why = no_camera_reason(drive)
            lines.append(f"  (no cameras: {why})" if why else "  (no cameras)")
        lines.append(f"poses: {report.poses.status}")
        for p in report.poses.pairs:
            if not p.trusted:
                lines.append(f"  {report.frame_ids[p.a]}->{report.frame_ids[p.b]} not compared: {p.reason}")
        lines.append(f"capture times: {report.times.status()}")
        lines += _file_lines(report)
        lines += _sweep_note_lines(report.sweep_notes, len(ids))
        findings += report.findings
    else:
        lines.append(f"drive {drive.name}: {_count(len(drive), 'frame')}")
        if isinstance(drive, KittiTrackingLabels):      # where the cameras would be, why they are not
            lines.append(f"cameras: not checked: {no_camera_reason(drive, sweeps=False)}")
    if label_report is not None:
        lines.append(f"labels: {label_report.status()}")
        lines += [f"  {note}" for note in label_report.notes]
        findings += label_report.findings
    shown = [f for f in findings if finding_id(f) not in waived]
    if not shown:
        lines.append("no problems found")
    else:
        lines.append(f"{_count(len(shown), 'finding')}:")
        for f in shown:
            lines.append(f"  {f.severity:<7} [{finding_id(f)}] {f.subject}: {f.message}")
            lines.append(f"          fix: {f.remedy}")
    if n_waived := len(findings) - len(shown):
        lines.append(f"{_count(n_waived, 'finding')} waived; --waived lists them")
    return lines
