"""The views through real events: camera picking and enlarging, layer toggles, object list and
timeline, Tab cycling, keyboard create/delete, help overlay (pytest-qt, offscreen)."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import QPoint, QPointF, Qt  # noqa: E402

from conftest import app_project, app_window  # noqa: E402
from fusionlabel.app import testing  # noqa: E402
from fusionlabel.app.shortcuts import SHORTCUTS, class_shortcuts, shortcut_markdown  # noqa: E402
from fusionlabel.geometry.transforms import transform_points  # noqa: E402
from fusionlabel.model.ontology import Ontology  # noqa: E402

pytestmark = pytest.mark.gui
DOCS = os.path.join(os.path.dirname(__file__), "..", "docs", "app.md")


@pytest.fixture
def project(tmp_path):
    yield from app_project(tmp_path, import_labels=True)


@pytest.fixture
def window(qtbot, project):
    yield from app_window(qtbot, project)


def widget_point(view, uv) -> QPoint:
    r = view.image_rect()
    s = r.width() / view.cam.camera.width
    return QPoint(int(round(r.x() + uv[0] * s)), int(round(r.y() + uv[1] * s)))


def test_click_on_projected_cuboid_selects_it_everywhere(qtbot, window):
    s = window.session
    view = window.cameras.views["cam_front"]
    cam = view.cam
    # The nearest labelled cuboid whose centre projects into the image (own camera model, not the
    # wireframe code): clicking its centre must select it.
    best = None
    for ann in s.annotations():
        c = transform_points(cam.T_cam_lidar, np.asarray(ann.box.center)[None])
        proj = cam.camera.project(c)
        if proj.in_image[0] and (best is None or c[0, 2] < best[0]):
            best = (c[0, 2], ann, proj.uv[0])
    assert best is not None, "no labelled cuboid in front of cam_front"
    _, ann, uv = best
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=widget_point(view, uv))
    assert s.selection == (ann.uid,)
    # Selected everywhere: object list row, side views, BEV handles.
    rows = {i.row() for i in window.objects.selectedIndexes()}
    assert [window.objects._uids[r] for r in rows] == [ann.uid]
    assert window.side.views["top"].annotation().uid == ann.uid
    assert window.bev.hit(QPointF(*window.bev.to_screen(ann.box.center[:2])[0])) == ("box", ann.uid)
    # Clicking the sky (top-left corner) clears it.
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=widget_point(view, (2, 2)))
    assert s.selection == ()


def test_object_list_and_timeline_drive_the_session(qtbot, window):
    s = window.session
    anns = s.annotations()
    assert window.objects.rowCount() == len(anns) > 1
    # Points column = points inside each box, from an independent brute-force count.
    from fusionlabel.geometry.cuboid import points_in_cuboid

    pts = window.displayed.points
    for row, ann in enumerate(anns):
        assert int(window.objects.item(row, 2).text()) == int(points_in_cuboid(pts, ann.box).sum())
    rect = window.objects.visualItemRect(window.objects.item(1, 0))
    qtbot.mouseClick(window.objects.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert s.selection == (anns[1].uid,)
    strip = window.timeline.strip
    cell = strip.width() / s.n_frames
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=QPoint(int(2.5 * cell), strip.height() // 2))
    assert s.frame == 2
    testing.wait_for_frame(window, 2)
    assert window.timeline.slider.value() == 2 and "3/3" in window.timeline.label.text()
    assert "3/3" in window.windowTitle()
    # The selection followed its track when the frame changed (if the track is still there).
    track = anns[1].track_id
    there = s.document.find_track(track, 2)
    assert s.selection == ((there.uid,) if there else ())


def test_tab_cycles_and_delete_and_create_with_keys(qtbot, window):
    s = window.session
    anns = s.annotations()
    qtbot.keyClick(window.bev, Qt.Key.Key_Tab)
    assert s.selection == (anns[0].uid,)
    qtbot.keyClick(window.bev, Qt.Key.Key_Tab)
    assert s.selection == (anns[1].uid,)
    qtbot.keyClick(window.bev, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert s.selection == (anns[0].uid,)
    qtbot.keyClick(window.bev, Qt.Key.Key_Delete)
    assert anns[0].uid not in s.document and s.selection == ()
    assert window.objects.rowCount() == len(anns) - 1
    # N creates a cuboid of the current class under the mouse.
    window.bev.center, window.bev.scale = np.array([10.0, 0.0]), 10.0
    target = window.bev.to_screen(np.array([[18.0, -6.0]]))[0]
    qtbot.mouseMove(window.bev, QPoint(int(target[0]), int(target[1])))
    qtbot.keyClick(window.bev, Qt.Key.Key_N)
    new = s.document.get(s.selection[0])
    assert np.allclose(new.box.center[:2], (18.0, -6.0), atol=0.11) and new.cls == s.current_class
    assert len(s.annotations()) == len(anns)
    # Shift+Delete removes the track from this frame on.
    first = s.annotations()[0]
    s.select((first.uid,))
    qtbot.keyClick(window.bev, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)
    assert s.frame == 0 and s.document.track_frames(first.track_id) == []


def test_layer_toggles_change_what_is_drawn(qtbot, window):
    s = window.session
    view = window.cameras.views["cam_front"]
    with_points = view.grab().toImage()
    qtbot.keyClick(window.bev, Qt.Key.Key_P)
    assert s.layers["camera_points"] is False
    without = view.grab().toImage()
    assert with_points != without
    qtbot.keyClick(window.bev, Qt.Key.Key_P)
    assert view.grab().toImage() == with_points
    qtbot.keyClick(window.bev, Qt.Key.Key_M)
    assert s.color_mode == "intensity"
    qtbot.keyClick(window.bev, Qt.Key.Key_B)
    assert s.layers["boxes"] is False
    # The BEV raster changes with the colour mode.
    mode_a = window.bev.raster().array.copy()
    qtbot.keyClick(window.bev, Qt.Key.Key_M)
    assert s.color_mode == "distance" and not np.array_equal(mode_a, window.bev.raster().array)


def test_camera_double_click_enlarges(qtbot, window):
    views = window.cameras.views
    assert len(views) == 3
    front = views["cam_front"]
    small = front.width()
    qtbot.mouseDClick(front, Qt.MouseButton.LeftButton, pos=front.rect().center())
    qtbot.wait(20)
    assert [n for n, v in views.items() if v.isVisible()] == ["cam_front"]
    assert front.width() > 1.5 * small
    qtbot.mouseDClick(front, Qt.MouseButton.LeftButton, pos=front.rect().center())
    qtbot.wait(20)
    assert all(v.isVisible() for v in views.values())


def test_help_overlay_lists_every_shortcut(qtbot, window):
    qtbot.keyClick(window.bev, Qt.Key.Key_Question, Qt.KeyboardModifier.ShiftModifier)
    assert window.help_overlay.isVisible()
    text = " ".join(" ".join(row) for row in window.help_overlay.lines())
    for sc in SHORTCUTS:
        assert sc.description in text
    qtbot.keyClick(window.bev, Qt.Key.Key_Escape)
    assert not window.help_overlay.isVisible()


def test_docs_shortcut_table_is_current():
    with open(DOCS, encoding="utf-8") as f:
        docs = f.read()
    assert shortcut_markdown(Ontology.default()) in docs, "regenerate the table in docs/app.md"
    assert len(class_shortcuts(Ontology.default())) == 8
