"""Export throughput: seconds per frame for every format, and where the time goes.

Exports the repository's sample drive (20 simulated frames, ~120k points, 3 cameras, ~50 boxes per
frame; ``--drive`` another, e.g. a LiDAR-only one from ``fusionlabel simulate --no-cameras``) to each
format twice, labels only and with sensor data, into a throw-away folder, and the
real nuScenes keyframe (6 cameras, 69 boxes) when the shared real data is present. It also times
the parts that dominate: the occlusion/2D-box estimate per camera and image undistortion.

It also exports OpenLABEL and nuScenes labels of every box moved, whose point counts are counted
again (:func:`bench_edited`).

Usage: python benchmarks/bench_export.py [--drive PATH] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fusionlabel.export import FORMATS, ExportError, ExportOptions, export_drive  # noqa: E402
from fusionlabel.export.views import object_views, pinhole_of, undistort_image, undistort_maps  # noqa: E402
from fusionlabel.io.drives import open_drive  # noqa: E402


def timed(fn, repeats: int) -> float:
    best = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best.append(time.perf_counter() - t)
    return min(best)


def bench_formats(drive, repeats: int, label: str) -> None:
    n = len(drive)
    print(f"\n{label}: {n} frames, cameras {', '.join(drive.rig(0).camera_names)}, "
          f"{sum(len(drive.labels(i)) for i in range(n))} boxes")
    print(f"{'format':16s} {'labels only':>14s} {'with sensor data':>18s}   (ms per frame, best of {repeats})")
    for fmt in FORMATS:
        row = []
        for sensor_data in (False, True):
            if fmt == "openlabel" and sensor_data:
                row.append("-")
                continue
            with tempfile.TemporaryDirectory() as tmp:
                def run(k=[0]):
                    k[0] += 1
                    export_drive(drive, fmt, Path(tmp) / f"o{k[0]}",
                                 options=ExportOptions(progress=False, sensor_data=sensor_data))
                try:
                    row.append(f"{1000 * timed(run, repeats) / n:.1f}")
                except ExportError:      # COCO of a drive without images
                    row.append("refused")
        print(f"{fmt:16s} {row[0]:>14s} {row[1]:>18s}")


def bench_edited(drive, repeats: int, label: str) -> None:
    """OpenLABEL and nuScenes, labels only, of the drive's own labels, of the same labels as a project
    gives them (each box compared with the drive's to tell it untouched), and of every box moved by
    10 cm (every LiDAR count counted again in its frame's sweep)."""
    n = len(drive)
    sources = {"drive's own labels": drive.labels,
               "the same, as a project gives them": lambda i: list(drive.labels(i)),
               "every box moved 10 cm": lambda i: [lab.with_(box=lab.box.with_(center=(lab.box.center[0] + 0.1,
                                                                                        *lab.box.center[1:])))
                                                   for lab in drive.labels(i)]}
    print(f"\n{label}, labels only (ms per frame, best of {repeats}):")
    for fmt in ("openlabel", "nuscenes"):
        for what, labels_for in sources.items():
            with tempfile.TemporaryDirectory() as tmp:
                def run(k=[0]):
                    k[0] += 1
                    export_drive(drive, fmt, Path(tmp) / f"o{k[0]}", labels_for,
                                 ExportOptions(progress=False, sensor_data=False))
                print(f"  {fmt:10s} {what:36s} {1000 * timed(run, repeats) / n:6.1f}")


def bench_parts(drive, repeats: int) -> None:
    i = 0
    pts = drive.points(i)
    boxes = [lab.box for lab in drive.labels(i)]
    print(f"\nparts (frame 0: {len(pts)} points, {len(boxes)} boxes):")
    for cam in drive.rig(i).camera_names:
        model = drive.rig(i).camera(cam).camera
        T = drive.T_cam_lidar(i, cam)
        t = timed(lambda: object_views(pts, boxes, T, model), repeats)
        print(f"  2D boxes + truncation + occlusion, {cam} ({model.model}): {1000 * t:.1f} ms")
        if model.distortion and cam in drive.frames[i].image_paths:
            t_maps = timed(lambda: undistort_maps(model, pinhole_of(model)), repeats)
            maps = undistort_maps(model, pinhole_of(model))
            image = drive.image(i, cam)
            t_remap = timed(lambda: undistort_image(image, maps), repeats)
            print(f"  undistortion maps {cam}: {1000 * t_maps:.1f} ms once, remap {1000 * t_remap:.1f} ms per image")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drive", type=Path, default=REPO / "sample_data")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    print(f"CPU cores: {os.cpu_count()}")
    drive = open_drive(args.drive)
    bench_formats(drive, args.repeats, f"drive {args.drive}")
    bench_edited(drive, args.repeats, f"drive {args.drive}")
    bench_parts(drive, args.repeats)
    realdata = Path(os.environ.get("FUSIONLABEL_REALDATA", REPO.parent / "shared" / "realdata"))
    if (realdata / "nuscenes_mini" / "v1.0-mini").is_dir():
        from fusionlabel.io.nuscenes import open_nuscenes

        t = time.perf_counter()
        nu = open_nuscenes(realdata / "nuscenes_mini")
        print(f"\nnuScenes import (devkit load + scene): {1000 * (time.perf_counter() - t):.0f} ms")
        bench_formats(nu, args.repeats, "nuScenes scene-0061 keyframe")
        bench_parts(nu, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
