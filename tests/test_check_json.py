"""`fusionlabel check --json` prints strict JSON, as `eval --json` does: a figure that is not finite
(NaN, infinity), which Python's json would write as the invalid tokens NaN and Infinity, is null,
and the rest of the report is as it was."""

from __future__ import annotations

import json
import math

import pytest
from test_kitti_tracking_labels_only import labels_only_folder

from fusionlabel.cli.main import main
from fusionlabel.qa import label_check
from fusionlabel.qa.findings import WARNING, Finding

ODD = Finding(WARNING, "track 0 (Car)", "track-size", "a figure that came out undefined", "look at the track",
              frame="000001", track_id="0", cls="Car", value=math.nan, threshold=math.inf, unit="m")


def strict(text: str):
    """``text`` read as strict JSON: NaN, Infinity and -Infinity are refused."""
    def refuse(token):
        raise ValueError(f"not JSON: {token}")
    return json.loads(text, parse_constant=refuse)


@pytest.fixture()
def odd_figure(monkeypatch):
    """The label check of every sequence also reports ``ODD``, whose value is NaN and threshold infinite."""
    real = label_check.check_labels

    def with_odd(*args, **kwargs):
        report = real(*args, **kwargs)
        report.findings.append(ODD)
        return report

    monkeypatch.setattr(label_check, "check_labels", with_odd)


def _expected(finding: Finding) -> dict:
    """The finding as --json prints it, worked out here: its fields, the non-finite figures null."""
    return {"severity": finding.severity, "subject": finding.subject, "check": finding.check,
            "message": finding.message, "remedy": finding.remedy, "frame": finding.frame, "frames": [],
            "track_id": finding.track_id, "class": finding.cls, "boxes": [], "value": None, "threshold": None,
            "unit": finding.unit, "errors": []}


def test_a_non_finite_figure_is_null_in_one_sequence_and_in_the_list(tmp_path, capsys, odd_figure):
    root, _ = labels_only_folder(tmp_path / "kitti_tracking")
    assert main(["check", str(root), "--scene", "0001", "--json"]) == 3     # the odd finding still counts
    doc = strict(capsys.readouterr().out)
    found = [f for f in doc["findings"] if f["check"] == "track-size"]
    assert len(found) == 1 and {k: found[0][k] for k in _expected(ODD)} == _expected(ODD)
    assert doc["counts"] == {"track-size": 1} and doc["labels"]["frames"] == 3

    # the folder's two sequences without --scene: a list, each entry strict too
    assert main(["check", str(root), "--json", "--quiet"]) == 3
    entries = strict(capsys.readouterr().out)
    assert [e["sequence"] for e in entries] == ["0000", "0001"]
    for entry in entries:
        odd = [f for f in entry["findings"] if f["subject"] == ODD.subject and f["check"] == "track-size"]
        assert len(odd) == 1 and odd[0]["value"] is None and odd[0]["threshold"] is None
