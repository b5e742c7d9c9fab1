"""Ctrl+Z and the labels that came with the drive, with real key events: the labels a project is
made with are its starting point (Ctrl+Z stops there and says why); undoing a later import, or any
step that removes many cuboids across frames, asks first and keeps them when declined."""

from __future__ import annotations

import os
import sqlite3

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import Qt  # noqa: E402

from conftest import app_project, app_window  # noqa: E402
from fusionlabel.app import testing  # noqa: E402
from fusionlabel.app.actions import Actions  # noqa: E402
from fusionlabel.app.main_window import ask_step_removal  # noqa: E402
from fusionlabel.app.session import Session  # noqa: E402
from fusionlabel.io.drives import open_drive  # noqa: E402
from fusionlabel.store.project import Project  # noqa: E402

pytestmark = pytest.mark.gui
CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_SHIFT = CTRL | Qt.KeyboardModifier.ShiftModifier


def key(qtbot, w, k, modifier=CTRL):
    qtbot.keyClick(w.bev, k, modifier)


def saved(project) -> int:
    """How many cuboids the project database holds (read with plain sqlite3)."""
    con = sqlite3.connect(project.folder / "project.sqlite")
    try:
        return con.execute("SELECT COUNT(*) FROM annotations").fetchone()[0]
    finally:
        con.close()


def drive_labels() -> int:
    drive = open_drive(testing.small_drive())
    return sum(len(drive.labels(i)) for i in range(len(drive)))


@pytest.fixture
def fresh(tmp_path):
    """A new project made with the drive's labels, as `fusionlabel open DRIVE` makes it."""
    yield from app_project(tmp_path, import_labels=True)


@pytest.fixture
def empty(tmp_path):
    """A new project made without the drive's labels (they come in later with Ctrl+I)."""
    yield from app_project(tmp_path, import_labels=False)


@pytest.fixture
def fresh_window(qtbot, fresh):
    yield from app_window(qtbot, fresh)


@pytest.fixture
def empty_window(qtbot, empty):
    yield from app_window(qtbot, empty)


def test_ctrl_z_on_a_fresh_project_keeps_its_labels_and_says_why(qtbot, fresh, fresh_window):
    n, w = drive_labels(), fresh_window
    s = w.session
    asked = []
    w.removal_question = lambda *step: asked.append(step) or True
    assert len(s.document) == n and w.undo_action.text() == "Undo"
    key(qtbot, w, Qt.Key.Key_Z)
    said = f"nothing more to undo: the project starts with the {n} labels imported from the drive"
    assert s.messages[-1].text == said and w.statusBar().currentMessage() == said
    assert len(s.document) == saved(fresh) == n and asked == []
    s.select((s.annotations()[0].uid,))
    key(qtbot, w, Qt.Key.Key_Delete, Qt.KeyboardModifier.NoModifier)    # one edit, then two Ctrl+Z
    assert len(s.document) == n - 1 and w.undo_action.text() == "Undo Delete cuboid"
    key(qtbot, w, Qt.Key.Key_Z)
    key(qtbot, w, Qt.Key.Key_Z)
    assert s.messages[-1].text == said and len(s.document) == saved(fresh) == n and asked == []


def test_undoing_a_later_import_asks_first_and_declined_keeps_the_labels(qtbot, empty, empty_window):
    n, w = drive_labels(), empty_window
    s = w.session
    answers, asked = [False, True], []
    w.removal_question = lambda *step: asked.append(step) or answers.pop(0)
    key(qtbot, w, Qt.Key.Key_I)                                        # Ctrl+I: a later import
    assert len(s.document) == saved(empty) == n and w.undo_action.text() == f"Undo Import {n} labels from the drive"
    fids = [str(f.frame_id) for f in s.drive.frames]
    removes = f"{n} cuboids in 3 frames ({fids[0]}–{fids[-1]}): {n} imported labels"
    key(qtbot, w, Qt.Key.Key_Z)                                        # declined
    assert asked == [("undo", f"Import {n} labels from the drive", removes)]
    assert len(s.document) == saved(empty) == n and s.document.undo_text() == f"Import {n} labels from the drive"
    assert s.messages[-1].text == f"did not undo Import {n} labels from the drive: it would remove {removes}"
    key(qtbot, w, Qt.Key.Key_Z)                                        # accepted
    assert len(asked) == 2 and len(s.document) == saved(empty) == 0
    assert s.messages[-1].text.startswith(f"undid Import {n} labels from the drive")
    key(qtbot, w, Qt.Key.Key_Z, CTRL_SHIFT)                            # a redo that adds asks nothing
    assert len(asked) == 2 and len(s.document) == saved(empty) == n


def test_the_removal_question_offers_undo_and_cancel(qtbot, fresh_window):
    """The real message box names the step and what it removes; Cancel and Esc keep the step. On
    a platform nobody can see (offscreen) the window does not ask: the step goes ahead."""
    w = fresh_window
    for button, expected in (("Undo", True), ("Cancel", False), (None, False)):
        seen = []
        testing.answer_question(button, seen)
        assert ask_step_removal(w, "undo", "Import 9 labels from the drive", "9 cuboids in 2 frames") is expected
        assert seen[0][0] == "Undo “Import 9 labels from the drive”?"
        assert seen[0][1].startswith("It removes 9 cuboids in 2 frames. Redo (Ctrl+Shift+Z) brings them back")
    assert w.removal_question("undo", "Import 9 labels from the drive", "9 cuboids") is True   # offscreen


def test_ctrl_z_on_a_new_sustech_project_keeps_its_labels(realdata, tmp_path):
    """The reviewer's case on the real SUSTech sequence: `fusionlabel open DRIVE --project P`,
    then Ctrl+Z (headless session)."""
    drive = realdata / "sustech_sequence"
    if not drive.is_dir():
        pytest.skip("no SUSTech sequence in the real data")
    with Project.open_or_create_for_drive(drive, tmp_path / "p") as p:
        s = Session(p)
        n = len(p.document)
        assert n > 0 and p.document.starting_point() == [f"Import {n} labels from the drive"]
        Actions(s).undo()
        assert len(p.document) == n and s.messages[-1].text == \
            f"nothing more to undo: the project starts with the {n} labels imported from the drive"
        s.close()
