"""A drive's labels in a project: the class through the ontology, the source's own name kept.

A project holds the classes of its ontology (``car``, ``barrier`` …); a drive's labels carry the
names of their source (``Car``, ``vehicle.emergency.police``, ``Person_sitting``, ``Rider``).
:func:`project_label` turns one into the other:

* the class comes from :meth:`Ontology.resolve` (None when nothing matches; the caller skips it);
* when the source's name differs from the class, it is kept in the attributes ``source_class``,
  with ``imported_as`` the class it became. :func:`source_class` gives that name back for as long
  as the label still has that class, so an exporter writes an untouched label exactly as it
  would write the drive's own one (``vehicle.emergency.police`` stays a police car in nuScenes,
  KITTI tracking's ``Person`` stays ``Person``), and a retyped label by its new class;
* the states a source gives become the class's own attributes, where the class declares them:
  ``with_rider`` (KITTI's Cyclist, SUSTech's Rider / Motor, nuScenes' cycle.with_rider /
  without_rider), ``pose`` (KITTI's Person_sitting, nuScenes' pedestrian.moving / standing /
  sitting_lying_down), ``parked`` (nuScenes' vehicle.parked / moving / stopped), ``emergency``
  (nuScenes' vehicle.emergency.* categories yes, its other vehicle.* categories no) and ``occlusion``
  (KITTI's occluded 0-2, nuScenes' visibility levels; shown in the attribute panel; the KITTI
  exports write it only once an annotator changed it, :mod:`fusionlabel.io.kitti_occlusion`). A state the
  source does not give is stored as null, unknown: an import never invents a rider, a pose or a
  parked car (the class default would).
"""

from __future__ import annotations

from typing import Any

from .annotation import CuboidLabel
from .ontology import Ontology

SOURCE_CLASS = "source_class"
IMPORTED_AS = "imported_as"
STATES = ("with_rider", "pose", "parked", "occlusion", "emergency")

# Names (lower case) of a person riding a two-wheeler, the box holding both: KITTI, SUSTech.
RIDER_NAMES = frozenset({"cyclist", "rider", "scooterrider", "bicyclerider", "motorcylerider", "motorcyclerider",
                         "motorcyclist"})
# Names (lower case) of a two-wheeler with nobody on it: SUSTech's Motor and Scooter.
RIDERLESS_NAMES = frozenset({"motor", "scooter"})
# KITTI object's sitting person. (KITTI tracking's label files say "Person": its reader gives those
# labels pose: sitting, so that another source's "Person" stays a person of unknown pose.)
SITTING_NAMES = ("Person_sitting",)

# nuScenes attributes -> (attribute, value) of the project.
_NUSCENES_STATES = {
    "cycle.with_rider": ("with_rider", True), "cycle.without_rider": ("with_rider", False),
    "pedestrian.moving": ("pose", "walking"), "pedestrian.standing": ("pose", "standing"),
    "pedestrian.sitting_lying_down": ("pose", "sitting"),
    "vehicle.parked": ("parked", True), "vehicle.moving": ("parked", False), "vehicle.stopped": ("parked", False),
}


# KITTI's ``occluded`` (0 fully visible, 1 partly, 2 largely occluded; 3 unknown) and nuScenes'
# visibility token (1: 0-40 % of the object visible, 2: 40-60 %, 3: 60-80 %, 4: 80-100 %) -> occlusion.
_KITTI_OCCLUSION = {0: "none", 1: "partial", 2: "mostly"}
_NUSCENES_OCCLUSION = {"1": "mostly", "2": "partial", "3": "partial", "4": "none"}


def source_class(label: CuboidLabel) -> str:
    """The name an exporter maps: the source's own name (``source_class``) while the label still
    has the class it was imported as (``imported_as``), else the label's class."""
    a = label.attributes
    name = a.get(SOURCE_CLASS)
    if isinstance(name, str) and name and a.get(IMPORTED_AS) == label.label:
        return name
    return label.label


def source_states(name: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """The states (``with_rider``, ``pose``, ``parked``, ``occlusion``, ``emergency``) a source label
    gives by its name, its nuScenes attributes and visibility, or KITTI's ``occluded``; the ones it
    does not give are absent."""
    out: dict[str, Any] = {}
    given = attributes.get("nuscenes_attributes")
    for a in given if isinstance(given, list) else ():
        if a in _NUSCENES_STATES:
            key, value = _NUSCENES_STATES[a]
            out[key] = value
    low = name.lower()
    if low in RIDER_NAMES:
        out["with_rider"] = True
    elif low in RIDERLESS_NAMES:
        out["with_rider"] = False
    if low.startswith("vehicle."):       # the nuScenes categories name every emergency vehicle
        out["emergency"] = low.startswith("vehicle.emergency.")
    if name in SITTING_NAMES or low == "person_sitting":
        out["pose"] = "sitting"
    occluded, visibility = attributes.get("occluded"), attributes.get("visibility")
    if isinstance(occluded, int) and not isinstance(occluded, bool) and occluded in _KITTI_OCCLUSION:
        out["occlusion"] = _KITTI_OCCLUSION[occluded]
    elif isinstance(visibility, str) and visibility in _NUSCENES_OCCLUSION:
        out["occlusion"] = _NUSCENES_OCCLUSION[visibility]
    return out


def rider(label: CuboidLabel) -> bool | None:
    """Whether someone rides the two-wheeler: the label's ``with_rider`` (null: unknown), else what
    its source name and nuScenes attributes say (:func:`source_states`, the rule an import into a
    project follows); None if unknown."""
    a = label.attributes
    if "with_rider" in a:
        return a["with_rider"] if isinstance(a["with_rider"], bool) else None
    return source_states(source_class(label), a).get("with_rider")


def project_label(ontology: Ontology, label: CuboidLabel) -> CuboidLabel | None:
    """``label`` (a drive's) as a label of ``ontology``'s classes (see the module docstring), or
    None when its class resolves to none of them."""
    cls = ontology.resolve(label.label)
    if cls is None:
        return None
    name = source_class(label)            # a label exported from a project keeps its first source
    attributes = {k: v for k, v in label.attributes.items() if k not in (SOURCE_CLASS, IMPORTED_AS)}
    if name != cls:
        attributes[SOURCE_CLASS], attributes[IMPORTED_AS] = name, cls
    spec = ontology.get(cls)
    states = source_states(name, label.attributes)
    for key in STATES:
        if key in spec.attributes and key not in attributes:
            try:
                attributes[key] = spec.attributes[key].validate(states[key]) if key in states else None
            except ValueError:            # a custom ontology without that choice: unknown
                attributes[key] = None
    return label.with_(label=cls, attributes=attributes)
