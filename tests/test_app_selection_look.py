"""How the selection looks in the cameras: unmistakable next to a neighbour (pytest-qt, offscreen)."""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import Qt  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

from fusionlabel.app import testing  # noqa: E402

pytestmark = pytest.mark.gui


def edge_sides(view, uid, offset: float = 3.0) -> np.ndarray:
    """The widget pixels (M, 2, 2) ``offset`` pixels away on both sides of a cuboid's projected
    edges, every pixel along them (corners and the image's border left out)."""
    wire = {a.uid: wf for a, wf in view.wireframes()}[uid]
    target = view.image_rect()
    scale = target.width() / view.cam.camera.width
    hits = []
    for line in wire.lines * scale + (target.x(), target.y()):
        line = line[np.isfinite(line).all(axis=1)]
        along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(line, axis=0).T))])
        for d in np.arange(6.0, along[-1] - 6.0, 1.0):       # every pixel along, not near the corners
            i = min(int(np.searchsorted(along, d, side="right")) - 1, len(line) - 2)
            a, b = line[i], line[i + 1]
            step = float(np.hypot(*(b - a)))
            if step < 1e-6:
                continue
            c = a + (d - along[i]) / step * (b - a)
            normal = np.array([a[1] - b[1], b[0] - a[0]]) / step
            sides = np.round([c + offset * normal, c - offset * normal]).astype(int)
            if ((sides >= (target.x() + 6, target.y() + 24)).all()
                    and (sides < (target.right() - 6, target.bottom() - 6)).all()):
                hits.append(sides)
    return np.asarray(hits, int).reshape(-1, 2, 2)


def outer_sides(view, uid) -> np.ndarray:
    """Of :func:`edge_sides`, the pixels (M, 2) on the outer side of the cuboid's outline (the
    side outside its projection, where only one side is: the outline's edges, not the inner ones)."""
    wire = {a.uid: wf for a, wf in view.wireframes()}[uid]
    target = view.image_rect()
    hull = wire.hull_points() * (target.width() / view.cam.camera.width) + (target.x(), target.y())
    hull = cv2.convexHull(hull.astype(np.float32))
    sides = edge_sides(view, uid)
    out = np.array([[cv2.pointPolygonTest(hull, (float(x), float(y)), True) < -1.0 for x, y in pair]
                    for pair in sides], bool).reshape(-1, 2)
    one = out.sum(axis=1) == 1
    return sides[one][out[one]]


def halo_share(view, uid) -> float:
    """Of the points just outside a cuboid's outline, the share with near-white pixels 3 px out."""
    QApplication.processEvents()
    now = testing.widget_pixels(view).astype(int)
    sides = outer_sides(view, uid)
    return float((now[sides[:, 1], sides[:, 0]].min(axis=1) > 200).mean())


def test_the_selected_cuboid_has_a_wide_white_halo_in_the_cameras(qtbot, window):
    """Selected, a cuboid's projected outline is wrapped in white 3 px out, so it stands out from
    an unselected neighbour drawn in the same class colour (before, a 1 px white edge: a selected
    pedestrian beside another was hard to tell apart). The halo lies outside the box only
    (test_app_selection_halo.py)."""
    w, s = window, window.session
    testing.wait_for_frame(w)
    qtbot.keyClick(w.bev, Qt.Key.Key_L)                  # no labels over the outlines
    view = max(w.cameras.views.values(), key=lambda v: len(v.wireframes()))
    seen = sorted((a.uid for a, _ in view.wireframes()), key=lambda uid: -len(edge_sides(view, uid)))
    assert len(seen) >= 2 and len(edge_sides(view, seen[1])) > 40, "a camera should show two cuboids"
    chosen, neighbour = seen[0], seen[1]
    assert len(outer_sides(view, chosen)) > 40 and len(outer_sides(view, neighbour)) > 20
    s.select((chosen,))
    selected, unselected = halo_share(view, chosen), halo_share(view, neighbour)
    assert selected > 0.6 and unselected < 0.1, (selected, unselected)
