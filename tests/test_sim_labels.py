"""Which agents the simulator labels: every agent the LiDAR hits, and every agent whose footprint
comes within the LiDAR's range, so a far object's track neither has holes nor ends while it is seen."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("open3d")

from conftest import lidar_only_drive  # noqa: E402

from fusionlabel.cli.main import main as cli_main  # noqa: E402
from fusionlabel.sim.scenario import build_scenario  # noqa: E402
from fusionlabel.sim.simulator import Simulator, footprint_distance  # noqa: E402


def test_footprint_distance_is_to_the_nearest_edge_of_the_turned_box():
    pose = np.array([10.0, 0.0, 0.0, np.pi / 2])          # 4 m long along y, 2 m wide along x
    size = (4.0, 2.0, 1.5)
    assert footprint_distance(np.array([10.0, 5.0]), pose, size) == pytest.approx(3.0)
    assert footprint_distance(np.array([14.0, 0.0]), pose, size) == pytest.approx(3.0)
    assert footprint_distance(np.array([14.0, 6.0]), pose, size) == pytest.approx(5.0)   # 3-4-5 to the corner
    assert footprint_distance(np.array([10.5, 1.0]), pose, size) == 0.0


def test_every_agent_with_lidar_returns_is_labelled_with_its_point_count():
    # Seed 0's street at frames 2, 5 and 18 has cars with a few returns whose centres are over
    # 100 m from the LiDAR (found with the full-density sweep of the sample drive).
    sim = Simulator(build_scenario(0, 20), points=120_000, cameras=False)
    far_seen = 0
    for i in (2, 5, 18):
        f = sim.frame(i)
        hit = np.unique(f.point_ids[f.point_ids > 0])
        labels = {int(lab.track_id): lab for lab in f.labels}
        assert set(hit.tolist()) <= set(labels), f"frame {i}: hit but unlabelled {set(hit.tolist()) - set(labels)}"
        for tid in hit:
            lab = labels[int(tid)]
            assert lab.attributes["num_lidar_points"] == int((f.point_ids == tid).sum())
            far_seen += np.hypot(*lab.box.center[:2]) > 100.0
    assert far_seen >= 3


@pytest.fixture(scope="module")
def drive60(tmp_path_factory):
    return lidar_only_drive(tmp_path_factory, frames=60, seed=0, points=60_000)


def test_check_finds_nothing_on_a_perfect_60_frame_drive(drive60, capsys):
    # Labelling by centre distance ended track 48 (a truck) one frame before the LiDAR lost it.
    assert cli_main(["check", str(drive60)]) == 0, capsys.readouterr().out
