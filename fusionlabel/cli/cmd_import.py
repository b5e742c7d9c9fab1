"""`fusionlabel import SOURCE --out DIR`: convert a nuScenes scene, a SUSTech-style folder or a KITTI
folder (optionally with OpenLABEL labels) into a native drive."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import InputError
from ..files import write_file
from ..model.frame_spec import FRAMES_HELP, consecutive_runs, parse_frames


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="convert a nuScenes scene, SUSTech-style or KITTI folder into a native drive",
                       description="Convert a drive into the native format (docs/native_format.md): .fri range "
                                   "images copied unchanged, other sweeps as compressed PCD, images copied "
                                   "unchanged, labels as JSON. --labels takes labels from an ASAM OpenLABEL file "
                                   "instead of the drive's own.")
    p.add_argument("source", type=Path, help="nuScenes dataroot, SUSTech-style folder, KITTI or native drive")
    p.add_argument("--out", required=True, type=Path, help="native drive folder to write")
    p.add_argument("--scene", help="nuScenes: scene name, token or index; KITTI tracking: sequence (0003 or 3)")
    p.add_argument("--sweeps", action="store_true", help="nuScenes: include the sweeps between keyframes")
    p.add_argument("--frames", help=FRAMES_HELP.replace("(default all)", "(default all); imported in the drive's "
                                                                        "order, whatever the order given"))
    p.add_argument("--labels", type=Path, help="OpenLABEL JSON whose labels replace the drive's own")
    p.add_argument("--estimate-poses", action="store_true",
                   help="drives without ego poses: estimate them from the sweeps (planar LiDAR odometry) and "
                        "write them; refused when the drive has poses or a frame pair does not match reliably")
    p.add_argument("--drop-nonfinite", action="store_true",
                   help="leave points with NaN or inf x/y/z out of the native copy (organised clouds from ROS or "
                        "PCL mark missing returns so); without it such a sweep is refused")
    p.add_argument("--upright", action="store_true",
                   help="write the reference LiDAR's sweeps and labels turned into the vehicle's axes (a LiDAR "
                        "mounted upside down or on its side, which the app's views need upright)")
    p.add_argument("--force", action="store_true", help="write into a non-empty folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..export.native_output import IMPORT_OUTPUT
    from ..io.drives import open_drive
    from ..io.kitti_layout import kitti_layout_meta
    from ..io.nuscenes import is_nuscenes_root, open_nuscenes
    from ..io.openlabel import read_openlabel
    from ..wording import counted

    label_notes: list[str] = []
    if args.sweeps and is_nuscenes_root(args.source):
        drive = open_nuscenes(args.source, scene=args.scene, sweeps=True)
        if all(t.sample is not None for t in drive.tokens):
            label_notes.append("--sweeps: the scene has no LiDAR sweeps between its keyframes (a dataset "
                               "without sweeps/); only the keyframes were imported")
    else:
        drive = open_drive(args.source, args.scene)
        if args.sweeps:
            label_notes.append(f"--sweeps applies to nuScenes only; {args.source} is not a nuScenes dataset")
    if args.frames:
        from ..model.frame_spec import parse_frames

        drive = drive.subset(sorted(parse_frames(args.frames, drive)))
    if args.labels:  # boxes come in the drive's reference LiDAR frame; frames matched by frame ID
        scene = read_openlabel(args.labels, lidar=drive.rig(0).reference_lidar)
        labels_for = scene.labels_for(drive)
        label_notes += scene.notes
    else:
        labels_for = drive.labels
    check_one_rig(drive, args.source, args.out)
    IMPORT_OUTPUT.check(args.out, args.force, drive.root)   # before the poses' seconds a frame
    timestamps, time_note = import_timestamps(drive, args.source)

    dropped: dict = {}
    rig = T_new_old = None
    if args.upright:
        from ..model.upright import upright_label, upright_rig

        try:
            rig, T_new_old = upright_rig(drive.rig(0))
        except ValueError as e:
            raise InputError(args.source, str(e), where="--upright") from None
        labels_of = labels_for
        labels_for = lambda i: [upright_label(lab, T_new_old) for lab in labels_of(i)]  # noqa: E731

    def sweep(i: int):
        points = finite_points(drive.frames[i].lidar_path, dropped) if args.drop_nonfinite else drive.points(i)
        if T_new_old is None:
            return points
        from ..model.upright import upright_points

        return upright_points(points, T_new_old)

    poses = [f.T_world_vehicle for f in drive.frames]
    meta = {"imported_from": str(drive.root), **kitti_layout_meta(drive)}
    if args.estimate_poses:
        poses = estimated_poses(drive, args.source, args.quiet, sweep, synthesised_times=time_note is not None)
        meta["ego_poses"] = "estimated from the sweeps (fusionlabel.assist.odometry, planar: x, y, yaw)"
    if args.drop_nonfinite:
        meta["nonfinite_points"] = "left out on import (--drop-nonfinite)"
    if time_note:
        meta["timestamps"] = time_note
    if args.upright:
        meta["upright"] = "the reference LiDAR's sweeps and labels turned into the vehicle's axes (--upright)"

    def kept_as_is(i: int) -> Path | None:
        """A ``.fri`` range image read as it is (no point left out): copied, not turned into PCD."""
        path = drive.frames[i].lidar_path
        return path if Path(path).suffix.lower() == ".fri" and path not in dropped and drive.reads_sweeps_plainly() \
            and T_new_old is None else None

    with IMPORT_OUTPUT.output(args.out, args.force, drive.root) as folder:   # moved into --out when complete
        write_native_copy(drive, folder, meta, poses, sweep, labels_for, args.quiet, timestamps, kept_as_is, rig)
    print(f"wrote native drive {args.out} ({counted(len(drive), 'frame')}) from {drive.name}")
    if args.drop_nonfinite:
        print(dropped_summary(dropped, len(drive)))
    drive_notes = [*getattr(drive, "notes", []), *getattr(drive, "left_out", [])]
    if args.estimate_poses:   # the reader's "no oxts: identity poses" no longer holds for the copy
        drive_notes = [n for n in drive_notes if not n.startswith("no oxts/")]
    for note in [*drive_notes, *([time_note] if time_note else []), *label_notes]:
        print(f"note: {note}", file=sys.stderr)
    return 0


def check_one_rig(drive, source: Path, out: Path | None = None) -> None:
    """DriveError unless every frame has the first frame's calibration: a native drive holds one
    rig. The message says which frames share a calibration and the ``--frames`` command that
    imports the largest such group (``out``: the --out it shows)."""
    from ..errors import DriveError

    groups = calibration_groups(drive)
    if len(groups) == 1:
        return
    ids = [[drive.frames[i].frame_id for i in g] for g in groups]
    shared = [g for g in ids if len(g) > 1]
    alone = [g[0] for g in ids if len(g) == 1]
    parts = [f"{_and(g)} share one calibration" for g in shared[:3]]
    if len(shared) > 3:
        parts.append(f"{len(shared) - 3} more groups share one each")
    if alone:
        parts.append(f"{_and(alone)} {'has its' if len(alone) == 1 else 'each have their'} own")
    largest = max(groups, key=len)
    command = f"fusionlabel import {source} --frames {frames_spec(drive, largest)} --out {out or 'OUT'}"
    raise DriveError(source, f"its {len(drive)} frames have {len(groups)} different calibrations and a native drive "
                             f"holds one rig: {'; '.join(parts)}. Import one group at a time, e.g. {command} "
                             "(every fusionlabel command - open, render, prelabel, export, eval - also reads this "
                             "folder directly, without importing)")


def calibration_groups(drive) -> list[list[int]]:
    """Frame indices grouped by calibration (:func:`_same_rig`), groups in order of their first frame."""
    groups: list[tuple[object, list[int]]] = []
    for i in range(len(drive)):
        rig = drive.rig(i)
        for first, members in groups:
            if _same_rig(first, rig):
                members.append(i)
                break
        else:
            groups.append((rig, [i]))
    return [members for _, members in groups]


def _same_rig(a, b) -> bool:
    """Every sensor both rigs have is placed alike, and every such camera has the same lens and the
    same rectified frame (or none)."""
    return a is b or all(_same(b.sensors[n].T_vehicle_sensor, s.T_vehicle_sensor)
                         and _lens(b.sensors[n]) == _lens(s) and _same_rectified(b.sensors[n], s)
                         for n, s in a.sensors.items() if n in b.sensors)


def _same_rectified(a, b) -> bool:
    """Both sensors are not rectified cameras, or both are, with the same ``T_rect_cam``."""
    Ta, Tb = getattr(a, "T_rect_cam", None), getattr(b, "T_rect_cam", None)
    return (Ta is None and Tb is None) or (Ta is not None and Tb is not None and _same(Ta, Tb))


def _lens(sensor) -> tuple | None:
    """A camera's model, image size and intrinsics (rounded to 1e-6 px); None for other sensors."""
    c = getattr(sensor, "camera", None)
    if c is None:
        return None
    return (c.model, c.width, c.height, *(round(float(v), 6) for v in (c.fx, c.fy, c.cx, c.cy, *c.distortion)))


def frames_spec(drive, indices: list[int]) -> str:
    """A ``--frames`` value selecting ``indices`` (sorted): runs of consecutive frames as ID ranges,
    or where an ID holds '-' or ',' (a range of them would not read back) as IDs one by one or, for
    an ID with ',', as indices; each part is checked to read back as exactly its frames."""
    ids = [f.frame_id for f in drive.frames]
    return ",".join(_run_spec(drive, ids, run) for run in consecutive_runs(indices))


def _run_spec(drive, ids: list[str], run: list[int]) -> str:
    """The first way of writing a run of consecutive frames that reads back as exactly that run."""
    a, b = run[0], run[-1]
    ways = [ids[a] if a == b else f"{ids[a]}-{ids[b]}",
            ",".join(ids[i] for i in run),
            str(a) if a == b else f"{a}-{b}"]
    for way in ways:
        try:
            if parse_frames(way, drive) == run:
                return way
        except InputError:
            pass
    return ",".join(str(i) for i in run)


def _and(names: list[str], most: int = 5) -> str:
    """``a``, ``a and b``, ``a, b and c``; past ``most`` names: ``a, b, ... (12 frames)``."""
    if len(names) > most:
        return f"{', '.join(names[:most])}, ... ({len(names)} frames)"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


TIME_STEP_US = 100_000      # synthesised timestamps: KITTI's 10 Hz, as the KITTI tracking reader uses


def import_timestamps(drive, source: Path) -> tuple[list[int], str | None]:
    """Frame timestamps for the native copy, and a note when they had to be synthesised.

    A native drive needs increasing timestamps. A source without any (every frame at the same time
    and no camera times, as KITTI object folders) gets frame n at n x 100 ms, said in the note and
    in ``drive.yaml``'s meta; a source whose times go backwards or repeat otherwise is refused,
    naming the two frames."""
    from ..errors import DriveError

    times = [f.timestamp_us for f in drive.frames]
    pairs = list(zip(drive.frames, drive.frames[1:]))
    if all(b.timestamp_us > a.timestamp_us for a, b in pairs):
        return times, None
    if len(set(times)) == 1 and not any(f.camera_timestamps_us for f in drive.frames):
        return [n * TIME_STEP_US for n in range(len(times))], (
            f"the source has no timestamps: frame n was given n x {TIME_STEP_US // 1000} ms (the frames need not "
            "be consecutive in time)")
    a, b = next((a, b) for a, b in pairs if b.timestamp_us <= a.timestamp_us)
    raise DriveError(source, f"frame timestamps do not increase: frame {b.frame_id} ({b.timestamp_us} us) follows "
                             f"frame {a.frame_id} ({a.timestamp_us} us); a native drive needs its frames in capture "
                             "order with increasing times, so fix or remove those frames in the source")


def write_native_copy(drive, out: Path, meta: dict, poses: list, sweep, labels_for, quiet: bool,
                      timestamps: list[int] | None = None, kept_as_is=None, rig=None) -> None:
    """Write ``drive`` as a native drive in ``out``: ``sweep(i)`` gives frame i's points (read
    first, which checks them), written as PCD ``binary_compressed``, unless ``kept_as_is(i)``
    names a ``.fri`` file holding exactly them, which is copied as it is; ``labels_for(i)`` gives
    its labels, ``timestamps[i]`` its time (default: the frame's own); images are copied
    unchanged, each checked first (:func:`check_image`). ``rig``: the rig to write (default the
    drive's)."""
    from ..io.native import NativeDriveWriter
    from ..io.nuscenes_records import index_records
    from ..progress import progress

    rig = drive.rig(0) if rig is None else rig
    nuscenes, frame_records = index_records(drive)   # a nuScenes source's tokens, for a later export
    with (NativeDriveWriter(out, rig, drive.name, meta=meta, sweep_format="pcd", nuscenes=nuscenes) as writer,
          progress(range(len(drive)), desc="import", enabled=not quiet) as bar):
        for i in bar:     # in the with block: a run stopped early still says where it got to
            f = drive.frames[i]
            # Per-camera ego poses and capture times go along, so the native copy projects as the source.
            t = f.timestamp_us if timestamps is None else timestamps[i]
            points = sweep(i)
            same = kept_as_is(i) if kept_as_is is not None else None
            entry = writer.add_frame(f.frame_id, t, poses[i], points if same is None else Path(same), {},
                                     labels_for(i), T_world_vehicle_at_camera=f.T_world_vehicle_at_camera,
                                     camera_timestamps_us=f.camera_timestamps_us)
            if frame_records[i] is not None:
                entry["nuscenes"] = frame_records[i]
            for cam, src in f.image_paths.items():
                check_image(src, rig, cam)
                rel = f"cameras/{cam}/{f.frame_id}{src.suffix.lower()}"
                dst = out / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                write_file(dst, src.read_bytes())   # a full disk names the file
                entry["cameras"][cam] = rel


def check_image(path: Path, rig, cam: str) -> None:
    """ImageError naming ``path`` unless its pixels decode (a file cut short or corrupt is refused
    even when its header is fine: :func:`~fusionlabel.io.images.checked_image_size`) and it has the
    size of the rig's camera ``cam``: an import copies only images the drive can show and export."""
    from ..io.images import check_camera_image, checked_image_size

    model = getattr(rig.sensors.get(cam), "camera", None)
    if model is None:
        checked_image_size(path)
    else:
        check_camera_image(path, model.width, model.height, cam)


def finite_points(path: Path, dropped: dict):
    """The sweep at ``path`` without its non-finite points; their count goes into ``dropped[path]``."""
    from ..io.pointcloud import read_points_info

    points, info = read_points_info(path, drop_nonfinite=True)
    if info["n_dropped"]:
        dropped[path] = info["n_dropped"]
    return points


def dropped_summary(dropped: dict, n_frames: int) -> str:
    """One line: how many non-finite points were left out of how many sweeps."""
    from ..wording import counted

    if not dropped:
        return f"every point of the {counted(n_frames, 'sweep')} was finite: nothing left out"
    return (f"left out {counted(sum(dropped.values()), 'non-finite point')} in {len(dropped)} of "
            f"{counted(n_frames, 'sweep')}")


def has_poses(drive) -> bool:
    """The drive carries ego poses (:func:`~fusionlabel.model.drive.has_ego_poses`)."""
    from ..model.drive import has_ego_poses

    return has_ego_poses(drive)


def estimated_poses(drive, source: Path, quiet: bool, sweep=None, synthesised_times: bool = False) -> list:
    """Per frame T_world_vehicle estimated from the sweeps (see fusionlabel.assist.odometry), the
    first frame keeping its pose; prints the quality of every matched pair. DriveError when the
    drive already has poses, has fewer than two frames, has no capture times (``synthesised_times``:
    its frames are not known to be a sequence) or a pair did not match reliably.
    ``sweep(i)`` reads frame i's points (default: the drive's own reader)."""
    import numpy as np
    from ..assist.odometry import estimate_poses
    from ..errors import DriveError
    from ..progress import progress

    if len(drive) < 2:
        raise DriveError(source, "--estimate-poses needs at least two frames", where="--estimate-poses")
    if has_poses(drive):
        raise DriveError(source, "the drive already has ego poses; --estimate-poses only fills in missing ones",
                         where="--estimate-poses")
    if synthesised_times:
        raise DriveError(source, "the frames have no capture times, so they are not known to be a sequence (KITTI "
                                 "object frames are separate snapshots); pose estimation needs a recorded drive: "
                                 "import without --estimate-poses",
                         where="--estimate-poses")
    times = [f.timestamp_us * 1e-6 for f in drive.frames]
    with progress(total=len(drive), desc="estimate poses", enabled=not quiet) as bar:
        od = estimate_poses(sweep or drive.points, times, progress=lambda i: bar.update(1))
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
