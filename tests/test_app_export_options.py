"""File > Export's options beyond the common ones: the class map, KITTI's objects outside the camera
and 2D boxes, the KITTI tracking sequence, the nuScenes version and scene name, the OpenLABEL
rotation (each shown for its formats only, written as ``fusionlabel export`` writes them, refused
with the command's message under the field), the image size of a KITTI tracking drive without
images, and the cameras of every rig of the drive."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import Qt  # noqa: E402

from conftest import app_window  # noqa: E402
from fusionlabel.app.export_dialog import load_choice, save_choice  # noqa: E402
from fusionlabel.app.export_job import ExportChoice  # noqa: E402
from fusionlabel.export_manifest import MANIFEST  # noqa: E402
from test_app_export import cli_export, ctrl_e, tree, wait_ended  # noqa: E402

pytestmark = pytest.mark.gui
CLASS_MAP = "van: Car\npedestrian: null\n"


def open_dialog(qtbot, w, fmt: str, out: Path):
    """Ctrl+E (the choices remembered from other tests forgotten), the format chosen and the folder
    typed; every other field at its default."""
    save_choice(Path(w.session.project.folder), ExportChoice())
    ctrl_e(qtbot, w)
    qtbot.waitUntil(lambda: w.export.dialog is not None and w.export.dialog.isVisible())
    d = w.export.dialog
    d.format_box.setCurrentIndex(d.format_box.findData(fmt))
    d.out_edit.setText(str(out))
    return d


def pick(box, value: str) -> None:
    index = box.findData(value)
    assert index >= 0, value
    box.setCurrentIndex(index)


def shown(d, widget) -> bool:
    return widget.isVisibleTo(d)


# (format, what the annotator sets in the dialog, the same as command-line options)
CASES = {
    "kitti": ({"class_map": "map.yaml", "outside": "drop", "recompute": True},
              ["--class-map", "{map}", "--outside", "drop", "--recompute-2d"]),
    "kitti-tracking": ({"sequence": "0007", "outside": "drop"}, ["--sequence", "0007", "--outside", "drop"]),
    "nuscenes": ({"version": "v1.0-trainval", "scene_name": "my drive", "class_map": "map.yaml"},
                 ["--nuscenes-version", "v1.0-trainval", "--scene-name", "my drive", "--class-map", "{map}"]),
    "openlabel": ({"rotation": "euler"}, ["--rotation", "euler"]),
    "coco": ({"class_map": "map.yaml"}, ["--class-map", "{map}"]),
}


@pytest.mark.parametrize("fmt", list(CASES))
def test_each_formats_options_write_what_the_command_writes(qtbot, window, project, tmp_path, fmt):
    (project.folder / "map.yaml").write_text(CLASS_MAP)     # relative: in the project's folder
    setting, options = CASES[fmt]
    d = open_dialog(qtbot, window, fmt, tmp_path / "app")
    o = d.options
    rows = {"class_map": o.class_map, "outside": o.outside_box, "recompute": o.recompute_box, "sequence": o.sequence,
            "version": o.version, "scene_name": o.scene_name, "rotation": o.rotation_box}
    expected_rows = {"kitti": {"class_map", "outside", "recompute"}, "kitti-tracking": {"class_map", "outside",
                     "recompute", "sequence"}, "nuscenes": {"class_map", "version", "scene_name"},
                     "openlabel": {"class_map", "rotation"}, "coco": {"class_map"}}[fmt]
    assert {name for name, widget in rows.items() if shown(d, widget)} == expected_rows
    assert not shown(d, o.image_size)                      # this drive has its images
    for name, value in setting.items():
        widget = rows[name]
        if name in ("outside", "rotation"):
            pick(widget, value)
        elif name == "recompute":
            widget.setChecked(value)
        else:
            widget.edit.setText(value)
    assert d.export_button.isEnabled()
    qtbot.mouseClick(d.export_button, Qt.MouseButton.LeftButton)
    wait_ended(qtbot, window)
    assert window.export.message.windowTitle() == "Export done", window.export.message.text()
    args = [a.replace("{map}", str(project.folder / "map.yaml")) for a in options]
    assert cli_export(project.folder, tmp_path / "cli", "--format", fmt, *args).returncode == 0
    app_files = tree(tmp_path / "app")
    assert app_files == tree(tmp_path / "cli")                              # byte for byte
    assert cli_export(project.folder, tmp_path / "plain", "--format", fmt).returncode == 0
    assert app_files != tree(tmp_path / "plain")                            # the options did something
    again = load_choice(project.folder)                                     # remembered
    names = {"recompute": "recompute_2d", "version": "nuscenes_version"}
    assert {name: getattr(again, names.get(name, name)) for name in setting} == setting


def write_conflicting_map(folder: Path) -> Path:
    path = folder / "bad_map.yaml"
    path.write_text("van: Car\nbus: Bus\nVAN: Truck\n")
    return path


# (format, the field, a text the command refuses, that text as a command-line option, a right text)
REFUSED = [
    ("kitti-tracking", "sequence", "seq 1", ["--sequence", "seq 1"], "0001"),
    ("nuscenes", "version", "v1.0/mini", ["--nuscenes-version", "v1.0/mini"], "v1.0-mini"),
    ("nuscenes", "scene_name", "scene\x07", ["--scene-name", "scene\x07"], "scene-7"),
    ("openlabel", "class_map", "bad_map.yaml", ["--class-map", "{bad}"], ""),
    ("coco", "class_map", "missing.yaml", ["--class-map", "{missing}"], ""),
]


@pytest.mark.parametrize("fmt, field, bad, option, good", REFUSED, ids=[f"{c[0]}-{c[1]}" for c in REFUSED])
def test_a_value_the_command_refuses_shows_its_message_under_the_field_and_holds_export(
        qtbot, window, project, tmp_path, fmt, field, bad, option, good):
    write_conflicting_map(project.folder)
    d = open_dialog(qtbot, window, fmt, tmp_path / "app")
    widget = getattr(d.options, field)
    widget.edit.setText(bad)
    args = [a.replace("{bad}", str(project.folder / "bad_map.yaml"))
             .replace("{missing}", str(project.folder / "missing.yaml")) for a in option]
    cli = cli_export(project.folder, tmp_path / "cli", "--format", fmt, *args)
    assert cli.returncode == 2
    said = cli.stderr.strip().splitlines()[-1].removeprefix("fusionlabel: error: ")
    assert widget.error_label.isVisibleTo(d) and widget.error_label.text() == said
    assert not d.export_button.isEnabled() and d.export_button.toolTip() == said
    qtbot.mouseClick(d.export_button, Qt.MouseButton.LeftButton)
    d.accept()                                                  # Enter, or a click that got through
    assert d.isVisible() and not window.export.runner.running and not (tmp_path / "app").exists()
    if field == "class_map" and "bad_map" in bad:
        assert said.startswith(f"{project.folder / 'bad_map.yaml'}: line 3, key 'VAN'")   # the file and the line
    other = "kitti" if fmt != "kitti" else "coco"
    if field != "class_map":                                   # another format's field does not hold it
        pick(d.format_box, other)
        assert not shown(d, widget) and d.export_button.isEnabled()
        pick(d.format_box, fmt)
        assert not d.export_button.isEnabled()
    widget.edit.setText(good)
    assert not widget.error_label.isVisibleTo(d) and d.export_button.isEnabled()
    d.reject()


def test_the_projects_own_choices_are_remembered_for_that_project_only(tmp_path):
    first, second = tmp_path / "p1", tmp_path / "p2"
    save_choice(first, ExportChoice(format="nuscenes", class_map="map.yaml", scene_name="mine", sequence="0003",
                                    image_size="960x600", nuscenes_version="v1.0-test", rotation="euler"))
    assert load_choice(first) == ExportChoice(format="nuscenes", class_map="map.yaml", scene_name="mine",
                                              sequence="0003", image_size="960x600", nuscenes_version="v1.0-test",
                                              rotation="euler")
    # another project: the shared choices, not the first one's class map, names or size
    assert load_choice(second) == ExportChoice(format="nuscenes", nuscenes_version="v1.0-test", rotation="euler")


# ------------------------------------------------------------------ a KITTI tracking drive without images
@pytest.fixture
def imageless_project(tmp_path):
    """A project of a KITTI tracking sequence without image_02/ (its camera image_2 has no size)
    and the size its images had."""
    from fusionlabel.app import testing
    from fusionlabel.export import ExportOptions, export_drive
    from fusionlabel.io.native import open_native_drive
    from fusionlabel.store.project import Project

    root = tmp_path / "tracking" / "training"
    export_drive(open_native_drive(testing.small_drive()), "kitti-tracking", root,
                 options=ExportOptions(camera="cam_front_right", progress=False))
    from fusionlabel.io.kitti_tracking import open_kitti_tracking

    camera = open_kitti_tracking(root).rig(0).camera("image_2").camera
    shutil.rmtree(root / "image_02")
    p = Project.create(tmp_path / "project", root, import_labels=True)
    yield p, f"{camera.width}x{camera.height}"
    if not p.store.closed:
        p.close()


@pytest.mark.parametrize("fmt", ["kitti-tracking", "kitti"])
def test_a_tracking_drive_without_images_exports_with_the_image_size(qtbot, imageless_project, tmp_path, fmt):
    project, size = imageless_project
    assert cli_export(project.folder, tmp_path / "none", "--format", fmt).returncode == 2   # no camera without it
    w = next(app_window(qtbot, project))
    try:
        d = open_dialog(qtbot, w, fmt, tmp_path / "app")
        field = d.options.image_size
        assert shown(d, field)
        field.edit.setText(size + "x")
        said = cli_export(project.folder, tmp_path / "bad", "--format", fmt, "--image-size", size + "x")
        assert said.returncode == 2 and field.error_label.text() == said.stderr.strip().splitlines()[-1].removeprefix(
            "fusionlabel: error: ")
        assert not d.export_button.isEnabled()
        field.edit.setText(size)
        assert d.export_button.isEnabled()
        qtbot.mouseClick(d.export_button, Qt.MouseButton.LeftButton)
        wait_ended(qtbot, w)
        assert w.export.message.windowTitle() == "Export done", w.export.message.text()
        assert load_choice(project.folder).image_size == size
    finally:
        w.close()
    assert cli_export(project.folder, tmp_path / "cli", "--format", fmt, "--image-size", size).returncode == 0
    assert tree(tmp_path / "app") == tree(tmp_path / "cli")
    assert json.loads((tmp_path / "app" / MANIFEST).read_text())["summary"]["objects_total"] > 0


def test_the_image_size_row_shows_only_for_the_formats_that_need_it(qtbot, imageless_project, tmp_path):
    """Of the formats, only KITTI and KITTI tracking need camera image_2 (its 2D boxes, calib);
    nuScenes and OpenLABEL export the sequence without it and COCO cannot (no images). A size typed
    for KITTI goes to neither another format's export nor its command line."""
    project, size = imageless_project
    w = next(app_window(qtbot, project))
    try:
        d = open_dialog(qtbot, w, "kitti", tmp_path / "app")
        d.options.image_size.edit.setText(size)
        needs = {fmt for fmt in CASES if (pick(d.format_box, fmt), shown(d, d.options.image_size))[1]}
        assert needs == {"kitti", "kitti-tracking"}
        pick(d.format_box, "openlabel")
        d.out_edit.setText(str(tmp_path / "app"))
        qtbot.mouseClick(d.export_button, Qt.MouseButton.LeftButton)
        wait_ended(qtbot, w)
        assert w.export.message.windowTitle() == "Export done", w.export.message.text()
        assert load_choice(project.folder).image_size == size                   # kept for KITTI
    finally:
        w.close()
    assert cli_export(project.folder, tmp_path / "cli", "--format", "openlabel").returncode == 0
    assert tree(tmp_path / "app") == tree(tmp_path / "cli")                     # no image_2 camera made up


def test_the_camera_row_shows_for_kitti_and_coco(qtbot, window, tmp_path):
    d = open_dialog(qtbot, window, "kitti", tmp_path / "app")
    assert {fmt for fmt in CASES if (pick(d.format_box, fmt), shown(d, d.camera_box))[1]} == {"kitti", "coco"}
    d.reject()


def test_the_camera_row_is_hidden_for_a_drive_without_any_camera(qtbot, imageless_project, tmp_path):
    """On a KITTI tracking drive whose image_02/ is gone there is no camera to choose, so no format
    shows the Camera row (KITTI shows the image size it needs instead)."""
    project, _size = imageless_project
    w = next(app_window(qtbot, project))
    try:
        d = open_dialog(qtbot, w, "kitti", tmp_path / "without")
        assert d.camera_box.count() == 1                      # only "the format's default"
        assert not any((pick(d.format_box, fmt), shown(d, d.camera_box))[1] for fmt in CASES)
        pick(d.format_box, "kitti")
        assert shown(d, d.options.image_size)                 # the size it needs instead
        d.reject()
    finally:
        w.close()


# ------------------------------------------------------------------ the cameras of every rig
def test_the_camera_list_holds_the_cameras_of_every_rig_in_a_stable_order(qtbot, window):
    from fusionlabel.model.drive import camera_names_of_all_rigs

    drive = window.session.drive
    first = drive.rig(0)
    sensors = {("cam_roof" if name == "cam_front" else name): dataclasses.replace(s, name="cam_roof")
               if name == "cam_front" else s for name, s in first.sensors.items()}
    later = dataclasses.replace(first, name="after the change", sensors=sensors)
    for f in drive.frames[1:]:
        f.rig_source = later                                   # the drive changes rigs after frame 0
    drive._rig_cache.clear()
    union = first.camera_names + ["cam_roof"]
    assert camera_names_of_all_rigs(drive) == union
    ctrl_e(qtbot, window)
    qtbot.waitUntil(lambda: window.export.dialog is not None)
    d = window.export.dialog
    pick(d.format_box, "coco")
    assert [d.camera_box.itemData(i) for i in range(1, d.camera_box.count())] == union
    d.reject()


def test_the_camera_list_skips_a_rig_that_cannot_be_read(small_sim_drive):
    from fusionlabel.errors import CalibrationError
    from fusionlabel.model.drive import camera_names_of_all_rigs

    def broken():
        raise CalibrationError("calib/000002.txt", "P2 is missing", where="P2")

    small_sim_drive.frames[2].rig_source = broken           # reported where that frame's rig is used
    assert camera_names_of_all_rigs(small_sim_drive) == small_sim_drive.rig(0).camera_names


def test_a_kitti_object_frames_cameras_are_named_without_reading_its_calibration(kitti_object):
    """Each KITTI object frame has its own calibration: the list names their cameras without reading
    every calib file, and names the cameras reading them gives."""
    from fusionlabel.io.drives import open_drive
    from fusionlabel.model.drive import camera_names_of_all_rigs

    drive = open_drive(kitti_object)
    named = camera_names_of_all_rigs(drive)
    assert not drive._rig_cache                                # nothing read
    assert named == list(dict.fromkeys(n for i in range(len(drive)) for n in drive.rig(i).camera_names))
