"""Run a detector over frames of a drive in a child process (Qt-free).

A detector on a thread of a GUI process shares its interpreter lock: the frame loader and the
painting then wait behind it (frame steps of a second instead of a tenth). The child is a fresh
``python -m fusionlabel.assist.detect_process`` at a lower CPU priority that opens the drive and
makes the detector again from their recipes (:attr:`Drive.opened_as`, :attr:`Detector.recipe`),
so nothing else of the caller's program is imported or run there.

Protocol: the parent writes one pickled job to the child's stdin (its length first, 8 bytes);
one more byte (or the end of
stdin, e.g. the parent died) asks the child to stop after its current frame. The child writes
pickled messages to its stdout: ``("progress", done, total)`` after each frame, then
``("done", detections, skipped, invalid_boxes)`` or ``("failed", text)``. Anything the detector
prints goes to stderr.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

DETECTOR_NICE = 15  # below the app's frame loader (10): stepping through frames goes first


def recipes(drive, detector) -> tuple | None:
    """(drive recipe, detector recipe) when both can be remade in another process, else None."""
    drive_recipe = getattr(drive, "opened_as", None)
    detector_recipe = getattr(detector, "recipe", None)
    if drive_recipe is None or detector_recipe is None:
        return None
    return drive_recipe, detector_recipe


class DetectProcess:
    """One child process detecting on ``frames``; read its messages with :meth:`messages`."""

    def __init__(self, drive_recipe: tuple, detector_recipe: tuple, frames: list[int], n_frames: int,
                 nice: int = DETECTOR_NICE):
        self.killed = False
        # The child imports this copy of fusionlabel even when the caller found it through sys.path.
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
        self.proc = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=env)
        job = {"drive": drive_recipe, "detector": detector_recipe, "frames": list(frames),
               "n_frames": n_frames, "nice": nice}
        try:
            data = pickle.dumps(job)
            self.proc.stdin.write(len(data).to_bytes(8, "little") + data)
            self.proc.stdin.flush()
        except OSError:  # the child died at once: messages() says so
            pass

    def messages(self) -> Iterator[tuple]:
        """The child's messages as they come (blocking), ending with a "done" or "failed" one (none
        after :meth:`kill`)."""
        while True:
            try:
                message = pickle.load(self.proc.stdout)
            except (EOFError, OSError, pickle.UnpicklingError):
                code = self._finish()
                if self.killed:  # as asked: nobody waits for a message
                    return
                yield ("failed", f"the detector process ended unexpectedly (exit code {code})")
                return
            yield message
            if message[0] != "progress":
                self._finish()
                return

    def _finish(self) -> int:
        """Wait for the child to end and close both pipes to it; its exit code."""
        code = self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except OSError:  # stdin's last flush to a child already gone
                pass
        return code

    def cancel(self) -> None:
        """Ask the child to stop after its current frame (it then sends the frames done)."""
        try:
            self.proc.stdin.write(b"c")
            self.proc.stdin.flush()
        except (OSError, ValueError):  # already gone
            pass

    def kill(self) -> None:
        """End the child now (its results are not wanted)."""
        self.killed = True
        if self.proc.poll() is None:
            self.proc.kill()


def _read_exactly(fd: int, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            raise EOFError("stdin ended")
        data += chunk
    return data


def _child() -> None:
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a print in the detector must not break the messages

    def send(*message) -> None:
        pickle.dump(message, out)
        out.flush()

    try:
        # Plain reads of the descriptor: a thread blocked in a buffered stdin aborts the exit.
        job = pickle.loads(_read_exactly(0, int.from_bytes(_read_exactly(0, 8), "little")))
    except Exception:  # noqa: BLE001 - no job: the parent is gone
        return
    try:
        os.nice(job["nice"])
    except (AttributeError, OSError):
        pass
    stop = threading.Event()

    def watch_stdin() -> None:
        os.read(0, 1)  # a byte, or the end: the parent asks to stop, or is gone
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    try:
        from ..io.drives import open_drive
        from .detector import make_detector
        from .prelabel import detect_frames

        drive = open_drive(*job["drive"])
        if len(drive) != job["n_frames"]:
            raise RuntimeError(f"the drive {job['drive'][0]} now has {len(drive)} frames, not {job['n_frames']}")
        detector = make_detector(*job["detector"])
        skipped: list = []
        found = detect_frames(drive, detector, job["frames"], progress=lambda done, total: send("progress", done, total),
                              cancelled=stop.is_set, errors=skipped)
        send("done", found, skipped, getattr(detector, "invalid_boxes", 0))
    except Exception as e:  # noqa: BLE001 - any detector failure becomes a message
        send("failed", f"{type(e).__name__}: {e}")


if __name__ == "__main__":
    _child()
