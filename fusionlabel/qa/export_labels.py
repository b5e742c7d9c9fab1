"""A fusionlabel export folder given to `fusionlabel eval`: recognised by its manifest
(``fusionlabel_export.json``); a KITTI export's ``label_2/`` is read frame by frame.

A KITTI export names its files ``000000.txt`` ... and lists them with the drive's frame IDs in
``frames.txt``; its boxes are in the levelled frame of one camera (``calib/<name>.txt``: ``R0_rect``
and ``Tr_velo_to_cam``, from a Velodyne frame that may be the drive's LiDAR turned about z). They are
brought back into the drive's LiDAR frame with the camera whose pose fits that calibration.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..export_manifest import MANIFEST
from ..model.annotation import CuboidLabel
from ..model.drive import Drive


def export_format(folder: Path) -> str | None:
    """The format of the fusionlabel export in ``folder`` (``kitti``, ``nuscenes`` ...), None when
    ``folder`` holds no export manifest."""
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return "unknown"
    summary = manifest.get("summary") if isinstance(manifest, dict) else None
    fmt = summary.get("format") if isinstance(summary, dict) else None
    return fmt if isinstance(fmt, str) else "unknown"


def export_labels(folder: Path, drive: Drive, what: str) -> dict[int, list[CuboidLabel]]:
    """Labels by drive frame index from the KITTI export in ``folder`` (see the module docstring);
    InputError at ``what`` (``--pred``) for another format, an incomplete export, or a frame or
    calibration that does not fit ``drive``."""
    from ..assist.predictions import read_kitti_predictions

    fmt = export_format(folder)
    if fmt != "kitti":
        raise InputError(folder, f"is a fusionlabel {fmt} export ({MANIFEST}); eval reads a KITTI export's "
                                 "label_2/, a folder of <frame>.txt (KITTI) or <frame>.json (native) files, or a "
                                 "nuScenes results JSON", where=what)
    listing = folder / "frames.txt"
    if not listing.is_file() or not (folder / "label_2").is_dir():
        raise InputError(folder, "a KITTI export without frames.txt or label_2/ (an export that did not finish?)",
                         where=what)
    out: dict[int, list[CuboidLabel]] = {}
    for n, line in enumerate(listing.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2:
            raise InputError(listing, f"line {n}: expected '<exported name> <frame ID>', got {line!r}", where=what)
        name, frame_id = parts
        i = drive.index_of_id(frame_id)
        if i is None:
            raise InputError(listing, f"line {n}: no frame '{frame_id}' in drive '{drive.name}' (an export of "
                                      "another drive?)", where=what)
        labels = folder / "label_2" / f"{name}.txt"
        if labels.is_file():
            out[i] = read_kitti_predictions(labels, _T_rect_lidar(folder / "calib" / f"{name}.txt", drive, i, what))
    return out


def _T_rect_lidar(calib_path: Path, drive: Drive, i: int, what: str) -> np.ndarray:
    """(4, 4) drive LiDAR -> the exported label frame of frame ``i``: the drive's own KITTI
    calibration when it has one (the export copied it), else ``R0_rect`` after the camera whose
    pose differs from the file's ``Tr_velo_to_cam`` only by a turn of the Velodyne frame about z."""
    from ..assist.predictions import T_rect_lidar
    from ..io.kitti import read_kitti_calib

    if (drive.root / "calib" / f"{drive.frames[i].frame_id}.txt").is_file():
        return T_rect_lidar(drive, i)
    if not calib_path.is_file():
        raise InputError(calib_path, "missing: the export's label files need their calibration", where=what)
    calib = read_kitti_calib(calib_path)
    Tr = np.eye(4)
    Tr[:3, :] = calib.Tr_velo_to_cam
    R0 = np.eye(4)
    R0[:3, :3] = calib.R0_rect
    for cam in drive.rig(i).camera_names:
        T_cam_lidar = drive.T_cam_lidar(i, cam)
        T_velo_lidar = np.linalg.inv(Tr) @ T_cam_lidar
        if np.allclose(T_velo_lidar[:3, 3], 0, atol=1e-4) and abs(T_velo_lidar[2, 2] - 1) < 1e-6:
            return R0 @ T_cam_lidar
    raise InputError(calib_path, f"fits no camera of drive '{drive.name}' at frame {drive.frames[i].frame_id} "
                                 "(an export of another drive?)", where=what)
