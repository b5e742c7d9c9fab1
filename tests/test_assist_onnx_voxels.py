"""ONNX detector fed pillars made on the host (settings ``voxelize``): a small pillar model built here
with the onnx helper API puts a box at each pillar's mean point and one at its cell's centre."""

import json

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper  # noqa: E402
from test_assist_onnx import _const, build_const_model, save_model  # noqa: E402
from test_assist_voxelize import CLOUD, loop_voxelize  # noqa: E402

from fusionlabel.assist.onnx_detector import OnnxDetector  # noqa: E402
from fusionlabel.errors import InputError  # noqa: E402

SIZE, LOW, M = (0.5, 0.5, 2.0), (-1.0, -1.0, -1.0), 2
SETTINGS = """classes: [Car, Pedestrian]
score_threshold: 0.01
voxelize:
  voxel_size: [0.5, 0.5, 2.0]
  point_cloud_range: [-1, -1, -1, 1, 1, 1]
  max_points_per_voxel: 2
  max_voxels: 100
"""


def build_pillar_model(path, m=M, channels=4, order="bzyx", static_p=None, batched=False, int_type=TensorProto.INT32,
                       names=("voxels", "num_points", "coors"), size=SIZE, low=LOW, box=0.1, centres=True):
    """A pillar 'detector': inputs voxels (P, m, channels) float32, num_points (P,) and coords (P, K)
    in ``order`` (b, z, y, x letters) of ``int_type`` (a leading 1 when ``batched``; P static when
    given). Per pillar a Car box at the mean of its rows (sum / num_points), size ``box``, and, with
    ``centres``, a Pedestrian box at its cell's centre (from coords, ``size`` and ``low``); the
    scores are num_points / m."""
    p = static_p if static_p is not None else "P"
    lead = [1] if batched else []
    inputs = [helper.make_tensor_value_info(names[0], TensorProto.FLOAT, lead + [p, m, channels]),
              helper.make_tensor_value_info(names[1], int_type, lead + [p]),
              helper.make_tensor_value_info(names[2], int_type, lead + [p, len(order)])]
    nodes, (vox, num, coords) = [], names
    if batched:
        nodes.append(_const("ax0", [0], TensorProto.INT64))
        for name in names:
            nodes.append(helper.make_node("Squeeze", [name, "ax0"], [name + "_1"]))
        vox, num, coords = (name + "_1" for name in names)
    nodes += [
        _const("ax1", [1], TensorProto.INT64), _const("c0", [0], TensorProto.INT64),
        _const("c3", [3], TensorProto.INT64),
        helper.make_node("ReduceSum", [vox, "ax1"], ["sum"], keepdims=0),
        helper.make_node("Cast", [num], ["nf"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["nf", "ax1"], ["nf2"]),
        helper.make_node("Div", ["sum", "nf2"], ["mean"]),
        helper.make_node("Slice", ["mean", "c0", "c3", "ax1"], ["mean3"]),
        helper.make_node("Shape", ["nf2"], ["pshape"]),
        helper.make_node("Slice", ["pshape", "c0", "ax1"], ["p1"]),
        _const("four", [4], TensorProto.INT64),
        helper.make_node("Concat", ["p1", "four"], ["rest_shape"], axis=0),
        _const("rest1", [[box, box, box, 0.0]]),
        helper.make_node("Expand", ["rest1", "rest_shape"], ["rest"]),
        helper.make_node("Concat", ["mean3", "rest"], ["car_boxes"], axis=1),
        _const("inv_m", [1.0 / m]), helper.make_node("Mul", ["nf", "inv_m"], ["score"]),
        _const("zero", [0.0]), helper.make_node("Mul", ["nf", "zero"], ["zeros"]),
        helper.make_node("Cast", ["zeros"], ["car_labels"], to=TensorProto.INT64),
    ]
    if centres:
        xyz = [order.index(axis) for axis in "xyz"]
        nodes += [
            helper.make_node("Cast", [coords], ["cf"], to=TensorProto.FLOAT),
            _const("xyz", xyz, TensorProto.INT64), helper.make_node("Gather", ["cf", "xyz"], ["cells"], axis=1),
            _const("half", [0.5]), helper.make_node("Add", ["cells", "half"], ["cells_mid"]),
            _const("size", [list(size)]), helper.make_node("Mul", ["cells_mid", "size"], ["offset"]),
            _const("low", [list(low)]), helper.make_node("Add", ["offset", "low"], ["centre"]),
            helper.make_node("Concat", ["centre", "rest"], ["ped_boxes"], axis=1),
            helper.make_node("Concat", ["car_boxes", "ped_boxes"], ["boxes"], axis=0),
            helper.make_node("Concat", ["score", "score"], ["scores"], axis=0),
            _const("one", [1], TensorProto.INT64), helper.make_node("Add", ["car_labels", "one"], ["ped_labels"]),
            helper.make_node("Concat", ["car_labels", "ped_labels"], ["labels"], axis=0)]
    else:
        nodes += [helper.make_node("Identity", ["car_boxes"], ["boxes"]),
                  helper.make_node("Identity", ["score"], ["scores"]),
                  helper.make_node("Identity", ["car_labels"], ["labels"])]
    outputs = [helper.make_tensor_value_info("boxes", TensorProto.FLOAT, ["B", 7]),
               helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["B"]),
               helper.make_tensor_value_info("labels", TensorProto.INT64, ["B"])]
    return save_model(path, nodes, inputs, outputs, classes=None)


def settings(tmp_path, text=SETTINGS, name="s.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def sweep():
    """CLOUD with intensities, as a KITTI sweep."""
    return np.c_[CLOUD, np.linspace(0.1, 0.9, len(CLOUD))].astype(np.float32)


def expected(points, max_voxels=100, keep="first"):
    """(mean points of the pillars' first M points, their cell centres, their point counts), from the plain loop."""
    cells = loop_voxelize(points[:, :3], SIZE, LOW + (1.0, 1.0, 1.0), M, max_voxels, keep)
    means = np.array([points[m, :3].mean(axis=0) for m in cells.values()])
    centres = np.array([[LOW[a] + (c[a] + 0.5) * SIZE[a] for a in range(3)] for c in cells])
    return means, centres, np.array([len(m) for m in cells.values()])


def check_boxes(dets, points, max_voxels=100, keep="first"):
    means, centres, counts = expected(points, max_voxels, keep)
    for label, where in (("Car", means), ("Pedestrian", centres)):
        got = sorted((tuple(np.round(d.box.center, 5)), round(d.score, 5)) for d in dets if d.label == label)
        want = sorted((tuple(np.round(c, 5)), round(n / M, 5)) for c, n in zip(where, counts))
        assert got == want, label


@pytest.mark.parametrize("order, text, batched, int_type", [
    ("bzyx", "", False, TensorProto.INT32),                               # mmdet3d / mmdeploy
    ("zyx", "  coords: [z, y, x]\n", True, TensorProto.INT64),
    ("bxyz", "  coords: [batch, x, y, z]\n", False, TensorProto.INT64),
    ("xyzb", "  coords: [x, y, z, batch]\n", True, TensorProto.FLOAT),
])
def test_pillar_boxes_sit_where_the_points_are(tmp_path, order, text, batched, int_type):
    model = build_pillar_model(tmp_path / "m.onnx", order=order, batched=batched, int_type=int_type)
    det = OnnxDetector(model, settings(tmp_path, SETTINGS + text))
    points = sweep()
    before = points.copy()
    dets = det.detect(points)
    np.testing.assert_array_equal(points, before)
    assert len(dets) == 2 * 11
    check_boxes(dets, points)
    assert det.take_notes() == []


def test_voxel_rows_hold_the_input_columns_scaled(tmp_path):
    """Columns [intensity, y, x, zero]: the 'mean point' is then (mean intensity, mean y, mean x)."""
    model = build_pillar_model(tmp_path / "m.onnx", centres=False)
    det = OnnxDetector(model, settings(tmp_path, SETTINGS + "input_columns: [intensity, y, x, zero]\n"
                                                            "intensity_scale: 10\n"))
    points = sweep()
    cells = loop_voxelize(points[:, :3], SIZE, LOW + (1.0, 1.0, 1.0), M, 100)
    want = sorted(tuple(np.round([10 * points[m, 3].mean(), points[m, 1].mean(), points[m, 0].mean()], 4))
                  for m in cells.values())
    assert sorted(tuple(np.round(d.box.center, 4)) for d in det.detect(points)) == want


def test_a_static_pillar_count_is_padded_and_must_be_max_voxels(tmp_path):
    model = build_pillar_model(tmp_path / "m.onnx", static_p=100)
    det = OnnxDetector(model, settings(tmp_path))
    points = sweep()
    check_boxes(det.detect(points), points)         # padded pillars score 0: no boxes
    path = settings(tmp_path, SETTINGS.replace("max_voxels: 100", "max_voxels: 50"))
    with pytest.raises(InputError) as e:
        OnnxDetector(model, path)
    assert str(e.value) == (f"{path}: voxelize.max_voxels: max_voxels is 50 but the model's input 'voxels' takes 100 "
                            "voxels")


@pytest.mark.parametrize("keep", ["first", "nearest"])
def test_voxels_beyond_max_voxels_are_left_out_by_keep_counted_and_said(tmp_path, keep):
    model = build_pillar_model(tmp_path / "m.onnx")
    det = OnnxDetector(model, settings(tmp_path, SETTINGS.replace("max_voxels: 100", f"max_voxels: 4\n  keep: {keep}")))
    points = sweep()
    check_boxes(det.detect(points), points, max_voxels=4, keep=keep)
    det.detect(points)
    all_cells = loop_voxelize(points[:, :3], SIZE, LOW + (1.0, 1.0, 1.0), 10 ** 6, 10 ** 6)
    kept = loop_voxelize(points[:, :3], SIZE, LOW + (1.0, 1.0, 1.0), M, 4, keep)
    left_points = sum(len(m) for c, m in all_cells.items() if c not in kept)
    where = "first in the sweep" if keep == "first" else "nearest the sensor"
    assert det.take_notes() == [f"2 sweeps filled more than max_voxels 4: left out {2 * (len(all_cells) - 4)} voxels "
                                f"holding {2 * left_points} points, keeping the ones {where} (keep in voxelize; raise "
                                "max_voxels if the model allows)"]
    assert det.take_notes() == []


def test_prelabel_writes_a_box_at_each_pillar_of_a_drive_and_says_what_max_voxels_left_out(tmp_path, capsys):
    from fusionlabel.cli.main import main
    from fusionlabel.io.drives import open_drive
    from fusionlabel.io.native import read_labels
    from fusionlabel.sim.writer import simulate_drive

    drive_dir = tmp_path / "drive"
    simulate_drive(drive_dir, frames=2, seed=4, points=3_000, cameras=False, progress=False)
    model = build_pillar_model(tmp_path / "m.onnx", m=8, box=0.02, centres=False)
    grid = "  voxel_size: [4, 4, 8]\n  point_cloud_range: [-40, -40, -4, 40, 40, 4]\n  max_points_per_voxel: 8\n"
    cfg = settings(tmp_path, f"classes: [Car]\nscore_threshold: 0.0\nvoxelize:\n{grid}  max_voxels: 10000\n")
    out = tmp_path / "out"
    assert main(["prelabel", str(drive_dir), "--detector", f"onnx:{model}", "--detector-config", str(cfg),
                 "--out", str(out), "--min-score", "0", "--quiet"]) == 0
    drive = open_drive(drive_dir)
    for i, frame in enumerate(drive.frames):
        points = drive.points(i)
        cells = loop_voxelize(points[:, :3], (4, 4, 8), (-40, -40, -4, 40, 40, 4), 8, 10000)
        want = np.array([points[m, :3].mean(axis=0) for m in cells.values()])
        got = np.array([label.box.center for label in read_labels(out / f"{frame.frame_id}.json")])
        assert len(got) == len(want) > 10
        gaps = np.linalg.norm(got[:, None] - want[None], axis=2)
        assert gaps.min(axis=0).max() < 2e-3 and gaps.min(axis=1).max() < 2e-3     # stored to the millimetre
    assert "max_voxels" not in capsys.readouterr().err
    small = settings(tmp_path, f"classes: [Car]\nscore_threshold: 0.0\nvoxelize:\n{grid}  max_voxels: 5\n", "t.yaml")
    assert main(["prelabel", str(drive_dir), "--detector", f"onnx:{model}", "--detector-config", str(small),
                 "--out", str(tmp_path / "out5"), "--min-score", "0", "--quiet", "--json"]) == 0
    said = capsys.readouterr()
    assert "note: 2 sweeps filled more than max_voxels 5: left out " in said.err, said.err
    notes = json.loads(said.out)["notes"]
    assert [n for n in notes if "max_voxels" in n] == [said.err.split("note: ", 1)[1].splitlines()[0]]


# ------------------------------------------------------------------------------ settings and graph checks
@pytest.mark.parametrize("block, key", [
    ("voxelize: 3\n", "voxelize"),
    ("voxelize: [0.16, 0.16, 4]\n", "voxelize"),
    ("voxelize: {voxel_size: [1, 1, 1]}\n", "voxelize.point_cloud_range"),
    ("voxelize:\n  colour: red\n", "voxelize.colour"),
])
def test_voxelize_block_errors_name_file_and_key(tmp_path, block, key):
    model = build_pillar_model(tmp_path / "m.onnx")
    path = settings(tmp_path, "classes: [Car, Pedestrian]\n" + block)
    with pytest.raises(InputError) as e:
        OnnxDetector(model, path)
    assert str(e.value).startswith(f"{path}: {key}: ") and "\n" not in str(e.value), str(e.value)


@pytest.mark.parametrize("change, key", [
    (("voxel_size: [0.5, 0.5, 2.0]", "voxel_size: [0.5, 0.5]"), "voxelize.voxel_size"),
    (("voxel_size: [0.5, 0.5, 2.0]", "voxel_size: [0.5, 0, 2.0]"), "voxelize.voxel_size"),
    (("voxel_size: [0.5, 0.5, 2.0]", "voxel_size: [0.5, a, 2.0]"), "voxelize.voxel_size"),
    (("voxel_size: [0.5, 0.5, 2.0]", "voxel_size: [0.5, .nan, 2.0]"), "voxelize.voxel_size"),
    (("[-1, -1, -1, 1, 1, 1]", "[-1, -1, -1, 1, 1]"), "voxelize.point_cloud_range"),
    (("[-1, -1, -1, 1, 1, 1]", "[1, 1, 1, -1, -1, -1]"), "voxelize.point_cloud_range"),
    (("[-1, -1, -1, 1, 1, 1]", "[-1, -1, -1, 1, 1, 0]"), "voxelize.point_cloud_range"),
    (("max_points_per_voxel: 2", "max_points_per_voxel: 0"), "voxelize.max_points_per_voxel"),
    (("max_points_per_voxel: 2", "max_points_per_voxel: 2.5"), "voxelize.max_points_per_voxel"),
    (("max_points_per_voxel: 2", "max_points_per_voxel: true"), "voxelize.max_points_per_voxel"),
    (("max_voxels: 100", "max_voxels: -1"), "voxelize.max_voxels"),
    (("max_voxels: 100", "max_voxels: 100\n  keep: last"), "voxelize.keep"),
    (("max_voxels: 100", "max_voxels: 100\n  coords: [x, y]"), "voxelize.coords"),
    (("max_voxels: 100", "max_voxels: 100\n  coords: [x, y, z, z]"), "voxelize.coords"),
    (("max_voxels: 100", "max_voxels: 100\n  coords: [batch, w, y, x]"), "voxelize.coords"),
    (("max_voxels: 100", "max_voxels: 100\n  coords: batch z y x"), "voxelize.coords"),
    (("max_voxels: 100", "max_voxels: 100\n  inputs: voxels"), "voxelize.inputs"),
    (("max_voxels: 100", "max_voxels: 100\n  inputs: {pillars: p}"), "voxelize.inputs"),
    (("max_voxels: 100", "max_voxels: 100\n  inputs: {voxels: 3}"), "voxelize.inputs"),
    (("max_voxels: 100", "max_voxels: 100\n  inputs: {voxels: coors}"), "voxelize.inputs"),
    (("max_voxels: 100", "max_voxels: 100\n  inputs: {coords: c}"), "voxelize.inputs"),     # no such input
    (("max_voxels: 100", "max_voxels: 100\n  coords: [z, y, x]"), "voxelize.coords"),       # the graph takes 4
    (("max_points_per_voxel: 2", "max_points_per_voxel: 3"), "voxelize.max_points_per_voxel"),  # the graph takes 2
    (("max_voxels: 100", "max_voxels: 100\nmax_points: 1000"), "max_points"),
    (("max_voxels: 100", "max_voxels: 100\ninput: voxels"), "input"),
    (("max_voxels: 100", "max_voxels: 100\npoint_features: 3"), "point_features"),           # the graph takes 4
])
def test_every_voxelize_setting_is_checked_in_one_line_naming_file_and_key(tmp_path, change, key):
    model = build_pillar_model(tmp_path / "m.onnx", m=2, channels=4)
    assert SETTINGS.count(change[0]) == 1
    path = settings(tmp_path, SETTINGS.replace(*change))
    with pytest.raises(InputError) as e:
        OnnxDetector(model, path)
    assert str(e.value).startswith(f"{path}: {key}: ") and "\n" not in str(e.value), str(e.value)


def test_graphs_that_do_not_take_voxels_are_refused_when_the_model_loads(tmp_path):
    cfg = settings(tmp_path)
    points_model = build_const_model(tmp_path / "p.onnx", [[0, 0, 0, 1, 1, 1, 0]], [0.9], [0])
    with pytest.raises(InputError, match=r"p.onnx.yaml|s.yaml: voxelize.inputs: model has no input 'voxels' for "
                                         r"voxels \(inputs: points\)"):
        OnnxDetector(points_model, cfg)
    text = "  inputs: {voxels: v, num_points: n, coords: c}\n"
    for kind, role in ((TensorProto.FLOAT16, None), (TensorProto.DOUBLE, "coords")):
        model = build_pillar_model(tmp_path / f"{kind}.onnx", names=("v", "n", "c"), int_type=kind)
        with pytest.raises(InputError) as e:
            OnnxDetector(model, settings(tmp_path, SETTINGS + text, "named.yaml"))
        assert str(e.value).startswith(f"{model}: input 'n' (num_points) is tensor(") and "\n" not in str(e.value)
    extra = build_pillar_model(tmp_path / "x.onnx")
    graph = onnx.load(str(extra))
    graph.graph.input.append(helper.make_tensor_value_info("extra", TensorProto.FLOAT, [3]))
    onnx.save(graph, str(extra))
    with pytest.raises(InputError, match="model has 4 inputs .*the voxel contract feeds three"):
        OnnxDetector(extra, cfg)
