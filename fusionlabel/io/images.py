"""Camera images <-> ``(H, W, 3)`` uint8 RGB arrays (OpenCV's BGR is converted here, at the edge).

Images are decoded with ``IMREAD_IGNORE_ORIENTATION``: pixels stay as the sensor recorded them,
because intrinsics refer to those pixels, so an EXIF rotation tag is never applied. This also keeps
:func:`image_size` (read from the header) equal to the shape :func:`read_image` returns.
Every failure raises :class:`~fusionlabel.errors.ImageError` naming the file.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np

from ..errors import ImageError

_FLAGS = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
# A check decode: grey, and JPEG at 1/8 scale, which skips most of the inverse DCT but still reads
# the whole entropy-coded stream, so a file cut short fails as it does at full size.
_CHECK_FLAGS = cv2.IMREAD_GRAYSCALE | cv2.IMREAD_IGNORE_ORIENTATION
_CHECK_JPEG_FLAGS = cv2.IMREAD_REDUCED_GRAYSCALE_8 | cv2.IMREAD_IGNORE_ORIENTATION
_PNG_SIG = b"\x89PNG\r\n\x1a\n"
# Start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Decode an image file to ``(H, W, 3)`` uint8 RGB; grayscale is expanded, alpha dropped.

    16-bit images are reduced to 8 bits by OpenCV (value // 256).
    """
    path = Path(path)
    data = _read_bytes(path)
    bgr = cv2.imdecode(data, _FLAGS) if _png_whole(data) else None
    if bgr is None:
        raise ImageError(path, _undecodable(data))
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """Return ``(width, height)``; PNG and JPEG sizes come from the header without decoding pixels.

    Other formats (and headers that cannot be parsed) fall back to a full decode.
    """
    path = Path(path)
    _check_file(path)
    try:
        with open(path, "rb") as f:
            size = _header_size(f)
    except OSError as e:
        raise ImageError(path, f"cannot read file ({e.strerror or e})") from e
    if size is not None:
        return size
    h, w = read_image(path).shape[:2]
    return w, h


def checked_image_size(path: str | os.PathLike) -> tuple[int, int]:
    """Return ``(width, height)`` after decoding every pixel: ImageError naming the file when the
    data is cut short or corrupt, even if the header is fine (which :func:`image_size` reads alone).

    JPEG is decoded at 1/8 scale, which still reads its whole compressed stream and costs about
    half a full decode; other formats are decoded in full.
    """
    path = Path(path)
    data = _read_bytes(path)
    size = _header_size(io.BytesIO(data.tobytes())) if data.size else None
    small_jpeg = size is not None and data[:2].tobytes() == b"\xff\xd8"
    pixels = cv2.imdecode(data, _CHECK_JPEG_FLAGS if small_jpeg else _CHECK_FLAGS) if _png_whole(data) else None
    if pixels is None:
        raise ImageError(path, _undecodable(data))
    return size if small_jpeg else (pixels.shape[1], pixels.shape[0])


def check_camera_image(path: str | os.PathLike, width: int, height: int, camera: str) -> None:
    """ImageError naming ``path`` unless every pixel decodes (:func:`checked_image_size`) and the
    image is ``width`` x ``height``, the size of the rig's camera ``camera`` (field ``size``)."""
    check_image_size(path, checked_image_size(path), width, height, camera)


def check_image_size(path: str | os.PathLike, size: tuple[int, int], width: int, height: int, camera: str) -> None:
    """ImageError naming ``path`` (field ``size``) unless ``size`` (width, height) of the image read
    from it is ``width`` x ``height``, the size of the rig's camera ``camera``."""
    w, h = size
    if (w, h) != (width, height):
        raise ImageError(path, f"image is {w}x{h} px but the rig's camera {camera} is {width}x{height}",
                         where="size")


def write_image(path: str | os.PathLike, rgb: np.ndarray, quality: int = 92) -> None:
    """Encode ``(H, W, 3)`` (or ``(H, W)`` grayscale) uint8 RGB to a file; format from the extension.

    ``quality`` (0-100) applies to JPEG and WebP.
    """
    path = Path(path)
    img = np.asarray(rgb)
    if img.dtype != np.uint8 or not (img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 3)) or 0 in img.shape:
        raise ImageError(path, f"image to write has shape {img.shape} dtype {img.dtype}, expected (H, W, 3) uint8 RGB")
    if not 0 <= int(quality) <= 100:
        raise ImageError(path, f"quality {quality} is outside 0..100")
    bgr = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    ext = path.suffix.lower()
    params = []
    if ext in (".jpg", ".jpeg", ".jpe"):
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    elif ext == ".webp":
        params = [cv2.IMWRITE_WEBP_QUALITY, max(1, int(quality))]
    try:
        ok, buf = cv2.imencode(ext, bgr, params)
    except cv2.error:
        ok = False
    if not ok:
        raise ImageError(path, f"cannot encode an image with extension '{path.suffix}' "
                               "(expected .png, .jpg, .bmp, .tif, .webp ...)")
    try:
        path.write_bytes(buf.tobytes())
    except OSError as e:
        raise ImageError(path, f"cannot write file ({e.strerror or e})") from e


def _check_file(path: Path) -> None:
    if not path.exists():
        raise ImageError(path, "file not found")
    if path.is_dir():
        raise ImageError(path, "is a directory, expected an image file")


def _read_bytes(path: Path) -> np.ndarray:
    _check_file(path)
    try:
        return np.fromfile(path, dtype=np.uint8)  # unlike cv2.imread, works with any path encoding
    except OSError as e:
        raise ImageError(path, f"cannot read file ({e.strerror or e})") from e


def _png_whole(data: np.ndarray) -> bool:
    """False for empty data and for a PNG whose chunks do not run whole to IEND, or whose critical
    chunks (IHDR, PLTE, IDAT, IEND) fail their CRC: such a file is refused before libpng sees it,
    because libpng prints its own "libpng error: ..." line on stderr beside the one-line error.
    Other data is left to the decoder (True)."""
    if not data.size:
        return False
    buf = data.tobytes()
    if not buf.startswith(_PNG_SIG):
        return True
    pos = len(_PNG_SIG)
    while pos + 12 <= len(buf):
        length, kind = struct.unpack(">I4s", buf[pos:pos + 8])
        end = pos + 12 + length
        if end > len(buf):
            return False
        if kind[:1].isupper() and zlib.crc32(buf[pos + 4:end - 4]) != struct.unpack(">I", buf[end - 4:end])[0]:
            return False
        if kind == b"IEND":
            return True
        pos = end
    return False


def _undecodable(data: np.ndarray) -> str:
    if data.size == 0:
        return "file is empty, expected an image"
    head = data[:8].tobytes()
    if head.startswith(_PNG_SIG) or head.startswith(b"\xff\xd8"):
        return f"cannot decode {'PNG' if head.startswith(_PNG_SIG) else 'JPEG'} data ({data.size} bytes; truncated or corrupt)"
    return f"cannot decode as an image (first bytes {head!r}; expected PNG, JPEG or another format OpenCV reads)"


def _header_size(f) -> tuple[int, int] | None:
    """``(width, height)`` from a PNG or JPEG header read from the binary file ``f``; None otherwise."""
    head = f.read(32)
    if head.startswith(_PNG_SIG):
        return _png_size(head)
    if head.startswith(b"\xff\xd8"):
        f.seek(2)
        return _jpeg_size(f)
    return None


def _png_size(head: bytes) -> tuple[int, int] | None:
    """Width and height from the IHDR chunk, which must follow the 8-byte signature."""
    if len(head) < 24 or head[12:16] != b"IHDR":
        return None
    w, h = struct.unpack(">II", head[16:24])
    return (w, h) if w and h else None


def _jpeg_size(f) -> tuple[int, int] | None:
    """Walk the JPEG marker segments (skipping their payloads) up to the first start-of-frame."""
    while True:
        b = f.read(1)
        if b != b"\xff":
            return None
        while b == b"\xff":  # fill bytes
            b = f.read(1)
        if not b:
            return None
        marker = b[0]
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # standalone markers, no length
            continue
        if marker in (0xD9, 0xDA):  # end of image / start of scan before any frame header
            return None
        seg = f.read(2)
        if len(seg) < 2:
            return None
        length = struct.unpack(">H", seg)[0]
        if length < 2:
            return None
        if marker in _SOF:
            sof = f.read(5)
            if len(sof) < 5:
                return None
            h, w = struct.unpack(">HH", sof[1:5])
            return (w, h) if w and h else None  # h == 0: height given later in a DNL segment
        f.seek(length - 2, os.SEEK_CUR)
