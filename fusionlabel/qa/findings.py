"""What `fusionlabel check` reports: a finding is one problem, with how sure it is and what to do."""

from __future__ import annotations

from dataclasses import asdict, dataclass

ERROR = "error"        # the data is wrong: points will be misplaced or missing
WARNING = "warning"    # suspicious: probably wrong, but a real rig could be like this
SEVERITIES = (ERROR, WARNING)


@dataclass(frozen=True)
class Finding:
    """One problem found in a drive or its labels.

    ``subject``: what it is about (a camera name, ``poses``, ``frame 000003``); ``check``: a short
    stable identifier of the check (``coverage``, ``image-down``, ``principal-point``,
    ``lens-fold``, ``camera-distance``, ``poses``, ``capture-time``, ``files``; for labels
    ``label-empty``, ``label-ground``, ``label-size``, ``label-duplicate``, ``track-class``,
    ``track-size``, ``track-jump``, ``track-yaw-flip``); ``message``: what is wrong, with the
    numbers that show it; ``remedy``: what to do about it."""

    severity: str
    subject: str
    check: str
    message: str
    remedy: str

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")

    def as_dict(self) -> dict:
        return asdict(self)


def unique(findings: list[Finding]) -> list[Finding]:
    """``findings`` without repeats (the same camera checked in several frames' rigs), in order."""
    seen: set[Finding] = set()
    return [f for f in findings if not (f in seen or seen.add(f))]
