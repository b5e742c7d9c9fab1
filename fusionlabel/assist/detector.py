"""The detector interface: a frame in, scored cuboids out.

A detection is a :class:`~fusionlabel.model.annotation.CuboidLabel` in the frame's LiDAR frame
with ``source="model"`` and a ``score`` in [0, 1]. :func:`make_detector` turns the CLI spelling
(``builtin``, ``onnx:PATH``, ``predictions:PATH``) into a detector.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..geometry.cuboid import Cuboid
from ..model.annotation import CuboidLabel
from ..model.drive import Drive


def detection(box: Cuboid, label: str, score: float, **attributes) -> CuboidLabel:
    """A model-made label with its score."""
    return CuboidLabel(box, label, None, float(score), "model", dict(attributes))


class Detector(ABC):
    """Finds objects in one frame of a drive."""

    name = "detector"
    # (spec, config) when :func:`make_detector` made it: another process can make the same detector
    # (the app's background pre-label run); None for a detector made otherwise.
    recipe: tuple[str, str | None] | None = None

    @abstractmethod
    def detect_frame(self, drive: Drive, index: int) -> list[CuboidLabel]:
        """Detections for frame ``index`` of ``drive``, boxes in its LiDAR frame, best first."""


class PointDetector(Detector):
    """A detector that only needs the sweep: implement :meth:`detect`."""

    @abstractmethod
    def detect(self, points: np.ndarray) -> list[CuboidLabel]:
        """Detections in a sweep of (N, 3+) float32 points (LiDAR frame), best first."""

    def detect_frame(self, drive: Drive, index: int) -> list[CuboidLabel]:
        return self.detect(drive.points(index))


def make_detector(spec: str, config: str | Path | None = None) -> Detector:
    """``builtin`` | ``onnx:MODEL.onnx`` | ``predictions:DIR_OR_JSON``; ``config`` is a YAML file of
    settings for the builtin or ONNX detector."""
    detector = _make(spec, config)
    detector.recipe = (spec, None if config is None else str(config))
    return detector


def _make(spec: str, config: str | Path | None) -> Detector:
    kind, _, arg = spec.partition(":")
    if kind == "builtin" and not arg:
        from .builtin import GeometricDetector
        from .config import BuiltinConfig, load_config

        return GeometricDetector(load_config(config) if config else BuiltinConfig())
    if kind == "onnx" and arg:
        from .onnx_detector import OnnxDetector

        return OnnxDetector(arg, config)
    if kind == "predictions" and arg:
        from .predictions import PredictionsDetector

        return PredictionsDetector(arg)
    raise InputError(None, f"expected builtin, onnx:PATH or predictions:PATH, got {spec!r}", where="--detector")
