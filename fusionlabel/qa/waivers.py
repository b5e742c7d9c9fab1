"""Which findings of `fusionlabel check` are waived (:class:`~fusionlabel.model.waiver.Waiver`).

A finding is "the same" from one run to the next when it has the same **key**: its check, what it
is about (the track, ``track 7``; for a box without a track, or a finding about no track, its
subject, ``frame 000003 box #2 (Car)``, ``cam_front``) and the frames it names, in order. Its
measured figure, threshold and message are not part of the key, so a box resized a little is still
the same oversized box; the same check on another track, or on other frames (a gap that grew by a
frame, a jump that moved to another pair of frames) is another finding, to be looked at anew.
The short id printed next to each finding (``[3f9a1c02]``) is the first 8 hex digits of the key's
SHA-1: the same finding has the same id in every run, on every machine."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field

from ..errors import InputError
from ..model.waiver import Waiver, current_user
from .findings import Finding

ID_DIGITS = 8
# checks whose findings come from the label checks (the others: calibration, poses, capture times)
LABEL_CHECK_PREFIXES = ("label-", "track-")


def finding_key(finding: Finding) -> tuple[str, str, tuple[str, ...]]:
    """(check, subject, frames): what names ``finding`` from one run of the checks to the next."""
    who = f"track {finding.track_id}" if finding.track_id is not None else finding.subject
    frames = tuple(finding.frames) or ((finding.frame,) if finding.frame is not None else ())
    return finding.check, who, frames


def finding_id(finding: Finding) -> str:
    """The short id of ``finding`` (8 hex digits of its key's SHA-1)."""
    text = json.dumps(list(finding_key(finding)), separators=(",", ":"))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:ID_DIGITS]


def is_label_finding(check: str) -> bool:
    """Whether ``check`` is one of the label checks."""
    return check.startswith(LABEL_CHECK_PREFIXES)


def clean_reason(reason: str | None, where: str = "--reason") -> str:
    """``reason`` stripped; InputError naming ``where`` when it is missing or blank."""
    text = (reason or "").strip()
    if not text:
        raise InputError(None, "a waiver needs a reason: say why the finding is fine (e.g. "
                               "\"the returns beyond the track's end are a parked trailer\")", where=where)
    return text


def waive(finding: Finding, reason: str, user: str | None = None, at_us: int | None = None) -> Waiver:
    """A waiver of ``finding`` for ``reason`` (not blank), by ``user`` (default: the OS user), now."""
    check, subject, frames = finding_key(finding)
    return Waiver(finding_id(finding), check, subject, frames, finding.message, clean_reason(reason),
                  user or current_user(), time.time_ns() // 1000 if at_us is None else at_us)


@dataclass
class Waived:
    """Findings split by the project's waivers: ``open`` still to deal with, ``waived`` (finding,
    its waiver), and ``stale`` waivers whose finding this run did not report."""

    open: list[Finding] = field(default_factory=list)
    waived: list[tuple[Finding, Waiver]] = field(default_factory=list)
    stale: list[Waiver] = field(default_factory=list)


def apply_waivers(findings: list[Finding], waivers: list[Waiver]) -> Waived:
    """Split ``findings`` by ``waivers`` (matched on the finding id, :func:`finding_id`)."""
    by_id = {w.id: w for w in waivers}
    out = Waived()
    seen = set()
    for f in findings:
        fid = finding_id(f)
        if fid in by_id:
            out.waived.append((f, by_id[fid]))
            seen.add(fid)
        else:
            out.open.append(f)
    out.stale = [w for w in waivers if w.id not in seen]
    return out
