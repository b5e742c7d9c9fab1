"""Per-track attributes (ontology ``scope: track``): one value for the whole track.

A per-track attribute (the default ontology's ``emergency``) describes the object, not a moment
of it, so every cuboid of a track carries the same value: setting it on one cuboid sets it on all
of them (:func:`fusionlabel.model.edit_actions.set_attribute`), and a cuboid that joins or
continues a track takes the track's values (:func:`track_values`). Cuboids of an older project or
of an import may disagree; :func:`mixed_values` finds those attributes (the attribute panel shows
them as mixed) and setting the attribute unifies the track. Values stay on each cuboid, so the
stored and exported format is the same as for per-frame attributes.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Iterable

from .annotation import CuboidLabel
from .document import Annotation, Document


def per_track_names(doc: Document, cls: str) -> list[str]:
    """The attributes class ``cls`` declares per track ([] for a class the ontology lacks)."""
    spec = doc.ontology.classes.get(cls)
    return spec.track_attributes() if spec is not None else []


def is_per_track(doc: Document, cls: str, name: str) -> bool:
    """Whether class ``cls`` declares attribute ``name`` per track."""
    spec = doc.ontology.classes.get(cls)
    return spec is not None and name in spec.attributes and spec.attributes[name].per_track


def value_of(doc: Document, ann: Annotation, name: str) -> Any:
    """``ann``'s value of attribute ``name``, the class default when it has none (as the
    attribute panel shows it)."""
    if name in ann.attributes:
        return ann.attributes[name]
    spec = doc.ontology.classes.get(ann.cls)
    return spec.attributes[name].default if spec is not None and name in spec.attributes else None


def track_values(doc: Document, track_id: str | None, frame: int, cls: str,
                 exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The per-track attribute values (of class ``cls``) that a cuboid of track ``track_id`` in
    ``frame`` takes: those of the track's nearest cuboid in another frame (the earlier on a
    tie), leaving out the uids in ``exclude`` (cuboids the same step removes). {} for no track,
    a class without per-track attributes or a track without other cuboids."""
    names = per_track_names(doc, cls)
    if track_id is None or not names:
        return {}
    skip = set(exclude)
    frames = [f for f in doc.track_frames(track_id) if f != frame and doc.find_track(track_id, f).uid not in skip]
    if not frames:
        return {}
    near = doc.find_track(track_id, min(frames, key=lambda f: (abs(f - frame), f)))
    return {n: value_of(doc, near, n) for n in names if is_per_track(doc, near.cls, n) or n in near.attributes}


def continued(doc: Document, label: CuboidLabel, frame: int, exclude: Iterable[str] = ()) -> CuboidLabel:
    """``label`` (a new cuboid of its track in ``frame``) with the track's per-track values."""
    values = track_values(doc, label.track_id, frame, label.label, exclude)
    if not values or all(label.attributes.get(k, object()) == v for k, v in values.items()):
        return label
    return label.with_(attributes={**label.attributes, **values})


def mixed_values(doc: Document, ann: Annotation) -> dict[str, Counter]:
    """For each per-track attribute of ``ann``'s class on which the cuboids of its track disagree
    (an older project, an import): a Counter of value -> number of cuboids. {} when they agree."""
    names = per_track_names(doc, ann.cls)
    if ann.track_id is None or not names:
        return {}
    boxes = [doc.find_track(ann.track_id, f) for f in doc.track_frames(ann.track_id)]
    boxes = [b for b in boxes if b.cls == ann.cls]
    out = {}
    for name in names:
        counts = Counter(_hashable(value_of(doc, b, name)) for b in boxes)
        if len(counts) > 1:
            out[name] = counts
    return out


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:                     # an import's list or mapping: counted by its JSON text
        return json.dumps(value, sort_keys=True)
    return value


def value_text(value: Any) -> str:
    """How a description says an attribute value: ``yes`` / ``no`` for booleans, ``unknown`` for
    null, else the value."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "unknown" if value is None else str(value)
