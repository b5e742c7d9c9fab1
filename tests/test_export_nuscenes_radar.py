"""Why a nuScenes export writes a box's num_radar_pts as 0, in the summary: on a drive with radar, a
box C or V carried from a nuScenes box lost its source's count, and one drawn in the project never
had one; only a drive without radar has "no radar in the drive"."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from conftest import quiet, simulated_drive
from fusionlabel.assist import edit_assist
from fusionlabel.export import export_drive
from fusionlabel.export.source import open_source
from fusionlabel.geometry.cuboid import points_in_cuboid
from fusionlabel.model import edit_actions
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model.commands import CreateCuboid, DeleteCuboids
from fusionlabel.store.project import Project

RADAR = {"token": "f" * 32, "channel": "RADAR_FRONT", "modality": "radar"}   # nuScenes' sensor record


@pytest.fixture(scope="module")
def nuscenes_drives(tmp_path_factory):
    """(without radar, with radar): a nuScenes export of a small simulated drive, whose sensors are
    LIDAR_TOP and cameras (num_radar_pts 0 everywhere), and a copy whose sensor table also names a
    radar, as nuScenes' own do."""
    pytest.importorskip("nuscenes")
    root = tmp_path_factory.mktemp("radar")
    export_drive(simulated_drive(tmp_path_factory), "nuscenes", root / "plain", options=quiet(scene_name="radar"))
    shutil.copytree(root / "plain", root / "radar")
    table = root / "radar" / "v1.0-mini" / "sensor.json"
    table.write_text(json.dumps(json.loads(table.read_text()) + [RADAR]))
    return root / "plain", root / "radar"


def edited_project(drive_folder, folder):
    """A project on ``drive_folder`` with its labels; the two best-seen tracks of frame 0 are deleted
    in frame 1 and carried there again, one with C, one with V; a car is drawn in frame 0. Returns
    (folder, uids of those three boxes)."""
    project = Project.create(folder, drive_folder, import_labels=True, progress=False)
    try:
        doc, drive = project.document, project.drive
        pts = drive.points(0)
        both = [a for a in doc.annotations(0) if doc.find_track(a.track_id, 1) is not None]
        copied, propagated = sorted(both, key=lambda a: -int(points_in_cuboid(pts, a.box).sum()))[:2]
        doc.apply(DeleteCuboids(tuple(doc.find_track(a.track_id, 1).uid for a in (copied, propagated))))
        doc.apply(edit_actions.copy_to_next_frame(doc, [copied.uid], 0, drive))
        doc.apply(edit_assist.propagate(doc, drive, 0, [propagated.uid]))
        box = copied.box.with_(center=np.add(copied.box.center, [0.0, 0.0, 30.0]))    # above it: free
        drawn = doc.apply(CreateCuboid(0, CuboidLabel(box, "car")))
        made = [doc.find_track(a.track_id, 1).uid for a in (copied, propagated)] + [drawn.uid]
    finally:
        project.close()
    return folder, made


def export(project_folder, out) -> list[str]:
    """The summary's notes on num_radar_pts of a nuScenes export of the project (pre-labels too)."""
    with open_source(project_folder) as (drive, labels_for, _, _):
        summary = export_drive(drive, "nuscenes", out, labels_for, quiet(sensor_data=False, include_prelabels=True))
    return [n for n in summary.cannot_hold if "num_radar_pts" in n]


def without_radar_count(project_folder) -> tuple[int, int]:
    """(carried, made): the project's boxes without a radar count that keep a nuScenes token (carried
    from an imported box) and the others."""
    with Project.open(project_folder, read_only=True) as project:
        anns = [a for a in project.document.all_annotations() if "num_radar_pts" not in a.attributes]
    carried = sum("nuscenes_token" in a.attributes for a in anns)
    return carried, len(anns) - carried


def test_a_radar_drives_boxes_without_a_radar_count_say_why(nuscenes_drives, tmp_path):
    """Before, every such box was counted under "no radar in the drive", wrong on a drive with radar."""
    folder, made = edited_project(nuscenes_drives[1], tmp_path / "project")
    with Project.open(folder, read_only=True) as project:
        carried_box = project.document.get(made[0])
        assert "nuscenes_token" in carried_box.attributes and "num_radar_pts" not in carried_box.attributes
    carried, drawn = without_radar_count(folder)
    assert (carried, drawn) == (2, 1)
    notes = export(folder, tmp_path / "out")
    assert notes == [
        f"num_radar_pts of {carried} object(s) copied, propagated or interpolated from another frame (C, V, I) "
        "written as 0: their source's radar count counted the returns of its own frame, and fusionlabel reads "
        "no radar to count them again",
        f"num_radar_pts of {drawn} object(s) made in the project (drawn, one-click, detected) written as 0: "
        "fusionlabel reads no radar to count their returns"]


def test_a_drive_without_radar_says_so(nuscenes_drives, tmp_path):
    """The same edits on the drive whose sensors hold no radar: one note, as before."""
    folder, _ = edited_project(nuscenes_drives[0], tmp_path / "project")
    notes = export(folder, tmp_path / "out")
    assert notes == [f"num_radar_pts of {sum(without_radar_count(folder))} object(s) written as 0 (no radar in the drive)"]
