"""A drive whose rig has no camera (a KITTI tracking folder without image_02/) shows no empty
cameras' pane: the views take its height, View > Cameras in their own window is off, and the
layout it leaves behind does not hide the cameras of the next drive opened (pytest-qt)."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from fusionlabel.app import testing  # noqa: E402
from fusionlabel.app.main_window import MainWindow  # noqa: E402
from fusionlabel.app.session import Session  # noqa: E402
from fusionlabel.app.window_layout import SETTINGS_DIR_ENV  # noqa: E402
from fusionlabel.io.drives import open_drive  # noqa: E402
from fusionlabel.io.native import NativeDriveWriter  # noqa: E402
from fusionlabel.store.project import Project  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def own_settings(tmp_path, monkeypatch):
    monkeypatch.setenv(SETTINGS_DIR_ENV, str(tmp_path / "settings"))


def drive_without_cameras(root):
    """The app tests' small drive with its LiDAR only: a rig of no camera, no images."""
    src = open_drive(testing.small_drive())
    rig = src.rig(0)
    lidar_only = replace(rig, sensors={n: s for n, s in rig.sensors.items() if n not in rig.camera_names})
    with NativeDriveWriter(root, lidar_only, "nocam") as writer:
        for i, f in enumerate(src.frames):
            writer.add_frame(f.frame_id, f.timestamp_us, f.T_world_vehicle, src.points(i), {}, src.labels(i))
    return root


def open_window(qtbot, project) -> MainWindow:
    w = MainWindow(Session(project), use_gl=False, remember_layout=True)
    qtbot.addWidget(w)
    return testing.show_window(w)


def test_a_rig_without_cameras_gives_the_views_the_cameras_height(qtbot, tmp_path):
    root = drive_without_cameras(tmp_path / "drive")
    assert open_drive(root).rig(0).camera_names == []
    with_cameras = Project.create(tmp_path / "p1", testing.small_drive())
    w = open_window(qtbot, with_cameras)
    camera_height = w.camera_dock.height()
    assert w.camera_dock.isVisible() and camera_height > 0.25 * w.camera_host.height()
    w.close()
    with_cameras.close()

    project = Project.create(tmp_path / "p2", root)
    w = open_window(qtbot, project)
    assert not w.camera_dock.isVisible()
    assert w.bev.height() > 0.95 * w.camera_host.height()        # the views take the whole height
    assert not w.float_cameras_action.isEnabled()
    w.close()
    project.close()

    # The next drive with cameras shows them as the layout saved before.
    again = Project.open(tmp_path / "p1")
    w = open_window(qtbot, again)
    assert w.camera_dock.isVisible() and abs(w.camera_dock.height() - camera_height) <= 2
    w.close()
    again.close()

    # View > Reset window layout keeps them hidden; the next drive still shows its cameras.
    project = Project.open(tmp_path / "p2")
    w = open_window(qtbot, project)
    w.reset_layout()
    qtbot.waitUntil(lambda: w.bev.height() > 0.95 * w.camera_host.height(), timeout=2000)
    assert not w.camera_dock.isVisible()
    w.close()
    project.close()
    again = Project.open(tmp_path / "p1")
    w = open_window(qtbot, again)
    assert w.camera_dock.isVisible() and w.camera_dock.height() > 0.25 * w.camera_host.height()
    assert w.float_cameras_action.isEnabled()
    w.close()
    again.close()
