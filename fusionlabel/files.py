"""Read a whole text file, turning every failure into the caller's InputError subclass."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import InputError


def read_text(path: str | os.PathLike, error: type[InputError] = InputError, what: str = "file",
              hint: str | None = None) -> str:
    """The UTF-8 text of ``path``.

    Raises ``error(path, ...)``: "<what> not found[ (<hint>)]" for a missing file, "cannot read
    <what> (<reason>)" when it cannot be read or is not UTF-8.
    """
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(path, f"{what} not found" + (f" ({hint})" if hint else "")) from None
    except OSError as e:
        raise error(path, f"cannot read {what} ({e.strerror or e})") from None
    except UnicodeDecodeError as e:
        raise error(path, f"cannot read {what} ({e})") from None
