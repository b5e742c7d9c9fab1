"""nuScenes tables and COCO annotation files are written as they are produced: an export of a long
drive never holds their JSON text whole, and the files are the text they always were."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from fusionlabel.export import ExportOptions, export_drive
from fusionlabel.io.images import write_image
from fusionlabel.model.drive import Drive
from test_openlabel_stream import generated_drive, made_labels


def drive_with_images(root: Path, n: int) -> Drive:
    """A generated drive whose frames all show one black image of the first camera and a 50-point
    sweep."""
    base = generated_drive(root, n)
    rig = base.rig(0)
    cam = rig.camera_names[0]
    model = rig.camera(cam).camera
    write_image(root / f"{cam}.png", np.zeros((model.height, model.width, 3), np.uint8))
    for f in base.frames:
        f.image_paths = {cam: root / f"{cam}.png"}
    return Drive(base.name, root, rig, base.frames, read_points=lambda path: np.zeros((50, 4), np.float32))


def export(tmp_path: Path, fmt: str, n: int) -> tuple[int, int]:
    """(peak bytes traced during the export, bytes of JSON written)."""
    root = tmp_path / f"d{n}"
    root.mkdir()
    drive, labels_for = drive_with_images(root, n), made_labels(n)
    out = tmp_path / f"out{n}"
    tracemalloc.start()
    try:
        export_drive(drive, fmt, out, labels_for, ExportOptions(progress=False, sensor_data=False))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, sum(p.stat().st_size for p in out.rglob("*.json"))


@pytest.mark.parametrize("fmt", ["nuscenes", "coco"])
def test_tables_are_not_held_as_text(tmp_path, fmt):
    export(tmp_path, fmt, 2)           # imports and first-use caches out of the way
    (short, short_text), (long, long_text) = export(tmp_path, fmt, 10), export(tmp_path, fmt, 70)
    # The records stay in memory until the end (nuScenes links each box to the next of its track):
    # 2-3.5 times their text. Building the text whole as well took 7-9 times it.
    assert long - short < 5 * (long_text - short_text), (long - short, long_text - short_text)
    for path in (tmp_path / "out70").rglob("*.json"):
        text = path.read_text()
        assert text == json.dumps(json.loads(text), indent=1) + "\n", path
