"""What the status bar says after keys and mouse edits of a sequence, with real key and mouse
events: Ctrl+Return, a cuboid drawn by dragging, undo of a step that names its frame, undo of a
class key (the class of new cuboids follows it), Ctrl+Shift+P leaving out boxes of tracks
marked absent (H), V onto an imported box, a drag that moves a cuboid or a pre-label, and C into
another scene (a KITTI object folder)."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import QPoint, Qt  # noqa: E402

from fusionlabel.app import testing  # noqa: E402
from fusionlabel.app.main_window import MainWindow  # noqa: E402
from fusionlabel.app.session import Session, names_frame  # noqa: E402
from fusionlabel.model.annotation import CuboidLabel  # noqa: E402
from fusionlabel.model.commands import CreateCuboid, DeleteCuboids  # noqa: E402
from fusionlabel.store.project import Project  # noqa: E402

pytestmark = pytest.mark.gui
NO = Qt.KeyboardModifier.NoModifier
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def window(qtbot, tmp_path):
    p = Project.create(tmp_path / "project", testing.small_drive(frames=4), import_labels=False)
    w = MainWindow(Session(p), use_gl=False)
    qtbot.addWidget(w)
    testing.show_window(w)
    yield w
    w.close()
    p.close()


def key(qtbot, w, k, modifier=NO):
    qtbot.keyClick(w.bev, k, modifier)


def said(w) -> str:
    """The last message, checked to be what the status bar shows."""
    text = w.session.messages[-1].text
    assert w.statusBar().currentMessage() == text
    return text


def test_ctrl_return_says_the_frame_is_done(qtbot, window):
    w, s = window, window.session
    fid = s.drive.frames[0].frame_id
    key(qtbot, w, Qt.Key.Key_Return, CTRL)
    assert s.document.frame_status(0) == "done" and said(w) == f"Mark frame {fid} done"
    key(qtbot, w, Qt.Key.Key_Return, CTRL)
    assert said(w) == f"frame {fid} is done already"
    key(qtbot, w, Qt.Key.Key_Return, CTRL | SHIFT)
    assert s.document.frame_status(0) == "reviewed" and said(w) == f"Mark frame {fid} reviewed"


def test_marking_a_frame_done_says_which_pre_labels_exports_leave_out(qtbot, window):
    """A frame marked done or reviewed that still holds pre-labels (an I or V box, detector output)
    says so: exports leave them out until they are accepted."""
    w, s = window, window.session
    fid = s.drive.frames[1].frame_id
    s.set_frame(1)
    box = s.drive.labels(1)[0].box
    for k in range(2):
        s.apply(CreateCuboid(1, CuboidLabel(box.with_(center=np.add(box.center, (4.0 * k, 0, 0))), "car", None, 0.9,
                                            "model")))
    key(qtbot, w, Qt.Key.Key_Return, CTRL)
    assert said(w) == (f"Mark frame {fid} done; 2 pre-labels here are not accepted: exports leave them out "
                       "(Shift+Y accepts the frame's)")
    key(qtbot, w, Qt.Key.Key_Y, SHIFT)                   # accepted: nothing left out
    key(qtbot, w, Qt.Key.Key_Return, CTRL | SHIFT)
    assert said(w) == f"Mark frame {fid} reviewed"


def test_a_cuboid_drawn_by_dragging_is_said(qtbot, window):
    w, s, bev = window, window.session, window.bev
    a = QPoint(bev.width() // 2, bev.height() // 2)
    b = a + QPoint(0, -60)
    qtbot.mousePress(bev, Qt.MouseButton.LeftButton, NO, a)
    for t in np.linspace(0, 1, 7)[1:]:
        qtbot.mouseMove(bev, QPoint(a.x(), int(a.y() + t * (b.y() - a.y()))))
    qtbot.mouseRelease(bev, Qt.MouseButton.LeftButton, NO, b)
    (made,) = s.annotations()
    box = made.box
    assert s.selection == (made.uid,)
    assert said(w) == (f"Create {made.cls}: track {made.track_id}, "
                       f"{box.length:.2f} × {box.width:.2f} × {box.height:.2f} m")


def test_undo_names_the_frame_once(qtbot, window):
    """An undo that goes to another frame adds "on frame …" unless its description names it."""
    w, s = window, window.session
    fid = [f.frame_id for f in s.drive.frames]
    car = s.apply(CreateCuboid(0, s.drive.labels(0)[0].with_(source="human", track_id="100")))
    s.select((car.uid,))
    key(qtbot, w, Qt.Key.Key_C)                         # Copy 1 cuboid to frame fid[1]
    s.set_frame(3)
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert s.frame == 1 and said(w) == f"undid Copy 1 cuboid to frame {fid[1]}"
    s.set_frame(0)
    s.select((car.uid,))
    key(qtbot, w, Qt.Key.Key_Right)                     # a nudge names no frame
    s.set_frame(3)
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert s.frame == 0 and said(w) == f"undid {s.document.redo_text()} on frame {fid[0]}"


def test_names_frame_reads_the_frames_after_the_word_frame():
    assert names_frame("Copy 1 cuboid to frame 000965", "000965")
    assert names_frame("Track 7 absent in frames 000009, 000010 (2 cuboids deleted)", "000010")
    assert not names_frame("Copy 3 cuboids to frame 4", "3")            # a count is no frame
    assert not names_frame("Set class van: track 1, 4 boxes in frames 000000–000019", "000005")
    assert not names_frame("Nudge ×3", "3")


def test_ctrl_z_of_a_class_key_gives_back_the_class_for_new_cuboids(qtbot, window):
    """A class key on a selected cuboid retypes its track and makes the class that of new
    cuboids; Ctrl+Z takes both back, Ctrl+Shift+Z does both again. A class chosen since (a class
    key with nothing selected) is left as it is."""
    w, s = window, window.session
    ped = getattr(Qt.Key, f"Key_{s.ontology.get('pedestrian').key}")
    truck = getattr(Qt.Key, f"Key_{s.ontology.get('truck').key}")
    start = s.current_class
    assert start != "pedestrian"
    car = s.apply(CreateCuboid(0, s.drive.labels(0)[0].with_(source="human", label=start, track_id="100")))
    s.select((car.uid,))
    key(qtbot, w, ped)
    assert s.document.get(car.uid).cls == "pedestrian" and s.current_class == "pedestrian"
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert s.document.get(car.uid).cls == start and s.current_class == start
    assert s.setting("current_class") == start                  # saved, as a class key saves it
    key(qtbot, w, Qt.Key.Key_Z, CTRL | SHIFT)
    assert s.document.get(car.uid).cls == "pedestrian" and s.current_class == "pedestrian"
    key(qtbot, w, Qt.Key.Key_Escape)
    key(qtbot, w, truck)                                         # nothing selected: new cuboids only
    assert s.current_class == "truck"
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert s.document.get(car.uid).cls == start and s.current_class == "truck"


class TruthDetector:
    """The drive's ground truth as detections (score 0.9): what gets stored is known."""

    name = "truth"

    def detect_frame(self, drive, index):
        return [CuboidLabel(g.box, g.label, None, 0.9, "model") for g in drive.labels(index)]


def test_ctrl_shift_p_says_how_many_boxes_it_left_out_for_absent_marks(qtbot, window, monkeypatch):
    """A track marked absent (H) in frame 1: a tracked run continues the track around it and its
    message says how many boxes it left out there."""
    w, s = window, window.session
    monkeypatch.setattr(w.actions_, "detector", lambda: TruthDetector())
    key(qtbot, w, Qt.Key.Key_P, CTRL | SHIFT)
    qtbot.waitUntil(lambda: not w.prelabel_runner.busy, timeout=60_000)
    counts = {}
    for a in s.document.all_annotations():
        counts[a.track_id] = counts.get(a.track_id, 0) + 1
    track = next(t for t, n in counts.items() if n == s.n_frames)
    s.set_frame(1)
    testing.wait_for_frame(w, 1)
    s.select((s.document.find_track(track, 1).uid,))
    key(qtbot, w, Qt.Key.Key_H)
    assert s.document.absent_frames(track) == [1]
    key(qtbot, w, Qt.Key.Key_P, CTRL | SHIFT)
    qtbot.waitUntil(lambda: not w.prelabel_runner.busy, timeout=60_000)
    assert s.document.find_track(track, 1) is None
    assert said(w).startswith("pre-label (builtin): nothing to change (")        # the same boxes as before
    assert said(w).endswith("; 1 left out in frames where their track is marked absent (H)"), said(w)


def test_deleting_a_car_of_a_reviewed_frame_sends_the_frame_back_to_in_progress(qtbot, tmp_path):
    """The sample drive in a new project: Ctrl+Shift+Return marks frame 0 reviewed (blue on the
    timeline); deleting car 29 there makes it in progress again (amber, in the database too) in the
    delete's undo step, and the status bar says both; Ctrl+Z brings back the car and `reviewed`."""
    from fusionlabel.app.main import sample_data_path
    from fusionlabel.app.panels import STATUS_COLORS

    p = Project.create(tmp_path / "project", sample_data_path(), import_labels=True)
    w = MainWindow(Session(p), use_gl=False)
    qtbot.addWidget(w)
    testing.show_window(w)
    testing.wait_for_frame(w, 0)
    s, doc = w.session, w.session.document
    fid = s.drive.frames[0].frame_id
    strip = w.timeline.strip

    def cell_colour():
        return strip.grab().toImage().pixelColor(int(0.5 * strip.width() / s.n_frames), strip.height() // 2)

    def stored_status():
        return dict(p.store._con.execute("SELECT frame, status FROM frame_status")).get(0, "new")

    key(qtbot, w, Qt.Key.Key_Return, CTRL | SHIFT)
    assert stored_status() == "reviewed" and cell_colour() == STATUS_COLORS["reviewed"]
    car = doc.find_track("29", 0)
    s.select((car.uid,))
    history = doc.history()
    key(qtbot, w, Qt.Key.Key_Delete)
    assert car.uid not in doc and doc.frame_status(0) == "in_progress" and stored_status() == "in_progress"
    assert len(doc.history()) == len(history) + 1 and cell_colour() == STATUS_COLORS["in_progress"]
    text = said(w)
    assert text.startswith("Deleted 1 cuboid") and text.endswith(f"; frame {fid} was reviewed; back to in progress")
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert car.uid in doc and stored_status() == "reviewed" and cell_colour() == STATUS_COLORS["reviewed"]
    assert said(w).endswith(f"; frame {fid} is reviewed again")
    key(qtbot, w, Qt.Key.Key_Y, CTRL)
    assert car.uid not in doc and said(w).endswith(f"; frame {fid} is in progress again")
    w.close()
    p.close()


def test_ctrl_i_into_a_done_frame_says_it_is_back_in_progress(qtbot, tmp_path):
    p = Project.create(tmp_path / "project", testing.small_drive(frames=4), import_labels=False)
    w = MainWindow(Session(p), use_gl=False)
    qtbot.addWidget(w)
    testing.show_window(w)
    s = w.session
    key(qtbot, w, Qt.Key.Key_Return, CTRL)
    key(qtbot, w, Qt.Key.Key_I, CTRL)
    assert s.document.annotations(0) and s.document.frame_status(0) == "in_progress"
    assert said(w).endswith(f"; frame {s.drive.frames[0].frame_id} was done; back to in progress")
    w.close()
    p.close()


def test_v_onto_an_imported_box_names_it_as_what_stays(qtbot, tmp_path):
    """V where the track's next box is an imported label changes nothing and says that an imported
    box is what stays (it said "human cuboids", which that box is not)."""
    p = Project.create(tmp_path / "imported", testing.small_drive(frames=4), import_labels=True)
    w = MainWindow(Session(p), use_gl=False)
    qtbot.addWidget(w)
    testing.show_window(w)
    s = w.session
    ann = next(a for a in s.annotations() if s.document.find_track(a.track_id, 1) is not None)
    assert ann.source == "import" and s.document.find_track(ann.track_id, 1).source == "import"
    s.select((ann.uid,))
    steps = len(s.document.history())
    key(qtbot, w, Qt.Key.Key_V)
    assert len(s.document.history()) == steps
    assert said(w).startswith("propagate: the selected tracks already have human or imported cuboids")
    w.close()
    p.close()


def drag_inside(qtbot, view, ann, offset=QPoint(0, -25)):
    """A mouse drag from a cuboid's centre in the bird's-eye view (moves it)."""
    u, v = view.to_screen(np.asarray(ann.box.center[:2], float)[None])[0]
    a = QPoint(int(round(u)), int(round(v)))
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, NO, a)
    for t in np.linspace(0, 1, 6)[1:]:
        qtbot.mouseMove(view, a + QPoint(int(t * offset.x()), int(t * offset.y())))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, NO, a + offset)


def test_a_drag_says_what_it_moved_and_that_a_pre_label_stays_one(qtbot, window):
    """The status bar no longer keeps the message before the drag: it names the track moved, and
    for a pre-label (an interpolated box fixed by hand) that it is no keyframe for I until Y."""
    w, s = window, window.session
    label = s.drive.labels(0)[0]
    human = s.apply(CreateCuboid(0, label.with_(source="human", track_id="100")))
    w.bev.center, w.bev.scale = np.asarray(human.label.box.center[:2], float), 20.0
    s.notify("an earlier message")
    drag_inside(qtbot, w.bev, s.document.get(human.uid))
    assert s.document.get(human.uid).box != human.label.box
    assert said(w) == "Move track 100"
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    s.apply(DeleteCuboids((human.uid,)))
    pre = s.apply(CreateCuboid(0, label.with_(source="model", score=0.7, track_id="101")))
    drag_inside(qtbot, w.bev, s.document.get(pre.uid))
    moved = s.document.get(pre.uid)
    assert moved.box != pre.label.box and moved.source == "model"
    assert said(w).startswith("Move track 101: still a pre-label") and "Y makes it a keyframe for I" in said(w)


def test_copies_into_another_scene_say_so(qtbot, window, tmp_path):
    """C and Shift+C copy on a KITTI object folder too (unrelated scenes, no capture times), and
    their message says the next frame is another scene; on a sequence they say nothing of it."""
    from fusionlabel.export import ExportOptions, export_drive
    from fusionlabel.io.native import open_native_drive

    s = window.session
    car = s.apply(CreateCuboid(0, s.drive.labels(0)[0].with_(source="human", track_id="100")))
    s.select((car.uid,))
    key(qtbot, window, Qt.Key.Key_C)
    assert len(s.document.annotations(1)) == 1 and "another scene" not in said(window)
    root = tmp_path / "kitti_object"
    export_drive(open_native_drive(testing.small_drive(frames=3)), "kitti", root,
                 options=ExportOptions(camera="cam_front_right", progress=False))
    p = Project.create(tmp_path / "kitti_project", root, import_labels=True)
    w = MainWindow(Session(p), use_gl=False)
    qtbot.addWidget(w)
    testing.show_window(w)
    try:
        s = w.session
        fid = [f.frame_id for f in s.drive.frames]
        n_next = len(s.document.annotations(1))
        s.select((s.annotations()[0].uid,))
        key(qtbot, w, Qt.Key.Key_C)
        assert len(s.document.annotations(1)) == n_next + 1
        assert said(w) == (f"Copy 1 cuboid to frame {fid[1]}; frame {fid[1]} is another scene (not a sequence): "
                           "check the copies")
        s.set_frame(1)
        n_next = len(s.document.annotations(2))
        key(qtbot, w, Qt.Key.Key_C, SHIFT)
        assert len(s.document.annotations(2)) > n_next
        assert said(w).endswith(f"; frame {fid[2]} is another scene (not a sequence): check the copies")
    finally:
        w.close()
        p.close()


def test_ctrl_s_says_every_edit_is_saved_already(qtbot, window, tmp_path):
    """Ctrl+S, an annotator's habit before closing, is answered: nothing to save, every edit is in
    the project (named) as it is made, and which edit was the last; the project on disk holds it
    already. A read-only window says it makes no edits."""
    w, s = window, window.session
    key(qtbot, w, Qt.Key.Key_S, CTRL)
    assert said(w) == f"nothing to save: every edit is saved in {s.project.folder} as you make it"
    key(qtbot, w, Qt.Key.Key_Return, CTRL)                       # an edit: frame 0 done
    key(qtbot, w, Qt.Key.Key_S, CTRL)
    fid = s.drive.frames[0].frame_id
    assert said(w) == f"nothing to save: every edit is saved in {s.project.folder} as you make it " \
                      f"(the last: Mark frame {fid} done)"
    other = Project.open(s.project.folder)                       # another process's view of the disk
    try:
        assert other.read_only and other.document.frame_status(0) == "done"
        w2 = MainWindow(Session(other), use_gl=False)
        qtbot.addWidget(w2)
        testing.show_window(w2)
        qtbot.keyClick(w2.bev, Qt.Key.Key_S, CTRL)
        text = w2.session.messages[-1].text
        assert text.startswith("nothing to save: this window is read-only (") and "makes no edits" in text
        assert w2.session.messages[-1].level == "warning"
        w2.close()
    finally:
        other.close()


def test_a_later_keys_message_takes_down_an_earlier_keys_warning_banner(qtbot, window):
    """An arrow on a cuboid of a locked class warns (the orange banner); Ctrl+Return after it says
    the frame is done, and the banner goes: it spoke of the arrow, not of this key. A key whose own
    warning comes before its own info line keeps the banner; and info said with no key since (a
    run finishing in the background) leaves it too."""
    w, s = window, window.session
    car = s.apply(CreateCuboid(0, s.drive.labels(0)[0].with_(source="human", label="car", track_id="100")))
    s.set_class_locked("car", True)
    s.select((car.uid,))
    key(qtbot, w, Qt.Key.Key_Up)
    warned = s.messages[-1]
    assert warned.level == "warning" and w.toast.isVisible() and w.toast.text() == warned.text
    s.notify("pre-label: 3 frames done")            # no key since: the warning stays up
    assert w.toast.isVisible() and w.toast.text() == warned.text
    key(qtbot, w, Qt.Key.Key_Return, CTRL)
    assert said(w).startswith("Mark frame") and not w.toast.isVisible()

    def warn_then_tell():                              # one command: a warning, then its own line
        s.notify("detector settings not used: no such file", "warning")
        s.notify("fitted 1 cuboid")

    key(qtbot, w, Qt.Key.Key_Up)
    assert w.toast.isVisible()
    w._run_shortcut(warn_then_tell, ())
    assert said(w) == "fitted 1 cuboid"
    assert w.toast.isVisible() and w.toast.text() == "detector settings not used: no such file"


def test_keys_that_nudge_turn_or_resize_say_what_the_whole_run_did(qtbot, window, caplog):
    """After "Accept pre-label", the arrow keys say how far the run of presses moved the cuboid
    ("Move 0.1 m forward"), Q and E how far it turned, Ctrl+arrows its new size: the status bar
    follows each repeat of a held key, while the undo stack, the messages and the log get one
    entry for the run, not one per press."""
    import logging

    w, s = window, window.session
    s.clock = lambda: 0.0                                # the presses are always within the run's pause
    box = s.drive.labels(0)[0].box
    s.apply(CreateCuboid(0, CuboidLabel(box, "car", None, 0.9, "model")), work=False)
    (pre,) = s.annotations()
    s.select((pre.uid,))
    key(qtbot, w, Qt.Key.Key_Y)
    assert said(w) == "Accept pre-label"
    length = s.document.get(pre.uid).box.length
    caplog.set_level(logging.INFO, logger="fusionlabel.app.session")
    before, steps = len(s.messages), s.document.undo_text()
    key(qtbot, w, Qt.Key.Key_Up)
    assert said(w) == "Move 0.05 m forward"
    for _ in range(3):
        key(qtbot, w, Qt.Key.Key_Up)
    assert said(w) == "Move 0.2 m forward"
    assert len(s.messages) == before + 1 and s.document.undo_text() == "Nudge ×4" != steps
    assert sum("Move" in r.getMessage() for r in caplog.records) == 1
    key(qtbot, w, Qt.Key.Key_Right)                      # another key: a run of its own
    assert said(w) == "Move 0.05 m right" and len(s.messages) == before + 2
    key(qtbot, w, Qt.Key.Key_Q)
    key(qtbot, w, Qt.Key.Key_Q)
    assert said(w) == "Turn 2° left"
    key(qtbot, w, Qt.Key.Key_E, SHIFT)
    assert said(w) == "Turn 15° right"
    key(qtbot, w, Qt.Key.Key_Up, CTRL)
    key(qtbot, w, Qt.Key.Key_Up, CTRL)
    assert said(w) == f"Length {length + 0.1:.2f} m (+0.1 m)"
    key(qtbot, w, Qt.Key.Key_F)
    assert said(w) == "Flip heading"
    assert len(s.messages) == before + 6
