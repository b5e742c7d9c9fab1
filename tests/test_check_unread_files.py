"""`fusionlabel check` never calls a drive with a broken sweep clean: the frames it does not read
have their sweeps and images looked up, and a labelled frame whose sweep cannot be read is an
error of the label part too (once, when both parts found it)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fusionlabel.cli.main import main
from fusionlabel.io.native import open_native_drive
from fusionlabel.qa.drive_check import check_drive, spread_frames
from fusionlabel.qa.label_check import check_labels, drive_labels

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


@pytest.fixture()
def sample(tmp_path) -> Path:
    """A copy of the sample drive (20 frames, labelled; `check` reads 5 of them by default)."""
    dst = tmp_path / "drive"
    shutil.copytree(SAMPLE, dst, ignore=shutil.ignore_patterns(".fusionlabel-project"))
    return dst


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:1000])


def test_the_unread_frames_are_those_this_test_breaks():
    assert not {2, 3, 7} & set(spread_frames(20))


def test_a_missing_sweep_or_image_in_a_frame_not_read_is_found(sample):
    (sample / "lidar" / "000003.fri").unlink()
    (sample / "cameras" / "cam_front_left" / "000007.jpg").write_bytes(b"")
    report = check_drive(open_native_drive(sample), poses=False)
    found = {(f.subject, f.check): f for f in report.findings}
    assert set(found) == {("frame 000003", "sweep-file"), ("cam_front_left", "image-file")}
    assert found[("frame 000003", "sweep-file")].frames == ("000003",)
    assert "000003.fri: file not found" in found[("frame 000003", "sweep-file")].message
    assert "000007.jpg: empty file (0 bytes)" in found[("cam_front_left", "image-file")].message
    # Frames the user names are the only ones looked at.
    assert check_drive(open_native_drive(sample), frames=[0, 1], poses=False).findings == []


def test_a_sweep_that_cannot_be_read_is_an_error_of_the_label_check(sample):
    truncate(sample / "lidar" / "000002.fri")
    drive = open_native_drive(sample)
    report = check_labels(drive, drive_labels(drive), "drive")
    (found,) = [f for f in report.findings if f.check == "sweep-file"]
    assert found.severity == "error" and found.subject == "frame 000002" and found.frames == ("000002",)
    assert report.swept_frames == 19


@pytest.mark.parametrize("frame", ["000002", "000000"])   # read by the label part only / by both parts
def test_check_exits_with_findings_and_names_the_sweep_once(sample, frame, capsys):
    truncate(sample / "lidar" / f"{frame}.fri")
    assert main(["check", str(sample), "--no-poses", "--json"]) == 3
    doc = json.loads(capsys.readouterr().out)
    found = [f for f in doc["findings"] if f["check"] == "sweep-file"]
    assert [f["subject"] for f in found] == [f"frame {frame}"]
    assert doc["counts"] == {"sweep-file": 1}
