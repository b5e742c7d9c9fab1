"""Evaluation sets from the shared real-data samples and the simulator, as :class:`EvalFrame` lists.

Stop-gap readers for nuScenes (through nuscenes-devkit) and SUSTech label JSON until
``fusionlabel.io.nuscenes`` / ``io.sustech`` exist; KITTI goes through ``io.kitti``. Each loader
returns ``(points, frame)`` pairs: the sweep (N, C) float32 in the LiDAR frame and an
:class:`EvalFrame` with ground truth in the LiDAR frame, point counts and the labelled region.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import LabelError
from ..geometry.cuboid import Cuboid, points_in_cuboid
from ..model.annotation import CuboidLabel
from .detection import EvalFrame


def count_points(points: np.ndarray, labels: list[CuboidLabel]) -> np.ndarray:
    """LiDAR points inside each label's box, (n,) int64 (a cheap radius cull first)."""
    xy = points[:, :2].astype(np.float64)
    out = np.zeros(len(labels), np.int64)
    for k, lab in enumerate(labels):
        b = lab.box
        r = 0.5 * float(np.linalg.norm(b.size))
        near = np.flatnonzero(np.abs(xy - b.center[:2]).max(axis=1) <= r)
        out[k] = int(points_in_cuboid(points[near], b).sum())
    return out


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
                                kitti_camera_region(calib, wh, dontcare))


# ---------------------------------------------------------------------------------------- nuScenes
def nuscenes_frames(dataroot: str | Path, version: str = "v1.0-mini") -> Iterator[tuple[np.ndarray, EvalFrame]]:
    """Every keyframe of a nuScenes folder: LIDAR_TOP points and boxes in the LiDAR frame (devkit)."""
    from nuscenes.nuscenes import NuScenes

    from ..io.pointcloud import read_points

    nusc = NuScenes(version=version, dataroot=str(dataroot), verbose=False)
    for sample in nusc.sample:
        token = sample["data"]["LIDAR_TOP"]
        path, boxes, _ = nusc.get_sample_data(token)
        points = read_points(path)
        gt = []
        for b in boxes:
            w, l, h = b.wlh
            yaw = float(b.orientation.yaw_pitch_roll[0])
            gt.append(CuboidLabel(Cuboid(b.center, (l, w, h), yaw), b.name, b.token, None, "import"))
        yield points, EvalFrame(sample["token"], gt, [], count_points(points, gt), None)


# ---------------------------------------------------------------------------------------- SUSTech
def read_sustech_labels(path: str | Path) -> list[CuboidLabel]:
    """A SUSTechPOINTS label JSON (list of {psr: {position, scale, rotation}, obj_type, obj_id})."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise LabelError(path, f"cannot read label JSON ({e})") from None
    if not isinstance(doc, list):
        raise LabelError(path, f"expected a list of objects, got {type(doc).__name__}")
    out = []
    for k, obj in enumerate(doc):
        try:
            psr = obj["psr"]
            pos = [float(psr["position"][a]) for a in "xyz"]
            scale = [float(psr["scale"][a]) for a in "xyz"]
            rot = [float(psr["rotation"][a]) for a in "xyz"]
            label = str(obj["obj_type"])
        except (KeyError, TypeError, ValueError) as e:
            raise LabelError(path, f"expected psr.position/scale/rotation x, y, z and obj_type ({e!r})",
                             where=f"[{k}]") from None
        out.append(CuboidLabel(Cuboid(pos, scale, rot[2], rot[1], rot[0]), label,
                               str(obj.get("obj_id")) if obj.get("obj_id") is not None else None, None, "import"))
    return out


def sustech_frames(root: str | Path) -> Iterator[tuple[np.ndarray, EvalFrame]]:
    """Every labelled frame of a SUSTechPOINTS scene folder (lidar/*.pcd, label/*.json)."""
    from ..io.pointcloud import read_points

    root = Path(root)
    for pcd in sorted((root / "lidar").glob("*.pcd")):
        label = root / "label" / f"{pcd.stem}.json"
        if not label.exists():
            continue
        points = read_points(pcd)
        gt = read_sustech_labels(label)
        yield points, EvalFrame(pcd.stem, gt, [], count_points(points, gt), None)


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
    lines are skipped; track IDs become strings. Frames without objects give empty lists.
    """
    from ..io.kitti import label_from_kitti, read_kitti_calib, read_kitti_label_file

    root = Path(root)
    label_path = root / "label_02" / f"{sequence}.txt"
    calib = read_kitti_calib(root / "calib" / f"{sequence}.txt")
    lines = read_kitti_label_file(label_path, tracking=True)
    n = max((line.frame for line in lines), default=-1) + 1
    frames: list[list[CuboidLabel]] = [[] for _ in range(n)]
    T = calib.T_velo_rect
    for k, line in enumerate(lines):
        if line.type == "DontCare" or line.track_id is None or line.track_id < 0:
            continue
        frames[line.frame].append(label_from_kitti(line, T, label_path, k + 1))
    return frames
