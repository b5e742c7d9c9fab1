"""Camera models: pinhole, OpenCV radial-tangential (5 or 8 coefficients) and OpenCV fisheye.

All models work in OpenCV's camera frame (x right, y down, z forward) and OpenCV's pixel
convention: pixel ``(i, j)`` has its centre at ``(u, v) = (i, j)``, so the image covers
``-0.5 <= u < width - 0.5`` and ``-0.5 <= v < height - 0.5``.

Normalised image coordinates are ``(x, y) = (X / Z, Y / Z)``; ``distort`` maps them to distorted
normalised coordinates ``(x_d, y_d)`` and ``u = fx * x_d + cx``, ``v = fy * y_d + cy`` (no skew).
The formulas are exactly those of ``cv2.projectPoints`` (radtan) and ``cv2.fisheye.projectPoints``.

Validity region: a distortion polynomial folds back beyond some radius, so points far outside the
field of view can land inside the image. Each camera computes ``valid_radius`` once at construction:
the largest undistorted normalised radius up to which ``r -> r_d`` increases monotonically.
Projections beyond it are never ``in_image``; ``unproject`` only returns rays inside it.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numpy as np

# Radial search limit for radial-tangential models (r = tan(angle off axis); 10 is ~84 degrees).
RADTAN_SEARCH_LIMIT = 10.0
# Newton iteration caps and tolerances for unprojection.
_NEWTON_MAX_ITER = 50
_BISECT_MAX_ITER = 200


class Projection(NamedTuple):
    """Result of :meth:`CameraModel.project` for N points.

    uv: (N, 2) float64 pixels (NaN where not ``in_front``); depth: (N,) float64 camera z;
    in_front: (N,) bool, ``z > near``; in_image: (N,) bool, in front at finite depth, inside the
    valid distortion region and inside the image (pixel-centre convention).
    """

    uv: np.ndarray
    depth: np.ndarray
    in_front: np.ndarray
    in_image: np.ndarray


def _as_points(a: np.ndarray, cols: int, name: str) -> np.ndarray:
    """``a`` as a float64 (N, cols) array (extra columns dropped); ValueError otherwise."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1 and a.shape[0] >= cols:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] < cols:
        raise ValueError(f"{name} must have shape (N, {cols}), got {a.shape}")
    return a[:, :cols]


def _first_fold(derivative, limit: float, samples: int = 100_001) -> float:
    """Smallest t in (0, limit] where ``derivative(t) <= 0`` (or is not finite); ``inf`` if none.

    ``derivative`` maps a float64 array to a float64 array. The grid hit is refined by bisection
    to float64 resolution.
    """
    t = np.linspace(0.0, limit, samples)
    with np.errstate(all="ignore"):
        bad = ~(derivative(t) > 0.0)
    bad[0] = False
    hits = np.flatnonzero(bad)
    if hits.size == 0:
        return math.inf
    lo, hi = float(t[hits[0] - 1]), float(t[hits[0]])
    for _ in range(_BISECT_MAX_ITER):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        with np.errstate(all="ignore"):
            ok = bool(derivative(np.array([mid]))[0] > 0.0)
        if ok:
            lo = mid
        else:
            hi = mid
    return lo


@dataclass(frozen=True)
class CameraModel(ABC):
    """A calibrated camera: image size, intrinsics and lens distortion.

    Attributes:
        width, height: image size in pixels.
        fx, fy, cx, cy: focal lengths and principal point in pixels.
        distortion: model-specific coefficients (see subclasses).
        model: class attribute naming the model ("pinhole", "radtan", "fisheye").
        valid_radius: (computed) largest undistorted normalised radius ``sqrt(x^2 + y^2)`` that
            projects unambiguously; ``inf`` when distortion never folds back.
    """

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    distortion: tuple[float, ...] = ()

    model: ClassVar[str] = ""
    # Accepted numbers of distortion coefficients.
    n_coefficients: ClassVar[tuple[int, ...]] = (0,)

    def __post_init__(self):
        name = type(self).__name__
        for attr in ("width", "height"):
            value = getattr(self, attr)
            if isinstance(value, bool) or not float(value).is_integer() or int(value) <= 0:
                raise ValueError(f"{name}.{attr} must be a positive integer, got {value!r}")
            object.__setattr__(self, attr, int(value))
        for attr in ("fx", "fy", "cx", "cy"):
            value = float(getattr(self, attr))
            if not math.isfinite(value):
                raise ValueError(f"{name}.{attr} must be finite, got {value!r}")
            object.__setattr__(self, attr, value)
        if not (self.fx > 0.0 and self.fy > 0.0):
            raise ValueError(f"{name} focal lengths must be positive, got fx={self.fx}, fy={self.fy}")
        coeffs = tuple(float(c) for c in np.asarray(self.distortion, dtype=np.float64).reshape(-1))
        if len(coeffs) not in self.n_coefficients:
            expected = " or ".join(str(n) for n in self.n_coefficients)
            raise ValueError(
                f"{name} (model '{self.model}') takes {expected} distortion coefficients, got {len(coeffs)}"
            )
        if not all(math.isfinite(c) for c in coeffs):
            raise ValueError(f"{name} distortion coefficients must be finite, got {coeffs}")
        object.__setattr__(self, "distortion", coeffs)
        self._setup()

    def _setup(self) -> None:
        """Precompute model constants (called once from ``__post_init__``)."""
        object.__setattr__(self, "_valid_radius", math.inf)

    @property
    def valid_radius(self) -> float:
        """Largest undistorted normalised radius ``sqrt(x^2 + y^2)`` projected unambiguously (cached)."""
        return self._valid_radius

    # ------------------------------------------------------------------ intrinsics
    @property
    def K(self) -> np.ndarray:
        """Intrinsic matrix, (3, 3) float64."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.width, self.height

    def in_bounds(self, uv: np.ndarray) -> np.ndarray:
        """(N,) bool: pixel inside the image, ``-0.5 <= u < width - 0.5`` (same for v); NaN is out."""
        uv = np.asarray(uv, dtype=np.float64)
        u, v = uv[:, 0], uv[:, 1]
        with np.errstate(invalid="ignore"):
            return (u >= -0.5) & (u < self.width - 0.5) & (v >= -0.5) & (v < self.height - 0.5)

    # ------------------------------------------------------------------ projection
    def _check_near(self, near: float) -> float:
        near = float(near)
        if not (math.isfinite(near) and near >= 0.0):
            raise ValueError(f"near must be finite and >= 0 for a {self.model} camera, got {near}")
        return near

    def project(self, points_cam: np.ndarray, near: float = 0.1) -> Projection:
        """Project camera-frame points (N, 3+) (extra columns ignored) to pixels; see :class:`Projection`."""
        near = self._check_near(near)
        p = _as_points(points_cam, 3, "points_cam")
        z = p[:, 2].copy()
        with np.errstate(all="ignore"):
            in_front = z > near
            xy_d, valid = self._distort_points(p)
            uv = np.empty_like(xy_d)
            uv[:, 0] = self.fx * xy_d[:, 0] + self.cx
            uv[:, 1] = self.fy * xy_d[:, 1] + self.cy
            uv[~in_front] = np.nan
        in_image = in_front & (z < math.inf) & valid & self.in_bounds(uv)
        return Projection(uv, z, in_front, in_image)

    @abstractmethod
    def _distort_points(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Camera-frame points (N, 3) -> distorted normalised coords (N, 2) and (N,) bool valid region."""

    # ------------------------------------------------------------------ unprojection
    def unproject(self, uv: np.ndarray) -> np.ndarray:
        """Pixels (N, 2) -> unit ray directions (N, 3) float64 in the camera frame.

        Rows are NaN for pixels that no point inside the valid region projects to.
        """
        uv = _as_points(uv, 2, "uv")
        xy_d = np.empty_like(uv)
        xy_d[:, 0] = (uv[:, 0] - self.cx) / self.fx
        xy_d[:, 1] = (uv[:, 1] - self.cy) / self.fy
        with np.errstate(all="ignore"):
            return self._rays_from_distorted(xy_d)

    def _rays_from_distorted(self, xy_d: np.ndarray) -> np.ndarray:
        """Distorted normalised coords (N, 2) -> unit rays (N, 3); default via :meth:`undistort`."""
        xy = self.undistort(xy_d)
        rays = np.empty((xy.shape[0], 3))
        rays[:, :2] = xy
        rays[:, 2] = 1.0
        rays /= np.linalg.norm(rays, axis=1, keepdims=True)
        return rays

    @abstractmethod
    def distort(self, xy: np.ndarray) -> np.ndarray:
        """Undistorted normalised coords (N, 2) -> distorted normalised coords (N, 2)."""

    @abstractmethod
    def undistort(self, xy_d: np.ndarray) -> np.ndarray:
        """Distorted normalised coords (N, 2) -> undistorted (N, 2); NaN where no valid solution."""


@dataclass(frozen=True)
class PinholeCamera(CameraModel):
    """Ideal pinhole camera, no distortion (``distortion == ()``)."""

    model: ClassVar[str] = "pinhole"
    n_coefficients: ClassVar[tuple[int, ...]] = (0,)

    def _distort_points(self, p):
        xy = p[:, :2] * (1.0 / p[:, 2:3])
        return xy, np.ones(p.shape[0], dtype=bool)

    def distort(self, xy):
        return _as_points(xy, 2, "xy").copy()

    def undistort(self, xy_d):
        return _as_points(xy_d, 2, "xy_d").copy()


@dataclass(frozen=True)
class RadTanCamera(CameraModel):
    """OpenCV radial-tangential ("plumb bob" / rational) model, as ``cv2.projectPoints``.

    ``distortion`` = (k1, k2, p1, p2[, k3[, k4, k5, k6]]) with 4, 5 or 8 coefficients::

        r2 = x^2 + y^2
        g = (1 + k1 r2 + k2 r2^2 + k3 r2^3) / (1 + k4 r2 + k5 r2^2 + k6 r2^3)
        x_d = x g + 2 p1 x y + p2 (r2 + 2 x^2)
        y_d = y g + p1 (r2 + 2 y^2) + 2 p2 x y
    """

    model: ClassVar[str] = "radtan"
    n_coefficients: ClassVar[tuple[int, ...]] = (4, 5, 8)

    def _setup(self):
        c = np.zeros(8)
        c[: len(self.distortion)] = self.distortion
        object.__setattr__(self, "_c", c)  # (k1, k2, p1, p2, k3, k4, k5, k6)
        if not np.any(c):
            r_valid = math.inf
        else:
            def dr_d(r):  # d(r * g(r^2)) / dr = g + 2 s g'(s); non-positive denominators are invalid
                num, den, dnum, dden = self._radial_terms(r * r)
                g = num / den
                slope = g + 2.0 * r * r * (dnum * den - num * dden) / (den * den)
                return np.where(den > 0.0, slope, -1.0)

            r_valid = min(_first_fold(dr_d, RADTAN_SEARCH_LIMIT), RADTAN_SEARCH_LIMIT)
        object.__setattr__(self, "_valid_radius", r_valid)
        object.__setattr__(self, "_valid_r2", r_valid * r_valid)

    @property
    def is_rational(self) -> bool:
        return len(self.distortion) == 8

    def _radial_terms(self, s):
        """Numerator, denominator of g(s) and their derivatives w.r.t. s = r^2."""
        k1, k2, _, _, k3, k4, k5, k6 = self._c
        num = 1.0 + s * (k1 + s * (k2 + s * k3))
        den = 1.0 + s * (k4 + s * (k5 + s * k6))
        dnum = k1 + s * (2.0 * k2 + s * 3.0 * k3)
        dden = k4 + s * (2.0 * k5 + s * 3.0 * k6)
        return num, den, dnum, dden

    def _distort_xy(self, x, y):
        """Element-wise distortion of float64 arrays x, y; returns (x_d, y_d, r2)."""
        k1, k2, p1, p2, k3, k4, k5, k6 = self._c
        r2 = x * x + y * y
        g = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
        if k4 != 0.0 or k5 != 0.0 or k6 != 0.0:
            g = g / (1.0 + r2 * (k4 + r2 * (k5 + r2 * k6)))
        xy2 = 2.0 * x * y
        x_d = x * g + p1 * xy2 + p2 * (r2 + 2.0 * x * x)
        y_d = y * g + p1 * (r2 + 2.0 * y * y) + p2 * xy2
        return x_d, y_d, r2

    def _distort_points(self, p):
        inv_z = 1.0 / p[:, 2]  # same operations as the fast path in projection.py
        x = p[:, 0] * inv_z
        y = p[:, 1] * inv_z
        x_d, y_d, r2 = self._distort_xy(x, y)
        return np.stack([x_d, y_d], axis=1), r2 <= self._valid_r2

    def distort(self, xy):
        xy = _as_points(xy, 2, "xy")
        with np.errstate(all="ignore"):
            x_d, y_d, _ = self._distort_xy(xy[:, 0], xy[:, 1])
        return np.stack([x_d, y_d], axis=1)

    def _jacobian(self, x, y):
        """d(x_d, y_d)/d(x, y) as four (N,) arrays j00, j01, j10, j11."""
        _, _, p1, p2, _, _, _, _ = self._c
        s = x * x + y * y
        num, den, dnum, dden = self._radial_terms(s)
        g = num / den
        dg = (dnum * den - num * dden) / (den * den)
        xy_dg = 2.0 * x * y * dg
        j00 = g + 2.0 * x * x * dg + 2.0 * p1 * y + 6.0 * p2 * x
        j01 = xy_dg + 2.0 * p1 * x + 2.0 * p2 * y
        j10 = xy_dg + 2.0 * p1 * x + 2.0 * p2 * y
        j11 = g + 2.0 * y * y * dg + 6.0 * p1 * y + 2.0 * p2 * x
        return j00, j01, j10, j11

    def _radial_inverse(self, r_d):
        """Solve r * g(r^2) = r_d for r in [0, valid_radius] (safeguarded Newton); (N,) -> (N,).

        Each step works only on the rows not yet converged, so a few slow rows (beyond the lens's
        reach, where the search ends at the bracket) do not make every row iterate.
        """
        r = np.minimum(r_d, self.valid_radius)
        active = np.arange(len(r_d))
        hi = np.full(len(r_d), self.valid_radius)
        lo = np.zeros(len(r_d))
        target = r_d
        for _ in range(_BISECT_MAX_ITER):
            ra = r[active]
            num, den, dnum, dden = self._radial_terms(ra * ra)
            g = num / den
            f = ra * g - target
            df = g + 2.0 * ra * ra * (dnum * den - num * dden) / (den * den)
            hi_a = np.where(f > 0.0, ra, hi)
            lo_a = np.where(f <= 0.0, ra, lo)
            step = ra - f / df
            inside = (step > lo_a) & (step < hi_a)
            r_new = np.where(inside, step, 0.5 * (lo_a + hi_a))
            # Done: the residual is at rounding level (keep that r: Newton may flip between two
            # neighbouring floats forever there), or the step stalls. NaN rows count as done.
            solved = np.abs(f) <= 4e-16 * np.abs(target)
            r_new = np.where(solved, ra, r_new)
            r[active] = r_new
            moving = ~solved & (np.abs(r_new - ra) > 1e-15 * np.maximum(ra, 1e-300))
            if not moving.any():
                break
            active, hi, lo, target = active[moving], hi_a[moving], lo_a[moving], target[moving]
        return r

    def undistort(self, xy_d):
        xy_d = _as_points(xy_d, 2, "xy_d")
        if self.valid_radius == math.inf:  # no distortion at all
            return xy_d.copy()
        with np.errstate(all="ignore"):
            xd, yd = xy_d[:, 0], xy_d[:, 1]
            r_d = np.hypot(xd, yd)
            # Start from the radial-only inverse, then Newton on the full 2D map.
            r0 = self._radial_inverse(r_d)
            scale = np.where(r_d > 0.0, r0 / r_d, 1.0)
            x, y = xd * scale, yd * scale
            for _ in range(_NEWTON_MAX_ITER):
                ex, ey, _ = self._distort_xy(x, y)
                ex -= xd
                ey -= yd
                j00, j01, j10, j11 = self._jacobian(x, y)
                det = j00 * j11 - j01 * j10
                dx = (j11 * ex - j01 * ey) / det
                dy = (j00 * ey - j10 * ex) / det
                x = x - dx
                y = y - dy
                step = np.maximum(np.abs(dx), np.abs(dy))
                if not np.any(step > 1e-15 * (1.0 + np.abs(x) + np.abs(y))):
                    break
            ex, ey, r2 = self._distort_xy(x, y)
            residual = np.maximum(np.abs(ex - xd), np.abs(ey - yd))
            ok = (residual <= 1e-12 * (1.0 + r_d)) & (r2 <= self._valid_r2 * (1.0 + 1e-12))
        out = np.stack([x, y], axis=1)
        out[~ok] = np.nan
        return out


def _same_every_run(ufunc, *args) -> np.ndarray:
    """``ufunc`` (arctan2, sin, cos, tan) of float64 arrays, evaluated in long double and rounded
    back to float64. NumPy's SIMD (AVX-512) float64 loops for these differ from the C library in
    the last bit for some inputs, and whether an element goes through them depends on where the
    arrays lie in memory, which changes from run to run: the same box gave fisheye pixels that
    differed in the 16th digit between two runs. Long double has no SIMD loop (about 60 ns per
    element)."""
    return ufunc(*(np.asarray(a, dtype=np.longdouble) for a in args)).astype(np.float64)


@dataclass(frozen=True)
class FisheyeCamera(CameraModel):
    """OpenCV fisheye (equidistant) model, as ``cv2.fisheye.projectPoints``.

    ``distortion`` = (k1, k2, k3, k4)::

        theta = atan2(sqrt(X^2 + Y^2), Z)          # angle off the optical axis
        theta_d = theta (1 + k1 theta^2 + k2 theta^4 + k3 theta^6 + k4 theta^8)
        (x_d, y_d) = theta_d * (X, Y) / sqrt(X^2 + Y^2)

    Using atan2 keeps it exact for wide angles. ``valid_theta`` is the largest angle (searched up
    to pi) up to which theta_d increases; ``valid_radius = tan(valid_theta)`` (inf past 90 deg).
    ``view_theta`` is the largest angle any pixel of the image sees. Unlike the perspective models,
    ``near`` may be negative here, or -inf (no plane: the angle alone decides), for lenses that see
    more than 90 degrees off the optical axis.
    """

    model: ClassVar[str] = "fisheye"
    n_coefficients: ClassVar[tuple[int, ...]] = (4,)

    def _setup(self):
        k = np.asarray(self.distortion)
        object.__setattr__(self, "_k", k)

        def dtheta_d(t):
            t2 = t * t
            return 1.0 + t2 * (3.0 * k[0] + t2 * (5.0 * k[1] + t2 * (7.0 * k[2] + t2 * 9.0 * k[3])))

        theta_valid = min(_first_fold(dtheta_d, math.pi), math.pi)
        object.__setattr__(self, "_valid_theta", theta_valid)
        r_valid = math.tan(theta_valid) if theta_valid < 0.5 * math.pi else math.inf
        object.__setattr__(self, "_valid_radius", r_valid)
        object.__setattr__(self, "_view_theta", self._corner_theta())

    @property
    def valid_theta(self) -> float:
        """Largest angle off the optical axis (rad, <= pi) up to which theta_d increases (cached)."""
        return self._valid_theta

    @property
    def view_theta(self) -> float:
        """Largest angle off the optical axis (rad) that any pixel of the image sees: that of the image
        corner farthest from the principal point, at most ``valid_theta`` and just under pi (cached)."""
        return self._view_theta

    def _corner_theta(self) -> float:
        corners = np.array([[-0.5, -0.5], [self.width - 0.5, -0.5], [-0.5, self.height - 0.5],
                            [self.width - 0.5, self.height - 0.5]])
        theta_d = np.hypot((corners[:, 0] - self.cx) / self.fx, (corners[:, 1] - self.cy) / self.fy).max()
        with np.errstate(all="ignore"):
            theta = float(self._theta_inverse(np.array([theta_d]))[0])
        limit = min(self.valid_theta, math.pi - 1e-6)
        return min(theta, limit) if math.isfinite(theta) else limit

    def _check_near(self, near):
        near = float(near)
        if math.isnan(near) or near == math.inf:
            raise ValueError(f"near must be finite or -inf, got {near}")
        return near

    def _theta_d(self, theta):
        k1, k2, k3, k4 = self._k
        t2 = theta * theta
        return theta * (1.0 + t2 * (k1 + t2 * (k2 + t2 * (k3 + t2 * k4))))

    def _distort_points(self, p):
        rho = np.sqrt(p[:, 0] * p[:, 0] + p[:, 1] * p[:, 1])
        theta = _same_every_run(np.arctan2, rho, p[:, 2])
        scale = np.where(rho > 0.0, self._theta_d(theta) / rho, 0.0)
        xy_d = p[:, :2] * scale[:, None]
        return xy_d, theta <= self.valid_theta

    def distort(self, xy):
        xy = _as_points(xy, 2, "xy")
        p = np.ones((xy.shape[0], 3))
        p[:, :2] = xy
        with np.errstate(all="ignore"):
            return self._distort_points(p)[0]

    def _theta_inverse(self, theta_d):
        """Solve theta_d(theta) = theta_d for theta in [0, valid_theta]; NaN past the fold."""
        k1, k2, k3, k4 = self._k
        hi = np.full_like(theta_d, self.valid_theta)
        lo = np.zeros_like(theta_d)
        theta = np.minimum(theta_d, hi)
        for _ in range(_BISECT_MAX_ITER):
            t2 = theta * theta
            f = self._theta_d(theta) - theta_d
            df = 1.0 + t2 * (3.0 * k1 + t2 * (5.0 * k2 + t2 * (7.0 * k3 + t2 * 9.0 * k4)))
            hi = np.where(f > 0.0, theta, hi)
            lo = np.where(f <= 0.0, theta, lo)
            step = theta - f / df
            inside = (step > lo) & (step < hi)
            new = np.where(inside, step, 0.5 * (lo + hi))
            done = not np.any(np.abs(new - theta) > 1e-15 * np.maximum(theta, 1e-300))
            theta = new
            if done:
                break
        residual = np.abs(self._theta_d(theta) - theta_d)
        return np.where(residual <= 1e-12 * (1.0 + theta_d), theta, np.nan)

    def _rays_from_distorted(self, xy_d):
        theta_d = np.hypot(xy_d[:, 0], xy_d[:, 1])
        theta = self._theta_inverse(theta_d)
        scale = np.where(theta_d > 0.0, _same_every_run(np.sin, theta) / theta_d, 1.0)
        rays = np.empty((xy_d.shape[0], 3))
        rays[:, :2] = xy_d * scale[:, None]
        rays[:, 2] = _same_every_run(np.cos, theta)
        return rays

    def undistort(self, xy_d):
        xy_d = _as_points(xy_d, 2, "xy_d")
        with np.errstate(all="ignore"):
            theta_d = np.hypot(xy_d[:, 0], xy_d[:, 1])
            theta = self._theta_inverse(theta_d)
            theta = np.where(theta < 0.5 * np.pi, theta, np.nan)
            scale = np.where(theta_d > 0.0, _same_every_run(np.tan, theta) / theta_d, 1.0)
            return xy_d * scale[:, None]


_MODELS: dict[str, type[CameraModel]] = {
    "pinhole": PinholeCamera,
    "radtan": RadTanCamera,
    "fisheye": FisheyeCamera,
}
# Common aliases (ROS camera_info / Kalibr names) -> the model's name here.
MODEL_ALIASES = {"plumb_bob": "radtan", "rational_polynomial": "radtan", "equidistant": "fisheye",
                 "kannala_brandt": "fisheye", "kb4": "fisheye"}


def camera_from_params(model: str, width: int, height: int, fx: float, fy: float, cx: float, cy: float,
                       distortion=()) -> CameraModel:
    """Build a camera by model name ("pinhole", "radtan", "fisheye"; ROS aliases accepted).

    Raises ValueError for an unknown model or a wrong number of distortion coefficients.
    """
    key = str(model).strip().lower()
    key = MODEL_ALIASES.get(key, key)
    cls = _MODELS.get(key)
    if cls is None:
        raise ValueError(f"unknown camera model {model!r}; expected one of {', '.join(_MODELS)}")
    return cls(width, height, fx, fy, cx, cy, tuple(np.asarray(distortion, dtype=np.float64).reshape(-1)))


def calibrated_image_size(cx: float, cy: float, width: int, height: int,
                          tolerance: float = 0.05) -> tuple[int, int] | None:
    """The image size whose centre the principal point ``(cx, cy)`` is, when that size is
    ``width x height`` scaled alike on both axes (within ``tolerance``) and at least 16 px: the image
    size intrinsics were calibrated for (OpenCV pixel centres, so the centre is ``(w - 1) / 2``).
    None when the two axes disagree."""
    fit_w, fit_h = 2.0 * cx + 1.0, 2.0 * cy + 1.0
    if min(fit_w, fit_h) < 16:
        return None
    sx, sy = width / fit_w, height / fit_h
    if abs(sx - sy) > tolerance * max(sx, sy):
        return None
    return round(fit_w), round(fit_h)
