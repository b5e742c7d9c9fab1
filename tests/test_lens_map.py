"""check's lens-map finding: distortion coefficients that do not map the image one to one
(fisheye coefficients under model: radtan, radtan coefficients in the wrong order), judged against
OpenCV's own projections; real calibrations never get it."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import REPO
from fusionlabel.geometry.cameras import camera_from_params
from fusionlabel.model.rig import CameraSensor
from fusionlabel.qa.drive_check import check_drive
from fusionlabel.qa.lens_checks import MAX_TANGENTIAL, lens_map_finding, tangential_finding

# Published calibrations (numbers only): model, width, height, fx, fy, cx, cy, coefficients.
PUBLISHED = {
    # KITTI raw calib_cam_to_cam.txt (2011_09_26), unrectified camera 00: D_00 is k1 k2 p1 p2 k3
    "kitti-raw-cam00": ("radtan", 1392, 512, 984.2439, 980.8141, 690.0, 233.1966,
                        (-0.3728755, 0.2037299, 0.002219027, 0.001383707, -0.07233722)),
    # EuRoC MAV cam0 (Kalibr radial-tangential)
    "euroc-cam0": ("radtan", 752, 480, 458.654, 457.296, 367.215, 248.375,
                   (-0.28340811, 0.07395907, 0.00019359, 1.76187114e-05)),
    # TUM VI cam0 (Kalibr equidistant = Kannala-Brandt k1..k4)
    "tumvi-cam0": ("fisheye", 512, 512, 190.97847715128717, 190.9733070521226, 254.93170605935475,
                   256.8974428996504, (0.0034823894022493434, 0.0007150348452162257, -0.0020532361418706202,
                                       0.00020293673591811182)),
}
# Kannala-Brandt coefficients of a 163-degree fisheye (848x800, fx 285), written under model: radtan.
KB_AS_RADTAN = ("radtan", 848, 800, 284.9, 285.6, 425.3, 398.4, (-0.0075, 0.0437, -0.0410, 0.0074))
# A narrow lens's fit with large high-order terms (k1 k2 p1 p2 k3), right, and in the order k1 k2 k3 p1 p2.
NARROW = ("radtan", 1280, 720, 1000.0, 1000.0, 639.5, 359.5, (-0.2, 0.8, 0.0004, -0.0003, -1.0))
NARROW_WRONG_ORDER = NARROW[:7] + ((-0.2, 0.8, -1.0, 0.0004, -0.0003),)


def opencv_verdict(model, w, h, fx, fy, cx, cy, dist) -> tuple[bool, float]:
    """(whether the distorted radius turns back along some direction while still inside the image,
    largest distorted / undistorted distance of the image corners' pinhole directions), both from
    cv2.projectPoints or cv2.fisheye.projectPoints."""
    K = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])

    def project(rays):
        rays = np.ascontiguousarray(rays, dtype=np.float64).reshape(-1, 1, 3)
        if model == "fisheye":
            uv, _ = cv2.fisheye.projectPoints(rays, np.zeros((3, 1)), np.zeros((3, 1)), K, np.asarray(dist, float))
        else:
            uv, _ = cv2.projectPoints(rays, np.zeros(3), np.zeros(3), K, np.asarray(dist, float))
        return uv.reshape(-1, 2)

    theta = np.linspace(1e-4, math.radians(89.0), 1500)     # cv2.fisheye takes X/Z: only in front of the camera
    folds = False
    for phi in np.linspace(0.0, 2 * np.pi, 90, endpoint=False):
        rays = np.c_[np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)]
        if model != "fisheye":
            rays = rays / rays[:, 2:]                       # points on the undistorted normalised plane
        uv = project(rays)
        rho = np.hypot(uv[:, 0] - cx, uv[:, 1] - cy)
        inside = (uv[:, 0] >= -0.5) & (uv[:, 0] < w - 0.5) & (uv[:, 1] >= -0.5) & (uv[:, 1] < h - 0.5)
        n_in = int(np.argmin(inside)) if not inside.all() else len(inside)   # samples before it leaves
        folds |= bool((np.diff(rho[:n_in]) <= 0).any())
    corners = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [-0.5, h - 0.5], [w - 0.5, h - 0.5]])
    xy = (corners - [cx, cy]) / [fx, fy]
    uv = project(np.c_[xy, np.ones(4)])
    ratio = float((np.hypot(*(uv - [cx, cy]).T) / np.hypot(*(corners - [cx, cy]).T)).max())
    return folds, ratio


def sensor(params, source=None) -> CameraSensor:
    model, w, h, fx, fy, cx, cy, dist = params
    return CameraSensor("cam", camera_from_params(model, w, h, fx, fy, cx, cy, dist), source=source)


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_published_calibrations_are_one_to_one_and_pass(name):
    folds, ratio = opencv_verdict(*PUBLISHED[name])
    assert not folds and ratio < 1.0                          # OpenCV: one to one, barrel
    assert lens_map_finding(sensor(PUBLISHED[name])) is None
    assert tangential_finding(sensor(PUBLISHED[name])) is None


@pytest.mark.parametrize("params, cause", [(KB_AS_RADTAN, "corners"), (NARROW_WRONG_ORDER, "turns back")])
def test_wrong_coefficients_are_found_as_opencv_sees_them(params, cause):
    folds, ratio = opencv_verdict(*params)
    assert folds or ratio > 1.5                               # OpenCV: not one to one, or corners far out
    found = lens_map_finding(sensor(params, (Path("/d/rig.yaml"), "sensors.cam.")))
    assert found is not None and found.check == "lens-map" and found.severity == "error"
    assert cause in found.message
    assert "/d/rig.yaml: sensors.cam.distortion" in found.message and "/d/rig.yaml" in found.remedy
    assert "another model" in found.message and "wrong order" in found.message


def test_the_right_order_of_the_same_coefficients_passes():
    folds, ratio = opencv_verdict(*NARROW)
    assert not folds and ratio < 1.25
    assert lens_map_finding(sensor(NARROW)) is None


def test_check_names_the_rig_file_and_key(small_sim_drive, tmp_path):
    """Written into a drive's rig.yaml, the wrong coefficients make one lens finding for that camera
    (the radial polynomial alone does not fold, so lens-fold stays quiet)."""
    from test_drive_check import broken_copy

    def wrong(rig):
        cam = rig["sensors"]["cam_front"]
        _, w, h, fx, fy, cx, cy, dist = NARROW_WRONG_ORDER
        cam.update(model="radtan", resolution=[w, h], intrinsics=dict(fx=fx, fy=fy, cx=cx, cy=cy), distortion=list(dist))

    drive = broken_copy(small_sim_drive.root, tmp_path / "d", rig=wrong)
    found = [f for f in check_drive(drive, frames=[0], poses=False).findings if f.check.startswith("lens")]
    assert [(f.subject, f.check) for f in found] == [("cam_front", "lens-map")], [f.message for f in found]
    assert f"{tmp_path / 'd' / 'rig.yaml'}: sensors.cam_front.distortion" in found[0].message


def _rigs_on_disk():
    from fusionlabel.io.rig_yaml import load_rig

    yield "sample_data", load_rig(REPO / "sample_data" / "rig.yaml")
    for path in sorted((REPO / "calib").glob("*.yaml")):
        yield path.name, load_rig(path)


def test_no_lens_finding_on_the_sample_and_example_rigs():
    seen = 0
    for name, rig in _rigs_on_disk():
        for cam in rig.cameras:
            c = cam.camera
            folds, ratio = opencv_verdict(c.model if c.model != "pinhole" else "radtan", c.width, c.height, c.fx, c.fy,
                                          c.cx, c.cy, c.distortion or (0.0, 0.0, 0.0, 0.0))
            assert not folds and ratio < 1.25, (name, cam.name)
            assert lens_map_finding(cam) is None and tangential_finding(cam) is None, (name, cam.name)
            seen += bool(any(c.distortion))
    assert seen >= 4      # the radtan and fisheye cameras of sample_data and of the example rig


@pytest.mark.parametrize("folder", ["nuscenes_mini", "kitti_object/training", "sustech_sequence"])
def test_no_lens_finding_on_real_rigs(realdata, folder):
    from fusionlabel.io.drives import open_drive

    if not (realdata / folder).is_dir():
        pytest.skip(f"{folder} not in {realdata}")
    drive = open_drive(realdata / folder)
    for i in {0, len(drive) - 1}:
        for cam in drive.rig(i).cameras:
            assert lens_map_finding(cam) is None and tangential_finding(cam) is None, (folder, cam.name)



def test_kittis_coefficients_in_the_wrong_order_are_warned_of_and_move_points_by_pixels():
    """KITTI raw's D_00 written k1, k2, k3, p1, p2 stays one to one (no lens-map), but its k3 lands in
    p1: a tangential coefficient no real lens has. OpenCV shows what it costs: the image's points
    move by several pixels."""
    model, w, h, fx, fy, cx, cy, (k1, k2, p1, p2, k3) = PUBLISHED["kitti-raw-cam00"]
    wrong = (model, w, h, fx, fy, cx, cy, (k1, k2, k3, p1, p2))
    K = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
    xy = np.stack(np.meshgrid(np.linspace(-0.6, 0.6, 9), np.linspace(-0.2, 0.2, 5)), -1).reshape(-1, 2)
    rays = np.c_[xy, np.ones(len(xy))]
    right_uv = cv2.projectPoints(rays, np.zeros(3), np.zeros(3), K, np.array([k1, k2, p1, p2, k3]))[0]
    wrong_uv = cv2.projectPoints(rays, np.zeros(3), np.zeros(3), K, np.array([k1, k2, k3, p1, p2]))[0]
    assert np.abs(right_uv - wrong_uv).max() > 5.0
    assert lens_map_finding(sensor(wrong)) is None
    found = tangential_finding(sensor(wrong, (Path("/d/rig.yaml"), "sensors.cam.")))
    assert found is not None and found.check == "lens-tangential" and found.severity == "warning"
    assert found.value == pytest.approx(abs(k3)) and found.value > MAX_TANGENTIAL
    assert "/d/rig.yaml: sensors.cam.distortion" in found.message and "k1, k2, p1, p2, k3" in found.message


def test_a_drive_with_coefficients_in_the_wrong_order_gets_one_lens_warning(small_sim_drive, tmp_path):
    from test_drive_check import broken_copy

    def wrong(rig):
        model, w, h, fx, fy, cx, cy, (k1, k2, p1, p2, k3) = PUBLISHED["kitti-raw-cam00"]
        rig["sensors"]["cam_front"].update(model="radtan", resolution=[w, h], intrinsics=dict(fx=fx, fy=fy, cx=cx, cy=cy),
                                           distortion=[k1, k2, k3, p1, p2])

    drive = broken_copy(small_sim_drive.root, tmp_path / "d", rig=wrong)
    found = [f for f in check_drive(drive, frames=[0], poses=False).findings if f.check.startswith("lens")]
    assert [(f.subject, f.check, f.severity) for f in found] == [("cam_front", "lens-tangential", "warning")]
