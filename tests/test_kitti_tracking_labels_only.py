"""A KITTI tracking folder of labels and calibration only (no velodyne/, no images): `check` runs
every label check that needs no sweep on one sequence, names the unreadable lines by file and line
and says once what it left out; the commands that need sweeps refuse it in one line naming the
missing velodyne/; the 21 real sequences check without a crash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli_render import CALIB, assert_clean_error, run_cli

from fusionlabel.cli.main import main

SEQ = "0000"
CAR, VAN, PED = (4.0, 1.8, 1.5), (4.0, 1.8, 1.5), (0.8, 0.6, 1.7)    # l w h


def line(frame: int, track: int, cls: str, x: float, z: float, size=CAR) -> str:
    """A KITTI tracking label line: the box's bottom centre at (x, 1.7, z) in the camera frame."""
    l, w, h = size
    return f"{frame} {track} {cls} 0 0 0.0 100 100 200 200 {h} {w} {l} {x} 1.7 {z} 0.0"


def labels_only_folder(root: Path) -> tuple[Path, dict[str, int]]:
    """label_02/0000.txt with one mistake of each kind a label check finds without sweeps, three
    lines that cannot be read, and calib/0000.txt; a second, clean sequence 0001. Returns the folder
    and the line numbers of the unreadable lines by what is wrong with them."""
    lines = []
    for n in range(10):
        lines.append(line(n, 0, "Car", 0.0, 20.0 + 0.5 * n))                    # a clean track in every frame
        if n != 4:
            lines.append(line(n, 1, "Car", -6.0, 20.0))                         # left out of frame 4: a gap
        if n < 5:
            lines.append(line(n, 2, "Pedestrian", 6.0, 15.0, (0.8, 0.6, 3.5)))  # 3.5 m tall: no pedestrian
        lines.append(line(n, 3, "Car" if n < 5 else "Van", -12.0, 30.0, VAN))  # changes class in frame 5
        if n < 6:
            lines.append(line(n, 4, "Car", 12.0 if n != 3 else 52.0, 25.0))   # 40 m away in frame 3 only
    lines.append(line(6, 5, "Car", 3.0, 40.0))
    lines.append(line(6, 6, "Car", 3.0, 40.0))                                  # the same box twice
    lines.append("")                                                            # a blank line counts too
    bad = {"fields": len(lines) + 1, "number": len(lines) + 2, "size": len(lines) + 3}
    lines.append("7 0 Car 0 0 0.0 100 100 200 200 1.5 1.8 4.0 0.0 1.7 23.5")   # a field short
    lines.append("7 x Car 0 0 0.0 100 100 200 200 1.5 1.8 4.0 0.0 1.7 23.5 0.0")
    lines.append(line(8, 7, "Car", 8.0, 35.0, (4.0, 1.8, 0.0)))                 # no height
    lines.append("10 -1 DontCare -1 -1 -10 0 0 50 50 -1 -1 -1 -1000 -1000 -1000 -10")
    lines.append(line(11, 0, "Car", 0.0, 25.5))                                 # the last frame, 11
    for name in ("label_02", "calib"):
        (root / name).mkdir(parents=True)
    (root / "label_02" / f"{SEQ}.txt").write_text("\n".join(lines) + "\n")
    (root / "label_02" / "0001.txt").write_text("\n".join(line(n, 0, "Car", 0.0, 20.0) for n in range(3)) + "\n")
    for seq in (SEQ, "0001"):
        (root / "calib" / f"{seq}.txt").write_text(CALIB)
    return root, bad


@pytest.fixture()
def folder(tmp_path):
    return labels_only_folder(tmp_path / "kitti_tracking")


def test_check_finds_each_mistake_and_names_the_unread_lines(folder, capsys):
    root, bad = folder
    assert main(["check", str(root), "--scene", "0", "--json"]) == 3
    out = json.loads(capsys.readouterr().out)
    assert out["frames"] == 12           # frames 0 to 11, the last one labelled (10: DontCare only)
    found = {}
    for f in out["findings"]:
        found.setdefault(f["check"], []).append(f)
    assert sorted(found) == ["label-duplicate", "label-file", "label-size", "track-class", "track-gap", "track-jump"]
    assert [f["track_id"] for f in found["track-gap"]] == ["1"] and found["track-gap"][0]["frames"] == ["000004"]
    assert [f["track_id"] for f in found["track-class"]] == ["3"]
    assert {f["track_id"] for f in found["track-jump"]} == {"4"}
    assert [f["class"] for f in found["label-size"]] == ["Pedestrian"]
    assert [f["frame"] for f in found["label-duplicate"]] == ["000006"]
    subjects = sorted(f["subject"] for f in found["label-file"])
    assert subjects == sorted(f"label_02/{SEQ}.txt line {n}" for n in bad.values())
    assert all(f["severity"] == "error" for f in found["label-file"])
    by_line = {f["subject"].rsplit(" ", 1)[1]: f["message"] for f in found["label-file"]}
    assert "got 16" in by_line[str(bad["fields"])] and "non-numeric" in by_line[str(bad["number"])]
    assert "must be positive" in by_line[str(bad["size"])]
    # the frames with unreadable lines keep their other boxes: track 0 is checked in frames 7 and 8
    assert out["labels"]["frames"] == 11 and out["labels"]["tracks"] == 7


def test_check_says_once_which_checks_need_the_sweeps(folder, capsys):
    root, _ = folder
    assert main(["check", str(root / ".." / "kitti_tracking"), "--scene", "0001"]) == 0
    text = capsys.readouterr().out
    assert text.count("not checked, no sweeps or images (velodyne/0001/, image_02/0001/)") == 1
    for check in ("label-empty", "label-ground", "track-end", "capture times"):
        assert check in text
    assert "labels: 3 boxes in 3 frames (1 track)" in text and "no problems found" in text
    assert "cameras (" not in text and "poses:" not in text      # no drive check ran
    # where the camera section would be, why there is none: calib/ is there, images and sweeps are not
    assert text.splitlines()[1] == ("cameras: not checked: labels and calibration only: no image in image_02/0001/ "
                                    "gives calib/0001.txt's camera image_2 its size, which is never guessed, and no "
                                    "sweep in velodyne/0001/ could be projected into it; calib/0001.txt only places "
                                    "the label boxes")
    assert main(["check", str(root), "--scene", "0001", "--frames", "0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "cameras" not in out and out["cameras_not_checked"] == text.splitlines()[1].removeprefix(
        "cameras: not checked: ")


def test_check_refuses_sweep_options(folder):
    root, _ = folder
    for scene in (("--scene", "1"), ()):        # once for the whole folder without --scene
        assert_clean_error(run_cli("check", str(root), *scene, "--decode-all"),
                           "velodyne: --decode-all: no sweeps or images to decode")
        assert_clean_error(run_cli("check", str(root), *scene, "--no-labels"), "--no-labels", "labels only")


def test_check_without_scene_checks_every_sequence(folder, capsys):
    """One section per sequence, each what `check --scene` prints, and a closing line; exit 3, the
    worst of 0000's 3 (findings) and 0001's 0; a progress bar over the sequences."""
    root, _ = folder
    sections = {}
    for seq in ("0000", "0001"):
        main(["check", str(root), "--scene", seq])
        sections[seq] = capsys.readouterr().out
    assert main(["check", str(root), "--quiet"]) == 3
    text = capsys.readouterr().out
    assert text == (f"== sequence 0000 ==\n{sections['0000']}\n== sequence 0001 ==\n{sections['0001']}\n"
                    "2 sequences checked: 1 without findings; findings in 0000\n")
    out = run_cli("check", str(root))
    assert out.returncode == 3 and "check: 2/2 sequences (100%)" in out.stderr


def test_check_without_scene_json_lists_the_sequences(folder, capsys):
    root, _ = folder
    main(["check", str(root), "--scene", "0", "--json"])
    alone = json.loads(capsys.readouterr().out)
    assert main(["check", str(root), "--json", "--quiet"]) == 3
    listed = json.loads(capsys.readouterr().out)
    assert [(e["sequence"], e["exit"]) for e in listed] == [("0000", 3), ("0001", 0)]
    assert {k: v for k, v in listed[0].items() if k not in ("sequence", "exit")} == alone


def test_a_sequence_that_cannot_be_checked_is_named_and_the_others_still_checked(folder, capsys):
    """0002 has labels but no calibration: its section says so (naming the file), 0000 and 0001
    are checked as ever; exit 2, bad input being the worst."""
    root, _ = folder
    (root / "label_02" / "0002.txt").write_text(line(0, 0, "Car", 0.0, 20.0) + "\n")
    assert main(["check", str(root), "--quiet"]) == 2
    text = capsys.readouterr().out
    section = text.split("== sequence 0002 ==\n")[1]
    assert section.startswith("error: ") and "calib/0002.txt" in section.splitlines()[0]
    assert "== sequence 0001 ==" in text and "no problems found" in text
    assert text.rstrip().endswith("findings in 0000; could not check 0002 (see their sections)")
    assert main(["check", str(root), "--json", "--quiet"]) == 2
    listed = json.loads(capsys.readouterr().out)
    assert [(e["sequence"], e["exit"]) for e in listed] == [("0000", 3), ("0001", 0), ("0002", 2)]
    assert "calib/0002.txt" in listed[2]["error"] and "findings" not in listed[2]


def test_a_training_subfolder_is_found_too(tmp_path, capsys):
    labels_only_folder(tmp_path / "kt" / "training")
    assert main(["check", str(tmp_path / "kt"), "--scene", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["labels"]["boxes"] == 3


@pytest.mark.parametrize("command", [
    ("export", "{root}", "--format", "kitti", "--out", "{tmp}/e"),
    ("project", "create", "{root}", "--scene", "0", "--out", "{tmp}/p"),
    ("prelabel", "{root}", "--scene", "0", "--out", "{tmp}/l"),
    ("open", "{root}", "--scene", "0"),
    ("import", "{root}", "--scene", "0", "--out", "{tmp}/i"),
    ("eval", "--gt", "{tmp}", "--drive", "{root}", "--scene", "0", "--pred", "{tmp}"),
])
def test_commands_that_need_sweeps_name_the_missing_velodyne_folder(folder, tmp_path, command):
    root, _ = folder
    args = [a.format(root=root, tmp=tmp_path) for a in command]
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    out = subprocess.run([sys.executable, "-m", "fusionlabel.cli.main", *args], capture_output=True, text=True,
                         timeout=120, env=env)
    assert_clean_error(out, f"{root / 'velodyne'}: no sweeps; this KITTI tracking folder holds labels only "
                            "(label_02/, calib/): `fusionlabel check` can check them")
    assert not any((tmp_path / name).exists() for name in ("e", "p", "l", "i"))


def test_eval_scores_per_frame_predictions_against_a_labels_only_sequence(tmp_path, capsys):
    """Two cars in each of frames 0-2 as ground truth; predictions (KITTI object lines with a score,
    one file per frame number) find both in frame 0, one in frame 1, and in frame 2 one and a box
    5 m beside the other: 6 cars, 5 predictions, 4 found. No sweep: --min-points is not applied."""
    root = tmp_path / "kt"
    for name in ("label_02", "calib"):
        (root / name).mkdir(parents=True)
    (root / "calib" / "0002.txt").write_text(CALIB)
    cars = {0: (-3.0, 15.0), 1: (3.0, 25.0)}
    (root / "label_02" / "0002.txt").write_text("".join(
        line(n, track, "Car", x, z) + "\n" for n in range(3) for track, (x, z) in cars.items()))
    pred = tmp_path / "pred"
    pred.mkdir()
    found = {0: [cars[0], cars[1]], 1: [cars[0]], 2: [cars[0], (cars[1][0] + 5.0, cars[1][1])]}
    for n, boxes in found.items():
        (pred / f"{n:06d}.txt").write_text("".join(line(n, 0, "Car", x, z).split(" ", 2)[2] + " 0.9\n"
                                                   for x, z in boxes))
    assert main(["eval", "--gt", str(root), "--scene", "2", "--pred", str(pred), "--json"]) == 0
    captured = capsys.readouterr()
    car = json.loads(captured.out)["classes"]["car"]
    assert (car["gt"], car["predictions"], car["tp"]) == (6, 5, 4)
    assert car["precision"] == pytest.approx(0.8) and car["recall"] == pytest.approx(4 / 6)
    assert "--min-points 20 not applied" in captured.err and json.loads(captured.out)["min_points_applied"] is False


def test_eval_refuses_ground_truth_with_an_unreadable_line(folder, tmp_path):
    root, bad = folder
    assert_clean_error(run_cli("eval", "--gt", str(root), "--scene", "0", "--pred", str(tmp_path)),
                       f"label_02/{SEQ}.txt: line {bad['fields']}: expected 17 or 18 fields")


def test_a_full_folders_label_error_names_the_line_counting_blank_lines(tmp_path):
    """The strict reader of a folder with sweeps names the file's own line number: a blank line
    before the bad one counts (it used to count only the lines with text)."""
    from fusionlabel.errors import LabelError
    from fusionlabel.io.kitti import read_kitti_calib
    from fusionlabel.io.kitti_tracking import read_tracking_labels

    (tmp_path / "calib.txt").write_text(CALIB)
    labels = tmp_path / "0000.txt"
    labels.write_text(line(0, 0, "Car", 0.0, 20.0) + "\n\n" + line(1, 0, "Car", 0.0, 20.0, (4.0, 1.8, 0.0)) + "\n")
    with pytest.raises(LabelError, match=r"0000.txt: line 3: Car: dimensions h, w, l must be positive"):
        read_tracking_labels(labels, read_kitti_calib(tmp_path / "calib.txt"))


# ------------------------------------------------------------------------------------------ real data
def test_real_21_sequences_check_without_a_crash(realdata, capsys):
    """Every sequence of the real labels-only folder (8,008 frames, 47,262 objects, 917 tracks; README
    of the real data) checks to the end. The only findings: three trams of 0019 boxed 3.1, 6.7 and
    3.2 m long (tracks 81, 80, 79: occluded, seen in part), under the 8 m a tram is at least."""
    root = realdata / "kitti_tracking"
    if not (root / "label_02").is_dir():
        pytest.skip(f"KITTI tracking labels not found at {root}")
    sequences = sorted(p.stem for p in (root / "label_02").glob("*.txt"))
    assert len(sequences) == 21
    frames = boxes = tracks = 0
    findings = {}
    for seq in sequences:
        code = main(["check", str(root), "--scene", seq, "--json"])
        out = json.loads(capsys.readouterr().out)
        assert code == (3 if out["findings"] else 0), seq
        assert out["labels"]["notes"][0].startswith(f"not checked, no sweeps or images (velodyne/{seq}/")
        frames, boxes, tracks = frames + out["frames"], boxes + out["labels"]["boxes"], tracks + out["labels"]["tracks"]
        findings[seq] = sorted((f["check"], f["subject"]) for f in out["findings"])
    assert (frames, boxes, tracks) == (8008, 47262, 917)
    assert {seq: found for seq, found in findings.items() if found} == REAL_FINDINGS


REAL_FINDINGS = {"0019": [("label-size", "track 79 (Tram)"), ("label-size", "track 80 (Tram)"),
                          ("label-size", "track 81 (Tram)")]}


def test_real_folder_checks_whole_without_scene(realdata, capsys):
    """The real labels-only folder checked in one run: 21 entries, the same totals and findings as
    above (the real data's README), exit 3 for 0019's findings."""
    root = realdata / "kitti_tracking"
    if not (root / "label_02").is_dir():
        pytest.skip(f"KITTI tracking labels not found at {root}")
    assert main(["check", str(root), "--json", "--quiet"]) == 3
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 21 and [e["exit"] for e in listed].count(3) == 1
    assert sum(e["frames"] for e in listed) == 8008 and sum(e["labels"]["boxes"] for e in listed) == 47262
    found = {e["sequence"]: sorted((f["check"], f["subject"]) for f in e["findings"]) for e in listed if e["findings"]}
    assert found == REAL_FINDINGS


def test_waiving_on_a_labels_only_folder_says_what_makes_a_project(folder, tmp_path, capsys):
    """`check --waive` on the labels-only folder names the way to a project that fits it: no project
    can be made of the folder as it is (the suggested command refuses it), and once the sweeps are
    there that very command makes a project in which the finding is waived."""
    import shlex

    from test_kitti_truncation import write_sensors

    root, _ = folder
    main(["check", str(root), "--scene", "1", "--json"])
    assert json.loads(capsys.readouterr().out)["findings"] == []
    (root / "label_02" / "0001.txt").write_text("".join(line(n, t, "Car", 6.0 * t, 20.0) + "\n" for n in range(3)
                                                        for t in (0, 1) if (n, t) != (1, 0)))   # 0 not in frame 1
    main(["check", str(root), "--scene", "1", "--json"])
    (gap,) = [f["id"] for f in json.loads(capsys.readouterr().out)["findings"]]
    out = run_cli("check", str(root), "--scene", "1", "--waive", gap, "--reason", "the car is hidden there")
    assert_clean_error(out, "--waive: waivers are kept in a project", "holds labels only", "label_02/")
    suggested = shlex.split(out.stderr.split("`")[1])
    assert suggested[:3] == ["fusionlabel", "project", "create"] and "--import-labels" in suggested
    assert_clean_error(run_cli(*suggested[1:], "--out", str(tmp_path / "p0")), "velodyne: no sweeps")
    write_sensors(root / "velodyne" / "0001", root / "image_02" / "0001", [f"{n:06d}" for n in range(3)])
    assert main([*suggested[1:], "--out", str(tmp_path / "p"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["check", str(tmp_path / "p"), "--labels-only", "--waive", gap, "--reason", "the car is hidden"]) == 0
    assert main(["check", str(tmp_path / "p"), "--labels-only"]) == 0
