"""Option values and exit codes that several commands share (``export``, ``prelabel``, ``check``,
``simulate``)."""

from __future__ import annotations

SKIPPED_FRAMES_EXIT = 3     # --skip-bad-frames skipped frames (2 stays "bad input, nothing done")

SKIP_BAD_FRAMES_EXITS = ("the skipped frames are listed at the end and the exit code is 3; when every frame is bad, "
                         "nothing is written and the exit code is 2 (default: stop at the first bad frame, exit 2)")


def check_workers(workers: int) -> None:
    """InputError naming ``--workers`` when it is below one process (``check``, ``simulate``)."""
    from ..errors import InputError

    if workers < 1:
        raise InputError(None, f"expected 1 or more processes, got {workers}", where="--workers")


def image_size_option(text: str | None) -> tuple[int, int] | None:
    """``--image-size`` parsed (:func:`~fusionlabel.io.drives.parse_image_size`), None when not given."""
    from ..io.drives import parse_image_size

    return None if text is None else parse_image_size(text)


def add_detector_config(parser, help_text: str) -> None:
    """``--detector-config SETTINGS.yaml`` (alias ``--config``) into ``args.detector_config``: the one
    definition ``open`` and ``prelabel`` share, so both accept both spellings."""
    from pathlib import Path

    parser.add_argument("--detector-config", "--config", dest="detector_config", type=Path, metavar="SETTINGS.yaml",
                        default=None, help=f"{help_text} (--config is an alias)")


def add_drive_or_project(parser, project_gives: str) -> None:
    """The ``DRIVE_OR_PROJECT`` argument (into ``args.drive``) and ``--scene`` of the commands that
    read a drive or a project's drive (``render``, ``check``); ``project_gives`` says what they take
    from a project."""
    from pathlib import Path

    parser.add_argument("drive", type=Path, metavar="DRIVE_OR_PROJECT",
                        help="drive folder (native, KITTI object or tracking, nuScenes dataroot, SUSTech-style), or a "
                             f"project folder ({project_gives})")
    parser.add_argument("--scene", help="nuScenes: scene name, token or index; KITTI tracking: sequence (0003 or 3); "
                                        "default: the only one")
