"""The bird's-eye view's height filter (U, Shift+U, Ctrl+U) and the stacked sweeps (O, Shift+O).

Pixels are read from what the view paints and placed from its centre, scale and orientation (not
from its drawing code); stacked points are checked against the simulator's ground-truth boxes of
parked vehicles, frame by frame, not against the poses the stacking uses."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from conftest import app_project, app_window, open_app_window, press_key, run_on_display
from PyQt6.QtCore import Qt

from fusionlabel.app import testing
from fusionlabel.app.bev_filter import FIRST_CUT, HIGHEST_CUT, LOWEST_CUT, ground_z, step_cut
from fusionlabel.app.bev_raster import BACKGROUND
from fusionlabel.app.point_colors import point_colors
from fusionlabel.app.sweep_stack import MAX_SWEEPS, SweepStack
from fusionlabel.geometry.cuboid import Cuboid, points_in_cuboid
from fusionlabel.io.native import NativeDriveWriter, open_native_drive
from fusionlabel.store.project import Project

CANOPY_ABOVE_GROUND = 5.0   # metres: a tree's crown or a bridge deck over a parked car


# ---------------------------------------------------------------------------------------- Qt-free
def test_the_cut_steps_between_its_limits_and_turns_off_above_them():
    assert step_cut(None, 1) is None
    assert step_cut(None, -1) == FIRST_CUT
    assert step_cut(FIRST_CUT, -1) == FIRST_CUT - 0.5
    cut = FIRST_CUT
    for _ in range(40):
        cut = step_cut(cut, -1)
    assert cut == LOWEST_CUT
    assert step_cut(HIGHEST_CUT, 1) is None


def test_the_ground_under_the_ego_is_where_the_simulated_road_is():
    """The simulator's road is the world's z = 0 plane and the vehicle frame sits on it, so the
    ground in LiDAR z is minus the LiDAR's mounting height."""
    drive = open_native_drive(testing.small_drive())
    T_vehicle_lidar = drive.rig(0).T_vehicle_lidar
    for i in range(len(drive)):
        assert abs(ground_z(drive.points(i)) + T_vehicle_lidar[2, 3]) < 0.05


def _parked_pairs(drive, here: int, there: int):
    """(box here, box there) of the parked vehicles labelled in both frames."""
    there_boxes = {lab.track_id: lab.box for lab in drive.labels(there)}
    return [(lab.box, there_boxes[lab.track_id]) for lab in drive.labels(here)
            if lab.attributes.get("parked") and lab.track_id in there_boxes]


def test_stacked_points_of_parked_vehicles_land_in_their_boxes_of_this_frame():
    """Every point of a parked vehicle in another sweep (inside its ground-truth box there) lands
    inside its ground-truth box of this frame within 5 cm, and no point from farther than 10 cm
    outside it there does; the ego moved 4.5 m in between."""
    drive = open_native_drive(testing.small_drive(frames=5))
    stacked = SweepStack(drive).stack(4, 4)
    assert stacked.frames == (-4, -3, -2, -1)
    checked = 0
    for offset in stacked.frames:
        mine = stacked.points[stacked.offsets == offset]
        theirs = drive.points(4 + offset)
        assert len(mine) == len(theirs)
        for box_here, box_there in _parked_pairs(drive, 4, 4 + offset):
            n_there = int(points_in_cuboid(theirs, box_there).sum())
            n_here = int(points_in_cuboid(mine, box_here, margin=0.05).sum())
            n_near_there = int(points_in_cuboid(theirs, box_there, margin=0.1).sum())
            assert n_there <= n_here <= n_near_there, (offset, box_here)
            checked += n_there >= 30
    assert checked >= 8
    assert SweepStack(drive).stack(0, 2).frames == (1, 2)      # at the start: only later sweeps
    assert SweepStack(drive).stack(2, MAX_SWEEPS + 3).frames == (-2, -1, 1, 2)


def test_stacking_makes_a_sparse_far_parked_vehicle_dense():
    drive = open_native_drive(testing.small_drive(frames=5))
    stack = SweepStack(drive).stack(2, 2)
    far = [(box, int(points_in_cuboid(drive.points(2), box).sum())) for box, _ in _parked_pairs(drive, 2, 2)
           if np.hypot(*box.center[:2]) > 40]
    box, own = min(far, key=lambda item: item[1] if item[1] else 1e9)
    assert int(points_in_cuboid(stack.points, box, margin=0.05).sum()) >= 3 * own


def test_large_sweeps_are_sampled_evenly_within_the_budget(monkeypatch):
    """Each stacked sweep keeps at most PER_SWEEP points, fewer when the stack would exceed
    STACK_MAX, spread over the whole sweep (its height profile and extent kept)."""
    from fusionlabel.app import sweep_stack

    monkeypatch.setattr(sweep_stack, "PER_SWEEP", 6000)
    monkeypatch.setattr(sweep_stack, "STACK_MAX", 16000)
    drive = open_native_drive(testing.small_drive(frames=5))
    stacked = SweepStack(drive).stack(2, 2)          # 4 sweeps: 4000 points each at most
    for offset in stacked.frames:
        mine = stacked.points[stacked.offsets == offset]
        full = drive.points(2 + offset)
        assert len(mine) == 4000 < len(full)
        for column, slack in ((2, 0.1), (3, 2.0)):   # height (the ground is flat) and intensity
            q_mine, q_full = (np.percentile(p[:, column], [10, 50, 90]) for p in (mine, full))
            assert np.all(np.abs(q_mine - q_full) < slack), (column, q_mine, q_full)


def test_a_drive_without_poses_stacks_nothing(tmp_path):
    drive = _copy(open_native_drive(testing.small_drive()), tmp_path / "still", poses=False)
    stack = SweepStack(drive)
    assert not stack.has_poses and stack.stack(1, 1) is None


# ---------------------------------------------------------------------------------------- drives
def _copy(src, root, poses: bool = True, canopy_over=None):
    """A native copy of ``src``: without ego poses (identity in every frame) when ``poses`` is
    False; with a flat canopy of points CANOPY_ABOVE_GROUND over the box ``canopy_over`` of
    frame 0 (2 m wider each side)."""
    with NativeDriveWriter(root, src.rig(0), "copy") as writer:
        for i, f in enumerate(src.frames):
            sweep = src.points(i)
            if i == 0 and canopy_over is not None:
                roof = _canopy(canopy_over, ground_z(sweep) + CANOPY_ABOVE_GROUND, sweep.shape[1])
                sweep = np.concatenate([sweep, roof])
            writer.add_frame(f.frame_id, f.timestamp_us, f.T_world_vehicle if poses else np.eye(4), sweep,
                             {c: src.image(i, c) for c in f.image_paths}, src.labels(i))
    return open_native_drive(root)


def _canopy(box: Cuboid, z: float, columns: int) -> np.ndarray:
    half = max(box.length, box.width) / 2.0 + 2.0
    g = np.arange(-half, half, 0.05)
    x, y = np.meshgrid(g + box.center[0], g + box.center[1])
    points = np.zeros((x.size, columns), np.float32)
    points[:, 0], points[:, 1], points[:, 2], points[:, 3] = x.ravel(), y.ravel(), z, 0.5
    return points


def _patch(bev, xy, half_px: int = 4) -> np.ndarray:
    """The painted pixels (2h+1, 2h+1, 3) around LiDAR ``xy``, placed from the view's centre,
    scale and orientation."""
    d = np.asarray(xy, float) - bev.center
    u = round(bev.width() / 2 - (d @ bev.left) * bev.scale)
    v = round(bev.height() / 2 - (d @ bev.forward) * bev.scale)
    return testing.widget_pixels(bev)[v - half_px:v + half_px + 1, u - half_px:u + half_px + 1]


def _color_of_height(z: float) -> np.ndarray:
    return point_colors(np.array([[0.0, 0.0, z, 0.0]], np.float32), "height")[0]


# ---------------------------------------------------------------------------------------- the app
@pytest.fixture
def canopy(tmp_path, qtbot):
    """A window on frame 0 of a drive where a canopy hangs over the parked car with the most
    points; cuboids hidden (B), zoomed on the car. Yields (window, the car's box, the canopy's
    colour)."""
    src = open_native_drive(testing.small_drive())
    car = max((lab.box for lab in src.labels(0) if lab.attributes.get("parked")),
              key=lambda b: int(points_in_cuboid(src.points(0), b).sum()))
    drive = _copy(src, tmp_path / "drive", canopy_over=car)
    project = Project.create(tmp_path / "project", tmp_path / "drive", import_labels=True)
    window = open_app_window(qtbot, project)
    window.session.set_layer("boxes", False)
    window.bev.focus_on(car.center[:2])
    window.bev.scale = 14.0
    window.bev.update()
    yield window, car, _color_of_height(ground_z(drive.points(0)) + CANOPY_ABOVE_GROUND)
    window.close()
    project.close()


def _footprint(bev, box: Cuboid, margin: float = 0.3) -> np.ndarray:
    """The painted pixels (K, 3) over ``box``'s footprint, ``margin`` metres wider each side: each
    pixel's LiDAR xy from the view's centre, scale and orientation."""
    half = int(np.ceil(max(box.length, box.width) / 2 * bev.scale)) + 2
    patch = _patch(bev, box.center[:2], half)
    du, dv = np.meshgrid(np.arange(-half, half + 1), np.arange(-half, half + 1))
    xy = np.asarray(box.center[:2]) - np.outer(du.ravel(), bev.left) / bev.scale - np.outer(dv.ravel(), bev.forward) / bev.scale
    c, s = np.cos(box.yaw), np.sin(box.yaw)
    d = xy - np.asarray(box.center[:2])
    inside = (np.abs(d @ [c, s]) <= box.length / 2 + margin) & (np.abs(d @ [-s, c]) <= box.width / 2 + margin)
    return patch.reshape(-1, 3)[inside]


def _footprint_painted(bev, box: Cuboid) -> int:
    """How many pixels over ``box``'s footprint show a point."""
    return int(np.any(_footprint(bev, box) != BACKGROUND, axis=1).sum())


def _canopy_share(bev, box, color) -> float:
    return float(np.all(_footprint(bev, box) == color, axis=1).mean())


def test_the_height_filter_shows_a_car_under_a_canopy(qtbot, canopy):
    window, car, canopy_color = canopy
    bev, session = window.bev, window.session
    data = window.displayed
    counted = data.count_in_box(car)
    assert counted == int(points_in_cuboid(data.points, car).sum()) > 50
    assert _canopy_share(bev, car, canopy_color) > 0.95    # the canopy hides the car (a range ring crosses it)

    press_key(qtbot, window, Qt.Key.Key_U)
    assert session.height_cut == FIRST_CUT
    seen = _footprint(bev, car)
    assert not np.all(seen == canopy_color, axis=1).any()
    assert np.any(seen != BACKGROUND, axis=1).sum() >= 100   # the car's own points
    assert f"up to {FIRST_CUT:.1f} m above the ground" in " ".join(bev._hud_lines())
    # what editing acts on is the whole sweep still
    assert data.count_in_box(car) == counted

    press_key(qtbot, window, Qt.Key.Key_U, Qt.KeyboardModifier.ShiftModifier)
    assert session.height_cut == FIRST_CUT + 0.5
    press_key(qtbot, window, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    assert session.height_cut is None
    assert _canopy_share(bev, car, canopy_color) > 0.95
    assert not any("height filter" in line for line in bev._hud_lines())


def test_the_height_filter_leaves_the_raster_as_it_was_when_off(qtbot, window):
    """Off, the raster is the one drawn before the filter existed: every point, highest on top
    (a point-by-point reference)."""
    bev, data = window.bev, window.displayed
    image = bev.raster().image
    assert window.session.height_cut is None and window.session.sweeps == 0
    view = bev.raster_geometry()
    expected = np.full((view.height, view.width, 3), BACKGROUND, np.uint8)
    colors = data.colors(view.color_mode)
    uv = bev.to_screen(data.points[:, :2])
    order = np.argsort(data.points[:, 2], kind="stable")
    for i in order:
        u, v = int(np.floor(uv[i, 0])), int(np.floor(uv[i, 1]))
        if 0 <= u < view.width - 1 and 0 <= v < view.height - 1:
            expected[v, u] = colors[i]
    got = testing.image_pixels(image)
    assert np.mean(np.any(got != expected, axis=2)) < 0.002   # float32 rounding at pixel borders


@pytest.fixture
def project(tmp_path):
    """Five simulated frames with labels (enough sweeps to stack two each side of frame 2)."""
    yield from app_project(tmp_path, import_labels=True, frames=5)


@pytest.fixture
def window(qtbot, project):
    yield from app_window(qtbot, project)


def test_o_stacks_the_sweeps_around_the_frame_into_the_bev(qtbot, window):
    """On frame 2, O twice draws frames 0, 1, 3 and 4 dimmer: a far parked van gets painted
    pixels where its own sweep left its footprint mostly empty."""
    session, bev = window.session, window.bev
    session.set_frame(2)
    testing.wait_for_frame(window, 2)
    session.set_layer("boxes", False)
    drive = session.drive
    far = [b for b, _ in _parked_pairs(drive, 2, 2) if 40 < np.hypot(*b.center[:2]) < 70]
    box = min(far, key=lambda b: int(points_in_cuboid(drive.points(2), b).sum()))
    bev.focus_on(box.center[:2])
    bev.scale = 14.0
    bev.update()
    before = _footprint_painted(bev, box)
    press_key(qtbot, window, Qt.Key.Key_O)
    press_key(qtbot, window, Qt.Key.Key_O)
    assert session.sweeps == 2
    testing.wait_for_stack(window)
    after = _footprint_painted(bev, box)
    assert after >= 3 * before + 10, (before, after)
    assert any("sweeps: ±2, 4 other sweeps" in line for line in bev._hud_lines())
    press_key(qtbot, window, Qt.Key.Key_O, Qt.KeyboardModifier.ShiftModifier)
    assert session.sweeps == 1
    for _ in range(MAX_SWEEPS):
        press_key(qtbot, window, Qt.Key.Key_O)
    assert session.sweeps == 0                                     # wraps around
    assert not any("sweeps" in line for line in bev._hud_lines())


def test_o_stacks_on_the_loader_thread_and_the_views_draw_the_stack_when_it_is_ready(qtbot, window, monkeypatch):
    """The first O on a frame never stacks on the GUI thread (0.1-0.25 s at 300k points): the
    bird's-eye view draws the frame alone and says "stacking", the loader's worker stacks, and the
    view then draws the stack and counts its sweeps."""
    import threading

    threads, release = [], threading.Event()
    real = SweepStack.stack

    def recorded(self, index, k):      # the real stack, held back until the test has looked
        threads.append(threading.current_thread().name)
        if threading.current_thread() is not threading.main_thread():
            assert release.wait(30)
        return real(self, index, k)

    monkeypatch.setattr(SweepStack, "stack", recorded)
    session, bev = window.session, window.bev
    session.set_frame(2)
    testing.wait_for_frame(window, 2)
    session.set_layer("boxes", False)
    def points_drawn():
        return testing.image_pixels(bev.raster().image)

    alone = points_drawn()
    press_key(qtbot, window, Qt.Key.Key_O)
    assert session.sweeps == 1
    drawn_at_once = points_drawn()                         # drawn now, on the GUI thread
    assert any(line.startswith("sweeps: ±1, stacking") for line in bev._hud_lines())
    assert np.array_equal(drawn_at_once, alone)            # the frame alone while the loader stacks
    release.set()
    testing.wait_for_stack(window)
    assert threads and set(threads) == {window.loader._thread.name}
    assert any("sweeps: ±1, 2 other sweeps" in line for line in bev._hud_lines())
    stacked = points_drawn()
    lit = [int(np.any(image != BACKGROUND, axis=2).sum()) for image in (alone, stacked)]
    assert lit[1] > 1.2 * lit[0], lit                      # the other sweeps' points are drawn now


def test_o_on_a_drive_without_poses_says_so(qtbot, tmp_path):
    _copy(open_native_drive(testing.small_drive()), tmp_path / "still", poses=False)
    project = Project.create(tmp_path / "p", tmp_path / "still")
    window = open_app_window(qtbot, project)
    try:
        press_key(qtbot, window, Qt.Key.Key_O)
        assert window.session.sweeps == 0
        assert "no ego poses" in window.session.messages[-1].text
    finally:
        window.close()
        project.close()


VIEW3D_SCRIPT = textwrap.dedent(r"""
    import json, tempfile
    import numpy as np
    from PyQt6.QtWidgets import QApplication
    app = QApplication([])
    from fusionlabel.app import testing
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        project, w = testing.gl_window_or_skip(tmp, import_labels=True)
        s, v = w.session, w.view3d
        s.set_frame(1)
        testing.wait_for_frame(w, 1)
        s.set_layer("boxes", False)
        lit = lambda: int((testing.image_pixels(w.view3d_panel.grab_image()).max(axis=2) > 25).sum())
        out["before"], out["shown_before"] = lit(), v.stacked_shown
        w.actions_.step_sweeps(1)
        testing.wait_for_stack(w)
        out["after"], out["shown"] = lit(), v.stacked_shown
        out["stacked"] = len(w.displayed.stacked(1).points)
        w.actions_.step_sweeps(-1)
        app.processEvents()
        out["shown_off"], out["visible_off"] = v.stacked_shown, v.stacked_scatter.visible()
        w.close()
        project.close()
    print(json.dumps(out))
""")


def test_the_3d_view_draws_the_stacked_sweeps():
    out = run_on_display(VIEW3D_SCRIPT)
    assert out["shown_before"] == 0
    assert out["shown"] == out["stacked"] > 0           # fewer than half the view's budget: all of them
    assert out["after"] > 1.1 * out["before"], out
    assert out["shown_off"] == 0 and not out["visible_off"]
