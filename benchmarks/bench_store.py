"""Project store speed: committed edits per second (synchronous=FULL) and reopening a big project.

Prints:
  * edits/s for single-cuboid commands (SetBox, CreateCuboid), undo and redo, each one SQLite
    transaction in WAL mode with synchronous=FULL (and, for context, with synchronous=NORMAL);
  * latency percentiles of one SetBox edit (what a key press costs);
  * the time to reopen a project holding N annotations made by N separate commands (lock,
    database, drive fingerprint, document with its undo history), and the first undo after it.

Usage: python benchmarks/bench_store.py [--annotations 10000] [--edits 2000] [--dir TMP]
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fusionlabel.geometry.cuboid import Cuboid  # noqa: E402
from fusionlabel.model.annotation import CuboidLabel  # noqa: E402
from fusionlabel.model.commands import Batch, CreateCuboid, SetBox  # noqa: E402
from fusionlabel.store import Project  # noqa: E402
from fusionlabel.store.fake_drive import make_fake_drive  # noqa: E402

CLASSES = ("car", "van", "truck", "pedestrian", "cyclist")


def label(rng: np.random.Generator) -> CuboidLabel:
    return CuboidLabel(Cuboid(rng.uniform(-40, 40, 3), rng.uniform(0.5, 5, 3), rng.uniform(-math.pi, math.pi)),
                       CLASSES[rng.integers(len(CLASSES))])


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:8.0f} /s  ({1000 * seconds / n:.2f} ms each)"


def bench_edits(folder: Path, drive: Path, n: int, synchronous: str) -> None:
    rng = np.random.default_rng(1)
    with Project.create(folder, drive) as p:
        p.store._con.execute(f"PRAGMA synchronous={synchronous}")
        doc = p.document
        t = time.perf_counter()
        uids = [doc.apply(CreateCuboid(int(rng.integers(len(p.drive))), label(rng))).uid for _ in range(n)]
        t_create = time.perf_counter() - t
        lat = []
        t = time.perf_counter()
        for uid in uids:
            box = doc.get(uid).box
            t0 = time.perf_counter()
            doc.apply(SetBox(uid, box.with_(yaw=box.yaw + 0.01), "Rotate"))
            lat.append(time.perf_counter() - t0)
        t_set = time.perf_counter() - t
        t = time.perf_counter()
        for _ in range(n):
            doc.undo()
        t_undo = time.perf_counter() - t
        t = time.perf_counter()
        for _ in range(n):
            doc.redo()
        t_redo = time.perf_counter() - t
    lat_ms = 1000 * np.asarray(lat)
    print(f"synchronous={synchronous}, {n} edits of each kind:")
    print(f"  create   {rate(n, t_create)}")
    print(f"  set_box  {rate(n, t_set)}   latency p50 {np.percentile(lat_ms, 50):.2f} ms, "
          f"p99 {np.percentile(lat_ms, 99):.2f} ms, max {lat_ms.max():.2f} ms")
    print(f"  undo     {rate(n, t_undo)}")
    print(f"  redo     {rate(n, t_redo)}")


def bench_reopen(folder: Path, drive: Path, n: int) -> None:
    rng = np.random.default_rng(2)
    with Project.create(folder, drive) as p:
        p.store._con.execute("PRAGMA synchronous=OFF")   # only to build the fixture quickly
        doc = p.document
        t = time.perf_counter()
        for _ in range(n):
            doc.apply(CreateCuboid(int(rng.integers(len(p.drive))), label(rng)))
        t_build = time.perf_counter() - t
    db_mb = sum(f.stat().st_size for f in folder.glob("project.sqlite*")) / 1e6
    times = []
    for _ in range(3):
        t = time.perf_counter()
        p = Project.open(folder)
        times.append(time.perf_counter() - t)
        assert len(p.document) == n and len(p.document.history()) == n
        t = time.perf_counter()
        p.document.undo()
        t_undo = time.perf_counter() - t
        p.document.redo()
        p.close()
    print(f"reopen a project of {n} annotations made by {n} commands ({db_mb:.1f} MB on disk, built in "
          f"{t_build:.1f} s):")
    print(f"  Project.open  best {1000 * min(times):.0f} ms, worst {1000 * max(times):.0f} ms "
          f"(lock, database, drive fingerprint, document and history)")
    print(f"  first undo after reopening  {1000 * t_undo:.1f} ms")

    with Project.create(folder.with_name("batch"), drive) as p:
        t = time.perf_counter()
        p.document.apply(Batch(tuple(CreateCuboid(int(rng.integers(len(p.drive))), label(rng)) for _ in range(n)),
                               "Import"))
        t_batch = time.perf_counter() - t
    t = time.perf_counter()
    with Project.open(folder.with_name("batch")) as p:
        t_open = time.perf_counter() - t
        t = time.perf_counter()
        p.document.undo()
        t_undo = time.perf_counter() - t
    print(f"one command creating {n} annotations (an import): apply {1000 * t_batch:.0f} ms, "
          f"reopen {1000 * t_open:.0f} ms, undo {1000 * t_undo:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--annotations", type=int, default=10_000)
    parser.add_argument("--edits", type=int, default=2000)
    parser.add_argument("--dir", type=Path, default=None, help="where to put the projects (default: a temp dir)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench_store_", dir=args.dir))
    try:
        drive = make_fake_drive(root / "drive", 200, n_points=100)
        print(f"projects under {root}")
        bench_edits(root / "full", drive, args.edits, "FULL")
        bench_edits(root / "normal", drive, args.edits, "NORMAL")
        bench_reopen(root / "big", drive, args.annotations)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
