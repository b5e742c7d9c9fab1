"""The core never imports Qt: every module outside fusionlabel/app imports headless."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import fusionlabel

QT_MODULES = ("PyQt6", "PySide6", "PyQt5", "pyqtgraph", "OpenGL")


def core_modules() -> list[str]:
    root = Path(fusionlabel.__file__).parent
    names = []
    for info in pkgutil.walk_packages([str(root)], prefix="fusionlabel."):
        if info.name.startswith("fusionlabel.app"):
            continue
        names.append(info.name)
    return names


def test_core_imports_without_qt():
    modules = core_modules()
    assert "fusionlabel.geometry.cameras" in modules and "fusionlabel.io.kitti" in modules
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {QT_MODULES!r}]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"Qt imported by the core: {out.stdout.strip()}"


def test_no_qt_import_statements_outside_app():
    root = Path(fusionlabel.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        if "app" in path.relative_to(root).parts[:1]:
            continue
        for line in path.read_text().splitlines():
            s = line.strip()
            if s.startswith(("import ", "from ")) and any(q in s.split()[1] for q in QT_MODULES):
                offenders.append(f"{path}: {s}")
    assert not offenders, offenders
