"""Model assistance as undoable edit commands (fusionlabel.assist.edit_assist), headless, on a
simulated drive with ground truth: one-click, auto-fit, pre-label / accept / delete,
interpolation and ICP propagation. Every action is one command; undo restores exactly."""

from __future__ import annotations

import numpy as np
import pytest

from fusionlabel.app import testing
from fusionlabel.assist import edit_assist as ea
from fusionlabel.assist.detector import Detector, make_detector
from fusionlabel.geometry.cuboid import Cuboid, points_in_cuboid
from fusionlabel.geometry.iou import bev_iou
from fusionlabel.geometry.transforms import angle_difference, invert_T
from fusionlabel.io.drives import open_drive
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model import edit_actions
from fusionlabel.model.commands import (AcceptPrelabel, Batch, CreateCuboid, SetAttributes, SetBox, SetClass,
                                         SetTrack)
from fusionlabel.model.document import Document, annotations_equal
from fusionlabel.model.ontology import Ontology

FRAMES = 5


@pytest.fixture(scope="module")
def drive():
    return open_drive(testing.small_drive(frames=FRAMES, seed=3, points=60_000))


@pytest.fixture
def doc(drive):
    return Document(len(drive), Ontology.default())


def gt(drive, frame) -> dict[str, CuboidLabel]:
    return {g.track_id: g for g in drive.labels(frame)}


def well_seen(drive, frame, min_points=50, max_range=30.0) -> list[CuboidLabel]:
    pts = drive.points(frame)
    return [g for g in drive.labels(frame)
            if np.hypot(*g.box.center[:2]) < max_range and points_in_cuboid(pts, g.box).sum() >= min_points]


def add_human(doc, frame, label: CuboidLabel, box=None):
    lab = label.with_(box=box or label.box, source="human", score=None,
                      label=doc.ontology.resolve(label.label) or "car")
    return doc.apply(CreateCuboid(frame, lab))


def snapshot(doc):
    return doc.all_annotations()


def check_one_undo(doc, before, cmd):
    """Apply ``cmd`` as one step, undo it and find exactly ``before``; redo, and return the bound command."""
    n = len(doc.history())
    bound = doc.apply(cmd)
    assert bound is not None and len(doc.history()) == n + 1
    after = snapshot(doc)
    doc.undo()
    assert annotations_equal(snapshot(doc), before) and len(doc) == len(before)
    doc.redo()
    assert annotations_equal(snapshot(doc), after)
    return bound


# ---------------------------------------------------------------------------------- one-click
def test_one_click_near_each_ground_truth_object_fits_it(drive, doc):
    pts = drive.points(0)
    objects = well_seen(drive, 0)
    assert len(objects) >= 5
    rng = np.random.default_rng(1)
    ious = []
    for g in objects:
        inside = pts[points_in_cuboid(pts, g.box)]
        # The annotator clicks near the object's points, not exactly on one.
        seed = inside[rng.integers(len(inside)), :2] + rng.uniform(-0.3, 0.3, 2)
        cmd = ea.one_click(doc, drive, 0, (), seed)
        assert cmd is not None, g
        lab = cmd.commands[0].label
        assert lab.source == "human" and lab.label in doc.ontology
        ious.append(bev_iou(lab.box, g.box))
        assert ious[-1] >= 0.5, (g.label, ious[-1])
        if g.label in ("car", "pedestrian"):
            assert lab.label == g.label
        assert abs(lab.box.bottom_center()[2] - g.box.bottom_center()[2]) < 0.35
    assert np.median(ious) > 0.8


def test_one_click_is_one_undoable_create_and_refuses_duplicates_and_bare_ground(drive, doc):
    pts = drive.points(0)
    car = max((g for g in well_seen(drive, 0) if g.label == "car"), key=lambda g: points_in_cuboid(pts, g.box).sum())
    seed = pts[points_in_cuboid(pts, car.box)][0, :3]
    before = snapshot(doc)
    bound = check_one_undo(doc, before, ea.one_click(doc, drive, 0, (), seed))
    assert doc.history()[-1] == "One-click car"
    (ann,) = doc.annotations(0)
    assert ann.uid == bound.commands[0].uid and ann.track_id is not None
    # The object has its cuboid now: a second click there creates nothing.
    assert ea.one_click(doc, drive, 0, (), seed) is None
    # Bare road far from every object, and a point far outside the sweep.
    gts = [g.box for g in drive.labels(0)]
    road = pts[(pts[:, 2] < -1.5) & (np.hypot(pts[:, 0], pts[:, 1]) < 20)]
    clear = [p for p in road[::50] if all(np.hypot(*(p[:2] - b.center[:2])) > 6 for b in gts)]
    assert clear
    assert ea.one_click(doc, drive, 0, (), clear[0][:2]) is None
    assert ea.one_click(doc, drive, 0, (), (900.0, 900.0)) is None


def test_one_click_is_not_stopped_by_a_small_cuboid_beside_the_object(drive, doc):
    """A person labelled beside a car (its centre inside the car's box, the boxes barely
    overlapping) is another object: one-click on the car still makes the car's box. A click on a
    cuboid, or a box overlapping one, still makes nothing."""
    pts = drive.points(0)
    car = max((g for g in well_seen(drive, 0) if g.label == "car"), key=lambda g: points_in_cuboid(pts, g.box).sum())
    corner = car.box.center + car.box.rotation() @ [0.45 * car.box.length, 0.4 * car.box.width, 0.0]
    person = Cuboid(corner, (0.5, 0.5, 1.7), car.box.yaw)
    on_car = pts[points_in_cuboid(pts, car.box)]
    seed = on_car[np.argmax(np.hypot(*(on_car[:, :2] - corner[:2]).T)), :3]   # the car's far end from the person
    assert bev_iou(person, car.box) < 0.1
    doc.apply(CreateCuboid(0, CuboidLabel(person, "pedestrian", source="human")))
    cmd = ea.one_click(doc, drive, 0, (), seed)
    assert cmd is not None, "the person beside the car took the car's one-click"
    made = doc.apply(cmd).commands[0].label
    assert made.label == "car" and bev_iou(made.box, car.box) > 0.5
    assert ea.one_click(doc, drive, 0, (), seed) is None                  # the car has its cuboid now
    assert ea.one_click(doc, drive, 0, (), corner[:2]) is None            # a click on the person's cuboid


def test_one_click_uses_the_fallback_class_when_no_class_fits(drive, doc, monkeypatch):
    from fusionlabel.assist import edit_assist

    pts = drive.points(0)
    g = well_seen(drive, 0)[0]
    real = edit_assist.one_click_box

    def unknown_class(points, seed, config=None, **options):
        lab = real(points, seed, config, **options)
        return None if lab is None else lab.with_(label="Object")
    monkeypatch.setattr(edit_assist, "one_click_box", unknown_class)
    seed = pts[points_in_cuboid(pts, g.box)][0, :3]
    cmd = ea.one_click(doc, drive, 0, (), seed, default_class="misc")
    assert cmd.commands[0].label.label == "misc"


# ---------------------------------------------------------------------------------- auto-fit
def perturbed(box, rng, yaw_error=0.0):
    return box.with_(center=np.add(box.center, [*rng.uniform(-0.4, 0.4, 2), 0.3]),
                     size=np.multiply(box.size, rng.uniform(1.1, 1.3, 3)), yaw=box.yaw + yaw_error)


@pytest.mark.parametrize("keep_yaw", [True, False])
def test_auto_fit_improves_perturbed_ground_truth(drive, doc, keep_yaw):
    rng = np.random.default_rng(7)
    objects = [g for g in well_seen(drive, 0) if g.label in ("car", "van", "truck")]
    assert len(objects) >= 4
    uids = []
    for g in objects:
        rough = perturbed(g.box, rng, 0.0 if keep_yaw else rng.choice([-1, 1]) * 0.15)
        uids.append(add_human(doc, 0, g, rough).uid)
    other = add_human(doc, 1, objects[0])  # not selected, another frame: untouched
    before = snapshot(doc)
    cmd = ea.auto_fit(doc, drive, 0, uids + [other.uid], keep_yaw=keep_yaw)
    assert isinstance(cmd, Batch) and {c.uid for c in cmd.commands} == set(uids)
    check_one_undo(doc, before, cmd)
    bottoms = []
    for uid, g in zip(uids, objects):
        rough = next(a for a in before if a.uid == uid).box
        fit = doc.get(uid).box
        assert bev_iou(fit, g.box) > bev_iou(rough, g.box), g
        assert bev_iou(fit, g.box) > 0.65
        if keep_yaw:
            assert fit.yaw == rough.yaw
        else:
            assert abs(angle_difference(fit.yaw, g.box.yaw)) < abs(angle_difference(rough.yaw, g.box.yaw))
        bottoms.append(abs(fit.bottom_center()[2] - g.box.bottom_center()[2]))
    assert np.median(bottoms) < 0.1          # snapped to the ground, not left 30 cm up
    assert doc.get(other.uid) == next(a for a in before if a.uid == other.uid)
    assert ea.auto_fit(doc, drive, 0, ()) is None


# ---------------------------------------------------------------------------------- pre-labels
class GroundTruthDetector(Detector):
    """Detections = the drive's ground truth, slightly shifted, scored 0.9 (0.3 for every third),
    so which detections are stored is known in advance."""

    name = "gt"

    def detect_frame(self, drive, index):
        out = []
        for k, g in enumerate(drive.labels(index)):
            box = g.box.with_(center=np.add(g.box.center, [0.1, -0.05, 0.0]))
            out.append(CuboidLabel(box, g.label.capitalize(), None, 0.3 if k % 3 == 2 else 0.9, "model"))
        out.append(CuboidLabel(out[0].box, "DontCare", None, 0.9, "model"))  # no such class: skipped
        return out


def test_prelabel_never_touches_human_boxes(drive, doc):
    labels = drive.labels(0)
    humans = [add_human(doc, 0, g).uid for g in labels[::4]]
    imported = doc.apply(CreateCuboid(0, labels[1].with_(source="import"))).uid
    before = snapshot(doc)
    detections = ea.detect_frames(drive, GroundTruthDetector(), [0])
    cmd = ea.prelabel(doc, drive, 0, (), detections, min_score=0.5)
    bound = check_one_undo(doc, before, cmd)
    for a in before:                                  # human and imported work unchanged
        assert doc.get(a.uid) == a
    new = [a for a in doc.annotations(0) if a.uid not in {b.uid for b in before}]
    assert new and len(new) == len(bound.commands)
    kept_boxes = [doc.get(u).box for u in humans + [imported]]
    for a in new:
        assert a.source == "model" and a.score == 0.9 and a.cls in doc.ontology
        assert max(bev_iou(a.box, k) for k in kept_boxes) <= 0.1
    # Exactly the confident detections of objects nobody labelled yet were stored.
    taken = {i for i, _ in enumerate(labels) if i % 4 == 0 or i == 1}
    expected = [i for i, _ in enumerate(labels) if i not in taken and i % 3 != 2]
    assert len(new) == len(expected)
    # Running again adds nothing: every detection now overlaps a cuboid.
    assert ea.prelabel(doc, drive, 0, (), detections, min_score=0.5) is None


def test_accept_and_delete_prelabels_of_a_frame(drive, doc):
    human = add_human(doc, 0, drive.labels(0)[0])
    elsewhere = doc.apply(CreateCuboid(1, drive.labels(1)[5].with_(source="model", score=0.8)))
    doc.apply(ea.prelabel(doc, drive, 0, (), ea.detect_frames(drive, GroundTruthDetector(), [0])))
    model = [a for a in doc.annotations(0) if a.source == "model"]
    assert len(model) > 3
    before = snapshot(doc)
    check_one_undo(doc, before, ea.accept_all_prelabels(doc, drive, 0, ()))
    assert all(a.source == "human" and "prelabel_score" in a.attributes for a in doc.annotations(0)
               if a.uid != human.uid)
    doc.undo()
    bound = check_one_undo(doc, before, ea.delete_prelabels(doc, drive, 0, ()))
    assert bound.description == f"Delete {len(model)} pre-labels"
    assert [a.uid for a in doc.annotations(0)] == [human.uid]
    assert doc.get(elsewhere.uid).source == "model"          # other frames untouched
    assert ea.delete_prelabels(doc, drive, 0, ()) is None
    assert ea.accept_all_prelabels(doc, drive, 0, ()) is None


class GhostDetector(GroundTruthDetector):
    """Ground truth plus a box seen in frame 0 only (the tracker drops it: no track) and a late
    object seen from frame 1 on (a track born after the first frame)."""

    def detect_frame(self, drive, index):
        out = super().detect_frame(drive, index)
        T_lidar_world = invert_T(drive.T_world_lidar(index))
        late = out[0].box.with_(center=(30.0, -30.0, -1.0)).transformed(drive.T_world_lidar(0))
        if index == 0:
            out.append(CuboidLabel(out[0].box.with_(center=(35.0, 35.0, -1.0)), "Car", None, 0.95, "model"))
        else:
            out.append(CuboidLabel(late.transformed(T_lidar_world), "Car", None, 0.95, "model"))
        return out


class RiderFromAheadDetector(Detector):
    """One cyclist, standing still in the world, that the detector calls a pedestrian (a small box)
    in frames 1 and 3: seen from ahead, as a detector would."""

    name = "rider"
    CYCLIST = (1.8, 0.6, 1.7)

    def detect_frame(self, drive, index):
        T_lidar_world = invert_T(drive.T_world_lidar(index))
        world = drive.T_world_lidar(0)[:3, :3] @ (15.0, 6.0, -1.0) + drive.T_world_lidar(0)[:3, 3]
        if index in (1, 3):
            box = Cuboid(world, (0.8, 0.6, 1.7), 0.3).transformed(T_lidar_world)
            return [CuboidLabel(box, "Pedestrian", None, 0.7, "model")]
        box = Cuboid(world, self.CYCLIST, 0.0).transformed(T_lidar_world)
        return [CuboidLabel(box, "Cyclist", None, 0.9, "model")]


def test_tracked_prelabels_give_a_track_one_class(drive, doc):
    detections = ea.detect_frames(drive, RiderFromAheadDetector(), range(FRAMES))
    doc.apply(ea.prelabel(doc, drive, 0, (), detections, min_score=0.5, track=True))
    anns = doc.all_annotations()
    assert len(anns) == FRAMES and len({a.track_id for a in anns}) == 1
    assert {a.cls for a in anns} == {"cyclist"}
    # the frames where it was called a pedestrian take the track's cyclist box
    assert all(a.box.size == pytest.approx(RiderFromAheadDetector.CYCLIST) for a in anns)


def test_prelabel_all_frames_links_tracks(drive, doc):
    detections = ea.detect_frames(drive, GhostDetector(), range(FRAMES))
    assert ea.is_sequence(drive)
    bound = doc.apply(ea.prelabel(doc, drive, 0, (), detections, min_score=0.5, track=True))
    assert "5 frames" in bound.description
    # Each ground-truth object seen in every frame became one track through all frames.
    by_track = {}
    for a in doc.all_annotations():
        by_track.setdefault(a.track_id, []).append(a.frame)
    assert sum(1 for frames in by_track.values() if frames == list(range(FRAMES))) >= 10
    ghost = [a for a in doc.annotations(0) if np.allclose(a.box.center[:2], (35.0, 35.0))]
    assert len(ghost) == 1 and by_track[ghost[0].track_id] == [0]       # its own track
    T0 = drive.T_world_lidar(0)
    late_world = T0[:2, :3] @ (30.0, -30.0, -1.0) + T0[:2, 3]
    late = {a.track_id for f in range(1, FRAMES) for a in doc.annotations(f)
            if np.linalg.norm(a.box.transformed(drive.T_world_lidar(f)).center[:2] - late_world) < 0.5}
    assert len(late) == 1 and by_track[late.pop()] == list(range(1, FRAMES))
    for tid, frames in by_track.items():
        if len(frames) == FRAMES:
            centres = [doc.find_track(tid, f).box.center for f in frames]
            T = [drive.T_world_lidar(f) for f in frames]
            world = [t[:3, :3] @ c + t[:3, 3] for t, c in zip(T, centres)]
            assert max(np.linalg.norm(np.diff(world, axis=0), axis=1)) < 2.5   # ≤ 25 m/s: the same object


def test_builtin_detector_prelabels_keep_their_scores_and_skip_humans(drive, doc):
    for g in well_seen(drive, 0):
        add_human(doc, 0, g)
    before = snapshot(doc)
    detections = ea.detect_frames(drive, make_detector("builtin"), [0])
    cmd = ea.prelabel(doc, drive, 0, (), detections, min_score=0.5)
    if cmd is None:
        pytest.skip("the detector found nothing beyond the labelled objects")
    check_one_undo(doc, before, cmd)
    humans = [a.box for a in before]
    for a in doc.annotations(0):
        if a.source == "model":
            assert 0.5 <= a.score <= 1.0
            assert max(bev_iou(a.box, h) for h in humans) <= 0.1


class BetterDetector(Detector):
    """A second run: every ground-truth object, 0.2 m along x from the truth, scored 0.95."""

    name = "better"

    def detect_frame(self, drive, index):
        return [CuboidLabel(g.box.with_(center=np.add(g.box.center, [0.2, 0.0, 0.0])), g.label.capitalize(), None,
                            0.95, "model") for g in drive.labels(index)]


def test_prelabel_again_replaces_untouched_prelabels_and_keeps_touched_ones(drive, doc):
    labels = drive.labels(0)
    human = add_human(doc, 0, labels[0])
    # A model cuboid no pre-label run made (as interpolation or propagation make them).
    other = doc.apply(CreateCuboid(0, labels[3].with_(source="model", score=0.7, label="car")))
    doc.apply(ea.prelabel(doc, drive, 0, (), ea.detect_frames(drive, GroundTruthDetector(), [0]), detector="gt"))
    assert doc.history()[-1].startswith("Pre-label frame 000000 (gt): ")
    pre = [a for a in doc.annotations(0) if a.source == "model" and a.uid != other.uid]
    assert len(pre) >= 8
    moved, noted, retyped, accepted, restored = pre[:5]
    doc.apply(SetBox(moved.uid, moved.box.with_(center=np.add(moved.box.center, [0.5, 0.0, 0.0]))))
    doc.apply(SetAttributes(noted.uid, {"note": "checked"}))
    doc.apply(SetClass(retyped.uid, "misc" if retyped.cls != "misc" else "car"))
    doc.apply(AcceptPrelabel((accepted.uid,)))
    doc.apply(SetBox(restored.uid, restored.box.with_(center=np.add(restored.box.center, [0.5, 0.0, 0.0]))))
    doc.undo()                                      # the move undone: untouched again
    before = snapshot(doc)
    touched = {moved.uid, noted.uid, retyped.uid, accepted.uid}
    untouched = {a.uid for a in pre} - touched
    cmd = ea.prelabel(doc, drive, 0, (), ea.detect_frames(drive, BetterDetector(), [0]), detector="better")
    bound = check_one_undo(doc, before, cmd)        # one step; undo gives back exactly the state before
    assert bound.description == (f"Pre-label frame 000000 (better): {len(bound.commands) - 1} boxes, "
                                 f"replacing {len(untouched)}")
    assert set(bound.commands[0].uids) == untouched
    now = {a.uid: a for a in doc.annotations(0)}
    for a in before:                                # human work, touched and foreign model boxes: kept as they were
        if a.uid not in untouched:
            assert now[a.uid] == a
    assert not untouched & set(now)
    new = [a for a in now.values() if a.uid not in {b.uid for b in before}]
    assert all(a.source == "model" and a.score == 0.95 for a in new)
    # A new box for every object whose cuboid was replaced or that had none; none on a kept one.
    kept_boxes = [a.box for a in before if a.uid not in untouched]
    track_of = {id(g): g.track_id for g in labels}
    def object_of(box):
        return track_of[id(min(labels, key=lambda g: np.hypot(*np.subtract(g.box.center[:2], box.center[:2]))))]
    kept_objects = {object_of(b) for b in kept_boxes}
    assert sorted(object_of(a.box) for a in new) == sorted(g.track_id for g in labels if g.track_id not in kept_objects)
    assert not any(bev_iou(a.box, k) > 0.1 for a in new for k in kept_boxes)
    assert {human.uid, other.uid} <= set(now)


def test_prelabel_one_frame_again_keeps_the_boxes_found_again_with_their_tracks(drive, doc):
    detections = ea.detect_frames(drive, GroundTruthDetector(), range(FRAMES))
    doc.apply(ea.prelabel(doc, drive, 0, (), detections, track=True))
    tracks = {a.uid: a.track_id for a in doc.annotations(2)}
    assert len(tracks) >= 8 and all(len(doc.track_frames(t)) > 1 for t in tracks.values())
    again = ea.detect_frames(drive, GroundTruthDetector(), [2])
    assert ea.prelabel(doc, drive, 2, (), again) is None             # the same boxes: nothing to change
    # The detector now puts one box 0.3 m away: only that pre-label is replaced; the others stay,
    # with their uids and the tracks that link them to the other frames.
    first = again[2][0]
    changed = {2: [first.with_(box=first.box.with_(center=np.add(first.box.center, [0.3, 0.0, 0.0]))),
                   *again[2][1:]]}
    before = snapshot(doc)
    bound = check_one_undo(doc, before, ea.prelabel(doc, drive, 2, (), changed))
    assert bound.description.endswith(": 1 box, replacing 1")
    now = doc.annotations(2)
    assert sum(tracks.get(a.uid) == a.track_id for a in now) == len(tracks) - 1


# ---------------------------------------------------------------------------------- tracks
def test_interpolation_between_two_ground_truth_keyframes(drive, doc):
    first, last = gt(drive, 0), gt(drive, FRAMES - 1)
    tracks = [t for t in first if t in last]
    keys = {}
    for t in tracks:
        keys[t] = add_human(doc, 0, first[t])
        add_human(doc, FRAMES - 1, last[t])
    tid = keys[tracks[0]].label.track_id
    # A stale pre-label of one track in frame 2 is moved; an imported box of another is kept, and
    # is a keyframe the interpolation goes through (someone's ground truth).
    stale = doc.apply(CreateCuboid(2, keys[tracks[0]].label.with_(source="model", score=0.5)))
    imported_tid = keys[tracks[1]].label.track_id
    imported = doc.apply(CreateCuboid(1, gt(drive, 1)[tracks[1]].with_(
        source="import", label=keys[tracks[1]].label.label, track_id=imported_tid)))
    assert sorted(ea.keyframes(doc, imported_tid)) == [0, 1, FRAMES - 1]
    before = snapshot(doc)
    cmd = ea.interpolate(doc, drive, 0, [k.uid for k in keys.values()])
    check_one_undo(doc, before, cmd)
    assert doc.get(imported.uid) == next(a for a in before if a.uid == imported.uid)
    assert doc.get(stale.uid).box != stale.label.box and doc.get(stale.uid).track_id == tid
    errors = []
    for f in range(1, FRAMES - 1):
        truth = gt(drive, f)
        for t in tracks:
            ann = doc.find_track(keys[t].label.track_id, f)
            assert ann is not None
            if ann.uid in (imported.uid,):
                continue
            assert ann.source == "model"
            if ann.uid != stale.uid:     # a new box: the keyframe's point count counts no point here
                assert "num_lidar_points" in first[t].attributes and ann.label.attributes["interpolated"]
                assert "num_lidar_points" not in ann.label.attributes
            errors.append(np.linalg.norm(np.subtract(ann.box.center, truth[t].box.center)))
            assert abs(angle_difference(ann.box.yaw, truth[t].box.yaw)) < 0.05
    assert len(errors) > 3 * len(tracks) - 2
    assert np.median(errors) < 0.05 and max(errors) < 0.3
    for f in (0, FRAMES - 1):              # the keyframes themselves are not touched
        assert all(a.source == "human" for a in doc.annotations(f))
    assert imported_tid != tid
    # One keyframe only: nothing to interpolate.
    lone = add_human(doc, 2, drive.labels(2)[0].with_(track_id=None))
    assert ea.interpolate(doc, drive, 2, [lone.uid]) is None


def test_propagation_lands_on_the_next_frame_ground_truth(drive, doc):
    nxt = gt(drive, 1)
    pts1 = drive.points(1)
    objects = [g for g in well_seen(drive, 0, max_range=40.0)
               if g.track_id in nxt and points_in_cuboid(pts1, nxt[g.track_id].box).sum() >= 50]
    assert len(objects) >= 5
    uids = [add_human(doc, 0, g).uid for g in objects]
    before = snapshot(doc)
    cmd = ea.propagate(doc, drive, 0, uids)
    check_one_undo(doc, before, cmd)
    T_1_0 = invert_T(drive.T_world_lidar(1)) @ drive.T_world_lidar(0)
    errors, copy_errors = [], []
    for uid, g in zip(uids, objects):
        src = doc.get(uid)
        out = doc.find_track(src.track_id, 1)
        assert out is not None and out.cls == src.cls and out.track_id == src.track_id
        # machine output until accepted: a pre-label marked as propagated, no keyframe
        assert out.source == "model" and out.attributes["propagated"] is True and out.score is None
        truth = nxt[g.track_id].box
        errors.append(np.linalg.norm(np.subtract(out.box.center, truth.center)[:2]))
        copy = src.box.transformed(T_1_0)    # what a plain copy with ego motion gives
        copy_errors.append(np.linalg.norm(np.subtract(copy.center, truth.center)[:2]))
        assert bev_iou(out.box, truth) > 0.6
    errors, copy_errors = np.array(errors), np.array(copy_errors)
    assert np.median(errors) < 0.1
    moving = copy_errors > 0.3
    assert moving.sum() >= 2
    assert (errors[moving] < copy_errors[moving]).all()


def test_propagation_refuses_boxes_without_points_and_warns_about_hidden_ones(drive, doc):
    """A box holding no LiDAR points (the simulator's own count is 0) is not carried, one whose
    object is hidden in the next frame is placed by its motion alone; both are named in the
    warnings, and the well-seen object beside them is carried without one."""
    pts0, pts1 = drive.points(0), drive.points(1)
    now, nxt = gt(drive, 0), gt(drive, 1)
    empty = next(g for g in now.values() if g.attributes["num_lidar_points"] == 0 and g.label in ("car", "van"))
    hidden = next(g for t, g in now.items() if t in nxt and points_in_cuboid(pts0, g.box).sum() >= 20
                  and nxt[t].attributes["num_lidar_points"] == 0)
    seen = well_seen(drive, 0)[0]
    assert points_in_cuboid(pts0, empty.box).sum() == 0 and points_in_cuboid(pts1, nxt[hidden.track_id].box).sum() == 0
    uids = [add_human(doc, 0, g).uid for g in (empty, hidden, seen)]
    warnings: list[str] = []
    bound = doc.apply(ea.propagate(doc, drive, 0, uids, warnings=warnings))
    assert bound.description.startswith("Propagate 2 cuboids")
    assert doc.find_track(empty.track_id, 1) is None and doc.find_track(seen.track_id, 1) is not None
    assert doc.find_track(hidden.track_id, 1) is not None
    assert len(warnings) == 2
    assert warnings[0].startswith(f"track {empty.track_id}: holds 0 LiDAR points in frame 000000")
    assert "not carried" in warnings[0]
    assert warnings[1].startswith(f"track {hidden.track_id}: ") and "not registered" in warnings[1]
    # ... left where its motion puts it, not on whatever else is near
    placed = doc.find_track(hidden.track_id, 1).box
    assert np.linalg.norm(np.subtract(placed.center, nxt[hidden.track_id].box.center)[:2]) < 0.3
    # Nothing left to carry: no command, the reason in the warnings.
    again: list[str] = []
    assert ea.propagate(doc, drive, 0, [uids[0]], warnings=again) is None and "0 LiDAR points" in again[0]


def test_propagated_boxes_count_their_own_points(drive, doc):
    """``num_lidar_points`` of a propagated box is the count in the next frame (as the simulator
    counts it there), not the source box's."""
    nxt = gt(drive, 1)
    objects = [g for g in well_seen(drive, 0) if g.track_id in nxt]
    uids = [add_human(doc, 0, g).uid for g in objects]
    doc.apply(ea.propagate(doc, drive, 0, uids))
    changed = 0
    pts1 = drive.points(1)
    for g in objects:
        out, truth = doc.find_track(g.track_id, 1), nxt[g.track_id].box
        count = out.attributes["num_lidar_points"]
        assert count == points_in_cuboid(pts1, out.box).sum()
        reference = points_in_cuboid(pts1, truth).sum()      # the true box's count in frame 1
        if np.linalg.norm(np.subtract(out.box.center, truth.center)) < 0.05:
            # a box within 5 cm of the true one holds about its points: bounded by the true box
            # shrunk and grown by 6 cm a side (a flat side 2 cm inside or out moves many points)
            inner = points_in_cuboid(pts1, truth.with_(size=tuple(max(v - 0.12, 0.01) for v in truth.size))).sum()
            outer = points_in_cuboid(pts1, truth.with_(size=tuple(v + 0.12 for v in truth.size))).sum()
            assert inner <= count <= outer
            changed += abs(g.attributes["num_lidar_points"] - reference) > max(5, 0.1 * reference)
    assert changed >= 1


def _world_xy(drive, frame, box):
    return (drive.T_world_lidar(frame) @ np.append(box.center, 1.0))[:2]


def test_propagation_guesses_the_velocity_as_the_benchmark_measures_it(drive):
    """V after V: the track's box in frame 0 is the annotator's, those in frames 1-3 earlier
    propagations, each a little off. Propagating frame 3 with nothing to register against in
    frame 4 places the box by the velocity guess alone: the one the chained benchmark measures
    (velocity_fit.fitted_velocity over the track's last boxes, the annotator's trusted). From
    true boxes, with the shipped window of two, it is the objects' true motion over the frame
    before."""
    from fusionlabel.assist.velocity_fit import WINDOW_BOXES, fitted_velocity

    rng = np.random.default_rng(5)
    later = [gt(drive, f) for f in range(FRAMES)]
    moving = [t for t in later[0] if all(t in g for g in later) and later[3][t].attributes["num_lidar_points"] >= 20
              and np.hypot(*(_world_xy(drive, 4, later[4][t].box) - _world_xy(drive, 3, later[3][t].box))) > 0.1]
    assert len(moving) >= 2
    seconds = [drive.frames[f].timestamp_us * 1e-6 for f in range(FRAMES)]
    nothing = np.zeros((0, drive.points(4).shape[1]), np.float32)
    for noise in (0.08, 0.0):
        doc = Document(len(drive), Ontology.default())
        uids = []
        for t in moving:
            add_human(doc, 0, later[0][t])
            for f in (1, 2, 3):
                box = later[f][t].box
                box = box.with_(center=np.add(box.center, [*rng.normal(0.0, noise, 2), 0.0]))
                made = doc.apply(CreateCuboid(f, later[f][t].with_(box=box, source="model", score=None,
                                                                  label=doc.ontology.resolve(later[f][t].label) or "car",
                                                                  attributes={"propagated": True})))
            uids.append(made.uid)
        warnings: list[str] = []
        doc.apply(ea.propagate(doc, drive, 3, uids, target_points=nothing, warnings=warnings))
        assert len(warnings) == len(moving) and all("not registered" in w for w in warnings), warnings
        dt = seconds[4] - seconds[3]
        for t in moving:
            here = _world_xy(drive, 3, doc.find_track(t, 3).box)
            used = (_world_xy(drive, 4, doc.find_track(t, 4).box) - here) / dt
            frames = range(4 - WINDOW_BOXES, 4)
            guess = fitted_velocity([seconds[f] for f in frames],
                                    [_world_xy(drive, f, doc.find_track(t, f).box) for f in frames],
                                    [f == 0 for f in frames])
            assert np.allclose(used, guess, atol=1e-6)
            if noise == 0.0:      # from true boxes: the objects' true motion over the frame before
                truth = (_world_xy(drive, 3, later[3][t].box) - _world_xy(drive, 2, later[2][t].box)) / dt
                assert WINDOW_BOXES > 2 or np.allclose(used, truth, atol=1e-6)


def test_propagation_moves_prelabels_and_never_human_boxes(drive, doc):
    nxt = gt(drive, 1)
    a, b = [g for g in well_seen(drive, 0) if g.track_id in nxt][:2]
    ua, ub = add_human(doc, 0, a), add_human(doc, 0, b)
    human_next = doc.apply(CreateCuboid(1, ua.label.with_(box=nxt[a.track_id].box)))
    far = nxt[b.track_id].box.with_(center=np.add(nxt[b.track_id].box.center, [0.8, 0.5, 0.0]))
    pre_next = doc.apply(CreateCuboid(1, ub.label.with_(box=far, source="model", score=0.6)))
    before = snapshot(doc)
    cmd = ea.propagate(doc, drive, 0, [ua.uid, ub.uid])
    check_one_undo(doc, before, cmd)
    assert doc.get(human_next.uid) == next(x for x in before if x.uid == human_next.uid)
    moved = doc.get(pre_next.uid).box
    assert np.linalg.norm(np.subtract(moved.center, nxt[b.track_id].box.center)[:2]) < 0.3
    assert len(doc.annotations(1)) == 2
    # Last frame: nothing after it.
    last = add_human(doc, FRAMES - 1, drive.labels(FRAMES - 1)[0])
    assert ea.propagate(doc, drive, FRAMES - 1, [last.uid]) is None


def test_assist_commands_survive_the_project_store(tmp_path):
    """Every assist command serialises into the command log: undo after reopening restores."""
    from fusionlabel.store.project import Project

    path = testing.small_drive(frames=FRAMES, seed=3, points=60_000)
    with Project.create(tmp_path / "p", path) as project:
        doc, drive = project.document, project.drive
        g0, g4 = gt(drive, 0), gt(drive, FRAMES - 1)
        T0, T4 = drive.T_world_lidar(0), drive.T_world_lidar(FRAMES - 1)
        world = lambda T, g: T[:3, :3] @ g.box.center + T[:3, 3]  # noqa: E731
        t = next(t for t in g0 if t in g4 and np.linalg.norm(world(T0, g0[t]) - world(T4, g4[t])) > 1.0
                 and g0[t].attributes["num_lidar_points"] >= 20)      # V carries only boxes with points
        k0 = add_human(doc, 0, g0[t])
        add_human(doc, FRAMES - 1, g4[t].with_(track_id=k0.label.track_id))
        doc.apply(ea.interpolate(doc, drive, 0, [k0.uid]))
        doc.apply(ea.prelabel(doc, drive, 0, (), ea.detect_frames(drive, GroundTruthDetector(), [0, 1]),
                              track=True))
        doc.apply(ea.propagate(doc, drive, 0, [k0.uid]))          # moves the track's box in frame 1
        assert doc.history()[-1].startswith("Propagate")
        pts = drive.points(2)
        g = next(g for g in well_seen(drive, 2) if g.track_id != t)
        made = doc.apply(ea.one_click(doc, drive, 2, (), pts[points_in_cuboid(pts, g.box)][0, :3]))
        doc.apply(ea.auto_fit(doc, drive, 2, [made.commands[0].uid], keep_yaw=False))
        state = snapshot(doc)
        history = doc.history()
        assert len(history) == 7
    with Project.open(tmp_path / "p") as project:
        doc = project.document
        assert annotations_equal(snapshot(doc), state) and doc.history() == history
        for _ in range(5):
            doc.undo()
        assert all(a.source == "human" for a in doc.all_annotations())
        assert len(doc.all_annotations()) == 2
        for _ in range(5):
            doc.redo()
        assert annotations_equal(snapshot(doc), state)


def test_delete_prelabels_keeps_the_ones_the_annotator_edited(drive, doc):
    """Shift+X follows Ctrl+P's rule: a pre-label you moved or re-classed is your work and stays;
    the untouched ones and machine-made model boxes (interpolated, propagated) go."""
    doc.apply(ea.prelabel(doc, drive, 0, (), ea.detect_frames(drive, GroundTruthDetector(), [0])))
    model = [a for a in doc.annotations(0) if a.source == "model"]
    moved, retyped = model[0], model[1]
    doc.apply(SetBox(moved.uid, moved.box.with_(center=np.add(moved.box.center, [0.3, 0.0, 0.0]))))
    doc.apply(SetClass(retyped.uid, "misc" if retyped.cls != "misc" else "car"))
    undone = model[2]
    doc.apply(SetClass(undone.uid, "misc" if undone.cls != "misc" else "car"))
    doc.undo()                                       # an undone edit leaves it untouched
    before = snapshot(doc)
    bound = check_one_undo(doc, before, ea.delete_prelabels(doc, drive, 0, ()))
    assert bound.description == f"Delete {len(model) - 2} pre-labels, keeping 2 you edited"
    assert {a.uid for a in doc.annotations(0)} == {moved.uid, retyped.uid}
    assert ea.delete_prelabels(doc, drive, 0, ()) is None
    # Ctrl+P keeps the same two
    doc.apply(ea.prelabel(doc, drive, 0, (), ea.detect_frames(drive, GroundTruthDetector(), [0])))
    assert {moved.uid, retyped.uid} <= {a.uid for a in doc.annotations(0)}


def nudged(ann, dx=0.4):
    return ann.box.with_(center=np.add(ann.box.center, [dx, 0.0, 0.0]))


def test_an_edited_interpolated_box_is_the_annotators_work(drive, doc):
    """An interpolated box the annotator moved counts as edited (as a pre-label run's box does):
    interpolating again, Shift+X and Ctrl+P leave it where the annotator put it, while untouched
    interpolated boxes are machine output that I moves and Shift+X deletes. Undoing the move
    makes it untouched again; Y makes it human work and a keyframe."""
    from fusionlabel.assist.prelabel_project import edited_prelabels

    first, last = gt(drive, 0), gt(drive, FRAMES - 1)
    track = next(t for t in first if t in last)
    key0 = add_human(doc, 0, first[track])
    key4 = add_human(doc, FRAMES - 1, last[track])
    tid = key0.label.track_id
    doc.apply(ea.interpolate(doc, drive, 0, [key0.uid]))
    filled = {f: doc.find_track(tid, f) for f in range(1, FRAMES - 1)}
    assert all(a.source == "model" and a.attributes["interpolated"] for a in filled.values())
    assert all(edited_prelabels(doc, [f]) == set() for f in filled)    # machine output, untouched

    # The annotator moves frame 2's box; the other interpolated boxes stay untouched.
    mine = nudged(filled[2])
    doc.apply(SetBox(filled[2].uid, mine))
    assert edited_prelabels(doc, range(FRAMES)) == {filled[2].uid}
    doc.undo()
    assert edited_prelabels(doc, [2]) == set()                         # an undone move does not count
    doc.redo()

    # A keyframe moves: I again moves the untouched boxes and keeps the edited one, and says so.
    doc.apply(SetBox(key4.uid, nudged(doc.get(key4.uid), 1.0)))
    before = snapshot(doc)
    bound = check_one_undo(doc, before, ea.interpolate(doc, drive, 0, [key0.uid]))
    assert bound.description == f"Interpolate track {tid}, keeping 1 you edited"
    assert doc.get(filled[2].uid).box == mine
    assert all(doc.get(filled[f].uid).box != filled[f].box for f in (1, 3))
    # ... and what the machine moved is still machine output, not edited.
    assert edited_prelabels(doc, range(FRAMES)) == {filled[2].uid}

    # Ctrl+P keeps every interpolated box (edited or not); Shift+X deletes only the untouched ones.
    for f in filled:
        doc.apply(ea.prelabel(doc, drive, f, (), ea.detect_frames(drive, GroundTruthDetector(), [f])))
        assert doc.get(filled[f].uid) is not None
    bound = doc.apply(ea.delete_prelabels(doc, drive, 2, ()))
    assert bound.description.endswith(", keeping 1 you edited")
    assert [a.uid for a in doc.annotations(2)] == [filled[2].uid] and doc.get(filled[2].uid).box == mine
    doc.apply(ea.delete_prelabels(doc, drive, 1, ()))
    assert doc.find_track(tid, 1) is None

    # Accepted, it is human work: no pre-label any more, and a keyframe for I.
    doc.apply(AcceptPrelabel((filled[2].uid,)))
    assert edited_prelabels(doc, [2]) == set() and doc.get(filled[2].uid).source == "human"
    assert set(ea.keyframes(doc, tid)) == {0, 2, FRAMES - 1}


def test_propagating_again_keeps_an_edited_propagated_box(drive, doc):
    """V onto a frame whose propagated box the annotator moved leaves the correction alone and
    says so; an untouched propagated box is moved onto the new result, and so is one the annotator
    only retyped (its new class kept: a class says nothing of where the box is)."""
    from fusionlabel.assist.prelabel_project import edited_prelabels

    nxt = gt(drive, 1)
    a, b, c = [g for g in well_seen(drive, 0) if g.track_id in nxt][:3]
    ua, ub, uc = add_human(doc, 0, a), add_human(doc, 0, b), add_human(doc, 0, c)
    doc.apply(ea.propagate(doc, drive, 0, [ua.uid, ub.uid, uc.uid]))
    pa, pb, pc = (doc.find_track(u.label.track_id, 1) for u in (ua, ub, uc))
    assert pa.attributes["propagated"] and edited_prelabels(doc, [1]) == set()
    doc.apply(SetBox(pa.uid, nudged(pa, 0.3)))                          # the annotator's correction
    retyped = "misc" if pc.cls != "misc" else "car"
    doc.apply(SetClass(pc.uid, retyped))                                # an edit other than a move
    assert edited_prelabels(doc, [1]) == {pa.uid, pc.uid}
    # The sources move: propagating again moves the untouched and the retyped copies only.
    for uid in (ua.uid, ub.uid, uc.uid):
        doc.apply(SetBox(uid, nudged(doc.get(uid), 0.5)))
    kept = doc.get(pa.uid)
    before = snapshot(doc)
    bound = check_one_undo(doc, before, ea.propagate(doc, drive, 0, [ua.uid, ub.uid, uc.uid]))
    assert bound.description == f"Propagate 2 cuboids to frame {drive.frames[1].frame_id}, keeping 1 you edited"
    assert doc.get(pa.uid) == kept and doc.get(pb.uid).box != pb.box
    assert doc.get(pc.uid).box != pc.box and doc.get(pc.uid).cls == retyped
    # Only the moved one selected: nothing to do.
    assert ea.propagate(doc, drive, 0, [ua.uid]) is None


def interpolated_track(drive, doc):
    """A track with human keyframes in the first and last frames and I run between them: the two
    keyframes' commands, the track id and the interpolated boxes by frame."""
    first, last = gt(drive, 0), gt(drive, FRAMES - 1)
    track = next(t for t in first if t in last)
    key0, key4 = add_human(doc, 0, first[track]), add_human(doc, FRAMES - 1, last[track])
    tid = key0.label.track_id
    doc.apply(ea.interpolate(doc, drive, 0, [key0.uid]))
    return key0, key4, tid, {f: doc.find_track(tid, f) for f in range(1, FRAMES - 1)}


def test_a_retyped_track_still_follows_its_keyframes(drive, doc):
    """A class given to a whole track (its interpolated boxes too) is no edit of where they are:
    after a keyframe moves, I moves them, keeping their new class; a box the annotator moved stays."""
    key0, key4, tid, filled = interpolated_track(drive, doc)
    retyped = "misc" if key0.label.label != "misc" else "car"
    for a in (key0, key4, *filled.values()):
        doc.apply(SetClass(a.uid, retyped))
    mine = nudged(doc.get(filled[2].uid))
    doc.apply(SetBox(filled[2].uid, mine))
    doc.apply(SetBox(key4.uid, nudged(doc.get(key4.uid), 1.0)))
    cmd = ea.interpolate(doc, drive, 0, [key0.uid])
    assert cmd is not None, "I did nothing: the retyped boxes were taken for the annotator's"
    assert doc.apply(cmd).description == f"Interpolate track {tid}, keeping 1 you edited"
    assert doc.get(filled[2].uid).box == mine
    for f in (1, 3):
        assert doc.get(filled[f].uid).box != filled[f].box and doc.get(filled[f].uid).cls == retyped


def test_imported_boxes_are_keyframes(drive, doc):
    """The labels that came with the drive are someone's ground truth: I interpolates between them
    (an imported track with frames deleted in the middle is filled again from its neighbours)
    and never changes them, edited or not."""
    first, last = gt(drive, 0), gt(drive, FRAMES - 1)
    track = next(t for t in first if t in last)
    a = doc.apply(CreateCuboid(0, first[track].with_(source="import", label="car")))
    tid = a.label.track_id
    b = doc.apply(CreateCuboid(FRAMES - 1, last[track].with_(source="import", label="car", track_id=tid)))
    doc.apply(SetBox(b.uid, nudged(doc.get(b.uid), 0.02)))    # an edited import is still a keyframe
    assert sorted(ea.keyframes(doc, tid)) == [0, FRAMES - 1]
    before = snapshot(doc)
    check_one_undo(doc, before, ea.interpolate(doc, drive, 0, [a.uid]))
    for f in range(1, FRAMES - 1):
        box = doc.find_track(tid, f)
        assert box.source == "model" and box.attributes["interpolated"]
        assert np.linalg.norm(np.subtract(box.box.center, gt(drive, f)[track].box.center)) < 0.1
    assert doc.get(a.uid).label == a.label                   # the keyframes are not touched


def copy_chain(doc, drive, uid, frames):
    """Carry a cuboid with C from its frame through ``frames`` more frames; the copies' uids."""
    out = []
    for _ in range(frames):
        ann = doc.get(uid)
        bound = doc.apply(edit_actions.copy_to_next_frame(doc, [uid], ann.frame, drive))
        uid = bound.created[0][0].uid
        out.append(uid)
    return out


def test_interpolation_replaces_unedited_copies_and_keeps_edited_ones(drive, doc):
    """The keyframe workflow with C: a box carried with C to the last frame and fixed there is a
    keyframe; the copies between, untouched, are replaced by the interpolation (one undo brings
    them back); a copy the annotator changed (moved, or only given an attribute) is a keyframe
    and stays exactly as it is; a copy only moved to another track is still unedited."""
    from fusionlabel.assist.keyframes import frames_with_keyframes, unedited_copies

    first, last = gt(drive, 0), gt(drive, FRAMES - 1)

    def world(f, label):
        return (drive.T_world_lidar(f) @ np.append(label.box.center, 1.0))[:3]
    track = next(t for t in first if t in last and np.hypot(*first[t].box.center[:2]) < 30
                 and np.linalg.norm(world(0, first[t]) - world(FRAMES - 1, last[t])) > 1.0)   # a moving car
    key0 = add_human(doc, 0, first[track])
    tid = key0.label.track_id
    copies = copy_chain(doc, drive, key0.uid, FRAMES - 1)
    assert all(doc.get(u).source == "human" for u in copies)
    assert unedited_copies(doc, doc.all_annotations()) == set(copies)
    assert sorted(ea.keyframes(doc, tid)) == [0] and frames_with_keyframes(doc, range(FRAMES)) == {0}
    # Fixing the copy in the last frame makes it a keyframe; undoing the fix does not.
    doc.apply(SetBox(copies[-1], last[track].box))
    assert doc.get(copies[-1]).box == last[track].box
    assert sorted(ea.keyframes(doc, tid)) == [0, FRAMES - 1]
    doc.undo()
    assert sorted(ea.keyframes(doc, tid)) == [0]
    doc.redo()
    # A track change alone (joining, splitting) is no edit of the box.
    doc.apply(SetTrack(copies[0], "999"))
    doc.apply(SetTrack(copies[0], tid))
    assert copies[0] in unedited_copies(doc, [doc.get(copies[0])])
    # An attribute set on the copy in frame 2 is the annotator's work: a keyframe, kept (here the
    # annotator also puts it on the object).
    doc.apply(SetAttributes(copies[1], {"occlusion": "partial"}))
    assert sorted(ea.keyframes(doc, tid)) == [0, 2, FRAMES - 1]
    doc.apply(SetBox(copies[1], gt(drive, 2)[track].box))
    kept = doc.get(copies[1])
    before = snapshot(doc)
    bound = check_one_undo(doc, before, ea.interpolate(doc, drive, FRAMES - 1, [copies[-1]]))
    assert bound.description == f"Interpolate track {tid}, replacing 2 unedited copies"
    assert doc.get(copies[1]) == kept
    for f in (1, 3):
        box = doc.find_track(tid, f)
        assert box.uid not in copies and box.source == "model" and box.attributes["interpolated"]
        # the car moves: the interpolated box is near the truth, the copy was not
        truth = gt(drive, f)[track].box.center
        assert np.linalg.norm(np.subtract(box.box.center, truth)) < 0.3
        assert np.linalg.norm(np.subtract(next(a for a in before if a.uid == copies[f - 1]).box.center, truth)) > 0.5
    # The replaced frames are machine output now: I again changes nothing.
    assert ea.interpolate(doc, drive, 0, [key0.uid]) is None


def test_model_commands_leave_the_kept_uids_alone_and_count_them(drive, doc):
    """``keep`` (the app's locked classes): Ctrl+P, Shift+X, I and V change none of those cuboids,
    do the rest of their work, and say how many they kept."""
    doc.apply(ea.prelabel(doc, drive, 0, (), ea.detect_frames(drive, GroundTruthDetector(), [0])))
    model = [a for a in doc.annotations(0) if a.source == "model"]
    keep = {model[0].uid, model[1].uid}
    kept = {u: doc.get(u) for u in keep}
    before = snapshot(doc)
    bound = check_one_undo(doc, before, ea.prelabel(doc, drive, 0, (), ea.detect_frames(
        drive, BetterDetector(), [0]), detector="better", keep=keep))
    assert bound.description.endswith(f", replacing {len(model) - 2}, keeping 2 locked")
    assert set(bound.commands[0].uids) == {a.uid for a in model} - keep
    assert {u: doc.get(u) for u in keep} == kept
    n = sum(a.source == "model" for a in doc.annotations(0))
    bound = check_one_undo(doc, snapshot(doc), ea.delete_prelabels(doc, drive, 0, (), keep=keep))
    assert bound.description == f"Delete {n - 2} pre-labels, keeping 2 locked"
    assert {a.uid: a for a in doc.annotations(0)} == kept
    assert ea.delete_prelabels(doc, drive, 0, (), keep=keep) is None

    # I: a box of the track the interpolation would move stays where it is
    key0, key4, tid, filled = interpolated_track(drive, doc)
    doc.apply(SetBox(key4.uid, nudged(doc.get(key4.uid), 1.0)))
    bound = check_one_undo(doc, snapshot(doc), ea.interpolate(doc, drive, 0, [key0.uid], keep={filled[2].uid}))
    assert bound.description == f"Interpolate track {tid}, keeping 1 locked"
    assert doc.get(filled[2].uid) == filled[2]
    assert all(doc.get(filled[f].uid).box != filled[f].box for f in (1, 3))

    # V: the propagated box of a kept uid is not moved onto the new result
    nxt = gt(drive, 2)
    a, b = [g for g in well_seen(drive, 1) if g.track_id in nxt and g.track_id != tid][:2]
    ua, ub = add_human(doc, 1, a), add_human(doc, 1, b)
    doc.apply(ea.propagate(doc, drive, 1, [ua.uid, ub.uid]))
    pa, pb = doc.find_track(ua.label.track_id, 2), doc.find_track(ub.label.track_id, 2)
    for uid in (ua.uid, ub.uid):
        doc.apply(SetBox(uid, nudged(doc.get(uid), 0.5)))
    bound = check_one_undo(doc, snapshot(doc), ea.propagate(doc, drive, 1, [ua.uid, ub.uid], keep={pa.uid}))
    assert bound.description == f"Propagate 1 cuboid to frame {drive.frames[2].frame_id}, keeping 1 locked"
    assert doc.get(pa.uid) == pa and doc.get(pb.uid).box != pb.box


def test_overlap_matrix_is_the_pairwise_rule():
    """Each pair by the rule itself: BEV IoU above the threshold, or one centre inside the other
    box; overlaps() is its rows' any()."""
    import numpy as np

    from fusionlabel.assist.prelabel import OVERLAP_IOU, overlap_matrix, overlaps
    from fusionlabel.geometry.cuboid import Cuboid, points_in_cuboid
    from fusionlabel.geometry.iou import bev_iou

    rng = np.random.default_rng(11)

    def boxes(n):
        return [Cuboid(rng.uniform(-5, 5, 3), rng.uniform(0.4, 6.0, 3), rng.uniform(-np.pi, np.pi)) for _ in range(n)]

    a, b = boxes(25), boxes(20)
    for inside in (True, False):
        want = np.array([[bev_iou(x, y) > OVERLAP_IOU
                          or (inside and (bool(points_in_cuboid(np.array([x.center]), y)[0])
                                          or bool(points_in_cuboid(np.array([y.center]), x)[0])))
                          for y in b] for x in a])
        got = overlap_matrix(a, b, centres_inside=inside)
        assert want.any() and not want.all()
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(overlaps(a, b, centres_inside=inside), want.any(axis=1))


# ---------------------------------------------------------------------------------- absent marks
def test_frames_marked_absent_stay_empty_under_interpolation_and_propagation(drive, doc):
    """H on an interpolated box (the object is hidden there) deletes it and marks its track absent
    in that frame, one undo step; I run again leaves that frame empty (before the mark it refilled
    it), V does not carry the track into it and says why; Shift+H takes the marks back."""
    first, last = gt(drive, 0), gt(drive, FRAMES - 1)
    t = next(t for t in first if t in last)
    key = add_human(doc, 0, first[t])
    add_human(doc, FRAMES - 1, last[t])
    tid = key.label.track_id
    doc.apply(ea.interpolate(doc, drive, 0, [key.uid]))
    hidden = doc.find_track(tid, 2)
    assert hidden is not None and hidden.source == "model"
    doc.apply(edit_actions.delete(doc, [hidden.uid]))            # a plain delete: I fills the frame again
    assert ea.interpolate(doc, drive, 0, [key.uid]) is not None
    doc.undo()                                                    # the delete is back: no box in frame 2
    doc.undo()
    doc.apply(ea.interpolate(doc, drive, 0, [key.uid]))
    hidden = doc.find_track(tid, 2)
    before = snapshot(doc)
    cmd = edit_actions.mark_absent(doc, [hidden.uid], frame_name=lambda f: drive.frames[f].frame_id)
    assert cmd.description == f"Track {tid} absent in frame {drive.frames[2].frame_id} (its cuboid deleted)"
    check_one_undo(doc, before, cmd)
    assert doc.absent_frames(tid) == [2] and doc.find_track(tid, 2) is None
    # move the last keyframe: I refits the track but leaves frame 2 empty
    end = doc.find_track(tid, FRAMES - 1)
    doc.apply(SetBox(end.uid, end.box.with_(center=np.add(end.box.center, (0.5, 0.0, 0.0)))))
    cmd = ea.interpolate(doc, drive, 0, [key.uid])
    assert cmd is not None and "leaving 1 frame marked absent empty" in cmd.description
    doc.apply(cmd)
    assert doc.find_track(tid, 2) is None and doc.find_track(tid, 1) is not None
    # V from frame 1 into frame 2: not carried, with the reason
    doc.apply(AcceptPrelabel((doc.find_track(tid, 1).uid,)))
    warnings: list[str] = []
    assert ea.propagate(doc, drive, 1, [doc.find_track(tid, 1).uid], warnings=warnings) is None
    assert warnings == [f"track {tid}: marked absent in frame {drive.frames[2].frame_id}; not carried "
                        "(Shift+H takes the track's absent marks back)"]
    # Shift+H (with any box of the track selected) takes the mark back; I fills the frame again
    cmd = edit_actions.unmark_absent(doc, [key.uid], frame_name=lambda f: drive.frames[f].frame_id)
    assert cmd.description == f"No longer absent: track {tid} in frame {drive.frames[2].frame_id}"
    doc.apply(cmd)
    assert doc.absent_frames(tid) == [] and edit_actions.unmark_absent(doc, [key.uid]) is None
    doc.apply(ea.interpolate(doc, drive, 0, [key.uid]))
    assert doc.find_track(tid, 2) is not None



def test_a_detector_s_point_count_is_counted_again_where_its_box_is_carried(drive, doc):
    """The built-in detector gives each box the LiDAR points it found (``num_points``). Carried
    to the next frame by V or C, the box holds that frame's points, not the ones it held where it
    was detected; an interpolated box carries no count (it has no points of its own to trust).
    (V's and C's copies used to keep the detected frame's count, which exports then wrote.)"""
    doc.apply(ea.prelabel_frame(doc, drive, 0, (), make_detector("builtin")))
    pres = [a for a in doc.annotations(0) if "num_points" in a.attributes and a.attributes["num_points"] >= 50]
    assert pres, "the detector should find objects with points on the simulated drive"
    doc.apply(edit_actions.accept_prelabels(doc, [a.uid for a in pres]))
    pts1 = drive.points(1)
    doc.apply(ea.propagate(doc, drive, 0, [a.uid for a in pres]))
    carried = [doc.find_track(a.track_id, 1) for a in pres if doc.find_track(a.track_id, 1) is not None]
    assert carried
    counts = [(b.attributes["num_points"], int(points_in_cuboid(pts1, b.box).sum())) for b in carried]
    assert all(n == truth for n, truth in counts), counts
    assert any(b.attributes["num_points"] != a.attributes["num_points"] for a, b in zip(pres, carried))
    # C into frame 2: counted there; I between frames 0 and 2 fills frame 1 without a count.
    for b in carried:
        doc.apply(edit_actions.accept_prelabels(doc, [b.uid]))
    doc.apply(edit_actions.copy_to_next_frame(doc, [b.uid for b in carried], 1, drive))
    pts2 = drive.points(2)
    for b in carried:
        copy = doc.find_track(b.track_id, 2)
        assert copy.attributes["num_points"] == int(points_in_cuboid(pts2, copy.box).sum())
    doc.undo()                  # a C copy nobody changed is no keyframe: V's accepted ones are
    doc.apply(ea.propagate(doc, drive, 1, [b.uid for b in carried]))
    doc.apply(edit_actions.accept_prelabels(doc, [a.uid for a in doc.annotations(2)]))
    doc.apply(edit_actions.delete(doc, [b.uid for b in carried]))
    doc.apply(ea.interpolate(doc, drive, 0, [a.uid for a in pres]))
    filled = [doc.find_track(a.track_id, 1) for a in pres]
    assert any(f is not None for f in filled)
    assert all("num_points" not in f.attributes for f in filled if f is not None)


def test_boxes_carried_to_other_frames_carry_no_detection_score(drive, doc):
    """A detector's score describes its detection in its own frame: the boxes C, V and I make in
    other frames carry none, neither ``score`` (a pre-label copied with C, an imported keyframe's
    for I) nor an accepted pre-label's ``prelabel_score``; the source stays as it was (a C copy of
    a pre-label is a pre-label). (They used to keep the detected frame's score, which exports wrote.)"""
    tracks = [g.track_id for g in well_seen(drive, 0) if g.track_id in gt(drive, 2)][:3]
    assert len(tracks) == 3
    t_pre, t_acc, t_imp = tracks
    pre = doc.apply(CreateCuboid(0, gt(drive, 0)[t_pre].with_(source="model", score=0.8, label="car")))
    acc = doc.apply(CreateCuboid(0, gt(drive, 0)[t_acc].with_(source="model", score=0.7, label="car")))
    doc.apply(edit_actions.accept_prelabels(doc, [acc.uid]))
    assert doc.get(acc.uid).attributes["prelabel_score"] == 0.7
    imp = doc.apply(CreateCuboid(0, gt(drive, 0)[t_imp].with_(source="import", score=0.6, label="car")))
    doc.apply(CreateCuboid(2, gt(drive, 2)[t_imp].with_(source="import", score=0.9, label="car")))

    def unscored(a):
        return a.score is None and "prelabel_score" not in a.attributes

    doc.apply(edit_actions.copy_to_next_frame(doc, [pre.uid, acc.uid], 0, drive))
    copies = [doc.find_track(t, 1) for t in (t_pre, t_acc)]
    assert [c.source for c in copies] == ["model", "human"] and all(unscored(c) for c in copies)
    doc.undo()
    doc.apply(ea.propagate(doc, drive, 0, [acc.uid]))
    assert unscored(doc.find_track(t_acc, 1)) and doc.find_track(t_acc, 1).attributes["propagated"]
    doc.apply(ea.interpolate(doc, drive, 0, [imp.uid]))
    filled = doc.find_track(t_imp, 1)
    assert filled.source == "model" and filled.attributes["interpolated"] and unscored(filled)
    assert doc.get(acc.uid).attributes["prelabel_score"] == 0.7 and doc.get(imp.uid).score == 0.6
