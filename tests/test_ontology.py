"""Ontology: the built-in classes, YAML round trips, and errors that name the file and the key."""

from __future__ import annotations

import textwrap

import pytest

from fusionlabel.errors import InputError
from fusionlabel.io.kitti import read_kitti_label_file
from fusionlabel.model.ontology import DEFAULT_PATH, AttributeSpec, Ontology, OntologyError

GOOD = """\
format: fusionlabel-ontology/1
default_class: truck
attributes:
  occlusion: {type: enum, choices: [none, partial, full]}
classes:
  car:
    key: "1"
    color: "#ff8000"
    default_size: [4.5, 1.9, 1.6]
    aliases: [Car]
    attributes:
      parked: {type: bool, default: true}
      doors: {type: int, default: 4}
  truck:
    key: 2
    color: [10, 20, 30]
    default_size: [9, 2.5, 3]
    attributes:
      load: {type: float, default: 0.5}
      occlusion: {type: enum, choices: [a, b], default: b}
"""


def write(tmp_path, text, name="ontology.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_default_ontology_classes_and_keys():
    o = Ontology.default()
    assert o.names == ["car", "van", "truck", "bus", "tram", "pedestrian", "cyclist", "motorcycle", "misc",
                       "barrier", "traffic_cone"]
    # the first eight keep the keys they always had; barrier and cone take 9 and 0; tram has none
    assert {c.name: c.key for c in o if c.key} == {
        "car": "1", "van": "2", "truck": "3", "bus": "4", "pedestrian": "5", "cyclist": "6", "motorcycle": "7",
        "misc": "8", "barrier": "9", "traffic_cone": "0"}
    assert o.get("tram").key is None
    assert o.default_class == "car"
    assert len({c.color for c in o}) == len(o), "every class needs its own colour"
    for c in o:
        assert all(0 <= v <= 255 for v in c.color)
        assert all(s > 0 for s in c.default_size)
    # sizes are sensible: a bus is longer than a car, a pedestrian taller than wide
    assert o.get("bus").default_size[0] > o.get("truck").default_size[0] > o.get("car").default_size[0]
    ped = o.get("pedestrian").default_size
    assert ped[2] > 1.5 > ped[1]
    assert o.get("cyclist").attributes["with_rider"].default is True
    assert o.get("car").attributes["occlusion"].choices[0] == "none"


def test_load_reads_every_field(tmp_path):
    o = Ontology.load(write(tmp_path, GOOD))
    assert o.names == ["car", "truck"] and o.default_class == "truck"
    car, truck = o.get("car"), o.get("truck")
    assert car.color == (255, 128, 0) and truck.color == (10, 20, 30)
    assert car.default_size == (4.5, 1.9, 1.6)
    assert car.key == "1" and truck.key == "2"          # an unquoted digit becomes a one-character key
    assert car.aliases == ("Car",)
    # shared attributes are merged in; a class's own spec wins
    assert set(car.attributes) == {"occlusion", "parked", "doors"}
    assert car.attributes["occlusion"] == AttributeSpec("occlusion", "enum", "none", ("none", "partial", "full"))
    assert truck.attributes["occlusion"].choices == ("a", "b") and truck.attributes["occlusion"].default == "b"
    assert car.default_attributes() == {"occlusion": "none", "parked": True, "doors": 4}
    assert truck.attributes["load"].default == 0.5


def test_yaml_round_trip(tmp_path):
    for o in (Ontology.default(), Ontology.load(write(tmp_path, GOOD))):
        again = Ontology.from_yaml(o.to_yaml())
        assert again == o
        o.save(tmp_path / "saved.yaml")
        assert Ontology.load(tmp_path / "saved.yaml") == o


def test_queries():
    o = Ontology.default()
    assert o.class_for_key("5") == "pedestrian" and o.class_for_key("9") == "barrier"
    assert o.class_for_key("0") == "traffic_cone" and o.class_for_key("x") is None
    assert o.resolve("car") == "car" and o.resolve("Car") == "car" and o.resolve("CAR") == "car"
    assert o.resolve("vehicle.bus.bendy") == "bus" and o.resolve("Person_sitting") == "pedestrian"
    assert o.resolve("DontCare") is None
    assert o.color("car") == o.get("car").color and o.color("alien") == (200, 200, 200)
    with pytest.raises(KeyError, match="unknown class 'alien'.*car, van"):
        o.get("alien")
    assert "car" in o and "alien" not in o and len(o) == 11


def test_foreign_attributes_are_the_other_classes_own():
    """What a retype drops: names another class declares and the new class does not; names every
    class shares (a class's own occlusion included) and names no class declares stay."""
    o = Ontology.from_yaml(GOOD)
    names = ["parked", "doors", "occlusion", "load", "num_lidar_points", "interpolated"]
    assert o.foreign_attributes("truck", names) == ["parked", "doors"]
    assert o.foreign_attributes("car", names) == ["load"]
    d = Ontology.default()
    assert d.foreign_attributes("pedestrian", {"parked": True, "with_rider": None, "note": ""}) == \
        ["parked", "with_rider"]
    assert d.foreign_attributes("motorcycle", ["with_rider", "pose", "source_class"]) == ["pose"]
    with pytest.raises(KeyError, match="unknown class 'alien'"):
        d.foreign_attributes("alien", [])


def test_every_real_kitti_class_resolves(kitti_object):
    o = Ontology.default()
    types = {line.type for p in sorted((kitti_object / "label_2").glob("*.txt")) for line in read_kitti_label_file(p)}
    assert {"Car", "Pedestrian", "Cyclist"} <= types
    unresolved = {t for t in types if o.resolve(t) is None}
    assert unresolved == {"DontCare"} & types


@pytest.mark.parametrize("kind, value, ok", [
    ("bool", True, True), ("bool", 1, False), ("int", 3, True), ("int", 3.0, True), ("int", 3.5, False),
    ("int", True, False), ("float", 2, True), ("float", float("nan"), False), ("float", "1", False),
    ("text", "x", True), ("text", 5, False), ("enum", "b", True), ("enum", "z", False)])
def test_attribute_validation(kind, value, ok):
    spec = AttributeSpec("a", kind, None, ("a", "b") if kind == "enum" else None)
    if ok:
        out = spec.validate(value)
        assert out == value and (kind != "float" or isinstance(out, float))
    else:
        with pytest.raises(ValueError, match="attribute 'a' expects"):
            spec.validate(value)


BROKEN = [
    # (description, yaml text, expected 'where' in the message, expected words)
    ("missing colour", "classes:\n  car: {default_size: [1, 1, 1]}\n", "classes.car.color", "missing"),
    ("misspelt key", "classes:\n  car: {colour: [1, 2, 3], default_size: [1, 1, 1]}\n", "classes.car.colour",
     "unknown key"),
    ("negative size", "classes:\n  car: {color: [1, 2, 3], default_size: [4, -1, 1]}\n", "classes.car.default_size",
     "three positive numbers"),
    ("two numbers", "classes:\n  car: {color: [1, 2, 3], default_size: [4, 1]}\n", "classes.car.default_size",
     "[length, width, height]"),
    ("colour out of range", "classes:\n  car: {color: [1, 2, 300], default_size: [1, 1, 1]}\n",
     "classes.car.color", "0-255"),
    ("bad hex colour", "classes:\n  car: {color: '#12345g', default_size: [1, 1, 1]}\n", "classes.car.color",
     "#rrggbb"),
    ("long key", "classes:\n  car: {key: ab, color: [1, 2, 3], default_size: [1, 1, 1]}\n", "classes.car.key",
     "single character"),
    ("duplicate key", "classes:\n  car: {key: '1', color: [1, 2, 3], default_size: [1, 1, 1]}\n"
     "  van: {key: '1', color: [1, 2, 3], default_size: [1, 1, 1]}\n", "classes.van.key",
     "already the key of class 'car'"),
    ("enum without choices", "classes:\n  car:\n    color: [1, 2, 3]\n    default_size: [1, 1, 1]\n"
     "    attributes: {occ: {type: enum}}\n", "classes.car.attributes.occ.choices", "list of distinct choices"),
    ("enum default not a choice", "classes:\n  car:\n    color: [1, 2, 3]\n    default_size: [1, 1, 1]\n"
     "    attributes: {occ: {type: enum, choices: [a, b], default: c}}\n", "classes.car.attributes.occ.default",
     "one of ['a', 'b']"),
    ("unknown attribute type", "classes:\n  car:\n    color: [1, 2, 3]\n    default_size: [1, 1, 1]\n"
     "    attributes: {occ: {type: colourful}}\n", "classes.car.attributes.occ.type", "bool, enum, int, float, text"),
    ("bool default wrong", "attributes: {parked: {type: bool, default: maybe}}\n"
     "classes:\n  car: {color: [1, 2, 3], default_size: [1, 1, 1]}\n", "attributes.parked.default", "true or false"),
    ("choices on a bool", "classes:\n  car:\n    color: [1, 2, 3]\n    default_size: [1, 1, 1]\n"
     "    attributes: {p: {type: bool, choices: [a]}}\n", "classes.car.attributes.p.choices", "only enum"),
    ("alias names another class", "classes:\n  car: {color: [1, 2, 3], default_size: [1, 1, 1]}\n"
     "  van: {color: [1, 2, 3], default_size: [1, 1, 1], aliases: [Car]}\n", "classes.van.aliases", "class 'car'"),
    ("unknown default class", "default_class: boat\nclasses:\n  car: {color: [1, 2, 3], default_size: [1, 1, 1]}\n",
     "default_class", "got 'boat'"),
    ("wrong format", "format: other/2\nclasses:\n  car: {color: [1, 2, 3], default_size: [1, 1, 1]}\n", "format",
     "fusionlabel-ontology/1"),
    ("no classes", "format: fusionlabel-ontology/1\n", "classes", "mapping of class names"),
    ("empty file", "", "classes", "empty"),
    ("class is a list", "classes:\n  car: [1, 2]\n", "classes.car", "expected a mapping"),
    ("unknown top-level key", "classs:\n  car: {}\n", "classs", "unknown key"),
    ("duplicate class", "classes:\n  car: {color: [1, 2, 3], default_size: [1, 1, 1]}\n"
     "  car: {color: [1, 2, 3], default_size: [1, 1, 1]}\n", "line 3", "appears twice"),
    ("not YAML", "classes:\n  car: {color: [1, 2, 3]\n  van: x\n", "line 3, column 3", "invalid YAML"),
]


@pytest.mark.parametrize("name, text, where, words", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_ontology_names_file_and_key(tmp_path, name, text, where, words):
    path = write(tmp_path, text, "broken.yaml")
    with pytest.raises(OntologyError) as info:
        Ontology.load(path)
    err = info.value
    assert isinstance(err, InputError)
    message = str(err)
    assert str(path) in message, message
    assert where in message, message
    assert words in message, message
    assert "\n" not in message


def test_missing_file(tmp_path):
    with pytest.raises(OntologyError, match="nope.yaml: file not found"):
        Ontology.load(tmp_path / "nope.yaml")


def test_default_file_is_the_default():
    assert Ontology.load(DEFAULT_PATH) == Ontology.default()


def test_default_ontology_maps_the_sustech_two_wheeler_names():
    o = Ontology.default()
    for name in ("Rider", "ScooterRider", "BicycleRider", "MotorcyleRider", "MotorcycleRider", "rider"):
        assert o.resolve(name) == "cyclist", name
    for name in ("Motor", "Scooter", "motor"):
        assert o.resolve(name) == "motorcycle", name
    assert o.resolve("Bicycle") is None and o.resolve("DontCare") is None
    assert Ontology.from_yaml(o.to_yaml()) == o                   # the aliases survive a round trip


def test_yaml_syntax_errors_name_line_and_column(tmp_path):
    # the same one-line form as every other YAML file fusionlabel reads: FILE: line L, column C: invalid YAML: ...
    path = write(tmp_path, "classes:\n  car: x: y\n", "broken.yaml")
    with pytest.raises(OntologyError) as e:
        Ontology.load(path)
    assert str(e.value) == f"{path}: line 2, column 9: invalid YAML: mapping values are not allowed here"
    path = write(tmp_path, "classes:\n  car: {color: [1, 2, 3], default_size: [1, 1, 1]}\n"
                           "  van: {color: [1, 2, 3], default_size: [1, 1, 1]}\n"
                           "  car: {color: [1, 2, 3], default_size: [1, 1, 1]}\n", "twice.yaml")
    with pytest.raises(OntologyError) as e:
        Ontology.load(path)
    assert str(e.value) == f"{path}: line 4, column 3: invalid YAML: key 'car' appears twice (first at line 2, column 3)"
