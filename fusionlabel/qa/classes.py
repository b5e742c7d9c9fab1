"""One vocabulary for evaluation: dataset class names -> car, truck, pedestrian, cyclist.

Names from KITTI, nuScenes, SUSTech and the simulator map to a canonical class (lower case);
unknown names map to themselves in lower case. ``NEIGHBOURS`` lists ground-truth classes that a
prediction of a class may hit without being a false positive (KITTI treats a Car on a Van, or a
Pedestrian on a Person_sitting, this way).

A cyclist is a person riding a two-wheeler, as KITTI defines it. SUSTech's labels tell riders
(``Rider``, ``ScooterRider``, ``BicycleRider``, ``MotorcyleRider``) from two-wheelers with nobody
on them (``Motor``, ``Scooter``, ``Bicycle``): those are ``two_wheeler``, not a target class, and a
cyclist box on one is neither right nor wrong. nuScenes' ``bicycle`` and ``motorcycle`` boxes hold
the rider when there is one and their attributes are not always there, so they count as cyclists.
"""

from __future__ import annotations

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

NEIGHBOURS = {"car": ("van",), "truck": ("van",), "pedestrian": ("person_sitting",), "cyclist": ("two_wheeler",)}

TARGET_CLASSES = ("car", "pedestrian", "cyclist")


def canonical(label: str) -> str:
    """Canonical evaluation class of a dataset label."""
    key = label.strip().lower()
    if key in CANONICAL:
        return CANONICAL[key]
    if key.startswith("human.pedestrian"):
        return "pedestrian"
    return key
