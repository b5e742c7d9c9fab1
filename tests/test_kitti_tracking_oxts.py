"""KITTI tracking export writes the ego poses as oxts/<seq>.txt, and the reader gives them back."""

from __future__ import annotations

import numpy as np

from conftest import quiet
from fusionlabel.export import export_drive
from fusionlabel.geometry.transforms import rotation_from_euler
from fusionlabel.io.kitti_tracking import oxts_from_poses, oxts_text, open_kitti_tracking, poses_from_oxts, read_oxts

MM, RAD = 1e-3, 1e-6


def assert_same_motion(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    """World-frame motion of the LiDAR from the first frame: displacement and relative rotation."""
    assert len(a) == len(b)
    for Ta, Tb in zip(a, b):
        np.testing.assert_allclose(Tb[:3, 3] - b[0][:3, 3], Ta[:3, 3] - a[0][:3, 3], atol=MM)
        Ra, Rb = Ta[:3, :3] @ a[0][:3, :3].T, Tb[:3, :3] @ b[0][:3, :3].T
        angle = np.arccos(np.clip((np.trace(Ra.T @ Rb) - 1) / 2, -1, 1))
        assert angle < RAD


def test_oxts_records_give_the_poses_back(tmp_path):
    rng = np.random.default_rng(4)
    T = np.tile(np.eye(4), (6, 1, 1))
    for k in range(6):
        T[k, :3, :3] = rotation_from_euler(*rng.uniform(-0.1, 0.1, 2), rng.uniform(-3, 3))
        T[k, :3, 3] = [400.0 * k, -250.0 * k, 3.0 * k]
    path = tmp_path / "o.txt"
    for origin in ((0.0, 0.0, 0.0), (49.011212804408, 8.422676141532, 112.83)):
        path.write_text(oxts_text(oxts_from_poses(T, origin)))
        rows = read_oxts(path)
        assert rows.shape == (6, 30) and np.allclose(rows[0, :3], origin, atol=1e-9)
        back = poses_from_oxts(rows)
        np.testing.assert_allclose(back[:, :3, 3], T[:, :3, 3] - T[0, :3, 3], atol=MM)
        np.testing.assert_allclose(back[:, :3, :3], T[:, :3, :3], atol=RAD)


def test_export_then_import_reproduces_the_poses(small_sim_drive, tmp_path):
    drive = small_sim_drive
    poses = [drive.T_world_lidar(i) for i in range(len(drive))]
    assert np.linalg.norm(poses[-1][:3, 3] - poses[0][:3, 3]) > 1.0          # the drive moves
    summary = export_drive(drive, "kitti-tracking", tmp_path / "a", options=quiet())
    assert (tmp_path / "a" / "oxts" / "0000.txt").is_file()
    assert any("oxts/0000.txt" in n and "latitude 0" in n for n in summary.cannot_hold)
    again = open_kitti_tracking(tmp_path / "a")
    assert again.has_poses and not any("identity" in n for n in again.notes)
    assert_same_motion(poses, [again.T_world_lidar(i) for i in range(len(again))])
    # exported once more: the sequence's own first record (latitude, longitude) is kept
    export_drive(again, "kitti-tracking", tmp_path / "b", options=quiet())
    first = read_oxts(tmp_path / "a" / "oxts" / "0000.txt")
    np.testing.assert_allclose(read_oxts(tmp_path / "b" / "oxts" / "0000.txt")[:, :6], first[:, :6], atol=1e-9)
    third = open_kitti_tracking(tmp_path / "b")
    assert_same_motion(poses, [third.T_world_lidar(i) for i in range(len(third))])


def test_drive_without_poses_writes_no_oxts(small_sim_drive, tmp_path):
    drive = small_sim_drive
    for f in drive.frames:
        f.T_world_vehicle = np.eye(4)
    summary = export_drive(drive, "kitti-tracking", tmp_path / "a", options=quiet(sensor_data=False))
    assert not (tmp_path / "a" / "oxts").exists()
    assert any("no oxts/0000.txt" in n for n in summary.cannot_hold)
