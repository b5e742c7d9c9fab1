"""One error hierarchy for everything the user can get wrong.

Every message names the file (and the line or key) and what was expected, so that the CLI can
print it on one line and the app can show it without a traceback.
"""

from __future__ import annotations

from pathlib import Path


class FusionLabelError(Exception):
    """Root of every error fusionlabel raises on purpose."""


class InputError(FusionLabelError):
    """Bad user-supplied data: a file, a field within it, and what is wrong.

    Args:
        path: the file (or folder) at fault.
        problem: what is wrong, including what was expected and what was found.
        where: optional key, field or ``line N`` inside the file.
    """

    def __init__(self, path: str | Path | None, problem: str, where: str | None = None):
        self.path = None if path is None else Path(path)
        self.where = where
        self.problem = problem
        loc = "" if path is None else str(path)
        if where:
            loc = f"{loc}: {where}" if loc else where
        super().__init__(f"{loc}: {problem}" if loc else problem)


class CalibrationError(InputError):
    """A rig or calibration file is missing keys or holds impossible values."""


class PointCloudError(InputError):
    """A LiDAR sweep cannot be read or holds invalid points."""


class ImageError(InputError):
    """A camera image is missing or cannot be decoded."""


class LabelError(InputError):
    """An annotation file has a malformed entry."""


class DriveError(InputError):
    """A drive folder does not have the expected layout."""
