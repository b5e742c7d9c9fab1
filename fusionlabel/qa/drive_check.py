"""`fusionlabel check`: read a few frames of a drive and report calibration and pose mistakes that
load fine and only show as misplaced or missing points.

What is checked (each in its own module):

Cameras of the rig that have no image in any frame (a LiDAR-only drive whose rig names its
cameras: :func:`~fusionlabel.model.drive.cameras_without_images`) are not checked, and named once.

* the reference LiDAR's mount (:mod:`.lidar_checks`): its z far from the vehicle's up;
* per camera, from the rig (:mod:`.camera_checks`): where its image's down points, whether it looks
  at the sky, how far it sits from the LiDAR, whether the principal point fits the image size,
  whether the lens model folds back inside the image;
* per camera, from the sweeps of the checked frames: the share of the LiDAR points 2-60 m in front
  of it that land in its image (none or almost none: a wrong extrinsic);
* the checked frames' files: sweeps that cannot be read, images that are missing or of another
  size than the rig's camera (header only: pixels are not decoded); what the sweep reader had to
  repair or leave out to read them (notes, not findings: such files read right); without
  ``frames``, every other frame's sweep and images are looked up too (missing or empty files:
  :mod:`.file_problems`, no reading), so that a broken drive never reads as clean; with
  ``decode``, every sweep and image of those frames is decoded instead (:mod:`.file_decode`);
* ego poses against the sweeps' own motion (:mod:`.pose_checks`, about a second per pair);
* camera capture times against their sweep (:mod:`.time_checks`; the drive index only).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from ..errors import FusionLabelError
from ..io.pointcloud import collected_notes
from ..model.drive import Drive, cameras_without_images
from .camera_checks import Coverage, Orientation, coverage_finding, orientation, static_findings
from .file_decode import DecodeReport, decode_files
from .file_problems import FileProblems, left_out_findings, missing_files
from .findings import Finding, unique
from .lidar_checks import lidar_up_finding
from .pose_checks import PoseCheck, check_poses
from .time_checks import TimeCheck, check_capture_times

DEFAULT_FRAMES = 5


def spread_frames(n_frames: int, count: int = DEFAULT_FRAMES) -> list[int]:
    """Up to ``count`` frame indices spread evenly over a drive of ``n_frames``, first and last included."""
    if n_frames <= 0:
        return []
    return sorted({int(round(x)) for x in np.linspace(0, n_frames - 1, min(count, n_frames))})


@dataclass
class CameraCheck:
    """One camera as checked: its model and size, where it looks (from the first checked frame's
    rig) and its :class:`~.camera_checks.Coverage` over the checked frames; ``sizes``: how many
    checked frames have each (width, height), more than one where the calibration changes from
    frame to frame (a KITTI object folder of two recording days: 1224x370 and 1242x375)."""

    name: str
    model: str
    size: tuple[int, int]
    orientation: Orientation
    coverage: Coverage = field(default_factory=Coverage)
    sizes: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        o, c = self.orientation, self.coverage
        return {"name": self.name, "model": self.model, "size": list(self.size),
                "pitch_up_deg": round(o.pitch_up_deg, 2),
                "down_off_deg": None if o.down_off_deg is None else round(o.down_off_deg, 2),
                "distance_from_lidar_m": round(o.distance_m, 3), "inverse_unseen": list(o.inverse_unseen),
                "frames": c.frames,
                "points_in_front": c.in_front, "points_in_image": c.in_image,
                "share_in_image": None if c.share is None else round(c.share, 4),
                "sizes": {f"{w}x{h}": n for (w, h), n in self.sizes.items()}}


@dataclass
class DriveCheck:
    """Everything ``check_drive`` found; ``findings`` empty means nothing looked wrong."""

    name: str
    root: str
    frame_ids: list[str]
    checked: list[int]
    cameras: dict[str, CameraCheck]
    poses: PoseCheck
    times: TimeCheck
    findings: list[Finding]
    sweep_notes: dict[str, list[str]] = field(default_factory=dict)   # frame ID -> the reader's notes
    without_images: list[str] = field(default_factory=list)   # cameras not checked: no image in the drive
    looked_up: int = 0          # frames whose files were only looked up (missing or empty), not read
    decoded: DecodeReport | None = None   # with ``decode``: every file of the frames decoded

    def as_dict(self) -> dict:
        return {"drive": self.name, "root": self.root, "frames": len(self.frame_ids),
                "checked_frames": [self.frame_ids[i] for i in self.checked],
                "cameras": [c.as_dict() for c in self.cameras.values()],
                "poses": {"status": self.poses.status,
                          "pairs": [p.as_dict(self.frame_ids) for p in self.poses.pairs]},
                "capture_times": {"status": self.times.status(), "cameras": self.times.cameras,
                                  "largest_offset_s": self.times.largest_offset_s},
                "sweep_notes": self.sweep_notes, "cameras_without_images": self.without_images,
                "files": {"looked_up_only": self.looked_up,
                          "decoded": None if self.decoded is None else self.decoded.as_dict()},
                "findings": [f.as_dict() for f in self.findings]}


def _check_images(drive: Drive, i: int, rig, problems: FileProblems) -> None:
    from ..io.images import check_image_size, image_size

    for cam, path in drive.frames[i].image_paths.items():
        try:
            model = rig.camera(cam).camera
            check_image_size(path, image_size(path), model.width, model.height, cam)
        except FusionLabelError as e:
            problems.add(cam, "image", i, drive.frames[i].frame_id, e)
        except KeyError:
            continue   # the drive reader refuses images of cameras not in the rig


def check_drive(drive: Drive, frames: list[int] | None = None, poses: bool = True,
                time_frames: list[int] | None = None, decode: bool = False, workers: int = 1,
                show_progress: bool = False) -> DriveCheck:
    """Check ``drive`` on the frames at ``frames`` (default :func:`spread_frames`); capture times on
    ``time_frames`` (default: ``frames`` when given, else every frame: they cost nothing to check);
    ``poses=False`` skips the pose check (the slow part). Cameras with no image in the drive are
    left out (``without_images``). ``decode``: decode every sweep and image of ``frames`` (default
    every frame) in up to ``workers`` processes, a progress bar on stderr when ``show_progress``."""
    checked = list(frames) if frames is not None else spread_frames(len(drive))
    imageless = cameras_without_images(drive)
    cameras: dict[str, CameraCheck] = {}
    per_camera: dict[str, list[Finding]] = defaultdict(list)
    lidar_findings: list[Finding] = []
    problems = FileProblems()
    sweep_notes: dict[str, list[str]] = {}
    looked_up = checked if frames is not None else range(len(drive))
    unread = [] if decode else sorted(set(looked_up) - set(checked))
    missing_files(drive, unread, problems)
    for i in checked:
        fid = drive.frames[i].frame_id
        try:
            rig = drive.rig(i)
        except FusionLabelError as e:
            problems.add(f"frame {fid}", "rig", i, fid, e)
            continue
        checked_cameras = [sensor for sensor in rig.cameras if sensor.name not in imageless]
        for name, found in static_findings(rig, checked_cameras).items():
            per_camera[name] += found
        if (f := lidar_up_finding(rig)) is not None:
            lidar_findings.append(f)
        for sensor in checked_cameras:
            if sensor.name not in cameras:
                cameras[sensor.name] = CameraCheck(sensor.name, sensor.camera.model, sensor.camera.size,
                                                   orientation(sensor, rig))
            cameras[sensor.name].sizes[tuple(sensor.camera.size)] += 1
        _check_images(drive, i, rig, problems)
        try:
            with collected_notes() as notes:
                points = drive.points(i)
        except FusionLabelError as e:
            problems.add(f"frame {fid}", "sweep", i, fid, e)
            continue
        if notes:
            sweep_notes[fid] = [note for _, note in notes]
        for sensor in checked_cameras:
            cameras[sensor.name].coverage.add(points, drive.T_cam_lidar(i, sensor.name), sensor.camera)
    decoded = decode_files(drive, looked_up, problems, workers, show_progress) if decode else None
    for name, cam in cameras.items():
        if (f := coverage_finding(name, cam.coverage)) is not None:
            per_camera[name].append(f)
    if poses:
        pose_check = check_poses(drive, checked)
    else:
        pose_check = PoseCheck("not checked", [], [])
    if time_frames is None:
        time_frames = checked if frames is not None else list(range(len(drive)))
    times = check_capture_times(drive, time_frames)
    findings = problems.findings(len(looked_up)) + left_out_findings(drive)
    findings += unique(lidar_findings) + [f for name in cameras for f in unique(per_camera[name])]
    findings += pose_check.findings + times.findings
    return DriveCheck(drive.name, str(drive.root), [f.frame_id for f in drive.frames], checked, cameras,
                      pose_check, times, findings, sweep_notes, imageless, len(unread), decoded)
