"""The app's first open and Ctrl+I on a drive with unreadable label files: the readable frames'
labels are imported, and a message box that stays until closed names each frame left out with its
error (file and field), not only a passing toast naming the first one."""

from __future__ import annotations

import json
import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import Qt  # noqa: E402

from conftest import app_window  # noqa: E402
from fusionlabel.app import testing  # noqa: E402
from fusionlabel.app.unread_labels import LISTED, TITLE, unread_labels_text  # noqa: E402
from fusionlabel.io.drives import open_drive  # noqa: E402
from fusionlabel.store.project import Project  # noqa: E402

pytestmark = pytest.mark.gui
SIZE_ERROR = "labels/000001.json: objects[1].size: expected a list of 3 finite numbers"
JSON_ERROR = "labels/000002.json: line 1: invalid JSON"


@pytest.fixture
def drive(tmp_path):
    """The small drive with frame 000001's second box given a height of 'tall' and frame 000002's
    label file cut short; frame 000000's is whole."""
    root = testing.copy_drive(testing.small_drive(), tmp_path / "drive")
    path = root / "labels" / "000001.json"
    doc = json.loads(path.read_text())
    doc["objects"][1]["size"][2] = "tall"
    path.write_text(json.dumps(doc))
    path = root / "labels" / "000002.json"
    path.write_text(path.read_text()[:60])
    return root


def assert_lists_the_bad_frames(w, drive):
    box = w.unread_labels
    assert box is not None and box.isVisible() and not box.isModal()
    assert box.windowTitle() == TITLE
    assert box.text() == "The labels of 2 frames were not imported: their label files could not be read."
    lines = box.informativeText().splitlines()
    assert lines[0].startswith("frame 000001: ") and SIZE_ERROR in lines[0]
    assert lines[1].startswith("frame 000002: ") and JSON_ERROR in lines[1]
    assert len(lines) == 4 and lines[2] == "" and "Ctrl+I" in lines[3]
    readable = len(open_drive(drive).labels(0))   # what the drive reader gives for the whole frame
    assert readable > 0
    assert [len(w.session.document.annotations(i)) for i in range(3)] == [readable, 0, 0]


def test_ctrl_i_lists_the_frames_it_could_not_import(qtbot, tmp_path, drive):
    project = Project.create(tmp_path / "project", drive, import_labels=False)
    for w in app_window(qtbot, project):
        assert w.unread_labels is None
        qtbot.keyClick(w.bev, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
        assert_lists_the_bad_frames(w, drive)
        assert w.toast.isVisible() and "2 label files not read" in w.toast.text()   # the toast says it too
        qtbot.keyClick(w.bev, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)   # again: one box, anew
        assert_lists_the_bad_frames(w, drive)
    project.close()


def test_the_first_open_lists_the_frames_it_could_not_import(qtbot, tmp_path, drive):
    project = Project.open_or_create_for_drive(drive, tmp_path / "project")   # what `fusionlabel open DRIVE` does
    for w in app_window(qtbot, project):
        qtbot.waitUntil(lambda: w.unread_labels is not None, timeout=5000)
        assert_lists_the_bad_frames(w, drive)
    project.close()
    with Project.open(tmp_path / "project") as again:     # reopened: nothing new to say, no box
        for w in app_window(qtbot, again):
            qtbot.wait(50)
            assert w.unread_labels is None


def test_many_frames_are_all_in_the_details():
    frames = [(f"{i:06d}", f"labels/{i:06d}.json: line 1: invalid JSON") for i in range(LISTED + 5)]
    head, lines, details = unread_labels_text(frames)
    assert head.startswith(f"The labels of {LISTED + 5} frames were not imported")
    assert lines[:LISTED] == [f"frame {fid}: {e}" for fid, e in frames[:LISTED]]
    assert lines[LISTED].startswith("… and 5 more")
    assert details.splitlines() == [f"frame {fid}: {e}" for fid, e in frames]
    assert unread_labels_text(frames[:1])[0] == ("The labels of 1 frame were not imported: its label file could "
                                                 "not be read.")
    assert unread_labels_text(frames[:1])[2] is None
