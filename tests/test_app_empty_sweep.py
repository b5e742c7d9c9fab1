"""A frame whose sweep has no points (a 0-byte .bin is one) opens in the app like any other: its
cuboids and images show, and its views draw without points."""

from __future__ import annotations


import pytest

from conftest import app_window, native_copy

pytest.importorskip("PyQt6")


@pytest.fixture
def project(tmp_path):
    from fusionlabel.app import testing
    from fusionlabel.io.drives import open_drive
    from fusionlabel.store.project import Project

    drive = native_copy(open_drive(testing.small_drive()), tmp_path / "drive", empty_sweep=1)
    assert len(drive.points(1)) == 0 and drive.labels(1)
    p = Project.create(tmp_path / "project", drive.root, import_labels=True)
    yield p
    if not p.store.closed:
        p.close()


@pytest.fixture
def window(qtbot, project):
    yield from app_window(qtbot, project)


def test_a_frame_without_points_is_shown(window, project):
    from fusionlabel.app import testing

    window.session.set_frame(1)
    testing.wait_for_frame(window)
    data = window.displayed
    assert data.index == 1 and len(data.points) == 0
    assert len(project.document.annotations(1)) == len(project.drive.labels(1)) > 0
    image = window.bev.grab().toImage()
    assert image.width() > 0 and image.height() > 0
    window.session.set_frame(2)                     # and on to a frame with points
    testing.wait_for_frame(window)
    assert window.displayed.index == 2 and len(window.displayed.points) > 0
