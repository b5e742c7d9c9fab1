"""Label placement per paint: ``render.label_layout.place_view_labels`` for 200 to 3,000 labels
scattered over a 1900 x 1000 view (a zoomed-out crowded frame), beside their box only (as the app's
views place them with more than ``NUDGED_LABELS_MAX`` labels in view) and as the bird's-eye view and
the cameras do up to that many (a few lines further away with a leader line, off the other boxes),
and ``place_ring_captions`` for 30 rings among them. Prints milliseconds per call and how many
labels found a place.

Usage: python benchmarks/bench_label_layout.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import random
import sys
import timeit
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fusionlabel.render.label_layout import (LABEL_NUDGES, NUDGED_LABELS_MAX, LabelRequest,  # noqa: E402
                                            place_ring_captions, place_view_labels)

BOUNDS = (0.0, 0.0, 1900.0, 1000.0)


def best_ms(fn, repeats: int) -> float:
    return 1000.0 * min(timeit.repeat(fn, number=1, repeat=repeats))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    rng = random.Random(0)
    for n in (200, NUDGED_LABELS_MAX, 1000, 3000):
        boxes = [(rng.uniform(0, 1900), rng.uniform(0, 1000), 8.0, 16.0) for _ in range(n)]
        requests = [LabelRequest((x + 4.0, y), (80.0, 15.0), avoid=(x, y, w, h)) for x, y, w, h in boxes]
        plain = [LabelRequest(r.anchor, r.size) for r in requests]
        rects, _ = place_view_labels(plain, [False] * n, None, BOUNDS)
        labels = [r for r in rects if r is not None]
        ms = best_ms(lambda: place_view_labels(plain, [False] * n, None, BOUNDS), args.repeats)
        radii = [12.0 * k for k in range(1, 31)]
        rings = best_ms(lambda: place_ring_captions((950.0, 500.0), radii, [(40.0, 15.0)] * 30, BOUNDS, labels),
                        args.repeats)
        print(f"{n:5d} labels: {ms:7.1f} ms to place ({len(labels)} placed), 30 ring distances {rings:5.1f} ms")

        nudges = LABEL_NUDGES if n <= NUDGED_LABELS_MAX else 0   # as the app's views decide

        def bev():
            return place_view_labels(requests, [False] * n, None, BOUNDS, nudges=nudges, boxes=boxes if nudges else (),
                                     leaders=bool(nudges))
        nudged = sum(1 for r in bev()[0] if r is not None)
        print(f"{'':13s}{best_ms(bev, args.repeats):7.1f} ms as the bird's-eye view places them ({nudged} placed)")


if __name__ == "__main__":
    main()
