"""Per-track attributes (ontology ``scope: track``): declared in the ontology, set on the whole
track in one undo step, taken by cuboids that join or continue a track, shown as mixed where a
track's cuboids disagree, exported per box with the boxes of a track agreeing."""

from __future__ import annotations

import numpy as np
import pytest

from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.model import edit_actions as ea
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model.commands import CreateCuboid, SetAttributes
from fusionlabel.model.document import Document
from fusionlabel.model.drive import Drive, Frame
from fusionlabel.model.ontology import Ontology, OntologyError
from fusionlabel.model.rig import LidarSensor, Rig
from fusionlabel.model.source_class import project_label
from fusionlabel.model.track_attributes import mixed_values, track_values

ONTOLOGY = """
classes:
  car:
    color: [255, 0, 0]
    default_size: [4, 2, 1.5]
    attributes:
      parked: {type: bool}
      kind: {type: enum, choices: [sedan, taxi, police], scope: track}
      fleet: {type: text, scope: frame}
"""


def car(x: float, track: str | None = "29", source: str = "human", **attributes) -> CuboidLabel:
    return CuboidLabel(Cuboid((x, 0.0, 0.0), (4.5, 1.9, 1.6)), "car", track, None, source, attributes)


@pytest.fixture
def doc():
    """Track 29: a car in frames 0-4; track 30: a car in frames 0-1."""
    d = Document(6, Ontology.default())
    for f in range(5):
        d.apply(CreateCuboid(f, car(10.0 + f), uid=f"a{f}"))
    for f in range(2):
        d.apply(CreateCuboid(f, car(30.0 + f, "30"), uid=f"b{f}"))
    return d


def emergency(doc, track="29") -> dict[int, object]:
    return {f: doc.find_track(track, f).attributes.get("emergency") for f in doc.track_frames(track)}


# ------------------------------------------------------------------------------- ontology
def test_scope_is_read_written_and_checked():
    onto = Ontology.from_yaml(ONTOLOGY)
    spec = onto.get("car")
    assert spec.track_attributes() == ["kind"]
    assert [spec.attributes[n].scope for n in ("parked", "kind", "fleet")] == ["frame", "track", "frame"]
    again = Ontology.from_dict(onto.to_dict())
    assert again == onto and "scope" not in onto.to_dict()["classes"]["car"]["attributes"]["parked"]
    with pytest.raises(OntologyError, match=r"onto.yaml: classes\.car\.attributes\.kind\.scope: expected one of "
                                            r"frame, track, got 'object'"):
        Ontology.from_yaml(ONTOLOGY.replace("scope: track", "scope: object"), "onto.yaml")


def test_default_ontology_declares_emergency_per_track_and_states_per_frame():
    onto = Ontology.default()
    per_track = {c.name: c.track_attributes() for c in onto if c.track_attributes()}
    assert per_track == {"car": ["emergency"], "van": ["emergency"], "truck": ["emergency"]}
    assert not onto.get("car").attributes["parked"].per_track          # a parked car can drive off
    assert onto.get("car").default_attributes()["emergency"] is False


def test_imports_say_emergency_only_where_the_source_does():
    onto = Ontology.default()
    got = {name: project_label(onto, CuboidLabel(Cuboid((0, 0, 0), (4, 2, 1.5)), name)).attributes["emergency"]
           for name in ("vehicle.emergency.police", "vehicle.emergency.ambulance", "vehicle.car", "Car", "Van")}
    assert got == {"vehicle.emergency.police": True, "vehicle.emergency.ambulance": True, "vehicle.car": False,
                   "Car": None, "Van": None}


# ------------------------------------------------------------------------------- setting
def test_setting_a_per_track_attribute_sets_the_whole_track_in_one_step(doc):
    cmd = ea.set_attribute(doc, ["a2"], "emergency", True)
    assert cmd.description == "emergency = yes on track 29, 5 frames"
    n = len(doc.history())
    doc.apply(cmd)
    assert emergency(doc) == {f: True for f in range(5)} and emergency(doc, "30") == {0: False, 1: False}
    assert len(doc.history()) == n + 1
    doc.undo()
    assert emergency(doc) == {f: False for f in range(5)}


def test_a_per_frame_attribute_stays_on_its_cuboid(doc):
    doc.apply(ea.set_attribute(doc, ["a0"], "parked", True))
    assert [doc.find_track("29", f).attributes["parked"] for f in range(5)] == [True] + [False] * 4


def test_two_tracks_selected_and_nothing_to_change(doc):
    cmd = ea.set_attribute(doc, ["a0", "b1"], "emergency", True)
    assert cmd.description == "emergency = yes on 2 tracks, 7 boxes"
    doc.apply(cmd)
    assert ea.set_attribute(doc, ["a3"], "emergency", True) is None
    doc.apply(ea.toggle_attribute(doc, ["a0", "a1"], "emergency"))     # two boxes of one track: one flip
    assert emergency(doc) == {f: False for f in range(5)}


def test_mixed_track_is_found_and_setting_unifies_it(doc):
    doc.apply(SetAttributes("a1", {"emergency": True}))                 # an old project: per box
    doc.apply(SetAttributes("a3", {"emergency": None}))                 # no value: the class default
    mixed = mixed_values(doc, doc.get("a0"))
    assert mixed == {"emergency": {False: 4, True: 1}}
    assert mixed_values(doc, doc.get("b0")) == {}
    cmd = ea.set_attribute(doc, ["a0"], "emergency", True)              # a0 has it already: still the track
    assert cmd.description == "emergency = yes on track 29, 5 frames"
    doc.apply(cmd)
    assert emergency(doc) == {f: True for f in range(5)} and mixed_values(doc, doc.get("a0")) == {}


def test_locked_classes_let_per_track_attributes_change_like_other_attributes(doc):
    from fusionlabel.app.class_view import locked_changes

    seen = {}
    doc.apply(ea.set_attribute(doc, ["a0"], "emergency", True), guard=lambda changed: seen.update(changed))
    assert len(seen) == 5 and locked_changes(seen, {"car"}) == []     # a lock keeps the box and the class


# ------------------------------------------------------------------------------- continuing a track
def test_join_and_set_track_take_the_tracks_values(doc):
    doc.apply(ea.set_attribute(doc, ["a0"], "emergency", True))
    doc.apply(CreateCuboid(5, car(15.0, "31"), uid="c5"))
    doc.apply(ea.join_tracks(doc, "31", "29"))
    assert emergency(doc)[5] is True
    doc.undo()
    doc.apply(ea.set_track(doc, "c5", "29"))
    assert emergency(doc)[5] is True
    doc.undo()
    assert doc.get("c5").attributes["emergency"] is False


def test_a_retyped_join_takes_the_tracks_values():
    """A pedestrian box joined into an emergency van track becomes a van with emergency yes."""
    d = Document(3, Ontology.default())
    d.apply(CreateCuboid(0, CuboidLabel(Cuboid((0, 0, 0), (5, 2, 2)), "van", "1", attributes={"emergency": True})))
    d.apply(CreateCuboid(2, CuboidLabel(Cuboid((2, 0, 0), (1, 1, 2)), "pedestrian", "2"), uid="p"))
    d.apply(ea.join_tracks(d, "2", "1"))
    assert d.get("p").cls == "van" and d.get("p").attributes["emergency"] is True


def test_copies_propagation_and_interpolation_carry_the_tracks_values(doc):
    """C copies the box of the track, I fills from its keyframes: the track's value either way."""
    from fusionlabel.assist.edit_assist import interpolate

    doc.apply(ea.set_attribute(doc, ["a0"], "emergency", True))
    doc.apply(ea.copy_to_next_frame(doc, ["a4"], 4))
    assert emergency(doc)[5] is True
    rig = Rig("r", {"top": LidarSensor("top", np.eye(4))}, "top")
    drive = Drive("still", ".", rig, [Frame(f"{i}", lidar_path=None) for i in range(5)])
    d = Document(5, Ontology.default())
    d.apply(CreateCuboid(0, car(10.0, "7", emergency=True)))
    d.apply(CreateCuboid(4, car(14.0, "7", emergency=True)))
    d.apply(interpolate(d, drive, 0, [d.find_track("7", 0).uid]))
    assert emergency(d, "7") == {f: True for f in range(5)}


def test_prelabels_continuing_a_kept_track_take_its_values():
    """The detector knows no emergency; pre-labels continuing the annotator's ambulance track say
    yes, a new track keeps the class default."""
    from fusionlabel.assist.prelabel_project import prelabel_command

    d = Document(3, Ontology.default())
    box = lambda x: Cuboid((x, 0, 0), (4.8, 2, 1.9))                                   # noqa: E731
    d.apply(CreateCuboid(0, CuboidLabel(box(10.0), "van", "5", None, "human", {"emergency": True})))
    new = {f: [CuboidLabel(box(10.0 + 0.4 * f), "van", "p1", 0.8, "model"),
               CuboidLabel(box(40.0), "van", "p2", 0.8, "model")] for f in range(3)}
    cmd, _ = prelabel_command(d, new, "3 frames")
    d.apply(cmd)
    assert emergency(d, "5") == {0: True, 1: True, 2: True}
    others = [a for f in range(3) for a in d.annotations(f) if a.track_id != "5"]
    assert len(others) == 3 and {a.attributes["emergency"] for a in others} == {False}


def test_track_values_come_from_the_nearest_other_frame(doc):
    doc.apply(SetAttributes("a0", {"emergency": True}))
    assert track_values(doc, "29", 1, "car") == {"emergency": True}     # frames 0 and 2 tie: the earlier
    assert track_values(doc, "29", 3, "car") == {"emergency": False}
    assert track_values(doc, "none", 3, "car") == {} and track_values(doc, "29", 3, "pedestrian") == {}


# ------------------------------------------------------------------------------- export
def test_an_export_writes_the_value_on_every_box_of_the_track(small_sim_drive, tmp_path):
    """OpenLABEL still carries attributes per box (per frame); after one per-track set on one box,
    every box of the track says emergency yes."""
    import json

    from fusionlabel.export import ExportOptions, export_drive
    from fusionlabel.export.source import open_source
    from fusionlabel.store.project import Project

    with Project.create(tmp_path / "project", small_sim_drive.root, import_labels=True, progress=False) as project:
        doc = project.document
        car = next(a for a in doc.all_annotations() if a.cls == "car" and len(doc.track_frames(a.track_id)) > 1)
        doc.apply(ea.set_attribute(doc, [car.uid], "emergency", True))
        frames = doc.track_frames(car.track_id)
    with open_source(tmp_path / "project") as (drive, labels_for, _, _):
        export_drive(drive, "openlabel", tmp_path / "ol", labels_for, ExportOptions(progress=False))
    ol = json.loads((tmp_path / "ol" / "openlabel.json").read_text())["openlabel"]
    uid = next(u for u, o in ol["objects"].items() if o["name"] == car.track_id)
    said = {int(n): [a["val"] for a in f["objects"][uid]["object_data"]["cuboid"][0]["attributes"]["boolean"]
                     if a["name"] == "emergency"]
            for n, f in ol["frames"].items() if uid in f["objects"]}
    assert said == {f: [True] for f in frames}
