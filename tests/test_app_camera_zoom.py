"""Zoom and pan of the camera views: the transform (Qt-free), the zoomed image, points and
wireframes drawn through it (checked against the lens model, not the drawing code), and the
mouse and keys on the real window (pytest-qt, offscreen)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from fusionlabel.app.camera_zoom import (
    MAX_PIXEL_SCALE,
    MIN_ZOOM_REGION,
    NEAREST_FROM,
    POINT_PX,
    CameraZoom,
    ViewTransform,
    draw_points_over,
    fit_rect,
    render_zoomed,
)

IMAGE = (2048, 1536)
VIEW = (800, 500)


def image_point_under(zoom: CameraZoom, pos) -> np.ndarray:
    return zoom.transform(IMAGE, VIEW).to_image(pos)


# ---------------------------------------------------------------------------- the transform
def test_fit_transform_is_the_fitted_rectangle():
    tf = CameraZoom().transform(IMAGE, VIEW)
    # 2048x1536 in 800x500: height-limited, 666 px wide, centred.
    w = int(2048 * 500 / 1536)
    assert tf.visible_rect(IMAGE, VIEW) == ((800 - w) // 2, 0, w, 500)
    # The image's outer edges (pixel -0.5 and width - 0.5) land on the rectangle's edges.
    np.testing.assert_allclose(tf.to_screen([[-0.5, -0.5], [2047.5, 1535.5]]),
                               [[(800 - w) // 2, 0], [(800 - w) // 2 + w, 500]])


def test_fitted_the_image_covers_its_fitted_rectangle_at_every_view_size():
    """No row or column more than the fitted rectangle (the size the loader scales the image to),
    whatever float error the scale carries (a 1280 x 720 image in 372 x 234: 209 / 720 * 720 is
    209.00000000000003, which once made it 210 rows, stretching the image by one)."""
    for image in ((1280, 720), (1600, 900), (2048, 1536), (1242, 375)):
        for view in ((372, 234), *((w, h) for w in range(160, 700, 7) for h in range(90, 400, 11))):
            tf = CameraZoom().transform(image, view)
            assert tf.visible_rect(image, view) == fit_rect(image, view), (image, view)


@pytest.mark.parametrize("pos", [(400, 250), (130, 40), (700, 480), (0, 0)])
def test_wheel_zoom_keeps_the_image_point_under_the_cursor(pos):
    z = CameraZoom()
    for factor in (1.25, 1.25, 2.0, 1.6, 0.8):
        before = image_point_under(z, pos)
        z.zoom_at(factor, pos, IMAGE, VIEW)
        after = image_point_under(z, pos)
        # Exactly still, unless the clamp to the image edge had to move it (pos outside the
        # image at fit: (0, 0) is left of the fitted image, so the zoom pulls the image over it).
        if 0 <= before[0] < 2047 and 0 <= before[1] < 1535 and z.zoom > 2:
            np.testing.assert_allclose(after, before, atol=1e-9)


def test_transform_changes_nothing_so_a_camera_resized_back_shows_the_same_spot():
    """transform() only reads the zoom: asked for a wider widget (where the centre has to be
    clamped nearer the middle) it leaves ``center`` alone, so the same transform comes back when
    the widget is as before; pan and zoom store the centre clamped as they did."""
    z = CameraZoom()
    z.zoom_at(4.0, (790, 490), IMAGE, VIEW)               # near the bottom-right corner
    center, tf = z.center, z.transform(IMAGE, VIEW)
    wide = (3000, 500)                                    # same height: the same scale
    wide_tf = z.transform(IMAGE, wide)
    assert z.center == center
    assert wide_tf.sx == tf.sx and wide_tf.to_image((1500, 250))[0] < tf.to_image((400, 250))[0]   # clamped there
    assert z.transform(IMAGE, VIEW) == tf
    z.pan(-1e6, -1e6, IMAGE, VIEW)                        # far past the edge: stored clamped
    half = VIEW[0] / (2 * tf.sx)
    assert z.center[0] == pytest.approx(IMAGE[0] - half)
    assert z.center == CameraZoom.clamped(z.center, IMAGE, VIEW, tf.sx)


def test_zoom_is_clamped_between_fit_and_16_native_pixels():
    z = CameraZoom()
    z.zoom_at(0.5, (400, 250), IMAGE, VIEW)
    assert z.zoom == 1.0 and not z.zoomed
    for _ in range(60):
        z.zoom_at(1.25, (400, 250), IMAGE, VIEW)
    tf = z.transform(IMAGE, VIEW)
    assert tf.sx == pytest.approx(MAX_PIXEL_SCALE) and tf.sy == pytest.approx(MAX_PIXEL_SCALE)
    for _ in range(60):
        z.zoom_at(0.8, (400, 250), IMAGE, VIEW)
    assert not z.zoomed and z.transform(IMAGE, VIEW) == CameraZoom().transform(IMAGE, VIEW)


def test_pan_moves_the_image_with_the_mouse_and_stops_at_its_edges():
    z = CameraZoom()
    z.zoom_at(4.0, (400, 250), IMAGE, VIEW)
    before = image_point_under(z, (300, 200))
    z.pan(25, -10, IMAGE, VIEW)  # the image follows the mouse: the point moves 25 right, 10 up
    np.testing.assert_allclose(image_point_under(z, (325, 190)), before, atol=1e-9)
    z.pan(1e6, 1e6, IMAGE, VIEW)  # far past the top-left corner: the corner stops at the widget's
    tf = z.transform(IMAGE, VIEW)
    np.testing.assert_allclose(tf.to_screen([-0.5, -0.5]), [0, 0], atol=1e-9)
    z.pan(-1e6, -1e6, IMAGE, VIEW)
    np.testing.assert_allclose(z.transform(IMAGE, VIEW).to_screen([2047.5, 1535.5]), VIEW, atol=1e-9)


def test_show_region_fits_the_region_with_a_margin():
    z = CameraZoom()
    lo, hi = np.array([1500.0, 700.0]), np.array([1530.0, 720.0])  # a far car, 30 x 20 px
    z.show_region(lo, hi, IMAGE, VIEW)
    tf = z.transform(IMAGE, VIEW)
    a, b = tf.to_screen(lo), tf.to_screen(hi)
    assert (a >= 0).all() and (b <= VIEW).all()
    assert max((b - a) / VIEW) > 0.5  # fills most of the view ...
    np.testing.assert_allclose((a + b) / 2, np.array(VIEW) / 2, atol=1.0)  # ... centred
    z.show_region([0, 0], [0.1, 0.1], IMAGE, VIEW)  # a tiny region: no more than 16x
    assert z.transform(IMAGE, VIEW).sx == pytest.approx(MAX_PIXEL_SCALE)


# ---------------------------------------------------------------------------- the drawn image
class FakeCamera:
    def __init__(self, width, height):
        self.width, self.height = width, height


class FakeCameraFrame:
    """Just what render_zoomed reads: an image with one marked pixel, and one point."""

    def __init__(self, marker, point_uv):
        self.camera = FakeCamera(*IMAGE)
        self.image = np.full((IMAGE[1], IMAGE[0], 3), 40, np.uint8)
        self.image[marker[1], marker[0]] = (255, 255, 0)
        self.image_with_points = self.image
        self.points_uv = np.array([point_uv], np.float32)
        self.points_rgb = np.array([[255, 0, 255]], np.uint8)
        self.pyramid = {}


STATES = [(3.0, (400, 250)), (8.0, (123, 77)), (25.0, (610, 410)), (80.0, (400, 250))]


@pytest.mark.parametrize("factor,pos", STATES)
def test_zoomed_image_and_points_sit_where_the_transform_says(factor, pos):
    marker, point = (1203, 811), (1210.3, 806.7)
    cam = FakeCameraFrame(marker, point)
    z = CameraZoom()
    z.zoom_at(factor, pos, IMAGE, VIEW)
    z.center = (marker[0] + 0.5, marker[1] + 0.5)  # look at the marker
    tf = z.transform(IMAGE, VIEW)
    rect = tf.visible_rect(IMAGE, VIEW)
    canvas = render_zoomed(cam, tf, rect, show_points=tf.sx > 1.0)
    assert canvas.shape == (rect[3], rect[2], 3)
    if 1.0 <= tf.sx < NEAREST_FROM:  # smoothed: the brightest widget pixel is the marker's centre
        peak = np.unravel_index(np.argmax(canvas[..., 1]), canvas.shape[:2])
        np.testing.assert_allclose(np.array(peak[::-1]) + 0.5, tf.to_screen(marker) - rect[:2], atol=1.0)
    if tf.sx >= NEAREST_FROM:
        # Pixels shown as squares: the marker pixel covers [marker - 0.5, marker + 0.5).
        a = tf.to_screen(np.array(marker) - 0.5) - rect[:2]
        b = tf.to_screen(np.array(marker) + 0.5) - rect[:2]
        yellow = np.argwhere((canvas == (255, 255, 0)).all(axis=2))
        assert len(yellow)
        assert yellow[:, 1].min() >= np.floor(a[0]) and yellow[:, 1].max() <= np.ceil(b[0])
        assert yellow[:, 0].min() >= np.floor(a[1]) and yellow[:, 0].max() <= np.ceil(b[1])
        centre = yellow.mean(axis=0)[::-1] + 0.5
        np.testing.assert_allclose(centre, tf.to_screen(marker) - rect[:2], atol=max(0.5, tf.sx * 0.05))
    if tf.sx > 1.0:  # the point is drawn over the image, a POINT_PX square centred on it
        magenta = np.argwhere((canvas == (255, 0, 255)).all(axis=2))
        assert len(magenta) == POINT_PX * POINT_PX
        centre = magenta.mean(axis=0)[::-1] + 0.5
        np.testing.assert_allclose(centre, tf.to_screen(point) - rect[:2], atol=0.5)


def test_points_off_the_canvas_are_left_out():
    canvas = np.zeros((50, 60, 3), np.uint8)
    tf = ViewTransform(4.0, 4.0, -100.0, -100.0)
    uv = np.array([[10.0, 10.0], [100.0, 100.0], [24.5, 24.5]], np.float32)
    rgb = np.array([[1, 1, 1], [2, 2, 2], [3, 3, 3]], np.uint8)
    n = draw_points_over(canvas, uv, rgb, tf, (0, 0))
    assert n == 1  # (10, 10) -> widget (-58, -58) and (100, 100) -> (302, 302): off; (24.5, 24.5) -> (0, 0)
    assert (canvas[:2, :2] == 3).all() and not canvas[2:].any() and not canvas[:, 2:].any()  # a clipped square


class DenseCameraFrame(FakeCameraFrame):
    """A KITTI-sized image (1242 × 375) with points spread over it, splatted into the image as
    the loader does."""

    def __init__(self):
        from fusionlabel.render.splat import splat_size, splat_squares

        self.camera = FakeCamera(1242, 375)
        self.image = np.full((375, 1242, 3), 40, np.uint8)
        u, v = np.meshgrid(np.arange(20.0, 1220.0, 12.0), np.arange(20.0, 360.0, 12.0))
        self.points_uv = np.stack([u.ravel(), v.ravel()], axis=1).astype(np.float32)
        self.points_rgb = np.tile(np.array([[255, 0, 255]], np.uint8), (len(self.points_uv), 1))
        self.image_with_points = self.image.copy()
        splat_squares(self.image_with_points, self.points_uv, self.points_rgb, splat_size(1242))
        self.pyramid = {}


def point_cover(canvas) -> float:
    """The share of the canvas the (magenta) points cover."""
    return float(((canvas[..., 0] > 150) & (canvas[..., 1] < 100) & (canvas[..., 2] > 150)).mean())


def test_points_do_not_jump_in_size_just_past_native_resolution():
    """Zooming a KITTI camera from native resolution to 1.1× enlarges what the points cover by
    about 1.1² (they used to become 4-pixel squares at once: 4× the cover, hiding the image)."""
    cam = DenseCameraFrame()
    cover = {}
    for s in (1.0, 1.1):
        tf = ViewTransform(s, s, 0.0, 0.0)
        rect = (0, 0, int(1000 * s), int(330 * s))
        cover[s] = point_cover(render_zoomed(cam, tf, rect, show_points=True))
    assert cover[1.0] > 0.02
    assert cover[1.1] < 1.5 * cover[1.0], cover
    # Further in, the points grow to POINT_PX and no more.
    tf = ViewTransform(6.0, 6.0, -600.0, -600.0)
    canvas = render_zoomed(cam, tf, (0, 0, 400, 300), show_points=True)
    assert 0 < point_cover(canvas) <= POINT_PX ** 2 / 72.0 ** 2 * 2

# ---------------------------------------------------------------------------- the window
qt = pytest.importorskip("PyQt6")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt  # noqa: E402
from PyQt6.QtGui import QMouseEvent, QWheelEvent  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

from conftest import nearest_seen_box  # noqa: E402
from fusionlabel.app import testing  # noqa: E402
from fusionlabel.geometry.cuboid import EDGES  # noqa: E402
from fusionlabel.geometry.transforms import transform_points  # noqa: E402
from fusionlabel.render.splat import splat_size  # noqa: E402


def wheel(view, pos, notches: float) -> None:
    p = QPointF(*pos)
    ev = QWheelEvent(p, view.mapToGlobal(p), QPoint(0, 0), QPoint(0, int(120 * notches)),
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view, ev)


def drag(view, button, start, end, steps: int = 4) -> None:
    def send(kind, pos, buttons):
        p = QPointF(*pos)
        ev = QMouseEvent(kind, p, view.mapToGlobal(p), button if kind != QEvent.Type.MouseMove
                         else Qt.MouseButton.NoButton, buttons, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(view, ev)

    send(QEvent.Type.MouseButtonPress, start, button)
    for f in np.linspace(0, 1, steps + 1)[1:]:
        send(QEvent.Type.MouseMove, np.asarray(start) + f * (np.asarray(end) - np.asarray(start)), button)
    send(QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)


def nearest_box_in(view, session):
    """(annotation, centre pixel, corner pixels) of the nearest cuboid whose centre the camera sees,
    from the lens model (not the wireframe code)."""
    cam = view.cam
    ann, uv = nearest_seen_box(cam, session.annotations())
    corners = cam.camera.project(transform_points(cam.T_cam_lidar, ann.box.corners()))
    return ann, uv, corners.uv[corners.in_image]


def widget_point(qp: QPointF) -> QPoint:
    return QPoint(int(np.floor(qp.x())), int(np.floor(qp.y())))


def test_wheel_zoom_pan_click_and_frames_on_the_window(qtbot, window):
    s = window.session
    view = window.cameras.views["cam_front"]
    ann, uv, _ = nearest_box_in(view, s)
    cursor = view.image_to_screen(uv)
    wheel(view, (cursor.x(), cursor.y()), 3)  # three notches over the box
    assert view.view_zoom.zoomed
    np.testing.assert_allclose(view.screen_to_image(cursor), uv, atol=1e-6)
    # Clicking the box still selects it (picking goes through the same transform).
    s.select(())
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=widget_point(view.image_to_screen(uv)))
    assert s.selection == (ann.uid,)
    # A middle drag pans: the image follows the mouse (from the middle of the image, away from its edges).
    view.view_zoom.center = (view.cam.camera.width / 2, view.cam.camera.height / 2)
    start = view.image_to_screen(uv)
    mid = (view.width() / 2, view.height() / 2)
    drag(view, Qt.MouseButton.MiddleButton, mid, (mid[0] - 30, mid[1] - 20))
    moved = view.image_to_screen(uv)
    assert (moved.x() - start.x(), moved.y() - start.y()) == pytest.approx((-30, -20), abs=1e-6)
    # A left drag pans too, and selects nothing.
    s.select(())
    drag(view, Qt.MouseButton.LeftButton, mid, (mid[0] + 40, mid[1]))
    assert view.image_to_screen(uv).x() - moved.x() == pytest.approx(40, abs=1e-6)
    assert s.selection == ()
    # Stepping frames keeps each camera's zoom and pan (the same spot across frames).
    tf = view.transform()
    window.actions_.next_frame()
    testing.wait_for_frame(window)
    view.grab()
    assert view.transform() == tf and view.painted_frame == s.frame
    # The other cameras were not touched.
    assert not any(v.view_zoom.zoomed for n, v in window.cameras.views.items() if n != "cam_front")
    # Ctrl+0 puts every camera back to the whole image.
    window.shortcut_actions["fit_cameras()"].trigger()
    assert not view.view_zoom.zoomed and view.visible_rect() == view.image_rect()


@pytest.mark.parametrize("notches,pan", [(0, (0, 0)), (2, (0, 0)), (5, (35, -25)), (9, (-60, 40)), (30, (20, 10))])
def test_points_and_wireframes_stay_on_the_image_when_zoomed(qtbot, window, notches, pan):
    s = window.session
    view = window.cameras.views["cam_front"]
    ann, uv, corners = nearest_box_in(view, s)
    s.select((ann.uid,))
    c = view.image_to_screen(uv)
    wheel(view, (c.x(), c.y()), notches)
    view.view_zoom.pan(*pan, view.image_size(), view.view_size())
    tf = view.transform()
    # One LiDAR point inside the box, projected with the lens model.
    cam = view.cam
    pts = window.displayed.points[:, :3]
    local = (pts - np.asarray(ann.box.center)) @ ann.box.rotation()
    inside = np.all(np.abs(local) < np.asarray(ann.box.size) / 2, axis=1)
    proj = cam.camera.project(transform_points(cam.T_cam_lidar, pts[inside]))
    assert proj.in_image.any()
    seen = proj.uv[proj.in_image]  # the one nearest the middle of the view (zoomed in, most are off it)
    mid = view.transform().to_image((view.width() / 2, view.height() / 2))
    point_uv = seen[np.argmin(np.linalg.norm(seen - mid, axis=1))]
    # Draw only that point, in its own colour, so it can be found in the picture; the cuboids
    # hidden (B), so that no outline or label drawn over the points covers part of it.
    cam.points_uv = point_uv[None].astype(np.float32)
    cam.points_rgb = np.array([[255, 0, 255]], np.uint8)
    s.set_layer("boxes", False)
    image = view.grab().toImage()
    s.set_layer("boxes", True)
    if tf.sx > 1.0:  # beyond native resolution the points are drawn over the image, as large
        # as their splat at native resolution looks at this zoom, up to POINT_PX
        side = min(POINT_PX, round(splat_size(cam.camera.width) * tf.sx))
        xy = view.image_to_screen(point_uv)
        found = [(x, y) for x in range(int(xy.x()) - 4, int(xy.x()) + 5) for y in range(int(xy.y()) - 4, int(xy.y()) + 5)
                 if image.pixelColor(x, y).getRgb()[:3] == (255, 0, 255)]
        assert len(found) == side * side
        np.testing.assert_allclose(np.mean(found, axis=0) + 0.5, (xy.x(), xy.y()), atol=0.5)
    image = view.grab().toImage()
    # Points along the selected box's edges (lens model) are on its drawn outline: white halo or
    # class colour within a pixel.
    color = tuple(int(v) for v in s.ontology.color(ann.cls))
    rect = view.visible_rect().adjusted(3, 3, -3, -3)
    corners3d = transform_points(cam.T_cam_lidar, ann.box.corners())
    f = np.linspace(0.0, 1.0, 41)[:, None]
    samples = np.concatenate([corners3d[i] + f * (corners3d[j] - corners3d[i]) for i, j in EDGES])
    proj = cam.camera.project(samples)
    checked = 0
    for uv_edge in proj.uv[proj.in_image]:
        q = view.image_to_screen(uv_edge)
        if not rect.contains(q) or any(QRectF(*r).adjusted(-2, -2, 2, 2).contains(q)
                                       for r in [*view.label_rects.values(), view.caption_rect]):
            continue  # off the view, or under the box's label or the camera's caption
        near = {image.pixelColor(int(q.x()) + dx, int(q.y()) + dy).getRgb()[:3]
                for dx in (-1, 0, 1) for dy in (-1, 0, 1)}
        assert near & {(255, 255, 255), color}, (uv_edge, q, near)
        checked += 1
    assert checked >= 10


def test_zoom_to_selection_key_fits_the_box(qtbot, window):
    s = window.session
    view = window.cameras.views["cam_front"]
    # The farthest box the camera sees whole: the case the key is for.
    cam = view.cam
    far = None
    for ann in s.annotations():
        proj = cam.camera.project(transform_points(cam.T_cam_lidar, ann.box.corners()))
        depth = transform_points(cam.T_cam_lidar, np.asarray(ann.box.center)[None])[0, 2]
        if proj.in_image.all() and (far is None or depth > far[0]):
            far = (depth, ann, proj.uv)
    assert far is not None
    _, ann, corners = far
    window.shortcut_actions["zoom_cameras_to_selection()"].trigger()  # nothing selected: a message
    assert not view.view_zoom.zoomed
    s.select((ann.uid,))
    window.shortcut_actions["zoom_cameras_to_selection()"].trigger()
    assert view.view_zoom.zoomed
    xy = np.array([[q.x(), q.y()] for q in map(view.image_to_screen, corners)])
    rect = view.visible_rect()
    assert (xy.min(axis=0) >= (rect.left(), rect.top())).all()
    assert (xy.max(axis=0) <= (rect.right() + 1, rect.bottom() + 1)).all()
    span = (xy.max(axis=0) - xy.min(axis=0)) / (rect.width(), rect.height())
    # It fills the view but for the margin, unless the view would show fewer than MIN_ZOOM_REGION
    # image pixels (a box of a few pixels) or pass 16x.
    tf = view.transform()
    shown = min(rect.width() / tf.sx, rect.height() / tf.sy)
    assert (span.max() > 0.5 or shown == pytest.approx(MIN_ZOOM_REGION, rel=0.01)
            or tf.sx == pytest.approx(MAX_PIXEL_SCALE))


def test_side_view_wheel_zooms_about_the_box_and_edges_still_drag(qtbot, window):
    s = window.session
    anns = sorted(s.annotations(), key=lambda a: a.uid)
    ann, other = anns[0], anns[1]
    s.select((ann.uid,))
    top = window.side.views["top"]
    top.grab()
    fitted = top.scale
    front = np.array([[ann.box.length / 2, 0.0, 0.0]])
    mid = np.array([top.width() / 2, top.height() / 2])
    before = top.to_screen(front)[0] - mid
    wheel(top, (10, 10), 2)  # anywhere in the view: about the box's centre
    assert top.scale == pytest.approx(fitted * 1.25 ** 2)
    np.testing.assert_allclose(top.to_screen(front)[0] - mid, before * 1.25 ** 2, atol=1e-9)
    # Dragging the front edge 25 px still makes it 25 px longer at the new scale.
    a = top.to_screen(front)[0]
    drag(top, Qt.MouseButton.LeftButton, (round(a[0]), round(a[1])), (round(a[0]) + 25, round(a[1])))
    new = s.document.get(ann.uid).box
    assert abs(new.length - (ann.box.length + 25 / top.scale)) < 1.5 / top.scale
    assert top.scale == pytest.approx(fitted * 1.25 ** 2)  # the edit kept the zoom
    # Another box is fitted again; zoom is clamped.
    s.select((other.uid,))
    top.grab()
    assert top.zoom == 1.0
    wheel(top, (10, 10), 40)
    assert top.zoom == 8.0
