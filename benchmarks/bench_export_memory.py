"""Peak memory of `fusionlabel export` per format on a long project: whether an export grows with
the drive.

Each format is exported (``--labels-only``) in a process of its own, which prints its peak RSS and
wall time; the first line is the RSS of a process that only opens the project and reads every
frame's labels, what any export of it needs. Give ``--project`` an existing project, or
``--frames N`` to simulate an N-frame LiDAR-only drive (20,000 points a frame, seed 3, as
``bench_app.py --long``) and its project in a temporary folder first. COCO is refused on a drive
without images.

Usage: python benchmarks/bench_export_memory.py --frames 2000
       python benchmarks/bench_export_memory.py --project PATH [--formats openlabel nuscenes]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
project, fmt, out = sys.argv[1:4]
if fmt == "-":
    from fusionlabel.export.source import open_source
    with open_source(project) as (drive, labels_for, _, _):
        sum(len(labels_for(i)) for i in range(len(drive)))
    code = 0
else:
    from fusionlabel.cli.main import main
    code = main(["export", project, "--format", fmt, "--out", out, "--labels-only", "--quiet"])
print(json.dumps({"code": code, "seconds": time.perf_counter() - t0,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(project: Path, fmt: str, out: Path) -> dict:
    """Peak RSS (MB), seconds and exit code of one export (``fmt`` "-": opening the project only)."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", CHILD, str(project), fmt, str(out)], env=env,
                          capture_output=True, text=True)
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"code": done.returncode, "seconds": 0.0, "peak_mb": 0.0, "error": done.stderr.strip()[-200:]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--project", type=Path, help="an existing project (or drive) folder")
    ap.add_argument("--frames", type=int, default=500, help="frames of the simulated drive (without --project)")
    ap.add_argument("--formats", nargs="+", default=["openlabel", "nuscenes", "kitti", "kitti-tracking", "coco"])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = args.project
        if project is None:
            from fusionlabel.sim.writer import simulate_drive
            from fusionlabel.store.project import Project

            simulate_drive(Path(tmp) / "drive", frames=args.frames, seed=3, points=20_000, cameras=False,
                           progress=False, workers=min(2, os.cpu_count() or 1))
            Project.create(Path(tmp) / "project", Path(tmp) / "drive", import_labels=True).close()
            project = Path(tmp) / "project"
        print(f"{project}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        for fmt in ["-"] + args.formats:
            r = measure(project, fmt, Path(tmp) / f"out-{fmt}")
            what = "open the project, read its labels" if fmt == "-" else f"export {fmt}"
            status = "" if r["code"] == 0 else f"  (exit {r['code']}{': ' + r['error'] if 'error' in r else ''})"
            print(f"  {what:36s} peak RSS {r['peak_mb']:7.0f} MB  {r['seconds']:6.1f} s{status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
