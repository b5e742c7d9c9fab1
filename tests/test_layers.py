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


# ------------------------------------------------------------------ the direction of imports
# DESIGN.md: geometry <- model <- (io, store, assist, qa and the other services) <- app, cli. The
# top-level modules (errors, files, wording, ...) are helpers anyone may use; they use only each other.
LAYER_OF = {"geometry": 1, "model": 2, "childproc": 3,
            "io": 4, "store": 4, "assist": 4, "qa": 4, "export": 4, "render": 4, "sim": 4,
            "cli": 5, "app": 6}
# Imports against the direction, each with its reason. Keep this list short.
ALLOWED_UPWARD = {
    # a Drive made without readers reads sweeps and images with the io defaults (imported lazily)
    ("fusionlabel/model/drive.py", "io"),
    # `fusionlabel open` starts the app (imported lazily, so every other command runs without Qt)
    ("fusionlabel/cli/cmd_open.py", "app"),
}


def _imported_packages(path: Path, root: Path):
    """(line, part of fusionlabel) for every fusionlabel import in ``path``: the package
    (``geometry``) or top-level module (``errors``) imported."""
    import ast

    package = ["fusionlabel", *path.relative_to(root).parts[:-1]]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules = [a.name.split(".") for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            full = base + (node.module.split(".") if node.module else [])
            modules = [full + [a.name] for a in node.names] if len(full) == 1 else [full]
        else:
            continue
        for module in modules:
            if module[0] == "fusionlabel" and len(module) > 1:
                yield node.lineno, module[1]


def test_imports_follow_the_layers():
    root = Path(fusionlabel.__file__).parent
    wrong = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        own = parts[0] if len(parts) > 1 else None  # None: a top-level helper module
        for line, target in _imported_packages(path, root):
            if target == own:
                continue
            rel = f"fusionlabel/{'/'.join(parts)}"
            if target not in LAYER_OF:  # a top-level helper module (or the version)
                continue
            if own is None:
                if not (parts[0] == "__main__.py" and target == "cli"):  # __main__ runs the CLI
                    wrong.append(f"{rel}:{line}: a top-level helper module imports {target}")
                continue
            if LAYER_OF[target] > LAYER_OF[own] and (rel, target) not in ALLOWED_UPWARD:
                wrong.append(f"{rel}:{line}: {own} imports {target}, a layer above it")
    assert not wrong, "\n".join(wrong)
