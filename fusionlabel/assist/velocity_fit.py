"""A track's world-frame velocity from its recent boxes: the first guess of propagation (V).

Chained propagation (V, D, V, D …) guesses where the object goes next from the boxes it has
already: the difference of the last two carries each box's error straight into the next
prediction (a box 5 cm off along a car's side is a 0.5 m/s error at 10 Hz), and where the
points cannot correct it (a car seen from one side only) the error grows frame by frame.
:func:`fitted_velocity` fits a straight line, position against capture time, through the
track's last few boxes instead, trusting the boxes someone vouched for (drawn, imported or
accepted) more than machine-made ones; with two boxes it is their difference, with one zero.
"""

from __future__ import annotations

import numpy as np

WINDOW_BOXES = 8         # at most this many boxes, the newest last, enter the fit
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
