"""What another fusionlabel tool left in a folder that ``prelabel --out`` is asked to write: an
export, an imported or simulated drive, any drive, or a project. ``prelabel`` writes its label
files only into a folder of its own (or a new one), never beside such output: `eval --pred` would
otherwise read the export's labels, or a drive's, for the predictions.
"""

from __future__ import annotations

from pathlib import Path

from ..export_manifest import MANIFEST


def foreign_output(folder: Path) -> str | None:
    """What ``folder`` holds of another tool, naming the file or layout that tells it
    (``a fusionlabel kitti export (fusionlabel_export.json)``), or None when it holds none."""
    from ..export.native_output import IMPORT_OUTPUT, SIMULATE_OUTPUT
    from ..io.drives import drive_layout
    from ..qa.export_labels import export_format
    from ..store.project import DB_NAME, is_project

    folder = Path(folder)
    if not folder.is_dir():
        return None
    if is_project(folder):
        return f"a fusionlabel project ({DB_NAME})"
    fmt = export_format(folder)
    if fmt is not None:
        return f"a fusionlabel {fmt} export ({MANIFEST})"
    for tool in (IMPORT_OUTPUT, SIMULATE_OUTPUT):
        if (folder / tool.manifest).is_file():
            return f"a drive written by fusionlabel {tool.tool} ({tool.manifest})"
    layout = drive_layout(folder)
    if layout is not None:
        return f"a {layout.replace('_', ' ')} drive"
    return None


def refusal(what: str) -> str:
    """The problem text for an ``--out`` holding ``what`` (:func:`foreign_output`)."""
    hint = "pre-label the project without --out, or choose" if "project" in what else "choose"
    return (f"holds {what}; prelabel writes its label files only into a folder of its own, never beside "
            f"another tool's output (eval --pred would read that for the predictions): {hint} another folder")
