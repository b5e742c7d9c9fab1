"""read_text / read_json: every failure is the caller's error class naming the file (and, for bad
JSON, the line and column); the readers that use them keep their messages."""

from __future__ import annotations

import json

import pytest

from fusionlabel.errors import CalibrationError, DriveError, InputError, LabelError
from fusionlabel.io.jsonfile import read_json
from fusionlabel.files import read_text


def test_read_text_ok_and_failures(tmp_path):
    good = tmp_path / "a.txt"
    good.write_text("héllo\n", encoding="utf-8")
    assert read_text(good) == "héllo\n"
    with pytest.raises(CalibrationError) as e:
        read_text(tmp_path / "none.yaml", CalibrationError, "rig file")
    assert e.value.path == tmp_path / "none.yaml" and str(e.value).endswith("none.yaml: rig file not found")
    with pytest.raises(InputError, match=r"x\.yaml: file not found \(expected an ontology YAML file\)$"):
        read_text(tmp_path / "x.yaml", hint="expected an ontology YAML file")
    with pytest.raises(DriveError, match=r"cannot read pose file \(Is a directory\)"):
        read_text(tmp_path, DriveError, "pose file")
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("café".encode("latin-1"))
    with pytest.raises(LabelError, match=r"latin1\.txt: cannot read file \('utf-8' codec can't decode"):
        read_text(bad, LabelError)


@pytest.mark.parametrize("text, line, column", [
    ('{"a": 1,}', 1, 9),
    ('{\n  "objects": [\n    {"x": 1}\n    {"y": 2}\n  ]\n}', 4, 5),
    ("", 1, 1),
])
def test_read_json_names_line_and_column(tmp_path, text, line, column):
    path = tmp_path / "f.json"
    path.write_text(text)
    with pytest.raises(json.JSONDecodeError) as ref:
        json.loads(text)
    assert (ref.value.lineno, ref.value.colno) == (line, column)   # the positions are json's own
    with pytest.raises(DriveError) as e:
        read_json(path, "pose file", DriveError)
    assert e.value.path == path and e.value.where == f"line {line}"
    assert f"invalid JSON at column {column}: " in e.value.problem


def test_read_json_values_and_default_error(tmp_path):
    path = tmp_path / "v.json"
    path.write_text('[1, {"b": null}]')
    assert read_json(path) == [1, {"b": None}]
    with pytest.raises(LabelError, match="results file not found"):
        read_json(tmp_path / "missing.json", "results file")


def test_readers_keep_their_messages(tmp_path):
    """The four JSON readers and the two YAML loaders now share the helpers; what they say is unchanged."""
    from fusionlabel.assist.predictions import read_nuscenes_results
    from fusionlabel.io.native import read_labels
    from fusionlabel.io.openlabel import read_openlabel
    from fusionlabel.io.rig_yaml import load_rig
    from fusionlabel.io.sustech import read_sustech_labels
    from fusionlabel.model.ontology import Ontology, OntologyError

    missing = tmp_path / "missing"
    for reader, error, text in [(read_labels, LabelError, "labels file not found"),
                                (read_openlabel, LabelError, "OpenLABEL file not found"),
                                (read_sustech_labels, LabelError, "label file not found"),
                                (read_nuscenes_results, LabelError, "results file not found"),
                                (load_rig, CalibrationError, "rig file not found"),
                                (Ontology.load, OntologyError, "file not found (expected an ontology YAML file)")]:
        with pytest.raises(error) as e:
            reader(missing)
        assert str(e.value) == f"{missing}: {text}"
    broken = tmp_path / "broken.json"
    broken.write_text('{"objects": [1, 2')
    for reader in (read_labels, read_openlabel, read_sustech_labels, read_nuscenes_results):
        with pytest.raises(LabelError) as e:
            reader(broken)
        assert e.value.where == "line 1" and e.value.problem.startswith("invalid JSON at column 18: ")
