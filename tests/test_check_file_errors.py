"""A camera's unreadable images are one `image-file` finding: when they fail in different ways it
says so (each way's first file, with how many files fail so, also in ``--json``'s ``errors``); one
error repeated is quoted once, as before."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fusionlabel.cli.main import main
from fusionlabel.io.native import open_native_drive
from fusionlabel.qa.check_process import put_report, take_report
from fusionlabel.qa.drive_check import check_drive, spread_frames
from fusionlabel.qa.file_problems import KINDS_SHOWN, FileProblems, error_kind
from fusionlabel.qa.label_check import LabelCheck

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
CAM = "cam_front"


@pytest.fixture()
def sample(tmp_path) -> Path:
    dst = tmp_path / "drive"
    shutil.copytree(SAMPLE, dst, ignore=shutil.ignore_patterns(".fusionlabel-project"))
    return dst


def image(drive: Path, frame: int) -> Path:
    return drive / "cameras" / CAM / f"{frame:06d}.jpg"


def cut(path: Path, size: int) -> None:
    path.write_bytes(path.read_bytes()[:size])


def image_finding(findings):
    (found,) = [f for f in findings if f.check == "image-file"]
    return found


def test_the_broken_frames_are_not_read_by_default():
    assert not {2, 3, 7, 8} & set(spread_frames(20))


def test_images_failing_in_different_ways_are_each_quoted_with_their_count(sample, capsys):
    cut(image(sample, 7), 3000)          # cut short, at different lengths: one way of failing
    cut(image(sample, 8), 5000)
    image(sample, 2).write_bytes(b"")
    assert main(["check", str(sample), "--no-poses", "--no-labels", "--decode-all", "--quiet", "--json"]) == 3
    doc = json.loads(capsys.readouterr().out)
    (found,) = [f for f in doc["findings"] if f["check"] == "image-file"]
    assert found["frames"] == ["000002", "000007", "000008"] and found["frame"] == "000002"
    assert "2 different errors: 2 files as " in found["message"]
    assert f"2 files as {image(sample, 7)}: cannot decode JPEG data (3000 bytes; truncated or corrupt); " \
           f"1 file as {image(sample, 2)}: file is empty" in found["message"]
    assert [(e["files"], e["frames"]) for e in found["errors"]] == [(2, ["000007", "000008"]), (1, ["000002"])]
    assert found["errors"][1]["error"].startswith(f"{image(sample, 2)}: file is empty")
    assert {"severity", "subject", "check", "message", "remedy", "frame", "frames"} <= set(found)


def test_one_error_repeated_is_quoted_once(sample):
    image(sample, 2).write_bytes(b"")
    image(sample, 7).write_bytes(b"")
    found = image_finding(check_drive(open_native_drive(sample), poses=False).findings)
    assert found.message == f"in 2 of 20 checked frames (000002, 000007): {image(sample, 2)}: empty file (0 bytes)"
    assert found.errors == () and found.as_dict()["errors"] == []


def test_missing_and_empty_images_looked_up_are_two_errors(sample):
    image(sample, 3).unlink()
    image(sample, 7).write_bytes(b"")
    found = image_finding(check_drive(open_native_drive(sample), poses=False).findings)
    assert "2 different errors" in found.message
    assert f"{image(sample, 3)}: file not found" in found.message and f"{image(sample, 7)}: empty file" in found.message


def test_beyond_the_ways_shown_the_rest_are_counted():
    problems = FileProblems()
    for i in range(KINDS_SHOWN + 2):
        path = f"/d/{i}.jpg"
        problems.add(CAM, "image", i, f"{i:06d}", f"{path}: failure {'abcde'[i]}", path)
    problems.add(CAM, "image", 9, "000009", "/d/9.jpg: failure e", "/d/9.jpg")
    (found,) = problems.findings(10)
    assert found.message.startswith("in 6 of 10 checked frames (000000, 000001, 000002, 000003, 000004, ...): "
                                    "5 different errors: 2 files as /d/4.jpg: failure e; 1 file as /d/0.jpg")
    assert found.message.endswith("; 2 other errors in 2 files")
    assert len(found.errors) == 5


def test_an_error_kind_leaves_out_the_file_and_its_numbers():
    assert error_kind("/d/1.jpg: cannot decode JPEG data (3000 bytes; x)", "/d/1.jpg") == \
        error_kind("/d/2.jpg: cannot decode JPEG data (52 bytes; x)", "/d/2.jpg")
    assert error_kind("/d/1.jpg: file not found", "/d/1.jpg") != error_kind("/d/1.jpg: empty file", "/d/1.jpg")


def test_the_errors_cross_from_the_check_process(sample):
    image(sample, 2).write_bytes(b"")
    image(sample, 3).unlink()
    found = image_finding(check_drive(open_native_drive(sample), poses=False).findings)
    report = LabelCheck("drive", findings=[found])
    assert take_report(put_report(report)) == report
