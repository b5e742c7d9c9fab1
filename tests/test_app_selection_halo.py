"""The selection's halo in the cameras hides little of a small, far object (pytest-qt, offscreen).

The box's outline on screen comes from the lens model here (corners and edge points projected by
``camera.project``), not from the app's wireframe code."""

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
from fusionlabel.app.camera_halo import clip_convex, inside_mask  # noqa: E402
from fusionlabel.geometry.cuboid import EDGES  # noqa: E402
from fusionlabel.geometry.transforms import transform_points  # noqa: E402

pytestmark = pytest.mark.gui


def screen_outline(view, ann) -> np.ndarray | None:
    """The convex outline (K, 2), counter-clockwise on screen, of a cuboid in a camera view, from
    points along its 12 edges projected through the lens; None unless all of it is in the image."""
    corners = transform_points(view.cam.T_cam_lidar, ann.box.corners())
    f = np.linspace(0.0, 1.0, 25)[:, None, None]
    pts = (corners[EDGES[:, 0]] + f * (corners[EDGES[:, 1]] - corners[EDGES[:, 0]])).reshape(-1, 3)
    if (pts[:, 2] < 0.5).any():
        return None
    proj = view.cam.camera.project(pts)
    if not proj.in_image.all():
        return None
    tf = view.transform()
    screen = np.array([tf.to_screen(uv) for uv in proj.uv], float)
    return convex_hull(screen)


def convex_hull(pts: np.ndarray) -> np.ndarray:
    """Monotone chain: the hull of points (N, 2), counter-clockwise in x-right, y-down terms."""
    pts = sorted(map(tuple, pts))

    def half(seq):
        out = []
        for p in seq:
            while len(out) >= 2 and np.cross(np.subtract(out[-1], out[-2]), np.subtract(p, out[-2])) <= 0:
                out.pop()
            out.append(p)
        return out[:-1]
    return np.array(half(pts) + half(reversed(pts)), float)


def inside_by(hull: np.ndarray, shape, margin: float) -> np.ndarray:
    """Bool mask (H, W): pixel centres inside ``hull`` at least ``margin`` px from its edges."""
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]]
    p = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(float)
    ok = np.ones(len(p), bool)
    for a, b in zip(hull, np.roll(hull, -1, axis=0)):
        d = b - a
        ok &= (np.cross(d, p - a) / np.hypot(*d)) >= margin
    return ok.reshape(shape)


def outside_points(hull: np.ndarray, offset: float) -> np.ndarray:
    """Integer pixels (M, 2) ``offset`` px outside the middle of each outline edge (not near the corners)."""
    out = []
    for a, b in zip(hull, np.roll(hull, -1, axis=0)):
        d = b - a
        length = float(np.hypot(*d))
        normal = np.array([d[1], -d[0]]) / max(length, 1e-9)   # away from the inside (see inside_by)
        for t in np.arange(3.0, length - 3.0, 1.0):
            out.append(a + d * t / length + offset * normal)
    return np.round(np.array(out).reshape(-1, 2)).astype(int)


def small_box(window):
    """(view, annotation, outline) of the smallest cuboid at least 14 px across that a camera shows
    whole, apart from every other cuboid."""
    best = None
    for view in window.cameras.views.values():
        anns = [a for a, _ in view.wireframes()]
        outlines = {a.uid: screen_outline(view, a) for a in anns}
        rect = view.visible_rect()
        for a in anns:
            hull = outlines[a.uid]
            if hull is None:
                continue
            lo, hi = hull.min(axis=0), hull.max(axis=0)
            size = float((hi - lo).min())
            if size < 14 or (lo < (rect.x() + 8, rect.y() + 26)).any() or (hi > (rect.right() - 8, rect.bottom() - 8)).any():
                continue
            apart = all(o is None or (o.min(axis=0) > hi + 12).any() or (o.max(axis=0) < lo - 12).any()
                        for uid, o in outlines.items() if uid != a.uid)
            if apart and (best is None or size < best[0]):
                best = (size, view, a, hull)
    assert best is not None, "a camera should show a small cuboid apart from the others"
    return best[1:]


def test_the_selection_hides_little_inside_a_small_box_and_still_stands_out(qtbot, window):
    """Selecting a small, far cuboid changes few of the pixels inside its outline (before, the dark
    rim and white halo, 8 px wide on every edge, changed ~80 % of them), and it is still told apart
    from the same box unselected: white all around it, 3 px out."""
    w, s = window, window.session
    qtbot.keyClick(w.bev, Qt.Key.Key_L)                  # no labels over the box
    view, ann, hull = small_box(w)
    other = next(a for a in s.shown_annotations(s.frame) if a.uid != ann.uid)
    s.select((other.uid,))     # something selected (the panels filled) while the box is drawn plain
    QApplication.processEvents()
    view, again, hull = small_box(w)           # (the panels may have narrowed the cameras)
    assert again.uid == ann.uid
    plain = testing.widget_pixels(view).astype(int)
    s.select((ann.uid,))
    QApplication.processEvents()
    chosen = testing.widget_pixels(view).astype(int)
    inside = inside_by(hull, plain.shape[:2], 1.0)
    assert inside.sum() > 60, inside.sum()
    changed = (np.abs(chosen - plain).max(axis=2) > 24)
    share = float(changed[inside].mean())
    assert share < 0.1, f"the selection changed {share:.0%} of the {inside.sum()} pixels inside the box"

    def white_around(img) -> float:
        pts = outside_points(hull, 3.0)
        return float((img[pts[:, 1], pts[:, 0]].min(axis=1) > 200).mean())
    assert white_around(chosen) > 0.6 and white_around(plain) < 0.1, (white_around(chosen), white_around(plain))


def test_the_inside_mask_is_the_convex_hull_clipped_to_the_mask():
    """``inside_mask`` marks the pixels inside a box's projection, also when the projection reaches
    far beyond the mask (a near box: coordinates of millions of pixels)."""
    outline = np.array([[10.0, 5.0], [30.0, 5.0], [30.0, 25.0], [10.0, 25.0], [20.0, 15.0]])
    mask = inside_mask(outline, (4, 2), (40, 50))
    want = inside_by(np.array([[6.0, 3.0], [26.0, 3.0], [26.0, 23.0], [6.0, 23.0]]), (40, 50), -0.5)
    assert (mask == want).mean() > 0.98 and mask[13, 16] and not mask[30, 40]
    huge = np.array([[-3e6, -2e6], [4e6, -1e6], [0.0, 5e6]])
    assert inside_mask(huge, (0, 0), (30, 40)).all()
    assert clip_convex(np.array([[50.0, 50.0], [60.0, 50.0], [55.0, 60.0]]), (0, 0), (10, 10)).shape == (0, 2)
