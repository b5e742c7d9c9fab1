"""Options several commands share or spell alike: ``--detector-config``/``--config`` on ``open`` and
``prelabel``; ``prelabel PROJECT --format`` without ``--out``; help and counts in plain wording."""

from pathlib import Path

import pytest

from fusionlabel.cli.main import build_parser, main


@pytest.mark.parametrize("command", [["open"], ["prelabel", "drive"]])
@pytest.mark.parametrize("spelling", ["--detector-config", "--config"])
def test_both_spellings_of_the_detector_settings_on_both_commands(command, spelling):
    args = build_parser().parse_args([*command, spelling, "rig.yaml"])
    assert args.detector_config == Path("rig.yaml")


def test_open_takes_config_as_its_settings_file(tmp_path):
    from fusionlabel.app.assist_actions import CONFIG_SETTING
    from fusionlabel.cli.cmd_open import detector_settings

    config = tmp_path / "rig.yaml"
    config.write_text("min_points: 4\n")
    args = build_parser().parse_args(["open", "--detector", "builtin", "--config", str(config)])
    assert detector_settings(args)[CONFIG_SETTING] == str(config.absolute())


def test_prelabel_reads_detector_config_as_its_settings_file(tmp_path, small_sim_drive, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("foo: 1\n")
    assert main(["prelabel", str(small_sim_drive.root), "--detector-config", str(config),
                 "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(config) in err and "foo" in err and err.count("\n") == 1


@pytest.mark.parametrize("fmt", ["kitti", "native"])
def test_prelabel_project_with_format_but_no_out_is_refused(tmp_path, small_sim_drive, capsys, fmt):
    from fusionlabel.store.project import Project

    folder = tmp_path / "proj"
    assert main(["project", "create", str(small_sim_drive.root), "--out", str(folder), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["prelabel", str(folder), "--format", fmt, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--format: --format {fmt} needs --out DIR" in err
    with Project.open(folder, read_only=True) as project:
        assert len(project.document) == 0


def test_simulate_help_shows_no_default_for_its_required_out(capsys):
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    out = capsys.readouterr().out
    assert "None" not in out and "(default: 20)" in out


def test_one_frame_is_said_in_the_singular(tmp_path, capsys):
    from fusionlabel.sim.writer import simulate_drive

    drive = tmp_path / "one"
    simulate_drive(drive, frames=1, seed=2, points=5000, progress=False)
    assert main(["project", "create", str(drive), "--out", str(tmp_path / "proj"), "--quiet"]) == 0
    assert main(["import", str(drive), "--out", str(tmp_path / "copy"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "(1 frame)" in out and "frames)" not in out
