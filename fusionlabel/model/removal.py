"""The cuboids an undo or redo step would take away, and whether that is enough to ask first.

Undoing one edit changes what the annotator just worked on. Undoing an import, a pre-label run
over the drive or a delete across frames takes away many cuboids in frames that are not on
screen: a step is *large* when it removes at least :data:`MANY_CUBOIDS` cuboids of more than one
track in more than one frame. The edits of one object (a track interpolated or copied forward)
and of one frame never are. The app asks before a large step (docs/app.md, "Undo").
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable

from ..wording import counted
from .annotation import SOURCES
from .document import Annotation

# A step removing at least this many cuboids, of 2 tracks or more in 2 frames or more, is large.
MANY_CUBOIDS = 10
# How the removed cuboids of each source are named.
SOURCE_NOUNS = {"import": "imported label", "model": "pre-label", "human": "annotated box"}


@dataclass(frozen=True)
class Removal:
    """The cuboids a step removes: how many, in which frames (ascending), of how many tracks, and
    how many of each source (``import``, ``model``, ``human``)."""

    cuboids: int
    frames: tuple[int, ...]
    tracks: int
    by_source: dict[str, int]

    @property
    def is_large(self) -> bool:
        """Whether the step should be confirmed first (see the module docstring)."""
        return self.cuboids >= MANY_CUBOIDS and len(self.frames) > 1 and self.tracks > 1

    def text(self, frame_name: Callable[[int], str] = str) -> str:
        """E.g. *87 cuboids in 4 frames (000000–000003): 80 imported labels, 7 pre-labels*;
        ``frame_name`` turns a frame index into the name to show (its frame ID)."""
        if not self.cuboids:
            return "no cuboid"
        first, last = frame_name(self.frames[0]), frame_name(self.frames[-1])
        where = f"frame {first}" if len(self.frames) == 1 else \
            f"{counted(len(self.frames), 'frame')} ({first}–{last})"
        kinds = ", ".join(counted(self.by_source[s], SOURCE_NOUNS[s]) for s in SOURCES if self.by_source.get(s))
        return f"{counted(self.cuboids, 'cuboid')} in {where}: {kinds}"


def removal(changed: dict[str, tuple[Annotation | None, Annotation | None]]) -> Removal:
    """What a step removes, from its changes as :meth:`~.document.DocState.changed` gives them
    (uid -> (before, after)): the cuboids there before and gone after."""
    gone = [before for before, after in changed.values() if before is not None and after is None]
    tracks = {a.track_id if a.track_id is not None else ("untracked", a.uid) for a in gone}
    return Removal(len(gone), tuple(sorted({a.frame for a in gone})), len(tracks),
                   dict(Counter(a.source for a in gone)))
