"""File > Export's dialog: the format (with what each writes), the output folder (a folder
chooser; by default ``<project>/exports/<format>``), and the options of ``fusionlabel export`` an
annotator uses: the classes (a checklist of the ontology's), the frames (``--frames``), the camera
of KITTI and COCO (any camera of the drive's rigs; no row for a drive without cameras), and the rows of :mod:`.export_options_form`
(class map and the options of one format, shown for that format only). Each text is checked as the
command checks it, on every change: its message shows under the field and Export waits until it
is right. The choices are remembered between sessions (:func:`load_choice`, :func:`save_choice`:
the user's settings, as the window layout's; the format, the folder and the project's own choices
per project). The first time on a project the format is its drive's own (:func:`.export_job.drive_format`:
nuScenes, KITTI tracking or KITTI), else the last one exported."""

from __future__ import annotations

import json
from pathlib import Path

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..export import DESCRIPTIONS
from ..export.base import parse_classes
from ..model.drive import camera_names_of_all_rigs
from ..model.frame_spec import FRAMES_SYNTAX, parse_frames
from .export_fields import CheckedField
from .export_job import (
    CAMERA_FORMATS,
    LABELS_ONLY_BOX,
    PROJECT_FIELDS,
    STATUS_CHOICES,
    ExportChoice,
    default_out,
    drive_format,
    format_label,
)
from .export_options_form import ExportOptionsForm
from .window_layout import layout_settings

CHOICE_SETTING = "export/choice"     # the options (JSON), the same for every project
FOLDERS_SETTING = "export/folders"   # {project folder: output folder chosen there} (JSON)
PROJECT_SETTING = "export/projects"  # {project folder: {PROJECT_FIELDS and "format": value}} (JSON)


def _read_json(settings, key: str):
    try:
        return json.loads(str(settings.value(key, "")))
    except ValueError:
        return None


def load_choice(project_folder: Path, drive=None) -> ExportChoice:
    """The choices of the last export (its folder only if it was from this project). The format is
    the one last exported from this project; the first time on it, ``drive``'s own format (when it
    has one), else the last one exported from any project."""
    settings = layout_settings()
    choice = ExportChoice.from_dict(_read_json(settings, CHOICE_SETTING))
    folders = _read_json(settings, FOLDERS_SETTING)
    out = folders.get(str(project_folder)) if isinstance(folders, dict) else None
    choice.out = out if isinstance(out, str) else ""
    projects = _read_json(settings, PROJECT_SETTING)
    remembered = projects.get(str(project_folder)) if isinstance(projects, dict) else None
    own = ExportChoice.from_dict(remembered)
    for name in PROJECT_FIELDS:
        setattr(choice, name, getattr(own, name))
    if isinstance(remembered, dict) and remembered.get("format") in DESCRIPTIONS:
        choice.format = remembered["format"]
    elif not isinstance(remembered, dict) and drive is not None:
        choice.format = drive_format(drive) or choice.format
    return choice


def save_choice(project_folder: Path, choice: ExportChoice) -> None:
    """Remember ``choice`` for the next export (of any project; its folder for this one)."""
    settings = layout_settings()
    options = choice.to_dict()
    options["out"] = ""
    for name in PROJECT_FIELDS:
        options.pop(name)
    settings.setValue(CHOICE_SETTING, json.dumps(options))
    projects = _read_json(settings, PROJECT_SETTING)
    projects = projects if isinstance(projects, dict) else {}
    projects[str(project_folder)] = {name: getattr(choice, name) for name in (*PROJECT_FIELDS, "format")}
    settings.setValue(PROJECT_SETTING, json.dumps(projects))
    folders = _read_json(settings, FOLDERS_SETTING)
    folders = folders if isinstance(folders, dict) else {}
    if choice.out:
        folders[str(project_folder)] = choice.out
    else:
        folders.pop(str(project_folder), None)
    settings.setValue(FOLDERS_SETTING, json.dumps(folders))
    settings.sync()


class ExportDialog(QDialog):
    """Asks how to export the project in ``project_folder`` (its ``drive`` and ontology ``classes``);
    :meth:`choice` reads the answer."""

    def __init__(self, project_folder: Path, choice: ExportChoice, drive, classes: list[str],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.project_folder = Path(project_folder)
        self.drive = drive
        self.setWindowTitle("Export labels")
        self.format_box = QComboBox()
        for fmt in DESCRIPTIONS:
            self.format_box.addItem(format_label(fmt), fmt)
        self.format_box.setCurrentIndex(max(0, self.format_box.findData(choice.format)))
        self.out_edit = QLineEdit(choice.out or str(default_out(self.project_folder, choice.format)))
        self.out_edit.setMinimumWidth(420)
        browse = QPushButton("Choose…")
        browse.setToolTip("choose the output folder")
        browse.clicked.connect(self._browse)
        out_row = QHBoxLayout()
        out_row.setContentsMargins(0, 0, 0, 0)
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(browse)
        self.status_box = QComboBox()
        for text, status in STATUS_CHOICES:
            self.status_box.addItem(text, status)
        self.status_box.setCurrentIndex(max(0, self.status_box.findData(choice.status)))
        self.prelabels_box = QCheckBox("Include pre-labels nobody accepted")
        self.prelabels_box.setToolTip("by default only human, accepted and imported cuboids are exported; "
                                      "the summary counts the pre-labels left out")
        self.prelabels_box.setChecked(choice.include_prelabels)
        self.labels_only_box = QCheckBox(f"{LABELS_ONLY_BOX} (no sweeps or images)")
        self.labels_only_box.setChecked(choice.labels_only)
        self.force_box = QCheckBox("Replace an earlier export in this folder (other files are kept)")
        self.force_box.setToolTip("without it, a folder that is not empty is refused")
        self.force_box.setChecked(choice.force)
        self.skip_box = QCheckBox("Skip frames whose sweep or image cannot be read")
        self.skip_box.setChecked(choice.skip_bad_frames)
        self.classes_list = QListWidget()
        self.classes_list.setToolTip("the classes exported (--classes); untick a class to leave it out")
        chosen = parse_classes(choice.classes) or set()
        if not chosen & set(classes):      # every class, or none of this project's was chosen
            chosen = set(classes)
        for name in classes:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in chosen else Qt.CheckState.Unchecked)
            self.classes_list.addItem(item)
        self.classes_list.setMaximumHeight(120)
        self.frames_field = CheckedField(choice.frames, lambda text: parse_frames(text, drive), "every frame",
                                         f"the frames exported (--frames): {FRAMES_SYNTAX}; empty for every frame")
        self.frames_edit, self.frames_error = self.frames_field.edit, self.frames_field.error_label
        self.camera_box = QComboBox()
        self.camera_box.addItem("the format's default (KITTI: image_2 or the first; COCO: every camera)", "")
        cameras = camera_names_of_all_rigs(drive)
        for name in cameras:
            self.camera_box.addItem(name, name)
        # a drive without any camera (a KITTI tracking sequence without image_02/) has none to
        # choose: the row is hidden, as the image size row is for a format that does not need it
        self.camera_formats = CAMERA_FORMATS if cameras else ()
        self.camera_box.setCurrentIndex(max(0, self.camera_box.findData(choice.camera)))
        self.camera_box.setToolTip("KITTI: the camera written as image_2; COCO: only this camera (--camera)")
        self.form = form = QFormLayout()
        form.addRow("Format", self.format_box)
        form.addRow("Folder", out_row)
        form.addRow("Frames by status", self.status_box)
        form.addRow("Frame range", self.frames_field)
        form.addRow("Classes", self.classes_list)
        form.addRow("Camera", self.camera_box)
        self.options = ExportOptionsForm(form, self.project_folder, drive, choice, self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        for box in (self.prelabels_box, self.labels_only_box, self.force_box, self.skip_box):
            layout.addWidget(box)
        layout.addWidget(buttons)
        self._format = choice.format
        self.format_box.currentIndexChanged.connect(self._format_changed)
        self.classes_list.itemChanged.connect(self._update_export)
        self.frames_field.changed.connect(self._update_export)
        self.options.changed.connect(self._update_export)
        self._format_changed()

    def _format_changed(self) -> None:
        """A folder that was the old format's default becomes the new format's."""
        new = self.format_box.currentData()
        if Path(self.out_edit.text().strip()) == default_out(self.project_folder, self._format):
            self.out_edit.setText(str(default_out(self.project_folder, new)))
        self._format = new
        self.form.setRowVisible(self.camera_box, new in self.camera_formats)
        self.options.show_for(new)
        self.resize(self.width(), self.sizeHint().height())   # the rows shown, at the width the user gave

    def _checked_classes(self) -> list[str]:
        items = (self.classes_list.item(i) for i in range(self.classes_list.count()))
        return [item.text() for item in items if item.checkState() == Qt.CheckState.Checked]

    def why_not(self) -> str:
        """Why Export waits ("" when it may go): no class ticked, or a field the command refuses."""
        if not self._checked_classes():
            return "tick at least one class"
        wrong = [f for f in (self.frames_field, *self.options.invalid()) if not f.valid]
        return wrong[0].error if wrong else ""

    def _update_export(self) -> None:
        why = self.why_not()
        self.export_button.setEnabled(not why)
        self.export_button.setToolTip(why)

    def accept(self) -> None:
        """Export, unless a field is one the command refuses (its message is shown under it)."""
        if not self.why_not():
            super().accept()

    def _browse(self) -> None:
        start = Path(self.out_edit.text().strip() or self.project_folder)
        while not start.is_dir() and start != start.parent:
            start = start.parent
        folder = QFileDialog.getExistingDirectory(self, "Export into folder", str(start))
        if folder:
            self.out_edit.setText(folder)

    def choice(self) -> ExportChoice:
        """The choices shown; ``out`` empty when it is the format's default folder."""
        fmt = self.format_box.currentData()
        text = self.out_edit.text().strip()
        out = "" if not text or Path(text) == default_out(self.project_folder, fmt) else text
        checked = self._checked_classes()
        classes = "" if len(checked) == self.classes_list.count() else ",".join(checked)
        choice = ExportChoice(format=fmt, out=out, include_prelabels=self.prelabels_box.isChecked(),
                              status=self.status_box.currentData(), labels_only=self.labels_only_box.isChecked(),
                              force=self.force_box.isChecked(), skip_bad_frames=self.skip_box.isChecked(),
                              classes=classes, frames=self.frames_field.value(),
                              camera=self.camera_box.currentData() or "")
        self.options.fill(choice)
        return choice
