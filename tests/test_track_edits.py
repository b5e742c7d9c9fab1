"""Setting, joining and splitting tracks (fusionlabel.model.edit_actions): each one undo step, a
track never gets two cuboids in one frame, a joined box takes the track's class."""

from __future__ import annotations

import numpy as np
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


class _StillDrive:
    """A drive standing still (every frame at the world origin, frames 0.1 s apart): all
    interpolation needs of it."""

    frames = [type("Frame", (), {"timestamp_us": 100_000 * i})() for i in range(8)]

    def T_world_lidar(self, frame):
        return np.eye(4)


def test_class_key_retypes_the_whole_track_and_interpolation_follows(doc):
    from fusionlabel.assist.edit_assist import interpolate

    k0, k6 = add(doc, 0, "100"), add(doc, 6, "100")
    other = add(doc, 0, "7", "truck")
    bound = one_step(doc, ea.set_class_by_key(doc, [k0.uid], "2", frame_name=lambda i: f"{i:06d}"))
    assert bound.description == "Set class van: track 100, 2 boxes in frames 000000–000006"
    assert doc.get(k0.uid).cls == doc.get(k6.uid).cls == "van"
    assert doc.get(other.uid).cls == "truck"                        # another track stays
    doc.apply(interpolate(doc, _StillDrive(), 0, [k0.uid]))
    assert {doc.find_track("100", f).cls for f in range(7)} == {"van"}
    # Retyping any frame of the track, a pre-label in the middle included, retypes all 7 boxes.
    mid = doc.find_track("100", 3)
    assert mid.source == "model"
    bound = one_step(doc, ea.set_class(doc, [mid.uid], "truck"))
    assert {doc.find_track("100", f).cls for f in range(7)} == {"truck"}
    assert bound.description == "Set class truck: track 100, 7 boxes in frames 0–6"
    assert ea.set_class(doc, [k6.uid], "truck") is None            # nothing left to retype


def test_class_key_mends_a_track_made_with_mixed_classes(doc):
    """A project from before whole-track retyping may hold a track of two classes: one key fixes it."""
    from fusionlabel.model.commands import SetClass

    boxes = [add(doc, f, "3") for f in range(4)]
    doc.apply(SetClass(boxes[0].uid, "van"))                        # the old per-box retype
    bound = one_step(doc, ea.set_class(doc, [boxes[2].uid], "van"))
    assert [doc.get(b.uid).cls for b in boxes] == ["van"] * 4
    assert len(bound.commands) == 3 and "4 boxes in frames 0–3" in bound.description


def test_retyping_drops_the_old_classes_own_attributes_in_the_same_step(doc):
    """A car track retyped to pedestrian loses ``parked`` (cars only) but keeps the shared
    attributes and the ones no class declares (counts, markers, the import's source); one undo puts
    every attribute back exactly."""
    from fusionlabel.model.commands import SetAttributes

    boxes = [add(doc, f, "4") for f in range(3)]
    extra = {"parked": True, "occlusion": "partial", "num_lidar_points": 42, "interpolated": True,
             "prelabel_score": 0.8, "source_class": "Car", "imported_as": "car"}
    for b in boxes:
        doc.apply(SetAttributes(b.uid, extra))
    had = {b.uid: dict(doc.get(b.uid).attributes) for b in boxes}
    bound = one_step(doc, ea.set_class_by_key(doc, [boxes[1].uid], "5"))
    assert bound.description == "Set class pedestrian: track 4, 3 boxes in frames 0–2; dropped parked, emergency"
    for b in boxes:
        now = doc.get(b.uid)
        assert now.cls == "pedestrian"
        assert now.attributes == {k: v for k, v in had[b.uid].items() if k not in ("parked", "emergency")}
    doc.undo()
    assert {b.uid: doc.get(b.uid).attributes for b in boxes} == had
    assert {doc.get(b.uid).cls for b in boxes} == {"car"}
    # two classes that share the attribute: a cyclist made a motorcycle keeps its rider
    bike = add(doc, 0, "5", "cyclist")
    doc.apply(SetAttributes(bike.uid, {"with_rider": False}))
    bound = one_step(doc, ea.set_class(doc, [bike.uid], "motorcycle"))
    assert bound.description == "Set class motorcycle: track 5, 1 box in frame 0"
    assert doc.get(bike.uid).attributes["with_rider"] is False


def test_a_box_joined_or_moved_into_a_track_of_another_class_drops_its_own_attributes(doc):
    from fusionlabel.model.commands import SetAttributes

    cars = [add(doc, f, "1") for f in (0, 1)]
    people = [add(doc, f, "2", "pedestrian") for f in (3, 4)]
    doc.apply(SetAttributes(people[0].uid, {"pose": "sitting", "num_lidar_points": 7}))
    bound = one_step(doc, ea.join_tracks(doc, "2", "1"))
    assert bound.description == "Join track 2 into track 1 (class car, as track 1; dropped pose)"
    assert doc.get(people[0].uid).attributes.get("num_lidar_points") == 7
    assert "pose" not in doc.get(people[0].uid).attributes
    assert doc.get(people[1].uid).cls == "car" and "pose" not in doc.get(people[1].uid).attributes
    doc.undo()
    assert doc.get(people[0].uid).attributes["pose"] == "sitting"
    lone = add(doc, 2, None, "cyclist")
    bound = one_step(doc, ea.set_track(doc, lone.uid, "1"))
    assert bound.description == "Set track 1 (class car, as the track; dropped with_rider)"
    assert doc.get(lone.uid).cls == "car" and "with_rider" not in doc.get(lone.uid).attributes
    assert [doc.get(c.uid).cls for c in cars] == ["car", "car"]


def test_size_to_track_keeps_each_box_on_its_ground_and_heading(doc):
    rng = np.random.default_rng(5)
    boxes = []
    for f in range(5):
        box = Cuboid(rng.uniform(-20, 20, 3), rng.uniform(3.5, 5.0, 3), rng.uniform(-3, 3))
        boxes.append(doc.apply(CreateCuboid(f, CuboidLabel(box, "car", "9"))))
    lonely = add(doc, 2, "10")
    src = doc.get(boxes[2].uid).box.with_(size=(4.6, 1.9, 1.55))
    doc.apply(ea.set_box(doc, boxes[2].uid, src))
    bound = one_step(doc, ea.size_to_track(doc, [boxes[2].uid, lonely.uid]))
    assert bound.description == "Size 4.60 × 1.90 × 1.55 m to track 9, 4 boxes in frames 0–4"
    assert doc.get(boxes[2].uid).box == src                         # the box giving the size stays
    for b in boxes[:2] + boxes[3:]:
        old, new = b.label.box, doc.get(b.uid).box
        assert np.allclose(new.size, (4.6, 1.9, 1.55))
        assert np.allclose(new.center[:2], old.center[:2]) and new.yaw == old.yaw
        # the bottom face stays: the lowest corner's height, from the corners themselves
        assert np.isclose(new.corners()[:, 2].min(), old.corners()[:, 2].min())
    assert doc.get(lonely.uid).box == lonely.label.box              # a one-box track: nothing to give
    assert ea.size_to_track(doc, [boxes[0].uid]) is None            # every box has that size now


def test_absent_marks_follow_a_join_and_a_split(doc):
    """Track 1 is hidden in frame 2, track 2 in frame 7. Joined, track 2 is marked in both frames;
    split again at frame 4, the new track takes the marks from frame 4 on. One undo each."""
    from fusionlabel.model.commands import SetAbsent

    for f in (0, 1):
        add(doc, f, "1")
    for f in (4, 5):
        add(doc, f, "2", x=5.0)
    doc.apply(SetAbsent("1", 2))
    doc.apply(SetAbsent("2", 7))
    one_step(doc, ea.join_tracks(doc, "1", "2"))
    assert doc.absent_frames("2") == [2, 7] and doc.absent_frames("1") == []
    doc.undo()
    assert doc.absent_frames("1") == [2] and doc.absent_frames("2") == [7]
    doc.redo()
    cmd = ea.split_tracks(doc, [doc.find_track("2", 4).uid])
    one_step(doc, cmd)
    new = doc.find_track(next(t for t in doc.track_ids() if t not in ("1", "2")), 4).track_id
    assert doc.absent_frames("2") == [2] and doc.absent_frames(new) == [7]
    assert tracks(doc)[new] == [4, 5] and tracks(doc)["2"] == [0, 1]


def test_a_box_entering_a_frame_marked_absent_takes_the_mark_back_and_c_keeps_out(doc):
    """Track 2 is marked absent in frame 3. C from frame 2 does not copy it there (as V does not
    carry it), naming it, while another track is copied; a box moved into track 2 in frame 3 with
    the track field takes the mark back in the same step; joining a track that is marked absent
    where the target has a box leaves no mark there."""
    from fusionlabel.model.commands import SetAbsent

    two = add(doc, 2, "2")
    other = add(doc, 2, "5", x=8.0)
    doc.apply(SetAbsent("2", 3))
    cmd = ea.copy_to_frame(doc, [two.uid, other.uid], 3, frame_name=lambda f: f"00000{f}")
    assert cmd.description == "Copy 1 cuboid to frame 000003; not copied: track 2 (marked absent there)"
    one_step(doc, cmd)
    assert doc.find_track("2", 3) is None and doc.find_track("5", 3) is not None
    assert ea.copy_to_frame(doc, [two.uid], 3) is None
    loose = add(doc, 3, x=20.0)
    one_step(doc, ea.set_track(doc, loose.uid, "2"))
    assert doc.find_track("2", 3).uid == loose.uid and not doc.is_absent("2", 3)
    doc.undo()
    assert doc.is_absent("2", 3)
    doc.redo()
    add(doc, 6, "8")
    doc.apply(SetAbsent("8", 7))
    add(doc, 7, "9", x=3.0)
    one_step(doc, ea.join_tracks(doc, "8", "9"))
    assert doc.absent_frames("9") == [] and doc.absent_frames("8") == [] and tracks(doc)["9"] == [6, 7]


def test_deleting_a_track_from_here_takes_its_later_absent_marks_with_it(doc):
    """Shift+Del ends track 4 at frame 3: its marks in frames 5 and 6 go too (they would keep
    I, V and C out of those frames if the track were drawn on again), the one in frame 1 stays."""
    from fusionlabel.model.commands import SetAbsent

    for f in (0, 2, 3, 4):
        add(doc, f, "4")
    for f in (1, 5, 6):
        doc.apply(SetAbsent("4", f))
    cmd = ea.delete_track_from_here(doc, [doc.find_track("4", 3).uid], 3)
    assert cmd.description == "Delete 2 cuboids of track 4 in frames 3–4"
    one_step(doc, cmd)
    assert tracks(doc)["4"] == [0, 2] and doc.absent_frames("4") == [1]
    doc.undo()
    assert doc.absent_frames("4") == [1, 5, 6] and tracks(doc)["4"] == [0, 2, 3, 4]


def test_shift_h_without_a_selection_takes_back_the_marks_of_tracks_with_no_cuboid_left(doc):
    """Tracks 3 and 12 are marked absent in frame 2 and have no cuboid at all (H took their only
    ones): the frame names them in numeric order, and unmarking them by id takes back every mark
    of both, one undo step; a track with no mark gives nothing to do."""
    from fusionlabel.model.commands import SetAbsent

    add(doc, 0, "5")
    for track, frames in (("12", (2, 4)), ("3", (2,)), ("5", (1,))):
        for f in frames:
            doc.apply(SetAbsent(track, f))
    assert doc.tracks_absent_in(2) == ["3", "12"] and doc.tracks_absent_in(1) == ["5"]
    assert doc.tracks_absent_in(0) == []
    cmd = ea.unmark_tracks_absent(doc, doc.tracks_absent_in(2), frame_name=lambda f: f"00000{f}")
    assert cmd.description == "No longer absent: tracks 3, 12 in frames 000002, 000004"
    n = len(doc.history())
    doc.apply(cmd)
    assert len(doc.history()) == n + 1
    assert doc.absent_frames("3") == doc.absent_frames("12") == [] and doc.absent_frames("5") == [1]
    assert doc.tracks_absent_in(2) == []
    doc.undo()
    assert doc.absent_frames("12") == [2, 4] and doc.tracks_absent_in(2) == ["3", "12"]
    assert ea.unmark_tracks_absent(doc, ["7"]) is None
