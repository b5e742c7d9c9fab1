"""Track agreement of two labelled sequences (pre-labels against ground truth, or two annotators):
CLEAR MOT (:mod:`.mot`) over the boxes the edit cost looks at, with every identity switch listed.

The boxes compared are those :func:`.detection.edit_cost` compares: ground truth that counts (class
evaluated, in range and region, enough points) and pre-labels at the score threshold in the region,
not on a don't-care box and not on ground truth that does not count. Both sides need track IDs on
most of those boxes; otherwise there is nothing to compare and the result is None.
"""

from __future__ import annotations

import numpy as np

from ..geometry.iou import iou_matrix
from ..model.annotation import CuboidLabel
from .classes import eval_class
from .detection import EvalFrame, EvalSettings, _in_region, gt_valid_mask, on_dont_care
from .mot import clear_mot

TRACKED_SHARE = 0.5     # a side is tracked when at least this share of its compared boxes has an ID
MATCH_DISTANCE_M = 1.0  # BEV centre distance for a correspondence (CLEAR MOT's threshold)


def compared_boxes(frame: EvalFrame, s: EvalSettings, classes: tuple[str, ...]) -> tuple[list, list]:
    """(ground truth, pre-labels) of ``frame`` that the edit cost compares (see module docstring)."""
    counted = np.array([eval_class(g) in classes for g in frame.gt], bool)
    if len(frame.gt):
        counted &= gt_valid_mask(frame, s)
    preds = [p for p in frame.pred if (p.score if p.score is not None else 1.0) >= s.score_threshold
             and eval_class(p) in classes]
    keep = np.ones(len(preds), bool)
    if preds:
        keep &= _in_region(preds, frame, s.max_range) & ~on_dont_care(preds, frame)
        if len(frame.gt) and (~counted).any():
            ious = iou_matrix([p.box for p in preds], [g.box for g in frame.gt], "bev")
            keep &= ~(ious[:, ~counted] >= s.edit_iou).any(axis=1)
    return [g for g, c in zip(frame.gt, counted) if c], [p for p, k in zip(preds, keep) if k]


def _tracked(frames_labels: list[list[CuboidLabel]]) -> bool:
    labels = [lab for f in frames_labels for lab in f]
    return bool(labels) and sum(lab.track_id is not None for lab in labels) >= TRACKED_SHARE * len(labels)


def untracked_name(frame_id: str, label: CuboidLabel) -> str:
    """How the report names a box of frame ``frame_id`` that has no track ID: by its class and where
    its centre is in the frame (m), which is how an annotator finds it."""
    x, y = (float(v) for v in label.box.center[:2])
    return f"(no track: {label.label} at {x:.1f}, {y:.1f} in {frame_id})"


def track_agreement(frames: list[EvalFrame], s: EvalSettings, classes: tuple[str, ...]) -> dict | None:
    """CLEAR MOT of the pre-labels' tracks against the ground truth's over ``frames`` (in sequence
    order), with ``switches``: one row per identity switch (frame, ground-truth track, the
    pre-label track before and now). None when either side has no track IDs to speak of."""
    gt, hyp = zip(*(compared_boxes(f, s, classes) for f in frames)) if frames else ((), ())
    if not (_tracked(list(gt)) and _tracked(list(hyp))):
        return None

    def with_ids(labels: list[CuboidLabel], frame_id: str) -> list[CuboidLabel]:
        # a box without an ID is its own one-frame track, named by where it is: a ground-truth track
        # matched to it after (or before) a pre-label track switches, as an ID given to it would fix
        return [lab if lab.track_id is not None else lab.with_(track_id=untracked_name(frame_id, lab))
                for lab in labels]

    events: list = []
    report = clear_mot([with_ids(g, f.frame_id) for g, f in zip(gt, frames)],
                       [with_ids(h, f.frame_id) for h, f in zip(hyp, frames)], MATCH_DISTANCE_M, events)
    report["switches"] = [{"frame": frames[i].frame_id, "gt_track": g, "pred_track_before": before,
                           "pred_track_now": now} for i, g, before, now in events]
    return report
