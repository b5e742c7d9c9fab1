"""The bookkeeping of a view's first fit (Qt-free): fitted at the next paint, again after each
resize, never after the view was first moved."""

from __future__ import annotations

from fusionlabel.app.start_fit import StartFit
from fusionlabel.geometry.cuboid import Cuboid

BOXES = [Cuboid((40.0, 2.0, -1.0), (4.0, 1.8, 1.5)), Cuboid((65.0, -3.0, -1.0), (8.0, 2.6, 3.2))]


def test_fitted_at_the_first_paint_and_again_after_each_resize():
    fit = StartFit()
    assert fit.take() == []                      # nothing started: nothing to fit
    fit.resized()
    assert fit.take() == []
    fit.start(BOXES)
    assert fit.take() == BOXES                   # the first paint fits them
    assert fit.take() == []                      # the next paints leave the view alone
    fit.resized()
    assert fit.take() == BOXES                   # until a resize: fitted again to the new size
    assert fit.take() == []
    fit.resized()
    fit.resized()
    assert fit.take() == BOXES and fit.take() == []   # once per paint, however many resizes


def test_never_fitted_again_once_the_view_was_moved():
    fit = StartFit()
    fit.start(BOXES)
    assert fit.take() == BOXES
    fit.moved()                                  # the user zooms
    fit.resized()
    assert fit.take() == [] and fit.boxes is None
    fit = StartFit()
    fit.start(BOXES)
    fit.moved()                                  # moved before the first paint
    assert fit.take() == []
    fit.resized()
    assert fit.take() == []


def test_the_boxes_are_a_copy_of_those_given():
    given = list(BOXES)
    fit = StartFit()
    fit.start(given)
    given.clear()
    assert fit.take() == BOXES
