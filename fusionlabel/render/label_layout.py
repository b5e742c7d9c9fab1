"""Where the text labels of cuboids go in a 2D view, so that they neither overlap nor leave the view.
Qt-free (the app and `fusionlabel render` share it): rectangles are (x, y, width, height) tuples in
pixels.

Labels are placed greedily in priority order (the caller puts the selected cuboid first, then the
ones that matter most). Each label tries a few spots next to its anchor (the top of its box):
above-right, then one line higher, below, left, two lines higher, lower; every spot is pushed inside the view. The first
spot that overlaps no placed label and no obstacle (e.g. the view's own caption, the message
banner over it) wins; a label with no free spot is left out, unless it is ``forced`` (the selected
cuboid's label is always drawn: at its first spot clear of the obstacles, else just below the
obstacle over its first spot, else at its first spot). Spots that would cover the label's own box
(``avoid``) come after the others, so a label hides the object it names only when nothing else is free. A ``centred`` label first tries the spot centred above its anchor (the 3D
view, whose anchor is the middle of the box's top face).

:func:`place_view_labels` holds the rule for a selection: only the primary selected cuboid's label
is forced, the other selected ones come next but give way like any label, so a crowd selected with
Ctrl+A stays readable and the caller can say how many of its labels were left out; and the primary's
box (its extent on screen, or the :func:`polygon_cover` of its turned outline, a request's
``footprint``) is a hard obstacle for every other label (a request's ``shield``), so no label hides the
cuboid being edited.

A static picture (``fusionlabel render``) has no zoom to untangle a crowd, so there a label may
also go a few lines further away (``nudges``), with a leader line to its box (:func:`leader_line`;
``leaders``: no two lines cross, and a line runs under no label when another spot avoids it), and
spots over other boxes (``boxes``) come after those over nothing.

:func:`place_ring_captions` writes the bird's-eye view's ring distances ("10 m") after the labels,
where they hide no label and not the ego outline, at the first free one of a few places along
each ring.

The work per paint is bounded: a spot is checked only against the placed rectangles in the grid
cells it touches (:class:`Taken`), not against every label placed before it, so thousands of
boxes in view cost about as much per box as a few.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

Rect = tuple[float, float, float, float]

GAP = 3.0  # pixels between the anchor and its label
LABEL_NUDGES = 4   # lines further up, down or left a label may go when the spots beside its box are taken
NUDGED_LABELS_MAX = 300   # an app view with more labels in view (zoomed far out) puts them beside their box only


@dataclass(frozen=True)
class LabelRequest:
    """A label of ``size`` (width, height) to place near ``anchor`` (x, y): the top of its box."""

    anchor: tuple[float, float]
    size: tuple[float, float]
    forced: bool = False
    centred: bool = False
    avoid: Rect | None = None   # the box's own extent on screen: spots over it are tried last
    shield: tuple[Rect, ...] = ()   # kept clear of every label placed after this one (the selected box)
    footprint: tuple[Rect, ...] = ()   # the box's outline, tighter than ``avoid`` (:func:`polygon_cover`)


def overlaps(a: Rect, b: Rect) -> bool:
    """True when two rectangles share some area (touching edges do not count)."""
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


class Taken:
    """Rectangles placed so far, bucketed in a grid of square cells of side ``cell`` (about a
    label's size), so that :meth:`hits` looks only at the rectangles near a spot. Rectangles
    spanning more than :data:`WIDE_CELLS` cells (the HUD, a banner over the view) are kept aside
    and checked every time."""

    WIDE_CELLS = 64

    def __init__(self, cell: float, rects: list[Rect] = ()):
        self.cell = max(float(cell), 1.0)
        self.cells: dict[tuple[int, int], list[Rect]] = {}
        self.wide: list[Rect] = []
        for r in rects:
            self.add(r)

    def _keys(self, r: Rect) -> list[tuple[int, int]]:
        c = self.cell
        cols = range(math.floor(r[0] / c), math.floor((r[0] + r[2]) / c) + 1)
        rows = range(math.floor(r[1] / c), math.floor((r[1] + r[3]) / c) + 1)
        if len(cols) * len(rows) > self.WIDE_CELLS:
            return []
        return [(i, j) for i in cols for j in rows]

    def add(self, r: Rect) -> None:
        """Take ``r``: later spots overlapping it are not free."""
        keys = self._keys(r)
        if not keys:
            self.wide.append(r)
        for k in keys:
            self.cells.setdefault(k, []).append(r)

    def hits(self, r: Rect) -> bool:
        """Whether ``r`` overlaps a rectangle taken (the inner loop of placing a view's labels:
        :func:`overlaps` written out in the grid's cells)."""
        if self.wide and any(overlaps(r, t) for t in self.wide):
            return True
        x, y, w, h = r
        c, cells = self.cell, self.cells
        i0, i1 = math.floor(x / c), math.floor((x + w) / c)
        j0, j1 = math.floor(y / c), math.floor((y + h) / c)
        if (i1 - i0 + 1) * (j1 - j0 + 1) > self.WIDE_CELLS:   # larger than the grid's reach: check everything
            return any(overlaps(r, t) for rects in cells.values() for t in rects)
        for i in range(i0, i1 + 1):
            for j in range(j0, j1 + 1):
                for t in cells.get((i, j), ()):
                    if x < t[0] + t[2] and t[0] < x + w and y < t[1] + t[3] and t[1] < y + h:
                        return True
        return False


def clamp_rect(rect: Rect, bounds: Rect) -> Rect:
    """``rect`` moved (not resized) to lie inside ``bounds``; one larger than the bounds keeps its
    top-left corner on the bounds' top-left corner."""
    x, y, w, h = rect
    bx, by, bw, bh = bounds
    x = max(bx, min(x, bx + bw - w))
    y = max(by, min(y, by + bh - h))
    return (x, y, w, h)


def candidates(anchor: tuple[float, float], size: tuple[float, float], bounds: Rect,
               centred: bool = False, nudges: int = 0) -> list[Rect]:
    """The spots a label tries, best first, each inside ``bounds``; ``centred`` puts the spot
    centred above the anchor first. ``nudges`` more lines further up, down and on the left are
    tried after the spots beside the anchor (such a label needs a :func:`leader_line` to it)."""
    (ax, ay), (w, h) = anchor, size
    spots = [(ax - w / 2, ay - GAP - h)] if centred else []
    spots += [
        (ax + GAP, ay - GAP - h),          # above-right of the anchor (the usual place)
        (ax + GAP, ay - GAP - 2 * h),      # one line higher
        (ax + GAP, ay + GAP),              # below-right
        (ax - GAP - w, ay - GAP - h),      # above-left
        (ax - GAP - w, ay + GAP),          # below-left
        (ax + GAP, ay - GAP - 3 * h),      # two lines higher
        (ax + GAP, ay + GAP + h),          # one line lower (e.g. out from under a caption)
    ]
    for k in range(1, nudges + 1):         # further away, stacked over and under the near spots
        spots += [(ax + GAP, ay - GAP - (3 + k) * h), (ax + GAP, ay + GAP + (1 + k) * h),
                  (ax - GAP - w, ay - GAP - (1 + k) * h), (ax - GAP - w, ay + GAP + k * h)]
    bx, by, bw, bh = bounds
    right, bottom = bx + bw - w, by + bh - h
    # clamp_rect of each spot, the first of each place kept (dict: ordered, one look per spot)
    out = {(max(bx, min(x, right)), max(by, min(y, bottom)), w, h): None for x, y in spots}
    return list(out)


def place_labels(requests: list[LabelRequest], bounds: Rect, obstacles: list[Rect] = (),
                 nudges: int = 0, boxes: list[Rect] = (), leaders: bool = False) -> list[Rect | None]:
    """A rectangle inside ``bounds`` for each request (in order of priority), or None for a label
    left out because every spot near its anchor was taken (``nudges``: how many lines further
    away it may also go, see :func:`candidates`). Placed labels never overlap each other or an
    obstacle, except a forced one that found no free spot. Spots over one of ``boxes`` (every
    box's extent on screen) come after the others, before those over the label's own box. With
    ``leaders`` (the caller draws a :func:`leader_line` to each label moved away from its box),
    no leader line crosses another or runs under a label placed after it, and a spot whose line
    would run under a label placed before it comes only after every spot whose line would not.
    A request's ``shield`` (the selected box's extent) is an obstacle for the labels after it, not
    for their leader lines: one of them may still lead out from under it."""
    cell = max((max(req.size) for req in requests), default=1.0)
    taken = Taken(cell, list(obstacles))
    covered = Taken(cell, list(boxes))
    drawn_lines = Taken(cell)
    shields = Taken(cell)
    out: list[Rect | None] = []
    for req in requests:
        spots = candidates(req.anchor, req.size, bounds, req.centred, nudges)
        rank = None
        if req.avoid is not None or boxes:   # a label beside its box rather than over it, when there is room
            def rank(r: Rect, own: Rect | None = req.avoid) -> tuple[bool, bool]:
                return own is not None and overlaps(r, own), covered.hits(r)
        if shields.wide or shields.cells:
            spots = [r for r in spots if not shields.hits(r)]
        pick = _free_spot(spots, req.anchor, taken, drawn_lines if leaders else None, rank)
        rect = None if pick is None else pick[0]
        if rect is None and req.forced and spots:
            rect = _forced_spot(spots if rank is None else sorted(spots, key=rank), bounds, obstacles)
        out.append(rect)
        for r in req.shield:
            shields.add(r)
        if rect is not None:
            taken.add(rect)
            if pick is not None and pick[1] is not None:
                taken.add(pick[1])
                drawn_lines.add(pick[1])
    return out


def _free_spot(spots: list[Rect], anchor: tuple[float, float], taken: Taken, drawn_lines: Taken | None,
               rank=None) -> tuple[Rect, Rect | None] | None:
    """The first of ``spots`` over nothing ``taken``, and the extent of its leader line (None
    without one); with ``drawn_lines`` (leader lines drawn), its line must cross none of them,
    and the first whose line runs under no label either wins over an earlier one whose line would.
    ``rank(spot)`` (a tuple, lowest first) orders the spots before that, as a stable sort would;
    it is asked only of the spots that are free, and the search stops at the first free spot of
    the lowest rank whose line runs under no label (a label in the open costs one look)."""
    best = fallback = None   # (rank, spot, line)
    for r in spots:
        if taken.hits(r):
            continue
        key = () if rank is None else rank(r)
        line = None if drawn_lines is None else _leader_extent(anchor, r)
        if line is None or not taken.hits(line):
            if best is None or key < best[0]:
                best = (key, r, line)
                if not any(key):   # nothing ranks lower, nor comes before it
                    break
        elif (fallback is None or key < fallback[0]) and not drawn_lines.hits(line):
            fallback = (key, r, line)
    pick = best or fallback
    return None if pick is None else pick[1:]


def _leader_extent(anchor: tuple[float, float], rect: Rect) -> Rect | None:
    """The rectangle around :func:`leader_line` (at least a pixel wide), short of its ends by a
    pixel so that it does not touch the label it leads to; None without a line."""
    line = leader_line(anchor, rect)
    if line is None:
        return None
    (x0, y0), (x1, y1) = line
    x, y = min(x0, x1), min(y0, y1)
    w, h = max(abs(x1 - x0), 1.0), max(abs(y1 - y0), 1.0)
    return (x, y + 1.0, w, h - 2.0) if h > w else (x + 1.0, y, w - 2.0, h)


def place_view_labels(requests: list[LabelRequest], selected: list[bool], primary: int | None, bounds: Rect,
                      obstacles: list[Rect] = (), nudges: int = 0, boxes: list[Rect] = (),
                      leaders: bool = False) -> tuple[list[Rect | None], int]:
    """Labels of one view's cuboids: ``requests`` in the view's own order (e.g. nearest first; their
    ``forced`` is ignored), ``selected[i]`` whether request i is of a selected cuboid, ``primary``
    the index of the one whose label is always drawn (the first selected, or None when it is not in
    this view). The primary first, then the other selected, then the rest (each group in the given
    order), each only where it overlaps no label placed before it, no obstacle and not the primary's
    box (its ``footprint``, else its ``avoid`` extent: no label hides the selected cuboid; the label moves away from it with
    a leader line when ``nudges`` allows, else is left out). Returns the
    rectangles in the order of ``requests`` (None: left out) and how many selected labels were left out.
    ``nudges``, ``boxes`` and ``leaders`` as for :func:`place_labels` (the bird's-eye view: labels
    moved a few lines away from a crowd, with a leader line)."""
    order = sorted(range(len(requests)), key=lambda i: (i != primary, not selected[i]))
    rects = place_labels([replace(requests[i], forced=i == primary, shield=_shield(requests[i]) if i == primary else ())
                          for i in order], bounds, obstacles, nudges, boxes, leaders)
    out: list[Rect | None] = [None] * len(requests)
    for i, rect in zip(order, rects):
        out[i] = rect
    return out, sum(1 for i, rect in enumerate(out) if selected[i] and rect is None)


def _shield(req: LabelRequest) -> tuple[Rect, ...]:
    """What the primary's box keeps clear of other labels: its ``footprint`` when given (a turned
    box's outline), else its ``avoid`` extent."""
    return req.footprint or ((req.avoid,) if req.avoid is not None else ())


def polygon_cover(poly, step: float, margin: float = 0.0, max_strips: int = 32) -> tuple[Rect, ...]:
    """Rectangles that together cover a convex polygon ``poly`` (its (x, y) corners in order, e.g. a
    turned box's footprint on screen) and everything within ``margin`` of it: one per horizontal
    strip about ``step`` high (at most ``max_strips``), as wide as the polygon is within the strip.
    A box turned 45 degrees takes about half of its bounding rectangle, so labels can sit beside it."""
    pts = [(float(x), float(y)) for x, y in poly]
    ys = [y for _, y in pts]
    top, bottom = min(ys), max(ys)
    n = max(1, min(max_strips, math.ceil((bottom - top) / max(step, 1e-6))))
    edges = list(zip(pts, pts[1:] + pts[:1]))
    out = []
    for k in range(n):
        y0, y1 = top + (bottom - top) * k / n, top + (bottom - top) * (k + 1) / n
        xs = [x for x, y in pts if y0 <= y <= y1]
        for (xa, ya), (xb, yb) in edges:   # where the edges cross the strip's top and bottom
            for yc in (y0, y1):
                if min(ya, yb) <= yc <= max(ya, yb) and ya != yb:
                    xs.append(xa + (yc - ya) / (yb - ya) * (xb - xa))
        if xs:
            out.append((min(xs) - margin, y0 - margin, max(xs) - min(xs) + 2 * margin, y1 - y0 + 2 * margin))
    return tuple(out)


def leader_line(anchor: tuple[float, float], rect: Rect) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The line from ``anchor`` to the nearest point of its label ``rect``, when the label was
    moved away from it (further than a spot beside the anchor is); None when it sits beside it."""
    ax, ay = anchor
    x, y, w, h = rect
    near = (min(max(ax, x), x + w), min(max(ay, y), y + h))
    return (anchor, near) if math.dist(anchor, near) > 2 * GAP else None


# Where a ring's distance may go, in order: (degrees clockwise from ahead, side of that point). Ahead
# (right, then left of the crossing), behind (right, left), beside (right, left), then the diagonals
# and the angles between, nearer ahead first.
RING_SPOTS = [(0, 1), (0, -1), (180, 1), (180, -1), (90, 1), (270, -1),
              (45, 1), (315, -1), (135, 1), (225, -1), (30, 1), (330, -1), (60, 1), (300, -1),
              (150, 1), (210, -1), (120, 1), (240, -1)]


def ring_spot(origin: tuple[float, float], radius: float, size: tuple[float, float], degrees: float,
              side: int) -> Rect:
    """The caption of ``size`` (w, h) next to where a ring of screen ``radius`` around ``origin``
    meets the direction ``degrees`` clockwise from straight up: to the right of that point
    (``side`` 1) or its left (-1), above it on the upper half of the ring, below it on the lower."""
    (ox, oy), (w, h) = origin, size
    a = math.radians(degrees)
    sin, cos = round(math.sin(a), 12), round(math.cos(a), 12)   # exactly 0 on the axes
    px, py = ox + radius * sin, oy - radius * cos
    x = px + GAP if side > 0 else px - GAP - w
    y = py - GAP - h if cos >= 0 else py + GAP
    return (x, y, w, h)


def place_ring_captions(origin: tuple[float, float], radii: list[float], sizes: list[tuple[float, float]],
                        bounds: Rect, taken: list[Rect] = ()) -> list[Rect | None]:
    """Where each range ring's distance goes: rings of screen radius ``radii[i]`` around ``origin``
    (the ego), captions of ``sizes[i]`` (width, height). Each takes the first spot of
    :data:`RING_SPOTS` (:func:`ring_spot`: where its ring crosses the vertical through the origin,
    then the horizontal, then the diagonals and the angles between) that lies inside ``bounds``
    and overlaps none of ``taken`` (the box labels, the HUD, the ego outline: they win) and no
    caption placed before it; None where no spot is free (the distance is left out)."""
    placed: list[Rect | None] = []
    blocked = Taken(max((max(s) for s in sizes), default=1.0), list(taken))
    for r, size in zip(radii, sizes):
        spots = (ring_spot(origin, r, size, deg, side) for deg, side in RING_SPOTS)
        rect = next((s for s in spots if clamp_rect(s, bounds) == s and not blocked.hits(s)), None)
        placed.append(rect)
        if rect is not None:
            blocked.add(rect)
    return placed


def _forced_spot(spots: list[Rect], bounds: Rect, obstacles: list[Rect]) -> Rect:
    """Where a forced label goes when every spot is taken: the first spot clear of the obstacles
    (it may overlap other labels), else its first spot moved just below the obstacles over it,
    else its first spot."""
    clear = next((r for r in spots if not any(overlaps(r, t) for t in obstacles)), None)
    if clear is not None:
        return clear
    x, y, w, h = spots[0]
    below = max(t[1] + t[3] for t in obstacles if overlaps(spots[0], t)) + GAP
    moved = clamp_rect((x, below, w, h), bounds)
    return moved if not any(overlaps(moved, t) for t in obstacles) else spots[0]
