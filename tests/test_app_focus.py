"""Focus on the selection (Shift+B): the other cuboids are drawn faint and without labels in the
cameras and the bird's-eye view, and each of those views says so in its caption (pytest-qt)."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import Qt  # noqa: E402
from PyQt6.QtGui import QImage  # noqa: E402

from conftest import nearest_seen_box, press_key  # noqa: E402
from fusionlabel.render.label_layout import overlaps  # noqa: E402

pytestmark = pytest.mark.gui


def pixels(view) -> np.ndarray:
    image = view.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    raw = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), np.uint8)
    return raw.reshape(image.height(), image.bytesPerLine())[:, :3 * image.width()].astype(int)


def test_focus_draws_only_the_selection_in_full_and_says_so(qtbot, window):
    s = window.session
    view = window.cameras.views["cam_front"]
    target, _ = nearest_seen_box(view.cam, s.annotations())
    s.select((target.uid,))
    view.grab()
    window.bev.grab()
    others_before = set(view.label_rects) - {target.uid}
    assert others_before and set(window.bev.label_rects) - {target.uid}, "the test needs other labels in view"
    full = pixels(view)

    press_key(qtbot, window, Qt.Key.Key_B, Qt.KeyboardModifier.ShiftModifier)
    assert s.focus
    faint = pixels(view)
    window.bev.grab()
    assert set(view.label_rects) == {target.uid}             # only the selection is labelled
    assert set(window.bev.label_rects) == {target.uid}
    # Said beside the camera's caption, where no label goes.
    assert view.focus_rect is not None and not any(overlaps(view.focus_rect, r) for r in view.label_rects.values())
    # The other cuboids are still there, but faint: nearer to the image without any cuboid (B).
    press_key(qtbot, window, Qt.Key.Key_B)
    bare = pixels(view)
    press_key(qtbot, window, Qt.Key.Key_B)
    below = slice(int(view.focus_rect[1] + view.focus_rect[3]) + 1, None)   # under the captions
    differs_full = np.abs(full[below] - bare[below]).sum()
    differs_faint = np.abs(faint[below] - bare[below]).sum()
    assert 0 < differs_faint < 0.6 * differs_full

    press_key(qtbot, window, Qt.Key.Key_B, Qt.KeyboardModifier.ShiftModifier)   # off again: as before
    assert not s.focus
    view.grab()
    assert set(view.label_rects) - {target.uid} == others_before and view.focus_rect is None

