"""Rig YAML: the documented example loads, round-trips, and every bad value names file and key."""

import copy
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from fusionlabel.errors import CalibrationError
from fusionlabel.geometry.transforms import invert_T
from fusionlabel.io.rig_yaml import load_rig, rig_from_dict, save_rig

EXAMPLE = Path(__file__).resolve().parents[1] / "calib" / "example_rig.yaml"


@pytest.fixture
def doc():
    return yaml.safe_load(EXAMPLE.read_text())


def test_example_loads(doc):
    rig = load_rig(EXAMPLE)
    assert rig.reference_lidar == "lidar_top"
    assert rig.camera_names == ["cam_front", "cam_front_left"]
    front = rig.camera("cam_front")
    assert front.camera.model == "radtan" and front.camera.width == 1280
    # The front camera looks along vehicle +x: a point 10 m ahead of it projects to the principal point.
    p_vehicle = np.array([11.6, 0.0, 1.45, 1.0])
    p_cam = invert_T(front.T_vehicle_sensor) @ p_vehicle
    np.testing.assert_allclose(p_cam[:3], [0, 0, 10], atol=1e-12)
    # The chained fisheye is 45 degrees left of the front camera, 0.5 m to its left (camera -x) and 0.3 m behind (camera -z).
    left = rig.camera("cam_front_left").T_vehicle_sensor
    np.testing.assert_allclose(left[:3, 3], [1.6 - 0.3, 0.5, 1.45], atol=1e-9)
    optical_axis_vehicle = left[:3, 2]
    np.testing.assert_allclose(optical_axis_vehicle, [np.sqrt(0.5), np.sqrt(0.5), 0], atol=1e-6)


def test_save_load_round_trip(tmp_path):
    rig = load_rig(EXAMPLE)
    save_rig(rig, tmp_path / "rig.yaml")
    again = load_rig(tmp_path / "rig.yaml")
    for name, s in rig.sensors.items():
        np.testing.assert_array_equal(again.sensors[name].T_vehicle_sensor, s.T_vehicle_sensor)
        if s.kind == "camera":
            assert again.sensors[name].camera == s.camera


def edit(doc, path, value):
    d = copy.deepcopy(doc)
    node = d
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[k]
    if value is KeyError:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return d


@pytest.mark.parametrize("path, value, message", [
    ("format", "other/2", r"format: expected 'fusionlabel-rig/1'"),
    ("sensors.cam_front.intrinsics.fx", -5.0, r"sensors.cam_front.intrinsics.fx: must be positive"),
    ("sensors.cam_front.intrinsics.cx", 5000.0, r"intrinsics.cx: principal point must lie inside"),
    ("sensors.cam_front.model", "kannala", r"sensors.cam_front.model: unknown camera model"),
    ("sensors.cam_front.distortion", [0.1, 0.2, 0.3], r"sensors.cam_front.distortion: expected a list of 4 or 5 or 8"),
    ("sensors.cam_front.extrinsic.rotation", {"matrix": [[1, 0, 0], [0, 1, 0], [0, 0, -1]]}, r"not a rotation.*det = -1"),
    ("sensors.cam_front.extrinsic.rotation", {"matrix": [[1, 0.1, 0], [0, 1, 0], [0, 0, 1]]}, r"not a rotation"),
    ("sensors.cam_front.extrinsic.rotation", {"quaternion": [1, 1, 0, 0]}, r"unit norm"),
    ("sensors.cam_front_left.extrinsic.parent", "cam_rear", r"refers to undefined sensor 'cam_rear'"),
    ("sensors.cam_front.extrinsic.parent", "cam_front_left", r"extrinsic chain loops"),
    ("reference_lidar", "cam_front", r"reference_lidar: refers to 'cam_front', which is not a LiDAR"),
    ("sensors.cam_front.resolution", KeyError, r"sensors.cam_front.resolution: missing required key"),
    ("sensors.cam_front.intrinsics.fy", "abc", r"intrinsics.fy: expected a finite number"),
    ("sensors.lidar_top.type", "radar", r"sensors.lidar_top.type: expected 'lidar' or 'camera'"),
    ("sensors.cam_front.intrinsics", [980.0, 981.0, 640.0, 360.0],
     r"sensors.cam_front.intrinsics: expected a mapping \{fx, fy, cx, cy\}, got the list .*Kalibr's \[fu, fv, pu, pv\] "
     r"it is \{fx: 980.0, fy: 981.0, cx: 640.0, cy: 360.0\}"),
    ("sensors.cam_front.extrinsic.rotation", [1.0, 0.0, 0.0, 0.0],
     r"sensors.cam_front.extrinsic.rotation: expected a mapping with keys quaternion, matrix, rpy_deg, got list"),
    ("sensors.cam_front_left.model", "KannalaBrandt8", r"unknown camera model 'KannalaBrandt8'; .*kb4 \(fisheye\).*"
     r"a Kannala-Brandt lens \(k1..k4\) is fisheye"),
])
def test_validation_names_file_and_key(tmp_path, doc, path, value, message):
    bad = tmp_path / "bad_rig.yaml"
    bad.write_text(yaml.safe_dump(edit(doc, path, value)))
    with pytest.raises(CalibrationError, match=message) as e:
        load_rig(bad)
    assert str(e.value).startswith(str(bad))


def test_invalid_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "rig.yaml"
    bad.write_text("format: [unclosed\n")
    with pytest.raises(CalibrationError, match="invalid YAML"):
        load_rig(bad)
    with pytest.raises(CalibrationError, match="not found"):
        load_rig(tmp_path / "nope.yaml")


def test_pinhole_rejects_distortion(doc):
    d = edit(doc, "sensors.cam_front.model", "pinhole")
    with pytest.raises(CalibrationError, match="pinhole camera takes no distortion"):
        rig_from_dict(d)


def test_yaml_syntax_error_names_line_and_column(tmp_path):
    # the same one-line form as every other YAML file fusionlabel reads: FILE: line L, column C: invalid YAML: ...
    bad = tmp_path / "rig.yaml"
    bad.write_text("format: fusionlabel-rig/1\nname: a: b\n")
    with pytest.raises(CalibrationError) as e:
        load_rig(bad)
    assert str(e.value) == f"{bad}: line 2, column 8: invalid YAML: mapping values are not allowed here"
    bad.write_text("format: fusionlabel-rig/1\nname: [x\nsensors: {}\n")
    with pytest.raises(CalibrationError) as e:
        load_rig(bad)
    assert str(e.value) == (f"{bad}: line 3, column 8: invalid YAML: expected ',' or ']', but got ':' "
                            f"(while parsing a flow sequence at line 2, column 7)")
    bad.write_text("name: \x07\n")      # a character YAML does not allow: still a line and a column
    with pytest.raises(CalibrationError) as e:
        load_rig(bad)
    assert str(e.value).startswith(f"{bad}: line 1, column 7: invalid YAML: ") and "#x0007" in str(e.value)


def _tilted_camera_rotation() -> np.ndarray:
    """A forward camera pitched and yawed a little: no entry is a round number."""
    from fusionlabel.geometry.transforms import rotation_from_euler
    return rotation_from_euler(np.radians(-92.3), np.radians(1.7), np.radians(-88.9))


@pytest.mark.parametrize("decimals", [5, 6])
def test_matrix_printed_with_few_decimals_loads_as_the_nearest_exact_rotation(doc, decimals):
    from fusionlabel.geometry.transforms import rotation_error
    exact = _tilted_camera_rotation()
    rounded = np.round(exact, decimals)
    assert rotation_error(rounded) > 1e-6          # the old loader refused these
    d = edit(doc, "sensors.cam_front.extrinsic.rotation", {"matrix": rounded.tolist()})
    R = rig_from_dict(d).camera("cam_front").T_vehicle_sensor[:3, :3]
    assert rotation_error(R) < 1e-12               # re-orthonormalised on load
    np.testing.assert_allclose(R, exact, atol=2 * 10.0 ** -decimals)


def test_matrix_rounded_too_coarsely_says_what_to_write(doc):
    d = edit(doc, "sensors.cam_front.extrinsic.rotation", {"matrix": np.round(_tilted_camera_rotation(), 2).tolist()})
    with pytest.raises(CalibrationError, match=r"extrinsic\.rotation\.matrix: is not a rotation .*error .* > 0\.0001; "
                                               r"write at least 6 significant digits, or give a quaternion"):
        rig_from_dict(d)


def test_forward_camera_rpy_of_the_docs_is_the_example_matrix(doc):
    # calib/README.md gives rpy_deg [-90, 0, -90] for a camera looking along vehicle +x ...
    by_matrix = rig_from_dict(doc).camera("cam_front").T_vehicle_sensor
    d = edit(doc, "sensors.cam_front.extrinsic.rotation", {"rpy_deg": [-90, 0, -90]})
    np.testing.assert_allclose(rig_from_dict(d).camera("cam_front").T_vehicle_sensor, by_matrix, atol=1e-15)
    # ... pitched down by 5 degrees and turned 30 degrees left: the optical axis (column z) in the vehicle frame.
    for rpy, axis in (([-95, 0, -90], [np.cos(np.radians(5)), 0, -np.sin(np.radians(5))]),
                      ([-90, 0, -60], [np.cos(np.radians(30)), np.sin(np.radians(30)), 0])):
        d = edit(doc, "sensors.cam_front.extrinsic.rotation", {"rpy_deg": rpy})
        np.testing.assert_allclose(rig_from_dict(d).camera("cam_front").T_vehicle_sensor[:3, 2], axis, atol=1e-12)


@pytest.mark.parametrize("path, value, key", [
    ("vehicle-frame", False, "vehicle-frame"),
    ("sensors.cam_front.distortion_coeffs", [0.0] * 5, "sensors.cam_front.distortion_coeffs"),
    ("sensors.cam_front.distorsion", [0.0] * 5, "sensors.cam_front.distorsion"),
    ("sensors.lidar_top.model", "pinhole", "sensors.lidar_top.model"),
    ("sensors.cam_front.extrinsic.frame", "vehicle", "sensors.cam_front.extrinsic.frame"),
    ("sensors.cam_front.extrinsic.rotation.rpy", [0, 0, 0], "sensors.cam_front.extrinsic.rotation.rpy"),
    ("sensors.cam_front.intrinsics.k1", 0.1, "sensors.cam_front.intrinsics.k1"),
])
def test_unknown_keys_are_refused_naming_the_key_and_the_expected_ones(tmp_path, doc, path, value, key):
    bad = tmp_path / "rig.yaml"
    bad.write_text(yaml.safe_dump(edit(doc, path, value)))
    with pytest.raises(CalibrationError) as e:
        load_rig(bad)
    assert e.value.where == key
    assert str(e.value).startswith(f"{bad}: {key}: unknown key (expected one of ")


def test_translation_in_millimetres_is_refused(doc):
    d = edit(doc, "sensors.lidar_top.extrinsic.translation", [1300, 0, 1900])
    with pytest.raises(CalibrationError, match=r"lidar_top\.extrinsic\.translation: .*2302\.17 m from its parent.*"
                                               r"millimetres"):
        rig_from_dict(d)
    rig_from_dict(edit(doc, "sensors.lidar_top.extrinsic.translation", [60, 0, 70]))  # 92 m: allowed


# ------------------------------------------------------------------------------ rectified cameras
def test_rectified_camera_round_trips_and_keeps_its_rotation_as_written(tmp_path, doc):
    """A rectified camera (KITTI's image_N) keeps its printed rotation, orthonormal only to ~1e-7,
    bit for bit, so that it projects exactly as its dataset's calibration; another camera's matrix
    is made exact."""
    from fusionlabel.geometry.transforms import rotation_error

    printed = np.round(_tilted_camera_rotation(), 7)
    assert rotation_error(printed) > 1e-9
    plain = edit(doc, "sensors.cam_front.extrinsic.rotation", {"matrix": printed.tolist()})
    assert rotation_error(rig_from_dict(plain).camera("cam_front").T_vehicle_sensor[:3, :3]) < 1e-12
    assert rig_from_dict(plain).camera("cam_front").T_rect_cam is None
    rig = rig_from_dict(edit(plain, "sensors.cam_front.rectified", {"translation": [-0.06, 0.0004, -0.003]}))
    front = rig.camera("cam_front")
    np.testing.assert_array_equal(front.T_vehicle_sensor[:3, :3], printed)
    np.testing.assert_array_equal(front.T_rect_cam, [[1, 0, 0, -0.06], [0, 1, 0, 0.0004], [0, 0, 1, -0.003],
                                                     [0, 0, 0, 1]])
    save_rig(rig, tmp_path / "rig.yaml")
    again = load_rig(tmp_path / "rig.yaml").camera("cam_front")
    np.testing.assert_array_equal(again.T_vehicle_sensor, front.T_vehicle_sensor)
    np.testing.assert_array_equal(again.T_rect_cam, front.T_rect_cam)
    assert "rectified" not in yaml.safe_load((tmp_path / "rig.yaml").read_text())["sensors"]["cam_front_left"]


@pytest.mark.parametrize("path, value, key, message", [
    ("sensors.cam_front.rectified", True, "sensors.cam_front.rectified",
     r"expected a mapping \{translation: \[x, y, z\]\} .*got True"),
    ("sensors.cam_front.rectified", {}, "sensors.cam_front.rectified.translation", "missing required key"),
    ("sensors.cam_front.rectified", {"translation": [0.5, 0.0]}, "sensors.cam_front.rectified.translation",
     "expected a list of 3 numbers"),
    ("sensors.cam_front.rectified", {"translation": [0.0, "a", 0.0]}, "sensors.cam_front.rectified.translation[1]",
     "expected a finite number"),
    ("sensors.cam_front.rectified", {"translation": [540.0, 0.0, 0.0]}, "sensors.cam_front.rectified.translation",
     r"540 m from the rectified frame's origin .*millimetres"),
    ("sensors.cam_front.rectified", {"translation": [0, 0, 0], "rotation": {"rpy_deg": [0, 0, 0]}},
     "sensors.cam_front.rectified.rotation", r"unknown key \(expected one of translation\)"),
    ("sensors.lidar_top.rectified", {"translation": [0, 0, 0]}, "sensors.lidar_top.rectified", "unknown key"),
])
def test_bad_rectified_key_names_file_key_and_problem(tmp_path, doc, path, value, key, message):
    bad = tmp_path / "rig.yaml"
    bad.write_text(yaml.safe_dump(edit(doc, path, value)))
    with pytest.raises(CalibrationError) as e:
        load_rig(bad)
    assert e.value.where == key and str(e.value).startswith(f"{bad}: {key}: ")
    assert re.search(message, str(e.value)), str(e.value)


def _load_error(path: Path, text: str) -> str:
    """The one-line CalibrationError of loading ``text`` written to ``path``."""
    path.write_text(text)
    with pytest.raises(CalibrationError) as e:
        load_rig(path)
    return str(e.value)


def test_sensor_named_by_a_number_is_refused_with_the_quoting_fix(tmp_path):
    """``1:`` in YAML is the number 1: every command would later compare it with names read as
    text; the loader refuses it in one line saying how to write it."""
    text = EXAMPLE.read_text().replace("  cam_front_left:\n", "  1:\n")
    bad = tmp_path / "rig.yaml"
    assert _load_error(bad, text) == f'{bad}: sensors.1: sensor names are strings; quote it: "1"'
    bad.write_text(text.replace("  1:\n", '  "1":\n'))
    assert load_rig(bad).camera_names == ["cam_front", "1"]


SECOND_CAM_FRONT = ("  cam_front:\n    type: camera\n    model: pinhole\n    resolution: [10, 10]\n"
                    "    intrinsics: {fx: 9, fy: 9, cx: 5, cy: 5}\n"
                    "    extrinsic: {translation: [0, 0, 0], rotation: {rpy_deg: [0, 0, 0]}}\n")


@pytest.mark.parametrize("key, first, insert_before", [
    ("cam_front", "  cam_front:", ("  cam_front_left:\n", SECOND_CAM_FRONT)),
    ("model", "    model: radtan                     # pinhole | radtan | fisheye",
     ("    resolution: [1280, 720]", "    model: fisheye\n")),
])
def test_key_written_twice_is_refused_with_both_lines(tmp_path, key, first, insert_before):
    """A second ``cam_front:`` sensor or a second ``model:`` used to replace the first without a word."""
    text = EXAMPLE.read_text()
    first_line = text.splitlines().index(first) + 1
    anchor, extra = insert_before
    doubled = text.replace(anchor, extra + anchor, 1)
    second_line = doubled.splitlines().index(extra.splitlines()[0], first_line) + 1
    assert yaml.safe_load(doubled)       # plain YAML reads it, the last one winning
    bad = tmp_path / "rig.yaml"
    column = len(first) - len(first.lstrip()) + 1
    assert _load_error(bad, doubled) == (f"{bad}: line {second_line}, column {column}: invalid YAML: key '{key}' appears twice "
                            f"(first at line {first_line}, column {column})")


def test_empty_rig_file_says_it_is_empty(tmp_path):
    bad = tmp_path / "rig.yaml"
    assert _load_error(bad, "# nothing here yet\n") == f"{bad}: (document): the file is empty; expected a rig with format, sensors (see calib/README.md)"


@pytest.mark.parametrize("alias, model", [("plumb_bob", "radtan"), ("rational_polynomial", "radtan"),
                                          ("equidistant", "fisheye"), ("kannala_brandt", "fisheye"),
                                          ("kb4", "fisheye")])
def test_ros_and_kalibr_model_names_read_as_ours(tmp_path, doc, alias, model):
    camera = "cam_front" if model == "radtan" else "cam_front_left"
    reference = rig_from_dict(doc).camera(camera).camera
    rig = rig_from_dict(edit(doc, f"sensors.{camera}.model", alias))
    assert rig.camera(camera).camera == reference
    save_rig(rig, tmp_path / "rig.yaml")        # written back under our own name
    assert yaml.safe_load((tmp_path / "rig.yaml").read_text())["sensors"][camera]["model"] == model


def test_pinhole_accepts_all_zero_distortion_only(doc):
    pinhole = edit(doc, "sensors.cam_front.model", "pinhole")
    reference = rig_from_dict(edit(pinhole, "sensors.cam_front.distortion", KeyError)).camera("cam_front").camera
    for zeros in ([0, 0, 0, 0, 0], [0.0, 0.0, 0.0, 0.0], [0.0] * 8):
        assert rig_from_dict(edit(pinhole, "sensors.cam_front.distortion", zeros)).camera("cam_front").camera == reference
    for bad in ([0, 0, 0.001, 0, 0], "none"):
        with pytest.raises(CalibrationError, match="pinhole camera takes no distortion"):
            rig_from_dict(edit(pinhole, "sensors.cam_front.distortion", bad))


# The mistakes of a rig written by hand from another tool's calibration: each refused with what to write.

def test_principal_point_outside_names_the_image_size_the_intrinsics_fit(doc):
    # SUSTech's K (2048x1536 images) with the resolution of half-size images: cy = 792.5 is past 768.
    d = edit(doc, "sensors.cam_front.resolution", [1024, 768])
    d["sensors"]["cam_front"]["intrinsics"].update(cx=1022.43, cy=792.54)
    with pytest.raises(CalibrationError, match=r"intrinsics.cy: principal point must lie inside the image \[0, 768\], "
                                               r"got 792.54: the intrinsics look like those of a 2046x1586 image"):
        rig_from_dict(d)
    # the two axes disagree (no image of the same shape has that centre): no size is named
    d["sensors"]["cam_front"]["intrinsics"].update(cx=300.0, cy=2000.0)
    with pytest.raises(CalibrationError) as e:
        rig_from_dict(d)
    assert str(e.value).endswith("principal point must lie inside the image [0, 768], got 2000.0")


@pytest.mark.parametrize("K", [
    [[980.0, 0.0, 640.0], [0.0, 981.0, 360.0], [0.0, 0.0, 1.0]],       # OpenCV's camera matrix
    [980.0, 0.0, 640.0, 0.0, 981.0, 360.0, 0.0, 0.0, 1.0],             # SUSTech's "intrinsic", row by row
])
def test_camera_matrix_given_as_intrinsics_is_refused_with_the_mapping_to_write(doc, K):
    with pytest.raises(CalibrationError, match=r"sensors.cam_front.intrinsics: expected a mapping \{fx, fy, cx, cy\}, "
                                               r"got the camera matrix K .*written as a mapping it is "
                                               r"\{fx: 980.0, fy: 981.0, cx: 640.0, cy: 360.0\}"):
        rig_from_dict(edit(doc, "sensors.cam_front.intrinsics", K))


@pytest.mark.parametrize("matrix", [
    [[0, 0, 1, 1.6], [-1, 0, 0, 0.1], [0, -1, 0, 1.45], [0, 0, 0, 1]],
    [[0, 0, 1, 1.6], [-1, 0, 0, 0.1], [0, -1, 0, 1.45]],
    [0, 0, 1, 1.6, -1, 0, 0, 0.1, 0, -1, 0, 1.45, 0, 0, 0, 1],          # SUSTech's "extrinsic", row by row
])
def test_transform_given_as_rotation_matrix_says_where_the_translation_goes(doc, matrix):
    with pytest.raises(CalibrationError, match=r"extrinsic.rotation.matrix: expected 3 rows of 3 numbers, got a [34]x4 "
                                               r"transform: .*inverted first.* its last column \[1.6, 0.1, 1.45\] as "
                                               r"translation"):
        rig_from_dict(edit(doc, "sensors.cam_front.extrinsic.rotation", {"matrix": matrix}))


@pytest.mark.parametrize("camera, model, coefficients", [
    ("cam_front", "radtan", r"\[k1, k2, p1, p2\], \[k1, k2, p1, p2, k3\] or \[k1, k2, p1, p2, k3, k4, k5, k6\]"),
    ("cam_front_left", "fisheye", r"\[k1, k2, k3, k4\]"),
])
def test_distorted_camera_without_distortion_says_what_to_write(doc, camera, model, coefficients):
    with pytest.raises(CalibrationError, match=rf"sensors.{camera}.distortion: missing required key: a {model} camera "
                                               rf"needs its coefficients, {coefficients}; a camera without lens "
                                               r"distortion is model: pinhole"):
        rig_from_dict(edit(doc, f"sensors.{camera}.distortion", KeyError))
