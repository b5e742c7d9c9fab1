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
    prepare_output(args.out, args.force, drive.root)
    from tqdm import tqdm

    with NativeDriveWriter(args.out, rig, drive.name, meta={"imported_from": str(drive.root)},
                           sweep_format="pcd") as writer:
        for i in tqdm(range(len(drive)), desc="import", unit="frame", file=sys.stderr, disable=args.quiet):
            f = drive.frames[i]
            # Per-camera ego poses and capture times go along, so the native copy projects as the source.
            entry = writer.add_frame(f.frame_id, f.timestamp_us, f.T_world_vehicle, drive.points(i), {},
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


def _same(a, b) -> bool:
    import numpy as np

    return bool(np.allclose(a, b, atol=1e-9))
