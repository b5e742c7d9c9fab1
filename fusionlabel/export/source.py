"""Open what ``fusionlabel export`` is pointed at: a project (its annotations) or a drive (its labels)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..model.drive import Drive
from .base import LabelsFor


@contextmanager
def open_source(path: str | Path, scene: str | None = None,
                image_size: tuple[int, int] | None = None
                ) -> Iterator[tuple[Drive, LabelsFor, str, list[str] | None]]:
    """Yield (drive, labels_for, description, frame statuses) for a project folder or a drive
    folder (whose frames have no status: None).

    A project exports its current annotations as its command log tells them
    (:func:`~fusionlabel.assist.logged_labels.logged_labels`, as ``eval`` reads them); it is
    opened read-only, so an editor can keep (or start) working on it while the export runs; a drive exports the labels that came with it. ``image_size`` goes to
    :func:`~fusionlabel.io.drives.open_drive` or :meth:`~fusionlabel.store.project.Project.open`
    (a project that knows camera image_2's size must agree with it).
    """
    from ..assist.logged_labels import logged_labels
    from ..store.project import Project, is_project

    path = Path(path)
    if path.is_dir() and is_project(path):
        project = Project.open(path, read_only=True, scene=scene, image_size=image_size)
        try:
            doc = project.document
            yield project.drive, logged_labels(doc), f"project {path}", doc.frame_statuses()
        finally:
            project.close()
        return
    from ..io.drives import open_drive

    drive = open_drive(path, scene, image_size)
    yield drive, drive.labels, f"drive {drive.name}", None
