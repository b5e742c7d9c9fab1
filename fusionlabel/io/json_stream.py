"""Write a JSON file a part at a time: the text ``json.dumps(value, indent=1)`` gives, but the parts
marked :class:`Streamed` are produced while the file is written, so a document of a whole drive
never sits in memory at once (nor its text)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, TextIO

INDENT = 1


class Streamed:
    """A JSON object (``items`` yields (key, value) pairs) or, with ``array=True``, an array
    (``items`` yields values), written entry by entry as ``items`` yields them. Its values may be
    :class:`Streamed` too."""

    def __init__(self, items: Iterable, array: bool = False):
        self.items, self.array = items, array


def write_json(path: str | os.PathLike, value: Any) -> Path:
    """Write ``value`` to ``path`` as ``json.dumps(value, indent=1, allow_nan=False) + "\\n"`` would,
    with every :class:`Streamed` part written as it is produced. An ``OSError`` names ``path`` (a
    full disk too); NaN or infinity raises ``ValueError`` (not valid JSON)."""
    path = Path(path)
    try:
        with open(path, "w", encoding="utf-8") as fp:
            _write(fp, value, 0)
            fp.write("\n")
    except OSError as e:
        if e.filename is not None:
            raise
        raise OSError(e.errno, e.strerror or str(e), str(path)) from None
    return path


def _write(fp: TextIO, value: Any, depth: int) -> None:
    if not isinstance(value, Streamed):
        # json escapes newlines inside strings, so every newline here starts an indented line
        fp.write(json.dumps(value, indent=INDENT, allow_nan=False).replace("\n", "\n" + " " * (depth * INDENT)))
        return
    opening, closing = ("[", "]") if value.array else ("{", "}")
    inner = "\n" + " " * ((depth + 1) * INDENT)
    empty = True
    for item in value.items:
        fp.write((opening if empty else ",") + inner)
        empty = False
        if not value.array:
            key, item = item
            fp.write(json.dumps(str(key)) + ": ")
        _write(fp, item, depth + 1)
    fp.write(opening + closing if empty else "\n" + " " * (depth * INDENT) + closing)
