"""Throughput of LiDAR -> camera projection (fusionlabel.geometry.projection.project_points).

Prints best-of-N warm timings, in ms and million points per second (points x cameras), for:
  * a real KITTI sweep into its left colour camera (when the real data is present), and
  * 1M random float32 points (x, y uniform in [-40, 40] m, z in [-3, 5] m, plus a full
    80 m cube) into 6 cameras 60 degrees apart (2 pinhole, 2 radtan, 2 fisheye),
for the numba path, the NumPy path and a naive homogeneous-matrix NumPy baseline.

Usage: python benchmarks/bench_projection.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fusionlabel.geometry.cameras import FisheyeCamera, PinholeCamera, RadTanCamera  # noqa: E402
from fusionlabel.geometry.projection import (  # noqa: E402
    numba_available,
    project_points_numba,
    project_points_numpy,
)
from fusionlabel.geometry.transforms import T_from_Rt, invert_T, rotation_z  # noqa: E402

# Camera axes (x right, y down, z forward) expressed in a vehicle frame (x forward, y left, z up).
R_VEHICLE_CAM_FORWARD = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])


def best_ms(fn, repeats: int) -> float:
    fn()  # warm-up (numba compile or cache load, page faults)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def naive_numpy(points, T_cam_lidar, camera, near=0.1):
    """Baseline: homogeneous 4x4 product on every point, then project every point."""
    hom = np.column_stack([points[:, :3].astype(np.float64), np.ones(len(points))])
    proj = camera.project((hom @ T_cam_lidar.T)[:, :3], near)
    keep = np.flatnonzero(proj.in_image)
    return keep, proj.uv[keep].astype(np.float32), proj.depth[keep].astype(np.float32)


def ring_of_cameras():
    """6 cameras at 1.6 m height, yaw 0, 60, ..., 300 degrees; returns [(name, camera, T_cam_lidar)]."""
    cameras = [
        PinholeCamera(1600, 900, 1260.0, 1260.0, 800.0, 450.0),
        RadTanCamera(1600, 900, 1260.0, 1260.0, 800.0, 450.0, (-0.3, 0.1, 1e-3, -5e-4, -0.02)),
        FisheyeCamera(1280, 960, 400.0, 400.0, 640.0, 480.0, (0.05, -0.01, 0.003, -0.0005)),
    ] * 2
    rig = []
    for i, camera in enumerate(cameras):
        yaw = np.radians(60.0 * i)
        R = rotation_z(yaw) @ R_VEHICLE_CAM_FORWARD
        T_vehicle_cam = T_from_Rt(R, [1.0 * np.cos(yaw), 1.0 * np.sin(yaw), 1.6])
        T_vehicle_lidar = T_from_Rt(np.eye(3), [0.0, 0.0, 1.8])
        rig.append((f"{camera.model}@{60 * i}deg", camera, invert_T(T_vehicle_cam) @ T_vehicle_lidar))
    return rig


def report(label: str, n_points: int, n_cameras: int, ms: float) -> None:
    print(f"  {label:<28s} {ms:8.2f} ms   {n_points * n_cameras / ms / 1e3:8.1f} Mpts/s")


def bench_ring(points: np.ndarray, title: str, repeats: int, use_numba: bool) -> None:
    rig = ring_of_cameras()
    print(f"\n{title}: {len(points):,} points x {len(rig)} cameras")
    counts = [len(project_points_numpy(points, T, cam).index) for _, cam, T in rig]
    print("  visible per camera: " + ", ".join(f"{n}={c:,}" for (n, _, _), c in zip(rig, counts)))
    if use_numba:
        report("numba (all 6 cameras)", len(points), len(rig),
               best_ms(lambda: [project_points_numba(points, T, cam) for _, cam, T in rig], repeats))
        for name, cam, T in rig[:3]:
            report(f"  numba {name}", len(points), 1, best_ms(lambda: project_points_numba(points, T, cam), repeats))
    report("numpy (all 6 cameras)", len(points), len(rig),
           best_ms(lambda: [project_points_numpy(points, T, cam) for _, cam, T in rig], max(3, repeats // 3)))
    report("naive numpy 4x4 (all 6)", len(points), len(rig),
           best_ms(lambda: [naive_numpy(points, T, cam) for _, cam, T in rig], max(3, repeats // 3)))


def bench_kitti(repeats: int, use_numba: bool) -> None:
    root = Path(os.environ.get("FUSIONLABEL_REALDATA", "/work/shared/realdata")) / "kitti_object" / "training"
    velo, calib_path = root / "velodyne" / "000001.bin", root / "calib" / "000001.txt"
    if not (velo.is_file() and calib_path.is_file()):
        print(f"\nKITTI sample not found under {root}; skipping the real sweep")
        return
    points = np.fromfile(velo, dtype=np.float32).reshape(-1, 4)
    calib = {}
    for line in calib_path.read_text().splitlines():
        if ":" in line:
            key, values = line.split(":", 1)
            calib[key.strip()] = np.array([float(v) for v in values.split()])
    P2 = calib["P2"].reshape(3, 4)
    R0 = np.eye(4)
    R0[:3, :3] = calib["R0_rect"].reshape(3, 3)
    Tr = np.vstack([calib["Tr_velo_to_cam"].reshape(3, 4), [0.0, 0.0, 0.0, 1.0]])
    K = P2[:, :3]
    camera = PinholeCamera(1242, 375, K[0, 0], K[1, 1], K[0, 2], K[1, 2])
    T_cam_velo = T_from_Rt(np.eye(3), np.linalg.solve(K, P2[:, 3])) @ R0 @ Tr
    visible = len(project_points_numpy(points, T_cam_velo, camera).index)
    print(f"\nKITTI {velo.name}: {len(points):,} points x 1 camera ({visible:,} visible)")
    if use_numba:
        report("numba", len(points), 1, best_ms(lambda: project_points_numba(points, T_cam_velo, camera), repeats))
    report("numpy", len(points), 1, best_ms(lambda: project_points_numpy(points, T_cam_velo, camera), repeats))
    report("naive numpy 4x4", len(points), 1, best_ms(lambda: naive_numpy(points, T_cam_velo, camera), repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15, help="timed runs per case (best is reported)")
    parser.add_argument("--points", type=int, default=1_000_000)
    args = parser.parse_args()

    t0 = time.perf_counter()
    use_numba = numba_available()
    if use_numba:
        import numba

        project_points_numba(np.zeros((1, 4), np.float32), np.eye(4), PinholeCamera(10, 10, 5, 5, 5, 5))
        print(f"numba {numba.__version__}: import + first call (compile or cache load) "
              f"{(time.perf_counter() - t0) * 1e3:.0f} ms, threads={numba.get_num_threads()}, "
              f"layer={numba.threading_layer()}")
    else:
        print("numba not available: NumPy path only")
    print(f"cpus: {os.cpu_count()}, numpy {np.__version__}, load average {os.getloadavg()[0]:.2f} "
          "(other processes on these cores inflate the figures)")

    bench_kitti(args.repeats, use_numba)
    rng = np.random.default_rng(0)
    n = args.points
    flat = np.column_stack([rng.uniform(-40, 40, (n, 2)), rng.uniform(-3, 5, n), rng.uniform(0, 1, n)])
    bench_ring(flat.astype(np.float32), "Random street-like cloud (x, y in +-40 m, z in [-3, 5] m)",
               args.repeats, use_numba)
    cube = rng.uniform(-40, 40, (n, 4)).astype(np.float32)
    bench_ring(cube, "Random 80 m cube", args.repeats, use_numba)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
