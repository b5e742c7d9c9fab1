"""The main window's note of a background pre-label run (Ctrl+Shift+P), in the status bar: how far
it is ("Pre-labelling 7/20 frames"), a thin progress bar and a Cancel button; for Ctrl+P's run of one
frame, "Pre-labelling frame 000004…" and a busy bar, without Cancel (it takes well under a second). It is there from the
start of a run until the run ends, fails or is dropped, so the run is never forgotten behind the
progress dialog (which may be hidden behind other windows, or closed by its own Cancel while the
current frame finishes). A result that comes in during a mouse drag waits for its end, and the note
then says so ("Pre-labels ready: stored when you release the box") until it is stored.
"""

from __future__ import annotations

from .prelabel_runner import PrelabelRunner
from .progress_note import ProgressNote

CANCEL_TIP = "Stop after the current frame; the frames done are kept (Ctrl+Z takes them back)"
WAITING_TEXT = "Pre-labels ready: stored when you release the box"


def status_text(done: int, total: int, cancelling: bool) -> str:
    """What the note says: "Pre-labelling 7/20 frames", or that it stops after the current frame."""
    text = f"Pre-labelling {done}/{total} frames"
    return text + ": stopping after this frame" if cancelling else text


class PrelabelStatus(ProgressNote):
    """Follows a :class:`PrelabelRunner` (its ``changed`` signal): shown while it has a run on
    screen, hidden otherwise. Cancel does what the progress dialog's Cancel does."""

    def __init__(self, runner: PrelabelRunner, parent=None):
        super().__init__(CANCEL_TIP, parent)
        self.runner = runner
        runner.changed.connect(self.refresh)
        self.refresh()

    def cancel(self) -> None:
        """What the progress dialog's Cancel does: the dialog goes, the run stops after its frame."""
        if self.runner.dialog is not None:
            self.runner.dialog.cancel()
        self.runner.cancel()

    def refresh(self) -> None:
        runner = self.runner
        if runner.waiting_for_drag:     # the run is over; its result waits for the mouse drag to end
            self.label.setText(WAITING_TEXT)
            self.label.setToolTip("the run's boxes are stored once the drag has ended, so the box under "
                                  "the mouse is never replaced")
            self.bar.hide()
            self.cancel_button.hide()
            self.show()
            return
        if not runner.showing:
            self.hide()
            return
        if runner.quick:                # one frame (Ctrl+P): no progress to count, nothing to cancel
            frame_id = runner.drive.frames[runner.frames[0]].frame_id
            self.show_run(f"Pre-labelling frame {frame_id}…" + runner.note,
                          f"pre-labelling with {runner.detector_name}; you can keep working meanwhile, and the "
                          "boxes are stored in that frame when it is done", 0, 0, False)
            self.bar.setRange(0, 0)     # busy, not a fraction
            self.cancel_button.hide()
            return
        done, total = runner.progress()
        cancelling = runner.cancelling
        self.show_run(status_text(done, total, cancelling) + runner.note,   # e.g. the window closes after
                      f"background pre-labelling with {runner.detector_name}; you can keep working meanwhile",
                      done, total, not cancelling)
