"""A waiver: a QA lead's word that one label-check finding was looked at and is fine (a `track-end`
whose returns are another object, a truly oversized truck), kept in the project so that `check`
and the app's check list stop reporting it."""

from __future__ import annotations

import getpass
from dataclasses import dataclass


@dataclass(frozen=True)
class Waiver:
    """One waived finding. ``id``: the finding's short id (:func:`fusionlabel.qa.waivers.finding_id`);
    ``check``, ``subject`` and ``frames``: what names the finding (its key, no measured figure);
    ``message``: what the finding said when it was waived (for listing a waiver whose finding is gone);
    ``reason``: why it is fine; ``user``: the OS user name of who waived it; ``at_us``: when (µs since
    the epoch)."""

    id: str
    check: str
    subject: str
    frames: tuple[str, ...]
    message: str
    reason: str
    user: str
    at_us: int

    def as_dict(self) -> dict:
        """The waiver for JSON (``check --json``, ``check --waived --json``)."""
        return {"id": self.id, "check": self.check, "subject": self.subject, "frames": list(self.frames),
                "message": self.message, "reason": self.reason, "user": self.user, "at_us": self.at_us}


def current_user() -> str:
    """Who waives: the OS user name (fusionlabel has no user identity of its own), ``unknown``
    where the OS does not say."""
    try:
        return getpass.getuser() or "unknown"
    except (OSError, KeyError, ImportError):
        return "unknown"
