"""`fusionlabel prelabel` run again after an interruption resumes it: the frames the interrupted
run finished are not detected again when the detector, its settings and files, the drive and the
run's options are the same (an output folder, a project, a nuScenes results file; tracked runs
keep their raw detections for the tracker), and are detected again when any of them changed. The
result is the one an uninterrupted run writes."""

import json
import re
import sqlite3

import pytest

from fusionlabel.assist import builtin as builtin_module
from fusionlabel.assist import prelabel as prelabel_module
from fusionlabel.assist.prelabel_manifest import MANIFEST
from fusionlabel.cli.main import main

FRAMES = 10
DETECTIONS_DIR = ".fusionlabel-prelabel/detections"     # a tracked run's raw detections until it finishes


@pytest.fixture(scope="module")
def drive(tmp_path_factory):
    from fusionlabel.sim.writer import simulate_drive

    out = tmp_path_factory.mktemp("sim") / "drive"
    simulate_drive(out, frames=FRAMES, seed=4, points=30_000, cameras=False, progress=False)
    return out


@pytest.fixture
def detections(monkeypatch):
    """The frames the detector is run on, in order; ``stop_after[0] = N`` makes the N+1-th frame
    stop the run as Ctrl+C does (a batch is stored after every frame)."""
    seen, stop_after = [], [None]
    detect = builtin_module.GeometricDetector.detect_frame

    def counted(self, drive, index):
        if stop_after[0] is not None and len(seen) >= stop_after[0]:
            stop_after[0] = None
            raise KeyboardInterrupt
        seen.append(index)
        return detect(self, drive, index)

    monkeypatch.setattr(builtin_module.GeometricDetector, "detect_frame", counted)
    monkeypatch.setattr(prelabel_module, "BATCH_SECONDS", 0.0)
    return seen, stop_after


def interrupted(args, detections, after):
    """Run ``prelabel ARGS`` stopped (Ctrl+C) after ``after`` frames; the detections seen are reset."""
    seen, stop_after = detections
    seen.clear()
    stop_after[0] = after
    assert main(["prelabel", *map(str, args), "--quiet"]) == 130
    seen.clear()


def files(folder):
    return {p.name: p.read_bytes() for p in folder.glob("*.json")}


def written(folder):
    """The bytes of every label file (native or KITTI) and of every record of what the run wrote."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in [*folder.glob("*.json"), *folder.glob("*.txt"), *folder.glob(".fusionlabel-prelabel/0*.json")]}


def labels(folder):
    """Each label file's labels, in any order (a tracked run leaves a pre-label it finds again
    where it was)."""
    return {p.name: sorted(json.dumps(o, sort_keys=True) for o in json.loads(p.read_text())["objects"])
            for p in folder.glob("*.json")}


@pytest.mark.parametrize("track", [False, True])
def test_an_interrupted_folder_run_resumes_where_it_stopped(track, drive, tmp_path, capsys, detections):
    seen, _ = detections
    opts = ["--track"] if track else []
    reference = tmp_path / "reference"
    assert main(["prelabel", str(drive), "--out", str(reference), "--quiet", *opts]) == 0
    seen.clear()
    out = tmp_path / "out"
    interrupted([drive, "--out", out, *opts], detections, 6)
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["complete"] is False and len(manifest["frames"]) == 6
    assert (out / DETECTIONS_DIR).is_dir() == track     # raw detections for the tracker
    capsys.readouterr()
    assert main(["prelabel", str(drive), "--out", str(out), "--quiet", *opts]) == 0
    said = capsys.readouterr()
    assert seen == list(range(6, FRAMES))                # the finished frames were not detected again
    kept = " (their detections kept for the tracker)" if track else ""
    assert f"resumed: 6 of {FRAMES} frames already pre-labelled by the interrupted run{kept}, detecting 4" in said.err
    assert files(out) == files(reference)      # as a whole run writes
    assert json.loads((out / MANIFEST).read_text())["complete"] is True
    assert not (out / DETECTIONS_DIR).exists()
    # the run finished: running it again detects every frame (and changes nothing)
    seen.clear()
    assert main(["prelabel", str(drive), "--out", str(out), "--quiet", *opts]) == 0
    assert seen == list(range(FRAMES)) and labels(out) == labels(reference)


@pytest.mark.parametrize("fmt", ["kitti", "native"])
def test_a_resumed_tracked_run_writes_the_bytes_of_an_uninterrupted_one(fmt, drive, tmp_path, capsys, detections):
    """The interrupted run's untracked pre-labels are taken away before the tracks are written, as
    the resumed run's own are: no line keeps the place its untracked box had (KITTI lines hold no
    track id, so the order is all that tells them apart)."""
    opts = ["--track", "--format", fmt]
    reference, out = tmp_path / "reference", tmp_path / "out"
    assert main(["prelabel", str(drive), "--out", str(reference), "--quiet", *opts]) == 0
    interrupted([drive, "--out", out, *opts], detections, 6)
    capsys.readouterr()
    assert main(["prelabel", str(drive), "--out", str(out), "--quiet", *opts]) == 0
    said = capsys.readouterr().err
    assert f"resumed: 6 of {FRAMES} frames" in said and "removed" not in said and "found again" not in said
    kept = written(out)
    assert len(kept) == 2 * FRAMES and kept == written(reference)


@pytest.mark.parametrize("track", [False, True])
def test_label_files_created_counts_the_frames_of_the_summary_from_the_start_of_the_run(track, drive, tmp_path,
                                                                                       capsys, detections):
    """``files_created`` (the manifest's summary, ``label_files_created`` of --json) counts the label
    files of the frames the summary counts that did not exist before the run, an interrupted run it
    resumes included. An untracked resumed run counts the frames it detected; a tracked one writes
    every frame again, so it counts as an uninterrupted run does (before: only the files this
    invocation made, 3 of 9)."""
    opts = ["--track"] if track else []
    reference, out = tmp_path / "reference", tmp_path / "out"
    for folder in (reference, out):      # frame 0's label file is there before the run
        assert main(["prelabel", str(drive), "--out", str(folder), "--frames", "0", "--quiet", *opts]) == 0
    capsys.readouterr()
    assert main(["prelabel", str(drive), "--out", str(reference), "--quiet", "--json", *opts]) == 0
    whole = json.loads(capsys.readouterr().out)
    interrupted([drive, "--out", out, *opts], detections, 6)
    assert main(["prelabel", str(drive), "--out", str(out), "--quiet", "--json", *opts]) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert resumed["resumed_frames"] == 6 and whole["frames"] == FRAMES
    assert resumed["frames"] == (FRAMES if track else FRAMES - 6)
    # independent count: the frames counted, less frame 0, whose file was there before either run
    assert whole["label_files_created"] == FRAMES - 1
    assert resumed["label_files_created"] == (FRAMES - 1 if track else FRAMES - 6)
    for folder, said in ((reference, whole), (out, resumed)):
        assert json.loads((folder / MANIFEST).read_text())["summary"]["files_created"] == said["label_files_created"]


def test_other_settings_or_files_detect_every_frame_again(drive, tmp_path, capsys, detections):
    seen, _ = detections
    out = tmp_path / "out"
    interrupted([drive, "--out", out], detections, 4)
    capsys.readouterr()
    assert main(["prelabel", str(drive), "--out", str(out), "--min-score", "0.4", "--quiet"]) == 0
    assert seen == list(range(FRAMES))
    assert "with other settings (--min-score changed); detecting every selected frame again" in capsys.readouterr().err

    # a settings file whose content changed between the runs
    settings = tmp_path / "settings.yaml"
    settings.write_text("max_range: 60.0\n")
    out = tmp_path / "out2"
    interrupted([drive, "--out", out, "--detector-config", settings], detections, 4)
    settings.write_text("max_range: 50.0\n")
    assert main(["prelabel", str(drive), "--out", str(out), "--detector-config", str(settings), "--quiet"]) == 0
    assert seen == list(range(FRAMES))
    err = capsys.readouterr().err
    assert "the detector's settings" in err and "the detector's files" in err
    # the same file again: resumed
    seen.clear()
    interrupted([drive, "--out", out, "--detector-config", settings], detections, 4)
    assert main(["prelabel", str(drive), "--out", str(out), "--detector-config", str(settings), "--quiet"]) == 0
    assert seen == list(range(4, FRAMES))

    # --no-resume detects every frame
    seen.clear()
    interrupted([drive, "--out", out, "--detector-config", settings], detections, 4)
    assert main(["prelabel", str(drive), "--out", str(out), "--detector-config", str(settings), "--quiet",
                 "--no-resume"]) == 0
    assert seen == list(range(FRAMES)) and "--no-resume: detecting every selected frame again" in \
        capsys.readouterr().err


def test_a_finished_frame_whose_label_file_was_removed_is_detected_again(drive, tmp_path, capsys, detections):
    """Resuming never trusts the manifest alone: a frame whose label file (or record) is gone is
    detected again; one a person edited since keeps the edit."""
    seen, _ = detections
    out = tmp_path / "out"
    interrupted([drive, "--out", out], detections, 5)
    (out / "000002.json").unlink()
    edited = json.loads((out / "000001.json").read_text())
    edited["objects"].append({"track_id": None, "label": "Car", "center": [30.0, 30.0, 0.0], "size": [4.0, 1.8, 1.5],
                              "yaw": 0.0, "pitch": 0.0, "roll": 0.0, "score": None, "source": "human",
                              "attributes": {}})
    (out / "000001.json").write_text(json.dumps(edited))
    assert main(["prelabel", str(drive), "--out", str(out), "--quiet"]) == 0
    assert seen == [2, *range(5, FRAMES)]
    assert json.loads((out / "000001.json").read_text()) == edited


def model_boxes(project):
    con = sqlite3.connect(f"file:{project / 'project.sqlite'}?mode=ro", uri=True)
    try:
        return con.execute("SELECT frame, class, round(cx, 6), round(cy, 6), round(yaw, 6), round(score, 6) "
                           "FROM annotations WHERE source='model' ORDER BY frame, cx, cy").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("track", [False, True])
def test_an_interrupted_project_run_resumes_where_it_stopped(track, drive, tmp_path, capsys, detections):
    seen, _ = detections
    opts = ["--track"] if track else []
    reference, project = tmp_path / "reference", tmp_path / "project"
    for p in (reference, project):
        assert main(["project", "create", str(drive), "--out", str(p)]) == 0
    assert main(["prelabel", str(reference), "--quiet", *opts]) == 0
    seen.clear()
    interrupted([project, *opts], detections, 6)
    capsys.readouterr()
    assert main(["prelabel", str(project), "--quiet", *opts]) == 0
    assert seen == list(range(6, FRAMES))
    assert f"resumed: 6 of {FRAMES} frames already pre-labelled" in capsys.readouterr().err
    assert model_boxes(project) == model_boxes(reference)
    from fusionlabel.store.project import Project

    with Project.open(project) as p:
        assert p.get_setting("prelabel_run")["complete"] is True and p.get_setting("prelabel_detections") is None


def stored_prelabels(project):
    """Every pre-label as stored, in the project's order (frame, then the order boxes were made):
    track id, class, box, score and attributes; and the descriptions of the commands in effect."""
    con = sqlite3.connect(f"file:{project / 'project.sqlite'}?mode=ro", uri=True)
    try:
        boxes = con.execute("SELECT frame, seq, track_id, class, cx, cy, cz, length, width, height, yaw, score, "
                            "attributes FROM annotations WHERE source='model' ORDER BY frame, seq").fetchall()
        steps = [d for (d,) in con.execute("SELECT description FROM commands WHERE state='done' ORDER BY id")]
        return boxes, steps
    finally:
        con.close()


def exported(folder):
    """The bytes of every file of an export but its manifest (which names the project and the time)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and p.name != "fusionlabel_export.json"}


@pytest.mark.parametrize("track", [True, False])
@pytest.mark.parametrize("stops", [(6,), (3, 3), (6, 0)])
def test_a_resumed_project_run_stores_what_an_uninterrupted_one_does(stops, track, drive, tmp_path, capsys,
                                                                     detections):
    """The interrupted run's command (its batches) is taken back, and the track ids it took are
    given back: before the tracks are stored, as the resumed run's own is, by a tracked run; by an
    untracked one before it detects, its steps done again as the start of the resumed run's one
    command. The project then holds the pre-labels of an uninterrupted run, the same track ids,
    scores and order, in one undo step with its description; also after two interruptions
    (``stops``: frames detected before each; 0: the resumed run stopped before it detected a frame,
    having taken the interrupted run's command over), an earlier finished run's step left as it is. Before, the tracked boxes replaced the interrupted run's
    untracked ones and took their track ids, those found exactly again kept their places, and two
    steps were in effect (one per run, also for an untracked run)."""
    opts = ["--track"] if track else []
    reference, project = tmp_path / "reference", tmp_path / "project"
    for p in (reference, project):
        assert main(["project", "create", str(drive), "--out", str(p)]) == 0
        # an earlier, finished run (another --min-score): its step is not taken back
        assert main(["prelabel", str(p), "--quiet", "--frames", "2-4", "--min-score", "0.9"]) == 0
    assert main(["prelabel", str(reference), "--quiet", *opts]) == 0
    for after in stops:
        interrupted([project, *opts], detections, after)
    capsys.readouterr()
    assert main(["prelabel", str(project), "--quiet", *opts]) == 0
    assert f"resumed: {sum(stops)} of {FRAMES} frames" in capsys.readouterr().err
    boxes, steps = stored_prelabels(project)
    assert len(boxes) > FRAMES and len({b[2] for b in boxes}) > 1
    assert (boxes, steps) == stored_prelabels(reference) and len(steps) == 2
    for fmt in ("kitti-tracking", "openlabel"):
        for p in (reference, project):
            assert main(["export", str(p), "--format", fmt, "--out", str(tmp_path / f"{p.name}-{fmt}"),
                         "--labels-only", "--include-prelabels", "--quiet"]) == 0
        assert exported(tmp_path / f"project-{fmt}") == exported(tmp_path / f"reference-{fmt}")


@pytest.mark.parametrize("track", [True, False])
def test_an_interrupted_project_run_edited_since_is_not_taken_back(track, drive, tmp_path, capsys, detections):
    """A pre-label of the interrupted run accepted before the run is resumed: the interrupted
    run's command stays (undoing it would take the accepted box with it), and so does the edit;
    a tracked run replaces its other untouched pre-labels by the tracked ones, an untracked one
    stores its new frames as a step of its own, and the accepted box stays."""
    from fusionlabel.model.edit_actions import accept_prelabels
    from fusionlabel.store.project import Project

    opts = ["--track"] if track else []
    project = tmp_path / "project"
    assert main(["project", "create", str(drive), "--out", str(project)]) == 0
    interrupted([project, *opts], detections, 6)
    with Project.open(project) as p:
        doc = p.document
        interrupted_step = doc.undo_text()
        chosen = doc.annotations(2)[0]
        doc.apply(accept_prelabels(doc, [chosen.uid]))
        accepted_step = doc.undo_text()
    capsys.readouterr()
    assert main(["prelabel", str(project), "--quiet", *opts]) == 0
    assert "resumed: 6 of" in capsys.readouterr().err
    with Project.open(project, read_only=True) as p:
        doc = p.document
        assert doc.get(chosen.uid).source == "human" and doc.get(chosen.uid).box == chosen.box
        assert [c.description for c in doc.done_commands(interrupted_step)] == [interrupted_step]
        assert doc.history()[:2] == [interrupted_step, accepted_step] and len(doc.history()) == 3


def test_a_project_run_undone_since_its_interruption_is_not_resumed(drive, tmp_path, capsys, detections):
    from fusionlabel.store.project import Project

    seen, _ = detections
    project = tmp_path / "project"
    assert main(["project", "create", str(drive), "--out", str(project)]) == 0
    interrupted([project], detections, 5)
    with Project.open(project) as p:
        p.document.undo()
    assert main(["prelabel", str(project), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert seen == list(range(FRAMES)) and "resumed" not in err and "undone or removed since" in err


@pytest.mark.parametrize("track", [False, True])
def test_a_results_file_run_resumes_where_it_stopped(track, tmp_path, monkeypatch):
    from test_prelabel_results import _car, _drive

    from fusionlabel.assist.detector import Detector
    from fusionlabel.assist.predictions import PredictionsDetector, write_nuscenes_results
    from fusionlabel.assist.prelabel_results import prelabel_results
    from fusionlabel.assist.prelabel_folder import RESULTS_FILE

    drive = _drive(tmp_path, ["tok0", "tok1"])
    preds = tmp_path / "p.json"
    # one box of frame 0 scores below --min-score 0.5: a tracked run counts it once resumed too
    write_nuscenes_results(preds, {0: [_car(10.0), _car(60.0, 0.2)], 1: [_car(20.0), _car(30.0)]}, drive)
    monkeypatch.setattr(prelabel_module, "BATCH_SECONDS", 0.0)

    class Counting(Detector):
        name = "counting"

        def __init__(self, stop_at=None):
            self.inner, self.path, self.stop_at, self.seen = PredictionsDetector(preds), preds, stop_at, []

        def detect_frame(self, drive, index):
            if index == self.stop_at:
                raise KeyboardInterrupt
            self.seen.append(index)
            return self.inner.detect_frame(drive, index)

    reference = tmp_path / "reference"
    whole = prelabel_results(drive, Counting(), reference, track=track, min_score=0.5, progress=False)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        prelabel_results(drive, Counting(stop_at=1), out, track=track, min_score=0.5, progress=False)
    said = []
    again = Counting()
    resumed = prelabel_results(drive, again, out, track=track, min_score=0.5, progress=False, note=said.append)
    # the frames the report counts: every one for a tracked run, the one detected now for another
    assert (whole.below_min_score, resumed.below_min_score) == (1, 1 if track else 0)
    assert resumed.frames == (2 if track else 1)
    assert again.seen == [1] and said == ["resumed: 1 of 2 frames already pre-labelled by the interrupted run"
                                          + (" (their detections kept for the tracker)" if track else "")
                                          + ", detecting 1"]
    assert json.loads((out / RESULTS_FILE).read_text()) == json.loads((reference / RESULTS_FILE).read_text())


def test_the_interruption_line_says_the_next_run_resumes(drive, tmp_path, capsys, detections):
    interrupted([drive, "--out", tmp_path / "out"], detections, 3)
    err = capsys.readouterr().err
    assert re.search(r"kept the pre-labels of the 3 frames finished before the interruption in .*; run the same "
                     r"command again for the rest \(it resumes: the frames kept are not detected again\)", err)
    # a resumed run stopped before its first new frame still kept the resumed ones, and says so
    interrupted([drive, "--out", tmp_path / "out"], detections, 0)
    assert "kept the pre-labels of the 3 frames finished before the interruption" in capsys.readouterr().err
    # --json says how many frames were taken over
    assert main(["prelabel", str(drive), "--out", str(tmp_path / "out"), "--quiet", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["resumed_frames"] == 3 and doc["frames"] == FRAMES - 3
    assert doc["notes"] == [f"resumed: 3 of {FRAMES} frames already pre-labelled by the interrupted run, detecting "
                            f"{FRAMES - 3}"]


def test_a_tracked_run_counts_as_one_prelabel_run_in_project_status(drive, tmp_path, capsys):
    """A tracked CLI run stores its per-frame detections as it goes (to resume from) and replaces
    them with the tracked pre-labels at the end, undoing the first step itself: `project status`
    counts the run once, as the CLI said ("one undoable edit"), not the stage it undid."""
    project = tmp_path / "project"
    assert main(["project", "create", str(drive), "--out", str(project)]) == 0
    assert main(["prelabel", str(project), "--track"]) == 0
    capsys.readouterr()
    assert main(["project", "status", str(project), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["projects"][0]["effort"]["machine_steps"]["prelabel_runs"] == 1


@pytest.mark.parametrize("stops", [(6,), (3, 3)])
def test_a_resumed_tracked_folder_run_counts_the_boxes_below_min_score_of_the_whole_run(stops, drive, tmp_path,
                                                                                         capsys, detections):
    """``below_min_score`` (--json, the manifest's summary) of a resumed tracked run counts the
    detections left out over every frame, as an uninterrupted run does, also after two
    interruptions (``stops``); before, only those of the frames the last run detected. The count
    is checked against the detector's own scores."""
    from fusionlabel.assist.builtin import GeometricDetector
    from fusionlabel.io.drives import open_drive

    seen, _ = detections
    opened = open_drive(drive)
    scores = [d.score for i in range(FRAMES) for d in GeometricDetector().detect_frame(opened, i)]
    expected = sum(1 for s in scores if s < 0.5)
    assert 0 < expected < len(scores)
    opts = ["--track", "--min-score", "0.5"]
    reference, out = tmp_path / "reference", tmp_path / "out"
    capsys.readouterr()
    assert main(["prelabel", str(drive), "--out", str(reference), "--quiet", "--json", *opts]) == 0
    whole = json.loads(capsys.readouterr().out)
    for after in stops:
        interrupted([drive, "--out", out, *opts], detections, after)
    capsys.readouterr()
    assert main(["prelabel", str(drive), "--out", str(out), "--quiet", "--json", *opts]) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert seen == list(range(sum(stops), FRAMES)) and resumed["resumed_frames"] == sum(stops)
    assert whole["left_out"]["below_min_score"] == resumed["left_out"]["below_min_score"] == expected
    summaries = [json.loads((folder / MANIFEST).read_text())["summary"] for folder in (reference, out)]
    assert summaries[0]["below_min_score"] == summaries[1]["below_min_score"] == expected
    assert {k: v for k, v in summaries[1].items() if k != "resumed"} == \
        {k: v for k, v in summaries[0].items() if k != "resumed"}
    assert written(out) == written(reference)


def test_a_resumed_tracked_project_run_counts_the_boxes_below_min_score_of_the_whole_run(drive, tmp_path, capsys,
                                                                                          detections):
    """The same in a project: the run's record (the ``prelabel_run`` setting) keeps each frame's
    count, and a resumed tracked run's ``below_min_score`` is an uninterrupted one's (before,
    only the frames it detected itself)."""
    opts = ["--track", "--min-score", "0.5"]
    reference, project = tmp_path / "reference", tmp_path / "project"
    for p in (reference, project):
        assert main(["project", "create", str(drive), "--out", str(p)]) == 0
    capsys.readouterr()
    assert main(["prelabel", str(reference), "--quiet", "--json", *opts]) == 0
    whole = json.loads(capsys.readouterr().out)
    interrupted([project, *opts], detections, 6)
    capsys.readouterr()
    assert main(["prelabel", str(project), "--quiet", "--json", *opts]) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert resumed["resumed_frames"] == 6 and whole["left_out"]["below_min_score"] > 0
    assert resumed["left_out"] == whole["left_out"] and stored_prelabels(project) == stored_prelabels(reference)
