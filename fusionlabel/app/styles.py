"""How the views mark a cuboid, as names every view keys its own drawing by. Qt-free.

- :data:`OUTLINE_OF_STATE`: the outline of each pre-label state (``Session.prelabel_state``; None
  is no pre-label). ``qt_util.PEN_STYLES`` (bird's-eye and side views, the ? legend),
  ``projected_boxes.PATTERNS`` (cameras) and ``view3d.PATTERNS`` (3D view) draw these names.
- The locked mark: a small padlock (``qt_util.paint_padlock``) in the middle of each cuboid of a
  locked class in the bird's-eye view, the cameras and the 3D view, and beside the side views'
  caption, so a drag that does nothing is explained where it happens. Light, slightly see-through, half the
  cuboid's size on screen and at most :data:`LOCK_MARK_PX` high, none on a cuboid too small to
  show it: quieter than the outline and the label.
"""

from __future__ import annotations

from functools import lru_cache

from ..render.colors import LABEL_CHIP_RGBA

OUTLINE_OF_STATE = {None: "solid", "untouched": "dashed", "edited": "dash-dot"}

LOCK_MARK = "padlock"        # its name in the ? legend and docs/app.md
LOCK_MARK_PX = 11            # the padlock's height on screen at most (pixels) ...
LOCK_MARK_MIN_PX = 7         # ... and at least: a cuboid less than twice that across gets none
LOCK_MARK_RGBA = (240, 240, 240, 210)   # the padlock, light and slightly see-through
LOCK_EDGE_RGBA = (0, 0, 0, 170)         # its thin dark edge, so it reads on bright points and images

# The selection: its outline in the class colour (a pre-label's keeps its dashes) inside a white
# halo 2 px wide each side in the bird's-eye view; in the cameras the halo, outside the box, has a
# thin dark rim, so it reads on a white wall as well as on dark ground. Widths in pixels.
SELECTED_HALO_RGB = (255, 255, 255)
SELECTED_HALO_PX = 6          # the halo ...
SELECTED_OUTLINE_PX = 2       # ... under the class-coloured outline
SELECTED_RIM_RGB = (0, 0, 0)
SELECTED_RIM_PX = 8           # the cameras' dark rim around the halo
# In the cameras the rim and the halo lie outside the box only (app.camera_halo), and inside it the
# outline keeps SELECTED_OUTLINE_PX only on a box at least this wide and high on screen; on a smaller
# one it is as thin as an unselected box's there, so a far object is hidden no more than unselected.
SELECTED_WIDE_INSIDE_PX = 48

# A pre-label's dashes in the cameras and the bird's-eye view lie on a solid dark line this much
# wider (pixels), so their gaps show dark, not the points behind: over dense points of the box's own
# hue the dashes would otherwise vanish. Selected, the white halo does that instead.
PRELABEL_UNDERLAY_RGB = (0, 0, 0)
PRELABEL_UNDERLAY_EXTRA_PX = 2


def underlay_px(outline: str, width: float, selected: bool = False) -> float | None:
    """How wide the solid dark line (:data:`PRELABEL_UNDERLAY_RGB`) under an ``outline``
    (:data:`OUTLINE_OF_STATE`'s names) of ``width`` pixels is drawn: :data:`PRELABEL_UNDERLAY_EXTRA_PX`
    wider under a patterned one (a pre-label's); None (no line) under a solid or a ``selected`` one."""
    return None if outline == "solid" or selected else width + PRELABEL_UNDERLAY_EXTRA_PX

# Where a track's missing box would be (a track-gap or track-end finding clicked in the label checks):
# an outline only, dotted in a colour no class has, with a "missing?" label, in the bird's-eye view,
# the cameras and the 3D view until the user acts or moves on.
GHOST_MARK = "dotted magenta"   # its name in the ? legend and docs/app.md
GHOST_RGB = (255, 64, 255)
GHOST_PX = 2

# Focus on the selection (Shift+B): the other cuboids are drawn at this opacity in the cameras and
# the bird's-eye view, without labels, and every view that does so says it in this amber mark.
FAINT_OPACITY = 0.3
FOCUS_CAPTION = "FOCUS: selection (Shift+B)"
FOCUS_RGB = (240, 176, 64)

# Box labels are written in their class colour on a dark chip; a dark colour (pedestrian blue) is
# lifted towards white, keeping its hue, until its text has at least this contrast on black (WCAG
# ratio; 7 is the "enhanced" level for small text).
LABEL_MIN_CONTRAST = 7.0

# The chip under box labels (and the cameras' captions): render.colors.LABEL_CHIP_RGBA, the same
# in `fusionlabel render`'s captions. Over white, the worst case, it is a dark grey on which every
# label colour (lifted to LABEL_MIN_CONTRAST on black) still has at least LABEL_CHIP_MIN_CONTRAST,
# the 4.5 the object list aims at (WCAG AA): at least ~5.7 with its alpha.
LABEL_CHIP_MIN_CONTRAST = 4.5


def label_chip_worst_rgb() -> tuple[int, int, int]:
    """The colour of the label chip over white (its lightest): what a label must read on."""
    *rgb, alpha = LABEL_CHIP_RGBA
    a = alpha / 255.0
    return tuple(round(a * c + (1.0 - a) * 255) for c in rgb)


def relative_luminance(rgb) -> float:
    """WCAG relative luminance of an sRGB colour (three 0-255 values), 0 (black) to 1 (white)."""
    def linear(c: float) -> float:
        c = c / 255.0
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(float(c)) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def label_text_rgb(rgb) -> tuple[int, int, int]:
    """The colour a box label of class colour ``rgb`` is written in on its dark chip: ``rgb``
    itself when it reads well on black, else mixed with white just enough to (steps of 5 %).
    Remembered per colour: every label of every paint asks."""
    return _label_text_rgb(tuple(int(c) for c in rgb[:3]))


@lru_cache(maxsize=256)
def _label_text_rgb(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    return _mixed_to_contrast(rgb, (0, 0, 0), LABEL_MIN_CONTRAST)


def contrast_ratio(a, b) -> float:
    """WCAG contrast ratio of two sRGB colours (1 to 21)."""
    la, lb = relative_luminance(a), relative_luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def _mixed_to_contrast(rgb: tuple[int, int, int], background: tuple[int, int, int],
                       minimum: float) -> tuple[int, int, int]:
    """``rgb`` mixed with white (on a dark ``background``) or black (on a light one) in steps of
    5 %, just enough to reach ``minimum`` contrast on ``background``."""
    end = 255 if relative_luminance(background) < 0.18 else 0
    for step in range(21):
        t = step / 20.0
        mixed = tuple(round(c + t * (end - c)) for c in rgb)
        if contrast_ratio(mixed, background) >= minimum:
            return mixed
    return (end, end, end)


# Text in the object list (class names, pre-label states) is written in its colour on the list's
# background, darkened (on a light one) just enough to reach this contrast (WCAG AA for text).
LIST_MIN_CONTRAST = 4.5


@lru_cache(maxsize=256)
def list_text_rgb(rgb: tuple[int, int, int], background: tuple[int, int, int]) -> tuple[int, int, int]:
    """The colour of text meant in ``rgb`` (a class, a pre-label state) on a list's ``background``:
    ``rgb`` when it reads there, else mixed towards black (towards white on a dark background)
    just enough to (steps of 5 %), so the yellow of a van reads on white."""
    return _mixed_to_contrast(rgb, background, LIST_MIN_CONTRAST)
