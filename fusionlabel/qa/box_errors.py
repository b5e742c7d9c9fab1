"""How far a matched box is from its ground truth, component by component (nuScenes' ATE, ASE
and AOE, and the terms QA specs use: "centre within 0.2 m, heading within 10 degrees").

For each true positive of `eval` (:class:`~.detection.MatchLog` pairs): the centre error in the
ground plane (m), split into its parts along and across the ground truth's heading, and the
vertical one; the relative error of length, width and height (|pred / gt - 1|); the scale error
``1 - IoU`` of the two boxes centred and turned alike (nuScenes' ASE: size only); and the heading
error in degrees, mod 360 (0 to 180; nuScenes' AOE for all classes). Summaries by class give the
mean and median of each.
"""

from __future__ import annotations

import numpy as np

from ..model.annotation import CuboidLabel
from .detection import heading_difference

COMPONENTS = ("centre_m", "along_m", "across_m", "vertical_m", "length_rel", "width_rel", "height_rel",
              "scale_error", "heading_deg")


def pair_errors(pred: CuboidLabel, gt: CuboidLabel) -> dict[str, float]:
    """The error components (:data:`COMPONENTS`) of ``pred`` against ``gt``."""
    d = np.subtract(pred.box.center, gt.box.center, dtype=np.float64)
    heading = np.array([np.cos(gt.box.yaw), np.sin(gt.box.yaw)])
    along = float(d[:2] @ heading)
    across = float(d[0] * -heading[1] + d[1] * heading[0])
    size_p, size_g = np.asarray(pred.box.size, np.float64), np.asarray(gt.box.size, np.float64)
    common = float(np.prod(np.minimum(size_p, size_g)))
    union = float(np.prod(size_p) + np.prod(size_g)) - common
    rel = np.abs(size_p / size_g - 1.0)
    return {"centre_m": float(np.hypot(d[0], d[1])), "along_m": abs(along), "across_m": abs(across),
            "vertical_m": abs(float(d[2])), "length_rel": float(rel[0]), "width_rel": float(rel[1]),
            "height_rel": float(rel[2]), "scale_error": 1.0 - common / union if union > 0 else 1.0,
            "heading_deg": float(np.degrees(heading_difference(pred.box.yaw, gt.box.yaw)))}


def box_errors(pairs: list) -> dict[str, dict]:
    """By class, in order of first appearance: ``pairs`` (how many) and, per component, its
    ``mean`` and ``median`` over the (class, frame ID, pre-label, ground truth) ``pairs``."""
    by_class: dict[str, list[dict]] = {}
    for cls, _frame, pred, gt in pairs:
        by_class.setdefault(cls, []).append(pair_errors(pred, gt))
    out = {}
    for cls, rows in by_class.items():
        out[cls] = {"pairs": len(rows)}
        for name in COMPONENTS:
            values = np.array([r[name] for r in rows])
            out[cls][name] = {"mean": float(values.mean()), "median": float(np.median(values))}
    return out
