"""N makes a cuboid heading along the vehicle's forward, whichever way the LiDAR is mounted:
checked against the rig's own transforms on real nuScenes (LiDAR +y forward) and SUSTech (no
vehicle frame: the front camera looks forward) data, and on the simulated drive (LiDAR +x)."""

from __future__ import annotations

import numpy as np
import pytest

from fusionlabel.app import testing
from fusionlabel.app.actions import Actions
from fusionlabel.app.session import Session
from fusionlabel.store.project import Project


class Hooks:
    def __init__(self, xy):
        self.xy = xy

    def create_position(self):
        return self.xy

    def frame_points(self):
        return None


def new_box_heading(root, tmp_path) -> tuple[np.ndarray, object]:
    """(heading of the cuboid N makes at 10 m, 3 m as a LiDAR-frame unit vector, the frame's rig)."""
    with Project.create(tmp_path / "project", root) as project:
        s = Session(project)
        Actions(s, hooks=Hooks((10.0, 3.0))).create()
        (ann,) = s.selected_annotations()
        yaw, rig = ann.box.yaw, s.drive.rig(s.frame)
        s.close()
    return np.array([np.cos(yaw), np.sin(yaw), 0.0]), rig


def test_new_box_on_nuscenes_heads_along_the_vehicle_x(tmp_path, nusc_root):
    heading, rig = new_box_heading(nusc_root, tmp_path)
    in_vehicle = np.asarray(rig.T_vehicle_lidar)[:3, :3] @ heading
    assert in_vehicle[0] > 0.99, in_vehicle          # LiDAR yaw 0 would be the vehicle's right or left


def test_new_box_on_sustech_heads_where_the_front_camera_looks(tmp_path, realdata):
    root = realdata / "sustech_sequence"
    if not (root / "lidar").is_dir():
        pytest.skip(f"SUSTech sample not found at {root}")
    heading, rig = new_box_heading(root, tmp_path)
    in_camera = np.asarray(rig.T_cam_lidar("front"))[:3, :3] @ heading
    assert in_camera[2] > 0.95 and abs(in_camera[0]) < 0.1, in_camera   # along the optical axis


def test_new_box_on_the_simulated_drive_heads_along_lidar_x(tmp_path):
    heading, rig = new_box_heading(testing.small_drive(), tmp_path)
    in_vehicle = np.asarray(rig.T_vehicle_lidar)[:3, :3] @ heading
    assert in_vehicle[0] > 0.99
