"""`fusionlabel project create --force`: replaces the project a folder holds, as `import --force`
replaces an earlier import, never losing work: a replaced project holding work is kept beside the
folder, one holding only the drive's labels is removed, a folder holding other files but no
project is refused, a project open elsewhere is refused, and a creation that fails puts the old
project back."""

import sqlite3
from pathlib import Path

import pytest

from conftest import held_by_another_process
from fusionlabel.cli.main import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


def create(out, *extra):
    return main(["project", "create", str(SAMPLE), "--out", str(out), "--quiet", *extra])


def annotations(project: Path) -> list[tuple]:
    con = sqlite3.connect(f"file:{project / 'project.sqlite'}?mode=ro", uri=True)
    try:
        return con.execute("SELECT uid, frame, class, cx, cy, source FROM annotations ORDER BY uid").fetchall()
    finally:
        con.close()


def backups(project: Path) -> list[Path]:
    return sorted(project.parent.glob(f"{project.name}.replaced-*"))


def edited(project: Path) -> None:
    """One human box drawn in frame 0 (a command in the project's log)."""
    from fusionlabel.geometry.cuboid import Cuboid
    from fusionlabel.model.annotation import CuboidLabel
    from fusionlabel.model.commands import CreateCuboid
    from fusionlabel.store.project import Project

    with Project.open(project) as p:
        p.document.apply(CreateCuboid(0, CuboidLabel(Cuboid((12.0, 3.0, 0.8), (4.2, 1.8, 1.5), 0.3), "car")))


def test_without_force_a_project_is_refused_saying_what_force_does(tmp_path, capsys):
    project = tmp_path / "p"
    assert create(project) == 0
    before = annotations(project)
    capsys.readouterr()
    assert create(project) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already holds a project; open it instead, or give --force to replace it" in err[0]
    assert annotations(project) == before and not backups(project)


def test_force_replaces_a_project_of_the_drives_labels_only(tmp_path, capsys):
    project = tmp_path / "p"
    assert create(project, "--import-labels") == 0
    assert annotations(project)
    capsys.readouterr()
    assert create(project, "--force") == 0
    out = capsys.readouterr().out
    assert f"replaced the project that was in {project.absolute()} (it held no edits" in out
    assert annotations(project) == [] and not backups(project)        # nothing but what the drive gives again


def test_force_keeps_a_project_holding_work_beside_it(tmp_path, capsys):
    from fusionlabel.store.project import Project

    project = tmp_path / "p"
    assert create(project, "--import-labels") == 0
    edited(project)
    (project / "notes.txt").write_text("mine")
    before = annotations(project)
    capsys.readouterr()
    assert create(project, "--force", "--import-labels") == 0
    out = capsys.readouterr().out
    [kept] = backups(project)
    assert f"it held 1 edit and is kept in {kept}" in out
    assert annotations(kept) == before                                 # the old project, whole
    with Project.open(kept, read_only=True) as old:                    # and it opens, with its drive
        assert len(old.document) == len(before) and old.document.history()[-1].startswith("Create")
    assert len(annotations(project)) == len(before) - 1                # the new one: the drive's labels
    assert (project / "notes.txt").read_text() == "mine"               # other files stay in the folder


def test_force_refuses_a_folder_holding_no_project(tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "a.txt").write_text("x")
    assert create(folder, "--force") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds a.txt, not a fusionlabel project; --force replaces only a project" in err[0]
    assert sorted(p.name for p in folder.iterdir()) == ["a.txt"]
    # an empty or new folder is no problem
    assert create(tmp_path / "new", "--force") == 0


def test_force_refuses_a_project_open_elsewhere(tmp_path, capsys):
    project = tmp_path / "p"
    assert create(project) == 0
    edited(project)
    before = annotations(project)
    with held_by_another_process(project):
        capsys.readouterr()
        assert create(project, "--force") == 2
        err = capsys.readouterr().err
    assert "another fusionlabel process has this project open" in err and "nothing was changed" in err
    assert annotations(project) == before and not backups(project)


def test_a_failed_creation_puts_the_old_project_back(tmp_path, capsys):
    project = tmp_path / "p"
    assert create(project) == 0
    edited(project)
    before = annotations(project)
    bad = tmp_path / "bad.yaml"
    bad.write_text("classes: [\n")
    assert create(project, "--force", "--ontology", str(bad)) == 2
    assert annotations(project) == before and not backups(project)
    assert (project / "ontology.yaml").is_file()


@pytest.mark.parametrize("interrupt_at", ["import"])
def test_an_interrupted_replacement_puts_the_old_project_back(interrupt_at, tmp_path, monkeypatch):
    from fusionlabel.store import project as project_module

    project = tmp_path / "p"
    assert create(project) == 0
    edited(project)
    before = annotations(project)

    def stop(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(project_module.Project, "import_drive_labels", stop)
    assert create(project, "--force", "--import-labels") == 130
    assert annotations(project) == before and not backups(project)
