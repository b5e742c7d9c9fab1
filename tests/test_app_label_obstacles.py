"""What box labels keep clear of in the 2D views (pytest-qt, offscreen): no other label over the
selected cuboid in a camera or the bird's-eye view, no label over the selected box's rotate knob,
and no ring distance over a cuboid."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import QPointF  # noqa: E402

from conftest import app_project, app_window  # noqa: E402
from fusionlabel.app.box_edit import bev_handle_points  # noqa: E402
from fusionlabel.geometry.cuboid import EDGES, Cuboid  # noqa: E402
from fusionlabel.geometry.cuboid_projection import cuboid_wireframe_pixels  # noqa: E402
from fusionlabel.model.annotation import CuboidLabel  # noqa: E402
from fusionlabel.model.commands import Batch, CreateCuboid  # noqa: E402
from fusionlabel.render.label_layout import overlaps  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture
def bare_window(qtbot, tmp_path):
    """A window on a project without labels (the test adds the boxes it needs)."""
    for p in app_project(tmp_path, import_labels=False):
        yield from app_window(qtbot, p)


def add(session, boxes) -> list:
    """Cuboids of (class, centre) with their class's default size, made in one step."""
    made = [CuboidLabel(Cuboid(c, session.ontology.get(cls).default_size), cls) for cls, c in boxes]
    session.apply(Batch(tuple(CreateCuboid(session.frame, lab) for lab in made), "test boxes"))
    return session.annotations()[-len(made):]


def camera_extent(view, ann) -> tuple:
    """The cuboid's outline's bounding rectangle on screen, computed here from its corners through
    the camera's lens model and the view's zoom."""
    cam = view.cam
    corners = ann.box.corners() @ cam.T_cam_lidar[:3, :3].T + cam.T_cam_lidar[:3, 3]
    uv = np.concatenate(cuboid_wireframe_pixels(corners, cam.camera, edges=EDGES))
    lo, hi = view.image_to_screen(uv.min(axis=0)), view.image_to_screen(uv.max(axis=0))
    return (lo.x(), lo.y(), hi.x() - lo.x(), hi.y() - lo.y())


def bev_extent(bev, ann) -> tuple:
    """The cuboid's footprint's bounding rectangle in the bird's-eye view."""
    q = bev.to_screen(ann.box.bev_polygon())
    lo, hi = q.min(axis=0), q.max(axis=0)
    return (float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1]))


def shrunk(rect, by: float = 1.0) -> tuple:
    """``rect`` a pixel smaller on each side (rounding of the outline's ends)."""
    x, y, w, h = rect
    return (x + by, y + by, w - 2 * by, h - 2 * by)


def test_no_other_label_hides_the_selected_cuboid_in_a_camera(qtbot, bare_window):
    """A truck 12 m ahead, selected, with a crowd of pedestrians behind and beside it: their labels'
    usual places are on the truck. In the front camera none of the other labels overlaps the
    truck's outline; the truck keeps its own label (before, "pedestrian" chips were put on the
    truck as soon as the spots around were taken, as on the nuScenes keyframe)."""
    w = bare_window
    s = w.session
    view = w.cameras.views["cam_front"]
    truck = add(s, [("truck", (12.0, 0.0, -0.2))])[0]
    peds = add(s, [("pedestrian", (16.0 + 0.7 * (i % 3), -2.0 + 0.5 * i, -1.0)) for i in range(9)])
    s.select((truck.uid,))
    view.grab()
    extent = camera_extent(view, truck)
    assert truck.uid in view.label_rects
    others = {a.uid: view.label_rects[a.uid] for a in peds if a.uid in view.label_rects}
    assert others, "no pedestrian labelled at all"
    on_truck = [r for r in others.values() if overlaps(r, shrunk(extent))]
    assert not on_truck, (extent, on_truck)
    # The pedestrians' boxes lie inside the truck's outline: their labels that are drawn sit outside it
    # with a line from their box.
    for uid, rect in others.items():
        if uid in view.leader_lines:
            start, end = view.leader_lines[uid]
            assert not overlaps(rect, shrunk(extent))
    # Another selection: the truck's cover is lifted, the pedestrian's is kept clear instead.
    s.select((peds[4].uid,))
    view.grab()
    ped_extent = camera_extent(view, peds[4])
    assert all(not overlaps(r, shrunk(ped_extent, 0.5)) for uid, r in view.label_rects.items() if uid != peds[4].uid)


def test_no_other_label_hides_the_selected_cuboid_in_the_birds_eye_view(qtbot, bare_window):
    """A truck selected with two columns of pedestrians beside it on its left: the labels placed
    above-right of the pedestrians would lie on the truck; none of them does."""
    w = bare_window
    s = w.session
    bev = w.bev
    truck = add(s, [("truck", (12.0, 0.0, -0.2))])[0]
    peds = add(s, [("pedestrian", (8.0 + 0.9 * i, 2.3 + 1.0 * (i % 2), -1.0)) for i in range(10)])
    s.select((truck.uid,))
    bev.center, bev.scale = np.array([12.0, 0.0]), 10.0
    bev.grab()
    extent = bev_extent(bev, truck)
    assert truck.uid in bev.label_rects
    others = [bev.label_rects[a.uid] for a in peds if a.uid in bev.label_rects]
    assert len(others) >= 3
    assert all(not overlaps(r, shrunk(extent)) for r in others), (extent, others)


def test_the_selected_boxs_label_keeps_off_its_rotate_knob(qtbot, bare_window):
    """A truck heading up the view, selected: its label's usual place (above-right of the
    footprint's top corner) is where the rotate knob sits in front of it; the label goes elsewhere,
    and no other label covers the knob either."""
    w = bare_window
    s = w.session
    bev = w.bev
    truck = add(s, [("truck", (12.0, 0.0, -0.2))])[0]
    s.select((truck.uid,))
    bev.center, bev.scale = np.array([12.0, 0.0]), 4.0
    bev.grab()
    knob = bev.to_screen(bev_handle_points(truck.box)["rotate"])[0]   # where the knob is, computed here
    r = 6.0
    knob_rect = (float(knob[0]) - r, float(knob[1]) - r, 2 * r, 2 * r)
    assert not overlaps(bev.label_rects[truck.uid], knob_rect), (bev.label_rects[truck.uid], knob_rect)
    # a neighbour whose label would sit on the knob too
    ped = add(s, [("pedestrian", (truck.box.center[0] + 6.3, 1.4, -1.0))])[0]
    s.select((truck.uid,))
    bev.grab()
    assert truck.uid in bev.label_rects and ped.uid in bev.label_rects
    for uid, rect in bev.label_rects.items():
        assert not overlaps(rect, knob_rect), (uid, rect, knob_rect)
    assert len(bev.knob_rects) == 1 and overlaps(bev.knob_rects[0], knob_rect)   # what the view keeps clear


def test_ring_distances_keep_off_the_cuboids(qtbot, bare_window):
    """A box right where the 10 m ring's distance is written (its label out of the way: labels
    off): the distance moves along its ring, off the box; before, it was written over the box
    (KITTI 000001: "70 m" over a truck)."""
    w = bare_window
    bev = w.bev
    bev.center, bev.scale = np.array([0.0, 0.0]), 12.0
    bev.grab()
    x, y, cw, ch = bev.ring_captions[10.0]
    spot = bev.to_world(QPointF(x + cw / 2, y + ch / 2))
    ann = add(w.session, [("car", (*spot, -1.0))])[0]
    for labels in (False, True):
        w.session.set_layer("box_labels", labels)
        bev.grab()
        extent = bev_extent(bev, ann)
        assert overlaps(extent, (x, y, cw, ch))        # the box is where the distance used to be
        moved = bev.ring_captions.get(10.0)
        assert moved is not None and moved != (x, y, cw, ch)
        assert all(not overlaps(rect, extent) for rect in bev.ring_captions.values()), (extent, bev.ring_captions)
