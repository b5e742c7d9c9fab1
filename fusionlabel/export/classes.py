"""Default class names per target format (overridable with ``--class-map``).

Source names are matched case-insensitively; nuScenes category names, KITTI types and the common
lower-case names (car, van, truck, bus, pedestrian, cyclist, …; SUSTech's Rider, Motor …) are known.
"""

from __future__ import annotations

from ..model.annotation import CuboidLabel

KITTI_TYPES = ("Car", "Van", "Truck", "Pedestrian", "Person_sitting", "Cyclist", "Tram", "Misc", "DontCare")

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

_TO_KITTI = {
    "car": "Car", "van": "Van", "truck": "Truck", "pedestrian": "Pedestrian", "person": "Pedestrian",
    "person_sitting": "Person_sitting", "cyclist": "Cyclist", "rider": "Cyclist", "tram": "Tram", "misc": "Misc",
    "dontcare": "DontCare",
    "vehicle.car": "Car", "vehicle.emergency.police": "Car", "vehicle.emergency.ambulance": "Van",
    "vehicle.truck": "Truck", "human.pedestrian.adult": "Pedestrian", "human.pedestrian.child": "Pedestrian",
    "human.pedestrian.construction_worker": "Pedestrian", "human.pedestrian.police_officer": "Pedestrian",
    "vehicle.trailer": "Misc", "vehicle.construction": "Misc",
}

_TO_NUSCENES = {
    "car": "vehicle.car", "van": "vehicle.car", "truck": "vehicle.truck", "bus": "vehicle.bus.rigid",
    "pedestrian": "human.pedestrian.adult", "person": "human.pedestrian.adult",
    "person_sitting": "human.pedestrian.adult", "cyclist": "vehicle.bicycle", "rider": "vehicle.bicycle",
    "bicycle": "vehicle.bicycle", "motorcycle": "vehicle.motorcycle", "motor": "vehicle.motorcycle",
    "motorcyclist": "vehicle.motorcycle", "trailer": "vehicle.trailer", "barrier": "movable_object.barrier",
    "traffic_cone": "movable_object.trafficcone", "trafficcone": "movable_object.trafficcone",
    "cone": "movable_object.trafficcone", "animal": "animal",
}


def kitti_type(label: CuboidLabel) -> str | None:
    """KITTI type for a label: KITTI names unchanged, known names mapped, others None.

    nuScenes bicycles and motorcycles become Cyclist when their attributes say they have a rider.
    """
    if label.label in KITTI_TYPES:
        return label.label
    if label.label in ("vehicle.bicycle", "vehicle.motorcycle"):
        attrs = label.attributes.get("nuscenes_attributes")
        return "Cyclist" if isinstance(attrs, list) and "cycle.with_rider" in attrs else None
    return _TO_KITTI.get(label.label.lower())


def nuscenes_category(label: CuboidLabel) -> str | None:
    """nuScenes category for a label: nuScenes names unchanged, known names mapped, others None."""
    if label.label in NUSCENES_CATEGORIES:
        return label.label
    return _TO_NUSCENES.get(label.label.lower())


def nuscenes_attributes(label: CuboidLabel, category: str) -> list[str]:
    """nuScenes attribute names: those the label carries, else derived from its class and a
    ``moving`` flag (vehicles moving/parked, riders, sitting pedestrians)."""
    given = label.attributes.get("nuscenes_attributes")
    if isinstance(given, list):
        return [a for a in given if a in NUSCENES_ATTRIBUTES]
    src = label.label.lower()
    moving = label.attributes.get("moving")
    if category in ("vehicle.bicycle", "vehicle.motorcycle"):
        return ["cycle.with_rider"] if src in ("cyclist", "rider", "motorcyclist") else []
    if category.startswith("vehicle.") and isinstance(moving, bool):
        return ["vehicle.moving" if moving else "vehicle.parked"]
    if category.startswith("human.pedestrian"):
        if src == "person_sitting":
            return ["pedestrian.sitting_lying_down"]
        if isinstance(moving, bool):
            return ["pedestrian.moving" if moving else "pedestrian.standing"]
    return []
