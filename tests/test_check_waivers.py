"""Waivers of `fusionlabel check` findings: what makes a finding the same from run to run, the
waivers kept in the project (and an older project migrated to hold them), and the CLI options
``--waive``/``--reason``/``--unwaive``/``--waived`` with their exit codes and JSON."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest

from conftest import held_by_another_process
from fusionlabel.cli.main import main
from fusionlabel.model.commands import CreateCuboid, DeleteCuboids, SetAbsent
from fusionlabel.qa.label_check import check_labels
from fusionlabel.qa.waivers import apply_waivers, finding_id, waive
from fusionlabel.store.db import SCHEMA_VERSION, StoreError
from fusionlabel.store.project import DB_NAME, Project
import test_label_checks as shared

sim, labels = shared.sim, shared.labels     # fixtures: the simulated drive and its labels


def cars(labels) -> list[str]:
    """Car tracks in every labelled frame."""
    per_frame = [{lab.track_id for lab in v if lab.label == "car"} for v in labels.values()]
    return sorted(set.intersection(*per_frame))


def oversized(labels, frame: int, track: str, length: float) -> dict:
    """``labels`` with track ``track``'s box in ``frame`` made ``length`` x 4.3 x 1.5 m (too wide for a car)."""
    out = {i: list(v) for i, v in labels.items()}
    k = next(k for k, lab in enumerate(out[frame]) if lab.track_id == track)
    out[frame][k] = out[frame][k].with_(box=out[frame][k].box.with_(size=(length, 4.3, 1.5)))
    return out


def size_finding(sim, labels):
    report = check_labels(sim, labels, "drive", sweeps=False)
    found = [f for f in report.findings if f.check == "label-size"]
    assert len(found) == 1, [f.message for f in report.findings]
    return found[0], report.findings


def test_a_waived_finding_stays_waived_when_its_figure_changes_not_when_it_moves(sim, labels):
    car, other = cars(labels)[:2]
    first, _ = size_finding(sim, oversized(labels, 1, car, 4.4))
    waiver = waive(first, "a real oversized vehicle", user="qa", at_us=1)
    resized, findings = size_finding(sim, oversized(labels, 1, car, 4.5))
    assert resized.message != first.message     # its figures changed
    assert finding_id(resized) == waiver.id
    split = apply_waivers(findings, [waiver])
    assert [f for f, _ in split.waived] == [resized] and resized not in split.open and not split.stale
    for moved in (oversized(labels, 2, car, 4.4), oversized(labels, 1, other, 4.4)):   # another frame, another track
        elsewhere, findings = size_finding(sim, moved)
        split = apply_waivers(findings, [waiver])
        assert elsewhere in split.open and not split.waived and split.stale == [waiver]


def test_a_waiver_needs_a_reason(sim, labels):
    finding, _ = size_finding(sim, oversized(labels, 1, cars(labels)[0], 4.4))
    with pytest.raises(Exception, match="--reason: a waiver needs a reason"):
        waive(finding, "   ")


@pytest.fixture
def project(sim, tmp_path):
    """A project of the drive's labels with a gap (a car's box deleted in frame 1) and a duplicate
    (a copy of a box in frame 2): two label findings."""
    folder = tmp_path / "project"
    with Project.create(folder, sim.root, import_labels=True) as p:
        doc = p.document
        ann = next(a for a in doc.annotations(1) if a.label.track_id is not None and a.label.label == "car")
        doc.apply(DeleteCuboids((ann.uid,)))
        doc.apply(CreateCuboid(2, doc.annotations(2)[0].label.with_(track_id=None)))
    return folder


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(["check", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def ids_by_check(text: str) -> dict[str, str]:
    """By check, the id of its finding in the JSON ``text`` of ``check --json``."""
    return {f["check"]: f["id"] for f in json.loads(text)["findings"]}


def test_cli_waive_list_json_unwaive_and_exit_codes(project, capsys):
    code, out, _ = run(capsys, project, "--labels-only", "--json")
    assert code == 3
    ids = ids_by_check(out)
    assert set(ids) == {"track-gap", "label-duplicate"}
    code, out, _ = run(capsys, project, "--labels-only")
    assert code == 3 and f"[{ids['track-gap']}]" in out and "waived" not in out

    code, out, _ = run(capsys, project, "--labels-only", "--waive", ids["track-gap"], "--reason", "occluded by a bus")
    assert code == 0 and ids["track-gap"] in out and "occluded by a bus" in out
    code, out, _ = run(capsys, project, "--labels-only")
    assert code == 3                                  # the duplicate is still open
    assert f"[{ids['track-gap']}]" not in out and f"[{ids['label-duplicate']}]" in out
    assert "1 finding waived; --waived lists them" in out

    code, out, _ = run(capsys, project, "--labels-only", "--waive", f"[{ids['label-duplicate'].upper()}]",
                       "--reason", "two trailers, one behind the other")
    assert code == 0
    code, out, _ = run(capsys, project, "--labels-only")
    assert code == 0 and "no problems found" in out and "2 findings waived; --waived lists them" in out

    code, out, _ = run(capsys, project, "--labels-only", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["counts"] == {} and doc["waived"] == 2
    gap = next(f for f in doc["findings"] if f["check"] == "track-gap")
    assert gap["waived"] is True and gap["waiver"]["reason"] == "occluded by a bus"
    assert gap["waiver"]["user"] and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", gap["waiver"]["at"])

    code, out, _ = run(capsys, project, "--labels-only", "--waived")
    assert code == 0 and "2 waivers:" in out and out.count("waived ") >= 2 and "stale" not in out
    # the gap marked absent: its finding is gone, its waiver stale (listed, not an error)
    track = next(f for f in json.loads(run_json(capsys, project))["findings"] if f["check"] == "track-gap")["track_id"]
    with Project.open(project) as p:
        p.document.apply(SetAbsent(track, 1))
    code, out, _ = run(capsys, project, "--labels-only", "--waived", "--json")
    assert code == 0
    status = {w["id"]: w["status"] for w in json.loads(out)["waivers"]}
    listed = {w["id"]: w for w in json.loads(out)["waivers"]}
    dup = next(f for f in json.loads(run_json(capsys, project))["findings"] if f["id"] == ids["label-duplicate"])
    assert listed[ids["label-duplicate"]]["at"] == dup["waiver"]["at"]     # `at` in both, the same
    assert status == {ids["track-gap"]: "stale", ids["label-duplicate"]: "waived"}
    code, out, _ = run(capsys, project, "--labels-only", "--waived")
    assert "stale" in out and "no longer found" in out
    code, out, _ = run(capsys, project, "--no-labels", "--no-poses", "--waived", "--json")
    assert {w["status"] for w in json.loads(out)["waivers"]} == {"not checked"}
    code, out, _ = run(capsys, project, "--labels-only", "--frames", "0", "--waived", "--json")
    assert {w["status"] for w in json.loads(out)["waivers"]} == {"not checked"}   # frames 1 and 2 not read

    code, out, _ = run(capsys, project, "--unwaive", ids["label-duplicate"], "--json")
    assert code == 0
    (taken,) = json.loads(out)["unwaived"]      # JSON as asked, like --waive --json
    assert taken["id"] == ids["label-duplicate"] and taken["reason"] == "two trailers, one behind the other"
    code, out, _ = run(capsys, project, "--unwaive", ids["track-gap"])
    assert code == 0 and out == f"1 waiver taken back: {ids['track-gap']}\n"
    code, out, _ = run(capsys, project, "--labels-only")
    assert code == 3 and f"[{ids['label-duplicate']}]" in out


def test_cli_refuses_to_waive_a_label_finding_seen_on_some_frames_only(project, capsys):
    # a label finding's id stands for its frames: one waived under --frames would not hold in a full run
    code, out, _ = run(capsys, project, "--labels-only", "--frames", "2", "--json")
    dup = ids_by_check(out)["label-duplicate"]
    code, out, err = run(capsys, project, "--labels-only", "--frames", "2", "--waive", dup, "--reason", "two trailers")
    assert code == 2 and "--waive:" in err and "--frames" in err and "Traceback" not in err and not out
    code, out, _ = run(capsys, project, "--labels-only", "--waived", "--json")
    assert json.loads(out)["waivers"] == []
    code, out, _ = run(capsys, project, "--labels-only", "--frames", "0-2", "--waive", dup, "--reason", "two trailers")
    assert code == 0                                    # every frame chosen: the same ids as a full run
    code, out, _ = run(capsys, project, "--labels-only")
    assert f"[{dup}]" not in out and "1 finding waived" in out


def test_cli_waivers_of_a_project_the_app_has_open_name_the_option_and_the_dock(project, capsys):
    gap = ids_by_check(run_json(capsys, project))["track-gap"]
    with held_by_another_process(project):      # as the app holds it
        for extra, option in ((["--waive", gap, "--reason", "occluded"], "--waive"), (["--unwaive", gap], "--unwaive")):
            code, out, err = run(capsys, project, "--labels-only", *extra)
            assert code == 2 and not out and "Traceback" not in err
            assert f"{option}: waivers not changed: another fusionlabel process has project" in err
            assert "Ctrl+K, then W" in err
    with Project.open(project) as p:
        assert p.store.waivers() == []


def run_json(capsys, project) -> str:
    """The JSON of ``check --labels-only --json`` with every finding (waived ones too)."""
    main(["check", str(project), "--labels-only", "--json"])
    return capsys.readouterr().out


@pytest.mark.parametrize("extra, option, says", [
    (["--waive", "0123abcd", "--reason", "fine"], "--waive", "no finding with id 0123abcd"),
    (["--waive", "nothex!", "--reason", "fine"], "--waive", "expected a finding id of 8 hex digits"),
    (["--waive", "{gap}", "--reason", "  "], "--reason", "a waiver needs a reason"),
    (["--waive", "{gap}"], "--reason", "a waiver needs a reason"),
    (["--reason", "fine"], "--reason", "given without --waive ID"),
    (["--unwaive", "0123abcd"], "--unwaive", "no waiver with id 0123abcd"),
])
def test_cli_bad_waiver_input_is_exit_2_naming_the_option(project, capsys, extra, option, says):
    gap = ids_by_check(run_json(capsys, project))["track-gap"]
    code, out, err = run(capsys, project, "--labels-only", *[a.replace("{gap}", gap) for a in extra])
    assert code == 2 and f"{option}: {says}" in err and "Traceback" not in err
    assert not out
    assert json.loads(run_json(capsys, project))["waived"] == 0     # nothing was written


def test_cli_waiving_on_a_drive_folder_is_exit_2(sim, capsys):
    for option in (["--waive", "0123abcd", "--reason", "fine"], ["--unwaive", "0123abcd"], ["--waived"]):
        code, _, err = run(capsys, sim.root, "--labels-only", *option)
        assert code == 2 and f"{option[0]}: waivers are kept in a project" in err and "Traceback" not in err
        # the project it suggests holds the drive's labels, whose findings are the ones to waive
        assert f"`fusionlabel project create {sim.root} --import-labels`" in err


def test_store_round_trip(project, sim, labels):
    finding, _ = size_finding(sim, oversized(labels, 1, cars(labels)[0], 4.4))
    waiver = waive(finding, "a real oversized vehicle", user="qa-lead", at_us=1_700_000_000_000_000)
    with Project.open(project) as p:
        assert p.store.waivers() == []
        p.store.put_waivers([waiver])
    with Project.open(project, read_only=True) as p:
        assert p.store.waivers() == [waiver]
    with Project.open(project) as p:
        again = waive(finding, "really oversized", user="qa-lead", at_us=1_700_000_000_000_001)
        p.store.put_waivers([again])                  # waiving again replaces the reason
        assert p.store.waivers() == [again]
        assert p.store.remove_waivers([waiver.id, "ffffffff"]) == 1 and p.store.waivers() == []


def old_schema(folder) -> None:
    """Make ``folder``'s project a version-3 one: no ``waivers`` table."""
    con = sqlite3.connect(folder / DB_NAME)
    con.execute("DROP TABLE waivers")
    con.execute("UPDATE meta SET value='3' WHERE key='schema_version'")
    con.commit()
    con.close()


def test_an_older_project_is_migrated_and_takes_waivers(project, capsys):
    old_schema(project)
    code, out, _ = run(capsys, project, "--labels-only", "--json")      # read-only: read as it is
    assert code == 3 and json.loads(out)["waived"] == 0
    con = sqlite3.connect(project / DB_NAME)
    assert con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("3",)
    con.close()
    gap = ids_by_check(out)["track-gap"]
    assert run(capsys, project, "--labels-only", "--waive", gap, "--reason", "occluded")[0] == 0
    with Project.open(project, read_only=True) as p:
        assert p.store.schema_version == SCHEMA_VERSION == 4
        assert [w.id for w in p.store.waivers()] == [gap]


def test_a_newer_project_is_refused_naming_the_versions(project):
    con = sqlite3.connect(project / DB_NAME)
    con.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    con.commit()
    con.close()
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1} is not supported "
                                         rf"\(this fusionlabel reads versions 1 to {SCHEMA_VERSION}; a newer"):
        Project.open(project)
