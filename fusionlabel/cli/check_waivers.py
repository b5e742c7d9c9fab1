"""The waiver options of `fusionlabel check PROJECT`: ``--waive ID --reason TEXT`` records that a
finding was looked at and is fine, ``--unwaive ID`` takes that back, ``--waived`` lists the
waivers (with those whose finding no longer occurs marked stale). Waivers live in the project
(:meth:`~fusionlabel.store.db.ProjectStore.waivers`); ids: :func:`~fusionlabel.qa.waivers.finding_id`."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

from ..errors import InputError
from ..model.waiver import Waiver
from ..qa.effort import utc_text
from ..qa.findings import Finding
from ..qa.waivers import ID_DIGITS, apply_waivers, clean_reason, finding_id, is_label_finding, spans_run, \
    stale_reason, waive
from ..wording import counted, read_only_problem, stale_note, waivers_read_only


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
        raise InputError(args.drive, no_project_problem(args.drive, args.scene), where=used)
    if args.waive:
        clean_reason(args.reason)
    args.waive = [_id(text, "--waive") for text in args.waive]
    args.unwaive = [_id(text, "--unwaive") for text in args.unwaive]


def no_project_problem(folder: Path, scene: str | None) -> str:
    """Why the waiver options refuse ``folder`` (no project) and how to get a project that holds
    its findings: one made with the drive's labels, of the checked sequence; none for a labels-only
    KITTI tracking folder, which cannot have a project until its sweeps are there."""
    from ..io.kitti_tracking_labels import labels_only_root

    sequence = f" --scene {scene}" if scene is not None else ""
    if labels_only_root(folder) is not None:
        create = f"fusionlabel project create {shlex.quote(str(folder))} --scene {scene or 'N'} --import-labels"
        return ("waivers are kept in a project, and this KITTI tracking folder holds labels only (no velodyne/), "
                "of which no project can be made: correct the findings in its label_02/ files, or, once the sweeps "
                f"are in velodyne/<seq>/, make a project with `{create}` and waive there")
    create = f"fusionlabel project create {shlex.quote(str(folder))}{sequence} --import-labels"
    return (f"waivers are kept in a project, and this is not a project folder: give the project's folder, or make "
            f"one holding the drive's labels with `{create}` (it prints the project's folder) and check that")


def _id(text: str, option: str) -> str:
    got = text.strip().strip("[]").lower()
    if not re.fullmatch(f"[0-9a-f]{{{ID_DIGITS}}}", got):
        raise InputError(None, f"expected a finding id of {ID_DIGITS} hex digits as `fusionlabel check` prints it in "
                               f"brackets (e.g. 3f9a1c02), got {text!r}", where=option)
    return got


def skipped_checks(args: argparse.Namespace) -> list[str]:
    """The checks this run's options left out, each with how to run them (for a --waive id this
    run did not find)."""
    out = []
    if getattr(args, "no_labels", False):
        out.append("the label checks (label-*, track-*) were skipped by --no-labels: run without it")
    if getattr(args, "labels_only", False):
        out.append("the calibration, pose and capture-time checks were skipped by --labels-only: run without it")
    elif getattr(args, "no_poses", False):
        out.append("the pose check was skipped by --no-poses: run without it")
    if getattr(args, "frames", None):
        out.append(f"only the frames {args.frames} were checked: run without --frames")
    return out


def waive_findings(args: argparse.Namespace, findings: list[Finding], some_frames: bool = False) -> list[Waiver]:
    """The waivers of ``args.waive`` (ids among ``findings`` of this run), written to the project;
    InputError naming --waive for an id this run did not find (and which checks its options
    skipped), or for a finding about a track when ``some_frames`` (--frames left out some of the
    drive's frames: a full run may see it on more frames, :func:`~fusionlabel.qa.waivers.spans_run`);
    nothing is written then."""
    by_id = {finding_id(f): f for f in findings}
    unknown = [i for i in args.waive if i not in by_id]
    if unknown:
        skipped = skipped_checks(args)
        why = ("; it may come from a check this run left out: " + "; ".join(skipped)) if skipped else ""
        raise InputError(args.drive, f"no finding with id {', '.join(unknown)} in this run of the checks{why} (each "
                                     "finding's id is in brackets in `fusionlabel check PROJECT`); nothing waived",
                         where="--waive")
    clipped = [i for i in args.waive if some_frames and spans_run(by_id[i])]
    if clipped:
        raise InputError(args.drive, f"{', '.join(clipped)} is about a track, seen on only the frames --frames "
                                     "chose; a run over every frame may find it on more frames, which this waiver "
                                     "would not cover: run `fusionlabel check PROJECT --labels-only` without "
                                     "--frames and waive the id it prints; nothing waived", where="--waive")
    waivers = [waive(by_id[i], args.reason) for i in dict.fromkeys(args.waive)]
    with _writable(args, "--waive") as store:
        store.put_waivers(waivers)
    return waivers


def unwaive(args: argparse.Namespace) -> list[Waiver]:
    """Take back the waivers ``args.unwaive`` and return them; InputError naming --unwaive when one
    is not there. Only the project is opened, not its drive: it may be elsewhere or gone."""
    with _writable(args, "--unwaive", drive=False) as store:
        known = {w.id: w for w in store.waivers()}
        unknown = [i for i in args.unwaive if i not in known]
        if unknown:
            raise InputError(args.drive, f"no waiver with id {', '.join(unknown)} in this project (--waived lists "
                                         "them); nothing taken back", where="--unwaive")
        store.remove_waivers(args.unwaive)
        return [known[i] for i in dict.fromkeys(args.unwaive)]


class _writable:
    """The project's store opened for writing (its lock taken), for a ``with`` block; InputError
    naming ``option`` when it cannot be (the app has it open: waive there, in its check dock).
    ``drive=False`` opens the store alone, without the project's drive."""

    def __init__(self, args: argparse.Namespace, option: str, drive: bool = True):
        from ..store.project import Project

        self.project = self.lock = self.store = None
        if not drive:
            self._open_store(args, option)
            return
        self.project = Project.open(Path(args.drive), scene=args.scene)
        if self.project.read_only:
            problem = read_only_problem(self.project.read_only_reason)
            self.project.close()
            raise _held(args, option, problem)
        self.store = self.project.store

    def _open_store(self, args: argparse.Namespace, option: str) -> None:
        from ..store.db import ProjectStore
        from ..store.lock import ProjectLock
        from ..store.project import DB_NAME, LOCK_NAME

        folder = Path(args.drive).absolute()
        self.lock = ProjectLock(folder / LOCK_NAME)
        try:
            taken = self.lock.acquire()
        except OSError as e:
            raise _held(args, option, f"project folder {folder} is not writable ({e.strerror or e})") from None
        if not taken:
            raise _held(args, option, self.lock.taken_by(f"project {folder}"))
        try:
            self.store = ProjectStore(folder / DB_NAME)
        except BaseException:
            self.lock.release()
            raise

    def __enter__(self):
        return self.store

    def __exit__(self, *exc) -> None:
        if self.project is not None:
            self.project.close()
        else:
            self.store.close()
            self.lock.release()


def _held(args: argparse.Namespace, option: str, problem: str) -> InputError:
    return InputError(args.drive, waivers_read_only(problem), where=option)


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
    n_stale = sum(status_of(w, set(now), ran_labels, ran_drive, frames) == "stale" for w in waivers)
    lines = [f"{counted(len(waivers), 'waiver')}" + (f", {stale_note(n_stale)}" if n_stale else "") + ":"]
    for w in waivers:
        status = status_of(w, set(now), ran_labels, ran_drive, frames)
        lines.append(f"  {status:<11} {waiver_line(w)}")
        if status == "stale":
            lines.append(f"              {stale_reason(w)}; it said: {w.message}; --unwaive it to tidy up")
        elif status == "not checked":
            lines.append("              its check or frames were not checked with these options")
    return lines
