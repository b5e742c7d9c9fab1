"""Document: queries, track ids, undo/redo stacks, change events, and a randomised undo/redo walk."""

from __future__ import annotations

import random

import pytest

from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model.commands import (Batch, CopyToFrame, CreateCuboid, DeleteCuboids, SetBox, SetClass,
                                        SetFrameStatus, merged)
from fusionlabel.model.document import Annotation, Change, Document, ReadOnlyError
from fusionlabel.model.ontology import Ontology
from fusionlabel.store.crash_writer import run_edits, state_digest


def car(x=0.0, track=None, cls="car"):
    return CuboidLabel(Cuboid((x, 0.0, -1.0), (4.0, 2.0, 1.5)), cls, track)


@pytest.fixture
def doc():
    return Document(10, Ontology.default())


def test_annotation_properties():
    lab = CuboidLabel(Cuboid((1, 2, 3), (4, 2, 1.5)), "van", "7", 0.5, "model", {"a": 1})
    a = Annotation("u", 3, lab)
    assert (a.box, a.cls, a.track_id, a.score, a.source, a.attributes) == (lab.box, "van", "7", 0.5, "model", {"a": 1})
    with pytest.raises(AttributeError):
        a.frame = 4  # frozen


def test_queries_and_creation_order(doc):
    uids = [doc.apply(CreateCuboid(2, car(i))).uid for i in range(4)]
    doc.apply(CreateCuboid(5, car(9, track="2")))
    assert [a.uid for a in doc.annotations(2)] == uids
    assert doc.annotations(0) == [] and len(doc) == 5 and uids[0] in doc
    assert doc.get(uids[1]).box.center[0] == 1.0
    with pytest.raises(KeyError, match="no annotation with uid zzz"):
        doc.get("zzz")
    assert doc.find_track("2", 5).frame == 5 and doc.find_track("2", 2).uid == uids[1]
    assert doc.find_track("2", 3) is None and doc.find_track("99", 5) is None
    assert doc.track_frames("2") == [2, 5] and doc.track_frames("nope") == []
    assert doc.annotated_frames() == [2, 5]
    assert doc.track_ids() == ["1", "2", "3", "4"]
    assert [a.uid for a in doc.all_annotations()] == uids + [doc.find_track("2", 5).uid]
    # the list handed out is a copy: changing it does not change the document
    doc.annotations(2).clear()
    assert len(doc.annotations(2)) == 4


def test_track_ids_are_short_and_never_reused(doc):
    assert doc.new_track_id() == "1" and doc.new_track_id() == "2"
    a = doc.apply(CreateCuboid(0, car()))
    assert a.label.track_id == "3"
    doc.undo()
    assert doc.apply(CreateCuboid(0, car())).label.track_id == "4"   # 3 was used once: not handed out again
    doc.apply(CreateCuboid(1, car(track="41")))
    assert doc.new_track_id() == "42"
    doc.apply(CreateCuboid(1, car(track="car-a")))                  # non-numeric ids are fine
    assert doc.new_track_id() == "43"


def test_an_undo_can_give_back_the_track_ids_its_command_took(doc):
    """A caller undoing its own command to store another in its place (a tracked pre-label run)
    hands the same ids out again; the counter never goes below an id in use, and a refused undo
    keeps the counter as it was."""
    doc.apply(CreateCuboid(0, car(track="5")))
    start = doc.state.next_track
    doc.apply(Batch(tuple(CreateCuboid(1, car(x)) for x in (0.0, 10.0, 20.0)), "three"))
    assert doc.state.next_track == start + 3

    def refuse(changed):
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        doc.undo(guard=refuse, next_track=start)
    assert doc.state.next_track == start + 3 and len(doc) == 4
    doc.undo(next_track=1)                    # below the kept track 5: the counter stops above it
    assert doc.state.next_track == start == 6
    assert doc.apply(CreateCuboid(2, car())).label.track_id == "6"


def test_frame_status(doc):
    assert doc.frame_status(3) == "new" and set(doc.frame_statuses()) == {"new"}
    doc.apply(SetFrameStatus(3, "in_progress"))
    doc.apply(SetFrameStatus(3, "done"))
    assert doc.frame_status(3) == "done" and doc.undo_text() == "Mark frame 3 done"
    doc.undo()
    assert doc.frame_status(3) == "in_progress"


def test_undo_redo_stacks_and_texts(doc):
    assert not doc.can_undo and not doc.can_redo and doc.undo() is None and doc.redo() is None
    assert doc.undo_text() == "" and doc.redo_text() == ""
    a = doc.apply(CreateCuboid(0, car()))
    doc.apply(SetBox(a.uid, a.label.box.with_(yaw=0.5), "Rotate"))
    doc.apply(SetClass(a.uid, "bus"))
    assert doc.history() == ["Create car", "Rotate", "Set class bus"]
    assert doc.undo().description == "Set class bus"
    assert doc.undo_text() == "Rotate" and doc.redo_text() == "Set class bus"
    doc.undo()
    assert doc.redo_text() == "Rotate" and doc.get(a.uid).box.yaw == 0.0
    doc.apply(SetClass(a.uid, "van"))                   # a new edit clears the redo stack
    assert not doc.can_redo and doc.history() == ["Create car", "Set class van"]
    doc.undo()
    doc.undo()
    assert len(doc) == 0 and not doc.can_undo
    doc.redo()
    doc.redo()
    assert doc.get(a.uid).cls == "van"


def test_change_events(doc):
    seen: list[Change] = []
    unsubscribe = doc.subscribe(seen.append)
    a = doc.apply(CreateCuboid(4, car()))
    assert seen[-1] == Change({4}, {a.uid}, "apply", "Create car", set())
    doc.apply(CopyToFrame((a.uid,), 5))
    copy = doc.annotations(5)[0]
    assert seen[-1].frames == {5} and seen[-1].uids == {copy.uid}
    doc.apply(SetFrameStatus(5, "done"))
    assert seen[-1].status_frames == {5} and seen[-1].uids == set()
    doc.undo()
    assert seen[-1].reason == "undo" and seen[-1].status_frames == {5}
    doc.redo()
    assert seen[-1].reason == "redo"
    doc.apply(Batch((DeleteCuboids((a.uid,)), CreateCuboid(7, car())), "Mixed"))
    assert seen[-1].frames == {4, 7} and a.uid in seen[-1].uids and seen[-1].description == "Mixed"
    n = len(seen)
    doc.apply(SetClass(copy.uid, "car"))     # no-op: no event
    assert len(seen) == n
    unsubscribe()
    doc.undo()
    assert len(seen) == n
    unsubscribe()                            # twice is harmless


def test_failing_subscriber_does_not_stop_others_or_the_edit(doc):
    got = []

    def bad(change):
        raise RuntimeError("view broke")
    doc.subscribe(bad)
    doc.subscribe(got.append)
    with pytest.raises(RuntimeError, match="view broke"):
        doc.apply(CreateCuboid(0, car()))
    assert len(doc) == 1 and len(got) == 1 and doc.can_undo


class _FailingStore:
    """A store whose commits fail: the document must roll its memory back to match the disk."""

    read_only = False

    def __init__(self, fail_on):
        self.fail_on = fail_on
        self.ids = 0

    def load_state(self):
        from fusionlabel.store.db import StoredState
        return StoredState([], {}, 1, 0, [], [])

    def _commit(self, name):
        if name in self.fail_on:
            raise OSError("disk full")
        self.ids += 1
        return self.ids

    def commit_apply(self, cmd, delta):
        return self._commit("apply")

    def commit_undo(self, log_id, delta):
        self._commit("undo")

    def commit_redo(self, log_id, delta):
        self._commit("redo")


def test_failed_persistence_rolls_memory_back():
    store = _FailingStore(fail_on=set())
    doc = Document(3, Ontology.default(), store)
    a = doc.apply(CreateCuboid(0, car()))
    store.fail_on = {"apply", "undo"}
    with pytest.raises(OSError, match="disk full"):
        doc.apply(SetBox(a.uid, a.label.box.with_(yaw=1.0)))
    assert doc.get(a.uid).box.yaw == 0.0 and doc.history() == ["Create car"]
    with pytest.raises(OSError):
        doc.undo()
    assert a.uid in doc and doc.can_undo
    store.fail_on = {"redo"}
    doc.undo()
    with pytest.raises(OSError):
        doc.redo()
    assert a.uid not in doc and doc.can_redo


def test_read_only_document_refuses_edits():
    class RO(_FailingStore):
        read_only = True
        read_only_reason = "another process (pid 1) has it open"
    doc = Document(3, Ontology.default(), RO(set()))
    for edit in (lambda: doc.apply(CreateCuboid(0, car())), doc.undo, doc.redo):
        with pytest.raises(ReadOnlyError, match=r"cannot edit: another process \(pid 1\) has it open"):
            edit()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_walk_undo_all_and_redo_all(seed):
    """Any stream of edits: undoing everything gives the empty document, redoing everything gives
    the final state back, and undo k / redo k is the identity at every depth."""
    doc = Document(8, Ontology.default())
    empty = state_digest(doc)
    digests = run_edits(doc, seed, 300)
    final = digests[-1]
    assert state_digest(doc) == final and len(doc) > 0
    rng = random.Random(seed)
    depth = len(doc.history())
    for _ in range(10):
        k = rng.randrange(1, depth + 1)
        for _ in range(k):
            doc.undo()
        for _ in range(k):
            doc.redo()
        assert state_digest(doc) == final
    for _ in range(depth):
        doc.undo()
    assert not doc.can_undo and len(doc) == 0 and set(doc.frame_statuses()) == {"new"}
    assert state_digest(doc) != empty      # only the track-id counter remembers: ids are never reused
    for _ in range(depth):
        doc.redo()
    assert state_digest(doc) == final


# ------------------------------------------------------------------ merged steps, follow-ups
def nudged(doc, uid, dx):
    box = doc.get(uid).box
    return SetBox(uid, box.with_(center=(box.center[0] + dx, box.center[1], box.center[2])), "Nudge")


def fold(last, step):
    """The caller's rule (the app's is in Session.apply): a nudge joins a step of nudges."""
    return merged(last, step, "Nudge") if last.description == "Nudge" else None


def test_merge_folds_steps_into_the_last_one_until_undo(doc):
    a = doc.apply(CreateCuboid(0, car()))
    start = doc.get(a.uid).box
    seen: list[Change] = []
    doc.subscribe(seen.append)
    for _ in range(30):
        doc.apply(nudged(doc, a.uid, 0.1), merge=fold)
    assert doc.history() == ["Create car", "Nudge"] and abs(doc.get(a.uid).box.center[0] - 3.0) < 1e-9
    assert len(seen) == 30 and seen[-1] == Change({0}, {a.uid}, "apply", "Nudge", set())   # every press is shown
    doc.undo()                                           # one undo takes back all 30
    assert doc.get(a.uid).box == start and doc.history() == ["Create car"]
    doc.redo()
    assert abs(doc.get(a.uid).box.center[0] - 3.0) < 1e-9
    doc.undo()
    doc.apply(nudged(doc, a.uid, 0.1), merge=fold)       # never into a step that was undone or redone
    assert doc.history() == ["Create car", "Nudge"] and not doc.can_redo
    doc.redo()                                           # nothing to redo: the nudge cleared it
    doc.apply(SetClass(a.uid, "van"))
    doc.apply(nudged(doc, a.uid, 0.1), merge=fold)       # the rule refuses another kind of step
    assert doc.history() == ["Create car", "Nudge", "Set class van", "Nudge"]
    doc.apply(nudged(doc, a.uid, -0.1), merge=fold)      # folds back to where it started: no step left
    assert doc.history() == ["Create car", "Nudge", "Set class van"]
    assert doc.get(a.uid).box.center[0] == pytest.approx(0.1)
    doc.apply(nudged(doc, a.uid, 0.1), merge=fold)       # ... and the next one starts afresh
    assert doc.history()[-1] == "Nudge" and doc.undo_text() == "Nudge"


def test_merged_joins_whole_values_only():
    from fusionlabel.model.commands import SetAttributes

    d = Document(3, Ontology.default())
    a = d.apply(CreateCuboid(0, car()))
    b = d.apply(CreateCuboid(0, car(5.0)))
    one = d.apply(Batch((nudged(d, a.uid, 1.0), nudged(d, b.uid, 1.0), SetFrameStatus(0, "in_progress")), "Nudge"))
    two = d.apply(nudged(d, a.uid, 1.0))                 # b reached a limit: only a moved
    both = merged(one, two, "Nudge ×2")
    assert both.description == "Nudge ×2" and len(both.commands) == 3
    by_uid = {c.uid: c for c in both.commands if isinstance(c, SetBox)}
    assert by_uid[a.uid].before.center[0] == 0.0 and by_uid[a.uid].box.center[0] == 2.0
    assert by_uid[b.uid].before.center[0] == 5.0 and by_uid[b.uid].box.center[0] == 6.0
    assert [c.before for c in both.commands if isinstance(c, SetFrameStatus)] == ["new"]
    typed = [d.apply(SetAttributes(a.uid, {"note": t})) for t in ("d", "de", "den")]
    note = merged(merged(typed[0], typed[1], "Set note ×2"), typed[2], "Set note ×3")   # typing: one value
    assert [(c.attributes, c.before.get("note")) for c in note.commands] == [({"note": "den"}, "")]
    other = d.apply(SetAttributes(a.uid, {"note": "x", "occlusion": "partial"}))
    both_names = merged(typed[2], other, "x")            # other names: each command kept, in order
    assert [c.attributes for c in both_names.commands] == [{"note": "den"}, {"note": "x", "occlusion": "partial"}]
    d.undo()
    for _ in typed:
        d.undo()
    assert d.get(a.uid).attributes["note"] == ""
    assert merged(one, d.apply(CreateCuboid(0, car(9.0))), "x") is None
    back = d.apply(nudged(d, a.uid, -1.0))
    assert merged(two, back, "Nudge").is_noop            # back where it started


def test_follow_up_is_part_of_the_same_step(doc):
    asked = []

    def start(frames):
        asked.append(frames)
        return Batch(tuple(SetFrameStatus(f, "in_progress") for f in frames if doc.frame_status(f) == "new"),
                     "start")
    a = doc.apply(CreateCuboid(2, car()), follow_up=start)
    assert asked == [{2}] and doc.frame_status(2) == "in_progress" and doc.history() == ["Create car"]
    doc.apply(SetFrameStatus(2, "done"), follow_up=start)     # a status change changes no cuboid
    assert asked[-1] == set()
    doc.apply(CopyToFrame((a.uid,), 3), follow_up=start)
    assert asked[-1] == {3} and doc.frame_status(3) == "in_progress"
    doc.undo()
    assert doc.frame_status(3) == "new" and doc.find_track(a.label.track_id, 3) is None
    doc.redo()
    assert doc.frame_status(3) == "in_progress"
    # A follow-up that changes nothing leaves the command alone (not wrapped in a Batch).
    bound = doc.apply(SetClass(doc.find_track(a.label.track_id, 3).uid, "van"), follow_up=start)
    assert doc.done_commands()[-1] == bound


def test_a_guard_refuses_an_undo_or_redo_and_nothing_changes(doc):
    """undo(guard=...) and redo(guard=...) are refused whole when the guard raises: the document
    and both stacks stay as they were, and no change is sent."""
    uid = doc.apply(CreateCuboid(0, car())).uid
    doc.apply(SetBox(uid, car(1.0).box, "Move"))
    seen = []
    doc.subscribe(seen.append)

    def refuse(changed):
        assert set(changed) == {uid}
        before, after = changed[uid]
        raise ValueError(f"refused {before.box.center[0]} -> {after.box.center[0]}")

    with pytest.raises(ValueError, match=r"refused 1.0 -> 0.0"):
        doc.undo(guard=refuse)
    assert doc.get(uid).box.center[0] == 1.0 and doc.undo_text() == "Move" and not doc.can_redo and seen == []
    doc.undo(guard=lambda changed: None)
    assert doc.get(uid).box.center[0] == 0.0 and doc.redo_text() == "Move"
    with pytest.raises(ValueError, match=r"refused 0.0 -> 1.0"):
        doc.redo(guard=refuse)
    assert doc.get(uid).box.center[0] == 0.0 and doc.redo_text() == "Move" and len(seen) == 1
