"""`eval`'s figures by distance band (``--range-bins 0,20,40``): where the disagreements are.

A band holds what lies at its xy distance from the LiDAR, lower edge included, upper edge excluded
(the last band includes its upper edge, as ``--max-range`` does). A ground-truth box, a true
positive and every action on a ground-truth box (create, adjust, relabel, turn, accept) count at
the ground truth's range; a false positive and a delete at the prediction's. Beyond the last edge
up to ``--max-range`` a band ``last edge+`` is added.
"""

from __future__ import annotations

import math

from ..errors import InputError
from .detection import FIX_ACTIONS, MatchLog


def parse_range_edges(text: str) -> tuple[float, ...]:
    """``"0,20,40"`` -> (0.0, 20.0, 40.0): two or more increasing ranges from 0 (m); an
    :class:`InputError` at ``--range-bins`` otherwise."""
    try:
        edges = tuple(float(t) for t in text.split(","))
    except ValueError:
        raise InputError(None, f"expected ranges in metres separated by commas (e.g. 0,20,40), got {text!r}",
                         where="--range-bins") from None
    if len(edges) < 2 or not all(map(math.isfinite, edges)) or edges[0] < 0 \
            or any(b <= a for a, b in zip(edges, edges[1:])):
        raise InputError(None, f"expected two or more increasing ranges from 0 m (e.g. 0,20,40), got {text!r}",
                         where="--range-bins")
    return edges


def _bands(edges: tuple[float, ...], max_range: float) -> list[tuple[float, float, str]]:
    bands = [(a, b, f"{a:g}-{b:g}") for a, b in zip(edges, edges[1:])]
    if edges[-1] < max_range:
        bands.append((edges[-1], math.inf, f"{edges[-1]:g}+"))
    return bands


def range_bands(log: MatchLog, edges: tuple[float, ...], max_range: float) -> list[dict]:
    """One row per band (see module docstring): ``band``, ``from_m``, ``to_m`` (None: open),
    ``gt``, ``predictions``, ``tp``, ``precision``, ``recall`` (all evaluated classes together,
    NaN when undefined), the edit cost's ``gt``-box count ``edit_gt``, each action, ``accepted``,
    ``actions`` and ``ratio`` (actions per ground-truth box)."""
    bands = _bands(edges, max_range)
    last = len(bands) - 1

    def index(r: float) -> int | None:
        for k, (a, b, _) in enumerate(bands):
            if a <= r < b or (k == last and r == b):
                return k
        return None

    rows = [{"band": name, "from_m": a, "to_m": None if math.isinf(b) else b, "gt": 0, "predictions": 0, "tp": 0,
             "edit_gt": 0, **dict.fromkeys(FIX_ACTIONS, 0), "accepted": 0} for a, b, name in bands]
    for _cls, r in log.gt:
        if (k := index(r)) is not None:
            rows[k]["gt"] += 1
    for _cls, r, tp in log.scored:
        if (k := index(r)) is not None:
            rows[k]["predictions"] += 1
            rows[k]["tp"] += tp
    for action, _cls, r in log.actions:
        if (k := index(r)) is not None:
            rows[k]["edit_gt" if action == "gt" else action] += 1
    for row in rows:
        row["precision"] = row["tp"] / row["predictions"] if row["predictions"] else math.nan
        row["recall"] = row["tp"] / row["gt"] if row["gt"] else math.nan
        row["actions"] = sum(row[a] for a in FIX_ACTIONS)
        row["ratio"] = row["actions"] / row["edit_gt"] if row["edit_gt"] else math.nan
    return rows
