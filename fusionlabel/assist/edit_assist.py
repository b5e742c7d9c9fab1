"""Model assistance as edit actions: ``(doc, drive, frame, selection, ...) -> Command | None``.

Like :mod:`fusionlabel.model.edit_actions`, every function here only *builds* a command (the app
applies it with ``doc.apply``), so each assist action is one undo step and runs headless:

- :func:`one_click` — grow the object under a seed point, fit a box, pick the class: one create;
- :func:`auto_fit` — tighten the selected cuboids to their points (keep or re-estimate the yaw),
  bottom on the ground;
- :func:`prelabel` — store detections as pre-labels (source ``model`` with their score): human
  work and touched pre-labels stay, untouched pre-labels of an earlier run are replaced, nothing
  is placed over a kept cuboid (the rule of :mod:`fusionlabel.assist.prelabel`);
  :func:`detect_frames` runs the detector; :func:`accept_all_prelabels` and
  :func:`delete_prelabels` settle a frame's pre-labels in one step;
- :func:`interpolate` — fill a track between its keyframes (human and imported boxes, but not
  copies nobody changed: :mod:`.keyframes`);
- :func:`propagate` — carry the selection to the next frame by registering its points (ICP).

``selection`` is an iterable of annotation uids (uids that no longer exist are ignored); ``drive``
gives points and poses; ``points`` may be passed when the caller already holds the frame's sweep.
A function returns None when there is nothing to do.
"""

from __future__ import annotations


import numpy as np

from ..geometry.cuboid import Cuboid, in_footprint
from ..model.annotation import CuboidLabel
from ..model.commands import AcceptPrelabel, Batch, Command, CreateCuboid, DeleteCuboids, SetBox
from ..model.document import Annotation, Document
from ..model.edit_actions import selected
from ..model.detection_score import without_score
from ..model.point_counts import counted, uncounted
from .builtin import rig_forward
from .config import BuiltinConfig
from .detector import Detector
from .ego_motion import cached_motion, has_poses, motion_between
from .fit import auto_fit as fit_box
from .fit import one_click_box
from .interpolate import interpolate_track
from .keyframes import KEY_SOURCES, keyframes, unedited_copies
from .prelabel import detect_frames, frames_text, overlaps, track_drive
from .prelabel_project import (INTERPOLATE_DESCRIPTION, PROPAGATE_DESCRIPTION, edited_prelabels, moved_prelabels,
                               prelabel_command)
from .propagate import MIN_POINTS, propagate_box
from .velocity_fit import WINDOW_BOXES, WINDOW_SECONDS, fitted_velocity

DEFAULT_MIN_SCORE = 0.5     # the prelabel CLI's default
DEFAULT_FRAME_DT = 0.1      # seconds between frames when the drive has no usable timestamps


def _points(drive, frame: int, points: np.ndarray | None) -> np.ndarray:
    return np.asarray(drive.points(frame) if points is None else points)


def _in_frame(doc: Document, selection, frame: int) -> list[Annotation]:
    return [a for a in selected(doc, selection) if a.frame == frame]


def _frame_dt(drive, a: int, b: int) -> float:
    """Seconds from frame a to frame b by timestamps ((b - a) × 0.1 s when they are not usable)."""
    ta, tb = drive.frames[a].timestamp_us, drive.frames[b].timestamp_us
    dt = (tb - ta) * 1e-6
    return dt if dt * (b - a) > 0 else DEFAULT_FRAME_DT * (b - a)


def frame_times(drive, frames) -> dict[int, float] | None:
    """{frame: seconds} of ``frames`` (ascending indices) from their timestamps, or None when
    they do not increase strictly (no usable times: frames are then taken as equally spaced)."""
    times = {f: drive.frames[f].timestamp_us * 1e-6 for f in frames}
    values = list(times.values())
    return times if all(b > a for a, b in zip(values, values[1:])) else None


def is_sequence(drive) -> bool:
    """True when the drive's frames are a time sequence (strictly increasing timestamps), so
    tracking across them makes sense (a KITTI object folder is a set of unrelated frames)."""
    ts = [f.timestamp_us for f in drive.frames]
    return len(ts) > 1 and all(b > a for a, b in zip(ts, ts[1:]))


# ---------------------------------------------------------------------------------- one-click, auto-fit
def one_click(doc: Document, drive, frame: int, selection, seed, points: np.ndarray | None = None,
              default_class: str | None = None, config: BuiltinConfig | None = None) -> Command | None:
    """Create the box of the object under ``seed`` (x, y[, z] in the LiDAR frame; z unused): the
    built-in detector's box and class for it (:func:`fusionlabel.assist.fit.one_click_box`), on the
    ground (``default_class`` — else the ontology's default — when no class fits). None on bare
    ground or when the object already has a cuboid in this frame. The box is the annotator's:
    source human."""
    found = one_click_box(_points(drive, frame, points), seed, config, forward=rig_forward(drive, frame))
    if found is None:
        return None
    if already_boxed(found.box, seed, [a.box for a in doc.annotations(frame)]):
        return None
    known = doc.ontology.resolve(found.label)
    cls = known or default_class or doc.ontology.default_class
    create = CreateCuboid(frame, CuboidLabel(found.box, cls))
    return Batch((create,), f"One-click {cls}" if known else f"One-click {cls} (no class fits: tight box)")


def already_boxed(box: Cuboid, seed, existing: list[Cuboid]) -> bool:
    """Whether the object one-click found as ``box`` at ``seed`` (x, y, ...) has a cuboid among
    ``existing``: one under the click, or one overlapping ``box`` (BEV IoU over the pre-label rule's
    :data:`~.prelabel.OVERLAP_IOU`). A small cuboid whose centre merely lies in ``box`` (a person
    beside a truck) is another object, and does not count."""
    xy = np.asarray(seed, dtype=np.float64).reshape(1, -1)[:, :2]
    if any(in_footprint(xy, b)[0] for b in existing):
        return True
    return bool(existing) and bool(overlaps([box], existing, centres_inside=False)[0])


def auto_fit(doc: Document, drive, frame: int, selection, keep_yaw: bool = True,
             points: np.ndarray | None = None, config: BuiltinConfig | None = None) -> Command | None:
    """Tighten every selected cuboid of ``frame`` to the object points in and around it; keep its
    heading (``keep_yaw``) or re-estimate it (never more than 45° from the old one); the bottom
    snaps to the local ground. One SetBox per changed cuboid, one undo step."""
    anns = _in_frame(doc, selection, frame)
    if not anns:
        return None
    pts = _points(drive, frame, points)
    description = "Auto-fit" if keep_yaw else "Auto-fit (new heading)"
    cmds = []
    for ann in anns:
        box = fit_box(pts, ann.box, keep_yaw=keep_yaw, config=config)
        if box != ann.box:
            cmds.append(SetBox(ann.uid, box, description))
    return Batch(tuple(cmds), description) if cmds else None


# ---------------------------------------------------------------------------------- pre-labels
def tracked_run(drive, detections: dict) -> bool:
    """Whether a run's detections ({frame: labels}) are linked into tracks when stored: several
    frames of a sequence (:func:`is_sequence`)."""
    return len(detections) > 1 and is_sequence(drive)


def prelabels_to_store(drive, detections: dict[int, list[CuboidLabel]], min_score: float = DEFAULT_MIN_SCORE,
                       track: bool = False) -> dict[int, list[CuboidLabel]]:
    """The labels :func:`prelabel` stores for ``detections`` ({frame: labels}): the ones scoring at
    least ``min_score``, without track ids, and with ``track`` linked into tracks over the frames
    (world frame; gap fills added). It needs only the drive, not the document, so the slow part of
    storing a long run (tracking) can be done away from the interface: the app does it in the
    detector's process."""
    frames = sorted(detections)
    dets = [[d.with_(track_id=None) for d in detections[f] if (1.0 if d.score is None else d.score) >= min_score]
            for f in frames]
    if track and len(frames) > 1:
        dets = track_drive(drive, frames, dets)
    return dict(zip(frames, dets))


def prelabel(doc: Document, drive, frame: int, selection, detections: dict[int, list[CuboidLabel]],
             min_score: float = DEFAULT_MIN_SCORE, track: bool = False, detector: str | None = None,
             keep=frozenset(), prepared: dict[int, list[CuboidLabel]] | None = None) -> Command | None:
    """Store ``detections`` ({frame: labels}, e.g. from :func:`detect_frames`) as pre-labels by the
    rule that ``fusionlabel prelabel`` follows too
    (:func:`fusionlabel.assist.prelabel_project.prelabel_command`): human and imported cuboids and
    pre-labels the annotator touched are kept, the frames' untouched pre-labels are replaced,
    detections overlapping a kept cuboid are skipped. New boxes are source ``model`` with their
    score, classes mapped through the ontology (unknown ones are skipped). ``track`` links the
    detections of consecutive frames into tracks first (world frame), so accepted pre-labels
    share track ids. One Batch of deletes and creates = one undo step; None when nothing would
    change (running twice with the same detector). ``detector`` names it in the description;
    ``keep`` (uids, the app's locked classes) are left as they are, like touched pre-labels.
    ``prepared``: :func:`prelabels_to_store` of the same detections, ``min_score`` and ``track``,
    when it was already computed elsewhere."""
    frames = sorted(detections)
    if not frames:
        return None
    if prepared is None:
        prepared = prelabels_to_store(drive, detections, min_score, track)
    what = frames_text(drive, frames) + (f" ({detector})" if detector else "")
    cmd, _ = prelabel_command(doc, prepared, what, keep=keep)
    return cmd


def prelabel_frame(doc: Document, drive, frame: int, selection, detector: Detector,
                   min_score: float = DEFAULT_MIN_SCORE) -> Command | None:
    """Detect on one frame and store the pre-labels (:func:`prelabel`)."""
    return prelabel(doc, drive, frame, selection, detect_frames(drive, detector, [frame]), min_score,
                    detector=getattr(detector, "name", None))


def accept_all_prelabels(doc: Document, drive, frame: int, selection) -> Command | None:
    """Accept every pre-label of ``frame`` as human work (one AcceptPrelabel)."""
    uids = tuple(a.uid for a in doc.annotations(frame) if a.source == "model")
    return AcceptPrelabel(uids) if uids else None


def delete_prelabels(doc: Document, drive, frame: int, selection, keep=frozenset()) -> Command | None:
    """Delete the pre-labels (source ``model``) left in ``frame`` except those the annotator
    edited (:func:`~.prelabel_project.edited_prelabels`, which Ctrl+P keeps too) and those in
    ``keep`` (uids: the app's locked classes); human and imported cuboids stay. The description
    says how many edited and locked ones were kept."""
    edited = edited_prelabels(doc, [frame])
    model = [a.uid for a in doc.annotations(frame) if a.source == "model" and a.uid not in edited]
    uids = tuple(u for u in model if u not in keep)
    if not uids:
        return None
    return Batch((DeleteCuboids(uids),), f"Delete {len(uids)} pre-label{'s' if len(uids) != 1 else ''}"
                                         f"{_keeping(len(edited), len(model) - len(uids))}")


def _keeping(edited: int, locked: int = 0) -> str:
    """What a command's description adds when it left ``edited`` edited pre-labels and ``locked``
    cuboids of locked classes alone."""
    parts = ([f"{edited} you edited"] if edited else []) + ([f"{locked} locked"] if locked else [])
    return f", keeping {' and '.join(parts)}" if parts else ""


# ---------------------------------------------------------------------------------- tracks
def interpolate(doc: Document, drive, frame: int, selection, keep=frozenset()) -> Command | None:
    """Fill the frames between the keyframes of each selected cuboid's track
    (:func:`~.keyframes.keyframes`: human and imported boxes, not unedited copies): position on a
    smooth curve and yaw along the shortest arc in the world frame, size constant
    (:func:`fusionlabel.assist.interpolate.interpolate_track`). A frame without the track gets a
    new cuboid of that track (source ``model``, attribute ``interpolated``: accept it with Y); so
    does a frame holding a copy made with C that nobody changed (the copy is replaced: one undo
    brings it back); a pre-label of the track there is moved, unless the annotator moved, resized
    or turned it (:func:`~.prelabel_project.moved_prelabels`: that is their work, like human and imported
    cuboids, which are never changed; the description counts the edited ones kept and the copies
    replaced). A frame where the track is marked absent and has no cuboid stays empty (the app's H,
    :func:`~fusionlabel.model.edit_actions.mark_absent`; counted in the description). Cuboids in
    ``keep`` (uids: the app's locked classes) are neither moved nor replaced; the description
    counts those it would have changed."""
    tracks = dict.fromkeys(a.track_id for a in selected(doc, selection) if a.track_id is not None)
    cmds: list[Command] = []
    kept = replaced = locked = absent = 0
    for track in tracks:
        keys = keyframes(doc, track)
        if len(keys) < 2:
            continue
        ks = sorted(keys)
        poses = {f: drive.T_world_lidar(f) for f in range(ks[0], ks[-1] + 1)}
        filled = interpolate_track({f: a.label for f, a in keys.items()}, poses,
                                   times=frame_times(drive, range(ks[0], ks[-1] + 1)))
        edited = moved_prelabels(doc, sorted(filled))   # a pre-label only retyped still follows the keyframes
        between = [a for a in (doc.find_track(track, f) for f in filled) if a is not None]
        copies = unedited_copies(doc, between)
        ref = keys[ks[0]].label
        for f in sorted(filled):
            box = filled[f].box
            there = doc.find_track(track, f)
            if there is None and doc.is_absent(track, f):
                absent += 1
                continue
            if there is not None and there.uid in keep and there.uid not in edited:
                locked += there.uid in copies or (there.source == "model" and there.box != box)
                continue
            if there is not None and there.uid in copies:
                cmds.append(DeleteCuboids((there.uid,)))
                replaced += 1
                there = None
            if there is None:   # the keyframe's point counts are no count of this frame's points
                attributes = {**without_score(uncounted(ref.attributes)), "interpolated": True}
                cmds.append(CreateCuboid(f, CuboidLabel(box, ref.label, track, None, "model", attributes)))
            elif there.uid in edited:
                kept += 1
            elif there.source == "model" and there.box != box:
                cmds.append(SetBox(there.uid, box, INTERPOLATE_DESCRIPTION))
    if not cmds:
        return None
    n = len(tracks)
    copies_text = f", replacing {replaced} unedited cop{'ies' if replaced != 1 else 'y'}" if replaced else ""
    copies_text += f", leaving {absent} frame{'s' if absent != 1 else ''} marked absent empty" if absent else ""
    return Batch(tuple(cmds), f"{INTERPOLATE_DESCRIPTION} {'track ' + next(iter(tracks)) if n == 1 else f'{n} tracks'}"
                              f"{copies_text}{_keeping(kept, locked)}")


def track_velocity(doc: Document, drive, ann: Annotation, step: int, pose=None) -> np.ndarray:
    """World-frame xy velocity (m/s) of ``ann``'s track, the first guess for carrying it ``step``
    (±1) frames on: :func:`~.velocity_fit.fitted_velocity` through ``ann`` and the track's boxes
    in the frames right behind it (before it when carrying forward, after it when carrying back;
    up to the first frame without one, at most :data:`~.velocity_fit.WINDOW_BOXES` in all: the
    one frame back) at their capture times (:func:`frame_times`; 0.1 s apart without usable
    timestamps). Keyframe boxes (drawn, imported or accepted: :mod:`.keyframes`) are trusted over
    pre-labels and propagated boxes. Zero for a cuboid without a track or a box behind it.
    ``pose(frame)`` gives the ``T_world_lidar`` the boxes are placed by (default the drive's;
    estimated ones on a drive without poses: :func:`propagate`), None when unknown: zero then."""
    if ann.track_id is None:
        return np.zeros(2)
    anns = [ann]
    while len(anns) < WINDOW_BOXES:
        before = doc.find_track(ann.track_id, anns[-1].frame - step)
        if before is None:
            break
        anns.append(before)
    anns.sort(key=lambda a: a.frame)
    frames = [a.frame for a in anns]
    times = frame_times(drive, frames) or {f: DEFAULT_FRAME_DT * f for f in frames}
    copies = unedited_copies(doc, anns)
    poses = [(pose or drive.T_world_lidar)(a.frame) for a in anns]
    if any(T is None for T in poses):
        return np.zeros(2)
    xy = [(T @ np.append(a.box.center, 1.0))[:2] for T, a in zip(poses, anns)]
    trusted = [a.source in KEY_SOURCES and a.uid not in copies for a in anns]
    return fitted_velocity([times[f] for f in frames], xy, trusted)


def _previous_frame(doc: Document, drive, ann: Annotation, step: int) -> int | None:
    """The frame of the track's box right behind ``ann`` (``step`` ±1) that :func:`track_velocity`
    fits through (within :data:`~.velocity_fit.WINDOW_SECONDS`), or None."""
    prev = ann.frame - step
    if ann.track_id is None or WINDOW_BOXES < 2 or not 0 <= prev < len(drive.frames):
        return None
    if doc.find_track(ann.track_id, prev) is None:
        return None
    times = frame_times(drive, sorted((prev, ann.frame)))
    return prev if times is None or abs(times[ann.frame] - times[prev]) <= WINDOW_SECONDS else None


def ego_motions_needed(doc: Document, drive, frame: int, selection, target: int | None = None) -> list[tuple[int, int]]:
    """The frame pairs whose ego motion :func:`propagate` estimates from the sweeps and that are not
    at hand yet (:mod:`.ego_motion`): none on a drive with poses; else ``frame`` → ``target`` and,
    for a selected track with a box in the frame behind, that frame → ``frame`` (its velocity)."""
    target = frame + 1 if target is None else target
    if has_poses(drive) or not 0 <= target < len(drive.frames) or target == frame:
        return []
    step = 1 if target > frame else -1
    pairs = [(frame, target)]
    for ann in _in_frame(doc, selection, frame):
        prev = _previous_frame(doc, drive, ann, step)
        if prev is not None and (frame, prev) not in pairs:
            pairs.append((frame, prev))
    return [p for p in pairs if cached_motion(drive, *p) is None]


def _estimated_poses(doc: Document, drive, frame: int, target: int, warnings: list | None):
    """``T_world_lidar`` of ``frame`` and ``target`` on a drive without poses, with ``frame``'s LiDAR
    frame as the world, from the ego motion estimated between their sweeps
    (:func:`.ego_motion.motion_between`), and a function giving, for a cuboid, the pose function its
    track's velocity is measured with. When the match is not trusted, the poses stay the drive's
    (the same in both frames, as before), the velocity is measured in the LiDAR frame, and
    ``warnings`` says so."""
    ego = motion_between(drive, frame, target)
    if not ego.ok:
        if warnings is not None:
            warnings.append(f"no ego poses, and the ego's motion from frame {drive.frames[frame].frame_id} to "
                            f"{drive.frames[target].frame_id} could not be told from the sweeps ({ego.reason}): "
                            "each box starts from its place in the LiDAR frame")
        return drive.T_world_lidar(frame), drive.T_world_lidar(target), None
    step = 1 if target > frame else -1

    def pose_for(ann: Annotation):
        prev = _previous_frame(doc, drive, ann, step)
        behind = motion_between(drive, frame, prev) if prev is not None else None

        def pose(f: int):
            if f == frame:
                return np.eye(4)
            if f == prev:
                return behind.T_a_b if behind.ok else None
            return np.eye(4)      # a box outside the velocity's time window: left out of the fit
        return pose

    return np.eye(4), ego.T_a_b, pose_for


def propagate(doc: Document, drive, frame: int, selection, target: int | None = None,
              points: np.ndarray | None = None, target_points: np.ndarray | None = None,
              config: BuiltinConfig | None = None, keep=frozenset(), warnings: list | None = None,
              ego_motion: bool = True) -> Command | None:
    """Carry each selected cuboid of ``frame`` to ``target`` (default the next frame) by
    registering its points there (ego motion from the poses, the track's velocity from its last
    boxes as the first guess (:func:`track_velocity`), then 2D ICP;
    :func:`fusionlabel.assist.propagate.propagate_box`). On a drive without poses
    (:func:`~fusionlabel.model.drive.has_ego_poses`) the ego's motion from ``frame`` to ``target``
    is estimated from their sweeps (:mod:`.ego_motion`; cached per pair, 1.5-3.5 s the first time:
    :func:`ego_motions_needed` says whether it is at hand) and stands in for the poses, the track's
    velocity measured through it too; ``ego_motion=False`` starts from the LiDAR frame instead, as
    before it was estimated (the benchmark's "before").
    The copy keeps the track and class and is a pre-label (source ``model``, attribute
    ``propagated``: machine output until the annotator accepts it with Y, so it is no keyframe for
    interpolation and is told apart from reviewed boxes); a pre-label of the track already in the
    target is moved onto the result, any other cuboid of the track there is left alone: human and
    imported ones, and pre-labels the annotator moved, resized or turned (:func:`~.prelabel_project.moved_prelabels`;
    the description counts them), and so are cuboids in ``keep`` (uids: the app's locked
    classes; counted too). It makes
    sense on a sequence only (:func:`is_sequence`; unrelated frames such as a KITTI object folder
    have no next view): the caller checks that, as the app's V does.

    A cuboid with fewer than :data:`~.propagate.MIN_POINTS` object points in ``frame`` is not
    carried (there is nothing to register). Point counts are not copied: ``num_lidar_points`` /
    ``num_lidar_pts`` are counted again in the new box, ``num_radar_pts`` is dropped, and so is a
    detection score (:mod:`~fusionlabel.model.detection_score`). Each cuboid
    not carried, or whose result needs checking (:meth:`~.propagate.Propagation.problem`), adds
    one line to ``warnings`` ("track 7: holds 2 points in frame 000014 against 30 in frame ...")."""
    target = frame + 1 if target is None else target
    if not 0 <= target < doc.n_frames or target == frame:
        return None
    anns = [a for a in _in_frame(doc, selection, frame) if a.track_id is not None]
    edited = moved_prelabels(doc, [target])   # a pre-label only retyped is still carried onto
    todo = []
    kept = locked = 0
    for ann in anns:
        there = doc.find_track(ann.track_id, target)
        if there is None and doc.is_absent(ann.track_id, target):
            if warnings is not None:
                warnings.append(f"track {ann.track_id}: marked absent in frame {drive.frames[target].frame_id}; "
                                "not carried (Shift+H takes the track's absent marks back)")
            continue
        if there is not None and there.uid in edited:
            kept += 1
        elif there is not None and there.uid in keep:
            locked += there.source == "model"
        elif there is None or there.source == "model":
            todo.append((ann, there))
    if not todo:
        return None
    pa, pb = _points(drive, frame, points), _points(drive, target, target_points)
    Ta, Tb = drive.T_world_lidar(frame), drive.T_world_lidar(target)
    step = 1 if target > frame else -1
    dt = _frame_dt(drive, frame, target)
    cmds: list[Command] = []
    here, there_name = f"in frame {drive.frames[frame].frame_id}", f"in frame {drive.frames[target].frame_id}"
    pose = None
    if ego_motion and not has_poses(drive):
        Ta, Tb, pose = _estimated_poses(doc, drive, frame, target, warnings)
    carried = 0
    for ann, there in todo:
        velocity = track_velocity(doc, drive, ann, step, pose and pose(ann))
        result = propagate_box(pa, ann.box, pb, Ta, Tb, velocity, dt, config=config)
        problem = result.problem(here, there_name)
        if problem is not None and warnings is not None:
            warnings.append(f"track {ann.track_id}: {problem}"
                            + ("; not carried (C copies it, I interpolates between keyframes)"
                               if result.points_a < MIN_POINTS else ""))
        if result.points_a < MIN_POINTS:
            continue
        carried += 1
        if there is None:
            attributes = counted({**without_score(ann.attributes), "propagated": True}, pb, result.box)
            cmds.append(CreateCuboid(target, ann.label.with_(box=result.box, source="model", score=None,
                                                             attributes=attributes)))
        elif there.box != result.box:
            cmds.append(SetBox(there.uid, result.box, PROPAGATE_DESCRIPTION))
    if not cmds:
        return None
    n = carried
    where = drive.frames[target].frame_id
    return Batch(tuple(cmds), f"{PROPAGATE_DESCRIPTION} {n} cuboid{'s' if n != 1 else ''} to frame {where}"
                              f"{_keeping(kept, locked)}")

