"""Everything a frame needs on screen, decoded and projected off the GUI thread. Qt-free.

:func:`load_frame_data` never raises for bad input: a corrupt sweep or a missing image becomes a
message in ``FrameData.errors`` (and an empty sweep or a blank camera canvas), so the rest of
the frame stays usable.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from ..errors import FusionLabelError
from ..geometry.cameras import CameraModel
from ..model.drive import Drive
from ..model.rig import Rig
from ..render.camera_overlay import depth_sorted_points
from ..render.frame_image import NO_IMAGE, NO_IMAGES_IN_DRIVE
from ..render.splat import splat_squares, splat_size
from .bev_filter import ground_z
from .drive_gone import missing_file
from .bev_raster import BevGeometry, rasterise
from .point_colors import point_colors
from .point_index import PointGrid, crop_colors, crop_margin
from .point_lod import KEEP_MARGIN, THIN_FROM, drawn_rows, thinning_ranks
from .projected_boxes import wireframes
from .side_crop import VIEW_AXES, side_rows
from .stable_sort import stable_argsort
from .sweep_stack import NOT_STACKED, NotStacked, StackedSweeps, SweepStack

EMPTY_POINTS = np.zeros((0, 4), np.float32)

CROPS_KEPT = 12  # per-box results a frame keeps (crops, their colours, the 3D view's kept rows)


@dataclass
class CameraFrame:
    """One camera of one frame: the image (H, W, 3) uint8 RGB, the same image with the LiDAR
    points splatted on it (coloured by depth), the points' pixel positions and colours (nearer
    colours last; drawn over the image when zoomed in), and what went wrong, if anything."""

    name: str
    camera: CameraModel
    T_cam_lidar: np.ndarray
    image: np.ndarray
    image_with_points: np.ndarray
    n_points: int = 0
    error: str | None = None
    note: str | None = None  # not a problem of this frame (NO_IMAGES_IN_DRIVE): the panel's caption
    missing: Path | None = None  # the image file, when the error is that it is not there
    points_uv: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32), repr=False)
    points_rgb: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.uint8), repr=False)
    scaled: dict = field(default_factory=dict, repr=False)  # (width, height, with_points) -> image
    pyramid: dict = field(default_factory=dict, repr=False)  # (level, with_points) -> image halved level times
    wires: dict = field(default_factory=dict, repr=False)  # Cuboid -> Wireframe | None

    def wireframes(self, boxes: list) -> list:
        """Wireframe (or None when unseen) of each box in this camera; cached per box, the
        missing ones computed in one batch."""
        missing = [b for b in dict.fromkeys(boxes) if b not in self.wires]
        if missing:
            if len(self.wires) > 5000:
                self.wires.clear()
            self.wires.update(zip(missing, wireframes(missing, self.T_cam_lidar, self.camera)))
        return [self.wires[b] for b in boxes]

    def scaled_image(self, size: tuple[int, int], with_points: bool) -> np.ndarray:
        """The image (with or without points) resized to ``size`` (width, height), cached."""
        key = (int(size[0]), int(size[1]), bool(with_points))
        image = self.scaled.get(key)
        if image is None:
            src = self.image_with_points if with_points else self.image
            if key[:2] == (src.shape[1], src.shape[0]):
                image = src
            else:
                image = cv2.resize(src, key[:2], interpolation=cv2.INTER_AREA)
            if len(self.scaled) > 8:
                self.scaled.clear()
            self.scaled[key] = image
        return image


@dataclass
class FrameData:
    """A decoded frame: points (N, C) float32 in the LiDAR frame, their grid index, cameras,
    the point order by height (N,) (lowest first, for drawing), per-mode colours (cached), the
    frame's rig (None when its calibration did not load) and the drive's :class:`SweepStack`
    (the neighbouring sweeps the views may draw with it; None: none)."""

    index: int
    frame_id: str
    points: np.ndarray
    grid: PointGrid
    cameras: dict[str, CameraFrame] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    missing_files: dict[str, Path] = field(default_factory=dict)  # of the errors, those of a file not there -> it
    load_seconds: float = 0.0
    z_order: np.ndarray | None = None
    rig: Rig | None = None
    stack: SweepStack | None = field(default=None, repr=False)
    counts: dict = field(default_factory=dict, repr=False)  # Cuboid -> points inside
    _colors: dict = field(default_factory=dict, repr=False)
    _xy_by_height: np.ndarray | None = field(default=None, repr=False)
    _xyz: np.ndarray | None = field(default=None, repr=False)
    _ranks: np.ndarray | None = field(default=None, repr=False)
    _crops: dict = field(default_factory=dict, repr=False)  # per-box results (:meth:`_per_box`)
    _bev: dict = field(default_factory=dict, repr=False)  # BevGeometry -> raster
    _z_by_height: np.ndarray | None = field(default=None, repr=False)
    _ground_z: float | None = field(default=None, repr=False)
    _stacked: dict = field(default_factory=dict, repr=False)  # sweeps each side -> StackedSweeps | None
    _samples: dict = field(default_factory=dict, repr=False)  # (mode, budget, boxes) -> a thinned 3D view's arrays
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def frame_errors(self) -> list[str]:
        """The problems that are not one camera's own (sweep, calibration)."""
        own = {f"{name}: {cam.error}" for name, cam in self.cameras.items() if cam.error}
        return [e for e in self.errors if e not in own]

    def error_summary(self, leave_out=()) -> str | None:
        """Every problem of this frame in one line (cameras with the same problem named together,
        "front, left, right: no image for this frame"), or None when there is none; but those of
        ``leave_out`` (lines of :attr:`errors`: said otherwise)."""
        if not set(self.errors) - set(leave_out):
            return None
        by_error: dict[str, list[str]] = {}
        for name, cam in self.cameras.items():
            if cam.error and f"{name}: {cam.error}" not in leave_out:
                by_error.setdefault(cam.error, []).append(name)
        parts = [e for e in self.frame_errors() if e not in leave_out]
        parts += [f"{', '.join(names)}: {err}" for err, names in by_error.items()]
        return f"frame {self.frame_id}: " + "; ".join(parts)

    def count_in_box(self, box) -> int:
        """Points inside a box (cached per box)."""
        n = self.counts.get(box)
        if n is None:
            if len(self.counts) > 5000:
                self.counts.clear()
            n = self.counts[box] = self.grid.count_in_box(box)
        return n

    def _per_box(self, key, make):
        """``make()`` cached under ``key`` among the last CROPS_KEPT per-box results (thread-safe)."""
        with self._lock:
            value = self._crops.get(key)
        if value is None:
            value = make()
            with self._lock:
                while len(self._crops) >= CROPS_KEPT:
                    self._crops.pop(next(iter(self._crops)))
                self._crops[key] = value
        return value

    def near_box(self, box, margin: float) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`PointGrid.near_box`, cached (the three side views and the 3D view ask for the
        same crop)."""
        return self._per_box((box, float(margin)), lambda: self.grid.near_box(box, margin))

    def kept_rows(self, box) -> np.ndarray:
        """Rows (M,) of the points in ``box`` or within KEEP_MARGIN of it, cached: a thinned 3D
        view draws them all."""
        def make():
            rows, local = self.near_box(box, crop_margin(box))  # the side views' crop: a superset
            return rows[np.all(np.abs(local) <= np.asarray(box.size) / 2.0 + KEEP_MARGIN, axis=1)]
        return self._per_box(("kept", box), make)

    def crop_colors(self, box) -> np.ndarray:
        """Side-view colours (M, 3) of the points of the crop around ``box``
        (:func:`.point_index.crop_colors`), cached: the three side views colour them once."""
        return self._per_box(("colors", box), lambda: crop_colors(self.near_box(box, crop_margin(box))[1], box.size))

    def side_points(self, box, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What the side view ``kind`` draws of the crop around ``box``, farthest from the viewer
        first (:func:`.side_crop.side_rows`): rows of the crop (M,), their box-frame coordinates
        (M, 3) and side-view colours (M, 3), cached (the loader prepares them for the selected cuboid)."""
        def make():
            local = self.near_box(box, crop_margin(box))[1]
            rows = side_rows(local, box.size, kind)
            return rows, local[rows], self.crop_colors(box)[rows]
        return self._per_box(("side", kind, box), make)

    def bev_raster(self, view: BevGeometry, wait: bool = True) -> np.ndarray:
        """The bird's-eye view's point raster for ``view`` (cached for the last two geometries;
        the loader draws it for the view's geometry when it loads the frame). Without ``wait`` (the
        GUI thread) the sweeps ``view`` stacks are drawn only once stacked (:meth:`stacked`):
        until then, the frame's own points alone."""
        with self._lock:
            image = self._bev.get(view)
        if image is None:
            stacked = self.stacked(view.sweeps, wait) if view.sweeps else None
            if stacked is NOT_STACKED:
                return self.bev_raster(replace(view, sweeps=0))
            image = rasterise(self, view, stacked)
            with self._lock:
                if len(self._bev) >= 2:
                    self._bev.pop(next(iter(self._bev)))
                self._bev[view] = image
        return image

    def thinning_ranks(self) -> np.ndarray | None:
        """Each point's fixed pseudo-random rank (N,) (:mod:`.point_lod`: the points ranked below k
        are an even sample of k), cached; None for a sweep of up to THIN_FROM points (never thinned)."""
        if len(self.points) <= THIN_FROM:
            return None
        with self._lock:
            if self._ranks is None:
                self._ranks = thinning_ranks(len(self.points))
            return self._ranks

    def gl_points(self, mode: str) -> tuple[np.ndarray, np.ndarray]:
        """(N, 3) float32 positions and (N, 4) float32 RGBA colours in 0..1, cached: what the 3D
        view uploads (or a sample of)."""
        rgb = self.colors(mode)
        key = ("gl", mode)
        with self._lock:
            if self._xyz is None:
                self._xyz = np.ascontiguousarray(self.points[:, :3], np.float32)
            if key not in self._colors:
                rgba = np.ones((len(rgb), 4), np.float32)
                rgba[:, :3] = rgb * np.float32(1.0 / 255.0)
                self._colors[key] = rgba
            return self._xyz, self._colors[key]

    def gl_sample(self, mode: str, budget: int, boxes: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What a 3D view thinned to ``budget`` points uploads: the rows it draws
        (:func:`.point_lod.drawn_rows`, every point near ``boxes``, the selected cuboids, kept), their
        positions (M, 3) and RGBA colours (M, 4) in ``mode``; cached for the last two asked for (the
        loader prepares it for the view's budget). Only for a sweep of more than ``budget`` points."""
        key = (mode, int(budget), tuple(boxes))
        with self._lock:
            value = self._samples.get(key)
        if value is None:
            xyz, rgba = self.gl_points(mode)
            kept = [self.kept_rows(box) for box in key[2]]
            kept = kept[0] if len(kept) == 1 else np.unique(np.concatenate(kept)) if kept else np.zeros(0, int)
            rows = drawn_rows(self.thinning_ranks(), budget, kept)
            value = rows, xyz[rows], rgba[rows]
            with self._lock:
                while len(self._samples) >= 2:
                    self._samples.pop(next(iter(self._samples)))
                self._samples[key] = value
        return value

    def prepare_boxes(self, boxes: list) -> None:
        """Count points in, and project into every camera, these boxes ahead of drawing them."""
        for box in boxes:
            self.count_in_box(box)
        for cam in self.cameras.values():
            cam.wireframes(boxes)

    def prepare_selected(self, selected: list, color_mode: str | None = None, gl_budget: int | None = None) -> None:
        """Crop the points around the selected cuboids' boxes ahead of drawing them: what each side
        view draws of the first, what a thinned 3D view keeps of each, and with more points than
        ``gl_budget`` what that view uploads in ``color_mode``. Cached, so a second call costs nothing."""
        for box in selected:
            self.crop_colors(box)  # and the crop itself
            if self.thinning_ranks() is not None:
                self.kept_rows(box)
        for kind in VIEW_AXES if selected else ():   # the side views draw the first selected cuboid
            self.side_points(selected[0], kind)
        if gl_budget is not None and color_mode is not None and len(self.points) > gl_budget:
            self.gl_sample(color_mode, gl_budget, tuple(selected))

    def xy_by_height(self) -> np.ndarray:
        """(2, N) float32: the points' x and y rows in ``z_order`` (cached; the BEV's raster)."""
        with self._lock:
            if self._xy_by_height is None:
                order = self.z_order if self.z_order is not None else np.arange(len(self.points))
                self._xy_by_height = np.stack([self.points[:, 0][order], self.points[:, 1][order]])
            return self._xy_by_height

    def z_by_height(self) -> np.ndarray:
        """(N,) float32: the points' z in ``z_order``, ascending (cached; the BEV's height filter)."""
        with self._lock:
            if self._z_by_height is None:
                order = self.z_order if self.z_order is not None else np.arange(len(self.points))
                self._z_by_height = self.points[:, 2][order]
            return self._z_by_height

    def ground_z(self) -> float:
        """The ground's LiDAR z under the vehicle (:func:`.bev_filter.ground_z`), cached."""
        if self._ground_z is None:
            self._ground_z = ground_z(self.points)
        return self._ground_z

    def stacked(self, k: int, wait: bool = True, color_mode: str | None = None) -> StackedSweeps | None | NotStacked:
        """The ``k`` sweeps before and after this one in its LiDAR coordinates
        (:meth:`SweepStack.stack`), cached for the last ``k`` asked for; None without a stack, poses or
        ``k``. Stacking takes a tenth of a second or more: the GUI thread passes ``wait=False`` and
        gets :data:`NOT_STACKED` until the loader has stacked them (:meth:`FrameLoader.request_stack`),
        which also gives ``color_mode``: the stack's xy rows and colours in that mode are ready too
        before :meth:`has_stacked` says so."""
        if self.stack is None or k <= 0:
            return None
        with self._lock:
            if k in self._stacked:
                return self._stacked[k]
        if not wait:
            return NOT_STACKED
        value = self.stack.stack(self.index, k)
        if value is not None and color_mode is not None:
            value.xy()
            value.colors(color_mode)
        with self._lock:
            while self._stacked:
                self._stacked.pop(next(iter(self._stacked)))
            self._stacked[k] = value
        return value

    def has_stacked(self, k: int) -> bool:
        """Whether :meth:`stacked` gives the ``k`` sweeps each side at once (stacked, or none to stack)."""
        return self.stacked(k, wait=False) is not NOT_STACKED

    def colors(self, mode: str) -> np.ndarray:
        """(N, 3) uint8 colours of the points by "height", "intensity" or "distance"."""
        with self._lock:
            if mode not in self._colors:
                self._colors[mode] = point_colors(self.points, mode)
            return self._colors[mode]

    def colors_by_height(self, mode: str) -> np.ndarray:
        """(N, 3) uint8 colours in ``z_order`` (cached; the BEV's raster)."""
        key = ("by_height", mode)
        rgb = self.colors(mode)
        with self._lock:
            if key not in self._colors:
                self._colors[key] = rgb if self.z_order is None else rgb[self.z_order]
            return self._colors[key]


def _message(e: Exception) -> str:
    if isinstance(e, FusionLabelError):
        return str(e)
    return f"{type(e).__name__}: {e}"


def load_frame_data(drive: Drive, index: int, with_cameras: bool = True, color_mode: str | None = "height",
                    display_sizes: dict[str, tuple[int, int]] | None = None, boxes: list | None = None,
                    selected: list | None = None, bev: BevGeometry | None = None,
                    stack: SweepStack | None = None, without_images: frozenset = frozenset(),
                    gl_budget: int | None = None) -> FrameData:
    """Decode the sweep and every camera image of a frame and project the points into each.
    Off the GUI thread, this also computes the ``color_mode`` point colours (and the 3D view's
    arrays), the camera images scaled to ``display_sizes`` (camera name -> (width, height) on
    screen), for ``boxes`` (the frame's cuboids when it was requested) their point counts and
    wireframes, for ``selected`` (the selected cuboids' boxes) the points near each (and what
    each side view draws of the first), and the
    bird's-eye view's raster for its geometry ``bev`` (with the sweeps it stacks from ``stack``,
    which the frame keeps), and with more points than ``gl_budget`` (the 3D view's point budget) what
    the thinned 3D view uploads (:meth:`FrameData.gl_sample`). Cameras in ``without_images`` (the drive has no image of theirs at
    all: :func:`~fusionlabel.model.drive.cameras_without_images`) get a blank canvas with a
    note, not an error of this frame (the window says so once per drive)."""
    t0 = time.perf_counter()
    frame = drive.frames[index]
    errors: list[str] = []
    missing: dict[str, Path] = {}
    try:
        points = np.ascontiguousarray(drive.points(index))
    except Exception as e:  # noqa: BLE001 - any decoder failure becomes a message
        points = EMPTY_POINTS
        errors.append(f"sweep not loaded: {_message(e)}")
        if missing_file(e) is not None:
            missing[errors[-1]] = missing_file(e)
    cameras: dict[str, CameraFrame] = {}
    rig = None
    try:
        rig = drive.rig(index)
    except Exception as e:  # noqa: BLE001
        errors.append(f"calibration not loaded: {_message(e)}")
    if rig is not None and with_cameras:
        for name in rig.camera_names:
            cameras[name] = _load_camera(drive, index, name, rig.camera(name).camera, points, frame.image_paths)
            if name in without_images and cameras[name].error == NO_IMAGE:
                cameras[name].error, cameras[name].note = None, NO_IMAGES_IN_DRIVE
            if cameras[name].error:
                errors.append(f"{name}: {cameras[name].error}")
                if cameras[name].missing is not None:
                    missing[errors[-1]] = cameras[name].missing
    data = FrameData(index, frame.frame_id, points, PointGrid(points), cameras, errors, missing,
                     z_order=stable_argsort(points[:, 2]) if len(points) else np.zeros(0, np.int64),
                     rig=rig, stack=stack)
    data.xy_by_height()
    data.thinning_ranks()
    if color_mode is not None:
        data.gl_points(color_mode)
        data.colors_by_height(color_mode)
    for name, size in (display_sizes or {}).items():
        if name in cameras and size[0] > 0 and size[1] > 0:
            cameras[name].scaled_image(size, True)
    if boxes:
        data.prepare_boxes(boxes)
    data.prepare_selected(selected or [], color_mode, gl_budget)
    if bev is not None:
        data.bev_raster(bev)
    data.load_seconds = time.perf_counter() - t0
    return data


def _load_camera(drive: Drive, index: int, name: str, camera: CameraModel, points: np.ndarray,
                 image_paths: dict) -> CameraFrame:
    error = lost = None
    try:
        T_cam_lidar = drive.T_cam_lidar(index, name)
    except Exception as e:  # noqa: BLE001
        T_cam_lidar, error = np.eye(4), f"no extrinsic: {_message(e)}"
    image = None
    if name not in image_paths:
        error = error or NO_IMAGE
    else:
        try:
            image = drive.image(index, name)
        except Exception as e:  # noqa: BLE001
            lost = None if error else missing_file(e)
            error = error or f"image not loaded: {_message(e)}"
    if image is None:
        image = np.full((camera.height, camera.width, 3), 24, np.uint8)
    elif image.shape[:2] != (camera.height, camera.width):
        # The points and cuboids would land in the wrong place on it: they go on a blank panel.
        error = error or (f"image is {image.shape[1]}x{image.shape[0]} but the rig says "
                          f"{camera.width}x{camera.height}; not shown")
        image = np.full((camera.height, camera.width, 3), 24, np.uint8)
    overlay = image.copy()
    n = 0
    uv, rgb = np.zeros((0, 2), np.float32), np.zeros((0, 3), np.uint8)
    if len(points):
        try:
            uv, rgb = depth_sorted_points(points, T_cam_lidar, camera)
            n = splat_squares(overlay, uv, rgb, splat_size(overlay.shape[1]))
        except Exception as e:  # noqa: BLE001
            error = error or f"projection failed: {_message(e)}"
    return CameraFrame(name, camera, T_cam_lidar, image, overlay, n, error, points_uv=uv, points_rgb=rgb,
                       missing=lost)
