"""An unchanged nuScenes import -> export writes the source's tables again, row for row: ego pose
tokens, the annotations' own box numbers and nuScenes' visibility rows; a moved box its new values."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("nuscenes")

from conftest import native_copy, quiet  # noqa: E402
from fusionlabel.errors import DriveError, LabelError  # noqa: E402
from fusionlabel.export import export_drive  # noqa: E402
from fusionlabel.geometry.transforms import rotation_from_quaternion  # noqa: E402
from fusionlabel.io.native import open_native_drive  # noqa: E402
from fusionlabel.io.nuscenes import open_nuscenes  # noqa: E402
from test_nuscenes_roundtrip import import_and_export  # noqa: E402


def tables(root) -> dict[str, list]:
    """Every table of a nuScenes version folder, parsed."""
    return {p.stem: json.loads(p.read_text()) for p in sorted((root / "v1.0-mini").glob("*.json"))}


def differing(source, out) -> list[str]:
    a, b = tables(source), tables(out)
    return [name for name in a if a[name] != b.get(name)]


@pytest.mark.parametrize("via", ["dataroot", "native copy", "project"])
def test_real_unchanged_export_equals_the_source_tables(nusc_root, tmp_path, via):
    """All 13 tables of the real scene come back equal (parsed JSON, rows in order): ego_pose and
    sample_data's ego_pose_token keep the source's ego pose tokens, sample_annotation the source's
    translation, rotation (-0.0 included) and size, visibility nuScenes' descriptions."""
    from fusionlabel.cli.main import main

    if via == "native copy":
        _, out = import_and_export(nusc_root, tmp_path, "--labels-only")
    elif via == "project":
        assert main(["import", str(nusc_root), "--out", str(tmp_path / "native"), "--quiet"]) == 0
        assert main(["project", "create", str(tmp_path / "native"), "--out", str(tmp_path / "p")]) == 0
        assert main(["project", "import-labels", str(tmp_path / "p")]) == 0
        out = tmp_path / "out"
        assert main(["export", str(tmp_path / "p"), "--format", "nuscenes", "--out", str(out), "--quiet",
                     "--labels-only"]) == 0
    else:
        out = tmp_path / "out"
        export_drive(open_nuscenes(nusc_root), "nuscenes", out, options=quiet(sensor_data=False))
    assert len(tables(nusc_root)) == 13
    assert differing(nusc_root, out) == []


def test_sim_export_import_export_writes_the_same_tables(small_sim_drive, tmp_path):
    """Without the real data: a simulated drive exported as nuScenes is the source."""
    first = tmp_path / "first"
    export_drive(small_sim_drive, "nuscenes", first, options=quiet(scene_name="my-drive"))
    _, again = import_and_export(first, tmp_path, "--labels-only")
    assert differing(first, again) == []


def nudge_first_box(native, dx: float) -> str:
    """Move the first box of the native drive's first label file ``dx`` metres along LiDAR x; its token."""
    path = sorted((native / "labels").glob("*.json"))[0]
    data = json.loads(path.read_text())
    obj = data["objects"][0]
    obj["center"][0] += dx
    path.write_text(json.dumps(data))
    return obj["attributes"]["nuscenes_token"]


def test_real_nudged_box_exports_its_new_values(nusc_root, tmp_path):
    from fusionlabel.cli.main import main

    native = tmp_path / "native"
    assert main(["import", str(nusc_root), "--out", str(native), "--quiet"]) == 0
    token = nudge_first_box(native, 0.1)
    drive = open_native_drive(native)
    out = tmp_path / "out"
    export_drive(drive, "nuscenes", out, options=quiet(sensor_data=False))
    source = {r["token"]: r for r in tables(nusc_root)["sample_annotation"]}
    written = {r["token"]: r for r in tables(out)["sample_annotation"]}
    moved, before = written[token], source[token]
    step = drive.T_world_lidar(0)[:3, :3] @ [0.1, 0.0, 0.0]     # 0.1 m along LiDAR x, in the global frame
    assert np.allclose(moved["translation"], np.add(before["translation"], step), rtol=0, atol=1e-9)
    assert np.linalg.norm(np.subtract(moved["translation"], before["translation"])) == pytest.approx(0.1)
    assert np.allclose(rotation_from_quaternion(moved["rotation"]), rotation_from_quaternion(before["rotation"]),
                       rtol=0, atol=1e-9)
    assert moved["size"] == before["size"]
    assert all(written[t] == source[t] for t in source if t != token)   # the others are the source's


@pytest.mark.parametrize("entry, where", [
    ("{lidar: l, ego_poses: {RADAR_FRONT: e}}", r"drive\.yaml: frames\[0\]\.nuscenes\.ego_poses\.RADAR_FRONT"),
    ("{lidar: l, ego_poses: {LIDAR_TOP: ''}}", r"drive\.yaml: frames\[0\]\.nuscenes\.ego_poses\.LIDAR_TOP"),
    ("{lidar: l, ego_poses: [e]}", r"drive\.yaml: frames\[0\]\.nuscenes\.ego_poses: expected a mapping")])
def test_native_ego_pose_tokens_are_checked(small_sim_drive, tmp_path, entry, where):
    native_copy(small_sim_drive, tmp_path / "d")
    index = tmp_path / "d" / "drive.yaml"
    index.write_text(index.read_text().replace("frames:\n", "nuscenes:\n  scene: {token: s, name: x}\n  log: {token: l}\n"
                                               "frames:\n", 1).replace("  lidar:", f"  nuscenes: {entry}\n  lidar:", 1))
    with pytest.raises(DriveError, match=where):
        open_native_drive(tmp_path / "d")


def test_native_source_box_is_checked(small_sim_drive, tmp_path):
    drive = native_copy(small_sim_drive, tmp_path / "d")
    path = tmp_path / "d" / "labels" / f"{drive.frames[0].frame_id}.json"
    data = json.loads(path.read_text())
    data["objects"][0].setdefault("attributes", {})["nuscenes_box"] = {
        "translation": [1, 2, 3], "rotation": [1, 0, 0, 0], "size": [1, 2]}
    path.write_text(json.dumps(data))
    with pytest.raises(LabelError, match=r"objects\[0\]\.attributes\.nuscenes_box\.size: expected a list of 3 finite"):
        open_native_drive(tmp_path / "d").labels(0)


def test_kept_nuscenes_numbers_are_checked_in_one_wording(small_sim_drive, tmp_path):
    """A quaternion of three numbers kept in drive.yaml's records and in a label's ``nuscenes_box``:
    both errors name the file and the field, then say the same thing."""
    drive = native_copy(small_sim_drive, tmp_path / "d")
    index = tmp_path / "d" / "drive.yaml"
    text = index.read_text()
    index.write_text(text.replace("frames:\n", "nuscenes:\n  scene: {token: s, name: x}\n  log: {token: l}\n"
                                  "frames:\n", 1).replace(
        "  lidar:", "  nuscenes: {lidar: l, ego_rotations: {LIDAR_TOP: [1, 0, 0]}}\n  lidar:", 1))
    said = "expected a list of 4 finite numbers, got [1, 0, 0]"
    with pytest.raises(DriveError) as records:
        open_native_drive(tmp_path / "d")
    assert str(records.value) == f"{index}: frames[0].nuscenes.ego_rotations.LIDAR_TOP: {said}"
    index.write_text(text)
    path = tmp_path / "d" / "labels" / f"{drive.frames[0].frame_id}.json"
    data = json.loads(path.read_text())
    data["objects"][0].setdefault("attributes", {})["nuscenes_box"] = {
        "translation": [1, 2, 3], "rotation": [1, 0, 0], "size": [1, 2, 3]}
    path.write_text(json.dumps(data))
    with pytest.raises(LabelError) as box:
        open_native_drive(tmp_path / "d").labels(0)
    assert str(box.value) == f"{path}: objects[0].attributes.nuscenes_box.rotation: {said}"


def test_an_ego_pose_token_is_written_once(small_sim_drive, tmp_path):
    """Two frames naming the same source ego pose (import --sweeps: a sweep sharing its nearest
    image): the first writes the token, the second a derived one."""
    native_copy(small_sim_drive, tmp_path / "d")
    index = tmp_path / "d" / "drive.yaml"
    text = index.read_text().replace("frames:\n", "nuscenes:\n  scene: {token: s, name: x}\n  log: {token: l}\n"
                                     "frames:\n", 1)
    ego = "0123456789abcdef0123456789abcdef"
    for k in range(2):
        text = text.replace("\n  lidar:", f"\n  nuscenes: {{lidar: sd{k}, ego_poses: {{LIDAR_TOP: {ego}}}}}\n  lydar:", 1)
    index.write_text(text.replace("\n  lydar:", "\n  lidar:"))
    export_drive(open_native_drive(tmp_path / "d"), "nuscenes", tmp_path / "out", options=quiet(sensor_data=False))
    written = tables(tmp_path / "out")
    lidar = {r["token"]: r["ego_pose_token"] for r in written["sample_data"] if r["token"] in ("sd0", "sd1")}
    assert lidar["sd0"] == ego != lidar["sd1"]
    tokens = [r["token"] for r in written["ego_pose"]]
    assert len(tokens) == len(set(tokens)) == len(written["sample_data"])
