"""`check` says which cameras' inverted extrinsic its orientation checks cannot see: a camera looking
along its parent's -y has a rotation that is its own inverse, so the mistake only moves it."""

import numpy as np
import pytest

from fusionlabel.cli.cmd_check import _camera_line
from fusionlabel.qa.camera_checks import orientation, orientation_findings
from fusionlabel.qa.drive_check import CameraCheck
from fusionlabel.io.rig_yaml import rig_from_dict

# Camera axes (x right, y down, z forward) as columns, in the vehicle frame (x forward, y left, z up).
LOOKING = {
    "forward": [[0, 0, 1], [-1, 0, 0], [0, -1, 0]],
    "left": [[1, 0, 0], [0, 0, 1], [0, -1, 0]],
    "right": [[-1, 0, 0], [0, 0, -1], [0, -1, 0]],
    "back": [[0, 0, -1], [1, 0, 0], [0, -1, 0]],
}


def rig(R_vehicle_cam, lidar_yaw_deg=0.0, vehicle_frame=True):
    return rig_from_dict({
        "format": "fusionlabel-rig/1", "vehicle_frame": vehicle_frame, "sensors": {
            "lidar": {"type": "lidar", "extrinsic": {"translation": [0.0, 0.0, 1.8],
                                                     "rotation": {"rpy_deg": [0, 0, lidar_yaw_deg]}}},
            "cam": {"type": "camera", "model": "pinhole", "resolution": [1280, 720],
                    "intrinsics": {"fx": 1000.0, "fy": 1000.0, "cx": 639.5, "cy": 359.5},
                    "extrinsic": {"translation": [1.5, -0.4, 1.5], "rotation": {"matrix": R_vehicle_cam}}}}})


def inverted_passes(r, T_vehicle_cam):
    """Whether the rig with this camera pose raises no orientation finding (computed independently)."""
    moved = rig_from_dict({
        "format": "fusionlabel-rig/1", "sensors": {
            "lidar": {"type": "lidar", "extrinsic": {"translation": [float(v) for v in r.T_vehicle_lidar[:3, 3]],
                                                     "rotation": {"matrix": r.T_vehicle_lidar[:3, :3].tolist()}}},
            "cam": {"type": "camera", "model": "pinhole", "resolution": [1280, 720],
                    "intrinsics": {"fx": 1000.0, "fy": 1000.0, "cx": 639.5, "cy": 359.5},
                    "extrinsic": {"translation": [float(v) for v in T_vehicle_cam[:3, 3]],
                                  "rotation": {"matrix": T_vehicle_cam[:3, :3].tolist()}}}}})
    return orientation_findings("cam", orientation(moved.camera("cam"), moved)) == []


@pytest.mark.parametrize("looking, unseen", [("forward", ()), ("left", ()), ("back", ()),
                                             ("right", ("LiDAR", "vehicle"))])
def test_only_a_camera_whose_inverse_passes_is_named(looking, unseen):
    r = rig(LOOKING[looking])
    T = r.camera("cam").T_vehicle_sensor
    # the premise, checked on the rig written with the inverted extrinsic itself
    assert inverted_passes(r, np.linalg.inv(T)) == bool(unseen)
    assert orientation(r.camera("cam"), r).inverse_unseen == unseen


def test_against_the_lidar_it_is_the_lidars_minus_y():
    # nuScenes-like LiDAR with its +x to the vehicle's right: the LiDAR's -y is the vehicle's back
    r = rig(LOOKING["back"], lidar_yaw_deg=-90.0)
    assert orientation(r.camera("cam"), r).inverse_unseen == ("LiDAR",)
    T_vehicle_lidar = r.T_vehicle_lidar
    T_lidar_cam = np.linalg.inv(T_vehicle_lidar) @ r.camera("cam").T_vehicle_sensor
    assert inverted_passes(r, T_vehicle_lidar @ np.linalg.inv(T_lidar_cam))
    # without a vehicle frame the two are one and the same mistake, named once
    assert orientation(rig(LOOKING["right"], vehicle_frame=False).camera("cam"),
                       rig(LOOKING["right"], vehicle_frame=False)).inverse_unseen == ("LiDAR",)


def test_check_report_names_the_blind_spot_under_the_camera():
    r = rig(LOOKING["right"])
    line = _camera_line(CameraCheck("cam", "pinhole", (1280, 720), orientation(r.camera("cam"), r)))
    assert "not seen by these checks: its extrinsic written inverted against the LiDAR or the vehicle frame" in line
    r = rig(LOOKING["forward"])
    assert "not seen" not in _camera_line(CameraCheck("cam", "pinhole", (1280, 720), orientation(r.camera("cam"), r)))


def test_json_report_lists_the_frames():
    r = rig(LOOKING["right"])
    assert CameraCheck("cam", "pinhole", (1280, 720), orientation(r.camera("cam"), r)).as_dict()["inverse_unseen"] == [
        "LiDAR", "vehicle"]
