"""The checks of the export options that are names typed by the user (``--sequence``,
``--nuscenes-version``, ``--scene-name``) and the choices of ``--outside`` and ``--rotation``:
one definition for the exporters, the command line and the app's export dialog."""

from __future__ import annotations

import re

from .base import ExportError

OUTSIDE_CHOICES = ("keep", "drop")            # --outside (KITTI, KITTI tracking)
ROTATION_CHOICES = ("quaternion", "euler")    # --rotation (OpenLABEL)


def check_sequence(name: str) -> str:
    """``name`` when it is a plain file name for a KITTI tracking sequence (``0000``); ExportError
    at ``--sequence`` otherwise."""
    if not name or any(c in name for c in "/\\ ") or name in (".", ".."):
        raise ExportError(None, f"sequence name must be a plain file name like 0000, got {name!r}",
                          where="--sequence")
    return name


def check_nuscenes_version(version: str) -> str:
    """``version`` when it is a plain folder name (``v1.0-mini``); ExportError at
    ``--nuscenes-version`` otherwise."""
    if not re.fullmatch(r"[A-Za-z0-9._-]+", version or ""):
        raise ExportError(None, f"version must be a plain folder name like v1.0-mini, got {version!r}",
                          where="--nuscenes-version")
    return version


def check_scene_name(name: str) -> str:
    """``name`` when it is printable text that is not only blanks; ExportError at ``--scene-name``
    otherwise."""
    if not name.strip() or not name.isprintable():
        raise ExportError(None, f"scene name must be printable text, got {name!r}", where="--scene-name")
    return name


def check_choice(value: str, choices: tuple[str, ...], option: str) -> str:
    """``value`` when it is one of ``choices``; ExportError at ``option`` otherwise."""
    if value not in choices:
        raise ExportError(None, f"expected {' or '.join(repr(c) for c in choices)}, got {value!r}", where=option)
    return value
