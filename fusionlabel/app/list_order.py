"""What the object list shows, and in which order: its rows filtered by a typed text and sorted by
a column, and below them the tracks marked absent in the frame (:func:`absent_rows`). Qt-free; Tab
and Shift+Tab walk the rows shown, in this order once sorted by a column
(:meth:`Actions.cycle_selection`; unsorted, nearest first: :mod:`.tab_order`).
"""

from __future__ import annotations

from dataclasses import dataclass

COLUMNS = ("track", "class", "points", "status")
ABSENT_STATUS = "absent here (H)"   # an absent entry's status (the filter finds it by this)


@dataclass(frozen=True)
class Row:
    """One cuboid as the list shows it: ``values`` are the cells' texts; ``track_id`` is the whole
    id (the cell may shorten it), ``points`` the LiDAR points inside (None before they are counted)."""

    uid: str
    values: tuple[str, str, str, str]
    track_id: str | None
    points: int | None


def _track_key(track_id: str | None) -> tuple:
    """Numbers in numeric order, then other ids as text, then cuboids without a track."""
    if track_id is None:
        return (2, 0, "")
    text = str(track_id)
    return (0, int(text), text) if text.isdigit() else (1, 0, text.lower())


def sort_key(row: Row, column: str):
    if column == "track":
        return _track_key(row.track_id)
    if column == "points":
        return -1 if row.points is None else row.points
    return row.values[COLUMNS.index(column)].lower()


def filter_rows(rows: list[Row], text: str) -> list[Row]:
    """The rows whose track (whole id), class or status contains ``text`` (any case); all for ""."""
    needle = text.strip().lower()
    if not needle:
        return list(rows)
    return [r for r in rows
            if any(needle in str(v).lower() for v in (r.track_id or "", r.values[1], r.values[3]))]


def ordered_rows(rows: list[Row], text: str = "", column: str | None = None,
                 descending: bool = False) -> list[Row]:
    """Filter, then sort by ``column`` (None: the frame's order, creation order); ties keep the
    frame's order."""
    shown = filter_rows(rows, text)
    if column is None:
        return shown[::-1] if descending else shown
    return sorted(shown, key=lambda r: sort_key(r, column), reverse=descending)


def nearest_class(doc, track: str, frame: int) -> str:
    """The class of ``track``'s cuboid nearest ``frame`` (the earlier one on a tie); "" when it has none."""
    frames = doc.track_frames(track)
    return doc.find_track(track, min(frames, key=lambda f: (abs(f - frame), f))).cls if frames else ""


def absent_rows(doc, frame: int, text: str = "", hidden=frozenset()) -> list[Row]:
    """The tracks marked absent (H) in ``frame``, as the object list shows them under its cuboids:
    one row each with no uid (there is no cuboid), the class of the track's nearest cuboid ("" when
    H took its only one) and the status :data:`ABSENT_STATUS`; those of a class in ``hidden`` left
    out, the rest filtered by ``text`` as the cuboids are, in track order."""
    rows = []
    for track in doc.tracks_absent_in(frame):
        cls = nearest_class(doc, track, frame)
        if cls not in hidden:
            rows.append(Row("", (track, cls, "", ABSENT_STATUS), track, None))
    return filter_rows(rows, text)
