"""Which cuboids of a track are keyframes: the boxes interpolation (``I``) goes through and never changes.

A keyframe is a box someone vouched for: source ``human`` (drawn in the app, or a pre-label
accepted with Y) or ``import`` (the labels that came with the drive: someone's ground truth) —
except a copy made with C or Shift+C that nobody has changed since: it only repeats the box it
was copied from, so ``I`` may replace it by the interpolated box (one Ctrl+Z brings the copy back).
Any change to such a copy other than its track id (moved, resized, turned, another class or
attribute) makes it a keyframe; an undone change does not. Model boxes (pre-labels, interpolated
and propagated boxes) are never keyframes until they are accepted.
"""

from __future__ import annotations

from ..model.annotation import CuboidLabel
from ..model.commands import CopyToFrame, leaves
from ..model.document import Annotation
from .command_memo import DoneCommandsMemo

KEY_SOURCES = ("human", "import")   # sources whose boxes are keyframes (unless unedited copies)
COPY_DESCRIPTION = "Copy "          # every CopyToFrame's description starts with this


def _copies_made(runs) -> dict[str, CuboidLabel]:
    return {ann.uid: ann.label for cmd in runs for c in leaves(cmd) if isinstance(c, CopyToFrame)
            for ann, _ in c.created}


# uid -> label as a C / Shift+C copy (CopyToFrame in effect) created the cuboid
_copied = DoneCommandsMemo(COPY_DESCRIPTION, _copies_made)


def _without_track(label: CuboidLabel) -> CuboidLabel:
    return label.with_(track_id=None)


def _unedited(made: dict[str, CuboidLabel], ann: Annotation) -> bool:
    return ann.uid in made and _without_track(made[ann.uid]) == _without_track(ann.label)


def unedited_copies(doc, anns) -> set[str]:
    """The uids among ``anns`` that are copies made with C / Shift+C and still exactly as the copy
    made them, but for the track id (joining or splitting tracks is no edit of the box)."""
    anns = [a for a in anns if a.source in KEY_SOURCES]
    made = _copied(doc) if anns else {}
    return {a.uid for a in anns if _unedited(made, a)}


def keyframes(doc, track_id: str) -> dict[int, Annotation]:
    """The track's keyframe cuboids by frame (see the module docstring)."""
    anns = [doc.find_track(track_id, f) for f in doc.track_frames(track_id)]
    anns = [a for a in anns if a is not None and a.source in KEY_SOURCES]
    copies = unedited_copies(doc, anns)
    return {a.frame: a for a in anns if a.uid not in copies}


def frames_with_keyframes(doc, frames) -> set[int]:
    """The ``frames`` holding at least one keyframe cuboid (the timeline's white ticks). A frame's
    first keyframe settles it: after an edit of a whole track of a long drive (thousands of frames of
    dozens of cuboids) the timeline does not look at every cuboid of those frames."""
    out: set[int] = set()
    made = None
    state = doc.state           # read in place: in what order the cuboids come does not matter here
    for f in frames:
        for uid in state.by_frame.get(f, ()):
            a = state.anns[uid]
            if a.source in KEY_SOURCES:
                made = _copied(doc) if made is None else made
                if not _unedited(made, a):
                    out.add(f)
                    break
    return out
