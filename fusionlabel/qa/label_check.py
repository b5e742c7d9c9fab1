"""The label part of `fusionlabel check`: which cuboids are checked, and the checks run on them.

The labels are a project's current cuboids (human and imported ones, pre-labels once accepted) or,
for a drive folder, the drive's own labels (native ``labels/``, KITTI ``label_2/``, SUSTech
``label/``, nuScenes annotations). Pre-labels not yet accepted (source ``model``) are a model's
guesses, not work to review: they are counted and left out. KITTI's DontCare regions are no objects.

Each labelled frame's boxes get the single-frame checks of :mod:`.box_checks` (the empty and
ground checks read its sweep; each sweep's ground is kept for the next check by :mod:`.ground_cache`);
the tracks over all labelled frames get :mod:`.track_checks`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import FusionLabelError
from ..geometry.projection import project_points
from ..model.annotation import CuboidLabel
from ..model.drive import Drive, has_ego_poses
from ..wording import counted, listing
from . import box_checks
from .file_problems import FileProblems
from .findings import Finding
from .ground_cache import ground_folder, prune
from .track_checks import TrackFrame, track_findings
from .track_continuity import continuity_findings
from .track_presence import TrackPresence

NOT_OBJECTS = ("DontCare",)


@dataclass
class LabelCheck:
    """What the label checks looked at and found. ``source``: ``project`` or ``drive``;
    ``prelabels``: pre-labels not yet accepted, left out; ``notes``: checks that could not run."""

    source: str
    frames: int = 0
    boxes: int = 0
    tracks: int = 0
    prelabels: int = 0
    swept_frames: int = 0
    notes: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def status(self) -> str:
        """One line: what was checked."""
        if not self.frames:
            what = f"no labelled frame in the {self.source}"
        else:
            what = (f"{counted(self.boxes, 'box')} in {counted(self.frames, 'frame')} "
                    f"({counted(self.tracks, 'track')}) from the {self.source}, sweeps read for {self.swept_frames}")
        if self.prelabels:
            what += f"; {counted(self.prelabels, 'pre-label')} not yet accepted left out"
        return what

    def as_dict(self) -> dict:
        return {"source": self.source, "frames": self.frames, "boxes": self.boxes, "tracks": self.tracks,
                "prelabels_left_out": self.prelabels, "frames_with_sweep_checks": self.swept_frames,
                "notes": self.notes}


def drive_labels(drive: Drive) -> dict[int, list[CuboidLabel]]:
    """A drive's own labels by frame index, for the frames that have any."""
    out = {}
    for i, f in enumerate(drive.frames):
        if f.labels_source is not None and (labels := drive.labels(i)):
            out[i] = labels
    return out


def check_labels(drive: Drive, labels: dict[int, list[CuboidLabel]], source: str,
                 frames: list[int] | None = None, sweeps: bool = True,
                 absent: dict[int, set[str]] | None = None, cache: bool = True) -> LabelCheck:
    """Check ``labels`` (by frame index of ``drive``; from ``source``, ``project`` or ``drive``)
    on ``frames`` (default: every labelled frame); ``sweeps=False`` skips the checks that read the
    sweeps (empty boxes, ground); ``absent``: by frame index, the tracks marked absent there (a
    project's marks; a drive has none); ``cache``: keep each sweep's ground returns in the user's
    cache folder for the next check, and read them from there (:mod:`.ground_cache`)."""
    report = LabelCheck(source)
    ground_cache = ground_folder() if cache else None
    wanted = sorted(labels if frames is None else set(frames) & set(labels))
    checked: dict[int, list[CuboidLabel]] = {}
    # By frame: the tracks marked absent there, and those a pre-label holds there (an interpolated or
    # propagated box not yet accepted): neither is a track left out of the frame.
    accounted = {i: set(tracks) for i, tracks in (absent or {}).items()}
    for i in wanted:
        objects = [lab for lab in labels[i] if lab.label not in NOT_OBJECTS]
        report.prelabels += sum(lab.source == "model" for lab in objects)
        accounted.setdefault(i, set()).update(lab.track_id for lab in objects
                                              if lab.source == "model" and lab.track_id is not None)
        if kept := [lab for lab in objects if lab.source != "model"]:
            checked[i] = kept
    report.frames = len(checked)
    report.boxes = sum(len(v) for v in checked.values())
    report.tracks = len({lab.track_id for v in checked.values() for lab in v if lab.track_id is not None})
    track_frames = checked_track_frames(drive, checked, report.notes, accounted)
    order = list(checked)
    presence = (TrackPresence(track_frames, in_labelled_region(drive, order))
                if sweeps and track_frames and related_frames(track_frames, report.notes) else None)
    unread = FileProblems()   # sweeps that cannot be read: errors, as `check`'s drive part finds them
    for j, (i, kept) in enumerate(checked.items()):
        fid = drive.frames[i].frame_id
        report.findings += box_checks.size_findings(fid, kept) + box_checks.duplicate_findings(fid, kept)
        if not sweeps:
            continue
        try:
            points = drive.points(i)
        except FusionLabelError as e:
            report.notes.append(f"frame {fid}: sweep not read, its boxes not checked for points and ground ({e})")
            unread.add(f"frame {fid}", "sweep", i, fid, e)
            continue
        report.swept_frames += 1
        report.findings += (box_checks.empty_findings(fid, kept, points)
                            + box_checks.ground_findings(fid, kept, points, ground_cache))
        if presence is not None and presence.needs(j):
            presence.count(j, points)
    report.findings = unread.findings(len(checked)) + same_box_once(report.findings)
    report.findings += (track_findings(track_frames, report.notes, presence.tracks if presence else None)
                        + continuity_findings(track_frames, presence))
    prune(ground_cache)
    return report


def in_labelled_region(drive: Drive, order: list[int]):
    """The region test of :class:`~.track_presence.TrackPresence` for ``drive``'s checked frames
    (drive indices ``order``): labels read from KITTI cover its camera's view only (their
    ``kitti_camera``), so a box there must have its centre in that camera's image (a drive without
    that camera: nowhere); other labels cover everything around the ego."""

    def inside(j: int, label: CuboidLabel, box) -> bool:
        camera = label.attributes.get("kitti_camera")
        if camera is None:
            return True
        try:
            sensor = drive.rig(order[j]).camera(camera)
            T = drive.T_cam_lidar(order[j], camera)
        except (FusionLabelError, KeyError):
            return False
        return len(project_points(np.asarray([box.center], float), T, sensor.camera).index) == 1

    return inside


def same_box_once(findings: list[Finding]) -> list[Finding]:
    """Findings that say the same of one track's box in several frames (``frame F track T ...``,
    same check, message and boxes: a box copied along its track keeps its size) as one finding
    naming the frames; the others unchanged, in order. Two findings of one frame stay two (two
    duplicates of one track there, told apart by their boxes)."""
    groups: dict[tuple, list[tuple[str, Finding]]] = {}
    for f in findings:
        frame, _, rest = f.subject.removeprefix("frame ").partition(" ")
        key = (rest, f.check, f.message, f.boxes) if rest.startswith("track ") else (f,)
        groups.setdefault(key, []).append((frame, f))
    out = []
    for key, members in groups.items():
        if len(members) == 1:
            out.append(members[0][1])
            continue
        frames = [frame for frame, _ in members]
        f = members[0][1]
        out.append(replace(f, subject=key[0], message=f"{f.message}, in {len(frames)} frames ({listing(frames, 4)})",
                           frames=tuple(frames)))
    return out


def related_frames(frames: list[TrackFrame], notes: list[str]) -> bool:
    """Whether the checked frames are one recording, so that a track's box carried into the frame
    next to it says something (``track-end``, gaps): they have distinct capture times or ego poses.
    Frames with neither (a KITTI object folder: unrelated scenes) are not, and ``notes`` says so."""
    if len(frames) < 2 or frames[0].time_us is not None or frames[0].T_world_lidar is not None:
        return True
    notes.append("tracks not checked for boxes left out of frames: the frames have neither distinct "
                 "capture times nor ego poses, so they are not taken as one recording (a KITTI object folder)")
    return False


def checked_track_frames(drive: Drive, checked: dict[int, list[CuboidLabel]], notes: list[str],
                         absent: dict[int, set[str]]) -> list[TrackFrame]:
    """The track checks' view of drive frames ``checked`` ({index: labels}, in drive order): capture
    times (when distinct), ego poses (when the drive has them) and the tracks marked ``absent``; empty,
    with a line in ``notes``, when a frame's pose cannot be read."""
    poses = has_ego_poses(drive)
    times = [drive.frames[i].timestamp_us for i in checked]
    timed = len(set(times)) == len(times)
    if not timed and any(lab.track_id is not None for v in checked.values() for lab in v):
        notes.append("track jumps not checked: the frames have no distinct capture times")
    out = []
    for i, kept in checked.items():
        try:
            T = np.asarray(drive.T_world_lidar(i)) if poses else None
        except FusionLabelError as e:      # the frame's calibration: a drive check finding of its own
            notes.append(f"tracks not checked: the pose of frame {drive.frames[i].frame_id}'s LiDAR is unknown ({e})")
            return []
        out.append(TrackFrame(drive.frames[i].frame_id, drive.frames[i].timestamp_us if timed else None, T, kept,
                              frozenset(absent.get(i, ()))))
    return out
