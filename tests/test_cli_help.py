"""Every command (and every ``project`` action) prints its help, and a command line missing a
required argument gets argparse's usage and one error line naming what is missing, exit 2, never a
traceback. The commands are taken from the parser, so a new one is covered as it is added. A
number of worker processes below one is refused alike by every command that takes one."""

from __future__ import annotations

import argparse

import pytest

from fusionlabel.cli.main import build_parser, main


def commands(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()):
    """(words, parser) of every command and sub-command under ``parser``."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*words, name), sub
                yield from commands(sub, (*words, name))


COMMANDS = list(commands(build_parser()))


def required(parser: argparse.ArgumentParser) -> list[str]:
    return [a.dest for a in parser._actions if a.required or (not a.option_strings and a.nargs is None)]


def test_the_parser_has_the_commands_the_readme_lists():
    names = {" ".join(words) for words, _ in COMMANDS}
    assert {"open", "render", "check", "simulate", "import", "export", "prelabel", "eval", "project",
            "project create", "project status"} <= names


@pytest.mark.parametrize("words", [words for words, _ in COMMANDS], ids=" ".join)
def test_help_of_every_command(words, capsys):
    with pytest.raises(SystemExit) as ended:
        main([*words, "--help"])
    assert ended.value.code == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"usage: fusionlabel {' '.join(words)} ") and err == ""


@pytest.mark.parametrize("words", [words for words, parser in COMMANDS if required(parser)], ids=" ".join)
def test_a_missing_required_argument_is_a_usage_error(words, capsys):
    with pytest.raises(SystemExit) as ended:
        main(list(words))
    assert ended.value.code == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and lines[0].startswith(f"usage: fusionlabel {' '.join(words)} ")
    assert lines[-1].startswith(f"fusionlabel {' '.join(words)}: error: the following arguments are required: ")
    assert "Traceback" not in err and sum("error:" in line for line in lines) == 1


@pytest.mark.parametrize("workers", ["0", "-1"])
def test_simulate_refuses_fewer_than_one_worker_as_check_does(workers, tmp_path, capsys):
    out = tmp_path / "sim"
    assert main(["simulate", "--out", str(out), "--frames", "4", "--points", "2000", "--no-cameras",
                 "--workers", workers, "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"fusionlabel: error: --workers: expected 1 or more processes, got {workers}"]
    assert not out.exists()
    assert main(["check", str(tmp_path), "--decode-all", "--workers", workers]) == 2
    assert capsys.readouterr().err.strip() == err[0]
