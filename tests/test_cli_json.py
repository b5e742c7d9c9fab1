"""``export --json`` and ``prelabel --json``: one JSON document on stdout holding what the readable
summary says (which goes to stderr instead), the keys docs/import_export.md and docs/prelabel.md
list, and the exit code the command returns."""

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from conftest import lidar_only_drive
from fusionlabel.cli.main import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def drive(tmp_path_factory):
    return lidar_only_drive(tmp_path_factory, frames=4, seed=8, points=8000)


def run_json(args, capsys) -> tuple[int, dict, str]:
    """(exit code, the document on stdout, stderr); stdout must hold exactly one JSON document."""
    code = main(args)
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def documented_keys(doc: str, heading: str) -> set[str]:
    """The backticked names in the bullets of the section ``heading`` of ``doc``."""
    text = (ROOT / "docs" / doc).read_text()
    part = text[text.index(heading) + len(heading):]
    end = re.search(r"^#+ ", part, flags=re.M)
    bullets = [line for line in part[:end.start() if end else None].splitlines() if line.startswith(("- ", "  "))]
    return set(re.findall(r"`([a-z_0-9]+)`", "\n".join(bullets)))


def test_export_json_is_the_summary_and_the_readable_text_goes_to_stderr(drive, tmp_path, capsys):
    out = tmp_path / "k"
    code, doc, err = run_json(["export", str(drive), "--format", "kitti", "--out", str(out), "--json", "--quiet"],
                              capsys)
    assert code == doc["exit_code"] == 0
    manifest = json.loads((out / "fusionlabel_export.json").read_text())
    assert {k: doc[k] for k in manifest["summary"]} == manifest["summary"]       # the manifest's summary, whole
    assert doc["manifest"] == str(out / "fusionlabel_export.json") and doc["out"] == str(out)
    assert doc["frames"] == 4 and doc["source_path"] == str(drive)
    lines = [line for f in sorted((out / "label_2").iterdir()) for line in f.read_text().splitlines()]
    assert doc["objects"] == dict(Counter(line.split()[0] for line in lines))
    assert doc["objects_total"] == len(lines) and doc["seconds"] > 0 and doc["ms_per_frame"] > 0
    assert f"exported 4 frame(s) as kitti to {out}" in err and f"{doc['objects_total']} object(s)" in err


def test_export_json_with_skipped_frames_says_them_and_exit_code_3(drive, tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(drive, broken)
    sweep = sorted((broken / "lidar").iterdir())[1]
    sweep.write_bytes(sweep.read_bytes()[:100])
    code, doc, err = run_json(["export", str(broken), "--format", "kitti", "--out", str(tmp_path / "o"),
                               "--skip-bad-frames", "--json", "--quiet"], capsys)
    assert code == doc["exit_code"] == 3 and doc["frames"] == 3
    assert [s["frame"] for s in doc["skipped_frames"]] == ["000001"] and sweep.name in doc["skipped_frames"][0]["error"]
    assert "skipped 1 frame that could not be read" in err


def test_export_json_of_no_objects_carries_the_note(drive, tmp_path, capsys):
    code, doc, err = run_json(["export", str(drive), "--format", "openlabel", "--out", str(tmp_path / "o"),
                               "--classes", "car", "--class-map", str(_drop_all(drive, tmp_path)), "--json",
                               "--quiet"], capsys)
    assert code == 0 and doc["objects_total"] == 0
    assert doc["notes"] and doc["notes"][0].startswith("no objects were written") and "no objects were written" in err


def _drop_all(drive, tmp_path) -> Path:
    """A --class-map that drops every class of the drive's labels."""
    from fusionlabel.io.drives import open_drive

    d = open_drive(drive)
    classes = {lab.label for i in range(len(d)) for lab in d.labels(i)}
    path = tmp_path / "drop.yaml"
    path.write_text("".join(f"{c}: null\n" for c in sorted(classes)))
    return path


def test_prelabel_json_into_a_project_counts_what_the_project_holds(drive, tmp_path, capsys):
    from fusionlabel.store.project import Project

    project = tmp_path / "project"
    assert main(["project", "create", str(drive), "--out", str(project), "--quiet"]) == 0
    capsys.readouterr()
    code, first, err = run_json(["prelabel", str(project), "--min-score", "0.3", "--json", "--quiet"], capsys)
    assert code == first["exit_code"] == 0 and first["project"] == str(project) and first["out"] is None
    with Project.open(project, read_only=True) as p:
        stored = Counter(a.cls for i in range(len(p.drive)) for a in p.document.annotations(i) if a.source == "model")
    assert first["written"] == sum(stored.values()) > 0 and first["written_by_class"] == dict(stored)
    assert first["frames"] == 4 and f"wrote {first['written']} new pre-labels" in err
    code, again, err = run_json(["prelabel", str(project), "--min-score", "0.3", "--json", "--quiet"], capsys)
    assert code == 0 and again["written"] == again["removed"] == 0 and again["unchanged"] == first["written"]
    assert "no change in project" in err


def test_prelabel_json_into_a_folder_names_its_files_and_manifest(drive, tmp_path, capsys):
    out = tmp_path / "pre"
    code, doc, _ = run_json(["prelabel", str(drive), "--out", str(out), "--format", "kitti", "--min-score", "0.3",
                             "--json", "--quiet"], capsys)
    assert code == 0 and doc["out"] == str(out) and doc["format"] == "kitti"
    assert Path(doc["manifest"]).is_file() and doc["label_files_created"] == 4
    written = Counter(line.split()[0] for f in out.glob("*.txt") for line in f.read_text().splitlines())
    assert doc["written_by_class"] == dict(written) and doc["written"] == sum(written.values())
    assert doc["left_out"]["below_min_score"] >= 0 and doc["min_score"] == 0.3


def test_prelabel_json_notes_and_skipped_frames(drive, tmp_path, capsys):
    import yaml

    broken = tmp_path / "broken"          # no ego poses, and a cut sweep
    shutil.copytree(drive, broken)
    spec = yaml.safe_load((broken / "drive.yaml").read_text())
    for frame in spec["frames"]:
        frame["T_world_vehicle"] = [[float(r == c) for c in range(4)] for r in range(4)]
    (broken / "drive.yaml").write_text(yaml.safe_dump(spec))
    sweep = sorted((broken / "lidar").iterdir())[2]
    sweep.write_bytes(sweep.read_bytes()[:100])
    code, doc, err = run_json(["prelabel", str(broken), "--out", str(tmp_path / "p"), "--track", "--skip-bad-frames",
                               "--json", "--quiet"], capsys)
    assert code == doc["exit_code"] == 3
    assert [s["frame"] for s in doc["skipped_frames"]] == ["000002"] and "skipped 1 frame" in err
    assert [n for n in doc["notes"] if n.startswith("tracking may break: the drive has no ego poses")]


def test_a_failed_run_prints_no_json(drive, tmp_path, capsys):
    assert main(["export", str(drive), "--format", "kitti", "--out", str(tmp_path / "o"), "--frames", "7",
                 "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1


@pytest.mark.parametrize("command, doc, heading", [
    (["export", "{drive}", "--format", "kitti", "--out", "{out}"], "import_export.md", "### Machine-readable summary"),
    (["prelabel", "{drive}", "--out", "{out}"], "prelabel.md", "## Machine-readable summary")])
def test_every_key_is_documented(command, doc, heading, drive, tmp_path, capsys):
    args = [a.format(drive=drive, out=tmp_path / "o") for a in command] + ["--json", "--quiet"]
    _, printed, _ = run_json(args, capsys)
    assert set(printed) <= documented_keys(doc, heading)
