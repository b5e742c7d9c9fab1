"""The output folders of `export`, `import` and `simulate` with real processes: one run at a time
per --out, an interrupted or killed --force re-run leaves the earlier output as it was, SIGHUP
stops a run as SIGTERM does, and output errors are one line."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fusionlabel.cli.main import main
from fusionlabel.export.run_files import RUN_NAMES, STAGING_NAME

ROOT = Path(__file__).resolve().parents[1]

# The CLI in a process of its own whose every frame takes SLOW seconds longer (the progress step of
# export, import and simulate sleeps), so that a test can act while it runs.
SLOW_CLI = """
import os, signal, sys, time
# Ctrl+C as in a terminal: a test run started in the background (a CI job) hands its children
# SIGINT ignored, and Python then leaves it ignored
signal.signal(signal.SIGINT, signal.default_int_handler)
from fusionlabel import progress
step = progress.LineProgress.update
def slow(self, n=1):
    time.sleep(float(os.environ["SLOW"]))
    step(self, n)
progress.LineProgress.update = slow
from fusionlabel.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def drive12(tmp_path_factory):
    """Twelve simulated frames without cameras (fast to write)."""
    from fusionlabel.sim.writer import simulate_drive

    root = tmp_path_factory.mktemp("d12") / "sim12"
    simulate_drive(root, frames=12, seed=4, points=3000, cameras=False, progress=False)
    return root


def tree(folder: Path) -> dict:
    """Every file under ``folder`` (relative POSIX path) with its bytes, but a run's own hidden
    files and folders (``folder/.fusionlabel-partial``, the lock)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.relative_to(folder).parts[0] not in RUN_NAMES}


def start(args: list[str], slow: float = 0.4) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SLOW_CLI, *args], cwd=ROOT, env={**os.environ, "SLOW": str(slow)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_staged_files(out: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    """Until the run writing ``out`` has written a file into its staging folder."""
    staging = out / STAGING_NAME
    end = time.monotonic() + timeout
    while not (staging.is_dir() and any(p.is_file() for p in staging.rglob("*"))):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < end, "the run wrote nothing"
        time.sleep(0.05)


def command(tool: str, source: Path, out: Path, *extra: str, few: bool = False) -> list[str]:
    """The tool's command line writing ``out`` (``few``: three frames instead of twelve)."""
    if tool == "export":
        return ["export", str(source), "--format", "kitti", "--out", str(out), "--quiet", *extra] + \
            (["--frames", "0-2"] if few else [])
    if tool == "import":
        return ["import", str(source), "--out", str(out), "--quiet", *extra] + (["--frames", "0-2"] if few else [])
    return ["simulate", "--out", str(out), "--frames", "3" if few else "12", "--points", "3000", "--no-cameras",
            "--quiet", *extra]


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("tool", ["export", "import"])
def test_a_second_run_into_the_same_out_is_refused(tool, drive12, tmp_path):
    out = tmp_path / "out"
    first = start(command(tool, drive12, out, "--force"))
    wait_for_staged_files(out, first)
    second = subprocess.run([sys.executable, "-m", "fusionlabel.cli.main", *command(tool, drive12, out, "--force")],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert second.returncode == 2, second.stderr
    err = second.stderr.strip()
    assert len(err.splitlines()) == 1 and "another fusionlabel run is writing this folder" in err
    assert f"pid {first.pid} " in err and str(out) in err
    assert first.wait(timeout=300) == 0, first.stderr.read()
    assert hidden(tmp_path) == hidden(out) == []       # the lock file and the staging folder are gone
    if tool == "export":
        manifest = json.loads((out / "fusionlabel_export.json").read_text())
        assert manifest["complete"] and len(manifest["frames"]) == 12
        assert len(list((out / "label_2").iterdir())) == 12
    else:
        from fusionlabel.io.native import open_native_drive

        assert len(open_native_drive(out)) == 12 and len(list((out / "lidar").iterdir())) == 12


@pytest.mark.parametrize("tool, signum, status", [
    ("export", signal.SIGTERM, 143), ("export", signal.SIGHUP, 129), ("export", signal.SIGINT, 130),
    ("import", signal.SIGHUP, 129), ("simulate", signal.SIGHUP, 129)])
def test_a_stopped_force_run_leaves_the_earlier_output(tool, signum, status, drive12, tmp_path):
    out = tmp_path / "out"
    assert main(command(tool, drive12, out, few=True)) == 0
    if tool != "import":    # import refuses a folder holding other files
        (out / "mine.txt").write_text("mine")
    before = tree(out)
    run = start(command(tool, drive12, out, "--force"))
    wait_for_staged_files(out, run)
    run.send_signal(signum)
    assert run.wait(timeout=120) == status
    err = run.stderr.read()
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("fusionlabel: ")
    assert tree(out) == before and hidden(tmp_path) == hidden(out) == []


@pytest.mark.parametrize("tool", ["export", "import"])
def test_a_killed_force_run_leaves_the_earlier_output_and_the_next_run_cleans_up(tool, drive12, tmp_path):
    out = tmp_path / "out"
    assert main(command(tool, drive12, out, few=True)) == 0
    before = tree(out)
    run = start(command(tool, drive12, out, "--force"))
    wait_for_staged_files(out, run)
    run.kill()
    run.wait(timeout=60)
    assert tree(out) == before                              # SIGKILL: nothing in --out changed
    assert (out / STAGING_NAME).is_dir()             # what it had written lies in it, hidden
    assert main(command(tool, drive12, out, "--force", "--frames", "5-6")) == 0
    assert hidden(tmp_path) == hidden(out) == []
    names = sorted(p.name for p in (out / ("label_2" if tool == "export" else "labels")).iterdir())
    assert names == ["000005" + (".txt" if tool == "export" else ".json"),
                     "000006" + (".txt" if tool == "export" else ".json")]


def test_a_force_run_replaces_the_earlier_export_and_keeps_other_files(drive12, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(command("export", drive12, out, "--frames", "0-4")) == 0
    (out / "notes.md").write_text("mine")
    assert main(command("export", drive12, out, "--frames", "7", "--force")) == 0
    assert sorted(p.name for p in (out / "label_2").iterdir()) == ["000007.txt"]
    assert (out / "notes.md").read_text() == "mine"
    manifest = json.loads((out / "fusionlabel_export.json").read_text())
    assert manifest["complete"] and manifest["kept"] == ["notes.md"] and manifest["frames"] == ["000007"]
    assert "notes.md" not in manifest["written"] and "label_2" in manifest["written"]
    assert f"to {out}:" in capsys.readouterr().out      # the summary names --out, not the staging folder


@pytest.mark.parametrize("tool", ["export", "import"])
def test_out_inside_the_source_is_refused(tool, drive12, capsys):
    out = drive12 / "sub" / "exp"
    before = tree(drive12)
    assert main(command(tool, drive12, out)) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "source drive" in err and "--out" in err
    assert tree(drive12) == before and not (drive12 / "sub").exists()


@pytest.mark.parametrize("tool", ["export", "import", "simulate"])
def test_out_under_a_file_is_one_line(tool, drive12, tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    assert main(command(tool, drive12, tmp_path / "afile" / "sub")) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "afile is a file" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


@pytest.mark.parametrize("tool", ["export", "import", "simulate"])
def test_a_full_disk_is_one_line_naming_the_file(tool, drive12, tmp_path, monkeypatch, capsys):
    """The write of the second sweep fails as on a full disk: one line naming that file (where it
    would be in --out) and 'No space left on device'; nothing is left, not even a partial file.
    Where the file is written with ``Path.write_bytes`` (export's, simulate's and import's sweeps:
    import copies the drive's .fri range images), the failure comes from there as a failed write()
    gives it, naming no file."""
    calls = []
    write_bytes = Path.write_bytes

    def full(write, named=True):
        def writer(path, *a, **k):
            calls.append(path)
            if len(calls) == 2:
                write_bytes(Path(path), b"half")
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), *([str(path)] if named else []))
            return write(path, *a, **k)
        return writer

    sweep = ".bin" if tool == "export" else ".fri"
    monkeypatch.setattr(Path, "write_bytes", lambda self, data: (
        full(write_bytes, named=False)(self, data) if self.suffix == sweep else write_bytes(self, data)))
    out = tmp_path / "out"
    assert main(command(tool, drive12, out)) == 2
    err = capsys.readouterr().err.strip()
    second = out / Path(calls[1]).relative_to(out / STAGING_NAME)
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"fusionlabel: error: {second}: cannot write: No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_sighup_is_not_handled_when_ignored_and_handlers_are_put_back():
    """nohup's ignored SIGHUP stays ignored while a command runs; both handlers are restored after."""
    from fusionlabel.cli.main import restore_signals, stop_on_signals

    old_term = signal.getsignal(signal.SIGTERM)
    old_hup = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        previous = stop_on_signals()
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) is not old_term
        restore_signals(previous)
        assert signal.getsignal(signal.SIGTERM) is old_term
    finally:
        signal.signal(signal.SIGHUP, old_hup)


@pytest.mark.parametrize("tool", ["export", "import", "simulate"])
def test_a_stopped_run_says_how_far_it_got(tool, drive12, tmp_path, monkeypatch, capsys):
    """Progress in a log: the run stopped after its first frame ends with the line for that frame
    (1/12 is under 10 %, so no line was due yet)."""
    import fusionlabel.io.native as native
    from fusionlabel.export.kitti import KittiExporter

    def stop_at_second(cls, name):
        method, seen = getattr(cls, name), []

        def stopping(*a, **k):
            seen.append(1)
            if len(seen) == 2:
                os.kill(os.getpid(), signal.SIGTERM)
            return method(*a, **k)
        monkeypatch.setattr(cls, name, stopping)

    if tool == "export":
        stop_at_second(KittiExporter, "add_frame")
    elif tool == "import":
        stop_at_second(native.NativeDriveWriter, "add_frame")
    else:
        stop_at_second(native, "write_range_image")
    args = [a for a in command(tool, drive12, tmp_path / "out") if a != "--quiet"]
    assert main(args) == 143
    lines = capsys.readouterr().err.strip().splitlines()
    desc = {"export": "export kitti", "import": "import", "simulate": "simulate"}[tool]
    assert lines[-2:] == [f"{desc}: 1/12 frames (8%)", "fusionlabel: terminated"]


def test_out_given_as_dot_or_through_a_link(drive12, tmp_path, monkeypatch):
    """``--out .`` is written in place (the shell's folder stays the same folder); a link to a
    folder is written through (the link stays a link)."""
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    inode = here.stat().st_ino
    assert main(command("export", drive12, Path("."), few=True)) == 0
    assert Path(".").stat().st_ino == here.stat().st_ino == inode
    assert sorted(p.name for p in here.iterdir()) == ["calib", "frames.txt", "fusionlabel_export.json", "label_2",
                                                    "velodyne"]        # nothing hidden left inside
    assert hidden(tmp_path) == []
    target = tmp_path / "target"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target)
    assert main(command("import", drive12, link, few=True)) == 0
    assert link.is_symlink() and (target / "drive.yaml").is_file() and hidden(tmp_path) == hidden(target) == []


def test_an_image_that_cannot_be_written_is_named_as_in_out(tmp_path, monkeypatch, capsys):
    """The image writer's own error (not an OSError) names the file as it would be in --out too."""
    write_bytes = Path.write_bytes

    def full(self, data):
        if self.suffix == ".jpg":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return write_bytes(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    out = tmp_path / "sim"
    assert main(["simulate", "--out", str(out), "--frames", "1", "--points", "3000", "--camera-scale", "0.15",
                 "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and STAGING_NAME not in err and "No space left on device" in err
    assert err.startswith(f"fusionlabel: error: {out}/cameras/") and list(tmp_path.iterdir()) == []


def test_a_sweep_the_reader_cannot_write_says_the_out_folder_was_not_created(drive12, tmp_path, monkeypatch, capsys):
    """import writes its sweeps through the point-cloud writer (sweeps other than .fri range
    images: here KITTI .bin ones), whose own one-line error (not an OSError) ends, as every other
    write failure of a run does, with what became of --out."""
    import builtins

    from test_compact_sweeps import native_drive_of_bin_sweeps

    import fusionlabel.io.point_records as point_records

    opened = []

    def full_open(path, mode="r", *a, **k):
        if "w" in mode and str(path).endswith(".pcd"):
            opened.append(path)
            if len(opened) == 2:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return builtins.open(path, mode, *a, **k)

    source = native_drive_of_bin_sweeps(drive12, tmp_path / "bin_drive")
    monkeypatch.setattr(point_records, "open", full_open, raising=False)
    out = tmp_path / "out"
    assert main(command("import", source, out)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and STAGING_NAME not in err and "No space left on device" in err
    assert err.endswith(f"; {out} not created") and sorted(p.name for p in tmp_path.iterdir()) == ["bin_drive"]
