"""Output folders are written in place: the run's lock and staging folder lie inside ``--out``, so
the folder itself is never replaced and its parent need not be writable; signals wait during the
final move even when another thread receives them; import's manifest lists only what it wrote;
a standard output that cannot be written is one line, not a bug."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fusionlabel.cli.main import main
from fusionlabel.export.run_files import LOCK_NAME, RUN_NAMES

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def drive4(tmp_path_factory):
    """Four simulated frames without cameras (fast to write)."""
    from fusionlabel.sim.writer import simulate_drive

    root = tmp_path_factory.mktemp("d4") / "sim4"
    simulate_drive(root, frames=4, seed=5, points=3000, cameras=False, progress=False)
    return root


def export_args(source: Path, out: Path, *extra: str) -> list[str]:
    return ["export", str(source), "--format", "kitti", "--out", str(out), "--quiet", *extra]


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


class Stop(Exception):
    pass


def test_a_signal_sent_from_another_thread_waits_for_the_final_move(tmp_path, monkeypatch):
    """SIGTERM raised by a second thread while the run moves its files in (each rename slowed):
    the move finishes, then the handler runs. With the signal blocked in the main thread only
    (pthread_sigmask), the handler ran between two renames and the new output was lost."""
    import fusionlabel.export.staging as staging

    out = tmp_path / "out"
    out.mkdir()
    for name in "abc":
        (out / name).write_text(f"old {name}")
    (out / "m.json").write_text('{"complete": true}')
    (out / "mine.txt").write_text("user")
    rename = os.rename
    renames = []

    def slow_rename(a, b):
        renames.append(b)
        time.sleep(0.25)
        rename(a, b)

    def stop(signum, frame):
        raise Stop

    monkeypatch.setattr(staging.os, "rename", slow_rename)
    before = signal.signal(signal.SIGTERM, stop)
    try:
        with pytest.raises(Stop):
            with staging.staged_output(out, lambda given: ({"a", "b", "c", "m.json"}, {"mine.txt"}), "m.json") as s:
                for name in "abc":
                    (s.staging / name).write_text(f"new {name}")
                (s.staging / "m.json").write_text('{"complete": true}')
                threading.Thread(target=lambda: (time.sleep(0.6), os.kill(os.getpid(), signal.SIGTERM))).start()
    finally:
        signal.signal(signal.SIGTERM, before)
    assert len(renames) == 6       # three moved aside, three moved in: the signal came during the move
    assert {p.name: p.read_text() for p in out.iterdir()} == {
        "a": "new a", "b": "new b", "c": "new c", "m.json": '{"complete": true}', "mine.txt": "user"}


def test_signals_deferred_restores_handlers_and_keeps_ignored_signals_ignored():
    from fusionlabel.deferred_signals import signals_deferred

    came = []
    before_term = signal.signal(signal.SIGTERM, lambda s, f: came.append(s))
    before_hup = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        handler = signal.getsignal(signal.SIGTERM)
        with signals_deferred():
            signal.raise_signal(signal.SIGTERM)
            signal.raise_signal(signal.SIGHUP)
            assert came == []           # recorded, not handled, inside the block
        assert came == [signal.SIGTERM]
        assert signal.getsignal(signal.SIGTERM) is handler and signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, before_term)
        signal.signal(signal.SIGHUP, before_hup)


def test_an_existing_empty_out_keeps_its_inode_mode_and_group(drive4, tmp_path):
    out = tmp_path / "shared"
    out.mkdir()
    os.chmod(out, 0o2777)
    group = next((g for g in (1, 2, 3) if g != out.stat().st_gid), None)
    if os.geteuid() == 0 and group is not None:
        os.chown(out, -1, group)
    before = out.stat()
    assert main(export_args(drive4, out, "--frames", "0-1")) == 0
    after = out.stat()
    assert (after.st_ino, stat.S_IMODE(after.st_mode), after.st_gid) == \
        (before.st_ino, 0o2777, before.st_gid)
    assert names(out) == ["calib", "frames.txt", "fusionlabel_export.json", "label_2", "velodyne"]
    assert names(tmp_path) == ["shared"]      # nothing beside it, nothing hidden inside it
    assert main(export_args(drive4, out, "--frames", "2", "--force")) == 0
    assert out.stat().st_ino == before.st_ino and stat.S_IMODE(out.stat().st_mode) == 0o2777


def test_a_long_out_name_works(drive4, tmp_path):
    """A name near the 255-byte limit: the run's hidden names lie inside it, not beside it with a
    longer name of their own."""
    out = tmp_path / ("o" * 245)
    assert main(export_args(drive4, out, "--frames", "0")) == 0
    assert (out / "fusionlabel_export.json").is_file() and names(tmp_path) == [out.name]


@pytest.mark.skipif(shutil.which("setpriv") is None and os.geteuid() == 0, reason="root without setpriv")
def test_a_writable_out_under_a_read_only_parent_works(drive4, tmp_path):
    parent = tmp_path / "rop"
    out = parent / "out"
    out.mkdir(parents=True)
    os.chmod(out, 0o777)
    os.chmod(parent, 0o555)
    cli = [sys.executable, "-m", "fusionlabel.cli.main", *export_args(drive4, out, "--frames", "0-1")]
    if os.geteuid() == 0:    # root writes anywhere: drop the capabilities that let it
        cli = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--", *cli]
    try:
        run = subprocess.run(cli, cwd=ROOT, capture_output=True, text=True, timeout=300)
    finally:
        os.chmod(parent, 0o755)
    assert run.returncode == 0, run.stderr
    assert (out / "fusionlabel_export.json").is_file() and names(parent) == ["out"]


def test_a_failed_run_leaves_no_folder_it_created(drive4, tmp_path, monkeypatch, capsys):
    """A failed export into q3/q4/out removes out and the parents it made; an existing parent stays."""
    from fusionlabel.export.kitti import KittiExporter

    def full(self, index):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.out / "velodyne" / "000000.bin"))

    monkeypatch.setattr(KittiExporter, "add_frame", full)
    assert main(export_args(drive4, tmp_path / "q3" / "q4" / "out")) == 2
    err = capsys.readouterr().err.strip()
    assert "No space left on device" in err and err.endswith("not created") and len(err.splitlines()) == 1
    assert names(tmp_path) == []
    (tmp_path / "mine").mkdir()
    assert main(export_args(drive4, tmp_path / "mine" / "out")) == 2
    assert names(tmp_path) == ["mine"] and names(tmp_path / "mine") == []


def test_a_stale_staging_folder_is_removed_and_never_counts_as_a_user_file(drive4, tmp_path):
    """What a run killed outright left inside --out does not make it "not empty", is not listed as
    kept or written, and the next run removes it."""
    out = tmp_path / "out"
    out.mkdir()
    for name in RUN_NAMES - {LOCK_NAME}:
        (out / name).mkdir()
        (out / name / "half.bin").write_bytes(b"half")
    (out / LOCK_NAME).write_text("pid 1 on a host that was switched off\n")    # no flock held
    assert main(export_args(drive4, out, "--frames", "0")) == 0     # no --force needed
    manifest = json.loads((out / "fusionlabel_export.json").read_text())
    assert manifest["kept"] == [] and not set(manifest["written"]) & RUN_NAMES
    assert not set(names(out)) & RUN_NAMES


def test_import_force_keeps_a_user_folder_named_like_one_it_never_wrote(drive4, tmp_path, capsys):
    """Import writes no debug/ (only simulate's masks do) and no drive.yaml.tmp at the end: its
    manifest does not list them, so a user's debug/ is refused by --force, not deleted."""
    out = tmp_path / "dbg"
    assert main(["import", str(drive4), "--out", str(out), "--frames", "0-1", "--quiet"]) == 0
    written = json.loads((out / "fusionlabel_import.json").read_text())["written"]
    assert sorted(written) == sorted(p for p in names(out) if p != "fusionlabel_import.json")
    assert "debug" not in written and "drive.yaml.tmp" not in written
    (out / "debug").mkdir()
    (out / "debug" / "notes.txt").write_text("mine")
    capsys.readouterr()
    assert main(["import", str(drive4), "--out", str(out), "--frames", "0-3", "--force", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "holds debug, not written by an earlier fusionlabel import" in err
    assert (out / "debug" / "notes.txt").read_text() == "mine"


def test_import_notes_go_to_stderr(tmp_path, capsys):
    """A KITTI object folder has no capture times: the note says so on stderr; stdout holds what
    was written."""
    from fusionlabel.sim.writer import simulate_drive

    sim = tmp_path / "sim"
    simulate_drive(sim, frames=2, seed=2, points=3000, camera_scale=0.15, progress=False)
    assert main(export_args(sim, tmp_path / "k")) == 0
    capsys.readouterr()
    assert main(["import", str(tmp_path / "k"), "--out", str(tmp_path / "n"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "note: the source has no timestamps" in captured.err and "note:" not in captured.out and "wrote native drive" in captured.out


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_stdout_on_a_full_disk_is_one_line_not_a_bug(drive4, tmp_path):
    """The export is done; the summary cannot be written: one line on stderr, exit 2, no traceback."""
    out = tmp_path / "out"
    with open("/dev/full", "w") as full:
        run = subprocess.run([sys.executable, "-m", "fusionlabel.cli.main", *export_args(drive4, out)],
                             cwd=ROOT, stdout=full, stderr=subprocess.PIPE, text=True, timeout=300)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "fusionlabel: cannot write standard output: No space left on device; what the command printed there is lost"]
    assert json.loads((out / "fusionlabel_export.json").read_text())["complete"]


def test_a_mount_point_out_works(drive4, tmp_path):
    """The run's hidden folders lie inside --out, on its filesystem: a mount point is fine."""
    out = tmp_path / "mnt"
    out.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "none", str(out)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        assert main(export_args(drive4, out, "--frames", "0")) == 0
        assert names(out) == ["calib", "frames.txt", "fusionlabel_export.json", "label_2", "velodyne"]
    finally:
        subprocess.run(["umount", str(out)], check=True)
