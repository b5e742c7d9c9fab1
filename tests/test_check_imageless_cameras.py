"""A camera the drive has no image of (a LiDAR-only recording whose rig names its cameras) is not
checked by `fusionlabel check`, which names such cameras once; `fusionlabel render` says it of the
drive, once, not as a problem of the frame drawn."""

from __future__ import annotations

import json

import pytest

from conftest import simulated_drive
from fusionlabel.cli.main import main
from fusionlabel.qa.drive_check import check_drive
from test_drive_check import broken_copy, extrinsic, set_extrinsic


def invert(camera: str):
    def edit(rig):
        R, t = extrinsic(rig, camera)
        set_extrinsic(rig, camera, {"matrix": R.T.tolist()}, -R.T @ t)
    return edit


def without_images_of(camera: str):
    def edit(drive):
        for frame in drive["frames"]:
            frame["cameras"].pop(camera)
    return edit


@pytest.fixture(scope="module")
def imageless_front(tmp_path_factory):
    """The simulated drive with no image of cam_front, whose extrinsic and cam_front_left's are
    inverted (cam_front_left keeps its images)."""
    sim = simulated_drive(tmp_path_factory)

    def rig(doc):
        invert("cam_front")(doc)
        invert("cam_front_left")(doc)
    return broken_copy(sim.root, tmp_path_factory.mktemp("imageless") / "d", rig=rig,
                       drive=without_images_of("cam_front"))


def test_a_camera_without_images_is_not_checked(imageless_front):
    report = check_drive(imageless_front, poses=False)
    assert report.without_images == ["cam_front"]
    assert set(report.cameras) == {"cam_front_left", "cam_front_right"}
    assert {f.subject for f in report.findings} == {"cam_front_left"}     # its inverted extrinsic still shows
    assert report.as_dict()["cameras_without_images"] == ["cam_front"]


def test_check_names_the_cameras_once(imageless_front, capsys):
    code = main(["check", str(imageless_front.root), "--no-poses", "--no-labels"])
    out = capsys.readouterr().out
    assert code == 3
    assert out.count("cam_front:") == 0 and out.count("cam_front ") == 0
    assert out.count("not checked, no image in any frame of the drive: cam_front\n") == 1
    main(["check", str(imageless_front.root), "--no-poses", "--no-labels", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["cameras_without_images"] == ["cam_front"]
    assert {c["name"] for c in doc["cameras"]} == {"cam_front_left", "cam_front_right"}


def test_render_says_it_of_the_drive(imageless_front, tmp_path, capsys):
    for frame in ("0", "2"):
        assert main(["render", str(imageless_front.root), "--frame", frame, "--out", str(tmp_path / "r.png")]) == 0
        captured = capsys.readouterr()
        assert "no image for this frame" not in captured.out
        assert captured.out.count("note: cam_front: no images in this drive (drawn blank, with their points)") == 1
        assert "cam_front:" not in captured.err      # nor a hint to check a camera check leaves out


def test_render_names_a_frame_without_the_image_the_others_have(tmp_path, tmp_path_factory, capsys):
    def drop_frame_1(drive):
        drive["frames"][1]["cameras"].pop("cam_front")
    drive = broken_copy(simulated_drive(tmp_path_factory).root, tmp_path / "d", drive=drop_frame_1)
    for frame, note in (("0", None), ("1", "note: frame 000001: cam_front: no image for this frame")):
        assert main(["render", str(drive.root), "--frame", frame, "--out", str(tmp_path / "r.png")]) == 0
        out = capsys.readouterr().out
        assert (note in out) if note else "note:" not in out, out
        assert "no images in this drive" not in out
