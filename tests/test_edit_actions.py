"""Keyboard actions: each returns the right command, headless, and undoes in one step.

Box arithmetic (rotate, nudge in the box frame, resize) is cross-checked against Open3D's
OrientedBoundingBox; ground estimation against a real KITTI sweep.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.geometry.transforms import T_from_Rt, rotation_z
from fusionlabel.io.pointcloud import read_points
from fusionlabel.model import edit_actions as ea
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model.commands import Batch, CopyToFrame, CreateCuboid, SetBox
from fusionlabel.model.document import Document
from fusionlabel.model.drive import Drive, Frame
from fusionlabel.model.ontology import Ontology
from fusionlabel.model.rig import LidarSensor, Rig


@pytest.fixture
def doc():
    d = Document(4, Ontology.default())
    d.apply(CreateCuboid(0, CuboidLabel(Cuboid((10, 2, -1), (4.0, 2.0, 1.5), 0.3), "car"), uid="a"))
    d.apply(CreateCuboid(0, CuboidLabel(Cuboid((-5, 1, -1), (0.8, 0.7, 1.8), -2.0), "pedestrian"), uid="b"))
    d.apply(CreateCuboid(0, CuboidLabel(Cuboid((3, -6, -1), (5.0, 2.0, 2.0), 3.0), "van", score=0.4,
                                        source="model"), uid="c"))
    return d


def o3d_corners(box: Cuboid) -> np.ndarray:
    o3d = pytest.importorskip("open3d")
    obb = o3d.geometry.OrientedBoundingBox(np.asarray(box.center, np.float64), box.rotation(),
                                           np.asarray(box.size, np.float64))
    return np.asarray(obb.get_box_points())


def same_point_set(a: np.ndarray, b: np.ndarray, atol=1e-9) -> bool:
    d = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
    return bool(np.all(d.min(axis=1) < atol) and np.all(d.min(axis=0) < atol))


def apply_and_check_undo(doc, cmd):
    """Apply, check one undo step restores everything, redo; return the boxes after."""
    before = {a.uid: a for a in doc.all_annotations()}
    n = len(doc.history())
    doc.apply(cmd)
    after = {a.uid: a for a in doc.all_annotations()}
    assert len(doc.history()) == n + 1
    doc.undo()
    assert {a.uid: a for a in doc.all_annotations()} == before
    doc.redo()
    return after


@pytest.mark.parametrize("degrees", [1.0, -1.0, 15.0, -15.0])
def test_rotate(doc, degrees):
    box = doc.get("a").box
    cmd = ea.rotate(doc, ["a"], degrees)
    assert isinstance(cmd, SetBox) and cmd.description == f"Rotate {degrees:+g}°"
    apply_and_check_undo(doc, cmd)
    new = doc.get("a").box
    assert math.isclose(new.yaw, box.yaw + math.radians(degrees), abs_tol=1e-12)
    assert new.center == box.center and new.size == box.size
    # Open3D: rotating the box about its own centre by the same angle gives the same corners
    o3d = pytest.importorskip("open3d")
    obb = o3d.geometry.OrientedBoundingBox(np.asarray(box.center), box.rotation(), np.asarray(box.size))
    obb.rotate(rotation_z(math.radians(degrees)), obb.center)
    assert same_point_set(new.corners(), np.asarray(obb.get_box_points()))


def test_rotate_wraps_and_multi_selection_is_one_step(doc):
    cmd = ea.rotate(doc, ["a", "b", "c", "gone"], 15.0)
    assert isinstance(cmd, Batch) and len(cmd.commands) == 3
    apply_and_check_undo(doc, cmd)
    assert math.isclose(doc.get("c").box.yaw, 3.0 + math.radians(15) - 2 * math.pi)
    assert ea.rotate(doc, [], 1.0) is None and ea.rotate(doc, ["gone"], 1.0) is None


def test_flip_heading_keeps_the_footprint(doc):
    box = doc.get("a").box
    apply_and_check_undo(doc, ea.flip_heading(doc, ["a"]))
    new = doc.get("a").box
    assert math.isclose(abs(new.yaw - box.yaw), math.pi, abs_tol=1e-12)
    assert same_point_set(new.corners(), box.corners())
    np.testing.assert_allclose(new.heading(), -box.heading(), atol=1e-12)


@pytest.mark.parametrize("turn, degrees", [(lambda d: ea.rotate(d, ["t"], 90.0), 90.0),
                                           (lambda d: ea.rotate(d, ["t"], -15.0), -15.0),
                                           (lambda d: ea.flip_heading(d, ["t"]), 180.0)])
def test_a_tilted_box_turns_about_its_own_up_axis(turn, degrees):
    """A box seen from a tilted LiDAR (a nuScenes label, upright in the world) keeps standing on its
    ground when Q/E/F turn it: its up axis stays, and its corners are those of Open3D's box turned
    about that axis (turning the yaw alone tilted a 90°-turned car by twice the LiDAR's tilt)."""
    doc = Document(1, Ontology.default())
    tilted = Cuboid((9.0, -19.0, -1.6), (4.3, 1.8, 1.6), -1.7, pitch=0.03, roll=-0.02)
    doc.apply(CreateCuboid(0, CuboidLabel(tilted, "car"), uid="t"))
    apply_and_check_undo(doc, turn(doc))
    new = doc.get("t").box
    up = tilted.rotation()[:, 2]
    np.testing.assert_allclose(new.rotation()[:, 2], up, atol=1e-12)
    assert new.center == tilted.center and new.size == tilted.size
    o3d = pytest.importorskip("open3d")
    obb = o3d.geometry.OrientedBoundingBox(np.asarray(tilted.center), tilted.rotation(), np.asarray(tilted.size))
    obb.rotate(o3d.geometry.get_rotation_matrix_from_axis_angle(up * math.radians(degrees)), obb.center)
    assert same_point_set(new.corners(), np.asarray(obb.get_box_points()))


@pytest.mark.parametrize("axis, sign", [(0, 1), (0, -1), (1, 1), (1, -1), (2, 1), (2, -1)])
def test_nudge_in_box_frame(doc, axis, sign):
    box = doc.get("a").box
    d = [0.0, 0.0, 0.0]
    d[axis] = sign * ea.NUDGE_M
    apply_and_check_undo(doc, ea.nudge(doc, ["a"], *d))
    new = doc.get("a").box
    step = np.asarray(new.center) - np.asarray(box.center)
    assert math.isclose(np.linalg.norm(step), 0.05, rel_tol=1e-9)
    # Open3D: translating by R @ d moves the box the same way
    o3d = pytest.importorskip("open3d")
    obb = o3d.geometry.OrientedBoundingBox(np.asarray(box.center), box.rotation(), np.asarray(box.size))
    obb.translate(box.rotation() @ np.asarray(d))
    assert same_point_set(new.corners(), np.asarray(obb.get_box_points()))
    if axis == 0:   # along the heading: yaw 0.3 moves mostly in +x, some +y
        assert np.allclose(step[:2] * sign, 0.05 * np.array([math.cos(0.3), math.sin(0.3)]))


def test_nudge_in_lidar_frame(doc):
    apply_and_check_undo(doc, ea.nudge(doc, ["a"], dx=0.05, in_box_frame=False))
    np.testing.assert_allclose(doc.get("a").box.center, (10.05, 2, -1), atol=1e-12)


@pytest.mark.parametrize("dim", [0, 1, 2])
@pytest.mark.parametrize("sign", [1, -1])
def test_grow_shrink(doc, dim, sign):
    box = doc.get("a").box
    d = [0.0, 0.0, 0.0]
    d[dim] = sign * ea.RESIZE_STEP_M
    apply_and_check_undo(doc, ea.resize(doc, ["a"], *d))
    new = doc.get("a").box
    np.testing.assert_allclose(np.asarray(new.size) - box.size, d, atol=1e-12)
    if dim == 2:    # height changes keep the bottom face on the ground
        np.testing.assert_allclose(new.bottom_center(), box.bottom_center(), atol=1e-12)
    else:
        assert new.center == box.center
    assert same_point_set(new.corners(), o3d_corners(new))


def test_shrink_stops_at_minimum(doc):
    for _ in range(30):
        cmd = ea.resize(doc, ["b"], dw=-ea.RESIZE_STEP_M)
        if cmd is None:
            break
        doc.apply(cmd)
    assert math.isclose(doc.get("b").box.width, ea.MIN_SIZE_M)
    assert ea.resize(doc, ["b"], dw=-ea.RESIZE_STEP_M) is None


def test_set_class(doc):
    cmd = ea.set_class(doc, ["a", "b"], "truck")
    assert isinstance(cmd, Batch)
    assert cmd.description == "Set class truck: 2 tracks, 2 boxes in frame 0; dropped pose"   # b was a pedestrian
    apply_and_check_undo(doc, cmd)
    assert doc.get("a").cls == doc.get("b").cls == "truck"
    assert doc.get("a").box.size == (4.0, 2.0, 1.5)          # retyping keeps the fitted box
    assert ea.set_class(doc, ["a"], "truck") is None
    with pytest.raises(KeyError, match="unknown class 'ship'"):
        ea.set_class(doc, ["a"], "ship")
    apply_and_check_undo(doc, ea.set_class_by_key(doc, ["a"], "5"))
    assert doc.get("a").cls == "pedestrian"
    assert ea.set_class_by_key(doc, ["a"], "x") is None


def test_attributes_and_prelabels(doc):
    apply_and_check_undo(doc, ea.toggle_attribute(doc, ["a"], "parked"))
    assert doc.get("a").attributes["parked"] is True
    apply_and_check_undo(doc, ea.set_attribute(doc, ["a", "b"], "occlusion", "partial"))
    assert doc.get("b").attributes["occlusion"] == "partial"
    assert ea.set_attribute(doc, ["a", "b"], "occlusion", "partial") is None
    assert ea.accept_prelabels(doc, ["a", "b"]) is None
    apply_and_check_undo(doc, ea.accept_prelabels(doc, ["a", "c"]))
    assert doc.get("c").source == "human" and doc.get("c").attributes["prelabel_score"] == 0.4


def test_create_at_uses_the_class_default_size(doc):
    spec = doc.ontology.get("cyclist")
    cmd = ea.create_at(doc, 1, (5.0, -2.0), "cyclist", yaw=0.5, z_bottom=-1.7)
    bound = doc.apply(cmd)
    a = doc.get(bound.uid)
    assert a.box.size == spec.default_size and a.cls == "cyclist" and a.box.yaw == 0.5
    assert math.isclose(a.box.bottom_center()[2], -1.7) and a.box.center[:2] == (5.0, -2.0)
    assert a.track_id is not None and a.attributes["with_rider"] is True
    default = ea.create_at(doc, 1, (1.0, 2.0, 3.0))
    assert default.label.label == "car" and default.label.box.center == (1.0, 2.0, 3.0)
    with pytest.raises(ValueError, match=r"\(x, y\) or \(x, y, z\)"):
        ea.create_at(doc, 1, (1.0,))


def test_create_from_drag(doc):
    cmd = ea.create_from_drag(doc, 2, (0.0, 0.0), (0.0, 5.0), "van", z_bottom=-1.5)
    box = cmd.label.box
    assert math.isclose(box.yaw, math.pi / 2) and math.isclose(box.length, 5.0)
    assert box.size[1:] == doc.ontology.get("van").default_size[1:]
    np.testing.assert_allclose(box.center, (0.0, 2.5, -1.5 + box.height / 2))
    # the drag's start is the back, its end the front
    np.testing.assert_allclose(box.corners()[[0, 1, 4, 5], 1], 5.0, atol=1e-12)
    click = ea.create_from_drag(doc, 2, (1.0, 1.0), (1.1, 1.0))
    assert click.label.box.size == doc.ontology.get("car").default_size and click.label.box.yaw == 0.0


def test_delete(doc):
    apply_and_check_undo(doc, ea.delete(doc, ["a", "c", "zzz"]))
    assert [a.uid for a in doc.annotations(0)] == ["b"]
    assert ea.delete(doc, []) is None


def test_copy_to_next_frame_and_all(doc):
    cmd = ea.copy_to_next_frame(doc, ["a"], 0)
    assert isinstance(cmd, CopyToFrame) and cmd.target_frame == 1
    apply_and_check_undo(doc, cmd)
    assert [a.track_id for a in doc.annotations(1)] == [doc.get("a").track_id]
    assert ea.copy_to_next_frame(doc, ["a"], 0) is None                   # already there
    apply_and_check_undo(doc, ea.copy_all_to_next_frame(doc, 0))
    assert sorted(a.track_id for a in doc.annotations(1)) == sorted(a.track_id for a in doc.annotations(0))
    assert ea.copy_all_to_next_frame(doc, 3) is None                      # last frame: nowhere to go
    assert ea.copy_to_next_frame(doc, ["a"], 2) is None                   # "a" is not in frame 2


def _moving_drive(n=4):
    """A drive whose ego drives 2 m forward and turns 10° per frame; LiDAR 1.7 m above the car."""
    rig = Rig("r", {"top": LidarSensor("top", T_from_Rt(np.eye(3), [1.0, 0.0, 1.7]))}, "top")
    frames = [Frame(f"{i}", lidar_path=None, T_world_vehicle=T_from_Rt(rotation_z(math.radians(10 * i)),
                                                                        [2.0 * i, 0.3 * i, 0.0])) for i in range(n)]
    return Drive("moving", ".", rig, frames)


def test_copy_compensates_ego_motion(doc):
    drive = _moving_drive()
    a = doc.get("a")
    doc.apply(ea.copy_to_next_frame(doc, ["a"], 0, drive=drive))
    copy = doc.find_track(a.track_id, 1)
    world_before = a.box.transformed(drive.T_world_lidar(0))
    world_after = copy.box.transformed(drive.T_world_lidar(1))
    np.testing.assert_allclose(world_after.corners(), world_before.corners(), atol=1e-9)
    assert not np.allclose(copy.box.center, a.box.center)


def _swept_drive(sweeps: dict, n=4):
    """``_moving_drive``'s poses with in-memory sweeps (frame index -> points; other frames have
    no LiDAR file, and frame "bad" raises as an unreadable file does)."""
    from fusionlabel.errors import PointCloudError

    moving = _moving_drive(n)

    def read(path):
        if str(path) == "bad":
            raise PointCloudError(path, "truncated file")
        return sweeps[int(str(path))]
    frames = [Frame(f.frame_id, lidar_path=(Path(str(i)) if i in sweeps else
                                            Path("bad") if sweeps.get("bad") == i else None),
                    T_world_vehicle=f.T_world_vehicle) for i, f in enumerate(moving.frames)]
    return Drive("swept", ".", moving.rig(0), frames, read_points=read)


def o3d_count(points: np.ndarray, box: Cuboid) -> int:
    """Points in ``box`` as Open3D's oriented box counts them (an independent reference)."""
    o3d = pytest.importorskip("open3d")
    obb = o3d.geometry.OrientedBoundingBox(np.asarray(box.center, np.float64), box.rotation(),
                                           np.asarray(box.size, np.float64))
    return len(obb.get_point_indices_within_bounding_box(
        o3d.utility.Vector3dVector(points[:, :3].astype(np.float64))))


def test_a_copy_counts_its_lidar_points_in_the_target_sweep(doc):
    """C carries a box by the ego motion; its LiDAR counts are those of the next sweep inside the
    carried box (checked with Open3D), radar counts go, other attributes stay; no sweep there (no
    drive, a frame without LiDAR, an unreadable file): the copy carries no count."""
    from fusionlabel.model.commands import SetAttributes

    rng = np.random.default_rng(3)
    sweeps = {1: rng.uniform([-5, -15, -3, 0], [25, 15, 1, 1], (40000, 4)).astype(np.float32)}
    drive = _swept_drive(sweeps)
    doc.apply(SetAttributes("a", {"num_lidar_points": 999, "num_lidar_pts": 999, "num_radar_pts": 4,
                                  "interpolated": True}))
    cmd = ea.copy_to_next_frame(doc, ["a", "b"], 0, drive=drive, frame_name=lambda i: f"F{i:03d}")
    bound = doc.apply(cmd)
    assert bound.description == "Copy 2 cuboids to frame F001"
    copy = doc.find_track(doc.get("a").track_id, 1)
    want = o3d_count(sweeps[1], copy.box)
    assert 50 < want < 999
    assert copy.attributes["num_lidar_points"] == copy.attributes["num_lidar_pts"] == want
    assert "num_radar_pts" not in copy.attributes and copy.attributes["interpolated"] is True
    assert "num_lidar_points" not in doc.find_track(doc.get("b").track_id, 1).attributes   # b had none
    doc.undo()
    assert doc.annotations(1) == []
    for where, drv in (("no drive", None), ("no LiDAR file", _swept_drive({}, 4)),
                       ("unreadable", _swept_drive({"bad": 1}, 4))):
        bound = doc.apply(ea.copy_to_next_frame(doc, ["a"], 0, drive=drv))
        copy = doc.find_track(doc.get("a").track_id, 1)
        assert not {"num_lidar_points", "num_lidar_pts", "num_radar_pts"} & set(copy.attributes), where
        assert copy.attributes["interpolated"] is True and bound.description == "Copy 1 cuboid to frame 1"
        doc.undo()


def test_delete_track_from_here(doc):
    for f in (0, 1, 2):
        doc.apply(ea.copy_all_to_next_frame(doc, f))
    track = doc.get("a").track_id
    assert doc.track_frames(track) == [0, 1, 2, 3]
    b_track = doc.get("b").track_id
    uid_in_2 = doc.find_track(track, 2).uid
    cmd = ea.delete_track_from_here(doc, [uid_in_2, doc.find_track(b_track, 2).uid], 2)
    apply_and_check_undo(doc, cmd)
    assert doc.track_frames(track) == [0, 1] and doc.track_frames(b_track) == [0, 1]
    assert doc.undo_text() == "Delete 4 cuboids of 2 tracks in frames 2–3"
    assert ea.delete_track_from_here(doc, ["a"], 3) is None
    # One track, the frame named as the caller names frames (the app: by frame id).
    cmd = ea.delete_track_from_here(doc, ["a"], 1, frame_name=lambda i: f"{i:06d}")
    apply_and_check_undo(doc, cmd)
    assert doc.undo_text() == f"Delete 1 cuboid of track {track} in frame 000001" and doc.track_frames(track) == [0]


def test_jump_to_track_and_follow(doc):
    track = doc.get("a").track_id
    doc.apply(CopyToFrame(("a",), 2))
    doc.apply(CopyToFrame(("a",), 3))
    in2 = doc.find_track(track, 2)
    assert ea.jump_to_track(doc, "a", +1) == in2
    assert ea.jump_to_track(doc, in2.uid, +1).frame == 3
    assert ea.jump_to_track(doc, in2.uid, -1).uid == "a"
    assert ea.jump_to_track(doc, "a", -1) is None and ea.jump_to_track(doc, "zzz") is None
    assert ea.track_in_frame(doc, "a", 3).frame == 3 and ea.track_in_frame(doc, "a", 1) is None


def test_cycle_uids_walks_the_order_it_is_given():
    """Tab / Shift+Tab (Actions.cycle_selection) walk the object list's rows as shown, sorted and
    filtered, not the frame's creation order: cycle_uids gets that order."""
    order = ["c", "a", "d"]                                      # e.g. sorted by points, "b" filtered out
    assert ea.cycle_uids(order, []) == ("c",)
    assert ea.cycle_uids(order, [], -1) == ("d",)
    assert ea.cycle_uids(order, ["c"]) == ("a",)
    assert ea.cycle_uids(order, ["d"]) == ("c",)                 # wraps
    assert ea.cycle_uids(order, ["c"], -1) == ("d",)
    assert ea.cycle_uids(order, ["c", "a"]) == ("d",)            # after the one selected last
    assert ea.cycle_uids(order, ["a", "c"]) == ("a",)
    assert ea.cycle_uids(order, ["c", "a"], -1) == ("d",)        # before the one selected first
    assert ea.cycle_uids(order, ["b"]) == ("c",)                 # a selection the list does not show
    assert ea.cycle_uids([], ["a"]) == ()


def test_frame_status(doc):
    cmd = ea.set_frame_status(doc, 0, "in_progress", frame_name=lambda i: f"F{i:03d}")
    assert cmd.description == "Mark frame F000 in progress"
    apply_and_check_undo(doc, ea.set_frame_status(doc, 0, "done"))
    assert doc.undo_text() == "Mark frame 0 done"
    assert doc.frame_status(0) == "done" and ea.set_frame_status(doc, 0, "done") is None


def test_every_key_action_applies_and_undoes(doc):
    """The catalogue covers every shortcut of the issue, and each entry is one undo step."""
    wanted = {"rotate_left_small", "rotate_right_small", "rotate_left_large", "rotate_right_large", "flip_heading",
              "nudge_forward", "nudge_back", "nudge_left", "nudge_right", "nudge_up", "nudge_down", "grow_length",
              "shrink_length", "grow_width", "shrink_width", "grow_height", "shrink_height", "delete",
              "copy_to_next_frame", "copy_all_to_next_frame", "delete_track_from_here"}
    assert wanted <= set(ea.KEY_ACTIONS)
    for name, action in ea.KEY_ACTIONS.items():
        cmd = action.fn(doc, ["a", "c"], 0)
        assert cmd is not None, name
        apply_and_check_undo(doc, cmd)
        doc.undo()
        assert action.description
    for key in "12345678":
        cmd = ea.class_key_action(key).fn(doc, ["b"], 0)
        if doc.ontology.class_for_key(key) == "pedestrian":
            assert cmd is None
        else:
            apply_and_check_undo(doc, cmd)
            assert doc.get("b").cls == doc.ontology.class_for_key(key)
            doc.undo()


def test_estimate_ground_on_real_kitti(kitti_object):
    points = read_points(kitti_object / "velodyne" / "000001.bin")
    z = ea.estimate_ground_z(points, (10.0, 0.0))
    # the KITTI Velodyne is mounted 1.73 m above the road
    assert -1.9 < z < -1.5
    assert ea.estimate_ground_z(points, (500.0, 500.0)) is None
    box = ea.create_at(Document(1, Ontology.default()), 0, (10.0, 0.0), "car", z_bottom=z).label.box
    local = (points[:, :3] - box.center) @ box.rotation()
    footprint = np.all(np.abs(local[:, :2]) <= np.asarray(box.size[:2]) / 2, axis=1)
    # the box sits on the road 10 m ahead: its footprint holds road returns, all within 10 cm of its bottom
    assert footprint.sum() > 100
    assert np.all(np.abs(points[footprint, 2] - box.bottom_center()[2]) < 0.1)


@pytest.fixture(scope="module")
def sample_drive():
    path = Path(__file__).resolve().parents[1] / "sample_data"
    if not (path / "drive.yaml").is_file():
        pytest.skip(f"sample drive not found at {path} (fusionlabel simulate --out sample_data)")
    from fusionlabel.io.drives import open_drive
    return open_drive(path)


def test_copy_to_next_frame_on_the_sample_drive_keeps_parked_cars_in_place(sample_drive):
    """Simulated ground truth: a parked car copied with the ego motion lands exactly on its
    ground-truth box of the next frame; without compensation it would be off by the ego's travel."""
    doc = Document(len(sample_drive), Ontology.default())
    for lab in sample_drive.labels(0):
        doc.apply(CreateCuboid(0, lab.with_(label=doc.ontology.resolve(lab.label))))
    cmd = ea.copy_all_to_next_frame(doc, 0, drive=sample_drive)
    assert cmd.T_target_source is not None
    doc.apply(cmd)
    truth = {lab.track_id: lab for lab in sample_drive.labels(1)}
    parked = [a for a in doc.annotations(0) if a.attributes.get("parked") and a.track_id in truth]
    assert len(parked) >= 10
    travel = np.linalg.norm(ea.ego_motion(sample_drive, 0, 1)[:3, 3])
    assert travel > 0.5
    points = sample_drive.points(1)
    recounted = 0
    for a in parked:
        copy = doc.find_track(a.track_id, 1)
        np.testing.assert_allclose(copy.box.corners(), truth[a.track_id].box.corners(), atol=1e-6)
        # its point count is the next sweep's, in its ground-truth box there (Open3D counts)
        assert copy.attributes["num_lidar_points"] == o3d_count(points, truth[a.track_id].box)
        assert np.abs(a.box.corners() - truth[a.track_id].box.corners()).max() > 0.5 * travel
        recounted += copy.attributes["num_lidar_points"] != a.attributes["num_lidar_points"]
    assert recounted >= 5


def test_timeline_keyframes_look_at_one_cuboid_of_a_frame_that_has_one(monkeypatch):
    """The timeline's white ticks: frames with an imported or human box that is no unedited C copy.
    After an edit of a whole track (every frame of a long drive), a frame's first keyframe settles
    it: the frame's other dozens of cuboids are not read (2,000 frames x 34 boxes took 0.15 s)."""
    from fusionlabel.assist.keyframes import frames_with_keyframes
    from fusionlabel.model.document import Annotation

    doc = Document(6, Ontology.default())
    box = Cuboid((10.0, 0.0, 0.0), (4.5, 1.9, 1.6), 0.0)
    made = [CreateCuboid(f, CuboidLabel(box.with_(center=(10.0, 3.0 * k, 0.0)), "car", str(k), None, "import"))
            for f in (0, 1, 2) for k in range(30)]
    made.append(CreateCuboid(3, CuboidLabel(box, "car", "p", 0.8, "model")))       # a pre-label only
    made.append(CreateCuboid(4, CuboidLabel(box, "car", "h", None, "human")))
    doc.apply(Batch(tuple(made), "Import"))
    human = doc.find_track("h", 4)
    doc.apply(ea.copy_to_next_frame(doc, (human.uid,), 4))                          # frame 5: a copy only
    assert frames_with_keyframes(doc, range(6)) == {0, 1, 2, 4}
    moved = doc.find_track("h", 5)
    doc.apply(SetBox(moved.uid, box.with_(center=(11.0, 0.0, 0.0))))                # edited: a keyframe
    assert frames_with_keyframes(doc, range(6)) == {0, 1, 2, 4, 5}
    reads = []
    monkeypatch.setattr(Annotation, "source", property(lambda a: reads.append(a.frame) or a.label.source))
    assert frames_with_keyframes(doc, range(3)) == {0, 1, 2}
    assert sorted(reads) == [0, 1, 2]
    # nor are a frame's cuboids put in order first (after a whole-track edit every frame's order is redone)
    monkeypatch.setattr(doc, "annotations", lambda frame: pytest.fail("sorted the cuboids of a frame"))
    assert frames_with_keyframes(doc, range(6)) == {0, 1, 2, 4, 5}
