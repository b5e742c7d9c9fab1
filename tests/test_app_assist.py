"""Model assistance in the app through real key and mouse events (pytest-qt, offscreen): one-click
boxes (G then click, Alt+click), auto-fit, pre-label a frame / every frame (background run with a
progress dialog), accept and delete pre-labels, interpolate and propagate; each ends in the
project database and undoes with one Ctrl+Z. The 3D view's one-click runs under a real display."""

from __future__ import annotations

import os
import sqlite3
import textwrap
import time

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import QPoint, Qt, QTimer  # noqa: E402
from PyQt6.QtWidgets import QApplication, QPushButton  # noqa: E402

from conftest import APP_TEST_SIZE, run_on_display  # noqa: E402
from fusionlabel.app import testing  # noqa: E402
from fusionlabel.app.main_window import MainWindow  # noqa: E402
from fusionlabel.app.session import Session  # noqa: E402
from fusionlabel.geometry.cuboid import points_in_cuboid  # noqa: E402
from fusionlabel.geometry.iou import bev_iou  # noqa: E402
from fusionlabel.model.annotation import CuboidLabel  # noqa: E402
from fusionlabel.model.commands import CreateCuboid  # noqa: E402
from fusionlabel.store.project import Project  # noqa: E402

pytestmark = pytest.mark.gui
NO = Qt.KeyboardModifier.NoModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier


@pytest.fixture
def project(tmp_path):
    p = Project.create(tmp_path / "project", testing.small_drive())
    yield p
    if not p.store.closed:
        p.close()


@pytest.fixture
def window(qtbot, project):
    w = MainWindow(Session(project), use_gl=False)
    w.window_layout.apply_default(APP_TEST_SIZE)   # not the smallest window the test screen leaves
    qtbot.addWidget(w)
    testing.show_window(w)
    w.bev.center, w.bev.scale = np.array([10.0, 0.0]), 10.0
    yield w
    w.close()


def key(qtbot, w, k, modifier=NO):
    qtbot.keyClick(w.bev, k, modifier)


def px(view, xy) -> QPoint:
    u, v = view.to_screen(np.asarray(xy, float)[None])[0]
    return QPoint(int(round(u)), int(round(v)))


def rows(project):
    """The annotations table read with plain sqlite3: uid -> (frame, class, source, score)."""
    con = sqlite3.connect(project.folder / "project.sqlite")
    try:
        out = {r[0]: r[1:] for r in con.execute("SELECT uid, frame, class, source, score FROM annotations")}
    finally:
        con.close()
    return out


def visible_objects(w, frame=0, min_points=40):
    """Ground-truth objects of the frame that are well seen and on screen in the BEV, nearest first."""
    pts = w.session.drive.points(frame)
    out = []
    for g in w.session.drive.labels(frame):
        inside = pts[points_in_cuboid(pts, g.box)]
        p = px(w.bev, g.box.center[:2])
        if len(inside) >= min_points and w.bev.rect().adjusted(20, 20, -20, -20).contains(p):
            out.append((g, inside))
    return sorted(out, key=lambda gi: np.hypot(*gi[0].box.center[:2]))


def test_one_click_of_the_truck_beside_the_ego_is_one_truck_box(qtbot, window):
    w, s = window, window.session
    truck, truck_pts = next(o for o in visible_objects(w) if o[0].label == "truck")
    qtbot.mouseClick(w.bev, Qt.MouseButton.LeftButton, ALT, px(w.bev, truck_pts[0, :2]))
    (ann,) = s.annotations()
    assert bev_iou(ann.box, truck.box) >= 0.5


def test_one_click_by_key_and_by_alt_click_ends_in_the_database(qtbot, window, project):
    w, s = window, window.session
    # the nearest car, and the nearest other object: the truck beside the ego
    seen = visible_objects(w)
    car, car_pts = next(o for o in seen if o[0].label == "car")
    other, other_pts = next(o for o in seen if o[0] is not car)
    key(qtbot, w, Qt.Key.Key_G)
    assert s.tool == "one_click"
    assert w.bev.cursor().shape() == Qt.CursorShape.PointingHandCursor
    # Click near (not on) a return of the object.
    qtbot.mouseClick(w.bev, Qt.MouseButton.LeftButton, NO, px(w.bev, car_pts[0, :2] + 0.1))
    assert s.tool is None
    (ann,) = s.annotations()
    assert s.selection == (ann.uid,) and ann.source == "human"
    assert bev_iou(ann.box, car.box) >= 0.5
    assert s.document.history() == [f"One-click {ann.cls}"]
    assert rows(project)[ann.uid] == (0, ann.cls, "human", None)
    # Alt+click: no key first.
    qtbot.mouseClick(w.bev, Qt.MouseButton.LeftButton, ALT, px(w.bev, other_pts[0, :2]))
    assert len(s.annotations()) == 2
    second = s.document.get(s.selection[0])
    assert bev_iou(second.box, other.box) >= 0.5 and len(s.document.history()) == 2
    # A click on the car again creates nothing (it has its cuboid) and says so.
    qtbot.mouseClick(w.bev, Qt.MouseButton.LeftButton, ALT, px(w.bev, car_pts[0, :2]))
    assert len(s.annotations()) == 2 and "already has a cuboid" in s.messages[-1].text
    assert s.selection == (ann.uid,)                          # ... and selects it
    # G then Esc disarms; the next plain click does not create.
    key(qtbot, w, Qt.Key.Key_G)
    key(qtbot, w, Qt.Key.Key_Escape)
    assert s.tool is None
    # Undo removes the last one-click box, in the database too.
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert [a.uid for a in s.annotations()] == [ann.uid]
    assert set(rows(project)) == {ann.uid}


def test_auto_fit_keys(qtbot, window, project):
    w, s = window, window.session
    car, _ = visible_objects(w)[0]
    rough = car.box.with_(center=np.add(car.box.center, [0.4, -0.3, 0.35]), size=np.multiply(car.box.size, 1.25))
    made = s.apply(CreateCuboid(0, car.with_(box=rough, source="human", label="car")))
    s.select((made.uid,))
    key(qtbot, w, Qt.Key.Key_T)
    fit = s.document.get(made.uid).box
    assert s.document.undo_text() == "Auto-fit" and fit.yaw == rough.yaw
    assert bev_iou(fit, car.box) > bev_iou(rough, car.box)
    assert abs(fit.bottom_center()[2] - car.box.bottom_center()[2]) < 0.15     # on the ground
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert s.document.get(made.uid).box == rough
    key(qtbot, w, Qt.Key.Key_T, SHIFT)
    assert s.document.undo_text() == "Auto-fit (new heading)"
    assert bev_iou(s.document.get(made.uid).box, car.box) > bev_iou(rough, car.box)
    key(qtbot, w, Qt.Key.Key_T, SHIFT)                       # fitted already: says so
    assert s.messages[-1].text == "auto-fit: the selection already fits its points"
    sky = s.apply(CreateCuboid(0, car.with_(box=car.box.with_(center=np.add(car.box.center, [0, 0, 30.0])),
                                            source="human", label="car", track_id=None)))
    s.select((sky.uid,))
    key(qtbot, w, Qt.Key.Key_T)
    assert s.document.get(sky.uid).box == sky.label.box and s.messages[-1].text == "auto-fit: no LiDAR points in the selection to fit to"


class GroundTruthDetector:
    """Detections = the drive's ground truth moved by 10 cm, with made-up scores: what gets stored
    is then known whatever the built-in detector does this week."""

    name = "ground truth"

    def detect_frame(self, drive, index):
        return [CuboidLabel(g.box.with_(center=np.add(g.box.center, [0.1, 0.0, 0.0])), g.label.capitalize(), None,
                            0.55 + 0.4 * ((k * 7) % 10) / 10, "model")
                for k, g in enumerate(drive.labels(index))]


def test_prelabel_accept_and_delete_flow(qtbot, window, project, monkeypatch):
    w, s = window, window.session
    monkeypatch.setattr(w.actions_, "detector", lambda: GroundTruthDetector())
    car, _ = visible_objects(w)[0]
    human = s.apply(CreateCuboid(0, car.with_(source="human", label="car", score=None)))
    key(qtbot, w, Qt.Key.Key_P, CTRL)
    testing.wait_for_prelabels(w)
    model = [a for a in s.annotations() if a.source == "model"]
    assert len(model) == len(s.drive.labels(0)) - 1, s.messages[-3:]      # all but the labelled car
    assert "scoring below" not in s.messages[-1].text                     # every score is 0.55 or more
    s.undo()
    s.save_setting("prelabel_min_score", 0.8)
    key(qtbot, w, Qt.Key.Key_P, CTRL)
    testing.wait_for_prelabels(w)
    below = sum(d.score < 0.8 for d in GroundTruthDetector().detect_frame(s.drive, 0))
    assert below and s.messages[-1].text.endswith(f"; {below} scoring below 0.8 left out"), s.messages[-1].text
    s.undo()
    s.save_setting("prelabel_min_score", 0.5)
    key(qtbot, w, Qt.Key.Key_P, CTRL)
    testing.wait_for_prelabels(w)
    model = [a for a in s.annotations() if a.source == "model"]
    assert s.document.undo_text().startswith("Pre-label frame")
    kept = s.document.get(human.uid)
    assert kept.box == car.box and kept.source == "human"
    assert all(bev_iou(a.box, car.box) <= 0.1 for a in model)
    db = rows(project)
    assert all(db[a.uid][2:] == ("model", a.score) and 0.0 <= a.score <= 1.0 for a in model)
    # The object list shows them as pre-labels with their score, in italics.
    row = w.objects.shown_uids.index(model[0].uid)
    assert w.objects.item(row, 3).text() == f"pre-label {model[0].score:.2f}"
    assert w.objects.item(row, 1).font().italic() and not w.objects.item(0, 1).font().italic()
    # Select one pre-label that a camera shows with a click in the BEV and accept it with Y.
    testing.wait_for_frame(w)
    drawn = {n: {a.uid: a for a, _ in v.wireframes()} for n, v in w.cameras.views.items()}
    target = max((a for a in model if any(a.uid in d for d in drawn.values())),
                 key=lambda a: a.box.length * a.box.width)
    assert all(d[target.uid].source == "model" for d in drawn.values() if target.uid in d)
    qtbot.mouseClick(w.bev, Qt.MouseButton.LeftButton, NO, px(w.bev, target.box.center[:2]))
    assert s.selection == (target.uid,)
    key(qtbot, w, Qt.Key.Key_Y)
    assert rows(project)[target.uid][2:] == ("human", None)
    assert s.messages[-1].text == "Accept pre-label", s.messages[-3:]
    # every camera draws it as accepted (solid, no score), though its box did not change
    for name, v in w.cameras.views.items():
        now = {a.uid: a for a, _ in v.wireframes()}
        if target.uid in drawn[name]:
            assert now[target.uid].source == "human" and now[target.uid].score is None, name
    assert s.document.get(target.uid).attributes["prelabel_score"] == target.score
    # Shift+X deletes every pre-label left in the frame, in one step; humans stay.
    key(qtbot, w, Qt.Key.Key_X, SHIFT)
    assert {a.uid for a in s.annotations()} == {human.uid, target.uid}
    assert set(rows(project)) == {human.uid, target.uid}
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert len([a for a in s.annotations() if a.source == "model"]) == len(model) - 1
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert s.document.get(target.uid).source == "model"
    # Shift+Y accepts all of them at once.
    key(qtbot, w, Qt.Key.Key_Y, SHIFT)
    assert all(a.source == "human" for a in s.annotations())
    assert {r[2] for r in rows(project).values()} == {"human"}


class GatedDetector:
    """A detector whose every frame waits for the test to let it go (a slow detector)."""

    name = "gated"

    def __init__(self):
        import threading

        self.inner = GroundTruthDetector()
        self.go = threading.Semaphore(0)
        self.started = threading.Event()

    def detect_frame(self, drive, index):
        self.started.set()
        assert self.go.acquire(timeout=30)
        return self.inner.detect_frame(drive, index)


def test_prelabel_all_frames_runs_in_the_background(qtbot, window, project, monkeypatch):
    w, s = window, window.session
    gated = GatedDetector()
    monkeypatch.setattr(w.actions_, "detector", lambda: gated)
    key(qtbot, w, Qt.Key.Key_P, CTRL | SHIFT)
    runner = w.prelabel_runner
    dialog = runner.dialog
    seen = []
    runner.progressed.connect(lambda done, total: seen.append((done, total)))
    assert dialog is not None and dialog.isVisible() and not dialog.isModal()
    assert gated.started.wait(10) and runner.running
    # The window keeps working while the detector runs: keys still reach it.
    key(qtbot, w, Qt.Key.Key_D)
    assert s.frame == 1
    key(qtbot, w, Qt.Key.Key_P, CTRL | SHIFT)                 # a second run is refused
    assert s.messages[-1].text == "pre-labelling is already running"
    gated.go.release()
    qtbot.waitUntil(lambda: bool(seen), timeout=60_000)        # the dialog names the detector all along
    assert dialog.labelText() == f"Pre-labelling with gated: frame 1 of {s.n_frames}"
    for _ in range(s.n_frames - 1):
        gated.go.release()
    qtbot.waitUntil(lambda: runner.dialog is None and not runner.running, timeout=60_000)
    assert seen == [(k, s.n_frames) for k in range(1, s.n_frames + 1)]
    assert s.document.undo_text().startswith(f"Pre-label {s.n_frames} frames")
    per_frame = [len(s.annotations(f)) for f in range(s.n_frames)]
    assert all(n > 0 for n in per_frame)
    # Consecutive frames of the simulated sequence are linked into tracks.
    tracks = [a.track_id for a in s.document.all_annotations()]
    assert len(set(tracks)) < len(tracks)
    db = rows(project)
    assert len(db) == sum(per_frame) and {r[2] for r in db.values()} == {"model"}
    # Window shortcuts need an active window; the closed dialog must have handed activation back.
    qtbot.waitUntil(w.isActiveWindow, timeout=5_000)
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert len(s.document) == 0 and rows(project) == {}
    # Cancel after the first frame: that frame's pre-labels are stored, the rest are not run.
    key(qtbot, w, Qt.Key.Key_P, CTRL | SHIFT)
    gated.go.release()
    qtbot.waitUntil(lambda: runner.dialog is not None and runner.dialog.value() == 1, timeout=30_000)
    qtbot.mouseClick(runner.dialog.findChild(QPushButton), Qt.MouseButton.LeftButton)
    gated.go.release()  # the worker may already wait on frame 2: let it finish that one
    qtbot.waitUntil(lambda: runner.dialog is None and not runner.running, timeout=60_000)
    assert "cancelled" in s.messages[-1].text
    done = [f for f in range(s.n_frames) if s.annotations(f)]
    assert 0 in done and len(done) < s.n_frames


def test_prelabel_all_runs_the_detector_in_another_process(qtbot, window, project, monkeypatch):
    """The project's detector runs in a child process: nothing is detected in the app's own
    interpreter (on a thread it would hold the lock the frame loader and painting need), the event
    loop keeps ticking all along, and the run is stored as one undo step as before."""
    from fusionlabel.assist.builtin import GeometricDetector

    w, s = window, window.session
    here = []
    original = GeometricDetector.detect
    monkeypatch.setattr(GeometricDetector, "detect", lambda self, points: here.append(1) or original(self, points))
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(20)
    key(qtbot, w, Qt.Key.Key_P, CTRL | SHIFT)
    runner = w.prelabel_runner
    child = runner._process
    assert child is not None and runner.busy
    key(qtbot, w, Qt.Key.Key_D)                                # the window keeps working meanwhile
    testing.wait_for_frame(w, 1)
    qtbot.waitUntil(lambda: not runner.busy, timeout=60_000)
    timer.stop()
    assert child.proc.wait(10) == 0 and here == []
    assert s.document.undo_text().startswith(f"Pre-label {s.n_frames} frames (builtin)")
    assert all(s.annotations(f) for f in range(s.n_frames))
    # The same boxes as the detector gives here, frame by frame.
    local = GeometricDetector()
    for f in range(s.n_frames):
        got = sorted(round(a.box.center[0], 4) for a in s.annotations(f))
        want = sorted(round(d.box.center[0], 4) for d in original(local, s.drive.points(f)) if d.score >= 0.5)
        assert got == want
    gaps = np.diff(ticks)
    assert len(ticks) > 5 and gaps.max() < 1.5, gaps.max()   # generous: a loaded 2-core machine
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert len(s.document) == 0


def test_a_run_in_another_process_can_be_cancelled_or_discarded(qtbot, window, project):
    w, s = window, window.session
    runner = w.prelabel_runner
    key(qtbot, w, Qt.Key.Key_P, CTRL | SHIFT)
    assert runner._process is not None
    qtbot.mouseClick(runner.dialog.findChild(QPushButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not runner.busy, timeout=60_000)
    assert "cancelled" in s.messages[-1].text and len(s.document) < s.n_frames * 2
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    key(qtbot, w, Qt.Key.Key_P, CTRL | SHIFT)              # again, then close the window: discard
    child = runner._process
    w.close_question = lambda: "discard"
    assert w.close() and not runner.busy
    assert child.proc.wait(10) is not None
    qtbot.wait(200)
    QApplication.processEvents()
    assert not any("failed" in m.text for m in s.messages)
    assert not any(r[2] == "model" for r in rows(project).values())
    assert any("pre-label run was discarded" in m.text for m in s.messages)


def pixels(widget, rect=None) -> np.ndarray:
    """What a widget shows (H, W, 3) uint8, or the part of it in ``rect`` (x0, y0, x1, y1)."""
    arr = testing.widget_pixels(widget)
    if rect is None:
        return arr
    x0, y0, x1, y1 = (int(v) for v in rect)
    return arr[max(y0, 0):y1, max(x0, 0):x1].copy()


def outline_crops(w, uid) -> dict:
    """The pixels around one cuboid in the bird's-eye view and in every camera that shows it."""
    QApplication.processEvents()
    box = w.session.document.get(uid).box
    poly = w.bev.to_screen(box.bev_polygon())
    out = {"bev": pixels(w.bev, (*(poly.min(axis=0) - 4), *(poly.max(axis=0) + 4)))}
    for name, view in w.cameras.views.items():
        wire = {a.uid: wf for a, wf in view.wireframes()}.get(uid)
        if wire is not None:
            target = view.image_rect()
            hull = wire.hull_points() * (target.width() / view.cam.camera.width) + (target.x(), target.y())
            out[name] = pixels(view, (*(hull.min(axis=0) - 3), *(hull.max(axis=0) + 3)))
    return out


def status_of(w, uid):
    row = w.objects.shown_uids.index(uid)
    item = w.objects.item(row, 3)
    return item.text(), item.foreground().color().name()


def outline_coverage(view, uid, bare) -> tuple[float, float, int]:
    """How a camera draws one cuboid against ``bare`` (the view with the cuboids hidden), over
    points along its projected edges (corners left out): the share whose pixel changed and the
    share in the class's colour (both near 1 for a solid outline, well below for a dashed one),
    and how many pixels in all became white (the selection's edge)."""
    QApplication.processEvents()
    now = pixels(view).astype(int)
    ann = view.session.document.get(uid)
    wire = {a.uid: wf for a, wf in view.wireframes()}[uid]
    target = view.image_rect()
    scale = target.width() / view.cam.camera.width
    samples = []
    for line in wire.lines * scale + (target.x(), target.y()):
        for a, b in zip(line[:-1], line[1:]):
            length = float(np.hypot(*(b - a)))
            if np.isfinite(length) and length > 12:
                t = np.arange(4.0, length - 4.0, 0.5) / length
                samples.append(a + t[:, None] * (b - a))
    q = np.round(np.concatenate(samples)).astype(int)
    x0, y0 = int(target.x()) + 2, int(target.y()) + 2
    x1, y1 = min(x0 + int(target.width()), now.shape[1]) - 4, min(y0 + int(target.height()), now.shape[0]) - 4
    cx, cy, cw, ch = view.caption_rect
    q = q[(q[:, 0] >= x0) & (q[:, 0] < x1) & (q[:, 1] >= y0) & (q[:, 1] < y1)   # on the image, off its caption
          & ~((q[:, 0] <= cx + cw + 2) & (q[:, 1] <= cy + ch + 2))]
    seen = now[q[:, 1], q[:, 0]]
    changed = np.abs(seen - bare[q[:, 1], q[:, 0]]).sum(axis=1) > 60
    colored = np.abs(seen - np.asarray(view.session.ontology.color(ann.cls), int)).sum(axis=1) < 80
    white = (now.min(axis=2) > 225) & (bare.min(axis=2) <= 225)
    return float(changed.mean()), float(colored.mean()), int(white.sum())


def test_a_selected_prelabel_stays_dashed_in_the_cameras(qtbot, window, project):
    """Selected, a pre-label keeps its dashes in a camera under the white-edged highlight (as in
    the bird's-eye view), so it does not look like human work; accepted and selected it is solid."""
    w, s = window, window.session
    testing.wait_for_frame(w)
    key(qtbot, w, Qt.Key.Key_L)                          # no labels over the outlines
    qtbot.wait(100)
    for g in sorted(s.drive.labels(0), key=lambda g: np.hypot(*g.box.center[:2])):
        pre = s.apply(CreateCuboid(0, g.with_(source="model", score=0.7, track_id=None)), work=False)
        view = next((v for v in w.cameras.views.values() if pre.uid in {a.uid for a, _ in v.wireframes()}), None)
        if view is not None:
            break
        key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert view is not None, "a ground-truth object should show in a camera"
    key(qtbot, w, Qt.Key.Key_B)                          # every cuboid hidden: the bare image
    qtbot.wait(100)
    bare = pixels(view).astype(int)
    key(qtbot, w, Qt.Key.Key_B)
    dashed = outline_coverage(view, pre.uid, bare)
    assert 0.2 < dashed[1] < 0.85, dashed                 # unselected: coloured dashes, the dark underlay between
    s.select((pre.uid,))
    selected = outline_coverage(view, pre.uid, bare)
    assert 0.3 < selected[1] < 0.88 and selected[2] > 50, selected   # dashes, with the white edge
    key(qtbot, w, Qt.Key.Key_Y)                           # accepted: human work, solid
    assert s.document.get(pre.uid).source == "human" and s.selection == (pre.uid,)
    solid = outline_coverage(view, pre.uid, bare)
    assert solid[1] > 0.95 and solid[2] > 50, solid


def test_edited_prelabels_look_different_from_untouched_ones(qtbot, window, project, monkeypatch):
    """A pre-label the annotator changed but did not accept is drawn dash-dotted (dashed when
    untouched, solid once accepted) in the bird's-eye view, the cameras and the side views, and
    is marked "edited" in the object list; by the rule Shift+X and Ctrl+P keep edited ones by."""
    w, s = window, window.session
    monkeypatch.setattr(w.actions_, "detector", lambda: GroundTruthDetector())
    key(qtbot, w, Qt.Key.Key_P, CTRL)
    testing.wait_for_prelabels(w)
    key(qtbot, w, Qt.Key.Key_L)                         # labels off: the crops show the outlines only
    testing.wait_for_frame(w)
    seen = {a.uid for v in w.cameras.views.values() for a, _ in v.wireframes()}
    cars = sorted((a for a in s.annotations() if a.source == "model" and a.cls == "car" and a.uid in seen
                   and w.bev.rect().adjusted(40, 40, -40, -40).contains(px(w.bev, a.box.center[:2]))),
                  key=lambda a: -a.box.length * a.box.width)
    target, other = cars[0].uid, cars[1].uid
    untouched = outline_crops(w, target)
    assert len(untouched) >= 2, "the car should show in a camera too"
    text, untouched_color = status_of(w, target)
    assert text == f"pre-label {s.document.get(target).score:.2f}"
    # Select it: the side views draw it dashed and say "pre-label"; tick "parked" in the attribute panel.
    qtbot.mouseClick(w.bev, Qt.MouseButton.LeftButton, NO, px(w.bev, s.document.get(target).box.center[:2]))
    assert s.selection == (target,)
    sides = {k: pixels(v) for k, v in w.side.views.items()}
    parked = w.attributes._editors["parked"]
    qtbot.mouseClick(parked, Qt.MouseButton.LeftButton, NO, QPoint(7, parked.height() // 2))   # on the box
    assert s.document.get(target).attributes["parked"] is True and s.prelabel_state(s.document.get(target)) == "edited"
    QApplication.processEvents()
    assert all(not np.array_equal(pixels(v), sides[k]) for k, v in w.side.views.items())
    key(qtbot, w, Qt.Key.Key_Escape)
    edited = outline_crops(w, target)                   # the box did not move: only its drawing changed
    assert edited.keys() == untouched.keys()
    for view, crop in edited.items():
        assert crop.shape == untouched[view].shape and not np.array_equal(crop, untouched[view]), view
    text, edited_color = status_of(w, target)
    assert text.endswith(" edited") and edited_color != untouched_color
    assert w.objects.item(w.objects.shown_uids.index(target), 1).font().italic()     # still a pre-label
    # Moving another one with keys makes it edited too; undoing the move makes it untouched again.
    s.select((other,))
    for _ in range(3):
        key(qtbot, w, Qt.Key.Key_Up)
    assert status_of(w, other)[0].endswith(" edited")
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert not status_of(w, other)[0].endswith(" edited")
    # Shift+X deletes the untouched pre-labels and keeps the edited one: the same rule as the drawing.
    key(qtbot, w, Qt.Key.Key_X, SHIFT)
    assert [a.uid for a in s.annotations() if a.source == "model"] == [target]
    # Accepted (Y): solid, and no longer a pre-label.
    s.select((target,))
    key(qtbot, w, Qt.Key.Key_Y)
    key(qtbot, w, Qt.Key.Key_Escape)
    accepted = outline_crops(w, target)
    for view, crop in accepted.items():
        assert not np.array_equal(crop, edited[view]) and not np.array_equal(crop, untouched[view]), view
    assert status_of(w, target)[0] == "human"


def test_dash_dot_marks_lie_on_the_edge():
    """The cameras' dash-dot pattern: long dashes and short dots alternating along the edge."""
    from fusionlabel.app.projected_boxes import DASH_DOT, DASHED, pattern_segments

    lines = np.array([[[0.0, 10.0], [180.0, 10.0]]])
    marks = pattern_segments(lines, (0, 0), (200, 100), DASH_DOT)
    spans = np.sort(marks[:, :, 0], axis=1)
    spans = spans[np.argsort(spans[:, 0])]
    lengths = spans[:, 1] - spans[:, 0]
    assert np.allclose(marks[..., 1], 10.0)
    assert np.allclose(lengths, np.tile([10.0, 2.5], 10))               # dash, dot, dash, dot ...
    assert np.all(spans[1:, 0] > spans[:-1, 1])                          # with gaps between
    dashed = pattern_segments(lines, (0, 0), (200, 100), DASHED)
    assert np.allclose(np.diff(np.sort(dashed[:, :, 0], axis=1), axis=1), 7.0)


def start_gated_run(qtbot, w, monkeypatch) -> "GatedDetector":
    """Ctrl+Shift+P with a detector that waits for the test before each frame."""
    gated = GatedDetector()
    monkeypatch.setattr(w.actions_, "detector", lambda: gated)
    key(qtbot, w, Qt.Key.Key_P, CTRL | SHIFT)
    assert gated.started.wait(10) and w.prelabel_runner.busy
    return gated


def hand_edit(qtbot, w):
    """A cuboid made and nudged with keys while the run goes on; its uid and box."""
    key(qtbot, w, Qt.Key.Key_N)
    uid = w.session.selection[0]
    key(qtbot, w, Qt.Key.Key_Up)
    key(qtbot, w, Qt.Key.Key_Q)
    return uid, w.session.document.get(uid).box


def saved(project, uid):
    """An annotation as the database holds it (read with plain sqlite3)."""
    from fusionlabel.store.db import _annotation_from_row

    con = sqlite3.connect(project.folder / "project.sqlite")
    try:
        row = con.execute("SELECT uid, frame, seq, track_id, class, source, score, cx, cy, cz, length, width, "
                          "height, yaw, pitch, roll, attributes FROM annotations WHERE uid=?", (uid,)).fetchone()
    finally:
        con.close()
    return None if row is None else _annotation_from_row(row)


class SlowFrameDetector(GroundTruthDetector):
    """Gives its boxes once the test lets it (or after 5 s): a detector that takes a while."""

    name = "slow"

    def __init__(self):
        import threading

        self.go, self.started = threading.Event(), threading.Event()

    def detect_frame(self, drive, index):
        self.started.set()
        self.go.wait(5)
        return super().detect_frame(drive, index)


def test_ctrl_p_runs_in_the_background_and_keeps_what_is_done_meanwhile(qtbot, window, project, monkeypatch):
    """Ctrl+P returns at once: the status bar says the frame is being pre-labelled, the event loop
    keeps ticking and keys keep working (a box made and nudged, a step to the next frame) while the
    detector runs; its boxes then go to the frame it ran on, as one undo step that leaves the hand
    edit as it is."""
    w, s = window, window.session
    slow = SlowFrameDetector()
    monkeypatch.setattr(w.actions_, "detector", lambda: slow)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    key(qtbot, w, Qt.Key.Key_P, CTRL)
    assert slow.started.wait(10)
    assert not any(a.source == "model" for a in s.document.all_annotations())     # nothing stored yet
    note = w.prelabel_status
    assert note.isVisible() and note.label.text() == f"Pre-labelling frame {s.drive.frames[0].frame_id}…"
    assert not note.cancel_button.isVisible() and w.prelabel_runner.dialog is None
    seen = len(ticks)
    qtbot.waitUntil(lambda: len(ticks) > seen + 3, timeout=4_000)                  # the loop ticks meanwhile
    uid, box = hand_edit(qtbot, w)
    key(qtbot, w, Qt.Key.Key_P, CTRL)                      # a second run waits for none: refused
    assert s.messages[-1].text == "pre-labelling is already running"
    key(qtbot, w, Qt.Key.Key_D)
    assert s.frame == 1 and not any(a.source == "model" for a in s.document.all_annotations())
    slow.go.set()
    testing.wait_for_prelabels(w)
    timer.stop()
    assert not note.isVisible() and s.frame == 1 and not s.annotations(1)       # nothing in the frame shown now
    model = [a for a in s.annotations(0) if a.source == "model"]
    found = {tuple(np.round(d.box.center, 4)) for d in GroundTruthDetector().detect_frame(s.drive, 0)}
    assert len(model) >= len(found) - 1 and {tuple(np.round(a.box.center, 4)) for a in model} <= found
    assert {r[2] for u, r in rows(project).items() if u != uid} == {"model"}
    assert s.document.get(uid).box == box and saved(project, uid).box == box and saved(project, uid).source == "human"
    assert s.document.undo_text().startswith(f"Pre-label frame {s.drive.frames[0].frame_id}")
    s.undo()                                               # one step takes the run back, the hand edit stays
    assert not any(a.source == "model" for a in s.document.all_annotations())
    assert set(rows(project)) == {uid} and saved(project, uid).box == box


def test_closing_during_a_prelabel_run_can_wait_for_it(qtbot, window, project, monkeypatch):
    w, s = window, window.session
    gated = start_gated_run(qtbot, w, monkeypatch)
    uid, box = hand_edit(qtbot, w)
    asked = []
    w.close_question = lambda: asked.append(w.prelabel_runner.progress()) or "wait"
    assert not w.close()                                   # asked, and still open
    assert asked == [(0, s.n_frames)] and w.isVisible() and w.prelabel_runner.busy
    assert "closes when it is done" in w.prelabel_runner.dialog.labelText()
    key(qtbot, w, Qt.Key.Key_Up)                           # still working meanwhile
    box = s.document.get(uid).box
    for _ in range(s.n_frames):
        gated.go.release()
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=60_000)      # closed once the run was stored
    assert len(asked) == 1 and not w.prelabel_runner.busy
    db = rows(project)
    assert db[uid][2] == "human" and saved(project, uid).box == box
    assert sum(r[2] == "model" for r in db.values()) > 0 and s.document.undo_text().startswith("Pre-label")


def test_closing_during_a_prelabel_run_can_discard_it(qtbot, window, project, monkeypatch):
    w, s = window, window.session
    gated = start_gated_run(qtbot, w, monkeypatch)
    uid, box = hand_edit(qtbot, w)

    def discard():
        for _ in range(s.n_frames):        # the detector may even finish while the question is up
            gated.go.release()
        return "discard"
    w.close_question = discard
    assert w.close() and not w.isVisible() and not w.prelabel_runner.busy
    qtbot.wait(200)
    QApplication.processEvents()
    db = rows(project)
    assert set(db) == {uid} and saved(project, uid).box == box      # the hand edit, no pre-label
    assert any("pre-label run was discarded" in m.text for m in s.messages)


def test_a_signal_closes_during_a_prelabel_run_without_asking(qtbot, window, project, monkeypatch):
    """Ctrl+C in the terminal (:meth:`MainWindow.close_unattended`) while a run goes on: nobody may
    be there to answer, so the window asks nothing, drops the run and closes; the hand edit is saved."""
    w, s = window, window.session
    gated = start_gated_run(qtbot, w, monkeypatch)
    uid, box = hand_edit(qtbot, w)
    asked = []
    w.close_question = lambda: asked.append(1) or "cancel"
    w.close_unattended()
    assert not w.isVisible() and not w.prelabel_runner.busy and w.prelabel_discarded and asked == []
    for _ in range(s.n_frames):
        gated.go.release()
    qtbot.wait(200)
    QApplication.processEvents()
    assert set(rows(project)) == {uid} and saved(project, uid).box == box


def test_a_signal_during_the_close_question_dismisses_it_and_closes(qtbot, window, project, monkeypatch):
    """The real question is on screen when the signal comes: it is dismissed (as Esc would) and
    the window closes once its loop has returned, dropping the run."""
    from fusionlabel.app import main_window

    w = window

    monkeypatch.setattr(main_window, "UNATTENDED_PLATFORMS", ())   # ask, even offscreen
    start_gated_run(qtbot, w, monkeypatch)
    QTimer.singleShot(300, w.close_unattended)
    assert not w.close()                                   # the question, dismissed: "cancel" for now
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=10_000)
    assert w.prelabel_discarded and not w.prelabel_runner.busy


def test_closing_during_a_prelabel_run_can_be_cancelled(qtbot, window, project, monkeypatch):
    w, s = window, window.session
    gated = start_gated_run(qtbot, w, monkeypatch)
    uid, box = hand_edit(qtbot, w)
    w.close_question = lambda: "cancel"
    assert not w.close() and w.isVisible() and w.prelabel_runner.busy
    for _ in range(s.n_frames):
        gated.go.release()
    qtbot.waitUntil(lambda: not w.prelabel_runner.busy, timeout=60_000)
    qtbot.wait(300)
    assert w.isVisible()                                   # the run is stored, the window stays
    db = rows(project)
    assert saved(project, uid).box == box and sum(r[2] == "model" for r in db.values()) > 0


@pytest.mark.parametrize("answer", ["wait", "discard", "cancel"])
def test_a_run_that_ends_during_the_question_waits_for_the_answer(qtbot, window, project, monkeypatch, answer):
    """The detector finishes while the question is on screen: nothing is stored before the answer;
    then "wait" stores it and closes at once, "discard" drops it, "cancel" stores it and stays."""
    w, s = window, window.session
    gated = start_gated_run(qtbot, w, monkeypatch)
    uid, box = hand_edit(qtbot, w)
    runner = w.prelabel_runner
    history = []

    def question():
        for _ in range(s.n_frames):
            gated.go.release()
        qtbot.waitUntil(lambda: runner.dialog is None, timeout=60_000)   # its result came in
        history.append(list(s.document.history()))
        return answer
    before = list(s.document.history())
    w.close_question = question
    assert w.close() == (answer != "cancel")
    assert history == [before]                             # nothing stored while asking
    stored = s.document.undo_text().startswith("Pre-label")
    assert stored == (answer != "discard") and not runner.busy
    assert w.isVisible() == (answer == "cancel")
    assert saved(project, uid).box == box
    assert (sum(r[2] == "model" for r in rows(project).values()) > 0) == stored


def test_a_run_that_ends_during_a_drag_is_stored_after_it_and_keeps_the_dragged_box(qtbot, window, project,
                                                                                      monkeypatch):
    """The run's result comes in while the mouse drags a pre-label: nothing is stored until the
    release; the move is then one command, and the run (stored after it) keeps the moved box, now an
    edited pre-label, and its selection; the other, untouched pre-label is replaced."""
    w, s = window, window.session
    first = GroundTruthDetector()
    first.detect_frame = lambda drive, index: [d.with_(box=d.box.with_(center=np.add(d.box.center, [0, 0.3, 0])))
                                               for d in GroundTruthDetector().detect_frame(drive, index)]
    monkeypatch.setattr(w.actions_, "detector", lambda: first)
    key(qtbot, w, Qt.Key.Key_P, CTRL)                     # this frame's pre-labels, off the next run's
    testing.wait_for_prelabels(w)
    (car, _), (other, _) = visible_objects(w)[:2]
    dragged, untouched = (max(s.annotations(0), key=lambda a: bev_iou(a.box, g.box)) for g in (car, other))
    runner = w.prelabel_runner
    gated = start_gated_run(qtbot, w, monkeypatch)
    start = px(w.bev, dragged.box.center[:2])
    qtbot.mousePress(w.bev, Qt.MouseButton.LeftButton, NO, start)
    for k in range(1, 6):
        qtbot.mouseMove(w.bev, start + QPoint(0, -4 * k))
    before = list(s.document.history())
    for _ in range(s.n_frames):
        gated.go.release()
    qtbot.waitUntil(lambda: runner.dialog is None and not runner.running, timeout=60_000)   # detector done ...
    qtbot.wait(200)
    assert list(s.document.history()) == before and runner.waiting   # ... but nothing is stored mid-drag
    assert s.document.get(dragged.uid).box == dragged.box and s.selection == (dragged.uid,)
    note = w.prelabel_status                                # the status bar says what it waits for
    assert note.isVisible() and note.label.text() == "Pre-labels ready: stored when you release the box"
    assert not note.cancel_button.isVisible() and not note.bar.isVisible()
    qtbot.mouseRelease(w.bev, Qt.MouseButton.LeftButton, NO, start + QPoint(0, -20))
    qtbot.waitUntil(lambda: not runner.busy, timeout=10_000)
    assert not note.isVisible()                             # stored: the note goes
    history = list(s.document.history())[len(before):]
    assert [text.split()[0] for text in history] == ["Move", "Pre-label"]
    moved = saved(project, dragged.uid)
    assert moved is not None and moved.source == "model"
    assert np.linalg.norm(np.subtract(moved.box.center, dragged.box.center)) > 1.0   # the 20 px drag
    assert s.prelabel_state(s.document.get(dragged.uid)) == "edited" and s.selection == (dragged.uid,)
    assert saved(project, untouched.uid) is None and s.messages[-1].text.startswith("Pre-label")


def test_the_close_question_offers_wait_discard_and_cancel(qtbot, window):
    """The real message box: each button gives its answer, Esc cancels. On a platform nobody can
    see (offscreen) the window does not ask: it discards the run (and says so)."""
    from fusionlabel.app.main_window import CANCEL, DISCARD, WAIT, ask_close_while_prelabelling

    for button, expected in (("Wait, then close", WAIT), ("Discard run and close", DISCARD),
                             ("Cancel", CANCEL), (None, CANCEL)):
        seen = []
        testing.answer_question(button, seen)
        assert ask_close_while_prelabelling(window, 3, 20) == expected
        assert "3 of 20 frames" in seen[0][0]
    assert window.close_question() == DISCARD              # offscreen: nobody to ask


KEYS_AFTER_QUESTION_SCRIPT = textwrap.dedent(r"""
    import json, tempfile, threading, time
    from pathlib import Path
    from PyQt6.QtCore import Qt, QTimer
    from PyQt6.QtTest import QTest
    from PyQt6.QtWidgets import QApplication
    app = QApplication([])
    from fusionlabel.app import testing
    from fusionlabel.app.main_window import MainWindow
    from fusionlabel.app.session import Session
    from fusionlabel.store.project import Project

    def pump(seconds, until=lambda: False):   # events for ``seconds``, or until ``until()`` holds
        end = time.perf_counter() + seconds
        while time.perf_counter() < end and not until():
            app.processEvents(); time.sleep(0.01)

    class Gated:                       # a detector that waits until the test lets it finish
        name = "gated"
        go = threading.Event()
        def detect_frame(self, drive, index):
            self.go.wait(30)
            return []

    def answer(button, tries=0):       # clicks a button of the question once it is up and active
        box = QApplication.activeModalWidget()
        if box is None or (not box.isActiveWindow() and tries < 100):
            QTimer.singleShot(20, lambda: answer(button, tries + 1)); return
        next(b for b in box.buttons() if b.text() == button).click()

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        project = Project.create(Path(tmp) / "p", testing.small_drive())
        w = MainWindow(Session(project), use_gl=False)
        testing.show_window(w)
        s = w.session
        w.actions_.detector = lambda: Gated()
        QTest.keyClick(w.bev, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        pump(0.3)
        for button in ("Cancel", "Wait, then close"):   # each leaves the window open for now
            QTimer.singleShot(0, lambda b=button: answer(b))
            out[button] = [w.close()]
            pump(30, lambda: QApplication.activeModalWidget() is None and QApplication.activeWindow() is w)
            before = s.frame
            QTest.keyClick(w.bev, Qt.Key.Key_D)           # a frame key works without a click first
            pump(30, lambda: s.frame == before + 1)
            out[button] += [QApplication.activeWindow() is w, s.frame == before + 1]
        Gated.go.set()
        end = time.perf_counter() + 30
        while w.isVisible() and time.perf_counter() < end:
            pump(0.1)
        out["closed"] = not w.isVisible()
        project.close()
    print(json.dumps(out))
""")


def test_keys_work_after_the_close_question_is_answered():
    """After "Cancel" or "Wait, then close" the window is active again, so its keys work at once
    (without a window manager, closing the question left no window active: keys did nothing
    until the window was clicked)."""
    out = run_on_display(KEYS_AFTER_QUESTION_SCRIPT)
    assert out["Cancel"] == [False, True, True]
    assert out["Wait, then close"] == [False, True, True]
    assert out["closed"]


def test_interpolate_and_propagate_keys(qtbot, window, project):
    w, s = window, window.session
    drive = s.drive
    g0 = {g.track_id: g for g in drive.labels(0)}
    g2 = {g.track_id: g for g in drive.labels(2)}
    pts1 = drive.points(1)
    tid = next(t for t, _ in ((g.track_id, g) for g, _ in visible_objects(w)) if t in g2)
    first = s.apply(CreateCuboid(0, g0[tid].with_(source="human", label="car")))
    s.apply(CreateCuboid(2, g2[tid].with_(source="human", label="car", track_id=first.label.track_id)))
    s.select((first.uid,))
    key(qtbot, w, Qt.Key.Key_I)
    mid = s.document.find_track(first.label.track_id, 1)
    assert mid is not None and mid.source == "model" and mid.attributes.get("interpolated") is True
    truth1 = {g.track_id: g for g in drive.labels(1)}[tid].box
    assert np.linalg.norm(np.subtract(mid.box.center, truth1.center)) < 0.2
    assert rows(project)[mid.uid][2] == "model"
    key(qtbot, w, Qt.Key.Key_I)                 # again: nothing to change, and it says why
    assert s.document.find_track(first.label.track_id, 1) == mid
    assert "already hold the interpolated boxes" in s.messages[-1].text
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert s.document.find_track(first.label.track_id, 1) is None and mid.uid not in rows(project)
    assert s.frame == 1                         # the undo showed the frame it changed: back to frame 0
    s.set_frame(0)
    s.select((first.uid,))
    # V: carry the cuboid to frame 1 by its points.
    key(qtbot, w, Qt.Key.Key_V)
    moved = s.document.find_track(first.label.track_id, 1)
    assert moved is not None and moved.source == "model" and moved.attributes["propagated"]
    if points_in_cuboid(pts1, truth1).sum() >= 30:
        assert np.linalg.norm(np.subtract(moved.box.center, truth1.center)[:2]) < 0.3
    assert s.document.undo_text().startswith("Propagate 1 cuboid")
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert s.document.find_track(first.label.track_id, 1) is None


def test_propagate_on_a_drive_without_poses_estimates_the_ego_motion_in_the_background(qtbot, tmp_path):
    """V on a drive recorded without ego poses: the ego's motion between the sweeps is estimated on
    a worker thread (the key returns at once and says so), then the cuboid is carried from it, and
    the next pair's motion is estimated ahead; V on a pair whose motion is at hand carries at once."""
    import yaml

    src = testing.copy_drive(testing.small_drive(), tmp_path / "drive")
    index = yaml.safe_load((src / "drive.yaml").read_text())
    for f in index["frames"]:
        f["T_world_vehicle"] = np.eye(4).tolist()
    (src / "drive.yaml").write_text(yaml.safe_dump(index))
    p = Project.create(tmp_path / "project", src)
    w = MainWindow(Session(p), use_gl=False)
    qtbot.addWidget(w)
    testing.show_window(w)
    s = w.session
    pts0, pts1 = s.drive.points(0), s.drive.points(1)
    g1 = {g.track_id: g for g in s.drive.labels(1)}
    seen = [g for g in s.drive.labels(0) if g.track_id in g1 and points_in_cuboid(pts0, g.box).sum() >= 50
            and points_in_cuboid(pts1, g1[g.track_id].box).sum() >= 50]
    made = s.apply(CreateCuboid(0, seen[0].with_(source="human", label="car")))
    s.select((made.uid,))
    key(qtbot, w, Qt.Key.Key_V)
    assert "estimating the ego's motion from frame 000000 to 000001" in s.messages[-1].text
    qtbot.waitUntil(lambda: s.document.find_track(made.label.track_id, 1) is not None, timeout=30_000)
    out = s.document.find_track(made.label.track_id, 1)
    assert out.attributes["propagated"] and any(m.text.startswith("Propagate 1 cuboid") for m in s.messages[-2:])
    assert np.linalg.norm(np.subtract(out.box.center, g1[seen[0].track_id].box.center)[:2]) < 0.3
    # Meanwhile the next pair's motion is estimated ahead: V from frame 1 carries at once.
    from fusionlabel.assist.ego_motion import cached_motion

    qtbot.waitUntil(lambda: cached_motion(s.drive, 1, 2) is not None, timeout=30_000)
    s.set_frame(1)
    s.select((out.uid,))
    key(qtbot, w, Qt.Key.Key_V)
    assert s.document.find_track(made.label.track_id, 2) is not None
    assert not any("estimating" in m.text for m in s.messages[-2:])
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    s.set_frame(0)
    s.select((made.uid,))
    key(qtbot, w, Qt.Key.Key_V)          # the pair's motion is at hand: carried at once
    assert s.document.find_track(made.label.track_id, 1) is not None
    w.close()
    p.close()


def test_propagate_says_why_it_left_a_box_without_points(qtbot, window):
    """V on a box holding no LiDAR points carries nothing and says so as a warning; on it and a
    well-seen box together, the well-seen one is carried and the warning names the other."""
    w, s = window, window.session
    drive = s.drive
    pts0 = drive.points(0)
    g1 = {g.track_id: g for g in drive.labels(1)}
    empty = next(g for g in drive.labels(0) if g.track_id in g1 and points_in_cuboid(pts0, g.box).sum() == 0)
    seen = next(g for g in drive.labels(0) if g.track_id in g1 and points_in_cuboid(pts0, g.box).sum() >= 50)
    a = s.apply(CreateCuboid(0, empty.with_(source="human", label="car")))
    s.select((a.uid,))
    key(qtbot, w, Qt.Key.Key_V)
    assert s.document.find_track(a.label.track_id, 1) is None
    msg = s.messages[-1]
    assert msg.level == "warning" and f"track {a.label.track_id}: holds 0 LiDAR points" in msg.text
    b = s.apply(CreateCuboid(0, seen.with_(source="human", label="car")))
    s.select((a.uid, b.uid))
    key(qtbot, w, Qt.Key.Key_V)
    assert s.document.find_track(b.label.track_id, 1) is not None
    assert s.document.undo_text().startswith("Propagate 1 cuboid")
    assert s.messages[-1].level == "warning"
    assert s.messages[-1].text.startswith(f"propagate: track {a.label.track_id}: holds 0")
    assert s.messages[-2].text.startswith("Propagate 1 cuboid")


def test_shortcuts_and_help_list_the_assist_keys(qtbot, window):
    from fusionlabel.app.shortcuts import SHORTCUTS

    assist = [sc for sc in SHORTCUTS if sc.group == "Assist"]
    keys = {k for sc in assist for k in sc.keys}
    assert {"G", "T", "Shift+T", "Ctrl+P", "Ctrl+Shift+P", "Y", "Shift+Y", "Shift+X", "I", "V"} <= keys
    every = [k for sc in SHORTCUTS for k in sc.keys]
    assert len(every) == len(set(every)), "a key is bound twice"
    text = " ".join(" ".join(r) for r in window.help_overlay.lines())
    assert all(sc.description in text for sc in assist)


SCRIPT_3D = textwrap.dedent(r"""
    import json, sys, tempfile
    import numpy as np
    from PyQt6.QtCore import QPoint, Qt
    from PyQt6.QtTest import QTest
    from PyQt6.QtWidgets import QApplication
    app = QApplication([])
    from fusionlabel.app import testing
    from fusionlabel.geometry.cuboid import points_in_cuboid
    from fusionlabel.geometry.iou import bev_iou
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        project, w = testing.gl_window_or_skip(tmp)
        s, v = w.session, w.view3d
        pts = s.drive.points(0)
        cam = np.asarray(v.cameraPosition())
        best = None
        for g in s.drive.labels(0):
            inside = pts[points_in_cuboid(pts, g.box)]
            if len(inside) < 60:
                continue
            uv, front = v.screen_points(inside[:, :3])
            ok = front & (uv[:, 0] > 10) & (uv[:, 0] < v.width() - 10) & (uv[:, 1] > 10) & (uv[:, 1] < v.height() - 10)
            if ok.sum() < 20:
                continue
            d = float(np.linalg.norm(np.asarray(g.box.center) - cam))
            k = np.flatnonzero(ok)[len(np.flatnonzero(ok)) // 2]
            if best is None or d < best[0]:
                best = (d, g, tuple(int(round(c)) for c in uv[k]))
        _, g, pos = best
        QTest.mouseClick(v, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.AltModifier, QPoint(*pos))
        anns = s.annotations()
        out["created"] = len(anns)
        out["iou"] = float(bev_iou(anns[0].box, g.box)) if anns else 0.0
        out["history"] = s.document.history()
        QTest.keyClick(w.bev, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        out["after_undo"] = len(s.annotations())
        w.close(); project.close()
    print(json.dumps(out))
""")


def test_one_click_in_the_3d_view_under_a_display():
    out = run_on_display(SCRIPT_3D)
    assert out["created"] == 1 and out["iou"] >= 0.5, out
    assert out["history"][0].startswith("One-click") and out["after_undo"] == 0


def test_dashed_segments_follow_the_polyline_and_stay_in_the_image():
    """Pre-label dashes: on the edge, inside the image, about dash / (dash + gap) of its length,
    and evenly spaced along a lens-bent (sampled) edge too."""
    from fusionlabel.app.projected_boxes import clip_segments, dashed_segments

    # A straight edge from outside the image (x < 0) to inside: only the visible part is dashed.
    lines = np.array([[[-100.0, 50.0], [300.0, 50.0]]])
    seg = dashed_segments(lines, (0, 0), (200, 100), dash=8, gap=4)
    assert np.allclose(seg[..., 1], 50.0)
    assert seg[..., 0].min() >= 0 and seg[..., 0].max() <= 200
    covered = np.sum(seg[:, 1, 0] - seg[:, 0, 0])
    assert abs(covered - 200 * 8 / 12) < 8.5
    # The same edge sampled in 50 pieces gives the same dashes (the pattern runs along the length).
    t = np.linspace(0, 1, 51)[:, None]
    sampled = (np.array([-100.0, 50.0]) + t * np.array([400.0, 0.0]))[None]
    seg2 = dashed_segments(sampled, (0, 0), (200, 100), dash=8, gap=4)
    def merged(segments):
        spans = sorted(map(tuple, np.sort(segments[:, :, 0], axis=1)))
        out = [list(spans[0])]
        for lo, hi in spans[1:]:
            if lo - out[-1][1] < 1e-6:
                out[-1][1] = max(out[-1][1], hi)
            else:
                out.append([lo, hi])
        return np.array(out)
    assert np.allclose(merged(seg2), merged(seg))
    # A quarter circle: every dash end lies on the arc; a non-finite sample breaks the line.
    ang = np.linspace(0, np.pi / 2, 40)
    arc = np.c_[50 + 40 * np.cos(ang), 50 + 40 * np.sin(ang)][None]
    seg3 = dashed_segments(arc, (0, 0), (200, 200))
    r = np.linalg.norm(seg3.reshape(-1, 2) - 50, axis=1)
    assert np.all(np.abs(r - 40) < 0.2)
    broken = arc.copy()
    broken[0, 10:20] = np.nan
    assert len(dashed_segments(broken, (0, 0), (200, 200))) < len(seg3)
    # Clipping agrees with a brute-force walk along random segments.
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-50, 150, (200, 2)), rng.uniform(-50, 150, (200, 2))
    ca, cb, ok = clip_segments(a, b, (0, 0), (100, 100))
    f = np.linspace(0, 1, 2001)[None, :, None]
    walk = a[:, None] + f * (b - a)[:, None]
    inside = ((walk >= 0) & (walk <= 100)).all(axis=2)
    assert np.array_equal(ok, inside.any(axis=1))
    for k in np.flatnonzero(ok):
        pts = walk[k][inside[k]]
        assert np.linalg.norm(pts[0] - ca[k]) < 0.2 and np.linalg.norm(pts[-1] - cb[k]) < 0.2


def test_view3d_dashes_prelabel_edges():
    pytest.importorskip("pyqtgraph")
    from fusionlabel.app.view3d import DASH, DASHES, box_segments
    from fusionlabel.geometry.cuboid import Cuboid

    box = Cuboid((5, 1, 0), (4, 2, 1.5), 0.3)
    solid, _ = box_segments([box], [(1, 0, 0, 1)])
    dashed, rgba = box_segments([box], [(1, 0, 0, 1)], pattern=DASH)
    assert len(dashed) == DASHES * len(solid) and len(rgba) == len(dashed)
    ends = solid.reshape(-1, 2, 3)
    dash = dashed.reshape(-1, DASHES, 2, 3)
    for (a, b), d in zip(ends, dash):
        assert np.allclose(d[0, 0], a)                                  # starts at the corner
        length = np.linalg.norm(d[:, 1] - d[:, 0], axis=1).sum()
        assert abs(length - 0.5 * np.linalg.norm(b - a)) < 1e-9          # half the edge is drawn


def test_every_view_draws_every_outline_of_the_one_table():
    """styles.OUTLINE_OF_STATE names the outline of each pre-label state; the 2D views' pens,
    the cameras' and the 3D view's line patterns are keyed by those names, each outline drawn
    differently, and the ? legend shows each of them."""
    pytest.importorskip("pyqtgraph")
    from fusionlabel.app import projected_boxes, view3d
    from fusionlabel.app.qt_util import PEN_STYLES, outline_style
    from fusionlabel.app.shortcuts import OUTLINES
    from fusionlabel.app.styles import OUTLINE_OF_STATE

    names = set(OUTLINE_OF_STATE.values())
    assert len(names) == len(OUTLINE_OF_STATE) == 3                     # three states, three looks
    assert set(PEN_STYLES) == names and len(set(PEN_STYLES.values())) == 3
    assert [outline_style(s) for s in (None, "untouched", "edited")] == [
        Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DashDotLine]
    dashed = names - {OUTLINE_OF_STATE[None]}                           # solid needs no pattern
    for patterns in (projected_boxes.PATTERNS, view3d.PATTERNS):
        assert set(patterns) == dashed and patterns["dashed"] != patterns["dash-dot"]
    assert names <= {name for name, _ in OUTLINES}


def test_detector_settings_come_from_the_project(project, tmp_path):
    """prelabel_detector / prelabel_min_score are read from the project; a broken detector spec
    is a message, not a crash, and changes nothing."""
    from fusionlabel.app.actions import Actions

    s = Session(project)
    actions = Actions(s)
    project.set_setting("prelabel_detector", f"onnx:{tmp_path / 'missing.onnx'}")
    actions.prelabel_frame()
    assert s.messages[-1].level == "error" and "missing.onnx" in s.messages[-1].text
    assert len(s.document) == 0
    project.set_setting("prelabel_detector", "builtin")
    project.set_setting("prelabel_min_score", 0.95)
    actions.prelabel_frame()
    strict = [a.score for a in s.annotations()]
    assert all(score >= 0.95 for score in strict)
    if strict:
        s.undo()
    project.set_setting("prelabel_min_score", 0.0)
    actions.prelabel_frame()
    loose = [a.score for a in s.annotations()]
    assert len(loose) >= len(strict) and all(a.source == "model" for a in s.annotations())
    assert actions.detector().name == actions._detector.name       # made once, reused
    s.close()


def test_a_corrupt_sweep_is_a_message_and_changes_nothing(tmp_path):
    """Assist keys on a frame whose sweep cannot be read say which file, and edit nothing."""
    from fusionlabel.app.actions import Actions

    drive = testing.copy_drive(testing.small_drive(), tmp_path / "drive")
    sweep = drive / "lidar" / "000001.fri"
    sweep.write_bytes(sweep.read_bytes()[:100])
    with Project.create(tmp_path / "project", drive) as project:
        s = Session(project)
        actions = Actions(s)
        car = next(g for g in s.drive.labels(0) if g.label == "car")
        made = s.apply(CreateCuboid(0, car.with_(source="human")))
        s.select((made.uid,))
        actions.propagate()                                   # needs frame 1's sweep
        assert s.messages[-1].level == "error" and "000001.fri" in s.messages[-1].text
        s.set_frame(1)
        actions.one_click((10.0, 0.0))
        assert s.messages[-1].level == "error" and "000001.fri" in s.messages[-1].text
        actions.prelabel_frame()
        assert s.messages[-1].level == "error" and "000001.fri" in s.messages[-1].text
        assert [a.uid for a in s.document.all_annotations()] == [made.uid]
        assert s.document.history() == ["Create car"]
        # Every frame: the unreadable one is skipped with a warning, the others are pre-labelled.
        actions.prelabel_all()
        warnings = [m.text for m in s.messages if m.level == "warning"]
        assert any("skipped frame 000001" in m and "000001.fri" in m for m in warnings), warnings
        assert s.document.undo_text().startswith("Pre-label 2 frames")
        assert s.annotations(1) == [] and len(s.annotations(2)) > 0
        s.close()


def test_an_edited_interpolated_box_is_drawn_and_kept_as_edited(qtbot, window, project, monkeypatch):
    """A box that I filled in and the annotator then changed is drawn exactly as the views draw
    an edited pre-label (dash-dot, "edited" in the object list and the side views), not dashed
    like untouched machine output; once moved, I again and Shift+X leave it, and say so."""
    from fusionlabel.model.commands import SetAttributes, SetBox

    w, s = window, window.session
    drive = s.drive
    g0 = {g.track_id: g for g in drive.labels(0)}
    g2 = {g.track_id: g for g in drive.labels(2)}
    tid = next(g.track_id for g, _ in visible_objects(w) if g.track_id in g2)
    first = s.apply(CreateCuboid(0, g0[tid].with_(source="human", label="car")))
    s.apply(CreateCuboid(2, g2[tid].with_(source="human", label="car", track_id=first.label.track_id)))
    s.select((first.uid,))
    key(qtbot, w, Qt.Key.Key_I)
    key(qtbot, w, Qt.Key.Key_Escape)
    key(qtbot, w, Qt.Key.Key_L)                         # labels off: the crops show the outlines only
    s.set_frame(1)
    testing.wait_for_frame(w, 1)
    mid = s.document.find_track(first.label.track_id, 1)
    assert s.prelabel_state(mid) == "untouched" and status_of(w, mid.uid)[0] == "pre-label"
    untouched = outline_crops(w, mid.uid)
    assert len(untouched) >= 2, "the car should show in a camera too"
    real_state = s.prelabel_state
    with monkeypatch.context() as m:                    # how the views draw it once it is edited
        m.setattr(s, "prelabel_state", lambda ann: "edited" if ann.uid == mid.uid else real_state(ann))
        w.bev.update()
        expected = outline_crops(w, mid.uid)
    assert all(not np.array_equal(expected[v], untouched[v]) for v in untouched)
    # The annotator edits it without moving it (an attribute): it is drawn as edited.
    s.apply(SetAttributes(mid.uid, {"parked": not mid.attributes.get("parked", False)}))
    assert s.prelabel_state(s.document.get(mid.uid)) == "edited"
    drawn = outline_crops(w, mid.uid)
    assert drawn.keys() == expected.keys()
    for view, crop in drawn.items():
        assert np.array_equal(crop, expected[view]), view
    assert status_of(w, mid.uid)[0] == "pre-label edited"
    # Selected, the side views draw it as edited too (not as they draw an untouched one).
    s.select((mid.uid,))
    QApplication.processEvents()
    sides = {k: pixels(v) for k, v in w.side.views.items()}
    with monkeypatch.context() as m:
        m.setattr(s, "prelabel_state", lambda ann: "untouched" if ann.uid == mid.uid else real_state(ann))
        s.select(())
        s.select((mid.uid,))
        QApplication.processEvents()
        assert all(not np.array_equal(pixels(v), sides[k]) for k, v in w.side.views.items())
    key(qtbot, w, Qt.Key.Key_Escape)
    # The annotator also moves it (an attribute alone would not stop I from carrying it along).
    s.apply(SetBox(mid.uid, mid.box.with_(center=np.add(mid.box.center, [0.0, 0.3, 0.0]))))
    # The keyframe in frame 2 moves and I runs again: it keeps the moved box and says so.
    edited = s.document.get(mid.uid)
    last = s.document.find_track(first.label.track_id, 2)
    s.apply(SetBox(last.uid, last.box.with_(center=np.add(last.box.center, [0.8, 0.0, 0.0]))))
    s.select((mid.uid,))
    key(qtbot, w, Qt.Key.Key_I)                         # frame 1 is the only one between the keyframes
    assert "you edited" in s.messages[-1].text
    assert s.document.get(mid.uid) == edited
    # Shift+X (delete the frame's pre-labels) keeps it as well.
    key(qtbot, w, Qt.Key.Key_Escape)
    key(qtbot, w, Qt.Key.Key_X, SHIFT)
    assert s.document.get(mid.uid) == edited and "you edited" in s.messages[-1].text


def broken_onnx_model(tmp_path):
    """An ONNX model whose every frame gives one car, one box scoring 0.3 and three invalid boxes."""
    pytest.importorskip("onnxruntime")
    test_assist_onnx = pytest.importorskip("test_assist_onnx")
    car = [12.0, 3.0, -0.8, 4.0, 1.8, 1.5, 0.0]
    low = [20.0, -5.0, -0.8, 4.0, 1.8, 1.5, 0.0]
    flat = [5.0, 0.0, 0.0, 4.0, 0.0, 1.5, 0.0]
    nan = [np.nan, 0.0, 0.0, 4.0, 1.8, 1.5, 0.0]
    return test_assist_onnx.build_const_model(tmp_path / "m.onnx", [car, low, flat, nan, flat],
                                              [0.9, 0.3, 0.8, 0.7, 0.6], [0, 0, 0, 0, 0])


INVALID_NOTE = "dropped {} invalid boxes of the model (non-finite values or sizes not above 0)"


def test_prelabel_says_how_many_invalid_onnx_boxes_it_dropped(project, tmp_path):
    """Ctrl+P with an ONNX model that outputs broken boxes says how many were dropped, in the
    words of `fusionlabel prelabel`, beside the count below the minimum score; each run counts
    its own."""
    from fusionlabel.app.actions import Actions

    model = broken_onnx_model(tmp_path)
    s = Session(project)
    actions = Actions(s)
    project.set_setting("prelabel_detector", f"onnx:{model}")
    actions.prelabel_frame()
    text = s.messages[-1].text
    assert text.startswith("Pre-label frame ") and ": 1 box;" in text, text
    assert text.endswith("; 1 scoring below 0.5 left out; " + INVALID_NOTE.format(3)), text
    actions.prelabel_frame()                             # the same again: nothing to change, still said
    assert "nothing to change" in s.messages[-1].text
    assert s.messages[-1].text.endswith("; " + INVALID_NOTE.format(3))
    actions.prelabel_all()                               # no window: the run happens here
    assert "; " + INVALID_NOTE.format(3 * s.n_frames) in s.messages[-1].text, s.messages[-1].text


def test_prelabel_all_in_the_window_says_how_many_invalid_boxes_it_dropped(qtbot, window, tmp_path):
    """Ctrl+Shift+P in the window (detector on a background thread) reports the run's invalid
    boxes when it stores the pre-labels."""
    w, s = window, window.session
    s.project.set_setting("prelabel_detector", f"onnx:{broken_onnx_model(tmp_path)}")
    key(qtbot, w, Qt.Key.Key_P, CTRL | SHIFT)
    runner = w.prelabel_runner
    qtbot.waitUntil(lambda: runner.dialog is None and not runner.running, timeout=60_000)
    text = s.messages[-1].text
    assert text.startswith(f"Pre-label {s.n_frames} frames"), text
    assert text.endswith(f"; {s.n_frames} scoring below 0.5 left out; " + INVALID_NOTE.format(3 * s.n_frames)), text


def test_the_child_s_invalid_boxes_are_counted_on_the_gui_thread(qtbot, window, tmp_path):
    """The detector in the app counts the boxes its child dropped, once per run, and only the GUI
    thread writes that count (the relay thread did: a data race with Ctrl+P on the same detector)."""
    import threading

    w, s = window, window.session
    s.project.set_setting("prelabel_detector", f"onnx:{broken_onnx_model(tmp_path)}")
    detector = w.actions_.detector()
    writers = []

    class Watched(type(detector)):
        @property
        def invalid_boxes(self):
            return self.__dict__["invalid_boxes"]

        @invalid_boxes.setter
        def invalid_boxes(self, value):
            writers.append(threading.current_thread())
            self.__dict__["invalid_boxes"] = value

    detector.__class__ = Watched
    runner = w.prelabel_runner
    for run in (1, 2):
        key(qtbot, w, Qt.Key.Key_P, CTRL | SHIFT)
        assert runner._process is not None                  # the child detects, not this detector
        qtbot.waitUntil(lambda: not runner.busy, timeout=60_000)
        assert detector.invalid_boxes == 3 * s.n_frames * run
        assert s.messages[-1].text.endswith("; " + INVALID_NOTE.format(3 * s.n_frames)), s.messages[-1].text
    assert writers == [threading.main_thread()] * 2


def pillar_model_leaving_voxels_out(tmp_path, project):
    """A pillar ONNX model (``voxelize``) with max_voxels 5 set as the project's detector, and the
    note a run over ``frames`` must give, counted here from the sweeps cell by cell."""
    pytest.importorskip("onnxruntime")
    voxel_tests = pytest.importorskip("test_assist_onnx_voxels")
    from test_assist_voxelize import loop_voxelize

    size, extent, most = (4, 4, 8), (-40, -40, -4, 40, 40, 4), 5
    model = voxel_tests.build_pillar_model(tmp_path / "pillars.onnx", m=8, box=0.5, centres=False)
    config = tmp_path / "pillars.yaml"
    config.write_text(f"classes: [Car]\nscore_threshold: 0.0\nvoxelize:\n  voxel_size: {list(size)}\n"
                      f"  point_cloud_range: {list(extent)}\n  max_points_per_voxel: 8\n  max_voxels: {most}\n")
    project.set_setting("prelabel_detector", f"onnx:{model}")
    project.set_setting("prelabel_config", str(config))
    drive = project.drive

    def note(frames) -> str:
        cells = [loop_voxelize(drive.points(f)[:, :3], size, extent, 10 ** 6, 10 ** 6) for f in frames]
        over = [list(c.values())[most:] for c in cells if len(c) > most]
        voxels, points = sum(map(len, over)), sum(len(m) for o in over for m in o)
        assert len(over) == len(frames) and voxels > 0
        return (f"{len(over)} sweep{'s' * (len(over) > 1)} filled more than max_voxels {most}: left out {voxels} "
                f"voxels holding {points} points, keeping the ones first in the sweep (keep in voxelize; raise "
                "max_voxels if the model allows)")

    return note


def test_prelabel_says_what_max_voxels_left_out_here_and_from_the_child(qtbot, window, tmp_path):
    """Ctrl+P (detector in the app) and Ctrl+Shift+P (detector in the child process) end with the
    note `fusionlabel prelabel` gives when sweeps fill more than an ONNX model's max_voxels, counted
    for that run alone."""
    w, s = window, window.session
    note = pillar_model_leaving_voxels_out(tmp_path, s.project)
    for _ in range(2):                                  # each Ctrl+P says its own frame's note
        key(qtbot, w, Qt.Key.Key_P, CTRL)
        testing.wait_for_prelabels(w)
        assert s.messages[-1].text.endswith("; " + note([s.frame])), s.messages[-1].text
    key(qtbot, w, Qt.Key.Key_P, CTRL | SHIFT)
    runner = w.prelabel_runner
    assert runner._process is not None                  # the child detects, not the app's detector
    qtbot.waitUntil(lambda: not runner.busy, timeout=60_000)
    text = s.messages[-1].text
    assert text.startswith(f"Pre-label {s.n_frames} frames") and text.endswith("; " + note(range(s.n_frames))), text


def stored(doc) -> list:
    return sorted((a.frame, a.box.center, a.box.size, a.box.yaw, a.cls, a.track_id, a.score, a.source,
                   bool(a.attributes.get("interpolated"))) for a in doc.all_annotations())


@pytest.mark.parametrize("where", ["child", "thread"])
def test_prelabel_all_tracks_away_from_the_gui_thread_and_stores_the_same(qtbot, window, monkeypatch, where):
    """Ctrl+Shift+P links the detections into tracks in the detector's process (or on the worker
    thread for a detector made in code), never on the GUI thread, and stores exactly what
    edit_assist.prelabel makes of the same detections here, as one undo step."""
    import copy
    import threading

    from fusionlabel.assist import edit_assist
    from fusionlabel.assist.detector import make_detector

    w, s = window, window.session
    detector = make_detector("builtin")
    found = edit_assist.detect_frames(s.drive, detector, range(s.n_frames))
    assert edit_assist.tracked_run(s.drive, found)
    expected = edit_assist.prelabel(s.document, s.drive, s.frame, (), found, 0.5, True, detector="builtin")
    want = sorted((c.frame, c.label.box.center, c.label.box.size, c.label.box.yaw, c.label.label, c.label.track_id,
                   c.label.score, c.label.source, bool(c.label.attributes.get("interpolated")))
                  for c in expected.commands)
    if where == "thread":
        detector = copy.copy(detector)
        detector.recipe = None                                # made in code: it runs on a thread here
        monkeypatch.setattr(w.actions_, "detector", lambda: detector)
    tracking = []
    original = edit_assist.track_drive
    monkeypatch.setattr(edit_assist, "track_drive",
                        lambda *a, **k: tracking.append(threading.current_thread()) or original(*a, **k))
    key(qtbot, w, Qt.Key.Key_P, CTRL | SHIFT)
    runner = w.prelabel_runner
    assert (runner._process is not None) == (where == "child")
    qtbot.waitUntil(lambda: not runner.busy, timeout=60_000)
    assert threading.main_thread() not in tracking
    assert [t.name for t in tracking] == ([] if where == "child" else ["fusionlabel-prelabel"])
    assert s.document.undo_text() == expected.description
    assert stored(s.document) == want
    assert len({a.track_id for a in s.document.all_annotations()}) < len(want)      # linked into tracks
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert len(s.document) == 0


def test_prelabel_all_runs_here_when_the_child_cannot_start(qtbot, window, monkeypatch):
    """A frozen executable cannot start the detector's process: the window says so and runs the
    project's detector on a thread instead, storing the same pre-labels as one undo step."""
    import sys

    from fusionlabel.assist import edit_assist
    from fusionlabel.assist.detector import make_detector

    w, s = window, window.session
    found = edit_assist.detect_frames(s.drive, make_detector("builtin"), range(s.n_frames))
    expected = edit_assist.prelabel(s.document, s.drive, s.frame, (), found, 0.5, True, detector="builtin")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    key(qtbot, w, Qt.Key.Key_P, CTRL | SHIFT)
    runner = w.prelabel_runner
    assert runner.busy and runner._process is None and runner.running
    warning = next(m for m in s.messages if m.level == "warning")
    assert warning.text == ("pre-label: the detector cannot run in a separate process from a frozen executable "
                            f"({sys.executable} is not a Python interpreter); the detector runs in this process "
                            "instead (frame steps may be slower until it is done)")
    qtbot.waitUntil(lambda: not runner.busy, timeout=60_000)
    assert not any(m.level == "error" for m in s.messages)
    assert s.document.undo_text() == expected.description
    assert len(s.document) == len(expected.commands)
    key(qtbot, w, Qt.Key.Key_Z, CTRL)
    assert len(s.document) == 0


class NothingDetector:
    """Made in code, so it runs on the worker thread; finds nothing."""

    name = "nothing"

    def detect_frame(self, drive, i):
        return []


def test_a_second_run_is_refused_until_the_first_result_is_stored(qtbot, window):
    # The worker of run A has ended but its 'finished' signal is still queued for the GUI thread:
    # a second Ctrl+Shift+P then must not start run B (A's result would go to B's callback).
    w, s = window, window.session
    runner = w.prelabel_runner
    got = []
    assert runner.start(NothingDetector(), [0], lambda *r: got.append("A"))
    runner._thread.join(30)
    assert not runner.running and runner.busy        # A's result is undelivered
    w.start_prelabel(NothingDetector(), [1, 2], lambda *r: got.append("B"))
    assert s.messages[-1].text == "pre-labelling is already running"
    qtbot.waitUntil(lambda: not runner.busy, timeout=30_000)
    assert got == ["A"]
    assert runner.start(NothingDetector(), [1], lambda *r: got.append("C"))
    qtbot.waitUntil(lambda: not runner.busy, timeout=30_000)
    assert got == ["A", "C"]


def test_a_background_run_stores_and_reports_with_the_minimum_score_it_started_with(qtbot, window, project,
                                                                                      monkeypatch):
    """The minimum score changed while the run goes on: the run's boxes and its message both
    keep the score it started with."""
    w, s = window, window.session
    s.save_setting("prelabel_min_score", 0.8)
    gated = start_gated_run(qtbot, w, monkeypatch)
    s.save_setting("prelabel_min_score", 0.5)
    for _ in range(s.n_frames):
        gated.go.release()
    qtbot.waitUntil(lambda: not w.prelabel_runner.busy, timeout=60_000)
    found = [d for f in range(s.n_frames) for d in GroundTruthDetector().detect_frame(s.drive, f)]
    below = sum(d.score < 0.8 for d in found)
    assert below and s.messages[-1].text.endswith(f"; {below} scoring below 0.8 left out"), s.messages[-1].text
    assert len(s.document) == len(found) - below
    assert s.document.undo_text().startswith(f"Pre-label {s.n_frames} frames"), s.document.undo_text()
    assert "min score 0.8" in s.messages[-1].text, s.messages[-1].text


def test_the_status_bar_shows_a_background_run_until_it_ends(qtbot, window, monkeypatch):
    """While Ctrl+Shift+P runs, the main window's status bar says so ('Pre-labelling 1/3 frames')
    with a Cancel button that stops the run; the note goes when the run ends, is cancelled or fails."""
    w, s = window, window.session
    note = w.prelabel_status
    assert not note.isVisible()
    gated = start_gated_run(qtbot, w, monkeypatch)
    assert note.isVisible() and w.statusBar().isAncestorOf(note)
    assert note.label.text() == f"Pre-labelling 0/{s.n_frames} frames"
    gated.go.release()
    qtbot.waitUntil(lambda: note.label.text() == f"Pre-labelling 1/{s.n_frames} frames", timeout=30_000)
    assert note.bar.value() == 1 and note.bar.maximum() == s.n_frames
    key(qtbot, w, Qt.Key.Key_D)                                   # a frame step leaves it there
    assert note.isVisible()
    qtbot.mouseClick(note.cancel_button, Qt.MouseButton.LeftButton)   # the main window's Cancel
    assert "stopping after this frame" in note.label.text() and not note.cancel_button.isEnabled()
    assert not w.prelabel_runner.dialog.isVisible()               # as the dialog's own Cancel does
    assert note.isVisible()                                       # until the current frame is done
    for _ in range(s.n_frames):
        gated.go.release()
    qtbot.waitUntil(lambda: not w.prelabel_runner.busy, timeout=60_000)
    assert not note.isVisible() and "cancelled" in s.messages[-1].text
    done = [f for f in range(s.n_frames) if s.annotations(f)]
    assert 0 in done and len(done) < s.n_frames
    # A run to its end: gone once it is stored.
    qtbot.waitUntil(w.isActiveWindow, timeout=5_000)
    gated = start_gated_run(qtbot, w, monkeypatch)
    assert note.isVisible()
    for _ in range(s.n_frames):
        gated.go.release()
    qtbot.waitUntil(lambda: not w.prelabel_runner.busy, timeout=60_000)
    assert not note.isVisible() and s.document.undo_text().startswith(f"Pre-label {s.n_frames} frames")
    # Closing the window during a run and choosing to wait: the note says the window closes after.
    qtbot.waitUntil(w.isActiveWindow, timeout=5_000)    # (the closed dialog hands activation back)
    gated = start_gated_run(qtbot, w, monkeypatch)
    w.close_question = lambda: "wait"
    assert not w.close()
    assert note.label.text() == f"Pre-labelling 0/{s.n_frames} frames — the window closes when it is done"
    for _ in range(s.n_frames):
        gated.go.release()
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=60_000)


class FailingDetector:
    name = "failing"

    def detect_frame(self, drive, index):
        raise RuntimeError("the model fell over")


def test_the_status_bar_note_goes_when_a_run_fails(qtbot, window, monkeypatch):
    w, s = window, window.session
    monkeypatch.setattr(w.actions_, "detector", lambda: FailingDetector())
    key(qtbot, w, Qt.Key.Key_P, CTRL | SHIFT)
    qtbot.waitUntil(lambda: not w.prelabel_runner.busy, timeout=30_000)
    assert not w.prelabel_status.isVisible()
    assert any("pre-label failed" in m.text and m.level == "error" for m in s.messages)
