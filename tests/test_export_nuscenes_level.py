"""nuScenes export levels boxes made in the tool (upright in the LiDAR frame) in the global frame,
as nuScenes' own boxes are, and keeps the rotation of imported (tilted) boxes."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from conftest import native_copy, quiet
from fusionlabel.export import export_drive
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model.rig import LidarSensor


def quaternion_matrix(q) -> np.ndarray:
    """(w, x, y, z) -> (3, 3), written out here rather than taken from the code under test."""
    w, x, y, z = np.asarray(q, dtype=float) / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def pose(record) -> np.ndarray:
    T = np.eye(4)
    T[:3, :3], T[:3, 3] = quaternion_matrix(record["rotation"]), record["translation"]
    return T


def box_rotation(yaw: float, pitch: float = 0.0) -> np.ndarray:
    c, s, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])


def table(root, name: str, version: str = "v1.0-mini") -> dict[str, dict]:
    return {r["token"]: r for r in json.loads((root / version / f"{name}.json").read_text())}


def T_world_lidar_of(out, sample_token: str) -> np.ndarray:
    """The LiDAR pose of a sample, from the exported records."""
    sd = next(r for r in table(out, "sample_data").values()
              if r["sample_token"] == sample_token and r["filename"].startswith("samples/LIDAR_TOP/"))
    return pose(table(out, "ego_pose")[sd["ego_pose_token"]]) @ pose(table(out, "calibrated_sensor")
                                                                    [sd["calibrated_sensor_token"]])


def assert_level_with_heading(rec, T_world_lidar, lidar_box: Cuboid) -> float:
    """The exported record is yaw-only in global, at the box's centre, heading where the box heads;
    returns the tilt (degrees) the box had in global before levelling."""
    R = quaternion_matrix(rec["rotation"])
    assert abs(R[2, 2] - 1) < 1e-12 and np.abs(R[:2, 2]).max() < 1e-6 and np.abs(R[2, :2]).max() < 1e-6
    np.testing.assert_allclose(rec["translation"], T_world_lidar[:3, :3] @ lidar_box.center + T_world_lidar[:3, 3],
                               atol=1e-9)
    R_tilted = T_world_lidar[:3, :3] @ box_rotation(lidar_box.yaw)
    heading = R_tilted[:2, 0]
    assert np.arctan2(R[1, 0], R[0, 0]) == pytest.approx(np.arctan2(heading[1], heading[0]), abs=1e-9)
    return float(np.degrees(np.arccos(np.clip((np.trace(R.T @ R_tilted) - 1) / 2, -1, 1))))


def test_real_drawn_box_is_level_in_global_imported_boxes_keep_rotation(nusc_root, tmp_path):
    pytest.importorskip("nuscenes")
    from fusionlabel.io.nuscenes import open_nuscenes

    drive = open_nuscenes(nusc_root)
    imported = drive.labels(0)
    drawn = CuboidLabel(Cuboid((12.0, 3.0, -1.0), (10.0, 2.5, 3.0), 0.7), "truck", "drawn", None, "human", {})
    export_drive(drive, "nuscenes", tmp_path / "out", lambda i: imported + [drawn], quiet(sensor_data=False))
    source, out = table(nusc_root, "sample_annotation"), table(tmp_path / "out", "sample_annotation")
    new = [rec for token, rec in out.items() if token not in source]
    assert len(new) == 1 and len(out) == len(source) + 1
    tilt = assert_level_with_heading(new[0], T_world_lidar_of(tmp_path / "out", new[0]["sample_token"]), drawn.box)
    assert 2.0 < tilt < 2.5          # LIDAR_TOP of the mini keyframe is ~2.2 degrees off global up
    for token, rec in source.items():       # imported boxes: the source's rotation (q or -q) and centre
        q, p = np.asarray(out[token]["rotation"]), np.asarray(rec["rotation"])
        assert min(np.abs(q - p).max(), np.abs(q + p).max()) < 1e-9, token
        np.testing.assert_allclose(out[token]["translation"], rec["translation"], atol=1e-9)


def tilted_copy(small_sim_drive, root):
    """A native copy of the simulated drive whose LiDAR is pitched 2 degrees and rolled 1 degree."""
    rig = small_sim_drive.rig(0)
    T = np.array(rig.T_vehicle_lidar, dtype=float)
    pitch, roll = np.radians(2.0), np.radians(1.0)
    R_roll = np.array([[1, 0, 0], [0, np.cos(roll), -np.sin(roll)], [0, np.sin(roll), np.cos(roll)]])
    T[:3, :3] = T[:3, :3] @ box_rotation(0.0, pitch) @ R_roll
    sensors = dict(rig.sensors)
    sensors[rig.reference_lidar] = LidarSensor(rig.reference_lidar, T)
    return native_copy(small_sim_drive, root, rig=dataclasses.replace(rig, sensors=sensors))


def test_sim_tilted_lidar_drawn_box_level_tilted_box_kept(small_sim_drive, tmp_path):
    drive = tilted_copy(small_sim_drive, tmp_path / "tilted")
    drawn = CuboidLabel(Cuboid((10.0, 2.0, 0.0), (4.0, 2.0, 1.5), 0.3), "car", "1", None, "human", {})
    tilted = CuboidLabel(Cuboid((-8.0, 5.0, 0.0), (4.0, 2.0, 1.5), -1.1, 0.05), "car", "2", None, "import", {})
    export_drive(drive, "nuscenes", tmp_path / "out", lambda i: [drawn, tilted] if i == 1 else [],
                 quiet(sensor_data=False, scene_name="tilted"))
    out = tmp_path / "out"
    recs = sorted(table(out, "sample_annotation").values(), key=lambda r: r["translation"][0])
    T = T_world_lidar_of(out, recs[0]["sample_token"])
    assert np.degrees(np.arccos(T[2, 2])) > 1.0            # the LiDAR is tilted against the world
    by_centre = {tuple(np.round(T[:3, :3] @ lab.box.center + T[:3, 3], 6)): lab for lab in (drawn, tilted)}
    for rec in recs:
        lab = by_centre[tuple(np.round(rec["translation"], 6))]
        if lab is drawn:
            assert assert_level_with_heading(rec, T, drawn.box) > 1.0
        else:
            np.testing.assert_allclose(quaternion_matrix(rec["rotation"]),
                                       T[:3, :3] @ box_rotation(tilted.box.yaw, tilted.box.pitch), atol=1e-9)
