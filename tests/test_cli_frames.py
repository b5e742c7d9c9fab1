"""`--frames` means the same in every command that takes it (prelabel, export): frame IDs, indices
and inclusive ranges A-B; `A:B` (a slice in prelabel, a range in export) is refused everywhere."""

from __future__ import annotations

import json

import pytest

from fusionlabel.cli.main import main
from fusionlabel.errors import InputError
from fusionlabel.export.base import MANIFEST
from fusionlabel.model.frame_spec import parse_frames


def test_parse_frames_ids_indices_and_inclusive_ranges(small_sim_drive):
    d = small_sim_drive          # 3 frames, IDs 000000-000002
    assert parse_frames("0-2", d) == [0, 1, 2]
    assert parse_frames("000001-000002", d) == [1, 2]
    assert parse_frames("2, 0,000000", d) == [2, 0]
    assert parse_frames("-1", d) == [2]
    assert parse_frames("-2--1", d) == [1, 2]


@pytest.mark.parametrize("spec, words", [
    ("0:2", ["A:B is not accepted", "'0-1' for frames 0 to 1", "'0-2' for 0 to 2"]),
    ("1:", ["A:B is not accepted", "0-9,15,000042"]),
    ("0-9", ["out of range", "3 frames"]),
    ("2-0", ["is empty"]),
    ("0-", ["both ends"]),
    ("car", ["no frame 'car'", "0-9,15,000042"]),
    (",", ["selects no frames"]),
])
def test_bad_specs_are_one_clear_error(small_sim_drive, spec, words):
    with pytest.raises(InputError, match="--frames") as e:
        parse_frames(spec, small_sim_drive)
    assert all(w in str(e.value) for w in words), str(e.value)


def test_prelabel_and_export_select_the_same_frames(small_sim_drive, tmp_path, capsys):
    drive = str(small_sim_drive.root)
    pre, exp = tmp_path / "pre", tmp_path / "exp"
    assert main(["prelabel", drive, "--out", str(pre), "--frames", "0-1", "--quiet"]) == 0
    assert main(["export", drive, "--format", "kitti", "--out", str(exp), "--frames", "0-1",
                 "--labels-only", "--quiet"]) == 0
    assert sorted(p.stem for p in pre.glob("*.json")) == ["000000", "000001"]
    assert json.loads((exp / MANIFEST).read_text())["frames"] == ["000000", "000001"]
    capsys.readouterr()


@pytest.mark.parametrize("cmd", ["prelabel", "export"])
def test_a_colon_range_is_refused_by_every_command(small_sim_drive, tmp_path, capsys, cmd):
    out = tmp_path / "o"
    args = [cmd, str(small_sim_drive.root), "--out", str(out), "--frames", "0:2", "--quiet"]
    if cmd == "export":
        args += ["--format", "kitti"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--frames" in err and "A-B" in err
    assert not out.exists() or not any(out.iterdir())
