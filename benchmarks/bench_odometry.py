"""Ego poses from the sweeps (fusionlabel.assist.odometry): accuracy on simulated drives against
their true poses, at 10 Hz and at 2 Hz (every 5th frame), straight and with a yaw rate added by
turning each sweep about the sensor; and on the real SUSTech sequence, how far objects that do
not move (found without poses, by their constant mutual distances) spread in the world frame
with the estimated poses and with none. Prints markdown tables (docs/import_export.md).

    .venv/bin/python benchmarks/bench_odometry.py [--only sim,sustech] [--sim-seeds 11,12,13]
        [--frames 30] [--realdata DIR]

Real data comes from FUSIONLABEL_REALDATA (default ../shared/realdata); missing sets are skipped.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fusionlabel.assist.odometry import OdometryConfig, estimate_poses, planar, pose2d, static_tracks  # noqa: E402
from fusionlabel.geometry.transforms import transform_points  # noqa: E402


def turned(points: np.ndarray, yaw: float) -> np.ndarray:
    """A sweep as the sensor would see it turned by ``yaw`` about its own z axis."""
    out = points.copy()
    out[:, :3] = transform_points(pose2d(0.0, 0.0, -yaw), points[:, :3])
    return out


def sim_run(seed: int, n_frames: int, every: int, yaw_rate: float, cfg: OdometryConfig) -> dict:
    from fusionlabel.sim.scenario import build_scenario
    from fusionlabel.sim.simulator import Simulator

    sim = Simulator(build_scenario(seed, n_frames), points=120_000, cameras=False)
    idx = list(range(0, n_frames, every))
    times = [sim.scenario.times[i] for i in idx]
    sweeps = [turned(sim.frame(i).points, yaw_rate * t) for i, t in zip(idx, times)]
    truth = [sim.T_world_lidar(i) @ pose2d(0, 0, yaw_rate * t) for i, t in zip(idx, times)]
    t0 = time.perf_counter()
    od = estimate_poses(sweeps, times, cfg)
    seconds = (time.perf_counter() - t0) / len(idx)
    first = np.linalg.inv(truth[0])
    gt = [first @ T for T in truth]
    travel = float(sum(np.hypot(*(b[:2, 3] - a[:2, 3])) for a, b in zip(gt, gt[1:])))
    err = [np.linalg.inv(g) @ e for g, e in zip(gt, od.T_world_lidar)]
    trans = max(float(np.hypot(*E[:2, 3])) for E in err)
    yaw = max(abs(planar(E)[2]) for E in err)
    return {"travel": travel, "trans": trans, "yaw": np.degrees(yaw), "seconds": seconds,
            "inliers": min(p.inliers for p in od.pairs), "flagged": len(od.failed), "pairs": len(od.pairs)}


def bench_sim(seeds: list[int], n_frames: int) -> None:
    print("\n### Simulated drives (ground-truth poses)\n")
    print("Largest error of any frame's pose along the drive (first frame = world); per metre = that "
          "error over the distance travelled.\n")
    print("| seed | rate | yaw rate | travelled | max position error | per metre | max yaw error | "
          "lowest inlier share | flagged pairs | s/frame |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    cfg = OdometryConfig()
    worst: dict[str, float] = {}
    for seed in seeds:
        for every, rate in ((1, "10 Hz"), (5, "2 Hz")):
            for yaw_rate in (0.0, np.radians(10.0)):
                r = sim_run(seed, n_frames, every, yaw_rate, cfg)
                per_m = r["trans"] / max(r["travel"], 1e-9)
                worst[rate] = max(worst.get(rate, 0.0), per_m)
                print(f"| {seed} | {rate} | {np.degrees(yaw_rate):.0f} deg/s | {r['travel']:.1f} m | "
                      f"{r['trans'] * 100:.1f} cm | {per_m:.2%} | {r['yaw']:.3f} deg | {r['inliers']:.0%} | "
                      f"{r['flagged']}/{r['pairs']} | {r['seconds']:.2f} |")
    print("\nworst per metre: " + ", ".join(f"{k} {v:.2%}" for k, v in worst.items()))


def bench_sustech(realdata: Path) -> None:
    from fusionlabel.qa.datasets import sustech_frames

    root = realdata / "sustech_sequence"
    if not (root / "lidar").is_dir():
        print(f"\n(SUSTech sequence not found at {root}; skipped)")
        return
    frames = list(sustech_frames(root))
    times = [int(f.frame_id) * 0.1 for _, f in frames]
    t0 = time.perf_counter()
    od = estimate_poses([p for p, _ in frames], times)
    seconds = time.perf_counter() - t0
    print(f"\n### SUSTech example sequence ({len(frames)} frames, "
          f"{', '.join(f.frame_id for _, f in frames)}; {seconds:.1f} s)\n")
    for p in od.pairs:
        print(f"- pair {p.text()}")
    tracks: dict[str, dict[int, tuple]] = {}
    for k, (_, f) in enumerate(frames):
        for lab in f.gt:
            tracks.setdefault(lab.track_id, {})[k] = (np.asarray(lab.box.center, np.float64), lab.label)
    whole = {t: v for t, v in tracks.items() if len(v) == len(frames)}
    static = static_tracks({t: np.array([v[k][0][:2] for k in range(len(frames))]) for t, v in whole.items()})
    print(f"\nObjects that do not move (labelled in every frame, mutual distances constant within 0.3 m): "
          f"{', '.join(f'{whole[t][0][1]} {t}' for t in static)}.\n")
    print("| object | spread, estimated poses | spread, no poses |")
    print("|---|---|---|")

    def spread(xy: np.ndarray) -> float:
        return float(np.max(np.linalg.norm(xy - xy.mean(0), axis=1)))

    for t in static:
        est = np.array([(od.T_world_lidar[k] @ np.r_[whole[t][k][0], 1.0])[:2] for k in range(len(frames))])
        raw = np.array([whole[t][k][0][:2] for k in range(len(frames))])
        print(f"| {whole[t][0][1]} {t} | {spread(est):.2f} m | {spread(raw):.2f} m |")
    print("\n(spread = largest distance of a frame's world position from the mean of all frames)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="sim,sustech")
    ap.add_argument("--sim-seeds", default="11,12,13")
    ap.add_argument("--frames", type=int, default=30)
    ap.add_argument("--realdata", type=Path,
                    default=Path(os.environ.get("FUSIONLABEL_REALDATA", REPO.parent / "shared" / "realdata")))
    args = ap.parse_args(argv)
    only = set(args.only.split(","))
    print("## Ego poses from the sweeps (odometry)")
    if "sim" in only:
        bench_sim([int(s) for s in args.sim_seeds.split(",")], args.frames)
    if "sustech" in only:
        bench_sustech(args.realdata)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
