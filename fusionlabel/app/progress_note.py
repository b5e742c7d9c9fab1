"""A background run's note in the main window's status bar: a line of text, a thin progress bar
and a Cancel button (the pre-label run's, :mod:`.prelabel_status`, and the export's, :mod:`.export_action`)."""

from __future__ import annotations

from PyQt6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QSizePolicy, QToolButton, QWidget


class ProgressNote(QWidget):
    """The note's widgets; Cancel calls :meth:`cancel`, which subclasses define."""

    def __init__(self, cancel_tip: str, parent=None):
        super().__init__(parent)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setFixedSize(70, 10)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip(cancel_tip)
        self.cancel_button.clicked.connect(self.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(6)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        # as wide as it needs, at the right of the status bar (messages keep the rest)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)

    def cancel(self) -> None:
        raise NotImplementedError

    def show_run(self, text: str, tip: str, done: int, total: int, can_cancel: bool) -> None:
        """Show the note: ``text`` (``tip`` on hover), ``done`` of ``total`` on the bar."""
        self.label.setText(text)
        self.label.setToolTip(tip)
        self.bar.show()
        self.cancel_button.show()
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        self.cancel_button.setEnabled(can_cancel)
        self.show()
