"""A KITTI object folder exported as KITTI tracking: its frames are unrelated scenes written as one
sequence. The export is not refused, but the summary and ``--json`` say where the frames come from,
that they are separate scenes and that their track IDs link nothing across frames; from the folder,
a project on it and a native copy of it (``drive.yaml``'s meta, :mod:`fusionlabel.io.kitti_layout`).
A KITTI tracking sequence gets no such note. Synthetic folders: test_kitti_truncation's."""

from __future__ import annotations

import json
from pathlib import Path

from test_kitti_truncation import N_FRAMES, object_folder, tracking_folder

from fusionlabel.cli.main import main
from fusionlabel.store.project import Project

SEPARATE = f"the frames come from a KITTI object folder: they are {N_FRAMES} separate scenes"
NOT_LINKED = "their track IDs are not linked across frames"


def exported_json(source: Path, out: Path, capsys) -> dict:
    capsys.readouterr()
    assert main(["export", str(source), "--format", "kitti-tracking", "--out", str(out), "--labels-only",
                 "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def separate_scene_notes(doc: dict) -> list[str]:
    return [n for n in doc["cannot_hold"] if "KITTI object folder" in n]


def test_object_folder_frames_are_said_to_be_separate_scenes(tmp_path, capsys):
    folder = tmp_path / "obj"
    object_folder(folder)
    Project.create(tmp_path / "proj", folder, import_labels=True, progress=False).close()
    assert main(["import", str(folder), "--out", str(tmp_path / "native"), "--quiet"]) == 0
    for source in (folder, tmp_path / "proj", tmp_path / "native"):
        doc = exported_json(source, tmp_path / f"out-{source.name}", capsys)
        (note,) = separate_scene_notes(doc)
        assert SEPARATE in note and NOT_LINKED in note, note
        assert (tmp_path / f"out-{source.name}" / "label_02" / "0000.txt").is_file()    # exported all the same
    capsys.readouterr()
    assert main(["export", str(folder), "--format", "kitti-tracking", "--out", str(tmp_path / "text"),
                 "--labels-only"]) == 0
    text = capsys.readouterr().out
    assert SEPARATE in text and NOT_LINKED in text


def test_tracking_sequence_is_one_recording(tmp_path, capsys):
    tracking_folder(tmp_path / "trk")
    assert separate_scene_notes(exported_json(tmp_path / "trk", tmp_path / "out", capsys)) == []
