"""The selected cuboid's mark in a camera image: its dark rim, white halo and wider outline only
outside the box. Qt-free (OpenCV on the canvas array).

The rim, the halo and the wide class-coloured outline are drawn along every mark of the box, then
the pixels inside the box's projection (the convex hull of its wireframe) are put back as they
were and the marks drawn over them as thin as an unselected box's (on a small box; a large one
keeps the wide outline). So the selection stands out around the box while inside a small one the
object is drawn over exactly as when not selected (before, 4 px of rim on each side of every edge
hid most of a far pedestrian's pixels).
"""

from __future__ import annotations

import cv2
import numpy as np


def clip_convex(poly: np.ndarray, lo, hi) -> np.ndarray:
    """A convex polygon (N, 2) clipped to the rectangle [lo, hi] (Sutherland-Hodgman); (M, 2),
    M = 0 when nothing is left."""
    out = np.asarray(poly, float)
    for axis in (0, 1):
        for bound, keep_below in ((lo[axis], False), (hi[axis], True)):
            if not len(out):
                return out
            inside = out[:, axis] <= bound if keep_below else out[:, axis] >= bound
            nxt = np.roll(out, -1, axis=0)
            nxt_in = np.roll(inside, -1)
            kept = []
            for p, q, p_in, q_in in zip(out, nxt, inside, nxt_in):
                if p_in:
                    kept.append(p)
                if p_in != q_in:
                    t = (bound - p[axis]) / (q[axis] - p[axis])
                    kept.append(p + t * (q - p))
            out = np.asarray(kept, float).reshape(-1, 2)
    return out


def inside_mask(outline: np.ndarray, origin, shape) -> np.ndarray:
    """Bool mask of ``shape`` (rows, cols): the pixels (centres at integers, ``origin`` = the mask's
    top-left pixel on the canvas) inside the convex hull of ``outline`` (M, 2) canvas pixels."""
    mask = np.zeros(shape, np.uint8)
    pts = np.asarray(outline, float)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) < 3:
        return mask.astype(bool)
    hull = cv2.convexHull(pts.astype(np.float32)).reshape(-1, 2).astype(float)   # float32: a px off at 1e7 px
    local = clip_convex(hull - origin, (-1.0, -1.0), (shape[1], shape[0]))
    if len(local) >= 3:
        cv2.fillConvexPoly(mask, np.round(local * 16).astype(np.int32), 1, cv2.LINE_8, 4)
    return mask.astype(bool)


def draw_selected(canvas: np.ndarray, marks: list, outline: np.ndarray, rgb, rim_rgb, halo_rgb,
                  widths: tuple[int, int, int, int], shift: int, wide_inside_px: float = np.inf) -> None:
    """Draw a selected cuboid on ``canvas`` (H, W, 3) in place: ``marks`` (cv2 fixed-point polylines
    with ``shift`` bits, its edges or a pre-label's dashes) in a dark rim, a white halo and a wide
    line of its class colour ``rgb`` that show only outside the box's projection (``outline``: its
    wireframe's points, canvas pixels), then in a thin line of that colour (the wide one on a box at
    least ``wide_inside_px`` wide and high). ``widths``: rim, halo, wide and thin line (pixels)."""
    rim, halo, wide, thin = widths
    pts = np.asarray(outline, float)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) and (pts.max(axis=0) - pts.min(axis=0)).min() >= wide_inside_px:
        thin = wide       # a large box: the wide outline inside it too hides little of it
    if len(pts):
        pad = rim // 2 + 2
        h, w = canvas.shape[:2]
        x0, y0 = (np.clip(np.floor(pts.min(axis=0)) - pad, 0, (w, h))).astype(int)
        x1, y1 = (np.clip(np.ceil(pts.max(axis=0)) + pad + 1, 0, (w, h))).astype(int)
        if x1 > x0 and y1 > y0:
            roi = canvas[y0:y1, x0:x1]          # a view: drawn on in place
            before = roi.copy()
            step = np.array([x0, y0], np.int64) << shift
            local = [np.clip(m.astype(np.int64) - step, -(1 << 28), 1 << 28).astype(np.int32) for m in marks]
            cv2.polylines(roi, local, False, rim_rgb, rim, cv2.LINE_AA, shift)
            cv2.polylines(roi, local, False, halo_rgb, halo, cv2.LINE_AA, shift)
            cv2.polylines(roi, local, False, rgb, wide, cv2.LINE_AA, shift)
            inside = inside_mask(pts, (x0, y0), roi.shape[:2])
            roi[inside] = before[inside]
    cv2.polylines(canvas, marks, False, rgb, thin, cv2.LINE_AA, shift)
