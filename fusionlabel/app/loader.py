"""Background frame loading: decode + project on a worker thread, prefetch the neighbours.

The worker serves the frame the user asked for first, then the sweeps to stack onto the frame
shown (O: :meth:`FrameLoader.request_stack`), then the crops around the selected cuboids in the
frames of the window loaded before they were selected (:meth:`FrameLoader.reselect`), then the
prefetch window (next, previous, the one after next). Finished frames land in a small LRU cache and ``loaded(index)`` is emitted, finished
stacks ``stacked(index, k)``; Qt queues those signals onto the GUI thread.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import OrderedDict
from typing import Callable

from PyQt6.QtCore import QObject, pyqtSignal

from ..model.drive import Drive, cameras_without_images
from .frame_data import FrameData, load_frame_data
from .sweep_stack import SweepStack

PREFETCH = (1, -1, 2)
WORKER_NICE = 10


class FrameLoader(QObject):
    """Loads :class:`FrameData` for a drive; ``get`` returns cached frames at once."""

    loaded = pyqtSignal(int)
    stacked = pyqtSignal(int, int)   # frame index, sweeps each side: FrameData.stacked(k) is ready

    def __init__(self, drive: Drive, capacity: int = 6, prefetch: tuple[int, ...] = PREFETCH, parent=None):
        super().__init__(parent)
        self.drive = drive
        self.capacity = max(capacity, len(prefetch) + 2)
        self.prefetch = prefetch
        self.color_mode = "height"  # colours the worker prepares along with each frame
        self.display_sizes: dict[str, tuple[int, int]] = {}  # camera images are scaled to these
        # GUI thread: the frame's cuboids (immutable boxes) when it is requested, so that the
        # worker counts their points and projects them too.
        self.boxes_for: Callable[[int], list] | None = None
        self._boxes: dict[int, list] = {}
        # GUI thread: the selected cuboids' boxes in a frame when it is requested, so that the
        # worker crops the points around them (what the side views and the 3D view draw).
        self.selected_for: Callable[[int], list] | None = None
        self._selected: dict[int, list] = {}
        # Frames cached before the selection they now show was made: its boxes there, to crop
        # on the worker before the user steps to them (else the side views crop on the GUI thread).
        self._crop: dict[int, list] = {}
        self.bev_geometry = None  # the bird's-eye view's BevGeometry: the worker draws its raster too
        self.gl_budget: int | None = None  # the 3D view's point budget: the worker thins the sweep for it too
        # Cameras the drive has no image of at all: blank panels with a note, not a warning a frame.
        self.without_images = frozenset(cameras_without_images(drive))
        self.stack = SweepStack(drive)  # the neighbouring sweeps the views may stack onto a frame
        self._cache: OrderedDict[int, FrameData] = OrderedDict()
        self._pending: dict[int, tuple[int, int]] = {}  # index -> (priority class, order)
        self._busy: int | None = None
        self._stack_job: tuple | None = None   # (FrameData, k, generation): the sweeps to stack next
        self._generation = 0   # counts invalidate(): a frame loaded before the last one is not kept
        self._busy_generation = 0
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="fusionlabel-frame-loader", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ GUI thread
    def get(self, index: int) -> FrameData | None:
        with self._cond:
            data = self._cache.get(index)
            if data is not None:
                self._cache.move_to_end(index)
            return data

    def request(self, index: int) -> FrameData | None:
        """Ask for a frame (returned at once when cached) and prefetch its neighbours."""
        n = len(self.drive)
        wanted = [index] + [index + d for d in self.prefetch if 0 <= index + d < n]
        with self._cond:
            # Forget prefetches outside the new window: the user has moved on.
            for k in [k for k in self._pending if k not in wanted]:
                del self._pending[k]
            for rank, k in reversed(list(enumerate(wanted))):
                if k in self._cache:
                    self._cache.move_to_end(k)  # the window is the last thing to evict
                    if k != index:
                        self._crop_selected(k)
                elif k != self._busy or self._busy_generation != self._generation:
                    self._pending[k] = (0 if k == index else 1, rank if k != index else -next(self._seq))
                    if self.boxes_for is not None:
                        self._boxes[k] = self.boxes_for(k)
                    if self.selected_for is not None:
                        self._selected[k] = self.selected_for(k)
            self._cond.notify()
            data = self._cache.get(index)
            if data is not None:
                self._cache.move_to_end(index)
            return data

    def reselect(self, index: int) -> None:
        """The selection changed while frame ``index`` is shown: crop the points around the
        selected cuboids in the frames of its prefetch window on the worker, those loaded already
        and those still to load (:attr:`selected_for` asked again)."""
        if self.selected_for is None:
            return
        n = len(self.drive)
        with self._cond:
            for k in (index + d for d in self.prefetch if 0 <= index + d < n):
                if k in self._pending:
                    self._selected[k] = self.selected_for(k)
                elif k in self._cache:
                    self._crop_selected(k)
            self._cond.notify()

    def _crop_selected(self, k: int) -> None:
        """With the lock held: have the worker crop around the selected cuboids in cached frame ``k``."""
        if self.selected_for is not None:
            selected = self.selected_for(k)
            if selected:
                self._crop[k] = selected
            else:
                self._crop.pop(k, None)

    def request_stack(self, data: FrameData, k: int) -> None:
        """Stack ``k`` sweeps each side onto ``data`` (the frame shown) on the worker, after the frame
        asked for and before the prefetches; ``stacked(index, k)`` says when
        ``data.stacked(k, wait=False)`` has them. Replaces an earlier request not yet started; dropped
        (no signal) when :meth:`invalidate` comes first."""
        with self._cond:
            self._stack_job = (data, int(k), self._generation)
            self._cond.notify()

    def set_bev_geometry(self, geometry) -> None:
        """The bird's-eye view now draws with this :class:`~.bev_raster.BevGeometry`."""
        self.bev_geometry = geometry

    def set_gl_budget(self, budget: int) -> None:
        """The 3D view now draws at most ``budget`` points (and those near the selected cuboids)."""
        self.gl_budget = int(budget)

    def invalidate(self) -> None:
        """Drop every cached frame; a frame being loaded now is dropped too when it is done (it
        was read with what held before), so a request after this loads it again."""
        with self._cond:
            self._generation += 1
            self._cache.clear()
            self._crop.clear()
            self._stack_job = None
            self.stack = SweepStack(self.drive)

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._pending.clear()
            self._crop.clear()
            self._cond.notify()
        self._thread.join(timeout=5.0)

    def cached(self) -> list[int]:
        with self._cond:
            return list(self._cache)

    # ------------------------------------------------------------------ worker thread
    def _run(self) -> None:
        try:  # below the GUI thread: prefetching must not slow down drawing the current frame
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICE)
        except (AttributeError, OSError):
            pass
        while True:
            crop = None
            with self._cond:
                while not self._pending and self._stack_job is None and not self._crop and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                job = self._stack_job   # after the frame asked for, before the prefetches
                asked = any(rank[0] == 0 for rank in self._pending.values())
                if job is not None and not asked:
                    self._stack_job = None
                elif self._crop and not asked:   # then the crops, before the prefetches
                    index, selected = self._crop.popitem()
                    job, crop = None, self._cache.get(index)
                    if crop is None:
                        continue
                else:
                    job = None
                    index = min(self._pending, key=self._pending.get)
                    del self._pending[index]
                    boxes = self._boxes.pop(index, None)
                    selected = self._selected.pop(index, None)
                    self._busy, self._busy_generation = index, self._generation
            if job is not None:
                if not self._stack(*job):
                    return
                continue
            if crop is not None:
                crop.prepare_selected(selected, self.color_mode, self.gl_budget)
                continue
            data = load_frame_data(self.drive, index, color_mode=self.color_mode,
                                   display_sizes=dict(self.display_sizes), boxes=boxes, selected=selected,
                                   bev=self.bev_geometry, stack=self.stack,
                                   without_images=self.without_images, gl_budget=self.gl_budget)
            with self._cond:
                self._busy = None
                if self._busy_generation != self._generation:
                    continue                    # invalidated while it loaded: stale
                self._cache[index] = data
                self._cache.move_to_end(index)
                while len(self._cache) > self.capacity:
                    self._cache.popitem(last=False)
                if self._stop:
                    return
            try:
                self.loaded.emit(index)
            except RuntimeError:  # the QObject is gone (app closing)
                return

    def _stack(self, data: FrameData, k: int, generation: int) -> bool:
        """Worker thread: stack ``k`` sweeps onto ``data`` and say so, unless invalidated since it
        was asked for (before or while stacking). False once the loader is closing or gone."""
        if generation == self._generation:
            data.stacked(k, color_mode=self.color_mode)
            view = self.bev_geometry     # the bird's-eye view's raster with them, as it draws now
            if view is not None and view.sweeps == k:
                data.bev_raster(view)
        with self._cond:
            if self._stop:
                return False
            if generation != self._generation:
                return True                     # stale: the frame is loaded (and stacked) again
        try:
            self.stacked.emit(data.index, k)
        except RuntimeError:  # the QObject is gone (app closing)
            return False
        return True
