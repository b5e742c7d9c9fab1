"""Bringing a drive's own labels into its project, once: what Ctrl+I and a new project's first command do.

Importing is idempotent. The record of what was imported is the command log itself: every
import is one ``Batch`` of ``CreateCuboid`` commands (description ``Import N labels from the
drive``), and the ones still in effect (not undone) say which drive labels the project has.
A drive label is *already imported* when a done import created a cuboid in the same frame with

* the same nuScenes annotation token (``nuscenes_token``), or
* the same source track id (a track the source gives once in that frame; when the project had to
  give the cuboid another track, the source's is kept in the attribute ``source_track``), or
* the same box (centre, size and yaw to 0.1 mm: a label without token or track, KITTI object).

A nuScenes label joins the track of its instance in a project made before nuScenes track ids were
short, whose tracks are named by instance token (``drive.instance_tokens``), so one object stays one
track there.

Such a label is skipped whatever became of its cuboid since: edited, retyped, moved to another
track or deleted, the annotator's version stands and a deleted one is not brought back. Undoing
an import (one ``Ctrl+Z``) forgets it, so the next import brings those labels back. The import a
project was made with is its starting point and is not undone
(:meth:`~fusionlabel.store.project.Project.import_drive_labels`).

A label not imported yet is still skipped when its box overlaps a cuboid already in that frame
(drawn by the annotator, a pre-label, an edited import): the two footprints seen from above share
at least :data:`OVERLAP` of the smaller one's area. The cuboid in the project stays as it is and
the report counts the label; deleting that cuboid and importing again brings the label in.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Hashable

from ..errors import FusionLabelError
from ..geometry.cuboid import Cuboid
from ..geometry.iou import bev_intersection
from ..model.annotation import CuboidLabel
from ..model.commands import Batch, Command, CreateCuboid, leaves
from ..model.document import Document
from ..model.drive import Drive
from ..model.ontology import Ontology
from ..model.source_class import project_label
from ..progress import progress as progress_bar
from ..wording import counted

# Foreign labels that mark regions to ignore rather than objects: skipped without a warning.
NOT_OBJECTS = frozenset({"dontcare"})
# Attribute holding the source's track id of a label the project gave another track (it was taken).
SOURCE_TRACK = "source_track"
# Share of the smaller footprint two boxes must have in common to be one object.
OVERLAP = 0.3
_DESCRIPTION_START, _DESCRIPTION_END = "Import ", " from the drive"


def import_description(n: int) -> str:
    """The undo text of an import of ``n`` labels (how the log tells imports from other commands)."""
    return f"{_DESCRIPTION_START}{counted(n, 'label')}{_DESCRIPTION_END}"


def is_import_description(text: str) -> bool:
    """Whether ``text`` is the undo text of an import (:func:`import_description`)."""
    return text.startswith(_DESCRIPTION_START) and text.endswith(_DESCRIPTION_END)


def starting_point_text(descriptions: list[str]) -> str:
    """What a project starts with, from the descriptions of its starting point's commands
    (:meth:`~fusionlabel.model.document.Document.starting_point`), e.g. *the project starts with
    the 87 labels imported from the drive*."""
    parts = [f"the {d[len(_DESCRIPTION_START):-len(_DESCRIPTION_END)]} imported from the drive"
             if is_import_description(d) else f"“{d}”" for d in descriptions]
    return "the project starts with " + " and ".join(parts)


@dataclass
class ImportReport:
    """What :meth:`Project.import_drive_labels` did: ``created`` labels (the bound ``command``, None
    when nothing was new); ``already`` imported before and still in the project; ``deleted``
    imported before and deleted since (not brought back); ``overlapping`` left out because a box
    already in the project covers them; ``skipped_classes`` by class; unreadable label files;
    ``left_out``: the drive reader's lines on label files it could not make a frame of;
    ``bad_frames``: the index of the frame of each of ``errors``."""

    command: Command | None
    created: int = 0
    skipped_classes: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    already: int = 0
    deleted: int = 0
    overlapping: int = 0
    left_out: list[str] = field(default_factory=list)
    bad_frames: list[int] = field(default_factory=list)

    @property
    def unknown_classes(self) -> Counter:
        """The skipped labels by class, without the regions meant to be skipped (KITTI's DontCare)."""
        return Counter({k: n for k, n in self.skipped_classes.items() if k.lower() not in NOT_OBJECTS})

    def skipped_text(self) -> str | None:
        """One line naming the unknown classes with their counts (most first), or None."""
        unknown = self.unknown_classes
        total = sum(unknown.values())
        if not total:
            return None
        names = ", ".join(f"{name} ({n})" for name, n in sorted(unknown.items(), key=lambda kv: (-kv[1], kv[0])))
        return (f"skipped {counted(total, 'drive label')} of classes the ontology does not "
                f"know: {names}; to keep them, add these names as aliases in the project's ontology.yaml")

    def summary(self) -> str:
        """One line saying everything the import did with the drive's labels, e.g. *imported 0 new
        labels from the drive; 313 already in the project*."""
        new = "new " if self.already or self.deleted else ""
        parts = [f"imported {counted(self.created, new + 'label')} from the drive"]
        if self.already:
            parts.append(f"{self.already} already in the project")
        if self.deleted:
            parts.append(f"{counted(self.deleted, 'label')} imported before and deleted since, not brought back")
        if self.overlapping:
            parts.append(f"{counted(self.overlapping, 'label')} left out for overlapping a box already in the project")
        skipped = self.skipped_text()
        return "; ".join(parts + ([skipped] if skipped else []))

    def errors_text(self) -> str | None:
        """One line on the label files that could not be read, or None."""
        if not self.errors:
            return None
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        return f"{counted(len(self.errors), 'label file')} not read: {self.errors[0]}{more}"

    def unread_frames(self, drive: Drive) -> list[tuple[str, str]]:
        """(frame ID, error naming the file and line) of each frame of ``drive`` whose label file
        could not be read: none of its labels were imported."""
        return [(drive.frames[i].frame_id, e) for i, e in zip(self.bad_frames, self.errors)]

    def read_no_frame(self, drive: Drive) -> bool:
        """Whether the label file of every frame of ``drive`` could not be read: nothing was imported
        (``--skip-bad-frames`` then stops with exit 2, and a creation is not finished by it)."""
        return bool(self.bad_frames) and len(self.bad_frames) == len(drive)

    def problems(self) -> list[str]:
        """What the user must hear about: the summary when classes were skipped (one line),
        unreadable label files, and label files left out with their frame."""
        out = [self.summary()] if self.skipped_text() else []
        errors = self.errors_text()
        return out + ([errors] if errors else []) + self.left_out


def _box_key(frame: int, box: Cuboid) -> tuple:
    return (frame, "box", *(round(float(v), 4) for v in (*box.center, *box.size, box.yaw)))


def _keys(frame: int, label: CuboidLabel, track: str | None) -> list[Hashable]:
    """The identities of a label in a frame: box, nuScenes token, source track (when given)."""
    keys: list[Hashable] = [_box_key(frame, label.box)]
    token = label.attributes.get("nuscenes_token")
    if isinstance(token, str) and token:
        keys.append((frame, "token", token))
    if track is not None:
        keys.append((frame, "track", track))
    return keys


def imported_labels(doc: Document) -> dict[Hashable, str]:
    """Identity of each drive label the imports in effect created -> the uid it got."""
    out: dict[Hashable, str] = {}
    for cmd in doc.done_commands(_DESCRIPTION_START):
        if not is_import_description(cmd.description):
            continue
        for c in leaves(cmd):
            if isinstance(c, CreateCuboid) and c.uid is not None:
                track = c.label.attributes.get(SOURCE_TRACK, c.label.track_id)
                for key in _keys(c.frame, c.label, None if track is None else str(track)):
                    out.setdefault(key, c.uid)
    return out


def overlaps(a: Cuboid, b: Cuboid) -> bool:
    """Whether two boxes are one object seen from above: their footprints share at least
    :data:`OVERLAP` of the smaller one's area."""
    smaller = min(a.length * a.width, b.length * b.width)
    return smaller > 0 and bev_intersection(a, b) >= OVERLAP * smaller


def _token_named_tracks(doc: Document, drive: Drive) -> dict[str, str]:
    """Drive track id -> the project's track named by its nuScenes instance token, for the tracks a
    project made before short nuScenes ids holds (empty for every other project and drive)."""
    instances = getattr(drive, "instance_tokens", None) or {}
    in_use = set(doc.track_ids()) if instances else set()
    return {track: token for track, token in instances.items() if token in in_use}


def import_drive_labels(doc: Document, drive: Drive, ontology: Ontology, frames: list[int] | None = None,
                        progress: bool = True, skip_bad_frames: bool = True) -> ImportReport:
    """Add the drive labels of ``frames`` (default all) the project does not have yet as one
    undoable command (see the module docstring for what counts as having them). A frame whose label
    file cannot be read is left out and listed in the report; with ``skip_bad_frames`` False its
    error is raised instead, and nothing is imported."""
    report = ImportReport(None, left_out=list(getattr(drive, "left_out", [])) if frames is None else [])
    earlier = imported_labels(doc)
    token_tracks = _token_named_tracks(doc, drive)
    commands: list[Command] = []
    frames = list(range(len(drive))) if frames is None else frames
    for i in progress_bar(frames, desc="import labels", enabled=progress and len(frames) >= 50):
        try:
            labels = drive.labels(i)
        except FusionLabelError as e:
            if not skip_bad_frames:
                raise
            report.errors.append(str(e))
            report.bad_frames.append(i)
            continue
        in_frame = [a.box for a in doc.annotations(i)]
        tracks = Counter(lab.track_id for lab in labels if lab.track_id is not None)
        seen: set[str] = set()
        for lab in labels:
            label = project_label(ontology, lab)
            if label is None:
                report.skipped_classes[lab.label] += 1
                continue
            source_track = lab.track_id if tracks[lab.track_id] == 1 else None
            uid = next((earlier[k] for k in _keys(i, lab, source_track) if k in earlier), None)
            if uid is not None:
                if uid in doc:
                    report.already += 1
                else:
                    report.deleted += 1
                continue
            if any(overlaps(label.box, box) for box in in_frame):
                report.overlapping += 1
                continue
            track = token_tracks.get(lab.track_id, lab.track_id)
            attributes = {k: v for k, v in label.attributes.items() if k != SOURCE_TRACK}   # another project's
            if track is not None and (track in seen or doc.find_track(track, i) is not None):
                attributes[SOURCE_TRACK] = track
                track = None
            label = label.with_(attributes=attributes)
            if track is not None:
                seen.add(track)
            commands.append(CreateCuboid(i, label.with_(track_id=track)))
    if commands:
        # The labels with a track first: the project gives the others new ids only after these are
        # in (numeric ids in use are never given again), so none takes a track id of the drive's.
        commands.sort(key=lambda c: c.label.track_id is None)
        report.command = doc.apply(Batch(tuple(commands), import_description(len(commands))))
        report.created = len(commands)
    return report
