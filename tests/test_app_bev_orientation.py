"""The bird's-eye view puts the vehicle's forward up whatever way the LiDAR is mounted: a LiDAR
turned 90 degrees (nuScenes-like), a rig whose forward comes from its front camera (SUSTech-like)
and an oblique mount. Expected pixels are written out in the tests; real mouse events drive the
drags. The real nuScenes keyframe and SUSTech sequence are checked against their own calibration."""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import QPoint, QPointF, Qt  # noqa: E402

from conftest import app_project, open_app_window  # noqa: E402
from fusionlabel.app import testing  # noqa: E402
from fusionlabel.app.bev_view import BACKGROUND  # noqa: E402
from fusionlabel.app.frame_data import FrameData  # noqa: E402
from fusionlabel.app.main_window import MainWindow  # noqa: E402
from fusionlabel.app.point_index import PointGrid  # noqa: E402
from fusionlabel.app.session import Session  # noqa: E402
from fusionlabel.geometry.transforms import T_from_Rt, rotation_z  # noqa: E402
from fusionlabel.model.rig import CameraSensor, LidarSensor, Rig  # noqa: E402
from fusionlabel.sim.rig import camera_mount, default_rig  # noqa: E402
from fusionlabel.store.project import Project  # noqa: E402

pytestmark = pytest.mark.gui


def turned_lidar_rig(yaw: float) -> Rig:
    """The simulator's rig with its LiDAR turned ``yaw`` to the left (nuScenes: 90 degrees)."""
    sim = default_rig(0.4)
    sensors = dict(sim.sensors)
    sensors[sim.reference_lidar] = LidarSensor(sim.reference_lidar, T_from_Rt(rotation_z(yaw), (1.3, 0.0, 1.95)))
    return Rig("turned", sensors, sim.reference_lidar)


def front_camera_rig() -> Rig:
    """No vehicle frame; the camera called front looks along the LiDAR's -y."""
    cam = default_rig(0.4).camera("cam_front").camera
    sensors = {"lidar": LidarSensor("lidar"),
               "left": CameraSensor("left", cam, camera_mount(0, 0, 0, 0.0)),
               "front": CameraSensor("front", cam, camera_mount(0, 0, 0, -math.pi / 2, 0.1))}
    return Rig("sustech-like", sensors, "lidar", vehicle_frame=False)


# (rig, the vehicle's forward and left as LiDAR xy, written out by hand)
RIGS = {
    "lidar turned 90": (turned_lidar_rig(math.pi / 2), (0.0, -1.0), (1.0, 0.0)),
    "front camera": (front_camera_rig(), (0.0, -1.0), (1.0, 0.0)),
    "lidar turned -90": (turned_lidar_rig(-math.pi / 2), (0.0, 1.0), (-1.0, 0.0)),
    "lidar turned 150": (turned_lidar_rig(math.radians(150)), (math.cos(math.radians(-150)),
                         math.sin(math.radians(-150))), (math.cos(math.radians(-60)), math.sin(math.radians(-60)))),
}


@pytest.fixture
def project(tmp_path):
    yield from app_project(tmp_path)


def show_rig(window, rig: Rig, points: np.ndarray | None = None) -> None:
    """Display the current frame as if its rig were ``rig`` (and its sweep ``points``)."""
    data = window.displayed
    if points is None:
        data = dataclasses.replace(data, rig=rig)
    else:
        points = np.asarray(points, np.float32)
        data = FrameData(data.index, data.frame_id, points, PointGrid(points), rig=rig,
                         z_order=np.argsort(points[:, 2], kind="stable"))
    window.bev.set_frame_data(data)


def px(view, xy) -> QPoint:
    u, v = view.to_screen(np.asarray(xy, float)[None])[0]
    return QPoint(int(round(u)), int(round(v)))


def drag(qtbot, widget, a: QPoint, b: QPoint, button=Qt.MouseButton.LeftButton, steps: int = 5):
    qtbot.mousePress(widget, button, Qt.KeyboardModifier.NoModifier, a)
    for t in np.linspace(0, 1, steps + 1)[1:]:
        qtbot.mouseMove(widget, QPoint(int(a.x() + t * (b.x() - a.x())), int(a.y() + t * (b.y() - a.y()))))
    qtbot.mouseRelease(widget, button, Qt.KeyboardModifier.NoModifier, b)


@pytest.mark.parametrize("name", list(RIGS))
def test_ahead_is_up_and_left_is_left(qtbot, window, name):
    rig, forward, left = RIGS[name]
    forward, left = np.array(forward), np.array(left)
    bev = window.bev
    show_rig(window, rig)
    assert np.allclose(bev.forward, forward, atol=1e-9)
    bev.center, bev.scale = np.zeros(2), 10.0
    w, h = bev.width(), bev.height()
    # 15 m straight ahead: 150 px above the centre; 5 m to the left: 50 px left of it.
    assert np.allclose(bev.to_screen(15.0 * forward), [[w / 2, h / 2 - 150.0]], atol=1e-9)
    assert np.allclose(bev.to_screen(5.0 * left), [[w / 2 - 50.0, h / 2]], atol=1e-9)
    # Seen from elsewhere: 3 m ahead and 2 m right of a centre at (4, -7) m.
    bev.center = np.array([4.0, -7.0])
    assert np.allclose(bev.to_screen(bev.center + 3.0 * forward - 2.0 * left), [[w / 2 + 20, h / 2 - 30]], atol=1e-9)
    # to_world inverts to_screen.
    rng = np.random.default_rng(5)
    for p in rng.uniform(-60, 60, (20, 2)):
        u, v = bev.to_screen(p)[0]
        assert np.allclose(bev.to_world(QPointF(u, v)), p, atol=1e-9)
    # The ego outline: its front edge above its rear edge, its left side on the left.
    ego = bev.to_screen(bev.ego)  # front left, front right, rear right, rear left
    assert ego[:2, 1].max() < ego[2:, 1].min() and ego[[0, 3], 0].max() < ego[[1, 2], 0].min()


@pytest.mark.parametrize("name", ["lidar turned 90", "front camera", "lidar turned 150"])
def test_the_raster_draws_a_point_ahead_above_the_centre(qtbot, window, name):
    rig, forward, left = RIGS[name]
    forward, left = np.array(forward), np.array(left)
    nudge = -0.03 * (forward + left)  # 0.3 px right and down: away from pixel borders
    ahead, right = 20.0 * forward + nudge, -6.0 * left + nudge
    show_rig(window, rig, [[*ahead, -1.0, 0.5], [*right, 0.5, 0.5]])
    bev = window.bev
    bev.center, bev.scale = np.zeros(2), 10.0
    lit = np.argwhere(bev.raster().array.max(axis=2) != BACKGROUND)  # (row, column)
    cx, cy = bev.width() / 2 + 0.3, bev.height() / 2 + 0.3
    assert sorted(map(tuple, lit)) == [(math.floor(cy - 200), math.floor(cx)), (math.floor(cy), math.floor(cx + 60))]


@pytest.mark.parametrize("name", ["lidar turned 90", "front camera", "lidar turned 150"])
def test_drag_creates_the_box_under_the_mouse_in_a_turned_view(qtbot, window, name):
    rig, forward, _ = RIGS[name]
    s, bev = window.session, window.bev
    show_rig(window, rig)
    bev.center, bev.scale = np.array([3.0, -4.0]), 20.0
    centre = np.array([8.0, -10.0])
    heading = math.radians(30.0)
    end = centre + 3.0 * np.array([math.cos(heading), math.sin(heading)])
    drag(qtbot, bev, px(bev, centre), px(bev, end))
    ann, = s.annotations()
    assert np.allclose(ann.box.center[:2], centre, atol=0.06)          # 1 px = 5 cm
    assert abs(math.degrees(ann.box.yaw) - 30.0) < 1.5
    assert s.selection == (ann.uid,)
    # A click on it keeps it selected, a click beside it clears the selection, a click selects it again.
    qtbot.mouseClick(bev, Qt.MouseButton.LeftButton, pos=px(bev, centre + 8.0 * np.array(forward)))
    assert s.selection == ()
    qtbot.mouseClick(bev, Qt.MouseButton.LeftButton, pos=px(bev, centre))
    assert s.selection == (ann.uid,)
    # Moving it by a drag follows the mouse in LiDAR coordinates.
    drag(qtbot, bev, px(bev, centre), px(bev, centre + (1.0, 2.0)))
    assert np.allclose(s.annotations()[0].box.center[:2], centre + (1.0, 2.0), atol=0.08)


@pytest.mark.parametrize("name", ["lidar turned 90", "lidar turned 150"])
def test_pan_and_zoom_keep_the_ground_under_the_mouse(qtbot, window, name):
    rig, _, _ = RIGS[name]
    bev = window.bev
    show_rig(window, rig)
    bev.center, bev.scale = np.array([2.0, 5.0]), 10.0
    a, b = QPoint(200, 150), QPoint(260, 110)
    grabbed = bev.to_world(QPointF(a))
    drag(qtbot, bev, a, b, button=Qt.MouseButton.RightButton)
    assert np.allclose(bev.to_world(QPointF(b)), grabbed, atol=1e-9)
    # Zoom at the cursor: the ground under it stays put.
    under = bev.to_world(QPointF(b))
    bev.zoom_at(QPointF(b), 1.7)
    assert bev.scale == 17.0 and np.allclose(bev.to_world(QPointF(b)), under, atol=1e-9)


# ------------------------------------------------------------------------------ real drives
def real_window(qtbot, project):
    w = open_app_window(qtbot, project)
    w.bev.center, w.bev.scale = np.zeros(2), 8.0
    return w


def test_nuscenes_vehicle_xy_is_the_screen_up_and_left(qtbot, tmp_path, nusc_root):
    """Every box's offset from the ego on screen is its vehicle-frame offset (x up, y left), within
    the LiDAR's 1.4 degree tilt; the view's centre is saved in LiDAR coordinates and restored."""
    project = Project.create(tmp_path / "project", nusc_root, import_labels=True)
    try:
        w = real_window(qtbot, project)
        bev = w.bev
        rig = w.session.drive.rig(0)
        T_vehicle_lidar = rig.T_vehicle_lidar
        anns = w.session.annotations()
        centres = np.array([a.box.center for a in anns])
        vehicle = np.column_stack([centres, np.ones(len(centres))]) @ T_vehicle_lidar.T
        lidar_in_vehicle = T_vehicle_lidar[:3, 3]
        lidar_at = bev.to_screen(np.zeros(2))[0]
        expected = lidar_at - bev.scale * (vehicle[:, [1, 0]] - lidar_in_vehicle[[1, 0]])
        near = np.linalg.norm(centres[:, :2], axis=1) < 40
        assert near.sum() > 20
        tilt = bev.scale * 0.03 * np.abs(centres[near, 2] + 2.0)   # 1.4 degrees of tilt, heights within 2 m
        assert (np.abs(bev.to_screen(centres[near, :2]) - expected[near]).max(axis=1) < tilt + 0.5).all()
        ahead = near & (vehicle[:, 0] - lidar_in_vehicle[0] > 5)
        assert ahead.sum() >= 3 and (bev.to_screen(centres[ahead, :2])[:, 1] < lidar_at[1]).all()
        bev.center = np.array([3.0, 17.0])
        w.close()
        w2 = open_app_window(qtbot, project)
        assert np.allclose(w2.bev.center, (3.0, 17.0))
        assert np.allclose(w2.bev.to_screen([3.0, 17.0]), [[w2.bev.width() / 2, w2.bev.height() / 2]])
        w2.close()
    finally:
        project.close()


def test_sustech_boxes_the_front_camera_sees_are_above_the_ego(qtbot, tmp_path, realdata):
    root = realdata / "sustech_sequence"
    if not (root / "lidar").is_dir():
        pytest.skip(f"SUSTech sample not found at {root}")
    project = Project.create(tmp_path / "project", root, import_labels=True)
    try:
        s = Session(project)
        s.set_frame(s.drive.index_of("000965"))
        w = MainWindow(s, use_gl=False)
        qtbot.addWidget(w)
        testing.show_window(w)
        bev = w.bev
        bev.center, bev.scale = np.zeros(2), 8.0
        T_cam_lidar = s.drive.rig(s.frame).T_cam_lidar("front")
        centres = np.array([a.box.center for a in s.annotations()])
        cam = np.column_stack([centres, np.ones(len(centres))]) @ T_cam_lidar.T
        seen = (cam[:, 2] > 5) & (np.abs(cam[:, 0] / cam[:, 2]) < 0.6)       # ahead, in the picture's middle
        behind = (cam[:, 2] < -5) & (np.abs(cam[:, 0] / cam[:, 2]) < 0.6)
        assert seen.sum() >= 3 and behind.sum() >= 1
        ego_v = bev.to_screen(np.zeros(2))[0, 1]
        v = bev.to_screen(centres[:, :2])[:, 1]
        assert (v[seen] < ego_v).all() and (v[behind] > ego_v).all()
        # right of the camera's centre line (x > 0 in the image) is right of the ego on screen
        side = (cam[:, 2] > 5) & (np.abs(cam[:, 0]) > 3)
        u = bev.to_screen(centres[:, :2])[:, 0] - bev.width() / 2
        assert side.any() and (np.sign(u[side]) == np.sign(cam[side, 0])).all()
        w.close()
    finally:
        project.close()


@pytest.mark.parametrize("rotation, says", [({"rpy_deg": [180, 0, 90]}, "mounted 180 deg from upright"),
                                            ({"rpy_deg": [0, 0, 90]}, None)])
def test_an_upside_down_lidar_is_said_when_the_app_opens(tmp_path, rotation, says):
    """The views take the LiDAR's z as up, so a LiDAR hanging upside down (which they would show
    mirrored) is said once at opening; one only turned about z is drawn right and says nothing."""
    import shutil

    import yaml

    drive = shutil.copytree(testing.small_drive(), tmp_path / "drive")
    rig = yaml.safe_load((drive / "rig.yaml").read_text())
    rig["sensors"]["lidar_top"]["extrinsic"]["rotation"] = rotation
    (drive / "rig.yaml").write_text(yaml.safe_dump(rig, sort_keys=False))
    with Project.create(tmp_path / "project", drive) as project:
        s = Session(project)
        notes = [m.text for m in s.startup_messages if "LiDAR lidar_top" in m.text]
        s.close()
    if says is None:
        assert notes == []
    else:
        assert len(notes) == 1 and says in notes[0], notes
        assert f"fusionlabel import {drive} --out COPY --upright" in notes[0]
