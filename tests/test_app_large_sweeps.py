"""Large sweeps (300k to 3M points): the work the loader thread does ahead, the grid's fast build,
the one-pass camera splats, the side views' shared crop and the 3D view's level of detail. Every
check is against a brute-force reference written here (or the geometry's own points_in_cuboid)."""

from __future__ import annotations

import os
import textwrap

import numpy as np
import pytest

from fusionlabel.app.point_index import PointGrid, crop_margin
from fusionlabel.app.point_lod import (THIN_FROM, count_text, drawn_rows, point_budget, thinned_caption,
                                      thinning_ranks)
from fusionlabel.geometry.cuboid import Cuboid, points_in_cuboid
from fusionlabel.render.splat import splat_squares


# ---------------------------------------------------------------------------------------- Qt-free
def test_grid_binning_in_float32_matches_float64():
    """The float32 fast path bins exactly like float64, points on cell edges included."""
    rng = np.random.default_rng(5)
    pts = rng.uniform(-70, 70, (30_000, 4)).astype(np.float32)
    pts[:400, 0] = np.arange(-200, 200) * 2.0  # exactly on cell edges
    pts[400:800, 1] = np.arange(-200, 200) * 2.0
    pts[800:900, :2] = np.float32(-1e-7)  # just below an edge
    pts[900:950, 2] = np.inf  # skipped
    fast, wide = PointGrid(pts), PointGrid(pts.astype(np.float64))
    assert np.array_equal(fast.sorted_index, wide.sorted_index)
    assert np.array_equal(fast.offsets, wide.offsets) and (fast.nx, fast.ny) == (wide.nx, wide.ny)
    finite = np.nan_to_num(pts, posinf=1e9)
    for _ in range(30):
        box = Cuboid(tuple(rng.uniform(-60, 60, 3) * (1, 1, 0.02)), tuple(rng.uniform(0.5, 9, 3)), rng.uniform(-3, 3))
        brute = np.flatnonzero(points_in_cuboid(finite, box, margin=0.8))
        assert np.array_equal(np.sort(fast.near_box(box, 0.8)[0]), brute)


def test_splat_squares_draws_later_points_on_top():
    """Against a point-by-point reference: each point paints its square, the next paints over it."""
    rng = np.random.default_rng(2)
    for splat in (1, 2, 4):
        image = rng.integers(0, 255, (41, 57, 3), dtype=np.uint8)
        uv = rng.uniform(-6, 63, (600, 2)).astype(np.float32)  # some off the image: clamped to its edge
        colors = rng.integers(0, 255, (600, 3), dtype=np.uint8)
        expected = image.copy()
        u = np.clip(np.round(uv[:, 0]).astype(int), 0, 56)
        v = np.clip(np.round(uv[:, 1]).astype(int), 0, 40)
        for i in range(len(uv)):
            expected[v[i]:v[i] + splat, u[i]:u[i] + splat] = colors[i]
        got = image.copy()
        assert splat_squares(got, uv, colors, splat) == len(uv)
        assert np.array_equal(got, expected), splat


def test_the_rendered_overlay_draws_later_points_on_top():
    """``fusionlabel render``'s splats against a point-by-point reference (far points given first)."""
    from fusionlabel.render.camera_overlay import splat_points

    rng = np.random.default_rng(5)
    for splat in (None, 3):
        image = np.zeros((60, 80, 3), np.uint8)
        uv = rng.uniform(-3, 83, (3000, 2)).astype(np.float32)  # some off the image: clamped to its edge
        colors = rng.integers(1, 255, (3000, 3), dtype=np.uint8)
        side = splat or 2
        expected = image.copy()
        u = np.clip(np.round(uv[:, 0]).astype(int), 0, 79)
        v = np.clip(np.round(uv[:, 1]).astype(int), 0, 59)
        for i in range(len(uv)):
            expected[v[i]:v[i] + side, u[i]:u[i] + side] = colors[i]
        assert splat_points(image, uv, colors, splat) == len(uv)
        assert np.array_equal(image, expected), splat


def test_zoomed_points_over_the_image_match_a_loop_over_every_point():
    """The zoomed camera's point squares (its cheap crop in image coordinates first) against a
    loop over every point, later points on top, squares cut by the canvas edges included."""
    from fusionlabel.app.camera_zoom import POINT_PX, ViewTransform, draw_points_over

    rng = np.random.default_rng(4)
    tf = ViewTransform(6.0, 6.0, -300.0, -200.0)
    uv = rng.uniform(30, 110, (3000, 2)).astype(np.float32)  # canvas: image ~ (50, 33) .. (63, 41)
    rgb = rng.integers(1, 255, (3000, 3), dtype=np.uint8)
    canvas = np.zeros((48, 80, 3), np.uint8)
    expected = canvas.copy()
    x = (-300.0 + (uv[:, 0].astype(np.float64) + 0.5) * 6.0) - 7
    y = (-200.0 + (uv[:, 1].astype(np.float64) + 0.5) * 6.0) - 5
    cu, cv = np.floor(x - POINT_PX / 2.0 + 0.5).astype(int), np.floor(y - POINT_PX / 2.0 + 0.5).astype(int)
    drawn = 0
    for i in range(len(uv)):
        drawn += int(-POINT_PX < cu[i] < 80 and -POINT_PX < cv[i] < 48)
    for i in range(len(uv)):  # point by point: a later point paints over an earlier one
        for du in range(POINT_PX):
            for dv in range(POINT_PX):
                if 0 <= cu[i] + du < 80 and 0 <= cv[i] + dv < 48:
                    expected[cv[i] + dv, cu[i] + du] = rgb[i]
    assert draw_points_over(canvas, uv, rgb, tf, (7, 5)) == drawn > 20
    assert np.array_equal(canvas, expected)


def test_thinning_is_fixed_samples_the_whole_sweep_and_keeps_what_it_must():
    ranks = thinning_ranks(250_000)
    assert np.array_equal(ranks, thinning_ranks(250_000))  # the same sample every time: nothing flickers
    assert np.array_equal(np.sort(ranks), np.arange(250_000))
    kept = np.arange(1000, 3000)
    rows = drawn_rows(ranks, 50_000, kept)
    assert len(np.unique(rows)) == len(rows)  # nothing twice
    assert np.isin(kept, rows).all()
    assert len(rows) == 50_000 + int((ranks[kept] >= 50_000).sum())
    # A sweep stored beam by beam: the sample takes from every part of it evenly.
    counts = np.bincount(np.flatnonzero(ranks < 50_000) // 25_000, minlength=10)
    assert counts.min() > 4_700 and counts.max() < 5_300, counts


def test_caption_and_budget():
    assert thinned_caption(1_234_567, 3_020_800) == "1.2M of 3.0M pts shown"
    assert thinned_caption(116_000, 298_437) == "116k of 298k pts shown"
    assert thinned_caption(5_000, 5_000) is None
    assert count_text(950) == "950" and count_text(12_345) == "12k"
    assert point_budget(600, 400) == max(THIN_FROM, 240_000)
    assert point_budget(10, 10) == THIN_FROM


def test_per_box_results_stay_few_and_match_a_fresh_crop():
    """Editing a box many times in one frame must not pile up crops (a 3M-point crop is megabytes)."""
    from fusionlabel.app import testing
    from fusionlabel.app.frame_data import CROPS_KEPT, load_frame_data
    from fusionlabel.io.drives import open_drive

    data = load_frame_data(open_drive(testing.small_drive()), 0, with_cameras=False)
    for k in range(30):
        box = Cuboid((5.0 + 0.1 * k, 2.0, -1.0), (4.5, 1.9, 1.6), 0.3)
        colors, rows = data.crop_colors(box), data.kept_rows(box)
        assert len(data._crops) <= CROPS_KEPT
    idx, local = data.grid.near_box(box, crop_margin(box))
    assert np.array_equal(colors, data.crop_colors(box)) and len(colors) == len(idx)
    assert np.array_equal(np.sort(rows), np.flatnonzero(points_in_cuboid(data.points, box, margin=0.5)))


# ------------------------------------------------------------------------------ app, offscreen
@pytest.fixture
def project(tmp_path):
    pytest.importorskip("PyQt6")
    pytest.importorskip("pytestqt")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from conftest import app_project

    yield from app_project(tmp_path, import_labels=True)


def _select_fullest(window):
    session = window.session
    ann = max(session.annotations(), key=lambda a: window.displayed.count_in_box(a.box))
    session.select((ann.uid,))
    return ann


@pytest.mark.gui
def test_side_views_crop_equals_brute_force(qtbot, project):
    from conftest import open_app_window
    from fusionlabel.app.side_crop import DEPTH_MARGIN

    w = open_app_window(qtbot, project)
    ann = _select_fullest(w)
    pts = w.displayed.points
    box = ann.box
    inside = points_in_cuboid(pts, box, margin=crop_margin(box))
    local = (pts[inside, :3].astype(np.float64) - np.asarray(box.center)) @ box.rotation()
    for view in w.side.views.values():
        shown = view._points_local(box)
        depth = np.abs(local[:, view.depth_axis]) <= box.size[view.depth_axis] / 2.0 + DEPTH_MARGIN
        expected = local[depth]
        assert len(shown) == len(expected) > 50
        key = lambda a: np.lexsort(a.T[::-1])  # noqa: E731 - rows in one order
        assert np.allclose(shown[key(shown)], expected[key(expected)], atol=1e-9)
    # The three views cropped once: one cached crop for the box in the frame.
    assert sum(1 for k in w.displayed._crops if k[0] == box) == 1


@pytest.mark.gui
def test_side_view_image_colours_inside_by_height_the_rest_grey(qtbot, project):
    """The side view's raster against one drawn here point by point (positions from to_screen,
    inside-ness from points_in_cuboid), for the box itself and for a box a drag has moved."""
    from conftest import open_app_window
    from fusionlabel.app.side_views import BACKGROUND_RGB
    from fusionlabel.geometry.cuboid import Cuboid
    from fusionlabel.render.colors import colormap

    w = open_app_window(qtbot, project)
    ann = _select_fullest(w)
    view = w.side.views["side"]
    ref = ann.box
    moved = Cuboid((ref.center[0] + 0.4, ref.center[1], ref.center[2] + 0.2), ref.size, ref.yaw)
    for box in (ref, moved):
        local = view._points_local(ref)
        world = local @ ref.rotation().T + np.asarray(ref.center)
        inside = points_in_cuboid(world, box)
        z = (world - np.asarray(box.center)) @ box.rotation()
        colors = np.full((len(local), 3), 110, np.uint8)
        colors[inside] = colormap(z[inside, 2], -box.size[2] / 2, box.size[2] / 2)
        uv = view.to_screen(local).astype(int)
        wd, ht = view.width(), view.height()
        expected = np.empty((ht, wd, 3), np.uint8)
        expected[:] = BACKGROUND_RGB
        ok = (uv[:, 0] >= 0) & (uv[:, 0] < wd - 1) & (uv[:, 1] >= 0) & (uv[:, 1] < ht - 1)
        for du, dv in ((0, 0), (0, 1), (1, 0), (1, 1)):
            for (u, v), c in zip(uv[ok], colors[ok]):
                expected[v + dv, u + du] = c
        got = view._points_image(ref, box).array
        assert np.array_equal(got, expected)
        assert inside.sum() > 50 and (~inside).sum() > 50


@pytest.mark.gui
def test_loader_prepares_crop_and_bev_raster_ahead(qtbot, project):
    """The prefetched next frame arrives with the selected track's crop and the bird's-eye raster
    for the view's geometry, and the views use them as they are (no redraw on the GUI thread)."""
    from fusionlabel.app import testing
    from fusionlabel.app.bev_raster import rasterise
    from fusionlabel.model.edit_actions import track_in_frame

    from conftest import open_app_window

    w = open_app_window(qtbot, project)
    ann = _select_fullest(w)
    assert ann.track_id is not None
    qtbot.wait(100)  # the layout settles with the selection shown
    w.bev.repaint()
    geometry = w.bev.raster_geometry()
    testing.wait_until_cached(w, [1, 2])  # the first prefetch is over (loaded before the selection)
    w.loader.invalidate()
    w.loader.request(w.session.frame)  # the window asks again: with this selection and geometry now
    testing.wait_until_cached(w, [1])
    nxt = w.loader.get(1)
    follow = track_in_frame(w.session.document, ann.uid, 1)
    assert (follow.box, crop_margin(follow.box)) in nxt._crops
    assert geometry in nxt._bev
    w.session.set_frame(1)
    testing.wait_for_frame(w, 1)
    w.bev.repaint()
    assert w.bev.raster().array is nxt._bev[geometry]
    assert np.array_equal(nxt._bev[geometry], rasterise(nxt, geometry))


# ------------------------------------------------------------------------------ 3D view (OpenGL)
THIN_SCRIPT = textwrap.dedent(r"""
    import json, tempfile
    import numpy as np
    from PyQt6.QtWidgets import QApplication
    app = QApplication([])
    from fusionlabel.app import testing
    from fusionlabel.app.frame_data import FrameData
    from fusionlabel.app.point_index import PointGrid
    from fusionlabel.app.point_lod import KEEP_MARGIN, count_text
    from fusionlabel.geometry.cuboid import points_in_cuboid
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        project, w = testing.gl_window_or_skip(tmp, import_labels=True)
        s, v = w.session, w.view3d
        out["small_caption"] = v.points_caption
        small = w.displayed
        # A dense sweep: the frame's own points plus 500k around the ego, stored in x order.
        rng = np.random.default_rng(1)
        extra = np.column_stack([rng.uniform(-40, 40, (500_000, 2)), rng.uniform(-2, 1, 500_000),
                                 rng.uniform(0, 1, 500_000)]).astype(np.float32)
        pts = np.concatenate([small.points[:, :4], extra])
        pts = pts[np.argsort(pts[:, 0], kind="stable")]
        dense = FrameData(small.index, small.frame_id, pts, PointGrid(pts), small.cameras, rig=small.rig,
                          z_order=np.argsort(pts[:, 2], kind="stable"))
        w._display(dense)
        QApplication.processEvents()
        ann = max(s.annotations(), key=lambda a: dense.count_in_box(a.box))
        s.select((ann.uid,))
        QApplication.processEvents()
        rows = v.shown_rows
        out["n"], out["shown"], out["budget"] = len(pts), len(rows), v.point_budget()
        out["unique"] = len(np.unique(rows)) == len(rows)
        out["caption"], out["label"] = v.points_caption, w.view3d_panel.caption.text()
        out["label_visible"] = w.view3d_panel.caption.isVisible()
        out["expected_caption"] = f"{count_text(len(rows))} of {count_text(len(pts))} pts shown"
        need = np.flatnonzero(points_in_cuboid(pts, ann.box, margin=KEEP_MARGIN))
        out["kept"], out["missing"] = len(need), int(np.setdiff1d(need, rows).size)
        out["drawn_match"] = bool(np.array_equal(v.scatter.pos, pts[rows, :3]))
        # Without the selection those points are thinned like the rest.
        s.select(())
        QApplication.processEvents()
        out["missing_unselected"] = int(np.setdiff1d(need, v.shown_rows).size)
        w._display(dense)
        s.select((ann.uid,))
        QApplication.processEvents()
        out["same_again"] = bool(np.array_equal(np.sort(v.shown_rows), np.sort(rows)))
        img = w.view3d_panel.grab_image()
        out["lit"] = img.width() > 0
        w._display(small)
        QApplication.processEvents()
        out["back_caption"], out["back_visible"] = v.points_caption, w.view3d_panel.caption.isVisible()
        w.close(); project.close()
    print(json.dumps(out))
""")

SAMPLE_SCRIPT = textwrap.dedent(r"""
    import json, tempfile
    import numpy as np
    from PyQt6.QtWidgets import QApplication
    app = QApplication([])
    from fusionlabel.app import testing
    from fusionlabel.model.edit_actions import track_in_frame
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        drive = testing.small_drive(points=300_000)
        project, w = testing.gl_window_or_skip(tmp, import_labels=True, drive=drive)
        s, v = w.session, w.view3d
        ann = max(s.annotations(), key=lambda a: w.displayed.count_in_box(a.box))
        s.select((ann.uid,))
        QApplication.processEvents()
        budget = v.point_budget()
        out["thinned"] = len(w.displayed.points) > budget
        out["loader_budget"] = w.loader.gl_budget == budget
        testing.wait_until_cached(w, [1, 2])  # the first prefetch is over (loaded before the selection)
        w.loader.invalidate()
        w.loader.request(s.frame)  # the window asks again: with this selection now
        testing.wait_until_cached(w, [1])
        nxt = w.loader.get(1)
        box = track_in_frame(s.document, ann.uid, 1).box
        ready = nxt._samples.get((s.color_mode, budget, (box,)))
        out["ready"] = ready is not None
        s.set_frame(1)
        testing.wait_for_frame(w, 1)
        QApplication.processEvents()
        if ready is not None:
            rows, xyz, rgba = ready
            out["drawn_as_is"] = v.scatter.pos is xyz and v.scatter.color is rgba and v.shown_rows is rows
            full_xyz, full_rgba = nxt.gl_points(s.color_mode)
            out["same_points"] = bool(np.array_equal(xyz, full_xyz[rows]) and np.array_equal(rgba, full_rgba[rows]))
        w.close(); project.close()
    print(json.dumps(out))
""")


@pytest.mark.gui
def test_loader_thins_the_next_frames_for_the_3d_view():
    """The prefetched next frame of a dense drive arrives with the thinned sample the 3D view
    uploads for its budget and the selected track's box, and the view uploads it as it is: no
    sampling and copying of the sweep on the GUI thread when stepping."""
    pytest.importorskip("PyQt6")
    pytest.importorskip("pyqtgraph")
    from conftest import run_on_display

    out = run_on_display(SAMPLE_SCRIPT)
    assert out["thinned"] and out["loader_budget"]
    assert out["ready"] and out["drawn_as_is"] and out["same_points"]


@pytest.mark.gui
def test_thinned_3d_view_keeps_the_selected_cuboid_and_says_so():
    pytest.importorskip("PyQt6")
    pytest.importorskip("pyqtgraph")
    from conftest import run_on_display

    out = run_on_display(THIN_SCRIPT)
    assert out["small_caption"] is None  # 20k points: every one drawn, no caption
    assert out["n"] > out["shown"] >= out["budget"] and out["unique"]
    assert out["kept"] > 100 and out["missing"] == 0  # every point in or near the selected cuboid
    assert out["missing_unselected"] > 0  # (the check above can fail: unselected, some are thinned)
    assert out["caption"] == out["expected_caption"] and out["caption"].endswith(" pts shown")
    assert out["label_visible"] and out["caption"] in out["label"]
    assert out["drawn_match"] and out["same_again"] and out["lit"]
    assert out["back_caption"] is None and not out["back_visible"]


@pytest.mark.gui
def test_loader_prepares_what_the_side_views_draw(qtbot, project):
    """The prefetched next frame arrives with each side view's points of the selected track's box
    in drawing order (farthest from the viewer first), and the views draw them as they are: no
    sorting of the crop on the GUI thread when stepping."""
    from fusionlabel.app import testing
    from fusionlabel.app.side_crop import VIEWER_SIDE
    from fusionlabel.model.edit_actions import track_in_frame

    from conftest import open_app_window

    w = open_app_window(qtbot, project)
    ann = _select_fullest(w)
    testing.wait_until_cached(w, [1, 2])  # the first prefetch is over (loaded before the selection)
    w.loader.invalidate()
    w.loader.request(w.session.frame)  # the window asks again: with this selection now
    testing.wait_until_cached(w, [1])
    nxt = w.loader.get(1)
    box = track_in_frame(w.session.document, ann.uid, 1).box
    ready = {kind: nxt._crops.get(("side", kind, box)) for kind in w.side.views}
    assert all(v is not None for v in ready.values())
    w.session.set_frame(1)
    testing.wait_for_frame(w, 1)
    for kind, view in w.side.views.items():
        view.repaint()
        rows, local, colors = ready[kind]
        assert view._local is local and view._ref_colors(box) is colors
        depth = VIEWER_SIDE[kind] * local[:, view.depth_axis]
        assert len(local) > 50 and np.all(np.diff(depth) >= 0)
        assert np.array_equal(colors, nxt.crop_colors(box)[rows])


LEFT_OPEN_SCRIPT = textwrap.dedent(r"""
    import json, tempfile
    from PyQt6.QtCore import QObject
    from PyQt6.QtWidgets import QApplication
    app = QApplication([])
    from fusionlabel.app import testing
    made = []
    with tempfile.TemporaryDirectory() as tmp:
        project, w = testing.gl_window_or_skip(tmp, import_labels=True)
        # Python that deleting the window runs and that wraps many objects (a slot here; event
        # handlers and the 3D view's teardown do it too, now and then)
        w.view3d_panel.destroyed.connect(lambda *_: made.extend(QObject() for _ in range(50_000)))
        w.close(); project.close()
    print(json.dumps({"closed": not w.isVisible()}))
""")


@pytest.mark.gui
def test_a_3d_view_script_exits_cleanly_with_its_window_left():
    """The 3D view's test scripts leave their window (closed, not deleted) to the interpreter's
    exit: run_on_display has it deleted before PyQt's clean-up, where deleting it crashed the
    process (-11) after the script had passed (1 run in 20-30 of the thinning test)."""
    pytest.importorskip("PyQt6")
    pytest.importorskip("pyqtgraph")
    from conftest import run_on_display

    assert run_on_display(LEFT_OPEN_SCRIPT)["closed"]
