"""`fusionlabel open [PATH]`: the annotation app on a drive or a project (default: sample_data/)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("open", help="open the annotation app on a drive or a project",
                       description="Open the desktop annotation app. PATH is a drive folder (native or KITTI "
                                   "object; its project is created on first use and reopened afterwards) or a "
                                   "project folder. Without PATH, the repository's sample_data/ drive opens.")
    p.add_argument("path", nargs="?", type=Path, default=None, help="drive or project folder (default: sample_data)")
    p.add_argument("--frame", default=None, help="start at this frame ID (e.g. 000001) or index (0, -1)")
    p.add_argument("--project", type=Path, default=None,
                   help="project folder to use for a drive (default: DRIVE/.fusionlabel-project, or a user folder "
                        "when the drive is read-only)")
    p.add_argument("--screenshot", type=Path, default=None, metavar="FILE.png",
                   help="show the first frame, save the window to FILE.png and exit (works under Xvfb)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..app.main import run_app

    return run_app(args.path, frame=args.frame, project_folder=args.project, screenshot=args.screenshot)
