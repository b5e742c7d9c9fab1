"""One vocabulary for evaluation: dataset class names -> car, truck, pedestrian, cyclist.

Names from KITTI, nuScenes, SUSTech and the simulator map to a canonical class (lower case);
unknown names map to themselves in lower case. ``NEIGHBOURS`` lists ground-truth classes that a
prediction of a class may hit without being a false positive (KITTI treats a Car on a Van, or a
Pedestrian on a Person_sitting, this way).
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
    "vehicle.motorcycle": "cyclist", "motor": "cyclist", "motorcycle": "cyclist", "scooter": "cyclist",
}

NEIGHBOURS = {"car": ("van",), "truck": ("van",), "pedestrian": ("person_sitting",)}

TARGET_CLASSES = ("car", "pedestrian", "cyclist")


def canonical(label: str) -> str:
    """Canonical evaluation class of a dataset label."""
    key = label.strip().lower()
    if key in CANONICAL:
        return CANONICAL[key]
    if key.startswith("human.pedestrian"):
        return "pedestrian"
    return key
