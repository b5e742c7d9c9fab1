"""Every third-party module the package imports is declared in pyproject.toml (a core dependency or
an extra), so that `pip install fusionlabel[...]` gives a working install, not one that works only
because another package happened to pull the module in."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Import name -> distribution name, where they differ.
DISTRIBUTION = {"cv2": "opencv-python-headless", "yaml": "pyyaml", "PyQt6": "pyqt6", "nuscenes": "nuscenes-devkit",
                "open3d": "open3d-cpu"}


def imported_modules() -> set[str]:
    out = set()
    for path in (ROOT / "fusionlabel").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                out |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                out.add(node.module.split(".")[0])
    return {m for m in out if m not in sys.stdlib_module_names and m != "fusionlabel"}


def declared_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = list(project["dependencies"]) + [s for extra in project["optional-dependencies"].values() for s in extra]
    return {re.split(r"[\s=<>!~;\[]", s, maxsplit=1)[0].lower() for s in specs}


def test_every_imported_module_is_declared():
    declared = declared_distributions()
    missing = {m for m in imported_modules() if DISTRIBUTION.get(m, m).lower() not in declared}
    assert imported_modules() >= {"numpy", "cv2", "yaml"}   # the scan sees the package's imports
    assert missing == set(), f"imported but not declared in pyproject.toml: {sorted(missing)}"
