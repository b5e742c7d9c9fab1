"""import --upright: a drive whose LiDAR hangs upside down (and is turned) becomes one whose LiDAR
has the vehicle's axes, with the same points, boxes and camera projections, which check accepts."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from conftest import simulated_drive
from fusionlabel.cli.main import main
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.io.native import NativeDriveWriter, open_native_drive
from fusionlabel.qa.drive_check import check_drive

# The hanging LiDAR's axes in the simulator's (vehicle-aligned) LiDAR frame: upside down, turned 90 deg.
R_MOUNT = Rotation.from_euler("ZX", [90.0, 180.0], degrees=True).as_matrix()


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    return simulated_drive(tmp_path_factory)


def hanging_copy(src, root):
    """``src`` (LiDAR with the vehicle's axes) as recorded by a LiDAR mounted ``R_MOUNT``: sweeps
    and labels in that frame, written by hand as a converter would (roll pi for upright boxes)."""
    rig = src.rig(0)
    lidar = rig.sensors[rig.reference_lidar]
    T = np.array(lidar.T_vehicle_sensor, float)
    T[:3, :3] = T[:3, :3] @ R_MOUNT
    rig = replace(rig, sensors=dict(rig.sensors, **{lidar.name: replace(lidar, T_vehicle_sensor=T)}))
    with NativeDriveWriter(root, rig, "hanging") as writer:
        for i, f in enumerate(src.frames):
            points = src.points(i).copy()
            points[:, :3] = points[:, :3] @ R_MOUNT              # p_new = R_MOUNT^T p_old
            labels = []
            for lab in src.labels(i):
                heading = R_MOUNT.T @ [np.cos(lab.box.yaw), np.sin(lab.box.yaw), 0.0]
                box = Cuboid(R_MOUNT.T @ np.asarray(lab.box.center), lab.box.size,
                             float(np.arctan2(heading[1], heading[0])), 0.0, np.pi)
                labels.append(lab.with_(box=box))
            writer.add_frame(f.frame_id, f.timestamp_us, f.T_world_vehicle, points,
                             {c: src.image(i, c) for c in f.image_paths}, labels)
    return open_native_drive(root)


def test_upright_import_gives_the_lidar_the_vehicle_axes(sim, tmp_path, capsys):
    hanging = hanging_copy(sim, tmp_path / "hanging")
    assert "lidar-up" in {f.check for f in check_drive(hanging, poses=False).findings}
    assert main(["import", str(tmp_path / "hanging"), "--out", str(tmp_path / "up"), "--upright", "--quiet"]) == 0
    up = open_native_drive(tmp_path / "up")
    np.testing.assert_allclose(up.rig(0).T_vehicle_lidar, sim.rig(0).T_vehicle_lidar, atol=1e-12)
    for i in range(len(sim)):
        np.testing.assert_allclose(up.points(i)[:, :3], sim.points(i)[:, :3], atol=2e-5)
        for cam in sim.rig(0).camera_names:   # every point lands on the same pixel as in the hanging drive
            p_up = up.points(i)[:, :3] @ up.T_cam_lidar(i, cam)[:3, :3].T + up.T_cam_lidar(i, cam)[:3, 3]
            p_hang = hanging.points(i)[:, :3] @ hanging.T_cam_lidar(i, cam)[:3, :3].T + hanging.T_cam_lidar(i, cam)[:3, 3]
            np.testing.assert_allclose(p_up, p_hang, atol=1e-4)
        assert len(up.labels(i)) == len(sim.labels(i)) > 0
        for got, want in zip(up.labels(i), sim.labels(i)):
            np.testing.assert_allclose(got.box.center, want.box.center, atol=1e-9)
            assert (got.box.roll, got.box.pitch) == (0.0, 0.0)
            assert abs(np.angle(np.exp(1j * (got.box.yaw - want.box.yaw)))) < 1e-9
    assert check_drive(up, poses=False).findings == []


def test_upright_import_of_a_rig_without_vehicle_frame_is_refused(sim, tmp_path, capsys):
    import yaml

    hanging_copy(sim, tmp_path / "hanging")
    rig = yaml.safe_load((tmp_path / "hanging" / "rig.yaml").read_text())
    rig["vehicle_frame"] = False
    (tmp_path / "hanging" / "rig.yaml").write_text(yaml.safe_dump(rig, sort_keys=False))
    assert main(["import", str(tmp_path / "hanging"), "--out", str(tmp_path / "up"), "--upright", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--upright" in err and "no vehicle frame" in err and "Traceback" not in err
    assert not (tmp_path / "up" / "drive.yaml").exists()
