"""The OpenGL 3D view under a real X display (Xvfb in CI): points are drawn, clicking a cuboid
selects it and labels it, dragging orbits without selecting. Runs in a subprocess on the display,
because the other app tests use the offscreen platform, which has no OpenGL; skips cleanly without
a display or without OpenGL."""

from __future__ import annotations

import textwrap

import pytest

from conftest import run_on_display
from fusionlabel.render.label_layout import GAP, LabelRequest, place_labels

pytest.importorskip("PyQt6")
pytest.importorskip("pyqtgraph")

pytestmark = pytest.mark.gui

SCRIPT = textwrap.dedent(r"""
    import json, sys, tempfile
    import numpy as np
    from PyQt6.QtCore import QPoint, Qt
    from PyQt6.QtGui import QImage
    from PyQt6.QtTest import QTest
    from PyQt6.QtWidgets import QApplication
    app = QApplication([])
    from fusionlabel.app import testing
    from fusionlabel.app.qt_util import annotation_color, box_label
    from fusionlabel.app.styles import label_text_rgb
    out = {}

    def grab(panel):
        img = panel.grab_image().convertToFormat(QImage.Format.Format_RGBA8888)
        raw = np.frombuffer(img.constBits().asstring(img.sizeInBytes()), np.uint8)
        return raw.reshape(img.height(), -1, 4)

    def coloured(arr, rect, rgb):  # pixels inside rect (x, y, w, h) within 40 of rgb in every channel
        x, y, w, h = (int(round(c)) for c in rect)
        region = arr[y:y + h, x:x + w, :3].astype(int)
        return int((np.abs(region - np.asarray(rgb)).max(axis=2) <= 40).sum())

    with tempfile.TemporaryDirectory() as tmp:
        project, w = testing.gl_window_or_skip(tmp, import_labels=True)
        s, v = w.session, w.view3d
        arr = grab(w.view3d_panel)
        out["labels_unselected"] = len(v.label_rects)
        out["lit_pixels"] = int((arr[..., :3].max(axis=2) > 60).sum())
        # The cuboid nearest to the 3D camera whose centre is on screen; click its centre.
        cam = np.asarray(v.cameraPosition())
        best = None
        for ann in s.annotations():
            uv, front = v.screen_points(np.asarray(ann.box.center)[None])
            u, q = uv[0]
            if front[0] and 5 < u < v.width() - 5 and 5 < q < v.height() - 5:
                d = float(np.linalg.norm(np.asarray(ann.box.center) - cam))
                if best is None or d < best[0]:
                    best = (d, ann.uid, (int(u), int(q)))
        out["target"] = best[1]
        QTest.mouseClick(v, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(*best[2]))
        out["selected"] = list(s.selection)
        s.set_layer("boxes", False)  # hidden with B: nothing to pick
        out["picked_hidden"] = v.pick(*best[2])
        s.set_layer("boxes", True)
        # Its label: inside the view, in its class colour, centred on the top face above the outline.
        after = grab(w.view3d_panel)
        ann = next(a for a in s.annotations() if a.uid == best[1])
        rect = v.label_rects.get(best[1])
        out["label_rect"], out["view_size"] = rect, [v.width(), v.height()]
        if rect is not None:
            corners = s.display_box(ann).corners()
            uv, _ = v.screen_points(np.vstack([corners, corners[4:].mean(axis=0)]))
            out["label_dx"] = rect[0] + rect[2] / 2 - float(uv[8, 0])
            out["label_dy"] = float(uv[:8, 1].min()) - (rect[1] + rect[3])
            rgb = label_text_rgb(annotation_color(s.ontology, ann.cls).getRgb()[:3])   # as labels write it
            out["label_pixels"] = [coloured(arr, rect, rgb), coloured(after, rect, rgb)]
            out["label_text"], out["label_width"] = box_label(ann), rect[2]
        az = v.opts["azimuth"]
        QTest.mousePress(v, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(200, 200))
        for x in range(210, 320, 10):
            QTest.mouseMove(v, QPoint(x, 200))
        QTest.mouseRelease(v, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(320, 200))
        out["orbited"] = v.opts["azimuth"] != az
        out["selected_after_orbit"] = list(s.selection)
        grab(w.view3d_panel)   # the repaint the orbit asked for (it comes from the event loop)
        out["label_moved_with_orbit"] = v.label_rects.get(best[1]) not in (None, rect)
        # Keys still reach the main window's shortcuts after clicking in the 3D view.
        out["active_after_clicks"] = QApplication.activeWindow() is w
        QTest.keyClick(w.bev, Qt.Key.Key_Q)
        out["rotated_by_key"] = s.document.undo_text().startswith("Rotate")
        w.close(); project.close()
    print(json.dumps(out))
""")


def test_view3d_draws_and_picks_under_a_display():
    out = run_on_display(SCRIPT)
    assert out["lit_pixels"] > 2000
    assert out["selected"] == [out["target"]]
    assert out["picked_hidden"] is None
    assert out["labels_unselected"] == 0  # no label before anything is selected
    assert out["label_rect"] is not None, "the selected cuboid has no label in the 3D view"
    x, y, w, h = out["label_rect"]
    vw, vh = out["view_size"]
    assert 0 <= x and x + w <= vw and 0 <= y and y + h <= vh
    assert w > 3 * len(out["label_text"])  # sized for its text
    if 0 < x and x + w < vw and 0 < y:  # not pushed in from an edge: centred just above the anchor
        assert abs(out["label_dx"]) < 1.0 and 0 <= out["label_dy"] < 6
    before, after = out["label_pixels"]
    assert after >= 15 and after > 3 * before, out["label_pixels"]  # the text, in the class colour
    assert out["label_moved_with_orbit"]
    assert out["orbited"] and out["selected_after_orbit"] == [out["target"]]
    assert out["active_after_clicks"] and out["rotated_by_key"]


def test_centred_label_goes_above_its_anchor_and_stays_in_view():
    bounds = (0.0, 0.0, 300.0, 200.0)
    centred = place_labels([LabelRequest((100.0, 100.0), (40.0, 10.0), forced=True, centred=True)], bounds)[0]
    assert centred == (80.0, 100.0 - GAP - 10.0, 40.0, 10.0)
    plain = place_labels([LabelRequest((100.0, 100.0), (40.0, 10.0))], bounds)[0]
    assert plain[0] == 100.0 + GAP  # not centred: above-right
    edge = place_labels([LabelRequest((295.0, 2.0), (40.0, 10.0), forced=True, centred=True)], bounds)[0]
    assert edge == (260.0, 0.0, 40.0, 10.0)  # pushed inside the view
    two = place_labels([LabelRequest((100.0, 100.0), (40.0, 10.0), forced=True, centred=True)] * 2, bounds)
    assert two[0] != two[1]  # a second label at the same spot moves aside


START_SCRIPT = textwrap.dedent(r"""
    import json, sys, tempfile
    from pathlib import Path
    import numpy as np
    from PyQt6.QtWidgets import QApplication
    app = QApplication([])
    from fusionlabel.app import testing
    from fusionlabel.app.main_window import MainWindow
    from fusionlabel.app.qt_util import opengl_available
    from fusionlabel.app.session import Session
    from fusionlabel.store.project import Project
    if not opengl_available():
        print(json.dumps({"skip": "no OpenGL on this display"})); sys.exit(0)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        project = Project.create(Path(tmp) / "project", Path(sys.argv[1]))
        w = MainWindow(Session(project), use_gl=True)
        w.resize(1400, 900); testing.show_window(w)
        v = w.view3d
        T_vehicle_lidar = project.drive.rig(0).T_vehicle_lidar
        ahead = [np.linalg.solve(T_vehicle_lidar, [x, 0.0, 0.0, 1.0])[:3] for x in (5.0, 30.0)]
        uv, front = v.screen_points(np.array(ahead))
        out["near_far_uv"], out["front"] = uv.tolist(), front.tolist()
        eye_vehicle = T_vehicle_lidar @ np.append(np.asarray(v.cameraPosition(), float), 1.0)
        out["eye_vehicle"], out["size"] = eye_vehicle[:3].tolist(), [v.width(), v.height()]
        w.close(); project.close()
    print(json.dumps(out))
""")


def test_view3d_starts_behind_the_vehicle_on_nuscenes(nusc_root):
    """nuScenes' LiDAR looks along its +y: the 3D view still starts behind the vehicle (vehicle x < 0)
    and the road ahead runs up the screen (30 m ahead above 5 m ahead, both near the middle)."""
    out = run_on_display(START_SCRIPT.replace("sys.argv[1]", repr(str(nusc_root))))
    assert all(out["front"])
    x, y, z = out["eye_vehicle"]  # 45 m from a point 12 m ahead, 35 degrees up, 20 degrees off the axis:
    assert x < -15 and abs(y) < 20 and z > 10  # about (-21.7, 12.6, 27.6) m
    (u5, v5), (u30, v30) = out["near_far_uv"]
    width, _ = out["size"]
    assert v30 < v5 - 50
    assert abs(u5 - width / 2) < 0.35 * width and abs(u30 - width / 2) < 0.35 * width


EDITED_SCRIPT = textwrap.dedent(r"""
    import json, sys, tempfile
    import numpy as np
    from PyQt6.QtWidgets import QApplication
    from PyQt6.QtTest import QTest
    app = QApplication([])
    from fusionlabel.app import testing
    from fusionlabel.app.view3d import DASH, DASH_DOT, box_segments
    from fusionlabel.model.commands import CreateCuboid, SetBox

    def drawn(item, box, pattern):  # every vertex of the box's marks is among the item's
        seg, _ = box_segments([box], [(1, 1, 1, 1)], pattern=pattern)
        pos = np.asarray(item.pos)
        return bool(all(np.isclose(pos, q, atol=1e-5).all(axis=1).any() for q in seg))

    with tempfile.TemporaryDirectory() as tmp:
        project, w = testing.gl_window_or_skip(tmp)
        s, v = w.session, w.view3d
        g0 = {g.track_id: g for g in s.drive.labels(0)}
        g2 = {g.track_id: g for g in s.drive.labels(2)}
        tid = next(t for t in g0 if t in g2)
        first = s.apply(CreateCuboid(0, g0[tid].with_(source="human", label="car", track_id=None)))
        s.apply(CreateCuboid(2, g2[tid].with_(source="human", label="car", track_id=first.label.track_id)))
        s.select((first.uid,))
        w.actions_.interpolate_track()
        s.select(())
        s.set_frame(1)
        testing.wait_for_frame(w, 1)
        mid = s.document.find_track(first.label.track_id, 1)
        out = {"before": [drawn(v.prelabel_lines, mid.box, DASH), drawn(v.edited_lines, mid.box, DASH_DOT)]}
        moved = mid.box.with_(center=np.add(mid.box.center, [0.0, 0.5, 0.0]))
        s.apply(SetBox(mid.uid, moved))
        QApplication.processEvents()
        out["after"] = [drawn(v.prelabel_lines, moved, DASH), drawn(v.edited_lines, moved, DASH_DOT)]
        s.select((mid.uid,))                 # selected: in white, and still dash-dotted
        QApplication.processEvents()
        marks, _ = box_segments([moved], [(1, 1, 1, 1)], pattern=DASH_DOT)
        out["selected"] = [drawn(v.selected_lines, moved, DASH_DOT), len(v.selected_lines.pos) == len(marks),
                           bool(np.allclose(v.selected_lines.color, 1.0))]
        w.close(); project.close()
    print(json.dumps(out))
""")


def test_view3d_draws_an_edited_interpolated_box_dash_dotted():
    """A box I filled in is drawn dashed in the 3D view; once the annotator moves it, dash-dotted
    (the same rule as the 2D views: Session.prelabel_state), in white and still dash-dotted when
    selected."""
    out = run_on_display(EDITED_SCRIPT)
    assert out["before"] == [True, False]
    assert out["after"] == [False, True]
    assert out["selected"] == [True, True, True]


REVEAL_SCRIPT = textwrap.dedent(r"""
    import json, sys, tempfile
    import numpy as np
    from PyQt6.QtCore import Qt
    from PyQt6.QtWidgets import QApplication
    from PyQt6.QtTest import QTest
    app = QApplication([])
    from fusionlabel.app import testing
    from fusionlabel.model.commands import SetBox

    def on_screen(v, box):  # every corner in front of the eye and inside the view
        uv, front = v.screen_points(box.corners())
        return bool(front.all() and (uv >= 0).all() and (uv[:, 0] <= v.width()).all()
                    and (uv[:, 1] <= v.height()).all())

    def view(v):
        return [float(c) for c in v.opts["center"]] + [float(v.opts[k]) for k in ("distance", "elevation", "azimuth")]

    with tempfile.TemporaryDirectory() as tmp:
        project, w = testing.gl_window_or_skip(tmp, import_labels=True)
        s, v = w.session, w.view3d
        out = {}
        # a cuboid behind the eye on frame 1 and one in view on frame 0, each moved by 20 cm
        s.set_frame(1); testing.wait_for_frame(w, 1)
        behind = next(a for a in s.annotations() if not on_screen(v, a.box))
        s.apply(SetBox(behind.uid, behind.box.with_(center=np.add(behind.box.center, [0.2, 0, 0]))))
        s.set_frame(0); testing.wait_for_frame(w, 0)
        seen = next(a for a in s.annotations() if on_screen(v, a.box))
        s.apply(SetBox(seen.uid, seen.box.with_(center=np.add(seen.box.center, [0.2, 0, 0]))))
        s.select(())
        before = view(v)
        w.actions_.undo()                                    # the one in view: the 3D view stays
        QApplication.processEvents()
        out["stayed"] = view(v) == before
        w.actions_.undo()                                    # the one behind: frame 1, and the 3D view follows
        testing.wait_for_frame(w, 1)
        QApplication.processEvents()
        after = view(v)
        out["frame"], out["selected"] = s.frame, list(s.selection) == [behind.uid]
        out["turned_or_zoomed"] = after[3:] != before[3:]
        out["centre_to_box"] = float(np.linalg.norm(np.asarray(after[:3]) - np.asarray(behind.box.center)))
        out["on_screen"] = on_screen(v, s.document.get(behind.uid).box)
        w.close(); project.close()
    print(json.dumps(out))
""")


def test_view3d_follows_an_undo_like_the_birds_eye_view():
    """An undo that changes a cuboid off screen in the 3D view moves the view onto it (no turn,
    no zoom), on the frame the undo went to; one whose cuboid is in view leaves it as it is."""
    out = run_on_display(REVEAL_SCRIPT)
    assert out["stayed"]
    assert out["frame"] == 1 and out["selected"]
    assert not out["turned_or_zoomed"]
    assert out["centre_to_box"] < 0.5 and out["on_screen"]


LOCK_AND_CROWD_SCRIPT = textwrap.dedent(r"""
    import json, tempfile
    import numpy as np
    from PyQt6.QtCore import Qt
    from PyQt6.QtTest import QTest
    from PyQt6.QtWidgets import QApplication
    app = QApplication([])
    from fusionlabel.app import testing
    from fusionlabel.render.label_layout import overlaps
    out = {}

    def grab(panel):  # device pixels: twice the widget's size at 200 %
        image = panel.grab_image()
        out["ratio"] = image.devicePixelRatio()
        return testing.image_pixels(image)

    def lightened(before, after, x, y, size):  # widget px² much lighter now, in a square around (x, y)
        ratio = out["ratio"]
        x, y, r = x * ratio, y * ratio, int(np.ceil(size * ratio / 2))
        crop = np.s_[max(int(y) - r, 0):int(y) + r + 1, max(int(x) - r, 0):int(x) + r + 1]
        gain = after[crop].astype(int).min(axis=2) - before[crop].astype(int).min(axis=2)
        return float((gain > 80).sum() / ratio ** 2)

    with tempfile.TemporaryDirectory() as tmp:
        project, w = testing.gl_window_or_skip(tmp, import_labels=True)
        s, v = w.session, w.view3d
        cls = "car"   # the simulated drive's cars are big enough on screen for a padlock
        before = grab(w.view3d_panel)
        out["marks_unlocked"] = len(v.lock_marks)
        s.set_class_locked(cls, True)
        after = grab(w.view3d_panel)
        out["locked"] = sorted(a.uid for a in s.annotations() if a.cls == cls)
        out["marks"] = {u: list(m) for u, m in v.lock_marks.items()}
        out["light"] = {u: lightened(before, after, *m) for u, m in v.lock_marks.items()}
        s.set_class_locked(cls, False)
        grab(w.view3d_panel)
        out["marks_after_unlock"] = len(v.lock_marks)
        # Every cuboid of the frame selected (Ctrl+A): legible labels, the first one's always.
        first = s.annotations()[0].uid
        s.select((first,))
        QTest.keyClick(w.bev, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        out["n_selected"], out["first"] = len(s.selection), s.selection[0]
        grab(w.view3d_panel)
        rects = list(v.label_rects.values())
        out["n_labels"] = len(rects)
        out["overlapping"] = sum(overlaps(a, b) for i, a in enumerate(rects) for b in rects[i + 1:])
        out["first_labelled"] = s.selection[0] in v.label_rects
        out["note"] = v.selection_note
        out["size"] = [v.width(), v.height()]
        out["inside"] = all(0 <= x and 0 <= y and x + w_ <= v.width() and y + h <= v.height()
                            for x, y, w_, h in rects)
        uv, front = v.screen_points(s.document.get(s.selection[0]).box.corners())
        out["first_on_screen"] = bool(front.all() and ((uv >= 0) & (uv < [v.width(), v.height()])).all(axis=1).any())
        # The same crowd with a far cuboid at the top of the view (where they crowd) selected first.
        seen = []
        for uid in s.selection:
            uv, front = v.screen_points(np.asarray(s.document.get(uid).box.center)[None])
            if front[0] and 0 <= uv[0, 0] < v.width() and 0 <= uv[0, 1] < v.height():
                seen.append((uv[0, 1], uid))
        top = min(seen)[1]
        s.select((top, *(u for u in s.selection if u != top)))
        grab(w.view3d_panel)
        rects = list(v.label_rects.values())
        out["top_labelled"] = top in v.label_rects
        out["overlapping_top_first"] = sum(overlaps(a, b) for i, a in enumerate(rects) for b in rects[i + 1:])
        w.close(); project.close()
    print(json.dumps(out))
""")


@pytest.mark.parametrize("scale", ["1", "2"])
def test_view3d_marks_locked_cuboids_and_keeps_a_crowd_of_labels_legible(scale):
    """A cuboid of a locked class carries the padlock of the other views in its middle (light
    pixels there that were not before locking; gone after unlocking). With every cuboid of the
    frame selected, the labels do not overlap, the first selected is labelled, and a line says how
    many are selected and labelled when some are left out. The same at 200 % (the grab is in
    device pixels, the marks and labels in widget pixels)."""
    out = run_on_display(LOCK_AND_CROWD_SCRIPT, env={"QT_SCALE_FACTOR": scale})
    assert out["ratio"] == float(scale)
    assert out["marks_unlocked"] == 0 and out["marks_after_unlock"] == 0
    assert len(out["marks"]) >= 3 and set(out["marks"]) <= set(out["locked"])
    for uid, lighter in out["light"].items():        # light grey, where the points or edges were darker
        size = out["marks"][uid][2]
        assert lighter >= 0.2 * size * size, (uid, lighter, size)
    assert out["n_selected"] >= 20
    assert out["overlapping"] == 0 and out["inside"]
    assert out["first_labelled"] == out["first_on_screen"]
    assert out["top_labelled"] and out["overlapping_top_first"] == 0
    assert out["n_labels"] >= 3
    if out["n_labels"] < out["n_selected"]:
        assert out["note"] == f"{out['n_selected']} selected, {out['n_labels']} labelled"


GHOST_SCRIPT = textwrap.dedent(r"""
    import json, os, tempfile
    import numpy as np
    from PyQt6.QtWidgets import QApplication
    app = QApplication([])
    from fusionlabel.app import testing
    from fusionlabel.app.label_findings import Ghost
    from fusionlabel.app.styles import GHOST_RGB
    from fusionlabel.model.commands import DeleteCuboids

    def magenta(panel, mask=None):  # pixels near the ghost's colour (inside mask when given)
        arr = testing.image_pixels(panel.grab_image()).astype(int)
        near = np.abs(arr - np.asarray(GHOST_RGB)).sum(axis=2) < 90
        return int((near if mask is None else near & mask).sum()), arr.shape[:2]

    with tempfile.TemporaryDirectory() as tmp:
        project, w = testing.gl_window_or_skip(tmp, import_labels=True)
        s, v, panel = w.session, w.view3d, w.view3d_panel
        out = {}
        # the car nearest the eye whose corners are all on screen: deleted, then shown as a ghost
        eye = np.asarray(v.cameraPosition())
        seen = [a for a in s.annotations() if a.cls == "car" and v.shows(a.box.corners()).all()]
        car = min(seen, key=lambda a: float(np.linalg.norm(np.asarray(a.box.center) - eye)))
        s.apply(DeleteCuboids((car.uid,)))
        QApplication.processEvents()
        before, shape = magenta(panel)
        uv, _ = v.screen_points(car.box.corners())
        lo, hi = np.floor(uv.min(axis=0)).astype(int) - 3, np.ceil(uv.max(axis=0)).astype(int) + 3
        inside = np.zeros(shape, bool)
        inside[max(lo[1], 0):hi[1], max(lo[0], 0):hi[0]] = True
        s.show_ghost(Ghost(s.frame, car.track_id or "7", car.cls, car.box, "gap"))
        QApplication.processEvents()
        out["outline"], _ = magenta(panel, inside)
        out["label"] = v.ghost_label_rect
        elsewhere = ~inside
        if out["label"] is not None:   # its label is written in the same colour, above the box
            x, y, lw, lh = (int(round(c)) for c in out["label"])
            elsewhere[max(y, 0):y + lh, max(x, 0):x + lw] = False
        out["elsewhere"], _ = magenta(panel, elsewhere)
        out["before"] = before
        if os.environ.get("FUSIONLABEL_SHOTS"):
            panel.grab_image().save(os.path.join(os.environ["FUSIONLABEL_SHOTS"], "ghost_3d.png"))
        s.drop_ghost()                       # the user acted or moved on: gone here as in the others
        QApplication.processEvents()
        out["after"], _ = magenta(panel)
        out["label_after"] = v.ghost_label_rect
        w.close(); project.close()
    print(json.dumps(out))
""")


def test_view3d_draws_the_missing_box_outline_where_the_2d_views_do():
    """A ghost (a track-gap or track-end finding chosen in the label checks) is drawn in the 3D
    view as a dotted magenta wireframe where the box would be, with its label, and goes when the
    session drops it."""
    out = run_on_display(GHOST_SCRIPT)
    assert out["outline"] > 40 and out["elsewhere"] < 10, out   # where the box was, nowhere else
    assert out["before"] < 10 and out["after"] < 10, out
    assert out["label"] is not None and out["label_after"] is None, out
