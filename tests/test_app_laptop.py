"""The app on a laptop. Its touchpad in every view: a scroll that brings pixels but no angle zooms
like the wheel, a pinch (native zoom gesture) zooms about the fingers, a sideways scroll zooms
nothing (3D view included) and pans the bird's-eye view and a zoomed camera, and Ctrl+left drag pans the bird's-eye view (no middle button needed). Its small
screen: the side views' captions keep the sizes whole."""

from __future__ import annotations

import os
import textwrap

import numpy as np
import pytest

pytest.importorskip("PyQt6")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import QEvent, QPoint, QPointF, Qt  # noqa: E402
from PyQt6.QtGui import QMouseEvent, QNativeGestureEvent, QPointingDevice, QWheelEvent  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

from conftest import run_on_display  # noqa: E402
from fusionlabel.app.touchpad import NOTCH_ANGLE, NOTCH_PIXELS, PAN_NOTCH_PIXELS  # noqa: E402

NO_MODIFIER = Qt.KeyboardModifier.NoModifier


def scroll(view, pos, pixels=(0, 0), angle=(0, 0)) -> None:
    p = QPointF(*pos)
    ev = QWheelEvent(p, view.mapToGlobal(p), QPoint(*pixels), QPoint(*angle), Qt.MouseButton.NoButton,
                     NO_MODIFIER, Qt.ScrollPhase.ScrollUpdate, False)
    QApplication.sendEvent(view, ev)


def pinch(view, pos, value: float) -> None:
    p = QPointF(*pos)
    ev = QNativeGestureEvent(Qt.NativeGestureType.ZoomNativeGesture, QPointingDevice.primaryPointingDevice(), 2,
                             p, p, view.mapToGlobal(p), value, QPointF(0, 0))
    QApplication.sendEvent(view, ev)


def drag(view, button, modifiers, start, end, steps: int = 4) -> None:
    def send(kind, pos, buttons):
        p = QPointF(*pos)
        ev = QMouseEvent(kind, p, view.mapToGlobal(p), button if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton,
                         buttons, modifiers)
        QApplication.sendEvent(view, ev)

    send(QEvent.Type.MouseButtonPress, start, button)
    for f in np.linspace(0, 1, steps + 1)[1:]:
        send(QEvent.Type.MouseMove, np.asarray(start) + f * (np.asarray(end) - np.asarray(start)), button)
    send(QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)


def test_a_scroll_in_pixels_only_zooms_every_2d_view_like_the_wheel(window):
    """NOTCH_PIXELS of two-finger scroll with no angle zoom as much as one wheel notch."""
    s = window.session
    s.select((sorted(s.annotations(), key=lambda a: a.uid)[0].uid,))
    bev, cam, top = window.bev, window.cameras.views["cam_front"], window.side.views["top"]
    top.grab()
    pos = (40.0, 30.0)

    def zoom_state():
        return bev.scale, cam.transform().sx, top.scale

    start = zoom_state()
    for view in (bev, cam, top):
        scroll(view, pos, angle=(0, 120))
    by_notch = zoom_state()
    for view in (bev, cam, top):
        scroll(view, pos, angle=(0, -120))
    assert zoom_state() == pytest.approx(start)
    for view in (bev, cam, top):
        scroll(view, pos, pixels=(0, int(NOTCH_PIXELS)))
    assert zoom_state() == pytest.approx(by_notch)
    assert all(b > a for a, b in zip(start, by_notch))


def test_a_pinch_zooms_about_the_fingers(window):
    s = window.session
    s.select((sorted(s.annotations(), key=lambda a: a.uid)[0].uid,))
    bev, cam, top = window.bev, window.cameras.views["cam_front"], window.side.views["top"]
    top.grab()
    pos = (bev.width() * 0.3, bev.height() * 0.6)
    under, scale = bev.to_world(QPointF(*pos)), bev.scale
    pinch(bev, pos, 0.25)
    assert bev.scale == pytest.approx(scale * 1.25)
    np.testing.assert_allclose(bev.to_world(QPointF(*pos)), under, atol=1e-9)
    pinch(bev, pos, -0.2)   # fingers closing: back out
    assert bev.scale == pytest.approx(scale)

    pos = (cam.width() / 2 + 20, cam.height() / 2 - 10)
    under, sx = cam.screen_to_image(QPointF(*pos)), cam.transform().sx
    pinch(cam, pos, 0.5)
    assert cam.transform().sx == pytest.approx(sx * 1.5)
    np.testing.assert_allclose(cam.screen_to_image(QPointF(*pos)), under, atol=1e-6)

    fitted = top.scale
    pinch(top, (10, 10), 0.25)
    assert top.scale == pytest.approx(fitted * 1.25)


def test_ctrl_left_drag_pans_the_birds_eye_view_and_draws_nothing(window):
    """The pan a touchpad can do: Ctrl+left drag moves the ground with the pointer, like right drag."""
    s = window.session
    bev = window.bev
    s.select(())
    count, history = len(s.annotations()), s.document.history()
    # Empty ground: a spot that hits no cuboid.
    start = next((x, y) for x in range(20, bev.width(), 15) for y in range(20, bev.height(), 15)
                 if bev.hit(QPointF(x, y)) is None)
    ground = bev.to_world(QPointF(*start))
    end = (start[0] + 40, start[1] + 25)
    drag(bev, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, start, end)
    np.testing.assert_allclose(bev.to_world(QPointF(*end)), ground, atol=1e-9)
    assert len(s.annotations()) == count and s.selection == () and s.document.history() == history
    # A right drag pans the same way (as before).
    ground = bev.to_world(QPointF(*end))
    drag(bev, Qt.MouseButton.RightButton, NO_MODIFIER, end, start)
    np.testing.assert_allclose(bev.to_world(QPointF(*start)), ground, atol=1e-9)


VIEW3D_SCRIPT = textwrap.dedent(r"""
    import json, tempfile
    import numpy as np
    from PyQt6.QtCore import QPoint, QPointF, Qt
    from PyQt6.QtGui import QNativeGestureEvent, QPointingDevice, QWheelEvent
    from PyQt6.QtWidgets import QApplication
    app = QApplication([])
    from fusionlabel.app import testing
    from fusionlabel.app.touchpad import NOTCH_PIXELS

    def scroll(v, pixels=(0, 0), angle=(0, 0)):
        p = QPointF(v.width() / 2, v.height() / 2)
        QApplication.sendEvent(v, QWheelEvent(p, QPointF(v.mapToGlobal(p.toPoint())), QPoint(*pixels), QPoint(*angle),
                                              Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                                              Qt.ScrollPhase.ScrollUpdate, False))
        return float(v.opts["distance"])

    def pinch(v, value):
        p = QPointF(v.width() / 2, v.height() / 2)
        QApplication.sendEvent(v, QNativeGestureEvent(Qt.NativeGestureType.ZoomNativeGesture,
                                                      QPointingDevice.primaryPointingDevice(), 2, p, p,
                                                      QPointF(v.mapToGlobal(p.toPoint())), value, QPointF(0, 0)))
        return float(v.opts["distance"])

    with tempfile.TemporaryDirectory() as tmp:
        project, w = testing.gl_window_or_skip(tmp)
        v = w.view3d
        out = {"start": float(v.opts["distance"])}
        def seen():   # where the point the view turns about is on the screen
            c = v.opts["center"]
            return [float(x) for x in v.screen_points(np.array([[c.x(), c.y(), c.z()]]))[0][0]]

        out["centre_at"] = seen()
        c = v.opts["center"]
        centre = np.array([c.x(), c.y(), c.z()])
        out["sideways"] = scroll(v, angle=(40, 0))          # a tilting wheel, or a sideways drift
        out["after_notch"] = [float(x) for x in v.screen_points(centre[None])[0][0]]
        out["after_pixels"] = (scroll(v, pixels=(-30, 2)), [float(x) for x in v.screen_points(centre[None])[0][0]])
        out["centre_moved"] = seen()
        out["notch"] = scroll(v, angle=(-6, 120))           # up, drifting a little to the left
        out["back"] = scroll(v, angle=(0, -120))
        out["pixels"] = scroll(v, pixels=(0, int(NOTCH_PIXELS)))
        out["pinch"] = pinch(v, 0.25)
        w.close(); project.close()
    print(json.dumps(out))
""")


def test_view3d_zooms_by_the_vertical_scroll_pixels_and_pinch_and_pans_by_a_sideways_one():
    """Up/down and a pinch zoom; a sideways scroll pans as a drag does, the scene following the
    fingers by the pixels scrolled (a wheel notch sideways: PAN_NOTCH_PIXELS) without zooming."""
    out = run_on_display(VIEW3D_SCRIPT)
    start = out["start"]
    assert out["sideways"] == pytest.approx(start)
    x, y = out["centre_at"]
    notch = 40 / NOTCH_ANGLE * PAN_NOTCH_PIXELS
    assert out["after_notch"] == pytest.approx([x + notch, y], abs=0.5)     # the scene moved right
    distance, at = out["after_pixels"]
    assert distance == pytest.approx(start) and at == pytest.approx([x + notch - 30, y], abs=0.5)
    assert out["centre_moved"] == pytest.approx([x, y], abs=0.5)            # still turns about the middle
    assert out["notch"] == pytest.approx(start * 0.999 ** 120)   # pyqtgraph's zoom per angle unit
    assert out["back"] == pytest.approx(start)
    assert out["pixels"] == pytest.approx(out["notch"])
    assert out["pinch"] == pytest.approx(out["pixels"] / 1.25)


def test_side_view_captions_keep_the_sizes_whole_on_a_laptop_screen(window):
    """At 1280x650 (a 1280x720 screen less a title bar and a panel) the side views are at their
    narrowest; the sizes one fits to are still drawn whole, the name goes on a line above."""
    from PyQt6.QtGui import QFontMetricsF

    window.window_layout.apply_default((1280, 650))
    s = window.session
    ann = max(s.annotations(), key=lambda a: (len(a.cls), a.uid))
    s.select((ann.uid,))
    axes = {"top": (0, 1), "side": (0, 2), "front": (1, 2)}   # length, width, height of the box
    for kind, view in window.side.views.items():
        view.grab()
        assert view.width() <= 170, "the window no longer makes the side views narrow: test a smaller one"
        fm = QFontMetricsF(view.font())
        assert all(fm.horizontalAdvance(line) <= view.width() - 6 for line in view.caption), (kind, view.caption)
        last = view.caption[-1]
        assert all(f"{ann.box.size[i]:.2f}" in last for i in axes[kind]), (kind, view.caption)


def test_a_sideways_scroll_pans_the_birds_eye_view_and_a_zoomed_camera(window):
    """Two fingers (or a tilting wheel) sideways pan where a view pans, by the pixels scrolled, and
    zoom nothing; up/down still zooms."""
    bev, cam, top = window.bev, window.cameras.views["cam_front"], window.side.views["top"]
    s = window.session
    s.select((sorted(s.annotations(), key=lambda a: a.uid)[0].uid,))
    top.grab()
    pos = (60.0, 40.0)
    ground = bev.to_world(QPointF(*pos))
    scale = bev.scale
    scroll(bev, pos, pixels=(30, 2))               # the content follows the fingers 30 px right
    assert bev.scale == scale
    assert bev.to_world(QPointF(pos[0] + 30, pos[1])) == pytest.approx(ground)
    scroll(bev, pos, angle=(-120, 0))               # a tilting wheel's notch: some pixels back left
    assert bev.to_world(QPointF(pos[0] + 30, pos[1])) != pytest.approx(ground)
    assert bev.scale == scale
    # a camera at fit has nothing to pan; zoomed in, the image moves under the cursor by the pixels
    at_fit = cam.transform()
    scroll(cam, pos, pixels=(30, 0))
    assert cam.transform() == at_fit
    scroll(cam, pos, angle=(0, 240))
    zoomed = cam.transform()
    scroll(cam, pos, pixels=(-25, 3))
    moved = cam.transform()
    assert moved.sx == zoomed.sx and moved.ox == pytest.approx(zoomed.ox - 25) and moved.oy == pytest.approx(zoomed.oy)
    # the side views follow their cuboid: a sideways scroll neither pans nor zooms them
    side_scale = top.scale
    scroll(top, pos, pixels=(40, 5))
    assert top.scale == side_scale


def test_the_window_fits_a_1024_pixel_wide_screen(window):
    """The main window can be made 1024 px wide (it could not be narrower than 1181: three side
    views of 160 px, the object list never narrower than its columns in full), a cuboid selected or
    not, and at that width every view still shows: the bird's-eye view, the side views, the
    cameras; the object list gives way (its columns scroll sideways) but keeps its filter and count."""
    s = window.session
    with_attributes = [a for a in s.annotations() if s.ontology.classes[a.cls].attributes]
    for selection in ((), (with_attributes[0].uid,)):
        s.select(selection)
        QApplication.processEvents()
        assert window.minimumSizeHint().width() <= 1024, (selection, window.minimumSizeHint())
    window.window_layout.apply_default((1024, 700))
    for _ in range(5):
        QApplication.processEvents()
    assert window.width() == 1024
    views = [window.bev, *window.side.views.values(), *window.cameras.views.values()]
    for view in views:
        assert view.isVisible() and view.width() >= 100 and view.height() >= 80, (type(view).__name__, view.size())
        corner = view.mapTo(window, QPoint(view.width(), view.height()))
        assert corner.x() <= window.width() and corner.y() <= window.height()
    header = window.objects_header
    assert header.count.width() >= header.count.fontMetrics().horizontalAdvance(header.count.text())
    assert header.filter.width() >= 100
    # the side views at their narrowest keep the largest box's sizes whole
    from PyQt6.QtGui import QFontMetricsF
    big = max(s.annotations(), key=lambda a: max(a.box.size))
    s.select((big.uid,))
    for view in window.side.views.values():
        view.grab()
        fm = QFontMetricsF(view.font())
        assert all(fm.horizontalAdvance(line) <= view.width() - 6 for line in view.caption), (view.width(), view.caption)
