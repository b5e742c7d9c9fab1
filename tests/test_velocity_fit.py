"""The velocity guess of propagation (V): a line fitted through a track's recent boxes.

Ground truth comes from simulated agents (fusionlabel.sim): their world positions over time and
their velocity from positions 1 ms apart. Noisy machine-made boxes stand for propagated ones."""

from __future__ import annotations

import numpy as np
import pytest

from fusionlabel.assist.velocity_fit import fitted_velocity
from fusionlabel.sim.scenario import build_scenario

DT = 0.1


def moving_tracks(seed=3, frames=8):
    """(times (T,), world xy (T, 2), true velocity at the last time (2,)) of the scenario's
    moving agents that exist in every frame and move faster than 1 m/s."""
    sc = build_scenario(seed, frames)
    t = DT * np.arange(frames)
    for agent in sc.agents:
        if agent.parked:
            continue
        pose, active = agent.poses(t, sc.layout)
        ahead, _ = agent.poses(t[-1:] + 1e-3, sc.layout)
        v = (ahead[0, :2] - pose[-1, :2]) / 1e-3
        if active.all() and np.hypot(*v) > 1.0:
            yield t, pose[:, :2], v


def test_a_line_through_noisy_boxes_beats_the_last_two():
    """The first box is the annotator's (exact, trusted), the rest carry noise as propagated
    boxes do: a line through 8 boxes is nearer the true velocity than the difference of the last
    two (independent noise; chained propagation's errors are not, see docs/prelabel.md)."""
    rng = np.random.default_rng(0)
    fit_err, two_err = [], []
    for t, xy, v in moving_tracks():
        for _ in range(20):
            noisy = xy + rng.normal(0.0, 0.08, xy.shape) * (np.arange(len(t)) > 0)[:, None]
            trusted = np.arange(len(t)) == 0
            fit_err.append(np.hypot(*(fitted_velocity(t, noisy, trusted, boxes=len(t)) - v)))
            two_err.append(np.hypot(*((noisy[-1] - noisy[-2]) / DT - v)))
    assert len(fit_err) >= 60
    assert np.median(fit_err) < 0.6 * np.median(two_err)


def test_trusted_boxes_weigh_more():
    """Exact trusted boxes among noisy ones: weighting them gives a better fit than not."""
    rng = np.random.default_rng(1)
    weighted, equal = [], []
    for t, xy, v in moving_tracks():
        trusted = np.arange(len(t)) % 2 == 0
        for _ in range(20):
            noisy = xy + rng.normal(0.0, 0.1, xy.shape) * ~trusted[:, None]
            weighted.append(np.hypot(*(fitted_velocity(t, noisy, trusted, boxes=len(t), seconds=10) - v)))
            equal.append(np.hypot(*(fitted_velocity(t, noisy, None, boxes=len(t), seconds=10) - v)))
    assert np.mean(weighted) < np.mean(equal)


def test_few_boxes_and_the_window():
    t, xy, v = next(moving_tracks())
    assert np.allclose(fitted_velocity(t[:1], xy[:1]), 0.0)                  # one box: standing still
    assert np.allclose(fitted_velocity(t[3:5], xy[3:5]), (xy[4] - xy[3]) / DT)    # two: their difference
    assert np.allclose(fitted_velocity(t[3:5][::-1], xy[3:5][::-1]), (xy[4] - xy[3]) / DT)  # any order
    # A box far in the past (out of the window in time) does not count, however wrong it is.
    old_t, old_xy = np.r_[t[0] - 5.0, t[3:5]], np.r_[[xy[0] + 100.0], xy[3:5]]
    assert np.allclose(fitted_velocity(old_t, old_xy), (xy[4] - xy[3]) / DT)
    # Only the newest ``boxes`` enter.
    assert np.allclose(fitted_velocity(t, xy, boxes=2), (xy[-1] - xy[-2]) / DT)
    with pytest.raises(ValueError, match="3 times for 2 positions"):
        fitted_velocity(t[:3], xy[:2])
