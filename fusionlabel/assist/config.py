"""Settings of the built-in detector, loadable per rig from YAML.

Every length is in metres. Heights are above the estimated ground. Class priors give the typical
size of each class (mean) and the range a real object of that class can have; the detector uses
them to classify clusters and to complete partly seen objects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from ..errors import InputError
from ..files import parse_yaml, read_text

TRAFFIC_SIDES = ("right", "left", "none")


@dataclass(frozen=True)
class ClassPrior:
    """Size prior of one class: ``mean`` (l, w, h) and inclusive ``min``/``max`` (l, w, h);
    ``vehicle``: complete hidden sides to the mean size; ``weight`` multiplies the score (lower it
    for rare classes whose shape clutter imitates, like trucks and walls)."""

    mean: tuple[float, float, float]
    min: tuple[float, float, float]
    max: tuple[float, float, float]
    vehicle: bool = False
    weight: float = 1.0


DEFAULT_PRIORS = {
    "Car": ClassPrior((4.3, 1.8, 1.6), (3.2, 1.45, 1.2), (5.8, 2.3, 2.1), vehicle=True),
    "Van": ClassPrior((5.2, 2.0, 2.3), (4.2, 1.7, 1.9), (6.5, 2.5, 2.9), vehicle=True),
    "Truck": ClassPrior((9.0, 2.5, 3.2), (6.0, 2.0, 2.4), (14.0, 3.3, 4.3), vehicle=True, weight=0.85),
    "Cyclist": ClassPrior((1.75, 0.6, 1.7), (1.15, 0.3, 1.2), (2.1, 1.1, 2.0)),
    "Pedestrian": ClassPrior((0.8, 0.6, 1.7), (0.2, 0.2, 1.2), (1.1, 1.0, 2.0)),
}


@dataclass(frozen=True)
class BuiltinConfig:
    """Parameters of :class:`fusionlabel.assist.builtin.GeometricDetector`.

    ``max_range``: points farther (xy) are ignored. Ground: ``ground_cell`` grid size;
    ``ground_windows`` morphological-filter window sizes in cells; ``ground_slope`` the steepest
    slope accepted as ground (rise/run); ``ground_step`` the highest step (curb) accepted between
    ground cells; ``ground_height`` points up to this above the ground are ground. Clustering:
    ``cluster_cell`` BEV grid size, ``cluster_gap`` extra cells of dilation that still join two
    parts, ``max_height`` points above this are ignored (tree crowns, signs). ``min_points``
    smallest cluster kept; ``min_score`` weakest detection reported; ``priors`` by class name;
    ``traffic_side``: the side of the road traffic keeps to where the rig drives (right, left or
    none), which way riders and pedestrians beside the ego face (:mod:`fusionlabel.assist.front`).
    """

    max_range: float = 70.0
    ground_cell: float = 1.0
    ground_windows: tuple[int, ...] = (3, 5, 9, 17)
    ground_slope: float = 0.15
    ground_step: float = 0.3
    ground_height: float = 0.25
    cluster_cell: float = 0.2
    cluster_gap: int = 1
    max_height: float = 3.2
    min_points: int = 8
    min_score: float = 0.1
    priors: dict[str, ClassPrior] = field(default_factory=lambda: dict(DEFAULT_PRIORS))
    traffic_side: str = "none"

    def with_(self, **changes) -> "BuiltinConfig":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ground_windows"] = list(self.ground_windows)
        d["priors"] = {k: {"mean": list(p.mean), "min": list(p.min), "max": list(p.max), "vehicle": p.vehicle,
                           "weight": p.weight}
                       for k, p in self.priors.items()}
        return d


def _number(path, key, value, positive=True):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(path, f"expected a number, got {value!r}", where=key)
    if positive and not value > 0:
        raise InputError(path, f"expected a positive number, got {value!r}", where=key)
    return value


def _triple(path, key, value):
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise InputError(path, f"expected [length, width, height], got {value!r}", where=key)
    return tuple(float(_number(path, f"{key}[{i}]", v)) for i, v in enumerate(value))


def config_from_dict(doc: dict, path: str | Path | None = None) -> BuiltinConfig:
    """Build a config from a mapping (unknown keys are errors naming the key)."""
    if not isinstance(doc, dict):
        raise InputError(path, f"expected a mapping of detector settings, got {type(doc).__name__}")
    known = {f.name for f in fields(BuiltinConfig)}
    changes: dict = {}
    for key, value in doc.items():
        if key not in known:
            raise InputError(path, f"unknown setting (known: {', '.join(sorted(known))})", where=key)
        if key == "priors":
            if not isinstance(value, dict):
                raise InputError(path, "expected a mapping class -> {mean, min, max}", where=key)
            priors = dict(DEFAULT_PRIORS)
            for cls, p in value.items():
                if not isinstance(p, dict) or not {"mean", "min", "max"} <= set(p):
                    raise InputError(path, "expected keys mean, min, max (each [l, w, h])", where=f"priors.{cls}")
                priors[str(cls)] = ClassPrior(_triple(path, f"priors.{cls}.mean", p["mean"]),
                                              _triple(path, f"priors.{cls}.min", p["min"]),
                                              _triple(path, f"priors.{cls}.max", p["max"]),
                                              bool(p.get("vehicle", False)),
                                              float(_number(path, f"priors.{cls}.weight", p.get("weight", 1.0))))
            changes[key] = priors
        elif key == "ground_windows":
            if not isinstance(value, list) or not value or not all(isinstance(v, int) and v >= 1 for v in value):
                raise InputError(path, f"expected a list of positive integers, got {value!r}", where=key)
            changes[key] = tuple(value)
        elif key == "traffic_side":
            if value not in TRAFFIC_SIDES:
                raise InputError(path, f"expected one of {', '.join(TRAFFIC_SIDES)}, got {value!r}", where=key)
            changes[key] = value
        elif key in ("cluster_gap", "min_points"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InputError(path, f"expected a non-negative integer, got {value!r}", where=key)
            changes[key] = value
        else:
            changes[key] = float(_number(path, key, value, positive=key != "min_score"))
    return BuiltinConfig(**changes)


def load_settings_yaml(path: str | Path, what: str, where: str | None = None):
    """The parsed YAML document of a settings file, or an :class:`InputError` in one line: "<what>
    not found" (at ``where``, e.g. ``--config``), "cannot read <what> (...)", or, at "line L,
    column C", "invalid YAML: <problem> (<context>)"."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, f"{what} not found", where=where)
    return parse_yaml(read_text(path, InputError, what), path)


def load_config(path: str | Path) -> BuiltinConfig:
    """Read a YAML file of settings (any subset of :class:`BuiltinConfig` fields)."""
    return config_from_dict(load_settings_yaml(path, "detector config", "--config") or {}, path)
