"""A tiny KITTI-object-layout drive for tests and benchmarks of the store (no real data needed).

Only what ``open_drive`` lists is written: ``velodyne/*.bin`` sweeps of random points and
``calib/*.txt`` with KITTI-style matrices; optionally ``label_2/*.txt`` with a few objects.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

_CALIB = """P0: 700 0 600 0 0 700 180 0 0 0 1 0
P1: 700 0 600 -380 0 700 180 0 0 0 1 0
P2: 700 0 600 45 0 700 180 0.2 0 0 1 0.003
P3: 700 0 600 -340 0 700 180 2.2 0 0 1 0.003
R0_rect: 1 0 0 0 1 0 0 0 1
Tr_velo_to_cam: 0 -1 0 0 0 0 -1 -0.08 1 0 0 -0.27
Tr_imu_to_velo: 1 0 0 -0.8 0 1 0 0.3 0 0 1 -0.8
"""


def make_fake_drive(folder: str | Path, n_frames: int = 5, n_points: int = 1000, seed: int = 0,
                    labels: bool = False) -> Path:
    """Write a drive of ``n_frames`` frames into ``folder`` (created) and return its path."""
    root = Path(folder)
    rng = np.random.default_rng(seed)
    for sub in ("velodyne", "calib") + (("label_2",) if labels else ()):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i in range(n_frames):
        fid = f"{i:06d}"
        pts = rng.uniform([-40, -40, -2, 0], [40, 40, 2, 1], size=(n_points + i, 4)).astype(np.float32)
        pts.tofile(root / "velodyne" / f"{fid}.bin")
        (root / "calib" / f"{fid}.txt").write_text(_CALIB)
        if labels:
            (root / "label_2" / f"{fid}.txt").write_text(
                "Car 0.00 0 -1.50 500.0 150.0 600.0 250.0 1.50 1.80 4.20 1.00 1.70 12.00 -1.55\n"
                "Pedestrian 0.00 1 0.20 700.0 140.0 730.0 240.0 1.75 0.60 0.80 -2.00 1.70 8.00 0.10\n"
                "DontCare -1 -1 -10 800.0 160.0 850.0 200.0 -1 -1 -1 -1000 -1000 -1000 -10\n")
    return root
