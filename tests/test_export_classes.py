"""Source classes through a project: a drive imported into a project and exported again gives the
classes (and nuScenes attributes) it came with, read back with the format's reader or the devkit;
exports to other formats map them sensibly; states the project holds (pose, with_rider, parked)
win; nuScenes attributes come from a track's speed when the label does not say; an existing
project with misc labels exports as before."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import quiet, simulated_drive
from fusionlabel.export import export_drive
from fusionlabel.export.classes import (MOVING_SPEED, NO_RIDER, NOT_IN_KITTI, NUSCENES_CATEGORIES, RIDER_UNKNOWN,
                                        kitti_class, nuscenes_attributes, nuscenes_attributes_by_speed,
                                        nuscenes_category)
from fusionlabel.export.source import open_source
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.io.kitti import open_kitti_object, read_kitti_label_file
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model.commands import CreateCuboid, SetAttributes, SetClass
from fusionlabel.model.ontology import Ontology
from fusionlabel.model.source_class import IMPORTED_AS, SOURCE_CLASS, project_label, source_class
from fusionlabel.store.project import Project
from test_cli_render import CALIB, run_cli
from test_export_kitti import _tracking_folder

ONTOLOGY = Ontology.default()


def label(name: str, attributes: dict | None = None, **kw) -> CuboidLabel:
    return CuboidLabel(Cuboid((10.0, 2.0, 0.0), (4.0, 2.0, 1.5), 0.3), name, attributes=attributes or {}, **kw)


def export_project(folder: Path, fmt: str, out: Path, **options):
    """Export a project folder the way ``fusionlabel export PROJECT`` does."""
    with open_source(folder) as (drive, labels_for, _, _):
        return export_drive(drive, fmt, out, labels_for, quiet(**options))


# ---------------------------------------------------------------------------------------- mapping rules
def test_project_label_keeps_the_source_class_and_the_states_it_gives():
    police = project_label(ONTOLOGY, label("vehicle.emergency.police", {"nuscenes_attributes": ["vehicle.parked"]}))
    assert police.label == "car" and police.attributes[SOURCE_CLASS] == "vehicle.emergency.police"
    assert police.attributes[IMPORTED_AS] == "car" and police.attributes["parked"] is True
    assert source_class(police) == "vehicle.emergency.police"
    assert source_class(police.with_(label="truck")) == "truck"             # retyped: its new class counts
    # the source says nothing: unknown (null), not the class default (parked false, a rider, standing)
    bike = project_label(ONTOLOGY, label("vehicle.bicycle", {"nuscenes_attributes": []}))
    assert bike.label == "cyclist" and bike.attributes["with_rider"] is None
    assert project_label(ONTOLOGY, label("Car")).attributes["parked"] is None
    assert project_label(ONTOLOGY, label("Pedestrian")).attributes["pose"] is None
    # names that say it
    assert project_label(ONTOLOGY, label("Person_sitting")).attributes["pose"] == "sitting"
    assert project_label(ONTOLOGY, label("Person")).attributes["pose"] is None   # another source's person
    # KITTI tracking's "Person" is sitting: its reader says so with the pose
    assert project_label(ONTOLOGY, label("Person", {"pose": "sitting"})).attributes["pose"] == "sitting"
    assert project_label(ONTOLOGY, label("Cyclist")).attributes["with_rider"] is True
    assert project_label(ONTOLOGY, label("Motor")).attributes["with_rider"] is False
    assert project_label(ONTOLOGY, label("vehicle.motorcycle", {"nuscenes_attributes": ["cycle.with_rider"]})) \
        .attributes["with_rider"] is True
    assert project_label(ONTOLOGY, label("human.pedestrian.child", {"nuscenes_attributes": ["pedestrian.moving"]})) \
        .attributes["pose"] == "walking"
    # a label of the project's own class needs no source_class; states it has are kept
    own = project_label(ONTOLOGY, label("car", {"parked": True}))
    assert SOURCE_CLASS not in own.attributes and own.attributes["parked"] is True
    assert project_label(ONTOLOGY, label("DontCare")) is None
    # a label exported from a project and imported again keeps its first source
    again = project_label(ONTOLOGY, label("car", {SOURCE_CLASS: "vehicle.emergency.police", IMPORTED_AS: "car"}))
    assert source_class(again) == "vehicle.emergency.police"
    stale = project_label(ONTOLOGY, label("truck", {SOURCE_CLASS: "vehicle.emergency.police", IMPORTED_AS: "car"}))
    assert SOURCE_CLASS not in stale.attributes and stale.label == "truck"


def test_project_label_with_an_ontology_lacking_the_choice_stores_unknown():
    text = ONTOLOGY.to_yaml().replace("choices: [standing, walking, sitting, lying]", "choices: [up, down]")
    onto = Ontology.from_yaml(text.replace("default: standing", "default: up"))
    assert project_label(onto, label("Person_sitting")).attributes["pose"] is None


@pytest.mark.parametrize("name, attributes, tracking, want", [
    ("Person_sitting", {}, False, ("Person_sitting", "")),
    ("Person_sitting", {}, True, ("Person", "")),
    ("Person", {}, False, ("Pedestrian", "")),                         # a person, pose unknown
    ("Person", {"pose": "sitting"}, True, ("Person", "")),              # KITTI tracking's, as its reader gives it
    ("pedestrian", {"pose": "lying"}, False, ("Person_sitting", "")),
    ("pedestrian", {"pose": "walking", SOURCE_CLASS: "Person_sitting", IMPORTED_AS: "pedestrian"}, False,
     ("Pedestrian", "")),                                              # stood up in the project
    ("pedestrian", {"pose": None}, False, ("Pedestrian", "")),
    ("cyclist", {"with_rider": True}, False, ("Cyclist", "")),
    ("cyclist", {"with_rider": False}, False, (None, NO_RIDER)),
    ("cyclist", {"with_rider": None}, False, (None, RIDER_UNKNOWN)),
    ("cyclist", {}, False, ("Cyclist", "")),                           # the class says it: a person riding
    ("motorcycle", {"with_rider": True}, False, ("Cyclist", "")),
    ("vehicle.bicycle", {"nuscenes_attributes": []}, False, (None, RIDER_UNKNOWN)),
    ("vehicle.bicycle", {"nuscenes_attributes": ["cycle.with_rider"]}, False, ("Cyclist", "")),
    ("Rider", {}, False, ("Cyclist", "")),
    ("ScooterRider", {}, False, ("Cyclist", "")),
    ("Motor", {}, False, (None, NO_RIDER)),
    ("tram", {}, False, ("Tram", "")),
    ("misc", {}, False, ("Misc", "")),
    ("barrier", {}, False, (None, NOT_IN_KITTI)),
    ("traffic_cone", {}, False, (None, NOT_IN_KITTI)),
    ("misc", {SOURCE_CLASS: "movable_object.debris", IMPORTED_AS: "misc"}, False, (None, NOT_IN_KITTI)),
    ("misc", {SOURCE_CLASS: "animal", IMPORTED_AS: "misc"}, False, (None, NOT_IN_KITTI)),
    ("misc", {SOURCE_CLASS: "human.pedestrian.wheelchair", IMPORTED_AS: "misc"}, False, ("Misc", "")),
    ("truck", {SOURCE_CLASS: "vehicle.construction", IMPORTED_AS: "truck"}, False, ("Misc", "")),
    ("van", {SOURCE_CLASS: "vehicle.emergency.ambulance", IMPORTED_AS: "van"}, False, ("Van", "")),
    ("bus", {}, False, (None, "")),                                    # no KITTI type: written unchanged
])
def test_kitti_class(name, attributes, tracking, want):
    assert kitti_class(label(name, attributes), tracking) == want


@pytest.mark.parametrize("name, attributes, speed, want", [
    ("car", {"parked": True}, 5.0, ["vehicle.parked"]),               # the label says: speed does not count
    ("car", {"parked": False}, 5.0, ["vehicle.moving"]),
    ("car", {"parked": False}, 0.1, ["vehicle.stopped"]),
    ("car", {"parked": False}, None, []),
    ("car", {"parked": None}, 0.1, ["vehicle.parked"]),               # stationary, parked unknown
    ("car", {}, MOVING_SPEED + 0.01, ["vehicle.moving"]),
    ("car", {"moving": False}, None, ["vehicle.parked"]),             # the older moving flag
    ("car", {"parked": False, "nuscenes_attributes": ["vehicle.stopped"]}, 9.0, ["vehicle.stopped"]),
    ("car", {"parked": True, "nuscenes_attributes": ["vehicle.moving"]}, None, ["vehicle.parked"]),  # edited
    ("pedestrian", {"pose": None}, 1.4, ["pedestrian.moving"]),
    ("pedestrian", {"pose": None}, 0.0, ["pedestrian.standing"]),
    ("pedestrian", {"pose": "sitting"}, 1.4, ["pedestrian.sitting_lying_down"]),
    ("pedestrian", {"pose": "walking", "nuscenes_attributes": ["pedestrian.moving"]}, 0.0, ["pedestrian.moving"]),
    ("cyclist", {"with_rider": None}, 3.0, ["cycle.with_rider"]),     # a moving bicycle has a rider
    ("cyclist", {"with_rider": None}, 0.0, []),
    ("cyclist", {"with_rider": False}, 3.0, ["cycle.without_rider"]),
    ("barrier", {}, 3.0, []),
])
def test_nuscenes_attributes(name, attributes, speed, want):
    lab = label(name, attributes)
    assert nuscenes_attributes(lab, nuscenes_category(lab), speed) == want
    # The speed decided it exactly when the attribute is one it would not be without a speed.
    names, by_speed = nuscenes_attributes_by_speed(lab, nuscenes_category(lab), speed)
    assert names == want
    assert by_speed == (bool(want) and want != nuscenes_attributes(lab, nuscenes_category(lab)))


# ---------------------------------------------------------------------------------------- KITTI object
KITTI_LINES = (
    "Car 0.00 0 -1.58 587.01 173.33 614.12 200.12 1.65 1.67 3.64 -0.65 1.71 46.70 -1.59\n"
    "Van 0.00 1 -1.60 630.00 170.00 700.00 210.00 2.10 1.90 5.00 1.50 1.80 30.00 -1.55\n"
    "Truck 0.00 0 1.52 400.00 160.00 470.00 210.00 3.40 2.60 9.00 -8.00 1.90 45.00 1.35\n"
    "Tram 0.00 0 -1.65 100.00 120.00 300.00 220.00 3.50 2.60 16.00 -12.00 1.70 35.00 -1.97\n"
    "Pedestrian 0.00 0 0.20 700.00 140.00 730.00 240.00 1.75 0.60 0.80 2.00 1.70 8.00 0.44\n"
    "Person_sitting 0.00 0 -1.10 760.00 170.00 790.00 220.00 1.20 0.60 0.70 4.00 1.70 12.00 -0.78\n"
    "Cyclist 0.00 1 1.70 500.00 170.00 530.00 230.00 1.70 0.60 1.80 -3.00 1.70 14.00 1.49\n"
    "Misc 0.00 0 -1.40 800.00 180.00 840.00 210.00 1.50 1.50 2.50 7.00 1.70 25.00 -1.13\n"
    "DontCare -1 -1 -10 900.50 150.25 950.75 180.40 -1 -1 -1 -1000 -1000 -1000 -10\n")


def kitti_folder(root: Path) -> Path:
    """A one-frame KITTI object folder whose label file holds every KITTI type."""
    for d in ("velodyne", "image_2", "calib", "label_2"):
        (root / d).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    np.c_[rng.uniform(5, 40, (3000, 1)), rng.uniform(-10, 10, (3000, 1)), rng.uniform(-1.7, 1, (3000, 2))] \
        .astype(np.float32).tofile(root / "velodyne" / "000000.bin")
    cv2.imwrite(str(root / "image_2" / "000000.png"), np.full((360, 1200, 3), 90, np.uint8))
    (root / "calib" / "000000.txt").write_text(CALIB)
    (root / "label_2" / "000000.txt").write_text(KITTI_LINES)
    return root


def test_every_kitti_type_survives_a_project(tmp_path):
    """KITTI -> project -> KITTI is byte-identical (Tram and Person_sitting included); the project
    holds tram, a sitting pedestrian and misc; nuScenes gets sensible categories and attributes."""
    src = kitti_folder(tmp_path / "kitti")
    with Project.create(tmp_path / "proj", src, import_labels=True) as p:
        assert p.warnings == []
        anns = p.document.annotations(0)
        assert [a.cls for a in anns] == ["car", "van", "truck", "tram", "pedestrian", "pedestrian", "cyclist", "misc"]
        assert [a.attributes.get("pose") for a in anns if a.cls == "pedestrian"] == [None, "sitting"]
        assert anns[6].attributes["with_rider"] is True and anns[0].attributes["parked"] is None
    export_project(tmp_path / "proj", "kitti", tmp_path / "out", sensor_data=False)
    assert (tmp_path / "out" / "label_2" / "000000.txt").read_text() == KITTI_LINES

    s = export_project(tmp_path / "proj", "nuscenes", tmp_path / "nusc", sensor_data=False)
    assert s.objects == Counter({"vehicle.car": 2, "vehicle.truck": 1, "vehicle.bus.rigid": 1,
                                 "human.pedestrian.adult": 2, "vehicle.bicycle": 1})
    assert s.skipped == Counter({("no nuScenes category for it (use --class-map)", "misc"): 1})
    from nuscenes.nuscenes import NuScenes

    nusc = NuScenes("v1.0-mini", str(tmp_path / "nusc"), verbose=False)
    attrs = sorted(tuple(nusc.get("attribute", t)["name"] for t in a["attribute_tokens"])
                   for a in nusc.sample_annotation)
    # no track, no speed: only what the labels say (a rider, a sitting person)
    assert attrs == [(), (), (), (), (), ("cycle.with_rider",), ("pedestrian.sitting_lying_down",)]


def test_project_states_and_retypes_change_the_kitti_type(tmp_path):
    src = kitti_folder(tmp_path / "kitti")
    with Project.create(tmp_path / "proj", src, import_labels=True) as p:
        anns = {a.label.attributes[SOURCE_CLASS]: a for a in p.document.annotations(0)}
        doc = p.document
        doc.apply(SetAttributes(anns["Pedestrian"].uid, {"pose": "sitting"}))
        doc.apply(SetAttributes(anns["Person_sitting"].uid, {"pose": "walking"}))
        doc.apply(SetAttributes(anns["Cyclist"].uid, {"with_rider": False}))
        doc.apply(SetClass(anns["Tram"].uid, "bus"))
        doc.apply(SetClass(anns["Misc"].uid, "barrier"))
    s = export_project(tmp_path / "proj", "kitti", tmp_path / "out", sensor_data=False)
    types = [d.type for d in read_kitti_label_file(tmp_path / "out" / "label_2" / "000000.txt")]
    assert types == ["Car", "Van", "Truck", "Bus", "Person_sitting", "Pedestrian", "DontCare"]
    assert s.skipped == Counter({(NO_RIDER, "cyclist"): 1, (NOT_IN_KITTI, "barrier"): 1})
    assert any("written unchanged: Bus (1)" in n for n in s.cannot_hold)


# ---------------------------------------------------------------------------------------- nuScenes
# (category, nuScenes attributes) of the synthetic scene: every category, with and without attributes
NUSCENES_LABELS = [
    ("vehicle.car", ["vehicle.moving"]), ("vehicle.truck", ["vehicle.parked"]),
    ("vehicle.bus.bendy", ["vehicle.stopped"]), ("vehicle.bus.rigid", []),
    ("vehicle.construction", ["vehicle.parked"]), ("vehicle.emergency.ambulance", ["vehicle.moving"]),
    ("vehicle.emergency.police", []), ("vehicle.trailer", ["vehicle.parked"]),
    ("vehicle.bicycle", ["cycle.with_rider"]), ("vehicle.bicycle", ["cycle.without_rider"]), ("vehicle.bicycle", []),
    ("vehicle.motorcycle", []), ("vehicle.motorcycle", ["cycle.with_rider"]),
    ("human.pedestrian.adult", ["pedestrian.moving"]), ("human.pedestrian.child", ["pedestrian.standing"]),
    ("human.pedestrian.construction_worker", ["pedestrian.sitting_lying_down"]),
    ("human.pedestrian.police_officer", []), ("human.pedestrian.personal_mobility", []),
    ("human.pedestrian.stroller", []), ("human.pedestrian.wheelchair", []),
    ("movable_object.barrier", []), ("movable_object.trafficcone", []), ("movable_object.debris", []),
    ("movable_object.pushable_pullable", []), ("static_object.bicycle_rack", []), ("animal", []),
]
# what the project makes of them (class, state)
PROJECT_CLASSES = ["car", "truck", "bus", "bus", "truck", "van", "car", "truck", "cyclist", "cyclist", "cyclist",
                   "motorcycle", "motorcycle", "pedestrian", "pedestrian", "pedestrian", "pedestrian", "misc", "misc",
                   "misc", "barrier", "traffic_cone", "misc", "misc", "misc", "misc"]
# and KITTI: the type, or None when KITTI leaves it out
KITTI_TYPES_OF = ["Car", "Truck", "Bus", "Bus", "Misc", "Van", "Car", "Misc", "Cyclist",
                  None, None, None, "Cyclist", "Pedestrian", "Pedestrian", "Person_sitting", "Pedestrian", "Misc",
                  "Misc", "Misc", None, None, None, None, None, None]


@pytest.fixture(scope="module")
def nuscenes_scene(tmp_path_factory):
    """A one-sample nuScenes dataroot (the simulated drive's first frame, written by the exporter)
    whose annotations are NUSCENES_LABELS, on a grid in front of the car."""
    drive = simulated_drive(tmp_path_factory)
    labels = [CuboidLabel(Cuboid((8.0 + 4.0 * (k % 6), -9.0 + 3.5 * (k // 6), -1.0), (2.0, 1.0, 1.5), 0.1 * k),
                          cat, f"{k:032x}", None, "import", {"nuscenes_attributes": attrs})
              for k, (cat, attrs) in enumerate(NUSCENES_LABELS)]
    root = tmp_path_factory.mktemp("nusc") / "scene"
    export_drive(drive, "nuscenes", root, lambda i: labels if i == 0 else [], quiet(frames=[0]))
    return root


def annotations_by_token(root: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    """token -> (category, attribute names), as nuscenes-devkit reads them."""
    from nuscenes.nuscenes import NuScenes

    nusc = NuScenes("v1.0-mini", str(root), verbose=False)
    return {a["token"]: (a["category_name"], tuple(nusc.get("attribute", t)["name"] for t in a["attribute_tokens"]))
            for a in nusc.sample_annotation}


def test_every_nuscenes_category_and_attribute_survives_a_project(nuscenes_scene, tmp_path):
    pytest.importorskip("nuscenes")
    with Project.create(tmp_path / "proj", nuscenes_scene, import_labels=True) as p:
        assert p.warnings == []                             # every category has a class
        anns = sorted(p.document.annotations(0), key=lambda a: int(a.track_id))   # short ids in instance token order
        assert [a.cls for a in anns] == PROJECT_CLASSES
        riders = [a.attributes["with_rider"] for a in anns if a.cls in ("cyclist", "motorcycle")]
        assert riders == [True, False, None, None, True]    # from cycle.with_rider / without_rider, else unknown
        assert [a.attributes["pose"] for a in anns if a.cls == "pedestrian"] == ["walking", "standing", "sitting", None]
    export_project(tmp_path / "proj", "nuscenes", tmp_path / "out", sensor_data=False)
    theirs, ours = annotations_by_token(nuscenes_scene), annotations_by_token(tmp_path / "out")
    assert ours == theirs and len(ours) == len(NUSCENES_LABELS)
    assert sorted(theirs.values()) == sorted((c, tuple(a)) for c, a in NUSCENES_LABELS)


def test_nuscenes_project_exports_to_kitti_like_the_drive(nuscenes_scene, tmp_path):
    """Cross-format: the project's KITTI export equals the nuScenes drive's own, line for line, and
    leaves out what KITTI does not label, saying why."""
    Project.create(tmp_path / "proj", nuscenes_scene, import_labels=True).close()
    s = export_project(tmp_path / "proj", "kitti", tmp_path / "p", sensor_data=False)
    with open_source(nuscenes_scene) as (drive, labels_for, _, _):
        d = export_drive(drive, "kitti", tmp_path / "d", labels_for, quiet(sensor_data=False))
    ours = (tmp_path / "p" / "label_2" / "000000.txt").read_text()
    assert ours == (tmp_path / "d" / "label_2" / "000000.txt").read_text()
    assert s.objects == d.objects and sum(s.skipped.values()) == sum(d.skipped.values())
    assert sorted(d.type for d in read_kitti_label_file(tmp_path / "p" / "label_2" / "000000.txt")) == \
        sorted(t for t in KITTI_TYPES_OF if t)
    reasons = Counter(r for (r, _), n in s.skipped.items() for _ in range(n))
    assert reasons == {NOT_IN_KITTI: 6, NO_RIDER: 1, RIDER_UNKNOWN: 2}


def test_nuscenes_project_to_openlabel_and_coco_writes_the_project_classes(nuscenes_scene, tmp_path):
    import json

    Project.create(tmp_path / "proj", nuscenes_scene, import_labels=True).close()
    export_project(tmp_path / "proj", "openlabel", tmp_path / "ol")
    doc = json.loads((tmp_path / "ol" / "openlabel.json").read_text())["openlabel"]
    assert Counter(o["type"] for o in doc["objects"].values()) == Counter(PROJECT_CLASSES)
    cuboids = [o["object_data"]["cuboid"][0] for f in doc["frames"].values() for o in f["objects"].values()]
    sources = {t["val"] for c in cuboids for t in c["attributes"]["text"] if t["name"] == SOURCE_CLASS}
    assert sources == {c for c, _ in NUSCENES_LABELS}       # the source's names ride along
    export_project(tmp_path / "proj", "coco", tmp_path / "coco", sensor_data=False)
    names = {c["name"] for f in (tmp_path / "coco" / "annotations").glob("*.json")
             for c in json.loads(f.read_text())["categories"]}
    assert {"barrier", "traffic_cone"} <= names <= set(PROJECT_CLASSES)


def test_every_nuscenes_category_has_a_default_class():
    assert all(ONTOLOGY.resolve(c) for c in NUSCENES_CATEGORIES)


# ---------------------------------------------------------------------------------------- speed
def test_attributes_follow_the_track_speed_devkit_computes(small_sim_drive, tmp_path):
    """Labels that do not say get their nuScenes attribute from the speed nuscenes-devkit's
    box_velocity gives for the exported annotation (moving above 0.2 m/s)."""
    pytest.importorskip("nuscenes")
    from nuscenes.nuscenes import NuScenes

    drive = small_sim_drive
    bare = lambda i: [lab.with_(attributes={}) for lab in drive.labels(i)]  # noqa: E731
    s = export_drive(drive, "nuscenes", tmp_path / "bare", bare, quiet(sensor_data=False))
    not_parked = lambda i: [lab.with_(attributes={"parked": False}) for lab in drive.labels(i)]  # noqa: E731
    export_drive(drive, "nuscenes", tmp_path / "np", not_parked, quiet(sensor_data=False))
    assert any("derived from its track's speed" in n for n in s.cannot_hold)
    seen, from_speed = Counter(), Counter()
    for folder, slow_vehicle in (("bare", "vehicle.parked"), ("np", "vehicle.stopped")):
        nusc = NuScenes("v1.0-mini", str(tmp_path / folder), verbose=False)
        for ann in nusc.sample_annotation:
            speed = float(np.hypot(*nusc.box_velocity(ann["token"])[:2]))
            names = [nusc.get("attribute", t)["name"] for t in ann["attribute_tokens"]]
            cat, moving = ann["category_name"], speed > MOVING_SPEED
            if cat == "vehicle.bicycle":                    # the class says a person rides it
                want = ["cycle.with_rider"]
            elif np.isnan(speed):                           # a track seen once: no speed, nothing said
                want = []
            elif cat.startswith("vehicle."):
                want = ["vehicle.moving" if moving else slow_vehicle]
            else:
                want = ["pedestrian.moving" if moving else "pedestrian.standing"]
            assert names == want, (cat, speed, names)
            seen[(cat.split(".")[0], None if np.isnan(speed) else moving)] += 1
            from_speed[folder] += bool(names) and cat != "vehicle.bicycle" and not np.isnan(speed)
    derived = next(n for n in s.cannot_hold if "derived from its track's speed" in n)
    assert derived.startswith(f"the attribute of {from_speed['bare']} object(s) was derived") and from_speed["bare"]
    assert seen[("vehicle", True)] and seen[("vehicle", False)] and seen[("human", True)]


# ---------------------------------------------------------------------------------------- older projects
def old_ontology(path: Path) -> Path:
    """The built-in ontology before barrier, traffic_cone and tram were classes (misc took them)."""
    import yaml

    data = yaml.safe_load(ONTOLOGY.to_yaml())
    for cls in ("tram", "barrier", "traffic_cone"):
        del data["classes"][cls]
    data["classes"]["misc"]["aliases"] = ["Misc", "Tram", "movable_object.trafficcone", "movable_object.barrier"]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_a_project_with_misc_labels_opens_and_exports_as_before(tmp_path, small_sim_drive):
    """A project made before barrier, cone and tram were classes: its misc labels (no source_class,
    as the import wrote them then) export as Misc to KITTI and are skipped by nuScenes, as before."""
    folder = tmp_path / "old"
    with Project.create(folder, small_sim_drive.root, ontology_path=old_ontology(tmp_path / "old.yaml")) as p:
        barrier = {"nuscenes_token": "a" * 32, "nuscenes_attributes": [], "visibility": "4",
                   "occlusion": "none", "note": ""}
        p.document.apply(CreateCuboid(0, CuboidLabel(Cuboid((9.0, 3.0, -1.0), (2.5, 0.5, 1.0), 0.0), "misc",
                                                     None, None, "import", barrier)))
        p.document.apply(CreateCuboid(0, CuboidLabel(Cuboid((15.0, -3.0, -1.0), (4.0, 1.8, 1.5), 0.0), "car")))
    with Project.open(folder) as p:
        assert p.warnings == [] and "barrier" not in p.ontology and len(p.ontology) == 8
        assert sorted(a.cls for a in p.document.annotations(0)) == ["car", "misc"]
    out = run_cli("export", str(folder), "--format", "kitti", "--out", str(tmp_path / "k"), "--labels-only",
                  "--quiet", "--camera", "cam_front")
    assert out.returncode == 0, out.stderr
    types = sorted(d.type for d in read_kitti_label_file(tmp_path / "k" / "label_2" / "000000.txt"))
    assert types == ["Car", "Misc"]
    s = export_project(folder, "nuscenes", tmp_path / "n", sensor_data=False, frames=[0])
    assert s.objects == Counter({"vehicle.car": 1})
    assert s.skipped == Counter({("no nuScenes category for it (use --class-map)", "misc"): 1})


# ---------------------------------------------------------------------------------------- real data
def test_real_nuscenes_keyframe_through_a_project(nusc_root, tmp_path):
    """The real keyframe: barriers and cones are classes of their own, every box is imported (the
    construction vehicle and the pushable object too) and exported back with its category; the
    detection loader reads the same 68 boxes."""
    pytest.importorskip("nuscenes")
    from nuscenes.eval.common.loaders import load_gt
    from nuscenes.eval.detection.data_classes import DetectionBox
    from nuscenes.nuscenes import NuScenes

    with Project.create(tmp_path / "proj", nusc_root, import_labels=True) as p:
        assert p.warnings == []
        counts = Counter(a.cls for a in p.document.annotations(0))
        assert counts["barrier"] == 22 and counts["traffic_cone"] == 3 and sum(counts.values()) == 69
        assert counts["misc"] == 1 and counts["truck"] == 3          # pushable_pullable; trucks + construction
        bike = next(a for a in p.document.annotations(0) if a.cls == "cyclist")
        assert bike.attributes["with_rider"] is None                  # its attributes say nothing
    export_project(tmp_path / "proj", "nuscenes", tmp_path / "out", sensor_data=False)
    assert annotations_by_token(tmp_path / "out") == annotations_by_token(nusc_root)
    a = load_gt(NuScenes("v1.0-mini", str(nusc_root), verbose=False), "mini_train", DetectionBox, verbose=False)
    b = load_gt(NuScenes("v1.0-mini", str(tmp_path / "out"), verbose=False), "mini_train", DetectionBox,
                verbose=False)
    key = lambda box: (box.detection_name, tuple(np.round(box.translation, 6)))  # noqa: E731
    assert sorted(map(key, b.all)) == sorted(map(key, a.all)) and len(a.all) == 68
    s = export_project(tmp_path / "proj", "kitti", tmp_path / "k", sensor_data=False, camera="CAM_FRONT")
    assert s.skipped[(NOT_IN_KITTI, "barrier")] == 22 and s.skipped[(NOT_IN_KITTI, "traffic_cone")] == 3
    assert s.skipped[(RIDER_UNKNOWN, "cyclist")] == 1 and s.objects["Misc"] == 1     # the construction vehicle


@pytest.mark.parametrize("seq, first, kinds", [("0013", 51, {"Person"}), ("0010", 193, {"Tram"}),
                                               ("0010", 132, {"Misc"})])
def test_real_tracking_person_tram_and_misc_survive_a_project(realdata, tmp_path, seq, first, kinds):
    """Real KITTI tracking labels with Person (its sitting person), Tram and Misc: imported into a
    project and exported to KITTI tracking, every line comes back; KITTI object calls Person
    Person_sitting."""
    if not (realdata / "kitti_tracking" / "label_02" / f"{seq}.txt").is_file():
        pytest.skip("KITTI tracking labels not found")
    raw = _tracking_folder(realdata, tmp_path / "src", seq, 4, first)
    assert kinds <= {line.split()[2] for line in raw}
    with Project.create(tmp_path / "proj", tmp_path / "src", import_labels=True) as p:
        assert p.warnings == []
        classes = Counter(a.cls for a in p.document.all_annotations())
        assert classes["misc"] == sum(" Misc " in r for r in raw) and classes["tram"] == sum(" Tram " in r for r in raw)
    export_project(tmp_path / "proj", "kitti-tracking", tmp_path / "trk", sequence=seq, sensor_data=False)
    assert sorted((tmp_path / "trk" / "label_02" / f"{seq}.txt").read_text().splitlines()) == sorted(raw)
    export_project(tmp_path / "proj", "kitti", tmp_path / "obj", sensor_data=False)
    types = Counter(d.type for p in (tmp_path / "obj" / "label_2").glob("*.txt") for d in read_kitti_label_file(p))
    assert types["Person_sitting"] == sum(" Person " in r for r in raw) and "Person" not in types


def test_real_sustech_project_exports_like_the_drive(realdata, tmp_path):
    """SUSTech -> project -> KITTI / nuScenes writes what the SUSTech drive itself exports: riders
    as Cyclist / vehicle.bicycle, the parked Motor left out of KITTI (nobody rides it)."""
    root = realdata / "sustech_sequence"
    if not (root / "label").is_dir():
        pytest.skip(f"SUSTech sample not found at {root}")
    Project.create(tmp_path / "proj", root, import_labels=True).close()
    for fmt in ("kitti-tracking", "nuscenes"):
        s = export_project(tmp_path / "proj", fmt, tmp_path / f"p-{fmt}", sensor_data=False)
        with open_source(root) as (drive, labels_for, _, _):
            d = export_drive(drive, fmt, tmp_path / f"d-{fmt}", labels_for, quiet(sensor_data=False))
        assert s.objects == d.objects, fmt
        assert sum(s.skipped.values()) == sum(d.skipped.values()), fmt
    assert s.objects["vehicle.bicycle"] == 14 and s.objects["vehicle.motorcycle"] == 4
    trk = (tmp_path / "p-kitti-tracking" / "label_02" / "0000.txt").read_text()
    assert trk == (tmp_path / "d-kitti-tracking" / "label_02" / "0000.txt").read_text()
    assert trk.count(" Cyclist ") == 14 and " Motor" not in trk


def test_no_attributes_from_speed_on_a_drive_without_ego_poses(realdata, tmp_path):
    """SUSTech's example has no ego poses: every box moves with the ego (a parked truck at 5 m/s),
    so no attribute comes from a track's speed; the summary says why."""
    import json

    from fusionlabel.io.drives import open_drive

    drive = open_drive(realdata / "sustech_sequence")
    s = export_drive(drive, "nuscenes", tmp_path / "out", options=quiet(sensor_data=False))
    assert any("no ego poses" in n for n in s.cannot_hold)
    assert not any("derived from its track's speed" in n for n in s.cannot_hold)
    names = {a["token"]: a["name"] for a in json.loads((tmp_path / "out" / "v1.0-mini" / "attribute.json").read_text())}
    given = Counter(names[t] for a in json.loads((tmp_path / "out" / "v1.0-mini" / "sample_annotation.json").read_text())
                    for t in a["attribute_tokens"])
    assert set(given) == {"cycle.with_rider", "cycle.without_rider"}   # what the names say (Rider, Motor)


def test_a_class_kitti_has_no_type_for_is_written_in_one_spelling(tmp_path):
    """A bus called Bus, bus or vehicle.bus.rigid by its sources is written as Bus each time and
    listed once; a name no class knows stays as it is."""
    src = kitti_folder(tmp_path / "kitti")
    truck = KITTI_LINES.splitlines()[2].split(" ", 1)[1]
    (src / "label_2" / "000000.txt").write_text(
        "".join(f"{name} {truck}\n" for name in ("Bus", "bus", "vehicle.bus.rigid", "Hovercraft")))
    summary = export_drive(open_kitti_object(src), "kitti", tmp_path / "out", options=quiet(sensor_data=False))
    lines = (tmp_path / "out" / "label_2" / "000000.txt").read_text().splitlines()
    assert [line.split()[0] for line in lines] == ["Bus", "Bus", "Bus", "Hovercraft"]
    assert any("written unchanged: Bus (3), Hovercraft (1)" in n for n in summary.cannot_hold)


@pytest.mark.parametrize("name, attributes", [
    ("Cyclist", {}), ("Rider", {}), ("Rider", {"nuscenes_attributes": ["cycle.without_rider"]}), ("Motor", {}), ("Scooter", {}), ("vehicle.bicycle", {}),
    ("vehicle.bicycle", {"nuscenes_attributes": ["cycle.with_rider"]}),
    ("vehicle.motorcycle", {"nuscenes_attributes": ["cycle.without_rider"]}),
    ("Person_sitting", {}), ("Person", {}), ("Pedestrian", {}),
    ("human.pedestrian.adult", {"nuscenes_attributes": ["pedestrian.sitting_lying_down"]}),
    ("human.pedestrian.adult", {"nuscenes_attributes": ["pedestrian.moving"]}),
])
def test_a_drive_label_exports_the_states_an_import_would_give_it(name, attributes):
    """Exporting a drive's label directly and exporting it after an import into a project give the
    same KITTI class and nuScenes attribute: both read the states by one rule."""
    raw = label(name, attributes)
    imported = project_label(ONTOLOGY, raw)
    assert imported is not None
    assert kitti_class(raw) == kitti_class(imported)
    category = nuscenes_category(raw)
    if category is not None:
        assert nuscenes_attributes(raw, category) == nuscenes_attributes(imported, category)


def test_an_ego_standing_still_with_poses_still_gives_attributes(realdata, tmp_path):
    """Poses that are real but all the same (the ego waits at a light) are not "no poses": the boxes'
    own motion then tells moving from parked, and attributes come from it."""
    from fusionlabel.io.drives import open_drive

    drive = open_drive(realdata / "sustech_sequence")
    parked_ego = np.eye(4)
    parked_ego[:3, 3] = (412.0, 1163.5, 0.3)
    for f in drive.frames:
        f.T_world_vehicle = parked_ego
    s = export_drive(drive, "nuscenes", tmp_path / "out", options=quiet(sensor_data=False))
    assert not any("no ego poses" in n for n in s.cannot_hold)
    assert any("derived from its track's speed" in n for n in s.cannot_hold)


def test_the_source_occlusion_becomes_the_occlusion_attribute():
    """KITTI's occluded 0-2 and nuScenes' visibility levels become the ontology's occlusion; KITTI's
    3 (unknown) and sources that say nothing leave it unknown (null), not the default "none"."""
    got = [project_label(ONTOLOGY, label("Car", {"occluded": k})).attributes["occlusion"] for k in (0, 1, 2, 3)]
    assert got == ["none", "partial", "mostly", None]
    got = [project_label(ONTOLOGY, label("vehicle.car", {"visibility": v})).attributes["occlusion"]
           for v in ("1", "2", "3", "4", "")]
    assert got == ["mostly", "partial", "partial", "none", None]
    assert project_label(ONTOLOGY, label("Car", {"occlusion": "full"})).attributes["occlusion"] == "full"


def test_no_attribute_because_the_source_carried_none_is_said_so(small_sim_drive, tmp_path):
    """Boxes whose nuScenes source listed no attribute (an empty list, as the real keyframe's
    placeholders) are counted apart: the note says the source carried none, not that fusionlabel
    could not tell; boxes with nothing to go by keep the other note. One frame: no track speed."""
    drive = small_sim_drive
    cars = [lab for lab in drive.labels(0) if lab.label == "car"]
    people = [lab for lab in drive.labels(0) if lab.label == "pedestrian"]
    assert cars and people

    def labels_for(i):
        return [*(lab.with_(attributes={"nuscenes_attributes": []}) for lab in cars),
                *(lab.with_(attributes={}) for lab in people)] if i == 0 else []

    s = export_drive(drive, "nuscenes", tmp_path / "out", labels_for, quiet(sensor_data=False, frames=[0]))
    assert (f"{len(cars)} vehicle(s), two-wheeler(s) or pedestrian(s) are written without an attribute, as in the "
            "source: its nuScenes annotations carry none") in "\n".join(s.cannot_hold)
    assert any(n.startswith(f"{len(people)} vehicle(s), two-wheeler(s) or pedestrian(s) have no attribute: neither")
               for n in s.cannot_hold)


def test_real_nuscenes_keyframe_attributes_are_said_to_be_missing_in_the_source(nusc_root, tmp_path):
    """The real keyframe's attribute lists are empty placeholders: an export says the source carried
    none for exactly the vehicles, two-wheelers and pedestrians among its annotations (counted from
    the source JSON), and the attribute_tokens stay empty."""
    import json

    from fusionlabel.io.drives import open_drive

    source = json.loads((nusc_root / "v1.0-mini" / "sample_annotation.json").read_text())
    instances = {r["token"]: r["category_token"] for r in
                 json.loads((nusc_root / "v1.0-mini" / "instance.json").read_text())}
    categories = {r["token"]: r["name"] for r in json.loads((nusc_root / "v1.0-mini" / "category.json").read_text())}
    names = [categories[instances[a["instance_token"]]] for a in source if not a["attribute_tokens"]]
    expected = sum(n.startswith("vehicle.") or n.startswith("human.pedestrian.") for n in names)
    assert expected and len(names) == len(source)
    s = export_drive(open_drive(nusc_root), "nuscenes", tmp_path / "out", options=quiet(sensor_data=False))
    assert any(n.startswith(f"{expected} vehicle(s), two-wheeler(s) or pedestrian(s) are written without an "
                            "attribute, as in the source") for n in s.cannot_hold)
    assert not any("neither the label nor" in n for n in s.cannot_hold)
    written = json.loads((tmp_path / "out" / "v1.0-mini" / "sample_annotation.json").read_text())
    assert len(written) == len(source) and not any(a["attribute_tokens"] for a in written)
