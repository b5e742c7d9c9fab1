"""Commands: each one applied, undone, redone and replayed from its JSON form; validation errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.geometry.transforms import T_from_Rt, rotation_z
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model.commands import (COMMANDS, AcceptPrelabel, Batch, CommandError, CopyToFrame, CreateCuboid,
                                        DeleteCuboids, DeleteTrackFrom, SetAttributes, SetBox, SetClass,
                                        SetAbsent, SetFrameStatus, SetTrack, command_from_dict, command_from_json)
from fusionlabel.model.document import Document
from fusionlabel.model.ontology import Ontology


def box(x=0.0, y=0.0, yaw=0.0, size=(4.0, 2.0, 1.5)):
    return Cuboid((x, y, -1.0), size, yaw)


def snapshot(doc: Document):
    """Everything the document holds, comparable with ==."""
    st = doc.state
    return ({u: (a, st.seq[u]) for u, a in st.anns.items()}, dict(st.status),
            {f: [a.uid for a in doc.annotations(f)] for f in range(doc.n_frames)},
            {t: sorted(fs) for t, fs in st.absent.items()})


@pytest.fixture
def doc():
    """6 frames: track 1 (car) in frames 0 and 1, a pedestrian in 0, a model pre-label in 2."""
    d = Document(6, Ontology.default())
    d.apply(CreateCuboid(0, CuboidLabel(box(10, 0), "car"), uid="car0"))
    d.apply(CreateCuboid(0, CuboidLabel(box(5, 5, size=(0.8, 0.7, 1.75)), "pedestrian"), uid="ped0"))
    d.apply(CreateCuboid(1, CuboidLabel(box(11, 0), "car", track_id="1"), uid="car1"))
    d.apply(CreateCuboid(2, CuboidLabel(box(-8, 3), "van", score=0.7, source="model"), uid="pre2"))
    d.apply(CreateCuboid(3, CuboidLabel(box(12, 0), "car", track_id="1"), uid="car3"))
    return d


# Each case: a factory for the command and a check of its effect on the document.
def _check_create(d):
    a = d.get("new")
    assert a.frame == 4 and a.cls == "truck" and a.track_id == "4"   # next free track id
    assert a.attributes["parked"] is False and a.attributes["occlusion"] == "none"   # class defaults
    assert [x.uid for x in d.annotations(4)] == ["new"]


def _check_delete(d):
    assert "ped0" not in d and "pre2" not in d and [a.uid for a in d.annotations(0)] == ["car0"]


def _check_copy(d):
    tracks = sorted(a.track_id for a in d.annotations(2))
    assert tracks == ["1", "2", "3"]           # pre-label track 3 was already there; car 1 and pedestrian 2 copied
    assert d.find_track("1", 2).box == d.get("car0").box


def _check_set_box(d):
    assert d.get("car0").box == box(9, 1, 0.3)


def _check_set_class(d):
    assert d.get("car0").cls == "bus" and d.get("car0").box == box(10, 0)


def _check_set_attributes(d):
    assert d.get("car0").attributes == {"parked": True, "note": "blue", "emergency": False}


def _check_set_track(d):
    assert d.find_track("77", 0).uid == "ped0" and d.track_frames("2") == []
    assert int(d.new_track_id()) >= 78          # the counter moved past the id taken by hand


def _check_delete_track_from(d):
    assert d.track_frames("1") == [0]


def _check_accept(d):
    pre = d.get("pre2")
    assert pre.source == "human" and pre.score is None and pre.attributes["prelabel_score"] == 0.7
    assert d.get("car0").source == "human"      # a human label is left alone


def _check_status(d):
    assert d.frame_status(2) == "done" and d.frame_statuses()[:3] == ["new", "new", "done"]


def _check_absent(d):
    assert d.absent_frames("1") == [2] and d.is_absent("1", 2) and not d.is_absent("1", 1)
    assert d.find_track("1", 1) is not None          # a mark alone deletes nothing


def _check_batch(d):
    assert d.get("b1").box == box(3, 3) and d.get("b1").cls == "van" and "car3" not in d


CASES = {
    "create": (lambda d: CreateCuboid(4, CuboidLabel(box(1, 2), "truck"), uid="new"), _check_create),
    "delete": (lambda d: DeleteCuboids(("ped0", "pre2")), _check_delete),
    "set_box": (lambda d: SetBox("car0", box(9, 1, 0.3), "Move"), _check_set_box),
    "set_class": (lambda d: SetClass("car0", "bus"), _check_set_class),
    "set_attributes": (lambda d: SetAttributes("car0", {"parked": True, "note": "blue", "occlusion": None}),
                       _check_set_attributes),
    "set_track": (lambda d: SetTrack("ped0", "77"), _check_set_track),
    "copy_to_frame": (lambda d: CopyToFrame(("car0", "ped0", "pre2"), 2), _check_copy),
    "delete_track_from": (lambda d: DeleteTrackFrom("1", 1), _check_delete_track_from),
    "accept_prelabel": (lambda d: AcceptPrelabel(("pre2", "car0")), _check_accept),
    "set_frame_status": (lambda d: SetFrameStatus(2, "done"), _check_status),
    "set_absent": (lambda d: SetAbsent("1", 2), _check_absent),
    "batch": (lambda d: Batch((CreateCuboid(5, CuboidLabel(box(), "car"), uid="b1"), SetBox("b1", box(3, 3)),
                               SetClass("b1", "van"), DeleteCuboids(("car3",))), "Several"), _check_batch),
}


def test_every_command_type_has_a_case():
    assert set(CASES) == set(COMMANDS)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_apply_undo_redo(doc, kind):
    make, check = CASES[kind]
    before = snapshot(doc)
    bound = doc.apply(make(doc))
    assert bound is not None and bound.is_bound and not bound.is_noop
    assert bound.kind == kind and doc.undo_text() == bound.description
    check(doc)
    after = snapshot(doc)
    assert after != before
    assert doc.undo() is bound
    assert snapshot(doc) == before
    assert doc.redo() is bound
    assert snapshot(doc) == after
    check(doc)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_json_round_trip_and_replay(doc, kind):
    make, _ = CASES[kind]
    cmd = make(doc)
    again = command_from_dict(json.loads(json.dumps(cmd.to_dict())))
    assert again == cmd and type(again) is type(cmd)
    bound = doc.apply(cmd)
    text = bound.to_json()
    replayed = command_from_json(text)
    assert replayed == bound and replayed.description == bound.description
    after = snapshot(doc)
    doc.undo()
    replayed.do(doc.state)        # the logged command alone reproduces the edit exactly
    assert snapshot(doc) == after
    replayed.undo(doc.state)
    replayed.do(doc.state)
    assert snapshot(doc) == after


def test_bound_command_keeps_what_undo_needs(doc):
    bound = doc.apply(SetBox("car0", box(0, 0)))
    assert bound.before == box(10, 0)
    d = doc.apply(DeleteCuboids(("ped0",)))
    assert [(a.uid, seq) for a, seq in d.before] == [("ped0", 1)]
    c = doc.apply(CreateCuboid(0, CuboidLabel(box(), "car")))
    assert len(c.uid) == 32 and int(c.uid, 16) >= 0 and c.seq == 5


def test_undo_of_delete_restores_creation_order(doc):
    order = [a.uid for a in doc.annotations(0)]
    doc.apply(DeleteCuboids(("car0",)))
    doc.apply(CreateCuboid(0, CuboidLabel(box(), "car"), uid="later"))
    doc.undo()
    doc.undo()
    assert [a.uid for a in doc.annotations(0)] == order


def test_copy_skips_tracks_already_in_target(doc):
    bound = doc.apply(CopyToFrame(("car0",), 1))
    assert bound is None                      # track 1 is already in frame 1: nothing to do, nothing recorded
    assert doc.undo_text().startswith("Create")
    bound = doc.apply(CopyToFrame(("car0", "car1"), 4))   # same track twice: one copy
    assert len(bound.created) == 1 and doc.find_track("1", 4).box == doc.get("car0").box


def test_copy_with_ego_motion_transform(doc):
    T = T_from_Rt(rotation_z(math.pi / 2), [1.0, 2.0, 0.0])
    bound = doc.apply(CopyToFrame(("car0",), 5, tuple(T.reshape(-1))))
    copy = doc.find_track("1", 5)
    assert copy.uid == bound.created[0][0].uid
    expected = (T[:3, :3] @ doc.get("car0").box.corners().T).T + T[:3, 3]
    np.testing.assert_allclose(copy.box.corners(), expected, atol=1e-12)
    assert math.isclose(copy.box.yaw, math.pi / 2)
    with pytest.raises(ValueError, match="16 finite numbers"):
        CopyToFrame(("car0",), 5, (1.0, 2.0))


def test_batch_binds_in_sequence_and_is_one_step(doc):
    n = len(doc.history())
    cmd = Batch(tuple(CreateCuboid(5, CuboidLabel(box(i, 0), "car")) for i in range(3)), "Three cars")
    bound = doc.apply(cmd)
    assert len(doc.history()) == n + 1 and doc.undo_text() == "Three cars"
    tracks = [c.label.track_id for c in bound.commands]
    assert tracks == ["4", "5", "6"] and [c.seq for c in bound.commands] == [5, 6, 7]
    doc.undo()
    assert doc.annotations(5) == []


def test_batch_failure_leaves_state_untouched(doc):
    before = snapshot(doc)
    with pytest.raises(CommandError, match="no annotation with uid nope"):
        doc.apply(Batch((SetBox("car0", box(1, 1)), DeleteCuboids(("nope",))), "Bad"))
    assert snapshot(doc) == before and doc.undo_text().startswith("Create")


def test_noop_commands_are_not_recorded(doc):
    n = len(doc.history())
    assert doc.apply(SetBox("car0", doc.get("car0").box)) is None
    assert doc.apply(SetClass("car0", "car")) is None
    assert doc.apply(SetFrameStatus(0, "new")) is None
    assert doc.apply(SetAttributes("car0", {"parked": False})) is None
    assert doc.apply(AcceptPrelabel(("car0",))) is None
    assert doc.apply(DeleteTrackFrom("1", 4)) is None
    assert doc.apply(Batch((SetClass("car0", "car"),), "x")) is None
    assert len(doc.history()) == n


@pytest.mark.parametrize("cmd, message", [
    (CreateCuboid(6, CuboidLabel(box(), "car")), "frame 6 is out of range: the drive has 6 frames"),
    (CreateCuboid(-1, CuboidLabel(box(), "car")), "frame -1 is out of range"),
    (CreateCuboid(0, CuboidLabel(box(), "spaceship")), "unknown class 'spaceship'"),
    (CreateCuboid(0, CuboidLabel(box(), "car", source="guess")), "source must be one of"),
    (CreateCuboid(0, CuboidLabel(box(), "car", track_id="1")), "track 1 already has a cuboid in frame 0"),
    (CreateCuboid(0, CuboidLabel(box(), "car"), uid="car0"), "uid car0 already exists"),
    (CreateCuboid(0, CuboidLabel(box(), "car", score=float("nan"))), "score must be finite"),
    (SetBox("nope", box()), "no annotation with uid nope"),
    (SetClass("car0", "boat"), "unknown class 'boat'"),
    (SetTrack("ped0", "1"), "track 1 already has a cuboid in frame 0"),
    (SetAttributes("car0", {"occlusion": "total"}), "car: attribute 'occlusion' expects one of"),
    (SetAttributes("car0", {"parked": "yes"}), "attribute 'parked' expects true or false"),
    (SetFrameStatus(0, "finished"), "frame status must be one of new, in_progress, done, reviewed"),
    (CopyToFrame(("car0",), 9), "frame 9 is out of range"),
    (DeleteCuboids(("car0", "ghost")), "no annotation with uid ghost"),
])
def test_invalid_commands_raise_and_change_nothing(doc, cmd, message):
    before = snapshot(doc)
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        doc.apply(cmd)
    assert snapshot(doc) == before


def test_attributes_are_stored_json_normal(doc):
    bound = doc.apply(SetAttributes("car0", {"bbox": (1, 2, 3, 4), "n": np.int64(3), "x": np.float32(0.5)}))
    attrs = doc.get("car0").attributes
    assert attrs["bbox"] == [1, 2, 3, 4] and type(attrs["n"]) is int and attrs["x"] == 0.5
    assert command_from_json(bound.to_json()) == bound
    with pytest.raises(TypeError, match="cannot be stored"):
        doc.apply(SetAttributes("car0", {"bad": object()}))


def test_malformed_serialised_commands():
    with pytest.raises(CommandError, match="unknown command 'explode'"):
        command_from_dict({"type": "explode"})
    with pytest.raises(CommandError, match="malformed set_box command"):
        command_from_dict({"type": "set_box", "uid": "a", "box": {"center": [0, 0]}})


def test_unbound_command_cannot_be_done_directly(doc):
    with pytest.raises(CommandError, match="bind the command"):
        SetBox("car0", box()).do(doc.state)


def test_edits_of_separate_cuboids_bind_without_being_tried_one_by_one(doc, monkeypatch):
    """A batch of box, class and attribute edits, each on a cuboid of its own (a whole track's
    attribute), is bound on the document as it is: nothing is done and taken back per cuboid, and
    the result is what binding each alone gives (no-ops left out). Two edits of one cuboid still
    bind one after the other."""
    from fusionlabel.model.document import DocState

    edits = (SetAttributes("car0", {"parked": True}), SetAttributes("car1", {"parked": True}),
             SetClass("ped0", "cyclist"), SetBox("pre2", doc.get("pre2").box))           # the last: no change
    alone = [e.bind(doc.state) for e in edits]
    writes = []
    original = DocState.replace
    monkeypatch.setattr(DocState, "replace", lambda self, ann: writes.append(ann.uid) or original(self, ann))
    bound = Batch(edits, "Set parked").bind(doc.state)
    assert writes == [] and bound.commands == tuple(alone[:3])
    doc.apply(Batch(edits, "Set parked"))
    assert doc.get("car1").attributes["parked"] is True and doc.get("ped0").cls == "cyclist"
    first, second = box(12, 0), box(13, 0)
    twice = Batch((SetBox("car0", first), SetBox("car0", second)), "Move").bind(doc.state)
    assert [c.before for c in twice.commands] == [box(10, 0), first]
