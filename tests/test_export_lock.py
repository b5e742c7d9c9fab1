"""The output folder's lock says who holds it: this process (a run into the folder not ended yet,
a batch call re-entering) or another fusionlabel run, named as it wrote itself in."""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path

import pytest
from conftest import held_by_another_process

from fusionlabel.cli.main import main
from fusionlabel.export.run_files import LOCK_NAME
from fusionlabel.export.staging import APP_PID_VAR, OutputError, OutputLock, output_lock
from fusionlabel.store.lock import ProjectLock


@pytest.fixture(scope="module")
def drive2(tmp_path_factory):
    from fusionlabel.sim.writer import simulate_drive

    root = tmp_path_factory.mktemp("d2") / "sim2"
    simulate_drive(root, frames=2, seed=3, points=2000, cameras=False, progress=False)
    return root


def export_args(source: Path, out: Path) -> list[str]:
    return ["export", str(source), "--format", "kitti", "--out", str(out), "--quiet"]


def test_an_export_into_a_folder_this_process_is_writing_says_so(drive2, tmp_path, capsys):
    out = tmp_path / "out"
    with output_lock(out):
        assert main(export_args(drive2, out)) == 2
        with pytest.raises(OutputError, match="this fusionlabel process is already writing this folder"):
            with output_lock(out):
                pass
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"fusionlabel: error: {out}: --out: this fusionlabel process is "
                                               "already writing this folder")
    assert "another fusionlabel" not in err[0]
    assert main(export_args(drive2, out)) == 0          # the lock went with the block


def test_an_export_into_a_folder_another_process_is_writing_names_it(drive2, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    with held_by_another_process(out, name=LOCK_NAME) as child:
        assert main(export_args(drive2, out)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "another fusionlabel run is writing this folder (pid " in err[0]
    assert f"pid {child.pid} " in err[0] and "this fusionlabel process" not in err[0]


@pytest.mark.parametrize("refused_in", ["the same app", "another app", "a terminal"])
def test_an_export_refused_by_an_apps_export_says_whose_it_is(drive2, tmp_path, capsys, monkeypatch, refused_in):
    """Two windows of one app export into one folder: each export runs in a child of the app, so
    the second is refused by a process other than its own, which it names as this app's export
    (the app's pid in both children's environment); an export from another app or from a
    terminal names the app that started the holder."""
    out = tmp_path / "out"
    out.mkdir()
    app = os.getppid()        # a process that stays up while the test runs, standing for the app
    with held_by_another_process(out, name=LOCK_NAME, export_env=dict(os.environ, **{APP_PID_VAR: str(app)})) as child:
        if refused_in == "a terminal":
            monkeypatch.delenv(APP_PID_VAR, raising=False)
        else:
            monkeypatch.setenv(APP_PID_VAR, str(app if refused_in == "the same app" else os.getpid()))
        assert main(export_args(drive2, out)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "another fusionlabel run" not in err[0], err
    host = socket.gethostname()
    said = {"the same app": f"--out: an export started from this app (pid {child.pid}, since ",
            "another app": f"--out: an export started from another fusionlabel app (pid {app} on {host}) is writing "
                           f"this folder (pid {child.pid} since ",
            "a terminal": f"--out: an export started from a fusionlabel app (pid {app} on {host}) is writing "
                          f"this folder (pid {child.pid} since "}[refused_in]
    assert said in err[0] and err[0].endswith("; wait for it to end or choose another folder")


def test_a_lock_on_a_file_already_replaced_leaves_the_new_holders_file(tmp_path, monkeypatch):
    """A run that locked the lock file of a run that just ended (deleted, a new one made and held
    by a third run) lets it go without deleting the third run's lock file, or the record that this
    process holds it."""
    path = tmp_path / LOCK_NAME
    path.write_text("pid 1 ending\n")
    real_flock, third = fcntl.flock, ProjectLock(path)

    def flock(fd, op):
        if op & fcntl.LOCK_EX and not third.held and not getattr(flock, "swapped", False):
            flock.swapped = True           # between our open and our flock: the old file goes, a new one is held
            path.unlink()
            assert third.acquire()
        return real_flock(fd, op)

    monkeypatch.setattr(fcntl, "flock", flock)
    lock = OutputLock(path)
    assert not lock.acquire()
    assert path.exists() and third.held
    assert lock.held_here        # the third run is this process, still on record after the stale lock went
    monkeypatch.undo()
    assert not OutputLock(path).acquire()       # still refused: the third run's lock is where it was
    third.release()
