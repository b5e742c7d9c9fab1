"""Open any supported drive folder by recognising its layout."""

from __future__ import annotations

from pathlib import Path

from ..errors import DriveError
from ..model.drive import Drive

LAYOUTS = ("a native drive (drive.yaml), a nuScenes dataroot (v1.0-*/), a SUSTech-style folder "
           "(lidar/ + calib/camera/ or label/) or a KITTI object folder (velodyne/, calib/, image_2/, label_2/)")


def open_drive(path: str | Path, scene: str | None = None) -> Drive:
    """Open a drive folder of any supported layout; DriveError says what was expected.

    ``scene`` picks the scene of a nuScenes dataroot (name, token or index).
    """
    from .kitti import find_kitti_root, open_kitti_object
    from .native import is_native_drive, open_native_drive
    from .nuscenes import is_nuscenes_root, open_nuscenes
    from .sustech import is_sustech_folder, open_sustech

    path = Path(path)
    if not path.exists():
        raise DriveError(path, "no such file or folder")
    if not path.is_dir():
        raise DriveError(path, "expected a drive folder, got a file")
    if is_nuscenes_root(path):
        return open_nuscenes(path, scene=scene)
    if scene is not None:
        raise DriveError(path, "--scene only applies to nuScenes folders", where="--scene")
    if is_native_drive(path):
        return open_native_drive(path)
    if is_sustech_folder(path):
        return open_sustech(path)
    if find_kitti_root(path) is not None:
        return open_kitti_object(path)
    raise DriveError(path, f"unrecognised drive layout: expected {LAYOUTS}")
