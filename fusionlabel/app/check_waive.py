"""Waiving findings in the label-check dock: the row under the list (a Waive button, the count of
waived findings and the tick box that shows them greyed, and a grey line counting stale waivers) and the small dialog asking why a finding
is fine. `W` on a chosen finding opens the dialog (on a waived one it takes the waiver back);
`Esc` cancels. The waiver is written to the project at once (:func:`.label_findings.waive_in_project`)."""

from __future__ import annotations

from PyQt6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                             QVBoxLayout, QWidget)

from ..wording import counted, stale_note
from .shortcuts import WAIVE_KEY

STALE_STYLE = "color: #8c8c8c; font-style: italic"


def waived_text(n: int, shown: bool = False, stale: int = 0) -> str:
    """The tick box's text: ``2 findings waived: show them`` (``…: shown greyed`` while ticked;
    ``no finding waived``); with ``stale`` waivers ``… waived, 1 stale waiver: show them``."""
    if not n and not stale:
        return "no finding waived"
    what = ", ".join(filter(None, [f"{counted(n, 'finding')} waived" if n else "",
                                   counted(stale, 'stale waiver') if stale else ""]))
    return f"{what}: {'shown greyed' if shown else 'show them'}"


def stale_text(n: int, shown: bool = False) -> str:
    """The grey line under the bar: ``2 stale waivers (their finding is no longer found): tick to
    list them, W takes one back``; "" for none."""
    if not n:
        return ""
    return f"{stale_note(n)}: {'listed last, greyed; W takes one back' if shown else 'tick to list them, W takes one back'}"


class WaiveBar(QWidget):
    """``waive``: the button (``Waive… (W)``, ``Unwaive (W)`` on a waived finding); ``shown``:
    the tick box that counts the waived findings and lists them greyed when ticked."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.waive = QPushButton(f"Waive… ({WAIVE_KEY})")
        self.waive.setToolTip("the chosen finding was looked at and is fine: say why, and it leaves the list "
                              "(`fusionlabel check` counts it, no longer lists it)")
        self.waive.setEnabled(False)
        self.shown = QCheckBox(waived_text(0))
        self.shown.setEnabled(False)
        self.stale = QLabel()
        self.stale.setStyleSheet(STALE_STYLE)
        self.stale.setToolTip("waivers whose finding the label check no longer reports (fixed, or moved to other "
                              "frames or boxes): take them back to tidy up (`fusionlabel check --waived` lists them too)")
        self.stale.hide()
        row = QHBoxLayout()
        row.addWidget(self.waive)
        row.addWidget(self.shown)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(0)
        layout.addLayout(row)
        layout.addWidget(self.stale)

    def show_state(self, n_waived: int, chosen_waived: bool | None, n_stale: int = 0) -> None:
        """``n_waived`` findings waived; ``chosen_waived``: whether the chosen finding (or stale
        waiver) is waived (None: nothing chosen); ``n_stale``: stale waivers, on the grey line."""
        self.shown.setText(waived_text(n_waived, self.shown.isChecked(), n_stale))
        self.shown.setEnabled(bool(n_waived or n_stale) or self.shown.isChecked())
        self.stale.setText(stale_text(n_stale, self.shown.isChecked()))
        self.stale.setVisible(bool(n_stale))
        self.waive.setEnabled(chosen_waived is not None)
        self.waive.setText(f"Unwaive ({WAIVE_KEY})" if chosen_waived else f"Waive… ({WAIVE_KEY})")


class WaiveDialog(QDialog):
    """Asks why ``text`` (a finding's line) is fine: OK stays disabled while the reason is blank;
    Enter confirms, Esc cancels."""

    def __init__(self, text: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Waive finding")
        what = QLabel(text)
        what.setWordWrap(True)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("why it is fine (required), e.g. the returns are a parked trailer")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Waive")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.reason.textChanged.connect(self._enable)
        layout = QVBoxLayout(self)
        layout.addWidget(what)
        layout.addWidget(QLabel("Reason (kept in the project with your user name and the time):"))
        layout.addWidget(self.reason)
        layout.addWidget(self.buttons)
        self._enable()
        self.resize(520, self.sizeHint().height())

    def _enable(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.reason.text().strip()))

    def accept(self) -> None:
        if self.reason.text().strip():      # Enter on a blank reason waives nothing
            super().accept()
