"""Importing a drive's own labels more than once (Ctrl+I again): nothing comes in twice, the
annotator's edits and deletions stand, a box already in the project keeps its place, and one undo
removes exactly what one import brought."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.io.drives import open_drive
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model.commands import Batch, CreateCuboid, DeleteCuboids, SetBox, SetClass, SetTrack
from fusionlabel.model.drive import Drive
from fusionlabel.model.source_class import project_label
from fusionlabel.store import Project
from fusionlabel.store.fake_drive import make_fake_drive
from fusionlabel.store.label_import import SOURCE_TRACK, import_drive_labels, overlaps

N_FRAMES = 6          # the fake KITTI drive: a car and a pedestrian per frame, and a DontCare region
N_LABELS = 2 * N_FRAMES


@pytest.fixture
def drive(tmp_path):
    return make_fake_drive(tmp_path / "drive", N_FRAMES, labels=True)


def snapshot(doc) -> dict:
    return {a.uid: (a.frame, a.label) for a in doc.all_annotations()}


def along(box: Cuboid, metres: float) -> Cuboid:
    """``box`` moved along its own heading."""
    x, y, z = box.center
    return box.with_(center=(x + metres * math.cos(box.yaw), y + metres * math.sin(box.yaw), z))


def test_importing_twice_adds_nothing_and_says_so(tmp_path, drive):
    with Project.create(tmp_path / "proj", drive, import_labels=True) as p:
        doc = p.document
        before, history = snapshot(doc), doc.history()
        report = p.import_drive_labels()
        assert report.command is None and report.created == 0 and report.already == N_LABELS
        assert report.summary() == f"imported 0 new labels from the drive; {N_LABELS} already in the project"
        assert report.problems() == []
        assert snapshot(doc) == before and doc.history() == history          # no empty step either
    with Project.open(tmp_path / "proj") as p:          # the record is the command log: it survives reopening
        assert p.import_drive_labels().already == N_LABELS and len(p.document) == N_LABELS


def test_edited_and_deleted_imports_are_neither_duplicated_nor_brought_back(tmp_path, drive):
    with Project.create(tmp_path / "proj", drive, import_labels=True) as p:
        doc = p.document
        car, ped = doc.annotations(0)
        doc.apply(SetBox(car.uid, along(car.box, 2.0)))
        doc.apply(SetClass(ped.uid, "cyclist"))
        doc.apply(SetTrack(doc.annotations(1)[0].uid, "99"))
        gone = doc.annotations(3)[1]
        doc.apply(DeleteCuboids((gone.uid,)))
        before = snapshot(doc)
        report = p.import_drive_labels()
        assert (report.created, report.already, report.deleted, report.overlapping) == (0, N_LABELS - 1, 1, 0)
        assert snapshot(doc) == before
        assert report.summary() == (f"imported 0 new labels from the drive; {N_LABELS - 1} already in the project; "
                                    "1 label imported before and deleted since, not brought back")


def test_an_undone_import_is_forgotten_and_one_undo_removes_one_import(tmp_path, drive):
    with Project.create(tmp_path / "proj", drive) as p:
        doc = p.document
        first = p.import_drive_labels(frames=[0, 1])
        assert first.created == 4 and first.summary() == "imported 4 labels from the drive"
        after_first = snapshot(doc)
        second = p.import_drive_labels()
        assert (second.created, second.already) == (N_LABELS - 4, 4)
        assert second.summary() == f"imported {N_LABELS - 4} new labels from the drive; 4 already in the project"
        assert doc.history()[-1] == f"Import {N_LABELS - 4} labels from the drive"
        doc.undo()                                      # removes exactly what the second import brought
        assert snapshot(doc) == after_first
        doc.undo()
        assert len(doc) == 0
        third = p.import_drive_labels()                 # undone imports do not count: all come back
        assert (third.created, third.already, third.deleted) == (N_LABELS, 0, 0)


def test_a_label_on_a_box_already_in_its_frame_is_left_out(tmp_path, drive):
    """A box the annotator drew on an object wins over the drive's label of it; a box beside it
    does not stop the import. Deleting the box and importing again brings the label in."""
    source = open_drive(drive)
    car0, car1 = source.labels(0)[0], source.labels(1)[0]
    assert car0.label == "Car" and car0.box.length == pytest.approx(4.2)
    with Project.create(tmp_path / "proj", drive) as p:
        doc = p.document
        # 1 m along a 4.2 m car: 3.2 m of its length in common, 76 % of the footprint
        mine = doc.apply(CreateCuboid(0, CuboidLabel(along(car0.box, 1.0), "car")))
        # 3.5 m along: 0.7 m in common, 17 %, another object
        beside = doc.apply(CreateCuboid(1, CuboidLabel(along(car1.box, 3.5), "car")))
        report = p.import_drive_labels()
        assert (report.created, report.overlapping) == (N_LABELS - 1, 1)
        assert report.summary() == (f"imported {N_LABELS - 1} labels from the drive; "
                                    "1 label left out for overlapping a box already in the project")
        assert [a.uid for a in doc.annotations(0)][0] == mine.uid and doc.get(mine.uid).label == mine.label
        assert [a.cls for a in doc.annotations(0)] == ["car", "pedestrian"]
        assert [a.uid for a in doc.annotations(1)][0] == beside.uid and len(doc.annotations(1)) == 3
        doc.apply(DeleteCuboids((mine.uid,)))
        again = p.import_drive_labels()
        assert (again.created, again.already, again.overlapping) == (1, N_LABELS - 1, 0)
        assert doc.annotations(0)[-1].box == car0.box and doc.annotations(0)[-1].source == "import"


def test_overlap_is_a_share_of_the_smaller_footprint():
    car = Cuboid((10.0, 0.0, -1.0), (4.0, 2.0, 1.5), 0.3)
    assert overlaps(car, along(car, 2.7))                 # 1.3 of 4 m: 32.5 %
    assert not overlaps(car, along(car, 2.9))             # 1.1 of 4 m: 27.5 %
    person = Cuboid((10.0, 0.0, -1.0), (0.6, 0.6, 1.8), 0.3)
    assert overlaps(car, person) and overlaps(person, car)   # wholly inside the car: the smaller one counts
    assert not overlaps(car, Cuboid((20.0, 0.0, -1.0), (4.0, 2.0, 1.5), 0.3))


def relabelled(drive: Drive, labels_of) -> Drive:
    """``drive`` with the labels ``labels_of(i)`` (as if its label files had been corrected)."""
    frames = [replace(f, labels_source=lambda i=i: labels_of(i)) for i, f in enumerate(drive.frames)]
    return Drive(drive.name, drive.root, None, frames)


def test_a_label_is_known_by_its_token_or_track_wherever_the_drive_moves_it(tmp_path, drive):
    """Label files corrected after the import (every box 0.5 m further): a label with a nuScenes
    token or a track is still the one imported, even when its track was taken in the project; one
    with neither is a new label, left out since it overlaps its earlier import."""
    base = open_drive(drive)

    def labels(i: int, shift: float) -> list[CuboidLabel]:
        car, ped = base.labels(i)[:2]
        # (the stale source_track is what another project's export would carry: not this drive's)
        ped = ped.with_(attributes={**ped.attributes, "nuscenes_token": f"token-{i}", SOURCE_TRACK: "7"})
        plain = car.with_(box=car.box.with_(center=(car.box.center[0], car.box.center[1] + 6.0, car.box.center[2])))
        return [lab.with_(box=along(lab.box, shift)) for lab in (car.with_(track_id="7"), ped, plain)]

    with Project.create(tmp_path / "proj", drive) as p:
        doc = p.document
        theirs = doc.apply(CreateCuboid(0, CuboidLabel(Cuboid((-20.0, 10.0, -1.0), (4.0, 2.0, 1.5)), "car", "7")))
        first = import_drive_labels(doc, relabelled(base, lambda i: labels(i, 0.0)), p.ontology)
        assert first.created == 3 * N_FRAMES
        renamed = doc.annotations(0)[1]                 # track 7 was the annotator's: another track, noted
        assert renamed.track_id != "7" and renamed.attributes[SOURCE_TRACK] == "7"
        assert doc.find_track("7", 1).attributes.get(SOURCE_TRACK) is None
        assert all(SOURCE_TRACK not in a.attributes for a in doc.all_annotations() if a.cls == "pedestrian")
        before = snapshot(doc)
        second = import_drive_labels(doc, relabelled(base, lambda i: labels(i, 0.5)), p.ontology)
        assert (second.created, second.already, second.overlapping) == (0, 2 * N_FRAMES, N_FRAMES)
        assert snapshot(doc) == before and doc.get(theirs.uid).label == theirs.label


def test_a_project_imported_by_an_older_fusionlabel_is_not_imported_twice(tmp_path, drive):
    """Older versions wrote the same import command, but gave a taken track a new id without
    noting the source's: such labels are known by their box."""
    source = open_drive(drive)
    with Project.create(tmp_path / "proj", drive) as p:
        doc = p.document
        doc.apply(CreateCuboid(0, CuboidLabel(Cuboid((-20.0, 10.0, -1.0), (4.0, 2.0, 1.5)), "car", "3")))
        old = [CreateCuboid(i, project_label(p.ontology, lab).with_(track_id="3" if i else None))
               for i in range(N_FRAMES) for lab in source.labels(i)[:1]]
        old += [CreateCuboid(i, project_label(p.ontology, lab)) for i in range(N_FRAMES) for lab in source.labels(i)[1:2]]
        doc.apply(Batch(tuple(old), f"Import {N_LABELS} labels from the drive"))
        before = snapshot(doc)
        report = p.import_drive_labels()
        assert (report.created, report.already, report.overlapping) == (0, N_LABELS, 0)
        assert snapshot(doc) == before


@pytest.mark.parametrize("name", ["kitti_object/training", "nuscenes_mini", "sustech_sequence"])
def test_real_drives_import_once(realdata, tmp_path, name):
    """KITTI object (no tracks), nuScenes (tokens), SUSTech (tracks): the second import adds nothing,
    and a deleted label stays deleted."""
    root = realdata / name
    if not root.is_dir():
        pytest.skip(f"{root} not found")
    with Project.create(tmp_path / "proj", root) as p:
        first = p.import_drive_labels(progress=False)
        assert first.created > 5 and not first.errors
        doc = p.document
        gone = next(iter(doc.all_annotations()))
        doc.apply(DeleteCuboids((gone.uid,)))
        before = snapshot(doc)
        again = p.import_drive_labels(progress=False)
        assert (again.created, again.already, again.deleted, again.overlapping) == (0, first.created - 1, 1, 0)
        assert again.skipped_classes == first.skipped_classes and snapshot(doc) == before


def test_a_drive_mixing_tracked_and_untracked_labels_keeps_them_apart(tmp_path, drive):
    """An untracked label listed before a tracked one whose id is the project's next free id: the
    untracked one gets an id no label of the drive has (not "1", taken by the source's track), so
    the import neither fails nor joins it to that track."""
    base = open_drive(drive)

    def labels(i: int) -> list[CuboidLabel]:
        car, ped = base.labels(i)[:2]
        return [car.with_(track_id=None), ped.with_(track_id="1")]

    with Project.create(tmp_path / "proj", drive) as p:
        doc = p.document
        report = import_drive_labels(doc, relabelled(base, labels), p.ontology)
        assert report.created == 2 * N_FRAMES
        assert all(doc.find_track("1", i).cls == "pedestrian" for i in range(N_FRAMES))
        cars = {a.track_id for a in doc.all_annotations() if a.cls == "car"}
        assert len(cars) == N_FRAMES and "1" not in cars
        assert import_drive_labels(doc, relabelled(base, labels), p.ontology).already == 2 * N_FRAMES
