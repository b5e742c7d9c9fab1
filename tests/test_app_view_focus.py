"""Enter in a panel field (the attribute panel's track field, the object list's filter) and Esc give
the keyboard focus back to the view the annotator was working in, so arrows and letters go on
working there (pytest-qt)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import Qt  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

pytestmark = pytest.mark.gui


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=widget.rect().center())


def type_track(qtbot, w, text: str) -> None:
    field = w.attributes.track
    click(qtbot, field)
    assert QApplication.focusWidget() is field
    field.selectAll()
    qtbot.keyClicks(field, text)
    qtbot.keyClick(field, Qt.Key.Key_Return)


def test_enter_in_the_track_field_gives_the_keys_back_to_the_view_worked_in(qtbot, window):
    w, s = window, window.session
    first, second = s.annotations()[:2]
    s.select((first.uid,))
    type_track(qtbot, w, "77")
    assert s.document.get(first.uid).track_id == "77"
    assert QApplication.focusWidget() is w.bev                     # the window's first view
    side = next(iter(w.side.views.values()))
    side.setFocus()                                                # the annotator works in a side view
    type_track(qtbot, w, "78")
    assert s.document.get(first.uid).track_id == "78"
    assert QApplication.focusWidget() is side
    # the keys work there again: Right nudges the selected cuboid from the side view
    before = s.document.get(first.uid).box.center
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Right)
    assert s.document.get(first.uid).box.center != before
    # Esc in the track field goes back to the same view
    click(qtbot, w.attributes.track)
    qtbot.keyClick(w.attributes.track, Qt.Key.Key_Escape)
    assert QApplication.focusWidget() is side
    s.select((second.uid,))
    assert w.attributes.track.text() == (second.track_id or "")


def test_enter_in_the_filter_gives_the_keys_back_to_the_view_worked_in(qtbot, window):
    w = window
    camera = next(iter(w.cameras.views.values()))
    camera.setFocus()
    click(qtbot, w.objects_header.filter)
    qtbot.keyClicks(w.objects_header.filter, "car")
    qtbot.keyClick(w.objects_header.filter, Qt.Key.Key_Return)
    assert w.objects_header.filter.text() == "car"
    assert QApplication.focusWidget() is camera
