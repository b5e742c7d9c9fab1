"""One ``fusionlabel export … --json`` at a time in a child process, followed without blocking the
GUI thread (QProcess: no worker thread, no interpreter lock shared with the painting).

The child reads the project from disk, read-only, as the command line does, and writes exactly
what the command writes. Its progress lines (stderr) move :meth:`ExportRunner.progress`, its JSON
summary (stdout) or its one-line error makes the :class:`ExportOutcome`. Cancel sends SIGTERM, on
which the command removes what it had begun and leaves the output folder as it was.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from PyQt6.QtCore import QObject, QProcess, QProcessEnvironment, pyqtSignal

from ..childproc.process import ChildStartError, child_env, python_command
from ..export.staging import APP_PID_VAR
from .export_job import error_of, progress_of, summary_of

STOP_WAIT_MS = 5000   # closing the window: how long the child may take to clean up before it is killed


def export_env() -> dict[str, str]:
    """The environment of an export child: :func:`~fusionlabel.childproc.process.child_env` and this
    app's pid, which the export writes into its output folder's lock, so that an export from
    another window refused there says it is this app's own (:mod:`fusionlabel.export.staging`)."""
    return {**child_env(), APP_PID_VAR: str(os.getpid())}


@dataclass
class ExportOutcome:
    """How an export ended: ``summary`` (its ``--json`` document) when it was written, ``cancelled``
    when Cancel stopped it, else ``error`` in one line."""

    format: str
    out: Path
    summary: dict | None = None
    cancelled: bool = False
    error: str | None = None


class ExportRunner(QObject):
    """Runs one export child; ``changed`` whenever what it shows changes, ``ended(outcome)`` once."""

    changed = pyqtSignal()
    ended = pyqtSignal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.proc: QProcess | None = None
        self.format = ""
        self.out = Path()
        self.done = self.total = 0
        self.cancelling = False
        self._stdout = bytearray()
        self._stderr = bytearray()
        self._pending = ""     # stderr text after its last newline

    @property
    def running(self) -> bool:
        return self.proc is not None

    def progress(self) -> tuple[int, int]:
        """(frames done, frames in all) as the export's last progress line said; (0, 0) before one."""
        return self.done, self.total

    def start(self, arguments: list[str], fmt: str, out: Path) -> None:
        """Run ``fusionlabel`` with ``arguments`` (an export into ``out`` in format ``fmt``).
        ChildStartError when no child can be started here (a frozen executable)."""
        if self.running:
            raise ChildStartError("an export is running already")
        command = python_command("fusionlabel", "export", ChildStartError)
        proc = QProcess(self)
        env = QProcessEnvironment()
        for key, value in export_env().items():
            env.insert(key, value)
        proc.setProcessEnvironment(env)
        proc.setProgram(command[0])
        proc.setArguments(command[1:] + list(arguments))
        proc.readyReadStandardOutput.connect(self._read_stdout)
        proc.readyReadStandardError.connect(self._read_stderr)
        proc.finished.connect(self._finished)
        proc.errorOccurred.connect(self._error)
        self.proc, self.format, self.out = proc, fmt, Path(out)
        self.done = self.total = 0
        self.cancelling = False
        self._stdout.clear()
        self._stderr.clear()
        self._pending = ""
        proc.start()
        self.changed.emit()

    def cancel(self) -> None:
        """Stop the export: the command cleans up and leaves the output folder as it was."""
        if self.proc is not None and not self.cancelling:
            self.cancelling = True
            self.proc.terminate()
            self.changed.emit()

    def shutdown(self, wait_ms: int = STOP_WAIT_MS) -> None:
        """The window closes: stop the child, give it ``wait_ms`` to clean up, then kill it; no outcome."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        for signal in (proc.finished, proc.errorOccurred, proc.readyReadStandardOutput, proc.readyReadStandardError):
            signal.disconnect()
        proc.terminate()
        if not proc.waitForFinished(wait_ms):
            proc.kill()
            proc.waitForFinished(1000)
        self.changed.emit()

    def pid(self) -> int | None:
        return int(self.proc.processId()) if self.proc is not None else None

    def _read_stdout(self) -> None:
        self._stdout += bytes(self.proc.readAllStandardOutput())

    def _read_stderr(self) -> None:
        chunk = bytes(self.proc.readAllStandardError())
        self._stderr += chunk
        text = self._pending + chunk.decode("utf-8", "replace")
        *lines, self._pending = text.split("\n")
        for line in lines:
            found = progress_of(line)
            if found is not None:
                self.done, self.total = found
                self.changed.emit()

    def _finished(self, code: int, status) -> None:
        proc = self.proc
        if proc is None:
            return
        self._read_stdout()
        self._read_stderr()
        summary = summary_of(self._stdout.decode("utf-8", "replace"))
        outcome = ExportOutcome(self.format, self.out)
        if summary is not None:
            outcome.summary = summary
        elif self.cancelling:
            outcome.cancelled = True
        else:
            outcome.error = error_of(self._stderr.decode("utf-8", "replace"), code)
        self._end(outcome)

    def _error(self, error) -> None:
        if error == QProcess.ProcessError.FailedToStart and self.proc is not None:
            self._end(ExportOutcome(self.format, self.out,
                                    error=f"cannot start the export process {self.proc.program()}: "
                                          f"{self.proc.errorString()}"))

    def _end(self, outcome: ExportOutcome) -> None:
        proc, self.proc = self.proc, None
        proc.deleteLater()
        self.changed.emit()
        self.ended.emit(outcome)
