"""A KITTI folder imported into a native drive exports to KITTI as the folder itself does: images and
sweeps copied, every point projected into image_2 as the source calibration projects it, the same
label lines (3D geometry, and the kept 2D fields), no levelling.

The native rig keeps each KITTI camera as rectified (rig key ``rectified``); references here are
the source files themselves and KITTI's projection ``P2 · R0_rect · Tr_velo_to_cam · X`` in NumPy.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import quiet

from fusionlabel.cli.cmd_import import calibration_groups
from fusionlabel.cli.main import main
from fusionlabel.export import export_drive
from fusionlabel.geometry.transforms import rotation_from_euler
from fusionlabel.io.kitti import open_kitti_object, read_kitti_calib
from fusionlabel.io.native import open_native_drive


# ------------------------------------------------------------------------------ references
def kitti_projection(calib_path: Path, points: np.ndarray) -> np.ndarray:
    """Pixels (N, 2) of Velodyne points through ``P2 · R0_rect · Tr_velo_to_cam`` read from the file."""
    calib = read_kitti_calib(calib_path)
    R0 = np.eye(4)
    R0[:3, :3] = calib.R0_rect
    Tr = np.vstack([calib.Tr_velo_to_cam, [0.0, 0.0, 0.0, 1.0]])
    uvw = calib.P[2] @ R0 @ Tr @ np.c_[points[:, :3].astype(np.float64), np.ones(len(points))].T
    return (uvw[:2] / uvw[2]).T


def object_lines(path: Path) -> list[str]:
    """The lines of a KITTI label file other than DontCare (a native drive holds no DontCare regions)."""
    return [line for line in path.read_text().splitlines() if line.strip() and " DontCare " not in f" {line} "]


def assert_projects_as_the_source(src_calib: Path, out_calib: Path, points: np.ndarray) -> None:
    """Every point in front of the camera lands on the same pixel through both calibrations (1e-6 px),
    and the labels' frame (``R0_rect · Tr_velo_to_cam``) is the source's."""
    theirs, ours = kitti_projection(src_calib, points), kitti_projection(out_calib, points)
    src = read_kitti_calib(src_calib)
    ahead = (src.T_cam_velo(2) @ np.c_[points[:, :3], np.ones(len(points))].T)[2] > 0.5
    assert ahead.sum() > 100
    assert np.abs(ours[ahead] - theirs[ahead]).max() < 1e-6
    np.testing.assert_allclose(read_kitti_calib(out_calib).T_rect_velo, src.T_rect_velo, atol=1e-9)


def import_native(source: Path, out: Path, *options: str):
    """``fusionlabel import SOURCE --out OUT`` (checked), opened."""
    assert main(["import", str(source), "--out", str(out), "--quiet", *options]) == 0
    return open_native_drive(out)


# ------------------------------------------------------------------------------ real KITTI object frames
def test_real_kitti_imported_and_exported_is_the_source(kitti_object, tmp_path):
    source = open_kitti_object(kitti_object)
    groups = calibration_groups(source)
    assert len(groups) > 1        # frames of two calibration days: one native drive each
    for n, group in enumerate(groups):
        ids = [source.frames[i].frame_id for i in group]
        native = import_native(kitti_object, tmp_path / f"native{n}", "--frames", ",".join(ids))
        assert all(c.T_rect_cam is not None for c in native.rig(0).cameras)
        out = tmp_path / f"out{n}"
        summary = export_drive(native, "kitti", out, options=quiet())
        assert not any("tilted" in t or "rotated" in t for t in summary.cannot_hold)
        for fid in ids:
            for sub, ext in (("image_2", "png"), ("velodyne", "bin")):
                assert (out / sub / f"{fid}.{ext}").read_bytes() == (kitti_object / sub / f"{fid}.{ext}").read_bytes()
            points = np.fromfile(kitti_object / "velodyne" / f"{fid}.bin", np.float32).reshape(-1, 4)
            assert_projects_as_the_source(kitti_object / "calib" / f"{fid}.txt", out / "calib" / f"{fid}.txt", points)
            theirs = object_lines(kitti_object / "label_2" / f"{fid}.txt")
            assert object_lines(out / "label_2" / f"{fid}.txt") == theirs and theirs

        # Recomputed 2D fields agree with those recomputed from the folder itself, to the written decimals.
        again = export_drive(native, "kitti", tmp_path / f"recomputed{n}", options=quiet(keep_imported_2d=False,
                                                                                          sensor_data=False))
        direct = export_drive(source.subset(group), "kitti", tmp_path / f"direct{n}",
                              options=quiet(keep_imported_2d=False, sensor_data=False))
        assert again.total_objects == direct.total_objects - direct.objects["DontCare"] > 0
        for fid in ids:
            assert object_lines(tmp_path / f"recomputed{n}" / "label_2" / f"{fid}.txt") == \
                object_lines(tmp_path / f"direct{n}" / "label_2" / f"{fid}.txt")


def test_real_kitti_tracking_imported_and_exported_is_the_source(realdata, tmp_path):
    from test_export_kitti import _tracking_folder

    if not (realdata / "kitti_tracking" / "label_02" / "0001.txt").is_file():
        pytest.skip("KITTI tracking labels not found")
    raw = _tracking_folder(realdata, tmp_path / "src", "0001", 12)
    native = import_native(tmp_path / "src", tmp_path / "native", "--scene", "0001")
    summary = export_drive(native, "kitti-tracking", tmp_path / "out", options=quiet(sequence="0001"))
    assert not any("tilted" in t or "rotated" in t for t in summary.cannot_hold)
    out_lines = (tmp_path / "out" / "label_02" / "0001.txt").read_text().splitlines()
    assert out_lines == [line for line in raw if " DontCare " not in line] and out_lines
    points = np.fromfile(tmp_path / "src" / "velodyne" / "0001" / "000003.bin", np.float32).reshape(-1, 4)
    points = np.r_[points, np.c_[np.random.default_rng(1).uniform([5, -10, -2], [60, 10, 2], (500, 3)), np.zeros(500)]]
    assert_projects_as_the_source(tmp_path / "src" / "calib" / "0001.txt", tmp_path / "out" / "calib" / "0001.txt",
                                  points)
    for f in (0, 11):
        name = f"0001/{f:06d}.png"
        assert (tmp_path / "out" / "image_02" / name).read_bytes() == (tmp_path / "src" / "image_02" / name).read_bytes()


def test_real_truncation_scales_survive_the_native_copy(kitti_object, realdata, tmp_path):
    """Through a native copy, real KITTI object fractions become KITTI tracking's levels (000134's
    0.43 is level 0: 0 below 50 %, 1 from 50 %, 2 at 100 %), and a real tracking sequence's levels the
    fractions that KITTI object export of the tracking folder itself writes."""
    from fusionlabel.io.kitti import read_kitti_label_file
    from fusionlabel.io.kitti_tracking import open_kitti_tracking
    from test_export_kitti import _tracking_folder

    native = import_native(kitti_object, tmp_path / "obj_native", "--frames", "000134")
    export_drive(native, "kitti-tracking", tmp_path / "levels", options=quiet(sensor_data=False))
    theirs = {d.bbox: d.truncated for d in read_kitti_label_file(kitti_object / "label_2" / "000134.txt")}
    ours = {d.bbox: d.truncated for d in read_kitti_label_file(tmp_path / "levels" / "label_02" / "0000.txt",
                                                                tracking=True) if d.type != "DontCare"}
    assert ours == {box: int(t >= 0.5) + int(t >= 1.0) for box, t in theirs.items() if box in ours}
    assert 0.43 in theirs.values() and len(ours) == 15

    if not (realdata / "kitti_tracking" / "label_02" / "0001.txt").is_file():
        pytest.skip("KITTI tracking labels not found")
    raw = _tracking_folder(realdata, tmp_path / "src", "0001", 12)
    trk_native = import_native(tmp_path / "src", tmp_path / "trk_native", "--scene", "0001")
    export_drive(open_kitti_tracking(tmp_path / "src"), "kitti", tmp_path / "direct", options=quiet(sensor_data=False))
    export_drive(trk_native, "kitti", tmp_path / "from_native", options=quiet(sensor_data=False))
    for f in range(12):
        ours = object_lines(tmp_path / "from_native" / "label_2" / f"{f:06d}.txt")
        assert ours == object_lines(tmp_path / "direct" / "label_2" / f"{f:06d}.txt")
        assert all(0.0 <= float(line.split()[1]) <= 1.0 for line in ours)
    assert any(line.split()[3] in ("1", "2") for line in raw)


# ------------------------------------------------------------------------------ synthetic, tilted rectification
def rows(**mats) -> str:
    return "".join(f"{k}: " + " ".join(f"{v:.9e}" for v in np.ravel(m)) + "\n" for k, m in mats.items())


def write_tilted_kitti(root: Path) -> None:
    """A one-frame KITTI object folder whose rectified camera is pitched 1.5 and rolled 2 degrees
    against the Velodyne, and whose image_2 sits 6 cm beside camera 0 (``P2[:, 3] = K t``)."""
    for d in ("velodyne", "image_2", "calib", "label_2"):
        (root / d).mkdir(parents=True)
    K = np.array([[700.0, 0.0, 610.0], [0.0, 700.0, 180.0], [0.0, 0.0, 1.0]])
    axes = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])     # Velodyne -> camera axes
    R_rect_velo = rotation_from_euler(np.radians(1.5), 0.0, np.radians(2.0)) @ axes   # pitch (camera x), roll (z)
    R0 = rotation_from_euler(np.radians(0.4), np.radians(-0.7), np.radians(0.3))
    Tr = np.c_[R0.T @ R_rect_velo, [0.02, -0.08, -0.27]]
    P = {i: K @ np.c_[np.eye(3), t] for i, t in enumerate(([0, 0, 0], [-0.54, 0, 0], [0.06, -0.001, 0.002],
                                                            [-0.47, 0.003, 0.003]))}
    (root / "calib" / "000000.txt").write_text(rows(P0=P[0], P1=P[1], P2=P[2], P3=P[3], R0_rect=R0,
                                                    Tr_velo_to_cam=Tr, Tr_imu_to_velo=np.c_[np.eye(3), [0.8, -0.3, 0.8]]))
    (root / "label_2" / "000000.txt").write_text(
        "Car 0.00 0 -1.62 560.00 160.00 640.00 210.00 1.50 1.60 3.90 -0.50 1.70 18.30 -1.64\n"
        "Pedestrian 0.00 1 0.35 700.00 150.00 720.00 200.00 1.75 0.60 0.80 4.20 1.65 11.00 0.71\n"
        "DontCare -1 -1 -10 100.00 170.00 160.00 190.00 -1 -1 -1 -1000 -1000 -1000 -10\n")
    rng = np.random.default_rng(3)
    n = 20000
    points = np.c_[rng.uniform(2, 45, n), rng.uniform(-15, 15, n), rng.uniform(-1.8, 1.5, n), rng.uniform(0, 1, n)]
    points.astype(np.float32).tofile(root / "velodyne" / "000000.bin")
    cv2.imwrite(str(root / "image_2" / "000000.png"), rng.integers(0, 255, (375, 1242, 3), dtype=np.uint8))


def test_tilted_kitti_rectification_survives_the_native_copy(tmp_path):
    """Without the rig's ``rectified`` key the native copy's export levels the camera (2.5 degrees:
    images warped, R0_rect the levelling) and writes labels in image_2's own frame, 6 cm off."""
    write_tilted_kitti(tmp_path / "src")
    native = import_native(tmp_path / "src", tmp_path / "native")
    summary = export_drive(native, "kitti", tmp_path / "out", options=quiet())
    assert not any("tilted" in t for t in summary.cannot_hold)
    out = tmp_path / "out"
    assert (out / "image_2" / "000000.png").read_bytes() == (tmp_path / "src" / "image_2" / "000000.png").read_bytes()
    assert object_lines(out / "label_2" / "000000.txt") == object_lines(tmp_path / "src" / "label_2" / "000000.txt")
    points = np.fromfile(out / "velodyne" / "000000.bin", np.float32).reshape(-1, 4)
    assert_projects_as_the_source(tmp_path / "src" / "calib" / "000000.txt", out / "calib" / "000000.txt", points)
    # R0_rect is the identity: Tr_velo_to_cam alone takes points to the labels' frame
    np.testing.assert_array_equal(read_kitti_calib(out / "calib" / "000000.txt").R0_rect, np.eye(3))
    assert "rectified:" in (tmp_path / "native" / "rig.yaml").read_text()


def test_other_camera_of_a_kitti_folder_is_not_levelled_either(tmp_path):
    """--camera image_3 of a KITTI folder (its calibration is not copied): written from the rig,
    rectified, so its labels are still in camera 0's rectified frame and its images are copied."""
    write_tilted_kitti(tmp_path / "src")
    (tmp_path / "src" / "image_3").mkdir()
    cv2.imwrite(str(tmp_path / "src" / "image_3" / "000000.png"), np.full((375, 1242, 3), 60, np.uint8))
    summary = export_drive(open_kitti_object(tmp_path / "src"), "kitti", tmp_path / "out",
                           options=quiet(camera="image_3"))
    assert not any("tilted" in t for t in summary.cannot_hold)
    written = read_kitti_calib(tmp_path / "out" / "calib" / "000000.txt")
    source = read_kitti_calib(tmp_path / "src" / "calib" / "000000.txt")
    np.testing.assert_allclose(written.T_rect_velo, source.T_rect_velo, atol=1e-9)
    np.testing.assert_allclose(written.P[2], source.P[3], atol=1e-6)   # image_3's P, written as P2
    assert (tmp_path / "out" / "image_2" / "000000.png").read_bytes() == \
        (tmp_path / "src" / "image_3" / "000000.png").read_bytes()
    ours = [line.split()[8:] for line in object_lines(tmp_path / "out" / "label_2" / "000000.txt")]
    assert ours == [line.split()[8:] for line in object_lines(tmp_path / "src" / "label_2" / "000000.txt")]


def test_import_keeps_apart_frames_whose_rectified_frames_differ(tmp_path):
    """Two frames whose cameras sit alike but whose labels' rectified frames do not cannot share
    one native rig."""
    from dataclasses import replace

    from fusionlabel.model.drive import Drive, Frame
    from fusionlabel.model.rig import Rig

    write_tilted_kitti(tmp_path / "src")
    rig = open_kitti_object(tmp_path / "src").rig(0)
    cam = rig.camera("image_2")
    T_rect_cam = cam.T_rect_cam.copy()
    T_rect_cam[0, 3] += 0.01
    rigs = [rig] + [Rig(rig.name, {**rig.sensors, "image_2": replace(cam, T_rect_cam=T)}, rig.reference_lidar)
                    for T in (T_rect_cam, None)]
    frames = [Frame(f"{i:06d}", tmp_path / "src" / "velodyne" / "000000.bin", rig_source=rigs[k])
              for i, k in enumerate((0, 1, 2, 0))]
    assert calibration_groups(Drive("d", tmp_path, None, frames)) == [[0, 3], [1], [2]]
