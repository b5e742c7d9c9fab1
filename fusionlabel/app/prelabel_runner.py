"""Pre-label many frames in the background with a progress dialog that never blocks the app.

The detector runs in a child process at a low priority (:mod:`fusionlabel.assist.detect_process`)
when the drive and the detector can be remade there (both were made from their settings, the
normal case): on a thread it would hold the interpreter lock the frame loader and the painting
need, and frame steps would take a second. Other detectors (made in code, e.g. by a test) run on
a worker thread (read-only on the drive), and so does every detector when the child cannot be
started (a frozen executable): :attr:`PrelabelRunner.on_warning` says so. A thread relays
progress and completion back to the GUI thread as queued signals. The dialog is shown
non-modally, so the annotator (and a test) keeps working meanwhile; Cancel stops after the
current frame. Given a minimum score, the detections are also linked into tracks there (in the
child, or on the worker thread), away from the interface. When the worker ends, the callback
builds and applies the command on the GUI thread against the document as it is then, so edits
made during the run are respected (detections on them are skipped); the count of invalid boxes
the child's detector dropped is added to the detector's there too, and the notes of what the
detector's input left out (voxels beyond an ONNX model's ``max_voxels``) are handed to the
callback. While the window asks whether to close during a run (:meth:`PrelabelRunner.holding`), a result that comes in waits for the
answer; so does one that comes in during a mouse drag (:attr:`PrelabelRunner.hold_while`), until the
drag has ended in its command, so a run never replaces the cuboid under the mouse (once moved, it is
an edited pre-label and the run keeps it). :attr:`PrelabelRunner.changed` fires whenever what a run shows changes (it starts, a frame
is done, Cancel is pressed, it ends, its result waits for a drag or is stored), for the main
window's status-bar note (:mod:`.prelabel_status`).

A quick run (``quick=True``: ``Ctrl+P``, one frame) shows no dialog, only that note, and runs on a
worker thread of this process: starting the child takes longer (~0.5 s) than the detector on one
frame, and for that fraction of a second the thread shares the interpreter lock in small steps, so
the window still repaints and takes keys (the longest stall of the GUI thread on a SUSTech frame
drops from ~0.24 s to ~0.02 s). Its result is stored by the same rules as a long run's.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import Callable

from PyQt6.QtCore import QObject, Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import QProgressDialog, QWidget

from ..assist.detect_process import DetectProcess, DetectProcessError, recipes
from ..assist.edit_assist import detect_frames, prelabels_to_store, tracked_run
from .qt_util import take_activation_back

log = logging.getLogger(__name__)
RECHECK_MS = 50  # how often a result held for a drag looks whether the drag has ended


class PrelabelRunner(QObject):
    """One background pre-label run at a time; ``done(detections, cancelled, skipped, prelabels,
    notes)`` on the GUI thread, ``skipped`` = [(frame, message)] of frames whose input could not be
    read, ``prelabels`` the detections to store (tracked) when the run was given a minimum score,
    ``notes`` what the detector's input left out during the run, in words (``take_notes``)."""

    progressed = pyqtSignal(int, int)
    finished = pyqtSignal(object, bool, object, object, int, object)
    failed = pyqtSignal(str)
    changed = pyqtSignal()  # started, progressed, cancelled or ended (the status bar's note follows)

    def __init__(self, drive, parent: QWidget):
        super().__init__(parent)
        self.drive = drive
        self.dialog: QProgressDialog | None = None
        self._shown = False          # a run is on screen (with its dialog, or a quick run without one)
        self._progress = (0, 0)      # (frames done, frames in all) of the run on screen
        self.quick = False           # the run on screen is a quick one (no dialog, no Cancel)
        self.frames: list[int] = []  # of the run on screen
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._process: DetectProcess | None = None
        self._done: Callable | None = None
        self._detector = None
        self._holding = False
        self._held: tuple | None = None  # a result that came in while holding (or during a drag)
        # Whether a result must wait now (the window: a mouse drag of a cuboid is in progress); looked
        # at again every RECHECK_MS while a result waits for it.
        self.hold_while: Callable[[], bool] | None = None
        self._recheck = QTimer(self)
        self._recheck.setInterval(RECHECK_MS)
        self._recheck.timeout.connect(self._deliver_held)
        self.note = ""  # said after the progress in the dialog (e.g. that the window closes after)
        self.detector_name = ""  # of the run, named in the dialog all along
        self.progressed.connect(self._on_progress)
        self.finished.connect(self._on_finished)
        self.failed.connect(self._on_failed)
        self.on_error: Callable[[str], None] | None = None
        self.on_warning: Callable[[str], None] | None = None  # the detector runs here after all

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def showing(self) -> bool:
        """A run is on screen: from its start until it ends, fails or is dropped (its dialog is open,
        or a quick run goes on)."""
        return self._shown

    @property
    def cancelling(self) -> bool:
        """Cancel was pressed: the run stops after its current frame."""
        return self.showing and self._cancel.is_set()

    @property
    def busy(self) -> bool:
        """A run was started and its result is not stored yet (detecting, or waiting to be stored)."""
        return self._done is not None

    def progress(self) -> tuple[int, int]:
        """(frames done, frames in all) of the run on screen; (0, 0) without one."""
        return self._progress if self._shown else (0, 0)

    @property
    def waiting(self) -> bool:
        """The run's result came in and waits (for the close question's answer, or a drag's end)."""
        return self._held is not None

    @property
    def waiting_for_drag(self) -> bool:
        """The run's result came in during a mouse drag and is stored when the drag ends (the
        status bar says so: :mod:`.prelabel_status`)."""
        return self._held is not None and not self._holding

    @contextmanager
    def holding(self):
        """While the block runs, a result that comes in is kept, then stored on leaving it (unless
        :meth:`shutdown` dropped the run meanwhile, or a drag still holds it): a question about the
        run stays valid while it is on screen."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
            self._deliver_held()

    def _must_wait(self) -> bool:
        return self._holding or (self.hold_while is not None and bool(self.hold_while()))

    def _deliver_held(self) -> None:
        """Store the result kept for later once nothing holds it any more."""
        if self._held is None:
            self._recheck.stop()
            return
        if self._must_wait():
            if not self._holding:   # a drag: look again shortly (holding() delivers on leaving)
                self._recheck.start()
            return
        self._recheck.stop()
        held, self._held = self._held, None
        try:
            self._deliver(*held)
        finally:
            self.changed.emit()     # a note that it waited goes

    def start(self, detector, frames: list[int], done: Callable[[dict, bool, list, dict | None, list], object],
              min_score: float | None = None, quick: bool = False) -> bool:
        """Detect on ``frames`` in the background, then call ``done(detections, cancelled, skipped,
        prelabels, notes)``: with ``min_score``, ``prelabels`` are the detections to store
        (:func:`~fusionlabel.assist.edit_assist.prelabels_to_store`, tracked on a sequence), made
        in the background too; else None. ``notes``: what the detector's input left out (text).
        False (and nothing started) while another run is going or its result is not stored yet
        (the worker ended but its result is still queued for this thread). ``quick``: a short run
        (one frame) without the dialog, on a worker thread of this process (module docstring)."""
        if self.running or self.busy:
            return False
        self._cancel.clear()
        self._done = done
        self._detector = detector
        self.note = ""
        self.detector_name = detector.name
        self.quick = quick
        self.frames = list(frames)
        self._shown = True
        self._progress = (0, len(frames))
        if not quick:
            self.dialog = self._open_dialog(detector, len(frames))
        made = None if quick else recipes(self.drive, detector)
        self._process = None
        if made is not None:
            try:
                self._process = DetectProcess(*made, list(frames), len(self.drive), min_score=min_score)
            except DetectProcessError as e:
                self._warn(f"pre-label: {e}; the detector runs in this process instead (frame steps may be "
                           "slower until it is done)")
        if self._process is not None:
            target, args = self._relay, (self._process, len(frames))
        else:
            target, args = self._run, (detector, list(frames), min_score)
        self._thread = threading.Thread(target=target, args=args, name="fusionlabel-prelabel", daemon=True)
        self._thread.start()
        self.changed.emit()
        return True

    def _open_dialog(self, detector, total: int) -> QProgressDialog:
        """The non-modal progress dialog of a long run, shown."""
        parent = self.parent()
        dialog = QProgressDialog(f"Pre-labelling {total} frames with {detector.name}…", "Cancel", 0,
                                 total, parent)
        dialog.setWindowTitle("Pre-label")
        dialog.setWindowModality(Qt.WindowModality.NonModal)
        # It must not take the keyboard: the annotator keeps working in the main window.
        dialog.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        dialog.setWindowFlag(Qt.WindowType.WindowDoesNotAcceptFocus)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setMinimumDuration(0)
        dialog.canceled.connect(self.cancel)
        dialog.setValue(0)
        dialog.show()
        return dialog

    def cancel(self, wait: float = 0.0) -> None:
        """Ask the worker to stop after its current frame (and wait up to ``wait`` seconds)."""
        self._cancel.set()
        if self._process is not None:
            self._process.cancel()
        self.changed.emit()
        if wait and self._thread is not None:
            self._thread.join(wait)

    def shutdown(self, wait: float = 5.0) -> None:
        """The window is closing: stop the worker and drop its results (the run's, never an edit)."""
        self._done = None
        self._held = None
        self._recheck.stop()
        if self._process is not None:
            self._process.kill()
        self.cancel(wait)
        self._close_dialog()
        self.changed.emit()

    def _warn(self, text: str) -> None:
        if self.on_warning is not None:
            self.on_warning(text)
        else:
            log.warning("%s", text)

    def _run(self, detector, frames: list[int], min_score: float | None) -> None:
        """Worker thread of a run in this process (the detector counts its invalid boxes itself; its
        notes are taken here, by the thread that fed it)."""
        skipped: list = []
        try:
            found = detect_frames(self.drive, detector, frames, progress=self._emit_progress,
                                  cancelled=self._cancel.is_set, errors=skipped)
            notes = detector.take_notes() if hasattr(detector, "take_notes") else []
            prelabels = None if min_score is None else \
                prelabels_to_store(self.drive, found, min_score, tracked_run(self.drive, found))
        except Exception as e:  # noqa: BLE001 - any detector failure becomes a message
            self._safe_emit("failed", f"pre-label failed: {type(e).__name__}: {e}")
            return
        self._safe_emit("finished", found, len(found) + len(skipped) < len(frames), skipped, prelabels, 0, notes)

    def _relay(self, process: DetectProcess, total: int) -> None:
        """Worker thread of a run in a child process: its messages become this runner's signals
        (the invalid boxes its detector dropped are counted on the GUI thread, :meth:`_on_finished`)."""
        for message in process.messages():
            if message[0] == "progress":
                self._emit_progress(*message[1:])
            elif message[0] == "done":
                found, skipped, invalid, notes, prelabels = message[1:]
                self._safe_emit("finished", found, len(found) + len(skipped) < total, skipped, prelabels, invalid,
                                notes)
            else:
                self._safe_emit("failed", f"pre-label failed: {message[1]}")

    def _emit_progress(self, done: int, total: int) -> None:
        self._safe_emit("progressed", done, total)

    def _safe_emit(self, signal: str, *args) -> None:
        """Emit this runner's signal ``signal`` from the worker thread; nothing when the runner
        (with its window) is gone: reading the signal off a deleted runner raises too."""
        try:
            getattr(self, signal).emit(*args)
        except RuntimeError:  # the window is gone
            pass

    # ------------------------------------------------------------------ GUI thread
    def _on_progress(self, done: int, total: int) -> None:
        if not self._shown:
            return
        self._progress = (done, total)
        if self.dialog is not None:
            self.dialog.setMaximum(total)
            self.dialog.setValue(done)
            self.dialog.setLabelText(f"Pre-labelling with {self.detector_name}: frame {done} of {total}{self.note}")
        self.changed.emit()

    def _close_dialog(self) -> None:
        if self._shown and self.dialog is None:   # a quick run: only the status bar's note goes
            self._shown = False
            self.changed.emit()
        if self.dialog is not None:
            self._shown = False
            had_focus = self.dialog.isActiveWindow()
            self.dialog.canceled.disconnect()
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None
            self.changed.emit()
            parent = self.parent()
            if parent is not None and parent.isVisible():
                if had_focus:
                    parent.activateWindow()
                take_activation_back(parent)   # no window may be active once the dialog is unmapped

    def set_note(self, note: str) -> None:
        """Say ``note`` after the progress in the dialog from now on."""
        self.note = note
        self._on_progress(*self._progress)

    def _on_finished(self, detections: dict, cancelled: bool, skipped: list, prelabels, invalid: int,
                     notes: list) -> None:
        detector, self._detector = self._detector, None
        if invalid and hasattr(detector, "invalid_boxes"):
            detector.invalid_boxes += invalid  # the child's detector's count, as if it had run here
        self._close_dialog()
        self._thread = self._process = None
        self._held = (detections, cancelled, skipped, prelabels, notes)
        self._deliver_held()
        if self.waiting_for_drag:
            self.changed.emit()     # the status bar says the result waits for the drag to end

    def _deliver(self, detections: dict, cancelled: bool, skipped: list, prelabels, notes: list) -> None:
        done, self._done = self._done, None
        if done is not None:
            done(detections, cancelled, skipped, prelabels, notes)

    def _on_failed(self, text: str) -> None:
        self._close_dialog()
        self._thread = self._process = self._detector = None
        self._done = None
        if self.on_error is not None:
            self.on_error(text)
