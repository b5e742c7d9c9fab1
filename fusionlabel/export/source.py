"""Open what ``fusionlabel export`` is pointed at: a project (its annotations) or a drive (its labels)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..io.nuscenes_boxes import SOURCE_BOX
from ..model.annotation import CuboidLabel
from ..model.drive import Drive
from .base import LabelsFor


@contextmanager
def open_source(path: str | Path, scene: str | None = None,
                image_size: tuple[int, int] | None = None
                ) -> Iterator[tuple[Drive, LabelsFor, str, list[str] | None]]:
    """Yield (drive, labels_for, description, frame statuses) for a project folder or a drive
    folder (whose frames have no status: None).

    A project exports its current annotations as its command log tells them
    (:func:`project_labels`); it is opened read-only, so an editor can keep (or start) working on
    it while the export runs; a drive exports the labels that came with it. ``image_size`` goes to
    :func:`~fusionlabel.io.drives.open_drive` or :meth:`~fusionlabel.store.project.Project.open`
    (a project that knows camera image_2's size must agree with it).
    """
    from ..store.project import Project, is_project

    path = Path(path)
    if path.is_dir() and is_project(path):
        project = Project.open(path, read_only=True, scene=scene, image_size=image_size)
        try:
            doc = project.document
            yield project.drive, project_labels(doc), f"project {path}", doc.frame_statuses()
        finally:
            project.close()
        return
    from ..io.drives import open_drive

    drive = open_drive(path, scene, image_size)
    yield drive, drive.labels, f"drive {drive.name}", None


def project_labels(doc) -> LabelsFor:
    """``labels_for(frame)`` of a project's current cuboids as its command log tells them (the log
    is read once, here): an imported label's occlusion as its source gives it unless a command set
    it (:mod:`~fusionlabel.store.occlusion_history`), and no detection score on a box C, V or I
    made (:mod:`~fusionlabel.assist.carried_boxes`: projects edited before those dropped it hold
    the score of the box it came from), nor what a nuScenes import said of the box it came from
    (:func:`as_carried`)."""
    from ..assist.carried_boxes import carried_uids
    from ..store.occlusion_history import occlusion_as_logged, occlusion_set_uids

    chosen, carried = occlusion_set_uids(doc), carried_uids(doc)

    def labels_for(i: int):
        labels = [(a.uid, occlusion_as_logged(a.label, a.uid in chosen)) for a in doc.annotations(i)]
        return [as_carried(lab) if uid in carried else lab for uid, lab in labels]
    return labels_for


# What a nuScenes import kept of a box in its own frame: the source box (which tells an untouched
# import, :mod:`.as_imported`) and its visibility there.
SOURCE_FRAME_KEYS = (SOURCE_BOX, "visibility")


def as_carried(label: CuboidLabel) -> CuboidLabel:
    """A box that C, V or I carried from another frame, as exported: no detection score
    (:func:`~fusionlabel.model.detection_score.unscored`), and not taken for the imported box it came
    from. A copy of a parked object, moved through the ego poses, lies where its source lay in the
    world, so its kept source box still matched and the export wrote the source frame's visibility;
    it is now estimated in its own frame, as for a box drawn there: an occlusion the import gave
    goes too (one an annotator chose stays)."""
    from ..model.detection_score import unscored
    from ..model.occlusion_choice import OCCLUSION, chosen_occlusion

    label = unscored(label)
    if not any(key in label.attributes for key in SOURCE_FRAME_KEYS):
        return label
    dropped = SOURCE_FRAME_KEYS + ((OCCLUSION,) if chosen_occlusion(label) is None else ())
    return label.with_(attributes={k: v for k, v in label.attributes.items() if k not in dropped})
