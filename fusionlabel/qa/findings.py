"""What `fusionlabel check` reports: a finding is one problem, with how sure it is and what to do."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

ERROR = "error"        # the data is wrong: points will be misplaced or missing
WARNING = "warning"    # suspicious: probably wrong, but a real rig could be like this
SEVERITIES = (ERROR, WARNING)


@dataclass(frozen=True)
class Finding:
    """One problem found in a drive or its labels.

    ``subject``: what it is about (a camera name, ``poses``, ``frame 000003``); ``check``: a short
    stable identifier of the check (``coverage``, ``image-down``, ``principal-point``,
    ``lens-fold``, ``lens-map``, ``lens-tangential``, ``camera-distance``, ``lidar-up``, ``poses``, ``capture-time``, ``files``; for labels
    ``label-empty``, ``label-ground``, ``label-size``, ``label-duplicate``, ``label-file``, ``track-class``,
    ``track-size``, ``track-jump``, ``track-yaw-flip``, ``track-gap``, ``track-fragment``, ``track-end``);
    ``message``: what is wrong, with the numbers that show it; ``remedy``: what to do about it.

    The rest is the same for a program (``check --json``), where a check has it: ``frame`` the frame
    to look at first and ``frames`` every frame it is about (frame ids); ``track_id`` and ``cls`` the
    label's track and class; ``boxes`` the boxes it is about, by a name that survives edits and
    reordering (``track 7``, or ``box <stored id>`` for a project's cuboid without a track; a
    duplicate names both boxes); ``value`` the measured figure, ``threshold`` the limit it crossed, both
    in ``unit``; ``errors``, for a file finding whose files fail in different ways, the first error
    of each way with the frames whose file fails so (most files first; empty when they fail alike)."""

    severity: str
    subject: str
    check: str
    message: str
    remedy: str
    frame: str | None = None
    frames: tuple[str, ...] = ()
    track_id: str | None = None
    cls: str | None = None
    boxes: tuple[str, ...] = ()
    value: float | None = None
    threshold: float | None = None
    unit: str | None = None
    errors: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")

    def as_dict(self) -> dict:
        """The finding for JSON: the text keys, then the structured ones (None where not known,
        ``errors`` empty)."""
        return {"severity": self.severity, "subject": self.subject, "check": self.check, "message": self.message,
                "remedy": self.remedy, "frame": self.frame, "frames": list(self.frames), "track_id": self.track_id,
                "class": self.cls, "boxes": list(self.boxes), "value": None if self.value is None else round(float(self.value), 4),
                "threshold": None if self.threshold is None else round(float(self.threshold), 4), "unit": self.unit,
                "errors": [{"error": error, "files": len(frames), "frames": list(frames)} for error, frames in self.errors]}


def counts(findings: list[Finding]) -> dict[str, int]:
    """The number of findings by check, in the order the checks first appear."""
    return dict(Counter(f.check for f in findings))


def unique(findings: list[Finding]) -> list[Finding]:
    """``findings`` without repeats (the same camera checked in several frames' rigs), in order."""
    seen: set[Finding] = set()
    return [f for f in findings if not (f in seen or seen.add(f))]
