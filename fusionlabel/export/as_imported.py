"""Whether an exported box is still the one its drive came with.

What an import carried over about a box (its LiDAR and radar point counts, nuScenes' visibility)
describes the box as imported: once the box is moved, turned or resized in the app it is stale. An
exporter tells the two apart by what the import kept: a label read from nuScenes keeps the source's
box (``nuscenes_box``, :func:`~fusionlabel.io.nuscenes_boxes.unchanged_source_box`), so it is as
imported while its box is still that one, whichever drive it now comes from (a native copy, a
project); any other label is as imported when one of the drive's own labels of the frame has its
box (centre, size and angles equal to :data:`DECIMALS` decimals), and exporting a drive itself
(``labels_for`` is ``drive.labels``), every such label is.
"""

from __future__ import annotations

from ..geometry.cuboid import Cuboid
from ..io.nuscenes_boxes import SOURCE_BOX, unchanged_source_box
from ..model.annotation import CuboidLabel

DECIMALS = 9    # metres and radians: a box moved by less is the same box (float noise of a store)


def box_key(box: Cuboid) -> tuple[float, ...]:
    """The numbers of ``box`` (centre, size, yaw, pitch, roll) rounded to :data:`DECIMALS`."""
    return tuple(round(float(v), DECIMALS) for v in (*box.center, *box.size, box.yaw, box.pitch, box.roll))


class ImportedBoxes:
    """Tells the exported labels of a frame that are as their drive imported them (module doc)."""

    def __init__(self, drive, labels_for):
        self.drive = drive
        self.all_own = labels_for == drive.labels      # the drive's own labels are exported

    def untouched(self, index: int, labels: list[CuboidLabel], keys: tuple[str, ...] = ()) -> list[bool]:
        """Per label of frame ``index``: whether its box is the one imported (module doc). With
        ``keys``, only labels carrying one of these attributes (what the caller would keep) are
        looked at, the others count as edited. The drive's labels are read afresh, not kept: a long
        drive's would fill memory."""
        out: list[bool | None] = [None if not keys or any(k in lab.attributes for k in keys) else False
                                  for lab in labels]
        T_world_lidar = self.drive.T_world_lidar(index) if any(SOURCE_BOX in lab.attributes for lab in labels) \
            else None
        for k, lab in enumerate(labels):
            if out[k] is False:
                continue
            if SOURCE_BOX in lab.attributes:
                out[k] = unchanged_source_box(lab.box, lab.attributes[SOURCE_BOX], T_world_lidar) is not None
            elif self.all_own:
                out[k] = True
        if None in out:
            source = self.drive.frames[index].labels_source
            own = {box_key(lab.box) for lab in source()} if source else set()
            out = [box_key(lab.box) in own if v is None else v for v, lab in zip(out, labels)]
        return out
