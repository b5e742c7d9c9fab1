"""Which way a tracked pre-label faces: a geometric fit knows a box's axis but not its front, a
track that moves does. Every box of a track that travels clearly more than its detections' noise
is turned, where needed, by 180° to face its direction of motion in the world frame; the box's axis
stays the detector's (a fit to the points is finer than a direction from a few noisy centres).
A walking person is the exception: a person's footprint gives no axis to speak of (a round blob;
KITTI's tracking labels put walkers' headings in every direction), while a person faces where they
walk, so a moving pedestrian's box takes its whole heading from its travel. A track that does not move, and a box without a track, keep the detector's heading. Without ego
poses (every pose the same) the travel seen is the ego's as much as the object's (a parked car
passes by at the ego's speed): nothing is turned.
"""

from __future__ import annotations

import numpy as np

from ..model.annotation import CuboidLabel
from ..qa.classes import canonical

MOTION_WINDOW = 1.0   # seconds each side of a frame over which a track's travel is measured
MIN_TRAVEL = 1.0      # metres over that window: four times a detection's centre noise (0.25 m)


def face_motion(labels: list[list[CuboidLabel]], poses: list[np.ndarray], times: list[float] | None = None
                ) -> list[list[CuboidLabel]]:
    """The tracked pre-labels of consecutive frames (each frame's LiDAR frame; ``poses`` its
    T_world_lidar (4, 4), ``times`` seconds, default 0.1 s apart) with the boxes of moving tracks
    facing their direction of motion (see the module docstring)."""
    n = len(labels)
    if all(np.allclose(T, poses[0]) for T in poses[1:n]):
        return labels
    t = np.asarray(times if times is not None else [0.1 * i for i in range(n)], dtype=np.float64)
    if n > 1 and np.any(np.diff(t) <= 0):
        t = 0.1 * np.arange(n, dtype=np.float64)
    centres: dict[str, dict[int, np.ndarray]] = {}
    for i, frame in enumerate(labels):
        T = np.asarray(poses[i], dtype=np.float64)
        for lab in frame:
            if lab.track_id is not None:
                centres.setdefault(lab.track_id, {})[i] = T[:3, :3] @ np.asarray(lab.box.center) + T[:3, 3]
    out = []
    for i, frame in enumerate(labels):
        R = np.asarray(poses[i], dtype=np.float64)[:3, :3]
        turned = []
        for lab in frame:
            way = _motion(centres.get(lab.track_id, {}), t, i) if lab.track_id is not None else None
            if way is not None and canonical(lab.label) == "pedestrian":
                along = R[:2, :2].T @ way
                lab = lab.with_(box=lab.box.with_(yaw=float(np.arctan2(along[1], along[0]))))
            elif way is not None:
                facing = R[:2, :2] @ np.array([np.cos(lab.box.yaw), np.sin(lab.box.yaw)])
                if float(facing @ way) < 0.0:
                    lab = lab.with_(box=lab.box.with_(yaw=lab.box.yaw + np.pi))
            turned.append(lab)
        out.append(turned)
    return out


def _motion(track: dict[int, np.ndarray], t: np.ndarray, i: int) -> np.ndarray | None:
    """World xy travel (2,) of a track around frame ``i`` (its centres by frame index): from its
    first to its last centre within ``MOTION_WINDOW`` of frame ``i``; None when under ``MIN_TRAVEL``."""
    near = [f for f in track if abs(t[f] - t[i]) <= MOTION_WINDOW + 1e-9]
    if len(near) < 2:
        return None
    way = track[max(near)][:2] - track[min(near)][:2]
    return way if float(np.hypot(*way)) >= MIN_TRAVEL else None
