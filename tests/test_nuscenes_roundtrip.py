"""nuScenes -> import -> export keeps the source's tokens and scene name; scene names and splits."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("nuscenes")

from nuscenes.eval.common.loaders import get_samples_of_custom_split, load_gt, load_gt_of_sample_tokens  # noqa: E402,E501
from nuscenes.eval.detection.data_classes import DetectionBox  # noqa: E402
from nuscenes.nuscenes import NuScenes  # noqa: E402

from conftest import quiet  # noqa: E402
from fusionlabel.cli.main import main  # noqa: E402
from fusionlabel.errors import DriveError  # noqa: E402
from fusionlabel.export import export_drive  # noqa: E402
from fusionlabel.io.native import open_native_drive  # noqa: E402

TABLES = ("sample", "sample_data", "scene", "log", "sample_annotation", "instance")


def load(root) -> NuScenes:
    return NuScenes(version="v1.0-mini", dataroot=str(root), verbose=False)


def tokens(nusc: NuScenes) -> dict[str, set[str]]:
    return {t: {r["token"] for r in getattr(nusc, t)} for t in TABLES}


def import_and_export(source, tmp_path, *export_args):
    """``fusionlabel import source``, then ``fusionlabel export --format nuscenes`` of the copy."""
    assert main(["import", str(source), "--out", str(tmp_path / "native"), "--quiet"]) == 0
    assert main(["export", str(tmp_path / "native"), "--format", "nuscenes", "--out", str(tmp_path / "again"),
                 "--quiet", *export_args]) == 0
    return tmp_path / "native", tmp_path / "again"


def test_real_import_export_keeps_tokens_and_scene(nusc_root, tmp_path, capsys):
    native, again = import_and_export(nusc_root, tmp_path)
    a, b = load(nusc_root), load(again)
    ta, tb = tokens(a), tokens(b)
    for table in TABLES:
        assert tb[table] and tb[table] <= ta[table], table     # every exported record is the source's own
    assert len(tb["sample_data"]) == 7 and b.scene[0]["name"] == "scene-0061" == a.scene[0]["name"]
    for key in ("logfile", "vehicle", "location", "date_captured"):
        assert b.log[0][key] == a.log[0][key]
    assert not (again / "v1.0-mini" / "splits.json").exists()   # an official scene needs no custom split
    boxes = load_gt(b, "mini_train", DetectionBox, verbose=False)
    assert len(boxes.all) == len(load_gt(a, "mini_train", DetectionBox, verbose=False).all) == 68
    # the native copy's drive.yaml holds the records
    drive = open_native_drive(native)
    assert drive.scene["name"] == "scene-0061" and drive.tokens[0].sample == a.sample[0]["token"]


def test_sim_export_import_export_keeps_tokens(small_sim_drive, tmp_path):
    """Without the real keyframe: a simulated drive exported as nuScenes is the source."""
    first = tmp_path / "first"
    export_drive(small_sim_drive, "nuscenes", first, options=quiet(scene_name="my-drive"))
    _, again = import_and_export(first, tmp_path)
    a, b = load(first), load(again)
    assert tokens(a) == tokens(b)
    assert b.scene[0]["name"] == "my-drive"
    ga = load_gt_of_sample_tokens(a, get_samples_of_custom_split("fusionlabel", a), DetectionBox)
    gb = load_gt_of_sample_tokens(b, get_samples_of_custom_split("fusionlabel", b), DetectionBox)
    assert len(ga.all) == len(gb.all) > 0


def test_scene_name_outside_official_splits_gets_custom_split(small_sim_drive, tmp_path):
    summary = export_drive(small_sim_drive, "nuscenes", tmp_path / "o", options=quiet())
    nusc = load(tmp_path / "o")
    name = nusc.scene[0]["name"]
    assert json.loads((tmp_path / "o" / "v1.0-mini" / "splits.json").read_text()) == {"fusionlabel": [name]}
    assert load_gt(nusc, "mini_train", DetectionBox, verbose=False).all == []   # why the note is needed
    assert any("no official nuScenes split" in n and "fusionlabel" in n for n in summary.cannot_hold)
    samples = get_samples_of_custom_split("fusionlabel", nusc)
    assert sorted(samples) == sorted(s["token"] for s in nusc.sample)
    named = export_drive(small_sim_drive, "nuscenes", tmp_path / "n", options=quiet(scene_name="scene-0061"))
    assert load(tmp_path / "n").scene[0]["name"] == "scene-0061"
    assert not (tmp_path / "n" / "v1.0-mini" / "splits.json").exists()
    assert not any("official" in n for n in named.cannot_hold)


def test_native_nuscenes_records_are_checked(small_sim_drive, tmp_path):
    from conftest import native_copy

    drive = native_copy(small_sim_drive, tmp_path / "d")
    assert getattr(drive, "tokens", None) is None          # a drive without records loads as before
    index = tmp_path / "d" / "drive.yaml"
    text = index.read_text()
    index.write_text(text.replace("frames:\n", "nuscenes:\n  scene: {name: x}\n  log: {token: l}\nframes:\n", 1))
    with pytest.raises(DriveError, match=r"nuscenes\.scene\.token.*missing"):
        open_native_drive(tmp_path / "d")
    index.write_text(text.replace("frames:\n", "nuscenes:\n  scene: {token: s, name: x}\n  log: {token: l}\n"
                                  "frames:\n", 1).replace("  lidar:", "  nuscenes: {lidar: 7}\n  lidar:", 1))
    with pytest.raises(DriveError, match=r"frames\[0\]\.nuscenes\.lidar"):
        open_native_drive(tmp_path / "d")


SOURCE_TABLES = ("sensor", "calibrated_sensor", "category", "attribute")


def rows(root, table: str) -> dict[str, dict]:
    return {r["token"]: r for r in json.loads((root / "v1.0-mini" / f"{table}.json").read_text())}


@pytest.mark.parametrize("via_native_copy", [False, True])
def test_real_export_writes_the_source_records_again(nusc_root, tmp_path, via_native_copy):
    """An unchanged export's sensor, calibrated_sensor, category and attribute rows are the source's
    (tokens, descriptions, quaternions with their sign, digit for digit), and so are its ego pose
    quaternions: a re-labelled scene's rows merge back into the dataset."""
    from fusionlabel.io.nuscenes import open_nuscenes

    if via_native_copy:
        _, out = import_and_export(nusc_root, tmp_path)
    else:
        out = tmp_path / "out"
        export_drive(open_nuscenes(nusc_root), "nuscenes", out, options=quiet(sensor_data=False))
    for table in SOURCE_TABLES:
        assert rows(out, table) == rows(nusc_root, table), table
    source_sd, source_ego, ego = rows(nusc_root, "sample_data"), rows(nusc_root, "ego_pose"), rows(out, "ego_pose")
    for token, sd in rows(out, "sample_data").items():
        written, original = ego[sd["ego_pose_token"]], source_ego[source_sd[token]["ego_pose_token"]]
        assert (written["rotation"], written["translation"]) == (original["rotation"], original["translation"])
    categories = rows(nusc_root, "category")
    assert all(i["category_token"] in categories for i in rows(out, "instance").values())


def with_records(index, tables: str) -> None:
    """Give a native drive.yaml a ``nuscenes`` key with these ``tables`` (YAML flow text)."""
    index.write_text(index.read_text().replace(
        "frames:\n", f"nuscenes:\n  scene: {{token: s, name: x}}\n  log: {{token: l}}\n  tables: {tables}\nframes:\n", 1))


def test_sim_source_categories_are_kept_new_ones_get_new_tokens(small_sim_drive, tmp_path):
    from conftest import native_copy

    native_copy(small_sim_drive, tmp_path / "d")
    car = "0123456789abcdef0123456789abcdef"
    with_records(tmp_path / "d" / "drive.yaml", f"{{categories: {{vehicle.car: {{token: {car}, description: Cars.}}}}}}")
    export_drive(open_native_drive(tmp_path / "d"), "nuscenes", tmp_path / "out",
                 options=quiet(sensor_data=False, scene_name="d"))
    categories = {r["name"]: r for r in rows(tmp_path / "out", "category").values()}
    assert categories["vehicle.car"] == {"token": car, "name": "vehicle.car", "description": "Cars."}
    others = {r["token"] for name, r in categories.items() if name != "vehicle.car"}
    assert len(others) == len(categories) - 1 == 22 and car not in others


@pytest.mark.parametrize("tables, where", [
    ("{calibrated_sensors: [{token: c, channel: LIDAR_TOP, rotation: [1, 0, 0, 0]}]}",
     r"nuscenes\.tables\.calibrated_sensors\[0\]\.translation"),
    ("{categories: {animal: {description: x}}}", r"nuscenes\.tables\.categories\.animal\.token"),
    ("{sensor: {}}", r"nuscenes\.tables\.sensor")])
def test_native_source_tables_are_checked(small_sim_drive, tmp_path, tables, where):
    from conftest import native_copy

    native_copy(small_sim_drive, tmp_path / "d")
    with_records(tmp_path / "d" / "drive.yaml", tables)
    with pytest.raises(DriveError, match=where):
        open_native_drive(tmp_path / "d")


def test_source_tables_keep_only_the_scenes_calibrations():
    """A full nuScenes version holds thousands of calibrated_sensor rows; a drive keeps its scene's."""
    from types import SimpleNamespace

    from fusionlabel.io.nuscenes_records import source_tables

    rows = [{"token": f"cs{k}", "sensor_token": "s1", "translation": [0.0, 0.0, float(k)],
             "rotation": [1.0, 0.0, 0.0, 0.0], "camera_intrinsic": []} for k in range(5)]
    nusc = SimpleNamespace(sensor=[{"token": "s1", "channel": "LIDAR_TOP"}], calibrated_sensor=rows,
                           category=[{"token": "c1", "name": "vehicle.car", "description": "car"}], attribute=[])
    kept = source_tables(nusc, {"cs1", "cs3"})
    assert [r["token"] for r in kept["calibrated_sensors"]] == ["cs1", "cs3"]
    assert kept["calibrated_sensors"][0]["channel"] == "LIDAR_TOP" and kept["sensors"] == {"LIDAR_TOP": "s1"}
