"""The number row by the keys' places, whatever the keyboard layout types on them.

On AZERTY the keys marked 1 … 0 type & é " ' ( - è _ ç à unshifted (Czech QWERTZ: + ě š č ř ž ý á í é);
Qt binds a shortcut to the character typed, so the class keys 1 … 0 and Ctrl+0 would need Shift
there. A key press that no shortcut and no text field took is read here by its place on the
keyboard, from the native codes Qt passes on, and the shortcut of that place's digit runs instead:

- X11 and Wayland: ``nativeScanCode`` is the XKB keycode (the evdev code + 8): 10 … 19;
  AltGr (ISO Level 3, the X modifier Mod5 in ``nativeModifiers``) leaves the key alone, as it
  types other characters (``{`` on a German 7; those characters are never read by place either);
- Windows: ``nativeScanCode`` is the PC scan code: 2 … 11 (AltGr comes as Ctrl+Alt, bound to nothing);
- macOS: ``nativeScanCode`` is always 1; ``nativeVirtualKey`` is the ``kVK_ANSI_*`` code of the place.
"""

from __future__ import annotations

import sys

from PyQt6.QtCore import QEvent, QKeyCombination, QObject, Qt
from PyQt6.QtGui import QKeySequence
from PyQt6.QtWidgets import QApplication, QWidget

from .input_widgets import owns_key

DIGITS = "1234567890"
XKB_KEYCODES = {10 + i: d for i, d in enumerate(DIGITS)}
WINDOWS_SCAN_CODES = {2 + i: d for i, d in enumerate(DIGITS)}
MAC_VIRTUAL_KEYS = dict(zip((0x12, 0x13, 0x14, 0x15, 0x17, 0x16, 0x1A, 0x1C, 0x19, 0x1D), DIGITS))
XKB_LEVEL3 = 0x80  # Mod5: AltGr on the usual XKB keymaps
# Characters AltGr types on the number row (AZERTY, QWERTZ) and no layout's number row unshifted:
# a key press typing one is never read by its place, even where AltGr is not told apart.
ALTGR_SYMBOLS = set("~#{[|`\\^@]}¹²³¼½¬")


def number_row_digit(scan_code: int, virtual_key: int, native_modifiers: int = 0,
                     system: str = sys.platform) -> str | None:
    """The digit printed on the number-row key with these native codes on ``system`` (a
    ``sys.platform`` value), or None for any other key or an AltGr press on X11 / Wayland."""
    if system == "darwin":
        return MAC_VIRTUAL_KEYS.get(virtual_key)
    if system.startswith(("win", "cygwin")):
        return WINDOWS_SCAN_CODES.get(scan_code)
    if native_modifiers & XKB_LEVEL3:
        return None
    return XKB_KEYCODES.get(scan_code)


class NumberRowKeys(QObject):
    """An event filter on ``window``'s own native window (its ``QWindow``, and those of its docks
    while they float: :meth:`watch`), where every key press for the window arrives before its
    focused widget gets it: for a key press that no text field keeps, it runs the shortcut of the digit on that key's place with the same modifiers (``&`` on
    AZERTY: the ``1`` shortcut; ``Ctrl+à``: ``Ctrl+0``). ``actions``: the window's shortcut actions.

    Nothing else's events go through it, and it goes with the window: Qt calls no Python filter
    of the application's while the interpreter tears the window down at exit (that crashed it)."""

    def __init__(self, window: QWidget, actions):
        super().__init__(window)
        self.window = window
        self.by_keys = {k.toString(): a for a in actions for k in a.shortcuts()}
        self.watched = None   # the main window's QWindow filtered

    def watch(self, widget: QWidget | None = None) -> None:
        """Filter the native window of ``widget`` (default: the window; else one of its docks floating
        in a window of its own), once it has one (shown) and whenever Qt makes a new one."""
        handle = (widget or self.window).windowHandle()
        if handle is not None and handle is not self.watched:
            handle.installEventFilter(self)   # once: Qt does not add a filter twice
            if widget is None:
                self.watched = handle

    def eventFilter(self, watched, ev) -> bool:  # noqa: N802 - Qt API
        if ev.type() != QEvent.Type.KeyPress:
            return False
        focus = QApplication.focusWidget()   # in the window of the key press, maybe a floating dock
        if focus is not None and owns_key(focus, ev.key(), ev.modifiers()):
            return False
        action = self.action_for(ev)
        if action is None:
            return False
        action.trigger()
        return True

    def action_for(self, ev):
        """The action of the digit at this key's place, when the key typed something else."""
        digit = number_row_digit(ev.nativeScanCode(), ev.nativeVirtualKey(), ev.nativeModifiers())
        if digit is None or ev.text() == digit or ev.text() in ALTGR_SYMBOLS:
            return None
        modifiers = ev.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        keys = QKeySequence(QKeyCombination(modifiers, Qt.Key(ord(digit)))).toString()
        return self.by_keys.get(keys)
