"""A new project goes into an empty or new folder only: `project create --out` and the app's
`open --project` refuse a folder holding someone else's files (with or without --force), naming it
and leaving every file as it was; a folder holding a project keeps its own rules."""

from pathlib import Path

import pytest

from fusionlabel.cli.main import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


def create(out, *extra):
    return main(["project", "create", str(SAMPLE), "--out", str(out), "--quiet", *extra])


def contents(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): (p.read_text() if p.is_file() else "/") for p in sorted(folder.rglob("*"))}


@pytest.fixture
def mine(tmp_path) -> Path:
    """A folder of the user's: two files and a sub-folder."""
    folder = tmp_path / "mine"
    (folder / "runs").mkdir(parents=True)
    (folder / "notes.txt").write_text("keep me")
    (folder / "runs" / "a.csv").write_text("1,2")
    return folder


@pytest.mark.parametrize("force", [False, True])
def test_create_into_a_folder_of_other_files_is_refused(mine, capsys, force):
    before = contents(mine)
    assert create(mine, *(["--force"] if force else [])) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"fusionlabel: error: {mine}: --out: holds notes.txt, runs, not a fusionlabel project")
    assert "choose an empty or new folder" in err[0]
    assert ("--force replaces only a project, never other files" in err[0]) == force
    assert contents(mine) == before                       # nothing added, nothing moved or deleted
    assert not list(mine.parent.glob("mine.replaced-*"))


def test_many_names_are_counted_not_listed(tmp_path, capsys):
    folder = tmp_path / "many"
    folder.mkdir()
    for k in range(13):
        (folder / f"f{k:02d}.bin").write_bytes(b"")
    assert create(folder) == 2
    err = capsys.readouterr().err
    assert "f09.bin and 3 more, not a fusionlabel project" in err and "f10.bin" not in err


def test_an_empty_or_new_folder_is_fine(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert create(empty) == 0 and (empty / "project.sqlite").is_file()
    assert create(tmp_path / "new" / "deeper") == 0


def test_a_folder_holding_only_a_file_managers_files_is_fine(tmp_path):
    """.DS_Store, Thumbs.db and the like appear in any folder a file manager showed: not the
    user's files, so the project goes there (and they stay)."""
    folder = tmp_path / "seen"
    folder.mkdir()
    (folder / ".DS_Store").write_bytes(b"\0")
    (folder / "Thumbs.db").write_bytes(b"\0")
    assert create(folder) == 0 and (folder / "project.sqlite").is_file() and (folder / ".DS_Store").is_file()


def test_the_drives_own_folder_is_refused_as_the_drive(tmp_path, capsys):
    """--out naming the drive's folder itself says so, rather than listing the drive's files."""
    import shutil

    drive = tmp_path / "drive"
    shutil.copytree(SAMPLE, drive)
    listing = lambda: sorted((str(p.relative_to(drive)), p.stat().st_size) for p in drive.rglob("*"))  # noqa: E731
    before = listing()
    assert main(["project", "create", str(drive), "--out", str(drive), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out: is the drive's own folder" in err[0] and "calib" not in err[0], err
    assert listing() == before


def test_force_still_replaces_a_project_with_files_beside_it(tmp_path, capsys):
    project = tmp_path / "p"
    assert create(project) == 0
    (project / "notes.txt").write_text("mine")
    capsys.readouterr()
    assert create(project) == 2
    assert "already holds a project" in capsys.readouterr().err
    assert create(project, "--force") == 0                 # the files beside a project are no obstacle
    assert (project / "notes.txt").read_text() == "mine" and (project / "project.sqlite").is_file()


def test_the_apps_project_folder_is_refused_the_same_way(mine):
    """`fusionlabel open DRIVE --project DIR` creates through Project.open_or_create_for_drive."""
    from fusionlabel.store.project import Project, ProjectError

    before = contents(mine)
    with pytest.raises(ProjectError, match=r"holds notes\.txt, runs, not a fusionlabel project; a project is made "
                                           r"only in an empty or new folder") as e:
        Project.open_or_create_for_drive(SAMPLE, mine)
    assert e.value.path == mine.absolute()
    assert contents(mine) == before
    with Project.open_or_create_for_drive(SAMPLE, mine / "project") as p:   # a new folder inside it is fine
        assert len(p.drive) > 0
