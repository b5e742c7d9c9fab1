"""Ego poses against the sweeps: does each frame's ``T_world_vehicle`` move the LiDAR the way its
sweeps show it moving?

For each pair of neighbouring frames the motion of the reference LiDAR from the given poses
(``inv(T_world_lidar(a)) @ T_world_lidar(b)``) is compared with the motion the sweeps give by
planar scan matching (:func:`fusionlabel.assist.odometry.match_pair`, the odometry behind
``import --estimate-poses``: x, y and yaw; z, roll and pitch are taken as 0). A pair whose match is
not trusted (too little structure, an ambiguous corridor) is left unchecked. The poses disagree
with the sweeps when the two motions differ by more than the tolerances below *and* the poses line
up the sweeps' static structure clearly worse than the sweeps' own motion does (the share of
structure points that find a partner within 0.3 m falls below :data:`ALIGNMENT_RATIO` of it: sparse
sweeps along a street can match equally well at several shifts, and then nothing is proven), or
when the poses climb or fall more steeply than :data:`MAX_GRADE` (the planar match cannot see z).
When they disagree, the usual mistakes are tried in turn: poses inverted (``T_vehicle_world`` written), poses of the
LiDAR (``T_world_lidar``, what SLAM tools give) written for those of the vehicle, and a motion of
the right length in another direction (poses of another frame, or the LiDAR's yaw in the rig off).

Cost: two sweeps' structure (the built-in detector's ground and objects, ~0.2-0.4 s each for
120k points) and one match (~0.3 s) per pair, under a second on the development machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..assist.builtin import GeometricDetector
from ..assist.odometry import (OdometryConfig, inlier_share, match_pair, planar, pose2d, search_window,
                               sweep_structure)
from ..errors import FusionLabelError
from ..geometry.transforms import invert_T
from ..model.drive import Drive, has_ego_poses
from .findings import ERROR, Finding

TRANSLATION_TOLERANCE = 0.3     # m the two motions may differ by, plus ...
RELATIVE_TOLERANCE = 0.05       # ... this share of the motion the sweeps show
ROTATION_TOLERANCE_DEG = 2.0
MAX_PAIR_GAP_S = 3.0            # frames farther apart in time are not matched
MIN_DIRECTION_MOTION = 0.5      # m: shorter motions have no direction worth comparing
MIN_DIRECTION_ERROR_DEG = 20.0
ALIGNMENT_RATIO = 0.8           # poses aligning the structure worse than this share of the sweeps' motion: wrong
MAX_GRADE = 0.25                # vertical over horizontal motion of a ground vehicle, plus TRANSLATION_TOLERANCE

PAIR_REMEDY = ("give each frame's T_world_vehicle: the pose of the vehicle frame (x forward, y left, z up) at its "
               "timestamp_us, taking vehicle points to the world (docs/native_format.md)")


@dataclass(frozen=True)
class PosePair:
    """Frames ``a`` < ``b`` (indices) ``dt_s`` seconds apart: ``given`` the reference LiDAR's motion
    ``T_lidar_a_lidar_b`` (4, 4) from the poses (None when a frame's rig cannot be read),
    ``sweeps`` the same from the sweeps (None when they could not be read; ``trusted`` False and
    ``reason`` when they did not match reliably), ``aligned_given`` and ``aligned_sweeps`` the share
    of static structure each motion lines up, ``diagnosis`` empty when the poses agree, else
    ``inverted``, ``lidar``, ``direction`` (with ``direction_deg``, the angle from the sweeps'
    direction of motion to the poses') or ``other``."""

    a: int
    b: int
    dt_s: float
    given: np.ndarray | None
    sweeps: np.ndarray | None
    trusted: bool
    reason: str = ""
    translation_error: float | None = None
    rotation_error_deg: float | None = None
    diagnosis: str = ""
    direction_deg: float | None = None
    aligned_given: float | None = None
    aligned_sweeps: float | None = None

    @property
    def agrees(self) -> bool:
        return self.trusted and not self.diagnosis

    def as_dict(self, frame_ids: list[str]) -> dict:
        out = {"from": frame_ids[self.a], "to": frame_ids[self.b], "dt_s": round(self.dt_s, 6),
               "trusted": self.trusted}
        if self.given is not None:
            out["poses"] = motion_dict(self.given)
        if self.sweeps is not None:
            out["sweeps"] = motion_dict(self.sweeps)
        if self.reason:
            out["reason"] = self.reason
        if self.translation_error is not None:
            out["translation_error_m"] = round(self.translation_error, 4)
            out["rotation_error_deg"] = round(self.rotation_error_deg, 3)
            out["aligned_by_poses"] = round(self.aligned_given, 3)
            out["aligned_by_sweeps"] = round(self.aligned_sweeps, 3)
            out["agrees"] = self.agrees
        if self.diagnosis:
            out["diagnosis"] = self.diagnosis
        return out


@dataclass
class PoseCheck:
    """What the pose check did: ``status`` one line; ``pairs`` the frame pairs matched."""

    status: str
    pairs: list[PosePair]
    findings: list[Finding]


def motion_dict(T: np.ndarray) -> dict:
    x, y, yaw = planar(T)
    return {"dx": round(x, 4), "dy": round(y, 4), "dz": round(float(T[2, 3]), 4), "yaw_deg": round(math.degrees(yaw), 3)}


def motion_text(T: np.ndarray) -> str:
    x, y, yaw = planar(T)
    dz = f" dz {T[2, 3]:+.2f} m" if abs(T[2, 3]) >= 0.005 else ""
    return f"dx {x:+.2f} m dy {y:+.2f} m{dz} yaw {math.degrees(yaw):+.1f} deg"


def difference(T_1: np.ndarray, T_2: np.ndarray) -> tuple[float, float]:
    """Translation (m) and rotation angle (deg) between two (4, 4) motions."""
    R = T_1[:3, :3].T @ T_2[:3, :3]
    angle = math.degrees(math.acos(float(np.clip((np.trace(R) - 1.0) / 2.0, -1.0, 1.0))))
    return float(np.linalg.norm(T_1[:3, 3] - T_2[:3, 3])), angle


def agree(T: np.ndarray, T_sweeps: np.ndarray) -> bool:
    """Whether motion ``T`` is within the tolerances of the motion the sweeps show."""
    dt, dr = difference(T, T_sweeps)
    return dt <= TRANSLATION_TOLERANCE + RELATIVE_TOLERANCE * float(np.linalg.norm(T_sweeps[:3, 3])) \
        and dr <= ROTATION_TOLERANCE_DEG


def pairs_for(indices: list[int], n_frames: int) -> list[tuple[int, int]]:
    """Each checked frame with the drive's next frame (the one before, for the last frame)."""
    pairs = set()
    for i in indices:
        j = i + 1 if i + 1 < n_frames else i - 1
        if j >= 0:
            pairs.add((min(i, j), max(i, j)))
    return sorted(pairs)


def climbs(T: np.ndarray) -> bool:
    """Whether motion ``T`` rises or falls more steeply than a ground vehicle drives."""
    return abs(T[2, 3]) > TRANSLATION_TOLERANCE + MAX_GRADE * float(np.linalg.norm(T[:2, 3]))


def diagnose(drive: Drive, a: int, b: int, aligned: Callable[[np.ndarray], float], T_sweeps: np.ndarray,
             aligned_sweeps: float) -> tuple[str, float | None]:
    """Which usual mistake makes the poses of frames ``a`` and ``b`` line up the sweeps
    (``aligned(T)``: the share of structure motion ``T`` lines up, ``aligned_sweeps`` that of the
    sweeps' own motion ``T_sweeps``); see :class:`PosePair` for the answers."""
    P_a, P_b = (np.asarray(drive.frames[i].T_world_vehicle, np.float64) for i in (a, b))
    T_vl = np.asarray(drive.rig(a).T_vehicle_lidar, np.float64)
    for name, T in (("inverted", invert_T(T_vl) @ P_a @ invert_T(P_b) @ T_vl), ("lidar", invert_T(P_a) @ P_b)):
        if not climbs(T) and aligned(T) >= ALIGNMENT_RATIO * aligned_sweeps:
            return name, None
    given = invert_T(drive.T_world_lidar(a)) @ drive.T_world_lidar(b)
    t_given, t_sweeps = given[:2, 3], T_sweeps[:2, 3]
    n_given, n_sweeps = float(np.linalg.norm(t_given)), float(np.linalg.norm(t_sweeps))
    if min(n_given, n_sweeps) >= MIN_DIRECTION_MOTION and abs(n_given - n_sweeps) <= 0.2 * n_sweeps:
        angle = math.degrees(math.atan2(t_given[1], t_given[0]) - math.atan2(t_sweeps[1], t_sweeps[0]))
        angle = (angle + 180.0) % 360.0 - 180.0
        if abs(angle) >= MIN_DIRECTION_ERROR_DEG:
            return "direction", angle
    return "other", None


def check_pair(drive: Drive, a: int, b: int, structure_of: Callable[[int], np.ndarray],
               cfg: OdometryConfig = OdometryConfig()) -> PosePair:
    """Compare the poses of frames ``a`` and ``b`` with the sweeps' motion (see module docstring)."""
    dt = (drive.frames[b].timestamp_us - drive.frames[a].timestamp_us) * 1e-6
    try:
        given = invert_T(drive.T_world_lidar(a)) @ drive.T_world_lidar(b)
    except FusionLabelError as e:
        return PosePair(a, b, dt, None, None, False, f"a frame's rig cannot be read: {e}")
    if not 0 < dt <= MAX_PAIR_GAP_S:
        return PosePair(a, b, dt, given, None, False, f"frames {dt:.2f} s apart (matched up to {MAX_PAIR_GAP_S:g} s)")
    try:
        src, dst = structure_of(b), structure_of(a)
    except FusionLabelError as e:
        return PosePair(a, b, dt, given, None, False, f"a sweep cannot be read: {e}")
    search, yaw_search = search_window(dt, cfg)
    m = match_pair(src, dst, (0.0, 0.0, 0.0), search, yaw_search, cfg)
    T_sweeps = pose2d(*m.pose)
    if not m.ok:
        return PosePair(a, b, dt, given, T_sweeps, False, m.reason)
    dt_err, dr_err = difference(given, T_sweeps)

    def aligned_by(T: np.ndarray) -> float:
        return inlier_share(src, dst, planar(T), cfg.inlier_dist)

    aligned = aligned_by(given)
    wrong = climbs(given) or (not agree(given, T_sweeps) and aligned < ALIGNMENT_RATIO * m.inliers)
    diagnosis, direction = diagnose(drive, a, b, aligned_by, T_sweeps, m.inliers) if wrong else ("", None)
    return PosePair(a, b, dt, given, T_sweeps, True, "", dt_err, dr_err, diagnosis, direction, aligned, m.inliers)


def _finding(drive: Drive, pairs: list[PosePair]) -> Finding | None:
    bad = [p for p in pairs if p.trusted and p.diagnosis]
    if not bad:
        return None
    ids = [f.frame_id for f in drive.frames]
    trusted = sum(p.trusted for p in pairs)
    e = bad[0]
    head = (f"the ego poses disagree with the sweeps in {len(bad)} of {trusted} frame pairs matched (e.g. "
            f"{ids[e.a]}->{ids[e.b]}: the poses move the LiDAR {motion_text(e.given)}, lining up "
            f"{e.aligned_given:.0%} of the static structure; the sweeps {motion_text(e.sweeps)}, {e.aligned_sweeps:.0%})")
    kinds = {p.diagnosis for p in bad} - {"other"}     # a pair the sweeps match ambiguously may say "other"
    kind = kinds.pop() if len(kinds) == 1 else "other"
    if kind == "inverted":
        return Finding(ERROR, "poses", "poses", f"{head}; inverted they match: T_vehicle_world was written for "
                       "T_world_vehicle", "invert every pose: T_world_vehicle takes vehicle points to the world")
    if kind == "lidar":
        return Finding(ERROR, "poses", "poses", f"{head}; as poses of the LiDAR they match: T_world_lidar was "
                       "written for T_world_vehicle (SLAM and LiDAR odometry tools give the LiDAR's pose)",
                       "write T_world_vehicle = T_world_lidar @ inv(T_vehicle_lidar), T_vehicle_lidar being the "
                       "reference LiDAR's extrinsic")
    if kind == "direction":
        angles = [p.direction_deg for p in bad if p.direction_deg is not None]   # not empty: kind is direction
        angle = float(np.median(angles))
        return Finding(ERROR, "poses", "poses", f"{head}; the poses move the vehicle as far as the sweeps show but "
                       f"{angle:+.0f} deg off their direction: the poses are of another frame (a camera's, z "
                       f"forward?), or the reference LiDAR's yaw in the rig is off by {angle:+.0f} deg",
                       "give T_world_vehicle of the vehicle frame (x forward, y left, z up) and check the reference "
                       "LiDAR's extrinsic rotation")
    return Finding(ERROR, "poses", "poses", head, PAIR_REMEDY)


def check_poses(drive: Drive, indices: list[int], cfg: OdometryConfig = OdometryConfig()) -> PoseCheck:
    """Compare the poses around the frames at ``indices`` with the sweeps (see module docstring)."""
    if len(drive) < 2:
        return PoseCheck("one frame: no motion to compare", [], [])
    if not has_ego_poses(drive):
        return PoseCheck("no ego poses (every frame has the same pose): nothing to compare", [], [])
    detector = GeometricDetector() if cfg.remove_movable else None
    cache: dict[int, np.ndarray] = {}

    def structure_of(i: int) -> np.ndarray:
        if i not in cache:
            cache[i] = sweep_structure(drive.points(i), cfg, detector)
        return cache[i]

    pairs = [check_pair(drive, a, b, structure_of, cfg) for a, b in pairs_for(indices, len(drive))]
    trusted = [p for p in pairs if p.trusted]
    worst = max(trusted, key=lambda p: p.translation_error, default=None)
    status = f"{len(trusted)} of {len(pairs)} frame pairs matched"
    if worst is not None:
        status += (f", the poses {'agree' if all(p.agrees for p in trusted) else 'disagree'} "
                   f"(largest difference {worst.translation_error:.2f} m, "
                   f"{max(p.rotation_error_deg for p in trusted):.1f} deg; static structure lined up "
                   f"{min(p.aligned_given for p in trusted):.0%} by the poses, "
                   f"{min(p.aligned_sweeps for p in trusted):.0%} by the sweeps)")
    return PoseCheck(status, pairs, [f for f in [_finding(drive, pairs)] if f is not None])
