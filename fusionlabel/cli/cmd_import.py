"""`fusionlabel import SOURCE --out DIR`: convert a nuScenes scene, a SUSTech-style folder or a KITTI
folder (optionally with OpenLABEL labels) into a native drive."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="convert a nuScenes scene, SUSTech-style or KITTI folder into a native drive",
                       description="Convert a drive into the native format (docs/native_format.md): sweeps as "
                                   "PCD, images copied unchanged, labels as JSON. --labels takes labels from an "
                                   "ASAM OpenLABEL file instead of the drive's own.")
    p.add_argument("source", type=Path, help="nuScenes dataroot, SUSTech-style folder, KITTI or native drive")
    p.add_argument("--out", required=True, type=Path, help="native drive folder to write")
    p.add_argument("--scene", help="nuScenes: scene name, token or index; KITTI tracking: sequence (0003 or 3)")
    p.add_argument("--sweeps", action="store_true", help="nuScenes: include the sweeps between keyframes")
    p.add_argument("--labels", type=Path, help="OpenLABEL JSON whose labels replace the drive's own")
    p.add_argument("--estimate-poses", action="store_true",
                   help="drives without ego poses: estimate them from the sweeps (planar LiDAR odometry) and "
                        "write them; refused when the drive has poses or a frame pair does not match reliably")
    p.add_argument("--force", action="store_true", help="write into a non-empty folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import DriveError
    from ..export.base import prepare_output
    from ..io.drives import open_drive
    from ..io.native import NativeDriveWriter
    from ..io.nuscenes import is_nuscenes_root, open_nuscenes
    from ..io.openlabel import read_openlabel

    if args.sweeps and is_nuscenes_root(args.source):
        drive = open_nuscenes(args.source, scene=args.scene, sweeps=True)
    else:
        drive = open_drive(args.source, args.scene)
    labels_for = read_openlabel(args.labels).labels_for(drive) if args.labels else drive.labels
    rig = drive.rig(0)
    for i in range(1, len(drive)):
        other = drive.rig(i)
        if other is not rig and any(not _same(other.sensors[n].T_vehicle_sensor, s.T_vehicle_sensor)
                                    for n, s in rig.sensors.items() if n in other.sensors):
            raise DriveError(args.source, f"frame {drive.frames[i].frame_id} has a calibration different from the "
                                          "first frame's; a native drive holds one rig")
    times = [f.timestamp_us for f in drive.frames]
    if any(b <= a for a, b in zip(times, times[1:])):
        raise DriveError(args.source, "frame timestamps do not increase; a native drive needs them to")
    from tqdm import tqdm

    poses = [f.T_world_vehicle for f in drive.frames]
    meta = {"imported_from": str(drive.root)}
    if args.estimate_poses:
        poses = estimated_poses(drive, args.source, args.quiet)
        meta["ego_poses"] = "estimated from the sweeps (fusionlabel.assist.odometry, planar: x, y, yaw)"
    prepare_output(args.out, args.force, drive.root)

    with NativeDriveWriter(args.out, rig, drive.name, meta=meta,
                           sweep_format="pcd") as writer:
        for i in tqdm(range(len(drive)), desc="import", unit="frame", file=sys.stderr, disable=args.quiet):
            f = drive.frames[i]
            # Per-camera ego poses and capture times go along, so the native copy projects as the source.
            entry = writer.add_frame(f.frame_id, f.timestamp_us, poses[i], drive.points(i), {},
                                     labels_for(i), T_world_vehicle_at_camera=f.T_world_vehicle_at_camera,
                                     camera_timestamps_us=f.camera_timestamps_us)
            for cam, src in f.image_paths.items():
                rel = f"cameras/{cam}/{f.frame_id}{src.suffix.lower()}"
                dst = args.out / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.write_bytes(src.read_bytes())
                entry["cameras"][cam] = rel
    print(f"wrote native drive {args.out} ({len(drive)} frames) from {drive.name}")
    for note in getattr(drive, "notes", []):
        print(f"note: {note}")
    return 0


def has_poses(drive) -> bool:
    """The drive carries ego poses: they differ between frames, or cameras have their own."""
    import numpy as np

    first = drive.frames[0].T_world_vehicle
    return any(not np.allclose(f.T_world_vehicle, first, atol=1e-9) or f.T_world_vehicle_at_camera
               for f in drive.frames)


def estimated_poses(drive, source: Path, quiet: bool) -> list:
    """Per frame T_world_vehicle estimated from the sweeps (see fusionlabel.assist.odometry), the
    first frame keeping its pose; prints the quality of every matched pair. DriveError when the
    drive already has poses, has fewer than two frames, or a pair did not match reliably."""
    import numpy as np
    from tqdm import tqdm

    from ..assist.odometry import estimate_poses
    from ..errors import DriveError

    if len(drive) < 2:
        raise DriveError(source, "--estimate-poses needs at least two frames", where="--estimate-poses")
    if has_poses(drive):
        raise DriveError(source, "the drive already has ego poses; --estimate-poses only fills in missing ones",
                         where="--estimate-poses")
    times = [f.timestamp_us * 1e-6 for f in drive.frames]
    with tqdm(total=len(drive), desc="estimate poses", unit="frame", file=sys.stderr, disable=quiet) as bar:
        od = estimate_poses(drive.points, times, progress=lambda i: bar.update(1))
    ids = [f.frame_id for f in drive.frames]
    for p in od.pairs:
        print(f"pose {ids[p.frame]} from {ids[p.reference]}: " + p.text().split(": ", 1)[1])
    if not od.ok:
        bad = "; ".join(f"{ids[p.frame]} from {ids[p.reference]}: {p.reason}" for p in od.failed)
        raise DriveError(source, f"ego poses not written: {len(od.failed)} of {len(od.pairs)} frame pairs did not "
                                 f"match reliably ({bad}); import without --estimate-poses", where="--estimate-poses")
    T_vl = drive.rig(0).T_vehicle_lidar
    T_lv = np.linalg.inv(T_vl)
    first = drive.frames[0].T_world_vehicle
    # T_world_vehicle(k) = T_world_vehicle(0) @ T_vehicle_lidar @ T_lidar0_lidark @ T_lidar_vehicle
    poses = [first @ T_vl @ T @ T_lv for T in od.T_world_lidar]
    travel = sum(float(np.hypot(*(b[:2, 3] - a[:2, 3]))) for a, b in zip(poses, poses[1:]))
    print(f"estimated ego poses for {len(poses)} frames ({travel:.1f} m travelled; every pair matched, "
          f"lowest inlier share {min(p.inliers for p in od.pairs):.0%})")
    return poses


def _same(a, b) -> bool:
    import numpy as np

    return bool(np.allclose(a, b, atol=1e-9))
