"""COCO export: loads and evaluates in pycocotools; boxes equal OpenCV's projection of the cuboid
edges and contain the simulator's rendered object pixels; occlusion estimates agree with the masks."""

from __future__ import annotations

import contextlib
import io
import json

import cv2
import numpy as np
import pytest

from conftest import quiet
from fusionlabel.export import ExportError, export_drive
from fusionlabel.geometry.cuboid import EDGES


@pytest.fixture(scope="module")
def coco_export(export_masked_sim):
    return export_masked_sim("coco")


def test_loads_and_evaluates_in_pycocotools(coco_export):
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    drive, out, summary = coco_export
    total = 0
    for cam in drive.rig(0).camera_names:
        with contextlib.redirect_stdout(io.StringIO()):
            gt = COCO(str(out / "annotations" / f"{cam}.json"))
            dets = gt.loadRes([{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"],
                                "score": 1.0} for a in gt.dataset["annotations"]])
            ev = COCOeval(gt, dets, "bbox")
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        assert ev.stats[1] == pytest.approx(1.0)   # AP@0.5 of the ground truth against itself
        for img in gt.dataset["images"]:
            src = drive.frames[img["frame_index"]].image_paths[cam]
            assert (out / img["file_name"]).read_bytes() == src.read_bytes()
        total += len(gt.dataset["annotations"])
    assert total >= summary.total_objects > 0
    cats = [json.loads((out / "annotations" / f"{c}.json").read_text())["categories"]
            for c in drive.rig(0).camera_names]
    assert all(c == cats[0] for c in cats)


def _edge_points(corners: np.ndarray, n: int = 64) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n)[None, :, None]
    a, b = corners[EDGES[:, 0]], corners[EDGES[:, 1]]
    return (a[:, None, :] + t * (b - a)[:, None, :]).reshape(-1, 3)


@pytest.mark.parametrize("camera", ["cam_front", "cam_front_left", "cam_front_right"])
def test_boxes_equal_opencv_projection(coco_export, camera):
    drive, out, _ = coco_export
    doc = json.loads((out / "annotations" / f"{camera}.json").read_text())
    cam = drive.rig(0).camera(camera).camera
    checked = 0
    for img in doc["images"]:
        i = img["frame_index"]
        T = drive.T_cam_lidar(i, camera)
        anns = {a["track_id"]: a for a in doc["annotations"] if a["image_id"] == img["id"]}
        for lab in drive.labels(i):
            corners = lab.box.transformed(T).corners()
            if corners[:, 2].min() < 1.0 or lab.track_id not in anns:
                continue
            pts = _edge_points(corners)
            if cam.model == "fisheye":
                uv = cv2.fisheye.projectPoints(pts[None], np.zeros(3), np.zeros(3), cam.K,
                                               np.array(cam.distortion))[0][0]
            else:
                uv = cv2.projectPoints(pts, np.zeros(3), np.zeros(3), cam.K, np.array(cam.distortion))[0][:, 0]
            x1, y1 = uv.min(axis=0) + 0.5
            x2, y2 = uv.max(axis=0) + 0.5
            if x1 < 0 or y1 < 0 or x2 > cam.width or y2 > cam.height:
                continue   # clipped boxes: the extent outside the image is not comparable
            bx, by, bw, bh = anns[lab.track_id]["bbox"]
            np.testing.assert_allclose([bx, by, bx + bw, by + bh], [x1, y1, x2, y2], atol=0.6)
            checked += 1
    assert checked >= 3


@pytest.mark.parametrize("camera", ["cam_front", "cam_front_left", "cam_front_right"])
def test_rendered_object_pixels_inside_boxes(coco_export, camera):
    drive, out, _ = coco_export
    doc = json.loads((out / "annotations" / f"{camera}.json").read_text())
    checked = 0
    for img in doc["images"]:
        mask = cv2.imread(str(drive.root / "debug" / "masks" / camera / f"{img['frame_id']}.png"),
                          cv2.IMREAD_UNCHANGED)
        for a in (a for a in doc["annotations"] if a["image_id"] == img["id"]):
            ys, xs = np.nonzero(mask == int(a["track_id"]))
            if len(xs) < 50:
                continue
            x, y, w, h = a["bbox"]
            inside = (xs + 0.5 >= x - 1) & (xs + 0.5 <= x + w + 1) & (ys + 0.5 >= y - 1) & (ys + 0.5 <= y + h + 1)
            assert inside.mean() >= 0.97, (a["track_id"], inside.mean())
            checked += 1
    assert checked >= 3


def test_occlusion_estimate_agrees_with_masks(coco_export):
    """Objects with no visible pixel are estimated mostly occluded; objects whose rendered pixels
    fill a good part of their box are estimated mostly visible."""
    drive, out, _ = coco_export
    hidden, shown = [], []
    for camera in drive.rig(0).camera_names:
        doc = json.loads((out / "annotations" / f"{camera}.json").read_text())
        for img in doc["images"]:
            mask = cv2.imread(str(drive.root / "debug" / "masks" / camera / f"{img['frame_id']}.png"),
                              cv2.IMREAD_UNCHANGED)
            for a in (a for a in doc["annotations"] if a["image_id"] == img["id"]):
                if a["occlusion"] is None or a["truncation"] > 0.05 or a["area"] < 400:
                    continue
                fill = np.count_nonzero(mask == int(a["track_id"])) / a["area"]
                if fill == 0:
                    hidden.append(a["occlusion"])
                elif fill > 0.35:
                    shown.append(a["occlusion"])
    assert len(hidden) >= 3 and len(shown) >= 5
    assert np.mean(np.array(hidden) >= 0.5) >= 0.8, hidden
    assert np.mean(np.array(shown) < 0.5) >= 0.8, shown


def test_camera_option(small_sim_drive, tmp_path):
    drive = small_sim_drive
    export_drive(drive, "coco", tmp_path / "one", options=quiet(camera="cam_front_right", sensor_data=False))
    assert sorted(p.name for p in (tmp_path / "one" / "annotations").iterdir()) == ["cam_front_right.json"]
    assert not (tmp_path / "one" / "images").exists()
    with pytest.raises(ExportError, match="cam_nope.*cameras: cam_front"):
        export_drive(drive, "coco", tmp_path / "two", options=quiet(camera="cam_nope"))


def _shoelace(poly: list[float]) -> float:
    x, y = np.array(poly[0::2], np.float64), np.array(poly[1::2], np.float64)
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def test_area_is_that_of_the_written_box_and_rectangle(coco_export):
    """``area`` describes what is written: w·h of the written bbox, which is also the area of the
    written segmentation rectangle (shoelace), whose corners are the bbox's; pycocotools' own
    rasterised mask of the rectangle covers about as many pixels (within its outline)."""
    drive, out, _ = coco_export
    n = 0
    for cam in drive.rig(0).camera_names:
        doc = json.loads((out / "annotations" / f"{cam}.json").read_text())
        for a in doc["annotations"]:
            x, y, w, h = a["bbox"]
            (poly,) = a["segmentation"]
            assert a["area"] == pytest.approx(w * h, abs=1e-9)
            assert _shoelace(poly) == pytest.approx(a["area"], abs=1e-6)
            np.testing.assert_allclose(sorted(set(poly[0::2])), [x, x + w], atol=1e-9)
            np.testing.assert_allclose(sorted(set(poly[1::2])), [y, y + h], atol=1e-9)
            n += 1
    assert n > 10
    try:
        from pycocotools import mask as mask_utils
    except ImportError:
        return
    for cam in drive.rig(0).camera_names:
        doc = json.loads((out / "annotations" / f"{cam}.json").read_text())
        size = {img["id"]: (img["height"], img["width"]) for img in doc["images"]}
        for a in doc["annotations"]:
            rle = mask_utils.merge(mask_utils.frPyObjects(a["segmentation"], *size[a["image_id"]]))
            assert abs(float(mask_utils.area(rle)) - a["area"]) <= a["bbox"][2] + a["bbox"][3] + 2


def test_occlusion_chosen_in_the_attribute_panel_is_written(small_sim_drive, tmp_path):
    """An annotator's occlusion is written as the middle of its band (full 0.8, partial 0.3, and
    ``none`` on an imported box whose source gave no occlusion 0.1); a drawn box's default ``none`` is
    no choice and every other box keeps the estimate. Before, the estimate was always written."""
    drive = small_sim_drive

    def annotations(out) -> dict[tuple, dict]:
        found = {}
        for path in sorted((out / "annotations").glob("*.json")):
            doc = json.loads(path.read_text())
            images = {im["id"]: im["frame_id"] for im in doc["images"]}
            found.update({(path.stem, images[a["image_id"]], a["track_id"]): a for a in doc["annotations"]})
        return found

    export_drive(drive, "coco", tmp_path / "plain", options=quiet(sensor_data=False))
    plain = annotations(tmp_path / "plain")
    tracks = [t for t in dict.fromkeys(key[2] for key in plain if key[1] == drive.frames[0].frame_id)][:4]
    full, partial, drawn, imported_none = tracks
    chosen = {full: ("import", "full"), partial: ("import", "partial"), drawn: ("human", "none"),
              imported_none: ("import", "none")}

    def labels_for(i):
        return [lab.with_(source=chosen[lab.track_id][0],
                          attributes={**lab.attributes, "occlusion": chosen[lab.track_id][1]})
                if i == 0 and lab.track_id in chosen else lab for lab in drive.labels(i)]

    export_drive(drive, "coco", tmp_path / "chosen", labels_for, quiet(sensor_data=False))
    written = annotations(tmp_path / "chosen")
    assert written.keys() == plain.keys()
    expected = {full: 0.8, partial: 0.3, imported_none: 0.1}
    for key, a in written.items():
        if key[1] == drive.frames[0].frame_id and key[2] in expected:
            assert a["occlusion"] == expected[key[2]], key
        else:
            assert a["occlusion"] == plain[key]["occlusion"], key
    assert any(key[2] == drawn and key[1] == drive.frames[0].frame_id for key in written)
