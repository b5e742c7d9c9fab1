"""Quality of the one-click box: click every labelled object as an annotator would and score the
box that comes back (docs/prelabel.md, "One-click box and auto-fit").

Three clicks per object: ``centre`` (the middle of its box, where one clicks in the bird's-eye
view), ``nearest`` (its LiDAR return nearest to the sensor) and ``inside`` (a random point of the
inner 90 % of its footprint). A click is right when the box overlaps the labelled one by
``min_iou`` in the bird's-eye view and its class is the label's (or one it may stand for, see
:data:`fusionlabel.qa.classes.NEIGHBOURS`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..assist.config import BuiltinConfig
from ..assist.fit import one_click_box
from ..geometry.cuboid import Cuboid, points_in_cuboid
from ..geometry.iou import bev_iou
from ..model.annotation import CuboidLabel
from .classes import NEIGHBOURS, canonical, eval_class

CLICKS = ("centre", "nearest", "inside")
CLICKED_CLASSES = ("car", "van", "truck", "pedestrian", "cyclist")


@dataclass(frozen=True)
class Click:
    """One click on one labelled object: ``kind`` (one of :data:`CLICKS`), the label's evaluation
    class and point count, the BEV IoU of the box found (0 for none), its class (None for no box)
    and whether the click is right."""

    kind: str
    truth: str
    n_points: int
    iou: float
    found: str | None
    right: bool


def click_positions(inside: np.ndarray, box: Cuboid, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The (x, y) of each click kind on ``box``, given the object's returns ``inside`` (n, 3+)."""
    c, s = np.cos(box.yaw), np.sin(box.yaw)
    u, v = (rng.random(2) - 0.5) * 0.9 * np.array([box.length, box.width])
    near = inside[np.argmin(np.hypot(inside[:, 0], inside[:, 1])), :2]
    return {"centre": np.array(box.center[:2], dtype=np.float64),
            "nearest": np.asarray(near, dtype=np.float64),
            "inside": np.array([box.center[0] + c * u - s * v, box.center[1] + s * u + c * v])}


def right_class(found: str, truth: str) -> bool:
    """Whether a box of class ``found`` on an object of evaluation class ``truth`` has the right class."""
    cls = canonical(found)
    return cls == truth or truth in NEIGHBOURS.get(cls, ())


def evaluate_clicks(frames: Iterable[tuple[np.ndarray, list[CuboidLabel]]], max_range: float = 30.0,
                    min_points: int = 20, min_iou: float = 0.5, seed: int = 0,
                    config: BuiltinConfig | None = None) -> list[Click]:
    """Click every labelled car, van, truck, pedestrian and cyclist within ``max_range`` (xy) with
    at least ``min_points`` returns, in ``frames`` of (points (N, 3+), labels); ``seed`` draws the
    ``inside`` clicks."""
    rng = np.random.default_rng(seed)
    out = []
    for points, labels in frames:
        for lab in labels:
            truth = eval_class(lab)
            if truth not in CLICKED_CLASSES or np.hypot(*lab.box.center[:2]) > max_range:
                continue
            inside = points[points_in_cuboid(points[:, :3], lab.box)]
            if len(inside) < min_points:
                continue
            for kind, xy in click_positions(inside, lab.box, rng).items():
                found = one_click_box(points, xy, config)
                iou = 0.0 if found is None else float(bev_iou(found.box, lab.box))
                ok = found is not None and iou >= min_iou and right_class(found.label, truth)
                out.append(Click(kind, truth, len(inside), iou, None if found is None else found.label, ok))
    return out


def share_right(clicks: list[Click], kind: str, truth: str | None = None) -> tuple[float, int]:
    """Share of right clicks of one kind (and evaluation class, when given), and how many there were."""
    sel = [c.right for c in clicks if c.kind == kind and (truth is None or c.truth == truth)]
    return (float(np.mean(sel)) if sel else float("nan")), len(sel)
