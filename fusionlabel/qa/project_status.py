"""``fusionlabel project status``: progress, effort and what became of the pre-labels, per project
and in total, read from project folders alone (read-only, without the write lock or the drive).

No command records who made it yet, so every figure is per project; per-annotator figures need a
user identity on the commands first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..assist.prelabel_project import PRELABEL_OUTCOMES, prelabel_outcomes
from ..model.document import FINISHED_STATUSES, FRAME_STATUSES
from ..wording import counted
from ..store.stored_labels import StoredLabels
from .effort import (EDIT_KINDS, IDLE_CAP_SECONDS, MACHINE_KINDS, CuboidFrames, Effort, cuboid_frames, effort_from_log,
                     machine_kind, utc_text)


@dataclass
class ProjectStatus:
    """One project's figures (``folder`` None for the total of several): ``frames``,
    ``frame_status`` (frames by status), ``effort``, ``prelabels`` (:func:`prelabel_outcomes`) and
    ``finished_frames`` ((frame ID, status, cuboid edits) of every done or reviewed frame)."""

    folder: Path | None
    drive: str | None
    frames: int
    frame_status: dict[str, int]
    effort: Effort
    prelabels: dict[str, int]
    finished_frames: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def finished(self) -> int:
        return sum(self.frame_status[s] for s in FINISHED_STATUSES)

    @property
    def edits_in_finished_frames(self) -> int:
        return sum(n for _, _, n in self.finished_frames)

    def to_dict(self) -> dict:
        """The figures as ``project status --json`` gives them (docs/project_store.md lists the keys)."""
        e, finished = self.effort, self.finished
        out = {"project": None if self.folder is None else str(self.folder), "drive": self.drive,
               "frames": self.frames, "frame_status": dict(self.frame_status), "finished": finished,
               "effort": {
                   "steps": e.steps, "steps_undone": e.steps_undone, "actions": e.actions, "undos": e.undos,
                   "redos": e.redos, "edits": dict(e.edits), "status_marks": dict(e.status_marks),
                   "reopened_by_edits": e.reopened_by_edits, "machine_steps": dict(e.machine_steps),
                   "active_seconds": round(e.active_seconds, 3), "idle_cap_seconds": e.idle_cap_seconds,
                   "seconds_per_finished_frame": round(e.active_seconds / finished, 3) if finished else None,
                   "edits_in_finished_frames": self.edits_in_finished_frames,
                   "edits_per_finished_frame": (round(self.edits_in_finished_frames / finished, 3)
                                                if finished else None),
                   "first_action": utc_text(e.first_us), "last_action": utc_text(e.last_us)},
               "prelabels": dict(self.prelabels)}
        if self.folder is not None:
            out["finished_frames"] = [{"frame": f, "status": s, "edits": n} for f, s, n in self.finished_frames]
        return out

    def lines(self) -> list[str]:
        """The figures as ``project status`` prints them."""
        e, finished = self.effort, self.finished
        head = (f"total of {counted(self.frames, 'frame')}" if self.folder is None
                else f"project {self.folder} (drive {self.drive}, {counted(self.frames, 'frame')})")
        status = ", ".join(f"{self.frame_status[s]} {_NOUNS.get(s, (s,))[0]}" for s in FRAME_STATUSES)
        per_frame = f", {_duration(e.active_seconds / finished)} per finished frame" if finished else ""
        undone = f"{e.steps_undone} undone; {counted(e.undos, 'undo')}, {counted(e.redos, 'redo')}"
        out = [head, f"  frames: {status} ({finished} of {self.frames} finished)",
               f"  effort: {counted(e.actions, 'action')} in {counted(e.steps, 'step')} ({undone}), active "
               f"{_duration(e.active_seconds)} (idle gaps capped at {e.idle_cap_seconds:g} s){per_frame}"]
        if e.first_us is not None:
            out[-1] += f"; {utc_text(e.first_us)} to {utc_text(e.last_us)}"
        out.append("  edits: " + (_listing(e.edits, EDIT_KINDS) or "none"))
        if finished:
            out.append(f"  edits per finished frame: {self.edits_in_finished_frames / finished:.1f} "
                       f"({self.edits_in_finished_frames} in {counted(finished, 'frame')})")
        marks = _listing(e.status_marks, FRAME_STATUSES)
        extra = [f"status marks: {marks}"] if marks else []
        if e.reopened_by_edits:
            extra.append(f"{counted(e.reopened_by_edits, 'finished frame')} sent back to in progress by edits")
        machine = _listing(e.machine_steps, MACHINE_KINDS)
        if machine:
            extra.append(f"machine steps: {machine}")
        if extra:
            out.append("  " + "; ".join(extra))
        p = self.prelabels
        outcomes = f": {_listing(p, PRELABEL_OUTCOMES)}" if p["stored"] else ""
        out.append(f"  pre-labels: {p['stored']} stored{outcomes}")
        return out


# how the readable report names a count: (one, several); a participle stays as it is
_NOUNS = {"box_edits": ("box edit", "box edits"), "class_changes": ("class change", "class changes"),
          "attribute_changes": ("attribute change", "attribute changes"),
          "track_changes": ("track change", "track changes"),
          "prelabels_accepted": ("pre-label accepted", "pre-labels accepted"),
          "absent_marks": ("absent mark", "absent marks"), "label_imports": ("label import", "label imports"),
          "prelabel_runs": ("pre-label run", "pre-label runs"), "in_progress": ("in progress", "in progress")}


def _listing(counts: dict[str, int], keys) -> str:
    """``3 box edits, 1 deleted`` from the non-zero counts, in the order of ``keys``."""
    words = {k: _NOUNS.get(k, (k.replace("_", " "),) * 2) for k in keys}
    return ", ".join(f"{counts[k]} {words[k][counts[k] != 1]}" for k in keys if counts[k])


def _duration(seconds: float) -> str:
    """``42.0 s``, ``3 min 05 s``, ``2 h 07 min``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def project_status(folder: str | Path, idle_cap_seconds: float = IDLE_CAP_SECONDS) -> ProjectStatus:
    """The figures of the project in ``folder``, read-only (:class:`~fusionlabel.store.project.StoredProject`:
    ProjectError for a folder that is not a project, StoreError for one of a newer schema), from
    SQL queries: the document is not built and the machine's steps are not decoded."""
    from ..store.project import StoredProject

    with StoredProject(folder) as project:
        store, frame_ids = project.store, project.drive.frame_ids
        stored = store.frame_statuses()
        statuses = [stored.get(f, "new") for f in range(len(frame_ids))]
        effort = _effort(store, idle_cap_seconds)
        finished = [(frame_ids[f], s, effort.frame_edits[f]) for f, s in enumerate(statuses) if s in FINISHED_STATUSES]
        return ProjectStatus(project.folder, project.drive.name, len(statuses),
                             {s: statuses.count(s) for s in FRAME_STATUSES}, effort,
                             prelabel_outcomes(StoredLabels(store)), finished)


def _effort(store, idle_cap_seconds: float) -> Effort:
    """:func:`effort_from_log` of a project's log, decoding only the annotator's steps: the machine's
    (a label import holds every label of the drive) are counted from their descriptions, and the
    frames of the cuboids edited come from the database (the machine's steps only for a cuboid
    neither knows: one a machine step made that is gone now)."""
    log = store.command_descriptions()
    decoded = store.commands(i for i, _, d in log if machine_kind(d) is None)
    # a machine step's cuboids one step at a time, the label imports (the largest) last
    machine = sorted((machine_kind(d) == "label_imports", i) for i, _, d in log if machine_kind(d) is not None)
    frame_of = CuboidFrames(lambda: cuboid_frames(decoded.values()), store.annotation_frames,
                            *(lambda i=i: cuboid_frames(store.commands([i]).values()) for _, i in machine))
    commands = [(i, state, decoded.get(i, d)) for i, state, d in log]
    return effort_from_log(commands, store.history_events(), idle_cap_seconds, frame_of)


def total_status(projects: list[ProjectStatus]) -> ProjectStatus:
    """The figures of several projects added up (edits per finished frame and time per finished
    frame over all of them)."""
    effort = Effort(idle_cap_seconds=projects[0].effort.idle_cap_seconds)
    prelabels = dict.fromkeys(projects[0].prelabels, 0)
    status = dict.fromkeys(FRAME_STATUSES, 0)
    finished = []
    for p in projects:
        effort.add(p.effort)
        for k in prelabels:
            prelabels[k] += p.prelabels[k]
        for k in status:
            status[k] += p.frame_status[k]
        finished += p.finished_frames
    return ProjectStatus(None, None, sum(p.frames for p in projects), status, effort, prelabels, finished)
