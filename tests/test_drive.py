"""Drive and Frame: lazy loading, caching, frame lookup and ego-motion-aware LiDAR->camera transforms."""

from pathlib import Path

import numpy as np
import pytest

from fusionlabel.geometry.cameras import camera_from_params
from fusionlabel.geometry.transforms import T_from_Rt, invert_T, rotation_z
from fusionlabel.model.drive import Drive, Frame, LRUCache
from fusionlabel.model.rig import CameraSensor, LidarSensor, Rig

R_CAM_VEHICLE = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])  # vehicle -> camera axes


def make_rig() -> Rig:
    cam = camera_from_params("pinhole", 640, 480, 500, 500, 320, 240)
    T_vehicle_cam = T_from_Rt(R_CAM_VEHICLE.T, [1.5, 0.0, 1.4])
    return Rig("test", {"lidar": LidarSensor("lidar", T_from_Rt(np.eye(3), [0.5, 0.0, 1.8])),
                        "cam": CameraSensor("cam", cam, T_vehicle_cam)}, "lidar")


def make_drive(n=3, **frame_kwargs):
    calls = []

    def read_points(path: Path) -> np.ndarray:
        calls.append(path)
        return np.full((4, 4), float(path.stem), np.float32)

    frames = [Frame(f"{i:06d}", Path(f"/nowhere/{i}.bin"), {"cam": Path(f"/nowhere/{i}.png")}, **frame_kwargs)
              for i in range(n)]
    return Drive("d", Path("/nowhere"), make_rig(), frames, read_points=read_points,
                 read_image=lambda p: np.zeros((480, 640, 3), np.uint8), cache_frames=2), calls


def test_lazy_and_cached_points():
    drive, calls = make_drive()
    assert calls == []  # nothing is read when the drive opens
    assert drive.points(1)[0, 0] == 1.0
    drive.points(1)
    assert len(calls) == 1
    drive.points(0), drive.points(2), drive.points(1)  # capacity 2: frame 1 was evicted
    assert len(calls) == 4


@pytest.mark.parametrize("key, index", [("000002", 2), (0, 0), ("1", 1), (-1, 2), ("-1", 2)])
def test_index_of(key, index):
    drive, _ = make_drive()
    assert drive.index_of(key) == index


def test_index_of_id_takes_whole_ids_only():
    drive, _ = make_drive()
    assert [drive.index_of_id(f.frame_id) for f in drive.frames] == [0, 1, 2]
    assert [drive.index_of_id(k) for k in ("1", "-1", "2", "000009", "")] == [None] * 5   # indices are not IDs


def test_frames_spec_takes_an_id_holding_a_dash_whole():
    from fusionlabel.model.frame_spec import parse_frames

    frames = [Frame(fid, Path(f"/nowhere/{k}.bin")) for k, fid in enumerate(["a-1", "0", "2", "b"])]
    drive = Drive("d", Path("/nowhere"), make_rig(), frames)
    assert parse_frames("a-1", drive) == [0]            # an ID, not the range a..1
    assert parse_frames("0-2, b", drive) == [1, 2, 3]   # a range of IDs, and an ID


@pytest.mark.parametrize("ids", [["run-1-000", "run-1-001", "run-1-002", "run-1-003", "x"],
                                 ["a,1", "a,2", "a,3", "b", "c"], ["3", "2", "1", "0", "4"],
                                 ["000000", "000001", "000002", "000003", "000004"]])
def test_the_suggested_frames_read_back_as_exactly_the_group(ids):
    """``import``'s suggested ``--frames`` for a group of frames, whatever the IDs hold."""
    from fusionlabel.cli.cmd_import import frames_spec
    from fusionlabel.model.frame_spec import parse_frames

    frames = [Frame(fid, Path(f"/nowhere/{k}.bin")) for k, fid in enumerate(ids)]
    drive = Drive("d", Path("/nowhere"), make_rig(), frames)
    for group in ([1, 2, 3], [0, 2, 3], [4], [0, 1, 3, 4]):
        assert parse_frames(frames_spec(drive, group), drive) == group, frames_spec(drive, group)
    if ids[0] == "000000":  # plain IDs: a run is still written as a range of IDs
        assert frames_spec(drive, [0, 1, 2, 4]) == "000000-000002,000004"


@pytest.mark.parametrize("key", ["000009", 3, -4, "abc"])
def test_index_of_unknown(key):
    drive, _ = make_drive()
    with pytest.raises(KeyError):
        drive.index_of(key)


def test_T_cam_lidar_static_rig():
    drive, _ = make_drive()
    rig = drive.rig(0)
    p_lidar = np.array([10.0, 0.0, -1.8 + 1.4, 1.0])  # level with the camera, 9 m in front of it
    p_cam = drive.T_cam_lidar(0, "cam") @ p_lidar
    np.testing.assert_allclose(p_cam[:3], [0.0, 0.0, 9.0], atol=1e-12)
    np.testing.assert_allclose(drive.T_cam_lidar(0, "cam"), rig.T_cam_lidar("cam"))


def test_T_cam_lidar_compensates_ego_motion():
    # The ego drives 0.5 m forward and turns 2 degrees between the camera exposure and the sweep.
    T_world_vehicle_lidar = T_from_Rt(rotation_z(0.3), [100.0, 50.0, 0.0])
    step = T_from_Rt(rotation_z(np.radians(2)), [0.5, 0.0, 0.0])
    T_world_vehicle_cam = T_world_vehicle_lidar @ invert_T(step)
    drive, _ = make_drive(T_world_vehicle=T_world_vehicle_lidar,
                          T_world_vehicle_at_camera={"cam": T_world_vehicle_cam})
    rig = drive.rig(0)
    # Independent chain: a world point seen by the camera at its own time.
    p_world = np.array([110.0, 55.0, 1.0, 1.0])
    p_lidar = invert_T(T_world_vehicle_lidar @ rig.T_vehicle_lidar) @ p_world
    expected = invert_T(T_world_vehicle_cam @ rig.camera("cam").T_vehicle_sensor) @ p_world
    np.testing.assert_allclose(drive.T_cam_lidar(0, "cam") @ p_lidar, expected, atol=1e-9)
    assert not np.allclose(rig.T_cam_lidar("cam") @ p_lidar, expected, atol=0.1)


def test_lru_cache_thread_safe_basics():
    cache = LRUCache(2)
    assert cache.get_or_load("a", lambda: 1) == 1
    assert cache.get_or_load("a", lambda: 2) == 1
    cache.get_or_load("b", lambda: 3)
    cache.get_or_load("c", lambda: 4)
    assert "a" not in cache and "c" in cache
