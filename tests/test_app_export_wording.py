"""The app's export end message names the dialog's "Labels only" box where the command's summary
names its ``--labels-only`` flag; the command keeps its flag (pytest-qt)."""

from __future__ import annotations

import json
import os

import pytest
import yaml

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from conftest import open_app_window  # noqa: E402
from fusionlabel.app import testing  # noqa: E402
from fusionlabel.store.project import Project  # noqa: E402
from test_app_export import ask_export, cli_export, wait_ended  # noqa: E402

pytestmark = pytest.mark.gui
BOX = '"Labels only"'


@pytest.fixture
def gap_project(tmp_path):
    """A project on a drive whose camera cam_front has no image in frame 1."""
    root = testing.copy_drive(testing.small_drive(), tmp_path / "drive")
    spec = yaml.safe_load((root / "drive.yaml").read_text())
    del spec["frames"][1]["cameras"]["cam_front"]
    (root / "drive.yaml").write_text(yaml.safe_dump(spec))
    (root / "cameras" / "cam_front" / "000001.jpg").unlink()
    p = Project.create(tmp_path / "project", root, import_labels=True)
    yield p
    if not p.store.closed:
        p.close()


def end_text(w) -> str:
    box = w.export.message
    assert box is not None and box.windowTitle() == "Export done", box.text() if box else None
    return box.text() + "\n" + box.informativeText()


def test_a_frame_left_out_names_the_dialogs_box_and_the_command_its_flag(qtbot, gap_project, tmp_path):
    cli = cli_export(gap_project.folder, tmp_path / "cli", "--format", "kitti", "--camera", "cam_front", "--json")
    assert cli.returncode == 0
    (cli_line,) = json.loads(cli.stdout)["not_written"]
    assert "--labels-only writes it" in cli_line
    w = open_app_window(qtbot, gap_project)
    try:
        ask_export(qtbot, w, "kitti", tmp_path / "app", camera="cam_front")
        wait_ended(qtbot, w)
        text = end_text(w)
        assert f"Not written: {cli_line.replace('--labels-only', BOX)}" in text.splitlines()
        assert "--labels-only" not in text
        ask_export(qtbot, w, "coco", tmp_path / "coco", labels_only=True)   # a note with the box ticked
        wait_ended(qtbot, w)
        text = end_text(w)
        assert f"images were not copied ({BOX})" in text and "--labels-only" not in text
    finally:
        w.close()
