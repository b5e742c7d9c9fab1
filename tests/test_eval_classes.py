"""Evaluation classes: a label imported into a project is scored as the drive's own label is."""

import json

import pytest

from fusionlabel.cli.main import main
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model.ontology import Ontology
from fusionlabel.model.source_class import project_label
from fusionlabel.qa.classes import eval_class


def label(name, **attributes):
    return CuboidLabel(Cuboid((5.0, 0.0, 0.0), (1.8, 0.7, 1.5), 0.0), name, "1", None, "human", attributes)


@pytest.mark.parametrize("source, expected", [
    (label("Motor"), "two_wheeler"), (label("Scooter"), "two_wheeler"), (label("Rider"), "cyclist"),
    (label("Cyclist"), "cyclist"), (label("Person_sitting"), "person_sitting"), (label("Car"), "car"),
    (label("vehicle.bicycle", nuscenes_attributes=["cycle.without_rider"]), "two_wheeler"),
    (label("vehicle.motorcycle", nuscenes_attributes=["cycle.with_rider"]), "cyclist"),
    (label("vehicle.bicycle", nuscenes_attributes=[]), "cyclist"),      # rider unknown: a cyclist
])
def test_a_drive_label_and_its_project_copy_have_one_class(source, expected):
    imported = project_label(Ontology.default(), source)
    assert (eval_class(source), eval_class(imported)) == (expected, expected)


def test_riderless_two_wheeler_set_in_a_project_is_not_a_cyclist():
    assert eval_class(label("motorcycle", with_rider=False)) == "two_wheeler"
    assert eval_class(label("bicycle", with_rider=True)) == "cyclist"
    assert eval_class(label("bicycle", with_rider=None)) == "cyclist"


def test_project_of_the_real_sustech_drive_scores_as_the_drive(realdata, tmp_path, capsys):
    drive = realdata / "sustech_sequence"
    if not (drive / "lidar").is_dir():
        pytest.skip("SUSTech sample not found")
    assert main(["project", "create", str(drive), "--out", str(tmp_path / "p"), "--import-labels"]) == 0
    capsys.readouterr()
    assert main(["eval", "--pred", str(tmp_path / "p"), "--gt", str(drive), "--classes", "all", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    cost = report["edit_cost"]
    assert (cost["actions"], cost["relabels"], cost["accepted"]) == (0, 0, cost["from_scratch"])
