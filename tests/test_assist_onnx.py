"""ONNX detector: a small model built here with the onnx helper API runs through the contract."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper  # noqa: E402

from fusionlabel.assist.detector import make_detector  # noqa: E402
from fusionlabel.assist.onnx_detector import OnnxDetector  # noqa: E402
from fusionlabel.errors import InputError  # noqa: E402


def _const(name, values, dtype=TensorProto.FLOAT):
    arr = np.asarray(values)
    return helper.make_node("Constant", [], [name], value=helper.make_tensor(name + "_v", dtype, arr.shape,
                                                                              arr.flatten().tolist()))


def build_extent_model(path, classes="Car,Pedestrian", label=1, rank=2, features=4, names=("boxes", "scores", "labels"),
                       bottom=False):
    """A 'detector' whose one box is the axis-aligned extent of the input points:
    centre = (min + max) / 2 (or the bottom centre), size = max - min, yaw 0, score = mean intensity,
    label = ``label``. Shapes: points (N, F) [or (1, N, F)] -> boxes (1, 7), scores (1,), labels (1,)."""
    n = "N"
    shape = [n, features] if rank == 2 else [1, n, features]
    x = helper.make_tensor_value_info("points", TensorProto.FLOAT, shape)
    nodes = []
    src = "points"
    if rank == 3:
        nodes.append(_const("ax0", [0], TensorProto.INT64))
        nodes.append(helper.make_node("Squeeze", ["points", "ax0"], ["pts"]))
        src = "pts"
    nodes += [
        helper.make_node("ReduceMin", [src], ["mn"], axes=[0], keepdims=0),
        helper.make_node("ReduceMax", [src], ["mx"], axes=[0], keepdims=0),
        helper.make_node("ReduceMean", [src], ["mean"], axes=[0], keepdims=0),
        _const("s0", [0], TensorProto.INT64), _const("s3", [3], TensorProto.INT64), _const("s4", [4], TensorProto.INT64),
        helper.make_node("Slice", ["mn", "s0", "s3"], ["mn3"]),
        helper.make_node("Slice", ["mx", "s0", "s3"], ["mx3"]),
        helper.make_node("Add", ["mn3", "mx3"], ["sum3"]),
        _const("half", [0.5, 0.5, 0.0 if bottom else 0.5]),
        _const("lowz", [0.0, 0.0, 1.0 if bottom else 0.0]),
        helper.make_node("Mul", ["sum3", "half"], ["c_part"]),
        helper.make_node("Mul", ["mn3", "lowz"], ["z_part"]),
        helper.make_node("Add", ["c_part", "z_part"], ["centre"]),
        helper.make_node("Sub", ["mx3", "mn3"], ["size"]),
        _const("yaw", [0.0]),
        helper.make_node("Concat", ["centre", "size", "yaw"], ["box7"], axis=0),
        _const("ax", [0], TensorProto.INT64),
        helper.make_node("Unsqueeze", ["box7", "ax"], [names[0]]),
        helper.make_node("Slice", ["mean", "s3", "s4"], [names[1]]),
        _const(names[2], [label], TensorProto.INT64),
    ]
    outs = [helper.make_tensor_value_info(names[0], TensorProto.FLOAT, [1, 7]),
            helper.make_tensor_value_info(names[1], TensorProto.FLOAT, [1]),
            helper.make_tensor_value_info(names[2], TensorProto.INT64, [1])]
    return save_model(path, nodes, [x], outs, classes)


def save_model(path, nodes, inputs, outputs, classes="Car,Pedestrian", initializers=()):
    """Check and save a graph (opset 13) as ``path``; ``classes`` (if not None) goes into its metadata."""
    model = helper.make_model(helper.make_graph(nodes, path.stem, inputs, outputs, initializer=list(initializers)),
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    if classes is not None:
        helper.set_model_props(model, {"classes": classes})
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture
def points():
    rng = np.random.default_rng(0)
    p = rng.uniform([10, -2, -1.5, 0], [14, 0, 0.2, 1], (500, 4)).astype(np.float32)
    return p


def test_onnx_box_matches_numpy_reference(tmp_path, points):
    det = OnnxDetector(build_extent_model(tmp_path / "m.onnx"), score_threshold=0.0)
    (d,) = det.detect(points)
    lo, hi = points[:, :3].min(0), points[:, :3].max(0)
    np.testing.assert_allclose(d.box.center, (lo + hi) / 2, atol=1e-5)
    np.testing.assert_allclose(d.box.size, hi - lo, atol=1e-5)
    assert d.label == "Pedestrian" and d.source == "model"
    assert d.score == pytest.approx(points[:, 3].mean(), abs=1e-6)


def test_onnx_settings_file_bottom_origin_intensity_and_batched_input(tmp_path, points):
    build_extent_model(tmp_path / "b.onnx", classes=None, label=0, rank=3, bottom=True,
                       names=("bbox", "conf", "cls"))
    (tmp_path / "b.onnx.yaml").write_text("classes: [Van, Car]\nz_origin: bottom\nintensity_scale: 2.0\n"
                                          "score_threshold: 0.0\noutputs: {boxes: bbox, scores: conf, labels: cls}\n")
    det = make_detector(f"onnx:{tmp_path / 'b.onnx'}")
    before = points.copy()
    (d,) = det.detect(points)
    np.testing.assert_array_equal(points, before)      # the caller's sweep is not scaled in place
    lo, hi = points[:, :3].min(0), points[:, :3].max(0)
    np.testing.assert_allclose(d.box.center, (lo + hi) / 2, atol=1e-5)   # bottom origin lifted to the centre
    assert d.label == "Van"
    assert d.score == pytest.approx(2.0 * points[:, 3].mean(), rel=1e-5)


def test_onnx_max_points_pads_and_threshold_filters(tmp_path, points):
    det = OnnxDetector(build_extent_model(tmp_path / "m.onnx"), max_points=1000, score_threshold=0.0)
    before = points.copy()
    (d,) = det.detect(points)          # zero padding adds the origin to the extent
    lo, hi = np.minimum(points[:, :3].min(0), 0), np.maximum(points[:, :3].max(0), 0)
    np.testing.assert_allclose(d.box.center, (lo + hi) / 2, atol=1e-5)
    np.testing.assert_array_equal(points, before)
    det = OnnxDetector(build_extent_model(tmp_path / "m.onnx"), max_points=100, score_threshold=0.0)
    (d,) = det.detect(points)          # too many points: the 100 nearest (xy) are kept
    near = points[np.argsort(np.hypot(points[:, 0], points[:, 1]))[:100], :3]
    np.testing.assert_allclose(d.box.center, (near.min(0) + near.max(0)) / 2, atol=1e-5)
    det = OnnxDetector(build_extent_model(tmp_path / "m.onnx"), score_threshold=0.9)
    assert det.detect(points) == []


def test_onnx_contract_errors_name_the_problem(tmp_path, points):
    with pytest.raises(InputError, match="class mapping"):
        OnnxDetector(build_extent_model(tmp_path / "n.onnx", classes=None))
    with pytest.raises(InputError, match="no output 'boxes'"):
        OnnxDetector(build_extent_model(tmp_path / "o.onnx", names=("bb", "scores", "labels")))
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(InputError, match="not an ONNX model"):
        OnnxDetector(bad)
    det = OnnxDetector(build_extent_model(tmp_path / "m.onnx", label=5), score_threshold=0.0)
    with pytest.raises(InputError, match="label index 5"):
        det.detect(points)
    (tmp_path / "m.onnx.yaml").write_text("colour: red\n")
    with pytest.raises(InputError, match="unknown setting"):
        OnnxDetector(tmp_path / "m.onnx")


@pytest.mark.parametrize("content", [b"hello\n", b"", b"\x08\x07"])
def test_file_that_is_not_a_model_is_one_plain_line(tmp_path, content):
    bad = tmp_path / "fake.onnx"
    bad.write_bytes(content)
    with pytest.raises(InputError) as e:
        make_detector(f"onnx:{bad}")
    assert str(e.value) == f"{bad}: not an ONNX model (onnxruntime could not parse it)" or \
        str(e.value) == f"{bad}: not an ONNX model (it holds no graph)"
    assert "ONNXRuntimeError" not in str(e.value)


def test_model_onnxruntime_cannot_load_names_the_reason_without_its_preamble(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 4])
    model = helper.make_model(helper.make_graph([helper.make_node("NoSuchOp", ["x"], ["y"])], "g", [x], [y]),
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path = tmp_path / "unknown_op.onnx"
    onnx.save(model, str(path))
    with pytest.raises(InputError) as e:
        OnnxDetector(path)
    text = str(e.value)
    assert text.startswith(f"{path}: cannot load ONNX model: ") and "NoSuchOp" in text
    assert "ONNXRuntimeError" not in text and "Load model from" not in text and "\n" not in text


def test_invalid_settings_yaml_is_one_line_with_line_and_column(tmp_path):
    model = build_extent_model(tmp_path / "m.onnx")
    settings = tmp_path / "s.yaml"
    settings.write_text("classes: [Car,\nscore_threshold: 0.2\n")
    with pytest.raises(InputError) as e:
        OnnxDetector(model, settings)
    text = str(e.value)
    assert text.startswith(f"{settings}: line ") and ", column " in text and "invalid YAML" in text
    assert "\n" not in text
    with pytest.raises(InputError, match="ONNX detector settings not found"):
        OnnxDetector(model, tmp_path / "missing.yaml")


def build_const_model(path, boxes, scores, labels, classes="Car,Pedestrian", in_shape=("N", 4),
                      in_type=TensorProto.FLOAT, label_type=TensorProto.INT64, declared=None):
    """A model that ignores its points (input of ``in_shape`` and ``in_type``) and outputs the given
    boxes (M, 7), scores (M,), labels (M,) (of ``label_type``). ``declared``: {output: shape} the
    graph states for an output in place of the constant's own (names for dynamic dims)."""
    x = helper.make_tensor_value_info("points", in_type, list(in_shape))
    boxes, scores, labels = np.asarray(boxes, np.float32), np.asarray(scores, np.float32), np.asarray(labels)
    nodes = [helper.make_node("Shape", ["points"], ["unused"]),
             _const("boxes", boxes), _const("scores", scores), _const("labels", labels, label_type)]
    shape = lambda name, arr: list((declared or {}).get(name, arr.shape))   # noqa: E731
    outs = [helper.make_tensor_value_info("boxes", TensorProto.FLOAT, shape("boxes", boxes)),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, shape("scores", scores)),
            helper.make_tensor_value_info("labels", label_type, shape("labels", labels)),
            helper.make_tensor_value_info("unused", TensorProto.INT64, [len(in_shape)])]
    return save_model(path, nodes, [x], outs, classes)


BOX = [10.0, 0.0, 0.0, 4.0, 1.8, 1.5, 0.0]


@pytest.mark.parametrize("bad", [3.2, -1.0, float("nan"), float("inf")])
def test_scores_outside_0_1_are_refused_as_not_probabilities(tmp_path, points, bad):
    model = build_const_model(tmp_path / "logits.onnx", [BOX, BOX], [0.5, bad], [0, 0])
    det = OnnxDetector(model, score_threshold=0.0)
    with pytest.raises(InputError) as e:
        det.detect(points)
    text = str(e.value)
    assert text.startswith(f"{model}: ") and "'scores'" in text and "probabilities" in text
    assert "sigmoid" in text and "\n" not in text


def test_invalid_boxes_are_dropped_and_counted(tmp_path, points):
    nan_box = [np.nan, 0, 0, 4, 1.8, 1.5, 0]
    flat = [5, 0, 0, 4, 0.0, 1.5, 0]
    negative = [5, 0, 0, -4, 1.8, 1.5, 0]
    padding = [0, 0, 0, 0, 0, 0, 0]            # fixed-size output padded with zero boxes of score 0: not counted
    model = build_const_model(tmp_path / "m.onnx", [BOX, nan_box, flat, negative, padding], [0.9, 0.8, 0.7, 0.6, 0.0],
                              [0, 0, 1, 1, 0])
    det = OnnxDetector(model, score_threshold=0.1)
    (d,) = det.detect(points)
    assert d.score == pytest.approx(0.9)
    assert det.invalid_boxes == 3
    det.detect(points)
    assert det.invalid_boxes == 6


def test_prelabel_says_how_many_invalid_boxes_were_dropped_and_what_it_wrote(tmp_path, capsys):
    from fusionlabel.cli.main import main
    from fusionlabel.sim.writer import simulate_drive

    drive = tmp_path / "drive"
    simulate_drive(drive, frames=2, seed=2, points=2_000, cameras=False, progress=False)
    flat = [5, 0, 0, 4, 0.0, 1.5, 0]
    model = build_const_model(tmp_path / "m.onnx", [flat, flat], [0.9, 0.8], [0, 0])
    out = tmp_path / "new"
    assert main(["prelabel", str(drive), "--detector", f"onnx:{model}", "--out", str(out), "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sorted(p.name for p in out.glob("*.json")) and all(read(p) == [] for p in out.glob("*.json"))
    assert not lines[0].startswith("no change"), lines
    assert lines[0].startswith(f"wrote 0 pre-labels for 2 frames to {out} [native]: 2 empty label files"), lines
    assert "dropped 4 invalid boxes of the model (non-finite values or sizes not above 0)" in lines
    # the same run again changes nothing, and says so
    assert main(["prelabel", str(drive), "--detector", f"onnx:{model}", "--out", str(out), "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"no change in {out} [native]: no pre-labels to write for 2 frames"), lines


def read(path):
    from fusionlabel.io.native import read_labels

    return read_labels(path)
