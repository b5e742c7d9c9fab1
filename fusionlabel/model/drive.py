"""Drives and frames: ordered sensor data with poses, loaded lazily and cached."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock
from typing import Callable

import numpy as np

from ..errors import InputError
from ..geometry.transforms import invert_T
from .annotation import CuboidLabel
from .rig import Rig


@dataclass
class Frame:
    """One LiDAR sweep and the camera images that go with it.

    ``T_world_vehicle`` is the ego pose at the LiDAR timestamp (identity when poses are unknown).
    ``T_world_vehicle_at_camera`` optionally holds the ego pose at each camera's own capture time
    (nuScenes cameras fire up to tens of ms before the LiDAR); projection uses it when present.
    ``rig`` overrides the drive's rig for this frame (KITTI object frames each have their own
    calibration); it may be a callable that loads the rig on first use.
    """

    frame_id: str
    lidar_path: Path
    image_paths: dict[str, Path] = field(default_factory=dict)
    timestamp_us: int = 0
    T_world_vehicle: np.ndarray = field(default_factory=lambda: np.eye(4))
    T_world_vehicle_at_camera: dict[str, np.ndarray] = field(default_factory=dict)
    camera_timestamps_us: dict[str, int] = field(default_factory=dict)
    labels_source: Callable[[], list[CuboidLabel]] | None = None
    rig_source: Rig | Callable[[], Rig] | None = None


class LRUCache:
    """A small thread-safe least-recently-used cache."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._items: OrderedDict = OrderedDict()
        self._lock = Lock()

    def get_or_load(self, key, load: Callable[[], object]):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = load()
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return value

    def __contains__(self, key) -> bool:
        with self._lock:
            return key in self._items


class Drive:
    """An ordered list of frames over one rig, with cached point and image loading.

    Args:
        name: human-readable name.
        root: folder the drive was read from.
        rig: the sensor rig (frames may override it).
        frames: frames in time order.
        read_points: loader for a sweep file -> (N, C) float32 points.
        read_image: loader for an image file -> (H, W, 3) uint8 RGB.
    """

    def __init__(self, name: str, root: Path, rig: Rig | None, frames: list[Frame],
                 read_points: Callable[[Path], np.ndarray] | None = None,
                 read_image: Callable[[Path], np.ndarray] | None = None,
                 cache_frames: int = 8):
        from ..io.images import read_image as default_read_image
        from ..io.pointcloud import read_points as default_read_points

        self.name = name
        self.root = Path(root)
        self._rig = rig
        self.frames = frames
        self._read_points = read_points or default_read_points
        self._read_image = read_image or default_read_image
        self._points_cache = LRUCache(cache_frames)
        self._image_cache = LRUCache(cache_frames * 8)
        self._rig_cache: dict[int, Rig] = {}
        self._labels_cache: dict[int, list[CuboidLabel]] = {}
        self._index = {f.frame_id: i for i, f in enumerate(frames)}
        # (path, scene, image_size) when :func:`~fusionlabel.io.drives.open_drive` made it: another
        # process can open the same drive from these (a background detector, for instance).
        self.opened_as: tuple | None = None
        # Source files the reader found but could not make part of a frame (a KITTI object label file
        # whose sweep is missing), one line each: `check` reports them, export and import say so.
        self.left_out: list[str] = []

    def __len__(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        return f"Drive({self.name!r}, {len(self.frames)} frames, root={str(self.root)!r})"

    # Attributes of subclasses that hold one entry per frame (a nuScenes drive's ``tokens``), which
    # :meth:`subset` cuts down with the frames.
    PER_FRAME_ATTRIBUTES = ("tokens",)

    def subset(self, indices: list[int]) -> "Drive":
        """A drive of the frames at ``indices`` only, in that order, sharing this drive's rig,
        readers, caches of decoded sweeps and images, and its other attributes (name, notes,
        nuScenes records). It cannot be reopened from a path (``opened_as`` is None)."""
        import copy

        out = copy.copy(self)
        out.frames = [self.frames[i] for i in indices]
        out._index = {f.frame_id: k for k, f in enumerate(out.frames)}
        out._rig_cache = {k: self._rig_cache[i] for k, i in enumerate(indices) if i in self._rig_cache}
        out._labels_cache = {}
        out.opened_as = None
        for name in self.PER_FRAME_ATTRIBUTES:
            values = getattr(self, name, None)
            if isinstance(values, list) and len(values) == len(self.frames):
                setattr(out, name, [values[i] for i in indices])
        return out

    def index_of_id(self, frame_id: str) -> int | None:
        """Index of the frame whose ID is exactly ``frame_id``; None when no frame has it (no index
        or other spelling is tried: see :meth:`index_of`)."""
        return self._index.get(frame_id)

    def index_of_sample(self, token: str) -> int | None:
        """Index of the keyframe whose nuScenes ``sample`` token is ``token`` (a drive read from
        nuScenes, or a native copy of one, keeps its frames' tokens in ``tokens``); None otherwise."""
        for i, t in enumerate(getattr(self, "tokens", None) or ()):
            if t is not None and getattr(t, "sample", None) == token:
                return i
        return None

    def index_of(self, frame: str | int) -> int:
        """Frame index from a frame ID (``"000001"``), an index (``3``, ``-1``) or, on a nuScenes
        drive, the keyframe's sample token as well as its LIDAR_TOP sample_data token (the ID)."""
        if isinstance(frame, str) and ((i := self.index_of_id(frame)) is not None
                                       or (i := self.index_of_sample(frame)) is not None):
            return i
        try:
            i = int(frame)
        except (TypeError, ValueError):
            raise KeyError(f"drive '{self.name}' has no frame '{frame}'") from None
        if isinstance(frame, str) and frame.lstrip("-").isdigit() and len(frame) > 1 and frame[0] == "0":
            raise KeyError(f"drive '{self.name}' has no frame '{frame}'")
        if not -len(self.frames) <= i < len(self.frames):
            raise KeyError(f"frame index {i} is out of range: drive '{self.name}' has {len(self.frames)} frames")
        return i % len(self.frames)

    def frame(self, frame: str | int) -> Frame:
        return self.frames[self.index_of(frame)]

    def rig(self, frame: str | int = 0) -> Rig:
        """The rig that holds for a frame (the drive's own unless the frame overrides it)."""
        i = self.index_of(frame)
        source = self.frames[i].rig_source
        if source is None:
            if self._rig is None:
                raise ValueError(f"drive '{self.name}' has no rig")
            return self._rig
        if isinstance(source, Rig):
            return source
        if i not in self._rig_cache:
            self._rig_cache[i] = source()
        return self._rig_cache[i]

    def reads_sweeps_plainly(self) -> bool:
        """Whether :meth:`points` is the sweep file as :func:`fusionlabel.io.pointcloud.read_points`
        reads it (no reader of the drive's own in between), so a copy of the file holds the same
        points."""
        from ..io.pointcloud import read_points as default_read_points

        return self._read_points is default_read_points

    def points(self, frame: str | int) -> np.ndarray:
        """The frame's sweep in its LiDAR frame, (N, C) float32; decoded once and cached."""
        path = self.frames[self.index_of(frame)].lidar_path
        return self._points_cache.get_or_load(path, lambda: self._read_points(path))

    def image(self, frame: str | int, camera: str) -> np.ndarray:
        """A camera image, (H, W, 3) uint8 RGB; decoded once and cached."""
        f = self.frames[self.index_of(frame)]
        if camera not in f.image_paths:
            raise KeyError(f"frame {f.frame_id} has no image for camera '{camera}'")
        path = f.image_paths[camera]
        return self._image_cache.get_or_load(path, lambda: self._read_image(path))

    def labels(self, frame: str | int) -> list[CuboidLabel]:
        """Annotations that came with the drive (ground truth or imported labels) for a frame."""
        i = self.index_of(frame)
        if i not in self._labels_cache:
            source = self.frames[i].labels_source
            self._labels_cache[i] = list(source()) if source else []
        return self._labels_cache[i]

    def T_world_lidar(self, frame: str | int) -> np.ndarray:
        """(4, 4) pose of the reference LiDAR in the world frame at the sweep's time."""
        i = self.index_of(frame)
        return self.frames[i].T_world_vehicle @ self.rig(i).T_vehicle_lidar

    def T_cam_lidar(self, frame: str | int, camera: str) -> np.ndarray:
        """(4, 4) LiDAR -> camera transform for a frame, compensating ego motion between the
        LiDAR and the camera capture times when per-camera poses are known:
        LiDAR -> vehicle@t_lidar -> world -> vehicle@t_cam -> camera."""
        i = self.index_of(frame)
        f = self.frames[i]
        rig = self.rig(i)
        T_cam_vehicle = invert_T(rig.camera(camera).T_vehicle_sensor)
        T_world_vehicle_cam = f.T_world_vehicle_at_camera.get(camera)
        if T_world_vehicle_cam is None:
            return T_cam_vehicle @ rig.T_vehicle_lidar
        T_vehicle_cam_time_from_lidar_time = invert_T(T_world_vehicle_cam) @ f.T_world_vehicle
        return T_cam_vehicle @ T_vehicle_cam_time_from_lidar_time @ rig.T_vehicle_lidar


def has_ego_poses(drive: Drive) -> bool:
    """The drive carries ego poses: they differ between frames, or cameras have their own (a drive
    recorded without them has the same pose, usually the identity, in every frame)."""
    first = drive.frames[0].T_world_vehicle if drive.frames else None
    return any(not np.allclose(f.T_world_vehicle, first, atol=1e-9) or f.T_world_vehicle_at_camera
               for f in drive.frames)


def camera_names_of_all_rigs(drive: Drive) -> list[str]:
    """Every camera of every rig the drive's frames use (a drive may change rigs), each once: in
    the order of the first frame's rig, then of each later rig's new cameras as the frames meet
    them. Each distinct rig is read once; a frame's rig loader that names its cameras (attribute
    ``camera_names``: a KITTI object frame's) is not called. A rig that cannot be read adds none
    (its error is reported where the rig is used)."""
    names: dict[str, None] = {}
    seen: set[int] = set()
    for i, f in enumerate(drive.frames):
        source = f.rig_source
        key = id(drive._rig) if source is None else id(source)
        if key in seen:
            continue
        seen.add(key)
        known = getattr(source, "camera_names", None) if callable(source) else None
        try:
            names.update(dict.fromkeys(known if known is not None else drive.rig(i).camera_names))
        except (InputError, OSError, ValueError):
            continue
    return list(names)


def cameras_without_images(drive: Drive) -> list[str]:
    """The cameras of the drive's rig (the first frame's) that no frame has an image for, in rig
    order: a LiDAR-only recording whose rig still names its cameras (``simulate --no-cameras``).
    Empty when the rig does not load or the drive has no frames."""
    if not drive.frames:
        return []
    try:
        names = drive.rig(0).camera_names
    except Exception:  # noqa: BLE001 - a broken rig is reported where it is used
        return []
    seen: set[str] = set()
    for f in drive.frames:
        seen.update(f.image_paths)
        if seen.issuperset(names):
            return []
    return [n for n in names if n not in seen]
