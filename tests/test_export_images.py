"""Images in exports: every image an exporter writes or copies decodes in full and has its rig
camera's size (else exit 2 naming the file, or a skipped frame with --skip-bad-frames); frames
without an image; exports that are byte-identical from run to run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

import fusionlabel
from conftest import simulated_drive
from fusionlabel.errors import ImageError
from fusionlabel.export.base import MANIFEST
from fusionlabel.export.nuscenes import channel_name
from fusionlabel.io.images import checked_image_size, read_image, write_image

IMAGE_FORMATS = ["kitti", "kitti-tracking", "coco", "nuscenes"]


def _copy_with_bad_image(drive, tmp_path, kind: str) -> tuple[Path, Path, str]:
    """A copy of ``drive`` whose frame 1 image of the first camera is cut to a third ("cut") or
    resized to half its size ("small"): (root, that image, camera)."""
    root = tmp_path / "d"
    shutil.copytree(drive.root, root)
    cam = drive.rig(0).camera_names[0]
    image = root / drive.frames[1].image_paths[cam].relative_to(drive.root)
    data = image.read_bytes()
    if kind == "cut":
        image.write_bytes(data[:len(data) // 3])
    else:
        pixels = read_image(image)
        write_image(image, cv2.resize(pixels, (pixels.shape[1] // 2, pixels.shape[0] // 2)))
    return root, image, cam


@pytest.mark.parametrize("kind", ["cut", "small"])
@pytest.mark.parametrize("fmt", IMAGE_FORMATS)
def test_a_cut_or_wrong_size_image_stops_the_export(fmt, kind, small_sim_drive, tmp_path, capfd):
    from fusionlabel.cli.main import main

    root, image, cam = _copy_with_bad_image(small_sim_drive, tmp_path, kind)
    out = tmp_path / "out"
    base = ["export", str(root), "--format", fmt, "--out", str(out), "--quiet"]
    if fmt == "kitti":
        base += ["--camera", cam]
    assert main(base) == 2
    err = capfd.readouterr().err
    assert err.count("\n") == 1 and str(image) in err, err      # one line, naming the file
    model = small_sim_drive.rig(0).camera(cam).camera
    if kind == "small":
        assert (f"{image}: size: image is {model.width // 2}x{model.height // 2} px but the rig's camera {cam} "
                f"is {model.width}x{model.height}") in err
    else:
        assert "cannot decode JPEG data" in err
    assert not out.exists()
    assert main(base + ["--skip-bad-frames"]) == 3
    printed = capfd.readouterr().out
    assert f"  frame 000001: {image}" in printed
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["frames"] == ["000000", "000002"]
    # the camera's images that were written decode, at the camera's size (nuScenes: CAM_<NAME>)
    written = [p for p in out.rglob("*") if p.suffix in (".jpg", ".png") and "maps" not in p.parts
               and (fmt.startswith("kitti") or {cam, channel_name(cam)} & set(p.parts))]
    assert len(written) == 2
    assert {checked_image_size(p) for p in written} == {(model.width, model.height)}


def test_labels_only_reads_no_image(small_sim_drive, tmp_path):
    from fusionlabel.cli.main import main

    root, _, cam = _copy_with_bad_image(small_sim_drive, tmp_path, "small")
    for fmt in IMAGE_FORMATS:
        assert main(["export", str(root), "--format", fmt, "--out", str(tmp_path / fmt), "--quiet",
                     "--labels-only"]) == 0


def _png(tmp_path) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    path = tmp_path / "a.png"
    write_image(path, pixels)
    return path, pixels


def test_a_cut_or_corrupt_png_is_refused_without_libpng_printing(tmp_path, capfd):
    path, pixels = _png(tmp_path)
    assert np.array_equal(read_image(path), pixels) and checked_image_size(path) == (160, 120)
    data = path.read_bytes()
    cut = tmp_path / "cut.png"
    cut.write_bytes(data[:len(data) // 2])
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF            # inside IDAT: its CRC no longer matches
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(bytes(flipped))
    capfd.readouterr()
    for bad in (cut, corrupt):
        for read in (read_image, checked_image_size):
            with pytest.raises(ImageError, match="cannot decode PNG data") as e:
                read(bad)
            assert str(bad) in str(e.value)
    assert capfd.readouterr().err == ""         # libpng printed nothing at the C level


def test_a_cut_kitti_png_stops_the_export_with_one_line(kitti_object, tmp_path, capfd):
    from fusionlabel.cli.main import main

    root = tmp_path / "k"
    root.mkdir()
    for sub in ("velodyne", "calib", "label_2"):
        (root / sub).symlink_to(kitti_object / sub)
    shutil.copytree(kitti_object / "image_2", root / "image_2")
    images = sorted((root / "image_2").glob("*.png"))
    cut = images[-1]
    cut.write_bytes(cut.read_bytes()[:cut.stat().st_size // 2])
    for fmt in IMAGE_FORMATS:
        out = tmp_path / f"out_{fmt}"
        assert main(["export", str(root), "--format", fmt, "--out", str(out), "--quiet"]) == 2, fmt
        err = capfd.readouterr().err
        assert err.count("\n") == 1 and str(cut) in err and "libpng" not in err, (fmt, err)
        assert not out.exists()


# ------------------------------------------------------------------------------ frames without an image
def _drive_without_images_in_frame_1(drive, root):
    from fusionlabel.io.native import NativeDriveWriter, open_native_drive

    with NativeDriveWriter(root, drive.rig(0), "gap") as writer:
        for i, f in enumerate(drive.frames):
            images = {} if i == 1 else {c: drive.image(i, c) for c in f.image_paths}
            writer.add_frame(f.frame_id, f.timestamp_us, f.T_world_vehicle, drive.points(i), images,
                             drive.labels(i))
    return open_native_drive(root)


def test_kitti_leaves_out_a_frame_without_an_image(small_sim_drive, tmp_path):
    from conftest import quiet
    from fusionlabel.export import export_drive

    drive = _drive_without_images_in_frame_1(small_sim_drive, tmp_path / "gap")
    out = tmp_path / "k"
    summary = export_drive(drive, "kitti", out, options=quiet())
    assert sorted(p.stem for p in (out / "label_2").iterdir()) == ["000000", "000002"]
    assert sorted(p.stem for p in (out / "image_2").iterdir()) == ["000000", "000002"]
    assert sorted(p.stem for p in (out / "calib").iterdir()) == ["000000", "000002"]
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["frames"] == ["000000", "000002"]
    cam = drive.rig(0).camera_names[0]
    line = f"frame 000001: no {cam} image; frame left out"
    assert any(t.startswith(line) for t in manifest["summary"]["not_written"])
    assert line in summary.text() and summary.frames == 2
    # --labels-only writes every frame (no image is written for any of them)
    summary = export_drive(drive, "kitti", tmp_path / "k2", options=quiet(sensor_data=False))
    assert summary.frames == 3 and not summary.not_written


def test_kitti_tracking_leaves_out_a_frame_without_an_image(small_sim_drive, tmp_path):
    """KITTI tracking loaders read image_02/<seq>/<frame>.png for every frame, so a frame without an
    image is left out as by the KITTI object exporter: no label lines, sweep or image of it, the
    frames after it are numbered on without a gap (frames_0000.txt names the source frames), and the
    export reads back with every frame having its image. --labels-only writes every frame's labels."""
    from conftest import quiet
    from fusionlabel.export import export_drive
    from fusionlabel.io.kitti_tracking import open_kitti_tracking

    drive = _drive_without_images_in_frame_1(small_sim_drive, tmp_path / "gap")
    out = tmp_path / "t"
    summary = export_drive(drive, "kitti-tracking", out, options=quiet())
    assert summary.frames == 2
    for folder in ("velodyne/0000", "image_02/0000"):
        assert sorted(p.stem for p in (out / folder).iterdir()) == ["000000", "000001"]
    lines = (out / "label_02" / "0000.txt").read_text().splitlines()
    assert {line.split()[0] for line in lines} == {"0", "1"}
    assert sum(line.split()[0] == "0" for line in lines) == len(drive.labels(0))
    assert sum(line.split()[0] == "1" for line in lines) == len(drive.labels(2))
    assert (out / "frames_0000.txt").read_text().split() == ["000000", drive.frames[0].frame_id,
                                                             "000001", drive.frames[2].frame_id]
    cam = drive.rig(0).camera_names[0]
    assert any(t.startswith(f"frame 000001: no {cam} image; frame left out (KITTI tracking loaders read "
                            "image_02/<seq>/ for every frame") for t in summary.not_written)
    back = open_kitti_tracking(out)
    assert [f.frame_id for f in back.frames] == ["000000", "000001"]
    assert all("image_2" in f.image_paths for f in back.frames)
    summary = export_drive(drive, "kitti-tracking", tmp_path / "t2", options=quiet(sensor_data=False))
    assert summary.frames == 3 and not summary.not_written
    lines = (tmp_path / "t2" / "label_02" / "0000.txt").read_text().splitlines()
    assert {line.split()[0] for line in lines} == {"0", "1", "2"}


def test_nuscenes_names_a_sample_without_a_camera_image(small_sim_drive, tmp_path):
    from conftest import quiet
    from fusionlabel.export import export_drive

    drive = _drive_without_images_in_frame_1(small_sim_drive, tmp_path / "gap")
    out = tmp_path / "n"
    summary = export_drive(drive, "nuscenes", out, options=quiet())
    assert summary.frames == 3 and summary.not_written == []     # written, with LIDAR_TOP only
    assert "1 of 3 samples hold LIDAR_TOP only, their frames having no camera image: frame 000001" in \
        summary.cannot_hold
    tables = out / "v1.0-mini"
    samples = json.loads((tables / "sample.json").read_text())
    data = json.loads((tables / "sample_data.json").read_text())
    per_sample = {s["token"]: sorted(d["fileformat"] for d in data if d["sample_token"] == s["token"]) for s in samples}
    counts = [per_sample[s["token"]] for s in samples]
    assert counts[1] == ["pcd"] and counts[0] == counts[2] and "jpg" in counts[0]
    # visibility: estimated in the images of frames 0 and 2, unknown ("") where the sample has none
    anns = json.loads((tables / "sample_annotation.json").read_text())
    levels = {s["token"]: {a["visibility_token"] for a in anns if a["sample_token"] == s["token"]} for s in samples}
    assert levels[samples[1]["token"]] == {""}
    assert levels[samples[0]["token"]] | levels[samples[2]["token"]] <= {"1", "2", "3", "4"}


# ------------------------------------------------------------------------------ reproducible output
def test_fisheye_projection_does_not_depend_on_memory_layout():
    """NumPy's SIMD float64 arctan2 gives last-bit differences depending on where its arrays lie in
    memory; the fisheye model must give the same pixels for the same points every time."""
    import math

    from fusionlabel.geometry.cameras import FisheyeCamera

    cam = FisheyeCamera(1280, 720, 500.0, 500.0, 639.5, 359.5, (0.05, -0.01, 0.002, -0.0004))
    for n in (192, 3000, 30000):
        xy = np.random.default_rng(n).normal(size=(n, 2))
        first = cam.distort(xy).tobytes()
        held = []
        for k in range(1, 200):
            held.append(np.empty(k % 17 + 1))      # shifts where the arrays inside distort land
            moved = np.empty(2 * n + k % 5)[k % 5:].reshape(-1, 2)   # same values, other addresses
            moved[:] = xy
            assert cam.distort(moved).tobytes() == first, (n, k)
    # against the formula evaluated one point at a time with the C library
    k1, k2, k3, k4 = cam.distortion
    uv = cam.distort(xy[:200])
    for (x, y), (u, v) in zip(xy[:200], uv):
        r = math.hypot(x, y)
        t = math.atan2(r, 1.0)
        s = t * (1 + k1 * t ** 2 + k2 * t ** 4 + k3 * t ** 6 + k4 * t ** 8) / r
        assert abs(u - x * s) <= 1e-14 * max(1.0, abs(u)) and abs(v - y * s) <= 1e-14 * max(1.0, abs(v))


def test_coco_export_is_byte_identical_across_runs(tmp_path_factory, tmp_path):
    """Two exports in separate processes (memory layout differs between them) write the same bytes."""
    drive = simulated_drive(tmp_path_factory)
    assert any(drive.rig(0).camera(c).camera.model == "fisheye" for c in drive.rig(0).camera_names)
    env = dict(os.environ, PYTHONPATH=str(Path(fusionlabel.__file__).parent.parent))
    outs = []
    for run in ("a", "b"):
        out = tmp_path / run
        subprocess.run([sys.executable, "-m", "fusionlabel.cli.main", "export", str(drive.root), "--format", "coco",
                        "--out", str(out), "--quiet", "--labels-only"], check=True, env=env, capture_output=True)
        outs.append(out)
    files = sorted(p.relative_to(outs[0]) for p in (outs[0] / "annotations").iterdir())
    assert files
    for rel in files:
        assert (outs[0] / rel).read_bytes() == (outs[1] / rel).read_bytes(), rel
