"""Run the label checks of a project's labels in a child process (Qt-free), as the app's
pre-labelling runs its detector (:mod:`fusionlabel.childproc.process`): on a thread of the app
the checks hold its interpreter lock, and editing stutters for a minute on a long drive.

The child, ``python -m fusionlabel.qa.check_process`` at a lower CPU priority, opens the drive
from its recipe (:attr:`Drive.opened_as`), reads the labels and absent marks of its ``job``
message, or, when the job names the project's folder instead, from the project's database
(:func:`~.project_labels.stored_labels`: the app then copies and sends none, which on a long drive
stalled its key press and left it ~50-100 MB larger after the check), runs :func:`~.label_check.check_labels` and answers ``done`` (the report) or
``failed`` (the error, in words). The end of its stdin (the app closed or died) ends it at once.
:meth:`CheckProcess.result` gives ``("done", LabelCheck)`` or ``("failed", text)``."""

from __future__ import annotations

import dataclasses
import os
import time

from ..childproc.messages import WireError, expect, is_int, put_labels, take_labels, write_message
from ..childproc.process import WireProcess, python_command, start_child, take_drive_recipe
from .findings import Finding
from .label_check import LabelCheck

PART_FRAMES = 50  # frames of labels encoded at a time (see put_labels_in_parts)
CHECK_NICE = 15  # below the app's frame loader (10): stepping through frames goes first
REPORT_FIELDS = ("source", "frames", "boxes", "tracks", "prelabels", "swept_frames", "notes")
FINDING_FIELDS = tuple(f.name for f in dataclasses.fields(Finding))


class CheckProcess(WireProcess):
    """One child checking ``labels`` (``{frame index: labels}``) with the tracks marked ``absent``
    (``{frame index: track ids}``) on the drive remade from ``drive_recipe`` (``n_frames`` long);
    with ``project`` (a project folder) and no labels, the labels committed there
    (:func:`~.project_labels.stored_labels`). ChildStartError when the child cannot be started."""

    def __init__(self, drive_recipe: tuple, n_frames: int, labels: dict | None, absent: dict | None,
                 nice: int = CHECK_NICE, project: str | os.PathLike | None = None):
        if (project is None) == (labels is None):
            raise ValueError("a label check takes either its labels or the project folder to read them from")
        arrays: list = []
        job = {"drive": list(drive_recipe), "n_frames": int(n_frames), "nice": int(nice),
               "project": None if project is None else os.fspath(project),
               "labels": put_labels_in_parts(arrays, labels or {}),
               "absent": [[int(i), sorted(str(t) for t in tracks)] for i, tracks in (absent or {}).items()]}
        super().__init__(python_command(__name__, "label check"), ("job", job, arrays), "label check")

    def result(self) -> tuple | None:
        """Wait for the child's answer: ``("done", LabelCheck)`` or ``("failed", text)``; None
        after :meth:`kill`."""
        answers = list(self.messages(reply, lambda message: True))  # to the end: the child is reaped
        return answers[0] if answers else None


def put_labels_in_parts(arrays: list, labels: dict) -> list:
    """``labels`` as body parts of :data:`PART_FRAMES` frames each, the interpreter lock let go
    between them: made on a thread of the app, one pass over a long drive's labels would hold it
    for a quarter of a second, and the painting would wait."""
    frames, parts = list(labels), []
    for start in range(0, len(frames), PART_FRAMES):
        parts.append(put_labels(arrays, {f: labels[f] for f in frames[start:start + PART_FRAMES]}))
        time.sleep(0.001)
    return parts


def put_report(report: LabelCheck) -> dict:
    """The report as plain data for a message."""
    body = {name: getattr(report, name) for name in REPORT_FIELDS}
    body["findings"] = [{name: _plain(getattr(f, name)) for name in FINDING_FIELDS} for f in report.findings]
    return body


def _plain(value):
    if isinstance(value, tuple):
        return [_plain(v) if isinstance(v, tuple) else str(v) for v in value]
    if value is None or isinstance(value, str):
        return value
    return float(value)


def take_report(body) -> LabelCheck:
    """The report of :func:`put_report`, every field checked (WireError when one is wrong)."""
    expect(isinstance(body, dict) and set(body) == {*REPORT_FIELDS, "findings"},
           f"a report must have {', '.join(REPORT_FIELDS)} and findings")
    expect(isinstance(body["source"], str), "report source must be text")
    expect(all(is_int(body[k]) and body[k] >= 0 for k in REPORT_FIELDS[1:-1]), "report counts must be counts")
    expect(isinstance(body["notes"], list) and all(isinstance(n, str) for n in body["notes"]), "notes must be text")
    expect(isinstance(body["findings"], list), "findings must be a list")
    findings = []
    for f in body["findings"]:
        expect(isinstance(f, dict) and set(f) == set(FINDING_FIELDS), f"a finding must have {', '.join(FINDING_FIELDS)}")
        expect(all(isinstance(f[k], str) for k in ("severity", "subject", "check", "message", "remedy")),
               "a finding's severity, subject, check, message and remedy must be text")
        expect(all(f[k] is None or isinstance(f[k], str) for k in ("frame", "track_id", "cls", "unit")),
               "a finding's frame, track_id, cls and unit must be text or null")
        expect(all(f[k] is None or (isinstance(f[k], (int, float)) and not isinstance(f[k], bool))
                   for k in ("value", "threshold")), "a finding's value and threshold must be numbers or null")
        expect(all(isinstance(f[k], list) and all(isinstance(v, str) for v in f[k]) for k in ("frames", "boxes")),
               "a finding's frames and boxes must be lists of text")
        expect(isinstance(f["errors"], list) and all(
            isinstance(e, list) and len(e) == 2 and isinstance(e[0], str) and isinstance(e[1], list)
            and all(isinstance(v, str) for v in e[1]) for e in f["errors"]),
            "a finding's errors must be pairs of an error and its frames")
        try:
            findings.append(Finding(**dict(f, frames=tuple(f["frames"]), boxes=tuple(f["boxes"]),
                                           errors=tuple((e, tuple(fids)) for e, fids in f["errors"]))))
        except ValueError as e:
            raise WireError(f"a finding is not valid: {e}") from None
    return LabelCheck(**{k: body[k] for k in REPORT_FIELDS}, findings=findings)


def reply(message) -> tuple:
    """A child's message as a tuple (see the module's docstring); WireError when it is not one."""
    if message.kind == "failed":
        expect(isinstance(message.body, str), "failed must carry its text")
        return ("failed", message.body)
    expect(message.kind == "done", f"unknown message kind {message.kind[:40]!r} (expected done or failed)")
    return ("done", take_report(message.body))


def _job(message) -> dict:
    """The job of the parent's message, checked."""
    expect(message.kind == "job", f"expected a job, got {message.kind[:40]!r}")
    job = message.body
    expect(isinstance(job, dict) and set(job) == {"drive", "n_frames", "nice", "project", "labels", "absent"},
           "a job must have drive, n_frames, nice, project, labels and absent")
    expect(job["project"] is None or isinstance(job["project"], str), "project must be a folder or null")
    drive = job["drive"]
    expect(is_int(job["n_frames"]) and is_int(job["nice"]), "n_frames and nice must be integers")
    absent = job["absent"]
    expect(isinstance(absent, list) and all(isinstance(a, list) and len(a) == 2 and is_int(a[0])
                                            and isinstance(a[1], list) and all(isinstance(t, str) for t in a[1])
                                            for a in absent), "absent must be [frame, [track ids]] pairs")
    job["drive"] = take_drive_recipe(drive)
    expect(isinstance(job["labels"], list), "labels must be a list of parts")
    job["labels"] = {f: labs for part in job["labels"] for f, labs in take_labels(part, message.arrays, "labels").items()}
    job["absent"] = {int(i): set(tracks) for i, tracks in absent}
    return job


def _child() -> None:
    out, job = start_child(_job, "label check", lambda: os._exit(0))  # the parent is gone: end now
    if job is None:
        return
    try:
        from ..io.drives import open_drive
        from .label_check import check_labels

        drive = open_drive(*job["drive"])
        if len(drive) != job["n_frames"]:
            raise RuntimeError(f"the drive {job['drive'][0]} now has {len(drive)} frames, not {job['n_frames']}")
        labels, absent = job["labels"], job["absent"]
        if job["project"] is not None:
            from .project_labels import stored_labels

            labels, absent = stored_labels(job["project"], len(drive), stored_ids=True)
        report = check_labels(drive, labels, "project", absent=absent)
    except Exception as e:  # noqa: BLE001 - any failure becomes a message
        write_message(out, "failed", f"{type(e).__name__}: {e}")
        return
    write_message(out, "done", put_report(report))


if __name__ == "__main__":
    try:
        _child()
    except BrokenPipeError:  # the app is gone: there is nobody to tell, and no traceback to print
        os._exit(0)

