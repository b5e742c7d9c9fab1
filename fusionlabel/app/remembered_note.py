"""What the attribute panel says while no cuboid is selected but the app remembers tracks (H marked
them, Shift+H took back the frame's marks, or their absent entry was chosen in the object list):
which tracks, whether each is marked absent in the frame shown, and which keys act on them. Qt-free.
"""

from __future__ import annotations

from ..wording import counted, listing, track_text
from .list_order import nearest_class


def finding_elsewhere(session) -> str | None:
    """Why H does nothing here: the remembered tracks came from a label check's finding in another
    frame (:attr:`Session.marked_for`), and H marks them in that frame only ("track 7 is remembered
    for the label check's finding in frame 000011, not this frame: its cuboid here stays; H marks
    it absent in frame 000011, or select its cuboid here first"). None when H acts here."""
    found = session.marked_for
    tracks = session.followed_tracks()
    if found is None or found == session.frame or session.selection or not tracks:
        return None
    frames = session.drive.frames
    one = len(tracks) == 1
    boxed = any(session.document.find_track(t, session.frame) is not None for t in tracks)
    stays = (f": {'its cuboid' if one else 'their cuboids'} here {'stays' if one else 'stay'}; " if boxed
             else "; ")
    select = f", or select {'its cuboid' if one else 'their cuboids'} here first" if boxed else ""
    return (f"track {', '.join(tracks)} {'is' if one else 'are'} remembered for the label check's finding in frame "
            f"{frames[found].frame_id}, not this frame{stays}H marks {'it' if one else 'them'} absent in frame "
            f"{frames[found].frame_id}{select}")


def remembered_note(session) -> tuple[str, list[str]] | None:
    """(title, lines) for the tracks ``session`` remembers (:meth:`Session.followed_tracks` with
    nothing selected): "track 7 (car)", then per track "Marked absent in frame 000012 (H): no
    cuboid here, nothing to edit; marked in 3 frames (000012, 000013, 000014)" (the frames only
    when they are more than this one) or "H marks it absent in frame 000012 too" (after a label
    check's finding in another frame: "H marks it absent in frame 000011 only …"), then the keys
    (Shift+H, ] and [, Esc); None while a cuboid is selected or no track is remembered."""
    if session.selection:
        return None
    tracks = session.followed_tracks()
    if not tracks:
        return None
    doc, frame = session.document, session.frame
    frame_id = session.drive.frames[frame].frame_id
    one = len(tracks) == 1
    lines, marked_any = [], False
    for track in tracks:
        absent = doc.absent_frames(track)
        marked_any |= bool(absent)
        where = (f"; marked in {counted(len(absent), 'frame')} "
                 f"({listing(session.drive.frames[f].frame_id for f in absent)})" if absent and absent != [frame] else "")
        head = "" if one else f"track {track_text(track)}: "
        if doc.is_absent(track, frame):
            lines.append(f"{head}Marked absent in frame {frame_id} (H): no cuboid here, nothing to edit{where}")
        elif finding_elsewhere(session):
            box_here = doc.find_track(track, frame) is not None
            lines.append(f"{head}H marks it absent in frame {session.drive.frames[session.marked_for].frame_id} "
                         f"only (the label check's finding){': its cuboid here stays' if box_here else ''}{where}")
        else:
            box_here = doc.find_track(track, frame) is not None
            lines.append(f"{head}H marks it absent in frame {frame_id} too"
                         f"{' (deleting its cuboid here)' if box_here else ''}{where}")
    its, it = ("its", "it") if one else ("their", "them")
    keys = ([f"Shift+H takes back {its} marks in every frame"] if marked_any else []) + [
        f"] and [ go to {its} next and previous cuboid" if any(doc.track_frames(t) for t in tracks) else None,
        f"Esc forgets {it}"]
    lines.append("; ".join(k for k in keys if k) + ".")
    names = ", ".join(f"{track_text(t)} ({nearest_class(doc, t, frame) or 'no cuboid left'})" for t in tracks)
    return f"{'track' if one else 'tracks'} {names}", lines
