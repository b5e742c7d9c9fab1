"""A KITTI object label file whose sweep is missing: its frame cannot be part of the drive, so
every command says so rather than dropping its labels without a word (`check` an error, `export`
and `import` a note, the app a warning)."""

from __future__ import annotations

import json
from pathlib import Path

from test_kitti import _three_frame_kitti

from fusionlabel.cli.main import main
from fusionlabel.io.kitti import open_kitti_object
from fusionlabel.store.project import Project


def kitti_without_a_sweep(root: Path) -> Path:
    """Three labelled frames, the sweep of 000001 gone (its label, calibration and image kept)."""
    _three_frame_kitti(root)
    (root / "velodyne" / "000001.bin").unlink()
    return root


def test_the_reader_names_the_label_file_left_out(tmp_path):
    drive = open_kitti_object(kitti_without_a_sweep(tmp_path / "k"))
    assert [f.frame_id for f in drive.frames] == ["000000", "000002"]
    (line,) = drive.left_out
    assert str(tmp_path / "k" / "label_2") in line and "(000001)" in line and "1 label file" in line
    assert open_kitti_object(_three_frame_kitti(tmp_path / "whole")).left_out == []


def test_check_reports_it_as_an_error(tmp_path, capsys):
    src = kitti_without_a_sweep(tmp_path / "k")
    assert main(["check", str(src), "--no-poses", "--json"]) == 3
    doc = json.loads(capsys.readouterr().out)
    (found,) = doc["findings"]
    assert found["check"] == "sweep-file" and found["severity"] == "error" and "(000001)" in found["message"]


def test_export_and_import_say_so(tmp_path, capsys):
    src = kitti_without_a_sweep(tmp_path / "k")
    assert main(["export", str(src), "--format", "kitti", "--labels-only", "--out", str(tmp_path / "ex"),
                 "--quiet", "--json"]) == 0
    out = capsys.readouterr()
    assert any("(000001)" in note for note in json.loads(out.out)["notes"])
    assert "(000001)" in out.err
    main(["import", str(src), "--frames", "000000,000002", "--out", str(tmp_path / "native"), "--quiet"])
    assert "(000001)" in capsys.readouterr().err


def test_a_project_on_it_warns(tmp_path):
    src = kitti_without_a_sweep(tmp_path / "k")
    with Project.create(tmp_path / "proj", src, import_labels=True, progress=False) as p:
        assert any("(000001)" in w and "left out" in w for w in p.warnings)


def test_project_create_and_import_labels_say_so(tmp_path, capsys):
    """`project create --import-labels` and `project import-labels` print the reader's line on the
    label file left out to stderr (before, only the app showed it), after the import's summary."""
    src = kitti_without_a_sweep(tmp_path / "k")
    (line,) = open_kitti_object(src).left_out       # what the reader says, independently of the CLI
    assert main(["project", "create", str(src), "--out", str(tmp_path / "a"), "--import-labels", "--quiet"]) == 0
    said = capsys.readouterr()
    assert said.err == f"note: {line}\n" and line not in said.out
    assert main(["project", "create", str(src), "--out", str(tmp_path / "b"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""     # no labels imported: nothing to say
    for _ in range(2):     # the import that brings them in, and one that finds nothing new
        assert main(["project", "import-labels", str(tmp_path / "b"), "--quiet"]) == 0
        said = capsys.readouterr()
        assert said.err == f"note: {line}\n" and said.out.startswith("imported ")
    assert str(src / "label_2") in line and "(000001)" in line
