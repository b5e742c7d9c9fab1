"""`project create --import-labels` and `project import-labels` meet a drive label file that cannot be
read: exit 2 with one line naming the file, the line and the field, and no project left behind (a
replaced one put back) or nothing imported, unless ``--skip-bad-frames`` imports the other frames'
labels (exit 3, the frame listed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli_render import assert_clean_error, run_cli
from test_kitti_truncation import FRACTIONS, object_folder

from fusionlabel.cli.main import main
from fusionlabel.store.project import Project, is_project


@pytest.fixture
def drive(tmp_path) -> Path:
    """Frames 000000-000002 with a label file each; 000001's second line has a height of ``1.5x``."""
    root = tmp_path / "kitti"
    object_folder(root)
    path = root / "label_2" / "000001.txt"
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace(" 1.50 ", " 1.5x ", 1)
    path.write_text("\n".join(lines) + "\n")
    return root


BAD = ("label_2/000001.txt: line 2: non-numeric field 9 (height): '1.5x', expected a number")


def test_a_bad_label_file_stops_the_creation_and_leaves_nothing(drive, tmp_path):
    for out in (["--out", str(tmp_path / "p")], []):       # a folder of one's own, and the default one
        done = run_cli("project", "create", str(drive), *out, "--import-labels", "--quiet")
        assert_clean_error(done, BAD)
        assert not (tmp_path / "p").exists() and not (drive / ".fusionlabel-project").exists()


def test_a_replaced_project_is_put_back(drive, tmp_path):
    assert main(["project", "create", str(drive), "--out", str(tmp_path / "p"), "--quiet"]) == 0
    done = run_cli("project", "create", str(drive), "--out", str(tmp_path / "p"), "--import-labels", "--force")
    assert_clean_error(done, BAD)
    assert is_project(tmp_path / "p") and sorted(x.name for x in tmp_path.iterdir()) == ["kitti", "p"]
    with Project.open(tmp_path / "p") as p:
        assert len(p.document) == 0          # the project made without labels, as it was


def test_skip_bad_frames_makes_the_project_without_that_frames_labels(drive, tmp_path):
    done = run_cli("project", "create", str(drive), "--out", str(tmp_path / "p"), "--import-labels",
                   "--skip-bad-frames", "--quiet")
    assert done.returncode == 3, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-2].startswith("skipped 1 frame whose label file could not be read (--skip-bad-frames)")
    assert lines[-1].startswith("  frame 000001: ") and lines[-1].endswith(BAD)
    with Project.open(tmp_path / "p") as p:
        assert [len(p.document.annotations(i)) for i in range(3)] == [len(FRACTIONS), 0, len(FRACTIONS)]


def test_skip_bad_frames_with_every_frame_bad_makes_nothing(drive, tmp_path):
    for path in (drive / "label_2").iterdir():
        path.write_text(path.read_text().replace(" 1.50 ", " 1.5x ", 1))
    done = run_cli("project", "create", str(drive), "--out", str(tmp_path / "p"), "--import-labels",
                   "--skip-bad-frames", "--quiet")
    assert_clean_error(done, "--skip-bad-frames: every one of the 3 frames could not be read, no project was made",
                       "label_2/000000.txt: line 1: non-numeric field 9 (height)")
    assert not (tmp_path / "p").exists()


def test_skip_bad_frames_needs_import_labels(drive, tmp_path):
    assert_clean_error(run_cli("project", "create", str(drive), "--out", str(tmp_path / "p"), "--skip-bad-frames"),
                       "--skip-bad-frames", "--import-labels")
    assert not (tmp_path / "p").exists()


# ------------------------------------------------------------------------------ project import-labels
def contents(folder: Path) -> tuple[list[int], list[str], list[tuple]]:
    """A project's cuboids per frame, command history and boxes: what an import would change."""
    with Project.open(folder, read_only=True) as p:
        doc = p.document
        boxes = sorted((i, a.cls, *(round(float(v), 4) for v in a.box.center)) for i in range(len(p.drive))
                       for a in doc.annotations(i))
        return [len(doc.annotations(i)) for i in range(len(p.drive))], doc.history(), boxes


def label_lines(drive: Path, *frames: str) -> int:
    """How many labels the KITTI label files of ``frames`` hold (one a non-empty line)."""
    return sum(1 for f in frames for line in (drive / "label_2" / f"{f}.txt").read_text().splitlines() if line.strip())


def test_import_labels_stops_at_a_bad_label_file_and_imports_nothing(drive, tmp_path):
    assert main(["project", "create", str(drive), "--out", str(tmp_path / "p"), "--quiet"]) == 0
    before = contents(tmp_path / "p")
    assert before[0] == [0, 0, 0]
    done = run_cli("project", "import-labels", str(tmp_path / "p"), "--quiet")
    assert_clean_error(done, BAD)
    assert done.stdout == ""
    assert contents(tmp_path / "p") == before        # not one label of the readable frames either


def test_import_labels_leaves_a_project_with_labels_as_it_was(drive, tmp_path, capsys):
    """A project holding the other frames' labels: the bad file stops the import before it adds the
    label a good frame gained since (which --skip-bad-frames then brings in)."""
    assert main(["project", "create", str(drive), "--out", str(tmp_path / "p"), "--import-labels",
                 "--skip-bad-frames", "--quiet"]) == 3
    path = drive / "label_2" / "000000.txt"
    path.write_text(path.read_text() + "Car 0.00 0 -1.57 500.00 150.00 600.00 250.00 1.50 1.60 3.90 9.00 1.60 40.00 0.00\n")
    before = contents(tmp_path / "p")
    assert before[0] == [len(FRACTIONS), 0, len(FRACTIONS)]
    capsys.readouterr()
    assert main(["project", "import-labels", str(tmp_path / "p"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith(BAD), err
    assert contents(tmp_path / "p") == before
    assert main(["project", "import-labels", str(tmp_path / "p"), "--skip-bad-frames", "--quiet"]) == 3
    assert contents(tmp_path / "p")[0] == [len(FRACTIONS) + 1, 0, len(FRACTIONS)]


def test_import_labels_with_skip_bad_frames_imports_the_readable_frames(drive, tmp_path, capsys):
    assert main(["project", "create", str(drive), "--out", str(tmp_path / "p"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["project", "import-labels", str(tmp_path / "p"), "--skip-bad-frames", "--quiet"]) == 3
    lines = capsys.readouterr().out.splitlines()
    n = label_lines(drive, "000000", "000002")
    assert lines[0] == f"imported {n} labels from the drive"
    assert lines[-2] == ("skipped 1 frame whose label file could not be read (--skip-bad-frames); none of their "
                         "labels were imported:")
    assert lines[-1].startswith("  frame 000001: ") and lines[-1].endswith(BAD)
    counts, history, _ = contents(tmp_path / "p")
    assert counts == [label_lines(drive, "000000"), 0, label_lines(drive, "000002")] and sum(counts) == n
    assert history == [f"Import {n} labels from the drive"]
    # the same command again: nothing new, the bad frame listed again (still exit 3)
    assert main(["project", "import-labels", str(tmp_path / "p"), "--skip-bad-frames", "--quiet"]) == 3
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"imported 0 new labels from the drive; {n} already in the project"
    assert lines[-1].startswith("  frame 000001: ") and lines[-1].endswith(BAD)
    assert contents(tmp_path / "p")[:2] == (counts, history)


def test_import_labels_skip_bad_frames_with_every_frame_bad_imports_nothing(drive, tmp_path):
    assert main(["project", "create", str(drive), "--out", str(tmp_path / "p"), "--quiet"]) == 0
    for path in (drive / "label_2").iterdir():
        path.write_text(path.read_text().replace(" 1.50 ", " 1.5x ", 1))
    before = contents(tmp_path / "p")
    done = run_cli("project", "import-labels", str(tmp_path / "p"), "--skip-bad-frames", "--quiet")
    assert_clean_error(done, "--skip-bad-frames: every one of the 3 frames could not be read, nothing was imported",
                       "label_2/000000.txt: line 1: non-numeric field 9 (height)")
    assert contents(tmp_path / "p") == before


def test_skip_bad_frames_with_every_frame_bad_leaves_an_interrupted_creation_unfinished(drive, tmp_path):
    """A project whose creation was killed, every drive label file then unreadable: `import-labels
    --skip-bad-frames` imports nothing (exit 2) and leaves it unfinished, as it was, so that an
    import once the files are mended finishes it (before, it was marked finished with none of the
    drive's labels, and that import then added them as an edit, not the starting point);
    `project create` in the same case leaves no project."""
    from test_cli_project import kill_create_at

    from fusionlabel.store.project import interrupted_creation

    originals = {path: path.read_text().replace(" 1.5x ", " 1.50 ") for path in (drive / "label_2").iterdir()}
    project = tmp_path / "p"
    kill_create_at("before", drive, project)
    assert interrupted_creation(project)
    for path, text in originals.items():
        path.write_text(text.replace(" 1.50 ", " 1.5x ", 1))
    done = run_cli("project", "import-labels", str(project), "--skip-bad-frames", "--quiet")
    assert_clean_error(done, "--skip-bad-frames: every one of the 3 frames could not be read, nothing was imported; "
                             "the project's creation is still unfinished",
                       "label_2/000000.txt: line 1: non-numeric field 9 (height)")
    assert interrupted_creation(project)
    for path, text in originals.items():
        path.write_text(text)
    assert main(["project", "import-labels", str(project), "--quiet"]) == 0
    assert not interrupted_creation(project)
    counts, history, _ = contents(project)
    n = label_lines(drive, "000000", "000001", "000002")
    assert sum(counts) == n and history == [f"Import {n} labels from the drive"]
    with Project.open(project) as p:
        assert p.document.starting_point() == history and not p.document.can_undo
    # `project create` over an interrupted creation, every file bad: no project at all
    (tmp_path / "q").mkdir()
    kill_create_at("before", drive, tmp_path / "q")
    for path, text in originals.items():
        path.write_text(text.replace(" 1.50 ", " 1.5x ", 1))
    done = run_cli("project", "create", str(drive), "--out", str(tmp_path / "q"), "--import-labels",
                   "--skip-bad-frames", "--quiet")
    assert_clean_error(done, "every one of the 3 frames could not be read, no project was made")
    assert not is_project(tmp_path / "q")
