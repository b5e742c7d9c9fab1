"""Class names and attributes per target format (overridable with ``--class-map``).

A label is mapped by :func:`~fusionlabel.model.source_class.source_class`: the source's own name
(``vehicle.emergency.police``, ``Person_sitting``, ``Rider``) for a label imported into a project
that still has the class it was imported as, else its class. So a project exports an untouched
imported label exactly as the drive's own label would be exported, and a retyped one by its new
class. Names are matched case-insensitively; nuScenes categories, KITTI types, the built-in
ontology's classes and SUSTech's names are known.

The states a project holds win over what a name implies: a pedestrian whose ``pose`` is sitting
or lying is KITTI's Person_sitting, a two-wheeler is KITTI's Cyclist only with a rider on it
(``with_rider``; a riderless or unknown one is left out, as KITTI labels no parked bicycles).
"""

from __future__ import annotations

from functools import lru_cache

from ..model.annotation import CuboidLabel
from ..model.source_class import RIDER_NAMES, RIDERLESS_NAMES, SITTING_NAMES, rider, source_class, source_states

KITTI_TYPES = ("Car", "Van", "Truck", "Pedestrian", "Person_sitting", "Cyclist", "Tram", "Misc", "DontCare")
KITTI_TRACKING_SITTING = "Person"     # KITTI tracking's label files name a sitting person "Person"

NUSCENES_CATEGORIES = (
    "animal", "human.pedestrian.adult", "human.pedestrian.child", "human.pedestrian.construction_worker",
    "human.pedestrian.personal_mobility", "human.pedestrian.police_officer", "human.pedestrian.stroller",
    "human.pedestrian.wheelchair", "movable_object.barrier", "movable_object.debris",
    "movable_object.pushable_pullable", "movable_object.trafficcone", "static_object.bicycle_rack",
    "vehicle.bicycle", "vehicle.bus.bendy", "vehicle.bus.rigid", "vehicle.car", "vehicle.construction",
    "vehicle.emergency.ambulance", "vehicle.emergency.police", "vehicle.motorcycle", "vehicle.trailer",
    "vehicle.truck")

NUSCENES_ATTRIBUTES = ("vehicle.moving", "vehicle.stopped", "vehicle.parked", "cycle.with_rider",
                       "cycle.without_rider", "pedestrian.sitting_lying_down", "pedestrian.standing",
                       "pedestrian.moving")

# Speed (m/s, in the ground plane) above which an object counts as moving when its attributes are
# derived from its track: mmdetection3d's threshold for turning velocities into nuScenes attributes.
MOVING_SPEED = 0.2

_TO_KITTI = {
    "car": "Car", "van": "Van", "truck": "Truck", "pedestrian": "Pedestrian", "person": "Pedestrian",
    "person_sitting": "Person_sitting", "tram": "Tram", "misc": "Misc", "dontcare": "DontCare",
    "vehicle.car": "Car", "vehicle.emergency.police": "Car", "vehicle.emergency.ambulance": "Van",
    "vehicle.truck": "Truck", "human.pedestrian.adult": "Pedestrian", "human.pedestrian.child": "Pedestrian",
    "human.pedestrian.construction_worker": "Pedestrian", "human.pedestrian.police_officer": "Pedestrian",
    # KITTI's Misc holds the other road users (its paper names trailers and Segways)
    "vehicle.trailer": "Misc", "vehicle.construction": "Misc", "trailer": "Misc",
    "human.pedestrian.personal_mobility": "Misc", "human.pedestrian.stroller": "Misc",
    "human.pedestrian.wheelchair": "Misc",
}
# A two-wheeler whose KITTI class depends on who is on it (lower case; rider names: RIDER_NAMES).
_TWO_WHEELERS = frozenset({"vehicle.bicycle", "vehicle.motorcycle", "bicycle", "motorcycle"}) | RIDERLESS_NAMES
# What KITTI does not label at all: it labels road users, not barriers, cones, animals or objects.
_NOT_IN_KITTI = frozenset({"barrier", "traffic_cone", "trafficcone", "cone", "animal"})
_NOT_IN_KITTI_PREFIXES = ("movable_object.", "static_object.")
NOT_IN_KITTI = ("KITTI labels road users only, no barriers, traffic cones, animals or static objects "
                "(--class-map can name a type for it)")
NO_RIDER = "a two-wheeler without a rider: KITTI's Cyclist is a person riding, parked bicycles are not labelled"
RIDER_UNKNOWN = "a two-wheeler whose rider is unknown: set with_rider (KITTI's Cyclist is a person riding)"

_TO_NUSCENES = {
    "car": "vehicle.car", "van": "vehicle.car", "truck": "vehicle.truck", "bus": "vehicle.bus.rigid",
    "tram": "vehicle.bus.rigid", "pedestrian": "human.pedestrian.adult", "person": "human.pedestrian.adult",
    "person_sitting": "human.pedestrian.adult", "cyclist": "vehicle.bicycle", "rider": "vehicle.bicycle",
    "bicycle": "vehicle.bicycle", "bicyclerider": "vehicle.bicycle", "motorcycle": "vehicle.motorcycle",
    "motor": "vehicle.motorcycle", "motorcyclist": "vehicle.motorcycle", "scooter": "vehicle.motorcycle",
    "scooterrider": "vehicle.motorcycle", "motorcyclerider": "vehicle.motorcycle",
    "motorcylerider": "vehicle.motorcycle", "trailer": "vehicle.trailer", "barrier": "movable_object.barrier",
    "traffic_cone": "movable_object.trafficcone", "trafficcone": "movable_object.trafficcone",
    "cone": "movable_object.trafficcone", "animal": "animal",
}


# ------------------------------------------------------------------------------------ states
def pedestrian_pose(label: CuboidLabel) -> str | None:
    """standing / walking / sitting / lying: the label's ``pose`` (null: unknown), else what its
    source name and nuScenes attributes say (:func:`~fusionlabel.model.source_class.source_states`:
    sitting for KITTI's Person_sitting and tracking's Person); None if unknown."""
    a = label.attributes
    if "pose" in a:
        return a["pose"] if a["pose"] in ("standing", "walking", "sitting", "lying") else None
    return source_states(source_class(label), a).get("pose")


# ------------------------------------------------------------------------------------ KITTI
def kitti_class(label: CuboidLabel, tracking: bool = False) -> tuple[str | None, str]:
    """(KITTI type, "") for a label; (None, why) for one KITTI leaves out; (None, "") for a name
    KITTI has no type for (the exporter writes it unchanged and lists it). ``tracking``: KITTI
    tracking's name for a sitting person, ``Person``."""
    name = source_class(label)
    low = name.lower()
    if low in RIDER_NAMES or low in _TWO_WHEELERS:
        has_rider = rider(label)
        if has_rider:
            return "Cyclist", ""
        return None, (NO_RIDER if has_rider is False else RIDER_UNKNOWN)
    if low in _NOT_IN_KITTI or low.startswith(_NOT_IN_KITTI_PREFIXES):
        return None, NOT_IN_KITTI
    kind = name if name in KITTI_TYPES else _TO_KITTI.get(low)
    if kind in ("Pedestrian", "Person_sitting") or name in SITTING_NAMES:
        pose = pedestrian_pose(label)
        if pose is not None:
            kind = "Person_sitting" if pose in ("sitting", "lying") else "Pedestrian"
        if kind == "Person_sitting" and tracking:
            kind = KITTI_TRACKING_SITTING
    return kind, ""


def kitti_style_name(name: str) -> str:
    """One spelling for a class KITTI has no type for, whatever the source called it: a name of
    the built-in ontology's classes or aliases becomes that class capitalised as KITTI writes its
    types (``bus``, ``Bus``, ``vehicle.bus.rigid`` -> ``Bus``); other names stay (spaces as ``_``)."""
    cls = _builtin_ontology().resolve(name)
    return cls.capitalize() if cls else name.replace(" ", "_")


@lru_cache(maxsize=1)
def _builtin_ontology():
    from ..model.ontology import Ontology

    return Ontology.default()


def kitti_type(label: CuboidLabel, tracking: bool = False) -> str | None:
    """KITTI type for a label, None when it is left out or has none (see :func:`kitti_class`)."""
    return kitti_class(label, tracking)[0]


# ------------------------------------------------------------------------------------ nuScenes
# The built-in ontology's classes whose emergency vehicles nuScenes names: its aliases make
# vehicle.emergency.police a car and vehicle.emergency.ambulance a van, so the way back is the same.
# A truck (a fire engine) has no nuScenes emergency category: nuScenes counts it a vehicle.truck.
_EMERGENCY_CATEGORIES = {"car": "vehicle.emergency.police", "van": "vehicle.emergency.ambulance"}


def nuscenes_category(label: CuboidLabel) -> str | None:
    """nuScenes category for a label: nuScenes names unchanged, known names mapped, others None;
    a car or van is an emergency vehicle (police car, ambulance) or not as its ``emergency``
    attribute says when that is set (:func:`emergency_category`)."""
    name = source_class(label)
    category = name if name in NUSCENES_CATEGORIES else _TO_NUSCENES.get(name.lower())
    return emergency_category(label, category)


def emergency_category(label: CuboidLabel, category: str | None) -> str | None:
    """``category`` as the label's ``emergency`` attribute (per track in the built-in ontology) has
    it: yes makes a car (the built-in ontology's class, by name or alias) ``vehicle.emergency.police``
    and a van ``vehicle.emergency.ambulance``; no makes an emergency category ``vehicle.car``;
    unknown (null) or absent keeps ``category``, as for every other class."""
    flag = label.attributes.get("emergency")
    if not isinstance(flag, bool) or category not in ("vehicle.car", *_EMERGENCY_CATEGORIES.values()):
        return category
    if not flag:
        return "vehicle.car"
    return _EMERGENCY_CATEGORIES.get(_builtin_ontology().resolve(label.label), category)


_VEHICLE = ("vehicle.moving", "vehicle.stopped", "vehicle.parked")
_CYCLE = ("cycle.with_rider", "cycle.without_rider")
_PEDESTRIAN = ("pedestrian.moving", "pedestrian.standing", "pedestrian.sitting_lying_down")
_POSE = {"walking": "pedestrian.moving", "standing": "pedestrian.standing",
         "sitting": "pedestrian.sitting_lying_down", "lying": "pedestrian.sitting_lying_down"}


def attribute_group(category: str) -> tuple[str, ...]:
    """The nuScenes attributes a category takes (one of them per annotation); () for none."""
    if category in ("vehicle.bicycle", "vehicle.motorcycle"):
        return _CYCLE
    if category.startswith("vehicle."):
        return _VEHICLE
    if category in ("human.pedestrian.adult", "human.pedestrian.child", "human.pedestrian.construction_worker",
                    "human.pedestrian.police_officer"):
        return _PEDESTRIAN
    return ()


def nuscenes_attributes(label: CuboidLabel, category: str, speed: float | None = None) -> list[str]:
    """The nuScenes attribute of a label (a list of at most one name), in this order:

    1. the nuScenes attribute it was imported with, unless the project's attribute (``parked``,
       ``with_rider``, ``pose``) now says otherwise;
    2. what the project's attribute says when that names one attribute (parked, with or without
       rider, a pose);
    3. from its motion (``speed`` in m/s from its track, or a ``moving`` flag): above
       :data:`MOVING_SPEED` a vehicle is moving, a two-wheeler has a rider and a pedestrian is
       moving; below it a vehicle is stopped when the label says it is not parked, else parked,
       and a pedestrian standing; a slow two-wheeler's rider stays unknown;
    4. none.
    """
    return nuscenes_attributes_by_speed(label, category, speed)[0]


def nuscenes_attributes_by_speed(label: CuboidLabel, category: str,
                                 speed: float | None = None) -> tuple[list[str], bool]:
    """(:func:`nuscenes_attributes`, True when ``speed`` decided the attribute: neither the label's
    attributes nor a ``moving`` flag did)."""
    group = attribute_group(category)
    if not group:
        return [], False
    a = label.attributes
    if group is _VEHICLE:
        parked = a.get("parked") if isinstance(a.get("parked"), bool) else None
        allowed = _VEHICLE if parked is None else (("vehicle.parked",) if parked else _VEHICLE[:2])
    elif group is _CYCLE:
        has_rider = rider(label)
        allowed = _CYCLE if has_rider is None else (_CYCLE[0] if has_rider else _CYCLE[1],)
    else:
        pose = pedestrian_pose(label)
        allowed = _PEDESTRIAN if pose is None else (_POSE[pose],)
    given = a.get("nuscenes_attributes")
    for name in given if isinstance(given, list) else ():
        if name in allowed:
            return [name], False
    if len(allowed) == 1:
        return list(allowed), False
    flagged = isinstance(a.get("moving"), bool)
    moving = a["moving"] if flagged else (None if speed is None else speed > MOVING_SPEED)
    if moving is None:
        return [], False
    if group is _VEHICLE:
        names = ["vehicle.moving" if moving else ("vehicle.stopped" if parked is False else "vehicle.parked")]
    elif group is _CYCLE:
        names = ["cycle.with_rider"] if moving else []
    else:
        names = ["pedestrian.moving" if moving else "pedestrian.standing"]
    return names, bool(names) and not flagged
