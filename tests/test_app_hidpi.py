"""The app on a high-DPI screen (200 % and 150 % scaling, ``QT_SCALE_FACTOR``): the views draw
as big as at 100 %, in device pixels where they can. Each case runs the app in a subprocess on
the X display (Xvfb in CI), like the other OpenGL tests; skips without a display or OpenGL."""

from __future__ import annotations

import textwrap

import pytest

from conftest import run_on_display

pytest.importorskip("PyQt6")
pytest.importorskip("pyqtgraph")

pytestmark = pytest.mark.gui

VIEW3D_SCRIPT = textwrap.dedent(r"""
    import json, tempfile
    import numpy as np
    from PyQt6.QtWidgets import QApplication
    app = QApplication([])
    from fusionlabel.app import testing
    with tempfile.TemporaryDirectory() as tmp:
        project, w = testing.gl_window_or_skip(tmp, import_labels=True)
        image = w.view3d_panel.grab_image()
        arr = testing.image_pixels(image)
        out = {"ratio": image.devicePixelRatio(), "size": [image.width(), image.height()],
               "lit_share": float((arr.max(axis=2) > 60).mean())}
        w.close(); w.session.close(); project.close()
    print(json.dumps(out))
""")


def view3d_at(scale: str) -> dict:
    return run_on_display(VIEW3D_SCRIPT, env={"QT_SCALE_FACTOR": scale})


@pytest.fixture(scope="module")
def view3d_at_100():
    return view3d_at("1")


@pytest.mark.parametrize("scale", ["2", "1.5"])
def test_the_3d_view_draws_points_and_outlines_as_big_as_at_100_percent(view3d_at_100, scale):
    """GL point sizes and line widths are device pixels: at 200 % they must be doubled, or the
    sweep looks a quarter as dense as at 100 % (the share of lit pixels drops with the area)."""
    scaled = view3d_at(scale)
    assert scaled["ratio"] == float(scale)
    assert scaled["size"][0] == pytest.approx(view3d_at_100["size"][0] * float(scale), abs=1)
    assert scaled["lit_share"] == pytest.approx(view3d_at_100["lit_share"], rel=0.2), (scaled, view3d_at_100)


# The first camera of the simulated drive at full resolution, its points hidden, in a 1400 x 900 window.
CAMERA_WINDOW = r"""
    import json, tempfile
    import cv2
    import numpy as np
    from PyQt6.QtWidgets import QApplication
    app = QApplication([])
    from fusionlabel.app import testing
    from fusionlabel.app.main_window import MainWindow
    from fusionlabel.app.session import Session
    from fusionlabel.store.project import Project
    with tempfile.TemporaryDirectory() as tmp:
        project = Project.create(tmp + "/project", testing.small_drive(camera_scale=1.0))
        w = MainWindow(Session(project), use_gl=False)
        w.resize(1400, 900)
        testing.show_window(w)
        w.session.set_layer("camera_points", False)
        name, view = next(iter(w.cameras.views.items()))
"""

CAMERA_SCRIPT = textwrap.dedent(CAMERA_WINDOW + r"""
        shot = view.grab()
        ratio = shot.devicePixelRatio()
        x, y, width, height = view.image_rect().getRect()
        x0, y0 = round(x * ratio), round(y * ratio)
        x1, y1 = round((x + width) * ratio), round((y + height) * ratio)
        shown = testing.image_pixels(shot.toImage())[y0:y1, x0:x1].astype(float)
        image = w.displayed.cameras[name].image
        sharp = cv2.resize(image, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA).astype(float)
        below_caption = slice(round(24 * ratio), -8)
        out = {"ratio": ratio, "image": [image.shape[1], image.shape[0]], "shown": [x1 - x0, y1 - y0],
               "error": float(np.abs(shown - sharp)[below_caption, 8:-8].mean())}
        w.close(); w.session.close(); project.close()
    print(json.dumps(out))
""")


def run_offscreen(script: str, scale: str) -> dict:
    """Run a Python ``script`` (widgets, no OpenGL) on Qt's offscreen platform at ``scale``
    (``QT_SCALE_FACTOR``) in a subprocess; the JSON it prints last."""
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR=scale)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("scale", ["2", "1.5"])
def test_a_camera_image_is_drawn_at_the_screens_resolution(scale):
    """At 200 % a camera image larger than its view is scaled to the view's device pixels, not to
    its widget pixels and then blown up (blurred) by the screen: what the view shows is the
    image area-resized to that many pixels."""
    out = run_offscreen(CAMERA_SCRIPT, scale)
    assert out["ratio"] == float(scale)
    assert out["image"][0] > out["shown"][0]   # the image has the detail to show
    assert out["error"] < 0.5, out


ZOOM_CAPTION_SCRIPT = textwrap.dedent(CAMERA_WINDOW + r"""
        view.cam.image[:] = 0
        view.cam.image[:, ::2] = 255                     # one-pixel stripes: each image pixel stands out
        view.cam.pyramid.clear()
        view.view_zoom.zoom = 4.0 / view.view_zoom.fit_scale(view.image_size(), view.view_size())
        shot = view.grab()
        x, y, width, height = view.image_rect().getRect()
        ratio = shot.devicePixelRatio()
        row = testing.image_pixels(shot.toImage())[round((y + height / 2) * ratio), :, 0] > 127
        edges = np.flatnonzero(np.diff(row.astype(int)))
        runs = np.diff(edges)                            # device pixels of each stripe between two edges
        out = {"ratio": ratio, "caption": view.caption_text, "device_px_per_image_px": float(np.median(runs))}
        w.close(); w.session.close(); project.close()
    print(json.dumps(out))
""")


@pytest.mark.parametrize("scale", ["1", "2"])
def test_a_zoomed_cameras_caption_gives_screen_pixels_per_image_pixel(scale):
    """The zoom in a camera's caption is what the annotator sees: how many pixels of the screen
    one image pixel covers (1× = one each), measured on the stripes of a zoomed image; at 200 %
    the same zoom in widget pixels is twice that."""
    out = run_offscreen(ZOOM_CAPTION_SCRIPT, scale)
    assert out["ratio"] == float(scale)
    said = float(out["caption"].rsplit(" ", 1)[1].rstrip("×"))
    assert said == pytest.approx(out["device_px_per_image_px"], rel=0.05), out


BEV_SCRIPT = textwrap.dedent(r"""
    import json, tempfile
    import numpy as np
    from PyQt6.QtWidgets import QApplication
    app = QApplication([])
    from fusionlabel.app import testing
    from fusionlabel.app.main_window import MainWindow
    from fusionlabel.app.session import Session
    from fusionlabel.store.project import Project
    with tempfile.TemporaryDirectory() as tmp:
        project = Project.create(tmp + "/project", testing.small_drive())
        w = MainWindow(Session(project), use_gl=False)
        w.resize(1400, 900)
        testing.show_window(w)
        shot = w.bev.grab()
        rgb = testing.image_pixels(shot.toImage()).astype(int)
        height, width = rgb.shape[:2]
        grey = (rgb[..., 0] == rgb[..., 1]) & (rgb[..., 1] == rgb[..., 2])   # rings, captions, the ego car
        points = (rgb.max(axis=2) > 30) & ~grey
        points[:80] = False   # below the caption
        even, odd = points[:, 0:width - 1:2], points[:, 1:width:2]
        out = {"ratio": shot.devicePixelRatio(), "lit": int(points.sum()),
               "unpaired_share": float((even != odd).sum() / max(points.sum(), 1))}
        w.close(); w.session.close(); project.close()
    print(json.dumps(out))
""")


def test_the_birds_eye_points_are_placed_to_the_device_pixel():
    """At 200 % the sweep is rasterised in device pixels: a point's dot (one widget pixel wide,
    2x2 device pixels) starts at any device column. Rasterised in widget pixels and blown up,
    every dot would cover an aligned pair of columns (2k, 2k + 1): positions to the nearest
    widget pixel only, blocky beside the sharp cuboids."""
    out = run_offscreen(BEV_SCRIPT, "2")
    assert out["ratio"] == 2.0 and out["lit"] > 5000
    assert out["unpaired_share"] > 0.1, out


SIDE_SCRIPT = textwrap.dedent(r"""
    import json, tempfile
    import numpy as np
    from PyQt6.QtWidgets import QApplication
    app = QApplication([])
    from fusionlabel.app import testing
    from fusionlabel.app.main_window import MainWindow
    from fusionlabel.app.session import Session
    from fusionlabel.geometry.cuboid import count_points_in_cuboids
    from fusionlabel.store.project import Project
    with tempfile.TemporaryDirectory() as tmp:
        project = Project.create(tmp + "/project", testing.small_drive(), import_labels=True)
        w = MainWindow(Session(project), use_gl=False)
        w.resize(1400, 900)
        testing.show_window(w)
        anns = w.session.annotations()
        counts = count_points_in_cuboids(w.displayed.points[:, :3], [a.box for a in anns])
        w.session.select([anns[int(np.argmax(counts))].uid])   # the cuboid with the most points
        view = w.side.views["side"]
        shot = view.grab()
        ratio = shot.devicePixelRatio()
        rgb = testing.image_pixels(shot.toImage()).astype(int)
        height, width = rgb.shape[:2]
        grey = (rgb[..., 0] == rgb[..., 1]) & (rgb[..., 1] == rgb[..., 2])   # background, points outside
        points = (rgb.max(axis=2) > 40) & ~grey
        ann = w.session.annotations()[int(np.argmax(counts))]
        u0, v0, u1, v1 = (round(c * ratio) for c in view._rect(view._reference(ann), ann.box))
        band = round(8 * ratio)   # the outline and the heading marker, drawn over the points
        inside = np.zeros_like(points)
        inside[v0 + band:v1 - band, u0 + band:u1 - band] = True
        points &= inside
        even, odd = points[:, 0:width - 1:2], points[:, 1:width:2]
        out = {"ratio": ratio, "lit": int(points.sum()),
               "unpaired_share": float((even != odd).sum() / max(points.sum(), 1))}
        w.close(); w.session.close(); project.close()
    print(json.dumps(out))
""")


def test_the_side_views_place_points_to_the_device_pixel():
    """At 200 % a side view draws its points in device pixels, each a dot two widget pixels wide
    (4x4 device pixels) starting at any device column, not in widget-pixel blocks blown up."""
    out = run_offscreen(SIDE_SCRIPT, "2")
    assert out["ratio"] == 2.0 and out["lit"] > 500, out
    assert out["unpaired_share"] > 0.1, out


THINNING_SCRIPT = textwrap.dedent(r"""
    import json, tempfile
    import numpy as np
    from PyQt6.QtWidgets import QApplication
    app = QApplication([])
    from fusionlabel.app import testing
    from fusionlabel.app.frame_data import FrameData
    from fusionlabel.app.point_index import PointGrid
    with tempfile.TemporaryDirectory() as tmp:
        project, w = testing.gl_window_or_skip(tmp)
        v, small = w.view3d, w.displayed
        rng = np.random.default_rng(1)   # a dense sweep: the frame's points and 600k more around the ego
        extra = np.column_stack([rng.uniform(-40, 40, (600_000, 2)), rng.uniform(-2, 1, 600_000),
                                 rng.uniform(0, 1, 600_000)]).astype(np.float32)
        pts = np.concatenate([small.points[:, :4], extra])
        dense = FrameData(small.index, small.frame_id, pts, PointGrid(pts), small.cameras, rig=small.rig,
                          z_order=np.argsort(pts[:, 2], kind="stable"))
        w._display(dense)
        QApplication.processEvents()
        out = {"ratio": v.devicePixelRatio(), "size": [v.width(), v.height()], "points": len(pts),
               "shown": None if v.shown_rows is None else len(v.shown_rows)}
        w.close(); w.session.close(); project.close()
    print(json.dumps(out))
""")


def test_the_3d_view_thins_a_dense_sweep_alike_at_200_percent():
    """Its points are as big at 200 % as at 100 %, so the same number of them cover the view: a
    sweep with more points than the view has pixels is thinned to the same sample, not drawn
    whole (four times the points for a software renderer to draw, all overlapping)."""
    at_100 = run_on_display(THINNING_SCRIPT, env={"QT_SCALE_FACTOR": "1"})
    at_200 = run_on_display(THINNING_SCRIPT, env={"QT_SCALE_FACTOR": "2"})
    assert at_200["ratio"] == 2.0
    assert at_100["shown"] is not None and at_100["shown"] < at_100["points"]
    assert at_200["shown"] is not None, at_200   # thinned too
    assert at_200["shown"] == pytest.approx(at_100["shown"], rel=0.05), (at_100, at_200)


PADLOCK_SCRIPT = textwrap.dedent(r"""
    import json, tempfile
    import numpy as np
    from PyQt6.QtCore import QPointF, QRectF
    from PyQt6.QtGui import QImage, QPainter
    from PyQt6.QtWidgets import QApplication
    app = QApplication([])
    from fusionlabel.app import testing
    from fusionlabel.app.qt_util import paint_padlock
    with tempfile.TemporaryDirectory() as tmp:
        project, w = testing.gl_window_or_skip(tmp, import_labels=True)
        s, v = w.session, w.view3d
        before = w.view3d_panel.grab_image()
        s.set_class_locked("car", True)
        image = w.view3d_panel.grab_image()
        ratio = image.devicePixelRatio()
        # References: the padlocks drawn onto the unlocked view as vectors at its resolution (sharp),
        # and drawn at widget resolution, then blown up to it (coarse).
        sharp = before.convertToFormat(QImage.Format.Format_RGB888)
        coarse = sharp.copy()
        for target, device in ((sharp, True), (coarse, False)):
            p = QPainter(target)
            for x, y, size in v.lock_marks.values():
                if device:
                    paint_padlock(p, QPointF(x, y), size)
                    continue
                side = int(np.ceil(size)) + 6
                mark = QImage(side, side, QImage.Format.Format_ARGB32_Premultiplied)
                mark.fill(0)
                q = QPainter(mark)
                paint_padlock(q, QPointF(side / 2, side / 2), size)
                q.end()
                p.drawImage(QRectF(x - side / 2, y - side / 2, side, side), mark)
            p.end()
        shown = testing.image_pixels(image).astype(int)
        errors = {"sharp": 0.0, "coarse": 0.0}
        for name, reference in (("sharp", sharp), ("coarse", coarse)):
            expected = testing.image_pixels(reference).astype(int)
            for x, y, size in v.lock_marks.values():   # widget pixels
                r = round((size / 2 + 2) * ratio)
                cx, cy = round(x * ratio), round(y * ratio)
                crop = np.s_[max(cy - r, 0):cy + r, max(cx - r, 0):cx + r]
                errors[name] += float(np.abs(shown[crop] - expected[crop]).mean()) / len(v.lock_marks)
        out = {"ratio": ratio, "marks": len(v.lock_marks), **errors}
        w.close(); s.close(); project.close()
    print(json.dumps(out))
""")



def test_the_3d_views_padlocks_are_drawn_in_device_pixels():
    """A locked class's padlock in the 3D view is an image drawn over the GL scene: at 200 % it
    looks as the padlock drawn at the screen's resolution, not one drawn at widget resolution and
    blown up."""
    out = run_on_display(PADLOCK_SCRIPT, env={"QT_SCALE_FACTOR": "2"})
    assert out["ratio"] == 2.0 and out["marks"] > 0, out
    assert out["sharp"] < 0.8 * out["coarse"], out


GRID_SCRIPT = textwrap.dedent(r"""
    import json, tempfile
    from PyQt6.QtWidgets import QApplication
    app = QApplication([])
    from fusionlabel.app import testing
    from fusionlabel.app.view3d import LINE_PX
    with tempfile.TemporaryDirectory() as tmp:
        project, w = testing.gl_window_or_skip(tmp)
        v = w.view3d
        for item in [v.scatter, v.stacked_scatter] + [getattr(v, name) for name in LINE_PX]:
            item.setVisible(False)   # the ground grid alone
        image = w.view3d_panel.grab_image()
        arr = testing.image_pixels(image)
        out = {"ratio": image.devicePixelRatio(), "lit_share": float((arr.max(axis=2) > 40).mean())}
        w.close(); w.session.close(); project.close()
    print(json.dumps(out))
""")


def test_the_3d_views_ground_grid_is_as_wide_as_at_100_percent():
    """The grid's lines are GL lines too, in device pixels: at 200 % they are drawn two device
    pixels wide, so they cover the same share of the view as at 100 % (not half of it)."""
    at_100 = run_on_display(GRID_SCRIPT, env={"QT_SCALE_FACTOR": "1"})
    at_200 = run_on_display(GRID_SCRIPT, env={"QT_SCALE_FACTOR": "2"})
    assert at_200["ratio"] == 2.0 and at_100["lit_share"] > 0.001, (at_100, at_200)
    assert at_200["lit_share"] == pytest.approx(at_100["lit_share"], rel=0.25), (at_100, at_200)
