"""What every exporter promises: no silent loss (written + skipped = given), a manifest with the
summary, the progress bar, and clean errors for bad options."""

from __future__ import annotations

import json

import pytest

from conftest import native_copy
from fusionlabel.export import FORMATS, ExportError, ExportOptions, export_drive
from fusionlabel.export.base import MANIFEST, load_class_map


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_label_is_written_or_skipped_with_a_reason(fmt, small_sim_drive, tmp_path):
    drive = small_sim_drive

    def labels_for(i):
        labels = drive.labels(i)
        return [*labels, labels[0].with_(label="zeppelin", track_id=f"z{i}")]

    options = ExportOptions(progress=False, sensor_data=False, class_map={"van": None},
                            classes={"car", "Car", "vehicle.car", "van", "truck", "zeppelin", "Truck",
                                     "vehicle.truck"})
    summary = export_drive(drive, fmt, tmp_path / "out", labels_for, options)
    given = sum(len(labels_for(i)) for i in range(len(drive)))
    assert summary.total_objects + summary.total_skipped == given
    assert summary.skipped[("class not selected (--classes)", "pedestrian")] == \
        sum(lab.label == "pedestrian" for i in range(len(drive)) for lab in drive.labels(i))
    assert summary.skipped[("dropped by --class-map", "van")] > 0
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert manifest["summary"]["objects_total"] == summary.total_objects
    assert manifest["frames"] == [f.frame_id for f in drive.frames]
    assert summary.files == sum(1 for p in (tmp_path / "out").rglob("*") if p.is_file())
    text = summary.text()
    assert f"exported {len(drive)} frame(s) as {fmt}" in text and "skipped" in text


def test_bad_options(small_sim_drive, tmp_path):
    drive = small_sim_drive
    with pytest.raises(ExportError, match="unknown format 'yolo'"):
        export_drive(drive, "yolo", tmp_path / "a")
    with pytest.raises(ExportError, match="--frames"):
        export_drive(drive, "kitti", tmp_path / "b", options=ExportOptions(frames=[7]))
    with pytest.raises(ExportError, match="--sequence"):
        export_drive(drive, "kitti-tracking", tmp_path / "c", options=ExportOptions(sequence="../x", progress=False))
    with pytest.raises(ExportError, match="--nuscenes-version"):
        export_drive(drive, "nuscenes", tmp_path / "d", options=ExportOptions(version="a/b", progress=False))
    (tmp_path / "map.yaml").write_text("car: [1, 2]\n")
    with pytest.raises(ExportError, match="map.yaml"):
        load_class_map(tmp_path / "map.yaml")
    (tmp_path / "broken.yaml").write_text("car: van\ntruck: [bus\n")
    with pytest.raises(ExportError) as bad:
        load_class_map(tmp_path / "broken.yaml")
    assert "line 3, column 1" in str(bad.value) and "invalid YAML" in str(bad.value) and "\n" not in str(bad.value)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExportError, match="is a file"):
        export_drive(drive, "kitti", tmp_path / "file")


def _broken_copy(drive, tmp_path):
    """A copy of a drive whose frame 1 sweep is truncated and frame 2 sweep is a 0-byte file."""
    import shutil

    root = tmp_path / "broken"
    shutil.copytree(drive.root, root)
    cut = root / drive.frames[1].lidar_path.relative_to(drive.root)
    empty = root / drive.frames[2].lidar_path.relative_to(drive.root)
    cut.write_bytes(cut.read_bytes()[:cut.stat().st_size // 3])
    empty.write_bytes(b"")
    return root, cut, empty


def tree(folder):
    """Every file under ``folder`` (relative POSIX path) with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fmt", ["kitti", "nuscenes", "coco"])
def test_skip_bad_frames_goes_on_and_lists_them(fmt, small_sim_drive, tmp_path, capsys):
    from fusionlabel.cli.main import main

    root, cut, empty = _broken_copy(small_sim_drive, tmp_path)
    out = tmp_path / "out"
    base = ["export", str(root), "--format", fmt, "--out", str(out), "--quiet"]
    assert main(base) == 2                        # without the flag: the first bad frame stops it
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(cut) in err and str(empty) not in err
    assert not out.exists()                       # no half-written dataset left behind
    out.mkdir()
    assert main(base) == 2 and out.is_dir() and not any(out.iterdir())   # a folder it did not make stays, empty
    capsys.readouterr()
    assert main(base + ["--skip-bad-frames"]) == 3
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[1].startswith(f"exported 1 frame(s) as {fmt}")
    at = lines.index("skipped 2 frames that could not be read (--skip-bad-frames):")
    assert lines[at + 1].startswith("  frame 000001: ") and str(cut) in lines[at + 1]
    assert lines[at + 2] == f"  frame 000002: {empty}: empty file (0 bytes), expected a point cloud"
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["complete"] and manifest["frames"] == ["000000"]
    assert [s["frame"] for s in manifest["summary"]["skipped_frames"]] == ["000001", "000002"]
    if fmt == "kitti":
        assert sorted(p.name for p in (out / "label_2").iterdir()) == ["000000.txt"]
        assert sorted(p.name for p in (out / "velodyne").iterdir()) == ["000000.bin"]
    # good frames only: nothing skipped, exit 0
    assert main(base + ["--force", "--skip-bad-frames", "--frames", "0"]) == 0
    assert "could not be read" not in capsys.readouterr().out
    # a failed --force run over an earlier export leaves that export as it was, and nothing of its own
    before = tree(out)
    assert main(base + ["--force"]) == 2
    assert tree(out) == before and json.loads((out / MANIFEST).read_text())["frames"] == ["000000"]
    # ... and someone else's file beside it stays too
    (out / "theirs.txt").write_text("keep me")
    assert main(base + ["--force"]) == 2
    assert tree(out) == {**before, "theirs.txt": b"keep me"}
    assert [p.name for p in [*tmp_path.iterdir(), *out.iterdir()] if p.name.startswith(".")] == []   # no staging or lock left


def test_skip_bad_frames_skips_an_unreadable_image_unless_labels_only(small_sim_drive, tmp_path, capsys):
    import shutil

    from fusionlabel.cli.main import main

    root = tmp_path / "d"
    shutil.copytree(small_sim_drive.root, root)
    cams = small_sim_drive.rig(0).camera_names
    cam = "image_2" if "image_2" in cams else cams[0]
    image = root / small_sim_drive.frames[1].image_paths[cam].relative_to(small_sim_drive.root)
    image.write_bytes(image.read_bytes()[:200])
    base = ["export", str(root), "--format", "kitti", "--quiet", "--skip-bad-frames"]
    assert main(base + ["--out", str(tmp_path / "a")]) == 3
    out = capsys.readouterr().out
    assert "skipped 1 frame " in out and f"  frame 000001: {image}" in out
    assert main(base + ["--out", str(tmp_path / "b"), "--labels-only"]) == 0   # the image is not read
    assert "could not be read" not in capsys.readouterr().out


def test_skipped_frames_are_listed_up_to_ten_then_counted():
    from fusionlabel.export.base import skipped_frame_lines

    lines = skipped_frame_lines([(f"{i:06d}", f"/d/{i:06d}.pcd: empty file") for i in range(13)])
    assert lines[0] == "skipped 13 frames that could not be read (--skip-bad-frames):"
    assert lines[1:11] == [f"  frame {i:06d}: /d/{i:06d}.pcd: empty file" for i in range(10)]
    assert lines[11].startswith("  ... and 3 more skipped frames") and len(lines) == 12
    assert skipped_frame_lines([]) == []


@pytest.mark.parametrize("fmt", ["kitti", "kitti-tracking"])
def test_a_sweep_without_points_is_written_as_an_empty_file(fmt, small_sim_drive, tmp_path):
    """A frame whose sweep has no points is exported with an empty (0-byte) sweep file, as nuScenes
    does (tests/test_export_nuscenes.py): KITTI loaders read velodyne/ for every label file, and
    fusionlabel's own reader reads it back as 0 points. The summary names the frame; the export
    reads back as a drive with that frame empty and the others as they were."""
    from fusionlabel.io.drives import open_drive
    from fusionlabel.io.pointcloud import read_points

    drive = native_copy(small_sim_drive, tmp_path / "d", empty_sweep=1)
    assert len(drive.points(1)) == 0 and len(drive.labels(1)) > 0
    summary = export_drive(drive, fmt, tmp_path / "out", options=ExportOptions(progress=False))
    assert summary.frames == 3 and not summary.skipped_frames and not summary.not_written
    assert any("empty .bin files" in t and "frame(s) 000001" in t for t in summary.cannot_hold)
    sweeps = sorted(p for p in (tmp_path / "out").rglob("*.bin"))
    assert [p.stem for p in sweeps] == ["000000", "000001", "000002"]
    assert [len(read_points(p)) for p in sweeps] == [len(drive.points(i)) for i in range(3)]
    assert sweeps[1].stat().st_size == 0
    back = open_drive(tmp_path / "out")
    assert len(back) == 3 and len(back.points(1)) == 0 and len(back.labels(1)) == len(drive.labels(1))


@pytest.mark.parametrize("fmt", ["kitti", "nuscenes", "openlabel"])
def test_unreviewed_prelabels_are_left_out_unless_asked_for(fmt, small_sim_drive, tmp_path):
    """A training set holds reviewed labels: pre-labels (source model) are skipped and counted,
    and written only with include_prelabels."""
    from fusionlabel.export import ExportOptions, export_drive
    from fusionlabel.export.base import PRELABEL_SKIP

    drive = small_sim_drive
    frame0 = drive.labels(0)
    model = {id(lab) for lab in frame0[::3]}

    def labels_for(i):
        return [lab.with_(source="model", score=0.7) if id(lab) in model else lab for lab in drive.labels(i)]

    n_model = len(model)
    opts = dict(progress=False, sensor_data=False, frames=[0])
    left = export_drive(drive, fmt, tmp_path / "left", labels_for, ExportOptions(**opts))
    skipped = {label: n for (reason, label), n in left.skipped.items() if reason == PRELABEL_SKIP}
    assert sum(skipped.values()) == n_model
    kept = export_drive(drive, fmt, tmp_path / "kept", labels_for, ExportOptions(include_prelabels=True, **opts))
    assert not any(reason == PRELABEL_SKIP for reason, _ in kept.skipped)
    assert sum(kept.objects.values()) - sum(left.objects.values()) == n_model
    if fmt == "kitti":   # a written pre-label's line ends with its score, and the summary counts them
        fields = [len(line.split()) for line in (tmp_path / "kept" / "label_2" / "000000.txt").read_text().splitlines()]
        assert fields.count(16) == n_model and fields.count(15) == len(fields) - n_model
        assert any(n.startswith(f"{n_model} line(s) of pre-labels end with a score") for n in kept.cannot_hold)
        assert not any("end with a score" in n for n in left.cannot_hold)


def test_a_classes_name_that_matches_no_label_is_reported(small_sim_drive, tmp_path, capsys):
    """--classes Kar (a typo) used to export nothing and say nothing about why."""
    from fusionlabel.cli.main import main

    out = tmp_path / "out"
    assert main(["export", str(small_sim_drive.root), "--format", "kitti", "--out", str(out), "--labels-only",
                 "--classes", "Kar,Pedestrian", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "--classes: no label has class Kar " in text and "Pedestrian," not in text
    assert json.loads((out / MANIFEST).read_text())["summary"]["unmatched_classes"] == ["Kar"]


@pytest.mark.parametrize("fmt", ["kitti", "nuscenes"])
def test_sigterm_during_an_export_leaves_nothing_half_written(fmt, small_sim_drive, tmp_path, monkeypatch, capsys):
    """A batch scheduler's kill (SIGTERM) in the middle of an export: the CLI stops as on Ctrl+C,
    removes what it had written, says so and exits with 143."""
    import os
    import signal

    from fusionlabel.cli.main import main
    from fusionlabel.export import exporter_class

    out = tmp_path / "out"
    cls = exporter_class(fmt)
    add_frame = cls.add_frame

    def kill_at_second_frame(self, index):
        if index == 1:
            assert any(p.is_file() for p in self.out.rglob("*")), "the first frame was written"
            os.kill(os.getpid(), signal.SIGTERM)
        return add_frame(self, index)

    monkeypatch.setattr(cls, "add_frame", kill_at_second_frame)
    before = signal.getsignal(signal.SIGTERM)
    assert main(["export", str(small_sim_drive.root), "--format", fmt, "--out", str(out), "--quiet"]) == 143
    assert "fusionlabel: terminated" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []    # neither the output nor its staging folder or lock
    assert signal.getsignal(signal.SIGTERM) is before    # the handler is the CLI's only while it runs


def test_force_replaces_what_an_earlier_manifest_lists(tmp_path):
    """--force replaces what an earlier export's manifest lists as written (everything else stays);
    a manifest of an older version, without that list, replaces all but what it lists as kept."""
    from fusionlabel.export.base import output_names

    def folder(manifest: dict):
        out = tmp_path / str(len(list(tmp_path.iterdir())))
        (out / "label_2").mkdir(parents=True)
        (out / "label_2" / "000000.txt").write_text("Car 0 0 0\n")
        (out / "frames.txt").write_text("000000\n")
        (out / "notes.md").write_text("mine\n")
        (out / MANIFEST).write_text(json.dumps(manifest))
        return out

    out = folder({"fusionlabel_export": 1, "kept": [], "written": ["label_2", "frames.txt"]})
    assert output_names(out, True) == ({"label_2", "frames.txt", MANIFEST}, {"notes.md"})
    old = folder({"fusionlabel_export": 1, "kept": ["notes.md"]})
    assert output_names(old, True) == ({"label_2", "frames.txt", MANIFEST}, {"notes.md"})
    unreadable = folder({"fusionlabel_export": 1, "kept": "notes.md"})    # not a list: nothing is kept
    assert output_names(unreadable, True) == ({"label_2", "frames.txt", "notes.md", MANIFEST}, set())
    with pytest.raises(ExportError, match="not empty"):
        output_names(out, False)


def test_class_map_keys_match_like_classes_and_unmatched_keys_are_reported(small_sim_drive, tmp_path, capsys):
    """A --class-map key 'Car' matched nothing when the labels say 'car' (the map was silently
    ignored), and a typo ('pedestrain') said nothing. Keys now match a label's own class, its
    source's class name and the exported name, case-insensitively; keys that match no label are
    named in the summary and the manifest."""
    from fusionlabel.cli.main import main

    (tmp_path / "cm.yaml").write_text("Car: Vehicle\npedestrain: Person\n")
    out = tmp_path / "out"
    assert main(["export", str(small_sim_drive.root), "--format", "kitti", "--out", str(out), "--labels-only",
                 "--class-map", str(tmp_path / "cm.yaml"), "--quiet"]) == 0
    text = capsys.readouterr().out
    written = {line.split()[0] for p in (out / "label_2").glob("*.txt") for line in p.read_text().splitlines()}
    assert "Vehicle" in written and "Car" not in written
    assert "--class-map: no label has class pedestrain " in text and "Car," not in text
    assert json.loads((out / MANIFEST).read_text())["summary"]["unmatched_class_map_keys"] == ["pedestrain"]


def test_class_map_keys_match_the_source_class_and_the_exported_name(small_sim_drive, tmp_path):
    drive = small_sim_drive
    car = next(lab for lab in drive.labels(0) if lab.label == "car")
    bus = car.with_(label="bus", attributes={"source_class": "vehicle.bus.rigid", "imported_as": "bus"})
    ped = next(lab for lab in drive.labels(0) if lab.label == "pedestrian")

    def labels_for(i):
        return [bus, ped] if i == 0 else []

    opts = dict(progress=False, sensor_data=False, frames=[0])
    s = export_drive(drive, "kitti", tmp_path / "a", labels_for,
                     ExportOptions(class_map={"VEHICLE.BUS.RIGID": "Truck", "PEDESTRIAN": None}, **opts))
    assert s.objects == {"Truck": 1} and s.skipped[("dropped by --class-map", "pedestrian")] == 1
    assert s.unmatched_class_map_keys == []
    # the nuScenes name a label is exported as is a key too
    s = export_drive(drive, "nuscenes", tmp_path / "b", labels_for,
                     ExportOptions(class_map={"human.pedestrian.adult": "human.pedestrian.child", "Kar": "x"},
                                   **opts))
    assert s.objects["human.pedestrian.child"] == 1 and s.unmatched_class_map_keys == ["Kar"]


def test_class_map_keys_differing_only_in_case_must_agree(tmp_path):
    (tmp_path / "m.yaml").write_text("car: Vehicle\nCar: Auto\n")
    with pytest.raises(ExportError, match="'car' and 'Car'"):
        load_class_map(tmp_path / "m.yaml")
    (tmp_path / "ok.yaml").write_text("car: Vehicle\nCar: Vehicle\n")
    assert load_class_map(tmp_path / "ok.yaml") == {"car": "Vehicle", "Car": "Vehicle"}


def test_sigterm_inside_the_projection_kernel_stops_the_export(small_sim_drive, tmp_path, monkeypatch, capsys):
    """SIGTERM delivered while the numba kernel runs comes out of numba wrapped in a SystemError; the
    export still stops with 143 and leaves nothing, instead of falling back to NumPy and finishing."""
    import os
    import signal
    import time

    from fusionlabel.cli.main import main
    from fusionlabel.geometry import projection

    def kernel_killed(*args):
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)           # the CLI's handler raises in here, as in a kernel releasing the GIL
        except BaseException:
            raise SystemError("<numba kernel> returned a result with an exception set")
        raise AssertionError("SIGTERM was not delivered")

    monkeypatch.setattr(projection, "_kernel", kernel_killed)
    out = tmp_path / "out"
    assert main(["export", str(small_sim_drive.root), "--format", "kitti", "--out", str(out), "--quiet"]) == 143
    err = capsys.readouterr().err
    assert "fusionlabel: terminated" in err and "NumPy path" not in err
    assert not out.exists()


@pytest.mark.parametrize("fmt", ["kitti", "openlabel"])
def test_classes_matching_no_label_are_refused(fmt, small_sim_drive, tmp_path, capsys):
    """--classes naming no class of any label (a typo) stops with exit 2 before writing, naming the
    names given and listing the classes the labels have; one matching name keeps the summary note."""
    from fusionlabel.cli.main import main

    out = tmp_path / "out"
    base = ["export", str(small_sim_drive.root), "--format", fmt, "--out", str(out), "--labels-only", "--quiet"]
    assert main(base + ["--classes", "Kar,Pedestrain"]) == 2
    cap = capsys.readouterr()
    assert cap.err.count("\n") == 1 and "--classes: no label of the 3 frames has class Kar, Pedestrain" in cap.err
    have = {lab.label for i in range(len(small_sim_drive)) for lab in small_sim_drive.labels(i)}
    assert cap.err.strip().endswith("the labels' classes are: " + ", ".join(sorted(have, key=str.lower)))
    assert not out.exists()
    assert main(base + ["--classes", "Kar,Car"]) == 0
    assert "--classes: no label has class Kar " in capsys.readouterr().out


def test_skip_bad_frames_with_every_frame_bad_writes_nothing(small_sim_drive, tmp_path, capsys):
    """Every frame unreadable: one line, exit 2 and no empty dataset (it was exit 3 and an export
    of no frames)."""
    from fusionlabel.cli.main import main

    root, cut, empty = _broken_copy(small_sim_drive, tmp_path)
    out = tmp_path / "out"
    args = ["export", str(root), "--format", "kitti", "--out", str(out), "--quiet", "--skip-bad-frames",
            "--frames", "1,2"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--skip-bad-frames: every one of the 2 frames could not be read" in err
    assert f"frame 000001: {cut}" in err
    assert not out.exists()


@pytest.mark.parametrize("fmt", ["kitti", "openlabel"])
def test_classes_matching_no_label_are_refused_before_any_frame_is_read(fmt, small_sim_drive, tmp_path, capsys):
    """--classes matching nothing is refused up front: the unreadable sweeps are never reached (the
    error is about --classes, not a sweep), and --force leaves an earlier export in --out as it was."""
    from fusionlabel.cli.main import main

    root, cut, empty = _broken_copy(small_sim_drive, tmp_path)
    out = tmp_path / "out"
    assert main(["export", str(root), "--format", fmt, "--out", str(out), "--quiet", "--frames", "0"]) == 0
    before = sorted((p.relative_to(out), p.read_bytes()) for p in out.rglob("*") if p.is_file())
    capsys.readouterr()
    args = ["export", str(root), "--format", fmt, "--out", str(out), "--quiet", "--force", "--frames", "1,2",
            "--classes", "Kar"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--classes: no label of the 2 frames has class Kar" in err
    assert str(cut) not in err and str(empty) not in err
    assert sorted((p.relative_to(out), p.read_bytes()) for p in out.rglob("*") if p.is_file()) == before
    assert main(args + ["--skip-bad-frames"]) == 2          # the same up-front refusal with the flag
    assert "--classes: no label" in capsys.readouterr().err


def test_exporting_a_project_leaves_it_free_for_an_editor(project):
    """An export reads the project without its write lock: an annotator who opens the project
    while the export runs can still edit it."""
    from fusionlabel.export.source import open_source
    from fusionlabel.store.project import Project

    project.close()
    with open_source(project.folder) as (drive, labels_for, _, _):
        with Project.open(project.folder) as editor:
            assert not editor.read_only, editor.read_only_reason
        assert labels_for(0)


@pytest.mark.parametrize("fmt", ["kitti-tracking", "nuscenes", "kitti"])
def test_a_track_with_two_classes_is_named_where_the_format_gives_a_track_one_class(fmt, small_sim_drive, tmp_path):
    """A project from before whole-track retyping may hold a track that is truck in one frame and
    car in the others: KITTI tracking and nuScenes say so in one line naming the track and the
    frames; KITTI object (no tracks) has nothing to say."""
    drive = small_sim_drive
    n = len(drive)
    track = next(lab.track_id for lab in drive.labels(0) if lab.label == "car"
                 and all(any(m.track_id == lab.track_id for m in drive.labels(i)) for i in range(n)))

    def labels_for(i):
        return [lab.with_(label="truck") if lab.track_id == track and i == 1 else lab for lab in drive.labels(i)]

    summary = export_drive(drive, fmt, tmp_path / "out", labels_for,
                           ExportOptions(progress=False, sensor_data=False))
    lines = [t for t in summary.cannot_hold if t.startswith(f"track {track} has more than one class")]
    if fmt == "kitti":
        assert not lines
        return
    ids = [f.frame_id for f in drive.frames]
    car, truck = {"kitti-tracking": ("Car", "Truck"), "nuscenes": ("vehicle.car", "vehicle.truck")}[fmt]
    later = ids[2] if n == 3 else f"{ids[2]}–{ids[-1]}"
    assert lines == [f"track {track} has more than one class: {car} in frames {ids[0]}, {later}, "
                     f"{truck} in frame {ids[1]} (a track is one object: in the app a class key retypes the "
                     "whole track)"]
    assert lines[0] in summary.text() and "\n" not in lines[0]


def test_frame_ranges_say_a_range_only_where_every_id_in_it_is_meant():
    """Consecutive drive frames whose IDs count up are a range; IDs 5 apart (SUSTech's) are not
    written as a range, which would read as every ID in between."""
    from fusionlabel.export.base import frame_ranges

    one_by_one = [f"{k:06d}" for k in range(10)]
    assert frame_ranges([2, 3, 4, 7], one_by_one.__getitem__) == "frames 000002–000004, 000007"
    assert frame_ranges([5], one_by_one.__getitem__) == "frame 000005"
    five_apart = [f"{950 + 5 * k:06d}" for k in range(6)]
    text = frame_ranges([0, 1, 2, 3, 4, 5], five_apart.__getitem__)
    assert "–" not in text and text == "frames 000950, 000955, …, 000975 (6 frames)"
    assert frame_ranges([0, 1, 3], five_apart.__getitem__) == "frames 000950, 000955, 000965"
    assert "–" not in frame_ranges([0, 1], ["a", "b"].__getitem__)


@pytest.mark.parametrize("name, text, line, key", [
    ("map.yaml", "van: Car\nbus: Bus\nVAN: Truck\n", 3, "VAN"),           # one class mapped two ways
    ("map.yaml", "van: Car\ntruck:\n  - Truck\n", 2, "truck"),           # a list, not a class name
    ("map.json", '{"van": "Car",\n "bus": 7}\n', 2, "bus"),             # a number, not a class name
])
def test_a_wrong_class_map_entry_names_its_file_and_line(tmp_path, name, text, line, key):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ExportError) as bad:
        load_class_map(path)
    assert str(bad.value).startswith(f"{path}: line {line}, key {key!r}: ") and "\n" not in str(bad.value)
