"""The label checks of `fusionlabel check` on the project open in the app, and where each finding
leads: its frame and the cuboid of its track there. Qt-free (the list is :mod:`.check_panel`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..geometry.cuboid import Cuboid
from ..model.waiver import Waiver, current_user
from ..qa.findings import Finding
from ..qa.label_check import LabelCheck, check_labels
from ..qa.missing_box import missing_box
from ..qa.project_labels import document_labels
from ..qa.waivers import finding_id, waive


def labels_to_check(session) -> tuple[dict, dict]:
    """The open project's labelled frames (``{frame index: labels}``) and the tracks marked absent
    by frame index, copied now (on the GUI thread) so the checks can run elsewhere while editing goes on."""
    labels, absent = document_labels(session.document, session.n_frames, stored_ids=True)
    return {i: v for i, v in enumerate(labels) if v}, absent


def run_checks(drive, labels: dict, absent: dict) -> LabelCheck:
    """The label checks of `fusionlabel check` on ``labels`` (from :func:`labels_to_check`)."""
    return check_labels(drive, labels, "project", absent=absent)


def finding_text(finding: Finding) -> str:
    """One line of the list: severity, the finding's id in brackets (as `fusionlabel check` prints
    it, for its --waive), subject and what is wrong."""
    return f"{finding.severity}  [{finding_id(finding)}] {finding.subject}: {finding.message}"


def finding_target(finding: Finding, session) -> tuple[int | None, str | None]:
    """(frame index, cuboid uid) a finding leads to: its first frame, and there the cuboid of its
    track (None where the finding names no frame, or the track has no cuboid there now)."""
    frame_id = finding.frame or (finding.frames[0] if finding.frames else None)
    index = session.drive.index_of_id(frame_id) if frame_id is not None else None
    if index is None or finding.track_id is None:
        return index, None
    found = session.document.find_track(finding.track_id, index)
    return index, None if found is None else found.uid


GHOST_CHECKS = ("track-gap", "track-end")   # findings whose track has no box where they lead


@dataclass(frozen=True)
class Ghost:
    """Where a track's missing box would be, drawn as an outline only: ``box`` in frame
    ``frame``'s LiDAR frame; ``where`` ``gap`` (interpolated between the track's boxes either
    side), ``after`` or ``before`` the track (its last or first box carried on)."""

    frame: int
    track_id: str
    cls: str
    box: Cuboid
    where: str


def finding_ghost(finding: Finding, session, frame: int | None) -> Ghost | None:
    """The ghost of a ``track-gap`` or ``track-end`` finding in ``frame`` (where it leads), when its
    track has no cuboid there and a box can be made from its others (:func:`~fusionlabel.qa.missing_box.missing_box`)."""
    tid = finding.track_id
    if finding.check not in GHOST_CHECKS or tid is None or frame is None:
        return None
    doc = session.document
    held = doc.track_frames(tid)
    box = missing_box(session.drive, {i: [doc.find_track(tid, i).label] for i in held}, tid, frame)
    if box is None:
        return None
    where = "gap" if held[0] < frame < held[-1] else "after" if frame > held[-1] else "before"
    return Ghost(frame, tid, doc.find_track(tid, held[0]).cls, box, where)


def ghost_label(ghost: Ghost) -> str:
    """The label drawn by a ghost outline."""
    return f"{ghost.track_id} {ghost.cls}: missing?"


def ghost_text(ghost: Ghost, frame_id: str) -> str:
    """The status line while a ghost is shown: what the outline is and the keys that fill it."""
    what, fill = {
        "gap": ("interpolated between its boxes either side", "I interpolates the gap (its new box selected); "),
        "after": ("its last box carried on", "[ to its last box, then V carries it here; "),
        "before": ("its first box carried back", f"draw it here and give it track {ghost.track_id}; "),
    }[ghost.where]
    return (f"track {ghost.track_id} ({ghost.cls}) has no box in frame {frame_id}: the dotted outline is where it "
            f"would be ({what}). {fill}H marks it absent here")


def finding_key(finding: Finding) -> tuple:
    """What names a finding from one check of the labels to the next, while its figures change
    (a box resized a little is still too big): its check, subject, track and frame."""
    return finding.check, finding.subject, finding.track_id, finding.frame


def project_waivers(session) -> list[Waiver]:
    """The waivers kept in the open project (none for a project without a store)."""
    store = getattr(session.project, "store", None)
    return [] if store is None else store.waivers()


def waive_in_project(session, finding: Finding, reason: str) -> Waiver:
    """Waive ``finding`` for ``reason`` in the open project, by the OS user, now: a direct write to
    the project (not an edit of the labels, so not on the undo stack; unwaive takes it back)."""
    waiver = waive(finding, reason, current_user())
    session.project.store.put_waivers([waiver])
    return waiver


def unwaive_in_project(session, waiver: Waiver) -> None:
    """Take back ``waiver`` in the open project."""
    session.project.store.remove_waivers([waiver.id])
