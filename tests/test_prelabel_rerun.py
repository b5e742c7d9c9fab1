"""Re-running the same tracked pre-label run is a no-op: the detections are the same bits whatever
the process's memory looks like (PYTHONHASHSEED, heap), a re-run that finds the pre-labels again up
to floating-point noise leaves them as they are, and a track found again keeps its id."""

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fusionlabel.assist.builtin import GeometricDetector
from fusionlabel.assist.detector import PointDetector, detection
from fusionlabel.assist.prelabel import inherited_tracks, merge_prelabels
from fusionlabel.assist.prelabel_folder import prelabel as prelabel_folder
from fusionlabel.assist.prelabel_project import prelabel_command
from fusionlabel.geometry.cuboid import Cuboid
from fusionlabel.model.annotation import CuboidLabel
from fusionlabel.model.document import Document
from fusionlabel.model.ontology import Ontology

from conftest import simulated_drive

ROOT = Path(__file__).resolve().parents[1]
FRAMES = 8


@pytest.fixture(scope="module")
def drive(tmp_path_factory):
    return simulated_drive(tmp_path_factory, "sim8track", frames=FRAMES)


def _c_library_arctan2(real):
    """np.arctan2 as NumPy computes it for a strided input whose result it cannot prove apart from
    it: with the C library's atan2 (its SIMD code otherwise)."""
    def arctan2(y, x, *args, **kwargs):
        arrays = [np.asarray(y), np.asarray(x)]
        if args or kwargs or not any(a.ndim and not a.flags.c_contiguous for a in arrays):
            return real(y, x, *args, **kwargs)
        return np.frompyfunc(math.atan2, 2, 1)(*arrays).astype(np.result_type(*arrays, np.float64))
    return arctan2


def _skip_unless_arctan2_has_two_codes():
    sample = np.random.default_rng(0).normal(size=(1000, 2))
    if np.array_equal(np.arctan2(sample[:, 1].copy(), sample[:, 0].copy()),
                      [math.atan2(y, x) for x, y in sample]):
        pytest.skip("NumPy computes arctan2 here exactly as the C library does: nothing to tell apart")


@pytest.fixture(scope="module")
def dense_drive(tmp_path_factory):
    """Eight frames of a full 120k-point sweep, LiDAR only: enough clusters for the point statistics to count."""
    from fusionlabel.io.native import open_native_drive
    from fusionlabel.sim.writer import simulate_drive

    root = tmp_path_factory.mktemp("dense8")
    simulate_drive(root, frames=8, seed=5, cameras=False, progress=False)
    return open_native_drive(root)


def test_detections_are_the_same_bits_whichever_arctan2_code_numpy_takes(dense_drive, monkeypatch):
    _skip_unless_arctan2_has_two_codes()
    detector = GeometricDetector()
    sweeps = [dense_drive.points(f) for f in range(len(dense_drive))]
    as_simd = [[(d.label, d.score, d.box) for d in detector.detect(p)] for p in sweeps]
    monkeypatch.setattr(np, "arctan2", _c_library_arctan2(np.arctan2))
    as_c_library = [[(d.label, d.score, d.box) for d in detector.detect(p)] for p in sweeps]
    assert sum(map(len, as_simd)) >= 100
    assert as_c_library == as_simd


def _run(args, seed, cwd):
    env = dict(os.environ, PYTHONHASHSEED=str(seed), PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "fusionlabel", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _files(folder: Path) -> dict[str, bytes]:
    """The label files and per-frame records of a pre-label folder (not the manifest: it holds times)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.json"))
            if p.name != "fusionlabel_prelabel.json"}


def test_a_tracked_run_into_a_folder_gives_the_same_bytes_under_any_hash_seed_and_a_rerun_changes_nothing(
        drive, tmp_path):
    _run(["prelabel", str(drive.root), "--track", "--out", "a", "--quiet"], 1, tmp_path)
    _run(["prelabel", str(drive.root), "--track", "--out", "b", "--quiet"], 2, tmp_path)
    first = _files(tmp_path / "a")
    assert len([n for n in first if "/" not in n]) == FRAMES
    assert first == _files(tmp_path / "b")
    said = _run(["prelabel", str(drive.root), "--track", "--out", "a", "--quiet"], 3, tmp_path)
    assert said.startswith("no change in a"), said
    assert _files(tmp_path / "a") == first


def test_a_tracked_run_into_a_project_again_under_another_hash_seed_records_nothing(drive, tmp_path):
    _run(["project", "create", str(drive.root), "--out", "p", "--quiet"], 1, tmp_path)
    first = _run(["prelabel", "p", "--track", "--quiet"], 1, tmp_path)
    assert first.startswith("wrote "), first
    again = _run(["prelabel", "p", "--track", "--quiet"], 2, tmp_path)
    assert again.startswith("no change in project p"), again


def _box(x, y=0.0, length=4.5, width=1.9):
    return Cuboid((x, y, 0.8), (length, width, 1.6), 0.3)


def test_a_prelabel_found_again_up_to_float_noise_stays_as_it_is():
    old = CuboidLabel(_box(10.0), "Car", "p1", 0.599234473302041, "model")
    noisy = old.with_(box=old.box.with_(center=(10.0 + 4e-15, 0.0, 0.8), yaw=0.3 - 1e-15),
                      score=0.5992344733020414)
    moved = old.with_(box=old.box.with_(center=(10.01, 0.0, 0.8)))
    merge = merge_prelabels([old], [True], [noisy])
    assert (merge.again, merge.replace, merge.add) == ([0], [], [])
    merge = merge_prelabels([old], [True], [moved])
    assert (merge.again, merge.replace, merge.add) == ([], [0], [moved])


def test_a_tracked_project_run_that_differs_by_float_noise_records_nothing():
    doc = Document(3, Ontology.default())
    run = {f: [CuboidLabel(_box(10.0 + f), "Car", "7", 0.6205392243889, "model"),
               CuboidLabel(_box(-8.0 - f, 4.0), "Pedestrian", "8", 0.8, "model")] for f in range(3)}
    cmd, _ = prelabel_command(doc, run, "3 frames")
    doc.apply(cmd)
    noisy = {f: [lab.with_(score=lab.score + 5e-17 if f == 2 else lab.score,
                           box=lab.box.with_(size=(4.5, 1.9 - 4e-16, 1.6)) if lab.label == "Car" else lab.box)
                 for lab in labels] for f, labels in run.items()}
    cmd, report = prelabel_command(doc, noisy, "3 frames")
    assert cmd is None
    assert report.unchanged == 6


def test_a_track_found_again_exactly_keeps_its_id_though_another_new_track_overlaps_it_as_often():
    # a pedestrian walking inside a truck's box: each new track overlaps both old tracks in every
    # frame; the new pedestrian's id sorts first, yet each new track takes its own twin's id
    truck = [CuboidLabel(_box(20.0 + f, 0.0, 9.0, 2.5), "Truck", "p1", 0.7, "model") for f in range(3)]
    person = [CuboidLabel(Cuboid((20.0 + f, 0.5, 0.9), (0.6, 0.6, 1.8), 0.0), "Pedestrian", "p2", 0.6, "model")
              for f in range(3)]
    existing = [[t, p] for t, p in zip(truck, person)]
    new = [[t.with_(track_id="p9"), p.with_(track_id="p10")] for t, p in zip(truck, person)]
    merges = [merge_prelabels(e, [True, True], n) for e, n in zip(existing, new)]
    assert inherited_tracks(existing, merges, new) == {"p9": "p1", "p10": "p2"}


class _LongScores(PointDetector):
    name = "long-scores"

    def detect(self, points):
        return [detection(_box(12.0), "Car", 0.12345678901234), detection(_box(-9.0, 5.0), "Car", 0.9)]


def test_prelabel_scores_are_stored_rounded_to_six_decimals(drive, tmp_path):
    from fusionlabel.io.native import read_labels

    prelabel_folder(drive, _LongScores(), tmp_path / "out", frames=[0], progress=False)
    written = read_labels(tmp_path / "out" / f"{drive.frames[0].frame_id}.json")
    assert sorted(lab.score for lab in written) == [0.123457, 0.9]
