"""Labels of a selection in a 2D view (Qt-free): a crowd selected with Ctrl+A keeps its labels
apart, and the selection's first cuboid always keeps its own."""

from __future__ import annotations

from fusionlabel.render.label_layout import LabelRequest, overlaps, place_view_labels

BOUNDS = (0.0, 0.0, 190.0, 107.0)   # a small camera tile's image, as in a 1280 x 720 window


def crowd(n: int) -> list[LabelRequest]:
    """``n`` labels of 70 x 15 px whose anchors lie a few pixels apart along a row of barriers."""
    return [LabelRequest((20.0 + 5.0 * i, 40.0 + (i % 3) * 4.0), (70.0, 15.0)) for i in range(n)]


def test_thirty_selected_labels_never_overlap_and_the_first_selected_keeps_its_own():
    requests = crowd(30)
    for primary in (0, 17, 29):
        rects, hidden = place_view_labels(requests, [True] * 30, primary, BOUNDS)
        drawn = [r for r in rects if r is not None]
        assert rects[primary] is not None
        assert all(not overlaps(a, b) for i, a in enumerate(drawn) for b in drawn[i + 1:])
        assert 0 < len(drawn) < 30                        # some left out: the crowd cannot all fit
        assert hidden == 30 - len(drawn)                  # and the note counts exactly those
        x, y, w, h = rects[primary]
        assert BOUNDS[0] <= x and x + w <= BOUNDS[0] + BOUNDS[2] and BOUNDS[1] <= y and y + h <= BOUNDS[1] + BOUNDS[3]


def test_a_single_selected_box_keeps_its_label_in_a_crowd_and_under_an_obstacle():
    requests = crowd(30)
    selected = [i == 12 for i in range(30)]
    rects, hidden = place_view_labels(requests, selected, 12, BOUNDS)
    assert rects[12] is not None and hidden == 0
    # Even when every spot near it is taken by an obstacle (a message over the image), it is drawn.
    rects, hidden = place_view_labels(requests, selected, 12, BOUNDS, [BOUNDS])
    assert rects[12] is not None and hidden == 0


def test_the_other_selected_labels_come_before_the_unselected_ones():
    requests = crowd(30)
    selected = [i % 10 == 0 for i in range(30)]          # 0, 10, 20 selected; 0 the first
    rects, _ = place_view_labels(requests, selected, 0, BOUNDS)
    alone, _ = place_view_labels([requests[i] for i in (0, 10, 20)], [True] * 3, 0, BOUNDS)
    assert [rects[i] for i in (0, 10, 20)] == alone      # unselected labels never push them away
    # Without a first selected cuboid in this view, nothing is forced: all labels give way.
    rects, hidden = place_view_labels(requests, [True] * 30, None, BOUNDS, [BOUNDS])
    assert rects == [None] * 30 and hidden == 30
