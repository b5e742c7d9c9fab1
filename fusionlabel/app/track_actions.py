"""Track keys: join two tracks (J, then J again on the other track), split a track (K), give a
box's size to its whole track (Shift+S), mark an object absent in a frame (H) and take its marks
back (Shift+H); a class key retypes the whole track (:func:`retype`). Qt-free.

Mixed into :class:`fusionlabel.app.actions.Actions`; each finished key is one command built by
:mod:`fusionlabel.model.edit_actions` (one undo step). A refusal (two boxes of one track in one
frame, nothing to split) is a message, never a change.
"""

from __future__ import annotations

from ..errors import FusionLabelError
from ..model import edit_actions
from .keyframe_note import with_keyframes
from .remembered_note import finding_elsewhere


def frame_namer(session):
    """A function giving a frame index's ID as the drive names it (for messages)."""
    return lambda index: session.drive.frames[index].frame_id


def track_neighbour(doc, track: str, frame: int, direction: int):
    """The cuboid of ``track`` in the nearest frame after (``direction`` > 0) or before (< 0)
    ``frame``, or None."""
    frames = [f for f in doc.track_frames(track) if (f > frame if direction > 0 else f < frame)]
    return doc.find_track(track, frames[0] if direction > 0 else frames[-1]) if frames else None


def set_track(session, track_id: str, uid: str | None = None) -> bool:
    """Move cuboid ``uid`` (default: the one selected cuboid) to track ``track_id`` (the attribute
    panel's track field): one command, or a warning saying why not (several cuboids selected, the
    track already has a cuboid in this frame, an empty id). True when the cuboid is (now) in that track."""
    if uid is None:
        if len(session.selection) != 1:
            session.notify("select one cuboid to set its track (a track holds one cuboid per frame)", "warning")
            return False
        uid = session.selection[0]
    try:
        cmd = edit_actions.set_track(session.document, uid, track_id, frame_namer(session))
    except FusionLabelError as e:
        session.notify(str(e), "warning")
        return False
    bound = session.apply(cmd)
    if bound is not None:
        session.notify(bound.description)
    return cmd is None or bound is not None


def retype_command(session, cls: str):
    """The command that gives the selected cuboids' whole tracks class ``cls`` (None: nothing to change)."""
    return edit_actions.set_class(session.document, session.selection, cls, frame_namer(session))


def retype(session, cls: str, cmd=None, say=None):
    """Give the selected cuboids' whole tracks class ``cls`` (a class key or the attribute panel's
    class box): one command, whose description the status bar shows ("Set class van: track 100,
    20 boxes in frames 000000–000019"), or ``say(description)``. Returns the bound command, or None
    (nothing to change, or refused: a locked class, a read-only project, which the session says)."""
    bound = session.apply(cmd if cmd is not None else retype_command(session, cls))
    if bound is not None:
        session.notify(bound.description if say is None else say(bound.description))
    return bound


class TrackActions:
    """Needs ``self.s`` (a Session), ``self._selection`` from Actions and ``self._build`` and
    ``self._apply_and_tell`` from AssistActions."""

    join_from: str | None = None   # the track marked by the first J, waiting for its target

    def join_track(self):
        """First J marks the selected cuboid's track; J on a cuboid of another track (any frame)
        joins the marked track into that one, which keeps its id and class. J on the marked track
        again, or Esc, cancels."""
        sel = self._selection()
        if not sel:
            return
        track = self.s.document.get(sel[0]).track_id
        marked = self.join_from
        if marked is not None and not self.s.document.track_frames(marked):
            marked = self.join_from = None          # its cuboids were deleted or undone since
        if marked is None:
            self.join_from = track
            self.s.notify(f"join: track {track} marked; select a cuboid of the track to join it into "
                          f"(any frame) and press J again (Esc cancels)")
        elif marked == track:
            self.cancel_join()
        else:
            try:
                cmd = edit_actions.join_tracks(self.s.document, marked, track, frame_namer(self.s))
            except FusionLabelError as e:
                self.s.notify(f"{e}; track {marked} is still marked (J on another track, Esc cancels)", "warning")
                return
            self.join_from = None
            self._apply_and_tell(cmd, "")

    def cancel_join(self) -> bool:
        """Forget the track a first J marked; True when there was one."""
        if self.join_from is None:
            return False
        self.s.notify(f"join cancelled (track {self.join_from} stays as it is)")
        self.join_from = None
        return True

    def _track_key(self, make, nothing: str) -> None:
        """Apply ``make(document, selection, frame_name)``'s command and say what it did, or say
        ``nothing`` (``{tracks}`` in it: the selected cuboids' track ids)."""
        sel = self._selection()
        if sel:
            tracks = ", ".join(dict.fromkeys(str(a.track_id) for a in self.s.selected_annotations()))
            self._apply_and_tell(make(self.s.document, sel, frame_namer(self.s)), nothing.format(tracks=tracks))

    def size_to_track(self):
        """Shift+S: the selected cuboid's size for every box of its track (rigid objects)."""
        self._track_key(edit_actions.size_to_track, "track {tracks} has this size in every frame already")

    def split_track(self):
        """The selected cuboids and the later cuboids of their tracks get new track ids."""
        sel = self._selection()
        if sel:
            cmd, ok = self._build("split", lambda: edit_actions.split_tracks(self.s.document, sel,
                                                                             frame_namer(self.s)))
            if ok:
                self._apply_and_tell(cmd, "split: the selection has no track")

    def mark_absent(self):
        """H: the selected objects are absent in this frame (hidden behind something, out of view):
        their cuboids here are deleted and their tracks marked, so that I and V leave the frame empty.
        The session remembers those tracks (:attr:`Session.marked_tracks`): H with nothing selected
        marks them in the frame shown, so D, H, D, H … marks a stretch. Tracks a label check's
        finding remembered are marked in the finding's frame only; elsewhere H says why it does nothing. The message says how many
        of the deleted cuboids were keyframes, as Del does."""
        s = self.s
        if s.selection:
            anns = [a for a in s.selected_annotations() if a.track_id is not None]
            cmd = edit_actions.mark_absent(s.document, s.selection, frame_namer(s))
            if cmd is None:
                s.notify("absent: the selection has no track (H marks a track's object absent in a frame; "
                         "give the cuboid a track first)")
                return
        elif s.followed_tracks():
            elsewhere = finding_elsewhere(s)
            if elsewhere:
                s.notify(f"H changed nothing: {elsewhere}", "warning")
                return
            cmd, anns = edit_actions.mark_tracks_absent_here(s.document, s.followed_tracks(), s.frame, frame_namer(s))
            if cmd is None:
                tracks = ", ".join(s.followed_tracks())
                s.notify(f"track {tracks} is marked absent in frame {s.drive.frames[s.frame].frame_id} already "
                         "(Shift+H takes its marks back)")
                return
        else:
            self._selection()     # says what to select
            return
        tracks = list(dict.fromkeys(a.track_id for a in anns)) if s.selection else s.followed_tracks()
        text = with_keyframes(cmd.description, s.document, anns)    # counted before the cuboids go
        if s.apply(cmd) is not None:
            s.notify(text)
            s.set_marked_tracks(tracks)

    def unmark_absent(self):
        """Shift+H: take back every absent mark of the selected cuboids' tracks (one undo step).
        With nothing selected, of the tracks the session remembers (H marked them, or their absent
        entry was chosen in the object list), else of the tracks marked absent in the frame shown,
        which the session then remembers as H does: the timeline follows them, ] and [ go to their
        cuboids and H marks them again (D, H … a stretch of your own), until a selection or Esc."""
        s = self.s
        if s.selection:
            self._track_key(edit_actions.unmark_absent, "track {tracks} is marked absent in no frame")
            return
        tracks = s.followed_tracks() or s.document.tracks_absent_in(s.frame)
        if not tracks:
            self._selection()     # says what to select
            return
        if self._apply_and_tell(edit_actions.unmark_tracks_absent(s.document, tracks, frame_namer(s)),
                                f"track {', '.join(tracks)} is marked absent in no frame") is not None:
            s.set_marked_tracks(tracks)
