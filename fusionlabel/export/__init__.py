"""Exporters to training formats: KITTI object and tracking, nuScenes, ASAM OpenLABEL, COCO.

Use :func:`export_drive`; labels come from a ``labels_for(frame_index)`` callable (default: the
drive's own labels), so a project store can supply its annotations instead.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from ..model.drive import Drive
from ..export_manifest import MANIFEST
from .base import ExportError, ExportOptions, ExportSummary, LabelsFor, output_names
from .option_checks import OUTSIDE_CHOICES, check_choice
from .staging import staged_output
from .status_filter import select_by_status

# format name -> (module, exporter class)
FORMATS = {
    "kitti": ("kitti", "KittiExporter"),
    "kitti-tracking": ("kitti_tracking", "KittiTrackingExporter"),
    "nuscenes": ("nuscenes", "NuScenesExporter"),
    "openlabel": ("openlabel", "OpenLabelExporter"),
    "coco": ("coco", "CocoExporter"),
}
# format name -> what it writes, in one line (``export --help`` and the app's File > Export)
DESCRIPTIONS = {
    "kitti": "label_2 + calib [+ velodyne, image_2]",
    "kitti-tracking": "label_02/<seq>.txt",
    "nuscenes": "JSON tables + samples/",
    "openlabel": "ASAM OpenLABEL 1.0 JSON",
    "coco": "2D boxes per camera",
}


def exporter_class(fmt: str):
    if fmt not in FORMATS:
        raise ExportError(None, f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}", where="--format")
    module, cls = FORMATS[fmt]
    return getattr(importlib.import_module(f".{module}", __name__), cls)


def export_drive(drive: Drive, fmt: str, out: str | Path, labels_for: LabelsFor | None = None,
                 options: ExportOptions | None = None) -> ExportSummary:
    """Export ``drive`` (frames and labels from ``labels_for``) to ``out`` in format ``fmt``.

    Refuses a non-empty ``out`` unless ``options.force``, and an ``out`` another run is writing.
    The export is written into a hidden folder inside ``out`` and moved in only when it is complete, replacing an earlier
    export there (:mod:`~fusionlabel.export.staging`). With ``options.status`` only the frames
    with one of those statuses are exported (:mod:`~.status_filter`), refused before anything is
    written when none has. Returns the summary (also written to ``out/fusionlabel_export.json``).
    """
    options = options or ExportOptions()
    cls = exporter_class(fmt)
    if options.frames is not None:
        bad = [i for i in options.frames if not 0 <= i < len(drive)]
        if bad:
            raise ExportError(None, f"frame indices {bad[:5]} out of range 0..{len(drive) - 1}", where="--frames")
    options, left_out = select_by_status(options, len(drive))       # --status within --frames
    check_choice(options.outside, OUTSIDE_CHOICES, "--outside")
    out = Path(out)
    cls(drive, labels_for or drive.labels, out, options).refuse_unmatched_classes()   # before anything is written
    with staged_output(out, lambda folder: output_names(folder, options.force), MANIFEST, drive.root) as staged:
        exporter = cls(drive, labels_for or drive.labels, staged.staging, options, staged.kept, out)
        if options.status:
            exporter.summary.status, exporter.summary.left_out_by_status = sorted(options.status), left_out
        return exporter.run()


__all__ = ["DESCRIPTIONS", "FORMATS", "ExportError", "ExportOptions", "ExportSummary", "LabelsFor", "export_drive"]
