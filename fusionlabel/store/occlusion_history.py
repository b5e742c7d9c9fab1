"""Which occlusions of a project an annotator set, told by its command log, not by the value.

Projects whose drive labels were imported before imports carried the source's occlusion (KITTI's
``occluded``, nuScenes' visibility) hold the class default ``none`` on every imported cuboid, so an
``occlusion`` differing from the source's is no sign of an annotator's choice there. The command
log is: the attribute panel sets occlusion with a ``SetAttributes`` (alone, or in a batch for
several boxes or a whole track), which a label import never holds. :func:`occlusion_as_logged`
reads the occlusion of every imported cuboid that no command in effect (:func:`occlusion_set_uids`)
set as its source gives it (unknown when the source gives none), so an exporter or
``eval`` (:func:`fusionlabel.assist.logged_labels.logged_labels`) sees the annotator's value or the source's,
never a default that no one chose.
"""

from __future__ import annotations

from ..io.kitti_occlusion import OCCLUSION
from ..model.annotation import CuboidLabel
from ..model.commands import SetAttributes, leaves
from ..model.document import Document
from ..model.source_class import source_class, source_states
from .label_import import is_import_description


def occlusion_set_uids(doc: Document) -> set[str]:
    """Uids of the cuboids whose ``occlusion`` a command in effect (not undone) set to a value;
    the label imports are not read (they set none, and hold every label of the drive)."""
    uids: set[str] = set()
    for cmd in doc.done_commands(unless=is_import_description):
        for leaf in leaves(cmd):
            if isinstance(leaf, SetAttributes) and leaf.attributes.get(OCCLUSION) is not None:
                uids.add(leaf.uid)
    return uids


def occlusion_as_logged(label: CuboidLabel, set_in_project: bool) -> CuboidLabel:
    """``label`` with the occlusion its source gives when it is an imported label whose occlusion
    no command set (``set_in_project`` False); any other label as it is."""
    if label.source != "import" or set_in_project or OCCLUSION not in label.attributes:
        return label
    carried = source_states(source_class(label), label.attributes).get(OCCLUSION)
    if label.attributes[OCCLUSION] == carried:
        return label
    return label.with_(attributes={**label.attributes, OCCLUSION: carried})
