"""Evaluation sets from the shared real-data samples and the simulator, as :class:`EvalFrame` lists.

Stop-gap readers for nuScenes (through nuscenes-devkit) and SUSTech label JSON until
``fusionlabel.io.nuscenes`` / ``io.sustech`` exist; KITTI goes through ``io.kitti``. Each loader
returns ``(points, frame)`` pairs: the sweep (N, C) float32 in the LiDAR frame and an
:class:`EvalFrame` with ground truth in the LiDAR frame, point counts and the labelled region.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np

from ..geometry.cuboid import Cuboid, count_points_in_cuboids
from ..model.annotation import CuboidLabel
from .detection import EvalFrame


def count_points(points: np.ndarray, labels: list[CuboidLabel]) -> np.ndarray:
    """LiDAR points inside each label's box, (n,) int64."""
    return count_points_in_cuboids(points, [lab.box for lab in labels])


# ---------------------------------------------------------------------------------------- KITTI
def kitti_camera_region(calib, image_wh: tuple[int, int], dontcare: list[tuple[float, float, float, float]],
                        camera: int = 2):
    """Region test for KITTI: the box centre projects into image ``camera`` and not into a DontCare box."""
    P = calib.P[camera] @ calib.T_rect_velo

    def region(centres: np.ndarray) -> np.ndarray:
        c = np.c_[centres, np.ones(len(centres))] @ P.T
        z = c[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            u, v = c[:, 0] / z, c[:, 1] / z
        ok = (z > 0.5) & (u >= 0) & (u < image_wh[0]) & (v >= 0) & (v < image_wh[1])
        for x1, y1, x2, y2 in dontcare:
            ok &= ~((u >= x1) & (u <= x2) & (v >= y1) & (v <= y2))
        return ok
    return region


def kitti_object_frames(root: str | Path) -> Iterator[tuple[np.ndarray, EvalFrame]]:
    """Every labelled frame of a KITTI object folder."""
    from ..assist.builtin import rig_forward
    from ..io.images import image_size
    from ..io.kitti import open_kitti_object, read_kitti_calib, read_kitti_label_file

    drive = open_kitti_object(root)
    for i, f in enumerate(drive.frames):
        label_path = drive.root / "label_2" / f"{f.frame_id}.txt"
        if not label_path.exists():
            continue
        calib = read_kitti_calib(drive.root / "calib" / f"{f.frame_id}.txt")
        dontcare = [line.bbox for line in read_kitti_label_file(label_path) if line.type == "DontCare"]
        wh = image_size(f.image_paths["image_2"])
        points = drive.points(i)
        gt = drive.labels(i)
        yield points, EvalFrame(f.frame_id, gt, [], count_points(points, gt),
                                kitti_camera_region(calib, wh, dontcare), forward=rig_forward(drive, i))


# ---------------------------------------------------------------------------------------- nuScenes
def nuscenes_frames(dataroot: str | Path, version: str = "v1.0-mini") -> Iterator[tuple[np.ndarray, EvalFrame]]:
    """Every keyframe of a nuScenes folder: LIDAR_TOP points and boxes in the LiDAR frame (devkit)."""
    from nuscenes.nuscenes import NuScenes

    from ..geometry.transforms import rotation_from_quaternion
    from ..io.pointcloud import read_points

    nusc = NuScenes(version=version, dataroot=str(dataroot), verbose=False)
    for sample in nusc.sample:
        token = sample["data"]["LIDAR_TOP"]
        path, boxes, _ = nusc.get_sample_data(token)
        sensor = nusc.get("calibrated_sensor", nusc.get("sample_data", token)["calibrated_sensor_token"])
        # the vehicle's +x in the LiDAR frame: row 0 of R_ego_lidar
        ahead = rotation_from_quaternion(sensor["rotation"])[0, :2]
        points = read_points(path)
        gt = []
        for b in boxes:
            w, l, h = b.wlh
            yaw = float(b.orientation.yaw_pitch_roll[0])
            gt.append(CuboidLabel(Cuboid(b.center, (l, w, h), yaw), b.name, b.token, None, "import"))
        yield points, EvalFrame(sample["token"], gt, [], count_points(points, gt), None,
                                forward=tuple(float(v) for v in ahead / np.hypot(*ahead)))


# ---------------------------------------------------------------------------------------- SUSTech
def read_sustech_labels(path: str | Path) -> list[CuboidLabel]:
    """A SUSTechPOINTS label JSON (list of {psr: {position, scale, rotation}, obj_type, obj_id})."""
    from ..io.sustech import read_sustech_labels as read

    return read(path)


def track_gap_boxes(labels_by_frame: dict[int, list[CuboidLabel]],
                    poses: dict[int, np.ndarray] | None = None) -> dict[int, list[Cuboid]]:
    """Don't-care boxes for labelling gaps: a track labelled in an earlier and a later frame but not
    in a frame between is still there. Its box is interpolated linearly between the nearest labelled
    frames (centre, size; yaw along the shortest arc). ``labels_by_frame``: frame number -> labels
    with track IDs; returns frame number -> boxes in that frame's LiDAR frame. ``poses``: frame
    number -> T_world_lidar, to interpolate in the world frame (a parked car stays put while the ego
    drives by); without them the LiDAR frame is the world (the frames must be close enough in time
    for a straight line)."""
    from ..geometry.transforms import angle_difference, invert_T

    def to_world(n: int, box: Cuboid) -> Cuboid:
        return box.transformed(poses[n]) if poses is not None else box

    seen: dict[str, dict[int, Cuboid]] = {}
    for n, labels in labels_by_frame.items():
        for lab in labels:
            if lab.track_id is not None:
                seen.setdefault(lab.track_id, {})[n] = to_world(n, lab.box)
    out: dict[int, list[Cuboid]] = {n: [] for n in labels_by_frame}
    for boxes in seen.values():
        for n in labels_by_frame:
            before = [m for m in boxes if m < n]
            after = [m for m in boxes if m > n]
            if n in boxes or not before or not after:
                continue
            a, b = max(before), min(after)
            t = (n - a) / (b - a)
            ba, bb = boxes[a], boxes[b]
            yaw = ba.yaw + t * angle_difference(bb.yaw, ba.yaw)
            box = Cuboid(np.add(ba.center, t * np.subtract(bb.center, ba.center)),
                         np.add(ba.size, t * np.subtract(bb.size, ba.size)), yaw)
            out[n].append(box.transformed(invert_T(poses[n])) if poses is not None else box)
    return out


# Real objects the SUSTechPOINTS example scene (realdata/sustech_sequence) leaves unlabelled, found by
# reviewing the built-in detector's false positives in the camera images (000965-000975) and against
# the labelled tracks (000950 has no images): frame -> [(centre, size (l, w, h), yaw, what it is)].
# Used only with ``sustech_frames(..., reviewed=True)``; every other false positive checked there
# was clutter (railings, hedges, poles, sign boards) or behind the ego, where no camera looks.
SUSTECH_EXAMPLE_UNLABELLED = {
    "000965": [((3.6, -4.4, -1.1), (4.7, 1.9, 1.5), -1.54,
                "car 2 of 000970/000975 driving beside the ego, seen whole in camera left")],
    "000950": [((3.2, -7.3, -1.1), (4.7, 1.9, 1.5), -1.54,
                "car 2 before its first label, where its track leads (no images in 000950)"),
               ((14.5, -4.3, -1.6), (4.4, 1.8, 1.8), 1.60,
                "car 12 before its first label, where its track leads (no images in 000950)")],
}


def sustech_frames(root: str | Path, reviewed: bool = False) -> Iterator[tuple[np.ndarray, EvalFrame]]:
    """Every labelled frame of a SUSTechPOINTS scene folder (lidar/*.pcd, label/*.json).

    SUSTech's example labels are not exhaustive: a tracked object is sometimes missing from one
    frame. Such gaps (see :func:`track_gap_boxes`) become don't-care boxes; with ``reviewed`` so do
    the unlabelled objects of :data:`SUSTECH_EXAMPLE_UNLABELLED` (for the shared example scene)."""
    from ..io.pointcloud import read_points

    root = Path(root)
    forward = _sustech_forward(root)
    pairs = [(pcd, root / "label" / f"{pcd.stem}.json") for pcd in sorted((root / "lidar").glob("*.pcd"))]
    pairs = [(pcd, label) for pcd, label in pairs if label.exists()]
    labels = {k: read_sustech_labels(label) for k, (_, label) in enumerate(pairs)}
    numbers = {k: int(pcd.stem) if pcd.stem.isdigit() else k for k, (pcd, _) in enumerate(pairs)}
    gaps = track_gap_boxes({numbers[k]: labels[k] for k in labels})
    for k, (pcd, _) in enumerate(pairs):
        points = read_points(pcd)
        gt = labels[k]
        ignore = list(gaps[numbers[k]])
        if reviewed:
            ignore += [Cuboid(c, size, yaw) for c, size, yaw, _ in SUSTECH_EXAMPLE_UNLABELLED.get(pcd.stem, [])]
        yield points, EvalFrame(pcd.stem, gt, [], count_points(points, gt), None, ignore, forward)


def _sustech_forward(root: Path) -> tuple[float, float]:
    """The ego's forward in a SUSTechPOINTS scene's LiDAR frame, from its front camera (LiDAR +x
    when the scene has no camera)."""
    from ..assist.builtin import rig_forward
    from ..io.sustech import open_sustech

    return rig_forward(open_sustech(root), 0)


# ---------------------------------------------------------------------------------------- simulator
def simulated_frames(seed: int, n_frames: int, points: int = 120_000, every: int = 1
                     ) -> Iterator[tuple[np.ndarray, EvalFrame]]:
    """Frames of a simulated drive (no cameras); ground-truth point counts from the ray hits."""
    from ..sim.scenario import build_scenario
    from ..sim.simulator import Simulator

    sim = Simulator(build_scenario(seed, n_frames), points=points, cameras=False)
    for i in range(0, n_frames, every):
        f = sim.frame(i)
        counts = np.array([lab.attributes.get("num_lidar_points", 0) for lab in f.labels], np.int64)
        yield f.points, EvalFrame(f"sim{seed}-{f.frame_id}", f.labels, [], counts, None)


# ---------------------------------------------------------------------------------------- KITTI tracking
def kitti_tracking_sequence(root: str | Path, sequence: str) -> list[list[CuboidLabel]]:
    """Ground truth of one KITTI tracking sequence, per frame, in the Velodyne frame.

    ``root`` holds ``label_02/<seq>.txt`` and ``calib/<seq>.txt`` (object-style keys). DontCare
    lines and objects without a track ID are skipped; track IDs become strings. Frames without
    objects give empty lists.
    """
    from ..io.kitti import read_kitti_calib
    from ..io.kitti_tracking import read_tracking_labels

    root = Path(root)
    calib = read_kitti_calib(root / "calib" / f"{sequence}.txt")
    by_frame = read_tracking_labels(root / "label_02" / f"{sequence}.txt", calib)
    n = max(by_frame, default=-1) + 1
    return [[lab for lab in by_frame.get(i, []) if lab.track_id is not None] for i in range(n)]
