"""Run an exported 3D detector (PointPillars, CenterPoint, ...) through onnxruntime.

Input/output contract (documented in docs/prelabel.md, settings in :mod:`.onnx_settings`):

- one input, the points, float32 ``(N, F)`` (or ``(1, N, F)`` when the model's input has rank 3),
  checked when the model loads; its columns are ``input_columns`` (names of the sweep's columns x,
  y, z, intensity, ring, time, or the constants ``zero`` and ``batch``), or the first
  ``point_features`` (3 or 4) of x, y, z, intensity; by default x, y, z, intensity[:F] for a model
  with a static F up to 4; a model wanting more columns needs ``input_columns`` (nothing is guessed:
  a nuScenes sweep's 5th column is the ring, where nuScenes-trained models expect the time lag).
  ``intensity_scale`` multiplies the intensity column, ``max_points`` (or a static N) pads with zero
  rows / keeps the nearest points;
- or, with ``voxelize`` in the settings, three inputs: the sweep's pillars/voxels made on the host
  (voxels, points per voxel, voxel coordinates; :mod:`.onnx_voxel_input`), the voxel rows holding
  the same ``input_columns``;
- outputs (matched by name, renamable): ``boxes`` float ``(M, 7)`` = x, y, z, length, width,
  height, yaw in the LiDAR frame, ``scores`` ``(M,)`` and ``labels`` ``(M,)`` whole class
  indices counted from ``label_base`` (0, or 1 for OpenPCDet); a leading batch dimension of 1 is
  dropped. Element types, and the shapes the graph states (static dims), are checked when the
  model loads (:func:`output_shape_problem`); dynamic dims at the first frame;
- ``z_origin``: "center" (default) or "bottom" when the network reports the box bottom;
- ``classes``: index -> class name, from the settings or the model's metadata ``classes``
  (comma-separated). Boxes of classes mapped to null, or below ``score_threshold``, are dropped.
- scores are probabilities: a score outside [0, 1] or not finite (raw logits: a sigmoid is missing)
  stops the run with an error naming the model and the output. A box at or above the threshold with
  a non-finite value or a size not above 0 is dropped and counted in ``invalid_boxes``.

Settings come from a YAML file given with ``--config`` or found beside the model as
``MODEL.onnx.yaml``. onnxruntime is imported only when a model is loaded; its own log is silenced
(its errors come back as exceptions and are said in one line, naming the frame at inference).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..geometry.cuboid import Cuboid
from ..io.point_records import COLUMNS
from ..model.annotation import CuboidLabel
from ..model.drive import Drive
from .detector import PointDetector, detection
from .onnx_settings import CONSTANT_COLUMNS, check_settings, load_onnx_settings
from .onnx_voxel_input import VoxelFeed

QUIET = 4   # onnxruntime log severity: fatal only (warnings and errors otherwise reach stderr in colour)
FLOAT_TYPES = ("tensor(float)", "tensor(float16)", "tensor(double)")


def _ort_reason(text: str) -> str:
    """onnxruntime's message without its ``[ONNXRuntimeError] : N : CODE :`` preamble and C++
    source locations, in one line."""
    text = " ".join(text.split())
    text = re.sub(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ", "", text)
    return re.sub(r"\S+\.(cc|cpp|h):\d+ (\S+::\S+\(.*?\) )?", "", text).strip()


def _load_error(model: Path, e: Exception) -> InputError:
    """onnxruntime's failure to load ``model`` as one line without its ``[ONNXRuntimeError] : 7 :
    INVALID_PROTOBUF : Load model from ... failed:`` preamble and C++ source locations."""
    text = " ".join(str(e).split())
    if type(e).__name__ == "InvalidProtobuf" or "INVALID_PROTOBUF" in text or model.stat().st_size == 0:
        return InputError(model, "not an ONNX model (onnxruntime could not parse it)")
    reason = _ort_reason(text.rsplit(" failed:", 1)[-1] if " failed:" in text else text.split(" : ")[-1])
    if "does not have a graph" in reason:
        return InputError(model, "not an ONNX model (it holds no graph)")
    return InputError(model, f"cannot load ONNX model: {reason[:200]}")


def _static(dim) -> int | None:
    """A declared dimension's size, or None for a dynamic one (a name, or unknown)."""
    return dim if isinstance(dim, int) and not isinstance(dim, bool) and dim >= 0 else None


def output_shape_problem(outputs: dict[str, tuple[str, list | None]]) -> str | None:
    """What is wrong with the declared shapes of the outputs ({role: (name, shape)}, shapes as
    onnxruntime states them: ints, names of dynamic dims or None), or None. Only what the graph
    states is judged: dynamic dims pass, and an empty shape (onnxruntime's answer for a rank it
    cannot tell) is left to the check of the first frame's outputs. ``boxes`` must be (M, 7+)
    or (1, M, 7+); ``scores`` and ``labels`` one value per box, (M,) or with dims of 1 around it;
    static box counts must agree."""
    name, shape = outputs["boxes"]
    counts = {}
    if shape:
        dims = [_static(d) for d in shape]
        if len(dims) not in (2, 3) or (len(dims) == 3 and dims[0] not in (None, 1)):
            return f"output {name!r} (boxes) has shape {_shape_text(shape)}; the contract wants (M, 7) or (1, M, 7)"
        if dims[-1] is not None and dims[-1] < 7:
            return (f"output {name!r} (boxes) has shape {_shape_text(shape)}: {dims[-1]} values per box; the "
                    "contract wants 7 (x, y, z, length, width, height, yaw)")
        counts["boxes"] = dims[-2]
    for role in ("scores", "labels"):
        name, shape = outputs[role]
        if not shape:
            continue
        dims = [_static(d) for d in shape]
        if sum(d is not None and d > 1 for d in dims) > 1:
            return (f"output {name!r} ({role}) has shape {_shape_text(shape)}; the contract wants one value per "
                    "box, (M,) or (1, M)")
        if all(d is not None for d in dims):
            counts[role] = int(np.prod(dims))
    known = {role: n for role, n in counts.items() if n is not None}
    if len(set(known.values())) > 1:
        said = ", ".join(f"{outputs[role][0]!r} {n}" for role, n in known.items())
        return f"outputs hold different numbers of boxes ({said}); the contract wants M of each"
    return None


def _shape_text(shape) -> str:
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


class OnnxDetector(PointDetector):
    """A detector backed by an ONNX model (contract in the module docstring)."""

    name = "onnx"

    def __init__(self, model: str | Path, config: str | Path | None = None, **overrides):
        model = Path(model)
        if not model.is_file():
            raise InputError(model, "ONNX model not found", where="--detector")
        try:
            import onnxruntime as ort
        except ImportError:
            raise InputError(model, "onnxruntime is not installed (pip install onnxruntime)") from None
        settings, where = load_onnx_settings(model, config)
        settings = check_settings({**settings, **overrides}, where)
        self.model_path, self.settings_path = model, where
        src = where or model
        ort.set_default_logger_severity(QUIET)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.log_severity_level = QUIET
        self._run_options = ort.RunOptions()
        self._run_options.log_severity_level = QUIET
        try:
            self.session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types
            raise _load_error(model, e) from None
        self.voxel_feed = None
        if "voxelize" in settings:
            self.voxel_feed = VoxelFeed(self.session.get_inputs(), settings["voxelize"], model, src)
            self.columns = self._columns(settings, self.voxel_feed.static_channels, src)
        else:
            self._point_input_settings(settings, src)
        self.features = len(self.columns)
        self.intensity_scale = settings.get("intensity_scale", 1.0)
        self.score_threshold = settings.get("score_threshold", 0.1)
        self.z_origin = settings.get("z_origin", "center")
        self.label_base = settings.get("label_base", 0)
        self.outputs = {"boxes": "boxes", "scores": "scores", "labels": "labels", **settings.get("outputs", {})}
        self._check_outputs(src if where else model)
        classes = settings.get("classes")
        if classes is None:
            meta = self.session.get_modelmeta().custom_metadata_map
            if "classes" in meta:
                classes = [c.strip() for c in meta["classes"].split(",")]
        if not classes:
            raise InputError(src, "no class mapping: give 'classes: [Car, Pedestrian, ...]' in the settings or the "
                                  "model metadata 'classes'", where="classes")
        self.classes = classes
        self.invalid_boxes = 0      # boxes at/above the threshold dropped for NaN/inf values or sizes <= 0

    def _point_input_settings(self, settings: dict, src: Path) -> None:
        """The point input, its columns and ``max_points``, checked against the graph."""
        self.input = self._point_input(settings.get("input"), src)
        shape = list(self.input.shape)
        self.batched = len(shape) == 3
        static_f = shape[-1] if isinstance(shape[-1], int) else None
        static_n = shape[-2] if isinstance(shape[-2], int) else None
        self.columns = self._columns(settings, static_f, src)
        self.max_points = static_n if settings.get("max_points") is None else settings["max_points"]
        if static_n is not None and self.max_points != static_n:
            raise InputError(src, f"max_points is {self.max_points} but the model takes {static_n} points",
                             where="max_points")

    def _point_input(self, name: str | None, src: Path):
        """The model's one input, checked: float32, rank 2 or 3 (batch 1), named ``name`` if given."""
        inputs = self.session.get_inputs()
        names = ", ".join(i.name for i in inputs)
        if name is not None and name not in [i.name for i in inputs]:
            raise InputError(src, f"model has no input {name!r} (inputs: {names})", where="input")
        if len(inputs) != 1:
            raise InputError(self.model_path, f"model has {len(inputs)} inputs ({names}); the contract feeds one, "
                                              "the points (export a graph whose only input is the points)")
        point_input = inputs[0]
        shape = list(point_input.shape)
        if point_input.type != "tensor(float)":
            raise InputError(self.model_path, f"point input {point_input.name!r} is {point_input.type}; the contract "
                                              "feeds float32 points (export with a float32 input, or cast inside "
                                              "the graph)")
        if len(shape) not in (2, 3) or (len(shape) == 3 and isinstance(shape[0], int) and shape[0] != 1):
            raise InputError(self.model_path, f"point input must have shape (N, F) or (1, N, F), got {shape}")
        return point_input

    def _columns(self, settings: dict, static_f: int | None, src: Path) -> tuple[str, ...]:
        """The names of the input columns (settings ``input_columns`` / ``point_features``, else
        from the model's static F), checked against a static F."""
        if "input_columns" in settings:
            columns, key = settings["input_columns"], "input_columns"
        elif "point_features" in settings:
            columns, key = COLUMNS[:settings["point_features"]], "point_features"
        elif static_f is not None and static_f > 4:
            raise InputError(src, f"the model takes {static_f} columns per point: say what each holds with "
                                  "input_columns (x, y, z, intensity, ring, time, zero, batch), e.g. "
                                  "[x, y, z, intensity, zero] for a nuScenes model's time lag", where="input_columns")
        else:
            columns, key = COLUMNS[:static_f or 4], "point_features"
        if static_f is not None and len(columns) != static_f:
            raise InputError(src, f"{len(columns)} columns ({', '.join(columns)}) but the model takes {static_f}",
                             where=key)
        if len(columns) < 3 and key == "point_features":
            raise InputError(self.model_path, f"point input takes {len(columns)} columns per point; the contract "
                                              "needs at least x, y, z")
        return tuple(columns)

    def _check_outputs(self, src: Path) -> None:
        """The three outputs exist, hold the right element types and, where the graph states
        their shapes, the contract's shapes (:func:`output_shape_problem`)."""
        have = {o.name: o.type for o in self.session.get_outputs()}
        for role, out_name in self.outputs.items():
            if out_name not in have:
                raise InputError(src, f"model has no output {out_name!r} for {role} "
                                 f"(outputs: {', '.join(sorted(have))}); map them with 'outputs'", where="outputs")
            kind = have[out_name]
            if kind not in FLOAT_TYPES and not (role == "labels" and re.fullmatch(r"tensor\(u?int\d+\)", kind)):
                raise InputError(self.model_path, f"output {out_name!r} ({role}) is {kind}; expected "
                                 f"{'integer or ' if role == 'labels' else ''}float values", where="outputs")
        shapes = {o.name: o.shape for o in self.session.get_outputs()}
        problem = output_shape_problem({role: (name, shapes[name]) for role, name in self.outputs.items()})
        if problem:
            raise InputError(self.model_path, problem + " (checked when the model loads)", where="outputs")

    def _fail(self, frame: str | None, problem: str, key: str | None = None) -> InputError:
        """An error about one run of the model, naming the frame when it is known."""
        where = ": ".join(w for w in (f"frame {frame}" if frame is not None else None, key) if w)
        return InputError(self.model_path, problem, where=where or None)

    def _feed(self, points: np.ndarray, frame: str | None) -> dict[str, np.ndarray]:
        """The model's inputs for a sweep: its points, or its voxels (``voxelize``)."""
        if self.voxel_feed is None:
            return {self.input.name: self._input(points, frame)}
        p = np.asarray(points, dtype=np.float32)
        return self.voxel_feed.feed(p[:, :3], self._column_values(p, frame))

    def take_notes(self) -> list[str]:
        """What the sweeps fed since the last call left out, in words (voxels beyond max_voxels)."""
        return self.voxel_feed.take_notes() if self.voxel_feed is not None else []

    def _column_values(self, p: np.ndarray, frame: str | None) -> np.ndarray:
        """The input columns of the sweep ``p`` (N, F) float32, in new memory (never the caller's)."""
        x = np.zeros((len(p), self.features), np.float32)
        for j, name in enumerate(self.columns):
            if name in CONSTANT_COLUMNS:
                continue
            k = COLUMNS.index(name)
            if k >= p.shape[1] or (name == "ring" and len(p) and (p[:, k] < 0).all()):
                held = ", ".join(COLUMNS[:p.shape[1]] if k >= p.shape[1] else COLUMNS[:k] + COLUMNS[k + 1:p.shape[1]])
                raise self._fail(frame, f"the sweep has no {name} column (it holds {held}); change the model's "
                                        "input_columns", "input_columns")
            x[:, j] = p[:, k]
            if name == "intensity" and self.intensity_scale != 1.0:
                x[:, j] *= self.intensity_scale
        return x

    def _input(self, points: np.ndarray, frame: str | None = None) -> np.ndarray:
        p = np.asarray(points, dtype=np.float32)
        x = self._column_values(p, frame)
        if self.max_points:
            n = int(self.max_points)
            if len(x) > n:
                keep = np.argsort(np.einsum("ij,ij->i", p[:, :2], p[:, :2]), kind="stable")[:n]
                x = x[np.sort(keep)]
            elif len(x) < n:
                x = np.r_[x, np.zeros((n - len(x), self.features), np.float32)]
        return x[None] if self.batched else x

    def detect_frame(self, drive: Drive, index: int) -> list[CuboidLabel]:
        return self.detect(drive.points(index), frame=drive.frames[drive.index_of(index)].frame_id)

    def detect(self, points: np.ndarray, frame: str | None = None) -> list[CuboidLabel]:
        """Detections in a sweep (columns x, y, z, intensity[, ring, time]); ``frame`` (its id) is
        named in errors."""
        names = [self.outputs["boxes"], self.outputs["scores"], self.outputs["labels"]]
        feed = self._feed(points, frame)
        try:
            boxes, scores, labels = self.session.run(names, feed, self._run_options)
        except Exception as e:
            raise self._fail(frame, f"inference failed: {_ort_reason(str(e))[:300]}") from None
        boxes = np.asarray(boxes, dtype=np.float64)
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        labels = self._labels(np.asarray(labels).reshape(-1), frame)
        if boxes.ndim == 3 and boxes.shape[0] == 1:
            boxes = boxes[0]
        if boxes.ndim != 2 or boxes.shape[1] < 7 or not len(boxes) == len(scores) == len(labels):
            raise self._fail(frame, f"expected boxes (M, 7), scores (M,), labels (M,); got "
                                    f"{boxes.shape}, {scores.shape}, {labels.shape}", "outputs")
        bad = ~(np.isfinite(scores) & (scores >= 0.0) & (scores <= 1.0))
        if bad.any():
            raise self._fail(frame, f"output {self.outputs['scores']!r} holds {scores[bad][0]:g} "
                                    f"({int(bad.sum())} of {len(scores)} scores outside [0, 1]): the "
                                    "contract wants probabilities (e.g. after a sigmoid), not raw logits", "outputs")
        out = []
        for b, s, k in zip(boxes, scores, labels):
            if s < self.score_threshold:
                continue
            if not np.all(np.isfinite(b[:7])) or min(b[3:6]) <= 0:
                self.invalid_boxes += 1
                continue
            name = self._class_name(int(k), frame)
            if name is None:
                continue
            z = b[2] + b[5] / 2.0 if self.z_origin == "bottom" else b[2]
            out.append(detection(Cuboid((b[0], b[1], z), b[3:6], b[6]), str(name), float(s)))
        out.sort(key=lambda d: -d.score)
        return out

    def _labels(self, labels: np.ndarray, frame: str | None) -> np.ndarray:
        """The label output as int64; float labels must hold whole numbers."""
        if labels.dtype.kind == "f":
            whole = np.isfinite(labels) & (labels == np.round(labels))
            if not whole.all():
                raise self._fail(frame, f"output {self.outputs['labels']!r} holds {labels[~whole][0]:.6g}: the "
                                        "contract wants whole class indices", "outputs")
        return labels.astype(np.int64)

    def _class_name(self, label: int, frame: str | None) -> str | None:
        """The class of a model label (counted from ``label_base``); None for a class mapped to null."""
        k = label - self.label_base
        if not 0 <= k < len(self.classes):
            hint = ""
            if self.label_base == 0 and k == len(self.classes):
                hint = "; a model counting classes from 1 (OpenPCDet) needs 'label_base: 1'"
            raise self._fail(frame, f"label index {label} has no class (classes: {self.classes}, label_base "
                                    f"{self.label_base}){hint}", "classes")
        return self.classes[k]
