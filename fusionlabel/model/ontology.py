"""The label ontology of a project: classes with colour, default size, attributes and a retype key.

A project keeps its own ontology as YAML (format in docs/ontology.md; the built-in one is
``default_ontology.yaml`` next to this module). :meth:`Ontology.load` validates everything and
raises :class:`OntologyError` naming the file and the key (``classes.car.default_size``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import yaml

from ..errors import InputError
from ..files import parse_yaml, read_text, unknown_key

FORMAT = "fusionlabel-ontology/1"
KINDS = ("bool", "enum", "int", "float", "text")
SCOPES = ("frame", "track")
DEFAULT_PATH = Path(__file__).with_name("default_ontology.yaml")
FALLBACK_COLOR = (200, 200, 200)

_CLASS_KEYS = ("key", "color", "default_size", "aliases", "attributes")
_ATTRIBUTE_KEYS = ("type", "default", "choices", "scope")
_TOP_KEYS = ("format", "default_class", "attributes", "classes")


class OntologyError(InputError):
    """An ontology file is malformed: names the file, the key and what was expected."""


@dataclass(frozen=True)
class AttributeSpec:
    """One attribute a class can carry. ``kind`` in :data:`KINDS`; ``choices`` only for enums;
    ``scope`` in :data:`SCOPES`: ``"frame"`` (each cuboid its own value) or ``"track"`` (one
    value for the whole track, set on every cuboid of it at once)."""

    name: str
    kind: str
    default: Any = None
    choices: tuple | None = None
    scope: str = "frame"

    @property
    def per_track(self) -> bool:
        return self.scope == "track"

    def validate(self, value: Any) -> Any:
        """The value in canonical form (ints as int, floats as float); ValueError if it does not fit."""
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            raise ValueError(f"attribute '{self.name}' expects true or false, got {value!r}")
        if self.kind == "enum":
            if value in (self.choices or ()):
                return value
            raise ValueError(f"attribute '{self.name}' expects one of {list(self.choices or ())}, got {value!r}")
        if self.kind == "int":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ValueError(f"attribute '{self.name}' expects an integer, got {value!r}")
        if self.kind == "float":
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                return float(value)
            raise ValueError(f"attribute '{self.name}' expects a finite number, got {value!r}")
        if isinstance(value, str):
            return value
        raise ValueError(f"attribute '{self.name}' expects text, got {value!r}")


@dataclass(frozen=True)
class ClassSpec:
    """A class: RGB ``color`` (0-255), ``default_size`` (length, width, height) in metres,
    attributes by name, an optional one-character retype ``key`` and import ``aliases``."""

    name: str
    color: tuple[int, int, int]
    default_size: tuple[float, float, float]
    attributes: dict[str, AttributeSpec] = field(default_factory=dict)
    key: str | None = None
    aliases: tuple[str, ...] = ()

    def default_attributes(self) -> dict[str, Any]:
        """Each attribute's default value, by name."""
        return {name: spec.default for name, spec in self.attributes.items()}

    def track_attributes(self) -> list[str]:
        """The names of the attributes declared ``scope: track``, in declaration order."""
        return [name for name, spec in self.attributes.items() if spec.per_track]


@dataclass
class Ontology:
    """Classes by name in file order, and the class new cuboids get when none is chosen."""

    classes: dict[str, ClassSpec]
    default_class: str

    def __post_init__(self):
        if not self.classes:
            raise ValueError("an ontology needs at least one class")
        if self.default_class not in self.classes:
            raise ValueError(f"default class '{self.default_class}' is not one of {list(self.classes)}")

    # ------------------------------------------------------------------ queries
    def get(self, name: str) -> ClassSpec:
        """The class called ``name``; KeyError listing the known classes otherwise."""
        try:
            return self.classes[name]
        except KeyError:
            raise KeyError(f"unknown class '{name}' (ontology classes: {', '.join(self.classes)})") from None

    def __contains__(self, name: object) -> bool:
        return name in self.classes

    def __iter__(self) -> Iterator[ClassSpec]:
        return iter(self.classes.values())

    def __len__(self) -> int:
        return len(self.classes)

    @property
    def names(self) -> list[str]:
        return list(self.classes)

    def color(self, name: str) -> tuple[int, int, int]:
        """RGB colour of a class; a neutral grey for classes the ontology does not know."""
        spec = self.classes.get(name)
        return spec.color if spec else FALLBACK_COLOR

    def class_for_key(self, key: str) -> str | None:
        """The class whose retype key is ``key``, or None."""
        return next((c.name for c in self.classes.values() if c.key == key), None)

    def foreign_attributes(self, cls: str, names) -> list[str]:
        """The names among ``names`` that some class declares as an attribute and class ``cls``
        does not (``parked`` for a pedestrian): what a cuboid retyped to ``cls`` drops. Names no
        class declares (point counts, ``interpolated``, an import's own fields) are not among them."""
        own = self.get(cls).attributes
        declared = {n for spec in self.classes.values() for n in spec.attributes}
        return [n for n in names if n in declared and n not in own]

    def resolve(self, name: str) -> str | None:
        """Map a foreign class name (``Car``, ``vehicle.car``) to a class here: exact name, then
        alias, then case-insensitive; None when nothing matches (e.g. ``DontCare``)."""
        if name in self.classes:
            return name
        for spec in self.classes.values():
            if name in spec.aliases:
                return spec.name
        low = name.lower()
        for spec in self.classes.values():
            if spec.name.lower() == low or any(a.lower() == low for a in spec.aliases):
                return spec.name
        return None

    # ------------------------------------------------------------------ construction
    @classmethod
    def default(cls) -> "Ontology":
        """The built-in ontology (``default_ontology.yaml``): car, van, truck, bus, pedestrian, cyclist,
        motorcycle, misc, barrier, traffic_cone (keys 1-9 and 0) and tram (no key)."""
        return cls.load(DEFAULT_PATH)

    @classmethod
    def load(cls, path: str | Path) -> "Ontology":
        """Read and validate an ontology YAML file; OntologyError names the file and the key."""
        path = Path(path)
        text = read_text(path, OntologyError, "file", hint="expected an ontology YAML file")
        return cls.from_yaml(text, path)

    @classmethod
    def from_yaml(cls, text: str, path: str | Path | None = None) -> "Ontology":
        """Parse YAML text; ``path`` only names the source in error messages."""
        return cls.from_dict(parse_yaml(text, path, OntologyError), path)

    @classmethod
    def from_dict(cls, data: Any, path: str | Path | None = None) -> "Ontology":
        """Validate a parsed document (see docs/ontology.md)."""
        return _Parser(path).ontology(data)

    # ------------------------------------------------------------------ output
    def to_dict(self) -> dict:
        """A plain document that :meth:`from_dict` reads back to an equal ontology."""
        classes = {}
        for spec in self.classes.values():
            entry: dict[str, Any] = {}
            if spec.key is not None:
                entry["key"] = spec.key
            entry["color"] = list(spec.color)
            entry["default_size"] = list(spec.default_size)
            if spec.aliases:
                entry["aliases"] = list(spec.aliases)
            if spec.attributes:
                entry["attributes"] = {a.name: _attribute_to_dict(a) for a in spec.attributes.values()}
            classes[spec.name] = entry
        return {"format": FORMAT, "default_class": self.default_class, "classes": classes}

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None, allow_unicode=True)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_yaml(), encoding="utf-8")


def _attribute_to_dict(spec: AttributeSpec) -> dict:
    out: dict[str, Any] = {"type": spec.kind}
    if spec.choices is not None:
        out["choices"] = list(spec.choices)
    out["default"] = spec.default
    if spec.per_track:
        out["scope"] = spec.scope
    return out


# ---------------------------------------------------------------------------------- parsing
_KIND_DEFAULTS = {"bool": False, "int": 0, "float": 0.0, "text": ""}


class _Parser:
    def __init__(self, path):
        self.path = path

    def fail(self, where: str, problem: str):
        raise OntologyError(self.path, problem, where=where)

    def mapping(self, value, where: str, allowed: tuple[str, ...]) -> dict:
        if not isinstance(value, dict):
            self.fail(where, f"expected a mapping, got {_describe(value)}")
        unknown = unknown_key(value, allowed)
        if unknown:
            self.fail(f"{where}.{unknown[0]}" if where else unknown[0], unknown[1])
        return value

    def ontology(self, data) -> Ontology:
        if data is None:
            self.fail("classes", "the file is empty; expected 'classes:' with at least one class")
        data = self.mapping(data, "", _TOP_KEYS)
        fmt = data.get("format", FORMAT)
        if fmt != FORMAT:
            self.fail("format", f"expected '{FORMAT}', got {fmt!r}")
        shared = self.attributes(data.get("attributes") or {}, "attributes")
        raw = data.get("classes")
        if not isinstance(raw, dict) or not raw:
            self.fail("classes", f"expected a mapping of class names to classes, got {_describe(raw)}")
        classes: dict[str, ClassSpec] = {}
        for name, entry in raw.items():
            if not isinstance(name, str) or not name.strip():
                self.fail(f"classes.{name}", "class names must be non-empty text")
            classes[name] = self.class_spec(name, entry, shared)
        self.check_unique(classes)
        default = data.get("default_class", next(iter(classes)))
        if default not in classes:
            self.fail("default_class", f"expected one of the classes ({', '.join(classes)}), got {default!r}")
        return Ontology(classes, default)

    def class_spec(self, name: str, entry, shared: dict[str, AttributeSpec]) -> ClassSpec:
        where = f"classes.{name}"
        entry = self.mapping(entry if entry is not None else {}, where, _CLASS_KEYS)
        if "color" not in entry:
            self.fail(f"{where}.color", "missing; expected [r, g, b] (0-255) or '#rrggbb'")
        if "default_size" not in entry:
            self.fail(f"{where}.default_size", "missing; expected [length, width, height] in metres")
        key = entry.get("key")
        if key is not None:
            if isinstance(key, int) and not isinstance(key, bool) and 0 <= key <= 9:
                key = str(key)
            if not isinstance(key, str) or len(key) != 1 or key.isspace():
                self.fail(f"{where}.key", f"expected a single character such as \"1\", got {key!r}")
        aliases = entry.get("aliases") or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
            self.fail(f"{where}.aliases", f"expected a list of names, got {aliases!r}")
        attributes = dict(shared)
        attributes.update(self.attributes(entry.get("attributes") or {}, f"{where}.attributes"))
        return ClassSpec(name, self.color(entry["color"], f"{where}.color"),
                         self.size(entry["default_size"], f"{where}.default_size"),
                         attributes, key, tuple(aliases))

    def color(self, value, where: str) -> tuple[int, int, int]:
        if isinstance(value, str) and len(value) == 7 and value[0] == "#":
            try:
                return tuple(int(value[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]
            except ValueError:
                pass
        elif isinstance(value, list) and len(value) == 3 and all(
                isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in value):
            return tuple(value)  # type: ignore[return-value]
        self.fail(where, f"expected [r, g, b] with integers 0-255 or '#rrggbb', got {value!r}")

    def size(self, value, where: str) -> tuple[float, float, float]:
        if not (isinstance(value, list) and len(value) == 3 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0
                for v in value)):
            self.fail(where, f"expected [length, width, height] of three positive numbers (metres), got {value!r}")
        return tuple(float(v) for v in value)  # type: ignore[return-value]

    def attributes(self, raw, where: str) -> dict[str, AttributeSpec]:
        if not isinstance(raw, dict):
            self.fail(where, f"expected a mapping of attribute names to specs, got {_describe(raw)}")
        out = {}
        for name, spec in raw.items():
            if not isinstance(name, str) or not name.strip():
                self.fail(f"{where}.{name}", "attribute names must be non-empty text")
            out[name] = self.attribute(name, spec, f"{where}.{name}")
        return out

    def attribute(self, name: str, raw, where: str) -> AttributeSpec:
        raw = self.mapping(raw, where, _ATTRIBUTE_KEYS)
        kind = raw.get("type")
        if kind not in KINDS:
            self.fail(f"{where}.type", f"expected one of {', '.join(KINDS)}, got {kind!r}")
        choices = raw.get("choices")
        if kind == "enum":
            if not isinstance(choices, list) or not choices or len(set(map(str, choices))) != len(choices):
                self.fail(f"{where}.choices", f"an enum needs a list of distinct choices, got {choices!r}")
            choices = tuple(choices)
        elif choices is not None:
            self.fail(f"{where}.choices", f"only enum attributes take choices (this one is {kind})")
        scope = raw.get("scope", "frame")
        if scope not in SCOPES:
            self.fail(f"{where}.scope", f"expected one of {', '.join(SCOPES)}, got {scope!r}")
        default = raw.get("default", choices[0] if kind == "enum" else _KIND_DEFAULTS[kind])
        spec = AttributeSpec(name, kind, None, choices)
        try:
            default = spec.validate(default)
        except ValueError as e:
            self.fail(f"{where}.default", str(e))
        return AttributeSpec(name, kind, default, choices, scope)

    def check_unique(self, classes: dict[str, ClassSpec]) -> None:
        keys: dict[str, str] = {}
        names: dict[str, str] = {}
        for spec in classes.values():
            if spec.key is not None:
                if spec.key in keys:
                    self.fail(f"classes.{spec.name}.key",
                              f"key {spec.key!r} is already the key of class '{keys[spec.key]}'")
                keys[spec.key] = spec.name
            for n in (spec.name, *spec.aliases):
                owner = names.get(n.lower())
                if owner is not None and owner != spec.name:
                    self.fail(f"classes.{spec.name}.aliases", f"name {n!r} also names class '{owner}'")
                names[n.lower()] = spec.name


def _describe(value) -> str:
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"[:80]
