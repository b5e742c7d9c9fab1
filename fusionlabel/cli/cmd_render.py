"""`fusionlabel render DRIVE_OR_PROJECT --frame ID --out FILE.png`: the headless calibration check picture."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import FusionLabelError, InputError
from .options import add_drive_or_project


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help="draw a frame: cameras with projected points and cuboids, plus BEV",
                       description="Render one frame of a drive to a PNG: every camera image with LiDAR "
                                   "points coloured by depth and the cuboids as wireframes (front face "
                                   "crossed), each labelled with its class and track just above it, plus a "
                                   "bird's-eye view of the sweep labelled the same way.")
    add_drive_or_project(p, "its drive with the project's current cuboids, pre-labels included")
    p.add_argument("--frame", default="0", help="frame ID (e.g. 000001) or index (0, -1); default 0")
    p.add_argument("--out", type=Path, required=True, help="output image (.png or .jpg)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..io.drives import open_drive
    from ..io.images import write_image
    from ..model.drive import cameras_without_images
    from ..render.frame_image import NO_IMAGE, NO_IMAGES_IN_DRIVE, render_frame

    from ..store.project import is_project

    if args.out.suffix.lower() not in (".png", ".jpg", ".jpeg"):    # before any drawing
        raise InputError(args.out, "output must end in .png, .jpg or .jpeg", where="--out")
    labels = None
    if args.drive.is_dir() and is_project(args.drive):   # read-only: an app may have it open
        from ..qa.project_labels import read_project

        project = read_project(args.drive, args.scene)
        drive, labels = project.drive, project.labels
    else:
        drive = open_drive(args.drive, scene=args.scene)
    try:
        index = drive.index_of(args.frame)
    except KeyError as e:
        raise InputError(args.drive, str(e.args[0]), where="--frame") from None
    points_drawn: dict[str, int] = {}
    unread: dict = {}
    image = render_frame(drive, index, None if labels is None else labels[index], points_drawn=points_drawn,
                         unread=unread)
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise InputError(args.out, f"cannot create its folder {args.out.parent}: a file of that name is in the way",
                         where="--out") from None
    except OSError as e:
        raise InputError(args.out, f"cannot create its folder {args.out.parent} ({e.strerror})",
                         where="--out") from None
    try:
        write_image(args.out, image)
    except FusionLabelError:
        raise
    except OSError as e:
        raise InputError(args.out, f"cannot write: {e.strerror}") from None
    print(f"wrote {args.out} ({image.shape[1]}x{image.shape[0]}) for frame {drive.frames[index].frame_id}")
    frame = drive.frames[index]
    imageless = cameras_without_images(drive)    # said of the drive, not of this frame
    missing = [cam for cam in drive.rig(index).camera_names if cam not in frame.image_paths and cam not in imageless]
    if missing:     # drawn as blank tiles with their points, as the app shows them
        print(f"note: frame {frame.frame_id}: {', '.join(missing)}: {NO_IMAGE} (drawn blank, with its points)")
    if imageless:
        print(f"note: {', '.join(imageless)}: {NO_IMAGES_IN_DRIVE} (drawn blank, with their points)")
    for camera, e in unread.items():   # drawn blank: the other cameras are still worth looking at
        print(f"note: frame {frame.frame_id}: camera {camera}: image {e.path} not read ({e.problem}); "
              f"drawn blank, with its points", file=sys.stderr)
    for note in getattr(drive, "notes", []):
        print(f"note: {note}")
    if len(drive.points(index)):
        _note_empty_cameras({c: n for c, n in points_drawn.items() if c not in imageless}, args.drive)
    return 0


def _note_empty_cameras(points_drawn: dict[str, int], source: Path) -> None:
    """A note on stderr for each camera no LiDAR point reached: its extrinsic is probably wrong,
    which the picture alone shows only as a "0 points" caption."""
    import shlex

    from ..qa.camera_checks import few_points_text

    for camera, n in points_drawn.items():
        if n == 0:
            print(f"note: {camera}: {few_points_text(n)}; check its extrinsic with `fusionlabel check "
                  f"{shlex.quote(str(source))}`", file=sys.stderr)
