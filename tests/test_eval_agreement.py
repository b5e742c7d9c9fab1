"""eval's lists of what differs: every edit with the boxes involved (--details) and track agreement
(CLEAR MOT with each identity switch named) when both sides carry track IDs."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from fusionlabel.cli.main import main
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.qa.detection import EvalFrame, EvalSettings, evaluate
from fusionlabel.qa.track_agreement import track_agreement

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


def box(x, y, label="Car", track=None, score=None, yaw=0.0, z=0.0):
    return CuboidLabel(Cuboid((x, y, z), (4.0, 1.8, 1.5), yaw), label, track, score,
                       "model" if score is not None else "human")


def test_details_list_each_edit_with_its_boxes_and_differences():
    gt = [box(10, 0, track="1"), box(20, 5, track="2"), box(30, -5, track="3"), box(15, -8, track="4")]
    pred = [box(10.5, 0, track="a", score=0.9),                      # 0.5 m along: BEV IoU 0.78 -> accepted
            box(21.2, 5, track="b", score=0.8),                      # 1.2 m off: adjust
            box(30, -5, "Truck", track="c", score=0.7, yaw=np.pi),   # relabel and turn
            box(0, -30, track="d", score=0.6)]                       # nothing there: delete
    rows = evaluate([EvalFrame("000007", gt, pred)], details=True)["disagreements"]
    by_action = {r["action"]: r for r in rows}
    assert sorted(r["action"] for r in rows) == ["adjustments", "creates", "deletes", "relabels", "turns"]
    adjust = by_action["adjustments"]
    assert adjust["frame"] == "000007" and adjust["gt"]["track_id"] == "2" and adjust["pred"]["track_id"] == "b"
    assert adjust["centre_error_m"] == pytest.approx(1.2) and adjust["heading_error_deg"] == 0.0
    assert adjust["bev_iou"] == pytest.approx((2.8 * 1.8) / (2 * 4.0 * 1.8 - 2.8 * 1.8), abs=1e-3)
    assert by_action["turns"]["heading_error_deg"] == pytest.approx(180.0)
    assert by_action["relabels"]["pred"]["class"] == "Truck" and by_action["relabels"]["gt"]["class"] == "Car"
    assert by_action["creates"]["gt"]["track_id"] == "4" and by_action["creates"]["pred"] is None
    assert by_action["creates"]["range_m"] == pytest.approx(np.hypot(15, -8), abs=0.05)
    assert by_action["deletes"]["pred"]["track_id"] == "d" and by_action["deletes"]["gt"] is None
    assert "disagreements" not in evaluate([EvalFrame("0", gt, pred)])


def _frames(gt_tracks, pred_tracks):
    """Frames 0..n-1 of boxes at the given x per track (y = lane of the track's first letter)."""
    n = len(next(iter(gt_tracks.values())))
    lane = {}
    out = []
    for i in range(n):
        gt = [box(xs[i], lane.setdefault(t, 4.0 * len(lane)), track=t) for t, xs in gt_tracks.items()]
        pred = [box(x, gt[k].box.center[1], track=ids[i], score=0.9)
                for k, (t, xs) in enumerate(gt_tracks.items()) for x, ids in [(xs[i], pred_tracks[t])]]
        out.append(EvalFrame(f"{i:06d}", gt, pred))
    return out


def test_track_agreement_names_each_identity_switch():
    xs = [10.0 + i for i in range(6)]
    frames = _frames({"1": xs, "2": xs}, {"1": ["a", "a", "a", "b", "b", "b"], "2": ["b", "b", "b", "a", "a", "a"]})
    t = track_agreement(frames, EvalSettings(), ("car",))
    assert t["id_switches"] == 2 and t["gt"] == 12 and t["mota"] == pytest.approx(1 - 2 / 12)
    assert {(w["frame"], w["gt_track"], w["pred_track_before"], w["pred_track_now"]) for w in t["switches"]} == \
        {("000003", "1", "a", "b"), ("000003", "2", "b", "a")}
    # pre-labels without track IDs: nothing to compare
    for f in frames:
        f.pred = [p.with_(track_id=None) for p in f.pred]
    assert track_agreement(frames, EvalSettings(), ("car",)) is None


def test_eval_cli_details_and_tracks(tmp_path, capsys):
    if not (SAMPLE / "drive.yaml").is_file():
        pytest.skip(f"sample drive not found at {SAMPLE}")
    pred = tmp_path / "pred"
    pred.mkdir()
    for fid in ("000000", "000001", "000002"):
        doc = json.loads((SAMPLE / "labels" / f"{fid}.json").read_text())
        doc["objects"] = doc["objects"][1:]            # one object left out in every frame: a create each
        (pred / f"{fid}.json").write_text(json.dumps(doc))
    args = ["eval", "--pred", str(pred), "--gt", str(SAMPLE), "--only-predicted", "--min-points", "0",
            "--max-range", "500"]
    assert main([*args, "--details"]) == 0
    out = capsys.readouterr().out
    assert "tracks: MOTA" in out and "0 identity switches" in out
    creates = [line for line in out.splitlines() if line.startswith("  0000") and " create " in line]
    assert len(creates) == 3
    assert main([*args, "--details", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["action"] for r in report["disagreements"]] == ["creates"] * 3
    assert report["tracks"]["id_switches"] == 0
    shutil.rmtree(pred)


def test_eval_cli_classes_all_scores_every_class_either_side_holds(tmp_path, capsys):
    if not (SAMPLE / "drive.yaml").is_file():
        pytest.skip(f"sample drive not found at {SAMPLE}")
    labels = {fid: json.loads((SAMPLE / "labels" / f"{fid}.json").read_text()) for fid in ("000000", "000001")}
    held = {o["label"] for doc in labels.values() for o in doc["objects"]}
    assert "van" in held       # the sample drive labels vans, which the default set does not score
    pred = tmp_path / "pred"
    pred.mkdir()
    for fid, doc in labels.items():
        (pred / f"{fid}.json").write_text(json.dumps(doc))
    args = ["eval", "--pred", str(pred), "--gt", str(SAMPLE), "--only-predicted", "--json"]
    assert main(args) == 0
    assert "van" not in json.loads(capsys.readouterr().out)["classes"]
    assert main([*args, "--classes", "all"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert "van" in report["classes"] and report["classes"]["van"]["gt"] > 0
    assert report["classes"]["van"]["recall"] == 1.0 and report["unscored_ground_truth"] == {}
    assert main([*args, "--classes", "Van, car"]) == 0
    assert list(json.loads(capsys.readouterr().out)["classes"]) == ["van", "car"]
    assert main([*args, "--classes", " , "]) == 2
    assert "--classes" in capsys.readouterr().err


def test_a_switch_to_a_box_without_a_track_id_names_that_box_the_same_on_every_run():
    """Before, such a box was named after its Python object ("pred:140320582231248"): a different
    report on every run, and nothing an annotator could look up."""
    xs = [10.0 + i for i in range(4)]
    frames = _frames({"1": xs}, {"1": ["a", "a", "a", "a"]})
    frames[2].pred = [p.with_(track_id=None) for p in frames[2].pred]     # the tracker left it out
    first = track_agreement(frames, EvalSettings(), ("car",))
    for f in frames:
        f.pred = [p.with_() for p in f.pred]                              # the same boxes, new objects
    again = track_agreement(frames, EvalSettings(), ("car",))
    assert first["switches"] == again["switches"]
    assert [(w["frame"], w["pred_track_before"], w["pred_track_now"]) for w in first["switches"]] == \
        [("000002", "a", "(no track: Car at 12.0, 0.0 in 000002)"), ("000003", "(no track: Car at 12.0, 0.0 in 000002)", "a")]
