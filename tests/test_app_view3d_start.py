"""Where the 3D view starts on a KITTI object frame (labelled only ahead of the ego): the labels
fill a good part of the default 3D pane, all of them on screen, seen from above and behind. Runs
the app on a real display in a subprocess (OpenGL); skips without one or without the KITTI sample."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_on_display

pytest.importorskip("PyQt6")
pytest.importorskip("pyqtgraph")

pytestmark = pytest.mark.gui

OPEN = r"""
import json, sys, tempfile
import numpy as np
from PyQt6.QtWidgets import QApplication
app = QApplication([])
from fusionlabel.app import testing
from fusionlabel.app.main import open_project
from fusionlabel.app.main_window import MainWindow
from fusionlabel.app.session import Session
from fusionlabel.model.rig import forward_in_lidar

with tempfile.TemporaryDirectory() as tmp:
    project = open_project(DRIVE, tmp + "/p")
    s = Session(project)
    s.set_frame(project.drive.index_of(FRAME))
    w = MainWindow(s, use_gl=True)
    if w.view3d is None:
        print(json.dumps({"skip": "no OpenGL on this display"})); sys.exit(0)
    w.window_layout.apply_default((1600, 1000))   # the default window and panes
    testing.show_window(w)
"""   # the window on frame FRAME of the KITTI object folder DRIVE, shown (3D view: OpenGL)

SCRIPT = OPEN + r"""
    for _ in range(5):
        app.processEvents()
    v = w.view3d
    v.makeCurrent(); v.paintGL()
    corners = np.vstack([a.box.corners() for a in s.annotations()])
    uv, front = v.screen_points(corners)
    out = {"uv": uv.tolist(), "front": front.tolist(), "size": [v.width(), v.height()],
           "eye": [float(c) for c in v.cameraPosition()], "corners": corners.tolist(),
           "forward": forward_in_lidar(s.rig()).tolist()}
    w.close(); project.close()
print(json.dumps(out))
"""


@pytest.mark.parametrize("frame", ["000001", "000134"])   # 3 labels 46-74 m ahead; 15 labels 5-45 m ahead
def test_kitti_labels_fill_the_3d_pane_seen_from_above_behind(kitti_object, frame):
    out = run_on_display(SCRIPT.replace("DRIVE", repr(str(kitti_object))).replace("FRAME", repr(frame)))
    uv, (w, h) = np.array(out["uv"]), out["size"]
    assert all(out["front"])                                   # every corner in front of the eye ...
    assert (uv >= 0).all() and (uv[:, 0] <= w).all() and (uv[:, 1] <= h).all()   # ... and on screen
    extent = (uv.max(axis=0) - uv.min(axis=0)) / (w, h)
    assert extent.max() >= 0.7, extent                          # the labels span most of the pane
    corners, eye, forward = np.array(out["corners"]), np.array(out["eye"]), np.array(out["forward"])
    ahead = corners[:, :2] @ forward
    assert eye[:2] @ forward < ahead.min()                     # behind the nearest label
    middle = (corners.min(axis=0) + corners.max(axis=0)) / 2.0
    look = middle - eye                                        # looking down on their middle steeply
    assert np.degrees(np.arctan2(-look[2], np.linalg.norm(look[:2]))) >= 45.0


STEP_SCRIPT = OPEN.replace("FRAME", repr("000001")) + r"""
    def on_screen():
        for _ in range(5):
            app.processEvents()
        w.view3d.makeCurrent(); w.view3d.paintGL()
        return w.view3d.shows(np.array([a.box.center for a in s.annotations()])).tolist()

    out = {"first": on_screen()}
    w.actions_.next_frame()          # 000002: a trailer at 8 m and a car at 33 m, out of the 3D view left on 000001
    testing.wait_for_frame(w, s.frame)
    out["bev"] = [bool(w.bev.shows(np.array([a.box.center[:2]]))[0]) for a in s.annotations()]
    out["next"] = on_screen()
    w.close(); project.close()
print(json.dumps(out))
"""


def test_stepping_to_an_unrelated_kitti_frame_starts_the_3d_view_on_its_labels(kitti_object):
    """KITTI object frames are unrelated scenes: the 3D view fitted to 000001's labels 46-74 m ahead
    shows none of 000002's (8 and 33 m), though the bird's-eye view does; it starts on them."""
    out = run_on_display(STEP_SCRIPT.replace("DRIVE", repr(str(kitti_object))))
    assert all(out["first"])
    assert any(out["bev"])            # the bird's-eye view keeps its place: it shows them
    assert len(out["next"]) == 2 and all(out["next"]), out
