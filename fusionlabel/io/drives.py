"""Open any supported drive folder by recognising its layout."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import DriveError, InputError
from ..model.drive import Drive

LAYOUTS = ("a native drive (drive.yaml), a nuScenes dataroot (v1.0-*/), a SUSTech-style folder "
           "(lidar/ + calib/camera/ or label/), a KITTI tracking folder (velodyne/<seq>/, calib/<seq>.txt) "
           "or a KITTI object folder (velodyne/, calib/, image_2/, label_2/)")


def drive_layout(path: str | Path) -> str | None:
    """Which layout a folder has: "nuscenes", "native", "sustech", "kitti_tracking", "kitti" or None."""
    from .kitti import find_kitti_root
    from .kitti_tracking import find_tracking_root
    from .native import is_native_drive
    from .nuscenes import is_nuscenes_root
    from .sustech import is_sustech_folder

    path = Path(path)
    if not path.is_dir():
        return None
    # Tracking before object: both have velodyne/, but a tracking one holds sequence folders.
    for name, test in (("nuscenes", is_nuscenes_root), ("native", is_native_drive),
                       ("sustech", is_sustech_folder),
                       ("kitti_tracking", lambda p: find_tracking_root(p) is not None),
                       ("kitti", lambda p: find_kitti_root(p) is not None)):
        if test(path):
            return name
    return None


def open_drive(path: str | Path, scene: str | None = None, image_size: tuple[int, int] | None = None) -> Drive:
    """Open a drive folder of any supported layout; DriveError says what was expected.

    ``scene`` picks the scene of a nuScenes dataroot (name, token or index) or the sequence of a
    KITTI tracking folder (name such as ``0003``, or its number). ``image_size`` (width, height)
    gives a KITTI tracking folder's ``image_2`` size when it has no images; other layouts refuse it.
    """
    path = Path(path)
    if not path.exists():
        raise DriveError(path, "no such file or folder")
    if not path.is_dir():
        raise DriveError(path, "expected a drive folder, got a file")
    layout = drive_layout(path)
    drive = _open_layout(path, layout, scene, image_size)
    drive.opened_as = (str(path.absolute()), scene, image_size)
    return drive


def parse_image_size(text: str) -> tuple[int, int]:
    """``"1242x375"`` -> (1242, 375); InputError naming ``--image-size`` for anything but two
    positive whole numbers of pixels joined by x."""
    m = re.fullmatch(r"\s*([0-9]+)\s*[xX]\s*([0-9]+)\s*", text)
    if not m or int(m[1]) == 0 or int(m[2]) == 0:
        raise InputError(None, f"expected WIDTHxHEIGHT in pixels, two positive whole numbers such as 1242x375, got "
                               f"{text!r}", where="--image-size")
    return int(m[1]), int(m[2])


def takes_image_size(drive: Drive) -> bool:
    """Whether ``--image-size`` gives ``drive`` a camera it lacks: a KITTI tracking sequence
    without ``image_02/`` images, whose camera ``image_2`` has no size to be read."""
    from .kitti_tracking import KittiTrackingDrive

    return isinstance(drive, KittiTrackingDrive) and bool(drive.frames) and "image_2" not in drive.rig(0).camera_names


def check_image_size_option(drive: Drive, image_size: tuple[int, int] | None, where: str | Path) -> None:
    """DriveError at ``--image-size`` (naming ``where``, e.g. the project) unless the drive's camera
    ``image_2`` (in its first frame's rig) has ``image_size`` (width, height); nothing when None.
    ``--image-size`` gives that camera's size: a drive that knows it must agree with it."""
    if image_size is None:
        return
    rig = drive.rig(0)
    camera = getattr(rig.sensors.get("image_2"), "camera", None)
    if camera is None:
        names = ", ".join(rig.camera_names) or "none"
        raise DriveError(where, f"--image-size gives the size of camera image_2, and this drive has no image_2 "
                                f"(its cameras: {names})", where="--image-size")
    if (camera.width, camera.height) != tuple(image_size):
        raise DriveError(where, f"camera image_2 is {camera.width}x{camera.height} px, not "
                                f"{image_size[0]}x{image_size[1]} as --image-size says", where="--image-size")


def _open_layout(path: Path, layout: str | None, scene: str | None, image_size: tuple[int, int] | None) -> Drive:
    from .kitti import open_kitti_object
    from .kitti_tracking import open_kitti_tracking
    from .native import open_native_drive
    from .nuscenes import open_nuscenes
    from .sustech import open_sustech

    if layout == "nuscenes":
        return open_nuscenes(path, scene=scene)
    if layout == "kitti_tracking":
        return open_kitti_tracking(path, sequence=scene, image_size=image_size)
    if layout is None:
        from .kitti_tracking_labels import labels_only_error

        if (labels_only := labels_only_error(path)) is not None:
            raise labels_only
        missing = _tracking_without_sweeps(path)
        if missing:
            raise DriveError(path, f"a KITTI tracking folder needs its sweeps in velodyne/<seq>/<frame>.bin; "
                                   f"this one has {missing} but no velodyne/ sequence folders")
        raise DriveError(path, f"unrecognised drive layout: expected {LAYOUTS}")
    if image_size is not None:
        raise DriveError(path, "--image-size only applies to KITTI tracking folders (other layouts take their "
                               "cameras' sizes from their images or calibration)", where="--image-size")
    if scene is not None:
        raise DriveError(path, f"--scene only applies to nuScenes and KITTI tracking folders; this is a {layout} "
                               "drive", where="--scene")
    return {"native": open_native_drive, "sustech": open_sustech, "kitti": open_kitti_object}[layout](path)


def _tracking_without_sweeps(path: Path) -> str:
    """What of a KITTI tracking folder ``path`` (or its ``training/``) holds when it lacks the
    velodyne/ sequence folders, e.g. "label_02/, calib/"; "" when it does not look like one."""
    for root in (path, path / "training"):
        found = [f"{name}/" for name in ("label_02", "image_02", "oxts") if (root / name).is_dir()]
        if found:
            calib = root / "calib"
            if calib.is_dir():
                found.append("calib/")
            return ", ".join(found)
    return ""
