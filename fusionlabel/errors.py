"""One error hierarchy for everything the user can get wrong.

Every message names the file (and the line or key) and what was expected, so that the CLI can
print it on one line and the app can show it without a traceback.
"""

from __future__ import annotations

import errno
from pathlib import Path

# OS errors that pass with time, not with a fix of the input: a full disk, a used-up quota.
TEMPORARY_ERRNOS = frozenset(e for e in (errno.ENOSPC, getattr(errno, "EDQUOT", None)) if e is not None)


class FusionLabelError(Exception):
    """Root of every error fusionlabel raises on purpose.

    ``temporary`` is True for a failure that the same command may get past later with the same
    input: a folder or project another run holds, a full disk (see :func:`is_temporary`)."""

    temporary = False


class InputError(FusionLabelError):
    """Bad user-supplied data: a file, a field within it, and what is wrong.

    Args:
        path: the file (or folder) at fault.
        problem: what is wrong, including what was expected and what was found.
        where: optional key, field or ``line N`` inside the file.
        temporary: the input is fine and the same command may succeed later (another run holds
            the file or folder); see :func:`is_temporary`.
    """

    def __init__(self, path: str | Path | None, problem: str, where: str | None = None, temporary: bool = False):
        if temporary:
            self.temporary = True
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


def is_temporary(error: BaseException) -> bool:
    """Whether ``error`` is a failure to retry later rather than to fix: one marked ``temporary``,
    or one raised while handling an OSError of a full disk or quota (:data:`TEMPORARY_ERRNOS`),
    which the one-line errors wrap (``raise InputError(...) from None`` keeps it as the context)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if getattr(error, "temporary", False):
            return True
        if isinstance(error, OSError) and error.errno in TEMPORARY_ERRNOS:
            return True
        error = error.__cause__ or error.__context__
    return False
