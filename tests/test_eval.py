"""Detection metrics and edit cost: hand-built cases, an independent AP computation, the CLI on real data."""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from fusionlabel.cli.main import main
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.qa.classes import canonical
from fusionlabel.qa.detection import EvalFrame, EvalSettings, average_precision_r40, evaluate


def car(x, y, score=None, label="Car", yaw=0.0, size=(4.0, 1.8, 1.5)):
    return CuboidLabel(Cuboid((x, y, 0.0), size, yaw), label, None, score, "model" if score is not None else "human")


def ped(x, y, score=None):
    return car(x, y, score, "Pedestrian", size=(0.8, 0.6, 1.7))


def test_perfect_predictions():
    gt = [car(10, 0), car(20, 5), ped(8, -3)]
    pred = [g.with_(score=0.9, source="model") for g in gt]
    r = evaluate([EvalFrame("0", gt, pred)])
    for c in ("car", "pedestrian"):
        m = r["classes"][c]
        assert (m["precision"], m["recall"], m["ap"]) == (1.0, 1.0, 1.0)
        assert m["mean_bev_iou"] == pytest.approx(1.0) and m["mean_iou_3d"] == pytest.approx(1.0)
    assert r["edit_cost"]["actions"] == 0 and r["edit_cost"]["accepted"] == 3 and r["edit_cost"]["ratio"] == 0.0


def test_counts_and_edit_actions_by_hand():
    gt = [car(10, 0), car(20, 5), car(30, -5), ped(8, -3)]
    pred = [car(10.2, 0, 0.9),                 # accepted (IoU ~0.9)
            car(21.2, 5, 0.8),                 # true positive at 0.5 but needs an adjustment (IoU ~0.54)
            car(15, 15, 0.7),                  # false positive -> delete
            ped(8, -3, 0.6).with_(label="Cyclist")]    # right box, wrong class -> relabel
    r = evaluate([EvalFrame("0", gt, pred)])
    cars = r["classes"]["car"]
    assert (cars["tp"], cars["fp"], cars["fn"]) == (2, 1, 1)
    assert cars["precision"] == pytest.approx(2 / 3) and cars["recall"] == pytest.approx(2 / 3)
    assert r["classes"]["pedestrian"]["recall"] == 0.0 and r["classes"]["cyclist"]["fp"] == 1
    e = r["edit_cost"]
    assert (e["creates"], e["deletes"], e["adjustments"], e["relabels"], e["accepted"]) == (1, 1, 1, 1, 1)
    assert e["ratio"] == pytest.approx(4 / 4)
    # effort-weighted: create 1 + delete 0.2 + adjust 0.5 + relabel 0.2 over 4 creates from scratch
    assert e["weighted_ratio"] == pytest.approx((1 + 0.2 + 0.5 + 0.2) / 4)
    custom = evaluate([EvalFrame("0", gt, pred)], EvalSettings(edit_weights={"creates": 2.0}))["edit_cost"]
    assert custom["weighted_ratio"] == pytest.approx((2 + 1 + 1 + 1) / 8)
    # by class: the ground truth's class for creates, adjustments, relabels; the pre-label's for deletes
    by = e["by_class"]
    assert set(by) == {"car", "pedestrian"}
    car_row = {k: by["car"][k] for k in ("gt", "creates", "adjustments", "relabels", "deletes", "accepted")}
    assert car_row == {"gt": 3, "creates": 1, "adjustments": 1, "relabels": 0, "deletes": 1, "accepted": 1}
    assert (by["pedestrian"]["gt"], by["pedestrian"]["relabels"]) == (1, 1)
    assert by["car"]["weighted"] == pytest.approx(1 + 0.5 + 0.2) and by["pedestrian"]["weighted"] == pytest.approx(0.2)
    assert sum(r["share"] for r in by.values()) == pytest.approx(1.0) and list(by) == ["car", "pedestrian"]
    for k in ("gt", "creates", "deletes", "adjustments", "relabels", "accepted"):
        assert sum(r[k] for r in by.values()) == e[k]


def test_acceptance_iou_per_class():
    # a pedestrian box 0.1 m off (BEV IoU 0.78) and one 0.2 m off (0.6); a car 1.2 m off (0.54)
    gt = [ped(8, -3), ped(12, 4), car(20, 5)]
    pred = [ped(8.1, -3, 0.9), ped(12.2, 4, 0.9), car(21.2, 5, 0.9)]
    frame = EvalFrame("0", gt, pred)
    e = evaluate([frame])["edit_cost"]
    assert (e["adjustments"], e["accepted"]) == (2, 1)
    e = evaluate([frame], EvalSettings(accept_iou_by_class={"pedestrian": 0.5}))["edit_cost"]
    assert (e["adjustments"], e["accepted"]) == (1, 2)          # the car still needs its adjustment
    e = evaluate([frame], EvalSettings(accept_iou=0.5, accept_iou_by_class={"pedestrian": 0.7}))["edit_cost"]
    assert (e["adjustments"], e["accepted"]) == (1, 2)          # now the far pedestrian does


def test_eval_cli_accept_iou_per_class(tmp_path, capsys):
    from fusionlabel.cli.cmd_eval import parse_accept_iou

    assert parse_accept_iou("0.7") == (0.7, {})
    assert parse_accept_iou("0.6, Pedestrian=0.5,cyclist=0.5") == (0.6, {"pedestrian": 0.5, "cyclist": 0.5})
    pred = _sample_predictions(tmp_path / "pred", ["000000"])
    args = ["eval", "--pred", str(pred), "--gt", str(SAMPLE), "--only-predicted"]
    assert main([*args, "--json", "--accept-iou", "0.7,pedestrian=0.5"]) == 0
    settings = _strict_json(capsys.readouterr().out)["settings"]
    assert settings["accept_iou"] == 0.7 and settings["accept_iou_by_class"] == {"pedestrian": 0.5}
    assert main([*args, "--accept-iou", "0.7,cyclist=0.5"]) == 0
    out = capsys.readouterr().out
    assert "no adjustment at BEV IoU >= 0.7, cyclist 0.5" in out
    by_class = re.findall(r"^  (\w+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) ", out, re.M)
    assert len(by_class) >= 2 and sum(int(r[1]) for r in by_class) > 0     # "by class" rows: name, gt, ...
    for bad, why in (("0.7,bus=0.5", "unknown class 'bus'"), ("1.5", "(0, 1]"), ("high", "not an IoU"),
                     ("0.7,pedestrian=0.5,Pedestrian=0.6", "pedestrian is given twice")):
        assert main([*args, "--accept-iou", bad]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--accept-iou" in err and why in err, (bad, err)


def test_eval_cli_refuses_settings_no_evaluation_can_use(tmp_path, capsys):
    pred = _sample_predictions(tmp_path / "pred", ["000000"])
    args = ["eval", "--pred", str(pred), "--gt", str(SAMPLE), "--only-predicted"]
    for option, value, why in (("--max-range", "-1", "above 0"), ("--min-points", "-3", "0 or more"),
                               ("--score-threshold", "5", "from 0 to 1")):
        assert main([*args, option, value]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and option in err and why in err, (option, err)


def ap_by_brute_force(scores, tp, n_gt):
    """R40 AP, written independently: for each recall level scan every cut of the ranking."""
    order = sorted(range(len(scores)), key=lambda k: -scores[k])
    cuts = []
    for n in range(1, len(order) + 1):
        hits = sum(tp[k] for k in order[:n])
        cuts.append((hits / n_gt, hits / n))
    total = 0.0
    for r in [i / 40 for i in range(1, 41)]:
        total += max([p for rec, p in cuts if rec >= r - 1e-12], default=0.0)
    return total / 40


def test_average_precision_against_brute_force():
    rng = np.random.default_rng(4)
    for _ in range(30):
        n = int(rng.integers(1, 40))
        scores = rng.random(n)
        tp = (rng.random(n) < 0.6).astype(int)
        n_gt = int(tp.sum() + rng.integers(0, 5)) or 1
        assert average_precision_r40(scores, tp, n_gt) == pytest.approx(ap_by_brute_force(list(scores), list(tp), n_gt))
    assert np.isnan(average_precision_r40(np.array([0.5]), np.array([0]), 0))


def test_ignored_ground_truth_and_region():
    gt = [car(10, 0), car(50, 0), car(12, 8, label="Van"), car(20, 0)]
    counts = np.array([100, 100, 100, 5])     # the last car has too few points
    pred = [car(10, 0, 0.9), car(50, 0, 0.9), car(12, 8, 0.8), car(20, 0, 0.7), car(5, -20, 0.6)]
    region = lambda c: c[:, 1] > -10          # noqa: E731  (the last prediction is outside the labelled area)
    r = evaluate([EvalFrame("0", gt, pred, counts, region)])
    cars = r["classes"]["car"]
    # only the first car counts; predictions on the far car, the van, the sparse car and outside are ignored
    assert (cars["gt"], cars["tp"], cars["fp"]) == (1, 1, 0)
    e = r["edit_cost"]
    assert (e["gt"], e["creates"], e["deletes"]) == (1, 0, 0)
    # with a lower point threshold the sparse car counts and its prediction is a true positive
    r2 = evaluate([EvalFrame("0", gt, pred, counts, region)], EvalSettings(min_points=5))
    assert r2["classes"]["car"]["tp"] == 2


def test_duplicates_are_false_positives_and_score_threshold():
    gt = [car(10, 0)]
    pred = [car(10, 0, 0.9), car(10.1, 0, 0.5), car(30, 0, 0.2)]
    r = evaluate([EvalFrame("0", gt, pred)])
    assert r["classes"]["car"]["fp"] == 2
    r = evaluate([EvalFrame("0", gt, pred)], EvalSettings(score_threshold=0.6))
    assert r["classes"]["car"]["fp"] == 0 and r["classes"]["car"]["ap"] == 1.0
    assert r["edit_cost"]["deletes"] == 0


def test_sitting_people_are_neither_targets_nor_false_positives():
    """KITTI scores a sitting person as a neighbour of pedestrian, whatever the label is called:
    KITTI tracking's "Person" (pose sitting from its reader), KITTI object's Person_sitting, or a
    project's pedestrian whose pose is sitting or lying (KITTI export writes it Person_sitting)."""
    sitting = [ped(10, 0).with_(label="Person", attributes={"pose": "sitting"}),
               ped(12, 4).with_(label="pedestrian", attributes={"pose": "lying"}),
               ped(14, -4).with_(label="Person_sitting")]
    standing = ped(20, 0).with_(label="pedestrian", attributes={"pose": "standing"})
    pred = [ped(10, 0, 0.9), ped(20, 0, 0.8)]          # one on a sitting person, one on the walker
    r = evaluate([EvalFrame("0", [*sitting, standing], pred)])
    peds = r["classes"]["pedestrian"]
    assert (peds["gt"], peds["tp"], peds["fp"], peds["fn"]) == (1, 1, 0, 0)
    e = r["edit_cost"]
    assert (e["gt"], e["creates"], e["deletes"]) == (1, 0, 0)
    # the same person standing is a pedestrian to find: missing it is a create, and recall drops
    up = [s.with_(attributes={}) if s.label != "Person_sitting" else s for s in sitting]
    r = evaluate([EvalFrame("0", [*up, standing], pred)])
    assert (r["classes"]["pedestrian"]["gt"], r["edit_cost"]["creates"]) == (3, 1)


def test_canonical_classes():
    assert canonical("vehicle.car") == "car" and canonical("human.pedestrian.adult") == "pedestrian"
    assert canonical("Rider") == "cyclist" and canonical("vehicle.bus.rigid") == "truck" and canonical("Foo") == "foo"


@pytest.mark.realdata
def test_eval_cli_on_real_pointpillars_predictions(kitti_object, realdata, capsys):
    pred = realdata / "kitti_object" / "predictions" / "pointpillars"
    assert main(["eval", "--pred", str(pred), "--gt", str(kitti_object), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    cars = r["classes"]["car"]
    # frame 000002's car (the only car within 40 m with 20 points in frames with predictions) is found
    assert cars["tp"] >= 1 and cars["mean_bev_iou"] > 0.7
    assert r["frames"] == 4
    assert main(["eval", "--pred", str(pred), "--gt", str(kitti_object)]) == 0
    text = capsys.readouterr().out
    assert "edit cost" in text and "car" in text
    # ground truth against itself: perfect
    assert main(["eval", "--pred", str(kitti_object / "label_2"), "--gt", str(kitti_object), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["edit_cost"]["actions"] == 0 and r["classes"]["pedestrian"]["recall"] == 1.0


def test_eval_cli_errors(tmp_path, capsys):
    assert main(["eval", "--pred", str(tmp_path), "--gt", str(tmp_path / "missing")]) == 2
    assert "ground truth not found" in capsys.readouterr().err


def test_dont_care_boxes_make_predictions_neither_right_nor_wrong():
    gt = [car(10, 0)]
    unlabelled = Cuboid((20.0, 5.0, 0.0), (4.5, 1.8, 1.5), np.pi / 2)
    pred = [car(10, 0, 0.9),
            car(20.5, 4.0, 0.8, yaw=0.0),       # lies across the unlabelled car: centre inside its footprint
            car(30.0, -5.0, 0.7)]               # nothing there: a false positive
    r = evaluate([EvalFrame("0", gt, pred, ignore=[unlabelled])])
    cars = r["classes"]["car"]
    assert (cars["tp"], cars["fp"]) == (1, 1)
    assert r["edit_cost"]["deletes"] == 1
    # without the don't-care box the second prediction is a false positive too
    assert evaluate([EvalFrame("0", gt, pred)])["classes"]["car"]["fp"] == 2
    # overlap alone counts as well (half of the smaller footprint): a car box over an unlabelled person
    person = Cuboid((30.0, 8.0, 0.0), (0.6, 0.6, 1.7), 0.0)
    over = car(31.3, 8.0, 0.6)
    assert evaluate([EvalFrame("0", gt, [over], ignore=[person])])["classes"]["car"]["fp"] == 0
    assert evaluate([EvalFrame("0", gt, [car(33.5, 8.0, 0.6)], ignore=[person])])["classes"]["car"]["fp"] == 1


def test_track_gaps_become_interpolated_dont_care_boxes():
    from fusionlabel.qa.datasets import track_gap_boxes

    def lab(x, yaw, tid):
        return CuboidLabel(Cuboid((x, 0.0, 0.0), (4.0, 2.0, 1.5), yaw), "Car", tid, None, "import")

    frames = {10: [lab(0.0, 3.0, "a"), lab(50.0, 0.0, "b")], 15: [lab(50.0, 0.0, "b")], 20: [lab(10.0, -3.0, "a")],
              25: [lab(12.0, -3.0, "a")]}
    gaps = track_gap_boxes(frames)
    assert gaps[10] == [] and gaps[20] == [] and gaps[25] == []
    (box,) = gaps[15]                        # "a" is missing between 10 and 20; "b" ends at 15
    assert box.center[0] == pytest.approx(5.0)
    # yaw follows the shortest arc from 3.0 to -3.0 (through pi), not through 0
    assert abs(abs(box.yaw) - np.pi) < 0.35


def test_track_gaps_with_ego_poses_interpolate_in_the_world():
    # The ego drives 10 m along x per frame past a parked car at world x = 30. Labelled in frames 0
    # and 2 (LiDAR x = 30 and 10), missing in frame 1: the car stands at LiDAR x = 20 there, which is
    # also the middle of the LiDAR-frame positions; turned by 90 degrees on the way, the ego sees the
    # same car at a place only the world frame gives.
    from fusionlabel.geometry.transforms import invert_T
    from fusionlabel.qa.datasets import track_gap_boxes

    def pose(x, yaw):
        T = np.eye(4)
        T[:2, :2] = [[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]]
        T[0, 3] = x
        return T

    poses = {0: pose(0.0, 0.0), 1: pose(10.0, np.pi / 4), 2: pose(20.0, np.pi / 2)}
    world_car = Cuboid((30.0, 5.0, 0.0), (4.0, 2.0, 1.5), 0.3)
    labels = {n: [CuboidLabel(world_car.transformed(invert_T(poses[n])), "Car", "a", None, "import")] for n in (0, 2)}
    labels[1] = []
    (box,) = track_gap_boxes(labels, poses)[1]
    want = world_car.transformed(invert_T(poses[1]))
    assert np.allclose(box.center, want.center, atol=1e-9)
    assert abs((box.yaw - want.yaw + np.pi) % (2 * np.pi) - np.pi) < 1e-9
    (flat,) = track_gap_boxes(labels)[1]        # without poses: the LiDAR-frame straight line, elsewhere
    assert np.hypot(*(np.asarray(flat.center[:2]) - want.center[:2])) > 5.0


@pytest.mark.realdata
def test_sustech_imported_with_estimated_poses_keeps_its_track_gaps(realdata, tmp_path):
    # eval on a native copy of the SUSTech scene with poses estimated from its sweeps finds the same
    # don't-care boxes as on the scene itself (before, a drive with poses got none).
    from fusionlabel.qa.sources import load_eval_frames

    root = realdata / "sustech_sequence"
    if not (root / "label").is_dir():
        pytest.skip("SUSTech sample not found")
    native = tmp_path / "native"
    assert main(["import", str(root), "--estimate-poses", "--out", str(native), "--quiet"]) == 0
    preds = tmp_path / "preds"
    preds.mkdir()
    for label in (root / "label").glob("*.json"):
        (preds / f"{label.stem}.txt").write_text("")
    direct = {ef.frame_id: ef for ef in load_eval_frames(preds, root, count=False)}
    copied = load_eval_frames(preds, native, count=False)
    assert sum(len(ef.ignore) for ef in copied) > 0
    for ef in copied:
        want = direct[ef.frame_id].ignore
        assert len(ef.ignore) == len(want), ef.frame_id
        for got, box in zip(sorted(ef.ignore, key=lambda b: b.center[0]), sorted(want, key=lambda b: b.center[0])):
            # poses from odometry, not exact: within a few decimetres of the LiDAR-frame line
            assert np.hypot(*(np.asarray(got.center[:2]) - box.center[:2])) < 0.5, ef.frame_id


@pytest.mark.realdata
def test_sustech_gap_and_reviewed_dont_care_boxes(realdata):
    from fusionlabel.qa.datasets import SUSTECH_EXAMPLE_UNLABELLED, sustech_frames

    root = realdata / "sustech_sequence"
    if not (root / "label").is_dir():
        pytest.skip("SUSTech sample not found")
    frames = {f.frame_id: f for _, f in sustech_frames(root)}
    bus = {fid: next(g.box for g in f.gt if g.track_id == "3") for fid, f in frames.items()
           if any(g.track_id == "3" for g in f.gt)}
    assert "000970" not in bus and {"000965", "000975"} <= set(bus)
    # the bus, labelled in 000965 and 000975, stands between its two labels in 000970
    mid = (np.asarray(bus["000965"].center) + np.asarray(bus["000975"].center)) / 2
    assert any(np.hypot(*(np.asarray(b.center[:2]) - mid[:2])) < 0.5 for b in frames["000970"].ignore)
    reviewed = {f.frame_id: f for _, f in sustech_frames(root, reviewed=True)}
    for fid, items in SUSTECH_EXAMPLE_UNLABELLED.items():
        assert len(reviewed[fid].ignore) == len(frames[fid].ignore) + len(items)
        # a reviewed object is really unlabelled: no ground-truth box overlaps it
        for c, size, yaw, _ in items:
            box = Cuboid(c, size, yaw)
            assert all(np.hypot(*(np.asarray(g.box.center[:2]) - box.center[:2])) > 2.0 for g in frames[fid].gt)


def test_eval_cli_applies_track_gap_dont_care_on_sustech(realdata, tmp_path):
    # The eval command and the benchmark agree: a tracked SUSTech object missing from one frame
    # is a don't-care box there.
    from fusionlabel.qa.datasets import sustech_frames
    from fusionlabel.qa.sources import load_eval_frames

    root = realdata / "sustech_sequence"
    for label in (root / "label").glob("*.json"):   # no predictions: empty KITTI files
        (tmp_path / f"{label.stem}.txt").write_text("")
    frames = load_eval_frames(tmp_path, root, count=False)
    bench = {ef.frame_id: ef for _, ef in sustech_frames(root)}
    assert sum(len(ef.ignore) for ef in frames) > 0
    for ef in frames:
        got = sorted(tuple(np.round(b.center, 6)) for b in ef.ignore)
        want = sorted(tuple(np.round(b.center, 6)) for b in bench[ef.frame_id].ignore)
        assert got == want, ef.frame_id


SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


def _strict_json(text):
    def refuse(name):
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, parse_constant=refuse)


def _sample_predictions(folder, frame_ids):
    """The sample drive's own labels of some frames as a folder of prediction files (all correct)."""
    if not (SAMPLE / "drive.yaml").is_file():
        pytest.skip(f"sample drive not found at {SAMPLE}")
    folder.mkdir()
    for fid in frame_ids:
        shutil.copy(SAMPLE / "labels" / f"{fid}.json", folder / f"{fid}.json")
    return folder


def test_eval_cli_notes_frames_without_predictions_and_only_predicted_scores_the_rest(tmp_path, capsys):
    pred = _sample_predictions(tmp_path / "pred", ["000000", "000001", "000002"])
    assert main(["eval", "--pred", str(pred), "--gt", str(SAMPLE)]) == 0
    cap = capsys.readouterr()
    out = cap.out
    assert "note: 17 of 20 frames have no prediction file (000003, " in cap.err    # notes on stderr
    assert "they count as frames with no detections" in cap.err and "note:" not in out
    assert re.search(r"^car +\d+ +\d+ +\d+ +1\.00 +0\.\d\d ", out, re.M)    # every prediction right, most cars missed
    assert main(["eval", "--pred", str(pred), "--gt", str(SAMPLE), "--only-predicted", "--json"]) == 0
    cap = capsys.readouterr()
    r = _strict_json(cap.out)
    assert r["frames"] == 3 and r["only_predicted"] is True and len(r["frames_without_predictions"]) == 17
    assert r["classes"]["car"]["recall"] == 1.0 and r["edit_cost"]["creates"] == 0
    assert "17 of 20 frames have no prediction file" in cap.err and "not scored" in cap.err


def test_eval_cli_single_native_prediction_file_of_a_later_frame(tmp_path, capsys):
    # one <frame>.json (prelabel --frames 1:2) is a prediction file, not a nuScenes results JSON
    pred = _sample_predictions(tmp_path / "pred", ["000001"])
    assert main(["eval", "--pred", str(pred), "--gt", str(SAMPLE), "--only-predicted", "--json"]) == 0
    r = _strict_json(capsys.readouterr().out)
    assert r["frames"] == 1 and r["classes"]["pedestrian"]["recall"] == 1.0


def test_eval_cli_json_writes_null_for_undefined_metrics(tmp_path, capsys):
    pred = _sample_predictions(tmp_path / "pred", ["000000"])
    assert main(["eval", "--pred", str(pred), "--gt", str(SAMPLE), "--json", "--only-predicted"]) == 0
    r = _strict_json(capsys.readouterr().out)       # raises on NaN / Infinity
    cyclist = r["classes"]["cyclist"]                # the sample's first frame has no cyclist
    assert cyclist["gt"] == 0 and cyclist["predictions"] == 0
    assert cyclist["precision"] is None and cyclist["recall"] is None and cyclist["ap"] is None


def test_eval_cli_only_predicted_when_no_frame_has_a_prediction_file(tmp_path, capsys):
    pred = _sample_predictions(tmp_path / "pred", ["000001"])
    gt = tmp_path / "gt"
    gt.mkdir()
    shutil.copy(SAMPLE / "labels" / "000005.json", gt)
    args = ["eval", "--pred", str(pred), "--gt", str(gt), "--drive", str(SAMPLE)]
    assert main([*args, "--only-predicted"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{pred}: --pred: the one frame with ground truth has no prediction file" in err
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "note: 1 of 1 frames has no prediction file (000005); it counts as a frame with no detections" in err


def test_eval_help_shows_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option, default in (("max-range", "40"), ("min-points", "20"), ("score-threshold", "0"),
                            ("accept-iou", "0.7")):
        assert re.search(rf"--{option} \S+ .*?\(default: {re.escape(default)}\)", text), option
    assert "--only-predicted" in text


def test_eval_cli_refuses_a_prediction_folder_holding_two_formats(tmp_path, capsys):
    # KITTI .txt files beside native .json ones (say, a native prelabel run into a KITTI folder):
    # which of them are the predictions is anyone's guess, so eval names the folder and stops
    pred = _sample_predictions(tmp_path / "pred", ["000000", "000001"])
    (pred / "000002.txt").write_text("Car 0.00 0 0.0 0 0 0 0 1.5 1.8 4.0 0.0 1.5 10.0 0.0 0.9\n")
    assert main(["eval", "--pred", str(pred), "--gt", str(SAMPLE)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(pred) in err and "--pred" in err
    assert "2 native .json" in err and "1 KITTI .txt" in err
    (pred / "000002.txt").unlink()
    assert main(["eval", "--pred", str(pred), "--gt", str(SAMPLE), "--only-predicted"]) == 0


def test_eval_cli_leaves_model_pre_labels_out_of_the_ground_truth(tmp_path, capsys):
    """A prelabel run written into the ground-truth folder: its scored boxes are not ground truth."""
    from fusionlabel.io.native import labels_to_json, read_labels

    pred = _sample_predictions(tmp_path / "pred", ["000005"])
    gt = tmp_path / "gt"
    gt.mkdir()
    human = read_labels(SAMPLE / "labels" / "000005.json")
    stray = human[0].with_(box=human[0].box.with_(center=(60.0, 60.0, 0.0)), score=0.8, source="model")
    args = ["eval", "--pred", str(pred), "--gt", str(gt), "--drive", str(SAMPLE), "--max-range", "200",
            "--min-points", "0", "--json"]
    (gt / "000005.json").write_text(labels_to_json("000005", human))
    assert main(args) == 0
    before = _strict_json(capsys.readouterr().out)
    (gt / "000005.json").write_text(labels_to_json("000005", human + [stray, stray.with_(score=0.6)]))
    assert main(args) == 0
    cap = capsys.readouterr()
    report = _strict_json(cap.out)
    assert report["classes"] == before["classes"] and before["model_labels_left_out_of_gt"] == 0
    assert report["model_labels_left_out_of_gt"] == 2
    assert "left out of the ground truth 2 model pre-labels" in cap.err and "(000005)" in cap.err


def test_eval_gt_errors_name_the_real_cause(nusc_root, realdata, tmp_path, capsys):
    """--gt a drive with one bad table: the table's own error (file, record, field), not "not a
    drive"; --gt a drive together with --drive: say it is a drive."""
    from test_nuscenes import _copy_tables, _edit_table

    root = _copy_tables(nusc_root, tmp_path / "ds")
    record = _edit_table(root, "ego_pose", lambda rows: rows[0])
    _edit_table(root, "ego_pose", lambda rows: next(r for r in rows if r["token"] == record["token"])
                .__setitem__("rotation", [0, 0, 0, 0]))
    assert main(["eval", "--pred", str(tmp_path), "--gt", str(root)]) == 2
    err = capsys.readouterr().err
    assert f"ego_pose.json: record {record['token']}: rotation: must be a quaternion" in err and "not a drive" not in err
    sus = realdata / "sustech_sequence"
    (tmp_path / "preds").mkdir()
    assert main(["eval", "--pred", str(tmp_path / "preds"), "--gt", str(sus), "--drive", str(sus)]) == 2
    assert "it is a sustech drive: give it as --gt without --drive" in capsys.readouterr().err


def _scored(labels):
    return [lab.with_(score=0.9, source="model") for lab in labels if lab.label != "DontCare"]


def test_eval_cli_refuses_a_nuscenes_results_file_whose_tokens_match_no_frame(tmp_path, capsys):
    """A results JSON keyed by another drive's sample tokens used to score every box as missed
    (recall 0, exit 0); it is refused in one line naming the file and the tokens expected."""
    from fusionlabel.assist.predictions import write_nuscenes_results
    from fusionlabel.io.drives import open_drive

    drive = open_drive(SAMPLE)
    good = tmp_path / "results.json"
    write_nuscenes_results(good, {i: _scored(drive.labels(i)) for i in range(3)}, drive)
    assert main(["eval", "--pred", str(good), "--gt", str(SAMPLE), "--only-predicted", "--json"]) == 0
    assert _strict_json(capsys.readouterr().out)["classes"]["car"]["recall"] == 1.0
    doc = json.loads(good.read_text())
    doc["results"] = {"f" * 32: next(iter(doc["results"].values()))}
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps(doc))
    assert main(["eval", "--pred", str(wrong), "--gt", str(SAMPLE)]) == 2
    cap = capsys.readouterr()
    assert cap.out == "" and cap.err.count("\n") == 1
    assert f"{wrong}: --pred: none of the 20 frames has a prediction (sample tokens such as {'f' * 32}" in cap.err
    assert "expected sample tokens of this drive, e.g. 000000" in cap.err


def test_eval_cli_nuscenes_results_against_a_native_copy(nusc_root, tmp_path, capsys):
    """A native copy of a nuScenes scene keeps the source's sample tokens, so a results file scores
    against it as against the dataroot. A copy made before it kept them (frame IDs = LiDAR
    sample_data tokens, no ``nuscenes`` records) cannot match: the error says why."""
    import yaml

    from fusionlabel.assist.predictions import write_nuscenes_results
    from fusionlabel.io.nuscenes import open_nuscenes

    drive = open_nuscenes(nusc_root)
    results = tmp_path / "results.json"
    write_nuscenes_results(results, {i: _scored(drive.labels(i)) for i in range(len(drive))}, drive)
    assert main(["eval", "--pred", str(results), "--gt", str(nusc_root), "--json"]) == 0
    assert _strict_json(capsys.readouterr().out)["classes"]["car"]["recall"] == 1.0
    native = tmp_path / "native"
    assert main(["import", str(nusc_root), "--out", str(native), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["eval", "--pred", str(results), "--gt", str(native), "--json"]) == 0
    assert _strict_json(capsys.readouterr().out)["classes"]["car"]["recall"] == 1.0
    index = native / "drive.yaml"
    doc = yaml.safe_load(index.read_text())
    doc.pop("nuscenes")
    for frame in doc["frames"]:
        frame.pop("nuscenes", None)
    index.write_text(yaml.safe_dump(doc))
    assert main(["eval", "--pred", str(results), "--gt", str(native)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "native copy of nuScenes scene-0061" in err and "--scene scene-0061" in err


# ------------------------------------------------------------------- classes eval does not score
def test_unscored_prediction_classes_are_counted_and_nuscenes_names_map_as_in_prelabel():
    gt = [car(10, 0), car(20, 5, label="Truck", size=(8.0, 2.5, 3.0))]
    pred = [car(10, 0, 0.9, label="Vehicle"), car(20, 5, 0.8, label="construction_vehicle", size=(8.0, 2.5, 3.0)),
            car(30, 5, 0.7, label="barrier", size=(2.0, 0.5, 1.0)), car(5, 5, 0.6, label="Vehicle")]
    r = evaluate([EvalFrame("0", gt, pred)])
    assert r["classes"]["truck"]["tp"] == 1 and r["classes"]["truck"]["recall"] == 1.0
    assert r["classes"]["car"]["predictions"] == 0
    assert r["unscored_predictions"] == {"Vehicle": 2, "barrier": 1}
    assert evaluate([EvalFrame("0", gt, pred[1:2])])["unscored_predictions"] == {}


def test_ground_truth_of_classes_eval_does_not_score_is_counted():
    """Cars labelled ``Vehicle`` in the ground truth would silently count as no cars at all."""
    gt = [car(10, 0, label="Vehicle"), car(20, 5, label="Vehicle"), car(30, 0), car(5, 5, label="Misc")]
    r = evaluate([EvalFrame("0", gt, [car(10, 0, 0.9)])])
    assert r["unscored_ground_truth"] == {"Vehicle": 2, "Misc": 1} and r["unscored_predictions"] == {}
    assert r["classes"]["car"]["gt"] == 1
    assert evaluate([EvalFrame("0", gt[2:3], [])])["unscored_ground_truth"] == {}


def test_eval_cli_notes_predictions_of_classes_it_does_not_score(tmp_path, capsys):
    plain = _sample_predictions(tmp_path / "plain", ["000000"])
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    text = (plain / "000000.json").read_text()
    (renamed / "000000.json").write_text(text.replace('"label": "car"', '"label": "Vehicle"')
                                         .replace('"label": "truck"', '"label": "construction_vehicle"'))
    args = ["--gt", str(SAMPLE), "--only-predicted", "--json"]
    assert main(["eval", "--pred", str(plain), *args]) == 0
    before = _strict_json(capsys.readouterr().out)
    assert main(["eval", "--pred", str(renamed), *args]) == 0
    cap = capsys.readouterr()
    after = _strict_json(cap.out)
    assert after["classes"]["truck"] == before["classes"]["truck"]     # construction_vehicle is a truck
    assert after["classes"]["car"]["predictions"] == 0 and before["classes"]["car"]["predictions"] > 0
    assert after["unscored_predictions"] == {"Vehicle": 27, "van": 5} and before["unscored_predictions"] == {"van": 5}
    assert "note: 32 predictions of classes eval does not score: Vehicle 27, van 5 (eval scores car, " in cap.err


# ------------------------------------------------------------------- file names are frame IDs
@pytest.mark.realdata
def test_eval_cli_reads_file_names_as_frame_ids(kitti_object, tmp_path, capsys):
    labels = (kitti_object / "label_2" / "000134.txt").read_text()
    as_index = tmp_path / "idx"                  # 3 is 000134's index, not a frame ID
    as_index.mkdir()
    (as_index / "3.txt").write_text(labels)
    assert main(["eval", "--pred", str(as_index), "--gt", str(kitti_object)]) == 2
    assert "3.txt: --pred: no frame '3' in drive" in capsys.readouterr().err
    unpadded = tmp_path / "unpadded"             # 134 names 000134, the one frame with that number
    unpadded.mkdir()
    (unpadded / "134.txt").write_text(labels)
    assert main(["eval", "--pred", str(unpadded), "--gt", str(kitti_object), "--only-predicted", "--json"]) == 0
    r = _strict_json(capsys.readouterr().out)
    assert r["frames"] == 1 and r["frames_without_predictions"] == ["000000", "000001", "000002"]
    assert r["classes"]["pedestrian"]["recall"] == 1.0 and r["edit_cost"]["actions"] == 0
    (unpadded / "000134.txt").write_text(labels)    # two files for one frame: which one is meant?
    assert main(["eval", "--pred", str(unpadded), "--gt", str(kitti_object)]) == 2
    assert "134.txt: --pred: names frame '000134', as 000134.txt does too: keep one of the two files" in \
        capsys.readouterr().err


def test_a_duplicate_on_a_counted_object_costs_a_delete():
    """The second box on a car is a false positive and an annotator deletes it; a box on an object
    that does not count (a van here) is still left alone."""
    gt = [car(10, 0), car(12, 8, label="Van")]
    pred = [car(10, 0, 0.9), car(10.1, 0.1, 0.8), car(12, 8, 0.7)]
    r = evaluate([EvalFrame("0", gt, pred)])
    assert r["classes"]["car"]["fp"] == 1
    e = r["edit_cost"]
    assert (e["accepted"], e["deletes"], e["creates"]) == (1, 1, 0)
    assert e["by_class"]["car"]["deletes"] == 1


def test_a_box_facing_backwards_is_a_turn_and_a_floating_or_turned_one_an_adjustment():
    """Footprint and class right are not enough: a box facing the other way needs F (a turn, weight
    0.2), one turned 90 degrees or floating 0.8 m above its object needs adjusting."""
    gt = [car(10, 0), car(20, 5, size=(2.0, 2.0, 1.5)), car(30, -5), car(15, -8)]
    backwards = car(10, 0, 0.9, yaw=np.pi + 0.1)
    across = car(20, 5, 0.9, yaw=np.pi / 2, size=(2.0, 2.0, 1.5))       # same footprint, turned 90 degrees
    floating = CuboidLabel(Cuboid((30, -5, 0.8), (4.0, 1.8, 1.5), 0.0), "Car", None, 0.9, "model")
    right = car(15, -8, 0.9, yaw=2 * np.pi - 0.2)        # 11 degrees off, across the wrap
    r = evaluate([EvalFrame("0", [*gt], [backwards, across, floating, right])])
    e = r["edit_cost"]
    assert (e["turns"], e["adjustments"], e["accepted"], e["actions"]) == (1, 2, 1, 3)
    assert e["weighted"] == pytest.approx(0.2 + 2 * 0.5)
    assert e["by_class"]["car"]["turns"] == 1
    # a wrong class and a wrong direction are two keys
    both = evaluate([EvalFrame("0", [gt[0]], [backwards.with_(label="Truck")])])["edit_cost"]
    assert (both["relabels"], both["turns"], both["accepted"]) == (1, 1, 0)
    # --accept-heading 180 ignores headings: the old reading
    loose = evaluate([EvalFrame("0", [gt[0]], [backwards])], EvalSettings(accept_heading_deg=180))["edit_cost"]
    assert (loose["turns"], loose["accepted"]) == (0, 1)


def test_eval_cli_accept_heading(tmp_path, capsys):
    assert main(["eval", "--pred", str(tmp_path), "--gt", str(tmp_path), "--accept-heading", "200"]) == 2
    assert "--accept-heading" in capsys.readouterr().err
