"""Which returns of a sweep lie on its estimated ground, kept on disk from one label check to the next.

The ground check (:func:`.box_checks.ground_offsets`) needs, for each sweep, the returns near the
ground that :func:`~fusionlabel.assist.ground.estimate_ground` finds: the largest part of a check's
time. A check after an edit (the app checks again on every ``Ctrl+K``) reads that answer for each
sweep it has seen before instead: one bit per return, in a file named by a hash of the sweep's
points and of everything else the answer depends on (the band around the ground, the estimator's
code, its defaults and its module's constants). A changed sweep or parameter therefore finds no
file and is computed afresh. A file that cannot be read or does not hold what it should (cut
short, altered, another sweep's) is computed again and rewritten; a folder that cannot be written
leaves the check uncached. Neither is ever an error.

The folder: ``$FUSIONLABEL_CACHE_DIR``, else ``$XDG_CACHE_HOME/fusionlabel``, else
``~/.cache/fusionlabel``; the answers go in its ``ground/``, about 2.5 kB for a sweep of 20,000
returns. Deleting it at any time only makes the next check compute them again. It is kept under
:data:`LIMIT_BYTES` (``$FUSIONLABEL_CACHE_MB`` megabytes when set): at most once an hour a check
deletes the answers used longest ago (a hit counts as a use) until it holds 80 % of that.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
from pathlib import Path
from typing import Callable

import numpy as np

from ..files import write_atomic

CACHE_DIR_ENV = "FUSIONLABEL_CACHE_DIR"
CACHE_MB_ENV = "FUSIONLABEL_CACHE_MB"
LIMIT_BYTES = 1 << 30              # 1 GiB: about 400,000 sweeps of 20,000 returns
PRUNE_EVERY_S = 3600.0             # a check looks at the folder's size at most this often
STAMP = ".pruned"                  # the file whose time says when that was last done
MAGIC = b"fusionlabel-ground-1\n"   # the file layout's version: MAGIC, count, bits, digest
DIGEST = 16                        # bytes of the file's own digest, at its end


def user_cache_dir() -> Path:
    """Where fusionlabel keeps what it can compute again: $FUSIONLABEL_CACHE_DIR, else
    $XDG_CACHE_HOME/fusionlabel, else ~/.cache/fusionlabel."""
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fusionlabel"


def ground_folder() -> Path | None:
    """The folder of the cached ground answers (:func:`user_cache_dir`'s ``ground/``); None where
    no home folder can be found (then nothing is cached)."""
    try:
        return user_cache_dir() / "ground"
    except RuntimeError:        # Path.home() without $HOME or a user database entry
        return None


@functools.cache
def _source_digest(path: str) -> bytes:
    try:
        return hashlib.sha256(Path(path).read_bytes()).digest()
    except OSError:         # no source beside the module (a frozen executable): its version stands in
        from .. import __version__
        return __version__.encode()


def estimator_identity() -> bytes:
    """What the ground estimate depends on besides the sweep: the source of
    :mod:`fusionlabel.assist.ground`, :func:`~fusionlabel.assist.ground.estimate_ground`'s
    defaults and the module's constants, as they are now."""
    from ..assist import ground

    defaults = {name: p.default for name, p in inspect.signature(ground.estimate_ground).parameters.items()
                if p.default is not inspect.Parameter.empty}
    constants = {name: value for name, value in sorted(vars(ground).items())
                 if name.isupper() and isinstance(value, (int, float, tuple))}
    return repr((defaults, constants)).encode() + _source_digest(ground.__file__)


def cache_key(points: np.ndarray, parameters: tuple) -> str:
    """Hex name of the answer for the sweep ``points`` (any array) and ``parameters`` (a tuple
    with a stable repr) with the estimator as it is now."""
    points = np.ascontiguousarray(points)
    h = hashlib.sha256(MAGIC + estimator_identity())
    h.update(repr((parameters, points.dtype.str, points.shape)).encode())
    h.update(points.data)
    return h.hexdigest()


def _encode(mask: np.ndarray) -> bytes:
    body = MAGIC + len(mask).to_bytes(8, "little") + np.packbits(mask).tobytes()
    return body + hashlib.blake2b(body, digest_size=DIGEST).digest()


def _decode(data: bytes, count: int) -> np.ndarray | None:
    """The (count,) bool mask a file holds, None if it holds anything else."""
    head = len(MAGIC) + 8
    if (len(data) != head + (count + 7) // 8 + DIGEST or not data.startswith(MAGIC)
            or int.from_bytes(data[len(MAGIC):head], "little") != count):
        return None
    body = data[:-DIGEST]
    if hashlib.blake2b(body, digest_size=DIGEST).digest() != data[-DIGEST:]:
        return None
    return np.unpackbits(np.frombuffer(body, np.uint8, offset=head), count=count).astype(bool)


def cached_mask(folder: Path | None, points: np.ndarray, parameters: tuple, count: int,
                compute: Callable[[], np.ndarray]) -> np.ndarray:
    """The (count,) bool answer ``compute()`` gives for the sweep ``points`` with ``parameters``:
    read from ``folder`` when it holds it, else computed and stored there (``folder`` None:
    always computed, nothing stored)."""
    if folder is None:
        return compute()
    key = cache_key(points, parameters)
    path = folder / key[:2] / f"{key}.bin"
    try:
        mask = _decode(path.read_bytes(), count)
    except OSError:
        mask = None
    if mask is not None:
        try:
            os.utime(path)      # used now: pruning removes the answers used longest ago first
        except OSError:
            pass
        return mask
    mask = np.asarray(compute(), bool)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, _encode(mask))
    except OSError:     # a read-only or full disk: the check goes on uncached
        pass
    return mask


def cache_limit() -> int:
    """The folder's size limit in bytes: ``$FUSIONLABEL_CACHE_MB`` megabytes when it is a number
    above 0, else :data:`LIMIT_BYTES`."""
    try:
        mb = float(os.environ.get(CACHE_MB_ENV, ""))
    except ValueError:
        return LIMIT_BYTES
    return int(mb * 1e6) if mb > 0 else LIMIT_BYTES


def prune(folder: Path | None, limit: int | None = None, every_s: float = PRUNE_EVERY_S) -> int:
    """When ``folder`` holds more than ``limit`` bytes (default :func:`cache_limit`) of answers,
    delete the ones used longest ago until it holds 80 % of it; done at most once per
    ``every_s`` seconds (the :data:`STAMP` file's time). Returns how many files went. Never an
    error: a file that cannot be looked at or deleted is left."""
    import time

    if folder is None or not folder.is_dir():
        return 0
    limit = cache_limit() if limit is None else limit
    stamp = folder / STAMP
    try:
        if time.time() - stamp.stat().st_mtime < every_s:
            return 0
    except OSError:
        pass
    files = []
    for path in folder.glob("??/*.bin"):
        try:
            st = path.stat()
        except OSError:
            continue
        files.append((st.st_mtime, st.st_size, path))
    total = sum(size for _, size, _ in files)
    removed = 0
    if total > limit:
        for _, size, path in sorted(files, key=lambda f: f[0]):
            if total <= 0.8 * limit:
                break
            try:
                path.unlink()
            except OSError:
                continue
            total -= size
            removed += 1
    try:
        stamp.touch()
    except OSError:
        pass
    return removed
