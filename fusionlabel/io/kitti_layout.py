"""Which KITTI layout a drive comes from, kept through a native copy.

A KITTI object folder is a set of unrelated frames (scenes of different days, each with its own
calibration); a KITTI tracking sequence is one recording, named ``0000``, ``0001`` … The readers
know which they read; ``fusionlabel import`` writes it into the copy's ``drive.yaml`` under
``meta`` (``kitti_layout: object`` or ``tracking``, and ``kitti_sequence: "0001"``), and the native
reader keeps ``meta`` as ``drive.meta``, so a native copy, and a project on either, still knows:
KITTI tracking export names the sequence after it, and says when the frames are separate scenes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

LAYOUT = "kitti_layout"          # meta key: OBJECT or TRACKING
SEQUENCE = "kitti_sequence"      # meta key: the tracking sequence's name
OBJECT, TRACKING = "object", "tracking"


def is_kitti_object_folder(drive) -> bool:
    """Whether ``drive`` was read from a KITTI object folder (its sweeps in ``velodyne/``, beside
    ``calib/``)."""
    from .kitti_tracking import KittiTrackingDrive

    if isinstance(drive, KittiTrackingDrive) or not drive.frames:
        return False
    root = Path(drive.root)
    return Path(drive.frames[0].lidar_path).parent == root / "velodyne" and (root / "calib").is_dir()


def kitti_layout_meta(drive) -> dict[str, str]:
    """The ``meta`` entries an import writes for ``drive``: its layout and sequence when it is a
    KITTI folder (or a native copy of one), else none."""
    layout, sequence = kitti_origin(drive)
    out = {} if layout is None else {LAYOUT: layout}
    if sequence is not None:
        out[SEQUENCE] = sequence
    return out


def kitti_origin(drive) -> tuple[str | None, str | None]:
    """(layout, sequence name) of the KITTI folder ``drive`` was read from, directly or through a
    native copy: (TRACKING, "0001"), (OBJECT, None), or (None, None) for any other drive."""
    from .kitti_tracking import KittiTrackingDrive

    if isinstance(drive, KittiTrackingDrive):
        return TRACKING, drive.sequence
    if is_kitti_object_folder(drive):
        return OBJECT, None
    meta = getattr(drive, "meta", None) or {}
    return meta.get(LAYOUT), meta.get(SEQUENCE)


def meta_problem(meta: dict[str, Any]) -> tuple[str, str] | None:
    """(key, what is wrong) for a ``meta`` mapping whose KITTI entries are not valid; None if they are."""
    layout = meta.get(LAYOUT)
    if LAYOUT in meta and layout not in (OBJECT, TRACKING):
        return LAYOUT, f"expected '{OBJECT}' or '{TRACKING}', got {layout!r}"
    if SEQUENCE in meta:
        seq = meta[SEQUENCE]
        if not isinstance(seq, str) or not seq or any(c in seq for c in "/\\ ") or seq in (".", ".."):
            return SEQUENCE, f"expected a sequence name like \"0001\" (a plain file name), got {seq!r}"
    return None
