"""KITTI tracking export as the tracking release's tools read it: a sequence numbered 0..N-1 without
gaps whatever frames are selected (labels, sweeps, images and oxts records agree, frames_<seq>.txt
names the source frames, and the export reads back as the selected frames), and a calibration in
the release's layout (P0:-P3:, then R_rect, Tr_velo_cam, Tr_imu_velo without a colon)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import quiet, simulated_drive
from test_kitti_tracking_import import CAMERA, object_style_calib, velo_turn
from test_kitti_tracking_oxts import assert_same_motion

from fusionlabel.export import export_drive
from fusionlabel.export.base import MANIFEST
from fusionlabel.export.classes import kitti_type
from fusionlabel.geometry.transforms import angle_difference, invert_T
from fusionlabel.io.kitti import read_kitti_calib
from fusionlabel.io.kitti_tracking import open_kitti_tracking, read_oxts

SELECTED = [1, 3, 4, 7]      # drive frames with gaps between them (and no frame 0)
TRACKING_RELEASE_KEYS = ("P0:", "P1:", "P2:", "P3:", "R_rect", "Tr_velo_cam", "Tr_imu_velo")


def release_calib(path: Path) -> dict[str, np.ndarray]:
    """A calib file read as a reader written for the KITTI tracking release reads it: the first word
    of each line is the key, exactly as the release spells it; matrices by key without colon."""
    shapes = {"R_rect": (3, 3)}
    out = {}
    for line in path.read_text().splitlines():
        key, *values = line.split()
        assert key in TRACKING_RELEASE_KEYS, key
        out[key.rstrip(":")] = np.array(values, float).reshape(shapes.get(key, (3, 4)))
    return out


@pytest.fixture(scope="module")
def drive8(tmp_path_factory):
    return simulated_drive(tmp_path_factory, "sim8track", frames=8)


@pytest.fixture(scope="module")
def selection(drive8, tmp_path_factory):
    """(source drive, export of SELECTED given out of order, its summary)."""
    out = tmp_path_factory.mktemp("ktsel") / "out"
    summary = export_drive(drive8, "kitti-tracking", out, options=quiet(camera=CAMERA, frames=[7, 3, 1, 4]))
    return drive8, out, summary


def test_a_selection_is_numbered_from_0_without_gaps(selection):
    src, out, summary = selection
    n = len(SELECTED)
    names = [f"{k:06d}" for k in range(n)]
    assert summary.frames == n
    assert sorted(p.stem for p in (out / "image_02" / "0000").iterdir()) == names
    assert sorted(p.stem for p in (out / "velodyne" / "0000").iterdir()) == names
    lines = (out / "label_02" / "0000.txt").read_text().splitlines()
    numbers = [int(line.split()[0]) for line in lines]
    assert numbers == sorted(numbers) and set(numbers) == set(range(n))
    for k, i in enumerate(SELECTED):            # each number holds its selected frame's objects
        assert numbers.count(k) == len(src.labels(i)) > 5
    assert len(read_oxts(out / "oxts" / "0000.txt")) == n
    mapping = [line.split() for line in (out / "frames_0000.txt").read_text().splitlines()]
    assert mapping == [[name, src.frames[i].frame_id] for name, i in zip(names, SELECTED)]
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["frames"] == [src.frames[i].frame_id for i in SELECTED]
    ids = [src.frames[i].frame_id for i in SELECTED]
    note = next(t for t in summary.cannot_hold if t.startswith("frames renumbered"))
    assert f"0-{n - 1}" in note and f"{ids[0]}, {ids[1]}–{ids[2]}, {ids[3]}" in note and "frames_0000.txt" in note


def test_a_selection_reads_back_as_the_selected_frames(selection):
    """Re-importing the export gives, at number k, the boxes, sweep and motion of SELECTED[k]."""
    src, out, _ = selection
    back = open_kitti_tracking(out)
    assert [f.frame_id for f in back.frames] == [f"{k:06d}" for k in range(len(SELECTED))] and back.has_poses
    T = velo_turn(src)
    turn = np.arctan2(T[1, 0], T[0, 0])
    for k, i in enumerate(SELECTED):
        assert "image_2" in back.frames[k].image_paths
        np.testing.assert_allclose(back.points(k)[:, :3], src.points(i)[:, :3] @ T[:3, :3].T, atol=1e-4)
        mine = {lab.track_id: lab for lab in back.labels(k)}
        theirs = {lab.track_id: lab for lab in src.labels(i)}
        assert set(mine) == set(theirs)
        for tid, lab in mine.items():
            assert lab.label == kitti_type(theirs[tid])
            assert np.abs(lab.box.center - T[:3, :3] @ np.asarray(theirs[tid].box.center)).max() <= 1e-5
            assert abs(angle_difference(lab.box.yaw, theirs[tid].box.yaw + turn)) <= 1e-5
    # the written Velodyne's poses in the drive's world: the LiDAR's, turned (no translation)
    assert_same_motion([src.T_world_lidar(i) @ invert_T(T) for i in SELECTED],
                       [back.T_world_lidar(k) for k in range(len(back))])


def test_a_selection_of_a_tracking_sequence_starts_its_oxts_at_its_first_frame(selection, tmp_path):
    """From a KITTI tracking sequence with oxts, a selection's first record is the source's record of
    its first frame (so latitude and longitude stay true), and the motion is the selected frames'."""
    _, out, _ = selection
    seq = open_kitti_tracking(out)
    export_drive(seq, "kitti-tracking", tmp_path / "again", options=quiet(frames=[1, 3]))
    source, again = read_oxts(out / "oxts" / "0000.txt"), read_oxts(tmp_path / "again" / "oxts" / "0000.txt")
    assert len(again) == 2
    np.testing.assert_allclose(again[0, :3], source[1, :3], atol=1e-9)
    assert_same_motion([seq.T_world_lidar(1), seq.T_world_lidar(3)],
                       [open_kitti_tracking(tmp_path / "again").T_world_lidar(k) for k in range(2)])


def test_every_frame_exported_keeps_its_numbers_and_says_nothing(small_sim_drive, tmp_path):
    summary = export_drive(small_sim_drive, "kitti-tracking", tmp_path / "t", options=quiet(sensor_data=False))
    assert not any("renumbered" in t for t in summary.cannot_hold)
    lines = (tmp_path / "t" / "frames_0000.txt").read_text().splitlines()
    assert lines == [f"{k:06d} {f.frame_id}" for k, f in enumerate(small_sim_drive.frames)]


def test_calib_has_the_tracking_release_layout(selection):
    """Key names, colons and order as in KITTI's data_tracking_calib files; read by the release's
    own key names, the matrices place the written labels on the source's boxes (bottom centre)."""
    src, out, _ = selection
    path = out / "calib" / "0000.txt"
    assert [line.split()[0] for line in path.read_text().splitlines()] == list(TRACKING_RELEASE_KEYS)
    m = release_calib(path)
    T_rect_velo = np.eye(4)
    T_rect_velo[:3, :3] = m["R_rect"]
    T_rect_velo[:3] = T_rect_velo[:3] @ np.vstack([m["Tr_velo_cam"], [0, 0, 0, 1]])
    T_velo_rect = invert_T(T_rect_velo)
    T = velo_turn(src)
    first = [line.split() for line in (out / "label_02" / "0000.txt").read_text().splitlines() if line[0] == "0"]
    boxes = {lab.track_id: lab.box for lab in src.labels(SELECTED[0])}
    for f in first:
        bottom = T_velo_rect @ np.array([*map(float, f[13:16]), 1.0])
        box = boxes[f[1]]
        expected = T[:3, :3] @ (np.asarray(box.center) - [0.0, 0.0, box.size[2] / 2])
        assert np.abs(bottom[:3] - expected).max() < 2e-3, f[1]     # 6 decimals of x, y, z
    assert len(first) == len(boxes)


def test_object_style_calib_is_rewritten_in_the_release_layout(selection, tmp_path):
    """A source sequence whose calib uses KITTI object's keys (R0_rect:, Tr_velo_to_cam:,
    Tr_imu_to_velo:) is written in the release's layout with the same numbers; one already in that
    layout is copied as it is; fusionlabel reads both to the same drive."""
    _, out, _ = selection
    released = (out / "calib" / "0000.txt").read_text()
    src = tmp_path / "src"
    shutil.copytree(out, src)
    (src / "calib" / "0000.txt").write_text(object_style_calib(released))
    seq = open_kitti_tracking(src)
    export_drive(seq, "kitti-tracking", tmp_path / "a", options=quiet(sensor_data=False))
    assert (tmp_path / "a" / "calib" / "0000.txt").read_text() == released
    (src / "calib" / "0000.txt").write_text(released.replace("\n", "  \n"))     # trailing blanks stay
    export_drive(open_kitti_tracking(src), "kitti-tracking", tmp_path / "b",
                 options=quiet(sensor_data=False))
    assert (tmp_path / "b" / "calib" / "0000.txt").read_text() == released.replace("\n", "  \n")
    a, b = (read_kitti_calib(p) for p in (out / "calib" / "0000.txt", src / "calib" / "0000.txt"))
    for key in ("R0_rect", "Tr_velo_to_cam", "Tr_imu_to_velo"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
    assert (tmp_path / "a" / "label_02" / "0000.txt").read_text() == (src / "label_02" / "0000.txt").read_text()


def test_the_note_on_objects_outside_the_camera_gives_the_values_written(drive8, tmp_path):
    """An object the camera does not see is kept with 2D box -1 and KITTI tracking's truncation
    level 2 (none of it in the image); the summary's note says the truncation and occlusion the
    label file holds (it used to say KITTI object's "truncated 1")."""
    import re

    def labels_for(k):
        labels = drive8.labels(k)
        behind = labels[0].with_(box=labels[0].box.with_(center=(-20.0, 0.0, -1.0)), source="human",
                                 track_id="behind", attributes={})
        return [*labels, behind]

    s = export_drive(drive8, "kitti-tracking", tmp_path / "out", labels_for, quiet(camera=CAMERA, frames=[1]))
    rows = [line.split() for line in (tmp_path / "out" / "label_02" / "0000.txt").read_text().splitlines()]
    outside = [r for r in rows if r[6:10] == ["-1.000000"] * 4]
    assert outside, "the object behind the ego should be kept with a -1 2D box"
    note = next(t for t in s.cannot_hold if "outside camera" in t)
    said = re.search(r"truncated (\S+), occluded (\S+)", note)
    assert {(r[3], r[4]) for r in outside} == {said.groups()}, (note, outside)
