"""`fusionlabel project ACTION`: projects without the app, for batch `prelabel PROJECT` and `export PROJECT` runs.

- ``create DRIVE [--out PROJECT] [--scene S] [--import-labels] [--ontology FILE] [--force]``: make a
  project (``--force``: in place of the one the folder holds, :mod:`fusionlabel.store.replace`);
- ``import-labels PROJECT [--skip-bad-frames]``: bring the drive's labels the project does not have
  yet into it (the app's Ctrl+I), which also finishes a project whose creation was interrupted; an
  unreadable label file stops it (nothing imported) unless ``--skip-bad-frames``, as for ``create``;
- ``relink PROJECT NEW_DRIVE``: point a project at its drive's new place (the same drive, checked);
- ``status PROJECT [PROJECT ...] [--json] [--idle-cap SECONDS]``: progress, effort and pre-labels,
  read-only (``fusionlabel.qa.project_status``);
- ``restore PROJECT``: put the newest sound copy of the database back (:mod:`fusionlabel.store.backup`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..qa.effort import IDLE_CAP_SECONDS
from .options import SKIPPED_FRAMES_EXIT, SKIP_BAD_FRAMES_EXITS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("project", help="create, fill, relink or report on a project without the app (for "
                                       "batch prelabel and export)",
                       description="Project commands that need no display.")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    c = actions.add_parser("create", help="create the project of a drive",
                           description="Create a project for a drive, as `fusionlabel open` does on first use but "
                                       "without the app. It holds no labels unless --import-labels is given (the "
                                       "app's first open imports them). A project whose creation was interrupted "
                                       "is replaced.")
    c.add_argument("drive", type=Path, help="drive folder (native, KITTI object or tracking, nuScenes, SUSTech-style)")
    c.add_argument("--out", type=Path, default=None,
                   help="project folder to create: a new or empty folder (one holding other files is refused, "
                        "--force or not) (default: the one `fusionlabel open DRIVE` uses, "
                        "DRIVE/.fusionlabel-project[-SCENE])")
    c.add_argument("--scene", default=None,
                   help="nuScenes dataroot: scene name, token or index; KITTI tracking folder: sequence (0003 or 3)")
    c.add_argument("--import-labels", action="store_true",
                   help="start with the drive's own labels (the project's starting point: undo stops above them)")
    c.add_argument("--skip-bad-frames", action="store_true",
                   help="with --import-labels: a frame whose label file cannot be read is imported without its "
                        "labels and the project is made; " + SKIP_BAD_FRAMES_EXITS.replace("nothing is written",
                                                                                           "no project is made"))
    c.add_argument("--ontology", type=Path, default=None, help="ontology YAML (default: the built-in one)")
    c.add_argument("--force", action="store_true",
                   help="replace the project the folder holds; one holding work (edits, pre-label runs) is kept "
                        "beside it, in PROJECT.replaced-<UTC time>; a folder holding files but no project is refused "
                        "with --force too: it never deletes or moves them")
    c.add_argument("--quiet", action="store_true", help="no progress")
    c.set_defaults(func=run_create)
    i = actions.add_parser("import-labels", help="import the drive's labels the project does not have yet",
                           description="Add the drive's own labels that the project does not have yet, as one "
                                       "undoable command, like the app's Ctrl+I: a label imported before is never "
                                       "added twice, nor brought back once deleted (docs/project_store.md). Also "
                                       "finishes a project whose creation was interrupted (those labels are then its starting "
                                       "point, which undo stops above). A drive label file that cannot be read "
                                       "stops it with nothing imported, unless --skip-bad-frames.")
    i.add_argument("project", type=Path, help="project folder")
    i.add_argument("--skip-bad-frames", action="store_true",
                   help="a frame whose label file cannot be read is left out (none of its labels are imported) "
                        "and the others are imported; " + SKIP_BAD_FRAMES_EXITS.replace("nothing is written",
                                                                                          "nothing is imported"))
    i.add_argument("--quiet", action="store_true", help="no progress")
    i.set_defaults(func=run_import_labels)
    r = actions.add_parser("relink", help="point a project at the new place of its moved drive",
                           description="Record NEW_DRIVE as the project's drive after the drive was moved or "
                                       "copied. It must be the same drive: same frames and sweeps (the project's "
                                       "fingerprint); another drive is refused and nothing changes.")
    r.add_argument("project", type=Path, help="project folder")
    r.add_argument("new_drive", type=Path, metavar="NEW_DRIVE", help="the drive folder's new place")
    r.set_defaults(func=run_relink)
    b = actions.add_parser("restore", help="put back the newest sound copy of a damaged project database",
                           description="Replace the project's database by the newest copy SQLite finds whole, from "
                                       "PROJECT/backups (a copy is made when the project opens for writing, at most "
                                       "every 12 hours; the newest 3 are kept). The work done since that copy is "
                                       "lost; the damaged database is kept beside it as project.sqlite.broken-<UTC "
                                       "time>. Refused while another process has the project open.")
    b.add_argument("project", type=Path, help="project folder")
    b.set_defaults(func=run_restore)
    s = actions.add_parser("status", help="progress, effort and pre-labels of projects (read-only)",
                           description="Frames by status, the annotators' effort from the command log (edits by "
                                       "kind, undos, active time with idle gaps capped, edits and time per finished "
                                       "frame) and what became of the pre-labels, per project and in total. Reads "
                                       "the project folders only, without the write lock: an app editing a project "
                                       "goes on undisturbed, and the drives need not be there "
                                       "(docs/project_store.md, \"Project status\").")
    s.add_argument("projects", type=Path, nargs="+", metavar="PROJECT", help="project folder")
    s.add_argument("--idle-cap", type=positive_seconds, default=IDLE_CAP_SECONDS, metavar="SECONDS",
                   help=f"a gap between two actions longer than this counts as this long (default "
                        f"{IDLE_CAP_SECONDS:g} s): idle time is not work")
    s.add_argument("--json", action="store_true", help="print one JSON document (keys in docs/project_store.md)")
    s.set_defaults(func=run_status)


def run_create(args: argparse.Namespace) -> int:
    from ..io.drives import open_drive
    from ..store.fingerprint import drive_scene
    from ..store.new_folder import refuse_foreign_folder
    from ..store.project import Project, default_project_folder
    from ..errors import InputError
    from ..store.replace import set_aside
    from ..wording import counted, every_frame_unreadable

    if args.skip_bad_frames and not args.import_labels:
        raise InputError(None, "skips the frames whose label file cannot be read, which only --import-labels "
                               "reads: give --import-labels too, or leave it out", where="--skip-bad-frames")
    drive = open_drive(args.drive, args.scene)      # once: the default folder's name and the project
    folder = args.out if args.out is not None else default_project_folder(args.drive, drive_scene(drive))
    refuse_foreign_folder(folder, where="--out", forced=args.force, drive_path=args.drive)   # never beside someone's files
    replaced = set_aside(folder) if args.force else _refuse_a_project(folder)
    # A run stopped half-way (Ctrl+C, SIGTERM, an error) removes the project (and puts a replaced
    # one back); one killed outright leaves it marked unfinished, which open refuses and the next
    # create replaces.
    try:
        project = Project.create(folder, args.drive, args.ontology, import_labels=args.import_labels,
                                 scene=args.scene, drive=drive, progress=not args.quiet,
                                 beside_files_ok=replaced is not None,   # those stay where they were
                                 skip_bad_frames=args.skip_bad_frames)   # else the first bad label file stops it
        report = project.import_report
        skipped = [] if report is None else report.unread_frames(project.drive)
        if report is not None and report.read_no_frame(project.drive):
            project.discard()
            raise InputError(None, every_frame_unreadable(skipped, "no project was made"), where="--skip-bad-frames")
    except BaseException:
        if replaced is not None:
            replaced.put_back()
        raise
    with project:
        print(f"created project {folder} for drive {project.drive.name} ({counted(len(project.drive), 'frame')})")
        if replaced is not None:
            print(replaced.finish())
        if project.import_report is not None:
            print(project.import_report.summary())
            print_left_out(project.import_report)
        print("\n".join(skipped_label_lines(skipped)), end="\n" if skipped else "")
    return SKIPPED_FRAMES_EXIT if skipped else 0


def print_left_out(report) -> None:
    """The drive reader's lines on label files it could not make a frame of (``ImportReport.left_out``,
    each naming the files: their labels are not in the project), to stderr as notes, as ``import``
    and ``export`` print them."""
    for line in report.left_out:
        print(f"note: {line}", file=sys.stderr)


def skipped_label_lines(skipped: list[tuple[str, str]],
                        outcome: str = "the project holds none of their labels") -> list[str]:
    """What ``--skip-bad-frames`` left out: a headline ending in ``outcome``, then each frame with its error."""
    from ..wording import counted

    if not skipped:
        return []
    lines = [f"skipped {counted(len(skipped), 'frame')} whose label file could not be read (--skip-bad-frames); "
             f"{outcome}:"]
    return lines + [f"  frame {fid}: {error}" for fid, error in skipped]


def _refuse_a_project(folder: Path) -> None:
    """Without --force: a folder holding a (finished) project is refused, saying what --force does."""
    from ..store.project import ProjectError, interrupted_creation, is_project

    if is_project(folder) and not interrupted_creation(folder):
        raise ProjectError(folder, "already holds a project; open it instead, or give --force to replace it (a "
                                   "project holding edits is kept beside it)")


def run_import_labels(args: argparse.Namespace) -> int:
    """Import the drive's labels the project lacks; the first unreadable label file stops it with
    nothing imported (exit 2) unless ``--skip-bad-frames`` leaves its frame out (listed, exit 3)."""
    from ..errors import InputError
    from ..model.frame_status import finished_frames, reopened_note
    from ..store.project import Project
    from ..wording import every_frame_unreadable

    with Project.open(args.project, unfinished_ok=True) as project:
        project.require_writable("import labels")
        finished = finished_frames(project.document)
        # nothing could be read: nothing was imported, and a project whose creation was interrupted
        # stays unfinished (as `project create` then leaves no project), for a later import to finish
        report = project.import_drive_labels(progress=not args.quiet, skip_bad_frames=args.skip_bad_frames,
                                             finish_unread=False)
        skipped = report.unread_frames(project.drive)
        if report.read_no_frame(project.drive):
            unfinished = "; the project's creation is still unfinished" if project.store.incomplete() else ""
            raise InputError(None, every_frame_unreadable(skipped, "nothing was imported" + unfinished),
                             where="--skip-bad-frames")
        print(report.summary())
        print_left_out(report)
        note = reopened_note(project.document, finished, lambda i: project.drive.frames[i].frame_id)
        if note:     # labels landed in frames marked done or reviewed: they are to be checked again
            print(note)
        print("\n".join(skipped_label_lines(skipped, "none of their labels were imported")),
              end="\n" if skipped else "")
    return SKIPPED_FRAMES_EXIT if skipped else 0


def run_relink(args: argparse.Namespace) -> int:
    from ..store.project import relink_drive

    before, after = relink_drive(args.project, args.new_drive)
    if before == after:
        print(f"project {args.project} already uses drive {after}")
    else:
        print(f"relinked project {args.project} to drive {after} (was {before})")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    from ..store.project import restore_from_backup

    copy, kept = restore_from_backup(args.project)
    print(f"restored project {args.project} from {copy}" +
          (f"; the database it replaced is kept as {kept}" if kept is not None else ""))
    return 0


def positive_seconds(text: str) -> float:
    """``--idle-cap``: a number of seconds above zero."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, got {text!r}")
    return value


def run_status(args: argparse.Namespace) -> int:
    from ..qa.project_status import project_status, total_status
    from .run_json import print_json

    found = [project_status(folder, args.idle_cap) for folder in args.projects]
    total = total_status(found)
    if args.json:
        print_json({"command": "project status", "idle_cap_seconds": args.idle_cap,
                    "projects": [p.to_dict() for p in found], "total": total.to_dict()})
        return 0
    for p in found:
        print("\n".join(p.lines()))
    if len(found) > 1:
        print("\n".join(total.lines()))
    return 0
