"""The `fusionlabel render` picture: every camera with points and cuboids, plus a BEV panel."""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import ImageError
from ..geometry.transforms import invert_T, rotation_z, transform_points
from ..io.images import check_image_size
from ..model.annotation import CuboidLabel
from ..model.drive import Drive, cameras_without_images
from ..model.rig import Rig, forward_in_lidar
from ..wording import counted
from .bev import BevGrid, BevText, draw_bev
from .box_labels import LABEL_SCALE, LabelText, draw_box_labels
from .camera_overlay import caption_rect, draw_caption, draw_cuboid, draw_label, draw_points
from .colors import class_color
from .label_layout import Rect

MAX_COLUMNS = 3
TILE_WIDTH = 800     # the width of each camera tile when the rig has more than one camera
NO_IMAGE = "no image for this frame"   # the caption of a camera tile without an image (the app's words)
NO_IMAGES_IN_DRIVE = "no images in this drive"  # the caption when the drive has no image of the camera at all
IMAGE_NOT_READ = "image not read"      # the caption of a camera whose image file is missing or undecodable
BLANK_GREY = 24                        # the grey of that tile, as the app's


def render_camera(drive: Drive, frame: int, camera: str, labels: list[CuboidLabel], points: np.ndarray,
                  show_points: bool = True, unread: dict[str, ImageError] | None = None,
                  outlines: dict[int, Rect] | None = None) -> tuple[np.ndarray, int, int]:
    """One camera image with overlays; returns (image, points drawn, cuboids drawn). A camera without
    an image in this frame gets a blank tile of its size, with its points and cuboids all the same;
    so does one whose image file cannot be read, when ``unread`` is given (it receives the
    ImageError by camera; without it the error is raised); so does one whose image is not the rig
    camera's size. ``outlines``, when given, receives the image-space bounding box (x, y, w, h,
    clipped to the image) of each cuboid drawn, by its index in ``labels`` (where its label goes:
    :func:`draw_camera_labels`)."""
    sensor = drive.rig(frame).camera(camera)
    image = None
    paths = drive.frames[drive.index_of(frame)].image_paths
    if camera in paths:
        try:
            image = drive.image(frame, camera).copy()
            # points and boxes would land in the wrong place (import and export refuse it the same way)
            check_image_size(paths[camera], image.shape[1::-1], sensor.camera.width, sensor.camera.height, camera)
        except ImageError as e:
            if unread is None:
                raise
            image, unread[camera] = None, e
    if image is None:
        image = np.full((sensor.camera.height, sensor.camera.width, 3), BLANK_GREY, np.uint8)
    T_cam_lidar = drive.T_cam_lidar(frame, camera)
    n_points = draw_points(image, points, T_cam_lidar, sensor.camera) if show_points else 0
    scale = max(1, round(image.shape[1] / 800))
    n_boxes = 0
    for k, lab in enumerate(labels):
        rect = draw_cuboid(image, lab.box, T_cam_lidar, sensor.camera, class_color(lab.label), 1 + scale)
        if rect is not None:
            n_boxes += 1
            if outlines is not None:
                outlines[k] = rect
    return image, n_points, n_boxes


def draw_camera_labels(image: np.ndarray, labels: list[CuboidLabel], outlines: dict[int, Rect],
                       T_cam_lidar: np.ndarray, keep_clear: list[Rect] = (), enlarge: float = 1.0) -> LabelText:
    """The labels of the cuboids drawn in a camera image (``outlines``: :func:`render_camera`'s),
    the bird's-eye panel's words, each just above the top edge of its box's outline in the image,
    nearest to the camera first; a label that would overlap one placed before it moves a few lines
    away with a leader line, or is left out (:func:`~.box_labels.draw_box_labels`). Every label
    stays inside the image and off ``keep_clear``; ``enlarge``: how many times larger than the
    bird's-eye panel's the text is drawn (the tile is shrunk that much in the picture)."""
    anchors = {k: (float(round(r[0])), float(round(r[1]))) for k, r in outlines.items()}
    T_lidar_cam = invert_T(T_cam_lidar)
    eye = T_lidar_cam[:3, 3]
    order = sorted(outlines, key=lambda k: float(np.linalg.norm(np.asarray(labels[k].box.center) - eye)))
    bounds = (0.0, 0.0, float(image.shape[1]), float(image.shape[0]))
    return draw_box_labels(image, labels, anchors, outlines, order, bounds, keep_clear,
                           scale=LABEL_SCALE * enlarge, thickness=max(1, round(enlarge)))


def camera_caption(camera: str, missing: str, n_points: int, n_boxes: int, left_out: int = 0) -> str:
    """A camera tile's caption: its name, why it is blank (``missing``), what was drawn, and how many
    box labels found no free place."""
    text = f"{camera}: {missing}{counted(n_points, 'point')}, {counted(n_boxes, 'box')}"
    return text + (f", {counted(left_out, 'label')} left out" if left_out else "")


def _fit_width(image: np.ndarray, width: int) -> np.ndarray:
    if image.shape[1] == width:
        return image
    h = int(round(image.shape[0] * width / image.shape[1]))
    return cv2.resize(image, (width, h), interpolation=cv2.INTER_AREA)


def _cell_width(widths: list[int]) -> int:
    """The width of each camera tile in the picture: a single camera's own, else :data:`TILE_WIDTH`."""
    return widths[0] if len(widths) == 1 else TILE_WIDTH


def _grid(images: list[np.ndarray], columns: int, cell_width: int) -> np.ndarray:
    cells = [_fit_width(im, cell_width) for im in images]
    cell_h = max(c.shape[0] for c in cells)
    rows = (len(cells) + columns - 1) // columns
    out = np.zeros((rows * cell_h, columns * cell_width, 3), np.uint8)
    for i, c in enumerate(cells):
        r, k = divmod(i, columns)
        out[r * cell_h:r * cell_h + c.shape[0], k * cell_width:(k + 1) * cell_width] = c
    return out


def bev_frame(rig: Rig) -> np.ndarray:
    """(4, 4) transform from the reference LiDAR to the frame the bird's-eye view is drawn in, x
    forward: the vehicle frame, or for a rig without one (SUSTech-style) the LiDAR frame turned about
    z so that its forward (:func:`~fusionlabel.model.rig.forward_in_lidar`, the front camera's) is +x."""
    if rig.vehicle_frame:
        return np.asarray(rig.T_vehicle_lidar, dtype=np.float64)
    fx, fy = forward_in_lidar(rig)
    T = np.eye(4)
    T[:3, :3] = rotation_z(-float(np.arctan2(fy, fx)))
    return T


def left_out_note(n: int) -> str:
    """The bird's-eye panel's line when ``n`` box labels found no free place near their box."""
    return f"{counted(n, 'label')} left out where boxes crowd (no free place near the box)"


def render_frame(drive: Drive, frame: int | str, labels: list[CuboidLabel] | None = None,
                 bev_grid: BevGrid | None = None, points_drawn: dict[str, int] | None = None,
                 unread: dict[str, ImageError] | None = None, bev_text: list[BevText] | None = None,
                 camera_text: dict[str, LabelText] | None = None) -> np.ndarray:
    """Compose the full check image for one frame, (H, W, 3) uint8 RGB. ``points_drawn``, when
    given, receives the number of LiDAR points drawn in each camera shown. A camera without an image
    is drawn blank with its points, captioned :data:`NO_IMAGE`, or :data:`NO_IMAGES_IN_DRIVE` when
    no frame has one (:func:`~fusionlabel.model.drive.cameras_without_images`). With ``unread``
    given, a camera whose image file is missing or undecodable is drawn blank too, captioned
    :data:`IMAGE_NOT_READ`, and ``unread`` receives its ImageError (else that error is raised).
    ``bev_text``, when given, receives where the bird's-eye panel's labels and ring distances went
    (:class:`~.bev.BevText`, in the panel's pixels; the panel is the picture's bottom row, centred);
    ``camera_text``, when given, where each camera's box labels went (in that camera's image pixels,
    :func:`draw_camera_labels`)."""
    i = drive.index_of(frame)
    f = drive.frames[i]
    points = drive.points(i)
    labels = drive.labels(i) if labels is None else labels
    rig = drive.rig(i)
    panels = []
    imageless = cameras_without_images(drive)
    cell_width = _cell_width([rig.camera(cam).camera.width for cam in rig.camera_names])
    for cam in rig.camera_names:
        outlines: dict[int, Rect] = {}
        image, n_pts, n_boxes = render_camera(drive, i, cam, labels, points, unread=unread, outlines=outlines)
        if points_drawn is not None:
            points_drawn[cam] = n_pts
        s = image.shape[1] / 1000.0
        if cam not in f.image_paths:
            missing = f"{NO_IMAGES_IN_DRIVE if cam in imageless else NO_IMAGE}, "
        else:
            missing = f"{IMAGE_NOT_READ}, " if unread is not None and cam in unread else ""
        org, scale = (int(10 * s) + 4, int(28 * s) + 8), max(0.5, 0.8 * s)
        longest = caption_rect(image.shape, camera_caption(cam, missing, n_pts, n_boxes, n_boxes), org, scale)
        said = draw_camera_labels(image, labels, outlines, drive.T_cam_lidar(i, cam), [longest],
                                  max(1.0, image.shape[1] / cell_width))
        if camera_text is not None:
            camera_text[cam] = said
        draw_caption(image, camera_caption(cam, missing, n_pts, n_boxes, said.left_out), org, (255, 255, 255), scale)
        panels.append(image)
    if panels:
        columns = min(MAX_COLUMNS, len(panels))
        cams = _grid(panels, columns, cell_width)
    else:
        cams = np.zeros((0, 1200, 3), np.uint8)
    width = cams.shape[1]
    # The BEV is drawn forward up (see bev_frame), as the app draws it, as wide as the cameras.
    grid = bev_grid or BevGrid.panel(width)
    T_bev_lidar = bev_frame(rig)
    bev_labels = [lab.with_(box=lab.box.transformed(T_bev_lidar)) for lab in labels]
    forward = "up" if grid.forward == "up" else "right"
    frame_name = "vehicle frame" if rig.vehicle_frame else "LiDAR frame turned to the front camera"
    caption = f"bird's-eye view, {frame_name} (forward = {forward}), {grid.resolution:.3f} m/px"
    note_at = (10, grid.shape[0] - 12)    # where the number of labels left out goes, kept clear
    clear = [caption_rect(grid.shape, caption, (10, 24), 0.6),
             caption_rect(grid.shape, left_out_note(len(labels)), note_at, 0.5)]
    bev, said = draw_bev(transform_points(T_bev_lidar, points), bev_labels, grid, keep_clear=clear)
    if bev_text is not None:
        bev_text.append(said)
    draw_caption(bev, caption, (10, 24), (255, 255, 255), 0.6)
    if said.left_out:
        draw_caption(bev, left_out_note(said.left_out), note_at, (255, 255, 255), 0.5)
    width = max(width, bev.shape[1])
    title = np.full((40, width, 3), 30, np.uint8)
    draw_label(title, f"{drive.name}  frame {f.frame_id}  ({i + 1}/{len(drive)})  {len(points)} points, "
                      f"{counted(len(labels), 'cuboid')}", (10, 27), (255, 255, 255), 0.7)
    bev_row = np.zeros((bev.shape[0], width, 3), np.uint8)
    x0 = (width - bev.shape[1]) // 2
    bev_row[:, x0:x0 + bev.shape[1]] = bev
    cams_row = np.zeros((cams.shape[0], width, 3), np.uint8)
    cams_row[:, :cams.shape[1]] = cams
    return np.concatenate([title, cams_row, bev_row])
