"""nuScenes import checked against nuscenes-devkit on the real keyframe: boxes in the LiDAR frame,
num_lidar_pts, and LiDAR -> camera projection with per-camera ego poses, point for point."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("nuscenes")

from fusionlabel.errors import DriveError  # noqa: E402
from fusionlabel.geometry.cuboid import points_in_cuboid  # noqa: E402
from fusionlabel.geometry.projection import project_points  # noqa: E402
from fusionlabel.geometry.transforms import transform_points  # noqa: E402
from fusionlabel.io.nuscenes import is_nuscenes_root, open_nuscenes  # noqa: E402

CAMERAS = ("CAM_FRONT", "CAM_FRONT_RIGHT", "CAM_BACK_RIGHT", "CAM_BACK", "CAM_BACK_LEFT", "CAM_FRONT_LEFT")


@pytest.fixture(scope="module")
def drive(nusc_root):
    return open_nuscenes(nusc_root)


def test_scene_becomes_a_drive(drive, nusc_root):
    assert len(drive) == 1 and drive.name == "nuscenes/scene-0061"
    rig = drive.rig(0)
    assert rig.reference_lidar == "LIDAR_TOP" and sorted(rig.camera_names) == sorted(CAMERAS)
    f = drive.frames[0]
    assert set(f.image_paths) == set(CAMERAS) and all(p.is_file() for p in f.image_paths.values())
    assert f.timestamp_us == 1532402927647951
    assert set(f.T_world_vehicle_at_camera) == set(CAMERAS)
    assert all(0 < f.timestamp_us - t < 50_000 for t in f.camera_timestamps_us.values())
    assert drive.points(0).shape == (34688, 5)
    labels = drive.labels(0)
    assert len(labels) == 69
    assert sum(lab.label == "human.pedestrian.adult" for lab in labels) == 30
    assert is_nuscenes_root(nusc_root) and is_nuscenes_root(nusc_root / "v1.0-mini")
    assert not is_nuscenes_root(nusc_root.parent)


def test_boxes_in_lidar_frame_equal_devkit(drive):
    """Our cuboids equal the devkit's boxes of get_sample_data(LIDAR_TOP) (sensor frame)."""
    nusc = drive.nusc
    _, boxes, _ = nusc.get_sample_data(drive.tokens[0].lidar)
    ours = {lab.attributes["nuscenes_token"]: lab for lab in drive.labels(0)}
    assert len(boxes) == len(ours) == 69
    for b in boxes:
        lab = ours[b.token]
        np.testing.assert_allclose(lab.box.center, b.center, atol=1e-9)
        np.testing.assert_allclose(lab.box.size, [b.wlh[1], b.wlh[0], b.wlh[2]], atol=1e-12)
        np.testing.assert_allclose(lab.box.rotation(), b.rotation_matrix, atol=1e-9)
        instance = nusc.get("sample_annotation", b.token)["instance_token"]
        assert lab.label == b.name and drive.instance_tokens[lab.track_id] == instance


def test_num_lidar_pts_reproduced(drive):
    pts = drive.points(0)
    counts = [int(points_in_cuboid(pts, lab.box).sum()) for lab in drive.labels(0)]
    assert counts == [lab.attributes["num_lidar_pts"] for lab in drive.labels(0)]


def _devkit_rule(points_cam: np.ndarray, uv: np.ndarray, width: int, height: int) -> np.ndarray:
    """map_pointcloud_to_image's filter: depth > 1 m and 1 px inside the border."""
    with np.errstate(invalid="ignore"):
        return ((points_cam[:, 2] > 1.0) & (uv[:, 0] > 1) & (uv[:, 0] < width - 1)
                & (uv[:, 1] > 1) & (uv[:, 1] < height - 1))


@pytest.mark.parametrize("camera", CAMERAS)
def test_projection_matches_devkit_point_for_point(drive, camera):
    nusc = drive.nusc
    dev, _, _ = nusc.explorer.map_pointcloud_to_image(drive.tokens[0].lidar, drive.tokens[0].cameras[camera])
    cam = drive.rig(0).camera(camera).camera
    pts = drive.points(0).astype(np.float64)
    p_cam = transform_points(drive.T_cam_lidar(0, camera), pts)
    uv = cam.project(p_cam, near=0.0).uv
    mask = _devkit_rule(p_cam, uv, cam.width, cam.height)
    assert mask.sum() == dev.shape[1]   # same points survive, in the same order
    err = np.linalg.norm(uv[mask] - dev[:2].T, axis=1)
    assert err.max() <= 0.5, err.max()
    # the fast kernel agrees on every point both keep
    fast = project_points(drive.points(0), drive.T_cam_lidar(0, camera), cam)
    both = np.intersect1d(fast.index, np.flatnonzero(mask))
    assert len(both) >= 0.99 * mask.sum()
    pos = np.searchsorted(fast.index, both)
    assert np.abs(fast.uv[pos] - uv[both]).max() < 0.01


def test_without_per_camera_poses_projection_is_off(drive):
    """The ego moves ~9 m/s: ignoring camera capture times misplaces points by pixels (the test
    above would fail without the compensation)."""
    worst = 0.0
    for camera in CAMERAS:
        cam = drive.rig(0).camera(camera).camera
        pts = drive.points(0).astype(np.float64)
        exact = cam.project(transform_points(drive.T_cam_lidar(0, camera), pts), near=0.0).uv
        static = cam.project(transform_points(drive.rig(0).T_cam_lidar(camera), pts), near=0.0).uv
        ok = np.all(np.isfinite(exact), axis=1) & np.all(np.isfinite(static), axis=1)
        ok &= cam.in_bounds(exact)
        worst = max(worst, float(np.median(np.linalg.norm(exact[ok] - static[ok], axis=1))))
    assert worst > 2.0


# ------------------------------------------------------------------------------ errors, scenes, sweeps
def _copy_tables(src: Path, dst: Path) -> Path:
    shutil.copytree(src / "v1.0-mini", dst / "v1.0-mini")
    for sub in ("samples", "maps"):
        (dst / sub).symlink_to(src / sub)
    return dst


def test_missing_table_named(nusc_root, tmp_path):
    root = _copy_tables(nusc_root, tmp_path / "ds")
    (root / "v1.0-mini" / "ego_pose.json").unlink()
    with pytest.raises(DriveError, match="ego_pose"):
        open_nuscenes(root)


def test_scene_selection(nusc_root, tmp_path):
    root = _copy_tables(nusc_root, tmp_path / "ds")
    scenes = json.loads((root / "v1.0-mini" / "scene.json").read_text())
    twin = dict(scenes[0], token="f" * 32, name="scene-9999")
    (root / "v1.0-mini" / "scene.json").write_text(json.dumps(scenes + [twin]))
    with pytest.raises(DriveError, match="2 scenes.*scene-0061"):
        open_nuscenes(root)
    assert open_nuscenes(root, scene="scene-9999").name == "nuscenes/scene-9999"
    assert open_nuscenes(root, scene=0).name == "nuscenes/scene-0061"
    with pytest.raises(DriveError, match="no scene 'scene-1'"):
        open_nuscenes(root, scene="scene-1")


def test_not_a_version_folder(tmp_path):
    with pytest.raises(DriveError, match="version"):
        open_nuscenes(tmp_path)


def test_sweeps_between_keyframes(small_sim_drive, tmp_path):
    """A dataset whose middle LiDAR/camera records are sweeps: keyframes only by default, all three
    with ``sweeps=True`` (the sweep without labels, with the cameras nearest in time)."""
    from fusionlabel.export import ExportOptions, export_drive

    sim = small_sim_drive
    export_drive(sim, "nuscenes", tmp_path / "ds", options=ExportOptions(progress=False))
    tables = tmp_path / "ds" / "v1.0-mini"
    load = lambda name: json.loads((tables / f"{name}.json").read_text())  # noqa: E731
    samples, sds, anns = load("sample"), load("sample_data"), load("sample_annotation")
    middle = samples[1]["token"]
    for sd in sds:
        if sd["sample_token"] == middle:
            sd["is_key_frame"] = False
            sd["sample_token"] = samples[0]["token"]
    samples[0]["next"], samples[2]["prev"] = samples[2]["token"], samples[0]["token"]
    samples = [samples[0], samples[2]]
    dropped = {a["token"] for a in anns if a["sample_token"] == middle}
    anns = [a for a in anns if a["token"] not in dropped]
    for a in anns:
        a["prev"] = "" if a["prev"] in dropped else a["prev"]
        a["next"] = "" if a["next"] in dropped else a["next"]
    instances = load("instance")
    for inst in instances:
        mine = [a for a in anns if a["instance_token"] == inst["token"]]
        inst["nbr_annotations"] = len(mine)
        if mine:
            inst["first_annotation_token"], inst["last_annotation_token"] = mine[0]["token"], mine[-1]["token"]
    instances = [i for i in instances if i["nbr_annotations"]]
    scene = load("scene")
    scene[0]["nbr_samples"] = 2
    for name, rows in (("sample", samples), ("sample_data", sds), ("sample_annotation", anns),
                       ("instance", instances), ("scene", scene)):
        (tables / f"{name}.json").write_text(json.dumps(rows))
    keyframes = open_nuscenes(tmp_path / "ds")
    assert len(keyframes) == 2
    full = open_nuscenes(tmp_path / "ds", sweeps=True)
    assert len(full) == 3 and full.tokens[1].sample is None and full.labels(1) == []
    assert [f.timestamp_us for f in full.frames] == [f.timestamp_us for f in sim.frames]
    assert len(full.labels(2)) == len(sim.labels(2))
    assert set(full.frames[1].image_paths) == set(full.frames[0].image_paths)
    assert set(full.frames[1].camera_timestamps_us.values()) == {sim.frames[1].timestamp_us}


class _CountedPoses:
    """The devkit instance as the reader sees it, counting the ego_pose records it hands out."""

    def __init__(self, nusc):
        self._nusc, self.ego_pose_reads = nusc, Counter()

    def __getattr__(self, name):
        return getattr(self._nusc, name)

    def get(self, table, token):
        if table == "ego_pose":
            self.ego_pose_reads[token] += 1
        return self._nusc.get(table, token)


def test_each_channels_ego_pose_is_read_once_per_frame(small_sim_drive, tmp_path, monkeypatch):
    """One ego_pose record serves both a channel's pose matrix and the quaternion an export writes
    again: the reader fetches it once for each frame and channel it belongs to."""
    from fusionlabel.export import ExportOptions, export_drive
    from fusionlabel.io import nuscenes as N

    export_drive(small_sim_drive, "nuscenes", tmp_path / "ds", options=ExportOptions(progress=False))
    counted = []
    load = N._load_devkit
    monkeypatch.setattr(N, "_load_devkit", lambda *args: counted.append(_CountedPoses(load(*args))) or counted[-1])
    drive = open_nuscenes(tmp_path / "ds")
    uses = Counter(token for t in drive.tokens for token in t.ego_poses.values())
    assert len(drive) == 3 and sum(uses.values()) == 3 * (1 + len(drive.frames[0].image_paths))
    assert counted[0].ego_pose_reads == uses
    for f, t in zip(drive.frames, drive.tokens):
        lidar = counted[0]._nusc.get("ego_pose", t.ego_poses["LIDAR_TOP"])
        assert np.allclose(f.T_world_vehicle, N.pose_matrix(lidar))
        assert t.ego_rotations["LIDAR_TOP"] == lidar["rotation"]


# ------------------------------------------------------------------------------ import to native
def _sample_token(nusc_root: Path) -> str:
    return json.loads((nusc_root / "v1.0-mini" / "sample.json").read_text())[0]["token"]


def test_sample_token_names_its_keyframe(drive, nusc_root, tmp_path):
    """The sample token (what detection results and the devkit's samples are keyed by) picks its
    keyframe wherever a frame is asked for, as the frame ID (the LIDAR_TOP sample_data token) does."""
    from fusionlabel.cli.main import main
    from fusionlabel.model.frame_spec import parse_frames

    sample = _sample_token(nusc_root)
    assert sample != drive.frames[0].frame_id
    assert drive.index_of(sample) == 0 and drive.frame(sample) is drive.frames[0]
    assert parse_frames(f"{sample},0", drive) == [0]
    out = tmp_path / "frame.png"
    assert main(["render", str(nusc_root), "--frame", sample, "--out", str(out)]) == 0 and out.is_file()
    with pytest.raises(KeyError, match="has no frame 'f{32}'"):
        drive.index_of("f" * 32)


def test_import_to_native_keeps_per_camera_poses_and_projection(drive, nusc_root, tmp_path, capsys):
    """`fusionlabel import` of the real keyframe: the native copy carries each camera's ego pose and
    capture time, so every LiDAR point lands on the same pixel as through the nuScenes drive."""
    from fusionlabel.cli.main import main
    from fusionlabel.io.native import open_native_drive

    assert main(["import", str(nusc_root), "--out", str(tmp_path / "native"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "note:" not in captured.out + captured.err           # nothing is lost any more
    native = open_native_drive(tmp_path / "native")
    assert len(native) == len(drive) == 1
    assert native.index_of(_sample_token(nusc_root)) == 0     # its tokens are kept, the sample's too
    f, g = drive.frames[0], native.frames[0]
    assert g.camera_timestamps_us == f.camera_timestamps_us
    assert set(g.T_world_vehicle_at_camera) == set(CAMERAS)
    np.testing.assert_array_equal(native.points(0), drive.points(0))
    for camera in CAMERAS:
        np.testing.assert_allclose(native.T_cam_lidar(0, camera), drive.T_cam_lidar(0, camera), rtol=0, atol=1e-9)
        cam, cam_native = drive.rig(0).camera(camera).camera, native.rig(0).camera(camera).camera
        p_src = transform_points(drive.T_cam_lidar(0, camera), drive.points(0).astype(np.float64))
        p_nat = transform_points(native.T_cam_lidar(0, camera), native.points(0).astype(np.float64))
        uv_src, uv_nat = cam.project(p_src, near=0.0).uv, cam_native.project(p_nat, near=0.0).uv
        seen = _devkit_rule(p_src, uv_src, cam.width, cam.height)
        assert seen.sum() > 1000
        np.testing.assert_array_equal(_devkit_rule(p_nat, uv_nat, cam_native.width, cam_native.height), seen)
        assert np.abs(uv_nat[seen] - uv_src[seen]).max() <= 1e-6
        assert native.image(0, camera).shape == drive.image(0, camera).shape


# ------------------------------------------------------------------------------ bad table values
def _edit_table(root: Path, table: str, edit) -> dict:
    """Apply ``edit(rows)`` to ``root``'s ``table``; ``edit`` returns the record it changed."""
    path = root / "v1.0-mini" / f"{table}.json"
    rows = json.loads(path.read_text())
    record = edit(rows)
    path.write_text(json.dumps(rows))
    return record


def _first(rows, pick=lambda r: True):
    return next(r for r in rows if pick(r))


BAD_VALUES = {   # case: (table, edit of one record, field, problem in the message)
    "calibration without rotation": (
        "calibrated_sensor", lambda r: r.pop("rotation"), "rotation",
        "missing; expected a quaternion of four finite numbers w, x, y, z, not all zero"),
    "zero box size": (
        "sample_annotation", lambda r: r.__setitem__("size", [1, 0, 2]), "size",
        "must be three positive numbers w, l, h in metres, got [1, 0, 2]"),
    "zero quaternion": (
        "sample_annotation", lambda r: r.__setitem__("rotation", [0, 0, 0, 0]), "rotation",
        "must be a quaternion of four finite numbers w, x, y, z, not all zero, got [0, 0, 0, 0]"),
    "NaN box centre": (
        "sample_annotation", lambda r: r["translation"].__setitem__(1, float("nan")), "translation",
        "must be three finite numbers x, y, z in metres, got ["),
    "all-zero camera intrinsic": (
        "calibrated_sensor", lambda r: r.__setitem__("camera_intrinsic", [[0, 0, 0]] * 3), "camera_intrinsic",
        "must be [] (not a camera) or a 3x3 matrix [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] with fx, fy > 0, "
        "got [[0, 0, 0], [0, 0, 0], [0, 0, 0]]"),
}


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_bad_table_value_is_one_line_naming_file_record_and_field(nusc_root, tmp_path, capsys, case):
    """export (kitti, nuscenes) and import refuse a bad value in one line naming the table file, the
    record token and the field, exit 2; one bad annotation fails the whole drive, as in KITTI."""
    from fusionlabel.cli.main import main
    from test_cli_errors import one_error_line

    table, edit, field_name, problem = BAD_VALUES[case]
    root = _copy_tables(nusc_root, tmp_path / "ds")
    pick = (lambda r: r["camera_intrinsic"]) if field_name == "camera_intrinsic" else (lambda r: True)
    record = _edit_table(root, table, lambda rows: _first(rows, pick))
    _edit_table(root, table, lambda rows: edit(_first(rows, lambda r: r["token"] == record["token"])))
    expected = f"{root / 'v1.0-mini' / f'{table}.json'}: record {record['token']}: {field_name}: {problem}"
    for args in (["export", str(root), "--format", "kitti", "--out", str(tmp_path / "kitti"), "--quiet"],
                 ["export", str(root), "--format", "nuscenes", "--out", str(tmp_path / "nus"), "--quiet"],
                 ["import", str(root), "--out", str(tmp_path / "native"), "--quiet"]):
        assert main(args) == 2, args
        one_error_line(capsys, expected)
    assert not (tmp_path / "native").exists()


@pytest.mark.parametrize("table, edit, where, problem", [
    ("ego_pose", lambda r: r.__setitem__("rotation", [1, 0, 0]), "rotation",
     "must be a quaternion of four finite numbers w, x, y, z, not all zero, got [1, 0, 0]"),
    ("ego_pose", lambda r: r["translation"].__setitem__(0, float("inf")), "translation",
     "must be three finite numbers x, y, z in metres, got [Infinity,"),
    ("sample_data", lambda r: r.__setitem__("timestamp", "1532402927647951"), "timestamp",
     "must be a whole number of microseconds >= 0, got \"1532402927647951\""),
    ("sample_data", lambda r: r.__setitem__("filename", "/abs/x.pcd.bin"), "filename",
     "must be a file path relative to the dataroot (samples/...), got \"/abs/x.pcd.bin\""),
    ("sample_data", lambda r: r.__setitem__("ego_pose_token", "nope"), "ego_pose_token",
     "no ego_pose record has token 'nope'"),
    ("sample_annotation", lambda r: r.__setitem__("num_lidar_pts", -1), "num_lidar_pts",
     "must be a whole number >= 0, got -1"),
    ("sample_annotation", lambda r: r.__setitem__("attribute_tokens", ["nope"]), "attribute_tokens",
     "no attribute record has token 'nope'"),
    ("sample_annotation", lambda r: r.__setitem__("instance_token", "nope"), "instance_token",
     "no instance record has token 'nope'"),
    ("instance", lambda r: r.__setitem__("category_token", "nope"), "category_token",
     "no category record has token 'nope'"),
    ("calibrated_sensor", lambda r: r.pop("sensor_token"), "sensor_token", "missing; expected a sensor token"),
    ("log", lambda r: r.pop("location"), "location", "missing; expected a string (the map location"),
    ("scene", lambda r: r.__setitem__("description", None), "description", "must be a string, got null"),
], ids=["ego_pose rotation", "ego_pose translation", "timestamp", "filename", "ego_pose link", "num_lidar_pts",
        "attribute link", "instance link", "category link", "sensor link", "log location", "scene description"])
def test_other_bad_fields_named(nusc_root, tmp_path, table, edit, where, problem):
    """Every field the reader uses is checked where records are read: poses, timestamps, file names,
    counts and links to other tables."""
    from fusionlabel.errors import InputError

    root = _copy_tables(nusc_root, tmp_path / "ds")
    record = _edit_table(root, table, lambda rows: _first(rows))
    _edit_table(root, table, lambda rows: edit(_first(rows, lambda r: r["token"] == record["token"])))
    with pytest.raises(InputError) as e:
        drive = open_nuscenes(root)
        drive.labels(0)
    assert str(e.value).startswith(f"{root / 'v1.0-mini' / f'{table}.json'}: record {record['token']}: {where}: ")
    assert problem in str(e.value)


@pytest.mark.parametrize("table, text, message", [
    ("map", "", "map.json: not valid JSON (Expecting value; line 1, column 1)"),
    ("map", "[]", "map.json: no map records; nuscenes-devkit needs at least one"),
    ("map", '{"token": "m"}', "map.json: expected a JSON list of records (objects)"),
    ("map", '[{"token": "m", "log_tokens": []}]', "map.json: record m: filename: must be an image path relative "
                                                  "to the dataroot (maps/...); missing"),
    ("map", '[{"token": "m", "filename": "maps/placeholder_blank.png", "log_tokens": []}]',
     "log.json: record 7e25a2c8ea1f41c5b0da1e69ecfa71a2: no map record lists this log in its log_tokens"),
    ("sample", '[{"token": ', "sample.json: not valid JSON (Expecting value; line 1, column 12)"),
], ids=["empty map file", "no map record", "map not a list", "map without filename", "log on no map",
        "broken sample table"])
def test_tables_the_devkit_loads_unchecked_give_one_line(nusc_root, tmp_path, capsys, table, text, message):
    """The devkit's own loading fails with a bare IndexError or KeyError on these: the reader names the
    file, the record and the field instead, and the CLI prints one line."""
    from fusionlabel.cli.main import main
    from test_cli_errors import one_error_line

    root = _copy_tables(nusc_root, tmp_path / "ds")
    (root / "v1.0-mini" / f"{table}.json").write_text(text)
    with pytest.raises(DriveError, match=re.escape(message)):
        open_nuscenes(root)
    assert main(["import", str(root), "--out", str(tmp_path / "native"), "--quiet"]) == 2
    one_error_line(capsys, f"{root / 'v1.0-mini'}/{message}")


def test_import_sweeps_says_when_there_are_none(nusc_root, tmp_path, capsys):
    from fusionlabel.cli.main import main

    assert main(["import", str(nusc_root), "--sweeps", "--out", str(tmp_path / "n"), "--quiet"]) == 0
    captured = capsys.readouterr()     # a note goes to stderr; stdout holds what was written
    assert "note: --sweeps: the scene has no LiDAR sweeps between its keyframes" in captured.err
    assert "note:" not in captured.out
