"""Bad input shows a clear message in the app and leaves the rest working: a corrupt sweep, a
missing image, a broken ontology, a project another process holds (read-only, and said so)."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import QPoint, Qt  # noqa: E402

from conftest import open_app_window  # noqa: E402
from fusionlabel.app import testing  # noqa: E402
from fusionlabel.model.annotation import CuboidLabel  # noqa: E402
from fusionlabel.model.commands import CreateCuboid  # noqa: E402
from fusionlabel.model.ontology import Ontology  # noqa: E402
from fusionlabel.store.project import Project  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture
def drive_copy(tmp_path):
    return testing.copy_drive(testing.small_drive(), tmp_path / "drive")


def create_with_key(qtbot, w, xy=(15.0, 4.0)):
    w.bev.center, w.bev.scale = np.array([10.0, 0.0]), 10.0
    u, v = w.bev.to_screen(np.array([xy]))[0]
    qtbot.mouseMove(w.bev, QPoint(int(u), int(v)))
    qtbot.keyClick(w.bev, Qt.Key.Key_N)


def test_corrupt_sweep_is_reported_and_the_frame_stays_editable(qtbot, tmp_path, drive_copy):
    sweep = drive_copy / "lidar" / "000001.fri"
    sweep.write_bytes(sweep.read_bytes()[:100])
    project = Project.create(tmp_path / "project", drive_copy)
    try:
        w = open_app_window(qtbot, project)
        qtbot.keyClick(w.bev, Qt.Key.Key_D)
        testing.wait_for_frame(w, 1)
        messages = [m.text for m in w.session.messages if m.level == "warning"]
        assert any("000001.fri" in m and "sweep not loaded" in m for m in messages), messages
        assert w.toast.isVisible() and "000001.fri" in w.toast.text()
        assert len(w.displayed.points) == 0
        # The cameras of that frame still show, and the frame can still be annotated.
        assert all(v.cam is not None and v.cam.error is None for v in w.cameras.views.values())
        create_with_key(qtbot, w)
        assert len(w.session.annotations()) == 1
        # The next frame is fine again.
        qtbot.keyClick(w.bev, Qt.Key.Key_D)
        testing.wait_for_frame(w, 2)
        assert len(w.displayed.points) > 1000
        w.close()
    finally:
        project.close()


def test_missing_image_is_reported_in_its_camera_only(qtbot, tmp_path, drive_copy):
    (drive_copy / "cameras" / "cam_front" / "000000.jpg").unlink()
    project = Project.create(tmp_path / "project", drive_copy)
    try:
        w = open_app_window(qtbot, project)
        views = w.cameras.views
        assert views["cam_front"].cam.error and "000000.jpg" in views["cam_front"].cam.error
        assert views["cam_front_left"].cam.error is None and views["cam_front_left"].cam.n_points > 0
        assert any("cam_front" in m.text and "000000.jpg" in m.text for m in w.session.messages)
        # The broken camera still draws (a blank canvas with its points and the message).
        assert not views["cam_front"].grab().toImage().isNull()
        assert len(w.displayed.points) > 1000
        w.close()
    finally:
        project.close()


def test_a_drive_moved_away_while_open_says_once_which_file_and_how_to_relink(qtbot, tmp_path):
    """The drive folder is moved while the app is open: the first frame that cannot be read says
    which file is not there and how to relink the project (fusionlabel project relink PROJECT
    NEW_DRIVE), once, in a banner that stays; the frames after it add no "file not found" note
    each (before, every frame said it and not what to do). Their views still show their own errors."""
    import shutil

    drive = testing.copy_drive(testing.small_drive(frames=6), tmp_path / "drive")
    project = Project.create(tmp_path / "project", drive)
    try:
        w = open_app_window(qtbot, project)
        shutil.move(str(drive), str(tmp_path / "moved"))
        before = len(w.session.messages)
        qtbot.keyClick(w.bev, Qt.Key.Key_End)              # frames never loaded before the move
        testing.wait_for_frame(w, 5)
        for frame in (4, 3):
            qtbot.keyClick(w.bev, Qt.Key.Key_A)
            testing.wait_for_frame(w, frame)
        said = w.session.messages[before:]
        assert len(said) == 1 and said[0].level == "warning" and said[0].frame is None, [m.text for m in said]
        text = said[0].text
        named = text.split(" not found", 1)[0]
        assert named.startswith(str(drive)) and named.endswith(("000005.fri", "000005.jpg")), text
        assert f"fusionlabel project relink {tmp_path / 'project'} NEW_DRIVE" in text
        assert f"no longer at {drive}" in text
        assert w.toast.isVisible() and "relink" in w.toast.text()
        assert w.displayed.frame_errors() and "000003.fri" in w.displayed.frame_errors()[0]
        w.close()
    finally:
        project.close()


def test_broken_ontology_falls_back_and_says_so(qtbot, tmp_path):
    folder = tmp_path / "project"
    Project.create(folder, testing.small_drive()).close()
    (folder / "ontology.yaml").write_text("format: fusionlabel-ontology/1\nclasses:\n  car: {color: [1, 2]}\n")
    project = Project.open(folder)
    try:
        w = open_app_window(qtbot, project)
        # the start-up messages come from the event loop
        qtbot.waitUntil(lambda: w.toast.isVisible() and "ontology.yaml" in w.toast.text(), timeout=10_000)
        assert w.session.ontology == Ontology.default()           # the built-in one
        create_with_key(qtbot, w)
        assert len(w.session.annotations()) == 1
        w.close()
    finally:
        project.close()


def test_second_instance_is_read_only_and_says_so(qtbot, tmp_path):
    folder = tmp_path / "project"
    first = Project.create(folder, testing.small_drive())
    second = Project.open(folder)
    try:
        assert second.read_only
        w = open_app_window(qtbot, second)
        assert "READ-ONLY" in w.windowTitle()
        assert w.read_only_label.isVisible() and "already open in this process" in w.read_only_label.toolTip()
        qtbot.waitUntil(lambda: w.toast.isVisible() and "read-only" in w.toast.text(), timeout=10_000)
        create_with_key(qtbot, w)
        assert len(second.document) == 0
        assert "read-only" in w.statusBar().currentMessage()
        qtbot.keyClick(w.bev, Qt.Key.Key_G)            # one-click refuses at once, not after the click
        assert w.session.tool is None and "read-only" in w.session.messages[-1].text
        # The writer's edits show up on F5.
        from fusionlabel.geometry.cuboid import Cuboid
        from fusionlabel.model.annotation import CuboidLabel
        from fusionlabel.model.commands import CreateCuboid

        first.document.apply(CreateCuboid(0, CuboidLabel(Cuboid((10, 0, -1), (4, 2, 1.5)), "car")))
        qtbot.keyClick(w.bev, Qt.Key.Key_F5)
        assert len(w.session.annotations()) == 1 and w.objects.rowCount() == 1
        # Frame changes still work (nothing is written).
        qtbot.keyClick(w.bev, Qt.Key.Key_D)
        testing.wait_for_frame(w, 1)
        w.close()
    finally:
        second.close()
        first.close()


def test_a_frame_note_is_said_once_and_leaves_with_its_frame(qtbot, tmp_path, drive_copy, caplog):
    """Frame 0 lacks two images: one message names both cameras (not one per camera), it is logged
    once, the cameras show their own problem, the BEV does not repeat it, and the toast goes when
    another frame is shown."""
    for cam in ("cam_front", "cam_front_left"):
        (drive_copy / "cameras" / cam / "000000.jpg").unlink()
    project = Project.create(tmp_path / "project", drive_copy)
    try:
        with caplog.at_level("WARNING", logger="fusionlabel.app.session"):
            w = open_app_window(qtbot, project)
            qtbot.waitUntil(lambda: any("000000.jpg" in m.text for m in w.session.messages), timeout=10_000)
        notes = [m for m in w.session.messages if "000000.jpg" in m.text]
        assert len(notes) == 1 and notes[0].frame == 0, [m.text for m in w.session.messages]
        assert "cam_front" in notes[0].text and "cam_front_left" in notes[0].text
        assert sum("000000.jpg" in r.getMessage() for r in caplog.records) == 1
        assert w.toast.isVisible() and "cam_front_left" in w.toast.text()
        assert "000000.jpg" not in w.statusBar().currentMessage()     # the toast says it, not twice
        assert w.displayed.frame_errors() == []                       # nothing for the BEV's caption
        assert w.cameras.views["cam_front"].cam.error and w.cameras.views["cam_front_right"].cam.error is None
        qtbot.keyClick(w.bev, Qt.Key.Key_D)
        testing.wait_for_frame(w, 1)
        assert not w.toast.isVisible()
        # Back on frame 0 the cameras still say it, without a second message.
        qtbot.keyClick(w.bev, Qt.Key.Key_A)
        testing.wait_for_frame(w, 0)
        assert len([m for m in w.session.messages if "000000.jpg" in m.text]) == 1
        assert w.cameras.views["cam_front"].cam.error
        w.close()
    finally:
        project.close()


def test_a_toast_not_about_a_frame_stays_when_the_frame_changes(qtbot, tmp_path):
    project = Project.create(tmp_path / "project", testing.small_drive())
    try:
        w = open_app_window(qtbot, project)
        w.session.notify("something went wrong", "warning")
        qtbot.keyClick(w.bev, Qt.Key.Key_D)
        testing.wait_for_frame(w, 1)
        assert w.toast.isVisible() and w.toast.text() == "something went wrong"
        w.close()
    finally:
        project.close()


def test_ctrl_i_again_imports_nothing_twice_and_keeps_the_annotators_box(qtbot, tmp_path):
    """Ctrl+I a second time adds no label and says so; a drive label on a box the annotator drew
    is left out; one Ctrl+Z takes back what one Ctrl+I brought."""
    project = Project.create(tmp_path / "project", testing.small_drive())
    try:
        drive, doc = project.drive, project.document
        n = sum(1 for i in range(len(drive)) for lab in drive.labels(i) if project.ontology.resolve(lab.label)) - 1
        target = drive.labels(0)[0]
        mine = doc.apply(CreateCuboid(0, CuboidLabel(target.box, project.ontology.resolve(target.label))))
        w = open_app_window(qtbot, project)

        def ctrl_i() -> list[tuple[str, str]]:
            before = len(w.session.messages)
            qtbot.keyClick(w.bev, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
            return [(m.level, m.text) for m in w.session.messages[before:]]

        overlap = "1 label left out for overlapping a box already in the project"
        assert ctrl_i() == [("info", f"imported {n} labels from the drive; {overlap}")]
        assert len(doc) == n + 1 and n > 10
        assert ctrl_i() == [("info", f"imported 0 new labels from the drive; {n} already in the project; {overlap}")]
        assert len(doc) == n + 1 and doc.get(mine.uid).label == mine.label
        assert w.statusBar().currentMessage().startswith("imported 0 new labels from the drive; ")
        qtbot.keyClick(w.bev, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert [a.uid for a in doc.all_annotations()] == [mine.uid]
        w.close()
    finally:
        project.close()


def test_skipped_label_classes_are_shown(qtbot, tmp_path, drive_copy):
    """Labels of a class the ontology lacks are skipped, and the app says so: on opening the new
    project, and again on Ctrl+I, in one message naming the class and the count."""
    n = 0
    for path in (drive_copy / "labels").glob("*.json"):
        text = path.read_text()
        n += text.count('"label": "pedestrian"')
        path.write_text(text.replace('"label": "pedestrian"', '"label": "Rickshaw"'))
    assert n > 0
    project = Project.create(tmp_path / "project", drive_copy, import_labels=True)
    try:
        w = open_app_window(qtbot, project)
        qtbot.waitUntil(lambda: w.toast.isVisible() and f"Rickshaw ({n})" in w.toast.text(), timeout=10_000)
        assert not any(a.cls == "pedestrian" for a in project.document.all_annotations())
        before = len(w.session.messages)
        qtbot.keyClick(w.bev, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
        new = w.session.messages[before:]
        assert len(new) == 1 and new[0].level == "warning" and f"Rickshaw ({n})" in new[0].text, new
        assert f"Rickshaw ({n})" in w.toast.text()
        w.close()
    finally:
        project.close()
