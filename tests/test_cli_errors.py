"""The command line on bad input and closed pipes: one line naming the file, exit code 2, never a
traceback; a reader that stops early (``| head``) ends the command quietly."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fusionlabel.cli.main import main
from fusionlabel.io.pointcloud import write_points_bin

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data"


def native_drive_with_bin_sweeps(root: Path, n: int = 3) -> Path:
    """A native drive of ``n`` frames with KITTI ``.bin`` sweeps (a flat patch of ground and a box of
    points) and no cameras, on the sample drive's rig."""
    if not (SAMPLE / "rig.yaml").is_file():
        pytest.skip(f"sample drive not found at {SAMPLE}")
    (root / "lidar").mkdir(parents=True)
    shutil.copy(SAMPLE / "rig.yaml", root / "rig.yaml")
    rng = np.random.default_rng(3)
    lines = ["format: fusionlabel-drive/1", "rig: rig.yaml", "frames:"]
    for i in range(n):
        ground = np.c_[rng.uniform(-20, 20, (4000, 2)), np.full(4000, -1.7), rng.uniform(0, 1, 4000)]
        box = np.c_[rng.uniform([8, -1, -1.6], [12, 1, 0], (800, 3)), rng.uniform(0, 1, 800)]
        write_points_bin(root / "lidar" / f"{i:06d}.bin", np.r_[ground, box].astype(np.float32))
        lines += [f"- id: '{i:06d}'", f"  timestamp_us: {1000 + 100000 * i}",
                  f"  T_world_vehicle: [[1, 0, 0, {i}], [0, 1, 0, 0], [0, 0, 1, 0]]",
                  f"  lidar: lidar/{i:06d}.bin"]
    (root / "drive.yaml").write_text("\n".join(lines) + "\n")
    return root


def one_error_line(capsys, *names: str) -> str:
    cap = capsys.readouterr()
    assert "Traceback" not in cap.err and cap.err.count("\n") == 1, cap.err
    for name in names:
        assert name in cap.err, cap.err
    return cap.err


# ------------------------------------------------------------------------------ sweeps
def test_zero_byte_bin_sweep_is_a_frame_without_points(tmp_path, capsys):
    """A 0-byte .bin sweep is a sweep of 0 points: prelabel, render and export go through it (the
    frame gets no pre-labels); a .bin cut mid-record is one line naming the file."""
    drive = native_drive_with_bin_sweeps(tmp_path / "drive")
    assert main(["prelabel", str(drive), "--out", str(tmp_path / "ok"), "--quiet"]) == 0   # the drive is fine
    capsys.readouterr()
    empty = drive / "lidar" / "000001.bin"
    empty.write_bytes(b"")
    assert main(["prelabel", str(drive), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert (tmp_path / "out" / "000001.json").is_file()
    assert main(["render", str(drive), "--frame", "1", "--out", str(tmp_path / "r.png")]) == 0
    for fmt in ("kitti", "nuscenes", "openlabel"):     # COCO needs images, which this drive has none of
        assert main(["export", str(drive), "--format", fmt, "--out", str(tmp_path / fmt), "--quiet"]) == 0, fmt
    capsys.readouterr()
    cut = drive / "lidar" / "000002.bin"
    cut.write_bytes(cut.read_bytes()[:-6])
    assert main(["prelabel", str(drive), "--out", str(tmp_path / "out2"), "--quiet"]) == 2
    one_error_line(capsys, f"{cut}: size ")
    assert main(["render", str(drive), "--frame", "2", "--out", str(tmp_path / "r2.png")]) == 2
    one_error_line(capsys, "is not a multiple of 16 (4 float32 x, y, z, intensity per point)")


def test_nonfinite_points_say_what_the_user_can_do(tmp_path, capsys):
    drive = native_drive_with_bin_sweeps(tmp_path / "drive")
    sweep = drive / "lidar" / "000002.bin"
    pts = np.fromfile(sweep, "<f4").reshape(-1, 4)
    pts[[10, 11, 400], 2] = np.nan
    pts.tofile(sweep)
    assert main(["prelabel", str(drive), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = one_error_line(capsys, f"{sweep}: 3 of {len(pts)} points have non-finite x/y/z",
                         "remove or repair those points in the file", "fusionlabel import --drop-nonfinite")
    assert "drop_nonfinite" not in err   # the API's spelling is not the user's
    # plain import refuses the sweep like every command, and writes nothing
    assert main(["import", str(drive), "--out", str(tmp_path / "plain"), "--quiet"]) == 2
    one_error_line(capsys, f"{sweep}: 3 of {len(pts)} points have non-finite x/y/z")
    assert not (tmp_path / "plain").exists()


def test_import_drop_nonfinite_leaves_out_exactly_those_points(tmp_path, capsys):
    from fusionlabel.io.native import open_native_drive
    from fusionlabel.io.pointcloud import read_points

    drive = native_drive_with_bin_sweeps(tmp_path / "drive")
    sweep = drive / "lidar" / "000002.bin"
    pts = np.fromfile(sweep, "<f4").reshape(-1, 4)
    bad = [10, 11, 400, 401]
    pts[10, 2] = np.nan
    pts[11, 0] = np.inf
    pts[[400, 401], 1] = -np.inf
    pts.tofile(sweep)
    assert main(["import", str(drive), "--out", str(tmp_path / "out"), "--drop-nonfinite", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "left out 4 non-finite points in 1 of 3 sweeps" in out, out
    copy = open_native_drive(tmp_path / "out")
    kept = np.delete(pts, bad, axis=0)
    assert np.array_equal(copy.points(2)[:, :4], kept)        # the rest, in order, unchanged
    for i in (0, 1):
        assert np.array_equal(copy.points(i)[:, :4], read_points(drive / "lidar" / f"{i:06d}.bin"))
    assert "--drop-nonfinite" in (tmp_path / "out" / "drive.yaml").read_text()
    # and every command reads the copy
    assert main(["prelabel", str(tmp_path / "out"), "--out", str(tmp_path / "pre"), "--quiet"]) == 0
    # a drive without such points: said so, nothing changed
    assert main(["import", str(tmp_path / "out"), "--out", str(tmp_path / "again"), "--drop-nonfinite",
                 "--quiet"]) == 0
    assert "every point of the 3 sweeps was finite" in capsys.readouterr().out


# ------------------------------------------------------------------------------ detector settings
def test_invalid_config_yaml_is_one_line_with_line_and_column(tmp_path, capsys):
    drive = native_drive_with_bin_sweeps(tmp_path / "drive", n=1)
    config = tmp_path / "bad.yaml"
    config.write_text("min_points: 4\nfoo: [\n")
    assert main(["prelabel", str(drive), "--config", str(config), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    one_error_line(capsys, f"{config}: line 3, column 1: invalid YAML: expected the node content, "
                           "but found '<stream end>' (while parsing a flow node")
    config.write_text("a: 1\n b: 2\n")
    assert main(["prelabel", str(drive), "--config", str(config), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    one_error_line(capsys, f"{config}: line 2, column 3: invalid YAML: mapping values are not allowed here")


def test_file_that_is_not_an_onnx_model(tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    drive = native_drive_with_bin_sweeps(tmp_path / "drive", n=1)
    fake = tmp_path / "fake.onnx"
    fake.write_text("hello\n")
    assert main(["prelabel", str(drive), "--detector", f"onnx:{fake}", "--out", str(tmp_path / "out"),
                 "--quiet"]) == 2
    err = one_error_line(capsys, f"{fake}: not an ONNX model (onnxruntime could not parse it)")
    assert "ONNXRuntimeError" not in err and "INVALID_PROTOBUF" not in err


# ------------------------------------------------------------------------------ closed pipes
def run_with_closed_stdout(*args: str, stderr_too: bool = False) -> subprocess.CompletedProcess:
    """Run ``fusionlabel ARGS`` with its stdout a pipe whose reader is gone before anything is written
    (what ``| head -3`` does to the rest of a longer output); with ``stderr_too`` stderr as well
    (``2>&1 | head -3``)."""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    p = subprocess.Popen([sys.executable, "-m", "fusionlabel.cli.main", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=REPO, env=env)
    p.stdout.close()
    if stderr_too:
        p.stderr.close()
        err = ""
    else:
        err = p.stderr.read().decode()
        p.stderr.close()
    return subprocess.CompletedProcess(p.args, p.wait(timeout=120), "", err)


@pytest.mark.parametrize("json_", [True, False])
def test_reader_that_closes_early_leaves_the_exit_code_alone(tmp_path, json_):
    if not (SAMPLE / "labels" / "000000.json").is_file():
        pytest.skip(f"sample drive not found at {SAMPLE}")
    pred = tmp_path / "pred"
    pred.mkdir()
    shutil.copy(SAMPLE / "labels" / "000000.json", pred)
    r = run_with_closed_stdout("eval", "--pred", str(pred), "--gt", str(SAMPLE), "--only-predicted",
                               *(["--json"] if json_ else []))
    assert "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr and "Exception ignored" not in r.stderr
    assert r.returncode == 0       # the command did its work: `set -o pipefail` must not see a failure


def test_export_whose_log_reader_leaves_still_finishes(small_sim_drive, tmp_path):
    """`fusionlabel export ... 2>&1 | head -3`: the progress lines and the summary find the pipe
    closed; the export goes on to the end and exits 0 (it used to stop at the first progress line,
    remove what it had written and exit 141)."""
    out = tmp_path / "out"
    r = run_with_closed_stdout("export", str(small_sim_drive.root), "--format", "openlabel", "--out", str(out),
                               stderr_too=True)
    assert r.returncode == 0
    manifest = json.loads((out / "fusionlabel_export.json").read_text())
    assert manifest["complete"] is True and len(manifest["frames"]) == len(small_sim_drive)
    assert len(json.loads((out / "openlabel.json").read_text())["openlabel"]["frames"]) == len(small_sim_drive)
    # the same failing command still says 2 (bad input) with its error lost
    r = run_with_closed_stdout("export", str(tmp_path / "nothing"), "--format", "openlabel", "--out",
                               str(tmp_path / "o2"), stderr_too=True)
    assert r.returncode == 2 and not (tmp_path / "o2").exists()


def test_unexpected_error_is_called_a_bug_with_exit_1(monkeypatch, capsys):
    from fusionlabel.cli import cmd_eval

    def broken(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(cmd_eval, "run", broken)
    assert main(["eval", "--pred", "x", "--gt", "y"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "ZeroDivisionError: division by zero" in err
    assert err.splitlines()[-1] == ("fusionlabel: internal error: this is a bug in fusionlabel; please report it "
                                    "with the lines above")


def test_closed_stdout_in_every_command_is_caught_by_the_entry_point(tmp_path, monkeypatch, capsys):
    # every command prints through print(); a closed pipe raises BrokenPipeError from there
    drive = native_drive_with_bin_sweeps(tmp_path / "drive", n=1)
    class ClosedPipe:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

        def fileno(self):
            raise ValueError("no descriptor")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["eval", "--pred", "x", "--gt", "/nonexistent"]) == 2    # errors still go to stderr
    assert "ground truth not found" in capsys.readouterr().err
    assert main(["prelabel", str(drive), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert (tmp_path / "out" / "000000.json").is_file()      # the work was done; only the summary was lost
    assert capsys.readouterr().err == ""


def test_prelabel_of_a_mistyped_project_says_it_is_not_there(tmp_path, capsys):
    """`prelabel projct` (no --out) used to answer "give --out DIR for pre-labels of a drive", as if
    the missing folder were a drive."""
    assert main(["prelabel", str(tmp_path / "projct"), "--quiet"]) == 2
    err = one_error_line(capsys, "projct", "no such file or folder")
    assert "give --out" not in err


def run_with_closed_descriptor(redirect: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``fusionlabel ARGS`` from a shell that closes a standard stream first (``redirect``:
    ``>&-`` or ``2>&-``), as a script or supervisor silencing it does; the other stream is captured."""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    script = f'exec "$@" </dev/null {redirect}'
    return subprocess.run(["/bin/sh", "-c", script, "sh", sys.executable, "-m", "fusionlabel", *args],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=300)


def test_closed_stderr_keeps_the_json_summary_alone_on_stdout(small_sim_drive, tmp_path):
    """`export --json 2>&-`: the progress and the readable summary (stderr's) are dropped; they used
    to go to stdout after the JSON document, so a pipeline could not read it."""
    r = run_with_closed_descriptor("2>&-", "export", str(small_sim_drive.root), "--format", "openlabel",
                                   "--out", str(tmp_path / "out"), "--json")
    assert r.returncode == 0
    summary = json.loads(r.stdout)
    assert summary["command"] == "export" and summary["frames"] == len(small_sim_drive)


def test_closed_stdout_loses_the_summary_and_says_so(small_sim_drive, tmp_path):
    """`export --json >&-`: the export is written, but the JSON summary a script meant to read is
    lost: one line on stderr and exit 2, as with a full disk (it used to exit 0 without a word)."""
    out = tmp_path / "out"
    r = run_with_closed_descriptor(">&-", "export", str(small_sim_drive.root), "--format", "openlabel",
                                   "--out", str(out), "--json")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.splitlines()[-1] == ("fusionlabel: cannot write standard output: it was closed when the "
                                         "command started; what the command printed there is lost")
    assert json.loads((out / "fusionlabel_export.json").read_text())["complete"] is True


def test_closed_descriptors_are_not_reused_by_the_files_a_command_opens(tmp_path):
    """With stdin, stdout and stderr closed, files the command opens must not take their numbers
    (what a child process or C code writes to "stdout" would land in them)."""
    from fusionlabel.cli.main import reopen_closed_descriptors

    script = ("import json, os, sys; from fusionlabel.cli.main import reopen_closed_descriptors as r; c = r(); "
              "fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT); os.write(fd, json.dumps([c, fd]).encode())")
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    target = tmp_path / "file"
    subprocess.run(["/bin/sh", "-c", 'exec "$@" <&- >&- 2>&-', "sh", sys.executable, "-c", script, str(target)],
                   cwd=REPO, env=env, timeout=60, check=True)
    closed, fd = json.loads(target.read_text())
    assert closed == [0, 1, 2] and fd > 2
    assert reopen_closed_descriptors() == []        # this process's are open: nothing to do


# ------------------------------------------------------------------------------ import: images
@pytest.fixture(scope="module")
def camera_drive(tmp_path_factory):
    from fusionlabel.sim.writer import simulate_drive

    root = tmp_path_factory.mktemp("camsim") / "drive"
    simulate_drive(root, frames=2, seed=3, points=2_000, cameras=True, progress=False, camera_scale=0.25)
    return root


def test_import_stops_at_an_unreadable_image_and_leaves_nothing(camera_drive, tmp_path, capsys):
    drive = tmp_path / "drive"
    shutil.copytree(camera_drive, drive)
    assert main(["import", str(drive), "--out", str(tmp_path / "ok"), "--quiet"]) == 0   # the copy is fine
    capsys.readouterr()
    bad = sorted((drive / "cameras").rglob("000001.*"))[0]
    bad.write_bytes(b"junk\n")
    out = tmp_path / "out"
    assert main(["import", str(drive), "--out", str(out), "--quiet"]) == 2
    one_error_line(capsys, str(bad))
    assert not out.exists()          # no half-written drive
    out.mkdir()                      # an empty folder given: left empty
    assert main(["import", str(drive), "--out", str(out), "--quiet"]) == 2
    capsys.readouterr()
    assert out.is_dir() and not any(out.iterdir())


def test_import_stops_at_an_image_whose_pixels_are_cut_short(camera_drive, tmp_path, capsys):
    from fusionlabel.io.images import image_size

    drive = tmp_path / "drive"
    shutil.copytree(camera_drive, drive)
    bad = sorted((drive / "cameras").rglob("000001.*"))[0]
    size = image_size(bad)
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size * 2 // 3])
    assert image_size(bad) == size                  # the header is whole: only the pixels are missing
    out = tmp_path / "out"
    assert main(["import", str(drive), "--out", str(out), "--quiet"]) == 2
    one_error_line(capsys, str(bad), "truncated or corrupt")
    assert not out.exists()          # no half-written drive


def test_import_stops_at_an_image_of_another_size_than_the_rig_camera(camera_drive, tmp_path, capsys):
    from fusionlabel.io.images import image_size, read_image, write_image

    drive = tmp_path / "drive"
    shutil.copytree(camera_drive, drive)
    bad = sorted((drive / "cameras").rglob("000001.*"))[0]
    w, h = image_size(bad)
    write_image(bad, read_image(bad)[: h // 2])
    out = tmp_path / "out"
    assert main(["import", str(drive), "--out", str(out), "--quiet"]) == 2
    line = one_error_line(capsys, str(bad), f"{w}x{h // 2}", f"{w}x{h}")
    assert "camera" in line
    assert not out.exists()


def test_python_dash_m_runs_the_same_command_line(tmp_path):
    """``python -m fusionlabel`` is the ``fusionlabel`` script: same program name, errors and exit codes."""
    ok = subprocess.run([sys.executable, "-m", "fusionlabel", "--version"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and ok.stdout.startswith("fusionlabel "), ok
    bad = subprocess.run([sys.executable, "-m", "fusionlabel", "eval", "--gt", str(tmp_path / "no"), "--pred",
                          str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.startswith("fusionlabel: error: "), bad
