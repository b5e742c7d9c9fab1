"""``--json`` of ``export`` and ``prelabel``: the run's summary as one JSON document on stdout, for a
pipeline to read instead of parsing the summary lines (which then go to stderr). The keys are
listed in docs/import_export.md ("Machine-readable summary") and docs/prelabel.md. Every command's
``--json`` (``eval``, ``check``, ``project status`` too) prints through :func:`print_json`."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any, TextIO


def json_safe(value):
    """``value`` with NaN and infinities as None, NumPy scalars as Python numbers and paths as
    text, for strict JSON."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def print_json(doc: dict[str, Any] | list[Any]) -> None:
    """``doc`` as one strict JSON document on stdout (a figure that is not finite as null)."""
    print(json.dumps(json_safe(doc), indent=1, allow_nan=False))


def text_stream(as_json: bool) -> TextIO:
    """Where a command's human-readable summary goes: stdout, or stderr when stdout holds its JSON."""
    return sys.stderr if as_json else sys.stdout


def timing(seconds: float, frames: int) -> dict[str, float | None]:
    """``seconds`` (the whole run) and ``ms_per_frame`` (None without frames), rounded."""
    return {"seconds": round(seconds, 3), "ms_per_frame": round(1000.0 * seconds / frames, 1) if frames else None}


def export_document(summary, source: str, source_path: Path, notes: list[str], exit_code: int) -> dict[str, Any]:
    """``export --json``: the summary the manifest holds (``fusionlabel_export.json``'s ``summary``),
    with where it came from, the manifest's path, the notes, the time the export took (as the
    readable summary says it) and the exit code."""
    from ..export_manifest import MANIFEST

    doc = {"command": "export", "source": source, "source_path": str(source_path)}
    doc.update(summary.to_dict())
    doc.update({"manifest": str(Path(summary.out) / MANIFEST), "notes": notes, **timing(summary.seconds, summary.frames),
                "exit_code": exit_code})
    return doc


def prelabel_document(report, *, source: Path, target: dict[str, Any], detector: str, track: bool,
                      skipped_frames: list[tuple[str, str]], reopened: str | None, notes: list[str],
                      seconds: float, exit_code: int) -> dict[str, Any]:
    """``prelabel --json``: what the run changed (counts by class), what it kept and left out and
    why, the frames it skipped, where it wrote (``target``), the notes, the time (``seconds``: the
    whole run; ``ms_per_frame``: as the readable summary says it) and the exit code."""
    prefix = "<skipped: "
    unknown = {k[len(prefix):-1]: v for k, v in report.by_class.items() if k.startswith(prefix)}
    return {
        "command": "prelabel", "source": str(source), **target, "detector": detector, "track": track,
        "min_score": report.min_score, "frames": report.frames, "resumed_frames": report.resumed,
        "written": report.prelabels,
        "written_by_class": dict(sorted((k, v) for k, v in report.by_class.items() if not k.startswith(prefix))),
        "removed": report.replaced, "unchanged": report.unchanged,
        "kept_human_or_imported": report.kept, "kept_edited": report.kept_edited,
        "left_out": {"overlapping_kept_or_new": report.dropped_overlap, "track_marked_absent": report.absent,
                     "class_not_in_ontology": dict(sorted(unknown.items())), "invalid_boxes": report.invalid_boxes,
                     "below_min_score": report.below_min_score, "no_nuscenes_class": report.no_nuscenes_class,
                     "outside_image_2": report.outside_view},
        "label_files_created": report.files_created,
        "skipped_frames": [{"frame": f, "error": e} for f, e in skipped_frames],
        "frames_without_prediction_file": list(report.missing_predictions),
        "unmatched_predictions": list(report.unmatched_predictions),
        "reopened": reopened, "notes": notes,
        "seconds": round(seconds, 3), "ms_per_frame": round(1000 * report.seconds_per_frame, 1),
        "exit_code": exit_code}
