"""What the app shows when importing the drive's labels (the first open, Ctrl+I) could not read some
frames' label files: the readable ones are imported, and a message box that stays until closed
names each left-out frame with its error (file, line, field), so none goes unnoticed."""

from __future__ import annotations

from PyQt6.QtWidgets import QMessageBox, QWidget

from ..wording import counted
from .note_box import show_note_box

TITLE = "Labels not imported"
LISTED = 20   # frames listed in the box itself; the rest behind "Show Details…"


def unread_labels_text(frames: list[tuple[str, str]]) -> tuple[str, list[str], str | None]:
    """(headline, lines, details) for ``frames`` (frame ID, error naming the file): the first
    :data:`LISTED` frames each on a line, every one in the details when there are more."""
    n = len(frames)
    files = "its label file" if n == 1 else "their label files"
    head = f"The labels of {counted(n, 'frame')} were not imported: {files} could not be read."
    every = [f"frame {fid}: {error}" for fid, error in frames]
    lines = every[:LISTED] + ([f"… and {n - LISTED} more (Show Details… lists them all)"] if n > LISTED else [])
    lines += ["", "The other frames' labels were imported. Fix the files, then press Ctrl+I to bring those "
                  "frames' labels in."]
    return head, lines, "\n".join(every) if n > LISTED else None


def show_unread_labels(parent: QWidget, frames: list[tuple[str, str]]) -> QMessageBox:
    """The box over ``parent`` naming ``frames`` (see :func:`unread_labels_text`); it neither blocks
    nor takes the keyboard."""
    head, lines, details = unread_labels_text(frames)
    return show_note_box(parent, QMessageBox.Icon.Warning, TITLE, head, lines, details)
