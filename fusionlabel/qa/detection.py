"""Detection quality of pre-labels against ground truth, and the edit cost to fix them.

Per class: precision and recall at the operating point, AP (40 recall points, KITTI's R40
interpolation), mean BEV and 3D IoU of the true positives. BEV IoU is measured in the LiDAR frame's
ground plane (KITTI's own evaluation uses the rectified camera's x-z plane: slightly different
numbers). Predictions and ground truth of classes outside the evaluated ones are counted
(``unscored_predictions``, ``unscored_ground_truth``). Edit cost: the creates, deletes and
adjustments an annotator needs to turn the pre-labels into the ground truth, compared with the
creates of labelling from scratch, as a plain count of actions and weighted by the relative effort
of each action (``EDIT_WEIGHTS``, an assumption: a create is 1, an adjustment 0.5, a delete, a
class change or a turn 0.2). A matched pre-label is *accepted* as it is when its footprint is close
enough (BEV IoU), its class right, its heading within ``accept_heading_deg`` of the label's (mod
360 degrees: a box facing backwards is not right) and its height range overlaps the label's (IoU of
the two z ranges at least ``accept_height_iou``: a floating box is not right). A box facing the
opposite way but otherwise right needs one key (``F``, flip 180 degrees): a *turn*; any other
heading, height or footprint error is an *adjustment*.

Which objects count: ground truth within ``max_range`` (xy distance from the LiDAR) with at least
``min_points`` LiDAR points, inside the frame's evaluated region (e.g. a camera's field of view,
DontCare areas excluded). Other ground truth is *ignored*: missing it costs nothing, and a
prediction that matches it at the class's IoU threshold is neither a true nor a false positive (one
that overlaps it less is a false positive). So is a prediction outside the region, and one that lands on a frame's *don't-care box* (``EvalFrame.ignore``: a real object
the labels leave out, e.g. a tracked object missing from one frame of a sequence): its centre lies
in the box's footprint, or at least half of the smaller of the two footprints overlaps.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..geometry.cuboid import Cuboid
from ..geometry.iou import bev_intersection, iou_3d, iou_matrix
from ..model.annotation import CuboidLabel
from .classes import NEIGHBOURS, TARGET_CLASSES, eval_class

DEFAULT_IOU = {"car": 0.5, "truck": 0.5, "pedestrian": 0.25, "cyclist": 0.25}
EDIT_WEIGHTS = {"creates": 1.0, "adjustments": 0.5, "deletes": 0.2, "relabels": 0.2, "turns": 0.2}
FIX_ACTIONS = ("creates", "deletes", "adjustments", "relabels", "turns")


@dataclass
class EvalFrame:
    """One frame to evaluate: ground truth with (optional) point counts (n_gt,), predictions,
    ``region(centres (M, 3)) -> (M,) bool``, the part of the frame that was labelled (None: all),
    and don't-care boxes ``ignore`` (LiDAR frame) where predictions are neither right nor wrong;
    ``forward``: the ego's forward as an xy direction in the LiDAR frame (for the detector)."""

    frame_id: str
    gt: list[CuboidLabel]
    pred: list[CuboidLabel]
    gt_points: np.ndarray | None = None
    region: Callable[[np.ndarray], np.ndarray] | None = None
    ignore: list[Cuboid] = field(default_factory=list)
    forward: tuple[float, float] = (1.0, 0.0)


@dataclass(frozen=True)
class EvalSettings:
    """``iou``: BEV IoU needed for a true positive, by class; ``score_threshold``: predictions
    below it are not pre-labels (AP still uses every prediction); ``accept_iou``: a matched
    pre-label at least this close (BEV IoU, right class) needs no adjustment, or the value in
    ``accept_iou_by_class`` for its ground truth's canonical class; ``edit_iou``: a
    pre-label overlapping a ground-truth box at least this much is adjusted rather than deleted;
    ``accept_heading_deg`` and ``accept_height_iou``: how far an accepted pre-label's heading may turn
    from the label's (mod 360 degrees) and how much its z range must overlap (IoU)."""

    max_range: float = 40.0
    min_points: int = 20
    iou: dict = field(default_factory=lambda: dict(DEFAULT_IOU))
    default_iou: float = 0.5
    score_threshold: float = 0.0
    accept_iou: float = 0.7
    accept_iou_by_class: dict = field(default_factory=dict)
    edit_iou: float = 0.1
    accept_heading_deg: float = 30.0
    accept_height_iou: float = 0.5
    classes: tuple[str, ...] | None = None   # evaluate these canonical classes (None: targets + found)
    # relative effort of each action, a create (draw, fit, classify one box) being 1: assumed, not measured
    edit_weights: dict = field(default_factory=lambda: dict(EDIT_WEIGHTS))


@dataclass
class MatchLog:
    """What :func:`evaluate` matched, for breakdowns (:mod:`.box_errors`, :mod:`.range_bands`,
    :mod:`.attribute_agreement`). ``pairs``: (class, frame ID, pre-label, ground truth) of each true
    positive at the operating point; ``scored``: (class, range m, 1 or 0) of each prediction at the
    operating point that is a true or false positive (range of its ground truth when true, its own
    otherwise); ``gt``: (class, range m) of each ground-truth box that counts; ``actions``: (action,
    class, range m) of each edit-cost action, ``accepted`` included, in the classes
    :func:`edit_cost` uses (range of the ground truth when there is one)."""

    pairs: list = field(default_factory=list)
    scored: list = field(default_factory=list)
    gt: list = field(default_factory=list)
    actions: list = field(default_factory=list)


def xy_range(lab: CuboidLabel) -> float:
    """Distance of the box's centre from the LiDAR in the ground plane (m)."""
    return float(np.hypot(lab.box.center[0], lab.box.center[1]))


def _centres(labels: list[CuboidLabel]) -> np.ndarray:
    return np.array([lab.box.center for lab in labels], dtype=np.float64).reshape(-1, 3)


def _in_region(labels: list[CuboidLabel], frame: EvalFrame, max_range: float) -> np.ndarray:
    c = _centres(labels)
    ok = np.hypot(c[:, 0], c[:, 1]) <= max_range
    if frame.region is not None and len(labels):
        ok &= np.asarray(frame.region(c), dtype=bool)
    return ok


def on_dont_care(preds: list[CuboidLabel], frame: EvalFrame, share: float = 0.5) -> np.ndarray:
    """(n_pred,) bool: predictions whose centre lies in a don't-care box's footprint or whose
    footprint overlaps one by at least ``share`` of the smaller of the two areas."""
    out = np.zeros(len(preds), bool)
    for k, p in enumerate(preds):
        a = p.box.length * p.box.width
        for box in frame.ignore:
            local = (np.asarray(p.box.center[:2]) - np.asarray(box.center[:2])) @ box.rotation()[:2, :2]
            if (np.all(np.abs(local) <= np.asarray(box.size[:2]) / 2.0)
                    or bev_intersection(p.box, box) >= share * min(a, box.length * box.width)):
                out[k] = True
                break
    return out


def gt_valid_mask(frame: EvalFrame, s: EvalSettings) -> np.ndarray:
    """(n_gt,) bool: ground truth that counts (in range and region, enough points)."""
    ok = _in_region(frame.gt, frame, s.max_range)
    if frame.gt_points is not None and len(frame.gt):
        ok &= np.asarray(frame.gt_points) >= s.min_points
    return ok


def average_precision_r40(scores: np.ndarray, tp: np.ndarray, n_gt: int) -> float:
    """AP as the mean, over recall levels 1/40..1, of the best precision at that recall or more."""
    if n_gt == 0:
        return float("nan")
    if len(scores) == 0:
        return 0.0
    order = np.argsort(-np.asarray(scores), kind="stable")
    tp = np.asarray(tp, dtype=np.float64)[order]
    ctp = np.cumsum(tp)
    precision = ctp / np.arange(1, len(tp) + 1)
    recall = ctp / n_gt
    # best precision at recall >= r: running max from the end
    best = np.maximum.accumulate(precision[::-1])[::-1]
    levels = np.arange(1, 41) / 40.0
    idx = np.searchsorted(recall, levels - 1e-12, side="left")
    return float(np.mean(np.where(idx < len(best), best[np.minimum(idx, len(best) - 1)], 0.0)))


@dataclass
class _ClassTally:
    n_gt: int = 0
    scores: list = field(default_factory=list)
    tp: list = field(default_factory=list)
    bev: list = field(default_factory=list)
    iou3: list = field(default_factory=list)


def _match_class(frame: EvalFrame, cls: str, valid: np.ndarray, s: EvalSettings, tally: _ClassTally,
                 log: MatchLog | None = None) -> None:
    thr = s.iou.get(cls, s.default_iou)
    gt_cls = [eval_class(g) for g in frame.gt]
    counted = np.array([c == cls for c in gt_cls], bool) & valid if frame.gt else np.zeros(0, bool)
    soft = np.array([c == cls or c in NEIGHBOURS.get(cls, ()) for c in gt_cls], bool) if frame.gt else counted
    tally.n_gt += int(counted.sum())
    if log is not None:
        log.gt.extend((cls, xy_range(frame.gt[j])) for j in np.flatnonzero(counted))
    preds = [p for p in frame.pred if eval_class(p) == cls]
    if not preds:
        return
    preds.sort(key=lambda p: -(p.score if p.score is not None else 1.0))
    in_region = _in_region(preds, frame, s.max_range) & ~on_dont_care(preds, frame)
    ious = iou_matrix([p.box for p in preds], [g.box for g in frame.gt], "bev")
    taken = np.zeros(len(frame.gt), bool)
    for k, p in enumerate(preds):
        score = p.score if p.score is not None else 1.0
        cand = np.where(counted & ~taken & (ious[k] >= thr), ious[k], -1.0)
        j = int(np.argmax(cand)) if len(cand) else -1
        if j >= 0 and cand[j] >= 0:
            taken[j] = True
            tally.scores.append(score)
            tally.tp.append(1)
            tally.bev.append(float(ious[k, j]))
            tally.iou3.append(iou_3d(p.box, frame.gt[j].box))
            if log is not None and score >= s.score_threshold:
                log.pairs.append((cls, frame.frame_id, p, frame.gt[j]))
                log.scored.append((cls, xy_range(frame.gt[j]), 1))
            continue
        # a hit on ground truth that does not count, or outside the region: ignored
        ignorable = ~counted & (ious[k] >= thr) & (soft | ~valid)
        if not in_region[k] or ignorable.any():
            continue
        tally.scores.append(score)
        tally.tp.append(0)
        if log is not None and score >= s.score_threshold:
            log.scored.append((cls, xy_range(p), 0))


EDIT_ACTIONS = (*FIX_ACTIONS, "accepted")


def heading_difference(a: float, b: float) -> float:
    """|a - b| in radians wrapped to [0, pi]: 0 for the same heading, pi for opposite ones."""
    return abs((a - b + np.pi) % (2.0 * np.pi) - np.pi)


def height_iou(a: Cuboid, b: Cuboid) -> float:
    """Intersection over union of the two boxes' z ranges (gravity-aligned boxes)."""
    lo = max(a.center[2] - a.size[2] / 2.0, b.center[2] - b.size[2] / 2.0)
    hi = min(a.center[2] + a.size[2] / 2.0, b.center[2] + b.size[2] / 2.0)
    union = max(a.center[2] + a.size[2] / 2.0, b.center[2] + b.size[2] / 2.0) - \
        min(a.center[2] - a.size[2] / 2.0, b.center[2] - b.size[2] / 2.0)
    return max(0.0, hi - lo) / union if union > 0 else 0.0


def fixes_of_match(pred: CuboidLabel, gt: CuboidLabel, bev_iou: float, gt_cls: str, s: EvalSettings) -> tuple[str, ...]:
    """What an annotator does to a pre-label matched to ``gt``: () when it is accepted as it is, else
    ("adjustments",), or any of "relabels" (class only) and "turns" (facing backwards only)."""
    off = heading_difference(pred.box.yaw, gt.box.yaw)
    tol = np.radians(s.accept_heading_deg)
    good_footprint = bev_iou >= s.accept_iou_by_class.get(gt_cls, s.accept_iou)
    if not good_footprint or tol < off < np.pi - tol or height_iou(pred.box, gt.box) < s.accept_height_iou:
        return ("adjustments",)
    return (*(("relabels",) if eval_class(pred) != gt_cls else ()), *(("turns",) if off > tol else ()))


def _who(lab: CuboidLabel) -> dict:
    return {"class": lab.label, "track_id": lab.track_id, "score": lab.score,
            "center": [round(float(v), 2) for v in lab.box.center]}


def disagreement(frame_id: str, action: str, pred: CuboidLabel | None, gt: CuboidLabel | None,
                 bev_iou: float | None = None) -> dict:
    """One edit an annotator makes, JSON-ready: the frame, the action, the pre-label and the
    ground-truth box involved (class, track, score, centre), and for a matched pair how far apart
    they are (BEV IoU, centre distance, heading difference in degrees, height-range IoU)."""
    row: dict = {"frame": frame_id, "action": action, "pred": _who(pred) if pred else None,
                 "gt": _who(gt) if gt else None}
    anchor = (gt or pred).box.center
    row["range_m"] = round(float(np.hypot(anchor[0], anchor[1])), 1)
    if pred is not None and gt is not None:
        row.update(bev_iou=round(float(bev_iou), 3),
                   centre_error_m=round(float(np.linalg.norm(np.subtract(pred.box.center, gt.box.center))), 3),
                   heading_error_deg=round(float(np.degrees(heading_difference(pred.box.yaw, gt.box.yaw))), 1),
                   height_iou=round(height_iou(pred.box, gt.box), 3))
    return row


def edit_cost(frame: EvalFrame, s: EvalSettings, classes: tuple[str, ...], edits_out: list | None = None,
              actions_out: list | None = None) -> dict:
    """Annotator actions for one frame: creates, deletes, adjustments (box), relabels (class only),
    turns (a box facing backwards; a match may need a relabel and a turn), and the same counts in
    ``by_class``: creates, adjustments, relabels, turns and accepted pre-labels by the ground truth's
    class, deletes by the deleted pre-label's class. ``edits_out`` gets one :func:`disagreement` per
    action when given, ``actions_out`` one (action, class, range m) per action, ``accepted`` and
    ``gt`` (each ground-truth box that counts) included."""
    valid = gt_valid_mask(frame, s)
    gt_cls = [eval_class(g) for g in frame.gt]
    counted = np.array([c in classes for c in gt_cls], bool) & valid if frame.gt else np.zeros(0, bool)
    preds = [p for p in frame.pred if (p.score if p.score is not None else 1.0) >= s.score_threshold]
    in_region = _in_region(preds, frame, s.max_range) & ~on_dont_care(preds, frame) if preds else np.zeros(0, bool)
    ious = iou_matrix([p.box for p in preds], [g.box for g in frame.gt], "bev")
    out = {"gt": int(counted.sum()), **dict.fromkeys(EDIT_ACTIONS, 0)}
    by_class: dict[str, dict[str, int]] = {}

    def row(cls: str) -> dict[str, int]:
        return by_class.setdefault(cls, dict.fromkeys(("gt", *EDIT_ACTIONS), 0))

    def tally(cls: str, action: str, lab: CuboidLabel) -> None:
        row(cls)[action] += 1
        out[action] += 1
        if actions_out is not None:
            actions_out.append((action, cls, xy_range(lab)))

    for j in np.flatnonzero(counted):
        row(gt_cls[j])["gt"] += 1
        if actions_out is not None:
            actions_out.append(("gt", gt_cls[j], xy_range(frame.gt[j])))
    matched_gt = np.zeros(len(frame.gt), bool)
    matched_pred = np.zeros(len(preds), bool)
    if len(preds) and counted.any():
        cols = np.flatnonzero(counted)
        cost = np.where(ious[:, cols] >= s.edit_iou, 1.0 - ious[:, cols], 10.0)
        rows, cc = linear_sum_assignment(cost)
        ok = cost[rows, cc] < 10.0
        for r, c in zip(rows[ok], cc[ok]):
            j = cols[c]
            matched_pred[r] = matched_gt[j] = True
            for action in fixes_of_match(preds[r], frame.gt[j], ious[r, j], gt_cls[j], s) or ("accepted",):
                tally(gt_cls[j], action, frame.gt[j])
                if edits_out is not None and action != "accepted":
                    edits_out.append(disagreement(frame.frame_id, action, preds[r], frame.gt[j], ious[r, j]))
    for j in np.flatnonzero(counted & ~matched_gt):
        tally(gt_cls[j], "creates", frame.gt[j])
        if edits_out is not None:
            edits_out.append(disagreement(frame.frame_id, "creates", None, frame.gt[j]))
    for k in np.flatnonzero(~matched_pred):
        if not in_region[k]:
            continue
        # a pre-label on an object that does not count (too far, too few points, other class) is left
        # alone; a second one on an object that counts is a duplicate to delete
        if len(frame.gt) and (ious[k][~counted] >= s.edit_iou).any():
            continue
        tally(eval_class(preds[k]), "deletes", preds[k])
        if edits_out is not None:
            edits_out.append(disagreement(frame.frame_id, "deletes", preds[k], None))
    out["by_class"] = by_class
    return out


def _weighted(counts: dict, weights: dict) -> float:
    return sum(weights.get(k, 1.0) * counts[k] for k in FIX_ACTIONS)


def unscored_predictions(frames: list[EvalFrame], classes: tuple[str, ...]) -> dict[str, int]:
    """How many predictions (any score) of each class name fall outside the evaluated ``classes``
    (an unknown name such as ``Vehicle``, nuScenes' barrier and traffic_cone), most first."""
    return _unscored((p for f in frames for p in f.pred), classes)


def unscored_ground_truth(frames: list[EvalFrame], classes: tuple[str, ...]) -> dict[str, int]:
    """How many ground-truth boxes (any range) of each class name fall outside the evaluated
    ``classes`` (KITTI's Van and Misc, or cars labelled ``Vehicle`` that eval would not count)."""
    return _unscored((g for f in frames for g in f.gt), classes)


def _unscored(labels, classes: tuple[str, ...]) -> dict[str, int]:
    counts = Counter(lab.label for lab in labels if eval_class(lab) not in classes)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def evaluate(frames: list[EvalFrame], settings: EvalSettings | None = None, details: bool = False,
             log: MatchLog | None = None) -> dict:
    """Per-class metrics and the edit cost over ``frames``; a JSON-ready dict (see module doc).
    ``details``: also ``disagreements``, one row per edit (:func:`disagreement`), frame by frame.
    ``log``, when given, receives the matches and actions behind the figures (:class:`MatchLog`)."""
    s = settings or EvalSettings()
    found = {eval_class(lab) for f in frames for lab in f.gt + f.pred}
    classes = s.classes or tuple(c for c in (*TARGET_CLASSES, "truck") if c in found or c in TARGET_CLASSES)
    tallies = {c: _ClassTally() for c in classes}
    for f in frames:
        valid = gt_valid_mask(f, s)
        for c in classes:
            _match_class(f, c, valid, s, tallies[c], log)
    per_class = {}
    for c, t in tallies.items():
        scores, tp = np.array(t.scores, dtype=np.float64), np.array(t.tp, dtype=np.int64)
        at_op = scores >= s.score_threshold
        n_tp = int(tp[at_op].sum())
        n_pred = int(at_op.sum())
        per_class[c] = {
            "gt": t.n_gt, "predictions": n_pred, "tp": n_tp, "fp": n_pred - n_tp, "fn": t.n_gt - n_tp,
            "precision": n_tp / n_pred if n_pred else float("nan"),
            "recall": n_tp / t.n_gt if t.n_gt else float("nan"),
            "ap": average_precision_r40(scores, tp, t.n_gt),
            "mean_bev_iou": float(np.mean(np.array(t.bev)[at_op[tp == 1]])) if n_tp else float("nan"),
            "mean_iou_3d": float(np.mean(np.array(t.iou3)[at_op[tp == 1]])) if n_tp else float("nan"),
            "iou_threshold": s.iou.get(c, s.default_iou),
        }
    edits = dict.fromkeys(("gt", *EDIT_ACTIONS), 0)
    by_class: dict[str, dict] = {}
    rows: list | None = [] if details else None
    for f in frames:
        one = edit_cost(f, s, classes, rows, log.actions if log is not None else None)
        for k in edits:
            edits[k] += one[k]
        for c, row in one["by_class"].items():
            total = by_class.setdefault(c, dict.fromkeys(row, 0))
            for k, v in row.items():
                total[k] += v
    w = s.edit_weights
    actions = sum(edits[k] for k in FIX_ACTIONS)
    edits["actions"] = actions
    edits["from_scratch"] = edits["gt"]
    edits["ratio"] = actions / edits["gt"] if edits["gt"] else float("nan")
    weighted = _weighted(edits, w)
    edits["weights"] = dict(w)
    edits["weighted"] = weighted
    edits["weighted_ratio"] = weighted / (w.get("creates", 1.0) * edits["gt"]) if edits["gt"] else float("nan")
    for row in by_class.values():
        # each class's share of the effort-weighted total (what to improve first)
        row["weighted"] = _weighted(row, w)
        row["share"] = row["weighted"] / weighted if weighted else float("nan")
    edits["by_class"] = dict(sorted(by_class.items(), key=lambda kv: -kv[1]["weighted"]))
    return {"frames": len(frames), "unscored_predictions": unscored_predictions(frames, classes),
            "unscored_ground_truth": unscored_ground_truth(frames, classes),
            "settings": {"max_range": s.max_range, "min_points": s.min_points,
                                                 "score_threshold": s.score_threshold,
                                                 "accept_iou": s.accept_iou,
                                                 "accept_iou_by_class": dict(s.accept_iou_by_class),
                                                 "edit_iou": s.edit_iou,
                                                 "accept_heading_deg": s.accept_heading_deg,
                                                 "accept_height_iou": s.accept_height_iou},
            "classes": per_class, "edit_cost": edits, **({"disagreements": rows} if details else {})}
