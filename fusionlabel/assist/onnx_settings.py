"""Settings of the ONNX detector (``--config FILE`` or ``MODEL.onnx.yaml``), every key checked.

:func:`check_settings` turns the YAML mapping into checked values; a wrong key or value is an
:class:`InputError` in one line naming the settings file and the key. Keys (docs/prelabel.md):
``classes``, ``label_base``, ``score_threshold``, ``input``, ``input_columns``, ``point_features``,
``intensity_scale``, ``max_points``, ``z_origin``, ``outputs``, and ``voxelize`` (a model fed
pillars/voxels made on the host: :mod:`.onnx_voxel_settings`).
"""

from __future__ import annotations

import math
from pathlib import Path

from ..errors import InputError
from ..io.point_records import COLUMNS
from .config import load_settings_yaml
from .onnx_voxel_settings import POINT_INPUT_KEYS, check_voxelize

CONSTANT_COLUMNS = ("zero", "batch")
"""Input columns that hold 0 for every point: ``zero`` (e.g. nuScenes' time lag of a keyframe) and
``batch`` (the batch index OpenPCDet puts first)."""
INPUT_COLUMNS = COLUMNS + CONSTANT_COLUMNS
OUTPUT_ROLES = ("boxes", "scores", "labels")
KNOWN = ("classes", "label_base", "score_threshold", "input", "input_columns", "point_features", "intensity_scale",
         "max_points", "z_origin", "outputs", "voxelize")


def load_onnx_settings(model: Path, config: str | Path | None) -> tuple[dict, Path | None]:
    """The checked settings of ``model`` (from ``config``, else ``MODEL.onnx.yaml`` when it exists)
    and the file they came from (None when there is none)."""
    path = Path(config) if config else model.with_name(model.name + ".yaml")
    if not config and not path.is_file():
        return {}, None
    doc = load_settings_yaml(path, "ONNX detector settings", "--config")
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise InputError(path, f"expected a mapping of settings, got {type(doc).__name__}")
    return check_settings(doc, path), path


def check_settings(doc: dict, path: Path | None) -> dict:
    """``doc`` with every value checked (numbers as float/int, ``input_columns`` as a tuple);
    unknown keys are refused."""
    out = {}
    for key, value in doc.items():
        if key not in KNOWN:
            raise InputError(path, f"unknown setting (known: {', '.join(KNOWN)})", where=str(key))
        out[key] = _CHECKS[key](value, lambda problem, sub=None: InputError(path, problem,
                                                                            where=f"{key}.{sub}" if sub else key))
    if "input_columns" in out and "point_features" in out:
        raise InputError(path, "give either input_columns or point_features, not both", where="point_features")
    if "voxelize" in out:
        for key in POINT_INPUT_KEYS:
            if key in out:
                raise InputError(path, "a setting of the point input, which a model fed voxels (voxelize) has not: "
                                       "name its inputs in voxelize.inputs, size them with voxelize.max_voxels",
                                 where=key)
    if out.get("label_base") == 1 and out.get("classes") and out["classes"][0] is None:
        raise InputError(path, "label_base: 1 already counts the labels from 1, and a leading null in classes "
                               "does it again (the labels would shift twice): keep one of the two", where="classes")
    return out


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _classes(value, fail):
    if not isinstance(value, list) or not value:
        raise fail(f"expected a list of class names (null drops a class), got {value!r}")
    for i, name in enumerate(value):
        if name is not None and not (isinstance(name, str) and name.strip()):
            raise fail(f"entry {i} is {name!r}: expected a class name or null")
    return value


def _label_base(value, fail):
    if value not in (0, 1) or not _is_int(value):
        raise fail(f"expected 0 (labels count from 0) or 1 (from 1, as OpenPCDet's), got {value!r}")
    return value


def _score_threshold(value, fail):
    if not _is_number(value) or not 0.0 <= value <= 1.0:
        raise fail(f"expected a number in [0, 1], got {value!r}")
    return float(value)


def _input(value, fail):
    if not isinstance(value, str) or not value:
        raise fail(f"expected the name of the model's point input, got {value!r}")
    return value


def _input_columns(value, fail):
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) for v in value):
        raise fail(f"expected a list of column names ({', '.join(INPUT_COLUMNS)}), got {value!r}")
    unknown = [v for v in value if v not in INPUT_COLUMNS]
    if unknown:
        raise fail(f"unknown column {unknown[0]!r} (known: {', '.join(INPUT_COLUMNS)})")
    twice = [v for v in COLUMNS if value.count(v) > 1]
    if twice:
        raise fail(f"column {twice[0]!r} is listed twice")
    return tuple(value)


def _point_features(value, fail):
    if not _is_int(value) or not 3 <= value <= 4:
        raise fail(f"expected 3 (x, y, z) or 4 (x, y, z, intensity), got {value!r}; for other columns give "
                   "input_columns, e.g. [x, y, z, intensity, zero]")
    return value


def _intensity_scale(value, fail):
    if not _is_number(value) or not value > 0:
        raise fail(f"expected a positive number, got {value!r}")
    return float(value)


def _max_points(value, fail):
    if value is not None and (not _is_int(value) or value < 1):
        raise fail(f"expected a positive whole number of points, got {value!r}")
    return value


def _z_origin(value, fail):
    if value not in ("center", "bottom"):
        raise fail(f"expected 'center' or 'bottom', got {value!r}")
    return value


def _outputs(value, fail):
    if not isinstance(value, dict):
        raise fail(f"expected a mapping {{boxes: NAME, scores: NAME, labels: NAME}}, got {value!r}")
    for role, name in value.items():
        if role not in OUTPUT_ROLES:
            raise fail(f"unknown output {role!r} (known: {', '.join(OUTPUT_ROLES)})")
        if not isinstance(name, str) or not name:
            raise fail(f"{role}: expected the name of a model output, got {name!r}")
    return dict(value)


_CHECKS = {"classes": _classes, "label_base": _label_base, "score_threshold": _score_threshold, "input": _input,
           "input_columns": _input_columns, "point_features": _point_features, "intensity_scale": _intensity_scale,
           "max_points": _max_points, "z_origin": _z_origin, "outputs": _outputs, "voxelize": check_voxelize}
