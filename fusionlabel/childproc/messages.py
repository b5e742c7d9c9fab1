"""The messages between the app and its child processes (the detector's,
:mod:`fusionlabel.assist.detect_process`, and the label checks', :mod:`fusionlabel.qa.check_process`): an explicit
byte format that carries only plain data, read back with every field checked (never pickle).

A message is::

    b"FLW1"                magic and version
    header length          4 bytes, unsigned little-endian
    header                 UTF-8 JSON: {"kind": str, "body": JSON, "arrays": [[dtype, shape], ...]}
    array bytes            each array of "arrays" in turn, C order, little-endian

``dtype`` is one of :data:`DTYPES`; the body says which array is which. Labels travel as one
``(N, 9)`` float64 array of boxes (centre, size, yaw, pitch, roll), ``(N,)`` float64 scores and
``(N,)`` bool "has a score", and per label [class, track id, source, attributes] in the body, so a
box comes back bit for bit. Reading something else raises :class:`WireError` saying what was
wrong, never a hang: a message cut short by the end of the stream is an error too.
"""

from __future__ import annotations

import json
import math
from typing import Any, NamedTuple

import numpy as np

from ..errors import FusionLabelError
from ..geometry.cuboid import Cuboid
from ..model.annotation import SOURCES, CuboidLabel
from ..model.commands import json_default

MAGIC = b"FLW1"
DTYPES = frozenset({"<f4", "<f8", "<i4", "<i8", "|u1", "|b1"})
MAX_HEADER_BYTES = 64 << 20
MAX_ARRAY_BYTES = 8 << 30
BOX_COLUMNS = 9  # cx, cy, cz, length, width, height, yaw, pitch, roll


class WireError(FusionLabelError):
    """Bytes that are not a whole, well-formed message of this format."""


class Message(NamedTuple):
    kind: str
    body: Any
    arrays: list[np.ndarray]


def encode(kind: str, body: Any = None, arrays=()) -> list:
    """The message as buffers to write one after the other (arrays are not copied when already
    little-endian and contiguous)."""
    parts, spec = [], []
    for a in arrays:
        a = np.asarray(a)
        a = a.astype(a.dtype.newbyteorder("<"), order="C", copy=False)
        if a.dtype.str not in DTYPES:
            raise WireError(f"cannot send an array of {a.dtype}: only {sorted(DTYPES)}")
        spec.append([a.dtype.str, list(a.shape)])
        parts.append(memoryview(a).cast("B") if a.size else b"")
    header = json.dumps({"kind": kind, "body": body, "arrays": spec}, default=json_default,
                        allow_nan=True, separators=(",", ":")).encode()
    return [MAGIC + len(header).to_bytes(4, "little") + header, *parts]


def write_message(stream, kind: str, body: Any = None, arrays=()) -> None:
    """Write one message to a binary stream and flush it."""
    for part in encode(kind, body, arrays):
        stream.write(part)
    stream.flush()


def _fill(stream, buffer, what: str, got: int = 0) -> None:
    """Read into ``buffer`` from byte ``got`` on until it is full; WireError at the stream's end."""
    view = memoryview(buffer).cast("B")
    while got < len(view):
        n = stream.readinto(view[got:])
        if not n:
            raise WireError(f"the message ended early: {what} has {got} of its {len(view)} bytes")
        got += n


def read_message(stream) -> Message | None:
    """The next message of a binary stream with ``readinto``; None when the stream ends cleanly
    between messages. WireError on anything malformed or cut short."""
    start = bytearray(8)
    first = stream.readinto(start)
    if not first:
        return None
    _fill(stream, start, "the message start", first)
    if bytes(start[:4]) != MAGIC:
        raise WireError(f"not a message: it starts with {bytes(start[:4])!r}, expected {MAGIC!r}")
    size = int.from_bytes(start[4:], "little")
    if size > MAX_HEADER_BYTES:
        raise WireError(f"a header of {size} bytes (at most {MAX_HEADER_BYTES})")
    raw = bytearray(size)
    _fill(stream, raw, "the header")
    try:
        header = json.loads(raw.decode())
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise WireError(f"the header is not JSON: {e}") from None
    expect(isinstance(header, dict) and set(header) == {"kind", "body", "arrays"},
           "the header must be an object with kind, body and arrays")
    expect(isinstance(header["kind"], str), "kind must be text")
    expect(isinstance(header["arrays"], list), "arrays must be a list")
    shapes = []
    for spec in header["arrays"]:
        expect(isinstance(spec, list) and len(spec) == 2 and isinstance(spec[0], str) and spec[0] in DTYPES
               and isinstance(spec[1], list) and all(is_int(n) and n >= 0 for n in spec[1]),
               f"an array must be [dtype, shape] with a dtype of {sorted(DTYPES)}, got {str(spec)[:80]}")
        shapes.append((np.dtype(spec[0]), tuple(spec[1])))
    total = sum(math.prod(shape) * dtype.itemsize for dtype, shape in shapes)
    expect(total <= MAX_ARRAY_BYTES, f"arrays of {total} bytes (at most {MAX_ARRAY_BYTES})")
    arrays = []
    for k, (dtype, shape) in enumerate(shapes):
        try:
            a = np.empty(shape, dtype)
        except (ValueError, MemoryError) as e:  # too many dimensions, or no memory for it
            raise WireError(f"array {k} of shape {str(list(shape))[:80]} cannot be made: {e}") from None
        if a.size:
            _fill(stream, a, f"array {k}")
        arrays.append(a)
    return Message(header["kind"], header["body"], arrays)


def expect(ok: bool, what: str) -> None:
    """WireError(what) unless ``ok``."""
    if not ok:
        raise WireError(what)


def is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# ---------------------------------------------------------------------------------------- labels
def put_labels(arrays: list, per_frame: dict[int, list[CuboidLabel]]) -> dict:
    """The body part for ``{frame: labels}``; appends their three arrays to ``arrays``."""
    labels = [lab for labs in per_frame.values() for lab in labs]
    boxes = np.array([[*lab.box.center, *lab.box.size, lab.box.yaw, lab.box.pitch, lab.box.roll] for lab in labels],
                     np.float64).reshape(len(labels), BOX_COLUMNS)
    scored = np.array([lab.score is not None for lab in labels], bool)
    scores = np.array([0.0 if lab.score is None else lab.score for lab in labels], np.float64)
    first = len(arrays)
    arrays += [boxes, scores, scored]
    return {"frames": list(per_frame), "counts": [len(v) for v in per_frame.values()],
            "labels": [[lab.label, lab.track_id, lab.source, lab.attributes] for lab in labels],
            "arrays": [first, first + 1, first + 2]}


def take_labels(part, arrays: list[np.ndarray], name: str) -> dict[int, list[CuboidLabel]]:
    """``{frame: labels}`` from a body part of :func:`put_labels`; WireError naming ``name`` and
    the field when it does not fit."""
    def check(ok: bool, what: str) -> None:
        expect(ok, f"{name}: {what}")

    check(isinstance(part, dict) and set(part) == {"frames", "counts", "labels", "arrays"},
          "expected an object with frames, counts, labels and arrays")
    frames, counts, rows, refs = part["frames"], part["counts"], part["labels"], part["arrays"]
    check(isinstance(frames, list) and all(is_int(f) and f >= 0 for f in frames) and len(set(frames)) == len(frames),
          "frames must be distinct frame numbers")
    check(isinstance(counts, list) and len(counts) == len(frames) and all(is_int(n) and n >= 0 for n in counts),
          "counts must be one count per frame")
    check(isinstance(refs, list) and len(refs) == 3 and all(is_int(i) and 0 <= i < len(arrays) for i in refs),
          "arrays must be three array numbers")
    boxes, scores, scored = (arrays[i] for i in refs)
    n = sum(counts)
    check(boxes.shape == (n, BOX_COLUMNS) and boxes.dtype == np.float64, f"boxes must be ({n}, {BOX_COLUMNS}) float64")
    check(scores.shape == (n,) and scores.dtype == np.float64 and scored.shape == (n,) and scored.dtype == bool,
          f"scores must be ({n},) float64 and ({n},) bool")
    check(isinstance(rows, list) and len(rows) == n, f"labels must be {n} rows")
    check(all(isinstance(r, list) and len(r) == 4 and isinstance(r[0], str) and (r[1] is None or isinstance(r[1], str))
              and r[2] in SOURCES and isinstance(r[3], dict) for r in rows),
          "each label must be [class, track id or null, source, attributes]")
    check(bool(np.isfinite(boxes).all()) and bool((boxes[:, 3:6] > 0).all()), "boxes must be finite with sizes above 0")
    boxes_list, score_list = boxes.tolist(), np.where(scored, scores, np.nan).tolist()
    try:
        labels = [CuboidLabel(Cuboid(b[0:3], b[3:6], b[6], b[7], b[8]), row[0], row[1], None if not has else score,
                              row[2], row[3])
                  for b, row, score, has in zip(boxes_list, rows, score_list, scored.tolist())]
    except ValueError as e:  # what the checks above let through and a Cuboid refuses
        raise WireError(f"{name}: {e}") from None
    out: dict[int, list[CuboidLabel]] = {}
    k = 0
    for f, count in zip(frames, counts):
        out[f] = labels[k:k + count]
        k += count
    return out
