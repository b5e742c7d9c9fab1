"""File > Export (Ctrl+E): the app writes what ``fusionlabel export`` writes for the project on
disk (every format, the last edit included), shows its progress with Cancel, refuses a folder as
the command does, one export at a time, ends its child with the window, works read-only, and
remembers the dialog's choices."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import Qt  # noqa: E402

from conftest import open_app_window  # noqa: E402
from fusionlabel.app.export_dialog import load_choice  # noqa: E402
from fusionlabel.app.export_job import ExportChoice  # noqa: E402
from fusionlabel.app.main_window import MainWindow  # noqa: E402
from fusionlabel.export import DESCRIPTIONS  # noqa: E402
from fusionlabel.export_manifest import MANIFEST  # noqa: E402
from fusionlabel.store.project import Project  # noqa: E402

pytestmark = pytest.mark.gui
REPO = Path(__file__).resolve().parents[1]
WAIT_MS = 60_000


def cli_export(project_folder: Path, out: Path, *options: str) -> subprocess.CompletedProcess:
    """``fusionlabel export`` of the project, as a user runs it in a terminal."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "fusionlabel", "export", str(project_folder), "--out", str(out),
                           "--quiet", *options], capture_output=True, text=True, env=env, timeout=300)


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by its relative path; the manifest without its summary's ``out`` (the
    folder's own name, the one field two exports into two folders must differ in)."""
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.name == MANIFEST:
                doc = json.loads(data)
                doc["summary"].pop("out")
                data = json.dumps(doc, sort_keys=True).encode()
            files[str(path.relative_to(folder))] = data
    return files


def ctrl_e(qtbot, w: MainWindow) -> None:
    qtbot.waitUntil(w.isActiveWindow, timeout=30_000)   # a loaded machine can take seconds after a dialog
    qtbot.keyClick(w.bev, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)


def ask_export(qtbot, w: MainWindow, fmt: str, out: Path | None = None, **options):
    """Ctrl+E, then the dialog filled in as the annotator would, and Export."""
    ctrl_e(qtbot, w)
    qtbot.waitUntil(lambda: w.export.dialog is not None and w.export.dialog.isVisible())
    d = w.export.dialog
    d.format_box.setCurrentIndex(d.format_box.findData(fmt))
    if out is not None:
        d.out_edit.setText(str(out))
    for name, box in (("include_prelabels", d.prelabels_box), ("labels_only", d.labels_only_box),
                      ("force", d.force_box)):
        box.setChecked(bool(options.get(name)))
    d.status_box.setCurrentIndex(0)
    d.skip_box.setChecked(False)
    classes = options.get("classes")
    for i in range(d.classes_list.count()):
        item = d.classes_list.item(i)
        item.setCheckState(Qt.CheckState.Checked if classes is None or item.text() in classes
                           else Qt.CheckState.Unchecked)
    d.frames_edit.setText(options.get("frames", ""))
    d.camera_box.setCurrentIndex(d.camera_box.findData(options.get("camera", "")))
    qtbot.mouseClick(d.export_button, Qt.MouseButton.LeftButton)
    return d


def wait_ended(qtbot, w: MainWindow) -> None:
    qtbot.waitUntil(lambda: not w.export.runner.running, timeout=WAIT_MS)


def nudge_a_cuboid(qtbot, w: MainWindow) -> None:
    """The annotator's last edit before exporting: the cuboid of frame 0 most straight ahead (in
    the front camera) turned by 15 degrees."""
    ahead = min((a for a in w.session.annotations(0) if a.box.center[0] > 3),
                key=lambda a: abs(a.box.center[1]) / a.box.center[0])
    w.session.select([ahead.uid])
    qtbot.keyClick(w.bev, Qt.Key.Key_Q, Qt.KeyboardModifier.ShiftModifier)
    assert w.session.document.get(ahead.uid).box.yaw != ahead.box.yaw


@pytest.mark.parametrize("fmt", list(DESCRIPTIONS))
def test_each_format_exported_from_the_window_is_what_the_command_writes(qtbot, window, project, tmp_path, fmt):
    before = tmp_path / "cli_before"
    assert cli_export(project.folder, before, "--format", fmt).returncode == 0
    nudge_a_cuboid(qtbot, window)
    ask_export(qtbot, window, fmt, tmp_path / "app")
    assert window.export.note.isVisible()                  # the status bar says it runs
    wait_ended(qtbot, window)
    assert not window.export.note.isVisible()
    cli = tmp_path / "cli"
    assert cli_export(project.folder, cli, "--format", fmt).returncode == 0
    app_files = tree(tmp_path / "app")
    assert app_files == tree(cli)                           # byte for byte, the manifest but its folder
    assert app_files != tree(before)                        # ... with the last edit in it
    summary = json.loads((tmp_path / "app" / MANIFEST).read_text())["summary"]
    box = window.export.message
    assert box is not None and box.windowTitle() == "Export done"
    text = box.text() + "\n" + box.informativeText()
    assert f"{summary['objects_total']} objects" in text and f"{summary['frames']} frames" in text
    assert str(tmp_path / "app") in text
    for line in summary["cannot_hold"]:
        assert line in text


def test_the_default_folder_is_in_the_project_and_the_choices_are_remembered(qtbot, window, project):
    ask_export(qtbot, window, "openlabel", include_prelabels=True, labels_only=True)
    wait_ended(qtbot, window)
    assert (project.folder / "exports" / "openlabel" / MANIFEST).is_file()
    again = load_choice(project.folder)
    assert again == ExportChoice(format="openlabel", out="", include_prelabels=True, labels_only=True)
    ctrl_e(qtbot, window)
    qtbot.waitUntil(lambda: window.export.dialog is not None)
    d = window.export.dialog
    assert d.format_box.currentData() == "openlabel" and d.prelabels_box.isChecked()
    assert d.out_edit.text() == str(project.folder / "exports" / "openlabel")
    d.format_box.setCurrentIndex(d.format_box.findData("coco"))     # the default folder follows the format
    assert d.out_edit.text() == str(project.folder / "exports" / "coco")
    d.reject()


@pytest.mark.parametrize("fmt", ["kitti", "coco"])
def test_classes_frames_and_camera_are_the_commands(qtbot, window, project, tmp_path, fmt):
    ask_export(qtbot, window, fmt, tmp_path / "app", classes=["pedestrian", "van"], frames="1-2",
               camera="cam_front_left")
    wait_ended(qtbot, window)
    assert window.export.message.windowTitle() == "Export done"
    cli = cli_export(project.folder, tmp_path / "cli", "--format", fmt, "--classes", "pedestrian,van",
                     "--frames", "1-2", "--camera", "cam_front_left")
    assert cli.returncode == 0
    assert tree(tmp_path / "app") == tree(tmp_path / "cli")
    assert cli_export(project.folder, tmp_path / "all", "--format", fmt).returncode == 0
    assert tree(tmp_path / "app") != tree(tmp_path / "all")          # the options did narrow it
    summary = json.loads((tmp_path / "app" / MANIFEST).read_text())["summary"]
    assert summary["frames"] == 2 and {name.lower() for name in summary["objects"]} == {"pedestrian", "van"}
    again = load_choice(project.folder)                               # remembered for the next export
    assert (again.classes, again.frames, again.camera) == ("van,pedestrian", "1-2", "cam_front_left")  # ontology order
    ctrl_e(qtbot, window)
    qtbot.waitUntil(lambda: window.export.dialog is not None)
    d = window.export.dialog
    ticked = [d.classes_list.item(i).text() for i in range(d.classes_list.count())
              if d.classes_list.item(i).checkState() == Qt.CheckState.Checked]
    assert ticked == ["van", "pedestrian"] and d.frames_edit.text() == "1-2"
    assert d.camera_box.currentData() == "cam_front_left"
    d.reject()


@pytest.mark.parametrize("spec", ["5:9", "1-7", "2-0"])
def test_a_frame_range_the_command_refuses_gives_its_message_before_exporting(qtbot, window, project, tmp_path,
                                                                               spec):
    d = ask_export(qtbot, window, "kitti", tmp_path / "app", frames=spec)
    assert d.isVisible() and not window.export.runner.running        # the dialog stays, nothing runs
    cli = cli_export(project.folder, tmp_path / "cli", "--format", "kitti", "--frames", spec)
    assert cli.returncode == 2
    said = cli.stderr.strip().splitlines()[-1].removeprefix("fusionlabel: error: ")
    assert d.frames_error.isVisible() and d.frames_error.text() == said
    assert not (tmp_path / "app").exists()
    d.frames_edit.setText("0")                                        # corrected, it exports
    assert not d.frames_error.isVisible()
    qtbot.mouseClick(d.export_button, Qt.MouseButton.LeftButton)
    wait_ended(qtbot, window)
    assert json.loads((tmp_path / "app" / MANIFEST).read_text())["summary"]["frames"] == 1


def test_a_folder_the_command_refuses_gives_its_message(qtbot, window, project, tmp_path):
    out = tmp_path / "full"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    ask_export(qtbot, window, "kitti", out)
    wait_ended(qtbot, window)
    cli = cli_export(project.folder, out, "--format", "kitti")
    assert cli.returncode == 2
    said = cli.stderr.strip().splitlines()[-1].removeprefix("fusionlabel: error: ")
    box = window.export.message
    assert box.windowTitle() == "Export failed" and box.text() == said
    assert "Replace an earlier export" in box.informativeText()
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    # with "replace", the same folder is written (the annotator's own file stays)
    ask_export(qtbot, window, "kitti", out, force=True)
    wait_ended(qtbot, window)
    assert window.export.message.windowTitle() == "Export done" and (out / MANIFEST).is_file()
    assert (out / "notes.txt").read_text() == "mine\n"


def test_progress_cancel_and_a_second_export_refused(qtbot, window, tmp_path):
    runner = window.export.runner
    ask_export(qtbot, window, "kitti", tmp_path / "out")
    qtbot.waitUntil(lambda: runner.progress()[0] >= 1, timeout=WAIT_MS)
    os.kill(runner.pid(), signal.SIGSTOP)       # hold it here, mid-export
    try:
        done, total = runner.progress()
        assert window.export.note.label.text() == f"Exporting kitti {done}/{total} frames"
        assert window.export.note.bar.value() == done and window.export.note.bar.maximum() == total
        said = len(window.session.messages)
        ctrl_e(qtbot, window)                   # a second one
        assert window.export.dialog is None
        assert "an export is running already" in window.session.messages[said].text
        qtbot.mouseClick(window.export.note.cancel_button, Qt.MouseButton.LeftButton)
        assert "stopping" in window.export.note.label.text()
    finally:
        os.kill(runner.pid(), signal.SIGCONT)
    wait_ended(qtbot, window)
    assert not (tmp_path / "out").exists()      # the folder it made is gone again
    assert "cancelled" in window.session.messages[-1].text
    assert window.export.message is None


def test_two_windows_exporting_into_one_folder_the_second_names_the_firsts_export(qtbot, window, project, tmp_path):
    """The first window's export (a child of the app) is writing the folder when a second window of
    the same app exports there: the second is refused, naming the first as this app's export."""
    out = tmp_path / "out"
    runner = window.export.runner
    ask_export(qtbot, window, "kitti", out)
    qtbot.waitUntil(lambda: runner.progress()[0] >= 1, timeout=WAIT_MS)
    first = runner.pid()
    os.kill(first, signal.SIGSTOP)               # hold it here, mid-export
    other = Project.open(project.folder)
    try:
        w = open_app_window(qtbot, other)
        ask_export(qtbot, w, "kitti", out)
        wait_ended(qtbot, w)
        title, text = w.export.message.windowTitle(), w.export.message.text()
        w.close()
    finally:
        os.kill(first, signal.SIGCONT)
        other.close()
    assert title == "Export failed"
    assert text.startswith(f"{out}: --out: an export started from this app (pid {first}, since "), text
    assert text.endswith(" is writing this folder; wait for it to end or choose another folder")
    wait_ended(qtbot, window)
    assert window.export.message.windowTitle() == "Export done" and (out / MANIFEST).is_file()


def test_closing_the_window_ends_the_export(qtbot, project, tmp_path):
    w = open_app_window(qtbot, project)
    ask_export(qtbot, w, "kitti", tmp_path / "out")
    qtbot.waitUntil(lambda: w.export.runner.pid() not in (None, 0))
    pid = w.export.runner.pid()
    w.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)             # reaped: no such child any more
    assert not (tmp_path / "out").exists()


def test_a_read_only_window_exports_too(qtbot, project, tmp_path):
    other = Project.open(project.folder)        # another app holds the project: this one is read-only
    try:
        assert other.read_only
        w = open_app_window(qtbot, other)
        ask_export(qtbot, w, "kitti-tracking", tmp_path / "app")
        wait_ended(qtbot, w)
        w.close()
    finally:
        other.close()
    assert cli_export(project.folder, tmp_path / "cli", "--format", "kitti-tracking").returncode == 0
    assert tree(tmp_path / "app") == tree(tmp_path / "cli")


def test_remembered_choices_written_by_hand_or_another_version_fall_back_to_defaults(tmp_path):
    from fusionlabel.app.export_dialog import CHOICE_SETTING, FOLDERS_SETTING
    from fusionlabel.app.window_layout import layout_settings

    settings = layout_settings()
    settings.setValue(CHOICE_SETTING, "{not json")
    settings.setValue(FOLDERS_SETTING, "[1, 2]")
    settings.sync()
    assert load_choice(tmp_path) == ExportChoice()
    settings.setValue(CHOICE_SETTING, json.dumps({"format": "yolo", "include_prelabels": "yes", "status": "reviewed",
                                                  "labels_only": True, "force": 1}))
    settings.setValue(FOLDERS_SETTING, json.dumps({str(tmp_path): 7, "elsewhere": "/x"}))
    settings.sync()
    assert load_choice(tmp_path) == ExportChoice(status="reviewed", labels_only=True)
    settings.setValue(CHOICE_SETTING, json.dumps({"classes": ["car"], "frames": 3, "camera": "cam_front"}))
    settings.sync()
    assert load_choice(tmp_path) == ExportChoice(camera="cam_front")


@pytest.mark.parametrize("fmt", ["nuscenes", "kitti-tracking", "kitti"])
def test_the_first_export_of_a_project_offers_its_drives_own_format(qtbot, tmp_path, fmt):
    """Ctrl+E on a nuScenes (KITTI tracking, KITTI) project never exported: that format, though the last
    export of another project was OpenLABEL; once exported from this project, its own choice again."""
    from fusionlabel.app import testing
    from fusionlabel.app.export_dialog import save_choice
    from fusionlabel.export import ExportOptions, export_drive
    from fusionlabel.io.native import open_native_drive

    root = tmp_path / "drive"
    export_drive(open_native_drive(testing.small_drive()), fmt, root,
                 options=ExportOptions(camera="cam_front_right", progress=False))
    project = Project.create(tmp_path / "project", root)
    save_choice(tmp_path / "another_project", ExportChoice(format="openlabel"))
    w = open_app_window(qtbot, project)
    try:
        for remembered in (None, "coco"):
            if remembered:
                save_choice(project.folder, ExportChoice(format=remembered))
            ctrl_e(qtbot, w)
            qtbot.waitUntil(lambda: w.export.dialog is not None and w.export.dialog.isVisible())
            d = w.export.dialog
            assert d.format_box.currentData() == (remembered or fmt)
            assert d.out_edit.text() == str(project.folder / "exports" / (remembered or fmt))
            d.reject()
            qtbot.waitUntil(lambda: w.export.dialog is None)
    finally:
        w.close()
        project.close()


@pytest.mark.realdata
def test_the_end_message_names_a_frame_the_export_left_out(qtbot, tmp_path, realdata):
    """SUSTech's frame 000950 has no camera image, so KITTI tracking leaves it out: the app's end
    message and status bar say so (the command's summary lists it under "not written"), instead of
    a bare "Exported 3 frames" on a 4-frame project."""
    drive = realdata / "sustech_sequence"
    if not drive.is_dir():
        pytest.skip(f"no SUSTech sequence in {realdata}")
    assert not list((drive / "camera").glob("*/000950.*"))   # the frame the export must leave out
    project = Project.create(tmp_path / "project", drive, import_labels=True)
    w = open_app_window(qtbot, project)
    try:
        ask_export(qtbot, w, "kitti-tracking", tmp_path / "app")
        wait_ended(qtbot, w)
        summary = json.loads((tmp_path / "app" / MANIFEST).read_text())["summary"]
        assert summary["frames"] == 3 and len(summary["not_written"]) == 1
        box = w.export.message
        assert box.windowTitle() == "Export done"
        assert box.text().startswith("Exported 3 frames as kitti-tracking (1 frame not written): ")
        assert f"Not written: {summary['not_written'][0]}" in box.informativeText().splitlines()
        assert "000950" in summary["not_written"][0]
        assert "1 frame not written" in w.session.messages[-1].text
    finally:
        w.close()
        project.close()


def test_the_end_message_lists_every_kind_of_entry_left_out(tmp_path):
    """Frames without a label file, classes and class-map keys no label has, and files kept from an
    earlier export are in the end message as in the command's summary; long lists are cut short."""
    from fusionlabel.app.export_job import result_lines
    from fusionlabel.export.base import LISTED_FRAMES, ExportSummary

    s = ExportSummary("kitti", tmp_path)
    frames = [f"{i:06d}" for i in range(LISTED_FRAMES + 3)]
    for f in frames:
        s.not_writing(f"frame {f}: no image_2 image; frame left out")
    s.without_label_file = ["000100", "000101"]
    s.unmatched_classes = ["vna"]
    s.unmatched_class_map_keys = ["lorry"]
    s.kept = ["README.txt"]
    head, lines = result_lines(s.to_dict())
    text = "\n".join(lines)
    assert f"({len(frames)} frames not written)" in head
    assert f"frame {frames[0]}: no image_2 image" in text and f"frame {frames[-1]}:" not in text
    assert "and 3 more" in text
    for name in ("000100", "000101", "vna", "lorry", "README.txt"):
        assert name in text, name
