"""Exports write no detection score on a box that C, V or I made, in projects edited before those
commands dropped it too: the command log tells such boxes from detections, and a real pre-label,
accepted or not, keeps its score.

Two projects on one simulated drive go through the same edits: one with today's code, one with the
commands as fusionlabel had them before (a copy kept its source's ``score`` and ``prelabel_score``,
V and I its ``prelabel_score``), which is what such a project's log and annotations hold. Their
KITTI and OpenLABEL exports must be the same files, and no box C, V or I made carries a score.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from fusionlabel.app import testing
from fusionlabel.assist import edit_assist
from fusionlabel.cli.main import main
from fusionlabel.geometry.cuboid import points_in_cuboid
from fusionlabel.model import commands, edit_actions
from fusionlabel.model.commands import CopyToFrame, CreateCuboid
from fusionlabel.store.project import Project

SCORES = {"P": 0.81, "Q": 0.72, "R": 0.63, "A": 0.54, "B": 0.93, "D": 0.66}   # the detector's, per role


@pytest.fixture(scope="module")
def drive_path():
    return testing.small_drive(frames=3)


def old_commands(m) -> None:
    """Make C, V and I work as before they dropped the detection score (``m``: a monkeypatch
    context): a copy keeps its source's ``score`` and ``prelabel_score``; a propagated or an
    interpolated box its source's ``prelabel_score``."""
    keep = lambda attributes: dict(attributes)    # noqa: E731  (without_score as it was not)
    m.setattr(commands, "without_score", keep)
    m.setattr(edit_assist, "without_score", keep)
    bind = CopyToFrame.bind

    def bind_keeping_score(self, state):
        bound = bind(self, state)
        score = {state.anns[u].track_id: state.anns[u].score for u in self.uids}
        return replace(bound, created=tuple((a.with_label(a.label.with_(score=score[a.track_id])), seq)
                                            for a, seq in bound.created))
    m.setattr(CopyToFrame, "bind", bind_keeping_score)


def well_seen_tracks(drive, n: int) -> list[str]:
    """The ``n`` tracks of frame 0 holding the most LiDAR points there, most first."""
    pts = drive.points(0)
    counts = {g.track_id: int(points_in_cuboid(pts, g.box).sum()) for g in drive.labels(0)}
    return sorted(counts, key=counts.get, reverse=True)[:n]


def edit(project: Project) -> dict[str, str]:
    """Ctrl+P stores five detections of frame 0 as pre-labels (scores :data:`SCORES`); Y accepts
    R, A and B there; C copies P, Q and R to frame 1, where Y accepts Q's copy; V carries B to
    frame 1; A gets a box of its own in frame 2, and I fills frame 1 between A's two keyframes; a
    later Ctrl+P on frame 1 stores a sixth object, D, there. Returns role -> track id."""
    doc, drive = project.document, project.drive
    sources = dict(zip("BPQRAD", well_seen_tracks(drive, 6)))      # B (carried with V) holds the most points
    truth = {g.track_id: g for g in drive.labels(0)}
    detections = [truth[t].with_(track_id=None, score=SCORES[r], source="model", attributes={})
                  for r, t in sources.items() if r != "D"]
    doc.apply(edit_assist.prelabel(doc, drive, 0, (), {0: detections}))
    made = {tuple(np.round(a.box.center, 6)): a for a in doc.annotations(0)}
    pre = {r: made[tuple(np.round(truth[t].box.center, 6))] for r, t in sources.items() if r != "D"}
    assert all(a.source == "model" and a.score == SCORES[r] for r, a in pre.items())
    doc.apply(edit_actions.accept_prelabels(doc, [pre[r].uid for r in "RAB"]))
    doc.apply(edit_actions.copy_to_next_frame(doc, [pre[r].uid for r in "PQR"], 0, drive))
    doc.apply(edit_actions.accept_prelabels(doc, [doc.find_track(pre["Q"].track_id, 1).uid]))
    doc.apply(edit_assist.propagate(doc, drive, 0, [pre["B"].uid]))
    assert doc.find_track(pre["B"].track_id, 1) is not None
    later = {g.track_id: g for g in drive.labels(2)}[sources["A"]]
    doc.apply(CreateCuboid(2, later.with_(track_id=pre["A"].track_id, label=pre["A"].cls, score=None, source="human",
                                          attributes={})))
    doc.apply(edit_assist.interpolate(doc, drive, 0, [pre["A"].uid]))
    assert doc.find_track(pre["A"].track_id, 1).attributes.get("interpolated")
    later = {g.track_id: g for g in drive.labels(1)}[sources["D"]]
    stored = doc.apply(edit_assist.prelabel(doc, drive, 1, (), {1: [later.with_(track_id=None, score=SCORES["D"],
                                                                                source="model", attributes={})]}))
    (d,) = [c for c in stored.commands if isinstance(c, CreateCuboid)]
    return {**{r: a.track_id for r, a in pre.items()}, "D": d.label.track_id}


def fresh_and_old(drive_path, tmp_path, monkeypatch) -> dict[str, str]:
    """Make ``tmp_path/fresh`` with today's commands and ``tmp_path/old`` with the commands as they
    were (:func:`old_commands`), both by :func:`edit`; returns its roles (the same in both)."""
    fresh = Project.create(tmp_path / "fresh", drive_path, progress=False)
    try:
        roles = edit(fresh)
    finally:
        fresh.close()
    with monkeypatch.context() as m:
        old_commands(m)
        old = Project.create(tmp_path / "old", drive_path, progress=False)
        try:
            assert edit(old) == roles
        finally:
            old.close()
    return roles


def export(project_folder, fmt: str, out) -> None:
    assert main(["export", str(project_folder), "--format", fmt, "--out", str(out), "--labels-only",
                 "--include-prelabels", "--quiet"]) == 0


def openlabel_scores(out) -> dict[tuple[int, str], tuple[float | None, float | None]]:
    """(frame, track) -> (score written, prelabel_score written) of an OpenLABEL export."""
    doc = json.loads((out / "openlabel.json").read_text())["openlabel"]
    track_of = {key: obj["name"] for key, obj in doc["objects"].items()}
    found = {}
    for frame, data in doc["frames"].items():
        for key, obj in data.get("objects", {}).items():
            od = obj["object_data"]
            score = next((n["val"] for n in od.get("num", []) if n["name"] == "score"), None)
            attributes = od["cuboid"][0].get("attributes", {})
            kept = next((n["val"] for n in attributes.get("num", []) if n["name"] == "prelabel_score"), None)
            found[int(frame), track_of[key]] = (score, kept)
    return found


def kitti_fields(out, frame: int) -> list[list[str]]:
    return [line.split() for line in (out / "label_2" / f"{frame:06d}.txt").read_text().splitlines()]


def test_an_old_projects_carried_boxes_export_no_score(drive_path, tmp_path, monkeypatch):
    """Before, the old project's copies, propagated and interpolated boxes exported the score of
    the pre-label they came from (KITTI's 16th field of P's copy, OpenLABEL's score and
    prelabel_score); now its exports are the fresh project's, byte for byte."""
    roles = fresh_and_old(drive_path, tmp_path, monkeypatch)
    with Project.open(tmp_path / "old", read_only=True) as old:     # what such a project holds
        stored = {r: old.document.find_track(t, 1).label for r, t in roles.items() if r != "D"}
    assert stored["P"].score == SCORES["P"] and stored["P"].source == "model"
    assert {r: stored[r].attributes.get("prelabel_score") for r in "QRAB"} == {r: SCORES[r] for r in "QRAB"}

    for fmt in ("kitti", "openlabel"):
        for name in ("fresh", "old"):
            export(tmp_path / name, fmt, tmp_path / f"{name}-{fmt}")
    for rel in ("label_2/000000.txt", "label_2/000001.txt", "label_2/000002.txt", "openlabel.json"):
        fmt = "kitti" if rel.startswith("label_2") else "openlabel"
        assert (tmp_path / f"old-{fmt}" / rel).read_bytes() == (tmp_path / f"fresh-{fmt}" / rel).read_bytes(), rel

    out = tmp_path / "old-openlabel"
    written = openlabel_scores(out)
    # frame 0: the detections, pre-labels (P, Q) and accepted ones (R, A, B), keep their scores
    assert {r: written[0, t] for r, t in roles.items() if r != "D"} == {
        "P": (SCORES["P"], None), "Q": (SCORES["Q"], None),
        "R": (None, SCORES["R"]), "A": (None, SCORES["A"]), "B": (None, SCORES["B"])}
    # frame 1: copies (P, Q accepted since, R), B's propagated box, A's interpolated one: none; the
    # later run's detection of D there keeps its own
    assert {r: written[1, t] for r, t in roles.items()} == {**dict.fromkeys("PQRAB", (None, None)),
                                                            "D": (SCORES["D"], None)}
    kitti = tmp_path / "old-kitti"
    assert sorted(float(f[15]) for f in kitti_fields(kitti, 0) if len(f) == 16) == [SCORES["Q"], SCORES["P"]]
    assert len(kitti_fields(kitti, 1)) == 6
    assert [float(f[15]) for f in kitti_fields(kitti, 1) if len(f) == 16] == [SCORES["D"]]
