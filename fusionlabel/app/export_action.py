"""File > Export (Ctrl+E) in the main window: the dialog, then ``fusionlabel export`` of the project
in a child process (:mod:`.export_runner`) with a note in the status bar ("Exporting kitti 3/20
frames", Cancel), and at the end a message with the folder, the counts and the summary's notes,
or the export's own error in one line.

The export reads the project from disk. Every edit is committed to the project's database when it
is made (one transaction per command), so the last edit the screen shows is in the export; a
field being typed in is committed when the dialog takes the focus. It only reads, so a read-only
window (the project is open in another app) exports too. One export at a time; closing the
window stops it (the command leaves its output folder as it was).
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QObject
from PyQt6.QtWidgets import QMessageBox, QWidget

from ..childproc.process import ChildStartError
from .export_dialog import ExportDialog, load_choice, save_choice
from .export_job import ExportChoice, default_out, export_arguments, in_project, result_lines
from .export_runner import ExportOutcome, ExportRunner
from .note_box import show_note_box
from .progress_note import ProgressNote
from .qt_util import take_activation_back

CANCEL_TIP = "Stop the export; the output folder is left as it was"
REPLACE_HINT = "Tick “Replace an earlier export in this folder” or choose an empty folder."


class ExportNote(ProgressNote):
    """The status bar's note while an export runs: "Exporting kitti 3/20 frames", a bar, Cancel."""

    def __init__(self, runner: ExportRunner, parent=None):
        super().__init__(CANCEL_TIP, parent)
        self.runner = runner
        runner.changed.connect(self.refresh)
        self.refresh()

    def cancel(self) -> None:
        self.runner.cancel()

    def refresh(self) -> None:
        runner = self.runner
        if not runner.running:
            self.hide()
            return
        done, total = runner.progress()
        count = f" {done}/{total} frames" if total else "…"
        text = f"Exporting {runner.format}{count}" + (": stopping" if runner.cancelling else "")
        self.show_run(text, f"exporting to {runner.out}; you can keep working meanwhile", done, total,
                      not runner.cancelling)


class WindowExport(QObject):
    """The export of ``window``'s project. ``ask`` shows the dialog (tests answer it themselves);
    ``message`` is the last end-of-export message box (still open until the annotator closes it)."""

    def __init__(self, window: QWidget):
        super().__init__(window)
        self.window = window
        self.runner = ExportRunner(self)
        self.runner.ended.connect(self._ended)
        self.note = ExportNote(self.runner)
        self.dialog: ExportDialog | None = None
        self.message: QMessageBox | None = None

    @property
    def session(self):
        return self.window.session

    @property
    def project_folder(self) -> Path:
        return Path(self.session.project.folder)

    def open_dialog(self) -> None:
        """Ctrl+E: the dialog (not while an export runs: a message says so)."""
        if self.runner.running:
            self.session.notify(f"an export is running already ({self.runner.format} to {self.runner.out}): "
                                "wait for it, or cancel it in the status bar", "warning")
            return
        if self.dialog is not None:
            self.dialog.raise_()
            return
        drive = self.session.drive
        dialog = ExportDialog(self.project_folder, load_choice(self.project_folder, drive), drive,
                              list(self.session.ontology.classes), self.window)
        dialog.accepted.connect(lambda: self.start(dialog.choice()))
        dialog.finished.connect(self._dialog_closed)
        self.dialog = dialog
        dialog.open()

    def _dialog_closed(self) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
            self.dialog = None
        take_activation_back(self.window)   # its keys work again at once

    def out_folder(self, choice: ExportChoice) -> Path:
        """The folder ``choice`` exports into (a relative one is taken in the project's folder)."""
        if not choice.out:
            return default_out(self.project_folder, choice.format)
        return in_project(self.project_folder, choice.out)

    def start(self, choice: ExportChoice) -> bool:
        """Export the project as ``choice`` says; False (and a message) when it cannot start."""
        if self.runner.running:
            self.session.notify(f"an export is running already ({self.runner.format} to {self.runner.out}): "
                                "wait for it, or cancel it in the status bar", "warning")
            return False
        save_choice(self.project_folder, choice)
        out = self.out_folder(choice)
        try:
            self.runner.start(export_arguments(self.project_folder, choice, out), choice.format, out)
        except ChildStartError as e:
            self._show(QMessageBox.Icon.Warning, "Export failed", f"The export could not start: {e}", [])
            return False
        self.session.notify(f"exporting {choice.format} to {out} in the background")
        return True

    def shutdown(self) -> None:
        """The window closes: an export still running is stopped."""
        self.runner.shutdown()

    def _ended(self, outcome: ExportOutcome) -> None:
        if outcome.cancelled:
            self.session.notify(f"export to {outcome.out} cancelled: the folder is as it was")
            return
        if outcome.summary is None:
            hints = [REPLACE_HINT] if "--force" in (outcome.error or "") else []
            self.session.notify(f"export failed: {outcome.error}")   # the message box says it too
            self._show(QMessageBox.Icon.Warning, "Export failed", outcome.error or "", hints)
            return
        head, lines = result_lines(outcome.summary)
        self.session.notify(f"{head} in {outcome.out}")
        self._show(QMessageBox.Icon.Information, "Export done", head, lines)

    def _show(self, icon, title: str, text: str, lines: list[str]) -> None:
        """A message box that neither blocks nor takes the keyboard: the annotator keeps working
        in the window, and closes it when done reading."""
        if self.message is not None:
            self.message.close()
        self.message = show_note_box(self.window, icon, title, text, lines)
