"""`fusionlabel project create`: a project made without the app, usable by prelabel and export."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import held_by_another_process
from fusionlabel.cli.main import main
from fusionlabel.store.project import (Project, ProjectError, default_project_folder, interrupted_creation,
                                       is_project, open_project_or_drive)

REPO = Path(__file__).resolve().parents[1]


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


# ------------------------------------------------------------------------------ a create killed half-way
# Runs `fusionlabel project create` in a child whose label import announces where it is and then
# waits, so that the test kills it there with a real SIGKILL (no timing guesses).
KILLABLE_CREATE = """
import sys, time
import fusionlabel.store.project as project
real = project.import_drive_labels

def waiting_import(*args, **kwargs):
    if sys.argv[1] == "before":
        print("importing", flush=True)
        time.sleep(600)
    report = real(*args, **kwargs)
    print("imported", flush=True)
    time.sleep(600)
    return report

project.import_drive_labels = waiting_import
from fusionlabel.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


def kill_create_at(point: str, drive, folder) -> None:
    """Start `project create DRIVE --out FOLDER --import-labels` and SIGKILL it at ``point``:
    ``before`` its labels are imported, or just after (committed, the project not yet marked done)."""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    child = subprocess.Popen([sys.executable, "-c", KILLABLE_CREATE, point, "project", "create", str(drive),
                              "--out", str(folder), "--import-labels", "--quiet"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    try:
        line = child.stdout.readline()
        assert line.strip() == ("importing" if point == "before" else "imported"), child.stderr.read()
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=60) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        child.stderr.close()


@pytest.mark.parametrize("point", ["before", "after"])
def test_killed_create_says_so_and_the_same_command_replaces_it(small_sim_drive, tmp_path, capsys, point):
    proj = tmp_path / "proj"
    kill_create_at(point, small_sim_drive.root, proj)
    n_labels = sum(len(small_sim_drive.labels(i)) for i in range(len(small_sim_drive)))
    assert is_project(proj) and interrupted_creation(proj)
    # export, prelabel and the app refuse it with one line saying what happened and what to run
    assert main(["export", str(proj), "--format", "openlabel", "--out", str(tmp_path / "ex"), "--quiet"]) == 2
    assert main(["prelabel", str(proj), "--quiet"]) == 2
    with pytest.raises(ProjectError) as info:
        open_project_or_drive(proj)
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and not (tmp_path / "ex").exists()
    for message in (*err.splitlines(), str(info.value)):
        assert "creation of this project was interrupted" in message
        assert f"fusionlabel project create {small_sim_drive.root} --out {proj} --import-labels" in message
    # the same command again makes it anew, with every label
    assert main(["project", "create", str(small_sim_drive.root), "--out", str(proj), "--import-labels",
                 "--quiet"]) == 0
    assert f"imported {n_labels} labels from the drive" in capsys.readouterr().out
    assert not interrupted_creation(proj)
    with Project.open(proj, read_only=True) as project:
        assert len(project.document) == n_labels and project.integrity_check() == "ok"
        assert project.document.history() == [f"Import {n_labels} labels from the drive"]
    assert main(["project", "create", str(small_sim_drive.root), "--out", str(proj)]) == 2   # now it is done
    assert "already holds a project" in capsys.readouterr().err


def test_killed_create_is_finished_by_import_labels_or_the_app(small_sim_drive, tmp_path, capsys):
    n_labels = sum(len(small_sim_drive.labels(i)) for i in range(len(small_sim_drive)))
    kill_create_at("before", small_sim_drive.root, tmp_path / "a")
    assert main(["project", "import-labels", str(tmp_path / "a"), "--quiet"]) == 0
    assert capsys.readouterr().out == f"imported {n_labels} labels from the drive\n"
    assert not interrupted_creation(tmp_path / "a")
    assert main(["project", "import-labels", str(tmp_path / "a"), "--quiet"]) == 0     # idempotent, as Ctrl+I
    assert capsys.readouterr().out == f"imported 0 new labels from the drive; {n_labels} already in the project\n"
    # what `fusionlabel open DRIVE --project FOLDER` does: the unfinished project is made anew
    kill_create_at("before", small_sim_drive.root, tmp_path / "b")
    with Project.open_or_create_for_drive(small_sim_drive.root, tmp_path / "b") as project:
        assert len(project.document) == n_labels and not project.store.incomplete()


def test_import_labels_into_a_project_made_without_them(small_sim_drive, tmp_path, capsys):
    proj = tmp_path / "proj"
    assert main(["project", "create", str(small_sim_drive.root), "--out", str(proj), "--quiet"]) == 0
    with held_by_another_process(proj):        # while another process holds it, nothing is imported
        assert main(["project", "import-labels", str(proj), "--quiet"]) == 2
        assert "cannot import labels now: another fusionlabel process has project" in capsys.readouterr().err
    with Project.open(proj, read_only=True) as project:
        assert len(project.document) == 0
    assert main(["project", "import-labels", str(proj), "--quiet"]) == 0
    n_labels = sum(len(small_sim_drive.labels(i)) for i in range(len(small_sim_drive)))
    with Project.open(proj, read_only=True) as project:
        assert len(project.document) == n_labels
    assert main(["project", "import-labels", str(tmp_path / "nothing")]) == 2
    assert "not a fusionlabel project" in capsys.readouterr().err


# ------------------------------------------------------------------------------ relink
def test_relink_a_moved_drive_headless(small_sim_drive, tmp_path, capsys):
    drive, proj = tmp_path / "drive", tmp_path / "proj"
    shutil.copytree(small_sim_drive.root, drive)
    assert main(["project", "create", str(drive), "--out", str(proj), "--import-labels", "--quiet"]) == 0
    capsys.readouterr()
    moved = tmp_path / "moved"
    drive.rename(moved)
    # export says what to run
    assert main(["export", str(proj), "--format", "openlabel", "--out", str(tmp_path / "ex"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"fusionlabel project relink {proj} NEW_DRIVE" in err and err.count("\n") == 1
    # another drive is refused and nothing changes
    other = tmp_path / "other"
    shutil.copytree(moved, other)
    sweep = sorted((other / "lidar").iterdir())[1]
    sweep.write_bytes(sweep.read_bytes()[:-16])
    assert main(["project", "relink", str(proj), str(other)]) == 2
    err = capsys.readouterr().err
    assert "this is not the drive the project was made for" in err and "sweep had" in err
    assert main(["project", "relink", str(proj), str(tmp_path / "nowhere")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    # the moved drive is taken and remembered
    assert main(["project", "relink", str(proj), str(moved)]) == 0
    assert capsys.readouterr().out == f"relinked project {proj} to drive {moved} (was {drive})\n"
    assert main(["export", str(proj), "--format", "openlabel", "--out", str(tmp_path / "ex"), "--quiet"]) == 0
    assert main(["project", "relink", str(proj), str(moved)]) == 0
    assert capsys.readouterr().out.endswith(f"project {proj} already uses drive {moved}\n")


def test_relink_refuses_a_project_another_process_has_open(small_sim_drive, tmp_path, capsys):
    drive, proj = tmp_path / "drive", tmp_path / "proj"
    shutil.copytree(small_sim_drive.root, drive)
    assert main(["project", "create", str(drive), "--out", str(proj), "--quiet"]) == 0
    moved = tmp_path / "moved"
    drive.rename(moved)
    with Project.open(proj, drive_path=moved) as opened:      # relinks
        drive_record_path = opened.store.drive_record().path
    moved.rename(drive)
    with held_by_another_process(proj):
        assert main(["project", "relink", str(proj), str(drive)]) == 2
        err = capsys.readouterr().err
        assert "cannot relink it now: another fusionlabel process has project" in err
        assert "opened read-only" not in err
    assert drive_record_path == str(moved)
    with Project.open(proj, drive_path=drive) as project:
        assert project.drive.root == drive


def test_exporting_an_empty_project_says_no_objects_were_written(small_sim_drive, tmp_path, capsys):
    """A batch job must not ship an empty training set without a word: an export that writes no
    object says why on stderr (exit 0: an empty export can be meant); one with objects says nothing."""
    empty = tmp_path / "empty"
    assert main(["project", "create", str(small_sim_drive.root), "--out", str(empty), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["export", str(empty), "--format", "kitti", "--labels-only", "--out", str(tmp_path / "e1"),
                 "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "0 object(s)" in captured.out
    note = [line for line in captured.err.splitlines() if "no objects were written" in line]
    assert len(note) == 1 and "--include-prelabels" in note[0] and note[0].startswith("note: ")
    full = tmp_path / "full"
    assert main(["project", "create", str(small_sim_drive.root), "--out", str(full), "--import-labels",
                 "--quiet"]) == 0
    capsys.readouterr()
    assert main(["export", str(full), "--format", "kitti", "--labels-only", "--out", str(tmp_path / "e2"),
                 "--quiet"]) == 0
    assert "no objects were written" not in capsys.readouterr().err
