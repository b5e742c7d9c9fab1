"""Labelled cuboids: a box plus what it is, which track it belongs to and where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..geometry.cuboid import Cuboid

SOURCES = ("human", "model", "import")


@dataclass(frozen=True)
class CuboidLabel:
    """One annotated object in one frame, with the box in that frame's LiDAR frame.

    ``attributes`` keeps everything a format carries that has no field here (e.g. KITTI's
    truncation, occlusion, alpha and 2D box), so that a later export loses nothing.
    """

    box: Cuboid
    label: str
    track_id: str | None = None
    score: float | None = None
    source: str = "human"
    attributes: dict[str, Any] = field(default_factory=dict)

    def with_(self, **changes) -> "CuboidLabel":
        return replace(self, **changes)


def score_problem(value: Any) -> str | None:
    """Why ``value`` is not a detector's score (a finite number from 0 to 1, as every reader of
    scores requires); None when it is one."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value == value \
            or value in (float("inf"), float("-inf")):
        return f"expected a finite number from 0 to 1, got {value!r}"
    if not 0.0 <= value <= 1.0:
        return f"a score lies in [0, 1], got {value!r}"
    return None
