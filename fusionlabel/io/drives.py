"""Open any supported drive folder by recognising its layout."""

from __future__ import annotations

from pathlib import Path

from ..errors import DriveError
from ..model.drive import Drive


def open_drive(path: str | Path) -> Drive:
    """Open a native fusionlabel drive or a KITTI object folder; DriveError says what was expected."""
    path = Path(path)
    if not path.exists():
        raise DriveError(path, "no such file or folder")
    if not path.is_dir():
        raise DriveError(path, "expected a drive folder, got a file")
    try:
        from .native import is_native_drive, open_native_drive
    except ImportError:  # native format not available in this build
        is_native_drive = None
    if is_native_drive is not None and is_native_drive(path):
        return open_native_drive(path)
    from .kitti import find_kitti_root, open_kitti_object

    if find_kitti_root(path) is not None:
        return open_kitti_object(path)
    raise DriveError(path, "unrecognised drive layout: expected a native drive (drive.yaml) or a KITTI "
                           "object folder (velodyne/, calib/, image_2/, label_2/)")
