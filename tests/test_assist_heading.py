"""Tracked pre-labels face their direction of motion (assist.heading)."""

import numpy as np
import pytest

from fusionlabel.assist.heading import face_motion
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.geometry.transforms import T_from_Rt, rotation_z
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.qa.detection import heading_difference


def _box_in_lidar(T_world_lidar, centre_world, yaw_world, size=(4.3, 1.8, 1.6)) -> Cuboid:
    return Cuboid(centre_world, size, yaw_world).transformed(np.linalg.inv(T_world_lidar))


def test_a_moving_track_faces_its_motion_and_a_still_one_keeps_its_heading():
    """The ego drives north (its LiDAR x is the world's y); a car drives south past it, a car is
    parked. Every box is given the wrong way round; only the moving car's are turned."""
    n = 8
    poses = [T_from_Rt(rotation_z(np.pi / 2), (0.0, 1.0 * i, 0.0)) for i in range(n)]
    frames = []
    for i, T in enumerate(poses):
        driving = _box_in_lidar(T, (3.5, 40.0 - 1.2 * i, 0.8), np.pi / 2)        # south, given as north
        parked = _box_in_lidar(T, (-4.0, 20.0, 0.8), 0.3 - np.pi / 2)
        frames.append([CuboidLabel(driving, "Car", "p1", 0.9, "model"),
                       CuboidLabel(parked, "Car", "p2", 0.9, "model"),
                       CuboidLabel(driving.with_(center=(30.0, 5.0, 0.8)), "Car", None, 0.9, "model")])
    out = face_motion(frames, poses, [0.1 * i for i in range(n)])
    # without ego poses the car's travel seen in the LiDAR frame is partly the ego's: left alone
    assert face_motion(frames, [np.eye(4)] * n) == frames
    for T, before, after in zip(poses, frames, out):
        moving = after[0].box.transformed(T)
        assert heading_difference(moving.yaw, -np.pi / 2) < 1e-6
        assert after[0].box.size == before[0].box.size and np.allclose(after[0].box.center, before[0].box.center)
        assert after[1].box == before[1].box           # parked: the detector's heading stays
        assert after[2].box == before[2].box           # no track: nothing to tell its front by


def test_a_track_slower_than_its_noise_is_not_turned():
    """A walker's centre jittering by 0.25 m around one spot does not move."""
    rng = np.random.default_rng(0)
    poses = [T_from_Rt(np.eye(3), (0.5 * i, 0.0, 0.0)) for i in range(20)]
    frames = [[CuboidLabel(Cuboid((10.0 - 0.5 * i + rng.normal(0, 0.25), 5.0 + rng.normal(0, 0.25), 0.9),
                                  (0.8, 0.6, 1.7), 0.0), "Pedestrian", "p1", 0.8, "model")] for i in range(20)]
    assert face_motion(frames, poses) == frames


@pytest.fixture(scope="module")
def tracked_drive():
    """A short simulated drive: the built-in detector on every frame, tracked as prelabel --track
    does, with the simulator's own labels to check the headings against."""
    from fusionlabel.assist.builtin import GeometricDetector
    from fusionlabel.assist.front import half_plane_forward
    from fusionlabel.assist.prelabel import link_to_tracks
    from fusionlabel.assist.tracker import track_sequence
    from fusionlabel.sim.scenario import build_scenario
    from fusionlabel.sim.simulator import Simulator

    n = 20
    sim = Simulator(build_scenario(3, n), points=60_000, cameras=False)
    frames = [sim.frame(i) for i in range(n)]
    det = GeometricDetector()
    dets = [[d for d in det.detect(f.points) if d.score >= 0.5] for f in frames]
    poses = [sim.T_world_lidar(i) for i in range(n)]
    # the same detections without the roof cue (assist.front): a heading that says nothing of the front
    blind = [[d.with_(box=half_plane_forward(d.box)) for d in frame] for frame in dets]
    return frames, poses, link_to_tracks(dets, track_sequence(dets, poses)), \
        link_to_tracks(blind, track_sequence(blind, poses))


def _facing_share(frames, poses, tracked) -> tuple[int, int]:
    """Tracked boxes matched to a labelled vehicle or rider that travels over 2 m in the drive (BEV
    IoU >= 0.3, same frame) and how many of them face within 90 degrees of its label. (A person's
    box takes its axis from the shoulder line and is turned about 90 degrees from the label's.)"""
    from fusionlabel.geometry.iou import iou_matrix

    world: dict[str, list] = {}
    for f, T in zip(frames, poses):
        for g in f.labels:
            world.setdefault(g.track_id, []).append(g.box.transformed(T).center[:2])
    travels = {k: float(np.hypot(*(np.asarray(c[-1]) - np.asarray(c[0])))) > 2.0 for k, c in world.items()}
    matched = facing = 0
    for f, boxes in zip(frames, tracked):
        moving = [g for g in f.labels if travels[g.track_id] and g.label != "pedestrian"]
        boxes = [b for b in boxes if b.track_id is not None]
        if not moving or not boxes:
            continue
        iou = iou_matrix([b.box for b in boxes], [g.box for g in moving], "bev")
        for k, b in enumerate(boxes):
            j = int(np.argmax(iou[k]))
            if iou[k, j] >= 0.3:
                matched += 1
                facing += heading_difference(b.box.yaw, moving[j].box.yaw) < np.pi / 2
    return matched, facing


def test_simulated_moving_objects_face_the_way_the_simulator_drives_them(tracked_drive):
    frames, poses, tracked, blind = tracked_drive
    matched, facing_before = _facing_share(frames, poses, blind)
    _, facing = _facing_share(frames, poses, face_motion(blind, poses))
    _, facing_with_cue = _facing_share(frames, poses, face_motion(tracked, poses))
    assert matched >= 40
    assert facing >= 0.95 * matched and facing_with_cue >= 0.95 * matched
    assert facing_before < 0.85 * matched


def test_a_walking_person_faces_the_way_they_walk():
    """A person's box fit faces anywhere (a round footprint): a pedestrian whose track walks takes
    its whole heading from the travel, a standing one and a rider keep theirs (a rider's axis comes
    from the bicycle and is only turned end for end)."""
    n = 12
    poses = [T_from_Rt(rotation_z(0.4), (1.0 * i, 0.5 * i, 0.0)) for i in range(n)]
    walk = np.array([np.cos(2.0), np.sin(2.0)])           # world direction, 1.4 m/s
    frames = []
    for i, T in enumerate(poses):
        centre = np.array([20.0, 6.0]) + 0.14 * i * walk
        walker = _box_in_lidar(T, (*centre, 0.9), 2.0 + np.pi / 2, size=(0.6, 0.8, 1.7))    # across the way
        rider = _box_in_lidar(T, (*(centre + (0.0, 5.0)), 0.9), 2.0 + 0.2, size=(1.75, 0.6, 1.7))
        standing = _box_in_lidar(T, (8.0, -4.0, 0.9), 1.0, size=(0.6, 0.8, 1.7))
        frames.append([CuboidLabel(walker, "Pedestrian", "p1", 0.8, "model"),
                       CuboidLabel(rider, "Cyclist", "p2", 0.8, "model"),
                       CuboidLabel(standing, "Pedestrian", "p3", 0.8, "model")])
    out = face_motion(frames, poses, [0.1 * i for i in range(n)])
    for T, before, after in zip(poses, frames, out):
        assert heading_difference(after[0].box.transformed(T).yaw, 2.0) < 1e-6
        assert after[0].box.size == before[0].box.size and np.allclose(after[0].box.center, before[0].box.center)
        assert heading_difference(after[1].box.transformed(T).yaw, 2.0 + 0.2) < 1e-6
        assert after[2].box == before[2].box
