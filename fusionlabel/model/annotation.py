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
