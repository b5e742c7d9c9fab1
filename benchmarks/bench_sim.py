"""Simulator timings: the 20-frame sample, a dense (1M points) sweep and a long (1,000-frame) drive.

    python benchmarks/bench_sim.py            # sample + dense + long (LiDAR-only frames sampled)
    python benchmarks/bench_sim.py --full     # also write the whole 1,000-frame drive with cameras

Nothing is written to the repository; output goes to a temporary folder.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from fusionlabel.sim.scenario import build_scenario
from fusionlabel.sim.simulator import Simulator
from fusionlabel.sim.writer import simulate_drive


def _size_mb(root: Path) -> float:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6


def bench_sample(tmp: Path) -> None:
    start = time.perf_counter()
    simulate_drive(tmp / "sample", frames=20, seed=0, progress=False)
    took = time.perf_counter() - start
    print(f"sample drive  20 frames, 120k pts, 3 cameras: {took:6.1f} s total, {took / 20:.2f} s/frame, "
          f"{_size_mb(tmp / 'sample'):.1f} MB")


def bench_frame_parts() -> None:
    sc = build_scenario(0, 20)
    start = time.perf_counter()
    sim = Simulator(sc)
    print(f"simulator init (scene BVH, pixel rays of 3 cameras): {time.perf_counter() - start:6.2f} s")
    lidar_only = Simulator(sc, cameras=False)
    for name, s in (("LiDAR 120k", lidar_only), ("LiDAR + 3 cameras", sim)):
        start = time.perf_counter()
        for i in range(5):
            s.frame(i)
        print(f"frame {name:18s}: {(time.perf_counter() - start) / 5:6.3f} s/frame")


def bench_dense() -> None:
    sim = Simulator(build_scenario(1, 10), points=1_000_000, cameras=False)
    start = time.perf_counter()
    n = 0
    for i in range(3):
        n += len(sim.frame(i).points)
    print(f"dense sweep   ~1M points ({sim.lidar.columns} columns): {(time.perf_counter() - start) / 3:6.3f} s/frame, "
          f"{n / 3:,.0f} points")


def bench_long(tmp: Path, full: bool) -> None:
    start = time.perf_counter()
    sc = build_scenario(2, 1000)
    built = time.perf_counter() - start
    print(f"long drive    1,000 frames: scenario {built:.1f} s ({len(sc.agents)} agents, "
          f"{sc.static_mesh.n_triangles:,} static triangles, {sc.layout.x_max - sc.layout.x_min:.0f} m of street)")
    sim = Simulator(sc, cameras=False)
    start = time.perf_counter()
    for i in range(0, 1000, 100):
        sim.frame(i)
    print(f"              LiDAR-only frames sampled along the drive: {(time.perf_counter() - start) / 10:.3f} s/frame")
    if full:
        start = time.perf_counter()
        simulate_drive(tmp / "long", frames=1000, seed=2, progress=True)
        print(f"              full drive with cameras written in {time.perf_counter() - start:.0f} s, "
              f"{_size_mb(tmp / 'long'):.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="write the whole 1,000-frame drive with cameras")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_sim_"))
    try:
        bench_sample(tmp)
        bench_frame_parts()
        bench_dense()
        bench_long(tmp, args.full)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
