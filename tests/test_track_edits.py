"""Setting, joining and splitting tracks (fusionlabel.model.edit_actions): each one undo step, a
track never gets two cuboids in one frame, a joined box takes the track's class."""

from __future__ import annotations

import pytest

from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.model import edit_actions as ea
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model.commands import CreateCuboid
from fusionlabel.model.document import CommandError, Document, annotations_equal
from fusionlabel.model.ontology import Ontology


@pytest.fixture
def doc():
    return Document(8, Ontology.default())


def add(doc, frame, track=None, cls="car", x=0.0):
    return doc.apply(CreateCuboid(frame, CuboidLabel(Cuboid((x + frame, 0, 0), (4, 2, 1.5)), cls, track)))


def one_step(doc, cmd):
    """Apply ``cmd``; check it is one undo step that undo reverts exactly; redo it."""
    before, n = doc.all_annotations(), len(doc.history())
    bound = doc.apply(cmd)
    assert bound is not None and len(doc.history()) == n + 1
    after = doc.all_annotations()
    doc.undo()
    assert annotations_equal(doc.all_annotations(), before)
    doc.redo()
    assert annotations_equal(doc.all_annotations(), after)
    return bound


def tracks(doc) -> dict[str, list[int]]:
    return {t: doc.track_frames(t) for t in doc.track_ids()}


def test_join_merges_a_whole_track_and_keeps_the_targets_class(doc):
    a = [add(doc, f, "1") for f in (0, 1)]
    b = [add(doc, f, "2", "van") for f in (3, 4, 6)]
    bound = one_step(doc, ea.join_tracks(doc, "2", "1"))
    assert tracks(doc) == {"1": [0, 1, 3, 4, 6]}
    assert all(doc.get(x.uid).cls == "car" for x in b)             # the target's class wins
    assert "class car" in bound.description and bound.description.startswith("Join track 2 into track 1")
    assert doc.get(b[0].uid).box == b[0].label.box                  # boxes untouched
    assert doc.get(a[0].uid).label == a[0].label
    assert ea.join_tracks(doc, "1", "1") is None


def test_join_takes_the_class_of_the_nearest_box_of_a_mixed_track(doc):
    add(doc, 0, "1", "pedestrian")
    add(doc, 5, "1", "cyclist")
    early, late = add(doc, 2, "2", "car"), add(doc, 4, "2", "car")
    doc.apply(ea.join_tracks(doc, "2", "1"))
    assert doc.get(early.uid).cls == "pedestrian" and doc.get(late.uid).cls == "cyclist"


def test_join_is_refused_when_both_tracks_have_a_box_in_one_frame(doc):
    for f in (0, 1, 2):
        add(doc, f, "1")
    for f in (2, 3):
        add(doc, f, "2")
    before = doc.all_annotations()
    with pytest.raises(CommandError, match=r"both have a cuboid in frame F2 \(delete one"):
        ea.join_tracks(doc, "2", "1", frame_name=lambda i: f"F{i}")
    assert annotations_equal(doc.all_annotations(), before) and tracks(doc) == {"1": [0, 1, 2], "2": [2, 3]}
    with pytest.raises(CommandError, match="no cuboids"):
        ea.join_tracks(doc, "7", "1")


def test_split_gives_this_and_later_boxes_a_new_track(doc):
    boxes = [add(doc, f, "5") for f in range(5)]
    add(doc, 0)                                                     # track 6: ids in use are skipped
    bound = one_step(doc, ea.split_tracks(doc, [boxes[2].uid], frame_name=lambda i: f"{i:06d}"))
    assert tracks(doc) == {"5": [0, 1], "6": [0], "7": [2, 3, 4]}
    assert bound.description == "Split: track 5 from frame 000002 on is track 7"
    with pytest.raises(CommandError, match="starts in frame 0"):
        ea.split_tracks(doc, [boxes[0].uid])
    # The new id is never reused, even after the split is undone and another track is made.
    doc.undo()
    made = add(doc, 7)
    assert made.label.track_id not in ("5", "6")
    again = doc.apply(ea.split_tracks(doc, [boxes[3].uid]))
    assert doc.get(boxes[3].uid).track_id not in ("5", "6", made.label.track_id) and again is not None


def test_set_track_moves_one_box_and_never_makes_two_in_a_frame(doc):
    a0, a1 = add(doc, 0, "1"), add(doc, 1, "1")
    b1, b3 = add(doc, 1, "2", "truck"), add(doc, 3, "2", "truck")
    with pytest.raises(CommandError, match=r"track 1 already has a cuboid in frame 1 \(car\)"):
        ea.set_track(doc, b1.uid, "1")
    bound = one_step(doc, ea.set_track(doc, b3.uid, " 1 "))          # typed with spaces
    assert doc.get(b3.uid).track_id == "1" and doc.get(b3.uid).cls == "car" and "class car" in bound.description
    assert tracks(doc) == {"1": [0, 1, 3], "2": [1]}
    one_step(doc, ea.set_track(doc, b1.uid, "ped-17"))              # a new id: the class stays
    assert doc.get(b1.uid).track_id == "ped-17" and doc.get(b1.uid).cls == "truck"
    assert ea.set_track(doc, a0.uid, "1") is None
    with pytest.raises(CommandError, match="cannot be empty"):
        ea.set_track(doc, a1.uid, "  ")
