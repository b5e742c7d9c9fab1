"""When a view fits itself to the first frame's labels (Qt-free bookkeeping shared by the
bird's-eye and 3D views).

A project opened for the first time may start a view on the labels of the frame it opens on. The
view has its size only once it is painted, and the window may be laid out again (resized, panes
moved) before the user touches it, so the fit is done at the next paint, and again at the paint
after each resize, until the view is first moved (zoomed, panned, orbited, or moved onto a
selection); from then on the view stays where it was put.
"""

from __future__ import annotations


class StartFit:
    """The boxes a view is fitted to when it opens, and whether a fit is due at the next paint."""

    def __init__(self) -> None:
        self.boxes: list | None = None   # fitted until the view is first moved; None afterwards
        self._due = False                # fit them at the next paint

    def start(self, boxes) -> None:
        """Fit the view to ``boxes`` (cuboids) at its next paint and after each resize."""
        self.boxes, self._due = list(boxes), True

    def resized(self) -> None:
        """The view changed size: fit it again at the next paint, unless it has been moved."""
        self._due = self._due or self.boxes is not None

    def moved(self) -> None:
        """The view was moved: no fit from now on."""
        self.boxes, self._due = None, False

    def take(self) -> list:
        """The boxes to fit the view to at this paint ([] when no fit is due); the fit is then
        no longer due until the next resize."""
        due, self._due = self._due, False
        return list(self.boxes or ()) if due else []
