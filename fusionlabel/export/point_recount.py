"""LiDAR point counts of exported boxes, counted again where a box is not as imported.

A count (``num_lidar_points``, ``num_lidar_pts``, a detection's ``num_points``) counts the points
of the box as it was made. A box moved, turned or resized in its own frame keeps the old number, so
an export counts it again, in that frame's sweep, once per frame for all such boxes; a box as
imported (:mod:`.as_imported`) keeps its source's number, so a round trip changes nothing. Radar
counts cannot be counted again without the radar: an edited box keeps its imported radar count,
and the summary says how many do (:func:`stale_radar_note`).
"""

from __future__ import annotations

from ..errors import FusionLabelError
from ..geometry.cuboid import count_points_in_cuboids
from ..model.annotation import CuboidLabel
from ..model.point_counts import LIDAR_COUNTS, RADAR_COUNTS, has_lidar_count, with_counted_lidar
from .as_imported import ImportedBoxes

COUNTS = LIDAR_COUNTS + RADAR_COUNTS


def stale_radar_note(n: int, field: str) -> str:
    """The summary's note on ``n`` edited boxes whose radar count ``field`` is the imported one."""
    return (f"{field} of {n} box(es) moved, turned or resized since the import is the imported count "
            "(there is no radar to count it again); their LiDAR counts were counted again")


class PointRecount:
    """Counts the LiDAR points of the edited boxes of each exported frame (module doc), and keeps
    what the summary says about it."""

    def __init__(self, drive):
        self.drive = drive
        self.recounted = 0              # boxes whose LiDAR count was counted again
        self.stale_radar = 0            # edited boxes keeping an imported radar count
        self.unread: list[str] = []     # frames whose sweep could not be read: counts left out

    def labels(self, index: int, labels: list[CuboidLabel], imported: ImportedBoxes) -> list[CuboidLabel]:
        """``labels`` of frame ``index``, the LiDAR counts of those not as ``imported`` counted again
        in the frame's sweep (left out when it cannot be read, as the summary then says)."""
        untouched = imported.untouched(index, labels, COUNTS)
        edited = [k for k, lab in enumerate(labels) if not untouched[k]]
        self.stale_radar += sum(any(key in labels[k].attributes for key in RADAR_COUNTS) for k in edited)
        stale = [k for k in edited if has_lidar_count(labels[k].attributes)]
        if not stale:
            return labels
        try:
            counts = count_points_in_cuboids(self.drive.points(index), [labels[k].box for k in stale])
        except FusionLabelError as e:
            self.unread.append(f"{self.drive.frames[index].frame_id} ({e})")
            counts = [None] * len(stale)
        out = list(labels)
        for k, n in zip(stale, counts):
            out[k] = labels[k].with_(attributes=with_counted_lidar(labels[k].attributes, n))
        self.recounted += len(stale)
        return out

    def notes(self) -> list[str]:
        """What the summary says: boxes counted again, radar counts kept, sweeps not read."""
        out = []
        if self.recounted:
            out.append(f"LiDAR point counts of {self.recounted} box(es) moved, turned or resized since the import "
                       "were counted again in their frame's sweep")
        if self.stale_radar:
            out.append(stale_radar_note(self.stale_radar, "the radar point count"))
        if self.unread:
            out.append("LiDAR point counts of edited boxes left out (the sweep could not be read): frame(s) "
                       + ", ".join(self.unread))
        return out
