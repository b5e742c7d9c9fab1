"""eval's breakdowns of matched boxes: error components (centre along/across the heading, size,
heading mod 360), figures by distance band, and attribute agreement."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from fusionlabel.cli.main import main
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model.ontology import Ontology
from fusionlabel.qa.attribute_agreement import attribute_agreement, declared_by
from fusionlabel.qa.box_errors import box_errors
from fusionlabel.qa.detection import EvalFrame, EvalSettings, MatchLog, evaluate
from fusionlabel.qa.range_bands import parse_range_edges, range_bands
from fusionlabel.errors import InputError

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


def car(x, y, score=None, yaw=0.0, size=(4.0, 1.8, 1.5), z=0.0, track=None, **attributes):
    return CuboidLabel(Cuboid((x, y, z), size, yaw), "car", track, score,
                       "model" if score is not None else "human", attributes)


def ped(x, y, score=None, track=None, **attributes):
    return CuboidLabel(Cuboid((x, y, 0.0), (0.8, 0.7, 1.75), 0.0), "pedestrian", track, score,
                       "model" if score is not None else "human", attributes)


def _nuscenes_box(lab):
    """The same box as nuscenes-devkit's DetectionBox (size as w, l, h; yaw as a quaternion)."""
    from nuscenes.eval.detection.data_classes import DetectionBox
    from pyquaternion import Quaternion

    length, width, height = lab.box.size
    q = Quaternion(axis=[0, 0, 1], angle=lab.box.yaw)
    return DetectionBox(translation=tuple(lab.box.center), size=(width, length, height),
                        rotation=tuple(q.elements), detection_name="car")


def test_box_error_components_by_hand_and_against_nuscenes():
    # ground truth heading +y (yaw 90 deg); the pre-label 0.3 m to +x (across), 0.4 m to +y (along),
    # 0.1 m up, 10 % longer, turned to yaw 90 - 10 deg written as 440 deg (mod 360: 10 deg apart)
    gt = [car(10, 0, yaw=np.pi / 2), car(0, 12), car(-15, 3)]
    pred = [car(10.3, 0.4, 0.9, yaw=np.radians(440.0), size=(4.4, 1.8, 1.5), z=0.1),
            car(0, 12, 0.8),                                  # exact
            car(-14.8, 3, 0.7)]                               # 0.2 m along its heading (yaw 0)
    log = MatchLog()
    report = evaluate([EvalFrame("000001", gt, pred)], EvalSettings(min_points=0), log=log)
    assert report["classes"]["car"]["tp"] == 3 and len(log.pairs) == 3
    e = box_errors(log.pairs)["car"]
    assert e["pairs"] == 3
    assert e["centre_m"]["mean"] == pytest.approx((0.5 + 0 + 0.2) / 3)
    assert e["centre_m"]["median"] == pytest.approx(0.2)
    assert e["along_m"]["mean"] == pytest.approx((0.4 + 0.2) / 3)
    assert e["across_m"]["mean"] == pytest.approx(0.3 / 3) and e["across_m"]["median"] == pytest.approx(0.0)
    assert e["vertical_m"]["mean"] == pytest.approx(0.1 / 3)
    assert e["length_rel"]["mean"] == pytest.approx(0.1 / 3) and e["width_rel"]["mean"] == 0.0
    assert e["scale_error"]["mean"] == pytest.approx((1 - 4.0 / 4.4) / 3)
    assert e["heading_deg"]["mean"] == pytest.approx(10 / 3) and e["heading_deg"]["median"] == pytest.approx(0.0)

    # the same figures from nuscenes-devkit's own functions (ATE: centre distance, ASE, AOE)
    pytest.importorskip("nuscenes")
    from nuscenes.eval.common.utils import center_distance, scale_iou, yaw_diff

    pairs = [(_nuscenes_box(g), _nuscenes_box(p)) for _c, _f, p, g in log.pairs]
    assert e["centre_m"]["mean"] == pytest.approx(np.mean([center_distance(g, p) for g, p in pairs]))
    assert e["scale_error"]["mean"] == pytest.approx(np.mean([1 - scale_iou(g, p) for g, p in pairs]))
    assert e["heading_deg"]["mean"] == pytest.approx(np.degrees(np.mean([yaw_diff(g, p) for g, p in pairs])))


def test_box_errors_count_true_positives_at_the_operating_point_only():
    gt = [car(10, 0), car(20, 0)]
    pred = [car(10.5, 0, 0.9), car(20.5, 0, 0.3), car(0, -30, 0.95)]   # the last is a false positive
    log = MatchLog()
    evaluate([EvalFrame("0", gt, pred)], EvalSettings(min_points=0, score_threshold=0.5), log=log)
    e = box_errors(log.pairs)["car"]
    assert e["pairs"] == 1 and e["centre_m"]["mean"] == pytest.approx(0.5)
    assert box_errors([]) == {}


def test_range_bands_by_hand():
    gt = [car(5, 0), car(15, 0), car(0, 20.0), car(25, 0), car(45, 0)]
    pred = [car(5, 0, 0.9),                 # 0-20: accepted
            car(0, 20.0, 0.9),              # exactly 20 m: the 20-40 band, accepted
            car(26, 0, 0.8),                # 20-40: 1 m off (IoU 0.6): a true positive to adjust
            car(0, -30, 0.7),               # 20-40: nothing there, a false positive to delete
            car(45, 0, 0.6)]                # 40+: accepted
    log = MatchLog()
    report = evaluate([EvalFrame("0", gt, pred)], EvalSettings(min_points=0, max_range=50), log=log)
    plain = evaluate([EvalFrame("0", gt, pred)], EvalSettings(min_points=0, max_range=50))
    assert json.dumps(report, sort_keys=True) == json.dumps(plain, sort_keys=True)   # the log changes nothing
    rows = {r["band"]: r for r in range_bands(log, parse_range_edges("0,20,40"), 50.0)}
    assert list(rows) == ["0-20", "20-40", "40+"] and rows["40+"]["to_m"] is None
    near, mid, far = rows["0-20"], rows["20-40"], rows["40+"]
    assert (near["gt"], near["predictions"], near["tp"], near["recall"], near["precision"]) == (2, 1, 1, 0.5, 1.0)
    assert (mid["gt"], mid["predictions"], mid["tp"], mid["recall"], mid["precision"]) == (2, 3, 2, 1.0, 2 / 3)
    assert (far["gt"], far["predictions"], far["tp"]) == (1, 1, 1)
    assert (near["creates"], near["accepted"], near["actions"], near["ratio"]) == (1, 1, 1, 0.5)
    assert (mid["adjustments"], mid["deletes"], mid["accepted"], mid["actions"], mid["ratio"]) == (1, 1, 1, 2, 1.0)
    assert (far["accepted"], far["actions"]) == (1, 0)
    # the bands add up to the whole
    assert sum(r["gt"] for r in rows.values()) == report["classes"]["car"]["gt"]
    assert sum(r["actions"] for r in rows.values()) == report["edit_cost"]["actions"]
    # the last band holds its upper edge (as --max-range does); no open band when it is the range
    rows = range_bands(log, (0.0, 20.0, 45.0), 45.0)
    assert [r["band"] for r in rows] == ["0-20", "20-45"] and rows[1]["gt"] == 3


@pytest.mark.parametrize("text", ["0", "0,20,20", "20,10", "-5,10", "0,a", "0,inf"])
def test_range_edges_refused(text):
    with pytest.raises(InputError, match="--range-bins"):
        parse_range_edges(text)


def test_attribute_agreement_by_hand():
    gt = [car(10, 0, track="1", parked=True, occlusion="none", note="a"),
          car(20, 0, track="2", parked=False, occlusion="none"),
          car(30, 0, track="3", parked=False, occlusion=None),
          ped(8, 3, track="4", pose="walking"), ped(12, 3, track="5", pose="standing")]
    pred = [car(10, 0, 0.9, track="a", parked=False, occlusion="none", note="b"),   # parked differs
            car(20, 0, 0.9, track="b", parked=True, occlusion="partial"),           # both differ
            car(30, 0, 0.9, track="c", parked=False, occlusion="none"),             # occlusion not compared
            ped(8, 3, 0.9, track="d", pose="walking"),
            ped(12, 3, 0.9, track="e", pose="walking", parked=True)]    # parked: not a pedestrian's
    log = MatchLog()
    evaluate([EvalFrame("000002", gt, pred)], EvalSettings(min_points=0), log=log)
    rows: list = []
    out = attribute_agreement(log.pairs, declared_by(Ontology.default()), rows)
    assert list(out) == ["occlusion", "parked", "pose"]           # a free-text note is not compared
    assert (out["parked"]["compared"], out["parked"]["agreeing"]) == (3, 1)
    assert out["parked"]["confusions"] == [{"gt": "false", "pred": "true", "count": 1},
                                           {"gt": "true", "pred": "false", "count": 1}]
    assert (out["occlusion"]["compared"], out["occlusion"]["agreeing"]) == (2, 1)
    assert out["pose"]["agreement"] == 0.5
    assert out["pose"]["confusions"] == [{"gt": "standing", "pred": "walking", "count": 1}]
    assert sorted((r["gt_track"], r["pred_track"], r["attribute"], r["gt"], r["pred"]) for r in rows) == [
        ("1", "a", "parked", True, False), ("2", "b", "occlusion", "none", "partial"),
        ("2", "b", "parked", False, True), ("5", "e", "pose", "standing", "walking")]
    assert all(r["frame"] == "000002" for r in rows)
    # a detector's pre-labels carry no attributes: nothing to say
    log = MatchLog()
    evaluate([EvalFrame("0", gt, [lab.with_(attributes={}) for lab in pred])], EvalSettings(min_points=0), log=log)
    assert len(log.pairs) == 5 and attribute_agreement(log.pairs, declared_by(Ontology.default())) is None


def test_eval_cli_breakdowns_text_and_json(tmp_path, capsys):
    if not (SAMPLE / "drive.yaml").is_file():
        pytest.skip(f"sample drive not found at {SAMPLE}")
    name = sorted((SAMPLE / "labels").glob("*.json"))[0].name
    doc = json.loads((SAMPLE / "labels" / name).read_text())
    cars = [k for k, o in enumerate(doc["objects"]) if o["label"] == "car" and "parked" in o.get("attributes", {})]
    flipped = doc["objects"][cars[0]]
    flipped["attributes"]["parked"] = not flipped["attributes"]["parked"]
    pred = tmp_path / "pred"
    pred.mkdir()
    (pred / name).write_text(json.dumps(doc))
    args = ["eval", "--pred", str(pred), "--gt", str(SAMPLE), "--max-range", "200", "--min-points", "0",
            "--range-bins", "0,20,40"]
    assert main(args + ["--details"]) == 0
    text = capsys.readouterr().out
    assert "box errors of true positives" in text and "by range:" in text and "40+" in text
    assert "parked " in text and f"track {flipped['track_id']} (other side {flipped['track_id']})  parked" in text
    assert main(args + ["--json", "--details"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["box_errors"]["car"]["centre_m"]["median"] == 0.0
    assert set(report["box_errors"]["car"]) == {"pairs", "centre_m", "along_m", "across_m", "vertical_m",
                                                "length_rel", "width_rel", "height_rel", "scale_error",
                                                "heading_deg"}
    assert [b["band"] for b in report["range_bands"]] == ["0-20", "20-40", "40+"]
    assert sum(b["gt"] for b in report["range_bands"]) == sum(c["gt"] for c in report["classes"].values())
    assert report["attributes"]["parked"]["compared"] - report["attributes"]["parked"]["agreeing"] == 1
    assert report["attribute_disagreements"] == [
        {"frame": doc["frame"], "class": "car", "gt_track": flipped["track_id"], "pred_track": flipped["track_id"],
         "attribute": "parked", "gt": not flipped["attributes"]["parked"], "pred": flipped["attributes"]["parked"]}]
    assert main(args[:-2] + ["--range-bins", "20,10"]) == 2
    assert "--range-bins" in capsys.readouterr().err
    shutil.rmtree(pred)
