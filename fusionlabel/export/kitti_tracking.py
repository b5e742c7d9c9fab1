"""KITTI tracking export: ``label_02/<seq>.txt`` (frame, track ID, then the KITTI object fields),
one ``calib/<seq>.txt``, ``oxts/<seq>.txt`` and optionally ``velodyne/<seq>/`` and ``image_02/<seq>/``.

As in KITTI's tracking files, values have 6 decimals and truncation is an integer level
(0: under half of the projection outside the image, 1: half or more, 2: none of it in the image;
:func:`~fusionlabel.io.kitti_truncation.truncation_level`).

The exported frames, in drive order, are numbered 0, 1, … without gaps in the label file, the
sweep and image names and the oxts records (KITTI tracking loaders count a sequence's frames from 0
by its images); ``frames_<seq>.txt`` maps each number to the frame ID it came from. A selection
(``--frames``), a frame left out for want of an image (when images are written and the drive has
them, as the KITTI object exporter does) and a frame ``--skip-bad-frames`` skipped are therefore no
hole: the frames after it are numbered on. Track IDs that are all non-negative integers are
kept; otherwise they are renumbered 0, 1, … in order of first appearance (``tracks_<seq>.txt`` maps them
back). A sequence has one calibration: the rig's static LiDAR -> camera transform and one levelling
``R0_rect`` (both from the first frame's rig), so 3D boxes are written in that rectified frame and
every image is rotated by the same levelling (none for a rectified camera, as a native copy of KITTI
has); 2D boxes still use each frame's exact geometry. The calibration file has the tracking release's
layout (:func:`tracking_calib_text`). From a KITTI tracking sequence (or KITTI object folder) the
source calibration is kept (its text, when it already has that layout) and the DontCare regions of
the source label file are written back in their frames.

The sequence is named by ``--sequence``, else after the source's (a KITTI tracking sequence, its
native copy or a project on either: :func:`~fusionlabel.io.kitti_layout.kitti_origin`), else ``0000``.
The frames of a KITTI object folder (or of its copy) are unrelated scenes: they are written as one
sequence all the same, and the summary says that they are separate scenes whose track IDs link nothing.
"""

from __future__ import annotations

import numpy as np

from ..geometry.transforms import invert_T
from ..io.kitti import KittiCalib, read_kitti_calib
from ..io.kitti_layout import OBJECT, kitti_origin
from ..io.kitti_tracking import OXTS_DEFAULT_ORIGIN, oxts_from_poses, oxts_text, read_oxts
from ..model.annotation import CuboidLabel
from .base import frame_ranges
from .kitti import KittiExporter, calib_file_text
from .levelling import Levelling
from .option_checks import check_sequence

# KITTI tracking's calibration files (data_tracking_calib) name these matrices without a colon
# ("R_rect 9.999239e-01 ..."), after P0:-P3:, which have one.
TRACKING_CALIB_KEYS = ("R_rect", "Tr_velo_cam", "Tr_imu_velo")


def tracking_calib_text(calib: KittiCalib) -> str:
    """A calibration in the KITTI tracking release's layout: ``P0:`` ``P1:`` ``P2:`` ``P3:``
    ``R_rect`` ``Tr_velo_cam`` ``Tr_imu_velo``, in that order. The file's own text when it already
    has exactly that layout, else its matrices written so (a missing ``Tr_imu_to_velo`` stays out)."""
    text = calib.path.read_text(encoding="utf-8")
    keys = [line.split()[0] for line in text.splitlines() if line.strip()]
    present = (*(f"P{i}:" for i in sorted(calib.P)), *TRACKING_CALIB_KEYS[:2],
               *TRACKING_CALIB_KEYS[2:3 if calib.Tr_imu_to_velo is not None else 2])
    if keys == list(present):
        return text
    return calib_file_text(calib.P, calib.R0_rect, calib.Tr_velo_to_cam, calib.Tr_imu_to_velo, TRACKING_CALIB_KEYS)


def oxts_origin(drive, first: int) -> tuple[tuple[float, float, float], str]:
    """(lat, lon, alt) for the first written OXTS record (drive frame ``first``) and words saying
    where it comes from: that frame's own record in a KITTI tracking sequence, else
    :data:`OXTS_DEFAULT_ORIGIN`."""
    if getattr(drive, "has_poses", False) and hasattr(drive, "sequence"):
        number = int(drive.frames[first].lidar_path.stem)     # the frame's line in the source's oxts file
        record = read_oxts(drive.root / "oxts" / f"{drive.sequence}.txt")[number]
        return (float(record[0]), float(record[1]), float(record[2])), "the source's own latitude and longitude"
    lat, lon, alt = OXTS_DEFAULT_ORIGIN
    return OXTS_DEFAULT_ORIGIN, (f"latitude {lat:g}, longitude {lon:g}, altitude {alt:g} m (fusionlabel's "
                                 "default: the drive's poses have no geographic position)")


class KittiTrackingExporter(KittiExporter):
    """KITTI tracking format; see the module docstring."""

    name = "kitti-tracking"
    tracking = True
    one_class_per_track = True
    calib_keys = TRACKING_CALIB_KEYS
    image_rule = ("KITTI tracking loaders read image_02/<seq>/ for every frame; the frames after it are "
                  "numbered on without a gap")

    def order(self, frames: list[int]) -> list[int]:
        return sorted(frames)      # a sequence runs forward in time

    def begin(self) -> None:
        super().begin()
        self.seq = check_sequence(self.options.sequence if self.options.sequence is not None
                                  else kitti_origin(self.drive)[1] or "0000")
        first = self.frames[0] if self.frames else 0
        src_calib = self.source_calib(first)
        self.level = KittiExporter.levelling(self, first)     # one levelled camera for the sequence
        self.turn = KittiExporter.velodyne_T(self, first)     # one Velodyne frame for the sequence
        self.T_velo_imu = None
        if src_calib is not None:
            calib = read_kitti_calib(src_calib)
            self.T_rect_velo = calib.T_rect_velo
            self.calib_text = tracking_calib_text(calib)
            if calib.Tr_imu_to_velo is not None:
                self.T_velo_imu = np.vstack([calib.Tr_imu_to_velo, [0.0, 0.0, 0.0, 1.0]])
        else:   # labels: from the drive's LiDAR frame; the vehicle frame is the "IMU"
            T_cam_lidar = self.drive.rig(first).T_cam_lidar(self.camera)
            self.T_rect_velo, self.T_velo_imu, self.calib_text = self.written_calib(first, T_cam_lidar)
        self.track_ids: dict[str, int] = {}
        self.written: list[int] = []     # drive index of each written frame number
        self.untracked = 0
        self.lines: list[str] = []
        self.calib_mismatch = 0
        self.motion_frames = 0
        ids = {lab.track_id for i in self.frames for lab in self.labels_for(i) if lab.track_id is not None}
        self.keep_ids = all(t.isdigit() for t in ids)
        self.next_id = max((int(t) for t in ids), default=-1) + 1 if self.keep_ids else 0

    def levelling(self, i: int) -> Levelling:
        """The sequence's one levelling (from its first frame's rig), for every frame."""
        return self.level

    def velodyne_T(self, i: int) -> np.ndarray | None:
        """The sequence's one turn (from its first frame's rig), for every frame."""
        return self.turn

    def _track_number(self, lab: CuboidLabel | None) -> int:
        """KITTI track ID of a label (-1 for DontCare regions)."""
        if lab is None:
            return -1
        key = lab.track_id
        if key is None:
            self.untracked += 1
            key = f"(untracked {self.untracked})"
        if key not in self.track_ids:
            n = int(lab.track_id) if self.keep_ids and lab.track_id is not None else self.next_id
            self.track_ids[key] = n
            self.next_id = max(self.next_id, n + 1)
        return self.track_ids[key]

    def add_frame(self, i: int) -> None:
        rig = self.drive.rig(i)
        if not np.allclose(rig.T_cam_lidar(self.camera), self.drive.rig(self.frames[0]).T_cam_lidar(self.camera),
                           atol=1e-9):
            self.calib_mismatch += 1
        if not np.allclose(self.drive.T_cam_lidar(i, self.camera), rig.T_cam_lidar(self.camera), atol=1e-9):
            self.motion_frames += 1
        self.note_missing_label_file(i)
        number = len(self.written)       # frames are numbered 0, 1, ... as written: no gaps
        self.written.append(i)
        lines = self.object_lines(i, self.T_rect_velo, prefix_for=lambda lab: f"{number} {self._track_number(lab)} ")
        self.lines.extend(lines)
        if self.options.sensor_data:
            self.write_sensor_data(i, f"velodyne/{self.seq}/{number:06d}.bin", f"image_02/{self.seq}/{number:06d}.png")
        self.frame_list.append(f"{number:06d} {self.drive.frames[i].frame_id}")

    def finish(self) -> None:
        self.write_text(f"label_02/{self.seq}.txt", "".join(line + "\n" for line in self.lines))
        self.write_text(f"calib/{self.seq}.txt", self.calib_text)
        self.write_text(f"frames_{self.seq}.txt", "".join(line + "\n" for line in self.frame_list))
        self.write_text(f"tracks_{self.seq}.txt", "".join(f"{n} {t}\n" for t, n in self.track_ids.items()))
        self.write_oxts()
        self.note_numbering()
        self.add_notes()

    def note_numbering(self) -> None:
        """Say in the summary when the written frame numbers are not the drive's indices (a
        selection, or frames left out or skipped), and where the source frames are named."""
        if self.written == list(range(len(self.written))):
            return
        names = frame_ranges(self.written, lambda i: self.drive.frames[i].frame_id)
        self.summary.note(f"frames renumbered 0-{len(self.written) - 1} without gaps (KITTI tracking numbers a "
                          f"sequence's frames from 0 and loaders count them by their images): they are the source's "
                          f"{names}; frames_{self.seq}.txt maps each number to its source frame ID, and the KITTI "
                          "tracking reader times frame n at n x 100 ms")

    def write_oxts(self) -> None:
        """``oxts/<seq>.txt`` from the drive's ego poses, one record per written frame (line n for
        frame number n), so that the KITTI tracking reader gives the poses back
        (:func:`~fusionlabel.io.kitti_tracking.oxts_from_poses`): the Velodyne's pose as written,
        placed on the calibration's ``Tr_imu_to_velo``. None for a drive without poses."""
        if not self.written:
            return
        if all(np.allclose(self.drive.frames[i].T_world_vehicle, np.eye(4)) for i in self.written):
            self.summary.note(f"ego poses: the drive has none (every frame at the world origin), so no "
                              f"oxts/{self.seq}.txt was written")
            return
        if self.T_velo_imu is None:
            self.summary.note(f"ego poses: the copied calibration has no Tr_imu_to_velo to place them with, so no "
                              f"oxts/{self.seq}.txt was written")
            return
        T_lidar_velo = np.eye(4) if self.turn is None else invert_T(self.turn)
        T_world_imu = np.stack([self.drive.T_world_lidar(i) @ T_lidar_velo @ self.T_velo_imu for i in self.written])
        origin, where = oxts_origin(self.drive, self.written[0])
        self.write_text(f"oxts/{self.seq}.txt", oxts_text(oxts_from_poses(T_world_imu, origin)))
        self.summary.note(f"ego poses written as oxts/{self.seq}.txt: position and orientation only (velocities, "
                          "accelerations, angular rates, accuracies and GPS status are 0), the first frame at "
                          f"{where}; the reader puts the world origin at the first frame")

    def note_common(self) -> None:
        if kitti_origin(self.drive)[0] == OBJECT and len(self.written) > 1:
            self.summary.note(f"the frames come from a KITTI object folder: they are {len(self.written)} separate "
                              f"scenes, not one recording, written as one sequence ({self.seq}); their track IDs are "
                              "not linked across frames (no object is followed from one frame to the next)")
        if self.untracked:
            self.summary.note(f"{self.untracked} object(s) without a track ID: each got a new KITTI track ID")
        if self.calib_mismatch:
            self.summary.note(f"{self.calib_mismatch} frame(s) have a calibration different from the first frame's; "
                              "a KITTI tracking sequence holds one (3D boxes use the first frame's)")
        if self.motion_frames:
            self.summary.note(f"ego motion between LiDAR and camera capture in {self.motion_frames} frame(s): the "
                              "sequence calibration is the static one (2D boxes account for the motion)")
        self.summary.note("label sources and attributes other than KITTI's fields")
