"""Label checks of `fusionlabel check`: each reviewer's mistake, made on purpose in the exact labels of
a simulated drive, is flagged by its own check and by no other; the exact labels, the real KITTI,
nuScenes and KITTI tracking ground truth give no finding, and SUSTech's two odd boxes are found."""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import replace

import numpy as np
import pytest
from conftest import simulated_drive

from fusionlabel.cli.main import main
from fusionlabel.geometry.cuboid import Cuboid, points_in_cuboid
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.qa import box_checks
from fusionlabel.qa.label_check import check_labels, drive_labels


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    return simulated_drive(tmp_path_factory)


@pytest.fixture(scope="module")
def labels(sim):
    return drive_labels(sim)


def checks(report) -> set[str]:
    return {f.check for f in report.findings}


def subjects(report) -> set[str]:
    return {f.subject for f in report.findings}


@pytest.fixture(scope="module")
def car(sim, labels) -> str:
    """A car seen in every frame within 25 m, well covered by points (counted here, not by the checks)."""
    best = {}
    for i, frame in labels.items():
        points = sim.points(i)
        for lab in frame:
            if lab.label == "car" and np.hypot(*lab.box.center[:2]) < 25.0:
                n = int(points_in_cuboid(points, lab.box).sum())
                best.setdefault(lab.track_id, []).append(n)
    full = {t: min(ns) for t, ns in best.items() if len(ns) == len(labels)}
    assert full and max(full.values()) >= 50, full
    return max(full, key=full.get)


def edited(labels, frame: int, track: str, **changes) -> dict:
    """``labels`` with track ``track``'s box of ``frame`` changed (Cuboid fields, or ``label``)."""
    out = {i: list(v) for i, v in labels.items()}
    for k, lab in enumerate(out[frame]):
        if lab.track_id == track:
            label = changes.pop("label", lab.label)
            out[frame][k] = lab.with_(box=lab.box.with_(**changes), label=label)
            return out
    raise AssertionError(f"no track {track} in frame {frame}")


def box_of(labels, frame: int, track: str):
    return next(lab.box for lab in labels[frame] if lab.track_id == track)


def test_exact_labels_give_no_finding(sim, labels):
    report = check_labels(sim, labels, "drive")
    assert report.findings == [], [f.message for f in report.findings]
    assert report.frames == len(sim) == report.swept_frames and report.boxes > 30 and report.tracks > 10
    assert report.prelabels == 0 and report.notes == []


@pytest.mark.parametrize("dz, word", [(1.0, "floats"), (-1.0, "sinks")])
def test_box_moved_up_or_down_is_off_the_ground(sim, labels, car, dz, word):
    box = box_of(labels, 1, car)
    report = check_labels(sim, edited(labels, 1, car, center=np.add(box.center, (0, 0, dz))), "drive")
    assert checks(report) == {"label-ground"}, [f.message for f in report.findings]
    (f,) = report.findings
    assert f.subject == f"frame {sim.frames[1].frame_id} track {car} (car)" and word in f.message


def test_box_in_empty_space_is_empty(sim, labels, car):
    """A car box put on the road ahead where nothing is labelled (the simulator labels every agent and
    parked vehicle): the LiDAR sees the road through it."""
    box = box_of(labels, 0, car)
    centres = np.array([lab.box.center[:2] for lab in labels[0]])
    spot = next((x, y) for x in np.arange(8.0, 30.0, 1.0) for y in (0.0, 1.0, -1.0)
                if np.hypot(*(centres - (x, y)).T).min() > 6.0)
    ghost = labels[0][0].with_(box=box.with_(center=(spot[0], spot[1], box.center[2]), yaw=0.0), track_id=None)
    out = dict(labels)
    out[0] = labels[0] + [ghost]
    report = check_labels(sim, out, "drive")
    assert checks(report) == {"label-empty"}, [f.message for f in report.findings]
    assert subjects(report) == {f"frame {sim.frames[0].frame_id} box #{len(out[0])} ({ghost.label})"}


def test_duplicate_box(sim, labels, car):
    box = box_of(labels, 2, car)
    twin = next(lab for lab in labels[2] if lab.track_id == car).with_(
        box=box.with_(center=np.add(box.center, (0.3, 0.1, 0.0))), track_id="copy")
    out = dict(labels)
    out[2] = labels[2] + [twin]
    report = check_labels(sim, out, "drive")
    assert checks(report) == {"label-duplicate"}, [f.message for f in report.findings]
    assert "track copy (car)" in report.findings[0].message


def test_a_models_prelabel_is_left_out(sim, labels, car):
    """The same duplicate as a pre-label not yet accepted is no human work to check: counted, left out."""
    pre = next(lab for lab in labels[2] if lab.track_id == car).with_(source="model", score=0.6, track_id=None)
    out = dict(labels)
    out[2] = labels[2] + [pre]
    report = check_labels(sim, out, "drive")
    assert report.findings == [] and report.prelabels == 1
    assert "1 pre-label not yet accepted left out" in report.status()


def test_size_outside_the_class(sim, labels, car):
    report = check_labels(sim, edited(labels, 1, car, size=(4.4, 4.3, 1.5)), "drive", sweeps=False)
    assert {"label-size", "track-size"} == checks(report), [f.message for f in report.findings]


def test_track_size_change(sim, labels, car):
    box = box_of(labels, 1, car)
    longer = (box.length * 1.3, box.width, box.height)
    report = check_labels(sim, edited(labels, 1, car, size=longer), "drive")
    assert checks(report) == {"track-size"}, [f.message for f in report.findings]
    assert report.findings[0].subject == f"track {car} (car)" and "(2 changes)" in report.findings[0].message
    # for a program: the frame its message names first, every frame of the changes, the largest change
    f = report.findings[0]
    assert f.frames == tuple(frame.frame_id for frame in sim.frames) and f.frame == sim.frames[0].frame_id
    assert f.value == pytest.approx(box.length * 0.3) and f.threshold == pytest.approx(0.1 * box.length * 1.3)


def test_teleported_box_jumps(sim, labels, car):
    box = box_of(labels, 1, car)
    report = check_labels(sim, edited(labels, 1, car, center=np.add(box.center, (0.0, 12.0, 0.0))), "drive",
                          sweeps=False)
    assert checks(report) == {"track-jump"}, [f.message for f in report.findings]
    assert "world frame" in report.findings[0].message and "(2 jumps)" in report.findings[0].message


def test_class_change(sim, labels, car):
    report = check_labels(sim, edited(labels, 2, car, label="van"), "drive", sweeps=False)
    assert checks(report) == {"track-class"}, [f.message for f in report.findings]
    assert "from car to van" in report.findings[0].message


def test_yaw_flip(sim, labels, car):
    box = box_of(labels, 1, car)
    report = check_labels(sim, edited(labels, 1, car, yaw=box.yaw + math.pi), "drive")
    assert checks(report) == {"track-yaw-flip"}, [f.message for f in report.findings]
    assert "180 deg" in report.findings[0].message


# ------------------------------------------------------------------------------------------ the command
def test_cli_label_options_exit_codes_and_json(sim, tmp_path, capsys):
    copy = tmp_path / "d"
    shutil.copytree(sim.root, copy)
    path = copy / "labels" / f"{sim.frames[1].frame_id}.json"
    doc = json.loads(path.read_text())
    doc["objects"][0]["center"][2] += 1.5
    doc["objects"][0]["size"] = [doc["objects"][0]["size"][1], doc["objects"][0]["size"][0], 1.0]
    path.write_text(json.dumps(doc))
    assert main(["check", str(copy), "--labels-only", "--json"]) == 3
    out = json.loads(capsys.readouterr().out)
    assert out["labels"]["source"] == "drive" and out["labels"]["frames"] == len(sim)
    assert "track-size" in {f["check"] for f in out["findings"]}
    assert "cameras" not in out
    assert main(["check", str(copy), "--labels-only"]) == 3
    text = capsys.readouterr().out
    assert "labels: " in text and " becomes " in text and "cameras" not in text
    assert main(["check", str(copy), "--no-labels", "--no-poses"]) == 0
    assert "labels:" not in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main(["check", str(copy), "--no-labels", "--labels-only"])
    assert exit_.value.code == 2 and "not allowed with" in capsys.readouterr().err
    assert main(["check", str(sim.root), "--labels-only"]) == 0


def test_cli_checks_a_projects_human_work_not_its_prelabels(sim, tmp_path, capsys):
    from fusionlabel.model.commands import CreateCuboid
    from fusionlabel.store.project import Project

    folder = tmp_path / "project"
    with Project.create(folder, sim.root, import_labels=True) as project:
        lab = project.document.annotations(0)[0].label
        project.document.apply(CreateCuboid(0, lab.with_(source="model", score=0.5, track_id=None)))
    assert main(["check", str(folder), "--labels-only", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)["labels"]
    assert out["source"] == "project" and out["prelabels_left_out"] == 1 and out["boxes"] == sum(
        len(v) for v in drive_labels(sim).values())
    with Project.open(folder) as project:
        project.document.apply(CreateCuboid(0, lab.with_(track_id=None)))
    assert main(["check", str(folder), "--labels-only", "--json"]) == 3
    assert [f["check"] for f in json.loads(capsys.readouterr().out)["findings"]] == ["label-duplicate"]


# ------------------------------------------------------------------------------------------ real data
def test_real_kitti_and_nuscenes_ground_truth_give_no_finding(kitti_object, nusc_root):
    from fusionlabel.io.drives import open_drive

    for path in (kitti_object, nusc_root):
        drive = open_drive(path)
        report = check_labels(drive, drive_labels(drive), "drive")
        assert report.boxes > 20 and report.swept_frames == report.frames
        assert report.findings == [], [(f.subject, f.message) for f in report.findings]


def test_real_sustech_odd_boxes_are_found(realdata):
    """SUSTech's sequence has four oddities (docs/label_checks.md): pedestrian 82 is 1.69 m long in
    every frame; bus 3 is 3.24 m wide in frame 950 and 2.61 m in the others (its points span 2.5 m),
    and has no box in frame 970, between its boxes 0.5 s before and after (hundreds of returns lie
    where it would be); car 2, beside the ego, is boxed from frame 970 on but is already there in
    965 (its returns, and the left camera's image). Nothing else: car 13's 2 s gap holds one return
    where it would be, rider 11's start none."""
    from fusionlabel.io.drives import open_drive

    root = realdata / "sustech_sequence"
    if not (root / "label").is_dir():
        pytest.skip(f"SUSTech sample not found at {root}")
    drive = open_drive(root)
    report = check_labels(drive, drive_labels(drive), "drive")
    assert report.boxes == 87 and report.tracks == 25
    assert sorted((f.check, f.subject) for f in report.findings) == [
        ("label-size", "track 82 (Pedestrian)"), ("track-end", "track 2 (Car)"), ("track-gap", "track 3 (Bus)"),
        ("track-size", "track 3 (Bus)")]
    (gap,) = [f for f in report.findings if f.check == "track-gap"]
    assert gap.frames == ("000970",)
    (end,) = [f for f in report.findings if f.check == "track-end"]
    assert end.frames == ("000965",) and end.value > 1000


def test_real_kitti_tracking_tracks_give_no_finding(realdata):
    """All 21 training sequences (917 tracks), 10 Hz, without ego poses (LiDAR frame): no track finding
    (its only gaps are 1.5-2.5 s, objects at the edge of the camera's view), no duplicate (two people
    walk 0.36 m apart, their boxes of different sizes)."""
    from fusionlabel.qa.box_checks import duplicate_findings
    from fusionlabel.qa.datasets import kitti_tracking_sequence
    from fusionlabel.qa.track_checks import TrackFrame, track_findings
    from fusionlabel.qa.track_continuity import continuity_findings

    root = realdata / "kitti_tracking"
    if not (root / "label_02").is_dir():
        pytest.skip(f"KITTI tracking labels not found at {root}")
    findings, tracks = [], set()
    for seq in sorted(p.stem for p in (root / "label_02").glob("*.txt")):
        frames = kitti_tracking_sequence(root, seq)
        tracks |= {(seq, lab.track_id) for frame in frames for lab in frame}
        track_frames = [TrackFrame(f"{n:06d}", n * 100_000, None, frame) for n, frame in enumerate(frames)]
        findings += track_findings(track_frames) + continuity_findings(track_frames)
        findings += [f for n, frame in enumerate(frames) for f in duplicate_findings(f"{n:06d}", frame)]
    assert len(tracks) == 917
    assert findings == [], [(f.subject, f.message) for f in findings[:5]]


# ------------------------------------------------------------------------------ headings at keyframe rate
def _track_frames(tracks: dict[str, list[tuple[float, float, float]]], cls: str, dt_s: float = 0.5):
    """Frames dt_s apart (LiDAR = world), one box per track per frame at (x, y, yaw)."""
    from fusionlabel.geometry.cuboid import Cuboid
    from fusionlabel.model.annotation import CuboidLabel
    from fusionlabel.qa.track_checks import TrackFrame

    size = (4.5, 1.9, 1.6) if cls == "car" else (0.7, 0.6, 1.7)
    n = len(next(iter(tracks.values())))
    return [TrackFrame(f"{i:06d}", int(i * dt_s * 1e6), np.eye(4),
                       [CuboidLabel(Cuboid((x, y, 0.0), size, yaw), cls, tid, None, "human")
                        for tid, boxes in tracks.items() for x, y, yaw in [boxes[i]]])
            for i in range(n)]


def test_a_car_facing_backwards_at_two_hertz_is_found_by_how_far_it_travelled():
    """0.5 s apart a car at 10 m/s travels 5 m: with a 4 m turning radius its heading can turn at most
    ~72 deg (+30 deg slack), so a 180 deg turn is a flip; a car really turning at that speed is not."""
    from fusionlabel.qa.track_checks import track_findings

    flipped = [(5.0 * i, 0.0, math.pi if i == 2 else 0.0) for i in range(4)]
    notes: list[str] = []
    found = track_findings(_track_frames({"1": flipped}, "car"), notes)
    assert [f.check for f in found] == ["track-yaw-flip"] and not notes
    # a real turn: 60 deg over 5 m of travel (radius ~5 m)
    turning = [(5.0 * i, 0.0, math.radians(60.0) * i) for i in range(3)]
    assert track_findings(_track_frames({"1": turning}, "car"), notes) == [] and not notes


def test_a_pedestrian_at_two_hertz_is_not_judged_and_the_report_says_so():
    from fusionlabel.qa.track_checks import track_findings

    walker = [(1.0 * i, 0.0, math.pi if i == 1 else 0.0) for i in range(3)]
    notes: list[str] = []
    assert track_findings(_track_frames({"7": walker}, "pedestrian"), notes) == []
    assert len(notes) == 1 and "heading flips not checked on 2 track steps" in notes[0]


def test_an_id_switch_is_a_jump_not_also_a_flip():
    """Two cars passing each other in opposite directions whose IDs swap for one frame: each track
    jumps; it is not also told its box faces backwards (turning it would make it worse)."""
    from fusionlabel.qa.track_checks import track_findings

    east = [(10.0 * i * 0.1, -2.0, 0.0) for i in range(6)]
    west = [(40.0 - 10.0 * i * 0.1, 2.0, math.pi) for i in range(6)]
    a, b = list(east), list(west)
    a[3], b[3] = west[3], east[3]
    found = track_findings(_track_frames({"1": a, "2": b}, "car", dt_s=0.1))
    assert sorted(f.check for f in found) == ["track-jump", "track-jump"], [f.message for f in found]


# ------------------------------------------------------------------------------ duplicates of small objects
def _pedestrian(labels, frame: int):
    return min((lab for lab in labels[frame] if lab.label == "pedestrian"), key=lambda lab: np.hypot(*lab.box.center[:2]))


@pytest.mark.parametrize("along, offset", [(0, 0.2), (1, 0.3)])
def test_a_pedestrians_copy_a_little_apart_is_a_duplicate_though_it_overlaps_less_than_half(sim, labels, along,
                                                                                               offset):
    """A pedestrian's box copied 0.2 m along its length or 0.3 m across (the same size, each centre
    inside the other): 3D IoU under 0.5, still one person labelled twice."""
    from fusionlabel.geometry.iou import iou_matrix

    ped = _pedestrian(labels, 2)
    axis = ped.box.rotation()[:, along]
    twin = ped.with_(box=ped.box.with_(center=np.add(ped.box.center, offset * axis)), track_id="copy")
    assert iou_matrix([ped.box], [twin.box], kind="3d")[0, 0] < 0.5
    out = dict(labels)
    out[2] = labels[2] + [twin]
    report = check_labels(sim, out, "drive", sweeps=False)
    assert checks(report) == {"label-duplicate"}, [f.message for f in report.findings]
    (f,) = report.findings
    assert "same size" in f.message and "track copy (pedestrian)" in f.message
    assert f.value == pytest.approx(offset) and f.unit == "m" and f.track_id == ped.track_id


def test_two_people_side_by_side_of_different_sizes_are_no_duplicate(sim, labels):
    """Real pedestrians walk 0.36 m apart (KITTI tracking), their boxes 0.06-0.09 m different in
    size: not a copy."""
    ped = _pedestrian(labels, 2)
    other = ped.with_(box=ped.box.with_(center=np.add(ped.box.center, 0.3 * ped.box.rotation()[:, 1]),
                                        size=tuple(np.add(ped.box.size, (0.09, 0.06, 0.08)))), track_id="friend")
    out = dict(labels)
    out[2] = labels[2] + [other]
    assert check_labels(sim, out, "drive", sweeps=False).findings == []


# ------------------------------------------------------------------------------ gaps and fragments
def without(labels, frame: int, track: str) -> dict:
    """``labels`` without track ``track``'s box in ``frame``."""
    out = {i: list(v) for i, v in labels.items()}
    out[frame] = [lab for lab in out[frame] if lab.track_id != track]
    return out


def renamed(labels, frames, track: str, new: str) -> dict:
    """``labels`` with track ``track``'s boxes in ``frames`` given track ID ``new``."""
    out = {i: list(v) for i, v in labels.items()}
    for i in frames:
        out[i] = [lab.with_(track_id=new) if lab.track_id == track else lab for lab in out[i]]
    return out


def test_a_box_left_out_in_the_middle_of_a_track_is_a_gap(sim, labels, car):
    report = check_labels(sim, without(labels, 1, car), "drive", sweeps=False)
    assert checks(report) == {"track-gap"}, [f.message for f in report.findings]
    (f,) = report.findings
    fid = sim.frames[1].frame_id
    assert f.subject == f"track {car} (car)" and fid in f.message
    assert (f.frame, f.frames, f.track_id, f.cls, f.value) == (fid, (fid,), car, "car", 1)


def test_a_gap_marked_absent_is_no_finding(sim, labels, car):
    report = check_labels(sim, without(labels, 1, car), "drive", sweeps=False, absent={1: {car}})
    assert report.findings == [], [f.message for f in report.findings]


def as_prelabel(labels, frame: int, track: str) -> dict:
    """``labels`` with track ``track``'s box in ``frame`` turned into a pre-label not yet accepted
    (as ``I`` or ``V`` leaves it)."""
    out = {i: list(v) for i, v in labels.items()}
    out[frame] = [lab.with_(source="model") if lab.track_id == track else lab for lab in out[frame]]
    return out


def test_a_frame_where_a_pre_label_holds_the_track_is_no_gap(sim, labels, car):
    """An interpolated box not yet accepted is left out of the checks, but the track is there: no
    gap and no track end, with sweeps read too (the pre-label counted, not checked)."""
    for sweeps in (False, True):
        report = check_labels(sim, as_prelabel(labels, 1, car), "drive", sweeps=sweeps)
        assert report.findings == [], [f.message for f in report.findings]
        assert report.prelabels == 1
    last = max(labels)
    report = check_labels(sim, as_prelabel(labels, last, car), "drive")
    assert not any(f.check == "track-end" for f in report.findings), [f.message for f in report.findings]


def test_a_long_gap_may_be_an_object_out_of_view():
    """Boxes 0.5 s apart: a track with no box for one frame (1 s between its boxes) has a gap; for
    two frames (1.5 s: it may have left the view and come back, as KITTI's do) it has none."""
    from fusionlabel.qa.track_continuity import continuity_findings

    def frames_without(missing):
        frames = _track_frames({"1": [(5.0 * i, 0.0, 0.0) for i in range(5)], "2": [(0.0, 9.0, 0.0)] * 5}, "car")
        return [replace(f, labels=[lab for lab in f.labels if lab.track_id != "1"]) if i in missing else f
                for i, f in enumerate(frames)]

    assert [(f.check, f.frames) for f in continuity_findings(frames_without({2}))] == [("track-gap", ("000002",))]
    assert continuity_findings(frames_without({2, 3})) == []


def test_a_track_continued_under_a_new_id_is_a_fragment(sim, labels, car):
    report = check_labels(sim, renamed(labels, (1, 2), car, "new"), "drive", sweeps=False)
    assert checks(report) == {"track-fragment"}, [f.message for f in report.findings]
    (f,) = report.findings
    ids = [frame.frame_id for frame in sim.frames]
    assert f.subject == f"track {car} (car)" and "track new (car) starts" in f.message
    assert f.frames == (ids[0], ids[1]) and f.value < 0.3 and f.threshold == 1.0


def test_an_id_that_takes_its_object_back_is_one_fragment_and_no_gap(sim, labels, car):
    report = check_labels(sim, renamed(labels, (1,), car, "new"), "drive", sweeps=False)
    assert checks(report) == {"track-fragment"}, [f.message for f in report.findings]
    (f,) = report.findings
    assert "takes it back" in f.message and len(f.frames) == 4


def test_copies_of_a_box_under_new_ids_in_two_frames_are_duplicates_not_a_fragment(sim, labels, car):
    """The copy in frame 0 stops and the one in frame 1 starts where it would be, but that object has
    its own track there: two duplicates, not one object under two IDs."""
    out = {i: list(v) for i, v in labels.items()}
    for i, new in ((0, "copyA"), (1, "copyB")):
        lab = next(lab for lab in labels[i] if lab.track_id == car)
        out[i].append(lab.with_(box=lab.box.with_(center=np.add(lab.box.center, (0.3, 0.1, 0.0))), track_id=new))
    report = check_labels(sim, out, "drive", sweeps=False)
    assert [f.check for f in report.findings] == ["label-duplicate"] * 2, [f.message for f in report.findings]


def test_a_new_track_elsewhere_or_of_another_class_is_no_fragment():
    """Track 1 stops; a car starts 3 m from where it would be, a van where it would be: other objects."""
    from fusionlabel.qa.track_continuity import continuity_findings

    def frames(cls_b, dx):
        frames = _track_frames({"1": [(1.0 * i, 0.0, 0.0) for i in range(4)]}, "car", dt_s=0.1)
        first = frames[:2]
        rest = _track_frames({"2": [(1.0 * i + dx, 0.0, 0.0) for i in range(4)]}, cls_b, dt_s=0.1)[2:]
        return first + rest

    assert [f.check for f in continuity_findings(frames("car", 0.0))] == ["track-fragment"]
    assert continuity_findings(frames("car", 3.0)) == []
    assert continuity_findings(frames("van", 0.0)) == []


# ------------------------------------------------------------------------------ the JSON
def test_cli_json_findings_have_structured_fields_and_counts(sim, tmp_path, capsys):
    """A project with a box deleted mid-track and a copy of a box: the JSON names frame, track,
    class, value and threshold; ``counts`` counts the findings by check; an absent mark clears the gap."""
    from fusionlabel.model.commands import CreateCuboid, DeleteCuboids, SetAbsent
    from fusionlabel.store.project import Project

    folder = tmp_path / "project"
    with Project.create(folder, sim.root, import_labels=True) as project:
        doc = project.document
        ann = next(a for a in doc.annotations(1) if a.label.track_id is not None and a.label.label == "car")
        track = ann.label.track_id
        doc.apply(DeleteCuboids((ann.uid,)))
        copy = doc.annotations(2)[0].label
        doc.apply(CreateCuboid(2, copy.with_(track_id=None)))
    assert main(["check", str(folder), "--labels-only", "--json"]) == 3
    out = json.loads(capsys.readouterr().out)
    assert out["counts"] == {"label-duplicate": 1, "track-gap": 1}
    by_check = {f["check"]: f for f in out["findings"]}
    gap, dup = by_check["track-gap"], by_check["label-duplicate"]
    fid = sim.frames[1].frame_id
    assert {k: gap[k] for k in ("frame", "frames", "track_id", "class", "value", "unit")} == {
        "frame": fid, "frames": [fid], "track_id": track, "class": "car", "value": 1, "unit": "frames"}
    assert dup["frame"] == sim.frames[2].frame_id and dup["value"] >= dup["threshold"] == 0.5
    assert {"severity", "subject", "check", "message", "remedy"} <= set(dup)
    with Project.open(folder) as project:
        project.document.apply(SetAbsent(track, 1))
    assert main(["check", str(folder), "--labels-only", "--json"]) == 3
    assert json.loads(capsys.readouterr().out)["counts"] == {"label-duplicate": 1}


def _people(n: int, spacing: float) -> list[CuboidLabel]:
    """``n`` pedestrians of one size in a row ``spacing`` apart, turned 0.7 rad."""
    return [CuboidLabel(Cuboid((10.0 + spacing * k, 5.0, 0.0), (0.6, 0.6, 1.7), 0.7), "pedestrian", str(k), None, "human")
            for k in range(n)]


def test_a_copy_whose_centre_is_near_the_others_corner_is_a_duplicate():
    """Copied 0.28 m along both box axes and 0.8 m up: its centre 0.89 m away, farther than half the
    box's length or footprint diagonal but within each box, so one person labelled twice."""
    (ped,) = _people(1, 0.0)
    R = ped.box.rotation()
    twin = ped.with_(box=ped.box.with_(center=tuple(np.add(ped.box.center, R @ [0.28, 0.28, 0.8]))), track_id="copy")
    assert points_in_cuboid(np.array([twin.box.center]), ped.box)[0]
    assert points_in_cuboid(np.array([ped.box.center]), twin.box)[0]
    (f,) = box_checks.duplicate_findings("000000", [ped, twin])
    assert "same size" in f.message and f.value == pytest.approx(np.sqrt(0.28**2 * 2 + 0.8**2))


def test_each_pair_of_a_frames_boxes_is_overlapped_once_and_only_copies_are_tested_for_it(monkeypatch):
    """Twenty people of one size 1.2 m apart and a copy of one 0.25 m along: no box is overlapped with
    itself or a pair twice, and only the copy's pair is tested for centres inside each other."""
    import fusionlabel.geometry.iou as iou

    people = _people(20, 1.2)
    moved = np.add(people[7].box.center, 0.25 * people[7].box.rotation()[:, 0])
    people.append(people[7].with_(box=people[7].box.with_(center=tuple(moved)), track_id="copy"))
    overlapped, tested = [], []
    real_iou, real_inside = iou.iou_3d, box_checks._centres_inside
    monkeypatch.setattr(iou, "iou_3d", lambda a, b: overlapped.append((id(a), id(b))) or real_iou(a, b))
    monkeypatch.setattr(box_checks, "_centres_inside", lambda a, b: tested.append((a, b)) or real_inside(a, b))
    found = box_checks.duplicate_findings("000000", people)
    assert [f.boxes for f in found] == [("track 7 box #8", "track copy box #21")]
    assert not any(a == b for a, b in overlapped)
    assert len({frozenset(p) for p in overlapped}) == len(overlapped)
    assert len(tested) == 1


def test_only_rays_through_a_boxs_middle_count_as_through():
    """A 4 x 4 x 2 m box 20 m ahead; returns 10 m behind it: rays that cross its middle (2 x 2 x 1 m)
    count, rays through its rim only (at 1.5 m from its axis) do not."""
    box = Cuboid((20.0, 0.0, 0.0), (4.0, 4.0, 2.0), 0.0)
    y = np.r_[np.linspace(-0.6, 0.6, 7), np.linspace(-2.4, -2.2, 3), np.linspace(2.2, 2.4, 3)]   # at x = 20: |y| 0.4 / 1.5-1.6
    points = np.c_[np.full(len(y), 30.0), y, np.zeros(len(y))]
    assert box_checks.see_through(points, box) == box_checks.Seen(inside=0, through=7)


def test_real_kitti_object_frames_are_unrelated_so_no_track_is_left_out(kitti_object):
    """A project gives every KITTI object label a track of its own; the frames are unrelated scenes
    without capture times or poses, so no box is carried into the next frame to call it left out."""
    from dataclasses import replace

    from fusionlabel.io.drives import open_drive

    drive = open_drive(kitti_object)
    ids = iter(range(1, 1000))
    labels = {i: [replace(lab, track_id=str(next(ids))) for lab in labs] for i, labs in drive_labels(drive).items()}
    report = check_labels(drive, labels, "project")
    assert report.frames == len(drive.frames) > 1 and report.tracks == report.boxes
    assert [f.check for f in report.findings if f.check == "track-end"] == []
    assert any("not taken as one recording" in n for n in report.notes)
