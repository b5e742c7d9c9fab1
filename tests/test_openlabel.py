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
from fusionlabel.geometry.transforms import (T_from_Rt, angle_difference, invert_T, quaternion_from_rotation,
                                             rotation_from_euler)
from fusionlabel.io.kitti import open_kitti_object
from fusionlabel.io.kitti_truncation import TRUNCATION_SCALE
from fusionlabel.io.nuscenes_boxes import SOURCE_BOX
from fusionlabel.io.openlabel import cuboid_from_val, cuboid_val, decode_attributes, encode_attributes, read_openlabel
from conftest import native_copy
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
    text = (tmp_path / "out" / "openlabel.json").read_text()
    doc = json.loads(text)
    check_structure(doc)
    assert summary.total_objects == 69 and len(doc["openlabel"]["objects"]) == 69
    scene = read_openlabel(tmp_path / "out" / "openlabel.json")
    # the nuScenes box's source numbers only steer the nuScenes exporter: not written
    assert all(SOURCE_BOX in lab.attributes for lab in drive.labels(0)) and SOURCE_BOX not in text
    assert_same_labels([lab.with_(attributes={k: v for k, v in lab.attributes.items() if k != SOURCE_BOX})
                        for lab in drive.labels(0)], scene.labels_for(drive)(0), atol=1e-12)
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


def test_rig_without_vehicle_frame_round_trips(small_sim_drive, tmp_path):
    """A rig whose LiDAR frame stands in for the vehicle's says so in the file, and reads back so;
    a rig with a vehicle frame writes nothing extra."""
    import dataclasses

    for vehicle_frame in (True, False):
        rig = dataclasses.replace(small_sim_drive.rig(0), vehicle_frame=vehicle_frame)
        drive = native_copy(small_sim_drive, tmp_path / f"d{vehicle_frame}", rig=rig)
        assert drive.rig(0).vehicle_frame is vehicle_frame
        out = tmp_path / f"out{vehicle_frame}"
        export_drive(drive, "openlabel", out, options=quiet())
        doc = json.loads((out / "openlabel.json").read_text())
        check_structure(doc)
        vehicle_cs = doc["openlabel"]["coordinate_systems"]["vehicle-iso8855"]
        assert vehicle_cs.get("vehicle_frame", True) is vehicle_frame and ("vehicle_frame" in vehicle_cs) != vehicle_frame
        scene = read_openlabel(out / "openlabel.json")
        assert scene.rig.vehicle_frame is vehicle_frame
        assert_same_labels(drive.labels(1), scene.labels_for(drive)(1), atol=1e-12)


def test_real_sustech_keeps_no_vehicle_frame(realdata, tmp_path):
    from fusionlabel.io.sustech import open_sustech

    root = realdata / "sustech_sequence"
    if not (root / "lidar").is_dir():
        pytest.skip("SUSTech sample not found")
    drive = open_sustech(root)
    assert drive.rig(0).vehicle_frame is False
    export_drive(drive, "openlabel", tmp_path / "out", options=quiet())
    scene = read_openlabel(tmp_path / "out" / "openlabel.json")
    assert scene.rig.vehicle_frame is False and set(scene.rig.sensors) == set(drive.rig(0).sensors)


def test_kitti_attributes_and_scores_survive(kitti_object, tmp_path):
    drive = open_kitti_object(kitti_object)

    def labels_for(i):
        labels = drive.labels(i)
        extra = labels[0].with_(track_id=None, score=0.625, source="model",
                                attributes={"nested": {"a": [1, None]}, "empty": [], "nan": math.nan, "flag": False})
        return [*labels, extra]

    export_drive(drive, "openlabel", tmp_path / "out", labels_for, quiet(rotation="euler", include_prelabels=True))
    scene = read_openlabel(tmp_path / "out" / "openlabel.json")
    back = scene.labels_for(drive)
    for i in range(len(drive)):
        a, b = labels_for(i), back(i)
        # the KITTI reader's truncation scale is not written (it only steers the KITTI exporters)
        assert all(lab.attributes[TRUNCATION_SCALE] == "fraction" for lab in a[:-1])
        assert_same_labels([lab.with_(attributes={k: v for k, v in lab.attributes.items() if k != TRUNCATION_SCALE})
                            for lab in a[:-1]], b[:-1])
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
    (lambda d: d["openlabel"]["coordinate_systems"]["vehicle-iso8855"].update(vehicle_frame="no"),
     "openlabel.coordinate_systems.vehicle-iso8855.vehicle_frame"),
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


# ------------------------------------------------------------------ coordinate systems and frame matching
def _exported(drive, tmp_path, **kw) -> dict:
    export_drive(drive, "openlabel", tmp_path / "ol", options=quiet(**kw))
    return json.loads((tmp_path / "ol" / "openlabel.json").read_text())


def _write(doc: dict, path) -> object:
    path.write_text(json.dumps(doc))
    return path


def _reexpress(doc: dict, target_of) -> None:
    """Re-express every cuboid of an exported file (given in its LiDAR coordinate system) in the
    coordinate system ``target_of(frame_key, k)`` ("vehicle-iso8855" or "odom"), as another tool
    would write it: through the file's own pose_wrt_parent and per-frame vehicle->odom transform."""
    ol = doc["openlabel"]
    lidar = next(n for n, s in ol["streams"].items() if s["type"] == "lidar")
    T_vehicle_lidar = np.asarray(ol["coordinate_systems"][lidar]["pose_wrt_parent"]["matrix4x4"]).reshape(4, 4)
    for fk, fr in ol["frames"].items():
        T_odom_vehicle = np.asarray(fr["frame_properties"]["transforms"]["vehicle-iso8855_to_odom"]
                                    ["transform_src_to_dst"]["matrix4x4"]).reshape(4, 4)
        for k, ob in enumerate(fr["objects"].values()):
            c = ob["object_data"]["cuboid"][0]
            target = target_of(fk, k)
            T = T_vehicle_lidar if target == "vehicle-iso8855" else T_odom_vehicle @ T_vehicle_lidar
            box = cuboid_from_val(c["val"], None, "test").transformed(T)
            c["val"], c["coordinate_system"] = cuboid_val(box), target


def assert_same_boxes(expected, got, atol=1e-9):
    assert [x.track_id for x in expected] == [y.track_id for y in got]
    for x, y in zip(expected, got):
        np.testing.assert_allclose(y.box.center, x.box.center, atol=atol)
        np.testing.assert_allclose(y.box.size, x.box.size, atol=atol)
        assert abs(angle_difference(y.box.yaw, x.box.yaw)) < atol
        np.testing.assert_allclose(y.box.rotation(), x.box.rotation(), atol=atol)


@pytest.mark.parametrize("target", ["vehicle-iso8855", "odom", "mixed"])
def test_round_trip_through_another_coordinate_system(small_sim_drive, tmp_path, target):
    """Cuboids written in the vehicle or scene coordinate system (the first cuboid included) come
    back in the drive's LiDAR frame: before the fix they kept the LiDAR mounting (+1.3, 0, 1.95 m)."""
    drive = small_sim_drive
    doc = _exported(drive, tmp_path)
    names = ["vehicle-iso8855", "odom"]
    _reexpress(doc, lambda fk, k: names[(int(fk) + k) % 2] if target == "mixed" else target)
    path = _write(doc, tmp_path / "other_cs.json")
    assert sum(len(drive.labels(i)) for i in range(len(drive))) > 0
    labels_for = read_openlabel(path).labels_for(drive)   # the LiDAR: the file's one stream of type lidar
    for i in range(len(drive)):
        assert_same_boxes(drive.labels(i), labels_for(i))
    scene = read_openlabel(path, lidar=drive.rig(0).reference_lidar)   # named as the drive's
    assert scene.lidar == drive.rig(0).reference_lidar
    labels_for = scene.labels_for(drive)
    for i in range(len(drive)):
        assert_same_boxes(drive.labels(i), labels_for(i))
    assert scene.notes == []


def test_lidar_named_otherwise_in_the_file_is_found_by_stream_type(small_sim_drive, tmp_path):
    drive = small_sim_drive
    ref = drive.rig(0).reference_lidar
    doc = _exported(drive, tmp_path)
    _reexpress(doc, lambda fk, k: "vehicle-iso8855")
    text = json.dumps(doc).replace(f'"{ref}"', '"velo"')   # the file calls its LiDAR "velo"
    path = tmp_path / "velo.json"
    path.write_text(text)
    scene = read_openlabel(path, lidar=ref)
    assert scene.lidar == "velo"
    labels_for = scene.labels_for(drive)
    for i in range(len(drive)):
        assert_same_boxes(drive.labels(i), labels_for(i))
    assert any("'velo'" in n and repr(ref) in n for n in scene.notes)


def test_unknown_lidar_coordinate_system_is_an_error(tmp_path):
    doc = _third_party_document()[0]
    doc["openlabel"]["streams"]["velo"]["type"] = "radar"   # no LiDAR declared any more
    path = _write(doc, tmp_path / "nolidar.json")
    with pytest.raises(LabelError, match="LiDAR coordinate system is unknown") as e:
        read_openlabel(path)
    assert "nolidar.json" in str(e.value)


def test_cuboid_in_vehicle_first_is_converted(tmp_path):
    """The first cuboid of the file is in the vehicle frame: it is still converted to the LiDAR."""
    doc, T_vehicle_lidar, _, box_vehicle = _third_party_document()
    objs = doc["openlabel"]["frames"]["5"]["objects"]
    doc["openlabel"]["frames"]["5"]["objects"] = {"0": objs["0"], "1": objs["1"]}
    scene = read_openlabel(_write(doc, tmp_path / "vehicle_first.json"))
    car, ped = scene.labels[5]
    expected = box_vehicle.transformed(invert_T(T_vehicle_lidar))
    np.testing.assert_allclose(car.box.center, expected.center, atol=1e-9)
    np.testing.assert_allclose(car.box.rotation(), expected.rotation(), atol=1e-9)
    assert ped.box.center == (5.0, 1.0, -1.0) and scene.lidar == "velo"


@pytest.mark.parametrize("uid", ["1", "0"])   # "1" is the file's first cuboid
def test_undeclared_coordinate_system_is_an_error(tmp_path, uid):
    doc = _third_party_document()[0]
    doc["openlabel"]["frames"]["5"]["objects"][uid]["object_data"]["cuboid"][0]["coordinate_system"] = "lidar_7"
    with pytest.raises(LabelError) as e:
        read_openlabel(_write(doc, tmp_path / "undeclared.json"))
    msg = str(e.value)
    assert "undeclared.json" in msg and f"openlabel.frames.5.objects.{uid}.object_data.cuboid[0]" in msg
    assert "'lidar_7'" in msg and "\n" not in msg


def test_labels_of_another_drive_are_refused(small_sim_drive, tmp_path):
    drive = small_sim_drive
    doc = _exported(drive, tmp_path)
    for k, fr in doc["openlabel"]["frames"].items():   # a nuScenes-like file: other frame IDs
        fr["frame_properties"]["frame_id"] = f"e93e98b63d3b40209056d129dc53ceee-{k}"
    path = _write(doc, tmp_path / "other_drive.json")
    scene = read_openlabel(path)
    with pytest.raises(LabelError) as e:
        scene.labels_for(drive)
    msg = str(e.value)
    assert "other_drive.json" in msg and "none of the file's frame IDs" in msg and "\n" not in msg
    assert "'e93e98b63d3b40209056d129dc53ceee-0'" in msg and repr(drive.frames[0].frame_id) in msg


def test_frames_that_do_not_match_are_named(small_sim_drive, tmp_path):
    drive = small_sim_drive
    doc = _exported(drive, tmp_path)
    doc["openlabel"]["frames"]["1"]["frame_properties"]["frame_id"] = "not-here"
    scene = read_openlabel(_write(doc, tmp_path / "partly.json"))
    labels_for = scene.labels_for(drive)
    assert_same_labels(drive.labels(0), labels_for(0), atol=1e-12)
    assert labels_for(1) == []    # not attached by number
    assert len(scene.notes) == 1 and "'not-here'" in scene.notes[0] and "1 of 3 frames" in scene.notes[0]


def test_file_without_frame_ids_matches_by_number(small_sim_drive, tmp_path):
    drive = small_sim_drive
    doc = _exported(drive, tmp_path)
    for fr in doc["openlabel"]["frames"].values():
        del fr["frame_properties"]["frame_id"]
    scene = read_openlabel(_write(doc, tmp_path / "no_ids.json"))
    labels_for = scene.labels_for(drive)
    for i in range(len(drive)):
        assert_same_labels(drive.labels(i), labels_for(i), atol=1e-12)
    doc["openlabel"]["frames"]["7"] = doc["openlabel"]["frames"]["0"]
    with pytest.raises(LabelError, match=r"frame 7\b.*is not in drive"):
        read_openlabel(_write(doc, tmp_path / "no_ids.json")).labels_for(drive)


def test_cli_import_converts_and_refuses(small_sim_drive, tmp_path, capsys):
    """`fusionlabel import DRIVE --labels FILE`: vehicle-frame cuboids land on the drive's boxes; a
    file of another drive stops with one line (exit 2) and writes nothing; unmatched frames are noted."""
    from fusionlabel.cli.main import main
    from fusionlabel.io.native import open_native_drive

    drive = small_sim_drive
    doc = _exported(drive, tmp_path)
    _reexpress(doc, lambda fk, k: "vehicle-iso8855")
    path = _write(doc, tmp_path / "vehicle.json")
    assert main(["import", str(drive.root), "--out", str(tmp_path / "n1"), "--labels", str(path), "--quiet"]) == 0
    back = open_native_drive(tmp_path / "n1")
    for i in range(len(drive)):
        assert_same_boxes(drive.labels(i), back.labels(i))
    doc["openlabel"]["frames"]["2"]["frame_properties"]["frame_id"] = "elsewhere"
    capsys.readouterr()
    assert main(["import", str(drive.root), "--out", str(tmp_path / "n2"), "--labels",
                 str(_write(doc, path)), "--quiet"]) == 0
    out = capsys.readouterr().err     # notes go to stderr
    assert "note: vehicle.json: labels of 1 of 3 frames not imported" in out and "'elsewhere'" in out
    assert open_native_drive(tmp_path / "n2").labels(2) == []
    for fr in doc["openlabel"]["frames"].values():
        fr["frame_properties"]["frame_id"] = "x" + fr["frame_properties"]["frame_id"]
    assert main(["import", str(drive.root), "--out", str(tmp_path / "n3"), "--labels",
                 str(_write(doc, path)), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "none of the file's frame IDs" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "n3").exists()


def test_a_retyped_track_exports_only_attributes_its_new_class_has(small_sim_drive, tmp_path):
    """A parked car's track retyped to pedestrian in a project: the export writes no ``parked``
    for it (the retype dropped it), and keeps its point counts and the other tracks' ``parked``."""
    from fusionlabel.export.source import open_source
    from fusionlabel.model import edit_actions as ea
    from fusionlabel.store.project import Project

    with Project.create(tmp_path / "project", small_sim_drive.root, import_labels=True, progress=False) as project:
        doc = project.document
        car = next(a for a in doc.annotations(0) if a.cls == "car" and a.attributes.get("parked") is not None)
        doc.apply(ea.set_class(doc, [car.uid], "pedestrian"))
        track = car.track_id
    with open_source(tmp_path / "project") as (drive, labels_for, _, _):
        export_drive(drive, "openlabel", tmp_path / "ol", labels_for, quiet())
    ol = json.loads((tmp_path / "ol" / "openlabel.json").read_text())["openlabel"]
    names = {uid: o["name"] for uid, o in ol["objects"].items()}
    seen = {True: set(), False: set()}
    for frame in ol["frames"].values():
        for uid, obj in frame["objects"].items():
            attrs = obj["object_data"]["cuboid"][0].get("attributes", {})
            seen[names[uid] == track] |= {a["name"] for kind in attrs.values() for a in kind}
    assert "parked" not in seen[True] and "num_lidar_points" in seen[True]
    assert "parked" in seen[False]
