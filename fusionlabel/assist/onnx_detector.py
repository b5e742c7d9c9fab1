"""Run an exported 3D detector (PointPillars, CenterPoint, ...) through onnxruntime.

Input/output contract (documented in docs/prelabel.md):

- one input: the sweep as float32 ``(N, F)`` (or ``(1, N, F)`` when the model's input has rank 3)
  with columns x, y, z, intensity[, ...] in the LiDAR frame; ``point_features`` (default: the
  model's static last dimension, else 4) columns are passed, ``intensity_scale`` multiplies
  column 3, ``max_points`` (or a static N) pads with zeros / keeps the nearest points;
- outputs (matched by name, renamable): ``boxes`` float ``(M, 7)`` = x, y, z, length, width,
  height, yaw in the LiDAR frame, ``scores`` ``(M,)`` and ``labels`` ``(M,)`` integer class
  indices; a leading batch dimension of 1 is dropped;
- ``z_origin``: "center" (default) or "bottom" when the network reports the box bottom;
- ``classes``: index -> class name, from the settings or the model's metadata ``classes``
  (comma-separated). Boxes of classes mapped to null, or below ``score_threshold``, are dropped.
- scores are probabilities: a score outside [0, 1] or not finite (raw logits: a sigmoid is missing)
  stops the run with an error naming the model and the output. A box at or above the threshold with
  a non-finite value or a size not above 0 is dropped and counted in ``invalid_boxes``.

Settings come from a YAML file given with ``--config`` or found beside the model as
``MODEL.onnx.yaml``. onnxruntime is imported only when a model is loaded.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..geometry.cuboid import Cuboid
from ..model.annotation import CuboidLabel
from .config import load_settings_yaml
from .detector import PointDetector, detection

KNOWN = {"classes", "score_threshold", "point_features", "intensity_scale", "max_points", "z_origin", "outputs",
         "input"}


def _load_settings(model: Path, config: str | Path | None) -> tuple[dict, Path | None]:
    path = Path(config) if config else model.with_name(model.name + ".yaml")
    if not config and not path.is_file():
        return {}, None
    doc = load_settings_yaml(path, "ONNX detector settings", "--config") or {}
    if not isinstance(doc, dict):
        raise InputError(path, f"expected a mapping of settings, got {type(doc).__name__}")
    unknown = set(doc) - KNOWN
    if unknown:
        raise InputError(path, f"unknown setting(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(KNOWN))}")
    return doc, path


def _load_error(model: Path, e: Exception) -> InputError:
    """onnxruntime's failure to load ``model`` as one line without its ``[ONNXRuntimeError] : 7 :
    INVALID_PROTOBUF : Load model from ... failed:`` preamble and C++ source locations."""
    text = " ".join(str(e).split())
    if type(e).__name__ == "InvalidProtobuf" or "INVALID_PROTOBUF" in text or model.stat().st_size == 0:
        return InputError(model, "not an ONNX model (onnxruntime could not parse it)")
    reason = text.rsplit(" failed:", 1)[-1] if " failed:" in text else text.split(" : ")[-1]
    reason = re.sub(r"^\S+\.(cc|cpp|h):\d+ (\S+::\S+\(.*?\) )?", "", reason.strip())
    if "does not have a graph" in reason:
        return InputError(model, "not an ONNX model (it holds no graph)")
    return InputError(model, f"cannot load ONNX model: {reason[:200]}")


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
        settings, where = _load_settings(model, config)
        settings.update(overrides)
        self.model_path, self.settings_path = model, where
        src = where or model
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types
            raise _load_error(model, e) from None
        inputs = self.session.get_inputs()
        name = settings.get("input")
        if name is None:
            if len(inputs) != 1:
                raise InputError(src, f"model has {len(inputs)} inputs ({', '.join(i.name for i in inputs)}); "
                                      "name the point input with 'input'", where="input")
            self.input = inputs[0]
        else:
            match = [i for i in inputs if i.name == name]
            if not match:
                raise InputError(src, f"model has no input {name!r} (inputs: {', '.join(i.name for i in inputs)})",
                                 where="input")
            self.input = match[0]
        shape = list(self.input.shape)
        if len(shape) not in (2, 3):
            raise InputError(model, f"point input must have rank 2 (N, F) or 3 (1, N, F), got shape {shape}")
        self.batched = len(shape) == 3
        static_f = shape[-1] if isinstance(shape[-1], int) else None
        static_n = shape[-2] if isinstance(shape[-2], int) else None
        self.features = int(settings.get("point_features", static_f or 4))
        if static_f is not None and self.features != static_f:
            raise InputError(src, f"point_features is {self.features} but the model takes {static_f} columns",
                             where="point_features")
        self.max_points = settings.get("max_points", static_n)
        self.intensity_scale = float(settings.get("intensity_scale", 1.0))
        self.score_threshold = float(settings.get("score_threshold", 0.1))
        self.z_origin = settings.get("z_origin", "center")
        if self.z_origin not in ("center", "bottom"):
            raise InputError(src, f"expected 'center' or 'bottom', got {self.z_origin!r}", where="z_origin")
        outputs = {"boxes": "boxes", "scores": "scores", "labels": "labels", **(settings.get("outputs") or {})}
        have = {o.name for o in self.session.get_outputs()}
        for role, out_name in outputs.items():
            if out_name not in have:
                raise InputError(src if where else model, f"model has no output {out_name!r} for {role} "
                                 f"(outputs: {', '.join(sorted(have))}); map them with 'outputs'", where="outputs")
        self.outputs = outputs
        classes = settings.get("classes")
        if classes is None:
            meta = self.session.get_modelmeta().custom_metadata_map
            if "classes" in meta:
                classes = [c.strip() for c in meta["classes"].split(",")]
        if not classes or not isinstance(classes, list):
            raise InputError(src, "no class mapping: give 'classes: [Car, Pedestrian, ...]' in the settings or the "
                                  "model metadata 'classes'", where="classes")
        self.classes = classes
        self.invalid_boxes = 0      # boxes at/above the threshold dropped for NaN/inf values or sizes <= 0

    def _input(self, points: np.ndarray) -> np.ndarray:
        p = np.asarray(points, dtype=np.float32)
        if p.shape[1] < self.features:
            p = np.c_[p, np.zeros((len(p), self.features - p.shape[1]), np.float32)]
        x = np.array(p[:, :self.features], dtype=np.float32, order="C")   # a copy: never touch the caller's sweep
        if self.features > 3 and self.intensity_scale != 1.0:
            x[:, 3] *= self.intensity_scale
        if self.max_points:
            n = int(self.max_points)
            if len(x) > n:
                keep = np.argsort(np.einsum("ij,ij->i", x[:, :2], x[:, :2]), kind="stable")[:n]
                x = x[np.sort(keep)]
            elif len(x) < n:
                x = np.r_[x, np.zeros((n - len(x), self.features), np.float32)]
        return x[None] if self.batched else x

    def detect(self, points: np.ndarray) -> list[CuboidLabel]:
        names = [self.outputs["boxes"], self.outputs["scores"], self.outputs["labels"]]
        try:
            boxes, scores, labels = self.session.run(names, {self.input.name: self._input(points)})
        except Exception as e:
            raise InputError(self.model_path, f"inference failed: {str(e).splitlines()[0][:200]}") from None
        boxes = np.asarray(boxes, dtype=np.float64)
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        labels = np.asarray(labels).reshape(-1).astype(np.int64)
        if boxes.ndim == 3 and boxes.shape[0] == 1:
            boxes = boxes[0]
        if boxes.ndim != 2 or boxes.shape[1] < 7 or not len(boxes) == len(scores) == len(labels):
            raise InputError(self.model_path, f"expected boxes (M, 7), scores (M,), labels (M,); got "
                                              f"{boxes.shape}, {scores.shape}, {labels.shape}", where="outputs")
        bad = ~(np.isfinite(scores) & (scores >= 0.0) & (scores <= 1.0))
        if bad.any():
            raise InputError(self.model_path, f"output {self.outputs['scores']!r} holds {scores[bad][0]:g} "
                                              f"({int(bad.sum())} of {len(scores)} scores outside [0, 1]): the "
                                              "contract wants probabilities (e.g. after a sigmoid), not raw logits",
                             where="outputs")
        out = []
        for b, s, k in zip(boxes, scores, labels):
            if s < self.score_threshold:
                continue
            if not np.all(np.isfinite(b[:7])) or min(b[3:6]) <= 0:
                self.invalid_boxes += 1
                continue
            if not 0 <= k < len(self.classes):
                raise InputError(self.model_path, f"label index {k} has no class (classes: {self.classes})",
                                 where="classes")
            name = self.classes[k]
            if name is None:
                continue
            z = b[2] + b[5] / 2.0 if self.z_origin == "bottom" else b[2]
            out.append(detection(Cuboid((b[0], b[1], z), b[3:6], b[6]), str(name), float(s)))
        out.sort(key=lambda d: -d.score)
        return out
