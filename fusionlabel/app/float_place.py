"""Where a window floated out of the main window goes (the cameras' dock): beside the main window
when its screen has room (a little smaller if need be), else where it covers least of what must
stay in sight (the timeline, the object list), then of the views; and whether a remembered place
is still on a screen. Qt-free: rectangles are (x, y, w, h) in pixels."""

from __future__ import annotations

from collections.abc import Sequence

Rect = tuple[int, int, int, int]

MIN_SHOWN = 0.5     # of a window's area on one screen, for a remembered place to be kept
TITLE_PX = 24       # its top this far inside that screen too: its title bar can be grabbed
MIN_SCALE = 0.6     # a window put beside the main window may be shrunk to the room there, to this share
NEAR_EQUAL = 0.05   # of a window's area: spots covering the views within this much of each other are equal


def overlap(a: Rect, b: Rect) -> int:
    """The area two rectangles share (0 when apart)."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(w, 0) * max(h, 0)


def on_a_screen(rect: Rect, screens: list[Rect]) -> bool:
    """Whether ``rect`` is shown enough to use: at least :data:`MIN_SHOWN` of it on one of
    ``screens`` (their available areas), its top edge inside that screen."""
    area = rect[2] * rect[3]
    if area <= 0:
        return False
    for s in screens:
        top_inside = s[1] <= rect[1] <= s[1] + s[3] - TITLE_PX
        if top_inside and overlap(rect, s) >= MIN_SHOWN * area:
            return True
    return False


def _clamp(v: int, lo: int, hi: int) -> int:
    return max(lo, min(v, hi))


def beside_main(main: Rect, size: tuple[int, int], screen: Rect, views: Rect, keep: Sequence[Rect] = ()) -> Rect:
    """Where a window of ``size`` (w, h) goes on ``screen`` (its available area): beside the main
    window ``main`` (right, left, below or above it, level with it as far as the screen allows) on
    the side that holds it largest, shrunk (keeping its shape) to the room there if need be, but to
    no less than :data:`MIN_SCALE` of its size. When no side has that room: shrunk to the screen if
    it is larger, at the spot that covers least of ``keep`` (what must stay in sight: the timeline,
    the object list, the menu and status bars), then least of ``views`` (the main window's views).
    The spots: the corners of the views, inside them (the bottom right first: over their right-hand
    side, above the timeline), then the corners and edge middles of the screen; of equal ones, the
    first, and one covering less of the views by no more than :data:`NEAR_EQUAL` of its area is
    equal."""
    sx, sy, sw, sh = screen
    mx, my, mw, mh = main
    rooms = [sx + sw - (mx + mw), mx - sx, sy + sh - (my + mh), my - sy]   # right, left, below, above
    scales = [min(1.0, room / size[0], sh / size[1]) if i < 2 else min(1.0, sw / size[0], room / size[1])
              for i, room in enumerate(rooms)]
    side = max(range(4), key=lambda i: (scales[i], rooms[i], -i))
    if scales[side] >= MIN_SCALE:
        w, h = int(size[0] * scales[side]), int(size[1] * scales[side])
        x, y = _clamp(mx, sx, sx + sw - w), _clamp(my, sy, sy + sh - h)   # level with the main window
        x, y = [(mx + mw, y), (mx - w, y), (x, my + mh), (x, my - h)][side]
        return (x, y, w, h)
    w, h = min(size[0], sw), min(size[1], sh)
    right, bottom = sx + sw - w, sy + sh - h          # the last x, y that keep it on the screen
    mid_x, mid_y = sx + (sw - w) // 2, sy + (sh - h) // 2
    vx, vy, vw, vh = views
    inside = [(vx + vw - w, vy + vh - h), (vx + vw - w, vy), (vx, vy + vh - h), (vx, vy)]
    spots = [(_clamp(x, sx, right), _clamp(y, sy, bottom)) for x, y in inside]
    spots += [(right, bottom), (sx, bottom), (right, sy), (sx, sy),
              (right, mid_y), (sx, mid_y), (mid_x, bottom), (mid_x, sy)]

    kept = [sum(overlap((x, y, w, h), k) for k in keep) for x, y in spots]
    spots = [p for p, k in zip(spots, kept) if k == min(kept)]
    on_views = [overlap((x, y, w, h), views) for x, y in spots]
    least = min(on_views) + NEAR_EQUAL * w * h     # a few pixels less do not send it across the screen
    x, y = next(p for p, v in zip(spots, on_views) if v <= least)
    return (x, y, w, h)
