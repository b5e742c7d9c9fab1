"""`fusionlabel import --force` replaces an earlier import and nothing else."""

from __future__ import annotations

import pytest

from fusionlabel.cli.main import main
from fusionlabel.io.native import open_native_drive
from fusionlabel.sim.writer import simulate_drive


@pytest.fixture(scope="module")
def sims(tmp_path_factory):
    root = tmp_path_factory.mktemp("sims")
    simulate_drive(root / "four", frames=4, seed=2, points=3000, progress=False)
    simulate_drive(root / "two", frames=2, seed=3, points=3000, cameras=False, progress=False)
    return root / "four", root / "two"


def names(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_force_removes_the_earlier_import(sims, tmp_path, capsys):
    four, two = sims
    out = tmp_path / "mix"
    assert main(["import", str(four), "--out", str(out), "--quiet"]) == 0
    assert main(["import", str(two), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "not empty" in err and "earlier fusionlabel import" in err and "export" not in err
    assert main(["import", str(two), "--out", str(out), "--force", "--quiet"]) == 0
    drive = open_native_drive(out)
    expected = {"drive.yaml", "rig.yaml", "fusionlabel_import.json"}
    expected |= {f"lidar/{f.lidar_path.name}" for f in drive.frames}
    expected |= {f"labels/{f.frame_id}.json" for f in drive.frames}
    assert len(drive) == 2 and set(names(out)) == expected      # no sweep, label or image of the four frames


def test_force_refuses_foreign_files_and_deletes_nothing(sims, tmp_path, capsys):
    four, two = sims
    out = tmp_path / "mix"
    assert main(["import", str(four), "--out", str(out), "--quiet"]) == 0
    (out / "notes.txt").write_text("mine")
    before = names(out)
    assert main(["import", str(two), "--out", str(out), "--force", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "notes.txt" in err and len(err.strip().splitlines()) == 1
    assert names(out) == before
    other = tmp_path / "other"
    other.mkdir()
    (other / "data.bin").write_bytes(b"x")
    assert main(["import", str(two), "--out", str(other), "--force", "--quiet"]) == 2
    assert "data.bin" in capsys.readouterr().err and names(other) == ["data.bin"]


def test_force_replaces_an_import_written_before_the_manifest(sims, tmp_path):
    four, two = sims
    out = tmp_path / "old"
    assert main(["import", str(four), "--out", str(out), "--quiet"]) == 0
    (out / "fusionlabel_import.json").unlink()      # as older versions wrote it: drive.yaml's meta marks it
    assert main(["import", str(two), "--out", str(out), "--force", "--quiet"]) == 0
    assert len(open_native_drive(out)) == 2 and not (out / "cameras").exists()


def test_force_does_not_take_a_drive_yaml_with_a_key_twice_for_an_earlier_import(sims, tmp_path, capsys):
    """Without a manifest, drive.yaml's meta decides what an earlier import wrote; it is read with the
    same strict YAML reader as everywhere, so a damaged drive.yaml is not trusted and nothing goes."""
    four, two = sims
    out = tmp_path / "old"
    assert main(["import", str(four), "--out", str(out), "--quiet"]) == 0
    (out / "fusionlabel_import.json").unlink()
    yaml_path = out / "drive.yaml"
    yaml_path.write_text(yaml_path.read_text() + "meta: {imported_from: elsewhere}\n")
    before = names(out)
    assert main(["import", str(two), "--out", str(out), "--force", "--quiet"]) == 2
    assert "drive.yaml" in capsys.readouterr().err
    assert names(out) == before
