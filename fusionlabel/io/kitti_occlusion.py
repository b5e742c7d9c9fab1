"""Which occlusion level a KITTI line gets for a label: the annotator's, the import's, or none.

A label can carry two occlusions. KITTI's ``occluded`` (0 fully visible, 1 partly, 2 largely
occluded, 3 unknown) is the imported line's own field, kept as it was read; it describes the box as
imported, so once the box is moved, turned or resized it is stale. The ontology's ``occlusion``
(none / partial / mostly / full) is what the attribute panel shows and sets; an import fills it
from the source (:func:`~fusionlabel.model.source_class.source_states`) and a new box gets the class
default, ``none``.

:func:`chosen_occlusion_level` tells an annotator's choice from those: an ``occlusion`` that is
neither the one the label's source gives (an imported label) nor the default ``none`` (any other
label). Choosing in the panel the value the source gave, or ``none`` for a box drawn by hand, is the
same as leaving it, and counts as no choice. A project imported before imports carried the
occlusion holds ``none`` on every imported label; its export reads the occlusion no command of the
project set as the source's (:mod:`fusionlabel.store.occlusion_history`), so that ``none`` is no
choice either. Whatever writes KITTI lines (the KITTI exporters,
prediction files) writes a chosen level first, then the imported ``occluded`` while the box is
untouched (:func:`box_as_imported`), and otherwise its own estimate.
"""

from __future__ import annotations

from typing import Any

from ..geometry.transforms import angle_difference
from ..model.annotation import CuboidLabel
from ..model.occlusion_choice import DEFAULT_OCCLUSION as DEFAULT_OCCLUSION   # the rule's names, kept here
from ..model.occlusion_choice import OCCLUSION as OCCLUSION, chosen_occlusion

# the ontology's occlusion choices -> KITTI's level (KITTI has nothing above "largely occluded")
LEVEL_OF_CHOICE = {"none": 0, "partial": 1, "mostly": 2, "full": 2}
UNKNOWN_LEVEL = 3
ALPHA_TOLERANCE = 0.02   # rad: stored alpha vs the box's alpha, above which the object was edited


def chosen_occlusion_level(label: CuboidLabel) -> int | None:
    """KITTI's occlusion level (0-2) of the ``occlusion`` an annotator set on ``label``; None when
    it has none of its own: unknown, the one its source gave, or a new box's default (module doc;
    the rule is :func:`~fusionlabel.model.occlusion_choice.chosen_occlusion`, which the nuScenes and
    COCO exports follow too)."""
    chosen = chosen_occlusion(label)
    return None if chosen is None else LEVEL_OF_CHOICE[chosen]


def kitti_number(v: float) -> str:
    """A number as KITTI object files write it (2 decimals, no negative zero)."""
    return f"{v:.2f}".replace("-0.00", "0.00")


def box_as_imported(attributes: dict[str, Any], hwl_xyz_ry, alpha_now: float) -> bool | None:
    """Whether a box whose KITTI line now reads ``hwl_xyz_ry`` (h, w, l, x, y, z, ry) is still the one
    imported: equal at KITTI's 2 decimals to its ``kitti_geometry``, or, for a label imported before
    that was kept, its stored ``alpha`` within :data:`ALPHA_TOLERANCE` of ``alpha_now``. None when
    the label keeps neither (nothing tells)."""
    try:
        if "kitti_geometry" in attributes:
            kept = [kitti_number(float(v)) for v in attributes["kitti_geometry"]]
            return kept == [kitti_number(float(v)) for v in hwl_xyz_ry]
        if "alpha" in attributes:
            return abs(angle_difference(float(attributes["alpha"]), alpha_now)) < ALPHA_TOLERANCE
    except (TypeError, ValueError):
        return False
    return None
