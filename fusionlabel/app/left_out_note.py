"""How many box labels a camera view left out (no free place near their box: "3 labels left out"),
in a small chip at a corner of the image that no label covers, as ``fusionlabel render``'s camera
tiles count them in their caption."""

from __future__ import annotations

from ..render.label_layout import Rect, overlaps
from ..wording import counted
from .qt_util import LABEL_PAD


def left_out_text(n: int) -> str:
    """The chip's words for ``n`` labels left out."""
    return f"{counted(n, 'label')} left out"


def chip_size(fm, most: int) -> tuple[float, float]:
    """The chip's (width, height) in font metrics ``fm``: room for the words with up to ``most``
    labels, so that it is the same size whatever the count."""
    return fm.horizontalAdvance(left_out_text(most)) + 2 * LABEL_PAD, fm.height()


def corner_spots(size: tuple[float, float], bounds: Rect) -> list[Rect]:
    """Where the chip may go, best first: the bottom right corner of ``bounds`` (x, y, w, h), then
    the top right (the caption is at the top left, the selection's note at the bottom left)."""
    (w, h), (x, y, bw, bh) = size, bounds
    return [(x + bw - w, y + bh - h, w, h), (x + bw - w, y, w, h)]


def free_corner(size: tuple[float, float], bounds: Rect, taken: list[Rect]) -> Rect | None:
    """The first of :func:`corner_spots` that overlaps none of ``taken`` (the labels placed, the
    caption), or None when every one does."""
    return next((r for r in corner_spots(size, bounds) if not any(overlaps(r, t) for t in taken)), None)
