"""Ctrl+K in the app lists a `track-end` finding (a track that stops while its object is still
there); choosing it goes to the frame the track is missing from, selects nothing there and
remembers the track, so that H marks it absent there (pytest-qt, offscreen)."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import Qt  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

from fusionlabel.app import testing  # noqa: E402
from fusionlabel.app.styles import GHOST_RGB  # noqa: E402

from fusionlabel.geometry.cuboid import points_in_cuboid  # noqa: E402
from fusionlabel.model.commands import DeleteCuboids  # noqa: E402

pytestmark = pytest.mark.gui
SHOTS = os.environ.get("FUSIONLABEL_SHOTS")   # a folder to save the views in, to look at them


def test_ctrl_k_lists_a_track_end_and_choosing_it_goes_to_the_frame_the_track_misses(qtbot, window):
    w, s = window, window.session
    last = s.n_frames - 1
    points = s.drive.points(last)
    car = max((a for a in s.document.annotations(last) if a.cls == "car" and a.track_id is not None
               and s.document.find_track(a.track_id, last - 1) and s.document.find_track(a.track_id, last - 2)),
              key=lambda a: int(points_in_cuboid(points, a.box).sum()))
    assert int(points_in_cuboid(points, car.box).sum()) >= 100
    s.apply(DeleteCuboids((car.uid,)))                      # the track stops one frame early
    qtbot.keyClick(w.bev, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.check_panel.report is not None, timeout=30_000)
    listed = w.check_panel.findings
    row = next(i for i, f in enumerate(listed) if f.check == "track-end" and f.track_id == car.track_id)
    assert "track-end" in w.check_panel.list.item(row).toolTip()
    s.set_frame(0)
    w.check_panel.list.setCurrentRow(row)
    qtbot.keyClick(w.check_panel.list, Qt.Key.Key_Return)
    assert s.frame == last and s.selection == () and s.marked_tracks == (car.track_id,)
    qtbot.keyClick(w.bev, Qt.Key.Key_H)
    assert s.document.absent_frames(car.track_id) == [last]


def magenta_pixels(widget) -> int:
    """How many pixels of ``widget`` are in the ghost outline's colour (or near it)."""
    arr = testing.widget_pixels(widget).astype(int)
    return int((np.abs(arr - np.asarray(GHOST_RGB)).sum(axis=2) < 60).sum())


def choose(qtbot, w, check: str, track_id: str) -> None:
    """Run the label checks (Ctrl+K) and choose the ``check`` finding of ``track_id`` with Enter."""
    qtbot.keyClick(w.bev, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.check_panel.report is not None and not w.check_panel.running, timeout=30_000)
    row = next(i for i, f in enumerate(w.check_panel.findings) if f.check == check and f.track_id == track_id)
    w.check_panel.list.setCurrentRow(row)
    qtbot.keyClick(w.check_panel.list, Qt.Key.Key_Return)


@pytest.mark.parametrize("check", ["track-end", "track-gap"])
def test_choosing_a_missing_box_finding_shows_where_the_box_would_be(qtbot, window, check):
    """A track-end or track-gap finding chosen in the check dock draws a dotted outline where the
    track's box would be (near the box that was deleted) in the bird's-eye view and the cameras,
    and says what it is and which keys fill it; moving to another frame takes it away."""
    w, s = window, window.session
    testing.wait_for_frame(w)
    frame = s.n_frames - 1 if check == "track-end" else 1
    points = s.drive.points(frame)
    car = max((a for a in s.document.annotations(frame) if a.cls == "car" and a.track_id is not None
               and all(s.document.find_track(a.track_id, i) for i in range(s.n_frames))),
              key=lambda a: int(points_in_cuboid(points, a.box).sum()))
    truth = car.box
    s.apply(DeleteCuboids((car.uid,)))
    s.set_frame(0 if frame else 1)
    w.bev.focus_on((400.0, 400.0))                          # the views look far away from it
    if w.view3d is not None:
        w.view3d.focus_on((400.0, 400.0, 0.0))
        assert not w.view3d.shows(truth.corners()).all()
    choose(qtbot, w, check, car.track_id)
    assert s.frame == frame and s.selection == ()
    ghost = s.ghost
    corners = ghost.box.corners()                           # the views came to it
    assert w.bev.shows(corners[:, :2]).all()
    assert w.view3d is None or w.view3d.shows(corners).all()
    assert "has no box in frame" in w.statusBar().currentMessage()
    assert ghost is not None and ghost.frame == frame and ghost.track_id == car.track_id
    assert np.hypot(*np.subtract(ghost.box.center[:2], truth.center[:2])) < 0.5, (ghost.box, truth)
    assert np.allclose(ghost.box.size, truth.size, atol=0.05)
    said = s.messages[-1].text
    assert f"track {car.track_id} (car) has no box" in said and "H marks it absent" in said
    assert ("I interpolates" if check == "track-gap" else "V carries it here") in said
    testing.wait_for_frame(w, frame)
    QApplication.processEvents()
    shown = {name: magenta_pixels(v) for name, v in w.cameras.views.items()}
    assert magenta_pixels(w.bev) > 30 and max(shown.values()) > 30, (magenta_pixels(w.bev), shown)
    w.bev.grab().save(os.path.join(SHOTS, f"ghost_{check}_bev.png")) if SHOTS else None
    for name, v in w.cameras.views.items():
        v.grab().save(os.path.join(SHOTS, f"ghost_{check}_{name}.png")) if SHOTS else None
    qtbot.keyClick(w.bev, Qt.Key.Key_A)                     # moved on: the outline goes
    testing.wait_for_frame(w, frame - 1)
    QApplication.processEvents()
    assert s.ghost is None and magenta_pixels(w.bev) < 5


def best_seen_car(s, frame: int):
    """The car in ``frame`` with the most points inside whose track has a box in every frame."""
    points = s.drive.points(frame)
    return max((a for a in s.document.annotations(frame) if a.cls == "car" and a.track_id is not None
                and all(s.document.find_track(a.track_id, i) for i in range(s.n_frames))),
               key=lambda a: int(points_in_cuboid(points, a.box).sum()))


def test_h_one_frame_past_a_track_end_finding_leaves_that_frames_box_alone(qtbot, window):
    """A track that starts one frame late: its track-end finding leads to the frame before its
    first box. D steps on to that box (an imported one, nobody pointed at it), and H there changes
    nothing and says why; back on the finding's frame H marks the track absent there, as before."""
    w, s = window, window.session
    testing.wait_for_frame(w)
    car = best_seen_car(s, 0)
    s.apply(DeleteCuboids((car.uid,)))                      # the track starts one frame late
    first = s.document.find_track(car.track_id, 1)
    assert first.source == "import"
    s.set_frame(2)
    choose(qtbot, w, "track-end", car.track_id)
    assert s.frame == 0 and s.selection == () and s.marked_tracks == (car.track_id,)
    qtbot.keyClick(w.bev, Qt.Key.Key_D)                     # one frame on: the track's first box
    assert s.frame == 1
    qtbot.keyClick(w.bev, Qt.Key.Key_H)
    assert first.uid in s.document and s.document.absent_frames(car.track_id) == []
    said = s.messages[-1].text
    frame_ids = [s.drive.frames[i].frame_id for i in (0, 1)]
    assert f"track {car.track_id}" in said and frame_ids[0] in said and "H" in said, said
    assert f"absent in frame {frame_ids[0]} only" in w.timeline.track_note.text()
    qtbot.keyClick(w.bev, Qt.Key.Key_A)                     # back on the finding's frame: H marks it there
    assert s.frame == 0
    qtbot.keyClick(w.bev, Qt.Key.Key_H)
    assert s.document.absent_frames(car.track_id) == [0] and first.uid in s.document


def test_i_on_a_chosen_gap_fills_it_at_once_and_selects_the_new_box(qtbot, window):
    """A gap chosen in the check dock: I (the keys still in the dock's list) interpolates the
    remembered track there without going to its box before first, selects the new box where the
    outline was, and Ctrl+Shift+Y accepts it; the track's keyframes are left as they were."""
    w, s = window, window.session
    testing.wait_for_frame(w)
    car = best_seen_car(s, 1)
    truth, track = car.box, car.track_id
    keys = {f: s.document.find_track(track, f).box for f in (0, 2)}
    s.apply(DeleteCuboids((car.uid,)))
    s.set_frame(0)
    choose(qtbot, w, "track-gap", track)
    assert s.frame == 1 and s.selection == () and s.ghost is not None
    ghost = s.ghost.box
    qtbot.keyClick(QApplication.focusWidget() or w.bev, Qt.Key.Key_I)
    filled = s.document.find_track(track, 1)
    assert filled is not None and filled.source == "model" and "interpolated" in filled.attributes
    assert s.selection == (filled.uid,) and s.ghost is None
    assert np.hypot(*np.subtract(filled.box.center[:2], ghost.center[:2])) < 0.05
    assert np.hypot(*np.subtract(filled.box.center[:2], truth.center[:2])) < 0.5
    assert {f: s.document.find_track(track, f).box for f in (0, 2)} == keys
    qtbot.keyClick(QApplication.focusWidget() or w.bev, Qt.Key.Key_Y,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert s.document.find_track(track, 1).source == "human"
    qtbot.keyClick(w.bev, Qt.Key.Key_Escape)
    qtbot.keyClick(w.bev, Qt.Key.Key_I)                  # nothing selected, no track remembered
    assert s.messages[-1].text == "select a cuboid first (click it, or Tab)"
