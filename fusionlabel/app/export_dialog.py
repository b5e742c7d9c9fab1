"""File > Export's dialog: the format (with what each writes), the output folder (a folder
chooser; by default ``<project>/exports/<format>``), and the options of ``fusionlabel export`` an
annotator uses. The choices are remembered between sessions (:func:`load_choice`,
:func:`save_choice`: the user's settings, as the window layout's; the folder per project)."""

from __future__ import annotations

import json
from pathlib import Path

from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..export import DESCRIPTIONS
from .export_job import STATUS_CHOICES, ExportChoice, default_out, format_label
from .window_layout import layout_settings

CHOICE_SETTING = "export/choice"     # the options (JSON), the same for every project
FOLDERS_SETTING = "export/folders"   # {project folder: output folder chosen there} (JSON)


def _read_json(settings, key: str):
    try:
        return json.loads(str(settings.value(key, "")))
    except ValueError:
        return None


def load_choice(project_folder: Path) -> ExportChoice:
    """The choices of the last export (its folder only if it was from this project)."""
    settings = layout_settings()
    choice = ExportChoice.from_dict(_read_json(settings, CHOICE_SETTING))
    folders = _read_json(settings, FOLDERS_SETTING)
    out = folders.get(str(project_folder)) if isinstance(folders, dict) else None
    choice.out = out if isinstance(out, str) else ""
    return choice


def save_choice(project_folder: Path, choice: ExportChoice) -> None:
    """Remember ``choice`` for the next export (of any project; its folder for this one)."""
    settings = layout_settings()
    options = choice.to_dict()
    options["out"] = ""
    settings.setValue(CHOICE_SETTING, json.dumps(options))
    folders = _read_json(settings, FOLDERS_SETTING)
    folders = folders if isinstance(folders, dict) else {}
    if choice.out:
        folders[str(project_folder)] = choice.out
    else:
        folders.pop(str(project_folder), None)
    settings.setValue(FOLDERS_SETTING, json.dumps(folders))
    settings.sync()


class ExportDialog(QDialog):
    """Asks how to export the project in ``project_folder``; :meth:`choice` reads the answer."""

    def __init__(self, project_folder: Path, choice: ExportChoice, parent: QWidget | None = None):
        super().__init__(parent)
        self.project_folder = Path(project_folder)
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
        self.labels_only_box = QCheckBox("Labels only (no sweeps or images)")
        self.labels_only_box.setChecked(choice.labels_only)
        self.force_box = QCheckBox("Replace an earlier export in this folder (other files are kept)")
        self.force_box.setToolTip("without it, a folder that is not empty is refused")
        self.force_box.setChecked(choice.force)
        self.skip_box = QCheckBox("Skip frames whose sweep or image cannot be read")
        self.skip_box.setChecked(choice.skip_bad_frames)
        form = QFormLayout()
        form.addRow("Format", self.format_box)
        form.addRow("Folder", out_row)
        form.addRow("Frames", self.status_box)
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

    def _format_changed(self) -> None:
        """A folder that was the old format's default becomes the new format's."""
        new = self.format_box.currentData()
        if Path(self.out_edit.text().strip()) == default_out(self.project_folder, self._format):
            self.out_edit.setText(str(default_out(self.project_folder, new)))
        self._format = new

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
        return ExportChoice(format=fmt, out=out, include_prelabels=self.prelabels_box.isChecked(),
                            status=self.status_box.currentData(), labels_only=self.labels_only_box.isChecked(),
                            force=self.force_box.isChecked(), skip_bad_frames=self.skip_box.isChecked())
