"""What File > Export runs and what it says afterwards, Qt-free: the ``fusionlabel export`` command
line of the annotator's choices, the progress its lines tell, and the end message made from its
``--json`` summary (or its one-line error).

The app runs the command-line export itself in a child process, so the files are the ones
``fusionlabel export PROJECT`` writes, and the project is read from disk as the command reads it.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ..export import DESCRIPTIONS
from ..export.base import LISTED_FRAMES
from ..export.option_checks import OUTSIDE_CHOICES, ROTATION_CHOICES
from ..wording import counted

EXPORTS_FOLDER = "exports"   # default output: <project>/exports/<format>
# The statuses an annotator picks from: (what the dialog says, --status or None for every frame)
STATUS_CHOICES = (("every frame", None), ("frames marked done or reviewed", "done,reviewed"),
                  ("frames marked reviewed", "reviewed"))
PROGRESS_LINE = re.compile(r"^export [\w-]+: (\d+)/(\d+) frames?\b")
ERROR_PREFIX = "fusionlabel: error: "
# The dialog's tick box for --labels-only, as the export's summary names it to the app's user
LABELS_ONLY_BOX = "Labels only"
CAMERA_FORMATS = ("kitti", "coco")   # the formats that take --camera
# The formats each format-specific option applies to (as ``fusionlabel export --help`` says).
OPTION_FORMATS = {"camera": CAMERA_FORMATS, "outside": ("kitti", "kitti-tracking"),
                  "recompute_2d": ("kitti", "kitti-tracking"), "sequence": ("kitti-tracking",),
                  "nuscenes_version": ("nuscenes",), "scene_name": ("nuscenes",), "rotation": ("openlabel",),
                  # a KITTI tracking drive without images: the formats that need camera image_2's size
                  # (COCO needs images, nuScenes and OpenLABEL export the sequence without that camera)
                  "image_size": ("kitti", "kitti-tracking")}
# Choices that belong to one project (its classes, its drive): remembered per project.
PROJECT_FIELDS = ("class_map", "sequence", "scene_name", "image_size")
# The export format of each drive layout (:func:`fusionlabel.io.drives.drive_layout`) that has one:
# the dialog's format the first time on a project of that layout.
LAYOUT_FORMATS = {"nuscenes": "nuscenes", "kitti_tracking": "kitti-tracking", "kitti": "kitti"}


@dataclass
class ExportChoice:
    """The annotator's choices in the export dialog (remembered between sessions). ``out`` is
    empty for the default folder of the format (:func:`default_out`)."""

    format: str = "kitti"
    out: str = ""
    include_prelabels: bool = False
    status: str | None = None
    labels_only: bool = False
    force: bool = False
    skip_bad_frames: bool = False
    classes: str = ""    # --classes (comma-separated); empty: every class
    frames: str = ""     # --frames as typed; empty: every frame
    camera: str = ""     # --camera of KITTI and COCO; empty: the format's default
    class_map: str = ""  # --class-map file (a relative one is in the project's folder); empty: none
    outside: str = "keep"          # --outside of KITTI and KITTI tracking
    recompute_2d: bool = False     # --recompute-2d of KITTI and KITTI tracking
    sequence: str = ""             # --sequence of KITTI tracking; empty: its default
    nuscenes_version: str = ""     # --nuscenes-version; empty: its default
    scene_name: str = ""           # --scene-name of nuScenes; empty: the source's
    rotation: str = "quaternion"   # --rotation of OpenLABEL
    image_size: str = ""           # --image-size (a KITTI tracking drive without images); empty: none

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data) -> "ExportChoice":
        """The choice saved as ``data``; a value of the wrong type or unknown (settings written by
        another version, edited by hand) falls back to its default."""
        choice = cls()
        if not isinstance(data, dict):
            return choice
        allowed = {"format": tuple(DESCRIPTIONS), "status": [s for _, s in STATUS_CHOICES],
                   "outside": OUTSIDE_CHOICES, "rotation": ROTATION_CHOICES}
        for f in fields(cls):
            value = data.get(f.name)
            default = getattr(choice, f.name)
            if f.name in allowed and value not in allowed[f.name]:
                continue
            if isinstance(default, bool) and not isinstance(value, bool):
                continue
            if isinstance(default, str) and not isinstance(value, str):
                continue
            setattr(choice, f.name, value)
        return choice


def drive_format(drive) -> str | None:
    """The export format of ``drive``'s own layout ("nuscenes" for a nuScenes dataroot), None when
    its layout has none (a native or SUSTech drive) or its folder is gone."""
    from ..io.drives import drive_layout

    folder = drive.opened_as[0] if drive.opened_as else drive.root
    return LAYOUT_FORMATS.get(drive_layout(folder))


def default_out(project_folder: str | Path, fmt: str) -> Path:
    """Where an export of format ``fmt`` goes unless the annotator chose a folder."""
    return Path(project_folder) / EXPORTS_FOLDER / fmt


def in_project(project_folder: str | Path, text: str) -> Path:
    """The path typed in the dialog: ``~`` expanded, a relative one taken in the project's folder."""
    path = Path(text).expanduser()
    return path if path.is_absolute() else Path(project_folder) / path


def applies(option: str, fmt: str) -> bool:
    """Whether the format-specific ``option`` (a key of OPTION_FORMATS) is one of format ``fmt``'s."""
    return fmt in OPTION_FORMATS[option]


def format_label(fmt: str) -> str:
    """A format as the dialog lists it, with what it writes."""
    return f"{fmt}: {DESCRIPTIONS[fmt]}"


def export_arguments(project_folder: str | Path, choice: ExportChoice, out: str | Path) -> list[str]:
    """The ``fusionlabel export`` arguments (after ``fusionlabel``) for ``choice`` into ``out``."""
    args = ["export", str(project_folder), "--format", choice.format, "--out", str(out), "--json",
            "--labels-only-words", f'"{LABELS_ONLY_BOX}"']
    if choice.include_prelabels:
        args.append("--include-prelabels")
    if choice.status:
        args += ["--status", choice.status]
    if choice.labels_only:
        args.append("--labels-only")
    if choice.force:
        args.append("--force")
    if choice.skip_bad_frames:
        args.append("--skip-bad-frames")
    if choice.classes:
        args += ["--classes", choice.classes]
    if choice.frames.strip():
        args += ["--frames", choice.frames.strip()]
    fmt = choice.format
    if choice.camera and applies("camera", fmt):
        args += ["--camera", choice.camera]
    if choice.class_map:
        args += ["--class-map", str(in_project(project_folder, choice.class_map))]
    if applies("outside", fmt):
        args += ["--outside", choice.outside]
    if choice.recompute_2d and applies("recompute_2d", fmt):
        args.append("--recompute-2d")
    if choice.sequence and applies("sequence", fmt):
        args += ["--sequence", choice.sequence]
    if choice.nuscenes_version and applies("nuscenes_version", fmt):
        args += ["--nuscenes-version", choice.nuscenes_version]
    if choice.scene_name and applies("scene_name", fmt):
        args += ["--scene-name", choice.scene_name]
    if applies("rotation", fmt):
        args += ["--rotation", choice.rotation]
    if choice.image_size and applies("image_size", fmt):
        args += ["--image-size", choice.image_size]
    return args


def progress_of(line: str) -> tuple[int, int] | None:
    """(frames done, frames in all) from one of the export's progress lines, else None."""
    m = PROGRESS_LINE.match(line.strip())
    return (int(m.group(1)), int(m.group(2))) if m else None


def error_of(stderr: str, exit_code: int) -> str:
    """The error of a failed export in one line: the command's own (``fusionlabel: error: …``),
    else its last line, else the exit code."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith(ERROR_PREFIX):
            return line[len(ERROR_PREFIX):]
    if lines:
        return lines[-1].removeprefix("fusionlabel: ")
    return f"the export ended with exit code {exit_code} and said nothing"


def summary_of(stdout: str) -> dict | None:
    """The export's ``--json`` summary, None when stdout holds none (the export failed)."""
    try:
        doc = json.loads(stdout)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) and doc.get("command") == "export" else None


def result_lines(doc: dict) -> tuple[str, list[str]]:
    """(headline, detail lines) of a finished export's summary: where it went, the counts, the
    objects and frames left out and why, what the format cannot hold, and the notes. The headline
    (also the status bar's) counts the frames not written, so a frame left out is never silent."""
    frames = doc.get("frames", 0)
    not_written = list(doc.get("not_written") or [])
    skipped_frames = list(doc.get("skipped_frames") or [])
    left = len(not_written) + len(skipped_frames)
    head = (f"Exported {counted(frames, 'frame')} as {doc.get('format')}"
            + (f" ({counted(left, 'frame')} not written)" if left else "")
            + f": {counted(doc.get('objects_total', 0), 'object')}, {counted(doc.get('files', 0), 'file')}")
    lines = [f"Folder: {doc.get('out')}"]
    by_class = doc.get("objects") or {}
    if by_class:
        lines.append("Objects: " + ", ".join(f"{name} {n}" for name, n in by_class.items()))
    lines.extend(listed("Not written", not_written))
    by_status = doc.get("left_out_by_status") or {}
    if by_status:
        lines.append("Frames left out by status: " + ", ".join(f"{k} {n}" for k, n in by_status.items()))
    for entry in doc.get("skipped") or []:
        lines.append(f"Skipped: {entry.get('count')} × {entry.get('class')}: {entry.get('reason')}")
    for entry in skipped_frames:
        lines.append(f"Frame {entry.get('frame')} skipped: {entry.get('error')}")
    without = doc.get("frames_without_label_file") or []
    if without:
        lines.append(f"Frames without a label file, written with no objects: {shortened(without)}")
    for key, what in (("unmatched_classes", "Classes chosen that no label has"),
                      ("unmatched_class_map_keys", "Class map keys that no label has (they mapped nothing)")):
        if doc.get(key):
            lines.append(f"{what}: {', '.join(doc[key])}")
    kept = doc.get("kept_from_before") or []
    if kept:
        lines.append(f"Left in the folder from before this export: {shortened(kept)}")
    for text in doc.get("cannot_hold") or []:
        lines.append(f"Not in {doc.get('format')}: {text}")
    for text in doc.get("notes") or []:
        lines.append(f"Note: {text}")
    return head, lines



def listed(label: str, texts: list[str]) -> list[str]:
    """One ``label: text`` line per entry, the first :data:`LISTED_FRAMES`, then how many more."""
    lines = [f"{label}: {t}" for t in texts[:LISTED_FRAMES]]
    if len(texts) > LISTED_FRAMES:
        lines.append(f"{label}: … and {len(texts) - LISTED_FRAMES} more")
    return lines


def shortened(names: list[str]) -> str:
    """The first :data:`LISTED_FRAMES` names, comma-separated, and how many more."""
    more = f", … and {len(names) - LISTED_FRAMES} more" if len(names) > LISTED_FRAMES else ""
    return f"{len(names)}: " + ", ".join(names[:LISTED_FRAMES]) + more
