"""Where a track's missing box would be in one frame (the ghost the app draws for a track-gap or
track-end finding): between the track's boxes either side, or carried on from its end, on a
simulated drive whose objects' true boxes are known."""

from __future__ import annotations

import numpy as np
from conftest import simulated_drive

from fusionlabel.qa.label_check import drive_labels
from fusionlabel.qa.missing_box import missing_box


def _tracked_car(labels: dict) -> str:
    """A car's track with a box in every frame."""
    tracks = [{lab.track_id for lab in v if lab.label == "car" and lab.track_id is not None} for v in labels.values()]
    return sorted(set.intersection(*tracks))[0]


def _without(labels: dict, tid: str, frame: int) -> tuple[dict, object]:
    """``labels`` with track ``tid``'s box taken out of ``frame``, and that box."""
    truth = next(lab.box for lab in labels[frame] if lab.track_id == tid)
    return {i: [lab for lab in v if i != frame or lab.track_id != tid] for i, v in labels.items()}, truth


def test_a_gap_box_is_interpolated_and_an_end_box_carried_near_the_true_one(tmp_path_factory):
    drive = simulated_drive(tmp_path_factory, "sim5", frames=5)
    labels = drive_labels(drive)
    tid = _tracked_car(labels)
    for frame in (2, 4, 0):                      # a gap, past the last box, before the first
        left, truth = _without(labels, tid, frame)
        found = missing_box(drive, left, tid, frame)
        assert found is not None, frame
        assert np.hypot(*np.subtract(found.center[:2], truth.center[:2])) < 0.3, (frame, found, truth)
        assert np.allclose(found.size, truth.size, atol=0.05)


def test_no_box_where_the_track_has_one_or_no_boxes_at_all(tmp_path_factory):
    drive = simulated_drive(tmp_path_factory, "sim5", frames=5)
    labels = drive_labels(drive)
    tid = _tracked_car(labels)
    assert missing_box(drive, labels, tid, 2) is None
    assert missing_box(drive, labels, "no such track", 2) is None
