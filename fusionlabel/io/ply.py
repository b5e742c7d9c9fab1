"""PLY files (``ascii``, ``binary_little_endian``, ``binary_big_endian``): the ``vertex`` element."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import PointCloudError
from .point_records import assemble_columns, is_number, match_fields

_PLY_TYPES = {"char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1", "short": "i2", "int16": "i2",
              "ushort": "u2", "uint16": "u2", "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
              "float": "f4", "float32": "f4", "double": "f8", "float64": "f8"}


def read_ply(path: Path):
    buf = path.read_bytes()
    if not buf.startswith(b"ply"):
        raise PointCloudError(path, "does not start with 'ply' (not a PLY file)")
    end = buf.find(b"end_header")
    if end < 0:
        raise PointCloudError(path, "no 'end_header' line (truncated or not a PLY file)")
    nl = buf.find(b"\n", end)
    if nl < 0:
        raise PointCloudError(path, "header ends without a newline after 'end_header'")
    body = memoryview(buf)[nl + 1:]
    try:
        lines = buf[:end].decode("ascii").splitlines()
    except UnicodeDecodeError:
        raise PointCloudError(path, "header is not ASCII text") from None

    fmt = None
    elements: list[list] = []   # [name, count, [(prop name, dtype or None for list, list types)]]
    for i, line in enumerate(lines, start=1):
        tok = line.split()
        if not tok or tok[0] in ("ply", "comment", "obj_info"):
            continue
        where = f"line {i}"
        if tok[0] == "format":
            if len(tok) < 2 or tok[1] not in ("ascii", "binary_little_endian", "binary_big_endian"):
                raise PointCloudError(path, f"unknown format '{' '.join(tok[1:])}', expected ascii, "
                                            "binary_little_endian or binary_big_endian", where=where)
            fmt = tok[1]
        elif tok[0] == "element":
            if len(tok) != 3 or not tok[2].isdigit():
                raise PointCloudError(path, f"expected 'element <name> <count>', found '{line.strip()}'", where=where)
            elements.append([tok[1], int(tok[2]), []])
        elif tok[0] == "property":
            if not elements:
                raise PointCloudError(path, "property before any element", where=where)
            if len(tok) == 5 and tok[1] == "list":
                elements[-1][2].append((tok[4], None))
            elif len(tok) == 3 and tok[1] in _PLY_TYPES:
                elements[-1][2].append((tok[2], _PLY_TYPES[tok[1]]))
            else:
                raise PointCloudError(path, f"expected 'property <type> <name>' with type one of "
                                            f"{', '.join(_PLY_TYPES)}, found '{line.strip()}'", where=where)
        else:
            raise PointCloudError(path, f"unknown header line '{line.strip()}'", where=where)
    if fmt is None:
        raise PointCloudError(path, "header has no 'format' line")
    vi = next((k for k, e in enumerate(elements) if e[0] == "vertex"), None)
    if vi is None:
        raise PointCloudError(path, f"no 'vertex' element (found: {', '.join(e[0] for e in elements) or 'none'})")
    _, n, props = elements[vi]
    names = [p[0] for p in props]
    idx = match_fields(names)
    missing = [c for c in ("x", "y", "z") if c not in idx]
    if missing:
        raise PointCloudError(path, f"has no {'/'.join(missing)} property "
                                    f"(found: {', '.join(names) or 'none'})", where="element vertex")
    if any(p[1] is None for p in props):
        bad = next(p[0] for p in props if p[1] is None)
        raise PointCloudError(path, f"property '{bad}' is a list; only scalar vertex properties are supported",
                              where="element vertex")
    info = {"format": f"ply/{fmt}", "source_fields": names}

    if fmt == "ascii":
        skip = sum(e[1] for e in elements[:vi])
        text_lines = bytes(body).decode("ascii", errors="replace").splitlines()
        rows = text_lines[skip:skip + n]
        if len(rows) < n:
            raise PointCloudError(path, f"element vertex declares {n} vertices but the data holds {len(rows)} lines "
                                        "(truncated file?)")
        tokens = " ".join(rows).split()
        if len(tokens) != n * len(props):
            for j, r in enumerate(rows):
                if len(r.split()) != len(props):
                    raise PointCloudError(path, f"expected {len(props)} values per vertex, found {len(r.split())}",
                                          where=f"line {len(lines) + 1 + skip + j + 1}")
        try:
            values = np.array(tokens, dtype=np.float64).reshape(n, len(props))
        except ValueError:
            bad = next(t for t in tokens if not is_number(t))
            raise PointCloudError(path, f"vertex value '{bad}' is not a number") from None
        cols = {c: values[:, i] for c, i in idx.items()}
        return assemble_columns(path, cols, info)

    order = "<" if fmt == "binary_little_endian" else ">"
    offset = 0
    for name, count, eprops in elements[:vi]:
        if any(p[1] is None for p in eprops):
            raise PointCloudError(path, f"element '{name}' with list properties comes before 'vertex'; "
                                        "not supported in binary PLY")
        offset += count * sum(np.dtype(p[1]).itemsize for p in eprops)
    dt = np.dtype([(p[0], order + p[1]) for p in props])
    if offset + n * dt.itemsize > len(body):
        raise PointCloudError(path, f"data holds {len(body)} bytes but {n} vertices of {dt.itemsize} bytes need "
                              f"{offset + n * dt.itemsize} (truncated file?)")
    rec = np.frombuffer(body, dtype=dt, count=n, offset=offset)
    cols = {c: rec[names[i]].astype(rec[names[i]].dtype.newbyteorder("=")) for c, i in idx.items()}
    return assemble_columns(path, cols, info)
