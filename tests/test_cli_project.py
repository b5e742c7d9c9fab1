"""`fusionlabel project create`: a project made without the app, usable by prelabel and export."""

from __future__ import annotations

import shutil

from fusionlabel.cli.main import main
from fusionlabel.store.project import Project, default_project_folder


def test_create_with_labels_then_prelabel_and_export_it(small_sim_drive, tmp_path, capsys):
    proj = tmp_path / "proj"
    assert main(["project", "create", str(small_sim_drive.root), "--out", str(proj), "--import-labels",
                 "--quiet"]) == 0
    n_labels = sum(len(small_sim_drive.labels(i)) for i in range(len(small_sim_drive)))
    out = capsys.readouterr().out
    assert f"created project {proj} for drive {small_sim_drive.name} ({len(small_sim_drive)} frames)" in out
    assert f"imported {n_labels} labels from the drive" in out
    with Project.open(proj, read_only=True) as project:
        assert len(project.document) == n_labels
    # a folder holding a project is refused, the project left as it was
    assert main(["project", "create", str(small_sim_drive.root), "--out", str(proj)]) == 2
    assert "already holds a project" in capsys.readouterr().err
    assert main(["prelabel", str(proj), "--quiet"]) == 0
    assert main(["export", str(proj), "--format", "kitti", "--labels-only", "--out", str(tmp_path / "ex"),
                 "--quiet"]) == 0
    assert len(list((tmp_path / "ex" / "label_2").glob("*.txt"))) == len(small_sim_drive)


def test_create_without_labels_in_the_folder_open_uses(small_sim_drive, tmp_path, capsys):
    drive = tmp_path / "drive"
    shutil.copytree(small_sim_drive.root, drive)
    assert main(["project", "create", str(drive), "--quiet"]) == 0
    folder = default_project_folder(drive)
    assert f"created project {folder} " in capsys.readouterr().out
    with Project.open_or_create_for_drive(drive) as project:    # what `fusionlabel open DRIVE` opens
        assert project.folder == folder and len(project.document) == 0


def test_create_on_a_missing_drive_leaves_nothing(tmp_path, capsys):
    assert main(["project", "create", str(tmp_path / "nothing"), "--out", str(tmp_path / "proj")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file or folder" in err
    assert not (tmp_path / "proj").exists()


def test_create_opens_the_drive_once(small_sim_drive, tmp_path, capsys, monkeypatch):
    """`project create` reads the drive folder once, for the default folder's name and the project
    alike (it used to open it twice); the project is the one `fusionlabel open DRIVE` uses."""
    from fusionlabel.io import drives

    drive = tmp_path / "drive"
    shutil.copytree(small_sim_drive.root, drive)
    opened = []
    real = drives._open_layout
    monkeypatch.setattr(drives, "_open_layout", lambda path, *a: opened.append(path) or real(path, *a))
    for extra in ([], ["--out", str(tmp_path / "proj")]):
        opened.clear()
        assert main(["project", "create", str(drive), "--quiet", *extra]) == 0
        assert opened == [drive]
    with Project.open(default_project_folder(drive), read_only=True) as project:
        assert len(project.drive) == len(small_sim_drive)
