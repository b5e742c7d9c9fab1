"""`eval --frames` and `eval --status`: only some frames are scored, with the same figures as
eval on a drive or project holding just those frames (both built here: `import --frames` and a
project of that copy); unknown frames and statuses, and --status without a project, are one-line
errors naming the option and the value; --json records the filters."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fusionlabel.cli.main import main
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.io.native import labels_to_json
from fusionlabel.model.commands import DeleteCuboids, SetBox, SetFrameStatus
from fusionlabel.store.project import Project

KEEP = ("000000", "000002")        # the frames scored (of the simulated drive's three)
SCORING = ["--classes", "all", "--details", "--range-bins", "0,20", "--min-points", "5"]


def shifted(box: Cuboid, by) -> Cuboid:
    return Cuboid(tuple(float(v) for v in np.asarray(box.center) + by), box.size, box.yaw)


def predictions(drive, folder: Path, frame_ids) -> Path:
    """A pre-label folder of ``frame_ids``: the drive's labels with scores, every third box moved
    1.5 m, every seventh left out, every fifth one a van, and one box where nothing is."""
    folder.mkdir(parents=True)
    for i, f in enumerate(drive.frames):
        if f.frame_id not in frame_ids:
            continue
        rng = np.random.default_rng(int(f.frame_id))     # a frame's scores whichever frames are written
        out = []
        for k, lab in enumerate(drive.labels(i)):
            if k % 7 == 3:
                continue
            box = shifted(lab.box, (1.5, 0.0, 0.0)) if k % 3 == 0 else lab.box
            out.append(lab.with_(box=box, score=float(rng.uniform(0.3, 1.0)), source="model",
                                 label="van" if k % 5 == 1 and lab.label == "car" else lab.label))
        first = out[0]
        out.append(first.with_(box=Cuboid((5.0, -20.0, 0.5), (4.0, 1.8, 1.5), 0.0), track_id=None,
                               score=0.9))
        (folder / f"{f.frame_id}.json").write_text(labels_to_json(f.frame_id, out))
    return folder


def report(capsys, *args) -> dict:
    capsys.readouterr()
    assert main(["eval", *args, "--json", *SCORING]) == 0
    return json.loads(capsys.readouterr().out)


def figures(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "filters"}


def edited_project(drive_root: Path, folder: Path) -> Path:
    """A project of the drive's labels, then edited (in every frame it has: the first car moved
    0.8 m sideways, the last label deleted), as an annotator would."""
    assert main(["project", "create", str(drive_root), "--out", str(folder), "--import-labels", "--quiet"]) == 0
    with Project.open(folder) as p:
        doc = p.document
        for i in range(len(p.drive)):
            anns = doc.annotations(i)
            car = next(a for a in anns if a.cls == "car")
            doc.apply(SetBox(car.uid, shifted(car.box, (0.0, 0.8, 0.0))))
            doc.apply(DeleteCuboids((anns[-1].uid,)))
    return folder


def mark(project: Path, statuses: dict[str, str]) -> None:
    with Project.open(project) as p:
        for i, f in enumerate(p.drive.frames):
            if f.frame_id in statuses:
                p.document.apply(SetFrameStatus(i, statuses[f.frame_id]))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The whole drive and its copy holding just KEEP, each with its pre-labels and its edited project."""
    from conftest import simulated_drive

    root = tmp_path_factory.mktemp("evalfilters")
    drive = simulated_drive(tmp_path_factory)
    assert main(["import", str(drive.root), "--frames", ",".join(KEEP), "--out", str(root / "sub"), "--quiet"]) == 0
    whole = {"drive": drive.root, "pred": predictions(drive, root / "pred", [f.frame_id for f in drive.frames]),
             "project": edited_project(drive.root, root / "project")}
    from fusionlabel.io.native import open_native_drive

    sub_drive = open_native_drive(root / "sub")
    assert [f.frame_id for f in sub_drive.frames] == list(KEEP)
    sub = {"drive": root / "sub", "pred": predictions(drive, root / "sub_pred", KEEP),
           "project": edited_project(root / "sub", root / "sub_project")}
    mark(whole["project"], {"000000": "done", "000001": "in_progress", "000002": "reviewed"})
    return whole, sub


def test_frames_scores_as_a_drive_holding_just_them(built, capsys):
    whole, sub = built
    full = report(capsys, "--pred", str(whole["pred"]), "--gt", str(whole["drive"]))
    chosen = report(capsys, "--pred", str(whole["pred"]), "--gt", str(whole["drive"]), "--frames", "0,000002")
    alone = report(capsys, "--pred", str(sub["pred"]), "--gt", str(sub["drive"]))
    assert figures(chosen) == figures(alone)
    assert chosen["frames"] == 2 and full["frames"] == 3 and figures(full) != figures(chosen)
    assert chosen["filters"] == {"frames": "0,000002", "status": None, "frames_with_ground_truth": 3,
                                 "frames_selected": 2, "selected_without_ground_truth": [], "frames_scored": 2}
    assert full["filters"] == {"frames": None, "status": None}


def test_status_of_the_gt_project_scores_as_a_project_holding_just_those_frames(built, capsys):
    whole, sub = built
    chosen = report(capsys, "--pred", str(whole["pred"]), "--gt", str(whole["project"]), "--status", "done,reviewed")
    alone = report(capsys, "--pred", str(sub["pred"]), "--gt", str(sub["project"]))
    assert figures(chosen) == figures(alone) and chosen["frames"] == 2
    f = chosen["filters"]
    assert f["status"] == ["done", "reviewed"] and f["status_of"] == ["--gt"]
    assert f["left_out_by_status"] == {"--gt": {"in_progress": 1}}
    # within --frames; the text report says what was scored
    capsys.readouterr()
    assert main(["eval", "--pred", str(whole["pred"]), "--gt", str(whole["project"]), "--status", "reviewed",
                 "--frames", "1-2"]) == 0
    assert "scored only --frames 1-2 and --status reviewed (of --gt): 1 of 3 frames with ground truth" \
        in capsys.readouterr().out


def test_status_of_the_pred_project(built, capsys):
    whole, sub = built
    chosen = report(capsys, "--pred", str(whole["project"]), "--gt", str(whole["drive"]), "--status", "done,reviewed")
    alone = report(capsys, "--pred", str(sub["project"]), "--gt", str(sub["drive"]))
    assert figures(chosen) == figures(alone) and chosen["frames"] == 2
    assert chosen["filters"]["status_of"] == ["--pred"]


@pytest.mark.parametrize("args, says", [
    (["--frames", "000009"], "--frames: drive 'sim-seed1' has no frame '000009'"),
    (["--frames", "0:2"], "--frames: '0:2': A:B is not accepted"),
    (["--status", "finished"], "--status: unknown frame status 'finished' in 'finished'; expected one or more of "
                               "new, in_progress, done, reviewed"),
    (["--status", "done"], "--status: done is a project's frame status; neither --gt nor --pred is a project"),
])
def test_bad_filters_are_one_line_naming_option_and_value(built, capsys, args, says):
    whole, _ = built
    capsys.readouterr()
    assert main(["eval", "--pred", str(whole["pred"]), "--gt", str(whole["drive"]), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0], err


def test_a_status_no_frame_has_is_an_error_counting_the_statuses(built, capsys):
    whole, _ = built
    capsys.readouterr()
    assert main(["eval", "--pred", str(whole["pred"]), "--gt", str(whole["project"]), "--status", "new"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--status: no frame with ground truth (3) is new in --gt (in --gt: 1 in progress, 1 done, 1 reviewed)" \
        in err


def test_track_gaps_see_only_the_chosen_frames(realdata, tmp_path, capsys):
    """A drive without ego poses gets don't-care boxes where a track skips a labelled frame. With
    --frames those come from the chosen frames only, as on a copy holding just them: SUSTech's
    frame 000970 has such a box between 000965 and 000975, none between 000950 and 000970, so a
    pre-label there is a false positive to delete."""
    from fusionlabel.io.drives import open_drive
    from fusionlabel.qa.datasets import track_gap_boxes

    root = realdata / "sustech_sequence"
    if not (root / "label").is_dir():
        pytest.skip(f"SUSTech sequence not found at {root}")
    drive = open_drive(root)
    chosen = ("000950", "000970")
    gap = track_gap_boxes({int(f.frame_id): drive.labels(i) for i, f in enumerate(drive.frames)})[970]
    assert len(gap) == 1

    def pred_folder(folder: Path) -> Path:
        folder.mkdir()
        for i, f in enumerate(drive.frames):
            if f.frame_id in chosen:
                labels = [lab.with_(score=0.9, source="model") for lab in drive.labels(i)]
                if f.frame_id == "000970":
                    labels.append(labels[0].with_(box=gap[0], label="car", track_id=None))
                (folder / f"{f.frame_id}.json").write_text(labels_to_json(f.frame_id, labels))
        return folder

    assert main(["import", str(root), "--frames", ",".join(chosen), "--out", str(tmp_path / "sub"), "--quiet"]) == 0
    pred = pred_folder(tmp_path / "pred")
    chosen_report = report(capsys, "--pred", str(pred), "--gt", str(root), "--frames", ",".join(chosen))
    alone = report(capsys, "--pred", str(pred), "--gt", str(tmp_path / "sub"))
    assert figures(chosen_report) == figures(alone)
    assert alone["edit_cost"]["deletes"] >= 1
