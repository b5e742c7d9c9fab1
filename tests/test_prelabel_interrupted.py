"""`fusionlabel prelabel` cut short: a run interrupted (Ctrl+C, SIGTERM) or killed (SIGKILL) keeps
the frames it finished, in a project and in an --out folder, and running it again completes the
work without duplicates; output errors (a full disk, a file where a folder should be) are one
line; a project held by another process is refused saying what to do; a broken calibration stops
a native run as it stops a KITTI one."""

import errno
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import held_by_another_process
from fusionlabel.assist.prelabel_manifest import MANIFEST
from fusionlabel.cli.main import main

# A prelabel run in its own process, its detector slowed to 0.3 s a frame and batches stored every
# 0.5 s, so that a signal sent while it runs lands between stored batches and before the end.
# FL_TEST_BATCH_SECONDS sets another batch time; with FL_TEST_MARKS each detected frame appends a
# line to that file once the run holds its detections: when the next frame's detection starts
# (frames are detected one after another; a mark written as the detector returned raced a signal
# landing before the run took the result, which a loaded machine showed).
SLOW_RUN = """
import os, signal, sys, time
# Ctrl+C as in a terminal: a test run started in the background (a CI job) hands its children
# SIGINT ignored, and Python then leaves it ignored
signal.signal(signal.SIGINT, signal.default_int_handler)
from fusionlabel.assist import builtin, prelabel, prelabel_project
detect = builtin.GeometricDetector.detect_frame
started = []
def slow(self, drive, index):
    if started and os.environ.get("FL_TEST_MARKS"):
        with open(os.environ["FL_TEST_MARKS"], "a") as f:
            f.write(f"{started[-1]}\\n")
    started.append(index)
    time.sleep(0.3)
    return detect(self, drive, index)
builtin.GeometricDetector.detect_frame = slow
prelabel.BATCH_SECONDS = prelabel_project.BATCH_SECONDS = float(os.environ.get("FL_TEST_BATCH_SECONDS", 0.5))
from fusionlabel.cli.main import main
sys.exit(main(sys.argv[1:]))
"""
FRAMES = 14


@pytest.fixture(scope="module")
def drive(tmp_path_factory):
    from fusionlabel.sim.writer import simulate_drive

    out = tmp_path_factory.mktemp("sim") / "drive"
    simulate_drive(out, frames=FRAMES, seed=4, points=30_000, cameras=False, progress=False)
    return out


def start(args, cwd, quiet=True, **env):
    import fusionlabel

    env = dict(os.environ, PYTHONPATH=str(Path(fusionlabel.__file__).parents[1]), **env)   # this checkout's code
    return subprocess.Popen([sys.executable, "-c", SLOW_RUN, "prelabel", *map(str, args), *["--quiet"][:quiet]],
                            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def detected(marks: Path) -> int:
    """Frames the slow run in its own process has detected and taken the detections of so far
    (FL_TEST_MARKS)."""
    return len(marks.read_text().split()) if marks.exists() else 0


def wait_for(condition, proc, timeout=60.0):
    end = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"the run ended first: {proc.communicate()}"
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def model_boxes(project: Path) -> list[tuple]:
    con = sqlite3.connect(f"file:{project / 'project.sqlite'}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT frame, class, round(cx, 5), round(cy, 5), round(score, 6) FROM annotations "
                           "WHERE source='model' ORDER BY frame, cx, cy").fetchall()
    finally:
        con.close()
    return rows


def stored_prelabel_commands(project: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{project / 'project.sqlite'}?mode=ro", uri=True)
        try:
            return con.execute("SELECT count(*) FROM commands WHERE state='done' AND description LIKE "
                               "'Pre-label%'").fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:      # the writer holds it for a moment
        return 0


def make_project(drive, folder):
    assert main(["project", "create", str(drive), "--out", str(folder)]) == 0
    return folder


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_a_project_run_killed_or_interrupted_keeps_its_finished_frames(sig, drive, tmp_path, capsys):
    reference = make_project(drive, tmp_path / "reference")
    assert main(["prelabel", str(reference), "--min-score", "0.3", "--quiet"]) == 0
    full = model_boxes(reference)
    assert len({f for f, *_ in full}) >= FRAMES - 2       # nearly every frame has pre-labels

    project = make_project(drive, tmp_path / "project")
    proc = start([project, "--min-score", "0.3"], tmp_path)
    wait_for(lambda: stored_prelabel_commands(project) > 0, proc)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == (-signal.SIGKILL if sig == signal.SIGKILL else 130)
    kept = model_boxes(project)
    assert kept and set(kept) < set(full)               # the finished frames are there, not all of them
    if sig == signal.SIGINT:
        assert "kept the pre-labels of the" in err and "finished before the interruption" in err
        assert "fusionlabel: interrupted" in err
    # the kept pre-labels are one undoable step
    from fusionlabel.store.project import Project

    with Project.open(project) as p:
        assert [d for d in p.document.history() if d.startswith("Pre-label")] and p.document.can_undo
    capsys.readouterr()
    # running it again completes the work: nothing missing, nothing twice, the frames the run
    # recorded as finished not detected again (a SIGKILL may land between a batch and its record:
    # those frames are detected again and found again exactly)
    assert main(["prelabel", str(project), "--min-score", "0.3", "--quiet"]) == 0
    assert model_boxes(project) == full
    resumed = re.search(rf"resumed: (\d+) of {FRAMES} frames already pre-labelled", capsys.readouterr().err)
    assert resumed and 0 < int(resumed.group(1)) < FRAMES


def test_an_out_folder_run_terminated_keeps_its_files_and_says_it_is_incomplete(drive, tmp_path, capsys):
    reference = tmp_path / "reference"
    assert main(["prelabel", str(drive), "--out", str(reference), "--quiet"]) == 0
    capsys.readouterr()
    done = json.loads((reference / MANIFEST).read_text())
    assert done["complete"] is True and len(done["frames"]) == FRAMES and done["skipped_frames"] == []

    out = tmp_path / "out"
    proc = start([drive, "--out", out], tmp_path)
    wait_for(lambda: (out / MANIFEST).is_file() and json.loads((out / MANIFEST).read_text())["frames"], proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "fusionlabel: terminated" in err
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["complete"] is False and 0 < len(manifest["frames"]) < FRAMES
    written = sorted(p.stem for p in out.glob("*.json"))
    assert set(manifest["frames"]) <= set(written) and len(written) < FRAMES
    for fid in manifest["frames"]:       # each finished frame as a whole run writes it
        assert (out / f"{fid}.json").read_bytes() == (reference / f"{fid}.json").read_bytes()
    from fusionlabel.wording import counted

    assert f"kept the pre-labels of the {counted(len(manifest['frames']), 'frame')} finished before the " \
           f"interruption in {out}" in err
    assert not list(out.rglob("*.tmp"))
    # eval of the unfinished folder says what it is
    assert main(["eval", "--pred", str(out), "--gt", str(drive)]) == 0
    said = capsys.readouterr()
    n = len(manifest["frames"])
    assert f"is the output of a prelabel run that did not finish ({counted(n, 'frame')} written)" in said.err
    assert main(["eval", "--pred", str(reference), "--gt", str(drive)]) == 0
    assert "did not finish" not in capsys.readouterr().err

    assert main(["prelabel", str(drive), "--out", str(out), "--quiet"]) == 0
    said = capsys.readouterr()
    assert f"resumed: {n} of {FRAMES} frames already pre-labelled by the interrupted run" in said.err
    assert sorted(p.name for p in out.glob("*.json")) == sorted(p.name for p in reference.glob("*.json"))
    for p in reference.glob("*.json"):
        assert (out / p.name).read_bytes() == p.read_bytes()
    assert json.loads((out / MANIFEST).read_text())["complete"] is True


def test_a_tracked_run_into_a_folder_ends_as_one_whole_run(drive, tmp_path, capsys):
    """Batches of a --track run are written untracked as it goes; the end writes the tracked run
    exactly as one written at once (compared with the files of a run over the same frames)."""
    from fusionlabel.assist import prelabel

    out, whole = tmp_path / "out", tmp_path / "whole"
    assert main(["prelabel", str(drive), "--track", "--out", str(out), "--frames", "0-5", "--quiet"]) == 0
    before = prelabel.BATCH_SECONDS
    try:
        prelabel.BATCH_SECONDS = 0.0      # a batch per frame
        assert main(["prelabel", str(drive), "--track", "--out", str(out), "--quiet"]) == 0
    finally:
        prelabel.BATCH_SECONDS = before
    assert main(["prelabel", str(drive), "--track", "--out", str(whole), "--frames", "0-5", "--quiet"]) == 0
    assert main(["prelabel", str(drive), "--track", "--out", str(whole), "--quiet"]) == 0
    assert sorted(p.name for p in out.glob("*.json")) == sorted(p.name for p in whole.glob("*.json"))
    for p in whole.glob("*.json"):
        assert (out / p.name).read_text() == p.read_text()
    assert not (out / ".fusionlabel-prelabel" / ".before").exists()


def test_a_full_disk_is_one_line_naming_the_file(drive, tmp_path, capsys, monkeypatch):
    real = Path.write_bytes

    def full(self, data):
        if self.name.endswith(".json.tmp") and self.name[0].isdigit():
            real(self, data[: len(data) // 2])        # half written, then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    out = tmp_path / "out"
    assert main(["prelabel", str(drive), "--out", str(out), "--frames", "0-1", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"fusionlabel: error: {out / '000000.json'}: cannot write")
    assert err[0].endswith("No space left on device")
    assert not list(out.rglob("*.tmp"))


def disk_full_at(name: str, folder: str = "out"):
    """A ``Path.write_bytes`` (through which label files, records and the manifest are written)
    that fails as on a full disk (half the bytes, then ENOSPC with no file name, as a failed write
    says) for the temporary file of ``name`` in ``folder``; the others are written (the room the
    removed temporary file gave back holds a small manifest)."""
    real = Path.write_bytes

    def write_bytes(self, data):
        if self.name == f"{name}.tmp" and self.parent.name == folder:
            real(self, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, data)

    return write_bytes


@pytest.mark.parametrize("track", [False, True])
@pytest.mark.parametrize("failing", ["out", ".fusionlabel-prelabel"])
def test_a_full_disk_part_way_keeps_and_lists_the_frames_written(failing, track, drive, tmp_path, capsys,
                                                                 monkeypatch):
    """The disk fills at frame 4 of a one-batch run, at its label file or at its record: the four
    label files before it stay (and no label file of frame 4 without its record, which the next
    run would keep as an edited pre-label), the error line names the file and says they were kept,
    and the manifest (written before the disk filled) lists them, so that the next run says how
    many there were; that run then leaves the folder as a clean run does."""
    from fusionlabel.assist import prelabel

    monkeypatch.setattr(prelabel, "BATCH_SECONDS", 1e6)      # one batch: the disk fills inside it
    monkeypatch.setattr(Path, "write_bytes", disk_full_at("000004.json", failing))
    out = tmp_path / "out"
    track_option = ["--track"] if track else []
    assert main(["prelabel", str(drive), "--out", str(out), "--frames", "0-7", "--quiet", *track_option]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    named = out / '000004.json' if failing == "out" else out / failing / "000004.json"
    assert len(err) == 1 and err[0].startswith(f"fusionlabel: error: {named}: cannot write: "
                                               "No space left on device; kept the pre-labels of the 4 frames "
                                               f"finished before it in {out} (")
    assert sorted(p.name for p in out.glob("*.json")) == [f"{i:06d}.json" for i in range(4)]
    assert not list(out.rglob("*.tmp")) and not (out / ".fusionlabel-prelabel" / ".before").exists()
    monkeypatch.undo()
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["complete"] is False and manifest["frames"] == [f"{i:06d}" for i in range(4)]
    assert main(["prelabel", str(drive), "--out", str(out), "--frames", "0-7", "--quiet", *track_option]) == 0
    captured = capsys.readouterr()
    assert "resumed: 4 of 8 frames already pre-labelled" in captured.err and "edited" not in captured.out
    if not track:
        clean = tmp_path / "clean"
        assert main(["prelabel", str(drive), "--out", str(clean), "--frames", "0-7", "--quiet"]) == 0
        assert {p.name: p.read_bytes() for p in out.glob("*.json")} == \
            {p.name: p.read_bytes() for p in clean.glob("*.json")}


def test_a_full_disk_in_the_final_tracked_write_keeps_what_it_wrote(drive, tmp_path, capsys, monkeypatch):
    """A tracked run writes every frame again at the end with its tracks: the disk filling there
    leaves the frames rewritten before it and puts the others back as they were before the run,
    and the error line and the manifest count only the rewritten ones."""
    from fusionlabel.assist import prelabel_folder

    out = tmp_path / "out"
    assert main(["prelabel", str(drive), "--out", str(out), "--frames", "0-5", "--min-score", "0.3", "--quiet"]) == 0
    before = {p.name: p.read_bytes() for p in out.glob("*.json")}
    track_drive = prelabel_folder.track_drive

    def then_full(*args, **kwargs):        # the disk fills once the detection batches are written
        monkeypatch.setattr(Path, "write_bytes", disk_full_at("000003.json"))
        return track_drive(*args, **kwargs)

    monkeypatch.setattr(prelabel_folder, "track_drive", then_full)
    assert main(["prelabel", str(drive), "--out", str(out), "--frames", "0-5", "--min-score", "0.3", "--track",
                 "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "000003.json: cannot write: No space left on device; kept the pre-labels of the " \
                             "3 frames finished" in err[0]
    monkeypatch.undo()
    assert json.loads((out / MANIFEST).read_text())["frames"] == [f"{i:06d}" for i in range(3)]
    assert {name: (out / name).read_bytes() for name in before if name >= "000003"} == \
        {name: data for name, data in before.items() if name >= "000003"}


def test_a_full_disk_under_a_project_says_the_disk_is_full(drive, tmp_path, capsys, monkeypatch):
    """SQLite's 'database or disk is full' (here: a page limit, as a full disk ends it) is said as
    such, and what was stored before is kept."""
    from fusionlabel.store import db

    project = make_project(drive, tmp_path / "project")
    configure = db.ProjectStore._configure

    def no_room(self):
        configure(self)
        pages = self._con.execute("PRAGMA page_count").fetchone()[0]
        self._con.execute(f"PRAGMA max_page_count={pages}")

    monkeypatch.setattr(db.ProjectStore, "_configure", no_room)
    assert main(["prelabel", str(project), "--min-score", "0.3", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(project / "project.sqlite") in err[0]
    assert "the disk is full (No space left on device)" in err[0]
    assert model_boxes(project) == []


def test_an_out_below_a_file_is_one_line(drive, tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    out = tmp_path / "afile" / "sub"
    assert main(["prelabel", str(drive), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"fusionlabel: error: {out}: --out: cannot create the output folder: {tmp_path / 'afile'} is "
                   "a file, not a folder"]


def test_a_permission_error_while_writing_is_one_line(drive, tmp_path, capsys, monkeypatch):
    import fusionlabel.files as files     # where the manifest's and label files' whole-file writes are done

    def refused(src, dst):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(dst))

    monkeypatch.setattr(files.os, "replace", refused)
    out = tmp_path / "out"
    assert main(["prelabel", str(drive), "--out", str(out), "--frames", "0", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith("cannot write: Permission denied") and str(out) in err[0]
    assert not list(out.rglob("*.tmp"))


def read_only_below(folder: Path, monkeypatch) -> None:
    """Make the system calls that create files and folders fail below ``folder`` as on a read-only
    file system (EROFS, naming the path, as the kernel's errors do); reading still works."""
    real_open, real_mkdir = os.open, os.mkdir

    def refused(path):
        return Path(path).absolute().is_relative_to(folder)

    def open_(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and refused(path):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)

    def mkdir(path, *args, **kwargs):
        if refused(path):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(os, "mkdir", mkdir)


@pytest.mark.parametrize("existing", [True, False])
def test_a_read_only_out_says_read_only(existing, drive, tmp_path, capsys, monkeypatch):
    """A read-only file system is said as such (not 'Permission denied'), naming the folder."""
    ro = tmp_path / "ro"
    (ro / "out").mkdir(parents=True)
    out = ro / "out" if existing else ro / "new" / "out"
    read_only_below(ro, monkeypatch)
    assert main(["prelabel", str(drive), "--out", str(out), "--frames", "0", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    what = "cannot write into the output folder" if existing else f"cannot create the output folder in {ro}"
    assert err == [f"fusionlabel: error: {out}: --out: {what}: Read-only file system"]
    assert sorted(p.name for p in ro.iterdir()) == ["out"] and not list((ro / "out").iterdir())


def test_a_read_only_project_is_refused_with_advice_that_fits(drive, tmp_path, capsys, monkeypatch):
    """A project on a read-only file system: no advice to close it elsewhere or wait (--wait would
    only wait in vain); --out DIR, or a copy of the project, can help."""
    project = make_project(drive, tmp_path / "project")
    read_only_below(project, monkeypatch)
    assert main(["prelabel", str(project), "--frames", "0", "--quiet", "--wait", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not writable (Read-only file system); nothing was done" in err[0]
    assert "--out DIR" in err[0] and "--wait" not in err[0] and "Close it" not in err[0]
    monkeypatch.undo()
    assert model_boxes(project) == []


def test_a_project_held_by_another_process_is_refused_saying_what_to_do(drive, tmp_path, capsys):
    from fusionlabel.store.project import Project

    project = make_project(drive, tmp_path / "project")
    with held_by_another_process(project):
        assert main(["prelabel", str(project), "--frames", "0", "--quiet"]) == 2
        err = capsys.readouterr().err.strip()
        assert "another fusionlabel process has project" in err and "nothing was done" in err
        assert "--wait SECONDS" in err and not err.endswith("opened read-only")
    with held_by_another_process(project, seconds=0.5):     # lets it go half a second later
        assert main(["prelabel", str(project), "--frames", "0", "--wait", "20", "--quiet"]) == 0
        assert "for 1 frame to project" in capsys.readouterr().out
    holder = Project.open(project)             # open in this process too: said so, waited for as well
    try:
        assert main(["prelabel", str(project), "--frames", "0", "--quiet"]) == 2
        err = capsys.readouterr().err.strip()
        assert "is already open in this process" in err and "--wait SECONDS" in err
        threading.Timer(0.5, holder.close).start()
        assert main(["prelabel", str(project), "--frames", "0", "--wait", "20", "--quiet"]) == 0
    finally:
        holder.close()


@pytest.mark.parametrize("fmt", ["native", "kitti"])
def test_a_broken_kitti_calibration_stops_or_is_skipped(fmt, tmp_path, capsys):
    from fusionlabel.store.fake_drive import make_fake_drive

    root = make_fake_drive(tmp_path / "kitti", n_frames=3, n_points=3000)
    calib = root / "calib" / "000001.txt"
    calib.write_text("".join(line for line in calib.read_text().splitlines(True) if not line.startswith("R0_rect")))
    out = tmp_path / "out"
    assert main(["prelabel", str(root), "--format", fmt, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(calib) in err and "R0_rect" in err and not out.exists()
    assert main(["prelabel", str(root), "--format", fmt, "--out", str(out), "--skip-bad-frames", "--quiet"]) == 3
    said = capsys.readouterr().out
    assert "000001" in said and "R0_rect" in said
    ext = ".json" if fmt == "native" else ".txt"
    assert sorted(p.name for p in out.glob(f"*{ext}")) == [f"000000{ext}", f"000002{ext}"]
    manifest = json.loads((out / MANIFEST).read_text())
    assert [s["frame"] for s in manifest["skipped_frames"]] == ["000001"] and manifest["complete"] is True


def progress_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("prelabel: ")]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_stop_stores_the_frames_detected_since_the_last_batch(sig, drive, tmp_path):
    """Batches far apart (100 s): a signal after a few frames finds them detected but not stored;
    the run stores them before it exits, says how many it kept, and its last progress line is
    that number (it used to drop them and say that no frame was finished)."""
    out, marks = tmp_path / "out", tmp_path / "marks"
    proc = start([drive, "--out", out], tmp_path, quiet=False, FL_TEST_BATCH_SECONDS="100",
                 FL_TEST_MARKS=str(marks))
    wait_for(lambda: detected(marks) >= 3, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig
    manifest = json.loads((out / MANIFEST).read_text())
    n = len(manifest["frames"])
    assert manifest["complete"] is False and 3 <= n < FRAMES
    assert sorted(p.stem for p in out.glob("*.json")) == manifest["frames"]
    assert f"kept the pre-labels of the {n} frames finished before the interruption in {out}" in err
    assert progress_lines(err)[-1] == f"prelabel: {n}/{FRAMES} frames ({100 * n // FRAMES}%)"


def test_a_stop_in_a_project_stores_the_frames_detected_since_the_last_batch(drive, tmp_path):
    project = make_project(drive, tmp_path / "project")
    marks = tmp_path / "marks"
    proc = start([project, "--min-score", "0.3"], tmp_path, FL_TEST_BATCH_SECONDS="100", FL_TEST_MARKS=str(marks))
    wait_for(lambda: detected(marks) >= 3, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143
    frames = {f for f, *_ in model_boxes(project)}
    assert len(frames) >= 3 and max(frames) < FRAMES - 1
    assert f"kept the pre-labels of the {max(frames) + 1} frames finished before the interruption" in err


def broken_copy(drive, tmp_path, frame: int) -> tuple[Path, Path]:
    """A copy of ``drive`` whose sweep of ``frame`` is cut short; returns (copy, that file)."""
    import shutil

    root = tmp_path / "broken"
    shutil.copytree(drive, root)
    sweep = sorted((root / "lidar").iterdir())[frame]
    sweep.write_bytes(sweep.read_bytes()[:100])
    return root, sweep


def test_a_bad_frame_keeps_the_frames_before_it_and_says_how_to_finish(drive, tmp_path, capsys):
    """Without --skip-bad-frames an unreadable sweep stops the run (exit 2) as an interruption
    does: the frames finished before it are stored, the one error line says so, the manifest says
    incomplete, the progress ends at them; --skip-bad-frames then completes the work."""
    root, sweep = broken_copy(drive, tmp_path, 5)
    out = tmp_path / "out"
    assert main(["prelabel", str(root), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if not line.startswith("prelabel: ")]
    assert len(errors) == 1 and errors[0].startswith(f"fusionlabel: error: {sweep}: ")
    assert f"kept the pre-labels of the 5 frames finished before it in {out}" in errors[0]
    assert "give --skip-bad-frames" in errors[0]
    assert progress_lines(err)[-1] == f"prelabel: 5/{FRAMES} frames ({500 // FRAMES}%)"
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["complete"] is False and manifest["frames"] == [f"{i:06d}" for i in range(5)]
    assert sorted(p.stem for p in out.glob("*.json")) == manifest["frames"]
    assert main(["prelabel", str(root), "--out", str(out), "--skip-bad-frames", "--quiet"]) == 3
    capsys.readouterr()
    tracked = tmp_path / "tracked"      # a tracked run stopped so keeps its frames untracked, nothing set aside
    assert main(["prelabel", str(root), "--out", str(tracked), "--track", "--quiet"]) == 2
    assert "kept the pre-labels of the 5 frames" in capsys.readouterr().err
    assert len(list(tracked.glob("*.json"))) == 5 and not (tracked / ".fusionlabel-prelabel" / ".before").exists()
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["complete"] is True and len(manifest["frames"]) == FRAMES - 1
    # a project: the frames before it stay in the run's one undoable edit
    project = make_project(root, tmp_path / "project")
    capsys.readouterr()
    assert main(["prelabel", str(project), "--min-score", "0.3", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(sweep) in err[0] and "kept the pre-labels of the 5 frames" in err[0]
    assert {f for f, *_ in model_boxes(project)} <= set(range(5)) and model_boxes(project)


def test_a_second_run_into_the_same_folder_is_refused(drive, tmp_path, capsys):
    out, marks = tmp_path / "out", tmp_path / "marks"
    proc = start([drive, "--out", out, "--min-score", "0.3"], tmp_path, FL_TEST_MARKS=str(marks))
    try:
        wait_for(lambda: detected(marks) >= 1, proc)
        assert main(["prelabel", str(drive), "--out", str(out), "--min-score", "0.7", "--quiet"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"fusionlabel: error: {out}: --out: another fusionlabel run is "
                                                   "writing this folder (pid ")
        # export into it is refused too: one lock for every command writing an output folder
        assert main(["export", str(drive), "--format", "kitti", "--out", str(out), "--frames", "0"]) == 2
        assert "another fusionlabel run is writing this folder" in capsys.readouterr().err
    finally:
        proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert json.loads((out / MANIFEST).read_text())["min_score"] == 0.3
    assert main(["prelabel", str(drive), "--out", str(out), "--frames", "0", "--quiet"]) == 0   # free again


@pytest.mark.parametrize("where", ["labels", ".", ".."])
def test_an_out_in_the_source_drive_is_refused(where, drive, tmp_path, capsys):
    import shutil

    root = tmp_path / "data" / "drive"
    shutil.copytree(drive, root)
    before = sorted(p for p in (tmp_path / "data").rglob("*"))
    out = root / where
    assert main(["prelabel", str(root), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"fusionlabel: error: {out}: --out: ")
    assert "source drive" in err[0] and "choose another folder" in err[0]
    assert sorted(p for p in (tmp_path / "data").rglob("*")) == before


@pytest.mark.parametrize("where", ["labels", "."])
def test_an_out_in_the_project_folder_is_refused(where, drive, tmp_path, capsys):
    """A project with --out stands for its drive; its own folder (the database, its files) is no
    place for an output folder either."""
    project = make_project(drive, tmp_path / "project")
    before = sorted(project.rglob("*"))
    out = project / where
    assert main(["prelabel", str(project), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"fusionlabel: error: {out}: --out: ")
    assert "the project" in err[0] and "choose another folder" in err[0]
    assert sorted(project.rglob("*")) == before


def test_a_full_disk_before_the_first_frame_leaves_no_folder(drive, tmp_path, capsys, monkeypatch):
    real = Path.write_bytes

    def full(self, data):
        if self.name == "fusionlabel_prelabel.json.tmp":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    out = tmp_path / "a" / "b" / "out"
    assert main(["prelabel", str(drive), "--out", str(out), "--frames", "0-1", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "No space left on device" in err[0]
    assert list(tmp_path.iterdir()) == []
