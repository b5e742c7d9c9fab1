"""The hidden names a run keeps inside its ``--out`` folder while it runs (:mod:`.staging`).

They are the run's own, never the user's: they are not listed as written or kept, do not make a
folder "not empty", and one left by a run killed outright is removed by the next run.
"""

from __future__ import annotations

from pathlib import Path

LOCK_NAME = ".fusionlabel-lock"           # the lock file of the run writing the folder
STAGING_NAME = ".fusionlabel-partial"     # the folder the run writes into
OLD_NAME = ".fusionlabel-replaced"        # what a successful run moves out of the way, then deletes
RUN_NAMES = frozenset((LOCK_NAME, STAGING_NAME, OLD_NAME))


def user_names(folder: Path) -> set[str]:
    """The top-level names in ``folder`` other than a run's own (empty when it is no folder)."""
    folder = Path(folder)
    return {p.name for p in folder.iterdir() if p.name not in RUN_NAMES} if folder.is_dir() else set()
