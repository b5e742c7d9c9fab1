"""Shared fixtures: where the real data lives (skip cleanly when it is absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def realdata_root() -> Path:
    return Path(os.environ.get("FUSIONLABEL_REALDATA", REPO.parent / "shared" / "realdata"))


@pytest.fixture(scope="session")
def realdata() -> Path:
    root = realdata_root()
    if not root.is_dir():
        pytest.skip(f"real data not found at {root} (set FUSIONLABEL_REALDATA)")
    return root


@pytest.fixture(scope="session")
def kitti_object(realdata) -> Path:
    path = realdata / "kitti_object" / "training"
    if not (path / "velodyne").is_dir():
        pytest.skip(f"KITTI object sample not found at {path}")
    return path
