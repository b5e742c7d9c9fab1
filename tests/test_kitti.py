"""KITTI calibration, labels and drive: synthetic error cases and checks on the real frames."""

from pathlib import Path

import numpy as np
import pytest

from fusionlabel.errors import CalibrationError, LabelError
from fusionlabel.geometry.cuboid import points_in_cuboid
from fusionlabel.geometry.cuboid_projection import cuboid_image_rect, rect_iou
from fusionlabel.geometry.transforms import transform_points
from fusionlabel.io.kitti import (
    cuboid_from_kitti,
    kitti_from_cuboid,
    open_kitti_object,
    read_kitti_calib,
    read_kitti_label_file,
)

CALIB_TEXT = """P0: 721.5 0 609.6 0 0 721.5 172.9 0 0 0 1 0
P2: 721.5 0 609.6 44.86 0 721.5 172.9 0.2164 0 0 1 0.002746
R0_rect: 0.9999239 0.00983776 -0.007445048 -0.009869795 0.9999421 -0.004278459 0.007402527 0.004351614 0.9999631
Tr_velo_to_cam: 0.007533745 -0.9999714 -0.000616602 -0.004069766 0.01480249 0.0007280733 -0.9998902 -0.07631618 0.9998621 0.00752379 0.01480755 -0.2717806
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_calib_projection_equals_kitti_formula(tmp_path):
    calib = read_kitti_calib(write(tmp_path, "c.txt", CALIB_TEXT))
    rng = np.random.default_rng(0)
    pts = np.c_[rng.uniform(5, 60, 500), rng.uniform(-20, 20, 500), rng.uniform(-2, 2, 500)]
    R0 = np.eye(4); R0[:3, :3] = calib.R0_rect
    Tr = np.eye(4); Tr[:3, :] = calib.Tr_velo_to_cam
    direct = (calib.P[2] @ R0 @ Tr @ np.c_[pts, np.ones(500)].T).T
    direct = direct[:, :2] / direct[:, 2:]
    p_cam = transform_points(calib.T_cam_velo(2), pts)
    K = calib.P[2][:, :3]
    ours = (K @ p_cam.T).T
    np.testing.assert_allclose(ours[:, :2] / ours[:, 2:], direct, atol=1e-9)


@pytest.mark.parametrize("text, where", [
    (CALIB_TEXT.replace("P2:", "Px:"), "P2"),
    (CALIB_TEXT.replace("R0_rect:", "R0:"), "R0_rect"),
    ("\n".join(CALIB_TEXT.splitlines()[:3]), "Tr_velo_to_cam"),
])
def test_calib_missing_key_named(tmp_path, text, where):
    path = write(tmp_path, "bad.txt", text)
    with pytest.raises(CalibrationError, match=where) as e:
        read_kitti_calib(path)
    assert "bad.txt" in str(e.value)


def test_calib_non_invertible_extrinsic(tmp_path):
    text = CALIB_TEXT.replace(CALIB_TEXT.splitlines()[3], "Tr_velo_to_cam: 0 0 0 0 0 0 0 0 0 0 0 0")
    with pytest.raises(CalibrationError, match=r"Tr_velo_to_cam.*not invertible"):
        read_kitti_calib(write(tmp_path, "c.txt", text))


def test_calib_wrong_count_and_text(tmp_path):
    with pytest.raises(CalibrationError, match=r"P2 \(line 2\).*expected 12 numbers"):
        read_kitti_calib(write(tmp_path, "c.txt", CALIB_TEXT.replace("0.002746", "")))
    with pytest.raises(CalibrationError, match="non-numeric"):
        read_kitti_calib(write(tmp_path, "c.txt", CALIB_TEXT.replace("0.002746", "abc")))
    with pytest.raises(CalibrationError, match="not found"):
        read_kitti_calib(tmp_path / "missing.txt")


def test_label_malformed_line_named(tmp_path):
    path = write(tmp_path, "000007.txt", "Car 0 0 1.5 1 2 3 4 1.5 1.6 3.9 1 1.6 20 -1.5\nCar 0 0 oops\n")
    with pytest.raises(LabelError, match=r"000007.txt: line 2: expected 15 or 16 fields"):
        read_kitti_label_file(path)
    write(tmp_path, "x.txt", "Car 0 0 1.5 1 2 3 4 1.5 1.6 3.9 1 1.6 abc -1.5\n")
    with pytest.raises(LabelError, match="line 1: non-numeric"):
        read_kitti_label_file(tmp_path / "x.txt")


def test_label_conversion_round_trip(tmp_path):
    calib = read_kitti_calib(write(tmp_path, "c.txt", CALIB_TEXT))
    rng = np.random.default_rng(1)
    for _ in range(50):
        h, w, l = rng.uniform(1, 4, 3)
        x, y, z = rng.uniform(-10, 10), rng.uniform(1, 2), rng.uniform(5, 60)
        ry = rng.uniform(-np.pi, np.pi)
        box = cuboid_from_kitti(h, w, l, x, y, z, ry, calib.T_velo_rect)
        back = kitti_from_cuboid(box, calib.T_rect_velo)
        np.testing.assert_allclose(back[:6], (h, w, l, x, y, z), atol=1e-9)
        assert abs(np.angle(np.exp(1j * (back[6] - ry)))) < 1e-12


def test_ideal_calibration_gives_textbook_yaw(tmp_path):
    # With an axis-aligned calibration, yaw = -ry - pi/2 and the centre is lifted by h/2.
    ideal = ("P2: 700 0 600 0 0 700 180 0 0 0 1 0\nR0_rect: 1 0 0 0 1 0 0 0 1\n"
             "Tr_velo_to_cam: 0 -1 0 0 0 0 -1 0 1 0 0 0\n")
    calib = read_kitti_calib(write(tmp_path, "c.txt", ideal))
    box = cuboid_from_kitti(1.5, 1.6, 4.0, 2.0, 1.7, 20.0, 0.3, calib.T_velo_rect)
    np.testing.assert_allclose(box.center, [20.0, -2.0, -1.7 + 0.75], atol=1e-12)
    assert box.yaw == pytest.approx(-0.3 - np.pi / 2)


# --- real KITTI frames -----------------------------------------------------------------------------

def test_real_boxes_contain_points_and_match_2d_boxes(kitti_object):
    drive = open_kitti_object(kitti_object)
    assert [f.frame_id for f in drive.frames] == ["000000", "000001", "000002", "000134"]
    ious = []
    n_objects = 0
    for i, frame in enumerate(drive.frames):
        points = drive.points(i)
        rig = drive.rig(i)
        cam = rig.camera("image_2")
        T_cam_lidar = drive.T_cam_lidar(i, "image_2")
        for lab in drive.labels(i):
            n_objects += 1
            assert points_in_cuboid(points, lab.box).sum() > 0, f"{frame.frame_id} {lab.label} holds no points"
            if lab.attributes["truncated"] < 0.3:
                rect = cuboid_image_rect(transform_points(T_cam_lidar, lab.box.corners()), cam.camera)
                assert rect is not None
                ious.append(rect_iou(rect, lab.attributes["bbox_2d"]))
    assert n_objects == 1 + 3 + 2 + 15
    assert np.median(ious) >= 0.93, f"median 2D IoU {np.median(ious):.3f}"
    assert min(ious) > 0.4


def test_real_points_inside_match_open3d(kitti_object):
    o3d = pytest.importorskip("open3d")
    drive = open_kitti_object(kitti_object)
    checked = 0
    for i in range(len(drive)):
        points = drive.points(i)
        pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points[:, :3].astype(np.float64)))
        for lab in drive.labels(i):
            box = lab.box
            obb = o3d.geometry.OrientedBoundingBox(np.array(box.center), box.rotation(), np.array(box.size))
            ref = np.zeros(len(points), bool)
            ref[obb.get_point_indices_within_bounding_box(pcd.points)] = True
            ours = points_in_cuboid(points, box)
            # Points exactly on a face may fall either way in float32; allow a handful.
            assert (ours != ref).sum() <= 2, f"{drive.frames[i].frame_id} {lab.label}"
            checked += int(ref.sum())
    assert checked > 500


def test_real_rig_projects_like_kitti_formula(kitti_object):
    drive = open_kitti_object(kitti_object)
    calib = read_kitti_calib(kitti_object / "calib" / "000001.txt")
    pts = drive.points("000001")[:, :3].astype(np.float64)
    pts = pts[pts[:, 0] > 2]
    R0 = np.eye(4); R0[:3, :3] = calib.R0_rect
    Tr = np.eye(4); Tr[:3, :] = calib.Tr_velo_to_cam
    direct = (calib.P[2] @ R0 @ Tr @ np.c_[pts, np.ones(len(pts))].T).T
    direct = direct[:, :2] / direct[:, 2:]
    cam = drive.rig("000001").camera("image_2")
    proj = cam.camera.project(transform_points(drive.T_cam_lidar("000001", "image_2"), pts))
    assert proj.in_front.all()
    np.testing.assert_allclose(proj.uv, direct, atol=1e-6)
    assert (cam.camera.width, cam.camera.height) == (1242, 375)


# ------------------------------------------------------------------------------ fusionlabel import of KITTI object
def _two_frame_kitti(root: Path, same_calib: bool) -> Path:
    """A KITTI object folder with frames 000000 and 000001 (the second a copy of the first, with
    its own calibration file, shifted by 10 cm when not ``same_calib``)."""
    import shutil

    from test_cli_render import make_kitti

    make_kitti(root)
    for sub, ext in (("velodyne", "bin"), ("image_2", "png"), ("calib", "txt"), ("label_2", "txt")):
        shutil.copyfile(root / sub / f"000000.{ext}", root / sub / f"000001.{ext}")
    if not same_calib:
        calib = read_kitti_calib(root / "calib" / "000001.txt")
        Tr = calib.Tr_velo_to_cam.copy()
        Tr[0, 3] += 0.1
        text = (root / "calib" / "000001.txt").read_text().splitlines()
        text = [("Tr_velo_to_cam: " + " ".join(f"{v:.12e}" for v in Tr.ravel())) if line.startswith("Tr_velo_to_cam")
                else line for line in text]
        (root / "calib" / "000001.txt").write_text("\n".join(text) + "\n")
    return root


def test_import_kitti_object_with_one_calibration_synthesises_timestamps(tmp_path, capsys):
    """KITTI object frames have no timestamps: import gives frame n n x 100 ms and says so."""
    from fusionlabel.cli.main import main
    from fusionlabel.io.native import open_native_drive

    src = _two_frame_kitti(tmp_path / "kitti", same_calib=True)
    assert main(["import", str(src), "--out", str(tmp_path / "native"), "--quiet"]) == 0
    err = capsys.readouterr().err     # a note, on stderr
    assert "no timestamps" in err and "100 ms" in err
    native = open_native_drive(tmp_path / "native")
    assert [f.timestamp_us for f in native.frames] == [0, 100_000]
    assert [f.frame_id for f in native.frames] == ["000000", "000001"]
    kitti = open_kitti_object(src)
    for i in range(2):
        assert [lab.label for lab in native.labels(i)] == [lab.label for lab in kitti.labels(i)]
        np.testing.assert_allclose(native.labels(i)[0].box.center, kitti.labels(i)[0].box.center, atol=1e-6)
    assert "timestamps" in (tmp_path / "native" / "drive.yaml").read_text()


def _three_frame_kitti(root: Path) -> Path:
    """:func:`_two_frame_kitti` with different calibrations, plus 000002, a copy of 000000 (its calibration too)."""
    import shutil

    _two_frame_kitti(root, same_calib=False)
    for sub, ext in (("velodyne", "bin"), ("image_2", "png"), ("calib", "txt"), ("label_2", "txt")):
        shutil.copyfile(root / sub / f"000000.{ext}", root / sub / f"000002.{ext}")
    return root


def test_import_kitti_object_with_different_calibrations_says_why_and_what_works(tmp_path):
    from test_cli_render import assert_clean_error, run_cli

    src = _three_frame_kitti(tmp_path / "kitti")
    out = run_cli("import", str(src), "--out", str(tmp_path / "native"), "--quiet")
    assert_clean_error(out, "a native drive holds one rig", "3 frames have 2 different calibrations",
                       "000000 and 000002 share one calibration; 000001 has its own",
                       f"e.g. fusionlabel import {src} --frames 000000,000002 --out {tmp_path / 'native'} ",
                       "reads this folder directly")
    assert not (tmp_path / "native").exists()


def test_import_frames_takes_the_frames_the_refusal_suggests(tmp_path, capsys):
    """``import --frames`` (export's syntax): the group of frames sharing a calibration imports, in
    the drive's order whatever the order given, with their own labels; a bad spec is one line."""
    from fusionlabel.cli.main import main
    from fusionlabel.io.native import open_native_drive

    src = _three_frame_kitti(tmp_path / "kitti")
    assert main(["import", str(src), "--frames", "2,000000", "--out", str(tmp_path / "native"), "--quiet"]) == 0
    assert "(2 frames)" in capsys.readouterr().out
    native = open_native_drive(tmp_path / "native")
    assert [f.frame_id for f in native.frames] == ["000000", "000002"]
    kitti = open_kitti_object(src)
    np.testing.assert_allclose(native.rig(0).T_vehicle_lidar, kitti.rig(2).T_vehicle_lidar, atol=1e-9)
    np.testing.assert_allclose(native.labels(1)[0].box.center, kitti.labels(2)[0].box.center, atol=1e-6)
    assert main(["import", str(src), "--frames", "000001", "--out", str(tmp_path / "one"), "--quiet"]) == 0
    assert "(1 frame)" in capsys.readouterr().out
    assert main(["import", str(src), "--frames", "0:2", "--out", str(tmp_path / "bad"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--frames" in err and "A:B is not accepted" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bad").exists()


def test_import_real_kitti_object_folder_is_refused_clearly(kitti_object, tmp_path):
    from fusionlabel.cli.cmd_import import calibration_groups
    from fusionlabel.io.kitti import open_kitti_object as open_object
    from test_cli_render import assert_clean_error, run_cli

    out = run_cli("import", str(kitti_object), "--out", str(tmp_path / "native"), "--quiet")
    assert_clean_error(out, "different calibrations", "share one calibration", "--frames ",
                       "reads this folder directly")
    # each group's frames have the same calibration file contents; frames of different groups do not
    drive = open_object(kitti_object)
    text = {f.frame_id: (kitti_object / "calib" / f"{f.frame_id}.txt").read_text().split() for f in drive.frames}
    groups = [[drive.frames[i].frame_id for i in g] for g in calibration_groups(drive)]
    assert len(groups) > 1
    for g in groups:
        assert all(text[fid] == text[g[0]] for fid in g)
    assert len({" ".join(text[g[0]]) for g in groups}) == len(groups)
    spec = out.stderr.split("--frames ")[1].split()[0]
    assert run_cli("import", str(kitti_object), "--frames", spec, "--out", str(tmp_path / "group"),
                   "--quiet").returncode == 0


def test_import_refuses_times_that_go_backwards_naming_the_frames(tmp_path):
    from fusionlabel.cli.cmd_import import import_timestamps
    from fusionlabel.errors import DriveError
    from fusionlabel.model.drive import Drive, Frame

    def drive(times):
        return Drive("d", tmp_path, None, [Frame(f"{i:06d}", tmp_path / f"{i}.bin", timestamp_us=t)
                                           for i, t in enumerate(times)])

    assert import_timestamps(drive([5, 7, 9]), tmp_path) == ([5, 7, 9], None)
    times, note = import_timestamps(drive([3, 3, 3]), tmp_path)
    assert times == [0, 100_000, 200_000] and "no timestamps" in note
    with pytest.raises(DriveError, match=r"frame 000002 \(100 us\) follows frame 000001 \(200 us\); a native drive "
                                         r"needs its frames in capture order"):
        import_timestamps(drive([0, 200, 100]), tmp_path)


def test_frame_without_image_takes_the_size_of_a_frame_with_the_same_camera_matrix(tmp_path):
    """A missing image_2 file: the rig still builds (size from the twin frame), labels-only export
    works, and a full export names the missing file."""
    from test_cli_render import assert_clean_error, run_cli

    from fusionlabel.io.images import image_size

    src = _two_frame_kitti(tmp_path / "kitti", same_calib=True)
    (src / "image_2" / "000000.png").unlink()
    drive = open_kitti_object(src)
    cam = drive.rig(0).camera("image_2").camera
    assert (cam.width, cam.height) == image_size(src / "image_2" / "000001.png")
    assert run_cli("export", str(src), "--format", "kitti", "--out", str(tmp_path / "labels"),
                   "--labels-only", "--quiet").returncode == 0
    assert sorted(p.name for p in (tmp_path / "labels" / "label_2").iterdir()) == ["000000.txt", "000001.txt"]
    assert (tmp_path / "labels" / "label_2" / "000000.txt").read_text() == \
        (tmp_path / "labels" / "label_2" / "000001.txt").read_text()
    out = run_cli("export", str(src), "--format", "kitti", "--out", str(tmp_path / "full"), "--quiet")
    assert_clean_error(out, "image_2/000000.png: file not found")   # checked before it is copied


def test_frame_without_image_and_no_twin_camera_is_a_clear_error(tmp_path):
    from fusionlabel.errors import ImageError
    from test_cli_render import run_cli

    src = _two_frame_kitti(tmp_path / "kitti", same_calib=True)
    text = (src / "calib" / "000001.txt").read_text().splitlines()
    text = [line.replace("P2: 7", "P2: 8", 1) if line.startswith("P2:") else line for line in text]
    (src / "calib" / "000001.txt").write_text("\n".join(text) + "\n")
    (src / "image_2" / "000001.png").unlink()
    assert read_kitti_calib(src / "calib" / "000001.txt").P[2][0, 0] != read_kitti_calib(src / "calib" / "000000.txt").P[2][0, 0]
    with pytest.raises(ImageError, match=r"000001.png: image file not found, and no other frame with the same P2 "
                                         r"in 000001.txt"):
        open_kitti_object(src).rig(1)
    for fmt, extra in (("openlabel", []), ("kitti", ["--labels-only"])):   # --skip-bad-frames leaves it out
        out = run_cli("export", str(src), "--format", fmt, "--out", str(tmp_path / f"out_{fmt}"), "--skip-bad-frames",
                      "--quiet", *extra)
        assert out.returncode == 3 and "frame 000001: " in out.stdout and "000001.png" in out.stdout, out.stderr


def test_a_camera_without_any_image_is_searched_for_once(tmp_path, monkeypatch):
    """Frames whose missing image has no twin fail every time their rig is asked for, but the
    other frames' calibrations are read once per camera matrix, not once per frame and request
    (a folder of thousands of frames with one camera's images absent)."""
    import fusionlabel.io.kitti as kitti_io
    from fusionlabel.errors import ImageError

    src = _two_frame_kitti(tmp_path / "kitti", same_calib=True)
    text = (src / "calib" / "000001.txt").read_text().replace("P2: 7", "P2: 8", 1)
    (src / "calib" / "000001.txt").write_text(text)
    (src / "image_2" / "000001.png").unlink()
    reads = []
    real = kitti_io.read_kitti_calib
    monkeypatch.setattr(kitti_io, "read_kitti_calib", lambda path: reads.append(Path(path).name) or real(path))
    drive = open_kitti_object(src)
    for _ in range(3):
        with pytest.raises(ImageError, match="no other frame with the same P2"):
            drive.rig(1)
    assert reads.count("000000.txt") == 1        # the one candidate twin, looked at once


def test_label_score_outside_0_1_is_a_malformed_line(tmp_path):
    # One stray field in a ground-truth line makes it 16 fields; its last value (ry, -1.56) must not
    # become a "score" that turns the object into a model pre-label (dropped by every export).
    write(tmp_path, "000001.txt", "Truck 0.0 0.00 0 -1.57 599.41 156.40 629.75 189.25 2.85 2.63 12.34 0.47 1.49 69.44 -1.56\n")
    with pytest.raises(LabelError, match=r"000001.txt: line 1: score \(field 16\) must lie in \[0, 1\], got -1.56"):
        read_kitti_label_file(tmp_path / "000001.txt")
    write(tmp_path, "000002.txt", "Car 0 0 1.5 1 2 3 4 1.5 1.6 3.9 1 1.6 20 -1.5 7.5\n")
    with pytest.raises(LabelError, match=r"line 1: score \(field 16\)"):
        read_kitti_label_file(tmp_path / "000002.txt")
    write(tmp_path, "0000.txt", "0 3 Car 0 0 1.5 1 2 3 4 1.5 1.6 3.9 1 1.6 20 -1.5 -0.2\n")
    with pytest.raises(LabelError, match=r"line 1: score \(field 18\)"):
        read_kitti_label_file(tmp_path / "0000.txt", tracking=True)
    write(tmp_path, "000003.txt", "Car 0 0 1.5 1 2 3 4 1.5 1.6 3.9 1 1.6 20 -1.5 0.0\nCar 0 0 1.5 1 2 3 4 1.5 1.6 3.9 1 1.6 20 -1.5 1\n")
    assert [line.score for line in read_kitti_label_file(tmp_path / "000003.txt")] == [0.0, 1.0]


def test_label_nan_field_is_named(tmp_path):
    path = write(tmp_path, "000003.txt", "Car 0 0 1.5 1 2 3 4 1.5 1.6 3.9 1 1.6 nan -1.5\n")
    with pytest.raises(LabelError, match=r"000003.txt: line 1: z \(field 14\) is nan; expected a finite number"):
        read_kitti_label_file(path)
    path = write(tmp_path, "0000.txt", "0 7 Car 0 0 1.5 1 2 3 4 1.5 1.6 3.9 1 1.6 20 -1.5 inf\n")
    with pytest.raises(LabelError, match=r"line 1: score \(field 18\) is inf"):
        read_kitti_label_file(path, tracking=True)
