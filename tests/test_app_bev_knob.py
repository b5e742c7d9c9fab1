"""The bird's-eye rotate knob is no bigger than a small box needs, and grabbed by the size it is
drawn at (pytest-qt, offscreen)."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import QPoint, QPointF, Qt  # noqa: E402

from fusionlabel.app import testing  # noqa: E402
from fusionlabel.app.box_edit import bev_handle_points  # noqa: E402
from fusionlabel.geometry.cuboid import Cuboid  # noqa: E402
from fusionlabel.model.commands import Batch, CreateCuboid  # noqa: E402
from fusionlabel.model.annotation import CuboidLabel  # noqa: E402

pytestmark = pytest.mark.gui


def add_box(session, centre, cls):
    """A cuboid of class ``cls`` (its default size) heading along the LiDAR's +x, as one command."""
    size = session.ontology.get(cls).default_size
    session.apply(Batch((CreateCuboid(session.frame, CuboidLabel(Cuboid(centre, size), cls)),), "test box"))
    return session.annotations()[-1]


def knob_across(bev, ann) -> tuple[np.ndarray, np.ndarray, int]:
    """(knob centre on screen, the unit vector across the heading on screen, the knob's width in
    pixels measured there): the run of pixels that selecting the box changes, through the centre."""
    s = bev.session
    centre = bev.to_screen(bev_handle_points(ann.box)["rotate"][None])[0]
    ahead = bev.to_screen(np.array([ann.box.center[:2]]))[0]
    along = (centre - ahead) / np.linalg.norm(centre - ahead)
    across = np.array([-along[1], along[0]])
    s.select(())
    plain = testing.widget_pixels(bev).astype(int)
    s.select((ann.uid,))
    chosen = testing.widget_pixels(bev).astype(int)
    run = 0
    for sign in (1, -1):
        for d in range(1 if sign > 0 else 0, 20):
            x, y = np.round(centre + sign * d * across).astype(int)
            if np.abs(chosen[y, x] - plain[y, x]).max() <= 30:
                break
            run += 1
    return centre, across, run


@pytest.fixture
def bev(qtbot, labelless_window):
    w = labelless_window
    w.bev.center, w.bev.scale = np.array([12.0, 0.0]), 8.0   # the usual zoom: 8 pixels per metre
    w.session.set_layer("box_labels", False)      # labels move with the selection: none to measure by
    return w.bev


def test_a_pedestrians_knob_is_no_wider_than_needed_and_a_cars_unchanged(bev):
    """At 8 px/m a pedestrian (0.6 m wide: ~5 px) had a knob 13 px across, more than twice its
    size; now it is 8 px, still easy to grab. A car's (1.9 m wide: 15 px) stays 13 px."""
    s = bev.session
    ped = add_box(s, (12.0, 3.0, -1.0), "pedestrian")
    car = add_box(s, (12.0, -6.0, -1.0), "car")
    ped_px = min(ped.box.length, ped.box.width) * bev.scale
    _, _, ped_knob = knob_across(bev, ped)
    _, _, car_knob = knob_across(bev, car)
    assert ped_px < 6 and 7 <= ped_knob <= 9, (ped_px, ped_knob)
    assert 12 <= car_knob <= 14, car_knob


def test_the_knob_is_grabbed_by_the_size_it_is_drawn_at(qtbot, bev):
    """The knob made smaller stays draggable: a press on the drawn knob's edge grabs it and a drag
    turns the box, while a press more than a couple of pixels beyond what is drawn does not (the
    reach follows the size drawn: a fixed 8 px would take a press 4 px off a 4 px knob)."""
    s = bev.session
    ped = add_box(s, (12.0, 3.0, -1.0), "pedestrian")
    centre, across, width = knob_across(bev, ped)
    radius = width / 2.0
    assert bev.hit(QPointF(*(centre + (radius - 0.5) * across)))[0] == "rotate"
    assert bev.hit(QPointF(*(centre + (radius + 3.5) * across))) in (None, ("box", ped.uid))
    # drag from the knob's edge a quarter turn about the box's centre
    c = bev.to_screen(np.array([ped.box.center[:2]]))[0]
    start = centre + (radius - 0.5) * across
    r = np.linalg.norm(start - c)
    a0 = math.atan2(start[1] - c[1], start[0] - c[0])
    qtbot.mousePress(bev, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(*np.round(start).astype(int)))
    for t in np.linspace(0.0, 1.0, 13)[1:]:
        a = a0 - t * math.pi / 2     # counter-clockwise on screen (y down)
        qtbot.mouseMove(bev, QPoint(*np.round(c + r * np.array([math.cos(a), math.sin(a)])).astype(int)))
    end = c + r * np.array([math.cos(a0 - math.pi / 2), math.sin(a0 - math.pi / 2)])
    qtbot.mouseRelease(bev, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(*np.round(end).astype(int)))
    turned = s.annotations()[-1].box
    assert abs(abs(math.degrees(turned.yaw - ped.box.yaw)) - 90.0) < 8.0, math.degrees(turned.yaw)
    assert s.document.history()[-1].startswith("Rotate")
