"""`fusionlabel render`: a real picture on good input, one clear line and exit 2 on bad input."""

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

CALIB = """P2: 700 0 600 0 0 700 180 0 0 0 1 0
R0_rect: 1 0 0 0 1 0 0 0 1
Tr_velo_to_cam: 0 -1 0 0 0 0 -1 0 1 0 0 0
"""
LABEL = "Car 0.00 0 -1.57 500 150 700 250 1.5 1.6 4.0 0.0 1.7 20.0 -1.57\n"


def make_kitti(root: Path, n_points: int = 5000) -> Path:
    for d in ("velodyne", "image_2", "calib", "label_2"):
        (root / d).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    pts = np.c_[rng.uniform(5, 40, n_points), rng.uniform(-10, 10, n_points), rng.uniform(-1.7, 1, n_points),
                rng.uniform(0, 1, n_points)].astype(np.float32)
    pts.tofile(root / "velodyne" / "000000.bin")
    cv2.imwrite(str(root / "image_2" / "000000.png"), np.full((360, 1200, 3), 90, np.uint8))
    (root / "calib" / "000000.txt").write_text(CALIB)
    (root / "label_2" / "000000.txt").write_text(LABEL)
    return root


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fusionlabel.cli.main", *args], capture_output=True, text=True,
                          timeout=120)


def assert_clean_error(out: subprocess.CompletedProcess, *fragments: str):
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    for frag in fragments:
        assert frag in lines[0], lines[0]


def test_render_synthetic(tmp_path):
    drive = make_kitti(tmp_path / "kitti")
    out = run_cli("render", str(drive), "--frame", "000000", "--out", str(tmp_path / "r.png"))
    assert out.returncode == 0, out.stderr
    img = cv2.imread(str(tmp_path / "r.png"))
    assert img is not None and img.shape[1] >= 1200
    # The camera panel (below the 40-px title) holds coloured point splats, not just the grey image.
    cam = img[40:400, :1200].astype(int)
    saturated = (cam.max(axis=2) - cam.min(axis=2)) > 60
    assert saturated.sum() > 1000


@pytest.mark.parametrize("breakage, fragments", [
    (lambda r: (r / "velodyne" / "000000.bin").write_bytes(b"\0" * 100), ["000000.bin", "multiple of 16"]),
    (lambda r: (r / "calib" / "000000.txt").write_text(CALIB.replace("P2", "P9")), ["000000.txt", "P2"]),
    (lambda r: (r / "calib" / "000000.txt").write_text(CALIB.replace("0 -1 0 0 0 0 -1 0 1 0 0 0", "0 " * 12)),
     ["000000.txt", "Tr_velo_to_cam", "not invertible"]),
    (lambda r: (r / "label_2" / "000000.txt").write_text(LABEL + "Car 1 2\n"), ["000000.txt", "line 2"]),
    (lambda r: np.array([[np.nan, 0, 0, 0]] * 4, np.float32).tofile(r / "velodyne" / "000000.bin"),
     ["000000.bin", "non-finite"]),
])
def test_render_bad_input_one_line(tmp_path, breakage, fragments):
    drive = make_kitti(tmp_path / "kitti")
    breakage(drive)
    assert_clean_error(run_cli("render", str(drive), "--frame", "0", "--out", str(tmp_path / "r.png")), *fragments)


def test_render_bad_arguments(tmp_path):
    drive = make_kitti(tmp_path / "kitti")
    assert_clean_error(run_cli("render", str(tmp_path / "nope"), "--out", str(tmp_path / "r.png")), "nope")
    assert_clean_error(run_cli("render", str(drive), "--frame", "000009", "--out", str(tmp_path / "r.png")),
                       "000009")
    assert_clean_error(run_cli("render", str(drive), "--out", str(tmp_path / "r.txt")), "--out")
    (tmp_path / "afile").write_text("")
    assert_clean_error(run_cli("render", str(drive), "--out", str(tmp_path / "afile" / "r.png")), "--out",
                       f"cannot create its folder {tmp_path / 'afile'}: a file of that name is in the way")


def test_render_real_kitti(kitti_object, tmp_path):
    out = run_cli("render", str(kitti_object), "--frame", "000001", "--out", str(tmp_path / "k.png"))
    assert out.returncode == 0, out.stderr
    img = cv2.imread(str(tmp_path / "k.png"))
    assert img.shape[1] == 1242


def test_render_draws_a_camera_whose_image_has_the_wrong_size_blank_and_names_the_file(tmp_path):
    """A camera image that is not the rig camera's size is not drawn (its points would land in the
    wrong place): its tile is blank with its points, as the app shows it, and one note names the
    file, the field and both sizes; the picture is written."""
    from fusionlabel.geometry.cameras import camera_from_params
    from fusionlabel.geometry.transforms import T_from_Rt, rotation_from_euler
    from fusionlabel.io.native import NativeDriveWriter
    from fusionlabel.model.rig import CameraSensor, LidarSensor, Rig

    cam = camera_from_params("pinhole", 320, 240, 300.0, 300.0, 160.0, 120.0, ())
    rig = Rig("r", {"lidar": LidarSensor("lidar", np.eye(4)),
                    "cam_front": CameraSensor("cam_front", cam, T_from_Rt(rotation_from_euler(-np.pi / 2, 0, -np.pi / 2),
                                                                          (0.5, 0, 0)))}, "lidar")
    rng = np.random.default_rng(0)
    points = np.c_[rng.uniform(5, 30, (500, 1)), rng.uniform(-5, 5, (500, 2)), rng.uniform(0, 1, (500, 1))]
    root = tmp_path / "drive"
    with NativeDriveWriter(root, rig, "d", image_format="png") as w:
        w.add_frame("000000", 1_000_000, np.eye(4), points.astype(np.float32),
                    {"cam_front": np.full((240, 320, 3), 80, np.uint8)})
    assert run_cli("render", str(root), "--out", str(tmp_path / "ok.png")).returncode == 0
    image = root / "cameras" / "cam_front" / "000000.png"
    cv2.imwrite(str(image), np.full((320, 240, 3), 80, np.uint8))      # height and width swapped
    out = run_cli("render", str(root), "--out", str(tmp_path / "bad.png"))
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("note:") == 1 and str(image) in out.stderr
    assert "image is 240x320 px but the rig's camera cam_front is 320x240" in out.stderr
    ok, bad = cv2.imread(str(tmp_path / "ok.png")), cv2.imread(str(tmp_path / "bad.png"))
    assert ok.shape == bad.shape                     # the camera's tile, at the rig camera's size
    tile = bad[80:280, :320].astype(int)             # under the title: grey, with the points coloured
    grey = (tile.max(axis=2) - tile.min(axis=2)) < 10
    assert (np.abs(tile[grey] - 24) <= 2).mean() > 0.9 and (~grey).sum() > 50


def test_render_bev_has_forward_up_like_the_app(small_sim_drive):
    """A car 20 m ahead lands above the ego in the bird's-eye panel, one 12 m to the left lands left
    of it (the app's orientation); the panel says ``forward = up``."""
    from fusionlabel.geometry.cuboid import Cuboid
    from fusionlabel.geometry.transforms import invert_T
    from fusionlabel.model.annotation import CuboidLabel
    from fusionlabel.render.bev import BevGrid
    from fusionlabel.render.colors import class_color
    from fusionlabel.render.frame_image import render_frame

    drive = small_sim_drive
    T_lidar_vehicle = invert_T(drive.rig(0).T_vehicle_lidar)
    base = render_frame(drive, 0, labels=[])
    grid = BevGrid.panel(base.shape[1])
    assert grid.forward == "up"
    top = base.shape[0] - grid.shape[0]       # the panel is the bottom row of the picture
    ego_col, ego_row = grid.to_pixels(np.zeros((1, 2)))[0]
    for xy, where in (((20.0, 0.0), "ahead"), ((0.0, 12.0), "left")):
        car = CuboidLabel(Cuboid((*xy, 0.8), (4.5, 1.9, 1.6)).transformed(T_lidar_vehicle), "Car")
        image = render_frame(drive, 0, labels=[car])
        # the car's own pixels (a ring distance its label displaces moves elsewhere)
        car_ink = np.abs(image[top:].astype(int) - class_color("Car")).sum(axis=2) < 60
        rows, cols = np.nonzero(np.any(image[top:] != base[top:], axis=2) & car_ink)
        assert len(rows), where
        if where == "ahead":
            assert rows.mean() < ego_row - 150 and abs(cols.mean() - ego_col) < 40
        else:
            assert cols.mean() < ego_col - 100 and abs(rows.mean() - ego_row) < 60


def test_captions_have_a_dark_backdrop_over_a_bright_image():
    """Over white, the caption box is darkened to the app's backdrop and the text stays white."""
    from fusionlabel.render.camera_overlay import CAPTION_BACKDROP_ALPHA, draw_caption

    image = np.full((100, 400, 3), 255, np.uint8)
    x, y, w, h = draw_caption(image, "cam_front: 1234 points, 5 boxes", (10, 40), (255, 255, 255), 0.6)
    box = image[y:y + h, x:x + w]
    backdrop = round(255 * (1 - CAPTION_BACKDROP_ALPHA))
    assert (np.abs(box.astype(int) - backdrop) <= 1).all(axis=2).mean() > 0.6    # mostly backdrop
    assert (box >= 250).all(axis=2).any()                                          # white text on it
    outside = np.ones(image.shape[:2], bool)
    outside[y:y + h, x:x + w] = False
    assert (image[outside] == 255).all()


def _wcag(a, b) -> float:
    """WCAG contrast ratio of two sRGB colours (0-255), written out here on its own."""
    def lum(rgb):
        lin = [c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    lo, hi = sorted((lum(a), lum(b)))
    return (hi + 0.05) / (lo + 0.05)


def test_render_captions_are_as_dark_over_white_as_the_app_s_label_chips(request):
    """Over a white wall a render caption's backdrop, read back from the picture, is the app's
    label chip over white (one constant for both): white text reads on it at better than 7:1 and
    every class colour, in the colour the app writes its labels, at 5.5:1 (before, at alpha 150/255,
    white text had 5.5:1 and the app's chips were darker)."""
    from fusionlabel.app.styles import label_text_rgb
    from fusionlabel.model.ontology import Ontology
    from fusionlabel.render.camera_overlay import draw_caption
    from fusionlabel.render.colors import CLASS_COLORS, PALETTE

    image = np.full((100, 400, 3), 255, np.uint8)
    x, y, w, h = draw_caption(image, "cam_front: 1234 points, 5 boxes", (10, 40), (255, 255, 255), 0.6)
    box = image[y:y + h, x:x + w].reshape(-1, 3)
    values, counts = np.unique(box, axis=0, return_counts=True)
    backdrop = tuple(int(v) for v in values[np.argmax(counts)])      # the commonest colour in the box
    app_chip = _app_chip_over_white(request)
    assert max(abs(a - b) for a, b in zip(backdrop, app_chip)) <= 1, (backdrop, app_chip)
    assert _wcag((255, 255, 255), backdrop) >= 7.0, backdrop
    colors = [spec.color for spec in Ontology.default().classes.values()] + list(CLASS_COLORS.values()) + PALETTE
    worst = min(_wcag(label_text_rgb(rgb), backdrop) for rgb in colors)
    assert worst >= 5.5, worst


def _app_chip_over_white(request) -> tuple[int, int, int]:
    """The app's label chip (qt_util.paint_label_chip, no text) painted over white, read back."""
    pytest.importorskip("PyQt6")
    pytest.importorskip("pytestqt")
    request.getfixturevalue("qapp")
    from PyQt6.QtCore import QRectF
    from PyQt6.QtGui import QColor, QImage, QPainter

    from fusionlabel.app.qt_util import paint_label_chip

    image = QImage(40, 20, QImage.Format.Format_RGB888)
    image.fill(QColor(255, 255, 255))
    p = QPainter(image)
    paint_label_chip(p, QRectF(0, 0, 40, 20), QColor(255, 158, 0), "")
    p.end()
    return image.pixelColor(20, 10).getRgb()[:3]


def _one_camera_drive(root: Path, points: np.ndarray, with_image: bool) -> Path:
    """A native drive: one LiDAR, one pinhole camera looking along +x, one frame."""
    from fusionlabel.geometry.cameras import camera_from_params
    from fusionlabel.geometry.transforms import T_from_Rt, rotation_from_euler
    from fusionlabel.io.native import NativeDriveWriter
    from fusionlabel.model.rig import CameraSensor, LidarSensor, Rig

    cam = camera_from_params("pinhole", 320, 240, 300.0, 300.0, 160.0, 120.0, ())
    rig = Rig("r", {"lidar": LidarSensor("lidar", np.eye(4)),
                    "cam_front": CameraSensor("cam_front", cam, T_from_Rt(rotation_from_euler(-np.pi / 2, 0, -np.pi / 2),
                                                                          (0.5, 0, 0)))}, "lidar")
    images = {"cam_front": np.full((240, 320, 3), 200, np.uint8)} if with_image else {}
    with NativeDriveWriter(root, rig, "d", image_format="png") as w:
        w.add_frame("000000", 1_000_000, np.eye(4), points.astype(np.float32), images)
    return root


def _points(n: int = 500) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.c_[rng.uniform(5, 30, (n, 1)), rng.uniform(-5, 5, (n, 2)), rng.uniform(0, 1, (n, 1))]


def test_render_draws_a_camera_without_image_blank_with_its_points_and_says_so(tmp_path):
    """The app shows a camera without an image in this frame as a blank tile with its points; render
    used to leave the tile out without a word."""
    with_image = run_cli("render", str(_one_camera_drive(tmp_path / "a", _points(), True)), "--out",
                         str(tmp_path / "a.png"))
    out = run_cli("render", str(_one_camera_drive(tmp_path / "b", _points(), False)), "--out", str(tmp_path / "b.png"))
    assert with_image.returncode == 0 and out.returncode == 0, out.stderr
    assert "note:" not in with_image.stdout
    # the drive's only frame: no frame has an image of the camera (test_check_imageless_cameras has one frame without)
    assert "note: cam_front: no images in this drive (drawn blank, with their points)" in out.stdout
    a, b = cv2.imread(str(tmp_path / "a.png")), cv2.imread(str(tmp_path / "b.png"))
    assert a.shape == b.shape                                        # the tile is there, the camera's size

    def coloured(picture):      # the camera tile under the 40-px title and its caption: points coloured by depth
        tile = picture[80:280, :320].astype(int)
        return int(((tile.max(axis=2) - tile.min(axis=2)) > 60).sum())

    assert coloured(a) > 50 and coloured(b) == coloured(a)          # the same points, on the blank tile


def test_render_checks_the_output_name_before_reading_the_drive(tmp_path):
    """A bad --out extension is refused first: a broken sweep (or a long render) does not come before it."""
    root = _one_camera_drive(tmp_path / "d", _points(), True)
    (root / "lidar" / "000000.pcd").write_bytes(b"")
    assert_clean_error(run_cli("render", str(root), "--out", str(tmp_path / "r.bmp")), "r.bmp", "--out",
                       "output must end in .png, .jpg or .jpeg")
    assert_clean_error(run_cli("render", str(root), "--out", str(tmp_path / "r.png")), "000000.pcd", "empty file")


def test_render_of_a_sweep_with_stray_far_points_prints_no_numpy_warning(tmp_path):
    """A few garbage points beyond int32 pixels (1e19 m) fall outside the picture without a
    RuntimeWarning on stderr."""
    points = _points(2000)
    points[::100, 0] = 3e19
    points[5::100, 1] = -2e30
    out = run_cli("render", str(_one_camera_drive(tmp_path / "d", points, True)), "--out", str(tmp_path / "r.png"))
    assert out.returncode == 0 and out.stderr == "", out.stderr


def test_the_bev_render_names_tracks_as_the_app_does():
    """Track ids of up to 8 characters are drawn whole (the app's own ids, a nuScenes import's
    1, 2, ...), a longer one (an older project's 32-hex-digit instance token) as its first 6 and
    "...": the pixels match a label given that text as its track, and differ from a cut one."""
    from fusionlabel.geometry.cuboid import Cuboid
    from fusionlabel.model.annotation import CuboidLabel
    from fusionlabel.render.bev import BevGrid, render_bev
    from fusionlabel.wording import track_text

    grid = BevGrid((-10.0, 30.0), (-15.0, 15.0), 0.1)
    points = np.zeros((0, 4), np.float32)

    def drawn(track):
        return render_bev(points, [CuboidLabel(Cuboid((12.0, 0.0, 0.0), (4.5, 1.9, 1.6)), "vehicle.car", track)], grid)

    token = "9314ca" + "0123456789abcdef0123456789"
    assert np.array_equal(drawn(token), drawn("9314ca..."))
    assert not np.array_equal(drawn(token), drawn("9314ca"))
    assert not np.array_equal(drawn("12345678"), drawn("123456"))
    assert not np.array_equal(drawn("7"), drawn(None))
    assert track_text(token) == "9314ca…" and track_text("12345678") == "12345678"


@pytest.mark.parametrize("breakage, reason", [(lambda p: p.unlink(), "file not found"),
                                              (lambda p: p.write_bytes(b"not a picture"), "cannot decode")])
def test_render_draws_the_other_cameras_when_one_image_cannot_be_read(small_sim_drive, tmp_path, breakage, reason):
    """One camera's image file missing or broken: render used to stop the whole frame (exit 2, no
    picture); the app shows the other cameras, and so does render now, with one note naming the
    camera, the frame and the file, and exit 0 (the picture was written)."""
    from conftest import native_copy

    drive = native_copy(small_sim_drive, tmp_path / "drive")
    cameras = drive.rig(0).camera_names
    assert len(cameras) == 3 and cameras[0] == "cam_front"
    fid = drive.frames[1].frame_id
    assert run_cli("render", str(drive.root), "--frame", "1", "--out", str(tmp_path / "ok.png")).returncode == 0
    image = drive.frames[1].image_paths["cam_front"]
    breakage(image)
    out = run_cli("render", str(drive.root), "--frame", "1", "--out", str(tmp_path / "r.png"))
    assert out.returncode == 0, out.stderr
    notes = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(notes) == 1 and "Traceback" not in out.stderr, out.stderr
    assert all(part in notes[0] for part in ("cam_front", f"frame {fid}", str(image), reason)), notes[0]
    ok, broken = cv2.imread(str(tmp_path / "ok.png")), cv2.imread(str(tmp_path / "r.png"))
    assert ok.shape == broken.shape
    sizes = [drive.rig(0).camera(c).camera for c in cameras]
    tile_height = max(round(800 * m.height / m.width) for m in sizes)   # under the title: one row of 800-px tiles
    tiles = slice(40, 40 + tile_height)
    np.testing.assert_array_equal(broken[tiles, 800:], ok[tiles, 800:])   # the other two cameras, as they were
    front = broken[tiles, :800].astype(int)
    assert np.abs(front - ok[tiles, :800]).mean() > 5                   # the front camera: blank tile ...
    assert int(((front.max(axis=2) - front.min(axis=2)) > 60).sum()) > 1000   # ... with its points


def _crowd(n: int = 14) -> list:
    """Pedestrians 0.9 m apart in two staggered rows across the road 15 m ahead (a crossing), and
    a car behind them: their labels would all be written at the same height, on top of each other."""
    from fusionlabel.geometry.cuboid import Cuboid
    from fusionlabel.model.annotation import CuboidLabel

    people = [CuboidLabel(Cuboid((15.0 + (i % 2) * 0.5, -6.0 + 0.9 * i, 0.0), (0.6, 0.6, 1.7)), "pedestrian", str(40 + i))
              for i in range(n)]
    return people + [CuboidLabel(Cuboid((19.0, 0.0, 0.0), (4.5, 1.9, 1.6)), "car", "7")]


def test_bev_labels_of_a_crowd_of_pedestrians_are_written_apart_next_to_their_boxes():
    """Every label of a crowded crossing is drawn (none left out), no two labels and no ring
    distance overlap, each within a few lines of its box, a leader line to those moved; and the
    picture agrees: every pixel of label colour lies in a returned label rectangle, on a leader
    line or on a footprint, and every rectangle holds its label's ink."""
    import cv2
    from fusionlabel.render.bev import BevGrid, draw_bev
    from fusionlabel.render.colors import class_color
    from fusionlabel.render.label_layout import overlaps

    grid = BevGrid((-10.0, 30.0), (-12.0, 12.0), 0.075)
    labels = _crowd()
    image, text = draw_bev(np.zeros((0, 4), np.float32), labels, grid)
    assert sorted(text.labels) == list(range(len(labels))) and text.left_out == 0
    rects = [rect for _, rect in text.labels.values()]
    words = [*rects, *text.rings.values()]
    for i, a in enumerate(words):
        for b in words[i + 1:]:
            assert not overlaps(a, b), (a, b)
    assert text.leaders, "some labels of the crowd moved away from their box"
    footprint = np.zeros(image.shape[:2], np.uint8)
    for lab, rect in zip(labels, rects):
        poly = grid.to_pixels(lab.box.bev_polygon())
        corners = np.round(poly).astype(np.int32).reshape(-1, 1, 2)
        cv2.fillPoly(footprint, [corners], 1)             # its heading line inside it too
        cv2.polylines(footprint, [corners], True, 1, 5)
        x0, y0 = poly.min(axis=0)
        x1, y1 = poly.max(axis=0)
        # near its box: within 8 text lines of the footprint (3 beside it, up to 4 more nudged, and a gap)
        dx = max(x0 - (rect[0] + rect[2]), rect[0] - x1, 0.0)
        dy = max(y0 - (rect[1] + rect[3]), rect[1] - y1, 0.0)
        assert np.hypot(dx, dy) < 8 * rect[3], (lab.track_id, rect)
    ink = np.abs(image.astype(int) - class_color("pedestrian")).sum(axis=2) < 60
    allowed = footprint.astype(bool)
    for x, y, w, h in rects:
        allowed[int(y):int(y + h), int(x):int(x + w)] = True
        if labels[rects.index((x, y, w, h))].label == "pedestrian":
            assert ink[int(y):int(y + h), int(x):int(x + w)].sum() > 20, (x, y, w, h)
    leaders = np.zeros(image.shape[:2], np.uint8)
    for (x0, y0), (x1, y1) in text.leaders:
        cv2.line(leaders, (int(x0), int(y0)), (int(x1), int(y1)), 1, 3)
    allowed |= leaders.astype(bool)
    stray = ink & ~allowed
    assert stray.sum() == 0, np.argwhere(stray)[:10]


def test_render_says_how_many_bev_labels_were_left_out_and_keeps_them_off_its_caption(small_sim_drive):
    """A hundred pedestrians on one spot cannot all be labelled: those left out are counted on
    the bird's-eye panel, and no label or ring distance lies under the panel's caption."""
    from fusionlabel.geometry.cuboid import Cuboid
    from fusionlabel.geometry.transforms import invert_T
    from fusionlabel.model.annotation import CuboidLabel
    from fusionlabel.render.bev import BevGrid
    from fusionlabel.render.camera_overlay import caption_rect
    from fusionlabel.render.frame_image import render_frame
    from fusionlabel.render.label_layout import overlaps

    drive = small_sim_drive
    T_lidar_vehicle = invert_T(drive.rig(0).T_vehicle_lidar)
    heap = [CuboidLabel(Cuboid((12.0 + 0.05 * (i % 10), 0.05 * (i // 10), 0.0), (0.6, 0.6, 1.7)).transformed(T_lidar_vehicle),
                        "pedestrian", str(i)) for i in range(100)]
    said = []
    image = render_frame(drive, 0, labels=heap, bev_text=said)
    text = said[0]
    assert 0 < text.left_out < 100
    drawn = [rect for _, rect in text.labels.values() if rect is not None]
    grid = BevGrid.panel(image.shape[1])
    caption = caption_rect(grid.shape, f"bird's-eye view, vehicle frame (forward = up), {grid.resolution:.3f} m/px",
                           (10, 24), 0.6)
    assert all(not overlaps(r, caption) for r in [*drawn, *text.rings.values()])
    # the count is written at the panel's bottom left (a darkened caption box there)
    bare = render_frame(drive, 0, labels=heap[:1])
    corner = (slice(image.shape[0] - 40, image.shape[0]), slice(0, 300))
    assert (image[corner] != bare[corner]).any()
