"""ASAM OpenLABEL export -> import: lossless labels, frames, poses and rig; reading cuboids given in
other coordinate systems; errors that name the JSON key."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from fusionlabel.errors import LabelError
from fusionlabel.export import ExportOptions, export_drive
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.geometry.transforms import T_from_Rt, invert_T, quaternion_from_rotation, rotation_from_euler
from fusionlabel.io.kitti import open_kitti_object
from fusionlabel.io.openlabel import decode_attributes, encode_attributes, read_openlabel
from test_export_kitti import sim_drive


def quiet(**kw) -> ExportOptions:
    return ExportOptions(progress=False, **kw)


def assert_same_labels(a, b, atol=0.0):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert (x.label, x.track_id, x.score, x.source, x.attributes) == (y.label, y.track_id, y.score, y.source,
                                                                           y.attributes)
        if atol == 0.0:
            assert x.box == y.box
        else:
            np.testing.assert_allclose(x.box.center, y.box.center, atol=atol)
            np.testing.assert_allclose(x.box.size, y.box.size, atol=atol)
            np.testing.assert_allclose(x.box.rotation(), y.box.rotation(), atol=atol)


def check_structure(doc: dict) -> None:
    """The parts of the OpenLABEL 1.0 schema this exporter uses (validated against the official
    schema once by hand; see docs/import_export.md)."""
    ol = doc["openlabel"]
    assert ol["metadata"]["schema_version"] == "1.0.0"
    cs = ol["coordinate_systems"]
    for name, c in cs.items():
        assert {"type", "parent"} <= set(c) and (c["parent"] == "" or c["parent"] in cs)
        assert all(child in cs and cs[child]["parent"] == name for child in c.get("children", []))
        if "pose_wrt_parent" in c:
            assert len(c["pose_wrt_parent"]["matrix4x4"]) == 16
    for name, s in ol["streams"].items():
        assert s["type"] in ("camera", "lidar") and name in cs
        if s["type"] == "camera":
            props = s["stream_properties"]
            if "intrinsics_pinhole" in props:
                p = props["intrinsics_pinhole"]
                assert len(p["camera_matrix"]) == 12 and 5 <= len(p["distortion_coeffs"]) <= 14
            else:
                assert 4 <= len(props["intrinsics_fisheye"]["lens_coeffs"]) <= 5
    for uid, obj in ol["objects"].items():
        assert uid.lstrip("-").isdigit() and isinstance(obj["name"], str) and isinstance(obj["type"], str)
        frames = {int(k) for k, f in ol["frames"].items() if uid in f["objects"]}
        covered = {n for fi in obj["frame_intervals"] for n in range(fi["frame_start"], fi["frame_end"] + 1)}
        assert frames == covered
    for key, frame in ol["frames"].items():
        assert key.isdigit()
        for uid, o in frame["objects"].items():
            for c in o["object_data"]["cuboid"]:
                assert len(c["val"]) in (9, 10) and c["coordinate_system"] in cs


def test_real_nuscenes_round_trip(realdata, tmp_path):
    from fusionlabel.io.nuscenes import open_nuscenes

    root = realdata / "nuscenes_mini"
    if not (root / "v1.0-mini").is_dir():
        pytest.skip("nuScenes sample not found")
    drive = open_nuscenes(root)
    summary = export_drive(drive, "openlabel", tmp_path / "out", options=quiet())
    doc = json.loads((tmp_path / "out" / "openlabel.json").read_text())
    check_structure(doc)
    assert summary.total_objects == 69 and len(doc["openlabel"]["objects"]) == 69
    scene = read_openlabel(tmp_path / "out" / "openlabel.json")
    assert_same_labels(drive.labels(0), scene.labels_for(drive)(0), atol=1e-12)
    fr = scene.frames[0]
    assert fr.frame_id == drive.frames[0].frame_id and fr.timestamp_us == drive.frames[0].timestamp_us
    np.testing.assert_array_equal(fr.T_world_vehicle, drive.frames[0].T_world_vehicle)
    for cam, T in drive.frames[0].T_world_vehicle_at_camera.items():
        np.testing.assert_array_equal(fr.T_world_vehicle_at_camera[cam], T)
    assert fr.camera_timestamps_us == drive.frames[0].camera_timestamps_us
    for name, sensor in drive.rig(0).sensors.items():
        np.testing.assert_array_equal(scene.rig.sensors[name].T_vehicle_sensor, sensor.T_vehicle_sensor)


def test_sim_round_trip_is_exact_with_euler_angles(tmp_path_factory, tmp_path):
    drive = sim_drive(tmp_path_factory)
    export_drive(drive, "openlabel", tmp_path / "out", options=quiet(rotation="euler"))
    doc = json.loads((tmp_path / "out" / "openlabel.json").read_text())
    check_structure(doc)
    scene = read_openlabel(tmp_path / "out" / "openlabel.json")
    labels_for = scene.labels_for(drive)
    for i in range(len(drive)):
        assert_same_labels(drive.labels(i), labels_for(i))
    for name, sensor in drive.rig(0).sensors.items():   # radtan, fisheye and pinhole cameras come back
        back = scene.rig.sensors[name]
        np.testing.assert_array_equal(back.T_vehicle_sensor, sensor.T_vehicle_sensor)
        if hasattr(sensor, "camera"):
            assert back.camera == sensor.camera
    # tracks are OpenLABEL objects spanning frames
    tracks = {o["name"] for o in doc["openlabel"]["objects"].values()}
    assert tracks == {lab.track_id for i in range(len(drive)) for lab in drive.labels(i)}


def test_kitti_attributes_and_scores_survive(kitti_object, tmp_path):
    drive = open_kitti_object(kitti_object)

    def labels_for(i):
        labels = drive.labels(i)
        extra = labels[0].with_(track_id=None, score=0.625, source="model",
                                attributes={"nested": {"a": [1, None]}, "empty": [], "nan": math.nan, "flag": False})
        return [*labels, extra]

    export_drive(drive, "openlabel", tmp_path / "out", labels_for, quiet(rotation="euler"))
    scene = read_openlabel(tmp_path / "out" / "openlabel.json")
    back = scene.labels_for(drive)
    for i in range(len(drive)):
        a, b = labels_for(i), back(i)
        assert_same_labels(a[:-1], b[:-1])
        y = b[-1]
        assert (y.track_id, y.score, y.source) == (None, 0.625, "model")
        assert y.attributes["nested"] == {"a": [1, None]} and y.attributes["empty"] == []
        assert math.isnan(y.attributes["nan"]) and y.attributes["flag"] is False
        assert isinstance(b[0].attributes["occluded"], int) and isinstance(b[0].attributes["truncated"], float)


def test_attribute_encoding_is_lossless():
    attrs = {"i": 3, "f": 3.0, "b": True, "s": "x", "nums": [1, 2.5], "strs": ["a", "b"], "mixed": [1, "a"],
             "none": None, "d": {"k": 1}}
    back = decode_attributes(encode_attributes(attrs), None, "x")
    assert back == attrs and isinstance(back["i"], int) and isinstance(back["f"], float)


def _third_party_document() -> tuple[dict, np.ndarray, np.ndarray, Cuboid]:
    """A file written by another tool: cuboid in the vehicle frame, quaternion transforms."""
    T_vehicle_lidar = T_from_Rt(rotation_from_euler(0.01, -0.02, 0.03), (1.2, 0.0, 1.9))
    T_odom_vehicle = T_from_Rt(rotation_from_euler(0.0, 0.0, 0.7), (100.0, -50.0, 0.3))
    box_vehicle = Cuboid((12.0, -3.0, 0.8), (4.5, 1.9, 1.6), 0.4)
    w, x, y, z = quaternion_from_rotation(box_vehicle.rotation())
    qw, qx, qy, qz = quaternion_from_rotation(T_odom_vehicle[:3, :3])
    doc = {"openlabel": {
        "metadata": {"schema_version": "1.0.0"},
        "coordinate_systems": {
            "odom": {"type": "scene_cs", "parent": "", "children": ["vehicle-iso8855"]},
            "vehicle-iso8855": {"type": "local_cs", "parent": "odom", "children": ["velo"]},
            "velo": {"type": "sensor_cs", "parent": "vehicle-iso8855",
                     "pose_wrt_parent": {"matrix4x4": T_vehicle_lidar.ravel().tolist()}}},
        "streams": {"velo": {"type": "lidar"}},
        "objects": {"0": {"name": "car-1", "type": "Car"}, "1": {"name": "ped", "type": "Pedestrian"}},
        "frames": {"5": {
            "frame_properties": {"timestamp": 12.5, "transforms": {"vehicle-iso8855_to_odom": {
                "src": "vehicle-iso8855", "dst": "odom",
                "transform_src_to_dst": {"quaternion": [qx, qy, qz, qw],
                                         "translation": T_odom_vehicle[:3, 3].tolist()}}}},
            "objects": {
                "1": {"object_data": {"cuboid": [{"name": "shape", "coordinate_system": "velo",
                                                  "val": [5, 1, -1, 0, 0, 0, 1, 0.6, 0.6, 1.8]}]}},
                "0": {"object_data": {"cuboid": [{"name": "shape", "coordinate_system": "vehicle-iso8855",
                                                  "val": [*box_vehicle.center, x, y, z, w, *box_vehicle.size]}]}}}}}}}
    return doc, T_vehicle_lidar, T_odom_vehicle, box_vehicle


def test_cuboids_in_other_coordinate_systems(tmp_path):
    doc, T_vehicle_lidar, T_odom_vehicle, box_vehicle = _third_party_document()
    # the same box once more, given in the scene frame
    box_odom = box_vehicle.transformed(T_odom_vehicle)
    w, x, y, z = quaternion_from_rotation(box_odom.rotation())
    doc["openlabel"]["objects"]["2"] = {"name": "car-2", "type": "Car"}
    doc["openlabel"]["frames"]["5"]["objects"]["2"] = {"object_data": {"cuboid": [
        {"name": "shape", "coordinate_system": "odom", "val": [*box_odom.center, x, y, z, w, *box_odom.size]}]}}
    path = tmp_path / "third_party.json"
    path.write_text(json.dumps(doc))
    scene = read_openlabel(path)
    labels = scene.labels[5]
    assert [lab.label for lab in labels] == ["Pedestrian", "Car", "Car"]
    expected = box_vehicle.transformed(invert_T(T_vehicle_lidar))
    for lab in labels[1:]:
        np.testing.assert_allclose(lab.box.center, expected.center, atol=1e-9)
        np.testing.assert_allclose(lab.box.rotation(), expected.rotation(), atol=1e-9)
    assert labels[0].box.center == (5.0, 1.0, -1.0) and labels[0].track_id == "ped"
    assert scene.frames[5].timestamp_us == 12_500_000
    np.testing.assert_allclose(scene.frames[5].T_world_vehicle, T_odom_vehicle, atol=1e-12)
    assert scene.rig.reference_lidar == "velo"


@pytest.mark.parametrize("edit, where", [
    (lambda d: d["openlabel"]["frames"]["5"]["objects"]["1"]["object_data"]["cuboid"][0].update(val=[1, 2, 3]),
     "openlabel.frames.5.objects.1.object_data.cuboid[0].val"),
    (lambda d: d["openlabel"]["metadata"].update(schema_version="0.3.0"), "openlabel.metadata.schema_version"),
    (lambda d: d["openlabel"]["objects"].pop("1"), "openlabel.frames.5.objects.1"),
    (lambda d: d["openlabel"]["frames"]["5"]["objects"]["1"]["object_data"]["cuboid"][0].update(
        val=[5, 1, -1, 0, 0, 0, 1, 0.6, -0.6, 1.8]), "cuboid[0].val"),
    (lambda d: d["openlabel"]["frames"]["5"]["frame_properties"]["transforms"]["vehicle-iso8855_to_odom"].update(
        transform_src_to_dst={"matrix4x4": [1, 2]}), "transforms.vehicle-iso8855_to_odom"),
])
def test_errors_name_the_key(tmp_path, edit, where):
    doc = _third_party_document()[0]
    edit(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(LabelError) as e:
        read_openlabel(path)
    assert where in str(e.value) and "bad.json" in str(e.value)


def test_invalid_json_names_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"openlabel": {\n  "metadata": }')
    with pytest.raises(LabelError, match="line 2"):
        read_openlabel(path)


def test_cli_import_with_openlabel_labels(tmp_path_factory, tmp_path):
    """`fusionlabel import DRIVE --labels FILE` gives a native drive carrying the file's labels."""
    import subprocess
    import sys

    from fusionlabel.io.native import open_native_drive

    drive = sim_drive(tmp_path_factory)

    def labels_for(i):
        return [lab.with_(label="renamed") for lab in drive.labels(i)][:3]

    export_drive(drive, "openlabel", tmp_path / "ol", labels_for, quiet())
    out = subprocess.run([sys.executable, "-m", "fusionlabel.cli.main", "import", str(drive.root), "--out",
                          str(tmp_path / "native"), "--labels", str(tmp_path / "ol" / "openlabel.json"), "--quiet"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    back = open_native_drive(tmp_path / "native")
    for i in range(len(drive)):
        assert_same_labels(labels_for(i), back.labels(i), atol=1e-12)
        assert back.frames[i].image_paths["cam_front"].read_bytes() == \
            drive.frames[i].image_paths["cam_front"].read_bytes()
