"""With the cuboids hidden (B) no view can hit one: a drag in the bird's-eye view where a hidden
cuboid is works as on empty ground, and a click in a camera selects nothing (the 3D view's
picking is checked under a display in test_app_view3d)."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import QPoint, QPointF, Qt  # noqa: E402

from conftest import app_project, app_window  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture
def project(tmp_path):
    yield from app_project(tmp_path, import_labels=True)


@pytest.fixture
def window(qtbot, project):
    yield from app_window(qtbot, project)


def px(view, xy) -> QPoint:
    u, v = view.to_screen(np.asarray(xy, float)[None])[0]
    return QPoint(int(round(u)), int(round(v)))


def drag(qtbot, widget, a: QPoint, b: QPoint, steps: int = 6):
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    for t in np.linspace(0, 1, steps + 1)[1:]:
        qtbot.mouseMove(widget, QPoint(int(a.x() + t * (b.x() - a.x())), int(a.y() + t * (b.y() - a.y()))))
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)


def test_a_drag_on_a_hidden_cuboid_does_not_move_it(qtbot, window):
    s, bev = window.session, window.bev
    target = min(s.annotations(), key=lambda a: np.hypot(*a.box.center[:2]))
    bev.center, bev.scale = np.asarray(target.box.center[:2], float), 20.0
    bev.update()
    p = px(bev, target.box.center[:2])
    assert bev.hit(QPointF(p)) is not None            # shown: the drag would move it
    qtbot.keyClick(bev, Qt.Key.Key_B)
    assert not s.layers["boxes"] and bev.hit(QPointF(p)) is None
    n = len(s.annotations())
    drag(qtbot, bev, p, p + QPoint(0, -40))
    assert s.document.get(target.uid).box == target.box
    assert len(s.annotations()) == n + 1               # a new cuboid, as a drag on empty ground makes
    assert s.document.history()[-1].startswith("Create")


def test_a_click_in_a_camera_selects_no_hidden_cuboid(qtbot, window):
    s = window.session
    hits = []
    for view in window.cameras.views.values():
        for x in range(2, view.width(), 6):
            for y in range(2, view.height(), 6):
                uid = view.pick(QPointF(x, y))
                if uid is not None:
                    hits.append((view, QPointF(x, y), uid))
    if not hits:
        pytest.skip("no cuboid projects into a camera of the test drive")
    view, pos, uid = hits[len(hits) // 2]
    s.set_layer("boxes", False)
    assert all(v.pick(p) is None for v, p, _ in hits)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos.toPoint())
    assert s.selection == ()
    s.set_layer("boxes", True)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos.toPoint())
    assert s.selection == (uid,)
