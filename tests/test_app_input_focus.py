"""What keys and the mouse wheel do over the attribute editor and the timeline: a text field
keeps the keys one types and edits with (no cuboid moves while typing a note), Esc leaves it,
and a combo box or spin box takes the wheel only when it has the focus."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PyQt6.QtGui import QWheelEvent  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

from conftest import app_project, app_window  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture
def project(tmp_path):
    yield from app_project(tmp_path, import_labels=True)


@pytest.fixture
def window(qtbot, project):
    yield from app_window(qtbot, project)


def select_first(qtbot, window):
    qtbot.keyClick(window.bev, Qt.Key.Key_Tab)
    assert window.session.selection
    return window.session.selection[0]


def editor_of_kind(window, kind):
    spec = window.session.ontology.classes[window.session.document.get(window.session.selection[0]).cls]
    name = next((n for n, a in spec.attributes.items() if a.kind == kind), None)
    if name is None:
        pytest.skip(f"the test ontology has no {kind} attribute")
    return name, window.attributes._editors[name]


def test_keys_typed_in_a_text_field_stay_there(qtbot, window):
    s = window.session
    uid = select_first(qtbot, window)
    name, field = editor_of_kind(window, "text")
    before = s.document.get(uid).box
    field.setFocus()                                   # as a click into it does
    qtbot.waitUntil(lambda: QApplication.focusWidget() is field)
    qtbot.keyClicks(field, "abc")
    history = list(s.document.history())
    for k, mod in [(Qt.Key.Key_Up, 0), (Qt.Key.Key_Down, 0), (Qt.Key.Key_PageUp, 0), (Qt.Key.Key_PageDown, 0),
                   (Qt.Key.Key_Left, 0), (Qt.Key.Key_Home, 0), (Qt.Key.Key_End, 0),
                   (Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier),
                   (Qt.Key.Key_PageUp, Qt.KeyboardModifier.ControlModifier),
                   (Qt.Key.Key_Q, 0), (Qt.Key.Key_D, 0)]:
        qtbot.keyClick(field, k, Qt.KeyboardModifier(mod))
    ann = s.document.get(uid)
    assert ann.box == before and s.frame == 0          # no nudge, resize or turn; no frame change
    assert field.text() == "abcqd" and ann.label.attributes[name] == "abcqd"
    assert all(h.startswith(f"Set {name}") for h in s.document.history()[len(history) - 1:])
    qtbot.keyClick(field, Qt.Key.Key_Escape)           # Esc leaves the field, the selection stays
    assert QApplication.focusWidget() is not field and s.selection == (uid,)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Up)   # now the keys edit the cuboid again
    assert s.document.get(uid).box != before


def wheel(widget, dy=-120):
    pos = QPointF(widget.rect().center())
    ev = QWheelEvent(pos, QPointF(widget.mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, dy),
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, ev)
    QApplication.processEvents()


def test_the_wheel_over_an_unfocused_combo_box_changes_nothing(qtbot, window):
    s = window.session
    uid = select_first(qtbot, window)
    before = s.document.get(uid).label
    history = list(s.document.history())
    for widget in (lambda: window.attributes.cls, lambda: editor_of_kind(window, "enum")[1],
                   lambda: window.timeline.status):
        wheel(widget())
        wheel(widget(), 120)
    assert s.document.get(uid).label == before and s.document.history() == history
    assert s.document.frame_status(0) == "new"
    window.attributes.cls.setFocus()                   # focused (clicked into): the wheel chooses
    qtbot.waitUntil(lambda: window.attributes.cls.hasFocus())
    wheel(window.attributes.cls)
    assert s.document.get(uid).cls != before.label
