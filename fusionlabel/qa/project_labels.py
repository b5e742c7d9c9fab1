"""A project folder given to `fusionlabel eval` or `fusionlabel render`: its drive and its current
cuboids, read without taking the project's write lock (an open app keeps editing undisturbed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..model.annotation import CuboidLabel
from ..model.drive import Drive
from ..model.waiver import Waiver

REVIEWED = ("done", "reviewed")     # frame statuses that say "every object here is labelled"


@dataclass
class ProjectLabels:
    """``drive``: the project's drive (on its scene); ``labels[i]``: every current cuboid of frame i
    (pre-labels with their scores, human and imported cuboids) as the project's command log tells
    them, as an export reads them (:func:`~fusionlabel.assist.logged_labels.logged_labels`: a box
    C, V or I carried holds no detection score, though an old project stores its source's);
    ``statuses[i]``: frame i's status;
    ``absent[i]``: the tracks whose object is marked absent in frame i (frames with marks only);
    ``waivers``: the findings of `fusionlabel check` waived in the project."""

    folder: Path
    drive: Drive
    labels: list[list[CuboidLabel]]
    statuses: list[str]
    absent: dict[int, set[str]] = field(default_factory=dict)
    waivers: list[Waiver] = field(default_factory=list)

    def ground_truth_frames(self) -> list[int]:
        """Frames that count as labelled: a human or imported cuboid, or marked done or reviewed
        (an empty frame so marked holds no objects)."""
        return [i for i, labels in enumerate(self.labels)
                if self.statuses[i] in REVIEWED or any(lab.source != "model" for lab in labels)]


def read_project(folder: str | Path, scene: str | None = None, stored_ids: bool = False) -> ProjectLabels:
    """The drive and current cuboids of the project in ``folder`` (as :class:`ProjectLabels` tells),
    opened read-only (:meth:`~fusionlabel.store.project.Project.open`); ``scene``, when given, must
    be its scene; ``stored_ids``: as :func:`document_labels`."""
    from ..assist.logged_labels import logged_labels
    from ..store.project import Project

    with Project.open(folder, read_only=True, scene=scene) as project:
        doc = project.document
        labels, absent = document_labels(doc, len(project.drive), stored_ids, logged_labels(doc))
        return ProjectLabels(Path(folder), project.drive, labels, doc.frame_statuses(), absent,
                             project.store.waivers())


def stored_labels(folder: str | Path, n_frames: int, stored_ids: bool = False) -> tuple[dict[int, list[CuboidLabel]], dict[int, set[str]]]:
    """The cuboids of the labelled frames (``{frame index: labels}``) and the tracks marked absent
    by frame index, as committed to the database of the project in ``folder`` (``n_frames`` long),
    read without its drive and without taking its write lock: a label check reads them there while
    the app that has the project open goes on editing. ``stored_ids``: as :func:`document_labels`."""
    from ..model.document import Document
    from ..model.ontology import Ontology, OntologyError
    from ..store.db import ProjectStore
    from ..store.project import DB_NAME, ONTOLOGY_NAME

    try:
        ontology = Ontology.load(Path(folder) / ONTOLOGY_NAME)
    except OntologyError:   # as the app: the built-in classes until the file is fixed
        ontology = Ontology.default()
    store = ProjectStore(Path(folder) / DB_NAME, read_only=True, read_only_reason="checking its labels")
    try:
        labels, absent = document_labels(Document(n_frames, ontology, store), n_frames, stored_ids)
    finally:
        store.close()
    return {i: v for i, v in enumerate(labels) if v}, absent


def document_labels(doc, n_frames: int, stored_ids: bool = False,
                    labels_for: Callable[[int], list[CuboidLabel]] | None = None
                    ) -> tuple[list[list[CuboidLabel]], dict[int, set[str]]]:
    """A document's current cuboids of each of its ``n_frames`` frames, and by frame index the
    tracks marked absent there (frames with marks only): what the label checks read. With
    ``stored_ids`` each cuboid carries its stored uid as :data:`~.box_checks.STORED_ID`, so that a finding names it by that
    rather than by its place in the frame's list (which any edit may change). ``labels_for(i)``,
    when given, gives frame i's cuboids in the document's order (default: as stored)."""
    from .box_checks import STORED_ID

    def frame_labels(i: int) -> list[CuboidLabel]:
        anns = doc.annotations(i)
        labels = [a.label for a in anns] if labels_for is None else labels_for(i)
        if not stored_ids:
            return labels
        return [lab.with_(attributes={**lab.attributes, STORED_ID: a.uid}) for a, lab in zip(anns, labels, strict=True)]

    labels = [frame_labels(i) for i in range(n_frames)]
    absent = {i: set(tracks) for i in range(n_frames) if (tracks := doc.tracks_absent_in(i))}
    return labels, absent
