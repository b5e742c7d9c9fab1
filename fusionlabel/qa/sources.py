"""Where `fusionlabel eval` reads ground truth and predictions from.

Ground truth is a drive (its own labels; KITTI object drives also give the camera field of view and
DontCare areas as the evaluated region), a folder of per-frame label files together with a drive, or
one sequence of a KITTI tracking folder of labels only (:mod:`~fusionlabel.io.kitti_tracking_labels`:
no sweeps, so no point counts and ``--min-points`` does not apply).
Predictions are a folder of per-frame files (``<frame_id>.txt`` KITTI, score in column 16;
``<frame_id>.json`` native labels; one format per folder, a folder holding both is refused), a
fusionlabel KITTI export (its ``label_2/``, :mod:`.export_labels`), a project (its current cuboids
as its export reads them, :mod:`.project_labels`) or one nuScenes detection-results JSON. Boxes are compared in
each frame's LiDAR frame; point counts come from the drive's sweeps. A drive whose
labels carry track IDs gets don't-care boxes where a track is missing between two labelled frames
(interpolated in the world frame; SUSTech-style drives without ego poses in the LiDAR frame), as the
benchmark does (:func:`~fusionlabel.qa.datasets.track_gap_boxes`).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..model.annotation import CuboidLabel
from ..model.drive import Drive

from .datasets import count_points, kitti_camera_region, track_gap_boxes
from .detection import EvalFrame
from .eval_selection import FrameFilter, select_frames
from .export_labels import MANIFEST


def _folder_labels(folder: Path, drive: Drive, what: str) -> dict[int, list[CuboidLabel]]:
    """Labels per frame index from ``<frame_id>.txt|.json`` files in ``folder``."""
    from ..assist.predictions import T_rect_lidar, frames_of_files, read_kitti_predictions
    from ..io.native import read_labels

    from .export_labels import export_format, export_labels

    fmt = export_format(folder)
    if fmt is not None:
        _refuse_files_beside_export(folder, fmt, drive, what)
        return export_labels(folder, drive, what)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".txt", ".json"))
    if not files:
        from ..io.drives import drive_layout

        layout = drive_layout(folder)
        hint = f"; it is a {layout} drive: give it as {what} without --drive" if layout and what == "--gt" else ""
        raise InputError(folder, f"no .txt (KITTI) or .json (native) label files{hint}", where=what)
    kitti = [p.name for p in files if p.suffix.lower() == ".txt"]
    native = [p.name for p in files if p.suffix.lower() == ".json"]
    if kitti and native:
        # one set is stale (say, a native prelabel run into a folder of KITTI pre-labels): refuse to guess
        raise InputError(folder, f"holds both {len(native)} native .json and {len(kitti)} KITTI .txt label files "
                                 f"({native[0]}, {kitti[0]}); keep one format per folder", where=what)
    named = frames_of_files(drive, [p.name.split(".")[0] for p in files])
    out: dict[int, list[CuboidLabel]] = {}
    for p in files:
        frame_id = p.name.split(".")[0]
        i = named[frame_id]
        if i is None:
            twin = next((f.frame_id for f in drive.frames if frame_id.isdigit() and f.frame_id.isdigit()
                         and int(f.frame_id) == int(frame_id) and named.get(f.frame_id) is not None), None)
            if twin is not None:
                raise InputError(p, f"names frame '{twin}', as {twin}{p.suffix} does too: keep one of the two "
                                    "files", where=what)
            raise InputError(p, f"no frame '{frame_id}' in drive '{drive.name}' (file names are frame IDs, "
                                f"e.g. {drive.frames[0].frame_id if len(drive) else '000000'}{p.suffix})", where=what)
        out[i] = read_labels(p, unwrapped_yaw=what == "--pred") if p.suffix.lower() == ".json" else read_kitti_predictions(p, T_rect_lidar(drive, i))
    return out


def _refuse_files_beside_export(folder: Path, fmt: str, drive: Drive, what: str) -> None:
    """InputError when the export in ``folder`` has per-frame label files beside it (``<id>.txt`` /
    ``<id>.json`` at the top, named after frames of ``drive``; a ``prelabel --out`` run into the
    export folder, by a version that allowed it): which set is meant cannot be told, and reading the
    export's own labels as predictions would score the ground truth against itself."""
    from ..assist.predictions import frames_of_files

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".txt", ".json") and p.is_file())
    named = frames_of_files(drive, [p.name.split(".")[0] for p in files])
    beside = [p.name for p in files if named[p.name.split(".")[0]] is not None]
    if beside:
        n = len(beside)
        raise InputError(folder, f"holds a fusionlabel {fmt} export ({MANIFEST}) and, beside it, {n} per-frame label "
                                 f"file{'s' if n != 1 else ''} ({beside[0]}{', ...' if n > 1 else ''}): eval cannot "
                                 "tell which are the labels to score (the export's may be the ground truth); move "
                                 "the per-frame files into a folder of their own and give that", where=what)


def _predictions(path: Path, drive: Drive, frames: list[int], project=None) -> dict[int, list[CuboidLabel]]:
    """Predictions by frame index, only for the frames that have a prediction file (or results entry).
    A nuScenes results file none of whose sample tokens is one of ``frames`` (the frames with ground
    truth) is refused, as a folder of files named after another drive's frames is."""
    from ..assist.predictions import PredictionsDetector, frames_of_files

    if not path.exists():
        raise InputError(path, "predictions not found", where="--pred")
    from ..store.project import is_project

    if project is not None or (path.is_dir() and is_project(path)):
        return _project_predictions(path, drive, project)
    if path.is_dir() and (path / MANIFEST).is_file():
        return _folder_labels(path, drive, "--pred")
    jsons = list(path.glob("*.json")) if path.is_dir() else []
    if path.is_file() or (path.is_dir() and not any(path.glob("*.txt")) and len(jsons) == 1
                          and frames_of_files(drive, [jsons[0].name.split(".")[0]]).popitem()[1] is None):
        try:
            det = PredictionsDetector(path)
        except InputError as e:       # its messages name prelabel's option
            raise InputError(e.path, e.problem, where="--pred" if e.where == "--detector" else e.where) from None
        out = {i: det.detect_frame(drive, i) for i in range(len(drive))}
        try:
            det.check_matches(drive, frames)
        except InputError as e:
            raise InputError(e.path, e.problem, where="--pred") from None
        return {i: labels for i, labels in out.items() if i not in det.missing_frames}
    return _folder_labels(path, drive, "--pred")


def _project_predictions(folder: Path, drive: Drive, project=None) -> dict[int, list[CuboidLabel]]:
    """Every current cuboid of the project in ``folder`` (``project``: it, read already; pre-labels
    with their scores, human and imported ones and those C, V or I carried counting as score 1) by
    frame index of ``drive``,
    matched by frame ID; every frame of the project is predicted (a frame without cuboids has no
    detections)."""
    from .project_labels import read_project

    project = project if project is not None else read_project(folder)
    out: dict[int, list[CuboidLabel]] = {}
    for f, labels in zip(project.drive.frames, project.labels):
        i = drive.index_of_id(f.frame_id)
        if i is None:
            raise InputError(folder, f"its drive has frame '{f.frame_id}', which drive '{drive.name}' has not "
                                     "(a project of another drive?)", where="--pred")
        out[i] = labels
    return out


def _kitti_region(drive: Drive, i: int):
    from ..io.images import image_size
    from ..io.kitti import read_kitti_calib, read_kitti_label_file

    f = drive.frames[i]
    calib = drive.root / "calib" / f"{f.frame_id}.txt"
    image = f.image_paths.get("image_2")
    if not calib.is_file() or image is None or not Path(image).is_file():
        return None
    labels = drive.root / "label_2" / f"{f.frame_id}.txt"
    dontcare = [line.bbox for line in read_kitti_label_file(labels) if line.type == "DontCare"] \
        if labels.is_file() else []
    return kitti_camera_region(read_kitti_calib(calib), image_size(image), dontcare)


def load_eval_frames(pred: str | Path, gt: str | Path, drive: str | Path | None = None,
                     count: bool = True, only_predicted: bool = False,
                     unpredicted: list[str] | None = None, scene: str | None = None,
                     model_labels: list[str] | None = None, frame_filter: FrameFilter | None = None,
                     filters: dict | None = None) -> list[EvalFrame]:
    """Pair ground truth and predictions frame by frame (see module docstring); ``scene`` picks the
    scene or sequence of the drive (see :func:`~fusionlabel.io.drives.open_drive`).

    ``frame_filter`` (``--frames``, ``--status``) keeps only some of the frames with ground truth
    (:func:`~fusionlabel.qa.eval_selection.select_frames`; what it did goes into ``filters``), before
    anything else looks at them: the frames are paired and scored as on a drive holding only them.

    A frame with ground truth but no prediction file counts as a frame with no detections, or, with
    ``only_predicted``, is left out. Either way its frame ID is appended to ``unpredicted`` when given.
    Model pre-labels found among the ground truth (a score, source "model": say, a prelabel run
    written into the drive's own label folder) are not ground truth: they are left out, and the
    frame ID is appended to ``model_labels`` once per label left out.
    """
    from ..io.drives import open_drive
    from ..io.kitti_tracking_labels import labels_only_root, open_tracking_labels

    from ..store.project import is_project
    from .project_labels import read_project

    pred, gt = Path(pred), Path(gt)
    if not gt.exists():
        raise InputError(gt, "ground truth not found", where="--gt")
    gt_project = read_project(gt, scene) if gt.is_dir() and is_project(gt) else None
    if gt_project is not None and drive is not None:
        raise InputError(drive, "not used with a project as ground truth (the project knows its drive)",
                         where="--drive")
    if pred.is_dir() and is_project(pred) and gt_project is not None and pred.resolve() == gt.resolve():
        raise InputError(pred, "is the ground truth project too: its cuboids would be scored against "
                               "themselves", where="--pred")
    gt_is_drive = drive is None
    if gt_project is not None:
        d = gt_project.drive
    elif gt_is_drive and labels_only_root(gt) is not None:
        d = open_tracking_labels(gt, scene)
        if d.unread_lines:        # ground truth with a line left out would score its object as missing
            raise d.unread_lines[0]
        count = False             # no sweep to count points in: --min-points cannot apply (eval says so)
    elif gt_is_drive:
        try:
            d = open_drive(gt, scene)
        except InputError as e:
            if e.path is not None and gt.resolve() in e.path.resolve().parents:
                raise   # a drive with a bad file in it: that file's own error names it
            raise InputError(gt, f"not a drive ({e.problem}); for a folder of label files also give --drive",
                             where="--gt") from None
    else:
        d = open_drive(drive, scene)
    if gt_project is not None:
        frames = gt_project.ground_truth_frames()
        gt_labels = {i: list(gt_project.labels[i]) for i in frames}
    elif gt_is_drive:
        frames = [i for i in range(len(d)) if _has_labels(d, i)]
        gt_labels = {i: d.labels(i) for i in frames}
    else:
        gt_labels = _folder_labels(gt, d, "--gt")
        frames = sorted(gt_labels)
    pred_project = None
    if frame_filter:
        sides: dict[str, dict[int, str]] = {}
        if gt_project is not None:
            sides["--gt"] = dict(enumerate(gt_project.statuses))
        if frame_filter.statuses is not None and pred.is_dir() and is_project(pred):
            pred_project = read_project(pred)
            sides["--pred"] = {i: s for f, s in zip(pred_project.drive.frames, pred_project.statuses)
                               if (i := d.index_of_id(f.frame_id)) is not None}
        frames, record = select_frames(frames, d, frame_filter, sides)
        gt_labels = {i: gt_labels[i] for i in frames}     # the track gaps see only these frames too
        if filters is not None:
            filters.update(record)
    preds = _predictions(pred, d, frames, pred_project)
    missing = [i for i in frames if i not in preds]
    if unpredicted is not None:
        unpredicted.extend(d.frames[i].frame_id for i in missing)
    if only_predicted:
        if frames and len(missing) == len(frames):
            problem = "the one frame with ground truth has no prediction file" if len(frames) == 1 else \
                f"none of the {len(frames)} frames with ground truth has a prediction file"
            raise InputError(pred, problem, where="--pred")
        frames = [i for i in frames if i in preds]
    for i in frames:
        if model_labels is not None:
            model_labels.extend(d.frames[i].frame_id for lab in gt_labels[i] if lab.source == "model")
        gt_labels[i] = [lab for lab in gt_labels[i] if lab.source != "model"]
    gaps = _track_gaps(d, gt_labels)
    out = []
    for i in frames:
        g = [lab for lab in gt_labels[i] if lab.label != "DontCare"]
        points = d.points(i) if count else None
        out.append(EvalFrame(d.frames[i].frame_id, g, preds.get(i, []),
                             count_points(points, g) if count else None, _kitti_region(d, i), gaps.get(i, [])))
    return out


def _track_gaps(drive: Drive, gt_labels: dict[int, list[CuboidLabel]]) -> dict:
    """Don't-care boxes for tracks missing between labelled frames, by frame index, interpolated in
    the world frame (the LiDAR frame when the drive has no ego poses); the frame number (a numeric
    frame ID, else the index) is the time axis."""
    if not any(lab.track_id is not None for labels in gt_labels.values() for lab in labels):
        return {}
    number = {i: int(drive.frames[i].frame_id) if drive.frames[i].frame_id.isdigit() else i for i in gt_labels}
    poses = {number[i]: drive.T_world_lidar(i) for i in gt_labels}
    boxes = track_gap_boxes({number[i]: labels for i, labels in gt_labels.items()}, poses)
    return {i: boxes[number[i]] for i in gt_labels}


def _has_labels(drive: Drive, i: int) -> bool:
    f = drive.frames[i]
    if (drive.root / "label_2").is_dir():
        return (drive.root / "label_2" / f"{f.frame_id}.txt").is_file()
    return f.labels_source is not None
