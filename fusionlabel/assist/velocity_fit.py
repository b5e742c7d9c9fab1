"""A track's world-frame velocity from its recent boxes: the first guess of propagation (V).

:func:`fitted_velocity` fits a straight line, position against capture time, through the
track's last few boxes, boxes someone vouched for (drawn, imported or accepted) weighing more
than machine-made ones; with two boxes it is their difference, with one zero. The app's ``V``
(:func:`fusionlabel.assist.edit_assist.track_velocity`) and the chained-propagation benchmark
call it with the same window, so what is measured is what ships.

The window ships at two boxes: the difference of the last two. Fits over 3-10 boxes were tried
(docs/prelabel.md, "Propagation (ICP)"): chained along simulated tracks they cut the 95th
percentile error on the tuning drives, but on the held-out drives both the median and the 95th
percentile got worse.
"""

from __future__ import annotations

import numpy as np

WINDOW_BOXES = 2         # at most this many boxes, the newest last, enter the fit (see above)
WINDOW_SECONDS = 1.0     # nor any box older than this before the newest
TRUSTED_WEIGHT = 4.0     # weight of a vouched-for box in the fit (a machine-made one has 1)


def fitted_velocity(times, xy, trusted=None, boxes: int = WINDOW_BOXES, seconds: float = WINDOW_SECONDS,
                    trusted_weight: float = TRUSTED_WEIGHT) -> np.ndarray:
    """World-frame velocity (2,) in m/s of a track seen at ``times`` (n,) seconds, in any order,
    at world positions ``xy`` (n, 2): the slope of a weighted least-squares line through the
    newest ``boxes`` positions no more than ``seconds`` older than the newest one. ``trusted``
    (n,) bool marks boxes someone vouched for; they weigh ``trusted_weight``, the others 1.
    Two boxes give their difference over their time apart; one box (or boxes at one time) zero."""
    t = np.asarray(times, dtype=np.float64).reshape(-1)
    p = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    if len(t) != len(p):
        raise ValueError(f"fitted_velocity: {len(t)} times for {len(p)} positions")
    w = np.ones(len(t)) if trusted is None else np.where(np.asarray(trusted, dtype=bool), trusted_weight, 1.0)
    order = np.argsort(t, kind="stable")[-max(int(boxes), 1):]
    order = order[t[order] >= t[order[-1]] - seconds] if len(order) else order
    t, p, w = t[order], p[order], w[order]
    if len(t) < 2:
        return np.zeros(2)
    tm = (w @ t) / w.sum()
    spread = w @ (t - tm) ** 2
    if spread <= 1e-12:
        return np.zeros(2)
    return (w * (t - tm)) @ (p - (w @ p) / w.sum()) / spread
