"""`prelabel --out` writes only into a folder of its own: it refuses one holding another tool's
output (an export, a drive, a project), and `eval --pred` refuses an export folder with per-frame
label files beside the export's own labels instead of scoring those labels."""

import shutil
from pathlib import Path

import pytest

from fusionlabel.cli.main import main


@pytest.fixture(scope="module")
def drives(tmp_path_factory):
    """Two small simulated drives without cameras: the one to pre-label, and another."""
    from fusionlabel.sim.writer import simulate_drive

    root = tmp_path_factory.mktemp("owner")
    simulate_drive(root / "drive", frames=4, seed=2, points=20_000, cameras=False, progress=False)
    simulate_drive(root / "other", frames=2, seed=3, points=3_000, cameras=False, progress=False)
    return root / "drive", root / "other"


def files_of(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def make_output(kind: str, drive: Path, other: Path, out: Path) -> str:
    """Make ``out`` hold ``kind`` of output; gives the name the refusal must mention."""
    if kind.startswith("export-"):
        fmt = kind.removeprefix("export-")
        assert main(["export", str(drive), "--format", fmt, "--out", str(out), "--quiet"]) == 0
        return f"fusionlabel {fmt} export (fusionlabel_export.json)"
    if kind == "import":
        assert main(["import", str(other), "--out", str(out), "--quiet"]) == 0
        return "fusionlabel_import.json"
    if kind == "simulated drive":
        shutil.copytree(other, out)
        return "fusionlabel_simulate.json"
    if kind == "drive":     # a native drive with no fusionlabel manifest
        shutil.copytree(other, out)
        (out / "fusionlabel_simulate.json").unlink()
        return "a native drive"
    assert main(["project", "create", str(drive), "--out", str(out)]) == 0
    return "fusionlabel project (project.sqlite)"


@pytest.mark.parametrize("fmt", ["native", "kitti"])
@pytest.mark.parametrize("kind", ["export-kitti", "export-openlabel", "import", "simulated drive", "drive",
                                  "project"])
def test_prelabel_refuses_an_out_holding_another_tools_output(kind, fmt, drives, tmp_path, capsys):
    drive, other = drives
    out = tmp_path / "out"
    name = make_output(kind, drive, other, out)
    before = files_of(out)
    capsys.readouterr()
    assert main(["prelabel", str(drive), "--out", str(out), "--format", fmt, "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"fusionlabel: error: {out}: --out: holds ")
    assert name in err[0] and "choose another folder" in err[0]
    assert files_of(out) == before       # nothing written, not even a record folder


def test_prelabel_still_writes_into_its_own_folder_and_beside_other_files(drives, tmp_path, capsys):
    drive, _ = drives
    out = tmp_path / "out"
    out.mkdir()
    (out / "README.md").write_text("predictions of the nightly run\n")
    for _ in range(2):
        assert main(["prelabel", str(drive), "--out", str(out), "--min-score", "0.3", "--quiet"]) == 0
    assert sorted(p.name for p in out.glob("*.json")) == [f"{i:06d}.json" for i in range(4)]


def test_eval_refuses_an_export_with_label_files_beside_it(drives, tmp_path, capsys):
    """The folder a `prelabel --out` into a KITTI export made before it was refused: the export's
    label_2/ (here the drive's ground truth) and the run's `<id>.json` predictions side by side.
    Reading label_2/ scored the ground truth against itself (1.00 everywhere, exit 0)."""
    drive, _ = drives
    pred, mixed = tmp_path / "pred", tmp_path / "mixed"
    assert main(["prelabel", str(drive), "--out", str(pred), "--min-score", "0.3", "--quiet"]) == 0
    assert main(["export", str(drive), "--format", "kitti", "--out", str(mixed), "--quiet"]) == 0
    assert main(["eval", "--pred", str(mixed), "--gt", str(drive), "--json"]) == 0     # the export alone is read
    for p in pred.glob("*.json"):
        shutil.copy(p, mixed / p.name)
    capsys.readouterr()
    assert main(["eval", "--pred", str(mixed), "--gt", str(drive)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert captured.out == "" and len(err) == 1
    assert err[0].startswith(f"fusionlabel: error: {mixed}: --pred: holds a fusionlabel kitti export "
                             "(fusionlabel_export.json) and, beside it, 4 per-frame label files (000000.json, ...)")
