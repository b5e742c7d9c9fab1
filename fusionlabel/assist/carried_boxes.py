"""Which cuboids of a project C, V or I made, told by its command log: boxes carried from another
frame, which hold no detector's score (:mod:`fusionlabel.model.detection_score`).

Copies (C, Shift+C: a ``CopyToFrame``), propagated boxes (V) and interpolated ones (I: the
``CreateCuboid`` commands of a ``Propagate …`` or ``Interpolate …`` step) carry no score today.
Projects edited before that hold such boxes with the score of the box they came from: as ``score``,
or as the ``prelabel_score`` an accepted pre-label keeps (a copy of one, or a carried pre-label
accepted since, which turned its stale score into one). The value cannot tell them from a
detection; the log can. :func:`carried_uids` gives the cuboids the commands in effect (not undone)
made so, and :func:`as_carried` gives each as it is made today.

A detector's run never gives an existing cuboid a score: it stores its detections as new cuboids
(replacing untouched pre-labels of an earlier run), so a fresh detection is never among them, and a
pre-label that I or V only moved keeps its own score, as today.
"""

from __future__ import annotations

from ..io.nuscenes_boxes import SOURCE_BOX
from ..model.annotation import CuboidLabel
from ..model.commands import CopyToFrame, CreateCuboid, leaves
from ..model.detection_score import unscored
from ..model.occlusion_choice import OCCLUSION, chosen_occlusion
from .keyframes import COPY_DESCRIPTION
from .prelabel_project import INTERPOLATE_DESCRIPTION, PROPAGATE_DESCRIPTION

CARRYING_DESCRIPTIONS = (COPY_DESCRIPTION, INTERPOLATE_DESCRIPTION, PROPAGATE_DESCRIPTION)


def carried_uids(doc) -> set[str]:
    """Uids of the cuboids that C, V or I made, by the commands in effect of ``doc``'s log (only
    those are read from the store); whether they still exist is not looked at."""
    uids: set[str] = set()
    for cmd in doc.done_commands(CARRYING_DESCRIPTIONS):
        made_here = not cmd.description.startswith(COPY_DESCRIPTION)   # I and V create their boxes
        for leaf in leaves(cmd):
            if isinstance(leaf, CopyToFrame):
                uids.update(ann.uid for ann, _ in leaf.created or ())
            elif made_here and isinstance(leaf, CreateCuboid):
                uids.add(leaf.uid)
    return uids


# What a nuScenes import kept of a box in its own frame: the source box (which tells an untouched
# import, :mod:`fusionlabel.export.as_imported`) and its visibility there.
SOURCE_FRAME_KEYS = (SOURCE_BOX, "visibility")


def as_carried(label: CuboidLabel) -> CuboidLabel:
    """A box that C, V or I carried from another frame, as it is made today: no detection score
    (:func:`~fusionlabel.model.detection_score.unscored`), and not taken for the imported box it came
    from. A copy of a parked object, moved through the ego poses, lies where its source lay in the
    world, so its kept source box still matched and the export wrote the source frame's visibility;
    it is now estimated in its own frame, as for a box drawn there: an occlusion the import gave
    goes too (one an annotator chose stays)."""
    label = unscored(label)
    if not any(key in label.attributes for key in SOURCE_FRAME_KEYS):
        return label
    dropped = SOURCE_FRAME_KEYS + ((OCCLUSION,) if chosen_occlusion(label) is None else ())
    return label.with_(attributes={k: v for k, v in label.attributes.items() if k not in dropped})
