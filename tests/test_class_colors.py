"""Class colours read apart: misc's colour (once a grey lost among grey points and objects) is far
from every other class's, from the marks the views draw in colours of their own (the missing
box's magenta, the selection's white halo), from every grey a point is drawn in, and stands out
on the views' dark backgrounds. Distances are CIELAB ΔE (OpenCV's conversion)."""

from __future__ import annotations

import cv2
import numpy as np

from fusionlabel.app.bev_raster import BACKGROUND
from fusionlabel.app.styles import GHOST_RGB, SELECTED_HALO_RGB, contrast_ratio
from fusionlabel.model.ontology import Ontology
from fusionlabel.render.colors import CLASS_COLORS, class_color

MIN_DELTA_E = 40.0     # two colours this far apart in CIELAB are told apart at a glance
MIN_ON_DARK = 7.0      # WCAG contrast on the views' backgrounds (its label needs no lifting)
DARK_BACKGROUNDS = [(BACKGROUND,) * 3, (14, 14, 18), (12, 12, 16)]   # BEV, 3D view, side views


def lab(rgb) -> np.ndarray:
    """CIELAB (L 0-100) of sRGB colours (..., 3) in 0-255."""
    arr = np.asarray(rgb, np.float32).reshape(-1, 1, 3) / 255.0
    return cv2.cvtColor(arr, cv2.COLOR_RGB2Lab).reshape(-1, 3)


def delta_e(a, b) -> float:
    return float(np.linalg.norm(lab(a)[0] - lab(b)[0]))


def test_misc_is_far_from_every_other_class_and_the_views_own_marks():
    onto = Ontology.default()
    misc = onto.get("misc").color
    assert tuple(misc) == tuple(CLASS_COLORS["misc"]) == class_color("Misc")   # the app and the renders agree
    others = {f"ontology {n}": c.color for n, c in onto.classes.items() if n != "misc"}
    others |= {f"render {n}": c for n, c in CLASS_COLORS.items() if n != "misc"}
    others |= {"missing box": GHOST_RGB, "selection halo": SELECTED_HALO_RGB}
    near = {name: round(delta_e(misc, c), 1) for name, c in others.items() if delta_e(misc, c) < MIN_DELTA_E}
    assert not near, near


def test_misc_stands_out_on_grey_points_and_dark_views():
    misc = Ontology.default().get("misc").color
    greys = {g: round(delta_e(misc, (g, g, g)), 1) for g in range(40, 241, 10)}   # side views' 110, ...
    assert min(greys.values()) >= MIN_DELTA_E, greys
    for dark in DARK_BACKGROUNDS:
        assert contrast_ratio(misc, dark) >= MIN_ON_DARK, dark


def test_a_class_the_app_does_not_know_gets_a_colour_not_a_grey():
    """Unknown class names hash into the palette: none of its colours may be lost among grey
    points (chroma), and each reads on the dark views."""
    from fusionlabel.render.colors import PALETTE

    for c in PALETTE:
        _, a, b = lab(c)[0]
        assert np.hypot(a, b) >= 30.0, c
        assert min(contrast_ratio(c, dark) for dark in DARK_BACKGROUNDS) >= 4.5, c
