"""Host-side voxelisation (ONNX models fed pillars, settings ``voxelize``): milliseconds per sweep on
one core for the grids of common pillar models, on the real KITTI and nuScenes sweeps. Prints a
markdown table (docs/prelabel.md, "Pillar and voxel inputs").

    .venv/bin/python benchmarks/bench_voxelize.py [--realdata DIR] [--repeats 20]

The time covers :func:`fusionlabel.assist.voxelize.voxelize` (range crop, cells, grouping, the
voxel rows) for the sweep's x, y, z, intensity; "nearest" is the same grid with ``max_voxels`` set
below the sweep's count so that voxels have to be chosen. Real data comes from FUSIONLABEL_REALDATA
(default ../shared/realdata); missing sets are skipped.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench_assist import one_core, timed  # noqa: E402  (this folder: pinning and timing as the other figures)

from fusionlabel.assist.voxelize import VoxelGrid, voxelize  # noqa: E402
from fusionlabel.io.pointcloud import read_points  # noqa: E402

GRIDS = {   # name: (voxel_size, point_cloud_range, max_points_per_voxel, max_voxels), as the models were trained
    "KITTI PointPillars (mmdet3d/OpenPCDet)": ((0.16, 0.16, 4.0), (0, -39.68, -3, 69.12, 39.68, 1), 32, 40000),
    "nuScenes PointPillars (mmdet3d)": ((0.25, 0.25, 8.0), (-50, -50, -5, 50, 50, 3), 20, 40000),
    "nuScenes CenterPoint pillar 0.2 (mmdet3d)": ((0.2, 0.2, 8.0), (-51.2, -51.2, -5, 51.2, 51.2, 3), 20, 30000),
}


def sweeps(realdata: Path) -> list[tuple[str, np.ndarray]]:
    found = []
    kitti = sorted((realdata / "kitti_object" / "training" / "velodyne").glob("*.bin"))
    nus = sorted((realdata / "nuscenes_mini" / "samples" / "LIDAR_TOP").glob("*.pcd.bin"))
    for path in kitti[:4] + nus[:2]:
        set_name = "kitti_object" if path.suffix == ".bin" and path in kitti else "nuscenes_mini"
        found.append((f"{set_name} {path.name.split('__')[-1]}", read_points(path)[:, :4]))
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--realdata", type=Path,
                    default=Path(os.environ.get("FUSIONLABEL_REALDATA", REPO.parent / "shared" / "realdata")))
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()
    found = sweeps(args.realdata)
    if not found:
        print(f"no KITTI or nuScenes sweeps under {args.realdata}: nothing to measure")
        return
    print(f"## Voxelisation ({one_core()}, {args.repeats} runs, ms per sweep: median / fastest)\n")
    print("| sweep | points | grid | voxels | keep: first | keep: nearest, max_voxels = half |")
    print("|---|---:|---|---:|---:|---:|")
    for name, points in found:
        for grid_name, (size, span, per_voxel, max_voxels) in GRIDS.items():
            grid = VoxelGrid(size, span, per_voxel, max_voxels)
            count = len(voxelize(points[:, :3], points, grid).num_points)
            first = timed(lambda: voxelize(points[:, :3], points, grid), args.repeats)
            near = VoxelGrid(size, span, per_voxel, max(1, count // 2), "nearest")
            nearest = timed(lambda: voxelize(points[:, :3], points, near), args.repeats)
            said = [f"{np.median(t):.1f} / {t.min():.1f}" for t in (first, nearest)]
            print(f"| {name} | {len(points)} | {grid_name} | {count} | {said[0]} | {said[1]} |")


if __name__ == "__main__":
    main()
