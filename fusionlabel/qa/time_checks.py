"""Camera capture times against their sweep: images paired with the wrong sweep.

A camera's ``camera_timestamps_us`` should lie near its frame's ``timestamp_us``. Two mistakes
show: a capture time far from the sweep (more than :data:`MAX_OFFSET_S`, where only a per-camera
ego pose could make up for the motion), and a capture time at another frame's sweep rather than its
own (the images shifted by a frame). A per-camera ego pose (``T_world_vehicle_at_camera``) farther
from the frame's pose than the vehicle can drive in the time between the two is flagged as well.
Only the drive index is read."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from ..model.drive import Drive
from .findings import ERROR, WARNING, Finding

MAX_OFFSET_S = 0.1
# A per-camera ego pose may lie this far (m) from the frame's, plus MAX_SPEED times the capture gap.
POSE_SLACK_M = 0.5
MAX_SPEED = 60.0


@dataclass(frozen=True)
class TimeCheck:
    """``frames`` checked, ``cameras`` that have capture times, ``largest_offset_s`` from a sweep."""

    frames: int
    cameras: list[str]
    largest_offset_s: float | None
    findings: list[Finding]

    def status(self) -> str:
        if not self.cameras:
            return f"no camera capture times in {self.frames} frame{'' if self.frames == 1 else 's'}"
        return (f"{len(self.cameras)} camera(s) in {self.frames} frame{'' if self.frames == 1 else 's'}, largest offset from the sweep "
                f"{self.largest_offset_s:+.3f} s")


class _SweepTimes:
    """The frames' sweep times, for finding the frame whose sweep is nearest a time."""

    def __init__(self, times: list[int]):
        self.times = times
        self.order = sorted(range(len(times)), key=times.__getitem__)
        self.sorted = [times[i] for i in self.order]

    def nearest_other(self, own: int, t: int) -> int | None:
        """Index of the frame whose sweep time is nearest ``t``, other than frame ``own``."""
        k = bisect_left(self.sorted, t)
        near = [self.order[j] for j in range(k - 2, k + 2) if 0 <= j < len(self.order) and self.order[j] != own]
        return min(near, key=lambda i: abs(self.times[i] - t), default=None)


def check_capture_times(drive: Drive, indices: list[int]) -> TimeCheck:
    """Check the capture times of every camera in the frames at ``indices`` (see module docstring)."""
    times = [f.timestamp_us for f in drive.frames]
    sweeps = _SweepTimes(times)
    ids = [f.frame_id for f in drive.frames]
    shifted: dict[str, list[tuple[int, int, int]]] = defaultdict(list)   # camera -> (frame, offset us, other frame)
    far: dict[str, list[tuple[int, int]]] = defaultdict(list)
    cameras: list[str] = []
    largest = None
    for i in indices:
        f = drive.frames[i]
        for cam, t in f.camera_timestamps_us.items():
            if cam not in cameras:
                cameras.append(cam)
            offset = t - f.timestamp_us
            if largest is None or abs(offset) > abs(largest):
                largest = offset
            is_far = abs(offset) > MAX_OFFSET_S * 1e6
            other = sweeps.nearest_other(i, t)
            gap = None if other is None else abs(times[other] - t)
            if (gap is not None and gap < 0.5 * abs(offset) and gap <= MAX_OFFSET_S * 1e6
                    and (is_far or cam not in f.T_world_vehicle_at_camera)):
                shifted[cam].append((i, offset, other))
            elif is_far and cam not in f.T_world_vehicle_at_camera:
                far[cam].append((i, offset))
    findings = _camera_pose_findings(drive, indices)
    for cam, hits in shifted.items():
        i, offset, other = hits[0]
        findings.append(Finding(
            ERROR, cam, "capture-time",
            f"in {len(hits)} of {len(indices)} frames its capture time is nearer another frame's sweep than its own "
            f"(e.g. frame {ids[i]}: {offset * 1e-6:+.3f} s from its sweep, {(drive.frames[i].camera_timestamps_us[cam] - times[other]) * 1e-6:+.3f} s "
            f"from frame {ids[other]}'s): the images are probably paired with the wrong frames",
            "pair each image with the sweep taken at the same time (cameras and camera_timestamps_us in drive.yaml)",
            frame=ids[i], frames=tuple(ids[k] for k, *_ in hits)))
    for cam, hits in far.items():
        i, offset = hits[0]
        findings.append(Finding(
            WARNING, cam, "capture-time",
            f"in {len(hits)} of {len(indices)} frames it was captured more than {MAX_OFFSET_S:g} s from its sweep "
            f"(e.g. frame {ids[i]}: {offset * 1e-6:+.3f} s) and has no per-camera pose: points and boxes are "
            "drawn where the vehicle was at the sweep",
            "check camera_timestamps_us (microseconds), or give T_world_vehicle_at_camera for such frames",
            frame=ids[i], frames=tuple(ids[k] for k, _ in hits), value=abs(offset) * 1e-6, threshold=MAX_OFFSET_S,
            unit="s"))
    return TimeCheck(len(indices), cameras, None if largest is None else largest * 1e-6, findings)


def _camera_pose_findings(drive: Drive, indices: list[int]) -> list[Finding]:
    """Per-camera poses farther from their frame's pose than :data:`MAX_SPEED` allows."""
    far: dict[str, list[tuple[int, str]]] = defaultdict(list)   # camera -> (frame, what)
    for i in indices:
        f = drive.frames[i]
        for cam, T in f.T_world_vehicle_at_camera.items():
            t = f.camera_timestamps_us.get(cam)
            gap = MAX_OFFSET_S if t is None else abs(t - f.timestamp_us) * 1e-6
            metres = float(np.linalg.norm(np.asarray(T)[:3, 3] - np.asarray(f.T_world_vehicle)[:3, 3]))
            if metres > POSE_SLACK_M + MAX_SPEED * gap:
                when = "no capture time, up to" if t is None else "captured"
                far[cam].append((i, f"{metres:.1f} m away, {when} {gap:.3f} s from the sweep"))
    out = []
    for cam, hits in far.items():
        i, what = hits[0]
        out.append(Finding(
            ERROR, cam, "camera-pose",
            f"in {len(hits)} of {len(indices)} frames its per-camera pose lies farther from the frame's pose than the "
            f"vehicle can drive in between (e.g. frame {drive.frames[i].frame_id}: {what})",
            "T_world_vehicle_at_camera is the ego pose (T_world_vehicle) at the camera's capture time, in the "
            "frame's world"))
    return out
