"""Small things a person sees: the ? help fits a 1280x720 window, a long frame id is elided in
the timeline (whole in its tooltip), D and A at the ends of the drive say so, and the selected
cuboid in the bird's-eye view has a white halo."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import Qt  # noqa: E402
from PyQt6.QtGui import QFont, QFontMetrics, QImage  # noqa: E402

from conftest import app_project, app_window, open_app_window  # noqa: E402
from fusionlabel.store.project import Project  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture
def project(tmp_path):
    yield from app_project(tmp_path, import_labels=True)


@pytest.fixture
def window(qtbot, project):
    yield from app_window(qtbot, project)


@pytest.mark.parametrize("size", [(1280, 720), (1600, 1000)])
def test_the_help_fits_the_window(window, size):
    help_ = window.help_overlay
    pt, placed = help_.layout(*size)
    assert [(g, k, d) for g, k, d, *_ in placed] == help_.lines()          # every row, in order
    fm = QFontMetrics(QFont(help_.font().family(), pt))
    for g, keys, desc, x, y, keys_w, col_w, _ in placed:
        assert 0 <= x and x + keys_w + fm.horizontalAdvance(desc) <= size[0], (keys, desc)
        assert y + fm.descent() <= size[1], (keys, desc)
    if size == (1600, 1000):
        assert pt == 9                                  # the full-size font where there is room


def test_a_long_frame_id_is_elided_in_the_timeline(qtbot, tmp_path, nusc_root):
    project = Project.create(tmp_path / "project", nusc_root)
    try:
        w = open_app_window(qtbot, project)
        label = w.timeline.label
        frame_id = str(project.drive.frames[0].frame_id)
        assert len(frame_id) > 20
        assert frame_id not in label.text() and "…" in label.text() and label.text().endswith("(1/1)")
        assert label.fontMetrics().horizontalAdvance(label.text()) <= label.minimumWidth()
        assert label.toolTip() == f"frame {frame_id}"
        w.close()
    finally:
        project.close()


def test_d_and_a_at_the_ends_of_the_drive_say_so(qtbot, window):
    s = window.session
    qtbot.keyClick(window.bev, Qt.Key.Key_A)
    assert s.frame == 0 and s.messages[-1].text == "this is the first frame"
    qtbot.keyClick(window.bev, Qt.Key.Key_End)
    last = s.frame
    qtbot.keyClick(window.bev, Qt.Key.Key_D)
    assert s.frame == last == s.n_frames - 1 and s.messages[-1].text == "this is the last frame"
    n = len(s.messages)
    qtbot.keyClick(window.bev, Qt.Key.Key_A)            # not at an end: nothing to say
    assert s.frame == last - 1 and len(s.messages) == n


def test_the_selected_cuboid_has_a_white_halo_in_the_bev(window):
    s, bev = window.session, window.bev
    near = [a for a in s.annotations() if np.hypot(*a.box.center[:2]) < 30]
    a = max(near, key=lambda a: a.box.length * a.box.width)
    bev.center, bev.scale = np.asarray(a.box.center[:2], float), 15.0

    def white_pixels() -> int:
        bev.repaint()
        img = bev.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
        raw = np.frombuffer(img.constBits().asstring(img.sizeInBytes()), np.uint8)
        arr = raw.reshape(img.height(), img.bytesPerLine())[:, :3 * img.width()].reshape(img.height(), img.width(), 3)
        poly = bev.to_screen(a.box.bev_polygon())
        lo, hi = np.floor(poly.min(axis=0)).astype(int) - 6, np.ceil(poly.max(axis=0)).astype(int) + 6
        return int((arr[lo[1]:hi[1], lo[0]:hi[0]].min(axis=2) >= 235).sum())

    perimeter = 2 * (a.box.length + a.box.width) * bev.scale
    s.select(())
    assert white_pixels() < 0.1 * perimeter
    s.select((a.uid,))
    assert white_pixels() >= 0.6 * perimeter             # white all around, not just a thicker line
