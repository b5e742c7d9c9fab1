"""Box labels in the camera views, placed apart as the bird's-eye view and ``fusionlabel render``
place theirs: beside the box, else a few lines away with a leader line (pytest-qt, offscreen)."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from fusionlabel.app import testing  # noqa: E402
from fusionlabel.app.styles import label_text_rgb  # noqa: E402
from fusionlabel.geometry.cuboid import EDGES, Cuboid  # noqa: E402
from fusionlabel.geometry.cuboid_projection import cuboid_wireframe_pixels  # noqa: E402
from fusionlabel.model.annotation import CuboidLabel  # noqa: E402
from fusionlabel.model.commands import Batch, CreateCuboid, DeleteCuboids  # noqa: E402
from fusionlabel.render.label_layout import GAP, overlaps  # noqa: E402

pytestmark = pytest.mark.gui




def add_row(session, n: int, ahead: float, spacing: float) -> list:
    """``n`` pedestrians in a row across the road ``ahead`` metres in front, ``spacing`` apart."""
    size = session.ontology.get("pedestrian").default_size
    centres = [(ahead + 0.3 * (i % 2), spacing * ((n - 1) / 2 - i), -1.0) for i in range(n)]
    session.apply(Batch(tuple(CreateCuboid(session.frame, CuboidLabel(Cuboid(c, size), "pedestrian"))
                              for c in centres), "a row of pedestrians"))
    return session.annotations()[-n:]


def box_top(view, ann) -> tuple[float, float]:
    """Where the box's label is anchored on screen, computed here from the cuboid's corners: the
    topmost point of its outline as the camera sees it (lens model), through the view's zoom."""
    cam = view.cam
    corners = ann.box.corners() @ cam.T_cam_lidar[:3, :3].T + cam.T_cam_lidar[:3, 3]
    uv = np.concatenate(cuboid_wireframe_pixels(corners, cam.camera, edges=EDGES))
    top = view.image_to_screen(uv[np.argmin(uv[:, 1])])
    return top.x(), top.y()


def gap_to(point, rect) -> float:
    """Distance from ``point`` to the nearest point of ``rect``."""
    x, y, w, h = rect
    return float(np.hypot(point[0] - min(max(point[0], x), x + w), point[1] - min(max(point[1], y), y + h)))


def check_labels(view, anns, color) -> None:
    """Every box of ``anns`` labelled; the labels inside the part of the view the image covers, none
    over another or over the caption; each label of ``anns`` beside its box's top, else with a
    leader line from there to it, drawn in the box's colour, and its text drawn (in its colour, on
    its chip)."""
    r = view.visible_rect()
    bounds = (r.x(), r.y(), r.width(), r.height())
    rects, lines = view.label_rects, view.leader_lines
    assert {a.uid for a in anns} <= set(rects), f"{len(set(rects) & {a.uid for a in anns})} of {len(anns)} labelled"
    drawn = [*rects.values(), view.caption_rect]
    assert not any(overlaps(a, b) for i, a in enumerate(drawn) for b in drawn[i + 1:]), drawn
    for x, y, w, h in rects.values():
        assert bounds[0] - 1e-6 <= x and x + w <= bounds[0] + bounds[2] + 1e-6
        assert bounds[1] - 1e-6 <= y and y + h <= bounds[1] + bounds[3] + 1e-6
    pixels = testing.widget_pixels(view).astype(int)
    view.session.set_layer("box_labels", False)   # the same picture without labels and lines
    plain = testing.widget_pixels(view).astype(int)
    view.session.set_layer("box_labels", True)
    view.grab()
    assert (view.label_rects, view.leader_lines) == (rects, lines)
    text_rgb = np.array(label_text_rgb(tuple(int(c) for c in color)))
    line_px = []
    for a in anns:
        rect, top = rects[a.uid], box_top(view, a)
        x, y, w, h = (int(round(v)) for v in rect)
        chip = pixels[y + 1:y + h - 1, x + 1:x + w - 1].reshape(-1, 3)
        assert (np.abs(chip - text_rgb).max(axis=1) < 40).sum() >= 10, f"no text in {a.track_id}'s label"
        if gap_to(top, rect) <= 2 * GAP + 1.0:
            assert a.uid not in lines
            continue
        assert a.uid in lines, f"{a.track_id}'s label {rect} is away from its box {top} without a line"
        start, end = lines[a.uid]
        assert np.hypot(start[0] - top[0], start[1] - top[1]) < 1.5    # from the top of its box ...
        assert gap_to(end, rect) < 1.0                                  # ... to its label
        for t in np.linspace(0.1, 0.9, 9):   # in the box's colour where no label is drawn over it
            u, v = (int(round(p + t * (q - p))) for p, q in zip(start, end))
            if not any(overlaps((u - 2, v - 2, 4, 4), o) for o in rects.values()):
                on, off = (np.abs(im[v - 1:v + 2, u - 1:u + 2].reshape(-1, 3) - color).max(axis=1).min() < 60
                           for im in (pixels, plain))
                if not off:   # (not where the box's own outline is)
                    line_px.append(on)
    if lines:
        assert len(line_px) >= min(5, 2 * len(lines)) and np.mean(line_px) >= 0.8, line_px


def test_crowded_camera_labels_are_moved_apart_with_leader_lines(qtbot, labelless_window):
    """Nine pedestrians 0.8 m apart in a row 20 m ahead: in the front camera their labels collide.
    Every one is labelled (before, 3 of the 9 were left out), none over another; each label moved
    away from its box has a line in the box's colour from the top of the box to it. The selected
    pedestrian's label sits beside its box, whichever is selected; the nearest box, when none is,
    keeps its spot too. Labels are placed anew when the camera zooms, pans and the selection
    changes."""
    w = labelless_window
    s = w.session
    s.set_layer("camera_points", False)   # the points' colours could pass for the lines'
    view = w.cameras.views["cam_front"]
    anns = add_row(s, 9, 20.0, 0.8)
    color = np.array(s.ontology.get("pedestrian").color)
    view.grab()
    check_labels(view, anns, color)
    assert 1 <= len(view.leader_lines) < 9
    eye = -view.cam.T_cam_lidar[:3, :3].T @ view.cam.T_cam_lidar[:3, 3]   # the camera in the LiDAR frame
    nearest = min(anns, key=lambda a: float(np.linalg.norm(np.asarray(a.box.center) - eye)))
    assert nearest.uid not in view.leader_lines
    for a in (anns[4], anns[0], anns[8]):
        s.select((a.uid,))
        view.grab()
        check_labels(view, anns, color)
        assert gap_to(box_top(view, a), view.label_rects[a.uid]) <= 2 * GAP + 1.0   # beside its box
    # Zoomed in on the row, then panned: the labels follow the boxes, inside what the view shows.
    s.select((anns[4].uid,))
    middle = np.mean([box_top(view, a) for a in anns], axis=0)
    view.view_zoom.zoom_at(2.0, tuple(middle), view.image_size(), view.view_size())
    for dx, dy in ((0.0, 0.0), (-40.0, 15.0)):
        view.view_zoom.pan(dx, dy, view.image_size(), view.view_size())
        before = dict(view.label_rects)
        view.grab()
        seen = [a for a in anns if view.visible_rect().contains(*box_top(view, a))]
        assert len(seen) >= 5 and anns[4] in seen
        check_labels(view, seen, color)
        assert view.label_rects != before
        assert gap_to(box_top(view, anns[4]), view.label_rects[anns[4].uid]) <= 2 * GAP + 1.0


def test_two_colliding_camera_labels_are_apart_and_the_moved_one_leads_to_its_box(qtbot, labelless_window):
    """Two pedestrians side by side 25 m ahead, the left one selected: the right one's label cannot
    go beside its box (the selected label takes the place above it and on its left), so it goes a
    line higher, apart from the other, with a line from its box to it (before, it floated there with
    nothing saying whose it was)."""
    w = labelless_window
    s = w.session
    s.set_layer("camera_points", False)
    view = w.cameras.views["cam_front"]
    size = s.ontology.get("pedestrian").default_size
    s.apply(Batch(tuple(CreateCuboid(s.frame, CuboidLabel(Cuboid(c, size), "pedestrian"))
                        for c in ((25.0, 0.25, -1.0), (25.0, -0.25, -1.0))), "two pedestrians"))
    left, right = s.annotations()[-2:]
    s.select((left.uid,))
    view.grab()
    check_labels(view, [left, right], np.array(s.ontology.get("pedestrian").color))
    assert gap_to(box_top(view, left), view.label_rects[left.uid]) <= 2 * GAP + 1.0
    assert right.uid in view.leader_lines


# ---------------------------------------------------------------- no label over the selected cuboid
def add_boxes(session, boxes) -> list:
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


def shrunk(rect, by: float = 1.0) -> tuple:
    """``rect`` a pixel smaller on each side (rounding of the outline's ends)."""
    x, y, w, h = rect
    return (x + by, y + by, w - 2 * by, h - 2 * by)


def test_no_other_label_hides_the_selected_cuboid_in_a_camera(qtbot, labelless_window):
    """A truck 12 m ahead, selected, with a crowd of pedestrians behind and beside it: their labels'
    usual places are on the truck. In the front camera none of the other labels overlaps the
    truck's outline; the truck keeps its own label (before, "pedestrian" chips were put on the
    truck as soon as the spots around were taken, as on the nuScenes keyframe)."""
    w = labelless_window
    s = w.session
    view = w.cameras.views["cam_front"]
    truck = add_boxes(s, [("truck", (12.0, 0.0, -0.2))])[0]
    peds = add_boxes(s, [("pedestrian", (16.0 + 0.7 * (i % 3), -2.0 + 0.5 * i, -1.0)) for i in range(9)])
    s.select((truck.uid,))
    view.grab()
    extent = camera_extent(view, truck)
    assert truck.uid in view.label_rects
    others = {a.uid: view.label_rects[a.uid] for a in peds if a.uid in view.label_rects}
    assert others, "no pedestrian labelled at all"
    on_truck = [r for r in others.values() if overlaps(r, shrunk(extent))]
    assert not on_truck, (extent, on_truck)
    # Those whose box lies in the truck's outline lead out from under it with a line.
    assert any(uid in view.leader_lines for uid in others)
    # Another selection: the truck's cover is lifted, the pedestrian's is kept clear instead.
    s.select((peds[4].uid,))
    view.grab()
    ped_extent = camera_extent(view, peds[4])
    assert all(not overlaps(r, shrunk(ped_extent, 0.5)) for uid, r in view.label_rects.items() if uid != peds[4].uid)


# ---------------------------------------------------------------- how many labels were left out
def test_a_camera_says_how_many_labels_it_left_out(qtbot, labelless_window):
    """Thirty pedestrians 0.4 m apart in a row 15 m ahead: the front camera cannot place every
    label; a chip at a corner of the image says how many it left out (counted here from the boxes
    it shows and the labels it drew), inside the image, over no label and not the caption, drawn
    as light text on a dark chip (before, nothing said so; ``fusionlabel render`` counts them in its
    caption). With two pedestrians every label is placed and no chip is drawn."""
    w = labelless_window
    s = w.session
    s.set_layer("camera_points", False)
    view = w.cameras.views["cam_front"]
    anns = add_row(s, 30, 15.0, 0.4)
    view.grab()
    shown = {a.uid for a, _ in view.wireframes()}
    left = shown - set(view.label_rects)
    assert len(shown) >= 20 and left, (len(shown), len(left))
    assert getattr(view, "left_out_note", None) == f"{len(left)} labels left out"
    chip = view.left_out_rect
    r = view.visible_rect()
    assert r.x() - 1e-6 <= chip[0] and chip[0] + chip[2] <= r.right() + 1e-6
    assert r.y() - 1e-6 <= chip[1] and chip[1] + chip[3] <= r.bottom() + 1e-6
    assert not any(overlaps(chip, t) for t in [*view.label_rects.values(), view.caption_rect]), chip
    pixels = testing.widget_pixels(view).astype(int)
    x, y, cw, ch = (int(round(v)) for v in chip)
    inner = pixels[y + 1:y + ch - 1, x + 1:x + cw - 1].reshape(-1, 3)
    assert np.median(inner.max(axis=1)) < 60 and (inner.min(axis=1) > 150).sum() >= 10
    s.apply(DeleteCuboids(tuple(a.uid for a in anns[2:])))                 # two pedestrians left
    view.grab()
    assert set(view.label_rects) >= {a.uid for a in anns[:2]}
    assert view.left_out_note is None and view.left_out_rect is None
