"""The app on a high-DPI screen (200 % and 150 % scaling, ``QT_SCALE_FACTOR``): the views draw
as big as at 100 %, in device pixels where they can. Each case runs the app in a subprocess on
the X display (Xvfb in CI), like the other OpenGL tests; skips without a display or OpenGL."""

from __future__ import annotations

import textwrap

import pytest

from conftest import run_on_display

pytest.importorskip("PyQt6")
pytest.importorskip("pyqtgraph")

pytestmark = pytest.mark.gui

VIEW3D_SCRIPT = textwrap.dedent(r"""
    import json, tempfile
    import numpy as np
    from PyQt6.QtWidgets import QApplication
    app = QApplication([])
    from fusionlabel.app import testing
    with tempfile.TemporaryDirectory() as tmp:
        project, w = testing.gl_window_or_skip(tmp, import_labels=True)
        image = w.view3d_panel.grab_image()
        arr = testing.image_pixels(image)
        out = {"ratio": image.devicePixelRatio(), "size": [image.width(), image.height()],
               "lit_share": float((arr.max(axis=2) > 60).mean())}
        w.close(); w.session.close(); project.close()
    print(json.dumps(out))
""")


def view3d_at(scale: str) -> dict:
    return run_on_display(VIEW3D_SCRIPT, env={"QT_SCALE_FACTOR": scale})


@pytest.fixture(scope="module")
def view3d_at_100():
    return view3d_at("1")


@pytest.mark.parametrize("scale", ["2", "1.5"])
def test_the_3d_view_draws_points_and_outlines_as_big_as_at_100_percent(view3d_at_100, scale):
    """GL point sizes and line widths are device pixels: at 200 % they must be doubled, or the
    sweep looks a quarter as dense as at 100 % (the share of lit pixels drops with the area)."""
    scaled = view3d_at(scale)
    assert scaled["ratio"] == float(scale)
    assert scaled["size"][0] == pytest.approx(view3d_at_100["size"][0] * float(scale), abs=1)
    assert scaled["lit_share"] == pytest.approx(view3d_at_100["lit_share"], rel=0.2), (scaled, view3d_at_100)
