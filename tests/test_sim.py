"""The simulator: ground truth agrees with the rendered masks and the LiDAR hits; determinism."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("open3d")

from fusionlabel.cli.main import main as cli_main  # noqa: E402
from fusionlabel.geometry.cuboid import EDGES, points_in_cuboid  # noqa: E402
from fusionlabel.geometry.transforms import angle_difference, transform_points  # noqa: E402
from fusionlabel.sim.rig import default_rig  # noqa: E402
from fusionlabel.sim.scenario import build_scenario  # noqa: E402
from fusionlabel.sim.simulator import Simulator  # noqa: E402
from fusionlabel.sim.writer import simulate_drive  # noqa: E402

SEED = 4
N_FRAMES = 4
CAMERA_SCALE = 0.5
MIN_SIDE_PX = 20          # below this the 1-pixel quantisation of the mask dominates the IoU
MAX_SPEED = {"car": 20.0, "van": 20.0, "truck": 16.0, "bus": 16.0, "cyclist": 9.0, "pedestrian": 2.5}


@pytest.fixture(scope="module")
def sim():
    return Simulator(build_scenario(SEED, N_FRAMES), default_rig(CAMERA_SCALE), points=60_000)


@pytest.fixture(scope="module")
def frames(sim):
    return [sim.frame(i) for i in range(N_FRAMES)]


def _box_outline(box, per_edge: int = 40) -> np.ndarray:
    """Points along the 12 edges of a cuboid, (12 * per_edge, 3)."""
    corners = box.corners()
    u = np.linspace(0.0, 1.0, per_edge)[:, None]
    return np.concatenate([corners[a] * (1 - u) + corners[b] * u for a, b in EDGES])


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area


def _mesh_outline(mesh, per_edge: int = 6) -> np.ndarray:
    """Points along every triangle edge of a mesh (silhouettes bend under lens distortion)."""
    tri = mesh.vertices[mesh.triangles]
    u = np.linspace(0.0, 1.0, per_edge)[:, None, None]
    return np.concatenate([(tri[:, a] * (1 - u) + tri[:, b] * u).reshape(-1, 3) for a, b in ((0, 1), (1, 2), (2, 0))])


def test_projected_cuboids_land_on_the_object_masks(sim, frames):
    """For objects fully in view, not occluded and >= MIN_SIDE_PX, in every camera (radtan, fisheye,
    pinhole): the mask's bounding rectangle lies inside the projected GT cuboid's rectangle, and the
    object's shape placed by the GT cuboid (centre, yaw) projects onto the mask's rectangle with
    IoU >= 0.9. (The cuboid's own rectangle is larger than a car's or a pedestrian's silhouette at
    close range, since the box corners are empty space, so its plain IoU is not a sharp test.)"""
    rig = sim.rig
    checked = {c: 0 for c in rig.camera_names}
    for f in frames:
        for cam_name in rig.camera_names:
            cam = rig.camera(cam_name).camera
            T_cam_lidar = rig.T_cam_lidar(cam_name)
            for lab in f.labels:
                proj = cam.project(transform_points(T_cam_lidar, _box_outline(lab.box)))
                if not proj.in_image.all():
                    continue  # not fully in view
                tid = int(lab.track_id)
                visible = f.masks[cam_name] == tid
                alone = sim.object_coverage(f.index, cam_name, tid)
                if alone.sum() == 0 or visible.sum() < 0.98 * alone.sum():
                    continue  # occluded
                box_rect = (*proj.uv.min(axis=0), *proj.uv.max(axis=0))
                if min(box_rect[2] - box_rect[0], box_rect[3] - box_rect[1]) < MIN_SIDE_PX:
                    continue
                v, u = np.nonzero(visible)
                mask_rect = (u.min() - 0.5, v.min() - 0.5, u.max() + 0.5, v.max() + 0.5)
                where = f"frame {f.frame_id} {cam_name} track {tid} ({lab.label})"
                assert mask_rect[0] >= box_rect[0] - 1 and mask_rect[1] >= box_rect[1] - 1, where
                assert mask_rect[2] <= box_rect[2] + 1 and mask_rect[3] <= box_rect[3] + 1, where
                shape = transform_points(T_cam_lidar @ lab.box.T_frame_box(), _mesh_outline(sim.agents[tid].mesh))
                shape_uv = cam.project(shape).uv
                shape_rect = (*shape_uv.min(axis=0), *shape_uv.max(axis=0))
                iou = _iou(shape_rect, mask_rect)
                assert iou >= 0.9, f"{where}: IoU {iou:.3f} shape {np.round(shape_rect, 1)} mask {mask_rect}"
                checked[cam_name] += 1
    assert all(n >= 2 for n in checked.values()), f"too few unoccluded objects checked: {checked}"


def test_cuboids_are_the_tight_boxes_of_the_shapes(sim):
    for agent in sim.agents.values():
        lo, hi = agent.mesh.bounds()
        np.testing.assert_allclose(lo, -np.asarray(agent.size) / 2, atol=1e-9)
        np.testing.assert_allclose(hi, np.asarray(agent.size) / 2, atol=1e-9)


def test_every_visible_cuboid_holds_its_points_and_only_them(sim, frames):
    for f in frames:
        pts, ids = f.points, f.point_ids
        assert pts.shape == (ids.shape[0], 5) and pts.dtype == np.float32
        for lab in f.labels:
            tid = int(lab.track_id)
            own = ids == tid
            dist = float(np.hypot(*lab.box.center[:2]))
            assert lab.attributes["num_lidar_points"] == int(own.sum())
            inside = points_in_cuboid(pts, lab.box)
            if dist <= 50.0 and own.sum() >= 5:
                # visible: hit by rays; its cuboid must hold (almost all of) its own returns
                assert inside.sum() > 0, f"frame {f.frame_id} track {tid}: visible but no points inside"
                grown = points_in_cuboid(pts[own], lab.box, margin=0.05)
                assert grown.mean() >= 0.95, f"track {tid}: only {grown.mean():.2f} of its points in its box"
            # Points inside a box belong to its agent, except ground returns at the box's bottom.
            foreign = inside & ~own
            if foreign.any():
                local_z = (pts[foreign, :3].astype(np.float64) - lab.box.center) @ lab.box.rotation()[:, 2]
                assert (local_z < -lab.box.height / 2 + 0.05).all(), (
                    f"frame {f.frame_id} track {tid}: {int(foreign.sum())} points of other surfaces inside")
                assert (ids[foreign] == 0).all()


def test_labels_cover_every_agent_within_range(sim, frames):
    for f in frames:
        ids = {int(lab.track_id) for lab in f.labels}
        for tid, (pose, active) in sim._poses.items():
            d = np.hypot(*(pose[f.index, :2] - f.T_world_lidar[:2, 3]))
            if active[f.index] and d < 95.0:
                assert tid in ids


def test_track_ids_are_stable(frames):
    seen: dict[str, tuple] = {}
    for f in frames:
        tids = [lab.track_id for lab in f.labels]
        assert len(tids) == len(set(tids))
        for lab in f.labels:
            key = (lab.label, tuple(np.round(lab.box.size, 9)))
            assert seen.setdefault(lab.track_id, key) == key, f"track {lab.track_id} changed class or size"
    assert len(seen) >= 20


def test_velocities_are_plausible(frames):
    dt = 0.1
    for a, b in zip(frames, frames[1:]):
        ego_v = np.linalg.norm(b.T_world_vehicle[:3, 3] - a.T_world_vehicle[:3, 3]) / dt
        assert 5.0 <= ego_v <= 15.0
        assert (b.timestamp_us - a.timestamp_us) == 100_000
        boxes_a = {lab.track_id: lab for lab in a.labels}
        for lab in b.labels:
            prev = boxes_a.get(lab.track_id)
            if prev is None:
                continue
            wa = transform_points(a.T_world_lidar, np.array([prev.box.center]))[0]
            wb = transform_points(b.T_world_lidar, np.array([lab.box.center]))[0]
            speed = np.linalg.norm((wb - wa)[:2]) / dt
            assert speed <= MAX_SPEED[lab.label], f"track {lab.track_id} ({lab.label}) moves at {speed:.1f} m/s"
            if lab.attributes.get("parked"):
                assert speed < 1e-6
            assert abs(angle_difference(lab.box.yaw, prev.box.yaw)) < 0.5


def test_moving_agents_move_and_several_classes_appear(frames):
    labels = {lab.label for f in frames for lab in f.labels}
    assert {"car", "pedestrian"} <= labels
    assert sum(lab.attributes.get("parked") is False for lab in frames[0].labels) >= 3
    assert sum(lab.attributes.get("pose") == "walking" for lab in frames[0].labels) >= 2


def test_camera_rays_come_from_the_lens_model(sim):
    """Rays of each renderer re-project onto their pixel centres (so images follow the lens model)."""
    for name, renderer in sim.renderers.items():
        cam = sim.rig.camera(name).camera
        rays = renderer.rays_cam.astype(np.float64)
        v, u = np.mgrid[0:cam.height, 0:cam.width]
        uv = np.stack([u.ravel(), v.ravel()], 1)[renderer.valid]
        front = rays[:, 2] > 0.05   # a fisheye also sees beyond 90 degrees, where project() stops
        assert front.mean() > 0.8
        proj = cam.project(rays[front][::37], near=1e-6)
        assert np.abs(proj.uv - uv[front][::37]).max() < 2e-3


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_files(tmp_path):
    kwargs = dict(frames=2, seed=11, points=8000, progress=False, camera_scale=0.2, masks=True)
    simulate_drive(tmp_path / "a", **kwargs)
    simulate_drive(tmp_path / "b", **kwargs)
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert a == b and len(a) == 1 + 1 + 1 + 2 * (1 + 3 + 1 + 3)   # drive.yaml, rig, manifest, per frame files
    simulate_drive(tmp_path / "c", **{**kwargs, "seed": 12})
    assert _digest(tmp_path / "c")["lidar/000000.fri"] != a["lidar/000000.fri"]


def test_cli_refuses_a_non_empty_folder(tmp_path, capsys):
    out = tmp_path / "drive"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    args = ["simulate", "--out", str(out), "--frames", "1", "--points", "5000", "--camera-scale", "0.15", "--quiet"]
    assert cli_main(args) == 2
    assert "--force" in capsys.readouterr().err
    assert cli_main(args + ["--force"]) == 0
    assert (out / "drive.yaml").is_file() and (out / "keep.txt").read_text() == "x"


def test_force_replaces_only_an_earlier_simulation(tmp_path, capsys):
    """simulate --force uses the manifest import and export use: an earlier simulation is replaced
    whole (no sweep of a longer earlier run is left behind; it used to keep such files when they
    lay in a folder of the layout) and one from before the manifest is recognised by drive.yaml's
    generator; the user's other files stay beside it, and a folder whose drive names are not an
    earlier simulation's (an imported drive, a user's own lidar/) is refused and left as it was."""
    from fusionlabel.io.drives import open_drive

    out = tmp_path / "drive"
    args = ["simulate", "--out", str(out), "--points", "5000", "--camera-scale", "0.15", "--quiet", "--no-cameras"]
    assert cli_main(args + ["--frames", "3"]) == 0
    manifest = json.loads((out / "fusionlabel_simulate.json").read_text())
    assert manifest["complete"] is True and "lidar" in manifest["written"]
    (out / "README.md").write_text("mine")
    (out / "lidar" / "extra.fri").write_bytes(b"stale")         # inside the run's own folder: goes with it
    assert cli_main(args + ["--frames", "2", "--force"]) == 0
    assert sorted(p.name for p in (out / "lidar").iterdir()) == ["000000.fri", "000001.fri"]
    assert len(open_drive(out)) == 2 and (out / "README.md").read_text() == "mine"
    (out / "fusionlabel_simulate.json").unlink()              # as older versions left it
    assert cli_main(args + ["--frames", "1", "--force"]) == 0
    assert len(open_drive(out)) == 1 and (out / "fusionlabel_simulate.json").is_file()

    imported = tmp_path / "imported"
    assert cli_main(["import", str(out), "--out", str(imported), "--quiet"]) == 0
    mine = tmp_path / "mine"
    (mine / "lidar").mkdir(parents=True)
    (mine / "lidar" / "scan.bin").write_bytes(b"\0" * 16)
    capsys.readouterr()
    for folder, named in ((imported, "drive.yaml"), (mine, "lidar")):
        before = sorted((str(p.relative_to(folder)), p.stat().st_size) for p in folder.rglob("*"))
        assert cli_main(["simulate", "--out", str(folder), "--frames", "1", "--points", "5000", "--quiet",
                         "--no-cameras", "--force"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "not written by an earlier fusionlabel simulate" in err and named in err
        assert sorted((str(p.relative_to(folder)), p.stat().st_size) for p in folder.rglob("*")) == before


def test_a_failed_simulation_removes_only_what_it_wrote(tmp_path, monkeypatch):
    """A run that fails half-way leaves the folder as it found it: the user's file stays, nothing
    of the run does."""
    from fusionlabel.sim import writer

    out = tmp_path / "drive"
    out.mkdir()
    (out / "README.md").write_text("mine")

    def broken(folder, *a, **k):
        (folder / "lidar").mkdir()
        (folder / "lidar" / "000000.fri").write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(writer, "_simulate", broken)
    with pytest.raises(KeyboardInterrupt):
        writer.simulate_drive(out, frames=1, points=5000, force=True, progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["README.md"]     # no staging folder or lock left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drive"]


@pytest.mark.parametrize("points", [30_000, 120_000])
def test_points_option_sets_the_sweep_size(points):
    sim = Simulator(build_scenario(SEED, 1), points=points, cameras=False)
    n = len(sim.frame(0).points)
    assert 0.85 * points <= n <= 1.15 * points
    assert sim.lidar.max_range == 100.0 and len(sim.lidar.elevation_deg) == 64
