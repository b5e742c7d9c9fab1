"""What `fusionlabel check --decode-all` costs: the whole command (`--no-poses --no-labels`, so that
the files are what is timed) with and without the option, on the real drives and on simulated ones.

For each drive it prints the median wall time of ``--repeats`` runs and the CPU time of the command
and its decoding processes, without the option, with it on one process and with ``--workers 2``,
and the report's ``files:`` line of the last run.

Usage: python benchmarks/bench_check_decode.py [--repeats 3] [--realdata PATH] [--drive DIR ...]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_once(args: list[str]) -> tuple[float, float, int, str]:
    """(wall s, CPU s of the command and its children, exit code, its ``files:`` line) of
    ``fusionlabel ARGS``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "fusionlabel", *args], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    files = next((line for line in done.stdout.splitlines() if line.startswith("files:")), "")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done.returncode, files


def bench(drive: Path, repeats: int) -> None:
    base = ["check", str(drive), "--no-poses", "--no-labels"]
    runs = {"looked up": base, "decode-all, 1 process": base + ["--decode-all", "--quiet", "--workers", "1"],
            "decode-all, 2 processes": base + ["--decode-all", "--quiet", "--workers", "2"]}
    print(f"{drive}")
    for what, args in runs.items():
        results = [run_once(args) for _ in range(repeats)]
        wall = statistics.median(r[0] for r in results)
        cpu = statistics.median(r[1] for r in results)
        print(f"  {what:<24} wall {wall:6.2f} s (runs {min(r[0] for r in results):.2f}-{max(r[0] for r in results):.2f}), "
              f"CPU {cpu:6.2f} s, exit {results[0][2]}")
    print(f"    {results[0][3]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--realdata", type=Path,
                    default=Path(os.environ.get("FUSIONLABEL_REALDATA", REPO.parent / "shared" / "realdata")))
    ap.add_argument("--drive", type=Path, action="append", default=[],
                    help="another drive folder to time (e.g. one `fusionlabel simulate --frames 300` wrote)")
    args = ap.parse_args()
    drives = [args.realdata / name for name in ("nuscenes_mini", "sustech_sequence", "kitti_object/training")
              if (args.realdata / name).is_dir()]
    if not drives and not args.drive:
        print(f"no real data at {args.realdata} and no --drive given")
    for drive in [REPO / "sample_data", *drives, *args.drive]:
        bench(drive, args.repeats)


if __name__ == "__main__":
    main()
