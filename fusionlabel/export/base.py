"""What every exporter shares: options, frame and class selection, the output folder, the summary.

An exporter reads labels through a ``labels_for(frame_index) -> list[CuboidLabel]`` callable, so the
same code exports a drive's own labels (``drive.labels``) or a project's annotations.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable


from ..errors import ImageError, InputError, PointCloudError
from ..export_manifest import MANIFEST
from ..files import write_file
from ..model.annotation import CuboidLabel
from ..model.drive import Drive
from ..model.frame_spec import consecutive_runs
from ..model.source_class import source_class
from ..progress import progress
from .run_files import user_names

LabelsFor = Callable[[int], list[CuboidLabel]]
LISTED_FRAMES = 10      # skipped frames listed one per line in a summary; the rest are counted


class ExportError(InputError):
    """An export cannot start or continue (bad option, output folder in the way, format limit)."""


@dataclass
class ExportOptions:
    """Options shared by all formats; format-specific ones are ignored by the others.

    Attributes:
        frames: drive frame indices to export (None = all), in the order given.
        classes: keep only labels whose own class or exported class is in this set (None = all).
        force: allow writing into a non-empty output folder (a previous export is replaced).
        camera: camera for KITTI (default: ``image_2`` or the rig's first camera); COCO uses all
            cameras unless this is set.
        sensor_data: also write sweeps and images (KITTI, KITTI tracking, nuScenes, COCO).
        outside: objects no exported camera sees: "keep" (KITTI: 2D box -1, truncated 1,
            occluded 3) or "drop" (listed as skipped).
        keep_imported_2d: keep the 2D box, truncation, occlusion and alpha of untouched imported
            KITTI objects instead of recomputing them.
        class_map: source class -> exported class (None value = drop), applied before defaults.
        sequence: KITTI tracking sequence name; None: the source's own when it is a KITTI tracking
            sequence (``0001`` stays ``0001``), else ``0000``.
        version: nuScenes version folder name.
        scene_name: nuScenes scene name (default: the source's scene name, else the drive's name).
        rotation: OpenLABEL cuboid rotation encoding, "quaternion" (10 values) or "euler" (9 values).
        progress: show a progress bar on stderr.
        include_prelabels: also write unreviewed pre-labels (source ``model``: detector output
            nobody accepted); by default they are left out and counted as skipped, so a training
            set holds reviewed labels only.
        skip_bad_frames: a frame whose sweep (or, with ``sensor_data``, image) cannot be read is
            skipped, recorded in ``ExportSummary.skipped_frames``, and the export goes on; without
            it the first such frame stops the export with its error.
        status: export only the frames (of ``frames``) whose status is one of these (``--status``;
            :mod:`~fusionlabel.export.status_filter`); None = every status.
        frame_statuses: the status of every frame of the source project (None for a drive).
        labels_only_words: how the summary names the choice not to write sensor data
            (``sensor_data`` False): the command's ``--labels-only``, the app's dialog its own box.
    """

    frames: list[int] | None = None
    classes: set[str] | None = None
    force: bool = False
    camera: str | None = None
    sensor_data: bool = True
    outside: str = "keep"
    keep_imported_2d: bool = True
    class_map: dict[str, str | None] | None = None
    sequence: str | None = None
    version: str = "v1.0-mini"
    scene_name: str | None = None
    rotation: str = "quaternion"
    progress: bool = True
    skip_bad_frames: bool = False
    include_prelabels: bool = False
    status: set[str] | None = None
    frame_statuses: list[str] | None = None
    labels_only_words: str = "--labels-only"


@dataclass
class ExportSummary:
    """What an export wrote, what it skipped and why, and what the format could not hold."""

    format: str
    out: Path
    frames: int = 0
    objects: Counter = field(default_factory=Counter)     # exported class -> objects written
    skipped: Counter = field(default_factory=Counter)     # (reason, class) -> objects not written
    cannot_hold: list[str] = field(default_factory=list)  # what the format could not represent
    files: int = 0
    skipped_frames: list[tuple[str, str]] = field(default_factory=list)  # (frame ID, error naming the file)
    not_written: list[str] = field(default_factory=list)  # files left out on purpose, and why
    without_label_file: list[str] = field(default_factory=list)  # frame IDs whose source has no label file
    unmatched_classes: list[str] = field(default_factory=list)  # --classes names no label had (a typo?)
    unmatched_class_map_keys: list[str] = field(default_factory=list)  # --class-map keys no label had
    kept: list[str] = field(default_factory=list)  # top-level entries of --out from before (--force)
    status: list[str] = field(default_factory=list)  # --status: the statuses exported (none: all)
    left_out_by_status: Counter = field(default_factory=Counter)  # status -> frames --status left out
    seconds: float = 0.0   # the run's wall-clock time (said in the summary, not in the manifest: runs compare equal)

    @property
    def ms_per_frame(self) -> float | None:
        """Milliseconds per exported frame (None when none was)."""
        return 1000.0 * self.seconds / self.frames if self.frames else None

    def skip_frame(self, frame_id: str, error: Exception | str) -> None:
        """A frame not exported at all (``--skip-bad-frames``): its ID and why (the error names the file)."""
        self.skipped_frames.append((frame_id, str(error)))

    def not_writing(self, text: str) -> None:
        """A file the export leaves out, e.g. ``frame 000004: no image_2 image; frame left out``."""
        self.not_written.append(text)

    def skip(self, reason: str, label: str, n: int = 1) -> None:
        self.skipped[(reason, label)] += n

    def note(self, text: str) -> None:
        """Record a limitation of the target format once."""
        if text not in self.cannot_hold:
            self.cannot_hold.append(text)

    @property
    def total_objects(self) -> int:
        return sum(self.objects.values())

    @property
    def total_skipped(self) -> int:
        return sum(self.skipped.values())

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "out": str(self.out), "frames": self.frames,
                "objects": dict(sorted(self.objects.items())), "objects_total": self.total_objects,
                "skipped": [{"reason": r, "class": c, "count": n} for (r, c), n in sorted(self.skipped.items())],
                "cannot_hold": list(self.cannot_hold), "files": self.files,
                "skipped_frames": [{"frame": f, "error": e} for f, e in self.skipped_frames],
                "not_written": list(self.not_written),
                "frames_without_label_file": list(self.without_label_file),
                "unmatched_classes": list(self.unmatched_classes),
                "unmatched_class_map_keys": list(self.unmatched_class_map_keys), "kept_from_before": list(self.kept),
                "status": list(self.status), "left_out_by_status": dict(self.left_out_by_status)}

    def text(self) -> str:
        """A human-readable multi-line report."""
        speed = f" ({self.ms_per_frame:.0f} ms/frame)" if self.ms_per_frame is not None else ""
        lines = [f"exported {self.frames} frame(s) as {self.format} to {self.out}: "
                 f"{self.total_objects} object(s), {self.files} file(s) in {self.seconds:.1f} s{speed}"]
        for cls, n in sorted(self.objects.items()):
            lines.append(f"  {cls}: {n}")
        if self.status:
            lines.append(status_line(self.status, self.left_out_by_status))
        if self.skipped:
            lines.append(f"skipped {self.total_skipped} object(s):")
            for (reason, cls), n in sorted(self.skipped.items()):
                lines.append(f"  {n} x {cls}: {reason}")
        else:
            lines.append("skipped 0 objects")
        if self.not_written:
            lines.append(f"not written ({len(self.not_written)}):")
            lines.extend(f"  {t}" for t in self.not_written[:LISTED_FRAMES])
            if len(self.not_written) > LISTED_FRAMES:
                lines.append(f"  ... and {len(self.not_written) - LISTED_FRAMES} more")
        if self.without_label_file:
            n = len(self.without_label_file)
            more = f", ... and {n - LISTED_FRAMES} more" if n > LISTED_FRAMES else ""
            lines.append(f"frames without a label file ({n}, written with no objects): "
                         f"{', '.join(self.without_label_file[:LISTED_FRAMES])}{more}")
        if self.unmatched_classes:
            lines.append("--classes: no label has class " + ", ".join(self.unmatched_classes) + " " + NAMES_MATCHED)
        if self.unmatched_class_map_keys:
            lines.append("--class-map: no label has class " + ", ".join(self.unmatched_class_map_keys)
                         + " " + NAMES_MATCHED + "; these keys mapped nothing")
        if self.kept:
            more = f", ... and {len(self.kept) - LISTED_FRAMES} more" if len(self.kept) > LISTED_FRAMES else ""
            lines.append(f"left in place, from before this export ({len(self.kept)}): "
                         f"{', '.join(self.kept[:LISTED_FRAMES])}{more}")
        if self.cannot_hold:
            lines.append(f"not representable in {self.format}:")
            lines.extend(f"  - {t}" for t in self.cannot_hold)
        lines.extend(skipped_frame_lines(self.skipped_frames))
        return "\n".join(lines)


def status_line(status: list[str], left_out: Counter) -> str:
    """The summary's ``--status`` line: ``left out 12 frames not done or reviewed (--status): 8 new,
    4 in progress``, or that none was left out."""
    from .status_filter import counts_text, status_words

    wanted = status_words(status)
    n = sum(left_out.values())
    if not n:
        return f"left out 0 frames: every selected frame is {wanted} (--status)"
    return f"left out {n} frame{'s' if n != 1 else ''} not {wanted} (--status): {counts_text(left_out)}"


def frame_ranges(indices: list[int], name: Callable[[int], str]) -> str:
    """``frame 000004`` or ``frames 000001–000006, 000009`` for sorted frame indices, each named by
    ``name``. A run of consecutive indices is one range ``a–b`` when its names count up one by one,
    so that the range means every ID in it; else ``a, b, …, z (n frames)`` (IDs 5 apart, say)."""
    def run_text(run: list[int]) -> str:
        names = [name(i) for i in run]
        if len(run) == 1:
            return names[0]
        if _counts_up(names):
            return f"{names[0]}–{names[-1]}"
        if len(run) <= 3:
            return ", ".join(names)
        return f"{names[0]}, {names[1]}, …, {names[-1]} ({len(run)} frames)"

    text = ", ".join(run_text(r) for r in consecutive_runs(indices))
    return f"frame{'s' if len(indices) > 1 else ''} {text}"


def _counts_up(names: list[str]) -> bool:
    """Whether frame names are whole numbers of one width that count up by one."""
    if not all(n.isdigit() and len(n) == len(names[0]) for n in names):
        return False
    return all(int(b) == int(a) + 1 for a, b in zip(names, names[1:]))


# How --classes names and --class-map keys match a label, said where one matches nothing.
NAMES_MATCHED = "(not as its own class, its source's class name nor the exported one, in any case)"


def unmatched(names, seen: set[str]) -> list[str]:
    """The ``names`` (as given) whose lower-case form is not in ``seen`` (lower-case names)."""
    return sorted(n for n in names if n.lower() not in seen)


def skipped_frame_lines(skipped: list[tuple[str, str]], limit: int = LISTED_FRAMES) -> list[str]:
    """The end of a ``--skip-bad-frames`` run's report: a headline, then one line per skipped frame
    (its ID and the error, which names the file and why), at most ``limit``, then how many more."""
    if not skipped:
        return []
    n = len(skipped)
    lines = [f"skipped {n} frame{'' if n == 1 else 's'} that could not be read (--skip-bad-frames):"]
    lines.extend(f"  frame {fid}: {error}" for fid, error in skipped[:limit])
    if n > limit:
        lines.append(f"  ... and {n - limit} more skipped frame{'' if n - limit == 1 else 's'} "
                     f"(all are listed in {MANIFEST})")
    return lines


# ------------------------------------------------------------------------------------- selection
def parse_classes(spec: str | None) -> set[str] | None:
    """``"Car,Pedestrian"`` -> {"Car", "Pedestrian"}; None or empty -> None (all classes)."""
    if not spec:
        return None
    classes = {c.strip() for c in spec.split(",") if c.strip()}
    return classes or None


def load_class_map(path: str | Path) -> dict[str, str | None]:
    """A YAML or JSON mapping ``source class: exported class`` (null drops the class)."""
    from ..files import parse_yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ExportError(path, "class map file not found", where="--class-map") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ExportError(path, f"cannot read class map: {e}", where="--class-map") from None
    data = parse_yaml(text, path, ExportError)     # a syntax error names the line and column
    if not isinstance(data, dict):
        raise ExportError(path, f"expected a mapping of class names to class names (or null), got "
                                f"{type(data).__name__}", where="(document)")
    first: dict[str, str] = {}
    for key, value in data.items():     # keys match case-insensitively: 'car' and 'Car' must agree
        if not isinstance(key, str) or not (value is None or isinstance(value, str)):
            raise ExportError(path, f"expected a class name mapped to a class name (or null), got {key!r}: "
                                    f"{value!r}", where=_key_place(text, key))
        other = first.setdefault(key.lower(), key)
        if data[other] != value:
            raise ExportError(path, f"keys {other!r} and {key!r} name the same class (keys match in any case) "
                              f"but map it to {data[other]!r} and {value!r}", where=_key_place(text, key))
    return data


def _key_place(text: str, key) -> str:
    """Where the top-level ``key`` of a class map is written: "line N, key K" (its first line that
    starts with it, quoted or not, followed by a colon), else "key K"."""
    pattern = re.compile(r"""\s*[{,]?\s*["']?""" + re.escape(str(key)) + r"""["']?\s*:""")
    line = next((n for n, row in enumerate(text.splitlines(), 1) if pattern.match(row)), None)
    return f"key {key!r}" if line is None else f"line {line}, key {key!r}"


# ------------------------------------------------------------------------------------- output
def output_names(out: Path, force: bool, manifest: str = MANIFEST,
                 not_empty: str = "an earlier fusionlabel export there is replaced, other files are kept"
                 ) -> tuple[set[str], set[str]]:
    """Check that ``out`` may be written and split what it holds: (the top-level names an earlier
    fusionlabel export wrote there, the others).

    A non-empty folder is refused unless ``force`` (``not_empty`` says what ``--force`` does). An
    earlier export is recognised by its ``manifest`` and is what its manifest lists as written, with
    the manifest (one without the list, from older versions: everything but what it lists as kept);
    a successful run replaces it (:mod:`fusionlabel.export.staging`). The others stay, whether they
    were there before that export or were put there since (see :meth:`Exporter.path`).
    ``fusionlabel import`` and ``simulate`` pass their own manifest name."""
    out = Path(out)
    present = user_names(out)
    if not present:
        return set(), set()
    if not force:
        raise ExportError(out, f"output folder is not empty; pass --force to write into it ({not_empty})",
                          where="--out")
    replaced: set[str] = set()
    if (out / manifest).is_file():
        written = _manifest_names(out / manifest, "written")
        if written is None:
            replaced = present - (_manifest_names(out / manifest, "kept") or set())
        else:
            replaced = (written & present) | {manifest}
    return replaced, present - replaced


def _manifest_names(path: Path, key: str) -> set[str] | None:
    """The top-level names an earlier export's manifest lists under ``key`` (``written``: what it
    wrote; ``kept``: what it found in its folder and left alone); None when the manifest has no
    such list (written by an older version) or cannot be read."""
    try:
        names = json.loads(path.read_text(encoding="utf-8")).get(key)
    except (OSError, ValueError, AttributeError):
        return None
    return {n for n in names if isinstance(n, str)} if isinstance(names, list) else None


PRELABEL_SKIP = "unreviewed pre-label (accept it in the app: Y, Shift+Y a frame's, Ctrl+Shift+Y a track's; or --include-prelabels)"


class Exporter(ABC):
    """One target format. ``run`` drives it: ``begin``, ``add_frame`` per selected frame, ``finish``.

    Subclasses set ``name`` and implement :meth:`add_frame`; they map classes with
    :meth:`export_class` and count objects and skips on ``self.summary``.
    """

    name = ""

    def __init__(self, drive: Drive, labels_for: LabelsFor, out: Path, options: ExportOptions,
                 kept: set[str] | None = None, shown_out: Path | None = None):
        """``out`` is the folder written; :func:`~fusionlabel.export.export_drive` passes its
        staging folder, with ``kept`` (the names in ``--out`` left alone; default: what ``out``
        holds) and ``shown_out`` (``--out``, named in the summary and the manifest)."""
        self.drive, self.labels_for, self.out, self.options = drive, labels_for, Path(out), options
        self.shown_out = Path(shown_out or out)
        self.summary = ExportSummary(self.name, self.shown_out)
        self._kept_given = kept
        self._names_seen: set[str] = set()   # lower-case names of labels (for names that match nothing)
        self._exported_seen: set[str] = set()   # lower-case classes written (after --class-map)
        self._class_map = {k.lower(): v for k, v in (options.class_map or {}).items()}
        self._kept: set[str] = set()   # top-level names in ``out`` before this export (see path())
        self._written: set[str] = set()   # top-level names this export wrote (in the manifest)
        self._images_checked: set[Path] = set()   # image files check_image passed
        self.empty_sweeps: list[str] = []   # frame IDs whose sweep had no points (sweep_to_write)
        self._track_frames: dict[str, dict[str, list[int]]] = {}   # track -> exported class -> frames

    # --- classes
    def classify(self, label: CuboidLabel) -> tuple[str | None, str]:
        """(exported class, or None with the reason it cannot be written): the ``--class-map`` key
        that names the label's own class, else its source's class name (``source_class``), else
        the format's class for it (:meth:`format_class`), in any case; without one, the format's class.
        Every name looked at is noted, for the keys and ``--classes`` names that match nothing."""
        cmap = self._class_map
        names = [label.label, source_class(label)]
        self._names_seen.update(n.lower() for n in names)
        for name in names:
            if name.lower() in cmap:
                return cmap[name.lower()], "dropped by --class-map"
        cls, reason = self.format_class(label)
        if cls is not None:
            self._names_seen.add(cls.lower())
            if cls.lower() in cmap:
                return cmap[cls.lower()], "dropped by --class-map"
        return cls, reason

    def export_class(self, label: CuboidLabel) -> str | None:
        """The class name written for a label (None = not written)."""
        return self.classify(label)[0]

    def format_class(self, label: CuboidLabel) -> tuple[str | None, str]:
        """The format's class for a label that ``--class-map`` does not name, as :meth:`classify`
        gives it; formats override this (or just :meth:`map_default`)."""
        return self.map_default(label), f"no {self.name} class for it (use --class-map)"

    def map_default(self, label: CuboidLabel) -> str | None:
        """The format's class name for a label (None: it has none); the label's own by default."""
        return label.label

    def selected(self, label: CuboidLabel, exported: str | None) -> bool:
        """``--classes`` keeps a label naming its own class, its source's class name or the exported
        class, in any case (the names a ``--class-map`` key matches, and the exported one)."""
        if self.options.classes is None:
            return True
        wanted = {c.lower() for c in self.options.classes}
        return any(n is not None and n.lower() in wanted for n in (label.label, source_class(label), exported))

    def labels(self, index: int, record: bool = True) -> list[tuple[CuboidLabel, str]]:
        """The frame's labels that pass the class filter and have an exported class, with that class;
        the others are counted as skipped, with the reason (``record=False``: not counted, for a
        frame read a second time)."""
        out = []
        skip = self.summary.skip if record else (lambda reason, label: None)
        for lab in self.labels_for(index):
            cls, reason = self.classify(lab)     # notes the names it looked at in _names_seen
            if cls is not None:
                self._exported_seen.add(cls.lower())   # a --classes name may be a --class-map target
            if lab.source == "model" and not self.options.include_prelabels:
                skip(PRELABEL_SKIP, lab.label)
            elif not self.selected(lab, cls):
                skip("class not selected (--classes)", lab.label)
            elif cls is None:
                skip(reason, lab.label)
            else:
                out.append((lab, cls))
                if record and lab.track_id is not None:
                    self._track_frames.setdefault(lab.track_id, {}).setdefault(cls, []).append(index)
        return out

    one_class_per_track = False   # the format gives a track one class (KITTI tracking, nuScenes)

    def note_mixed_class_tracks(self) -> None:
        """One note per exported track written with more than one class (a project made before a
        class key retyped whole tracks), naming the track and the frames of each class; at most
        :data:`LISTED_FRAMES` tracks, then how many more."""
        mixed = [(t, c) for t, c in self._track_frames.items() if len(c) > 1]
        name = lambda i: self.drive.frames[i].frame_id   # noqa: E731
        for track, classes in mixed[:LISTED_FRAMES]:
            parts = [f"{cls} in {frame_ranges(sorted(set(frames)), name)}" for cls, frames in classes.items()]
            self.summary.note(f"track {track} has more than one class: {', '.join(parts)} (a track is one object: "
                              "in the app a class key retypes the whole track)")
        if len(mixed) > LISTED_FRAMES:
            self.summary.note(f"... and {len(mixed) - LISTED_FRAMES} more tracks with more than one class")

    # --- files
    def path(self, rel: str) -> Path:
        """``out/rel``, its folder made. Refused inside an entry that was in ``out`` before this
        export (``--force`` into a folder holding other files): the export would mix with them."""
        top = Path(rel).parts[0]
        if top in self._kept:
            raise ExportError(self.shown_out / top, "was in the output folder before this export and is not from an "
                              "earlier fusionlabel export; --force writes beside such files, never among them: "
                              "move it away or choose another folder", where="--out")
        self._written.add(top)
        p = self.out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def write_text(self, rel: str, text: str) -> Path:
        """Write ``out/rel`` (UTF-8) and count it; a failed write (a full disk) names the file."""
        return self.write_bytes(rel, text.encode("utf-8"))

    def write_json(self, rel: str, value) -> Path:
        """Write ``out/rel`` as ``json.dumps(value, indent=1)`` text and count it; parts of ``value``
        that are :class:`~fusionlabel.io.json_stream.Streamed` are written as they are produced, and
        the text is never held whole (a table of a long drive)."""
        from ..io.json_stream import write_json

        p = write_json(self.path(rel), value)
        self.summary.files += 1
        return p

    def write_bytes(self, rel: str, data: bytes) -> Path:
        """Write ``out/rel`` and count it; a failed write (a full disk) names the file, which the
        output folder's error line (:func:`~fusionlabel.export.staging.write_error`) shows as in ``--out``."""
        p = self.path(rel)
        write_file(p, data)
        self.summary.files += 1
        return p

    def copy_file(self, src: Path, rel: str) -> Path:
        p = self.path(rel)
        try:
            shutil.copyfile(src, p)
        except OSError as e:
            if not Path(src).exists():   # the source is what is missing, not the destination
                raise ExportError(src, f"file not found (the export copies it to {p})") from None
            raise OSError(e.errno, e.strerror or str(e), str(p)) from None    # the copy, not the source
        self.summary.files += 1
        return p

    def sweep_to_write(self, index: int):
        """The frame's sweep, validated (read through the drive: a sweep fusionlabel refuses stops
        here). One without points is still written, as an empty file (0 bytes, no records: KITTI
        loaders, nuscenes-devkit and fusionlabel read it as 0 points), so that every frame has its
        sweep file; its frame is listed for :meth:`note_empty_sweeps`."""
        points = self.drive.points(index)
        if not len(points):
            self.empty_sweeps.append(self.drive.frames[index].frame_id)
        return points

    def note_empty_sweeps(self, ext: str) -> None:
        """Say in the summary which frames' sweeps had no points (written as empty ``ext`` files)."""
        if self.empty_sweeps:
            self.summary.note(f"sweeps without points, written as empty {ext} files (0 bytes, which fusionlabel, "
                              f"KITTI loaders and nuscenes-devkit read as 0 points): frame(s) "
                              f"{', '.join(self.empty_sweeps)}")

    # --- the run
    def begin(self) -> None:
        """Called once before the first frame."""

    def frame_cameras(self, index: int) -> list[str]:
        """The cameras whose images :meth:`add_frame` writes for a frame (with ``sensor_data``)."""
        return []

    reads_sweeps = True      # add_frame reads or writes the sweeps (all formats but OpenLABEL)

    def check_frame(self, index: int) -> None:
        """Read what :meth:`add_frame` will read (the sweep; with ``sensor_data``, the images it
        writes or copies: :meth:`check_image`), so that a bad frame fails before anything of it is
        written. The drive caches the sweep, so it is read once. The frame's rig is built too: a
        KITTI frame whose missing image leaves a camera without a size fails here (``ImageError``)."""
        self.drive.rig(index)
        if self.reads_sweeps:
            self.drive.points(index)
        if self.options.sensor_data:
            for cam in self.frame_cameras(index):
                self.check_image(index, cam)

    def check_image(self, index: int, camera: str) -> None:
        """ImageError naming the file unless frame ``index``'s image of ``camera`` decodes in full and
        has the size of the rig's camera (:func:`~fusionlabel.io.images.check_camera_image`): a copy
        must be an image the exported JSON and calibration describe. Each file is checked once."""
        from ..io.images import check_camera_image

        path = self.drive.frames[index].image_paths[camera]
        if path not in self._images_checked:
            model = self.drive.rig(index).camera(camera).camera
            check_camera_image(path, model.width, model.height, camera)
            self._images_checked.add(path)

    def left_out(self, index: int) -> str | None:
        """Why frame ``index`` is not exported at all (listed under "not written"), or None."""
        return None

    @abstractmethod
    def add_frame(self, index: int) -> None:
        """Export one drive frame."""

    def finish(self) -> None:
        """Called once after the last frame."""

    def order(self, frames: list[int]) -> list[int]:
        """The order frames are exported in (time-ordered formats sort them)."""
        return frames

    def frames_to_export(self) -> list[int]:
        """The selected frame indices (``options.frames``, default all) in export order."""
        frames = list(range(len(self.drive))) if self.options.frames is None else list(self.options.frames)
        return self.order(frames)

    def refuse_unmatched_classes(self) -> None:
        """ExportError at ``--classes`` when none of its names matches a label of the selected
        frames (a typo would otherwise export nothing and succeed), listing the classes the labels
        have. Only labels are read (no sweep, no image), so :func:`~fusionlabel.export.export_drive`
        calls it on a probe exporter before the output folder is made or anything is written."""
        if not self.options.classes:
            return
        frames = self.frames_to_export()
        present = set()
        for i in frames:
            for lab in self.labels_for(i):
                cls, _ = self.classify(lab)     # notes the label's names in _names_seen
                if cls is not None:
                    self._exported_seen.add(cls.lower())
                present.add(lab.label)
        names = unmatched(self.options.classes, self._names_seen | self._exported_seen)
        if len(names) == len(self.options.classes):
            have = ", ".join(sorted(present, key=str.lower)) if present else "none (no labels)"
            raise ExportError(None, f"no label of the {len(frames)} frames has class {', '.join(names)}; "
                                    f"the labels' classes are: {have}", where="--classes")

    def note_unmatched_classes(self) -> None:
        """After the frames went through :meth:`labels`: the ``--classes`` names that matched no
        label go into the summary (``unmatched_classes``); :meth:`refuse_unmatched_classes` already
        refused a run where none matched."""
        if self.options.classes:
            self.summary.unmatched_classes = unmatched(self.options.classes, self._names_seen | self._exported_seen)

    def check_some_exported(self, exported: list[int]) -> None:
        """ExportError when ``--skip-bad-frames`` skipped every frame: an empty dataset is no result."""
        from ..wording import every_frame_unreadable

        skipped = self.summary.skipped_frames
        if skipped and not exported:
            raise ExportError(None, every_frame_unreadable(skipped, "nothing was exported"), where="--skip-bad-frames")

    def run(self) -> ExportSummary:
        started = time.perf_counter()
        frames = self.frames_to_export()
        self.frames = frames
        self._start_manifest()
        self.begin()
        exported = []
        with progress(frames, desc=f"export {self.name}", enabled=self.options.progress) as bar:
            for i in bar:     # the with block: a run stopped early still says where it got to
                reason = self.left_out(i)
                if reason is not None:
                    self.summary.not_writing(f"frame {self.drive.frames[i].frame_id}: {reason}")
                    continue
                try:
                    self.check_frame(i)     # a bad frame fails before anything of it is written
                except (PointCloudError, ImageError) as e:
                    if not self.options.skip_bad_frames:
                        raise
                    self.summary.skip_frame(self.drive.frames[i].frame_id, e)
                    continue
                self.add_frame(i)
                self.summary.frames += 1
                exported.append(i)
        self.check_some_exported(exported)
        self.note_unmatched_classes()
        self.finish()
        if self.one_class_per_track:
            self.note_mixed_class_tracks()
        if self.options.class_map:
            self.summary.unmatched_class_map_keys = unmatched(self.options.class_map, self._names_seen)
        self.summary.seconds = time.perf_counter() - started
        return self._write_manifest(exported)

    def _start_manifest(self) -> None:
        """Note what ``--out`` holds that this export leaves alone (listed in the summary and the
        manifest, never written into)."""
        if self._kept_given is None:
            self.out.mkdir(parents=True, exist_ok=True)
            self._kept = user_names(self.out) - {MANIFEST}
        else:
            self._kept = set(self._kept_given)
        self.summary.kept = sorted(self._kept)
        self._written = set()

    def _write_manifest(self, frames: list[int]) -> ExportSummary:
        manifest = {"fusionlabel_export": 1, "complete": True, "kept": sorted(self._kept),
                    "written": sorted(self._written), "drive": self.drive.name,
                    "source": str(self.drive.root),
                    "frames": [self.drive.frames[i].frame_id for i in frames], "summary": self.summary.to_dict()}
        self.summary.files += 1
        manifest["summary"]["files"] = self.summary.files
        write_file(self.out / MANIFEST, json.dumps(manifest, indent=1) + "\n")
        return self.summary
