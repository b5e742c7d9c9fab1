"""ONNX detector contract: input columns, label base, settings checks, load-time input checks,
onnxruntime's log, errors naming the frame. Small models are built here with the onnx helper API."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper  # noqa: E402
from test_assist_onnx import BOX, _const, build_const_model, build_extent_model, save_model  # noqa: E402

from fusionlabel.assist.onnx_detector import OnnxDetector  # noqa: E402
from fusionlabel.errors import InputError  # noqa: E402


def box_outputs(box="boxes"):
    return [helper.make_tensor_value_info(box, TensorProto.FLOAT, [1, 7]),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1]),
            helper.make_tensor_value_info("labels", TensorProto.INT64, [1])]


def build_column_probe(path, features=5):
    """A model whose one box reports what it was fed: centre = (mean of column F-2, mean of column
    F-1, max of column F-1), size 1, score 0.9, label 0."""
    x = helper.make_tensor_value_info("points", TensorProto.FLOAT, ["N", features])
    f = features
    nodes = [helper.make_node("ReduceMean", ["points"], ["mean"], axes=[0], keepdims=0),
             helper.make_node("ReduceMax", ["points"], ["mx"], axes=[0], keepdims=0),
             _const("a", [f - 2], TensorProto.INT64), _const("b", [f], TensorProto.INT64),
             _const("c", [f - 1], TensorProto.INT64),
             helper.make_node("Slice", ["mean", "a", "b"], ["xy"]),
             helper.make_node("Slice", ["mx", "c", "b"], ["z"]),
             _const("rest", [1.0, 1.0, 1.0, 0.0]),
             helper.make_node("Concat", ["xy", "z", "rest"], ["box7"], axis=0),
             _const("ax", [0], TensorProto.INT64),
             helper.make_node("Unsqueeze", ["box7", "ax"], ["boxes"]),
             _const("scores", [0.9]), _const("labels", [0], TensorProto.INT64)]
    return save_model(path, nodes, [x], box_outputs(), classes="Car,Pedestrian,Cyclist")


@pytest.fixture
def nusc_like_sweep():
    """x, y, z, intensity, ring like a nuScenes sweep (ring 0..31, intensity 0..255)."""
    rng = np.random.default_rng(3)
    n = 640
    p = np.c_[rng.uniform(5, 40, n), rng.uniform(-10, 10, n), rng.uniform(-1.5, 1, n), rng.uniform(0, 255, n),
              np.arange(n) % 32]
    return p.astype(np.float32)


def settings(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


# ------------------------------------------------------------------------------ 1 input columns
def test_a_model_wanting_more_than_four_columns_is_not_fed_the_ring_unasked(tmp_path, nusc_like_sweep):
    model = build_column_probe(tmp_path / "m.onnx", features=5)
    with pytest.raises(InputError) as e:
        OnnxDetector(model)
    text = str(e.value)
    assert "takes 5 columns" in text and "input_columns" in text and "zero" in text and "\n" not in text


def test_input_columns_feed_named_sweep_columns_and_constants(tmp_path, nusc_like_sweep):
    p = nusc_like_sweep
    model = build_column_probe(tmp_path / "m.onnx", features=5)
    # nuScenes-trained: time lag 0 in column 5, never the ring
    (d,) = OnnxDetector(model, settings(tmp_path, "input_columns: [x, y, z, intensity, zero]\n")).detect(p)
    np.testing.assert_allclose(d.box.center, [p[:, 3].mean(), 0.0, 0.0], rtol=1e-5)
    # OpenPCDet's batch index first: the model then sees z and intensity last
    (d,) = OnnxDetector(model, settings(tmp_path, "input_columns: [batch, x, y, z, intensity]\n"
                                                  "intensity_scale: 0.00392156862745098\n")).detect(p)
    np.testing.assert_allclose(d.box.center, [p[:, 2].mean(), p[:, 3].mean() / 255, p[:, 3].max() / 255], rtol=1e-5)
    # the ring, when asked for
    (d,) = OnnxDetector(model, settings(tmp_path, "input_columns: [x, y, z, intensity, ring]\n")).detect(p)
    np.testing.assert_allclose(d.box.center, [p[:, 3].mean(), p[:, 4].mean(), 31.0], rtol=1e-5)


def test_input_columns_the_sweep_lacks_are_named_with_the_frame(tmp_path, nusc_like_sweep):
    model = build_column_probe(tmp_path / "m.onnx", features=5)
    det = OnnxDetector(model, settings(tmp_path, "input_columns: [x, y, z, intensity, time]\n"))
    with pytest.raises(InputError) as e:
        det.detect(nusc_like_sweep, frame="000007")
    assert str(e.value) == (f"{model}: frame 000007: input_columns: the sweep has no time column (it holds x, y, z, "
                            "intensity, ring); change the model's input_columns")
    no_ring = np.c_[nusc_like_sweep[:, :4], np.full(len(nusc_like_sweep), -1.0), np.zeros(len(nusc_like_sweep))]
    det = OnnxDetector(model, settings(tmp_path, "input_columns: [x, y, z, intensity, ring]\n"))
    with pytest.raises(InputError, match="frame 3: input_columns: the sweep has no ring column"):
        det.detect(no_ring.astype(np.float32), frame="3")


@pytest.mark.parametrize("text, message", [
    ("input_columns: [x, y, z, intensity]\n", "input_columns: 4 columns (x, y, z, intensity) but the model takes 5"),
    ("point_features: 4\n", "point_features: 4 columns (x, y, z, intensity) but the model takes 5"),
    ("input_columns: [x, y, z, intensity, zero]\npoint_features: 4\n", "point_features: give either input_columns"),
    ("input_columns: [x, y, z, intensity, lag]\n", "input_columns: unknown column 'lag'"),
    ("input_columns: [x, y, x, intensity, zero]\n", "input_columns: column 'x' is listed twice"),
])
def test_input_columns_that_do_not_fit_the_model_are_refused(tmp_path, text, message):
    model = build_column_probe(tmp_path / "m.onnx", features=5)
    path = settings(tmp_path, text)
    with pytest.raises(InputError) as e:
        OnnxDetector(model, path)
    assert str(e.value).startswith(f"{path}: {message}"), str(e.value)


# ------------------------------------------------------------------------------ 2 label base
def test_label_base_1_maps_openpcdet_labels(tmp_path):
    model = build_const_model(tmp_path / "m.onnx", [BOX, BOX, BOX], [0.9, 0.8, 0.7], [1, 1, 2],
                              classes="Car,Pedestrian,Cyclist")
    points = np.zeros((10, 4), np.float32)
    dets = OnnxDetector(model, settings(tmp_path, "label_base: 1\n")).detect(points)
    assert [d.label for d in dets] == ["Car", "Car", "Pedestrian"]
    # the documented alternative: a null class 0
    dets = OnnxDetector(model, settings(tmp_path, "classes: [null, Car, Pedestrian, Cyclist]\n")).detect(points)
    assert [d.label for d in dets] == ["Car", "Car", "Pedestrian"]


def test_a_label_one_past_the_classes_suggests_label_base(tmp_path):
    model = build_const_model(tmp_path / "m.onnx", [BOX, BOX], [0.9, 0.8], [1, 3], classes="Car,Pedestrian,Cyclist")
    with pytest.raises(InputError) as e:
        OnnxDetector(model).detect(np.zeros((10, 4), np.float32), frame="000001")
    assert "frame 000001: classes: label index 3 has no class" in str(e.value) and "label_base: 1" in str(e.value)
    zero = build_const_model(tmp_path / "z.onnx", [BOX], [0.9], [0], classes="Car,Pedestrian,Cyclist")
    with pytest.raises(InputError, match="label index 0 has no class .*label_base 1"):
        OnnxDetector(zero, settings(tmp_path, "label_base: 1\n")).detect(np.zeros((10, 4), np.float32))


# ------------------------------------------------------------------------------ 3 settings checks
@pytest.mark.parametrize("text, key", [
    ("point_features: abc\n", "point_features"), ("point_features: 5\n", "point_features"),
    ("point_features: 2\n", "point_features"), ("intensity_scale: x\n", "intensity_scale"),
    ("intensity_scale: 0\n", "intensity_scale"), ("score_threshold: abc\n", "score_threshold"),
    ("score_threshold: null\n", "score_threshold"), ("score_threshold: 1.5\n", "score_threshold"),
    ("outputs: boxes\n", "outputs"), ("outputs: {box: b}\n", "outputs"), ("outputs: {boxes: 3}\n", "outputs"),
    ("max_points: abc\n", "max_points"), ("max_points: -5\n", "max_points"), ("max_points: 1.5\n", "max_points"),
    ("max_points: true\n", "max_points"), ("z_origin: Bottom\n", "z_origin"), ("classes: Car\n", "classes"),
    ("classes: [Car, 3]\n", "classes"), ("classes: []\n", "classes"), ("label_base: 2\n", "label_base"),
    ("label_base: true\n", "label_base"), ("input: 7\n", "input"), ("input_columns: x\n", "input_columns"),
    ("colour: red\n", "colour"), ("label_base: 1\nclasses: [null, Car, Pedestrian]\n", "classes"),
])
def test_every_setting_is_checked_in_one_line_naming_file_and_key(tmp_path, text, key):
    model = build_extent_model(tmp_path / "m.onnx")
    path = settings(tmp_path, text)
    with pytest.raises(InputError) as e:
        OnnxDetector(model, path)
    assert str(e.value).startswith(f"{path}: {key}: ") and "\n" not in str(e.value), str(e.value)


def test_max_points_must_agree_with_a_static_point_count(tmp_path):
    model = build_const_model(tmp_path / "n.onnx", [BOX], [0.9], [0], in_shape=(1000, 4))
    path = settings(tmp_path, "max_points: 500\n")
    with pytest.raises(InputError, match=f"^{path}: max_points: max_points is 500 but the model takes 1000 points$"):
        OnnxDetector(model, path)
    assert OnnxDetector(model).max_points == 1000


# ------------------------------------------------------------------------------ 4 onnxruntime's log
def build_reshape_model(path, n=1000):
    """A model that reshapes its points to (n, 4): any other point count fails inside onnxruntime;
    it also holds an unused initializer, which onnxruntime warns about when it loads."""
    unused = helper.make_tensor("unused_w", TensorProto.FLOAT, [2], [1.0, 2.0])
    x = helper.make_tensor_value_info("points", TensorProto.FLOAT, ["N", 4])
    nodes = [_const("shp", [n, 4], TensorProto.INT64), helper.make_node("Reshape", ["points", "shp"], ["r"]),
             helper.make_node("ReduceSum", ["r"], ["s"], keepdims=0), _const("zero", [0.0]),
             helper.make_node("Mul", ["s", "zero"], ["sz"]), _const("b0", [BOX]),
             helper.make_node("Add", ["b0", "sz"], ["boxes"]), _const("scores", [0.9]),
             _const("labels", [0], TensorProto.INT64)]
    return save_model(path, nodes, [x], box_outputs(), initializers=[unused])


def test_onnxruntime_log_stays_off_stderr_and_inference_errors_name_the_frame(tmp_path, capfd):
    det = OnnxDetector(build_reshape_model(tmp_path / "r.onnx"))
    with pytest.raises(InputError) as e:
        det.detect(np.zeros((10, 4), np.float32), frame="000042")
    err = capfd.readouterr().err      # neither the load-time warning nor the run's error text
    assert "onnxruntime" not in err and "\x1b[" not in err, err
    text = str(e.value)
    assert text.startswith(f"{tmp_path / 'r.onnx'}: frame 000042: inference failed: ") and "Reshape" in text
    assert "ONNXRuntimeError" not in text and ".h:" not in text and "\n" not in text


# ------------------------------------------------------------------------------ 5 input checks at load
def test_float16_input_is_refused_when_the_model_loads(tmp_path):
    model = build_const_model(tmp_path / "h.onnx", [BOX], [0.9], [0], in_type=TensorProto.FLOAT16)
    with pytest.raises(InputError, match=r"point input 'points' is tensor\(float16\); the contract feeds float32"):
        OnnxDetector(model)


def test_a_second_input_is_refused_when_the_model_loads_even_when_input_names_one(tmp_path):
    inputs = [helper.make_tensor_value_info("points", TensorProto.FLOAT, ["N", 4]),
              helper.make_tensor_value_info("num", TensorProto.INT32, [1])]
    nodes = [helper.make_node("Shape", ["points"], ["u1"]), helper.make_node("Shape", ["num"], ["u2"]),
             _const("boxes", [BOX]), _const("scores", [0.9]), _const("labels", [0], TensorProto.INT64)]
    model = save_model(tmp_path / "two.onnx", nodes, inputs,
                       box_outputs() + [helper.make_tensor_value_info("u1", TensorProto.INT64, [2]),
                                        helper.make_tensor_value_info("u2", TensorProto.INT64, [1])])
    for config in (None, settings(tmp_path, "input: points\n")):
        with pytest.raises(InputError) as e:
            OnnxDetector(model, config)
        assert str(e.value) == (f"{model}: model has 2 inputs (points, num); the contract feeds one, the points "
                                "(export a graph whose only input is the points)")


@pytest.mark.parametrize("boxes, scores, labels, said", [
    ([BOX[:5]], [0.9], [0], "output 'boxes' (boxes) has shape (1, 5): 5 values per box; the contract wants 7 "
                            "(x, y, z, length, width, height, yaw)"),
    (BOX, [0.9], [0], "output 'boxes' (boxes) has shape (7,); the contract wants (M, 7) or (1, M, 7)"),
    ([[BOX], [BOX]], [0.9], [0], "output 'boxes' (boxes) has shape (2, 1, 7); the contract wants (M, 7) or (1, M, 7)"),
    ([BOX, BOX], [[0.9, 0.8], [0.7, 0.6]], [0, 0],
     "output 'scores' (scores) has shape (2, 2); the contract wants one value per box, (M,) or (1, M)"),
    ([BOX, BOX], [0.9, 0.8], [0, 0, 1],
     "outputs hold different numbers of boxes ('boxes' 2, 'scores' 2, 'labels' 3); the contract wants M of each"),
])
def test_outputs_of_the_wrong_shape_are_refused_when_the_model_loads(tmp_path, boxes, scores, labels, said):
    model = build_const_model(tmp_path / "s.onnx", boxes, scores, labels)
    with pytest.raises(InputError) as e:
        OnnxDetector(model)
    assert str(e.value) == f"{model}: outputs: {said} (checked when the model loads)"


def test_prelabel_with_a_model_of_wrong_output_shapes_stops_before_the_first_frame(tmp_path, capsys):
    from fusionlabel.cli.main import main
    from fusionlabel.sim.writer import simulate_drive

    drive = tmp_path / "drive"
    simulate_drive(drive, frames=1, seed=2, points=2_000, cameras=False, progress=False)
    model = build_const_model(tmp_path / "s.onnx", [BOX[:6]], [0.9], [0])
    assert main(["prelabel", str(drive), "--detector", f"onnx:{model}", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{model}: outputs: output 'boxes' (boxes) has shape (1, 6)" in err[0], err
    assert "frame" not in err[0] and not (tmp_path / "o").exists()


def test_output_shapes_the_graph_leaves_dynamic_load_and_are_checked_at_the_first_frame(tmp_path):
    points = np.zeros((10, 4), np.float32)
    # one value per box with dims of 1 around it, a leading batch of 1: loads and runs
    fine = build_const_model(tmp_path / "ok.onnx", [[BOX, BOX]], [[0.9], [0.8]], [[0, 1]])
    assert sorted(d.label for d in OnnxDetector(fine).detect(points)) == ["Car", "Pedestrian"]
    # a graph that hands its points back as boxes: (N, F) is all it states, so it loads; the 4
    # values per box are found at the first frame
    x = helper.make_tensor_value_info("points", TensorProto.FLOAT, ["N", "F"])
    nodes = [helper.make_node("Identity", ["points"], ["boxes"]),
             helper.make_node("ReduceMin", ["points"], ["scores"], axes=[1], keepdims=0),
             helper.make_node("Cast", ["scores"], ["labels"], to=TensorProto.INT64)]
    outs = [helper.make_tensor_value_info("boxes", TensorProto.FLOAT, ["N", "F"]),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N"]),
            helper.make_tensor_value_info("labels", TensorProto.INT64, ["N"])]
    model = save_model(tmp_path / "dyn.onnx", nodes, [x], outs)
    det = OnnxDetector(model)
    with pytest.raises(InputError) as e:
        det.detect(points, frame="000003")
    assert str(e.value) == (f"{model}: frame 000003: outputs: expected boxes (M, 7), scores (M,), labels (M,); "
                            "got (10, 4), (10,), (10,)")

def test_prelabel_names_the_frame_whose_inference_failed(tmp_path, capsys):
    from fusionlabel.cli.main import main
    from fusionlabel.sim.writer import simulate_drive

    drive = tmp_path / "drive"
    simulate_drive(drive, frames=1, seed=2, points=2_000, cameras=False, progress=False)
    model = build_reshape_model(tmp_path / "r.onnx", n=7)
    assert main(["prelabel", str(drive), "--detector", f"onnx:{model}", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{model}: frame 000000: inference failed: " in err[0], err


# ------------------------------------------------------------------------------ 6 labels must be whole numbers
def build_float_label_model(path, labels):
    return build_const_model(path, [BOX] * len(labels), [0.9] * len(labels), labels,
                             classes="Car,Pedestrian,Cyclist", label_type=TensorProto.FLOAT)


def test_float_labels_must_be_whole_numbers(tmp_path):
    points = np.zeros((10, 4), np.float32)
    dets = OnnxDetector(build_float_label_model(tmp_path / "w.onnx", [0.0, 1.0, 2.0])).detect(points)
    assert sorted(d.label for d in dets) == ["Car", "Cyclist", "Pedestrian"]
    det = OnnxDetector(build_float_label_model(tmp_path / "f.onnx", [0.0, 0.9999, 2.0]))
    with pytest.raises(InputError) as e:
        det.detect(points, frame="000005")
    assert str(e.value) == (f"{tmp_path / 'f.onnx'}: frame 000005: outputs: output 'labels' holds 0.9999: the "
                            "contract wants whole class indices")
