"""Track editing in the app with real key and mouse events: the attribute panel's track field, J to
join two tracks, K to split one, and the keyframe workflow with C copies and imported labels (I).
Each edit ends in the project database and undoes with one Ctrl+Z."""

from __future__ import annotations

import json
import os
import sqlite3

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import Qt  # noqa: E402

from fusionlabel.app import testing  # noqa: E402
from fusionlabel.app.main_window import MainWindow  # noqa: E402
from fusionlabel.app.session import Session  # noqa: E402
from fusionlabel.model import edit_actions  # noqa: E402
from fusionlabel.model.commands import CreateCuboid, DeleteCuboids, SetAttributes  # noqa: E402
from fusionlabel.store.project import Project  # noqa: E402

pytestmark = pytest.mark.gui
NO = Qt.KeyboardModifier.NoModifier
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def project(tmp_path):
    p = Project.create(tmp_path / "project", testing.small_drive(frames=4), import_labels=False)
    yield p
    if not p.store.closed:
        p.close()


def open_window(qtbot, project) -> MainWindow:
    w = MainWindow(Session(project), use_gl=False)
    qtbot.addWidget(w)
    testing.show_window(w)
    return w


@pytest.fixture
def window(qtbot, project):
    w = open_window(qtbot, project)
    yield w
    w.close()


def check_box_centre(tick):
    """The middle of a check box's tick box (its own style's rectangle), where a click toggles it."""
    from PyQt6.QtWidgets import QStyle, QStyleOptionButton

    option = QStyleOptionButton()
    tick.initStyleOption(option)
    return tick.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, tick).center()


def key(qtbot, w, k, modifier=NO):
    qtbot.keyClick(w.bev, k, modifier)


def saved_tracks(project) -> dict[str, tuple[int, str]]:
    """uid -> (frame, track id) as the database holds them (read with plain sqlite3)."""
    con = sqlite3.connect(project.folder / "project.sqlite")
    try:
        return {r[0]: (r[1], r[2]) for r in con.execute("SELECT uid, frame, track_id FROM annotations")}
    finally:
        con.close()


def truth(drive, frame, track):
    return next(g for g in drive.labels(frame) if g.track_id == track)


def moving_track(drive):
    """A ground-truth track in every frame that moves more than a metre in the world."""
    last = len(drive) - 1
    for g in drive.labels(0):
        if all(any(h.track_id == g.track_id for h in drive.labels(f)) for f in range(len(drive))):
            a = drive.T_world_lidar(0) @ np.append(g.box.center, 1.0)
            b = drive.T_world_lidar(last) @ np.append(truth(drive, last, g.track_id).box.center, 1.0)
            if np.linalg.norm(a[:2] - b[:2]) > 1.0 and np.hypot(*g.box.center[:2]) < 30:
                return g.track_id
    raise AssertionError("the simulated drive has no moving car")


def place(s, frame, label, track=None):
    """A human cuboid on ``label``'s box (what drawing it would make)."""
    return s.apply(CreateCuboid(frame, label.with_(source="human", label="car", track_id=track, score=None)))


def test_join_with_j_then_j_and_split_with_k(qtbot, window, project):
    """The reviewer's case: a box made on frame 0 and another on frame 2 of the same car got two
    tracks. J on the frame-2 box, then J on the frame-0 box joins them (one undo step, the object
    list and the panel show the id at once); K on frame 2 splits them again."""
    w, s = window, window.session
    tid = moving_track(s.drive)
    first = place(s, 0, truth(s.drive, 0, tid))
    s.set_frame(2)
    second = place(s, 2, truth(s.drive, 2, tid))
    t1, t2 = first.label.track_id, second.label.track_id
    assert t1 != t2
    s.select((second.uid,))
    key(qtbot, w, Qt.Key.Key_J)
    assert f"track {t2} marked" in s.messages[-1].text
    key(qtbot, w, Qt.Key.Key_Home)                  # to the other piece of the car
    qtbot.waitUntil(lambda: w.objects.rowCount() == 1)
    s.select((first.uid,))
    key(qtbot, w, Qt.Key.Key_J)
    assert s.messages[-1].text == f"Join track {t2} into track {t1}"
    assert s.document.track_frames(t1) == [0, 2] and not s.document.track_frames(t2)
    assert saved_tracks(project)[second.uid] == (2, t1)
    assert s.document.undo_text() == f"Join track {t2} into track {t1}"
    # ] now finds the joined box, and on frame 2 the list and the panel show the joined id.
    key(qtbot, w, Qt.Key.Key_BracketRight)
    assert s.frame == 2 and s.selection == (second.uid,)
    qtbot.waitUntil(lambda: w.objects.rowCount() == 1 and w.objects.item(0, 0).text() == t1)
    assert w.attributes.track.text() == t1
    # K splits it off again: a new id, one undo step back to the joined track.
    key(qtbot, w, Qt.Key.Key_K)
    new = s.document.get(second.uid).track_id
    assert new not in (t1, t2) and s.document.track_frames(t1) == [0]
    qtbot.waitUntil(lambda: w.objects.item(0, 0).text() == new)
    assert saved_tracks(project)[second.uid] == (2, new)
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert s.document.track_frames(t1) == [0, 2] and saved_tracks(project)[second.uid] == (2, t1)
    # K on the first box of a track: nothing before it, so nothing changes and it says why.
    s.set_frame(0)
    s.select((first.uid,))
    n = len(s.document.history())
    key(qtbot, w, Qt.Key.Key_K)
    assert len(s.document.history()) == n and "nothing before it" in s.messages[-1].text


def test_join_refused_on_a_shared_frame_and_cancelled_with_esc(qtbot, window, project):
    w, s = window, window.session
    labels = s.drive.labels(0)
    a = place(s, 0, labels[0])
    b = place(s, 0, labels[1])
    s.select((a.uid,))
    key(qtbot, w, Qt.Key.Key_J)
    s.select((b.uid,))
    key(qtbot, w, Qt.Key.Key_J)
    last = s.messages[-1]
    assert last.level == "warning" and "both have a cuboid in frame" in last.text and "still marked" in last.text
    assert s.document.get(a.uid).track_id == a.label.track_id and s.document.get(b.uid).track_id == b.label.track_id
    key(qtbot, w, Qt.Key.Key_Escape)               # Esc drops the mark first, the selection stays
    assert "join cancelled" in s.messages[-1].text and s.selection == (b.uid,)
    key(qtbot, w, Qt.Key.Key_J)                    # a fresh mark, not a join
    assert f"track {b.label.track_id} marked" in s.messages[-1].text
    key(qtbot, w, Qt.Key.Key_J)                    # J on the marked track again cancels
    assert "join cancelled" in s.messages[-1].text


def test_track_field_in_the_attribute_panel(qtbot, window, project):
    """Type an existing track id (another frame) and Enter: the box joins it, takes its class, the
    list shows the id at once; an id that already has a box in this frame is refused with a
    message and the field shows the box's track again."""
    w, s = window, window.session
    labels = s.drive.labels(0)
    other = place(s, 0, labels[1])
    s.apply(edit_actions.set_class(s.document, [other.uid], "van"))
    s.set_frame(1)
    testing.wait_for_frame(w, 1)                    # the object list shows frame 1 once it is loaded
    mine = place(s, 1, labels[0])
    neighbour = place(s, 1, labels[2])
    s.select((mine.uid,))
    field = w.attributes.track
    assert field.text() == mine.label.track_id
    qtbot.mouseClick(field, Qt.MouseButton.LeftButton)
    field.selectAll()
    qtbot.keyClicks(field, other.label.track_id)
    qtbot.keyClick(field, Qt.Key.Key_Return)
    got = s.document.get(mine.uid)
    assert got.track_id == other.label.track_id and got.cls == "van"
    assert saved_tracks(project)[mine.uid] == (1, other.label.track_id)
    assert not field.hasFocus()                     # Enter gives the keys back to the views
    qtbot.waitUntil(lambda: w.objects.item(0, 0).text() == other.label.track_id)
    n = len(s.document.history())
    key(qtbot, w, Qt.Key.Key_Z, CTRL)               # one step: track and class back
    assert s.document.get(mine.uid).label == mine.label and len(s.document.history()) == n - 1
    # Refused: the neighbour's track already has a box in this frame.
    qtbot.mouseClick(field, Qt.MouseButton.LeftButton)
    field.selectAll()
    qtbot.keyClicks(field, neighbour.label.track_id)
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert s.document.get(mine.uid).track_id == mine.label.track_id
    assert s.messages[-1].level == "warning" and "already has a cuboid in frame" in s.messages[-1].text
    assert field.text() == mine.label.track_id
    # Typed without Enter, then another cuboid chosen in the object list (which takes no focus):
    # the id goes to the cuboid it was typed for, and the field shows the new selection's track.
    qtbot.mouseClick(field, Qt.MouseButton.LeftButton)
    field.selectAll()
    qtbot.keyClicks(field, "42")
    row = w.objects.shown_uids.index(neighbour.uid)
    qtbot.mouseClick(w.objects.viewport(), Qt.MouseButton.LeftButton,
                     pos=w.objects.visualItemRect(w.objects.item(row, 1)).center())
    assert s.selection == (neighbour.uid,)
    assert s.document.get(mine.uid).track_id == "42" and s.document.get(neighbour.uid).track_id == neighbour.label.track_id
    assert field.text() == neighbour.label.track_id
    s.select((mine.uid, neighbour.uid))            # several selected: no track to type
    assert not field.isEnabled()


def test_carry_with_c_fix_the_last_frame_and_interpolate(qtbot, window, project):
    """wf13: a box drawn on frame 0, carried to frame 3 with C and D, moved onto the car there:
    I replaces the unedited copies between by interpolated boxes (dashed, machine output) on the
    moving car, and one Ctrl+Z brings the copies back."""
    w, s = window, window.session
    tid = moving_track(s.drive)
    first = place(s, 0, truth(s.drive, 0, tid))
    track = first.label.track_id
    s.select((first.uid,))
    for _ in range(3):
        key(qtbot, w, Qt.Key.Key_C)
        key(qtbot, w, Qt.Key.Key_D)
    assert s.frame == 3 and s.document.track_frames(track) == [0, 1, 2, 3]
    copies = {f: s.document.find_track(track, f).uid for f in (1, 2)}
    s.apply(edit_actions.set_box(s.document, s.selection[0], truth(s.drive, 3, tid).box))  # a drag onto the car
    assert 3 in w.timeline.strip.keyframes and not {1, 2} & w.timeline.strip.keyframes
    key(qtbot, w, Qt.Key.Key_I)
    assert s.messages[-1].text == (f"Interpolate track {track}, replacing 2 unedited copies; its boxes are "
                                   "pre-labels until accepted (Ctrl+Shift+Y: the whole track)")
    assert s.document.undo_text() == f"Interpolate track {track}, replacing 2 unedited copies"
    for f in (1, 2):
        box = s.document.find_track(track, f)
        assert box.uid != copies[f] and box.source == "model" and box.attributes["interpolated"]
        assert np.linalg.norm(np.subtract(box.box.center, truth(s.drive, f, tid).box.center)) < 0.3
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert all(s.document.find_track(track, f).uid == copies[f] for f in (1, 2))
    assert set(copies.values()) <= set(saved_tracks(project))


def test_interpolate_between_imported_labels(qtbot, tmp_path):
    """wf20: with the drive's labels imported, delete a track's boxes on frames 1 and 2: I on the
    imported box of frame 0 fills them again from the imported keyframes; Y on an imported box
    says it is ground truth already."""
    p = Project.create(tmp_path / "imported", testing.small_drive(frames=4), import_labels=True)
    w = open_window(qtbot, p)
    try:
        s = w.session
        tid = moving_track(s.drive)
        track = tid                                  # the import keeps the drive's track ids
        start = s.document.find_track(track, 0)
        assert start.source == "import" and start.box == truth(s.drive, 0, tid).box
        gone = [s.document.find_track(track, f) for f in (1, 2)]
        s.apply(DeleteCuboids(tuple(a.uid for a in gone)))
        assert s.document.track_frames(track) == [0, 3]
        s.select((start.uid,))
        key(qtbot, w, Qt.Key.Key_I)
        for f in (1, 2):
            box = s.document.find_track(track, f)
            assert box is not None and box.source == "model"
            assert np.linalg.norm(np.subtract(box.box.center, gone[f - 1].box.center)) < 0.1
        key(qtbot, w, Qt.Key.Key_Y)
        assert "ground truth already" in s.messages[-1].text
    finally:
        w.close()
        p.close()


def saved_rows(project, uids) -> dict[str, tuple]:
    """uid -> (class, length, width, height) as the database holds them."""
    con = sqlite3.connect(project.folder / "project.sqlite")
    try:
        rows = con.execute("SELECT uid, class, length, width, height FROM annotations").fetchall()
    finally:
        con.close()
    return {r[0]: tuple(r[1:]) for r in rows if r[0] in uids}


def test_class_key_retypes_the_whole_track_and_shift_s_gives_it_one_size(qtbot, window, project):
    """The reviewer's case: a car track with keyframes in frames 0 and 3; key 2 on frame 0 makes
    the whole track van (one undo step, said in the status bar, refused as a whole while car is
    locked); Ctrl+Up lengthens the frame-0 box and Shift+S gives its size to frame 3 too."""
    w, s = window, window.session
    g = s.drive.labels(0)[0]
    k0, k3 = place(s, 0, g, "100"), place(s, 3, s.drive.labels(3)[0], "100")
    bystander = place(s, 0, s.drive.labels(0)[1])
    ids = [s.drive.frames[f].frame_id for f in (0, 3)]
    s.select((k0.uid,))
    s.set_class_locked("car", True)
    key(qtbot, w, Qt.Key.Key_2)
    assert "refused" in s.messages[-1].text and "locked car" in s.messages[-1].text
    assert {s.document.get(u).cls for u in (k0.uid, k3.uid)} == {"car"}
    s.set_class_locked("car", False)
    key(qtbot, w, Qt.Key.Key_2)
    assert s.messages[-1].text == f"Set class van: track 100, 2 boxes in frames {ids[0]}–{ids[1]}"
    rows = saved_rows(project, {k0.uid, k3.uid, bystander.uid})
    assert rows[k0.uid][0] == rows[k3.uid][0] == "van" and rows[bystander.uid][0] == "car"
    key(qtbot, w, Qt.Key.Key_Z, CTRL)              # one step back: the whole track is car again
    assert {s.document.get(u).cls for u in (k0.uid, k3.uid)} == {"car"}
    s.set_frame(3)                                  # the attribute panel's class box, on frame 3
    testing.wait_for_frame(w, 3)
    s.select((k3.uid,))
    w.attributes.cls.setCurrentText("truck")
    assert {s.document.get(u).cls for u in (k0.uid, k3.uid)} == {"truck"}
    assert s.messages[-1].text == f"Set class truck: track 100, 2 boxes in frames {ids[0]}–{ids[1]}"
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    s.set_frame(0)
    testing.wait_for_frame(w, 0)
    s.select((k0.uid,))

    key(qtbot, w, Qt.Key.Key_Up, CTRL)             # length +5 cm on frame 0 only
    size = s.document.get(k0.uid).box.size
    assert s.document.get(k3.uid).box.size != size
    key(qtbot, w, Qt.Key.Key_S, Qt.KeyboardModifier.ShiftModifier)
    assert s.messages[-1].text.startswith(f"Size {size[0]:.2f} × ") and "track 100, 1 box" in s.messages[-1].text
    assert np.allclose(saved_rows(project, {k3.uid})[k3.uid][1:], size)
    key(qtbot, w, Qt.Key.Key_S, Qt.KeyboardModifier.ShiftModifier)
    assert s.messages[-1].text == "track 100 has this size in every frame already"


def test_del_and_shift_del_say_what_they_deleted(qtbot, window, project):
    """Shift+Del says how many cuboids of which track went in which frames, and how many of them
    were keyframes (an unedited C copy and a pre-label are none); its undo entry says the same. Del
    says how many went."""
    w, s = window, window.session
    fid = [f.frame_id for f in s.drive.frames]
    g = {k: {x.track_id: x for x in s.drive.labels(k)} for k in range(4)}
    tid = next(t for t in g[0] if all(t in g[k] for k in range(4)))
    first = s.apply(CreateCuboid(0, g[0][tid].with_(source="human", track_id="100")))
    s.select((first.uid,))
    key(qtbot, w, Qt.Key.Key_C)                                           # an unedited copy in frame 1
    s.apply(CreateCuboid(2, g[2][tid].with_(source="model", score=0.8, track_id="100")), work=False)
    s.apply(CreateCuboid(3, g[3][tid].with_(source="human", track_id="100")))   # a keyframe off screen
    assert s.document.track_frames("100") == [0, 1, 2, 3]
    s.set_frame(1)
    testing.wait_for_frame(w, 1)
    s.select((s.document.find_track("100", 1).uid,))
    key(qtbot, w, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)
    said = f"Deleted 3 cuboids of track 100 in frames {fid[1]}–{fid[3]} (1 keyframe)"
    assert s.document.track_frames("100") == [0] and s.messages[-1].text == said
    assert w.statusBar().currentMessage() == said
    assert w.undo_action.text() == f"Undo Delete 3 cuboids of track 100 in frames {fid[1]}–{fid[3]}"
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert s.document.track_frames("100") == [0, 1, 2, 3]
    s.select((s.document.find_track("100", 1).uid,))
    key(qtbot, w, Qt.Key.Key_Delete)                                      # Del: the copy only
    assert s.messages[-1].text == "Deleted 1 cuboid" and s.document.track_frames("100") == [0, 2, 3]
    s.set_frame(0)
    testing.wait_for_frame(w, 0)
    s.select((first.uid,))
    key(qtbot, w, Qt.Key.Key_Delete)
    assert s.messages[-1].text == "Deleted 1 cuboid (1 keyframe)" and w.undo_action.text() == "Undo Delete cuboid"


def test_h_marks_an_object_absent_so_that_i_leaves_the_frame_empty(qtbot, window, project):
    """A car hidden in frame 1 between keyframes 0 and 3: H on its interpolated box there deletes
    it and marks the track absent (said in the status bar, stored, a red dot on the timeline); I
    then fills frame 2 only; Shift+H takes the mark back and Ctrl+Z brings it again."""
    w, s = window, window.session
    tid = moving_track(s.drive)
    k0 = place(s, 0, truth(s.drive, 0, tid), "100")
    place(s, 3, truth(s.drive, 3, tid), "100")
    s.select((k0.uid,))
    key(qtbot, w, Qt.Key.Key_I)
    assert [f for f in range(4) if s.document.find_track("100", f)] == [0, 1, 2, 3]
    s.set_frame(1)
    testing.wait_for_frame(w, 1)
    hidden = s.document.find_track("100", 1)
    s.select((hidden.uid,))
    key(qtbot, w, Qt.Key.Key_H)
    fid = s.drive.frames[1].frame_id
    assert s.messages[-1].text == f"Track 100 absent in frame {fid} (its cuboid deleted)"
    con = sqlite3.connect(project.folder / "project.sqlite")
    try:
        assert con.execute("SELECT track_id, frame FROM track_absent").fetchall() == [("100", 1)]
    finally:
        con.close()
    s.set_frame(0)
    testing.wait_for_frame(w, 0)
    s.select((k0.uid,))
    strip = w.timeline.strip
    image = strip.grab().toImage()
    cell = strip.width() / s.n_frames
    assert image.pixelColor(int(1.5 * cell), strip.height() // 2).getRgb()[:3] == (255, 70, 70)   # the red ×
    s.apply(DeleteCuboids((s.document.find_track("100", 2).uid,)))
    key(qtbot, w, Qt.Key.Key_I)                       # refills frame 2, leaves frame 1 empty
    assert "leaving 1 frame marked absent empty" in s.messages[-1].text
    assert [f for f in range(4) if s.document.find_track("100", f)] == [0, 2, 3]
    key(qtbot, w, Qt.Key.Key_H, Qt.KeyboardModifier.ShiftModifier)
    assert s.messages[-1].text == f"No longer absent: track 100 in frame {fid}"
    assert s.document.absent_frames("100") == []
    key(qtbot, w, Qt.Key.Key_H, Qt.KeyboardModifier.ShiftModifier)
    assert s.messages[-1].text == "track 100 is marked absent in no frame"
    key(qtbot, w, Qt.Key.Key_Z, CTRL)                 # the mark is back; one more undo refills
    assert s.document.absent_frames("100") == [1]


def saved_attributes(project, uid) -> dict:
    """The attributes of cuboid ``uid`` as the database holds them."""
    con = sqlite3.connect(project.folder / "project.sqlite")
    try:
        (text,) = con.execute("SELECT attributes FROM annotations WHERE uid = ?", (uid,)).fetchone()
    finally:
        con.close()
    return json.loads(text)


def test_class_key_drops_the_old_classes_attributes_and_ctrl_z_brings_them_back(qtbot, window, project):
    """A parked car retyped to pedestrian (key 5) loses ``parked`` (a car's attribute) but keeps its
    point count; the status bar and the undo entry say so; one Ctrl+Z restores it in the database."""
    w, s = window, window.session
    car = place(s, 0, s.drive.labels(0)[0], "100")
    s.apply(SetAttributes(car.uid, {"parked": True, "num_lidar_points": 12}))
    had = saved_attributes(project, car.uid)
    assert had["parked"] is True
    s.select((car.uid,))
    key(qtbot, w, getattr(Qt.Key, f"Key_{s.ontology.get('pedestrian').key}"))
    said = f"Set class pedestrian: track 100, 1 box in frame {s.drive.frames[0].frame_id}; dropped parked, emergency"
    assert s.messages[-1].text == said and w.undo_action.text() == f"Undo {said}"
    now = saved_attributes(project, car.uid)
    assert "parked" not in now and now == {k: v for k, v in had.items() if k not in ("parked", "emergency")}
    assert "parked" not in [w.attributes.form.itemAt(i, w.attributes.form.ItemRole.LabelRole).widget().text()
                            for i in range(w.attributes.form.rowCount())]
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert saved_attributes(project, car.uid) == had and s.document.get(car.uid).cls == "car"


def test_c_and_shift_c_count_the_next_sweep_and_name_frames_by_id(qtbot, window, project):
    """C says the frame ID it copied to, and the copy's ``num_lidar_points`` are the next sweep's
    points in its box (the source frame's count would be wrong there); Shift+C the same for the
    whole frame; Ctrl+Return's undo entry names the frame by ID too."""
    from fusionlabel.geometry.cuboid import points_in_cuboid

    w, s = window, window.session
    fid = [f.frame_id for f in s.drive.frames]
    assert fid[1] != "1"
    labels = sorted(s.drive.labels(0), key=lambda g: -g.attributes["num_lidar_points"])[:3]
    placed = [place(s, 0, g) for g in labels]
    s.select((placed[0].uid,))
    key(qtbot, w, Qt.Key.Key_C)
    assert s.messages[-1].text == f"Copy 1 cuboid to frame {fid[1]}"
    assert w.undo_action.text() == f"Undo Copy 1 cuboid to frame {fid[1]}"
    points = s.drive.points(1)
    copies = [s.document.find_track(p.label.track_id, 1) for p in placed]
    assert copies[1] is None and copies[2] is None
    n = int(points_in_cuboid(points, copies[0].box).sum())
    assert copies[0].attributes["num_lidar_points"] == n != labels[0].attributes["num_lidar_points"]
    key(qtbot, w, Qt.Key.Key_C, Qt.KeyboardModifier.ShiftModifier)
    assert s.messages[-1].text == f"Copy 2 cuboids to frame {fid[1]}"
    for p in placed[1:]:
        copy = s.document.find_track(p.label.track_id, 1)
        assert copy.attributes["num_lidar_points"] == int(points_in_cuboid(points, copy.box).sum())
    key(qtbot, w, Qt.Key.Key_Return, CTRL)
    assert s.document.frame_status(0) == "done"
    assert w.undo_action.text() == f"Undo Mark frame {fid[0]} done"


def strip_colors(w, x_cells, y) -> list[tuple[int, int, int]]:
    """The timeline strip's colours at the middle of the given cells, at height ``y``."""
    strip = w.timeline.strip
    image = strip.grab().toImage()
    cell = strip.width() / w.session.n_frames
    return [image.pixelColor(int((f + 0.5) * cell), y).getRgb()[:3] for f in x_cells]


def test_d_h_d_h_marks_an_occlusion_and_the_timeline_keeps_the_track(qtbot, tmp_path):
    """A car hidden in frames 1-3 of 5, between keyframes 0 and 4 (I filled 1-3; frame 3's box was
    deleted). H on frame 1's box, then D, H, D, H with nothing selected marks the stretch: a box
    there is deleted and marked, a frame without one only marked, each one undo step. Meanwhile the
    timeline shows the track's cyan dots and red crosses and says which track H marks; H on a
    marked frame says so; ] jumps from the remembered track to its next box and selects it."""
    p = Project.create(tmp_path / "project", testing.small_drive(frames=5), import_labels=False)
    w = open_window(qtbot, p)
    s = w.session
    try:
        fid = [f.frame_id for f in s.drive.frames]
        tid = moving_track(s.drive)
        k0 = place(s, 0, truth(s.drive, 0, tid), "100")
        k4 = place(s, 4, truth(s.drive, 4, tid), "100")
        s.select((k0.uid,))
        key(qtbot, w, Qt.Key.Key_I)
        s.apply(DeleteCuboids((s.document.find_track("100", 3).uid,)))
        s.set_frame(1)
        testing.wait_for_frame(w, 1)
        s.select((s.document.find_track("100", 1).uid,))
        key(qtbot, w, Qt.Key.Key_H)
        assert s.selection == () and s.marked_tracks == ("100",)
        assert w.timeline.track_note.text() == "track 100 marked absent here (H)"
        h = w.timeline.strip.height()
        red, cyan = (255, 70, 70), (0, 220, 255)
        assert strip_colors(w, [1], h // 2) == [red]
        assert strip_colors(w, [0, 2, 4], h - 3) == [cyan] * 3      # with nothing selected
        n = len(s.document.history())
        w.loader.invalidate()                                        # frame 2 still loads when H comes
        key(qtbot, w, Qt.Key.Key_D)
        assert w.timeline.track_note.text() == "H marks track 100 absent here too (Esc forgets it)"
        key(qtbot, w, Qt.Key.Key_H)                                  # frame 2: its interpolated box goes
        assert s.messages[-1].text == f"Track 100 absent in frame {fid[2]} (its cuboid deleted)"
        testing.wait_for_frame(w, 2)
        assert w.statusBar().currentMessage() == s.messages[-1].text   # not cleared by the frame's arrival
        key(qtbot, w, Qt.Key.Key_D)
        key(qtbot, w, Qt.Key.Key_H)                                  # frame 3: no box, only the mark
        assert s.messages[-1].text == f"Track 100 absent in frame {fid[3]}"
        assert w.statusBar().currentMessage() == s.messages[-1].text
        assert s.document.absent_frames("100") == [1, 2, 3]
        assert [f for f in range(5) if s.document.find_track("100", f)] == [0, 4]
        assert len(s.document.history()) == n + 2 and s.document.undo_text() == f"Track 100 absent in frame {fid[3]}"
        con = sqlite3.connect(p.folder / "project.sqlite")
        try:
            assert sorted(con.execute("SELECT frame FROM track_absent WHERE track_id = '100'")) == [(1,), (2,), (3,)]
        finally:
            con.close()
        assert strip_colors(w, [1, 2, 3], h // 2) == [red] * 3
        assert strip_colors(w, [0, 4], h - 3) == [cyan] * 2
        key(qtbot, w, Qt.Key.Key_H)                                  # marked already: nothing changes
        assert s.messages[-1].text.startswith(f"track 100 is marked absent in frame {fid[3]} already")
        assert len(s.document.history()) == n + 2
        key(qtbot, w, Qt.Key.Key_BracketLeft)                        # from the remembered track, back
        assert s.frame == 0 and s.selection == (k0.uid,) and s.marked_tracks == ()
        key(qtbot, w, Qt.Key.Key_BracketRight)
        assert s.frame == 4 and s.selection == (k4.uid,)
        key(qtbot, w, Qt.Key.Key_Z, CTRL)                            # one step: frame 3's mark only
        assert s.document.absent_frames("100") == [1, 2]
    finally:
        w.close()
        p.close()


def test_shift_h_with_nothing_selected_takes_back_the_remembered_or_the_frames_marks(qtbot, window, project):
    """H on track 100's only cuboid leaves nothing to select: Shift+H then takes back the marks of
    the track H remembers (one undo step). With no track remembered (Esc), it takes back those of
    every track marked absent in the frame shown, naming them; on a frame without marks it asks for
    a selection and changes nothing."""
    w, s = window, window.session
    fid = s.drive.frames[1].frame_id
    tid = moving_track(s.drive)
    only = place(s, 1, truth(s.drive, 1, tid), "100")
    other = [place(s, f, next(g for g in s.drive.labels(f) if g.track_id != tid), "200") for f in (0, 1)]
    s.set_frame(1)
    testing.wait_for_frame(w, 1)
    s.select((only.uid,))
    key(qtbot, w, Qt.Key.Key_H)
    assert s.selection == () and s.marked_tracks == ("100",) and s.document.track_frames("100") == []
    n = len(s.document.history())
    key(qtbot, w, Qt.Key.Key_H, Qt.KeyboardModifier.ShiftModifier)
    assert s.messages[-1].text == f"No longer absent: track 100 in frame {fid}"
    assert s.document.absent_frames("100") == [] and len(s.document.history()) == n + 1
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert s.document.absent_frames("100") == [1] and s.document.track_frames("100") == []
    s.select((other[1].uid,))
    key(qtbot, w, Qt.Key.Key_H)                                      # track 200 remembered now
    key(qtbot, w, Qt.Key.Key_Escape)                                 # and forgotten
    assert s.marked_tracks == () and s.selection == ()
    n = len(s.document.history())
    key(qtbot, w, Qt.Key.Key_H, Qt.KeyboardModifier.ShiftModifier)   # the frame's marks: both tracks
    assert s.messages[-1].text == f"No longer absent: tracks 100, 200 in frame {fid}"
    assert s.document.tracks_absent_in(1) == [] and len(s.document.history()) == n + 1
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert s.document.tracks_absent_in(1) == ["100", "200"] and s.marked_tracks == ("100", "200")
    key(qtbot, w, Qt.Key.Key_Escape)                                 # forget them
    s.set_frame(0)
    testing.wait_for_frame(w, 0)
    key(qtbot, w, Qt.Key.Key_H, Qt.KeyboardModifier.ShiftModifier)
    assert s.messages[-1].text == "select a cuboid first (click it, or Tab)"
    assert s.document.tracks_absent_in(1) == ["100", "200"] and len(s.document.history()) == n


def test_shift_h_on_the_frames_marks_remembers_their_tracks_as_h_does(qtbot, window, project):
    """Marks taken back with Shift+H on the frame's marks (nothing selected, no track remembered)
    leave their tracks remembered, as H leaves the track it marks: the timeline says H marks them
    here, ] goes to the next cuboid, and D, H, D, H marks a stretch again; Esc forgets them."""
    w, s = window, window.session
    tid = moving_track(s.drive)
    boxes = [place(s, f, truth(s.drive, f, tid), "100") for f in range(4)]
    s.set_frame(1)
    testing.wait_for_frame(w, 1)
    s.select((boxes[1].uid,))
    key(qtbot, w, Qt.Key.Key_H)                                    # frames 1 and 2: D, H
    key(qtbot, w, Qt.Key.Key_D)
    testing.wait_for_frame(w, 2)
    key(qtbot, w, Qt.Key.Key_H)
    assert s.document.absent_frames("100") == [1, 2]
    ids = [f.frame_id for f in s.drive.frames]
    assert w.attributes.title.text() == "track 100 (car)"            # the panel on the remembered track
    assert w.attributes.note.text().splitlines() == [
        f"Marked absent in frame {ids[2]} (H): no cuboid here, nothing to edit; marked in 2 frames ({ids[1]}, {ids[2]})",
        "Shift+H takes back its marks in every frame; ] and [ go to its next and previous cuboid; Esc forgets it."]
    key(qtbot, w, Qt.Key.Key_Escape)
    assert s.marked_tracks == () and s.selection == ()
    key(qtbot, w, Qt.Key.Key_H, Qt.KeyboardModifier.ShiftModifier)   # the frame's marks
    assert s.document.absent_frames("100") == [] and s.selection == ()
    assert s.marked_tracks == ("100",)
    assert w.timeline.track_note.text() == "H marks track 100 absent here too (Esc forgets it)"
    key(qtbot, w, Qt.Key.Key_H)                                    # frame 2 (its cuboid went with the first H)
    key(qtbot, w, Qt.Key.Key_D)
    testing.wait_for_frame(w, 3)
    key(qtbot, w, Qt.Key.Key_H)                                    # frame 3: its cuboid deleted and marked
    assert s.document.absent_frames("100") == [2, 3] and s.document.track_frames("100") == [0]
    key(qtbot, w, Qt.Key.Key_Escape)
    key(qtbot, w, Qt.Key.Key_H, Qt.KeyboardModifier.ShiftModifier)
    assert s.marked_tracks == ("100",)
    key(qtbot, w, Qt.Key.Key_BracketLeft)                          # to its previous cuboid, selected
    assert s.frame == 0 and s.selection == (boxes[0].uid,) and s.marked_tracks == ()
    key(qtbot, w, Qt.Key.Key_Escape)
    assert s.selection == () and s.marked_tracks == ()


def test_h_on_a_keyframe_says_so_and_esc_forgets_the_marked_track(qtbot, window, project):
    """H on a human box says it deleted a keyframe, as Del does; [ then jumps from the track H
    marked (it has no earlier box here); Esc forgets the track: the timeline's note and dots go,
    and H and ] ask for a selection again. Selecting a cuboid forgets it too."""
    w, s = window, window.session
    fid = s.drive.frames[1].frame_id
    tid = moving_track(s.drive)
    place(s, 0, truth(s.drive, 0, tid), "100")
    k1 = place(s, 1, truth(s.drive, 1, tid), "100")
    other = place(s, 1, next(g for g in s.drive.labels(1) if g.track_id != tid), "200")
    s.set_frame(1)
    testing.wait_for_frame(w, 1)
    s.select((k1.uid,))
    key(qtbot, w, Qt.Key.Key_H)
    assert s.messages[-1].text == f"Track 100 absent in frame {fid} (its cuboid deleted, 1 keyframe)"
    assert s.marked_tracks == ("100",)
    key(qtbot, w, Qt.Key.Key_BracketRight)
    assert s.messages[-1].text == "track 100 has no later frame" and s.frame == 1
    key(qtbot, w, Qt.Key.Key_Escape)
    assert s.marked_tracks == () and w.timeline.track_note.text() == ""
    h = w.timeline.strip.height()
    assert strip_colors(w, [0], h - 3) == [(28, 28, 32)]            # no track followed: no dot
    key(qtbot, w, Qt.Key.Key_H)
    assert s.messages[-1].text == "select a cuboid first (click it, or Tab)"
    key(qtbot, w, Qt.Key.Key_Z, CTRL)                                # k1 back, selected
    assert s.selection == (k1.uid,)
    key(qtbot, w, Qt.Key.Key_H)
    assert s.marked_tracks == ("100",) and s.selection == ()
    key(qtbot, w, Qt.Key.Key_Tab)                                    # selecting forgets the marked track
    assert s.selection == (other.uid,) and s.marked_tracks == ()
    assert w.timeline.track_note.text() == ""


def test_a_per_track_attribute_shows_mixed_and_one_click_sets_the_whole_track(qtbot, window, project):
    """An older project's car track says emergency on one box only: the attribute panel labels
    the row "(track: mixed)" with the tick box half-checked; one click sets it on all four boxes
    in the database (status bar: where), one Ctrl+Z brings the mixed track back."""
    w, s = window, window.session
    label = s.drive.labels(0)[0]
    boxes = [place(s, f, label, "100") for f in range(4)]
    s.apply(SetAttributes(boxes[2].uid, {"emergency": True}))
    s.select((boxes[0].uid,))
    panel = w.attributes
    tick = panel._editors["emergency"]
    row = panel.form.labelForField(tick)
    assert row.text() == "emergency (track: mixed)" and "no on 3 cuboids, yes on 1 cuboid" in row.toolTip()
    assert tick.checkState() == Qt.CheckState.PartiallyChecked and tick.text() == "mixed"
    assert panel.form.labelForField(panel._editors["parked"]).text() == "parked"    # a per-frame attribute
    qtbot.waitUntil(tick.isVisible)                 # the class's rows are laid out
    # on the tick box itself: a check box as wide as the panel takes clicks on its box and words only
    qtbot.mouseClick(tick, Qt.MouseButton.LeftButton, pos=check_box_centre(tick))
    assert [saved_attributes(project, b.uid)["emergency"] for b in boxes] == [True] * 4
    said = "emergency = yes on track 100, 4 frames"
    assert s.messages[-1].text == said and w.statusBar().currentMessage() == said
    assert row.text() == "emergency (track)" and tick.checkState() == Qt.CheckState.Checked
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert [saved_attributes(project, b.uid)["emergency"] for b in boxes] == [False, False, True, False]
    s.select((boxes[0].uid,))
    assert row.text() == "emergency (track: mixed)"


def test_a_class_key_on_several_tracks_asks_again_before_retyping_them_in_every_frame(qtbot, window, project):
    """Ctrl+A, then a class key: with cuboids of two tracks that reach other frames, the first 2
    only says how far the retype would reach (classes unchanged, Esc cancels), the second 2 within
    a few seconds retypes both tracks in every frame and says how many boxes in how many frames
    changed; one Ctrl+Z undoes it. Cuboids of several tracks in the frame shown only retype at once."""
    w, s = window, window.session
    now = [100.0]
    s.clock = lambda: now[0]
    mine = {t: [place(s, f, s.drive.labels(f)[k], t).uid for f in range(4)] for k, t in enumerate(("100", "200"))}
    other = place(s, 2, s.drive.labels(2)[2], "300").uid                    # a car of another track, left alone
    s.select((mine["100"][0], mine["200"][0]))
    classes = lambda: {s.document.get(u).cls for t in ("100", "200") for u in mine[t]}  # noqa: E731
    key(qtbot, w, Qt.Key.Key_2)
    said = s.messages[-1].text
    assert said.startswith("retype 2 tracks, 8 boxes in 4 frames to van") and "press 2 again" in said, said
    assert classes() == {"car"} and s.current_class != "van"
    key(qtbot, w, Qt.Key.Key_Escape)                # cancels the retype, keeps the selection
    assert "cancelled" in s.messages[-1].text and classes() == {"car"} and len(s.selection) == 2
    key(qtbot, w, Qt.Key.Key_2)
    now[0] += 10.0                                  # too late: the second press only asks again
    key(qtbot, w, Qt.Key.Key_2)
    assert s.messages[-1].text.startswith("retype 2 tracks") and classes() == {"car"}
    now[0] += 1.0
    key(qtbot, w, Qt.Key.Key_2)
    said = s.messages[-1].text
    assert classes() == {"van"} and s.document.get(other).cls == "car"
    assert said.startswith("Set class van: 2 tracks, 8 boxes") and "8 of them changed class, in 4 frames (Ctrl+Z undoes it)" in said
    rows = saved_rows(project, set(mine["100"] + mine["200"] + [other]))
    assert sorted(r[0] for r in rows.values()) == ["car"] + ["van"] * 8
    key(qtbot, w, Qt.Key.Key_Z, CTRL)               # one step back: every box of both tracks is car again
    assert classes() == {"car"}

    fresh = [place(s, 0, s.drive.labels(0)[k]).uid for k in (3, 4)]           # new boxes: a track each, frame 0 only
    s.select(fresh)
    key(qtbot, w, Qt.Key.Key_3)
    assert {s.document.get(u).cls for u in fresh} == {"truck"}
    assert "2 of them changed class, in 1 frame (Ctrl+Z undoes it)" in s.messages[-1].text


def answer_question(qtbot, key) -> list[str]:
    """Answer the next message box with ``key`` (Return: its default button, Esc: cancel); the list
    gets its text once it was shown."""
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication, QMessageBox

    asked = []

    def press(tries: int = 50) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            if tries:
                QTimer.singleShot(20, lambda: press(tries - 1))
            return
        asked.append(box.text())
        qtbot.keyClick(box, key)

    QTimer.singleShot(0, press)
    return asked


def test_the_class_box_on_several_tracks_asks_before_retyping_them_in_every_frame(qtbot, window, project):
    """The attribute panel's class box, with cuboids of two tracks reaching other frames selected,
    asks in a message box with the reach the class keys give (Esc: nothing changes, and the box shows
    the class kept; Enter: the default button retypes both tracks in every frame, said as the keys
    say it). On one track it retypes at once, as documented."""
    w, s = window, window.session
    mine = {t: [place(s, f, s.drive.labels(f)[k], t).uid for f in range(4)] for k, t in enumerate(("100", "200"))}
    s.select((mine["100"][0], mine["200"][0]))
    classes = lambda: {s.document.get(u).cls for t in ("100", "200") for u in mine[t]}  # noqa: E731
    combo = w.attributes.cls
    asked = answer_question(qtbot, Qt.Key.Key_Escape)
    combo.setCurrentText("van")
    assert asked == ["Retype 2 tracks, 8 boxes in 4 frames to van (not only this frame)?"]
    assert classes() == {"car"} and combo.currentText() == "car"
    assert s.messages[-1].text == "retype to van cancelled (2 tracks, 8 boxes in 4 frames stay as they were)"
    asked = answer_question(qtbot, Qt.Key.Key_Return)
    combo.setCurrentText("van")
    assert len(asked) == 1 and classes() == {"van"} and combo.currentText() == "van"
    said = s.messages[-1].text
    assert said.startswith("Set class van: 2 tracks, 8 boxes") and "8 of them changed class, in 4 frames (Ctrl+Z undoes it)" in said
    assert sorted(r[0] for r in saved_rows(project, set(mine["100"] + mine["200"])).values()) == ["van"] * 8
    qtbot.waitUntil(w.isActiveWindow)               # the window's keys work again once the box is gone
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert classes() == {"car"}
    s.select((mine["100"][0],))                     # one track: at once, no question
    asked = answer_question(qtbot, Qt.Key.Key_Escape)
    combo.setCurrentText("truck")
    assert {s.document.get(u).cls for u in mine["100"]} == {"truck"} and not asked


def test_the_retype_question_names_the_attributes_the_retype_drops(qtbot, window, project):
    """Cars of two tracks, one of them parked, retyped to pedestrian (which has no ``parked``): the
    class key's first press and the class box's question both name what the retype drops, and the
    retype then drops just that; a retype to van (a van may be parked too) asks as before."""
    w, s = window, window.session
    mine = {t: [place(s, f, s.drive.labels(f)[k], t).uid for f in range(4)] for k, t in enumerate(("100", "200"))}
    boxes = mine["100"] + mine["200"]
    s.apply(SetAttributes(mine["200"][3], {"parked": True}))
    car, pedestrian = (set(s.ontology.get(c).attributes) for c in ("car", "pedestrian"))
    held = {n for u in boxes for n in s.document.get(u).attributes}
    expected = held & car - pedestrian                 # a car's attributes that a pedestrian has not
    assert "parked" in expected
    s.select((mine["100"][0], mine["200"][0]))
    key(qtbot, w, getattr(Qt.Key, f"Key_{s.ontology.get('pedestrian').key}"))
    said = s.messages[-1].text
    head = "retype 2 tracks, 8 boxes in 4 frames to pedestrian (not only this frame; drops: "
    assert said.startswith(head) and "): press " in said, said
    drops = said[len(head):said.index("): press ")].split(", ")
    assert sorted(drops) == sorted(expected)
    key(qtbot, w, Qt.Key.Key_Escape)
    asked = answer_question(qtbot, Qt.Key.Key_Escape)
    w.attributes.cls.setCurrentText("pedestrian")
    assert asked == [f"Retype 2 tracks, 8 boxes in 4 frames to pedestrian (not only this frame; "
                     f"drops: {', '.join(drops)})?"]
    asked = answer_question(qtbot, Qt.Key.Key_Return)
    w.attributes.cls.setCurrentText("pedestrian")
    assert len(asked) == 1 and {s.document.get(u).cls for u in boxes} == {"pedestrian"}
    assert not {n for u in boxes for n in s.document.get(u).attributes} & expected
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert "parked" in s.ontology.get("van").attributes
    asked = answer_question(qtbot, Qt.Key.Key_Escape)
    w.attributes.cls.setCurrentText("van")
    assert asked == ["Retype 2 tracks, 8 boxes in 4 frames to van (not only this frame)?"]
