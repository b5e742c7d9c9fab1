"""Ego poses from the sweeps (fusionlabel.assist.odometry) and `fusionlabel import --estimate-poses`:
simulated drives against their true poses (10 Hz and 2 Hz, straight and turning), a synthetic
street corridor with a car driving alongside, the real SUSTech sequence (objects that do not move
must stay put in the world frame), and the CLI."""

from __future__ import annotations

import numpy as np
import pytest

from fusionlabel.assist.odometry import (
    OdometryConfig,
    estimate_poses,
    match_pair,
    planar,
    pose2d,
    static_tracks,
    structure,
)
from fusionlabel.geometry.transforms import transform_points


def turned(points: np.ndarray, yaw: float) -> np.ndarray:
    """The sweep the sensor would see turned by ``yaw`` about its z axis."""
    out = points.copy()
    out[:, :3] = transform_points(pose2d(0.0, 0.0, -yaw), points[:, :3])
    return out


def simulated(seed: int, n_frames: int, every: int, yaw_rate: float = 0.0):
    """(sweeps, times in s, true T_world_lidar relative to the first frame) of a simulated drive."""
    from fusionlabel.sim.scenario import build_scenario
    from fusionlabel.sim.simulator import Simulator

    sim = Simulator(build_scenario(seed, n_frames), points=60_000, cameras=False)
    idx = list(range(0, n_frames, every))
    times = [float(sim.scenario.times[i]) for i in idx]
    sweeps = [turned(sim.frame(i).points, yaw_rate * t) for i, t in zip(idx, times)]
    truth = [sim.T_world_lidar(i) @ pose2d(0, 0, yaw_rate * t) for i, t in zip(idx, times)]
    first = np.linalg.inv(truth[0])
    return sweeps, times, [first @ T for T in truth]


def errors(truth, estimate) -> tuple[float, float, float]:
    """(largest position error, largest yaw error in degrees, distance travelled)."""
    err = [np.linalg.inv(g) @ e for g, e in zip(truth, estimate)]
    travel = sum(float(np.hypot(*(b[:2, 3] - a[:2, 3]))) for a, b in zip(truth, truth[1:]))
    return (max(float(np.hypot(*E[:2, 3])) for E in err), max(abs(np.degrees(planar(E)[2])) for E in err), travel)


@pytest.mark.parametrize("every, yaw_rate", [(5, 0.0), (5, np.radians(12.0)), (1, np.radians(6.0))],
                         ids=["2Hz-straight", "2Hz-turning", "10Hz-turning"])
def test_simulated_drive_follows_true_poses(every, yaw_rate):
    n = 30 if every == 5 else 12
    sweeps, times, truth = simulated(12, n, every, yaw_rate)
    od = estimate_poses(sweeps, times)
    assert od.ok, [p.text() for p in od.failed]
    trans, yaw, travel = errors(truth, od.T_world_lidar)
    assert travel > 8.0
    assert trans < 0.005 * travel, f"{trans:.3f} m over {travel:.1f} m"
    assert yaw < 0.1
    assert min(p.inliers for p in od.pairs) > 0.5


def test_global_search_finds_a_long_motion_without_a_guess():
    """Two sweeps 1.5 s apart (over 10 m): the correlative search finds the motion from identity."""
    sweeps, _, truth = simulated(13, 16, 15)
    src, dst = structure(sweeps[1]), structure(sweeps[0])
    m = match_pair(src, dst, (0.0, 0.0, 0.0), search=25.0, yaw_search=np.radians(20))
    x, y, yaw = planar(truth[1])
    assert np.hypot(x, y) > 10.0
    assert m.ok and np.hypot(m.pose[0] - x, m.pose[1] - y) < 0.1 and abs(m.pose[2] - yaw) < np.radians(0.2)


# ------------------------------------------------------------------------------ a synthetic corridor
def _box_surface(cx: float, cy: float, length: float, width: float, height: float, z0: float) -> np.ndarray:
    step = 0.08
    xs, ys = np.arange(-length / 2, length / 2, step), np.arange(-width / 2, width / 2, step)
    zs = np.arange(0, height, step)
    X, Z = np.meshgrid(xs, zs)
    side = np.c_[X.ravel(), np.full(X.size, -width / 2), Z.ravel()]
    Y, Z2 = np.meshgrid(ys, zs)
    end = np.c_[np.full(Y.size, -length / 2), Y.ravel(), Z2.ravel()]
    X3, Y3 = np.meshgrid(xs, ys)
    top = np.c_[X3.ravel(), Y3.ravel(), np.full(X3.size, height)]
    p = np.vstack([side, side * [1, -1, 1], end, end * [-1, 1, 1], top])
    return p + [cx, cy, z0]


def corridor(poles: bool, car: bool, step: float = 5.0, n: int = 4) -> list[np.ndarray]:
    """Sweeps of an ego driving ``step`` metres per frame between two long walls, with irregular
    poles or without, and with a car keeping pace 3.5 m to its right or without."""
    rng = np.random.default_rng(0)
    x = np.arange(-80, 120, 0.1)
    parts = [np.c_[x, np.full(x.size, y), np.full(x.size, z)] for y in (-9.0, 9.0) for z in np.arange(0, 5, 0.3)]
    if poles:
        a = np.linspace(0, 2 * np.pi, 12, endpoint=False)
        for px, py in [(-30, -7), (-11, 7), (3, -7), (17, 7), (26, -7), (41, 7), (58, -7), (70, 7), (-48, 7)]:
            parts += [np.c_[px + 0.15 * np.cos(a), py + 0.15 * np.sin(a), np.full(12, z)] for z in np.arange(0, 4, 0.2)]
    world = np.vstack(parts) - [0, 0, 1.7]
    out = []
    for k in range(n):
        p = world - [step * k, 0, 0]
        g = rng.uniform([-45, -9], [45, 9], (40000, 2))
        p = np.vstack([p, np.c_[g, np.full(len(g), -1.7)]])
        if car:
            p = np.vstack([p, _box_surface(0.0, -3.5, 4.5, 1.8, 1.5, -1.7)])
        p = p[np.hypot(p[:, 0], p[:, 1]) < 60]
        p = p + rng.normal(0, 0.01, p.shape)
        out.append(np.c_[p, np.zeros(len(p))].astype(np.float32))
    return out


def test_car_keeping_pace_does_not_hold_the_ego_still():
    sweeps = corridor(poles=True, car=True)
    times = [0.0, 0.5, 1.0, 1.5]
    od = estimate_poses(sweeps, times)
    assert np.allclose([T[0, 3] for T in od.T_world_lidar], [0, 5, 10, 15], atol=0.1)
    assert np.allclose([T[1, 3] for T in od.T_world_lidar], 0, atol=0.05)
    # the same car left in: its match at zero motion competes with the poles' and is not trusted
    kept = estimate_poses(sweeps, times, OdometryConfig(remove_movable=False))
    assert not any(p.ok for p in kept.pairs)


def test_a_corridor_of_bare_walls_is_not_trusted():
    od = estimate_poses(corridor(poles=False, car=False), [0.0, 0.5, 1.0, 1.5])
    assert od.pairs and not any(p.ok for p in od.pairs)
    assert all("constrain" in p.reason or "ambiguous" in p.reason for p in od.pairs)


def test_static_tracks_found_from_mutual_distances():
    rng = np.random.default_rng(1)
    fixed = {f"s{i}": rng.uniform(-30, 30, 2) for i in range(4)}
    motion = [pose2d(2.0 * k, 0.3 * k, 0.05 * k) for k in range(4)]
    centres = {t: np.array([(np.linalg.inv(T) @ np.r_[c, 0, 1])[:2] for T in motion]) for t, c in fixed.items()}
    centres["moving"] = np.array([(np.linalg.inv(T) @ np.r_[5 + 3 * k, 1, 0, 1])[:2] for k, T in enumerate(motion)])
    assert static_tracks(centres) == ["s0", "s1", "s2", "s3"]


def test_times_must_increase():
    with pytest.raises(ValueError, match="increase"):
        estimate_poses([np.zeros((0, 4), np.float32)] * 2, [1.0, 1.0])


# ------------------------------------------------------------------------------ real SUSTech sequence
@pytest.fixture(scope="module")
def sustech(realdata):
    from fusionlabel.qa.datasets import sustech_frames

    root = realdata / "sustech_sequence"
    if not (root / "lidar").is_dir():
        pytest.skip(f"SUSTech sequence not found at {root}")
    return root, list(sustech_frames(root))


def test_sustech_objects_that_do_not_move_stay_put(sustech):
    _, frames = sustech
    od = estimate_poses([p for p, _ in frames], [int(f.frame_id) * 0.1 for _, f in frames])
    assert od.ok, [p.text() for p in od.failed]
    tracks: dict[str, dict[int, np.ndarray]] = {}
    for k, (_, f) in enumerate(frames):
        for lab in f.gt:
            tracks.setdefault(lab.track_id, {})[k] = np.asarray(lab.box.center, np.float64)
    whole = {t: v for t, v in tracks.items() if len(v) == len(frames)}
    static = static_tracks({t: np.array([v[k][:2] for k in range(len(frames))]) for t, v in whole.items()})
    assert "54" in static and len(static) >= 4          # the parked motorbike and the parked cars
    for t in static:
        world = np.array([(od.T_world_lidar[k] @ np.r_[whole[t][k], 1])[:2] for k in range(len(frames))])
        raw = np.array([whole[t][k][:2] for k in range(len(frames))])
        spread = np.linalg.norm(world - world.mean(0), axis=1).max()
        assert spread < 0.3, (t, spread)
        assert np.linalg.norm(raw - raw.mean(0), axis=1).max() > 10 * spread


# ------------------------------------------------------------------------------ the CLI
def _posefree_drive(root, every: int = 5, n: int = 20):
    """A native drive of simulated sweeps with every ego pose the identity (as an import of a
    recording without poses gives)."""
    from fusionlabel.io.native import NativeDriveWriter
    from fusionlabel.sim.rig import default_rig
    from fusionlabel.sim.scenario import build_scenario
    from fusionlabel.sim.simulator import Simulator

    sim = Simulator(build_scenario(14, n), points=60_000, cameras=False)
    with NativeDriveWriter(root, default_rig(), "posefree", sweep_format="pcd") as w:
        for i in range(0, n, every):
            f = sim.frame(i)
            w.add_frame(f.frame_id, f.timestamp_us, np.eye(4), f.points, {}, [])
    first = np.linalg.inv(sim.T_world_vehicle(0))
    return [first @ sim.T_world_vehicle(i) for i in range(0, n, every)]


def test_cli_writes_estimated_poses_and_refuses_drives_with_poses(tmp_path, capsys):
    from fusionlabel.cli.main import main
    from fusionlabel.io.native import open_native_drive

    truth = _posefree_drive(tmp_path / "src")
    assert main(["import", str(tmp_path / "src"), "--out", str(tmp_path / "out"), "--estimate-poses", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.count("inliers") == len(truth) - 1 and "estimated ego poses for 4 frames" in out
    drive = open_native_drive(tmp_path / "out")
    got = [f.T_world_vehicle for f in drive.frames]
    for g, e in zip(truth, got):
        assert np.hypot(*(g[:2, 3] - e[:2, 3])) < 0.1
        assert abs(planar(np.linalg.inv(g) @ e)[2]) < np.radians(0.2)
    # the written drive now has poses: estimating again is refused, and nothing is written
    assert main(["import", str(tmp_path / "out"), "--out", str(tmp_path / "again"), "--estimate-poses",
                 "--quiet"]) == 2
    assert "already has ego poses" in capsys.readouterr().err
    assert not (tmp_path / "again").exists()


def test_cli_estimates_poses_from_sweeps_with_nonfinite_points(tmp_path, capsys):
    """Organised clouds mark missing returns with NaN: --drop-nonfinite lets the odometry use the rest."""
    from fusionlabel.cli.main import main
    from fusionlabel.io.native import open_native_drive
    from fusionlabel.io.pcd import write_points_pcd
    from fusionlabel.io.pointcloud import read_points

    truth = _posefree_drive(tmp_path / "src", n=10)
    for sweep in sorted((tmp_path / "src" / "lidar").glob("*.pcd")):
        pts = read_points(sweep)
        holes = np.full((5000, pts.shape[1]), np.nan, np.float32)
        write_points_pcd(sweep, np.concatenate([holes[:2500], pts, holes[2500:]]))
    assert main(["import", str(tmp_path / "src"), "--out", str(tmp_path / "x"), "--estimate-poses", "--quiet"]) == 2
    assert "non-finite" in capsys.readouterr().err
    assert main(["import", str(tmp_path / "src"), "--out", str(tmp_path / "out"), "--estimate-poses",
                 "--drop-nonfinite", "--quiet"]) == 0
    assert "left out 10000 non-finite points in 2 of 2 sweeps" in capsys.readouterr().out
    got = [f.T_world_vehicle for f in open_native_drive(tmp_path / "out").frames]
    for g, e in zip(truth, got):
        assert np.hypot(*(g[:2, 3] - e[:2, 3])) < 0.1


def test_cli_refuses_when_a_pair_does_not_match(tmp_path, capsys):
    from fusionlabel.cli.main import main
    from fusionlabel.io.native import NativeDriveWriter
    from fusionlabel.sim.rig import default_rig

    with NativeDriveWriter(tmp_path / "src", default_rig(), "walls", sweep_format="pcd") as w:
        for k, p in enumerate(corridor(poles=False, car=False, n=2)):
            w.add_frame(f"{k:06d}", 1_000_000 + 500_000 * k, np.eye(4), p, {}, [])
    assert main(["import", str(tmp_path / "src"), "--out", str(tmp_path / "out"), "--estimate-poses", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "ego poses not written" in err and "did not match reliably" in err and "\n" not in err.strip()
    assert not (tmp_path / "out").exists()


def test_cli_refuses_kitti_object_frames_which_have_no_times(small_sim_drive, tmp_path, capsys):
    """KITTI object frames carry no capture times (import gives them n x 100 ms): they are not known
    to be a sequence, so --estimate-poses is refused in one line; plain import still works."""
    from fusionlabel.cli.main import main

    kitti = tmp_path / "kitti"
    assert main(["export", str(small_sim_drive.root), "--format", "kitti", "--out", str(kitti), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["import", str(kitti), "--out", str(tmp_path / "out"), "--estimate-poses", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "no capture times" in err and "not known to be a sequence" in err and "\n" not in err.strip()
    assert not (tmp_path / "out").exists()
    assert main(["import", str(kitti), "--out", str(tmp_path / "plain"), "--quiet"]) == 0


def test_cli_refuses_a_wrong_out_before_estimating_poses(tmp_path, capsys):
    """An --out import refuses (inside the source drive, a file, a folder holding other files) is
    refused at once, not after the poses of every frame were estimated (about a second a frame on
    real sweeps: minutes on a long drive spent for nothing)."""
    from fusionlabel.cli.main import main

    _posefree_drive(tmp_path / "src")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    (tmp_path / "file").write_text("a file")
    for out, said in ((tmp_path / "src" / "inner", "inside the source drive"),
                      (tmp_path / "busy", "not empty"), (tmp_path / "file", "is a file")):
        assert main(["import", str(tmp_path / "src"), "--out", str(out), "--estimate-poses"]) == 2
        got = capsys.readouterr()
        assert said in got.err and "--out" in got.err, got.err
        assert "estimate poses" not in got.err and "inliers" not in got.out and "estimated ego poses" not in got.out
    assert not (tmp_path / "src" / "inner").exists() and (tmp_path / "busy" / "notes.txt").read_text() == "mine"
