"""Legibility of what the views write: the message banner keeps clear of the bird's-eye view's
caption, box labels read on a black background in every class colour, and a camera label does not
cover its own cuboid when a spot beside it is free (pytest-qt)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from fusionlabel.app.label_layout import overlaps  # noqa: E402

pytestmark = pytest.mark.gui


def test_the_message_banner_leaves_the_bird_s_eye_caption_readable(qtbot, window):
    s, bev = window.session, window.bev
    s.read_only, s.focus = True, True        # a caption of three lines: ... READ-ONLY, FOCUS
    bev.grab()
    s.notify("another fusionlabel process has this project open; opened read-only", "warning")
    assert window.toast.isVisible()
    top_left = bev.mapFrom(window, window.toast.pos())
    banner = (top_left.x(), top_left.y(), window.toast.width(), window.toast.height())
    bev.grab()
    caption = bev.hud_rect                    # as drawn
    assert caption[3] > 30 and not overlaps(banner, caption), (banner, caption)
