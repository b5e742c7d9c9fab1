"""`fusionlabel check --decode-all` decodes every sweep and image of the drive, so that a file cut
short behind a whole header is found in a frame the default check only looks up; without it, the
report says how many frames' files were not decoded and which option decodes them."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from fusionlabel.cli.main import main
from fusionlabel.errors import FusionLabelError
from fusionlabel.progress import LineProgress
from fusionlabel.io.native import open_native_drive
from fusionlabel.qa.drive_check import check_drive, spread_frames
from fusionlabel.qa import file_decode
from fusionlabel.qa.file_decode import decode, file_jobs

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
SWEEP, IMAGE = "lidar/000007.fri", "cameras/cam_front/000003.jpg"


def cut_in_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


@pytest.fixture()
def broken(tmp_path) -> Path:
    """A copy of the sample drive with a sweep and a JPEG cut in half in frames `check` does not read."""
    dst = tmp_path / "drive"
    shutil.copytree(SAMPLE, dst, ignore=shutil.ignore_patterns(".fusionlabel-project"))
    cut_in_half(dst / SWEEP)
    cut_in_half(dst / IMAGE)
    return dst


def test_the_broken_frames_are_not_read_by_default():
    assert not {3, 7} & set(spread_frames(20))


def test_by_default_the_files_not_decoded_are_counted_and_the_option_named(broken, capsys):
    assert main(["check", str(broken), "--no-poses", "--no-labels"]) == 0
    out = capsys.readouterr().out
    (line,) = [ln for ln in out.splitlines() if ln.startswith("files:")]
    assert "15 other frames' files looked up" in line and "not decoded" in line and "--decode-all" in line
    assert main(["check", str(broken), "--no-poses", "--no-labels", "--json"]) == 0
    files = json.loads(capsys.readouterr().out)["files"]
    assert files == {"looked_up_only": 15, "decoded": None}


def test_decode_all_names_each_broken_file_once_and_exits_with_findings(broken, capsys):
    assert main(["check", str(broken), "--no-poses", "--no-labels", "--decode-all", "--quiet"]) == 3
    out = capsys.readouterr().out
    for name in (SWEEP, IMAGE):
        path = str(broken / name)
        listed = [ln for ln in out.splitlines() if ln.startswith(f"  {path}: ")]
        assert len(listed) == 1, out
    assert "truncated or corrupt" in out and "incomplete or truncated stream" in out
    assert "files: 80 files of 20 frames decoded: 19 sweeps and 59 images whole, 2 unreadable:" in out


def test_decode_all_json_and_the_label_part_do_not_report_a_file_twice(broken, capsys):
    # With the labels checked, the label part reads the broken sweep too: still one finding.
    assert main(["check", str(broken), "--no-poses", "--decode-all", "--quiet", "--json"]) == 3
    doc = json.loads(capsys.readouterr().out)
    unreadable = doc["files"]["decoded"]["unreadable"]
    assert [(u["frame"], u["kind"], u["subject"], u["path"]) for u in unreadable] == [
        ("000003", "image", "cam_front", str(broken / IMAGE)), ("000007", "sweep", "frame 000007", str(broken / SWEEP))]
    file_findings = sorted((f["subject"], f["check"], tuple(f["frames"])) for f in doc["findings"]
                           if f["check"].endswith("-file"))
    assert file_findings == [("cam_front", "image-file", ("000003",)), ("frame 000007", "sweep-file", ("000007",))]


def test_two_processes_find_what_one_finds(broken, monkeypatch):
    monkeypatch.setattr(file_decode, "MIN_FILES_PER_WORKER", 10)     # 80 files: worth two processes
    drive = open_native_drive(broken)
    one = check_drive(drive, poses=False, decode=True, workers=1)
    two = check_drive(drive, poses=False, decode=True, workers=2)
    assert one.decoded == two.decoded and one.findings == two.findings
    assert len(one.decoded.unreadable) == 2


def test_decode_all_with_frames_decodes_those_frames_only(broken):
    report = check_drive(open_native_drive(broken), frames=[0, 1, 2], poses=False, decode=True)
    assert (report.decoded.frames, report.decoded.sweeps, report.decoded.images) == (3, 3, 9)
    assert report.findings == []


def test_an_image_of_another_size_than_its_camera_is_named(broken):
    jobs = [j for j in file_jobs(open_native_drive(broken), [0]) if j.kind == "image"]
    wrong = jobs[0].__class__(**{**jobs[0].__dict__, "size": (jobs[0].size[0] + 1, jobs[0].size[1])})
    assert decode(jobs[0]) is None
    assert "but the rig's camera" in decode(wrong) and jobs[0].path in decode(wrong)


def test_decode_all_is_refused_with_labels_only(broken, capsys):
    assert main(["check", str(broken), "--labels-only", "--decode-all"]) == 2
    err = capsys.readouterr().err
    assert "--decode-all" in err and "--labels-only" in err and "Traceback" not in err


def die(job):
    """A decoding process that dies (as one would in a decoder's crash) on the fifth frame's files."""
    if job.frame_id == "000004":
        os._exit(1)
    return decode(job)


def test_a_decoding_process_that_dies_is_an_error_naming_where(broken, monkeypatch):
    monkeypatch.setattr(file_decode, "MIN_FILES_PER_WORKER", 10)
    drive = open_native_drive(broken)
    jobs = file_jobs(drive, range(len(drive)))
    with pytest.raises(FusionLabelError, match="--workers 1") as e:
        list(file_decode._decoded(drive, jobs, 2, LineProgress(), work=die))
    assert "ended unexpectedly, at " in str(e.value) and str(broken) in str(e.value)
