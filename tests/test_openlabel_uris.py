"""OpenLABEL stream uris are relative to the openlabel.json file; the reader resolves them so."""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import native_copy, quiet
from fusionlabel.export import export_drive
from fusionlabel.io.openlabel import read_openlabel


def test_uris_are_relative_to_the_file_and_read_back(small_sim_drive, tmp_path, monkeypatch):
    drive = native_copy(small_sim_drive, tmp_path / "data" / "drive")
    monkeypatch.chdir(tmp_path)
    rel_drive = native_copy(drive, Path("data") / "copy")          # paths as typed: relative to the cwd
    export_drive(rel_drive, "openlabel", Path("out") / "ol", options=quiet())
    doc = json.loads((tmp_path / "out" / "ol" / "openlabel.json").read_text())
    streams = doc["openlabel"]["frames"]["0"]["frame_properties"]["streams"]
    lidar = rel_drive.rig(0).reference_lidar
    assert streams[lidar]["uri"] == "../../data/copy/" + rel_drive.frames[0].lidar_path.relative_to(
        Path("data") / "copy").as_posix()
    monkeypatch.chdir(tmp_path / "data")                           # read from elsewhere: still found
    scene = read_openlabel(tmp_path / "out" / "ol" / "openlabel.json")
    for n, f in enumerate(rel_drive.frames):
        files = scene.frames[n].stream_files
        assert files[lidar].resolve() == (tmp_path / f.lidar_path).resolve() and files[lidar].is_file()
        for cam, p in f.image_paths.items():
            assert files[cam].resolve() == (tmp_path / p).resolve()


def test_old_files_with_cwd_relative_uris_still_resolve(small_sim_drive, tmp_path, monkeypatch):
    export_drive(small_sim_drive, "openlabel", tmp_path / "ol", options=quiet())
    path = tmp_path / "ol" / "openlabel.json"
    doc = json.loads(path.read_text())
    lidar = small_sim_drive.rig(0).reference_lidar
    target = small_sim_drive.frames[0].lidar_path
    monkeypatch.chdir(target.parent.parent)
    # as older versions wrote it: relative to the working directory of the export
    doc["openlabel"]["frames"]["0"]["frame_properties"]["streams"][lidar]["uri"] = os.path.relpath(target)
    path.write_text(json.dumps(doc))
    assert read_openlabel(path).frames[0].stream_files[lidar].resolve() == target.resolve()
