"""``fusionlabel simulate``: write a simulated LiDAR + camera drive with ground truth."""

from __future__ import annotations

import argparse
import time


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "simulate", help="simulate a street drive (LiDAR, 3 cameras, ground-truth cuboids)",
        description="Simulate a street scene driven by an ego vehicle and write it as a native drive "
                    "folder. The output is byte-identical for the same arguments.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", required=True, default=argparse.SUPPRESS, help="output drive folder (required)")
    p.add_argument("--frames", type=int, default=20, help="number of frames (10 Hz)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the scenario and the sensor noise")
    p.add_argument("--points", type=int, default=120_000, help="approximate LiDAR returns per sweep")
    p.add_argument("--no-cameras", action="store_true", help="LiDAR and labels only")
    p.add_argument("--masks", action="store_true", help="also write per-pixel object-ID masks (debug/masks)")
    p.add_argument("--camera-scale", type=float, default=1.0, help="scale of camera resolutions")
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes; helps on machines with more than 2 cores (output does not depend on it)")
    p.add_argument("--force", action="store_true",
                   help="write into a non-empty folder: an earlier simulation there (fusionlabel_simulate.json) is "
                        "replaced, other files are kept beside it; a folder with another drive's files is refused")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..errors import DriveError
    from ..sim.writer import simulate_drive
    from ..wording import counted
    from .options import check_workers

    if not 0.1 <= args.camera_scale <= 4.0:
        raise DriveError(None, f"--camera-scale must be within 0.1 .. 4, got {args.camera_scale}")
    check_workers(args.workers)
    start = time.perf_counter()
    index = simulate_drive(args.out, frames=args.frames, seed=args.seed, points=args.points,
                           cameras=not args.no_cameras, masks=args.masks, force=args.force,
                           progress=not args.quiet, camera_scale=args.camera_scale,
                           workers=args.workers if args.frames >= 4 else 1)
    if not args.quiet:
        print(f"wrote {index.parent} ({counted(args.frames, 'frame')}) in {time.perf_counter() - start:.1f} s")
    return 0
