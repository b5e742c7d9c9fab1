"""Where a track's missing box would be in one frame: the box the label checks judge for a
``track-gap`` (interpolated between the track's boxes either side, as ``I`` does) or a ``track-end``
(its first or last box carried one frame on, :mod:`.track_presence`). Qt-free: the app draws it as a
ghost outline where such a finding leads."""

from __future__ import annotations

from ..geometry.cuboid import Cuboid
from ..model.annotation import CuboidLabel
from ..model.drive import Drive
from .label_check import checked_track_frames
from .track_checks import track_boxes
from .track_presence import carried_box, interpolated_boxes


def missing_box(drive: Drive, labels: dict[int, list[CuboidLabel]], track_id: str, index: int) -> Cuboid | None:
    """The box of track ``track_id`` in drive frame ``index`` (its LiDAR frame), where it has none:
    interpolated between its boxes before and after ``index``, or, past either end of the track, its
    end box carried to ``index`` (moving on as between its two boxes nearest that end). ``labels``:
    {drive frame index: labels}, of which only the track's are read. None where the track has a box
    in ``index`` or none at all, or a frame's pose cannot be read."""
    own = {i: kept for i, v in labels.items() if (kept := [lab for lab in v if lab.track_id == track_id])}
    if not own or index in own:
        return None
    first, last = min(own), max(own)
    if first < index < last:      # a gap: every frame of the track's span, as the interpolation sees it
        order = list(range(first, last + 1))
    else:                         # an end: the track's frames and this one next to its end
        order = sorted(set(own) | {index})
    frames = checked_track_frames(drive, {i: own.get(i, []) for i in order}, [], {})
    boxes = track_boxes(frames).get(track_id)
    if len(frames) != len(order) or not boxes:
        return None
    at = order.index(index)
    if first < index < last:
        return interpolated_boxes(frames, boxes, [at]).get(at)
    return carried_box(frames, boxes, 0, -1) if index < first else carried_box(frames, boxes, len(boxes) - 1, 1)
