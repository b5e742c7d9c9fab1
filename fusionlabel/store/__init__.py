"""The project store: a folder with a SQLite database (WAL, synchronous=FULL) per drive.

See docs/project_store.md. Entry points: :class:`Project` (create / open / open_or_create_for_drive)
and :class:`ProjectStore` (the database behind a Document).
"""

from .db import ProjectStore, StoreClosedError, StoreError
from .project import (ImportReport, Project, ProjectError, default_project_folder, interrupted_creation,
                      is_project, open_project_or_drive, relink_drive, user_projects_dir)

__all__ = ["Project", "ProjectError", "ProjectStore", "StoreError", "StoreClosedError", "ImportReport",
           "default_project_folder", "interrupted_creation", "is_project", "open_project_or_drive",
           "relink_drive", "user_projects_dir"]
