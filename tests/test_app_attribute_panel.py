"""The attribute panel's look: class, track and the attributes in one column (pytest-qt, offscreen)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from PyQt6.QtCore import QPoint  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

pytestmark = pytest.mark.gui


def test_class_track_and_attribute_fields_start_at_the_same_x(window):
    """The class box, the track field and every attribute's field have the same left edge (before,
    class and track sat after their own short labels and the attributes after the longest
    attribute name: two columns of fields that did not line up)."""
    s, panel = window.session, window.attributes
    with_attributes = [a for a in s.annotations() if s.ontology.classes[a.cls].attributes]
    assert with_attributes, "the sample drive should have a cuboid of a class with attributes"
    s.select((with_attributes[0].uid,))
    QApplication.processEvents()
    fields = [panel.cls, panel.track, *panel._editors.values()]
    assert len(fields) >= 3 and all(f.isVisible() for f in fields)
    lefts = {f.mapTo(panel, QPoint(0, 0)).x() for f in fields}
    assert len(lefts) == 1, lefts
    # the labels all end before that edge
    names = [panel.form.labelForField(f) for f in fields]
    assert all(n is not None and n.mapTo(panel, QPoint(n.width(), 0)).x() <= min(lefts) for n in names)
