"""Finding ids that waivers can rely on: one id per finding (two duplicates of one track apart),
an untracked box named by its stored id (not its place in the frame), a waiver of a full run
holding in a `--frames` run, old waivers still matched, and the CLI's waiver messages."""

from __future__ import annotations

import json
import shutil

from fusionlabel.model.commands import DeleteCuboids

from fusionlabel.qa.box_checks import STORED_ID
from fusionlabel.qa.label_check import check_labels
from fusionlabel.qa.waivers import apply_waivers, finding_id, legacy_id, stale_reason, waive
from fusionlabel.store.project import Project
import test_label_checks as shared
from test_check_waivers import cars, ids_by_check, oversized, run, run_json

sim, labels = shared.sim, shared.labels


def test_duplicates_of_one_track_in_one_frame_have_their_own_ids(sim, labels):
    car = cars(labels)[0]
    frame = {i: list(v) for i, v in labels.items()}
    box = next(lab for lab in frame[1] if lab.track_id == car)
    frame[1] += [box.with_(box=box.box.with_(center=(box.box.center[0] + d, *box.box.center[1:]))) for d in (0.1, 0.25)]
    dups = [f for f in check_labels(sim, frame, "drive", [1], sweeps=False).findings if f.check == "label-duplicate"]
    assert len(dups) >= 2 and {f.track_id for f in dups} == {car}     # several pairs, all of one track
    assert all(f.frames == ("000001",) for f in dups)
    assert len({finding_id(f) for f in dups}) == len(dups)


def test_an_untracked_box_keeps_its_id_when_the_frame_is_reordered(sim, labels):
    car = cars(labels)[0]
    big = oversized(labels, 1, car, 4.4)
    big[1] = [lab.with_(track_id=None, attributes={**lab.attributes, STORED_ID: f"uid{k}"}) if lab.track_id == car
              else lab.with_(attributes={**lab.attributes, STORED_ID: f"uid{k}"}) for k, lab in enumerate(big[1])]

    def size_id(frame_labels):
        (f,) = [f for f in check_labels(sim, {1: frame_labels}, "project", sweeps=False).findings
                if f.check == "label-size"]
        return finding_id(f)

    assert size_id(big[1]) == size_id(big[1][::-1])


def test_a_waiver_of_a_full_run_holds_in_a_frames_run(sim, labels):
    car = cars(labels)[0]
    big = oversized(oversized(labels, 1, car, 4.4), 2, car, 4.4)       # copied along its track: one finding
    (full,) = [f for f in check_labels(sim, big, "drive", sweeps=False).findings if f.check == "label-size"]
    assert len(full.frames) == 2
    waiver = waive(full, "a real wide load", user="qa", at_us=1)
    some = check_labels(sim, big, "drive", [1], sweeps=False).findings
    (part,) = [f for f in some if f.check == "label-size"]
    assert finding_id(part) != finding_id(full)
    split = apply_waivers(some, [waiver])
    assert [f for f, _ in split.waived] == [part] and not split.stale


def test_a_waiver_made_the_old_way_still_matches_or_says_why_it_is_stale(sim, labels):
    car = cars(labels)[0]
    big = oversized(labels, 1, car, 4.4)
    big[1] = [lab.with_(track_id=None, attributes={STORED_ID: "u7"}) if lab.track_id == car else lab for lab in big[1]]
    (f,) = [f for f in check_labels(sim, big, "project", sweeps=False).findings if f.check == "label-size"]
    old = waive(f, "wide load", user="qa", at_us=1)
    old = old.__class__(**(old.as_dict() | {"id": legacy_id(f), "subject": f.subject, "frames": tuple(old.frames)}))
    assert old.id != finding_id(f) and "box #" in old.subject
    assert apply_waivers([f], [old]).waived == [(f, old)]
    assert "stored id" in stale_reason(old) and "waive it again" in stale_reason(old)


def gap_project(drive_root, folder):
    """A project of the drive's labels with a gap (a car's box deleted in frame 1): a track-gap finding."""
    with Project.create(folder, drive_root, import_labels=True) as p:
        doc = p.document
        ann = next(a for a in doc.annotations(1) if a.label.track_id is not None and a.label.label == "car")
        doc.apply(DeleteCuboids((ann.uid,)))
    return folder


def test_cli_waive_of_an_id_from_skipped_checks_says_which_and_how(sim, tmp_path, capsys):
    project = gap_project(sim.root, tmp_path / "project")
    gap = ids_by_check(run_json(capsys, project))["track-gap"]
    code, out, err = run(capsys, project, "--no-labels", "--no-poses", "--waive", gap, "--reason", "occluded")
    assert code == 2 and not out and "Traceback" not in err
    assert "--no-labels" in err and "run without it" in err


def test_cli_unwaive_works_without_the_drive(sim, tmp_path, capsys):
    drive = shutil.copytree(sim.root, tmp_path / "drive")
    folder = gap_project(drive, tmp_path / "project")
    found = {f["check"]: f for f in json.loads(run_json(capsys, folder))["findings"]}
    gap = found["track-gap"]["id"]
    code, out, _ = run(capsys, folder, "--labels-only", "--waive", gap, "--reason", "occluded")
    assert code == 0       # worded as the app's dock says it
    assert out == f"waived [{gap}] track {found['track-gap']['track_id']} (track-gap): occluded\n"
    shutil.rmtree(drive)
    code, out, err = run(capsys, folder, "--unwaive", gap)
    assert code == 0 and out == f"1 waiver taken back: {gap}\n", err
    code, out, err = run(capsys, tmp_path / "nothing", "--unwaive", gap)
    assert code == 2 and "--unwaive:" in err and "not a project folder" in err and "Traceback" not in err
    with Project.open(folder, read_only=True, drive_path=sim.root) as p:
        assert p.store.waivers() == []
