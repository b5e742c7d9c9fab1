"""Read a JSON file with errors that name the file and, for bad JSON, the line and column."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import InputError, LabelError
from ..files import read_text


def read_json(path: str | os.PathLike, what: str = "JSON file", error: type[InputError] = LabelError) -> Any:
    """The parsed document of ``path`` (any JSON value; callers check its shape).

    Raises ``error``: "<what> not found", "cannot read <what> (<reason>)", or, at ``where``
    "line L", "invalid JSON at column C: <why>".
    """
    path = Path(path)
    text = read_text(path, error, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise error(path, f"invalid JSON at column {e.colno}: {e.msg}", where=f"line {e.lineno}") from None
