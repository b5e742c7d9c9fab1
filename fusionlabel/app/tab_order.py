"""The order Tab and Shift+Tab walk a frame's cuboids while the object list shows the frame's own
order: the cuboids whose centre the bird's-eye view shows first, nearest the ego first, then the
others, nearest first. :class:`TabCycle` keeps that order while the annotator edits (a box moved a
few centimetres never reorders the walk under them). Qt-free.
"""

from __future__ import annotations

from typing import Callable, Hashable, Sequence

import numpy as np


def spatial_order(uids: Sequence[str], centers_xy, in_view) -> list[str]:
    """``uids`` ordered for Tab: those with ``in_view`` (N,) true first, each group by the
    horizontal distance of its ``centers_xy`` (N, 2) LiDAR metres from the ego (the LiDAR origin,
    where the range rings are centred), nearest first; ties keep the given order."""
    if not len(uids):
        return []
    xy = np.asarray(centers_xy, float).reshape(len(uids), -1)[:, :2]
    distance = np.hypot(xy[:, 0], xy[:, 1])
    outside = ~np.asarray(in_view, bool).reshape(len(uids))
    return [uids[i] for i in np.lexsort((distance, outside))]   # lexsort: stable, last key first


class TabCycle:
    """The order of the frame's cuboids as the first Tab found it, kept while the annotator edits.

    :meth:`order` computes a fresh order when the ``context`` (the frame, how the list is sorted)
    changes, when the cuboids to walk change (one added, deleted, filtered or hidden), or when
    none of them is selected (a Tab from nothing starts from the view as it is now); otherwise
    it gives the order it computed before."""

    def __init__(self):
        self._key: tuple | None = None
        self._order: list[str] = []

    def order(self, context: Hashable, uids: Sequence[str], selection: Sequence[str],
              compute: Callable[[list[str]], list[str]]) -> list[str]:
        """The order to walk ``uids`` in: ``compute(uids)``, or the one kept from the last call."""
        key = (context, frozenset(uids))
        chosen = set(selection) & key[1]
        if key != self._key or not chosen:
            self._key, self._order = key, list(compute(list(uids)))
        return list(self._order)
