"""Background loading: the requested frame first, neighbours prefetched, a prefetched frame shown
at once on a key press."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import Qt  # noqa: E402

from fusionlabel.app import testing  # noqa: E402
from fusionlabel.app.loader import FrameLoader  # noqa: E402
from fusionlabel.app.main_window import MainWindow  # noqa: E402
from fusionlabel.app.session import Session  # noqa: E402
from fusionlabel.io.drives import open_drive  # noqa: E402
from fusionlabel.store.project import Project  # noqa: E402

pytestmark = pytest.mark.gui


def test_loader_serves_the_request_then_prefetches(qtbot):
    drive = open_drive(testing.small_drive())
    loader = FrameLoader(drive, prefetch=(1, 2))
    try:
        with qtbot.waitSignal(loader.loaded, timeout=30_000) as blocker:
            assert loader.request(0) is None
        assert blocker.args == [0]
        data = loader.get(0)
        assert data.index == 0 and len(data.points) > 1000
        # Neighbours arrive without being asked for.
        qtbot.waitUntil(lambda: loader.get(1) is not None and loader.get(2) is not None, timeout=30_000)
        assert loader.request(2) is loader.get(2)
    finally:
        loader.close()


def test_prefetched_frame_is_displayed_inside_the_key_press(qtbot, tmp_path):
    project = Project.create(tmp_path / "project", testing.small_drive())
    try:
        w = MainWindow(Session(project), use_gl=False)
        qtbot.addWidget(w)
        testing.show_window(w)
        testing.wait_until_cached(w, [1])
        shown = []
        w.frame_shown.connect(shown.append)
        qtbot.keyClick(w.bev, Qt.Key.Key_D)
        assert shown == [1] and w.displayed.index == 1  # no event loop turn needed
        assert all(v.frame == 1 for v in w.cameras.views.values())
        assert w.objects.data.index == 1 and w.bev.frame == 1
        w.close()
    finally:
        project.close()


def test_the_loader_prepares_the_crop_of_an_untracked_selected_cuboid(qtbot, tmp_path):
    """A cuboid without a track (KITTI object labels) selected in its own frame: the loader crops
    the points around it along with the frame, as for a tracked one."""
    from fusionlabel.model.document import Annotation

    project = Project.create(tmp_path / "project", testing.small_drive())
    try:
        w = MainWindow(Session(project), use_gl=False)
        qtbot.addWidget(w)
        testing.show_window(w)
        s = w.session
        label = s.drive.labels(2)[0].with_(track_id=None)
        s.document._state.insert(Annotation("f" * 32, 2, label), 10_000)  # as a KITTI object project has
        s.select(("f" * 32,))
        w.loader.invalidate()
        w.loader.request(2)
        testing.wait_until_cached(w, [2])
        assert ("colors", label.box) in w.loader.get(2)._crops
        w.close()
    finally:
        project.close()


def test_selecting_a_cuboid_crops_it_in_the_frames_prefetched_before_on_the_loader(qtbot, tmp_path, monkeypatch):
    """The next frames were prefetched before the cuboid was selected: the loader crops its track's
    points there (what the side views draw) before the user steps on, so the step to one does
    not crop on the GUI thread."""
    import threading

    from fusionlabel.app import frame_data
    from fusionlabel.app.side_crop import VIEW_AXES

    project = Project.create(tmp_path / "project", testing.small_drive(), import_labels=True, progress=False)
    try:
        w = MainWindow(Session(project), use_gl=False)
        qtbot.addWidget(w)
        testing.show_window(w)
        s = w.session
        testing.wait_until_cached(w, [0, 1, 2])
        ann = next(a for a in s.document.annotations(0)
                   if a.track_id is not None and s.document.find_track(a.track_id, 1) is not None)
        following = s.document.find_track(ann.track_id, 1).box
        assert not any(key[0] == "side" for key in w.loader.get(1)._crops)   # prefetched unselected
        on_gui = []
        real = frame_data.side_rows
        monkeypatch.setattr(frame_data, "side_rows", lambda *a: on_gui.append(
            threading.current_thread() is threading.main_thread()) or real(*a))
        s.select((ann.uid,))
        qtbot.waitUntil(lambda: all(("side", kind, following) in w.loader.get(1)._crops for kind in VIEW_AXES),
                        timeout=10_000)
        # the hook sees the crops: the loader's of the next frames, made off the GUI thread (the
        # frame on screen is cropped at once, where it is shown)
        assert False in on_gui
        on_gui.clear()
        qtbot.keyClick(w.bev, Qt.Key.Key_D)
        assert w.displayed.index == 1 and s.selection == (s.document.find_track(ann.track_id, 1).uid,)
        w.side.grab()
        assert True not in on_gui
        w.close()
    finally:
        project.close()


def test_a_frame_loading_while_the_cache_is_invalidated_is_loaded_again(qtbot, monkeypatch):
    """invalidate() while the worker loads frame 0 with what held then (no selection), then a
    request with a selection: the stale result is dropped and the frame loaded again with it."""
    import threading

    import fusionlabel.app.loader as loader_module

    started, release, calls = threading.Event(), threading.Event(), []
    real = loader_module.load_frame_data

    def gated(drive, index, **kw):
        calls.append(kw.get("selected"))
        if len(calls) == 1:
            started.set()
            assert release.wait(30)
        return real(drive, index, **kw)

    monkeypatch.setattr(loader_module, "load_frame_data", gated)
    drive = open_drive(testing.small_drive())
    box = drive.labels(0)[0].box
    loader = FrameLoader(drive, prefetch=())
    try:
        loader.selected_for = lambda i: []
        loader.request(0)
        assert started.wait(30)                       # frame 0 is being loaded without a selection
        loader.invalidate()
        loader.selected_for = lambda i: [box]
        loader.request(0)
        release.set()
        qtbot.waitUntil(lambda: loader.get(0) is not None, timeout=30_000)
        assert calls == [[], [box]] and ("colors", box) in loader.get(0)._crops
    finally:
        release.set()
        loader.close()


def test_sweeps_are_stacked_on_the_worker_and_a_stack_invalidated_meanwhile_is_not_announced(qtbot, monkeypatch):
    """request_stack stacks on the worker thread and then emits stacked(index, k), the frame's
    stack ready without waiting. invalidate() while the worker stacks (held back here) drops that
    job's signal and the request queued behind it, which never runs."""
    import threading

    from fusionlabel.app.sweep_stack import NOT_STACKED, SweepStack

    calls, started, release = [], threading.Event(), threading.Event()
    real = SweepStack.stack

    def gated(self, index, k):
        calls.append((threading.current_thread().name, index, k))
        if k == 2:                       # the one the test invalidates
            started.set()
            assert release.wait(30)
        return real(self, index, k)

    monkeypatch.setattr(SweepStack, "stack", gated)
    drive = open_drive(testing.small_drive())
    loader = FrameLoader(drive, prefetch=())
    announced = []
    loader.stacked.connect(lambda index, k: announced.append((index, k)))
    try:
        with qtbot.waitSignal(loader.loaded, timeout=30_000):
            loader.request(1)
        data = loader.get(1)
        assert data.stacked(1, wait=False) is NOT_STACKED and not data.has_stacked(1)
        with qtbot.waitSignal(loader.stacked, timeout=30_000) as blocker:
            loader.request_stack(data, 1)
        assert blocker.args == [1, 1] and data.has_stacked(1) and data.stacked(1, wait=False).frames == (-1, 1)
        assert calls == [(loader._thread.name, 1, 1)]

        loader.request_stack(data, 2)
        assert started.wait(30)                          # the worker stacks 2 each side ...
        loader.request_stack(data, 1)                    # ... with another request queued behind
        loader.invalidate()
        release.set()
        with qtbot.waitSignal(loader.loaded, timeout=30_000):
            loader.request(1)                            # after the stale stack on the one worker
        qtbot.wait(50)
        assert announced == [(1, 1)]                     # the first one only
        assert calls == [(loader._thread.name, 1, 1), (loader._thread.name, 1, 2)]
    finally:
        release.set()
        loader.close()
