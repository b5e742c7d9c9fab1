"""Ctrl+K in the app lists a `track-end` finding (a track that stops while its object is still
there); choosing it goes to the frame the track is missing from, selects nothing there and
remembers the track, so that H marks it absent there (pytest-qt, offscreen)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import Qt  # noqa: E402

from fusionlabel.geometry.cuboid import points_in_cuboid  # noqa: E402
from fusionlabel.model.commands import DeleteCuboids  # noqa: E402

pytestmark = pytest.mark.gui


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
