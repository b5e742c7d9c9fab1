"""The top of the label-check dock: the dock's title (how many findings, whether the list is being
refreshed) and, under it, what was checked and the notes of checks that could not run (in full in
the tooltip), so that the status bar line stays short."""

from __future__ import annotations

from PyQt6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..wording import counted

TITLE = "Label checks"
NOTE_CHARS = 110   # the notes line shows this much of the first note; the tooltip has them all
NOTES_STYLE = "color: #b07800"
FAILED_STYLE = "color: #b02020"


def title_text(findings: int | None, refreshing: bool, outdated: bool = False) -> str:
    """The dock's title: ``Label checks: 3 findings``, ``…, refreshing…`` while the labels changed
    since, ``…, labels changed since: Ctrl+K checks again`` when no check follows by itself;
    ``Label checks: checking…`` before the first list (``findings`` None)."""
    if findings is None:
        return f"{TITLE}: checking…"
    late = ", refreshing…" if refreshing else ", labels changed since: Ctrl+K checks again" if outdated else ""
    return f"{TITLE}: {counted(findings, 'finding')}{late}"


def notes_line(notes: list[str]) -> str:
    """One line for the notes (checks that could not run): the count and the start of the first."""
    if not notes:
        return ""
    first = notes[0] if len(notes[0]) <= NOTE_CHARS else notes[0][:NOTE_CHARS - 1] + "…"
    more = f" (+{len(notes) - 1} more, hover to read)" if len(notes) > 1 else ""
    return f"{counted(len(notes), 'note')}: {first}{more}"


class CheckHeader(QWidget):
    """What the last check looked at (one line) and its notes (one line, hidden without notes)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.checked_label = QLabel()
        self.notes_label = QLabel()
        self.notes_label.setStyleSheet(NOTES_STYLE)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 2)
        layout.setSpacing(0)
        layout.addWidget(self.checked_label)
        layout.addWidget(self.notes_label)
        self.notes_label.hide()

    def show_report(self, report) -> None:
        """Say what ``report`` (a :class:`~fusionlabel.qa.label_check.LabelCheck`) checked, and its notes."""
        self.checked_label.setStyleSheet("")
        self.checked_label.setText(f"checked {report.status()}")
        self.checked_label.setToolTip("")
        self.notes_label.setText(notes_line(report.notes))
        self.notes_label.setToolTip("\n".join(report.notes))
        self.notes_label.setVisible(bool(report.notes))

    def show_failure(self, text: str) -> None:
        """A check that failed: the error in red in place of what was checked."""
        self.checked_label.setStyleSheet(FAILED_STYLE)
        self.checked_label.setText(text)
        self.checked_label.setToolTip(text)
