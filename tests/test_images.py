"""Image I/O: RGB order, channel expansion, header-only sizes, EXIF orientation, and ImageError."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from fusionlabel.errors import ImageError
from fusionlabel.io import images as imgmod
from fusionlabel.io.images import checked_image_size, image_size, read_image, write_image

REALDATA = Path(os.environ.get("FUSIONLABEL_REALDATA", "/work/shared/realdata"))
REAL_IMAGES = [REALDATA / "kitti_object/training/image_2/000000.png",
               REALDATA / "kitti_object/training/image_2/000001.png",
               REALDATA / "sustech_sequence/camera/front/000965.jpg"]
NUSC_CAM = REALDATA / "nuscenes_mini/samples/CAM_FRONT"


def pattern(h: int = 48, w: int = 64) -> np.ndarray:
    """RGB test image: red left half, green top-right, blue bottom-right, plus a gradient."""
    img = np.zeros((h, w, 3), np.uint8)
    img[:, : w // 2, 0] = 255
    img[: h // 2, w // 2:, 1] = 255
    img[h // 2:, w // 2:, 2] = 255
    img[..., 0] |= np.arange(w, dtype=np.uint8)[None, :] % 64
    return img


def raises_naming(path: Path, fn, *match: str) -> ImageError:
    with pytest.raises(ImageError) as ei:
        fn()
    msg = str(ei.value)
    assert path.name in msg and "\n" not in msg, msg
    for m in match:
        assert m in msg, msg
    return ei.value


def test_read_image_converts_bgr_to_rgb(tmp_path):
    rgb = pattern()
    p = tmp_path / "a.png"
    assert cv2.imwrite(str(p), rgb[..., ::-1])  # independent writer, BGR order
    got = read_image(p)
    assert got.dtype == np.uint8 and got.shape == (48, 64, 3)
    np.testing.assert_array_equal(got, rgb)
    assert tuple(got[0, 0]) == (255, 0, 0)  # red stays red


def test_write_png_round_trip_and_jpeg_quality(tmp_path):
    rgb = pattern(120, 160)
    write_image(tmp_path / "a.png", rgb)
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), rgb)
    np.testing.assert_array_equal(cv2.imread(str(tmp_path / "a.png"))[..., ::-1], rgb)
    write_image(tmp_path / "hi.jpg", rgb, quality=98)
    write_image(tmp_path / "lo.jpg", rgb, quality=10)
    hi, lo = read_image(tmp_path / "hi.jpg"), read_image(tmp_path / "lo.jpg")
    err = lambda a: np.abs(a.astype(int) - rgb).mean()  # noqa: E731
    assert err(hi) < 3 < err(lo)
    assert (tmp_path / "hi.jpg").stat().st_size > (tmp_path / "lo.jpg").stat().st_size
    assert tuple(hi[60, 10]) == pytest.approx((255, 0, 0), abs=30)


def test_grayscale_and_alpha_become_three_channel_rgb(tmp_path):
    gray = (np.arange(30 * 40).reshape(30, 40) % 256).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "g.png"), gray)
    got = read_image(tmp_path / "g.png")
    assert got.shape == (30, 40, 3)
    for c in range(3):
        np.testing.assert_array_equal(got[..., c], gray)
    rgba = np.dstack([pattern(), np.full((48, 64), 7, np.uint8)])
    cv2.imwrite(str(tmp_path / "a.png"), rgba[..., [2, 1, 0, 3]])
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), rgba[..., :3])
    write_image(tmp_path / "g2.png", gray)
    np.testing.assert_array_equal(read_image(tmp_path / "g2.png")[..., 1], gray)


def test_sixteen_bit_png_is_reduced_to_eight_bits(tmp_path):
    img16 = np.full((10, 12), 0xAB00 + 0x42, np.uint16)
    cv2.imwrite(str(tmp_path / "d.png"), img16)
    got = read_image(tmp_path / "d.png")
    assert got.dtype == np.uint8 and (got == 0xAB).all()


@pytest.mark.parametrize("ext,params", [(".png", []), (".jpg", []), (".jpeg", []),
                                        (".jpg", [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]), (".bmp", []),
                                        (".tif", []), (".webp", [])])
def test_image_size_matches_decoded_shape(tmp_path, ext, params):
    rgb = pattern(37, 91)
    p = tmp_path / f"s{ext}"
    assert cv2.imwrite(str(p), rgb, params)
    assert image_size(p) == (91, 37)
    h, w = read_image(p).shape[:2]
    assert (w, h) == (91, 37)


@pytest.mark.parametrize("ext", [".png", ".jpg"])
def test_image_size_reads_only_the_header(tmp_path, monkeypatch, ext):
    p = tmp_path / f"big{ext}"
    cv2.imwrite(str(p), np.zeros((1080, 1920, 3), np.uint8))

    def boom(*a, **k):
        raise AssertionError("image_size decoded the image")
    monkeypatch.setattr(imgmod.cv2, "imdecode", boom)
    monkeypatch.setattr(imgmod.cv2, "imread", boom)
    assert image_size(p) == (1920, 1080)
    # Header-only reading also survives damaged pixel data after the header.
    data = bytearray(p.read_bytes())
    q = tmp_path / f"cut{ext}"
    q.write_bytes(bytes(data[:700]))
    assert image_size(q) == (1920, 1080)


def test_image_size_falls_back_to_decoding_for_other_formats(tmp_path, monkeypatch):
    p = tmp_path / "a.bmp"
    cv2.imwrite(str(p), pattern(20, 30))
    calls = []
    real = imgmod.cv2.imdecode
    monkeypatch.setattr(imgmod.cv2, "imdecode", lambda *a: calls.append(1) or real(*a))
    assert image_size(p) == (30, 20) and calls


def _exif_app1(orientation: int) -> bytes:
    """Minimal EXIF APP1 segment (little-endian TIFF) with a single Orientation tag."""
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1) + \
        struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack("<I", 0)
    payload = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def test_exif_orientation_is_ignored_and_size_consistent(tmp_path):
    rgb = pattern(40, 100)
    ok, buf = cv2.imencode(".jpg", rgb[..., ::-1])
    jpg = buf.tobytes()
    p = tmp_path / "rot.jpg"
    p.write_bytes(jpg[:2] + _exif_app1(6) + jpg[2:])  # 6 = "rotate 90 CW to display"
    assert cv2.imread(str(p)).shape[:2] == (100, 40)  # plain imread would rotate it
    got = read_image(p)
    assert got.shape == (40, 100, 3)
    assert image_size(p) == (100, 40)
    assert tuple(got[20, 10]) == pytest.approx((255, 0, 0), abs=40)


def test_jpeg_with_fill_bytes_and_restart_markers_before_frame(tmp_path):
    ok, buf = cv2.imencode(".jpg", pattern(33, 44)[..., ::-1])
    jpg = buf.tobytes()
    p = tmp_path / "fill.jpg"
    comment = b"\xff\xfe" + struct.pack(">H", 2 + 5) + b"hello"
    p.write_bytes(jpg[:2] + b"\xff\xff" + comment[1:] + jpg[2:])
    assert image_size(p) == (44, 33)


def test_read_errors_name_the_file(tmp_path):
    raises_naming(tmp_path / "none.png", lambda: read_image(tmp_path / "none.png"), "file not found")
    raises_naming(tmp_path / "none.jpg", lambda: image_size(tmp_path / "none.jpg"), "file not found")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    raises_naming(empty, lambda: read_image(empty), "file is empty")
    raises_naming(empty, lambda: image_size(empty), "file is empty")
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"this is not an image at all")
    raises_naming(junk, lambda: read_image(junk), "cannot decode as an image")
    raises_naming(junk, lambda: image_size(junk), "cannot decode")
    raises_naming(tmp_path, lambda: read_image(tmp_path), "is a directory")


def test_truncated_png_and_jpeg(tmp_path):
    for ext in (".png", ".jpg"):
        p = tmp_path / f"t{ext}"
        cv2.imwrite(str(p), np.random.default_rng(0).integers(0, 255, (200, 300, 3), dtype=np.uint8))
        data = p.read_bytes()
        p.write_bytes(data[:20 if ext == ".png" else 2])  # header itself cut
        raises_naming(p, lambda: image_size(p), "truncated or corrupt")
        raises_naming(p, lambda: read_image(p), "truncated or corrupt")


def smooth_picture(h: int, w: int) -> np.ndarray:
    """A blurred random RGB image: compresses like a photograph, not like noise or flat colour."""
    noise = np.random.default_rng(5).integers(0, 256, (h, w, 3), dtype=np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), 2)


@pytest.mark.parametrize("ext", [".jpg", ".png"])
@pytest.mark.parametrize("keep", [0.3, 0.9, -2])
def test_checked_size_refuses_pixels_cut_short_behind_a_whole_header(tmp_path, ext, keep):
    p = tmp_path / f"cut{ext}"
    write_image(p, smooth_picture(301, 403))
    assert checked_image_size(p) == (403, 301) == image_size(p)      # whole file: same size both ways
    data = p.read_bytes()
    p.write_bytes(data[:int(len(data) * keep)] if keep > 0 else data[:keep])   # a fraction, or the last 2 bytes off
    assert image_size(p) == (403, 301)                  # the header alone still looks fine
    raises_naming(p, lambda: checked_image_size(p), "truncated or corrupt")


def test_checked_size_decodes_other_formats_and_refuses_junk(tmp_path):
    p = tmp_path / "a.bmp"
    write_image(p, smooth_picture(21, 35))
    assert checked_image_size(p) == (35, 21)
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"\xff\xd8 not really a JPEG")
    raises_naming(junk, lambda: checked_image_size(junk), "truncated or corrupt")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    raises_naming(empty, lambda: checked_image_size(empty), "file is empty")


def test_write_errors(tmp_path):
    p = tmp_path / "a.png"
    raises_naming(p, lambda: write_image(p, np.zeros((4, 4, 3), np.float32)), "expected (H, W, 3) uint8 RGB")
    raises_naming(p, lambda: write_image(p, np.zeros((4, 4, 4), np.uint8)), "shape (4, 4, 4)")
    raises_naming(p, lambda: write_image(p, np.zeros((0, 4, 3), np.uint8)), "shape (0, 4, 3)")
    raises_naming(p, lambda: write_image(p, pattern(), quality=101), "quality 101")
    q = tmp_path / "a.xyz"
    raises_naming(q, lambda: write_image(q, pattern()), "extension '.xyz'")
    r = tmp_path / "missing_dir" / "a.png"
    raises_naming(r, lambda: write_image(r, pattern()), "cannot write file")
    assert not p.exists()


@pytest.mark.parametrize("path", REAL_IMAGES, ids=lambda p: p.name)
def test_real_images_size_from_header_matches_decode(path):
    if not path.exists():
        pytest.skip(f"real data {path} absent (set FUSIONLABEL_REALDATA)")
    img = read_image(path)
    assert img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8
    assert image_size(path) == (img.shape[1], img.shape[0]) == checked_image_size(path)
    np.testing.assert_array_equal(img, cv2.imread(str(path), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)[..., ::-1])


def test_real_nuscenes_camera_is_1600x900():
    files = sorted(NUSC_CAM.glob("*.jpg")) if NUSC_CAM.exists() else []
    if not files:
        pytest.skip(f"real data {NUSC_CAM} absent (set FUSIONLABEL_REALDATA)")
    assert image_size(files[0]) == (1600, 900) == checked_image_size(files[0])
    assert read_image(files[0]).shape == (900, 1600, 3)


def test_real_kitti_sizes():
    p = REALDATA / "kitti_object/training/image_2/000001.png"
    if not p.exists():
        pytest.skip(f"real data {p} absent (set FUSIONLABEL_REALDATA)")
    assert image_size(p) == (1242, 375)
    assert image_size(p.with_name("000000.png")) == (1224, 370)
