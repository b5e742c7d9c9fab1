"""The label check keeps each sweep's ground returns between checks (fusionlabel.qa.ground_cache):
a check after an edit estimates no unchanged sweep's ground again, a changed sweep or parameter is
estimated afresh, a damaged or unwritable cache only costs time, and the findings are the same."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from conftest import simulated_drive

from fusionlabel.assist import ground
from fusionlabel.qa import box_checks
from fusionlabel.qa.label_check import check_labels, drive_labels


@pytest.fixture(scope="module")
def drive(tmp_path_factory):
    """A small simulated drive and its own labels (exact: no finding)."""
    sim = simulated_drive(tmp_path_factory)
    return sim, drive_labels(sim)


@pytest.fixture
def estimates(monkeypatch, tmp_path):
    """A cache folder of this test's own, and the list of the ground estimates made (the real
    estimator, each call counted)."""
    monkeypatch.setenv("FUSIONLABEL_CACHE_DIR", str(tmp_path / "cache"))
    made = []
    real = ground.estimate_ground

    @functools.wraps(real)
    def counted(*args, **kwargs):
        made.append(len(args[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(ground, "estimate_ground", counted)
    return made


def faulty(labels) -> dict:
    """``labels`` with every third box the ground check reaches (within ``GROUND_RANGE``) raised 1 m
    and every fifth sunk 0.8 m (ground findings), however many farther boxes the frame has."""
    out = {}
    for i, frame in labels.items():
        near = [k for k, lab in enumerate(frame) if np.hypot(*lab.box.center[:2]) <= box_checks.GROUND_RANGE]
        moved = {k: 1.0 if n % 3 == 0 else -0.8 for n, k in enumerate(near) if n % 3 == 0 or n % 5 == 0}
        out[i] = [lab.with_(box=lab.box.with_(center=np.add(lab.box.center, (0, 0, moved[k])))) if k in moved else lab
                  for k, lab in enumerate(frame)]
    return out


def test_a_second_check_estimates_no_sweeps_ground_again_and_finds_the_same(drive, estimates):
    sim, labels = drive
    wrong = faulty(labels)
    first = check_labels(sim, wrong, "drive")
    assert len(estimates) == len(sim) == first.swept_frames
    assert sum(f.check == "label-ground" for f in first.findings) >= 5
    estimates.clear()
    again = check_labels(sim, wrong, "drive")
    assert estimates == []
    assert again.findings == first.findings
    # an edit (the boxes put back) changes no sweep: still nothing estimated, and the findings follow the edit
    fixed = check_labels(sim, labels, "drive")
    assert estimates == [] and fixed.findings == []


def test_findings_are_the_same_with_and_without_the_cache(drive, estimates):
    sim, labels = drive
    wrong = faulty(labels)
    uncached = check_labels(sim, wrong, "drive", cache=False)
    assert check_labels(sim, wrong, "drive").findings == uncached.findings      # computed and stored
    assert check_labels(sim, wrong, "drive").findings == uncached.findings      # read back
    assert len(estimates) == 2 * len(sim)


def test_a_changed_sweep_is_estimated_again(drive, tmp_path, estimates):
    sim, labels = drive
    cache = tmp_path / "ground"
    points = sim.points(1)
    first = box_checks.ground_offsets(labels[1], points, cache)
    assert box_checks.ground_offsets(labels[1], points, cache) == first and len(estimates) == 1
    changed = points[::-1].copy()           # the same returns in another order: the same count, another mask
    changed[: len(changed) // 2, 2] += 0.05
    offsets = box_checks.ground_offsets(labels[1], changed, cache)
    assert len(estimates) == 2
    assert offsets == box_checks.ground_offsets(labels[1], changed) != first


def test_a_changed_parameter_is_estimated_again(drive, tmp_path, estimates, monkeypatch):
    sim, labels = drive
    cache = tmp_path / "ground"
    points = sim.points(1)
    first = box_checks.ground_offsets(labels[1], points, cache)
    box_checks.ground_offsets(labels[1], points, cache)
    assert len(estimates) == 1
    monkeypatch.setattr(box_checks, "GROUND_BAND", 0.03)            # the check's band around the ground
    narrow = box_checks.ground_offsets(labels[1], points, cache)
    assert len(estimates) == 2
    assert narrow == box_checks.ground_offsets(labels[1], points) != first
    monkeypatch.setattr(ground, "SPREAD_WINDOW", 1.0)               # a constant of the estimator
    box_checks.ground_offsets(labels[1], points, cache)
    assert len(estimates) == 4
    monkeypatch.setattr(ground.estimate_ground.__wrapped__, "__defaults__",
                        (2.0,) + ground.estimate_ground.__wrapped__.__defaults__[1:])   # its cell size
    assert box_checks.ground_offsets(labels[1], points, cache) == box_checks.ground_offsets(labels[1], points)
    assert len(estimates) == 6


@pytest.mark.parametrize("damage", ["garbage", "cut short", "one bit flipped", "empty", "a folder"])
def test_a_damaged_cache_file_is_estimated_again_and_rewritten(drive, tmp_path, estimates, damage):
    sim, labels = drive
    cache = tmp_path / "ground"
    points = sim.points(1)
    first = box_checks.ground_offsets(labels[1], points, cache)
    (path,) = cache.rglob("*.bin")
    data = path.read_bytes()
    if damage == "a folder":
        path.unlink()
        path.mkdir()
    else:
        path.write_bytes({"garbage": b"\x00not a ground file" * 50, "cut short": data[:-40], "empty": b"",
                          "one bit flipped": data[:60] + bytes([data[60] ^ 4]) + data[61:]}[damage])
    assert box_checks.ground_offsets(labels[1], points, cache) == first
    assert len(estimates) == 2
    if damage != "a folder":        # a folder in the way stays; the file is written again where it can be
        assert path.read_bytes() == data
        box_checks.ground_offsets(labels[1], points, cache)
        assert len(estimates) == 2


def test_a_cache_folder_that_cannot_be_written_leaves_the_check_uncached(drive, tmp_path, monkeypatch,
                                                                         estimates):
    sim, labels = drive
    blocker = tmp_path / "not a folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("FUSIONLABEL_CACHE_DIR", str(blocker))
    wrong = faulty(labels)
    assert check_labels(sim, wrong, "drive").findings == check_labels(sim, wrong, "drive", cache=False).findings
    assert len(estimates) == 2 * len(sim)


def test_the_cache_folder_is_the_users(monkeypatch, tmp_path):
    from fusionlabel.qa.ground_cache import ground_folder

    monkeypatch.delenv("FUSIONLABEL_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert ground_folder() == tmp_path / "xdg" / "fusionlabel" / "ground"
    monkeypatch.setenv("FUSIONLABEL_CACHE_DIR", str(tmp_path / "mine"))
    assert ground_folder() == tmp_path / "mine" / "ground"


def test_without_a_home_folder_the_check_runs_uncached(drive, monkeypatch, estimates):
    sim, labels = drive
    for name in ("FUSIONLABEL_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)

    def no_home():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    wrong = faulty(labels)
    assert check_labels(sim, wrong, "drive").findings == check_labels(sim, wrong, "drive", cache=False).findings
    assert len(estimates) == 2 * len(sim)


def fill(folder: Path, n: int, size: int) -> list[Path]:
    """``n`` answer files of ``size`` bytes in ``folder``, used one second apart (oldest first)."""
    import os

    paths = []
    for k in range(n):
        path = folder / f"{k:02x}" / f"{k:064x}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes(size))
        os.utime(path, (1_000_000 + k, 1_000_000 + k))
        paths.append(path)
    return paths


def test_a_full_cache_loses_the_answers_used_longest_ago(tmp_path):
    from fusionlabel.qa.ground_cache import STAMP, prune

    paths = fill(tmp_path / "ground", 10, 1000)
    assert prune(tmp_path / "ground", limit=20_000) == 0 and all(p.exists() for p in paths)   # under the limit
    (tmp_path / "ground" / STAMP).unlink()
    assert prune(tmp_path / "ground", limit=5000) == 6                      # down to 80 % of 5000 bytes
    assert [p.exists() for p in paths] == [False] * 6 + [True] * 4
    # once an hour at most: the stamp holds the next check back
    fill(tmp_path / "ground", 10, 1000)
    assert prune(tmp_path / "ground", limit=5000) == 0
    assert prune(tmp_path / "ground", limit=5000, every_s=0) == 6


def test_a_check_keeps_the_cache_under_its_limit_and_a_hit_counts_as_a_use(drive, estimates, tmp_path, monkeypatch):
    sim, labels = drive
    folder = tmp_path / "cache" / "ground"
    old = fill(folder, 40, 10_000)                       # 400 kB of answers used long ago
    check_labels(sim, labels, "drive")                   # the drive's own answers, used now
    ours = [p for p in folder.glob("??/*.bin") if p not in old]
    assert len(ours) == len(sim)
    (folder / ".pruned").unlink()
    import os

    for p in ours:                                       # written long ago ...
        os.utime(p, (1_000_000 - 10, 1_000_000 - 10))
    monkeypatch.setenv("FUSIONLABEL_CACHE_MB", "0.2")
    estimates.clear()
    check_labels(sim, labels, "drive")                   # ... but used again now: kept, the old ones go
    assert estimates == [] and all(p.exists() for p in ours)
    assert sum(p.stat().st_size for p in folder.glob("??/*.bin")) <= 0.8 * 200_000
