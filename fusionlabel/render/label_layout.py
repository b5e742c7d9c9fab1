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
Ctrl+A stays readable and the caller can say how many of its labels were left out.

:func:`place_ring_captions` writes the bird's-eye view's ring distances ("10 m") after the labels,
where they hide no label and not the ego outline.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

Rect = tuple[float, float, float, float]

GAP = 3.0  # pixels between the anchor and its label


@dataclass(frozen=True)
class LabelRequest:
    """A label of ``size`` (width, height) to place near ``anchor`` (x, y): the top of its box."""

    anchor: tuple[float, float]
    size: tuple[float, float]
    forced: bool = False
    centred: bool = False
    avoid: Rect | None = None   # the box's own extent on screen: spots over it are tried last


def overlaps(a: Rect, b: Rect) -> bool:
    """True when two rectangles share some area (touching edges do not count)."""
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def clamp_rect(rect: Rect, bounds: Rect) -> Rect:
    """``rect`` moved (not resized) to lie inside ``bounds``; one larger than the bounds keeps its
    top-left corner on the bounds' top-left corner."""
    x, y, w, h = rect
    bx, by, bw, bh = bounds
    x = max(bx, min(x, bx + bw - w))
    y = max(by, min(y, by + bh - h))
    return (x, y, w, h)


def candidates(anchor: tuple[float, float], size: tuple[float, float], bounds: Rect,
               centred: bool = False) -> list[Rect]:
    """The spots a label tries, best first, each inside ``bounds``; ``centred`` puts the spot
    centred above the anchor first."""
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
    out: list[Rect] = []
    for x, y in spots:
        r = clamp_rect((x, y, w, h), bounds)
        if r not in out:
            out.append(r)
    return out


def place_labels(requests: list[LabelRequest], bounds: Rect, obstacles: list[Rect] = ()) -> list[Rect | None]:
    """A rectangle inside ``bounds`` for each request (in order of priority), or None for a label
    left out because every spot near its anchor was taken. Placed labels never overlap each other
    or an obstacle, except a forced one that found no free spot."""
    placed: list[Rect] = []
    taken = list(obstacles)
    out: list[Rect | None] = []
    for req in requests:
        spots = candidates(req.anchor, req.size, bounds, req.centred)
        if req.avoid is not None:   # a label beside its box rather than over it, when there is room
            spots.sort(key=lambda r: overlaps(r, req.avoid))
        rect = next((r for r in spots if not any(overlaps(r, t) for t in taken)), None)
        if rect is None and req.forced:
            rect = _forced_spot(spots, bounds, obstacles)
        out.append(rect)
        if rect is not None:
            placed.append(rect)
            taken.append(rect)
    return out


def place_view_labels(requests: list[LabelRequest], selected: list[bool], primary: int | None, bounds: Rect,
                      obstacles: list[Rect] = ()) -> tuple[list[Rect | None], int]:
    """Labels of one view's cuboids: ``requests`` in the view's own order (e.g. nearest first; their
    ``forced`` is ignored), ``selected[i]`` whether request i is of a selected cuboid, ``primary``
    the index of the one whose label is always drawn (the first selected, or None when it is not in
    this view). The primary first, then the other selected, then the rest (each group in the given
    order), each only where it overlaps no label placed before it and no obstacle. Returns the
    rectangles in the order of ``requests`` (None: left out) and how many selected labels were left out."""
    order = sorted(range(len(requests)), key=lambda i: (i != primary, not selected[i]))
    rects = place_labels([replace(requests[i], forced=i == primary) for i in order], bounds, obstacles)
    out: list[Rect | None] = [None] * len(requests)
    for i, rect in zip(order, rects):
        out[i] = rect
    return out, sum(1 for i, rect in enumerate(out) if selected[i] and rect is None)


def place_ring_captions(origin: tuple[float, float], radii: list[float], sizes: list[tuple[float, float]],
                        bounds: Rect, taken: list[Rect] = ()) -> list[Rect | None]:
    """Where each range ring's distance goes: rings of screen radius ``radii[i]`` around ``origin``
    (the ego), captions of ``sizes[i]`` (width, height). Each takes the first spot next to where its
    ring crosses the vertical through the origin (ahead, right then left; behind, right then left),
    then the horizontal (right, left), that lies inside ``bounds`` and overlaps none of ``taken``
    (the box labels, the HUD, the ego outline: they win) and no caption placed before it; None
    where no spot is free (the distance is left out)."""
    ox, oy = origin
    placed: list[Rect | None] = []
    blocked = list(taken)
    for r, (w, h) in zip(radii, sizes):
        spots = [(ox + GAP, oy - r - GAP - h), (ox - GAP - w, oy - r - GAP - h), (ox + GAP, oy + r + GAP),
                 (ox - GAP - w, oy + r + GAP), (ox + r + GAP, oy - GAP - h), (ox - r - GAP - w, oy - GAP - h)]
        rect = next((s for s in ((x, y, w, h) for x, y in spots)
                     if clamp_rect(s, bounds) == s and not any(overlaps(s, t) for t in blocked)), None)
        placed.append(rect)
        if rect is not None:
            blocked.append(rect)
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
