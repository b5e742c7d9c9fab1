"""Sweeps written compactly: LZF compression (liblzf's format), PCD ``binary_compressed`` that
Open3D's reader (the independent reference, with its own LZF decoder) and ours read back to the
same float32 values, and `fusionlabel import` keeping `.fri` range images as they are and writing
other sweeps as compressed PCD."""

import numpy as np
import pytest

from fusionlabel.cli.main import main
from fusionlabel.io.lzf import MAX_MATCH, MAX_OFFSET, lzf_compress, lzf_decompress
from fusionlabel.io.pointcloud import read_points, read_points_info, write_points_bin, write_points_pcd


def _inputs():
    rng = np.random.default_rng(7)
    far = rng.bytes(MAX_OFFSET + 50)
    return {"empty": b"", "one": b"x", "two": b"xy", "repeated": b"abc" * 1000, "zeros": bytes(10_000),
            "random": rng.bytes(20_000), "few symbols": rng.integers(0, 3, 50_000).astype(np.uint8).tobytes(),
            "longest match": bytes(range(256)) + bytes(range(256)) * 3 + b"\x01" * (3 * MAX_MATCH),
            "reach limit": far[:100] + far[100:MAX_OFFSET] + far[:100] + far[:100],
            "float columns": np.ascontiguousarray(rng.normal(0, 20, (3, 5000)).astype("<f4")).tobytes()}


@pytest.mark.parametrize("name", list(_inputs()))
def test_lzf_compress_round_trips(name):
    data = _inputs()[name]
    packed = lzf_compress(data)
    assert lzf_decompress(packed, len(data)) == data
    assert len(packed) <= len(data) + len(data) // 32 + 1      # incompressible data grows by 1 byte in 32
    if name in ("repeated", "zeros"):
        assert len(packed) < len(data) // 10


def test_lzf_compress_in_pure_python_writes_the_same_bytes(monkeypatch):
    from fusionlabel.io import lzf

    data = b"".join(_inputs().values())
    compiled = lzf_compress(data)
    monkeypatch.setitem(lzf._COMPILED, lzf._lzf_encode, lzf._lzf_encode)
    assert lzf_compress(data) == compiled


def _sweep(columns, n=20_000, seed=3):
    rng = np.random.default_rng(seed)
    pts = np.empty((n, columns), np.float32)
    pts[:, :3] = rng.normal(0.0, 25.0, (n, 3))
    if columns > 3:
        pts[:, 3] = np.round(rng.uniform(0, 1, n), 2)        # KITTI-like reflectance
    if columns > 4:
        pts[:, 4] = np.repeat(np.arange(64), n // 64 + 1)[:n]  # ring
    if columns > 5:
        pts[:, 5] = np.linspace(0.0, 0.1, n)                    # time
    return pts


@pytest.mark.parametrize("columns", [3, 4, 5, 6])
def test_binary_compressed_pcd_reads_back_the_same_in_open3d_and_here(columns, tmp_path):
    o3d = pytest.importorskip("open3d")
    from fusionlabel.io.point_records import COLUMNS

    pts = _sweep(columns)
    path = tmp_path / "s.pcd"
    write_points_pcd(path, pts, compressed=True)
    assert b"\nDATA binary_compressed\n" in path.read_bytes()[:400]
    ours, info = read_points_info(path)
    assert info["format"] == "pcd/binary_compressed" and np.array_equal(ours[:, :columns], pts)
    assert not ours[:, columns:].any()          # x, y, z alone read with intensity 0, as every reader here
    theirs = o3d.t.io.read_point_cloud(str(path)).point
    assert np.array_equal(theirs.positions.numpy(), pts[:, :3])
    for k, name in enumerate(COLUMNS[3:columns], start=3):
        assert np.array_equal(theirs[name].numpy()[:, 0], pts[:, k]), name


def test_binary_compressed_pcd_of_no_points(tmp_path):
    path = tmp_path / "empty.pcd"
    write_points_pcd(path, np.zeros((0, 4), np.float32), compressed=True)
    assert read_points(path).shape == (0, 4)


def native_drive_of_bin_sweeps(src, out):
    """A native drive copy of ``src`` whose sweeps are KITTI ``.bin`` files (x, y, z, intensity)."""
    import shutil

    import yaml

    shutil.copytree(src, out)
    doc = yaml.safe_load((out / "drive.yaml").read_text())
    for frame in doc["frames"]:
        fri = out / frame["lidar"]
        write_points_bin(fri.with_suffix(".bin"), read_points(fri)[:, :4])
        fri.unlink()
        frame["lidar"] = frame["lidar"].replace(".fri", ".bin")
    (out / "drive.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return out


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    from fusionlabel.sim.writer import simulate_drive

    out = tmp_path_factory.mktemp("sim") / "drive"
    simulate_drive(out, frames=3, seed=2, points=20_000, cameras=False, progress=False)
    return out


def test_import_keeps_range_images_as_they_are(sim, tmp_path):
    out = tmp_path / "copy"
    assert main(["import", str(sim), "--out", str(out), "--quiet"]) == 0
    for fri in sorted((sim / "lidar").glob("*.fri")):
        assert (out / "lidar" / fri.name).read_bytes() == fri.read_bytes()
    assert not list((out / "lidar").glob("*.pcd"))
    from fusionlabel.io.drives import open_drive

    source, copy = open_drive(sim), open_drive(out)
    for i in range(len(source)):
        assert np.array_equal(copy.points(i), source.points(i))


def test_import_writes_other_sweeps_as_compressed_pcd(sim, tmp_path):
    o3d = pytest.importorskip("open3d")
    src = native_drive_of_bin_sweeps(sim, tmp_path / "bin_drive")
    out = tmp_path / "copy"
    assert main(["import", str(src), "--out", str(out), "--quiet"]) == 0
    for sweep in sorted((src / "lidar").glob("*.bin")):
        pcd = out / "lidar" / f"{sweep.stem}.pcd"
        points, info = read_points_info(pcd)
        assert info["format"] == "pcd/binary_compressed"
        assert np.array_equal(points, read_points(sweep))
        theirs = o3d.t.io.read_point_cloud(str(pcd)).point
        assert np.array_equal(theirs.positions.numpy(), points[:, :3])
        assert np.array_equal(theirs["intensity"].numpy()[:, 0], points[:, 3])
        assert pcd.stat().st_size < sweep.stat().st_size


def test_a_drive_imported_with_binary_pcd_sweeps_still_reads(sim, tmp_path):
    """Drives imported before sweeps were compressed hold ``DATA binary`` PCD: still read."""
    from fusionlabel.io.drives import open_drive

    src = native_drive_of_bin_sweeps(sim, tmp_path / "bin_drive")
    old = tmp_path / "old"
    assert main(["import", str(src), "--out", str(old), "--quiet"]) == 0
    for pcd in (old / "lidar").glob("*.pcd"):
        write_points_pcd(pcd, read_points(pcd))                  # as the import wrote them before
        assert b"\nDATA binary\n" in pcd.read_bytes()[:400]
    drive, source = open_drive(old), open_drive(src)
    for i in range(len(drive)):
        assert np.array_equal(drive.points(i), source.points(i))
