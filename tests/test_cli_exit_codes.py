"""Exit code 75 (EX_TEMPFAIL) for failures to retry later with the same input — an output folder or
project another run holds, a full disk — and 2 for those that need a fix of the input or the
command, for every command that meets them (README.md, "Exit codes")."""

import errno
import os
from pathlib import Path

import pytest

from conftest import lidar_only_drive
from fusionlabel.cli.main import INPUT_ERROR_STATUS, TEMPORARY_FAILURE_STATUS, main
from fusionlabel.errors import InputError, is_temporary
from fusionlabel.export.run_files import LOCK_NAME
from fusionlabel.export.staging import OutputLock

TEMPFAIL = 75


@pytest.fixture(scope="module")
def drive(tmp_path_factory):
    return lidar_only_drive(tmp_path_factory, frames=3, seed=6, points=4000)


@pytest.fixture
def project(drive, tmp_path):
    assert main(["project", "create", str(drive), "--out", str(tmp_path / "project"), "--quiet"]) == 0
    return tmp_path / "project"


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("fusionlabel: error: "), err
    return err[0]


def test_the_code_is_the_convention_of_schedulers():
    assert TEMPORARY_FAILURE_STATUS == TEMPFAIL == getattr(os, "EX_TEMPFAIL", TEMPFAIL)
    assert INPUT_ERROR_STATUS == 2


@pytest.mark.parametrize("command", [
    ["export", "{drive}", "--format", "kitti", "--out", "{out}", "--quiet"],
    ["import", "{drive}", "--out", "{out}", "--quiet"],
    ["simulate", "--out", "{out}", "--frames", "1", "--points", "3000", "--no-cameras", "--quiet"],
    ["prelabel", "{drive}", "--out", "{out}", "--quiet"]])
def test_an_output_folder_another_run_holds_is_temporary(command, drive, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    other_run = OutputLock(out / LOCK_NAME)
    assert other_run.acquire()
    try:
        args = [a.format(drive=drive, out=out) for a in command]
        assert main(args) == TEMPFAIL
        assert "another fusionlabel run is writing this folder" in one_error_line(capsys)
    finally:
        other_run.release()
    assert main(args) == 0        # the same command, once the other run is gone


def test_a_project_another_process_holds_is_temporary(project, capsys):
    from fusionlabel.store.project import Project

    with Project.open(project):       # another open file description of its lock: as another process
        assert main(["prelabel", str(project), "--frames", "0", "--quiet"]) == TEMPFAIL
        assert "another fusionlabel process has project" in one_error_line(capsys)
        assert main(["prelabel", str(project), "--frames", "0", "--wait", "0.2", "--quiet"]) == TEMPFAIL
        assert "(waited 0.2 s)" in one_error_line(capsys)
        assert main(["project", "import-labels", str(project), "--quiet"]) == TEMPFAIL
        assert "cannot import labels now" in one_error_line(capsys)


def test_a_project_that_cannot_be_written_is_not_temporary(project, capsys, monkeypatch):
    """A project folder without write permission stays so: exit 2, as for any input to fix."""
    from fusionlabel.store import lock

    def refused(self):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self.path))

    monkeypatch.setattr(lock.ProjectLock, "acquire", refused)
    assert main(["prelabel", str(project), "--frames", "0", "--quiet"]) == 2
    assert "is not writable (Permission denied)" in one_error_line(capsys)


def _failing_sweep_writes(monkeypatch, error: int) -> None:
    write_bytes = Path.write_bytes

    def failing(self, data):
        if self.suffix == ".bin":
            raise OSError(error, os.strerror(error), str(self))
        return write_bytes(self, data)
    monkeypatch.setattr(Path, "write_bytes", failing)


@pytest.mark.parametrize("error, status", [(errno.ENOSPC, TEMPFAIL), (errno.EDQUOT, TEMPFAIL), (errno.EACCES, 2),
                                           (errno.EIO, 2)])
def test_a_full_disk_is_temporary_other_write_errors_are_not(error, status, drive, tmp_path, capsys, monkeypatch):
    _failing_sweep_writes(monkeypatch, error)
    out = tmp_path / "out"
    assert main(["export", str(drive), "--format", "kitti", "--out", str(out), "--quiet"]) == status
    assert os.strerror(error) in one_error_line(capsys) and not out.exists()


def test_a_prelabel_run_stopped_by_a_full_disk_is_temporary(drive, tmp_path, capsys, monkeypatch):
    """It keeps the frames it finished; run again once there is room, it completes the work."""
    real = Path.write_bytes
    calls = []

    def full(self, data):
        if self.name.endswith(".json.tmp") and self.name[0].isdigit():
            calls.append(self)
            if len(calls) == 2:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    out = tmp_path / "out"
    assert main(["prelabel", str(drive), "--out", str(out), "--min-score", "0", "--quiet"]) == TEMPFAIL
    assert "No space left on device" in one_error_line(capsys)
    monkeypatch.undo()
    assert main(["prelabel", str(drive), "--out", str(out), "--min-score", "0", "--quiet"]) == 0


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_standard_output_on_a_full_disk_is_temporary(drive, tmp_path):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    with open("/dev/full", "w") as full:
        run = subprocess.run([sys.executable, "-m", "fusionlabel.cli.main", "export", str(drive), "--format",
                              "openlabel", "--out", str(tmp_path / "o"), "--quiet"],
                             cwd=root, stdout=full, stderr=subprocess.PIPE, text=True, timeout=300)
    assert run.returncode == TEMPFAIL, run.stderr


def test_bad_input_stays_2(drive, tmp_path, capsys):
    assert main(["export", str(drive), "--format", "kitti", "--out", str(tmp_path / "o"), "--frames", "9"]) == 2
    one_error_line(capsys)
    assert main(["export", str(tmp_path / "nowhere"), "--format", "kitti", "--out", str(tmp_path / "o")]) == 2
    one_error_line(capsys)


def test_is_temporary_follows_the_wrapped_os_error():
    def wrapped(code):
        try:
            try:
                raise OSError(code, os.strerror(code))
            except OSError:
                raise InputError("f.bin", "cannot write") from None
        except InputError as e:
            return e

    assert is_temporary(wrapped(errno.ENOSPC)) and not is_temporary(wrapped(errno.EACCES))
    assert is_temporary(InputError("x", "held", temporary=True)) and not is_temporary(InputError("x", "bad"))
