"""Multi-object tracking quality: CLEAR MOT (MOTA, MOTP, identity switches) and fragmentations.

Per frame, ground-truth objects and hypotheses are matched when their BEV centres are within
``threshold`` metres. A correspondence from the previous frame is kept while it stays within the
threshold; the rest is assigned by the Hungarian method on distance. A ground-truth object matched
to a different hypothesis than at its previous match is an identity switch.
MOTA = 1 - (misses + false positives + switches) / ground-truth objects.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..model.annotation import CuboidLabel


def clear_mot(gt: list[list[CuboidLabel]], hyp: list[list[CuboidLabel]], threshold: float = 1.0,
              switches_out: list | None = None) -> dict:
    """CLEAR MOT over a sequence of frames (labels need ``track_id``); ``switches_out`` gets
    ``(frame index, gt track, hypothesis track before, hypothesis track now)`` per identity switch."""
    if len(gt) != len(hyp):
        raise ValueError(f"gt has {len(gt)} frames, hypotheses {len(hyp)}")
    last_match: dict[str, str] = {}        # gt id -> hypothesis id at its last match
    active: dict[str, str] = {}            # gt id -> hypothesis id matched in the previous frame
    n_gt = misses = fps = switches = frags = 0
    dist_sum, n_match = 0.0, 0
    tracked_prev: set = set()
    for frame_index, (g_frame, h_frame) in enumerate(zip(gt, hyp)):
        g_ids = [g.track_id for g in g_frame]
        h_ids = [h.track_id for h in h_frame]
        n_gt += len(g_frame)
        gc = np.array([g.box.center[:2] for g in g_frame]).reshape(-1, 2)
        hc = np.array([h.box.center[:2] for h in h_frame]).reshape(-1, 2)
        d = np.linalg.norm(gc[:, None] - hc[None], axis=2) if len(gc) and len(hc) else np.zeros((len(gc), len(hc)))
        pairs: dict[int, int] = {}
        h_index = {h: k for k, h in enumerate(h_ids)}
        for gi, g in enumerate(g_ids):       # keep last frame's correspondences that still hold
            h = active.get(g)
            if h in h_index and d[gi, h_index[h]] <= threshold and h_index[h] not in pairs.values():
                pairs[gi] = h_index[h]
        rest_g = [gi for gi in range(len(g_ids)) if gi not in pairs]
        rest_h = [hi for hi in range(len(h_ids)) if hi not in pairs.values()]
        if rest_g and rest_h:
            sub = d[np.ix_(rest_g, rest_h)]
            cost = np.where(sub <= threshold, sub, 1e6)
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows, cols):
                if cost[r, c] < 1e6:
                    pairs[rest_g[r]] = rest_h[c]
        new_active = {}
        tracked = set()
        for gi, hi in pairs.items():
            g, h = g_ids[gi], h_ids[hi]
            if g in last_match and last_match[g] != h:
                switches += 1
                if switches_out is not None:
                    switches_out.append((frame_index, g, last_match[g], h))
            if g in last_match and g not in tracked_prev:
                frags += 1
            last_match[g] = h
            new_active[g] = h
            tracked.add(g)
            dist_sum += float(d[gi, hi])
            n_match += 1
        misses += len(g_ids) - len(pairs)
        fps += len(h_ids) - len(pairs)
        active = new_active
        tracked_prev = tracked
    mota = 1.0 - (misses + fps + switches) / n_gt if n_gt else float("nan")
    return {"gt": n_gt, "matches": n_match, "misses": misses, "false_positives": fps, "id_switches": switches,
            "fragmentations": frags, "mota": mota, "motp_m": dist_sum / n_match if n_match else float("nan"),
            "threshold_m": threshold}


def keyframe_interpolation_errors(frames_labels, every: int = 5) -> list[float]:
    """Centre errors (m) of interpolating every track from every ``every``-th of its frames (and
    its last) back onto the frames between. ``frames_labels``: per frame, labels with track IDs."""
    from ..assist.interpolate import interpolate_boxes

    tracks: dict = {}
    for f, labels in enumerate(frames_labels):
        for lab in labels:
            tracks.setdefault(lab.track_id, {})[f] = lab.box
    errors: list[float] = []
    for boxes in tracks.values():
        frames = sorted(boxes)
        keys = [f for f in frames if (f - frames[0]) % every == 0]
        if keys[-1] != frames[-1]:
            keys.append(frames[-1])
        out = interpolate_boxes({float(k): boxes[k] for k in keys}, [f for f in frames if f not in keys])
        errors += [float(np.linalg.norm(np.subtract(b.center, boxes[int(t)].center))) for t, b in out.items()]
    return errors

