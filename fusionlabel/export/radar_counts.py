"""Why a nuScenes export writes a box's ``num_radar_pts`` as 0, said in the summary.

fusionlabel reads no radar: a box's radar count is the one its nuScenes source gave (kept while
the box is imported or edited in its frame, :mod:`.point_recount`). A box without one is written 0,
for one of three reasons:

- the drive has no radar: none of its nuScenes sensors is a radar channel (``RADAR_FRONT`` …) and no
  exported box counts a radar return;
- the box was carried from a box of another frame read from nuScenes, by C (copy), V (propagate)
  or I (interpolate): those drop the count, which counted the returns of the frame the source box
  was in (:mod:`fusionlabel.model.point_counts`); such a box keeps its source's nuScenes fields
  (``nuscenes_token``, ``nuscenes_box``), which no other box without a count has;
- any other box was made in the project (drawn, one-click, detected, or carried from such a box) and
  never had one.
"""

from __future__ import annotations

from ..io.nuscenes_boxes import SOURCE_BOX
from ..model.annotation import CuboidLabel

RADAR_COUNT = "num_radar_pts"
FROM_NUSCENES = (SOURCE_BOX, "nuscenes_token")   # fields only a label read from nuScenes (or carried from one) has


class MissingRadarCounts:
    """The ``num_radar_pts`` of each exported box and what the summary says of those written 0
    (module doc). ``sensors``: the drive's nuScenes sensor channels (channel -> token; empty for a
    drive not read from nuScenes)."""

    def __init__(self, sensors):
        self.radar_sensor = any(str(channel).upper().startswith("RADAR") for channel in sensors)
        self.radar_returns = False      # a box counts a radar return
        self.carried = 0                # boxes carried by C, V or I from a box read from nuScenes
        self.made = 0                   # other boxes without a count

    def count(self, label: CuboidLabel) -> int:
        """The ``num_radar_pts`` written for ``label``: its own, else 0 (and why is kept)."""
        radar = label.attributes.get(RADAR_COUNT)
        if isinstance(radar, int):
            self.radar_returns |= radar > 0
            return radar
        if any(key in label.attributes for key in FROM_NUSCENES):
            self.carried += 1
        else:
            self.made += 1
        return 0

    def notes(self) -> list[str]:
        """The summary's lines on the boxes written 0, one per reason (none when there are none)."""
        if not (self.radar_sensor or self.radar_returns):
            n = self.carried + self.made
            return [f"{RADAR_COUNT} of {n} object(s) written as 0 (no radar in the drive)"] if n else []
        out = []
        if self.carried:
            out.append(f"{RADAR_COUNT} of {self.carried} object(s) copied, propagated or interpolated from another "
                       "frame (C, V, I) written as 0: their source's radar count counted the returns of its own "
                       "frame, and fusionlabel reads no radar to count them again")
        if self.made:
            out.append(f"{RADAR_COUNT} of {self.made} object(s) made in the project (drawn, one-click, detected) "
                       "written as 0: fusionlabel reads no radar to count their returns")
        return out
