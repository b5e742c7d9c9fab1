"""What the status bar says after a key nudges, turns or resizes the selection: the whole run of
that key so far (a held key repeats; the run is one undo step), e.g. "Move 0.15 m forward",
"Turn 3° left", "Length 4.60 m (+0.10 m)". Qt-free."""

from __future__ import annotations

from ..wording import counted

# the directions of a nudge along the box's own axes (x heading, y left, z up): (positive, negative)
MOVE_DIRECTIONS = (("forward", "back"), ("left", "right"), ("up", "down"))
SIZE_NAMES = ("Length", "Width", "Height")


def metres(value: float) -> str:
    """``0.05``, ``0.1``, ``1.25``: to the centimetre, without trailing zeros."""
    return f"{round(abs(value), 2):g}"


def _of(boxes: int) -> str:
    return f" ({counted(boxes, 'cuboid')})" if boxes > 1 else ""


def move_text(axis: int, total: float, boxes: int = 1) -> str:
    """A run of nudges along ``axis`` (0 heading, 1 left, 2 up) adding up to ``total`` metres."""
    ahead, behind = MOVE_DIRECTIONS[axis]
    return f"Move {metres(total)} m {ahead if total >= 0 else behind}{_of(boxes)}"


def turn_text(total: float, boxes: int = 1) -> str:
    """A run of turns adding up to ``total`` degrees (positive: counter-clockwise from above, to the box's left)."""
    return f"Turn {round(abs(total), 1):g}° {'left' if total >= 0 else 'right'}{_of(boxes)}"


def size_text(axis: int, size: float, total: float, boxes: int = 1) -> str:
    """A run of resizes along ``axis`` (0 length, 1 width, 2 height) that changed it by ``total``
    metres, to ``size`` metres (the first selected cuboid's)."""
    sign = "+" if total >= 0 else "−"
    return f"{SIZE_NAMES[axis]} {size:.2f} m ({sign}{metres(total)} m){_of(boxes)}"


def flip_text(boxes: int = 1) -> str:
    """The heading turned 180°."""
    return f"Flip heading{_of(boxes)}"
