"""Keyboard and mouse editing actions as plain functions: ``(doc, selection, ...) -> Command | None``.

The app maps keys to these and applies the returned command (``doc.apply(cmd)``); they never
change the document themselves, so every one is testable headless. ``selection`` is an iterable
of annotation uids; uids that no longer exist are ignored. A function returns None when there is
nothing to do (empty selection, no change). With several cuboids selected, one key press is one
:class:`Batch`, hence one undo step.

:data:`KEY_ACTIONS` lists the selection actions with a uniform ``(doc, selection, frame)``
signature and a description, for key maps and the help overlay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Callable, Iterable

import numpy as np

from ..errors import FusionLabelError
from ..wording import counted
from ..geometry.cuboid import Cuboid, count_points_in_cuboids
from .annotation import CuboidLabel
from .commands import (AcceptPrelabel, Batch, Command, CopyToFrame, CreateCuboid, DeleteCuboids,
                       DeleteTrackFrom, SetAbsent, SetAttributes, SetBox, SetClass, SetFrameStatus, SetTrack, leaves)
from .document import Annotation, CommandError, Document
from .track_attributes import is_per_track, track_values, value_text
from .point_counts import has_lidar_count

ROTATE_SMALL_DEG = 1.0
ROTATE_LARGE_DEG = 15.0
NUDGE_M = 0.05
RESIZE_STEP_M = 0.05
MIN_SIZE_M = 0.05
MIN_DRAG_LENGTH_M = 0.3


def selected(doc: Document, selection: Iterable[str]) -> list[Annotation]:
    """The existing annotations of a selection, in selection order, without duplicates."""
    return [doc.get(u) for u in dict.fromkeys(selection or ()) if u in doc]


def _one_step(cmds: list[Command], description: str) -> Command | None:
    if not cmds:
        return None
    return cmds[0] if len(cmds) == 1 else Batch(tuple(cmds), description)


def _set_boxes(doc: Document, selection, change: Callable[[Cuboid], Cuboid], description: str) -> Command | None:
    cmds = []
    for ann in selected(doc, selection):
        box = change(ann.box)
        if box != ann.box:
            cmds.append(SetBox(ann.uid, box, description))
    return _one_step(cmds, description)


# ---------------------------------------------------------------------------------- box edits
def rotate(doc: Document, selection, degrees: float) -> Command | None:
    """Turn the heading by ``degrees`` about the box's own up axis (positive = counter-clockwise
    seen from above; a tilted box keeps its tilt against its ground: :meth:`Cuboid.turned`)."""
    delta = math.radians(degrees)
    return _set_boxes(doc, selection, lambda b: b.turned(delta), f"Rotate {degrees:+g}°")


def flip_heading(doc: Document, selection) -> Command | None:
    """Turn the heading by 180° about the box's own up axis (same footprint, front and back swapped)."""
    return _set_boxes(doc, selection, lambda b: b.turned(math.pi), "Flip heading")


def nudge(doc: Document, selection, dx: float = 0.0, dy: float = 0.0, dz: float = 0.0,
          in_box_frame: bool = True) -> Command | None:
    """Move by (dx, dy, dz) metres along the box's own axes (x = heading, y = left, z = up), or
    along the LiDAR frame's axes with ``in_box_frame=False``."""
    d = np.array([dx, dy, dz], dtype=np.float64)

    def move(b: Cuboid) -> Cuboid:
        step = b.rotation() @ d if in_box_frame else d
        return b.with_(center=np.asarray(b.center) + step)
    return _set_boxes(doc, selection, move, "Nudge")


def resize(doc: Document, selection, dl: float = 0.0, dw: float = 0.0, dh: float = 0.0) -> Command | None:
    """Grow (positive) or shrink (negative) length, width, height by metres, never below 5 cm.

    Length and width change symmetrically about the centre; height keeps the bottom face where it
    is (a box standing on the ground stays on it)."""
    return _set_boxes(doc, selection, lambda b: _sized(b, np.maximum(np.asarray(b.size) + [dl, dw, dh], MIN_SIZE_M)),
                      "Resize")


def _sized(b: Cuboid, size) -> Cuboid:
    """``b`` with ``size`` (length, width, height): the same centre in its ground plane, heading
    and bottom face (the height grows upwards)."""
    grow_h = float(size[2]) - b.size[2]
    return b.with_(center=np.asarray(b.center) + b.rotation()[:, 2] * (grow_h / 2.0), size=size)


def set_box(doc: Document, uid: str, box: Cuboid, description: str = "Move") -> Command | None:
    """The command for the end of a mouse drag (None if the box did not change)."""
    if uid not in doc or doc.get(uid).box == box:
        return None
    return SetBox(uid, box, description)


# ---------------------------------------------------------------------------------- class, attributes
def whole_tracks(doc: Document, anns: Iterable[Annotation]) -> list[Annotation]:
    """Every cuboid of the tracks of ``anns`` in every frame (a cuboid without a track stands for
    itself), in frame order per track, each once."""
    out: dict[str, Annotation] = {}
    for ann in anns:
        frames = doc.track_frames(ann.track_id) if ann.track_id is not None else []
        for a in [doc.find_track(ann.track_id, f) for f in frames] or [ann]:
            out.setdefault(a.uid, a)
    return list(out.values())


def tracks_text(anns: list[Annotation], frame_name: Callable[[int], str] = str) -> str:
    """``track 100, 20 boxes in frames 0–19`` (or ``3 tracks, ...``): what a whole-track edit covers."""
    tracks = list(dict.fromkeys(a.track_id for a in anns))
    frames = sorted({a.frame for a in anns})
    where = (f"frame {frame_name(frames[0])}" if len(frames) == 1
             else f"frames {frame_name(frames[0])}–{frame_name(frames[-1])}")
    what = f"track {tracks[0]}" if len(tracks) == 1 else f"{len(tracks)} tracks"
    return f"{what}, {len(anns)} box{'es' if len(anns) != 1 else ''} in {where}"


def retyped(doc: Document, ann: Annotation, cls: str) -> tuple[list[Command], list[str]]:
    """The commands giving ``ann`` class ``cls`` (none when it has it): a SetClass, and a
    SetAttributes removing the attributes that belong to other classes of the ontology and not to
    ``cls`` (a car's ``parked`` on a retyped pedestrian), so that one undo puts them back. Attributes
    no class declares (point counts, ``interpolated``, an import's own fields) stay. Returns the
    commands and the names of the attributes removed."""
    if ann.cls == cls:
        return [], []
    gone = doc.ontology.foreign_attributes(cls, ann.attributes)
    cmds: list[Command] = [SetClass(ann.uid, cls)]
    if gone:
        cmds.append(SetAttributes(ann.uid, dict.fromkeys(gone)))
    return cmds, gone


def dropped_text(names: Iterable[str]) -> str:
    """``; dropped parked, pose``: what a retype's description adds for the attributes it removed."""
    names = list(dict.fromkeys(names))
    return f"; dropped {', '.join(names)}" if names else ""


def set_class(doc: Document, selection, cls: str, frame_name: Callable[[int], str] = str) -> Command | None:
    """Retype the selection's whole tracks: every cuboid of each selected cuboid's track, in every
    frame, gets ``cls`` (a track is one object, one class), as one undo step described
    ``Set class van: track 100, 20 boxes in frames 0–19``. Attributes of the old class that ``cls``
    does not have go in the same step (:func:`retyped`; the description ends ``; dropped pose``).
    None when they all have it already; KeyError for a class the ontology does not have. To give
    part of a track another class (a person who gets on a bicycle), split the track first
    (:func:`split_tracks`)."""
    doc.ontology.get(cls)
    boxes = whole_tracks(doc, selected(doc, selection))
    cmds: list[Command] = []
    gone: list[str] = []
    for a in boxes:
        c, g = retyped(doc, a, cls)
        cmds += c
        gone += g
    if not cmds:
        return None
    return Batch(tuple(cmds), f"Set class {cls}: {tracks_text(boxes, frame_name)}{dropped_text(gone)}")


def set_class_by_key(doc: Document, selection, key: str, frame_name: Callable[[int], str] = str) -> Command | None:
    """Retype with the ontology's one-key shortcut (``"1"`` = car in the default ontology)."""
    cls = doc.ontology.class_for_key(key)
    return None if cls is None else set_class(doc, selection, cls, frame_name)


def size_to_track(doc: Document, selection, frame_name: Callable[[int], str] = str) -> Command | None:
    """Give the other cuboids of the selected cuboids' tracks the selected cuboid's size (length,
    width, height), one undo step: for rigid objects, whose size does not change over time. Each
    box keeps its centre in the ground plane, its heading and its bottom face (as :func:`resize`
    keeps it). With two selected cuboids of one track, the first gives the size. None when every
    box of the tracks has that size already (or the tracks have no other box)."""
    cmds: list[Command] = []
    changed: list[Annotation] = []
    givers: list[Annotation] = []
    done: set[str] = set()
    for ann in selected(doc, selection):
        if ann.track_id is None or ann.track_id in done:
            continue
        done.add(ann.track_id)
        for other in whole_tracks(doc, [ann]):
            if other.uid == ann.uid or np.allclose(other.box.size, ann.box.size, rtol=0.0, atol=1e-9):
                continue
            cmds.append(SetBox(other.uid, _sized(other.box, ann.box.size), "Size to track"))
            changed.append(other)
        if changed and changed[-1].track_id == ann.track_id:
            givers.append(ann)
    if not cmds:
        return None
    size = "Size" if len(givers) > 1 else "Size {:.2f} × {:.2f} × {:.2f} m".format(*givers[0].box.size)
    return Batch(tuple(cmds), f"{size} to {tracks_text(changed, frame_name)}")


def set_attribute(doc: Document, selection, name: str, value) -> Command | None:
    """Set one attribute on every selected cuboid (None removes it). An attribute the cuboid's
    class declares per track (ontology ``scope: track``) is set on every cuboid of its track, in
    every frame, in the same undo step, described ``emergency = yes on track 29, 20 frames``
    (``on 3 tracks, 45 boxes``); a track whose cuboids disagreed then agrees."""
    anns = selected(doc, selection)
    track_wide = [a for a in anns if a.track_id is not None and is_per_track(doc, a.cls, name)]
    if not track_wide:
        cmds = [SetAttributes(a.uid, {name: value}) for a in anns if a.attributes.get(name) != value
                or (value is None and name in a.attributes)]
        return _one_step(cmds, f"Set {name}")
    boxes = [b for b in whole_tracks(doc, track_wide) if is_per_track(doc, b.cls, name)]
    boxes += [a for a in anns if a not in track_wide]
    cmds = [SetAttributes(b.uid, {name: value}) for b in boxes
            if b.attributes.get(name, ...) != value or (value is None and name in b.attributes)]
    if not cmds:
        return None
    tracks = list(dict.fromkeys(a.track_id for a in track_wide))
    where = (f"track {tracks[0]}, {counted(len(boxes), 'frame')}" if len(tracks) == 1
             else f"{len(tracks)} tracks, {counted(len(boxes), 'box')}")
    return Batch(tuple(cmds), f"{name} = {value_text(value)} on {where}")


def toggle_attribute(doc: Document, selection, name: str) -> Command | None:
    """Flip a boolean attribute (missing counts as the class default, else False); one declared
    per track flips on the whole track (:func:`set_attribute`)."""
    cmds = []
    tracks: set[str] = set()
    for a in selected(doc, selection):
        spec = doc.ontology.classes.get(a.cls)
        default = spec.attributes[name].default if spec and name in spec.attributes else False
        flipped = not bool(a.attributes.get(name, default))
        if a.track_id is not None and is_per_track(doc, a.cls, name):
            if a.track_id in tracks:          # two cuboids of one track: it flips once
                continue
            tracks.add(a.track_id)
            cmd = set_attribute(doc, [a.uid], name, flipped)
            cmds += [] if cmd is None else list(leaves(cmd))
        else:
            cmds.append(SetAttributes(a.uid, {name: flipped}))
    return _one_step(cmds, f"Toggle {name}")


def accept_prelabels(doc: Document, selection) -> Command | None:
    """Accept the selected model pre-labels as human labels."""
    uids = [a.uid for a in selected(doc, selection) if a.source == "model"]
    return AcceptPrelabel(tuple(uids)) if uids else None


def accept_track_prelabels(doc: Document, selection, frame_name: Callable[[int], str] = str) -> Command | None:
    """Accept every pre-label of the selected cuboids' tracks, in every frame (the boxes ``I`` and
    ``V`` carried the track with, detections continuing it), as one undo step described
    ``Accept pre-labels of track 7, 15 boxes in frames 1–18``. None when those tracks hold none."""
    boxes = [a for a in whole_tracks(doc, selected(doc, selection)) if a.source == "model"]
    if not boxes:
        return None
    return Batch((AcceptPrelabel(tuple(a.uid for a in boxes)),),
                 f"Accept pre-labels of {tracks_text(boxes, frame_name)}")


# ---------------------------------------------------------------------------------- create, delete
def create_at(doc: Document, frame: int, point, cls: str | None = None, yaw: float = 0.0,
              z_bottom: float | None = None) -> CreateCuboid:
    """A new cuboid of the class's default size (default class if None) centred at ``point``.

    ``point`` is (x, y, z) = the centre, or (x, y) with the bottom at ``z_bottom`` (e.g. from
    :func:`estimate_ground_z`; 0 when not given). The track id is assigned when it is applied."""
    spec = doc.ontology.get(cls or doc.ontology.default_class)
    p = [float(v) for v in point]
    if len(p) == 2:
        p.append((0.0 if z_bottom is None else float(z_bottom)) + spec.default_size[2] / 2.0)
    elif len(p) != 3:
        raise ValueError(f"point must be (x, y) or (x, y, z), got {point!r}")
    elif z_bottom is not None:
        p[2] = float(z_bottom) + spec.default_size[2] / 2.0
    return CreateCuboid(frame, CuboidLabel(Cuboid(p, spec.default_size, yaw), spec.name))


def create_from_drag(doc: Document, frame: int, start_xy, end_xy, cls: str | None = None,
                     z_bottom: float | None = None) -> CreateCuboid:
    """A cuboid drawn in the bird's-eye view by dragging from its back to its front: the drag
    gives the heading and (if longer than 30 cm) the length; width and height are the class's
    defaults; a short drag or a click gives the default length with heading +x."""
    spec = doc.ontology.get(cls or doc.ontology.default_class)
    a, b = np.asarray(start_xy, np.float64)[:2], np.asarray(end_xy, np.float64)[:2]
    d = b - a
    length = float(np.hypot(*d))
    if length < MIN_DRAG_LENGTH_M:
        return create_at(doc, frame, a, spec.name, 0.0, z_bottom)
    l, w, h = spec.default_size
    z = (0.0 if z_bottom is None else float(z_bottom)) + h / 2.0
    centre = [*((a + b) / 2.0), z]
    return CreateCuboid(frame, CuboidLabel(Cuboid(centre, (length, w, h), math.atan2(d[1], d[0])), spec.name))


def estimate_ground_z(points: np.ndarray, xy, radius: float = 3.0, percentile: float = 5.0) -> float | None:
    """Ground height near ``xy``: a low percentile of the z of points (N, 3+) within ``radius``
    metres in the xy plane; None when fewer than 5 points are that close."""
    pts = np.asarray(points)
    d2 = (pts[:, 0] - xy[0]) ** 2 + (pts[:, 1] - xy[1]) ** 2
    near = pts[d2 <= radius * radius, 2]
    return None if near.size < 5 else float(np.percentile(near, percentile))


def delete(doc: Document, selection) -> Command | None:
    uids = tuple(a.uid for a in selected(doc, selection))
    return DeleteCuboids(uids) if uids else None


# ---------------------------------------------------------------------------------- tracks
def ego_motion(drive, source_frame: int, target_frame: int) -> np.ndarray:
    """(4, 4) T_target_source between two frames' LiDAR frames from the drive's poses, so a static
    object copied to another frame stays where it is in the world."""
    from ..geometry.transforms import invert_T

    return invert_T(drive.T_world_lidar(target_frame)) @ drive.T_world_lidar(source_frame)


def copy_to_frame(doc: Document, selection, target_frame: int, drive=None,
                  frame_name: Callable[[int], str] = str) -> Command | None:
    """Copy the selection to ``target_frame`` keeping track ids (tracks already there are
    skipped). With ``drive``, boxes are carried over by the ego motion between the frames, and
    LiDAR point counts (``num_lidar_points`` ...) are counted again in the target's sweep
    (:func:`target_counts`); without a drive or a sweep the copies carry none. The description
    names the target as ``frame_name`` does (``Copy 2 cuboids to frame 000005``). A cuboid whose
    track is marked absent in the target (:func:`mark_absent`) is not copied, as ``V`` does not
    carry it there; the description names it (None when that leaves nothing to copy)."""
    anns = selected(doc, selection)
    if not anns or not 0 <= target_frame < doc.n_frames:
        return None
    absent = [a for a in anns if a.frame != target_frame and doc.find_track(a.track_id, target_frame) is None
              and doc.is_absent(a.track_id, target_frame)]
    anns = [a for a in anns if a not in absent]
    if not any(a.frame != target_frame and doc.find_track(a.track_id, target_frame) is None for a in anns):
        return None
    T = None
    if drive is not None:
        frames = {a.frame for a in anns}
        if len(frames) == 1:
            M = ego_motion(drive, frames.pop(), target_frame)
            if not np.allclose(M, np.eye(4), atol=1e-12):
                T = tuple(M.reshape(-1))
    counts = target_counts(anns, drive, target_frame, T)
    cmd = CopyToFrame(tuple(a.uid for a in anns), target_frame, T, counts, frame_name(target_frame))
    if not absent:
        return cmd
    tracks = ", ".join(dict.fromkeys(str(a.track_id) for a in absent))
    return Batch((cmd,), f"{cmd.description}; not copied: track{'s' if len(absent) > 1 else ''} {tracks} "
                         "(marked absent there)")


def target_counts(anns: list[Annotation], drive, target_frame: int, T=None) -> dict[str, int] | None:
    """uid -> LiDAR points of ``target_frame``'s sweep inside each of ``anns``' boxes carried there
    by ``T`` (16 floats, row-major T_target_source; None: as they are), for the ones that carry a
    LiDAR count; None when none does or there is no sweep to count in (no drive, a frame without
    LiDAR, an unreadable sweep)."""
    counting = [a for a in anns if has_lidar_count(a.attributes)]
    if drive is None or not counting or drive.frames[target_frame].lidar_path is None:
        return None
    try:
        points = drive.points(target_frame)
    except FusionLabelError:
        return None
    M = None if T is None else np.asarray(T, np.float64).reshape(4, 4)
    boxes = [a.box if M is None else a.box.transformed(M) for a in counting]
    return {a.uid: int(n) for a, n in zip(counting, count_points_in_cuboids(points, boxes))}


def copy_to_next_frame(doc: Document, selection, frame: int, drive=None,
                       frame_name: Callable[[int], str] = str) -> Command | None:
    """Copy the selected cuboids of ``frame`` to ``frame + 1``."""
    return copy_to_frame(doc, [a.uid for a in selected(doc, selection) if a.frame == frame], frame + 1, drive,
                         frame_name)


def copy_all_to_next_frame(doc: Document, frame: int, drive=None,
                           frame_name: Callable[[int], str] = str) -> Command | None:
    """Copy every cuboid of ``frame`` to ``frame + 1``."""
    return copy_to_frame(doc, [a.uid for a in doc.annotations(frame)], frame + 1, drive, frame_name)


def delete_track_from_here(doc: Document, selection, frame: int,
                           frame_name: Callable[[int], str] = str) -> Command | None:
    """Delete the selected cuboids' tracks in ``frame`` and every later frame (one undo step), with
    their absent marks there, described with how many cuboids go and the frames they are in, as
    ``frame_name`` names frames (the app: by frame id): "Delete 4 cuboids of track 7 in frames
    000005–000008"."""
    tracks = dict.fromkeys(a.track_id for a in selected(doc, selection) if a.track_id is not None)
    gone = {t: [f for f in doc.track_frames(t) if f >= frame] for t in tracks}
    cmds = [DeleteTrackFrom(t, frame) for t in tracks if gone[t]]
    if not cmds:
        return None
    frames = sorted(f for c in cmds for f in gone[c.track_id])
    what = f"track {cmds[0].track_id}" if len(cmds) == 1 else f"{len(cmds)} tracks"
    where = (f"frame {frame_name(frames[0])}" if frames[0] == frames[-1]
             else f"frames {frame_name(frames[0])}–{frame_name(frames[-1])}")
    count = f"{len(frames)} cuboid{'s' if len(frames) != 1 else ''}"
    # the track ends here: its absent marks from here on go with it
    marks = [SetAbsent(c.track_id, f, False) for c in cmds for f in doc.absent_frames(c.track_id) if f >= frame]
    return Batch(tuple(cmds) + tuple(marks), f"Delete {count} of {what} in {where}")


def _frames_text(frames, frame_name: Callable[[int], str]) -> str:
    names = [frame_name(f) for f in frames[:5]]
    more = f" and {len(frames) - 5} more" if len(frames) > 5 else ""
    return f"frame{'s' if len(frames) > 1 else ''} {', '.join(names)}{more}"


def _into_track(doc: Document, anns: list[Annotation], track_id: str, track_name: str) -> tuple[list[Command], str]:
    """SetTrack commands moving ``anns`` into ``track_id``, each retyped (:func:`retyped`) to the
    class of the track's nearest box (earlier on a tie) when it differs: a track is one object, so
    its class wins, and so do its per-track attributes (:func:`~.track_attributes.track_values`);
    the track's absent mark in a box's frame is taken back (the box shows it). Returns the commands
    and what the description adds for a retype ("" for none):
    `` (class van, as <track_name>; dropped pose)``."""
    frames = doc.track_frames(track_id)
    cmds: list[Command] = []
    retype_to = None
    gone: list[str] = []
    for ann in anns:
        cmds.append(SetTrack(ann.uid, track_id))
        if doc.is_absent(track_id, ann.frame):        # the box shows the object there after all
            cmds.append(SetAbsent(track_id, ann.frame, False))
        cls = ann.cls
        if frames:
            near = min(frames, key=lambda f: (abs(f - ann.frame), f))
            cls = doc.find_track(track_id, near).cls
            c, g = retyped(doc, ann, cls)
            if c:
                cmds += c
                gone += g
                retype_to = cls
        values = track_values(doc, track_id, ann.frame, cls)   # the track's per-track attributes win too
        changed = {k: v for k, v in values.items() if ann.attributes.get(k, ...) != v}
        if changed:
            cmds.append(SetAttributes(ann.uid, changed))
    if retype_to is None:
        return cmds, ""
    return cmds, f" (class {retype_to}, as {track_name}{dropped_text(gone)})"


def set_track(doc: Document, uid: str, track_id: str, frame_name: Callable[[int], str] = str) -> Command | None:
    """Move one cuboid to track ``track_id`` (an existing track or a new id), e.g. typed in the
    attribute panel. It takes the track's class when the track has boxes of another class. None
    when it is already there; CommandError (with a message for the annotator) for an empty id, or
    when the track already has a cuboid in this frame (a track has one cuboid per frame)."""
    ann = doc.get(uid)
    track_id = str(track_id).strip()
    if not track_id:
        raise CommandError("a track id cannot be empty")
    if track_id == ann.track_id:
        return None
    other = doc.find_track(track_id, ann.frame)
    if other is not None:
        raise CommandError(f"track {track_id} already has a cuboid in frame {frame_name(ann.frame)} "
                           f"({other.cls}): a track holds one cuboid per frame")
    cmds, retype = _into_track(doc, [ann], track_id, "the track")
    return Batch(tuple(cmds), f"Set track {track_id}{retype}")


def join_tracks(doc: Document, track_id: str, into: str, frame_name: Callable[[int], str] = str) -> Command | None:
    """Merge every cuboid of track ``track_id`` into track ``into`` (one undo step), and its absent
    marks. ``into`` keeps its id and its class: joined boxes of another class take the class of
    its nearest box. None
    when the two are the same track; CommandError when ``track_id`` has no cuboids or both tracks
    have a cuboid in the same frame (the message lists those frames)."""
    if track_id == into:
        return None
    frames = doc.track_frames(track_id)
    if not frames:
        raise CommandError(f"track {track_id} has no cuboids left")
    both = sorted(set(frames) & set(doc.track_frames(into)))
    if both:
        raise CommandError(f"cannot join track {track_id} into track {into}: both have a cuboid in "
                           f"{_frames_text(both, frame_name)} (delete one of each pair first)")
    cmds, retype = _into_track(doc, [doc.find_track(track_id, f) for f in frames], into, f"track {into}")
    cmds += _moved_absent_marks(doc, track_id, into, doc.absent_frames(track_id))
    return Batch(tuple(cmds), f"Join track {track_id} into track {into}{retype}")


def _moved_absent_marks(doc: Document, track_id: str, to: str, frames: list[int]) -> list[Command]:
    """SetAbsent commands moving ``track_id``'s absent marks in ``frames`` to track ``to`` (a
    joined or split track keeps where its object was hidden)."""
    return [c for f in frames for c in (SetAbsent(track_id, f, False),
                                        *(() if doc.find_track(to, f) else (SetAbsent(to, f, True),)))]


def split_tracks(doc: Document, selection, frame_name: Callable[[int], str] = str) -> Command | None:
    """Give each selected cuboid and the later cuboids of its track a new track id (one undo
    step), with the track's absent marks from that frame on; the earlier cuboids keep the old id. CommandError when every selected cuboid is the
    first of its track (nothing before it to split from); None for an empty selection."""
    anns = [a for a in selected(doc, selection) if a.track_id is not None]
    if not anns:
        return None
    starts = [a for a in anns if doc.track_frames(a.track_id)[0] == a.frame]
    anns = [a for a in anns if a not in starts]
    if not anns:
        a = starts[0]
        raise CommandError(f"track {a.track_id} starts in frame {frame_name(a.frame)}: there is nothing before "
                           f"it to split from")
    n = doc.state.next_track
    cmds: list[Command] = []
    parts = []
    for ann in anns:
        while str(n) in doc.state.by_track or str(n) in doc.state.absent:
            n += 1
        new = str(n)
        n += 1
        later = [f for f in doc.track_frames(ann.track_id) if f >= ann.frame]
        cmds += [SetTrack(doc.find_track(ann.track_id, f).uid, new) for f in later]
        cmds += _moved_absent_marks(doc, ann.track_id, new, [f for f in doc.absent_frames(ann.track_id)
                                                              if f >= ann.frame])
        parts.append(f"track {ann.track_id} from frame {frame_name(ann.frame)} on is track {new}")
    return Batch(tuple(cmds), "Split: " + "; ".join(parts))


def jump_to_track(doc: Document, uid: str, direction: int = 1) -> Annotation | None:
    """The same track's cuboid in the nearest other frame after (``direction`` > 0) or before
    (< 0) this cuboid's frame, or None. A query: the app changes frame and selects it."""
    if uid not in doc:
        return None
    ann = doc.get(uid)
    if ann.track_id is None:
        return None
    frames = doc.track_frames(ann.track_id)
    others = [f for f in frames if (f > ann.frame if direction > 0 else f < ann.frame)]
    if not others:
        return None
    return doc.find_track(ann.track_id, others[0] if direction > 0 else others[-1])


def track_in_frame(doc: Document, uid: str, frame: int) -> Annotation | None:
    """The cuboid of the same track as ``uid`` in ``frame`` (selection follows a track when the
    frame changes), or None."""
    if uid not in doc:
        return None
    track = doc.get(uid).track_id
    return None if track is None else doc.find_track(track, frame)


def selected_in_frame(doc: Document, uid: str, frame: int) -> Annotation | None:
    """The cuboid a selected ``uid`` stands for in ``frame``: itself when it is in that frame
    (tracked or not), else the cuboid of its track there (:func:`track_in_frame`), or None."""
    if uid in doc and doc.get(uid).frame == frame:
        return doc.get(uid)
    return track_in_frame(doc, uid, frame)


# ---------------------------------------------------------------------------------- selection, frames
def cycle_uids(uids: list[str], selection, step: int = 1) -> tuple[str, ...]:
    """The next (``step`` = 1) or previous (-1) of ``uids`` after the selection, wrapping around;
    the first (or last) when none of them is selected; () if there are none."""
    if not uids:
        return ()
    current = [uids.index(u) for u in dict.fromkeys(selection or ()) if u in uids]
    if not current:
        return (uids[0] if step > 0 else uids[-1],)
    i = (current[-1] if step > 0 else current[0]) + step
    return (uids[i % len(uids)],)


def set_frame_status(doc: Document, frame: int, status: str,
                     frame_name: Callable[[int], str] = str) -> Command | None:
    """Mark ``frame`` ``status`` (None when it has it), one undo step described with the frame as
    ``frame_name`` names it (the app: by frame ID): ``Mark frame 000003 done``."""
    if doc.frame_status(frame) == status:
        return None
    return Batch((SetFrameStatus(frame, status),), f"Mark frame {frame_name(frame)} {status.replace('_', ' ')}")


def unaccepted_note(doc: Document, frame: int) -> str:
    """What a frame marked done or reviewed still holds that exports leave out: its pre-labels not
    yet accepted (detector output, ``I`` and ``V`` boxes), as a clause to add to the message
    (``"; 3 pre-labels here are not accepted: exports leave them out (Shift+Y accepts the frame's)"``),
    or ``""``."""
    n = sum(a.source == "model" for a in doc.annotations(frame))
    if not n:
        return ""
    return (f"; {n} pre-label{'s' if n != 1 else ''} here {'are' if n != 1 else 'is'} not accepted: exports "
            "leave them out (Shift+Y accepts the frame's)")


# ---------------------------------------------------------------------------------- absent
def mark_absent(doc: Document, selection, frame_name: Callable[[int], str] = str) -> Command | None:
    """The selected cuboids' objects are absent in their frames (hidden behind something, out of
    view): each cuboid is deleted and its track marked absent there, one undo step, so that ``I``
    and ``V`` leave the frame empty from now on. Cuboids without a track are left alone (there is
    no track to remember it for). "Track 7 absent in frame 000012 (its cuboid deleted)"."""
    anns = [a for a in selected(doc, selection) if a.track_id is not None]
    if not anns:
        return None
    cmds: list[Command] = [DeleteCuboids(tuple(a.uid for a in anns))]
    cmds += [SetAbsent(a.track_id, a.frame) for a in anns]
    tracks = list(dict.fromkeys(a.track_id for a in anns))
    what = f"Track {tracks[0]}" if len(tracks) == 1 else f"{len(tracks)} tracks"
    frames = sorted({a.frame for a in anns})
    deleted = f"{len(anns)} cuboids deleted" if len(anns) > 1 else "its cuboid deleted"
    return Batch(tuple(cmds), f"{what} absent in {_frames_text(frames, frame_name)} ({deleted})")


def mark_tracks_absent_here(doc: Document, tracks, frame: int, frame_name: Callable[[int], str] = str):
    """The command marking ``tracks`` absent in ``frame`` (the app's D, H, D, H … with a track
    remembered): a track's cuboid there is deleted and marked (:func:`mark_absent`), a track
    without one only gets the mark (:class:`SetAbsent`). Returns (command, or None when every
    track is marked there already; the cuboids it deletes). "Track 7 absent in frame 000013"."""
    found = {t: doc.find_track(t, frame) for t in tracks}
    anns = [a for a in found.values() if a is not None]
    bare = [t for t, a in found.items() if a is None and not doc.is_absent(t, frame)]
    cmd = mark_absent(doc, [a.uid for a in anns], frame_name) if anns else None
    if not bare:
        return cmd, anns
    marked = [t for t in found if found[t] is not None or t in bare]
    what = f"Track {marked[0]}" if len(marked) == 1 else f"{len(marked)} tracks"
    deleted = f" ({len(anns)} cuboid{'s' if len(anns) != 1 else ''} deleted)" if anns else ""
    marks = tuple(SetAbsent(t, frame) for t in bare)
    return Batch(((cmd,) if cmd is not None else ()) + marks,
                 f"{what} absent in frame {frame_name(frame)}{deleted}"), anns


def unmark_absent(doc: Document, selection, frame_name: Callable[[int], str] = str) -> Command | None:
    """Take back every absent mark of the selected cuboids' tracks (one undo step); None when
    they have none."""
    tracks = [a.track_id for a in selected(doc, selection) if a.track_id is not None]
    return unmark_tracks_absent(doc, tracks, frame_name)


def unmark_tracks_absent(doc: Document, tracks, frame_name: Callable[[int], str] = str) -> Command | None:
    """Take back every absent mark of ``tracks`` (one undo step): Shift+H on a selection, or on
    the tracks the app remembers or finds marked in the frame shown. None when they have none.
    "No longer absent: track 7 in frames 000012, 000013", "tracks 7, 9 in frame 000012"."""
    marks = [(t, f) for t in dict.fromkeys(tracks) for f in doc.absent_frames(t)]
    if not marks:
        return None
    marked = list(dict.fromkeys(t for t, _ in marks))
    more = f" and {len(marked) - 5} more" if len(marked) > 5 else ""
    what = f"track{'s' if len(marked) > 1 else ''} {', '.join(marked[:5])}{more}"
    frames = sorted({f for _, f in marks})
    return Batch(tuple(SetAbsent(t, f, False) for t, f in marks),
                 f"No longer absent: {what} in {_frames_text(frames, frame_name)}")


# ---------------------------------------------------------------------------------- catalogue
@dataclass(frozen=True)
class KeyAction:
    """A selection action with the uniform signature ``fn(doc, selection, frame) -> Command | None``."""

    name: str
    description: str
    fn: Callable[[Document, Iterable[str], int], Command | None]


def _sel(f, **kw):
    return lambda doc, selection, frame: f(doc, selection, **kw)


KEY_ACTIONS: dict[str, KeyAction] = {a.name: a for a in [
    KeyAction("rotate_left_small", "Rotate +1° (counter-clockwise)", _sel(rotate, degrees=ROTATE_SMALL_DEG)),
    KeyAction("rotate_right_small", "Rotate -1° (clockwise)", _sel(rotate, degrees=-ROTATE_SMALL_DEG)),
    KeyAction("rotate_left_large", "Rotate +15°", _sel(rotate, degrees=ROTATE_LARGE_DEG)),
    KeyAction("rotate_right_large", "Rotate -15°", _sel(rotate, degrees=-ROTATE_LARGE_DEG)),
    KeyAction("flip_heading", "Flip heading 180°", _sel(flip_heading)),
    KeyAction("nudge_forward", "Nudge +5 cm along the heading (x)", _sel(nudge, dx=NUDGE_M)),
    KeyAction("nudge_back", "Nudge -5 cm along the heading (x)", _sel(nudge, dx=-NUDGE_M)),
    KeyAction("nudge_left", "Nudge +5 cm to the box's left (y)", _sel(nudge, dy=NUDGE_M)),
    KeyAction("nudge_right", "Nudge -5 cm to the box's right (y)", _sel(nudge, dy=-NUDGE_M)),
    KeyAction("nudge_up", "Nudge +5 cm up (z)", _sel(nudge, dz=NUDGE_M)),
    KeyAction("nudge_down", "Nudge -5 cm down (z)", _sel(nudge, dz=-NUDGE_M)),
    KeyAction("grow_length", "Length +5 cm", _sel(resize, dl=RESIZE_STEP_M)),
    KeyAction("shrink_length", "Length -5 cm", _sel(resize, dl=-RESIZE_STEP_M)),
    KeyAction("grow_width", "Width +5 cm", _sel(resize, dw=RESIZE_STEP_M)),
    KeyAction("shrink_width", "Width -5 cm", _sel(resize, dw=-RESIZE_STEP_M)),
    KeyAction("grow_height", "Height +5 cm (bottom stays)", _sel(resize, dh=RESIZE_STEP_M)),
    KeyAction("shrink_height", "Height -5 cm (bottom stays)", _sel(resize, dh=-RESIZE_STEP_M)),
    KeyAction("delete", "Delete the selected cuboids", _sel(delete)),
    KeyAction("copy_to_next_frame", "Copy the selection to the next frame",
              lambda doc, selection, frame: copy_to_next_frame(doc, selection, frame)),
    KeyAction("copy_all_to_next_frame", "Copy every cuboid of this frame to the next frame",
              lambda doc, selection, frame: copy_all_to_next_frame(doc, frame)),
    KeyAction("delete_track_from_here", "Delete the selected tracks from this frame on",
              lambda doc, selection, frame: delete_track_from_here(doc, selection, frame)),
    KeyAction("accept_prelabels", "Accept the selected pre-labels", _sel(accept_prelabels)),
]}


def class_key_action(key: str) -> KeyAction:
    """The retype action for an ontology class key ("1" ... "8")."""
    return KeyAction(f"set_class_{key}", f"Set class by key {key}",
                     partial(lambda doc, selection, frame, k: set_class_by_key(doc, selection, k), k=key))
