"""`fusionlabel` entry point: dispatches to the ``cmd_*`` modules and turns errors into one line.

Exit codes, the same for every command (README.md, "Exit codes"): 0 done; 1 an unexpected internal
error (a bug, with its traceback); 2 bad input or usage, nothing done; 3 done but frames skipped
(``--skip-bad-frames``); 128 + the signal number when stopped by one: 129 SIGHUP, 130 SIGINT
(Ctrl+C), 143 SIGTERM. A reader of the output that goes away (``| head -3``) neither stops a
command nor changes its exit code: what it would still print is dropped. Standard output that
cannot be written for another reason (``> /dev/full``, a full disk) is dropped too, said in one
line on stderr, and makes a command that otherwise succeeded exit 2 (what it printed is lost).
A standard stream closed before the command started (``>&-``, ``2>&-``) is /dev/null to the
command: what it writes there is dropped, and a closed stdout it wrote to is reported as above.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import pkgutil
import signal
import sys
import threading
import traceback
from pathlib import Path

from ..childproc.threads import one_thread_here
from ..deferred_signals import stop_text
from ..errors import FusionLabelError

# Commands in the order --help lists them; any other cmd_*.py module is appended after these.
# Each module defines register(subparsers) (which sets func=run) and run(args) -> int.
PREFERRED_ORDER = ["open", "render", "check", "simulate", "import", "export", "prelabel", "eval"]

# Commands whose work is many small arrays: their math libraries run on one thread unless the user
# set the thread counts (a pool per core only spins there; docs/label_checks.md, "Measured").
ONE_THREAD_COMMANDS = ("check",)

# Exit status after an exception nobody expected (a bug): Python's own for an uncaught one.
INTERNAL_ERROR_STATUS = 1
# Exit status of bad input or usage (FusionLabelError; argparse uses 2 as well).
INPUT_ERROR_STATUS = 2
# Exit status after Ctrl+C (SIGINT).
SIGINT_STATUS = 128 + signal.SIGINT
# Signals that stop a command as Ctrl+C does: a kill (SIGTERM) and a closed terminal or dropped ssh
# session (SIGHUP). The exit status is that of a process the signal ended: 143 and 129.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP (``signum``), raised where the command is: it then cleans up as on Ctrl+C
    (an export, import or simulation leaves ``--out`` as it was) instead of dying half-way."""

    def __init__(self, signum: int = signal.SIGTERM):
        super().__init__(signum)
        self.signum = signum

    @property
    def status(self) -> int:
        return 128 + self.signum

    @property
    def text(self) -> str:
        return stop_text(self.signum)


def _raise_terminated(signum, frame):
    raise Terminated(signum)


def stop_on_signals() -> dict:
    """Make SIGTERM and SIGHUP raise :class:`Terminated` in the main thread; returns the handlers
    replaced, for :func:`restore_signals`. A signal ignored when the command started (``nohup``
    ignores SIGHUP) stays ignored."""
    previous = {}
    if threading.current_thread() is not threading.main_thread():
        return previous
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) != signal.SIG_IGN:
            previous[signum] = signal.signal(signum, _raise_terminated)
    return previous


def restore_signals(previous: dict) -> None:
    """Put back the handlers :func:`stop_on_signals` replaced (one set outside Python, which cannot
    be put back, becomes the default)."""
    for signum, handler in previous.items():
        signal.signal(signum, signal.SIG_DFL if handler is None else handler)


def command_modules() -> list[str]:
    """Names of the ``cmd_*`` modules beside this file, preferred ones first."""
    found = sorted(m.name[4:] for m in pkgutil.iter_modules([str(Path(__file__).parent)])
                   if m.name.startswith("cmd_"))
    return [c for c in PREFERRED_ORDER if c in found] + [c for c in found if c not in PREFERRED_ORDER]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fusionlabel", description="LiDAR + camera 3D annotation toolkit")
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"fusionlabel {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_modules():
        importlib.import_module(f".cmd_{name}", __package__).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    if command_named(sys.argv[1:] if argv is None else argv) in ONE_THREAD_COMMANDS:
        one_thread_here()       # before the commands' modules import numpy
    reopen_closed_descriptors()
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = (ReaderMayLeave(ClosedAtStart() if s is None else s) for s in streams)
    out = sys.stdout
    try:
        code = _dispatch(argv)
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()  # a reader gone shows here, not in the interpreter's exit
        if out is not None and out.lost is not None:
            code = lost_output(out.lost, code)
    finally:
        sys.stdout, sys.stderr = streams
    return code


def reopen_closed_descriptors() -> list[int]:
    """Point the standard descriptors (0, 1, 2) that were closed when the command started (``>&-``)
    at /dev/null, and return them. Otherwise the first file the command opens takes the number, and
    what goes to that stream (a child process's output, a library's C code) lands in the file."""
    closed = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            closed.append(fd)
    for fd in closed:
        devnull = os.open(os.devnull, os.O_RDWR)
        if devnull != fd:
            os.dup2(devnull, fd)
            os.close(devnull)
    return closed


class ClosedAtStart:
    """A standard stream Python left as None, its descriptor closed when the command started:
    every write fails as on a closed descriptor, so that :class:`ReaderMayLeave` drops it and, for
    stdout, :func:`main` says what was lost. Without it ``print(file=sys.stderr)`` would write
    to stdout (``2>&-`` put the notes inside a ``--json`` document)."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "it was closed when the command started")

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def command_named(argv: list[str]) -> str | None:
    """The command of a command line: its first word that is no option (the options before a
    command, ``--help`` and ``--version``, take no value)."""
    return next((word for word in argv if not word.startswith("-")), None)


def lost_output(error: OSError, code: int) -> int:
    """Say on stderr that standard output could not be written (``error``, e.g. a full disk) and
    give the exit code: the command's own, or 2 when it had otherwise succeeded (0): what it
    printed (a summary, a report) is lost, which a script must not take for success."""
    print(f"fusionlabel: cannot write standard output: {error.strerror or error}; what the command printed "
          "there is lost", file=sys.stderr)
    sys.stderr.flush()
    return INPUT_ERROR_STATUS if code == 0 else code


def _dispatch(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        args = parser.parse_args(["open"])  # no command: the app on sample_data/
    previous = stop_on_signals() if args.command != "open" else {}   # the app saves every edit as made
    try:
        return int(args.func(args) or 0)
    except FusionLabelError as e:
        print(f"fusionlabel: error: {e}", file=sys.stderr)
        return INPUT_ERROR_STATUS
    except Terminated as e:
        print(f"fusionlabel: {e.text}", file=sys.stderr)
        return e.status
    except KeyboardInterrupt:
        print("fusionlabel: interrupted", file=sys.stderr)
        return SIGINT_STATUS
    except Exception:  # noqa: BLE001 - a bug: its traceback, and a word on what it is
        traceback.print_exc()
        print("fusionlabel: internal error: this is a bug in fusionlabel; please report it with the lines above",
              file=sys.stderr)
        return INTERNAL_ERROR_STATUS
    finally:
        restore_signals(previous)


class ReaderMayLeave:
    """stdout or stderr for a command whose reader may go away (``fusionlabel export ... | head -3``,
    a log collector that dies): from the first write that finds the pipe closed on, output to it is
    dropped, and the command goes on to its end and its own exit code. Its work (files written, a
    project filled) never depends on anyone reading its messages, and a batch script with
    ``set -o pipefail`` does not see a finished export fail. Another write error (a full disk,
    ``> /dev/full``) drops the output the same way, so the command still ends as it would, and is
    kept in :attr:`lost` for :func:`main` to report. Everything else is the stream's own."""

    def __init__(self, stream):
        self._stream = stream
        self.reader_gone = False
        self.lost: OSError | None = None

    def write(self, text: str) -> int:
        if not self.reader_gone:
            try:
                return self._stream.write(text)
            except OSError as e:
                self._drop(e)
        return len(text)

    def flush(self) -> None:
        if not self.reader_gone:
            try:
                self._stream.flush()
            except OSError as e:
                self._drop(e)

    def _drop(self, error: OSError) -> None:
        """Point the descriptor at /dev/null, so that what the stream still buffers, writes that
        bypass this object and Python's own flush at exit have nowhere to fail; an ``error`` other
        than a broken pipe is kept in :attr:`lost`."""
        self.reader_gone = True
        if not isinstance(error, BrokenPipeError):
            self.lost = error
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, self._stream.fileno())
            finally:
                os.close(devnull)
        except (OSError, ValueError, AttributeError):  # a stream without a descriptor (a test's stand-in)
            pass

    def __getattr__(self, name):
        return getattr(self._stream, name)


if __name__ == "__main__":
    sys.exit(main())
