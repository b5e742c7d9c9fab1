"""Del and Shift+Del: delete the selected cuboids, or their tracks from this frame on, as one
command each, and say in the status bar what went: how many cuboids, in which frames, and how many
of them were keyframes (human or imported boxes, which the frames off screen may hold)."""

from __future__ import annotations

from ..model import edit_actions
from ..model.commands import DeleteTrackFrom
from .keyframe_note import with_keyframes
from .track_actions import frame_namer


def _apply_and_say(session, cmd, anns, text: str) -> None:
    text = with_keyframes(text, session.document, anns)    # counted before the cuboids go
    if session.apply(cmd) is not None:
        session.notify(text)


def delete_selection(session) -> None:
    """Del: the selected cuboids go; "Deleted 3 cuboids (1 keyframe)"."""
    doc = session.document
    anns = edit_actions.selected(doc, session.selection)
    cmd = edit_actions.delete(doc, session.selection)
    if cmd is not None:
        _apply_and_say(session, cmd, anns, f"Deleted {len(anns)} cuboid{'s' if len(anns) != 1 else ''}")


def delete_tracks_from_here(session) -> None:
    """Shift+Del: the selected cuboids' tracks go from this frame on, also in frames not on screen;
    "Deleted 4 cuboids of track 7 in frames 000005–000008 (1 keyframe)"."""
    doc = session.document
    cmd = edit_actions.delete_track_from_here(doc, session.selection, session.frame, frame_namer(session))
    if cmd is None:
        session.notify("nothing to delete: the selection has no track in this frame or later")
        return
    parts = [d for d in cmd.commands if isinstance(d, DeleteTrackFrom)]     # (the rest: absent marks taken back)
    anns = [c for d in parts for c in (doc.find_track(d.track_id, f) for f in doc.track_frames(d.track_id)
                                       if f >= d.frame) if c is not None]
    _apply_and_say(session, cmd, anns, "Deleted" + cmd.description[len("Delete"):])
