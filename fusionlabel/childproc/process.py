"""A child Python process that gets one job and answers with messages of :mod:`.messages`
(Qt-free): the way the app runs long work (pre-labelling, label checks) away from its interpreter
lock. The child is ``python -m MODULE`` of this copy of fusionlabel; the parent writes one job
message to its stdin, one more byte (or the end of stdin: the parent died) asks it to stop, and it
writes its messages to its stdout. :class:`~fusionlabel.assist.detect_process.DetectProcess` and
:class:`~fusionlabel.qa.check_process.CheckProcess` are the two kinds."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable, Iterator

from ..errors import FusionLabelError
from .messages import WireError, expect, is_int, read_message, write_message
from .threads import one_thread_env


class ChildStartError(FusionLabelError):
    """The child process cannot be started here (a frozen executable, no interpreter)."""


def python_command(module: str, what: str, error: type = ChildStartError) -> list[str]:
    """The command line running ``module`` with this interpreter; ``error`` in a frozen
    executable, where ``sys.executable`` is the program itself, not Python."""
    if getattr(sys, "frozen", False):
        raise error(f"the {what} cannot run in a separate process from a frozen executable "
                    f"({sys.executable} is not a Python interpreter)")
    return [sys.executable, "-m", module]


def child_env() -> dict[str, str]:
    """The environment of a child: this one, with ``PYTHONPATH`` leading to this copy of
    fusionlabel, so that the child imports it even when the caller found it through sys.path, and
    the math libraries on one thread unless set otherwise (:data:`.threads.ONE_THREAD`)."""
    package_root = str(Path(__file__).resolve().parents[2])
    env = one_thread_env(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
    return env


class WireProcess:
    """One child running ``command`` and given the job message ``(kind, body, arrays)``; read its
    replies with :meth:`messages`. ``what`` names it in messages (``detector``); ``error`` is raised
    when it cannot be started."""

    def __init__(self, command: list[str], job: tuple, what: str, error: type = ChildStartError):
        self.killed = False
        self.what = what
        try:
            self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=child_env())
        except OSError as e:
            raise error(f"cannot start the {what} process {command[0]}: {e.strerror or e}") from None
        try:
            write_message(self.proc.stdin, *job)
        except OSError:  # the child died at once: messages() says so
            pass

    @property
    def pid(self) -> int:
        return self.proc.pid

    def messages(self, reply: Callable, last: Callable[[tuple], bool]) -> Iterator[tuple]:
        """The child's messages as they come (blocking), each made a tuple by ``reply`` (WireError
        when malformed), up to the first that ``last`` says ends the job (none after :meth:`kill`).
        A malformed message ends the child and becomes a ``("failed", text)`` one, and so does
        the child ending without its last message."""
        while True:
            try:
                message = read_message(self.proc.stdout)
                if message is not None:
                    message = reply(message)
            except Exception as e:  # noqa: BLE001 - whatever goes wrong, the relay ends with a message
                if isinstance(e, (OSError, ValueError)) and not isinstance(e, WireError):
                    message = None  # the pipe is closed: kill() during a read
                else:
                    if self.proc.poll() is None:
                        self.proc.kill()
                    self._finish()
                    if not self.killed:
                        yield ("failed", f"the {self.what} process sent a malformed message ({e})"
                               if isinstance(e, WireError)
                               else f"the {self.what} process's message could not be read ({type(e).__name__}: {e})")
                    return
            if message is None:
                code = self._finish()
                if self.killed:  # as asked: nobody waits for a message
                    return
                yield ("failed", f"the {self.what} process ended unexpectedly (exit code {code})")
                return
            yield message
            if last(message):
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
        """Ask the child to stop after its current step."""
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


def child_streams() -> tuple:
    """In the child: (the stream its messages go to, its stdin read unbuffered). Anything the
    child prints goes to stderr, so that it cannot break the messages."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    # Plain reads of the descriptor: a thread blocked in a buffered stdin aborts the exit.
    return out, open(0, "rb", buffering=0, closefd=False)


def start_child(parse: Callable, what: str, on_stop: Callable[[], None]) -> tuple:
    """In the child: (the stream its messages go to, its job checked by ``parse``, or None when
    there is none). With a job, the child's CPU priority is lowered to the job's ``nice`` and a
    thread calls ``on_stop`` once the parent writes a byte or closes stdin (it asks to stop, or is
    gone)."""
    out, stdin = child_streams()
    job = read_job(stdin, out, parse, what)
    if job is None:
        return out, None
    try:
        os.nice(job["nice"])
    except (AttributeError, OSError):
        pass

    def watch_stdin() -> None:
        os.read(0, 1)
        on_stop()

    threading.Thread(target=watch_stdin, daemon=True).start()
    return out, job


def read_job(stdin, out, parse: Callable, what: str):
    """In the child: the parent's job message read from ``stdin`` and checked by ``parse``; None
    when there is none (the parent is gone) or it cannot be read, which ``out`` is told."""
    try:
        with stdin:
            message = read_message(stdin)
            if message is None:  # no job: the parent is gone
                return None
            return parse(message)
    except WireError as e:
        write_message(out, "failed", f"the {what} process got a malformed job ({e})")
    except OSError:  # no job: the parent is gone
        pass
    except Exception as e:  # noqa: BLE001 - a job that cannot be read still gets an answer
        write_message(out, "failed", f"the {what} process could not read its job ({type(e).__name__}: {e})")
    return None


def take_drive_recipe(drive) -> tuple:
    """A job's drive recipe (:attr:`Drive.opened_as`) checked: (path, scene, image size)."""
    expect(isinstance(drive, list) and len(drive) == 3 and isinstance(drive[0], str)
           and (drive[1] is None or isinstance(drive[1], str))
           and (drive[2] is None or (isinstance(drive[2], list) and len(drive[2]) == 2 and all(map(is_int, drive[2])))),
           "drive must be [path, scene or null, [width, height] or null]")
    return drive[0], drive[1], None if drive[2] is None else tuple(drive[2])
