"""H with nothing selected: mark the tracks H marked last absent in the frame shown, so that
D, H, D, H … marks an occlusion frame by frame. Qt-free; builds one command (one undo step)."""

from __future__ import annotations

from typing import Callable

from ..model import edit_actions
from ..model.commands import Batch, SetAbsent


def mark_tracks_here(doc, tracks, frame: int, frame_name: Callable[[int], str] = str):
    """The command marking ``tracks`` absent in ``frame``: a track's cuboid there is deleted and
    marked (:func:`~fusionlabel.model.edit_actions.mark_absent`), a track without one only gets
    the mark (:class:`~fusionlabel.model.commands.SetAbsent`). Returns (command or None when every
    track is marked there already, the cuboids it deletes). "Track 7 absent in frame 000013"."""
    found = {t: doc.find_track(t, frame) for t in tracks}
    anns = [a for a in found.values() if a is not None]
    bare = [t for t, a in found.items() if a is None and not doc.is_absent(t, frame)]
    cmd = edit_actions.mark_absent(doc, [a.uid for a in anns], frame_name) if anns else None
    if not bare:
        return cmd, anns
    marked = [t for t in found if found[t] is not None or t in bare]
    what = f"Track {marked[0]}" if len(marked) == 1 else f"{len(marked)} tracks"
    deleted = f" ({len(anns)} cuboid{'s' if len(anns) != 1 else ''} deleted)" if anns else ""
    marks = tuple(SetAbsent(t, frame) for t in bare)
    return Batch(((cmd,) if cmd is not None else ()) + marks,
                 f"{what} absent in frame {frame_name(frame)}{deleted}"), anns
