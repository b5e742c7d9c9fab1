"""Label checks that read the sweeps where a track has no box: a gap longer than 1 s is a `track-gap`
where the box interpolated into it holds the object's returns, and a track that stops (or starts)
while its object is still there is a `track-end`; an occlusion, an object that leaves, a frame marked
absent, another ID on the object and a place outside the labelled camera's view are not."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from conftest import simulated_drive

from fusionlabel.cli.main import main
from fusionlabel.geometry.cuboid import Cuboid, points_in_cuboid
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.qa.label_check import check_labels, drive_labels
from fusionlabel.qa.track_checks import TrackFrame
from fusionlabel.qa.track_continuity import continuity_findings
from fusionlabel.qa.track_presence import PRESENT_MIN, TrackPresence

CAR = (4.5, 1.9, 1.6)


def _drive(n: int = 6, dt_s: float = 0.5):
    """``n`` frames ``dt_s`` apart (LiDAR = world): car 1 drives 5 m a frame along y = 6, car 2 is
    parked at (0, -9); each frame's sweep has a ground grid and 200 returns in each car (above its
    bottom)."""
    rng = np.random.default_rng(3)
    ground = np.stack(np.meshgrid(np.arange(-40.0, 40.0, 0.5), np.arange(-40.0, 40.0, 0.5), [-0.8]), -1).reshape(-1, 3)
    frames, sweeps = [], []
    for i in range(n):
        boxes = {"1": Cuboid((-15.0 + 5.0 * i, 6.0, 0.0), CAR, 0.0), "2": Cuboid((0.0, -9.0, 0.0), CAR, 0.0)}
        labels = [CuboidLabel(box, "car", tid, None, "human") for tid, box in boxes.items()]
        frames.append(TrackFrame(f"{i:06d}", int(i * dt_s * 1e6), np.eye(4), labels))
        # above the box's bottom 0.25 m (ground returns, not counted)
        inside = [box.center + rng.uniform((-2.0, -0.8, -0.5), (2.0, 0.8, 0.7), (200, 3)) for box in boxes.values()]
        sweeps.append(np.vstack([ground, *inside]).astype(np.float32))
    return frames, sweeps


def _without(frames, sweeps, missing, labels=True, points=False, track="1"):
    """The drive with track ``track``'s box (``labels``) and its object's returns (``points``) taken
    out of frames ``missing``."""
    frames, sweeps = list(frames), list(sweeps)
    for i in missing:
        box = next(lab.box for lab in frames[i].labels if lab.track_id == track)
        if labels:
            frames[i] = replace(frames[i], labels=[lab for lab in frames[i].labels if lab.track_id != track])
        if points:
            sweeps[i] = sweeps[i][~points_in_cuboid(sweeps[i], box, margin=0.1)]
    return frames, sweeps


def _findings(frames, sweeps):
    presence = TrackPresence(frames)
    for j, points in enumerate(sweeps):
        if presence.needs(j):
            presence.count(j, points)
    return continuity_findings(frames, presence)


def test_a_long_gap_where_the_sweeps_show_the_object_is_a_gap():
    """Boxes 1.5 s apart (frames 1 and 4), the car's returns still there in frames 2 and 3."""
    frames, sweeps = _without(*_drive(), (2, 3))
    (f,) = _findings(frames, sweeps)
    assert (f.check, f.frames, f.track_id, f.value) == ("track-gap", ("000002", "000003"), "1", 2)
    assert "longer than 1 s" in f.message and "200 LiDAR returns" in f.message
    assert continuity_findings(frames) == []          # labels only: a long gap is not judged


def test_a_long_occlusion_without_returns_is_no_gap():
    assert _findings(*_without(*_drive(), (2, 3), points=True)) == []


def test_a_track_that_stops_while_its_object_is_there_ends_early():
    frames, sweeps = _without(*_drive(), (4, 5))
    (f,) = _findings(frames, sweeps)
    assert (f.check, f.subject, f.frame, f.frames, f.track_id, f.cls) == (
        "track-end", "track 1 (car)", "000004", ("000004",), "1", "car")
    assert f.value == 200 and f.threshold == max(PRESENT_MIN, 0.3 * 200) and f.unit == "returns"
    assert "stops at frame 000003" in f.message


def test_a_track_that_starts_late_while_its_object_was_there_is_found_at_its_start():
    (f,) = _findings(*_without(*_drive(), (0, 1)))
    assert (f.check, f.frame) == ("track-end", "000001") and "starts at frame 000002" in f.message


def test_the_box_is_carried_on_as_the_object_moves():
    """Car 1 moves 5 m a frame: its box left where it was in frame 3 would miss its returns in frame 4
    (and find none when they are gone)."""
    frames, sweeps = _without(*_drive(), (4, 5))
    presence = TrackPresence(frames)
    (probe,) = presence.probes
    assert probe.frame == 4 and np.allclose(probe.box.center, (5.0, 6.0, 0.0))


def test_a_track_that_ends_as_its_object_leaves_is_no_finding():
    assert _findings(*_without(*_drive(), (4, 5), points=True)) == []


def test_no_track_end_where_the_track_is_marked_absent_or_another_id_has_the_object():
    frames, sweeps = _without(*_drive(), (4, 5))
    frames[4] = replace(frames[4], absent=frozenset({"1"}))
    assert _findings(frames, sweeps) == []
    frames, sweeps = _drive()
    for i in (4, 5):     # the object goes on under ID 9: a fragment, not a track that ends
        frames[i] = replace(frames[i], labels=[lab.with_(track_id="9") if lab.track_id == "1" else lab
                                               for lab in frames[i].labels])
    assert [f.check for f in _findings(frames, sweeps)] == ["track-fragment"]


def test_a_track_end_needs_a_frame_close_in_time_within_the_drive():
    """The track's last box in the drive's last frame, or the next frame 2 s later: nothing to judge."""
    frames, sweeps = _drive(n=4)
    assert _findings(frames, sweeps) == []
    frames, sweeps = _without(*_drive(n=6, dt_s=2.0), (4, 5))
    assert _findings(frames, sweeps) == []


# ------------------------------------------------------------------------------ a simulated drive
@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    return simulated_drive(tmp_path_factory)


def _seen_car(sim, labels) -> str:
    """A car in every frame whose boxes each hold 100 returns or more (counted here)."""
    counts = {}
    for i, frame in labels.items():
        points = sim.points(i)
        for lab in frame:
            if lab.label == "car":
                counts.setdefault(lab.track_id, []).append(int(points_in_cuboid(points, lab.box).sum()))
    full = {t: min(ns) for t, ns in counts.items() if len(ns) == len(labels)}
    assert full and max(full.values()) >= 100, full
    return max(full, key=full.get)


def test_a_simulated_cars_last_box_left_out_is_a_track_end(sim):
    labels = drive_labels(sim)
    car = _seen_car(sim, labels)
    last = len(sim) - 1
    cut = {i: [lab for lab in v if not (i == last and lab.track_id == car)] for i, v in labels.items()}
    report = check_labels(sim, cut, "drive")
    assert [(f.check, f.track_id, f.frame) for f in report.findings] == [
        ("track-end", car, sim.frames[last].frame_id)], [f.message for f in report.findings]
    assert check_labels(sim, cut, "drive", sweeps=False).findings == []


@pytest.mark.parametrize("sees", [True, False])
def test_kitti_labels_are_judged_only_in_their_cameras_view(sim, sees):
    """Labels that cover one camera's view (KITTI's ``kitti_camera``): a carried box whose centre is
    outside that camera's image is no finding (the object left the labelled view)."""
    from fusionlabel.geometry.projection import project_points

    labels = drive_labels(sim)
    car = _seen_car(sim, labels)
    last = len(sim) - 1
    centre = np.asarray([next(lab.box.center for lab in labels[last - 1] if lab.track_id == car)])
    cameras = [c.name for c in sim.rig(last).cameras if len(project_points(
        centre, sim.T_cam_lidar(last, c.name), c.camera).index) == int(sees)]
    out = {i: [lab.with_(attributes={**lab.attributes, "kitti_camera": cameras[0]}) for lab in v
               if not (i == last and lab.track_id == car)] for i, v in labels.items()}
    assert [f.check for f in check_labels(sim, out, "drive").findings] == (["track-end"] if sees else [])


def test_cli_json_counts_a_track_end_with_its_frame_track_and_returns(sim, tmp_path, capsys):
    """A project whose car loses its last box: ``check --json`` lists the track-end with frame, track,
    class, returns and the returns needed, and counts it; marked absent there, it is gone."""
    from fusionlabel.model.commands import DeleteCuboids, SetAbsent
    from fusionlabel.store.project import Project

    car, last = _seen_car(sim, drive_labels(sim)), len(sim) - 1
    folder = tmp_path / "project"
    with Project.create(folder, sim.root, import_labels=True) as project:
        doc = project.document
        doc.apply(DeleteCuboids((doc.find_track(car, last).uid,)))
    assert main(["check", str(folder), "--labels-only", "--json"]) == 3
    out = json.loads(capsys.readouterr().out)
    assert out["counts"] == {"track-end": 1}
    (f,) = out["findings"]
    fid = sim.frames[last].frame_id
    assert {k: f[k] for k in ("check", "frame", "frames", "track_id", "class", "unit")} == {
        "check": "track-end", "frame": fid, "frames": [fid], "track_id": car, "class": "car", "unit": "returns"}
    assert f["value"] >= f["threshold"] >= PRESENT_MIN
    with Project.open(folder) as project:
        project.document.apply(SetAbsent(car, last))
    assert main(["check", str(folder), "--labels-only", "--json"]) == 0


def _parked_cars(k: int, n: int = 8):
    """``n`` frames 0.5 s apart of ``k`` parked cars, each without a box in frames 2-4 (a gap longer
    than 1 s) while its 200 returns stay in the sweep."""
    rng = np.random.default_rng(5)
    boxes = {str(t): Cuboid((-40.0 + 6.0 * (t % 14), -30.0 + 8.0 * (t // 14), 0.0), CAR, 0.0) for t in range(k)}
    frames, sweeps = [], []
    for i in range(n):
        labels = [CuboidLabel(b, "car", tid, None, "human") for tid, b in boxes.items() if i not in (2, 3, 4)]
        frames.append(TrackFrame(f"{i:06d}", int(i * 0.5e6), np.eye(4), labels))
        inside = [b.center + rng.uniform((-2.0, -0.8, -0.5), (2.0, 0.8, 0.7), (200, 3)) for b in boxes.values()]
        sweeps.append(np.vstack(inside).astype(np.float32))
    return frames, sweeps


def test_judging_the_gaps_takes_work_in_proportion_to_the_tracks(monkeypatch):
    """A long drive's hundreds of tracks: each track's threshold is worked out once, not once per
    probe of every track (a 2,000-frame drive with 383 tracks took 90 s in this step)."""
    import fusionlabel.qa.track_presence as tp

    calls = []
    real = tp.present_threshold
    monkeypatch.setattr(tp, "present_threshold", lambda labelled: calls.append(1) or real(labelled))
    for k in (5, 20):
        calls.clear()
        findings = _findings(*_parked_cars(k))
        assert sorted(f.track_id for f in findings if f.check == "track-gap") == sorted(str(t) for t in range(k))
        assert len(calls) == k


def test_returns_are_tested_against_the_neighbouring_labels_only(monkeypatch):
    """A box's returns leave out those of the labels next to it; the frame's dozens of labels far
    away are not tested point by point (the label check of a long drive spent most of its time so)."""
    import fusionlabel.qa.track_presence as tp

    rng = np.random.default_rng(9)
    box = Cuboid((10.0, 0.0, 0.0), CAR, 0.0)
    neighbour = Cuboid((14.0, 0.0, 0.0), CAR, 0.0)          # 0.5 m gap: its grown box reaches into ``box``
    far = [Cuboid((-40.0 + 5.0 * k, 30.0, 0.0), CAR, 0.0) for k in range(40)]
    own = box.center + rng.uniform((-1.5, -0.8, -0.3), (1.5, 0.8, 0.7), (100, 3))
    shared = np.column_stack([rng.uniform(11.9, 12.2, 30), rng.uniform(-0.8, 0.8, 30), rng.uniform(-0.3, 0.7, 30)])
    points = np.vstack([own, shared]).astype(np.float32)
    calls = []
    real = tp.points_in_cuboid
    monkeypatch.setattr(tp, "points_in_cuboid", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert tp.object_returns(points, box, far + [neighbour]) == 100
    assert len(calls) == 1                                  # its neighbour (the box itself: points_in_box)


def test_a_box_copied_exactly_under_another_id_keeps_its_returns():
    """Car 1's box copied in frame 1 under ID 9: each is the other's overlapping label, not one whose
    returns are left out, so each still holds the car's 200 returns."""
    frames, sweeps = _without(*_drive(), (2, 3))
    car = next(lab for lab in frames[1].labels if lab.track_id == "1")
    twin = replace(car, track_id="9", box=car.box.with_())          # equal, but a box of its own
    frames[1] = replace(frames[1], labels=frames[1].labels + [twin])
    presence = TrackPresence(frames)
    for j, points in enumerate(sweeps):
        if presence.needs(j):
            presence.count(j, points)
    assert presence.returns[("1", 1)] == presence.returns[("9", 1)] == 200


def test_a_track_whose_last_frame_holds_two_of_its_boxes_is_checked_without_error():
    """A copy that kept the track's ID in its last frame (two boxes of track 1 in frame 3): its end
    is carried on from the box before that frame, not from the copy (no time between them), and
    the track that stops while its car is still there is found as before."""
    frames, sweeps = _without(*_drive(), (4, 5))
    copy = next(lab for lab in frames[3].labels if lab.track_id == "1")
    frames[3] = replace(frames[3], labels=[*frames[3].labels, replace(copy, box=copy.box.with_(
        center=(copy.box.center[0] + 0.3, copy.box.center[1], copy.box.center[2])))])
    (f,) = _findings(frames, sweeps)
    assert (f.check, f.track_id, f.frames[0]) == ("track-end", "1", "000004")
