"""Which findings of `fusionlabel check` are waived (:class:`~fusionlabel.model.waiver.Waiver`).

A finding is "the same" from one run to the next when it has the same **key**: its check, what it
is about (the track, ``track 7``; a project's box without a track by its stored id, ``box 3fa9…``,
never by its place in the frame's list; a duplicate by both its boxes; a finding about no box its
subject, ``cam_front``) and the frames it names, in order. Its
measured figure, threshold and message are not part of the key, so a box resized a little is still
the same oversized box; the same check on another track, or on other frames (a gap that grew by a
frame, a jump that moved to another pair of frames) is another finding, to be looked at anew.
The short id printed next to each finding (``[3f9a1c02]``) is the first 8 hex digits of the key's
SHA-1: the same finding has the same id in every run, on every machine.

A finding about a track may span frames (one oversized box copied along its track, a gap); a run
over some frames (``--frames``) sees it on those only, so its frames, and id, differ from a full
run's. A waiver therefore also covers a finding of its check and subject whose frames are all
among the waiver's (:func:`covers`): waived on a full run, it is waived in any ``--frames`` run.

Waivers written before boxes were named by stored id (the first schema-4 projects) keep their old id;
they still match a finding whose old id (:func:`legacy_id`) is theirs, and otherwise are stale
(:func:`stale_reason`)."""

from __future__ import annotations

import hashlib
import json
import re
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
    if finding.boxes:
        who = " & ".join(finding.boxes)
    else:
        who = f"track {finding.track_id}" if finding.track_id is not None else finding.subject
    return finding.check, who, _frames(finding)


def _frames(finding: Finding) -> tuple[str, ...]:
    return tuple(finding.frames) or ((finding.frame,) if finding.frame is not None else ())


def _short_sha1(key) -> str:
    text = json.dumps(list(key), separators=(",", ":"))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:ID_DIGITS]


def finding_id(finding: Finding) -> str:
    """The short id of ``finding`` (8 hex digits of its key's SHA-1)."""
    return _short_sha1(finding_key(finding))


def legacy_id(finding: Finding) -> str:
    """The id ``finding`` had in a waiver written before boxes were named by stored id: its track,
    else its subject (a box's place in the frame, ``frame 000003 box #2 (Car)``); the same as
    :func:`finding_id` for a finding about a track other than a duplicate."""
    who = f"track {finding.track_id}" if finding.track_id is not None else finding.subject
    return _short_sha1((finding.check, who, _frames(finding)))


def spans_run(finding: Finding) -> bool:
    """Whether ``finding``'s frames depend on the frames checked: a label finding about a track
    (merged over its frames, or a track check); a box without a track is seen in its own frame."""
    return is_label_finding(finding.check) and finding.track_id is not None


def covers(waiver: Waiver, finding: Finding) -> bool:
    """Whether ``waiver`` waives ``finding``: the same id (or the finding's :func:`legacy_id`), or
    the same check and subject with the finding's frames all among the waiver's (a finding about a
    track seen on fewer frames by a ``--frames`` run)."""
    if waiver.id in (finding_id(finding), legacy_id(finding)):
        return True
    check, who, frames = finding_key(finding)
    return bool(frames) and (waiver.check, waiver.subject) == (check, who) and set(frames) <= set(waiver.frames)


def stale_reason(waiver: Waiver) -> str:
    """Why ``waiver`` may match nothing although its finding is still there: written before boxes
    were named by stored id (an untracked box named by its place, a duplicate by one box), or the
    finding is gone."""
    if re.search(r"\bbox #\d+", waiver.subject) or (waiver.check == "label-duplicate" and " & " not in waiver.subject):
        return ("waived before findings named boxes by their stored id; if the finding is still listed, waive it "
                "again under its new id and unwaive this one")
    return "no longer found (fixed, or moved to other frames or tracks)"


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
    """Split ``findings`` by ``waivers`` (matched by :func:`covers`)."""
    out = Waived()
    seen = set()
    by_id = {w.id: w for w in waivers}
    by_subject: dict[tuple[str, str], list[Waiver]] = {}
    for w in waivers:
        by_subject.setdefault((w.check, w.subject), []).append(w)
    for f in findings:      # only the waivers that may cover it are tried: thousands of findings
        check, who, _ = finding_key(f)
        maybe = [by_id.get(finding_id(f)), by_id.get(legacy_id(f)), *by_subject.get((check, who), ())]
        w = next((w for w in maybe if w is not None and covers(w, f)), None)
        if w is not None:
            out.waived.append((f, w))
            seen.add(w.id)
        else:
            out.open.append(f)
    out.stale = [w for w in waivers if w.id not in seen]
    return out
