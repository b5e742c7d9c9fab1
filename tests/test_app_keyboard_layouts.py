"""Keyboard-first on any keyboard: the class keys on the number row of an AZERTY keyboard (read by
the key's place), twins without AltGr or a Delete key, and the `?` help: legible and whole on
laptop screens, listing every key the code binds (pytest-qt, offscreen)."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import QRect, Qt  # noqa: E402
from PyQt6.QtGui import QFont, QFontMetrics, QKeySequence  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

import fusionlabel.app  # noqa: E402
from conftest import native_key  # noqa: E402
from fusionlabel.app import testing  # noqa: E402

pytestmark = pytest.mark.gui
AZERTY_ROW = "&é\"'(-è_çà"          # what the keys marked 1 … 0 type unshifted on a French keyboard
XKB_ROW = range(10, 20)             # their X11 / Wayland keycodes (evdev 2 … 11, + 8)
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland keycodes")


@linux_only
def test_the_azerty_number_row_sets_the_class_without_shift(window):
    s = window.session
    ann = s.annotations()[0]
    s.select((ann.uid,))
    changed = []
    for char, code, digit in zip(AZERTY_ROW, XKB_ROW, "1234567890"):
        native_key(window.bev, char, code)
        cls = s.ontology.class_for_key(digit)
        assert s.document.get(ann.uid).label.label == cls, (char, digit)
        changed.append(cls)
    assert len(set(changed)) == 10
    # AltGr with a number key types other characters: no class change
    native_key(window.bev, "{", 13, native_modifiers=0x80)
    assert s.document.get(ann.uid).label.label == changed[-1]
    native_key(window.bev, "{", 16)                 # "{" on the German 7, AltGr not told apart
    assert s.document.get(ann.uid).label.label == changed[-1]


@linux_only
def test_the_number_row_leaves_typing_and_other_keys_alone(qtbot, window):
    s = window.session
    ann = s.annotations()[0]
    s.select((ann.uid,))
    before = s.document.get(ann.uid).label.label
    field = window.objects_header.filter
    field.setFocus()
    native_key(field, "é", 11)
    assert field.text() == "é" and s.document.get(ann.uid).label.label == before
    window.bev.setFocus()
    native_key(window.bev, "a", 24)                 # a letter elsewhere on the keyboard: not the row
    assert s.document.get(ann.uid).label.label == before


@linux_only
def test_the_number_row_types_digits_and_its_characters_in_text_fields(window):
    s = window.session
    ann = s.annotations()[0]
    s.select((ann.uid,))
    before = s.document.get(ann.uid).label.label
    for field in (window.attributes.track, window.objects_header.filter):
        field.clear()
        native_key(field, "4", 13, Qt.KeyboardModifier.ShiftModifier)       # AZERTY: Shift+' is 4
        native_key(field, "2", 11)                                          # QWERTY: 2 unshifted
        native_key(field, "(", 14)                                          # AZERTY: the 5 key
        assert field.text() == "42(", field
    assert s.document.get(ann.uid).label.label == before


@linux_only
def test_the_number_row_sets_the_class_from_a_focused_list_or_choice_box(window):
    """A choice box or a list reads a typed character as a search: the window reads the key's
    place before them (as a shortcut would)."""
    s = window.session
    ann = s.annotations()[0]
    s.select((ann.uid,))
    window.check_panel.show()
    for widget, char, code, digit in ((window.attributes.cls, '"', 12, "3"), (window.check_panel.list, "'", 13, "4")):
        native_key(widget, char, code)
        assert QApplication.focusWidget() is widget
        assert s.document.get(ann.uid).label.label == s.ontology.class_for_key(digit), widget


# Windows left open when the interpreter exits (an error, sys.exit from a callback): an
# application-wide Python filter of theirs crashed it there.
LEFT_OPEN = """
import sys
from PyQt6.QtWidgets import QApplication
from fusionlabel.app import testing
from fusionlabel.app.main_window import MainWindow
from fusionlabel.app.session import Session
from fusionlabel.store.project import Project

app = QApplication(sys.argv)
drive = testing.small_drive(frames=2)
projects = [Project.create(f"{sys.argv[1]}/p{i}", drive, import_labels=True) for i in range(3)]
windows = [testing.show_window(MainWindow(Session(p), use_gl=False)) for p in projects]
if sys.argv[2] == "close":
    for w in windows:
        w.close()
app.processEvents()
print("shown", flush=True)
"""


@pytest.mark.parametrize("then", ["leave", "close"])
def test_the_interpreter_exits_cleanly_after_the_windows(tmp_path, then):
    import subprocess
    from pathlib import Path

    root = str(Path(fusionlabel.__file__).resolve().parents[1])      # this checkout's code
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=root)
    out = subprocess.run([sys.executable, "-c", LEFT_OPEN, str(tmp_path), then], capture_output=True,
                         text=True, timeout=120, env=env)
    assert out.returncode == 0 and out.stdout.strip() == "shown", out.stderr[-2000:]


# Real key presses (XTest) on an X server of the test's own, whose keyboard types AZERTY's
# characters on the number row and the bottom row: the key events Qt makes of them, shortcuts and
# all. Prints what each press did, as JSON.
REAL_AZERTY = r"""
import ctypes, json, sys
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QApplication
from fusionlabel.app import testing
from fusionlabel.app.main_window import MainWindow
from fusionlabel.app.session import Session
from fusionlabel.store.project import Project

x11, xtst = ctypes.CDLL("libX11.so.6"), ctypes.CDLL("libXtst.so.6")
x11.XOpenDisplay.restype = ctypes.c_void_p
dpy = ctypes.c_void_p(x11.XOpenDisplay(None))
def keysyms(first, pairs):        # (unshifted, shifted) characters of the keys from keycode ``first`` on
    syms = (ctypes.c_ulong * (2 * len(pairs)))(*[ord(c) for pair in pairs for c in pair])
    x11.XChangeKeyboardMapping(dpy, first, 2, syms, len(pairs))
keysyms(10, ["&1", "é2", '"3', "'4", "(5", "-6", "è7", "_8", "ç9", "à0"])       # AE01 … AE10
keysyms(58, [",?", ";.", ":/"])                                                 # AB07 … AB09
x11.XSync(dpy, 0)
SHIFT, CTRL = 50, 37

def press(code, *modifiers):
    for m in modifiers:
        xtst.XTestFakeKeyEvent(dpy, m, True, 0)
    xtst.XTestFakeKeyEvent(dpy, code, True, 0)
    xtst.XTestFakeKeyEvent(dpy, code, False, 0)
    for m in modifiers:
        xtst.XTestFakeKeyEvent(dpy, m, False, 0)
    x11.XSync(dpy, 0)
    QTest.qWait(200)

app = QApplication(sys.argv)
project = Project.create(sys.argv[1] + "/p", testing.small_drive(frames=3), import_labels=True)
w = testing.show_window(MainWindow(Session(project), use_gl=False))
QTest.qWait(300)                  # the new keyboard map reaches Qt
s = w.session
uid = s.annotations()[0].uid
s.select((uid,))
label = lambda: s.document.get(uid).label.label
out = {"classes": {d: s.ontology.class_for_key(d) for d in "2345"}}
press(11)
out["é"] = label()
press(13, SHIFT)
out["Shift+'"] = label()
w.attributes.cls.setFocus()
press(12)
out['" in the class box'] = label()
w.check_panel.show()
w.check_panel.list.setFocus()
press(14)
out["( in the findings"] = label()
for name, field in (("track", w.attributes.track), ("filter", w.objects_header.filter)):
    field.setFocus()
    field.clear()
    for code, mods in ((13, (SHIFT,)), (11, ()), (14, (SHIFT,)), (10, ())):
        press(code, *mods)
    out[name] = field.text()
out["after typing"] = label()
w.objects_header.filter.clear()
w.bev.setFocus()
camera = w.cameras.views["cam_front"]
camera.view_zoom.zoom_at(4.0, (40.0, 30.0), camera.image_size(), camera.view_size())
press(19, CTRL)
out["Ctrl+à zoomed"] = camera.view_zoom.zoomed
out["frames"] = [s.frame]
for code, mods in ((59, (SHIFT,)), (59, ()), (60, ()), (58, ())):
    press(code, *mods)
    out["frames"].append(s.frame)
w.close()
project.close()
print(json.dumps(out))
"""


@linux_only
def test_real_azerty_key_presses_on_x11(tmp_path):
    """The number row and `.` on an AZERTY keyboard, pressed for real on X11: the class keys by
    their place from the views, a choice box and a list; digits and AZERTY's characters typed in
    text fields; `.` (Shift+;) steps a frame, `,` steps back, `;` and `:` do nothing."""
    import ctypes.util
    import select
    import shutil
    import subprocess
    from pathlib import Path

    xvfb = shutil.which("Xvfb")
    if xvfb is None or ctypes.util.find_library("Xtst") is None:
        pytest.skip("needs Xvfb and libXtst (XTest)")
    read, write = os.pipe()
    server = subprocess.Popen([xvfb, "-displayfd", str(write), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                              pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        assert select.select([read], [], [], 30)[0], "Xvfb did not start"
        display = os.read(read, 32).decode().strip()
        root = str(Path(fusionlabel.__file__).resolve().parents[1])      # this checkout's code
        env = dict(os.environ, DISPLAY=f":{display}", QT_QPA_PLATFORM="xcb", PYTHONPATH=root)
        run = subprocess.run([sys.executable, "-c", REAL_AZERTY, str(tmp_path)], capture_output=True, text=True,
                             timeout=120, env=env)
    finally:
        os.close(read)
        server.terminate()
        server.wait(10)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    key = out["classes"].get
    assert (out["é"], out["Shift+'"], out['" in the class box'], out["( in the findings"]) == (
        key("2"), key("4"), key("3"), key("5"))
    assert out["track"] == out["filter"] == "4é5&" and out["after typing"] == key("5")
    assert out["Ctrl+à zoomed"] is False
    assert out["frames"] == [0, 1, 1, 1, 0]


@linux_only
def test_ctrl_on_the_azerty_zero_key_fits_the_cameras(window):
    view = window.cameras.views["cam_front"]
    view.view_zoom.zoom_at(4.0, (40.0, 30.0), view.image_size(), view.view_size())
    assert view.view_zoom.zoomed
    native_key(window.bev, "", 19, Qt.KeyboardModifier.ControlModifier)     # Ctrl+à: Ctrl+0
    assert not view.view_zoom.zoomed


def test_number_row_places_on_windows_and_macos():
    from fusionlabel.app.number_row import number_row_digit

    # PC scan codes 0x02 … 0x0B; macOS kVK_ANSI_1 … kVK_ANSI_0 (HIToolbox Events.h)
    assert [number_row_digit(c, 0, system="win32") for c in range(2, 12)] == list("1234567890")
    mac = (0x12, 0x13, 0x14, 0x15, 0x17, 0x16, 0x1A, 0x1C, 0x19, 0x1D)
    assert [number_row_digit(1, v, system="darwin") for v in mac] == list("1234567890")
    assert number_row_digit(1, 0x00, system="darwin") is None       # kVK_ANSI_A
    assert number_row_digit(30, 0, system="win32") is None           # A
    assert number_row_digit(38, 0, system="linux") is None           # A
    assert number_row_digit(12, 0, 0x80, system="linux") is None     # AltGr


def test_alt_arrows_jump_along_the_track_as_the_brackets_do(qtbot, window):
    s = window.session
    ann = next(a for a in s.annotations() if len(s.document.track_frames(a.label.track_id)) > 1)
    s.select((ann.uid,))
    qtbot.keyClick(window.bev, Qt.Key.Key_BracketRight)
    by_bracket = (s.frame, s.selection)
    assert by_bracket[0] > 0
    s.set_frame(0)
    testing.wait_for_frame(window, 0)
    s.select((ann.uid,))
    qtbot.keyClick(window.bev, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert (s.frame, s.selection) == by_bracket
    qtbot.keyClick(window.bev, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert s.frame == 0 and s.selection == (ann.uid,)


def test_shift_backspace_deletes_the_track_from_here_as_shift_del(qtbot, window):
    s = window.session
    ann = next(a for a in s.annotations() if len(s.document.track_frames(a.label.track_id)) > 1)
    tid = ann.label.track_id
    s.select((ann.uid,))
    qtbot.keyClick(window.bev, Qt.Key.Key_Backspace, Qt.KeyboardModifier.ShiftModifier)
    assert s.document.track_frames(tid) == []
    assert s.messages[-1].text.startswith("Deleted ") and f"of track {tid}" in s.messages[-1].text


# ---------------------------------------------------------------- the ? help
def help_keys(window) -> str:
    return " / ".join(keys for _, keys, _ in window.help_overlay.lines())


def test_the_help_lists_every_key_bound_in_the_code(window):
    listed = help_keys(window).split(" / ")
    for action in window.shortcut_actions.values():                 # every window shortcut, as Qt holds it
        for seq in action.shortcuts():
            assert seq.toString(QKeySequence.SequenceFormat.PortableText) in listed, action.text()
    # every key a widget reads itself: the *_KEY constants of the app's modules
    for info in pkgutil.iter_modules(fusionlabel.app.__path__):
        module = importlib.import_module(f"fusionlabel.app.{info.name}")
        for name, value in vars(module).items():
            if name.endswith("_KEY") and name.isupper() and isinstance(value, str):
                assert value in listed, f"{info.name}.{name} = {value!r} is not in the ? help"


def rows_of(pages):
    return [(r.group, r.keys, r.description) for page in pages for r in page]


@pytest.mark.parametrize("size", [(1366, 768), (1280, 720), (1280, 600), (1600, 1000)])
def test_the_help_is_legible_and_every_row_fits_the_window(window, size):
    help_ = window.help_overlay
    pt, pages = help_.layout(*size)
    assert pt >= 9                                                  # never below 9 pt
    assert rows_of(pages) == help_.lines()                         # every row once, in order
    fm = QFontMetrics(QFont(help_.font().family(), pt))
    for page in pages:
        bottom = {}
        for r in page:
            top = r.y - (fm.lineSpacing() if r.header else 0)
            assert top >= bottom.get(r.x, 0), r                        # no row over the one above
            for text, width in ((r.keys, r.keys_w - 8), (r.description, r.desc_w - 8)):
                box = fm.boundingRect(QRect(0, 0, max(width, 1), 10_000), int(Qt.TextFlag.TextWordWrap), text)
                assert box.width() <= width and box.height() <= r.height, (text, width)
            assert 0 <= r.x and r.x + r.keys_w + r.desc_w <= size[0], r
            assert r.y + r.height <= size[1], r
            bottom[r.x] = r.y + r.height
    if size == (1600, 1000):
        assert len(pages) == 1


def test_the_help_pages_turn_with_keys_that_do_not_edit(qtbot, window):
    s = window.session
    ann = s.annotations()[0]
    s.select((ann.uid,))
    box = s.document.get(ann.uid).box
    window.resize(1280, 720)
    qtbot.keyClick(window.bev, Qt.Key.Key_F1)
    help_ = window.help_overlay
    assert help_.isVisible() and help_.page_count() > 1 and help_.page == 0
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_PageDown)
    assert help_.isVisible() and help_.page == 1
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Left)
    assert help_.isVisible() and help_.page == 0
    assert s.document.get(ann.uid).box == box                      # PgDown / ← nudged nothing
    frame = s.frame
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_D)       # any other key closes it, only
    assert not help_.isVisible() and s.frame == frame
