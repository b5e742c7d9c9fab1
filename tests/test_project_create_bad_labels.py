"""`project create --import-labels` and a drive label file that cannot be read: exit 2 with one line
naming the file, the line and the field, and no project left behind (a replaced one put back), unless
``--skip-bad-frames`` makes it without that frame's labels (exit 3, the frame listed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli_render import assert_clean_error, run_cli
from test_kitti_truncation import FRACTIONS, object_folder

from fusionlabel.cli.main import main
from fusionlabel.store.project import Project, is_project


@pytest.fixture
def drive(tmp_path) -> Path:
    """Frames 000000-000002 with a label file each; 000001's second line has a height of ``1.5x``."""
    root = tmp_path / "kitti"
    object_folder(root)
    path = root / "label_2" / "000001.txt"
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace(" 1.50 ", " 1.5x ", 1)
    path.write_text("\n".join(lines) + "\n")
    return root


BAD = ("label_2/000001.txt: line 2: non-numeric field 9 (height): '1.5x', expected a number")


def test_a_bad_label_file_stops_the_creation_and_leaves_nothing(drive, tmp_path):
    for out in (["--out", str(tmp_path / "p")], []):       # a folder of one's own, and the default one
        done = run_cli("project", "create", str(drive), *out, "--import-labels", "--quiet")
        assert_clean_error(done, BAD)
        assert not (tmp_path / "p").exists() and not (drive / ".fusionlabel-project").exists()


def test_a_replaced_project_is_put_back(drive, tmp_path):
    assert main(["project", "create", str(drive), "--out", str(tmp_path / "p"), "--quiet"]) == 0
    done = run_cli("project", "create", str(drive), "--out", str(tmp_path / "p"), "--import-labels", "--force")
    assert_clean_error(done, BAD)
    assert is_project(tmp_path / "p") and sorted(x.name for x in tmp_path.iterdir()) == ["kitti", "p"]
    with Project.open(tmp_path / "p") as p:
        assert len(p.document) == 0          # the project made without labels, as it was


def test_skip_bad_frames_makes_the_project_without_that_frames_labels(drive, tmp_path):
    done = run_cli("project", "create", str(drive), "--out", str(tmp_path / "p"), "--import-labels",
                   "--skip-bad-frames", "--quiet")
    assert done.returncode == 3, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-2].startswith("skipped 1 frame whose label file could not be read (--skip-bad-frames)")
    assert lines[-1].startswith("  frame 000001: ") and lines[-1].endswith(BAD)
    with Project.open(tmp_path / "p") as p:
        assert [len(p.document.annotations(i)) for i in range(3)] == [len(FRACTIONS), 0, len(FRACTIONS)]


def test_skip_bad_frames_with_every_frame_bad_makes_nothing(drive, tmp_path):
    for path in (drive / "label_2").iterdir():
        path.write_text(path.read_text().replace(" 1.50 ", " 1.5x ", 1))
    done = run_cli("project", "create", str(drive), "--out", str(tmp_path / "p"), "--import-labels",
                   "--skip-bad-frames", "--quiet")
    assert_clean_error(done, "--skip-bad-frames: every one of the 3 frames could not be read, no project was made",
                       "label_2/000000.txt: line 1: non-numeric field 9 (height)")
    assert not (tmp_path / "p").exists()


def test_skip_bad_frames_needs_import_labels(drive, tmp_path):
    assert_clean_error(run_cli("project", "create", str(drive), "--out", str(tmp_path / "p"), "--skip-bad-frames"),
                       "--skip-bad-frames", "--import-labels")
    assert not (tmp_path / "p").exists()
