"""KITTI object labels hold ``truncated`` as a fraction in [0, 1], KITTI tracking labels as a level
(0: under half of the projection outside the image, 1: half or more, 2: none of it in the image; the
rule KITTI's own tracking labels follow, see docs/import_export.md). A kept (untouched imported)
label is written on the scale of the export's format, whether it comes from the KITTI folder
itself, a native copy of it (``fusionlabel import``) or a project; a kept level becomes the fraction
its box projects to, moved into the level's range when it contradicts the level, so the level
comes back. Other formats are unchanged by the scale the KITTI readers record.

Synthetic folders: one camera (f = 700 px, 1242 x 375) looking along the Velodyne's +x, cars
(3.9 m along camera x, 1.6 m deep, 1.5 m high, ``ry`` 0) whose near face is 19.2 m away and far
face 20.8 m. A car at camera x = X reaches u = 621 + 700 (X + 1.95) / 19.2 on the right (near
face) and starts at u = 621 + 700 (X - 1.95) / 20.8 (far face); the image's last pixel column is
1241, so the share cut off is (u_right - 1241) / (u_right - u_left), worked out by hand below.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import quiet

from fusionlabel.cli.main import main
from fusionlabel.errors import LabelError
from fusionlabel.export import export_drive
from fusionlabel.io.kitti import open_kitti_object, read_kitti_label_file
from fusionlabel.io.kitti_tracking import open_kitti_tracking
from fusionlabel.io.native import open_native_drive, read_labels
from fusionlabel.io.kitti_truncation import TRUNCATION_SCALE, fraction_in_level, truncation_level, truncation_written
from fusionlabel.store.project import Project

W, H = 1242, 375
P2 = np.array([[700.0, 0.0, 621.0, 0.0], [0.0, 700.0, 187.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
Tr_velo_cam = np.array([[0.0, -1.0, 0.0, 0.0], [0.0, 0.0, -1.0, 0.0], [1.0, 0.0, 0.0, 0.0]])   # x fwd -> z fwd


def calib_text(raw_keys: bool) -> str:
    """A calibration file: the tracking release's key names (``R_rect``, no colon) or KITTI object's."""
    def row(v):
        return " ".join(f"{x:.12e}" for x in np.ravel(v))
    keys = ("R_rect", "Tr_velo_cam", "Tr_imu_velo") if raw_keys else ("R0_rect:", "Tr_velo_to_cam:", "Tr_imu_to_velo:")
    lines = [f"P{k}: {row(P2)}" for k in range(4)]
    lines += [f"{keys[0]} {row(np.eye(3))}", f"{keys[1]} {row(Tr_velo_cam)}", f"{keys[2]} {row(np.eye(4)[:3])}"]
    return "\n".join(lines) + "\n"


def projected_fraction(h, w, l, x, y, z, ry) -> float:
    """The share of a KITTI box's projected extent (P2, the 8 corners) outside the image's pixel
    centres [0, W-1] x [0, H-1] (KITTI's convention)."""
    c, s = np.cos(ry), np.sin(ry)
    corners = np.array([[a * l / 2, -b * h, d * w / 2] for a in (-1, 1) for b in (0, 1) for d in (-1, 1)])
    corners = corners @ np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]]).T + (x, y, z)
    uvw = P2 @ np.c_[corners, np.ones(8)].T
    u, v = uvw[:2] / uvw[2]
    full = (u.max() - u.min()) * (v.max() - v.min())
    inside = (min(u.max(), W - 1) - max(u.min(), 0.0)) * (min(v.max(), H - 1) - max(v.min(), 0.0))
    return 1.0 - max(inside, 0.0) / full


def car(x: float, y: float = 1.6) -> tuple[float, ...]:
    """h w l x y z ry of a car at camera x, bottom at camera y (see the module docstring; the whole
    height is in the image for y from 0.5 to 2.5)."""
    return (1.5, 1.6, 3.9, x, y, 20.0, 0.0)


# Cut off by the right image edge, by hand: X = 16: u 1093.84-1275.43, 34.43 / 181.59 = 0.190;
# X = 17.6: 1147.68-1333.76, 92.76 / 186.08 = 0.499; X = 17.7: 1151.05-1337.41, 96.41 / 186.36 = 0.517;
# X = 18: 1161.14-1348.34, 107.34 / 187.20 = 0.573; X = 40 starts at u = 1901: not in the image.
CUT = {0.0: 0.0, 16.0: 0.190, 17.6: 0.499, 17.7: 0.517, 18.0: 0.573}
# (KITTI tracking level, car x and y, the fraction KITTI object export writes): a level that agrees
# with the cut keeps the cut; one that contradicts it is moved into its range (0: up to 0.49, 1: 0.50
# to 0.99, 2: 1.00) so it reads back as itself.
BOXES = [(0, (0.0, 1.6), "0.00"), (0, (16.0, 1.6), "0.19"), (1, (16.0, 1.0), "0.50"), (0, (18.0, 1.6), "0.49"),
         (1, (18.0, 1.0), "0.57"), (2, (0.0, 1.0), "1.00")]
N_FRAMES = 3


def box_text(where: tuple[float, float]) -> str:
    return " ".join(f"{v:.6f}" for v in car(*where))


def write_sensors(velodyne: Path, images: Path, names: list[str]) -> None:
    velodyne.mkdir(parents=True)
    images.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in names:
        rng.uniform(-20, 20, (300, 4)).astype(np.float32).tofile(velodyne / f"{name}.bin")
        cv2.imwrite(str(images / f"{name}.png"), np.zeros((H, W, 3), np.uint8))


def tracking_folder(root: Path) -> list[str]:
    """Sequence 0000 with the :data:`BOXES` in every frame (track IDs 0-5), their levels as
    truncation; returns the label lines."""
    write_sensors(root / "velodyne" / "0000", root / "image_02" / "0000", [f"{f:06d}" for f in range(N_FRAMES)])
    (root / "calib").mkdir()
    (root / "calib" / "0000.txt").write_text(calib_text(raw_keys=True))
    lines = [f"{f} {t} Car {level} 0 -1.570796 500.000000 150.000000 600.000000 250.000000 {box_text(g)}"
             for f in range(N_FRAMES) for t, (level, g, _) in enumerate(BOXES)]
    (root / "label_02").mkdir()
    (root / "label_02" / "0000.txt").write_text("".join(line + "\n" for line in lines))
    return lines


# Truncation fractions of a KITTI object folder's labels, and the level KITTI tracking's rule gives each.
FRACTIONS = [("0.00", 0), ("0.05", 0), ("0.43", 0), ("0.49", 0), ("0.50", 1), ("0.87", 1), ("0.99", 1), ("1.00", 2)]


def object_folder(root: Path) -> None:
    """Frames 000000-000002, each with a car of every fraction in :data:`FRACTIONS` (at 20 m, in view)."""
    names = [f"{f:06d}" for f in range(N_FRAMES)]
    write_sensors(root / "velodyne", root / "image_2", names)
    (root / "calib").mkdir()
    (root / "label_2").mkdir()
    for name in names:
        (root / "calib" / f"{name}.txt").write_text(calib_text(raw_keys=False))
        (root / "label_2" / f"{name}.txt").write_text("".join(
            f"Car {fraction} 0 -1.57 500.00 150.00 600.00 250.00 1.50 1.60 3.90 {1.5 * k - 5.0:.2f} 1.60 20.00 0.00\n"
            for k, (fraction, _) in enumerate(FRACTIONS)))


def import_native(source: Path, out: Path, *options: str):
    assert main(["import", str(source), "--out", str(out), "--quiet", *options]) == 0
    return open_native_drive(out)


def project_export(drive_folder: Path, fmt: str, out: Path, *options: str) -> None:
    """A project over ``drive_folder`` with its labels imported (the store), exported with the CLI."""
    Project.create(out.parent / f"project-{out.name}", drive_folder, import_labels=True).close()
    assert main(["export", str(out.parent / f"project-{out.name}"), "--format", fmt, "--out", str(out),
                 "--labels-only", "--quiet", *options]) == 0


def tracking_columns(path: Path) -> list[tuple[int, int, str]]:
    """(frame, track ID, truncation as written) of each line of a KITTI tracking label file."""
    return [(int(f[0]), int(f[1]), f[3]) for f in (line.split() for line in path.read_text().splitlines())]


# ------------------------------------------------------------------------------ object -> tracking
def test_kitti_object_fractions_become_tracking_levels(tmp_path):
    """From the folder, its native copy and a project: 0.05, 0.43 and 0.49 are level 0, 0.50 to 0.99
    level 1, only 1.00 is 2 (KITTI tracking's rule, measured on its own labels), and the
    2D box is kept."""
    object_folder(tmp_path / "obj")
    native = import_native(tmp_path / "obj", tmp_path / "native")
    export_drive(open_kitti_object(tmp_path / "obj"), "kitti-tracking", tmp_path / "direct",
                 options=quiet(sensor_data=False))
    export_drive(native, "kitti-tracking", tmp_path / "from_native", options=quiet(sensor_data=False))
    project_export(tmp_path / "native", "kitti-tracking", tmp_path / "from_project")
    want = [level for _, level in FRACTIONS] * N_FRAMES
    for out in ("direct", "from_native", "from_project"):
        lines = read_kitti_label_file(tmp_path / out / "label_02" / "0000.txt", tracking=True)
        assert [int(d.truncated) for d in lines] == want, out
        assert {d.bbox for d in lines} == {(500.0, 150.0, 600.0, 250.0)}


# ------------------------------------------------------------------------------ tracking -> object
def test_hand_worked_cuts_match_the_projection():
    """The cuts worked out by hand in the module docstring are what P2 gives (a check of the setup)."""
    for x, fraction in CUT.items():
        assert projected_fraction(*car(x)) == pytest.approx(fraction, abs=0.001), x
        assert projected_fraction(*car(x, 1.0)) == pytest.approx(fraction, abs=0.001), x


def test_level_rule_and_its_ranges():
    """Level 0 below half, 1 from half while any of the box is in view, 2 with none; a fraction that
    contradicts a level goes to the nearest one that reads back as it, a level KITTI has not as it is."""
    assert [truncation_level(f) for f in (0.0, 0.05, 0.499, 0.5, 0.87, 0.999, 1.0)] == [0, 0, 0, 1, 1, 1, 2]
    assert [fraction_in_level(0.73, level) for level in (0, 1, 2)] == [0.49, 0.73, 1.0]
    assert [fraction_in_level(0.12, level) for level in (0, 1, 2, -1)] == [0.12, 0.5, 1.0, 0.12]
    assert fraction_in_level(0.996, 1.0) == 0.99 and fraction_in_level(0.3, float("nan")) == 0.3


def test_written_truncation_converts_only_across_scales():
    """What every KITTI writer writes for a kept value: a fraction to tracking its level, a level to
    object the projected fraction within the level's range (its smallest without one)."""
    assert [truncation_written(f, "fraction", "level") for f in (0.2, 0.5, 1.0)] == [0, 1, 2]
    assert [truncation_written(level, "level", "fraction", 0.73) for level in (0, 1, 2)] == [0.49, 0.73, 1.0]
    assert [truncation_written(level, "level", "fraction") for level in (0, 1, 2)] == [0.0, 0.5, 1.0]
    assert truncation_written(0.3, "fraction", "fraction", 0.9) == 0.3 == truncation_written(0.3, None, "level")
    assert truncation_written(1.0, "level", "level", 0.1) == 1.0


def label_column(folder: Path, frames: int) -> list[list[str]]:
    """The truncation column, as written, of KITTI object label files 000000 .. frames-1."""
    return [[line.split()[1] for line in (folder / "label_2" / f"{f:06d}.txt").read_text().splitlines()]
            for f in range(frames)]


def test_tracking_levels_become_fractions_from_the_native_copy(tmp_path):
    """A kept level exported to KITTI object from the tracking folder, its native copy and a project
    on it is the fraction the box projects to, or, where that contradicts the level, the nearest
    fraction of the level's range; not the level as 1.00 or 2.00."""
    tracking_folder(tmp_path / "trk")
    import_native(tmp_path / "trk", tmp_path / "native")
    export_drive(open_kitti_tracking(tmp_path / "trk"), "kitti", tmp_path / "direct", options=quiet(sensor_data=False))
    export_drive(open_native_drive(tmp_path / "native"), "kitti", tmp_path / "from_native",
                 options=quiet(sensor_data=False))
    project_export(tmp_path / "native", "kitti", tmp_path / "from_project")
    for out in ("direct", "from_native", "from_project"):
        assert label_column(tmp_path / out, N_FRAMES) == [[written for *_, written in BOXES]] * N_FRAMES, out


def test_tracking_levels_survive_kitti_object_and_back(tmp_path):
    """Tracking folder -> KITTI object -> KITTI tracking: every level comes back, also where the box's
    cut contradicts it (level 1 on a car 19 % cut off, 0 on one 57 % cut off, 2 on one in full view)."""
    tracking_folder(tmp_path / "trk")
    export_drive(open_kitti_tracking(tmp_path / "trk"), "kitti", tmp_path / "obj", options=quiet())
    export_drive(open_kitti_object(tmp_path / "obj"), "kitti-tracking", tmp_path / "back", options=quiet(sensor_data=False))
    levels = [int(d.truncated) for d in read_kitti_label_file(tmp_path / "back" / "label_02" / "0000.txt", tracking=True)]
    assert levels == [level for level, *_ in BOXES] * N_FRAMES


def test_recomputed_levels_follow_the_cut(tmp_path):
    """Boxes whose 2D box is recomputed (``--recompute-2d``) get the level of their cut: under half
    is 0 (19 %, 49.9 %), half or more 1 (51.7 %, 57 %), out of the image 2."""
    write_sensors(tmp_path / "trk" / "velodyne" / "0000", tmp_path / "trk" / "image_02" / "0000", ["000000"])
    (tmp_path / "trk" / "calib").mkdir()
    (tmp_path / "trk" / "calib" / "0000.txt").write_text(calib_text(raw_keys=True))
    (tmp_path / "trk" / "label_02").mkdir()
    xs = [0.0, 16.0, 17.6, 17.7, 18.0, 40.0]
    (tmp_path / "trk" / "label_02" / "0000.txt").write_text("".join(
        f"0 {t} Car 0 0 -1.570796 500.000000 150.000000 600.000000 250.000000 {box_text((x, 1.6))}\n"
        for t, x in enumerate(xs)))
    export_drive(open_kitti_tracking(tmp_path / "trk"), "kitti-tracking", tmp_path / "out",
                 options=quiet(sensor_data=False, keep_imported_2d=False))
    levels = [int(d.truncated) for d in read_kitti_label_file(tmp_path / "out" / "label_02" / "0000.txt", tracking=True)]
    assert levels == [0, 0, 0, 1, 1, 2]


def test_tracking_levels_round_trip_through_the_native_copy(tmp_path):
    """Tracking folder -> native drive (-> project) -> KITTI tracking: the truncation column as it was."""
    source = tracking_folder(tmp_path / "trk")
    import_native(tmp_path / "trk", tmp_path / "native")
    export_drive(open_native_drive(tmp_path / "native"), "kitti-tracking", tmp_path / "from_native",
                 options=quiet(sensor_data=False))
    project_export(tmp_path / "native", "kitti-tracking", tmp_path / "from_project")
    (tmp_path / "source.txt").write_text("".join(line + "\n" for line in source))
    for out in ("from_native", "from_project"):
        assert tracking_columns(tmp_path / out / "label_02" / "0000.txt") == tracking_columns(tmp_path / "source.txt")
        assert (tmp_path / out / "label_02" / "0000.txt").read_text() == (tmp_path / "source.txt").read_text()


def test_prediction_lines_write_a_kept_level_as_the_exporter_does(tmp_path):
    """``kitti_lines`` (prediction files, ``prelabel --out`` on a KITTI drive) writes KITTI object
    lines: a kept tracking level becomes the fraction the box projects to, moved into the level's
    range, as the KITTI exporter writes it; with no image to project on, the level's smallest
    fraction (which reads back as the level). A kept fraction stays as it is."""
    from fusionlabel.assist.predictions import kitti_lines

    tracking_folder(tmp_path / "trk")
    labels = open_kitti_tracking(tmp_path / "trk").labels(0)
    T_rect_velo = np.r_[Tr_velo_cam, [[0.0, 0.0, 0.0, 1.0]]]
    written = [line.split()[1] for line in kitti_lines(labels, T_rect_velo, (P2 @ T_rect_velo, (W, H))).splitlines()]
    assert written == [want for *_, want in BOXES]
    unprojected = [line.split()[1] for line in kitti_lines(labels, T_rect_velo).splitlines()]
    assert unprojected == ["0.00", "0.00", "0.50", "0.00", "0.50", "1.00"]
    assert [truncation_level(float(f)) for f in unprojected] == [level for level, *_ in BOXES]
    object_folder(tmp_path / "obj")
    kept = [line.split()[1] for line in kitti_lines(open_kitti_object(tmp_path / "obj").labels(0),
                                                    T_rect_velo, (P2 @ T_rect_velo, (W, H))).splitlines()]
    assert kept == [fraction for fraction, _ in FRACTIONS]


# ------------------------------------------------------------------------------ other formats, native files
def without_scale(drive):
    """``drive.labels`` with the KITTI readers' truncation scale taken out of the attributes."""
    return lambda i: [lab.with_(attributes={k: v for k, v in lab.attributes.items() if k != TRUNCATION_SCALE})
                      for lab in drive.labels(i)]


def written_files(folder: Path) -> dict[str, bytes]:
    """Every file an export wrote but its summary (which names the output folder)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "fusionlabel_export.json"}


@pytest.mark.parametrize("fmt", ["openlabel", "nuscenes", "coco"])
def test_other_formats_do_not_carry_the_scale(tmp_path, fmt):
    """OpenLABEL, nuScenes and COCO exports of a KITTI tracking folder, a KITTI object folder and a
    native copy are byte for byte what they are without the scale in the labels."""
    tracking_folder(tmp_path / "trk")
    object_folder(tmp_path / "obj")
    drives = {"trk": open_kitti_tracking(tmp_path / "trk"), "obj": open_kitti_object(tmp_path / "obj"),
              "native": import_native(tmp_path / "trk", tmp_path / "native")}
    for name, drive in drives.items():
        assert all(TRUNCATION_SCALE in lab.attributes for lab in drive.labels(0))
        export_drive(drive, fmt, tmp_path / f"{name}-as-read", options=quiet(sensor_data=False))
        export_drive(drive, fmt, tmp_path / f"{name}-without", without_scale(drive), quiet(sensor_data=False))
        ours, theirs = written_files(tmp_path / f"{name}-as-read"), written_files(tmp_path / f"{name}-without")
        assert ours == theirs and ours, name
        assert not any(TRUNCATION_SCALE.encode() in data for data in ours.values())


def test_native_copy_records_the_scale_and_old_copies_export_as_before(tmp_path):
    """The native labels hold the scale ("level" from a tracking folder); a copy written before it
    existed exports to KITTI object with the stored value, as it always did."""
    tracking_folder(tmp_path / "trk")
    import_native(tmp_path / "trk", tmp_path / "native")
    for path in sorted((tmp_path / "native" / "labels").glob("*.json")):
        doc = json.loads(path.read_text())
        assert [o["attributes"][TRUNCATION_SCALE] for o in doc["objects"]] == ["level"] * len(BOXES)
        for o in doc["objects"]:
            del o["attributes"][TRUNCATION_SCALE]
        path.write_text(json.dumps(doc))
    export_drive(open_native_drive(tmp_path / "native"), "kitti", tmp_path / "out", options=quiet(sensor_data=False))
    written = [d.truncated for d in read_kitti_label_file(tmp_path / "out" / "label_2" / "000000.txt")]
    assert written == [float(level) for level, *_ in BOXES]


def test_bad_scale_in_native_labels_names_file_and_field(tmp_path):
    tracking_folder(tmp_path / "trk")
    import_native(tmp_path / "trk", tmp_path / "native")
    path = tmp_path / "native" / "labels" / "000001.json"
    doc = json.loads(path.read_text())
    doc["objects"][2]["attributes"][TRUNCATION_SCALE] = "percent"
    path.write_text(json.dumps(doc))
    with pytest.raises(LabelError) as err:
        read_labels(path)
    assert err.value.path == path and err.value.where == "objects[2].attributes.kitti_truncation"
    assert "expected 'fraction' (KITTI object) or 'level' (KITTI tracking), got 'percent'" in str(err.value)
    run = subprocess.run([sys.executable, "-m", "fusionlabel", "export", str(tmp_path / "native"), "--format", "kitti",
                          "--out", str(tmp_path / "out"), "--labels-only", "--quiet"], capture_output=True, text=True)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert str(path) in run.stderr and "objects[2].attributes.kitti_truncation" in run.stderr


def test_labels_without_the_scale_take_their_kitti_folders(tmp_path):
    """Labels of a project made before the scale existed, on a KITTI folder: the folder says the
    scale (an object folder's fractions become levels, a tracking sequence's levels fractions)."""
    object_folder(tmp_path / "obj")
    tracking_folder(tmp_path / "trk")
    obj, trk = open_kitti_object(tmp_path / "obj"), open_kitti_tracking(tmp_path / "trk")
    export_drive(obj, "kitti-tracking", tmp_path / "levels", without_scale(obj), quiet(sensor_data=False))
    lines = read_kitti_label_file(tmp_path / "levels" / "label_02" / "0000.txt", tracking=True)
    assert [int(d.truncated) for d in lines] == [level for _, level in FRACTIONS] * N_FRAMES
    export_drive(trk, "kitti", tmp_path / "fractions", without_scale(trk), quiet(sensor_data=False))
    assert label_column(tmp_path / "fractions", 1) == [[written for *_, written in BOXES]]
