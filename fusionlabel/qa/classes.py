"""One vocabulary for evaluation: dataset class names -> car, truck, pedestrian, cyclist.

Names from KITTI, nuScenes, SUSTech and the simulator map to a canonical class (lower case);
unknown names map to themselves in lower case. ``NEIGHBOURS`` lists ground-truth classes that a
prediction of a class may hit without being a false positive (KITTI treats a Car on a Van, or a
Pedestrian on a Person_sitting, this way).

A cyclist is a person riding a two-wheeler, as KITTI defines it. SUSTech's labels tell riders
(``Rider``, ``ScooterRider``, ``BicycleRider``, ``MotorcyleRider``) from two-wheelers with nobody
on them (``Motor``, ``Scooter``, ``Bicycle``): those are ``two_wheeler``, not a target class, and a
cyclist box on one is neither right nor wrong. nuScenes' ``bicycle`` and ``motorcycle`` boxes hold
the rider when there is one and their attributes are not always there, so they count as cyclists
unless their attributes say nobody rides (``cycle.without_rider``; a project's ``with_rider: false``).
nuScenes' detection classes (the names of a detection-results file, ``NUSCENES_DETECTION``) map
the same way as its categories; ``NUSCENES_CATEGORY_DETECTION`` is the devkit's own category ->
detection class table, used to read a category name given where a detection class belongs.

A person whose ``pose`` attribute is ``sitting`` or ``lying`` (KITTI's Person_sitting, KITTI tracking's
``Person``, nuScenes' sitting_lying_down) is ``person_sitting``, whatever the class is called: KITTI
does not count a sitting person as a pedestrian to detect, and a pedestrian box on one is neither
right nor wrong (see :func:`eval_class`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model.source_class import rider

if TYPE_CHECKING:
    from ..model.annotation import CuboidLabel

CANONICAL = {
    "car": "car", "vehicle.car": "car", "vehicle.emergency.police": "car",
    "van": "van",
    "truck": "truck", "vehicle.truck": "truck", "bus": "truck", "vehicle.bus.rigid": "truck",
    "vehicle.bus.bendy": "truck", "vehicle.construction": "truck", "tram": "truck", "trailer": "truck",
    "vehicle.trailer": "truck", "vehicle.emergency.ambulance": "truck",
    "pedestrian": "pedestrian", "person": "pedestrian", "human.pedestrian.adult": "pedestrian",
    "human.pedestrian.child": "pedestrian", "human.pedestrian.construction_worker": "pedestrian",
    "human.pedestrian.police_officer": "pedestrian", "person_sitting": "person_sitting",
    "cyclist": "cyclist", "rider": "cyclist", "vehicle.bicycle": "cyclist", "bicycle": "cyclist",
    "vehicle.motorcycle": "cyclist", "motorcycle": "cyclist",
    "scooterrider": "cyclist", "bicyclerider": "cyclist", "motorcyclerider": "cyclist", "motorcylerider": "cyclist",
    "motor": "two_wheeler", "scooter": "two_wheeler",
}

# nuScenes detection classes -> canonical class (barrier and traffic_cone are kept but not scored)
NUSCENES_DETECTION = {
    "car": "car", "truck": "truck", "bus": "truck", "trailer": "truck", "construction_vehicle": "truck",
    "pedestrian": "pedestrian", "motorcycle": "cyclist", "bicycle": "cyclist",
    "traffic_cone": "traffic_cone", "barrier": "barrier",
}
# nuScenes categories that have a detection class (as the devkit's category_to_detection_name)
NUSCENES_CATEGORY_DETECTION = {
    "movable_object.barrier": "barrier", "vehicle.bicycle": "bicycle", "vehicle.bus.bendy": "bus",
    "vehicle.bus.rigid": "bus", "vehicle.car": "car", "vehicle.construction": "construction_vehicle",
    "vehicle.motorcycle": "motorcycle", "human.pedestrian.adult": "pedestrian",
    "human.pedestrian.child": "pedestrian", "human.pedestrian.construction_worker": "pedestrian",
    "human.pedestrian.police_officer": "pedestrian", "movable_object.trafficcone": "traffic_cone",
    "vehicle.trailer": "trailer", "vehicle.truck": "truck",
}
for _category, _name in NUSCENES_CATEGORY_DETECTION.items():
    CANONICAL.setdefault(_category, NUSCENES_DETECTION[_name])
for _name, _cls in NUSCENES_DETECTION.items():
    CANONICAL.setdefault(_name, _cls)

NEIGHBOURS = {"car": ("van",), "truck": ("van",), "pedestrian": ("person_sitting",), "cyclist": ("two_wheeler",)}

TARGET_CLASSES = ("car", "pedestrian", "cyclist")


def eval_class(label: "CuboidLabel") -> str:
    """Canonical evaluation class of a label, reading its states too: a sitting or lying
    pedestrian is ``person_sitting`` (a neighbour of pedestrian, not a target), as KITTI export
    writes it, and a two-wheeler known to carry nobody (``with_rider: false``, SUSTech's Motor
    imported into a project, nuScenes' cycle.without_rider) is ``two_wheeler``."""
    cls = canonical(label.label)
    if cls == "pedestrian" and label.attributes.get("pose") in ("sitting", "lying"):
        return "person_sitting"
    if cls == "cyclist" and rider(label) is False:
        return "two_wheeler"
    return cls


def nuscenes_detection_name(name: str) -> str | None:
    """The nuScenes detection class of ``name``: a detection class itself, or a category that has
    one (``vehicle.car`` -> ``car``); None for any other name."""
    if name in NUSCENES_DETECTION:
        return name
    return NUSCENES_CATEGORY_DETECTION.get(name)


def canonical(label: str) -> str:
    """Canonical evaluation class of a dataset label."""
    key = label.strip().lower()
    if key in CANONICAL:
        return CANONICAL[key]
    if key.startswith("human.pedestrian"):
        return "pedestrian"
    return key
