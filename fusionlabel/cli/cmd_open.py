"""`fusionlabel open [PATH]`: the annotation app on a drive or a project (default: sample_data/).

``--detector SPEC`` (with ``--detector-config`` and ``--min-score``) chooses the project's
pre-label detector: checked first (a missing model or predictions folder stops with one line
naming it, exit 2), then saved in the project's settings (once the project is open and ``--frame``
checked), where the app's Ctrl+P reads it. A run that fails leaves no project it created behind.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from ..errors import InputError
from .options import add_detector_config


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("open", help="open the annotation app on a drive or a project",
                       description="Open the desktop annotation app. PATH is a drive folder (native, KITTI "
                                   "object or tracking, nuScenes, SUSTech-style; its project is created on first "
                                   "use and reopened afterwards) or a project folder. Without PATH, the "
                                   "repository's sample_data/ drive opens.")
    p.add_argument("path", nargs="?", type=Path, default=None, help="drive or project folder (default: sample_data)")
    p.add_argument("--frame", default=None, help="start at this frame ID (e.g. 000001) or index (0, -1)")
    p.add_argument("--scene", default=None,
                   help="nuScenes dataroot: scene name, token or index; KITTI tracking folder: sequence (0003 or 3). "
                        "Each scene gets its own project (DRIVE/.fusionlabel-project-<scene>); a project reopens "
                        "on its own scene")
    p.add_argument("--project", type=Path, default=None,
                   help="project folder to use for a drive: its project, or a new or empty folder to create it in "
                        "(one holding other files is refused) (default: DRIVE/.fusionlabel-project[-SCENE], or a user "
                        "folder when the drive is read-only)")
    p.add_argument("--detector", metavar="SPEC", default=None,
                   help="pre-label detector of the project, saved in it for Ctrl+P: builtin | onnx:MODEL.onnx | "
                        "predictions:DIR_OR_JSON")
    add_detector_config(p, "YAML settings of the builtin or ONNX detector, saved in the project")
    p.add_argument("--min-score", type=float, default=None,
                   help="pre-labels scoring below this are not stored (0..1, saved in the project; default 0.5)")
    p.add_argument("--screenshot", type=Path, default=None, metavar="FILE.png",
                   help="show the first frame, save the window to FILE.png and exit (works under Xvfb)")
    p.set_defaults(func=run)


def _absolute_spec(spec: str) -> str:
    """The spec with its path made absolute (the app may start from another folder)."""
    kind, sep, arg = spec.partition(":")
    return f"{kind}:{Path(arg).expanduser().absolute()}" if sep and arg else spec


def detector_settings(args: argparse.Namespace) -> dict:
    """The project settings asked for on the command line, checked: the detector is built once
    (a missing file names its path), the score lies in [0, 1]. {} when none was given."""
    from ..app.assist_actions import CONFIG_SETTING, DETECTOR_SETTING, MIN_SCORE_SETTING
    from ..assist.detector import make_detector

    out: dict = {}
    if args.min_score is not None:
        if not (math.isfinite(args.min_score) and 0.0 <= args.min_score <= 1.0):
            raise InputError(None, f"expected a score from 0 to 1, got {args.min_score:g}", where="--min-score")
        out[MIN_SCORE_SETTING] = args.min_score
    if args.detector_config is not None and args.detector is None:
        raise InputError(args.detector_config, "give --detector SPEC with its settings file",
                         where="--detector-config")
    if args.detector is not None:
        spec = _absolute_spec(args.detector)
        config = None
        if args.detector_config is not None:
            config = args.detector_config.expanduser().absolute()
            if not config.is_file():
                raise InputError(config, "detector settings file not found", where="--detector-config")
        make_detector(spec, config)
        out[DETECTOR_SETTING] = spec
        out[CONFIG_SETTING] = None if config is None else str(config)
    return out


def run(args: argparse.Namespace) -> int:
    from ..app.main import run_app
    from ..store.project import is_project

    settings = detector_settings(args)
    if args.path is None and args.project is not None and is_project(args.project):
        # `open --project P` alone: the project on its own drive, as `open P` (not the sample drive)
        args.path, args.project = args.project, None
    # saved by launch once the project is open and --frame checked: a failed run changes nothing
    return run_app(args.path, frame=args.frame, project_folder=args.project, screenshot=args.screenshot,
                   scene=args.scene, settings=settings)
