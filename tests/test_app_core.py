"""The app's Qt-free parts: drag geometry, the point grid, frame loading, session and actions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fusionlabel.app import testing
from fusionlabel.app.actions import Actions
from fusionlabel.app.box_edit import (
    BEV_HANDLES,
    MIN_SIZE,
    bev_handle_points,
    moved_local,
    resized_bev,
    rotated_to,
    with_edges,
)
from fusionlabel.app.frame_data import load_frame_data
from fusionlabel.app.point_index import PointGrid
from fusionlabel.app.session import Session
from fusionlabel.geometry.cuboid import Cuboid, points_in_cuboid
from fusionlabel.geometry.transforms import transform_points
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model.commands import CreateCuboid
from fusionlabel.store.project import Project


def face_corners(box: Cuboid, axis: int, sign: int) -> np.ndarray:
    """The 4 corners (4, 3) on one face, sorted for comparison."""
    local = (box.corners() - np.asarray(box.center)) @ box.rotation()
    c = box.corners()[np.isclose(local[:, axis], sign * box.size[axis] / 2)]
    return c[np.lexsort(c.T)]


@pytest.mark.parametrize("pitch,roll", [(0.0, 0.0), (0.1, -0.05)])
def test_with_edges_moves_one_face_and_keeps_the_opposite(pitch, roll):
    box = Cuboid((3.0, -2.0, 0.5), (4.0, 2.0, 1.5), 0.7, pitch, roll)
    for axis in range(3):
        for sign in (-1, 1):
            t = sign * (box.size[axis] / 2 + 0.3)  # push the face 30 cm outwards
            new = with_edges(box, {axis: (sign, t)})
            assert math.isclose(new.size[axis], box.size[axis] + 0.3)
            assert np.allclose(face_corners(new, axis, -sign), face_corners(box, axis, -sign))
            assert (new.yaw, new.pitch, new.roll) == (box.yaw, box.pitch, box.roll)
    # Dragging past the opposite face stops at the minimum size instead of flipping the box.
    tiny = with_edges(box, {0: (1, -10.0)})
    assert math.isclose(tiny.length, MIN_SIZE)
    assert np.allclose(face_corners(tiny, 0, -1), face_corners(box, 0, -1))


def test_bev_handles_resize_with_the_opposite_side_fixed():
    box = Cuboid((10.0, 5.0, -1.0), (4.5, 1.9, 1.6), -2.0)
    handles = bev_handle_points(box)
    for name, (ax, ay) in BEV_HANDLES.items():
        # Drag each handle 0.5 m further out along its own direction(s).
        out = np.array([ax * 0.5, ay * 0.5])
        c, s = math.cos(box.yaw), math.sin(box.yaw)
        target = handles[name] + np.array([[c, -s], [s, c]]) @ out
        new = resized_bev(box, name, target)
        assert math.isclose(new.length, box.length + 0.5 * abs(ax))
        assert math.isclose(new.width, box.width + 0.5 * abs(ay))
        opposite = {k: v for k, v in BEV_HANDLES.items() if v == (-ax, -ay)}
        (opp,) = opposite
        assert np.allclose(bev_handle_points(new)[opp], handles[opp])


def test_rotate_and_move_local():
    box = Cuboid((1.0, 1.0, 0.0), (4.0, 2.0, 1.5), 0.3)
    start = np.array([3.0, 1.0])  # 0 rad from the centre
    end = np.array([1.0, 3.0])  # +90 degrees
    assert math.isclose(rotated_to(box, start, end, box.yaw).yaw, 0.3 + math.pi / 2)
    snapped = rotated_to(box, start, end + (0.3, 0.0), box.yaw, snap=math.radians(15))
    assert math.isclose(math.degrees(snapped.yaw) % 15, 0, abs_tol=1e-9) or \
        math.isclose(math.degrees(snapped.yaw) % 15, 15, abs_tol=1e-9)
    m = moved_local(box, (1.0, 0.0, 0.0))
    assert np.allclose(np.subtract(m.center, box.center), box.heading())
    tilted = Cuboid((1.0, 1.0, 0.0), (4.0, 2.0, 1.5), 0.3, pitch=0.03, roll=-0.02)
    turned = rotated_to(tilted, start, end, tilted.yaw)     # the BEV knob: about the box's own up axis
    assert np.allclose(turned.rotation()[:, 2], tilted.rotation()[:, 2], atol=1e-12)
    assert np.allclose(turned.heading(), tilted.rotation()[:, 1], atol=1e-12)


def test_point_grid_matches_brute_force():
    rng = np.random.default_rng(0)
    pts = np.column_stack([rng.uniform(-60, 60, (50_000, 2)), rng.uniform(-3, 3, 50_000),
                           rng.uniform(0, 1, 50_000)]).astype(np.float32)
    pts[::997, 0] = np.nan  # non-finite points are ignored
    grid = PointGrid(pts, cell=2.0)
    for _ in range(40):
        box = Cuboid(rng.uniform(-55, 55, 3) * (1, 1, 0.02), rng.uniform(0.5, 12, 3), rng.uniform(-3, 3),
                     rng.uniform(-0.2, 0.2), rng.uniform(-0.2, 0.2))
        brute = np.flatnonzero(points_in_cuboid(np.nan_to_num(pts, nan=1e9), box))
        idx, local = grid.near_box(box)
        assert np.array_equal(np.sort(idx), brute)
        assert grid.count_in_box(box) == len(brute)
        assert np.allclose(local, (pts[idx, :3] - np.asarray(box.center)) @ box.rotation(), atol=1e-4)
        grown = np.flatnonzero(points_in_cuboid(np.nan_to_num(pts, nan=1e9), box, margin=0.7))
        assert np.array_equal(np.sort(grid.near_box(box, 0.7)[0]), grown)


def test_point_grid_on_real_kitti(kitti_object):
    from fusionlabel.io.drives import open_drive

    drive = open_drive(kitti_object)
    i = drive.index_of("000001")
    pts = drive.points(i)
    grid = PointGrid(pts)
    labels = drive.labels(i)
    assert labels
    for lab in labels:
        assert grid.count_in_box(lab.box) == int(points_in_cuboid(pts, lab.box).sum())


def test_frame_data_projects_like_the_camera_model():
    from fusionlabel.io.drives import open_drive

    drive = open_drive(testing.small_drive())
    data = load_frame_data(drive, 0)
    assert not data.errors and len(data.points) > 1000
    assert set(data.cameras) == set(drive.rig(0).camera_names)
    for name, cam in data.cameras.items():
        # Independent count: the camera model's own project() on every point.
        p_cam = transform_points(cam.T_cam_lidar, data.points.astype(np.float64))
        expected = int(cam.camera.project(p_cam).in_image.sum())
        assert abs(cam.n_points - expected) <= max(2, expected // 1000), name
        assert cam.image.shape == (cam.camera.height, cam.camera.width, 3)
        changed = np.any(cam.image_with_points != cam.image, axis=2).sum()
        assert changed > 0.5 * min(expected, 1000)


@pytest.fixture
def session(tmp_path):
    project = Project.create(tmp_path / "project", testing.small_drive())
    s = Session(project)
    yield s
    s.close()
    project.close()


class Hooks:
    def __init__(self, points, xy=None):
        self.points, self.xy = points, xy

    def frame_points(self):
        return self.points

    def create_position(self):
        return self.xy


def test_actions_headless(session):
    from fusionlabel.io.drives import open_drive

    pts = open_drive(testing.small_drive()).points(0)
    events = []
    session.subscribe(lambda kind, payload: events.append(kind))
    actions = Actions(session, Hooks(pts, (14.0, -3.0)))
    actions.create()
    (ann,) = session.annotations()
    assert session.selection == (ann.uid,) and "document" in events and "selection" in events
    near = pts[np.hypot(pts[:, 0] - 14.0, pts[:, 1] + 3.0) < 3.0]
    assert abs(ann.box.bottom_center()[2] - np.percentile(near[:, 2], 5)) < 1e-6
    actions.rotate(15.0)
    assert math.isclose(session.document.get(ann.uid).box.yaw, math.radians(15.0))
    actions.set_class("bus")
    assert session.document.get(ann.uid).cls == "bus" and session.current_class == "bus"
    actions.copy_to_next_frame()
    copy = session.document.find_track(ann.track_id, 1)
    assert copy is not None
    actions.copy_to_next_frame()  # the track is there already: a message, no command
    assert session.messages[-1].text.startswith("nothing to copy")
    actions.next_frame()
    assert session.frame == 1 and session.selection == (copy.uid,)
    actions.jump_track(-1)
    assert session.frame == 0 and session.selection == (ann.uid,)
    # A pre-label (source "model") becomes human when accepted.
    pre = session.apply(CreateCuboid(0, CuboidLabel(Cuboid((20, 0, -1), (4, 2, 1.5)), "car", score=0.7,
                                                    source="model")))
    session.select((pre.uid,))
    actions.accept_prelabel()
    assert session.document.get(pre.uid).source == "human"
    actions.set_frame_status("done")
    assert session.document.frame_status(0) == "done"
    actions.undo()  # back to what the first edit of the frame made it
    assert session.document.frame_status(0) == "in_progress"
    # The frame and view settings persist in the project.
    actions.cycle_color_mode()
    assert session.project.get_setting("color_mode") == "intensity"
    actions.next_frame()  # the frame is saved when stepping pauses (the window flushes)
    assert session.project.get_setting("frame") == 0
    session.flush_settings()
    assert session.project.get_setting("frame") == 1


def test_batched_wireframes_match_the_per_box_geometry():
    """projected_boxes.wireframes (all boxes at once) equals cuboid_wireframe_pixels box by box,
    for the sample rig's radial-tangential, fisheye and pinhole cameras, boxes behind included."""
    from fusionlabel.app.projected_boxes import WIRE_EDGES, wireframes
    from fusionlabel.geometry.cameras import PinholeCamera
    from fusionlabel.geometry.cuboid_projection import cuboid_wireframe_pixels
    from fusionlabel.io.drives import open_drive

    drive = open_drive(testing.small_drive())
    boxes = [lab.box for lab in drive.labels(0)]
    assert len(boxes) > 10
    seen = 0
    for name in drive.rig(0).camera_names:
        T = drive.T_cam_lidar(0, name)
        cam = drive.rig(0).camera(name).camera
        for box, wire in zip(boxes, wireframes(boxes, T, cam)):
            ref = cuboid_wireframe_pixels(transform_points(T, box.corners()), cam, 0.1, edges=WIRE_EDGES)
            if wire is None:
                pts = np.concatenate(ref) if ref else np.zeros((0, 2))
                inside = (pts >= 0).all(axis=1) & (pts[:, 0] < cam.width) & (pts[:, 1] < cam.height)
                assert not inside.any()
                continue
            ref = np.stack(ref)
            if isinstance(cam, PinholeCamera):  # straight edges: the end points suffice
                ref = ref[:, [0, -1]]
            assert np.allclose(wire.lines, ref)
            seen += 1
    assert seen > 10


def test_the_app_logic_imports_without_qt():
    """Session, actions, drag geometry, point grid, frame loading and the key table run headless."""
    import subprocess
    import sys

    modules = ["session", "actions", "box_edit", "point_index", "frame_data", "projected_boxes", "shortcuts",
               "point_colors", "testing", "label_findings"]
    code = ("import sys\n" + "".join(f"import fusionlabel.app.{m}\n" for m in modules)
            + "print([m for m in sys.modules if m.split('.')[0] in ('PyQt6', 'pyqtgraph', 'OpenGL')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_click_select_rule_shared_by_every_view(session):
    from fusionlabel.geometry.cuboid import Cuboid
    from fusionlabel.model.annotation import CuboidLabel
    from fusionlabel.model.commands import CreateCuboid

    a = session.document.apply(CreateCuboid(0, CuboidLabel(Cuboid((5, 0, 0), (4, 2, 1.5)), "car"))).uid
    b = session.document.apply(CreateCuboid(0, CuboidLabel(Cuboid((9, 0, 0), (4, 2, 1.5)), "car"))).uid
    session.click_select(a)
    assert session.selection == (a,)
    session.click_select(b, toggle=True)          # Shift+click adds
    assert session.selection == (a, b)
    session.click_select(a, toggle=True)          # Shift+click on a selected one removes it
    assert session.selection == (b,)
    session.click_select(None, toggle=True)       # Shift+click on nothing keeps the selection
    assert session.selection == (b,)
    session.click_select(None)                    # a plain click on nothing clears it
    assert session.selection == ()


class Clock:
    """A clock the test moves by hand (Session(clock=...))."""

    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_key_edits_in_a_row_are_one_undo_step(tmp_path):
    """Like typing in a text editor: the same kind of key edit on the same selection joins one
    undo step, until another command, a selection or frame change, an undo, or a pause of more
    than MERGE_PAUSE_S. Every press is saved at once all the same."""
    from fusionlabel.app.session import MERGE_PAUSE_S

    clock = Clock()
    with Project.create(tmp_path / "project", testing.small_drive()) as project:
        s = Session(project, clock=clock)
        actions = Actions(s)
        doc = s.document
        a = s.apply(CreateCuboid(0, CuboidLabel(Cuboid((10, 0, -1), (4, 2, 1.5)), "car"))).uid
        b = s.apply(CreateCuboid(0, CuboidLabel(Cuboid((20, 5, -1), (4, 2, 1.5)), "car"))).uid
        s.select((a,))
        start = doc.get(a).box
        for _ in range(30):
            actions.nudge(0, 0.05)
            clock.now += 0.2
        assert doc.history()[-1] == "Nudge ×30" and len(doc.history()) == 3
        assert np.allclose(np.subtract(doc.get(a).box.center, start.center), [1.5, 0, 0])
        assert project.store.command_log()[-1][2].description == "Nudge ×30"    # saved as it grew
        actions.nudge(1, 0.05)                     # another direction: still a nudge, same step
        assert doc.history()[-1] == "Nudge ×31"
        actions.undo()                             # one Ctrl+Z for the whole run
        assert doc.get(a).box == start and len(doc.history()) == 2
        actions.nudge(0, 0.05)                     # after an undo a new step starts
        actions.nudge(0, 0.05)
        assert doc.history()[-1] == "Nudge ×2" and len(doc.history()) == 3
        clock.now += MERGE_PAUSE_S + 0.1           # a pause ends the run
        actions.nudge(0, 0.05)
        assert doc.history()[-2:] == ["Nudge ×2", "Nudge"]
        actions.rotate(1.0)                        # another kind of edit
        actions.rotate(-15.0)
        actions.rotate(1.0)
        assert doc.history()[-2:] == ["Nudge", "Rotate ×3"]
        actions.grow(0, 0.05)
        actions.grow(2, -0.05)
        assert doc.history()[-2:] == ["Rotate ×3", "Resize ×2"]
        actions.nudge(0, 0.05)
        actions.set_class("van")                   # another command ends the run
        actions.nudge(0, 0.05)
        assert doc.history()[-3:] == ["Nudge", "Set class van: track 1, 1 box in frame 000000", "Nudge"]
        s.select((a, b))                           # so does a new selection: both move, one step per press run
        actions.nudge(0, 0.05)
        actions.nudge(0, 0.05)
        assert doc.history()[-2:] == ["Nudge", "Nudge ×2"]
        s.select((a,))
        actions.nudge(0, 0.05)
        s.set_frame(1)
        s.set_frame(0)
        s.select((a,))
        actions.nudge(0, 0.05)                     # ... and a frame change
        assert doc.history()[-2:] == ["Nudge", "Nudge"]
        before = doc.get(a).box
        actions.nudge(0, -0.05)                    # back to where the run started: no step left
        assert doc.history()[-1] == "Nudge" and doc.get(a).box == before.with_(center=np.subtract(
            before.center, 0.05 * np.asarray(before.heading())))
        s.close()


def test_an_edit_starts_its_frame(tmp_path):
    """The annotator's first edit of a new frame marks it in progress, in the same undo step;
    an edit of a done or reviewed frame sends it back to in progress, in the same undo step;
    pre-labelling, interpolation and propagation (model runs) and edits of other frames (a copy to
    the next frame) do not start a new frame."""
    with Project.create(tmp_path / "project", testing.small_drive()) as project:
        s = Session(project)
        actions = Actions(s, Hooks(None, (14.0, -3.0)))
        doc = s.document
        actions.create()
        assert doc.frame_status(0) == "in_progress" and doc.history() == ["Create car"]
        assert dict(project.store._con.execute("SELECT frame, status FROM frame_status")) == {0: "in_progress"}
        actions.undo()
        assert doc.frame_status(0) == "new" and len(doc) == 0
        actions.redo()
        assert doc.frame_status(0) == "in_progress"
        s.select((doc.annotations(0)[0].uid,))
        actions.copy_to_next_frame()
        assert len(doc.annotations(1)) == 1 and doc.frame_status(1) == "new"   # edited from frame 0
        actions.next_frame()
        actions.rotate(1.0)
        assert doc.frame_status(1) == "in_progress"
        actions.set_frame_status("done")
        actions.rotate(1.0)
        assert doc.frame_status(1) == "in_progress" and doc.undo_text() == "Rotate +1°"   # no longer done
        # the key's own words first (what it did), then what it did to the frame's status
        assert s.messages[-1].text == f"Turn 1° left; frame {s.drive.frames[1].frame_id} was done; back to in progress"
        actions.undo()
        assert doc.frame_status(1) == "done"
        actions.set_frame_status("reviewed")
        actions.delete()
        assert doc.frame_status(1) == "in_progress"
        said = s.messages[-1].text          # the delete's own message keeps the note
        assert said.startswith("Deleted 1 cuboid") and said.endswith(
            f"; frame {s.drive.frames[1].frame_id} was reviewed; back to in progress")
        # A model run adds pre-labels without starting the frame; the annotator's decision on them does.
        s.set_frame(2)
        pre = s.apply(CreateCuboid(2, CuboidLabel(Cuboid((20, 0, -1), (4, 2, 1.5)), "car", score=0.7,
                                                  source="model")), work=False)
        assert doc.frame_status(2) == "new"
        s.select((pre.uid,))
        actions.accept_prelabel()
        assert doc.frame_status(2) == "in_progress" and doc.undo_text() == "Accept pre-label"
        actions.undo()
        assert doc.frame_status(2) == "new" and doc.get(pre.uid).source == "model"
        # The status chosen by hand stays what was chosen, "new" included.
        s.set_frame(0)
        actions.set_frame_status("new")
        assert doc.frame_status(0) == "new"
        s.close()


def test_prelabel_state_follows_edits_and_undo(tmp_path):
    """Session.prelabel_state: untouched / edited by the rule of prelabel_project.edited_prelabels,
    recomputed when the frame's cuboids change; accepted boxes are no pre-labels."""
    from fusionlabel.assist.prelabel_project import prelabel_command

    with Project.create(tmp_path / "project", testing.small_drive()) as project:
        s = Session(project)
        actions = Actions(s)
        doc = s.document
        labels = [CuboidLabel(Cuboid((10 + 6 * k, 0, -1), (4, 2, 1.5)), "car", score=0.8) for k in range(3)]
        cmd, _ = prelabel_command(doc, {0: labels}, "frame 000000 (test)")
        s.apply(cmd, work=False)
        anns = s.annotations()
        assert [s.prelabel_state(a) for a in anns] == ["untouched"] * 3
        s.select((anns[0].uid,))
        actions.nudge(0, 0.05)
        assert [s.prelabel_state(doc.get(a.uid)) for a in anns] == ["edited", "untouched", "untouched"]
        assert s.edited_prelabels(0) == {anns[0].uid}
        actions.undo()                              # an undone edit does not count
        assert s.prelabel_state(doc.get(anns[0].uid)) == "untouched"
        actions.redo()
        actions.accept_prelabel()
        assert s.prelabel_state(doc.get(anns[0].uid)) is None and s.edited_prelabels(0) == set()
        other = s.apply(CreateCuboid(0, CuboidLabel(Cuboid((40, 9, -1), (4, 2, 1.5)), "car", score=0.6,
                                                    source="model")), work=False)
        s.select((other.uid,))
        actions.nudge(0, 0.05)                      # a model box no pre-label run made: Ctrl+P keeps it anyway
        assert s.prelabel_state(doc.get(other.uid)) == "untouched"
        s.close()


def test_a_camera_image_of_the_wrong_size_is_left_out_and_the_points_still_shown(tmp_path):
    """Points and cuboids on a wrong-size image would land in the wrong place: the panel shows them
    on a blank image of the rig's size, and says why."""
    import cv2

    from conftest import native_copy
    from fusionlabel.io.drives import open_drive

    drive = native_copy(open_drive(testing.small_drive()), tmp_path / "drive")
    name = drive.rig(0).camera_names[0]
    path = drive.frames[0].image_paths[name]
    image = cv2.imread(str(path))
    cv2.imwrite(str(path), cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2)))
    cam = load_frame_data(open_drive(tmp_path / "drive"), 0).cameras[name]
    assert "but the rig says" in cam.error and "not shown" in cam.error
    assert cam.image.shape == (cam.camera.height, cam.camera.width, 3)
    assert len(np.unique(cam.image)) == 1  # blank, not the photograph
    p_cam = transform_points(cam.T_cam_lidar, open_drive(tmp_path / "drive").points(0).astype(np.float64))
    expected = int(cam.camera.project(p_cam).in_image.sum())
    assert abs(cam.n_points - expected) <= max(2, expected // 1000)
