"""The manifest of a ``prelabel --out`` folder, ``<out>/.fusionlabel-prelabel/fusionlabel_prelabel.json``
(beside the records of :mod:`.prelabel_folder`, so that the folder's own ``*.json`` / ``*.txt``
are label files only): what the last run wrote and skipped, and whether it finished.

A run writes it with ``"complete": false`` before its first label file and rewrites it after each
batch of frames (the frames written so far), then once more with ``"complete": true`` and the
run's summary. So a run that was interrupted or killed leaves a folder whose manifest says so and
lists the frames it finished, with the run's ``identity`` (:func:`~.prelabel_resume.run_identity`):
the next run with the same identity skips those frames (:func:`~.prelabel_resume.plan_resumption`).
It also lists the frames whose label file the run created (``created_files``, those of the
interrupted runs it resumed included), so that the run resuming it counts them as an uninterrupted
run would (:func:`created_before`), and how many detections of each frame scored below
``--min-score`` (``below_min_score_frames``, {frame id: count} for the frames with any), so that a
resumed tracked run's summary counts them over the whole run (:func:`~.prelabel_resume.below_before`).
A tracked run also keeps each frame's raw detections (:data:`DETECTIONS_DIR`) until it finishes.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .. import files
from ..errors import InputError
from .prelabel_resume import BELOW_KEY

RECORD_DIR = ".fusionlabel-prelabel"    # also holds what the last run wrote, per frame
MANIFEST = f"{RECORD_DIR}/fusionlabel_prelabel.json"
DETECTIONS_DIR = f"{RECORD_DIR}/detections"    # a tracked run's raw detections, <frame id>.json
VERSION = 1


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (:func:`fusionlabel.files.write_atomic`); an
    error (a full disk, no permission) is one line naming the file, with no temporary file left."""
    try:
        files.write_atomic(path, data)
    except OSError as e:
        raise InputError(path, f"cannot write: {e.strerror or e}") from None


def read_manifest(out: Path) -> dict[str, Any] | None:
    """The manifest of ``out``, or None when there is none or it cannot be read."""
    try:
        doc = json.loads((Path(out) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("fusionlabel_prelabel") == VERSION else None


class FolderManifest:
    """The manifest of one run into ``out`` (:data:`MANIFEST`); ``identity`` is the run's
    :func:`~.prelabel_resume.run_identity`."""

    def __init__(self, out: Path, drive, identity: dict, frames: list[int], skipped: list | None):
        self.out, self.drive, self.skipped = Path(out), drive, skipped
        self.created: list[int] = []     # frames whose label file the run created (resumed runs' too)
        self.below: dict[int, int] = {}  # frame -> detections scoring below --min-score (resumed runs' too)
        self.head = {"fusionlabel_prelabel": VERSION, "complete": False, "format": identity["format"],
                     "drive": drive.name, "source": str(drive.root), "detector": identity["detector"],
                     "track": identity["track"], "min_score": identity["min_score"], "frames_selected": len(frames),
                     "identity": identity}

    def save(self, written: list[int], report=None) -> None:
        """Record the frames written so far; with the run's ``report``, as finished."""
        doc = dict(self.head, complete=report is not None,
                   frames=[self.drive.frames[i].frame_id for i in written],
                   created_files=[self.drive.frames[i].frame_id for i in self.created],
                   **{BELOW_KEY: {self.drive.frames[i].frame_id: n for i, n in sorted(self.below.items())}},
                   skipped_frames=[{"frame": self.drive.frames[i].frame_id, "error": e} for i, e in self.skipped or ()])
        if report is not None:
            doc["summary"] = {k: v for k, v in asdict(report).items() if k not in ("frames_stored", "seconds_per_frame")}
        write_atomic(self.out / MANIFEST, (json.dumps(doc, indent=1) + "\n").encode("utf-8"))


def created_before(last: dict[str, Any] | None, drive, frames: list[int]) -> list[int]:
    """Those of ``frames`` (taken over from the interrupted run whose manifest is ``last``) whose
    label file that run created: none when it recorded none (an older fusionlabel)."""
    listed = last.get("created_files") if isinstance(last, dict) else None
    ids = {fid for fid in listed if isinstance(fid, str)} if isinstance(listed, list) else set()
    return [i for i in frames if drive.frames[i].frame_id in ids]

