"""The app on a real KITTI frame (read in place from the shared real data): points and projected
cuboids line up in the camera view, checked against KITTI's own labelled 2D boxes."""

from __future__ import annotations

import os
from contextlib import contextmanager

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from fusionlabel.app import testing  # noqa: E402
from fusionlabel.app.main_window import MainWindow  # noqa: E402
from fusionlabel.app.session import Session  # noqa: E402
from fusionlabel.geometry.cuboid_projection import rect_iou  # noqa: E402
from fusionlabel.store.project import Project  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.realdata]


@contextmanager
def kitti_window(qtbot, tmp_path, kitti_object, frame_id: str | None = None):
    """The app (2D views) on the real KITTI object folder with its labels imported, at ``frame_id``
    (default: the first frame), shown and loaded; the project goes to tmp (never into the shared
    real data) and is closed afterwards."""
    project = Project.create(tmp_path / "project", kitti_object, import_labels=True)
    try:
        s = Session(project)
        if frame_id is not None:
            s.set_frame(s.drive.index_of(frame_id))
        w = MainWindow(s, use_gl=False)
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        testing.wait_for_frame(w)
        yield w
        w.close()
    finally:
        project.close()


@pytest.mark.parametrize("frame_id", ["000001", "000134"])
def test_kitti_wireframes_match_the_labelled_2d_boxes(qtbot, tmp_path, kitti_object, frame_id):
    with kitti_window(qtbot, tmp_path, kitti_object, frame_id) as w:
        s = w.session
        view = w.cameras.views["image_2"]
        assert view.cam.error is None and view.cam.n_points > 10_000
        wires = {ann.uid: wire for ann, wire in view.wireframes()}
        checked = 0
        for ann in s.annotations():
            x1, y1, x2, y2 = ann.attributes["bbox_2d"]
            uv = wires[ann.uid].hull_points()
            cam = view.cam.camera
            lo = np.clip(uv.min(axis=0), 0, [cam.width - 1, cam.height - 1])
            hi = np.clip(uv.max(axis=0), 0, [cam.width - 1, cam.height - 1])
            iou = rect_iou((lo[0], lo[1], hi[0], hi[1]), (x1, y1, x2, y2))
            assert iou > 0.45, (ann.cls, iou)
            checked += 1
        assert checked == len(s.annotations()) >= 3


def test_propagate_is_refused_on_unrelated_kitti_object_frames(qtbot, tmp_path, kitti_object):
    """A KITTI object folder is a set of unrelated scenes: V has no next view to carry a box into."""
    from PyQt6.QtCore import Qt

    with kitti_window(qtbot, tmp_path, kitti_object) as w:
        s = w.session
        s.select((s.annotations()[0].uid,))
        before = len(s.document.all_annotations())
        qtbot.keyClick(w.bev, Qt.Key.Key_V)
        assert len(s.document.all_annotations()) == before
        assert "not a sequence" in s.messages[-1].text


def test_zoom_onto_a_far_kitti_object_frames_its_labelled_2d_box(qtbot, tmp_path, kitti_object):
    """Shift+Z on the farthest labelled object: its labelled 2D box (KITTI's, not ours) fills the
    zoomed camera, and a click on its centre selects it."""
    from PyQt6.QtCore import QPoint, QRectF, Qt

    with kitti_window(qtbot, tmp_path, kitti_object, "000134") as w:
        s = w.session
        view = w.cameras.views["image_2"]
        anns = s.annotations()
        boxes = {a.uid: a.attributes["bbox_2d"] for a in anns}

        def covers(uid, x, y):
            x1, y1, x2, y2 = boxes[uid]
            return x1 <= x <= x2 and y1 <= y <= y2

        # The farthest object whose 2D box centre no other labelled 2D box covers (a clear click).
        far = [a for a in sorted(anns, key=lambda a: -np.linalg.norm(a.box.center))
               if not any(covers(b.uid, *np.mean(np.reshape(boxes[a.uid], (2, 2)), axis=0))
                          for b in anns if b.uid != a.uid)]
        assert far, "no unambiguous labelled object"
        ann = far[0]
        s.select((ann.uid,))
        w.shortcut_actions["zoom_cameras_to_selection()"].trigger()
        assert view.transform().sx > 2 * view.image_rect().width() / view.cam.camera.width
        x1, y1, x2, y2 = boxes[ann.uid]
        a, b = view.image_to_screen((x1, y1)), view.image_to_screen((x2, y2))
        rect = view.visible_rect().adjusted(-2, -2, 2, 2)
        assert rect.contains(a) and rect.contains(b)
        shown = QRectF(a, b)
        assert max(shown.width() / rect.width(), shown.height() / rect.height()) > 0.35
        s.select(())
        c = view.image_to_screen(((x1 + x2) / 2, (y1 + y2) / 2))
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(int(c.x()), int(c.y())))
        assert s.selection == (ann.uid,)
