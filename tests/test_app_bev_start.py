"""Where the bird's-eye view starts on a drive opened for the first time: on the labels when a
drive is labelled only ahead (KITTI object), the usual view otherwise (Qt-free rule, then the
window on the real drives, offscreen)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from fusionlabel.app.bev_start import AHEAD_M, MARGIN_PX, SCALE_PX, start_view
from fusionlabel.geometry.cuboid import Cuboid

EGO = np.array([[2.5, 1.0], [2.5, -1.0], [-2.0, -1.0], [-2.0, 1.0]])
SIZE = (700.0, 490.0)


def footprints(boxes):
    return [b.center[:2] for b in boxes], np.vstack([b.corners()[:, :2] for b in boxes])


def in_view(xy, center, scale, forward, left, margin=0.0) -> np.ndarray:
    """Whether LiDAR xy (N, 2) are drawn inside a view of SIZE, ``margin`` px in from its edges."""
    d = np.atleast_2d(xy) - center
    return ((np.abs(d @ left) * scale <= SIZE[0] / 2 - margin + 1e-6)
            & (np.abs(d @ forward) * scale <= SIZE[1] / 2 - margin + 1e-6))


@pytest.mark.parametrize("forward", [(1.0, 0.0), (0.0, 1.0)])   # a LiDAR turned 90 degrees: its +y is forward
def test_labels_only_far_ahead_are_all_in_the_first_view(forward):
    forward = np.array(forward)
    left = np.array([-forward[1], forward[0]])
    # A truck 67 m ahead, a car 57 m ahead and 12 m to the left, a cyclist at 45 m (KITTI 000001).
    boxes = [Cuboid(tuple(a * forward + s * left) + (-1.0,), size, 0.0) for a, s, size in
             ((67.0, 1.0, (8.0, 2.6, 3.2)), (57.0, 12.0, (4.2, 1.8, 1.5)), (45.0, -3.0, (1.8, 0.6, 1.7)))]
    centers, corners = footprints(boxes)
    assert not in_view(corners, AHEAD_M * forward, SCALE_PX, forward, left).all()   # the usual view misses them
    center, scale = start_view(centers, corners, EGO, forward, left, SIZE)
    assert in_view(corners, center, scale, forward, left, MARGIN_PX - 0.5).all()
    assert in_view(np.vstack([EGO, [0.0, 0.0]]), center, scale, forward, left, MARGIN_PX - 0.5).all()
    assert abs(float(center @ left)) < 1e-9           # the ego stays on the view's vertical middle line
    assert 0.5 <= scale < SCALE_PX
    # Tight: zoomed out no further than needed, along the longer side.
    span = np.vstack([corners, EGO]) @ forward
    assert scale == pytest.approx((SIZE[1] - 2 * MARGIN_PX) / (span.max() - span.min()))


def test_labels_all_around_or_already_in_view_keep_the_usual_view():
    forward, left = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    usual = (AHEAD_M * forward, SCALE_PX)
    around = [Cuboid((60.0, 0.0, -1.0), (4.0, 2.0, 1.5)), Cuboid((-30.0, 5.0, -1.0), (4.0, 2.0, 1.5))]
    near = [Cuboid((20.0, 3.0, -1.0), (4.0, 2.0, 1.5)), Cuboid((8.0, -4.0, -1.0), (0.6, 0.6, 1.7))]
    for boxes in (around, near):
        center, scale = start_view(*footprints(boxes), EGO, forward, left, SIZE)
        assert np.allclose(center, usual[0]) and scale == usual[1]
    center, scale = start_view([], np.zeros((0, 2)), EGO, forward, left, SIZE)   # no labels
    assert np.allclose(center, usual[0]) and scale == usual[1]


# ------------------------------------------------------------------------- the window, real drives
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def open_window(qtbot, drive, folder, frame=None):
    pytest.importorskip("PyQt6")
    pytest.importorskip("pytestqt")
    from conftest import APP_TEST_SIZE
    from fusionlabel.app import testing
    from fusionlabel.app.main import open_project
    from fusionlabel.app.main_window import MainWindow
    from fusionlabel.app.session import Session

    project = open_project(drive, folder)
    session = Session(project)
    if frame is not None:
        session.set_frame(project.drive.index_of(frame))
    w = MainWindow(session, use_gl=False)
    w.window_layout.apply_default(APP_TEST_SIZE)
    qtbot.addWidget(w)
    return testing.show_window(w)


@pytest.mark.gui
def test_kitti_object_opens_on_its_labels_and_then_where_it_was_left(qtbot, kitti_object, tmp_path):
    from conftest import bev_shows

    w = open_window(qtbot, kitti_object, tmp_path / "p", frame="000001")
    centres = [a.box.center[:2] for a in w.session.annotations()]
    assert len(centres) == 3 and all(bev_shows(w.bev, c) for c in centres)
    assert bev_shows(w.bev, (0.0, 0.0))                  # and the ego
    w.bev.center, w.bev.scale = np.array([5.0, 0.0]), 20.0  # the annotator zooms in, closes
    w.close()
    w = open_window(qtbot, kitti_object, tmp_path / "p", frame="000001")
    assert np.allclose(w.bev.center, (5.0, 0.0)) and w.bev.scale == 20.0
    w.close()


@pytest.mark.gui
def test_nuscenes_labelled_all_around_opens_on_the_usual_view(qtbot, nusc_root, tmp_path):
    w = open_window(qtbot, nusc_root, tmp_path / "p")
    assert np.allclose(w.bev.center, AHEAD_M * w.bev.forward) and w.bev.scale == SCALE_PX
    w.close()


@pytest.mark.gui
def test_the_first_view_is_fitted_again_after_a_resize_until_the_user_zooms(qtbot, kitti_object, tmp_path):
    from PyQt6.QtCore import QPoint, QPointF, Qt
    from PyQt6.QtGui import QWheelEvent
    from PyQt6.QtWidgets import QApplication

    from conftest import bev_shows

    def all_in_view(bev) -> bool:
        corners = np.vstack([a.box.corners()[:, :2] for a in w.session.annotations()])
        return all(bev_shows(bev, c) for c in np.vstack([corners, bev.ego, [0.0, 0.0]]))

    def tight(bev) -> bool:
        """Zoomed out no further than needed: the labels and the ego fill the view, less its
        margins, along one side."""
        pts = np.vstack([np.vstack([a.box.corners()[:, :2] for a in w.session.annotations()]), bev.ego, [0.0, 0.0]])
        ahead, side = pts @ bev.forward, pts @ bev.left
        fill = max((ahead.max() - ahead.min()) * bev.scale / (bev.height() - 2 * MARGIN_PX),
                   2 * np.abs(side).max() * bev.scale / (bev.width() - 2 * MARGIN_PX))
        return bool(abs(fill - 1.0) < 1e-6)

    def resize(height: int) -> None:
        w.resize(w.width(), height)
        QApplication.processEvents()
        w.bev.repaint()

    w = open_window(qtbot, kitti_object, tmp_path / "p", frame="000001")
    bev = w.bev
    assert all_in_view(bev)
    first = bev.scale
    resize(w.height() - 300)                      # the window made lower: the view zooms out to keep them
    assert all_in_view(bev) and bev.scale < first and tight(bev)
    lower = bev.scale
    resize(w.height() + 300)                      # and back: as tight as at the start
    assert all_in_view(bev) and bev.scale > lower and tight(bev)
    at = QPointF(bev.rect().center())
    QApplication.sendEvent(bev, QWheelEvent(at, QPointF(bev.mapToGlobal(at.toPoint())), QPoint(0, 0), QPoint(0, 120),
                                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                                            Qt.ScrollPhase.NoScrollPhase, False))
    zoomed = (bev.center.copy(), bev.scale)
    assert zoomed[1] > first
    resize(w.height() - 300)                      # once the user zoomed, a resize leaves the view alone
    assert np.array_equal(bev.center, zoomed[0]) and bev.scale == zoomed[1]
    w.close()


START_3D_SCRIPT = r"""
import json, sys, tempfile
import numpy as np
from PyQt6.QtCore import QPoint, QPointF, Qt
from PyQt6.QtGui import QWheelEvent
from PyQt6.QtWidgets import QApplication
app = QApplication([])
from fusionlabel.app import testing
from fusionlabel.app.main import open_project
from fusionlabel.app.main_window import MainWindow
from fusionlabel.app.session import Session

def shown(v, boxes):
    # every corner of every label in front of the eye and inside the view
    xyz = np.vstack([b.corners() for b in boxes])
    uv, front = v.screen_points(xyz)
    return bool((front & (uv[:, 0] >= 0) & (uv[:, 0] <= v.width()) & (uv[:, 1] >= 0) & (uv[:, 1] <= v.height())).all())

def settle(w):
    for _ in range(5):
        app.processEvents()
    w.view3d.makeCurrent(); w.view3d.paintGL()

out = {}
with tempfile.TemporaryDirectory() as tmp:
    project = open_project(sys.argv[1], tmp + "/p")
    s = Session(project)
    s.set_frame(project.drive.index_of("000001"))
    w = MainWindow(s, use_gl=True)
    if w.view3d is None:
        print(json.dumps({"skip": "no OpenGL on this display"})); sys.exit(0)
    w.window_layout.apply_default((1600, 1000))
    testing.show_window(w)
    settle(w)
    v, boxes = w.view3d, [a.box for a in s.annotations()]
    out["first"] = shown(v, boxes)
    w.resize(1600, 700); settle(w)
    out["after_resize"] = shown(v, boxes)
    at = QPointF(v.width() / 2, v.height() / 2)
    QApplication.sendEvent(v, QWheelEvent(at, at, QPoint(0, 0), QPoint(0, 120), Qt.MouseButton.NoButton,
                                          Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False))
    zoomed = v.opts["distance"]
    w.resize(1600, 1000); settle(w)
    out["zoom_kept"] = v.opts["distance"] == zoomed
    w.close(); project.close()
print(json.dumps(out))
"""


def test_the_3d_view_starts_on_labels_far_ahead_and_keeps_them_until_zoomed(kitti_object):
    """KITTI 000001: its truck at 70 m and car at 59 m were off screen in the usual 3D view."""
    from conftest import run_on_display

    out = run_on_display(START_3D_SCRIPT.replace("sys.argv[1]", repr(str(kitti_object))))
    assert out == {"first": True, "after_resize": True, "zoom_kept": True}


@pytest.mark.gui
def test_stepping_to_an_unrelated_kitti_frame_shows_its_labels(qtbot, kitti_object, tmp_path):
    """KITTI object frames are unrelated scenes: zoomed in on frame 000000's pedestrian, the next
    frame (a truck at 70 m, a car and a cyclist) opens on its own labels rather than on none."""
    from conftest import bev_shows
    from fusionlabel.app import testing

    w = open_window(qtbot, kitti_object, tmp_path / "p", frame="000000")
    (ped,) = w.session.annotations()
    w.bev.focus_on(ped.box.center, 1.0)   # the annotator zooms in on it (as Z does)
    assert w.bev.scale > 2 * SCALE_PX
    w.actions_.next_frame()
    testing.wait_for_frame(w, 1)
    w.bev.grab()
    centres = [a.box.center[:2] for a in w.session.annotations()]
    assert len(centres) == 3 and all(bev_shows(w.bev, c) for c in centres)
    # A frame whose labels are in view keeps the view: back to 000000, its pedestrian is in this one.
    kept = (w.bev.center.copy(), w.bev.scale)
    assert bev_shows(w.bev, ped.box.center[:2])
    w.actions_.previous_frame()
    testing.wait_for_frame(w, 0)
    w.bev.grab()
    assert np.allclose(w.bev.center, kept[0]) and w.bev.scale == kept[1]
    w.close()


@pytest.mark.gui
def test_stepping_frames_of_a_recording_keeps_the_view_even_off_its_labels(qtbot, tmp_path):
    from fusionlabel.app import testing

    w = open_window(qtbot, testing.small_drive(), tmp_path / "p")
    w.bev.focus_on((400.0, 400.0), 10.0)   # far from every label
    kept = (w.bev.center.copy(), w.bev.scale)
    w.actions_.next_frame()
    testing.wait_for_frame(w, 1)
    w.bev.grab()
    assert np.allclose(w.bev.center, kept[0]) and w.bev.scale == kept[1]
    w.close()


@pytest.mark.gui
def test_opened_on_another_unrelated_kitti_frame_starts_on_its_labels(qtbot, kitti_object, tmp_path):
    """Closed on frame 000000 (the usual view, its pedestrian at 8 m), opened again with --frame
    000001: that view is another scene's and showed none of 000001's labels (truck at 70 m, car at
    59 m, cyclist at 46 m); it starts on them as on a first opening. Opened on 000000 again, the
    view is where it was left."""
    from conftest import bev_shows

    w = open_window(qtbot, kitti_object, tmp_path / "p", frame="000000")
    w.bev.center, w.bev.scale = np.array([5.0, 0.0]), 20.0    # zoomed in on the pedestrian, closed
    w.close()
    w = open_window(qtbot, kitti_object, tmp_path / "p", frame="000001")
    w.bev.grab()
    centres = [a.box.center[:2] for a in w.session.annotations()]
    assert len(centres) == 3 and all(bev_shows(w.bev, c) for c in centres)
    w.bev.center, w.bev.scale = np.array([5.0, 0.0]), 20.0
    w.actions_.previous_frame()
    w.close()
    w = open_window(qtbot, kitti_object, tmp_path / "p", frame="000000")
    assert np.allclose(w.bev.center, (5.0, 0.0)) and w.bev.scale == 20.0
    w.close()
