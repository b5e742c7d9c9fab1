"""Tab as an annotator expects it: the cuboids the bird's-eye view shows first, nearest the ego
first, then the others; the order stays while a box is edited; a selection the view does not show
(by Tab, the object list ...) brings the view onto it, without zooming; several selected cuboids
partly out of view are counted in the status bar. Real key and mouse events on the simulated
drive (offscreen platform); the 3D view's part runs on the display."""

from __future__ import annotations

import os
import textwrap

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PyQt6.QtGui import QWheelEvent  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

from conftest import bev_shows as seen  # noqa: E402
from conftest import expected_tab_order, run_on_display  # noqa: E402
from conftest import lidar_xy as centre  # noqa: E402
from conftest import press_key as key  # noqa: E402
from fusionlabel.app.tab_order import TabCycle, spatial_order  # noqa: E402
from fusionlabel.geometry.cuboid import Cuboid  # noqa: E402
from fusionlabel.model.annotation import CuboidLabel  # noqa: E402
from fusionlabel.model.commands import CreateCuboid  # noqa: E402

pytestmark = pytest.mark.gui
NO, CTRL, SHIFT = Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier

def add_car(session, xy, yaw=0.0) -> str:
    size = session.ontology.get("car").default_size
    session.apply(CreateCuboid(session.frame, CuboidLabel(Cuboid((*xy, -0.9), size, yaw), "car")))
    return session.annotations()[-1].uid


# ------------------------------------------------------------------ the rule, without Qt
def test_spatial_order_and_the_kept_cycle():
    uids = ["far_seen", "near_unseen", "near_seen", "tie_a", "tie_b"]
    xy = [(30.0, 0.0), (-2.0, 1.0), (0.0, -5.0), (0.0, 10.0), (10.0, 0.0)]
    shown = [True, False, True, True, True]
    assert spatial_order(uids, xy, shown) == ["near_seen", "tie_a", "tie_b", "far_seen", "near_unseen"]
    assert spatial_order([], np.zeros((0, 2)), []) == []

    cycle, calls = TabCycle(), []

    def compute(us):
        calls.append(list(us))
        return sorted(us)

    assert cycle.order(0, ["b", "a"], (), compute) == ["a", "b"]
    assert cycle.order(0, ["b", "a"], ("a",), lambda us: pytest.fail("recomputed")) == ["a", "b"]   # kept
    cycle.order(0, ["b", "a", "c"], ("a",), compute)                 # a cuboid more: afresh
    cycle.order(1, ["b", "a", "c"], ("a",), compute)                 # another frame or sort: afresh
    cycle.order(1, ["b", "a", "c"], (), compute)                     # nothing selected: from the view as it is
    assert len(calls) == 4


# ------------------------------------------------------------------ Tab in the app
def test_first_tab_picks_the_nearest_cuboid_in_view_and_tab_walks_nearest_first(qtbot, window):
    s, bev = window.session, window.bev
    bev.center = np.array([40.0, 0.0])     # the cuboids nearest the ego are now behind the view's bottom edge
    order = expected_tab_order(s, bev)
    nearest = min(s.annotations(), key=lambda a: np.linalg.norm(a.box.center[:2])).uid
    assert not seen(bev, centre(s, nearest)) and nearest != order[0] != s.annotations()[0].uid
    assert seen(bev, centre(s, order[0])) and not seen(bev, centre(s, order[-1]))
    walked = []
    for _ in order:
        key(qtbot, window, Qt.Key.Key_Tab)
        walked.append(s.selection[0])
    assert walked == order                  # the order of the first Tab, although the view pans on the way
    key(qtbot, window, Qt.Key.Key_Tab)
    assert s.selection == (order[0],)       # wraps around
    key(qtbot, window, Qt.Key.Key_Backtab, SHIFT)
    assert s.selection == (order[-1],)


def test_tab_order_stays_while_a_box_is_edited_and_follows_new_cuboids(qtbot, window):
    s = window.session
    a = add_car(s, (6.0, 0.0))              # 6.00 m ahead, heading away from the ego
    b = add_car(s, (0.0, -6.1))             # 6.10 m to the right
    s.select(())
    order = expected_tab_order(s, window.bev)
    key(qtbot, window, Qt.Key.Key_Tab)
    while s.selection[0] != a:
        key(qtbot, window, Qt.Key.Key_Tab)
    assert order[order.index(a) + 1] == b
    for _ in range(3):                      # 15 cm further away: nearer than b no more
        key(qtbot, window, Qt.Key.Key_Up)
    assert np.linalg.norm(centre(s, a)) == pytest.approx(6.15)
    fresh = expected_tab_order(s, window.bev)
    assert fresh.index(b) < fresh.index(a)  # afresh, Tab would skip b
    key(qtbot, window, Qt.Key.Key_Tab)
    assert s.selection == (b,)              # the walk the annotator began
    c = add_car(s, (0.0, 8.0))              # a new cuboid: the walk is taken afresh
    s.select((b,))
    fresh = expected_tab_order(s, window.bev)
    assert fresh[fresh.index(b) + 1: fresh.index(b) + 3] == [a, c]
    key(qtbot, window, Qt.Key.Key_Tab)
    assert s.selection == (a,)
    key(qtbot, window, Qt.Key.Key_Tab)
    assert s.selection == (c,)


def test_a_sorted_list_is_walked_as_shown(qtbot, window):
    """A list the annotator sorted (by points here) keeps its order for Tab."""
    window.objects.sort_by("points", descending=True)
    shown = window.objects.shown_uids
    assert shown != expected_tab_order(window.session, window.bev)
    key(qtbot, window, Qt.Key.Key_Tab)
    key(qtbot, window, Qt.Key.Key_Tab)
    assert window.session.selection == (shown[1],)


# ------------------------------------------------------------------ the view follows
def test_a_selection_out_of_view_pans_the_view_onto_it_without_zooming(qtbot, window):
    s, bev = window.session, window.bev
    order = expected_tab_order(s, bev)
    scale, start = bev.scale, bev.center.copy()
    key(qtbot, window, Qt.Key.Key_Tab)
    assert np.array_equal(bev.center, start)                 # in view already: the view stays
    away = [u for u in order if not seen(bev, centre(s, u))]
    assert away
    while s.selection[0] != away[0]:
        key(qtbot, window, Qt.Key.Key_Tab)
    assert seen(bev, centre(s, away[0])) and bev.scale == scale
    assert not np.array_equal(bev.center, start)
    # A row clicked in the object list brings its cuboid into view too.
    far = max(s.annotations(), key=lambda a: np.linalg.norm(a.box.center[:2] - bev.center)).uid
    assert not seen(bev, centre(s, far))
    lst = window.objects
    row = lst.shown_uids.index(far)
    lst.scrollToItem(lst.item(row, 0))
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=lst.visualItemRect(lst.item(row, 0)).center())
    assert s.selection == (far,) and seen(bev, centre(s, far)) and bev.scale == scale


def test_several_selected_partly_out_of_view_are_counted_not_panned(qtbot, window):
    s, bev = window.session, window.bev
    start = bev.center.copy()
    key(qtbot, window, Qt.Key.Key_A, CTRL)
    away = sum(not seen(bev, centre(s, u)) for u in s.selection)
    assert 0 < away < len(s.selection) and np.array_equal(bev.center, start)
    assert s.messages[-1].text.startswith(f"{away} of the {len(s.selection)} selected cuboids are outside")


def test_the_count_out_of_view_follows_a_zoom_and_goes_once_all_are_in_view(qtbot, window):
    s, bev, bar = window.session, window.bev, window.statusBar()
    key(qtbot, window, Qt.Key.Key_A, CTRL)
    n = len(s.selection)
    assert bar.currentMessage().startswith(f"{sum(not seen(bev, centre(s, u)) for u in s.selection)} of the {n}")
    counts = []
    for _ in range(30):                      # the wheel zooms out, a notch at a time
        wheel = QWheelEvent(QPointF(bev.rect().center()), QPointF(bev.mapToGlobal(bev.rect().center())),
                            QPoint(0, 0), QPoint(0, -120), Qt.MouseButton.NoButton, NO,
                            Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(bev, wheel)
        bev.repaint()
        away = sum(not seen(bev, centre(s, u)) for u in s.selection)
        counts.append(away)
        if away:
            assert bar.currentMessage().startswith(f"{away} of the {n} selected cuboids are outside")
        else:
            break
    assert counts[-1] == 0 and len(set(counts)) > 2      # fewer out of view, then none
    assert bar.currentMessage() == ""        # no longer true: gone


def test_a_click_in_the_view_on_a_box_at_its_edge_never_pans_under_the_drag(qtbot, window):
    s, bev = window.session, window.bev
    edge = bev.to_world(QPoint(bev.width() - 3, bev.height() // 2).toPointF())
    uid = add_car(s, edge - 1.0 * bev.left, yaw=np.pi / 2)  # across the edge, its centre 1 m beyond it
    s.select(())
    assert not seen(bev, centre(s, uid))
    start, before = bev.center.copy(), centre(s, uid)
    press = QPoint(bev.width() - 6, bev.height() // 2)
    qtbot.mousePress(bev, Qt.MouseButton.LeftButton, NO, press)
    assert s.selection == (uid,) and np.array_equal(bev.center, start)
    for dx in (10, 20, 40):
        qtbot.mouseMove(bev, press - QPoint(dx, 0))
    qtbot.mouseRelease(bev, Qt.MouseButton.LeftButton, NO, press - QPoint(40, 0))
    assert np.array_equal(bev.center, start)
    assert np.allclose(centre(s, uid) - before, 40 / bev.scale * bev.left, atol=0.02)   # moved with the mouse


# ------------------------------------------------------------------ the 3D view follows too
FOLLOW_3D_SCRIPT = textwrap.dedent(r"""
    import json, tempfile
    import numpy as np
    from PyQt6.QtCore import Qt
    from PyQt6.QtTest import QTest
    from PyQt6.QtWidgets import QApplication
    app = QApplication([])
    from fusionlabel.app import testing
    out = {"steps": []}

    def on_screen(v, xyz):
        uv, front = v.screen_points(np.asarray(xyz, float)[None])
        return bool(front[0] and 0 <= uv[0, 0] <= v.width() and 0 <= uv[0, 1] <= v.height())

    with tempfile.TemporaryDirectory() as tmp:
        project, w = testing.gl_window_or_skip(tmp, import_labels=True)
        s, v = w.session, w.view3d
        for _ in range(len(s.annotations())):
            centre_before = np.array(list(v.opts["center"]), float)
            view = (v.opts["azimuth"], v.opts["elevation"], v.opts["distance"])
            shown = {a.uid: on_screen(v, a.box.center) for a in s.annotations()}
            QTest.keyClick(w.bev, Qt.Key.Key_Tab)
            xyz = np.asarray(s.document.get(s.selection[0]).box.center, float)
            moved = not np.allclose(np.array(list(v.opts["center"]), float), centre_before)
            out["steps"].append({"seen_before": shown[s.selection[0]], "moved": moved, "seen_after": on_screen(v, xyz),
                                 "kept_view": view == (v.opts["azimuth"], v.opts["elevation"], v.opts["distance"])})
        w.close(); project.close()
    print(json.dumps(out))
""")


def test_view3d_follows_a_tab_to_a_cuboid_it_does_not_show():
    steps = run_on_display(FOLLOW_3D_SCRIPT)["steps"]
    assert any(st["seen_before"] for st in steps) and not all(st["seen_before"] for st in steps)
    assert all(st["moved"] == (not st["seen_before"]) for st in steps)      # only onto a cuboid it did not show
    assert all(st["seen_after"] and st["kept_view"] for st in steps)        # no turn, no zoom
