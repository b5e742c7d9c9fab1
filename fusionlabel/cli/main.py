"""`fusionlabel` entry point: dispatches to the ``cmd_*`` modules and turns errors into one line."""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import signal
import sys
import threading
from pathlib import Path

from ..errors import FusionLabelError

# Commands in the order --help lists them; any other cmd_*.py module is appended after these.
# Each module defines register(subparsers) (which sets func=run) and run(args) -> int.
PREFERRED_ORDER = ["open", "render", "simulate", "import", "export", "prelabel", "eval"]

# Exit status when stdout's reader went away: that of a process ended by SIGPIPE in a shell.
SIGPIPE_STATUS = 128 + getattr(signal, "SIGPIPE", 13)
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
        return "terminated" if self.signum == signal.SIGTERM else f"stopped by {signal.Signals(self.signum).name}"


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
    code = 0
    try:
        code = _dispatch(argv)
        if sys.stdout is not None:
            sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
    except BrokenPipeError:
        _stdout_closed()
        return code or SIGPIPE_STATUS
    return code


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
        return 2
    except Terminated as e:
        print(f"fusionlabel: {e.text}", file=sys.stderr)
        return e.status
    except KeyboardInterrupt:
        print("fusionlabel: interrupted", file=sys.stderr)
        return 130
    finally:
        restore_signals(previous)


def _stdout_closed() -> None:
    """The reader of our output went away (``fusionlabel eval | head -3``): the command stops quietly,
    as Unix tools do, with :data:`SIGPIPE_STATUS` (unless it had already failed). stdout now points
    at /dev/null so that Python's own flush at exit has nowhere to fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout replaced by an object without a descriptor
        pass


if __name__ == "__main__":
    sys.exit(main())
