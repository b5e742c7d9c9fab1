"""A LiDAR-only drive whose rig still names its cameras (``simulate --no-cameras``) is said once
per drive, not at every frame; and the session's message list is bounded."""

from __future__ import annotations

import pytest

from conftest import open_app_window

pytest.importorskip("PyQt6")

FRAMES = 20


@pytest.fixture(scope="module")
def lidar_only(tmp_path_factory):
    from fusionlabel.sim.writer import simulate_drive

    root = tmp_path_factory.mktemp("lidar_only") / "drive"
    simulate_drive(root, frames=FRAMES, seed=5, points=3000, cameras=False, progress=False)
    return root


def test_cameras_without_images_are_the_rig_cameras_no_frame_has(lidar_only, tmp_path):
    from fusionlabel.app import testing
    from fusionlabel.io.drives import open_drive
    from fusionlabel.model.drive import cameras_without_images

    drive = open_drive(lidar_only)
    assert drive.rig(0).camera_names and all(not f.image_paths for f in drive.frames)
    assert cameras_without_images(drive) == drive.rig(0).camera_names
    # A drive with images has none, even when one frame lacks one (that is the frame's problem).
    copy = testing.copy_drive(testing.small_drive(), tmp_path / "drive")
    (copy / "cameras" / "cam_front" / "000000.jpg").unlink()
    assert cameras_without_images(open_drive(testing.small_drive())) == []
    assert cameras_without_images(open_drive(copy)) == []


def test_stepping_a_lidar_only_drive_says_the_missing_cameras_once(qtbot, tmp_path, lidar_only, caplog):
    from PyQt6.QtCore import Qt

    from fusionlabel.app import testing
    from fusionlabel.app.frame_data import NO_IMAGES_IN_DRIVE
    from fusionlabel.store.project import Project

    project = Project.create(tmp_path / "project", lidar_only)
    names = project.drive.rig(0).camera_names
    try:
        with caplog.at_level("WARNING", logger="fusionlabel.app.session"):
            w = open_app_window(qtbot, project)
            qtbot.waitUntil(lambda: w.toast.isVisible() and "no images in this drive" in w.toast.text(), timeout=10_000)
            for i in range(1, FRAMES):
                qtbot.keyClick(w.bev, Qt.Key.Key_D)
                testing.wait_for_frame(w, i)
        s = w.session
        said = [m.text for m in s.startup_messages + s.messages if "image" in m.text]
        assert said == [f"cameras {', '.join(names)} have no images in this drive: their panels show the points on a blank canvas"], said
        assert sum("image" in r.getMessage() for r in caplog.records) == 1
        assert w.displayed.index == FRAMES - 1 and w.displayed.error_summary() is None
        for name in names:    # each empty panel carries the caption instead
            cam = w.cameras.views[name].cam
            assert cam.error is None and cam.note == NO_IMAGES_IN_DRIVE
        assert not w.cameras.views[names[0]].grab().toImage().isNull()
        w.close()
    finally:
        project.close()


def test_session_messages_keep_only_the_last_ones(project):
    from fusionlabel.app.session import MESSAGES_KEPT, Session

    s = Session(project)
    for i in range(MESSAGES_KEPT + 30):
        s.notify(f"message {i}")
    assert len(s.messages) == MESSAGES_KEPT
    assert s.messages[0].text == "message 30" and s.messages[-1].text == f"message {MESSAGES_KEPT + 29}"
