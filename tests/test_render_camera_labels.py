"""`fusionlabel render`: each cuboid in a camera tile is labelled as in the bird's-eye panel, just above
its projected outline, inside the image, apart from the other labels; a box the camera does not
see gets none. Where the boxes fall is worked out here with OpenCV's projectPoints from the rig's
numbers, not with the renderer's projection."""

from pathlib import Path

import cv2
import numpy as np
import pytest

W, H, F = 640, 480, 500.0
# The camera 0.5 m ahead of the LiDAR, looking along +x: its x right is the LiDAR's -y, its y down -z.
R_LIDAR_CAM = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
T_LIDAR_CAM = np.eye(4)
T_LIDAR_CAM[:3, :3], T_LIDAR_CAM[:3, 3] = R_LIDAR_CAM, (0.5, 0.0, 0.0)
K = np.array([[F, 0.0, W / 2], [0.0, F, H / 2], [0.0, 0.0, 1.0]])
TITLE = 40            # the picture's title bar; the single camera's tile is below it, at its own size
GREY = 40
COLORS = {"car": (255, 158, 0), "pedestrian": (0, 200, 255), "cyclist": (220, 20, 220)}


@pytest.fixture(scope="module")
def drive(tmp_path_factory):
    """One pinhole camera, a dark image, no LiDAR point in front of the camera (no depth colours)."""
    from fusionlabel.geometry.cameras import camera_from_params
    from fusionlabel.io.native import NativeDriveWriter, open_native_drive
    from fusionlabel.model.rig import CameraSensor, LidarSensor, Rig

    cam = camera_from_params("pinhole", W, H, F, F, W / 2, H / 2, ())
    rig = Rig("r", {"lidar": LidarSensor("lidar", np.eye(4)), "cam_front": CameraSensor("cam_front", cam, T_LIDAR_CAM)},
              "lidar")
    root = Path(tmp_path_factory.mktemp("camlabels")) / "drive"
    behind = np.c_[np.full((50, 1), -20.0), np.linspace(-5, 5, 50)[:, None], np.zeros((50, 2))].astype(np.float32)
    with NativeDriveWriter(root, rig, "d", image_format="png") as w:
        w.add_frame("000000", 1_000_000, np.eye(4), behind, {"cam_front": np.full((H, W, 3), GREY, np.uint8)})
    return open_native_drive(root)


def box(cls, track, center, size, yaw=0.0):
    from fusionlabel.geometry.cuboid import Cuboid
    from fusionlabel.model.annotation import CuboidLabel

    return CuboidLabel(Cuboid(center, size, yaw), cls, track)


def corners(lab) -> np.ndarray:
    """The eight corners (8, 3) in the LiDAR frame, from centre, size and yaw."""
    (l, w, h), c, s = lab.box.size, np.cos(lab.box.yaw), np.sin(lab.box.yaw)
    local = np.array([[x, y, z] for x in (-l / 2, l / 2) for y in (-w / 2, w / 2) for z in (-h / 2, h / 2)])
    return local @ np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]]) + np.asarray(lab.box.center)


def project(points_lidar: np.ndarray) -> np.ndarray:
    """Pixels (N, 2) of LiDAR-frame points in front of the camera, by cv2.projectPoints."""
    T_cam_lidar = np.linalg.inv(T_LIDAR_CAM)
    rvec, _ = cv2.Rodrigues(T_cam_lidar[:3, :3])
    uv, _ = cv2.projectPoints(points_lidar.reshape(-1, 1, 3), rvec, T_cam_lidar[:3, 3], K, np.zeros(5))
    return uv.reshape(-1, 2)


def outline_mask(labels) -> np.ndarray:
    """Where the boxes' edges (and front-face crosses) are drawn, widened: not label ink."""
    mask = np.zeros((H, W), np.uint8)
    for lab in labels:
        uv = project(corners(lab))
        for a in range(8):
            for b in range(a + 1, 8):       # every pair: the 12 edges, the face diagonals and more
                cv2.line(mask, tuple(int(v) for v in np.round(uv[a])), tuple(int(v) for v in np.round(uv[b])), 1, 7)
    return mask.astype(bool)


def ink(tile: np.ndarray, cls: str) -> np.ndarray:
    return np.abs(tile.astype(int) - COLORS[cls]).sum(axis=2) < 60


def render(drive, labels, said=None):
    from fusionlabel.render.frame_image import render_frame

    kwargs = {} if said is None else {"camera_text": said}
    return render_frame(drive, 0, labels=labels, **kwargs)


def camera_tile(picture: np.ndarray) -> np.ndarray:
    return picture[TITLE:TITLE + H, :W]


def test_a_camera_label_sits_just_above_its_projected_box(drive):
    """"car 7" is written in the car's colour right above the top edge of its projected box (the
    top-left corner of its image-space bounding box), the bird's-eye panel's words."""
    car = box("car", "7", (15.0, 3.0, 0.0), (4.5, 1.9, 1.6), 0.3)
    tile = camera_tile(render(drive, [car]))
    uv = project(corners(car))
    x1, y1 = uv.min(axis=0)
    x2, _ = uv.max(axis=0)
    assert 60 < x1 and x2 < W - 60 and 100 < y1 < H - 100       # the box is well inside the image
    label = ink(tile, "car") & ~outline_mask([car])
    rows, cols = np.nonzero(label)
    assert len(rows) > 15, "no label ink beside the box"
    assert rows.max() < y1 and rows.min() > y1 - 25, (rows.min(), rows.max(), y1)    # one line above the top edge
    assert x1 - 2 <= cols.min() <= x1 + 10 and cols.max() < x1 + 80, (cols.min(), cols.max(), x1)


def test_camera_labels_say_what_the_birds_eye_panel_says(drive):
    from fusionlabel.render.frame_image import render_frame

    labels = [box("vehicle.car", "7", (15.0, 3.0, 0.0), (4.5, 1.9, 1.6)), box("pedestrian", None, (12.0, -3.0, 0.0),
                                                                              (0.6, 0.6, 1.7))]
    cams, bev = {}, []
    render_frame(drive, 0, labels=labels, camera_text=cams, bev_text=bev)
    words = {i: text for i, (text, _) in cams["cam_front"].labels.items()}
    assert words == {0: "car 7", 1: "pedestrian"}
    assert words == {i: text for i, (text, _) in bev[0].labels.items()}


def test_labels_of_overlapping_boxes_do_not_overlap(drive):
    """A pedestrian and a cyclist one behind the other: their boxes' top-left corners are a few
    pixels apart, so the labels would be written over each other; one moves up with a leader line.
    Their ink (off the outlines and the leader lines) lies in two separate rectangles."""
    walker = box("pedestrian", "41", (12.0, -3.0, 0.0), (0.6, 0.6, 1.7))
    rider = box("cyclist", "5", (12.4, -3.1, 0.0), (1.8, 0.6, 1.7))
    a, b = project(corners(walker)).min(axis=0), project(corners(rider)).min(axis=0)
    assert np.abs(a - b).max() < 10                  # the labels' places beside their boxes coincide
    said = {}
    tile = camera_tile(render(drive, [walker, rider], said))
    text = said["cam_front"]
    assert text.left_out == 0 and text.leaders
    leaders = np.zeros((H, W), np.uint8)
    for (x0, y0), (x1, y1) in text.leaders:
        cv2.line(leaders, (int(x0), int(y0)), (int(x1), int(y1)), 1, 3)
    off = outline_mask([walker, rider]) | leaders.astype(bool)
    extents = []
    for cls in ("pedestrian", "cyclist"):
        rows, cols = np.nonzero(ink(tile, cls) & ~off)
        assert len(rows) > 15, cls
        extents.append((cols.min(), rows.min(), cols.max(), rows.max()))
    (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = extents
    assert ax1 < bx0 or bx1 < ax0 or ay1 < by0 or by1 < ay0, extents
    for (x0, y0, x1, y1) in extents:                    # both still near the boxes (a few lines up at most)
        assert y1 < max(a[1], b[1]) + 2 and y0 > min(a[1], b[1]) - 8 * 16 and abs(x0 - a[0]) < 30


def test_no_label_for_a_box_behind_the_camera_or_outside_the_image(drive):
    """A car behind the camera and one in front but far outside the field of view get no label:
    the tile is the same pixel for pixel as without them; a box cut by the image's right edge gets
    its label inside the image."""
    front = box("car", "7", (15.0, 3.0, 0.0), (4.5, 1.9, 1.6), 0.3)
    behind = box("car", "8", (-12.0, 0.0, 0.0), (4.5, 1.9, 1.6))
    aside = box("car", "9", (4.0, 20.0, 0.0), (4.5, 1.9, 1.6))
    assert (T_LIDAR_CAM[:3, :3].T @ (corners(behind) - T_LIDAR_CAM[:3, 3]).T)[2].max() < 0     # all behind
    assert (project(corners(aside))[:, 0] < 0).all()                                         # all left of it
    said = {}
    with_them = camera_tile(render(drive, [front, behind, aside], said))
    np.testing.assert_array_equal(with_them, camera_tile(render(drive, [front])))
    assert list(said["cam_front"].labels) == [0]
    edge = box("pedestrian", "3", (10.0, -6.0, 0.0), (0.8, 0.8, 1.7))
    uv = project(corners(edge))
    assert uv[:, 0].min() < W < uv[:, 0].max()       # cut by the right edge
    tile = camera_tile(render(drive, [edge], said))
    _, rect = said["cam_front"].labels[0]
    assert rect is not None and rect[0] >= 0 and rect[0] + rect[2] <= W and rect[1] >= 0 and rect[1] + rect[3] <= H
    rows, cols = np.nonzero(ink(tile, "pedestrian") & ~outline_mask([edge]))
    assert len(rows) > 15 and rows.max() < uv[:, 1].min()    # above the box, inside the tile


def test_captions_count_one_thing_in_the_singular():
    from fusionlabel.render.frame_image import camera_caption

    assert camera_caption("image_2", "", 1, 1) == "image_2: 1 point, 1 box"
    assert camera_caption("image_2", "", 20259, 2, 1) == "image_2: 20259 points, 2 boxes, 1 label left out"
