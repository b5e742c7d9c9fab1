"""The output folder's lock says who holds it: this process (a run into the folder not ended yet,
a batch call re-entering) or another fusionlabel run, named as it wrote itself in."""

from __future__ import annotations

import fcntl
from pathlib import Path

import pytest
from conftest import held_by_another_process

from fusionlabel.cli.main import main
from fusionlabel.export.run_files import LOCK_NAME
from fusionlabel.export.staging import OutputError, OutputLock, output_lock
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
