"""Input widgets that behave in a window run from the keyboard and the mouse wheel.

- A combo box or spin box takes the mouse wheel only when it has the keyboard focus; otherwise
  the wheel goes on to its parent (a panel scrolls instead of retyping the selected cuboid).
- :func:`owns_key`: the keys a focused text field keeps from the window's shortcuts (every key a
  person types or moves the cursor with), so typing a note never nudges or deletes a cuboid; Tab
  in a field, a choice box or a tick box selects no cuboid (:func:`holds_focus`: the window then
  ignores it, the widget keeps the focus); a focused combo box takes the keys that change its
  value (Up, Down, PgUp, PgDown, Home, End).
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QTextEdit,
)


class WheelNeedsFocus:
    """Mixin for a Qt input widget: the wheel changes its value only while it has the focus."""

    def wheelEvent(self, ev) -> None:  # noqa: N802 - Qt API
        if self.hasFocus():
            super().wheelEvent(ev)
        else:
            ev.ignore()  # on to the parent


class ComboBox(WheelNeedsFocus, QComboBox):
    pass


class SpinBox(WheelNeedsFocus, QSpinBox):
    pass


class DoubleSpinBox(WheelNeedsFocus, QDoubleSpinBox):
    pass


TEXT_INPUTS = (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit)
COMMAND_MODIFIERS = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier
TAB_KEYS = (Qt.Key.Key_Tab, Qt.Key.Key_Backtab)
COMBO_KEYS = {Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown, Qt.Key.Key_Home, Qt.Key.Key_End}
CURSOR_KEYS = {Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_PageUp,
               Qt.Key.Key_PageDown, Qt.Key.Key_Home, Qt.Key.Key_End, Qt.Key.Key_Backspace, Qt.Key.Key_Delete}


def is_text_input(widget) -> bool:
    """True for a widget one types into (line edit, spin box, text edit, an editable combo's field)."""
    return isinstance(widget, TEXT_INPUTS)


def holds_focus(widget) -> bool:
    """True for a widget that Tab and Shift+Tab never leave: a text input, a choice box or a tick
    box (the attribute panel's): they take the focus by a click only, and a click in a view (or
    Esc, in a text field) gives it back."""
    return is_text_input(widget) or isinstance(widget, (QComboBox, QCheckBox))


def owns_key(widget, key: int, modifiers) -> bool:
    """Whether a focused ``widget`` keeps this key press from the window's shortcuts: a text input
    keeps every key typed without Ctrl, Alt or Meta, and the cursor and editing keys with any
    modifier (Ctrl+Up, Shift+End ...); Tab and Shift+Tab too, which then do nothing (the main
    window does not move the focus out of a field), except in a field with ``tab_walks_list`` (the
    object list's filter), whose Tab walks the filtered list; function keys, Esc and Ctrl combinations of letters (Ctrl+Z is the field's
    own undo, which it claims itself) are left to the window. A combo box keeps the keys that
    change its value (:data:`COMBO_KEYS`, without Ctrl, Alt or Meta); a combo box and a tick box
    keep Tab and Shift+Tab too (:func:`holds_focus`)."""
    if key in TAB_KEYS:
        return (holds_focus(widget) and not getattr(widget, "tab_walks_list", False)
                and not (modifiers & COMMAND_MODIFIERS))
    if isinstance(widget, QComboBox):
        return key in COMBO_KEYS and not (modifiers & COMMAND_MODIFIERS)
    if not is_text_input(widget):
        return False
    if key in CURSOR_KEYS:
        return True
    if Qt.Key.Key_F1 <= key <= Qt.Key.Key_F35 or key == Qt.Key.Key_Escape:
        return False
    return not (modifiers & COMMAND_MODIFIERS)
