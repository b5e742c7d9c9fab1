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


# ---------------------------------------------------------------- ring distances, and the work per paint
import math  # noqa: E402

from fusionlabel.render import label_layout  # noqa: E402
from fusionlabel.render.label_layout import GAP, place_labels, place_ring_captions  # noqa: E402


def test_a_ring_distance_with_its_four_crossings_taken_goes_to_a_free_place_along_its_ring():
    origin, radius, size = (400.0, 300.0), 100.0, (40.0, 14.0)
    bounds = (0.0, 0.0, 800.0, 600.0)
    # labels over every spot beside where the ring crosses the vertical and the horizontal
    taken = [(330.0, 180.0, 140.0, 40.0), (330.0, 380.0, 140.0, 40.0),
             (480.0, 260.0, 80.0, 60.0), (240.0, 260.0, 80.0, 60.0)]
    rect = place_ring_captions(origin, [radius], [size], bounds, taken)[0]
    assert rect is not None
    assert all(not label_layout.overlaps(rect, t) for t in taken)
    # next to the ring: its nearest corner a few pixels off the circle
    corners = [(rect[0] + dx, rect[1] + dy) for dx in (0, size[0]) for dy in (0, size[1])]
    gap = min(abs(math.dist(c, origin) - radius) for c in corners)
    assert gap <= 2 * GAP * math.sqrt(2), (rect, gap)
    # with the whole view taken it is left out, never drawn over a label
    assert place_ring_captions(origin, [radius], [size], bounds, [bounds])[0] is None


def test_placing_thousands_of_labels_checks_each_spot_against_only_its_neighbours(monkeypatch):
    """3,000 labels scattered over a 1900 x 1000 view (a zoomed-out crowded frame): no two drawn
    labels overlap, and the overlap checks per label stay a few dozen, not one per label placed
    before it (which made a paint take 0.3 s)."""
    checks = [0]
    real = label_layout.overlaps

    def counted(a, b):
        checks[0] += 1
        return real(a, b)

    monkeypatch.setattr(label_layout, "overlaps", counted)
    bounds = (0.0, 0.0, 1900.0, 1000.0)
    requests = [LabelRequest(((i * 7919) % 1900 + 0.5, (i * 104729) % 1000 + 0.5), (80.0, 15.0)) for i in range(3000)]
    rects = place_labels(requests, bounds, [(0.0, 0.0, 300.0, 60.0)])
    drawn = [r for r in rects if r is not None]
    assert 500 < len(drawn) < 3000
    buckets: dict = {}
    for r in drawn:   # the test's own check for overlaps, by rows of the view
        for row in range(int(r[1] // 15), int((r[1] + r[3]) // 15) + 1):
            for other in buckets.get(row, []):
                assert not real(r, other), (r, other)
            buckets.setdefault(row, []).append(r)
    assert checks[0] / len(requests) < 60, checks[0] / len(requests)


# ---------------------------------------------------------------- a crowd of pedestrians (fusionlabel render)
from fusionlabel.render.label_layout import leader_line  # noqa: E402

LINE = (101.0, 17.0)   # "pedestrian 57" at the renderer's size


def row_of_pedestrians(n: int, step: float = 12.0) -> tuple[list[LabelRequest], list[tuple]]:
    """``n`` pedestrians 12 px apart in a row (people 0.9 m apart at 0.075 m/px), each box 8 px."""
    boxes = [(300.0 + step * i, 300.0 + (i % 2) * 3.0, 8.0, 8.0) for i in range(n)]
    return [LabelRequest((b[0] + 4.0, b[1]), LINE, avoid=b) for b in boxes], boxes


def test_a_row_of_pedestrians_all_get_a_label_near_their_box_none_overlapping():
    requests, boxes = row_of_pedestrians(10)
    bounds = (0.0, 0.0, 800.0, 600.0)
    near = place_labels(requests, bounds)
    assert None in near                      # beside their boxes alone, a crowd leaves some out
    rects = place_labels(requests, bounds, nudges=4, boxes=boxes)
    assert None not in rects
    for i, a in enumerate(rects):
        assert all(not label_layout.overlaps(a, b) for b in rects[i + 1:]), (a, rects)
        assert all(not label_layout.overlaps(a, b) for b in boxes), (a, boxes)   # no label over a pedestrian
        (ax, ay), (x, y, w, h) = requests[i].anchor, a
        gap = math.dist((ax, ay), (min(max(ax, x), x + w), min(max(ay, y), y + h)))
        assert gap <= GAP + 6 * LINE[1], (i, a)  # a few lines from its box at most
    again = place_labels(requests, bounds, nudges=4, boxes=boxes)
    assert again == rects                    # the same picture every run


def test_a_label_moved_away_from_its_box_gets_a_leader_line_to_it():
    anchor = (100.0, 100.0)
    beside = (100.0 + GAP, 100.0 - GAP - 17.0, 101.0, 17.0)
    assert leader_line(anchor, beside) is None
    higher = (100.0 + GAP, 100.0 - GAP - 3 * 17.0, 101.0, 17.0)
    assert leader_line(anchor, higher) == (anchor, (100.0 + GAP, 100.0 - GAP - 2 * 17.0))
    left = (10.0, 120.0, 60.0, 17.0)
    assert leader_line(anchor, left) == (anchor, (70.0, 120.0))


def test_labels_keep_off_other_boxes_when_there_is_room():
    """A label whose usual spot (above-right of its box) lies over a neighbour's box goes elsewhere
    next to its own box; with every spot over some box it still goes beside its own box."""
    bounds = (0.0, 0.0, 400.0, 300.0)
    own = (100.0, 100.0, 8.0, 8.0)
    neighbour = (110.0, 70.0, 40.0, 20.0)           # right over the above-right spot
    req = LabelRequest((104.0, 100.0), (60.0, 14.0), avoid=own)
    plain = place_labels([req], bounds)[0]
    assert label_layout.overlaps(plain, neighbour)
    rect = place_labels([req], bounds, boxes=[own, neighbour])[0]
    assert not label_layout.overlaps(rect, neighbour) and not label_layout.overlaps(rect, own)
    assert leader_line(req.anchor, rect) is None     # still right beside its box
    everywhere = [(0.0, 0.0, 400.0, 99.0), (0.0, 101.0, 400.0, 199.0)]
    assert place_labels([req], bounds, boxes=everywhere)[0] == plain


def crossing(p, q, r, s) -> bool:
    """Whether segments pq and rs cross (properly, or touching in their middles)."""
    def side(a, b, c):
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    d1, d2, d3, d4 = side(r, s, p), side(r, s, q), side(p, q, r), side(p, q, s)
    return d1 * d2 < 0 and d3 * d4 < 0


def test_leader_lines_of_a_crowd_never_cross_each_other_and_mostly_run_clear_of_labels():
    requests, boxes = row_of_pedestrians(14)
    bounds = (0.0, 0.0, 800.0, 600.0)
    rects = place_labels(requests, bounds, nudges=4, boxes=boxes, leaders=True)
    assert None not in rects
    lines = [line for req, r in zip(requests, rects) if (line := leader_line(req.anchor, r)) is not None]
    assert len(lines) >= 5
    for i, (p, q) in enumerate(lines):
        assert all(not crossing(p, q, r, s) for r, s in lines[i + 1:]), (p, q)
    under = sum(1 for p, q in lines for r in rects if crossing(p, q, (r[0], r[1] + r[3] / 2), (r[0] + r[2], r[1] + r[3] / 2)))
    # without the rule, lines go straight up through the labels of their neighbours
    plain = place_labels(requests, bounds, nudges=4, boxes=boxes)
    plain_lines = [line for req, r in zip(requests, plain) if (line := leader_line(req.anchor, r)) is not None]
    plain_under = sum(1 for p, q in plain_lines for r in plain
                      if crossing(p, q, (r[0], r[1] + r[3] / 2), (r[0] + r[2], r[1] + r[3] / 2)))
    assert under < plain_under, (under, plain_under)


def test_no_label_is_placed_over_the_primary_selected_box():
    """The primary's box (its ``avoid`` extent) is a hard obstacle for every other label: a label
    whose spots near its anchor all lie on it goes a few lines away (``nudges``) or is left out,
    never over it; the primary's own label may still sit on its own box when nothing else is free.
    Without a primary (nothing selected in this view) the labels sit beside their anchors as before."""
    bounds = (0.0, 0.0, 400.0, 300.0)
    truck = (100.0, 130.0, 160.0, 50.0)
    inside = [LabelRequest((120.0 + 25.0 * i, 160.0 + 10.0 * (i % 2)), (60.0, 14.0), avoid=(118.0 + 25.0 * i, 160.0, 4.0, 8.0))
              for i in range(5)]
    requests = [LabelRequest((100.0, 130.0), (60.0, 14.0), avoid=truck), *inside]
    selected = [True] + [False] * 5
    for nudges in (0, label_layout.LABEL_NUDGES):
        rects, _ = place_view_labels(requests, selected, 0, bounds, nudges=nudges, leaders=bool(nudges))
        assert rects[0] is not None
        assert all(r is None or not overlaps(r, truck) for r in rects[1:]), rects
    assert sum(1 for r in rects[1:] if r is not None) >= 2   # with nudges, some found a place off the truck
    free, _ = place_view_labels(requests, [False] * 6, None, bounds)
    assert sum(1 for r in free[1:] if r is not None and overlaps(r, truck)) >= 3   # where they would go


def test_a_polygon_cover_holds_a_turned_box_and_little_else():
    """The strips covering a box turned 45 degrees hold every point of it (and of a margin around it)
    and take little more than half of its bounding rectangle; points well outside it lie in none."""
    import numpy as np

    from fusionlabel.render.label_layout import polygon_cover

    c, half = np.array([200.0, 150.0]), np.array([80.0, 20.0])
    turn = np.array([[np.cos(np.pi / 4), -np.sin(np.pi / 4)], [np.sin(np.pi / 4), np.cos(np.pi / 4)]])
    local = np.array([(-1, -1), (1, -1), (1, 1), (-1, 1)], float) * half
    poly = local @ turn.T + c
    rects = polygon_cover(poly, 7.0, margin=4.0)
    rng = np.random.default_rng(0)
    angle, reach = rng.uniform(0, 2 * np.pi, 4000), rng.uniform(0, 4.0, 4000)   # within the margin of ...
    inside = (rng.uniform(-1, 1, (4000, 2)) * half) @ turn.T + c + np.column_stack([np.cos(angle), np.sin(angle)]) * reach[:, None]
    inside = np.vstack([inside, poly])                                          # ... a point of the box
    hit = lambda q: any(x <= q[0] <= x + w and y <= q[1] <= y + h for x, y, w, h in rects)  # noqa: E731
    assert all(hit(q) for q in inside)
    lo, hi = poly.min(axis=0) - 4.0, poly.max(axis=0) + 4.0
    grid = np.stack(np.meshgrid(np.arange(lo[0], hi[0], 2.0), np.arange(lo[1], hi[1], 2.0)), axis=-1).reshape(-1, 2)
    share = np.mean([hit(q) for q in grid])                          # of the bounding rectangle (and margin)
    assert share < 0.6, share
    far = (rng.uniform(-1, 1, (4000, 2)) * (half + 40.0)) @ turn.T + c
    local_far = np.abs((far - c) @ turn)
    outside = far[(local_far > half + 4.0 + 12.0).any(axis=1)]          # > 12 px beyond the margin
    assert len(outside) > 100 and not any(hit(q) for q in outside)
