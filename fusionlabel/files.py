"""Read a whole text file, or parse YAML text, turning every failure into the caller's InputError
subclass in one line that names the file (and, for YAML, the line and column); write a file whole
or not at all."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import InputError


def write_file(path: str | os.PathLike, data: bytes | str) -> None:
    """Write ``data`` (text as UTF-8) to ``path``. An ``OSError`` names ``path`` (its ``filename``),
    as one from opening the file does: the one of a failed write (a full disk) names no file."""
    try:
        Path(path).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    except OSError as e:
        if e.filename is not None:
            raise
        raise OSError(e.errno, e.strerror or str(e), str(path)) from None


def write_atomic(path: Path, data: bytes, tmp_folder: Path | None = None) -> None:
    """Write ``data`` to ``path`` through a temporary file (``NAME.tmp`` beside it, or in
    ``tmp_folder`` on the same filesystem) and a rename, so ``path`` is the old file or the new one.
    An ``OSError`` (a full disk, no permission) is raised as it came, the temporary file removed."""
    tmp = (tmp_folder or path.parent) / (path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise


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


def parse_yaml(text: str, path: str | os.PathLike | None, error: type[InputError] = InputError, loader=None):
    """The document of the YAML ``text`` read from ``path`` (which only names it in errors).

    ``loader`` is a safe loader class (default ``yaml.SafeLoader``); it is made strict
    (:func:`strict_loader`), so a key written twice in one mapping is an error, not the last one
    silently winning. A syntax error or a duplicate key raises
    ``error(path, "invalid YAML: <problem> (<context>)", where="line L, column C")``, the one form
    every YAML file fusionlabel reads reports its errors in.
    """
    import yaml

    try:
        return yaml.load(text, Loader=strict_loader(loader or yaml.SafeLoader))  # only safe loaders are passed
    except yaml.YAMLError as e:
        problem, at = yaml_problem(e, text)
        raise error(path, f"invalid YAML: {problem}", where=at) from None


_STRICT_LOADERS: dict[type, type] = {}


def strict_loader(base):
    """A subclass of the safe loader class ``base`` (``yaml.SafeLoader``, ``yaml.CSafeLoader``) that
    refuses a mapping key written twice: ``key 'model' appears twice (first at line 20, column 5)``
    at the second one (plain PyYAML keeps the last value without a word)."""
    if getattr(base, "refuses_duplicate_keys", False):
        return base
    if base not in _STRICT_LOADERS:
        import yaml

        def construct_mapping(self, node, deep=False):
            if isinstance(node, yaml.MappingNode):
                self.flatten_mapping(node)      # merge keys (<<) first, as the base class does
            seen = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    continue
                if key in seen:
                    raise yaml.constructor.ConstructorError("first", seen[key], f"key '{key}' appears twice",
                                                            key_node.start_mark)
                seen[key] = key_node.start_mark
            return base.construct_mapping(self, node, deep=deep)

        _STRICT_LOADERS[base] = type(f"Strict{base.__name__}", (base,), {
            "construct_mapping": construct_mapping, "refuses_duplicate_keys": True})
    return _STRICT_LOADERS[base]


def yaml_problem(e, text: str) -> tuple[str, str | None]:
    """``(problem, "line L, column C")`` of a PyYAML error, both one line (lines and columns from 1)."""

    def at(mark) -> str:
        return f"line {mark.line + 1}, column {mark.column + 1}"

    mark, problem = getattr(e, "problem_mark", None), getattr(e, "problem", None)
    if problem:
        context, context_mark = getattr(e, "context", None), getattr(e, "context_mark", None)
        if context:
            same = context_mark is None or mark is None or (context_mark.line, context_mark.column) == \
                (mark.line, mark.column)
            problem += f" ({context}{'' if same else ' at ' + at(context_mark)})"
        return " ".join(problem.split()), at(mark) if mark is not None else None
    position = getattr(e, "position", None)     # ReaderError: a character YAML does not allow
    if isinstance(position, int):
        line = text.count("\n", 0, position)
        column = position - (text.rfind("\n", 0, position) + 1)
        char = getattr(e, "character", None)
        code = f" #x{ord(char) if isinstance(char, str) else char:04x}" if isinstance(char, (str, int)) else ""
        return f"{getattr(e, 'reason', 'unreadable character')} (character{code})", \
            f"line {line + 1}, column {column + 1}"
    return " ".join(str(e).split()), None



def unknown_key(mapping: dict, allowed) -> tuple[str, str] | None:
    """``(key, problem)`` for the first key of ``mapping`` not in ``allowed``, None when all are known.

    The problem reads ``unknown key (expected one of a, b, c)``; callers prefix the key path and raise
    their own error, so a typo (``distorsion``) is refused instead of silently ignored."""
    for k in mapping:
        if k not in allowed:
            return str(k), f"unknown key (expected one of {', '.join(allowed)})"
    return None


def yaml_key_text(key) -> str:
    """A key YAML read as a number, boolean or null, as it was most likely written (``1``, ``true``,
    ``null``): for messages that ask to quote it."""
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)
