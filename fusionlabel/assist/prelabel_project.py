"""Pre-labels in a project (or the app's document): one undoable command that stores a run by the
rule of :mod:`.prelabel`, knowing untouched pre-labels from the command log.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace

from ..model.annotation import CuboidLabel
from ..model.commands import AcceptPrelabel, Batch, Command, CreateCuboid, DeleteCuboids, SetBox, label_to_dict, leaves
from ..model.track_attributes import continued
from ..deferred_signals import signals_deferred
from ..wording import counted
from .command_memo import DoneCommandsMemo
from .detector import Detector
from .prelabel import (BATCH_SECONDS, SCORE_DECIMALS, PrelabelReport, _tally, detect_batches, frames_text, inherited_tracks,
                       keep_scored, merge_prelabels, prediction_notes, track_drive)
from .prelabel_resume import BELOW_KEY, Resumption, below_before, below_counts, detections_from_dicts, plan_resumption
from .tracker import TrackerConfig

RUN_SETTING = "prelabel_run"                  # the last CLI pre-label run: identity, frames finished, complete
DETECTIONS_SETTING = "prelabel_detections"    # a tracked CLI run's raw detections {frame id: [label]} until it ends

PRELABEL_DESCRIPTION = "Pre-label"      # every pre-label command's description starts with this
INTERPOLATE_DESCRIPTION = "Interpolate"  # ... every interpolation's (I)
PROPAGATE_DESCRIPTION = "Propagate"      # ... every propagation's (V)
# The commands whose boxes are machine output: a model box they made or moved and nobody changed
# since is untouched work; one the annotator changed since is edited.
MACHINE_DESCRIPTIONS = (PRELABEL_DESCRIPTION, INTERPOLATE_DESCRIPTION, PROPAGATE_DESCRIPTION)


def _labels_made(runs) -> tuple[dict[str, CuboidLabel], dict[str, CuboidLabel]]:
    created: dict[str, CuboidLabel] = {}
    left: dict[str, CuboidLabel] = {}
    for cmd in runs:
        prelabel = cmd.description.startswith(PRELABEL_DESCRIPTION)
        for c in leaves(cmd):
            if isinstance(c, CreateCuboid):
                left[c.uid] = c.label
                if prelabel:
                    created[c.uid] = c.label
            elif isinstance(c, SetBox) and c.uid in left:
                left[c.uid] = left[c.uid].with_(box=c.box)
    return created, left


# doc -> (uid -> label as a pre-label run created it, uid -> label as the last machine command
# (:data:`MACHINE_DESCRIPTIONS`) left it), over the commands in effect. A machine command's SetBox
# moves the box of a label it knows and leaves the rest of that label as it was.
_machine_made = DoneCommandsMemo(MACHINE_DESCRIPTIONS, _labels_made)


def _model_labels(doc, frames) -> dict[str, CuboidLabel]:
    return {a.uid: a.label for f in frames for a in doc.annotations(f) if a.source == "model"}


def edited_prelabels(doc, frames) -> set[str]:
    """The uids of the pre-labels in ``frames`` that a machine command made (a pre-label run,
    interpolation, propagation) and the annotator has changed since the last such command left
    them (moved, resized, turned, given another class, track or attributes) but not accepted:
    human-touched work that Ctrl+P, Shift+X, I and V keep. An edit that was undone does not count."""
    want = _model_labels(doc, frames)
    left = _machine_made(doc)[1] if want else {}
    return {uid for uid, label in want.items() if uid in left and left[uid] != label}


def moved_prelabels(doc, frames) -> set[str]:
    """The pre-labels of :func:`edited_prelabels` whose box the annotator changed (moved, resized,
    turned) since the last machine command left it, not only their class, track or attributes:
    the ones I and V leave where they are. A pre-label only retyped is still carried along (its
    new class kept)."""
    want = _model_labels(doc, frames)
    left = _machine_made(doc)[1] if want else {}
    return {uid for uid, label in want.items() if uid in left and left[uid].box != label.box}


def untouched_prelabels(doc, frames) -> set[str]:
    """The uids of the pre-labels in ``frames`` that nobody touched since a pre-label command
    created them: source ``model`` and the label (box, class, track, score, attributes) exactly as
    that command's CreateCuboid stored it. An edit that was undone leaves it untouched. Model
    cuboids made by any other command (interpolation, propagation, copies, imports) are not in
    the answer, so a pre-label run keeps them."""
    want = _model_labels(doc, frames)
    if not want:
        return set()
    created = _machine_made(doc)[0]
    return {uid for uid, label in want.items() if created.get(uid) == label}


# What became of the pre-labels the runs in effect stored (:func:`prelabel_outcomes`), in the
# order ``project status`` lists them; every pre-label is in exactly one.
PRELABEL_OUTCOMES = ("accepted_untouched", "accepted_edited", "edited_not_accepted", "waiting", "deleted",
                     "replaced_by_later_run")


def prelabel_outcomes(doc) -> dict[str, int]:
    """How many pre-labels the pre-label runs in effect stored (``stored``: every cuboid a
    ``Pre-label …`` command's CreateCuboid made) and what became of each
    (:data:`PRELABEL_OUTCOMES`), from the commands in effect, so an undone edit does not count:

    - ``accepted_untouched``: accepted, and its label is what accepting the box as the last machine
      command (pre-label run, interpolation, propagation) left it gives;
    - ``accepted_edited``: accepted, and changed by the annotator before or after accepting;
    - ``edited_not_accepted``: still a pre-label the annotator changed (:func:`edited_prelabels`);
    - ``waiting``: still a pre-label nobody changed (:func:`untouched_prelabels`, or moved only by
      interpolation or propagation);
    - ``deleted``: removed by anything but a pre-label run (the annotator's delete, mark absent,
      delete track);
    - ``replaced_by_later_run``: removed, untouched, by a later pre-label run.

    ``doc``: a document, or anything with its ``done_commands``, ``in`` and ``get``
    (:class:`~fusionlabel.store.stored_labels.StoredLabels`); only the pre-labels' cuboids are read."""
    created, left = _machine_made(doc)
    out = dict.fromkeys(("stored", *PRELABEL_OUTCOMES), 0)
    out["stored"] = len(created)
    if not created:
        return out
    replaced = {uid for cmd in doc.done_commands(PRELABEL_DESCRIPTION) for c in leaves(cmd)
                if isinstance(c, DeleteCuboids) for uid in c.uids}
    for uid in created:
        if uid not in doc:
            out["replaced_by_later_run" if uid in replaced else "deleted"] += 1
            continue
        label = doc.get(uid).label
        if label.source == "model":   # edited (edited_prelabels) when the machine left it otherwise
            out["edited_not_accepted" if left[uid] != label else "waiting"] += 1
        else:
            untouched = label == AcceptPrelabel.accepted(left[uid])
            out["accepted_untouched" if untouched else "accepted_edited"] += 1
    return out


def _tracks(items) -> Counter:
    """(track key, frame, label) items as a multiset of tracks, each a set of (frame, box, class,
    score), box values and score rounded to :data:`~.prelabel.SCORE_DECIMALS` decimals: two runs
    compare equal when they found the same boxes linked the same way, up to floating-point noise."""
    groups: dict[object, list] = {}
    for key, f, lab in items:
        score = 1.0 if lab.score is None else float(lab.score)
        b = lab.box
        box = tuple(round(v, SCORE_DECIMALS) for v in b.center + b.size + (b.yaw, b.pitch, b.roll))
        groups.setdefault(key, []).append((f, box, lab.label, round(score, SCORE_DECIMALS)))
    return Counter(frozenset(Counter(g).items()) for g in groups.values())


def prelabel_command(doc, prelabels: dict[int, list[CuboidLabel]], what: str,
                     report: PrelabelReport | None = None, keep=frozenset()
                     ) -> tuple[Command | None, PrelabelReport]:
    """The command that stores ``prelabels`` ({frame: labels}) in a document by
    :func:`merge_prelabels`: ONE Batch that deletes the frames' untouched pre-labels
    (:func:`untouched_prelabels`) and creates the new ones, so one undo restores the frames.

    New boxes get source ``model`` and their score (1.0 when they have none); classes go through
    the document's ontology (unknown ones are skipped and counted in
    ``report.by_class["<skipped: NAME>"]``); boxes sharing a ``track_id`` share one document
    track id: that of the track they continue (:func:`inherited_tracks`: a kept one, else one of
    the untouched pre-labels replaced), else a fresh one; the others get one each, in the same way
    (a box alone). The description is ``Pre-label {what}: N boxes``.
    None when nothing would change: nothing to add or replace, or the new boxes are exactly the
    untouched pre-labels already there (same boxes, classes, scores and, for a tracked run,
    linking into tracks; ``report.unchanged`` counts them), so running twice with the same
    detector records nothing. ``keep``: uids of cuboids to leave as they are (the app's locked
    classes): an untouched pre-label among them is kept like a touched one, and the description
    counts them (``, keeping 2 locked``). A box continuing a kept track into a frame where that
    track is marked absent (the app's H) is left out (``report.absent``)."""
    report = report or PrelabelReport()
    frames = sorted(prelabels)
    untouched = untouched_prelabels(doc, frames)
    locked = len(untouched & set(keep))
    untouched -= set(keep)
    next_track = doc.state.next_track
    track_ids: dict[object, str] = {}
    deletes: list[str] = []
    creates: list[CreateCuboid] = []
    by_class: dict[str, int] = {}
    old_items, new_items = [], []
    runs = []
    for f in frames:
        resolved = []
        for lab in prelabels[f]:
            cls = doc.ontology.resolve(lab.label)
            if cls is None:
                report.count(f"<skipped: {lab.label}>")
            else:
                resolved.append(lab.with_(label=cls))
        existing = doc.annotations(f)
        labels = [a.label for a in existing]
        runs.append((f, existing, labels, resolved,
                     merge_prelabels(labels, [a.uid in untouched for a in existing], resolved)))
    # a new box of no track (the tracker left it out, or an untracked run) is a track of its own
    # here, so it too can keep the id of the untouched pre-label it replaces
    lone = {id(lab): f"lone {f} {k}" for f, *_, merge in runs for k, lab in enumerate(merge.add)
            if lab.track_id is None}
    keyed = lambda labs: [lab.with_(track_id=lone[id(lab)]) if id(lab) in lone else lab for lab in labs]  # noqa: E731
    track_ids.update(inherited_tracks([r[2] for r in runs], [replace(r[4], add=keyed(r[4].add)) for r in runs],
                                      [keyed(r[3]) for r in runs]))
    track_class = kept_track_classes(runs, set(track_ids.values()))
    for f, existing, labels, _, merge in runs:
        _tally(report, labels, merge)
        old = [existing[k] for k in merge.replace]
        deletes += [a.uid for a in old]
        old_items += [(a.track_id, f, a.label) for a in old]
        for lab in merge.add:
            # A kept track continued, else fresh ids from the document's counter (one per
            # tracker track), never one in use.
            key = lab.track_id if lab.track_id is not None else lone[id(lab)]
            if key not in track_ids:
                track_ids[key] = str(next_track)
                next_track += 1
            if doc.is_absent(track_ids[key], f):    # the annotator said the object is hidden there
                report.absent += 1
                continue
            lab = lab.with_(label=track_class.get(track_ids[key], lab.label))   # a kept track's class wins
            new_items.append((track_ids[key], f, lab))
            score = 1.0 if lab.score is None else float(lab.score)
            # a kept track's per-track attributes (emergency) win as well
            creates.append(CreateCuboid(f, continued(doc, CuboidLabel(lab.box, lab.label, track_ids[key], score,
                                                                      "model", dict(lab.attributes)), f)))
            by_class[lab.label] = by_class.get(lab.label, 0) + 1
    if _tracks(old_items) == _tracks(new_items):     # nothing to do, or a tracked run found it all again
        report.unchanged += len(creates)
        report.replaced -= len(deletes)
        return None, report
    report.prelabels += len(creates)
    for cls, n in by_class.items():
        report.by_class[cls] = report.by_class.get(cls, 0) + n
    replacing = f", replacing {len(deletes)}" if deletes else ""
    replacing += f", keeping {locked} locked" if locked else ""
    commands = ([DeleteCuboids(tuple(deletes))] if deletes else []) + creates
    return Batch(tuple(commands), f"{PRELABEL_DESCRIPTION} {what}: {counted(len(creates), 'box')}{replacing}"), report


def kept_track_classes(runs, tracks: set[str]) -> dict[str, str]:
    """{track id: class} for the kept ``tracks`` that new pre-labels continue: a track is one
    object, so the annotator's class for it (the one most of its kept boxes in the run's frames
    have) wins over the detector's. ``runs``: (frame, annotations, labels, new labels, merge)."""
    votes: dict[str, Counter] = {}
    for _, _, labels, _, merge in runs:
        for k in merge.keep:
            if labels[k].track_id in tracks:
                votes.setdefault(labels[k].track_id, Counter())[labels[k].label] += 1
    return {t: c.most_common(1)[0][0] for t, c in votes.items()}


def write_to_project(project, frames: list[int], prelabels: list[list[CuboidLabel]], what: str | None = None,
                     report: PrelabelReport | None = None) -> PrelabelReport:
    """Store pre-labels in an open project (``fusionlabel.store.project.Project``) as ONE undoable
    command (:func:`prelabel_command`)."""
    cmd, report = prelabel_command(project.document, dict(zip(frames, prelabels)),
                                   what or frames_text(project.drive, frames), report)
    if cmd is not None:
        project.document.apply(cmd)
    return report


class _FoldedRun:
    """The pre-label command of one run, stored batch by batch: the first batch is applied as a
    command, each later one is folded into it (:meth:`Document.apply`'s ``merge``), each in its own
    transaction. So the project always holds the frames finished so far, and one undo entry."""

    def __init__(self, project, detector_name: str):
        self.doc, self.drive, self.name = project.document, project.drive, detector_name
        self.command = None          # the run's command as the undo stack holds it
        self.next_track = self.doc.state.next_track    # the track-id counter before the run
        self.frames: list[int] = []
        self.boxes = self.replacing = 0
        self.save_seconds = 0.0      # how long the last batch took to store

    def store(self, frames: list[int], prelabels: list[list[CuboidLabel]], report: PrelabelReport) -> None:
        t0 = time.perf_counter()
        self.frames += frames
        cmd, _ = prelabel_command(self.doc, dict(zip(frames, prelabels)), "", report)
        report.frames_stored += len(frames)
        if cmd is None:
            return
        for c in leaves(cmd):
            self.boxes += isinstance(c, CreateCuboid)
            self.replacing += len(c.uids) if isinstance(c, DeleteCuboids) else 0
        replacing = f", replacing {self.replacing}" if self.replacing else ""
        what = f"{frames_text(self.drive, self.frames)} ({self.name})"
        step = Batch(cmd.commands, f"{PRELABEL_DESCRIPTION} {what}: {counted(self.boxes, 'box')}{replacing}")
        if self.doc.apply(step, merge=self._fold) is not None and self.command is None:
            self.command = self.doc.last_step()     # with the finished frames it reopened
        self.save_seconds = time.perf_counter() - t0

    def carry_on(self, commands: list[Command], frames: list[int]) -> None:
        """Make the commands of interrupted runs of this run, just taken back (oldest first,
        :meth:`_RunRecord.take_back_interrupted`), the start of this run's command: their steps
        are done again as one, in one transaction, and this run's batches fold into it, so the
        run leaves the one undo step (same boxes, uids, track ids and order) an uninterrupted run
        leaves. ``frames``: the frames those runs finished."""
        steps = tuple(c for cmd in commands for c in leaves(cmd))
        if not steps:
            return
        self.frames += frames
        for c in steps:
            self.boxes += isinstance(c, CreateCuboid)
            self.replacing += len(c.uids) if isinstance(c, DeleteCuboids) else 0
        replacing = f", replacing {self.replacing}" if self.replacing else ""
        what = f"{frames_text(self.drive, self.frames)} ({self.name})"
        step = Batch(steps, f"{PRELABEL_DESCRIPTION} {what}: {counted(self.boxes, 'box')}{replacing}")
        if self.doc.apply(step) is not None:
            self.command = self.doc.last_step()

    def _fold(self, last: Command, step: Command) -> Command | None:
        if self.command is None or last is not self.command:
            return None
        self.command = Batch((*leaves(last), *leaves(step)), step.description)
        return self.command

    def undo(self) -> None:
        """Take the run's command back (its frames as they were before the run), and the track
        ids it handed out: the counter goes back to where it stood before the first batch."""
        if self.command is not None and self.doc.undo_text() == self.command.description:
            self.doc.undo(next_track=self.next_track)
        self.command = None


class _RunRecord:
    """The record a CLI run keeps in the project's settings (:data:`RUN_SETTING`), as an output
    folder's manifest: its identity, the frames it finished, the description of its command and
    whether it finished; a tracked run also keeps its raw detections (:data:`DETECTIONS_SETTING`)
    until it finishes. So the next run with the same identity resumes an interrupted one.

    A run that resumes ``last`` (the interrupted run's record) also keeps the descriptions of the
    commands of the interrupted runs it finishes (``continues``, oldest first) and the track-id
    counter before the first of them (``next_track``), so that a tracked run can take their
    untracked batches back as it does its own (:meth:`take_back_interrupted`)."""

    def __init__(self, project, identity: dict, selected: list[int], taken: Resumption, last: dict | None = None):
        self.project, self.identity, self.selected = project, identity, selected
        before = last if taken.frames and isinstance(last, dict) else {}
        continues = before.get("continues") if isinstance(before.get("continues"), list) else []
        self.continues = [*continues, *([before["command"]] if isinstance(before.get("command"), str) else [])]
        self.next_track = before.get("next_track") if before else project.document.state.next_track
        self.detections = {}
        if identity["track"]:
            self.detections = {project.drive.frames[i].frame_id: [label_to_dict(d) for d in dets]
                               for i, dets in zip(taken.frames, taken.detections)}
        # {frame: detections below --min-score} of the frames taken over, then of this run's too
        self.below = below_before(before, project.drive, taken.frames)
        self.below_taken = sum(self.below.values())

    def save(self, done: list[int], run: "_FoldedRun", complete: bool = False, found=None,
             below: dict[int, int] | None = None) -> None:
        """Record the frames ``done`` so far (with their raw detections ``found``, {frame: labels},
        for a tracked run, and how many detections of each scored below ``--min-score``,
        ``below``); ``complete``: the run finished."""
        frames = self.project.drive.frames
        self.below.update(below or {})
        if found and self.identity["track"] and not complete:
            self.detections.update({frames[i].frame_id: [label_to_dict(d) for d in dets] for i, dets in found.items()})
            self.project.set_setting(DETECTIONS_SETTING, self.detections)
        self.project.set_setting(RUN_SETTING, {
            "fusionlabel_prelabel": 1, "complete": complete, "identity": self.identity,
            "frames": [frames[i].frame_id for i in done], "frames_selected": len(self.selected),
            "command": run.command.description if run.command is not None else None,
            "continues": self.continues, "next_track": self.next_track,
            BELOW_KEY: {frames[i].frame_id: n for i, n in sorted(self.below.items())}})
        if complete:
            self.project.set_setting(DETECTIONS_SETTING, None)

    def take_back_interrupted(self) -> list[Command]:
        """Undo the commands of the interrupted runs this run finishes (newest first) while each is
        the last step in effect (nothing done since), giving back the track ids they took; returns
        the commands undone, oldest first. A tracked run's untracked batches go as this run's own
        do before its tracked pre-labels are stored, so those are stored as by an uninterrupted run
        (the same boxes, track ids and order); an untracked run does them again as the start of
        its own command (:meth:`_FoldedRun.carry_on`). One with an edit after it stays, and its
        untouched pre-labels are replaced as any are."""
        doc = self.project.document
        counter = self.next_track if isinstance(self.next_track, int) else None
        taken: list[Command] = []
        for description in reversed(self.continues):
            if doc.undo_text() != description:
                break
            taken.insert(0, doc.undo(next_track=counter))
        return taken

    def carry_on_interrupted(self, run: "_FoldedRun", frames: list[int]) -> None:
        """An untracked run: take back the commands of the interrupted runs it finishes and make
        them the start of ``run``'s command (:meth:`_FoldedRun.carry_on`; ``frames``: the frames
        they finished), so the run leaves one undo step. When an edit was made after any of them,
        nothing is taken back (the edit is never undone): their steps stay as they are."""
        doc = self.project.document
        if not self.continues or doc.history()[-len(self.continues):] != self.continues \
                or len(doc.history()) - len(doc.starting_point()) < len(self.continues):
            return
        run.carry_on(self.take_back_interrupted(), frames)
        self.continues = []       # they are this run's command now, which the record names from here
        self.save(frames, run)


def _resumption(project, identity: dict, selected: list[int], resume: bool) -> Resumption:
    """What a run with ``identity`` takes over from the project's last, interrupted CLI run
    (:func:`~.prelabel_resume.plan_resumption`): nothing when that run's command is no longer in
    effect (undone since)."""
    last = project.get_setting(RUN_SETTING)
    command = last.get("command") if isinstance(last, dict) else None
    in_effect = command is None or any(c.description == command for c in project.document.done_commands(command))
    kept = project.get_setting(DETECTIONS_SETTING) if identity["track"] else None
    kept = kept if isinstance(kept, dict) else {}

    return plan_resumption(last, identity, project.drive, selected, f"project {project.folder}", lambda i: in_effect,
                           (lambda i: detections_from_dicts(kept.get(project.drive.frames[i].frame_id)))
                           if identity["track"] else None, resume)


def prelabel_project(project, detector: Detector, track: bool = False, min_score: float = 0.0,
                     frames: list[int] | None = None, tracker: TrackerConfig | None = None,
                     progress: bool = True, skipped: list | None = None,
                     report: PrelabelReport | None = None, identity: dict | None = None, resume: bool = True,
                     note=None) -> PrelabelReport:
    """Detect (and track) over a project's drive and store the pre-labels in the project as one
    undoable command (with a ``skipped`` list, frames that cannot be read are listed there:
    :func:`~.prelabel.detect_batches`).

    Frames are stored while the detector runs, every few seconds (:data:`~.prelabel.BATCH_SECONDS`,
    longer when storing takes more than a tenth of the time), each batch folded into the run's one
    command in its own transaction: a run that is interrupted, or killed, keeps the frames it
    finished, and running it again finds them again (no duplicates). With ``track``, the batches
    are untracked detections; at the end the run's command is undone and the tracked pre-labels are
    stored in its place, signals held back in between, their new tracks numbered on from the
    highest track id before the run (the ids the batches took are given back). ``report`` (filled as the run goes:
    ``frames_stored``) tells a caller what an interrupted run kept.

    With the run's ``identity`` (:func:`~.prelabel_resume.run_identity`; the CLI gives it), the run
    is recorded in the project's settings (:class:`_RunRecord`), and when the project's last such
    run did not finish, had the same identity and its command is still in effect, the frames it
    finished are not detected again (unless ``resume`` is False); ``note`` is told what was
    resumed, or why nothing was."""
    drive = project.drive
    report = report if report is not None else PrelabelReport()
    selected = list(range(len(drive))) if frames is None else list(frames)
    taken = _resumption(project, identity, selected, resume) if identity is not None else Resumption()
    if taken.note and note is not None:
        note(taken.note)
    record = (_RunRecord(project, identity, selected, taken, project.get_setting(RUN_SETTING))
              if identity is not None else None)
    run = _FoldedRun(project, detector.name)
    if record is not None and not track:
        with signals_deferred():
            record.carry_on_interrupted(run, taken.frames)
    invalid_before = getattr(detector, "invalid_boxes", 0)
    t0 = time.perf_counter()
    done, found, below = list(taken.frames), list(taken.detections), 0
    report.frames_stored = report.resumed = len(done)
    resumed = set(done)
    batches = PrelabelReport() if track else report     # a tracked run reports its final command
    for batch_frames, dets in detect_batches(drive, detector, [i for i in selected if i not in resumed], progress,
                                             skipped, every=lambda: max(BATCH_SECONDS, 10 * run.save_seconds)):
        raw, (dets, n) = dets, keep_scored(dets, min_score)
        run.store(batch_frames, dets, batches)
        done, found, below = done + batch_frames, found + dets, below + n
        report.frames_stored = len(done)
        if record is not None:
            record.save(done, run, found=dict(zip(batch_frames, dets)), below=below_counts(batch_frames, raw, dets))
    if track and done:
        done, found = map(list, zip(*sorted(zip(done, found), key=lambda pair: pair[0])))   # time order
        tracked = track_drive(drive, done, found, tracker)
        with signals_deferred():
            run.undo()
            if record is not None:
                record.take_back_interrupted()
            write_to_project(project, done, tracked, f"{frames_text(drive, done)} ({detector.name})", report)
        below += record.below_taken if record is not None else 0    # the whole run's, as the report counts
    if record is not None:
        record.save(done, run, complete=True)
    report.seconds_per_frame = (time.perf_counter() - t0) / max(len(selected) - len(resumed), 1)
    report.min_score, report.below_min_score = min_score, below
    prediction_notes(report, drive, detector, invalid_before)
    return report
