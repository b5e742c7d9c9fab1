"""`prelabel --out DIR --format nuscenes-results`: one nuScenes detection-results file of a nuScenes
drive's keyframes, read back with the devkit's own loader; drives without sample tokens refused."""

import json

import numpy as np
import pytest

from fusionlabel.assist.predictions import write_nuscenes_results
from fusionlabel.assist.prelabel_folder import RESULTS_FILE
from fusionlabel.assist.prelabel_results import prelabel_results
from fusionlabel.assist.predictions import PredictionsDetector
from fusionlabel.cli.main import main
from fusionlabel.errors import InputError
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.model.annotation import CuboidLabel

from test_assist_predictions import _nuscenes_drive


def _devkit_gt_results(drive, path):
    """The keyframe's ground truth as a results file built from the devkit's own records (global
    boxes, its category table and box_velocity): the detector a --format nuscenes-results run
    passes through."""
    from nuscenes.eval.detection.utils import category_to_detection_name

    nusc = drive.nusc
    token = drive.tokens[0].sample
    boxes = []
    for ann_token in nusc.get("sample", token)["anns"]:
        ann = nusc.get("sample_annotation", ann_token)
        name = category_to_detection_name(ann["category_name"])
        if name is None:
            continue
        boxes.append({"sample_token": token, "translation": ann["translation"], "size": ann["size"],
                      "rotation": ann["rotation"], "velocity": list(nusc.box_velocity(ann_token)[:2]),
                      "detection_name": name, "detection_score": 0.8, "attribute_name": ""})
    path.write_text(json.dumps({"meta": {}, "results": {token: boxes}}))
    return token, boxes


@pytest.mark.realdata
def test_results_of_the_real_keyframe_load_in_the_devkit_with_its_boxes_and_sample_token(nusc_root, tmp_path, capsys):
    pytest.importorskip("nuscenes")
    from nuscenes.eval.common.loaders import load_prediction
    from nuscenes.eval.detection.data_classes import DetectionBox

    from fusionlabel.io.nuscenes import open_nuscenes

    drive = open_nuscenes(nusc_root)
    token, gt = _devkit_gt_results(drive, tmp_path / "gt.json")
    assert len(gt) >= 30 and len({b["detection_name"] for b in gt}) >= 3
    out = tmp_path / "out"
    assert main(["prelabel", str(nusc_root), "--detector", f"predictions:{tmp_path / 'gt.json'}", "--out", str(out),
                 "--format", "nuscenes-results", "--min-score", "0", "--quiet"]) == 0
    assert f"{out / RESULTS_FILE} [nuscenes-results]" in capsys.readouterr().out
    results, _ = load_prediction(str(out / RESULTS_FILE), 500, DetectionBox)
    assert results.sample_tokens == [token]
    written = results[token]
    assert len(written) == len(gt)
    for g in gt:
        (w,) = [w for w in written if np.allclose(w.translation, g["translation"], atol=1e-6)]
        assert w.detection_name == g["detection_name"] and w.detection_score == 0.8
        np.testing.assert_allclose(w.size, g["size"], atol=1e-6)
        q, r = np.array(w.rotation), np.array(g["rotation"])
        assert min(np.abs(q - r).max(), np.abs(q + r).max()) < 1e-6
        assert np.isnan(w.velocity).all() and np.isnan(g["velocity"]).all()   # the keyframe has no neighbours


def test_a_drive_without_sample_tokens_is_refused_before_the_detector_runs(tmp_path, capsys):
    from fusionlabel.sim.writer import simulate_drive

    drive = tmp_path / "drive"
    simulate_drive(drive, frames=1, seed=2, points=2_000, cameras=False, progress=False)
    out = tmp_path / "o"
    assert main(["prelabel", str(drive), "--out", str(out), "--format", "nuscenes-results", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"fusionlabel: error: {drive}: --format nuscenes-results: needs a "
                                               "nuScenes drive"), err
    assert not out.exists()


def _drive(tmp_path, samples):
    """A two-frame drive of nuScenes-like poses, its frames named by ``samples`` tokens."""
    root = tmp_path / "drive"
    root.mkdir(exist_ok=True)
    return _tokens(_nuscenes_drive(root), samples)


def _tokens(drive, samples):
    from fusionlabel.io.nuscenes import FrameTokens

    drive.tokens = [FrameTokens(s, f"lidar{i}") for i, s in enumerate(samples)]
    return drive


def _car(x, score=0.9):
    return CuboidLabel(Cuboid((x, 2.0, -1.0), (4.5, 1.9, 1.6), 0.4), "Car", None, score, "model")


def test_a_frames_run_replaces_its_keyframes_and_keeps_the_others_and_sweeps_are_refused(tmp_path):
    drive = _drive(tmp_path, ["tok0", "tok1"])
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    write_nuscenes_results(first, {0: [_car(10.0)], 1: [_car(20.0), _car(30.0)]}, drive)
    write_nuscenes_results(second, {0: [_car(50.0)], 1: [_car(40.0)]}, drive)
    out = tmp_path / "out"
    report = prelabel_results(drive, PredictionsDetector(first), out, progress=False)
    assert (report.frames, report.prelabels, report.by_class) == (2, 3, {"car": 3})
    before = json.loads((out / RESULTS_FILE).read_text())["results"]
    prelabel_results(drive, PredictionsDetector(second), out, frames=[1], progress=False)
    after = json.loads((out / RESULTS_FILE).read_text())["results"]
    assert after["tok0"] == before["tok0"] and len(after["tok1"]) == 1
    assert after["tok1"][0]["translation"] != before["tok1"][0]["translation"]
    _tokens(drive, ["tok0", None])              # frame 1 a sweep between keyframes
    with pytest.raises(InputError, match=r"--format nuscenes-results: frame tok1 is a sweep, not a nuScenes keyframe"):
        prelabel_results(drive, PredictionsDetector(second), out, progress=False)
    assert json.loads((out / RESULTS_FILE).read_text())["results"] == after


def test_a_folder_holds_label_files_or_a_results_file_never_both(tmp_path, capsys):
    drive = _drive(tmp_path, ["tok0", "tok1"])
    preds = tmp_path / "p.json"
    write_nuscenes_results(preds, {0: [_car(10.0)], 1: []}, drive)
    out = tmp_path / "out"
    prelabel_results(drive, PredictionsDetector(preds), out, progress=False)
    from fusionlabel.assist.prelabel_folder import prelabel

    with pytest.raises(InputError, match=f"holds a nuScenes results file \\({RESULTS_FILE}\\), not native label files"):
        prelabel(drive, PredictionsDetector(preds), out, "native", progress=False)
    labels = tmp_path / "labels"
    prelabel(drive, PredictionsDetector(preds), labels, "native", progress=False)
    with pytest.raises(InputError, match="holds 2 native label files .*, not nuscenes-results"):
        prelabel_results(drive, PredictionsDetector(preds), labels, progress=False)


@pytest.mark.parametrize("label, read, name", [("Truck", "bus", "bus"), ("Cyclist", "motorcycle", "motorcycle"),
                                               ("Car", "bus", "car"), ("Bus", None, "bus"), ("Van", None, "car"),
                                               ("vehicle.trailer", None, "trailer"), ("Misc", None, None)])
def test_the_detection_class_written_keeps_the_one_read_while_the_class_agrees(label, read, name):
    """A results file's bus is read as the pre-label class Truck (what eval scores it as) and
    written back as bus, not truck; retyped (Car), it is written as its new class."""
    from fusionlabel.assist.predictions import nuscenes_detection_class

    attrs = {} if read is None else {"nuscenes_name": read}
    assert nuscenes_detection_class(CuboidLabel(Cuboid((0, 0, 0), (4, 2, 2), 0.0), label, None, 0.5, "model",
                                                attrs)) == name


def test_rewrites_are_paced_to_a_tenth_of_the_time():
    """Each rewrite of the growing file is followed by nine times its duration without one."""
    from fusionlabel.assist.prelabel_results import WritePacer

    now = [0.0]
    pacer = WritePacer(clock=lambda: now[0])
    assert pacer.due()                               # the first batch is written at once

    def slow_write():
        now[0] += 2.0
    pacer.write(slow_write)                          # 0 s -> 2 s
    now[0] = 19.9
    assert not pacer.due()
    now[0] = 20.0
    assert pacer.due()                               # 2 s of writing in 20 s: a tenth


def test_an_interrupted_run_writes_every_frame_it_finished(tmp_path, monkeypatch):
    """Between paced rewrites an interrupt (or a failure) still leaves every finished frame in the file."""
    import fusionlabel.assist.prelabel as prelabel
    import fusionlabel.assist.prelabel_results as results

    drive = _drive(tmp_path, ["tok0", "tok1"])
    preds = tmp_path / "p.json"
    write_nuscenes_results(preds, {0: [_car(10.0)], 1: [_car(20.0)]}, drive)

    class StopsAtFrameOne(PredictionsDetector):
        def detect_frame(self, drive, index):
            if index == 1:
                raise KeyboardInterrupt
            return super().detect_frame(drive, index)

    monkeypatch.setattr(prelabel, "BATCH_SECONDS", 0.0)              # a batch per frame
    monkeypatch.setattr(results.WritePacer, "due", lambda self: False)  # no rewrite due before the interrupt
    report = prelabel.PrelabelReport()
    with pytest.raises(KeyboardInterrupt):
        prelabel_results(drive, StopsAtFrameOne(preds), tmp_path / "out", progress=False, report=report)
    written = json.loads((tmp_path / "out" / RESULTS_FILE).read_text())["results"]
    assert list(written) == ["tok0"] and len(written["tok0"]) == 1 and report.frames_stored == 1
