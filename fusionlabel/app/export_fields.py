"""A text field of the export dialog checked as ``fusionlabel export`` checks its option: the
command's own check runs on every change and its message (file, line or option, and what was
expected) is shown under the field, in one place with it, so hiding the row hides both."""

from __future__ import annotations

from typing import Callable

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from ..errors import InputError

ERROR_STYLE = "color: #c0392b"


class CheckedField(QWidget):
    """A line edit (with a "Choose…" button when ``browse`` is given: it returns the text to put
    in, or "" to keep it) over the message ``check(text)`` raises (an InputError). An empty field
    is the option left out, not checked. ``changed`` after every check."""

    changed = pyqtSignal()

    def __init__(self, text: str, check: Callable[[str], object], placeholder: str = "", tip: str = "",
                 browse: Callable[[str], str] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.check = check
        self.error: str | None = None
        self.edit = QLineEdit(text)
        self.edit.setPlaceholderText(placeholder)
        self.edit.setToolTip(tip)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        self.browse_button = None
        if browse is not None:
            self.browse_button = QPushButton("Choose…")
            self.browse_button.clicked.connect(lambda: self._browse(browse))
            row.addWidget(self.browse_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addLayout(row)
        column.addWidget(self.error_label)
        self.edit.textChanged.connect(self.recheck)
        self.recheck()

    def value(self) -> str:
        """The text without the blanks around it ("" for the option left out)."""
        return self.edit.text().strip()

    @property
    def valid(self) -> bool:
        return self.error is None

    def recheck(self) -> None:
        """Run the check on the text now; show its message, or none."""
        self.error = None
        if self.value():
            try:
                self.check(self.value())
            except InputError as e:
                self.error = str(e)
        self.error_label.setText(self.error or "")
        self.error_label.setVisible(self.error is not None)
        self.changed.emit()

    def _browse(self, browse: Callable[[str], str]) -> None:
        chosen = browse(self.value())
        if chosen:
            self.edit.setText(chosen)
