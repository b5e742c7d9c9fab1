"""The waiver options of `fusionlabel check PROJECT`: ``--waive ID --reason TEXT`` records that a
finding was looked at and is fine, ``--unwaive ID`` takes that back, ``--waived`` lists the
waivers (with those whose finding no longer occurs marked stale). Waivers live in the project
(:meth:`~fusionlabel.store.db.ProjectStore.waivers`); ids: :func:`~fusionlabel.qa.waivers.finding_id`."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ..errors import InputError
from ..model.waiver import Waiver
from ..qa.effort import utc_text
from ..qa.findings import Finding
from ..qa.waivers import ID_DIGITS, apply_waivers, clean_reason, finding_id, is_label_finding, waive
from ..wording import counted


def add_options(p: argparse.ArgumentParser) -> None:
    """``--waive``, ``--reason``, ``--unwaive``, ``--waived``."""
    g = p.add_mutually_exclusive_group()
    g.add_argument("--waive", action="append", metavar="ID", default=[],
                   help="a project's finding ID (printed in brackets next to each finding; the same in every run) "
                        "was looked at and is fine: record it with --reason; it is then counted, not listed, and "
                        "does not make the exit code 3 (repeat for several)")
    g.add_argument("--unwaive", action="append", metavar="ID", default=[],
                   help="take back the waiver of finding ID (repeat for several)")
    g.add_argument("--waived", action="store_true",
                   help="list the project's waivers: reason, who, when, and whether this run still finds the "
                        "finding (stale when it does not)")
    p.add_argument("--reason", metavar="TEXT", help="why the findings given to --waive are fine (required with --waive)")


def validate(args: argparse.Namespace, is_project: bool) -> None:
    """InputError naming the option for a waiver option that cannot be used: no project, a
    malformed id, a blank or stray --reason."""
    used = "--waive" if args.waive else "--unwaive" if args.unwaive else "--waived" if args.waived else None
    if args.reason is not None and not args.waive:
        raise InputError(None, "given without --waive ID: it is the reason a waived finding is fine", where="--reason")
    if used is None:
        return
    if not is_project:
        raise InputError(args.drive, "waivers are kept in a project, and this is not a project folder (make one "
                                     "with `fusionlabel project create DRIVE`, or give the project's folder)", where=used)
    if args.waive:
        clean_reason(args.reason)
    args.waive = [_id(text, "--waive") for text in args.waive]
    args.unwaive = [_id(text, "--unwaive") for text in args.unwaive]


def _id(text: str, option: str) -> str:
    got = text.strip().strip("[]").lower()
    if not re.fullmatch(f"[0-9a-f]{{{ID_DIGITS}}}", got):
        raise InputError(None, f"expected a finding id of {ID_DIGITS} hex digits as `fusionlabel check` prints it in "
                               f"brackets (e.g. 3f9a1c02), got {text!r}", where=option)
    return got


def waive_findings(args: argparse.Namespace, findings: list[Finding], some_frames: bool = False) -> list[Waiver]:
    """The waivers of ``args.waive`` (ids among ``findings`` of this run), written to the project;
    InputError naming --waive for an id this run did not find, or for a label finding when
    ``some_frames`` (--frames left out some of the drive's frames: a label finding's id stands for
    its frames, so it would differ from a full run's); nothing is written then."""
    by_id = {finding_id(f): f for f in findings}
    unknown = [i for i in args.waive if i not in by_id]
    if unknown:
        raise InputError(args.drive, f"no finding with id {', '.join(unknown)} in this run of the checks (run "
                                     "`fusionlabel check PROJECT` with the same options: each finding's id is in "
                                     "brackets); nothing waived", where="--waive")
    clipped = [i for i in args.waive if some_frames and is_label_finding(by_id[i].check)]
    if clipped:
        raise InputError(args.drive, f"{', '.join(clipped)} is a label finding seen on only the frames --frames "
                                     "chose; its id stands for the frames it spans, so a run over every frame would "
                                     "not find it waived: run `fusionlabel check PROJECT --labels-only` without "
                                     "--frames and waive the id it prints; nothing waived", where="--waive")
    waivers = [waive(by_id[i], args.reason) for i in dict.fromkeys(args.waive)]
    with _writable(args, "--waive") as store:
        store.put_waivers(waivers)
    return waivers


def unwaive(args: argparse.Namespace) -> list[Waiver]:
    """Take back the waivers ``args.unwaive`` and return them; InputError naming --unwaive when one
    is not there."""
    with _writable(args, "--unwaive") as store:
        known = {w.id: w for w in store.waivers()}
        unknown = [i for i in args.unwaive if i not in known]
        if unknown:
            raise InputError(args.drive, f"no waiver with id {', '.join(unknown)} in this project (--waived lists "
                                         "them); nothing taken back", where="--unwaive")
        store.remove_waivers(args.unwaive)
        return [known[i] for i in dict.fromkeys(args.unwaive)]


class _writable:
    """The project's store opened for writing (its lock taken), for a ``with`` block; InputError
    naming ``option`` when it cannot be (the app has it open: waive there, in its check dock)."""

    def __init__(self, args: argparse.Namespace, option: str):
        from ..store.project import Project

        self.project = Project.open(Path(args.drive), scene=args.scene)
        try:
            self.project.require_writable("change its waivers")
        except InputError as e:
            self.project.close()
            raise InputError(args.drive, f"{e.problem}; nothing changed: close it first, or while the app has it "
                                         "open use its label-check dock (Ctrl+K, then W on the finding)",
                             where=option) from None
        except BaseException:
            self.project.close()
            raise

    def __enter__(self):
        return self.project.store

    def __exit__(self, *exc) -> None:
        self.project.close()


def waiver_json(w: Waiver) -> dict:
    """A waiver for ``--json``: its fields, with ``at`` (ISO 8601 UTC) beside ``at_us`` as in a
    waived finding's ``waiver``."""
    return w.as_dict() | {"at": utc_text(w.at_us)}


def waiver_line(w: Waiver) -> str:
    """``[id] SUBJECT (check, frames): reason -- by USER, TIME``."""
    frames = f", frame{'s' if len(w.frames) > 1 else ''} {', '.join(w.frames[:4])}" if w.frames else ""
    more = f" (+{len(w.frames) - 4})" if len(w.frames) > 4 else ""
    return f"[{w.id}] {w.subject} ({w.check}{frames}{more}): {w.reason} -- by {w.user}, {utc_text(w.at_us)}"


def status_of(w: Waiver, found: set[str], ran_labels: bool, ran_drive: bool, frames: set[str] | None) -> str:
    """``waived`` (this run found the finding), ``stale`` (it did not) or ``not checked`` (its
    check did not run with these options, or ``frames``, the frames checked when --frames chose
    them, leave out some of its frames)."""
    if w.id in found:
        return "waived"
    ran = ran_labels if is_label_finding(w.check) else ran_drive
    return "stale" if ran and (frames is None or set(w.frames) <= frames) else "not checked"


def listing(waivers: list[Waiver], findings: list[Finding], ran_labels: bool, ran_drive: bool,
            frames: set[str] | None, as_json: bool) -> list[str] | list[dict]:
    """``--waived``: each waiver with its status (:func:`status_of`), as lines or JSON records."""
    split = apply_waivers(findings, waivers)
    now = {w.id: f for f, w in split.waived}
    if as_json:
        return [waiver_json(w) | {"status": status_of(w, set(now), ran_labels, ran_drive, frames),
                               "finding": now[w.id].as_dict() if w.id in now else None} for w in waivers]
    if not waivers:
        return ["no finding waived in this project"]
    lines = [f"{counted(len(waivers), 'waiver')}:"]
    for w in waivers:
        status = status_of(w, set(now), ran_labels, ran_drive, frames)
        lines.append(f"  {status:<11} {waiver_line(w)}")
        if status == "stale":
            lines.append(f"              no longer found (fixed, or moved to other frames or tracks); it said: {w.message}"
                         "; --unwaive it to tidy up")
        elif status == "not checked":
            lines.append("              its check or frames were not checked with these options")
    return lines
