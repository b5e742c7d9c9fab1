"""Run a detector over frames of a drive in a child process (Qt-free).

A detector on a thread of a GUI process shares its interpreter lock: the frame loader and the
painting then wait behind it (frame steps of a second instead of a tenth). The child is a fresh
``python -m fusionlabel.assist.detect_process`` at a lower CPU priority that opens the drive and
makes the detector again from their recipes (:attr:`Drive.opened_as`, :attr:`Detector.recipe`),
so nothing else of the caller's program is imported or run there. Given a minimum score, it also
links the run's detections into tracks (:func:`~.edit_assist.prelabels_to_store`) when they are a
sequence, so that the caller only has to store them.

Protocol (messages of :mod:`fusionlabel.childproc.messages`, never pickle): the parent writes one ``job`` message to
the child's stdin; one more byte (or the end of stdin, e.g. the parent died) asks the child to
stop after its current frame. The child writes to its stdout a ``progress`` message after each
frame, then ``done`` or ``failed``; :meth:`DetectProcess.messages` gives them as tuples
``("progress", done, total)``, ``("done", detections, skipped, invalid_boxes, notes, prelabels)``
(``notes``: what the detector's input left out, in words, e.g. voxels beyond an ONNX model's
``max_voxels``),
``("failed", text)``. Anything the detector prints goes to stderr. A frozen executable has no
interpreter to start the child with: :class:`DetectProcessError` says so, and the caller runs the
detector itself.
"""

from __future__ import annotations

import os
import threading
from typing import Iterator

from ..errors import FusionLabelError
from ..childproc.messages import expect, is_int, put_labels, take_labels, write_message
from ..childproc.process import WireProcess, python_command, start_child, take_drive_recipe

DETECTOR_NICE = 15  # below the app's frame loader (10): stepping through frames goes first


class DetectProcessError(FusionLabelError):
    """The detector process cannot be started here (a frozen executable, no interpreter)."""


def recipes(drive, detector) -> tuple | None:
    """(drive recipe, detector recipe) when both can be remade in another process, else None."""
    drive_recipe = getattr(drive, "opened_as", None)
    detector_recipe = getattr(detector, "recipe", None)
    if drive_recipe is None or detector_recipe is None:
        return None
    return drive_recipe, detector_recipe


def child_command() -> list[str]:
    """The command line of the child: this module run by this interpreter. DetectProcessError in
    a frozen executable, where ``sys.executable`` is the program itself, not Python."""
    return python_command(__name__, "detector", DetectProcessError)


class DetectProcess(WireProcess):
    """One child process detecting on ``frames``; read its messages with :meth:`messages`. With
    ``min_score`` the "done" message also carries the pre-labels to store (scoring at least that,
    tracked on a sequence), else None there. ``command``: the child's command line (by default
    :func:`child_command`). DetectProcessError when the child cannot be started."""

    def __init__(self, drive_recipe: tuple, detector_recipe: tuple, frames: list[int], n_frames: int,
                 nice: int = DETECTOR_NICE, min_score: float | None = None, command: list[str] | None = None):
        job = {"drive": list(drive_recipe), "detector": list(detector_recipe), "frames": [int(f) for f in frames],
               "n_frames": int(n_frames), "nice": int(nice), "min_score": None if min_score is None else float(min_score)}
        super().__init__(command or child_command(), ("job", job), "detector", DetectProcessError)

    def messages(self) -> Iterator[tuple]:
        """The child's messages as they come (blocking), ending with a "done" or "failed" one (none
        after :meth:`kill`). A malformed message ends the child and becomes a "failed" one."""
        return super().messages(reply, lambda message: message[0] != "progress")


# ------------------------------------------------------------------------------- the messages
def send_done(stream, detections: dict, skipped: list, invalid: int, notes: list, prelabels: dict | None) -> None:
    """The run's result: ``{frame: labels}`` found, ``[(frame, message)]`` skipped, the count of
    invalid boxes the detector dropped, the notes of what its input left out (text), and the
    pre-labels to store (or None)."""
    arrays: list = []
    body = {"detections": put_labels(arrays, detections), "skipped": [[int(f), str(m)] for f, m in skipped],
            "invalid": int(invalid), "notes": [str(n) for n in notes],
            "prelabels": None if prelabels is None else put_labels(arrays, prelabels)}
    write_message(stream, "done", body, arrays)


def reply(message) -> tuple:
    """A child's message as a tuple (see the module's docstring); WireError when it is not one."""
    kind, body = message.kind, message.body
    if kind == "progress":
        expect(isinstance(body, list) and len(body) == 2 and all(is_int(v) and v >= 0 for v in body),
               "progress must be [frames done, frames in all]")
        return ("progress", *body)
    if kind == "failed":
        expect(isinstance(body, str), "failed must carry its text")
        return ("failed", body)
    expect(kind == "done", f"unknown message kind {kind[:40]!r} (expected progress, done or failed)")
    expect(isinstance(body, dict) and set(body) == {"detections", "skipped", "invalid", "notes", "prelabels"},
           "done must be an object with detections, skipped, invalid, notes and prelabels")
    skipped = body["skipped"]
    expect(isinstance(skipped, list) and all(isinstance(s, list) and len(s) == 2 and is_int(s[0])
                                             and isinstance(s[1], str) for s in skipped),
           "skipped must be [frame, message] pairs")
    expect(is_int(body["invalid"]) and body["invalid"] >= 0, "invalid must be a count")
    expect(isinstance(body["notes"], list) and all(isinstance(n, str) for n in body["notes"]),
           "notes must be a list of text")
    detections = take_labels(body["detections"], message.arrays, "detections")
    prelabels = None if body["prelabels"] is None else take_labels(body["prelabels"], message.arrays, "prelabels")
    return ("done", detections, [tuple(s) for s in skipped], body["invalid"], body["notes"], prelabels)


def _job(message) -> dict:
    """The job of the parent's first message, checked."""
    expect(message.kind == "job", f"expected a job, got {message.kind[:40]!r}")
    job = message.body
    expect(isinstance(job, dict) and set(job) == {"drive", "detector", "frames", "n_frames", "nice", "min_score"},
           "a job must have drive, detector, frames, n_frames, nice and min_score")
    drive, detector = job["drive"], job["detector"]
    expect(isinstance(detector, list) and len(detector) == 2 and isinstance(detector[0], str)
           and (detector[1] is None or isinstance(detector[1], str)), "detector must be [spec, config or null]")
    expect(is_int(job["n_frames"]) and is_int(job["nice"]), "n_frames and nice must be integers")
    expect(isinstance(job["frames"], list) and all(is_int(f) and 0 <= f < job["n_frames"] for f in job["frames"]),
           "frames must be frame numbers of the drive")
    expect(job["min_score"] is None or isinstance(job["min_score"], (int, float)), "min_score must be a number or null")
    job["drive"] = take_drive_recipe(drive)
    job["detector"] = tuple(detector)
    return job


def _child() -> None:
    stop = threading.Event()  # the parent asks to stop, or is gone
    out, job = start_child(_job, "detector", stop.set)  # a print in the detector must not break the messages
    if job is None:
        return

    def send(kind: str, body) -> None:
        write_message(out, kind, body)

    try:
        from ..io.drives import open_drive
        from .detector import make_detector
        from .edit_assist import prelabels_to_store, tracked_run
        from .prelabel import detect_frames

        drive = open_drive(*job["drive"])
        if len(drive) != job["n_frames"]:
            raise RuntimeError(f"the drive {job['drive'][0]} now has {len(drive)} frames, not {job['n_frames']}")
        detector = make_detector(*job["detector"])
        skipped: list = []
        found = detect_frames(drive, detector, job["frames"], progress=lambda done, total: send("progress", [done, total]),
                              cancelled=stop.is_set, errors=skipped)
        prelabels = None
        if job["min_score"] is not None:
            prelabels = prelabels_to_store(drive, found, job["min_score"], tracked_run(drive, found))
        notes = detector.take_notes() if hasattr(detector, "take_notes") else []
        send_done(out, found, skipped, getattr(detector, "invalid_boxes", 0), notes, prelabels)
    except BrokenPipeError:
        raise
    except Exception as e:  # noqa: BLE001 - any detector failure becomes a message
        send("failed", f"{type(e).__name__}: {e}")


if __name__ == "__main__":
    try:
        _child()
    except BrokenPipeError:  # the app is gone: there is nobody to tell, and no traceback to print
        os._exit(0)
