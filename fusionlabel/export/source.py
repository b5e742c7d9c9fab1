"""Open what ``fusionlabel export`` is pointed at: a project (its annotations) or a drive (its labels)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import DriveError
from ..model.drive import Drive
from .base import LabelsFor


def open_any_drive(path: str | Path, scene: str | None = None) -> Drive:
    """A drive folder of any supported layout: nuScenes (``scene`` picks the scene), SUSTech-style,
    or whatever :func:`fusionlabel.io.drives.open_drive` recognises (native, KITTI)."""
    from ..io.nuscenes import is_nuscenes_root, open_nuscenes
    from ..io.sustech import is_sustech_folder, open_sustech

    path = Path(path)
    if not path.exists():
        raise DriveError(path, "no such file or folder")
    if path.is_dir() and is_nuscenes_root(path):
        return open_nuscenes(path, scene=scene)
    if scene is not None:
        raise DriveError(path, "--scene only applies to nuScenes folders", where="--scene")
    if path.is_dir() and is_sustech_folder(path):
        return open_sustech(path)
    from ..io.drives import open_drive

    return open_drive(path)


@contextmanager
def open_source(path: str | Path, scene: str | None = None) -> Iterator[tuple[Drive, LabelsFor, str]]:
    """Yield (drive, labels_for, description) for a project folder or a drive folder.

    A project exports its current annotations (opened read-only when another process holds it);
    a drive exports the labels that came with it.
    """
    from ..store.project import Project, is_project

    path = Path(path)
    if path.is_dir() and is_project(path):
        project = Project.open(path)
        try:
            doc = project.document
            yield project.drive, (lambda i: [a.label for a in doc.annotations(i)]), f"project {path}"
        finally:
            project.close()
        return
    drive = open_any_drive(path, scene)
    yield drive, drive.labels, f"drive {drive.name}"
