"""Prediction files: KITTI with a score column (unwrapped angles) and nuScenes detection results."""

import json
import re

import numpy as np
import pytest

from fusionlabel.assist.detector import make_detector
from fusionlabel.assist.predictions import (PredictionsDetector, kitti_lines, labels_from_nuscenes,
                                            read_kitti_predictions, read_nuscenes_results, write_nuscenes_results)
from fusionlabel.errors import InputError, LabelError
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.geometry.iou import bev_iou
from fusionlabel.geometry.transforms import T_from_Rt, angle_difference, rotation_z
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model.drive import Drive, Frame

T_RECT = np.array([[0.0, -1.0, 0.0, 0.1], [0.0, 0.0, -1.0, -0.2], [1.0, 0.0, 0.0, -0.3], [0, 0, 0, 1.0]])


def test_unwrapped_angles_give_the_same_box(tmp_path):
    base = "Car 0 0 {a} 0 0 0 0 1.5 1.7 4.0 2.0 1.6 20.0 {ry} 0.7\n"
    (tmp_path / "w.txt").write_text(base.format(a=-1.6, ry=-1.6))
    (tmp_path / "u.txt").write_text(base.format(a=-1.6 - 2 * np.pi, ry=-1.6 - 2 * np.pi))
    (w,) = read_kitti_predictions(tmp_path / "w.txt", T_RECT)
    (u,) = read_kitti_predictions(tmp_path / "u.txt", T_RECT)
    np.testing.assert_allclose(u.box.center, w.box.center, atol=1e-9)
    assert abs(angle_difference(u.box.yaw, w.box.yaw)) < 1e-9 and -np.pi < u.box.yaw <= np.pi
    assert u.score == 0.7 and u.source == "model"


def test_kitti_lines_round_trip():
    labels = [CuboidLabel(Cuboid((12.0, -3.0, -0.8), (4.2, 1.8, 1.5), 2.9), "Car", None, 0.81, "model"),
              CuboidLabel(Cuboid((8.0, 4.0, -0.9), (0.8, 0.6, 1.7), -0.4), "Pedestrian", None, 0.35, "model")]
    text = kitti_lines(labels, T_RECT)
    assert all(len(line.split()) == 16 for line in text.splitlines())
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "x.txt"
        p.write_text(text)
        back = read_kitti_predictions(p, T_RECT)
    for a, b in zip(labels, back):
        assert b.label == a.label and b.score == pytest.approx(a.score, abs=1e-4)
        np.testing.assert_allclose(b.box.center, a.box.center, atol=1e-3)
        np.testing.assert_allclose(b.box.size, a.box.size, atol=1e-3)
        assert abs(angle_difference(b.box.yaw, a.box.yaw)) < 1e-3


@pytest.mark.realdata
def test_real_pointpillars_predictions_match_ground_truth(kitti_object, realdata):
    """Independent check (data README): matched predictions lie 0.07-0.17 m from the GT centres and
    agree in heading to 0.2 rad modulo pi once the unwrapped angles are read."""
    from fusionlabel.io.kitti import open_kitti_object

    drive = open_kitti_object(kitti_object)
    det = make_detector(f"predictions:{realdata / 'kitti_object' / 'predictions' / 'pointpillars'}")
    matched = 0
    for fid in ("000001", "000002"):
        i = drive.index_of(fid)
        preds = det.detect_frame(drive, i)
        assert preds and all(p.source == "model" and 0 < p.score <= 1 for p in preds)
        assert [p.score for p in preds] == sorted((p.score for p in preds), reverse=True)
        for g in drive.labels(i):
            best = max(preds, key=lambda p: bev_iou(p.box, g.box))
            if bev_iou(best.box, g.box) < 0.3:
                continue
            matched += 1
            assert np.hypot(*np.subtract(best.box.center[:2], g.box.center[:2])) < 0.2
            err = abs(angle_difference(2 * best.box.yaw, 2 * g.box.yaw)) / 2
            assert err < 0.2
    assert matched >= 2
    assert det.detect_frame(drive, drive.index_of("000134")) == [] and det.missing == 1


def _nuscenes_drive(tmp_path):
    poses = [T_from_Rt(rotation_z(0.7), (400.0, 1100.0, 0.0)), T_from_Rt(rotation_z(0.75), (401.0, 1101.0, 0.0))]
    frames = [Frame(f"tok{i}", tmp_path / f"{i}.bin", T_world_vehicle=poses[i]) for i in range(2)]
    from fusionlabel.model.rig import LidarSensor, Rig

    rig = Rig("r", {"top": LidarSensor("top", T_from_Rt(rotation_z(np.pi / 2), (0.9, 0.0, 1.8)))}, "top")
    return Drive("nus", tmp_path, rig, frames)


def test_nuscenes_results_round_trip_and_devkit_accepts_them(tmp_path):
    drive = _nuscenes_drive(tmp_path)
    per_frame = {0: [CuboidLabel(Cuboid((10.0, 2.0, -1.0), (4.5, 1.9, 1.6), 0.4), "Car", None, 0.9, "model"),
                     CuboidLabel(Cuboid((5.0, -3.0, -0.9), (0.7, 0.6, 1.8), -2.0), "Pedestrian", None, 0.4, "model"),
                     CuboidLabel(Cuboid((5.0, 3.0, -0.9), (0.7, 0.6, 1.8), 0.0), "Misc", None, 0.4, "model")],
                 1: [CuboidLabel(Cuboid((11.0, 2.0, -1.0), (1.8, 0.6, 1.7), 1.0), "Cyclist", None, 0.5, "model")]}
    path = tmp_path / "results.json"
    write_nuscenes_results(path, per_frame, drive)
    doc = json.loads(path.read_text())
    assert set(doc["results"]) == {"tok0", "tok1"} and len(doc["results"]["tok0"]) == 2   # Misc has no nuScenes class
    # the nuScenes devkit's own record type accepts every box
    DetectionBox = pytest.importorskip("nuscenes.eval.detection.data_classes").DetectionBox
    for boxes in doc["results"].values():
        for b in boxes:
            box = DetectionBox.deserialize(b)
            assert box.detection_name in ("car", "pedestrian", "bicycle")
    det = PredictionsDetector(path)
    for i, labels in per_frame.items():
        back = det.detect_frame(drive, i)
        kept = [lab for lab in labels if lab.label != "Misc"]
        assert len(back) == len(kept)
        for a in kept:
            b = min(back, key=lambda b: np.linalg.norm(np.subtract(b.box.center, a.box.center)))
            np.testing.assert_allclose(b.box.center, a.box.center, atol=1e-6)
            np.testing.assert_allclose(b.box.size, a.box.size, atol=1e-6)
            assert abs(angle_difference(b.box.yaw, a.box.yaw)) < 1e-6
            assert b.score == a.score


def test_nuscenes_global_box_lands_in_lidar_frame():
    T = T_from_Rt(rotation_z(np.pi / 2), (100.0, 50.0, 2.0))          # LiDAR x axis = world y axis
    box = {"center": [100.0, 60.0, 1.0], "size": (4.0, 2.0, 1.5), "rotation": rotation_z(np.pi / 2),
           "name": "car", "score": 0.5}
    (lab,) = labels_from_nuscenes([box], T)
    np.testing.assert_allclose(lab.box.center, [10.0, 0.0, -1.0], atol=1e-9)
    assert abs(lab.box.yaw) < 1e-9 and lab.label == "Car"


def test_bad_prediction_files_name_file_and_key(tmp_path):
    p = tmp_path / "r.json"
    p.write_text(json.dumps({"results": {"t": [{"translation": [1, 2], "size": [1, 1, 1], "rotation": [1, 0, 0, 0],
                                                "detection_name": "car", "detection_score": 0.5}]}}))
    with pytest.raises(LabelError, match=r"results\.t\[0\]\.translation"):
        read_nuscenes_results(p)
    p.write_text("{oops")
    with pytest.raises(LabelError, match="invalid JSON"):
        read_nuscenes_results(p)
    d = tmp_path / "k"
    d.mkdir()
    (d / "000001.txt").write_text("Car 0 0 0 0 0 0 0 1.5 1.7 4.0 2.0 1.6 x 0.1 0.5\n")
    with pytest.raises(LabelError, match="line 1"):
        read_kitti_predictions(d / "000001.txt", T_RECT)
    empty = tmp_path / "e"
    empty.mkdir()
    with pytest.raises(InputError, match="found none"):
        PredictionsDetector(empty)


@pytest.mark.realdata
def test_nuscenes_results_on_the_real_keyframe(realdata, tmp_path):
    """Ground truth of the real keyframe written as results, checked by the devkit's loader, read
    back through the nuScenes importer's drive: every box lands where the importer put it."""
    root = realdata / "nuscenes_mini"
    if not (root / "v1.0-mini").is_dir():
        pytest.skip("nuScenes sample not found")
    nus_io = pytest.importorskip("fusionlabel.io.nuscenes")
    pytest.importorskip("nuscenes")
    drive = nus_io.open_nuscenes(root)
    gt = drive.labels(0)
    preds = {0: [g.with_(score=0.8, source="model") for g in gt]}
    path = tmp_path / "results.json"
    write_nuscenes_results(path, preds, drive)
    from nuscenes.eval.detection.data_classes import DetectionBox
    from nuscenes.eval.common.loaders import load_prediction

    boxes, meta = load_prediction(str(path), 500, DetectionBox, verbose=False)
    assert meta["use_lidar"] and len(boxes.sample_tokens) == 1
    back = PredictionsDetector(path).detect_frame(drive, 0)
    written = json.loads(path.read_text())["results"]
    assert len(back) == sum(len(v) for v in written.values()) >= 30
    from fusionlabel.qa.classes import canonical

    for b in back:
        same = [g for g in gt if np.linalg.norm(np.subtract(g.box.center, b.box.center)) < 1e-6]
        assert same and np.allclose(same[0].box.size, b.box.size, atol=1e-6)
        assert canonical(b.label) in ("car", "truck", "pedestrian", "cyclist", "traffic_cone", "barrier")


# ------------------------------------------------------------------- one rule for every reader
def _write_native(path, labels):
    from fusionlabel.io.native import labels_to_json

    path.write_text(labels_to_json(path.stem, labels), encoding="utf-8")


def _results_file(tmp_path, **box):
    b = {"sample_token": "t", "translation": [1.0, 2.0, 0.5], "size": [1.8, 4.2, 1.5], "rotation": [1, 0, 0, 0],
         "detection_name": "car", "detection_score": 0.5, "velocity": [1.0, 0.5], "attribute_name": ""}
    b.update(box)
    p = tmp_path / "r.json"
    p.write_text(json.dumps({"meta": {}, "results": {"t": [b]}}))   # NaN written as NaN, as the devkit does
    return p


@pytest.mark.parametrize("velocity", [[float("nan"), 1.0], [float("nan"), float("nan")], [None, 0.0], None])
def test_nuscenes_unknown_velocity_is_read_as_unknown(tmp_path, velocity):
    from fusionlabel.io.native import read_labels

    (box,) = read_nuscenes_results(_results_file(tmp_path, velocity=velocity))["t"]
    assert box["velocity"] is None
    (lab,) = labels_from_nuscenes([box], np.eye(4))
    assert "velocity" not in lab.attributes
    _write_native(tmp_path / "l.json", [lab])          # a pre-label file takes it (NaN would not be JSON)
    assert read_labels(tmp_path / "l.json")[0].attributes == {"nuscenes_name": "car"}


def test_nuscenes_known_velocity_is_kept(tmp_path):
    (box,) = read_nuscenes_results(_results_file(tmp_path))["t"]
    assert labels_from_nuscenes([box], np.eye(4))[0].attributes["velocity"] == [1.0, 0.5]


@pytest.mark.parametrize("velocity", ["fast", [1.0], [1.0, "x"], [True, 0.0], [float("inf"), 0.0]])
def test_nuscenes_velocity_that_is_no_pair_of_numbers_is_refused(tmp_path, velocity):
    with pytest.raises(LabelError, match=r"r\.json: results\.t\[0\]\.velocity: expected"):
        read_nuscenes_results(_results_file(tmp_path, velocity=velocity))


@pytest.mark.parametrize("score", [7.5, -0.2, 1.0001, "0.5"])
def test_nuscenes_scores_outside_0_1_are_refused(tmp_path, score):
    with pytest.raises(LabelError, match=r"results\.t\[0\]\.detection_score: .*" + re.escape(repr(score))):
        read_nuscenes_results(_results_file(tmp_path, detection_score=score))


def test_native_prediction_scores_outside_0_1_are_refused(tmp_path):
    folder = tmp_path / "nat"
    folder.mkdir()
    _write_native(folder / "tok0.json", [CuboidLabel(Cuboid((10.0, 2.0, -1.0), (4.0, 1.8, 1.6), 0.5), "Car", None,
                                                    9.5, "model")])
    with pytest.raises(LabelError, match=r"tok0\.json: objects\[0\]\.score: a score lies in \[0, 1\], got 9\.5"):
        PredictionsDetector(folder).detect_frame(_nuscenes_drive(tmp_path), 0)


def test_nuscenes_detection_names_are_checked(tmp_path):
    from fusionlabel.qa.classes import NUSCENES_CATEGORY_DETECTION, NUSCENES_DETECTION

    # a category name with one detection class is read as that class
    for category, name in NUSCENES_CATEGORY_DETECTION.items():
        (box,) = read_nuscenes_results(_results_file(tmp_path, detection_name=category))["t"]
        (lab,) = labels_from_nuscenes([box], np.eye(4))
        assert box["name"] == name and lab.attributes["nuscenes_name"] == name
    assert set(NUSCENES_CATEGORY_DETECTION.values()) == set(NUSCENES_DETECTION)
    for bad in ("Vehicle", "vehicle.emergency.police", "movable_object.debris", 3):
        with pytest.raises(LabelError, match=r"results\.t\[0\]\.detection_name: .*not a nuScenes detection class"):
            read_nuscenes_results(_results_file(tmp_path, detection_name=bad))


def test_pre_label_class_and_eval_class_agree_for_every_nuscenes_name():
    """The class a results box becomes and the class eval scores it as come from one table."""
    from fusionlabel.assist.predictions import FROM_NUSCENES, NUSCENES_NAMES
    from fusionlabel.qa.classes import canonical

    expected = {"car": "car", "truck": "truck", "bus": "truck", "trailer": "truck", "construction_vehicle": "truck",
                "pedestrian": "pedestrian", "motorcycle": "cyclist", "bicycle": "cyclist",
                "traffic_cone": "traffic_cone", "barrier": "barrier"}
    assert set(NUSCENES_NAMES) == set(expected)
    for name, cls in expected.items():
        assert canonical(name) == cls and canonical(FROM_NUSCENES[name]) == cls


# ------------------------------------------------------------------- file names are frame IDs
def _drive_with_ids(tmp_path, ids):
    return Drive("d", tmp_path, _nuscenes_drive(tmp_path).rig(), [Frame(fid, tmp_path / f"{fid}.bin") for fid in ids])


def test_file_names_are_frame_ids_never_indices(tmp_path):
    from fusionlabel.assist.predictions import frames_of_files

    drive = _drive_with_ids(tmp_path, ["000005", "000134", "000007", "scan"])
    got = frames_of_files(drive, ["000005", "134", "3", "1", "scan", "0007", "x"])
    # "3" and "1" are indices of frames here, but no frame's ID: they name nothing
    assert got == {"000005": 0, "134": 1, "3": None, "1": None, "scan": 3, "0007": 2, "x": None}
    # an exact ID wins; the unpadded spelling of the same frame then names nothing
    assert frames_of_files(drive, ["5", "000005"]) == {"5": None, "000005": 0}
    # two frames with the same number: an unpadded name is ambiguous and names neither
    assert frames_of_files(_drive_with_ids(tmp_path, ["0134", "000134"]), ["134"]) == {"134": None}


def test_prediction_folder_with_unpadded_names(tmp_path):
    drive = _drive_with_ids(tmp_path, ["000005", "000134", "000007"])
    folder = tmp_path / "p"
    folder.mkdir()
    box = CuboidLabel(Cuboid((10.0, 2.0, -1.0), (4.0, 1.8, 1.6), 0.5), "Car", None, 0.8, "model")
    _write_native(folder / "134.json", [box])
    _write_native(folder / "2.json", [box.with_(label="Pedestrian")])     # index 2 = 000007, not its ID
    det = PredictionsDetector(folder)
    assert [lab.label for lab in det.detect_frame(drive, 1)] == ["Car"]
    assert det.detect_frame(drive, 2) == [] and det.detect_frame(drive, 0) == []
    assert det.missing_frames == {0, 2} and det.unmatched(drive) == ["2.json"]


def test_an_unknown_velocity_is_written_as_the_devkit_says_it_nan_and_its_loader_takes_it(tmp_path):
    """A pre-label without a velocity (every detector's) is written [NaN, NaN], as the devkit's
    box_velocity says unknown, not [0, 0] (standing still); its loader reads the file, and its
    velocity error leaves such a box out (NaN, not the object's speed)."""
    loaders = pytest.importorskip("nuscenes.eval.common.loaders")
    from nuscenes.eval.common.utils import velocity_l2
    from nuscenes.eval.detection.data_classes import DetectionBox

    drive = _nuscenes_drive(tmp_path)
    car = lambda x, **attrs: CuboidLabel(Cuboid((x, 2.0, -1.0), (4.5, 1.9, 1.6), 0.4), "Car", None, 0.9,   # noqa: E731
                                         "model", attrs)
    per_frame = {0: [car(10.0), car(20.0, velocity=[1.5, -0.5]), car(30.0, velocity=[float("nan"), 1.0])]}
    path = tmp_path / "results.json"
    write_nuscenes_results(path, per_frame, drive)
    results, meta = loaders.load_prediction(str(path), 500, DetectionBox)
    assert results.sample_tokens == ["tok0"] and meta["use_lidar"] is True
    boxes = sorted(results["tok0"], key=lambda b: b.translation[1])   # x in the LiDAR frame is +y globally
    velocities = [b.velocity for b in boxes]
    assert np.isnan(velocities[0]).all() and velocities[1] == (1.5, -0.5) and np.isnan(velocities[2]).all()
    moving = DetectionBox("tok0", boxes[0].translation, boxes[0].size, boxes[0].rotation, velocity=(3.0, 0.0))
    assert np.isnan(velocity_l2(moving, boxes[0]))


@pytest.mark.realdata
def test_prelabel_reads_nan_velocity_of_the_real_keyframe(nusc_root, tmp_path, capsys):
    """Results built from ground truth with the devkit's box_velocity hold NaN on this keyframe
    (it has no neighbours): prelabel --out takes them, with the velocity unknown."""
    nus_io = pytest.importorskip("fusionlabel.io.nuscenes")
    from fusionlabel.cli.main import main
    from fusionlabel.io.native import read_labels

    drive = nus_io.open_nuscenes(nusc_root)
    path = tmp_path / "results.json"
    write_nuscenes_results(path, {0: [g.with_(score=0.8, source="model") for g in drive.labels(0)]}, drive)
    doc = json.loads(path.read_text())
    for boxes in doc["results"].values():
        for b in boxes:
            b["velocity"] = [float("nan"), float("nan")]
    path.write_text(json.dumps(doc))
    out = tmp_path / "out"
    assert main(["prelabel", str(nusc_root), "--detector", f"predictions:{path}", "--out", str(out)]) == 0
    (written,) = out.glob("*.json")
    labels = read_labels(written)
    assert len(labels) >= 30 and all("velocity" not in lab.attributes for lab in labels)
    doc["results"][next(iter(doc["results"]))][0]["velocity"] = "fast"
    path.write_text(json.dumps(doc))
    assert main(["prelabel", str(nusc_root), "--detector", f"predictions:{path}", "--out", str(tmp_path / "o2")]) == 2
    assert re.search(r"results\.json: results\.\w+\[0\]\.velocity: expected \[vx, vy\]", capsys.readouterr().err)


def test_native_prediction_files_may_hold_unwrapped_yaw(tmp_path):
    """A model's native .json may write an angle past one turn (−7.9): prelabel and eval read it as
    the same box, while a drive's own label file refuses it (degrees written for radians?)."""
    from fusionlabel.io.native import read_labels
    from fusionlabel.qa.sources import _folder_labels

    drive = _drive_with_ids(tmp_path, ["000000"])
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "000000.json").write_text('{"format": "fusionlabel-labels/1", "objects": [{"label": "Car", '
                                        '"center": [10, 2, -1], "size": [4, 1.8, 1.6], "yaw": -7.9, "score": 0.8}]}')
    wrapped = -7.9 + 2 * np.pi
    (pre,) = PredictionsDetector(folder).detect_frame(drive, 0)
    (ev,) = _folder_labels(folder, drive, "--pred")[0]
    assert pre.box.yaw == pytest.approx(wrapped) and ev.box.yaw == pytest.approx(wrapped)
    with pytest.raises(LabelError, match=r"objects\[0\]\.yaw: -7\.9 is beyond ±2π; yaw is in radians"):
        read_labels(folder / "000000.json")
