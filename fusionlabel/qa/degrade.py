"""Degrade ground-truth tracks the way a detector would, to test a tracker on real trajectories.

:func:`degrade` drops a share of the boxes, jitters centres (Gaussian, per horizontal axis) and
yaw, strips the track IDs and adds false boxes (copies of a real box's class and size at a
random place in the labelled area). Seeded: the same seed gives the same output.
"""

from __future__ import annotations

import numpy as np

from ..model.annotation import CuboidLabel


def degrade(frames: list[list[CuboidLabel]], seed: int = 0, drop: float = 0.10, jitter_m: float = 0.2,
            jitter_yaw_deg: float = 5.0, false_rate: float = 0.05,
            area=((2.0, 60.0), 0.75)) -> list[list[CuboidLabel]]:
    """Per-frame detections made from ground truth.

    Args:
        frames: ground truth per frame (LiDAR frame).
        drop: probability that a box is missing.
        jitter_m: standard deviation of the centre error along x and y (m).
        jitter_yaw_deg: standard deviation of the yaw error (deg).
        false_rate: false boxes as a share of the ground-truth boxes, spread over frames at random.
        area: ((x_min, x_max), tan of the half field of view): false boxes land at x in the range
            and |y| <= x * tan (KITTI labels cover the front camera's view).
    """
    rng = np.random.default_rng(seed)
    out: list[list[CuboidLabel]] = []
    for labels in frames:
        dets = []
        for lab in labels:
            if rng.random() < drop:
                continue
            b = lab.box
            c = np.asarray(b.center) + np.r_[rng.normal(0.0, jitter_m, 2), 0.0]
            yaw = b.yaw + np.radians(rng.normal(0.0, jitter_yaw_deg))
            dets.append(CuboidLabel(b.with_(center=c, yaw=yaw), lab.label, None, 1.0, "model", {}))
        out.append(dets)
    total = sum(len(f) for f in frames)
    n_false = int(round(false_rate * total))
    nonempty = [i for i, f in enumerate(frames) if f]
    (x0, x1), tan_half = area
    for _ in range(n_false if nonempty else 0):
        i = int(rng.choice(nonempty))
        proto = frames[i][int(rng.integers(len(frames[i])))]
        x = rng.uniform(x0, x1)
        y = rng.uniform(-x * tan_half, x * tan_half)
        c = (x, y, proto.box.center[2])
        box = proto.box.with_(center=c, yaw=rng.uniform(-np.pi, np.pi))
        out[i].append(CuboidLabel(box, proto.label, None, 1.0, "model", {"false": True}))
    return out
