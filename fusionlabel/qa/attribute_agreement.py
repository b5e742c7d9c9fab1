"""Attribute agreement of matched boxes (two annotators, or a vendor against a reviewer).

For each true positive of `eval` (:class:`~.detection.MatchLog` pairs, the same class on both
sides) and each attribute the ontology declares for the ground truth's class (``occlusion``,
``parked``, ``pose``, ``with_rider``, ``emergency`` ...): the attribute is *compared* when both
boxes carry a value for it (not missing, not None) and *agrees* when the values are equal. A
detector's pre-labels carry no attributes: nothing is compared and there is no result.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable

from ..model.ontology import Ontology

TOP_CONFUSIONS = 5     # most common (ground truth, prediction) value pairs listed per attribute


def declared_by(ontology: Ontology) -> Callable[[str], tuple[str, ...]]:
    """``class name -> names of the attributes the ontology declares for it``, free-text ones
    (a ``note``) left out (none for a class the ontology does not know)."""
    def names(label: str) -> tuple[str, ...]:
        cls = ontology.resolve(label)
        specs = ontology.get(cls).attributes.values() if cls is not None else ()
        return tuple(spec.name for spec in specs if spec.kind != "text")
    return names


def attribute_agreement(pairs: list, declared: Callable[[str], tuple[str, ...]],
                        rows_out: list | None = None) -> dict | None:
    """By attribute (sorted by name): ``compared``, ``agreeing``, ``agreement`` (share) and
    ``confusions``: the most common disagreements as ``{"gt", "pred", "count"}``, most first.
    ``rows_out`` gets one row per disagreement: frame, class, ``gt_track``, ``pred_track``,
    attribute, ``gt`` and ``pred`` values. None when no attribute was compared."""
    compared: Counter = Counter()
    agreeing: Counter = Counter()
    confused: dict[str, Counter] = {}
    for _cls, frame_id, pred, gt in pairs:
        for name in declared(gt.label):
            a, b = gt.attributes.get(name), pred.attributes.get(name)
            if a is None or b is None:
                continue
            compared[name] += 1
            if a == b:
                agreeing[name] += 1
                continue
            confused.setdefault(name, Counter())[(_text(a), _text(b))] += 1
            if rows_out is not None:
                rows_out.append({"frame": frame_id, "class": gt.label, "gt_track": gt.track_id,
                                 "pred_track": pred.track_id, "attribute": name, "gt": a, "pred": b})
    if not compared:
        return None
    return {name: {"compared": compared[name], "agreeing": agreeing[name],
                   "agreement": agreeing[name] / compared[name],
                   "confusions": [{"gt": g, "pred": p, "count": n}
                                  for (g, p), n in sorted(confused.get(name, Counter()).items(),
                                                          key=lambda kv: (-kv[1], kv[0]))[:TOP_CONFUSIONS]]}
            for name in sorted(compared)}


def _text(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
