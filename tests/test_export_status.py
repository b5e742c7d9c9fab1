"""`fusionlabel export PROJECT --status reviewed`: only the frames with the statuses given, in every
format, within --frames; the summary counts the frames left out; none left, an unknown status or a
drive (no statuses) is one line and exit code 2."""

from __future__ import annotations

import json

import pytest

from fusionlabel.cli.main import main
from fusionlabel.export import FORMATS
from fusionlabel.export.base import MANIFEST
from fusionlabel.model.commands import DeleteCuboids, SetFrameStatus
from fusionlabel.store.project import Project


@pytest.fixture
def project(small_sim_drive, tmp_path):
    """The three simulated frames with their labels: frame 0 reviewed, 1 in progress, 2 done."""
    folder = tmp_path / "project"
    with Project.create(folder, small_sim_drive.root, import_labels=True) as p:
        for frame, status in enumerate(("reviewed", "in_progress", "done")):
            p.document.apply(SetFrameStatus(frame, status))
    return folder


def export(project, out, *options) -> int:
    return main(["export", str(project), "--out", str(out), "--labels-only", "--quiet", *options])


def manifest(out) -> dict:
    return json.loads((out / MANIFEST).read_text())


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_only_frames_with_the_statuses_given_are_exported(fmt, project, small_sim_drive, tmp_path, capsys):
    ids = [f.frame_id for f in small_sim_drive.frames]
    out = tmp_path / "reviewed"
    assert export(project, out, "--format", fmt, "--status", "reviewed") == 0
    said = capsys.readouterr().out
    assert manifest(out)["frames"] == [ids[0]]
    assert manifest(out)["summary"]["left_out_by_status"] == {"in_progress": 1, "done": 1}
    assert "exported 1 frame(s)" in said and "left out 2 frames not reviewed (--status): 1 in progress, 1 done" in said
    out = tmp_path / "accepted"          # a list, within --frames
    assert export(project, out, "--format", fmt, "--status", "done,reviewed", "--frames", "1-2") == 0
    assert manifest(out)["frames"] == [ids[2]]
    assert "left out 1 frame not done or reviewed (--status): 1 in progress" in capsys.readouterr().out


def test_the_objects_exported_are_those_of_the_frames_kept(project, tmp_path):
    """Same objects as exporting those frames by --frames, and none of the others."""
    assert export(project, tmp_path / "by_status", "--format", "openlabel", "--status", "done") == 0
    assert export(project, tmp_path / "by_frames", "--format", "openlabel", "--frames", "2") == 0
    by_status, by_frames = manifest(tmp_path / "by_status")["summary"], manifest(tmp_path / "by_frames")["summary"]
    assert by_status["objects"] == by_frames["objects"] and by_status["objects_total"] > 0


def test_a_reviewed_frame_edited_since_is_no_longer_exported_as_reviewed(project, tmp_path, capsys):
    with Project.open(project) as p:
        car = p.document.annotations(0)[0]
        p.document.apply(DeleteCuboids((car.uid,)))
    out = tmp_path / "out"
    assert export(project, out, "--format", "kitti", "--status", "reviewed") == 2
    err = capsys.readouterr().err.strip()
    assert err == ("fusionlabel: error: --status: no frame of the project is reviewed (2 in progress, 1 done); "
                   "nothing was exported")
    assert not out.exists()


@pytest.mark.parametrize("options, message", [
    (["--status", "reviewed", "--frames", "1"],
     "--status: no frame of the 1 given by --frames is reviewed (1 in progress); nothing was exported"),
    (["--status", "reviewd"], "--status: unknown frame status 'reviewd' in 'reviewd'; expected one or more of new, "
                              "in_progress, done, reviewed, comma-separated"),
])
def test_bad_status_options_are_one_line_and_exit_2(project, tmp_path, capsys, options, message):
    out = tmp_path / "out"
    assert export(project, out, "--format", "coco", *options) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith(message) and not out.exists()


def test_a_drive_has_no_statuses(small_sim_drive, tmp_path, capsys):
    assert export(small_sim_drive.root, tmp_path / "out", "--format", "kitti", "--status", "in-progress") == 2
    assert "--status: a drive's frames have no status; --status needs a project" in capsys.readouterr().err
