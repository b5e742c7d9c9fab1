"""Level of detail for views that would draw more points than they have pixels. Qt-free.

Every point of a large sweep gets a fixed pseudo-random rank (0 .. N-1, each once). A view with a
budget of k points draws the points ranked below k, an even sample of the sweep that is the same
every time (nothing flickers from one repaint to the next), plus every point it must keep (those
in the selected cuboids or within KEEP_MARGIN of them), and says so in its caption
("1.2M of 3.0M pts shown").
"""

from __future__ import annotations

import numpy as np

THIN_FROM = 100_000  # sweeps up to this size are never thinned (the loader ranks no points)
KEEP_MARGIN = 0.5  # metres around a selected cuboid within which no point is thinned away
SEED = 20240601


def thinning_ranks(n: int) -> np.ndarray:
    """A fixed pseudo-random rank (n,) for n points: a permutation of 0 .. n-1."""
    index = np.int32 if n < 2**31 else np.int64  # half the memory of int64 for any real sweep
    return np.random.default_rng(SEED).permutation(n).astype(index)


def drawn_rows(ranks: np.ndarray, budget: int, kept: np.ndarray) -> np.ndarray:
    """Rows to draw: those ranked below ``budget`` (ascending) then the ``kept`` rows not among them."""
    kept = np.asarray(kept, np.int64)
    return np.concatenate([np.flatnonzero(ranks < budget), kept[ranks[kept] >= budget]])


def point_budget(width: int, height: int) -> int:
    """Points worth drawing in a view of this many (widget) pixels: one per pixel (each is a 2x2
    dot, so that many cover the view several times over), at least THIN_FROM."""
    return max(THIN_FROM, int(width) * int(height))


def count_text(n: int) -> str:
    """A point count short: 950, 12k, 307k, 1.2M."""
    if n >= 1_000_000:
        return f"{n / 1e6:.1f}M"
    if n >= 10_000:
        return f"{n / 1e3:.0f}k"
    return f"{n:,}"


def thinned_caption(shown: int, total: int) -> str | None:
    """"1.2M of 3.0M pts shown" when a view thins the sweep, else None."""
    return None if shown >= total else f"{count_text(shown)} of {count_text(total)} pts shown"
