"""``--frames``: the one frame selection syntax of every command that takes it (prelabel, export,
import, check, eval).

A spec is comma-separated parts, each a frame ID (``000042``), an index (``3``; ``-1`` is the last
frame) or an inclusive range ``A-B`` whose ends are IDs or indices (``0-9`` is ten frames,
``000010-000019`` too on a drive whose IDs those are). ``A:B`` is refused: ``prelabel`` once read it
as a Python slice (B excluded) and ``export`` as a range (B included), so no one meaning is safe.
"""

from __future__ import annotations

from ..errors import InputError
from .drive import Drive

FRAMES_SYNTAX = "frame IDs, indices (-1 = last) and inclusive ranges A-B, comma-separated, e.g. '0-9,15,000042'"
FRAMES_HELP = f"frames: {FRAMES_SYNTAX} (default all)"


def consecutive_runs(indices: list[int]) -> list[list[int]]:
    """Sorted frame indices as runs of consecutive ones: [0, 1, 2, 5] -> [[0, 1, 2], [5]]."""
    runs: list[list[int]] = []
    for i in indices:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _fail(problem: str) -> InputError:
    return InputError(None, problem, where="--frames")


def _colon(part: str) -> InputError:
    a, _, b = part.partition(":")
    hint = ""
    if a.strip().isdigit() and b.strip().isdigit() and int(b) > int(a):
        lo, hi = int(a), int(b)
        hint = f" (e.g. '{lo}-{hi - 1}' for frames {lo} to {hi - 1}, '{lo}-{hi}' for {lo} to {hi})"
    return _fail(f"{part!r}: A:B is not accepted, write an inclusive range A-B{hint}; "
                 f"expected {FRAMES_SYNTAX}")


def _one(drive: Drive, text: str, part: str) -> int:
    try:
        return drive.index_of(text)
    except KeyError as e:
        raise _fail(f"{e.args[0]} (in {part!r}; expected {FRAMES_SYNTAX})") from None


def parse_frames(spec: str, drive: Drive) -> list[int]:
    """Frame indices of a ``--frames`` spec (see the module docstring), in the order given,
    duplicates dropped. A bad part, a frame the drive lacks, a range that ends before it starts,
    or a spec selecting nothing is an :class:`~fusionlabel.errors.InputError` naming ``--frames``."""
    out: list[int] = []
    for part in (p.strip() for p in str(spec).split(",")):
        if not part:
            continue
        if (i := drive.index_of_id(part)) is not None:     # a whole frame ID, even one holding '-'
            out.append(i)
            continue
        if ":" in part:
            raise _colon(part)
        cut = part.find("-", 1)     # a leading '-' is a negative index's sign
        if cut < 0:
            out.append(_one(drive, part, part))
            continue
        a, b = part[:cut].strip(), part[cut + 1:].strip()
        if not a or not b:
            raise _fail(f"{part!r}: a range needs both ends, like 0-9; expected {FRAMES_SYNTAX}")
        lo, hi = _one(drive, a, part), _one(drive, b, part)
        if lo > hi:
            raise _fail(f"range {part!r} is empty: frame {a} comes after frame {b}")
        out.extend(range(lo, hi + 1))
    if not out:
        raise _fail(f"{spec!r} selects no frames; expected {FRAMES_SYNTAX}")
    seen: set[int] = set()
    return [i for i in out if not (i in seen or seen.add(i))]
