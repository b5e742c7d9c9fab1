"""Locked classes beyond the edit keys: undo and redo are refused like edits, locked cuboids are
marked in every drawing view, the model keys say when locked cuboids are why nothing changed,
and Tab on a focused choice or tick box selects no other cuboid."""

from __future__ import annotations

import os
import sqlite3

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import Qt  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

pytestmark = pytest.mark.gui
NO, CTRL, SHIFT = Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


def key(qtbot, window, k, modifier=NO):
    qtbot.keyClick(QApplication.focusWidget() or window.bev, k, modifier)


def saved(project) -> tuple:
    """(every cuboid row, history rows) as the database holds them (another connection)."""
    con = sqlite3.connect(project.folder / "project.sqlite")
    try:
        return (con.execute("SELECT * FROM annotations ORDER BY uid").fetchall(),
                con.execute("SELECT * FROM history").fetchall())
    finally:
        con.close()


def lock(window, cls: str, on: bool = True) -> None:
    action = window.class_flag_actions[("locked", cls)]
    if action.isChecked() != on:
        action.trigger()


# ------------------------------------------------------------------ undo and redo
def test_undo_and_redo_of_a_locked_cuboid_are_refused_like_edits(qtbot, window, project):
    s = window.session
    car = next(a for a in s.annotations() if a.cls == "car")
    other = next(a for a in s.annotations() if a.cls != "car")
    s.select((car.uid,))
    key(qtbot, window, Qt.Key.Key_Up)
    moved = s.document.get(car.uid).box
    assert moved != car.box and s.document.undo_text().startswith("Nudge")
    s.select((other.uid,))
    key(qtbot, window, Qt.Key.Key_Up)                                # a step of another class on top
    lock(window, "car")
    key(qtbot, window, Qt.Key.Key_Z, CTRL)                           # undoes the other one: allowed
    assert s.document.get(other.uid).box == other.box and s.messages[-1].level == "info"
    before, undo_text = saved(project), s.document.undo_text()
    n = len(s.messages)
    key(qtbot, window, Qt.Key.Key_Z, CTRL)                           # would move the locked car back
    assert s.document.get(car.uid).box == moved
    assert s.document.undo_text() == undo_text and s.document.redo_text().startswith("Nudge")
    assert saved(project) == before
    refusal = s.messages[n:]
    assert [m.level for m in refusal] == ["warning"]
    assert refusal[0].text.startswith(f"Undo {undo_text} refused: it would change 1 locked car cuboid")
    assert window.undo_action.text() == f"Undo {undo_text}"
    lock(window, "car", False)
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert s.document.get(car.uid).box == car.box
    lock(window, "car")
    before = saved(project)
    key(qtbot, window, Qt.Key.Key_Z, CTRL | SHIFT)                   # redo would move it again
    assert s.document.get(car.uid).box == car.box and saved(project) == before
    assert s.messages[-1].text.startswith(f"Redo {undo_text} refused: it would change 1 locked car cuboid")
    assert s.document.redo_text() == undo_text


def test_undoing_a_delete_brings_a_locked_cuboid_back(qtbot, window):
    """A cuboid an undo brings back is a new cuboid, which a lock allows, like a new one."""
    s = window.session
    car = next(a for a in s.annotations() if a.cls == "car")
    s.select((car.uid,))
    key(qtbot, window, Qt.Key.Key_Delete)
    assert car.uid not in s.document
    lock(window, "car")
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert s.document.get(car.uid) == car
    key(qtbot, window, Qt.Key.Key_Z, CTRL | SHIFT)                   # the delete again: refused
    assert s.document.get(car.uid) == car and "Redo Delete" in s.messages[-1].text


# ------------------------------------------------------------------ the session's helpers
def test_session_setting_reads_saved_settings_and_falls_back(project):
    from fusionlabel.app.session import Session

    s = Session(project)
    assert s.setting("no such setting", 7) == 7 and s.setting("no such setting") is None
    s.save_setting("prelabel_min_score", 0.3)
    assert s.setting("prelabel_min_score", 0.5) == 0.3
    project.close()                                              # an unreadable store: the default, no error
    assert s.setting("prelabel_min_score", 0.5) == 0.5


def test_refuse_drag_says_it_once_per_drag(project):
    from fusionlabel.app.session import Session

    s = Session(project)
    car = next(a for a in s.annotations() if a.cls == "car")
    other = next(a for a in s.annotations() if a.cls != "car")
    s.set_class_locked("car", True)
    n = len(s.messages)
    drag = {"kind": "rotate", "uid": car.uid}
    assert s.refuse_drag(drag) and s.refuse_drag(drag) and drag["refused"] is True
    assert [m.text.split(":")[0] for m in s.messages[n:]] == ["Rotate refused"]
    assert not s.refuse_drag({"kind": "move", "uid": other.uid}) and len(s.messages) == n + 1
    assert not s.refuse_drag({"kind": "create"})                 # a new cuboid: never refused
