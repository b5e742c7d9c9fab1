"""nuScenes' official splits (scene names by split) as nuscenes-devkit defines them, read without
importing the devkit.

``nuscenes.utils.splits.create_splits_scenes`` is a table of scene names, but importing it imports
the devkit's whole package (``NuScenes``, and with it scikit-learn, SciPy and Matplotlib): about
4 s, more than a 40-frame nuScenes export takes. The table is read instead from the devkit's
``splits.py`` as literals (``ast.literal_eval``: nothing of the file runs); where that file cannot be
read so, the devkit is imported after all.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import sys
from pathlib import Path

# The splits create_splits_scenes returns, in its order
SPLIT_NAMES = ("train", "val", "test", "mini_train", "mini_val", "train_detect", "train_track")


@functools.lru_cache(maxsize=1)
def official_splits() -> dict[str, list[str]] | None:
    """{split: scene names} of nuscenes-devkit's official splits, in its order; None without the devkit."""
    if "nuscenes.utils.splits" not in sys.modules:
        try:
            spec = importlib.util.find_spec("nuscenes")      # finds the package without running it
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.origin:
            return None
        splits = splits_from_source(Path(spec.origin).parent / "utils" / "splits.py")
        if splits is not None:
            return splits
    try:
        from nuscenes.utils.splits import create_splits_scenes
    except ImportError:
        return None
    return create_splits_scenes()


def splits_from_source(path: Path) -> dict[str, list[str]] | None:
    """The splits defined in the devkit's ``splits.py`` at ``path``: its module-level lists of scene
    names (``train`` is the union of ``train_detect`` and ``train_track``, as the file computes it);
    None when the file is missing or any split is not a literal list of names there."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None
    found: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                value = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                found[node.targets[0].id] = value
    if "train" not in found and {"train_detect", "train_track"} <= found.keys():
        found["train"] = sorted(set(found["train_detect"] + found["train_track"]))
    if not all(name in found for name in SPLIT_NAMES):
        return None
    return {name: found[name] for name in SPLIT_NAMES}
