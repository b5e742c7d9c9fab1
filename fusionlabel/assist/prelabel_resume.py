"""Resuming an interrupted pre-label run: what identifies a run, which of its frames a new run may
skip, and the raw detections a tracked run keeps so that its resumption detects nothing twice.

A run is identified by its output format, ``--track``, ``--min-score``, the detector (its kind, its
effective settings, and the bytes of its settings file, model file or prediction files) and the
drive (frame IDs and sweep sizes). A new run with the same identity into a target whose last run
did not finish skips the frames that run finished; any difference (another model file, a settings
file edited, another ``--min-score``, a re-generated drive) detects every frame again, as before.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any, Callable

from ..model.annotation import CuboidLabel
from ..model.commands import label_from_dict, label_to_dict
from ..model.drive import Drive
from ..wording import counted
from .detector import Detector

# what each identity key is called when a new run differs from the interrupted one
IDENTITY_NAMES = {"format": "--format", "track": "--track", "min_score": "--min-score", "detector": "--detector",
                  "detector_settings": "the detector's settings", "detector_files": "the detector's files "
                  "(settings, model or prediction files)", "drive": "the drive's frames or sweeps"}


def _digest_files(path: Path) -> str:
    """SHA-256 of a file's bytes, or of a folder's files (relative names and bytes, in name order);
    ``missing`` when it cannot be read."""
    h = hashlib.sha256()
    try:
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for p in files:
            h.update(str(p.relative_to(path) if p != path else p.name).encode("utf-8", "surrogateescape") + b"\0")
            with open(p, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
    except OSError:
        return "missing"
    return h.hexdigest()


def _settings_text(detector: Detector) -> str:
    """The detector's effective settings as text (a dataclass or a plain dict of them), or ''."""
    config = getattr(detector, "config", None)
    if is_dataclass(config):
        return json.dumps(asdict(config), sort_keys=True, default=repr)
    return ""


def _detector_files(detector: Detector) -> dict[str, str]:
    """{path: digest} of the files the detector reads its boxes or settings from."""
    paths = [getattr(detector, k, None) for k in ("model_path", "settings_path", "path")]
    if detector.recipe is not None and detector.recipe[1] is not None:
        paths.append(detector.recipe[1])
    return {str(p): _digest_files(Path(p)) for p in dict.fromkeys(paths) if p is not None}


def _drive_digest(drive: Drive) -> str:
    """Frame IDs and sweep sizes (one stat per frame, as a project's drive fingerprint)."""
    h = hashlib.sha256()
    for f in drive.frames:
        try:
            size = os.stat(f.lidar_path).st_size
        except (OSError, TypeError):
            size = -1
        h.update(f"{f.frame_id}\0{size}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def run_identity(drive: Drive, detector: Detector, fmt: str | None, track: bool, min_score: float) -> dict[str, Any]:
    """What identifies a run (module docstring), JSON-ready: two runs with equal identities write
    the same pre-labels for a frame."""
    settings = _settings_text(detector)
    return {"format": fmt, "track": bool(track), "min_score": float(min_score),
            "detector": detector.recipe[0] if detector.recipe else detector.name,
            "detector_settings": hashlib.sha256(settings.encode("utf-8")).hexdigest() if settings else None,
            "detector_files": _detector_files(detector), "drive": _drive_digest(drive)}


def identity_differences(before: Any, now: dict[str, Any]) -> list[str]:
    """What differs between an interrupted run's identity and this run's, in words ([]: the same)."""
    if not isinstance(before, dict):
        return ["the interrupted run recorded no identity (an older fusionlabel)"]
    return [IDENTITY_NAMES.get(k, k) for k in now if before.get(k) != now[k]]


def detections_to_json(frame_id: str, detections: list[CuboidLabel]) -> str:
    """One frame's raw detections (exact values) as kept for a tracked run's resumption."""
    return json.dumps({"frame": frame_id, "detections": [label_to_dict(d) for d in detections]}) + "\n"


def detections_from_json(text: str, frame_id: str) -> list[CuboidLabel] | None:
    """The detections of :func:`detections_to_json`, or None when the text is not that frame's."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict) or doc.get("frame") != frame_id:
        return None
    return detections_from_dicts(doc.get("detections"))


def detections_from_dicts(items: Any) -> list[CuboidLabel] | None:
    """Detections from their ``label_to_dict`` form, or None when ``items`` is not that."""
    try:
        return [label_from_dict(d) for d in items]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


# the key of a run's record ({frame id: detections below --min-score}, the frames with any):
# a folder's manifest, a project's ``prelabel_run`` setting
BELOW_KEY = "below_min_score_frames"


def below_counts(frames: list[int], found: list[list[CuboidLabel]], kept: list[list[CuboidLabel]]) -> dict[int, int]:
    """{frame: detections ``found`` that ``--min-score`` left out of ``kept``}, for the frames with any."""
    return {i: len(f) - len(k) for i, f, k in zip(frames, found, kept) if len(f) > len(k)}


def below_before(last: dict[str, Any] | None, drive: Drive, frames: list[int]) -> dict[int, int]:
    """{frame: detections that scored below ``--min-score``} for those of ``frames`` (taken over
    from the interrupted run whose record is ``last``: :data:`BELOW_KEY`) where that run left any
    out; empty when it recorded none (an older fusionlabel)."""
    listed = last.get(BELOW_KEY) if isinstance(last, dict) else None
    if not isinstance(listed, dict):
        return {}
    index = {drive.frames[i].frame_id: i for i in frames}
    return {index[fid]: n for fid, n in listed.items()
            if fid in index and isinstance(n, int) and not isinstance(n, bool) and n > 0}


@dataclass
class Resumption:
    """What a run takes over from the interrupted run before it: ``frames`` (selected frames that
    run finished, skipped now) and, for a tracked run, their raw ``detections``."""

    frames: list[int] = field(default_factory=list)
    detections: list[list[CuboidLabel]] = field(default_factory=list)
    note: str | None = None


def plan_resumption(last: dict | None, identity: dict[str, Any], drive: Drive, selected: list[int], where: str,
                    finished: Callable[[int], bool], detections: Callable[[int], list[CuboidLabel] | None] | None,
                    resume: bool = True) -> Resumption:
    """Which ``selected`` frames to skip, given the manifest ``last`` of the target's last run:
    those it lists as finished when it did not finish (``"complete": false``) and had the same
    ``identity``, and whose output is still there (``finished(i)``) and, for a tracked run, whose
    raw detections can be read (``detections(i)``, not None). ``note`` says what happened (or
    why nothing was resumed); None when the last run finished or there was none."""
    if not isinstance(last, dict) or last.get("complete") is not False:
        return Resumption()
    listed = last.get("frames") if isinstance(last.get("frames"), list) else []
    total = last.get("frames_selected")
    of = f" of {total}" if isinstance(total, int) else ""
    unfinished = f"the last prelabel run into {where} did not finish ({len(listed)}{of} frames written)"
    redo = ("detecting every selected frame again: the pre-labels it wrote are replaced or found again, "
            "never duplicated")
    if not resume:
        return Resumption(note=f"note: {unfinished}; --no-resume: {redo}")
    changed = identity_differences(last.get("identity"), identity)
    if changed:
        return Resumption(note=f"note: {unfinished}, with other settings ({', '.join(changed)} changed); {redo}")
    ids = {fid for fid in listed if isinstance(fid, str)}
    frames, dets = [], []
    for i in selected:
        if drive.frames[i].frame_id not in ids or not finished(i):
            continue
        found = detections(i) if detections is not None else []
        if found is None:
            continue
        frames.append(i)
        dets.append(found)
    if not frames:
        return Resumption(note=f"note: {unfinished}; none of the frames it finished is selected now and still as "
                               f"it left them (undone or removed since): {redo}")
    left = len(selected) - len(frames)
    kept = " (their detections kept for the tracker)" if identity.get("track") and frames else ""
    return Resumption(frames, dets, f"resumed: {len(frames)} of {counted(len(selected), 'frame')} already "
                                    f"pre-labelled by the interrupted run{kept}, detecting {left}")


def save_detections(folder: Path, drive: Drive, frames: list[int], detections: list[list[CuboidLabel]]) -> None:
    """Keep the raw detections of ``frames`` in ``folder`` (``<frame id>.json`` each, written whole
    or not at all), for a tracked run's resumption."""
    from .prelabel_manifest import write_atomic

    folder.mkdir(parents=True, exist_ok=True)
    for i, dets in zip(frames, detections):
        fid = drive.frames[i].frame_id
        write_atomic(folder / f"{fid}.json", detections_to_json(fid, dets).encode("utf-8"))


def load_detections(folder: Path, frame_id: str) -> list[CuboidLabel] | None:
    """The raw detections :func:`save_detections` kept for a frame, or None (none, or unreadable)."""
    try:
        text = (folder / f"{frame_id}.json").read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None
    return detections_from_json(text, frame_id)
