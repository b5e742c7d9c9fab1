"""The export dialog's rows for the options of ``fusionlabel export`` beyond the common ones: the
class map (every format), what KITTI does with objects outside the camera and with imported 2D
boxes, the KITTI tracking sequence, the nuScenes version and scene name, the OpenLABEL rotation,
and the size of camera image_2 for a KITTI tracking drive without images (for KITTI and KITTI
tracking, which need it). A row is shown only for the formats its option applies to
(:data:`~.export_job.OPTION_FORMATS`); each text is checked by the command's own check
(:mod:`fusionlabel.export.option_checks`, :func:`~fusionlabel.export.base.load_class_map`,
:func:`~fusionlabel.io.drives.parse_image_size`)."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtWidgets import QCheckBox, QComboBox, QFileDialog, QFormLayout, QWidget

from ..export import DESCRIPTIONS
from ..export.base import ExportOptions, load_class_map
from ..export.option_checks import (OUTSIDE_CHOICES, ROTATION_CHOICES, check_nuscenes_version, check_scene_name,
                                    check_sequence)
from ..io.drives import parse_image_size, takes_image_size
from .export_fields import CheckedField
from .export_job import OPTION_FORMATS, ExportChoice, in_project

OUTSIDE_TEXT = {"keep": "keep them, with a 2D box of -1", "drop": "leave them out"}
ROTATION_TEXT = {"quaternion": "quaternion (10 values)", "euler": "Euler angles (9 values)"}
CLASS_MAP_FILES = "Class maps (*.yaml *.yml *.json);;All files (*)"


def _choice_box(choices: tuple[str, ...], texts: dict[str, str], current: str, tip: str) -> QComboBox:
    box = QComboBox()
    for value in choices:
        box.addItem(texts.get(value, value), value)
    box.setCurrentIndex(max(0, box.findData(current)))
    box.setToolTip(tip)
    return box


class ExportOptionsForm(QObject):
    """Adds its rows to ``form`` (after the rows already there), filled from ``choice``;
    :meth:`show_for` shows a format's, :meth:`invalid` names the shown fields that are wrong,
    :meth:`fill` writes the shown values into a choice. ``changed`` when a check's outcome may
    have changed."""

    changed = pyqtSignal()

    def __init__(self, form: QFormLayout, project_folder: Path, drive, choice: ExportChoice, parent: QWidget):
        super().__init__(parent)
        self.form = form
        self.project_folder = Path(project_folder)
        self.parent_widget = parent
        defaults = ExportOptions()
        self.class_map = CheckedField(
            choice.class_map, lambda text: load_class_map(in_project(self.project_folder, text)),
            "none", "a YAML or JSON file mapping each source class to the exported one, null to leave it out "
                    "(--class-map); a relative path is in the project's folder", self._browse_class_map)
        self.outside_box = _choice_box(OUTSIDE_CHOICES, OUTSIDE_TEXT, choice.outside,
                                       "objects no exported camera sees (--outside)")
        self.recompute_box = QCheckBox("Recompute 2D boxes of imported objects nobody edited")
        self.recompute_box.setToolTip("also their truncation, occlusion and alpha; by default the source's are kept "
                                      "(--recompute-2d)")
        self.recompute_box.setChecked(choice.recompute_2d)
        self.sequence = CheckedField(choice.sequence, check_sequence, "the source's sequence, else 0000",
                                     "the sequence's name: its files are label_02/<name>.txt … (--sequence)")
        self.version = CheckedField(choice.nuscenes_version, check_nuscenes_version, defaults.version,
                                    "the version folder's name (--nuscenes-version)")
        self.scene_name = CheckedField(choice.scene_name, check_scene_name, "the source's scene name, else the drive's",
                                       "a name in no official split gets the custom split 'fusionlabel' "
                                       "(--scene-name)")
        self.rotation_box = _choice_box(ROTATION_CHOICES, ROTATION_TEXT, choice.rotation,
                                        "how a cuboid's rotation is written (--rotation)")
        self.image_size = CheckedField(choice.image_size, parse_image_size, "WIDTHxHEIGHT, e.g. 1242x375",
                                       "this KITTI tracking drive has no images to read camera image_2's size from; "
                                       "KITTI and KITTI tracking need it, and it is never guessed (--image-size)")
        sized = OPTION_FORMATS["image_size"] if takes_image_size(drive) else ()    # a property of the drive
        self.rows = [  # (label, widget, formats it is shown for, ExportChoice field)
            ("Class map", self.class_map, tuple(DESCRIPTIONS), "class_map"),
            ("Outside the camera", self.outside_box, OPTION_FORMATS["outside"], "outside"),
            ("", self.recompute_box, OPTION_FORMATS["recompute_2d"], "recompute_2d"),
            ("Sequence", self.sequence, OPTION_FORMATS["sequence"], "sequence"),
            ("nuScenes version", self.version, OPTION_FORMATS["nuscenes_version"], "nuscenes_version"),
            ("Scene name", self.scene_name, OPTION_FORMATS["scene_name"], "scene_name"),
            ("Rotation", self.rotation_box, OPTION_FORMATS["rotation"], "rotation"),
            ("Image size (image_2)", self.image_size, sized, "image_size"),
        ]
        for label, widget, _formats, _field in self.rows:
            form.addRow(label, widget)
            if isinstance(widget, CheckedField):
                widget.changed.connect(self.changed)
        self.format = ""

    def show_for(self, fmt: str) -> None:
        """Show the rows of format ``fmt`` only."""
        self.format = fmt
        for _label, widget, formats, _field in self.rows:
            self.form.setRowVisible(widget, fmt in formats)
        self.changed.emit()

    def invalid(self) -> list[CheckedField]:
        """The fields shown whose text the command would refuse."""
        return [widget for _label, widget, formats, _name in self.rows
                if self.format in formats and isinstance(widget, CheckedField) and not widget.valid]

    def fill(self, choice: ExportChoice) -> None:
        """Put the rows' values into ``choice``, those of other formats too (to be remembered;
        :func:`~.export_job.export_arguments` passes a format's own); a row of no format (the image
        size of a drive that has its images) keeps the default."""
        for _label, widget, formats, name in self.rows:
            if not formats:
                continue
            if isinstance(widget, CheckedField):
                value = widget.value()
            elif isinstance(widget, QCheckBox):
                value = widget.isChecked()
            else:
                value = widget.currentData()
            setattr(choice, name, value)

    def _browse_class_map(self, text: str) -> str:
        start = in_project(self.project_folder, text) if text else self.project_folder
        path, _ = QFileDialog.getOpenFileName(self.parent_widget, "Class map", str(start), CLASS_MAP_FILES)
        return path
