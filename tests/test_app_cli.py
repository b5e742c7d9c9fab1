"""`fusionlabel open`: bad paths and a missing display fail in one line with exit code 2; a drive
opens in a window on its default project, a project folder opens as itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from fusionlabel.app import testing  # noqa: E402
from fusionlabel.app.main import launch, sample_data_path  # noqa: E402

pytestmark = pytest.mark.gui


def fusionlabel(*args, env=None):
    return subprocess.run([sys.executable, "-m", "fusionlabel.cli.main", *args], capture_output=True, text=True,
                          timeout=120, env=env)


def test_open_missing_path_is_one_line_exit_2(tmp_path):
    out = fusionlabel("open", str(tmp_path / "nowhere"), env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "nowhere" in lines[0] and "no such file" in lines[0]


def test_open_folder_that_is_neither_drive_nor_project(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    out = fusionlabel("open", str(tmp_path), env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    assert out.returncode == 2 and "neither a drive" in out.stderr and str(tmp_path) in out.stderr


def test_open_without_display_says_so(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = fusionlabel("open", str(testing.small_drive()), env=env)
    assert out.returncode == 2 and "no display" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_launch_on_a_drive_then_on_its_project(qtbot, tmp_path):
    drive = testing.copy_drive(testing.small_drive(), tmp_path / "drive")
    app, w = launch(drive, frame="1")
    qtbot.addWidget(w)
    try:
        testing.wait_for_frame(w, 1)
        assert (drive / ".fusionlabel-project" / "project.sqlite").is_file()
        assert w.session.frame == 1 and w.session.drive.name in w.windowTitle()
    finally:
        w.close()
        w.session.close()
        w.session.project.close()
    # The project folder opens as itself and remembers the frame.
    app, w = launch(drive / ".fusionlabel-project")
    qtbot.addWidget(w)
    try:
        testing.wait_for_frame(w)
        assert w.session.frame == 1 and not w.session.read_only
    finally:
        w.close()
        w.session.close()
        w.session.project.close()


def test_bad_frame_argument(qtbot, tmp_path):
    drive = testing.copy_drive(testing.small_drive(), tmp_path / "drive")
    from fusionlabel.errors import InputError

    with pytest.raises(InputError, match="--frame"):
        launch(drive, frame="999")
    assert not (drive / ".fusionlabel-project").exists()     # the failed run leaves no project behind


@pytest.mark.parametrize("given", ["new", "empty", "nested"])
def test_open_with_a_bad_frame_removes_only_the_project_it_created(tmp_path, given):
    drive = testing.copy_drive(testing.small_drive(), tmp_path / "drive")
    project = {"new": tmp_path / "x" / "proj", "empty": tmp_path / "empty", "nested": tmp_path / "x" / "y" / "p"}[given]
    if given == "empty":
        project.mkdir()     # a folder of other files is refused before anything (test below)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = fusionlabel("open", str(drive), "--project", str(project), "--frame", "9", "--detector", "builtin",
                      "--screenshot", str(tmp_path / "x.png"), env=env)
    assert out.returncode == 2 and "--frame" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    if given == "empty":
        assert project.is_dir() and not list(project.iterdir())     # a folder that was there stays
    else:
        assert not (tmp_path / "x").exists()
    assert not (tmp_path / "x.png").exists()
    # an existing project is never removed by a failed run
    ok = fusionlabel("open", str(drive), "--project", str(project), "--screenshot", str(tmp_path / "ok.png"),
                     env=env)
    assert ok.returncode == 0, ok.stderr
    out = fusionlabel("open", str(drive), "--project", str(project), "--frame", "9", "--screenshot",
                      str(tmp_path / "x.png"), env=env)
    assert out.returncode == 2 and (project / "project.sqlite").is_file()


def test_open_refuses_a_project_folder_of_other_files(tmp_path):
    """`open DRIVE --project DIR` creates no project beside someone's files, as `project create`."""
    drive = testing.copy_drive(testing.small_drive(), tmp_path / "drive")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = fusionlabel("open", str(drive), "--project", str(mine), "--screenshot", str(tmp_path / "x.png"), env=env)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert f"{mine}: holds notes.txt, not a fusionlabel project" in out.stderr
    assert "choose an empty or new folder" in out.stderr
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"] and not (tmp_path / "x.png").exists()


def test_default_path_is_the_repository_sample_drive():
    assert sample_data_path().name == "sample_data"
    assert sample_data_path().parent == Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ choosing the pre-label detector
def test_open_with_a_detector_saves_it_in_the_project(tmp_path):
    from fusionlabel.app.actions import Actions
    from fusionlabel.app.session import Session
    from fusionlabel.store.project import Project

    drive = testing.copy_drive(testing.small_drive(), tmp_path / "drive")
    (tmp_path / "preds").mkdir()
    (tmp_path / "preds" / "000000.txt").write_text("Car 0 0 0 0 0 0 0 1.5 1.8 4.2 1.0 1.6 12.0 0.1 0.9\n")
    config = tmp_path / "builtin.yaml"
    config.write_text("{}\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    # A relative path is saved absolute: the app may start from anywhere.
    out = subprocess.run([sys.executable, "-m", "fusionlabel.cli.main", "open", "drive", "--detector",
                          "predictions:preds", "--min-score", "0.4", "--screenshot", "shot.png"],
                         capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "shot.png").is_file()
    with Project.open(drive / ".fusionlabel-project") as project:
        assert project.get_setting("prelabel_detector") == f"predictions:{tmp_path / 'preds'}"
        assert project.get_setting("prelabel_min_score") == 0.4
        assert project.get_setting("prelabel_config") is None
        session = Session(project)
        actions = Actions(session)
        assert actions.detector().name == "predictions"           # the app uses what was saved
        assert actions.detector_text() == "predictions:preds, min score 0.4"
        session.close()
    # Another choice replaces it, settings file and all.
    out = fusionlabel("open", str(drive), "--detector", "builtin", "--detector-config", str(config),
                      "--screenshot", str(tmp_path / "shot2.png"), env=env)
    assert out.returncode == 0, out.stderr
    with Project.open(drive / ".fusionlabel-project") as project:
        assert project.get_setting("prelabel_detector") == "builtin"
        assert project.get_setting("prelabel_config") == str(config)
        assert project.get_setting("prelabel_min_score") == 0.4      # not given: left as it was


@pytest.mark.parametrize("args, named", [
    (["--detector", "onnx:{tmp}/models/missing.onnx"], "{tmp}/models/missing.onnx"),
    (["--detector", "predictions:{tmp}/no-preds"], "{tmp}/no-preds"),
    (["--detector", "builtin", "--detector-config", "{tmp}/nope.yaml"], "{tmp}/nope.yaml"),
    (["--detector", "magic"], "--detector"),
    (["--min-score", "1.5"], "--min-score"),
])
def test_open_with_a_bad_detector_is_one_line_exit_2_and_changes_nothing(tmp_path, args, named):
    drive = testing.copy_drive(testing.small_drive(), tmp_path / "drive")
    args = [a.format(tmp=tmp_path) for a in args]
    out = fusionlabel("open", str(drive), *args, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and named.format(tmp=tmp_path) in lines[0], out.stderr
    assert not (drive / ".fusionlabel-project").exists()            # checked before anything is created


# ------------------------------------------------------------------ a drive folder with several scenes
def test_open_scene_of_a_tracking_folder(qtbot, tmp_path, tmp_path_factory):
    """`fusionlabel open DRIVE --scene S` makes S's own project; the project reopens on S and
    refuses another scene; an unknown scene is one line naming the sequences."""
    import shutil

    from test_scenes import build_two_sequences

    drive = Path(shutil.copytree(build_two_sequences(tmp_path_factory)[0], tmp_path / "tracking"))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = fusionlabel("open", str(drive), "--scene", "1", "--screenshot", str(tmp_path / "shot.png"), env=env)
    assert out.returncode == 0, out.stderr
    assert "/0001, frame 000000" in out.stdout and (tmp_path / "shot.png").is_file()
    project = drive / ".fusionlabel-project-0001"
    out = fusionlabel("open", str(project), "--scene", "0000", env=env)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    assert f"{project}: this project is for scene 0001" in out.stderr
    out = fusionlabel("open", str(drive), "--scene", "0002", env=env)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    assert "no sequence '0002'; sequences: 0000, 0001" in out.stderr
    out = fusionlabel("open", str(testing.small_drive()), "--scene", "0001", env=env)
    assert out.returncode == 2 and "--scene only applies to nuScenes and KITTI tracking folders" in out.stderr
    # In the app: the project folder opens on its sequence, the drive opens on the one asked for.
    for path, scene, sequence in ((project, None, "0001"), (drive, "0000", "0000")):
        app, w = launch(path, frame="-1", scene=scene)
        qtbot.addWidget(w)
        try:
            testing.wait_for_frame(w)
            assert w.session.drive.sequence == sequence and w.session.project.folder.name.endswith(sequence)
            assert f"/{sequence}" in w.windowTitle() and w.session.frame == len(w.session.drive) - 1
        finally:
            w.close()
            w.session.close()
            w.session.project.close()


def test_a_screenshot_run_offscreen_prints_only_what_it_wrote(tmp_path):
    """Qt's offscreen platform warns on every window that it ignores size hints; a user (or a batch
    log) gets the one line saying what was written, not that noise."""
    drive = testing.copy_drive(testing.small_drive(), tmp_path / "drive")
    out = fusionlabel("open", str(drive), "--project", str(tmp_path / "p"), "--screenshot", str(tmp_path / "s.png"),
                      env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    assert out.returncode == 0, out.stderr
    assert "propagateSizeHints" not in out.stderr + out.stdout
    assert (tmp_path / "s.png").is_file()


def test_open_with_only_a_project_opens_it_on_its_own_drive(tmp_path):
    """`open --project P` with no PATH opens project P on the drive it was made for, as `open P`
    does; the sample drive (the default PATH) would not be that project's drive."""
    drive = testing.copy_drive(testing.small_drive(), tmp_path / "drive")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    made = fusionlabel("project", "create", str(drive), "--out", str(tmp_path / "p"), env=env)
    assert made.returncode == 0, made.stderr
    out = fusionlabel("open", "--project", str(tmp_path / "p"), "--screenshot", str(tmp_path / "s.png"), env=env)
    assert out.returncode == 0, out.stderr
    from fusionlabel.io.drives import open_drive

    name, sample = open_drive(drive).name, open_drive(sample_data_path()).name
    assert name != sample
    assert (tmp_path / "s.png").is_file() and f"the app on {name}," in out.stdout


# The app, started as `fusionlabel open` is, makes one edit once its window is up, then says "ready"
# once its event loop runs.
SIGNAL_SCRIPT = """
import sys
from PyQt6.QtCore import QTimer
from fusionlabel.app import main_window
from fusionlabel.model.commands import CreateCuboid

shown = main_window.MainWindow.show

def show(self):
    shown(self)
    s = self.session
    s.apply(CreateCuboid(0, s.drive.labels(0)[0].with_(source="human", track_id="sig"), uid="edit-before-signal"))
    QTimer.singleShot(0, lambda: print("ready", flush=True))     # once the event loop runs

main_window.MainWindow.show = show
from fusionlabel.cli.main import main
sys.exit(main(["open", sys.argv[1]]))
"""


@pytest.mark.parametrize("signame, status, said", [("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated"),
                                                   ("SIGHUP", 129, "stopped by SIGHUP")])
def test_a_signal_closes_the_app_like_its_close_button_and_exits_128_plus_it(tmp_path, signame, status, said):
    """Ctrl+C in the terminal (and a kill, a closed terminal) closes the window through its close
    path (the view is saved, as on closing it) and exits as the README's table says; the edit made
    before is in the project."""
    import signal
    import fusionlabel
    from fusionlabel.store.project import Project

    drive = testing.copy_drive(testing.small_drive(), tmp_path / "drive")
    (tmp_path / "app.py").write_text(SIGNAL_SCRIPT)
    root = str(Path(fusionlabel.__file__).resolve().parents[1])      # this checkout's code, not an installed one
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=root)
    def as_from_a_terminal():
        # A job started in the background by a non-interactive shell (a CI runner, `cmd &`) inherits
        # SIGINT ignored, and the app rightly leaves an ignored signal ignored; a terminal's
        # foreground app has the default action, which this test is about.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)

    proc = subprocess.Popen([sys.executable, str(tmp_path / "app.py"), str(drive)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path, preexec_fn=as_from_a_terminal)
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        proc.send_signal(getattr(signal, signame))
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == status, err
    assert f"fusionlabel: {said}: the window closed, every edit is saved" in err
    with Project.open(drive / ".fusionlabel-project", read_only=True) as project:
        assert "edit-before-signal" in project.document
        assert "bev_center" in project.get_setting("view", {})          # the close path ran
