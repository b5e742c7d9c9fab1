"""KITTI object export: ``label_2/``, ``calib/`` and (optionally) ``velodyne/`` + ``image_2/``.

Boxes go to the rectified camera frame (bottom-centre location, ``rotation_y``) through
:func:`fusionlabel.io.kitti.kitti_from_cuboid`; alpha is the observation angle ``ry - atan2(x, z)``;
the 2D box is the projected cuboid clipped to the image (and, for an undistorted or levelled image,
to the part the camera saw); truncation is the clipped-off fraction of the projection; occlusion is estimated from LiDAR returns (see :mod:`fusionlabel.export.views`), unless an
annotator set it in the attribute panel (:mod:`~fusionlabel.io.kitti_occlusion`: their choice wins,
over the estimate and over a kept imported ``occluded``).

Untouched imported KITTI objects (``source == "import"`` with KITTI's fields in their attributes
and an alpha that still agrees with the box) keep their original 2D box, truncation, occlusion and
alpha; a truncation on the other KITTI format's scale (:mod:`~fusionlabel.io.kitti_truncation`: a
tracking level in KITTI object, an object fraction in KITTI tracking) is converted, a level to the
fraction the box projects to, moved into the level's range when it contradicts the level. When the drive is a KITTI object folder or KITTI tracking sequence, its calibration is
copied (unchanged, or with KITTI object's key names where a tracking file uses the raw ``R_rect`` /
``Tr_velo_cam`` ones) and its DontCare regions are re-read from the source label files and written back.
A camera the rig marks rectified (KITTI's, also in a native copy) is written unlevelled, with labels
in its rectified frame (:meth:`KittiExporter.written_calib`); others are levelled (:mod:`.levelling`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from ..assist.ground import UP_MIN_POINTS, UP_RANGE, GroundUp, ground_up
from ..errors import PointCloudError
from ..geometry.transforms import invert_T, normalize_angle
from ..io.kitti import KittiCalib, KittiLabelLine, kitti_from_cuboid, read_kitti_calib, read_kitti_label_file
from ..io.kitti_tracking import KittiTrackingDrive
from ..io.kitti_occlusion import UNKNOWN_LEVEL, box_as_imported, chosen_occlusion_level, kitti_number
from ..io.kitti_truncation import (FRACTION, LEVEL, SCALES, TRUNCATION_SCALE, truncation_level,
                                   truncation_written)
from ..model.annotation import CuboidLabel
from ..model.lidar_mount import LidarMount, lidar_mount
from ..model.source_class import source_class
from .base import Exporter, ExportError
from .classes import KITTI_TYPES, kitti_class, kitti_style_name
from .levelling import LEVEL_TOLERANCE, Levelling, level_camera
from .views import kitti_occlusion_level, object_views, pinhole_of, seen_region, undistort_image, undistort_maps

KITTI_FIELDS = ("truncated", "occluded", "alpha", "bbox_2d")

QUARTER_TURN_SNAP = np.radians(1.0)   # a camera azimuth this close to a quarter turn is snapped to it
OUTSIDE_BBOX = (-1.0, -1.0, -1.0, -1.0)
# the truncation of an object the camera does not see: KITTI object's fraction, tracking's level
OUTSIDE_TRUNCATION = {False: 1, True: 2}   # by tracking
UP_SWEEPS = 5   # sweeps, spread over the exported frames, whose ground gives "up" (rigs without a vehicle frame)


def _tilt_words(pitch: float, roll: float) -> str:
    """A camera's tilt in words, e.g. "looks 2.4 degrees up, right side 0.3 degrees down" (degrees;
    pitch > 0 looks down, roll > 0 right side down, as :class:`~fusionlabel.export.levelling.Levelling`)."""
    look = f"looks {abs(pitch):g} degrees {'down' if pitch > 0 else 'up'}" if pitch else "looks level"
    side = f"right side {abs(roll):g} degrees {'down' if roll > 0 else 'up'}" if roll else "no roll"
    return f"{look}, {side}"


def kitti_alpha(x: float, z: float, ry: float) -> float:
    """Observation angle of an object at rectified-camera (x, z) with rotation_y ``ry``, in (-pi, pi]."""
    return normalize_angle(ry - np.arctan2(x, z))


def format_kitti_line(kind: str, truncated: float, occluded: int, alpha: float, bbox, hwl, xyz, ry: float,
                      score: float | None = None, prefix: str = "", tracking: bool = False) -> str:
    """One label line at the format's precision.

    Object format: 2 decimals (score 4); DontCare lines write whole numbers without decimals, as
    KITTI's own files do. Tracking format (``tracking=True``): truncation is an integer level,
    everything else 6 decimals, as in KITTI's tracking files.
    """
    if tracking:
        nums = " ".join(f"{v:.6f}" for v in (_angle6(alpha), *bbox, *hwl, *xyz, _angle6(ry)))
        text = f"{prefix}{kind} {int(round(truncated))} {int(occluded)} {nums}"
        return text + (f" {score:.6f}" if score is not None else "")

    def num(v: float) -> str:
        return str(int(v)) if kind == "DontCare" and float(v).is_integer() else f"{v:.2f}"

    nums = " ".join(num(v) for v in (alpha, *bbox, *hwl, *xyz, ry))
    text = f"{prefix}{kind} {num(truncated)} {int(occluded)} {nums}"
    return text + (f" {score:.4f}" if score is not None else "")


def _angle6(a: float) -> float:
    """An angle in [-pi, pi] that stays there when written with 6 decimals: pi itself rounds to
    3.141593 > pi (and wrapping that by 2 pi gives -3.141593 < -pi), so it is written as 3.141592.
    Values further out (DontCare's -10) are left as they are."""
    limit = np.floor(np.pi * 1e6) / 1e6          # 3.141592, the largest 6-decimal value <= pi
    if np.pi < abs(round(a, 6)) < np.pi + 1e-6:
        return float(np.copysign(limit, a))
    return a


def _geometry_key(kind: str, *values: float) -> tuple[str, ...]:
    """A box as KITTI writes it (type and 2-decimal h w l x y z ry), for matching to a source line."""
    return (kind, *(kitti_number(v) for v in values))


def velodyne_turn(T_cam_lidar: np.ndarray, T_up_lidar: np.ndarray | None = None) -> np.ndarray | None:
    """``T_velo_lidar``: the turn that makes the written Velodyne frame z-up and x-forward, i.e. puts
    the camera's viewing direction (its +z, projected on the turned LiDAR's x-y plane) on +x, as
    KITTI's tools assume (OpenPCDet and mmdet3d convert ``rotation_y`` to a Velodyne yaw as
    ``-ry - pi/2``). None when no turn is needed. ``T_cam_lidar`` goes to the (levelled) camera;
    ``T_up_lidar`` is the LiDAR mount's turn to up
    (:meth:`~fusionlabel.model.lidar_mount.LidarMount.T_up_lidar`: half a turn about x, exact, for
    a LiDAR mounted upside down), None for an upright LiDAR; the turn about z comes after it.

    An azimuth within 1 degree of a quarter turn is snapped to it: a quarter turn permutes the
    axes exactly (the sweep's numbers are unchanged, as in nuscenes-devkit's export_kitti), and a
    camera within 1 degree of +x (KITTI's own rigs) gives no turn at all, so nothing is re-encoded.
    """
    T_cam_lidar = np.asarray(T_cam_lidar, dtype=float)
    up = np.eye(4) if T_up_lidar is None else np.asarray(T_up_lidar, dtype=float)
    forward = (T_cam_lidar @ up.T)[2, :3]                        # camera +z in the turned-up LiDAR frame
    if np.hypot(forward[0], forward[1]) < 1e-6:                 # looking straight up or down
        return None if T_up_lidar is None else up.copy()
    azimuth = float(np.arctan2(forward[1], forward[0]))
    quarter = round(azimuth / (np.pi / 2))
    T = np.eye(4)
    if abs(azimuth - quarter * np.pi / 2) <= QUARTER_TURN_SNAP:
        if quarter % 4 == 0:
            return None if T_up_lidar is None else up.copy()
        c, s = np.rint(np.cos(quarter * np.pi / 2)), np.rint(np.sin(quarter * np.pi / 2))
    else:
        c, s = np.cos(azimuth), np.sin(azimuth)
    T[:2, :2] = [[c, s], [-s, c]]                                 # Rz(-azimuth)
    return T @ up


def turned_points(points: np.ndarray, T_velo_lidar: np.ndarray) -> np.ndarray:
    """x, y, z of a sweep in the turned Velodyne frame (other columns unchanged), float32 (N, 4)."""
    pts = np.array(points[:, :4], dtype=np.float64)
    pts[:, :3] = pts[:, :3] @ T_velo_lidar[:3, :3].T
    return pts.astype("<f4")


# How a calibration file names R0_rect, Tr_velo_to_cam and Tr_imu_to_velo, each with what follows
# the key: KITTI object's files write "R0_rect: ..." (P0-P3 always have a colon).
OBJECT_CALIB_KEYS = ("R0_rect:", "Tr_velo_to_cam:", "Tr_imu_to_velo:")


def calib_file_text(P: dict[int, np.ndarray], R_rect: np.ndarray, Tr_velo_cam: np.ndarray,
                    Tr_imu_velo: np.ndarray | None, keys: tuple[str, str, str] = OBJECT_CALIB_KEYS) -> str:
    """A KITTI calibration file: ``P0:``-``P3:`` (those in ``P``), then the rectification, the
    Velodyne -> camera and the IMU -> Velodyne matrices under ``keys`` (a None matrix is left out),
    one line each, every value as ``%.12e`` as KITTI writes them."""
    rows = [(f"P{i}:", m) for i, m in sorted(P.items())] + list(zip(keys, (R_rect, Tr_velo_cam, Tr_imu_velo)))
    return "".join(f"{k} " + " ".join(f"{v:.12e}" for v in np.asarray(m).ravel()) + "\n"
                   for k, m in rows if m is not None)


def object_calib_text(calib: KittiCalib) -> str:
    """The file's own text when it uses KITTI object's key names, else the same matrices written
    with them (KITTI tracking's raw files say ``R_rect``, ``Tr_velo_cam``, ``Tr_imu_velo``)."""
    text = calib.path.read_text(encoding="utf-8")
    keys = {line.split(":", 1)[0].strip() for line in text.splitlines() if ":" in line}
    if {"R0_rect", "Tr_velo_to_cam"} <= keys and ("Tr_imu_to_velo" in keys or calib.Tr_imu_to_velo is None):
        return text
    return calib_file_text(calib.P, calib.R0_rect, calib.Tr_velo_to_cam, calib.Tr_imu_to_velo)


class KittiExporter(Exporter):
    """KITTI object format; see the module docstring."""

    name = "kitti"
    label_dir = "label_2"
    tracking = False
    calib_keys = OBJECT_CALIB_KEYS    # how written calibration files name their matrices

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.unknown_classes: Counter = Counter()   # written names outside KITTI's types (format_class)

    def format_class(self, label: CuboidLabel) -> tuple[str | None, str]:
        """KITTI's type (:func:`~fusionlabel.export.classes.kitti_class`); a name KITTI has no type
        for is written in one spelling per class (:func:`kitti_style_name`) and listed; what KITTI
        does not label (barriers, cones, parked bicycles) is left out with the reason."""
        kind, reason = kitti_class(label, self.tracking)
        if kind is None and not reason:
            name = kitti_style_name(source_class(label))
            self.unknown_classes[name] += 1
            return name, ""
        return kind, reason

    # ------------------------------------------------------------------ set-up
    def begin(self) -> None:
        self.dropped_rotation = 0
        self.scored = 0   # lines written with a score (pre-labels, --include-prelabels)
        rig = self.drive.rig(self.frames[0] if self.frames else 0)
        names = rig.camera_names
        if not names:
            hint = (" (a KITTI folder's camera comes with its image_2/ or image_02/<sequence>/ images, which give "
                    "its size; a tracking folder without images needs export --image-size WxH)" if isinstance(self.drive, KittiTrackingDrive) or (self.drive.root / "calib").is_dir()
                    else "")
            raise ExportError(self.drive.root, f"the drive's rig has no camera{hint}; KITTI needs one", where="rig")
        cam = self.options.camera or ("image_2" if "image_2" in names else names[0])
        if cam not in names:
            raise ExportError(None, f"camera '{cam}' is not in the rig (cameras: {', '.join(names)})", where="--camera")
        self.camera = cam
        self._has_images: bool | None = None   # any exported frame has an image of the camera (left_out)
        self.images_written = 0             # image files written: the notes on undistorting and levelling them
        self.imageless = False              # sensor data written for a frame without an image of the camera
        numeric = all(f.frame_id.isdigit() and len(f.frame_id) == 6 for f in self.drive.frames)
        self.names = {i: (f.frame_id if numeric else f"{i:06d}") for i, f in enumerate(self.drive.frames)}
        self._warps: dict = {}      # (camera model, R0_rect bytes) -> see warp()
        self.frame_list: list[str] = []
        self.outside = 0
        self.tracked: dict[str, set[int]] = defaultdict(set)   # track ID -> frames it is written in
        self._sequence_labels: dict[Path, dict[int, list[KittiLabelLine]]] = {}
        self.turns: set[float] = set()      # degrees of the Velodyne turns written (see velodyne_turn)
        self.mount: LidarMount | None = None   # a LiDAR mounted off up (lidar_mount) written with its z up
        self._levellings: dict[bytes, Levelling] = {}
        self.tilts: set[tuple[float, float, float]] = set()   # (angle, pitch, roll) in degrees of rotated images
        self.unlevelled = False             # a camera looking too steeply up or down to be levelled
        self.ground: GroundUp | None = None  # "up" from the ground, for a rig without a vehicle frame
        self.up_lidar = np.array([0.0, 0.0, 1.0])   # the vertical levelled against, in the LiDAR frame
        first = self.frames[0] if self.frames else 0
        if not rig.vehicle_frame and self.source_calib(first) is None and self.rectified(first) is None:
            self.ground = self.estimate_up()
            if self.ground.reliable:
                self.up_lidar = self.ground.up

    def estimate_up(self) -> GroundUp:
        """"Up" in the reference LiDAR's frame from the ground of up to :data:`UP_SWEEPS` sweeps
        spread evenly over the exported frames (:func:`~fusionlabel.assist.ground.ground_up`); an
        unreadable sweep counts as one without ground."""
        frames = self.frames or [0]
        picks = sorted({frames[int(k)] for k in np.linspace(0, len(frames) - 1, min(UP_SWEEPS, len(frames))).round()})

        def sweeps():
            for i in picks:
                try:
                    yield self.drive.points(i)
                except PointCloudError:
                    yield np.empty((0, 3), np.float32)
        return ground_up(sweeps())

    def up_vehicle(self, i: int) -> np.ndarray:
        """The vertical (3,) in frame ``i``'s vehicle frame: its +z, or the ground's "up" where the
        rig has no vehicle frame and the ground gave a reliable one (:meth:`estimate_up`)."""
        rig = self.drive.rig(i)
        if rig.vehicle_frame or self.ground is None or not self.ground.reliable:
            return np.array([0.0, 0.0, 1.0])
        return np.asarray(rig.T_vehicle_lidar, dtype=np.float64)[:3, :3] @ self.up_lidar

    def source_calib(self, i: int) -> Path | None:
        """Frame ``i``'s KITTI source calibration file when it is written as it is (the drive is a
        KITTI folder and the exported camera is the image_2 it describes), else None."""
        src_calib, _ = self.kitti_sources(i)
        return src_calib if self.camera == "image_2" else None

    def rectified(self, i: int) -> np.ndarray | None:
        """``T_rect_cam`` (4, 4) of frame ``i``'s exported camera when the rig says it is rectified
        (KITTI's own camera, also in a native copy: its y axis is the labels' vertical), else None."""
        return self.drive.rig(i).camera(self.camera).T_rect_cam

    def levelling(self, i: int) -> Levelling:
        """How the exported camera of frame ``i`` is levelled (:func:`level_camera`, from the rig's
        mount, against :meth:`up_vehicle`); none for a KITTI source whose calibration is copied and
        for a rectified camera (:meth:`rectified`), which is level by definition."""
        if self.source_calib(i) is not None or self.rectified(i) is not None:
            return Levelling(np.eye(3), 0.0, 0.0, 0.0)
        T_vehicle_cam = np.asarray(self.drive.rig(i).camera(self.camera).T_vehicle_sensor, dtype=np.float64)
        up = self.up_vehicle(i)
        key = T_vehicle_cam[:3, :3].tobytes() + up.tobytes()
        if key not in self._levellings:
            lev = level_camera(T_vehicle_cam[:3, :3], up)
            self._levellings[key] = lev
            if lev.rotates:
                self.tilts.add(tuple(round(float(np.degrees(a)), 2) for a in (lev.angle, lev.pitch, lev.roll)))
            self.unlevelled |= not lev.possible
        return self._levellings[key]

    def warp(self, i: int) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray] | None:
        """How frame ``i``'s exported image is resampled: (``cv2.remap`` maps that undistort and
        level it in one pass, the polygon of the result the camera saw (:func:`seen_region`)), built
        once per camera and levelling; None when the image is written as recorded (a level pinhole
        camera: all of it was seen)."""
        model = self.drive.rig(i).camera(self.camera).camera
        lev = self.levelling(i)
        if model.distortion == () and not lev.rotates:
            return None
        key = (model, lev.R_rect_cam.tobytes())
        if key not in self._warps:
            maps = undistort_maps(model, pinhole_of(model), lev.R_rect_cam if lev.rotates else None)
            self._warps[key] = (maps, seen_region(maps))
        return self._warps[key]

    def kitti_sources(self, i: int) -> tuple[Path | None, Path | None]:
        """(calib, label) files of frame ``i`` of a KITTI drive (None where absent): ``calib/<frame>.txt``
        and ``label_2/<frame>.txt`` of an object folder, ``calib/<seq>.txt`` and ``label_02/<seq>.txt``
        of a tracking sequence (the label file holds every frame: see :meth:`source_label_lines`)."""
        f = self.drive.frames[i]
        folder = f.lidar_path.parent
        if isinstance(self.drive, KittiTrackingDrive) and folder.parent.name == "velodyne":
            root = folder.parent.parent
            calib, label = root / "calib" / f"{folder.name}.txt", root / "label_02" / f"{folder.name}.txt"
        elif folder.name == "velodyne":
            root = folder.parent
            calib, label = root / "calib" / f"{f.frame_id}.txt", root / "label_2" / f"{f.frame_id}.txt"
        else:
            return None, None
        return (calib if calib.is_file() else None), (label if label.is_file() else None)

    def source_label_lines(self, i: int) -> list[KittiLabelLine] | None:
        """The lines (DontCare included) of frame ``i`` in the drive's own KITTI label file, None when
        there is none or the exported camera is not the one it describes (image_2)."""
        _, path = self.kitti_sources(i)
        if path is None or self.camera != "image_2":
            return None
        if not isinstance(self.drive, KittiTrackingDrive):
            return read_kitti_label_file(path)
        if path not in self._sequence_labels:       # one file for the sequence: read it once
            by_frame: dict[int, list[KittiLabelLine]] = {}
            for line in read_kitti_label_file(path, tracking=True):
                by_frame.setdefault(line.frame, []).append(line)
            self._sequence_labels[path] = by_frame
        return self._sequence_labels[path].get(int(self.drive.frames[i].lidar_path.stem), [])

    # ------------------------------------------------------------------ objects
    def _keep_imported(self, lab: CuboidLabel, geometry: tuple[str, ...], alpha_now: float,
                       source_lines: dict | None) -> bool:
        """Whether an imported object is untouched, so its KITTI 2D fields may be kept.

        The box written at KITTI precision must equal the geometry the object was imported with
        (``kitti_geometry``), or a line of the drive's own label file with the stored 2D box; for
        labels imported before ``kitti_geometry`` existed, the stored alpha must still agree with
        the box (a weaker test: a shift of a few centimetres goes unnoticed).
        """
        a = lab.attributes
        if not (self.options.keep_imported_2d and lab.source == "import" and all(k in a for k in KITTI_FIELDS)):
            return False
        if a.get("kitti_camera", self.camera) != self.camera:
            return False
        try:
            bbox = tuple(float(v) for v in a["bbox_2d"])
            if source_lines is not None and "kitti_geometry" not in a:
                return source_lines.get(geometry) == tuple(f"{v:.2f}" for v in bbox)
            return bool(box_as_imported(a, [float(v) for v in geometry[1:]], alpha_now)) and len(bbox) == 4
        except (TypeError, ValueError):
            return False

    def truncation_scale(self, i: int, lab: CuboidLabel) -> str | None:
        """The scale of a kept label's ``truncated`` in frame ``i``: the label's mark
        (:mod:`~fusionlabel.io.kitti_truncation`), else the KITTI folder the drive is (a tracking
        sequence's level, an object folder's fraction); None when unknown (written as stored)."""
        mark = lab.attributes.get(TRUNCATION_SCALE)
        if mark in SCALES:
            return mark
        if isinstance(self.drive, KittiTrackingDrive):
            return LEVEL
        return FRACTION if self.kitti_sources(i)[1] is not None else None

    def object_lines(self, i: int, T_rect_velo: np.ndarray, prefix_for=None) -> list[str]:
        """Label lines of frame ``i`` (objects, then DontCare regions of a KITTI source)."""
        rig = self.drive.rig(i)
        camera = pinhole_of(rig.camera(self.camera).camera)
        # 2D boxes in the written (levelled, undistorted) image, with this frame's exact geometry
        T_image_lidar = self.levelling(i).T_rect_cam @ self.drive.T_cam_lidar(i, self.camera)
        labels = self.labels(i)
        views = None
        lines = []
        source = self.source_label_lines(i)
        source_lines = None if source is None else {
            _geometry_key(d.type, *d.dimensions_hwl, *d.location, d.rotation_y): tuple(f"{v:.2f}" for v in d.bbox)
            for d in source if d.type != "DontCare"}
        for k, (lab, cls) in enumerate(labels):
            h, w, l, x, y, z, ry = kitti_from_cuboid(lab.box, T_rect_velo)
            alpha = kitti_alpha(x, z, ry)
            geometry = _geometry_key(cls, h, w, l, x, y, z, ry)
            if self.ground is not None and self.ground.reliable:
                tilt = np.arccos(np.clip(lab.box.rotation()[:, 2] @ self.up_lidar, -1.0, 1.0))
                self.dropped_rotation += bool(tilt >= LEVEL_TOLERANCE)
            elif not lab.box.is_upright:
                self.dropped_rotation += 1
            if lab.track_id is not None:
                self.tracked[lab.track_id].add(i)
            keep = self._keep_imported(lab, geometry, alpha, source_lines)
            scale = self.truncation_scale(i, lab) if keep else None
            # KITTI tracking's truncation is a level (0, 1, 2), KITTI object's a fraction: a kept level
            # becomes the fraction the box projects to, clamped into the level's range, a kept fraction its level
            relevel = scale == LEVEL and not self.tracking
            if views is None and (relevel or not keep):
                points = self.drive.points(i)
                warp = self.warp(i)
                views = object_views(points, [b.box for b, _ in labels], T_image_lidar, camera,
                                     seen=None if warp is None else warp[1])
            unseen = False
            if keep:
                a = lab.attributes
                occ, alpha, bbox = int(a["occluded"]), float(a["alpha"]), a["bbox_2d"]
                projected = (1.0 if views[k].rect is None else views[k].truncation) if relevel else None
                trunc = truncation_written(float(a["truncated"]), scale, LEVEL if self.tracking else FRACTION, projected)
            else:
                v = views[k]
                if v.rect is None:
                    if self.options.outside == "drop":
                        self.summary.skip(f"outside camera {self.camera} (--outside drop)", lab.label)
                        continue
                    self.outside += 1
                    unseen = True
                    trunc, occ, bbox = OUTSIDE_TRUNCATION[self.tracking], UNKNOWN_LEVEL, OUTSIDE_BBOX
                else:
                    trunc, occ, bbox = v.truncation, kitti_occlusion_level(v.occluded), v.rect
                    if self.tracking:
                        trunc = truncation_level(trunc)
            chosen = chosen_occlusion_level(lab)      # the annotator's, over the import's and the estimate
            if chosen is not None and not unseen:     # an unseen object's line stays "not in this camera"
                occ = chosen
            prefix = prefix_for(lab) if prefix_for else ""
            self.scored += lab.score is not None
            lines.append(format_kitti_line(cls, trunc, occ, alpha, bbox, (h, w, l), (x, y, z), ry, lab.score, prefix,
                                           self.tracking))
            self.summary.objects[cls] += 1
        if source is not None:
            dontcare = [d for d in source if d.type == "DontCare"]
            keep = self.options.classes is None or "DontCare" in self.options.classes
            for d in dontcare:
                if not keep:
                    self.summary.skip("class not selected (--classes)", "DontCare")
                    continue
                prefix = prefix_for(None) if prefix_for else ""
                lines.append(format_kitti_line("DontCare", d.truncated, d.occluded, d.alpha, d.bbox,
                                               d.dimensions_hwl, d.location, d.rotation_y, d.score, prefix,
                                               self.tracking))
                self.summary.objects["DontCare"] += 1
        return lines

    # ------------------------------------------------------------------ frames
    def frame_calib(self, i: int) -> tuple[np.ndarray, str]:
        """(T_rect_lidar, calib file text) for frame ``i``: the source's file of a KITTI folder, else
        :meth:`written_calib` at the frame's exact LiDAR -> camera transform."""
        src_calib = self.source_calib(i)
        if src_calib is not None:
            calib = read_kitti_calib(src_calib)
            return calib.T_rect_velo, object_calib_text(calib)
        T_rect_lidar, _, text = self.written_calib(i, self.drive.T_cam_lidar(i, self.camera))
        return T_rect_lidar, text

    def written_calib(self, i: int, T_cam_lidar: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
        """(T_rect_lidar, T_velo_vehicle, calib file text) of frame ``i``'s rig with the exported
        camera at ``T_cam_lidar`` (4, 4).

        Labels are converted with ``T_rect_lidar``: from the drive's LiDAR frame to the levelled
        camera frame (:meth:`levelling`), or for a rectified camera to its rectified frame
        (:meth:`rectified`). The file's ``R0_rect`` is the levelling, ``P0``-``P3`` are ``K [I | t]``
        with ``t`` the translation from the rectified frame to the camera (0 unless it is rectified),
        ``Tr_velo_to_cam`` is from the turned Velodyne frame (:meth:`velodyne_T`) to the real camera
        (to the rectified frame for a rectified camera) and ``Tr_imu_to_velo`` is ``T_velo_vehicle``.
        """
        rig = self.drive.rig(i)
        T_rect_cam = self.rectified(i)
        T_ref_cam = np.eye(4) if T_rect_cam is None else T_rect_cam   # KITTI's unrectified reference camera
        T_ref_lidar = T_ref_cam @ T_cam_lidar
        P = pinhole_of(rig.camera(self.camera).camera).K @ invert_T(T_ref_cam)[:3]
        lev = self.levelling(i)
        T_velo_lidar = self.velodyne_T(i)
        T_velo_lidar = np.eye(4) if T_velo_lidar is None else T_velo_lidar
        T_velo_vehicle = T_velo_lidar @ invert_T(rig.T_vehicle_lidar)
        text = calib_file_text({k: P for k in range(4)}, lev.R_rect_cam, (T_ref_lidar @ invert_T(T_velo_lidar))[:3],
                               T_velo_vehicle[:3], self.calib_keys)
        return lev.T_rect_cam @ T_ref_lidar, T_velo_vehicle, text

    def velodyne_T(self, i: int) -> np.ndarray | None:
        """``T_velo_lidar`` of frame ``i``: the turn from the drive's LiDAR frame to the written
        Velodyne frame (:func:`velodyne_turn`, from the rig's static LiDAR -> levelled camera
        transform, see :meth:`levelling`, after the mount's turn to up where check says ``lidar-up``:
        :func:`~fusionlabel.model.lidar_mount.lidar_mount`), None when there is none. A KITTI source's calibration is
        copied, so its frame is never turned."""
        if self.source_calib(i) is not None:
            return None
        rig = self.drive.rig(i)
        mount = lidar_mount(rig)
        T_up = mount.T_up_lidar()
        T = velodyne_turn(self.levelling(i).T_rect_cam @ rig.T_cam_lidar(self.camera), T_up)
        if T_up is not None:
            self.mount = mount
        if T is not None:
            T_z = T if T_up is None else T @ T_up.T                  # the turn about z alone
            if not np.allclose(T_z, np.eye(4)):
                self.turns.add(round(float(np.degrees(np.arctan2(T_z[0, 1], T_z[0, 0]))), 1))
        return T

    def frame_cameras(self, index: int) -> list[str]:
        return [self.camera] if self.camera in self.drive.frames[index].image_paths else []

    def left_out(self, index: int) -> str | None:
        """KITTI object loaders (OpenPCDet, mmdet3d) read ``image_2/<frame>.png`` for every label
        file, and KITTI tracking loaders ``image_02/<seq>/<frame>.png`` for every frame (many count
        a sequence's frames by its images), so when images are written and the drive has them, a
        frame without one is left out. A drive with no image of the camera at all and
        ``--labels-only`` (:attr:`ExportOptions.labels_only_words`) write every frame."""
        if not self.options.sensor_data or self.camera in self.drive.frames[index].image_paths:
            return None
        if self._has_images is None:
            self._has_images = any(self.camera in self.drive.frames[i].image_paths for i in self.frames)
        if not self._has_images:
            return None
        return (f"no {self.camera} image; frame left out ({self.image_rule}; "
                f"{self.options.labels_only_words} writes it)")

    image_rule = "KITTI loaders read image_2/ for every label file"

    def write_sensor_data(self, i: int, velodyne_rel: str, image_rel: str) -> None:
        f = self.drive.frames[i]
        lidar = f.lidar_path
        points = self.sweep_to_write(i)       # no points: an empty (0-byte) file
        T_velo_lidar = self.velodyne_T(i)
        if T_velo_lidar is None and lidar.suffix == ".bin" and not lidar.name.endswith(".pcd.bin"):
            self.copy_file(lidar, velodyne_rel)
        else:
            pts = (np.ascontiguousarray(points[:, :4], dtype="<f4") if T_velo_lidar is None
                   else turned_points(points, T_velo_lidar))
            self.write_bytes(velodyne_rel, pts.tobytes())
            if len(pts) and float(pts[:, 3].max()) > 1.0:
                self.summary.note("intensity is written as in the source (values above 1); KITTI's reflectance is 0..1")
        if self.camera not in f.image_paths:    # only when no frame has one (left_out)
            self.imageless = True
            return
        self.images_written += 1
        warp = self.warp(i)
        src = f.image_paths[self.camera]
        if warp is None and src.suffix.lower() == ".png":
            self.copy_file(src, image_rel)
            return
        from ..io.images import write_image

        image = self.drive.image(i, self.camera)
        if warp is not None:      # one resampling: undistortion and levelling
            image = undistort_image(image, warp[0])
        write_image(self.path(image_rel), image)
        self.summary.files += 1

    def note_missing_label_file(self, i: int) -> None:
        """List frame ``i`` in the summary when it comes from a KITTI folder without its label file
        and the drive's own labels are exported (it is then written with no objects)."""
        src_calib, src_label = self.kitti_sources(i)
        if src_calib is not None and src_label is None and self.labels_for == self.drive.labels:
            self.summary.without_label_file.append(self.drive.frames[i].frame_id)

    def add_frame(self, i: int) -> None:
        name = self.names[i]
        self.note_missing_label_file(i)
        T_rect_velo, calib_text = self.frame_calib(i)
        lines = self.object_lines(i, T_rect_velo)
        self.write_text(f"{self.label_dir}/{name}.txt", "".join(line + "\n" for line in lines))
        self.write_text(f"calib/{name}.txt", calib_text)
        if self.options.sensor_data:
            self.write_sensor_data(i, f"velodyne/{name}.bin", f"image_2/{name}.png")
        self.frame_list.append(f"{name} {self.drive.frames[i].frame_id}")

    def finish(self) -> None:
        self.write_text("frames.txt", "".join(line + "\n" for line in self.frame_list))
        self.add_notes()

    def add_notes(self) -> None:
        rig = self.drive.rig(self.frames[0] if self.frames else 0)
        images = self.images_written > 0     # else calib and 2D boxes describe a camera no image is written of
        if self.imageless:
            self.summary.note(f"no exported frame has a {self.camera} image, so no image file was written")
        if rig.camera(self.camera).camera.distortion != ():
            self.summary.note(f"camera {self.camera} has lens distortion; KITTI is pinhole-only: calib holds its "
                              "intrinsics without distortion, " + (
                                  "images are undistorted to it and 2D boxes refer to the undistorted images"
                                  if images else "and 2D boxes refer to that undistorted camera (no image was "
                                                 "written)"))
        self.note_ground()
        self.note_empty_sweeps(".bin")
        vertical = "the ground's normal" if self.ground is not None and self.ground.reliable else "the vehicle's vertical"
        for angle, pitch, roll in sorted(self.tilts):
            rotated = (f"images are rotated by {angle:g} degrees into that levelled camera (same K; unseen corners "
                       "are black); 3D and 2D boxes refer to the rotated images" if images else
                       "3D and 2D boxes refer to that levelled camera (no image was written)")
            self.summary.note(f"camera {self.camera} is tilted {angle:g} degrees against {vertical} "
                              f"({_tilt_words(pitch, roll)}); KITTI boxes turn about the rectified y axis "
                              f"only, so R0_rect levels the camera and {rotated}")
        if self.unlevelled:
            self.summary.note(f"camera {self.camera} looks almost straight up or down and cannot be levelled: "
                              "3D boxes turn about its own y axis, which is not vertical")
        if self.dropped_rotation:
            against = " against the ground's normal" if self.ground is not None and self.ground.reliable else ""
            self.summary.note(f"pitch and roll of {self.dropped_rotation} box(es){against} (KITTI boxes only rotate "
                              "about the camera's vertical axis)")
        if self.outside:
            self.summary.note(f"{self.outside} object(s) outside camera {self.camera}: kept with 2D box -1 -1 -1 -1, "
                              f"truncated {OUTSIDE_TRUNCATION[self.tracking]}, occluded 3 (use --outside drop "
                              "to leave them out)")
        if self.turns:
            angles = ", ".join(f"{a:g}" for a in sorted(self.turns))
            self.summary.note(f"the drive's LiDAR is not x-forward (camera {self.camera} looks at azimuth {angles} "
                              "degrees): velodyne/, Tr_velo_to_cam and Tr_imu_to_velo are in the LiDAR frame turned "
                              "about z by that angle, so that +x points where the camera looks, as KITTI's tools "
                              "assume; labels (camera frame) are unchanged")
        if self.mount is not None:
            m = self.mount
            turn = ("half a turn about x (y and z negated)" if m.how == "upside down"
                    else f"by {m.tilt_deg:.0f} degrees to the vehicle's up")
            self.summary.note(f"the drive's LiDAR is mounted {m.how} ({m.tilt_deg:.0f} degrees from the vehicle's up, "
                              "check's lidar-up): velodyne/, Tr_velo_to_cam and Tr_imu_to_velo are in its frame "
                              f"turned {turn} (any turn about z above comes after it), so that z points up as "
                              "KITTI's tools assume; labels (camera frame) are unchanged")
        if self.scored:
            self.summary.note(f"{self.scored} line(s) of pre-labels end with a score, a field after the 15 "
                              "of a label line (KITTI's format for detector results); loaders that read "
                              "the first 15 fields are unaffected")
        if self.unknown_classes:
            names = ", ".join(f"{c} ({n})" for c, n in sorted(self.unknown_classes.items()))
            self.summary.note(f"class names outside KITTI's types ({', '.join(KITTI_TYPES[:-1])}) written unchanged: "
                              f"{names}")
        self.note_common()

    def note_ground(self) -> None:
        """Say where "up" came from when the rig has no vehicle frame."""
        g = self.ground
        if g is None:
            return
        if not g.reliable:
            self.summary.note(f"the rig has no vehicle frame (its LiDAR's stands in) and the ground gave no reliable "
                              f"'up': {g.reason}; cameras are levelled against the LiDAR's z axis, which may not be "
                              "vertical")
            return
        used = int((g.counts >= UP_MIN_POINTS).sum())
        slope_x, slope_y = (float(np.degrees(np.arctan2(-g.up[k], g.up[2]))) for k in (0, 1))
        self.summary.note(f"the rig has no vehicle frame (its LiDAR's stands in), so 'up' is the normal of the ground "
                          f"within {UP_RANGE:g} m of the LiDAR, the median over {used} of {len(g.counts)} sweeps "
                          f"(they agree within {np.degrees(g.spread):.2f} degrees): the LiDAR's z axis is "
                          f"{np.degrees(g.tilt):.2f} degrees off it (ground slope {slope_x:.2f} along x, {slope_y:.2f} "
                          "along y, in degrees); cameras are levelled against it")

    def note_common(self) -> None:
        # Only tracks seen in two frames or more link anything (a KITTI object project numbers every box).
        linked = [frames for frames in self.tracked.values() if len(frames) > 1]
        if linked:
            self.summary.note(f"track IDs linking {sum(map(len, linked))} object(s) across frames (use kitti-tracking "
                              "or openlabel to keep them)")
        self.summary.note("label sources and attributes other than KITTI's fields")
