"""`fusionlabel eval --pred P --gt G [--drive D] [--frames 0-9] [--status done] [--only-predicted]
[--range-bins M,M] [--json]`: pre-label quality and edit cost, box-error components, attribute agreement."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from ..errors import InputError
from ..model.frame_spec import FRAMES_SYNTAX
from ..wording import counted as _n, listing
from ..qa.eval_selection import filter_line
from .eval_breakdowns import attribute_lines, box_error_lines, range_band_lines
from .run_json import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="compare pre-labels with ground truth: precision, recall, AP, IoU, edit cost",
                       description="Per-class precision, recall, AP (R40) and mean IoU of predictions against "
                                   "ground truth, and the edit cost: the creates, deletes, adjustments, "
                                   "class changes and turns an annotator needs to turn the predictions into the ground truth.")
    p.add_argument("--pred", type=Path, required=True,
                   help="folder of <frame>.txt (KITTI + score) or <frame>.json files, a fusionlabel KITTI export "
                        "(its label_2/), a project (all its current cuboids: pre-labels with their scores, human "
                        "ones as score 1), or a nuScenes results JSON")
    p.add_argument("--gt", type=Path, required=True,
                   help="a drive with labels, a project (its human and imported cuboids, on frames that have one "
                        "or are marked done), a folder of label files (with --drive), or a KITTI tracking "
                        "folder of labels only (label_02/, calib/; no sweeps, so --min-points does not apply)")
    p.add_argument("--drive", type=Path, help="the drive, when --gt is a folder of label files")
    p.add_argument("--scene", default=None,
                   help="nuScenes dataroot: scene name, token or index; KITTI tracking folder: sequence (0003 or 3) "
                        "(of --gt, or of --drive when given)")
    p.add_argument("--max-range", type=float, default=40.0,
                   help="evaluate objects within this xy range in metres (default: %(default)g)")
    p.add_argument("--min-points", type=int, default=20,
                   help="ground truth needs this many LiDAR points (default: %(default)d)")
    p.add_argument("--score-threshold", type=float, default=0.0,
                   help="operating point for precision/recall/edits (default: %(default)g)")
    p.add_argument("--accept-iou", default="0.7", metavar="IOU[,CLASS=IOU...]",
                   help="BEV IoU at which a pre-label needs no adjustment, for all classes and optionally per "
                        "class (car, truck, pedestrian, cyclist), e.g. 0.7,pedestrian=0.5,cyclist=0.5 (KITTI's and "
                        "Waymo's thresholds for a correct box) (default: %(default)s)")
    p.add_argument("--accept-heading", type=float, default=30.0, metavar="DEG",
                   help="a pre-label needs no edit only when its heading is within this many degrees of the "
                        "label's, mod 360 (one facing backwards is a turn, one key; 180 ignores headings) "
                        "(default: %(default)g)")
    p.add_argument("--classes", default=None, metavar="all|CLASS[,CLASS...]",
                   help="the classes to score: 'all' scores every class either side holds (van, bus and barrier "
                        "too: to compare two annotators), or a list such as car,van,pedestrian (default: car, "
                        "pedestrian, cyclist and truck, a detector benchmark's classes)")
    p.add_argument("--details", action="store_true",
                   help="also list every edit: frame, action, the boxes involved (class, track, score, centre) and "
                        "how far apart they are (in --json: disagreements)")
    p.add_argument("--range-bins", default=None, metavar="M,M[,M...]",
                   help="also give detection figures and the edit cost by distance band, e.g. 0,20,40 (bands "
                        "0-20 and 20-40 m, and a band beyond the last edge up to --max-range)")
    p.add_argument("--frames", metavar="0-9,15",
                   help=f"score only these frames of the ground truth's drive: {FRAMES_SYNTAX} (default: every "
                        "frame with ground truth; a frame without any is not scored, and the report says so)")
    p.add_argument("--status", metavar="done[,reviewed]",
                   help="score only the frames with this status (new, in_progress, done, reviewed, or a "
                        "comma-separated list) in the project given as --gt or --pred (in both when both are "
                        "projects), as `fusionlabel project status` counts them; within --frames when given")
    p.add_argument("--only-predicted", action="store_true",
                   help="score only the frames that have a prediction file (default: a frame without one counts "
                        "as a frame with no detections)")
    p.add_argument("--json", action="store_true", help="print the report as JSON (NaN written as null)")
    p.set_defaults(func=run)


def parse_accept_iou(text: str) -> tuple[float, dict]:
    """``"0.7"`` or ``"0.7,pedestrian=0.5"`` -> (default IoU, {canonical class: IoU}); an
    :class:`InputError` at ``--accept-iou`` otherwise."""
    from ..qa.detection import DEFAULT_IOU

    def bad(problem: str) -> InputError:
        return InputError(None, problem, where="--accept-iou")

    default, by_class = 0.7, {}
    for item in (t.strip() for t in text.split(",")):
        name, _, value = item.rpartition("=")
        name = name.strip().lower()
        try:
            iou = float(value)
        except ValueError:
            raise bad(f"{item!r} is not an IoU (a number in (0, 1], or CLASS=IoU)") from None
        if not 0.0 < iou <= 1.0:
            raise bad(f"{item!r}: an IoU lies in (0, 1]")
        if name in by_class:
            raise bad(f"{item!r}: {name} is given twice")
        if not name:
            default = iou
        elif name in DEFAULT_IOU:
            by_class[name] = iou
        else:
            raise bad(f"{item!r}: unknown class {name!r} (one of {', '.join(DEFAULT_IOU)})")
    return default, by_class


def _check_settings(args: argparse.Namespace) -> None:
    """One-line errors for settings no evaluation can use."""
    if not (math.isfinite(args.max_range) and args.max_range > 0):
        raise InputError(None, f"expected a range in metres above 0, got {args.max_range:g}", where="--max-range")
    if args.min_points < 0:
        raise InputError(None, f"expected a point count of 0 or more, got {args.min_points}", where="--min-points")
    if not (math.isfinite(args.score_threshold) and 0.0 <= args.score_threshold <= 1.0):
        raise InputError(None, f"expected a score from 0 to 1, got {args.score_threshold:g}",
                         where="--score-threshold")
    if not (math.isfinite(args.accept_heading) and 0.0 <= args.accept_heading <= 180.0):
        raise InputError(None, f"expected degrees from 0 to 180, got {args.accept_heading:g}",
                         where="--accept-heading")


def _fmt(v) -> str:
    return "  -  " if isinstance(v, float) and math.isnan(v) else f"{v:5.2f}"


def format_report(report: dict) -> str:
    lines = [f"{'class':12s} {'gt':>4s} {'pred':>5s} {'tp':>4s} {'prec':>5s} {'rec':>5s} {'AP':>5s} "
             f"{'bevIoU':>6s} {'3dIoU':>6s}  (IoU>=)"]
    for c, m in report["classes"].items():
        lines.append(f"{c:12s} {m['gt']:4d} {m['predictions']:5d} {m['tp']:4d} {_fmt(m['precision'])} "
                     f"{_fmt(m['recall'])} {_fmt(m['ap'])} {_fmt(m['mean_bev_iou']):>6s} "
                     f"{_fmt(m['mean_iou_3d']):>6s}  ({m['iou_threshold']:.2f})")
    lines.append(f"  (tp: the same class at BEV IoU >= the last column; pred, tp, prec and rec at score >= "
                 f"{report['settings']['score_threshold']:g}; AP over every score, KITTI's 40 recall points; "
                 "bevIoU, 3dIoU: means over the tp)")
    e = report["edit_cost"]
    lines.append(f"edit cost: {_n(e['actions'], 'action')} = {_n(e['creates'], 'create')} + "
                 f"{_n(e['deletes'], 'delete')} + {_n(e['adjustments'], 'adjustment')} + "
                 f"{_n(e['relabels'], 'relabel')} + {_n(e.get('turns', 0), 'turn')} ({e['accepted']} accepted as is); "
                 f"from scratch {_n(e['from_scratch'], 'create')}; ratio {_fmt(e['ratio']).strip()}, "
                 f"effort-weighted {_fmt(e['weighted_ratio']).strip()}")
    if e.get("by_class"):
        w = max(10, *(len(c) for c in e["by_class"]))
        lines.append(f"  {'by class':{w}s} {'gt':>4s} {'create':>6s} {'adjust':>6s} {'relabel':>7s} {'turn':>4s} {'delete':>6s} "
                     f"{'ok':>4s} {'weighted':>8s} {'share':>5s}")
        for c, r in e["by_class"].items():
            lines.append(f"  {c:{w}s} {r['gt']:4d} {r['creates']:6d} {r['adjustments']:6d} {r['relabels']:7d} {r.get('turns', 0):4d} "
                         f"{r['deletes']:6d} {r['accepted']:4d} {r['weighted']:8.1f} {_fmt(r['share'])}")
    if "tracks" in report:
        lines.append(tracks_line(report["tracks"]))
    s = report["settings"]
    by_class = "".join(f", {c} {v:g}" for c, v in s.get("accept_iou_by_class", {}).items())
    points = f"with >= {s['min_points']} points" if report.get("min_points_applied", True) else "(points not counted)"
    lines.append(f"{_n(report['frames'], 'frame')}; objects within {s['max_range']:g} m {points}; "
                 f"a pre-label needs no adjustment at BEV IoU >= {s['accept_iou']:g}{by_class}, its heading "
                 f"within {s.get('accept_heading_deg', 30.0):g} deg and its height range overlapping "
                 f">= {s.get('accept_height_iou', 0.5):g}")
    if report.get("filters", {}).get("frames_scored") is not None:
        lines.append(filter_line(report["filters"]))
    lines += box_error_lines(report.get("box_errors", {}))
    if "range_bands" in report:
        lines += range_band_lines(report["range_bands"])
    if "attributes" in report:
        lines += attribute_lines(report["attributes"], report.get("attribute_disagreements"))
    if "disagreements" in report:
        lines += details_lines(report["disagreements"])
    return "\n".join(lines)


def scored_classes(text: str | None, frames) -> tuple[str, ...] | None:
    """The classes ``--classes`` names (canonical names, see qa.classes), every class the frames
    hold for 'all', or None (the default set)."""
    from ..qa.classes import canonical, eval_class

    if text is None:
        return None
    if text.strip().lower() == "all":
        found = sorted({eval_class(lab) for f in frames for lab in (*f.gt, *f.pred)})
        if not found:
            raise InputError(None, "no labelled box on either side: no class to score", where="--classes")
        return tuple(found)
    names = [canonical(n.strip()) for n in text.split(",") if n.strip()]
    if not names:
        raise InputError(None, f"expected 'all' or class names separated by commas, got {text!r}", where="--classes")
    return tuple(dict.fromkeys(names))


def tracks_line(t: dict) -> str:
    """One line of track agreement (CLEAR MOT), naming up to five identity switches."""
    shown = ", ".join(f"{w['frame']}: track {w['gt_track']} from {w['pred_track_before']} to {w['pred_track_now']}"
                      for w in t["switches"][:5])
    more = f", … {len(t['switches']) - 5} more" if len(t["switches"]) > 5 else ""
    return (f"tracks: MOTA {_fmt(t['mota']).strip()}, {_n(t['id_switches'], 'identity switch')}"
            f"{f' ({shown}{more})' if shown else ''}, {_n(t['fragmentations'], 'fragmentation')}, "
            f"MOTP {_fmt(t['motp_m']).strip()} m (CLEAR MOT: centres within {t['threshold_m']:g} m)")


_ACTION_WORD = {"creates": "create", "deletes": "delete", "adjustments": "adjust", "relabels": "relabel",
                "turns": "turn"}


def _box_words(b: dict | None) -> str:
    if b is None:
        return "-"
    track = f" track {b['track_id']}" if b["track_id"] is not None else ""
    score = f" score {b['score']:.2f}" if b["score"] is not None else ""
    return f"{b['class']}{track}{score}"


def details_lines(rows: list[dict]) -> list[str]:
    """The edits one per line: frame, action, ground truth and pre-label, and their differences."""
    out = [f"edits ({len(rows)}): frame, action, ground truth <- pre-label, differences"]
    for r in rows:
        diff = "" if r.get("bev_iou") is None else (
            f"  BEV IoU {r['bev_iou']:.2f}, centre {r['centre_error_m']:.2f} m, heading {r['heading_error_deg']:.0f} deg, "
            f"height IoU {r['height_iou']:.2f}")
        out.append(f"  {r['frame']}  {_ACTION_WORD[r['action']]:7s} {_box_words(r['gt'])} <- {_box_words(r['pred'])}"
                   f"  at {r['range_m']:.0f} m{diff}")
    return out


def unpredicted_note(missing: list[str], total: int, only_predicted: bool) -> str:
    one = len(missing) == 1
    if only_predicted:
        what = f"{'it is' if one else 'they are'} not scored (--only-predicted)"
    else:
        what = (f"{'it counts as a frame' if one else 'they count as frames'} with no detections "
                "(--only-predicted leaves them out)")
    return f"note: {len(missing)} of {total} frames {'has' if one else 'have'} no prediction file " \
           f"({listing(missing)}); {what}"


def run(args: argparse.Namespace) -> int:
    from ..qa.detection import EvalSettings, MatchLog, evaluate
    from ..qa.range_bands import parse_range_edges
    from .eval_breakdowns import add_breakdowns
    from ..qa.track_agreement import track_agreement
    from ..model.status_option import parse_statuses
    from ..qa.eval_selection import FrameFilter
    from ..qa.sources import load_eval_frames

    _check_settings(args)
    accept_iou, accept_by_class = parse_accept_iou(args.accept_iou)
    range_edges = parse_range_edges(args.range_bins) if args.range_bins is not None else None
    missing: list[str] = []
    left_out: list[str] = []
    statuses = frozenset(parse_statuses(args.status)) if args.status is not None else None
    filters: dict = {"frames": None, "status": None}
    frames = load_eval_frames(args.pred, args.gt, args.drive, only_predicted=args.only_predicted,
                              unpredicted=missing, scene=args.scene, model_labels=left_out,
                              frame_filter=FrameFilter(args.frames, statuses), filters=filters)
    settings = EvalSettings(classes=scored_classes(args.classes, frames),
                            max_range=args.max_range, min_points=args.min_points,
                            score_threshold=args.score_threshold, accept_iou=accept_iou,
                            accept_iou_by_class=accept_by_class, accept_heading_deg=args.accept_heading)
    log = MatchLog()
    report = evaluate(frames, settings, details=args.details, log=log)
    add_breakdowns(report, log, args.gt, range_edges, args.details)
    tracks = track_agreement(frames, settings, tuple(report["classes"]))
    if tracks is not None:
        report["tracks"] = tracks
    report["filters"] = filters
    total = len(frames) + (len(missing) if args.only_predicted else 0)
    notes = [unpredicted_note(missing, total, args.only_predicted)] if missing else []
    for key, what in (("unscored_predictions", "prediction"), ("unscored_ground_truth", "ground-truth box")):
        if report[key]:
            notes.append(unscored_note(report[key], tuple(report["classes"]), what))
    uncounted = bool(frames) and all(f.gt_points is None for f in frames)
    report["min_points_applied"] = not uncounted
    if uncounted:
        notes.append(f"note: --min-points {args.min_points} not applied: the ground truth has no sweeps to count "
                     "points in (a KITTI tracking folder of labels only); every box in range counts")
    unfinished = unfinished_prelabel_note(args.pred)
    if unfinished:
        notes.append(unfinished)
    unlabelled = filters.get("selected_without_ground_truth")
    if unlabelled:
        notes.append(f"note: {_n(len(unlabelled), 'frame')} that --frames selects {'has' if len(unlabelled) == 1 else 'have'} "
                     f"no ground truth ({listing(unlabelled)}); not scored")
    imported = sum(lab.source == "import" for f in frames for lab in f.pred)
    if imported:
        notes.append(imported_note(imported, sum(len(f.pred) for f in frames)))
    if left_out:
        notes.append(f"note: left out of the ground truth {_n(len(left_out), 'model pre-label')} (with a score, "
                     f"not reviewed) in {_n(len(set(left_out)), 'frame')} ({listing(sorted(set(left_out)))}); "
                     "review or accept them to count them")
    if args.json:
        report["frames_without_predictions"] = missing
        report["only_predicted"] = args.only_predicted
        report["model_labels_left_out_of_gt"] = len(left_out)
        report["imported_predictions"] = imported
        print_json(report)
    else:
        print(format_report(report))
    for note in notes:
        print(note, file=sys.stderr)  # stdout holds the report only (one JSON document with --json)
    return 0


def unscored_note(unscored: dict[str, int], classes: tuple[str, ...], what: str = "prediction") -> str:
    """The note on ``what`` (predictions, ground-truth boxes) whose class eval does not score
    (``{name: count}``)."""
    names = ", ".join(f"{name} {n}" for name, n in unscored.items())
    return (f"note: {_n(sum(unscored.values()), what)} of classes eval does not score: {names} "
            f"(eval scores {', '.join(classes)}; see docs/prelabel.md)")


def imported_note(imported: int, total: int) -> str:
    """The note on a ``--pred`` project's imported labels, which count as predictions of score 1."""
    return (f"note: {imported} of the {_n(total, 'prediction')} are labels the --pred project imported from its "
            "drive, scored as predictions of score 1: against that drive's labels they are found by construction; "
            "to score only pre-labels, give a project created without --import-labels, or a prelabel --out folder")


def unfinished_prelabel_note(pred: str) -> str | None:
    """A note when ``pred`` is the ``--out`` folder of a ``prelabel`` run that did not finish."""
    from ..assist.prelabel_manifest import read_manifest

    doc = read_manifest(Path(pred)) if Path(pred).is_dir() else None
    if doc is None or doc.get("complete") is not False:
        return None
    written = doc.get("frames")
    n = len(written) if isinstance(written, list) else 0
    return (f"note: {pred} is the output of a prelabel run that did not finish ({_n(n, 'frame')} written); "
            "frames it did not reach count as frames without a prediction file")
