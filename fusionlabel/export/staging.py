"""Output folders written whole or not at all, by one run at a time (``export``, ``import``,
``simulate``; ``prelabel --out`` takes the same lock, :func:`output_lock`).

A run creates ``--out`` if it is missing and locks it (``OUT/.fusionlabel-lock``, an
``fcntl.flock`` that dies with the process), writes everything into a staging folder inside it
(``OUT/.fusionlabel-partial``) and only when it succeeded moves what it wrote into ``--out``,
replacing what an earlier run of the tool had written there (a ``--force`` re-run). Everything
stays inside ``--out``: its parent need not be writable, it may be a mount point, and the folder
itself (inode, mode, owner, group) is never replaced. A run that fails or is stopped removes its
staging folder and leaves ``--out`` as it was (a folder it created is removed again, with the
parent folders it created); one killed outright (SIGKILL, power loss) leaves the staging folder
behind, and the next run into the same ``--out`` removes it. The hidden names are listed in
:mod:`.run_files`.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import socket
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from ..deferred_signals import signals_deferred
from ..errors import InputError
from ..files import write_atomic
from ..store.lock import ProjectLock
from .base import ExportError
from .run_files import LOCK_NAME, OLD_NAME, STAGING_NAME


# The app's pid, set in the environment of the exports it starts (app.export_runner): an export
# writes it into its lock file, so that another export refused there can say it is this app's own.
APP_PID_VAR = "FUSIONLABEL_APP_PID"
_HOLDER = re.compile(r"pid (\d+) on (\S+) since (.+?)(?:, started from the app \(pid (\d+)\))?")


class OutputError(ExportError):
    """``--out`` cannot be used or written (a file in the way, another run writing it, a full disk)."""


@dataclass
class Staged:
    """One run's output: the user's folder, where the run writes, and what is in the folder now.

    Attributes:
        out: the ``--out`` folder (it may not exist yet), symbolic links resolved.
        staging: where the run writes; its top-level entries replace ``replaced`` on success.
        replaced: top-level names in ``out`` an earlier run of the tool wrote.
        kept: the other top-level names in ``out``: left in place, never written into.
        given: ``--out`` as given, named in messages.
    """

    out: Path
    staging: Path
    replaced: set[str] = field(default_factory=set)
    kept: set[str] = field(default_factory=set)
    given: Path | None = None

    def shown(self, path: str | Path) -> Path:
        """``path`` inside the staging folder as the user will find it in ``out``."""
        try:
            return (self.given or self.out) / Path(path).relative_to(self.staging)
        except ValueError:
            return Path(path)


class OutputLock(ProjectLock):
    """:class:`~fusionlabel.store.lock.ProjectLock` on a lock file that its holder deletes when done.
    A run that opened the file just before it was deleted then holds a lock nobody else sees, so
    :meth:`acquire` checks that the locked file is still the one at the path, and retries if not."""

    def acquire(self) -> bool:
        while super().acquire():
            try:
                if os.stat(self.path).st_ino == os.fstat(self._fd).st_ino:
                    return True
            except FileNotFoundError:
                pass
            super().release()    # not ours to delete: the file at the path is another run's
        return False

    def record(self) -> str:
        """Who holds the lock, and the app that started the run when one did (:data:`APP_PID_VAR`)."""
        app = os.environ.get(APP_PID_VAR, "")
        return super().record() + (f", started from the app (pid {app})" if app.isdigit() else "")

    def release(self) -> None:
        if self.held:
            try:
                self.path.unlink(missing_ok=True)     # while held: the next run makes a new one
            except OSError:
                pass
        super().release()


def check_out_path(out: Path, source: Path | None, what: str = "source drive") -> None:
    """OutputError when ``out`` cannot be an output folder: a file, under a file, or the source
    (``what``: the source drive, or a project), inside it or a folder holding it."""
    if out.exists() and not out.is_dir():
        raise OutputError(out, "exists and is a file; expected an output folder", where="--out")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(out, f"cannot be made: {parent} is a file, not a folder", where="--out")
            break
    if source is not None:
        src, dst = Path(source).resolve(), out.resolve()
        where = (f"is the {what}" if dst == src else f"is inside the {what}" if src in dst.parents
                 else f"holds the {what}" if dst in src.parents else None)
        if where:
            raise OutputError(out, f"{where} {source}; writing there is always refused: choose another folder",
                              where="--out")


@contextmanager
def output_lock(out: Path, given: Path | None = None) -> Iterator[list[Path]]:
    """Hold the lock of the output folder ``out`` (``out/.fusionlabel-lock``) for the block,
    creating ``out`` and its missing parents first; yields the folders it created, deepest last.

    Raises :class:`OutputError` when another run holds it, in this process or another, saying which
    (naming ``given``, ``--out`` as given),
    an ``OSError`` when the folder or the lock file cannot be made. When the block ends, however it
    ends, the lock file is deleted and the folders it created are removed again if they are empty
    (a failed first run into a new ``--out`` leaves nothing)."""
    given = given or out
    made: list[Path] = []
    lock = OutputLock(out / LOCK_NAME)
    try:
        for _ in range(10):    # another run may remove a folder it made just before the lock is taken
            made += _make_folders(out)
            try:
                taken = lock.acquire()
                break
            except FileNotFoundError:
                continue
        else:
            taken = lock.acquire()
        if not taken:
            raise OutputError(given, f"{_writer(lock)}; wait for it to end or choose another folder", where="--out")
        yield made
    finally:
        lock.release()
        for folder in reversed(made):
            try:
                folder.rmdir()
            except OSError:    # not empty (the run's output, someone else's file): stays
                break


def _writer(lock: OutputLock) -> str:
    """Who holds ``lock`` that :meth:`~OutputLock.acquire` was refused: this process (a run into the
    same folder not ended yet, e.g. a batch call re-entering), an export started from the same app
    as this run (another window's), from another app, or another run (who, as it wrote it)."""
    if lock.held_here:
        return "this fusionlabel process is already writing this folder (an earlier run into it has not ended)"
    holder = lock.holder()
    found = _HOLDER.fullmatch(holder)
    if found is None or found[4] is None:
        return f"another fusionlabel run is writing this folder ({holder or 'unknown process'})"
    pid, host, since, app = found.groups()
    mine = os.environ.get(APP_PID_VAR)
    if app == mine and host == socket.gethostname():
        return f"an export started from this app (pid {pid}, since {since}) is writing this folder"
    return (f"an export started from {'another' if mine else 'a'} fusionlabel app (pid {app} on {host}) is writing "
            f"this folder (pid {pid} since {since})")


def _make_folders(out: Path) -> list[Path]:
    """Create ``out`` and its missing parents; the folders this call created, outermost first."""
    missing = [p for p in (out, *out.parents) if not p.exists()][::-1]
    made = []
    for folder in missing:
        try:
            folder.mkdir()
            made.append(folder)
        except FileExistsError:
            pass
    return made


@contextmanager
def staged_output(out: str | Path, names: Callable[[Path], tuple[set[str], set[str]]], manifest: str,
                  source: Path | None = None):
    """Lock ``out`` (:func:`output_lock`), and yield a :class:`Staged` whose ``staging`` folder
    (inside ``out``) the block writes into; when the block ends normally, what it wrote is moved
    into ``out`` (:func:`_swap_in`).

    ``names(out)`` checks the folder as it is (refusing it with an error) and gives the top-level
    names an earlier run wrote there and those left alone (never the run's own hidden names,
    :mod:`.run_files`). An ``OSError`` of the run becomes one :class:`OutputError` naming the file
    (as it would be in ``out``) and why, e.g. ``No space left on device``; whatever the way the run
    ends but success, ``out`` is left as it was."""
    given = Path(out)
    check_out_path(given, source)
    out = Path(os.path.realpath(given))     # "." has a name; a link is followed
    if out == Path(out.anchor):
        raise OutputError(given, "is the root of the filesystem; choose a folder", where="--out")
    staged = Staged(out, out / STAGING_NAME, given=given)
    existed = out.is_dir()
    try:
        with output_lock(out, given):
            for leftover in (staged.staging, out / OLD_NAME):   # of a run that was killed outright
                remove_tree(leftover)
            staged.replaced, staged.kept = names(given)
            staged.staging.mkdir()
            try:
                yield staged
                with signals_deferred():
                    _swap_in(staged, manifest)
            finally:
                with signals_deferred():
                    remove_tree(staged.staging)
    except OSError as e:
        raise write_error(e, staged, existed) from None
    except InputError as e:
        if e.path is not None and staged.staging in e.path.parents:   # e.g. an image that could not be written
            if isinstance(e.__cause__, OSError):    # a writer's own one-line error: say what became of --out too
                e.problem = f"{e.problem}; {staged.given or staged.out} {_what_became(existed)}"
            named_in_out(e, staged.shown(e.path))
        raise


def named_in_out(e: InputError, path: Path) -> None:
    """Make ``e`` name ``path`` (a staged file as it would be in ``--out``) instead of its own path."""
    e.path = path
    loc = f"{path}: {e.where}" if e.where else str(path)
    e.args = (f"{loc}: {e.problem}",)


def write_error(e: OSError, staged: Staged, existed: bool = True) -> OutputError:
    """One line for an ``OSError`` of a run: the file (as it would be in ``--out``) and why, e.g.
    ``No space left on device``, and that ``--out`` is as it was (``existed``: it was there before
    the run)."""
    out = staged.given or staged.out
    path = Path(e.filename) if e.filename else out
    if path in (staged.staging, staged.out / LOCK_NAME, staged.out / OLD_NAME):
        path = out
    why = e.strerror or str(e)
    if e.errno is None and "requested and" in why:    # a short write (NumPy's tofile) on a full disk
        why = f"{os.strerror(errno.ENOSPC)} ({why})"
    left = _what_became(existed)
    shown = staged.shown(path)
    if shown == path and path != out and out not in path.parents:     # not a file of the output
        return OutputError(path, f"{why}; {out} {left}")
    return OutputError(shown, f"cannot write: {why}; {out} {left}")


def _what_became(existed: bool) -> str:
    """What a failed run left of ``--out``: as it was, or (a folder the run made) nothing."""
    return "left as it was" if existed else "not created"


def remove_tree(path: Path) -> None:
    """Delete ``path`` (a folder, a file, or nothing)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


def _swap_in(staged: Staged, manifest: str) -> None:
    """Move the staging folder's entries into ``out``, the manifest last, after moving aside what an
    earlier run wrote there (into ``out/.fusionlabel-replaced``, deleted at the end). The caller
    holds Ctrl+C, SIGTERM and SIGHUP meanwhile
    (:func:`~fusionlabel.deferred_signals.signals_deferred`). A run killed in the middle of it leaves
    ``out``'s manifest listing both runs' names as not complete, so the next ``--force`` replaces
    them all."""
    out, staging = staged.out, staged.staging
    new = {p.name for p in staging.iterdir()}
    clash = sorted(new & staged.kept)
    if clash:   # the tools refuse these earlier; never overwrite a file the user put there
        raise OutputError(out / clash[0], "was in the output folder before this run and is not from an earlier "
                                          "fusionlabel run; move it away or choose another folder", where="--out")
    old = out / OLD_NAME
    old.mkdir()
    doc = {Path(manifest).stem: 1, "complete": False, "kept": sorted(staged.kept),
           "written": sorted((staged.replaced | new) - {manifest})}
    write_atomic(out / manifest, (json.dumps(doc, indent=1) + "\n").encode("utf-8"), tmp_folder=old)
    for name in sorted(staged.replaced - {manifest}):
        if (out / name).exists() or (out / name).is_symlink():
            os.rename(out / name, old / name)
    for name in sorted(new - {manifest}):
        os.rename(staging / name, out / name)
    os.replace(staging / manifest, out / manifest)
    remove_tree(old)
