"""`fusionlabel eval --pred PROJECT` reads a project's cuboids as its export does
(:func:`fusionlabel.assist.logged_labels.logged_labels`): a box C, V or I carried from another frame
holds no detection score, also in a project edited before those commands dropped it, whose boxes
still store the score of the box they came from.

The two projects of tests/test_export_carried_scores.py (the same edits, one with today's commands,
one with the commands as they were) must get the same report: before, the old project's copies were
ranked by their stale score, so a score threshold above it left them out of the operating point.
"""

from __future__ import annotations

import json

import pytest

from fusionlabel.app import testing
from fusionlabel.cli.main import main
from fusionlabel.store.project import Project
from test_export_carried_scores import SCORES, fresh_and_old

THRESHOLD = 0.9     # above every stale score a carried box of the old project holds but B's


@pytest.fixture(scope="module")
def drive_path():
    return testing.small_drive(frames=3)


def eval_json(pred, gt, capsys) -> dict:
    capsys.readouterr()
    assert main(["eval", "--pred", str(pred), "--gt", str(gt), "--json", "--min-points", "0",
                 "--score-threshold", str(THRESHOLD)]) == 0
    return json.loads(capsys.readouterr().out)


def test_an_old_projects_carried_boxes_are_not_ranked_by_their_stale_score(drive_path, tmp_path, monkeypatch,
                                                                           capsys):
    roles = fresh_and_old(drive_path, tmp_path, monkeypatch)
    with Project.open(tmp_path / "old", read_only=True) as project:       # what the old project holds
        p_copy = project.document.find_track(roles["P"], 1).label
    assert p_copy.source == "model" and p_copy.score == SCORES["P"] < THRESHOLD
    with Project.open(tmp_path / "fresh", read_only=True) as project:
        assert project.document.find_track(roles["P"], 1).score is None    # counted as score 1

    got, want = eval_json(tmp_path / "old", drive_path, capsys), eval_json(tmp_path / "fresh", drive_path, capsys)
    assert got == want
    # P's copy is a true positive at the operating point, as a box without a score counts as 1:
    # in the fresh project's report as in the old one's (before, the old one's left it out).
    cls = p_copy.label
    assert want["classes"][cls]["tp"] >= 1
    assert got["classes"][cls]["predictions"] == want["classes"][cls]["predictions"]
