"""The occlusion level a KITTI line gets: an annotator's choice in the attribute panel wins; an
imported ``occluded`` is kept while its box is untouched and estimated afresh (the exporter, from
the LiDAR returns) or written unknown (prediction files, no sweep) once the box is edited.

Synthetic KITTI object folder: the camera looks along the Velodyne's +x (f = 700 px, 1242 x 375);
three cars 20 m ahead, every one labelled ``occluded 2`` (largely occluded) although the sweep holds
nothing but a grid of returns on each car's near face, so the LiDAR estimate is 0 (fully visible).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from test_kitti_truncation import P2, Tr_velo_cam, calib_text, write_sensors

from fusionlabel.assist.predictions import kitti_lines
from fusionlabel.cli.main import main
from fusionlabel.io.kitti import open_kitti_object, read_kitti_label_file
from fusionlabel.model.commands import SetBox
from fusionlabel.model.edit_actions import set_attribute
from fusionlabel.store.project import Project

CAR_X = (-6.0, 0.0, 6.0)        # camera x of the cars' centres (Velodyne y = -x)
T_RECT_VELO = np.r_[Tr_velo_cam, [[0.0, 0.0, 0.0, 1.0]]]


def line(x: float) -> str:
    return f"Car 0.00 2 -0.29 500.00 150.00 600.00 250.00 1.50 1.60 3.90 {x:.2f} 1.60 20.00 0.00"


def occluded_folder(root: Path) -> Path:
    """Frame 000000: the cars of :data:`CAR_X` (h 1.5, w 1.6, l 3.9 along camera x, bottom at camera
    y 1.6, centre 20 m ahead), all ``occluded 2``; 60 returns on each near face (Velodyne x 19.2)."""
    write_sensors(root / "velodyne", root / "image_2", ["000000"])
    ys, zs = np.meshgrid(np.linspace(-1.5, 1.5, 10), np.linspace(-1.45, -0.25, 6))
    faces = [np.c_[np.full(ys.size, 19.2), ys.ravel() - x, zs.ravel(), np.zeros(ys.size)] for x in CAR_X]
    np.concatenate(faces).astype(np.float32).tofile(root / "velodyne" / "000000.bin")
    (root / "calib").mkdir()
    (root / "calib" / "000000.txt").write_text(calib_text(raw_keys=False))
    (root / "label_2").mkdir()
    (root / "label_2" / "000000.txt").write_text("".join(line(x) + "\n" for x in CAR_X))
    return root


def moved(lab, dy: float = 0.3):
    return lab.box.with_(center=np.add(lab.box.center, (0.0, dy, 0.0)))


def test_project_export_keeps_the_annotators_occlusion_and_recomputes_a_stale_one(tmp_path):
    """Car 0 moved and set to ``partial`` in the panel: 1, the annotator's (it was the LiDAR's 0).
    Car 1 moved only: its imported ``mostly`` is stale, the LiDAR's 0 is written. Car 2 untouched
    but set to ``none``: 0 (it was the kept 2). A car drawn by hand and set to ``mostly``: 2."""
    folder = occluded_folder(tmp_path / "kitti")
    project = Project.create(tmp_path / "proj", folder, import_labels=True, progress=False)
    try:
        doc = project.document
        a, b, c = sorted(doc.annotations(0), key=lambda ann: -ann.box.center[1])     # camera x -6, 0, 6
        assert [ann.label.attributes["occlusion"] for ann in (a, b, c)] == ["mostly"] * 3
        doc.apply(SetBox(a.uid, moved(a.label)))
        doc.apply(set_attribute(doc, [a.uid], "occlusion", "partial"))
        doc.apply(SetBox(b.uid, moved(b.label)))
        doc.apply(set_attribute(doc, [c.uid], "occlusion", "none"))
    finally:
        project.close()
    assert main(["export", str(tmp_path / "proj"), "--format", "kitti", "--out", str(tmp_path / "out"),
                 "--labels-only", "--quiet"]) == 0
    written = read_kitti_label_file(tmp_path / "out" / "label_2" / "000000.txt")
    assert [round(d.location[0]) for d in written] == [-6, 0, 6]
    assert [d.occluded for d in written] == [1, 0, 0]


def test_prediction_lines_follow_the_exporters_occlusion_rule(tmp_path):
    """``kitti_lines`` (no sweep to estimate from): an untouched import keeps its 2; a moved one
    writes 3, unknown, not the stale 2; the annotator's choice wins, moved or not."""
    labels = open_kitti_object(occluded_folder(tmp_path / "kitti")).labels(0)
    carried = [lab.with_(attributes={**lab.attributes, "occlusion": "mostly"}) for lab in labels]
    untouched, edited = carried[0], carried[1].with_(box=moved(carried[1]))
    chose = carried[2].with_(box=moved(carried[2]), attributes={**carried[2].attributes, "occlusion": "partial"})
    chose_untouched = carried[0].with_(attributes={**carried[0].attributes, "occlusion": "none"})
    rows = kitti_lines([untouched, edited, chose, chose_untouched, labels[1]], T_RECT_VELO,
                       (P2 @ T_RECT_VELO, (1242, 375)), with_score=False).splitlines()
    assert [int(r.split()[2]) for r in rows] == [2, 3, 1, 0, 2]


def test_unknown_imported_and_drawn_boxes_take_the_panels_occlusion(tmp_path):
    """An import whose source gave no occlusion (KITTI's 3) stores it unknown; ``partial`` chosen
    in the panel is the annotator's: 1 (it was the kept 3). Boxes drawn by hand get ``none``, the
    class default, at creation: left so, it is no choice and the LiDAR's 0 is written; ``mostly``
    set in the panel is written as 2."""
    from fusionlabel.model.edit_actions import create_at

    folder = occluded_folder(tmp_path / "kitti")
    (folder / "label_2" / "000000.txt").write_text(line(0.0).replace(" 2 ", " 3 ", 1) + "\n")
    project = Project.create(tmp_path / "proj", folder, import_labels=True, progress=False)
    try:
        doc = project.document
        (imported,) = doc.annotations(0)
        assert imported.label.attributes["occlusion"] is None
        doc.apply(set_attribute(doc, [imported.uid], "occlusion", "partial"))
        for x in (-6.0, 6.0):
            doc.apply(create_at(doc, 0, (20.0, -x), "car", z_bottom=-1.6))
        drawn = [ann for ann in doc.annotations(0) if ann.source != "import"]
        assert [ann.attributes["occlusion"] for ann in drawn] == ["none", "none"]
        doc.apply(set_attribute(doc, [max(drawn, key=lambda ann: -ann.box.center[1]).uid], "occlusion", "mostly"))
    finally:
        project.close()
    assert main(["export", str(tmp_path / "proj"), "--format", "kitti", "--out", str(tmp_path / "out"),
                 "--labels-only", "--quiet"]) == 0
    written = sorted(read_kitti_label_file(tmp_path / "out" / "label_2" / "000000.txt"), key=lambda d: d.location[0])
    assert [round(d.location[0]) for d in written] == [-6, 0, 6]
    assert [d.occluded for d in written] == [0, 1, 2]


def old_project(folder: Path, out: Path, monkeypatch) -> Project:
    """A project on ``folder`` made as imports made it before they carried the source's occlusion:
    every imported cuboid holds the class default ``none``."""
    from fusionlabel.model import source_class

    with monkeypatch.context() as m:
        m.setattr(source_class, "STATES", tuple(s for s in source_class.STATES if s != "occlusion"))
        project = Project.create(out, folder, import_labels=True, progress=False)
    assert {ann.attributes["occlusion"] for ann in project.document.annotations(0)} == {"none"}
    return project


def exported_levels(project_folder: Path, out: Path) -> list[int]:
    """The occluded levels of the KITTI export of frame 0, by camera x."""
    assert main(["export", str(project_folder), "--format", "kitti", "--out", str(out), "--labels-only", "--quiet"]) == 0
    return [d.occluded for d in sorted(read_kitti_label_file(out / "label_2" / "000000.txt"), key=lambda d: d.location[0])]


def test_an_old_projects_untouched_imports_export_the_sources_occlusion(tmp_path, monkeypatch):
    """In a project imported before imports carried the occlusion, ``none`` is no one's choice: the
    untouched cars export their source's 2, not 0. Car 0's ``partial`` set in the panel is the
    annotator's (1); car 2's, set and undone, is not (2 again)."""
    project = old_project(occluded_folder(tmp_path / "kitti"), tmp_path / "proj", monkeypatch)
    try:
        doc = project.document
        a, b, c = sorted(doc.annotations(0), key=lambda ann: -ann.box.center[1])     # camera x -6, 0, 6
        doc.apply(set_attribute(doc, [a.uid], "occlusion", "partial"))
        doc.apply(set_attribute(doc, [c.uid], "occlusion", "partial"))
        doc.undo()
    finally:
        project.close()
    assert exported_levels(tmp_path / "proj", tmp_path / "out") == [1, 2, 2]


def test_an_old_projects_none_chosen_in_the_panel_is_the_annotators(tmp_path, monkeypatch):
    """Car 1 set to ``mostly`` and then back to ``none`` in the panel (two steps): the annotator
    chose ``none``, written 0 although the source says 2; the other cars keep the source's 2."""
    project = old_project(occluded_folder(tmp_path / "kitti"), tmp_path / "proj", monkeypatch)
    try:
        doc = project.document
        _, b, _ = sorted(doc.annotations(0), key=lambda ann: -ann.box.center[1])
        doc.apply(set_attribute(doc, [b.uid], "occlusion", "mostly"))
        doc.apply(set_attribute(doc, [b.uid], "occlusion", "none"))
    finally:
        project.close()
    assert exported_levels(tmp_path / "proj", tmp_path / "out") == [2, 0, 2]
