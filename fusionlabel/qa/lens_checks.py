"""Calibration check of a camera's lens coefficients: a distortion that does not map the image one
to one, what coefficients of another model (Kannala-Brandt fisheye under ``model: radtan``) or in
the wrong order (k1, k2, k3, p1, p2 for OpenCV's k1, k2, p1, p2, k3) give.

The undistorted directions the image covers are sampled along 360 rays from the optical axis, the
tangential terms included (``lens-fold`` looks at the radial polynomial alone): the distorted
point must move away from the principal point for as long as it is inside the image. And the
directions of the image corners (through a pinhole of the same K) must land near the corners:
real lenses pull them in (barrel) or push them out by a few per cent (pincushion).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..geometry.cameras import CameraModel, FisheyeCamera, RadTanCamera
from ..model.rig import CameraSensor
from .findings import ERROR, WARNING, Finding

RAYS = 360             # directions round the optical axis
STEPS = 600            # angles along each, from the axis out to MAX_ANGLE_DEG (radtan) or 180 deg (fisheye)
MAX_ANGLE_DEG = 89.0   # a radial-tangential lens cannot see 90 deg off its axis
# The corners' directions may land this many times as far from the principal point as the corners.
MAX_CORNER_RATIO = 1.25

# Tangential coefficients (p1, p2) of real lenses are small (decentring): KITTI raw's cameras about
# 0.002, EuRoC's 2e-4, the example rig's 8e-4. A larger one is most often a radial coefficient in
# its place (k3 written third).
MAX_TANGENTIAL = 0.02

CAUSES = ("likely coefficients of another model (Kannala-Brandt / OpenCV fisheye k1..k4 under model: radtan) "
          "or in the wrong order (OpenCV's radtan is k1, k2, p1, p2[, k3]: k1, k2, k3, p1, p2 puts k3 into p1)")


def _where(sensor: CameraSensor) -> str:
    """The file and key of the camera's distortion coefficients, as far as the reader said."""
    if sensor.source is None:
        return f"camera {sensor.name}'s distortion"
    path, prefix = sensor.source
    return f"{path}: {prefix}distortion"


def folded_rays(camera: CameraModel) -> tuple[int, float | None]:
    """(directions out of :data:`RAYS` along which the distorted point turns back towards the
    principal point while still inside the image, the smallest such distance in pixels or None)."""
    phi = np.linspace(0.0, 2.0 * np.pi, RAYS, endpoint=False)
    fisheye = isinstance(camera, FisheyeCamera)
    top = math.pi * (1.0 - 1e-6) if fisheye else math.radians(MAX_ANGLE_DEG)
    theta = np.linspace(0.0, top, STEPS + 1)[1:]
    s, c = np.sin(theta)[:, None], np.cos(theta)[:, None]
    rays = np.stack([s * np.cos(phi), s * np.sin(phi), np.broadcast_to(c, (STEPS, RAYS))], axis=-1)
    uv = camera.project(rays.reshape(-1, 3), near=-math.inf if fisheye else 0.0).uv.reshape(STEPS, RAYS, 2)
    with np.errstate(invalid="ignore"):
        rho = np.hypot(uv[..., 0] - camera.cx, uv[..., 1] - camera.cy)
        inside = camera.in_bounds(uv.reshape(-1, 2)).reshape(STEPS, RAYS)
        still = np.logical_and.accumulate(inside, axis=0)[1:]     # not yet out of the image
        back = ~(np.diff(rho, axis=0) > 0.0)                        # turns back (or breaks down)
    bad = back & still
    rays_bad = bad.any(axis=0)
    if not rays_bad.any():
        return 0, None
    first = bad.argmax(axis=0)[rays_bad]                            # where each such ray first turns back
    return int(rays_bad.sum()), float(rho[first, np.flatnonzero(rays_bad)].min())


def corner_ratio(camera: CameraModel) -> tuple[float, float]:
    """(largest ratio of a distorted corner direction's distance from the principal point to its
    corner's, that distance in pixels): the directions a pinhole with the same K sees at the image
    corners, distorted."""
    corners = np.array([[-0.5, -0.5], [camera.width - 0.5, -0.5], [-0.5, camera.height - 0.5],
                        [camera.width - 0.5, camera.height - 0.5]])
    centre = np.array([camera.cx, camera.cy])
    xy = (corners - centre) / [camera.fx, camera.fy]
    uv = camera.project(np.c_[xy, np.ones(4)], near=0.0).uv
    with np.errstate(invalid="ignore"):
        ratio = np.hypot(*(uv - centre).T) / np.hypot(*(corners - centre).T)
    k = int(np.nanargmax(ratio)) if np.isfinite(ratio).any() else 0
    if not np.isfinite(ratio[k]):
        return math.inf, math.inf
    return float(ratio[k]), float(ratio[k] * np.hypot(*(corners[k] - centre)))


@lru_cache(maxsize=64)
def _lens_map(camera: CameraModel) -> tuple[int, float | None, float, float]:
    """:func:`folded_rays` and :func:`corner_ratio` of ``camera``, once per camera (check sees the
    same rig in every checked frame)."""
    return (*folded_rays(camera), *corner_ratio(camera))


def lens_map_finding(sensor: CameraSensor) -> Finding | None:
    """An error when the camera's distortion does not map its image one to one (it turns back
    inside the image) or sends the corners' directions far outside it; None for a pinhole."""
    camera = sensor.camera
    if not any(camera.distortion):
        return None
    n, fold, ratio, reach = _lens_map(camera)
    coeffs = ", ".join(f"{c:g}" for c in camera.distortion)
    head = f"{_where(sensor)} [{coeffs}] ({camera.model}) does not map the {camera.width}x{camera.height} image one to one: "
    if n:
        what = (f"along {n} of {RAYS} directions from the principal point the distorted point turns back "
                f"(d r_distorted / d r <= 0) {fold:.0f} px out, still inside the image")
        value, threshold, unit = fold, None, "px"
    elif ratio > MAX_CORNER_RATIO:
        what = (f"the directions of the image corners land {ratio:.2f} times as far out as the corners ({reach:.0f} px "
                f"from the principal point, far outside the image; real lenses move them by a few per cent at most)")
        value, threshold, unit = ratio, MAX_CORNER_RATIO, None
    else:
        return None
    return Finding(ERROR, sensor.name, "lens-map", f"{head}{what}: {CAUSES}",
                   f"check {_where(sensor)} against the calibration tool's output: model (radtan or fisheye) and "
                   "coefficient order (calib/README.md, \"Camera models\")", value=value, threshold=threshold, unit=unit)


def tangential_finding(sensor: CameraSensor) -> Finding | None:
    """A warning when a radial-tangential lens's p1 or p2 is larger than real lenses' are
    (:data:`MAX_TANGENTIAL`): most often k3 written in p1's place."""
    camera = sensor.camera
    if not isinstance(camera, RadTanCamera) or len(camera.distortion) < 4:
        return None
    p = max(abs(camera.distortion[2]), abs(camera.distortion[3]))
    if p <= MAX_TANGENTIAL:
        return None
    coeffs = ", ".join(f"{c:g}" for c in camera.distortion)
    return Finding(WARNING, sensor.name, "lens-tangential",
                   f"{_where(sensor)} [{coeffs}]: a tangential coefficient (p1, p2: the third and fourth) of {p:g}; "
                   f"real lenses' are below {MAX_TANGENTIAL:g} (KITTI's about 0.002): likely a radial coefficient in "
                   "its place (OpenCV's radtan order is k1, k2, p1, p2, k3; k1, k2, k3, p1, p2 puts k3 into p1)",
                   f"check the order of {_where(sensor)} against the calibration tool's output (calib/README.md, "
                   "\"Camera models\")", value=p, threshold=MAX_TANGENTIAL)
