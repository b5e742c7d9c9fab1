"""A box C carried to the next frame is not the imported box it came from: its nuScenes export gives
the visibility estimated in its own frame, as for the same box drawn there, not its source frame's.

A parked car copied through the ego poses lies where its source lay in the world, so the source box
the import kept still matched it and the export took the copy for that untouched import.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import quiet, simulated_drive
from fusionlabel.export import export_drive
from fusionlabel.export.source import open_source
from fusionlabel.geometry.transforms import invert_T
from fusionlabel.model import edit_actions
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model.commands import CreateCuboid, DeleteCuboids
from fusionlabel.store.project import Project


@pytest.fixture(scope="module")
def nuscenes_drive(tmp_path_factory):
    """A nuScenes export of a small simulated drive, whose parked cars keep their place in the world."""
    pytest.importorskip("nuscenes")
    out = tmp_path_factory.mktemp("carried") / "nuscenes"
    export_drive(simulated_drive(tmp_path_factory), "nuscenes", out, options=quiet(scene_name="carried"))
    return out


def parked_tracks(doc, drive) -> list[str]:
    """Tracks boxed in frames 0 and 1 at the same place in the world whose imported visibility
    differs between the two frames."""
    out = []
    for a in doc.annotations(0):
        b = doc.find_track(a.track_id, 1)
        if b is None or a.attributes.get("visibility") == b.attributes.get("visibility"):
            continue
        c0 = a.box.transformed(drive.T_world_lidar(0)).center
        c1 = b.box.transformed(drive.T_world_lidar(1)).center
        if np.linalg.norm(np.subtract(c0, c1)) < 1e-6:
            out.append(a.track_id)
    return out


def frame_1_records(drive_folder, folder, carry: bool) -> dict[str, tuple[str, int]]:
    """A project on ``drive_folder`` whose parked tracks' frame-1 boxes are deleted and made again from
    frame 0's: with C (``carry``) or drawn at the same place. Returns the nuScenes export's
    (visibility, LiDAR points) of frame 1's boxes by position."""
    project = Project.create(folder, drive_folder, import_labels=True, progress=False)
    try:
        doc, drive = project.document, project.drive
        tracks = parked_tracks(doc, drive)
        assert tracks, "the simulated drive has no parked car whose visibility changes"
        sources = [doc.find_track(t, 0) for t in tracks]
        doc.apply(DeleteCuboids(tuple(doc.find_track(t, 1).uid for t in tracks)))
        if carry:
            doc.apply(edit_actions.copy_to_next_frame(doc, [a.uid for a in sources], 0, drive))
        else:
            T_1_0 = invert_T(drive.T_world_lidar(1)) @ drive.T_world_lidar(0)
            for a in sources:
                doc.apply(CreateCuboid(1, CuboidLabel(a.box.transformed(T_1_0), a.label.label, track_id=a.track_id)))
    finally:
        project.close()
    out = folder.parent / f"{folder.name}-export"
    with open_source(folder) as (drive, labels_for, _, _):
        export_drive(drive, "nuscenes", out, labels_for, quiet(sensor_data=False))
    table = out / "v1.0-mini"
    first, second = sorted(json.loads((table / "sample.json").read_text()), key=lambda r: r["timestamp"])[:2]
    return {f"{r['translation'][0]:.3f},{r['translation'][1]:.3f}": (r["visibility_token"], r["num_lidar_pts"])
            for r in json.loads((table / "sample_annotation.json").read_text()) if r["sample_token"] == second["token"]}


def test_a_copy_of_a_parked_car_gets_its_own_frames_visibility(nuscenes_drive, tmp_path):
    copied = frame_1_records(nuscenes_drive, tmp_path / "copied", carry=True)
    drawn = frame_1_records(nuscenes_drive, tmp_path / "drawn", carry=False)
    assert copied.keys() == drawn.keys()
    assert copied == drawn
