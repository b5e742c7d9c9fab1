"""Points-per-cuboid counting: ``geometry.cuboid.count_points_in_cuboids`` against the approaches it
replaced (a full inside test per box; the float64 square cull qa used; the sorted-x window the
nuScenes exporter used). Prints milliseconds per call for real KITTI sweeps (when the shared real
data is present) and for a full sweep with 10 to 1000 random boxes, and checks all agree.

Usage: python benchmarks/bench_count_points.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fusionlabel.geometry.cuboid import Cuboid, count_points_in_cuboids, points_in_cuboid  # noqa: E402


def full_test(points, boxes):
    return np.array([int(points_in_cuboid(points, b).sum()) for b in boxes], np.int64)


def square_cull_float64(points, boxes):
    xy = points[:, :2].astype(np.float64)
    out = np.zeros(len(boxes), np.int64)
    for k, b in enumerate(boxes):
        r = 0.5 * float(np.linalg.norm(b.size))
        near = np.flatnonzero(np.abs(xy - b.center[:2]).max(axis=1) <= r)
        out[k] = int(points_in_cuboid(points[near], b).sum())
    return out


def sorted_x_window(points, boxes):
    order = np.argsort(points[:, 0], kind="stable")
    xs = points[order, 0]
    out = np.zeros(len(boxes), np.int64)
    for k, b in enumerate(boxes):
        c = b.corners()
        lo, hi = c.min(axis=0) - 1e-6, c.max(axis=0) + 1e-6
        idx = order[np.searchsorted(xs, lo[0], "left"):np.searchsorted(xs, hi[0], "right")]
        idx = idx[(points[idx, 1] >= lo[1]) & (points[idx, 1] <= hi[1])]
        out[k] = int(points_in_cuboid(points[idx], b).sum())
    return out


METHODS = {"full test": full_test, "qa float64 cull": square_cull_float64, "export sorted x": sorted_x_window,
           "count_points_in_cuboids": count_points_in_cuboids}


def run(name: str, points: np.ndarray, boxes: list[Cuboid], repeats: int) -> None:
    expected = full_test(points, boxes)
    cells = []
    for label, fn in METHODS.items():
        assert np.array_equal(fn(points, boxes), expected), label
        t0 = time.perf_counter()
        for _ in range(repeats):
            fn(points, boxes)
        cells.append(f"{label} {1e3 * (time.perf_counter() - t0) / repeats:8.2f}")
    print(f"{name:<28} {len(points):>7} pts {len(boxes):>5} boxes | " + " | ".join(cells) + "  (ms)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    realdata = Path(os.environ.get("FUSIONLABEL_REALDATA", REPO.parent / "shared" / "realdata"))
    kitti = realdata / "kitti_object" / "training"
    rng = np.random.default_rng(0)
    sweep = None
    if (kitti / "velodyne").is_dir():
        from fusionlabel.io.kitti import open_kitti_object

        drive = open_kitti_object(kitti)
        for i in range(len(drive)):
            points = drive.points(i)
            run(f"KITTI {drive.frames[i].frame_id} labels", points, [lab.box for lab in drive.labels(i)], args.repeats)
            if sweep is None or len(points) > len(sweep):
                sweep = points
    else:
        print(f"(no KITTI sample at {kitti}: random sweep only)")
    if sweep is None:
        sweep = rng.uniform([-80, -80, -3, 0], [80, 80, 3, 1], (120_000, 4)).astype(np.float32)
    for n in (10, 50, 200, 1000):
        boxes = [Cuboid((rng.uniform(-40, 40), rng.uniform(-40, 40), rng.uniform(-2, 0)), (4.2, 1.9, 1.6),
                        rng.uniform(-math.pi, math.pi)) for _ in range(n)]
        run("random cars", sweep, boxes, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
