"""Neighbouring sweeps moved into a frame through the ego poses, for the views to draw. Qt-free.

A far or small static object gets a handful of points per sweep; the sweeps before and after it,
moved into the frame's LiDAR coordinates through each frame's pose (``T_world_lidar``), add theirs
on the same surfaces. Moving objects leave a trail (each sweep caught them somewhere else): the
views draw the other sweeps dimmer and the frame's own points over them. Only for drives with
ego poses (:func:`~fusionlabel.model.drive.has_ego_poses`): without them the sweeps cannot be
lined up. The stacked points are drawn only; counts and fits use the frame's own sweep.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..geometry.transforms import invert_T
from ..model.drive import Drive, LRUCache, has_ego_poses
from .point_colors import point_colors
from .point_lod import count_text
from .stable_sort import stable_argsort

MAX_SWEEPS = 5          # the most sweeps taken on each side of the frame
PER_SWEEP = 300_000     # a larger sweep contributes an even sample of this many points ...
STACK_MAX = 1_500_000   # ... and of fewer when the sweeps stacked would hold more than this in all
DIM = 0.5               # the other sweeps' colours are scaled by this


class NotStacked:
    """What :meth:`FrameData.stacked` gives the GUI thread before the loader has stacked the sweeps."""

    def __repr__(self) -> str:
        return "NOT_STACKED"


NOT_STACKED = NotStacked()


@dataclass
class StackedSweeps:
    """The other sweeps' points (M, 4) float32 (x, y, z, intensity) in the frame's LiDAR coordinates, lowest first,
    with each point's frame offset (M,) (source frame index minus the frame's), and which frame
    offsets contributed."""

    points: np.ndarray
    offsets: np.ndarray
    frames: tuple[int, ...]
    _xy: np.ndarray | None = field(default=None, repr=False)
    _colors: dict = field(default_factory=dict, repr=False)

    def xy(self) -> np.ndarray:
        """(2, M) float32 x and y rows (lowest point first), cached: what the raster draws."""
        if self._xy is None:
            self._xy = np.ascontiguousarray(self.points[:, :2].T)
        return self._xy

    def colors(self, mode: str) -> np.ndarray:
        """(M, 3) uint8 colours by ``mode``, dimmed by DIM, cached."""
        if mode not in self._colors:
            rgb = point_colors(self.points, mode)
            self._colors[mode] = (rgb.astype(np.float32) * DIM).astype(np.uint8)
        return self._colors[mode]


class SweepStack:
    """Stacks the sweeps around a frame of ``drive`` (thread-safe; keeps the last sweeps read)."""

    def __init__(self, drive: Drive, capacity: int = 2 * MAX_SWEEPS + 2):
        self.drive = drive
        self.has_poses = bool(len(drive)) and has_ego_poses(drive)
        self._sweeps = LRUCache(capacity)
        self._poses = LRUCache(4 * capacity)

    def sources(self, index: int, k: int) -> list[int]:
        """The frames whose sweeps are stacked onto ``index`` for ``k`` sweeps each side."""
        k = max(0, min(int(k), MAX_SWEEPS))
        return [j for j in range(index - k, index + k + 1) if j != index and 0 <= j < len(self.drive)]

    def _sweep(self, j: int) -> np.ndarray | None:
        def load():
            try:
                points = self.drive.points(j)
            except Exception:  # noqa: BLE001 - an unreadable sweep is left out (its own frame says why)
                return None
            sample = _even(points, PER_SWEEP)[:, :4]
            kept = np.zeros((len(sample), 4), np.float32)   # x, y, z and intensity (0 without)
            kept[:, :sample.shape[1]] = sample
            return kept
        return self._sweeps.get_or_load(j, load)

    def _pose(self, j: int) -> np.ndarray | None:
        def load():
            try:
                return self.drive.T_world_lidar(j)
            except Exception:  # noqa: BLE001 - a frame whose rig does not load is left out
                return None
        return self._poses.get_or_load(j, load)

    def stack(self, index: int, k: int) -> StackedSweeps | None:
        """The ``k`` sweeps before and after frame ``index`` in its LiDAR coordinates (each an even
        sample of at most PER_SWEEP points, evenly spaced over the scan, fewer when they would
        hold more than STACK_MAX in all);
        None when ``k`` is 0, the drive has no poses or the frame's own pose is unknown."""
        sources = self.sources(index, k)
        T_world_here = self._pose(index) if sources and self.has_poses else None
        if T_world_here is None:
            return None
        T_here_world = invert_T(T_world_here)
        parts, offsets, used = [], [], []
        per_sweep = min(PER_SWEEP, STACK_MAX // len(sources))
        for j in sources:
            points, T_world_there = self._sweep(j), self._pose(j)
            if points is None or T_world_there is None or len(points) == 0:
                continue
            points = _even(points, per_sweep)
            parts.append(_moved(points, T_here_world @ T_world_there))
            offsets.append(np.full(len(points), j - index, np.int8))
            used.append(j - index)
        if not parts:
            return StackedSweeps(np.zeros((0, 4), np.float32), np.zeros(0, np.int8), ())
        points = np.concatenate(parts)
        offsets = np.concatenate(offsets)
        order = stable_argsort(points[:, 2])
        # np.take: row gathers of an (M, 4) array many times faster than points[order]
        return StackedSweeps(np.take(points, order, axis=0), offsets[order], tuple(used))


def _even(points: np.ndarray, most: int) -> np.ndarray:
    """``points`` when they are at most ``most``, else ``most`` of them evenly spaced over the
    rows (over the scan: a sample of the whole sweep)."""
    n = len(points)
    if n <= most:
        return points
    return np.take(points, np.arange(most, dtype=np.int64) * n // most, axis=0)


def _moved(points: np.ndarray, T: np.ndarray) -> np.ndarray:
    """(N, 4) points with x, y, z moved by the 4x4 ``T`` (row by row on contiguous columns: many
    times faster than a matrix product on the strided xyz of an (N, 4) array)."""
    x, y, z = (np.ascontiguousarray(points[:, i]) for i in range(3))
    out = np.empty_like(points)
    R, t = T[:3, :3].astype(np.float32), T[:3, 3].astype(np.float32)
    for row in range(3):
        out[:, row] = x * R[row, 0] + y * R[row, 1] + z * R[row, 2] + t[row]
    out[:, 3] = points[:, 3]
    return out


def sweeps_caption(data, k: int) -> str:
    """The views' caption line for ``k`` stacked sweeps on ``data`` (a FrameData)."""
    if data.stack is None or not data.stack.has_poses:
        return "sweeps: the drive has no ego poses, so its sweeps cannot be stacked"
    stacked = data.stacked(k, wait=False)    # the loader stacks them (never the GUI thread)
    if stacked is NOT_STACKED:
        return f"sweeps: ±{k}, stacking …   O / Shift+O"
    if stacked is None or not stacked.frames:
        return f"sweeps: ±{k}, but no other sweep could be read"
    return (f"sweeps: ±{k}, {len(stacked.frames)} other sweeps, {count_text(len(stacked.points))} points dimmer "
            "(moving objects smear)   O / Shift+O")
