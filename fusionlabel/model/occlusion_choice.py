"""The occlusion an annotator chose for a box in the attribute panel, told apart from the one an
import carried over and from a new box's default.

The ontology's ``occlusion`` (none / partial / mostly / full) is what the attribute panel shows and
sets; an import fills it from the source (:func:`~.source_class.source_states`: KITTI's
``occluded``, nuScenes' visibility) and a new box gets the class default, ``none``. Only a value
that is neither is the annotator's choice: choosing in the panel the value the source gave, or
``none`` for a box drawn by hand, is the same as leaving it. Exporters write a chosen occlusion in
their own terms (KITTI's level, nuScenes' visibility, COCO's occluded fraction) over what the import
kept and over their own estimate.
"""

from __future__ import annotations

from .annotation import CuboidLabel
from .source_class import source_class, source_states

OCCLUSION = "occlusion"          # the ontology attribute the panel sets
DEFAULT_OCCLUSION = "none"       # the built-in ontology's default, which a new box gets
CHOICES = ("none", "partial", "mostly", "full")


def chosen_occlusion(label: CuboidLabel) -> str | None:
    """The ``occlusion`` (one of :data:`CHOICES`) an annotator set on ``label``; None when it has
    none of its own: unknown, the one its source gave, or a new box's default (module doc)."""
    value = label.attributes.get(OCCLUSION)
    if not isinstance(value, str) or value not in CHOICES:
        return None
    if label.source == "import":
        carried = source_states(source_class(label), label.attributes).get(OCCLUSION)
        return None if value == carried else value
    return None if value == DEFAULT_OCCLUSION else value
