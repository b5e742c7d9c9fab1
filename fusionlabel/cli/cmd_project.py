"""`fusionlabel project create DRIVE [--out PROJECT] [--scene S] [--import-labels] [--ontology FILE]`:
make a project without the app, for batch `prelabel PROJECT` and `export PROJECT` runs."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("project", help="create a project without the app (for batch prelabel and export)",
                       description="Project commands that need no display.")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    c = actions.add_parser("create", help="create the project of a drive",
                           description="Create a project for a drive, as `fusionlabel open` does on first use but "
                                       "without the app. It holds no labels unless --import-labels is given (the "
                                       "app's first open imports them).")
    c.add_argument("drive", type=Path, help="drive folder (native, KITTI object or tracking, nuScenes, SUSTech-style)")
    c.add_argument("--out", type=Path, default=None,
                   help="project folder to create (default: the one `fusionlabel open DRIVE` uses, "
                        "DRIVE/.fusionlabel-project[-SCENE])")
    c.add_argument("--scene", default=None,
                   help="nuScenes dataroot: scene name, token or index; KITTI tracking folder: sequence (0003 or 3)")
    c.add_argument("--import-labels", action="store_true",
                   help="start with the drive's own labels (one undoable command)")
    c.add_argument("--ontology", type=Path, default=None, help="ontology YAML (default: the built-in one)")
    c.add_argument("--quiet", action="store_true", help="no progress")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..io.drives import open_drive
    from ..store.fingerprint import drive_scene
    from ..store.project import Project, default_project_folder
    from ..wording import counted

    drive = open_drive(args.drive, args.scene)      # once: the default folder's name and the project
    folder = args.out if args.out is not None else default_project_folder(args.drive, drive_scene(drive))
    project = Project.create(folder, args.drive, args.ontology, import_labels=False, scene=args.scene, drive=drive)
    try:
        report = project.import_drive_labels(progress=not args.quiet) if args.import_labels else None
    except BaseException:
        project.discard()     # a run that failed leaves no project behind
        raise
    with project:
        print(f"created project {folder} for drive {project.drive.name} ({counted(len(project.drive), 'frame')})")
        if report is not None:
            print(report.summary())
            for line in report.errors:
                print(f"note: {line}")
    return 0
