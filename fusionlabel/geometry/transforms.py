"""Rigid transforms, rotations and angles.

Conventions (see README "Conventions"): ``T_a_b`` is a 4x4 homogeneous matrix taking points in
frame ``b`` to frame ``a`` (``p_a = T_a_b @ p_b``); quaternions are ``(w, x, y, z)``; angles are
radians; yaw is about +z from +x and normalised to (-pi, pi].
"""

from __future__ import annotations

import numpy as np


def check_T(T: np.ndarray, name: str = "T") -> np.ndarray:
    """Return ``T`` as a float64 (4, 4) array; raise ValueError naming the shape otherwise."""
    T = np.asarray(T, dtype=np.float64)
    if T.shape != (4, 4):
        raise ValueError(f"{name} must have shape (4, 4), got {T.shape}")
    return T


def T_from_Rt(R: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Build a (4, 4) transform from a (3, 3) rotation and a (3,) translation."""
    T = np.eye(4)
    T[:3, :3] = R
    T[:3, 3] = np.asarray(t, dtype=np.float64).reshape(3)
    return T


def inverse_3x3(M: np.ndarray) -> np.ndarray:
    """Inverse of a (3, 3) matrix from its adjugate: exact like ``np.linalg.inv`` (to rounding),
    without a LAPACK call. OpenBLAS runs each such call on its thread pool, which spins for
    milliseconds when the other cores are busy: per-box and per-frame inversions add up to seconds.
    Raises ValueError for a singular matrix."""
    M = np.asarray(M, dtype=np.float64)
    if M.shape != (3, 3):
        raise ValueError(f"M must have shape (3, 3), got {M.shape}")
    (a, b, c), (d, e, f), (g, h, i) = M.tolist()      # Python floats: no per-element NumPy overhead
    adj = [[e * i - f * h, c * h - b * i, b * f - c * e],
           [f * g - d * i, a * i - c * g, c * d - a * f],
           [d * h - e * g, b * g - a * h, a * e - b * d]]
    det = a * adj[0][0] + b * adj[1][0] + c * adj[2][0]
    if det == 0.0 or not np.isfinite(det):
        raise ValueError(f"M is singular (determinant {det})")
    return np.array(adj) / det


def invert_T(T_a_b: np.ndarray) -> np.ndarray:
    """Inverse of a rigid transform: returns ``T_b_a``.

    The rotation block is inverted exactly rather than transposed, so calibrations whose printed
    rotations are orthonormal only to ~1e-7 (KITTI's) round-trip without drift.
    """
    T_a_b = check_T(T_a_b, "T_a_b")
    R_inv = inverse_3x3(T_a_b[:3, :3])
    return T_from_Rt(R_inv, -R_inv @ T_a_b[:3, 3])


def transform_points(T_a_b: np.ndarray, points_b: np.ndarray) -> np.ndarray:
    """Apply ``T_a_b`` to points of shape (N, 3+) (extra columns are dropped); returns (N, 3)."""
    points_b = np.asarray(points_b)
    R = T_a_b[:3, :3].astype(points_b.dtype if points_b.dtype == np.float32 else np.float64)
    t = T_a_b[:3, 3].astype(R.dtype)
    return points_b[:, :3] @ R.T + t


def rotation_error(R: np.ndarray) -> float:
    """How far ``R`` is from a proper rotation: max |R^T R - I| plus |det R - 1|."""
    R = np.asarray(R, dtype=np.float64)
    return float(np.abs(R.T @ R - np.eye(3)).max() + abs(np.linalg.det(R) - 1.0))


def nearest_rotation(R: np.ndarray) -> np.ndarray:
    """The proper rotation closest to ``R`` in the Frobenius norm (SVD projection)."""
    U, _, Vt = np.linalg.svd(np.asarray(R, dtype=np.float64))
    D = np.diag([1.0, 1.0, np.sign(np.linalg.det(U @ Vt))])
    return U @ D @ Vt


ROTATION_TOLERANCE = 1e-4   # rotation_error accepted in files: 6 printed digits give ~1e-6
EXACT_ROTATION = 1e-12      # below this a matrix is already exact and used as written (bit-exact round trip)


def rotation_problem(R: np.ndarray, remedy: str = "", tolerance: float = ROTATION_TOLERANCE) -> str | None:
    """Why the 3x3 ``R`` read from a file cannot be used as a rotation, or None when it can.

    A reflection (det <= 0) is always refused; otherwise ``R`` may be off by rounding up to
    ``tolerance`` (:func:`rotation_error`), which :func:`snap_rotation` then removes. ``remedy`` ends
    the message for a matrix beyond the tolerance (what the user should write instead).
    """
    R = np.asarray(R, dtype=np.float64)
    det = float(np.linalg.det(R))
    if det <= 0:
        return f"is not a rotation: det = {det:.6f} (a rotation has det +1; a negative one mirrors an axis)"
    err = rotation_error(R)
    if err > tolerance:
        return f"is not a rotation (orthonormal with det +1): det = {det:.6f}, error {err:.2e} > {tolerance:g}" + (
            f"; {remedy}" if remedy else "")
    return None


def snap_rotation(R: np.ndarray) -> np.ndarray:
    """``R`` as an exact rotation: the nearest rotation (SVD) when it is off by more than
    :data:`EXACT_ROTATION` (any matrix printed with finite digits), else ``R`` itself unchanged."""
    R = np.asarray(R, dtype=np.float64)
    return nearest_rotation(R) if rotation_error(R) > EXACT_ROTATION else R


def rotation_z(yaw: float) -> np.ndarray:
    """Rotation by ``yaw`` about +z, shape (3, 3)."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def rotation_from_euler(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """R = Rz(yaw) @ Ry(pitch) @ Rx(roll) (intrinsic z-y'-x''), shape (3, 3)."""
    cr, sr = np.cos(roll), np.sin(roll)
    cp, sp = np.cos(pitch), np.sin(pitch)
    Rx = np.array([[1.0, 0.0, 0.0], [0.0, cr, -sr], [0.0, sr, cr]])
    Ry = np.array([[cp, 0.0, sp], [0.0, 1.0, 0.0], [-sp, 0.0, cp]])
    return rotation_z(yaw) @ Ry @ Rx


GIMBAL_LOCK = 1e-7   # cos(pitch) below which roll and yaw are not separable: roll is set to 0


def euler_from_rotation(R: np.ndarray) -> tuple[float, float, float]:
    """Inverse of :func:`rotation_from_euler`: returns (roll, pitch, yaw).

    At pitch ±90° (gimbal lock) only yaw ∓ roll is defined; roll is then 0 and yaw carries the
    turn, so the angles still rebuild ``R`` (rounding noise would otherwise pick arbitrary angles).
    """
    R = np.asarray(R, dtype=np.float64)
    cos_pitch = float(np.hypot(R[0, 0], R[1, 0]))
    pitch = float(np.arctan2(-R[2, 0], cos_pitch))
    if cos_pitch < GIMBAL_LOCK:
        return 0.0, pitch, normalize_angle(float(np.arctan2(-R[0, 1], R[1, 1])))
    roll = float(np.arctan2(R[2, 1], R[2, 2]))
    yaw = float(np.arctan2(R[1, 0], R[0, 0]))
    return roll, pitch, normalize_angle(yaw)


def yaw_from_rotation(R: np.ndarray) -> float:
    """Heading of the rotated +x axis projected on the xy plane, in (-pi, pi]."""
    R = np.asarray(R, dtype=np.float64)
    return normalize_angle(float(np.arctan2(R[1, 0], R[0, 0])))


def arctan2(y, x) -> np.ndarray:
    """``np.arctan2(y, x)`` with the same bits for the same values, wherever the arrays lie.

    NumPy computes arctan2 (like exp, log and power) with SIMD code whose results differ from the
    C library's in the last bit for about a third of the inputs, and takes the C library instead
    when a strided input (a column such as ``xy[:, 1]``) might overlap the result by its address
    check: whether it does depends on where the result happened to be allocated, so the same sweep
    gave detections differing in the 16th digit from one run to the next. Contiguous copies of
    the inputs always take the SIMD path."""
    return np.arctan2(np.ascontiguousarray(y), np.ascontiguousarray(x))


def normalize_angle(a):
    """Wrap angles (scalar or array) to (-pi, pi]."""
    wrapped = np.pi - np.mod(np.pi - np.asarray(a, dtype=np.float64), 2.0 * np.pi)
    return float(wrapped) if np.ndim(wrapped) == 0 else wrapped


def angle_difference(a, b):
    """Signed shortest difference ``a - b`` wrapped to (-pi, pi]."""
    return normalize_angle(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))


def rotation_from_quaternion(q: np.ndarray) -> np.ndarray:
    """(w, x, y, z) quaternion (any norm > 0) to a (3, 3) rotation matrix."""
    q = np.asarray(q, dtype=np.float64).reshape(4)
    n = np.linalg.norm(q)
    if not n > 0.0:
        raise ValueError("quaternion has zero norm")
    w, x, y, z = q / n
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def quaternion_from_rotation(R: np.ndarray) -> np.ndarray:
    """(3, 3) rotation matrix to a unit (w, x, y, z) quaternion with w >= 0 (Shepperd's method)."""
    R = np.asarray(R, dtype=np.float64)
    tr = np.trace(R)
    diag = np.diag(R)
    k = int(np.argmax([tr, *diag]))
    if k == 0:
        s = 2.0 * np.sqrt(1.0 + tr)
        q = np.array([0.25 * s, (R[2, 1] - R[1, 2]) / s, (R[0, 2] - R[2, 0]) / s, (R[1, 0] - R[0, 1]) / s])
    elif k == 1:
        s = 2.0 * np.sqrt(1.0 + R[0, 0] - R[1, 1] - R[2, 2])
        q = np.array([(R[2, 1] - R[1, 2]) / s, 0.25 * s, (R[0, 1] + R[1, 0]) / s, (R[0, 2] + R[2, 0]) / s])
    elif k == 2:
        s = 2.0 * np.sqrt(1.0 - R[0, 0] + R[1, 1] - R[2, 2])
        q = np.array([(R[0, 2] - R[2, 0]) / s, (R[0, 1] + R[1, 0]) / s, 0.25 * s, (R[1, 2] + R[2, 1]) / s])
    else:
        s = 2.0 * np.sqrt(1.0 - R[0, 0] - R[1, 1] + R[2, 2])
        q = np.array([(R[1, 0] - R[0, 1]) / s, (R[0, 2] + R[2, 0]) / s, (R[1, 2] + R[2, 1]) / s, 0.25 * s])
    q /= np.linalg.norm(q)
    return -q if q[0] < 0 else q


def quaternion_from_yaw(yaw: float) -> np.ndarray:
    """Unit (w, x, y, z) quaternion of a rotation by ``yaw`` about +z."""
    return np.array([np.cos(yaw / 2.0), 0.0, 0.0, np.sin(yaw / 2.0)])
