"""Point-cloud readers/writers: round trips through every format, Open3D cross-checks, real sweeps,
and one PointCloudError (naming the file) per malformed input."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import pytest

from fusionlabel.errors import PointCloudError
from fusionlabel.io import lzf as lzfmod
from fusionlabel.io import pointcloud as pcmod
from fusionlabel.io.pointcloud import (lzf_decompress, read_points, read_points_info, register_reader,
                                       write_points_bin, write_points_pcd)

o3d = pytest.importorskip("open3d")

REALDATA = Path(os.environ.get("FUSIONLABEL_REALDATA", "/work/shared/realdata"))
KITTI_BIN = REALDATA / "kitti_object/training/velodyne/000001.bin"
NUSC_DIR = REALDATA / "nuscenes_mini/samples/LIDAR_TOP"
SUSTECH_DIR = REALDATA / "sustech_sequence/lidar"


def needs(path: Path):
    return pytest.mark.skipif(not path.exists(), reason=f"real data {path} absent (set FUSIONLABEL_REALDATA)")


# ------------------------------------------------------------------------------------------ helpers

def scan(rings: int = 16, cols: int = 400, seed: int = 0) -> np.ndarray:
    """A synthetic spinning-LiDAR sweep in scan order: (N, 6) float32 x, y, z, intensity, ring, time."""
    rng = np.random.default_rng(seed)
    az = np.linspace(-np.pi, np.pi, cols, endpoint=False)
    el = np.deg2rad(np.linspace(-15, 10, rings))
    ring, a = np.meshgrid(np.arange(rings), np.arange(cols), indexing="ij")
    r = 8 + 4 * np.sin(3 * az[a]) + 0.05 * rng.standard_normal(a.shape)
    x = r * np.cos(el[ring]) * np.cos(az[a])
    y = r * np.cos(el[ring]) * np.sin(az[a])
    z = r * np.sin(el[ring])
    inten = rng.integers(0, 256, a.shape)
    t = a / cols * 0.1
    return np.stack([x, y, z, inten, ring, t], axis=-1).reshape(-1, 6).astype(np.float32)


def pcd_header(fields, sizes, types, counts, n, data, height=1) -> bytes:
    """Independent PCD header writer (does not use the module under test)."""
    j = lambda v: " ".join(map(str, v))  # noqa: E731
    return (f"# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\nFIELDS {j(fields)}\nSIZE {j(sizes)}\n"
            f"TYPE {j(types)}\nCOUNT {j(counts)}\nWIDTH {n // height}\nHEIGHT {height}\n"
            f"VIEWPOINT 0 0 0 1 0 0 0\nPOINTS {n}\nDATA {data}\n").encode()


def lzf_literal(data: bytes) -> bytes:
    """Valid LZF stream made only of literal runs (<= 32 bytes each)."""
    out = bytearray()
    for i in range(0, len(data), 32):
        chunk = data[i:i + 32]
        out.append(len(chunk) - 1)
        out += chunk
    return bytes(out)


def o3d_tensor_cloud(pts: np.ndarray):
    pc = o3d.t.geometry.PointCloud()
    pc.point.positions = o3d.core.Tensor(np.ascontiguousarray(pts[:, :3], np.float32))
    pc.point.intensity = o3d.core.Tensor(np.ascontiguousarray(pts[:, 3:4], np.float32))
    if pts.shape[1] > 4:
        pc.point.ring = o3d.core.Tensor(pts[:, 4:5].astype(np.uint16))
    return pc


def o3d_xyz(path) -> np.ndarray:
    return np.asarray(o3d.io.read_point_cloud(str(path)).points)


def raises_naming(path: Path, fn, *match: str) -> PointCloudError:
    with pytest.raises(PointCloudError) as ei:
        fn()
    msg = str(ei.value)
    assert path.name in msg, msg
    assert "\n" not in msg
    for m in match:
        assert m in msg, msg
    return ei.value


# ------------------------------------------------------------------------------------------ round trips

def test_kitti_bin_round_trip_and_independent_writer(tmp_path):
    pts = scan()
    p = tmp_path / "000000.bin"
    write_points_bin(p, pts)
    assert p.stat().st_size == len(pts) * 16
    got = read_points(p)
    assert got.dtype == np.float32 and got.shape == (len(pts), 4)
    np.testing.assert_array_equal(got, pts[:, :4])
    q = tmp_path / "raw.bin"
    pts[:, :4].astype("<f4").tofile(q)
    np.testing.assert_array_equal(read_points(q), pts[:, :4])


def test_kitti_bin_from_xyz_only_gets_zero_intensity(tmp_path):
    pts = scan()[:, :3]
    p = tmp_path / "a.bin"
    write_points_bin(p, pts)
    got = read_points(p)
    np.testing.assert_array_equal(got[:, :3], pts)
    assert not got[:, 3].any()


def test_nuscenes_pcd_bin_round_trip(tmp_path):
    pts = scan()[:, :5]
    p = tmp_path / "sweep.pcd.bin"
    write_points_bin(p, pts)
    assert p.stat().st_size == len(pts) * 20
    got, info = read_points_info(p)
    assert got.shape == (len(pts), 5) and info["columns"] == ("x", "y", "z", "intensity", "ring")
    np.testing.assert_array_equal(got, pts)


@pytest.mark.parametrize("binary", [True, False])
@pytest.mark.parametrize("ncol", [3, 4, 5, 6])
def test_write_points_pcd_round_trip_and_open3d_reads_it(tmp_path, binary, ncol):
    pts = scan()[:, :ncol]
    p = tmp_path / "a.pcd"
    write_points_pcd(p, pts, binary=binary)
    got, info = read_points_info(p)
    assert info["format"] == ("pcd/binary" if binary else "pcd/ascii")
    np.testing.assert_array_equal(got[:, :ncol], pts)
    if ncol == 3:
        assert got.shape[1] == 4 and not got[:, 3].any()
    np.testing.assert_allclose(o3d_xyz(p), pts[:, :3], rtol=0, atol=1e-6)


@pytest.mark.parametrize("kw,fmt", [({"compressed": True}, "pcd/binary_compressed"),
                                    ({}, "pcd/binary"),
                                    ({"write_ascii": True}, "pcd/ascii")])
def test_open3d_written_pcd_with_intensity_and_ring(tmp_path, kw, fmt):
    pts = scan()[:, :5]
    p = tmp_path / "o3d.pcd"
    assert o3d.t.io.write_point_cloud(str(p), o3d_tensor_cloud(pts), **kw)
    got, info = read_points_info(p)
    assert info["format"] == fmt
    assert got.shape == (len(pts), 5)
    np.testing.assert_allclose(got, pts, rtol=1e-6, atol=1e-6)
    assert info["notes"] == []


def test_open3d_legacy_compressed_pcd_xyz(tmp_path):
    pts = scan(rings=32, cols=1000)
    pc = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(pts[:, :3].astype(np.float64)))
    p = tmp_path / "legacy.pcd"
    assert o3d.io.write_point_cloud(str(p), pc, compressed=True)
    assert b"binary_compressed" in p.read_bytes()[:400]
    got = read_points(p)
    np.testing.assert_allclose(got[:, :3], pts[:, :3], atol=1e-6)
    assert not got[:, 3].any()


def test_binary_compressed_independent_writer_f8_time_and_organised(tmp_path):
    """Literal-only LZF, SoA layout, f8 absolute time (shifted to the sweep start), HEIGHT > 1."""
    pts = scan(rings=8, cols=50).astype(np.float64)
    n = len(pts)
    t_abs = 1.5e9 + pts[:, 5]
    soa = (pts[:, 0].astype("<f4").tobytes() + pts[:, 1].astype("<f4").tobytes() + pts[:, 2].astype("<f4").tobytes()
           + pts[:, 3].astype("<u1").tobytes() + pts[:, 4].astype("<u2").tobytes() + t_abs.astype("<f8").tobytes())
    comp = lzf_literal(soa)
    p = tmp_path / "c.pcd"
    p.write_bytes(pcd_header(["x", "y", "z", "reflectance", "ring", "timestamp"], [4, 4, 4, 1, 2, 8],
                             ["F", "F", "F", "U", "U", "F"], [1] * 6, n, "binary_compressed", height=8)
                  + struct.pack("<II", len(comp), len(soa)) + comp)
    got, info = read_points_info(p)
    assert got.shape == (n, 6)
    np.testing.assert_allclose(got[:, :5], pts[:, :5], atol=1e-5)
    assert info["time_origin"] == pytest.approx(1.5e9)
    np.testing.assert_allclose(got[:, 5], t_abs - t_abs.min(), atol=1e-6)


def test_time_without_ring_puts_minus_one_in_ring_column(tmp_path):
    pts = scan()
    rec = np.zeros(len(pts), dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("t", "<f4")])
    for k, name in enumerate(["x", "y", "z"]):
        rec[name] = pts[:, k]
    rec["t"] = pts[:, 5]
    p = tmp_path / "t.pcd"
    p.write_bytes(pcd_header(["x", "y", "z", "t"], [4] * 4, ["F"] * 4, [1] * 4, len(pts), "binary") + rec.tobytes())
    got, info = read_points_info(p)
    assert info["columns"] == ("x", "y", "z", "intensity", "ring", "time")
    assert (got[:, 4] == -1).all() and not got[:, 3].any()
    np.testing.assert_array_equal(got[:, 5], pts[:, 5])
    assert info["time_origin"] is None  # 32-bit time is kept as stored


@pytest.mark.parametrize("ascii_", [False, True])
def test_ply_written_by_open3d_tensor_with_intensity(tmp_path, ascii_):
    pts = scan()[:, :5]
    p = tmp_path / "o3d.ply"
    assert o3d.t.io.write_point_cloud(str(p), o3d_tensor_cloud(pts), write_ascii=ascii_)
    got, info = read_points_info(p)
    assert info["format"] == ("ply/ascii" if ascii_ else "ply/binary_little_endian")
    tol = 1e-4 if ascii_ else 0  # Open3D prints 6 significant digits in ASCII
    np.testing.assert_allclose(got, pts, rtol=tol, atol=tol)


@pytest.mark.parametrize("ascii_", [False, True])
def test_ply_written_by_open3d_legacy_double_xyz(tmp_path, ascii_):
    pts = scan()
    pc = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(pts[:, :3].astype(np.float64)))
    pc.colors = o3d.utility.Vector3dVector(np.full((len(pts), 3), 0.5))
    p = tmp_path / "legacy.ply"
    assert o3d.io.write_point_cloud(str(p), pc, write_ascii=ascii_)
    got = read_points(p)
    np.testing.assert_allclose(got[:, :3], pts[:, :3], rtol=1e-5 if ascii_ else 0, atol=1e-5 if ascii_ else 0)
    assert not got[:, 3].any()


def test_ply_big_endian_with_face_element_and_reflectance(tmp_path):
    pts = scan()
    n = len(pts)
    rec = np.zeros(n, dtype=[("x", ">f4"), ("y", ">f4"), ("z", ">f4"), ("red", "u1"), ("reflectance", ">f8")])
    for k, name in enumerate(["x", "y", "z"]):
        rec[name] = pts[:, k]
    rec["reflectance"] = pts[:, 3]
    header = (f"ply\nformat binary_big_endian 1.0\ncomment independent writer\nelement vertex {n}\n"
              "property float x\nproperty float y\nproperty float z\nproperty uchar red\nproperty double reflectance\n"
              "element face 1\nproperty list uchar int vertex_indices\nend_header\n").encode()
    p = tmp_path / "be.ply"
    p.write_bytes(header + rec.tobytes() + b"\x03" + struct.pack(">iii", 0, 1, 2))
    got = read_points(p)
    np.testing.assert_array_equal(got, pts[:, :4])


def test_ply_ascii_independent_writer_with_element_before_vertex(tmp_path):
    pts = scan(rings=4, cols=30)
    lines = "\n".join(f"{x:.9g} {y:.9g} {z:.9g} {i:.9g}" for x, y, z, i in pts[:, :4])
    p = tmp_path / "a.ply"
    p.write_text(f"ply\nformat ascii 1.0\nelement camera 1\nproperty float f\nelement vertex {len(pts)}\n"
                 "property float x\nproperty float y\nproperty float z\nproperty float intensity\nend_header\n"
                 f"500\n{lines}\n")
    np.testing.assert_array_equal(read_points(p), pts[:, :4])


def test_npy_variants(tmp_path):
    pts = scan()
    for c in (3, 4, 5, 6):
        p = tmp_path / f"p{c}.npy"
        np.save(p, pts[:, :c].astype(np.float64))
        got = read_points(p)
        assert got.dtype == np.float32 and got.shape == (len(pts), max(c, 4))
        np.testing.assert_array_equal(got[:, :c], pts[:, :c])
    p = tmp_path / "s.npy"
    rec = np.zeros(len(pts), dtype=[("x", "f8"), ("y", "f8"), ("z", "f8"), ("intensity", "u1")])
    for k, name in enumerate(["x", "y", "z", "intensity"]):
        rec[name] = pts[:, k]
    np.save(p, rec)
    np.testing.assert_array_equal(read_points(p), pts[:, :4])


def test_empty_cloud(tmp_path):
    p = tmp_path / "e.pcd"
    write_points_pcd(p, np.zeros((0, 4), np.float32))
    assert read_points(p).shape == (0, 4)
    q = tmp_path / "e.bin"
    write_points_bin(q, np.zeros((0, 4), np.float32))      # no points: no bytes, read back as no points
    assert q.stat().st_size == 0 and read_points(q).shape == (0, 4)


@pytest.mark.parametrize("name, columns", [("e.bin", 4), ("e.pcd.bin", 5)])
def test_zero_byte_float_records_are_a_sweep_without_points(tmp_path, name, columns):
    """A 0-byte .bin / .pcd.bin holds 0 records (nuScenes' import of an empty sweep writes one, and
    nuscenes-devkit reads it as 0 points); a size that is no whole number of records is refused,
    naming the file and the record size."""
    from nuscenes.utils.data_classes import LidarPointCloud

    p = tmp_path / name
    p.write_bytes(b"")
    points, info = read_points_info(p)
    assert points.shape == (0, columns) and points.dtype == np.float32 and info["n_dropped"] == 0
    assert read_points(p, drop_nonfinite=True).shape == (0, columns)
    if name == "e.pcd.bin":
        assert LidarPointCloud.from_file(str(p)).nbr_points() == 0     # the devkit agrees
    p.write_bytes(b"\0" * (4 * columns + 6))
    raises_naming(p, lambda: read_points(p), f"size {4 * columns + 6} bytes is not a multiple of {4 * columns}")


@pytest.mark.parametrize("name", ["e.pcd", "e.ply", "e.npy", "e.fri"])
def test_zero_byte_file_is_an_error_in_every_format_with_a_header(tmp_path, name):
    p = tmp_path / name
    p.write_bytes(b"")
    raises_naming(p, lambda: read_points(p), "empty file (0 bytes)")
    raises_naming(p, lambda: read_points(p, drop_nonfinite=True), "empty file (0 bytes)")


def test_register_reader_for_new_extension(tmp_path):
    p = tmp_path / "a.xyz"
    p.write_text("1 2 3\n4 5 6\n")
    with pytest.raises(PointCloudError, match="unsupported point-cloud extension"):
        read_points(p)
    register_reader("xyz", lambda path: np.loadtxt(path, ndmin=2))
    try:
        np.testing.assert_array_equal(read_points(p), [[1, 2, 3, 0], [4, 5, 6, 0]])
        assert ".xyz" in pcmod.registered_extensions()
    finally:
        pcmod._READERS.pop(".xyz")


# ------------------------------------------------------------------------------------------ LZF

def test_lzf_back_references_including_overlap():
    # "abc" + ref(dist 3, len 5) -> "abcabcab"; + ref(dist 1, len 7 + 11 + 2 = 20) -> 20 x "b"
    stream = bytes([2]) + b"abc" + bytes([(3 << 5) | 0, 2]) + bytes([(7 << 5) | 0, 11, 0])
    want = b"abcabcab" + b"b" * 20
    assert lzf_decompress(stream, len(want)) == want
    for slices in (True, False):  # pure-Python path, both copy strategies
        out = bytearray(len(want))
        assert lzfmod._lzf_decode(stream, memoryview(out), slices) == len(want)
        assert out == want


@pytest.mark.parametrize("stream,size,what", [
    (bytes([5]) + b"abc", 6, "input ends inside a run"),
    (bytes([2]) + b"abc" + bytes([0x20, 9]), 6, "back-reference before the start"),
    (bytes([2]) + b"abc", 2, "output larger than declared"),
    (bytes([2]) + b"abc", 5, "expands to 3 bytes, header says 5"),
])
def test_lzf_corrupt_streams(stream, size, what):
    with pytest.raises(PointCloudError, match=what):
        lzf_decompress(stream, size, path="x.pcd")


def test_lzf_numba_and_python_paths_agree_on_open3d_output(tmp_path):
    p = tmp_path / "o3d.pcd"
    pts = scan(rings=32, cols=600)
    o3d.t.io.write_point_cloud(str(p), o3d_tensor_cloud(pts[:, :5]), compressed=True)
    buf = p.read_bytes()
    start = buf.index(b"DATA binary_compressed\n") + len(b"DATA binary_compressed\n")
    comp, raw = struct.unpack("<II", buf[start:start + 8])
    block = buf[start + 8:start + 8 + comp]
    fast = lzf_decompress(block, raw)
    slow = bytearray(raw)
    assert lzfmod._lzf_decode(block, memoryview(slow)) == raw
    assert fast == bytes(slow)
    np.testing.assert_array_equal(np.frombuffer(fast, "<f4", count=len(pts)), pts[:, 0])


# ------------------------------------------------------------------------------------------ layout repair

SUSTECH_LIKE = dict(fields=["x", "y", "z", "_", "intensity", "_", "timestamp", "_", "ring", "_"],
                    sizes=[4, 4, 4, 1, 4, 1, 8, 1, 2, 1], types=["F", "F", "F", "U", "F", "U", "F", "U", "U", "U"],
                    counts=[1, 1, 1, 4, 1, 0, 1, 6, 1, 12])


def test_sustech_like_header_with_wrong_padding_and_trailing_bytes(tmp_path):
    pts = scan(rings=40, cols=300)
    n = len(pts)
    dt = np.dtype({"names": ["x", "y", "z", "intensity", "timestamp", "ring", "junk"],
                   "formats": ["<f4", "<f4", "<f4", "<f4", "<f8", "<u2", "V14"],
                   "offsets": [0, 4, 8, 16, 24, 32, 34], "itemsize": 48})
    rec = np.zeros(n, dt)
    for k, name in enumerate(["x", "y", "z", "intensity"]):
        rec[name] = pts[:, k]
    rec["ring"] = pts[:, 4]
    rec["timestamp"] = 1818.8 + pts[:, 5].astype(np.float64)
    rec["junk"] = np.void(bytes([168, 229, 122, 127, 0, 0, 160, 153, 168, 229, 122, 127, 0, 0]))
    p = tmp_path / "sustech_like.pcd"
    p.write_bytes(pcd_header(n=n, data="binary", **SUSTECH_LIKE) + rec.tobytes() + bytes(3848))
    got, info = read_points_info(p)
    assert got.shape == (n, 6)
    np.testing.assert_array_equal(got[:, :5], pts[:, :5])
    np.testing.assert_allclose(got[:, 5], pts[:, 5] - pts[:, 5].min(), atol=1e-6)
    assert info["time_origin"] == pytest.approx(1818.8)
    assert any("C-aligned" in s and "timestamp@24" in s and "ring@32" in s for s in info["notes"]), info["notes"]
    assert any("3848 trailing bytes" in s for s in info["notes"])
    np.testing.assert_allclose(o3d_xyz(p), pts[:, :3], atol=1e-6)


def test_header_without_struct_padding_infers_stride(tmp_path):
    """PCL PointXYZI records (32 bytes, intensity at 16) under a header that declares 16 bytes."""
    pts = scan()
    n = len(pts)
    dt = np.dtype({"names": ["x", "y", "z", "intensity"], "formats": ["<f4"] * 4,
                   "offsets": [0, 4, 8, 16], "itemsize": 32})
    rec = np.zeros(n, dt)
    for k, name in enumerate(dt.names):
        rec[name] = pts[:, k]
    p = tmp_path / "xyzi32.pcd"
    p.write_bytes(pcd_header(["x", "y", "z", "intensity"], [4] * 4, ["F"] * 4, [1] * 4, n, "binary") + rec.tobytes())
    got, info = read_points_info(p)
    np.testing.assert_array_equal(got, pts[:, :4])
    assert any("stride 32" in s for s in info["notes"]), info["notes"]


def test_packed_misaligned_fields_without_padding_are_trusted(tmp_path):
    pts = scan()
    dt = np.dtype([("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("i", "u1"), ("ring", "<u2"), ("time", "<f4")])
    rec = np.zeros(len(pts), dt)
    for k, name in enumerate(["x", "y", "z", "i", "ring", "time"]):
        rec[name] = pts[:, k]
    p = tmp_path / "packed.pcd"
    p.write_bytes(pcd_header(list(dt.names), [4, 4, 4, 1, 2, 4], ["F", "F", "F", "U", "U", "F"], [1] * 6,
                             len(pts), "binary") + rec.tobytes())
    got, info = read_points_info(p)
    np.testing.assert_array_equal(got, pts)
    assert info["notes"] == []


def test_trailing_zero_bytes_keep_declared_stride(tmp_path):
    pts = scan()[:, :4]
    p = tmp_path / "pad.pcd"
    write_points_pcd(p, pts)
    p.write_bytes(p.read_bytes() + bytes(len(pts) * 16))  # exactly doubles the data: stride 32 also divides
    got, info = read_points_info(p)
    np.testing.assert_array_equal(got, pts)
    assert any("trailing bytes" in s for s in info["notes"])


# ------------------------------------------------------------------------------------------ errors

@pytest.mark.parametrize("name", ["gone.bin", "gone.pcd.bin", "gone.pcd", "gone.ply", "gone.npy"])
def test_missing_file(tmp_path, name):
    raises_naming(tmp_path / name, lambda: read_points(tmp_path / name), "file not found")


def test_unsupported_extension(tmp_path):
    p = tmp_path / "cloud.las"
    p.write_bytes(b"x")
    raises_naming(p, lambda: read_points(p), "unsupported point-cloud extension '.las'")


def test_kitti_size_not_multiple_of_16(tmp_path):
    p = tmp_path / "bad.bin"
    p.write_bytes(bytes(1234))
    raises_naming(p, lambda: read_points(p),
                  "size 1234 bytes is not a multiple of 16 (4 float32 x, y, z, intensity per point)")


def test_nuscenes_size_not_multiple_of_20(tmp_path):
    p = tmp_path / "bad.pcd.bin"
    p.write_bytes(bytes(32))
    raises_naming(p, lambda: read_points(p), "size 32 bytes is not a multiple of 20")


def test_size_that_fits_the_other_record_width_says_so(tmp_path):
    p = tmp_path / "bad.bin"
    p.write_bytes(bytes(20 * 7))
    raises_naming(p, lambda: read_points(p), "not a multiple of 16",
                  "it is a whole number of 5 float32 (nuScenes', NAME.pcd.bin) records")


def _flat(points: np.ndarray, ncol: int) -> np.ndarray:
    return np.ascontiguousarray(points[:, :ncol], dtype="<f4").ravel()


@pytest.mark.parametrize("written, named", [(5, "sweep.bin"), (4, "sweep.pcd.bin")])
def test_records_of_the_other_width_are_refused(tmp_path, written, named):
    """A headerless sweep whose records plainly have the other width (a nuScenes file named .bin with
    a point count that is a multiple of 4, so its size passes) is refused, not read as garbage."""
    pts = scan(rings=16, cols=400)                  # 6400 points: a multiple of 4 and of 5
    p = tmp_path / named
    _flat(pts, written).tofile(p)
    raises_naming(p, lambda: read_points(p), f"look like {written} float32 per point", "not the")
    right = tmp_path / ("ok.pcd.bin" if written == 5 else "ok.bin")
    _flat(pts, written).tofile(right)
    np.testing.assert_array_equal(read_points(right)[:, :3], pts[:, :3])


def test_points_in_no_scan_order_are_read_as_named(tmp_path):
    """No order, no evidence: a shuffled sweep is read with the width its name says, either name."""
    pts = scan(rings=16, cols=400)[np.random.default_rng(1).permutation(6400)]
    for name, ncol in (("s.bin", 4), ("s.pcd.bin", 5)):
        p = tmp_path / name
        _flat(pts, ncol).tofile(p)
        np.testing.assert_array_equal(read_points(p)[:, :3], pts[:, :3])


@needs(NUSC_DIR)
def test_real_sweeps_named_with_the_wrong_width_are_refused(tmp_path):
    """Real sweeps: nuScenes' 5-float records named .bin and KITTI's 4-float records named .pcd.bin
    (trimmed so the size fits both widths) are refused; with their own names they read."""
    nusc = np.fromfile(next(NUSC_DIR.glob("*.pcd.bin")), "<f4")
    kitti = np.fromfile(KITTI_BIN, "<f4")
    for values, wrong, width in ((nusc, "n.bin", 5), (kitti, "k.pcd.bin", 4)):
        values = values[:len(values) // 20 * 20]
        p = tmp_path / wrong
        values.tofile(p)
        raises_naming(p, lambda: read_points(p), f"look like {width} float32 per point")
        ok = tmp_path / ("n.pcd.bin" if width == 5 else "k.bin")
        values.tofile(ok)
        assert read_points(ok).shape == (len(values) // width, width)


@needs(KITTI_BIN)
def test_every_real_sweep_reads_under_its_own_name():
    for path in [*KITTI_BIN.parent.glob("*.bin"), *NUSC_DIR.glob("*.pcd.bin")]:
        assert len(read_points(path)) > 10000, path


@pytest.mark.parametrize("ext", ["bin", "pcd", "npy"])
def test_nonfinite_coordinates_raise_or_drop(tmp_path, ext):
    pts = scan()[:, :4].copy()
    pts[7, 1] = np.nan
    pts[9, 2] = np.inf
    pts[100, 0] = -np.inf
    pts[20, 3] = np.nan  # intensity: not a coordinate
    p = tmp_path / f"nan.{ext}"
    {"bin": write_points_bin, "pcd": write_points_pcd, "npy": np.save}[ext](p, pts)
    with pytest.raises(PointCloudError) as e:
        read_points(p)
    message = str(e.value)
    assert message.startswith(f"{p}: 3 of 6400 points have non-finite x/y/z") and "first at index 7" in message
    # what a command-line user can do, not an argument only the Python API has
    assert "remove or repair those points in the file" in message and "drop_nonfinite" not in message
    assert "\n" not in message
    got, info = read_points_info(p, drop_nonfinite=True)
    assert len(got) == len(pts) - 3 and info["n_dropped"] == 3
    np.testing.assert_array_equal(got[:, :3], np.delete(pts, [7, 9, 100], axis=0)[:, :3])


def _good_header(**over):
    h = dict(fields=["x", "y", "z", "intensity"], sizes=[4] * 4, types=["F"] * 4, counts=[1] * 4, n=3, data="binary")
    h.update(over)
    return pcd_header(**h)


@pytest.mark.parametrize("header,expect", [
    (_good_header().replace(b"FIELDS x y z intensity\n", b""), "header lacks FIELDS"),
    (_good_header().replace(b"POINTS 3\n", b""), "header lacks POINTS"),
    (_good_header().replace(b"DATA binary\n", b""), "no DATA line"),
    (_good_header(data="binary_lz4"), "unknown DATA type 'binary_lz4'"),
    (_good_header(sizes=[4, 4, 4]), "SIZE: has 3 values but FIELDS lists 4 fields"),
    (_good_header(types=["F", "F", "F"]), "TYPE: has 3 values but FIELDS lists 4 fields"),
    (_good_header(counts=[1, 1, 1, 1, 1]), "COUNT: has 5 values"),
    (_good_header().replace(b"POINTS 3", b"POINTS 4"), "POINTS 4 does not match WIDTH x HEIGHT"),
    (_good_header().replace(b"WIDTH 3", b"WIDTH three"), "WIDTH: expected integers, found 'three'"),
    (_good_header(types=["F", "F", "F", "X"]), "TYPE X with SIZE 4"),
    (_good_header(sizes=[4, 4, 3, 4]), "TYPE F with SIZE 3"),
    (_good_header(fields=["a", "y", "z", "intensity"]), "no field x"),
    (_good_header().replace(b"VERSION 0.7", b"COLOUR red"), "unknown header key 'COLOUR'"),
    (b"\x89PNG\r\n" + bytes(100), "header is not ASCII"),
])
def test_malformed_pcd_header(tmp_path, header, expect):
    p = tmp_path / "bad_header.pcd"
    p.write_bytes(header + bytes(48))
    raises_naming(p, lambda: read_points(p), expect)


def test_truncated_binary_pcd(tmp_path):
    p = tmp_path / "trunc.pcd"
    write_points_pcd(p, scan()[:, :4])
    p.write_bytes(p.read_bytes()[:-37])
    raises_naming(p, lambda: read_points(p), "truncated")


def test_truncated_ascii_pcd_and_bad_lines(tmp_path):
    p = tmp_path / "trunc_ascii.pcd"
    write_points_pcd(p, scan()[:, :4], binary=False)
    lines = p.read_bytes().splitlines(keepends=True)
    p.write_bytes(b"".join(lines[:-5]))
    raises_naming(p, lambda: read_points(p), "POINTS says 6400 points but the data holds 6395 lines")
    bad = lines[:]
    bad[20] = b"1 2 3\n"
    p.write_bytes(b"".join(bad))
    raises_naming(p, lambda: read_points(p), "line 21", "expected 4 values per point")
    bad[20] = b"1 2 abc 4\n"
    p.write_bytes(b"".join(bad))
    raises_naming(p, lambda: read_points(p), "line 21", "'abc' is not a number")


def test_truncated_and_inconsistent_compressed_pcd(tmp_path):
    p = tmp_path / "c.pcd"
    o3d.t.io.write_point_cloud(str(p), o3d_tensor_cloud(scan()[:, :4]), compressed=True)
    data = p.read_bytes()
    p.write_bytes(data[:-100])
    raises_naming(p, lambda: read_points(p), "truncated")
    start = data.index(b"DATA binary_compressed\n") + len(b"DATA binary_compressed\n")
    comp, raw = struct.unpack("<II", data[start:start + 8])
    p.write_bytes(data[:start] + struct.pack("<II", comp, raw + 4) + data[start + 8:])
    raises_naming(p, lambda: read_points(p), f"uncompressed size {raw + 4} does not match")
    p.write_bytes(data[:start] + bytes(3))
    raises_naming(p, lambda: read_points(p), "expected at least 8")


def test_corrupted_files_only_raise_pointcloud_error(tmp_path):
    """Random byte damage anywhere: either a valid read or a PointCloudError, never another exception."""
    rng = np.random.default_rng(42)
    pts = scan(rings=4, cols=50)
    srcs = {}
    for name, writer in [("b.pcd", lambda p: write_points_pcd(p, pts)),
                         ("a.pcd", lambda p: write_points_pcd(p, pts, binary=False)),
                         ("c.pcd", lambda p: o3d.t.io.write_point_cloud(str(p), o3d_tensor_cloud(pts[:, :5]),
                                                                        compressed=True)),
                         ("p.ply", lambda p: o3d.t.io.write_point_cloud(str(p), o3d_tensor_cloud(pts[:, :5]))),
                         ("n.npy", lambda p: np.save(p, pts))]:
        writer(tmp_path / name)
        srcs[name] = (tmp_path / name).read_bytes()
    for name, data in srcs.items():
        for trial in range(60):
            buf = bytearray(data)
            if trial % 3 == 0:
                buf = buf[:rng.integers(0, len(buf))]
            else:
                for _ in range(rng.integers(1, 6)):
                    k = rng.integers(0, min(len(buf), 400 if trial % 3 == 1 else len(buf)))
                    buf[k] = rng.integers(0, 256)
            p = tmp_path / f"fuzz_{name}"
            p.write_bytes(bytes(buf))
            try:
                got = read_points(p, drop_nonfinite=True)
                assert got.dtype == np.float32 and got.ndim == 2 and got.shape[1] >= 4
            except PointCloudError as e:
                assert p.name in str(e)


def test_ply_errors(tmp_path):
    p = tmp_path / "noxyz.ply"
    p.write_bytes(b"ply\nformat ascii 1.0\nelement vertex 1\nproperty float a\nproperty float y\nend_header\n1 2\n")
    raises_naming(p, lambda: read_points(p), "element vertex: has no x/z property", "found: a, y")
    p = tmp_path / "novertex.ply"
    p.write_bytes(b"ply\nformat ascii 1.0\nelement face 0\nproperty list uchar int vertex_indices\nend_header\n")
    raises_naming(p, lambda: read_points(p), "no 'vertex' element")
    p = tmp_path / "fmt.ply"
    p.write_bytes(b"ply\nformat binary_middle_endian 1.0\nend_header\n")
    raises_naming(p, lambda: read_points(p), "unknown format 'binary_middle_endian 1.0'")
    p = tmp_path / "trunc.ply"
    p.write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex 10\nproperty float x\nproperty float y\n"
                  b"property float z\nend_header\n" + bytes(100))
    raises_naming(p, lambda: read_points(p), "truncated")
    p = tmp_path / "trunc_ascii.ply"
    p.write_bytes(b"ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
                  b"property float z\nend_header\n1 2 3\n4 5 6\n")
    raises_naming(p, lambda: read_points(p), "declares 3 vertices but the data holds 2 lines")
    p = tmp_path / "notply.ply"
    p.write_bytes(b"solid cube\n")
    raises_naming(p, lambda: read_points(p), "not a PLY file")


@pytest.mark.parametrize("arr,expect", [
    (np.zeros(5), "shape (5,), expected (N, >=3)"),
    (np.zeros((5, 2)), "shape (5, 2)"),
    (np.array([["a", "b", "c"]]), "is not numeric"),
    (np.zeros((2, 3), dtype=complex), "is not numeric"),
])
def test_npy_errors(tmp_path, arr, expect):
    p = tmp_path / "bad.npy"
    np.save(p, arr)
    raises_naming(p, lambda: read_points(p), expect)


def test_npy_pickled_objects_are_refused(tmp_path):
    p = tmp_path / "obj.npy"
    np.save(p, np.array([[1, 2, 3], [4, 5, None]], dtype=object), allow_pickle=True)
    raises_naming(p, lambda: read_points(p), "pickled")
    q = tmp_path / "junk.npy"
    q.write_bytes(b"not numpy at all")
    raises_naming(q, lambda: read_points(q))


def test_writers_reject_bad_arrays(tmp_path):
    raises_naming(tmp_path / "a.pcd", lambda: write_points_pcd(tmp_path / "a.pcd", np.zeros((3, 2))), "(N, >=3)")
    raises_naming(tmp_path / "a.pcd", lambda: write_points_pcd(tmp_path / "a.pcd", np.zeros((3, 7))), "at most 6")
    raises_naming(tmp_path / "a.pcd.bin", lambda: write_points_bin(tmp_path / "a.pcd.bin", np.zeros((3, 4))),
                  "needs 5 columns")
    raises_naming(tmp_path / "no/dir/a.bin", lambda: write_points_bin(tmp_path / "no/dir/a.bin", np.zeros((3, 4))),
                  "cannot write file")


# ------------------------------------------------------------------------------------------ real data

@needs(KITTI_BIN)
def test_real_kitti_velodyne():
    pts = read_points(KITTI_BIN)
    assert pts.shape == (120268, 4)
    np.testing.assert_array_equal(pts, np.fromfile(KITTI_BIN, "<f4").reshape(-1, 4))
    assert 0 <= pts[:, 3].min() and pts[:, 3].max() <= 1


@needs(KITTI_BIN)
def test_real_kitti_through_open3d_compressed_pcd_and_ply(tmp_path):
    ref = read_points(KITTI_BIN)
    p = tmp_path / "kitti.pcd"
    assert o3d.t.io.write_point_cloud(str(p), o3d_tensor_cloud(ref), compressed=True)
    np.testing.assert_array_equal(read_points(p), ref)
    q = tmp_path / "kitti.ply"
    assert o3d.t.io.write_point_cloud(str(q), o3d_tensor_cloud(ref))
    np.testing.assert_array_equal(read_points(q), ref)


@needs(NUSC_DIR)
def test_real_nuscenes_lidar_top():
    files = sorted(NUSC_DIR.glob("*.pcd.bin"))
    assert files, f"no .pcd.bin in {NUSC_DIR}"
    pts, info = read_points_info(files[0])
    assert pts.shape == (34688, 5)
    assert info["format"] == "nuscenes-bin"
    np.testing.assert_array_equal(pts, np.fromfile(files[0], "<f4").reshape(-1, 5))
    ring = pts[:, 4]
    assert (ring == np.round(ring)).all() and ring.min() == 0 and ring.max() == 31


@needs(SUSTECH_DIR)
@pytest.mark.parametrize("frame", ["000950", "000965", "000970", "000975"])
def test_real_sustech_pcd(frame):
    p = SUSTECH_DIR / f"{frame}.pcd"
    if not p.exists():
        pytest.skip(f"{p} absent")
    pts, info = read_points_info(p)
    assert pts.shape[1] == 6 and 66_000 < len(pts) < 69_000
    np.testing.assert_array_equal(pts[:, :3], o3d_xyz(p).astype(np.float32))
    ring = pts[:, 4]
    assert (ring == np.round(ring)).all() and ring.min() >= 0 and ring.max() <= 39
    assert len(np.unique(ring)) == 40
    span = pts[:, 5].max() - pts[:, 5].min()
    assert 0.09 < span < 0.11, span
    assert 1800 < info["time_origin"] < 1830
    assert 0 <= pts[:, 3].min() and pts[:, 3].max() <= 255
    assert any("3848 trailing bytes" in s for s in info["notes"])


def test_fri_range_image_gets_the_same_checks(tmp_path):
    from fusionlabel.io.native import RangeImage, write_range_image

    p = tmp_path / "s.fri"
    p.write_bytes(b"")
    raises_naming(p, lambda: read_points(p), "empty file (0 bytes), expected a point cloud")
    rng = np.random.default_rng(0)
    elevation = np.radians(np.linspace(2, -24, 16))
    azimuth = np.linspace(np.pi, -np.pi, 64, endpoint=False)
    rng_u16 = rng.integers(1, 60000, (64, 16)).astype(np.uint16)
    image = RangeImage(elevation, azimuth, rng_u16, np.zeros((64, 16), np.uint8), 0.002)
    write_range_image(p, image)
    assert np.isfinite(read_points(p)).all() and len(read_points(p)) == 64 * 16
    image.elevation = elevation.copy()
    image.elevation[[5, 9]] = np.nan       # a damaged angle table, refused as a whole, not point by point
    write_range_image(p, image)
    for drop in (False, True):
        raises_naming(p, lambda drop=drop: read_points(p, drop_nonfinite=drop),
                      "elevation: 2 of 16 beam elevations are non-finite (NaN or inf, first at index 5)")


# ------------------------------------------------------------------------------------------ wrong dtype, shape, unit

@pytest.mark.parametrize("name, ncol, layout", [("sweep.bin", 4, "KITTI's .bin is float32 x, y, z, intensity"),
                                                ("sweep.pcd.bin", 5, "nuScenes' .pcd.bin is float32 x, y, z, "
                                                                     "intensity, ring")])
def test_float_records_written_as_float64_are_refused(tmp_path, name, ncol, layout):
    """``points.tofile()`` of a float64 array (NumPy's default) has a size that passes; read as
    float32 it is garbage reaching 1e19 m and beyond. Refused in one line, no NumPy warning."""
    import warnings

    pts = scan(rings=16, cols=400)
    p = tmp_path / name
    pts[:, :ncol].astype(np.float64).tofile(p)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e = raises_naming(p, lambda: read_points(p), "read as float32, coordinates reach", "m: the file looks like "
                          f"float64 ({layout} per point; write points.astype(np.float32))")
    assert float(str(e).split("reach ")[1].split(" m")[0]) > 1e4
    # the same points as float32 read back exactly
    pts[:, :ncol].astype(np.float32).tofile(p)
    np.testing.assert_array_equal(read_points(p)[:, :3], pts[:, :3])


@pytest.mark.parametrize("columns, expect", [
    (lambda p: p[:500, :4].T, "shape (4, 500): expected (N, >=3) points as rows; 500 columns looks transposed "
                              "(save points.T)"),
    (lambda p: p[:17, :3].T, "shape (3, 17): expected (N, >=3) points as rows; 17 columns looks transposed"),
    (lambda p: np.tile(p[:500], 7), "shape (500, 42): 42 columns, more than any sweep has (at most 16)"),
])
def test_npy_transposed_or_with_too_many_columns_is_refused(tmp_path, columns, expect):
    """A (4, N) array used to read as 4 points with N columns, all but 6 dropped in a note nobody saw."""
    p = tmp_path / "a.npy"
    np.save(p, columns(scan()))
    raises_naming(p, lambda: read_points(p), expect)


def test_npy_with_a_few_extra_columns_still_reads(tmp_path):
    p = tmp_path / "a.npy"
    pts = np.hstack([scan(), np.ones((6400, 3), np.float32)])     # 9 columns: Ouster-like extra fields
    np.save(p, pts)
    got, info = read_points_info(p)
    np.testing.assert_array_equal(got, pts[:, :6])
    assert info["notes"] == ["columns beyond the first 6 (9 in file) were dropped"]


@pytest.mark.parametrize("ext", ["bin", "pcd", "npy"])
def test_sweep_in_millimetres_is_refused(tmp_path, ext):
    pts = scan()[:, :4].copy()
    pts[:, :3] *= 1000
    p = tmp_path / f"mm.{ext}"
    {"bin": write_points_bin, "pcd": write_points_pcd, "npy": np.save}[ext](p, pts)
    median = np.median(np.linalg.norm(pts[:, :3].astype(np.float64), axis=1))
    raises_naming(p, lambda: read_points(p), f"its points lie a median {median:,.0f} m from the sensor (more than "
                  "1,000 m); coordinates are metres, were millimetres written (divide by 1000)?")
    pts[:, :3] /= 1000                                         # the same sweep in metres reads
    {"bin": write_points_bin, "pcd": write_points_pcd, "npy": np.save}[ext](p, pts)
    assert len(read_points(p)) == len(pts)
