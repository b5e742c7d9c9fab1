"""Ctrl+Shift+Y accepts a whole track's pre-labels: after `I` fills a track between two keyframes,
one key (on any of its cuboids, in any frame) makes every interpolated box human work, in the
project database too, as one undo step; other tracks' pre-labels stay pre-labels (pytest-qt)."""

from __future__ import annotations

import os
import sqlite3

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import Qt  # noqa: E402

from conftest import app_project, open_app_window  # noqa: E402
from fusionlabel.model.commands import CreateCuboid  # noqa: E402

pytestmark = pytest.mark.gui
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def project(tmp_path):
    yield from app_project(tmp_path, frames=5)


def sources(project) -> dict[str, str]:
    """uid -> source, read from the project database with plain sqlite3."""
    con = sqlite3.connect(project.folder / "project.sqlite")
    try:
        return dict(con.execute("SELECT uid, source FROM annotations"))
    finally:
        con.close()


def test_ctrl_shift_y_accepts_the_selected_track_in_every_frame(qtbot, project):
    w = open_app_window(qtbot, project)
    s = w.session
    in_last = {g.track_id: g for g in s.drive.labels(4)}
    first, other = [g for g in s.drive.labels(0) if g.track_id in in_last][:2]   # tracks seen in both frames
    last = in_last[first.track_id]
    a = s.apply(CreateCuboid(0, first.with_(source="human")))
    s.apply(CreateCuboid(4, last.with_(source="human", track_id=a.label.track_id)))
    stranger = s.apply(CreateCuboid(2, other.with_(source="model", score=0.8)))   # another track's pre-label
    s.select((a.uid,))
    qtbot.keyClick(w.bev, Qt.Key.Key_I)
    filled = [s.document.find_track(a.label.track_id, f) for f in (1, 2, 3)]
    assert all(b is not None and b.source == "model" for b in filled)
    s.set_frame(4)                       # any cuboid of the track will do, in any frame
    s.select((s.document.find_track(a.label.track_id, 4).uid,))
    qtbot.keyClick(w.bev, Qt.Key.Key_Y, CTRL_SHIFT)
    after = [s.document.get(b.uid) for b in filled]
    assert [b.source for b in after] == ["human"] * 3
    assert s.document.get(stranger.uid).source == "model"
    saved = sources(project)
    assert [saved[b.uid] for b in filled] == ["human"] * 3 and saved[stranger.uid] == "model"
    text = s.messages[-1].text
    assert text.startswith(f"Accept pre-labels of track {a.label.track_id}, 3 boxes in frames")
    assert s.drive.frames[1].frame_id in text and s.drive.frames[3].frame_id in text
    qtbot.keyClick(w.bev, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)   # one step back
    assert [s.document.get(b.uid).source for b in filled] == ["model"] * 3
    assert [sources(project)[b.uid] for b in filled] == ["model"] * 3
    # Nothing left to accept: it says so and changes nothing.
    qtbot.keyClick(w.bev, Qt.Key.Key_Z, CTRL_SHIFT)   # redo
    steps = len(s.document.history())
    s.select((a.uid,))
    qtbot.keyClick(w.bev, Qt.Key.Key_Y, CTRL_SHIFT)
    assert len(s.document.history()) == steps
    assert "no pre-labels" in s.messages[-1].text
