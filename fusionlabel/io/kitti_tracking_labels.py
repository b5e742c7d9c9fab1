"""A KITTI tracking folder of labels and calibration only: a label delivery to check before its
sweeps are at hand.

Layout (``oxts/`` optional; no ``velodyne/<seq>/`` sweeps, images or not)::

    ROOT/label_02/<seq>.txt     frame track_id type trunc occ alpha x1 y1 x2 y2 h w l x y z ry
    ROOT/calib/<seq>.txt        as in a full KITTI tracking folder (:mod:`.kitti_tracking`)

:func:`open_tracking_labels` opens one sequence as a drive without sweeps or images, for the label
checks of `fusionlabel check` that need neither. Its frames are 0 to the last frame number the label
file names (a frame between without a line is a frame without objects), 0.1 s apart, with the poses
of ``oxts/<seq>.txt`` when there is one. Labels are read as :mod:`.kitti_tracking` reads them, except
that a line that cannot be read is left out and kept (``unread_lines``: errors naming the file and
the line) rather than stopping the reading. The commands that need the sweeps refuse such a folder
with :func:`labels_only_error`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DriveError, LabelError
from ..model.drive import Frame
from .kitti import read_kitti_calib, rig_from_kitti_calib
from .kitti_tracking import (
    FRAME_PERIOD_US,
    KittiTrackingDrive,
    find_tracking_root,
    label_entries,
    pick_sequence,
    tracking_cuboids,
    tracking_drive_name,
    tracking_poses,
)


class KittiTrackingLabels(KittiTrackingDrive):
    """One sequence of a labels-only KITTI tracking folder: frames without sweeps or images.
    ``unread_lines``: the label file's lines left out, as errors naming the file and the line;
    ``T_rect_velo`` (4, 4): Velodyne -> the rectified camera-0 frame its label lines are in."""

    unread_lines: list[LabelError]
    T_rect_velo: np.ndarray


def labels_only_root(path: str | Path) -> Path | None:
    """The folder (``path`` or its ``training/``) whose ``label_02/`` holds ``<seq>.txt`` files when
    no ``velodyne/<seq>/`` sweep folder is there; None for any other folder."""
    path = Path(path)
    if find_tracking_root(path) is not None:
        return None
    for cand in (path, path / "training"):
        if label_sequences(cand):
            return cand
    return None


def label_sequences(root: str | Path) -> list[str]:
    """Names of the sequences with a ``label_02/<seq>.txt`` file under ``root``, sorted."""
    labels = Path(root) / "label_02"
    return sorted(p.stem for p in labels.glob("*.txt") if p.is_file()) if labels.is_dir() else []


def labels_only_error(path: str | Path) -> DriveError | None:
    """The error of a command that needs sweeps given the labels-only folder ``path``: it names the
    missing ``velodyne/`` and says what can be done; None when ``path`` is no such folder."""
    root = labels_only_root(path)
    if root is None:
        return None
    held = ", ".join(f"{name}/" for name in ("label_02", "calib", "oxts", "image_02") if (root / name).is_dir())
    return DriveError(root / "velodyne", f"no sweeps; this KITTI tracking folder holds labels only ({held}): "
                                         "`fusionlabel check` can check them")


def open_tracking_labels(path: str | Path, sequence: str | int | None = None) -> KittiTrackingLabels:
    """One sequence of the labels-only KITTI tracking folder ``path`` as a drive without sweeps (see
    the module docstring); ``sequence`` as in :func:`~.kitti_tracking.open_kitti_tracking`.

    A missing or unreadable calibration or oxts file raises an error naming it; unreadable label
    lines do not (``unread_lines``)."""
    root = labels_only_root(path)
    if root is None:
        raise DriveError(path, "not a labels-only KITTI tracking folder: expected label_02/<seq>.txt and no "
                               "velodyne/<seq>/")
    sequences = label_sequences(root)
    seq = pick_sequence(root, sequences, sequence)
    calib = read_kitti_calib(root / "calib" / f"{seq}.txt")
    label_path = root / "label_02" / f"{seq}.txt"
    unread: list[LabelError] = []
    by_frame = label_entries(label_path, unread)
    last = max(by_frame, default=-1)
    notes: list[str] = []
    T_world_lidar = tracking_poses(root, seq, calib, last, f"label_02/{seq}.txt", notes) if last >= 0 else []
    T_velo_rect = calib.T_velo_rect
    frames = []
    for n in range(last + 1):
        labels = tracking_cuboids(by_frame.get(n, []), T_velo_rect, label_path, unread)
        frames.append(Frame(frame_id=f"{n:06d}", lidar_path=root / "velodyne" / seq / f"{n:06d}.bin",
                            timestamp_us=n * FRAME_PERIOD_US, T_world_vehicle=T_world_lidar[n],
                            labels_source=lambda labels=labels: labels))
    unread.sort(key=lambda e: int(e.where.removeprefix("line ")))    # every one names its line
    drive = KittiTrackingLabels(tracking_drive_name(root, seq), root, rig_from_kitti_calib(calib, {}, f"kitti-tracking-{seq}"), frames)
    drive.sequence, drive.sequences, drive.notes = seq, sequences, notes
    drive.has_poses = (root / "oxts" / f"{seq}.txt").is_file()
    drive.unread_lines, drive.T_rect_velo = unread, calib.T_rect_velo
    return drive
