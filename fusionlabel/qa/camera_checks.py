"""Calibration checks of one camera: mistakes that load fine and only show as misplaced or missing
points (an inverted extrinsic, a quaternion in x, y, z, w order, rpy in radians, intrinsics of another
image size, lens coefficients that fold back inside the image, a translation in centimetres).

Each check looks at the rig alone (:func:`static_findings`) or at how many LiDAR points land in the
camera's image (:func:`coverage`, :func:`coverage_finding`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..geometry.cameras import CameraModel, FisheyeCamera, RadTanCamera, calibrated_image_size
from ..geometry.cuboid_projection import view_near
from ..geometry.projection import project_points
from ..geometry.transforms import transform_points
from ..model.rig import CameraSensor, Rig
from .findings import ERROR, WARNING, Finding
from .lens_checks import lens_map_finding, tangential_finding

# Points this far from the camera (m) count for the coverage: nearer ones are the ego vehicle and
# what rides on it; farther ones are too sparse to say anything.
COVERAGE_RANGE = (2.0, 60.0)
# A camera seeing fewer than this share of the points in front of it sees "almost none". Correct rigs
# show 25-100 % (KITTI, nuScenes, SUSTech, the simulator); a narrow telephoto lens a few per cent.
ALMOST_NONE = 0.005
# The image's down may be this far (deg) from the vehicle's down before it counts as upside down or
# turned; real cameras are mounted within a few degrees.
MAX_ROLL_DEG = 30.0
# A camera whose optical axis rises more than this above the horizon (deg) looks at the sky.
MAX_PITCH_UP_DEG = 45.0
# Principal point farther than this share of the image size from the centre: intrinsics of another size.
MAX_CENTRE_OFFSET = 0.2
# A camera farther than this from the reference LiDAR (m): a translation in centimetres.
MAX_CAMERA_DISTANCE = 20.0

EXTRINSIC_REMEDY = ("check its extrinsic: T_parent_sensor takes camera points to the parent (invert a LiDAR->camera "
                    "calibration), quaternions are w, x, y, z, rpy_deg is in degrees (calib/README.md)")


@dataclass(frozen=True)
class Orientation:
    """Where a camera looks in the vehicle frame (the reference LiDAR's for a rig without one):
    ``pitch_up_deg`` of its optical axis above the horizon, ``down_off_deg`` the angle between the
    image's down (camera +y) and the vehicle's down as seen in the image (0 upright, 180 upside
    down; None when the camera looks nearly straight up or down), ``distance_m`` from the
    reference LiDAR. ``inverse_unseen``: the frames (``"LiDAR"``, ``"vehicle"``) against which the
    camera's extrinsic, written inverted, would pass the orientation checks too (its rotation there is
    close to its own inverse, as a camera looking along the frame's -y), so only ``render`` shows
    that mistake."""

    pitch_up_deg: float
    down_off_deg: float | None
    distance_m: float
    inverse_unseen: tuple[str, ...] = ()


def orientation(sensor: CameraSensor, rig: Rig) -> Orientation:
    """The :class:`Orientation` of ``sensor`` on ``rig``."""
    T_vehicle_cam = np.asarray(sensor.T_vehicle_sensor, np.float64)
    T_vehicle_lidar = np.asarray(rig.T_vehicle_lidar, np.float64)
    inverted = {"LiDAR": T_vehicle_lidar @ np.linalg.inv(np.linalg.inv(T_vehicle_lidar) @ T_vehicle_cam),
                "vehicle": np.linalg.inv(T_vehicle_cam)}
    if not rig.vehicle_frame:          # the LiDAR's frame is the vehicle's: one and the same mistake
        del inverted["vehicle"]
    unseen = tuple(frame for frame, T in inverted.items()
                   if not orientation_findings(sensor.name, _orientation_of(T, rig)))
    return replace(_orientation_of(T_vehicle_cam, rig), inverse_unseen=unseen)


def _orientation_of(T_vehicle_cam: np.ndarray, rig: Rig) -> Orientation:
    R = T_vehicle_cam[:3, :3]
    x_cam, y_cam, z_cam = R[:, 0], R[:, 1], R[:, 2]
    down = np.array([0.0, 0.0, -1.0])
    pitch_up = math.degrees(math.asin(float(np.clip(-down @ z_cam, -1.0, 1.0))))
    down_in_image = down - (down @ z_cam) * z_cam      # the vehicle's down projected onto the image plane
    off = None
    if np.linalg.norm(down_in_image) > 0.3:             # optical axis more than ~17 deg off the vertical
        off = math.degrees(math.atan2(float(down_in_image @ x_cam), float(down_in_image @ y_cam)))
    lidar_at = np.asarray(rig.T_vehicle_lidar, np.float64)[:3, 3]
    return Orientation(pitch_up, off, float(np.linalg.norm(T_vehicle_cam[:3, 3] - lidar_at)))


def orientation_findings(name: str, o: Orientation) -> list[Finding]:
    """A camera looking at the sky, one whose image is turned or upside down, one far from the LiDAR."""
    out = []
    if o.pitch_up_deg > MAX_PITCH_UP_DEG:
        out.append(Finding(ERROR, name, "image-down",
                           f"its optical axis points {o.pitch_up_deg:.0f} deg above the horizon (into the sky): "
                           "the extrinsic rotation is wrong (rpy_deg written in radians, or a quaternion in x, y, z, "
                           "w order?)", EXTRINSIC_REMEDY, value=o.pitch_up_deg, threshold=MAX_PITCH_UP_DEG,
                           unit="deg"))
    elif o.down_off_deg is not None and abs(o.down_off_deg) > MAX_ROLL_DEG:
        out.append(Finding(ERROR, name, "image-down",
                           f"the image's down (camera +y) is {abs(o.down_off_deg):.0f} deg off the vehicle's down"
                           f"{' (upside down)' if abs(o.down_off_deg) > 150 else ''}: the extrinsic is probably "
                           "inverted (T_sensor_parent given for T_parent_sensor), its matrix transposed or its "
                           "quaternion in x, y, z, w order", EXTRINSIC_REMEDY, value=abs(o.down_off_deg),
                           threshold=MAX_ROLL_DEG, unit="deg"))
    if o.distance_m > MAX_CAMERA_DISTANCE:
        out.append(Finding(ERROR, name, "camera-distance",
                           f"it sits {o.distance_m:.1f} m from the reference LiDAR: the translation is probably in "
                           "centimetres", "write extrinsic translations in metres", value=o.distance_m,
                           threshold=MAX_CAMERA_DISTANCE, unit="m"))
    return out


def principal_point_finding(name: str, camera: CameraModel) -> Finding | None:
    """A principal point far from the image centre: intrinsics (K) of another image size (a
    calibration at full resolution used with half-size images, or the reverse)."""
    w, h = camera.width, camera.height
    off_x, off_y = (camera.cx - (w - 1) / 2) / w, (camera.cy - (h - 1) / 2) / h
    if max(abs(off_x), abs(off_y)) <= MAX_CENTRE_OFFSET:
        return None
    where = (f"the principal point ({camera.cx:g}, {camera.cy:g}) is {abs(off_x):.0%} of the width and "
             f"{abs(off_y):.0%} of the height off the centre of the {w}x{h} image")
    fit = calibrated_image_size(camera.cx, camera.cy, w, h)
    if fit is not None:
        return Finding(ERROR, name, "principal-point",
                       f"{where}: the intrinsics look like those of a {fit[0]}x{fit[1]} image",
                       f"scale fx, fy, cx, cy by {w / (2 * camera.cx + 1):.3g} to fit the {w}x{h} images "
                       "(cx, cy: (c + 0.5) * scale - 0.5), or give the images the calibration was made for")
    return Finding(WARNING, name, "principal-point", f"{where} (a crop of a larger image?)",
                   "check that fx, fy, cx, cy belong to images of this size")


def fold_pixels(camera: CameraModel) -> np.ndarray | None:
    """Pixels (720, 2) where the lens model folds back (the largest angle it projects
    unambiguously, all round the optical axis), or None when it never folds."""
    phi = np.linspace(0.0, 2.0 * np.pi, 720, endpoint=False)
    if isinstance(camera, RadTanCamera) and math.isfinite(camera.valid_radius):
        r = camera.valid_radius
        rays, near = np.c_[r * np.cos(phi), r * np.sin(phi), np.ones_like(phi)], 0.1
    elif isinstance(camera, FisheyeCamera) and camera.valid_theta < math.pi:
        t = camera.valid_theta
        rays, near = np.c_[math.sin(t) * np.cos(phi), math.sin(t) * np.sin(phi), np.full_like(phi, math.cos(t))], -math.inf
    else:
        return None
    return camera.project(rays, near=near).uv


def lens_fold_finding(name: str, camera: CameraModel) -> Finding | None:
    """Distortion coefficients whose model folds back inside the image: pixels beyond the fold show
    no point at all (a failed calibration, or fisheye coefficients under ``model: radtan``)."""
    uv = fold_pixels(camera)
    if uv is None:
        return None
    inside = camera.in_bounds(uv)
    if not inside.any():
        return None
    centre = np.array([camera.cx, camera.cy])
    fold = float(np.hypot(*(uv[inside] - centre).T).min())
    corners = np.array([[-0.5, -0.5], [camera.width - 0.5, -0.5], [-0.5, camera.height - 0.5],
                        [camera.width - 0.5, camera.height - 0.5]])
    corner = float(np.hypot(*(corners - centre).T).max())
    edge = float(min(camera.cx + 0.5, camera.width - 0.5 - camera.cx, camera.cy + 0.5, camera.height - 0.5 - camera.cy))
    severity = ERROR if fold < edge else WARNING
    return Finding(severity, name, "lens-fold",
                   f"the {camera.model} lens model folds back {fold:.0f} px from the principal point, inside the image "
                   f"(corners {corner:.0f} px away, nearest edge {edge:.0f} px): no point can be drawn beyond it",
                   "check the distortion coefficients (fisheye coefficients need model: fisheye)")


def static_findings(rig: Rig, cameras: list[CameraSensor] | None = None) -> dict[str, list[Finding]]:
    """Findings from the rig alone, per camera name, for ``cameras`` (default: all of the rig's)."""
    out = {}
    for sensor in rig.cameras if cameras is None else cameras:
        found = orientation_findings(sensor.name, orientation(sensor, rig))
        fold = lens_fold_finding(sensor.name, sensor.camera)
        lens = fold or lens_map_finding(sensor) or tangential_finding(sensor)   # one lens finding, the worst
        found += [f for f in (principal_point_finding(sensor.name, sensor.camera), lens) if f is not None]
        out[sensor.name] = found
    return out


@dataclass
class Coverage:
    """LiDAR points of a camera, summed over the frames checked: ``in_front`` within
    :data:`COVERAGE_RANGE` of the camera and in front of it (or in its image, for a fisheye seeing
    behind its image plane), ``in_image`` of those, the ones that land in its image."""

    frames: int = 0
    in_front: int = 0
    in_image: int = 0

    @property
    def share(self) -> float | None:
        return self.in_image / self.in_front if self.in_front else None

    def add(self, points_lidar: np.ndarray, T_cam_lidar: np.ndarray, camera: CameraModel) -> None:
        """Count one frame's sweep (N, C) for the camera at ``T_cam_lidar``."""
        points = np.asarray(points_lidar)
        self.frames += 1
        if len(points) == 0:
            return
        xyz_cam = transform_points(T_cam_lidar, points[:, :3].astype(np.float64))
        distance = np.linalg.norm(xyz_cam, axis=1)
        in_range = (distance >= COVERAGE_RANGE[0]) & (distance <= COVERAGE_RANGE[1])
        seen = np.zeros(len(points), bool)
        seen[project_points(points, T_cam_lidar, camera, near=view_near(camera)).index] = True
        self.in_front += int((in_range & ((xyz_cam[:, 2] > 0) | seen)).sum())
        self.in_image += int((in_range & seen).sum())


def few_points_text(points: int) -> str:
    """How render and check say a camera got no or hardly any LiDAR points."""
    return "no LiDAR point falls in this camera" if points == 0 else f"only {points} LiDAR points fall in this camera"


def coverage_finding(name: str, c: Coverage) -> Finding | None:
    """None or almost none of the points in front of the camera reach its image."""
    lo, hi = COVERAGE_RANGE
    if c.frames == 0:
        return None
    if c.in_front == 0:
        return Finding(ERROR, name, "coverage",
                       f"no LiDAR point lies {lo:g}-{hi:g} m in front of this camera in {c.frames} frame(s): it "
                       "looks at the sky or away from the sweep", EXTRINSIC_REMEDY)
    if c.in_image > ALMOST_NONE * c.in_front:
        return None
    return Finding(ERROR, name, "coverage",
                   f"{few_points_text(c.in_image)}: {c.in_image:,} of the {c.in_front:,} points {lo:g}-{hi:g} m in "
                   f"front of it in {c.frames} frame(s)", EXTRINSIC_REMEDY, value=c.in_image / c.in_front,
                   threshold=ALMOST_NONE, unit="share of the points in front")
