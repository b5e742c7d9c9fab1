"""`fusionlabel import`: the size of the native copy's sweeps against the source's, the time of the
import, and the time to read every sweep of the copy back (a fresh drive, nothing cached).

Imports the repository's sample drive (``.fri`` range images) and, when the shared real data is
present, a SUSTech-style sequence (PCD), a nuScenes scene (``.pcd.bin``) and a KITTI object frame
(``.bin``); ``--drive PATH`` adds another (e.g. a long ``fusionlabel simulate --no-cameras`` drive).
``--repo PATH`` runs another checkout's fusionlabel (to compare with an older one).

Usage: python benchmarks/bench_import.py [--drive PATH ...] [--repo PATH] [--repeats 1]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REALDATA = Path(os.environ.get("FUSIONLABEL_REALDATA", REPO.parent / "shared" / "realdata"))

READ_ALL = """
import sys, time
from fusionlabel.io.drives import open_drive
open_drive(sys.argv[1]).points(0)      # compiled decoders (numba) ready, as in a running app
drive = open_drive(sys.argv[1])
t = time.perf_counter()
n = sum(len(drive.points(i)) for i in range(len(drive)))
print(time.perf_counter() - t, n)
"""


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def sweep_bytes(drive_path: Path, repo: Path, scene: str | None, frames: str | None) -> tuple[int, int]:
    """(bytes of the source's sweeps of the imported frames, frames)."""
    code = ("import sys, os\nfrom fusionlabel.io.drives import open_drive\n"
            "from fusionlabel.model.frame_spec import parse_frames\n"
            "d = open_drive(sys.argv[1], sys.argv[2] or None)\n"
            "idx = sorted(parse_frames(sys.argv[3], d)) if sys.argv[3] else range(len(d))\n"
            "print(sum(os.path.getsize(d.frames[i].lidar_path) for i in idx), len(idx))")
    out = run([sys.executable, "-c", code, str(drive_path), scene or "", frames or ""], repo)
    size, n = out.split()
    return int(size), int(n)


def run(cmd: list[str], repo: Path) -> str:
    env = dict(os.environ, PYTHONPATH=str(repo))
    with tempfile.TemporaryDirectory() as cwd:     # not this checkout's folder: python puts the cwd first
        return subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True, text=True).stdout


def bench(label: str, drive_path: Path, repo: Path, repeats: int, scene: str | None = None,
          frames: str | None = None) -> None:
    source, n = sweep_bytes(drive_path, repo, scene, frames)
    best_import, best_read = float("inf"), float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "copy"
        for _ in range(repeats):
            args = [sys.executable, "-m", "fusionlabel", "import", str(drive_path), "--out", str(out), "--quiet",
                    "--force"] + (["--scene", scene] if scene else []) + (["--frames", frames] if frames else [])
            t = time.perf_counter()
            run(args, repo)
            best_import = min(best_import, time.perf_counter() - t)
            best_read = min(best_read, float(run([sys.executable, "-c", READ_ALL, str(out)], repo).split()[0]))
        copy = folder_bytes(out / "lidar")
        kinds = sorted({p.suffix for p in (out / "lidar").iterdir()})
    print(f"{label:<34} {n:>4} frames  sweeps {source / 1e6:8.1f} MB -> {copy / 1e6:8.1f} MB "
          f"({copy / source:5.2f}x, {'/'.join(kinds)})  import {best_import:6.1f} s  "
          f"read back {1000 * best_read / n:6.1f} ms/frame")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--drive", type=Path, action="append", default=[])
    ap.add_argument("--repo", type=Path, default=REPO)
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    print(f"fusionlabel of {args.repo}")
    bench("sample drive (.fri)", REPO / "sample_data", args.repo, args.repeats)
    for d in args.drive:
        bench(f"{d.name}", d, args.repo, args.repeats)
    cases = [("SUSTech sequence (PCD)", REALDATA / "sustech_sequence", None, None),
             ("nuScenes scene (.pcd.bin)", REALDATA / "nuscenes_mini", None, None),
             ("KITTI object frame (.bin)", REALDATA / "kitti_object" / "training", None, "0")]
    for label, path, scene, frames in cases:
        if path.exists():
            try:
                bench(label, path, args.repo, args.repeats, scene, frames)
            except subprocess.CalledProcessError as e:
                print(f"{label:<34} not imported: {e.stderr.strip().splitlines()[-1]}")
        else:
            print(f"{label:<34} skipped: {path} not found")


if __name__ == "__main__":
    main()
