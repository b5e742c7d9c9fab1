"""The attribute panel's class box on cuboids of several tracks that reach other frames: a small
question with the reach the class keys say (:mod:`.retype_confirm`), Retype its default button. A
combo chosen with the mouse has no second key press to wait for, so it asks in a message box."""

from __future__ import annotations

from PyQt6.QtWidgets import QMessageBox, QWidget

from .qt_util import take_activation_back
from .retype_confirm import Reach


def ask_retype(parent: QWidget, reach: Reach) -> bool:
    """Ask whether to retype ``reach`` (its tracks in every frame) to ``reach.cls``; True to go
    ahead (Retype, the default button, or Enter); Cancel and Esc change nothing. The attributes the
    retype drops are named (``; drops: parked``)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Retype several tracks")
    box.setText(f"Retype {reach.text()} to {reach.cls} (not only this frame{reach.drops()})?")
    box.setInformativeText("Every cuboid of these tracks, in every frame, takes the class. Ctrl+Z undoes it.")
    go = box.addButton("Retype", QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(go)
    box.setEscapeButton(cancel)
    box.exec()
    take_activation_back(parent.window())
    return box.clickedButton() is go
