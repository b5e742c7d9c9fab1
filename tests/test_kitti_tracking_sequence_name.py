"""A KITTI tracking sequence keeps its name through ``fusionlabel import`` (``drive.yaml``'s meta,
:mod:`fusionlabel.io.kitti_layout`): the KITTI tracking export of the native copy, or of a project
on it, writes ``0001``, not the default ``0000``. Synthetic folder: test_kitti_truncation's
sequence, copied to sequences 0000 and 0001 (so ``--scene`` must choose)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_kitti_truncation import tracking_folder

from fusionlabel.cli.main import main
from fusionlabel.io.native import open_native_drive
from fusionlabel.store.project import Project


def two_sequences(root: Path) -> Path:
    """Sequences 0000 and 0001 (the same frames and labels) under ``root``."""
    tracking_folder(root)
    for folder in ("velodyne", "image_02"):
        shutil.copytree(root / folder / "0000", root / folder / "0001")
    for folder in ("calib", "label_02"):
        shutil.copy(root / folder / "0000.txt", root / folder / "0001.txt")
    return root


def written_sequences(out: Path) -> list[str]:
    return sorted(p.stem for p in (out / "label_02").glob("*.txt"))


def test_native_copy_and_its_project_export_the_sequence_name(tmp_path, capsys):
    source = two_sequences(tmp_path / "trk")
    native = tmp_path / "native"
    assert main(["import", str(source), "--scene", "1", "--out", str(native), "--quiet"]) == 0
    assert open_native_drive(native).meta["kitti_sequence"] == "0001"
    assert main(["export", str(native), "--format", "kitti-tracking", "--out", str(tmp_path / "a"),
                 "--labels-only", "--quiet"]) == 0
    assert written_sequences(tmp_path / "a") == ["0001"]
    Project.create(tmp_path / "proj", native, import_labels=True, progress=False).close()
    assert main(["export", str(tmp_path / "proj"), "--format", "kitti-tracking", "--out", str(tmp_path / "b"),
                 "--labels-only", "--quiet"]) == 0
    assert written_sequences(tmp_path / "b") == ["0001"]
    # --sequence still overrides it
    assert main(["export", str(native), "--format", "kitti-tracking", "--out", str(tmp_path / "c"),
                 "--labels-only", "--quiet", "--sequence", "0007"]) == 0
    assert written_sequences(tmp_path / "c") == ["0007"]


@pytest.mark.parametrize("good, bad, key", [("kitti_sequence: '0001'", 'kitti_sequence: "../x"', "meta.kitti_sequence"),
                                           ("kitti_layout: tracking", "kitti_layout: raw", "meta.kitti_layout")])
def test_bad_sequence_meta_names_the_file_and_key(tmp_path, capsys, good, bad, key):
    source = two_sequences(tmp_path / "trk")
    native = tmp_path / "native"
    assert main(["import", str(source), "--scene", "0001", "--out", str(native), "--quiet"]) == 0
    index = native / "drive.yaml"
    assert good in index.read_text()
    index.write_text(index.read_text().replace(good, bad))
    capsys.readouterr()
    assert main(["export", str(native), "--format", "kitti-tracking", "--out", str(tmp_path / "a"),
                 "--labels-only", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "drive.yaml" in err and key in err and "Traceback" not in err, err
