"""What every exporter promises: no silent loss (written + skipped = given), a manifest with the
summary, the progress bar, and clean errors for bad options."""

from __future__ import annotations

import json

import pytest

from fusionlabel.export import FORMATS, ExportError, ExportOptions, export_drive
from fusionlabel.export.base import MANIFEST, load_class_map


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_label_is_written_or_skipped_with_a_reason(fmt, small_sim_drive, tmp_path):
    drive = small_sim_drive

    def labels_for(i):
        labels = drive.labels(i)
        return [*labels, labels[0].with_(label="zeppelin", track_id=f"z{i}")]

    options = ExportOptions(progress=False, sensor_data=False, class_map={"van": None},
                            classes={"car", "Car", "vehicle.car", "van", "truck", "zeppelin", "Truck",
                                     "vehicle.truck"})
    summary = export_drive(drive, fmt, tmp_path / "out", labels_for, options)
    given = sum(len(labels_for(i)) for i in range(len(drive)))
    assert summary.total_objects + summary.total_skipped == given
    assert summary.skipped[("class not selected (--classes)", "pedestrian")] == \
        sum(lab.label == "pedestrian" for i in range(len(drive)) for lab in drive.labels(i))
    assert summary.skipped[("dropped by --class-map", "van")] > 0
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert manifest["summary"]["objects_total"] == summary.total_objects
    assert manifest["frames"] == [f.frame_id for f in drive.frames]
    assert summary.files == sum(1 for p in (tmp_path / "out").rglob("*") if p.is_file())
    text = summary.text()
    assert f"exported {len(drive)} frame(s) as {fmt}" in text and "skipped" in text


def test_bad_options(small_sim_drive, tmp_path):
    drive = small_sim_drive
    with pytest.raises(ExportError, match="unknown format 'yolo'"):
        export_drive(drive, "yolo", tmp_path / "a")
    with pytest.raises(ExportError, match="--frames"):
        export_drive(drive, "kitti", tmp_path / "b", options=ExportOptions(frames=[7]))
    with pytest.raises(ExportError, match="--sequence"):
        export_drive(drive, "kitti-tracking", tmp_path / "c", options=ExportOptions(sequence="../x", progress=False))
    with pytest.raises(ExportError, match="--version"):
        export_drive(drive, "nuscenes", tmp_path / "d", options=ExportOptions(version="a/b", progress=False))
    (tmp_path / "map.yaml").write_text("car: [1, 2]\n")
    with pytest.raises(ExportError, match="map.yaml"):
        load_class_map(tmp_path / "map.yaml")
    (tmp_path / "broken.yaml").write_text("car: van\ntruck: [bus\n")
    with pytest.raises(ExportError) as bad:
        load_class_map(tmp_path / "broken.yaml")
    assert "line 3, column 1" in str(bad.value) and "invalid YAML" in str(bad.value) and "\n" not in str(bad.value)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExportError, match="is a file"):
        export_drive(drive, "kitti", tmp_path / "file")
