"""`fusionlabel` entry point: dispatches to the ``cmd_*`` modules and turns errors into one line."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

from ..errors import FusionLabelError

# Commands in the order --help lists them; any other cmd_*.py module is appended after these.
# Each module defines register(subparsers) (which sets func=run) and run(args) -> int.
PREFERRED_ORDER = ["open", "render", "simulate", "import", "export", "prelabel", "eval"]


def command_modules() -> list[str]:
    """Names of the ``cmd_*`` modules beside this file, preferred ones first."""
    found = sorted(m.name[4:] for m in pkgutil.iter_modules([str(Path(__file__).parent)])
                   if m.name.startswith("cmd_"))
    return [c for c in PREFERRED_ORDER if c in found] + [c for c in found if c not in PREFERRED_ORDER]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fusionlabel", description="LiDAR + camera 3D annotation toolkit")
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"fusionlabel {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_modules():
        importlib.import_module(f".cmd_{name}", __package__).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        args = parser.parse_args(["open"])  # no command: the app on sample_data/
    try:
        return int(args.func(args) or 0)
    except FusionLabelError as e:
        print(f"fusionlabel: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fusionlabel: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
